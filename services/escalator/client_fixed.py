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

It drops only what it settles (`still_owed`): a thing that works again. The first mail of a
case may have said more (seed 001's acceptance: an export bug, and «сказали, что тариф стоит
5000, а выставили 7000», cause, plan and compensation promised): while the case holds a
matter "it works" says nothing of (the file's `unsettled`: money disputed or asked for, a
wrong word of ours) or is not a failure at all (a billing, compensation or request case),
the promise stands and its holders read what is still owed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
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
    unsettled_signals: frozenset[str]  # what "it works" settles nothing of
    unsettled_entries: tuple[str, ...]  # a failure's pieces it does not settle (globs)


def _read() -> _Phrases:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    unsettled = data.pop("unsettled")
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
        unsettled_signals=frozenset(unsettled["signals"]),
        unsettled_entries=tuple(unsettled["entries"]),
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


# The failure cases: the only ones a thing that works again can settle.
FAILURE_KIND = "service_failure"
# The matter a failure's unsettled piece is: what we told the client, not a thing broken.
MISINFORMATION = "misinformation"
# What a case of another kind owes when its evidence names none of it (kept before keys).
_OWED_BY_KIND = {
    "billing": "billing_dispute",
    "compensation": "compensation_demand",
    "freebie": "freebie_demand",
}


@dataclass(frozen=True)
class StillOwed:
    """What of a case "it works now" does not settle: the matters (a signal's name, or
    `MISINFORMATION` for a failure's piece), and the client's own words for them (each
    once, as the case recorded them)."""

    matters: tuple[str, ...]
    words: tuple[str, ...]


def still_owed(kind: str, signals: Iterable[Mapping[str, object]]) -> StillOwed | None:
    """What the answer promised in a case of `kind` still owes once the client says it
    works now, from the signals the case recorded of every message written into it
    (serialized `Signal`s); None: nothing, the promise may be dropped. A failure case owes
    its pieces of an `unsettled` entry and any `unsettled` signal beside them; a case of
    another kind owes what it is about, whatever the client says of a failure."""
    matters: dict[str, None] = {}
    words: dict[str, str] = {}
    for signal in signals:
        name = str(signal.get("name", ""))
        for piece in _pieces(signal):
            rule = str(piece.get("rule", ""))
            if name in PHRASES.unsettled_signals or (
                name == FAILURE_KIND and _unsettled_entry(rule)
            ):
                # A failure's piece it does not settle is something we said (a price, terms).
                matters.setdefault(MISINFORMATION if name == FAILURE_KIND else name)
                text = " ".join(str(piece.get("text", "")).split())
                words.setdefault(_folded(text), text)
    if kind != FAILURE_KIND and not matters:
        matters.setdefault(_OWED_BY_KIND.get(kind, kind))
    if not matters:
        return None
    return StillOwed(tuple(matters), tuple(w for w in words.values() if w))


def _pieces(signal: Mapping[str, object]) -> list[Mapping[str, object]]:
    evidence = signal.get("evidence") or []
    assert isinstance(evidence, list)
    # How it is said (capitals, "!!!") is no matter of its own.
    return [e for e in evidence if not str(e.get("rule", "")).startswith("form.")]


def _unsettled_entry(rule: str) -> bool:
    return any(fnmatchcase(rule, glob) for glob in PHRASES.unsettled_entries)
