"""A generated document-VQA set (issues 3 and 10): receipts, invoices, forms, letters and tables
drawn by the tests themselves, with questions, some of which the document cannot answer.

    docs = make_documents(seed=0, count=60)
    replies = [[model.ask(d.image, q.text).text for q in d.questions] for d in docs]
    report = score(replies, docs)  # report.exact_match, report.invented_rate, report.by_kind

Answers are spans of the drawn text (a reader that retrieves an OCR line and cuts the answer
out of it can get every one). A question whose `answer` is None asks for something the
document does not show; the expected reply then starts with "Not found in the image".

Pages vary in what a reader has to cope with: every installed font family of
`docvqa_page.FONT_CANDIDATES`; side-by-side blocks (billing and delivery addresses, a letter's
sender beside its addressee, a form's emergency contact beside the applicant); tables with a
header row and row labels; receipts with quantity and tax-code columns; US, British and
European dates and money (02/14/18, 14.02.2018, 1,234.56 USD, 1.234,56 €, CHF); names with
non-ASCII letters (Łukasz Wójcik, Søren Østergaard). Questions are phrased from the pools of
`docvqa_questions.py`: seed 0, the reported seed, shares no phrasing with the others.
Everything is drawn from `random.Random(f"{seed}-{index}")`, so one document does not depend
on how many come before it, and the same seed gives byte-identical PNGs on one machine.
"""

from __future__ import annotations

import datetime
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from docvqa_fake import (
    CITY_NAMES, JOB_TITLES, LETTER_SUBJECTS, MATRICES, OCCUPATIONS, PAYMENT_METHODS, RELATIONS, SERVICES,
    SHOP_ITEMS, STOCK_ITEMS, Fake, Writing, fold_letters,
)  # fmt: skip
from docvqa_page import FONT_FAMILIES, PageStyle, Row, center, left, render_page, right, row, row_text
from docvqa_questions import phrasings_for
from PIL import Image

KINDS = ("receipt", "invoice", "form", "letter", "table")
QTYPES = ("amount", "date", "name", "organization", "id", "contact", "quantity", "text")  # "date" includes times
INKS = ((0, 0, 0), (32, 32, 32), (20, 30, 80), (60, 40, 20))
PAPERS = ((255, 255, 255), (250, 250, 244), (244, 247, 252), (252, 248, 236))
UNANSWERABLE_EXTRA_P = 0.2  # chance of a second unanswerable question on a document


@dataclass(frozen=True)
class Question:
    text: str
    answer: str | None  # None: the document cannot answer; the reply should be "not found"
    qtype: str  # one of QTYPES: what kind of value is asked for
    template: str = field(default="", compare=False, repr=False)  # the phrasing it was drawn from


@dataclass(frozen=True)
class Document:
    kind: str
    image: Image.Image = field(repr=False)
    lines: list[str]  # the text drawn, row by row, cells of a row left to right
    questions: list[Question]
    name: str = ""  # e.g. "invoice-001", for reports
    font: str = ""  # the font family it is drawn in, a key of docvqa_page.FONT_FAMILIES
    cells_per_line: tuple[int, ...] = ()  # per line of `lines`: how many cells it was drawn as


