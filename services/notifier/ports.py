"""What the notifier needs from the outside: a delivery channel. Email and webhooks today;
an SMS gateway or a messenger is one more class with the same `deliver`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.contracts import SendNotification
from shared.errors import PermanentError, RetryableError

from .domain import Rendered


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one notification."""

    cmd: SendNotification
    rendered: Rendered
    dated: datetime  # accepted, or released from a hold: a re-send carries the same Date
    idempotency_key: str  # Message-ID for email, Idempotency-Key for webhooks
    attempt: int


class Channel(Protocol):
    async def deliver(self, delivery: Delivery) -> str:
        """Deliver; return the provider's message id.

        Raise RetryableError (TemporaryFailure) for what may work later: a server away, a
        timeout, a 4xx SMTP reply, HTTP 5xx/429. Raise PermanentError for what never will:
        a refused address, a 5xx SMTP reply, HTTP 4xx.
        """
        ...


class TemporaryFailure(RetryableError):
    """A transient failure; `retry_after` seconds when the other side said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReceiverRefused(PermanentError):
    """The receiving side refused it for good (an SMTP 5xx, an HTTP 4xx): said to staff as
    the client's server refusing it (undelivered.REFUSED_BY_SERVER)."""


class NoChannel(PermanentError):
    """No channel, or no webhook endpoint, of that name is configured."""
