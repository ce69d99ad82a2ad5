"""Where each entry can match, worked out once at load so that a text tries few of them.

Lemma sequences are indexed by their first word; regex entries by the letters a match can
start with (tried only at such word starts) and by the literals every match contains (one
Aho-Corasick pass over a text says which entries can match it at all)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import ahocorasick

from .entries import Entry
from .firstchars import prefixes
from .literals import case_free, required_literals

# A regex entry where it may match: its id, its match function, the entry.
Candidate = tuple[str, Callable[[str, int], re.Match[str] | None], Entry]
_IDS = itemgetter(1)


@dataclass(frozen=True)
class Index:
    # first word of each lemma sequence -> entries; prefix-led sequences kept apart
    by_first: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    prefix_led: tuple[Entry, ...] = ()
    # regex entries by the (up to three) letters they can start with, tried only at word
    # starts; `scanned` ones can start anywhere (emoji, punctuation)
    regex_by_prefix: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    at_any_word: tuple[Entry, ...] = ()
    scanned: tuple[Entry, ...] = ()
    # literal -> ids of the regex entries that cannot match without it; None: no literals
    literals: ahocorasick.Automaton | None = None
    # ids of the regex entries without known literals: tried on every text
    unfiltered: frozenset[str] = frozenset()
    # regex entry id -> its match function (case-sensitive where that is the same on
    # folded text, and faster)
    matchers: dict[str, Callable[[str, int], re.Match[str] | None]] = field(default_factory=dict)
    # entry id -> its place in the lexicon: candidates are tried in this order, so that
    # of two equal hits the same one wins in every process (not hash order)
    rank: dict[str, int] = field(default_factory=dict)
    # caches filled as texts are met: word analysis -> lemma sequences it can start;
    # the first letters of a word -> regex entries to try there; the scanned entries' union
    starts_cache: dict[frozenset[str], tuple[Entry, ...]] = field(default_factory=dict)
    window_cache: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)
    quick_cache: dict[str, tuple[re.Pattern[str] | None, frozenset[str]]] = field(
        default_factory=dict
    )

    def possible(self, folded: str) -> frozenset[str] | set[str]:
        """Ids of the regex entries whose required literals occur in `folded`."""
        if self.literals is None:
            return self.unfiltered
        found = set(self.unfiltered)
        found.update(*map(_IDS, self.literals.iter(folded)))
        return found


def build_index(entries: Sequence[Entry]) -> Index:
    by_first: dict[str, list[Entry]] = {}
    prefix_led: list[Entry] = []
    by_prefix: dict[str, list[Entry]] = {}
    at_any_word: list[Entry] = []
    scanned: list[Entry] = []
    by_literal: dict[str, list[str]] = {}
    unfiltered: set[str] = set()
    matchers: dict[str, Callable[[str, int], re.Match[str] | None]] = {}
    for entry in entries:
        if entry.sequence:
            first = entry.sequence[0]
            for word in first.words:
                by_first.setdefault(word, []).append(entry)
            if first.prefixes:
                prefix_led.append(entry)
            continue
        if entry.regex is None:
            continue
        matchers[entry.id] = (case_free(entry.regex.pattern) or entry.regex).match
        literals = required_literals(entry.regex.pattern)
        if literals is None:
            unfiltered.add(entry.id)
        for literal in literals or ():
            by_literal.setdefault(literal, []).append(entry.id)
        starts = prefixes(entry.regex.pattern)
        if starts is not None and not all(p[0].isalnum() or p[0] == "_" for p in starts):
            scanned.append(entry)  # starts with an emoji or a mark, not at a word
        elif starts is None:
            at_any_word.append(entry)
        else:
            for p in starts:
                by_prefix.setdefault(p, []).append(entry)
    return Index(
        by_first={k: tuple(v) for k, v in by_first.items()},
        prefix_led=tuple(prefix_led),
        regex_by_prefix=_merged(by_prefix),
        at_any_word=tuple(at_any_word),
        scanned=tuple(scanned),
        literals=_automaton(by_literal),
        unfiltered=frozenset(unfiltered),
        matchers=matchers,
        rank={entry.id: i for i, entry in enumerate(entries)},
    )


def _automaton(by_literal: dict[str, list[str]]) -> ahocorasick.Automaton | None:
    if not by_literal:
        return None
    automaton = ahocorasick.Automaton()
    for literal, ids in by_literal.items():
        automaton.add_word(literal, tuple(ids))
    automaton.make_automaton()
    return automaton


def _merged(by_prefix: dict[str, list[Entry]]) -> dict[str, tuple[Entry, ...]]:
    """Each key also carries the entries of its shorter prefixes, so the matcher looks up
    the longest key a text has and stops at the first found ("бля" holds "бл" and "б")."""
    merged: dict[str, tuple[Entry, ...]] = {}
    for key in sorted(by_prefix, key=len):
        inherited = [e for n in range(1, len(key)) for e in by_prefix.get(key[:n], ())]
        merged[key] = tuple(dict.fromkeys(inherited + by_prefix[key]))
    return merged
