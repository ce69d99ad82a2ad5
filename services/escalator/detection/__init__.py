"""Signal detection: which signals a client's text carries, how strongly, and why.

The words live in data files (`data/lexicon.yaml` and `data/lexicon/<language>/<signal>.yaml`),
validated at load; this package only applies them. Entries are regex patterns over a
same-length folded copy of the text (for obfuscated swearing and fixed phrases) or lemma
sequences matched through pymorphy3's Russian and Ukrainian dictionaries (so one entry
covers every inflection). Every signal carries evidence that points at the client's
original words and names the entry that fired. See docs/detection.md.
"""

from .detector import ReadMessage, detect, read_message
from .lexicon import (
    LANGUAGES,
    LEXICON_PATH,
    SIGNALS,
    Entry,
    Lexicon,
    LexiconError,
    load_lexicon,
    parse_lexicon,
    read_lexicon_data,
)
from .opinions import SecondOpinion
from .text import fold

__all__ = [
    "LANGUAGES",
    "LEXICON_PATH",
    "SIGNALS",
    "Entry",
    "Lexicon",
    "LexiconError",
    "ReadMessage",
    "SecondOpinion",
    "detect",
    "fold",
    "load_lexicon",
    "parse_lexicon",
    "read_lexicon_data",
    "read_message",
]
