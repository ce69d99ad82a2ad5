"""The non-email channel forms read into (sender, subject, text, context). No I/O.

- chat / social: `sender` + `text`;
- phone: `sender` + `transcript` turns, or `text` of speaker-labelled lines: the client's
  turns are the text, the other speakers' turns the context (quoted_text);
- web_form: `form`: the message is the text, the typed name and company the signature
  (the verifier reads them there), the other fields the context;
- system: `notice`: the notice as the client saw it (or the event) is the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.contracts import InboundMessage, SenderIdentifiers, TranscriptTurn

from .entities import to_e164


@dataclass(frozen=True)
class ChannelParts:
    sender: SenderIdentifiers
    subject: str
    text: str
    context: str = ""
    signature: str = ""


_CLIENT_LABELS = re.compile(
    r"^(?:client|customer|caller|user|клиент|клієнт|абонент|звонящий|покупатель|покупець|"
    r"заказчик|замовник|користувач|пользователь)\b",
    re.IGNORECASE,
)
_AGENT_LABELS = re.compile(
    r"^(?:agent|operator|support|manager|ivr|bot|оператор|менеджер|агент|поддержка|підтримка|"
    r"специалист|спеціаліст|сотрудник|співробітник|консультант|робот)\b",
    re.IGNORECASE,
)
_SPEAKER_LINE = re.compile(r"^\s*\[?(?P<speaker>[^:\[\]\n]{1,40}?)\]?\s*:\s?(?P<said>.*)$")


def sender_of(inbound: InboundMessage) -> SenderIdentifiers:
    given = inbound.sender or SenderIdentifiers()
    phone = to_e164(given.phone) if given.phone else None
    return SenderIdentifiers(
        email=given.email.strip().lower() if given.email else None,
        phone=phone,
        # A number that is no valid phone is still how the channel named the sender.
        handle=given.handle or (given.phone if given.phone and phone is None else None),
        display_name=given.display_name,
    )


def role_of(turn: TranscriptTurn) -> str:
    if turn.role:
        return turn.role
    if _CLIENT_LABELS.match(turn.speaker.strip()):
        return "client"
    if _AGENT_LABELS.match(turn.speaker.strip()):
        return "agent"
    return "other"


def turns_of_text(text: str) -> list[TranscriptTurn] | None:
    """Speaker-labelled lines as turns; None if the text has no known speaker labels."""
    turns: list[TranscriptTurn] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        m = _SPEAKER_LINE.match(line)
        speaker = m.group("speaker").strip() if m else ""
        if m and (_CLIENT_LABELS.match(speaker) or _AGENT_LABELS.match(speaker)):
            turns.append(TranscriptTurn(speaker=speaker, text=m.group("said")))
        elif turns and line.strip():  # a turn that runs over several lines
            last = turns[-1]
            turns[-1] = TranscriptTurn(speaker=last.speaker, text=f"{last.text}\n{line}")
    has_client = any(role_of(t) == "client" for t in turns)
    return turns if has_client else None


def phone_parts(inbound: InboundMessage) -> ChannelParts:
    turns = inbound.transcript or turns_of_text(inbound.text or "")
    if turns is None:  # no labels: everything said is the client's
        return ChannelParts(sender_of(inbound), inbound.subject, (inbound.text or "").strip())
    client = [t.text.strip() for t in turns if role_of(t) == "client" and t.text.strip()]
    others = [f"{t.speaker}: {t.text.strip()}" for t in turns if role_of(t) != "client"]
    return ChannelParts(
        sender_of(inbound), inbound.subject, "\n".join(client), context="\n".join(others)
    )


def web_form_parts(inbound: InboundMessage) -> ChannelParts:
    form = inbound.form
    assert form is not None
    given = inbound.sender or SenderIdentifiers()
    sender = SenderIdentifiers(
        email=(given.email or form.email or "").strip().lower() or None,
        phone=to_e164(given.phone or form.phone or "") if (given.phone or form.phone) else None,
        handle=given.handle,
        display_name=given.display_name or form.name,
    )
    signature = "\n".join(v.strip() for v in (form.name, form.company) if v and v.strip())
    context = "\n".join(f"{k}: {v}" for k, v in form.fields.items() if v.strip())
    return ChannelParts(
        sender,
        inbound.subject or (form.subject or ""),
        form.message.strip(),
        context=context,
        signature=signature,
    )


def system_parts(inbound: InboundMessage) -> ChannelParts:
    notice = inbound.notice
    assert notice is not None
    # A sender the publisher names is normalized like any other (lower-case email, E.164).
    sender = (
        sender_of(inbound)
        if inbound.sender
        else SenderIdentifiers(handle=notice.source, display_name=notice.source)
    )
    facts = [f"event: {notice.event}"]
    if notice.customer_ref:
        facts.append(f"customer: {notice.customer_ref}")
    if notice.account:
        facts.append(f"account: {notice.account}")
    facts += [f"{k}: {v}" for k, v in notice.details.items() if v is not None]
    return ChannelParts(
        sender,
        inbound.subject or notice.event,
        (notice.text or notice.event).strip(),
        context="\n".join(facts),
    )
