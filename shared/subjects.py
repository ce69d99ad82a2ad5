"""Every subject and stream Careline uses, named in one place."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts import CHANNELS

INBOUND_PREFIX = "inbound"
MESSAGE_NORMALIZED = "message.normalized"
MESSAGE_VERIFIED = "message.verified"
ESCALATION_OPENED = "escalation.opened"
ESCALATION_UPDATED = "escalation.updated"
NOTIFY_REQUEST = "notify.request"
NOTIFY_SENT = "notify.sent"
NOTIFY_FAILED = "notify.failed"


def inbound(channel: str) -> str:
    return f"{INBOUND_PREFIX}.{channel}"


INBOUND_SUBJECTS = tuple(inbound(c) for c in CHANNELS)


def dead_letter(service: str) -> str:
    return f"dlq.{service}"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: float = 14 * 24 * 3600
    # Window in which JetStream drops a re-published Nats-Msg-Id; beyond it the
    # services' own unique keys keep handlers idempotent.
    duplicate_window_seconds: float = 600


STREAM_INBOUND = StreamSpec("CARELINE_INBOUND", ("inbound.>",), "Raw client messages")
STREAM_MESSAGES = StreamSpec(
    "CARELINE_MESSAGES", (MESSAGE_NORMALIZED, MESSAGE_VERIFIED), "Normalized and verified"
)
STREAM_ESCALATIONS = StreamSpec("CARELINE_ESCALATIONS", ("escalation.>",), "Escalation events")
STREAM_NOTIFY = StreamSpec("CARELINE_NOTIFY", ("notify.>",), "Notification commands, results")
STREAM_DLQ = StreamSpec(
    "CARELINE_DLQ", ("dlq.>",), "Dead letters with reasons", max_age_seconds=30 * 24 * 3600
)

STREAMS: tuple[StreamSpec, ...] = (
    STREAM_INBOUND,
    STREAM_MESSAGES,
    STREAM_ESCALATIONS,
    STREAM_NOTIFY,
    STREAM_DLQ,
)
