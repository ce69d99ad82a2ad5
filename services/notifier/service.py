"""Notifier use cases: accept one SendNotification into the outbox; settle held answers.

The request is checked (may it go to that address at all? can it be rendered? is there such
a channel?) and written to `notifier.notifications` in the same transaction that records it
as processed; the handler acks after the commit. The sender loop (sender.py) delivers it.
A refusal is final at once and published by the handler like any stored output. A client
digest takes its answers' ids with it, less those taken before (folds.py).

An answer held for a confirmation (holds.py) is stored `held`; the confirmation's outcome
(`crm.channel.confirmed`, `crm.confirmation.denied`, `crm.confirmation.expired`) releases it
to the sender or withdraws it, in one transaction per event, each event once. Outcomes are
remembered, so a held request that arrives after its confirmation was settled is settled at
once. Staff taking a confirmed address back (`crm.channel.revoked`) withdraws what is not
yet sent to it, account content pending or held, and is remembered over the `confirmed` and
as a revoked address: a request made before the revoke that arrives after it is refused
(revoked.py), its lookup made once per batch (accept_batch.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import SendNotification
from shared.db import Database
from shared.group_commit import GroupCommit, insert_later
from shared.outbox import (
    Outgoing,
    lock_key,
    lock_keys,
    outputs_of,
    outputs_of_keys,
    record_many,
    record_outputs,
)

from . import results
from .accept_batch import (
    AcceptBatch,
    client_mail_said,
    decided_first,
    ended_in_batch,
    revoked_address,
    told_in_batch,
)
from .adapters import INSERT_NOTIFICATION, processed, set_many
from .client_waits import (
    ClientSchedule,
)
from .domain import DisclosureRefused, Rendered, check_disclosure, idempotency_key_of, render
from .folds import part_ids, unfold
from .hold_store import (
    held_for,
    hold_lock_key,
    outcome_of,
    remember,
    remember_revoked,
    request_of,
    revoke,
    unsent_to,
)
from .holds import (
    HoldRefused,
    Release,
    Resolution,
    check_hold,
    goes_to,
    is_held,
    revoked_reason,
    settle,
)
from .receipts import receipt_for
from .rendered import RenderedRequests
from .revoked import checked, refusal
from .scheduling import is_client, is_urgent
from .sent_there import lists_sent_there, with_sent_there
from .told_store import Ended, ended_of, remember_told, tell_undelivered
from .undelivered import CANNOT_RENDER, NO_CHANNEL, REVOKED
from .why import Refused, why_refused

log = logging.getLogger(__name__)
# The notification ids a transaction took (session.info): a client digest's parts, for a
# request of one of them alone in the same batch.
_TAKEN = "notifier.taken"


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
        rendered: RenderedRequests | None = None,
        client_timezone: str | None = None,
        schedule: ClientSchedule | None = None,
    ) -> None:
        self.db = db
        # The sender's rules for client mail: a staff notice says when such mail waits.
        self.schedule = schedule
        # A client's clock where the CRM has none: the zone quiet hours already follow.
        self.client_timezone = client_timezone
        self.rendered = rendered  # what acceptance rendered, for this process's sender
        self.clock = clock
        self.webhook_names = webhook_names
        self.message_id_domain = message_id_domain
        self.on_accepted = on_accepted
        self.commits = commits or GroupCommit(db, processed, "notifier", clock)
        # The outbox rows in one statement; the revoked addresses, and the client mail the
        # staff notices name, in one query each.
        self.commits.open_batch = self._open_batch
        self.commits.run_order = decided_first  # a client refusal before the notice naming it

    async def _open_batch(self, session: AsyncSession, hints: list[Any]) -> AcceptBatch:
        return await AcceptBatch.open(session, hints, self.schedule, self.clock())

    async def accept(self, cmd: SendNotification) -> list[Outgoing]:
        """Once per request, in the transaction it shares with the requests beside it."""
        if self.client_timezone and is_client(cmd.recipient_role) and not cmd.recipient_timezone:
            # Stored with the request, so the times of the mail are written on that clock.
            cmd = cmd.model_copy(update={"recipient_timezone": self.client_timezone})
        outputs = await self.commits.once(
            str(cmd.notification_id), lambda session: self._accept(session, cmd), cmd
        )
        if not outputs or is_client(cmd.recipient_role):
            # A client request refused may have filed its staff follow-ups (undelivered.py).
            self.on_accepted()
        return outputs

    async def _accept(self, session: AsyncSession, cmd: SendNotification) -> list[Outgoing]:
        taken: set[uuid.UUID] = session.info.setdefault(_TAKEN, set())
        if cmd.notification_id in taken:  # a client digest of this batch took it
            return []
        if cmd.parts:
            unfolded = await self._unfold(session, cmd, taken)
            if unfolded is None:
                return []
            cmd = unfolded
        taken.add(cmd.notification_id)
        if lists_sent_there(cmd):  # a revoke's alert says what went to the address
            cmd = await with_sent_there(session, cmd)
        said, told = await client_mail_said(session, cmd, self.schedule, self.clock)
        outputs = await self._accept_one(session, said)
        if told and not outputs:  # a refused notice told nobody anything
            await remember_told(session, said, told, self.clock(), told_in_batch(session))
        return outputs

    async def _unfold(
        self, session: AsyncSession, cmd: SendNotification, taken: set[uuid.UUID]
    ) -> SendNotification | None:
        """A client digest without the answers taken before; each of its answers' ids is
        taken with it (processed, like a request of its own), so none goes again alone."""
        ids = part_ids(cmd)
        keys = [str(i) for i in ids]
        await lock_keys(session, [f"{self.commits.namespace}:{k}" for k in keys])
        before = {uuid.UUID(k) for k in await outputs_of_keys(session, processed, keys)}
        unfolded = unfold(cmd, before | taken)
        nothing: list[Outgoing] = []
        await record_many(session, processed, dict.fromkeys(keys, nothing), self.clock())
        taken.update(ids)
        return unfolded

    async def _accept_one(self, session: AsyncSession, cmd: SendNotification) -> list[Outgoing]:
        now = self.clock()
        outputs: list[Outgoing] = []
        values: dict[str, Any] = {"status": "pending", "next_attempt_at": now}
        rendered: Rendered | None = None
        try:
            rendered = self._check(cmd)
            if checked(cmd):
                taken_back = refusal(cmd, await revoked_address(session, cmd))
                if taken_back is not None:
                    raise Refused(REVOKED, taken_back)
        except (Refused, DisclosureRefused, HoldRefused) as exc:
            values = {
                "status": "refused",
                "last_error": str(exc),
                "reason_code": why_refused(exc),
                "next_attempt_at": None,
            }
            outputs = [results.failed(cmd, str(exc), 0, now)]
        else:
            if is_held(cmd):
                values, outputs = await self._hold(session, cmd, now)
        if outputs:
            # The handler publishes a refusal (or a withdrawal) from the stored outputs.
            values.update(result=results.as_json(outputs[0]), result_published_at=now)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the sender continues this trace
        request = cmd.model_dump(mode="json")
        if self.rendered is not None and rendered is not None and values["status"] == "pending":
            # A released hold stores another request: the sender compares before it reuses.
            self.rendered.put(cmd.notification_id, request, cmd, rendered)
        await insert_later(
            session,
            INSERT_NOTIFICATION,
            {
                "notification_id": cmd.notification_id,
                "message_id": cmd.message_id,
                "escalation_id": cmd.escalation_id,
                "kind": cmd.kind,
                "channel": cmd.channel,
                "recipient_role": cmd.recipient_role,
                "recipient": cmd.recipient,
                "request": request,
                "urgent": is_urgent(cmd.severity),
                "attempts": 0,
                "idempotency_key": self.idempotency_key(cmd),
                "trace_context": carrier,
                "created_at": now,
                "updated_at": now,
                **values,
            },
        )
        ended = ended_of(values, cmd)
        if ended is not None:
            ended_in_batch(session, cmd, values)  # for a notice later in the batch
            await self._tell_staff(session, [ended], now)
        return outputs

    async def _hold(
        self, session: AsyncSession, cmd: SendNotification, now: datetime
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        """A held answer waits for its confirmation, unless that is settled already."""
        assert cmd.held_for_confirmation is not None
        await lock_key(session, hold_lock_key(cmd.held_for_confirmation))
        values: dict[str, Any] = {
            "status": "held",
            "held_for_confirmation": cmd.held_for_confirmation,
            "held_at": now,
            "next_attempt_at": None,
        }
        resolution = await outcome_of(session, cmd.held_for_confirmation)
        if resolution is None:
            return values, []
        # The confirmation was settled before the request came: settle it at once.
        update, outputs = settled(cmd, resolution, now)
        return {**values, **update}, outputs

    async def settle_confirmation(self, resolution: Resolution) -> list[Outgoing]:
        """A confirmation's outcome: release or withdraw what is held for it, once."""
        key = f"confirmation-event:{resolution.event_id}"
        to_send = 0  # answers released and the receipt: the sender is woken for them
        async with self.db.transaction() as session:
            await lock_key(session, f"notifier:{key}")
            stored = await outputs_of(session, processed, key)
            if stored is not None:
                return stored
            await lock_key(session, hold_lock_key(resolution.confirmation_id))
            now = self.clock()
            on_file = await remember(session, resolution, now)
            if on_file.event_id != resolution.event_id:
                log.warning(
                    "confirmation %s already settled as %s; %s ignored",
                    resolution.confirmation_id,
                    on_file.outcome,
                    resolution.outcome,
                )
            outputs: list[Outgoing] = []
            changes: list[tuple[uuid.UUID, dict[str, Any]]] = []
            ended: list[Ended] = []
            for notification_id, request in await held_for(session, on_file.confirmation_id):
                cmd = SendNotification.model_validate(request)
                values, failed = settled(cmd, on_file, now)
                changes.append((notification_id, values))
                outputs += failed
                to_send += values["status"] == "pending"
                ended += filter(None, [ended_of(values, cmd)])
            await set_many(session, changes)
            to_send += await self._tell_staff(session, ended, now)
            to_send += await self._thank(session, on_file)
            await record_outputs(session, processed, key, outputs, now)
        if to_send:
            self.on_accepted()
        return outputs

    async def revoke_channel(self, resolution: Resolution) -> list[Outgoing]:
        """Staff took a confirmed address back: account content to it that is not sent yet
        (pending, or held for any confirmation of it) is withdrawn with the reason, and the
        confirmation is on file as revoked (a held answer of it that comes late is
        withdrawn too). Once per event; the withdrawals' events are the outputs."""
        assert resolution.outcome == "revoked" and resolution.address is not None
        key = f"revocation-event:{resolution.event_id}"
        async with self.db.transaction() as session:
            await lock_key(session, f"notifier:{key}")
            stored = await outputs_of(session, processed, key)
            if stored is not None:
                return stored
            await lock_key(session, hold_lock_key(resolution.confirmation_id))
            now = self.clock()
            await revoke(session, resolution, now)
            # What was requested before now and comes later is refused (revoked.py).
            await remember_revoked(session, resolution, now)
            reason = revoked_reason(resolution.confirmation_id)
            kind, address = resolution.channel_kind or "email", resolution.address
            outputs: list[Outgoing] = []
            changes: list[tuple[uuid.UUID, dict[str, Any]]] = []
            ended: list[Ended] = []
            for notification_id, request in await unsent_to(session, address):
                if not goes_to(request, kind, address):
                    continue
                cmd = SendNotification.model_validate(request)
                values, event = withdrawn(cmd, reason, REVOKED, resolution.event_id, now)
                changes.append((notification_id, values))
                outputs.append(event)
                ended += filter(None, [ended_of(values, cmd)])
            await set_many(session, changes)
            told = await self._tell_staff(session, ended, now)
            await record_outputs(session, processed, key, outputs, now)
        if told:
            self.on_accepted()
        return outputs

    async def _tell_staff(self, session: AsyncSession, ended: list[Ended], now: datetime) -> int:
        """Client mails that ended undelivered: the staff told they were written hear it
        (undelivered.py), in this transaction; how many follow-ups were filed."""
        return await tell_undelivered(
            session, ended, now, self.thread_of, self.idempotency_key, told_in_batch(session)
        )

    def thread_of(self, staff: SendNotification) -> str | None:
        """The Message-ID a staff notice went with: its follow-up answers in its thread."""
        return self.idempotency_key(staff) if staff.channel == "email" else None

    async def _thank(self, session: AsyncSession, resolution: Resolution) -> int:
        """Tell whoever answered the confirmation request what came of it (receipts.py)."""
        request = await request_of(session, resolution.confirmation_id)
        if request is None:  # asked before requests carried the confirmation: no receipt
            return 0
        asked = SendNotification.model_validate(request)
        receipt = receipt_for(asked, resolution, self.idempotency_key(asked))
        if receipt is None:
            return 0
        await self._accept_one(session, receipt)
        return 1

    def idempotency_key(self, cmd: SendNotification) -> str:
        return idempotency_key_of(cmd, self.message_id_domain)

    def _check(self, cmd: SendNotification) -> Rendered:
        # A held answer is checked by the confirmation that releases it (holds.settle).
        if is_held(cmd):
            check_hold(cmd)
        else:
            check_disclosure(cmd)
        if cmd.channel == "webhook" and cmd.recipient not in self.webhook_names:
            raise Refused(
                NO_CHANNEL, f"notification {cmd.notification_id}: no such webhook endpoint"
            )
        try:
            return render(cmd)
        except TemplateError as exc:
            raise Refused(
                CANNOT_RENDER,
                f"notification {cmd.notification_id}: cannot render {cmd.kind}: {exc}",
            ) from exc


