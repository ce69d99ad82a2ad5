"""Context that turns a lexicon hit into no signal: negation and reported speech."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from .lexicon import Lexicon
from .morphology import Keys
from .text import Tokens

NEGATION_WINDOW = 4  # a negator this many words before the hit, bridged by auxiliaries
# After the hit a negator needs an intention verb next to it ("судиться мы ни с кем не
# собираемся"), a cue strong enough to look further.
NEGATION_AFTER_WINDOW = 6
REPORT_WINDOW = 10  # a reporting verb this many words before the hit
PREPOSITIONS = frozenset({"у", "в", "от", "для", "при", "від", "of", "for", "with"})


def token_at(tokens: Tokens, offset: int) -> int:
    """Index of the first token that ends after `offset`."""
    i = bisect_left(tokens.starts, offset)
    if i > 0 and tokens.ends[i - 1] > offset:
        return i - 1
    return i


def negated(lexicon: Lexicon, tokens: Tokens, keys: Sequence[Keys], first: int, last: int) -> bool:
    """ "я не собираюсь судиться", "I don't want to sue", "не подам" — but not
    "не вернёте деньги подам в суд": only auxiliaries may stand between. Also negated
    after the words: "судиться с вами я не собираюсь"."""
    if first >= len(tokens):
        return False
    words, clauses = tokens.words, tokens.clauses
    clause = clauses[first]
    if lexicon.negation_after:
        for j in range(last + 1, min(last + 1 + NEGATION_AFTER_WINDOW, len(words) - 1)):
            if clauses[j] != clause:
                break
            if words[j] in lexicon.negators and not keys[j + 1].isdisjoint(lexicon.negation_after):
                return True
    for j in range(first - 1, max(-1, first - 1 - NEGATION_WINDOW), -1):
        if clauses[j] != clause:
            return False
        word = words[j]
        if word in lexicon.negators or word.endswith("n't"):
            return True
        if keys[j].isdisjoint(lexicon.bridges):
            return False
    return False


def reported(
    lexicon: Lexicon, tokens: Tokens, first: int, last: int, victim_subject: bool = False
) -> bool:
    """A threat someone else made ("мне угрожал сосед, что подаст в суд", "he said he'd
    kill me"), or one aimed at the client ("sue me"), is not the client's own threat."""
    rules = lexicon.reported
    if first >= len(tokens):
        return False
    words, clauses, sentences = tokens.words, tokens.clauses, tokens.sentences
    sentence, clause = sentences[first], clauses[first]
    # "убьёт меня", "меня убьёт", "sue me": the client is the target. Right before the hit
    # or just after it, never its own words ("у меня в тиктоке" is the client's channel)
    # nor the object of the verb before ("keep ignoring me and I'll post…").
    # "у меня канал на 200к" is the client's own: a target after a preposition is not one.
    around = (first - 1, *range(last + 1, last + 3))
    for j in around:
        if not (0 <= j < len(words) and words[j] in rules.targets and clauses[j] == clause):
            continue
        if j == 0 or words[j - 1] not in PREPOSITIONS:
            return True
    # Surface forms: "сосед подаст" is a third party's threat, "его зустріну" is not; "he'll
    # leave on a stretcher" names the victim (an entry marked victim_subject).
    for j in range(first - 1, first - 1 if victim_subject else max(-1, first - 1 - 3), -1):
        if clauses[j] != clause:
            break
        if words[j] in rules.third_parties:
            return True
    for j in range(first - 1, max(-1, first - 1 - REPORT_WINDOW), -1):
        if sentences[j] != sentence:
            break
        if words[j] in rules.reporters:
            # "I told you I'd sue" is still the client's own threat
            return rules.speakers.isdisjoint(words[max(0, j - 2) : j])
    return False
