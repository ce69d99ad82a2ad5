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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from shared.contracts import Signal, SignalEvidence

from .text import blank_quoted, blank_signature, fold

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
_WORD = re.compile(r"[^\W\d_]+")  # letters: numbers and ids say nothing of a signal
MIN_LETTERS = 3
FUNCTION_WORDS_PATH = Path(__file__).resolve().parents[1] / "data" / "function_words.txt"


def _function_words(path: Path = FUNCTION_WORDS_PATH) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if not line.startswith("#") for w in line.split())


FUNCTION_WORDS = _function_words()


@dataclass(frozen=True)
class Word:
    stem: str
    start: int
    end: int


def _read(text: str) -> str:
    """The text as the lexicon reads it: folded, quoted lines and a signature blanked."""
    return blank_signature(blank_quoted(fold(text)))


def _kept(word: str) -> bool:
    return len(word) >= MIN_LETTERS and word not in FUNCTION_WORDS


def words(text: str) -> list[Word]:
    """The words the model reads, with their spans in the original text (same length)."""
    return [
        Word(m.group()[:STEM], m.start(), m.end())
        for m in _WORD.finditer(_read(text))
        if _kept(m.group())
    ]


def _stems(text: str) -> list[str]:
    return [w[:STEM] for w in _WORD.findall(_read(text)) if _kept(w)]


def _features(stems: list[str]) -> list[str]:
    return [*stems, *(f"{a} {b}" for a, b in pairwise(stems))]


def features(text: str) -> list[str]:
    """Stems and pairs of neighbouring stems (the analyzer the model was trained with)."""
    return _features(_stems(text))


@dataclass(frozen=True)
class _Scored:
    """One message as the model saw it: what the detector asks about once per signal."""

    text: str
    probabilities: dict[str, float]
    weights: dict[int, float]  # feature -> its TF-IDF weight in the message
    known_words: int  # words whose stems the model knows


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
        return dict(self._scored(text).probabilities)

    def _scored(self, text: str) -> _Scored:
        """The message scored once (the text read once); kept for the last message."""
        if self._last is not None and self._last.text == text:
            return self._last
        stems = _stems(text)
        known = sum(1 for stem in stems if stem in self.index)
        counts = Counter(i for i in map(self.index.get, _features(stems)) if i is not None)
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

    def reconsider(
        self, signal: str, text: str, language: str | None, found: Signal | None
    ) -> Signal | None:
        if found is not None or signal not in self.signals:
            return found  # the lexicon's verdict stands
        scored = self._scored(text)
        probability = scored.probabilities[signal]
        if probability < self.threshold or scored.known_words < MIN_WORDS:
            return None
        evidence = self._evidence(text, self.signals.index(signal), scored.weights)
        if not evidence:  # a signal carries the client's words, or it is not asserted
            return None
        return Signal(name=signal, score=round(probability, 3), evidence=evidence)

    def _evidence(self, text: str, row: int, weights: dict[int, float]) -> list[SignalEvidence]:
        """The words whose stems weighed most for the signal (each stem once, where it
        first stands), in the text's order."""
        first: dict[str, Word] = {}
        for word in words(text):
            first.setdefault(word.stem, word)
        pull = {}
        for stem, word in first.items():
            i = self.index.get(stem)
            if i is not None and i in weights and self.coef[row, i] > 0:
                pull[word] = self.coef[row, i] * weights[i]
        strongest = sorted(pull, key=lambda w: -pull[w])[:EVIDENCE_WORDS]
        return [
            SignalEvidence(start=w.start, end=w.end, text=text[w.start : w.end], rule=RULE)
            for w in sorted(strongest, key=lambda w: w.start)
        ]


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
