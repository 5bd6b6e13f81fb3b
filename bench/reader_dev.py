"""The reader's development loop (issue 10): answer cached questions without re-reading pages.

    .venv/bin/python bench/reader_dev.py cache --data /work/realdocs [--seeds 1 2] [--count 20] [--limit 25]
    .venv/bin/python bench/reader_dev.py eval [--sets gen1 gen2 sroie funsd para fresh wide oblique casual wordy terse second absent] [--precision fp32|int8] [--misses N]

`cache` reads every page once with the bundle's OCR and stores its regions and questions
under .cache/reader_calibration/ (outside git: the real documents are research data).
Development sets only: generated seeds 1 and 2 (tests/golden/docvqa.py) and the `dev`
split of bench/realdocs.py. Seed 0 may be cached to *measure* it (`--seeds 0`); the
`report` split is never read here (bench/realdocs.py --split report measures it, through
the public engine, aggregate numbers only).

`eval` routes each question as the reader does (`ReaderAdapter.answer_regions`) and scores
the reply as each benchmark scores it: right on answerable questions, invented on
unanswerable ones; on the real sets it also asks every page each unanswerable question of
bench/realdocs.py whose cues its OCR text lacks, to calibrate "not found" on more than one
question per page. `para` asks the development seeds' documents in a third pool of
phrasings (tests/golden/docvqa_paraphrases.py; the reader has been tuned on it since session
15), `fresh` in a fourth (docvqa_paraphrases_fresh.py, written apart from runtime/ and the
other pools), to see how the reader does on phrasings it was not tuned on (about fifteen of its
missed questions were seen in session 26: development since; `--misses` is refused for it); `wide` in a fifth
(docvqa_paraphrases_wide.py: every development field, five voices each, written 2026-12-03
apart from runtime/; tuned on); `oblique` in a sixth (docvqa_paraphrases_oblique.py, written
2026-12-04: questions that say what a value is for, not the label beside it; tuned on from
its first run); `casual` in a seventh (docvqa_paraphrases_casual.py, written 2026-12-04 in
session 23: the casual chat-box voice, letters' and forms' people and ids); `wordy` in an
eighth (docvqa_paraphrases_wordy.py, written 2026-12-05 in session 33 apart from runtime/ and
the other pools: requests wrapped in the asker's situation, commands, polite and clumsy
English; tuned on from its first run); `terse` in a ninth (docvqa_paraphrases_terse.py, written
2026-12-06 in session 35 apart from runtime/ and the other pools: search-box fragments,
abbreviations and trade jargon; tuned on from its first run); `second` in a tenth
(docvqa_paraphrases_second.py, written 2026-12-08 in session 51 apart from runtime/ and the
other pools: second-language English and typing slips; first run 84.6% int8, tuned on from
then). Generated seeds 3 and 4 (`cache --seeds 3 4`, `eval --sets
gen3 gen4`) are development pages too. Each pool also asks a page's unanswerable fields in
its phrasings (where it has them) and counts replies other than "not found" as invented.
`absent` (session 50) asks every cached development page (seeds 1-8) about every field its
generator says it cannot answer (the seeds sample one or two per page), in every phrasing of
the tuned pools (dev, para, wide, oblique, casual, wordy, terse, second; not `fresh`): about 13,400
questions, so that a rule that finds some other key for a phrasing it does not know shows up.
`--misses N` prints N wrong replies per set (development sets only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))
sys.path.insert(0, str(REPO / "bench"))

from bench_common import BUNDLES  # noqa: E402

CACHE = REPO / ".cache" / "reader_calibration"
FOLDS = CACHE / "linker_folds.pkl"
DEVELOPMENT = ("gen1", "gen2", "sroie", "funsd")


def _bundle(path: str | None) -> Path:
    if path:
        return Path(path)
    for candidate in BUNDLES:
        if (candidate / "bundle.json").exists():
            return candidate
    raise SystemExit("No reader bundle: run `python3 build.py test` (or pass --bundle).")


def _ocr_stamp(bundle: Path) -> dict:
    """The OCR files a cache's regions came from (sha256 per component, from bundle.json)."""
    components = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))["components"]
    return {name: [v["sha256"] for v in spec["variants"]] for name, spec in components.items() if name.startswith("ocr_")}


