"""Whom a hit is about: an entry with `about` counts only with one of its words near it,
one with `unless` only with none of those.

«Такая милая» is an advance said of the manager and praise said of a shop window (round
34: «у вашего салона такие красивые витрины», «дуже гарні речі»); what stands near the
words says which. «Она» is her unless it is the thing just named (round 35: «Заказала
сумку, она очень красивая»)."""

from __future__ import annotations

from collections.abc import Sequence

from .entries import Near
from .morphology import Keys, Morphology
from .text import Tokens

# Third-person pronouns and the gender of the noun they stand for: «она» after «сумку»
# is the bag, after «девушка» or «Оля» her.
_PRONOUN_GENDER = {"она": "femn", "вона": "femn", "он": "masc", "він": "masc"}


def about_one_of(
    near: tuple[Near, ...],
    tokens: Tokens,
    keys: Sequence[Keys],
    first: int,
    last: int,
    morph: Morphology,
    antecedents: bool = True,
) -> bool:
    """One of `near`'s words stands in its window around tokens first..last, or between
    them («такой голос приятный»), in their sentence. With `antecedents`, a pronoun
    («она», «він») that stands for a thing named before it in the sentence is no one."""
    words, sentences = tokens.words, tokens.sentences
    sentence = sentences[first]
    for group in near:
        start, end = max(0, first - group.before), min(len(words), last + 1 + group.after)
        for j in range(start, end):
            if sentences[j] != sentence:
                continue
            word = words[j]
            if word in group.forms:
                if (
                    antecedents
                    and word in _PRONOUN_GENDER
                    and _stands_for_a_thing(tokens, j, morph)
                ):
                    continue
                return True
            if not group.lemmas.isdisjoint(keys[j]) or (group.names and morph.is_name(word)):
                return True
    return False


def _stands_for_a_thing(tokens: Tokens, pronoun: int, morph: Morphology) -> bool:
    """The nearest noun of the pronoun's gender before it in its sentence is a thing
    («Заказала сумку, она…»); no such noun (the antecedent is in another sentence) or a
    person («Пришла девушка, она…», «мастер Оля, она…») is not."""
    words, sentences = tokens.words, tokens.sentences
    gender = _PRONOUN_GENDER[words[pronoun]]
    j = pronoun - 1
    while j >= 0 and sentences[j] == sentences[pronoun]:
        found = morph.noun_animacy(words[j], gender)
        if found is not None:
            return not found
        j -= 1
    return False
