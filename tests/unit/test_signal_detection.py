"""detect(): which signals a client's text carries, with evidence that points at its words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.escalator.detection import (
    LEXICON_PATH,
    SIGNALS,
    LexiconError,
    detect,
    fold,
    load_lexicon,
    parse_lexicon,
    read_lexicon_data,
)
from services.escalator.detection.detector import DETECTION_CHARS
from services.escalator.detection.evaluation import evaluate
from services.escalator.detection.lexicon import default_morphology
from services.escalator.detection.text import prepared, tokenize
from services.escalator.problem_keys import keyed
from shared.contracts import Signal

pytestmark = pytest.mark.unit

# The shared corpus sits next to the checkout (../shared/corpus), in CI as locally.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "classify-dev.jsonl"
EXTRA = Path(__file__).resolve().parents[1] / "data" / "classify-extra.jsonl"
# Written from the signal definitions and the seeds, before the lexicon was changed for it
# (micro F1 0.78 then); then the lexicon's word families were widened (docs/detection.md).
HOLDOUT = Path(__file__).resolve().parents[1] / "data" / "classify-holdout.jsonl"
# Written after those changes; its misses were then used to widen the lexicon (round 1).
BLIND = Path(__file__).resolve().parents[1] / "data" / "classify-blind.jsonl"
# Written by a helper who never saw the lexicon; measured, then used to widen it (round 2).
BLIND2 = Path(__file__).resolve().parents[1] / "data" / "classify-blind2.jsonl"
# Written the same way with deliberately varied phrasing after round 2; measured, then used
# to widen the lexicon and train the second opinion (round 3).
BLIND3 = Path(__file__).resolve().parents[1] / "data" / "classify-blind3.jsonl"
# A realistic inbox (a third short chat lines, long emails with quoted history, hard
# neutrals), written after round 3; measured, then used to widen the lexicon and train the
# second opinion (round 4).
BLIND4 = Path(__file__).resolve().parents[1] / "data" / "classify-blind4.jsonl"
# Veiled and oblique phrasing (indirect threats, soft churn, failures told as a story,
# accountant's billing language), written after round 3 by a helper who saw neither the
# lexicon nor the model; measured, then used to widen the lexicon and train the second
# opinion (round 5).
BLIND5 = Path(__file__).resolve().parents[1] / "data" / "classify-blind5.jsonl"
# One bad week in the inboxes of six kinds of business (typos, transcripts, forwarded
# mail, direct and indirect phrasing), written after round 4 the same way; measured, then
# used to widen the lexicon and train the second opinion (round 6).
BLIND6 = Path(__file__).resolve().parents[1] / "data" / "classify-blind6.jsonl"
# A month of traffic to ten other kinds of business (a mobile operator, a bank app, a
# dental chain, an airline...), signals mostly implied by the story, written after round 5
# the same way; measured, then its billing disputes and veiled threats used to widen the
# lexicon (rounds 7 and 9). The second opinion was never trained on it.
BLIND7 = Path(__file__).resolve().parents[1] / "data" / "classify-blind7.jsonl"
# Twelve more kinds of business (a vet, a garage, concert tickets, a crypto wallet, a
# summer camp...), written after round 5 the same way; the lexicon was never tuned on it,
# the second opinion was trained on it once classify-blind9 was written.
BLIND8 = Path(__file__).resolve().parents[1] / "data" / "classify-blind8.jsonl"
# A general inbox (every signal, a third neutral with near misses, 2 to 228 words), written
# after round 9 by a helper who saw neither the lexicon nor the model; the lexicon was never
# tuned on it before classify-blind10 was written, the second opinion trained on it since.
BLIND9 = Path(__file__).resolve().parents[1] / "data" / "classify-blind9.jsonl"
# Another general inbox (every signal at least 8 times, a third neutral, most of those near
# misses, long emails with the signal mid-text and quoted replies, very short chats),
# written after round 11 the same way, never tuned or trained on: the honest measure now.
BLIND10 = Path(__file__).resolve().parents[1] / "data" / "classify-blind10.jsonl"
TRAIN15 = Path(__file__).resolve().parents[1] / "data" / "classify-train15.jsonl"
# The corpus's signals (../shared/corpus/README.md), which every file written from its brief
# covers; a signal of our own (round 17's payment_details_change) has a file of its own.
CORPUS_SIGNALS = tuple(s for s in SIGNALS if s != "payment_details_change")
# Seed 001's misinformation (a wrong price, a feature that does not exist, wrong hours,
# what support assured and what the client then found or paid), 30 messages per language
# with near misses: the lexicon's round 14 was tuned on it.
TRAIN14 = Path(__file__).resolve().parents[1] / "data" / "classify-train14.jsonl"
# Service failures of every kind with misinformation in varied wording and look-alikes,
# 20 per language, written by a helper who never saw the lexicon, never tuned on.
BLIND11 = Path(__file__).resolve().parents[1] / "data" / "classify-blind11.jsonl"


# --- helpers -------------------------------------------------------------------------


def names(text: str) -> set[str]:
    return {s.name for s in detect(text)}


def signal(text: str, name: str) -> Signal:
    found = [s for s in detect(text) if s.name == name]
    assert found, f"{name} not detected in {text!r}: {detect(text)}"
    return found[0]


def word_evidence(sig: Signal) -> list[Any]:
    return [e for e in sig.evidence if not e.rule.startswith("form.")]


def cases(groups: dict[str, list[str]]) -> list[Any]:
    return [
        pytest.param(text, id=f"{group}-{i}")
        for group, texts in groups.items()
        for i, text in enumerate(texts)
    ]


def lexicon_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "thresholds": {"default": 0.5},
        "form_signals": ["abuse"],
        "negators": ["not"],
        "signals": {"abuse": [{"id": "en.idiot", "pattern": r"\bidiots?\b"}]},
        "exclude": {},
    }
    data.update(overrides)
    return data


# --- legal threats -------------------------------------------------------------------

LEGAL_THREATS = {
    "ru": [
        "Если не вернёте деньги, подам в суд.",
        "Я подам на вас в суд за такое обслуживание",
        "Засужу вас всех!",
        "Исковое заявление уже готово.",
        "Мои юристы с вами свяжутся.",
        "Мы обратимся в прокуратуру",
        "Тогда будем разговаривать через суд.",
        "Пишу жалобу в Роспотребнадзор.",
    ],
    "uk": [
        "Подам на вас до суду.",
        "Позовна заява вже готова.",
        "Подамо на вас до суду, якщо не повернете гроші",
        "Звернемося до прокуратури",
        "Мої юристи з вами зв'яжуться.",
        "Зустрінемося в суді.",
    ],
    "en": [
        "I will sue you.",
        "My lawyers will contact you.",
        "My lawyer will be in touch tomorrow.",
        "I'll take you to court over this.",
        "We will take legal action against you.",
        "See you in court.",
        "I'm filing a complaint with the FTC.",
    ],
}


@pytest.mark.parametrize("text", cases(LEGAL_THREATS))
def test_legal_threat_is_detected_in_russian_ukrainian_and_english(text: str) -> None:
    found = signal(text, "legal_threat")

    assert found.score >= load_lexicon().threshold("legal_threat")
    assert word_evidence(found)


# --- abuse ---------------------------------------------------------------------------

ABUSE = {
    "ru": ["Вы идиоты.", "Дебилы, сколько можно ждать", "Сволочи, верните деньги", "бля, опять"],
    "uk": ["Ви ідіоти.", "Ви бовдури, а не підтримка", "Покидьки!"],
    "en": ["You idiots.", "What a useless bunch.", "This is bullshit", "fucking joke"],
    "obfuscated": [
        "Какой х*й это придумал?",
        "Ну п@здец.",
        "Опять бл* всё сломалось",
        "это не бл*дь шутка",  # an obscenity stays one under negation
        "What the f**k",
        "This is f***ing ridiculous",
    ],
    "look-alikes": [
        "пиздeц полный",  # Latin e
        "xуйня какая-то",  # Latin x
        "Bы идиoты",  # Latin B and o
        "eбaнутыe",  # Latin e and a
        "пиzдец",  # Latin z
    ],
    "translit": ["idi nahuy", "blyat, opyat ne rabotaet"],
}


@pytest.mark.parametrize("text", cases(ABUSE))
def test_abuse_is_detected_including_obfuscated_swearing(text: str) -> None:
    found = signal(text, "abuse")

    assert word_evidence(found)


@pytest.mark.parametrize(
    "text",
    ["Это просто охуенно, спасибо!", "Ребята, вы охуенные", "Пиздато сделали", "Заебись!"],
)
def test_positive_swearing_is_not_abuse(text: str) -> None:
    assert "abuse" not in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ваши курьеры хулиганы, но посылка дошла",  # хулиган is no obscenity
        "В этом году урожай уродился",  # урод… as part of an ordinary word
        "Please classify this assessment",
        "Благодарю за быструю помощь",
    ],
)
def test_ordinary_words_containing_swear_stems_are_not_abuse(text: str) -> None:
    assert "abuse" not in names(text)


# --- negation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "я не собираюсь судиться",
        "Я не збираюся судитися з вами",
        "Я не подам на вас в суд, просто исправьте",
        "I am not going to sue",
        "We are not planning legal action, just fix it",
        "I don't want to sue you",
        "I don’t want to sue you",  # typographic apostrophe, as phones type it
        "I won’t sue you, just fix it",
    ],
)
def test_a_negated_threat_is_no_signal(text: str) -> None:
    assert "legal_threat" not in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Я не шучу, подам в суд.",
        "Я не шучу — подам в суд.",
        "Не вернёте деньги — подам в суд",
        "Не вернете деньги - подам в суд",
        "I'm not joking. I will sue you.",
        "It is not fair, but I will sue you",
        # A longer entry negated in the clause before ("не разберётесь … суд") takes only
        # its own clause with it: the threat after the comma stands.
        "Если не разберётесь, подам в суд.",
        "Якщо не розберетеся, подам до суду.",
        "If you don't sort it out, I will sue you.",
    ],
)
def test_negation_ends_with_its_clause(text: str) -> None:
    assert "legal_threat" in names(text)


@pytest.mark.parametrize(
    "text",
    [
        # Seed 000: paid, and told of a debt or a suspension (acceptance: no signal at all).
        "Счёт № 4512 мы оплатили вчера, почему нам пишут о приостановке?",
        "Мы уже оплатили счёт № 4512, а нам пишут, что аккаунт приостановят",
        "Нам пришло напоминание о задолженности, хотя мы всё перевели ещё в пятницу.",
        "Почему нам выставили счёт дважды?",
        "Ми вже оплатили рахунок № 4512, а нам пишуть, що акаунт призупинять.",
        "Рахунок ми сплатили вчора, чому нам пишуть про заборгованість?",
        "Чому нам виставили рахунок двічі?",
        "We already paid invoice 4512 yesterday, why are you telling us the account will be "
        "suspended?",
    ],
)
def test_paid_and_told_of_a_debt_is_a_billing_dispute_in_every_language(text: str) -> None:
    assert "billing_dispute" in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Мы не оплатили счёт, а нам пишут о задолженности: всё верно.",
        "Оплатили вчера, спасибо, что напомнили о новом тарифе.",
    ],
)
def test_unpaid_or_merely_paid_is_no_dispute_by_the_lexicon(text: str) -> None:
    assert "billing_dispute" not in names(text)


# --- look-alike topics ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Please kill the process that hangs on the server",
        "Can you kill your backup process on the server?",
        "How do I kill the session of a user who left?",
        "This outage will hurt your business, not just ours",
    ],
)
def test_technical_kill_is_not_violence(text: str) -> None:
    assert "violence_threat" not in names(text)


@pytest.mark.parametrize("text", ["I will kill you", "I know where you are and I will hurt you"])
def test_a_threat_to_a_person_is_violence(text: str) -> None:
    assert "violence_threat" in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Can you book the tennis court for our team on Friday?",
        "Meet me at the food court after the call",
        "The basketball court booking page is down",
    ],
)
def test_a_sports_or_food_court_is_not_a_legal_threat(text: str) -> None:
    assert "legal_threat" not in names(text)


# --- evidence spans ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "words"),
    [
        ("ПОДАМ В СУД, если не вернёте деньги!", "legal_threat", "ПОДАМ В СУД"),
        ("Ну всё. Я пoдам в суд", "legal_threat", "пoдам в суд"),  # Latin o
        ("Ёбаный сервис", "abuse", "Ёбаный"),
        ("ВСЁ ПРОПАЛО, помогите", "panic", "ВСЁ ПРОПАЛО"),
        ("Вы ИДИOТЫ", "abuse", "ИДИOТЫ"),  # Latin O in capitals
        ("My LAWYERS WILL call", "legal_threat", "My LAWYERS WILL"),
    ],
)
def test_evidence_points_at_the_original_words(text: str, name: str, words: str) -> None:
    found = signal(text, name)

    evidence = word_evidence(found)[0]
    assert evidence.text == words
    assert text[evidence.start : evidence.end] == words
    assert evidence.rule in {p.id for p in load_lexicon().patterns}


@pytest.mark.parametrize(
    "text",
    [
        "Всё пропало!!! Ёлки, помогите, ПОДАМ В СУД и засужу вас, идиоты",
        "Ёмаё, xуйня, а не сервис. Пoдам в суд.",
        "İstanbul office: I will sue you",  # a letter whose lower case is longer
    ],
)
def test_every_word_span_slices_the_original_text(text: str) -> None:
    signals = detect(text)

    assert signals
    for sig in signals:
        for evidence in word_evidence(sig):
            assert text[evidence.start : evidence.end] == evidence.text


def test_fold_keeps_the_length_and_only_folds_cyrillic_words() -> None:
    text = "Ёлки, пoдам в СУД! Hello mop, xуй"

    folded = fold(text)

    assert len(folded) == len(text)
    assert folded == "елки, подам в суд! hello mop, хуй"


# --- form features -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "!!!!!!!!",
        "Where is my order???",
        "WHY IS THIS NOT DONE YET I ASKED YESTERDAY!!!",
        "СКОЛЬКО МОЖНО ЖДАТЬ ОТВЕТА!!!",
    ],
)
def test_form_features_alone_never_make_a_signal(text: str) -> None:
    assert detect(text) == []


def test_form_strengthens_words_that_matched_for_form_signals() -> None:
    calm = signal("Вы идиоты, сколько можно ждать", "abuse")
    shouted = signal("ВЫ ИДИОТЫ, СКОЛЬКО МОЖНО ЖДАТЬ!!!", "abuse")

    rules = [e.rule for e in shouted.evidence]
    assert "form.exclamation_run" in rules and "form.all_caps" in rules
    assert shouted.score > calm.score


def test_form_adds_nothing_to_signals_outside_form_signals() -> None:
    shouted = signal("ПОДАМ В СУД!!! ВЫ МЕНЯ СЛЫШИТЕ???", "legal_threat")

    assert all(not e.rule.startswith("form.") for e in shouted.evidence)
    assert "abuse" not in {s.name for s in detect("ПОДАМ В СУД!!! ВЫ МЕНЯ СЛЫШИТЕ???")}


def test_form_can_lift_a_weak_word_match_but_not_create_one() -> None:
    lexicon = parse_lexicon(
        lexicon_data(signals={"abuse": [{"id": "en.meh", "pattern": r"\bmeh\b", "weight": 0.4}]})
    )

    assert detect("meh, this is terrible", lexicon) == []  # 0.4 < 0.5
    lifted = detect("MEH, THIS IS TERRIBLE!!!", lexicon)  # 1 - 0.6 * 0.8 * 0.8
    assert [(s.name, s.score) for s in lifted] == [("abuse", pytest.approx(0.616))]
    assert detect("THIS IS TERRIBLE AND SLOW!!!", lexicon) == []


# --- scoring and exclusions ----------------------------------------------------------


def test_the_same_words_count_once_and_independent_hints_combine() -> None:
    lexicon = parse_lexicon(
        lexicon_data(
            thresholds={"default": 0.5},
            signals={
                "panic": [
                    {"id": "a", "pattern": r"\bhelp\b", "weight": 0.4},
                    {"id": "b", "pattern": r"\bhelp me\b", "weight": 0.4},
                    {"id": "c", "pattern": r"\bgone\b", "weight": 0.4},
                ]
            },
        )
    )

    assert detect("help me", lexicon) == []  # overlapping matches: one piece of evidence
    both = detect("help me, everything is gone", lexicon)
    assert [s.name for s in both] == ["panic"]
    assert both[0].score == pytest.approx(1 - 0.6 * 0.6)


def test_an_exclusion_silences_only_its_own_signal() -> None:
    lexicon = parse_lexicon(
        lexicon_data(
            signals={
                "abuse": [{"id": "en.clowns", "pattern": r"\bclowns\b"}],
                "legal_threat": [{"id": "en.court", "pattern": r"\bcourt\b"}],
            },
            exclude={"legal_threat": [{"id": "en.circus", "pattern": r"\bclowns\s+court\b"}]},
        )
    )

    assert [s.name for s in detect("you clowns court disaster", lexicon)] == ["abuse"]


# --- the lexicon file ----------------------------------------------------------------


def test_the_shipped_lexicon_loads_and_names_known_signals_only() -> None:
    lexicon = load_lexicon()

    ids = [p.id for p in lexicon.patterns + lexicon.excludes]
    assert len(ids) == len(set(ids))
    assert {p.signal for p in lexicon.patterns} <= set(SIGNALS)
    assert {"legal_threat", "abuse"} <= {p.signal for p in lexicon.patterns}
    assert set(lexicon.form_signals) <= set(SIGNALS)
    assert {"не", "ні", "not", "don't"} <= lexicon.negators


def test_parse_lexicon_rejects_an_unknown_signal_name() -> None:
    data = lexicon_data(signals={"rudeness": [{"id": "en.x", "pattern": "x"}]})

    with pytest.raises(LexiconError, match="rudeness"):
        parse_lexicon(data)


def test_parse_lexicon_rejects_an_unknown_signal_in_exclusions() -> None:
    data = lexicon_data(exclude={"sarcasm": [{"id": "en.x", "pattern": "x"}]})

    with pytest.raises(LexiconError, match="sarcasm"):
        parse_lexicon(data)


def test_parse_lexicon_rejects_a_bad_regex_naming_the_entry() -> None:
    data = lexicon_data(signals={"abuse": [{"id": "ru.broken", "pattern": r"\b(идиот"}]})

    with pytest.raises(LexiconError, match=r"abuse.*ru\.broken.*bad pattern"):
        parse_lexicon(data)


def test_parse_lexicon_rejects_a_duplicate_id_naming_it() -> None:
    data = lexicon_data(
        signals={
            "abuse": [{"id": "en.same", "pattern": "idiot"}],
            "panic": [{"id": "en.same", "pattern": "help"}],
        }
    )

    with pytest.raises(LexiconError, match=r"en\.same"):
        parse_lexicon(data)


def test_parse_lexicon_rejects_an_id_shared_by_a_pattern_and_an_exclusion() -> None:
    data = lexicon_data(exclude={"abuse": [{"id": "en.idiot", "pattern": "village idiot"}]})

    with pytest.raises(LexiconError, match=r"en\.idiot"):
        parse_lexicon(data)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"pattern": "x"}, "without 'id'"),
        ({"id": "en.nopattern"}, "without 'pattern'"),
        ({"id": "en.heavy", "pattern": "x", "weight": 1.5}, r"en\.heavy.*weight"),
        ({"id": "en.zero", "pattern": "x", "weight": 0}, r"en\.zero.*weight"),
    ],
)
def test_parse_lexicon_rejects_incomplete_entries(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(lexicon_data(signals={"abuse": [entry]}))


def test_the_shipped_files_are_what_load_lexicon_parses() -> None:
    data = read_lexicon_data(LEXICON_PATH)

    assert parse_lexicon(data) == load_lexicon()
    assert "lexicons" in yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))


# --- the labelled corpora ------------------------------------------------------------


def _report(path: Path) -> Any:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return evaluate(rows, lambda row: names(row["text"]))


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not next to the checkout")
def test_dev_corpus_quality_floor(capsys: pytest.CaptureFixture[str]) -> None:
    """A floor, not a target: it catches a lexicon change that breaks what works today."""
    report = _report(CORPUS)
    with capsys.disabled():
        print("\n" + report.table())

    assert report.messages >= 100
    # Measured on classify-dev.jsonl: micro P 1.00 R 0.94 F1 0.97; lowest F1 0.88.
    assert report.micro.f1 >= 0.93
    assert all(c.f1 >= 0.8 for c in report.per_signal.values()), report.table()


def test_own_labelled_file_quality_floor(capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(EXTRA)
    with capsys.disabled():
        print("\n" + report.table())

    assert report.messages >= 150
    # Measured on tests/data/classify-extra.jsonl: micro F1 0.99 (0.84 before tuning).
    assert report.micro.f1 >= 0.95
    assert all(c.f1 >= 0.85 for c in report.per_signal.values()), report.table()
    covered = [report.per_signal[s] for s in CORPUS_SIGNALS]
    assert all(c.tp >= 5 for c in covered), "every signal is covered"


def _languages(path: Path) -> dict[str, int]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["language"]] = counts.get(row["language"], 0) + 1
    return counts


def test_held_out_file_quality_floor(capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(HOLDOUT)
    with capsys.disabled():
        print("\n" + report.table())

    assert report.messages >= 200
    assert min(_languages(HOLDOUT).values()) >= 0.25 * report.messages, "ru, uk, en alike"
    # Measured on tests/data/classify-holdout.jsonl: micro P 0.98 R 0.95 F1 0.97 (0.78
    # before the lexicon was widened); lowest F1 0.86 (service_failure).
    assert report.micro.f1 >= 0.93
    assert all(c.f1 >= 0.80 for c in report.per_signal.values()), report.table()
    covered = [report.per_signal[s] for s in CORPUS_SIGNALS]
    assert all(c.tp + c.fn >= 12 for c in covered), "every signal is covered"


@pytest.mark.parametrize(
    ("path", "floor"),
    [
        # Measured: 0.97 / 0.80 / 0.88 when written; 1.00 / 1.00 / 1.00 after round 1.
        (BLIND, 0.93),
        # Measured: 0.88 / 0.70 / 0.78 when written; 0.93 / 0.96 / 0.94 after round 2.
        (BLIND2, 0.88),
        # Measured: 0.83 / 0.53 / 0.64 (round 1), 0.84 / 0.57 / 0.68 (round 2), then tuned on:
        # 0.89 / 0.73 / 0.80 after round 3.
        (BLIND3, 0.75),
        # Measured: 0.90 / 0.80 / 0.85 (round 2), 0.90 / 0.82 / 0.86 (round 3), then tuned
        # on: 0.95 / 0.97 / 0.96 after round 4.
        (BLIND4, 0.92),
        # Measured: 0.82 / 0.52 / 0.64 before round 4 and after it (the round's families
        # did not reach this phrasing), then tuned on: 0.86 / 0.71 / 0.78 after round 5.
        (BLIND5, 0.74),
        # Measured: 0.85 / 0.71 / 0.77 before round 5, 0.85 / 0.71 / 0.78 after it, then
        # tuned on: 0.87 / 0.83 / 0.85 after round 6.
        (BLIND6, 0.80),
        # Measured: 0.90 / 0.53 / 0.67 before round 6 and after it (its families did not
        # reach this file's phrasing either), then tuned on: 0.91 / 0.58 / 0.71 after
        # round 7 (billing disputes), 0.93 / 0.67 / 0.78 after round 9 (veiled threats).
        (BLIND7, 0.74),
        # Never tuned on. Measured: 0.90 / 0.54 / 0.67 before round 6, 0.90 / 0.55 / 0.68
        # after it and after rounds 7 to 9. A floor so that a change that loses recall on
        # new phrasing shows.
        (BLIND8, 0.63),
        # Never tuned on until blind10 was written. Measured after round 9: 0.90 / 0.60 /
        # 0.72; round 11: 0.90 / 0.61 / 0.72; then tuned on: 0.90 / 0.64 / 0.75 (round 12).
        (BLIND9, 0.70),
        # Never tuned on. Measured after round 11: 0.88 / 0.62 / 0.72; round 12: 0.73;
        # round 13: 0.72.
        (BLIND10, 0.68),
    ],
)
def test_blind_file_quality_floor(
    path: Path, floor: float, capsys: pytest.CaptureFixture[str]
) -> None:
    """Messages written by someone who never saw the lexicon: the floor is looser."""
    report = _report(path)
    with capsys.disabled():
        print(f"\n{path.name}\n" + report.table())

    assert report.messages >= 60
    assert min(_languages(path).values()) >= 20, "ru, uk, en alike"
    assert report.micro.f1 >= floor
    covered = [report.per_signal[s] for s in CORPUS_SIGNALS]
    assert all(c.tp + c.fn >= 3 for c in covered), "every signal is covered"


@pytest.mark.parametrize(
    ("path", "recall", "precision"),
    [
        # Tuned on (round 14): service_failure 0.87 / 0.22 before, 0.96 / 0.88 after.
        (TRAIN14, 0.85, 0.90),
        # Never tuned on: 0.60 / 0.44 before round 14, 0.62 / 0.48 after (the second
        # opinion lifts recall to 0.93): a floor, so a change that loses what works shows.
        (BLIND11, 0.45, 0.55),
    ],
)
def test_misinformation_files_service_failure_floor(
    path: Path, recall: float, precision: float, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(path)
    with capsys.disabled():
        print(f"\n{path.name}\n" + report.table())
    failure = report.per_signal["service_failure"]

    assert min(_languages(path).values()) >= 20, "ru, uk, en alike"
    assert failure.recall >= recall
    assert failure.precision >= precision


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # Seed 001, "misinformed": a wrong (lower) price, a feature that is not there, wrong
        # opening hours and a trip across town to a "Closed" sign.
        ("ru", "Менеджер назвал 890 ₽ за доставку, а с карты списали 1 690 ₽."),
        ("ru", "Консультант заверил, что интеграция с amoCRM в тарифе есть. Оплатили — а её нет."),
        (
            "ru",
            "На сайте написано, что вы работаете до 20:00. Я ехал через весь город, а там "
            "закрыто, на двери табличка.",
        ),
        ("uk", "Консультантка по телефону назвала 450 грн за доставку, а з картки зняли 980."),
        ("uk", "Менеджер запевняв, що є інтеграція з Checkbox. Купили тариф, а такої нема."),
        (
            "uk",
            "На сайті зазначено, що відділення працює в неділю. Я приїхала через усе місто, а "
            "там зачинено.",
        ),
        ("en", "Service desk quoted £180 for the pads. Invoice says £265."),
        (
            "en",
            "Your adviser assured me the plan had unlimited data, and now I've been charged "
            "£38 in overage.",
        ),
        (
            "en",
            "Your website says you are open Saturdays 9-1. I drove across town and found a "
            "locked door.",
        ),
        # Support denied what the product has.
        ("ru", "Оператор сказал, что такой функции в тарифе нет, хотя она в нём есть."),
        ("uk", "Оператор сказав, що такої функції в тарифі немає, хоча вона в ньому є."),
        ("en", "Your agent said the export doesn't exist on our plan, although it is there."),
    ],
)
def test_misinformation_is_a_service_failure(language: str, text: str) -> None:
    assert "service_failure" in {s.name for s in detect(text, language=language)}


@pytest.mark.parametrize(
    ("language", "text", "charged"),
    [
        ("ru", "Менеджер назвал 890 ₽ за доставку, а с карты списали 1 690 ₽.", "1 690"),
        ("uk", "На сайті стояла ціна 1 200 грн, а в рахунку 1 900.", "1 900"),
        ("en", "Service desk quoted £180 for the pads. Invoice says £265.", "£265"),
    ],
)
def test_a_quoted_price_charged_as_another_is_a_billing_dispute_too(
    language: str, text: str, charged: str
) -> None:
    """Seed 001's wrong price costs the client money: billing hears it as well, and the
    evidence ends on the whole amount charged (staff read "1 690", not "1")."""
    found = {s.name: s for s in detect(text, language=language)}

    assert {"service_failure", "billing_dispute"} <= set(found)
    for name in ("service_failure", "billing_dispute"):
        assert any(e.text.endswith(charged) for e in found[name].evidence)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("uk", "В акції обіцяли 10% кешбеку на техніку, а нарахували 2%. Чому?"),
        ("en", "Your agent confirmed the price of £180 and the invoice says £180. Thanks!"),
    ],
)
def test_cashback_short_or_the_quoted_price_charged_is_no_billing_dispute(
    language: str, text: str
) -> None:
    assert "billing_dispute" not in {s.name for s in detect(text, language=language)}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Ваш менеджер сказал, что диван привезут в пятницу, — привезли утром. Спасибо!"),
        ("ru", "На сайте стоимость 2 490, а в приложении 2 690. Какая цена правильная?"),
        ("uk", "Підтвердіть, будь ласка, назву юридичної особи в рахунках: ми змінили адресу."),
        ("uk", "Оператор сказав, що шафу привезуть у понеділок, — так і було. Дякую!"),
        ("en", "Your agent confirmed the price of £180 and the invoice says £180. Thanks!"),
        ("en", "The site says you are open until 8 — is that the same on holidays?"),
    ],
)
def test_what_support_said_and_was_so_is_no_failure(language: str, text: str) -> None:
    assert "service_failure" not in {s.name for s in detect(text, language=language)}


@pytest.mark.parametrize(
    "text",
    [
        "Счёт мы уже оплатили вчера, а вы пишете, что мы просрочили платёж и отключите нас.",
        "Рахунок ми вже оплатили вчора, а ви пишете, що ми прострочили платіж і відключите нас.",
        "We paid the invoice yesterday, yet you say our payment is overdue and will suspend us.",
        "Invoice 4512 is paid, do not suspend us.",
        "The invoice has been paid, please stop the suspension.",
        "Мы оплатили, не ограничивайте доступ к кабинету, пожалуйста",  # access to our account
        # Round 19: the same said as a request, with no dunning named.
        "Счёт № 4512 оплачен, не отключайте нас.",
        "Оплата прошла вчера, не надо нас отключать!",
        "Не отключайте нас, мы всё оплатили.",
        "Рахунок № 4512 оплачено, не відключайте нас.",
        "Не відключайте нас, ми вже все сплатили.",
    ],
)
def test_paid_yet_told_of_an_overdue_payment_is_a_billing_dispute(text: str) -> None:
    # Seed 000: the client paid the day before and is told the payment is overdue.
    assert "billing_dispute" in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Мы не просрочили ни одного платежа за пять лет, спасибо за сервис.",
        "Ми жодного разу не прострочили платіж, дякуємо за сервіс.",
        "We have not paid yet, please do not suspend us: the payment goes out on Monday.",
        "Мы ещё не оплатили счёт, не отключайте нас, пожалуйста.",
        "Мы оплатили доступ, не ограничивайте доступ сотрудникам к отчётам",
        "Ми оплатили, не обмежуйте доступ працівникам до звітів",
        "We have paid for the premium plan, how do I deactivate the old one?",
        "Ми ще не сплатили рахунок, не відключайте нас, будь ласка.",
        "Оплатили подписку, не отключайте автопродление.",
    ],
)
def test_a_good_payment_record_is_no_billing_dispute(text: str) -> None:
    assert "billing_dispute" not in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    ("language", "text", "failure"),
    [
        ("ru", "Интеграция с 1С перестала выгружать накладные с понедельника.", True),
        ("ru", "Личный кабинет не открывается уже второй день.", True),
        ("ru", "Не приходят уведомления о заказах с пятницы.", True),
        ("uk", "Кабінет не відкривається вже другий день.", True),
        ("en", "The dashboard won't load since Monday.", True),
        ("ru", "Офис не работает с понедельника по пятницу?", False),
        ("uk", "Відділення не працює з понеділка до п'ятниці?", False),
    ],
)
def test_something_broken_for_days_is_a_failure_but_opening_hours_are_not(
    language: str, text: str, failure: bool
) -> None:
    """Acceptance: a client with an open case wrote "перестала выгружать накладные с
    понедельника" and nothing was heard (no signal, no news)."""
    found = {s.name for s in detect(text, language=language, opinions={})}

    assert ("service_failure" in found) is failure