def _stamped_for(bundle: Path) -> bool:
    """Whether the cache's pages were read by `bundle`'s OCR files (False when unrecorded)."""
    stamp_path = CACHE / "ocr.json"
    return stamp_path.exists() and json.loads(stamp_path.read_text(encoding="utf-8")) == _ocr_stamp(bundle)


def cache(args) -> None:
    from runtime import load_model

    CACHE.mkdir(parents=True, exist_ok=True)
    bundle = _bundle(args.bundle)
    # Pages kept without a stamp (before there was one) are of unknown OCR: read again.
    if not _stamped_for(bundle):
        stale = sorted(CACHE.glob("*.pkl"))
        print(f"{CACHE}: regions read by other OCR files than {bundle}'s; re-reading {len(stale)} sets")
        for path in stale:
            path.unlink()
    (CACHE / "ocr.json").write_text(json.dumps(_ocr_stamp(bundle), indent=1), encoding="utf-8")
    model = load_model(bundle, precision="fp32")
    adapter = model._adapter  # noqa: SLF001 - the bench reaches the OCR regions
    for seed in args.seeds:
        import docvqa

        path = CACHE / f"gen{seed}.pkl"
        if path.exists():
            continue
        items = []
        for document in docvqa.make_documents(seed=seed, count=args.count):
            questions = [(q.text, q.answer, q.qtype) for q in document.questions]
            items.append((document.name, adapter._regions(model._image(document.image)), questions))  # noqa: SLF001
        path.write_bytes(pickle.dumps(items))
    if args.data:
        import realdocs

        for dataset in realdocs.DATASETS:
            path = CACHE / f"{dataset}.pkl"
            if path.exists():
                continue
            items = []
            for document in realdocs.load_documents(args.data, "dev", (dataset,), args.limit):
                questions = [(q.text, q.gold, q.kind) for q in document.questions]
                items.append((document.name, adapter._regions(model._image(document.page())), questions))  # noqa: SLF001
            path.write_bytes(pickle.dumps(items))


def _right(set_name: str, reply: str, gold) -> bool:
    if set_name.startswith("gen"):
        import docvqa

        return docvqa.normalize_answer(reply) == docvqa.normalize_answer(gold)  # as bench/docvqa_eval.py scores
    import realdocs

    return realdocs.is_right(reply, gold)


def _ocr_holds(regions, gold: tuple[str, ...]) -> bool:
    """Whether the page's OCR text, its regions joined, contains every part of the gold
    (normalised as `realdocs.is_right` does): no reader answers right where it does not."""
    import realdocs

    page = "".join(realdocs.normalize(region.text) for region in regions)
    return all(realdocs.normalize(part) in page for part in gold)


