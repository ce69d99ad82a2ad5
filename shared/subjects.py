"""Every subject and stream Careline uses, named in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from shared.contracts import CHANNELS

INBOUND_PREFIX = "inbound"
MESSAGE_NORMALIZED = "message.normalized"
MESSAGE_VERIFIED = "message.verified"
ESCALATION_OPENED = "escalation.opened"
ESCALATION_UPDATED = "escalation.updated"
# Lifecycle events (in CARELINE_ESCALATIONS) and staff commands (core NATS request-reply,
# outside every stream, so a request gets the escalator's answer, not a JetStream PubAck).
ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
ESCALATION_RESOLVED = "escalation.resolved"
ESCALATION_REASSIGNED = "escalation.reassigned"
ESCALATION_ESCALATED = "escalation.escalated"
ESCALATION_REOPENED = "escalation.reopened"
ESCALATION_CMD_ACKNOWLEDGE = "escalation.cmd.acknowledge"
ESCALATION_CMD_RESOLVE = "escalation.cmd.resolve"
ESCALATION_CMD_REASSIGN = "escalation.cmd.reassign"
ESCALATION_CMD_CLIENT_REPLY = "escalation.cmd.client_reply"
ESCALATION_CMD_WARNED = "escalation.cmd.warned"
NOTIFY_REQUEST = "notify.request"
NOTIFY_SENT = "notify.sent"
NOTIFY_FAILED = "notify.failed"
# CRM: changes published by the real CRM, and what the verifier's confirmation loop decides.
CRM_CUSTOMER_UPSERTED = "crm.customer.upserted"
CRM_CUSTOMER_REMOVED = "crm.customer.removed"
CRM_CONTACT_UPSERTED = "crm.contact.upserted"
CRM_CONTACT_REMOVED = "crm.contact.removed"
CRM_CHANNEL_CONFIRMED = "crm.channel.confirmed"
CRM_CONFIRMATION_DENIED = "crm.confirmation.denied"
CRM_CONFIRMATION_EXPIRED = "crm.confirmation.expired"
CRM_CHANNEL_REVOKED = "crm.channel.revoked"
# Request-reply (core NATS): follow a signed confirmation link.
CRM_CONFIRM = "crm.confirm"


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
    max_age_seconds: float
    duplicate_window_seconds: float


STREAMS_FILE = Path(__file__).parent / "data" / "streams.yaml"


def load_streams(path: Path = STREAMS_FILE) -> tuple[StreamSpec, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        StreamSpec(
            name=s["name"],
            subjects=tuple(s["subjects"]),
            description=s.get("description", ""),
            max_age_seconds=float(s["max_age"]),
            duplicate_window_seconds=float(s["duplicate_window"]),
        )
        for s in data["streams"]
    )


def stream_replicas(profile: str, path: Path = STREAMS_FILE) -> int:
    profiles = yaml.safe_load(path.read_text(encoding="utf-8"))["profiles"]
    if profile not in profiles:
        raise ValueError(f"unknown stream profile {profile!r}; known: {sorted(profiles)}")
    return int(profiles[profile]["replicas"])


STREAMS: tuple[StreamSpec, ...] = load_streams()
_BY_NAME = {spec.name: spec for spec in STREAMS}
STREAM_INBOUND = _BY_NAME["CARELINE_INBOUND"]
STREAM_MESSAGES = _BY_NAME["CARELINE_MESSAGES"]
STREAM_ESCALATIONS = _BY_NAME["CARELINE_ESCALATIONS"]
STREAM_NOTIFY = _BY_NAME["CARELINE_NOTIFY"]
STREAM_CRM = _BY_NAME["CARELINE_CRM"]
STREAM_DLQ = _BY_NAME["CARELINE_DLQ"]
