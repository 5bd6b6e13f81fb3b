"""The default `reader` bundle on real weights (issue 3): document VQA on the generated set,
reading order, ranking, evidence, and the no-text replies.

On the set widened by issue 10 (12 font families, side-by-side blocks, row-label tables,
qty/tax-code receipts, US/UK/EU formats, non-ASCII names) with seed 0 phrased from the
reported pool, which shares no phrasing with development seeds 1–2 (test_docvqa_phrasings.py),
the reader of the working tree at commit 16e5277 (runtime/reader/ mid-rework), fp32, through
`_answerer.answer` as below: seed 0 exact match 96/259 = 37.1%, invented 6/71 = 8.5%;
development seed 1: 212/258 = 82.2%, 3/72 = 4.2%. Through `model.ask` (with its intent
router): seed 0 92/259 = 35.5%, 13/71 = 18.3%; seed 1 203/258 = 78.7%, 4/72 = 5.6%. The
reader mirrored the old generator's phrasings and formats; the issue's target stands.
"""

from __future__ import annotations

import difflib
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from docvqa import Document, make_documents, normalize_answer, score  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.reader import intents  # noqa: E402
from runtime.ocr.grid import group_regions  # noqa: E402

pytestmark = pytest.mark.slow

SEED, COUNT = 0, 60
# Issue 10's target is >= 0.90 right and <= 0.03 invented on this set. Measured on the widened
# set with the current reader (fp32; int8 not measured): 0.371 and 0.085 (see the docstring).
# These floors only stop it getting worse; the reader rework (issue 10) is to raise them.
EXACT_MATCH_FLOOR = 0.33
INVENTED_CEILING = 0.12
NOT_FOUND = "Not found in the image."


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return make_documents(seed=SEED, count=COUNT)


def _int8_holds(reader_bundle, int8_kernels) -> bool:
    """Whether every int8 variant of the bundle declares this CPU's int8 kernels."""
    from runtime.bundle import read_manifest

    variants = [v for c in read_manifest(reader_bundle).components.values() for v in c.variants]
    return all(int8_kernels in v.accurate_on for v in variants if v.precision == "int8")


@pytest.fixture(scope="module")
def models(reader_bundle, int8_kernels):
    loaded = {"fp32": load_model(reader_bundle, precision="fp32")}
    if _int8_holds(reader_bundle, int8_kernels):
        loaded["int8"] = load_model(reader_bundle, precision="int8")
    return loaded


def _model(models, precision, int8_kernels):
    if precision not in models:
        pytest.skip(f"--precision {precision} is refused with {int8_kernels} int8 kernels (see the next test)")
    return models[precision]


def test_int8_loads_exactly_where_its_contract_holds(reader_bundle, int8_kernels):
    from runtime.errors import ProviderUnavailableError

    if _int8_holds(reader_bundle, int8_kernels):
        assert {c.precision for c in load_model(reader_bundle, precision="int8").components} == {"fp32", "int8"}
    else:
        with pytest.raises(ProviderUnavailableError, match=f"this CPU runs {int8_kernels} ones"):
            load_model(reader_bundle, precision="int8")


@pytest.fixture(scope="module")
def read_regions(models, documents):
    """OCR once per session (the slow part); both precisions share the OCR models. The
    answerer reads regions (detected boxes, not merged into lines), as `model.ask` does."""
    return [models["fp32"]._adapter._regions(document.image) for document in documents]


_BASE_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "æ": "ae", "œ": "oe"})


