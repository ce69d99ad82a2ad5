"""Entities of a text with their spans: emails, phones, document numbers, money, dates.

Document numbers follow configurable patterns (data/entities.yaml). Dates are normalized
without a reference date, so the result depends on the text alone: an absolute date is ISO
("2024-11-25", or "--04-14" with no year), a weekday "weekday:saturday", a day relative to
the message "day:-1" (yesterday), a duration ISO 8601 ("P2M" for "2 месяца").
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
import yaml

from shared.contracts import Entity
from shared.text_head import head_of

ENTITIES_FILE = Path(__file__).parent / "data" / "entities.yaml"
# Phone numbers are read as Russian first, then as Ukrainian ("067 123 45 67" is only valid
# in UA), so a client of either country is understood without a country code.
PHONE_REGIONS = ("RU", "UA")

_WORD_START = r"(?<![^\W\d_])"
_NO_LETTER_AFTER = r"(?![^\W\d_])"
# Starts only where a run of address characters starts: linear on "aaaa…" of any length.
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class DocumentPattern:
    kind: str
    regex: re.Pattern[str]


def compile_document_patterns(config: dict[str, object]) -> tuple[DocumentPattern, ...]:
    """Patterns from the `documents` mapping of an entities file (see data/entities.yaml)."""
    documents = config.get("documents")
    if not isinstance(documents, dict):
        raise ValueError("entities file needs a `documents` mapping")
    patterns = []
    for kind, spec in documents.items():
        if kind not in ("invoice", "contract", "order", "account"):
            raise ValueError(f"unknown document kind {kind!r}")
        keywords = "|".join(spec["keywords"])
        # One lookbehind per word: Python's lookbehind needs a fixed width.
        not_after = "".join(f"(?<!{w})" for w in spec.get("not_after", []))
        markers = "|".join(spec.get("markers", []))
        marker = f"(?:{markers})" if spec.get("marker_required") else f"(?:{markers})?"
        regex = rf"{_WORD_START}{not_after}(?:{keywords})\s*{marker}\s*(?P<number>{spec['number']})"
        patterns.append(DocumentPattern(kind, re.compile(regex, re.IGNORECASE)))
    return tuple(patterns)


def load_document_patterns(path: Path = ENTITIES_FILE) -> tuple[DocumentPattern, ...]:
    return compile_document_patterns(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_document_patterns() -> tuple[DocumentPattern, ...]:
    return load_document_patterns()


# --- money ---------------------------------------------------------------------------

# A whole number: thousands groups split by one space ("12 000", "120\u202f000") or by . and
# , ("1,500.00"). Never a newline or ", ", which separate two numbers, and never the tail of
# another number ("2024" of "25.11.2024 500 руб." is no amount).
_NUMBER = r"(?<!\d)(?<!\d[.,])(?:\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+|\d+)(?:[.,]\d+)*"
_MONEY_RE = re.compile(
    r"(?P<pre>[$€£₽₴])[^\S\n]?(?P<num>" + _NUMBER + r")"
    r"|(?P<num2>" + _NUMBER + r")[^\S\n]?"
    # Longest word first, and no letter after it: "500 рублей" is all money, "500 рубашек" none.
    r"(?P<cur>₽|рублей|рубля|рубль|руб\.?|гривень|гривен|гривні|гривня|грн\.?|"
    r"usd|eur|uah|rub|долларов|доллара|доларів|долари|dollars|euros?|евро|євро|\$|€)"
    + _NO_LETTER_AFTER,
    re.IGNORECASE,
)
_CURRENCY = {
    "$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "₴": "UAH", "руб": "RUB", "рублей": "RUB",
    "рубля": "RUB", "рубль": "RUB", "грн": "UAH", "гривен": "UAH", "гривень": "UAH",
    "гривні": "UAH", "гривня": "UAH", "usd": "USD", "eur": "EUR", "uah": "UAH", "rub": "RUB",
    "долларов": "USD", "доллара": "USD", "доларів": "USD", "долари": "USD", "dollars": "USD",
    "euro": "EUR", "euros": "EUR", "евро": "EUR", "євро": "EUR",
}  # fmt: skip


def _money(text: str) -> list[Entity]:
    found = []
    for m in _MONEY_RE.finditer(text):
        number = re.sub(r"\s", "", m.group("num") or m.group("num2") or "")
        cur_raw = (m.group("pre") or m.group("cur") or "").lower().rstrip(".")
        currency = _CURRENCY.get(cur_raw, cur_raw.upper())
        found.append(
            Entity(kind="money", value=f"{number} {currency}", start=m.start(), end=m.end())
        )
    return found


# --- dates ---------------------------------------------------------------------------

_MONTHS = {
    # stems, matched at a word start: Russian, Ukrainian (genitive), English
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма[йя]": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
    "січн": 1, "лют": 2, "березн": 3, "квітн": 4, "травн": 5, "червн": 6, "липн": 7,
    "серпн": 8, "вересн": 9, "жовтн": 10, "листопад": 11, "грудн": 12,
    "jan(?:uary)?": 1, "feb(?:ruary)?": 2, "mar(?:ch)?": 3, "apr(?:il)?": 4, "may": 5,
    "june?": 6, "july?": 7, "aug(?:ust)?": 8, "sep(?:t|tember)?": 9, "oct(?:ober)?": 10,
    "nov(?:ember)?": 11, "dec(?:ember)?": 12,
}  # fmt: skip
_WEEKDAYS = {
    "понедельник": "monday", "вторник": "tuesday", "сред": "wednesday", "четверг": "thursday",
    "пятниц": "friday", "суббот": "saturday", "воскресень": "sunday",
    "понеділ": "monday", "вівтор": "tuesday", "серед": "wednesday", "четвер": "thursday",
    "п.ятниц": "friday", "субот": "saturday", "неділ": "sunday",
    "monday": "monday", "tuesday": "tuesday", "wednesday": "wednesday",
    "thursday": "thursday", "friday": "friday", "saturday": "saturday", "sunday": "sunday",
}  # fmt: skip
_RELATIVE_DAYS = {
    "позавчера": -2, "вчера": -1, "сегодня": 0, "завтра": 1, "послезавтра": 2,
    "позавчора": -2, "вчора": -1, "сьогодні": 0, "післязавтра": 2,
    "yesterday": -1, "today": 0, "tomorrow": 1,
}  # fmt: skip
_UNITS = {
    "мин": "M", "час": "H", "дн": "D", "день": "D", "суток": "D", "сутки": "D",
    "недел": "W", "месяц": "M", "год": "Y", "лет": "Y",
    "хвилин": "M", "годин": "H", "доб": "D", "тижн": "W", "тижд": "W", "місяц": "M", "рок": "Y",
    "minute": "M", "hour": "H", "day": "D", "week": "W", "month": "M", "year": "Y",
}  # fmt: skip
_TIME_UNITS = {"мин", "час", "хвилин", "годин", "minute", "hour"}
_NUMBER_WORDS = {
    "один": 1, "одну": 1, "одна": 1, "два": 2, "две": 2, "дві": 2, "три": 3, "четыре": 4,
    "чотири": 4, "пять": 5, "п'ять": 5, "шесть": 6, "шість": 6, "десять": 10, "несколько": 0,
    "кілька": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10,
    "several": 0, "a": 1, "an": 1,
}  # fmt: skip


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH_RE = "(?P<month>" + _alternation(_MONTHS) + r")[а-яіїєa-z]*\.?"
_DATE_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(?<![\d.])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d])")),
    (
        "numeric",
        re.compile(
            r"(?<![\d.,])(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>\d{4}|\d{2}))?(?![\d])"
        ),
    ),
    (
        "day_month",
        re.compile(
            r"(?<!\d)(?P<d>\d{1,2})\s+" + _MONTH_RE + r"(?:\s+(?P<y>\d{4}))?" + _NO_LETTER_AFTER,
            re.IGNORECASE,
        ),
    ),
    (
        "month_day",
        re.compile(
            _WORD_START + _MONTH_RE + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?"
            r"(?![\d])",
            re.IGNORECASE,
        ),
    ),
    (
        "weekday",
        re.compile(_WORD_START + "(?P<wd>" + _alternation(_WEEKDAYS) + r")[а-яіїєa-z]*", re.I),
    ),
    (
        "relative",
        re.compile(
            _WORD_START + "(?P<rel>" + _alternation(_RELATIVE_DAYS) + ")" + _NO_LETTER_AFTER, re.I
        ),
    ),
    (
        "duration",
        re.compile(
            # At most three digits: "за 2024 год" names a year, not a duration of 2024 years.
            _WORD_START + r"(?:(?P<n>(?<!\d)\d{1,3}(?!\d)|" + _alternation(_NUMBER_WORDS) + r")\s*"
            r"|(?P<half>пол|пів|half\s+an?\s+))"
            r"(?P<unit>" + _alternation(_UNITS) + r")[а-яіїєa-z]*" + _NO_LETTER_AFTER,
            re.IGNORECASE,
        ),
    ),
)


def _month_number(word: str) -> int | None:
    for stem, number in _MONTHS.items():
        if re.fullmatch(stem, word, re.IGNORECASE):
            return number
    return None


def _date_value(kind: str, m: re.Match[str]) -> str | None:
    if kind in ("iso", "numeric", "day_month", "month_day"):
        day = int(m.group("d"))
        month = int(m.group("m")) if kind in ("iso", "numeric") else _month_number(m["month"])
        if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        year = m.group("y")
        if kind == "numeric" and year is None and m.group(0).count("/"):
            return None  # "3/4" is a fraction or a ratio more often than a date
        if year is None:
            return f"--{month:02d}-{day:02d}"
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        return f"{full_year:04d}-{month:02d}-{day:02d}"
    if kind == "weekday":
        word = m.group("wd").lower()
        return next((f"weekday:{v}" for k, v in _WEEKDAYS.items() if re.fullmatch(k, word)), None)
    if kind == "relative":
        return f"day:{_RELATIVE_DAYS[m.group('rel').lower()]:+d}"
    return _duration_value(m)


def _duration_value(m: re.Match[str]) -> str | None:
    amount_raw, half = m.group("n"), m.group("half")
    unit_word = m.group("unit").lower()
    unit = next(v for k, v in _UNITS.items() if unit_word == k.lower())
    if half:
        amount = "0.5"
    elif amount_raw.isdigit():
        amount = amount_raw
    else:
        count = _NUMBER_WORDS.get(amount_raw.lower(), 0)
        if not count:
            return None
        amount = str(count)
    prefix = "PT" if unit_word in _TIME_UNITS else "P"
    return f"{prefix}{amount}{unit}"


class _Spans:
    """Non-overlapping spans, kept sorted: an overlap test is a bisection, not a scan, so a
    text with thousands of entities stays linear-logarithmic."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(spans):
            self.add(start, end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # spans starting before `end`
        # Spans may overlap each other (a phone inside an amount): check the nearest few.
        return any(self.ends[j] > start for j in range(max(0, i - 8), i))

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def _dates(text: str, other: _Spans) -> list[Entity]:
    found: list[Entity] = []
    for kind, regex in _DATE_RES:  # most specific first; later ones skip what is taken
        for m in regex.finditer(text):
            start, end = m.span()
            if start == end or other.overlaps(start, end):
                continue
            value = _date_value(kind, m)
            if value is None:
                continue
            found.append(Entity(kind="date", value=value, start=start, end=end))
            other.add(start, end)
    return found


# --- phones and all of it ------------------------------------------------------------


def to_e164(raw: str, regions: tuple[str, ...] = PHONE_REGIONS) -> str | None:
    """The number in E.164, read in the first region where it is valid; else None."""
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _phones(text: str) -> list[Entity]:
    found: list[Entity] = []
    taken = _Spans()
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            if taken.overlaps(match.start, match.end):
                continue
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Entity(kind="phone", value=e164, start=match.start, end=match.end))
            taken.add(match.start, match.end)
    return found


