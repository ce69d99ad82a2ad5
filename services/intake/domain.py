"""Normalization: raw channel input in, the parts of a NormalizedMessage out. No I/O.

Email goes through the standard library's `email` package (policy.default decodes
encoded headers and legacy charsets), HTML through html2text, phone numbers through
phonenumbers, language through lingua restricted to ru/uk/en.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

import html2text
import phonenumbers

from shared.contracts import AuthResults, Entity, InboundMessage, SenderIdentifiers
from shared.errors import PermanentError


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
    received_at: datetime | None = None


# --- email ---------------------------------------------------------------------------


def _source_bytes(raw: str) -> bytes:
    # 8-bit bodies in a legacy charset reach us as surrogate escapes; surrogateescape gives
    # the original bytes back (a strict encode would raise on them).
    return raw.encode("utf-8", "surrogateescape")


def parse_email(raw: str) -> EmailMessage:
    # Parse bytes, not str: a str source with 8-bit bodies loses its charset handling.
    msg = message_from_bytes(_source_bytes(raw), policy=policy.default)
    if not isinstance(msg, EmailMessage) or not msg.get("From"):
        raise PermanentError("email source has no From header")
    return msg


def email_body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError) as exc:
        raise PermanentError(f"email body cannot be decoded: {exc}") from exc
    if part.get_content_type() == "text/html":
        converter = html2text.HTML2Text()
        converter.ignore_images = True
        converter.body_width = 0
        content = _unmarkdown(converter.handle(content))
    return str(content).replace("\r\n", "\n")


# html2text escapes text that would read as markdown ("\-- ", "1\. ", "\-----Original
# Message-----") and ends hard breaks with two spaces. The client wrote plain text, and the
# escapes would hide signature and quote markers from split_reply, so undo both.
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+$", re.MULTILINE)


def _unmarkdown(text: str) -> str:
    return _TRAILING_SPACE_RE.sub("", _MD_ESCAPE_RE.sub(r"\1", text))


_AUTH_RE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_VERDICTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}


def auth_results(msg: EmailMessage) -> AuthResults:
    found: dict[str, str] = {}
    for header in msg.get_all("Authentication-Results", []) or []:
        for method, verdict in _AUTH_RE.findall(str(header)):
            verdict = verdict.lower()
            if verdict in _VERDICTS:
                found.setdefault(method.lower(), verdict)
    return AuthResults.model_validate(found)


_MSGID_RE = re.compile(r"<([^<>]+)>")


def _msgids(value: object) -> list[str]:
    # Ids are <...>: some mailers write References without whitespace between them
    # ("<a@x><b@x>") and old ones append comments to In-Reply-To, so splitting on spaces is
    # not enough. A bare id without brackets is still accepted.
    text = str(value or "")
    ids = [m.strip() for m in _MSGID_RE.findall(text)]
    return [i for i in ids if i] or [t.strip("<>") for t in text.split() if t.strip("<>")]


def _msgid(value: object) -> str | None:
    return next(iter(_msgids(value)), None)


def normalize_email(raw: str) -> Normalized:
    msg = parse_email(raw)
    (display_name, address), *_ = getaddresses([str(msg["From"])]) or [("", "")]
    if "@" not in address:
        raise PermanentError("email From header has no address")
    own_id = (
        _msgid(msg.get("Message-ID")) or "sha256:" + hashlib.sha256(_source_bytes(raw)).hexdigest()
    )
    in_reply_to = _msgid(msg.get("In-Reply-To"))
    references = _msgids(msg.get("References"))
    thread_id = references[0] if references else (in_reply_to or own_id)
    received_at = None
    if msg.get("Date"):
        try:
            received_at = parsedate_to_datetime(str(msg["Date"]))
        except (TypeError, ValueError):
            received_at = None
    fresh, quoted, signature = split_reply(email_body_text(msg))
    sender = SenderIdentifiers(email=address.lower(), display_name=display_name or None)
    return _finish(
        channel="email",
        external_id=own_id,
        sender=sender,
        subject=str(msg.get("Subject") or ""),
        fresh=fresh,
        quoted=quoted,
        signature=signature,
        thread_id=thread_id or own_id,
        in_reply_to=in_reply_to,
        auth=auth_results(msg),
        received_at=received_at,
    )


# --- text channels -------------------------------------------------------------------


def normalize_text_message(inbound: InboundMessage) -> Normalized:
    assert inbound.text is not None and inbound.sender is not None
    external_id = (
        inbound.external_id
        or "sha256:"
        + hashlib.sha256(
            inbound.model_dump_json(exclude={"received_at", "correlation_id"}).encode()
        ).hexdigest()
    )
    sender = SenderIdentifiers(
        email=inbound.sender.email.lower() if inbound.sender.email else None,
        phone=to_e164(inbound.sender.phone) if inbound.sender.phone else None,
        handle=inbound.sender.handle,
        display_name=inbound.sender.display_name,
    )
    fresh, quoted, signature = split_reply(inbound.text)
    return _finish(
        channel=inbound.channel,
        external_id=external_id,
        sender=sender,
        subject=inbound.subject,
        fresh=fresh,
        quoted=quoted,
        signature=signature,
        thread_id=inbound.thread_ref or external_id,
        in_reply_to=None,
        auth=AuthResults(),
        received_at=inbound.received_at,
    )


def normalize(inbound: InboundMessage) -> Normalized:
    if inbound.channel == "email" and inbound.raw_email is not None:
        return normalize_email(inbound.raw_email)
    if inbound.text is None:
        raise PermanentError(f"channel {inbound.channel} needs text")
    return normalize_text_message(inbound)


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
    received_at: datetime | None,
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
        entities=extract_entities(fresh),
        received_at=received_at,
    )


# --- reply structure -----------------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"On .{3,200} wrote:|"
    r".{3,200} (?:пишет|написал|написала|пише|написав|написала):|"
    r"-{2,}\s*(?:Original Message|Исходное сообщение|Forwarded message|Пересылаемое сообщение)"
    r"\s*-{2,}|"
    r"From: .+"
    r")\s*$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|"
    r"з повагою|з найкращими побажаннями|"
    r"best regards|kind regards|regards|sincerely|cheers|thanks and regards)[,.!]?\s*$",
    re.IGNORECASE,
)


def split_reply(body: str) -> tuple[str, str, str]:
    """(new text, quoted history, signature) of a message body."""
    lines = body.replace("\r\n", "\n").split("\n")
    quote_at = len(lines)
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">") or _QUOTE_HEADER.match(line):
            quote_at = i
            break
    head, quoted = lines[:quote_at], lines[quote_at:]
    sign_at = len(head)
    for i, line in enumerate(head):
        if i > 0 and _SIGN_OFF.match(line):
            sign_at = i
            break
    fresh = "\n".join(head[:sign_at]).strip()
    signature = "\n".join(head[sign_at:]).strip()
    return fresh, "\n".join(quoted).strip(), signature


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
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return "unknown", 0.0
    best = values[0]
    return _LINGUA_CODES.get(best.language.name, "unknown"), round(float(best.value), 3)


# --- entities ------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Keywords must start a word: "счёт" inside "расчёт", "order" inside "border" are no keywords.
_WORD_START = r"(?<![^\W\d_])"
_DOCUMENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "invoice",
        re.compile(
            # "лицевой счёт" is an account, not an invoice. A bare "INV-2024-0042" keeps its
            # prefix: the empty keyword only looks ahead, so the number is not cut to "-2024-0042".
            _WORD_START + r"(?<!лицевой )"
            r"(?:сч[её]т[а-я]*|рахун[а-яіїє]*|invoice|inv\.?(?=[\s#№])|(?=inv-?\d))"
            r"\s*(?:№|#|no\.?|n)?\s*([A-ZА-Я]{0,4}-?\d[\w/-]*)",
            re.IGNORECASE,
        ),
    ),
    (
        "contract",
        re.compile(
            _WORD_START + r"(?:договор[а-я]*|догов[іо]р[а-яі]*|contract|agreement)"
            r"\s*(?:№|#|no\.?)?\s*(\d[\w/-]*)",
            re.IGNORECASE,
        ),
    ),
    (
        "order",
        re.compile(
            _WORD_START + r"(?:заказ[а-я]*|замовлення|order)\s*(?:№|#|no\.?)\s*(\d[\w/-]*)", re.I
        ),
    ),
    (
        "account",
        re.compile(
            _WORD_START + r"(?:аккаунт|акаунт|account|лицевой сч[её]т)\s*(?:№|#|id:?)\s*(\w+)",
            re.I,
        ),
    ),
)
# A whole number: thousands groups split by one space ("12 000", "120\u202f000") or by . and
# , ("1,500.00"). Never a newline or ", ", which separate two numbers, and never the tail of
# another number ("2024" of "25.11.2024 500 руб." is no amount).
_NUMBER = r"(?<!\d)(?<!\d[.,])(?:\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+|\d+)(?:[.,]\d+)*"
_MONEY_RE = re.compile(
    r"(?P<pre>[$€£₽₴])[^\S\n]?(?P<num>" + _NUMBER + r")"
    r"|(?P<num2>" + _NUMBER + r")[^\S\n]?"
    # Longest word first, and no letter after it: "500 рублей" is all money, "500 рубашек" none.
    r"(?P<cur>₽|рублей|рубля|руб\.?|гривень|гривен|грн\.?|"
    r"usd|eur|uah|rub|долларов|доларів|\$|€)(?![^\W\d_])",
    re.IGNORECASE,
)
_CURRENCY = {
    "$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "₴": "UAH", "руб": "RUB", "рублей": "RUB",
    "рубля": "RUB", "грн": "UAH", "гривен": "UAH", "гривень": "UAH", "usd": "USD", "eur": "EUR",
    "uah": "UAH", "rub": "RUB", "долларов": "USD", "доларів": "USD",
}  # fmt: skip


def to_e164(raw: str, region: str = "RU") -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def extract_entities(text: str) -> list[Entity]:
    entities: list[Entity] = []
    for m in _EMAIL_RE.finditer(text):
        entities.append(Entity(kind="email", value=m.group().lower(), start=m.start(), end=m.end()))
    for match in phonenumbers.PhoneNumberMatcher(text, "RU"):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        entities.append(Entity(kind="phone", value=e164, start=match.start, end=match.end))
    for kind, pattern in _DOCUMENT_PATTERNS:
        for m in pattern.finditer(text):
            entities.append(
                Entity(kind=kind, value=m.group(1), start=m.start(), end=m.end())  # type: ignore[arg-type]
            )
    for m in _MONEY_RE.finditer(text):
        number = re.sub(r"\s", "", m.group("num") or m.group("num2") or "")
        cur_raw = (m.group("pre") or m.group("cur") or "").lower().rstrip(".")
        currency = _CURRENCY.get(cur_raw, cur_raw.upper())
        entities.append(
            Entity(kind="money", value=f"{number} {currency}", start=m.start(), end=m.end())
        )
    return sorted(entities, key=lambda e: (e.start, e.kind))