def _squash(text: str) -> str:
    """Whitespace, € and £ removed; letters folded to their base letter, as the recogniser
    reads them (it has no "ø" or "ł" and often drops accents: "Zürich" → "Zirich" is still
    a miss, "København" → "Kobenhavn" is not)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).translate(_BASE_LETTERS))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s€£]", "", plain).lower()


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_docvqa_exact_match_and_invented_rate(models, documents, read_regions, precision, int8_kernels):
    answerer = _model(models, precision, int8_kernels)._adapter._answerer
    replies = [[answerer.answer(q.text, regions).text for q in d.questions]
               for d, regions in zip(documents, read_regions)]
    report = score(replies, documents)
    misses = "\n".join(f"{m.document}: {m.question!r} expected {m.expected!r}, got {m.reply!r}" for m in report.misses)
    assert report.exact_match >= EXACT_MATCH_FLOOR, misses
    assert report.invented_rate <= INVENTED_CEILING, misses


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_ask_through_the_public_path_matches_the_answerer(models, documents, read_regions, precision, int8_kernels):
    # model.ask first routes the request (runtime/reader/intents.py); a field question the
    # router keeps as a question gets exactly the answerer's reply. The router may send a few
    # field questions elsewhere (read / describe): at most one in ten of these here.
    model = _model(models, precision, int8_kernels)
    router, routed_away, asked = model._adapter._router, [], 0
    for document, regions in list(zip(documents, read_regions))[:5]:  # one document of each kind
        for question in document.questions:
            asked += 1
            if router.classify(question.text).name != intents.QUESTION:
                routed_away.append(question.text)
                continue
            reply = model.ask(document.image, question.text)
            assert reply.text == model._adapter._answerer.answer(question.text, regions).text
    # Measured 3 of 29 on seed 0's first five documents (its phrasings were never used to
    # tune the router); the goal is none. This bound only stops regressions.
    assert len(routed_away) <= 3, routed_away


def test_vqa_answers_carry_their_evidence_line(models, documents):
    # Right or wrong (the floors above judge that), an answer shows the line it came from and
    # "not found" shows none.
    model = models["fp32"]
    for document in documents[:5]:
        for question in document.questions:
            if model._adapter._router.classify(question.text).name != intents.QUESTION:
                continue  # read / describe / yes-no replies carry their own evidence (test_reader_requests.py)
            reply = model.ask(document.image, question.text)
            if reply.text == NOT_FOUND:
                assert reply.evidence == (), (document.name, question)
                continue
            assert len(reply.evidence) == 1, (document.name, question, reply.text)
            line = reply.evidence[0]
            assert normalize_answer(reply.text) in normalize_answer(line.text)
            assert len(line.box) == 4 and all(len(point) == 2 for point in line.box)


def _pages(documents, one_column: bool, count: int) -> list[int]:
    """The first `count` pages drawn in one column (every line one cell), or with several."""
    found = [i for i, d in enumerate(documents) if all(n == 1 for n in d.cells_per_line) == one_column]
    return found[:count]


@pytest.mark.parametrize("position", range(3))  # one-column pages: reading order is the drawn order
def test_read_returns_the_drawn_lines_in_order(models, documents, position):
    index = _pages(documents, one_column=True, count=3)[position]
    lines = models["fp32"].read(documents[index].image).lines
    _assert_same_rows([_squash(line.text) for line in lines], [_squash(text) for text in documents[index].lines])


@pytest.mark.parametrize("position", range(8))  # pages with columns and side-by-side blocks
def test_regions_regroup_into_the_drawn_rows(read_regions, documents, position):
    index = _pages(documents, one_column=False, count=8)[position]
    regions = read_regions[index]
    rows = ["".join(_squash(regions[i].text) for i in row) for row in group_regions([r.box for r in regions]).rows]
    _assert_same_rows(rows, [_squash(text) for text in documents[index].lines])


def _assert_same_rows(read: list[str], drawn: list[str]) -> None:
    """Same rows in the same order. The text of a row may differ by a recognition slip
    ("Zürich" read "Zirich", a dropped "Tax"): each read row must be nearest to the drawn row
    at its position, and close to it."""
    assert len(read) == len(drawn), (read, drawn)
    for position, row in enumerate(read):
        ratios = [difflib.SequenceMatcher(None, row, other).ratio() for other in drawn]
        assert ratios.index(max(ratios)) == position and ratios[position] >= 0.75, (position, row, drawn[position])


def test_rank_puts_the_document_a_query_describes_first(models, documents):
    model = models["fp32"]
    chosen = documents[5:10]  # receipt, invoice, form, letter, table
    images = [document.image for document in chosen]
    for position, document in enumerate(chosen):
        middle = len(document.lines) // 2  # items, an address block, form fields, a letter's opening
        query = " ".join(document.lines[middle - 2 : middle + 3])
        assert model.rank_images(query, images).order[0] == position, query


def test_caption_and_generate_write_text(models, documents):
    model = models["fp32"]
    caption = model.caption(documents[0].image, max_new_tokens=40).text.strip()
    assert caption and "\n" not in caption
    generated = model.generate(documents[0].image, "Which shop is this receipt from?", max_new_tokens=16)
    assert generated.text.strip() and generated.usage.completion_tokens > 0


def test_an_image_without_text_is_answered_honestly(models):
    blank = Image.new("RGB", (480, 320), (255, 255, 255))
    for model in models.values():
        assert model.caption(blank).text == "No text was found in the image."
        assert model.ask(blank, "What is the total?").text == "No text was found in the image."
