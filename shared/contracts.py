"""Wire contracts: the only models that cross service boundaries.

Every event carries `schema_version`, an `event_id` (used as the JetStream `Nats-Msg-Id`,
so re-publishing the same event is de-duplicated), the originating `message_id` and a
`correlation_id`. Event ids are derived deterministically from their inputs wherever a
handler may run twice, so a redelivery re-publishes the same id instead of a new event.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


def message_id_of(channel: str, external_id: str) -> uuid.UUID:
    """The id intake gives a client message: from its channel and the publisher's (or the
    mail's, or its content's) own id, so a redelivery or a duplicate is the same message."""
    return derived_id("message", channel, external_id)


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


DISPLAY_NAME_MAX = 200


class SenderIdentifiers(Contract):
    email: str | None = Field(None, description="Sender address, lower-cased.")
    phone: str | None = Field(None, description="Sender phone in E.164.", examples=["+74951234567"])
    handle: str | None = Field(None, description="Messenger or social handle.")
    display_name: str | None = Field(
        None, description="Name as the channel shows it, on one line, at most 200 characters."
    )

    @field_validator("display_name")
    @classmethod
    def _one_line(cls, name: str | None) -> str | None:
        # Whatever channel it came from (a provider's JSON, a web form, a chat) a name is one
        # line: it is shown in mail to clients and staff, where a line break would let a
        # sender write lines of their own into a genuine notice.
        if name is None:
            return None
        return " ".join(name.split())[:DISPLAY_NAME_MAX] or None


class EmailAttachment(Contract):
    """An attachment listed by name and size: intake never stores the content inline."""

    filename: str | None = Field(None, description="File name as sent.")
    content_type: str = Field("application/octet-stream", description="MIME type.")
    size: int | None = Field(None, ge=0, description="Size in bytes, if known.")


class InboundEmail(Contract):
    """An email already parsed by a mail provider's inbound webhook (JSON form of email)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: str = Field(
        alias="from",
        description="The From header: an address, or a name and an address.",
        examples=["Иван Петров <ivan@example.ru>"],
    )
    to: list[str] = Field(default_factory=list, description="Recipients (To).")
    cc: list[str] = Field(default_factory=list, description="Recipients (Cc).")
    subject: str = Field("", description="Decoded subject.")
    text: str | None = Field(None, description="The text/plain body, if any.")
    html: str | None = Field(None, description="The text/html body, used when there is no text.")
    message_id: str | None = Field(None, description="Message-ID, with or without <>.")
    in_reply_to: str | None = Field(None, description="In-Reply-To.")
    references: list[str] = Field(default_factory=list, description="References, oldest first.")
    date: datetime | None = Field(None, description="The Date header.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Other headers, e.g. Authentication-Results (SPF / DKIM / DMARC verdicts).",
    )
    attachments: list[EmailAttachment] = Field(default_factory=list)


TranscriptRole = Literal["client", "agent", "system", "other"]


class TranscriptTurn(Contract):
    """One speaker-labelled turn of a phone call transcript."""

    speaker: str = Field(description="Label as the transcription shows it.", examples=["Клиент"])
    role: TranscriptRole | None = Field(
        None,
        description="Who spoke. Without it intake infers the role from the label "
        "(client / клиент / клієнт / caller / абонент; agent / оператор / менеджер ...).",
    )
    text: str = Field(description="What was said in this turn.")


class WebForm(Contract):
    """A web form submission: the fields a contact form usually has, plus any others."""

    name: str | None = Field(None, description="Name the client typed.")
    email: str | None = Field(None, description="Email the client typed.")
    phone: str | None = Field(None, description="Phone the client typed.")
    company: str | None = Field(None, description="Company the client typed.")
    subject: str | None = Field(None, description="Topic or subject field.")
    message: str = Field(description="The message field.")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Other fields by label (e.g. contract number, page URL).",
        examples=[{"Номер договора": "17/2024"}],
    )


class SystemNotice(Contract):
    """An event from another system about a client, e.g. billing's "suspension notice sent"."""

    source: str = Field(description="The system that reports it.", examples=["billing"])
    event: str = Field(description="What happened.", examples=["suspension_notice_sent"])
    customer_ref: str | None = Field(None, description="The client's id in that system.")
    account: str | None = Field(None, description="Account or contract number concerned.")
    text: str | None = Field(None, description="The human-readable notice, as the client saw it.")
    occurred_at: datetime | None = Field(None, description="When it happened in that system.")
    details: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="Other facts (amounts, due dates, ids)."
    )


