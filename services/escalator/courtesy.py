"""Whether a client's message written into an open case is told to the case's holders.
Pure.

It joins the case either way (its timeline names it). It tells nobody when it only thanks,
agrees or greets ("Спасибо!", "Дякую, чекаємо", "ok, thanks"): on a chat every "ок" would
send the holders a notice with the whole fact pack; a question ("Есть новости?"), a detail
or a complaint says more than courtesy and is read by them (short messages only: a long
one is never courtesy alone). Nor when the holders were told of the case moments ago (the
policy's `follow_up_quiet`): a chat client writes "вы тут?", "ответьте", "алло" a line at a
time, and one notice of them is enough; the next one after the window lists them among
the recent messages.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import yaml

# At most this many words: "Thank you so much, we will wait for your reply" is ten.
MOST_WORDS = 10
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
WORDS_FILE = Path(__file__).parent / "data" / "courtesy_words.yaml"
COURTESY = frozenset(
    str(word)
    for words in yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")).values()
    for word in words
)


def courtesy_only(text: str) -> bool:
    """Whether the message says nothing but thanks, agreement or greetings (a question
    mark, even alone, asks something: "?" in a chat is "any news?")."""
    if "?" in text:
        return False
    words = _WORDS.findall(text.casefold())
    return len(words) <= MOST_WORDS and all(word in COURTESY for word in words)


def holders_hear(text: str, last_told: datetime | None, now: datetime, quiet: timedelta) -> bool:
    """Whether a message written into an open case is told to its holders, who were last
    told of the case at `last_told` (its opening, a reopening, a follow-up told)."""
    if courtesy_only(text):
        return False
    return last_told is None or now - last_told >= quiet
