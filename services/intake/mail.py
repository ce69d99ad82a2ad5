"""Email: an RFC 5322 source (the standard library's `email`, policy.default) or a mail
provider's parsed JSON, read into the parts a normalized message needs. No I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

import html2text

from shared.contracts import AuthResults, EmailAttachment, InboundEmail
from shared.errors import PermanentError


@dataclass(frozen=True)
class MailParts:
    """What intake takes from one email, whatever form it came in."""

    address: str
    display_name: str | None
    subject: str
    body: str
    external_id: str
    thread_id: str
    in_reply_to: str | None
    auth: AuthResults
    sent_at: datetime | None  # the Date header: the sender's clock, not ours
    attachments: tuple[EmailAttachment, ...]


def source_bytes(raw: str) -> bytes:
    # 8-bit bodies in a legacy charset reach us as surrogate escapes; surrogateescape gives
    # the original bytes back (a strict encode would raise on them).
    return raw.encode("utf-8", "surrogateescape")


class _ParseOncePolicy(EmailPolicy):
    """policy.default, with each distinct header value parsed once.

    policy.default parses a header again on every access, and reading one email asks for
    its Content-Type about a dozen times (get_body, iter_parts, get_content_type,
    get_param): that was most of the time an email took. Parsed headers are immutable
    values, so the same one serves every access and every email that carries it.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):  # already a parsed header (set by the program)
            return value
        return _parsed_header(name, value)


@lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> str:
    return policy.default.header_fetch_parse(name, value)  # type: ignore[no-any-return]


_POLICY = _ParseOncePolicy()


def parse_email(raw: str | bytes) -> EmailMessage:
    # Parse bytes, not str: a str source with 8-bit bodies loses its charset handling.
    data = raw if isinstance(raw, bytes) else source_bytes(raw)
    msg = message_from_bytes(data, policy=_POLICY)
    try:
        has_from = isinstance(msg, EmailMessage) and bool(msg.get("From"))
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        # A header too broken to parse (the standard library raises AttributeError for a
        # group where a mailbox belongs: "From: :;0").
        raise PermanentError(f"email From header cannot be parsed: {type(exc).__name__}") from exc
    if not has_from:
        raise PermanentError("email source has no From header")
    return msg  # type: ignore[return-value]


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.ignore_images = True
    converter.ignore_emphasis = True  # no **bold** or _italic_ marks in the client's text
    converter.ignore_links = True  # the link's words stay, the URL goes
    converter.body_width = 0
    return _unmarkdown(converter.handle(html))


# html2text escapes text that would read as markdown ("\-- ", "1\. ", "\-----Original
# Message-----") and ends hard breaks with two spaces. The client wrote plain text, and the
# escapes would hide signature and quote markers from split_reply, so undo both.
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+$", re.MULTILINE)


def _unmarkdown(text: str) -> str:
    return _TRAILING_SPACE_RE.sub("", _MD_ESCAPE_RE.sub(r"\1", text))


