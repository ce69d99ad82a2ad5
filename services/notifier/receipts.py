"""The answer to the registered contact who answered a confirmation request. Pure.

Seed 000 the other way round: the registered contact was asked "is this address yours?"
and answered, by reply or by the link, and then heard nothing. Whoever answers is told what
came of it, at the address the request went to, in its language: confirmed, the sender's
address is the client's now and the answer goes there; denied, nothing of the account goes
to it and the account manager will be in touch. An expiry answers nothing: no receipt.
"""

from __future__ import annotations

from typing import Any

from shared.contracts import SendNotification, derived_id

from .holds import Resolution

RECEIPT_KIND = "confirmation_receipt"
# What the receipt repeats of the request, so the contact knows which one it answered.
_OF_REQUEST = ("customer", "subject", "received_at", "sender_address", "sender_by_email")


def receipt_for(
    asked: SendNotification, resolution: Resolution, request_mail_id: str
) -> SendNotification | None:
    """The receipt for the identity confirmation request `asked`, now answered: a reply in
    the request's thread (`request_mail_id`, the Message-ID it went with)."""
    if resolution.outcome not in ("confirmed", "denied"):
        return None
    data: dict[str, Any] = {k: asked.data[k] for k in _OF_REQUEST if k in asked.data}
    data["outcome"] = resolution.outcome
    data["channel"] = asked.data.get("channel", "email")
    data["answered_at"] = resolution.at.isoformat()
    parts = (RECEIPT_KIND, resolution.confirmation_id)
    return asked.model_copy(
        update={
            "event_id": derived_id("notify-request", *parts),
            "notification_id": derived_id("notification", *parts),
            "message_id": asked.message_id,
            "occurred_at": resolution.at,
            "kind": RECEIPT_KIND,
            "data": data,
            "reply_to_external_id": request_mail_id,
            "severity": None,
            "held_for_confirmation": None,
            "parts": [],
        }
    )
