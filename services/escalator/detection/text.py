"""Text preparation: a same-length folded copy of the client's words, and its tokens.

Everything the matcher sees is folded so that one lexicon entry covers what people type
(capitals, ё, Latin look-alike letters inside Cyrillic words, typographic apostrophes),
while every offset still points at the original text for the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress
from operator import add, sub

_LOOKALIKES = str.maketrans("aeopcxykmthbё", "аеорсхукмтнве")
_APOSTROPHES = ("’", "ʼ", "`", "‘")  # typed for "'"
_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
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


# Lower-case letters that a case-insensitive regex takes for another one ("ſ" for "s",
# "ᲀ" for "в"; the standard library's re._casefix): folded to that one, so that a literal
# found in the folded text is where a case-insensitive pattern can match, and no further.
_CASE_VARIANTS = str.maketrans(
    "\u0131\u017f\u00b5\u0345\u1fbe\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86\u1c87"
    "\u1c88\u03d0\u03f5\u03d1\u03f0\u03d6\u03f1\u03c2\u03d5\u1fd3\u1fe3\u1e9b\ufb05",
    "\u0069\u0073\u03bc\u03b9\u03b9\u0432\u0434\u043e\u0441\u0442\u0442\u044a\u0463"
    "\ua64b\u03b2\u03b5\u03b8\u03ba\u03c0\u03c1\u03c3\u03c6\u0390\u03b0\u1e61\ufb06",
)
_CASE_VARIANT = re.compile("[" + "".join(map(chr, _CASE_VARIANTS)) + "]")


def canonical(text: str) -> str:
    """Lower-case text with each case-insensitive twin letter as the one fold() keeps."""
    return text.translate(_CASE_VARIANTS) if _CASE_VARIANT.search(text) else text


def fold(text: str) -> str:
    """Same length as `text`: lower case, ё→е, look-alike Latin letters in Cyrillic words."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters: keep the first
        lowered = "".join(ch.lower()[0] for ch in text)
    lowered = canonical(lowered)
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
    if ">" not in folded:
        return folded
    return _QUOTED_LINE.sub(lambda m: " " * len(m.group()), folded)


# A sign-off line ("Best regards,", "С уважением", "--"): what follows is a signature.
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:--|best|best regards|kind regards|warm regards|regards|sincerely|cheers|"
    r"thanks,|thank you,|many thanks,|thanks and regards|с уважением|с наилучшими пожеланиями|"
    r"всего доброго|всего хорошего|спасибо,|з повагою|з найкращими побажаннями|дякую,)"
    r"[,.!]?[ \t]*$",
    re.MULTILINE,
)
SIGNATURE_LINES = 8  # at most this many short lines after a sign-off are a signature
_SIGNATURE_LINE = 100


def blank_signature(folded: str) -> str:
    """A signature after a sign-off names the sender's job ("Litigation Attorney",
    "юрист"), which is no threat: blank it, keep offsets. Intake splits signatures off
    emails already; this covers text that reaches the detector by other ways. Only a short
    block at the very end counts, so a sign-off halfway through a message hides nothing."""
    if "\n" not in folded:
        return folded
    for m in _SIGN_OFF.finditer(folded):
        if m.start() == 0:
            continue
        rest = folded[m.end() :]
        lines = [line for line in rest.split("\n") if line.strip()]
        if len(lines) <= SIGNATURE_LINES and all(len(line) <= _SIGNATURE_LINE for line in lines):
            end = len(folded)
            blanked = "".join(ch if ch == "\n" else " " for ch in folded[m.start() : end])
            return folded[: m.start()] + blanked
    return folded


@lru_cache(maxsize=8)
def prepared(text: str) -> str:
    """The client's own words as every reader of a message sees them: folded, quoted lines
    and a signature blanked, offsets kept. The lexicon, the second opinion and the contract
    terms each read the same message in turn: the last few are kept, not folded again."""
    return blank_signature(blank_quoted(fold(text)))


def squeeze(word: str) -> str:
    """ "дееебилы" → "дебилы", "heeeelp" → "help": three or more of a letter mean one."""
    return _REPEATS.sub(r"\1", word)


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of a text, column by column: the i-th word is `words[i]`, from
    `starts[i]` to `ends[i]`, in sentence `sentences[i]` and clause `clauses[i]`.

    Columns rather than one object per word: they are built with C-level map and
    accumulate, and the matcher reads one column at a time."""

    starts: list[int]
    ends: list[int]
    words: list[str]  # folded, apostrophes and hyphens trimmed at the edges
    sentences: list[int]
    clauses: list[int]

    def __len__(self) -> int:
        return len(self.words)


NO_TOKENS = Tokens([], [], [], [], [])
_WORD_SPLIT = re.compile(f"({WORD.pattern})")
# Whether the text between two words opens a sentence, and a clause (1 or 0). Gaps
# repeat (" ", ", ", ". "), so each is classified once.
_OPENS_SENTENCE: dict[str, int] = {}
_OPENS_CLAUSE: dict[str, int] = {}
_GAPS_LIMIT = 10_000


def tokenize(folded: str, clause_words: frozenset[str]) -> Tokens:
    """Words with their sentence and clause numbers; a conjunction opens a new clause.

    Built column by column with C-level map/accumulate rather than word by word: this
    runs on every word of every message."""
    parts = _WORD_SPLIT.split(folded)  # gap, word, gap, word, ..., gap
    if len(parts) < 2:
        return NO_TOKENS
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
    sentences = list(accumulate(map(_OPENS_SENTENCE.__getitem__, gaps)))
    clauses = list(
        accumulate(
            map(add, map(_OPENS_CLAUSE.__getitem__, gaps), map(clause_words.__contains__, words))
        )
    )
    if "" in words:  # a lone apostrophe is no word
        return Tokens(
            *(list(compress(c, words)) for c in (starts, ends, words, sentences, clauses))
        )
    return Tokens(starts, ends, words, sentences, clauses)


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))
