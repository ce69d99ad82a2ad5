"""detect(): which signals a client's text carries, how strongly, and the evidence."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import NamedTuple

from shared.contracts import Signal

from .about import about_one_of
from .context import negated, reported, token_at
from .form import form_evidence
from .lexicon import SIGNALS, Lexicon, default_morphology, load_lexicon
from .matching import Hit, regex_hits, sequence_hits
from .morphology import Morphology
from .opinions import SecondOpinion
from .text import Tokens, prepared, tokenize

FORM_WEIGHT = 0.2


# About 3,000 words: far more than a client's complaint (the labelled messages are at most
# a few thousand characters); what follows is a pasted log or document, not their words.
DETECTION_CHARS = 20_000


class _Piece(NamedTuple):
    """A piece of evidence before it becomes a contract: cheap to make and to drop."""

    weight: float
    start: int
    end: int
    rule: str


def detect(
    text: str,
    lexicon: Lexicon | None = None,
    *,
    language: str | None = None,
    opinions: Mapping[str, SecondOpinion] | None = None,
    morphology: Morphology | None = None,
) -> list[Signal]:
    """Signals asserted for `text`, in the order of SIGNALS, each with its evidence
    (`read_message` says how it is read)."""
    return read_message(
        text, lexicon, language=language, opinions=opinions, morphology=morphology
    ).signals


@dataclass(frozen=True)
class ReadMessage:
    """What the detector read in a message: its signals, and the language of its Latin
    letters when it is Russian or Ukrainian typed in them ("privet, u nas opyat ne
    rabotaet", which a language detector takes for English; None otherwise): the client
    is answered in it."""

    signals: list[Signal]
    latin_language: str | None = None


def read_message(
    text: str,
    lexicon: Lexicon | None = None,
    *,
    language: str | None = None,
    opinions: Mapping[str, SecondOpinion] | None = None,
    morphology: Morphology | None = None,
) -> ReadMessage:
    """Signals asserted for `text`, in the order of SIGNALS, each with its evidence.

    `language` is what intake detected; the lexicons of all three languages apply to
    every message anyway (people mix them), so it only reaches the second opinions.

    Only the first `DETECTION_CHARS` characters are read (evidence offsets stay those of
    `text`): reading costs about 30 ms per thousand characters of repetitive text, so a
    pasted log of 900 kB (what intake accepts) held the escalator's batch for half a
    minute, past the consumer's ack wait."""
    text = text[:DETECTION_CHARS]
    lexicon = lexicon or load_lexicon()
    morph = morphology or default_morphology()
    folded = prepared(text)
    tokens = tokenize(folded, lexicon.clause_words)
    by_signal, excluded = _pieces(lexicon, morph, folded, tokens)
    # Russian or Ukrainian typed in Latin letters is read in Cyrillic too, every entry runs
    # on the reading, and its evidence is mapped back to the client's words. Beside the
    # Latin text, not instead of it: English words in it ("fuck vas vsekh", "polnyy shit")
    # and the Latin entries ("vernut dengi", which reads as «вернут деньги») still count;
    # the same words found in both count once (_without_overlaps).
    reading = morph.reader.read(folded, tokens.words)
    if reading is not None:
        cyrillic = tokenize(reading.text, lexicon.clause_words)
        more, silenced = _pieces(lexicon, morph, reading.text, cyrillic, reading.origin)
        for name, pieces in more.items():
            by_signal.setdefault(name, []).extend(pieces)
        excluded |= silenced

    # Form is looked at only when words already matched a signal that takes it.
    form: list[_Piece] = []
    if any(name in by_signal for name in lexicon.form_signals):
        form = [_Piece(FORM_WEIGHT, e.start, e.end, e.rule) for e in form_evidence(text)]
    signals: list[Signal] = []
    for name in SIGNALS:
        found = _verdict(lexicon, name, text, by_signal.get(name), form)
        # The lexicon's words for the signal were all negated, reported or excluded ("я не
        # подам в суд"): an opinion that reads words without their context must not
        # assert it again.
        unsaid = found is None and name in excluded and name not in by_signal
        if opinions and name in opinions and not unsaid:
            found = opinions[name].reconsider(name, text, language, found)
        if found is not None:
            signals.append(found)
    return ReadMessage(signals, reading.language if reading is not None else None)


Origin = Callable[[int, int], tuple[int, int]]


def _pieces(
    lexicon: Lexicon,
    morph: Morphology,
    folded: str,
    tokens: Tokens,
    origin: Origin | None = None,
) -> tuple[dict[str, list[_Piece]], set[str]]:
    """The evidence the lexicon finds in `folded` by signal (offsets mapped by `origin` to
    the client's text), and the signals some of whose words were negated, reported or
    excluded."""
    keys = morph.keys_of(tokens.words)
    contextual = lexicon.reported.signals

    def taken_back(hit: Hit) -> tuple[int, int] | None:
        """The words a negated or reported hit takes with it, or None if it stands. A
        negation takes only its own clause: in "если не разберётесь, подам в суд" the
        "не" is about sorting it out, and the threat after the comma stands."""
        first = token_at(tokens, hit.start)
        last = max(first, token_at(tokens, hit.end - 1))
        if hit.entry.negatable and negated(lexicon, tokens, keys, first, last):
            end = first
            while end + 1 <= last and tokens.clauses[end + 1] == tokens.clauses[first]:
                end += 1
            return hit.start, min(hit.end, tokens.ends[end])
        if hit.entry.signal in contextual and reported(
            lexicon, tokens, first, last, hit.entry.victim_subject
        ):
            return hit.start, hit.end
        return None

    def about_whom_it_says(hit: Hit) -> bool:
        """No `about` in its entry, or one of its words near the hit («вы такая милая», not
        «такие красивые витрины»), and none of its `unless` words («моя дочка Сонечка»,
        «номер водителя»): a hit that fails is no hit, as if the words were not there."""
        entry = hit.entry
        if not entry.about and not entry.unless:
            return True
        first = token_at(tokens, hit.start)
        # the last word starting inside the hit: "beautiful," ends on its comma, and the
        # word after the comma ("thanks") is no word of it
        last = max(first, bisect_left(tokens.starts, hit.end) - 1)
        if entry.about and not about_one_of(entry.about, tokens, keys, first, last, morph):
            return False
        return not (
            entry.unless
            and about_one_of(entry.unless, tokens, keys, first, last, morph, antecedents=False)
        )

    hits: list[Hit] = []
    # An exclusion only silences its own signal: "tennis court" says nothing about abuse.
    excluded: dict[str, list[tuple[int, int]]] = {}
    for hit in chain(regex_hits(lexicon, folded, tokens), sequence_hits(lexicon, tokens, keys)):
        if hit.entry.not_after is not None and _said_after(hit, folded):
            continue
        if hit.entry.excluded:
            excluded.setdefault(hit.entry.signal, []).append((hit.start, hit.end))
        elif about_whom_it_says(hit):
            hits.append(hit)

    # A negated or reported hit takes the words it covers with it: "не подам на вас в суд"
    # must not survive as the shorter "в суд".
    dropped = set()
    for i, hit in enumerate(hits):
        span = taken_back(hit)
        if span is not None:
            dropped.add(i)
            excluded.setdefault(hit.entry.signal, []).append(span)
    by_signal: dict[str, list[_Piece]] = {}
    silenced = {signal: _Spans(spans) for signal, spans in excluded.items()}
    for i, hit in enumerate(hits):
        spans = silenced.get(hit.entry.signal)
        if i in dropped or (spans is not None and spans.overlap(hit.start, hit.end)):
            continue
        start, end = (hit.start, hit.end) if origin is None else origin(hit.start, hit.end)
        piece = _Piece(hit.entry.weight, start, end, hit.entry.id)
        by_signal.setdefault(hit.entry.signal, []).append(piece)
    return by_signal, set(excluded)


_SENTENCE_END = re.compile(r"[.!?\n][^.!?\n]*\Z")


def _said_after(hit: Hit, folded: str) -> bool:
    """Whether the hit's sentence before it holds its entry's `not_after` («почему» before
    «не работает?»: a complaint, not a how-to question)."""
    before = folded[max(0, hit.start - 200) : hit.start]
    end = _SENTENCE_END.search(before)
    sentence = before[end.start() + 1 :] if end else before
    return hit.entry.not_after is not None and hit.entry.not_after.search(sentence) is not None


class _Spans:
    """Spans that may overlap one another, asked whether any overlaps [start, end): by the
    greatest end among those starting before `end`, one bisection rather than a look at
    each (a pasted text negating one threat 1,500 times had as many spans as hits)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.reach = list(accumulate((e for _, e in ordered), max))

    def overlap(self, start: int, end: int) -> bool:
        before = bisect_left(self.starts, end)
        return before > 0 and self.reach[before - 1] > start


def _verdict(
    lexicon: Lexicon, name: str, text: str, pieces: list[_Piece] | None, form: list[_Piece]
) -> Signal | None:
    if not pieces:
        return None
    # Form alone is never a verdict: it only strengthens words that already matched.
    kept = _without_overlaps(pieces) + (form if name in lexicon.form_signals else [])
    score = _combine(p.weight for p in kept)
    if score < lexicon.threshold(name):
        return None
    evidence = [
        {"start": p.start, "end": p.end, "text": text[p.start : p.end], "rule": p.rule}
        for p in sorted(kept, key=lambda p: (p.start, p.end))
    ]
    # one validation of the whole signal is cheaper than one model per piece of evidence
    return Signal.model_validate({"name": name, "score": round(score, 3), "evidence": evidence})


def _without_overlaps(pieces: list[_Piece]) -> list[_Piece]:
    """One piece of evidence per stretch of text: the same words count once, as the
    strongest entry that matched them."""
    kept: list[_Piece] = []
    # What is kept never overlaps, so in the order of their starts the ends grow too, and
    # a piece overlaps something kept exactly when it overlaps the last kept one starting
    # before its end. A bisection, not a look at each kept piece: a pasted text with one
    # threat 1,500 times had 1,500 pieces to keep, a million comparisons (0.5 s).
    starts: list[int] = []
    ends: list[int] = []
    for piece in sorted(pieces, key=lambda p: (-p.weight, p.start, p.start - p.end)):
        before = bisect_left(starts, piece.end)
        if before and ends[before - 1] > piece.start:
            continue
        kept.append(piece)
        starts.insert(before, piece.start)
        ends.insert(before, piece.end)
    return kept


def _combine(weights: Iterable[float]) -> float:
    """Independent evidence: 1 - Π(1 - w), so two weak hints outweigh one."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining
