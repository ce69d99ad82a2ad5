"""Intake use case: one inbound message in, one MessageNormalized out, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.contracts import InboundMessage, MessageNormalized, derived_id
from shared.db import Database
from shared.errors import PermanentError
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import MESSAGE_NORMALIZED

from .adapters import SqlMessageStore, processed
from .domain import normalize
from .entities import DocumentPattern


def normalized_event(
    inbound: InboundMessage, now: datetime, documents: tuple[DocumentPattern, ...] | None = None
) -> MessageNormalized:
    parts = normalize(inbound, documents)
    message_id = derived_id("message", parts.channel, parts.external_id)
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
        received_at=inbound.received_at or parts.received_at or now,
    )


class IntakeService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        normalize: Callable[[InboundMessage, datetime], MessageNormalized] = normalized_event,
    ) -> None:
        self.db = db
        self.clock = clock
        self.normalize = normalize

    async def accept(self, inbound: InboundMessage, subject_channel: str) -> list[Outgoing]:
        if inbound.channel != subject_channel:
            raise PermanentError(
                f"payload channel {inbound.channel!r} does not match subject channel "
                f"{subject_channel!r}"
            )
        event = self.normalize(inbound, self.clock())
        key = str(event.message_id)
        async with self.db.transaction() as session:
            await lock_key(session, f"intake:{key}")
            stored = await outputs_of(session, processed, key)
            if stored is not None:
                return stored
            await SqlMessageStore(session).add(event)
            outputs = [Outgoing.of(MESSAGE_NORMALIZED, event)]
            await record_outputs(session, processed, key, outputs, event.occurred_at)
        return outputs
