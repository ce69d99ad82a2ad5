"""Which notifications an escalation asks for, and what they carry. Pure functions.

Staff get the facts (who, why with the evidence, severity, deadline, playbook). Clients are
contacted only as the rule says: a confirmation request goes to the customer's *registered,
verified* address, never to the unknown one; the unknown sender gets a plain explanation
that names no account.
"""

from __future__ import annotations

from typing import Any

from shared.contracts import EscalationChanged, IdentityVerified, SendNotification, derived_id

from .policy import Decision, Policy


def subject_key(verified: IdentityVerified) -> str:
    """Whom an escalation is about: the customer if known, else the sender's identifier."""
    if verified.identity.customer:
        return f"customer:{verified.identity.customer.id}"
    sender = verified.message.sender
    return "sender:" + (sender.email or sender.phone or sender.handle or str(verified.message_id))


def _common(event: EscalationChanged, verified: IdentityVerified) -> dict[str, Any]:
    return {
        "message_id": event.message_id,
        "correlation_id": event.correlation_id,
        "occurred_at": event.occurred_at,
        "escalation_id": event.escalation_id,
    }


def staff_notifications(
    policy: Policy, decision: Decision, event: EscalationChanged, verified: IdentityVerified
) -> list[SendNotification]:
    identity, message = verified.identity, verified.message
    data = {
        "severity": event.severity,
        "kind": event.kind,
        "rule": event.rule,
        "reason": event.reason,
        "ack_deadline": event.ack_deadline.isoformat(),
        "customer": identity.customer.name if identity.customer else None,
        "customer_id": identity.customer.id if identity.customer else None,
        "identity_status": identity.status,
        "identity_confidence": identity.confidence,
        "identity_evidence": [e.detail for e in identity.evidence],
        "signals": [
            {"name": s.name, "score": s.score, "words": [e.text for e in s.evidence]}
            for s in decision.signals
        ],
        "playbook": decision.rule.playbook.get(policy.team_language, ""),
        "channel": message.channel,
        "subject": message.subject,
        "escalation_id": str(event.escalation_id),
    }
    notes = []
    for role in decision.rule.notify:
        if role == "account_manager":
            if identity.account_manager is None:
                continue
            address = identity.account_manager.email
        else:
            address = policy.roles[role]
        notes.append(
            SendNotification(
                event_id=derived_id("notify-request", event.escalation_id, role, address),
                notification_id=derived_id("notification", event.escalation_id, role, address),
                kind="manager_escalation",
                recipient=address,
                recipient_role=role,
                recipient_verified=True,  # staff directory addresses
                content_class="account",
                language=policy.team_language,
                data=data,
                **_common(event, verified),
            )
        )
    return notes


def client_contacts(
    decision: Decision, event: EscalationChanged, verified: IdentityVerified
) -> list[SendNotification]:
    identity, message = verified.identity, verified.message
    language = message.language if message.language != "unknown" else "en"
    notes = []
    for contact in decision.rule.client_contacts:
        if contact.to == "registered_channel":
            registered = [
                c for c in identity.authorized_channels if c.kind == "email" and c.verified
            ]
            if not registered:
                continue
            address = registered[0].address
            data = {
                "customer": identity.customer.name if identity.customer else "",
                "subject": message.subject,
                "received_at": message.received_at.isoformat(),
                "channel": message.channel,
                "escalation_id": str(event.escalation_id),
            }
            notes.append(
                SendNotification(
                    event_id=derived_id("notify-request", event.escalation_id, contact.kind),
                    notification_id=derived_id("notification", event.escalation_id, contact.kind),
                    kind=contact.kind,
                    recipient=address,
                    recipient_role="client_registered",
                    recipient_verified=True,
                    content_class="account",
                    language=language,  # type: ignore[arg-type]
                    data=data,
                    **_common(event, verified),
                )
            )
        elif message.sender.email:
            notes.append(
                SendNotification(
                    event_id=derived_id("notify-request", event.escalation_id, contact.kind),
                    notification_id=derived_id("notification", event.escalation_id, contact.kind),
                    kind=contact.kind,
                    recipient=message.sender.email,
                    recipient_role="client_sender",
                    recipient_verified=False,
                    content_class="general",
                    language=language,  # type: ignore[arg-type]
                    reply_to_external_id=message.external_id,
                    data={"subject": message.subject},
                    **_common(event, verified),
                )
            )
    return notes
