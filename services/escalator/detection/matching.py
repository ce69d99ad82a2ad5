"""Where the lexicon's entries occur: regex patterns on the folded text, lemma sequences
on the tokens. A hit is a candidate; context (negation, reported speech) decides later."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass
from itertools import compress, repeat
from operator import add

from .entries import Entry, Slot
from .firstchars import LENGTH
from .index import Candidate, Index
from .lexicon import Lexicon
from .morphology import Keys
from .text import Tokens


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    start: int
    end: int


_WORD_START = re.compile(r"\b\w")
_MARK = re.compile(r"[*@#$'’ʼ-]")  # what a token may hold besides word characters


def regex_hits(lexicon: Lexicon, folded: str, tokens: Tokens) -> Iterator[Hit]:
    """Every regex entry (patterns and exclusions) where it matches: only entries whose
    required literals the text holds, tried at the word starts whose letters they can
    begin with; the rare others scanned over the text."""
    index = lexicon.index
    possible = index.possible(folded)
    if possible:
        yield from _hits_at_word_starts(index, folded, tokens, possible)
    if index.scanned:
        # one search for all of them first: most texts hold none (emoji and the like)
        quick, uncovered = _scanned_quick(index)
        nothing = quick is not None and quick.search(folded) is None
        for entry in index.scanned:
            if nothing and entry.id not in uncovered:
                continue
            for m in entry.regex.finditer(folded):  # type: ignore[union-attr]
                if m.end() > m.start():
                    yield _hit(entry, m, m.start())


def _hit(entry: Entry, m: re.Match[str], start: int) -> Hit:
    """The hit of a match: the words a group named `said` matched, when the pattern has
    one, else the whole match. The rest is context: «интернет не работает» is said by «не
    работает», and «интернет» stays what the problem is about (problem_keys leaves the
    evidence's own words out of that)."""
    if "said" in m.re.groupindex:
        said_start, said_end = m.span("said")
        if said_end > said_start:
            return Hit(entry, said_start, said_end)
    return Hit(entry, start, m.end())


def word_starts(folded: str, tokens: Tokens) -> list[int]:
    """Where `\\b\\w` matches in `folded`, found from the tokens rather than by a regex
    scan of every character: a token of word characters only starts one word; only
    tokens with a mark inside ("don't", "x*y", "e-mail") are looked into."""
    starts, ends = tokens.starts, tokens.ends
    marked = set()
    for mark in _MARK.finditer(folded):
        i = bisect_right(starts, mark.start()) - 1
        if i >= 0 and mark.start() < ends[i]:
            marked.add(i)
    if not marked:
        return starts
    found = list(starts)
    for i in sorted(marked, reverse=True):
        found[i : i + 1] = map(re.Match.start, _WORD_START.finditer(folded, starts[i], ends[i]))
    return found


def _hits_at_word_starts(
    index: Index, folded: str, tokens: Tokens, possible: Set[str]
) -> Iterator[Hit]:
    # Every word start's first letters in C; Python only walks the word starts some
    # entry can begin at.
    starts = word_starts(folded, tokens)
    windows = list(map(folded.__getitem__, map(slice, starts, map(add, starts, repeat(LENGTH)))))
    tries = list(map(index.window_cache.get, windows))
    if None in tries:
        # each new window once (a pasted text repeats its words)
        unseen = dict.fromkeys(w for w, found in zip(windows, tries, strict=True) if found is None)
        new = {window: _at_window(index, window) for window in unseen}
        tries = [new.get(w, found) for w, found in zip(windows, tries, strict=True)]
    for at, candidates in compress(zip(starts, tries, strict=True), tries):
        for entry_id, match, entry in candidates:  # type: ignore[union-attr]
            if entry_id in possible:
                m = match(folded, at)
                if m is not None and m.end() > at:
                    yield _hit(entry, m, at)


def _at_window(index: Index, window: str) -> tuple[Candidate, ...]:
    """Entries to try where a word starts with `window`: those of its longest key."""
    by_prefix = index.regex_by_prefix
    entries = by_prefix.get(window) or by_prefix.get(window[:2]) or by_prefix.get(window[0])
    found = tuple((e.id, index.matchers[e.id], e) for e in (*(entries or ()), *index.at_any_word))
    if len(index.window_cache) > _STARTS_CACHE_LIMIT:
        index.window_cache.clear()
    index.window_cache[window] = found
    return found


_SCANNED = ""  # the key of the scanned entries in `quick_cache`


def _scanned_quick(index: Index) -> tuple[re.Pattern[str] | None, frozenset[str]]:
    found = index.quick_cache.get(_SCANNED)
    if found is None:
        found = index.quick_cache[_SCANNED] = _any_of(index.scanned)
    return found


def _any_of(entries: Sequence[Entry]) -> tuple[re.Pattern[str] | None, frozenset[str]]:
    """One regex that matches where any of `entries` does (None when it would not pay),
    and the ids of the entries it does not stand for: those with groups, whose
    backreferences would point elsewhere in a union."""
    plain = [e for e in entries if e.regex is not None and e.regex.groups == 0]
    uncovered = frozenset(e.id for e in entries) - {e.id for e in plain}
    if len(plain) < 2:
        return None, uncovered
    union = "|".join(f"(?:{e.regex.pattern})" for e in plain)  # type: ignore[union-attr]
    try:
        return re.compile(union, re.IGNORECASE), uncovered
    except re.error:  # e.g. an inline global flag inside one entry: try each alone
        return None, frozenset(e.id for e in entries)


_STARTS_CACHE_LIMIT = 200_000


def sequence_hits(lexicon: Lexicon, tokens: Tokens, keys: Sequence[Keys]) -> Iterator[Hit]:
    index = lexicon.index
    cache = index.starts_cache
    sentences = tokens.sentences
    n = len(keys)
    # the lemma sequences each word can start, looked up for all words at once
    candidates = list(map(cache.get, keys))
    if None in candidates:
        if len(cache) > _STARTS_CACHE_LIMIT:
            cache.clear()
        # each new key set once (a pasted text repeats its words)
        unseen = dict.fromkeys(k for k, c in zip(keys, candidates, strict=True) if c is None)
        new = {k: _starting_with(index, k) for k in unseen}
        cache.update(new)
        candidates = [new.get(k, c) for k, c in zip(keys, candidates, strict=True)]
    present: frozenset[str] | None = None  # every key of the text, when first needed
    for i in compress(range(n), candidates):  # the words that can start one
        following = keys[i + 1] if i + 1 < n and sentences[i + 1] == sentences[i] else _NONE
        for entry in candidates[i]:  # type: ignore[union-attr]
            # "в … суд" is not looked for after every "в" of a text without "суд"
            if entry.anchor is not None:
                if present is None:
                    present = frozenset().union(*keys)
                if entry.anchor.isdisjoint(present):
                    continue
            sequence = entry.sequence
            # most candidates fail on the very next word: say so without a call
            if len(sequence) > 1 and not sequence[1].gap and not sequence[1].accepts(following):
                continue
            last = _match_rest(sequence, 1, i, sentences, keys)
            if last is not None:
                yield Hit(entry, tokens.starts[i], tokens.ends[last])


_NONE: frozenset[str] = frozenset()


def _starting_with(index: Index, keys: frozenset[str]) -> tuple[Entry, ...]:
    """Lemma-sequence entries whose first word this word can be, each once."""
    found: dict[str, Entry] = {}
    for key in keys:
        for entry in index.by_first.get(key, ()):
            found[entry.id] = entry
    for entry in index.prefix_led:
        if entry.sequence[0].accepts(keys):
            found[entry.id] = entry
    # `keys` is a set: its order changes with the process's string hashing
    return tuple(sorted(found.values(), key=lambda e: index.rank[e.id]))


def _match_rest(
    slots: tuple[Slot, ...],
    k: int,
    at: int,
    sentences: Sequence[int],
    keys: Sequence[frozenset[str]],
) -> int | None:
    """Index of the token that ends the match when slots[k:] follow token `at`: the
    nearest words first, within the sentence."""
    if k == len(slots):
        return at
    slot = slots[k]
    words, prefixes = slot.words, slot.prefixes
    sentence = sentences[at]
    for j in range(at + 1, min(at + 2 + slot.gap, len(keys))):
        if sentences[j] != sentence:
            return None
        word_keys = keys[j]
        if not words.isdisjoint(word_keys) or (
            prefixes and any(key.startswith(prefixes) for key in word_keys)
        ):
            end = _match_rest(slots, k + 1, j, sentences, keys)
            if end is not None:
                return end
    return None
