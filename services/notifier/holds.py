"""Answers held until a probable sender's address is confirmed. Pure decisions, no I/O.

The disclosure rule (domain.check_disclosure) has exactly one way past it: an answer the
escalator marked `held_for_confirmation` is kept unsent, and only `crm.channel.confirmed` of
that very confirmation, verifying that very address, releases it to the address, now
verified. Any other outcome withdraws it for good: the registered channel denied the
request, the confirmation expired, or it verified some other address. A confirmation staff
took back later (`crm.channel.revoked`) is on file as `revoked`: a held answer of it that
comes late is withdrawn, never released to the address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from shared.contracts import (
    ChannelConfirmed,
    ChannelRevoked,
    ConfirmationDenied,
    ConfirmationExpired,
    SendNotification,
)

from .revoked import address_key
from .undelivered import DENIED, EXPIRED, OTHER_CHANNEL, REVOKED

ConfirmationResult = Literal["confirmed", "denied", "expired", "revoked"]


@dataclass(frozen=True)
class Resolution:
    """What a confirmation came to, as the verifier announced it."""

    confirmation_id: uuid.UUID
    outcome: ConfirmationResult
    event_id: uuid.UUID
    at: datetime
    channel_kind: str | None = None  # for a confirmation: the channel it verified
    address: str | None = None

    @classmethod
    def confirmed(cls, event: ChannelConfirmed) -> Resolution:
        return cls(
            event.confirmation_id,
            "confirmed",
            event.event_id,
            event.confirmed_at,
            event.channel.kind,
            event.channel.address,
        )

    @classmethod
    def denied(cls, event: ConfirmationDenied) -> Resolution:
        return cls(event.confirmation_id, "denied", event.event_id, event.denied_at)

    @classmethod
    def expired(cls, event: ConfirmationExpired) -> Resolution:
        return cls(event.confirmation_id, "expired", event.event_id, event.expired_at)

    @classmethod
    def revoked(cls, event: ChannelRevoked) -> Resolution:
        """Staff took back the confirmation: it replaces the `confirmed` on file."""
        return cls(
            event.confirmation_id,
            "revoked",
            event.event_id,
            event.revoked_at,
            event.channel.kind,
            event.channel.address,
        )


@dataclass(frozen=True)
class Release:
    """Send it: the request as it goes now, to an address the confirmation verified."""

    cmd: SendNotification


@dataclass(frozen=True)
class Withdrawal:
    """Never send it, and say why: `reason` in words (ops read it), `why` its code
    (undelivered.WHY: what staff read)."""

    reason: str
    why: str


class HoldRefused(Exception):
    """A held request that no confirmation could ever release."""


def is_held(cmd: SendNotification) -> bool:
    return cmd.held_for_confirmation is not None


def check_hold(cmd: SendNotification) -> None:
    # A confirmation verifies an email address; a webhook endpoint is no client's address.
    if cmd.channel != "email":
        raise HoldRefused(
            f"notification {cmd.notification_id}: only an email answer can wait for a "
            "confirmation of its address"
        )


def _same_address(a: str, b: str) -> bool:
    return address_key(a) == address_key(b)


def settle(cmd: SendNotification, resolution: Resolution) -> Release | Withdrawal:
    """What a held request becomes once its confirmation is settled."""
    if cmd.held_for_confirmation != resolution.confirmation_id:
        raise ValueError(
            f"notification {cmd.notification_id} is not held for {resolution.confirmation_id}"
        )
    confirmation = resolution.confirmation_id
    if resolution.outcome == "denied":
        return Withdrawal(
            f"withdrawn: the client's registered channel answered that the request was not "
            f"theirs (confirmation {confirmation} denied)",
            DENIED,
        )
    if resolution.outcome == "revoked":
        return Withdrawal(revoked_reason(confirmation), REVOKED)
    if resolution.outcome == "expired":
        return Withdrawal(
            f"withdrawn: nobody confirmed the address in time (confirmation {confirmation} "
            f"expired {resolution.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)",
            EXPIRED,
        )
    if (
        cmd.channel == "email"
        and resolution.channel_kind == "email"
        and resolution.address is not None
        and _same_address(resolution.address, cmd.recipient)
    ):
        # The confirmation, not the message, decided the address is the client's: a revoke
        # of an earlier confirmation of it, before this one, stops nothing (revoked.py).
        verified = {"recipient_verified": True, "identity_decided_at": resolution.at}
        return Release(cmd.model_copy(update=verified))
    # Ids only: the reason is published and shown, and names no address.
    return Withdrawal(
        f"withdrawn: confirmation {confirmation} verified another channel, not this recipient",
        OTHER_CHANNEL,
    )


def revoked_reason(confirmation: uuid.UUID) -> str:
    """Why an answer to an address staff took back never goes (ids only: the reason is
    published and shown, and names no address)."""
    return (
        f"withdrawn: staff took back confirmation {confirmation}: the address is not the client's"
    )


def goes_to(request: dict[str, object], kind: str, address: str) -> bool:
    """Whether a stored request would put account content on the channel `kind` at
    `address` (an email to it; a webhook is no client's address)."""
    if request.get("content_class") != "account" or kind != "email":
        return False
    return request.get("channel", "email") == "email" and _same_address(
        str(request.get("recipient", "")), address
    )
