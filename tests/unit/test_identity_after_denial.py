"""A denial on file weighs on the next message in the client's name (verifier denials.py),
and a suspicious sender's message tells the client nothing automatically (escalator
digest.withheld_kinds), staff told why in ru, uk and en."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.escalator.digest import message_notices, withheld_kinds
from services.escalator.notifications import PROMISING_KINDS, staff_notifications
from services.notifier.domain import render
from services.verifier.denials import Denial, denial_of_channel, heed_denials
from services.verifier.domain import Candidate, CustomerFacts, decide_identity
from services.verifier.settings import EvidenceWeights
from shared.contracts import AuthResults, CustomerRef, Identity, Language, StaffRef
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


def heeded(
    identity: Identity,
    denials: list[Denial],
    facts: dict[str, CustomerFacts] | None = None,
    channel: tuple[str, str, str] = CHANNEL,
) -> Identity:
    """`heed_denials` as the verifier calls it: the denial disowning the channel found first."""
    disowned = denial_of_channel(identity, channel, denials)
    return heed_denials(identity, disowned, denials, WEIGHTS, facts)


def denial(key: str = CEO, customer: str = CUSTOMER, days_ago: float = 2) -> Denial:
    return Denial(
        confirmation_id=uuid.UUID("1b2c3d4e-0000-5000-8000-000000000001"),
        customer_id=customer,
        channel_kind="email",
        match_key=key,
        denied_at=NOW - timedelta(days=days_ago),
        denied_by="ct-kovaleva",
        denied_by_name="Марина Ковалёва",
    )


def test_the_address_the_client_disowned_writing_again_is_suspicious() -> None:
    identity = heeded(probable(None), [denial()])

    assert identity.status == "suspicious"
    assert identity.confidence == WEIGHTS.denied_before
    said = identity.evidence[-1]
    assert said.kind == "denied_before" and said.customer_id == CUSTOMER
    assert said.values["denied_at"] == f"{NOW - timedelta(days=2):%Y-%m-%d}"
    assert said.values["confirmation_id"] == "1b2c3d4e-0000-5000-8000-000000000001"
    assert CEO not in said.detail  # ids, not the address (logs and traces carry details)


def test_another_address_soon_after_a_denial_stays_probable_but_less_sure() -> None:
    before = probable(None)

    identity = heeded(before, [denial("buh2@stroymontazh.ru")])

    assert identity.status == "probable"  # the client may really have a new address
    assert identity.confidence == pytest.approx(before.confidence * (1 - WEIGHTS.recent_denial))
    said = identity.evidence[-1]
    assert said.kind == "denied_recently"
    assert said.weight == pytest.approx(identity.confidence - before.confidence)


def test_nothing_changes_without_a_denial_of_this_customer_or_for_a_known_sender() -> None:
    # Another customer's denial of another address says nothing of this one.
    other = denial("someone@other.example", customer="cust-other")
    verified = probable(None, status="verified")

    assert heeded(probable(None), []) == probable(None)
    assert heeded(probable(None), [other]) == probable(None)
    assert heeded(verified, [denial()]) == verified


# --- the disowned address writing a line that names nobody (the acceptance run's gap) ------


def unknown() -> Identity:
    """What the verifier decides alone of "Ответьте же, счёт оплачен!" from a free address."""
    return decide_identity(Candidate(), AuthResults(), {}, WEIGHTS, 0.5)


def facts_of(who: Identity) -> dict[str, CustomerFacts]:
    assert who.customer is not None
    return {
        who.customer.id: CustomerFacts(
            customer=who.customer,
            account_manager=who.account_manager,
            authorized_channels=tuple(who.authorized_channels),
        )
    }


FACTS = facts_of(probable(None))


def test_the_disowned_address_naming_nobody_is_suspicious_in_the_disowning_customers_name() -> None:
    before = unknown()
    assert before.status == "unknown" and before.customer is None

    identity = heeded(before, [denial()], FACTS)

    assert (identity.status, identity.confidence) == ("suspicious", WEIGHTS.denied_before)
    assert identity.customer is not None and identity.customer.id == CUSTOMER
    assert identity.account_manager is not None and identity.account_manager.id == "am-petrova"
    assert identity.contact is None  # nobody on file is speaking: the denier is in evidence
    assert identity.disclosure == "none" and identity.confirmation is None
    # The denial is the evidence now; "nothing matches" is no longer true.
    (said,) = identity.evidence
    assert said.kind == "denied_before" and said.customer_id == CUSTOMER
    assert said.values["contact_id"] == "ct-kovaleva"
    assert said.values["contact_name"] == "Марина Ковалёва"
    assert said.values["customer_name"] == "ООО «СтройМонтаж»"
    assert said.values["denied_at"] == f"{NOW - timedelta(days=2):%Y-%m-%d}"
    assert "ct-kovaleva" in said.detail and "Ковалёва" not in said.detail  # ids only
    assert said.weight == WEIGHTS.denied_before


def test_the_disowned_address_claiming_another_customer_is_suspicious_for_the_disowner() -> None:
    # The impostor, disowned by one client, now writes in another's name.
    named = CustomerRef(id="cust-other", name="ООО «Другая»", tier="standard")
    other = probable(None).model_copy(update={"customer": named, "account_manager": None})

    identity = heeded(other, [denial()], FACTS)

    assert identity.status == "suspicious"
    assert identity.customer is not None and identity.customer.id == CUSTOMER
    assert identity.account_manager is not None and identity.account_manager.id == "am-petrova"
    assert "cust-other" not in identity.evidence[-1].detail  # the denial is the disowner's
    # The customer it named is kept apart, with its own manager, to be warned.
    other_manager = StaffRef(id="am-ivanov", name="Иван Иванов", email="i.ivanov@careline.example")
    claiming = other.model_copy(update={"account_manager": other_manager})
    named_one = heeded(claiming, [denial()], FACTS).named_customer
    assert named_one is not None and named_one.customer == named
    assert named_one.account_manager == other_manager
    # Naming nobody, or the disowner itself, names no other customer.
    assert heeded(unknown(), [denial()], FACTS).named_customer is None
    assert heeded(probable(None), [denial()], FACTS).named_customer is None


def test_without_the_disowning_customers_facts_the_sender_is_still_suspicious() -> None:
    # The customer left the CRM since: the address stays disowned, the notice says the id.
    identity = heeded(unknown(), [denial()], {})

    assert (identity.status, identity.customer) == ("suspicious", None)
    assert "customer_name" not in identity.evidence[-1].values


def test_another_unknown_address_or_a_registered_or_failing_one_stays_as_it_was() -> None:
    stranger = ("email", "someone@gmail.com", "someone@gmail.com")
    verified = probable(None, status="verified")
    spoofed = unknown().model_copy(update={"status": "suspicious"})

    assert heeded(unknown(), [denial()], FACTS, stranger) == unknown()
    # A registered channel cannot be denied: even a denial on file of that very address
    # (an operator verified it afterwards) leaves it verified.
    assert heeded(verified, [denial()], FACTS) == verified
    assert heeded(spoofed, [denial()], FACTS) == spoofed


def test_the_denial_of_the_customer_the_message_names_is_the_one_said() -> None:
    theirs = denial(customer="cust-other", days_ago=1)
    ours = denial(days_ago=3)

    assert denial_of_channel(probable(None), CHANNEL, [theirs, ours]) == ours
    assert denial_of_channel(unknown(), CHANNEL, [theirs, ours]) == theirs  # the newest
    assert denial_of_channel(probable(None, status="verified"), CHANNEL, [ours]) is None


# --- the escalator: nothing automatic to the client about a suspicious sender's words --------


def suspicious() -> Identity:
    return heeded(probable(None), [denial()])


def test_a_suspicious_senders_message_withholds_the_answers_that_promise() -> None:
    # And "a specialist contacts you within 10 minutes" to whoever wrote a panic.
    assert withheld_kinds(False, False, suspicious=True) == dict.fromkeys(
        PROMISING_KINDS | {"panic_ack"}, "suspicious"
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
    "ru": "зарегистрированный контакт Марина Ковалёва клиента ООО «СтройМонтаж» {} ответил, "
    "что этот адрес не их",
    "uk": "зареєстрований контакт Марина Ковалёва клієнта ООО «СтройМонтаж» {} відповів, "
    "що ця адреса не їхня",
    "en": "the registered contact Марина Ковалёва of customer ООО «СтройМонтаж» disowned this "
    "address on {}",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_whose_denial_made_the_sender_suspicious(language: Language) -> None:
    verified = verified_message(suspicious(), language)
    (decision,) = [d for d in decisions_for(verified) if d.rule.kind == "suspicious_sender"]
    (note, *_) = staff_notifications(POLICY, decision, escalation(decision, verified), verified)

    body = render(note.model_copy(update={"language": language})).body

    assert DISOWNED[language].format(f"{NOW - timedelta(days=2):%Y-%m-%d}") in body, body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_disowned_address_naming_nobody_reaches_the_customers_account_manager(
    language: Language,
) -> None:
    """The escalator's suspicious-sender rule with the identity the verifier now gives a
    bare line from the disowned address: the account manager of the customer that disowned
    it is told, and reads whose denial it was."""
    who = heeded(unknown(), [denial()], FACTS)
    verified = verified_message(who, language)
    (decision,) = [d for d in decisions_for(verified) if d.rule.kind == "suspicious_sender"]

    notes = staff_notifications(POLICY, decision, escalation(decision, verified), verified)

    (note,) = [n for n in notes if n.recipient_role == "account_manager"]
    assert note.recipient == "o.petrova@careline.example"
    body = render(note.model_copy(update={"language": language})).body
    assert DISOWNED[language].format(f"{NOW - timedelta(days=2):%Y-%m-%d}") in body, body


# --- a confirmation staff took back (`careline crm revoke`) -------------------------------


def revoked(key: str = CEO) -> Denial:
    """A confirmation staff revoked: no contact denied it (the contact had confirmed it)."""
    return Denial(
        confirmation_id=uuid.UUID("1b2c3d4e-0000-5000-8000-000000000002"),
        customer_id=CUSTOMER,
        channel_kind="email",
        match_key=key,
        denied_at=NOW - timedelta(days=1),
        revoked_by="o.petrova",
    )


REVOKED = {
    "ru": "o.petrova {} отозвал(а) подтверждение этого адреса для клиента ООО «СтройМонтаж»: "
    "адрес не клиента",
    "uk": "o.petrova {} відкликав(-ла) підтвердження цієї адреси для клієнта ООО «СтройМонтаж»: "
    "адреса не клієнта",
    "en": "o.petrova took back the confirmation of this address for customer ООО «СтройМонтаж» "
    "on {}: not the client's",
}
REVOKED_ANOTHER = {
    "ru": "o.petrova {} отозвал(а) подтверждение другого адреса (электронная почта) для клиента "
    "ООО «СтройМонтаж»",
    "uk": "o.petrova {} відкликав(-ла) підтвердження іншої адреси (електронна пошта) для клієнта "
    "ООО «СтройМонтаж»",
    "en": "o.petrova took back the confirmation of another address (email) for customer "
    "ООО «СтройМонтаж» on {}",
}


def said_to_staff(who: Identity, language: Language) -> str:
    verified = verified_message(who, language)
    (decision, *_) = decisions_for(verified)
    (note, *_) = staff_notifications(POLICY, decision, escalation(decision, verified), verified)
    return render(note.model_copy(update={"language": language})).body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_revoked_address_writing_again_is_disowned_by_the_staff_who_revoked_it(
    language: Language,
) -> None:
    identity = heeded(probable(None), [revoked()])

    assert identity.status == "suspicious"
    said = identity.evidence[-1]
    assert said.kind == "revoked_by_staff"
    assert said.values["by"] == "o.petrova"
    assert said.values["revoked_at"] == f"{NOW - timedelta(days=1):%Y-%m-%d}"
    assert "contact_id" not in said.values and "registered contact" not in said.detail
    assert "staff (o.petrova) took back" in said.detail
    body = said_to_staff(identity, language)
    assert REVOKED[language].format(f"{NOW - timedelta(days=1):%Y-%m-%d}") in body, body
    if language != "en":
        assert said.detail not in body  # said in the notice's language, not the detail


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_another_address_soon_after_a_revoke_reads_that_staff_revoked_one(
    language: Language,
) -> None:
    identity = heeded(probable(None), [revoked("buh2@stroymontazh.ru")])

    assert identity.status == "probable"
    said = identity.evidence[-1]
    assert said.kind == "revoked_recently" and said.values["by"] == "o.petrova"
    body = said_to_staff(identity, language)
    assert REVOKED_ANOTHER[language].format(f"{NOW - timedelta(days=1):%Y-%m-%d}") in body, body


DISOWNED_BY_NOBODY_NAMED = {
    "ru": "зарегистрированный контакт клиента ООО «СтройМонтаж» {} ответил, что этот адрес не их",
    "uk": "зареєстрований контакт клієнта ООО «СтройМонтаж» {} відповів, що ця адреса не їхня",
    "en": "the registered contact of customer ООО «СтройМонтаж» disowned this address on {}",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_denial_whose_contact_is_not_known_is_said_in_the_notice_language(
    language: Language,
) -> None:
    nobody = replace(denial(), denied_by=None, denied_by_name=None)
    identity = heeded(probable(None), [nobody])

    body = said_to_staff(identity, language)

    assert DISOWNED_BY_NOBODY_NAMED[language].format(f"{NOW - timedelta(days=2):%Y-%m-%d}") in body
    if language != "en":
        assert identity.evidence[-1].detail not in body
