"""Intake use case: one inbound message in, one MessageNormalized out, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import InboundMessage, MessageNormalized, derived_id, message_id_of
from shared.db import Database
from shared.errors import PermanentError
from shared.group_commit import DeferredInserts, GroupCommit
from shared.outbox import Outgoing
from shared.subjects import MESSAGE_NORMALIZED

from .adapters import SqlMessageStore, processed
from .domain import normalize
from .entities import DocumentPattern


def normalized_event(
    inbound: InboundMessage,
    now: datetime,
    documents: tuple[DocumentPattern, ...] | None = None,
    authserv_ids: frozenset[str] = frozenset(),
) -> MessageNormalized:
    parts = normalize(inbound, documents, authserv_ids)
    message_id = message_id_of(parts.channel, parts.external_id)
    return MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=inbound.correlation_id or str(message_id),
        occurred_at=now,
        channel=parts.channel,  # type: ignore[arg-type]
        sender=parts.sender,
        subject=parts.subject,
        text=parts.text,
        quoted_text=parts.quoted_text,
        signature=parts.signature,
        language=parts.language,  # type: ignore[arg-type]
        language_confidence=parts.language_confidence,
        thread_id=parts.thread_id,
        external_id=parts.external_id,
        in_reply_to=parts.in_reply_to,
        auth=parts.auth,
        entities=parts.entities,
        # Ours, or the channel's: the history, its windows and retention count from it. A
        # mail's Date header is the sender's clock (a year off, or in the future, when that
        # is wrong): kept as sent_at, never the message's time.
        received_at=inbound.received_at or now,
        sent_at=parts.sent_at,
    )


class IntakeService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        normalize: Callable[[InboundMessage, datetime], MessageNormalized] = normalized_event,
        commits: GroupCommit | None = None,
    ) -> None:
        self.clock = clock
        self.normalize = normalize
        self.commits = commits or GroupCommit(db, processed, "intake", clock)
        self.commits.open_batch = DeferredInserts.open  # the batch's messages, in one statement

    async def accept(self, inbound: InboundMessage, subject_channel: str) -> list[Outgoing]:
        if inbound.channel != subject_channel:
            raise PermanentError(
                f"payload channel {inbound.channel!r} does not match subject channel "
                f"{subject_channel!r}"
            )
        # Parsing is pure and per message: outside the shared transaction.
        event = self.normalize(inbound, self.clock())
        return await self.commits.once(str(event.message_id), lambda s: self._store(s, event))

    async def _store(self, session: AsyncSession, event: MessageNormalized) -> list[Outgoing]:
        out = Outgoing.of(MESSAGE_NORMALIZED, event)
        await SqlMessageStore(session).add(event, out.payload)  # the JSON form, made once
        return [out]
