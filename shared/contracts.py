"""Wire contracts: the only models that cross service boundaries.

Every event carries `schema_version`, an `event_id` (used as the JetStream `Nats-Msg-Id`,
so re-publishing the same event is de-duplicated), the originating `message_id` and a
`correlation_id`. Event ids are derived deterministically from their inputs wherever a
handler may run twice, so a redelivery re-publishes the same id instead of a new event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

# Namespace for deterministic ids (uuid5); changing it would break idempotency across versions.
CARELINE_NAMESPACE = uuid.UUID("6f1c1f0e-3a4b-5c6d-9e8f-0a1b2c3d4e5f")

Channel = Literal["email", "chat", "social", "web_form", "phone", "system"]
CHANNELS: tuple[str, ...] = ("email", "chat", "social", "web_form", "phone", "system")
Language = Literal["ru", "uk", "en", "unknown"]
IdentityStatus = Literal["verified", "probable", "conflict", "suspicious", "unknown"]
Disclosure = Literal["none", "general", "account"]
Severity = Literal["P1", "P2", "P3", "P4"]
AuthVerdict = Literal["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]


def derived_id(*parts: object) -> uuid.UUID:
    """A stable id for something computed from `parts` (same inputs, same id)."""
    return uuid.uuid5(CARELINE_NAMESPACE, "\x1f".join(str(p) for p in parts))


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(Contract):
    schema_version: int = Field(SCHEMA_VERSION, description="Version of this contract.")
    event_id: uuid.UUID = Field(
        description="Unique id of this event; also its JetStream Nats-Msg-Id.",
        examples=["3f2b8c1e-1d2a-4f5e-9a7b-0c1d2e3f4a5b"],
    )
    message_id: uuid.UUID = Field(description="Id of the client message this event stems from.")
    correlation_id: str = Field(description="Id that ties every event of one conversation.")
    occurred_at: datetime = Field(description="When the producing service emitted the event.")


# --- inbound -------------------------------------------------------------------------


class SenderIdentifiers(Contract):
    email: str | None = Field(None, description="Sender address, lower-cased.")
    phone: str | None = Field(None, description="Sender phone in E.164.", examples=["+74951234567"])
    handle: str | None = Field(None, description="Messenger or social handle.")
    display_name: str | None = Field(None, description="Name as the channel shows it.")


class InboundMessage(Contract):
    """What a publisher sends on `inbound.<channel>`: a raw email source or a text message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(SCHEMA_VERSION, description="Version of this contract.")
    channel: Channel = Field(description="Channel the client used.", examples=["email"])
    external_id: str | None = Field(
        None,
        description="The publisher's own id of the message (chat message id, ticket id). "
        "Re-sending the same external id is harmless. Email uses its Message-ID.",
        examples=["chat-7781"],
    )
    received_at: datetime | None = Field(None, description="When the channel received it.")
    raw_email: str | None = Field(
        None, description="Full RFC 5322 source, for channel=email.", examples=["From: ..."]
    )
    sender: SenderIdentifiers | None = Field(None, description="Who wrote, for non-email input.")
    subject: str = Field("", description="Subject, where the channel has one.")
    text: str | None = Field(None, description="Message text, for non-email input.")
    thread_ref: str | None = Field(None, description="Conversation id on the channel.")
    correlation_id: str | None = Field(None, description="Optional id to follow the message.")

    @model_validator(mode="after")
    def _has_content(self) -> InboundMessage:
        if self.raw_email is None and not (self.text and self.text.strip()):
            raise ValueError("an inbound message needs raw_email or a non-empty text")
        if self.raw_email is None and self.sender is None:
            raise ValueError("a text message needs a sender (email, phone, handle or name)")
        return self


# --- normalized ----------------------------------------------------------------------


class AuthResults(Contract):
    spf: AuthVerdict = "none"
    dkim: AuthVerdict = "none"
    dmarc: AuthVerdict = "none"


class Entity(Contract):
    kind: Literal["email", "phone", "contract", "invoice", "order", "account", "money", "date"]
    value: str = Field(description="Normalized value (E.164 phone, lower-case email, number).")
    start: int = Field(description="Start offset in `text`.")
    end: int = Field(description="End offset in `text` (exclusive).")


class MessageNormalized(Event):
    """Published by intake on `message.normalized`."""

    channel: Channel
    sender: SenderIdentifiers
    subject: str = ""
    text: str = Field(description="The client's new text: no quoted history, no signature.")
    quoted_text: str = ""
    signature: str = ""
    language: Language = "unknown"
    language_confidence: float = 0.0
    thread_id: str = Field(description="Conversation id (email: root of References).")
    external_id: str
    in_reply_to: str | None = None
    auth: AuthResults = AuthResults()
    entities: list[Entity] = Field(default_factory=list)
    received_at: datetime


