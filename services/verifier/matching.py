"""Matching keys and fuzzy similarity of names, companies, addresses and numbers. No I/O.

Names are compared in Latin: both sides are transliterated (anyascii) and folded so that
spelling schemes meet ("Юрий" -> "iurii", "Yuriy" -> "iurii", "Aleksandr" ~ "Alexander"),
then scored with rapidfuzz. The same folding makes the search keys stored with contacts
and customers, so the database narrows the candidates and Python does the fuzzy part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from anyascii import anyascii
from rapidfuzz import fuzz

# Spelling-scheme differences that carry no meaning for identity, applied in order.
_FOLDS = (
    ("shch", "sch"),
    ("kh", "h"),
    ("x", "ks"),
    ("w", "v"),
    ("ph", "f"),
    ("y", "i"),
    ("j", "i"),
)
_REPEATS = re.compile(r"(.)\1+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Legal forms say nothing about which company it is ("ООО", "ТОВ", "LLC", ...); compared
# folded (LEGAL_FORMS, below), as the words they are compared with.
_LEGAL_FORM_WORDS = frozenset(
    {"ooo", "oao", "zao", "pao", "ao", "ip", "tov", "pp", "fop", "prat", "pat", "chp", "llc",
     "ltd", "inc", "gmbh", "corp", "co", "plc", "sa", "ag", "bv", "oy", "ab", "llp", "limited",
     "company"}
)  # fmt: skip
KEY_LENGTH = 4
# A company's own key: long enough that companies whose names merely start alike
# ("СтройКомплект", "СтройМонтаж") differ.
COMPANY_KEY_LENGTH = 8
# Words of a line read for the pairs and company keys a lookup asks for first.
LINE_WORDS = 6
_HAS_DIGIT = re.compile(r"\d")
# An initial that fits is good, never as good as the whole word.
INITIAL_SCORE = 90.0
_SIGN_OFFS = re.compile(
    r"^(?:с уважением|с наилучшими пожеланиями|всего доброго|спасибо|з повагою|дякую|"
    r"best regards|kind regards|regards|sincerely|cheers|thanks|thank you|--)[\s,.!]*$",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Latin, lower-case, scheme-folded words separated by single spaces."""
    words = _NOT_WORD.sub(" ", anyascii(text).lower().replace("'", "")).split()
    return " ".join(_fold_word(w) for w in words)


def _fold_word(word: str) -> str:
    for old, new in _FOLDS:
        word = word.replace(old, new)
    # Doubled letters vary by scheme ("Kovalyova"/"Kovaleva" aside), but "ooo" is a form.
    return word if len(word) <= 3 else _REPEATS.sub(r"\1", word)


LEGAL_FORMS = frozenset(_fold_word(w) for w in _LEGAL_FORM_WORDS)  # "company" -> "compani"


def name_keys(text: str) -> list[str]:
    """Search keys of a name: the first letters of each folded word of three or more."""
    return _keys_of(_name_words(fold(text)))


def _name_words(folded: str) -> list[str]:
    return [w for w in folded.split() if w not in LEGAL_FORMS]


def _keys_of(words: list[str]) -> list[str]:
    keys = {w[:KEY_LENGTH] for w in words if len(w) >= 3}
    core = "".join(words)
    if len(core) >= 3:
        keys.add(core[:KEY_LENGTH])
    return sorted(keys)


@dataclass(frozen=True)
class LineKeys:
    """What a line (a signature line, a display name) is looked up by, from one folding."""

    keys: list[str]  # name_keys
    pairs: list[tuple[str, str]]  # name_key_pairs
    companies: list[str]  # company_keys_in


def line_keys(text: str) -> LineKeys:
    """The search keys, key pairs and company keys of a line.

    Pairs and company keys read only the line's first words without numbers (a phone or
    an address line names nobody; a line may be any length, and the pairs grow with the
    square of its words): at most LINE_WORDS + 1 keys, so a few pairs."""
    words = _name_words(fold(text))
    naming = [w for w in words if not _HAS_DIGIT.search(w)][:LINE_WORDS]
    paired = _keys_of(naming)
    return LineKeys(
        keys=_keys_of(words),
        pairs=[(a, b) for i, a in enumerate(paired) for b in paired[i + 1 :]],
        companies=_company_keys(naming),
    )


