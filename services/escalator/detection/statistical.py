"""A statistical second opinion: a linear model over the message's words, per signal.

The lexicon finds what its entries name and misses what a client says in words nobody
wrote down ("next week's issue will be about you", a failure told as a story). This
opinion was trained (`careline opinion-train`, scikit-learn: TF-IDF over word stems and
pairs of stems, one logistic regression per signal, balanced classes) on the labelled
files, and asserts a signal the lexicon did not when its probability reaches the
threshold. It never withdraws or changes the lexicon's verdict, and its evidence is the
client's words that weighed most for the signal, under the rule `opinion.linear`.

The model ships as arrays (`data/opinion.npz`, read without pickle). Scoring one message
is done here, not through scikit-learn's `transform`/`predict_proba`: their per-call
checks cost about half a millisecond, more than the whole lexicon; the arithmetic is the
same (sublinear TF, IDF, L2 norm, a logistic of the dot product) and a unit test holds it
equal to scikit-learn's on every labelled message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from shared.contracts import Signal, SignalEvidence

from .text import prepared

OPINION_PATH = Path(__file__).resolve().parents[1] / "data" / "opinion.npz"
RULE = "opinion.linear"
# A signal opens escalations and may write to the client: the opinion leans to precision.
# On classify-blind3: 0.5 -> P 0.86 R 0.78; 0.6 -> P 0.88 R 0.75; 0.7 -> P 0.87 R 0.69.
THRESHOLD = 0.6
# A short line gives its few known words all the weight ("Ще раз", "Why?", "сколько можно
# ждать ответа" would be a threat, a dispute, abuse): below this many known words (not
# counting pairs) the opinion says nothing and the lexicon alone decides.
MIN_WORDS = 6
STEM = 5  # letters of a word kept: a light stem that joins most inflections of ru, uk, en
EVIDENCE_WORDS = 3
STEM_MEMO = 100_000  # distinct words remembered with their stems
_WORD = re.compile(r"[^\W\d_]+")  # letters: numbers and ids say nothing of a signal
MIN_LETTERS = 3
FUNCTION_WORDS_PATH = Path(__file__).resolve().parents[1] / "data" / "function_words.txt"


def read_words(path: Path = FUNCTION_WORDS_PATH) -> frozenset[str]:
    """The words of a word list (data/function_words.txt's format)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if not line.startswith("#") for w in line.split())


FUNCTION_WORDS = read_words()


def _stem(word: str) -> str:
    """The stem the model reads for a word, "" for a word it does not read."""
    return word[:STEM] if len(word) >= MIN_LETTERS and word not in FUNCTION_WORDS else ""


def _stems(text: str) -> list[str]:
    return [stem for stem in map(_stem, _WORD.findall(prepared(text))) if stem]


def _features(stems: list[str]) -> list[str]:
    return [*stems, *(f"{a} {b}" for a, b in pairwise(stems))]


def features(text: str) -> list[str]:
    """Stems and pairs of neighbouring stems (the analyzer the model was trained with)."""
    return _features(_stems(text))


@dataclass
class _Scored:
    """One message as the model saw it: what the detector asks about once per signal."""

    text: str
    probabilities: dict[str, float]
    weights: dict[int, float]  # feature -> its TF-IDF weight in the message
    known_words: int  # words whose stems the model knows
    scored: bool = True  # False: too few known words, only counted
    # a known stem's feature -> where it first stands, once a signal asks for evidence
    first_spans: dict[int, tuple[int, int]] | None = None


class LinearOpinion:
    """The trained model: per feature its IDF and its weight for every signal."""

    def __init__(
        self,
        signals: Sequence[str],
        vocabulary: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        threshold: float = THRESHOLD,
    ) -> None:
        self.signals = tuple(signals)
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        # Pairs by their two stems: a tuple of two known strings is cheaper to look up than
        # the "a b" string made for every neighbouring pair of every message.
        self.pair_index = {
            tuple(feature.split(" ")): i for feature, i in self.index.items() if " " in feature
        }
        self._stem_of: dict[str, str] = {}  # a word as written -> its stem, "" if not read
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)  # signals x features
        self.by_feature = np.ascontiguousarray(self.coef.T)  # a message's rows, gathered fast
        self.intercept = intercept.astype(np.float64)
        self.threshold = threshold
        self._last: _Scored | None = None

    @classmethod
    def of(cls, arrays: Mapping[str, np.ndarray], threshold: float = THRESHOLD) -> LinearOpinion:
        """From the arrays training makes (training.Trained.arrays) or the shipped file has."""
        return cls(
            [str(s) for s in arrays["signals"]],
            [str(f) for f in arrays["vocabulary"]],
            arrays["idf"],
            arrays["coef"],
            arrays["intercept"],
            threshold,
        )

    @classmethod
    def load(cls, path: Path = OPINION_PATH, threshold: float = THRESHOLD) -> LinearOpinion:
        with np.load(path, allow_pickle=False) as data:
            return cls.of(data, threshold)

    def probabilities(self, text: str) -> dict[str, float]:
        return dict(self._scored(text, at_least=0).probabilities)

    def _scored(self, text: str, at_least: int = MIN_WORDS) -> _Scored:
        """The message scored once (the text read once); kept for the last message. With
        fewer than `at_least` known words it is only counted: no probabilities, no weights
        (the detector asks nothing more of it, and most chat lines are that short)."""
        last = self._last
        if last is not None and last.text == text and (last.scored or last.known_words < at_least):
            return last
        stems = self._stems(text)
        index, pairs = self.index, self.pair_index
        counts: dict[int, int] = {}
        known = 0
        for stem in stems:
            i = index.get(stem)
            if i is not None:
                known += 1
                counts[i] = counts.get(i, 0) + 1
        for pair in pairwise(stems):
            i = pairs.get(pair)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if known < at_least:
            self._last = _Scored(text, {}, {}, known, scored=False)
            return self._last
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        # sublinear TF times IDF, L2-normalised, as TfidfVectorizer(sublinear_tf=True)
        values = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values *= self.idf[columns]
        values /= math.sqrt(float(values @ values)) or 1.0
        logits = self.intercept + values @ self.by_feature[columns]
        probabilities = dict(
            zip(self.signals, (1.0 / (1.0 + np.exp(-logits))).tolist(), strict=True)
        )
        weights = dict(zip(columns.tolist(), values.tolist(), strict=True))
        self._last = _Scored(text, probabilities, weights, known)
        return self._last

    def _stems(self, text: str) -> list[str]:
        """`_stems(text)`, each distinct word stemmed once per process."""
        return [stem for stem in map(self._stem, _WORD.findall(prepared(text))) if stem]

    def _stem(self, word: str) -> str:
        """`_stem(word)`, remembered: people reuse their words (the memo is bounded, for
        text nobody wrote twice)."""
        stem = self._stem_of.get(word)
        if stem is None:
            if len(self._stem_of) > STEM_MEMO:
                self._stem_of.clear()
            stem = self._stem_of[word] = _stem(word)
        return stem

    def reconsider(
        self, signal: str, text: str, language: str | None, found: Signal | None
    ) -> Signal | None:
        if found is not None or signal not in self.signals:
            return found  # the lexicon's verdict stands
        scored = self._scored(text)
        if scored.known_words < MIN_WORDS:
            return None
        probability = scored.probabilities[signal]
        if probability < self.threshold:
            return None
        evidence = self._evidence(scored, self.signals.index(signal))
        if not evidence:  # a signal carries the client's words, or it is not asserted
            return None
        return Signal(name=signal, score=round(probability, 3), evidence=evidence)

    def _evidence(self, scored: _Scored, row: int) -> list[SignalEvidence]:
        """The words whose stems weighed most for the signal (each stem once, where it
        first stands), in the text's order."""
        if scored.first_spans is None:
            scored.first_spans = self._first_spans(scored.text)
        weights, coef = scored.weights, self.coef[row]
        pull = {
            span: coef[i] * weights[i]
            for i, span in scored.first_spans.items()
            if i in weights and coef[i] > 0
        }
        strongest = sorted(pull, key=lambda span: -pull[span])[:EVIDENCE_WORDS]
        text = scored.text
        return [
            SignalEvidence(start=start, end=end, text=text[start:end], rule=RULE)
            for start, end in sorted(strongest)
        ]

    def _first_spans(self, text: str) -> dict[int, tuple[int, int]]:
        """Each known stem's feature and where the stem first stands in `text`."""
        first: dict[int, tuple[int, int]] = {}
        for m in _WORD.finditer(prepared(text)):
            i = self.index.get(self._stem(m.group()))
            if i is not None and i not in first:
                first[i] = m.span()
        return first


@lru_cache(maxsize=2)
def default_opinion(threshold: float = THRESHOLD) -> LinearOpinion:
    return LinearOpinion.load(OPINION_PATH, threshold)


def opinions(enabled: bool = True, threshold: float = THRESHOLD) -> dict[str, LinearOpinion]:
    """What `detect(..., opinions=...)` takes: the shipped model for every signal it knows,
    or none."""
    if not enabled:
        return {}
    opinion = default_opinion(threshold)
    return dict.fromkeys(opinion.signals, opinion)