def settled(
    cmd: SendNotification, resolution: Resolution, now: datetime
) -> tuple[dict[str, Any], list[Outgoing]]:
    """The row's new values (and its result event, if withdrawn) once its hold is settled."""
    decision = settle(cmd, resolution)
    if isinstance(decision, Release):
        values = {
            "status": "pending",
            "request": decision.cmd.model_dump(mode="json"),
            "next_attempt_at": now,
            "released_at": now,
            "released_by": resolution.event_id,
            "updated_at": now,
        }
        return values, []
    values, event = withdrawn(cmd, decision.reason, decision.why, resolution.event_id, now)
    return values, [event]


def withdrawn(
    cmd: SendNotification, reason: str, why: str, by: uuid.UUID, now: datetime
) -> tuple[dict[str, Any], Outgoing]:
    """The row's new values once withdrawn by the event `by` (`reason` in words, `why` its
    code: undelivered.WHY), and its result event."""
    event = results.failed(cmd, reason, 0, now)
    values = {
        "status": "withdrawn",
        "withdrawn_at": now,
        "withdrawn_by": by,
        "withdrawn_reason": reason,
        "reason_code": why,
        "next_attempt_at": None,
        "result": results.as_json(event),
        # Published by the handler from the stored outputs, like a refusal.
        "result_published_at": now,
        "updated_at": now,
    }
    return values, event
