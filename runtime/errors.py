"""The engine's error types.

One root (`WanError`) and a few precise subclasses. The server maps these types to HTTP
statuses in one table and the CLI maps them to exit codes; nothing maps by message text.
Messages say what was wrong and how to fix it.
"""

from __future__ import annotations


class WanError(Exception):
    """Root of every error the engine raises on purpose."""

    #: Stable machine-readable code, used in API error bodies and logs.
    code = "internal_error"


class InvalidRequestError(WanError):
    """The caller asked for something malformed or impossible with this model."""

    code = "invalid_request"

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class TaskNotSupportedError(InvalidRequestError):
    """The loaded bundle does not serve the requested task."""

    code = "task_not_supported"

    def __init__(self, task: str, supported: tuple[str, ...] | list[str], hint: str = ""):
        names = ", ".join(sorted(supported)) or "none"
        super().__init__(
            f"This model cannot do '{task}'. Tasks it can do: {names}.{' ' + hint if hint else ''}", param="task"
        )
        self.task = task
        self.supported = tuple(sorted(supported))


class ContextLengthExceededError(InvalidRequestError):
    """Prompt + image tokens + requested new tokens exceed the sequence limit."""

    code = "context_length_exceeded"

    def __init__(self, requested_tokens: int, limit: int, detail: str = "",
                 advice: str = "Shorten the prompt or lower max_new_tokens.", param: str = "max_tokens"):
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"This request needs {requested_tokens} tokens{extra}, but the limit is {limit}. {advice}",
            param=param,
        )
        self.requested_tokens = requested_tokens
        self.limit = limit
        #: Set by `over_budget`: the parts a host re-words in the client's field names.
        self.prompt_tokens: int | None = None
        self.new_tokens: int | None = None
        self.input_text = ""

    @classmethod
    def over_budget(cls, prompt_tokens: int, new_tokens: int, limit: int, input_text: str,
                    budget_field: str = "max_new_tokens") -> "ContextLengthExceededError":
        """`input_text` (what the prompt tokens hold, e.g. "the prompt") plus a budget of
        `new_tokens` does not fit `limit`. The engine names the budget `max_new_tokens`;
        a host whose clients call it otherwise re-words the error with `naming`."""
        room = limit - prompt_tokens
        if room > 0:
            advice = (f"Lower {budget_field} to at most {room} (the limit less the {prompt_tokens} tokens "
                      f"of {input_text}).")
        else:
            advice = (f"Shorten {input_text}: {prompt_tokens} tokens alone reach the limit (the server's "
                      "--max-seq-len, or the model's own limit without it).")
        # no budget fits: the text is what to change, which a host names as its clients send it
        error = cls(prompt_tokens + new_tokens, limit,
                    f"{prompt_tokens} tokens of {input_text} + {budget_field} {new_tokens}",
                    advice=advice, param=budget_field if room > 0 else "prompt")
        error.prompt_tokens, error.new_tokens, error.input_text = prompt_tokens, new_tokens, input_text
        return error

    def naming(self, budget_field: str) -> "ContextLengthExceededError":
        """This error in the words of a client that sent the token budget as `budget_field`
        (`max_tokens` on OpenAI's routes); an error that is not about the budget as it is."""
        if self.prompt_tokens is None or self.new_tokens is None:
            return self
        return self.over_budget(self.prompt_tokens, self.new_tokens, self.limit, self.input_text, budget_field)


class UnsupportedImageError(InvalidRequestError):
    """The image bytes cannot be decoded as a supported image."""

    code = "unsupported_image"

    def __init__(self, message: str):
        super().__init__(message, param="image")


class ImageTooLargeError(InvalidRequestError):
    """The image (bytes or decoded pixels) is over the configured limit."""

    code = "image_too_large"

    def __init__(self, message: str):
        super().__init__(message, param="image")


class UnknownModelError(WanError):
    """A request named a model that is not loaded."""

    code = "model_not_found"


class OverloadedError(WanError):
    """The request queue is full; retry later."""

    code = "overloaded"

    def __init__(self, message: str, retry_after_s: float = 1.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class InferenceError(WanError):
    """onnxruntime failed while running a component."""

    code = "inference_failed"

    def __init__(self, component: str, message: str):
        super().__init__(f"Component '{component}' failed: {message}")
        self.component = component


class BundleError(WanError):
    """A bundle is malformed: bad manifest, missing file, unknown kind."""

    code = "bundle_invalid"


class IntegrityError(BundleError):
    """A bundle file does not match the hash its manifest records."""

    code = "integrity_failed"

    def __init__(self, path: str, expected: str, actual: str):
        super().__init__(
            f"Integrity check failed for {path}: expected sha256 {expected}, got {actual}. "
            "The file was modified or corrupted; reinstall the bundle or re-run "
            "'wan2.2-turbo import' (with --int8 where the bundle had int8 variants it measured) if you "
            "changed it on purpose."
        )
        self.path = path
        self.expected = expected
        self.actual = actual


class ProviderUnavailableError(WanError):
    """The requested device/execution provider or precision cannot be used here."""

    code = "provider_unavailable"
