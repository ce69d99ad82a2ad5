"""The client's own account of what went wrong, for the failure notice. Pure.

Seed 001: lay the situation out, one item per problem. What Careline knows of the
problems when it answers is what the client wrote, so each sentence of the message that
carries evidence of a failure (the detector's spans, not its marks on the text's form, nor
the words that only say it happened again) is one item, unless it carries a threat or an
insult too (those are not quoted back): in the client's order, each once, at most `MOST`,
each shortened to `LONGEST` characters and with card numbers masked. Sentences are the
razdel library's (Russian rules; Ukrainian and English split the same way at their
stops); a line break ends one too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from razdel import sentenize

from shared.contracts import Signal

from .privacy import mask_card_numbers

# The signals whose evidence is a problem the client reports (the failure notice's).
PROBLEM_SIGNALS = frozenset({"service_failure"})
# Evidence of a failure that is no problem of its own: that it happened again, how long
# the client has waited ("the third time this quarter" is said apart, not as an item).
NOT_A_PROBLEM = frozenset({"repeated", "nth_time", "nth_period", "waiting_long", "fix_demand"})
# A sentence with these in it is not quoted back: the client's threat or insult is no
# problem of ours to list ("…or I will sue you" beside the spoiled order).
NOT_QUOTED = frozenset(
    {"legal_threat", "violence_threat", "reputation_threat", "abuse", "harassment"}
)
MOST = 3
LONGEST = 200


def reported_problems(text: str, signals: Iterable[Signal]) -> list[str]:
    """The sentences of `text` that report a failure, as the client put them."""
    signals = list(signals)
    spans = [
        (e.start, e.end)
        for s in signals
        if s.name in PROBLEM_SIGNALS
        for e in s.evidence
        if not e.rule.startswith("form.") and e.rule.rsplit(".", 1)[-1] not in NOT_A_PROBLEM
    ]
    unquoted = [(e.start, e.end) for s in signals if s.name in NOT_QUOTED for e in s.evidence]

    def within(start: int, stop: int, found: list[tuple[int, int]]) -> bool:
        return any(a < stop and b > start for a, b in found)

    items: list[str] = []
    for start, stop, sentence in _sentences(text):
        if len(items) == MOST:
            break
        if within(start, stop, spans) and not within(start, stop, unquoted):
            said = _shortened(" ".join(mask_card_numbers(sentence).split()))
            if said and said not in items:
                items.append(said)
    return items


def _sentences(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, stop, sentence) over `text`, lines first: a client's line is a thought."""
    offset = 0
    for line in text.splitlines(keepends=True):
        for s in sentenize(line):
            yield offset + s.start, offset + s.stop, s.text
        offset += len(line)


def _shortened(sentence: str) -> str:
    if len(sentence) <= LONGEST:
        return sentence
    cut = sentence[: LONGEST - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:—- ") + "…"
