"""Classifying JSON lines offline: the contract of `careline classify` and its benchmark."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .detector import detect
from .lexicon import Lexicon
from .opinions import SecondOpinion

_UKRAINIAN = re.compile(r"[іїєґ]", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def guess_language(text: str) -> str:
    """The row's language when it has none: intake detects it properly upstream; offline
    the script is enough to tell Ukrainian letters from Russian and from Latin."""
    if _UKRAINIAN.search(text):
        return "uk"
    return "ru" if _CYRILLIC.search(text) else "en"


class BadRow(ValueError):
    """A JSON line without the fields `classify` needs."""


def classify_row(
    row: Mapping[str, Any],
    lexicon: Lexicon | None = None,
    opinions: Mapping[str, SecondOpinion] | None = None,
) -> dict[str, Any]:
    """One output line: {"id", "language", "signals": [{"name", "score", "evidence"}]}."""
    if not isinstance(row, Mapping) or "id" not in row or not isinstance(row.get("text"), str):
        raise BadRow("each line needs an 'id' and a string 'text'")
    text = row["text"]
    language = row.get("language") or guess_language(text)
    signals = detect(text, lexicon, language=language, opinions=opinions)
    return {
        "id": row["id"],
        "language": language,
        "signals": [s.model_dump(mode="json") for s in signals],
    }


@dataclass(frozen=True)
class Throughput:
    messages: int
    words: int
    seconds: float  # wall clock
    cpu_seconds: float = 0.0  # this process's CPU time: what other load does not inflate

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.messages / self.cpu_seconds if self.cpu_seconds else 0.0


def typical_messages(
    texts: Iterable[str], count: int, seed: int = 7, words: tuple[int, int] = (50, 150)
) -> Iterator[str]:
    """Messages of 50-150 words made of sentences from real labelled texts, so the
    vocabulary repeats the way support traffic does."""
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if s.strip()]
    rng = random.Random(seed)
    for _ in range(count):
        target, parts, n = rng.randint(*words), [], 0
        while n < target:
            sentence = rng.choice(sentences)
            parts.append(sentence)
            n += len(sentence.split())
        yield " ".join(parts)


def measure(
    messages: list[str],
    lexicon: Lexicon | None = None,
    opinions: Mapping[str, SecondOpinion] | None = None,
) -> Throughput:
    started, cpu = time.perf_counter(), time.process_time()
    for text in messages:
        detect(text, lexicon, opinions=opinions)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Throughput(len(messages), sum(len(m.split()) for m in messages), elapsed, cpu)