@pytest.mark.parametrize(
    ("language", "text", "failure"),
    [
        (
            "ru",
            "Пишу с другого адреса: счёт № 4512 оплачен, не приостанавливайте нам сервис.",
            False,
        ),
        ("ru", "Отвечаю с личной почты, рабочая не открывается у бухгалтера.", False),
        ("uk", "Пишу з іншої адреси: рахунок № 4512 оплачено, не призупиняйте нам сервіс.", False),
        ("ru", "Мне назвали другой адрес офиса, я ездил туда зря.", True),
        (
            "uk",
            "Менеджер запевнив, що інтеграція з Новою Поштою є в тарифі. Оплатили — її немає.",
            True,
        ),
    ],
)
def test_writing_from_another_address_is_no_misinformation(
    language: str, text: str, failure: bool
) -> None:
    """Acceptance: seed 000's CEO wrote "Пишу с другого адреса: …" and the failure notice
    quoted it back as what went wrong ("другого адреса" read as a wrong address given)."""
    found = {s.name for s in detect(text, language=language, opinions={})}

    assert ("service_failure" in found) is failure


# --- round 17 ----------------------------------------------------------------------------

PAYMENT_DETAILS = "payment_details_change"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Добрый день, наши реквизиты изменились, оплачивайте на новый счёт."),
        ("ru", "Уведомляем о смене реквизитов: старый счёт закрыт, новые во вложении."),
        ("ru", "Верните, пожалуйста, деньги на другую карту, старую я заблокировала."),
        ("ru", "Мы сменили банк, платёж по счёту 118 переведите на новые реквизиты."),
        ("uk", "Доброго дня! У нас змінилися реквізити, оплачуйте на новий рахунок."),
        ("uk", "Повідомляємо про зміну банківських реквізитів, оновіть їх у договорі."),
        ("uk", "Поверніть кошти на іншу картку, будь ласка."),
        ("en", "Our bank details have changed, please update your records."),
        ("en", "Please send the refund to this card instead."),
        (
            "en",
            "Kindly pay invoice INV-2024-0042 (18 500 EUR) to our new bank account by "
            "Wednesday, the old account is closed.",
        ),
    ],
)
def test_a_request_to_pay_to_new_bank_details_is_a_payment_details_change(
    language: str, text: str
) -> None:
    """Acceptance: a forged mail from the client's address asked to change bank details and
    went to billing as an ordinary follow-up; security was never told."""
    (found,) = [
        s for s in detect(text, language=language, opinions={}) if s.name == PAYMENT_DETAILS
    ]

    assert found.score >= 0.5
    for piece in found.evidence:  # the client's own words, and the entry that fired
        assert text[piece.start : piece.end] == piece.text
        assert piece.rule.startswith(f"{language}.pay.")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Просим выставить счёт на продление, реквизиты не изменились."),
        ("ru", "Реквизиты прежние, оплата как обычно до 5-го числа."),
        ("ru", "Мы не меняли реквизиты, это письмо не от нас."),
        ("ru", "Подскажите ваши реквизиты для оплаты по безналу."),
        ("ru", "Если реквизиты изменятся, мы сразу сообщим."),
        ("ru", "В счёте изменилась сумма, поясните, пожалуйста."),
        ("uk", "Реквізити не змінилися, рахунок виставте як завжди."),
        ("uk", "Нові реквізити компанії: нова адреса офісу, банківський рахунок той самий."),
        ("uk", "Підкажіть реквізити для оплати навчання."),
        ("en", "Our bank details have not changed, please invoice as usual."),
        ("en", "We never changed our bank details, this email is not from us."),
        ("en", "Could you send me your bank details for the transfer?"),
        ("en", "If our bank details ever change we will let you know in writing."),
        ("en", "Please confirm that our direct debit can be transferred to the new account."),
    ],
)
def test_unchanged_or_asked_for_details_are_no_payment_details_change(
    language: str, text: str
) -> None:
    assert PAYMENT_DETAILS not in {s.name for s in detect(text, language=language, opinions={})}


def test_payment_details_file_quality_floor(capsys: pytest.CaptureFixture[str]) -> None:
    """classify-train15: requests to change bank details and their look-alikes (unchanged,
    asked for, conditional details), 8 a language. Measured in round 17: 12 / 0 / 0."""
    report = _report(TRAIN15)
    with capsys.disabled():
        print("\n" + report.table())

    assert min(_languages(TRAIN15).values()) >= 8, "ru, uk, en alike"
    counts = report.per_signal[PAYMENT_DETAILS]
    assert counts.tp + counts.fn >= 12
    assert counts.fp == 0
    assert counts.recall >= 0.9


def test_a_payment_details_change_raises_no_failure_or_churn_of_its_own() -> None:
    """ "Старый счёт закрыт" is the client's old bank account, not an old invoice sent by
    mistake (misinformation) nor the client leaving."""
    text = "Уведомляем о смене реквизитов: старый счёт закрыт, платежи направляйте на другой счёт."

    assert {s.name for s in detect(text, language="ru", opinions={})} == {PAYMENT_DETAILS}


def test_the_opinion_has_no_column_for_a_payment_details_change() -> None:
    """The lexicon alone decides it: the model is not trained for it (LEXICON_ONLY)."""
    from services.escalator.detection.lexicon import LEXICON_ONLY
    from services.escalator.detection.statistical import opinions

    assert PAYMENT_DETAILS in LEXICON_ONLY
    assert PAYMENT_DETAILS not in opinions()
    text = "Просим выставить счёт на продление подписки на год, реквизиты не изменились, спасибо."
    assert PAYMENT_DETAILS not in {s.name for s in detect(text, language="ru")}


@pytest.mark.parametrize(
    "text",
    [
        "We are thinking of moving to another provider.",
        "Another provider offered us a better price.",
    ],
)
def test_another_providers_offer_is_churn_not_a_freebie_demand(text: str) -> None:
    """Acceptance: a client weighing a competitor was read as demanding something free."""
    found = {s.name for s in detect(text, language="en", opinions={})}

    assert "freebie_demand" not in found
    assert "churn_risk" in found


def test_another_provider_giving_it_for_free_is_still_a_freebie_demand() -> None:
    found = {s.name for s in detect("Another provider does this for free, so should you.")}

    assert "freebie_demand" in found


@pytest.mark.parametrize(
    ("language", "text", "failure"),
    [
        ("ru", "Контент за 400 долларов пропал.", True),
        ("ru", "Всё исчезло из личного кабинета.", True),
        ("uk", "Все зникло з кабінету.", True),
        ("uk", "Контент за 400 доларів зник.", True),
        ("en", "The content I paid $400 for has vanished.", True),
        ("en", "Everything vanished from my dashboard overnight.", True),
        ("ru", "Ничего из кабинета не пропало, всё на месте.", False),
        ("uk", "З кабінету нічого не зникло, дякую.", False),
    ],
)
def test_what_the_client_paid_for_or_had_vanishing_is_a_failure(
    language: str, text: str, failure: bool
) -> None:
    """Acceptance: paid content and a whole dashboard vanishing raised no failure notice."""
    found = {s.name for s in detect(text, language=language, opinions={})}

    assert ("service_failure" in found) is failure


