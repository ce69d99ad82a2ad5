"""Figures as staff read them in a notice."""

from __future__ import annotations


def percent(share: object, language: str = "en") -> str:
    """A confidence or a signal's score as people read it: 0.65 is "65 %" in Russian and
    Ukrainian (a non-breaking space, as their typography has it), "65%" in English; not the
    machine's "0.65"."""
    value = round(float(share) * 100)  # type: ignore[arg-type]
    return f"{value}\u00a0%" if language in ("ru", "uk") else f"{value}%"
