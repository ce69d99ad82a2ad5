"""Whether a word of a client's message is the name of a staff member. Pure.

A word names them when it is their first name or surname in any case form, through the
pymorphy3 dictionaries the detector reads with (Ольга, Ольге, Ольгу, Ользі; Олег, Олегу;
Петровой), a pet name of the first name (Оля, Олю for Ольга; Сашко for Олександр:
data/diminutives.yaml), or the same Latin word (Anna, Anna's).

A name that is also a common word (Надежда, Вера; Will, Hope) counts only written with a
capital letter, and a Latin name always so. Nor is the capital enough at the start of a
sentence, where every word has one: «Надежды у вас нет, я знаю, где вы живёте» names no
Надежда, "Bill me again and I will come to your office" no Bill. There a Russian or
Ukrainian word is a name when a dictionary's likeliest reading of it is (the locative,
which needs a preposition, left out: «Надежде передайте» is the dative of the name), and
an English word when it is not one of the first names that are also common words
(COMMON_WORD_NAMES). A word followed by a comma or "!" addresses someone, and is a name
wherever it stands: «Вера, я знаю, где вы живёте», "Will, I know where you live".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import yaml

from .detection.morphology import Morphology
from .detection.text import WORD, fold, is_cyrillic

_NAME_TAGS = ("Name", "Surn", "Patr")

# Pet names of the first names (Ольга: Оля; Олександр: Сашко), by lemma.
DIMINUTIVES_FILE = Path(__file__).parent / "data" / "diminutives.yaml"
DIMINUTIVES: dict[str, frozenset[str]] = {
    str(name): frozenset(str(pet) for pet in pets)
    for name, pets in yaml.safe_load(DIMINUTIVES_FILE.read_text(encoding="utf-8")).items()
}

# English first names that are also common words ("Bill me again", "Hope you are happy"):
# a capital at a sentence's start says nothing of them (data/common_word_names.yaml).
COMMON_WORD_NAMES_FILE = Path(__file__).parent / "data" / "common_word_names.yaml"
COMMON_WORD_NAMES: frozenset[str] = frozenset(
    str(name) for name in yaml.safe_load(COMMON_WORD_NAMES_FILE.read_text(encoding="utf-8"))
)

# What may stand between a sentence's end and its first word: spaces, quotes, a dash.
_LEAD = " \t«»\"'“”„(—–-"
_SENTENCE_END = frozenset(".!?…\n")
_ADDRESS = re.compile(r"\s*[,!]")


# A client's manager and deputy are the same few people message after message: their keys
# are worked out once (the words' parses are cached too, but not the set made of them).
@lru_cache(maxsize=4096)
def name_keys(name: str, morph: Morphology) -> frozenset[str]:
    """What the words of a staff member's name are matched as: each word (an initial is
    not), its lemmas as a first name, surname or patronymic, and the pet names of those
    (data/diminutives.yaml: Ольга is written to as Оля, Олександр as Сашко)."""
    keys: set[str] = set()
    for word in WORD.findall(name):
        folded = _bare(word)
        if len(folded) >= 2:
            keys |= _name_lemmas(folded, morph)
    return frozenset(keys.union(*(DIMINUTIVES.get(key, ()) for key in keys)))


def names_in(
    sentence: str, names: Sequence[frozenset[str]], morph: Morphology
) -> dict[int, list[tuple[int, int]]]:
    """Where in `sentence` each staff member (by index of `names`, their `name_keys`) is
    named: the spans of the words that name them."""
    found: dict[int, list[tuple[int, int]]] = {}
    for word in WORD.finditer(sentence):
        for i, keys in enumerate(names):
            if _is_name(sentence, word, keys, morph):
                found.setdefault(i, []).append(word.span())
    return found


def _is_name(sentence: str, word: re.Match[str], names: frozenset[str], morph: Morphology) -> bool:
    folded = _bare(word.group())
    if len(folded) < 2:
        return False
    matched = _name_lemmas(folded, morph) & names
    if not matched:
        return False
    if word.group()[:1].isupper():
        return not _at_start(sentence, word) or not _common_at_start(folded, matched, morph)
    if not is_cyrillic(folded):
        return False  # "will", "hope", "mark": a Latin name is written with a capital
    # «надежды нет» is no Надежда: a common word of the same lemma needs the capital.
    return not (_common_lemmas(folded, morph) & matched)


@lru_cache(maxsize=50_000)
def _common_lemmas(folded: str, morph: Morphology) -> frozenset[str]:
    """The lemmas of a Cyrillic word's parses that are no name («надежды»: надежда)."""
    return frozenset(
        _plain(p.normal_form)
        for analyzer in morph.analyzers.values()
        if analyzer.word_is_known(folded)
        for p in analyzer.parse(folded)
        if not any(t in p.tag for t in _NAME_TAGS)
    )


