"""Bad input of any kind is normalized or rejected with a reason, never a crash (hypothesis)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.intake.api import Rejected, inbound_from_body
from services.intake.domain import Normalized, normalize
from shared.contracts import CHANNELS, InboundMessage, SenderIdentifiers
from shared.errors import PermanentError

pytestmark = pytest.mark.unit

NOW = datetime(2024, 11, 25, tzinfo=UTC)
# What a consumer maps to a dead letter (shared.broker): anything else would be a crash loop.
REJECTIONS = (PermanentError, ValidationError, UnicodeDecodeError, ValueError)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

header_names = st.sampled_from(
    ["From", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
     "Content-Transfer-Encoding", "Authentication-Results", "Date", "To", "X-Odd"]
)  # fmt: skip
header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "=?koi8-r?B?8NLJ18XU?= <a@b.ru>",
            "=?utf-8?Q?=D0=9F=D1=80?=",
            "text/plain; charset=x-unknown",
            "text/html; charset=windows-1251",
            "multipart/mixed; boundary=zz",
            "base64",
            "quoted-printable",
            "<a@b>\r\nBcc: victim@example.com",
            "spf=pass dkim=fail dmarc=whatever",
            "<>",
            "@",
        ]
    ),
)
bodies = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    st.just("--zz\r\nContent-Type: text/plain\r\n\r\nhi\r\n--zz--"),
    st.just("> quoted\nanswer\n> more\n-- \nsig"),
)


@st.composite
def email_sources(draw: st.DrawFn) -> str:
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    if draw(st.booleans()):
        headers.insert(0, ("From", draw(header_values)))
    head = "\r\n".join(f"{name}: {value}" for name, value in headers)
    return f"{head}\r\n\r\n{draw(bodies)}"


def outcome(build: object) -> Normalized | Exception:
    try:
        result = build() if callable(build) else build
    except REJECTIONS as exc:
        assert str(exc), "a rejection must say why"
        return exc
    assert isinstance(result, Normalized)
    return result


def assert_well_formed(result: Normalized | Exception) -> None:
    if isinstance(result, Exception):
        return
    assert result.external_id and result.thread_id
    assert result.language in ("ru", "uk", "en", "unknown")
    assert 0.0 <= result.language_confidence <= 1.0
    for entity in result.entities:
        assert 0 <= entity.start < entity.end <= len(result.text)
    if result.sender.email is not None:
        assert result.sender.email == result.sender.email.lower()


@PROPERTY
@given(email_sources())
def test_any_email_source_is_normalized_or_rejected(source: str) -> None:
    result = outcome(lambda: normalize(InboundMessage(channel="email", raw_email=source)))
    assert_well_formed(result)


@pytest.mark.parametrize("source", ["From: :;0\r\n\r\n", "From: undisclosed:;\r\n\r\nhi"])
def test_a_group_where_the_sender_belongs_is_rejected_with_a_reason(source: str) -> None:
    """Found by the property above: the standard library's From parser raises
    AttributeError on a group (a list name with no mailbox) instead of a parse error."""
    result = outcome(lambda: normalize(InboundMessage(channel="email", raw_email=source)))
    assert isinstance(result, Exception) and "From" in str(result)


@PROPERTY
@given(st.binary(max_size=2000))
def test_binary_garbage_as_an_email_is_normalized_or_rejected(data: bytes) -> None:
    encoded = base64.b64encode(data).decode()
    result = outcome(lambda: normalize(InboundMessage(channel="email", raw_email_base64=encoded)))
    assert_well_formed(result)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "channel": st.sampled_from([*CHANNELS, "fax"]),
        "sender": st.fixed_dictionaries(
            {}, optional={k: st.text(max_size=30) for k in ("email", "phone", "handle")}
        ),
        "text": st.text(max_size=200),
        "subject": st.text(max_size=40),
        "external_id": st.text(max_size=20),
        "transcript": st.lists(
            st.fixed_dictionaries({"speaker": st.text(max_size=12), "text": st.text(max_size=50)}),
            max_size=4,
        ),
        "form": st.fixed_dictionaries(
            {"message": st.text(max_size=80)}, optional={"phone": st.text(max_size=20)}
        ),
        "notice": st.fixed_dictionaries(
            {"source": st.text(max_size=10), "event": st.text(max_size=20)}
        ),
        "odd": json_values,
    },
)


@PROPERTY
@given(payloads)
def test_any_json_payload_is_normalized_or_rejected(payload: dict[str, object]) -> None:
    def run() -> Normalized:
        return normalize(InboundMessage.model_validate_json(json.dumps(payload)))

    assert_well_formed(outcome(run))


@PROPERTY
@given(
    st.sampled_from(CHANNELS),
    st.sampled_from(["application/json", "message/rfc822", "text/plain", "image/png", ""]),
    st.one_of(st.binary(max_size=500), payloads.map(lambda p: json.dumps(p).encode())),
)
def test_any_http_body_becomes_a_message_or_a_problem(
    channel: str, content_type: str, body: bytes
) -> None:
    try:
        message = inbound_from_body(channel, content_type, body)
    except Rejected as rejected:
        assert rejected.status in (400, 415, 422) and rejected.detail
        return
    assert message.channel == channel
    assert_well_formed(outcome(lambda: normalize(message)))


@pytest.mark.parametrize(
    "text",
    [
        "Подам на вас до суду 25.11.2024, рахунок № 77",
        "\u202e\u200b\ufeff" * 50,
        "🙂" * 500,
        "a" * 200_000,
        "\x00\x01\x02",
    ],
    ids=["ukrainian", "invisible", "emoji", "long", "control"],
)
def test_valid_but_odd_chat_texts_are_normalized(text: str) -> None:
    message = InboundMessage(channel="chat", sender={"handle": "@odd"}, text=text)  # type: ignore[arg-type]
    result = normalize(message)
    assert result.text == text.strip()
    assert_well_formed(result)


def test_a_display_name_is_one_short_line_whatever_the_channel_sent() -> None:
    # Shown in mail to clients and staff: a line break would let a sender write lines of
    # their own into a genuine notice (a provider's JSON "from", a web form, a chat name).
    forged = SenderIdentifiers(display_name="Ann\r\nНовый код: 000000\n\tАдминистрация")
    assert forged.display_name == "Ann Новый код: 000000 Администрация"
    assert SenderIdentifiers(display_name="  \n ").display_name is None
    assert len(SenderIdentifiers(display_name="Я" * 5000).display_name or "") == 200
