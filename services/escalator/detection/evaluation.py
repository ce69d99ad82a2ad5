"""Precision, recall and F1 of the detector against labelled JSON lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .lexicon import SIGNALS


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Mistake:
    id: str
    signal: str
    kind: str  # "missed" or "false"


@dataclass
class Report:
    messages: int = 0
    per_signal: dict[str, Counts] = field(
        default_factory=lambda: {name: Counts() for name in SIGNALS}
    )
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def micro(self) -> Counts:
        return Counts(
            sum(c.tp for c in self.per_signal.values()),
            sum(c.fp for c in self.per_signal.values()),
            sum(c.fn for c in self.per_signal.values()),
        )

    def macro(self) -> tuple[float, float, float]:
        """Averages over the signals the file labels or the detector asserts."""
        present = [c for c in self.per_signal.values() if c.tp + c.fp + c.fn]
        if not present:
            return (1.0, 1.0, 1.0)
        n = len(present)
        return (
            sum(c.precision for c in present) / n,
            sum(c.recall for c in present) / n,
            sum(c.f1 for c in present) / n,
        )

    def table(self) -> str:
        lines = [f"{'signal':<22}{'P':>6}{'R':>6}{'F1':>6}{'tp':>5}{'fp':>5}{'fn':>5}"]
        for name, c in self.per_signal.items():
            lines.append(
                f"{name:<22}{c.precision:>6.2f}{c.recall:>6.2f}{c.f1:>6.2f}"
                f"{c.tp:>5}{c.fp:>5}{c.fn:>5}"
            )
        m = self.micro
        mp, mr, mf = self.macro()
        lines.append(f"{'micro':<22}{m.precision:>6.2f}{m.recall:>6.2f}{m.f1:>6.2f}")
        lines.append(f"{'macro':<22}{mp:>6.2f}{mr:>6.2f}{mf:>6.2f}")
        lines.append(f"messages: {self.messages}")
        return "\n".join(lines)


def evaluate(
    rows: Iterable[Mapping[str, Any]], classify: Callable[[Mapping[str, Any]], set[str]]
) -> Report:
    """Compare `classify(row)` with each row's `labels`."""
    report = Report()
    for row in rows:
        report.messages += 1
        found, gold = classify(row), set(row.get("labels") or ())
        for name in SIGNALS:
            counts = report.per_signal[name]
            if name in found and name in gold:
                counts.tp += 1
            elif name in found:
                counts.fp += 1
                report.mistakes.append(Mistake(str(row.get("id")), name, "false"))
            elif name in gold:
                counts.fn += 1
                report.mistakes.append(Mistake(str(row.get("id")), name, "missed"))
    return report
