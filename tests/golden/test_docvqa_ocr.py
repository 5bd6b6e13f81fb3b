"""The generated document-VQA set (issue 3): its shape, its determinism, its scoring rules, and
whether our OCR can see the answers at all — the set should test question answering, not
defeat the OCR.

Measured on the set widened by issue 10, seed 0, 60 documents: the text of the reader's OCR
regions holds 252 of 259 answers (seed 1: 254/258). Before the widening it was 260/262, the
misses the letter O read as the digit 0 ("0slo"). The recogniser's full-width brackets and
commas ("（527）", "July 21， 2023") are folded by `normalize_answer`'s NFKC step. "€", "£",
"ø", "ł" and "ß" are not in its alphabet: it drops them or reads "£" as "f" ("f74.49", which
still contains "74.49") and "ß" as "f" ("Weif" for "Weiß", a miss).
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from docvqa import (  # noqa: E402
    KINDS, QTYPES, Document, Question, is_not_found, make_documents, missing_answers, normalize_answer, score,
)  # fmt: skip
from docvqa_page import FONT_FAMILIES, font_note  # noqa: E402

from runtime import load_model  # noqa: E402

SEED, COUNT = 0, 60
OCR_COVERAGE_FLOOR = 0.95  # measured 252/259 = 0.973 on the widened set (see the module docstring)


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return make_documents(seed=SEED, count=COUNT)


def _png(document: Document) -> bytes:
    buffer = io.BytesIO()
    document.image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_same_seed_gives_identical_documents(documents):
    again = make_documents(seed=SEED, count=8)
    for first, second in zip(documents, again):
        assert _png(first) == _png(second)
        assert (first.kind, first.lines, first.questions) == (second.kind, second.lines, second.questions)
    other = make_documents(seed=SEED + 1, count=8)
    assert [d.lines for d in other] != [d.lines for d in again]


def test_set_shape(documents):
    assert len(documents) >= 50
    assert {d.kind for d in documents} == set(KINDS)
    questions = [q for d in documents for q in d.questions]
    assert all(len(d.questions) >= 4 for d in documents)
    unanswerable = sum(q.answer is None for q in questions) / len(questions)
    assert 0.15 <= unanswerable <= 0.3, unanswerable
    assert all(d.questions and sum(q.answer is None for q in d.questions) >= 1 for d in documents)
    assert {q.qtype for q in questions} == set(QTYPES)
    for document in documents:
        texts = [q.text for q in document.questions]
        assert len(texts) == len(set(texts)), document.name


def test_pages_are_drawn_in_the_installed_font_families(documents):
    print(font_note())  # with only DejaVu installed the set is narrower; .ci/run installs the rest
    used = {d.font for d in documents}
    assert used <= set(FONT_FAMILIES)
    assert len(used) >= min(len(FONT_FAMILIES), 5), (used, font_note())


def test_set_has_the_widened_layouts_and_formats(documents):
    lines = [line for d in documents for line in d.lines]
    answers = [q.answer for d in documents for q in d.questions if q.answer]

    def some(pattern: str, texts: list[str]) -> bool:
        return any(re.search(pattern, text) for text in texts)

    assert some(r"^Bill to: Ship to:$", lines) and some(r"^Applicant Emergency contact$", lines)  # side by side
    assert some(r"^Qty Item Amount Tax$", lines) and some(r"^\d+ .+ [\d.,]+ [AB]$", lines)  # quantity, tax code
    assert some(r"^(Q1 Q2 Q3|Jan Feb|2021 2022|Week 1 Week 2)", lines)  # a header row over row labels
    assert some(r"\d\.\d{3},\d{2}", answers) and some(r"\d,\d{3}\.\d{2}", answers)  # 1.234,56 and 1,234.56
    assert some(r"^\d{2}\.\d{2}\.\d{4}$", answers) and some(r"^\d{2}/\d{2}/\d{2}$", answers)  # 14.02.2018, 02/14/18
    assert all(some(mark, lines) for mark in ("€", "\\$", "£", "CHF", "USD", "EUR", "GBP"))
    assert sum(not a.isascii() for a in answers) >= 10  # Müller, Łukasz, Søren ... are asked for


def test_answers_are_spans_of_one_drawn_line(documents):
    # A reader that retrieves one line and cuts the answer out of it can get every answer.
    for document in documents:
        lines = [normalize_answer(line) for line in document.lines]
        for question in document.questions:
            if question.answer is not None:
                answer = normalize_answer(question.answer)
                assert answer and any(answer in line for line in lines), (document.name, question)


def test_text_is_big_enough_for_the_detector(documents):
    for document in documents:
        width, height = document.image.size
        assert 600 <= width <= 1100 and height <= 1400, (document.name, document.image.size)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("$ 42.50", "42.50"), ("42.50 USD", "42.50"), ("€42.50", "42.50"), ("EUR 42.50.", "42.50"),
        ("£1,234.50", "1234.50"), ("1,234.50 GBP", "1234.50"), ("March 15, 2024", "march15,2024"),
        ("Tel:（527） 718-0858", "tel:(527)718-0858"), ("Europe", "europe"), ("Software Inc.", "softwareinc"),
        ("  INV-20417 ", "inv-20417"), ("1.234,56 €", "1.234,56"), ("CHF 5.616,79", "5.616,79"),
        ("€ 12,50", "12,50"), ("Łukasz Wójcik", "lukaszwojcik"), ("Søren Müller", "sorenmuller"),
    ],
)  # fmt: skip
def test_normalize_answer(reply, expected):
    assert normalize_answer(reply) == expected


def test_not_found_replies():
    assert is_not_found("Not found in the image.")
    assert is_not_found("not found in the image: no due date is shown")
    assert not is_not_found("42.50 EUR")
    assert not is_not_found("Found it: 42.50")
    assert is_not_found("I can't tell from the text.")  # a choice the page does not make: no value invented
    assert not is_not_found("Cash")


def test_score_counts_exact_matches_and_invented_answers():
    docs = [
        Document("receipt", None, ["TOTAL $ 42.50"], [Question("Total?", "$ 42.50", "amount"),
                 Question("Due date?", None, "date")], "receipt-000"),
        Document("letter", None, ["Dear Laura Chen,"], [Question("Recipient?", "Laura Chen", "name"),
                 Question("Phone?", None, "contact")], "letter-001"),
    ]  # fmt: skip
    perfect = score([["42.50 USD", "Not found in the image."], ["laura chen", "Not found in the image."]], docs)
    assert (perfect.exact_match, perfect.invented_rate, perfect.misses) == (1.0, 0.0, ())
    shy = score([["Not found in the image."] * 2] * 2, docs)
    assert (shy.exact_match, shy.invented_rate) == (0.0, 0.0)
    wrong = score([["42.05", "2024-03-15"], ["Laura Chen", "Not found in the image."]], docs)
    assert (wrong.exact_match, wrong.invented_rate) == (0.5, 0.5)
    assert wrong.by_kind["receipt"].correct == 0 and wrong.by_kind["letter"].correct == 1
    assert wrong.by_qtype["date"].invented == 1
    assert [miss.document for miss in wrong.misses] == ["receipt-000", "receipt-000"]
    with pytest.raises(ValueError, match="replies"):
        score([["42.50"], ["x", "y"]], docs)


@pytest.mark.slow
def test_ocr_sees_the_answers(ocr_bundle, documents):
    model = load_model(ocr_bundle, threads=2)
    found = total = 0
    missed = []
    for document in documents:
        text = model.read(document.image).text
        answerable = [q for q in document.questions if q.answer is not None]
        lost = missing_answers(document, text)
        total += len(answerable)
        found += len(answerable) - len(lost)
        missed += [f"{document.name}: {q.answer!r} not in {text!r}" for q in lost]
    coverage = found / total
    print(f"OCR coverage {found}/{total} = {coverage:.3f}", *missed, sep="\n")
    assert coverage >= OCR_COVERAGE_FLOOR, "\n".join(missed)
