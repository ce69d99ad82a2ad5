"""The client's own account of what went wrong, for the failure notice. Pure.

Seed 001: lay the situation out, one item per problem. What Careline knows of the
problems when it answers is what the client wrote, so each stretch of the message that
carries evidence of a failure (the detector's spans, not its marks on the text's form, nor
the words that only say it happened again) is one item: a sentence, or a clause of one
when a sentence joins two problems ("it is still not fixed, and yesterday your agent told
us the feature doesn't exist" is two). A promise and its breach ("you promised it by
Friday, but never did") stay one problem. A stretch with a threat or an insult in it is
not quoted back, nor is the rest of its sentence. In the client's order, each
once, at most `MOST`, each shortened to `LONGEST` characters and with card numbers masked.
Sentences are the razdel library's (Russian rules; Ukrainian and English split the same
way at their stops); a line break ends one too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from razdel import sentenize

from shared.contracts import Signal

from .privacy import mask_card_numbers

# The signals whose evidence is a problem the client reports (the failure notice's).
PROBLEM_SIGNALS = frozenset({"service_failure"})
# Evidence of a failure that is no problem of its own: that it happened again, how long
# the client has waited ("the third time this quarter" is said apart, not as an item).
NOT_A_PROBLEM = frozenset({"repeated", "nth_time", "nth_period", "waiting_long", "fix_demand"})
# A stretch with these in it is not quoted back: the client's threat or insult is no
# problem of ours to list ("…or I will sue you" beside the spoiled order).
NOT_QUOTED = frozenset(
    {"legal_threat", "violence_threat", "reputation_threat", "abuse", "harassment"}
)
# A promise (or a term) and the words that say it was broken are one problem, whatever
# joins them: "обещали к пятнице, но так и не сделали".
PROMISE = frozenset({"promised", "was_supposed", "late", "late_for_time", "late_for_term"})
BREACH = frozenset({"still_not", "not_done", "not_working", "cannot_fix", "never_existed"})
# Where one clause of a sentence ends and the next begins: a semicolon, a dash, or a
# comma with a joining word (ru, uk, en); the joining word is not part of either clause.
_JOINERS = "|".join(
    sorted(  # the longest first: "а ещё" is one joining word, not "а" and a clause "ещё…"
        (
            *("и", "а", "но", "да и", "плюс", "ещё и", "еще и", "а ещё", "а еще"),
            *("к тому же", "а также", "кроме того"),
            *("і", "й", "та", "але", "а ще", "ще й", "до того ж", "а також", "крім того"),
            *("and", "but", "plus", "also", "and also", "on top of that", "besides"),
        ),
        key=len,
        reverse=True,
    )
).replace(" ", r"\s+")
_CLAUSE_BREAK = re.compile(
    rf"\s*(?:;|\s[—–-]\s|,\s*(?:(?:{_JOINERS})\b)?)\s*(?:(?:{_JOINERS})\b\s*)?", re.IGNORECASE
)
MOST = 3
LONGEST = 200


class _Mark(NamedTuple):
    start: int
    end: int
    problem: bool  # evidence of a failure; else a threat or insult (not quoted)
    kind: str  # the evidence rule's last part ("promised", "still_not", …)


def reported_problems(text: str, signals: Iterable[Signal]) -> list[str]:
    """The stretches of `text` that report a failure, as the client put them."""
    marks = sorted(_marks(list(signals)))
    items: list[str] = []
    for start, stop in _sentences(text):
        inside = [m for m in marks if m.start < stop and m.end > start]
        for begins, ends in _clauses(text, start, stop, inside):
            if len(items) == MOST:
                return items
            these = [m for m in inside if m.start < ends and m.end > begins]
            if any(m.problem for m in these) and all(m.problem for m in these):
                said = _said(text[begins:ends])
                if said and said not in items:
                    items.append(said)
    return items


def _marks(signals: list[Signal]) -> Iterator[_Mark]:
    for s in signals:
        for e in s.evidence:
            kind = e.rule.rsplit(".", 1)[-1]
            if s.name in PROBLEM_SIGNALS:
                if not e.rule.startswith("form.") and kind not in NOT_A_PROBLEM:
                    yield _Mark(e.start, e.end, True, kind)
            elif s.name in NOT_QUOTED:
                yield _Mark(e.start, e.end, False, kind)


def _clauses(text: str, start: int, stop: int, marks: list[_Mark]) -> Iterator[tuple[int, int]]:
    """(start, stop) of the sentence's stretches: cut between two marks that are not one
    problem, at the last clause break between them; a sentence without such a break stays
    whole."""
    reach = None  # the mark that reaches furthest so far (marks may overlap)
    for b in marks:
        a, reach = reach, b if reach is None or b.end > reach.end else reach
        if a is None or b.start <= a.end or _one_problem(a, b):
            continue
        breaks = list(_CLAUSE_BREAK.finditer(text, a.end, b.start))
        if breaks:
            cut = breaks[-1]
            yield start, cut.start()
            start = cut.end()
    yield start, stop


def _one_problem(a: _Mark, b: _Mark) -> bool:
    if not (a.problem and b.problem):
        # A threat is not cut from the problem it is about ("if you do not refund the
        # spoiled order, I will sue": its first clause is the threat's condition).
        return True
    return a.kind == b.kind or (a.kind in PROMISE and b.kind in BREACH)


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, stop) of each sentence of `text`, lines first: a client's line is a thought."""
    offset = 0
    for line in text.splitlines(keepends=True):
        for s in sentenize(line):
            yield offset + s.start, offset + s.stop
        offset += len(line)


def _said(stretch: str) -> str:
    """A stretch as quoted: one line, card numbers masked, a clause capitalised and ended."""
    said = " ".join(mask_card_numbers(stretch).split()).rstrip(",;:—–- ")
    if not said:
        return said
    said = said[0].upper() + said[1:]
    if said[-1] not in '.!?…»")':
        said += "."
    return _shortened(said)


def _shortened(sentence: str) -> str:
    if len(sentence) <= LONGEST:
        return sentence
    cut = sentence[: LONGEST - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:—- ") + "…"