# The first this many, in the order the text names them: a client names a few invoices,
# phones and dates; a pasted statement names thousands, and every service after intake
# carries and looks them up (the verifier's document lookups, the fact pack).
MAX_ENTITIES = 200
# Only the first this many characters are read (about 7,500 words; the detector reads 20,000):
# the phone matcher and the patterns cost about 10 µs a character on dense text, so a pasted
# 500 kB statement held intake's batch for 5 s (0.8 s now), and it would name its first
# MAX_ENTITIES long before this anyway. Offsets are those of the whole text.
ENTITY_CHARS = 50_000


def extract_entities(
    text: str, documents: tuple[DocumentPattern, ...] | None = None
) -> list[Entity]:
    text = head_of(text, ENTITY_CHARS)  # a number cut short would be another number
    entities = [
        Entity(kind="email", value=m.group().lower(), start=m.start(), end=m.end())
        for m in _EMAIL_RE.finditer(text)
    ]
    entities += _phones(text)
    for pattern in documents if documents is not None else default_document_patterns():
        for m in pattern.regex.finditer(text):
            entities.append(
                Entity(kind=pattern.kind, value=m.group("number"), start=m.start(), end=m.end())  # type: ignore[arg-type]
            )
    entities += _money(text)
    # A date inside a phone, a document number or an amount is part of that, not a date.
    entities += _dates(text, _Spans((e.start, e.end) for e in entities))
    return sorted(entities, key=lambda e: (e.start, e.kind))[:MAX_ENTITIES]
