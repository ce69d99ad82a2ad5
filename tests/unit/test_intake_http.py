"""POST /v1/inbound/{channel} in-process: the real routes, a recording publisher."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest
from pydantic import SecretStr

from services.intake.api import inbound_routes
from services.intake.service import normalized_event
from shared.contracts import InboundMessage, derived_id
from shared.http import build_http_app

pytestmark = pytest.mark.unit

TOKEN = "token-of-the-chat-widget"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2024, 11, 25, 12, 0, tzinfo=UTC)
LIMIT = 4096


@dataclass
class RecordingPublisher:
    """Keeps what was published, de-duplicating by message id like JetStream does."""

    published: list[tuple[InboundMessage, str, str]] = field(default_factory=list)

    async def __call__(self, message: InboundMessage, message_id: str, publisher: str) -> bool:
        duplicate = any(mid == message_id for _, mid, _ in self.published)
        if not duplicate:
            self.published.append((message, message_id, publisher))
        return duplicate


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
async def client(publisher: RecordingPublisher) -> AsyncIterator[httpx.AsyncClient]:
    routes = inbound_routes(
        {"chat-widget": SecretStr(TOKEN), "mail-gateway": SecretStr("other-token")},
        LIMIT,
        normalized_event,
        publisher,
        lambda: NOW,
    )
    transport = httpx.ASGITransport(app=build_http_app(routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


CHAT = {"sender": {"handle": "@olena_kvitka"}, "text": "Подам на вас до суду!", "external_id": "c1"}


async def test_accepted_message_gets_202_and_the_id_the_consumer_will_use(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    response = await client.post("/v1/inbound/chat", json=CHAT, headers=AUTH)

    assert response.status_code == 202
    body = response.json()
    assert body["message_id"] == str(derived_id("message", "chat", "c1"))
    assert body["duplicate"] is False
    ((message, message_id, who),) = publisher.published
    assert message.channel == "chat" and message.text == CHAT["text"]
    assert message_id == body["message_id"] and who == "chat-widget"


async def test_the_same_message_twice_is_one_message(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    without_id = {k: v for k, v in CHAT.items() if k != "external_id"}
    first = await client.post("/v1/inbound/chat", json=without_id, headers=AUTH)
    second = await client.post("/v1/inbound/chat", json=without_id, headers=AUTH)

    assert first.json()["message_id"] == second.json()["message_id"]
    assert second.json()["duplicate"] is True
    assert len(publisher.published) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "unknown-token", "not-bearer"],
)
async def test_without_a_publisher_token_it_is_401(
    client: httpx.AsyncClient, publisher: RecordingPublisher, headers: dict[str, str]
) -> None:
    response = await client.post("/v1/inbound/chat", json=CHAT, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert publisher.published == []


def problem_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("https://")
    return body


async def test_unknown_channel_is_404_problem(client: httpx.AsyncClient) -> None:
    body = problem_of(await client.post("/v1/inbound/fax", json=CHAT, headers=AUTH), 404)
    assert "fax" in body["detail"]


async def test_get_is_405_problem(client: httpx.AsyncClient) -> None:
    problem_of(await client.get("/v1/inbound/chat", headers=AUTH), 405)


async def test_body_over_the_limit_is_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    big = {**CHAT, "text": "а" * LIMIT}
    body = problem_of(await client.post("/v1/inbound/chat", json=big, headers=AUTH), 413)
    assert str(LIMIT) in body["detail"]


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    response = await client.post(
        "/v1/inbound/chat",
        content=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    problem_of(response, 413)


async def test_wrong_media_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/inbound/chat", content=b"<p>hi</p>", headers={**AUTH, "Content-Type": "text/html"}
    )
    assert "application/json" in problem_of(response, 415)["detail"]


@pytest.mark.parametrize(
    ("content", "detail"),
    [(b"{not json", "not JSON"), (b'{"text": "\xff\xfe"}', "not UTF-8"), (b"", "not JSON")],
    ids=["broken-json", "not-utf8", "empty"],
)
async def test_unreadable_body_is_400(
    client: httpx.AsyncClient, content: bytes, detail: str
) -> None:
    response = await client.post(
        "/v1/inbound/chat", content=content, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert detail in problem_of(response, 400)["detail"]


async def test_schema_violation_is_422_with_pointers(client: httpx.AsyncClient) -> None:
    payload = {"sender": {"handle": "@a"}, "text": "hi", "colour": "red", "received_at": "soon"}
    body = problem_of(await client.post("/v1/inbound/chat", json=payload, headers=AUTH), 422)

    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/colour", "/received_at"} <= pointers


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ([1, 2], "JSON object"),
        ({**CHAT, "channel": "email"}, "does not match"),
        ({"sender": {"handle": "@a"}, "text": "   "}, "schema"),
        ({"raw_email": "Subject: no sender\n\nhello"}, "From header"),
    ],
    ids=["array", "channel-mismatch", "blank-text", "email-without-from"],
)
async def test_valid_json_intake_cannot_normalize_is_422(
    client: httpx.AsyncClient, payload: object, detail: str
) -> None:
    channel = "email" if isinstance(payload, dict) and "raw_email" in payload else "chat"
    response = await client.post(f"/v1/inbound/{channel}", json=payload, headers=AUTH)
    assert detail in problem_of(response, 422)["detail"]


def koi8_source() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Пётр <petr@example.ru>"
    msg["Subject"] = "Счёт"
    msg["Message-ID"] = "<koi8-http@example.ru>"
    msg.set_content("Счёт 4512 оплачен, доступ закрыт.\n", charset="koi8-r", cte="8bit")
    return msg.as_bytes()


async def test_raw_rfc822_source_in_a_legacy_charset_is_accepted(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    source = koi8_source()
    response = await client.post(
        "/v1/inbound/email", content=source, headers={**AUTH, "Content-Type": "message/rfc822"}
    )

    assert response.status_code == 202, response.text
    assert response.json()["message_id"] == str(
        derived_id("message", "email", "koi8-http@example.ru")
    )
    ((message, _, _),) = publisher.published
    assert message.raw_email is None
    assert base64.b64decode(message.raw_email_base64 or "") == source


async def test_webhook_json_email_is_accepted(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    payload = {
        "email": {
            "from": "Ivan Petrov <ivan@example.ru>",
            "subject": "Доступ",
            "html": "<p>Доступ <b>закрыт</b></p>",
            "message_id": "<hook-1@example.ru>",
        }
    }
    response = await client.post("/v1/inbound/email", json=payload, headers=AUTH)

    assert response.status_code == 202, response.text
    uuid.UUID(response.json()["message_id"])
    assert publisher.published[0][0].email is not None
