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
"заработало, но счёт неверный", "Заработало?" are follow-ups like any other. "You fixed
it" («Вы починили») counts only with thanks beside it (a chat's question may come without
its "?"), and a mocking face («Всё починили 🤡») is no thanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


def _phrases(patterns: list[str]) -> re.Pattern[str]:
    joined = "|".join(_folded(p) for p in patterns)
    return re.compile(r"(?<![^\W\d_])(?:" + joined + r")(?![^\W\d_'])")


@dataclass(frozen=True)
class _Phrases:
    fixed: re.Pattern[str]  # every phrase
    thanked: re.Pattern[str]  # those that say it only with thanks ("вы починили")
    thanks: frozenset[str]
    mocking: tuple[str, ...]
    allowed: frozenset[str]


def _read() -> _Phrases:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    besides, thanked = data.pop("besides"), data.pop("thanked")
    thanks, mocking = data.pop("thanks"), data.pop("mocking")
    plain = [p for patterns in data.values() for p in patterns]
    with_thanks = [p for patterns in thanked.values() for p in patterns]
    allowed = {_folded(str(w)) for words in besides.values() for w in words}
    return _Phrases(
        fixed=_phrases(plain + with_thanks),
        thanked=_phrases(with_thanks),
        thanks=frozenset(_folded(str(w)) for w in thanks),
        mocking=tuple(mocking),
        allowed=frozenset(allowed | {_folded(w) for w in COURTESY}),
    )


PHRASES = _read()


def says_fixed(text: str) -> str | None:
    """The client's words saying the problem is gone ("всё заработало"), or None
    when the message does not say only that (see the module's rules)."""
    said = _folded(text)
    if "?" in said or len(_WORDS.findall(said)) > MOST_WORDS:
        return None
    if any(face in text for face in PHRASES.mocking):
        return None
    # As the client wrote them, where folding kept the length (it does but for "ß" and kin).
    original = text if len(text) == len(said) else said
    matches = list(PHRASES.fixed.finditer(said))
    if not matches:
        return None
    words = _WORDS.findall(said)
    thanked = all(PHRASES.thanked.fullmatch(m[0].strip()) for m in matches)
    if thanked and not PHRASES.thanks.intersection(words):
        return None
    rest = _WORDS.findall(PHRASES.fixed.sub(" ", said))
    if not all(word in PHRASES.allowed for word in rest):
        return None
    return ", ".join(original[m.start() : m.end()].strip() for m in matches)