class InboundMessage(Contract):
    """What a publisher sends on `inbound.<channel>` (or POST /v1/inbound/<channel>).

    One form per channel (docs/intake.md): an email as `raw_email` (RFC 5322 source),
    `raw_email_base64` (a source with 8-bit bytes of a legacy charset) or `email` (a mail
    provider's parsed JSON); chat and social as `sender` + `text`; a phone call as
    `sender` + `transcript` (or speaker-labelled `text`); a web form as `form`; a system
    notice as `notice`.
    """

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
    raw_email_base64: str | None = Field(
        None, description="Full RFC 5322 source, base64: for 8-bit sources in a legacy charset."
    )
    email: InboundEmail | None = Field(None, description="A parsed email, for channel=email.")
    sender: SenderIdentifiers | None = Field(None, description="Who wrote, for non-email input.")
    subject: str = Field("", description="Subject, where the channel has one.")
    text: str | None = Field(None, description="Message text, for non-email input.")
    transcript: list[TranscriptTurn] | None = Field(
        None, description="Speaker-labelled turns, for channel=phone."
    )
    form: WebForm | None = Field(None, description="The submitted form, for channel=web_form.")
    notice: SystemNotice | None = Field(None, description="The event, for channel=system.")
    platform: str | None = Field(
        None, description="Chat or social platform.", examples=["telegram", "instagram"]
    )
    thread_ref: str | None = Field(None, description="Conversation id on the channel.")
    correlation_id: str | None = Field(None, description="Optional id to follow the message.")

    @model_validator(mode="after")
    def _has_content(self) -> InboundMessage:
        emails = [self.raw_email, self.raw_email_base64, self.email]
        if sum(e is not None for e in emails) > 1:
            raise ValueError("give one of raw_email, raw_email_base64 and email")
        # A raw_email on another channel passes here and is rejected by intake ("needs
        # text"), as it always was; the structured forms below belong to one channel each.
        for name, value, channel in (
            ("email", self.email, "email"),
            ("raw_email_base64", self.raw_email_base64, "email"),
            ("transcript", self.transcript, "phone"),
            ("form", self.form, "web_form"),
            ("notice", self.notice, "system"),
        ):
            if value is not None and self.channel != channel:
                raise ValueError(f"{name} is for channel={channel}")
        structured = any(e is not None for e in emails) or self.form or self.notice
        if self.transcript is not None and not any(t.text.strip() for t in self.transcript):
            raise ValueError("a transcript needs at least one turn with text")
        if not structured and not self.transcript and not (self.text and self.text.strip()):
            raise ValueError("an inbound message needs raw_email or a non-empty text")
        if not structured and self.sender is None:
            raise ValueError("a text message needs a sender (email, phone, handle or name)")
        return self


# --- normalized ----------------------------------------------------------------------


class AuthResults(Contract):
    spf: AuthVerdict = "none"
    dkim: AuthVerdict = "none"
    dmarc: AuthVerdict = "none"
    spf_domain: str | None = Field(
        None,
        description="The domain SPF checked (the envelope sender's: smtp.mailfrom, or "
        "smtp.helo for an empty envelope), lower-case, as our MTA wrote it. An SPF pass "
        "says nothing of the From header unless this domain is the From's (alignment). "
        "None: not said.",
        examples=["stroymontazh.ru"],
    )


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
    received_at: datetime = Field(
        description="When Careline (or the channel that passed it on) received it: the time "
        "the history, its windows and retention count from."
    )
    sent_at: datetime | None = Field(
        None,
        description="When the message says it was written: an email's Date header, on the "
        "sender's clock. None when it says nothing.",
    )


# --- identity ------------------------------------------------------------------------


# The evidence kind of a reply that answered a confirmation request with neither yes nor no
# (the verifier puts it on the reply's identity; the escalator tells the cases' holders).
CONFIRMATION_UNCLEAR = "confirmation_unclear"