# --- round 18 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "failure"),
    [
        ("en", "CSV export returns an empty file.", True),
        ("en", "The monthly report is still blank after the update.", True),
        ("ru", "Экспорт в CSV выдаёт пустой файл.", True),
        ("ru", "Выгрузка приходит пустая.", True),
        ("uk", "Експорт у CSV повертає порожній файл.", True),
        ("uk", "Звіт приходить порожній.", True),
        ("en", "Could you check why the weekly report is empty? No rush.", False),
        ("ru", "Я случайно отправил вам пустой файл.", False),
        ("uk", "Надсилаю порожній шаблон звіту для заповнення.", False),
    ],
)
def test_an_export_that_comes_out_empty_is_a_failure(
    language: str, text: str, failure: bool
) -> None:
    """Acceptance (Miller): "CSV export returns an empty file" raised nothing."""
    found = {s.name for s in detect(text, language=language, opinions={})}

    assert ("service_failure" in found) is failure


# Round 20: a probe of the four seeds' situations as clients write them (typos, no
# punctuation, transliteration), ru/uk/en; the ones the lexicon finds, so none is lost again.
# Left out (docs/detection.md, round 20): what needs context the text does not give.
ROUND_20_PROBES: dict[tuple[str, str], dict[str, list[str]]] = {
    ("000.paid_dunned", "billing_dispute"): {
        "ru": [
            "Счёт № 4512 оплачен, не отключайте нас",
            "мы вчера оплатили счет а сегодня пришло письмо что аккаунт заблокируют за неуплату",
            "Здравствуйте. Оплатили еще в пятницу, платежка у менеджера. Почему вы пишете про "
            "задолженность?",
            "оплата прошла 12го, а вы нам шлёте уведомление о приостановке. разберитесь",
            "Деньги ушли вчера, а сегодня от вас письмо что у нас долг и доступ отключат в "
            "понедельник",
            "какой долг?? мы все оплатили! платежное поручение во вложении",
            "Нам пришло уведомление о просрочке, хотя счёт оплачен ещё 3 дня назад",
        ],
        "uk": [
            "Рахунок № 4512 оплачено, не відключайте нас",
            "ми вчора оплатили рахунок а сьогодні лист що акаунт заблокують за несплату",
            "Добрий день. Оплатили ще в пʼятницю, платіжка у менеджера. Чому ви пишете про "
            "заборгованість?",
            "оплата пройшла 12го, а ви нам надсилаєте повідомлення про призупинення. розберіться",
            "Гроші пішли вчора, а сьогодні від вас лист що в нас борг і доступ вимкнуть у "
            "понеділок",
            "який борг?? ми все оплатили! платіжне доручення у вкладенні",
            "Нам прийшло повідомлення про прострочення, хоча рахунок оплачений ще 3 дні тому",
            "У нас немає жодної заборгованості, рахунок сплачено в пʼятницю, скасуйте блокування",
        ],
        "en": [
            "Invoice 4512 is paid, do not suspend us",
            "we paid the invoice yesterday and today we get an email saying our account will be "
            "suspended for non payment",
            "Hi, we paid on Friday, the payment order is with our manager. Why are you writing "
            "about an overdue balance?",
            "payment went through on the 12th and you're sending us a suspension notice. sort it "
            "out",
            "The money left our account yesterday and now you say we owe you and access will be "
            "cut on Monday",
            "what debt?? we paid everything! remittance attached",
            "Got an overdue notice although the invoice was paid 3 days ago",
            "We have no outstanding balance, the invoice was settled on Friday, please lift the "
            "suspension",
        ],
    },
    ("000.other_address", "billing_dispute"): {
        "ru": [
            "Пишу с личной почты. Счет 4512 мы оплатили в пятницу, а вы угрожаете отключением",
            "пишу с другого адреса, рабочий не пускает. мы оплатили, почему нам пишут о блокировке",
            "Это наш директор пишет со своего ящика: оплата прошла, не блокируйте аккаунт",
            "Пишу с гмейла, не с корпоративной. Оплачено вчера, а пришло уведомление о долге",
            "С другого email пишу, вы на тот не отвечаете. Мы заплатили, уберите просрочку",
            "Отвечаю с личного адреса. Платёж провели в пятницу, а вы пишете что доступ "
            "приостановлен",
        ],
        "uk": [
            "Пишу з особистої пошти. Рахунок 4512 ми оплатили в пʼятницю, а ви погрожуєте "
            "відключенням",
            "пишу з іншої адреси, робоча не пускає. ми оплатили, чому нам пишуть про блокування",
            "Це наш директор пише зі своєї скриньки: оплата пройшла, не блокуйте акаунт",
            "Пишу з гмейлу, не з корпоративної. Оплачено вчора, а прийшло повідомлення про борг",
            "З іншого email пишу, ви на той не відповідаєте. Ми заплатили, приберіть прострочення",
            "Відповідаю з особистої адреси. Платіж провели в пʼятницю, а ви пишете що доступ "
            "призупинено",
        ],
        "en": [
            "Writing from my personal email. We paid invoice 4512 on Friday and you threaten to "
            "suspend us",
            "writing from another address, my work one is locked. we paid, why are we getting "
            "suspension emails",
            "This is our CEO writing from his own mailbox: the payment went through, do not "
            "block the account",
            "Sending this from gmail not the corporate one. Paid yesterday, and we got a debt "
            "notice",
            "Using a different email since you ignore the other one. We paid, remove the overdue "
            "status",
            "Replying from my private address. We made the payment Friday and you say access is "
            "suspended",
        ],
    },
    ("000.ceo", "billing_dispute"): {
        "ru": [
            "Я генеральный директор ООО «Вектор». Мы оплатили счёт в пятницу, а сегодня нас "
            "грозят отключить",
            "я CEO компании Ромашка, оплата прошла, почему у нас висит долг",
            "Пишет вам директор компании. Счет оплачен, платежка у вашего менеджера, а вы шлете "
            "требование погасить задолженность",
            "Я владелец бизнеса, у вас 5 лет. Заплатили вовремя, а вы нас блокируете",
            "Генеральный директор на связи. Мы все оплатили, отмените приостановку",
            "Я директор, и я вам говорю: счет оплачен, не отключайте сервис",
        ],
        "uk": [
            "Я генеральний директор ТОВ «Вектор». Ми оплатили рахунок у пʼятницю, а сьогодні нам "
            "погрожують відключенням",
            "я CEO компанії Ромашка, оплата пройшла, чому в нас висить борг",
            "Пише вам директор компанії. Рахунок оплачено, платіжка у вашого менеджера, а ви "
            "надсилаєте вимогу погасити заборгованість",
            "Я власник бізнесу, з вами 5 років. Заплатили вчасно, а ви нас блокуєте",
            "Генеральний директор на звʼязку. Ми все оплатили, скасуйте призупинення",
            "Я директор, і я вам кажу: рахунок оплачено, не відключайте сервіс",
        ],
        "en": [
            "I am the CEO of Vector Ltd. We paid the invoice on Friday and today you threaten to "
            "cut us off",
            "im the ceo of Romashka, payment went through, why do we still show a debt",
            "This is the company director. The invoice is paid, the proof is with your account "
            "manager, yet you send a demand to settle the debt",
            "I own the business, been with you 5 years. We paid on time and you are blocking us",
            "CEO here. We paid everything, cancel the suspension",
            "I'm the managing director and I'm telling you the invoice is paid, do not "
            "disconnect us",
        ],
    },
    ("000.unanswered", "service_failure"): {
        "ru": [
            "Третий день без ответа. Вы вообще читаете почту?",
            "я пишу вам уже неделю и никто не отвечает",
            "Почему на мои письма никто не отвечает уже два дня?",
            "вы отказываетесь отвечать потому что адрес не из базы?? серьезно?",
            "Написал в пятницу, сегодня среда, ответа ноль",
            "уже 5 писем отправил и тишина",
            "Ваша поддержка игнорирует нас с субботы",
        ],
        "uk": [
            "Третій день без відповіді. Ви взагалі читаєте пошту?",
            "я пишу вам вже тиждень і ніхто не відповідає",
            "Чому на мої листи ніхто не відповідає вже два дні?",
            "ви відмовляєтесь відповідати бо адреса не з бази?? серйозно?",
            "Написав у пʼятницю, сьогодні середа, відповіді нуль",
            "вже 5 листів відправив і тиша",
            "Ваша підтримка ігнорує нас із суботи",
        ],
        "en": [
            "Third day without a reply. Does anyone read your email?",
            "ive been writing to you for a week and nobody answers",
            "Why has nobody replied to my emails for two days?",
            "you refuse to answer because my address isn't in your database?? seriously?",
            "Wrote on Friday, it's Wednesday, zero response",
            "sent 5 emails already and silence",
            "Your support has been ignoring us since Saturday",
        ],
    },
    ("001.broken_promise", "service_failure"): {
        "ru": [
            "Вы обещали передать баг разработчикам, прошел месяц и ничего",
            "мне обещали перезвонить в понедельник, никто так и не позвонил",
            "обещали исправить до конца недели. неделя прошла. ничего не исправлено",
            "Менеджер обещал вернуть деньги за три дня, прошло две недели",
            "вы же гарантировали что доставка будет в пятницу, где заказ?",
            "Срок сдачи сорвали, хотя клялись что успеете",
            "Ваш специалист обещал прийти с 10 до 12, так и не пришел",
        ],
        "uk": [
            "Ви обіцяли передати баг розробникам, минув місяць і нічого",
            "мені обіцяли передзвонити в понеділок, ніхто так і не подзвонив",
            "обіцяли виправити до кінця тижня. тиждень минув. нічого не виправлено",
            "Менеджер обіцяв повернути гроші за три дні, минуло два тижні",
            "ви ж гарантували що доставка буде в пʼятницю, де замовлення?",
            "Термін здачі зірвали, хоча клялися що встигнете",
            "Ваш спеціаліст обіцяв прийти з 10 до 12, так і не прийшов",
        ],
        "en": [
            "You promised to pass the bug to the developers, a month later nothing",
            "i was promised a call back on monday, nobody ever called",
            "promised to fix it by end of week. week is over. nothing fixed",
            "Your manager promised a refund within three days, it's been two weeks",
            "you guaranteed delivery on friday, where is my order?",
            "You missed the deadline even though you swore you'd make it",
            "Your technician promised to come between 10 and 12 and never showed up",
        ],
    },
    ("001.misinformation", "service_failure"): {
        "ru": [
            "Ваш оператор сказал что тариф стоит 500 р, а списали 900",
            "мне сказали что выгрузка в эксель есть, купил - а ее нет",
            "На сайте написано работаете до 21, приехал в 8 вечера - закрыто",
            "Консультант уверял что функция входит в базовый тариф, оказывается за отдельную плату",
            "Вы мне назвали неправильную цену, теперь в счёте другая сумма",
            "мне дали неверную информацию о сроках доставки",
            "Ваш менеджер ввёл меня в заблуждение насчёт условий возврата",
        ],
        "uk": [
            "Ваш оператор сказав що тариф коштує 500 грн, а списали 900",
            "мені сказали що вивантаження в ексель є, купив - а його немає",
            "На сайті написано працюєте до 21, приїхав о 8 вечора - зачинено",
            "Консультант запевняв що функція входить у базовий тариф, виявляється за окрему плату",
            "Ви мені назвали неправильну ціну, тепер у рахунку інша сума",
            "мені дали невірну інформацію про терміни доставки",
            "Ваш менеджер увів мене в оману щодо умов повернення",
        ],
        "en": [
            "Your website says you're open until 9pm, came at 8 and it was closed",
            "The rep assured me the feature was in the basic plan, turns out it's extra",
            "support told me the integration works, it doesn't even exist",
            "You quoted me the wrong price and now the invoice shows a different amount",
            "I was given wrong information about delivery times",
            "Your manager misled me about the return conditions",
        ],
    },
    ("001.fed_up", "service_failure"): {
        "ru": [
            "я устал от ваших постоянных сбоев",
            "Сначала потеряли заказ, потом привезли не тот, теперь еще и деньги не вернули",
            "каждую неделю что-то ломается, сколько можно",
            "Это уже не смешно: третий сбой за месяц и ни одного объяснения",
            "У вас вечно что-то не работает. Терпение кончилось",
            "достали ваши баги, каждый день новый",
        ],
        "uk": [
            "я втомився від ваших постійних збоїв",
            "Спочатку загубили замовлення, потім привезли не те, тепер ще й гроші не повернули",
            "щотижня щось ламається, скільки можна",
            "Це вже не смішно: третій збій за місяць і жодного пояснення",
            "У вас вічно щось не працює. Терпець урвався",
            "дістали ваші баги, щодня новий",
        ],
        "en": [
            "Fed up. Either the site is down or the invoices are wrong or support is silent",
            "im tired of your constant outages",
            "First you lost the order, then delivered the wrong one, now no refund either",
            "something breaks every single week, enough",
            "This is not funny anymore: third outage this month and not one explanation",
            "Something is always broken with you. I've run out of patience",
            "sick of your bugs, a new one every day",
        ],
    },
    ("001.third_time", "service_failure"): {
        "ru": [
            "Пишу уже третий раз по одной и той же проблеме",
            "в третий раз прошу исправить ошибку в счете",
            "Это уже третий раз когда вы срываете доставку",
            "опять та же ошибка, уже 4й раз за месяц",
            "Снова не работает оплата картой. Снова!",
            "Который раз обращаюсь, а воз и ныне там",
            "Третий раз привозите не тот товар",
            "уже в пятый раз слетают настройки после вашего обновления",
        ],
        "uk": [
            "Це вже третій раз коли ви зриваєте доставку",
            "знову та сама помилка, вже 4й раз за місяць",
            "Знову не працює оплата карткою. Знову!",
            "Вкотре звертаюся, а віз і нині там",
            "вже вп'яте злітають налаштування після вашого оновлення",
        ],
        "en": [
            "This is the third time I'm writing about the same problem",
            "third time asking you to fix the error on my invoice",
            "That's the third time you've missed the delivery",
            "same error again, 4th time this month",
            "Card payments are broken again. AGAIN!",
            "How many times do I have to contact you about this",
            "Third time you've delivered the wrong item",
            "fifth time my settings got wiped after your update",
        ],
    },
    ("002.swearing", "abuse"): {
        "ru": [
            "вы там совсем охренели? где мой заказ бл*ть",
            "что за хрень опять с вашим сайтом, нахрен такой сервис",
            "Да пошли вы нах со своей поддержкой",
            "ебаный цирк а не компания",
            "п****ц какой-то, третий день не могу войти",
            "suka kogda uzhe zarabotaet",
            "Задолбали уже, х*ли вы молчите",
            "ну вы и уроды конечно",
        ],
        "uk": [
            "ви там зовсім охрініли? де моє замовлення бл*ть",
            "що за хрінь знову з вашим сайтом, нахрін такий сервіс",
            "Та йдіть ви нах зі своєю підтримкою",
            "йобаний цирк а не компанія",
            "п****ць якийсь, третій день не можу увійти",
            "курва коли вже запрацює",
            "Задовбали вже, х*лі ви мовчите",
            "ну ви і виродки звісно",
        ],
        "en": [
            "where the f*ck is my order",
            "what the hell is wrong with your stupid site, this is bullsh*t",
            "screw you and your useless support",
            "you f***ing idiots charged me twice",
            "wtf is this shit",
            "go to hell all of you",
            "damn morons cant even answer an email",
            "you're a bunch of clowns",
        ],
    },
    ("002.rudeness", "abuse"): {
        "ru": [
            "Вы там все тупые или только вы?",
            "у вас в поддержке одни бездари работают",
            "с такими криворукими специалистами только на рынке торговать",
            "Заткнитесь и делайте свою работу",
            "безмозглые вы мои, научитесь уже читать",
            "Ваш менеджер - некомпетентный хам",
            "вы просто стадо баранов",
        ],
        "uk": [
            "Ви там всі тупі чи тільки ви?",
            "у вас у підтримці самі бездари працюють",
            "з такими криворукими спеціалістами тільки на базарі торгувати",
            "Замовкніть і робіть свою роботу",
            "безмозкі ви мої, навчіться вже читати",
            "Ваш менеджер - некомпетентний хам",
            "ви просто стадо баранів",
        ],
        "en": [
            "Are you all stupid or is it just you?",
            "your support is staffed by incompetent fools",
            "shut up and do your job",
            "brainless people, learn to read",
            "Your manager is an incompetent and rude clown",
            "you're a herd of sheep",
            "what a pathetic excuse for a company",
        ],
    },
    ("002.legal", "legal_threat"): {
        "ru": [
            "Подам на вас в суд",
            "пишу жалобу в роспотребнадзор",
            "Если до пятницы не вернёте деньги, иду в прокуратуру",
            "с вами будет разговаривать мой юрист",
            "увидимся в суде",
            "Напишу заявление в полицию о мошенничестве",
            "готовлю досудебную претензию",
            "podam v sud na vas",
        ],
        "uk": [
            "Подам на вас до суду",
            "пишу скаргу в Держспоживслужбу",
            "Якщо до пʼятниці не повернете гроші, йду в прокуратуру",
            "з вами буде розмовляти мій юрист",
            "побачимося в суді",
            "Напишу заяву в поліцію про шахрайство",
            "готую досудову претензію",
        ],
        "en": [
            "I will sue you",
            "filing a complaint with the consumer protection agency",
            "If you don't refund me by Friday I'm going to the police",
            "my lawyer will be in touch",
            "see you in court",
            "I'll report you to the FTC",
            "preparing a formal letter before action",
            "reporting you to the BBB and the attorney general",
        ],
    },
    ("002.connections", "legal_threat"): {
        "ru": [
            "У меня связи в прокуратуре, вам это так не пройдет",
        ],
        "uk": [
            "У мене звʼязки в прокуратурі, вам це так не минеться",
        ],
        "en": [],
    },
    ("002.flirt", "harassment"): {
        "ru": [
            "Анна, у вас такой приятный голос, может кофе после работы?",
            "нашел вас в инстаграме, вы там красотка)",
            "Дайте ваш личный номер, хочу общаться не только по работе",
            "а вы замужем? 😍",
            "Скиньте свой телеграм, напишу вечером",
            "давайте встретимся вечером, я угощаю",
            "Вы очень красивая на фото в профиле",
            "во сколько заканчиваешь? подвезу",
        ],
        "uk": [
            "Анно, у вас такий приємний голос, може кава після роботи?",
            "знайшов вас в інстаграмі, ви там красуня)",
            "Дайте ваш особистий номер, хочу спілкуватися не лише по роботі",
            "а ви заміжня? 😍",
            "Скиньте свій телеграм, напишу ввечері",
            "давайте зустрінемося ввечері, я пригощаю",
            "Ви дуже гарна на фото в профілі",
            "о котрій закінчуєш? підвезу",
        ],
        "en": [
            "Anna, you have such a lovely voice, coffee after work?",
            "found you on instagram, you look gorgeous",
            "Give me your personal number, I'd like to chat about more than work",
            "are you single? 😍",
            "send me your telegram, i'll text you tonight",
            "You look beautiful in your profile picture",
            "what time do you finish? i'll give you a ride",
        ],
    },
    ("002.freebie", "freebie_demand"): {
        "ru": [
            "Другой менеджер делал нам это бесплатно",
            "прошлый менеджер всегда включал доставку бесплатно, а вы что",
            "Раньше нам настраивали интеграцию без доплаты, почему сейчас платно?",
            "ваша коллега Ольга в прошлый раз сделала скидку 30%, сделайте так же",
            "другим клиентам вы даёте это бесплатно, а нам нет?",
        ],
        "uk": [
            "Інший менеджер робив нам це безкоштовно",
            "попередній менеджер завжди вмикав доставку безкоштовно, а ви що",
            "Раніше нам налаштовували інтеграцію без доплати, чому зараз платно?",
            "ваша колега Ольга минулого разу зробила знижку 30%, зробіть так само",
            "іншим клієнтам ви даєте це безкоштовно, а нам ні?",
        ],
        "en": [
            "Another manager did this for us for free",
            "the previous manager always threw in free delivery, what's wrong with you",
            "You used to set up the integration at no charge, why is it paid now?",
            "you give this to other clients for free and not to us?",
        ],
    },
    ("002.panic", "panic"): {
        "ru": [
            "ПОМОГИТЕ!!! всё пропало с сайта",
            "у меня паника, ничего не работает, клиенты звонят",
            "срочно срочно срочно сайт лежит мы теряем деньги",
            "я не знаю что делать, все заказы исчезли",
            "Спасите, касса не пробивает, очередь до двери",
            "мне страшно, с карты списали все деньги",
            "караул, база удалилась!!!",
            "умоляю помогите, завтра запуск, а ничего не грузится",
        ],
        "uk": [
            "ДОПОМОЖІТЬ!!! все зникло з сайту",
            "у мене паніка, нічого не працює, клієнти дзвонять",
            "терміново терміново терміново сайт лежить ми втрачаємо гроші",
            "я не знаю що робити, всі замовлення зникли",
            "Рятуйте, каса не пробиває, черга до дверей",
            "мені страшно, з картки списали всі гроші",
            "рятуйте, база видалилась!!!",
            "благаю допоможіть, завтра запуск, а нічого не вантажиться",
        ],
        "en": [
            "HELP!!! everything is gone from the site",
            "im panicking, nothing works, customers are calling",
            "urgent urgent urgent site is down we are losing money",
            "i dont know what to do, all the orders disappeared",
            "Please help, the till won't print, queue to the door, I'm freaking out",
            "i'm scared, all the money was taken from my card",
            "sos the database got deleted!!!",
            "begging you please help, launch is tomorrow and nothing loads",
        ],
    },
    ("003.insult_refund", "abuse+compensation_demand"): {
        "ru": [
            "Вы мошенники и дебилы, верните деньги за подписку",
            "идиоты, верните мои 400 долларов",
            "Требую возврат, бездари криворукие",
            "ворюги, деньги назад немедленно",
            "верните бабки уроды",
            "Компенсируйте мне всё, тупые клоуны",
        ],
        "uk": [
            "Ви шахраї і дебіли, поверніть гроші за підписку",
            "ідіоти, поверніть мої 400 доларів",
            "Вимагаю повернення, бездарі криворукі",
            "злодії, гроші назад негайно",
            "поверніть бабки виродки",
            "Компенсуйте мені все, тупі клоуни",
        ],
        "en": [
            "You scammers and morons, refund my subscription",
            "idiots, give me back my 400 dollars",
            "I demand a refund, you incompetent clowns",
            "thieves, money back now",
            "refund me you useless idiots",
            "Compensate me for everything, stupid clowns",
        ],
    },
    ("003.smear", "reputation_threat"): {
        "ru": [
            "Ославлю вас во всех SMM сообществах",
            "я распишу во всех пабликах какие вы мошенники",
            "Напишу отзывы везде где только можно",
            "вся сеть узнает как вы работаете",
            "Я вам такую антирекламу устрою",
            "опозорю вас на весь интернет",
            "Буду писать про вас в каждом чате предпринимателей",
            "расскажу в своем блоге, у меня 50к подписчиков",
        ],
        "uk": [
            "Осоромлю вас в усіх SMM спільнотах",
            "я розпишу в усіх пабліках які ви шахраї",
            "Напишу відгуки всюди де тільки можна",
            "вся мережа дізнається як ви працюєте",
            "Я вам таку антирекламу влаштую",
            "зганьблю вас на весь інтернет",
            "Писатиму про вас у кожному чаті підприємців",
            "розповім у своєму блозі, в мене 50к підписників",
        ],
        "en": [
            "I'll smear you in every SMM community",
            "i'll post in every group what scammers you are",
            "I'll leave reviews everywhere I can",
            "the whole internet will know how you work",
            "I'll make sure nobody ever buys from you again",
            "I'll trash you all over the internet",
            "I will write about you in every business chat",
            "going to tell my 50k followers about this",
        ],
    },
    ("003.nightmare", "reputation_threat"): {
        "ru": [
            "Я стану вашим кошмаром",
            "я буду вашим ночным кошмаром, обещаю",
            "я превращу вашу жизнь в ад",
        ],
        "uk": [
            "Я стану вашим кошмаром",
            "я буду вашим нічним жахіттям, обіцяю",
            "я перетворю ваше життя на пекло",
        ],
        "en": [
            "I will become your nightmare",
            "i'll be your worst nightmare, I promise",
            "i'll make your life hell",
            "I'll make your life miserable",
        ],
    },
    ("003.report_platform", "reputation_threat"): {
        "ru": [
            "Пожалуюсь на вас в инстаграм",
            "я вас зарепорчу в инсте, аккаунт снесут",
            "Напишу жалобу в Instagram на ваш аккаунт",
            "сдам вас инстаграму, пусть блокируют",
            "кину жалобу в поддержку фейсбука",
            "Отправлю репорт на вашу страницу, пусть разбираются",
        ],
        "uk": [
            "Поскаржуся на вас в інстаграм",
            "я вас зарепорчу в інсті, акаунт знесуть",
            "Напишу скаргу в Instagram на ваш акаунт",
            "здам вас інстаграму, хай блокують",
            "кину скаргу в підтримку фейсбуку",
            "Надішлю репорт на вашу сторінку, хай розбираються",
        ],
        "en": [
            "I'll report you to Instagram",
            "im reporting your account on insta, they'll take it down",
            "Filing a complaint with Instagram about your page",
            "i'll flag your page to facebook",
            "reporting you to meta support",
            "I'm going to mass report your account",
        ],
    },
}
ROUND_20_NEUTRAL: dict[str, list[str]] = {
    "ru": [
        "Спасибо большое, всё работает!",
        "Сколько стоит тариф Бизнес?",
        "До скольки вы работаете в субботу?",
        "Мы оплатили, спасибо",
        "Счёт оплачен, платёжку прикладываю",
        "Оплатили счет 4512, проверьте пожалуйста поступление",
        "Напоминаю про мой вопрос от вторника, когда будет ответ?",
        "Подскажите, как поменять email в кабинете?",
        "Пишу с личной почты, рабочая временно недоступна. Вопрос по договору",
        "Я генеральный директор ООО Вектор, хотим подключить еще 10 пользователей",
        "Здравствуйте, а есть выгрузка в эксель?",
        "Добрый день, когда будет готов заказ?",
        "Спасибо, что так быстро ответили",
        "Отличный сервис, буду рекомендовать друзьям",
        "Можно перенести доставку на пятницу?",
        "Счёт получили, оплатим до конца недели",
        "Подскажите реквизиты для оплаты",
        "Хотим продлить подписку на год",
        "Подтверждаю, платеж прошел, спасибо",
        "Как подать заявку на возврат товара надлежащего качества?",
        "Мы ещё не оплатили, не отключайте до понедельника пожалуйста",
        "Можно ли отключить автопродление? Мы оплатили подписку",
        "Спасибо Анне за помощь, очень вежливая",
        "Есть ли у вас скидки для постоянных клиентов?",
        "Ваш юрист прислал договор, мы подпишем завтра",
        "Это третий заказ у вас, всё отлично как всегда",
        "Подскажите, во сколько открывается офис?",
        "Прошу выставить счёт на оплату за март",
        "Отправьте пожалуйста закрывающие документы",
        "Напомните пожалуйста, до какого числа действует акция?",
        "Оплату провели, ждём доступ",
        "Можно пообщаться с нашим персональным менеджером?",
        "Зашли в кабинет, всё нашли, спасибо",
        "Будет ли бесплатная доставка на заказ от 5000?",
        "Ответьте пожалуйста, когда будет время, не срочно",
        "Вчера было небольшое замедление, сейчас всё хорошо",
        "Подскажите, как настроить уведомления о задолженности для наших клиентов?",
        "Отличная новость про обновление, спасибо",
        "Я из компании Ромашка, хотим обсудить сотрудничество",
        "Планируем переезд офиса, как перенести подключение?",
        "Оплатили расширенный тариф, снимите ограничение на 5 пользователей",
        "Мы оплатили новый тариф, когда вы отключаете старый?",
        "Оплатили, спасибо. Пришлите пожалуйста акт сверки",
        "Ответ получил, спасибо, вопрос закрыт",
        "У нас постоянный клиент спрашивает про сбой в прошлом году, это уже решено?",
        "Вы не отказываетесь от гарантии, если мы сами поменяем батарею?",
        "Подскажите, как отправить жалобу на фейковую страницу, которая выдаёт себя за вас?",
        "Другим клиентам вы тоже даёте пробный период бесплатно?",
    ],
    "uk": [
        "Дякую велике, все працює!",
        "Скільки коштує тариф Бізнес?",
        "До котрої ви працюєте в суботу?",
        "Ми оплатили, дякуємо",
        "Рахунок оплачено, платіжку додаю",
        "Оплатили рахунок 4512, перевірте будь ласка надходження",
        "Нагадую про моє питання від вівторка, коли буде відповідь?",
        "Підкажіть, як змінити email у кабінеті?",
        "Пишу з особистої пошти, робоча тимчасово недоступна. Питання щодо договору",
        "Я генеральний директор ТОВ Вектор, хочемо підключити ще 10 користувачів",
        "Добрий день, а є вивантаження в ексель?",
        "Добрий день, коли буде готове замовлення?",
        "Дякую, що так швидко відповіли",
        "Чудовий сервіс, рекомендуватиму друзям",
        "Можна перенести доставку на пʼятницю?",
        "Рахунок отримали, оплатимо до кінця тижня",
        "Підкажіть реквізити для оплати",
        "Хочемо продовжити підписку на рік",
        "Підтверджую, платіж пройшов, дякую",
        "Як подати заявку на повернення товару належної якості?",
        "Ми ще не оплатили, не відключайте до понеділка будь ласка",
        "Чи можна вимкнути автопродовження? Ми оплатили підписку",
        "Дякую Анні за допомогу, дуже ввічлива",
        "Чи є у вас знижки для постійних клієнтів?",
        "Ваш юрист надіслав договір, ми підпишемо завтра",
        "Це третє замовлення у вас, все чудово як завжди",
        "Підкажіть, о котрій відкривається офіс?",
        "Прошу виставити рахунок на оплату за березень",
        "Надішліть будь ласка закривальні документи",
        "Нагадайте будь ласка, до якого числа діє акція?",
        "Оплату провели, чекаємо доступ",
        "Можна поспілкуватися з нашим персональним менеджером?",
        "Зайшли в кабінет, все знайшли, дякую",
        "Чи буде безкоштовна доставка на замовлення від 5000?",
        "Відповідайте будь ласка, коли буде час, не терміново",
        "Вчора було невелике сповільнення, зараз все добре",
        "Підкажіть, як налаштувати повідомлення про заборгованість для наших клієнтів?",
        "Чудова новина про оновлення, дякую",
        "Я з компанії Ромашка, хочемо обговорити співпрацю",
        "Плануємо переїзд офісу, як перенести підключення?",
        "Оплатили розширений тариф, зніміть обмеження на 5 користувачів",
        "Ми оплатили новий тариф, коли ви відключаєте старий?",
        "Оплатили, дякуємо. Надішліть будь ласка акт звірки",
        "Відповідь отримав, дякую, питання закрите",
        "Вчетверте замовляємо у вас, все чудово",
        "Наш постійний клієнт питає про збій минулого року, це вже вирішено?",
        "Підкажіть, як надіслати скаргу на фейкову сторінку, яка видає себе за вас?",
        "Купили хрін і гірчицю, дякую за доставку",
        "Весь офіс дізнається про новий тариф завтра на зборах",
    ],
    "en": [
        "Thanks a lot, everything works!",
        "How much is the Business plan?",
        "What time are you open on Saturday?",
        "We paid, thanks",
        "Invoice is paid, remittance attached",
        "We paid invoice 4512, please check it arrived",
        "Just a reminder about my question from Tuesday, when can I expect an answer?",
        "How do I change the email in my account?",
        "I'm the CEO of Vector Ltd, we'd like to add 10 more users",
        "Hi, is there an excel export?",
        "Hello, when will my order be ready?",
        "Thanks for the quick reply",
        "Great service, will recommend you to friends",
        "Can we move the delivery to Friday?",
        "Got the invoice, we'll pay by the end of the week",
        "Could you send the bank details for payment?",
        "We want to renew the subscription for a year",
        "Confirming the payment went through, thank you",
        "How do I request a return for an item I no longer need?",
        "We haven't paid yet, please don't suspend us until Monday",
        "Can I turn off auto renewal? We paid for the subscription",
        "Thanks to Anna for her help, very polite",
        "Do you have discounts for loyal customers?",
        "Your lawyer sent the contract, we'll sign tomorrow",
        "This is our third order with you, great as always",
        "What time does the office open?",
        "Please issue an invoice for March",
        "Please send the closing documents",
        "Remind me please, until when is the promotion valid?",
        "Payment made, waiting for access",
        "Can we talk to our account manager?",
        "Logged in, found everything, thanks",
        "Is delivery free for orders over 50?",
        "Reply whenever you have time, no rush",
        "There was a small slowdown yesterday, all good now",
        "Great news about the update, thanks",
        "I'm from Romashka, we'd like to discuss a partnership",
        "We're moving offices, how do we transfer the connection?",
        "We paid for the upgrade, how do we remove the user limit?",
        "Payment went through, when will the old plan be switched off?",
        "We paid yesterday, please send the reconciliation statement",
        "How many times do I need to enter the code to activate it?",
        "Got your answer, thanks, all sorted",
        "Our developers were ignoring the warnings, our fault, sorry",
        "Do you have a Telegram channel for updates? Your telegram channel link is broken",
        "How do I report a fake account pretending to be your page?",
        "Let's meet this evening to sign the contract at your office",
    ],
}


