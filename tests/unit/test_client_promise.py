"""What the client is promised (seed 001: support broke its own promises): an answer by the
policy's `client_reply` time, counted in business hours where it says so and never before
staff must acknowledge; the client's mail says that time and staff see the promise beside
its escalation, in ru, uk and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.escalator.detection import detect
from services.escalator.digest import message_notices
from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.escalator.lifecycle import Escalation
from services.escalator.lifecycle_steps import current_briefing
from services.escalator.notifications import client_contacts, staff_notifications
from services.escalator.policy import Policy, evaluate
from services.escalator.policy_rules import Within
from services.escalator.team_calendar import Holidays, TeamCalendar
from services.notifier.domain import render, render_kind
from shared.contracts import Language, SendNotification
from tests.unit.test_escalation_lifecycle import escalation as escalation_on_file
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

MOSCOW = TeamCalendar(timezone="Europe/Moscow", holidays=Holidays(countries=["RU"]))
SATURDAY = datetime(2022, 3, 26, 8, 2, tzinfo=UTC)  # 11:02 in Moscow: seed 000's notice
FRIDAY_AFTERNOON = datetime(2022, 3, 25, 13, 0, tzinfo=UTC)  # 16:00 in Moscow
TUESDAY_MORNING = datetime(2022, 3, 22, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


# --- business minutes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "local"),
    [
        (TUESDAY_MORNING, 120, "2022-03-22 12:00"),  # within the day
        (TUESDAY_MORNING, 480, "2022-03-22 18:00"),  # exactly to the close
        (TUESDAY_MORNING, 540, "2022-03-23 10:00"),  # over the night
        (FRIDAY_AFTERNOON, 240, "2022-03-28 11:00"),  # over the weekend
        (SATURDAY, 240, "2022-03-28 13:00"),  # from a Saturday: Monday opens the count
        (datetime(2022, 3, 22, 20, 0, tzinfo=UTC), 60, "2022-03-23 10:00"),  # at night
        # Friday 30 December 2022, 15:00; Russia's New Year holidays run to 8 January.
        (datetime(2022, 12, 30, 12, 0, tzinfo=UTC), 480, "2023-01-09 14:00"),
    ],
)
def test_business_minutes_skip_nights_weekends_and_holidays(
    start: datetime, minutes: float, local: str
) -> None:
    at = MOSCOW.after_business_minutes(start, minutes)

    assert at.tzinfo == UTC
    assert f"{MOSCOW.local(at):%Y-%m-%d %H:%M}" == local


def test_a_calendar_without_business_days_never_comes() -> None:
    closed = MOSCOW.model_copy(update={"holidays": Holidays(dates=[date(2022, 3, 22)])})
    assert f"{closed.local(closed.after_business_minutes(TUESDAY_MORNING, 60)):%d %H}" == "23 10"
    with pytest.raises(ValueError, match="no business days"):
        MOSCOW.model_copy(
            update={"business_hours": MOSCOW.business_hours.model_copy(update={"days": []})}
        ).after_business_minutes(TUESDAY_MORNING, 60)


# --- the policy's promise ----------------------------------------------------------------


def policy_with(**changes: Any) -> Policy:
    return Policy.model_validate({**POLICY.model_dump(), **changes})


def test_the_shipped_policy_promises_hours_not_the_minutes_staff_have() -> None:
    ack = POLICY.ack_by("P1", SATURDAY)
    promised = POLICY.client_reply_by("P1", SATURDAY, ack)

    assert ack - SATURDAY == timedelta(minutes=15)
    assert promised - SATURDAY == timedelta(hours=2)  # P1 is worked around the clock


def test_a_working_day_promise_is_kept_on_working_days() -> None:
    policy = policy_with(team_timezone="Europe/Moscow")
    promised = policy.client_reply_by("P3", FRIDAY_AFTERNOON, FRIDAY_AFTERNOON)

    assert f"{policy.calendar.local(promised):%a %H:%M}" == "Mon 15:00"  # 2 h Fri + 6 h Mon


def test_the_promise_is_never_before_staff_must_acknowledge() -> None:
    policy = policy_with(client_reply={"P2": Within(minutes=10)})
    ack = SATURDAY + timedelta(minutes=60)

    assert policy.client_reply_by("P2", SATURDAY, ack) == ack
    assert policy.client_reply_by("P4", SATURDAY, ack) == ack  # no promise set: the deadline


def test_without_business_days_a_promise_counts_the_clocks_minutes() -> None:
    """A policy written before promises, whose team has no business days, still loads."""
    policy = policy_with(business_hours={"days": [], "start": "09:00", "end": "18:00"})

    promised = policy.client_reply_by("P3", FRIDAY_AFTERNOON, FRIDAY_AFTERNOON)

    assert promised - FRIDAY_AFTERNOON == timedelta(minutes=480)


# --- what the client is told, what staff see ---------------------------------------------

INVOICE_AND_FAILURE = (
    "Счёт за март мы уже оплатили, а нам пишут о задолженности и грозят отключением. "
    "Вы обещали починить экспорт и опять не сделали."
)
PROMISED = datetime(2025, 3, 17, 14, 0, tzinfo=UTC)
PROMISED_WORDS = {
    "ru": "Клиенту обещан ответ по существу не позднее",
    "uk": "Клієнтові обіцяно відповідь по суті не пізніше",
    "en": "The client is promised a substantive answer by",
}
# On the team's clock (the shipped policy's Moscow), as staff notices give every time.
PROMISED_LINE = {lang: f"{words} 2025-03-17 17:00 MSK" for lang, words in PROMISED_WORDS.items()}
# What each promised, item by item, as the client read it (acceptance: the line said when,
# not what): the failure notice the cause, a plan with a date and compensation.
FAILURE_PROMISED = {
    "ru": ": причина, план исправления с конкретным сроком, компенсация.",
    "uk": ": причина, план виправлення з конкретним строком, компенсація.",
    "en": ": the cause, a plan for the fix with a firm date, compensation.",
}
PAYMENT_PROMISED = {
    "ru": ": результат проверки платежа (и, если списание неверное, как и когда вернём разницу).",
    "uk": ": результат перевірки платежу (і, якщо списання неправильне, як і коли повернемо "
    "різницю).",
    "en": ": the result of the payment check (and, if the charge is wrong, how and when the "
    "difference is refunded).",
}
CHECK_PROMISED = {
    "ru": ": результат проверки (что показала проверка и что дальше).",
    "uk": ": результат перевірки (що показала перевірка і що далі).",
    "en": ": the result of the check (what it found and what happens next).",
}


def told(text: str, under_hold: bool = False) -> list[SendNotification]:
    """Everything the message's escalations ask the notifier for, each escalation with the
    promise PROMISED on file."""
    verified = verified_message(message(text), identity("verified"))
    signals = detect(text, language="ru")
    pack = fact_pack(verified, tuple(signals), seen_message(verified, signals, [], []), History())
    staff, clients = [], []
    for decision in evaluate(POLICY, signals, verified.identity):
        event = escalation(decision, verified).model_copy(update={"client_reply_by": PROMISED})
        staff += staff_notifications(POLICY, decision, event, verified, {"fact_pack": pack})
        clients += client_contacts(decision, event, verified)
    return message_notices(verified, staff, clients, under_hold)


@pytest.mark.parametrize(
    ("language", "promised"),
    [
        ("ru", "17 марта 2025 г., 14:00 (UTC)"),
        ("uk", "17 березня 2025 р., 14:00 (UTC)"),
        ("en", "March 17, 2025, 2:00 PM (UTC)"),
    ],
)
def test_the_clients_acknowledgements_carry_the_promise(language: str, promised: str) -> None:
    notes = told(INVOICE_AND_FAILURE)
    to_client = [n for n in notes if n.recipient_role.startswith("client")]

    # Both answers of the message, in one mail to the client: each section its promise.
    assert [n.kind for n in to_client] == ["client_digest"]
    parts = to_client[0].parts
    assert {p.kind for p in parts} == {"billing_dispute_ack", "service_failure_notice"}
    assert {p.data["reply_by"] for p in parts} == {PROMISED.isoformat()}
    body = render(to_client[0].model_copy(update={"language": language})).body
    assert body.count(promised) == 2, body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_see_the_promise_beside_each_escalation_that_made_one(language: Language) -> None:
    staff = [n for n in told(INVOICE_AND_FAILURE) if not n.recipient_role.startswith("client")]
    assert {n.kind for n in staff} >= {"staff_digest", "manager_escalation"}

    for note in staff:
        body = render(note.model_copy(update={"language": language})).body
        promised_lines = [x for x in body.splitlines() if x.startswith(PROMISED_LINE[language])]
        # A digest lists both escalations, each with its promise; a single notice its own.
        expected = len(note.data["escalations"]) if note.kind == "staff_digest" else 1
        assert len(promised_lines) == expected, body
        # Each says what it promised: the failure's cause, plan and compensation, the
        # billing acknowledgement the payment check's result.
        said = {x.removeprefix(PROMISED_LINE[language]) for x in promised_lines}
        assert said <= {FAILURE_PROMISED[language], PAYMENT_PROMISED[language]}, said
    digest = [n for n in staff if n.kind == "staff_digest"]
    body = " ".join(render(digest[0].model_copy(update={"language": language})).body.split())
    assert f"{PROMISED_LINE[language]}{FAILURE_PROMISED[language]}" in body
    assert f"{PROMISED_LINE[language]}{PAYMENT_PROMISED[language]}" in body


def test_no_promise_is_shown_where_none_was_made() -> None:
    legal = [n for n in told("Подам на вас в суд.") if n.kind == "legal_notice"]
    assert legal and all("client_reply_by" not in n.data for n in legal)
    assert PROMISED_LINE["ru"] not in render(legal[0]).body


def test_a_promise_the_hold_withheld_was_never_made() -> None:
    text = (
        "Вы обещали восстановить контент и опять не сделали, деньги на ветер. Иначе я стану "
        "вашим кошмаром: распишу про вас во всех SMM-сообществах."
    )
    notes = told(text, under_hold=True)

    to_client = [n.kind for n in notes if n.recipient_role.startswith("client")]
    assert to_client == ["conduct_notice"]  # it announces the pause and promises nothing
    assert notes and all("client_reply_by" not in n.data for n in notes)


# --- whoever it climbs or is passed to keeps the promise ---------------------------------


def open_escalation(promise: datetime | None) -> Escalation:
    briefing = {"rule": "billing-dispute", "reason": "billing_dispute 0.90", "signals": []}
    return replace(escalation_on_file(), kind="billing", briefing=briefing, client_reply_by=promise)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_re_escalation_repeats_the_promise(language: Language) -> None:
    data = {
        **current_briefing(open_escalation(PROMISED), language),
        "level": 2,
        "ack_deadline": SATURDAY.isoformat(),
        "overdue_since": SATURDAY.isoformat(),
        "previous_roles": ["account_manager"],
    }

    rendered = render_kind("re_escalation", language, data)

    # A briefing kept before staff notices named the team's clock: the stored time (UTC).
    line = f"{PROMISED_WORDS[language]} 2025-03-17 14:00 UTC{PAYMENT_PROMISED[language]}"
    assert line in " ".join(rendered.body.split())
    assert line.split(":")[0] in (rendered.html or "")


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_climb_says_what_an_outage_acknowledgement_promised(language: Language) -> None:
    """The promise keeps what it promised (`promise_to.about`): an outage report's
    acknowledgement promised a check's result, not a failure's cause and compensation."""
    checked = replace(
        open_escalation(PROMISED), kind="service_failure", promise_to={"about": "check"}
    )
    failed = replace(checked, promise_to={"recipient": "buh@stroymontazh.ru"})
    data = {"level": 2, "ack_deadline": SATURDAY.isoformat(), "overdue_since": None}

    for e, what in ((checked, CHECK_PROMISED), (failed, FAILURE_PROMISED)):
        briefing = {**current_briefing(e, language), **data, "previous_roles": []}
        body = " ".join(render_kind("re_escalation", language, briefing).body.split())
        assert f"{PROMISED_WORDS[language]} 2025-03-17 14:00 UTC{what[language]}" in body


def test_no_promise_no_line_in_a_re_escalation() -> None:
    briefing = current_briefing(open_escalation(None), "ru")

    assert "client_reply_by" not in briefing
