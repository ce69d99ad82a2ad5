"""Seed 002, case 3: a client's advances to the manager by name («Ольга, вы такая красивая»)
spare her the client's cases as a threat does, but they are no threat: the manager, the
one standing in and the supervisor read them as personal advances, with the article's
advice (work only, working hours, corporate channels), not a call to the police (ru/uk/en)."""

from __future__ import annotations

import pytest

from services.escalator.staff_language import of_message
from services.escalator.threatened import THREATENED_KIND, threatened_notices
from services.notifier.domain import render, render_kind
from services.notifier.samples import SAMPLES
from shared.contracts import Language
from tests.unit.test_routing_policy import POLICY, escalation
from tests.unit.test_threatened_staff import decided

pytestmark = pytest.mark.unit

ADVANCES = {
    "ru": "Ольга, вы такая красивая, давайте встретимся вечером?",
    "uk": "Ольго, ви така гарна, давайте зустрінемося ввечері?",
    "en": "Olga, you are so beautiful, let us meet tonight?",
}
SAID = {
    "ru": ("Клиент оказывает вам личные знаки внимания", "только о работе"),
    "uk": ("Клієнт виявляє до вас особисті знаки уваги", "лише про роботу"),
    "en": ("A client makes personal advances to you", "Keep to work with the client"),
}
THREAT_WORDS = {
    "ru": ("угрожает", "угроза", "полици"),
    "uk": ("погрожує", "погроза", "поліці"),
    "en": ("threatens", "threat", "police"),
}
STAND_IN = {
    "ru": ("Клиент оказывает своему менеджеру личные знаки внимания", "угрожает своему"),
    "uk": ("Клієнт виявляє до свого менеджера особисті знаки уваги", "погрожує своєму"),
    "en": ("The client makes personal advances to their account manager", "threatens their"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_manager_named_by_advances_reads_advances_not_a_threat(language: Language) -> None:
    verified, people, decisions = decided(ADVANCES[language], language=language)
    (harassment,) = [d for d in decisions if d.rule.kind == "harassment"]
    event = escalation(harassment, verified)

    (note,) = threatened_notices(
        people, harassment, event, verified, of_message(POLICY, verified.identity)
    )
    rendered = render(note)

    subject, advice = SAID[language]
    assert rendered.subject.startswith(f"[{event.severity}] {subject}")
    for text in (rendered.body, rendered.html or ""):
        assert advice in text
        assert not any(word in text.lower() for word in THREAT_WORDS[language]), text


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_threat_is_still_told_as_one(language: Language) -> None:
    data = {**SAMPLES[THREATENED_KIND], "signals": ["violence_threat", "harassment"]}

    rendered = render_kind(THREATENED_KIND, language, data)

    assert THREAT_WORDS[language][2] in rendered.body.lower()


def _spare(over: str) -> dict[str, object]:
    return {
        "escalation_id": "0b9b5f4e-1d7a-4c39-9a57-5e1c0f3a2b11",
        "kind": "harassment" if over == "advances" else "violence",
        "reason": "-",
        "since": "2025-03-15T09:00:00+00:00",
        "spares_only": True,
        "over": over,
        "spared": ["Ольга Петрова"],
    }


@pytest.mark.parametrize("kind", ["manager_escalation", "staff_digest"])
@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_one_standing_in_for_a_manager_spared_advances_is_told_so(
    kind: str, language: Language
) -> None:
    base = {**SAMPLES[kind], "stand_in_for": "threatened_account_manager"}
    advances, threats = STAND_IN[language]

    spared = render_kind(kind, language, {**base, "subject_holds": [_spare("advances")]})
    threatened = render_kind(
        kind, language, {**base, "subject_holds": [_spare("advances"), _spare("threats")]}
    )

    for text in (spared.body, spared.html or ""):
        assert advances in text and threats not in text
    assert threats in threatened.body and advances not in threatened.body
