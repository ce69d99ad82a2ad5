"""What only the statistical second opinion saw. Pure.

The lexicon points at the client's words; the second opinion (detection/statistical.py)
only weighs them, and it errs where a fed-up client repeats himself: «Сайт опять не
работает, уже третий раз за месяц» reads as abuse at 0.91 on «опять», «третий», «раз». A
signal whose every piece of evidence is the opinion's is a guess: staff hear of it and
check, but it warns nobody (notifications.guessed_only), counts in no history condition
(history.SeenMessage.guessed), and when the same message opens a case on the lexicon's
evidence that is at least as grave, the guess opens none of its own and is said in that
case's reasons instead (policy.fold_guesses).
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.contracts import Signal

# The rule ids the second opinions give their evidence (detection/statistical.py).
OPINION_RULES = ("opinion.",)


def is_guess(signal: Signal) -> bool:
    """Whether only the second opinion saw `signal` (it has evidence, none the lexicon's)."""
    return bool(signal.evidence) and all(e.rule.startswith(OPINION_RULES) for e in signal.evidence)


def guessed_names(signals: Iterable[Signal]) -> list[str]:
    """The names of the signals only the second opinion saw, as the history keeps them."""
    return [s.name for s in signals if is_guess(s)]


def guessed_words(signals: Iterable[Signal]) -> str:
    """The words the opinion weighed most, quoted as reasons quote evidence."""
    return ", ".join(f"«{e.text}»" for s in signals for e in s.evidence)
