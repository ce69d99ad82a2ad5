"""What a staff notice says of the client's mail: written, or when it goes and why (the
sender's quiet hours and rate limit foreseen at acceptance, client_waits.py), in ru/uk/en."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from services.notifier.client_waits import (
    ClientMail,
    ClientSchedule,
    OnFile,
    Requested,
    named_client_mail,
    requested_of,
    unsure,
    wait_of,
    with_waits,
)
from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES
from services.notifier.scheduling import Deferral
from shared.contracts import SendNotification

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 5, tzinfo=UTC)  # 13:05 in Moscow
CLIENT = "buh@kvitka.ua"
LIMITED = ClientSchedule(quiet=None, limit=(5, 3600), zone="Europe/Moscow")
QUIET = ClientSchedule(quiet=(time(21, 0), time(8, 0)), limit=(5, 3600), zone="Europe/Moscow")


def mail(severity: str | None = "P3", kind: str = "service_failure_notice") -> ClientMail:
    return ClientMail(
        ids=frozenset({uuid.uuid4()}),
        recipient=CLIENT,
        role="client_registered",
        kind=kind,
        kinds=(kind,),
        severity=severity,
        zone=None,
    )


def sent(minutes_ago: float, recipient: str = CLIENT, status: str = "sent") -> OnFile:
    at = NOW - timedelta(minutes=minutes_ago)
    return OnFile(uuid.uuid4(), recipient, status, "request_ack", False, None, None, at)


def pending(**values: Any) -> OnFile:
    fields: dict[str, Any] = {
        "notification_id": uuid.uuid4(),
        "recipient": CLIENT,
        "status": "pending",
        "kind": "request_ack",
        "urgent": False,
        "next_attempt_at": NOW - timedelta(seconds=1),
        "deferred_reason": None,
        "last_attempt_at": None,
    }
    return OnFile(**(fields | values))


def requested(recipient: str = CLIENT, ids: frozenset[uuid.UUID] | None = None) -> Requested:
    return Requested(ids or frozenset({uuid.uuid4()}), recipient, "billing_dispute_ack", False)


def test_a_client_under_the_limit_is_written_at_once() -> None:
    assert wait_of(NOW, mail(), [sent(m) for m in (5, 10, 20, 50)], [], LIMITED) is None


def test_a_spent_limit_waits_until_the_oldest_attempt_leaves_the_hour() -> None:
    on_file = [sent(m) for m in (5, 10, 20, 50, 55)] + [sent(65), sent(1, "other@kvitka.ua")]

    wait = wait_of(NOW, mail(), on_file, [], LIMITED)

    assert wait == Deferral(NOW - timedelta(minutes=55) + timedelta(hours=1), "rate_limit")


def test_an_urgent_answer_is_never_held_back() -> None:
    on_file = [sent(m) for m in (5, 10, 20, 50, 55)]
    assert wait_of(NOW, mail("P2"), on_file, [], QUIET) is None


def test_quiet_hours_in_the_clients_zone_hold_it_until_they_end() -> None:
    night = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 23:00 in Moscow, 22:00 in Kyiv
    kyiv = replace(mail(), zone="Europe/Kyiv")

    assert wait_of(night, mail(), [], [], QUIET) == Deferral(
        datetime(2026, 12, 8, 5, 0, tzinfo=UTC), "quiet_hours"
    )
    assert wait_of(night, kyiv, [], [], QUIET) == Deferral(
        datetime(2026, 12, 8, 6, 0, tzinfo=UTC), "quiet_hours"
    )


def test_mail_claimed_before_it_counts_rows_due_and_requests_ahead_in_the_batch() -> None:
    answer = mail()
    four = [sent(m) for m in (5, 10, 20, 50)]
    own = requested(ids=answer.ids)

    assert wait_of(NOW, answer, [*four, pending()], [], LIMITED) is not None
    # A row deferred to later is claimed after it, not before.
    later = pending(next_attempt_at=NOW + timedelta(minutes=30), deferred_reason="rate_limit")
    assert wait_of(NOW, answer, [*four, later], [], LIMITED) is None
    # In the batch: only what comes before its own request; all of it when it comes later.
    assert wait_of(NOW, answer, four, [own, requested()], LIMITED) is None
    assert wait_of(NOW, answer, four, [requested(), own], LIMITED) is not None
    assert wait_of(NOW, answer, four, [requested()], LIMITED) is not None
    assert wait_of(NOW, answer, four, [requested("other@kvitka.ua")], LIMITED) is None


def test_mail_on_file_is_said_as_its_row_stands() -> None:
    answer = mail()
    spent = [sent(m) for m in (5, 10, 20, 50, 55)]
    (own,) = answer.ids
    went = replace(sent(90), notification_id=own)  # an earlier message's, sent long ago
    waits = pending(
        notification_id=own,
        next_attempt_at=NOW + timedelta(minutes=7),
        deferred_reason="rate_limit",
    )

    assert wait_of(NOW, answer, [*spent, went], [], LIMITED) is None
    assert wait_of(NOW, answer, [*spent, waits], [], LIMITED) == Deferral(
        NOW + timedelta(minutes=7), "rate_limit"
    )


def test_the_notice_data_names_what_waits_with_the_limit() -> None:
    answer, other = mail(), mail(kind="request_ack")
    until = NOW + timedelta(minutes=40)
    said = with_waits(
        {"kinds": ["service_failure_notice", "request_ack"]},
        [(answer, Deferral(until, "rate_limit")), (other, None)],
        LIMITED,
    )

    assert said["waits"] == [
        {
            "kinds": ["service_failure_notice"],
            "until": until.isoformat(),
            "reason": "rate_limit",
            "limit": {"count": 5, "seconds": 3600},
        }
    ]
    assert with_waits({"kinds": ["request_ack"]}, [(other, None)], LIMITED) == {
        "kinds": ["request_ack"]
    }
    assert unsure({"kinds": ["request_ack"]}, LIMITED)["unsure"] is True
    assert "unsure" not in unsure({"kinds": ["request_ack"]}, ClientSchedule(None, None, "UTC"))


def notice(role: str, sent_data: dict[str, Any]) -> SendNotification:
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        notification_id=uuid.uuid4(),
        kind="manager_escalation",
        recipient="o.petrova@careline.example",
        recipient_role=role,
        recipient_verified=True,
        content_class="account",
        data={"client_contacts_sent": sent_data},
    )


def test_the_mails_are_read_from_a_staff_notice_only() -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    entry = {"ids": ids, "recipient": CLIENT, "role": "client_registered", "kind": "client_digest"}
    entry |= {"kinds": ["service_failure_notice", "billing_dispute_ack"], "severity": "P3"}
    entry |= {"timezone": "Europe/Kyiv"}

    (read,) = named_client_mail(notice("account_manager", {"kinds": [], "to": [entry, {}]}))

    assert read.ids == {uuid.UUID(i) for i in ids} and read.zone == "Europe/Kyiv"
    assert read.kinds == ("service_failure_notice", "billing_dispute_ack")
    assert named_client_mail(notice("client_registered", {"kinds": [], "to": [entry]})) == []
    assert named_client_mail(notice("account_manager", {"kinds": ["request_ack"]})) == []
    digest = notice("client_registered", {}).model_copy(update={"severity": "P2"})
    assert requested_of(digest).urgent and requested_of(digest).ids == {digest.notification_id}


WRITTEN = {
    "ru": "Клиенту написано автоматически: сообщение о сбое.",
    "uk": "Клієнтові написано автоматично: повідомлення про збій.",
    "en": "Written to the client automatically: service failure notice.",
}
LATER = {
    "ru": "Клиенту будет написано автоматически после 2026-12-07 14:05 MSK "
    "(не больше 5 сообщений одному клиенту за час): подтверждение по оплате.",
    "uk": "Клієнтові буде написано автоматично після 2026-12-07 14:05 MSK "
    "(не більше 5 повідомлень одному клієнтові за годину): підтвердження щодо оплати.",
    "en": "Will be written to the client automatically after 2026-12-07 14:05 MSK "
    "(at most 5 messages an hour to one client): billing acknowledgement.",
}
MORNING = {
    "ru": "Клиенту будет написано автоматически не раньше 2026-12-08 08:00 MSK "
    "(тихие часы клиента): сообщение о сбое.",
    "uk": "Клієнтові буде написано автоматично не раніше 2026-12-08 08:00 MSK "
    "(тихі години клієнта): повідомлення про збій.",
    "en": "Will be written to the client automatically no earlier than 2026-12-08 08:00 MSK "
    "(the client's quiet hours): service failure notice.",
}
UNSURE = {
    "ru": "Клиенту пишется автоматически (письмо могут задержать тихие часы клиента или "
    "предел писем одному клиенту): сообщение о сбое.",
    "uk": "Клієнтові пишеться автоматично (лист можуть затримати тихі години клієнта або "
    "ліміт листів одному клієнтові): повідомлення про збій.",
    "en": "Being written to the client automatically (the client's quiet hours or the limit "
    "of messages to one client may hold it): service failure notice.",
}


def staff_said(kind: str, language: str, sent_data: dict[str, Any]) -> tuple[str, str]:
    data = {**SAMPLES[kind], "team_timezone": "Europe/Moscow", "client_contacts_sent": sent_data}
    rendered = render_kind(kind, language, data)
    return rendered.body, rendered.html or ""


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("kind", ["manager_escalation", "staff_digest"])
def test_staff_read_what_went_and_when_what_waits_goes(language: str, kind: str) -> None:
    waits = [
        {
            "kinds": ["billing_dispute_ack"],
            "until": "2026-12-07T11:05:00+00:00",
            "reason": "rate_limit",
            "limit": {"count": 5, "seconds": 3600},
        }
    ]
    both = {"kinds": ["service_failure_notice", "billing_dispute_ack"], "waits": waits}

    body, html = staff_said(kind, language, both)

    # The written line ends with the failure notice: the acknowledgement is not in it.
    assert WRITTEN[language] in body and LATER[language] in body
    assert LATER[language].replace("'", "&#39;") in html


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_that_quiet_hours_hold_it_and_nothing_is_written_yet(language: str) -> None:
    waits = [
        {
            "kinds": ["service_failure_notice"],
            "until": "2026-12-08T05:00:00+00:00",
            "reason": "quiet_hours",
        }
    ]

    body, html = staff_said(
        "manager_escalation", language, {"kinds": ["service_failure_notice"], "waits": waits}
    )

    assert MORNING[language] in body and MORNING[language].replace("'", "&#39;") in html
    assert WRITTEN[language] not in body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_request_naming_no_mails_says_honestly_it_may_wait(language: str) -> None:
    body, html = staff_said(
        "legal_notice", language, {"kinds": ["service_failure_notice"], "unsure": True}
    )
    assert UNSURE[language] in body and UNSURE[language].replace("'", "&#39;") in html


@pytest.mark.parametrize(
    ("count", "seconds", "said"),
    [
        (
            1,
            3600,
            {
                "ru": "не больше 1 сообщения одному клиенту за час",
                "en": "at most 1 message an hour",
            },
        ),
        (
            2,
            600,
            {
                "ru": "не больше 2 сообщений одному клиенту за 10 мин",
                "en": "at most 2 messages per 10 min",
            },
        ),
        (
            21,
            7200,
            {
                "ru": "не больше 21 сообщения одному клиенту за 2 ч",
                "uk": "не більше 21 повідомлення одному клієнтові за 2 год",
            },
        ),
        (
            11,
            45,
            {
                "uk": "не більше 11 повідомлень одному клієнтові за 45 с",
                "en": "at most 11 messages per 45 s",
            },
        ),
    ],
)
def test_the_limit_is_said_with_its_count_and_window(
    count: int, seconds: int, said: dict[str, str]
) -> None:
    wait = {"kinds": ["request_ack"], "until": "2026-12-07T11:05:00+00:00", "reason": "rate_limit"}
    wait["limit"] = {"count": count, "seconds": seconds}  # type: ignore[assignment]
    for language, words in said.items():
        body, _ = staff_said(
            "manager_escalation", language, {"kinds": ["request_ack"], "waits": [wait]}
        )
        assert words in body
