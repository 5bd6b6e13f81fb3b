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
