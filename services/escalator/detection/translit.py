"""Russian and Ukrainian typed in Latin letters, read back in Cyrillic.

Clients without a Cyrillic keyboard write "pidu do sudu", "vy mne dolzhny vernut dengi",
"oplatili vchera a vy otklyuchili". Such a message is read once in Cyrillic and the
detector runs on that reading as on any Cyrillic message, so every entry applies (lemma
sequences and patterns alike, with negation and clauses), not only the few written in
Latin; the evidence is mapped back to the client's Latin words.

Chat transliteration follows no standard: "y" is ы, й or (in Ukrainian) и, "sch" is щ or
сч, "ye" after a consonant is ые, "h" is х or (in Ukrainian) г, the soft sign is mostly
left out. The libraries that read Latin back into Cyrillic implement official schemes
(cyrtranslit reads "zh" as "зг" and "ch" as "цг" in Ukrainian and never restores a soft
sign), so the tables here are small and list the readings a letter group can have, and the
dictionaries decide: each word is read the Russian and the Ukrainian way, the first reading
a dictionary knows is taken, and a soft sign is tried where it is usually left out.

A message is read only when it looks Russian or Ukrainian: no Cyrillic, hardly any English
function words, most of its longer words known once read, and a Russian or Ukrainian
function word among them (or nearly all longer words known). English stays English:
"Sudoku app crashed? no, all fine", "Super fast delivery, thanks".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice, product

_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-яіїєґ]")

# Letter groups and their readings, the likeliest first; the longest group wins. "y" and
# "ye" read differently after a vowel (moy: мой, yesli: если) and after a consonant
# (svobodny: свободны, dannye: данные, podyezd: подъезд): _AFTER_CONSONANT has those.
_RU: dict[str, tuple[str, ...]] = {
    "shch": ("щ",), "sch": ("щ", "сч"), "tsya": ("тся", "ться"), "zh": ("ж",), "kh": ("х",),
    "ch": ("ч",), "sh": ("ш",), "ts": ("ц", "тс"), "yu": ("ю",), "ju": ("ю",), "ya": ("я",),
    "ja": ("я",), "yo": ("е", "ье"), "jo": ("е",), "ye": ("е",), "je": ("е",),
    "yy": ("ый",), "yi": ("ый", "и"), "a": ("а",), "b": ("б",), "v": ("в",), "g": ("г",),
    "d": ("д",), "e": ("е",), "z": ("з",), "i": ("и",), "j": ("й",), "k": ("к",), "l": ("л",),
    "m": ("м",), "n": ("н",), "o": ("о",), "p": ("п",), "r": ("р",), "s": ("с",),
    "t": ("т",), "u": ("у",), "f": ("ф",), "h": ("х",), "c": ("ц",), "y": ("й", "ы"),
    "w": ("в",), "x": ("кс",), "q": ("к",), "'": ("ь",),
}  # fmt: skip
# Ukrainian: "y" is и, "i" is і (ї after a vowel), "h" is г or х, "yi" ї or the ending -ий,
# "ii" ії or ій (the official scheme's ї and й inside a word: "stantsii" станції, "Vasylii"
# Василій; "iia", "iiu" stay ія, ію: "stantsiia" станція),
# "ye"/"ie" є; "-tsya"/"-tsia" the reflexive «-ться» («боїться») or «-ця» («вулиця»); "ai"
# after a consonant is also «ай» ("hai", "dai": the official scheme writes й as "i" inside
# a word), and a vowel before "ia", "ie", "iu" is followed by я, є, ю ("znaiu", "ohliadaie").
_UK: dict[str, tuple[str, ...]] = {
    "shch": ("щ",), "sch": ("щ",), "tsya": ("ться", "ця"), "tsia": ("ться", "ця", "ція"),
    "zh": ("ж",), "kh": ("х",), "ch": ("ч",), "sh": ("ш",),
    "ts": ("ц",), "yu": ("ю",), "ju": ("ю",), "iu": ("ю",), "ya": ("я",), "ja": ("я",),
    "ia": ("я", "ія"), "ii": ("ії", "ій"), "iia": ("ія",), "iie": ("іє",), "iiu": ("ію",),
    "yo": ("йо",), "jo": ("йо",), "ye": ("є",), "je": ("є",),
    "ie": ("є", "іє"), "yi": ("ї", "ий"), "ji": ("ї",), "yy": ("ий",), "ai": ("аї", "аі", "ай"),
    "oi": ("ої", "оі"), "ui": ("уї", "уі"), "ei": ("еї", "еі"), "a": ("а",), "b": ("б",),
    "v": ("в",), "g": ("г",), "d": ("д",), "e": ("е",), "z": ("з",), "i": ("і",),
    "j": ("й",), "k": ("к",), "l": ("л",), "m": ("м",), "n": ("н",), "o": ("о",),
    "p": ("п",), "r": ("р",), "s": ("с",), "t": ("т",), "u": ("у",), "f": ("ф",),
    "h": ("г", "х"), "c": ("ц",), "y": ("й", "и"), "w": ("в",), "x": ("кс",), "q": ("к",),
    "'": ("'",),
}  # fmt: skip
_UK.update(
    {
        vowel + "i" + after: (_UK[vowel][0] + iotated,)
        for vowel in "aeou"
        for after, iotated in (("a", "я"), ("e", "є"), ("u", "ю"))
    }
)
_AFTER_CONSONANT: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {"y": ("ы", "й"), "ye": ("ые", "ье", "ъе", "е"), "yi": ("ый", "ьи")},
    "uk": {"y": ("и", "й"), "yi": ("ий", "ї")},
}
_VOWELS = frozenset("aeiouy'")
_TABLES = {"ru": _RU, "uk": _UK}
_LONGEST = 4
_UK_AFTER_VOWEL = re.compile(r"(?<=[аеиіоуяюєї'])е")  # "vidpovidaete": відповідаєте
_SOFTENED = frozenset("бвдзклмнпрстфчшщж")  # a soft sign may follow these
_CONSONANTS = _SOFTENED | frozenset("гхцй")
# Frequent words whose soft sign is left out and whose reading without it is another,
# rarer word the dictionary knows (ден, опят, очен, сет; «пуст», so "pust vasha Marina
# hodit i oglyadyvaetsya" lost the «пусть» of its threat).
_SOFT_WORDS = {
    "den": "день", "dengi": "деньги", "opyat": "опять", "ochen": "очень", "set": "сеть",
    "pyat": "пять", "shest": "шесть", "sem": "семь", "ves": "весь", "pust": "пусть",
}  # fmt: skip
# Latin "h" is г in the official Ukrainian scheme and х in the Russian habit: both readings
# are tried and a dictionary decides, but where both are words the rarer г-word took the
# reading of a frequent х-word ("hay" гай for хай, "hodyt" годить for ходить, so "hay
# vasha Oksana hodyt i oglyadayetsya" lost its threat). Readings starting with these are
# taken first when the dictionary knows them.
_UK_KH_FIRST = ("хай", "ход")
_MOST_READINGS = 16  # per word and language: words are short, ambiguity is rare

# English function words; "a", "i", "to", "do", "on", "no", "my", "so" are Russian or
# Ukrainian too (а, и, то, до, он, но, мы, со).
_ENGLISH = frozenset(
    (
        "the", "an", "and", "or", "of", "in", "is", "are", "was", "were", "be", "been", "it",
        "you", "we", "your", "our", "this", "that", "these", "for", "with", "not", "have",
        "has", "had", "me", "please", "can", "could", "would", "will", "what", "why", "how",
        "which", "who", "from", "they", "them", "their", "there", "here", "but", "just", "all",
        "any", "than", "then", "also", "very", "some", "only", "if", "at", "by", "as", "get",
        "got", "thanks", "thank", "hi", "hello", "dear", "want", "need", "know", "like", "back",
        "still", "again", "now", "one", "out", "up", "off", "did", "does", "done",
        "see",
    )
)  # fmt: skip
# Russian and Ukrainian function words, read in Cyrillic: one is enough, with most
# longer words known, to say a message is Slavic. Not those a Latin word of English or
# another language reads as ("i", "u", "my", "do", "so", "de", "ya", "k").
_SLAVIC = frozenset(
    (
        "вы", "ви", "не", "на", "что", "шо", "що", "это", "це", "как", "як", "уже", "вже",
        "все", "мне", "мені", "нам", "вам", "вас", "нас", "меня", "мене", "про", "для", "без",
        "или", "або", "але", "бо", "тоже", "теж", "сейчас", "зараз", "почему", "чому", "где",
        "когда", "коли", "сколько", "скільки", "пожалуйста", "спасибо", "дякую", "опять",
        "знову", "еще", "ще", "мой", "мій", "мои", "мої", "ваш", "ваши", "ваші", "за", "от",
        "из", "в", "з", "ты", "ти", "их", "їх", "его", "його", "наш", "наші",
    )
)  # fmt: skip
# Function words of one language only, read in it: they decide between the two when the
# dictionaries do not («хай» is a Russian noun too, "vy" reads вы and ви).
_OWN_FUNCTION_WORDS = {
    "ru": frozenset(("что", "это", "уже", "мне", "или", "почему", "где", "когда", "пусть",
                     "пускай", "еще", "опять", "спасибо", "тоже", "сейчас", "меня")),
    "uk": frozenset(("що", "шо", "це", "вже", "мені", "або", "але", "бо", "чому", "де",
                     "коли", "хай", "нехай", "ще", "знову", "дякую", "теж", "зараз", "мене")),
}  # fmt: skip
LONG_WORD = 4  # shorter words ("vy", "na", "to") read as something in any language
SLAVIC_SHARE = 0.5  # of the longer words, at least this many known once read
SLAVIC_SHARE_ALONE = 0.75  # ... or this many, with no function word ("tupye bezdari")


def readings(word: str, language: str) -> list[str]:
    """Cyrillic readings of a Latin word in `language` ("ru" or "uk"), the likeliest first."""
    table, after_consonant = _TABLES[language], _AFTER_CONSONANT[language]
    options: list[tuple[str, ...]] = []
    at = 0
    while at < len(word):
        for size in range(min(_LONGEST, len(word) - at), 0, -1):
            group = word[at : at + size]
            if group in table:
                break
        else:  # a letter outside the tables stays as it is
            group = word[at]
        found_after = at > 0 and word[at - 1] not in _VOWELS and after_consonant.get(group)
        options.append(found_after or table.get(group, (group,)))
        at += len(group)
    if language == "ru" and word.startswith("e"):  # eto, eti: это, эти; est: есть
        options[0] = ("э", "е") if word.startswith("et") else ("е", "э")
    found = ["".join(p) for p in islice(product(*options), _MOST_READINGS)]
    if language == "uk":
        found = [_UK_AFTER_VOWEL.sub("є", r) for r in found]
    return found


def softened(reading: str) -> list[str]:
    """The reading with a soft sign where people leave it out ("dengi" деньги, "vernut"
    вернуть, "dopomozhit" допоможіть): after a consonant, before one or at the end."""
    return [
        reading[:i] + "ь" + reading[i:]
        for i in range(len(reading), 1, -1)
        if reading[i - 1] in _SOFTENED and (i == len(reading) or reading[i] in _CONSONANTS)
    ]


# Where a prefix ends in a consonant and the root starts with an iotated vowel, Ukrainian
# writes an apostrophe and Russian a hard sign (під'їзд, об'єкт; подъезд, объект). Chat and
# the official Ukrainian scheme (KMU 2010) leave the mark out and write ї as "i" inside a
# word ("pidizd", "pid'izd", "pidyizd"; "podezd", "pod'ezd"), so the reading without it is no
# word: these are tried last, after the soft sign.
_BEFORE_MARK = frozenset("бвгдзкмнпрстфхж")
_IOTATED = {"uk": frozenset("їєюя"), "ru": frozenset("еёюя")}


def separated(reading: str, language: str) -> list[str]:
    """The reading with the separating mark where it was left out: Ukrainian «'» before ї,
    є, ю, я after a consonant (also і read for ї: "pidizdu" під'їзду), Russian «ъ» before е,
    ю, я after a consonant or in place of a soft sign ("pod'ezd" подъезд)."""
    mark = "'" if language == "uk" else "ъ"
    found: list[str] = []
    for i in range(1, len(reading)):
        before, letter = reading[i - 1], reading[i]
        if language == "uk" and letter == "і" and (before in _BEFORE_MARK or before == "'"):
            found.append(reading[:i] + ("ї" if before == "'" else "'ї") + reading[i + 1 :])
        elif letter in _IOTATED[language] and before in _BEFORE_MARK:
            found.append(reading[:i] + mark + reading[i:])
        elif language == "ru" and before == "ь" and letter in _IOTATED["ru"] and i > 1:
            found.append(reading[: i - 1] + mark + reading[i:])
    return found


@dataclass(frozen=True, slots=True)
class Reading:
    """A Cyrillic reading of a Latin message and where each of its words came from."""

    text: str
    # per character of `text`: the start and the end of the original word (or character)
    starts: list[int]
    ends: list[int]
    language: str = "ru"  # the one more of its words are known in only it

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the reading's [start, end): whole words, since a reading
        letter stands for one, two or four Latin ones."""
        return self.starts[start], self.ends[end - 1]


Knows = Callable[[str, str], bool]  # (word, language): the dictionary knows the word
# per language: the first reading its dictionary knows, or its likeliest one and False
_Word = dict[str, tuple[str, bool]]


class Reader:
    """Reads Latin messages in Cyrillic; each word's readings are worked out once."""

    def __init__(self, knows: Knows, cache_size: int = 50_000) -> None:
        self.knows = knows
        self.cache_size = cache_size
        self._cache: dict[str, _Word] = {}

    def word(self, word: str) -> _Word:
        cached = self._cache.get(word)
        if cached is None:
            cached = {language: self._read(word, language) for language in _TABLES}
            if len(self._cache) > self.cache_size:
                self._cache.clear()
            self._cache[word] = cached
        return cached

    def _read(self, word: str, language: str) -> tuple[str, bool]:
        if language == "ru" and word in _SOFT_WORDS:
            return _SOFT_WORDS[word], True
        found = readings(word, language)
        if language == "uk" and "h" in word:
            found.sort(key=lambda reading: not reading.startswith(_UK_KH_FIRST))
        for reading in found:
            if self.knows(reading, language):
                return reading, True
        for reading in found:
            for soft in softened(reading):
                if self.knows(soft, language):
                    return soft, True
        for reading in found:
            for marked in separated(reading, language):
                if self.knows(marked, language):
                    return marked, True
        return found[0], False

    def read(self, folded: str, words: list[str]) -> Reading | None:
        """The Cyrillic reading of a folded message, or None when it does not look like
        Russian or Ukrainian typed in Latin letters."""
        if len(words) < 2 or _CYRILLIC.search(folded):
            return None
        latin = [w for w in words if _LATIN.search(w)]
        if len(latin) < 0.8 * sum(not w.isdigit() for w in words) or sum(
            w in _ENGLISH for w in latin
        ) >= 0.1 * len(latin):
            return None
        analysed = {
            w: self.word(w)
            for m in map(_LATIN_WORD.finditer, latin)
            for w in (x.group() for x in m)
        }
        known = {w: [lang for lang, (_, ok) in read.items() if ok] for w, read in analysed.items()}
        longer = [w for w in analysed if len(w) >= LONG_WORD]
        share = sum(bool(known[w]) for w in longer) / len(longer) if longer else 0.0
        slavic = any(
            reading in _SLAVIC for read in analysed.values() for reading, ok in read.values() if ok
        )
        if share < (SLAVIC_SHARE if slavic else SLAVIC_SHARE_ALONE):
            return None
        # The message's language: the one more of its words are known in only it, or
        # else more of its function words are of ("khay vash menedzher boyitsya": every
        # word is known in both, «хай» is Ukrainian's).
        only = [langs[0] for langs in known.values() if len(langs) == 1]
        votes = {lang: only.count(lang) for lang in _TABLES}
        if votes["uk"] == votes["ru"]:
            votes = {
                lang: sum(read[lang][0] in marks for read in analysed.values())
                for lang, marks in _OWN_FUNCTION_WORDS.items()
            }
        first = "uk" if votes["uk"] > votes["ru"] else "ru"
        return _assemble(folded, lambda w: analysed.get(w) or self.word(w), first)


def _assemble(folded: str, analysed: Callable[[str], _Word], first: str) -> Reading:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for m in _LATIN_WORD.finditer(folded):
        pieces.append(folded[at : m.start()])  # what lies between words stays as it is
        starts.extend(range(at, m.start()))
        ends.extend(range(at + 1, m.start() + 1))
        read = analysed(m.group())
        other = "ru" if first == "uk" else "uk"
        reading, ok = read[first]
        if not ok and read[other][1]:
            reading = read[other][0]
        pieces.append(reading)
        starts.extend([m.start()] * len(reading))
        ends.extend([m.end()] * len(reading))
        at = m.end()
    pieces.append(folded[at:])
    starts.extend(range(at, len(folded)))
    ends.extend(range(at + 1, len(folded) + 1))
    return Reading("".join(pieces), starts, ends, first)
