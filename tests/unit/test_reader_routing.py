"""The reader's request router, yes/no answers, descriptions and transcripts, with a toy
sentence encoder (bag of words), so the logic is tested apart from MiniLM's judgement
(tests/golden/test_reader_requests.py runs the real one)."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from runtime.ocr.layout import order_lines
from runtime.reader import intents
from runtime.reader.describe import Describer
from runtime.reader.document import read_cells, transcript
from runtime.reader.types import AMOUNT, question_type
from runtime.reader.yes_no import CANT_TELL, alternatives, answer_choice, answer_yes_no, content_words
from runtime.results import TextLine

DIMENSION = 512


def bag_of_words(texts: list[str]) -> np.ndarray:
    """Unit vectors of hashed lowercase words: texts sharing words are similar."""
    vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            vectors[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _cell(text, x, y, width=200, height=30):
    return TextLine(text, ((x, y), (x + width, y), (x + width, y + height), (x, y + height)), 0.99)


RECEIPT = (
    _cell("BLUE HERON CAFE", 20, 10, 300), _cell("05/03/2024", 20, 60),
    _cell("Flat white", 20, 120), _cell("3.20", 500, 120),
    _cell("Total", 20, 170), _cell("7.26", 500, 170),
    _cell("PAID by card", 20, 220),
)


@pytest.fixture(scope="module")
def router():
    return intents.IntentRouter(bag_of_words)


@pytest.mark.parametrize(
    ("request_text", "intent"),
    [
        ("Read the text.", intents.READ),
        ("Transcribe this.", intents.READ),
        ("Describe this image.", intents.DESCRIBE),
        ("Summarize this.", intents.DESCRIBE),
        ("Is this paid?", intents.YES_NO),
        ("Does the page mention a discount?", intents.YES_NO),
        ("Could you read this for me?", intents.READ),
        ("Which gate does flight 12 leave from?", intents.QUESTION),
    ],
)
def test_router(router, request_text, intent):
    assert router.classify(request_text).name == intent


def test_a_sum_asked_for_is_an_amount_not_a_summary():
    # An encoder that, as MiniLM does, puts "sum" near "sum up" (the example "Sum up the minutes
    # of the meeting."): the noun asks a total all the same, and only "sum up" a summary.
    def sum_heavy(texts):
        return bag_of_words([re.sub(r"\b(sum|add)\b", " ".join(["sum"] * 8), text, flags=re.I) for text in texts])

    router = intents.IntentRouter(sum_heavy)
    assert router.classify("Sum up the minutes of the meeting.").name == intents.DESCRIBE
    assert router.classify("What's the sum?").name == intents.QUESTION
    assert router.classify("What does it all add up to?").name == intents.QUESTION
    assert router.classify("Sum it up.").name == intents.DESCRIBE
    # ... but a request to describe or to write that mentions a sum is still one
    assert router.classify("Summarize the letter asking for a sum of money.").name == intents.DESCRIBE
    assert router.classify("Write a reply about the sum.").name != intents.QUESTION  # nearest a summary here
    assert not intents.ASKS_AMOUNT.search("Give me the sum-up of this letter.")
    assert not intents.only_whole_page_words("what's the sum in the letter")
    assert intents.only_whole_page_words("Summarize the letter.")
    assert question_type("What does everything add up to?") == AMOUNT


def test_can_you_is_a_request_not_a_yes_no_question(router):
    assert router.classify("Can you tell me the total?").name != intents.YES_NO
    assert router.classify("Can the ticket be refunded?").name == intents.YES_NO


def test_a_question_wins_unless_a_whole_page_request_is_clearly_nearer():
    axis = {intents.READ: 0, intents.DESCRIBE: 1, intents.QUESTION: 2, intents.WRITE: 3}
    requests = {"nearly a tie": (0.52, 0.0, 0.5, 0.0), "clearly read": (0.8, 0.0, 0.2, 0.0),
                "write clearly": (0.0, 0.0, 0.2, 0.8), "clearly no writing": (0.0, 0.0, 0.2, 0.8)}
    pools = {**intents.EXAMPLES, intents.WRITE: intents.WRITE_EXAMPLES}

    def encoder(texts):  # each intent's examples on one axis; requests in between
        rows = []
        for text in texts:
            # the router sees the examples with the document they name said as "it"
            intent = next((name for name, pool in pools.items()
                           if text in {intents.unnamed_document(example) for example in pool}), None)
            rows.append(np.eye(4)[axis[intent]] if intent else np.array(requests[text]))
        rows = np.array(rows, dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    router = intents.IntentRouter(encoder)
    assert router.classify("nearly a tie").name == intents.QUESTION
    assert router.classify("clearly read").name == intents.READ
    assert router.classify("write clearly").name == intents.WRITE
    # Near the requests to compose, but no verb of composing opens it: a question.
    assert router.classify("clearly no writing").name == intents.QUESTION


def test_the_examples_name_no_field_of_a_generated_document():
    examples = " ".join(e for pool in (*intents.EXAMPLES.values(), intents.WRITE_EXAMPLES) for e in pool).lower()
    for word in ("invoice", "receipt", "vendor", "total", "vat", "applicant", "cashier"):
        assert word not in examples


@pytest.mark.parametrize(
    ("question", "cells", "reply"),
    [
        ("Is this paid?", RECEIPT, 'Yes: the text says "PAID by card".'),
        ("Was it paid in cash?", RECEIPT, CANT_TELL),  # the cell settles "paid", not "cash"
        ("Is this paid?", (_cell("Status: unpaid", 20, 10),), 'No: the text says "Status: unpaid".'),
        ("Is the order paid?", (_cell("Order not paid", 20, 10),), 'No: the text says "Order not paid".'),
        ("Is there a tip?", RECEIPT, CANT_TELL),
        # the page a question is about need not be named by the line that settles it
        ("Is this fine paid?", (_cell("Penalty: 70.00", 20, 10), _cell("Payment status: UNPAID", 20, 50)),
         'No: the text says "Payment status: UNPAID".'),
        ("Was this timesheet approved?", (_cell("Approved: M. Lindqvist", 20, 10),),
         'Yes: the text says "Approved: M. Lindqvist".'),
        ("Was this timesheet approved?", (_cell("Approved:", 20, 10),), CANT_TELL),  # left blank
        ("Is a tip included?", (_cell("Tip:", 20, 10),), CANT_TELL),
        ("Did I get a refund from Zalando?", (_cell("Refund - Zalando SE", 20, 10),),
         'Yes: the text says "Refund - Zalando SE".'),
        ("Is this a business class ticket?", (_cell("Class: Economy", 20, 10),), CANT_TELL),
        # a thing on the page, not the page, must be said ("Wi-Fi free" says nothing of parking)
        ("Is the parking free?", (_cell("Wi-Fi free", 20, 10),), CANT_TELL),
        ("Has the deposit been paid?", (_cell("Balance paid", 20, 10),), CANT_TELL),
    ],
)
def test_yes_no(question, cells, reply):
    answer = answer_yes_no(question, cells, bag_of_words)
    assert answer.text == reply
    assert answer.found == (reply != CANT_TELL) and len(answer.evidence) == answer.found


SETTINGS = (_cell("Bluetooth", 20, 10), _cell("Off", 500, 10), _cell("Airplane Mode", 20, 60), _cell("On", 500, 60),
            _cell("MSDS ON FILE? (Circle One): Yes", 20, 110, 400))
SWITCHES = [("Bluetooth", "Off", SETTINGS[:2]), ("Airplane Mode", "On", SETTINGS[2:4]),
            ("MSDS ON FILE? (Circle One)", "Yes", SETTINGS[4:])]


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        ("Is bluetooth on?", 'No: the text says "Bluetooth Off".'),  # not "Yes" for the key's word alone
        ("Is bluetooth turned off?", 'Yes: the text says "Bluetooth Off".'),
        ("Is airplane mode enabled?", 'Yes: the text says "Airplane Mode On".'),
        ("Is airplane mode not on?", 'No: the text says "Airplane Mode On".'),
        ("Is the MSDS on file?", 'Yes: the text says "MSDS ON FILE? (Circle One): Yes".'),
        ("Is wifi on?", CANT_TELL),
    ],
)
def test_a_key_set_to_a_state_answers_yes_or_no(question, reply):
    answer = answer_yes_no(question, SETTINGS, bag_of_words, SWITCHES)
    assert answer.text == reply
    assert answer.found == (reply != CANT_TELL)


class _Said:
    def __init__(self, text, found=True):
        self.text, self.found, self.evidence = text, found, (_cell(text, 500, 10),) if found else ()


@pytest.mark.parametrize(
    ("question", "page_says", "asked", "reply"),
    [
        ("Is the total 42.50?", "45.10", "How much is the total?", 'No: the text says "45.10".'),
        ("Is the total $45.10?", "USD 45.10", "How much is the total?", 'Yes: the text says "USD 45.10".'),
        ("Is this receipt from 2023?", "03/14/2024", "When is this receipt?", 'No: the text says "03/14/2024".'),
        ("Was it issued on 14 March 2024?", "03/14/2024", "When was it issued?", 'Yes: the text says "03/14/2024".'),
        ("Was it issued on 15 March 2024?", "03/14/2024", "When was it issued?", 'No: the text says "03/14/2024".'),
        ("Is the invoice number INV-881?", "INV-818", "What is the invoice number?", 'No: the text says "INV-818".'),
        ("Is the total 45?", "$45.10", "What is the total?", 'No: the text says "$45.10".'),
        ("Was it issued in March 2024?", "03/14/2024", "When was it issued?", 'Yes: the text says "03/14/2024".'),
        ("Was it bought on March 14?", "03/14/2024 10:42", "When was it bought?", 'Yes: the text says "03/14/2024 10:42".'),
        ("Was it bought at 10:40?", "03/14/2024 10:42", "When was it bought?", 'No: the text says "03/14/2024 10:42".'),
        ("Is the seat 6?", "64", "What is the seat?", 'No: the text says "64".'),  # no "Yes" for a part of it
        ("Is the flight number SK1482?", "SK 1482", "What is the flight number?", 'Yes: the text says "SK 1482".'),
        ("Is the flight SK 1482?", "SK 1482", "What is the flight SK?", 'Yes: the text says "SK 1482".'),
        ("Is the ticket number 5582?", "ES-558201", "What is the ticket number?", 'No: the text says "ES-558201".'),
        # a count is no price, and an answer of another kind says nothing of a figure
        ("Did I buy 12 eggs?", "4.29", "What did I buy eggs?", CANT_TELL),
        ("Is this fax 3 pages?", "(415) 555-0142", "What is this fax pages?", CANT_TELL),
        ("Is the 2024 budget approved?", "12/15/2023", None, CANT_TELL),  # the figure names the subject
        ("Is the total over 40?", "45.10", None, CANT_TELL),  # a comparison is not checked
        ("Is this receipt from 2023?", "Fresh Mart", "When is this receipt?", CANT_TELL),  # no date said
    ],
)
def test_a_figure_the_question_states_is_checked_against_the_page(question, page_says, asked, reply):
    cells = (_cell("Total", 20, 10), _cell("Receipt #004517", 20, 60))
    questions = []

    def ask(text):
        questions.append(text)
        return _Said(page_says)

    answer = answer_yes_no(question, cells, bag_of_words, (), ask)
    assert answer.text == reply
    assert questions == ([asked] if asked else [])
    assert answer.found == (reply != CANT_TELL)
    # a line that says the words and the figure settles it without asking
    said = answer_yes_no("Is the total 7.26?", RECEIPT + (_cell("Total 7.26", 20, 270),), bag_of_words, (), ask)
    assert said.text == 'Yes: the text says "Total 7.26".'


def test_a_choice_question_gets_the_alternative_the_text_states():
    receipt = (_cell("TOTAL 12.50", 20, 10), _cell("Paid by: Debit card", 20, 50), _cell("Thank you", 20, 90))
    assert alternatives("Was it paid by card or cash?") == ("card", "cash")
    assert alternatives("Say whether the bill was paid in cash or by card.") == ("cash", "card")
    assert alternatives("What is the total or subtotal?") is None  # no yes/no or "whether" shape
    assert alternatives("Is this paid?") is None
    assert alternatives("Is the box ticked or not?") is None  # yes or no
    assert alternatives("Can you read this or describe it?") is None  # a request
    assert alternatives("Was it paid by debit card or credit card?") == ("debit", "credit")
    assert alternatives("Is it in New York or New Jersey?") == ("york", "jersey")
    labels = (_cell("Phone: 555-0199", 20, 10),)
    assert answer_choice("Is there a phone or fax number?", labels) is None  # "phone" is a label: yes/no's question
    answer = answer_choice("Was it paid by card or cash?", receipt)
    assert answer.text == "Debit card" and answer.evidence == (receipt[1],)
    assert answer_choice("Was it paid by cheque or transfer?", receipt) is None  # neither stated
    both = (*receipt, _cell("Cash back 0.00", 20, 130))
    assert answer_choice("Was it paid by card or cash?", both) is None  # both stated: not settled here
    long_cell = (_cell("We accept every card issued by a bank in the region today", 20, 10),)
    assert answer_choice("Do they take card or cheque?", long_cell).text == "card"


def test_content_words_drop_the_grammar():
    assert content_words("Is there a signature on this page?") == ["signature"]
    assert content_words("Does it mention hull cleaning?") == ["hull", "cleaning"]


def test_description_copies_its_facts_from_the_cells():
    description = Describer(bag_of_words).describe(read_cells(RECEIPT))
    assert description.text.startswith("This is a page with text") or description.text.startswith("This looks like")
    assert 'from "BLUE HERON CAFE"' in description.text  # the letterhead names the issuer
    assert "dated 05/03/2024" in description.text
    assert "with a total of 7.26" in description.text
    assert {cell.text for cell in description.evidence} == {"BLUE HERON CAFE", "05/03/2024", "7.26"}


def test_description_is_dated_by_the_pages_own_date_entry_not_a_stamp_above_it():
    form = (
        _cell("SERVICE REQUEST", 20, 10, 300), _cell("RECEIVED", 500, 10), _cell("APR 2 1984", 500, 45),
        _cell("DATE:", 20, 90, 80), _cell("March 27, 1984", 120, 90),
        _cell("TARGET DATE:", 20, 140, 160), _cell("April 13, 1984", 200, 140),
    )
    assert "dated March 27, 1984" in Describer(bag_of_words).describe(read_cells(form)).text
    # Without a date entry of its own, the page is dated by its first date.
    stamped = form[:3] + form[5:]
    assert "dated APR 2 1984" in Describer(bag_of_words).describe(read_cells(stamped)).text
    # A table's "Date" column holds its lines' dates, not the page's.
    statement = (
        _cell("ACME BANK STATEMENT", 20, 10, 300), _cell("Statement issued 01/02/2024", 20, 50, 300),
        _cell("Date", 20, 100, 100), _cell("Description", 200, 100, 150), _cell("Amount", 420, 100, 100),
        _cell("12/01/2023", 20, 140, 100), _cell("Coffee", 200, 140, 150), _cell("3.00", 420, 140, 100),
        _cell("12/02/2023", 20, 180, 100), _cell("Bagel", 200, 180, 150), _cell("2.50", 420, 180, 100),
    )
    description = Describer(bag_of_words).describe(read_cells(statement))
    assert "dated 01/02/2024" in description.text, description.text


def test_description_of_prose_names_its_heading_and_of_figures_quotes_the_start():
    prose = read_cells((_cell("Chapter one", 20, 10), _cell("It was a bright cold day", 20, 60, 400)))
    assert Describer(bag_of_words).describe(prose).text == 'This is a page with text headed "Chapter one".'
    figures = read_cells((_cell("0041 7789", 20, 10), _cell("5520 1180", 20, 60)))
    description = Describer(bag_of_words).describe(figures)
    assert description.text == 'This is a page with text, beginning "0041 7789".'
    assert [cell.text for cell in description.evidence] == ["0041 7789"]


def test_a_heading_is_a_title_not_a_page_number_a_date_or_a_key():
    numbered = read_cells((_cell("Page 1 of 10", 500, 10, 120), _cell("PRODUCT SPECIFICATION", 20, 50, 300),
                           _cell("Filter length", 20, 120, 150), _cell("20 mm", 300, 120, 80)))
    text = Describer(bag_of_words).describe(numbered).text
    assert '"PRODUCT SPECIFICATION"' in text and "Page 1" not in text, text
    stamped = read_cells((_cell("MAR-24-1999 14:39", 20, 10, 200), _cell("To: Files", 300, 10, 120),
                          _cell("Project Initiation Form", 20, 50, 300), _cell("Budget", 20, 120, 100)))
    text = Describer(bag_of_words).describe(stamped).text
    # the title names the kind of page, and is said as it
    assert "This is a project initiation form" in text and "To: Files" not in text and "14:39" not in text, text
    # titles in scripts without spaces or with vowel signs, and a title with a colon in it
    for title in ("发票", "कर चालान", "Chapter 3: Safety"):
        page = read_cells((_cell(title, 200, 10, 150), _cell("Buyer name", 20, 60, 150), _cell("Ravi Sharma", 300, 60, 80)))
        assert f'headed "{title}"' in Describer(bag_of_words).describe(page).text, title
    for number in ("Page 1 of 10.", "Page No. 2", "PAGE # 3"):
        page = read_cells((_cell(number, 20, 10, 150), _cell("PRODUCT SPECIFICATION", 20, 50, 300)))
        assert number.rstrip(".") not in Describer(bag_of_words).describe(page).text, number
    # a logo set a word a line ("THE | AMERICAN | TOBACCO | COMPANY"): its first word is no title
    logo = read_cells((_cell("THE", 20, 10, 50), _cell("PURCHASE REQUISITION", 300, 10, 250),
                       _cell("AMERICAN", 20, 50, 120), _cell("Budget", 20, 120, 100)))
    assert 'headed "THE"' not in Describer(bag_of_words).describe(logo).text
    logo = read_cells((_cell("THE", 20, 10, 50), _cell("AMERICAN", 20, 50, 120), _cell("Budget", 20, 120, 100)))
    assert 'headed "AMERICAN"' in Describer(bag_of_words).describe(logo).text
    # a page of nothing else still names its start
    alone = read_cells((_cell("Page 2", 20, 10, 100), _cell("Notes", 20, 50, 100)))
    assert 'headed "Notes"' in Describer(bag_of_words).describe(alone).text


def test_transcript_keeps_rows_together():
    assert transcript(RECEIPT) == "BLUE HERON CAFE\n05/03/2024\nFlat white\t3.20\nTotal\t7.26\nPAID by card"


def _at(text, x, y, w, h=20):
    return TextLine(text, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 0.9)


def test_transcript_writes_two_columns_of_prose_one_after_the_other():
    left = ["The council met on Tuesday", "to discuss the new ferry", "timetable and its two", "extra crossings."]
    right = ["Fishing boats came back early", "this week after storms closed", "the northern banks for", "three days."]
    page = [_at(text, x, 30 * row, 300) for row, pair in enumerate(zip(left, right)) for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(page)) == "\n".join(left + right)
    # a form whose keys have no colon keeps each key on its value's line, and so do columns
    # of short items (three words or fewer)
    form = [_at(text, x, 40 * row, 220) for row, pair in enumerate(
        [("Name of organizer", "Maria Gonzales"), ("Place of the event", "Town hall"), ("Expected guests", "about two hundred")])
        for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(form)) == (
        "Name of organizer\tMaria Gonzales\nPlace of the event\tTown hall\nExpected guests\tabout two hundred")
    # nor do a questionnaire's long cells, set as close as a paragraph's lines: they open in
    # capitals, where running text carries its sentences on in lower case
    questions = [("Full name of the applicant", "Maria Elena Gonzales Ruiz"),
                 ("Town where the applicant lives", "A small town near Porto"),
                 ("Reason given for the request", "To open a new bakery")]
    asked = [_at(text, x, 30 * row, 300) for row, pair in enumerate(questions) for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(asked)).splitlines() == ["\t".join(pair) for pair in questions]
    # two rows are too few to call running text, and so is one long line in two
    assert transcript(order_lines(page[:4])).splitlines()[0] == f"{left[0]}\t{right[0]}"
    halves = [(left[0], right[0]), ("ferry", "boats"), (left[1], right[1]), ("fares", "storms")]
    mixed = [_at(text, x, 30 * row, 300) for row, pair in enumerate(halves) for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(mixed)).splitlines()[0] == f"{left[0]}\t{right[0]}"
    threes = [("The ferry left", "The boats came"), ("at six sharp", "back at noon"), ("and came back", "with the fish")]
    three_words = [_at(text, x, 30 * row, 300) for row, pair in enumerate(threes) for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(three_words)).splitlines()[0] == "The ferry left\tThe boats came"
    short = [_at(text, x, 30 * row, 300) for row, pair in enumerate(
        [("Apples are red", "Mountains are high"), ("Bananas are long", "Rivers flow down"), ("Cherries are small", "Oceans are deep")])
        for text, x in zip(pair, (0, 400))]
    assert transcript(order_lines(short)).splitlines()[0] == "Apples are red\tMountains are high"


def test_a_short_request_naming_words_of_the_page_asks_for_them():
    from runtime.kinds.reader import _on_the_page
    from runtime.results import TextLine

    page = (TextLine("NOSENSITIWE TO", ((0, 0), (200, 0), (200, 20), (0, 20)), 0.9),
            TextLine("Pump Press. Card Roller 120 psig", ((0, 30), (300, 30), (300, 50), (0, 50)), 0.9))
    assert _on_the_page(["sensitive"], page)  # as the recognizer misread it
    assert _on_the_page(["card", "pump", "roller"], page)
    assert not _on_the_page(["handwritten"], page)  # "Transcribe the handwritten note": the whole page
    assert not _on_the_page(["card", "pump", "roller", "press", "psig"], page)  # a long request is no label


def test_the_alternatives_alone_are_a_choice_and_a_compound_says_its_head():
    from runtime.reader.yes_no import is_bare_choice

    assert is_bare_choice("Tea or coffee?") and is_bare_choice("Debit card or cash?")
    assert not is_bare_choice("Which one, tea or coffee?") and not is_bare_choice("Tea or coffee")
    assert alternatives("Credit or debit?") == ("credit", "debit")
    receipt = (_cell("TOTAL 12.50", 20, 10), _cell("Paid by: Mastercard", 20, 50))
    assert answer_choice("Cheque or card?", receipt).text == "Mastercard"  # "card" heads "Mastercard"
    assert answer_choice("Cheque or cash?", receipt) is None  # "card" is not "cash"
    assert answer_choice("Cheque or art?", (_cell("Paid by: Smart", 20, 50),)) is None  # too short to be a head


def test_a_question_about_what_the_page_is_about_gets_its_subject_line():
    assert intents.asks_topic("What's the memo about?") and intents.asks_topic("what is it about")
    assert intents.asks_topic("Say what the memo is regarding.")
    assert intents.asks_topic("whats this letter regarding")
    assert not intents.asks_topic("What did they talk about at the meeting on Monday?")
    assert not intents.asks_topic("Tell me about this image.")
    # "what" before a noun asks which one, a field ("PRODUCT: ..."), unless the noun is a topic's word
    assert not intents.asks_topic("What product is this about?") and not intents.asks_topic("What firm does it concern?")
    assert intents.asks_topic("What topic is this about?") and intents.asks_topic("Tell me what this is about.")
    letter = read_cells((_cell("Harbor Print", 20, 10), _cell("June 9, 2023", 20, 60),
                         _cell("Subject: Request for samples", 20, 110, 400), _cell("Dear Emma Chen,", 20, 160)))
    def subjects(texts):  # a stand-in encoder: texts naming a subject are alike, others apart
        return np.array([[1.0, 0.0] if "subject" in text.lower() else [0.0, 1.0] for text in texts], dtype=np.float32)

    describer = Describer(subjects)
    assert describer.subject(letter).value == "Request for samples"
    assert 'about "Request for samples"' in describer.describe(letter).text
    assert describer.subject(read_cells(RECEIPT)) is None
    re_line = read_cells((_cell("Harbor Print", 20, 10), _cell("Re: Quote for an oak staircase", 20, 60, 400)))
    assert describer.subject(re_line).value == "Quote for an oak staircase"  # the letters' convention
    coded = read_cells((_cell("Course: Organic Chemistry", 20, 10, 400), _cell("Subject code: CH-201", 20, 60, 400)))
    assert describer.subject(coded) is None  # a code is no subject
    named = read_cells((_cell("Subject: Shipment delayed - order #A-55812", 20, 10, 500),))
    assert describer.subject(named).value == "Shipment delayed - order #A-55812"  # words that name a code
    # the topic asked by its name
    assert intents.asks_topic("What is the subject of the letter?") and intents.asks_topic("What's the topic?")
    assert not intents.asks_topic("What is the subject code?")
    assert not intents.asks_topic("What time is it about?") and not intents.asks_topic("What was the total about?")
    assert alternatives("Tax included or not?") is None  # yes or no: not a choice to refuse


def test_what_the_page_says_for_a_named_thing_is_that_thing():
    assert intents.says_for("What does the form say for terms?") and intents.says_for("what does it say under Remarks")
    assert not intents.says_for("What does the form say?") and not intents.says_for("Say something about it.")
    # "for" a person or "for sure" names no entry
    for request in ("Can you say for me what the total is?", "Can you say for sure who signed?",
                    "What does it say for certain about the date?", "Say for us what it reads."):
        assert not intents.says_for(request), request
    assert intents.says_for("What does the sheet say for the fax number?")


@pytest.mark.parametrize(("request_text", "routed"), [
    ("What's the date on this invoice?", "What's the date on it?"),
    ("Summarise the letter, please.", "Summarise it, please."),
    ("Give me the receipt no.", "Give me the receipt no."),  # which number, not the page
    ("which invoice is this", "which invoice is this"),  # no determiner: the question's own noun
    ("Read my notes", "Read it"),
    ("What is the note?", "What is the note?"),  # a key "Note" may be asked
    ("What is the form of payment?", "What is the form of payment?"),
    ("Who is the bill to?", "Who is the bill to?"),
    ("Is there a table?", "Is there a table?"),
])
def test_the_router_hears_the_page_called_it(request_text, routed):
    assert intents.unnamed_document(request_text) == routed


def test_a_description_says_the_kind_the_page_states():
    """The page's own title ("Dinner Menu · Open Tue-Sun"), an e-mail's or a memo's header keys,
    a letter's greeting and signature say what kind of page it is; a birth date is not the
    page's date, and a table's column titles ("Name | Phone") name no issuer."""
    def describe(*cells):
        return Describer(bag_of_words).describe(read_cells(cells)).text

    menu = describe(_cell("Trattoria Il Faro", 300, 10, 380), _cell("Dinner Menu · Open Tue-Sun 5pm-10pm", 330, 60, 360),
                    _cell("Calamari fritti", 100, 140, 160), _cell("$13.00", 800, 140, 80))
    assert menu.startswith("This is a dinner menu"), menu
    mail = describe(_cell("From: Lena Vogt <lena@example.de>", 20, 10, 400), _cell("To: Marcus Hale <mh@example.com>", 20, 50, 400),
                    _cell("Subject: Shipment delayed", 20, 90, 300), _cell("Hi Marcus,", 20, 150, 120),
                    _cell("Best regards,", 20, 250, 150), _cell("Lena Vogt", 20, 290, 120))
    assert mail.startswith("This is an e-mail"), mail
    memo = describe(_cell("MEMORANDUM", 20, 10, 300), _cell("To: All Staff", 20, 60, 150), _cell("From: Jane Smith", 20, 100, 200),
                    _cell("Subject: Office move", 20, 140, 250))
    assert memo.startswith("This is a memorandum") and 'headed "MEMORANDUM"' not in memo, memo
    letter = describe(_cell("12 March 2024", 500, 10, 150), _cell("Dear Ms. Raman,", 20, 60, 200),
                      _cell("Thank you for meeting with us.", 20, 100, 400), _cell("Yours sincerely,", 20, 160, 200),
                      _cell("Jonathan Harrowgate", 20, 220, 250))
    assert letter.startswith("This is a letter"), letter
    report = describe(_cell("St. Aldric Laboratory", 20, 10, 400), _cell("DOB:", 20, 60, 60), _cell("07/22/1961", 300, 60, 120),
                      _cell("Collected:", 20, 100, 120), _cell("02/11/2025", 300, 100, 120))
    assert "dated 02/11/2025" in report, report
    directory = describe(_cell("Riverside Clinic", 20, 10, 300), _cell("Name", 20, 60, 80), _cell("Phone", 400, 60, 80),
                         _cell("Dr. Amelia Stone", 20, 100, 200), _cell("(555) 201-3344", 400, 100, 200))
    assert "Name Phone" not in directory and "Amelia" not in directory, directory


def test_a_key_value_or_a_business_name_states_no_kind():
    def describe(*cells):
        return Describer(bag_of_words).describe(read_cells(cells)).text

    for top in ("Table: 12", "Subject: Revised Delivery Schedule", "Order: 4471", "THE ROUND TABLE", "Hallmark Card",
                "ACME REPORT SDN BHD"):
        text = describe(_cell(top, 20, 10, 400), _cell("Coffee", 20, 80, 120), _cell("3.50", 400, 80, 80))
        assert not text.startswith("This is a ") or text.startswith("This is a page"), (top, text)


def test_a_page_that_names_its_kind_is_described_as_one_and_its_title_is_no_issuer():
    notice = (_cell("CITY OF BRIGHTON & HOVE", 20, 10, 400), _cell("PENALTY CHARGE NOTICE - Parking", 20, 50, 400),
              _cell("Date of issue: 07/02/2025", 20, 100, 300))
    assert Describer(bag_of_words).describe(read_cells(notice)).text.startswith("This is a penalty charge notice")
    certificate = (_cell("CERTIFICATE OF COMPLETION", 20, 10, 400), _cell("This is to certify that", 20, 60, 300),
                   _cell("Awarded on 21 June 2024", 20, 110, 300))
    text = Describer(bag_of_words).describe(read_cells(certificate)).text
    assert text.startswith("This is a certificate of completion") and 'from "CERTIFICATE' not in text, text
    statement = (_cell("Alpenland Savings Bank", 20, 10, 300), _cell("Account Statement", 500, 10, 250),
                 _cell("Lindenstrasse 12, 80331 Munchen", 20, 45, 300), _cell("Statement date: 03 Mar 2025", 20, 90, 300))
    text = Describer(bag_of_words).describe(read_cells(statement)).text
    assert text.startswith("This is an account statement") and 'from "Alpenland Savings Bank"' in text, text
    folio = (_cell("Hotel Le Marais", 20, 10, 300), _cell("27 Rue des Archives, 75004 Paris", 20, 45, 400),
             _cell("Guest: Mr. Kenji Watanabe", 20, 100, 300), _cell("Company: Sakura Design KK", 20, 140, 300))
    text = Describer(bag_of_words).describe(read_cells(folio)).text
    assert "Sakura" not in text, text  # a key's value ("Company: ...") is no letterhead


def test_a_word_that_names_other_things_too_is_a_kind_of_page_only_in_a_title_that_says_which():
    body = (_cell("Coffee 3.00", 20, 200), _cell("TOTAL 3.00", 20, 240))
    for top in (["Bucket List", "12 High St"], ["BUCKET LIST | Bar & Grill", "12 High St"], ["Hall Pass", "Cocktail Bar"],
                ["Home | Shop | Register"], ["Blue Heron Cafe", "Order"], ["Summary"]):
        cells = tuple(_cell(text, 20, 10 + 40 * k, 300) for k, text in enumerate(top)) + body
        text = Describer(bag_of_words).describe(read_cells(cells)).text
        assert text.startswith("This is a page with text"), (top, text)
    cells = (_cell("NORDIC SKY AIRLINES", 20, 10, 300), _cell("BOARDING PASS", 600, 10, 200)) + body
    assert Describer(bag_of_words).describe(read_cells(cells)).text.startswith("This is a boarding pass")


def test_the_language_models_context_keeps_a_forms_keys_beside_their_values():
    """Free generation about a page is told its text row by row ("City or Town | Dundee"), as
    the transcript writes it: one line per OCR line lost which value stood beside which key
    (and `read` gives a colon-less form's keys, then its values)."""
    from runtime.kinds.reader import _context

    rows = [("Name of Event", "Mrs Illinois"), ("City or Town", "Dundee"), ("Type of Event", "Beauty Contest"),
            ("Estimated Attendance", "700")]
    form = [cell for row, (key, value) in enumerate(rows)
            for cell in (_cell(key, 0, 40 * row, 12 * len(key)), _cell(value, 400, 40 * row, 12 * len(value)))]
    context = _context(tuple(order_lines(form)))
    assert context.splitlines()[1:] == [f"{key} | {value}" for key, value in rows]
    assert '" | "' in context.splitlines()[0]
