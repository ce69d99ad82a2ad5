"""POST /v1/inbound/{channel}: the front door for systems that cannot speak NATS.

A request is checked exactly as the NATS consumer checks a message (the contract, then the
normalization itself), so what is accepted here is what the consumer will accept; then it is
published on inbound.<channel> with the message id as Nats-Msg-Id and takes the same path
as any other inbound message. The answer is 202 with the message id, or an RFC 9457 problem
naming what is wrong: 401 (token), 404 (channel), 413 (size), 415 (media type), 400 (not
JSON, not UTF-8), 422 (valid JSON that is not a message intake can normalize).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import anyio
from faststream.nats import NatsBroker
from nats.errors import MaxPayloadError
from pydantic import SecretStr, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shared.contracts import CHANNELS, InboundMessage, MessageNormalized
from shared.errors import PermanentError
from shared.http import problem
from shared.subjects import STREAM_INBOUND, inbound

log = logging.getLogger(__name__)

RFC822_TYPES = ("message/rfc822", "text/plain")


@dataclass(frozen=True)
class Rejected(Exception):
    """Why a request is refused: the HTTP status and the problem's title and detail."""

    status: int
    title: str
    detail: str
    errors: tuple[dict[str, str], ...] = ()

    def response(self, instance: str) -> Response:
        extra: dict[str, object] = {"instance": instance}
        if self.errors:
            extra["errors"] = list(self.errors)
        if self.status == 401:
            extra["headers"] = {"WWW-Authenticate": 'Bearer realm="careline-intake"'}
        return problem(self.status, self.title, self.detail, **extra)


def publisher_of(authorization: str | None, tokens: Mapping[str, SecretStr]) -> str:
    """The publisher whose bearer token this is; compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejected(401, "Unauthorized", "send Authorization: Bearer <publisher token>")
    found = None
    for name, secret in tokens.items():
        if hmac.compare_digest(token.strip().encode(), secret.get_secret_value().encode()):
            found = name
    if found is None:
        raise Rejected(401, "Unauthorized", "the bearer token is not a known publisher's")
    return found


def inbound_from_body(channel: str, content_type: str, body: bytes) -> InboundMessage:
    """The InboundMessage a request body stands for, or Rejected with the reason."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if channel == "email" and media_type in RFC822_TYPES:
        if not body.strip():
            raise Rejected(400, "Bad Request", "the email source is empty")
        try:
            return InboundMessage(channel="email", raw_email=body.decode("utf-8"))
        except UnicodeDecodeError:  # 8-bit legacy charset: carried losslessly as base64
            return InboundMessage(
                channel="email", raw_email_base64=base64.b64encode(body).decode("ascii")
            )
    if media_type != "application/json" and not media_type.endswith("+json"):
        accepted = "application/json" + (" or message/rfc822" if channel == "email" else "")
        raise Rejected(415, "Unsupported Media Type", f"send {accepted}, not {media_type!r}")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Rejected(400, "Bad Request", f"the body is not UTF-8: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise Rejected(400, "Bad Request", f"the body is not JSON: {exc.msg} at {exc.pos}") from exc
    if not isinstance(data, dict):
        raise Rejected(422, "Unprocessable Content", "the body must be a JSON object")
    data.setdefault("channel", channel)
    if data["channel"] != channel:
        raise Rejected(
            422,
            "Unprocessable Content",
            f"payload channel {data['channel']!r} does not match the URL's channel {channel!r}",
        )
    try:
        return InboundMessage.model_validate(data)
    except ValidationError as exc:
        errors = tuple(
            {"pointer": "/" + "/".join(str(p) for p in err["loc"]), "detail": err["msg"]}
            for err in exc.errors()
        )
        raise Rejected(
            422, "Unprocessable Content", "the message does not match its schema", errors
        ) from exc


Normalizer = Callable[[InboundMessage, datetime], MessageNormalized]
Publish = Callable[[InboundMessage, str, str], Awaitable[bool]]


async def accept_over_http(
    channel: str,
    content_type: str,
    body: bytes,
    normalize: Normalizer,
    publish: Publish,
    now: datetime,
    publisher: str,
) -> tuple[str, bool]:
    """(message id, whether it was a duplicate) of an accepted request; else Rejected."""
    inbound_message = inbound_from_body(channel, content_type, body)
    try:
        # CPU-bound (MIME, HTML, language): off the event loop, like the consumer's work.
        event = await anyio.to_thread.run_sync(normalize, inbound_message, now)
    except (PermanentError, ValueError, LookupError) as exc:
        raise Rejected(422, "Unprocessable Content", f"cannot normalize: {exc}") from exc
    message_id = str(event.message_id)
    duplicate = await publish(inbound_message, message_id, publisher)
    return message_id, duplicate


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "Content Too Large", f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a chunked body that lied or said nothing: stop reading now
            raise Rejected(413, "Content Too Large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def nats_publisher(broker: NatsBroker) -> Publish:
    async def publish(message: InboundMessage, message_id: str, publisher: str) -> bool:
        try:
            ack = await broker.publish(
                message.model_dump_json(exclude_none=True, by_alias=True).encode(),
                inbound(message.channel),
                headers={"Nats-Msg-Id": message_id, "Careline-Publisher": publisher},
                stream=STREAM_INBOUND.name,
            )
        except MaxPayloadError as exc:
            raise Rejected(413, "Content Too Large", "the message exceeds NATS's limit") from exc
        return bool(getattr(ack, "duplicate", False))

    return publish


def inbound_routes(
    tokens: Mapping[str, SecretStr],
    max_body: int,
    normalize: Normalizer,
    publish: Publish,
    clock: Callable[[], datetime],
) -> list[BaseRoute]:
    async def post_inbound(request: Request) -> Response:
        channel = request.path_params["channel"]
        try:
            if channel not in CHANNELS:
                raise Rejected(404, "Not Found", f"no channel {channel!r}; channels: {CHANNELS}")
            publisher = publisher_of(request.headers.get("authorization"), tokens)
            body = await read_limited(request, max_body)
            message_id, duplicate = await accept_over_http(
                channel,
                request.headers.get("content-type", ""),
                body,
                normalize,
                publish,
                clock(),
                publisher,
            )
        except Rejected as rejected:
            log.info("inbound over HTTP rejected (status=%s)", rejected.status)
            return rejected.response(request.url.path)
        except ClientDisconnect:
            return Response(status_code=400)
        return JSONResponse(
            {"message_id": message_id, "status": "accepted", "duplicate": duplicate}, 202
        )

    return [Route("/v1/inbound/{channel}", post_inbound, methods=["POST"])]
