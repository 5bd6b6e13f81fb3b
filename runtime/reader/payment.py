"""How a bill was paid: the payment instruments printed on receipts and invoices (issue 10).

A receipt says how it was paid in one of a few ways: a key and its value ("Paid by: Debit
card", "PAYMENT MODE | CASH", "CARD TYPE : VISA"), the instrument as the key of the amount
tendered ("CASH : 50.00", "MASTER XXXXXXXXXXXX9113: 83.55", "{41005926} VISA | 204.20"),
or the instrument alone on a line. A question about the method ("How did I pay?") is
answered by that instrument, never by the amount beside it ("PAYMENT : 7.30" says how much,
not how).

The names are world knowledge, as currency codes are: cash in a few languages, cards and
the card schemes of the world, bank transfers, cheques, wallets and vouchers. A text is an
instrument only when every word of it is one of these or a word that goes with them (a
masked card number, "paid by", "contactless"): "CASH RECEIPT", "CASH & CARRY" and "CASH1"
(a till's name) are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import currency_mark, parse_money

CASH, CARD, CHEQUE, TRANSFER, WALLET, VOUCHER = "cash", "card", "cheque", "transfer", "wallet", "voucher"

# Each name, lower case, as the words it is written with; a kind per name.
_NAMES = {
    CASH: "cash|espèces|especes|efectivo|contanti|bargeld|tunai|dinheiro|kontant|contant|gotówka|hotovost",
    CARD: "card|credit card|debit card|credit|debit|visa|visa debit|visa electron|mastercard|master card|master|"
          "maestro|amex|american express|discover|diners|diners club|jcb|unionpay|union pay|rupay|interac|eftpos|"
          "nets|girocard|ec karte|ec-karte|ec card|bancontact|carte bancaire|carte bleue|cb|elo|hipercard|mir|"
          "karte|kartenzahlung|carte|tarjeta|cartão|kaart|pinpas|v pay|chip and pin|chip & pin|contactless",
    CHEQUE: "cheque|chèque|check",
    TRANSFER: "bank transfer|transfer|wire|wire transfer|bank wire|direct debit|direct deposit|sepa|sepa transfer|ideal|giro|bank giro|bacs|"
              "ach|standing order|überweisung|virement|bonifico|transferencia",
    WALLET: "apple pay|google pay|samsung pay|paypal|alipay|wechat pay|grabpay|venmo|zelle|swish|twint|mobilepay|"
            "paytm|pix|klarna|touch n go|mobile payment",
    VOUCHER: "voucher|gift card|gift voucher|gift certificate|store credit",
}
_KIND_OF = {tuple(name.split()): kind for kind, names in _NAMES.items() for name in names.split("|")}
_LONGEST = max(len(words) for words in _KIND_OF)
# Words that go with an instrument without naming another thing ("Paid by Visa", "VISA
# CONTACTLESS", "Debit card payment").
_WITH = frozenset("paid by via with using payment pay tendered tender tend received sale and & contactless chip pin "
                  "approved accepted".split())
# Words that name an instrument only where a key says it is one ("Paid by: Check"; a lone
# "CHECK" on a restaurant bill is the bill, a lone "CREDIT" a balance, "CB" anything).
_KEYED_ONLY = frozenset({("check",), ("credit",), ("cb",), ("mir",), ("elo",), ("giro",), ("ach",), ("wire",),
                         ("transfer",), ("master",), ("nets",), ("pix",), ("carte",), ("karte",), ("swish",)})
# A card number as receipts print it, masked or in braces ("XXXXXXXXXXXX9113", "**** 1234",
# "{41005926}"), a figure and its currency (the amount tendered, "CASH RM"): what a line may
# hold beside the name.
_NUMBER = re.compile(r"^[{(\[#]?[x*•·.#\d,-]*\d[x*•·.#\d,-]*[)}\]]?$", re.I)
_MASKED = re.compile(r"^[x*•·]{2,}", re.I)
_TOKEN = re.compile(r"[^\s:;|/]+")


# One spelling for the ways a name is written ("+" joins the names one says); "credit" and
# "debit" say how a card is funded.
_SAME = {"master": "mastercard", "master card": "mastercard", "amex": "american express", "union pay": "unionpay",
         "diners club": "diners", "ec karte": "girocard", "ec-karte": "girocard", "ec card": "girocard",
         "credit card": "credit", "debit card": "debit", "visa debit": "visa+debit", "visa electron": "visa+debit",
         "chèque": "cheque", "check": "cheque", "wire transfer": "wire", "sepa transfer": "sepa"}
# Names that say no more than their kind: a card, how it is funded or presented; cash; a cheque.
_GENERIC = frozenset("card credit debit contactless karte kartenzahlung carte tarjeta cartão kaart pinpas "
                     "cash cheque transfer voucher".split() + ["chip and pin", "chip & pin"])


@dataclass(frozen=True)
class Instrument:
    kind: str  # CASH, CARD, CHEQUE, TRANSFER, WALLET or VOUCHER
    text: str  # the instrument as the text writes it ("MASTER", "Debit card")
    names: tuple[str, ...] = ()  # each name it says, one spelling each ("mastercard", "debit")

    @property
    def schemes(self) -> frozenset[str]:
        """The specific names it says ("visa", "apple pay"), not "card", "debit" or "cash"."""
        return frozenset(name for name in self.names if name not in _GENERIC)

    @property
    def funding(self) -> frozenset[str]:
        return frozenset(name for name in self.names if name in ("credit", "debit"))


def instrument(text: str, *, keyed: bool = False) -> Instrument | None:
    """The payment instrument `text` names in full, or None. `keyed`: the text is the value of
    a key about payment, where an ambiguous name ("Check", "Credit") counts too.

    Where several names are said ("VISA DEBIT", "Cash and card"), the first decides the kind,
    unless a card scheme follows a generic card word ("Debit card - Visa").
    """
    tokens = _TOKEN.findall(text.strip())
    words = [token.strip(".,()-").lower() for token in tokens]
    kinds, spans, names, i = [], [], [], 0
    while i < len(words):
        word = words[i]
        if not word or _NUMBER.match(word) or _MASKED.match(word) or currency_mark(tokens[i]) is not None:
            i += 1
            continue
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            name = tuple(words[i:i + size])
            if name in _KIND_OF and (name not in _KEYED_ONLY or keyed or _sure_beside(words)):
                kinds.append(_KIND_OF[name])
                spans.append((i, i + size))
                names.extend(_SAME.get(" ".join(name), " ".join(name)).split("+"))
                i += size
                break
        else:
            if word not in _WITH:
                return None
            i += 1
    if not kinds:
        return None
    start, end = spans[0][0], spans[-1][1]
    kind = CARD if CARD in kinds and set(kinds) <= {CARD, WALLET} else kinds[0]
    return Instrument(kind, " ".join(tokens[start:end]).strip(" :-"), tuple(names))


def named_instrument(text: str) -> Instrument | None:
    """The instrument a sentence says was used, its longest name ("Did I pay by credit card?" →
    credit card): one after "by", "with", "in", "via" or "using" first ("Was the check paid by
    card?"); else one that no determiner makes the thing spoken of ("Was the check paid?",
    "the gift card"); else None."""
    words = [word.strip(".,?!()\"'").lower() for word in text.split()]
    found = []
    for i in range(len(words)):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            if tuple(words[i:i + size]) in _KIND_OF:
                found.append((i, instrument(" ".join(words[i:i + size]), keyed=True)))
                break
    after = [(i, named) for i, named in found if any(words[j] in _USED_WITH for j in range(max(0, i - 2), i))]
    plain = [(i, named) for i, named in found if i == 0 or words[i - 1] not in _DETERMINERS]
    chosen = after or plain
    return chosen[0][1] if chosen else None


_USED_WITH = frozenset("by with in via using through".split())
_DETERMINERS = frozenset("the this that my your our their his her its a an".split())


def same_payment(asked: Instrument, paid: Instrument) -> bool | None:
    """Whether the instrument a question names is the one the page says was used: True, False,
    or None where the page does not say enough ("credit card" asked, "Visa" printed: a Visa
    card may be a debit card)."""
    if {asked.kind, paid.kind} == {CARD, WALLET}:
        return None  # a phone's wallet pays with a card
    if asked.kind != paid.kind:
        return False
    if not asked.schemes and not asked.funding:  # "card", "cash", "a cheque"
        return True
    if asked.schemes and paid.schemes:
        if not asked.schemes & paid.schemes:
            return False
        return not asked.funding or not paid.funding or bool(asked.funding & paid.funding)
    if asked.funding and paid.funding:
        return bool(asked.funding & paid.funding)
    return None


def _sure_beside(words: list[str]) -> bool:
    """Whether a line with an ambiguous name also says a sure one ("VISA CREDIT") or a card
    number: then the ambiguous name counts too."""
    return _cardish(words) or any(tuple(words[i:i + size]) in _KIND_OF and tuple(words[i:i + size]) not in _KEYED_ONLY
                                  for i in range(len(words)) for size in range(1, _LONGEST + 1))


def _cardish(words: list[str]) -> bool:
    """Whether a line with an ambiguous name says it is a card ("MASTER XXXX9113", "CARD")."""
    return any(_MASKED.match(word) or word == "card" for word in words)


# A key that says what follows is how something was paid ("Paid by", "PAYMENT MODE", "CARD
# TYPE", "Method of payment", "Tender"); not the amount paid, its date or its terms.
_METHOD_KEY = re.compile(
    r"^\W*(?:(?:payment|paid|pay|tender(?:ed)?|settled?)(?:\s+(?:by|with|via|using|in|method|mode|type|kind|form|means))?"
    r"|(?:method|mode|type|kind|form|means)\s+of\s+payment|card(?:\s+type)?|paying\s+(?:by|with))\W*$",
    re.I,
)


def is_method_key(key: str) -> bool:
    return _METHOD_KEY.match(" ".join(key.split())) is not None


@dataclass(frozen=True)
class Payment:
    instrument: Instrument
    line: int  # the cell that names it
    key_line: int = -1  # the cell of the key that says it is the payment ("Paid by:"), or -1

    @property
    def lines(self) -> tuple[int, ...]:
        """The cells that say it, the key's first: its evidence."""
        return tuple(dict.fromkeys(i for i in (self.key_line, self.line) if i >= 0))


