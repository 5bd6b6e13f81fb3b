"""Words compared as a recognizer misreads them, and requests that name what a page shows."""

from runtime.reader import intents
from runtime.reader.spelling import edits_within, occurs_in
from runtime.reader.vocabulary import STOP


def test_misread_labels_still_read():
    assert occurs_in("supplier", "SUPPL.IER:")
    assert occurs_in("submitted", "SUBMIIIED BY:")
    assert occurs_in("commitments", "PREVIOUSSCOMMITMENTSIHISPROJECI:")
    assert occurs_in("account", "AccourT ilAME")


def test_short_words_need_every_letter():
    assert not occurs_in("tax", "max")
    assert not occurs_in("date", "dare")
    assert occurs_in("date", "DATE:")


def test_long_words_tolerate_two_edits_not_three():
    assert edits_within("signature", "sgnatre") == 2
    assert occurs_in("signature", "SGNATRE")
    assert not occurs_in("signature", "SGNT")


def test_whole_page_requests_name_nothing():
    for request in ("Read the text.", "What does it say?", "Describe this image.", "Summarize the invoice.",
                    "Transcribe this receipt."):
        assert intents.named_words(request, STOP) == []


def test_a_request_naming_a_field_keeps_its_words():
    assert intents.named_words("What does the form say for physical state?", STOP) == ["physical"]  # "state" is a common verb ("please state")


WORDS = frozenset("total sales inclusive of date birth physical state amount pay able".split())


def test_run_together_words_split_into_known_words():
    from runtime.reader.spelling import split_run_together

    assert split_run_together("TOTALSALES(INCLUSIVE OF GST):", WORDS) == "total sales(inclusive of gst):"
    assert split_run_together("Dateofbirth", WORDS) == "date of birth"
    assert split_run_together("PHYSICALSTATE", WORDS) == "physical state"
    # Garbled or unknown runs stay as read: no split into scraps.
    assert split_run_together("KAWASANPERINDUSTRIAN", WORDS | {"ka", "wa", "san", "per"}) == "kawasanperindustrian"


def test_a_typing_slip_is_put_right_to_the_one_word_it_misses():
    from runtime.reader.spelling import corrected

    targets = {word: rank for rank, word in enumerate(
        "the of what is shop total address dress email receiver number summer payment pavement title little".split())}
    words = frozenset(targets) | {"emil", "lester"}
    assert corrected("emial adress of the shop", words, frozenset(), targets) == "email address of the shop"
    assert corrected("what is the reciever nummer", words, frozenset(), targets) == "what is the receiver number"
    assert corrected("tittle of the payement", words, frozenset(), targets) == "title of the payment"
    # the page's own word first, though no vocabulary has it
    assert corrected("total of the invoce", words, frozenset({"invoice", "total"}), targets) == "total of the invoice"
    # two words as near, both keeping the first letter: the one at least twice as common
    assert corrected("the leter of the shop", words, frozenset(), {**targets, "letter": 3661, "lester": 14131}) == \
        "the letter of the shop"
    assert corrected("the leter of the shop", words, frozenset(), {**targets, "letter": 3661, "lester": 5000}) == \
        "the leter of the shop"
    assert corrected("emial", words, frozenset(), {}) == "emial"  # nothing to put it right to


def test_real_words_names_and_shortenings_stay_as_typed():
    from runtime.reader.spelling import corrected

    targets = {word: rank for rank, word in enumerate(
        "pay able fall back order recorder playable fullback the of subject who title total rotary number".split())}
    words = frozenset(targets) | {"debit", "payne"}
    for question in ("payable of the order", "fallback of the order", "reorder of the order", "debit of the order"):
        assert corrected(question, words, frozenset(), targets) == question
    assert corrected("Kowalsky of the order", words, frozenset({"kowalski"}), targets) == "Kowalsky of the order"  # a name
    assert corrected("subj of the order", words, frozenset({"subject"}), targets) == "subj of the order"  # spelled out later
    assert corrected("who is invoiced", words, frozenset({"invoice"}), targets) == "who is invoiced"  # the page's word, ended
    assert corrected("the notary", words, frozenset(), targets) == "the notary"  # "rotary" changes its first letter
    # a page word two edits away that the slip would not give: "totle" over "Total" is no "title"
    assert corrected("totle of the order", words, frozenset({"total"}), targets) == "totle of the order"
    assert corrected("totle of the order", words, frozenset({"tyrle"}), targets) == "title of the order"  # no known word
    assert corrected("the nummerr", words, frozenset(), targets) == "the nummerr"  # two edits: as typed
    assert corrected("the " + "a" * 5000, words, frozenset(), targets) == "the " + "a" * 5000  # no word: as typed
