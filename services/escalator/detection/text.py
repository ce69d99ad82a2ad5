"""Text preparation: a same-length folded copy of the client's words, and its tokens.

Everything the matcher sees is folded so that one lexicon entry covers what people type
(capitals, ё, Latin look-alike letters inside Cyrillic words, typographic apostrophes),
while every offset still points at the original text for the evidence.
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import add, sub
from typing import NamedTuple

_LOOKALIKES = str.maketrans("aeopcxykmthbё", "аеорсхукмтнве")
_APOSTROPHES = ("’", "ʼ", "`", "‘")  # typed for "'"
_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]")
# Obfuscation marks stay inside a word ("х*й", "п@здец"); apostrophes and hyphens too.
WORD = re.compile(r"[\w*@#$'’ʼ]+(?:-[\w*@#$'’ʼ]+)*")
_SENTENCE_BREAK = re.compile(r"[.!?\n…]")
# Dashes separate clauses as commas do ("Не вернёте деньги — подам в суд").
_CLAUSE_BREAK = re.compile(r"[,;:—–()«»\"]|\s-\s")
_REPEATS = re.compile(r"(\w)\1{2,}")


# A look-alike Latin letter next to a Cyrillic one (obfuscation marks between allowed):
# only messages with one pay for folding their words one by one.
# (Two searches, each led by a character set, are faster than one alternation.)
_LATIN_THEN_CYRILLIC = re.compile(r"[aeopcxykmthb][*@#$]*[а-яёіїєґ]")
_CYRILLIC_THEN_LATIN = re.compile(r"[а-яёіїєґ][*@#$]*[aeopcxykmthb]")
_CHUNK = re.compile(r"\S+")


def _unmix(match: re.Match[str]) -> str:
    chunk = match.group()
    return chunk.translate(_LOOKALIKES) if _CYRILLIC.search(chunk) else chunk


def fold(text: str) -> str:
    """Same length as `text`: lower case, ё→е, look-alike Latin letters in Cyrillic words."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lowered
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    if _LATIN_THEN_CYRILLIC.search(lowered) or _CYRILLIC_THEN_LATIN.search(lowered):
        lowered = _CHUNK.sub(_unmix, lowered)
    # str.replace per apostrophe: translate() walks the text character by character
    for apostrophe in _APOSTROPHES:
        lowered = lowered.replace(apostrophe, "'")
    return lowered.replace("ё", "е")


_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)


def blank_quoted(folded: str) -> str:
    """Quoted history ("> ...") is what someone else wrote before: blank it, keep offsets.

    Intake separates quoted replies already; this covers text that reaches the detector
    by other ways (the CLI, forwarded chats)."""
    return _QUOTED_LINE.sub(lambda m: " " * len(m.group()), folded)


def squeeze(word: str) -> str:
    """ "дееебилы" → "дебилы", "heeeelp" → "help": three or more of a letter mean one."""
    return _REPEATS.sub(r"\1", word)


class Token(NamedTuple):
    start: int
    end: int
    word: str  # folded, apostrophes and hyphens trimmed at the edges
    sentence: int
    clause: int


_WORD_SPLIT = re.compile(f"({WORD.pattern})")
# Whether the text between two words opens a sentence, and a clause (1 or 0). Gaps
# repeat (" ", ", ", ". "), so each is classified once.
_OPENS_SENTENCE: dict[str, int] = {}
_OPENS_CLAUSE: dict[str, int] = {}
_GAPS_LIMIT = 10_000
_new_token = tuple.__new__


def tokenize(folded: str, clause_words: frozenset[str]) -> list[Token]:
    """Words with their sentence and clause numbers; a conjunction opens a new clause.

    Built column by column with C-level map/accumulate rather than word by word: this
    runs on every word of every message."""
    parts = _WORD_SPLIT.split(folded)  # gap, word, gap, word, ..., gap
    if len(parts) < 2:
        return []
    gaps, words = parts[0:-1:2], parts[1::2]
    new_gaps = set(gaps).difference(_OPENS_CLAUSE)
    if new_gaps:
        if len(_OPENS_CLAUSE) > _GAPS_LIMIT:
            _OPENS_SENTENCE.clear()
            _OPENS_CLAUSE.clear()
            new_gaps = set(gaps)
        for gap in new_gaps:
            sentence = 1 if _SENTENCE_BREAK.search(gap) else 0
            _OPENS_SENTENCE[gap] = sentence
            _OPENS_CLAUSE[gap] = 1 if sentence or _CLAUSE_BREAK.search(gap) else 0
    ends = list(accumulate(map(len, parts[:-1])))[1::2]
    starts = list(map(sub, ends, map(len, words)))
    if "'" in folded:  # apostrophes (and hyphens) are trimmed at the edges of a word
        words = [w.strip("'-") for w in words]
    sentences = accumulate(map(_OPENS_SENTENCE.__getitem__, gaps))
    clauses = accumulate(
        map(add, map(_OPENS_CLAUSE.__getitem__, gaps), map(clause_words.__contains__, words))
    )
    tokens = list(
        map(_new_token, repeat(Token), zip(starts, ends, words, sentences, clauses, strict=True))
    )
    if "" in words:  # a lone apostrophe is no word
        tokens = [t for t in tokens if t.word]
    return tokens


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


def is_latin(word: str) -> bool:
    return bool(_LATIN.search(word)) and not _CYRILLIC.search(word)


# Russian and Ukrainian as people type them in Latin letters ("nahuy", "podam v sud").
_TRANSLIT_MULTI = (
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"),
    ("ts", "ц"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "е"),
    ("jo", "е"), ("ye", "е"), ("iy", "ий"), ("yy", "ый"), ("yi", "ый"), ("ey", "ей"),
    ("ay", "ай"), ("oy", "ой"), ("uy", "уй"),
)  # fmt: skip
_TRANSLIT_ONE = str.maketrans(
    {
        "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
        "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р",
        "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "ц", "y": "ы", "w": "в",
        "x": "кс", "q": "к", "'": "ь",
    }
)  # fmt: skip


def transliterate(word: str) -> str:
    """Latin spelling of a Russian word back to Cyrillic, good enough for a lemma lookup."""
    for latin, cyrillic in _TRANSLIT_MULTI:
        word = word.replace(latin, cyrillic)
    return word.translate(_TRANSLIT_ONE)
