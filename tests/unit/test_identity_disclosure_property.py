"""Property: a sender nobody verified never receives account data at its own address.

For any message whose identity is not verified, the whole decision chain — the verifier's
identity, the escalator's policy and notifications, the notifier's rendering — sends
nothing to the sender's own unverified channel that names amounts, contract or invoice
numbers, a contract's plan or terms, the customer, its contacts, its manager or its
registered addresses, unless the sender wrote them itself — or unless it is an answer held
for the confirmation of that very address, which the notifier releases only when that
confirmation verifies exactly it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.escalator.notifications import client_contacts, staff_notifications
from services.escalator.policy import evaluate, load_policy
from services.notifier.domain import DisclosureRefused, check_disclosure, render
from services.notifier.holds import Release, Resolution, Withdrawal, settle
from services.verifier.matching import channel_key
from services.verifier.mirror import demo_batch, nested_batch
from shared.contracts import (
    AuthResults,
    ConfirmationRequest,
    Entity,
    EscalationChanged,
    IdentityVerified,
    MessageNormalized,
    SenderIdentifiers,
    SendNotification,
    Signal,
)
from tests.unit.test_identity_cases import EXTRA, crm, identify

pytestmark = pytest.mark.unit

CRM = crm()  # one in-memory CRM for every example


def _account_data() -> set[str]:
    """Everything on file that a reply could leak: names, numbers, amounts, addresses."""
    data: set[str] = set()
    for batch in (demo_batch(), nested_batch(EXTRA)):
        for m in batch.account_managers:
            data |= {m.name, m.email}
        for c in batch.customers:
            data.add(c.name)
            for d in c.documents or []:
                data.add(d.number)
                # a contract's terms: its plan and its notes
                data |= {t for t in (d.plan, d.notes) if t}
                if d.amount:
                    whole = d.amount.split(".")[0]
                    data |= {d.amount, whole, f"{int(whole):,}".replace(",", " ")}
        for contact in batch.contacts:
            data.add(contact.name)
            data |= {ch.address for ch in contact.channels}
    return data


ACCOUNT_DATA = _account_data()
VERIFIED_KEYS = {
    (ch.kind, channel_key(ch.kind, ch.address))
    for batch in (demo_batch(), nested_batch(EXTRA))
    for contact in batch.contacts
    for ch in contact.channels
    if ch.verified
}

SENDERS = [
    "a.sokolov@stroymontazh.ru",  # the seed-000 CEO: corporate domain, not on file
    "new.person@stroymontazh.ru",
    "someone@alfa-group.ru",  # a domain two customers share
    "belova@alfa-group.ru",  # on file, never verified
    "sokolov.andrey@mail.ru",
    "andrey.s@gmail.com",
    "ivan.ivanov@ukr.net",
    "olena.sh@i.ua",
    "stranger@outlook.com",
    "info@unknown-company.example",
    "buh@stroymontazh.ru",  # verified: only with a failed DMARC in these examples
]
NAMES = [None, "Андрей Соколов", "Andrey Sokolov", "Ivan Ivanov", "Олена Шевчук", "Роман", "CEO"]
SIGNATURES = [
    "",
    "С уважением,\nАндрей Соколов\nгенеральный директор ООО «СтройМонтаж»",
    "Ivan Ivanov\nRubikon LLC",
    "Марина\nтел. +7 (495) 123-45-67",
    "Громов\nООО «Вектор»\n+7 495 999-00-00",
    "Best regards,\nJohn",
]
TEXTS = [
    "Объясните причину отключения аккаунта, мы оплатили счёт.",
    "Мы подадим в суд, если вы не вернёте деньги.",
    "Третій день нічого не працює, верніть гроші за підписку.",
    "Your service has been down for two days, this is unacceptable. Refund us.",
    "Добрый день, подскажите по тарифу.",
]
NUMBERS = [("invoice", "4512"), ("contract", "118/2019"), ("contract", "15/2021"),
           ("contract", "502"), ("invoice", "9999"), ("account", "100542")]  # fmt: skip


@st.composite
def messages(draw: st.DrawFn) -> MessageNormalized:
    email = draw(st.sampled_from(SENDERS))
    spoofed = email == "buh@stroymontazh.ru" or draw(st.booleans())
    auth = AuthResults(dmarc="fail") if spoofed else AuthResults(spf="pass", dmarc="pass")
    text = draw(st.sampled_from(TEXTS))
    entities = []
    for kind, number in draw(st.lists(st.sampled_from(NUMBERS), max_size=2, unique=True)):
        start = len(text) + 1
        text = f"{text} {number}"
        entities.append(Entity(kind=kind, value=number, start=start, end=len(text)))  # type: ignore[arg-type]
    now = datetime(2022, 3, 26, 11, 2, tzinfo=UTC)
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="prop",
        occurred_at=now,
        channel="email",
        sender=SenderIdentifiers(email=email, display_name=draw(st.sampled_from(NAMES))),
        subject=draw(st.sampled_from(["", "Re: уведомление", "Question"])),
        text=text,
        signature=draw(st.sampled_from(SIGNATURES)),
        language=draw(st.sampled_from(["ru", "uk", "en"])),
        thread_id="t",
        external_id=f"prop-{uuid.uuid4()}",
        auth=auth,
        entities=entities,
        received_at=now,
    )


POLICY = load_policy()
# Every signal some rule listens to: the examples choose which rules fire, so every rule's
# client contacts are exercised whatever the detector makes of the text.
SIGNAL_NAMES = sorted(
    {n for rule in POLICY.rules for n in (*rule.when.any_signals, *rule.when.all_signals)}
)


def _notifications(verified: IdentityVerified, names: list[str]) -> list:  # type: ignore[type-arg]
    policy = POLICY
    notes = []
    signals = [Signal(name=n, score=0.9) for n in names]
    for decision in evaluate(policy, signals, verified.identity):
        event = EscalationChanged(
            event_id=uuid.uuid4(),
            message_id=verified.message_id,
            correlation_id=verified.correlation_id,
            occurred_at=verified.occurred_at,
            escalation_id=uuid.uuid4(),
            change="opened",
            kind=decision.rule.kind,
            severity=decision.rule.severity,
            rule=decision.rule.id,
            reason=decision.reason,
            customer_id=verified.identity.customer.id if verified.identity.customer else None,
            identity_status=verified.identity.status,
            signals=list(decision.signals),
            roles=decision.rule.roles,
            ack_deadline=verified.occurred_at + timedelta(hours=4),
        )
        notes += staff_notifications(policy, decision, event, verified)
        notes += client_contacts(decision, event, verified)
    return notes


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    message=messages(),
    names=st.lists(st.sampled_from(SIGNAL_NAMES), max_size=3, unique=True),
    with_confirmation=st.booleans(),
)
def test_no_account_data_reaches_an_unverified_sender(
    message: MessageNormalized, names: list[str], with_confirmation: bool
) -> None:
    identity = asyncio.run(identify(message, CRM))
    if identity.status == "verified":
        return
    if identity.status == "probable" and with_confirmation:
        identity = identity.model_copy(update={"confirmation": _confirmation(message)})
    verified = IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        occurred_at=message.occurred_at,
        message=message,
        identity=identity,
    )
    sender = message.sender.email or ""
    own_unverified = (
        {sender} if ("email", channel_key("email", sender)) not in VERIFIED_KEYS else set()
    )
    written = " ".join(
        [message.subject, message.text, message.signature, message.sender.display_name or ""]
    ).lower()
    forbidden = {d for d in ACCOUNT_DATA if d.lower() not in written}
    for note in _notifications(verified, names):
        if note.recipient not in own_unverified:
            continue
        if note.held_for_confirmation is not None:
            assert identity.confirmation is not None
            assert note.held_for_confirmation == identity.confirmation.confirmation_id
            _only_its_own_confirmation_releases(note)
            continue
        assert note.content_class != "account", note.kind
        rendered = render(note)
        mail = f"{rendered.subject}\n{rendered.body}".lower()
        # The case's reference number is an id, not account data: its digits may spell an
        # account's number by chance ("…-501a-…").
        mail = mail.replace(str(note.escalation_id).lower(), "<reference>")
        leaked = sorted(d for d in forbidden if d.lower() in mail)
        assert not leaked, f"{note.kind} to the unverified sender names {leaked}"


def _confirmation(message: MessageNormalized) -> ConfirmationRequest:
    return ConfirmationRequest(
        confirmation_id=uuid.uuid5(message.message_id, "confirmation"),
        code="OK-TEST-CODE",
        expires_at=message.received_at + timedelta(hours=72),
    )


def _only_its_own_confirmation_releases(note: SendNotification) -> None:
    """The notifier never sends it as it stands; only a confirmation of exactly its address
    (and of its very confirmation) releases it; anything else withdraws it."""
    assert note.held_for_confirmation is not None
    confirmation, own = note.held_for_confirmation, note.recipient.upper()
    with pytest.raises(DisclosureRefused):
        check_disclosure(note)
    others = [
        Resolution(confirmation, "confirmed", uuid.uuid4(), note.occurred_at, "email", other)
        for other in ("buh@stroymontazh.ru", "stranger@outlook.com")
        if other != note.recipient
    ]
    others += [
        Resolution(confirmation, "confirmed", uuid.uuid4(), note.occurred_at, "phone", "+7495"),
        Resolution(confirmation, "denied", uuid.uuid4(), note.occurred_at),
        Resolution(confirmation, "expired", uuid.uuid4(), note.occurred_at),
    ]
    for resolution in others:
        assert isinstance(settle(note, resolution), Withdrawal), resolution
    with pytest.raises(ValueError):
        stranger = uuid.uuid4()  # another confirmation, even of the same address
        settle(note, Resolution(stranger, "confirmed", stranger, note.occurred_at, "email", own))
    mine = Resolution(confirmation, "confirmed", uuid.uuid4(), note.occurred_at, "email", own)
    released = settle(note, mine)
    assert isinstance(released, Release)
    check_disclosure(released.cmd)


def test_the_property_sees_held_answers() -> None:
    """Guard against a vacuous property: a confirmed seed-000 CEO does get held answers."""
    seed_000 = _seed_000()
    identity = asyncio.run(identify(seed_000, CRM)).model_copy(
        update={"confirmation": _confirmation(seed_000)}
    )
    verified = IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=seed_000.message_id,
        correlation_id="prop",
        occurred_at=seed_000.occurred_at,
        message=seed_000,
        identity=identity,
    )
    notes = _notifications(verified, ["billing_dispute", "service_failure"])
    held = [n for n in notes if n.held_for_confirmation is not None]
    assert {n.kind for n in held} == {"billing_dispute_ack", "service_failure_notice"}
    assert {n.recipient for n in held} == {seed_000.sender.email}
    for note in held:
        _only_its_own_confirmation_releases(note)


def _seed_000() -> MessageNormalized:
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="prop",
        occurred_at=datetime(2022, 3, 26, tzinfo=UTC),
        channel="email",
        sender=SenderIdentifiers(email="a.sokolov@stroymontazh.ru"),
        text=TEXTS[0],
        thread_id="t",
        external_id="x",
        received_at=datetime(2022, 3, 26, tzinfo=UTC),
    )


def test_the_property_sees_senders_that_get_mail() -> None:
    """Guard against a vacuous property: unverified senders do get an explanation."""
    seed_000 = _seed_000()
    identity = asyncio.run(identify(seed_000, CRM))
    verified = IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=seed_000.message_id,
        correlation_id="prop",
        occurred_at=seed_000.occurred_at,
        message=seed_000,
        identity=identity,
    )
    notes = _notifications(verified, ["billing_dispute"])
    to_sender = [n for n in notes if n.recipient == seed_000.sender.email]
    assert identity.status == "probable"
    assert to_sender and all(n.content_class == "general" for n in to_sender)
