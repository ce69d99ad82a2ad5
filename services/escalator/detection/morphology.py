"""Lemmas of Russian and Ukrainian words (pymorphy3), cached per word form.

A word gets the lemmas of every analyzer whose dictionary knows it, so surzhyk ("подам
до суду") and a wrongly detected language still match; a word no dictionary knows gets
the analyzers' guesses. Lookups are cached: real traffic repeats its words, and a
pymorphy3 parse of an unknown word costs ~100 µs.
"""

from __future__ import annotations

import pymorphy3
import simplemma

from .text import is_cyrillic, squeeze
from .translit import Reader

_OBFUSCATION = frozenset("*@#$")
PAST = "@past"  # key suffix of a verb form in the past tense: "ответить@past"
# pymorphy3 parts of speech that modify a noun: adjectives, participles, numerals
_MODIFIERS = frozenset({"ADJF", "ADJS", "PRTF", "PRTS", "NUMR", "COMP"})
# grammemes of a noun that is someone: animate, a first name, a surname
_PERSON = frozenset({"anim", "Name", "Surn"})
# English first names: simplemma's dictionary gives a name its capital as its lemma
# ("emily" → "Emily", "hannah" → "Hannah"), a common noun none ("dashboard"). Loaded on the
# first Latin word asked of (half a second; the escalator loads it at start for problem keys).
_ENGLISH = simplemma.Lemmatizer(cache_max_size=0)


# What a word can be matched as: the folded word, its squeezed form, its lemmas,
# "lemma@past"
Keys = frozenset[str]


class Morphology:
    """Both analyzers, loaded once (~0.2 s); analyses are cached per word form."""

    def __init__(self, cache_size: int = 200_000) -> None:
        self.analyzers = {
            "ru": pymorphy3.MorphAnalyzer(lang="ru"),
            "uk": pymorphy3.MorphAnalyzer(lang="uk"),
        }
        self.cache_size = cache_size
        # word form -> keys: a plain dict, looked up for all words of a text at once
        # (cheaper than a cached function per word)
        self._cache: dict[str, Keys] = {}
        self._names: dict[str, bool] = {}
        self._animacy: dict[tuple[str, str], bool | None] = {}
        # Russian and Ukrainian typed in Latin letters, read back by these dictionaries
        self.reader = Reader(self.is_known)

    def analyze(self, word: str) -> Keys:
        return self.keys_of([word])[0]

    def keys_of(self, words: list[str]) -> list[Keys]:
        """The keys of each word, in order."""
        cache = self._cache
        found = list(map(cache.get, words))
        if None in found:
            if len(cache) > self.cache_size:
                cache.clear()
            # Each new form once: a pasted text repeats its words thousands of times, and
            # analysing every occurrence of a word the cache had not seen yet cost seconds
            # («обещали в пятницу, » × 1,000: 2,000 pymorphy3 parses for three words).
            unseen = dict.fromkeys(w for w, keys in zip(words, found, strict=True) if keys is None)
            analysed = {word: self._analyze(word) for word in unseen}
            cache.update(analysed)
            found = [analysed.get(word, keys) for word, keys in zip(words, found, strict=True)]
        return found  # type: ignore[return-value]

    def lemmas(self, word: str, language: str) -> frozenset[str]:
        """Every normal form the `language` dictionary gives `word` (for lexicon checks)."""
        return frozenset(_plain(p.normal_form) for p in self.analyzers[language].parse(word))

    def modifies(self, word: str) -> bool:
        """The word is an adjective, a participle or a numeral by the likeliest parse of
        every dictionary that knows it («первинне», «резервное», «двух»)."""
        parses = [a.parse(word)[0] for a in self.analyzers.values() if a.word_is_known(word)]
        return bool(parses) and all(p.tag.POS in _MODIFIERS for p in parses)

    def is_name(self, word: str) -> bool:
        """Some dictionary that knows the word reads it as a first name («марина»,
        «оксано», «денис»; «вера» and «роман» too, which are also common nouns)."""
        found = self._names.get(word)
        if found is None:
            if len(self._names) > self.cache_size:
                self._names.clear()
            found = self._names[word] = (
                any(
                    "Name" in parse.tag
                    for analyzer in self.analyzers.values()
                    if analyzer.word_is_known(word)
                    for parse in analyzer.parse(word)
                )
                if is_cyrillic(word)
                else word.isalpha() and _ENGLISH.lemmatize(word, lang="en")[:1].isupper()
            )
        return found

    def noun_animacy(self, word: str, gender: str) -> bool | None:
        """Whether the word, as a singular noun of `gender` ("femn", "masc"), is a person
        or animal (True: «девушка», «Оли», «мастер») or a thing (False: «сумку», «сукню»),
        by every dictionary that knows it; None when no such reading («вас», «купила»,
        «платье» for "femn"). A reading as a person or a name in any dictionary wins."""
        key = (word, gender)
        if key in self._animacy:
            return self._animacy[key]
        if len(self._animacy) > self.cache_size:
            self._animacy.clear()
        animate: bool | None = None
        for analyzer in self.analyzers.values():
            if not analyzer.word_is_known(word):
                continue
            for parse in analyzer.parse(word):
                # the grammemes as a set: the uk tag set knows no "ms-f" (common gender)
                tag = parse.tag.grammemes
                if "NOUN" not in tag or "plur" in tag:
                    continue
                if gender not in tag and "ms-f" not in tag:
                    continue
                if not _PERSON.isdisjoint(tag):
                    animate = True
                elif animate is None:
                    animate = False
        self._animacy[key] = animate
        return animate

    def is_known(self, word: str, language: str) -> bool:
        return bool(self.analyzers[language].word_is_known(word))

    def _analyze(self, word: str) -> Keys:
        keys = {word}
        if any(ch in _OBFUSCATION for ch in word):
            return frozenset(keys)  # regex patterns handle these
        form = squeeze(word)
        keys.add(form)
        if not is_cyrillic(form):
            return frozenset(keys)
        known = [a for a in self.analyzers.values() if a.word_is_known(form)]
        for analyzer in known or self.analyzers.values():
            for parse in analyzer.parse(form):
                lemma = _plain(parse.normal_form)
                keys.add(lemma)
                # "не ответили" is a failure, "не ответите — подам в суд" a condition
                if "past" in parse.tag:
                    keys.add(lemma + PAST)
        return frozenset(keys)


def _plain(lemma: str) -> str:
    return lemma.replace("ё", "е").replace("’", "'")
