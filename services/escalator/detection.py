"""Signal detection: which signals a client's text carries, how strongly, and the evidence.

The words live in a data file (`data/lexicon.yaml`), validated at load; this module only
applies them. Matching runs on a same-length "folded" copy of the text (lower case, ё→е,
Latin look-alike letters inside Cyrillic words mapped to Cyrillic), so every span points
at the client's original words. A match preceded by a negation in the same clause is
dropped ("я не собираюсь судиться"). Form features (exclamation runs, capitals) add
evidence but never make a signal on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shared.contracts import Signal, SignalEvidence

SIGNALS = (
    "legal_threat",
    "reputation_threat",
    "violence_threat",
    "abuse",
    "harassment",
    "panic",
    "service_failure",
    "compensation_demand",
    "freebie_demand",
    "billing_dispute",
    "churn_risk",
)
LEXICON_PATH = Path(__file__).parent / "data" / "lexicon.yaml"

_LOOKALIKES = str.maketrans("aeopcxykmthbё", "аеорсхукмтнве")
_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
_WORD = re.compile(r"[\w*@#$'’-]+")
# Dashes separate clauses as commas do ("Не вернёте деньги — подам в суд").
_CLAUSE_BREAK = re.compile(r"[.!?;:\n,—–]|\s-\s| but | но | але | а ")


class LexiconError(ValueError):
    """The lexicon file is invalid; the message names the entry."""


@dataclass(frozen=True)
class Pattern:
    id: str
    signal: str
    regex: re.Pattern[str]
    weight: float
    negatable: bool


@dataclass(frozen=True)
class Lexicon:
    patterns: tuple[Pattern, ...]
    excludes: tuple[Pattern, ...]
    thresholds: dict[str, float]
    form_signals: tuple[str, ...]
    negators: frozenset[str]

    def threshold(self, signal: str) -> float:
        return self.thresholds.get(signal, self.thresholds.get("default", 0.5))


def _compile(entry: dict[str, Any], signal: str, where: str) -> Pattern:
    for key in ("id", "pattern"):
        if key not in entry:
            raise LexiconError(f"{where}: entry without {key!r}: {entry}")
    try:
        regex = re.compile(str(entry["pattern"]), re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: {entry['id']}: bad pattern: {exc}") from exc
    weight = float(entry.get("weight", 0.9))
    if not 0 < weight <= 1:
        raise LexiconError(f"{where}: {entry['id']}: weight must be in (0, 1]")
    return Pattern(entry["id"], signal, regex, weight, bool(entry.get("negatable", True)))


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    patterns: list[Pattern] = []
    excludes: list[Pattern] = []
    for section, target in (("signals", patterns), ("exclude", excludes)):
        for signal, entries in (data.get(section) or {}).items():
            if signal not in SIGNALS:
                raise LexiconError(f"{section}: unknown signal {signal!r}")
            for entry in entries or []:
                target.append(_compile(entry, signal, f"{section}.{signal}"))
    ids = [p.id for p in patterns + excludes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LexiconError(f"duplicate entry ids: {duplicates}")
    return Lexicon(
        tuple(patterns),
        tuple(excludes),
        {k: float(v) for k, v in (data.get("thresholds") or {}).items()},
        tuple(data.get("form_signals") or ()),
        frozenset(str(w).lower() for w in data.get("negators") or ()),
    )


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    return parse_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))


def fold(text: str) -> str:
    """Same length as `text`: lower case, ё→е, look-alike Latin letters in Cyrillic words."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lowered
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    out = []
    for match in re.finditer(r"\S+|\s+", lowered):
        token = match.group()
        out.append(token.translate(_LOOKALIKES) if _CYRILLIC.search(token) else token)
    return "".join(out).replace("ё", "е")


def _negated(folded: str, start: int, negators: frozenset[str]) -> bool:
    before = folded[max(0, start - 60) : start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    words = _WORD.findall(clause)[-4:]
    # Phones and word processors type "don’t": compare with the negators' plain apostrophe.
    return any(w.replace("’", "'").strip("'") in negators for w in words)


def _form_evidence(text: str) -> list[SignalEvidence]:
    found = [
        SignalEvidence(start=m.start(), end=m.end(), text=m.group(), rule="form.exclamation_run")
        for m in re.finditer(r"[!?]{3,}", text)
    ]
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        found.append(SignalEvidence(start=0, end=len(text), text=text[:40], rule="form.all_caps"))
    return found


def detect(text: str, lexicon: Lexicon | None = None) -> list[Signal]:
    lexicon = lexicon or load_lexicon()
    folded = fold(text)
    # An exclusion only silences its own signal: "tennis court" says nothing about abuse.
    excluded: dict[str, list[tuple[int, int]]] = {}
    for ex in lexicon.excludes:
        excluded.setdefault(ex.signal, []).extend(
            (m.start(), m.end()) for m in ex.regex.finditer(folded)
        )
    hits: dict[str, list[tuple[float, SignalEvidence]]] = {}
    for pattern in lexicon.patterns:
        spans = excluded.get(pattern.signal, [])
        for m in pattern.regex.finditer(folded):
            if m.end() == m.start():
                continue
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            if pattern.negatable and _negated(folded, m.start(), lexicon.negators):
                continue
            evidence = SignalEvidence(
                start=m.start(), end=m.end(), text=text[m.start() : m.end()], rule=pattern.id
            )
            hits.setdefault(pattern.signal, []).append((pattern.weight, evidence))
    form = [(0.2, ev) for ev in _form_evidence(text)]
    signals = []
    for name in SIGNALS:
        if name not in hits:
            continue
        # Form alone is never a verdict: it only strengthens words that already matched.
        kept = _without_overlaps(hits[name]) + (form if name in lexicon.form_signals else [])
        score = _combine(weight for weight, _ in kept)
        if score >= lexicon.threshold(name):
            found = [ev for _, ev in kept]
            signals.append(Signal(name=name, score=round(score, 3), evidence=found))
    return signals


def _without_overlaps(
    hits: list[tuple[float, SignalEvidence]],
) -> list[tuple[float, SignalEvidence]]:
    """One piece of evidence per stretch of text: the same words count once."""
    kept: list[tuple[float, SignalEvidence]] = []
    for weight, ev in sorted(hits, key=lambda h: (h[1].start, -(h[1].end - h[1].start))):
        if any(k.start < ev.end and ev.start < k.end for _, k in kept):
            continue
        kept.append((weight, ev))
    return kept


def _combine(weights: Any) -> float:
    """Independent evidence: 1 - Π(1 - w), so two weak hints outweigh one."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining
