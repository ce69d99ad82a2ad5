"""The outbox sender: delivers what `accept` recorded, retries, and reports the outcome.

It works on the due notifications in batches. It takes their advisory locks on a
connection of its own (so replicas never send the same one at once, and a crashed sender's
locks vanish with its connection), commits the claim of the whole batch in one transaction
(`sending`, attempts + 1; or a deferral for quiet hours and rate limits, decided in the
order the rows are due, each seeing the claims before it), delivers them a few at a time
over SMTP sessions kept open between mails, and commits all their outcomes with their
result events in the transaction that holds the locks (the look for due rows ran in it
too), so the commit that records them frees them; then it publishes the events and marks
them published.

Crash windows: before the claim, the rows are `pending` and are sent later; between claim
and delivery, the rows are `sending` with free locks and are sent again; after the receiver
accepted but before the outcome commit, they are sent again *with the same Message-ID /
Idempotency-Key*, which is all any protocol can do there (a lock connection the database
dropped while the process lives is no such window: the outcomes go on a fresh connection);
after the commit but before the publish, the events are published again with the same ids
and JetStream drops the copies.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import NamedTuple

from jinja2 import TemplateError
from opentelemetry import propagate, trace
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.contracts import SendNotification
from shared.db import Database
from shared.errors import PermanentError, RetryableError
from shared.outbox import Outgoing
from shared.telemetry import MESSAGE_ID_ATTRIBUTE

from . import adapters, results
from .client_waits import ClientSchedule
from .domain import DisclosureRefused, Rendered, check_disclosure, idempotency_key_of, render
from .hold_store import revoked_of
from .ports import Channel, Delivery, NoChannel, TemporaryFailure
from .rendered import RenderedRequests
from .revoked import RevokedAddress, address_key, checked, refusal
from .scheduling import RetryPolicy, backoff_delay, defer, rate_limit_of
from .told_store import Ended, ended_of, tell_undelivered
from .undelivered import RETRIES_EXHAUSTED, REVOKED
from .why import why_refused

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

    def client_schedule(self) -> ClientSchedule:
        """What of this policy makes client mail wait: acceptance foresees it for staff."""
        return ClientSchedule(self.quiet_hours, self.client_rate_limit, self.client_timezone)


SENDER_PASSES = 2


class Claimed(NamedTuple):
    cmd: SendNotification
    row: adapters.OutboxRow
    attempt: int
    rendered: Rendered | None = None  # as acceptance rendered it, when this process did


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
        rendered: RenderedRequests | None = None,
        message_id_domain: str = "careline.local",
    ) -> None:
        self.db = db
        self.message_id_domain = message_id_domain  # of the staff follow-ups it files
        self.rendered = rendered if rendered is not None else RenderedRequests(keep=0)
        self.channels = channels
        self.publish = publish
        self.clock = clock
        self.policy = policy
        self.rng = rng or random.Random()
        self.tracer = tracer or trace.get_tracer(__name__)
        # Two passes run at once: while one waits on SMTP, the other claims and finishes.
        self._wakes = [asyncio.Event() for _ in range(SENDER_PASSES)]
        self._idle = [False] * SENDER_PASSES  # waiting for a wake or the poll
        self._pending_checked = float("-inf")  # monotonic time of the last publish_pending
        self._in_flight: set[uuid.UUID] = set()  # picked by a pass of this process
        self._gate = asyncio.Semaphore(policy.concurrency)  # deliveries at a time, all passes

    def wake(self) -> None:
        """A new notification was accepted in this process: look now, not at the next poll.

        One waiting pass is enough to find it; waking both made the second run a query for
        a row the first had already picked (at low load, one wasted query per notification).
        The pass woken counts as busy at once, so the next wake (a burst accepted together)
        rouses the other one. A pass that is looking right now may have queried before the
        row was committed, so when none waits, every pass looks again when it is done."""
        waiting = [i for i, idle in enumerate(self._idle) if idle]
        if waiting:
            self._idle[waiting[0]] = False
            self._wakes[waiting[0]].set()
            return
        for event in self._wakes:
            event.set()

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._passes(stop, i) for i in range(len(self._wakes))))

    async def _passes(self, stop: asyncio.Event, index: int) -> None:
        wake = self._wakes[index]
        while not stop.is_set():
            # Cleared before looking, not after: a notification accepted while this pass
            # looks (its row committed after the query ran) leaves the wake set, and the
            # pass looks again at once instead of at the next poll.
            wake.clear()
            try:
                found = await self.run_once()
            except Exception:  # a database or broker away: keep the loop, try again soon
                log.exception("outbox sender pass failed")
                found = 0
            # After the look, so a broker slow to take a backlog never delays a send.
            if index == 0 and self._pending_check_due():
                await self._publish_all_pending()
            # Only a full batch may have left due rows behind; anything accepted during the
            # look set the wake, so the wait below returns at once. Looking again after every
            # busy pass found nothing nearly always: at light load, an empty transaction per
            # notification.
            if found >= self.policy.batch_size:
                continue
            waiter = asyncio.ensure_future(wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            self._idle[index] = True
            try:
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=self.policy.poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                self._idle[index] = False
            for task in (waiter, stopper):
                task.cancel()

    async def _publish_all_pending(self) -> None:
        """Every result left unpublished, a batch at a time (a backlog after a broker outage
        drains at once, not a batch per poll); a failure is logged and never keeps the
        pass from looking for notifications to send."""
        try:
            while await self.publish_pending() >= self.policy.batch_size:
                pass
        except Exception:  # the broker or database away: the next poll tries again
            log.exception("publishing results left unpublished failed")

    def _pending_check_due(self) -> bool:
        """Results a crash left unpublished are looked for once a poll interval, not at
        every wake: they are rare, and under load the passes never wait for the poll."""
        now = asyncio.get_running_loop().time()
        if now - self._pending_checked < self.policy.poll_seconds:
            return False
        self._pending_checked = now
        return True

    async def run_once(self) -> int:
        """Deliver the notifications due now; return how many due rows the look found when
        it delivered any (as many as a batch: there may be more), else 0: rows another
        replica is sending stay due-looking until it finishes, and looking again at once
        for those would spin.

        One connection serves the pass from the look for due rows to the outcomes: its
        transaction holds the claim locks while the mails go, and commits the outcomes as it
        releases them (the claim itself commits on its own, before any delivery): four
        statements fewer than a transaction each for the look and the outcomes, which at
        light load is per notification or two. Should that connection fail once the mails
        went, their outcomes are recorded on a fresh one: the attempts fence leaves out any
        row another sender claimed meanwhile, so they are not sent again for nothing.
        """
        ids: list[uuid.UUID] = []
        try:
            done: list[tuple[Claimed, Outcome]] = []
            try:
                async with self.db.engine.connect() as conn, conn.begin():
                    found = await adapters.due(
                        conn, self.clock(), self.policy.batch_size, exclude=self._in_flight
                    )
                    # The other pass may have picked some of these while this one awaited
                    # the query: each id is in flight for one pass only, so only that pass
                    # forgets it (below, however the pass ends).
                    ids = [i for i in found if i not in self._in_flight]
                    self._in_flight.update(ids)
                    done = await self._send(conn, ids) if ids else []
                    recorded = await self._finish(conn, done) if done else []
            except Exception:
                if not done:
                    raise
                log.warning("recording %d outcomes on a fresh connection", len(done), exc_info=True)
                async with self.db.transaction() as session:
                    recorded = await self._finish(session, done)
            # Committed: the outcomes are on file and the locks are free; now their events.
            await self._publish(
                [(c.row.notification_id, o.event) for c, o in recorded if o.event is not None]
            )
            return len(ids) if done else 0
        finally:
            self._in_flight.difference_update(ids)

    async def _send(
        self, conn: AsyncConnection, ids: list[uuid.UUID]
    ) -> list[tuple[Claimed, Outcome]]:
        """Claim what this sender may send (its locks on `conn`) and deliver it."""
        mine = await adapters.try_claim(conn, ids)  # the others: another sender's
        claimed = await self._claim(mine) if mine else []
        if not claimed:
            return []
        outcomes = await asyncio.gather(*(self._deliver(c) for c in claimed))
        return list(zip(claimed, outcomes, strict=True))

    async def publish_pending(self) -> int:
        """Result events committed but not yet published (a crash in between); how many.

        A pass of this process that is finishing its batch publishes its own results: they
        are skipped here, else a subscriber without the stream's de-duplication sees them twice.
        """
        async with self.db.transaction() as session:
            pending = await adapters.unpublished(
                session, self.policy.batch_size, exclude=self._in_flight
            )
        await self._publish(pending)
        return len(pending)

    async def _claim(self, ids: list[uuid.UUID]) -> list[Claimed]:
        """Claim the rows that may go now, in the order they are due; defer the others."""
        now = self.clock()
        claimed: list[Claimed] = []
        changes: list[tuple[uuid.UUID, dict[str, object]]] = []
        async with self.db.transaction() as session:
            rows = await adapters.load_for_update(session, ids)
            # Finished by another sender just before we took the lock, or not due after all.
            rows = [
                r
                for r in rows
                if r.status in adapters.ACTIVE
                and (r.next_attempt_at is None or r.next_attempt_at <= now)
            ]
            windows = [
                w for w in (self.policy.client_rate_limit, self.policy.staff_rate_limit) if w
            ]
            recipients = list({r.recipient for r in rows}) if windows else []
            await adapters.lock_recipients(session, recipients)
            recent = await adapters.recent_attempts(
                session,
                recipients,
                now - timedelta(seconds=max((w[1] for w in windows), default=0)),
            )
            requests = []
            for row in rows:
                kept = self.rendered.take(row.notification_id, row.request)
                requests.append((row, kept, kept.cmd if kept else _request(row)))
            revoked = await _revoked(session, [cmd for _, _, cmd in requests])
            ended: list[Ended] = []
            for row, kept, cmd in requests:
                attempts = recent.setdefault(row.recipient, {})
                attempts.pop(row.notification_id, None)  # whatever this row does, it decides
                revoke = revoked.get(address_key(cmd.recipient))
                taken_back = refusal(cmd, revoke)
                if revoke is not None and taken_back is not None:
                    # Sending, or a retry, when staff took the address back: never again.
                    withdrawal = _withdrawn(cmd, taken_back, revoke.event_id, row.attempts, now)
                    changes.append((row.notification_id, withdrawal))
                    ended += filter(None, [ended_of(withdrawal, cmd)])
                    continue
                change = self._claim_one(cmd, row, now, list(attempts.values()))
                changes.append((row.notification_id, change))
                ended += filter(None, [ended_of(change, cmd)])
                if change["status"] == "sending":
                    attempts[row.notification_id] = now  # counts for the rows after it
                    claimed.append(
                        Claimed(cmd, row, row.attempts + 1, kept.rendered if kept else None)
                    )
                elif kept:  # deferred: for when it is due
                    self.rendered.put(row.notification_id, *kept)
            await adapters.set_many(session, changes)
            await self._tell_staff(session, ended, now)
        return claimed

    async def _tell_staff(self, conn: adapters.Executor, ended: list[Ended], now: datetime) -> None:
        """Client mails that ended undelivered: the staff told they were written hear it
        (undelivered.py), filed in the transaction that records the end."""
        filed = await tell_undelivered(conn, ended, now, self._thread_of, self._key)
        if filed:
            self.wake()  # after this pass: its rows are committed by then, or retried

    def _key(self, cmd: SendNotification) -> str:
        return idempotency_key_of(cmd, self.message_id_domain)

    def _thread_of(self, staff: SendNotification) -> str | None:
        return self._key(staff) if staff.channel == "email" else None

    def _claim_one(
        self, cmd: SendNotification, row: adapters.OutboxRow, now: datetime, recent: list[datetime]
    ) -> dict[str, object]:
        """The row's new values: claimed (`sending`), deferred (`pending`), or given up."""
        if row.attempts >= self.policy.retry.max_attempts:
            # Only reachable when earlier attempts died with their process.
            reason = f"gave up after {row.attempts} attempts that did not finish"
            event = results.failed(cmd, reason, row.attempts, now, permanent=False)
            return _final("failed", reason, RETRIES_EXHAUSTED, event, now)
        limit = rate_limit_of(
            cmd.kind,
            cmd.recipient_role,
            self.policy.client_rate_limit,
            self.policy.staff_rate_limit,
        )
        deferral = defer(
            now,
            recipient_role=cmd.recipient_role,
            severity=cmd.severity,
            zone=cmd.recipient_timezone or self.policy.client_timezone,
            quiet=self.policy.quiet_hours,
            recent=recent,  # read for the longest window; the rate limit counts its own
            limit=limit,
            kind=cmd.kind,
        )
        if deferral is not None:
            return {
                "status": "pending",
                "next_attempt_at": deferral.until,
                "deferred_reason": deferral.reason,
                "updated_at": now,
            }
        return {
            "status": "sending",
            "attempts": row.attempts + 1,
            "last_attempt_at": now,
            "deferred_reason": None,
            "updated_at": now,
        }

    async def _deliver(self, claimed: Claimed) -> Outcome:
        cmd, row, attempt, rendered = claimed
        async with self._gate:
            parent = propagate.extract(row.trace_context)
            with self.tracer.start_as_current_span("notifier deliver", context=parent) as span:
                span.set_attribute(MESSAGE_ID_ATTRIBUTE, str(cmd.message_id))
                span.set_attribute("careline.notification_id", str(row.notification_id))
                span.set_attribute("careline.kind", cmd.kind)
                span.set_attribute("careline.channel", cmd.channel)
                span.set_attribute("careline.attempt", attempt)
                outcome = await self._attempt(cmd, row, attempt, rendered)
                span.set_attribute("careline.outcome", outcome.status)
        return outcome

    async def _finish(
        self, conn: adapters.Executor, done: list[tuple[Claimed, Outcome]]
    ) -> list[tuple[Claimed, Outcome]]:
        """Every outcome, in the transaction that holds the claims (or a fresh one when that
        failed); those whose row was not claimed again since."""
        attempts = {c.row.notification_id: c.attempt for c, _ in done}
        await adapters.set_many(
            conn, [(c.row.notification_id, o.values) for c, o in done], attempts
        )
        now_on_file = await adapters.attempts_of(conn, list(attempts))
        recorded = []
        for claimed, outcome in done:
            if now_on_file.get(claimed.row.notification_id) != claimed.attempt:
                log.warning("notification %s was re-claimed meanwhile", claimed.row.notification_id)
            else:
                recorded.append((claimed, outcome))
        ended = [ended_of(o.values, c.cmd) for c, o in recorded]
        await self._tell_staff(conn, [e for e in ended if e is not None], self.clock())
        return recorded

    async def _attempt(
        self,
        cmd: SendNotification,
        row: adapters.OutboxRow,
        attempt: int,
        rendered: Rendered | None = None,
    ) -> Outcome:
        key = row.idempotency_key
        channel = self.channels.get(cmd.channel)
        try:
            if channel is None:
                raise NoChannel(f"no {cmd.channel} channel is configured")
            # Checked again at the last moment: only a released hold has made the recipient
            # of account content verified since acceptance.
            check_disclosure(cmd)
            # Rendering is a pure function of the request: what acceptance rendered stands.
            delivery = Delivery(cmd, rendered or render(cmd), row.dated, key, attempt)
            provider_id = await channel.deliver(delivery)
        except (PermanentError, TemplateError, DisclosureRefused) as exc:
            return self._failed(cmd, str(exc), why_refused(exc), attempt, permanent=True)
        except Exception as exc:
            if not isinstance(exc, RetryableError):
                log.exception("unexpected failure delivering %s", cmd.notification_id)
            reason = str(exc) or type(exc).__name__
            if attempt >= self.policy.retry.max_attempts:
                gave_up = f"gave up after {attempt} attempts: {reason}"
                return self._failed(cmd, gave_up, RETRIES_EXHAUSTED, attempt, permanent=False)
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
        values = _final("sent", None, None, event, now)
        values.update(provider_message_id=provider_id, sent_at=now)
        return Outcome("sent", values, event)

    def _failed(
        self, cmd: SendNotification, reason: str, why: str, attempt: int, *, permanent: bool
    ) -> Outcome:
        now = self.clock()
        event = results.failed(cmd, reason, attempt, now, permanent=permanent)
        return Outcome("failed", _final("failed", reason, why, event, now), event)

    async def _publish(self, events: list[tuple[uuid.UUID, Outgoing]]) -> None:
        if not events:
            return
        await self.publish([event for _, event in events])
        async with self.db.transaction() as session:
            await adapters.mark_published(session, [i for i, _ in events], self.clock())


