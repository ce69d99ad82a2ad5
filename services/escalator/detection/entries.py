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
    # words of one later slot of a lemma sequence (no prefixes): a text with none of
    # them cannot match, whatever its first word
    anchor: frozenset[str] | None = None
