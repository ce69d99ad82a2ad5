"""A staff notice never says "written to the client" of a client mail that was not: at
acceptance it says NOT written and why (refused, withdrawn, failed) or "being retried"
(client_waits.py); a mail that ends undelivered after the notice went is told to each of
its readers once, in their language (undelivered.py); ru/uk/en."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jinja2 import TemplateError

from services.notifier.client_waits import (
    ClientMail,
    ClientSchedule,
    NotWritten,
    OnFile,
    Retrying,
    wait_of,
    watched,
    with_waits,
)
from services.notifier.domain import (
    DisclosureRefused,
    check_disclosure,
    render,
    render_kind,
)
from services.notifier.holds import HoldRefused, Resolution, check_hold, revoked_reason, settle
from services.notifier.ports import NoChannel, ReceiverRefused
from services.notifier.samples import ESCALATION_ID, SAMPLES
from services.notifier.service import withdrawn
from services.notifier.told_store import why_of_row
from services.notifier.undelivered import (
    FOLLOW_UP_KIND,
    WHY,
    follow_ups,
    why_undelivered,
)
from services.notifier.why import Refused, why_refused
from shared.case_ref import case_ref
from shared.contracts import SendNotification
from shared.errors import PermanentError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 5, tzinfo=UTC)
CLIENT = "buh@kvitka.ua"
LIMITED = ClientSchedule(quiet=None, limit=(5, 3600), zone="Europe/Moscow")
ESCALATION = uuid.UUID(ESCALATION_ID)


def client_mail(kind: str = "service_failure_notice") -> SendNotification:
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        notification_id=uuid.uuid4(),
        escalation_id=ESCALATION,
        kind=kind,  # type: ignore[arg-type]
        recipient=CLIENT,
        recipient_role="client_registered",
        recipient_verified=True,
        content_class="account",
        language="uk",
        severity="P3",
        data={},
    )


def staff_notice(
    mail: SendNotification, recipient: str = "o.petrova@careline.example", language: str = "ru"
) -> SendNotification:
    entry = {
        "ids": [str(mail.notification_id)],
        "recipient": mail.recipient,
        "role": mail.recipient_role,
        "channel": "email",
        "kind": mail.kind,
        "kinds": [mail.kind],
        "severity": mail.severity,
        "timezone": "Europe/Kyiv",
    }
    return mail.model_copy(
        update={
            "notification_id": uuid.uuid4(),
            "kind": "manager_escalation",
            "recipient": recipient,
            "recipient_role": "account_manager",
            "language": language,
            "data": {
                **SAMPLES["manager_escalation"],
                "client_contacts_sent": {"kinds": [mail.kind], "to": [entry]},
            },
        }
    )


def on_file(mail: ClientMail, status: str, **values: Any) -> OnFile:
    fields: dict[str, Any] = {
        "notification_id": next(iter(mail.ids)),
        "recipient": CLIENT,
        "status": status,
        "kind": mail.kind,
        "urgent": False,
        "next_attempt_at": None,
        "deferred_reason": None,
        "last_attempt_at": None,
        "last_error": None,
    }
    return OnFile(**(fields | values))


def named(kind: str = "service_failure_notice") -> ClientMail:
    return ClientMail(
        frozenset({uuid.uuid4()}), CLIENT, "client_registered", kind, (kind,), "P3", None
    )


# --- why, as a code set where the row ends ---------------------------------------------


def test_every_refusal_and_permanent_failure_has_its_code() -> None:
    unverified = client_mail().model_copy(update={"recipient_verified": False})
    with pytest.raises(DisclosureRefused) as refused:
        check_disclosure(unverified)
    webhook = unverified.model_copy(
        update={"channel": "webhook", "held_for_confirmation": uuid.uuid4()}
    )
    with pytest.raises(HoldRefused) as cannot_wait:
        check_hold(webhook)

    assert why_refused(refused.value) == "unverified"
    assert why_refused(cannot_wait.value) == "no_channel"
    assert why_refused(Refused("revoked", "whatever the words")) == "revoked"
    assert why_refused(TemplateError("no template")) == "cannot_render"
    assert why_refused(ReceiverRefused("SMTP refused the recipient (550)")) == "refused_by_server"
    # A reworded message keeps its code: the type says it, not the words.
    assert why_refused(ReceiverRefused("the mailbox is gone")) == "refused_by_server"
    assert why_refused(NoChannel("no sms channel is configured")) == "no_channel"
    assert why_refused(PermanentError("a telegram webhook needs a chat_id")) == "failed"
    with pytest.raises(ValueError, match="unknown reason code"):
        Refused("lost", "a code staff have no words for")


@pytest.mark.parametrize(
    ("outcome", "why"),
    [
        ("denied", "denied"),
        ("expired", "expired"),
        ("revoked", "revoked"),
        ("confirmed", "other_channel"),
    ],
)
def test_a_withdrawn_hold_stores_its_code_beside_its_words(outcome: str, why: str) -> None:
    confirmation = uuid.uuid4()
    held = client_mail().model_copy(
        update={"recipient_verified": False, "held_for_confirmation": confirmation}
    )
    resolution = _resolution(outcome, confirmation)
    if outcome == "confirmed":  # of another address
        resolution = replace(resolution, channel_kind="email", address="other@kvitka.ua")

    decision = settle(held, resolution)
    values, _ = withdrawn(held, decision.reason, decision.why, uuid.uuid4(), NOW)  # type: ignore[union-attr]

    assert decision.why == why  # type: ignore[union-attr]
    assert values["reason_code"] == why and values["withdrawn_reason"] == decision.reason  # type: ignore[union-attr]
    assert why_of_row(values) == why


def test_the_stored_code_wins_over_the_words_and_old_rows_fall_back_to_them() -> None:
    # The code stands whatever the words say (a reason reworded, an SMTP reply quoted).
    assert why_undelivered("refused_by_server", "bounced: <buh@kvitka.ua> unknown") == (
        "refused_by_server"
    )
    assert why_of_row({"reason_code": "revoked", "withdrawn_reason": "anything"}) == "revoked"
    # Rows that ended before 0025 carry none: read from the notifier's words of then.
    confirmation = uuid.uuid4()
    held = client_mail().model_copy(update={"held_for_confirmation": confirmation})
    denied = settle(held, _resolution("denied", confirmation))
    expired = settle(held, _resolution("expired", confirmation))
    old = [
        ("notification x: account content to an unverified address", "unverified"),
        (revoked_reason(uuid.uuid4()), "revoked"),
        (denied.reason, "denied"),  # type: ignore[union-attr]
        (expired.reason, "expired"),  # type: ignore[union-attr]
        ("notification x: cannot render service_failure_notice: y", "cannot_render"),
        ("SMTP refused the recipient (550)", "refused_by_server"),
        ("gave up after 6 attempts: SMTP temporary failure 451", "retries_exhausted"),
        ("something new", "failed"),
        (None, "failed"),
    ]
    for reason, why in old:
        assert why_undelivered(None, reason) == why, reason
    assert why_of_row({"last_error": "SMTP refused with 554"}) == "refused_by_server"
    # A code of a newer notifier this one does not know: the words, as for an old row.
    assert why_undelivered("greylisted", "gave up after 3 attempts: x") == "retries_exhausted"


def test_a_row_in_the_batch_or_on_file_is_said_by_its_code() -> None:
    mail = named()
    row = on_file(mail, "failed", last_error="a reworded reason", reason_code="retries_exhausted")
    assert wait_of(NOW, mail, [row], [], LIMITED) == NotWritten("retries_exhausted")


def _resolution(outcome: str, confirmation: uuid.UUID) -> Resolution:
    return Resolution(
        outcome=outcome,  # type: ignore[arg-type]
        confirmation_id=confirmation,
        event_id=uuid.uuid4(),
        at=NOW,
    )


# --- at acceptance: the row as it stands ------------------------------------------------


def test_a_mail_on_file_that_will_never_go_is_said_not_written_and_is_not_watched() -> None:
    refused, failed, retry = named(), named("billing_dispute_ack"), named("request_ack")
    rows = [
        on_file(
            refused,
            "refused",
            last_error="notification x: account content to an unverified address",
        ),
        on_file(failed, "failed", last_error="SMTP refused the recipient (550)"),
        on_file(retry, "pending", deferred_reason="retry", next_attempt_at=NOW + timedelta(1)),
    ]
    states = [(m, wait_of(NOW, m, rows, [], LIMITED)) for m in (refused, failed, retry)]

    assert [s for _, s in states] == [
        NotWritten("unverified"),
        NotWritten("refused_by_server"),
        Retrying(),
    ]
    said = with_waits({"kinds": ["service_failure_notice"]}, states, LIMITED)
    assert said["not_written"] == [
        {"kinds": ["billing_dispute_ack"], "why": "refused_by_server"},
        {"kinds": ["service_failure_notice"], "why": "unverified"},
    ]
    assert said["retrying"] == [{"kinds": ["request_ack"]}]
    # Only the retried mail may still end undelivered and need a word later.
    assert watched(states) == sorted(retry.ids)


NOT_WRITTEN = {
    "ru": "Клиенту НЕ написано автоматически (сообщение о сбое): почтовый сервер клиента "
    "отказался принять письмо; свяжитесь с клиентом сами.",
    "uk": "Клієнтові НЕ написано автоматично (повідомлення про збій): поштовий сервер клієнта "
    "відмовився прийняти лист; зв'яжіться з клієнтом самі.",
    "en": "NOT written to the client automatically (service failure notice): the client's mail "
    "server refused it; contact the client yourselves.",
}
RETRYING = {
    "ru": "Клиенту пишется автоматически, отправка повторяется (почтовый сервер клиента пока "
    "не принял письмо): подтверждение по оплате.",
    "uk": "Клієнтові пишеться автоматично, надсилання повторюється (поштовий сервер клієнта "
    "поки не прийняв лист): підтвердження щодо оплати.",
    "en": "Being written to the client automatically, sending is being retried (the client's "
    "mail server has not taken it yet): billing acknowledgement.",
}
WRITTEN = {
    "ru": "Клиенту написано автоматически",
    "uk": "Клієнтові написано автоматично",
    "en": "Written to the client automatically",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("kind", ["manager_escalation", "staff_digest"])
def test_staff_read_not_written_with_why_and_being_retried(language: str, kind: str) -> None:
    sent = {
        "kinds": ["service_failure_notice", "billing_dispute_ack"],
        "not_written": [{"kinds": ["service_failure_notice"], "why": "refused_by_server"}],
        "retrying": [{"kinds": ["billing_dispute_ack"]}],
    }
    data = {**SAMPLES[kind], "team_timezone": "Europe/Moscow", "client_contacts_sent": sent}

    rendered = render_kind(kind, language, data)

    assert NOT_WRITTEN[language] in rendered.body
    assert RETRYING[language] in rendered.body
    assert WRITTEN[language] not in rendered.body  # nothing reads as written
    assert NOT_WRITTEN[language].replace("'", "&#39;") in (rendered.html or "")


# --- after the notice went: one follow-up per mail and reader ---------------------------


def test_each_reader_told_it_was_written_hears_once_in_their_language() -> None:
    mail = client_mail()
    petrova = staff_notice(mail, language="ru")
    again = staff_notice(mail, recipient="O.Petrova@careline.example", language="ru")
    legal = staff_notice(mail, recipient="legal@careline.example", language="en")
    unrelated = staff_notice(client_mail())

    made = follow_ups(mail, "refused_by_server", [petrova, again, legal, unrelated], (), NOW)

    assert sorted((f.recipient, f.language) for f in made) == [
        ("legal@careline.example", "en"),
        ("o.petrova@careline.example", "ru"),
    ]
    (first,) = [f for f in made if f.language == "ru"]
    assert first.kind == FOLLOW_UP_KIND and first.data["why"] == "refused_by_server"
    assert first.data["escalations"] == [ESCALATION_ID]
    assert CLIENT not in str(first.data)  # ids only
    # The same end handled again (a redelivery, a retried commit) makes the same ids.
    redo = follow_ups(mail, "refused_by_server", [again, legal], (), NOW)
    assert {f.notification_id for f in redo} == {f.notification_id for f in made}


def test_nobody_is_told_when_the_mail_went_after_all_under_another_of_its_ids() -> None:
    mail = client_mail("client_digest")
    notice = staff_notice(mail)
    part = uuid.uuid4()
    sent = notice.data["client_contacts_sent"]
    sent["to"][0]["ids"].append(str(part))

    assert follow_ups(mail, "retries_exhausted", [notice], {part}, NOW) == []
    assert len(follow_ups(mail, "retries_exhausted", [notice], set(), NOW)) == 1


FOLLOW_UP = {
    "ru": (
        "Автоматическое письмо клиенту ООО «СтройМонтаж» не дошло: сообщение о сбое.",
        "Причина: сотрудники отозвали подтверждение адреса: он не клиента.",
        "свяжитесь с клиентом сами",
    ),
    "uk": (
        "Автоматичний лист клієнтові ООО «СтройМонтаж» не дійшов: повідомлення про збій.",
        "Причина: співробітники відкликали підтвердження адреси: вона не клієнта.",
        "зв'яжіться з клієнтом самі",
    ),
    "en": (
        "The automatic mail to the client ООО «СтройМонтаж» did not reach them: service "
        "failure notice.",
        "Why: staff took back the address's confirmation: it is not the client's.",
        "contact the client yourselves",
    ),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_follow_up_says_what_why_the_case_and_to_contact_the_client(language: str) -> None:
    mail = client_mail()
    notice = staff_notice(mail, language=language)
    notice = notice.model_copy(update={"data": {**notice.data, "customer": "ООО «СтройМонтаж»"}})

    (follow_up,) = follow_ups(mail, "revoked", [notice], (), NOW, lambda _: "<t@x>")
    rendered = render(follow_up)

    what, why, todo = FOLLOW_UP[language]
    assert what in rendered.body and why in rendered.body and todo in rendered.body
    assert case_ref(ESCALATION) in rendered.subject and case_ref(ESCALATION) in rendered.body
    assert CLIENT not in rendered.body
    assert follow_up.reply_to_external_id == "<t@x>"  # in the notice's thread


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("why", WHY)
def test_every_reason_has_words_in_every_language(language: str, why: str) -> None:
    data = {**SAMPLES[FOLLOW_UP_KIND], "why": why}
    body = render_kind(FOLLOW_UP_KIND, language, data).body
    assert f": {why}." not in body and "_" not in body.splitlines()[2]
