"""A client writing into an open case without saying anything a rule fires on ("any news?",
"still broken", a detail) goes on with the case: whoever holds it reads it, in the team's
language, before answering."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.history import History, PastEscalation, followed_up
from services.escalator.hold_notices import follow_up_notices
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from shared.contracts import Language
from tests.unit.test_confirmation_outcomes import BILLING, MANAGER, held
from tests.unit.test_routing_policy import identity, message, verified_message

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def past(status: str, kind: str = "billing") -> PastEscalation:
    return PastEscalation(
        id=str(uuid.uuid4()),
        kind=kind,
        severity="P2",
        status=status,
        rule="billing-dispute",
        opened_at=NOW - timedelta(hours=3),
    )


def test_a_message_goes_on_with_the_open_cases_it_did_not_touch_already() -> None:
    billing, legal, done = past("open"), past("open", "legal"), past("resolved")
    # Who is speaking is no case of the client's: "any news?" is not about it.
    confirming = past("open", "identity_confirmation")
    history = History(escalations=[billing, legal, done, confirming])

    assert followed_up(history, set()) == [billing, legal]
    # Joined by a rule of its own, or its hold lifted by it: told of it that way already.
    assert followed_up(history, {legal.id}) == [billing]
    assert followed_up(History(), set()) == []


def test_a_reply_in_one_case_s_thread_goes_on_with_that_case_only() -> None:
    """Acceptance: "Re: Выгрузка — есть новости?" reached the lawyers and billing too."""
    export = past("open", "service_failure").model_copy(update={"subject": "Выгрузка"})
    billing = past("open").model_copy(update={"subject": "Приостановка аккаунта"})
    history = History(escalations=[export, billing])

    assert followed_up(history, set(), "Re: RE: Выгрузка") == [export]
    assert followed_up(history, set(), "Ответ: выгрузка ") == [export]
    # Not a reply in any of their threads: every case of the client's.
    assert followed_up(history, set(), "Вопрос") == [export, billing]
    assert followed_up(history, set(), "") == [export, billing]


@pytest.mark.parametrize(
    ("language", "text", "subject", "said"),
    [
        (
            "ru",
            "Есть новости по счёту?\nЖдём ответа.",
            "[P3] Клиент написал снова — ",
            "клиент снова написал по открытому обращению: «Есть новости по счёту? Ждём ответа.»",
        ),
        (
            "uk",
            "Чи є новини щодо рахунку?",
            "[P3] Клієнт написав знову — ",
            "клієнт знову написав щодо відкритого звернення: «Чи є новини щодо рахунку?»",
        ),
        (
            "en",
            "Any news on the invoice?",
            "[P3] The client wrote again — ",
            "the client wrote again about the open case: «Any news on the invoice?»",
        ),
    ],
)
def test_each_holder_reads_what_the_client_wrote_in_the_team_language(
    language: Language, text: str, subject: str, said: str
) -> None:
    case = held("billing", ("billing", BILLING), ("account_manager", MANAGER))
    verified = verified_message(message(text), identity("verified"))

    seen = {"message_id": str(verified.message_id), "at": NOW.isoformat(), "channel": "email"}
    pack = {"recent_messages": [{**seen, "excerpt": text}]}
    notes = follow_up_notices(case, verified, pack, StaffLanguages(language), NOW)

    assert sorted(n.recipient for n in notes) == [BILLING, MANAGER]
    # About this message (who wrote it, on which subject, with it among the recent ones),
    # not the one that opened the case.
    assert {n.data["subject"] for n in notes} == {verified.message.subject}
    assert {n.data["identity_status"] for n in notes} == {"verified"}
    assert {n.data["identity_confidence"] for n in notes} == {verified.identity.confidence}
    assert all(n.data["fact_pack"] == pack for n in notes)
    # The opening's conditions ("this message among them") are not this message's.
    assert all(n.data["condition_items"] == [] for n in notes)
    assert {n.message_id for n in notes} == {verified.message_id}
    assert {n.data["change"] for n in notes} == {"follow_up"}
    rendered = render(notes[0])
    assert rendered.subject.startswith(subject)
    assert said in rendered.body
    # Once per message and person: the same message again asks for the same notices.
    again = follow_up_notices(case, verified, pack, StaffLanguages(language), NOW)
    assert [n.notification_id for n in again] == [n.notification_id for n in notes]


@pytest.mark.parametrize(
    ("language", "text", "subject", "said"),
    [
        (
            "ru",
            "Всё заработало, спасибо!",
            "[P3] Клиент пишет, что всё работает: проверьте и закройте — ",
            "клиент пишет, что проблемы больше нет: «Всё заработало, спасибо!»; обещанный ответ "
            "клиенту больше не нужен (сообщения о задержке не будет); проверьте и закройте "
            "обращение: careline resolve CL-",
        ),
        (
            "uk",
            "Вже все працює, дякую",
            "[P3] Клієнт пише, що все працює: перевірте й закрийте — ",
            "клієнт пише, що проблеми більше немає: «Вже все працює, дякую»; обіцяна відповідь "
            "клієнтові більше не потрібна (повідомлення про затримку не буде); перевірте й "
            "закрийте звернення: careline resolve CL-",
        ),
        (
            "en",
            "It works now, thanks",
            "[P3] The client says it works now: check and resolve — ",
            "the client says the problem is gone: «It works now, thanks»; the answer promised to "
            "the client is no longer owed (no delay notice goes to them); check it and resolve "
            "the case: careline resolve CL-",
        ),
    ],
)
def test_holders_read_that_the_client_says_it_works_and_how_to_close_it(
    language: Language, text: str, subject: str, said: str
) -> None:
    case = held("billing", ("billing", BILLING), ("account_manager", MANAGER))
    verified = verified_message(message(text), identity("verified"))

    fixed = ("works", True)
    notes = follow_up_notices(case, verified, {}, StaffLanguages(language), NOW, fixed)

    assert sorted(n.recipient for n in notes) == [BILLING, MANAGER]
    assert {n.data["change"] for n in notes} == {"client_says_fixed"}
    (fact,) = notes[0].data["change_items"]
    assert fact["kind"] == "client_says_fixed_promised" and fact["values"]["said"] == text
    rendered = render(notes[0])
    assert rendered.subject.startswith(subject)
    assert said in " ".join(rendered.body.split())
    # No promise stood: nothing is said of one.
    unpromised = follow_up_notices(
        case, verified, {}, StaffLanguages(language), NOW, ("works", False)
    )
    body = " ".join(render(unpromised[0]).body.split())
    quoted, promise = said.split("»; ")[0], said.split("»; ")[1].split("; ")[0]
    assert quoted in body and promise not in body