def name_key_pairs(text: str) -> list[tuple[str, str]]:
    """Every two search keys of one name: what a contact shares when two of its words match.

    A first name's key is shared by thousands of contacts; two words of the same line are
    shared by the person it names and few others, so lookups fetch those first."""
    return line_keys(text).pairs


def name_similarity(contact_name: str, text: str) -> float:
    """How well `text` (a line, a display name) names this person, 0..100.

    Each word of the name is matched to its best word of the text (inflection and
    transliteration differ by a letter or two); the best two must both match, so a
    shared first name alone is never a match and a missing patronymic does not hurt.
    """
    name_words = fold(contact_name).split()
    text_words = fold(text).split()
    if not name_words or not text_words:
        return 0.0
    needed = min(2, len(name_words))
    if len(text_words) < needed:
        return 0.0
    best = sorted((max(_word_score(n, t) for t in text_words) for n in name_words), reverse=True)
    return float(sum(best[:needed]) / needed)


def _word_score(name_word: str, text_word: str) -> float:
    if len(text_word) == 1:  # an initial: "А. Соколов"
        return INITIAL_SCORE if name_word.startswith(text_word) else 0.0
    return float(fuzz.ratio(name_word, text_word))


def company_core(name: str) -> str:
    """The distinctive part of a company name: folded, no legal form, no spaces."""
    return "".join(_name_words(fold(name)))


def company_key(name: str) -> str:
    """The search key of a company's name: the first letters of its core ("" if too short)."""
    core = company_core(name)
    return core[:COMPANY_KEY_LENGTH] if len(core) >= 3 else ""


def company_keys_in(text: str) -> list[str]:
    """The company keys a text may hold (`line_keys`)."""
    return line_keys(text).companies


def _company_keys(words: list[str]) -> list[str]:
    """From each word on, the words run together up to the key's length, so "СтройМонтаж",
    "Строй Монтаж" and "Строй-Монтаж" meet."""
    keys = set()
    for start in range(len(words)):
        run = ""
        for word in words[start:]:
            run += word
            if len(run) >= 3:
                keys.add(run[:COMPANY_KEY_LENGTH])
            if len(run) >= COMPANY_KEY_LENGTH:
                break
    return sorted(keys)


def company_similarity(company_name: str, text: str) -> float:
    """How well `text` names this company, 0..100 (its core found within the text)."""
    core = company_core(company_name)
    haystack = "".join(fold(text).split())
    if len(core) < 3 or not haystack:
        return 0.0
    if len(haystack) < len(core):
        # A short text inside a long name is no mention of the company ("Pro" in "SMM Pro").
        return float(fuzz.ratio(core, haystack))
    return float(fuzz.partial_ratio(core, haystack))


def signature_lines(signature: str, limit: int) -> list[str]:
    """The lines of a signature that may carry a name or a company, sign-offs left out."""
    lines = [line.strip() for line in signature.splitlines()]
    return [line for line in lines if line and not _SIGN_OFFS.match(line)][:limit]


# --- channels ----------------------------------------------------------------------

_GMAIL = frozenset({"gmail.com", "googlemail.com"})


def email_key(address: str) -> str:
    """One key per mailbox: case, plus-tags and Gmail's dots do not make another mailbox."""
    address = address.strip().lower().removeprefix("mailto:")
    if "@" not in address:
        return address
    local, domain = address.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def phone_key(number: str, region: str = "RU") -> str:
    """E.164 where the number parses, else the digits with a leading +."""
    try:
        parsed = phonenumbers.parse(number, region)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return "+" + re.sub(r"\D", "", number)


def handle_key(handle: str) -> str:
    handle = handle.strip().lower()
    return handle if handle.startswith("@") else "@" + handle


def channel_key(kind: str, address: str) -> str:
    if kind == "email":
        return email_key(address)
    if kind == "phone":
        return phone_key(address)
    if kind == "handle":
        return handle_key(address)
    raise ValueError(f"unknown channel kind {kind!r}")


def phones_in(text: str, regions: Iterable[str] = ("RU", "UA")) -> list[str]:
    """E.164 numbers written in free text (a signature, a body), in order, no repeats."""
    found: list[str] = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in found:
                found.append(e164)
    return found


# --- documents ---------------------------------------------------------------------


def document_key(number: str) -> str:
    """ "№ INV-2024/0042" and "inv 2024-0042" are one number: letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", anyascii(number.replace("№", "")).upper())