def evaluate(args) -> None:
    from runtime import load_model

    bundle = _bundle(args.bundle)
    if not _stamped_for(bundle):
        print(f"note: {CACHE} holds pages read by other (or unrecorded) OCR files than {bundle}'s; "
              "the OCR code is not in the stamp either: `cache` again after changing runtime/ocr")
    model = load_model(bundle, precision=args.precision)
    adapter = model._adapter  # noqa: SLF001
    for set_name in args.sets:
        if set_name == "absent":
            _every_absent_field(adapter, args.misses)
            continue
        if set_name in ("para", "fresh", "wide", "oblique", "casual", "wordy", "terse", "second"):
            if set_name == "fresh" and args.misses:
                raise SystemExit("fresh is the never-tuned pool: measure it without --misses.")
            _paraphrases(adapter, args.misses, set_name)
            continue
        if set_name.startswith("gen0") and args.misses:
            raise SystemExit("gen0 is the reported seed: measure it without --misses.")
        started = time.perf_counter()
        right = answerable = invented = unanswerable = readable = 0
        misses = []
        with _cross_fitted(set_name) as use_linker:
            for name, regions, questions in pickle.loads((CACHE / f"{set_name}.pkl").read_bytes()):
                use_linker(name)
                for text, gold, kind in questions:
                    holds = None  # whether the OCR text holds the answer: a miss the reader could fix
                    if not set_name.startswith("gen") and gold is not None and kind != "unanswerable":
                        holds = _ocr_holds(regions, gold)
                        readable += holds
                    reply = adapter.answer_regions(text, regions).text
                    if gold is None or kind == "unanswerable":
                        unanswerable += 1
                        wrong = reply.strip() not in ("Not found in the image.", "I can't tell from the text.")
                        invented += wrong
                    else:
                        answerable += 1
                        wrong = not _right(set_name, reply, gold)
                        right += not wrong
                    if wrong:
                        read = "" if holds is None else " ocr-holds" if holds else " ocr-lacks"
                        misses.append(f"  {name} [{kind}{read}] {text!r} -> {reply!r} (gold {gold!r})")
            elapsed = time.perf_counter() - started
            print(f"{set_name} {args.precision}: right {right}/{answerable} = {right / max(answerable, 1):.1%}, "
                  f"invented {invented}/{unanswerable} = {invented / max(unanswerable, 1):.1%} ({elapsed:.0f} s)")
            if not set_name.startswith("gen"):
                print(f"  the OCR text holds every part of the answer (the reader's ceiling): "
                      f"{readable}/{answerable} = {readable / max(answerable, 1):.1%}")
                asked, wrong_replies = _every_absent(adapter, set_name, use_linker)
                print(f"  every unanswerable question whose cues the page's OCR text lacks: invented "
                      f"{len(wrong_replies)}/{asked} = {len(wrong_replies) / max(asked, 1):.1%}")
                misses += [f"  {line} (gold None)" for line in wrong_replies]
        for line in misses[: args.misses]:
            print(line)


@contextlib.contextmanager
def _cross_fitted(set_name: str) -> Iterator[Callable[[str], None]]:
    """`use(form name)`: the reader answers that form with the linker it would have if it had
    not been fitted on it (`_linker_folds`; the shipped one for other sets); the shipped
    linker again on leaving, whatever happens."""
    from runtime.reader import linking

    folds = _linker_folds(set_name)

    def use(name: str) -> None:
        # a form the fit had no key cells of was in no fold: the shipped model never saw it
        linking._TREES = folds.get(name)  # noqa: SLF001

    try:
        yield use
    finally:
        linking._TREES = None  # noqa: SLF001


def _linker_folds(set_name: str) -> dict:
    """For FUNSD, the linker the reader would have if it had not been fitted on the form asked
    (bench/fit_linker.py --folds): form name → the fold model fitted without it. The shipped
    linker was fitted on every development form, so its FUNSD dev figure would flatter it."""
    if set_name != "funsd":
        return {}
    folds = CACHE / FOLDS.name
    if not folds.exists():
        raise SystemExit(f"{folds} is missing: run bench/fit_linker.py --data DIR --cache {CACHE} --folds {folds}")
    return {name: trees for trees, names in pickle.loads(folds.read_bytes()) for name in names}


