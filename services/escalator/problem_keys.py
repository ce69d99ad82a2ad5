"""What a problem the client reports is about, to tell a new problem from one said again.
Pure, but for the dictionaries it loads once.

One lexicon entry covers many problems ("doesn't work", «до сих пор не»): by the entry
alone, "CSV export returns an empty file" after "the dashboard is down" would be no news.
A problem is rather told by the words around its evidence: the content words of the clause
it stands in (the failure notice's item: client_words.problem_clauses), without the words
that only say something failed or when (the evidence itself, "work", «работать», "again",
"yesterday") nor function words. Every word is taken as its lemma, so that "invoices" and
"invoice", "paid" and "pays", "children" and "child" are one word: Russian and Ukrainian by
pymorphy3, with pronouns, prepositions, conjunctions, particles and adverbs left out by
their part of speech; English (any word in Latin letters) by simplemma's dictionary, which
has no parts of speech, so its pronouns, conjunctions and particles are in the word lists.
The lists are checked against the word as written and against its lemma.

Two problems are the same when at least `SAME_THING` of the words of the shorter key have
an alike word in the other (a repeat is often shorter: "export still broken"); words are
alike when equal or, not being numbers (an invoice's, an order's), `WORD_LIKENESS` alike
by rapidfuzz's ratio («експорт»/«экспорт», a typo, a word no dictionary knows:
"webhooks"/"webhook"; and an escalation's English key kept before English words were
lemmas, "exports" against "export"). A clause with no such word names nothing: it is told
by its entry (placement.news_of).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import simplemma
from rapidfuzz import fuzz

from shared.contracts import Signal

from .client_words import problem_clauses
from .detection.lexicon import default_morphology
from .detection.statistical import FUNCTION_WORDS, read_words
from .detection.text import is_cyrillic

# Signals whose evidence is a problem told apart by what it is about: a second failure,
# a second disputed charge ("the April invoice too") is news though the same entry finds
# it. A threat, a demand, a wish to leave are told by their entry: "подам в суд" after
# "подам на вас в суд" is the same threat, whatever it names.
ABOUT_SIGNALS = frozenset({"service_failure", "billing_dispute"})
SAME_THING = 0.6
WORD_LIKENESS = 85.0  # rapidfuzz ratio, 0..100
# Parts of speech (pymorphy3's) that never name what failed.
_NOT_A_THING = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "INTJ", "PRED", "ADVB"})
# Words that say something failed, how often or when, not what (lemmas); and the
# pronouns, conjunctions and particles of English, whose dictionary has no parts of speech.
NOT_WHAT = read_words(Path(__file__).resolve().parent / "data" / "not_what_words.txt")
# English lemmas: `_lemma`'s cache keeps them, so simplemma's own cache is off (one cache).
_ENGLISH = simplemma.Lemmatizer(cache_max_size=0)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def load_english_dictionary() -> None:
    """Load simplemma's English dictionary now (half a second and some 30 MB), at the
    service's start rather than on the first message with an English problem."""
    _ENGLISH.lemmatize("invoices", "en")


def keyed(signals: Iterable[Signal], text: str, language: str | None) -> list[dict[str, Any]]:
    """The signals serialized as escalations keep them, each piece of evidence of an
    `ABOUT_SIGNALS` signal with `about`: the key of the problem it stands in. Kept with
    the evidence, they go with it when retention drops the client's words."""
    signals = list(signals)
    keys = problem_keys(text, signals, language)
    return [
        {
            **s.model_dump(mode="json"),
            "evidence": [
                {**e.model_dump(mode="json"), "about": list(keys[(e.start, e.end)])}
                if (e.start, e.end) in keys and s.name in ABOUT_SIGNALS
                else e.model_dump(mode="json")
                for e in s.evidence
            ],
        }
        for s in signals
    ]


def problem_keys(
    text: str, signals: Sequence[Signal], language: str | None
) -> dict[tuple[int, int], tuple[str, ...]]:
    """(start, end) of each piece of evidence of an `ABOUT_SIGNALS` signal -> the content
    words of the clause it stands in (sorted, once each; empty: it names nothing)."""
    evidence = [
        (e.start, e.end)
        for s in signals
        if s.name in ABOUT_SIGNALS
        for e in s.evidence
        if not e.rule.startswith("form.")
    ]
    if not evidence:
        return {}
    clauses = list(problem_clauses(text, signals, ABOUT_SIGNALS))
    keys = {}
    for start, end in evidence:
        a, b = next(((a, b) for a, b in clauses if a <= start < b), (start, end))
        words = (
            m
            for m in _WORD.finditer(text, a, b)
            if not any(s < m.end() and m.start() < e for s, e in evidence)
        )
        found = {_content(m.group().lower(), language) for m in words}
        keys[(start, end)] = tuple(sorted(found - {""}))
    return keys


def same_thing(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two problems' keys name the same thing (both naming something)."""
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    found = sum(1 for w in shorter if any(_alike(w, v) for v in longer))
    return found / len(shorter) >= SAME_THING


def _alike(a: str, b: str) -> bool:
    if a == b:
        return True
    if any(ch.isdigit() for ch in a + b):
        return False  # invoice 1043 is not invoice 1045
    return fuzz.ratio(a, b) >= WORD_LIKENESS


def _content(word: str, language: str | None) -> str:
    """The word as a key ("" if it names nothing): its lemma, if a dictionary knows it."""
    word = word.replace("’", "'").replace("ё", "е")
    if any(ch.isdigit() for ch in word):
        return word
    if len(word) < 3 or word in FUNCTION_WORDS or word in NOT_WHAT:
        return ""
    # A Latin word is English whatever the message's language ("CSV", "invoices" in a
    # Russian message): one cache entry for it, not one per language.
    lemma, part = _lemma(word, language if is_cyrillic(word) else None)
    if part in _NOT_A_THING or lemma in NOT_WHAT or lemma in FUNCTION_WORDS:
        return ""
    # "went" is "go", "us" is "we": a lemma as short as the words left out names nothing.
    return lemma if len(lemma) >= 3 else ""


@lru_cache(maxsize=50_000)
def _lemma(word: str, language: str | None) -> tuple[str, str | None]:
    """The word's most probable lemma and part of speech: a Cyrillic word's by the message
    language's dictionary, else the other one's; any other word's by simplemma's English
    dictionary (no part of speech). A word no dictionary knows stays as written."""
    if not is_cyrillic(word):
        return _ENGLISH.lemmatize(word, "en").lower(), None
    analyzers = default_morphology().analyzers
    order = ("uk", "ru") if language == "uk" else ("ru", "uk")
    for name in order:
        if analyzers[name].word_is_known(word):
            parse = analyzers[name].parse(word)[0]
            # "ваш", "такой", "этот" are adjectives of pronouns: they name nothing either.
            part = "NPRO" if "Apro" in parse.tag.grammemes else parse.tag.POS
            return parse.normal_form.replace("ё", "е"), part
    return word, None
