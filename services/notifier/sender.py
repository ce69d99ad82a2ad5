"""The outbox sender: delivers what `accept` recorded, retries, and reports the outcome.

For each due notification it takes the notification's advisory lock on a connection of its
own (so replicas never send the same one at once, and a crashed sender's lock vanishes with
its connection), commits the claim (`sending`, attempts + 1), delivers, and commits the
outcome with its result event; then it publishes the event and marks it published.

Crash windows: before the claim, the row is `pending` and is sent later; between claim and
delivery, the row is `sending` with a free lock and is sent again; after the receiver
accepted but before the outcome commit, it is sent again *with the same Message-ID /
Idempotency-Key*, which is all any protocol can do there; after the commit but before the
publish, the event is published again with the same id and JetStream drops the copy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from jinja2 import TemplateError
from opentelemetry import propagate, trace
from opentelemetry.trace import Tracer

from shared.contracts import SendNotification
from shared.db import Database
from shared.errors import PermanentError, RetryableError
from shared.outbox import Outgoing
from shared.telemetry import MESSAGE_ID_ATTRIBUTE

from . import adapters, results
from .domain import DisclosureRefused, check_disclosure, render
from .ports import Channel, Delivery, TemporaryFailure
from .scheduling import RetryPolicy, backoff_delay, defer, is_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    retry: RetryPolicy
    quiet_hours: tuple[time, time] | None = None
    client_timezone: str = "UTC"
    client_rate_limit: tuple[int, float] | None = None
    staff_rate_limit: tuple[int, float] | None = None
    batch_size: int = 20
    concurrency: int = 4
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | pending (retry) | failed
    values: dict[str, object]
    event: Outgoing | None


class OutboxSender:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        publish: Callable[[list[Outgoing]], Awaitable[None]],
        clock: Callable[[], datetime],
        policy: SendPolicy,
        *,
        rng: random.Random | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.db = db
        self.channels = channels
        self.publish = publish
        self.clock = clock
        self.policy = policy
        self.rng = rng or random.Random()
        self.tracer = tracer or trace.get_tracer(__name__)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A new notification was accepted in this process: look now, not at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.publish_pending()
                busy = await self.run_once()
            except Exception:  # a database or broker away: keep the loop, try again soon
                log.exception("outbox sender pass failed")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self.policy.poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in (waiter, stopper):
                task.cancel()

    async def run_once(self) -> int:
        """Deliver the notifications due now; return how many were handled."""
        async with self.db.transaction() as session:
            ids = await adapters.due(session, self.clock(), self.policy.batch_size)
        if not ids:
            return 0
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def one(notification_id: uuid.UUID) -> bool:
            async with gate:
                return await self.deliver_one(notification_id)

        done = await asyncio.gather(*(one(i) for i in ids))
        return sum(done)

    async def publish_pending(self) -> None:
        """Result events committed but not yet published (a crash in between)."""
        async with self.db.transaction() as session:
            pending = await adapters.unpublished(session, self.policy.batch_size)
        for notification_id, event in pending:
            await self._publish(notification_id, event)

    async def deliver_one(self, notification_id: uuid.UUID) -> bool:
        async with self.db.engine.connect() as lock_conn, lock_conn.begin():
            if not await adapters.try_claim(lock_conn, notification_id):
                return False  # another sender has it
            claimed = await self._claim(notification_id)
            if claimed is None:
                return False
            cmd, row, attempt = claimed
            parent = propagate.extract(row.trace_context)
            with self.tracer.start_as_current_span("notifier deliver", context=parent) as span:
                span.set_attribute(MESSAGE_ID_ATTRIBUTE, str(cmd.message_id))
                span.set_attribute("careline.notification_id", str(notification_id))
                span.set_attribute("careline.kind", cmd.kind)
                span.set_attribute("careline.channel", cmd.channel)
                span.set_attribute("careline.attempt", attempt)
                outcome = await self._attempt(cmd, row, attempt)
                span.set_attribute("careline.outcome", outcome.status)
                async with self.db.transaction() as session:
                    recorded = await adapters.set_fields(
                        session, notification_id, outcome.values, attempts=attempt
                    )
                if not recorded:
                    log.warning("notification %s was re-claimed meanwhile", notification_id)
                    return True
                if outcome.event is not None:
                    await self._publish(notification_id, outcome.event)
        return True

    async def _claim(
        self, notification_id: uuid.UUID
    ) -> tuple[SendNotification, adapters.OutboxRow, int] | None:
        now = self.clock()
        async with self.db.transaction() as session:
            row = await adapters.load_for_update(session, notification_id)
            if row is None or row.status not in adapters.ACTIVE:
                return None  # finished by another sender just before we took the lock
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                return None
            cmd = SendNotification.model_validate(row.request)
            if row.attempts >= self.policy.retry.max_attempts:
                # Only reachable when earlier attempts died with their process.
                reason = f"gave up after {row.attempts} attempts that did not finish"
                event = results.failed(cmd, reason, row.attempts, now, permanent=False)
                await adapters.set_fields(
                    session, notification_id, _final("failed", reason, event, now)
                )
                return None
            limit = (
                self.policy.client_rate_limit
                if is_client(cmd.recipient_role)
                else self.policy.staff_rate_limit
            )
            recent: list[datetime] = []
            if limit is not None:
                since = now - timedelta(seconds=limit[1])
                recent = await adapters.recent_attempts(
                    session, row.recipient, since, row.notification_id
                )
            deferral = defer(
                now,
                recipient_role=cmd.recipient_role,
                severity=cmd.severity,
                zone=cmd.recipient_timezone or self.policy.client_timezone,
                quiet=self.policy.quiet_hours,
                recent=recent,
                limit=limit,
            )
            if deferral is not None:
                await adapters.set_fields(
                    session,
                    notification_id,
                    {
                        "status": "pending",
                        "next_attempt_at": deferral.until,
                        "deferred_reason": deferral.reason,
                        "updated_at": now,
                    },
                )
                return None
            attempt = row.attempts + 1
            await adapters.set_fields(
                session,
                notification_id,
                {
                    "status": "sending",
                    "attempts": attempt,
                    "last_attempt_at": now,
                    "deferred_reason": None,
                    "updated_at": now,
                },
            )
        return cmd, row, attempt

    async def _attempt(
        self, cmd: SendNotification, row: adapters.OutboxRow, attempt: int
    ) -> Outcome:
        key = row.idempotency_key
        channel = self.channels.get(cmd.channel)
        try:
            if channel is None:
                raise PermanentError(f"no {cmd.channel} channel is configured")
            # Checked again at the last moment: only a released hold has made the recipient
            # of account content verified since acceptance.
            check_disclosure(cmd)
            delivery = Delivery(cmd, render(cmd), row.created_at, key, attempt)
            provider_id = await channel.deliver(delivery)
        except (PermanentError, TemplateError, DisclosureRefused) as exc:
            return self._failed(cmd, str(exc), attempt, permanent=True)
        except Exception as exc:
            if not isinstance(exc, RetryableError):
                log.exception("unexpected failure delivering %s", cmd.notification_id)
            reason = str(exc) or type(exc).__name__
            if attempt >= self.policy.retry.max_attempts:
                return self._failed(
                    cmd, f"gave up after {attempt} attempts: {reason}", attempt, permanent=False
                )
            delay = backoff_delay(attempt, self.policy.retry, self.rng)
            retry_after = (
                getattr(exc, "retry_after", None) if isinstance(exc, TemporaryFailure) else None
            )
            if retry_after is not None:
                delay = max(delay, timedelta(seconds=retry_after))
            now = self.clock()
            return Outcome(
                "pending",
                {
                    "status": "pending",
                    "last_error": reason[:2000],
                    "next_attempt_at": now + delay,
                    "deferred_reason": "retry",
                    "updated_at": now,
                },
                None,
            )
        now = self.clock()
        event = results.delivered(cmd, provider_id, attempt, key, now)
        values = _final("sent", None, event, now)
        values.update(provider_message_id=provider_id, sent_at=now)
        return Outcome("sent", values, event)

    def _failed(
        self, cmd: SendNotification, reason: str, attempt: int, *, permanent: bool
    ) -> Outcome:
        now = self.clock()
        event = results.failed(cmd, reason, attempt, now, permanent=permanent)
        return Outcome("failed", _final("failed", reason, event, now), event)

    async def _publish(self, notification_id: uuid.UUID, event: Outgoing) -> None:
        await self.publish([event])
        async with self.db.transaction() as session:
            await adapters.set_fields(
                session, notification_id, {"result_published_at": self.clock()}
            )


def _final(status: str, reason: str | None, event: Outgoing, now: datetime) -> dict[str, object]:
    return {
        "status": status,
        "last_error": reason[:2000] if reason else None,
        "next_attempt_at": None,
        "deferred_reason": None,
        "result": results.as_json(event),
        "updated_at": now,
    }
