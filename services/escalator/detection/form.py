"""Form features — exclamation runs, repeated question marks, shouting in capitals.

They are evidence that strengthens words already found for panic and abuse, never a
verdict on their own: "WHERE IS MY ORDER???" is impatience, not panic."""

from __future__ import annotations

import re

from shared.contracts import SignalEvidence

_MARKS = re.compile(r"!{3,}|\?{3,}|(?:[!?]){3,}")
_CAPS_RUN = re.compile(r"\b[^\W\d_a-zа-яёіїєґ]{2,}(?:[\W\d_]+[^\W\d_a-zа-яёіїєґ]{2,})*\b")
MIN_LETTERS = 12
CAPS_RATIO = 0.6


def _has_mark_run(text: str) -> bool:
    """A quick first look: every run of three marks holds one of these pairs, and `in`
    on a string is much cheaper than a regex search."""
    return "!!" in text or "??" in text or "!?" in text or "?!" in text


_LOWER_RUN = re.compile(r"[a-zа-яёіїєґ]+")


def _mostly_lower(text: str) -> bool:
    """At least 1 - CAPS_RATIO of all characters are lower-case letters, so capitals (at
    most the rest) cannot be more than CAPS_RATIO of the letters. Counting runs is much
    cheaper than testing every character."""
    return sum(map(len, _LOWER_RUN.findall(text))) >= (1 - CAPS_RATIO) * len(text)


def form_evidence(text: str) -> list[SignalEvidence]:
    found = []
    for m in _MARKS.finditer(text) if _has_mark_run(text) else ():
        rule = "form.question_run" if set(m.group()) == {"?"} else "form.exclamation_run"
        found.append(SignalEvidence(start=m.start(), end=m.end(), text=m.group(), rule=rule))
    longest = max(_CAPS_RUN.finditer(text), key=lambda m: m.end() - m.start(), default=None)
    if longest is None:
        return found
    if _mostly_lower(text):  # then capitals are at most CAPS_RATIO of the letters
        letters = upper = 0
    else:
        letters, upper = sum(map(str.isalpha, text)), sum(map(str.isupper, text))
    if letters >= MIN_LETTERS and upper / letters > CAPS_RATIO:
        start, end = (longest.start(), longest.end()) if longest else (0, len(text))
        found.append(
            SignalEvidence(start=start, end=end, text=text[start:end], rule="form.all_caps")
        )
    elif longest and " " in longest.group() and sum(c.isalpha() for c in longest.group()) >= 10:
        found.append(
            SignalEvidence(
                start=longest.start(), end=longest.end(), text=longest.group(), rule="form.caps_run"
            )
        )
    return found
