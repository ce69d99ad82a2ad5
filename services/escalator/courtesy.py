"""Whether a message only thanks, agrees or greets ("Спасибо!", "Дякую, чекаємо", "ok,
thanks"). Pure.

Written into an open case, such a message joins it (its timeline names it) but tells
nobody: on a chat every "ок" would send the case's holders a notice with the whole fact
pack. A question ("Есть новости?"), a detail or a complaint says more than courtesy and is
read by them. Short messages only: a long one is never courtesy alone.
"""

from __future__ import annotations

import re
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
