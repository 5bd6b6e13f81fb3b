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

    words = frozenset("the of address dress email emil receiver number summer shop total what is payment pavement "
                      "title little pay able fall back order recorder".split())
    assert corrected("emial adress of the shop", words, frozenset()) == "email address of the shop"
    assert corrected("what is the reciever nummer", words, frozenset()) == "what is the receiver number"
    assert corrected("tittle of the payement", words, frozenset()) == "title of the payment"
    # two words as near, both keeping the first letter: the one at least twice as common
    ranked = words | {"letter", "lester", "later"}
    assert corrected("the leter of the shop", ranked, frozenset()) == "the leter of the shop"
    assert corrected("the leter of the shop", ranked, frozenset(), {"letter": 3661, "lester": 14131}) == \
        "the letter of the shop"
    assert corrected("the leter of the shop", ranked, frozenset(), {"letter": 3661, "lester": 5000}) == \
        "the leter of the shop"
    # the page's own word first, though the vocabulary lacks it
    assert corrected("total of the invoce", words, frozenset({"invoice", "total"})) == "total of the invoice"


def test_words_english_builds_names_and_shortenings_stay_as_typed():
    from runtime.reader.spelling import corrected

    words = frozenset("pay able fall back order recorder playable fullback the of subject sub inc who".split())
    for question in ("payable of the order", "fallback of the order", "reorder of the order"):
        assert corrected(question, words, frozenset()) == question
    assert corrected("Kowalsky of the order", words, frozenset({"kowalski"})) == "Kowalsky of the order"  # a name
    assert corrected("who is invoiced", words, frozenset({"invoice"})) == "who is invoiced"  # the page's word, ended
    assert corrected("subj of the order", words, frozenset({"subject"})) == "subj of the order"  # spelled out later
    # two words as near, neither keeping the first letter: left as typed
    assert corrected("the tabe", frozenset({"table", "taker", "tube"}) | words, frozenset()) == "the tabe"
    assert corrected("emial", frozenset(), frozenset()) == "emial"  # no vocabulary, nothing put right