@pytest.mark.parametrize(
    ("situation", "signals", "language", "text"),
    [
        (situation, signals, language, text)
        for (situation, signals), by_language in ROUND_20_PROBES.items()
        for language, texts in by_language.items()
        for text in texts
    ],
)
def test_round_20_seed_situations_raise_their_signal(
    situation: str, signals: str, language: str, text: str
) -> None:
    found = {s.name for s in detect(text)}

    assert set(signals.split("+")) <= found, (situation, language, found)


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in ROUND_20_NEUTRAL.items() for text in texts],
)
def test_round_20_look_alikes_raise_nothing(language: str, text: str) -> None:
    # Thanks, prices, hours, "we paid, thanks", polite reminders, the CEO or another address
    # with no complaint: each in the words of a probe above.
    assert detect(text) == [], language


# Round 21 (seed 002, "influential acquaintances"): a connection at an authority and a
# consequence threatened, together; an inspection sent on us, alone.
ROUND_21_CONNECTIONS = [
    "У меня связи в прокуратуре, вам это так не пройдет",
    "мой брат работает в полиции, сейчас я ему позвоню",
    "Я знаю людей в налоговой, проверку вам устрою",
    "у меня знакомый в администрации, вас закроют",
    "Вы знаете кто я? Один звонок, и к вам придет проверка",
    "У мене звʼязки в прокуратурі, вам це так не минеться",
    "мій брат працює в поліції, зараз я йому подзвоню",
    "Я знаю людей у податковій, перевірку вам влаштую",
    "у мене знайомий в адміністрації, вас закриють",
    "Ви знаєте хто я? Один дзвінок, і до вас прийде перевірка",
    "I have connections at the prosecutor's office, you won't get away with this",
    "my brother is a cop, i'm calling him right now",
    "I know people at the tax office, I'll get you audited",
    "a friend of mine sits on the city council, you won't get away with this",
    "Do you know who I am? One phone call and you'll have inspectors at your door",
]
ROUND_21_NOT_A_THREAT = [
    "Мой брат работает в полиции, он посоветовал вам написать.",
    "У меня знакомый в администрации района, он рекомендовал ваш сервис.",
    "Один звонок менеджеру решил все вопросы, спасибо!",
    "Подумайте хорошенько над тарифом для нас, пожалуйста.",
    "Мій брат працює в податковій, він радив ваш сервіс.",
    "One call to your support fixed it, thanks!",
    "My friend at the city council recommended you.",
    "Please think carefully about the new pricing, we are a small NGO.",
    "Вы знаете, кто я? Я ваш клиент с 2015 года, Иванов.",
    "do you know who I am? your client since 2019, please check",
    # A review's finds: two consequence phrases, or a connection and "think twice", are none.
    "Please think carefully about the pricing. One call from your sales would have fixed this.",
    "Когда будет проверка платежа? Подумайте хорошенько…",
    "Коли буде перевірка платежу? Один дзвінок менеджеру…",
    "We have two connections in the council who use your product. Think twice about the price.",
    # A second review's: a call that got something done, a connection in another sentence.
    "Our accountant needs one call with you before the audit",
    "Один звонок вашему менеджеру — и проверка платежа прошла, спасибо",
    "Один дзвінок — і перевірку платежу зроблено",
    "My brother works in the police. One call to your support fixed it",
    "My MP recommended you. One call and it was sorted",
]


@pytest.mark.parametrize("text", ROUND_21_CONNECTIONS)
def test_a_threat_through_connections_at_an_authority_is_a_legal_threat(text: str) -> None:
    assert "legal_threat" in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_21_NOT_A_THREAT)
def test_a_connection_or_a_phrase_alone_is_no_legal_threat(text: str) -> None:
    assert "legal_threat" not in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "failure"),
    [
        ("Четвертый раз заказываем у вас, всё отлично", False),
        ("Уже третий раз заказываю у вас, спасибо", False),
        ("Четвертий раз замовляємо у вас, все чудово", False),
        ("Third time ordering from you, great as always", False),
        # Still failures: the nth time something went wrong, or a courier's nth visit.
        ("Третий раз пишу, никто не отвечает", True),
        ("Третий раз заказываю, и опять не привезли", True),
        ("Ваш курьер третий раз приезжает без половины продуктов.", True),
        ("Third time this month the export failed", True),
    ],
)
def test_a_loyal_client_counting_its_orders_reports_no_failure(text: str, failure: bool) -> None:
    assert ("service_failure" in {s.name for s in detect(text)}) is failure


def test_another_manager_did_it_for_free_in_ukrainian_is_a_freebie_demand() -> None:
    """Seed 002 (uk), case 4: «другий менеджер» is how many write "another manager"."""
    text = "Другий менеджер робив це безкоштовно, чому зараз платно?"
    assert "freebie_demand" in {s.name for s in detect(text)}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("word", ["1" * 60_000, "а" * 60_000, "x" * 60_000])
def test_a_long_run_of_one_character_does_not_stall_the_detector(word: str) -> None:
    """A hang guard, not a speed goal: `[0-9]+-?)\\w*` let two parts of one pattern match the
    same digits, so the time grew with the square of a run (25 s for 60,000 digits in a
    log a client pasted, beside «третий сбой за месяц»); intake accepts 900 kB."""
    for text in (f"Третий сбой за месяц. Лог: {word} сбой", f"Третій день без світла {word}"):
        assert "service_failure" in {s.name for s in detect(text)}


