"""Whom a hit is about: an entry with `about` counts only with one of its words near it.

«Такая милая» is an advance said of the manager and praise said of a shop window (round
34: «у вашего салона такие красивые витрины», «дуже гарні речі»); what stands near the
words says which."""

from __future__ import annotations

from collections.abc import Sequence

from .entries import Near
from .morphology import Keys, Morphology
from .text import Tokens


def about_one_of(
    near: tuple[Near, ...],
    tokens: Tokens,
    keys: Sequence[Keys],
    first: int,
    last: int,
    morph: Morphology,
) -> bool:
    """One of `near`'s words stands in its window around tokens first..last, or between
    them («такой голос приятный»), in their sentence."""
    words, sentences = tokens.words, tokens.sentences
    sentence = sentences[first]
    for group in near:
        start, end = max(0, first - group.before), min(len(words), last + 1 + group.after)
        for j in range(start, end):
            if sentences[j] != sentence:
                continue
            if (
                words[j] in group.forms
                or not group.lemmas.isdisjoint(keys[j])
                or (group.names and morph.is_name(words[j]))
            ):
                return True
    return False
