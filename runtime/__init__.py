"""wan2.2-turbo's engine: load a model bundle and run it on onnxruntime, no server needed.

    from runtime import load_model
    model = load_model("path/to/bundle")
    print(model.caption("photo.jpg").text)
"""

__version__ = "0.1.0"

__all__ = ["GenerationParams", "Model", "WanError", "__version__", "load_model"]


def __getattr__(name):
    # Resolved lazily: `launcher` (manifest, hardware, selection) imports runtime.errors,
    # and runtime.api imports launcher; importing both eagerly here would be circular.
    if name == "load_model":
        from .api import load_model

        return load_model
    if name == "Model":
        from .model import Model

        return Model
    if name == "GenerationParams":
        from .params import GenerationParams

        return GenerationParams
    if name == "WanError":
        from .errors import WanError

        return WanError
    raise AttributeError(f"module 'runtime' has no attribute '{name}'")
