"""The client's own account of what went wrong, for the failure notice. Pure.

Seed 001: lay the situation out, one item per problem. What Careline knows of the
problems when it answers is what the client wrote, so each stretch of the message that
carries evidence of a failure (the detector's spans, not its marks on the text's form, nor
the words that only say it happened again) is one item: a sentence, sentences that one
piece of evidence runs across ("the site says open Saturdays. I drove there: a locked
door"), or a clause of a sentence that joins two problems ("it is still not fixed, and
yesterday your agent told us the feature doesn't exist" is two). A promise and its breach
("you promised it by Friday, but never did") stay one problem. Nothing of a sentence with
a threat in it is quoted back (its other clause is the threat's condition: "if you do not
refund the spoiled order, I will sue"); an insult is cut off the clause beside it. In the
client's order, each once, at most `MOST`, each shortened to `LONGEST` characters, card
numbers masked, a joining word that opens it ("Also, …", "И ещё: …") left out.
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
# Not quoted back: the client's threat or insult is no problem of ours to list.
THREATS = frozenset({"legal_threat", "violence_threat", "reputation_threat"})
INSULTS = frozenset({"abuse", "harassment"})
# A promise (or a term) and the words that say it was broken are one problem, whatever
# joins them: "обещали к пятнице, но так и не сделали".
PROMISE = frozenset({"promised", "was_supposed", "late", "late_for_time", "late_for_term"})
BREACH = frozenset({"still_not", "not_done", "not_working", "cannot_fix", "never_existed"})


def _either(*words: str) -> str:
    """An alternation of joining words, the longest first ("а ещё" before "а")."""
    return "|".join(sorted(words, key=len, reverse=True)).replace(" ", r"\s+")


JOINING_WORDS = (
    *("и", "а", "но", "да и", "плюс", "ещё и", "еще и", "а ещё", "а еще"),
    *("к тому же", "а также", "кроме того"),
    *("і", "й", "та", "але", "а ще", "ще й", "до того ж", "а також", "крім того"),
    *("and", "but", "plus", "also", "and also", "on top of that", "besides"),
)
_JOINERS = _either(*JOINING_WORDS)
# Where one clause of a sentence ends and the next begins: a semicolon, a dash, or a
# comma with a joining word (ru, uk, en); the joining word is not part of either clause.
_CLAUSE_BREAK = re.compile(
    rf"\s*(?:;|\s[—–-]\s|,\s*(?:(?:{_JOINERS})\b)?)\s*(?:(?:{_JOINERS})\b\s*)?", re.IGNORECASE
)
# A joining word that opens a sentence adds nothing to the item: "И ещё: экспорт …".
_OPENING = _either(*JOINING_WORDS, "и ещё", "и еще", "ещё", "еще", "также", "і ще", "ще", "також")
_OPENING_JOINER = re.compile(rf"^(?:{_OPENING})\b\s*[:,—–-]?\s*", re.IGNORECASE)
MOST = 5
LONGEST = 200


class _Mark(NamedTuple):
    start: int
    end: int
    kind: str  # "problem", "threat" or "insult"
    rule: str  # the evidence rule's last part ("promised", "still_not", …)


def reported_problems(
    text: str, signals: Iterable[Signal], problems: frozenset[str] = PROBLEM_SIGNALS
) -> list[str]:
    """The stretches of `text` that report a failure, as the client put them; with
    `problems`, those that carry evidence of these signals instead (a demand's: what the
    client asks for, quoted back by its acknowledgement)."""
    items: list[str] = []
    for (begins, ends), around in _cut(text, signals, problems):
        if any(m.kind == "threat" for m in around):
            continue  # nothing of a sentence with a threat in it
        if len(items) == MOST:
            return items
        these = {m.kind for m in around if m.start < ends and m.end > begins}
        if these == {"problem"}:
            said = _said(text[begins:ends])
            if said and said not in items:
                items.append(said)
    return items


def sentences_with(text: str, spans: Iterable[tuple[int, int]]) -> tuple[str, ...]:
    """The sentences of `text` where each (start, end) of evidence stands (as the detector
    cut it: «обещал», «twice»), once each, as quoted: what staff read of news in a case."""
    found: list[str] = []
    spans = list(spans)
    sentences = list(sentence_bounds(text, max((end for _, end in spans), default=-1)))
    for start, end in spans:
        a, b = next(((a, b) for a, b in sentences if a <= start < b), (start, end))
        said = _said(text[a:b])
        if said and said not in found:
            found.append(said)
    return tuple(found)


def problem_clauses(
    text: str, signals: Iterable[Signal], problems: frozenset[str] = PROBLEM_SIGNALS
) -> Iterator[tuple[int, int]]:
    """(start, stop) of every stretch of `text` cut as the failure notice cuts its items,
    the evidence of `problems` taken for problems: a sentence, the sentences one piece of
    evidence runs across, each clause of a sentence that joins two problems."""
    return (clause for clause, _ in _cut(text, signals, problems))


def _cut(
    text: str, signals: Iterable[Signal], problems: frozenset[str]
) -> Iterator[tuple[tuple[int, int], list[_Mark]]]:
    """Each clause of `text` as the failure notice cuts its items, with the marks of the
    stretch (sentences) it is a clause of: the problems, threats and insults there."""
    marks = sorted(_marks(list(signals), problems))
    for start, stop in _stretches(text, marks):
        inside = [m for m in marks if m.start < stop and m.end > start]
        for clause in _clauses(text, start, stop, inside):
            yield clause, inside


def _marks(signals: list[Signal], problems: frozenset[str]) -> Iterator[_Mark]:
    for s in signals:
        for e in s.evidence:
            rule = e.rule.rsplit(".", 1)[-1]
            if s.name in problems:
                if not e.rule.startswith("form.") and rule not in NOT_A_PROBLEM:
                    yield _Mark(e.start, e.end, "problem", rule)
            elif s.name in THREATS:
                yield _Mark(e.start, e.end, "threat", rule)
            elif s.name in INSULTS:
                yield _Mark(e.start, e.end, "insult", rule)


def _stretches(text: str, marks: list[_Mark]) -> Iterator[tuple[int, int]]:
    """The sentences of `text`, those one mark runs across joined into one stretch."""
    start = stop = None
    for s_start, s_stop in sentence_bounds(text, max((m.end for m in marks), default=-1)):
        if start is not None and stop is not None:
            if any(m.start < stop <= s_start < m.end for m in marks):
                stop = s_stop
                continue
            yield start, stop
        start, stop = s_start, s_stop
    if start is not None and stop is not None:
        yield start, stop


def _clauses(text: str, start: int, stop: int, marks: list[_Mark]) -> Iterator[tuple[int, int]]:
    """(start, stop) of the stretch's clauses: cut between two marks that are not one
    problem, at the last clause break between them; a stretch without such a break stays
    whole."""
    reach = None  # the mark that reaches furthest so far (marks may overlap)
    for b in marks:
        a, reach = reach, b if reach is None or b.end > reach.end else reach
        if a is None or b.start <= a.end or _together(a, b):
            continue
        breaks = list(_CLAUSE_BREAK.finditer(text, a.end, b.start))
        if breaks:
            cut = breaks[-1]
            yield start, cut.start()
            start = cut.end()
    yield start, stop


def _together(a: _Mark, b: _Mark) -> bool:
    """Whether two marks belong to one stretch (no cut between them)."""
    if a.kind != b.kind:
        return False  # a problem and an insult beside it ("не работает, что за х*йня")
    if a.kind != "problem":
        return True
    return a.rule == b.rule or (a.rule in PROMISE and b.rule in BREACH)


def sentence_bounds(text: str, until: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each sentence of `text` up to the one where offset `until` stands
    (the last evidence's end: the detector reads a message's first DETECTION_CHARS, and the
    sentences after its last evidence quote nothing; a pasted 900 kB log took 2 s to cut
    whole), lines first: a client's line is a thought. A line is read at most _REACH
    characters past `until`."""
    offset = 0
    for line in text[: until + _REACH].splitlines(keepends=True):
        if offset > until:
            return
        for s in sentenize(line):
            yield offset + s.start, offset + s.stop
        offset += len(line)


# How far a sentence is read past the last evidence in it: a longer one is shortened when
# quoted anyway (_shortened), and a pasted log with no line break must not be read whole.
_REACH = 2_000


def _said(stretch: str) -> str:
    """A stretch as quoted: one line, card numbers masked, no opening joining word,
    capitalised and ended."""
    said = " ".join(mask_card_numbers(stretch).split()).rstrip(",;:—–- ")
    said = _OPENING_JOINER.sub("", said)
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