@pytest.mark.timeout(10)
def test_only_the_first_characters_of_a_huge_message_are_read() -> None:
    """A hang guard, not a speed goal: 450 kB of pasted text took 13 s (the escalator's
    batch held past its ack wait at 900 kB); the detector reads the first DETECTION_CHARS."""
    head = "Экспорт не работает третий день. "
    filler = "люди в полиции " * 30_000
    found = detect(head + filler + " Я подам на вас в суд.")
    assert "service_failure" in {s.name for s in found}
    assert "legal_threat" not in {s.name for s in found}  # beyond what is read
    (failure,) = [s for s in found if s.name == "service_failure"]
    assert all(e.end <= DETECTION_CHARS for e in failure.evidence)


@pytest.mark.parametrize(
    ("text", "signal", "fires"),
    [
        ("Купили хрен и горчицу, спасибо за доставку", "abuse", False),
        ("Хрен со сметаной пришёл свежий", "abuse", False),
        ("хрен вам, а не оплата", "abuse", True),
        ("какого хрена вы списали деньги", "abuse", True),
        (
            "Can you set up overdue payment reminders for our own customers?",
            "billing_dispute",
            False,
        ),
        (
            "Invoice 4512 is paid, yet you keep sending us overdue reminders",
            "billing_dispute",
            True,
        ),
    ],
)
def test_horseradish_and_a_clients_own_reminders_are_what_they_say(
    text: str, signal: str, fires: bool
) -> None:
    """Round 22: two false alarms round 20's probe saw and left."""
    assert (signal in {s.name for s in detect(text)}) is fires


# Round 23: the seeds' situations in surzhyk and in transliteration (Latin letters, read
# back in Cyrillic, detection/translit.py); the ones found, so none is lost again.
ROUND_23_PROBES: dict[tuple[str, str], dict[str, list[str]]] = {
    ("000.paid_dunned", "billing_dispute"): {
        "surzhyk": [
            "ми заплатили ще в пятницу, а вы шлёте письма шо у нас борг",
            "оплата пройшла, платіжка в менеджера, а вы угрожаете отключить доступ",
            "шо за борг? мы всё оплатили ще в четвер",
            "рахунок оплачено, не отключайте нас пожалуйста",
        ],
        "translit": [
            "oplatili vchera a vy otklyuchili",
            "my uzhe oplatili schet, pochemu vy pishete pro zadolzhennost?",
            "ya vzhe oplatyv rakhunok, a vy blokuyete akaunt",
            "schet oplachen, ne otklyuchayte nas",
            "zaplatili v pyatnicu, a segodnya pismo chto dostup zablokiruyut za neoplatu",
        ],
    },
    ("000.no_answer", "service_failure"): {
        "surzhyk": [
            "пишу з іншої адреси, бо ви отказываетесь отвечать",
            "третий день без відповіді, це нормально?",
            "ваша підтримка відмовляється відповідати, бо адреси нема в базі",
        ],
        "translit": [
            "tretiy den bez otveta",
            "vy ignoriruete nashi pisma s subboty",
            "podderzhka otkazyvaetsya otvechat",
        ],
    },
    ("001.broken_promise", "service_failure"): {
        "surzhyk": [
            "обіцяли виправити до пятниці, а воно досі не работает",
            "вы ж обещали перезвонить, і тиша",
            "менеджер пообіцяв шо передасть розробникам, а нічого не зроблено",
            "гарантували доставку до 15-го, а вже 20-е і нічого",
            "обещали що все буде готово в понеділок, і де?",
        ],
        "translit": [
            "obeshchali ispravit do pyatnitsy, a nichego ne sdelano",
            "vy obeshchali perezvonit i tishina",
            "obitsyaly vypravyty shche tyzhden tomu i nichoho",
            "menedzher obeshchal peredat razrabotchikam, do sikh por ne rabotaet",
            "vy garantirovali chto vse budet gotovo k ponedelniku, i nichego",
        ],
    },
    ("001.misinformation", "service_failure"): {
        "surzhyk": [
            "ваш менеджер сказав шо тариф коштує 500, а списали 900",
            "мне сказали шо ця функція є, а її нема",
            "ввели мене в оману, обещали безлимит",
            "ви дали неправильну информацию про ціну",
        ],
        "translit": [
            "mne skazali chto tarif stoit 500, a spisali 900",
            "vy menya vveli v zabluzhdenie",
            "nam skazali chto eta funktsiya est, a ee net",
            "vash menedzher dal nevernuyu informatsiyu",
        ],
    },
    ("001.fed_up", "service_failure"): {
        "surzhyk": [
            "шо за бардак, третій раз пишу",
            "вже вкотре одне й те саме, задолбали ваши баги",
            "кожного тижня щось ламається, достали",
        ],
        "translit": [
            "pishu uzhe tretiy raz, nikto ne otvechaet",
            "opyat vse slomalos, skolko mozhno",
            "tretiy sboy za mesyats",
            "dostali vashi bagi, kazhduyu nedelyu chto-to lomaetsya",
        ],
    },
    ("002.swearing", "abuse"): {
        "surzhyk": [
            "шо за хуйня, знову не працює",
            "вы там совсем охуели? третій день без зв'язку",
            "блять, знову все впало",
            "ви шо, дебіли? я ж вам писал",
            "какого хрена ви списали гроші",
        ],
        "translit": [
            "chto za khuynya, opyat ne rabotaet",
            "vy tam sovsem okhueli?",
            "blyat, skolko mozhno",
            "vy debily tam vse",
            "idi nakhuy so svoey podderzhkoy",
        ],
    },
    ("002.court", "legal_threat"): {
        "surzhyk": [
            "піду до суду, если не вернете деньги",
            "подам на вас в суд, мені вже все одно",
            "буду судитися з вами",
            "мой юрист вже готує позов",
            "побачимось в суді",
        ],
        "translit": [
            "pidu do sudu",
            "podam na vas v sud",
            "ya podam isk",
            "budu suditsya s vami",
            "pobachymos v sudi",
            "podam do sudu na vas",
        ],
    },
    ("002.regulator", "legal_threat"): {
        "surzhyk": [
            "напишу жалобу в Держспоживслужбу",
            "звернуся до прокуратури, хай розбираются",
            "я вже пишу заяву в поліцію",
            "буду жаловаться в антимонопольний комітет",
        ],
        "translit": [
            "napishu zhalobu v rospotrebnadzor",
            "obrashchus v prokuraturu",
            "zvernusya do prokuratury",
            "napyshu skarhu v derzhspozhyvsluzhbu",
        ],
    },
    ("002.flirting", "harassment"): {
        "surzhyk": [
            "ви така гарна на аватарці, дайте свій номер",
            "можна вас пригласить на свидание?",
            "я знайшов вас в інстаграмі, ви красуня",
            "давай встретимся после работы, зайка",
        ],
        "translit": [
            "dayte vash nomer, krasavitsa",
            "ty takaya krasivaya na foto",
            "mozhno vas priglasit na svidanie?",
            "nashel vas v instagrame, vy ochen milaya",
        ],
    },
    ("002.other_manager_free", "freebie_demand"): {
        "surzhyk": [
            "другий менеджер зробив це безкоштовно, а вы хотите денег",
            "раньше мені це робили бесплатно",
            "ваш колега робив це безплатно, чому тепер платно?",
        ],
        "translit": [
            "drugoy menedzher sdelal eto besplatno",
            "ranshe eto delali besplatno, pochemu seychas platno?",
            "inshyi menedzher robyv tse bezkoshtovno",
            "drugim klientam vy daete eto besplatno",
        ],
    },
    ("002.panic", "panic"): {
        "surzhyk": [
            "СРОЧНО!!! все зникло з кабінету, шо робити???",
            "допоможіть будь ласка, все пропало, я в панике",
            "горить, завтра здача, а сайт не работает, рятуйте",
            "я не знаю шо делать, все заказы пропали",
            "терміново!!! клієнти не можуть оплатити, ми теряем деньги",
        ],
        "translit": [
            "SROCHNO pomogite vse propalo",
            "chto delat?? vse dannye ischezli",
            "dopomozhit terminovo, vse znyklo",
            "ya v panike, sayt ne rabotaet a zavtra zapusk",
        ],
    },
    ("003.insults", "abuse"): {
        "surzhyk": [
            "ви некомпетентні ідіоти, верніть гроші",
            "ваша підтримка - стадо баранов",
            "ну ви і придурки",
            "тупі бездарі, нічого не можете",
            "клоуны, а не підтримка",
        ],
        "translit": [
            "vy nekompetentnye idioty",
            "tupye bezdari",
            "vy kontora klounov",
            "vy prosto pridurki",
        ],
    },
    ("003.refund", "compensation_demand"): {
        "surzhyk": [
            "хочу повернення коштів за підписку",
            "поверніть бабки за фрилансера",
            "требую вернуть гроші",
            "возврат денег за подписку, негайно",
        ],
        "translit": [
            "vernite moi dengi",
            "vy mne dolzhny vernut dengi",
            "trebuyu vozvrat sredstv",
            "povernit moi hroshi",
        ],
    },
    ("003.smear", "reputation_threat"): {
        "surzhyk": [
            "я вас обосру в кожній SMM спільноті",
            "напишу про вас в каждом чате, вся мережа дізнається",
            "залишу відгук всюди, шоб ніхто у вас не купував",
            "стану вашим кошмаром",
            "ославлю вас на весь інтернет",
        ],
        "translit": [
            "ya vas obosru vo vsekh SMM soobshchestvakh",
            "napishu otzyvy vezde",
            "stanu vashim koshmarom",
            "vsya set uznaet kakie vy moshenniki",
            "napyshu pro vas u vsikh hrupakh",
        ],
    },
}
ROUND_23_NEUTRAL: dict[str, list[str]] = {
    "surzhyk": [
        "я вже оплатив, дякую, все працює",
        "рахунок оплачений, платіжку прикладаю",
        "пишу з особистої пошти, бо робоча не працює",
        "пишу з іншої адреси, це Іван з ТОВ Ромашка",
        "третій раз замовляємо у вас, все супер",
        "скільки коштує тариф бізнес?",
        "до котрої ви работаете в субботу?",
        "доставка безкоштовна чи платно?",
        "можна рахунок на оплату, пожалуйста?",
        "шо з моєю заявкою? дякую",
        "мій юрист попросив копію договору",
        "как відключити автопродовження?",
        "оплатили, не блокуйте старого користувача, він ще потрібен",
        "другий менеджер вже все зробив, дякую",
        "в понеділок буде оплата, рахунок получили",
        "шо там по ціні на наступний рік?",
        "ви гарно все зробили, дякую",
        "я вже втретє замовляю у вас, все чудово",
        "третій день тестуємо, все ок",
    ],
    "translit": [
        "spasibo, vse rabotaet",
        "oplatili, spasibo",
        "schet oplachen, platezhka vo vlozhenii",
        "skolko stoit tarif biznes?",
        "do skolki vy rabotaete v subbotu?",
        "pishu s lichnoy pochty, eto Ivan iz Romashki",
        "dyakuyu, vse pratsyuye",
        "tretiy raz zakazyvaem u vas, vse otlichno",
        "mozhno schet na oplatu?",
        "kak otklyuchit avtoprodlenie?",
        "dostavka besplatnaya?",
        "pozvonite mne pozhaluysta zavtra",
        "pidu na obid, potim podzvonyu",
        "pryvit, de moye zamovlennya?",
        "skilky koshtuye dostavka do Lvova?",
        "vse ok, dyakuyu za dopomohu",
        "podskazhite kak sdelat vozvrat tovara v magazin",
    ],
    "en": [
        "Super fast delivery, thanks",
        "Invoice paid, cheers",
        "Sudoku app crashed? no, all fine",
        "Podium photos uploaded",
        "Ship today pls",
        "Pivo Bar Kyiv booking for six",
        "Dobry den from Prague team",
    ],
}


@pytest.mark.parametrize(
    ("situation", "signal", "style", "text"),
    [
        (situation, signal, style, text)
        for (situation, signal), by_style in ROUND_23_PROBES.items()
        for style, texts in by_style.items()
        for text in texts
    ],
)
def test_round_23_surzhyk_and_transliteration_raise_their_signal(
    situation: str, signal: str, style: str, text: str
) -> None:
    found = {s.name for s in detect(text)}

    assert signal in found, (situation, style, found)


@pytest.mark.parametrize(
    ("style", "text"),
    [(style, text) for style, texts in ROUND_23_NEUTRAL.items() for text in texts],
)
def test_round_23_look_alikes_raise_nothing(style: str, text: str) -> None:
    # Paid with thanks, prices, hours, another address with no complaint, a kept promise,
    # and English that must never be read as transliteration.
    assert detect(text) == [], style


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("pidu do sudu", "піду до суду"),
        ("vy mne dolzhny vernut dengi", "вы мне должны вернут деньги"),
        ("chto delat?? vse dannye ischezli", "что делать?? все данные исчезли"),
        (
            "pyshu z inshoi adresy, bo vy ne vidpovidaete",
            "пишу з іншої адреси, бо ви не відповідаєте",
        ),
        ("schet zakryt, otmenite blokirovku", "счет закрыт, отмените блокировку"),
    ],
)
def test_latin_russian_and_ukrainian_are_read_in_cyrillic(text: str, reading: str) -> None:
    morph = default_morphology()
    folded = prepared(text)
    found = morph.reader.read(folded, tokenize(folded, load_lexicon().clause_words).words)

    assert found is not None and found.text == reading


@pytest.mark.parametrize(
    "text",
    [
        "I want my $89 back.",
        "Sudoku app crashed? no, all fine",
        "Super fast delivery, thanks",
        "Dobry den from Prague team",
        "Ship today pls",
        "Привет, vse ok",  # Cyrillic already: read as it is
    ],
)
def test_english_and_mixed_script_messages_are_not_read_as_transliteration(text: str) -> None:
    folded = prepared(text)
    words = tokenize(folded, load_lexicon().clause_words).words

    assert default_morphology().reader.read(folded, words) is None


def test_evidence_of_a_transliterated_message_points_at_the_latin_words() -> None:
    text = "Zdravstvuyte! Podam na vas v sud, a shchet ne oplachu."
    legal = signal(text, "legal_threat")

    assert [e.text for e in word_evidence(legal)] == ["Podam na vas v sud"]
    assert all(text[e.start : e.end] == e.text for e in legal.evidence)


# Round 24 (docs/detection.md): surzhyk, Ukrainian and Russian mixed in one message, in the
# seeds' situations; the Latin lines are round 23's misses.
ROUND_24_PROBES: dict[tuple[str, str], list[str]] = {
    ("000.paid_dunned", "billing_dispute"): [
        "я вже оплатив, а вы нам блокируете акаунт",
        "Рахунок оплачений вчора, почему нам пишуть про приостановку?",
        "ми всё оплатили ще в понеділок, а вы отключили доступ",
        "гроші вже пішли, а вы пишете шо у нас задолженность",
        "оплатили рахунок, а вам всё равно шлёте нам письма про долг",
        "счёт оплачено, зніміть блокировку пожалуйста",
        "заплатили вчера, а сьогодні пишуть шо доступ заблокують",
        "я ж оплатила, почему ви нас отключаете?",
        "платіж прошёл ще в пятницу, а нам пишут про просрочку",
        "все оплачено, а вы угрожаете отключить нас за неоплату",
    ],
    ("000.no_answer", "service_failure"): [
        "ніхто не отвечает уже третий день",
        "ваша поддержка игнорирует наші листи",
    ],
    ("001.broken_promise", "service_failure"): [
        "обещали перезвонить і не перезвонили",
        "менеджер обіцяв до вечора всё сделать, а нічого не зроблено",
        "вы ж обіцяли шо к понеділку починят, и опять ничего",
        "обіцянки одні, а воно як не работало так и не работает",
    ],
    ("001.misinformation", "service_failure"): [
        "вы дезинформировали клієнта про ціну",
        "ваш оператор дал неправильну інформацію, а я повірив",
        "мені сказали шо доставка завтра, а её нет",
        "консультант ввів в заблуждение, такой функции нема",
    ],
    ("001.third_time", "service_failure"): [
        "Пишу вже втретє",
        "пишу вам уже втретє за тиждень",
        "звертаюсь вже вчетверте, і ніякої реакции",
        "То сайт лежит, то счета неправильные",
        "То сайт лежить, то рахунки неправильні",
        "опять всё упало, вже третий раз за неделю",
        "вкотре пишу, а сайт так и не работает",
    ],
    ("002.swearing", "abuse"): [
        "да вы охуели там совсем",
        "шо за хуйня з вашим сервісом",
        "ви шо, дауни?",
        "ідіоти, нічо не можете нормально сделать",
        "бляха, знову ваша хрень не работает, дебіли",
    ],
    ("002.legal", "legal_threat"): [
        "поскаржуся в налоговую",
        "подам на вас в суд, я вже юриста найняв",
        "буду жаловаться в споживчу інспекцію",
        "мой юрист подготовит позов, чекайте",
    ],
    ("002.harass", "harassment"): [
        "Оксаночка, а шо ви робите вечером? может кофе?",
        "дівчина, а можна ваш номер, не рабочий, а личный?",
        "давайте сходимо на каву після работы",
        "у вас такий гарний голос, а вы замужем?",
        "може поужинаем вместе? я угощаю",
    ],
    ("002.free", "freebie_demand"): [
        "іншим клієнтам ви даєте це бесплатно",
        "минулого разу доставка була бесплатна",
        "другой менеджер делал это безкоштовно",
        "минулого разу ви это сделали бесплатно, шо змінилось?",
        "в прошлый раз налаштували бесплатно, а тепер платно?",
    ],
    ("002.panic", "panic"): [
        "рятуйте, всё пропало!!!",
        "помогите срочно, нічого не работает, горит",
        "шо делать?? все дані исчезли",
        "караул, сайт лежить, клієнти злі, помогите",
    ],
    ("003.insult", "abuse"): [
        "вы там все дебилы чи шо?",
        "ну ви і дауни",
        "шарашкина контора, криворукие идиоты",
    ],
    ("003.refund", "compensation_demand"): [
        "верніть мої 400 долларов",
        "поверніть гроші за подписку, я вже не пользуюсь",
        "верните мої гроші негайно",
    ],
    ("003.smear", "reputation_threat"): [
        "я вас ославлю по всем группам",
        "напишу про вас отзыв везде, хай всі знають",
    ],
    ("latin", "panic"): ["pomogite pozhaluysta, gorit"],
    ("latin", "abuse"): ["nu vy i dauny"],
    ("latin", "service_failure"): ["vy dezinformirovali klienta"],
    ("latin", "billing_dispute"): ["schet zakryt, otmenite blokirovku"],
}
ROUND_24_NEUTRAL: list[str] = [
    "менеджер обіцяв перезвонити — перезвонив, дякую",
    "менеджер обещал перезвонить и перезвонил, спасибо",
    "writing from my personal email as the work one is down",
    "my work email is down, so writing from my personal one",
    "я вже оплатив, дякую, доступ работает",
    "рахунок оплачений, шо ще треба?",
    "пишу з другой почты, это Оксана з бухгалтерии",
    "вже втретє замовляємо, дуже довольны",
    "то тариф бізнес, то стандарт, не можу вибрати",
    "сайт лежить в закладках, все ок",
    "налоговая попросила акт сверки, можете прислать?",
    "в налоговую подали звіт, дякую за допомогу",
    "а шо ви робите вечером, до которого часу открыты?",
    "може кофе-машину теж замовимо?",
    "доставка бесплатна чи платна?",
    "в прошлый раз все було чудово, дякую",
    "верніть будь ласка дзвінок, я не встиг відповісти",
    "скільки стоит вернуть товар?",
    "горить термін по проекту, можна швидше рахунок?",
    "помогите настроить интеграцию, пожалуйста",
    "другий менеджер вже все зробив, спасибо",
    "іншим клієнтам теж рекомендую вас",
    "звертаюсь вперше, підкажіть по тарифу",
    "ви не блокуйте, будь ласка, старий акаунт, він ще потрібен",
    "счет оплатим в понеділок, не переживайте",
    "пишу з особистої пошти, бо робоча не працює",
    "вы наш лучший подрядчик, дякуємо",
    "menedzher obitsyav perezvonyty — perezvonyv, dyakuyu",
]


