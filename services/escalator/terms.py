"""Which services of the client's contracts a message names, and how we know. Pure.

"Another manager did the setup for free" is weighed against the contract: when the message
names a service the contract lists, the person handling it sees that line of the terms
beside the client's word ("налаштування" → первинне налаштування кабінету: 1 per contract,
free). A word of a service's name counts when a word of the message shares a lemma with it
(pymorphy3, so every Russian and Ukrainian inflection matches), or else is spelled nearly
the same (rapidfuzz ratio, for English plurals and typos). A client writing in another
language than the contract's still finds it: data/service_words.yaml holds the words that
name the same service in Russian, Ukrainian and English ("настройку" → налаштування). Each
match keeps the client's words that made it, so it can be checked at a glance.

A name of several words is named only with its head, the word that says which service it
is: «обучение» of «обучение сотрудников», "migration" of "data migration". «Новые
сотрудники», «наш кабинет», "the data" say nothing of training, setup or a migration.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import dropwhile, takewhile
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from shared.contracts import ContractTerms

from .detection.lexicon import default_morphology
from .detection.text import WORD, fold, is_cyrillic, prepared

MIN_LETTERS = 4  # shorter words of a name ("на", "per", "of") say nothing about the service
FUZZY_LETTERS = 5  # spelling similarity only between words this long
SIMILARITY = 85  # rapidfuzz ratio, 0-100: "consultations" ~ "consultation" is 96
MAX_NAMED = 5
# Words that name no service in particular ("послуга налаштування" is about "налаштування").
GENERIC = frozenset({"послуга", "услуга", "service", "services", "servicing"})
# Heads that say only the form a service takes ("onboarding session", «пакет внедрения»,
# "training package"): the word they take their meaning from names the service instead, when
# it is a service word of the glossary; "basic plan" keeps "plan", «пакет документов» keeps
# «пакет». Not "support" or "setup": "priority support", "initial setup" are support and a
# setup, and "priority" or "initial" alone name nothing.
FORM_HEADS = frozenset(
    {"session", "sessions", "package", "packages", "plan", "plans", "programme", "program",
     "сессия", "сесія", "пакет", "программа", "програма"}
)  # fmt: skip
# What comes after the head of an English name ("training of staff", "support for users").
ENGLISH_PREPOSITIONS = frozenset({"of", "for", "with", "to", "in", "on", "per", "at", "from", "by"})
SERVICE_WORDS = Path(__file__).parent / "data" / "service_words.yaml"


@lru_cache(maxsize=1)
def same_service_words() -> dict[str, frozenset[str]]:
    """Each word of data/service_words.yaml -> the words of its group, itself included."""
    groups = yaml.safe_load(SERVICE_WORDS.read_text(encoding="utf-8"))
    equivalents: dict[str, frozenset[str]] = {}
    for group in groups:
        words = frozenset(fold(str(w)) for w in group)
        for word in words:
            equivalents[word] = equivalents.get(word, frozenset()) | words
    return equivalents


def named_services(text: str, contracts: Sequence[ContractTerms]) -> list[dict[str, Any]]:
    """The included services `text` names, best matched first, each with the words."""
    items = [(c, item) for c in contracts for item in c.included]
    if not items:
        return []
    morph = default_morphology()
    words = [w.strip("'-") for w in WORD.findall(prepared(text))]
    said: dict[str, str] = {}  # a key (form or lemma) of a message word -> that word
    for word, keys in zip(words, morph.keys_of(words), strict=True):
        for key in keys:
            said.setdefault(key, word)
    for key, word in _in_other_languages(said, words).items():
        said.setdefault(key, word)
    spelled = sorted({w for w in words if len(w) >= FUZZY_LETTERS})
    found = []
    for order, (contract, item) in enumerate(items):
        words_of_name = WORD.findall(fold(item.service))
        name = [w for w in words_of_name if len(w) >= MIN_LETTERS]
        meaningful = [
            (w, k) for w, k in zip(name, morph.keys_of(name), strict=True) if not k & GENERIC
        ]
        matched = {word: h for word, keys in meaningful if (h := _said(word, keys, said, spelled))}
        head = _head(words_of_name, meaningful)
        if head is not None and head not in matched:
            continue  # only the words around it: «сотрудники» is no «обучение сотрудников»
        hits = list(matched.values())
        if hits:
            share = len(hits) / len(meaningful)
            found.append((-share, order, _named(contract, item.model_dump(), hits)))
    return [named for *_, named in sorted(found, key=lambda f: f[:2])[:MAX_NAMED]]


def _head(words: list[str], meaningful: list[tuple[str, frozenset[str]]]) -> str | None:
    """The word of a service's name that says which service it is, when the name has more
    than one meaningful word: in Russian and Ukrainian the first that is no adjective,
    participle or numeral («первинне налаштування кабінету»: what follows it depends on it),
    in English the last before a preposition ("data migration", "training of staff"). A
    head that is only the service's form (FORM_HEADS) gives way to the service word it is
    the form of: "onboarding" of "onboarding session", «обучения» of «сессия обучения»,
    «навчальна» of «навчальна сесія»."""
    if len(meaningful) < 2:
        return None
    keys = dict(meaningful)
    modifiers: list[str] = []  # the head's own adjectives, nearest first («навчальна»)
    if is_cyrillic(meaningful[0][0]):
        morph = default_morphology()
        # the words in the order they are read from the head: what follows it depends on it
        order = list(dropwhile(morph.modifies, keys))
        modifiers = list(reversed(list(takewhile(morph.modifies, keys))))
    else:
        before = list(takewhile(lambda w: w not in ENGLISH_PREPOSITIONS, words))
        # English modifiers stand before their head: read from it backwards
        order = [w for w in reversed(before) if w in keys]
    if not order:
        return None
    head, *rest = order
    glossary = same_service_words()
    if keys[head] & FORM_HEADS:
        # «сессия обучения» takes its meaning from what follows, «навчальна сесія» from its
        # adjective, as "training session" from the word before
        for word in rest[:1] + modifiers[:1]:
            if keys[word] & glossary.keys():
                return word
    return head


@lru_cache(maxsize=1)
def _latin_service_words() -> list[str]:
    """The English words of the glossary, for near spellings ("consultations")."""
    return sorted(w for w in same_service_words() if w.isascii())


def _in_other_languages(said: dict[str, str], words: list[str]) -> dict[str, str]:
    """The words naming the same service as a word of the message, each -> that word."""
    glossary = same_service_words()
    found: dict[str, str] = {}
    for key, word in said.items():
        for other in glossary.get(key, ()):
            found.setdefault(other, word)
    for word in {w for w in words if len(w) >= FUZZY_LETTERS and w.isascii()}:
        near = _spelled_like(word, _latin_service_words())
        for other in glossary[near] if near else ():
            found.setdefault(other, word)
    return found


def _said(word: str, keys: frozenset[str], said: dict[str, str], spelled: list[str]) -> str | None:
    """The message's word for `word` of a service's name (its lemmas `keys`), if any."""
    for key in sorted(keys):
        if key in said:
            return said[key]
    if len(word) < FUZZY_LETTERS:
        return None
    return _spelled_like(word, spelled)


def _spelled_like(word: str, candidates: list[str]) -> str | None:
    """The candidate spelled most nearly like `word`, if near enough (a plural, a typo)."""
    best = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=SIMILARITY)
    return best[0] if best else None


def _named(contract: ContractTerms, item: dict[str, Any], hits: list[str]) -> dict[str, Any]:
    return {"contract": contract.number, **item, "words": list(dict.fromkeys(hits))}
