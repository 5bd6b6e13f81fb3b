"""Follow-up questions about the same picture: with the OCR memo (default) and without.

    .venv/bin/python bench/followup_questions.py [--bundle DIR] [--pages 4] [--questions 4]
        [--precision auto] [--out bench/results/followup_questions.md]

A chat client sends its image again with every turn. On generated pages of a development
seed (tests/golden/docvqa.py, seed 1) it asks `--questions` questions per page in a row and
reports the median latency of first questions and of follow-ups, with the reader's OCR memo
(`runtime/ocr/memo.py`, the default: OCR regions, detections, labels) and with the memos
emptied (size 0: every question reads the page and runs the photo models, as before), and
whether the replies are the same. CPU flags are printed with it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

import docvqa  # noqa: E402
from bench_common import cpu_line, default_bundle, remember_pictures, report  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.kinds.reader import OCR_MEMO_IMAGES  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402



def ask_in_turns(model, documents, questions: int) -> tuple[list[float], list[float], list[str]]:
    firsts, follow_ups, replies = [], [], []
    for document in documents:
        for index, question in enumerate(document.questions[:questions]):
            began = time.perf_counter()
            replies.append(model.ask(document.image.copy(), question.text).text)  # a new object each turn
            (firsts if index == 0 else follow_ups).append(time.perf_counter() - began)
    return firsts, follow_ups, replies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    hardware = detect_hardware()
    model = load_model(args.bundle, precision=args.precision)
    documents = docvqa.make_documents(seed=1, count=args.pages)
    model.ask(documents[0].image, "What is this?")  # warm-up
    rows, results = [], {}
    for label, size in (("with the OCR memo", OCR_MEMO_IMAGES), ("without (size 0)", 0)):
        remember_pictures(model._adapter, size)  # noqa: SLF001 - a bench may look inside
        firsts, follow_ups, replies = ask_in_turns(model, documents, args.questions)
        results[label] = replies
        rows.append(f"| {label} | {statistics.median(firsts) * 1000:.0f} | {statistics.median(follow_ups) * 1000:.0f} |")
    same = sum(a == b for a, b in zip(*results.values()))
    text = "\n".join([
        f"# Follow-up questions about the same page ({args.bundle.name} bundle, precision {args.precision})",
        "",
        f"{cpu_line(hardware)}. "
        f"{args.pages} generated pages (seed 1), {args.questions} questions each, asked in a row with the image "
        "sent again each time. `.venv/bin/python bench/followup_questions.py`",
        "",
        "| reader | first question ms (median) | follow-up ms (median) |",
        "|---|---:|---:|",
        *rows,
        "",
        f"Replies the same with and without the memo: {same}/{len(next(iter(results.values())))}.",
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
