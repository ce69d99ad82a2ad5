"""Notifier use case: one SendNotification in; delivered once, or failed with the reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert

from shared.contracts import (
    NotificationDelivered,
    NotificationFailed,
    SendNotification,
    derived_id,
)
from shared.db import Database
from shared.errors import PermanentError
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import NOTIFY_FAILED, NOTIFY_SENT

from .adapters import notifications, processed
from .domain import DisclosureRefused, build_email, check_disclosure, render
from .ports import Mailer


class NotifierService:
    def __init__(
        self, db: Database, mailer: Mailer, mail_from: str, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.mailer = mailer
        self.mail_from = mail_from
        self.clock = clock

    async def deliver(self, cmd: SendNotification) -> list[Outgoing]:
        key = str(cmd.notification_id)
        async with self.db.transaction() as session:
            await lock_key(session, f"notifier:{key}")
            stored = await outputs_of(session, processed, key)
            if stored is not None:
                return stored
            status, provider_id, error = await self._send(cmd)
            now = self.clock()
            await session.execute(
                insert(notifications)
                .values(
                    notification_id=cmd.notification_id,
                    message_id=cmd.message_id,
                    escalation_id=cmd.escalation_id,
                    kind=cmd.kind,
                    recipient_role=cmd.recipient_role,
                    recipient=cmd.recipient,
                    status=status,
                    provider_message_id=provider_id,
                    last_error=error,
                    created_at=now,
                    sent_at=now if status == "sent" else None,
                )
                .on_conflict_do_nothing()
            )
            outputs = [self._result(cmd, status, provider_id, error, now)]
            await record_outputs(session, processed, key, outputs, now)
        return outputs

    async def _send(self, cmd: SendNotification) -> tuple[str, str | None, str | None]:
        """(status, provider id, error). Transient errors propagate: the message is retried."""
        try:
            check_disclosure(cmd)
            message = build_email(cmd, render(cmd), self.mail_from)
            return "sent", await self.mailer.send(message), None
        except DisclosureRefused as exc:
            return "refused", None, str(exc)
        except PermanentError as exc:
            return "failed", None, str(exc)

    def _result(
        self,
        cmd: SendNotification,
        status: str,
        provider_id: str | None,
        error: str | None,
        now: datetime,
    ) -> Outgoing:
        common = {
            "event_id": derived_id("notification-result", cmd.notification_id),
            "message_id": cmd.message_id,
            "correlation_id": cmd.correlation_id,
            "occurred_at": now,
            "notification_id": cmd.notification_id,
            "kind": cmd.kind,
            "recipient_role": cmd.recipient_role,
        }
        if status == "sent":
            return Outgoing.of(
                NOTIFY_SENT, NotificationDelivered(provider_message_id=provider_id or "", **common)
            )
        return Outgoing.of(NOTIFY_FAILED, NotificationFailed(reason=error or status, **common))
