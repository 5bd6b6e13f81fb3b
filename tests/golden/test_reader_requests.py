"""Requests beyond field questions, on the real reader bundle: read / transcribe, describe /
summarize, yes/no, and images without text. Replies must be grounded: every figure and name
in them occurs in the text the OCR read (issue 10)."""

from __future__ import annotations

import re

import pytest
from PIL import Image, ImageDraw, ImageFont

from runtime import load_model
from runtime.errors import InvalidRequestError
from runtime.reader import intents
from runtime.reader.document import transcript

pytestmark = pytest.mark.slow

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NO_TEXT = "No text was found in the image."
# Rows of (left text, right text or None); each page is drawn here, not by the generator.
PAGES = {
    "receipt": [("MOORLAND BAKERY", None), ("Date 12/09/2023", None), ("Rye loaf", "4.10"),
                ("Scones x2", "3.60"), ("TOTAL", "7.70"), ("Card payment", None)],
    "invoice": [("Halvorsen Marine AS", None), ("Invoice date: 2024-02-29", None), ("Hull cleaning", "1,250.00"),
                ("Anode kit", "310.00"), ("Amount due", "1,560.00"), ("Payment within 30 days", None)],
    "letter": [("Riverside Library", None), ("3 March 2025", None), ("Dear Mr Okafor,", None),
               ("Your reserved book has arrived.", None), ("Kind regards,", None), ("Ines Duarte", None)],
    "form": [("MEMBERSHIP FORM", None), ("Name: Aiko Tanaka", None), ("Joined: 17/06/2022", None),
             ("Plan: Family", None), ("Signature: A. Tanaka", None)],
    "prose": [("Notes on tides", None), ("The moon pulls the sea toward it.", None),
              ("Twice a day the water rises and falls.", None)],
}
TOTALS = {"receipt": "7.70", "invoice": "1,560.00"}
DATES = {"receipt": "12/09/2023", "invoice": "2024-02-29", "letter": "3 March 2025", "form": "17/06/2022"}
WHOLE_PAGE = ["Describe this image.", "Please summarise it.", "Transcribe the page.", "What does this say?"]
# Phrasings unlike the router's examples, with the intent a person means by them.
REQUESTS = {
    "Could you write out everything on this page?": intents.READ,
    "read it to me": intents.READ,
    "What text is in this picture?": intents.READ,
    "Give me an overview of this.": intents.DESCRIBE,
    "What's this picture?": intents.DESCRIBE,
    "summary please": intents.DESCRIBE,
    "Who signed it?": intents.QUESTION,
    "How much is owed?": intents.QUESTION,
    "What day was it written?": intents.QUESTION,
    "Has it been paid?": intents.YES_NO,
    "Does it list any discount?": intents.YES_NO,
    "Write a limerick about the sea.": intents.WRITE,
    "Compose a short note thanking them.": intents.WRITE,
}


def draw(rows) -> Image.Image:
    font = ImageFont.truetype(FONT, 28)
    image = Image.new("RGB", (760, 70 + 56 * len(rows)), "white")
    canvas = ImageDraw.Draw(image)
    for number, (left, right) in enumerate(rows):
        canvas.text((36, 30 + 56 * number), left, fill="black", font=font)
        if right:
            canvas.text((560, 30 + 56 * number), right, fill="black", font=font)
    return image


@pytest.fixture(scope="module")
def model(reader_bundle):
    return load_model(reader_bundle)  # the precision the launcher would select here


@pytest.fixture(scope="module")
def pages(model):
    drawn = {kind: draw(rows) for kind, rows in PAGES.items()}
    return {kind: (image, model.read(image).lines) for kind, image in drawn.items()}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def ungrounded(reply: str, lines) -> list[str]:
    """Figures and capitalised words of `reply` that the OCR did not read."""
    read = _squash(" ".join(line.text for line in lines))
    ours = {"This", "It", "The", "I", "Yes", "No", "A", "An"}
    tokens = re.findall(r"\d[\d.,/:-]*\d|\d|[A-Z][\w'-]+", reply)
    return [t for t in tokens if t not in ours and _squash(t) not in read]


@pytest.mark.parametrize("kind", list(PAGES))
@pytest.mark.parametrize("request_text", WHOLE_PAGE)
def test_whole_page_requests_are_grounded(model, pages, kind, request_text):
    image, lines = pages[kind]
    reply = model.ask(image, request_text)
    assert reply.text != "Not found in the image."
    assert ungrounded(reply.text, lines) == [], reply.text
    assert reply.evidence, "every reply carries the lines it came from"


@pytest.mark.parametrize("kind", list(PAGES))
def test_transcript_is_the_text_in_reading_order(model, pages, kind):
    image, lines = pages[kind]
    reply = model.ask(image, "Read the text.")
    assert reply.text == transcript(lines)
    assert len(reply.evidence) == len(lines)


