"""When the threats stop, the people an escalation told learn that its hold is lifted and
the investigation may start (seed 003): one notice each, saying why, in ru, uk and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.escalator.hold_notices import hold_lifted_notices
from services.escalator.lifecycle import Notified
from services.notifier.domain import render
from shared.contracts import SendNotification
from tests.unit.test_escalation_lifecycle import escalation
from tests.unit.test_routing_policy import identity, message, verified_message

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
HEAD = Notified("head_of_support", "head.support@careline.example", 1)
LEGAL = Notified("legal", "legal@careline.example", 2, "climb")
HOLD = {
    "rule": "blackmail-to-head-of-support",
    "reason": {"ru": "Разбирательство приостановлено до прекращения угроз."},
    "since": "2025-03-14T09:00:00+00:00",
    "lifted_at": NOW.isoformat(),
    "lifted_by": "message x",
}
SAID = {
    "ru": "пауза снята: в сообщении {} угроз нет, разбирательство можно начинать",
    "uk": "паузу знято: у повідомленні {} погроз немає, розгляд можна починати",
    "en": "hold lifted: message {} carries no threats, the investigation may start",
}


ON_FILE = escalation(level=2)
# As the escalator keeps it at opening (notifications.staff_briefing), shortened.
BRIEFING = {
    "rule": "blackmail-to-head-of-support",
    "reason": "reputation_threat 0.90",
    "signals": [{"name": "reputation_threat", "score": 0.9, "words": ["кошмаром"]}],
    "condition_items": [],
    "team_timezone": "Europe/Moscow",
}


def lifted_notices(*notified: Notified) -> tuple[str, list[SendNotification]]:
    calm = verified_message(message("Извините за резкость. Когда вернёте деньги?"), identity())
    held = replace(ON_FILE, notified=notified, kind="reputation", hold=HOLD, briefing=BRIEFING)
    return str(calm.message_id), hold_lifted_notices(held, calm, "ru", NOW)


def test_everyone_the_escalation_told_hears_it_once() -> None:
    _, notes = lifted_notices(HEAD, LEGAL, replace(HEAD, level=2, origin="climb"))

    assert [(n.recipient, n.recipient_role) for n in notes] == [
        ("head.support@careline.example", "head_of_support"),
        ("legal@careline.example", "legal"),
    ]
    assert {n.kind for n in notes} == {"manager_escalation"}
    assert all(n.data["change"] == "hold_lifted" and n.data["level"] == 2 for n in notes)
    assert len({n.notification_id for n in notes}) == 2


def test_the_same_message_asks_for_the_same_notices() -> None:
    first = [n.notification_id for n in lifted_notices(HEAD)[1]]
    assert first == [n.notification_id for n in lifted_notices(HEAD)[1]]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_notice_says_the_hold_is_lifted_and_why(language: str) -> None:
    message_id, (note,) = lifted_notices(HEAD)

    rendered = render(note.model_copy(update={"language": language}))

    assert SAID[language].format(message_id) in rendered.body
    assert SAID[language].format(message_id) in (rendered.html or "")
    assert "2025-03-14 15:00 MSK" in rendered.body  # lifted at, on the team's clock


def test_nobody_told_nobody_to_tell() -> None:
    assert lifted_notices()[1] == []
