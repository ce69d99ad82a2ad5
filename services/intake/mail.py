"""Email: an RFC 5322 source (the standard library's `email`, policy.default) or a mail
provider's parsed JSON, read into the parts a normalized message needs. No I/O.
"""

from __future__ import annotations

import hashlib
import logging
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

log = logging.getLogger(__name__)


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


# --- Authentication-Results (RFC 8601) -------------------------------------------------
#
# Anyone can write an Authentication-Results header into the mail they send ("dmarc=pass"),
# so only the ones our own border MTA wrote are believed: those whose authserv-id is one
# the deployment names (CARELINE_INTAKE_AUTHSERV_IDS). RFC 8601 section 5: such an MTA
# removes or renames headers carrying its own id before adding its own, on top.

_METHOD_RE = re.compile(r"\s*(spf|dkim|dmarc)\s*(?:/\s*\d+\s*)?=\s*([a-z]+)", re.IGNORECASE)
_VERDICTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}


def _auth_syntax(value: str) -> list[str]:
    """The value cut at its ';' separators, comments dropped and the ';' of quoted strings
    blanked: "mx.example 1; spf=pass (ip 1.2.3.4) smtp.mailfrom=x; dmarc=fail" ->
    ["mx.example 1", " spf=pass   smtp.mailfrom=x", " dmarc=fail"]. A sender chooses
    what our MTA quotes (its address in smtp.mailfrom, its words in a comment), so none of
    that may read as a separator or start a result."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if not depth:  # kept escaped: a quoted string must end where the sender's ends
                out.append("\\" + (" " if ch == ";" else ch))
        elif ch == "\\" and (quoted or depth):
            escaped = True
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if not depth:
                out.append(" ")
        elif quoted:
            quoted = ch != '"'
            out.append(" " if ch == ";" else ch)
        elif ch == "(":
            depth = 1
        else:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out).split(";")


def authserv_id(value: str) -> str | None:
    """Who wrote the header: the first token before the first ';' (a version may follow it,
    "mx.example 1; ..."), lower-cased; None when the value has no such token or no ';'."""
    head, *results = _auth_syntax(value)
    tokens = head.split()
    if not results or not tokens:
        return None
    return tokens[0].strip('"').lower() or None


def trusted_auth_header(values: list[str], trusted: frozenset[str]) -> str | None:
    """The top-most header (the first in the source: an MTA prepends) whose authserv-id is
    trusted; a forged one below it, or above it with another id, is not read. `trusted` is
    lower-case; empty trusts nobody."""
    for value in values:
        server = authserv_id(value)
        if server is not None and server in trusted:
            return value
        # The id only (bounded): the rest is what a sender may have written.
        log.debug("Authentication-Results of untrusted authserv-id %r ignored", (server or "")[:80])
    return None


# The identity SPF checked, a property of the spf result: "smtp.mailfrom=bounce@example.com"
# (the envelope sender; the domain is what counts) or, for an empty envelope, "smtp.helo=".
# The value is the sender's to choose, a quoted local-part included
# ('"ceo@victim.example"@forger.test', '"x smtp.mailfrom=a@victim.example"@forger.test'):
# a quoted string is one piece of the value, never a property or a domain of its own.
_SPF_IDENTITY_RE = re.compile(
    r'\ssmtp\.(mailfrom|helo)\s*=\s*((?:"(?:[^"\\]|\\.)*"|[^\s"])+)', re.IGNORECASE
)
_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_HOSTNAME_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def auth_from_header(value: str | None) -> AuthResults:
    """The SPF / DKIM / DMARC verdicts of one header value (the first of each method), and
    the domain the SPF verdict is about."""
    found: dict[str, str] = {}
    for result in _auth_syntax(value)[1:] if value else []:
        match = _METHOD_RE.match(result)
        if match and match[2].lower() in _VERDICTS and match[1].lower() not in found:
            found[match[1].lower()] = match[2].lower()
            if match[1].lower() == "spf":
                domain = _spf_domain(result[match.end() :])
                if domain:
                    found["spf_domain"] = domain
    return AuthResults.model_validate(found)


def _spf_domain(properties: str) -> str | None:
    """The domain of the identity SPF checked: the envelope sender's (smtp.mailfrom), else
    the HELO name's; lower-case, without a trailing dot."""
    values: dict[str, str] = {}
    for m in _SPF_IDENTITY_RE.finditer(" " + properties):
        values.setdefault(m[1].lower(), m[2])  # the first of each, as our MTA wrote it
    mailfrom = values.get("mailfrom")
    if mailfrom is not None and mailfrom.strip().strip("<>") != "":
        # An envelope sender: its domain, or nothing. The HELO name (the sender's to choose
        # as well) only stands in for an empty envelope, never for an unreadable one.
        return _domain_of(mailfrom)
    helo = values.get("helo")
    return _domain_of(helo) if helo is not None else None


def _domain_of(value: str) -> str | None:
    """The host name after the last '@' outside the value's quoted parts (the local part's,
    the sender's to write), lower-case; None when that is no host name."""
    domain = _QUOTED_RE.sub("", value).rpartition("@")[2].strip("<>").rstrip(".").lower()
    return domain if _HOSTNAME_RE.fullmatch(domain) else None


def auth_from_headers(values: list[str], trusted: frozenset[str]) -> AuthResults:
    return auth_from_header(trusted_auth_header(values, trusted))


def auth_results(msg: EmailMessage, trusted: frozenset[str]) -> AuthResults:
    headers = [str(h) for h in msg.get_all("Authentication-Results", []) or []]
    return auth_from_headers(headers, trusted)


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


def mail_parts(raw: str | bytes, trusted: frozenset[str] = frozenset()) -> MailParts:
    """`trusted`: the authserv-ids whose Authentication-Results are believed (none: none)."""
    msg = parse_email(raw)
    try:
        address, display_name = _sender(str(msg["From"]))
        data = raw if isinstance(raw, bytes) else source_bytes(raw)
        own_id = msgid(msg.get("Message-ID")) or "sha256:" + hashlib.sha256(data).hexdigest()
        in_reply_to = msgid(msg.get("In-Reply-To"))
        references = msgids(msg.get("References"))
        subject = str(msg.get("Subject") or "")
        sent_at = _date(msg.get("Date"))
        auth = auth_results(msg, trusted)
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


def provider_mail_parts(email: InboundEmail, trusted: frozenset[str] = frozenset()) -> MailParts:
    """A mail provider's parsed email (inbound webhook JSON); `trusted` as for mail_parts."""
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
        auth=auth_from_headers(auth_headers, trusted),
        sent_at=email.date,
        attachments=tuple(email.attachments),
    )