@pytest.mark.parametrize(
    ("situation", "signal", "text"),
    [(sit, sig, text) for (sit, sig), texts in ROUND_24_PROBES.items() for text in texts],
)
def test_round_24_surzhyk_raises_its_signal(situation: str, signal: str, text: str) -> None:
    assert signal in {s.name for s in detect(text)}, situation


@pytest.mark.parametrize("text", ROUND_24_NEUTRAL)
def test_round_24_look_alikes_raise_nothing(text: str) -> None:
    # A promise kept, one's own mailbox down, paid with thanks, the tax office as a
    # correspondent, opening hours in the evening, a regular counting its orders.
    assert detect(text) == []


def test_a_ukrainian_entry_takes_the_russian_only_words_of_its_twin() -> None:
    lexicon = load_lexicon()
    entry = next(e for e in lexicon.patterns if e.id == "uk.free.last_time")
    words = set().union(*(slot.words for slot in entry.sequence))

    # "бесплатно" (Russian only) is taken; "одна" of ru.harass.married is Ukrainian too
    assert {"бесплатно", "безкоштовно", "прошлый"} <= words
    married = next(e for e in lexicon.patterns if e.id == "uk.harass.married")
    assert "одна" not in set().union(*(slot.words for slot in married.sequence))


@pytest.mark.parametrize(
    ("text", "signal", "words"),
    [
        ("fuck vas vsekh", "abuse", "fuck"),
        ("vash servis polnyy shit", "abuse", "shit"),
        ("kak mne vernut dengi", "compensation_demand", "vernut dengi"),
    ],
)
def test_a_latin_message_read_in_cyrillic_keeps_what_its_latin_says(
    text: str, signal: str, words: str
) -> None:
    """The Cyrillic reading is matched beside the Latin text, not instead of it: English
    words in transliterated Russian and the Latin entries («vernut» reads as «вернут», a
    word of its own, so no soft sign is restored) were lost when the reading replaced it
    (a review of round 23)."""
    (found,) = [s for s in detect(text) if s.name == signal]
    assert words in [e.text for e in found.evidence]


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("Марина Судова, бухгалтер", False),  # a surname
        ("Marina Sudova, golovnyi bukhgalter", False),
        ("Це судова практика, нічого страшного", False),
        ("Судова справа вже відкрита, готуйтеся", True),
        ("Вирішуватимемо в судовому порядку", True),
        ("Надішлю досудову претензію", True),
    ],
)
def test_judicial_alone_is_no_threat_but_a_court_case_is(text: str, threat: bool) -> None:
    """«судовий» alone is court business or a surname; a court case, a suit or a pre-trial
    claim named with it is a threat (a review of round 23 saw "Marina Sudova" flagged)."""
    assert ("legal_threat" in {s.name for s in detect(text)}) is threat


# Round 26 (docs/detection.md): what round 24 left and a fresh probe in the seeds' situations:
# surzhyk, Latin letters and chat lines without punctuation.
ROUND_26_PROBES: dict[tuple[str, str], list[str]] = {
    ("000.paid_dunned", "billing_dispute"): [
        "я ж вчора все оплатила а вы мне шлёте шо долг",
        "оплатили ще 3го а нам пишуть про заборгованість",
        "ya zh oplatil vse a vy mne pishete pro dolg",
        "ya vzhe oplatyv a vy pyshete shcho borg",
        "деньги ушли с карты в понедельник а сегодня письмо про задолженность",
        "платеж прошел а вы грозитесь отключить",
        "we paid on the 3rd why r u sending overdue notices",
    ],
    ("000.no_answer", "service_failure"): [
        "пятый лист без ответа",
        "пишу вже п'ятий раз",
        "третье письмо без ответа",
        "четвертий лист без відповіді ну скільки можна",
        "pishu uzhe tretiy raz nikto ne otvechaet",
        "pyshu vzhe vtretie i tysha",
        "пишу з другой почты бо вы не отвечаете",
        "третий день никто не отвечает на почту",
        "third email no reply what is going on",
    ],
    ("001.broken_promise", "service_failure"): [
        "обещали в пятницу а сегодня среда ничего нет",
        "обещали в пятницу, а сегодня среда — ничего нет",
        "обіцяли до обіду а досі не працює",
        "obeshchali perezvonit i tishina",
        "obitsialy do ponedilka a nichoho nemaie",
        "сказали шо виправлять за день, прошла неделя",
        "you promised it by monday its wednesday and nothing",
        "менеджер обещал скидку а в счете ее нет",
    ],
    ("002.swearing", "abuse"): [
        "да идите вы нахер со своим сервисом",
        "що за йобана контора",
        "vy tam sovsem ohueli",
        "nu vy i mudaky",
        "ебаный стыд а не поддержка",
        "this is fucking ridiculous",
    ],
    ("002.legal", "legal_threat"): [
        "вимагаю вернуть деньги або подам в суд",
        "напишу заяву в полицію",
        "піду в полицію з цим",
        "podam na vas v sud",
        "pidu do sudu i vse",
        "буду жаловатся в роспотребнадзор",
        "napyshu skarhu v derzhspozhyvsluzhbu",
        "ill be reporting u to trading standards",
    ],
    ("002.harass", "harassment"): [
        "Олечка а можна вас на каву запросити?",
        "a vy zamuzhem?",
        "ты такая милая, давай встретимся",
    ],
    ("002.free", "freebie_demand"): [
        "другой менеджер делал это бесплатно",
        "інший менеджер робив це безкоштовно",
        "drugoy menedzher delal eto besplatno",
        "другий менеджер мне это бесплатно сделал",
        "other manager did it for free",
    ],
    ("002.panic", "panic"): [
        "помогите срочно всё пропало",
        "рятуйте все злетіло клієнти не можуть оплатити",
        "pomogite srochno vse slomalos",
        "ratuite vse propalo",
        "HELP everything is gone",
    ],
    ("003.refund", "compensation_demand"): [
        "вимагаю вернуть деньги",
        "верніть гроші за этот месяц",
        "vernite dengi",
        "povernit moi hroshi",
        "хочу назад свои деньги",
    ],
    ("003.smear", "reputation_threat"): [
        "вся мережа узнает",
        "я вас ославлю везде",
        "ya vas oslavlyu v kazhdom chate",
        "напишу про вас во всіх группах",
        "vsya set uznaet kakie vy",
        "ill smear u all over insta",
        "я вас обосру на всех форумах",
    ],
    ("latin", "service_failure"): [
        "pyatoe pismo bez otveta",
        "pishu s drugoy pochty potomu chto vy ne otvechaete",
    ],
    ("latin", "compensation_demand"): [
        "vymahayu vernut hroshi",
        "khochu nazad svoi dengi",
    ],
    ("latin", "legal_threat"): [
        "napyshu zayavu v politsiyu",
    ],
    ("latin", "reputation_threat"): [
        "vsya merezha uznaet",
    ],
}
ROUND_26_NEUTRAL: list[str] = [
    "обещали в пятницу — всё пришло в пятницу",
    "обіцяли до обіду — о дванадцятій уже працювало",
    "you promised it by Monday and it was there on Monday, thanks",
    "обещали в пятницу — всё пришло в пятницу, спасибо",
    "обіцяли в понеділок і в понеділок все прийшло, дякую",
    "obeshchali v pyatnicu i v pyatnicu vse prishlo spasibo",
    "обещали к обеду, к обеду всё и сделали",
    "you guys promised friday and it came friday, cheers",
    "я ж вчора все оплатила, дякую шо так швидко",
    "оплатили ще 3го, чи прийшов платіж?",
    "ya zh oplatil vse spasibo",
    "платеж прошел, пришлите акт пожалуйста",
    "пятый лист договора без подписи",
    "пишу вже п'ятий звіт за тиждень, треба шаблон",
    "третье письмо с вложением отправила",
    "pishu uzhe tretiy otchet za den",
    "п'ятий раз замовляємо у вас, все супер",
    "третий день тестим, все работает",
    "напишу заяву на відпустку",
    "полиция приезжала к соседям, не к нам, доставка в норме",
    "podam dokumenty v ponedelnik",
    "суд кадров, интересная статья",
    "девушка, а до скольки вы работаете?",
    "а можна ваш номер для доставки?",
    "Олечка, дякую за каву на зустрічі",
    "другой менеджер уже все сделал, спасибо",
    "другий менеджер допоміг, дякую",
    "other manager did it already thanks",
    "помогите настроить интеграцию",
    "HELP page doesnt load the FAQ, no rush",
    "верніть будь ласка дзвінок",
    "vernite zvonok pozhaluysta",
    "вся мережа магазинів вже підключена",
    "вся сеть узнает о новой акции из рассылки",
    "напишу про вас хороший отзыв",
    "ya vas porekomenduyu v kazhdom chate",
    "ну это пипец как удобно, спасибо",
    "you guys are fucking awesome",
    "скиньте рахунок, оплатимо завтра",
    "your other agent already sorted it, thank you",
    "obitsyaly do obidu i o dvanadtsyatiy vzhe pratsyuvalo",
    "скарга лежить на полиці, розглянемо завтра",
    "поставте заяву на полицю",
    "хочу вернути старий дизайн",
    "прошу вернути налаштування як було",
]
# Promises broken, late or only half kept: the kept-promise exclusions must not silence them.
ROUND_26_BROKEN_PROMISES: list[str] = [
    "обещали в пятницу, а сегодня среда — ничего нет",
    "обещали в пятницу — пришло в понедельник",
    "обещали в пятницу — в пятницу ничего не пришло",
    "обещали к обеду, к обеду ничего не сделали",
    "обіцяли до обіду — о дванадцятій ще не працювало",
    "обіцяли до обіду, а досі не працює",
    "обещали в пятницу и в пятницу не привезли",
    "you promised it by Monday and it was there on Wednesday",
    "you promised it by Monday and it wasn't there on Monday",
    "you promised friday and it still isnt here",
    "обещали в пятницу — уже среда, ничего нет",
    "обещали до обеда, уже вечер, ничего не работает",
    "обіцяли в понеділок, вже середа — нічого",
    "обещали в пятницу, но пришло в понедельник, спасибо конечно",
    "обещали в пятницу, пришло в пятницу, но половины нет",
]


@pytest.mark.parametrize(
    ("situation", "signal", "text"),
    [(sit, sig, text) for (sit, sig), texts in ROUND_26_PROBES.items() for text in texts],
)
def test_round_26_probe_raises_its_signal(situation: str, signal: str, text: str) -> None:
    assert signal in {s.name for s in detect(text)}, situation


@pytest.mark.parametrize("text", ROUND_26_NEUTRAL)
def test_round_26_look_alikes_raise_nothing(text: str) -> None:
    # A promise kept without its verb repeated, paid with thanks, an N-th page or report,
    # the police next door, opening hours, help received, news the whole chain learns of.
    assert detect(text) == []


@pytest.mark.parametrize("text", ROUND_26_BROKEN_PROMISES)
def test_round_26_a_promise_broken_late_or_half_kept_stays_a_failure(text: str) -> None:
    assert "service_failure" in {s.name for s in detect(text)}


# Round 27: threats sent to a named staff member through us, which fired nothing while the
# escalator learned to tell the threatened account manager (threatened.py: only when a
# threat signal fires), and round 26's leftovers. Situation, signal: the probes found.
ROUND_27_PROBES: dict[tuple[str, str], list[str]] = {
    ("003.staff_wont_be_well", "violence_threat"): [
        "Вашему Олегу не поздоровится",
        "Передайте вашему менеджеру, что ему не поздоровится",
        "Олегу вашему не поздоровится, так и передайте",
        "менеджеру вашему не поздоровится",
        "Вашій Ірині не поздоровиться, так їй і передайте",
        "vashemu Olegu ne pozdorovitsya",
    ],
    ("003.tell_staff_ill_find_her", "violence_threat"): [
        "передайте Ірині, що я її знайду",
        "Скажіть вашому Андрію, що я його знайду",
        "Передайте Марине, что я её найду",
        "скажите Олегу, что я его всё равно найду",
        "peredayte Irine chto ya ee naydu",
    ],
    ("003.staff_look_over_shoulder", "violence_threat"): [
        "скажіть своїй Олені, хай оглядається",
        "пусть ваша Марина ходит и оглядывается",
        "пусть ваш Игорь теперь ходит оглядываясь",
        "хай ваша Оксана ходить і оглядається",
        "tell Anna she'd better watch her back",
    ],
    ("003.staff_regret_personally", "violence_threat"): [
        "your manager will regret it personally",
        "Your agent is going to regret this personally",
        "Ваш менеджер лично пожалеет об этом",
        "Ваш менеджер особисто пошкодує",
    ],
    ("002.free_tonight", "harassment"): [
        "девушка, а вы свободны вечером?",
        "дівчино, а ви вільні ввечері?",
        "devushka a vy svobodny vecherom?",
    ],
    ("000.paid_what_reminders", "billing_dispute"): [
        "счёт оплачен давно, шо за напоминания про оплату",
        "Рахунок оплачено давно, що за нагадування про оплату?",
        "Мы всё оплатили ещё в марте, что за письма про долг?",
        "schet oplachen davno, sho za napominaniya pro oplatu",
    ],
    # A return asked for with the money named is still redress.
    ("003.return_with_money", "compensation_demand"): [
        "хочу вернуть товар и получить деньги обратно",
        "Хочу вернуть деньги полностью, фото прилагаю.",
        "хочу повернути гроші за товар",
    ],
}

ROUND_27_NEUTRAL: list[str] = [
    # a lost invoice found, not a person
    "рахунок? я його знайду в пошті",
    "я її знайду в пошті, дякую",
    "Передайте бухгалтеру, что я его найду в почте и перешлю",
    "скажіть Олені, що я його знайду в документах і надішлю",
    # unwell oneself
    "после такого ужина мне не поздоровится",
    "нам не поздоровится, если отчёт не сдадим",
    "I will regret it personally if I miss the webinar",
    "you won't regret it, the service is great",
    # a device, a call back, someone lost
    "watch the back of the device for the serial number",
    "скажіть Олені, хай передзвонить",
    "пусть ваша Марина перезвонит мне вечером",
    "курьер ходит и оглядывается, не может найти подъезд",
    # free for work
    "вы свободны завтра для звонка?",
    "вы свободны вечером? хотим обсудить договор",
    "ви вільні ввечері для дзвінка?",
    # a reminder thanked for
    "спасибо за напоминание об оплате, счёт оплачен",
    "счёт оплачен, спасибо за напоминание",
    # a return of goods or an undone change
    "хочу вернуть товар, как оформить?",
    "хочу вернуть старый дизайн",
    "хочу повернути товар, як оформити?",
    "хочу повернути старий дизайн сайту",
]


@pytest.mark.parametrize(
    ("situation", "signal", "text"),
    [(sit, sig, text) for (sit, sig), texts in ROUND_27_PROBES.items() for text in texts],
)
def test_round_27_probe_raises_its_signal(situation: str, signal: str, text: str) -> None:
    assert signal in {s.name for s in detect(text)}, situation


@pytest.mark.parametrize("text", ROUND_27_NEUTRAL)
def test_round_27_look_alikes_raise_nothing(text: str) -> None:
    assert detect(text) == []


# Round 28: a double charge is billing, not a failure ("twice", "again" count the charges);
# the registered contact disowning a sender ("nobody called Rachel White works here") speaks
# of staff; slowness and hanging of the product, and a bill above the quote, were missed.
ROUND_28_PROBES: dict[tuple[str, str], list[str]] = {
    ("failure still counted", "service_failure"): [
        "второй раз падает сервер",
        "the site is down again",
        "знову не працює",
        "Опять списали деньги, а сервис опять не работает.",
        "Знову списали гроші, а кабінет знову не працює.",
        "You charged us again and the app is down again.",
        "We were charged and the app crashed again.",
        "Опять упал сервер и списали деньги за простой.",
        "Знову впав сайт, а ще й списали гроші за місяць.",
        "Наш менеджер опять не работает с заявками, второй раз жалуемся.",
        "Nobody called me back, the site is down again.",
        # a billing error counted is a repeated one (train12 s12-116, train3 r-137)
        "Третій раз списали штраф 200 грн за «прострочку».",
        "Вже вдруге за квартал з нашого рахунку списано абонплату двічі.",
        "You billed us again for October, second time this year.",
        "Вдруге за місяць впав сайт.",
    ],
    ("slowness and hanging", "service_failure"): [
        "медленно работает поиск, каждая страница грузится по минуте",
        "кабінет знову висить, нічого не грузиться",
        "Сайт ужасно тормозит, страницы грузятся по минуте.",
        "CRM медленно работает уже неделю, отчёты открываются по пять минут.",
        "Кабінет дуже повільно працює, кожна сторінка вантажиться хвилину.",
        "Сайт знову висить, нічого не відкривається.",
        "Ничего не грузится, кабинет опять висит.",
        "Программа зависает и ничего не загружается второй день.",
    ],
    ("billed above the quote", "billing_dispute"): [
        "the invoice shows 12,400 USD but we were quoted less",
        "The invoice says $12,400 but we were quoted $11,000.",
        "Your invoice shows 12,400 USD while we were quoted 10,900.",
        "Invoice #5521 came to 3,200 EUR, but we were quoted a lower price.",
        "The bill shows 480 dollars but I was quoted 350.",
    ],
}

ROUND_28_NOT_FAILURE: list[str] = [
    # a double charge
    "Ви двічі списали оплату за листопад",
    "Ви двічі списали оплату за листопад. Знову те саме, що й минулого року.",
    "Добрий день! Ви знову списали оплату за листопад, хоча ми вже платили.",
    "с нас дважды списали",
    "Здравствуйте, с нас дважды списали за ноябрь — опять, как в прошлом году.",
    "Опять списали абонплату дважды, верните лишнее.",
    "you charged us twice",
    "Hi, you charged us twice for November — again! Please refund the duplicate.",
    "charged again for the same month",
    "The card was charged twice this month for the same plan.",
    "We got charged twice in one month for the same subscription.",
    "Знову нарахували абонплату двічі за жовтень.",
    "I was charged twice for order #88412 — $59.00 on the 2nd and again on the 3rd.",
    # a sender disowned
    "Not us: nobody called Rachel White works here",
    "Not us — no one called Rachel White works here, this email is fake. Again someone uses"
    " our name.",
    "Nobody named Rachel White works here, and nobody called Rachel works here either.",
    "Rachel doesn't work here anymore, again please update the contact.",
    "У нас такой сотрудник не работает. Опять какие-то письма от нашего имени.",
    "Это не мы: у нас такой сотрудник не работает, опять мошенники пишут.",
    "Така людина в нас не працює. Знову хтось пише від нашого імені.",
    "Це не ми, така людина в нас не працює, вже вдруге таке.",
    "В нас не працює жоден співробітник з таким ім'ям, знову шахраї.",
]