@pytest.mark.parametrize("kind", list(PAGES))
def test_description_names_heading_date_and_total(model, pages, kind):
    image, lines = pages[kind]
    description = model.caption(image).text
    heading = lines[0].text
    # The top line is quoted as the heading, or as the issuer when the letterhead says so, or
    # said as the kind of page when it names one ("MEMBERSHIP FORM").
    assert f'headed "{heading}"' in description or f'from "{heading}"' in description \
        or description.startswith(f"This is a {heading.lower()}"), description
    if kind in DATES:
        assert _squash(DATES[kind]) in _squash(description), description
    if kind in TOTALS:
        assert f"total of {TOTALS[kind]}" in description, description


def test_yes_no_with_evidence_or_cant_tell(model, pages):
    image, _ = pages["invoice"]
    assert model.ask(image, "Is there a payment deadline?").text == "I can't tell from the text."
    reply = model.ask(image, "Does it include hull cleaning?")
    assert reply.text.startswith("Yes: the text says") and "cleaning" in reply.text.lower()


def test_a_request_to_write_gets_the_page_or_says_the_page_is_silent(model, pages):
    image, lines = pages["receipt"]
    reply = model.ask(image, "Write one sentence about the weather today.")
    assert reply.text.startswith('The text in the image does not mention "weather"'), reply.text
    reply = model.ask(image, "Write a sentence about this receipt.")
    assert reply.text.startswith("This is") and ungrounded(reply.text, lines) == [], reply.text


def test_image_without_text_says_so_whatever_is_asked(model):
    blank = Image.new("RGB", (320, 240), (200, 210, 220))
    for request_text in ("What is the total?", "Describe this image.", "Read the text.", "Is it paid?"):
        assert model.ask(blank, request_text).text == NO_TEXT
    assert model.caption(blank).text == NO_TEXT


@pytest.mark.parametrize("precision", ["fp32", "selected"])
def test_router_on_phrasings_it_has_not_seen(reader_bundle, model, precision):
    loaded = model if precision == "selected" else load_model(reader_bundle, precision="fp32")
    router = loaded._adapter._router
    decided = {text: router.classify(text).name for text in REQUESTS}
    wrong = {text: (got, REQUESTS[text]) for text, got in decided.items() if got != REQUESTS[text]}
    assert not wrong, wrong


# A receipt laid out the way shops print them: letterhead, address over lines, a total before
# rounding, cash tendered. Drawn here, not by the generator.
TILL_RECEIPT = [("KEDAI RUNCIT SERI MAJU", None), ("LOT 12 JALAN MERANTI", None), ("47100 PUCHONG", None),
                ("Receipt 000417", None), ("Beras 5kg", "21.90"), ("Minyak masak", "8.63"),
                ("TOTAL", "30.53"), ("ROUNDING", "0.02"), ("TOTAL PAYABLE", "30.55"), ("CASH", "50.00"),
                ("CHANGE", "19.45")]


@pytest.fixture(scope="module")
def till(model):
    image = draw(TILL_RECEIPT)
    return image, model.read(image).lines


@pytest.mark.parametrize("question", ["How much did the customer have to pay altogether?",
                                      "What is the final amount on this bill?"])
