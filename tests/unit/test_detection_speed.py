"""The fast paths of the detector say exactly what the plain ones would."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.escalator.detection import detect, fold, form, load_lexicon
from services.escalator.detection.detector import DETECTION_CHARS, _Piece, _Spans, _without_overlaps
from services.escalator.detection.lexicon import default_morphology
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


# Round 27: a pasted text repeating one phrase. «обещали в пятницу, » × 1,000 took 2-5 s:
# every occurrence of a word the cache had not yet seen was analysed again, and the
# overlap checks of evidence and of negated spans compared every pair of pieces.
REPEATED = [
    "обещали в пятницу, ",
    "обіцяли в п'ятницю, ",
    "you promised it by friday, ",
    "obeshchali v pyatnitsu, ",
    "told me ",
    "I was told ",
    "суд ",
    "убью ",
    "хуй ",
    "suka ",
    "не подам в суд, подам в суд. ",
    "вы идиоты блять ",
]


def _repeated(phrase: str) -> str:
    return phrase * (DETECTION_CHARS // len(phrase) + 1)


@pytest.mark.timeout(10)
def test_a_pasted_text_repeating_one_phrase_does_not_stall_the_detector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hang guard, not a speed goal: these took over 10 s together on the old code (0.6-2 s
    each), under a second now; a process that has not seen the words yet is the worst."""
    morph = default_morphology()
    monkeypatch.setattr(morph, "_cache", {})
    monkeypatch.setattr(morph.reader, "_cache", {})
    found = {phrase: {s.name for s in detect(_repeated(phrase))} for phrase in REPEATED}
    assert "service_failure" in found["обещали в пятницу, "]
    assert "legal_threat" in found["не подам в суд, подам в суд. "]
    assert "abuse" in found["хуй "]


@pytest.mark.parametrize(
    "text",
    [
        "They told me the plan includes SMS. Well, actually it doesn't.",
        "I was told the Pro plan has call recording: it doesn't",
        "We were told delivery is free, turns out it isn't",
    ],
)
def test_a_contradiction_is_read_in_its_sentence_and_three_words_past_a_stop(text: str) -> None:
    # Round 29: the words past a stop are tried only after one; "told me " × 2,500 tried them
    # after every cut of the 100 characters before each "told me" (0.6 s, now 0.05 s).
    assert [e.rule for s in detect(text) for e in s.evidence] == ["en.fail.contradiction"]


def test_a_repeated_word_is_analysed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    morph = default_morphology()
    monkeypatch.setattr(morph, "_cache", {})
    analysed: list[str] = []
    plain = morph._analyze

    def counted(word: str) -> frozenset[str]:
        analysed.append(word)
        return plain(word)

    monkeypatch.setattr(morph, "_analyze", counted)
    detect(_repeated("обещали в пятницу, "))
    assert {"в", "обещали", "пятницу"} <= set(analysed)
    assert len(analysed) == len(set(analysed))  # was 1,000 times each


def _plain_without_overlaps(pieces: list[_Piece]) -> list[_Piece]:
    """Each piece against every kept one, as the contract reads."""
    kept: list[_Piece] = []
    for piece in sorted(pieces, key=lambda p: (-p.weight, p.start, p.start - p.end)):
        if not any(k.start < piece.end and piece.start < k.end for k in kept):
            kept.append(piece)
    return kept


@pytest.mark.parametrize("seed", range(20))
def test_evidence_without_overlaps_is_what_comparing_every_pair_keeps(seed: int) -> None:
    rng = random.Random(seed)
    pieces = []
    for i in range(rng.randint(0, 60)):
        start = rng.randint(0, 80)
        end = start + rng.randint(1, 12)
        pieces.append(_Piece(rng.choice([0.3, 0.5, 0.7, 0.9]), start, end, f"r{i}"))
    assert _without_overlaps(pieces) == _plain_without_overlaps(pieces)


@pytest.mark.parametrize("seed", range(20))
def test_silenced_spans_overlap_what_comparing_every_span_says(seed: int) -> None:
    rng = random.Random(seed)
    spans = []
    for _ in range(rng.randint(0, 30)):
        start = rng.randint(0, 80)
        spans.append((start, start + rng.randint(0, 15)))  # a span may be empty
    silenced = _Spans(spans)
    for start in range(0, 100, 3):
        for end in range(start + 1, start + 14, 2):
            plain = any(s < end and start < e for s, e in spans)
            assert silenced.overlap(start, end) is plain, (spans, start, end)
