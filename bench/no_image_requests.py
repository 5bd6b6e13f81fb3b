"""Text-only chat requests that mean a picture or text never attached, and requests in the same
words that need none: which does the reader bundle answer "No image was attached ..."?

    .venv/bin/python bench/no_image_requests.py [--bundle build/bundles/reader]

`bench/no_image_requests.json` holds the two lists, written by a helper in session 45 apart
from the code (it saw no file of the repository): "missing", 40 requests that read,
transcribe, describe or summarize something the user forgot to attach; "fine", 60 answerable
requests in the same words (song words, famous texts, pasted texts after a colon, what a word
means). Each is sent as a chat of that one message through `Model.generate` with no image; a
reply that starts "No image was attached" is a refusal. Prints both counts and every request
on the wrong side. (The rule was adjusted after this file first measured it, on its false
refusals and a reviewer's examples: the file is development data now.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROBES = REPO / "bench" / "no_image_requests.json"


def main() -> int:
    from runtime import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "build" / "bundles" / "reader")
    args = parser.parse_args()
    model = load_model(args.bundle)
    probes = json.loads(PROBES.read_text(encoding="utf-8"))
    for name, refuse in (("missing", True), ("fine", False)):
        wrong = [text for text in probes[name]
                 if model.generate(None, text, max_new_tokens=16).text.startswith("No image was attached") != refuse]
        print(f"{name}: {len(probes[name]) - len(wrong)}/{len(probes[name])} "
              f"{'refused' if refuse else 'went to the language model'}")
        for text in wrong:
            print(f"    {'not refused' if refuse else 'refused'}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
