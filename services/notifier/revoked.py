"""Addresses staff took back (`crm.channel.revoked`), and what may still go to them. Pure.

The revoke withdraws what is unsent to the address at that moment (service.revoke_channel),
but two kinds of request escape that moment: one made before the revoke that arrives after
it (the escalator's outbox backlog, a climb, an answer to a message the verifier passed just
before), and one that was `sending` then and comes back after a temporary failure. Both
still say `recipient_verified` on the word of the confirmation taken back. So the notifier
remembers each revoked address with the revoke's time, and account content for a client
whose address was decided the client's at or before that time never goes there: refused at
acceptance, withdrawn at the sender's claim.

What counts is when the address was decided the client's (`decided_at`), not when the
request was made: the escalator may handle a message the verifier passed just before the
revoke only after it, and its request, stamped with the escalator's clock, would look newer
than the revoke; it carries the verification's time (`identity_decided_at`) for that. A
request without it (older producers, staff notices) is judged by its own time.

A request whose address was decided after the revoke is not this rule's business: whatever
said the address is verified then (a new `crm.channel.confirmed` of it, the CRM) said so
after the revoke, so the address is sendable again without anything being forgotten here. A
request decided before it stays refused even once the address is confirmed again: it was
written on the word that was taken back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import SendNotification

from .scheduling import is_client


@dataclass(frozen=True)
class RevokedAddress:
    """The latest revoke of an address, as the notifier remembers it."""

    address: str  # address_key()
    confirmation_id: uuid.UUID
    event_id: uuid.UUID
    revoked_at: datetime


def address_key(address: str) -> str:
    """How the notifier compares addresses (a revoked one kept and looked up, a held answer's
    address against its confirmation's): without case or surrounding blanks."""
    return address.strip().casefold()


def checked(cmd: SendNotification) -> bool:
    """Whether a revoke can stop this request: account content in an email to a client
    (staff addresses are the directory's, and a webhook endpoint is no client's address).
    Only these cost a lookup."""
    return (
        cmd.content_class == "account" and cmd.channel == "email" and is_client(cmd.recipient_role)
    )


def refusal(cmd: SendNotification, revoked: RevokedAddress | None) -> str | None:
    """Why the request may not go to its address, or None. `revoked`: the address's revoke
    on file, if any. Ids only: the reason is logged, published and shown."""
    if revoked is None or not checked(cmd):
        return None
    if address_key(cmd.recipient) != revoked.address or decided_at(cmd) > revoked.revoked_at:
        return None
    return (
        f"notification {cmd.notification_id}: staff took back confirmation "
        f"{revoked.confirmation_id} of its address after it was requested: the address is not "
        "the client's"
    )


def decided_at(cmd: SendNotification) -> datetime:
    """When the request's address was decided the client's: the identity decision it carries,
    else (a producer that does not say) when the request was made."""
    return cmd.identity_decided_at or cmd.occurred_at
