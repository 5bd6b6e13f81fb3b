"""A folder of photos, captioned and searchable by text.

    .venv/bin/python examples/photo_search.py --model BUNDLE photos/ "a bakery" "where to fix a bike"

Captions every image, embeds them all once, then ranks them against each query by cosine
similarity (the bundle's embeddings are L2-normalized, so a dot product). Runs the model in
this process (`from runtime import load_model`, no server). `--json` prints one object
instead of text, for scripts.

BUNDLE is a model folder: the default one is `build/bundles/reader` once `python3 build.py
serve` (or `test`) has built it. Run from the checkout with its `.venv` (where `runtime` is
installed); a release has the same engine inside its binary, not as a Python package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from PIL import Image

from runtime import load_model

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of images")
    parser.add_argument("queries", nargs="*", help="texts to search the images for")
    parser.add_argument("--model", default=os.environ.get("WAN_TURBO_MODEL"),
                        help="bundle folder (default: $WAN_TURBO_MODEL)")
    parser.add_argument("--top", type=int, default=3, help="matches shown per query")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("give --model BUNDLE (or set WAN_TURBO_MODEL)")
    paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        parser.error(f"no images in {args.folder}")
    model = load_model(args.model)
    images = [Image.open(path).convert("RGB") for path in paths]
    captions = {path.name: model.caption(image).text for path, image in zip(paths, images)}
    vectors = model.embed_images(images)  # one row per image, unit length
    searches = {}
    if args.queries:
        scores = model.embed_texts(args.queries) @ vectors.T  # cosine similarity
        for query, row in zip(args.queries, scores):
            ranked = sorted(zip(row.tolist(), (p.name for p in paths)), reverse=True)[: args.top]
            searches[query] = [{"file": name, "score": round(score, 4)} for score, name in ranked]
    if args.json:
        print(json.dumps({"captions": captions, "searches": searches}, indent=1))
        return 0
    for name, caption in captions.items():
        print(f"{name}: {caption}")
    for query, matches in searches.items():
        print(f"\n{query!r}:")
        for match in matches:
            print(f"  {match['score']:.3f}  {match['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