def _paraphrases(adapter, shown: int, pool: str = "para") -> None:
    """The development seeds' documents asked in tests/golden/docvqa_paraphrases.py's
    phrasings (`para`) or docvqa_paraphrases_fresh.py's (`fresh`): each where a development
    question asked the same field, scored as bench/docvqa_eval.py scores; a field the page
    cannot answer is asked too, and any reply but "not found" counts as invented."""
    import re

    import docvqa
    from docvqa_questions import DEVELOPMENT

    if pool == "fresh":
        from docvqa_paraphrases_fresh import FRESH as PARAPHRASES
    elif pool == "wide":
        from docvqa_paraphrases_wide import WIDE as PARAPHRASES
    elif pool == "oblique":
        from docvqa_paraphrases_oblique import OBLIQUE as PARAPHRASES
    elif pool == "casual":
        from docvqa_paraphrases_casual import CASUAL as PARAPHRASES
    elif pool == "wordy":
        from docvqa_paraphrases_wordy import WORDY as PARAPHRASES
    elif pool == "terse":
        from docvqa_paraphrases_terse import TERSE as PARAPHRASES
    elif pool == "second":
        from docvqa_paraphrases_second import SECOND as PARAPHRASES
    else:
        from docvqa_paraphrases import PARAPHRASES

    started = time.perf_counter()
    field_of = {template: field for field, templates in DEVELOPMENT.items() for template in templates}
    right = asked = invented = unanswerable = 0
    misses = []
    for seed in (1, 2):
        cached = pickle.loads((CACHE / f"gen{seed}.pkl").read_bytes())
        for (name, regions, _), document in zip(cached, docvqa.make_documents(seed=seed, count=len(cached))):
            for question in document.questions:
                field = field_of.get(question.template)
                if field not in PARAPHRASES:
                    continue
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(question.template))
                slots = (re.fullmatch(pattern, question.text) or re.match("", "")).groupdict()
                for phrasing in PARAPHRASES[field]:
                    if any(slot not in slots for slot in re.findall(r"\{(\w+)\}", phrasing)):
                        continue
                    text = phrasing.format(**slots)
                    reply = adapter.answer_regions(text, regions).text
                    if question.answer is None:  # the page cannot answer it: "not found" is right
                        unanswerable += 1
                        if not docvqa.is_not_found(reply):
                            invented += 1
                            misses.append(f"  gen{seed}|{name} [{field}] {text!r} -> {reply[:80]!r} (gold None)")
                        continue
                    asked += 1
                    if docvqa.normalize_answer(reply) == docvqa.normalize_answer(question.answer):
                        right += 1
                    else:
                        misses.append(f"  gen{seed}|{name} [{field}] {text!r} -> {reply[:80]!r} (gold {question.answer!r})")
    print(f"{pool}: right {right}/{asked} = {right / max(asked, 1):.1%}, invented {invented}/{unanswerable} = "
          f"{invented / max(unanswerable, 1):.1%} ({time.perf_counter() - started:.0f} s)")
    for line in misses[:shown]:
        print(line)


