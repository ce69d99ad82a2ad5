"""The fast paths of the detector say exactly what the plain ones would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.escalator.detection import detect, fold, form, load_lexicon
from services.escalator.detection.matching import regex_hits
from services.escalator.detection.text import _CLAUSE_BREAK, _SENTENCE_BREAK, WORD, Tokens, tokenize

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ROOT / "tests" / "data" / "classify-extra.jsonl"


def _plain_tokenize(folded: str, clause_words: frozenset[str]) -> Tokens:
    """Word by word, as the tokenizer's contract reads."""
    rows: list[tuple[int, int, str, int, int]] = []
    sentence, clause, previous_end = 0, 0, 0
    for match in WORD.finditer(folded):
        gap = folded[previous_end : match.start()]
        if _SENTENCE_BREAK.search(gap):
            sentence, clause = sentence + 1, clause + 1
        elif _CLAUSE_BREAK.search(gap):
            clause += 1
        word = match.group().strip("'-")
        if word in clause_words:
            clause += 1
        if word:
            rows.append((match.start(), match.end(), word, sentence, clause))
        previous_end = match.end()
    if not rows:
        return Tokens([], [], [], [], [])
    starts, ends, words, sentences, clauses = (list(column) for column in zip(*rows, strict=True))
    return Tokens(starts, ends, words, sentences, clauses)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "' '' '''",
        "Подам в суд. Но сначала — вопрос: где деньги?!",
        "I don't know - but you'll see… 'quoted' word-with-hyphens and x*й п@здец",
        'one,two;three (four) «five» "six" seven\n\neight',
        "'но' но але but",
    ],
)
def test_tokens_are_the_same_as_word_by_word(text: str) -> None:
    clause_words = load_lexicon().clause_words
    folded = fold(text)

    assert tokenize(folded, clause_words) == _plain_tokenize(folded, clause_words)


def test_tokens_of_the_labelled_messages_are_the_same_as_word_by_word() -> None:
    clause_words = load_lexicon().clause_words
    for line in EXTRA.read_text(encoding="utf-8").splitlines():
        folded = fold(json.loads(line)["text"])
        assert tokenize(folded, clause_words) == _plain_tokenize(folded, clause_words)


def test_fold_maps_every_typed_apostrophe_and_keeps_the_length() -> None:
    text = "Don’t Youʼre it`s ‘quoted’ Ёлка"

    folded = fold(text)

    assert folded == "don't you're it's 'quoted' елка"
    assert len(folded) == len(text)


@pytest.mark.parametrize(
    "text", ["просто текст без эмодзи", "ты такая милая 😍😘", "помогите 😭😭"]
)
def test_scanned_entries_are_found_as_a_full_scan_finds_them(text: str) -> None:
    """The one search that rules out all scanned entries at once must lose nothing."""
    lexicon = load_lexicon()
    folded = fold(text)
    tokens = tokenize(folded, lexicon.clause_words)
    found = {(h.entry.id, h.start, h.end) for h in regex_hits(lexicon, folded, tokens)}
    for entry in lexicon.index.scanned:
        assert entry.regex is not None
        for m in entry.regex.finditer(folded):
            assert (entry.id, m.start(), m.end()) in found


_CLASSIFY_STDIN = """
import json, sys
from services.escalator.detection.batch import classify_row
for line in sys.stdin:
    print(json.dumps(classify_row(json.loads(line)), ensure_ascii=False))
"""


def test_the_same_text_gets_the_same_rules_in_every_process() -> None:
    """Of two entries that match the same words, the same one is named, whatever the
    process's string hashing ("Подам до суду" fits a Russian and a Ukrainian entry)."""
    rows = "\n".join(
        json.dumps({"id": i, "text": t}, ensure_ascii=False)
        for i, t in enumerate(["Подам до суду", "Ви бездарі, опять все сломалось"])
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", _CLASSIFY_STDIN],
            input=rows,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert re.search(r'"rule": "\w+\.legal\.sue"', outputs.pop())


def test_a_lemma_sequence_is_skipped_only_when_a_later_word_is_missing() -> None:
    """The anchor is a later slot's words: a text without any of them cannot match."""
    lexicon = load_lexicon()
    sue = next(e for e in lexicon.patterns if e.id == "ru.legal.sue")

    assert sue.anchor is not None
    assert sue.anchor in {slot.words for slot in sue.sequence[1:]}
    assert [s.name for s in detect("Подам на вас в суд!", lexicon)] == ["legal_threat"]
    assert "legal_threat" not in {s.name for s in detect("Подам заявление на возврат", lexicon)}


def _plain_caps(text: str) -> bool:
    letters = sum(map(str.isalpha, text))
    return letters >= form.MIN_LETTERS and sum(map(str.isupper, text)) / letters > form.CAPS_RATIO


@pytest.mark.parametrize(
    "text",
    [
        "ВЕРНИТЕ ДЕНЬГИ НЕМЕДЛЕННО ВЫ МОШЕННИКИ",
        "WHERE IS MY MONEY i paid",
        "Mostly lower case with SOME CAPS here",
        "ABCDEFGHIJKL mnopqrstu",  # 12 capitals, 9 lower: 0.57
        "ABCDEFGHIJKLMN opqrstu",  # 14 capitals, 7 lower: 0.67
        "Ελληνικά ΚΕΦΑΛΑΙΑ ΠΟΛΛΑ ΠΟΛΛΑ",
    ],
)
def test_the_all_caps_shortcut_says_what_counting_every_letter_says(text: str) -> None:
    all_caps = any(e.rule == "form.all_caps" for e in form.form_evidence(text))

    assert all_caps == _plain_caps(text)
