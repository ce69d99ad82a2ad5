"""Seed 000, taken back, and what the address writes after it.

With the escalator lagging, a message from the confirmed address the verifier passed just
before the revoke reaches the escalator after it. It is handled as the revoke left the
address (revoked_sender.py): its sender disowned by staff, its promise at the registered
contact, the notices and the fact pack saying so (ru, uk, en).

The forger writing again (the verifier marks it suspicious, in the client's name): what it
brings into the client's open case is a disowned sender's words, not "the client wrote
again" (condition_facts.news_fact), in every reader's language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.escalator.condition_facts import change_facts, who_wrote
from services.escalator.digest import withheld_kinds
from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.escalator.notifications import about_message, makes_promise, promise_contact
from services.escalator.policy import Situation, evaluate, load_policy
from services.escalator.revocation import CONFIDENCE_REVOKED, EVIDENCE_REVOKED
from services.escalator.revoked_sender import (
    RevokedAddress,
    as_disowned,
    revoked_since_decided,
    sender_keys,
)
from services.notifier.domain import _environment, render
from services.notifier.reasons import reason_said
from services.notifier.samples import SAMPLES
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Evidence,
    Identity,
    IdentityVerified,
    MessageNormalized,
    SenderIdentifiers,
    SendNotification,
    Signal,
    SignalEvidence,
    StaffRef,
)

pytestmark = pytest.mark.unit

DECIDED = datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
CEO = "a.sokolov@stroymontazh.ru"  # confirmed for the client, then taken back
REGISTERED = "buh@stroymontazh.ru"
CUSTOMER = "cust-stroymontazh"
TEXT = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."


def from_the_address(sender: str = CEO, status: str = "verified") -> IdentityVerified:
    """The CEO's message as the verifier passed it while the address was the client's."""
    message_id = uuid.uuid4()
    identity = Identity(
        status=status,  # type: ignore[arg-type]
        confidence=0.95,
        customer=CustomerRef(id=CUSTOMER, name="ООО «СтройМонтаж»", tier="gold"),
        account_manager=StaffRef(
            id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address=CEO, verified=True),
            ChannelRef(kind="email", address=REGISTERED, verified=True),
        ],
        disclosure="account",
        evidence=[
            Evidence(
                kind="verified_channel",
                detail="sender's email is recorded as confirmed for contact ct-sokolov",
                weight=0.95,
                source="crm",
                customer_id=CUSTOMER,
                values={"channel": "email", "contact": "Соколов А."},
            ),
            Evidence(
                kind="document",
                detail="invoice 4512 is on file",
                weight=0.6,
                source="crm",
                customer_id=CUSTOMER,
                values={"document": "4512"},
            ),
        ],
    )
    message = MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=DECIDED,
        channel="email",
        sender=SenderIdentifiers(email=sender),
        subject="Претензия",
        text=TEXT,
        language="ru",
        language_confidence=0.9,
        thread_id=f"{message_id}@stroymontazh.ru",
        external_id=f"{message_id}@stroymontazh.ru",
        received_at=DECIDED,
    )
    return IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=DECIDED,
        message=message,
        identity=identity,
    )


def revoke(at: datetime) -> RevokedAddress:
    return RevokedAddress(CUSTOMER, CEO, uuid.uuid4(), "Ольга Петрова", at)


def on_file(*revokes: RevokedAddress) -> dict[tuple[str, str], RevokedAddress]:
    return {(r.customer_id, r.address): r for r in revokes}


def test_a_revoke_at_or_after_the_decision_disowns_the_message_and_one_before_does_not() -> None:
    verified = from_the_address(CEO.upper())  # addresses compare without case
    assert sender_keys(verified) == [(CUSTOMER, CEO)]
    after, same_time = revoke(DECIDED + timedelta(seconds=5)), revoke(DECIDED)
    assert revoked_since_decided(verified, on_file(after)) == after
    assert revoked_since_decided(verified, on_file(same_time)) == same_time
    # Decided after the revoke: whatever verified the address said so since.
    assert revoked_since_decided(verified, on_file(revoke(DECIDED - timedelta(1)))) is None
    # Another customer's revoke of the address, or none on file: nothing.
    other = RevokedAddress("cust-kvitka", CEO, uuid.uuid4(), "staff", DECIDED)
    assert revoked_since_decided(verified, on_file(other)) is None
    assert revoked_since_decided(verified, {}) is None


def test_only_a_verified_message_of_a_customer_is_looked_up() -> None:
    # A probable sender's revoke reaches its cases through their confirmation; a suspicious
    # one is said so already.
    assert sender_keys(from_the_address(status="probable")) == []
    assert sender_keys(from_the_address(status="suspicious")) == []
    unknown = from_the_address()
    unknown = unknown.model_copy(
        update={"identity": unknown.identity.model_copy(update={"customer": None})}
    )
    assert sender_keys(unknown) == []


def test_the_disowned_message_is_suspicious_and_promised_at_the_registered_contact() -> None:
    verified = from_the_address()
    assert promise_contact(verified)["recipient"] == CEO  # type: ignore[index]
    disowned = as_disowned(verified, revoke(DECIDED + timedelta(minutes=1)))
    identity = disowned.identity

    assert (identity.status, identity.confidence, identity.disclosure) == (
        "suspicious",
        CONFIDENCE_REVOKED,
        "none",
    )
    first, *rest = identity.evidence
    assert first.kind == EVIDENCE_REVOKED and first.values["by"] == "Ольга Петрова"
    # What the verifier said on the word taken back is not said again; the rest stays.
    assert [e.kind for e in rest] == ["document"]
    assert [c.address for c in identity.authorized_channels] == [REGISTERED]
    # The message itself is not changed, only whose it is.
    assert disowned.message == verified.message and verified.identity.status == "verified"
    # A promise is the registered contact's; the fact pack lists only that one.
    assert promise_contact(disowned)["recipient"] == REGISTERED  # type: ignore[index]
    seen = seen_message(disowned, [], [], [])
    pack = fact_pack(disowned, (), seen, History(messages=[], escalations=[]))
    assert pack["crm"]["registered"] == [{"kind": "email", "address": REGISTERED}]
    assert pack["identity"]["status"] == "suspicious"


def test_the_policy_reads_the_disowned_sender_and_promises_the_address_nothing() -> None:
    policy = load_policy()
    disowned = as_disowned(from_the_address(), revoke(DECIDED))
    billing = Signal(
        name="billing_dispute",
        score=0.96,
        evidence=[SignalEvidence(start=27, end=60, text="нам пишут о задолженности", rule="x")],
    )
    situation = Situation(DECIDED, "email", TEXT, History(messages=[], escalations=[]))
    decisions = evaluate(policy, [billing], disowned.identity, situation)
    assert "suspicious-sender" in {d.rule.id for d in decisions}
    # Nothing promising goes automatically to a sender staff disowned: no promise at all.
    unsaid = withheld_kinds(False, False, suspicious=True)
    assert not any(makes_promise(d, disowned, unsaid) for d in decisions)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("ru", "отозвал(а) подтверждение этого адреса"),
        ("uk", "відкликав(-ла) підтвердження цієї адреси"),
        ("en", "took back the confirmation of this address"),
    ],
)
def test_the_notice_says_staff_took_the_address_back(language: str, said: str) -> None:
    disowned = as_disowned(from_the_address(), revoke(DECIDED))
    notice = SendNotification(
        event_id=uuid.uuid4(),
        message_id=disowned.message_id,
        correlation_id=disowned.correlation_id,
        occurred_at=DECIDED,
        notification_id=uuid.uuid4(),
        escalation_id=uuid.uuid4(),
        kind="manager_escalation",
        recipient="o.petrova@careline.example",
        recipient_role="account_manager",
        recipient_verified=True,
        content_class="account",
        language=language,  # type: ignore[arg-type]
        data={**SAMPLES["manager_escalation"], **about_message(disowned)},
    )
    body = render(notice).body
    assert said in body and "Ольга Петрова" in body and "ООО «СтройМонтаж»" in body
    assert "Соколов" not in body  # the stale "verified channel of contact ..." is gone


def test_whose_words_a_merged_message_brings() -> None:
    assert who_wrote("verified", ["verified_channel"]) == "client"
    assert who_wrote("unknown", []) == "client"  # a sender whose cases are its own
    # Disowned by the registered contact or by staff (the verifier's denial on file, the
    # escalator's revoke), or mail failing authentication.
    assert who_wrote("suspicious", ["denied_before", "document"]) == "disowned"
    disowned = as_disowned(from_the_address(), revoke(DECIDED)).identity
    assert who_wrote(disowned.status, [e.kind for e in disowned.evidence]) == "disowned"
    assert who_wrote("suspicious", ["authentication_failed"]) == "suspicious"


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [
        ("ru", "за клиента не признали", "клиент написал снова"),
        ("uk", "за клієнта не визнали", "клієнт написав знову"),
        ("en", "disowned for the client", "the client wrote again"),
    ],
)
def test_the_disowned_senders_news_is_not_the_client_writing_again(
    language: str, said: str, not_said: str
) -> None:
    news = ("С нас дважды списали оплату за март.",)
    facts = change_facts(None, "P1", False, news, writer="disowned")
    assert [f.kind for f in facts] == ["disowned_wrote"]
    changes = [f.item() for f in facts]
    escalation = {"rule": "r", "signals": [], "condition_items": [], "change_items": changes}
    text = reason_said(escalation, reasons(language))
    assert said in text and "«С нас дважды списали оплату за март.»" in text
    assert not_said not in text
    # The client's own news reads as before.
    own = [f.item() for f in change_facts(None, "P1", False, news)]
    assert not_said in reason_said({**escalation, "change_items": own}, reasons(language))


def reasons(language: str) -> dict[str, Any]:
    """The notifier's phrases for why a notice came, in `language`."""
    return _environment().get_template("_staff_labels.j2").module.REASONS[language]  # type: ignore[attr-defined,no-any-return]
