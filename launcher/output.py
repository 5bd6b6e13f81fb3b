"""Turn task results into plain records for the CLI (text and JSON output)."""

from __future__ import annotations

from pathlib import Path

from runtime.errors import InvalidRequestError


def run_task(model, task: str, images: list[Path], prompt: str, params: dict):
    """Yield one record per image (or one for `rank`): {"image", "text", ...}."""
    params = {k: v for k, v in params.items() if v is not None}
    if task == "rank":
        if not prompt:
            raise InvalidRequestError("--task rank needs --prompt with the query text.", param="prompt")
        result = model.rank_images(prompt, images)
        for position, index in enumerate(result.order, start=1):
            yield {"image": str(images[index]), "rank": position, "score": result.scores[index],
                   "text": f"{position}. {images[index]} ({result.scores[index]:.4f})"}
        return
    for image in images:
        if task == "caption":
            result = model.caption(image, **params)
            yield {"image": str(image), "text": result.text, "tokens": result.usage.completion_tokens}
        elif task == "ask":
            result = model.ask(image, prompt, **params)
            yield {"image": str(image), "text": result.text, "tokens": result.usage.completion_tokens}
        elif task == "read":
            result = model.read(image)
            lines = [{"text": l.text, "box": l.box, "confidence": l.confidence} for l in result.lines]
            yield {"image": str(image), "text": result.text, "lines": lines}
        elif task == "embed":
            vector = model.embed_images([image])[0]
            yield {"image": str(image), "embedding": vector.tolist(), "text": f"{image}: {len(vector)} dims"}
