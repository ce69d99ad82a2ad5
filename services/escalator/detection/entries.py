"""A lexicon entry as the matcher uses it: a regex or a lemma sequence, and its weight."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slot:
    """One word of a lemma sequence: any of `words` (lemmas or forms) or a prefix."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    gap: int  # how many other words may stand before it (after the previous slot)

    def accepts(self, keys: frozenset[str]) -> bool:
        if not self.words.isdisjoint(keys):
            return True
        return bool(self.prefixes) and any(k.startswith(self.prefixes) for k in keys)


@dataclass(frozen=True, slots=True)
class Near:
    """Words one of which must stand near a hit, in its sentence: up to `before` words
    before its first word or `after` words after its last. `lemmas` are matched as a
    slot's words are (any form of them), `forms` as the word itself is written («вы», not
    «вас»: a lemma would take «у вас такие витрины» too), `names` takes any first name
    the dictionaries know («Марина», «Денис»)."""

    lemmas: frozenset[str]
    forms: frozenset[str]
    names: bool
    before: int
    after: int


@dataclass(frozen=True)
class Entry:
    id: str
    signal: str
    weight: float
    negatable: bool
    regex: re.Pattern[str] | None = None
    sequence: tuple[Slot, ...] = ()
    excluded: bool = False  # an exclusion: silences its signal where it matches
    # The hit's subject is whom the threat is aimed at ("he'll leave on a stretcher"): a
    # third party right before it is the victim, not someone else threatening.
    victim_subject: bool = False
    # Not taken where its sentence before the hit holds this (an exclusion of a question
    # "не работает?" is no how-to question after «почему»: a complaint).
    not_after: re.Pattern[str] | None = None
    # words of one later slot of a lemma sequence (no prefixes): a text with none of
    # them cannot match, whatever its first word
    anchor: frozenset[str] | None = None
    # A hit counts only with one of these near it (round 34: a compliment is an advance
    # when it is about a person, not «такие красивые витрины»); empty: always
    about: tuple[Near, ...] = ()
    # A hit does not count with one of these near it (round 35: «моя дочка Сонечка», «номер
    # водителя», "a crying baby," say it is someone or something else); empty: never
    unless: tuple[Near, ...] = ()
