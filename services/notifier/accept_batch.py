"""One acceptance transaction's batch (`AcceptBatch`): the requests' rows inserted
together, the revokes of their client addresses looked up in one statement, and what a
staff notice says of the client mail it names (client_waits.py): when the sender's quiet
hours or the client's rate limit make that mail wait, the notice says when it will go, from
the rows to those clients looked up once for the batch. A mail on file that will never go
is said NOT written, one on an SMTP retry "being retried"; the ids of the mails said written
are remembered with the notice, so its reader hears if one ends undelivered (told_store.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import SendNotification
from shared.group_commit import DeferredInserts, batch_of

from .adapters import client_mail_on_file
from .client_waits import (
    ClientMail,
    ClientSchedule,
    OnFile,
    Requested,
    named_client_mail,
    requested_of,
    sends_to_client,
    unsure,
    wait_of,
    watched,
    with_waits,
)
from .hold_store import revoked_of
from .revoked import RevokedAddress, address_key, checked
from .scheduling import is_client, is_urgent
from .told_store import ToldInBatch, lock_client_mails


class AcceptBatch(DeferredInserts):
    """The requests of one transaction: their rows inserted together, the revokes of their
    client addresses looked up in one statement (none when no request needs it), and what
    the sender will weigh for the client mail its staff notices say was written: the rows
    to those clients in one statement (none when no notice names client mail or the sender
    never makes client mail wait), and the batch's own client requests in its order."""

    def __init__(
        self,
        revoked: dict[str, RevokedAddress],
        looked_up: set[str],
        client_rows: list[OnFile] | None = None,
        client_requests: list[Requested] | None = None,
    ) -> None:
        super().__init__()
        self.revoked = revoked
        self.looked_up = looked_up
        self.client_rows = client_rows  # None: not looked up
        self.client_requests = client_requests or []
        self.told = ToldInBatch()  # the staff notices of the batch that named client mail
        self.named: dict[uuid.UUID, list[ClientMail]] = {}  # by staff notice, read once
        # The client requests of the batch refused (or withdrawn) so far: a notice after
        # them in the batch says them as their rows will stand, not as "written".
        self.ended: list[OnFile] = []

    def named_client_mail(self, cmd: SendNotification) -> list[ClientMail]:
        """The client mails the notice names, as the batch read them when it opened."""
        if cmd.notification_id not in self.named:
            self.named[cmd.notification_id] = named_client_mail(cmd)
        return self.named[cmd.notification_id]

    @classmethod
    async def open(
        cls,
        session: AsyncSession,
        hints: list[Any],
        schedule: ClientSchedule | None = None,
        now: datetime | None = None,
    ) -> AcceptBatch:
        cmds = [c for c in hints if isinstance(c, SendNotification)]
        # A digest's lone remaining part goes to the digest's address: looked up with it.
        wanted = {address_key(c.recipient) for c in cmds if checked(c) or c.parts}
        batch = cls(await revoked_of(session, wanted) if wanted else {}, wanted)
        mails = [m for c in cmds for m in batch.named_client_mail(c)]
        # Before anything is read of them: a transaction beside this one may be ending one
        # of these client mails (told_store.lock_client_mails; a client request takes its
        # lock only when it ends undelivered, so a batch without notices naming client
        # mail pays nothing).
        await lock_client_mails(session, [i for m in mails for i in m.ids])
        if mails and schedule is not None and now is not None:
            batch.client_rows = await _client_rows(session, mails, schedule, now)
            batch.client_requests = [requested_of(c) for c in cmds if sends_to_client(c)]
        return batch


async def _client_rows(
    session: AsyncSession, mails: list[ClientMail], schedule: ClientSchedule, now: datetime
) -> list[OnFile]:
    # The other mail to those clients matters only when the sender can make mail wait; the
    # named mails' own rows always (one refused, withdrawn or failed was not written).
    recipients = sorted({m.recipient for m in mails}) if schedule.can_defer() else []
    ids = sorted({i for m in mails for i in m.ids})
    return await client_mail_on_file(session, recipients, ids, schedule.window_start(now))


async def revoked_address(session: AsyncSession, cmd: SendNotification) -> RevokedAddress | None:
    """The revoke on file of the request's address, from its batch when it looked it up."""
    address = address_key(cmd.recipient)
    batch = batch_of(session, AcceptBatch)
    if batch is not None and address in batch.looked_up:
        return batch.revoked.get(address)
    return (await revoked_of(session, {address})).get(address)  # alone (a receipt, say)


async def client_mail_said(
    session: AsyncSession,
    cmd: SendNotification,
    schedule: ClientSchedule | None,
    clock: Callable[[], datetime],
) -> tuple[SendNotification, list[uuid.UUID]]:
    """A staff notice saying client mail was written, saying too when the mail that
    waits will go, which is being retried and which was not written and why
    (client_waits.py): stored so, so a re-send says the same. With it, the ids of the mails
    it says were (or will be) written."""
    sent = cmd.data.get("client_contacts_sent")
    if is_client(cmd.recipient_role) or not isinstance(sent, dict):
        return cmd, []
    batch = batch_of(session, AcceptBatch)
    mails = batch.named_client_mail(cmd) if batch is not None else named_client_mail(cmd)
    if schedule is None:
        return cmd, watched((m, None) for m in mails)
    if not mails:
        said, ids = unsure(sent, schedule), []
    else:
        now = clock()
        if batch is not None and batch.client_rows is not None:
            rows, requested = [*batch.ended, *batch.client_rows], batch.client_requests
        else:  # alone (run again after a failure in its batch)
            rows, requested = await _client_rows(session, mails, schedule, now), []
        states = [(m, wait_of(now, m, rows, requested, schedule)) for m in mails]
        said, ids = with_waits(sent, states, schedule), watched(states)
    if said == sent:
        return cmd, ids
    return cmd.model_copy(update={"data": {**cmd.data, "client_contacts_sent": said}}), ids


def ended_in_batch(session: AsyncSession, cmd: SendNotification, values: dict[str, Any]) -> None:
    """A client request of this batch ended undelivered at acceptance (`values`: its row)."""
    batch = batch_of(session, AcceptBatch)
    if batch is None:
        return
    reason = values.get("withdrawn_reason") or values.get("last_error")
    status, urgent = str(values["status"]), is_urgent(cmd.severity)
    code = values.get("reason_code")
    batch.ended.append(
        OnFile(
            cmd.notification_id,
            cmd.recipient,
            status,
            cmd.kind,
            urgent,
            None,
            None,
            None,
            reason,
            code,
        )
    )


def decided_first(hint: Any) -> int:
    """The order of an acceptance batch (GroupCommit.run_order): client requests before the
    staff notices. A client request refused or withdrawn at acceptance is then on the batch
    (`AcceptBatch.ended`) when a notice naming it says what became of it: its reader reads
    NOT written and why, once, where a notice run first said "written" and a follow-up
    came right after it. The escalator publishes the notice first, but a batch's inputs
    arrived together and nothing else here depends on their order among each other (client
    requests keep theirs: the rate-limit foresight counts them in it)."""
    return 0 if isinstance(hint, SendNotification) and is_client(hint.recipient_role) else 1


def told_in_batch(session: AsyncSession) -> ToldInBatch | None:
    batch = batch_of(session, AcceptBatch)
    return batch.told if batch is not None else None