# --- comparing answers --------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d),\s*(?=\d{3}(?!\d))")
_EDGE_JUNK = re.compile(
    r"^(?:[$€£.,;:!?'\"]|(?:usd|eur|gbp|chf)(?=[\d$€£.]))+|(?:[$€£.,;:!?'\"]|(?<=\d)(?:usd|eur|gbp|chf))+$"
)
# "Not found in the image.", and for a choice or yes/no question "I can't tell from the text.":
# either says the page does not answer, and neither invents a value.
_CANT_TELL = re.compile(r"\bcan(?:'|’|no)t\s+tell\b", re.IGNORECASE)
_NOT_FOUND = re.compile(r"\bnot\s+found\b|" + _CANT_TELL.pattern, re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """The form answers are compared in, so formatting differences do not count as errors.

    Unicode NFKC (so the recogniser's full-width "（" and "，" read as "(" and ","); letters
    folded to their base letter ("Łukasz Søren" == "Lukasz Soren": the recogniser's alphabet
    has "ü" and "é" but no "ł", "ø" or "ß", so a reader could not copy them); lowercase;
    drop thousands separators (a comma between digits followed by exactly three digits);
    remove all whitespace (PP-OCR's recogniser drops spaces in English, FACTS.md);
    then strip from both ends, repeatedly, currency symbols ($ € £), currency codes (USD,
    EUR, GBP, CHF — only next to a number, so "Europe" keeps its "eur") and punctuation
    (. , ; : ! ? and quotes). So "$ 42.50" == "42.50 USD" == "€42.50" == "42.50", and
    "1,234.50 EUR" == "1234.50"; "Inc." == "Inc". Interior characters are kept, so the
    European "1.234,50 €" is "1.234,50", not "1234.50".
    """
    # Thousands separators go before the spaces, so that in "1.234,56 8.532,49" (two cells)
    # the ",56" is not taken for one.
    squashed = "".join(_THOUSANDS.sub("", fold_letters(unicodedata.normalize("NFKC", text)).lower()).split())
    previous = None
    while previous != squashed:
        previous, squashed = squashed, _EDGE_JUNK.sub("", squashed)
    return squashed


def is_not_found(reply: str) -> bool:
    """True for a reply saying the answer is not in the image ("Not found in the image…",
    any "not found", case-insensitive; "I can't tell from the text.")."""
    return bool(_NOT_FOUND.search(reply))


def is_correct(reply: str, question: Question) -> bool:
    if question.answer is None:
        return is_not_found(reply)
    return not is_not_found(reply) and normalize_answer(reply) == normalize_answer(question.answer)


def missing_answers(document: Document, text: str) -> list[Question]:
    """Answerable questions whose normalized answer is not inside normalized `text` (e.g. the
    document's OCR output): what a reader working from that text could not get right."""
    haystack = normalize_answer(text.replace("\n", " "))
    return [q for q in document.questions if q.answer is not None and normalize_answer(q.answer) not in haystack]


# --- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    answerable: int = 0
    correct: int = 0
    unanswerable: int = 0
    invented: int = 0  # replies other than "not found" to unanswerable questions
    cant_tell: int = 0  # of the replies to unanswerable questions, those saying "I can't tell" (not invented)

    @property
    def exact_match(self) -> float:
        return self.correct / self.answerable if self.answerable else float("nan")

    @property
    def invented_rate(self) -> float:
        return self.invented / self.unanswerable if self.unanswerable else float("nan")

    def add(self, question: Question, reply: str) -> Tally:
        if question.answer is None:
            return Tally(self.answerable, self.correct, self.unanswerable + 1, self.invented + (not is_not_found(reply)),
                         self.cant_tell + bool(_CANT_TELL.search(reply)))
        return Tally(self.answerable + 1, self.correct + is_correct(reply, question), self.unanswerable, self.invented,
                     self.cant_tell)


@dataclass(frozen=True)
class Miss:
    document: str
    question: str
    expected: str | None
    reply: str


@dataclass(frozen=True)
class Report:
    overall: Tally
    by_kind: dict[str, Tally]
    by_qtype: dict[str, Tally]
    misses: tuple[Miss, ...]  # wrong answers and invented ones, in document order

    @property
    def exact_match(self) -> float:
        return self.overall.exact_match

    @property
    def invented_rate(self) -> float:
        return self.overall.invented_rate


def score(predictions: Sequence[Sequence[str]], documents: Sequence[Document]) -> Report:
    """Exact match over answerable questions and the invented-answer rate over the others.

    Args:
        predictions: per document, the model's reply text to each of its questions, in order.
        documents: the set the predictions answer.
    Returns:
        A `Report` overall, per document kind and per question type (unanswerable questions
        count under the type of value they ask for).
    """
    if len(predictions) != len(documents):
        raise ValueError(f"{len(predictions)} prediction lists for {len(documents)} documents")
    overall, by_kind, by_qtype, misses = Tally(), {}, {}, []
    for document, replies in zip(documents, predictions):
        if len(replies) != len(document.questions):
            raise ValueError(f"{document.name}: {len(replies)} replies for {len(document.questions)} questions")
        for question, reply in zip(document.questions, replies):
            overall = overall.add(question, reply)
            by_kind[document.kind] = by_kind.get(document.kind, Tally()).add(question, reply)
            by_qtype[question.qtype] = by_qtype.get(question.qtype, Tally()).add(question, reply)
            if not is_correct(reply, question):
                misses.append(Miss(document.name, question.text, question.answer, reply))
    return Report(overall, by_kind, by_qtype, tuple(misses))


# --- the set -----------------------------------------------------------------------------


@dataclass
class _Draft:
    """One document before drawing: its rows and the questions it can and cannot answer."""

    rows: list[Row]
    width_px: int
    rng: random.Random
    phrasings: dict[str, tuple[str, ...]]  # the seed's pool, see docvqa_questions
    answerable: list[Question] = field(default_factory=list)
    unanswerable: list[Question] = field(default_factory=list)

    def ask(self, topic: str, answer: str | None, qtype: str, **slots) -> None:
        """Add a question about `topic` (a key of PHRASINGS) in one of the pool's phrasings
        (answer None: the document cannot answer it)."""
        template = self.rng.choice(self.phrasings[topic])
        question = Question(template.format(**slots), answer, qtype, template)
        (self.answerable if answer is not None else self.unanswerable).append(question)

    def cannot(self, topic: str, qtype: str, **slots) -> None:
        self.ask(topic, None, qtype, **slots)


def make_documents(seed: int = 0, count: int = 60) -> list[Document]:
    """`count` documents, kinds in turn (receipt, invoice, form, letter, table), each with 5–7
    questions of which one or two cannot be answered from the document. Seed 0 phrases its
    questions from the reported pool, every other seed from the development pool."""
    phrasings = phrasings_for(seed)
    documents = []
    for index in range(count):
        rng = random.Random(f"docvqa-{seed}-{index}")
        kind = KINDS[index % len(KINDS)]
        fake = Fake(rng)
        draft = _BUILDERS[kind](fake, fake.writing(), phrasings)
        style = PageStyle(
            width_px=draft.width_px,
            family=rng.choice(sorted(FONT_FAMILIES)),
            font_px=rng.randint(24, 30),
            line_spacing=rng.choice((1.5, 1.6, 1.7, 1.8)),
            margin_px=rng.randint(36, 56),
            ink=rng.choice(INKS),
            paper=rng.choice(PAPERS),
        )
        image = render_page(draft.rows, style)
        lines = [row_text(page_row) for page_row in draft.rows if page_row.cells]
        questions = _pick_questions(rng, draft)
        cells = tuple(len(page_row.cells) for page_row in draft.rows if page_row.cells)
        documents.append(Document(kind, image, lines, questions, f"{kind}-{index:03d}", style.family, cells))
    return documents


def _pick_questions(rng: random.Random, draft: _Draft) -> list[Question]:
    answerable = rng.sample(draft.answerable, min(len(draft.answerable), rng.randint(4, 5)))
    extra = 2 if rng.random() < UNANSWERABLE_EXTRA_P else 1
    unanswerable = rng.sample(draft.unanswerable, min(len(draft.unanswerable), extra))
    questions = answerable + unanswerable
    rng.shuffle(questions)
    return questions


def _with_rule(rows: list[Row]) -> None:
    rows[-1] = Row(rows[-1].cells, True, rows[-1].shade)


def _receipt(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    rng = fake.rng
    vendor, street, city = fake.shop(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.5 else None
    day = writing.date(fake.day())
    time = f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}" if rng.random() < 0.6 else None
    # Itemised receipts print a quantity column and a tax-code letter per line, with the codes'
    # rates in a legend under the total (the European till-slip layout).
    itemised = rng.random() < 0.5
    tax_codes = {"A": rng.choice((19, 20, 21)), "B": rng.choice((7, 9, 10))} if itemised else {}
    items = []
    for name in fake.sample(SHOP_ITEMS, rng.randint(2, 5)):
        quantity = rng.choice((1, 1, 2, 3, 4, 6)) if itemised else 1
        items.append((name, quantity, quantity * fake.cents(1.5, 24), rng.choice(sorted(tax_codes)) if itemised else ""))
    absent_item = rng.choice([name for name in SHOP_ITEMS if name not in {item[0] for item in items}])
    subtotal = sum(item[2] for item in items)
    tax_percent = rng.choice((5, 7, 8, 10, 20))
    if itemised:
        tax = sum(round(cents * tax_codes[code] / 100) for _, _, cents, code in items)
    else:
        tax = round(subtotal * tax_percent / 100)
    total, payment = subtotal + tax, rng.choice(PAYMENT_METHODS)
    cashier = fake.person().split()[0] if rng.random() < 0.4 else None
    price_x = rng.choice((1.0, 1.0, 0.8)) if not itemised else 0.88

    rows = [row(center(vendor, bold=True, scale=1.3)), row(center(street)), row(center(city))]
    if phone:
        rows.append(row(center(f"Tel: {phone}")))
    _with_rule(rows)
    rows.append(row(left(f"Date: {day}"), *([right(time)] if time else [])))
    _with_rule(rows)
    if itemised:
        rows.append(row(left("Qty", bold=True), left("Item", 0.13, bold=True),
                        right("Amount", price_x, bold=True), right("Tax", bold=True)))  # fmt: skip
        rows += [row(left(str(q)), left(name, 0.13), right(writing.figure(cents), price_x), right(code))
                 for name, q, cents, code in items]  # fmt: skip
    else:
        rows += [row(left(name), right(writing.figure(cents), price_x)) for name, _, cents, _ in items]
    _with_rule(rows)
    tax_label = "Tax" if itemised else f"Tax {tax_percent}%"
    rows += [
        row(left("Subtotal"), right(writing.money(subtotal), price_x)),
        row(left(tax_label), right(writing.money(tax), price_x)),
        row(left("TOTAL", bold=True), right(writing.money(total), price_x, bold=True)),
    ]
    if itemised:
        rows += [row(left(code), left(f"VAT {rate}%", 0.13)) for code, rate in tax_codes.items()]
    rows += [row(), row(left(f"Paid by: {payment}"))]
    if cashier:
        rows.append(row(left(f"Cashier: {cashier}")))
    rows.append(row(center("Thank you!")))

    draft = _Draft(rows, rng.randint(640, 760), rng, phrasings)
    draft.ask("receipt.vendor", vendor, "organization")
    draft.ask("receipt.total", writing.money(total), "amount")
    draft.ask("receipt.subtotal", writing.money(subtotal), "amount")
    draft.ask("receipt.tax", writing.money(tax), "amount")
    draft.ask("receipt.date", day, "date")
    draft.ask("receipt.payment", payment, "text")
    name, quantity, cents, code = rng.choice(items)
    draft.ask("receipt.item_price", writing.figure(cents), "amount", item=name)
    if itemised:
        name, quantity, cents, code = rng.choice(items)
        draft.ask("receipt.item_quantity", str(quantity), "quantity", item=name)
        name, quantity, cents, code = rng.choice(items)
        draft.ask("receipt.item_tax_code", code, "id", item=name)
    draft.ask("receipt.street", street, "text")
    draft.ask("receipt.phone", phone, "contact")
    draft.ask("receipt.time", time, "date")
    draft.ask("receipt.cashier", cashier, "name")
    draft.cannot("any.due_date", "date")
    draft.cannot("any.invoice_number", "id")
    draft.cannot("any.tax_id", "id")
    draft.cannot("any.customer_email", "contact")
    draft.cannot("receipt.item_price", "amount", item=absent_item)
    draft.cannot("receipt.item_quantity", "quantity", item=absent_item)
    return draft


def _invoice(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    rng = fake.rng
    vendor, street, city = fake.firm(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.5 else None
    vat_id = fake.code(rng.choice(("DE", "GB", "FR", "NL")), 9) if rng.random() < 0.5 else None
    number = fake.code("INV-", rng.choice((5, 6)))
    issued = fake.day()
    issued_text = writing.date(issued)
    due_text = writing.date(issued + datetime.timedelta(days=rng.choice((14, 30, 45))))
    client, client_street, client_city = fake.person(), fake.street(), fake.city_line()
    # Half the invoices put a delivery address block beside the billing block.
    shipping = (fake.person(), fake.street(), fake.city_line()) if rng.random() < 0.5 else None
    items = []
    for name in fake.sample(SERVICES, rng.randint(2, 4)):
        quantity, unit = rng.randint(1, 12), fake.cents(15, 450)
        items.append((name, quantity, unit, quantity * unit))
    absent_item = rng.choice([name for name in SERVICES if name not in {item[0] for item in items}])
    total = sum(item[3] for item in items)

    header = [
        row(left(vendor, bold=True, scale=1.25), right("INVOICE", bold=True, scale=1.25)),
        row(left(street), right(f"Invoice No: {number}")),
        row(left(city), right(f"{rng.choice(('Date', 'Invoice date'))}: {issued_text}")),
        row(*([left(f"Phone: {phone}")] if phone else []), right(f"Due date: {due_text}")),
    ]
    rows = header + [row()]
    if shipping:
        blocks = zip(("Bill to:", client, client_street, client_city), ("Ship to:", *shipping))
        rows += [row(left(bill, bold=n == 0), left(ship, 0.52, bold=n == 0)) for n, (bill, ship) in enumerate(blocks)]
    else:
        rows += [row(left("Bill to:", bold=True)), row(left(client)), row(left(client_street)), row(left(client_city))]
    rows.append(row())
    rows.append(row(left("Description", bold=True), right("Qty", 0.55, bold=True),
                    right("Unit price", 0.78, bold=True), right("Amount", bold=True), shade=True))  # fmt: skip
    rows += [row(left(name), right(str(q), 0.55), right(writing.figure(u), 0.78), right(writing.figure(a)))
             for name, q, u, a in items]  # fmt: skip
    _with_rule(rows)
    rows.append(row(left("Total due:", 0.45, bold=True), right(writing.money(total), bold=True)))
    if vat_id:
        rows += [row(), row(left(f"VAT ID: {vat_id}"))]

    draft = _Draft(rows, rng.randint(900, 1000), rng, phrasings)
    draft.ask("invoice.number", number, "id")
    draft.ask("invoice.vendor", vendor, "organization")
    draft.ask("invoice.date", issued_text, "date")
    draft.ask("invoice.due_date", due_text, "date")
    draft.ask("invoice.client", client, "name")
    draft.ask("invoice.ship_to", shipping[0] if shipping else None, "name")
    if shipping:
        draft.ask("invoice.ship_street", shipping[1], "text")
    draft.ask("invoice.total", writing.money(total), "amount")
    name, quantity, unit, amount = rng.choice(items)
    draft.ask("invoice.line_amount", writing.figure(amount), "amount", item=name)
    draft.ask("invoice.line_quantity", str(quantity), "quantity", item=name)
    draft.ask("invoice.phone", phone, "contact")
    draft.ask("invoice.vat_id", vat_id, "id")
    draft.cannot("invoice.payment", "text")
    draft.cannot("invoice.po_number", "id")
    draft.cannot("any.customer_email", "contact")
    draft.cannot("invoice.line_amount", "amount", item=absent_item)
    return draft


def _form(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    rng = fake.rng
    name = fake.person()
    values = {
        "Full name": (name, "name", "form.name"),
        "Date of birth": (writing.date(fake.day(1950, 2005)), "date", "form.birth"),
        "Phone": (fake.phone(), "contact", "form.phone"),
        "Email": (fake.email(name), "contact", "form.email"),
        "ID number": (fake.id_number(), "id", "form.id"),
        "City": (rng.choice(CITY_NAMES), "text", "form.city"),
        "Occupation": (rng.choice(OCCUPATIONS), "text", "form.occupation"),
    }
    for optional in fake.sample(("Phone", "Email", "ID number", "City", "Occupation"), rng.randint(1, 2)):
        values[optional] = (None, *values[optional][1:])
    form_number = fake.code("F-", 5) if rng.random() < 0.5 else None
    title = rng.choice(("Registration Form", "Membership Application", "Customer Details", "Patient Intake Form"))
    # Half the forms carry an emergency-contact block beside the applicant's fields.
    contact = (fake.person(), fake.phone(), rng.choice(RELATIONS)) if rng.random() < 0.5 else None

    rows = [row(left(title, bold=True, scale=1.35), *([right(f"Form No: {form_number}")] if form_number else []))]
    _with_rule(rows)
    rows.append(row())
    fields = [(label, value) for label, (value, _, _) in values.items() if value is not None]
    if contact:
        beside = [("Emergency contact", None), ("Name", contact[0]), ("Phone", contact[1]), ("Relationship", contact[2])]
        rows.append(row(left("Applicant", bold=True), left(beside[0][0], 0.55, bold=True)))
        for n in range(max(len(fields), len(beside) - 1)):
            cells = [left(f"{fields[n][0]}: {fields[n][1]}")] if n < len(fields) else []
            if n + 1 < len(beside):
                cells.append(left(f"{beside[n + 1][0]}: {beside[n + 1][1]}", 0.55))
            rows.append(row(*cells))
    else:
        aligned = rng.random() < 0.6
        for label, value in fields:
            rows.append(row(left(f"{label}:"), left(value, 0.4)) if aligned else row(left(f"{label}: {value}")))
    rows += [row(), row(left(f"Signed on {writing.date(fake.day())}"))]

    draft = _Draft(rows, rng.randint(860, 980) if not contact else rng.randint(1000, 1080), rng, phrasings)
    for value, qtype, topic in values.values():
        draft.ask(topic, value, qtype)
    draft.ask("form.contact_name", contact[0] if contact else None, "name")
    if contact:
        draft.ask("form.contact_phone", contact[1], "contact")
        draft.ask("form.contact_relation", contact[2], "text")
    if form_number:
        draft.ask("form.number", form_number, "id")
    draft.cannot("form.nationality", "text")
    draft.cannot("any.total", "amount")
    draft.cannot("any.invoice_number", "id")
    return draft


def _letter(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    rng = fake.rng
    company, street, city = fake.firm(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.4 else None
    reference = fake.code(rng.choice(("REF-", "Ref. ")), 4) if rng.random() < 0.4 else None
    recipient, signer = fake.person(), fake.person()
    title = rng.choice(JOB_TITLES) if rng.random() < 0.6 else None
    day, subject = writing.date(fake.day()), rng.choice(LETTER_SUBJECTS)
    closing = rng.choice(("Sincerely,", "Best regards,", "Kind regards,", "Yours faithfully,"))
    # Side by side: the sender's block on the right, the recipient's window address on the left.
    beside = rng.random() < 0.4
    date_in_header = not beside and rng.random() < 0.5

    sender = [company, street, city] + ([f"Tel: {phone}"] if phone else [])
    addressee = [recipient, fake.street(), fake.city_line()]
    if beside:
        rows = []
        for n in range(max(len(sender), len(addressee))):
            cells = [left(addressee[n])] if n < len(addressee) else []
            cells += [right(sender[n], bold=n == 0)] if n < len(sender) else []
            rows.append(row(*cells))
        rows.append(row())
    else:
        rows = [row(left(company, bold=True, scale=1.2), *([right(day)] if date_in_header else []))]
        rows += [row(left(text)) for text in sender[1:]]
        rows += [row()] + [row(left(text)) for text in addressee] + [row()]
    if not date_in_header:
        rows += [row(right(day) if beside else left(day)), row()]
    if reference:
        rows.append(row(left(f"Our reference: {reference}")))
    rows += [row(left(f"Subject: {subject}", bold=True)), row(), row(left(f"Dear {recipient},"))]
    body = (
        "Thank you for your recent message.",
        "We have reviewed the matter carefully",
        "and will follow up within two weeks.",
        "Please contact us with any questions.",
    )
    rows += [row(left(text)) for text in body[: rng.randint(2, 4)]]
    rows += [row(), row(left(closing)), row(), row(left(signer))]
    if title:
        rows.append(row(left(title)))

    draft = _Draft(rows, rng.randint(880, 980), rng, phrasings)
    draft.ask("letter.company", company, "organization")
    draft.ask("letter.date", day, "date")
    draft.ask("letter.recipient", recipient, "name")
    draft.ask("letter.subject", subject, "text")
    draft.ask("letter.signer", signer, "name")
    if title:
        draft.ask("letter.signer_title", title, "text")
    draft.ask("letter.phone", phone, "contact")
    draft.ask("letter.reference", reference, "id")
    draft.cannot("letter.amount", "amount")
    draft.cannot("letter.email", "contact")
    draft.cannot("any.invoice_number", "id")
    return draft


def _table(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    return (_matrix if fake.rng.random() < 0.5 else _stock_list)(fake, writing, phrasings)


def _stock_list(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    rng = fake.rng
    names = fake.sample(STOCK_ITEMS, rng.randint(4, 7))
    absent_item = rng.choice([name for name in STOCK_ITEMS if name not in names])
    prices = fake.sample(range(150, 9000), len(names))
    quantities = [rng.randint(1, 400) for _ in names]
    codes = [fake.code(rng.choice(("SKU-", "P", "A-")), 4) for _ in names] if rng.random() < 0.5 else None
    updated = writing.date(fake.day()) if rng.random() < 0.5 else None
    grid = rng.random() < 0.5
    title = f"{fake.shop()} - {rng.choice(('Price list', 'Stock list', 'Inventory'))}"

    rows = [row(left(title, bold=True, scale=1.2))]
    if updated:
        rows.append(row(left(f"Updated: {updated}")))
    rows.append(row())
    quantity_x = 0.72 if codes else 0.62
    header = [left("Item", bold=True)] + ([left("Code", 0.4, bold=True)] if codes else [])
    header += [right("Qty", quantity_x, bold=True), right(rng.choice(("Price", "Unit price")), bold=True)]
    rows.append(row(*header, shade=True, rule_below=True))
    for index, name in enumerate(names):
        cells = [left(name)] + ([left(codes[index], 0.4)] if codes else [])
        cells += [right(str(quantities[index]), quantity_x), right(writing.figure(prices[index]))]
        rows.append(row(*cells, rule_below=grid))

    draft = _Draft(rows, rng.randint(820, 960), rng, phrasings)
    for index in fake.sample(range(len(names)), 2):
        draft.ask("table.price", writing.figure(prices[index]), "amount", item=names[index].lower())
    for index in fake.sample(range(len(names)), 2):
        draft.ask("table.quantity", str(quantities[index]), "quantity", item=names[index].lower())
    if codes:
        index = rng.randrange(len(names))
        draft.ask("table.item_by_code", names[index], "text", code=codes[index])
        index = rng.randrange(len(names))
        draft.ask("table.code", codes[index], "id", item=names[index].lower())
    draft.ask("table.updated", updated, "date")
    draft.cannot("table.price", "amount", item=absent_item.lower())
    draft.cannot("table.quantity", "quantity", item=absent_item.lower())
    draft.cannot("table.supplier_phone", "contact")
    return draft


def _matrix(fake: Fake, writing: Writing, phrasings: dict[str, tuple[str, ...]]) -> _Draft:
    """A table with a header row and row labels: a value is found by its row and column."""
    rng = fake.rng
    title, row_pool, column_pool = rng.choice(MATRICES)
    labels = fake.sample(row_pool, rng.randint(3, 5))
    absent_label = rng.choice([label for label in row_pool if label not in labels])
    start = rng.randrange(len(column_pool) - 3)
    columns = list(column_pool[start : start + rng.choice((3, 4))])
    money = rng.random() < 0.5
    values = [[writing.figure(fake.cents(10, 9000)) if money else writing.figure(rng.randint(1, 99999) * 100)[:-3]
               for _ in columns] for _ in labels]  # fmt: skip
    step = 0.55 / (len(columns) - 1)
    xs = [0.45 + n * step for n in range(len(columns))]

    rows = [row(left(title, bold=True, scale=1.2)), row()]
    rows.append(row(*[right(column, x, bold=True) for column, x in zip(columns, xs)], shade=True, rule_below=True))
    for label, cells in zip(labels, values):
        rows.append(row(left(label, bold=True), *[right(value, x) for value, x in zip(cells, xs)]))
    if rng.random() < 0.5:
        rows += [row(), row(left(f"Source: {fake.firm()}"))]

    draft = _Draft(rows, rng.randint(900, 1000), rng, phrasings)
    for r, c in fake.sample([(r, c) for r in range(len(labels)) for c in range(len(columns))], 3):
        draft.ask("table.cell", values[r][c], "amount" if money else "quantity", row=labels[r], column=columns[c])
    draft.cannot("table.cell", "amount" if money else "quantity", row=absent_label, column=rng.choice(columns))
    draft.cannot("table.supplier_phone", "contact")
    draft.cannot("table.updated", "date")
    return draft


_BUILDERS: dict[str, Callable[[Fake, Writing, dict[str, tuple[str, ...]]], _Draft]] = {
    "receipt": _receipt, "invoice": _invoice, "form": _form, "letter": _letter, "table": _table,
}  # fmt: skip
