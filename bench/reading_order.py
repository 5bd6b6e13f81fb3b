"""Reading order on real forms (issue 10): is a key's value read right after the key?

    .venv/bin/python bench/reading_order.py --data /work/realdocs [--bundle build/bundles/reader]
        [--split dev|report] [--limit N]

For every FUNSD form of the split (its scan, read with `model.read`, the lines `/v1/read`
returns and a transcript is written from), every annotated link from a key to an answer of
at most six words whose texts both occur in the lines (normalized as bench/realdocs.py
scores: lowercase, no spaces, no edge punctuation): whether the answer is read in the key's
own line or in the line right after it. A page read column by column puts a form's keys
first and its values after them, far from their keys. Prints the count over the split and
the CPU flags; run it at two commits to compare layouts (no answers are asked, so the
report split shows nothing a reader is tuned on).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import cpu_line, default_bundle  # noqa: E402
from realdocs import MAX_ANSWER_WORDS, load_documents, normalize  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402


def linked_pairs(form: list[dict]) -> list[tuple[str, str]]:
    """(key text, answer text) of every key → answer link with a short answer."""
    entities = {entity["id"]: entity for entity in form}
    pairs = []
    for entity in form:
        if entity["label"] != "question":
            continue
        for a, b in entity["linking"]:
            answer = entities.get(b)
            if a == entity["id"] and answer is not None and answer["label"] == "answer":
                key, value = entity["text"].strip(), answer["text"].strip()
                if normalize(key) and normalize(value) and len(value.split()) <= MAX_ANSWER_WORDS:
                    pairs.append((key, value))
    return pairs


def next_to_each_other(lines: list[str], key: str, value: str) -> bool | None:
    """True: the value is read in the key's line or the next one; False: elsewhere; None:
    the lines do not hold both texts."""
    texts = [normalize(line) for line in lines]
    key, value = normalize(key), normalize(value)
    keys = [i for i, text in enumerate(texts) if key in text]
    values = [i for i, text in enumerate(texts) if value in text]
    if not keys or not values:
        return None
    return any(j - i in (0, 1) for i in keys for j in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--split", choices=("dev", "report"), default="dev")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    model = load_model(args.bundle)
    documents = load_documents(args.data, args.split, ("funsd",), args.limit)
    adjacent = found = pairs = 0
    began = time.perf_counter()
    for document in documents:
        form = json.loads((args.data / "funsd" / "annotations" / f"{document.name}.json").read_text(encoding="utf-8"))
        lines = [line.text for line in model.read(document.page()).lines]
        for key, value in linked_pairs(form["form"]):
            pairs += 1
            together = next_to_each_other(lines, key, value)
            found += together is not None
            adjacent += bool(together)
    print(f"{cpu_line(detect_hardware())}; {len(documents)} FUNSD forms ({args.split} split), "
          f"{time.perf_counter() - began:.0f} s")
    print(f"key -> answer links (answers of at most {MAX_ANSWER_WORDS} words): {pairs}; both texts in the lines: "
          f"{found}; the answer in the key's line or the next: {adjacent} ({adjacent / max(found, 1):.1%})")


if __name__ == "__main__":
    main()
