"""Whether a client's message written into an open case says the problem is gone. Pure.

Seed 001's other side: the client writes "Всё заработало, спасибо" and nobody resolves the
case; when the answer promised to the client falls due, Careline would tell them of a
delay in an answer they no longer need. A message that says so (its phrases in
`data/fixed_phrases.yaml`, ru/uk/en) drops the promise to the client and tells the case's
holders at once, with the client's words, to check and resolve it. The case stays open
(and climbs if nobody acknowledges it): a person closes it, the client may be wrong.

Read narrowly, because dropping a promise on a misreading would leave a client waiting:
the message must say nothing else. Every word outside the phrases is thanks or a greeting
(courtesy.COURTESY) or a filler of the file's `besides` ("уже", "можно закрывать"), and it
asks nothing (no question mark): "ещё не заработало", "всё работает очень медленно",
"заработало, но счёт неверный", "Заработало?" are follow-ups like any other.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .courtesy import COURTESY

# "Спасибо, всё заработало, можно закрывать обращение, хорошего дня" is nine.
MOST_WORDS = 25
PHRASES_FILE = Path(__file__).parent / "data" / "fixed_phrases.yaml"
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _folded(text: str) -> str:
    """Case, ё and the typographic apostrophe aside ("Всё", "все"; "it’s", "it's")."""
    return text.casefold().replace("ё", "е").replace("’", "'")


def _read() -> tuple[re.Pattern[str], frozenset[str]]:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    besides = data.pop("besides")
    phrases = [_folded(p) for patterns in data.values() for p in patterns]
    pattern = re.compile(r"(?<![^\W\d_])(?:" + "|".join(phrases) + r")(?![^\W\d_'])")
    allowed = {_folded(str(w)) for words in besides.values() for w in words}
    return pattern, frozenset(allowed | {_folded(w) for w in COURTESY})


FIXED, ALLOWED = _read()


def says_fixed(text: str) -> str | None:
    """The client's words saying the problem is gone ("всё заработало"), or None
    when the message does not say only that (see the module's rules)."""
    said = _folded(text)
    if "?" in said or len(_WORDS.findall(said)) > MOST_WORDS:
        return None
    # As the client wrote them, where folding kept the length (it does but for "ß" and kin).
    original = text if len(text) == len(said) else said
    found = [original[m.start() : m.end()].strip() for m in FIXED.finditer(said)]
    if not found:
        return None
    rest = _WORDS.findall(FIXED.sub(" ", said))
    return ", ".join(found) if all(word in ALLOWED for word in rest) else None