# --- identity ------------------------------------------------------------------------


class Evidence(Contract):
    kind: str = Field(description="What was matched.", examples=["corporate_domain"])
    detail: str = Field(description="Human-readable explanation, with ids, not raw data.")
    weight: float = Field(description="Contribution to confidence.")
    source: str = Field(description="Where it came from.", examples=["sender.email", "crm"])


class ChannelRef(Contract):
    kind: Literal["email", "phone", "handle"]
    address: str
    verified: bool


class Party(Contract):
    id: str
    name: str


class CustomerRef(Party):
    tier: str = "standard"


class StaffRef(Party):
    email: str
    role: str = "account_manager"


class ConfirmationRequest(Contract):
    """How a probable sender's claim is confirmed through the registered channel."""

    confirmation_id: uuid.UUID
    code: str = Field(description="One-time code the client may reply with.")
    url: str | None = Field(None, description="Signed single-use confirmation link.")
    expires_at: datetime


class Identity(Contract):
    status: IdentityStatus
    confidence: float = Field(ge=0.0, le=1.0)
    customer: CustomerRef | None = None
    contact: Party | None = None
    account_manager: StaffRef | None = None
    authorized_channels: list[ChannelRef] = Field(default_factory=list)
    disclosure: Disclosure = "none"
    evidence: list[Evidence] = Field(default_factory=list)
    confirmation: ConfirmationRequest | None = Field(
        None, description="Set for a probable identity: the confirmation loop it starts."
    )


class IdentityVerified(Event):
    """Published by verifier on `message.verified`: the message plus who is speaking."""

    message: MessageNormalized
    identity: Identity


# --- escalation ----------------------------------------------------------------------


class SignalEvidence(Contract):
    start: int
    end: int
    text: str = Field(description="The matched words of the client's text.")
    rule: str = Field(description="Lexicon entry or pattern id that fired.")


class Signal(Contract):
    name: str = Field(examples=["legal_threat"])
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[SignalEvidence] = Field(default_factory=list)


class EscalationChanged(Event):
    """Published by escalator on `escalation.opened` / `escalation.updated`."""

    escalation_id: uuid.UUID
    change: Literal["opened", "merged"]
    kind: str = Field(examples=["legal", "abuse", "identity_confirmation"])
    severity: Severity
    rule: str = Field(description="Policy rule that fired.")
    reason: str = Field(description="Why the rule fired, in words.")
    customer_id: str | None
    identity_status: IdentityStatus
    signals: list[Signal]
    roles: list[str] = Field(description="Roles notified.")
    ack_deadline: datetime


# --- notification --------------------------------------------------------------------

NotificationKind = Literal[
    "identity_confirmation",
    "unknown_sender_explanation",
    "manager_escalation",
]


class SendNotification(Event):
    """Command on `notify.request`: deliver one message to one recipient."""

    notification_id: uuid.UUID = Field(description="Idempotency key of this delivery.")
    escalation_id: uuid.UUID | None = None
    kind: NotificationKind
    channel: Literal["email"] = "email"
    recipient: str = Field(description="Address to deliver to.")
    recipient_role: str = Field(examples=["client", "account_manager", "legal"])
    recipient_verified: bool = Field(description="Whether the CRM lists the address as verified.")
    content_class: Disclosure = Field(
        "general", description="`account` content may only go to a verified address."
    )
    language: Language = "en"
    reply_to_external_id: str | None = Field(None, description="Message-ID to thread with.")
    data: dict[str, Any] = Field(default_factory=dict, description="Template variables.")


class NotificationDelivered(Event):
    """Published by notifier on `notify.sent`."""

    notification_id: uuid.UUID
    kind: NotificationKind
    recipient_role: str
    provider_message_id: str


class NotificationFailed(Event):
    """Published by notifier on `notify.failed`."""

    notification_id: uuid.UUID
    kind: NotificationKind
    recipient_role: str
    reason: str


# --- dead letters --------------------------------------------------------------------


class DeadLetter(Contract):
    """Published on `dlq.<service>` when a message cannot be processed."""

    schema_version: int = SCHEMA_VERSION
    event_id: uuid.UUID
    service: str
    subject: str = Field(description="Subject the message was consumed from.")
    reason: str = Field(description="Why it was dead-lettered, readable.")
    error_type: str
    deliveries: int
    payload: str = Field(description="The original payload (UTF-8, or base64 if binary).")
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    headers: dict[str, str] = Field(default_factory=dict)
    failed_at: datetime
