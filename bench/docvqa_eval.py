"""Document VQA on the generated set (issues 3, 10): exact match, invented answers, latency.

    .venv/bin/python bench/docvqa_eval.py BUNDLE [--precision auto|fp32|int8] [--seed 0]
        [--count 60] [--threads N] [--device auto] [--no-coverage]

Draws the set with tests/golden/docvqa.py (seed 0 is the reported seed, phrased from a pool
the development seeds 1, 2 never use), loads BUNDLE with `runtime.load_model` and asks
every question through `model.ask(image, question)`. Writes
bench/results/docvqa_<bundle>_<precision>.md (…_seed<N>.md for a development seed) with
exact-match accuracy (answers normalized for whitespace, currency formatting and letters the
recogniser cannot read, see `docvqa.normalize_answer`) per document kind
and question type, the rate of invented answers on unanswerable questions, and the median
latency per question. A bundle without the 'vqa' task (TaskNotSupportedError) is measured
on OCR coverage only: the share of answers present in `model.read(image)`'s text. For a
bundle that can both read and answer, coverage is reported too (the ceiling for a reader
that extracts answers from OCR lines); `--no-coverage` skips it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

from docvqa import Document, Report, Tally, make_documents, missing_answers, score  # noqa: E402
from docvqa_page import font_note  # noqa: E402
from docvqa_questions import REPORTED_SEEDS  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.errors import TaskNotSupportedError  # noqa: E402

RESULTS = REPO / "bench" / "results"
MISSES_SHOWN = 40


@dataclass(frozen=True)
class Coverage:
    """Answers found in the OCR text, overall and per kind / question type."""

    overall: Tally  # `correct` counts answers present in the OCR text
    by_kind: dict[str, Tally]
    by_qtype: dict[str, Tally]
    missed: tuple[str, ...]
    read_s: tuple[float, ...]


def ask_all(model, documents: list[Document], progress: Callable[[str], None]) -> tuple[list[list[str]], list[float]]:
    """Every question's reply text, per document, and each call's latency in seconds."""
    replies, latencies = [], []
    for number, document in enumerate(documents, 1):
        answers = []
        for question in document.questions:
            start = time.perf_counter()
            answers.append(model.ask(document.image, question.text).text)
            latencies.append(time.perf_counter() - start)
        replies.append(answers)
        if number % 10 == 0:
            progress(f"asked {number}/{len(documents)} documents")
    return replies, latencies


def measure_coverage(model, documents: list[Document], progress: Callable[[str], None]) -> Coverage:
    # Scored as if a reader replied with the answer exactly when it is in the OCR text.
    predictions, read_s, missed = [], [], []
    for number, document in enumerate(documents, 1):
        start = time.perf_counter()
        text = model.read(document.image).text
        read_s.append(time.perf_counter() - start)
        lost = {id(q) for q in missing_answers(document, text)}
        predictions.append([_coverage_reply(q, lost) for q in document.questions])
        missed += [f"{document.name}: {q.answer!r} — OCR read {_excerpt(text)}" for q in document.questions if id(q) in lost]
        if number % 10 == 0:
            progress(f"read {number}/{len(documents)} documents")
    report = score(predictions, documents)
    return Coverage(report.overall, report.by_kind, report.by_qtype, tuple(missed), tuple(read_s))


def _coverage_reply(question, lost: set[int]) -> str:
    if question.answer is None:
        return "Not found in the image."
    return "" if id(question) in lost else question.answer


def _excerpt(text: str, limit: int = 160) -> str:
    flat = " | ".join(text.splitlines())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


def _percent(value: float) -> str:
    return "—" if value != value else f"{100 * value:.1f}%"


def _tally_table(title: str, tallies: dict[str, Tally], coverage: dict[str, Tally] | None) -> list[str]:
    head = f"| {title} | answerable | exact match | unanswerable | invented |"
    rule = "|---|---:|---:|---:|---:|"
    if coverage is not None:
        head, rule = head + " OCR coverage |", rule + "---:|"
    lines = [head, rule]
    for key in sorted(tallies):
        tally = tallies[key]
        cells = f"| {key} | {tally.answerable} | {_percent(tally.exact_match)} | {tally.unanswerable} | {_percent(tally.invented_rate)} |"
        if coverage is not None:
            cells += f" {_percent(coverage[key].exact_match) if key in coverage else '—'} |"
        lines.append(cells)
    return lines


def _coverage_table(title: str, tallies: dict[str, Tally]) -> list[str]:
    lines = [f"| {title} | answers | in OCR text | coverage |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {t.answerable} | {t.correct} | {_percent(t.exact_match)} |" for k, t in sorted(tallies.items())]
    return lines


def _latency(label: str, seconds: list[float] | tuple[float, ...]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"- {label}: median {1000 * statistics.median(ordered):.0f} ms, p90 {1000 * p90:.0f} ms over {len(ordered)} calls"


def render(header: list[str], report: Report | None, latencies: list[float], coverage: Coverage | None,
           show_misses: bool = True) -> str:
    """The report; `show_misses=False` (the reported seed) leaves out every question and answer
    it got wrong: its phrasings and pages are measured, never read while tuning."""
    lines = list(header)
    if report is not None:
        overall = report.overall
        lines += ["", "## Question answering", "",
                  f"- exact match: **{_percent(overall.exact_match)}** ({overall.correct}/{overall.answerable} answerable)",
                  f"- invented answers on unanswerable questions: **{_percent(overall.invented_rate)}** "
                  f"({overall.invented}/{overall.unanswerable}; {overall.cant_tell} more said \"I can't tell from the "
                  f"text.\", counted as no invented answer since session 26)",
                  _latency("latency per question (`model.ask`)", latencies), ""]  # fmt: skip
        lines += _tally_table("kind", report.by_kind, coverage.by_kind if coverage else None) + [""]
        lines += _tally_table("question type", report.by_qtype, coverage.by_qtype if coverage else None) + [""]
        if show_misses:
            lines += [f"### Wrong or invented answers ({min(MISSES_SHOWN, len(report.misses))} of {len(report.misses)} shown)", ""]
            lines += [f"- {m.document}: {m.question!r} expected {m.expected!r}, got {m.reply!r}" for m in report.misses[:MISSES_SHOWN]]
        else:
            lines += [f"{len(report.misses)} wrong or invented answers, not listed: the reported seed is measured as an aggregate only."]
    if coverage is not None:
        overall = coverage.overall
        lines += ["", "## OCR coverage (answers present in `model.read` text)", "",
                  f"- coverage: **{_percent(overall.exact_match)}** ({overall.correct}/{overall.answerable})",
                  _latency("latency per page (`model.read`)", coverage.read_s), ""]  # fmt: skip
        lines += _coverage_table("kind", coverage.by_kind) + [""] + _coverage_table("question type", coverage.by_qtype)
        if show_misses:
            lines += ["", "### Answers missing from the OCR text", ""] + ([f"- {m}" for m in coverage.missed] or ["none"])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="bundle folder (with bundle.json)")
    parser.add_argument("--precision", default="auto", help="auto, fp32, fp16, int8 or int4")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads per session")
    parser.add_argument("--seed", type=int, default=0, help="0: the reported seed; 1, 2: development seeds")
    parser.add_argument("--count", type=int, default=60, help="documents to generate")
    parser.add_argument("--no-coverage", action="store_true", help="skip the OCR coverage pass")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md report")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    documents = make_documents(seed=args.seed, count=args.count)
    model = load_model(args.bundle, precision=args.precision, device=args.device, threads=args.threads)
    precision = args.precision if args.precision != "auto" else "+".join(sorted({c.precision for c in model.components}))
    questions = sum(len(d.questions) for d in documents)
    unanswerable = sum(q.answer is None for d in documents for q in d.questions)
    header = [
        f"# Document VQA: {model.name} {model.version} ({precision})", "",
        f"- set: tests/golden/docvqa.py, seed {args.seed}, {len(documents)} documents, {questions} questions "
        f"({unanswerable} unanswerable)",
        "- phrasings: " + ("reported pool (no phrasing shared with the development seeds 1, 2)"
                           if args.seed in REPORTED_SEEDS else "development pool"),
        f"- fonts: {font_note()}",
        "- components: " + ", ".join(f"{c.name} {c.precision} on {c.provider}" for c in model.components),
        f"- machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"threads {args.threads or 'default'}",
    ]  # fmt: skip

    report, latencies = None, []
    try:
        replies, latencies = ask_all(model, documents, progress)
        report = score(replies, documents)
    except TaskNotSupportedError:
        progress(f"{model.name} cannot answer questions (tasks: {', '.join(model.tasks)}): OCR coverage only")
    coverage = None
    if "read" in model.tasks and (report is None or not args.no_coverage):
        coverage = measure_coverage(model, documents, progress)
    if report is None and coverage is None:
        progress(f"{model.name} can neither answer nor read (tasks: {', '.join(model.tasks)}); nothing to measure")
        return 2

    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.seed in REPORTED_SEEDS else f"_seed{args.seed}"  # development seeds apart
    target = args.out / f"docvqa_{args.bundle.resolve().name}_{precision}{suffix}.md"
    text = render(header, report, latencies, coverage, show_misses=args.seed not in REPORTED_SEEDS)
    target.write_text(text, encoding="utf-8")
    print(text.split("\n## ", 2)[1] if "\n## " in text else text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
