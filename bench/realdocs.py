"""Real documents (issue 10): SROIE receipts and FUNSD forms asked through the public engine.

    .venv/bin/python bench/realdocs.py --data /work/realdocs [--bundle build/bundles/reader]
        [--precision auto|fp32|int8] [--split dev|report] [--limit N] [--dataset sroie|funsd]
        [--out FILE]

The data stays outside the repository (research-use datasets; how to fetch them and which
documents form each split: issue 10's closing note). `--data` is a folder holding
`sroie/metadata.jsonl` (ICDAR2019-SROIE's test metadata: boxes, words, key fields),
`funsd/annotations/*.json` + `funsd/images/*.png` (FUNSD training forms and their scans) and
`split.json` (document ids per dataset and split, drawn once with a fixed seed).

Pages: FUNSD uses its scans. SROIE's metadata has no scans, so each receipt is re-drawn:
every annotated text in its box, DejaVu Sans sized to the box height, squeezed to the box
width when longer, black on white.

Questions (phrasings written here, not taken from tests/golden): SROIE company, date, total
and address, each asked three ways, where the page shows the field (the metadata's word
list lacks some printed lines, mostly address lines: a field is asked when one box holds
it or consecutive boxes show at least 60% of it); FUNSD every key linked to exactly one
answer of at most six words (tick marks skipped; a key printed twice with different
answers left out), the key itself turned into a question; plus one unanswerable question
per document whose subject (e-mail, flight, passport, ...) is checked to be absent from
the document's annotated text. Questions left out are counted as "skipped".

`model.ask` reads the page again for every question, so a question costs a full OCR pass
(seconds on 2 cores): `--limit N` evaluates N documents per dataset, a fixed-seed sample.

Scoring:
- text is normalized by lowercasing, removing whitespace and stripping punctuation at
  both ends;
- a gold answer is one or more parts (a SROIE field printed over several boxes, e.g. an
  address over three lines, is the boxes' texts in page order); a reply is *right* when
  every normalized part occurs in the normalized reply, in order (a SROIE total is its
  amount: a leading "RM" or "$" in the gold is dropped), AND the reply is not
  much longer than the gold: len(reply) <= 2 * len(gold) + 10 characters (stripped raw
  text, parts joined with ", ");
- a reply to an unanswerable question is *invented* unless it is exactly
  "Not found in the image.".
`--split report` prints aggregate numbers only: nobody looks at report answers while tuning.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shlex
import statistics
import string
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import default_bundle  # noqa: E402
from runtime import load_model  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402

NOT_FOUND = "Not found in the image."
CANT_TELL = "I can't tell from the text."  # a choice or yes/no the page does not answer: nothing invented
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DATASETS = ("sroie", "funsd")
MAX_ANSWER_WORDS = 6
MISSES_SHOWN = 60

SROIE_PHRASINGS = {
    "company": ("Which business issued this receipt?", "What is the merchant's name?",
                "Who is the seller on this receipt?"),
    "date": ("On which day was this bought?", "What date does the receipt show?",
             "When did this transaction take place?"),
    "total": ("What was the grand total?", "How much did the customer have to pay altogether?",
              "What is the final amount on the receipt?"),
    "address": ("Where is the shop located?", "What is the merchant's address?",
                "Which address is printed on the receipt?"),
}  # fmt: skip
CURRENCY_PREFIX = re.compile(r"^\s*(?:RM|MYR|\$)\s*", re.IGNORECASE)
FUNSD_PHRASINGS = ("What is the {key}?", "What does the form say for {key}?", "{key}?")
# Each unanswerable question with the words whose absence from the annotated text shows
# that the document cannot answer it.
UNANSWERABLE = (
    ("Which e-mail address can the sender be reached at?", ("@", "mail")),
    ("What is the flight number?", ("flight",)),
    ("What is the passport number on this page?", ("passport",)),
    ("What is the patient's blood group?", ("blood", "patient")),
    ("Which website is printed here?", ("www", "http", ".com", "web")),
    ("What is the vehicle's licence plate?", ("plate", "licen", "vehicle")),
    ("When was the holder born?", ("birth", "born", "dob")),
)  # fmt: skip


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # company/date/total/address, key, or unanswerable
    gold: tuple[str, ...] | None  # the answer's parts in page order; None: unanswerable


@dataclass(frozen=True)
class Document:
    dataset: str
    name: str
    page: Callable[[], Image.Image]  # drawn or loaded on demand
    questions: tuple[Question, ...]
    skipped: int  # candidate questions left out (gold not on the page, too long, ...)


@dataclass(frozen=True)
class Outcome:
    dataset: str
    document: str
    question: Question
    reply: str
    latency_s: float

    @property
    def right(self) -> bool:
        return self.question.gold is not None and is_right(self.reply, self.question.gold)

    @property
    def invented(self) -> bool:
        return self.question.gold is None and self.reply.strip() not in (NOT_FOUND, CANT_TELL)


# --- scoring -------------------------------------------------------------------------------


def normalize(text: str) -> str:
    return "".join(text.lower().split()).strip(string.punctuation)


def is_right(reply: str, gold: tuple[str, ...]) -> bool:
    """Every part of the gold in the reply, in order, and the reply not much longer."""
    if len(reply.strip()) > 2 * len(", ".join(gold)) + 10:
        return False
    flat, start = normalize(reply), 0
    for part in map(normalize, gold):
        found = flat.find(part, start)
        if found < 0:
            return False
        start = found + len(part)
    return True


# --- pages ---------------------------------------------------------------------------------


def draw_page(size: tuple[int, int], texts: list[str], boxes: list[list[int]]) -> Image.Image:
    """A white page with each text drawn in its box (x0, y0, x1, y1)."""
    page = Image.new("L", size, 255)
    for text, box in zip(texts, boxes):
        _draw_in_box(page, text.strip(), box)
    return page.convert("RGB")


def _draw_in_box(page: Image.Image, text: str, box: list[int]) -> None:
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if not text or width < 2 or height < 2:
        return
    font = ImageFont.truetype(FONT, max(6, round(0.8 * height)))
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("L", (right - left + 2, bottom - top + 2), 255)
    ImageDraw.Draw(tile).text((1 - left, 1 - top), text, font=font, fill=0)
    if tile.width > width:
        tile = tile.resize((width, tile.height), Image.LANCZOS)
    corner = (x0, y0 + max(0, (height - tile.height) // 2))
    area = (*corner, corner[0] + tile.width, corner[1] + tile.height)
    page.paste(ImageChops.darker(page.crop(area), tile), corner)  # overlapping boxes keep both


# --- questions -----------------------------------------------------------------------------


def unanswerable(dataset: str, name: str, texts: list[str]) -> Question | None:
    """A question about something absent from `texts`, picked per document with a fixed seed."""
    lowered = "\n".join(texts).lower()
    candidates = list(UNANSWERABLE)
    random.Random(f"{dataset}/{name}").shuffle(candidates)
    for text, cues in candidates:
        if not any(cue in lowered for cue in cues):
            return Question(text, "unanswerable", None)
    return None


def gold_parts(value: str, words: list[str]) -> tuple[str, ...] | None:
    """A SROIE field as the page shows it: one box holding it all, or the longest run of
    consecutive boxes that are pieces of it (SROIE's gold joins lines with commas and keeps
    lines that its word list lacks). None when the page shows too little of it."""
    target = normalize(value).replace(",", "")
    if not target:
        return None
    if any(normalize(value) in normalize(word) for word in words):
        return (value,)
    best: list[str] = []
    run: list[str] = []
    for word in words:
        piece = normalize(word).replace(",", "")
        run = run + [word] if len(piece) >= 2 and piece in target else []
        best = run if len(run) > len(best) else best
    shown = sum(len(normalize(word).replace(",", "")) for word in best)
    return tuple(word.strip() for word in best) if shown >= 0.6 * len(target) else None


def sroie_questions(row: dict) -> tuple[list[Question], int]:
    questions, skipped = [], 0
    for field, phrasings in SROIE_PHRASINGS.items():
        value = row["entities"].get(field, "")
        if field == "total":  # SROIE's annotators kept "RM"/"$" on some totals (1 in 5), not on others
            value = CURRENCY_PREFIX.sub("", value)
        gold = gold_parts(value, row["words"])
        if gold is None:
            skipped += len(phrasings)
            continue
        questions += [Question(text, field, gold) for text in phrasings]
    return questions, skipped


def _key_phrase(key: str) -> str | None:
    """A FUNSD key as it reads inside a question: numbering and trailing colons dropped."""
    words = key.strip().split()
    while words and words[0].strip("().").isdigit():
        words = words[1:]
    phrase = " ".join(words).rstrip(" :;.-_")
    if sum(char.isalpha() for char in phrase) < 2:
        return None
    return phrase.lower() if phrase.isupper() else phrase


def funsd_questions(name: str, form: list[dict]) -> tuple[list[Question], int]:
    """One question per key with a single short answer; a key printed twice with different
    answers is ambiguous and left out, twice with the same answer asked once."""
    entities = {entity["id"]: entity for entity in form}
    answers_by_key: dict[str, list[tuple[int, str]]] = {}
    skipped = 0
    for entity in form:
        answers = [entities[b]["text"].strip() for a, b in entity["linking"]
                   if a == entity["id"] and entity["label"] == "question" and entities[b]["label"] == "answer"]
        if not answers:
            continue
        key = _key_phrase(entity["text"])
        short = len(answers[0].split()) <= MAX_ANSWER_WORDS and sum(char.isalnum() for char in answers[0]) >= 2
        if len(answers) > 1 or not key or not short:
            skipped += 1  # several answers, no key words, a long answer, a tick mark or a blank
            continue
        answers_by_key.setdefault(normalize(key), []).append((entity["id"], answers[0]))
    questions = []
    for key, found in answers_by_key.items():
        if len({normalize(answer) for _, answer in found}) > 1:
            skipped += len(found)
            continue
        skipped += len(found) - 1
        key_id, answer = found[0]
        template = FUNSD_PHRASINGS[zlib.crc32(f"{name}/{key_id}".encode()) % len(FUNSD_PHRASINGS)]
        text = template.format(key=_key_phrase(entities[key_id]["text"]))
        questions.append(Question(text[0].upper() + text[1:], "key", (answer,)))
    return questions, skipped


# --- documents -----------------------------------------------------------------------------


def sroie_documents(data: Path, names: list[str]) -> Iterator[Document]:
    wanted = set(names)
    with open(data / "sroie" / "metadata.jsonl", encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if row["key"] not in wanted:
                continue
            questions, skipped = sroie_questions(row)
            extra = unanswerable("sroie", row["key"], row["words"])
            size = (row["image_size"]["width"], row["image_size"]["height"])
            yield Document("sroie", row["key"], lambda r=row, s=size: draw_page(s, r["words"], r["bboxes"]),
                           tuple(questions + ([extra] if extra else [])), skipped + (extra is None))


def funsd_documents(data: Path, names: list[str]) -> Iterator[Document]:
    for name in names:
        form = json.loads((data / "funsd" / "annotations" / f"{name}.json").read_text(encoding="utf-8"))["form"]
        questions, skipped = funsd_questions(name, form)
        extra = unanswerable("funsd", name, [entity["text"] for entity in form])
        image = data / "funsd" / "images" / f"{name}.png"
        yield Document("funsd", name, lambda path=image: Image.open(path).convert("RGB"),
                       tuple(questions + ([extra] if extra else [])), skipped + (extra is None))


def load_documents(data: Path, split: str, datasets: tuple[str, ...], limit: int | None) -> list[Document]:
    """The split's documents in id order; with `limit`, that many per dataset drawn with a
    fixed seed (a smaller limit gives a subset of a larger one's documents)."""
    listing = json.loads((data / "split.json").read_text(encoding="utf-8"))
    readers = {"sroie": sroie_documents, "funsd": funsd_documents}
    documents = []
    for dataset in datasets:
        names = sorted(listing[dataset][split])
        random.Random(0).shuffle(names)
        names = names[:limit]
        documents += sorted(readers[dataset](data, names), key=lambda document: document.name)
    return documents


# --- running -------------------------------------------------------------------------------


def ask_all(model, documents: list[Document], progress: Callable[[str], None]) -> list[Outcome]:
    outcomes = []
    for number, document in enumerate(documents, 1):
        page = document.page()
        for question in document.questions:
            start = time.perf_counter()
            reply = model.ask(page, question.text).text
            outcomes.append(Outcome(document.dataset, document.name, question, reply, time.perf_counter() - start))
        if number % 10 == 0 or number == len(documents):
            progress(f"asked {number}/{len(documents)} documents")
    return outcomes


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def summary_rows(outcomes: list[Outcome], documents: list[Document]) -> list[str]:
    """One markdown row per dataset, then one per SROIE field (aggregates only)."""
    rows = ["| set | documents | answerable | right | unanswerable | invented | skipped | median s/question |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for dataset in DATASETS:
        group = [o for o in outcomes if o.dataset == dataset]
        in_set = [d for d in documents if d.dataset == dataset]
        if not group:
            continue
        rows.append(_row(dataset, group, str(len(in_set)), str(sum(d.skipped for d in in_set))))
        if dataset == "sroie":
            rows += [_row(f"sroie {field}", [o for o in group if o.question.kind == field], "", "")
                     for field in SROIE_PHRASINGS]  # fmt: skip
    return rows


def _row(name: str, group: list[Outcome], documents: str, skipped: str) -> str:
    answerable = [o for o in group if o.question.gold is not None]
    refusable = [o for o in group if o.question.gold is None]
    right, invented = sum(o.right for o in answerable), sum(o.invented for o in refusable)
    latency = f"{statistics.median(o.latency_s for o in group):.2f}" if group else "—"
    invented_cell = f"**{_percent(invented, len(refusable))}** ({invented})" if refusable else ""
    return (f"| {name} | {documents} | {len(answerable)} | **{_percent(right, len(answerable))}** ({right}) "
            f"| {len(refusable) or ''} | {invented_cell} | {skipped} | {latency} |")  # fmt: skip


def misses(outcomes: list[Outcome]) -> list[str]:
    wrong = [o for o in outcomes if (o.question.gold is not None and not o.right) or o.invented]
    lines = [f"{len(wrong)} wrong or invented ({min(len(wrong), MISSES_SHOWN)} shown):"]
    for o in wrong[:MISSES_SHOWN]:
        gold = " | ".join(o.question.gold) if o.question.gold else "(unanswerable)"
        where = f"{o.dataset}/{o.document} [{o.question.kind}]"
        lines.append(f"- {where} {o.question.text!r}: gold {gold!r}, reply {o.reply!r}")
    return lines


def revision() -> str:
    """The commit `runtime/` was run from, and whether it had uncommitted changes."""
    def git(*command: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *command], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    changed = git("status", "--porcelain", "--untracked-files=normal", "--", "runtime")
    return f"commit {commit}" + (" with uncommitted changes" if changed else " (clean)")


def header(args: argparse.Namespace, model, documents: list[Document], loaded_from: str) -> list[str]:
    hardware = detect_hardware()
    precision = "+".join(sorted({component.precision for component in model.components}))
    command = " ".join(shlex.quote(arg) for arg in [".venv/bin/python", "bench/realdocs.py", *sys.argv[1:]])
    return [
        f"# Real documents ({args.split} split): {model.name} {model.version}, precision {args.precision} "
        f"→ {precision}", "",
        f"`{command}`", "",
        "- data: SROIE 2019 receipts (re-drawn from their boxes) and FUNSD training forms (scans); "
        f"{args.split} split of split.json, {len(documents)} documents"
        + (f" ({args.limit} per dataset, fixed-seed sample)" if args.limit else ""),
        f"- bundle: {args.bundle}; runtime: {loaded_from}",
        "- components: " + ", ".join(f"{c.name} {c.precision} on {c.provider}" for c in model.components),
        f"- CPU: {hardware.cpu_model}; {hardware.usable_cores} usable cores; flags {', '.join(sorted(hardware.isa))}; "
        f"int8 kernels: {hardware.int8_kernels}",
        "- right: every gold part in the reply after lowercasing and removing whitespace and edge punctuation, "
        "and the reply at most 2 × gold + 10 characters; invented: any reply but "
        f"{NOT_FOUND!r} or {CANT_TELL!r} to an unanswerable question; skipped: candidate questions left out "
        "(SROIE field not shown on the page, FUNSD key with several answers or an answer over six words or a tick mark)",
    ]  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with sroie/, funsd/ and split.json")
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--precision", default="auto", help="auto, fp32 or int8")
    parser.add_argument("--split", choices=("dev", "report"), default="dev")
    parser.add_argument("--dataset", choices=DATASETS, action="append", help="repeatable; default both")
    parser.add_argument("--limit", type=int, default=None, help="N documents of each dataset (fixed-seed sample)")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # The code measured is the code loaded now: the tree may change during a run of minutes.
    loaded_from = revision()
    documents = load_documents(args.data, args.split, tuple(args.dataset or DATASETS), args.limit)
    model = load_model(args.bundle, precision=args.precision)
    outcomes = ask_all(model, documents, progress)
    text = "\n".join(header(args, model, documents, loaded_from) + [""] + summary_rows(outcomes, documents)) + "\n"
    print(text)
    if args.split == "dev":
        print("\n".join(misses(outcomes)))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
