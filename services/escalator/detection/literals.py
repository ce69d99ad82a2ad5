"""Words a regex entry cannot match without, so most entries are never tried on a text.

A regex entry is tried only on texts that hold one of its required literals: strings such
that every match contains at least one of them ("sue", "lawsuit" for a lawsuit pattern).
One Aho-Corasick pass over the folded text finds which literals of the whole lexicon
occur; the entries of the others are skipped. The literals are read from the parsed
pattern (the standard library's own parser); a pattern this does not follow has none, and
is then always tried: the filter can only be slower, never wrong.
"""

from __future__ import annotations

import re
from itertools import product
from typing import Any

from .firstchars import _c, _p
from .text import canonical

MIN_LENGTH = 3  # shorter literals occur in nearly every text: no filter at all
# Words nearly every text holds: literals that include one filter nothing and cost a
# lookup at each occurrence.
_COMMON = frozenset(
    [
        "the",
        "you",
        "and",
        "for",
        "are",
        "was",
        "not",
        "but",
        "all",
        "any",
        "can",
        "our",
        "your",
        "this",
        "that",
        "with",
        "have",
        "what",
        "will",
        "что",
        "все",
        "так",
        "уже",
        "как",
        "это",
        "вас",
        "нас",
        "мне",
        "раз",
        "тот",
        "вже",
        "або",
        "щоб",
        "мені",
        "вони",
    ]
)
_MAX_STRINGS = 64  # beyond this many alternatives a run of literals is cut short
_MAX_REPEAT = 3  # a repeat {m,n} with n above this is not spelled out

Strings = frozenset[str]


def required_literals(pattern: str) -> Strings | None:
    """Strings, folded as the text is, one of which every match of `pattern` contains;
    None when no such strings of at least MIN_LENGTH characters are known."""
    try:
        parsed = _p.parse(pattern, re.IGNORECASE)
    except re.error:
        return None
    found = _required(list(parsed))
    if found is None or min(map(len, found)) < MIN_LENGTH or not found.isdisjoint(_COMMON):
        return None
    return found


def _better(a: Strings | None, b: Strings | None) -> Strings | None:
    """The more selective of two literal sets: longer shortest string, then fewer."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda s: (min(map(len, s)), -len(s)))


def _required(items: list[Any]) -> Strings | None:
    """Best required literals of a sequence: from a run of items with exact spellings,
    or from one mandatory item that has required literals of its own."""
    best: Strings | None = None
    run: Strings = frozenset({""})
    for op, av in items:
        exact = _exact(op, av)
        if exact is not None:
            joined = _join(run, exact)
            if joined is None:  # too many spellings: start a new run here
                best = _better(best, _nonempty(run))
                joined = exact
            run = joined
            continue
        best = _better(best, _nonempty(run))
        run = frozenset({""})
        best = _better(best, _required_item(op, av))
    return _better(best, _nonempty(run))


def _required_item(op: Any, av: Any) -> Strings | None:
    if op is _c.SUBPATTERN:
        return _required(list(av[-1]))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
        return _required(list(av[2]))
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            found = _required(list(branch))
            if found is None:
                return None
            union |= found
        return _minimal(frozenset(union))
    return None


def _exact(op: Any, av: Any) -> Strings | None:
    """Every string the item can match, when they are few; None otherwise."""
    if op is _c.AT:  # \b, ^: matches no characters
        return frozenset({""})
    if op is _c.LITERAL:
        return frozenset({canonical(chr(av).lower())})
    if op is _c.IN:
        chars: set[str] = set()
        for o, a in av:
            if o is _c.LITERAL:
                chars.add(canonical(chr(a).lower()))
            elif o is _c.RANGE and a[1] - a[0] < 8:
                chars |= {canonical(chr(x).lower()) for x in range(a[0], a[1] + 1)}
            else:
                return None
        return frozenset(chars) if len(chars) <= _MAX_STRINGS else None
    if op is _c.SUBPATTERN:
        return _exact_sequence(list(av[-1]))
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            found = _exact_sequence(list(branch))
            if found is None:
                return None
            union |= found
        return frozenset(union) if len(union) <= _MAX_STRINGS else None
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, sub = av
        if high > _MAX_REPEAT:
            return None
        one = _exact_sequence(list(sub))
        if one is None:
            return None
        options: set[str] = set()
        current: Strings = frozenset({""})
        for count in range(high + 1):
            if count >= low:
                options |= current
            if count < high:
                joined = _join(current, one)
                if joined is None:
                    return None
                current = joined
        return frozenset(options) if len(options) <= _MAX_STRINGS else None
    return None


def _exact_sequence(items: list[Any]) -> Strings | None:
    run: Strings = frozenset({""})
    for op, av in items:
        exact = _exact(op, av)
        joined = None if exact is None else _join(run, exact)
        if joined is None:
            return None
        run = joined
    return run


def _join(heads: Strings, tails: Strings) -> Strings | None:
    if len(heads) * len(tails) > _MAX_STRINGS:
        return None
    return frozenset(h + t for h, t in product(heads, tails))


def _nonempty(run: Strings) -> Strings | None:
    """A run's spellings as required literals: none if it may match nothing."""
    if "" in run:
        return None
    return _minimal(run)


def _minimal(strings: Strings) -> Strings:
    """Drop strings that contain another: finding "sue" already finds "sues"."""
    ordered = sorted(strings, key=len)
    kept: list[str] = []
    for s in ordered:
        if not any(k in s for k in kept):
            kept.append(s)
    return frozenset(kept)


def case_free(pattern: str) -> re.Pattern[str] | None:
    """`pattern` compiled without IGNORECASE when that matches folded text exactly as the
    case-insensitive pattern does (every letter it names is lower case and the one fold()
    keeps), else None. Case-insensitive matching costs the regex engine a case lookup
    per character and its quick first-letter checks."""
    try:
        parsed = _p.parse(pattern, re.IGNORECASE)
    except re.error:
        return None
    if not _case_free_items(list(parsed)):
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _folded_char(code: int) -> bool:
    ch = chr(code)
    return ch == ch.lower() == canonical(ch)


def _case_free_items(items: list[Any]) -> bool:
    for op, av in items:
        if op in (_c.LITERAL, _c.NOT_LITERAL):
            if not _folded_char(av):
                return False
        elif op is _c.IN:
            for o, a in av:
                if o is _c.LITERAL and not _folded_char(a):
                    return False
                if o is _c.RANGE and (
                    a[1] - a[0] > 2000 or not all(map(_folded_char, range(a[0], a[1] + 1)))
                ):
                    return False
                if o not in (_c.LITERAL, _c.RANGE, _c.NEGATE, _c.CATEGORY):
                    return False
        elif op is _c.SUBPATTERN:
            if av[1] or av[2] or not _case_free_items(list(av[-1])):  # no inline flags
                return False
        elif op is _c.BRANCH:
            if not all(_case_free_items(list(branch)) for branch in av[1]):
                return False
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            if not _case_free_items(list(av[2])):
                return False
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            if not _case_free_items(list(av[1])):
                return False
        elif op not in (_c.AT, _c.ANY, _c.GROUPREF, _c.CATEGORY):
            return False
    return True