def _every_absent_field(adapter, shown: int) -> None:
    """`absent`: each cached development page (seeds 1-8) asked about every field it cannot
    answer (the generator's whole list for that page, where a seed samples one or two), in
    every phrasing of the development pools (not `fresh`, kept for measuring): any reply but
    "not found" or "I can't tell" is invented. The seeds sample one or two such questions per
    page, too few to see how often a phrasing the reader does not know finds some other key."""
    import re

    import docvqa
    from docvqa_paraphrases import PARAPHRASES
    from docvqa_paraphrases_casual import CASUAL
    from docvqa_paraphrases_oblique import OBLIQUE
    from docvqa_paraphrases_second import SECOND
    from docvqa_paraphrases_terse import TERSE
    from docvqa_paraphrases_wide import WIDE
    from docvqa_paraphrases_wordy import WORDY
    from docvqa_questions import DEVELOPMENT

    pools = {"dev": DEVELOPMENT, "para": PARAPHRASES, "wide": WIDE, "oblique": OBLIQUE, "casual": CASUAL,
             "wordy": WORDY, "terse": TERSE, "second": SECOND}
    field_of = {template: field for field, templates in DEVELOPMENT.items() for template in templates}
    started = time.perf_counter()
    asked = {pool: 0 for pool in pools}
    invented: dict[str, list[str]] = {pool: [] for pool in pools}
    every_question = docvqa._pick_questions  # noqa: SLF001
    docvqa._pick_questions = lambda rng, draft: list(draft.unanswerable)  # noqa: SLF001
    try:
        for seed in range(1, 9):
            path = CACHE / f"gen{seed}.pkl"
            if not path.exists():
                continue
            cached = pickle.loads(path.read_bytes())
            for (name, regions, _), document in zip(cached, docvqa.make_documents(seed=seed, count=len(cached))):
                seen = set()
                for question in document.questions:
                    field = field_of[question.template]
                    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(question.template))
                    slots = re.fullmatch(pattern, question.text).groupdict()
                    for pool, phrasings in pools.items():
                        for phrasing in phrasings.get(field, ()):
                            if any(slot not in slots for slot in re.findall(r"\{(\w+)\}", phrasing)):
                                continue
                            text = phrasing.format(**slots)
                            if text in seen:
                                continue
                            seen.add(text)
                            asked[pool] += 1
                            reply = adapter.answer_regions(text, regions).text
                            if not docvqa.is_not_found(reply) and reply.strip() != "I can't tell from the text.":
                                invented[pool].append(f"  gen{seed}|{name} [{field}] {text!r} -> {reply[:80]!r}")
    finally:
        docvqa._pick_questions = every_question  # noqa: SLF001
    total = sum(asked.values())
    wrong = sum(len(lines) for lines in invented.values())
    print(f"absent: invented {wrong}/{total} = {wrong / max(total, 1):.1%} ({time.perf_counter() - started:.0f} s); "
          + ", ".join(f"{pool} {len(invented[pool])}/{asked[pool]}" for pool in pools))
    for line in [line for lines in invented.values() for line in lines][:shown]:
        print(line)


def _every_absent(adapter, set_name: str, use_linker: Callable[[str], None]) -> tuple[int, list[str]]:
    """Each development page asked every question of bench/realdocs.py's unanswerable list
    whose cue words its OCR text lacks (the benchmark asks one per page, too few to calibrate
    a threshold on): (questions asked, the replies that were not "not found"). `use_linker`
    as `_cross_fitted` gives it."""
    import realdocs

    asked, wrong = 0, []
    for name, regions, _ in pickle.loads((CACHE / f"{set_name}.pkl").read_bytes()):
        use_linker(name)
        text = " ".join(region.text for region in regions).lower()
        for question, cues in realdocs.UNANSWERABLE:
            if any(cue in text for cue in cues):
                continue
            asked += 1
            reply = adapter.answer_regions(question, regions).text
            if reply.strip() not in (realdocs.NOT_FOUND, realdocs.CANT_TELL):
                wrong.append(f"{name} [unanswerable] {question!r} -> {reply!r}")
    return asked, wrong


def main() -> None:
    global CACHE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    caching = commands.add_parser("cache")
    caching.add_argument("--data", type=Path)
    caching.add_argument("--bundle")
    caching.add_argument("--seeds", type=int, nargs="*", default=[1, 2])
    caching.add_argument("--count", type=int, default=20)
    caching.add_argument("--limit", type=int, default=25)
    evaluating = commands.add_parser("eval")
    evaluating.add_argument("--bundle")
    evaluating.add_argument("--sets", nargs="+", default=list(DEVELOPMENT))
    evaluating.add_argument("--precision", default="fp32")
    evaluating.add_argument("--misses", type=int, default=0)
    for command in (caching, evaluating):
        command.add_argument("--cache", type=Path, default=CACHE,
                             help=f"where the read pages are kept (default {CACHE.relative_to(REPO)}); one folder per OCR set-up")
    args = parser.parse_args()
    CACHE = args.cache
    {"cache": cache, "eval": evaluate}[args.command](args)


if __name__ == "__main__":
    main()