class Evidence(Contract):
    kind: str = Field(description="What was matched.", examples=["corporate_domain"])
    detail: str = Field(description="Human-readable explanation, with ids, not raw data.")
    weight: float = Field(description="Contribution to confidence.")
    source: str = Field(description="Where it came from.", examples=["sender.email", "crm"])
    customer_id: str | None = Field(
        None, description="The customer this evidence points at, if any.", examples=["cust-1"]
    )
    values: dict[str, str] = Field(
        default_factory=dict,
        description="What the detail names (ids, a domain, a score), by name, for a "
        "translation of it: the detail's kind and these say the same in another language. "
        "Beside a `contact_id` or `customer_id`, the CRM's name of it (`contact_name`, "
        "`customer_name`) when it has one, for the people who read the notice; an item "
        "without a name (one of before) is said with the id.",
        examples=[
            {
                "domain": "stroymontazh.ru",
                "customer_id": "cust-1",
                "customer_name": "ООО «СтройМонтаж»",
            }
        ],
    )


class ChannelRef(Contract):
    kind: Literal["email", "phone", "handle"]
    address: str
    verified: bool


class Party(Contract):
    id: str
    name: str


ServicePeriod = Literal["month", "quarter", "year", "contract"]
MAX_INCLUDED_SERVICES = 20
MAX_TERMS_NOTES = 1000


class IncludedService(Contract):
    """A service a contract grants, as data: what, how much of it per period, free or not."""

    service: str = Field(
        min_length=1,
        max_length=120,
        description="The service as the contract names it.",
        examples=["консультація", "onboarding"],
    )
    quantity: int | None = Field(
        None, ge=1, description="How many per period; null: unlimited.", examples=[2]
    )
    period: ServicePeriod = Field(
        "contract",
        description="What the quantity counts per: a month, a quarter, a year, or the whole "
        "contract term.",
        examples=["quarter"],
    )
    free: bool = Field(
        False,
        description="True: at no charge beyond the plan; false: available under the contract "
        "but charged by the price list.",
    )


class ServiceTerms(Contract):
    """What a contract grants: its plan, when it is in force, the services it includes."""

    plan: str | None = Field(None, max_length=120, examples=["Стандарт", "Enterprise"])
    valid_from: date | None = Field(None, description="First day in force.")
    valid_until: date | None = Field(None, description="Last day in force (inclusive).")
    included: list[IncludedService] = Field(
        default_factory=list,
        max_length=MAX_INCLUDED_SERVICES,
        description="The services the contract includes: what is free and how much of it, "
        "and what is available but charged.",
    )
    notes: str | None = Field(
        None,
        max_length=MAX_TERMS_NOTES,
        description="The terms in words: what the plan says beyond the list.",
    )


class ContractTerms(ServiceTerms):
    """A contract of the customer as the CRM has it: what staff weigh a demand against."""

    number: str = Field(examples=["118/2019"])
    status: str = Field("active", examples=["active", "closed"])
    amount: str | None = Field(None, description="Decimal amount, as text.", examples=["1250.00"])
    currency: str | None = Field(None, examples=["RUB"])


class QuotedDocument(Contract):
    """A document of the customer that the message quotes by number, as the CRM has it."""

    kind: Literal["contract", "invoice", "account", "order"] = Field(examples=["invoice"])
    number: str = Field(description="As the CRM writes it.", examples=["4512"])
    status: str | None = Field(None, examples=["paid", "unpaid", "active"])
    amount: str | None = Field(None, description="Decimal amount, as text.", examples=["184500"])
    currency: str | None = Field(None, examples=["RUB"])


class CustomerRef(Party):
    tier: str = "standard"
    contracts: list[ContractTerms] = Field(
        default_factory=list,
        description="The customer's active contracts from the CRM (number, amount, plan, "
        "validity, included services, notes; at most three, the latest filed): the terms "
        "staff see in an escalation's fact pack. For staff only, never for a client.",
    )
    timezone: str | None = Field(
        None,
        description="The client's IANA time zone from the CRM: the writing contact's if on "
        "file, else the customer's; quiet hours for client messages follow it.",
        examples=["Europe/Kyiv"],
    )
    documents: list[QuotedDocument] = Field(
        default_factory=list,
        description="The customer's documents the message quotes by number (an invoice, an "
        "order), with their status and amount in the CRM: staff weigh the client's words "
        "against them (seed 000: the invoice was paid). For staff only, never for a client.",
    )


def _staff_language(value: Any) -> Any:
    # A CRM's locale ("en-GB", "uk_UA", "EN") as the language staff notices are written
    # in; one Careline writes none in ("de") is not said (the team's language then).
    if not isinstance(value, str):
        return None
    language = value.strip().replace("_", "-").split("-")[0].casefold()
    return language if language in ("ru", "uk", "en") else None


# The CRM's language of a staff member, as a language staff notices are written in.
StaffLanguage = Annotated[Literal["ru", "uk", "en"] | None, BeforeValidator(_staff_language)]