def _stated(field) -> Instrument | None:
    """A payment method key's value as the page words it, where the value names no instrument
    this module knows ("Payment method: Insurance"): a few words, no figure."""
    value = " ".join(field.value.split())
    if not _NAMES_A_METHOD.search(field.key) or not value or len(value.split()) > 4 or any(ch.isdigit() for ch in value):
        return None
    return Instrument("other", value.strip(" :-"), ())


# A key that says its value is the method ("Payment method", "Tender type", "Paid by"), not
# "Payment" alone ("Payment: Due on receipt" says when).
_NAMES_A_METHOD = re.compile(r"\b(?:method|mode|type|kind|means|by|with|via|using)\b", re.I)


def find_payment(fields, cells) -> Payment | None:
    """How the page says it was paid, from `extract_fields`' fields and the page's cells:
    a key about payment and its instrument ("Paid by: Visa") first, then instruments keying
    the amount tendered ("CASH : 50.00"; several of them: a split payment, the last line
    decides; "CARD PAID | 0.00" was no payment), then a line that is an instrument and
    nothing else ("VISA CARD"), then a method key's value in words no name here has."""
    methods = [f for f in fields if f.key and is_method_key(f.key)]
    keyed = [(f, found) for f in methods for found in [instrument(f.value, keyed=True)] if found is not None]
    if keyed:
        field, found = keyed[0]
        return Payment(found, field.line, field.key_line)
    tendered = [(f, found) for f in fields if f.key and f.value and _tendered(f.value)
                for found in [instrument(f.key, keyed=True)] if found is not None]
    if tendered:
        field, found = max(tendered, key=lambda item: item[0].line)
        return Payment(found, field.line, field.key_line)  # the key and the amount it keys
    # (not the cards a shop takes, listed in its footer: "VISA MASTERCARD AMEX")
    alone = [(i, found) for i, cell in enumerate(cells) for found in [instrument(cell.text)]
             if found is not None and len(found.schemes) < 2]
    if alone:
        line, found = alone[-1]
        return Payment(found, line)
    # last, a method key's value no name here knows ("Payment method: Insurance"); not before
    # the instruments: "PAYMENT MODE | AMOUNT" is a table's header over "CASH | 8.20"
    stated = [(f, found) for f in methods for found in [_stated(f)] if found is not None]
    if stated:
        field, found = stated[0]
        return Payment(found, field.line, field.key_line)
    return None


def _tendered(value: str) -> bool:
    """Whether a value is an amount handed over: a figure, not nought ("CARD PAID | 0.00")."""
    if not _AMOUNT.match(value.strip()):
        return False
    money = parse_money(value, currency_optional=True)
    return money is not None and money.amount > 0  # not nought, nor a credit note's "-20.00"


# A figure with or without its currency ("50.00", "RM 30.00", "€ 45,03"): what a tender line keys.
_AMOUNT = re.compile(r"^(?:[^\W\d_]{1,3}\.?\s*|[$€£¥₹])?\s*-?\d[\d,.' ]*\d(?:\s*(?:[^\W\d_]{1,3}|[$€£¥₹]))?$")