def _at_start(sentence: str, word: re.Match[str]) -> bool:
    """The word opens a sentence (or a line) and does not address anyone."""
    before = sentence[: word.start()].rstrip(_LEAD)
    opens = not before or before[-1] in _SENTENCE_END
    return opens and not _ADDRESS.match(sentence, word.end())


@lru_cache(maxsize=50_000)  # parses again otherwise, as _name_lemmas did before its cache
def _common_at_start(folded: str, matched: frozenset[str], morph: Morphology) -> bool:
    """Whether a word at a sentence's start that could be the name (`matched`: the lemmas
    it shares with it) is rather a common word: in English, one of COMMON_WORD_NAMES; in
    Russian and Ukrainian (in Latin letters too, as read), no dictionary's likeliest
    parse of it as one of those lemmas is a name."""
    if not is_cyrillic(folded) and folded in COMMON_WORD_NAMES:
        return True
    likeliest = [
        parses[0]
        for word in _cyrillic_readings(folded, morph)
        for analyzer in morph.analyzers.values()
        if analyzer.word_is_known(word)
        # The locative needs a preposition, so no sentence opens with one.
        for parses in [
            [
                p
                for p in analyzer.parse(word)
                if _plain(p.normal_form) in matched and "loct" not in p.tag
            ]
        ]
        if parses
    ]
    return bool(likeliest) and not any(any(t in p.tag for t in _NAME_TAGS) for p in likeliest)


# Every word of a sentence that holds a threat is looked up (each a dictionary parse, a
# Latin one read in Cyrillic first): cached per word, they were a sixth of the escalator's
# CPU at saturation (bench.profile --spy, 2026-12-08).
@lru_cache(maxsize=50_000)
def _name_lemmas(folded: str, morph: Morphology) -> frozenset[str]:
    """The word itself and, in Cyrillic, the lemmas of its parses as a name (Ольге: ольга;
    Петровой: петров), not of its other parses (Ірині is also an adjective «ірин»). A
    Latin word is also read in Cyrillic as the detector reads it ("pust vasha Marina hodit i
    oglyadyvaetsya" names Марина; "Olegu": Олег)."""
    lemmas = {folded}
    for word in _cyrillic_readings(folded, morph):
        for analyzer in morph.analyzers.values():
            for parse in analyzer.parse(word):
                if any(t in parse.tag for t in _NAME_TAGS):
                    lemmas.add(_plain(parse.normal_form))
    return frozenset(lemmas)


def _cyrillic_readings(folded: str, morph: Morphology) -> list[str]:
    if is_cyrillic(folded):
        return [folded]
    if folded.isascii() and folded.isalpha():
        return [reading for reading, known in morph.reader.word(folded).values() if known]
    return []


def _bare(word: str) -> str:
    folded = fold(word)
    return folded[:-2] if folded.endswith("'s") else folded


def _plain(lemma: str) -> str:
    return lemma.replace("ё", "е").replace("’", "'")
