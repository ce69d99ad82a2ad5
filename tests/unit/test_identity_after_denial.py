"""A denial on file weighs on the next message in the client's name (verifier denials.py),
and a suspicious sender's message tells the client nothing automatically (escalator
digest.withheld_kinds), staff told why in ru, uk and en."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.escalator.digest import message_notices, withheld_kinds
from services.escalator.notifications import PROMISING_KINDS, staff_notifications
from services.notifier.domain import render
from services.verifier.denials import Denial, heed_denials
from services.verifier.settings import EvidenceWeights
from shared.contracts import Identity, Language
from tests.unit.test_held_answers import (
    CEO,
    NOW,
    POLICY,
    contacts,
    decisions_for,
    probable,
    verified_message,
)
from tests.unit.test_routing_policy import escalation

pytestmark = pytest.mark.unit

WEIGHTS = EvidenceWeights()
CUSTOMER = "cust-stroymontazh"
CHANNEL = ("email", CEO, CEO)


def denial(key: str = CEO, customer: str = CUSTOMER, days_ago: float = 2) -> Denial:
    return Denial(
        confirmation_id=uuid.UUID("1b2c3d4e-0000-5000-8000-000000000001"),
        customer_id=customer,
        channel_kind="email",
        match_key=key,
        denied_at=NOW - timedelta(days=days_ago),
    )


def test_the_address_the_client_disowned_writing_again_is_suspicious() -> None:
    identity = heed_denials(probable(None), CHANNEL, [denial()], WEIGHTS)

    assert identity.status == "suspicious"
    assert identity.confidence == WEIGHTS.denied_before
    said = identity.evidence[-1]
    assert said.kind == "denied_before" and said.customer_id == CUSTOMER
    assert said.values["denied_at"] == f"{NOW - timedelta(days=2):%Y-%m-%d}"
    assert said.values["confirmation_id"] == "1b2c3d4e-0000-5000-8000-000000000001"
    assert CEO not in said.detail  # ids, not the address (logs and traces carry details)


def test_another_address_soon_after_a_denial_stays_probable_but_less_sure() -> None:
    before = probable(None)

    identity = heed_denials(before, CHANNEL, [denial("buh2@stroymontazh.ru")], WEIGHTS)

    assert identity.status == "probable"  # the client may really have a new address
    assert identity.confidence == pytest.approx(before.confidence * (1 - WEIGHTS.recent_denial))
    said = identity.evidence[-1]
    assert said.kind == "denied_recently"
    assert said.weight == pytest.approx(identity.confidence - before.confidence)


def test_nothing_changes_without_a_denial_of_this_customer_or_for_a_known_sender() -> None:
    other = denial(customer="cust-other")
    verified = probable(None, status="verified")

    assert heed_denials(probable(None), CHANNEL, [], WEIGHTS) == probable(None)
    assert heed_denials(probable(None), CHANNEL, [other], WEIGHTS) == probable(None)
    assert heed_denials(verified, CHANNEL, [denial()], WEIGHTS) == verified


# --- the escalator: nothing automatic to the client about a suspicious sender's words --------


def suspicious() -> Identity:
    return heed_denials(probable(None), CHANNEL, [denial()], WEIGHTS)


def test_a_suspicious_senders_message_withholds_the_answers_that_promise() -> None:
    assert withheld_kinds(False, False, suspicious=True) == dict.fromkeys(
        PROMISING_KINDS, "suspicious"
    )
    # A hold is said first.
    assert set(withheld_kinds(True, False, suspicious=True).values()) == {"hold"}


WITHHELD = {
    "ru": "Отправитель под подозрением, поэтому клиенту не отправлено автоматически",
    "uk": "Відправник під підозрою, тому клієнтові не надіслано автоматично",
    "en": "The sender is suspicious, so not sent to the client automatically",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_that_the_client_was_told_nothing_because_the_sender_is_suspicious(
    language: Language,
) -> None:
    verified = verified_message(suspicious(), language)
    (decision,) = [
        d for d in decisions_for(verified, "billing_dispute") if d.rule.kind == "billing"
    ]
    event = escalation(decision, verified)
    staff = staff_notifications(POLICY, decision, event, verified)
    clients = contacts(verified, "billing_dispute")
    assert {n.kind for n in clients} & PROMISING_KINDS  # what the rule would send

    told = message_notices(verified, staff, clients)

    assert not {n.kind for n in told} & PROMISING_KINDS
    notices = [n for n in told if not n.recipient_role.startswith("client")]
    assert notices
    for note in notices:
        assert note.data["client_contacts_withheld"]["why"] == "suspicious"
        body = render(note.model_copy(update={"language": language})).body
        assert WITHHELD[language] in body, body


DISOWNED = {
    "ru": "зарегистрированный контакт клиента ООО «СтройМонтаж» {} не признал этот адрес",
    "uk": "зареєстрований контакт клієнта ООО «СтройМонтаж» {} не визнав цю адресу",
    "en": "the registered contact of customer ООО «СтройМонтаж» disowned this address on {}",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_whose_denial_made_the_sender_suspicious(language: Language) -> None:
    verified = verified_message(suspicious(), language)
    (decision,) = [d for d in decisions_for(verified) if d.rule.kind == "suspicious_sender"]
    (note, *_) = staff_notifications(POLICY, decision, escalation(decision, verified), verified)

    body = render(note.model_copy(update={"language": language})).body

    assert DISOWNED[language].format(f"{NOW - timedelta(days=2):%Y-%m-%d}") in body, body