def unflow(text: str, *, delsp: bool = False) -> str:
    """format=flowed text (RFC 3676, Thunderbird, Apple Mail) back to its paragraphs: a
    line ending in a space continues on the next line of the same quote depth. Without
    this a wrapped paragraph would carry the sender's line width into the clean text."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0

    def render(depth: int, content: str) -> str:
        return ">" * depth + (" " + content if depth and content else content)

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing (or the space after the quote marks)
            content = content[1:]
        soft = content.endswith(" ") and content.rstrip() != "--"  # "-- " is the sig separator
        if soft and delsp:
            content = content[:-1]
        if pending is not None and depth == pending_depth:
            content = pending + content
        elif pending is not None:
            out.append(render(pending_depth, pending))
        pending, pending_depth = (content, depth) if soft else (None, depth)
        if not soft:
            out.append(render(depth, content))
    if pending is not None:
        out.append(render(pending_depth, pending))
    return "\n".join(out)


def _part_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError) as exc:
        raise PermanentError(f"email body cannot be decoded: {type(exc).__name__}") from exc
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    content = content.replace("\r\n", "\n")
    if part.get_content_type() == "text/plain" and part.get_param("format") == "flowed":
        content = unflow(content, delsp=str(part.get_param("delsp", "no")).lower() == "yes")
    return content


def email_body_text(msg: EmailMessage) -> str:
    """The body: the preferred alternative, plus every further inline text part of a
    multipart/mixed message (Apple Mail puts text after an inline image)."""
    if msg.get_content_type() != "multipart/mixed":
        part = msg.get_body(preferencelist=("plain", "html"))
        return _part_text(part) if part is not None else ""
    texts = []
    for part in msg.iter_parts():
        if part.get_content_disposition() == "attachment":
            continue
        if part.is_multipart():
            body = part.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
            if body is not None:
                texts.append(_part_text(body))
        elif part.get_content_maintype() == "text":
            texts.append(_part_text(part))
    return "\n\n".join(t.strip("\n") for t in texts if t.strip())


def _inline_text(part: MIMEPart) -> bool:
    return (
        part.get_content_maintype() == "text"
        and part.get_content_disposition() != "attachment"
        and part.get_filename() is None
    )


def attachments_of(msg: EmailMessage) -> tuple[EmailAttachment, ...]:
    found = []
    mixed = msg.get_content_type() == "multipart/mixed"
    for part in msg.iter_attachments():
        if mixed and _inline_text(part):
            continue  # email_body_text made it part of the body
        payload = part.get_payload(decode=True)
        found.append(
            EmailAttachment(
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                size=len(payload) if isinstance(payload, bytes) else None,
            )
        )
    return tuple(found)


_AUTH_RE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_VERDICTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}


def auth_from_headers(values: list[str]) -> AuthResults:
    found: dict[str, str] = {}
    for header in values:
        for method, verdict in _AUTH_RE.findall(header):
            verdict = verdict.lower()
            if verdict in _VERDICTS:
                found.setdefault(method.lower(), verdict)
    return AuthResults.model_validate(found)


def auth_results(msg: EmailMessage) -> AuthResults:
    return auth_from_headers([str(h) for h in msg.get_all("Authentication-Results", []) or []])


_MSGID_RE = re.compile(r"<([^<>]+)>")


def msgids(value: object) -> list[str]:
    # Ids are <...>: some mailers write References without whitespace between them
    # ("<a@x><b@x>") and old ones append comments to In-Reply-To, so splitting on spaces is
    # not enough. A bare id without brackets is still accepted.
    text = str(value or "")
    ids = [m.strip() for m in _MSGID_RE.findall(text)]
    return [i for i in ids if i] or [t.strip("<>") for t in text.split() if t.strip("<>")]


def msgid(value: object) -> str | None:
    return next(iter(msgids(value)), None)


def _sender(from_value: str) -> tuple[str, str | None]:
    (display_name, address), *_ = getaddresses([from_value]) or [("", "")]
    if "@" not in address:
        raise PermanentError("email From header has no address")
    return address.lower(), display_name or None


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None


def mail_parts(raw: str | bytes) -> MailParts:
    msg = parse_email(raw)
    try:
        address, display_name = _sender(str(msg["From"]))
        data = raw if isinstance(raw, bytes) else source_bytes(raw)
        own_id = msgid(msg.get("Message-ID")) or "sha256:" + hashlib.sha256(data).hexdigest()
        in_reply_to = msgid(msg.get("In-Reply-To"))
        references = msgids(msg.get("References"))
        subject = str(msg.get("Subject") or "")
        sent_at = _date(msg.get("Date"))
        auth = auth_results(msg)
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        # policy.default parses headers lazily; a malformed one fails on first access.
        raise PermanentError(f"email header cannot be parsed: {type(exc).__name__}") from exc
    return MailParts(
        address=address,
        display_name=display_name,
        subject=" ".join(subject.split()),  # folded or injected line breaks are not content
        body=email_body_text(msg),
        external_id=own_id,
        thread_id=references[0] if references else (in_reply_to or own_id),
        in_reply_to=in_reply_to,
        auth=auth,
        sent_at=sent_at,
        attachments=attachments_of(msg),
    )


def provider_mail_parts(email: InboundEmail) -> MailParts:
    """A mail provider's parsed email (inbound webhook JSON)."""
    address, display_name = _sender(email.from_)
    own_id = msgid(email.message_id) or (
        "sha256:" + hashlib.sha256(email.model_dump_json(by_alias=True).encode()).hexdigest()
    )
    references = [r for ref in email.references for r in msgids(ref)]
    in_reply_to = msgid(email.in_reply_to)
    if email.text is not None and email.text.strip():
        body = email.text.replace("\r\n", "\n")
    else:
        body = html_to_text(email.html or "")
    auth_headers = [v for k, v in email.headers.items() if k.lower() == "authentication-results"]
    return MailParts(
        address=address,
        display_name=display_name,
        subject=" ".join(email.subject.split()),
        body=body,
        external_id=own_id,
        thread_id=references[0] if references else (in_reply_to or own_id),
        in_reply_to=in_reply_to,
        auth=auth_from_headers(auth_headers),
        sent_at=email.date,
        attachments=tuple(email.attachments),
    )