ROUND_28_NEUTRAL: list[str] = [
    "Опять пишут от имени Марины — этот сотрудник у нас больше не работает.",
    "She no longer works for us, again please remove her from the account.",
    "the invoice shows 12,400 USD as we were quoted, thanks",
    "The invoice shows 12,400 USD, just as we were quoted.",
    "The invoice shows 12,400 USD but we were quoted in euros, please reissue.",
    "The invoice shows 12,400 USD and we were quoted 12,400, all good.",
    "Could you send the quote again? We were quoted 12,400 USD last week.",
    "Please charge the card again, the first attempt was declined.",
    "Can we pay twice a month instead of once?",
    "Оплату за листопад ми вже внесли, дякуємо.",
    "Спишите оплату ещё раз, первая не прошла из-за лимита карты.",
    "Можно ли оплачивать дважды в месяц, частями?",
    "Чи можна платити двічі на місяць?",
    "Rachel White works here as our new accountant, please add her.",
    "Марина у нас теперь работает бухгалтером, добавьте её в кабинет.",
    "Как убить зависший процесс импорта? Висит уже час.",
    "Як вбити процес, що висить у фоні після оновлення?",
    "Борг у кабінеті висить 0,00 грн, це нормально?",
    "Медленно, но верно переносим базу к вам, спасибо за помощь.",
    "Долго работаем с вами, всё устраивает.",
    "Чи можна прискорити завантаження великих файлів?",
    "Лист від вас отримали, дякую.",
    "Вдруге за рік замовляємо у вас, все чудово.",
    "Тема про ваш сервіс уже висить на форумі, відповідайте там.",
    "Хлопчик, який уже втретє за місяць дряпає Марка, мене турбує.",
]


@pytest.mark.parametrize(
    ("situation", "signal", "text"),
    [(sit, sig, text) for (sit, sig), texts in ROUND_28_PROBES.items() for text in texts],
)
def test_round_28_probe_raises_its_signal(situation: str, signal: str, text: str) -> None:
    assert signal in {s.name for s in detect(text)}, situation


@pytest.mark.parametrize("text", ROUND_28_NOT_FAILURE)
def test_round_28_double_charge_or_disowned_sender_is_no_failure(text: str) -> None:
    assert "service_failure" not in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_28_NEUTRAL)
def test_round_28_look_alikes_raise_nothing(text: str) -> None:
    assert detect(text) == []


# Round 29: a reminder that came on time is praise, not an erroneous notice; a promise kept
# early (by Monday, done on Friday) is kept; "pust" in Latin letters is «пусть».
ROUND_29_NOT_FAILURE: list[str] = [
    # a notice praised for its timing, or one the client would have done without
    "Напоминание пришло вовремя, спасибо",
    "Напоминание пришло вовремя, спасибо, хотя я и сам помнил",
    "Письмо пришло вовремя, хотя я уже всё знал",
    "Уведомление об оплате пришло в срок, хотя мы и так помнили",
    "Нагадування прийшло вчасно, дякую",
    "Нагадування прийшло вчасно, дякую, хоча я й сам пам'ятав",
    "Лист прийшов вчасно, хоча я вже все знав",
    "The reminder came on time, thanks",
    "The reminder that my invoice is due came on time, thanks, though I'd have remembered",
    "Got the email saying the payment is due, thanks, though I already knew",
    # a promise kept early: done on one of the three days before the day it was due by
    "обещали до понедельника — сделали в пятницу",
    "обещали до понедельника, а сделали уже в пятницу",
    "обещали до пятницы, в четверг всё привезли",
    "обещали к пятнице — в среду уже работало",
    "обіцяли до понеділка — зробили в пʼятницу",
    "обіцяли до п'ятниці — привезли в середу, дякую",
    "Обіцяли до суботи, а встановили вже в четвер.",
    "promised by Monday, done on Friday",
    "you promised it by Friday and it arrived on Thursday",
    "They promised it before Wednesday - it was there on Monday.",
]

ROUND_29_STILL_FAILURE: list[str] = [
    # a notice that did not come on time, or came though the client had paid
    "Напоминание об оплате не пришло вовремя, хотя мы просили",
    "Пришло напоминание о долге, спасибо, хотя мы всё оплатили",
    "Пришло уведомление о долге, хотя мы всё оплатили ещё в марте",
    "Прийшло нагадування про борг, хоча ми все оплатили",
    "I got a reminder saying my invoice is overdue, but it was paid on the 2nd",
    "The reminder saying my invoice is due didn't come on time, but the fee did",
    # late, on a day and not by it, only then, half done
    "обещали в понедельник, а сделали только в пятницу",
    "обещали до понедельника, а сделали только в пятницу",
    "обещали до среды — сделали в пятницу",
    "обещали до понедельника — сделали в пятницу, но не всё",
    "обещали до понедельника — в пятницу сказали, что перенесут",
    "обіцяли до середи, зробили в п'ятницю",
    "обіцяли в понеділок, а зробили аж у п'ятницю",
    "you promised it by Wednesday and it arrived on Friday",
    "promised by Monday, done on Friday but half is missing",
    "they promised by Monday and it only arrived on Friday",
]

ROUND_29_THREATS: list[str] = [
    "pust vasha Marina hodit i oglyadyvaetsya",
    "pust' vasha Marina hodit i oglyadyvaetsya",
    "pust vash Igor teper hodit oglyadyvayas",
]


@pytest.mark.parametrize("text", ROUND_29_NOT_FAILURE)
def test_round_29_a_timely_notice_or_a_promise_kept_early_is_no_failure(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize("text", ROUND_29_STILL_FAILURE)
def test_round_29_a_wrong_notice_or_a_promise_kept_late_stays_a_failure(text: str) -> None:
    assert "service_failure" in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_29_THREATS)
def test_round_29_pust_in_latin_letters_is_a_threat_as_in_cyrillic(text: str) -> None:
    (signal,) = detect(text)
    assert signal.name == "violence_threat"
    assert [e.rule for e in signal.evidence] == ["ru.violence.beware_walking"]
    assert detect(text)[0].score == detect("пусть ваша Марина ходит и оглядывается")[0].score


def test_round_29_pust_alone_in_latin_letters_is_no_threat() -> None:
    assert detect("pust perezvonit zavtra, ya doma") == []


# Round 30: Ukrainian in Latin letters ("h" read х where a frequent х-word is meant,
# "-tsya" / "-tsia" as «-ться»), a person of theirs told to be afraid, promises kept early by
# a day of the month or with more words between, and a promise kept said with the noun.
@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("hay vasha Oksana hodyt i oglyadayetsya", "хай ваша оксана ходить і оглядається"),
        ("hai vasha Oksana khodyt i ohliadaietsia", "хай ваша оксана ходить і оглядається"),
        ("khay vash menedzher boyitsya", "хай ваш менеджер боїться"),
        ("ya znaiu de vy zhyvete", "я знаю де ви живете"),
        ("ya hochu povernuty hroshi", "я хочу повернути гроші"),
        ("na vulytsi vzhe temno", "на вулиці вже темно"),
    ],
)
def test_round_30_ukrainian_latin_h_and_tsya_are_read_as_ukrainian(text: str, reading: str) -> None:
    morph = default_morphology()
    folded = prepared(text)
    found = morph.reader.read(folded, tokenize(folded, load_lexicon().clause_words).words)

    assert found is not None and (found.text, found.language) == (reading, "uk")


ROUND_30_THREATS: dict[str, list[str]] = {
    "uk.violence.beware_walking": [
        "hay vasha Oksana hodyt i oglyadayetsya",
        "hai vasha Oksana khodyt i ohliadaietsia",
        "хай ваша Оксана ходить і оглядається",
    ],
    "uk.violence.know_where": ["ya znayu de vy zhyvete", "я знаю де ви живете"],
    "uk.violence.let_fear": [
        "khay vash menedzher boyitsya",
        "хай ваш менеджер боїться",
        "нехай ваша Оксана тепер боїться і стережеться.",
    ],
    "ru.violence.let_fear": [
        "пусть ваш менеджер боится",
        "pust vash menedzher boitsya",
        "пускай эта ваша Марина теперь боится!",
    ],
    "en.violence.let_fear": [
        "let your manager be afraid",
        "let your Oksana keep looking over her shoulder",
        "Let that courier of yours be very scared.",
    ],
}

ROUND_30_NOT_THREATS: list[str] = [
    "hay vasha Oksana perezvonyt meni zavtra",
    "khay menedzher ne boyitsya pytan, my vse oplatyly",
    "хай ваш менеджер не боїться дзвонити",
    "пусть ваш менеджер не боится звонить нам",
    "пусть ваш менеджер боится потерять клиента",
    "let your manager know we are afraid of the delay",
    "let your team be afraid of nothing, the plan is great",
    "Don't be afraid, let your manager call me",
]


@pytest.mark.parametrize(
    ("rule", "text"), [(rule, text) for rule, texts in ROUND_30_THREATS.items() for text in texts]
)
def test_round_30_a_person_of_theirs_told_to_walk_warily_or_be_afraid_is_a_threat(
    rule: str, text: str
) -> None:
    assert rule in {e.rule for e in signal(text, "violence_threat").evidence}


@pytest.mark.parametrize("text", ROUND_30_NOT_THREATS)
def test_round_30_look_alikes_of_the_fear_threat_are_no_threat(text: str) -> None:
    assert "violence_threat" not in {s.name for s in detect(text)}


def test_round_30_latin_threat_scores_as_its_cyrillic() -> None:
    (latin,) = detect("hay vasha Oksana hodyt i oglyadayetsya")
    (cyrillic,) = detect("хай ваша Оксана ходить і оглядається")
    assert (latin.name, latin.score) == (cyrillic.name, cyrillic.score)


ROUND_30_NOT_FAILURE: list[str] = [
    # kept by a day of the month: done on it or before it
    "обещали до 15-го — сделали 13-го",
    "обещали до 15-го, сделали 15-го",
    "обещали до 15 числа, привезли уже 9-го",
    "обещали к 15-му, а сделали уже 12-го",
    "обещали сделать до 20-го, сделали 19-го числа",
    "обещали до 31-го — сделали 28-го",
    "обіцяли до 15-го — зробили 13-го",
    "обіцяли до 15-го, привезли 10-го, дякую",
    "обіцяли до 25-го числа — встановили 21-го",
    "promised by the 15th, done on the 13th",
    "they promised it by the 20th and it arrived on the 18th",
    "promised by 5th, delivered on the 2nd",
    # kept early with more words between the promise and its day
    "Вы обещали, что ремонт ноутбука закончат до понедельника, а позвонили уже в пятницу — "
    "спасибо!",
    "Ви обіцяли, що меблі доставлять і зберуть до суботи, — так і було, все зробили вже в четвер.",
    "The installer promised the new boiler would be fitted by Saturday, and it was fitted on "
    "Thursday afternoon.",
    "Your support promised that my refund would be back on my card by Monday and it came back "
    "on Friday evening.",
    "Tom promised the spare part would reach us by Wednesday, and it was delivered on Monday.",
    "Менеджер обещал, что заказ привезут до 20-го — так и вышло, привезли уже 17-го.",
    "Ви обіцяли, що переклад буде готовий до 10-го, і надіслали все ще 8-го ввечері.",
    "The courier promised the parcel would be with me by the 20th and it turned up on the 18th.",
    # a promise kept, said with the noun
    "Спасибо, вы сдержали обещание.",
    "Приятно, когда обещания выполняют.",
    "Обещание выполнили, спасибо.",
    "Обещали и выполнили — спасибо",
    "Дякую, ви дотримали обіцянки.",
    "Приємно, коли обіцянки виконують.",
    "Обіцянку виконали повністю, дякую.",
    "Обіцяли і зробили, дякую!",
    "Thanks, you kept your promise.",
]

ROUND_30_STILL_FAILURE: list[str] = [
    # late by a day of the month, another month, only then, half done
    "обещали к 15-му, а сделали только 20-го",
    "обещали до 15-го — сделали 20-го",
    "обещали до 5-го — сделали 13-го",
    "обещали до 15-го — сделали 13-го, но не всё",
    "обещали до 5 мая — сделали 30-го",
    "обещали до 15-го числа следующего месяца — сделали 20-го",
    "обещали до 15-го, а сделали аж 29-го",
    "обіцяли до 15-го — зробили 20-го",
    "обіцяли до 15-го, а зробили лише 22-го",
    "promised by the 15th, done on the 20th",
    "promised by the 15th but it only arrived on the 13th of next month",
    "they promised by the 5th and it only came on the 12th",
    "Менеджер обещал, что шкаф доставят до субботы, а привезли только в четверг следующей недели.",
    "Tom promised the spare part would reach us by Wednesday, and it was only delivered on Friday.",
    "Менеджер обещал, что заказ привезут до 20-го, а привезли только 25-го.",
    # a promise broken, said with the noun
    "Обещания так и не выполнили",
    "Вы не сдержали обещание, интернета нет неделю.",
    "Обещали и не сделали.",
    "Обещали и сделали, но криво, всё течёт.",
    "Ви не дотримали обіцянки, інтернету нема тиждень.",
    "Обіцянку не виконали.",
    "Обіцяли і зробили, але криво, все тече.",
]


@pytest.mark.parametrize("text", ROUND_30_NOT_FAILURE)
def test_round_30_a_promise_kept_by_its_day_or_said_kept_is_no_failure(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize("text", ROUND_30_STILL_FAILURE)
def test_round_30_a_promise_kept_late_or_broken_stays_a_failure(text: str) -> None:
    assert "service_failure" in {s.name for s in detect(text)}


# Round 31: a plain report that a product of ours does not work, not when asked, supposed,
# of hours or resolved; watching a staff member; the official scheme's "ii" in Ukrainian.
ROUND_31_NOT_WORKING: dict[str, list[str]] = {
    "ru.fail.service_not_working": [
        "интернет не работает",
        "сайт не открывается",
        "У меня не открывается приложение",
        "касса не работает, помогите",
        "Интернет не работает. Что делать?",
    ],
    "ru.fail.done_but_not_working": [
        "подключили, но не работает",
        "Установили новый роутер, а интернет всё равно не работает",
    ],
    "uk.fail.service_not_working": [
        "інтернет не працює",
        "сайт не відкривається",
        "у вас у селі зв'язок взагалі не ловить",
    ],
    "uk.fail.done_but_not_working": ["підключили, але не працює"],
    "en.fail.service_not_working": [
        "the app doesn't work",
        "the website won't open",
        "The app isn't working, what should I do?",
    ],
    "en.fail.done_but_not_working": [
        "we were connected but it doesn't work",
        "We installed the update but the app doesn't open",
    ],
}

ROUND_31_NOT_A_FAILURE: list[str] = [
    # asked: whether it works, how to make it
    "не работает кнопка? как её включить",
    "Интернет не работает? Проверьте кабель",
    "інтернет не працює? перевірте кабель",
    "the app doesn't work?",
    "how do I turn on the button if it doesn't work?",
    # supposed
    "если не заработает — напишу",
    "Если интернет не работает, перезагрузите роутер",
    "якщо не запрацює — напишу",
    "Якщо сайт не відкривається, очистіть кеш",
    "if it doesn't work I'll write again",
    "If the website doesn't load, clear your cache",
    # resolved, or said working
    "уже всё работает",
    "не работает? — работает!",
    "Интернет не работает, перезагрузил роутер — заработал, спасибо",
    "вже все працює",
    "Інтернет не працював, але вже все працює, дякую",
    "it's all working now",
    "the internet doesn't work, I restarted the router and it works now",
    # hours, someone's old number, the client's own card
    "Телефон поддержки по выходным не работает",
    "Она сказала, что в субботу не работает",
    "the app doesn't work on weekends",
    "Старый номер уже не работает, смените, пожалуйста",
    "my card doesn't work",
]


@pytest.mark.parametrize(
    ("rule", "text"),
    [(rule, text) for rule, texts in ROUND_31_NOT_WORKING.items() for text in texts],
)
def test_round_31_a_product_said_not_to_work_is_a_failure(rule: str, text: str) -> None:
    assert rule in {e.rule for e in signal(text, "service_failure").evidence}


@pytest.mark.parametrize("text", ROUND_31_NOT_A_FAILURE)
def test_round_31_not_working_asked_supposed_or_resolved_is_no_failure(text: str) -> None:
    assert "service_failure" not in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "said", "about"),
    [
        ("Сайт опять не работает", "не работает", "сайт"),
        ("Не работает приложение", "Не работает", "приложение"),
        ("Інтернет зовсім не працює", "не працює", "інтернет"),
        ("The checkout just doesn't load", "doesn't load", "checkout"),
    ],
)
def test_round_31_the_evidence_is_the_failure_words_and_the_product_what_it_is_about(
    text: str, said: str, about: str
) -> None:
    """The pattern's `said` group is the evidence: the product's name stays out of it, so
    the problem is told by it (problem_keys leaves the evidence's own words out)."""
    (failure,) = keyed(detect(text), text, None)
    (piece,) = [e for e in failure["evidence"] if e["rule"].endswith("service_not_working")]
    assert (piece["text"], about in piece["about"]) == (said, True)


# Round 32: "why is it not working (again)?" is a complaint, not a how-to question (round
# 31 read «Почему не работает интернет?» as one), and "nothing works" reports an outage in
# English as «ничего не работает» does in Russian. Each rule the evidence must hold.
ROUND_32_REPORTS: dict[str, str] = {
    "Почему опять не работает интернет?": "ru.fail.service_not_working",
    "Почему не работает интернет?": "ru.fail.service_not_working",
    "Почему интернет опять не работает?": "ru.fail.service_not_working",
    "Чому знову не працює інтернет?": "uk.fail.service_not_working",
    "Чому не працює інтернет?": "uk.fail.service_not_working",
    "Why is the internet down again?": "en.fail.why_down",
    "Why isn't the app working?": "en.fail.why_not_working",
    "Why won't the website open?": "en.fail.why_not_working",
    "Nothing works since this morning": "en.fail.nothing_works",
    "nothing is working, help": "en.fail.nothing_works",
}
ROUND_32_NOT_A_FAILURE: list[str] = [
    "Does nothing work? Try restarting the router.",
    "If nothing works, call us.",
    "nothing works?",
    "Nothing works better than a restart.",
    # the question is still a how-to question without a why-word
    "не работает кнопка? как её включить",
    "Интернет почему-то не работает? Проверьте кабель",
]


@pytest.mark.parametrize(("text", "rule"), ROUND_32_REPORTS.items())
def test_round_32_why_not_working_and_nothing_works_are_reports(text: str, rule: str) -> None:
    assert rule in {e.rule for e in signal(text, "service_failure").evidence}


@pytest.mark.parametrize("text", ROUND_32_NOT_A_FAILURE)
def test_round_32_nothing_works_asked_supposed_or_compared_is_no_failure(text: str) -> None:
    assert "service_failure" not in {s.name for s in detect(text)}


ROUND_31_WATCHING: dict[str, list[str]] = {
    "ru.violence.watching": [
        "Ольга, я за вами слежу, видел вас вчера у подъезда",
        "Olga, ya za vami slezhu, videl vas vchera u podyezda",
    ],
    "ru.violence.know_routine": [
        "Я знаю, на какой машине вы ездите",
        "Я знаю, на какой машине ездит ваш менеджер",
        "Олег, я знаю, во сколько вы выходите с работы",
    ],
    "ru.violence.seen_at_your_home": ["Видел вашу Ольгу вчера, видел её у её подъезда"],
    "uk.violence.watching": ["Я стежу за вами, бачив вас біля під'їзду"],
    "uk.violence.know_routine": ["Я знаю, на якій машині ви їздите"],
    "en.violence.seen_at_your_home": [
        "I've been watching you, saw you outside your building yesterday"
    ],
    "en.violence.know_routine": ["I know what time she leaves the office"],
}

ROUND_31_NOT_WATCHING: list[str] = [
    "Давно слежу за вами в инстаграме, решила заказать торт",
    "Я слежу за статусом заказа, он не меняется",
    "Курьер, я видел вас у подъезда, почему не позвонили?",
    "Я знаю, на какой машине приедет мастер?",
    "Не знаю, на какой машине вы ездите, но припарковались вы на газоне",
    "Давно стежу за вами в інстаграмі, вирішила замовити",
    "I've been watching you grow for years, love the new shop",
    "I saw you outside the building, why didn't you ring the bell?",
    "Я за вами слежу",
]