def test_a_total_asked_without_its_label_is_the_largest_total(model, till, question):
    image, _ = till
    assert _squash(model.ask(image, question).text) == "30.55"


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_receipt_photographed_sideways_is_answered_as_upright(model, till, degrees):
    """Turned a quarter either way or upside down (a phone photo without its EXIF turn), the
    receipt reads as it does upright and its answers are the same; each evidence box is where
    that text is in the picture as sent."""
    image, lines = till
    turned = image.rotate(degrees, expand=True, fillcolor="white")
    read = model.read(turned)
    assert [line.text for line in read.lines] == [line.text for line in lines]
    assert read.turns == {90: 3, 180: 2, 270: 1}[degrees]
    for line, upright_line in zip(read.lines, lines):  # each box is the upright one, turned with the image
        corners = []
        for x, y in upright_line.box:
            for turn in range(degrees // 90):  # Pillow's rotate(90, expand=True) is counter-clockwise
                x, y = y, image.size[turn % 2] - x
            corners.append((x, y))
        assert max(abs(a - b) for p, q in zip(line.box, corners) for a, b in zip(p, q)) <= 3, line.text
    question = "How much did the customer have to pay altogether?"
    upright, sideways = model.ask(image, question), model.ask(turned, question)
    assert sideways.text == upright.text and _squash(sideways.text) == "30.55"
    (box,) = [line.box for line in sideways.evidence]
    left, top = min(x for x, _ in box), min(y for _, y in box)
    right, bottom = max(x for x, _ in box), max(y for _, y in box)
    crop = turned.crop((int(left) - 8, int(top) - 8, int(right) + 8, int(bottom) + 8)).rotate(-degrees, expand=True)
    assert _squash(model.read(crop).text) == "30.55"  # the box holds the figure, the right way up


# A tax summary keys its amounts "TOTAL ...": words as near "grand total" as the paid total's.
TAX_SUMMARY_RECEIPT = [("KILANG ROTI MAJU SDN BHD", None), ("Roti putih", "8.91"), ("Seri kaya", "9.60"),
                       ("TOTAL 6% SUPPLIES (INC. GST)", "25.68"), ("TOTAL 0% SUPPLIES", "6.78"),
                       ("TOTAL PAYABLE", "32.46")]


@pytest.mark.parametrize("question", ["What was the grand total?", "What is the total?"])
def test_a_total_of_a_tax_summary_is_not_the_bills_total(model, question):
    assert _squash(model.ask(draw(TAX_SUMMARY_RECEIPT), question).text) == "32.46"


@pytest.mark.parametrize("question, answer", [("What did it come to in the end?", "30.55"),
                                              ("What did the Minyak masak come to?", "8.63")])
def test_what_a_purchase_came_to_is_its_sum(model, till, question, answer):
    # "came to" asks an amount; the whole lot, named in words no example has, its total
    image, _ = till
    assert _squash(model.ask(image, question).text) == answer


def test_an_item_that_is_not_on_the_receipt_has_no_price(model, till):
    image, _ = till
    assert model.ask(image, "How much did the garden hose cost?").text == "Not found in the image."


@pytest.mark.parametrize("question", ["What is the amount for Gula pasir?", "How much was charged for Teh Tarik in total?"])
def test_a_name_the_receipt_never_shows_gets_no_figure(model, till, question):
    # near a total question by its words, but it names an item the page lacks
    image, _ = till
    assert model.ask(image, question).text == "Not found in the image."


@pytest.mark.parametrize("question", ["What did the Minyak masak cost?", "What Is The Total Payable?",
                                      "How much did I pay in total on Friday, Ann?", "What's the total on my Visa?"])
def test_a_name_the_receipt_shows_is_answered(model, till, question):
    image, _ = till
    assert _squash(model.ask(image, question).text) in ("8.63", "30.55")


@pytest.mark.parametrize("question, reply", [
    ("How did the customer pay?", "CASH"),  # the instrument keying the amount tendered, not 50.00
    ("Was it paid by card or cash?", "CASH"),
    ("Did I pay by card?", 'No: the text says "CASH 50.00".'),
    ("Who is to be paid?", "KEDAI RUNCIT SERI MAJU"),  # the shop, whoever asks for the money
])
def test_how_it_was_paid_and_who_is_paid(model, till, question, reply):
    image, _ = till
    assert model.ask(image, question).text == reply


def test_an_address_over_two_lines_is_answered_whole_with_both_lines_as_evidence(model, till):
    image, _ = till
    reply = model.ask(image, "Where is the shop?")
    assert _squash(reply.text).replace(",", "") == "lot12jalanmeranti47100puchong", reply.text
    assert len(reply.evidence) == 2


def test_a_long_form_is_described_not_refused(model):
    rows = [(f"Field {number}: value number {number} of a long filled-in form", None) for number in range(40)]
    image = draw(rows)
    reply = model.ask(image, "Describe this image.")
    assert reply.text.startswith(("This looks like", "This is a page")), reply.text


def test_a_long_transcript_comes_whole_unless_the_caller_sets_a_budget(model):
    # 30 lines: far more tokens than the bundle's default budget (a trial's hotel folio
    # was cut at 128 tokens with only finish_reason "length" to say so)
    rows = [(f"Line {number}: Room charge {number} nights at 129.00 EUR", None) for number in range(30)]
    image = draw(rows)
    whole = model.ask(image, "Transcribe this document.")
    assert whole.finish_reason == "stop"
    assert whole.usage.completion_tokens > model.default_params.max_new_tokens
    assert whole.text == transcript(model.read(image).lines)
    cut = model.ask(image, "Transcribe this document.", max_new_tokens=12)
    assert cut.finish_reason == "length" and cut.usage.completion_tokens == 12
    assert whole.text.startswith(cut.text)


def test_a_summary_is_the_description_and_the_pages_keys_with_their_values(model, pages):
    image, lines = pages["form"]
    description = model.ask(image, "Describe this image.").text
    summary = model.ask(image, "Summarize this.")
    assert summary.text.startswith(description[:-1]), (description, summary.text)
    # the keys the page writes with a colon, their values as read, none the description gave
    assert "Name: Aiko Tanaka" in summary.text and "Plan: Family" in summary.text, summary.text
    assert summary.text.count("17/06/2022") == description.count("17/06/2022")
    assert ungrounded(summary.text, lines) == [] and len(summary.evidence) > len(model.ask(image, "Describe this image.").evidence)
    # a page without keys: the description alone
    image, _ = pages["prose"]
    assert model.ask(image, "Give me a summary.").text == model.ask(image, "Describe this image.").text


def test_requests_for_the_page_in_few_words_get_the_page(model, pages):
    image, lines = pages["receipt"]
    # every word one of a whole-page request's: the transcript, not "Not found"
    assert model.ask(image, "Read me the receipt.").text == transcript(lines)
    image, lines = pages["letter"]
    assert model.ask(image, "What does the note say?").text == transcript(lines)
    # whether there is text, asked yes/no: the text (a yes/no about something else stays one)
    assert model.ask(image, "Is there any writing on it?").text == transcript(lines)
    assert model.ask(pages["invoice"][0], "Is there a payment deadline?").text == "I can't tell from the text."
    assert model.ask(Image.new("RGB", (320, 240), (200, 210, 220)), "Is there any text?").text == NO_TEXT


@pytest.mark.parametrize(("question", "person"), [
    ("Who is meant to read this?", "Mr Okafor"),
    ("Who will receive this letter?", "Mr Okafor"),
    ("Who put their name at the bottom of this letter?", "Ines Duarte"),
    ("Whose name closes the letter?", "Ines Duarte"),
])
def test_a_letters_two_people_are_asked_for_in_other_words(model, pages, question, person):
    # no key names them ("Dear ...", "Kind regards," over a name): the question's nearness to
    # questions about a letter's reader or writer decides
    image, _ = pages["letter"]
    assert model.ask(image, question).text == person


def test_someone_a_letter_does_not_name_is_not_its_reader_or_writer(model, pages):
    image, _ = pages["letter"]
    for question in ("Who is the landlord?", "Who is the head teacher?"):
        assert model.ask(image, question).text == "Not found in the image.", question
    # a question about what the letter speaks of is about that, not about its people
    assert model.ask(image, "Who gets the book?").text == "Not found in the image."


def test_a_request_about_a_picture_without_one_says_none_was_attached(model):
    from runtime.kinds.reader import NO_IMAGE

    for request_text in ("Describe this image.", "How many cats are there?", "Summarize this document.",
                         "What is the invoice total?", "When is my bill due?"):
        assert model.generate(None, request_text, max_new_tokens=48).text.startswith("No image was attached"), request_text
    assert NO_IMAGE.startswith("No image was attached")
    # a request about no picture is the language model's to answer
    assert not model.generate(None, "What is the capital of France?", max_new_tokens=8).text.startswith("No image")
    assert not model.generate(None, "What should an invoice include?", max_new_tokens=8).text.startswith("No image")
    # ... and so is one that brings its own text after a colon, whatever that text names
    pasted = "Summarize the text: INVOICE No 1234, total due 42.50 EUR, dated 3 May 2024."
    assert not model.generate(None, pasted, max_new_tokens=8).text.startswith("No image")
    assert model.generate(None, "Describe this image: is it a receipt?", max_new_tokens=8).text.startswith("No image")
    assert model.generate(None, "Describe this image: is it a receipt or an invoice or a bill?",
                          max_new_tokens=8).text.startswith("No image")
    # a user trial: the document is the text after the colon
    council = "Summarize this document: The city council met on Tuesday and approved a six-month trial of bus lanes."
    assert not model.generate(None, council, max_new_tokens=4).text.startswith("No image")


def test_a_request_to_read_a_text_it_points_at_but_does_not_bring_says_no_image_was_attached(model):
    from runtime.chat import Message

    # A user trial (session 44): these went to the language model, which made a text up.
    for request_text in ("Transcribe the text.", "What does it say?", "Can you copy out this writing for me?",
                         "what's written here", "What’s written here?", "Summarize the text please"):
        assert model.generate(None, request_text, max_new_tokens=8).text.startswith("No image was attached"), request_text
    # requests that name a text the model may know, bring their own, or write one are the model's
    for request_text in ("Write a haiku about rain.", "Read me a poem about the sea.", "What does the word 'ennui' mean?",
                         "Explain the text of the First Amendment.", "Give me the words to a birthday song.",
                         "Summarize this: the meeting moved to Tuesday because the room was booked and two people were away.",
                         # a review's false refusals: the pointed phrase goes on, or the text comes after a colon
                         "Describe this year's fashion trends.", "How do I respond to this text from my mom asking me to visit?",
                         "Translate these words: cat, dog", "What does it mean to read between the lines?"):
        assert not model.generate(None, request_text, max_new_tokens=4).text.startswith("No image"), request_text
    # a chat client's short system message changes nothing; a long one may hold the text
    assistant = (Message("system", "You are a helpful assistant."),)
    assert model.generate(None, "What does it say?", assistant, max_new_tokens=8).text.startswith("No image was attached")
    holding = (Message("system", "The user's note, for reference: " + "the delivery will arrive on Tuesday morning " * 6),)
    assert not model.generate(None, "What does it say?", holding, max_new_tokens=4).text.startswith("No image")
    # with an earlier turn, "it" may be what was said there
    poem = (Message("user", "Write a two-line poem about snow."), Message("assistant", "Snow falls soft and white, / the town sleeps tonight."))
    assert not model.generate(None, "Read it back to me.", poem, max_new_tokens=4).text.startswith("No image")


def test_a_question_naming_a_code_or_a_number_sign_asks_that_field_not_for_a_description(model):
    # "LD50" has no word of three letters and "#" no letters: the requests still name a field
    # the page shows, which a description does not answer.
    rows = [("SAFETY DATA SHEET", None), ("Product: Acetone", None), ("Oral LD50 (rat): 5800 mg/kg", None),
            ("Page # 2 of 4", None)]
    image = draw(rows)
    assert model.ask(image, "What is the LD50?").text == "5800 mg/kg"
    assert model.ask(image, "What is the page #?").text == "2 of 4"
    # a code that says which page is no field: the request is for the whole page
    report = draw([("FY2020 ANNUAL REPORT", None), ("Revenue grew in every region.", None), ("Total", "4,210")])
    assert model.ask(report, "Summarize the FY2020 report.").text.startswith("This ")


def test_free_generation_continues_the_chat_with_its_roles(model, reader_bundle):
    import json

    from runtime.chat import Message, format_chatml

    lm_tokens = model._adapter.prompt_tokenizer
    default = json.loads((reader_bundle / "bundle.json").read_text())["extra"]["default_system"]

    def prompt_tokens(history, prompt):
        return model.generate(None, prompt, history, max_new_tokens=1).usage.prompt_tokens

    def chatml(messages):
        return len(lm_tokens.encode(format_chatml(messages, default), add_special_tokens=False))

    system = Message("system", "You answer in one word.")
    # a system message replaces the bundle's default system prompt, as its own turn
    assert prompt_tokens((system,), "Name a colour.") == chatml([system, Message("user", "Name a colour.")])
    turns = (system, Message("user", "Name a colour."), Message("assistant", "Blue."))
    assert prompt_tokens(turns, "Another?") == chatml([*turns, Message("user", "Another?")])
    assert prompt_tokens((), "Name a colour.") == chatml([Message("user", "Name a colour.")])
    # earlier turns say nothing of a picture: the request is the last user turn
    assert model.generate(None, "Describe this image.", (Message("user", "Hi"), Message("assistant", "Hello!")),
                          max_new_tokens=8).text.startswith("No image was attached")
    # ... unless one pasted the text the request names
    memo = (Message("user", "MEMO to all staff: the canteen closes at 3 pm on Friday for cleaning."),
            Message("assistant", "Noted."))
    assert not model.generate(None, "Summarize the memo.", memo, max_new_tokens=8).text.startswith("No image")
    # a system message may say all that is asked of an empty last turn; alone, an empty prompt is refused
    assert model.generate(None, "", (Message("system", "Write a haiku about rain."),), max_new_tokens=4).text
    with pytest.raises(InvalidRequestError):
        model.generate(None, " ", max_new_tokens=1)
    for bad in ((Message("assistant", "Hi"),), (Message("user", "Hi"),), (Message("user", "Hi"), system)):
        with pytest.raises(InvalidRequestError):
            model.generate(None, "Name a colour.", bad, max_new_tokens=1)


def test_a_request_ending_in_a_key_of_the_page_asks_for_that_field(model):
    # Keys a whole-page request could hold ("Report", "Kind", "To") or too short for the word
    # matching ("Yr"), written on the page as the request writes them: the field, not the page.
    rows = [("QUALITY REPORT", None), ("To: Lab files", None), ("Report", "517"), ("Kind", "Plastic rod"),
            ("Yr", "1988"), ("Prepared for the smoke analysis group", None), ("Page", "2")]
    image = draw(rows)
    lines = model.read(image).lines
    for request_text, value in (("What does the form say for To?", "Lab files"), ("What does the form say for Yr?", "1988"),
                                ("What does the form say for Report?", "517"), ("Kind?", "Plastic rod"),
                                ("What is the Kind?", "Plastic rod"), ("What's the report?", "517")):
        assert _squash(model.ask(image, request_text).text) == _squash(value), request_text
    # what it says *for* something the page lacks is not found, not the page in its place
    for request_text in ("What does the form say for terms?", "What does the form say for the invoice number?"):
        assert model.ask(image, request_text).text == "Not found in the image.", request_text
    # ... but asked about the page itself, the page
    assert model.ask(image, "What does the form say?").text == transcript(lines)
    assert model.ask(image, "Describe this report.").text.startswith(("This looks like", "This is a"))
    assert model.ask(image, "What is on the page?").text != "2"  # the page, not its "Page 2" field


# A bill's other parties: a name over its address under a key of its own, side by side; the
# issuer's letterhead above them. Questions about the customer or the delivery get a party's
# lines, questions about the issuer still the letterhead.
PARTIES_INVOICE = [("Fjordline Tools AB", None), ("Storgatan 4, 411 38 Goteborg", None), ("Invoice date: 2025-04-02", None),
                   ("Bill to:", "Ship to:"), ("Ingrid Solberg", "Mateo Ruiz"), ("18 Birch Road", "7 Quay Road"),
                   ("Leeds LS2 9JT", "Cork T12 X2Y3"), ("Pay by: 2025-05-02", None), ("Pump housing", "412.00"),
                   ("Total", "412.00")]


@pytest.mark.parametrize(("question", "answer"), [
    ("Which customer is this invoice made out to?", "Ingrid Solberg"),
    ("Who receives the parcel?", "Mateo Ruiz"),
    ("On which street will the parcel arrive?", "7 Quay Road"),
    ("Which company sent the invoice?", "Fjordline Tools AB"),
    ("What is the payment deadline?", "2025-05-02"),
    # a sentence that says why before the question changes nothing
    ("I'm paying my bills today. Which company sent the invoice?", "Fjordline Tools AB"),
    ("The parcel never arrived. Who receives the parcel?", "Mateo Ruiz"),
    ("My bank needs it. What is the payment deadline?", "2025-05-02"),
])
def test_parties_of_a_bill_and_its_deadline(model, question, answer):
    reply = model.ask(draw(PARTIES_INVOICE), question)
    assert _squash(reply.text) == _squash(answer), reply.text


def test_a_name_over_an_address_is_no_answer_about_someone_else(model):
    # a block keyed otherwise than "... to" is not whom the page is for; nor is the bill's
    # party whoever a question names
    rows = [("Northgate Clinic", None), ("Emergency contact:", None), ("Ingrid Solberg", None),
            ("18 Birch Road", None), ("Leeds LS2 9JT", None)]
    for question in ("Who is the manager?", "Who is the customer?"):
        assert "Solberg" not in model.ask(draw(rows), question).text, question
    assert "Solberg" not in model.ask(draw(PARTIES_INVOICE), "Who is the doctor?").text


def test_a_cell_named_by_its_row_and_column_whatever_the_question_calls_it(model):
    font = ImageFont.truetype(FONT, 26)
    image = Image.new("RGB", (900, 330), "white")
    canvas = ImageDraw.Draw(image)
    grid = [("", "2019", "2020", "2021"), ("Oslo", "1,204.50", "980.10", "1,377.25"),
            ("Bergen", "760.00", "812.40", "905.75"), ("Tromso", "301.90", "344.00", "390.60")]
    for row, cells in enumerate(grid):
        for column, text in enumerate(cells):
            if text:  # figures right-aligned under their year, as tables print them
                right = 330 + 190 * column if column else 36 + canvas.textlength(text, font=font)
                canvas.text((right - canvas.textlength(text, font=font), 40 + 64 * row), text, fill="black", font=font)
    for question, answer in (("Give me the number where Bergen meets 2020.", "812.40"),
                             ("Which value stands in the 2021 column for Tromso?", "390.60")):
        assert _squash(model.ask(image, question).text) == _squash(answer), question
    # two cells named, or a cell of another type than asked: not one cell's figure
    for question in ("By how much did Bergen grow from 2020 to 2021?", "On which date was the Bergen 2021 figure reported?"):
        assert model.ask(image, question).text not in ("760.00", "812.40", "905.75"), question


def test_where_to_pay_is_no_party_and_a_sum_on_the_bill_is_its_total(model):
    # "Remit to:" is where the issuer wants the money: no customer's block
    rows = [("Harbour Supplies Ltd", None), ("Remit to:", None), ("Ingrid Solberg", None), ("18 Birch Road", None),
            ("Leeds LS2 9JT", None), ("Total: 45.00", None)]
    assert "Solberg" not in model.ask(draw(rows), "Who is the customer?").text
    # a key the request names outside a phrase about the page is still its field
    assert _squash(model.ask(draw(rows), "What is the total on the bill?").text) == "45.00"


@pytest.fixture(scope="module")
def club_card(model):
    rows = [("HARBOUR ROWING CLUB", None), ("Member no: HR-40917", None), ("Name: Tomasz Wiśniewski", None),
            ("Occupation: Carpenter", None), ("Joined: 02/05/2019", None)]
    return draw(rows)


@pytest.mark.parametrize("question", ["What's the invoice number?", "Give me the receipt no.", "ticket number?",
                                      "Tell me the inv number."])
def test_the_number_of_a_document_the_page_never_names_is_not_found(model, club_card, question):
    # the page holds a number (the member's), but of no invoice, receipt or ticket
    assert model.ask(club_card, question).text == "Not found in the image."


def test_an_abbreviation_the_page_prints_is_found_as_printed(model):
    image = draw([("HARBOUR TOOLS", None), ("Inv No: 4471", None), ("Drill", "89.00")])
    assert model.ask(image, "What's the inv no?").text == "4471"


def test_a_number_the_page_names_is_still_found(model, club_card):
    assert model.ask(club_card, "What is the member number?").text == "HR-40917"


@pytest.mark.parametrize("question", ["who's their emergency person", "Who is his doctor?", "Who is her next of kin?"])
def test_someone_the_member_has_is_not_the_member(model, club_card, question):
    # "their X" is another person than the one the card is about; the card names no such person
    assert model.ask(club_card, question).text == "Not found in the image."


@pytest.mark.parametrize("question", ["What is his name?", "Who is the card holder?", "What is their name?",
                                      "Who holds their membership card?"])
def test_the_member_is_asked_for_by_name_or_role(model, club_card, question):
    assert model.ask(club_card, question).text == "Tomasz Wiśniewski"


@pytest.mark.parametrize("question", ["How does he earn a living?", "what work does he do"])
def test_a_key_far_nearer_the_question_than_any_other_answers_it(model, club_card, question):
    # no word of the question is a key's; "Occupation" is much the nearest to it (0.48-0.52,
    # the next key 0.26-0.35: under MIN_KEY_SIMILARITY, over the clear margin)
    assert model.ask(club_card, question).text == "Carpenter"


def test_a_letter_is_asked_for_its_reference_by_what_the_user_calls_it(model):
    # a letter rarely prints the word "letter": the rule for absent documents is not for it
    image = draw([("Harbour Legal LLP", None), ("Reference: HL/2291/KT", None), ("12 May 2024", None),
                  ("Dear Ms Park,", None), ("Your lease renewal is enclosed.", None)])
    assert model.ask(image, "What is the letter reference?").text == "HL/2291/KT"
    assert model.ask(image, "What's the invoice number?").text == "Not found in the image."


@pytest.mark.parametrize("request_text", ["Give me the case reference.", "Which contract does this bill refer to?"])
def test_a_request_for_something_the_page_lacks_is_not_answered_with_a_description(model, pages, request_text):
    # near the describe examples by its words ("Give me ..."), but it names one thing the page lacks
    image, _ = pages["invoice"]
    assert model.ask(image, request_text).text == "Not found in the image."


@pytest.mark.parametrize("request_text", ["Describe the main items on this invoice.", "What's going on in this document?",
                                          "Give me a summary of the charges.", "Tell me about this invoice from the boatyard.",
                                          "Tell me about this invoice from Halvorsen Marine."])
def test_a_description_that_names_more_than_the_page_is_still_a_description(model, pages, request_text):
    image, lines = pages["invoice"]
    reply = model.ask(image, request_text)
    assert "Halvorsen Marine AS" in reply.text and ungrounded(reply.text, lines) == [], reply.text


def test_a_value_that_opens_a_word_of_the_question_is_no_key_for_it(model):
    # "Cash" opens "cashier": near the question by its letters, not by its key "Paid by"
    image = draw([("CORNER DELI", None), ("Bagel", "2.40"), ("TOTAL", "2.40"), ("Paid by: Cash", None)])
    assert model.ask(image, "Who was my cashier today?").text == "Not found in the image."
    assert model.ask(image, "How did I pay?").text == "Cash"


@pytest.mark.parametrize("request_text", ["Tell me the Re line.", "what are they writing to me about"])
def test_a_letters_re_line_is_its_subject(model, request_text):
    image = draw([("Riverside Library", None), ("Subject: Reserved book ready", None), ("Dear Mr Okafor,", None),
                  ("Your reserved book has arrived.", None), ("Kind regards,", None), ("Ines Duarte", None)])
    assert model.ask(image, request_text).text == "Reserved book ready"


def test_the_title_of_a_page_without_a_title_key_is_its_heading(model, pages):
    image, _ = pages["prose"]
    assert model.ask(image, "What is the title?").text == "Notes on tides"
    assert model.ask(image, "What is the job title?").text == "Not found in the image."  # a field, not the page's


def _page(items, size=(1100, 700), font_size=24) -> Image.Image:
    """A page with each (text, x, y) drawn where it says."""
    font = ImageFont.truetype(FONT, font_size)
    image = Image.new("RGB", size, "white")
    canvas = ImageDraw.Draw(image)
    for text, x, y in items:
        canvas.text((x, y), text, fill="black", font=font)
    return image


def test_an_e_mail_a_lab_report_and_a_directory_through_the_recognizer(model):
    """Pages of kinds a user brings first (session 32's trial), read by the real recognizer:
    an e-mail's header, a table under a report's key-value rows, a list of names and phones."""
    mail = _page([("From:", 40, 40), ("Lena Vogt <lena.vogt@brightcargo.de>", 160, 40),
                  ("Sent:", 40, 90), ("Thursday, 14 November 2024 09:42", 160, 90),
                  ("To:", 40, 140), ("Marcus Hale <m.hale@tidewater.com>", 160, 140),
                  ("Subject: Shipment delayed", 40, 190), ("Hi Marcus,", 40, 260),
                  ("Your order #A-55812 (48 cartons) was held at customs.", 40, 310),
                  ("Best regards,", 40, 400), ("Lena Vogt", 40, 440)])
    assert model.ask(mail, "Who sent this?").text == "Lena Vogt"
    assert _squash(model.ask(mail, "What is Marcus Hale's email address?").text) == "m.hale@tidewater.com"
    assert model.ask(mail, "How many cartons are in the order?").text == "48"
    assert model.ask(mail, "What is this document?").text.startswith("This is an e-mail")
    report = _page([("Patient:", 40, 40), ("Margaret Ellison", 200, 40), ("DOB:", 600, 40), ("07/22/1961", 720, 40),
                    ("Collected:", 40, 90), ("02/11/2025 08:15", 200, 90),
                    ("Test", 40, 180), ("Result", 330, 180), ("Unit", 500, 180), ("Reference Range", 700, 180),
                    ("Hemoglobin", 40, 230), ("11.2", 330, 230), ("g/dL", 500, 230), ("12.0 - 15.5", 700, 230),
                    ("Glucose", 40, 280), ("126", 330, 280), ("mg/dL", 500, 280), ("70 - 99", 700, 280),
                    ("Potassium", 40, 330), ("4.1", 330, 330), ("mmol/L", 500, 330), ("3.5 - 5.1", 700, 330)])
    assert model.ask(report, "What is the glucose result?").text == "126"
    assert _squash(model.ask(report, "What is the reference range for glucose?").text) == "70-99"
    assert _squash(model.ask(report, "What is the patient's date of birth?").text) == "07/22/1961"
    assert "07/22/1961" not in model.caption(report).text  # a birth date is not the page's date
    directory = _page([("Staff Directory", 40, 30), ("Name", 40, 100), ("Phone", 500, 100),
                       ("Dr. Amelia Stone", 40, 150), ("(555) 201-3344", 500, 150),
                       ("Carlos Medina", 40, 200), ("(555) 201-7781", 500, 200),
                       ("Reception", 40, 250), ("(555) 201-1000", 500, 250)], size=(900, 320))
    assert _squash(model.ask(directory, "What is Dr. Stone's number?").text) == "(555)201-3344"
    assert _squash(model.ask(directory, "What is the reception number?").text) == "(555)201-1000"
    assert model.ask(directory, "Whose number is (555) 201-7781?").text == "Carlos Medina"
    assert model.ask(directory, "What is Dr. Stone's room number?").text == "Not found in the image."


def test_a_boarding_pass_a_statement_and_a_parking_notice_through_the_recognizer(model):
    """Pages of session 33's trial kinds, read by the real recognizer: a row of labels over
    its values beside a stub, balances keyed with a date in the key, a notice's status and a
    second key after a web address; the kind each page states."""
    boarding = _page([("NORDIC SKY AIRLINES", 40, 30), ("BOARDING PASS", 1000, 30),
                      ("Date", 40, 280), ("Departure", 260, 280), ("Boarding Time", 460, 280), ("Gate", 700, 280),
                      ("14MAR25", 1050, 285),
                      ("14MAR25", 40, 312), ("09:45", 260, 312), ("09:10", 460, 312), ("B17", 700, 312)],
                     size=(1300, 400))
    assert model.ask(boarding, "What gate do I board at?").text == "B17"
    assert model.ask(boarding, "What time does boarding start?").text == "09:10"
    assert model.caption(boarding).text.startswith("This is a boarding pass")
    statement = _page([("Alpenland Savings Bank", 40, 30), ("Account Statement", 760, 30),
                       ("Opening balance (01 Feb 2025):", 40, 120), ("€4,218.37", 460, 120),
                       ("Total debits:", 40, 220), ("€2,313.77", 280, 220), ("Closing balance (28 Feb 2025):", 640, 220),
                       ("Total credits:", 40, 262), ("€3,209.90", 280, 262), ("€5,114.50", 640, 262)],
                      size=(1100, 340))
    assert _squash(model.ask(statement, "What was the opening balance?").text) == "€4,218.37"
    assert _squash(model.ask(statement, "What's the closing balance?").text) == "€5,114.50"
    caption = model.caption(statement).text
    assert caption.startswith("This is an account statement") and 'from "Alpenland Savings Bank"' in caption, caption
    notice = _page([("CITY OF BRIGHTON & HOVE", 40, 30), ("PENALTY CHARGE NOTICE - Parking", 40, 75),
                    ("Time of contravention:", 40, 150), ("14:52", 400, 150),
                    ("Payment status:", 40, 200), ("UNPAID", 400, 200),
                    ("Online: brighton-hove.gov.uk/pcn Phone: 01273 290 000", 40, 260)], size=(1100, 330))
    assert model.ask(notice, "Is this fine paid?").text.startswith("No")
    assert _squash(model.ask(notice, "What's the phone number to pay?").text) == "01273290000"
    assert model.ask(notice, "What time was the contravention?").text == "14:52"
    assert model.caption(notice).text.startswith("This is a penalty charge notice")


def test_a_description_gives_the_invoices_total_not_the_first_amount_under_an_amount_column(model):
    """An item table headed "Qty | Price | Amount": "Amount" sits right over the first item's
    20.00 and is nearer "total" than "Total due" is; a table's cell is a total by its row."""
    font = ImageFont.truetype(FONT, 24)
    image = Image.new("RGB", (820, 520), "white")
    canvas = ImageDraw.Draw(image)
    canvas.text((60, 40), "INVOICE", font=font, fill="black")
    canvas.text((60, 100), "Northwind Traders", font=font, fill="black")
    canvas.text((520, 100), "Date: 2024-05-17", font=font, fill="black")
    for row, cells in enumerate([("Description", "Qty", "Price", "Amount"), ("Widget A", "2", "10.00", "20.00"),
                                 ("Gadget B", "1", "35.50", "35.50"), ("Service fee", "3", "15.00", "45.00")]):
        for x, text in zip((60, 450, 560, 680), cells):
            canvas.text((x, 200 + 46 * row), text, font=font, fill="black")
    canvas.text((520, 420), "Total due: 100.50 USD", font=font, fill="black")
    reply = model.ask(image, "Describe this image.")
    assert "100.50" in reply.text and "20.00" not in reply.text, reply.text


def test_a_description_gives_the_receipts_total_not_the_amount_under_its_heading(model):
    """'Description | Amount' over the items: the heading "Amount" keys the first item's
    19.00 below it, and is nearer "total" than the row "Total" is; that 19.00 has its own
    label in its row ("Coffee beans"), which says what it is."""
    image = draw([("ACME STORE", None), ("Description", "Amount"), ("Coffee beans", "19.00"), ("Milk", "3.25"),
                  ("Subtotal", "22.25"), ("Tax", "1.78"), ("Total", "24.03")])
    reply = model.ask(image, "Describe this image.")
    assert "24.03" in reply.text and "19.00" not in reply.text, reply.text