class StaffRef(Party):
    email: str
    role: str = "account_manager"
    language: StaffLanguage = Field(
        None,
        description="The language the CRM says this person reads (a locale is taken by "
        "its language; one without staff notices is dropped): their staff notices are "
        "in it unless the policy says another. None: the team's language.",
        examples=["en"],
    )
    timezone: str | None = Field(
        None,
        description="The IANA time zone the CRM says this person works in: the times of "
        "their staff notices (deadlines, promises, holds) are on its clock. None: the team's "
        "(the escalation policy's team_timezone).",
        examples=["Europe/London"],
    )
    deputy: StaffRef | None = Field(
        None,
        description="Only on an account manager: the manager the CRM says stands in for "
        "them (`deputy_id`), with role `deputy` and no deputy of their own. The escalator "
        "tells a threat naming them apart and gives them the cases the threatened account "
        "manager is spared, in place of the policy's `deputy` address. None: none on file, "
        "or a verifier older than the field.",
    )

    @field_validator("deputy")
    @classmethod
    def _stands_in_as_deputy(cls, deputy: StaffRef | None) -> StaffRef | None:
        # Whatever the CRM sent (an HTTP CRM's nested record), the one standing in is
        # told as the deputy, and a chain of deputies is not carried.
        if deputy is None or (deputy.role == "deputy" and deputy.deputy is None):
            return deputy
        return deputy.model_copy(update={"role": "deputy", "deputy": None})


class ConfirmationRequest(Contract):
    """How a probable sender's claim is confirmed through the registered channel."""

    confirmation_id: uuid.UUID
    code: str = Field(description="One-time code the client may reply with.")
    url: str | None = Field(None, description="Signed single-use confirmation link.")
    expires_at: datetime
    files_under: str | None = Field(
        None,
        description="Whose the address becomes when confirmed: the contact the evidence "
        "named, or the name the sender gave for a new contact; shown to the one confirming, "
        "who vouches for it. None: not known for this request.",
        examples=["Андрей Соколов"],
    )


class NamedCustomer(Contract):
    """A customer a suspicious sender wrote in the name of, other than the identity's own."""

    customer: CustomerRef
    account_manager: StaffRef | None = None


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
    named_customer: NamedCustomer | None = Field(
        None,
        description="For a suspicious sender writing from an address one customer disowned "
        "(`customer` is that one) in the name of another: the customer its message named, "
        "with that customer's account manager, who is warned (docs/crm.md). None otherwise.",
    )


class IdentityVerified(Event):
    """Published by verifier on `message.verified`: the message plus who is speaking."""

    message: MessageNormalized
    identity: Identity
    answers_confirmations: list[uuid.UUID] = Field(
        default_factory=list,
        description="The confirmations this message settled: the registered channel replied "
        "with their code (confirming or denying). Their outcomes go out on `crm.*`, and the "
        "escalator tells the holders of the cases from those; the reply itself is no news of "
        "a case.",
    )


# --- crm -------------------------------------------------------------------------------
# Records of the CRM mirror: what `careline crm import` reads and what the real CRM
# publishes on `crm.customer.*` / `crm.contact.*` (see docs/crm.md).

ChannelKind = Literal["email", "phone", "handle"]
DocumentKind = Literal["contract", "invoice", "account", "order"]


def _iana_zone(name: str | None) -> str | None:
    # Known to the zone database, so the notifier can always schedule by it.
    if name is None:
        return None
    name = name.strip()
    if name not in _known_zones() or name == "localtime":
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. Europe/Kyiv)")
    return name


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


TimeZoneName = Annotated[str | None, AfterValidator(_iana_zone)]


class CrmChannel(Contract):
    kind: ChannelKind = Field(examples=["email"])
    address: str = Field(description="Email, phone (any format; stored E.164) or handle.")
    verified: bool = Field(False, description="Whether the client proved it owns the channel.")
    source: str = Field("crm", description="Who put it on file.", examples=["crm", "confirmation"])