def _request(row: adapters.OutboxRow) -> SendNotification:
    return SendNotification.model_validate(row.request)


async def _revoked(
    session: AsyncSession, cmds: list[SendNotification]
) -> dict[str, RevokedAddress]:
    """The revokes on file of the addresses a revoke can stop these requests to: one query
    for the claim, none when no request is account content for a client."""
    wanted = {address_key(c.recipient) for c in cmds if checked(c)}
    return await revoked_of(session, wanted) if wanted else {}


def _withdrawn(
    cmd: SendNotification, reason: str, by: uuid.UUID, attempts: int, now: datetime
) -> dict[str, object]:
    """A row the claim will not send: withdrawn by the revoke `by`, its result published by
    the next look for unpublished results (publish_pending), like a row given up there."""
    event = results.failed(cmd, reason, attempts, now)
    values = _final("withdrawn", reason, REVOKED, event, now)
    values.update(withdrawn_at=now, withdrawn_by=by, withdrawn_reason=reason)
    return values


def _final(
    status: str, reason: str | None, why: str | None, event: Outgoing, now: datetime
) -> dict[str, object]:
    """A row's final values: `reason` in words for ops, `why` its code (undelivered.WHY)
    for staff; both None when it was sent."""
    return {
        "status": status,
        "last_error": reason[:2000] if reason else None,
        "reason_code": why,
        "next_attempt_at": None,
        "deferred_reason": None,
        "result": results.as_json(event),
        "updated_at": now,
    }
