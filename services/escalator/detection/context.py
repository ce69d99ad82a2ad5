"""Context that turns a lexicon hit into no signal: negation and reported speech."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from .lexicon import Lexicon
from .morphology import Analysis
from .text import Token

NEGATION_WINDOW = 4  # a negator this many words before the hit, bridged by auxiliaries
REPORT_WINDOW = 10  # a reporting verb this many words before the hit


def token_at(tokens: Sequence[Token], starts: Sequence[int], offset: int) -> int:
    """Index of the first token that ends after `offset`."""
    i = bisect_left(starts, offset)
    if i > 0 and tokens[i - 1].end > offset:
        return i - 1
    return i


def negated(
    lexicon: Lexicon, tokens: Sequence[Token], analyses: Sequence[Analysis], first: int
) -> bool:
    """ "я не собираюсь судиться", "I don't want to sue", "не подам" — but not
    "не вернёте деньги подам в суд": only auxiliaries may stand between."""
    if first >= len(tokens):
        return False
    clause = tokens[first].clause
    for j in range(first - 1, max(-1, first - 1 - NEGATION_WINDOW), -1):
        word = tokens[j].word
        if tokens[j].clause != clause:
            return False
        if word in lexicon.negators or word.removesuffix("n't") != word:
            return True
        if analyses[j].keys.isdisjoint(lexicon.bridges):
            return False
    return False


def reported(
    lexicon: Lexicon,
    tokens: Sequence[Token],
    analyses: Sequence[Analysis],
    first: int,
    last: int,
) -> bool:
    """A threat someone else made ("мне угрожал сосед, что подаст в суд", "he said he'd
    kill me"), or one aimed at the client ("sue me"), is not the client's own threat."""
    rules = lexicon.reported
    if first >= len(tokens):
        return False
    sentence, clause = tokens[first].sentence, tokens[first].clause
    # "убьёт меня", "меня убьёт", "sue me": the client is the target
    around = range(max(0, first - 2), min(last + 3, len(tokens)))
    if any(tokens[j].clause == clause and tokens[j].word in rules.targets for j in around):
        return True
    # Surface forms: "сосед подаст" is a third party's threat, "его зустріну" is not.
    for j in range(first - 1, max(-1, first - 1 - 3), -1):
        if tokens[j].clause != clause:
            break
        if tokens[j].word in rules.third_parties:
            return True
    for j in range(first - 1, max(-1, first - 1 - REPORT_WINDOW), -1):
        if tokens[j].sentence != sentence:
            break
        if tokens[j].word in rules.reporters:
            # "I told you I'd sue" is still the client's own threat
            before = {tokens[i].word for i in range(max(0, j - 2), j)}
            return before.isdisjoint(rules.speakers)
    return False