class CrmAccountManager(Contract):
    """An account manager. `name` and `email` are full state; an upsert that leaves out
    `phone`, `handle`, `deputy_id`, `language` or `timezone` keeps what is on file (an
    exporter older than a field must not wipe it), while an explicit null clears it."""

    id: str
    name: str
    email: str
    phone: str | None = None
    handle: str | None = None
    deputy_id: str | None = Field(None, description="Account manager who stands in.")
    language: StaffLanguage = Field(
        None,
        description="The language or locale this manager reads (`en-GB` is kept as `en`; "
        "one Careline writes no staff notices in is kept as none): their staff notices "
        "are in it unless the escalation policy says another. None: the team's language.",
        examples=["en"],
    )
    timezone: TimeZoneName = Field(
        None,
        description="IANA time zone the manager works in: their staff notices give times on "
        "it. None: the team's.",
        examples=["Europe/London"],
    )


class CrmDocument(ServiceTerms):
    """A contract, invoice, account or order number; a contract may carry its terms."""

    kind: DocumentKind = Field(examples=["invoice"])
    number: str = Field(description="As the CRM writes it.", examples=["4512", "Д-2021/17"])
    status: str = Field("active", examples=["active", "paid", "closed"])
    amount: str | None = Field(None, description="Decimal amount, as text.", examples=["1250.00"])
    currency: str | None = Field(None, examples=["RUB"])

    @field_validator("valid_until")
    @classmethod
    def _ends_after_it_starts(cls, until: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if until and start and until < start:
            raise ValueError(f"{until} is before valid_from {start}")
        return until

    # The terms are declared (and so validated) before `kind`: checked here, the error
    # names the field a CRM export got wrong.
    @field_validator("kind")
    @classmethod
    def _terms_only_on_contracts(cls, kind: str, info: ValidationInfo) -> str:
        given = [name for name in TERMS_FIELDS if info.data.get(name)]
        if kind != "contract" and given:
            raise ValueError(f"{', '.join(given)}: only a contract has terms, not an {kind}")
        return kind


TERMS_FIELDS = tuple(ServiceTerms.model_fields)


class CrmCustomer(Contract):
    """A customer. An upsert that leaves out `value`, `account_manager_id` or `timezone`
    keeps what is on file (an exporter older than a field must not wipe it); an explicit
    null clears it."""

    id: str
    name: str
    tier: str = Field("standard", examples=["gold"])
    value: str | None = Field(None, description="Annual value, decimal as text.")
    status: Literal["active", "inactive"] = "active"
    account_manager_id: str | None = None
    domains: list[str] | None = Field(
        None, description="Corporate mail domains; null keeps those on file, [] clears them."
    )
    documents: list[CrmDocument] | None = Field(
        None, description="Contracts, invoices, account numbers; null keeps those on file."
    )
    timezone: TimeZoneName = Field(
        None, description="IANA time zone of the customer.", examples=["Europe/Moscow"]
    )


class CrmContact(Contract):
    """A contact of a customer. An upsert that leaves out `role` or `timezone` keeps what
    is on file; given empty (`""`, a null time zone), it is cleared."""

    id: str
    customer_id: str
    name: str
    role: str = ""
    channels: list[CrmChannel] = Field(
        default_factory=list,
        description="The CRM's channels of the contact (replace those the CRM put on file; "
        "channels confirmed through Careline are kept).",
    )
    timezone: TimeZoneName = Field(
        None,
        description="IANA time zone of the contact; wins over the customer's.",
        examples=["Europe/Kyiv"],
    )


class CrmEvent(Contract):
    """A change published by the real CRM; applied only if newer than what is on file."""

    schema_version: int = Field(SCHEMA_VERSION, description="Version of this contract.")
    event_id: uuid.UUID = Field(description="Unique id; also its JetStream Nats-Msg-Id.")
    occurred_at: datetime = Field(description="When the CRM made the change.")


class CustomerUpserted(CrmEvent):
    """On `crm.customer.upserted`: a customer created or changed."""

    customer: CrmCustomer
    account_manager: CrmAccountManager | None = Field(
        None, description="The customer's account manager, upserted with it."
    )


class CustomerRemoved(CrmEvent):
    """On `crm.customer.removed`: the customer no longer counts for identity."""

    customer_id: str


class ContactUpserted(CrmEvent):
    """On `crm.contact.upserted`: a contact and its channels created or changed."""

    contact: CrmContact


class ContactRemoved(CrmEvent):
    """On `crm.contact.removed`."""

    contact_id: str


class ChannelConfirmed(Event):
    """Published by verifier on `crm.channel.confirmed`: a probable sender's address is now a
    verified channel. `message_id` is the message that started the confirmation, so replies
    held for it can be released to the address."""

    confirmation_id: uuid.UUID
    customer_id: str
    contact_id: str
    channel: ChannelRef
    via: Literal["reply", "link"] = Field(description="A reply with the code, or the link.")
    confirmed_at: datetime


class ConfirmationDenied(Event):
    """Published by verifier on `crm.confirmation.denied`: the registered channel answered
    that the request was not theirs. `message_id` is the message that started it."""

    confirmation_id: uuid.UUID
    customer_id: str
    denied_at: datetime


class ConfirmationExpired(Event):
    """Published by verifier on `crm.confirmation.expired`: nobody confirmed in time, so the
    confirmation can never succeed. `message_id` is the message that started it."""

    confirmation_id: uuid.UUID
    customer_id: str
    expired_at: datetime = Field(description="The expiry the confirmation carried.")


class TakenBack(Contract):
    """One confirmation a `careline crm revoke` took back: which address it had made the
    client's, and when it was confirmed."""

    confirmation_id: uuid.UUID
    address: str = Field(description="The address the confirmation made the client's.")
    confirmed_at: datetime | None = Field(
        None, description="When it was confirmed; None when the verifier's log has no record."
    )


class ChannelRevoked(Event):
    """Published by verifier on `crm.channel.revoked`: staff took back an address confirmed
    for a customer (`careline crm revoke`); it is no channel of the client's any more and
    writes as a disowned sender. `message_id` is the message that started the confirmation.

    Not a `crm.confirmation.denied`: that one says the registered contact answered a
    pending request with a no, and its consumers withdraw what was held for it; this one
    takes back a confirmation that was made, by a person, after answers went to the
    address and promises moved there."""

    confirmation_id: uuid.UUID
    customer_id: str
    channel: ChannelRef = Field(description="The address taken back (no longer verified).")
    revoked_by: str = Field(description="Who took it back, as given to the command.")
    revoked_at: datetime
    account_manager: StaffRef | None = Field(
        None,
        description="The customer's account manager on file when it was taken back: told "
        "when no open case of the client was written from or promised to the address (nobody "
        "holds one to hear it); their `deputy` is told in their place when the client's "
        "threats spare the manager. None: none on file, or a verifier older than the field.",
    )
    taken_back: list[TakenBack] = Field(
        default_factory=list,
        description="Every confirmation the same command took back (this one among them), in "
        "the order they were confirmed: the one alert no open case holds names them all. "
        "Empty from a verifier older than the field.",
    )


class ConfirmChannel(Contract):
    """Request on `crm.confirm` (request-reply): follow a signed confirmation link."""

    token: str = Field(description="The token of the link.")


ConfirmationOutcomeKind = Literal[
    "confirmed", "already_confirmed", "denied", "expired", "invalid", "unknown"
]


class ConfirmationOutcome(Contract):
    """Reply on `crm.confirm`; `detail` is safe to show to whoever followed the link."""

    outcome: ConfirmationOutcomeKind
    confirmation_id: uuid.UUID | None = None
    detail: str


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
    """Published by escalator on `escalation.opened`, `escalation.updated` (merged, a hold
    lifted, or the sender's address taken back) and `escalation.reopened`."""

    escalation_id: uuid.UUID
    change: Literal["opened", "merged", "reopened", "hold_lifted", "identity_revoked"] = Field(
        description="opened; merged (a message joined the open one); reopened (a message "
        "after resolution, within the policy's window); hold_lifted (a message without the "
        "threats ended the hold); identity_revoked (staff took back a confirmed address of "
        "the client's the open escalation was written from or promised to: `identity_status` "
        "as it shows now, its promise back at the registered contact)."
    )
    kind: str = Field(examples=["legal", "abuse", "identity_confirmation"])
    severity: Severity
    rule: str = Field(description="Policy rule that fired.")
    reason: str = Field(description="Why the rule fired, in words.")
    customer_id: str | None
    identity_status: IdentityStatus
    signals: list[Signal]
    roles: list[str] = Field(description="Roles notified.")
    ack_deadline: datetime
    hold: str | None = Field(
        None,
        description="The hold in force after the change, in the team's language; None when "
        "there is none. Of two kinds: a pause (the investigation waits, the client's answers "
        "that promise anything are withheld), said in the rule's words; or a sparing hold "
        "(`spares_only`: the client's threats or advances named the account manager, seed "
        "003), which pauses nothing: it says that the deputy has the client's cases instead "
        "of the person named, and that no answer to the client is withheld.",
        examples=[
            "Investigation paused until the threats stop.",
            "The client's cases go to the deputy, not to Ольга Петрова, whom the client's "
            "advances named; answers to the client are not withheld.",
        ],
    )
    client_reply_by: datetime | None = Field(
        None,
        description="When the client is promised an answer with the cause and the remedy "
        "(set when the escalation opened or reopened, or by the message that made the first "
        "promise, from the policy's client_reply; never "
        "before the ack deadline). None for escalations from before it was kept.",
    )


EscalationAction = Literal["acknowledged", "resolved", "reassigned", "escalated"]
EscalationStatus = Literal["open", "resolved"]


class EscalationActed(Event):
    """Published by escalator on `escalation.acknowledged`, `escalation.resolved`,
    `escalation.reassigned` and `escalation.escalated`: one lifecycle step and who took it.
    `message_id` and `correlation_id` are those of the message that opened the escalation."""

    escalation_id: uuid.UUID
    action: EscalationAction
    kind: str = Field(examples=["legal"])
    severity: Severity
    status: EscalationStatus = Field(description="Status after the step.")
    level: int = Field(ge=1, description="Escalation level after the step (1: the rule's roles).")
    actor: str = Field(
        description="Who acted: the staff address, `escalator` for a climb on a missed "
        "acknowledgement deadline, or `verifier` for an identity confirmation resolved by "
        "the registered contact confirming the sender.",
        examples=["legal@careline.example"],
    )
    actor_role: str = Field(examples=["legal", "escalator"])
    note: str | None = Field(None, description="Resolution or reassignment note.")
    roles: list[str] = Field(
        default_factory=list, description="Roles notified by this step (escalated, reassigned)."
    )
    ack_deadline: datetime | None = Field(
        None, description="The acknowledgement deadline now running, if any."
    )


class EscalationCommand(Contract):
    """A staff action, requested on `escalation.cmd.*` (core NATS request-reply)."""

    command_id: uuid.UUID = Field(
        description="Idempotency key: a retried request gets the first answer again."
    )
    escalation_id: uuid.UUID
    actor: str = Field(
        description="Address the actor was notified at (email or `webhook:NAME`); only "
        "notified roles may act.",
        examples=["legal@careline.example"],
    )
    actor_role: str | None = Field(
        None, description="Role the actor was notified as; any of the address's roles if absent."
    )


class AcknowledgeEscalation(EscalationCommand):
    """On `escalation.cmd.acknowledge`: the actor has it; deadlines stop climbing."""


class ResolveEscalation(EscalationCommand):
    """On `escalation.cmd.resolve`: closed with a note; a new message opens a new one."""

    note: str = Field(min_length=1, description="What was done: the outcome, for the record.")


class ReassignEscalation(EscalationCommand):
    """On `escalation.cmd.reassign`: hand it to another role (notified, with a new deadline)."""

    to_role: str = Field(examples=["billing"])
    to_address: str | None = Field(
        None, description="Address of the new role; the policy's address of the role if absent."
    )
    note: str | None = None


class RecordClientReply(EscalationCommand):
    """On `escalation.cmd.client_reply`: what the actor told the client about the answer
    promised (seed 001). Without `new_date` the client has the answer: the promise is kept,
    and nothing tells the client it was missed. With it the client was told a new date,
    which is watched in its turn (reminded of, owned up to if it passes)."""

    new_date: datetime | None = Field(
        None, description="The new date the client was told; absent: the client was answered."
    )
    note: str | None = Field(None, description="What the client was told, for the record.")


class RecordWarning(EscalationCommand):
    """On `escalation.cmd.warned`: the actor warned the client in person (in the chat, on
    the phone) that such talk must stop (seed 002). The client's history records it on the
    escalation's latest message, so later threats count as after a warning (seed 003), as
    when Careline's own conduct notice went by email."""

    note: str | None = Field(None, description="What the client was told, for the record.")


EscalationCommandOutcome = Literal[
    "acknowledged",
    "resolved",
    "reassigned",
    "recorded",
    "already_acknowledged",
    "already_resolved",
    "not_found",
    "forbidden",
    "invalid",
]


class EscalationCommandResult(Contract):
    """Reply on `escalation.cmd.*`; `detail` is safe to show to the actor."""

    outcome: EscalationCommandOutcome
    escalation_id: uuid.UUID | None = Field(
        None, description="None when the request was unreadable."
    )
    status: EscalationStatus | None = Field(None, description="Status after the command.")
    level: int | None = None
    detail: str


# --- notification --------------------------------------------------------------------

NotificationKind = Literal[
    "identity_confirmation",
    "unknown_sender_explanation",
    "stranger_explanation",
    "manager_escalation",
    "service_failure_notice",
    "outage_report_ack",
    "billing_dispute_ack",
    "request_ack",
    "panic_ack",
    "legal_notice",
    "re_escalation",
    "staff_digest",
    "conduct_notice",
    "promise_delay_notice",
    "client_digest",
    "confirmation_receipt",
    "staff_threatened",
    "identity_alert",
    "client_mail_undelivered",
]
NotificationChannel = Literal["email", "webhook"]


class NoticePart(Contract):
    """One notice a `client_digest` stands for, as it would have gone alone."""

    notification_id: uuid.UUID = Field(
        description="The notice's own id: the notifier takes it as sent with the digest, so a "
        "later request for it alone sends nothing."
    )
    escalation_id: uuid.UUID
    kind: NotificationKind
    severity: Severity | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="Its template variables.")


