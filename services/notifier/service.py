"""Notifier use case on `notify.request`: accept one SendNotification into the outbox.

The request is checked (may it go to that address at all? can it be rendered? is there such
a channel?) and written to `notifier.notifications` in the same transaction that records it
as processed; the handler acks after the commit. The sender loop (sender.py) delivers it.
A refusal is final at once and published by the handler like any stored output.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from jinja2 import TemplateError
from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import SendNotification
from shared.db import Database
from shared.group_commit import GroupCommit
from shared.outbox import Outgoing

from . import results
from .adapters import insert_notification, processed
from .domain import DisclosureRefused, check_disclosure, notification_message_id, render
from .scheduling import is_urgent


class Refused(Exception):
    """The request can never be delivered as it is."""


class NotifierService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        webhook_names: Collection[str] = (),
        message_id_domain: str = "careline.local",
        on_accepted: Callable[[], None] = lambda: None,
        commits: GroupCommit | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.webhook_names = webhook_names
        self.message_id_domain = message_id_domain
        self.on_accepted = on_accepted
        self.commits = commits or GroupCommit(db, processed, "notifier", clock)

    async def accept(self, cmd: SendNotification) -> list[Outgoing]:
        """Once per request, in the transaction it shares with the requests beside it."""
        outputs = await self.commits.once(
            str(cmd.notification_id), lambda session: self._accept(session, cmd)
        )
        if not outputs:
            self.on_accepted()
        return outputs

    async def _accept(self, session: AsyncSession, cmd: SendNotification) -> list[Outgoing]:
        now = self.clock()
        outputs: list[Outgoing] = []
        status, error = "pending", None
        try:
            self._check(cmd)
        except (Refused, DisclosureRefused) as exc:
            status, error = "refused", str(exc)
            outputs = [results.failed(cmd, error, 0, now)]
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the sender continues this trace
        await insert_notification(
            session,
            {
                "notification_id": cmd.notification_id,
                "message_id": cmd.message_id,
                "escalation_id": cmd.escalation_id,
                "kind": cmd.kind,
                "channel": cmd.channel,
                "recipient_role": cmd.recipient_role,
                "recipient": cmd.recipient,
                "status": status,
                "last_error": error,
                "request": cmd.model_dump(mode="json"),
                "urgent": is_urgent(cmd.severity),
                "attempts": 0,
                "next_attempt_at": now if status == "pending" else None,
                "idempotency_key": self.idempotency_key(cmd),
                "result": results.as_json(outputs[0]) if outputs else None,
                # The handler publishes a refusal itself, from the stored outputs.
                "result_published_at": now if outputs else None,
                "trace_context": carrier,
                "created_at": now,
                "updated_at": now,
            },
        )
        return outputs

    def idempotency_key(self, cmd: SendNotification) -> str:
        if cmd.channel == "email":
            return notification_message_id(cmd, self.message_id_domain)
        return str(cmd.notification_id)

    def _check(self, cmd: SendNotification) -> None:
        check_disclosure(cmd)
        if cmd.channel == "webhook" and cmd.recipient not in self.webhook_names:
            raise Refused(f"notification {cmd.notification_id}: no such webhook endpoint")
        try:
            render(cmd)
        except TemplateError as exc:
            raise Refused(
                f"notification {cmd.notification_id}: cannot render {cmd.kind}: {exc}"
            ) from exc
