"""A generated document-VQA set (issue 3): receipts, invoices, forms, letters and tables drawn
by the tests themselves, with questions, some of which the document cannot answer.

    docs = make_documents(seed=0, count=60)
    replies = [[model.ask(d.image, q.text).text for q in d.questions] for d in docs]
    report = score(replies, docs)  # report.exact_match, report.invented_rate, report.by_kind

Answers are spans of the drawn text (a reader that retrieves an OCR line and cuts the answer
out of it can get every one). A question whose `answer` is None asks for something the
document does not show; the expected reply then starts with "Not found in the image".
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
    CITY_NAMES, JOB_TITLES, LETTER_SUBJECTS, OCCUPATIONS, PAYMENT_METHODS, SERVICES, SHOP_ITEMS,
    STOCK_ITEMS, Fake, Writing, figure,
)  # fmt: skip
from docvqa_page import FONT_FAMILIES, PageStyle, Row, center, left, render_page, right, row, row_text
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


@dataclass(frozen=True)
class Document:
    kind: str
    image: Image.Image = field(repr=False)
    lines: list[str]  # the text drawn, row by row, cells of a row left to right
    questions: list[Question]
    name: str = ""  # e.g. "invoice-001", for reports


# --- comparing answers --------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_EDGE_JUNK = re.compile(r"^(?:[$€£.,;:!?'\"]|(?:usd|eur|gbp)(?=[\d$€£.]))+|(?:[$€£.,;:!?'\"]|(?<=\d)(?:usd|eur|gbp))+$")
_NOT_FOUND = re.compile(r"\bnot\s+found\b", re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """The form answers are compared in, so formatting differences do not count as errors.

    Unicode NFKC (so the recogniser's full-width "（" and "，" read as "(" and ","); lowercase;
    remove all whitespace (PP-OCR's recogniser drops spaces in English, FACTS.md);
    drop thousands separators (a comma between digits followed by exactly three digits);
    then strip from both ends, repeatedly, currency symbols ($ € £), currency codes (USD,
    EUR, GBP — only next to a number, so "Europe" keeps its "eur") and punctuation
    (. , ; : ! ? and quotes). So "$ 42.50" == "42.50 USD" == "€42.50" == "42.50", and
    "1,234.50 EUR" == "1234.50"; "Inc." == "Inc". Interior characters are kept.
    """
    squashed = _THOUSANDS.sub("", "".join(unicodedata.normalize("NFKC", text).lower().split()))
    previous = None
    while previous != squashed:
        previous, squashed = squashed, _EDGE_JUNK.sub("", squashed)
    return squashed


def is_not_found(reply: str) -> bool:
    """True for a reply saying the answer is not in the image ("Not found in the image…";
    any "not found", case-insensitive)."""
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

    @property
    def exact_match(self) -> float:
        return self.correct / self.answerable if self.answerable else float("nan")

    @property
    def invented_rate(self) -> float:
        return self.invented / self.unanswerable if self.unanswerable else float("nan")

    def add(self, question: Question, reply: str) -> Tally:
        if question.answer is None:
            return Tally(self.answerable, self.correct, self.unanswerable + 1, self.invented + (not is_not_found(reply)))
        return Tally(self.answerable + 1, self.correct + is_correct(reply, question), self.unanswerable, self.invented)


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
    answerable: list[Question] = field(default_factory=list)
    unanswerable: list[Question] = field(default_factory=list)
    rng: random.Random | None = None

    def ask(self, templates: Sequence[str], answer: str | None, qtype: str, **slots) -> None:
        """Add a question phrased by one of `templates` (answer None: cannot be answered)."""
        question = Question(self.rng.choice(templates).format(**slots), answer, qtype)
        (self.answerable if answer is not None else self.unanswerable).append(question)

    def cannot(self, templates: Sequence[str], qtype: str, **slots) -> None:
        self.ask(templates, None, qtype, **slots)


def make_documents(seed: int = 0, count: int = 60) -> list[Document]:
    """`count` documents, kinds in turn (receipt, invoice, form, letter, table), each with 5–7
    questions of which one or two cannot be answered from the document."""
    documents = []
    for index in range(count):
        rng = random.Random(f"docvqa-{seed}-{index}")
        kind = KINDS[index % len(KINDS)]
        fake = Fake(rng)
        draft = _BUILDERS[kind](fake, fake.writing())
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
        documents.append(Document(kind, image, lines, _pick_questions(rng, draft), f"{kind}-{index:03d}"))
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


def _receipt(fake: Fake, writing: Writing) -> _Draft:
    rng = fake.rng
    vendor, street, city = fake.shop(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.5 else None
    day = writing.date(fake.day())
    time = f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}" if rng.random() < 0.6 else None
    items = [(name, fake.cents(1.5, 24)) for name in fake.sample(SHOP_ITEMS, rng.randint(2, 5))]
    absent_item = rng.choice([name for name in SHOP_ITEMS if name not in dict(items)])
    subtotal = sum(cents for _, cents in items)
    tax_percent = rng.choice((5, 7, 8, 10, 20))
    tax = round(subtotal * tax_percent / 100)
    total, payment = subtotal + tax, rng.choice(PAYMENT_METHODS)
    cashier = fake.person().split()[0] if rng.random() < 0.4 else None
    price_x = rng.choice((1.0, 1.0, 0.8))

    rows = [row(center(vendor, bold=True, scale=1.3)), row(center(street)), row(center(city))]
    if phone:
        rows.append(row(center(f"Tel: {phone}")))
    _with_rule(rows)
    rows.append(row(left(f"Date: {day}"), *([right(time)] if time else [])))
    _with_rule(rows)
    rows += [row(left(name), right(figure(cents), price_x)) for name, cents in items]
    _with_rule(rows)
    rows += [
        row(left("Subtotal"), right(writing.money(subtotal), price_x)),
        row(left(f"Tax {tax_percent}%"), right(writing.money(tax), price_x)),
        row(left("TOTAL", bold=True), right(writing.money(total), price_x, bold=True)),
        row(),
        row(left(f"Paid by: {payment}")),
    ]
    if cashier:
        rows.append(row(left(f"Cashier: {cashier}")))
    rows.append(row(center("Thank you!")))

    draft = _Draft(rows, rng.randint(640, 760), rng=rng)
    draft.ask(("Who is the vendor?", "What is the name of the store?", "Which shop issued this receipt?"), vendor, "organization")
    draft.ask(("What is the total?", "How much is the total amount?", "Total?", "How much was paid in total?"), writing.money(total), "amount")
    draft.ask(("What is the subtotal?", "How much is the subtotal before tax?"), writing.money(subtotal), "amount")
    draft.ask(("How much tax was charged?", "What is the tax amount?"), writing.money(tax), "amount")
    draft.ask(("What is the date of the receipt?", "When was this purchase made?", "On what date was this receipt issued?"), day, "date")
    draft.ask(("How was the purchase paid?", "What payment method was used?"), payment, "text")
    name, cents = rng.choice(items)
    draft.ask(("What is the price of {item}?", "How much did the {item} cost?"), figure(cents), "amount", item=name)
    draft.ask(("What is the store's street address?", "On which street is the store?"), street, "text")
    if phone:
        draft.ask(("What is the store's phone number?", "What number can the shop be called on?"), phone, "contact")
    else:
        draft.cannot(("What is the store's phone number?", "What number can the shop be called on?"), "contact")
    if time:
        draft.ask(("At what time was the purchase made?", "What time is printed on the receipt?"), time, "date")
    else:
        draft.cannot(("At what time was the purchase made?",), "date")
    if cashier:
        draft.ask(("Who was the cashier?", "What is the cashier's name?"), cashier, "name")
    else:
        draft.cannot(("Who was the cashier?", "What is the cashier's name?"), "name")
    draft.cannot(("What is the due date?", "When is payment due?"), "date")
    draft.cannot(("What is the invoice number?",), "id")
    draft.cannot(("What is the store's tax ID?", "What is the VAT number?"), "id")
    draft.cannot(("What is the customer's email address?",), "contact")
    draft.cannot(("What is the price of {item}?", "How much did the {item} cost?"), "amount", item=absent_item)
    return draft


def _invoice(fake: Fake, writing: Writing) -> _Draft:
    rng = fake.rng
    vendor, street, city = fake.firm(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.5 else None
    vat_id = fake.code(rng.choice(("DE", "GB", "FR", "NL")), 9) if rng.random() < 0.5 else None
    number = fake.code("INV-", rng.choice((5, 6)))
    issued = fake.day()
    issued_text = writing.date(issued)
    due_text = writing.date(issued + datetime.timedelta(days=rng.choice((14, 30, 45))))
    client, client_street, client_city = fake.person(), fake.street(), fake.city_line()
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
    rows = header + [row(), row(left("Bill to:", bold=True)), row(left(client)), row(left(client_street)),
                     row(left(client_city)), row()]  # fmt: skip
    rows.append(row(left("Description", bold=True), right("Qty", 0.55, bold=True),
                    right("Unit price", 0.78, bold=True), right("Amount", bold=True), shade=True))  # fmt: skip
    rows += [row(left(name), right(str(q), 0.55), right(figure(u), 0.78), right(figure(a))) for name, q, u, a in items]
    _with_rule(rows)
    rows.append(row(left("Total due:", 0.45, bold=True), right(writing.money(total), bold=True)))
    if vat_id:
        rows += [row(), row(left(f"VAT ID: {vat_id}"))]

    draft = _Draft(rows, rng.randint(900, 1000), rng=rng)
    draft.ask(("What is the invoice number?", "Which invoice number is this?"), number, "id")
    draft.ask(("Which company issued this invoice?", "Who is the vendor?", "Who sent this invoice?"), vendor, "organization")
    draft.ask(("What is the invoice date?", "When was the invoice issued?"), issued_text, "date")
    draft.ask(("What is the due date?", "When is payment due?"), due_text, "date")
    draft.ask(("Who is the invoice addressed to?", "Who is billed?", "What is the customer's name?"), client, "name")
    draft.ask(("Total due?", "What is the total amount due?", "How much is owed in total?"), writing.money(total), "amount")
    name, quantity, unit, amount = rng.choice(items)
    draft.ask(("What is the amount for {item}?", "How much is charged for {item} in total?"), figure(amount), "amount", item=name)
    draft.ask(("How many units of {item} were billed?", "What is the quantity of {item}?"), str(quantity), "quantity", item=name)
    if phone:
        draft.ask(("What is the vendor's phone number?",), phone, "contact")
    else:
        draft.cannot(("What is the vendor's phone number?",), "contact")
    if vat_id:
        draft.ask(("What is the VAT ID?", "What is the vendor's tax ID?"), vat_id, "id")
    else:
        draft.cannot(("What is the VAT ID?", "What is the vendor's tax ID?"), "id")
    draft.cannot(("What payment method was used?", "How was this invoice paid?"), "text")
    draft.cannot(("What is the purchase order number?",), "id")
    draft.cannot(("What is the customer's email address?",), "contact")
    draft.cannot(("What is the amount for {item}?",), "amount", item=absent_item)
    return draft


def _form(fake: Fake, writing: Writing) -> _Draft:
    rng = fake.rng
    name = fake.person()
    values = {
        "Full name": (name, "name"),
        "Date of birth": (writing.date(fake.day(1950, 2005)), "date"),
        "Phone": (fake.phone(), "contact"),
        "Email": (fake.email(name), "contact"),
        "ID number": (fake.id_number(), "id"),
        "City": (rng.choice(CITY_NAMES), "text"),
        "Occupation": (rng.choice(OCCUPATIONS), "text"),
    }
    for optional in fake.sample(("Phone", "Email", "ID number", "City", "Occupation"), rng.randint(1, 2)):
        del values[optional]
    form_number = fake.code("F-", 5) if rng.random() < 0.5 else None
    title = rng.choice(("Registration Form", "Membership Application", "Customer Details", "Patient Intake Form"))

    rows = [row(left(title, bold=True, scale=1.35), *([right(f"Form No: {form_number}")] if form_number else []))]
    _with_rule(rows)
    rows.append(row())
    aligned = rng.random() < 0.6
    for label, (value, _) in values.items():
        rows.append(row(left(f"{label}:"), left(value, 0.4)) if aligned else row(left(f"{label}: {value}")))
    rows += [row(), row(left(f"Signed on {writing.date(fake.day())}"))]

    templates = {
        "Full name": ("What is the applicant's full name?", "Whose details are on this form?", "What name is written on the form?"),
        "Date of birth": ("What is the date of birth?", "When was the applicant born?"),
        "Phone": ("What is the phone number?", "Which phone number is given?"),
        "Email": ("What is the email address?", "What email is listed?"),
        "ID number": ("What is the ID number?", "Which ID number is given on the form?"),
        "City": ("Which city does the applicant live in?", "What city is listed?"),
        "Occupation": ("What is the applicant's occupation?", "What does the applicant do for a living?"),
    }
    draft = _Draft(rows, rng.randint(860, 980), rng=rng)
    for label, phrasings in templates.items():
        if label in values:
            draft.ask(phrasings, values[label][0], values[label][1])
        else:
            draft.cannot(phrasings, {"Phone": "contact", "Email": "contact", "ID number": "id"}.get(label, "text"))
    if form_number:
        draft.ask(("What is the form number?",), form_number, "id")
    draft.cannot(("What is the applicant's nationality?",), "text")
    draft.cannot(("What is the total amount?",), "amount")
    draft.cannot(("What is the invoice number?",), "id")
    return draft


def _letter(fake: Fake, writing: Writing) -> _Draft:
    rng = fake.rng
    company, street, city = fake.firm(), fake.street(), fake.city_line()
    phone = fake.phone() if rng.random() < 0.4 else None
    reference = fake.code(rng.choice(("REF-", "Ref. ")), 4) if rng.random() < 0.4 else None
    recipient, signer = fake.person(), fake.person()
    title = rng.choice(JOB_TITLES) if rng.random() < 0.6 else None
    day, subject = writing.date(fake.day()), rng.choice(LETTER_SUBJECTS)
    closing = rng.choice(("Sincerely,", "Best regards,", "Kind regards,", "Yours faithfully,"))
    date_in_header = rng.random() < 0.5

    rows = [row(left(company, bold=True, scale=1.2), *([right(day)] if date_in_header else [])), row(left(street)), row(left(city))]
    if phone:
        rows.append(row(left(f"Tel: {phone}")))
    rows += [row(), row(left(recipient)), row(left(fake.street())), row(left(fake.city_line())), row()]
    if not date_in_header:
        rows += [row(left(day)), row()]
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

    draft = _Draft(rows, rng.randint(880, 980), rng=rng)
    draft.ask(("Which company sent this letter?", "Which organization is the letter from?"), company, "organization")
    draft.ask(("What is the date of the letter?", "When was this letter written?"), day, "date")
    draft.ask(("Who is the letter addressed to?", "Who is the recipient?"), recipient, "name")
    draft.ask(("What is the subject of the letter?", "What is the letter's subject line?"), subject, "text")
    draft.ask(("Who signed the letter?", "What is the name of the person who signed?"), signer, "name")
    if title:
        draft.ask(("What is the signer's job title?",), title, "text")
    if phone:
        draft.ask(("What is the sender's phone number?", "What phone number is given?"), phone, "contact")
    else:
        draft.cannot(("What is the sender's phone number?", "What phone number is given?"), "contact")
    if reference:
        draft.ask(("What is the reference number?",), reference, "id")
    else:
        draft.cannot(("What is the reference number?",), "id")
    draft.cannot(("What is the total amount?", "How much money is owed?"), "amount")
    draft.cannot(("What is the recipient's email address?",), "contact")
    draft.cannot(("What is the invoice number?",), "id")
    return draft


def _table(fake: Fake, writing: Writing) -> _Draft:
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
        cells += [right(str(quantities[index]), quantity_x), right(figure(prices[index]))]
        rows.append(row(*cells, rule_below=grid))

    draft = _Draft(rows, rng.randint(820, 960), rng=rng)
    for index in fake.sample(range(len(names)), 2):
        draft.ask(("What is the price of {item}?", "How much does {item} cost?"), figure(prices[index]), "amount", item=names[index].lower())
    for index in fake.sample(range(len(names)), 2):
        draft.ask(("How many {item} are listed?", "What is the quantity of {item}?"), str(quantities[index]), "quantity", item=names[index].lower())
    if codes:
        index = rng.randrange(len(names))
        draft.ask(("Which item has code {code}?",), names[index], "text", code=codes[index])
        index = rng.randrange(len(names))
        draft.ask(("What is the code of {item}?",), codes[index], "id", item=names[index].lower())
    if updated:
        draft.ask(("When was the list updated?",), updated, "date")
    draft.cannot(("What is the price of {item}?", "How much does {item} cost?"), "amount", item=absent_item.lower())
    draft.cannot(("How many {item} are listed?",), "quantity", item=absent_item.lower())
    draft.cannot(("What is the supplier's phone number?",), "contact")
    if not updated:
        draft.cannot(("When was the list updated?",), "date")
    return draft


_BUILDERS: dict[str, Callable[[Fake, Writing], _Draft]] = {
    "receipt": _receipt, "invoice": _invoice, "form": _form, "letter": _letter, "table": _table,
}  # fmt: skip
