"""The question phrasings of the generated set (issue 10): the reported seed shares none with
the development seeds, and none is written into `runtime/` (rules there must not mirror the
generator, STYLE.md "accuracy")."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from docvqa import make_documents  # noqa: E402
from docvqa_paraphrases import PARAPHRASES  # noqa: E402
from docvqa_paraphrases_casual import CASUAL  # noqa: E402
from docvqa_paraphrases_fresh import FRESH  # noqa: E402
from docvqa_paraphrases_oblique import OBLIQUE  # noqa: E402
from docvqa_paraphrases_second import SECOND  # noqa: E402
from docvqa_paraphrases_terse import TERSE  # noqa: E402
from docvqa_paraphrases_wide import WIDE  # noqa: E402
from docvqa_paraphrases_wordy import WORDY  # noqa: E402
from docvqa_questions import PHRASINGS, REPORTED_SEEDS, canonical, phrasings_for  # noqa: E402

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
REPORTED_SEED, DEVELOPMENT_SEEDS, COUNT = 0, (1, 2), 60
MIN_LITERAL_WORDS = 3  # "Total?" or "Total due?" alone are ordinary words, not a template
SLOT = r"(?:[^ ]+ ){0,3}[^ ]+"  # what a slot may stand for: one to four words (or a regex group)


def _all_templates() -> set[str]:
    """Both pools of the generator and the paraphrase pools of bench/reader_dev.py."""
    generated = {template for pools in PHRASINGS.values() for pool in pools for template in pool}
    return generated | {template for pools in (PARAPHRASES, FRESH, WIDE, OBLIQUE, CASUAL, WORDY, TERSE, SECOND) for pool in pools.values() for template in pool}


def _pattern(template: str) -> re.Pattern[str] | None:
    """A regex finding the template in canonical text, any words in its slots; None for a
    template with fewer than MIN_LITERAL_WORDS words of its own."""
    form = canonical(template)
    if len(form.replace("{}", " ").split()) < MIN_LITERAL_WORDS:
        return None
    body = " ".join(SLOT if token == "{}" else re.escape(token) for token in form.split())
    return re.compile(rf"(?<![\w-]){body}(?![\w-])")


def templates_found_in(folder: Path) -> list[str]:
    """'file: template' for every generator template whose text occurs in a file under
    `folder` (compared in canonical form: case, punctuation and line breaks do not hide it)."""
    patterns = {template: _pattern(template) for template in sorted(_all_templates())}
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        raw = path.read_bytes()
        if b"\0" in raw:  # a binary file (an image, a model) holds no phrasing
            continue
        text = canonical(raw.decode("utf-8", errors="replace"))
        found += [f"{path.relative_to(folder)}: {t!r}" for t, p in patterns.items() if p and p.search(text)]
    return found


def test_the_two_pools_share_no_phrasing():
    development = {canonical(t) for pools in PHRASINGS.values() for t in pools[0]}
    reported = {canonical(t) for pools in PHRASINGS.values() for t in pools[1]}
    assert development and reported
    assert not development & reported


def test_the_paraphrase_pool_shares_no_phrasing_with_the_generator_and_names_its_fields():
    paraphrases = {canonical(t) for pool in PARAPHRASES.values() for t in pool}
    generated = {canonical(t) for pools in PHRASINGS.values() for pool in pools for t in pool}
    assert paraphrases and not paraphrases & generated
    assert set(PARAPHRASES) <= set(PHRASINGS)
    # The fourth pool: apart from the generator's and the third's (counted, not listed: the
    # reported seed's phrasings are not to be read).
    fresh = {canonical(t) for pool in FRESH.values() for t in pool}
    shared = len(fresh & generated) + len(fresh & paraphrases)  # a count: no set in the failure message
    assert fresh and shared == 0, f"{shared} phrasings of the fourth pool occur in another pool"
    assert set(FRESH) <= set(PHRASINGS)
    # The fifth (tuned on, every development field): apart from all the others.
    wide = {canonical(t) for pool in WIDE.values() for t in pool}
    shared = len(wide & generated) + len(wide & paraphrases) + len(wide & fresh)
    assert wide and shared == 0, f"{shared} phrasings of the fifth pool occur in another pool"
    assert set(WIDE) <= set(PHRASINGS)
    # The sixth (oblique voice, tuned on from its first run): apart from all the others.
    oblique = {canonical(t) for pool in OBLIQUE.values() for t in pool}
    shared = len(oblique & generated) + len(oblique & paraphrases) + len(oblique & fresh) + len(oblique & wide)
    assert oblique and shared == 0, f"{shared} phrasings of the sixth pool occur in another pool"
    assert set(OBLIQUE) <= set(PHRASINGS)
    # The seventh (casual voice, people and ids of letters and forms): apart from all the others.
    casual = {canonical(t) for pool in CASUAL.values() for t in pool}
    shared = sum(len(casual & other) for other in (generated, paraphrases, fresh, wide, oblique))
    assert casual and shared == 0, f"{shared} phrasings of the seventh pool occur in another pool"
    assert set(CASUAL) <= set(PHRASINGS)
    # The eighth (requests wrapped in the asker's situation, commands, clumsy English): apart too.
    wordy = {canonical(t) for pool in WORDY.values() for t in pool}
    shared = sum(len(wordy & other) for other in (generated, paraphrases, fresh, wide, oblique, casual))
    assert wordy and shared == 0, f"{shared} phrasings of the eighth pool occur in another pool"
    assert set(WORDY) <= set(PHRASINGS)
    # The ninth (terse: fragments, abbreviations, trade jargon): apart from all the others.
    terse = {canonical(t) for pool in TERSE.values() for t in pool}
    shared = sum(len(terse & other) for other in (generated, paraphrases, fresh, wide, oblique, casual, wordy))
    assert terse and shared == 0, f"{shared} phrasings of the ninth pool occur in another pool"
    assert set(TERSE) <= set(PHRASINGS)
    # The tenth (second-language English and typing slips): apart from all the others.
    second = {canonical(t) for pool in SECOND.values() for t in pool}
    shared = sum(len(second & other) for other in (generated, paraphrases, fresh, wide, oblique, casual, wordy, terse))
    assert second and shared == 0, f"{shared} phrasings of the tenth pool occur in another pool"
    assert set(SECOND) <= set(PHRASINGS)
    slotted = [t for pool in SECOND.values() for t in pool if "{" in t]
    assert slotted and all(t.format(item="x", code="x", row="x", column="x") for t in slotted)


def test_the_reported_seed_asks_in_phrasings_no_development_seed_uses():
    assert REPORTED_SEED in REPORTED_SEEDS and not set(DEVELOPMENT_SEEDS) & REPORTED_SEEDS
    reported_pool = {canonical(t) for pool in phrasings_for(REPORTED_SEED).values() for t in pool}
    used = {}
    for seed in (REPORTED_SEED, *DEVELOPMENT_SEEDS):
        questions = [q for d in make_documents(seed=seed, count=COUNT) for q in d.questions]
        assert all(q.template for q in questions)
        used[seed] = ({canonical(q.template) for q in questions}, {canonical(q.text) for q in questions})
    reported_templates, reported_texts = used[REPORTED_SEED]
    assert reported_templates <= reported_pool
    assert len(reported_templates) >= 60, len(reported_templates)  # the pool is really drawn from
    for seed in DEVELOPMENT_SEEDS:
        templates, texts = used[seed]
        assert not templates & reported_templates, sorted(templates & reported_templates)
        assert not texts & reported_texts, sorted(texts & reported_texts)


def test_no_question_template_occurs_in_runtime():
    assert RUNTIME.is_dir()
    assert templates_found_in(RUNTIME) == []


def test_most_templates_are_long_enough_to_be_checked():
    templates = {template for pools in PHRASINGS.values() for pool in pools for template in pool}  # the terse paraphrases aside
    checked = [t for t in templates if _pattern(t) is not None]
    assert len(checked) >= 0.95 * len(templates), sorted(templates - set(checked))


@pytest.mark.parametrize(
    "pasted",
    [
        '_ASKS_TOTAL = "Give me the grand total printed here"\n',  # a reported phrasing, verbatim
        "# what is the  Total AMOUNT due?\n",  # a development one, other case and spacing
        'PATTERN = re.compile(r"how much did the (\\w+) cost")\n',  # slots as a regex group
        'hint = ("In the {column} column, "\n        "what figure does {row} have?")\n',  # split over lines
    ],
)
def test_a_template_pasted_into_runtime_is_found(tmp_path, pasted):
    (tmp_path / "reader").mkdir()
    (tmp_path / "reader" / "rules.py").write_text(f'"""Rules."""\n{pasted}', encoding="utf-8")
    (tmp_path / "model.onnx").write_bytes(b"\0\1 give me the grand total printed here")  # binary: skipped
    assert len(templates_found_in(tmp_path)) >= 1
    assert all(hit.startswith("reader/rules.py: ") for hit in templates_found_in(tmp_path))


def test_general_question_words_are_not_mistaken_for_templates(tmp_path):
    # What the issue allows runtime/ to know: general cues of English questions.
    (tmp_path / "cues.py").write_text(
        'CUES = {"how many": "count", "when": "date", "is there": "yes/no", "total": "amount"}\n'
        '"""Answer the question from the text: what is asked, then which key matches it."""\n',
        encoding="utf-8",
    )
    assert templates_found_in(tmp_path) == []
