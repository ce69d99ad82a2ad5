"""Where a second opinion plugs in: a statistical model or an LLM, per signal.

One ships (statistical.py, which the escalator uses). The lexicon decides first and keeps
its evidence; a second opinion
sees the message and the lexicon's verdict for one signal and may confirm, adjust or
withdraw it, or assert the signal with its own evidence. Keeping the lexicon's call as
input keeps every decision explainable: an opinion that disagrees must say why in its
evidence's `rule`.
"""

from __future__ import annotations

from typing import Protocol

from shared.contracts import Signal


class SecondOpinion(Protocol):
    """Reconsiders one signal for one message; returns the signal to assert, or None."""

    def reconsider(
        self, signal: str, text: str, language: str | None, found: Signal | None
    ) -> Signal | None: ...
