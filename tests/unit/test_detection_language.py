"""The detector against what people actually type: inflection, surzhyk, obfuscation,
transliteration, missing punctuation, negation and reported speech."""

from __future__ import annotations

import pytest

from services.escalator.detection import detect
from services.escalator.detection.lexicon import default_morphology
from services.escalator.detection.morphology import PAST

pytestmark = pytest.mark.unit


def names(text: str) -> set[str]:
    return {s.name for s in detect(text)}


def rules(text: str, name: str) -> set[str]:
    return {e.rule for s in detect(text) if s.name == name for e in s.evidence}


@pytest.mark.parametrize(
    "text",
    [
        "Будем решать вопрос судом.",  # instrumental case
        "Засужу!",  # first person future
        "засудю вас усіх",  # surzhyk form no dictionary knows
        "Позовна заява вже у юриста.",
        "Готуємо позов.",
        "подам до суду на вашу контору",  # Russian verb, Ukrainian preposition
        "Подали на вас исковое заявление.",
        "Обратимся в прокуратуру и в Роспотребнадзор",
    ],
)
def test_inflected_and_mixed_legal_threats_match_through_lemmas(text: str) -> None:
    assert "legal_threat" in names(text)


def test_a_lemma_entry_reports_the_original_inflected_words() -> None:
    text = "Тогда встретимся с вами в СУДЕ"

    found = next(s for s in detect(text) if s.name == "legal_threat")

    assert any(e.text == "в СУДЕ" and text[e.start : e.end] == "в СУДЕ" for e in found.evidence)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Вы идиооооты", "abuse"),  # repeated letters
        ("ДЕБИЛЫ!!!", "abuse"),
        ("ах ты с*ка", "abuse"),
        ("пиzдец какой-то", "abuse"),
        ("nu vy i debily", "abuse"),  # transliteration, through the lemma
        ("podam na vas v sud", "legal_threat"),
        ("ПОДАМ НА ВАС В СУД ЕСЛИ НЕ ВЕРНЕТЕ ДЕНЬГИ", "compensation_demand"),
        ("не вернете деньги подам в суд", "legal_threat"),  # no punctuation at all
    ],
)
def test_what_people_type_still_matches(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Я не собираюсь на вас подавать в суд",
        "Ми не будемо звертатися до суду",
        "I have no intention of suing you",
        "I'm not going to take legal action",
    ],
)
def test_negation_reaches_across_auxiliaries(text: str) -> None:
    assert "legal_threat" not in names(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Мне угрожал сосед, сказал, что подаст в суд", "legal_threat"),
        ("Сосед грозился меня убить, посоветуйте, как сохранить переписку", "violence_threat"),
        ("Сусід погрожував, що подасть до суду на нас", "legal_threat"),
        (
            "Someone threatened to burn down my office, can you export the chat log?",
            "violence_threat",
        ),
        ("He said he'll sue me, can you send me the invoice copies?", "legal_threat"),
        ("My boss will kill me if the report is late", "violence_threat"),
    ],
)
def test_someone_elses_threat_is_not_the_clients(text: str, name: str) -> None:
    assert name not in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Я вам сказал: не вернёте деньги — подам в суд.",  # the client quoting himself
        "I told you I would sue you if this happened again.",
    ],
)
def test_a_client_repeating_his_own_threat_is_still_a_threat(text: str) -> None:
    assert "legal_threat" in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please send the contract to our lawyer.",
        "My lawyer will review the contract tomorrow.",
        "Наш юрист посмотрит договор до пятницы.",
        "Надішліть договір нашому юристу.",
        "Олена Коваль\nюрист ТОВ «Альфа»",
    ],
)
def test_a_lawyer_is_not_a_threat(text: str) -> None:
    assert "legal_threat" not in names(text)


def test_quoted_history_is_ignored() -> None:
    text = "> Подам на вас в суд, идиоты!\nСпасибо, вопрос решён."

    assert names(text) == set()


@pytest.mark.parametrize(
    "text",
    ["Please kill the process", "Как убить зависший процесс?", "You guys killed it, thanks!"],
)
def test_technical_or_friendly_kill_is_no_violence(text: str) -> None:
    assert "violence_threat" not in names(text)


@pytest.mark.parametrize(
    "text",
    ["Встретимся в суде.", "Зустрінемося в суді!"],
)
def test_meeting_in_court_is_a_legal_threat_not_harassment(text: str) -> None:
    assert names(text) == {"legal_threat"}


def test_past_tense_is_a_morphological_key() -> None:
    keys = default_morphology().analyze("ответили")

    assert "ответить" in keys
    assert "ответить" + PAST in keys
    assert "ответить" + PAST not in default_morphology().analyze("ответите")


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("Вы не ответили на моё письмо", True),
        ("Если не ответите до вечера, пишу жалобу в прокуратуру", False),
    ],
)
def test_a_past_failure_differs_from_a_condition(text: str, present: bool) -> None:
    assert ("ru.fail.not_done" in rules(text, "service_failure")) is present
