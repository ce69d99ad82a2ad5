"""The people an escalation told hear of it again when its hold is lifted (seed 003: the
investigation may start) and when the answer promised to the client falls due (seed 001):
one notice each, saying why, in ru, uk and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from markupsafe import escape

from services.escalator.hold_notices import hold_lifted_notices, promise_due_notices
from services.escalator.lifecycle import Notified
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from shared.case_ref import case_ref
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
    return str(calm.message_id), hold_lifted_notices(held, calm, StaffLanguages("ru"), NOW)


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


# --- a hold that only spared the manager the client's advances named ----------------------

SPARING = {
    "rule": "harassment-to-supervisor",
    "reason": {
        "ru": "Менеджер, которому клиент адресовал личные знаки внимания, не ведёт его дела."
    },
    "while_signals": ["harassment"],
    "since": "2025-02-10T09:00:00+00:00",
    "message_id": "m-1",
    "spares": ["am-petrova"],
    "spared_names": ["Ольга Петрова"],
    "calm_for": "P30D",
    "apology_lifts": False,
    "spares_only": True,
    "lifted_at": NOW.isoformat(),
    "lifted_by": "message x",
}
SPARE_LIFTED = {
    "ru": (
        "Дела клиента снова ведёт его менеджер",
        "30 дн. без личных знаков внимания: дела клиента снова ведёт его менеджер (сообщение {})",
    ),
    "uk": (
        "Справи клієнта знову веде його менеджер",
        "30 дн. без особистих знаків уваги: справи "
        "клієнта знову веде його менеджер (повідомлення {})",
    ),
    "en": (
        "The client's cases go to their account manager again",
        "30 days without advances: the client's cases go to their account manager again "
        "(message {})",
    ),
}
SPARED_UNTIL = {
    "ru": "Дела клиента ведёт заместитель, а не Ольга Петрова — адресат личных знаков внимания "
    "клиента (так было до 2025-03-14 15:00 MSK).",
    "uk": "Справи клієнта веде заступник, а не Ольга Петрова — адресат особистих знаків уваги "
    "клієнта (так було до 2025-03-14 15:00 MSK).",
    "en": "The client's cases go to the deputy, not to Ольга Петрова, whom the client's advances "
    "named (until 2025-03-14 15:00 MSK).",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_end_of_a_sparing_hold_hands_the_cases_back_and_starts_no_investigation(
    language: str,
) -> None:
    """Seed 002, case 3: a month without advances. Nothing was paused, so the holders are
    not told that "the message carries no threats, the investigation may start"."""
    calm = verified_message(message("Когда будет готов экспорт?"), identity())
    held = replace(ON_FILE, notified=(HEAD,), kind="harassment", hold=SPARING, briefing=BRIEFING)

    (note,) = hold_lifted_notices(held, calm, StaffLanguages("ru"), NOW)
    rendered = render(note.model_copy(update={"language": language}))

    title, said = SPARE_LIFTED[language]
    assert note.data["change"] == "spare_lifted"
    assert title in rendered.subject
    assert said.format(calm.message_id) in rendered.body
    assert escape(said.format(calm.message_id)) in (rendered.html or "")
    assert SAID[language].format(calm.message_id) not in rendered.body
    assert SPARED_UNTIL[language] in rendered.body
    assert escape(SPARED_UNTIL[language].split(" (")[0]) in (rendered.html or "")


# --- the promise to the client falls due -------------------------------------------------

PROMISED = datetime(2025, 3, 14, 14, 0, tzinfo=UTC)
DUE_SAID = {
    "ru": "подходит срок ответа, обещанного клиенту: ответьте клиенту или до этого срока "
    "сообщите ему новый; если срок пройдёт, клиенту сообщат о задержке автоматически",
    "uk": "спливає строк відповіді, обіцяної клієнтові: дайте відповідь клієнтові або до цього "
    "строку повідомте йому новий; якщо строк мине, клієнтові повідомлять про затримку "
    "автоматично",
    "en": "the answer promised to the client falls due: answer the client, or tell them the new "
    "date before it passes",
}


def due_notices(promise: datetime = PROMISED) -> list[SendNotification]:
    on_file = replace(
        ON_FILE,
        notified=(HEAD, LEGAL, replace(HEAD, level=2, origin="climb")),
        kind="billing",
        briefing=BRIEFING,
        client_reply_by=promise,
    )
    return promise_due_notices(on_file, StaffLanguages("ru"), NOW)


def test_everyone_who_holds_it_is_reminded_once_per_promise() -> None:
    notes = due_notices()

    assert [n.recipient for n in notes] == [HEAD.address, LEGAL.address]
    assert all(n.data["change"] == "promise_due" for n in notes)
    assert [n.notification_id for n in notes] == [n.notification_id for n in due_notices()]
    later = due_notices(PROMISED.replace(day=20))  # reopened: a new promise, a new reminder
    assert not {n.notification_id for n in notes} & {n.notification_id for n in later}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_reminder_says_what_is_due_and_when(language: str) -> None:
    (note, _) = due_notices()

    rendered = render(note.model_copy(update={"language": language}))

    assert DUE_SAID[language] in rendered.body and DUE_SAID[language] in (rendered.html or "")
    assert "2025-03-14 17:00 MSK" in rendered.body  # the promise, on the team's clock
    # How to record the answer, so the client is not told of a delay already dealt with.
    assert f"careline client-reply {case_ref(note.escalation_id)}" in rendered.body
    # The escalator's own words (webhooks, the timeline) name the reference too.
    (item,) = note.data["change_items"]
    assert f"careline client-reply {case_ref(note.escalation_id)}" in item["text"]


LAST_SAID = {
    "ru": "если срок пройдёт, клиенту больше никто не напишет",
    "uk": "якщо строк мине, клієнтові більше ніхто не напише",
    "en": "if it passes, nobody else tells them",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_when_nothing_will_tell_the_client_the_reminder_says_so(language: str) -> None:
    on_file = replace(ON_FILE, notified=(HEAD,), briefing=BRIEFING, client_reply_by=PROMISED)
    (note,) = promise_due_notices(on_file, StaffLanguages("ru"), NOW, automatic=False)

    rendered = render(note.model_copy(update={"language": language}))

    assert note.data["change_items"][0]["kind"] == "promise_due_last"
    assert LAST_SAID[language] in rendered.body
    assert DUE_SAID[language].split(";")[0] in rendered.body
