"""How a regex entry can start, so it is tried only where it can match.

Trying 180 patterns at every position of every message costs milliseconds; trying each
only at the word starts whose first two letters it can begin with costs a fraction of
that. The prefixes are read from the parsed pattern (the standard library's own regex
parser); any construct this does not follow yields None, meaning "try it at every word
start", so it is never wrong, only slower.
"""

from __future__ import annotations

import re
from itertools import product
from typing import Any

try:  # Python 3.11+
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

LENGTH = 3  # characters of the prefix index
_MAX_SET = 3000  # beyond this many prefixes the index stops paying
_SPACE = {" ", "\n", "\t", "\r", "\xa0"}

# A set of strings of at most LENGTH characters; a shorter one ends the match.
Prefixes = set[str]


def prefixes(pattern: str) -> frozenset[str] | None:
    """The first LENGTH characters (lower case) a match can start with, or None.
    A prefix shorter than LENGTH means a match that can be that short."""
    try:
        parsed = _p.parse(pattern, re.IGNORECASE)
    except re.error:
        return None
    found = _sequence(list(parsed), {""})
    if found is None or "" in found or _END in found:
        return None
    return frozenset(p.rstrip(_END) for p in found)


_END = "\x00"  # marks a prefix cut short by a construct this does not follow


def _done(head: str) -> bool:
    return len(head) >= LENGTH or head.endswith(_END)


def _extend(heads: Prefixes, tails: Prefixes) -> Prefixes | None:
    out = set()
    for head, tail in product(heads, tails):
        out.add(head if _done(head) else (head + tail)[:LENGTH])
        if len(out) > _MAX_SET:
            return None
    return out


def _sequence(items: list[Any], heads: Prefixes) -> Prefixes | None:
    for op, av in items:
        if all(_done(h) for h in heads):
            return heads
        if op is _c.AT:  # \b, ^: zero-width
            continue
        # (?<!не\s), (?=…): zero-width too; what follows still starts every match, so its
        # prefixes stay a superset of the pattern's
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            continue
        options = _item(op, av)
        if options is None:  # unknown from here: what is known so far is the prefix
            if "" in heads:
                return None
            return {h if _done(h) else h + _END for h in heads}
        extended = _extend(heads, options)
        if extended is None:
            return None
        heads = extended
    return heads


def _chars(op: Any, av: Any) -> set[str] | None:
    if op is _c.LITERAL:
        return {chr(av).lower()}
    if op is _c.IN:
        chars: set[str] = set()
        for o, a in av:
            if o is _c.LITERAL:
                chars.add(chr(a).lower())
            elif o is _c.RANGE and a[1] - a[0] <= 400:
                chars |= {chr(x).lower() for x in range(a[0], a[1] + 1)}
            elif o is _c.CATEGORY and a is _c.CATEGORY_SPACE:
                chars |= _SPACE
            else:
                return None
        return chars
    return None


def _item(op: Any, av: Any) -> Prefixes | None:
    chars = _chars(op, av)
    if chars is not None:
        return chars
    if op is _c.BRANCH:
        union: Prefixes = set()
        for branch in av[1]:
            found = _sequence(list(branch), {""})
            if found is None:
                return None
            union |= found
        return union
    if op is _c.SUBPATTERN:
        return _sequence(list(av[-1]), {""})
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, sub = av
        one = _sequence(list(sub), {""})
        if one is None:
            return None
        options: Prefixes = {""} if low == 0 else set()
        current: Prefixes = {""}
        # up to LENGTH repetitions decide the prefix
        for count in range(1, min(high, LENGTH) + 1):
            nxt = _extend(current, one)
            if nxt is None:
                return None
            current = nxt
            if count >= low:
                options |= current
        return options
    return None
