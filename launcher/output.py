"""Turn task results into plain records for the CLI (text and JSON output)."""

from __future__ import annotations

from pathlib import Path

from runtime.errors import ImageTooLargeError, InvalidRequestError, UnsupportedImageError

# Errors that concern one image only: reported for that image, the others still run.
_PER_IMAGE_ERRORS = (UnsupportedImageError, ImageTooLargeError)


def run_task(model, task: str, images: list[Path], prompt: str, params: dict):
    """Yield one record per image: {"image", "text", ...}, or {"image", "error"} for a bad image.

    For `rank` all images are scored in one call; records come best first with their rank.
    """
    params = {k: v for k, v in params.items() if v is not None}
    if prompt and task not in ("ask", "rank"):
        raise InvalidRequestError(f"--prompt is for --task ask and rank; --task {task} takes the images alone.",
                                  param="prompt")
    if task == "ask" and not (prompt or "").strip():
        raise InvalidRequestError("--task ask needs --prompt with the question.", param="prompt")
    if task == "rank":
        if not prompt:
            raise InvalidRequestError("--task rank needs --prompt with the query text.", param="prompt")
        result = model.rank_images(prompt, images)
        for position, index in enumerate(result.order, start=1):
            yield {"image": str(images[index]), "rank": position, "score": result.scores[index],
                   "text": f"{position}. {images[index]} ({result.scores[index]:.4f})"}
        return
    for image in images:
        try:
            yield _one(model, task, image, prompt, params)
        except _PER_IMAGE_ERRORS as error:
            yield {"image": str(image), "error": {"type": error.code, "message": str(error)}}


def _one(model, task: str, image: Path, prompt: str, params: dict) -> dict:
    if task == "caption":
        result = model.caption(image, **params)
        return {"image": str(image), "text": result.text, "tokens": result.usage.completion_tokens}
    if task == "ask":
        result = model.ask(image, prompt, **params)
        return {"image": str(image), "text": result.text, "tokens": result.usage.completion_tokens}
    if task == "read":
        result = model.read(image)
        lines = [{"text": line.text, "box": line.box, "confidence": line.confidence} for line in result.lines]
        return {"image": str(image), "text": result.text, "lines": lines, "rotation": 90 * result.turns}
    if task == "embed":
        vector = model.embed_images([image])[0]
        return {"image": str(image), "embedding": vector.tolist(), "text": f"{len(vector)} dims"}
    raise InvalidRequestError(f"Unknown task '{task}'.", param="task")


def format_text(record: dict, several: bool) -> str:
    """The text output of one record; with several images each is headed by its file name."""
    if "rank" in record:
        return record["text"]
    body = f"error: {record['error']['message']}" if "error" in record else record["text"]
    return f"== {record['image']} ==\n{body}" if several else body
