"""Normalization: raw channel input in, the parts of a NormalizedMessage out. No I/O.

Email goes through the standard library's `email` package (policy.default decodes
encoded headers and legacy charsets, mail.py), HTML through html2text, phone numbers
through phonenumbers (entities.py), language through lingua restricted to ru/uk/en. The
other channels' forms are read in channels.py; bodies are split in reply.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from shared.contracts import AuthResults, EmailAttachment, Entity, InboundMessage, SenderIdentifiers
from shared.errors import PermanentError

from .channels import ChannelParts, phone_parts, sender_of, system_parts, web_form_parts
from .entities import DocumentPattern, extract_entities, to_e164
from .mail import MailParts, auth_results, email_body_text, mail_parts, parse_email
from .mail import provider_mail_parts as _provider_mail_parts
from .reply import split_reply

__all__ = [
    "Normalized",
    "auth_results",
    "detect_language",
    "email_body_text",
    "extract_entities",
    "normalize",
    "normalize_email",
    "parse_email",
    "split_reply",
    "to_e164",
]

# Below this lingua's confidence (relative among ru/uk/en) the language is "unknown": a
# template in the wrong language is worse than the default one.
MIN_LANGUAGE_CONFIDENCE = 0.4
LANGUAGE_SAMPLE_CHARS = 3000


@dataclass(frozen=True)
class Normalized:
    channel: str
    external_id: str
    sender: SenderIdentifiers
    subject: str
    text: str
    quoted_text: str
    signature: str
    language: str
    language_confidence: float
    thread_id: str
    in_reply_to: str | None
    auth: AuthResults
    entities: list[Entity] = field(default_factory=list)
    sent_at: datetime | None = None  # what the message says (an email's Date header)
    attachments: tuple[EmailAttachment, ...] = ()


def _from_mail(parts: MailParts, documents: tuple[DocumentPattern, ...] | None) -> Normalized:
    fresh, quoted, signature = split_reply(parts.body)
    return _finish(
        channel="email",
        external_id=parts.external_id,
        sender=SenderIdentifiers(email=parts.address, display_name=parts.display_name),
        subject=parts.subject,
        fresh=fresh,
        quoted=quoted,
        signature=signature,
        thread_id=parts.thread_id,
        in_reply_to=parts.in_reply_to,
        auth=parts.auth,
        sent_at=parts.sent_at,
        attachments=parts.attachments,
        documents=documents,
    )


def normalize_email(
    raw: str | bytes,
    documents: tuple[DocumentPattern, ...] | None = None,
    authserv_ids: frozenset[str] = frozenset(),
) -> Normalized:
    """`authserv_ids`: whose Authentication-Results to believe (mail.trusted_auth_header)."""
    return _from_mail(mail_parts(raw, authserv_ids), documents)


def _content_id(inbound: InboundMessage) -> str:
    # The publisher's id, or failing that what was said: the same message twice is one.
    if inbound.external_id:
        return inbound.external_id
    content = inbound.model_dump_json(exclude={"received_at", "correlation_id"})
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


def _from_channel(
    inbound: InboundMessage, parts: ChannelParts, documents: tuple[DocumentPattern, ...] | None
) -> Normalized:
    external_id = _content_id(inbound)
    if inbound.channel in ("phone", "web_form", "system"):
        fresh, quoted, signature = parts.text, parts.context, parts.signature
    else:
        fresh, quoted, signature = split_reply(parts.text)
    # A chat message may be all quote; a call or a form without the client's words is not
    # a client message.
    if not fresh and (not quoted or inbound.channel in ("phone", "web_form", "system")):
        raise PermanentError(f"channel {inbound.channel}: the client's text is empty")
    return _finish(
        channel=inbound.channel,
        external_id=external_id,
        sender=parts.sender,
        subject=parts.subject,
        fresh=fresh,
        quoted=quoted,
        signature=signature,
        thread_id=inbound.thread_ref or external_id,
        in_reply_to=None,
        auth=AuthResults(),
        sent_at=None,
        documents=documents,
    )


def normalize_text_message(
    inbound: InboundMessage, documents: tuple[DocumentPattern, ...] | None = None
) -> Normalized:
    assert inbound.text is not None
    parts = ChannelParts(sender_of(inbound), inbound.subject, inbound.text)
    return _from_channel(inbound, parts, documents)


def normalize(
    inbound: InboundMessage,
    documents: tuple[DocumentPattern, ...] | None = None,
    authserv_ids: frozenset[str] = frozenset(),
) -> Normalized:
    """One inbound message in any channel form, normalized; PermanentError if impossible.
    An email's SPF / DKIM / DMARC verdicts come only from an Authentication-Results header
    whose authserv-id is in `authserv_ids` (lower-case; empty: none is believed)."""
    if inbound.channel == "email":
        if inbound.raw_email is not None:
            return normalize_email(inbound.raw_email, documents, authserv_ids)
        if inbound.raw_email_base64 is not None:
            try:
                raw = base64.b64decode(inbound.raw_email_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise PermanentError("raw_email_base64 is not valid base64") from exc
            return normalize_email(raw, documents, authserv_ids)
        if inbound.email is not None:
            parts = _provider_mail_parts(inbound.email, authserv_ids)
            normalized = _from_mail(parts, documents)
            if inbound.external_id:  # the publisher's id wins, as for other channels
                return _with_external_id(normalized, inbound.external_id)
            return normalized
    if inbound.channel == "phone" and (inbound.transcript or inbound.text):
        return _from_channel(inbound, phone_parts(inbound), documents)
    if inbound.channel == "web_form" and inbound.form is not None:
        return _from_channel(inbound, web_form_parts(inbound), documents)
    if inbound.channel == "system" and inbound.notice is not None:
        return _from_channel(inbound, system_parts(inbound), documents)
    if inbound.text is None:
        raise PermanentError(f"channel {inbound.channel} needs text")
    return normalize_text_message(inbound, documents)


def _with_external_id(normalized: Normalized, external_id: str) -> Normalized:
    from dataclasses import replace

    return replace(normalized, external_id=external_id)


def _finish(
    *,
    channel: str,
    external_id: str,
    sender: SenderIdentifiers,
    subject: str,
    fresh: str,
    quoted: str,
    signature: str,
    thread_id: str,
    in_reply_to: str | None,
    auth: AuthResults,
    sent_at: datetime | None,
    attachments: tuple[EmailAttachment, ...] = (),
    documents: tuple[DocumentPattern, ...] | None = None,
) -> Normalized:
    language, confidence = detect_language(f"{subject}\n{fresh}")
    return Normalized(
        channel=channel,
        external_id=external_id,
        sender=sender,
        subject=subject,
        text=fresh,
        quoted_text=quoted,
        signature=signature,
        language=language,
        language_confidence=confidence,
        thread_id=thread_id,
        in_reply_to=in_reply_to,
        auth=auth,
        entities=extract_entities(fresh, documents),
        sent_at=sent_at,
        attachments=attachments,
    )


# --- language ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.RUSSIAN, Language.UKRAINIAN, Language.ENGLISH
    ).build()


_LINGUA_CODES = {"RUSSIAN": "ru", "UKRAINIAN": "uk", "ENGLISH": "en"}


def detect_language(text: str) -> tuple[str, float]:
    # Letters, not \w: digits and underscores alone ("12345") say nothing about the language.
    if not re.search(r"[^\W\d_]{2,}", text):
        return "unknown", 0.0
    # A sample is enough to tell ru/uk/en apart, and lingua's time grows with the length
    # (a 200 kB word takes seconds): the first words only.
    values = _detector().compute_language_confidence_values(text[:LANGUAGE_SAMPLE_CHARS])
    if not values:
        return "unknown", 0.0
    best = values[0]
    confidence = round(float(best.value), 3)
    if confidence < MIN_LANGUAGE_CONFIDENCE:
        return "unknown", confidence
    return _LINGUA_CODES.get(best.language.name, "unknown"), confidence
