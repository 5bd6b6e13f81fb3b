"""wan2.2-turbo's engine: load a model bundle and run it on onnxruntime, no server needed.

    from runtime import load_model
    model = load_model("path/to/bundle")
    print(model.caption("photo.jpg").text)

`plan_load` shows what `load_model` would load, where and why, without loading it.
"""

__version__ = "0.1.0"

__all__ = ["GenerationParams", "LoadPlan", "Model", "WanError", "__version__", "load_model", "plan_load"]

_EXPORTS = {
    "load_model": "loading",
    "plan_load": "loading",
    "LoadPlan": "loading",
    "Model": "model",
    "GenerationParams": "params",
    "WanError": "errors",
}


def __getattr__(name):
    # Resolved on first use, so that `import runtime` (for `__version__`, or the CLI's
    # --help) does not pay for importing onnxruntime and numpy.
    if name not in _EXPORTS:
        raise AttributeError(f"module 'runtime' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