@pytest.mark.parametrize(
    ("rule", "text"), [(rule, text) for rule, texts in ROUND_31_WATCHING.items() for text in texts]
)
def test_round_31_watching_a_staff_member_is_a_threat(rule: str, text: str) -> None:
    assert rule in {e.rule for e in signal(text, "violence_threat").evidence}


@pytest.mark.parametrize("text", ROUND_31_NOT_WATCHING)
def test_round_31_following_the_company_or_seeing_a_courier_is_no_threat(text: str) -> None:
    assert "violence_threat" not in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "reading", "language"),
    [
        ("zapyshit na stantsii, bud laska", "запишіть на станції, буд ласка", "uk"),
        ("do stantsii metro", "до станции метро", "ru"),
        ("Olga, ya za vami slezhu, videl vas vchera u podyezda",
         "ольга, я за вами слежу, видел вас вчера у подъезда", "ru"),
    ],
)  # fmt: skip
def test_round_31_official_ii_and_the_hard_sign_are_read(
    text: str, reading: str, language: str
) -> None:
    morph = default_morphology()
    folded = prepared(text)
    found = morph.reader.read(folded, tokenize(folded, load_lexicon().clause_words).words)

    assert found is not None and (found.text, found.language) == (reading, language)


@pytest.mark.parametrize(
    ("word", "reading"),
    [("stantsii", "станції"), ("stantsiia", "станція"), ("stantsiiu", "станцію"),
     ("informatsii", "інформації"), ("mariia", "марія")],
)  # fmt: skip
def test_round_31_the_official_ii_is_read_ukrainian(word: str, reading: str) -> None:
    assert default_morphology().reader.word(word)["uk"] == (reading, True)


# Round 33: a done day far before the promised one is next month's (late) unless «уже» /
# "already" says it came early; «приятно» of a situation is courtesy, no advance; the
# separating mark (під'їзд, подъезд) where Latin letters leave it out.
ROUND_33_LATE_NEXT_MONTH: list[str] = [
    "обещали до 25-го — сделали 3-го",
    "обещали до 20-го, привезли 5-го",
    "обещали до 31-го — сделали 16-го",
    "обещали до 25 ноября — сделали 3 декабря",
    "обіцяли до 25-го — зробили 3-го",
    "обіцяли до 28-го числа, встановили 2-го",
    "promised by the 25th, done on the 3rd",
    "they promised it by the 30th and it arrived on the 4th",
    "promised by the 25th of November, done on the 3rd of December",
]

ROUND_33_KEPT_EARLY: list[str] = [
    "обещали до 25-го, сделали 20-го",
    "обещали до 20-го — сделали 6-го",
    "обещали до 31-го — сделали 17-го",
    "обещали до 25-го, а сделали уже 3-го",
    "обіцяли до 25-го, зробили 20-го",
    "обіцяли до 25-го, а зробили вже 3-го",
    "promised by the 25th, done on the 20th",
    "promised by the 25th and it was already done on the 3rd",
]


@pytest.mark.parametrize("text", ROUND_33_LATE_NEXT_MONTH)
def test_round_33_a_done_day_far_before_the_promised_one_is_next_months(text: str) -> None:
    assert "service_failure" in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_33_KEPT_EARLY)
def test_round_33_a_done_day_near_before_or_said_early_is_a_promise_kept(text: str) -> None:
    assert detect(text) == []


ROUND_33_COURTESY: list[str] = [
    "Хочу поблагодарить вашего менеджера Ольгу: она обещала, что кухню привезут и соберут до "
    "пятницы, — так и вышло, всё сделали уже в четверг. Очень приятно, когда обещания "
    "выполняют.",
    "Очень приятно, Игорь. Давайте обсудим договор.",
    "Мне было очень приятно с вами пообщаться, спасибо.",
    "Очень мило с вашей стороны, спасибо!",
    "ochen priyatno, spasibo za pomoshch",
    "Дуже приємно, коли обіцянки виконують.",
    "Дуже мило з вашого боку, дякую!",
    "Nice to meet you, Anna. Very nice of you to call back.",
]

ROUND_33_STILL_ADVANCES: list[str] = [
    "Вы такая приятная, можно ваш номер?",
    "Очень приятно на вас смотреть, вы красавица",
    "Так приятно слышать вас каждый день",
    "У вас очень приятный голос",
    "Ви така приємна, дайте номер",
    "у вас дуже приємний голос",
    "ochen priyatno s vami obshchatsya, mozhno vash lichnyi nomer?",
    "You're so cute, can I get your number?",
]


@pytest.mark.parametrize("text", ROUND_33_COURTESY)
def test_round_33_pleasant_said_of_a_situation_is_no_advance(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize("text", ROUND_33_STILL_ADVANCES)
def test_round_33_pleasant_said_of_her_stays_an_advance(text: str) -> None:
    assert "harassment" in {s.name for s in detect(text)}


@pytest.mark.parametrize(
    ("word", "language", "reading"),
    [
        ("pidizdu", "uk", "під'їзду"),  # KMU 2010: no apostrophe, ї inside a word is "i"
        ("pid'izdu", "uk", "під'їзду"),
        ("pidyizdu", "uk", "під'їзду"),
        ("pid'yizdu", "uk", "під'їзду"),
        ("pidjizdu", "uk", "під'їзду"),
        ("rozizd", "uk", "роз'їзд"),
        ("podezd", "ru", "подъезд"),
        ("pod'ezda", "ru", "подъезда"),
        ("podyezda", "ru", "подъезда"),
        ("obyasnit", "ru", "объяснит"),
    ],
)
def test_round_33_the_separating_mark_left_out_is_read(
    word: str, language: str, reading: str
) -> None:
    assert default_morphology().reader.word(word)[language] == (reading, True)


@pytest.mark.parametrize(
    "text",
    [
        "Ya stezhu za vamy, bachyv vas bilia pidizdu",
        "ya stezhu za vamy, bachyv vas bilya pidyizdu vchora",
        "Olga, ya za vami slezhu, videl vas vchera u podezda",
        "Olga, ya za vami slezhu, videl vas vchera u pod'ezda",
    ],
)
def test_round_33_watching_at_the_door_in_latin_letters_is_a_threat(text: str) -> None:
    (signal,) = detect(text)
    assert signal.name == "violence_threat"
    assert {e.rule.split(".", 1)[1] for e in signal.evidence} == {
        "violence.watching",
        "violence.seen_at_door",
    }


def test_round_33_a_courier_seen_at_the_door_in_latin_letters_is_no_threat() -> None:
    # seen at the door and asked why he did not call: no threat, as in Cyrillic (round 31)
    assert detect("kurier, ya bachyv vas bilia pidizdu, chomu ne podzvonyly?") == []


# Round 34: a compliment is an advance when it is about her (ru/uk.harass.so_pretty's
# `about`), not about a thing; looking at her is pleasant in all three languages, with or
# without «очень»; working with her, talking to her, meeting her stay courtesy.
ROUND_34_COMPLIMENTS_TO_THINGS: list[str] = [
    "Передайте вашему директору: у вашего салона такие красивые большие витрины.",
    "Голос в вашем голосовом меню очень приятный. Какая студия озвучивала?",
    "У вас такие красивые витрины!",
    "Ваш сайт такой красивый, удобно заказывать",
    "Такой приятный сервис, спасибо",
    "Дякую, дуже гарні речі, якість супер!",
    "Вивіска у вашої аптеки на Соборній така гарна, з підсвіткою.",
    "Дуже гарний магазин у вас",
    "Your store is so beautiful, thanks for the quick delivery",
    "ok the new dashboard is gorgeous, whole team's obsessed",
    "The photos came out beautiful, thank you so much",
]

ROUND_34_COMPLIMENTS_TO_HER: list[str] = [
    "Вы такая красивая",
    "Марина такая милая",
    "Денис из поддержки такой милый",
    "Olga takaya milaya",
    "Девушка на кассе очень красивая",
    "Голос у вас очень приятный",
    "У вас такая милая улыбка",
    "Ти така гарна",
    "Оксана така гарна",
    "У тебе такі гарні очі",
    "Він такий милий",
    "Дівчина на касі дуже гарна",
    "You're so cute",
    "hey gorgeous, how's your day going?",
    "Thanks beautiful!",
    "Miss Hannah is gorgeous, honestly she's the only reason I come",
]


@pytest.mark.parametrize("text", ROUND_34_COMPLIMENTS_TO_THINGS)
def test_round_34_a_compliment_to_a_thing_is_no_advance(text: str) -> None:
    assert "harassment" not in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_34_COMPLIMENTS_TO_HER)
def test_round_34_a_compliment_to_her_is_an_advance(text: str) -> None:
    assert "harassment" in {s.name for s in detect(text)}


ROUND_34_LOOKING_AT_HER: list[tuple[str, str]] = [
    ("Дуже приємно на вас дивитися", "uk.harass.pleasant_to_look"),
    ("приємно на тебе дивитися щодня", "uk.harass.pleasant_to_look"),
    ("На вас так приємно дивитися", "uk.harass.pleasant_to_look"),
    ("Приємно милуватися вами", "uk.harass.pleasant_to_look"),
    ("Дуже приємно вас чути", "uk.harass.pleasant_to_hear"),
    ("приятно на вас смотреть", "ru.harass.pleasant_to_look"),
    ("На тебя так приятно смотреть", "ru.harass.pleasant_to_look"),
    ("Очень приятно вас слышать", "ru.harass.pleasant_to_hear"),
    ("Так приятно слышать вас каждый день", "ru.harass.pleasant_to_hear"),
    ("It's so nice to look at you", "en.harass.pleasant_to_look"),
    ("A pleasure to look at you, honestly", "en.harass.pleasant_to_look"),
    ("You're a pleasure to look at", "en.harass.pleasant_to_look"),
    ("you are easy on the eyes", "en.harass.pleasant_to_look"),
]

ROUND_34_PLEASANT_COURTESY: list[str] = [
    "Приємно з вами працювати",
    "Дуже приємно з вами працювати, дякую!",
    "Приємно було поспілкуватися",
    "Дуже приємно було поспілкуватися",
    "Приємно вас чути, я з приводу рахунку",
    "Приємно дивитися на ваш новий сайт",
    "Очень приятно с вами работать",
    "Приятно было пообщаться",
    "Приятно вас слышать, я по поводу счёта",
    "Приятно смотреть на ваш новый сайт",
    "Nice to meet you",
    "A pleasure doing business with you",
    "nice working with you",
    "So nice to see you again",
    "It was a pleasure to look at your proposal",
    "nice to look at her portfolio",
]


@pytest.mark.parametrize(("text", "rule"), ROUND_34_LOOKING_AT_HER)
def test_round_34_looking_at_her_is_an_advance(text: str, rule: str) -> None:
    (signal,) = detect(text)
    assert signal.name == "harassment"
    assert rule in {e.rule for e in signal.evidence}


@pytest.mark.parametrize("text", ROUND_34_PLEASANT_COURTESY)
def test_round_34_pleasant_work_talk_and_meeting_stay_courtesy(text: str) -> None:
    assert detect(text) == []


# Round 35: an endearment of someone who is not her (a child, a pet, a kindergarten
# group: `unless` of *.harass.pet_names), a business contact rather than hers
# (give_contact, your_socials), a third person praised for her character, and «она» that
# is the thing just named are no advance; the advances next to them still are.
ROUND_35_NOT_ADVANCES: list[str] = [
    "Сонечка у нас теперь ходит на плавание, можно перевести её в субботнюю группу?",
    "Моя дочка Сонечка ходит к вам на английский",
    "Мать воспитанника группы «Солнышко»",
    "Наш кот, котик Барсик, боится переноски",
    "Це мама Марка з групи «Сонечко».",
    "привезти кицьку до вас не можу — автобусом з переноскою важко",
    "Мій кіт, кицька Мурка, боїться таксі",
    "I'M AT THE CHECKOUT WITH A CRYING BABY, I'M SHAKING",
    "We're out of the honey, can you restock?",
    "We've had Maria twice and she's lovely.",
    "The cleaner was great, she's so sweet with the kids",
    "Пришлите нам номер водителя, пожалуйста",
    "Пришлите номер заказа",
    "Скиньте номер менеджера, который ведёт наш договор",
    "Дайте рабочий номер бухгалтерии",
    "Дайте контакт, по которому такие вещи решаются в тот же день",
    "Если удобнее голосом, оставлю номер разработчика: Алексей",
    "Скиньте телеграм канал компании",
    "Киньте ссылки на ваши соцсети — хотим отметить вас в посте",
    "Оплатила по ссылке, которую прислал ваш менеджер в WhatsApp",
    "Надішліть номер водія, будь ласка",
    "Дайте робочий номер відділу продажів",
    "Дайте контакт, за яким це вирішують",
    "Скиньте посилання на вашу сторінку, хочемо позначити вас у дописі",
    "send me your manager's work number",
    "what's your company's LinkedIn?",
    "Заказала сумку, она очень красивая",
    "Купил телефон, он такой красивый",
    "Замовила сукню, вона дуже гарна",
    "До свидания!",
    "Ще одна партія з відколами — і до побачення.",
    "Оставлю номер телефона для связи: +7 903 111-22-33",
    "Оставляю свой номер, перезвоните",
    "Залишаю свій номер, передзвоніть",
    "Відповідь від вас була одна: «запит передано»",
    "Чи можна поставити підписку на каву на паузу?",
    "Скидка на кофе ещё действует?",
]

ROUND_35_STILL_ADVANCES: list[str] = [
    "Привет, солнышко, как дела?",
    "Спасибо, зайка!",
    "Привет, киска, когда заканчиваешь?",
    "Дякую, сонечко!",
    "Привіт, красуне, скинь свій інстаграм",
    "thanks babe, you're the best",
    "hey baby, what are you doing tonight?",
    "you're so lovely, what's your number?",
    "she's gorgeous, is she single?",
    "Дадите номер не регистратуры, а свой?",
    "Скиньте свой личный номер",
    "Дай номер, после работы созвонимся",
    "Скиньте её инсту",
    "Дайте його номер",
    "Скиньте свій особистий номер",
    "Скинь свой вк",
    "Дай свій вайбер",
    "can I get your number? coffee after work?",
    "Вы замужем?",
    "пішли на каву?",
    "пойдём на кофе после работы?",
    "Пришла девушка, она очень красивая",
    "Была у мастера Оли, она такая милая",
    "Ваша адміністраторка, вона дуже гарна",
    "Вы такая красивая",
]


@pytest.mark.parametrize("text", ROUND_35_NOT_ADVANCES)
def test_round_35_someone_or_something_else_is_no_advance(text: str) -> None:
    assert "harassment" not in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_35_STILL_ADVANCES)
def test_round_35_advances_next_to_them_still_fire(text: str) -> None:
    assert "harassment" in {s.name for s in detect(text)}


# Round 36 (docs/detection.md): what a review and an acceptance run found missing. Each
# positive with the signal and the rule that must say it.
ROUND_36_SAID: list[tuple[str, str, str]] = [
    # A compliment said to her as a pet name, then a request (it fired until round 34).
    ("gorgeous, call me", "harassment", "en.harass.pretty_vocative"),
    ("Gorgeous, call me tonight", "harassment", "en.harass.pretty_vocative"),
    ("My gorgeous, I miss you", "harassment", "en.harass.pretty_vocative"),
    ("Hey gorgeous, text me when you're free", "harassment", "en.harass.pretty_vocative"),
    ("Such a pretty voice you have", "harassment", "en.harass.voice"),
    ("What a charming voice, honestly", "harassment", "en.harass.voice"),
    ("Emily is gorgeous", "harassment", "en.harass.name_looks"),
    ("Hannah looks so pretty today", "harassment", "en.harass.name_looks"),
    ("Your receptionist is stunning", "harassment", "en.harass.name_looks"),
    ("Какая вы красивая, Ольга!", "harassment", "ru.harass.what_pretty"),
    ("Какая же ты милая", "harassment", "ru.harass.what_pretty"),
    ("Яка ж ви гарна", "harassment", "uk.harass.what_pretty"),
    ("Оксано, яка ви чарівна!", "harassment", "uk.harass.what_pretty"),
    # Our change broke it: a failure, not an outage report (as ru/uk).
    ("Since your update the app is not working.", "service_failure", "en.fail.after_update"),
    ("Ever since your migration the app doesn't work.", "service_failure", "en.fail.after_update"),
    # A threat through influential acquaintances.
    (
        "У мене є знайомий у податковій, він вами займеться",
        "legal_threat",
        "uk.legal.connections",
    ),
    ("у меня знакомый в налоговой, он вами займётся", "legal_threat", "ru.legal.connections"),
    ("Мой друг в министерстве займётся вами лично.", "legal_threat", "ru.legal.connections"),
    ("Мої друзі в міністерстві займуться вами.", "legal_threat", "uk.legal.connections"),
    (
        "I have a friend at the tax office who'll take care of you",
        "legal_threat",
        "en.legal.connections",
    ),
    ("My cousin in the police will deal with you.", "legal_threat", "en.legal.connections"),
    # Trashing a company in forums is its reputation.
    ("I will trash you in every logistics forum", "reputation_threat", "en.rep.smear"),
    ("We'll trash your company on every review site", "reputation_threat", "en.rep.smear"),
]

# Look-alikes: (text, the signal that must not fire).
ROUND_36_NOT_SAID: list[tuple[str, str]] = [
    ("The new dashboard is gorgeous, call me when the next one ships", "harassment"),
    ("Gorgeous, call me when it's back in stock", "harassment"),
    ("Beautiful, call me tomorrow to confirm", "harassment"),
    ("The sweet voice message you left was helpful", "harassment"),
    ("Your pretty voice assistant keeps hanging up", "harassment"),
    ("The dashboard is gorgeous", "harassment"),
    ("The cake Sarah made is gorgeous", "harassment"),
    ("Paris is gorgeous in spring, book us two nights", "harassment"),
    ("Everything is gorgeous, thank you!", "harassment"),
    ("Какой красивый сайт!", "harassment"),
    ("Какая у вас красивая витрина", "harassment"),
    ("Який гарний магазин!", "harassment"),
    ("Яка у вас гарна вивіска", "harassment"),
    ("У меня знакомый в налоговой, он подсказал, как заполнить декларацию.", "legal_threat"),
    ("Мій знайомий у податковій порадив вашу компанію.", "legal_threat"),
    ("My friend at the tax office will take care of your paperwork", "legal_threat"),
    ("A friend at the police station recommended you.", "legal_threat"),
    ("I will trash you in every logistics forum", "violence_threat"),
    ("The courier said he'd trash the parcel if nobody's home", "reputation_threat"),
    ("After the update of my phone the app works fine, thanks", "service_failure"),
]

# Still violence: trashing her or the office itself.
ROUND_36_STILL_VIOLENCE = ["I'll trash you", "I will trash your office", "I'll trash your van"]


@pytest.mark.parametrize(("text", "signal", "rule"), ROUND_36_SAID)
def test_round_36_said(text: str, signal: str, rule: str) -> None:
    found = {s.name: {e.rule for e in s.evidence} for s in detect(text)}
    assert rule in found.get(signal, set()), found


@pytest.mark.parametrize(("text", "signal"), ROUND_36_NOT_SAID)
def test_round_36_look_alikes_say_nothing(text: str, signal: str) -> None:
    assert signal not in {s.name for s in detect(text)}


@pytest.mark.parametrize("text", ROUND_36_STILL_VIOLENCE)
def test_round_36_trashing_her_or_the_office_is_still_violence(text: str) -> None:
    assert "violence_threat" in {s.name for s in detect(text)}
