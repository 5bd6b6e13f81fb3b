"""Ask a running wan2.2-turbo server about a folder of images with the `openai` client.

    ./wan2.2-turbo                                   # in another terminal: the server
    pip install openai
    .venv/bin/python examples/openai_client.py receipts/ "What is the total?"
    .venv/bin/python examples/openai_client.py --evidence receipts/ "What is the total?"

Images go inline as data: URIs (the server never fetches URLs unless told to). By default
the answer streams in token by token; with `--evidence` the reply comes whole and carries
the lines it was read from (the `evidence` extension field, boxes in image pixels).
"""

from __future__ import annotations

import argparse
import base64
import mimetypes
import os
import sys
from pathlib import Path

from openai import APIConnectionError, OpenAI

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def question_about(path: Path, question: str) -> list[dict]:
    return [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": data_uri(path)}},
        {"type": "text", "text": question},
    ]}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of images")
    parser.add_argument("question", help="what to ask about each image")
    parser.add_argument("--server", default=os.environ.get("WAN_TURBO_URL", "http://127.0.0.1:8000"),
                        help="the server's address (default: $WAN_TURBO_URL or http://127.0.0.1:8000)")
    parser.add_argument("--api-key", default=os.environ.get("WAN_TURBO_API_KEY", "unused"),
                        help="the server's --api-key, if it has one")
    parser.add_argument("--evidence", action="store_true", help="whole replies with the lines they came from")
    args = parser.parse_args(argv)
    client = OpenAI(base_url=args.server.rstrip("/") + "/v1", api_key=args.api_key)
    try:
        model = client.models.list().data[0].id
    except APIConnectionError:
        print(f"No server answers at {args.server}: start one with `python3 build.py serve` "
              "(or `./wan2.2-turbo`), or pass --server.", file=sys.stderr)
        return 2
    paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    for path in paths:
        print(f"{path.name}: ", end="", flush=True)
        messages = question_about(path, args.question)
        if not args.evidence:
            stream = client.chat.completions.create(model=model, messages=messages, stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
            print()
            continue
        choice = client.chat.completions.create(model=model, messages=messages).choices[0]
        print(choice.message.content)
        for line in (choice.model_extra or {}).get("evidence") or []:
            xs, ys = [x for x, _ in line["box"]], [y for _, y in line["box"]]
            print(f"    read from {line['text']!r} at x {min(xs):.0f}-{max(xs):.0f}, y {min(ys):.0f}-{max(ys):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