class SendNotification(Event):
    """Command on `notify.request`: deliver one message to one recipient."""

    notification_id: uuid.UUID = Field(description="Idempotency key of this delivery.")
    escalation_id: uuid.UUID | None = Field(
        None,
        description="The escalation it is about; none for a `staff_digest`, which tells one "
        "person of every escalation a message opened or updated (`data.escalations`), nor for "
        "a `client_digest` or a `stranger_explanation` standing for several (`parts`).",
    )
    kind: NotificationKind
    channel: NotificationChannel = Field(
        "email", description="`email` (an address) or `webhook` (a configured endpoint name)."
    )
    recipient: str = Field(description="Address (or webhook endpoint name) to deliver to.")
    recipient_role: str = Field(examples=["client", "account_manager", "legal"])
    recipient_verified: bool = Field(description="Whether the CRM lists the address as verified.")
    content_class: Disclosure = Field(
        "general", description="`account` content may only go to a verified address."
    )
    language: Language = "en"
    reply_to_external_id: str | None = Field(None, description="Message-ID to thread with.")
    data: dict[str, Any] = Field(default_factory=dict, description="Template variables.")
    severity: Severity | None = Field(
        None, description="Severity of the escalation; P1/P2 are urgent and skip quiet hours."
    )
    recipient_timezone: str | None = Field(
        None,
        description="IANA time zone of a client recipient, for quiet hours "
        "(the notifier's default client zone when absent).",
        examples=["Europe/Kyiv"],
    )
    held_for_confirmation: uuid.UUID | None = Field(
        None,
        description="An answer to a probable sender at its own, not yet verified address: the "
        "notifier holds it until `crm.channel.confirmed` of this confirmation verifies exactly "
        "`recipient`, then sends it; a denied or expired confirmation withdraws it.",
        examples=["0b6c9a52-4a4e-5d0c-9f3e-2f1d6c7b8a90"],
    )
    identity_decided_at: datetime | None = Field(
        None,
        description="When it was decided that `recipient` is the client's address: the "
        "verification of the message the request answers (its `message.verified` time), or "
        "when a promise moved to the address. A revoke of the address (`crm.channel.revoked`) "
        "at or after it keeps account content from going there, however late the request "
        "itself is made; absent, the request's own time (`occurred_at`) stands for it.",
    )
    parts: list[NoticePart] = Field(
        default_factory=list,
        description="A `client_digest`'s notices: what one message tells one client address "
        "about several escalations, in one mail (or the `stranger_explanation`s of one "
        "message's escalations, said once). The notifier leaves out the parts it took "
        "before (their ids), sends a lone remaining part as it is, and takes every part's id "
        "with the digest.",
    )


class NotificationDelivered(Event):
    """Published by notifier on `notify.sent`."""

    notification_id: uuid.UUID
    kind: NotificationKind
    recipient_role: str
    provider_message_id: str
    attempts: int = Field(1, description="Delivery attempts it took, crashed ones included.")
    idempotency_key: str | None = Field(
        None,
        description="Message-ID / Idempotency-Key the delivery carried; a re-send after a "
        "crash carries the same one, so the receiver can drop the copy.",
    )


class NotificationFailed(Event):
    """Published by notifier on `notify.failed`."""

    notification_id: uuid.UUID
    kind: NotificationKind
    recipient_role: str
    reason: str
    attempts: int = Field(0, description="Delivery attempts made (0: refused before sending).")
    permanent: bool = Field(
        True, description="False when temporary failures exhausted the retries."
    )


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
