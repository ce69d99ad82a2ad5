"""The routing policy (which rule fires, and why) and the notifications an escalation asks for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.escalator.detection import detect
from services.escalator.notifications import (
    account_manager_stand_in,
    client_contacts,
    staff_notifications,
    subject_key,
)
from services.escalator.policy import (
    POLICY_PATH,
    Decision,
    Policy,
    evaluate,
    load_policy,
    parse_policy,
)
from services.notifier.domain import check_disclosure, render
from shared.contracts import (
    ChannelRef,
    ConfirmationRequest,
    CustomerRef,
    Entity,
    EscalationChanged,
    Evidence,
    Identity,
    IdentityVerified,
    Language,
    MessageNormalized,
    Party,
    SenderIdentifiers,
    Signal,
    SignalEvidence,
    StaffRef,
    derived_id,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
POLICY = load_policy()
MANAGER = StaffRef(id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example")
CUSTOMER = CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold")


# --- helpers -------------------------------------------------------------------------


def message(
    text: str = "Добрый день, вопрос по счёту.",
    email: str | None = "ceo@stroymontazh.ru",
    language: Language = "ru",
    channel: str = "email",
    subject: str = "Приостановка CRM",
    **sender: Any,
) -> MessageNormalized:
    external_id = f"{derived_id('external', text)}@mail.stroymontazh.ru"
    message_id = derived_id("message", channel, external_id)
    return MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=NOW,
        channel=channel,  # type: ignore[arg-type]
        sender=SenderIdentifiers(email=email, **sender),
        subject=subject,
        text=text,
        language=language,
        language_confidence=0.9,
        thread_id=external_id,
        external_id=external_id,
        received_at=NOW,
    )


def identity(
    status: str = "verified",
    channels: tuple[tuple[str, str, bool], ...] = (
        ("email", "buh@stroymontazh.ru", True),
        ("phone", "+74951234567", True),
    ),
    manager: StaffRef | None = MANAGER,
    customer: CustomerRef | None = CUSTOMER,
    evidence: tuple[Evidence, ...] | None = None,
) -> Identity:
    if evidence is None:
        evidence = (
            Evidence(
                kind="corporate_domain",
                detail="sender's domain stroymontazh.ru is the corporate domain of customer "
                "cust-stroymontazh; the address itself is not on file",
                weight=0.5,
                source="sender.email",
            ),
        )
    return Identity(
        status=status,  # type: ignore[arg-type]
        confidence={"verified": 0.95, "probable": 0.5}.get(status, 0.0),
        customer=customer,
        contact=Party(id="ct-kovaleva", name="Марина Ковалёва") if status == "verified" else None,
        account_manager=manager,
        authorized_channels=[
            ChannelRef(kind=k, address=a, verified=v)  # type: ignore[arg-type]
            for k, a, v in channels
        ],
        disclosure={"verified": "account", "probable": "general"}.get(status, "none"),  # type: ignore[arg-type]
        evidence=list(evidence),
    )


def verified_message(msg: MessageNormalized, who: Identity) -> IdentityVerified:
    return IdentityVerified(
        event_id=derived_id("verified", msg.message_id),
        message_id=msg.message_id,
        correlation_id=msg.correlation_id,
        occurred_at=NOW,
        message=msg,
        identity=who,
    )


def escalation(decision: Decision, verified: IdentityVerified) -> EscalationChanged:
    rule = decision.rule
    escalation_id = derived_id("escalation", subject_key(verified), rule.kind, verified.message_id)
    return EscalationChanged(
        event_id=derived_id("escalation-changed", escalation_id, verified.message_id),
        message_id=verified.message_id,
        correlation_id=verified.correlation_id,
        occurred_at=NOW,
        escalation_id=escalation_id,
        change="opened",
        kind=rule.kind,
        severity=rule.severity,
        rule=rule.id,
        reason=decision.reason,
        customer_id=verified.identity.customer.id if verified.identity.customer else None,
        identity_status=verified.identity.status,
        signals=list(decision.signals),
        roles=rule.roles,
        ack_deadline=POLICY.ack_by(rule.severity, NOW),
    )


def only(decisions: list[Decision], rule_id: str) -> Decision:
    found = [d for d in decisions if d.rule.id == rule_id]
    assert len(found) == 1, [d.rule.id for d in decisions]
    return found[0]


def scenario(
    text: str, who: Identity, **message_args: Any
) -> tuple[IdentityVerified, list[Decision]]:
    verified = verified_message(message(text, **message_args), who)
    return verified, evaluate(POLICY, detect(text), who)


def policy_data() -> dict[str, Any]:
    return yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))


def sig(name: str, score: float = 0.9, *words: str) -> Signal:
    return Signal(
        name=name,
        score=score,
        evidence=[SignalEvidence(start=0, end=len(w), text=w, rule="test") for w in words],
    )


# --- the shipped policy --------------------------------------------------------------


def test_load_policy_loads_the_shipped_policy() -> None:
    policy = load_policy()

    assert isinstance(policy, Policy)
    ids = [r.id for r in policy.rules]
    assert {"legal-threat-to-legal", "violence-to-security", "unconfirmed-sender"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert policy.team_language == "ru"
    assert policy.ack_by("P1", NOW) == NOW + timedelta(minutes=15)
    for rule in policy.rules:
        assert rule.playbook.get(policy.team_language), rule.id
        for role in rule.roles:
            assert role == "account_manager" or policy.address(role), (rule.id, role)


# --- evaluate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Я подам на вас в суд.", "Подам на вас до суду.", "I will sue you."],
)
def test_a_legal_threat_goes_to_legal_and_the_head_of_support(text: str) -> None:
    _, decisions = scenario(text, identity("verified"))

    decision = only(decisions, "legal-threat-to-legal")
    assert decision.rule.kind == "legal"
    assert decision.rule.severity == "P2"
    assert decision.rule.roles == ["legal", "head_of_support"]
    assert [s.name for s in decision.signals] == ["legal_threat"]
    assert [d.rule.id for d in decisions] == ["legal-threat-to-legal"]


def test_violence_is_p1_for_security() -> None:
    _, decisions = scenario("I will kill you if my order is late again", identity("verified"))

    decision = only(decisions, "violence-to-security")
    assert decision.rule.severity == "P1"
    assert decision.rule.roles[0] == "security"
    assert POLICY.ack_by(decision.rule.severity, NOW) == NOW + timedelta(minutes=15)


def test_a_probable_identity_asks_the_registered_channel_and_answers_the_sender() -> None:
    _, decisions = scenario("Добрый день, почему приостановили CRM?", identity("probable"))

    decision = only(decisions, "unconfirmed-sender")
    assert decision.rule.kind == "identity_confirmation"
    assert decision.rule.roles == ["account_manager"]
    assert [(c.kind, c.to) for c in decision.rule.client_contacts] == [
        ("identity_confirmation", "registered_channel"),
        ("unknown_sender_explanation", "sender"),
    ]
    assert decision.signals == ()


@pytest.mark.parametrize("status", ["verified", "unknown", "conflict", "suspicious"])
def test_only_a_probable_identity_asks_for_confirmation(status: str) -> None:
    _, decisions = scenario("Добрый день, почему приостановили CRM?", identity(status))

    assert "unconfirmed-sender" not in [d.rule.id for d in decisions]


def test_every_matching_rule_fires() -> None:
    _, decisions = scenario("Подам в суд, идиоты!", identity("probable"))

    assert {d.rule.id for d in decisions} == {
        "legal-threat-to-legal",
        "abuse-agent-guidance",
        "unconfirmed-sender",
    }


def test_no_signal_and_a_verified_client_fires_nothing() -> None:
    assert scenario("Как настроить автоответ?", identity("verified"))[1] == []


def test_the_reason_names_the_rule_the_words_and_the_identity_evidence() -> None:
    _, decisions = scenario("ПОДАМ В СУД!!! Верните деньги.", identity("probable"))

    reason = only(decisions, "legal-threat-to-legal").reason
    assert reason.startswith("rule legal-threat-to-legal:")
    assert "legal_threat 0.90" in reason
    assert "«ПОДАМ В СУД»" in reason
    assert "identity probable as customer cust-stroymontazh (tier gold)" in reason
    assert "corporate domain of customer cust-stroymontazh" in reason


def test_form_evidence_is_not_quoted_as_words_in_the_reason() -> None:
    _, decisions = scenario("ВЫ ИДИОТЫ, СКОЛЬКО МОЖНО ЖДАТЬ!!!", identity("verified"))

    reason = only(decisions, "abuse-agent-guidance").reason
    assert "«ИДИОТЫ»" in reason
    assert "«!!!»" not in reason


def test_a_signal_below_the_rules_min_score_does_not_fire() -> None:
    who = identity("verified")

    assert evaluate(POLICY, [sig("legal_threat", 0.49, "суд")], who) == []
    assert [d.rule.id for d in evaluate(POLICY, [sig("legal_threat", 0.5, "суд")], who)] == [
        "legal-threat-to-legal"
    ]


def test_all_signals_and_tiers_conditions() -> None:
    data = policy_data()
    data["rules"] = [
        {
            "id": "angry-platinum-leaving",
            "when": {"all_signals": ["abuse", "churn_risk"], "tiers": ["platinum"]},
            "kind": "retention",
            "severity": "P2",
            "notify": ["account_manager", "head_of_support"],
        }
    ]
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    platinum = identity(customer=CustomerRef(id="cust-northwind", name="N", tier="platinum"))
    both = [sig("abuse", 0.9, "idiots"), sig("churn_risk", 0.9, "cancel my plan")]

    fired = evaluate(policy, both, platinum)
    assert [d.rule.id for d in fired] == ["angry-platinum-leaving"]
    assert [s.name for s in fired[0].signals] == ["abuse", "churn_risk"]
    assert evaluate(policy, both[:1], platinum) == []
    assert evaluate(policy, both, identity()) == []  # gold, not platinum
    assert evaluate(policy, both, identity("unknown", customer=None)) == []


# --- parse_policy rejects an inconsistent file ---------------------------------------


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def _broken(change: str) -> dict[str, Any]:
    data = policy_data()
    if change == "unknown signal":
        _rule(data, "legal-threat-to-legal")["when"]["any_signals"] = ["lawsuit_threat"]
    elif change == "unknown role":
        _rule(data, "legal-threat-to-legal")["notify"] = ["legal", "ceo"]
    elif change == "role without address":
        del data["roles"]["legal"]
    elif change == "role with an empty address":
        data["roles"]["legal"] = " "
    elif change == "duplicate rule id":
        data["rules"].append(dict(_rule(data, "legal-threat-to-legal")))
    elif change == "severity without deadline":
        del data["ack_deadlines_minutes"]["P1"]
    elif change == "rule without condition":
        _rule(data, "legal-threat-to-legal")["when"] = {"min_score": 0.7}
    elif change == "unknown key":
        _rule(data, "legal-threat-to-legal")["notfiy"] = ["legal"]
    elif change == "unknown client contact target":
        _rule(data, "unconfirmed-sender")["client_contacts"][0]["to"] = "any_address"
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown signal", "unknown signals.*lawsuit_threat"),
        ("unknown role", "unknown roles.*ceo"),
        ("role without address", "legal-threat-to-legal: no address for roles.*legal"),
        ("role with an empty address", "no address for roles.*legal"),
        ("duplicate rule id", "rule ids must be unique"),
        ("severity without deadline", "violence-to-security: no ack deadline for severity P1"),
        ("rule without condition", "at least one signal or identity condition"),
        ("unknown key", "notfiy"),
        ("unknown client contact target", "any_address|registered_channel"),
    ],
)
def test_parse_policy_rejects_an_inconsistent_policy(change: str, message: str) -> None:
    text = yaml.safe_dump(_broken(change), allow_unicode=True)

    with pytest.raises(ValidationError, match=message):
        parse_policy(text)


def test_the_unbroken_copy_parses() -> None:
    assert parse_policy(yaml.safe_dump(policy_data(), allow_unicode=True)) == POLICY


# --- staff notifications -------------------------------------------------------------


def _notes(text: str, who: Identity, rule_id: str, **message_args: Any) -> tuple[Any, ...]:
    verified, decisions = scenario(text, who, **message_args)
    decision = only(decisions, rule_id)
    event = escalation(decision, verified)
    return verified, decision, event


def test_staff_notifications_address_roles_from_the_policy() -> None:
    verified, decision, event = _notes(
        "Подам в суд!", identity("verified"), "legal-threat-to-legal"
    )

    notes = staff_notifications(POLICY, decision, event, verified)

    assert [(n.recipient_role, n.recipient) for n in notes] == [
        ("legal", "legal@careline.example"),
        ("head_of_support", "head.support@careline.example"),
    ]
    assert [n.kind for n in notes] == ["legal_notice", "manager_escalation"]
    for note in notes:
        assert note.language == POLICY.team_language
        assert note.severity == "P2"
        assert note.recipient_verified is True
        assert note.escalation_id == event.escalation_id
        assert note.message_id == verified.message_id
        assert note.data["reason"] == decision.reason
        assert note.data["playbook"] == decision.rule.playbook["ru"]
        assert note.data["signals"] == [
            {
                "name": "legal_threat",
                "score": 0.9,
                "words": ["Подам в суд"],
                "quoted": ["Подам в суд"],
            }
        ]
        check_disclosure(note)  # staff may read account content


def test_staff_notifications_address_the_account_manager_from_the_identity() -> None:
    other = StaffRef(id="am-carter", name="Emily Carter", email="e.carter@careline.example")
    verified, decision, event = _notes(
        "Мы уже оплатили, платёжка во вложении, а вы пишете про задолженность",
        identity("verified", manager=other),
        "billing-dispute",
    )

    notes = staff_notifications(POLICY, decision, event, verified)

    assert [(n.recipient_role, n.recipient) for n in notes] == [
        ("billing", "billing@careline.example"),
        ("account_manager", "e.carter@careline.example"),
    ]


def test_without_an_account_manager_the_deputy_stands_in_and_is_told_why() -> None:
    verified, decision, event = _notes(
        "Мы уже оплатили, платёжка во вложении, а вы пишете про задолженность",
        identity("unknown", manager=None, customer=None, channels=()),
        "billing-dispute",
    )

    notes = staff_notifications(POLICY, decision, event, verified)

    assert [(n.recipient_role, n.recipient) for n in notes] == [
        ("billing", "billing@careline.example"),
        ("deputy", "deputy.support@careline.example"),
    ]
    assert notes[0].data["customer"] is None
    assert "stand_in_for" not in notes[0].data
    assert notes[1].data["stand_in_for"] == "account_manager"
    assert "вместо него" in render(notes[1]).body


def test_a_rule_for_the_account_manager_alone_still_reaches_someone_for_an_unknown_sender() -> None:
    verified, decision, event = _notes(
        "Верните деньги за подписку, иначе уйду к конкурентам",
        identity("unknown", manager=None, customer=None, channels=()),
        "compensation-demand",
    )

    notes = staff_notifications(POLICY, decision, event, verified)

    assert [n.recipient_role for n in notes] == ["deputy"]
    for language, words in (("en", "in their place"), ("uk", "замість нього")):
        note = notes[0].model_copy(update={"language": language})
        rendered = render(note)
        assert words in rendered.body
        assert rendered.html is not None and words in rendered.html


def test_a_stand_in_already_told_by_the_rule_is_not_told_twice() -> None:
    assert account_manager_stand_in(POLICY, ["account_manager", "deputy"]) == (
        "head_of_support",
        "head.support@careline.example",
    )


# --- client contacts -----------------------------------------------------------------


def test_confirmation_goes_only_to_the_registered_verified_email() -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM? Мы всё оплатили.",
        identity("probable"),
        "unconfirmed-sender",
        email="ceo@stroymontazh.ru",
    )

    notes = client_contacts(decision, event, verified)

    by_kind = {n.kind: n for n in notes}
    assert list(by_kind) == ["identity_confirmation", "unknown_sender_explanation"]
    confirm = by_kind["identity_confirmation"]
    assert confirm.recipient == "buh@stroymontazh.ru"
    assert confirm.recipient != verified.message.sender.email
    assert confirm.recipient_role == "client_registered"
    assert (confirm.recipient_verified, confirm.content_class) == (True, "account")
    assert confirm.data["customer"] == "ООО «СтройМонтаж»"
    check_disclosure(confirm)


def test_the_sender_gets_a_general_explanation_that_names_no_account() -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM?", identity("probable"), "unconfirmed-sender"
    )

    explanation = client_contacts(decision, event, verified)[-1]

    assert explanation.kind == "unknown_sender_explanation"
    assert explanation.recipient == "ceo@stroymontazh.ru"
    assert explanation.recipient_role == "client_sender"
    assert explanation.recipient_verified is False
    assert explanation.content_class == "general"
    assert explanation.reply_to_external_id == verified.message.external_id
    # The subject, and whether the registered owner is asked to confirm (a yes or no that
    # names no account).
    assert explanation.data == {"subject": "Приостановка CRM", "confirmation_asked": False}
    check_disclosure(explanation)


@pytest.mark.parametrize(
    "channels",
    [
        (),
        (("phone", "+74951234567", True),),
        (("email", "buh@stroymontazh.ru", False),),
    ],
    ids=["none", "phone-only", "unverified-email"],
)
def test_no_verified_registered_email_means_no_confirmation_request(
    channels: tuple[tuple[str, str, bool], ...],
) -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM?", identity("probable", channels=channels), "unconfirmed-sender"
    )

    notes = client_contacts(decision, event, verified)

    assert [n.kind for n in notes] == ["unknown_sender_explanation"]
    assert all(n.recipient == "ceo@stroymontazh.ru" for n in notes)
    assert all(n.content_class == "general" for n in notes)


def test_a_sender_without_email_gets_no_email_explanation() -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM?",
        identity("probable"),
        "unconfirmed-sender",
        email=None,
        channel="chat",
        handle="@ceo_stroy",
    )

    notes = client_contacts(decision, event, verified)

    assert [(n.kind, n.recipient) for n in notes] == [
        ("identity_confirmation", "buh@stroymontazh.ru")
    ]


@pytest.mark.parametrize(("language", "expected"), [("uk", "uk"), ("en", "en"), ("unknown", "en")])
def test_client_contacts_use_the_client_language(language: Language, expected: str) -> None:
    verified, decision, event = _notes(
        "Чому призупинили CRM?", identity("probable"), "unconfirmed-sender", language=language
    )

    assert {n.language for n in client_contacts(decision, event, verified)} == {expected}


def test_a_rule_without_client_contacts_contacts_no_client() -> None:
    verified, decision, event = _notes(
        "Подам в суд!", identity("verified"), "legal-threat-to-legal"
    )

    assert client_contacts(decision, event, verified) == []


# --- idempotency ---------------------------------------------------------------------


def _all_notes(text: str, who: Identity, rule_id: str) -> list[Any]:
    verified, decision, event = _notes(text, who, rule_id)
    return staff_notifications(POLICY, decision, event, verified) + client_contacts(
        decision, event, verified
    )


def test_notification_ids_are_deterministic() -> None:
    first = _all_notes("Почему приостановили CRM?", identity("probable"), "unconfirmed-sender")
    again = _all_notes("Почему приостановили CRM?", identity("probable"), "unconfirmed-sender")

    assert [n.notification_id for n in first] == [n.notification_id for n in again]
    assert [n.event_id for n in first] == [n.event_id for n in again]
    assert len({n.notification_id for n in first}) == len(first) == 3
    assert len({n.event_id for n in first}) == len(first)
    for note in first:
        assert isinstance(note.notification_id, uuid.UUID)


def test_another_escalation_gets_other_notification_ids() -> None:
    first = _all_notes("Почему приостановили CRM?", identity("probable"), "unconfirmed-sender")
    other = _all_notes("А где мои счета?", identity("probable"), "unconfirmed-sender")

    assert not {n.notification_id for n in first} & {n.notification_id for n in other}


# --- what the escalator asks for, the notifier can render -----------------------------


@pytest.mark.parametrize(
    ("text", "status", "rule_id"),
    [
        ("Подам в суд, идиоты!!!", "verified", "legal-threat-to-legal"),
        ("Почему приостановили CRM?", "probable", "unconfirmed-sender"),
        ("I will kill you", "unknown", "violence-to-security"),
    ],
)
def test_every_requested_notification_renders(text: str, status: str, rule_id: str) -> None:
    for note in _all_notes(text, identity(status), rule_id):
        rendered = render(note)
        assert rendered.subject and rendered.body.strip()
        assert rendered.fallback_from is None


# --- the new kinds: legal fact pack, bad news first, billing answer, webhooks ---------


def test_legal_gets_the_fact_pack_with_the_clients_own_words() -> None:
    text = "Если отключите CRM, подам в суд.\nПлатёжка во вложении."
    verified, decision, event = _notes(text, identity("verified"), "legal-threat-to-legal")

    legal, head = staff_notifications(POLICY, decision, event, verified)

    assert legal.kind == "legal_notice"
    assert legal.data["message_text"] == text
    assert legal.data["customer_tier"] == "gold"
    assert legal.data["sender"]["email"] == "ceo@stroymontazh.ru"
    assert legal.data["received_at"] == NOW.isoformat()
    assert "message_text" not in head.data  # the others get the summary, not the pack
    rendered = render(legal)
    assert "> Если отключите CRM, подам в суд." in rendered.body


def test_a_service_failure_tells_the_client_first_at_the_registered_address() -> None:
    verified, decision, event = _notes(
        "Вы обещали исправить экспорт к пятнице, и опять ничего не работает.",
        # A standard-tier client: a gold one's failure is P2 (service-failure-top-tier).
        identity("verified", customer=CUSTOMER.model_copy(update={"tier": "standard"})),
        "service-failure",
    )

    (notice,) = client_contacts(decision, event, verified)

    assert notice.kind == "service_failure_notice"
    assert notice.recipient == "buh@stroymontazh.ru"
    assert (notice.recipient_verified, notice.content_class) == (True, "account")
    assert notice.severity == "P3"  # not urgent: it waits for the client's morning
    assert notice.data["account_manager"] == "Ольга Петрова"
    assert notice.data["ack_deadline"] == event.ack_deadline.isoformat()
    rendered = render(notice)
    assert "Ольга Петрова" in rendered.body and rendered.fallback_from is None


def test_a_billing_dispute_is_acknowledged_with_the_references_quoted() -> None:
    text = "Мы уже оплатили счёт № 2025-0412, платёжка во вложении, а вы пишете про задолженность"
    msg = message(text, email="buh@stroymontazh.ru")
    msg = msg.model_copy(
        update={"entities": [Entity(kind="invoice", value="2025-0412", start=20, end=29)]}
    )
    verified = verified_message(msg, identity("verified"))
    decision = only(evaluate(POLICY, detect(text), verified.identity), "billing-dispute")
    event = escalation(decision, verified)

    (ack,) = client_contacts(decision, event, verified)

    assert ack.kind == "billing_dispute_ack"
    assert ack.recipient == "buh@stroymontazh.ru"
    assert ack.severity == "P2"
    assert ack.data["references"] == ack.data["invoices"] == ["2025-0412"]
    assert ack.data["sender_address"] is None  # answered where it came from
    assert ack.reply_to_external_id == msg.external_id  # so it threads with the client's mail
    assert "2025-0412" in render(ack).body


def test_the_registered_address_of_a_probable_sender_is_told_who_wrote() -> None:
    verified, decision, event = _notes(
        "Мы уже оплатили, платёжка во вложении, а вы пишете про задолженность",
        identity("probable"),
        "billing-dispute",
        email="ceo@stroymontazh.ru",
    )

    (ack,) = client_contacts(decision, event, verified)

    assert ack.recipient == "buh@stroymontazh.ru"
    assert ack.data["sender_address"] == "ceo@stroymontazh.ru"
    assert ack.reply_to_external_id is None  # a new thread at the registered address


def test_the_confirmation_request_carries_the_verifiers_code_and_link() -> None:
    who = identity("probable").model_copy(
        update={
            "confirmation": ConfirmationRequest(
                confirmation_id=uuid.uuid4(),
                code="482913",
                url="https://support.careline.example/confirm/abc",
                expires_at=NOW + timedelta(days=2),
                files_under="Андрей Соколов",
            )
        }
    )
    verified, decision, event = _notes("Почему приостановили CRM?", who, "unconfirmed-sender")

    confirm = client_contacts(decision, event, verified)[0]

    assert confirm.data["confirmation_code"] == "482913"
    assert confirm.data["confirmation_url"] == "https://support.careline.example/confirm/abc"
    assert confirm.data["confirmation_expires_at"] == (NOW + timedelta(days=2)).isoformat()
    assert confirm.data["sender_address"] == "ceo@stroymontazh.ru"
    body = render(confirm).body
    assert "482913" in body and "ceo@stroymontazh.ru" in body
    # Whose the address becomes is shown to the person confirming: they vouch for it too.
    assert confirm.data["files_under"] == "Андрей Соколов"
    assert "владелец адреса — Андрей Соколов" in body


def test_a_role_addressed_as_a_webhook_is_told_through_it() -> None:
    data = policy_data()
    data["roles"]["head_of_support"] = "webhook:support-slack"
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    verified, decision, event = _notes(
        "Подам в суд!", identity("verified"), "legal-threat-to-legal"
    )

    notes = staff_notifications(policy, decision, event, verified)

    head = next(n for n in notes if n.recipient_role == "head_of_support")
    assert (head.channel, head.recipient) == ("webhook", "support-slack")
    assert next(n for n in notes if n.recipient_role == "legal").channel == "email"
