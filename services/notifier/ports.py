"""The delivery channel the notifier needs; SMTP today, webhooks and chats behind the same shape."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> str:
        """Deliver; return the provider's message id. Raise RetryableError if transient."""
        ...
