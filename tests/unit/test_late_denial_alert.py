"""A no after a yes that no case of the sender holds (`denied_after_confirmed`): the
verifier's reply evidence carries the spent code, and the escalator sends an
`identity_alert` to the account manager, else the head of support, in the language they
read (ru, uk, en), with the code, the address and what to do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.escalator.policy import load_policy
from services.escalator.staff_language import StaffLanguages, of_message
from services.escalator.unclear import alert_reader, late_denial_alert, unclear_answers
from services.notifier.domain import render, render_kind
from services.notifier.samples import SAMPLES
from services.verifier.adapters import decision_row
from services.verifier.replies import UnclearAnswer, with_unclear_answers
from shared.contracts import (
    IdentityVerified,
    Language,
    StaffRef,
)
from tests.unit.test_unclear_confirmation_reply import reply

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
CODE = "OK-7H3K-Q9PX"
ADDRESS = "director@stroymontazh.ru"
CONFIRMATION = uuid.UUID("00000000-0000-0000-0000-0000000000c2")
PETROVA = StaffRef(id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example")


def late_no(
    text: str, manager: StaffRef | None = PETROVA, language: Language = "ru"
) -> IdentityVerified:
    """The registered contact's «not us» to a request confirmed before: the spent code."""
    answer = UnclearAnswer(
        CONFIRMATION, "cust-stroymontazh", "email", ADDRESS, settled="confirmed", code=CODE
    )
    return reply(text, language, answer=answer, manager=manager, subject="Re: Смена реквизитов")


def test_the_spent_code_rides_on_the_late_no_only() -> None:
    verified = late_no("Это не мы!")
    (item,) = verified.identity.evidence
    assert (item.values["settled"], item.values["code"]) == ("confirmed", CODE)
    # Said to staff; the decision kept for good keeps the ids, not the code nor the address.
    (kept,) = decision_row(verified.message_id, verified.identity, NOW)["evidence"]
    assert "code" not in kept["values"] and "address" not in kept["values"]
    (answer,) = unclear_answers(late_no("Это не мы!").identity)
    assert (answer.settled, answer.code, answer.address) == ("confirmed", CODE, ADDRESS)
    # A reply that leaves a pending request pending says no code: it can still be used.
    pending = UnclearAnswer(CONFIRMATION, "cust-stroymontazh", "email", ADDRESS, code=CODE)
    identity = late_no("x").identity.model_copy(update={"evidence": []})
    (item,) = with_unclear_answers(identity, [pending]).evidence
    assert "code" not in item.values


def test_the_reader_is_the_account_manager_else_the_head_of_support() -> None:
    policy = load_policy()
    with_manager = late_no("Это не мы!").identity.account_manager
    without = late_no("Это не мы!", manager=None).identity.account_manager
    assert alert_reader(policy, with_manager) == ("account_manager", PETROVA.email)
    assert alert_reader(policy, without) == (
        "head_of_support",
        policy.address("head_of_support"),
    )


WORDS = {
    "ru": (
        "Это не мы! Ничего не меняйте.",
        "Клиент отказывается от подтверждённого адреса",
        "Позвоните клиенту по номеру из CRM",
        "вместо менеджера клиента",
    ),
    "uk": (
        "Це не ми! Нічого не змінюйте.",
        "Клієнт відмовляється від підтвердженої адреси",
        "Зателефонуйте клієнту за номером із CRM",
        "замість менеджера клієнта",
    ),
    "en": (
        "Not us! Change nothing.",
        "The client disowns a confirmed address",
        "Call the client at the number on file",
        "in the account manager's place",
    ),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_alert_says_whose_address_the_code_and_what_to_do_in_the_readers_language(
    language: Language,
) -> None:
    text, subject, call, stand_in = WORDS[language]
    policy = load_policy()
    verified = late_no(text, manager=PETROVA.model_copy(update={"language": language}))
    (answer,) = unclear_answers(verified.identity)
    alert = late_denial_alert(policy, verified, answer, of_message(policy, verified.identity), NOW)
    assert alert is not None
    assert (alert.kind, alert.recipient, alert.language) == (
        "identity_alert",
        PETROVA.email,
        language,
    )
    assert (alert.escalation_id, alert.recipient_role) == (None, "account_manager")
    rendered = render(alert)
    assert rendered.subject.startswith(subject) and ADDRESS in rendered.subject
    for said in (f"«{text}»", CODE, str(CONFIRMATION), call, "buh@stroymontazh.ru"):
        assert said in rendered.body, said
    assert f"careline crm revoke {ADDRESS} --customer cust-stroymontazh" in rendered.body
    assert stand_in not in rendered.body
    assert rendered.html is not None and f'<html lang="{language}">' in rendered.html
    assert f"<code>careline crm revoke {ADDRESS} --customer cust-stroymontazh" in rendered.html
    # Without a manager on file the head of support reads it, told why it is theirs.
    head = late_denial_alert(
        policy, late_no(text, manager=None), answer, StaffLanguages(language), NOW
    )
    assert head is not None and head.recipient_role == "head_of_support"
    assert stand_in in render(head).body
    # Once per reply, request and reader: a redelivery makes the same ids.
    again = late_denial_alert(policy, verified, answer, of_message(policy, verified.identity), NOW)
    assert again is not None and again.notification_id == alert.notification_id


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_sample_renders_in_every_language(language: str) -> None:
    rendered = render_kind("identity_alert", language, SAMPLES["identity_alert"])
    assert rendered.fallback_from is None and "OK-7H3K-Q9PX" in rendered.body
    assert "2025-03-16 11:40 MSK" in rendered.body  # on the team's clock
