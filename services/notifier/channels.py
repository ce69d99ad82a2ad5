"""Delivery channels: SMTP (aiosmtplib) and signed webhooks (httpx), behind `ports.Channel`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from datetime import datetime
from email.message import Message

import aiosmtplib
import httpx

from shared.errors import PermanentError
from shared.settings import SmtpSettings

from .mime import Unsubscribe, build_email
from .ports import Delivery, NoChannel, ReceiverRefused, TemporaryFailure
from .settings import WebhookEndpoint
from .webhooks import encode, payload, signed_headers


class EmailChannel:
    """Mail over SMTP; the sessions stay open between mails (see `SmtpSessions`)."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        message_id_domain: str = "careline.local",
        unsubscribe: Unsubscribe = Unsubscribe(),
    ) -> None:
        self.settings = settings
        self.message_id_domain = message_id_domain
        self.unsubscribe = unsubscribe
        self.sessions = SmtpSessions(settings)

    async def deliver(self, delivery: Delivery) -> str:
        message = build_email(
            delivery.cmd,
            delivery.rendered,
            self.settings.mail_from,
            created_at=delivery.dated,
            message_id_domain=self.message_id_domain,
            unsubscribe=self.unsubscribe,
        )
        try:
            await self.sessions.send(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise ReceiverRefused(f"SMTP refused the recipient ({codes[0]})") from exc
            raise TemporaryFailure(f"SMTP deferred the recipient ({codes})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise ReceiverRefused(f"SMTP refused with {exc.code}") from exc
            raise TemporaryFailure(f"SMTP temporary failure {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP unavailable: {type(exc).__name__}") from exc
        return str(message["Message-ID"])

    async def close(self) -> None:
        await self.sessions.close()


# A session idle longer than this is closed rather than reused: servers drop idle clients
# (RFC 5321 lets them after 5 minutes), and a fresh one costs less than a failed first try.
SMTP_IDLE_SECONDS = 60.0


class SmtpSessions:
    """SMTP sessions kept open between mails: a connection, greeting, EHLO, STARTTLS and
    login per session instead of per mail. A mail takes an idle session or opens one.

    A session in which the server answered (a refusal, a temporary failure) is reset by
    aiosmtplib and kept, unless the server said it is closing (421). A session that failed
    otherwise is closed. A kept session found dead when used (the server dropped it while
    idle) is replaced, and the mail sent again at once on a new one, with the same
    Message-ID as any re-send.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._local_hostname: str | None = None

    async def send(self, message: Message) -> None:
        client = self._take()
        if client is not None:
            try:
                await self._send_on(client, message)
                return
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                pass  # dropped while idle (and closed): send on a new session below
        await self._send_on(await self._open(), message)

    async def _send_on(self, client: aiosmtplib.SMTP, message: Message) -> None:
        try:
            await client.send_message(message)
        except BaseException as exc:
            self._after_failure(client, exc)
            raise
        self._keep(client)

    def _take(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < SMTP_IDLE_SECONDS:
                return client
            client.close()
        return None

    def _keep(self, client: aiosmtplib.SMTP) -> None:
        self._idle.append((client, time.monotonic()))

    def _after_failure(self, client: aiosmtplib.SMTP, exc: BaseException) -> None:
        answered = isinstance(exc, aiosmtplib.SMTPRecipientsRefused) or (
            isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code != 421
        )
        if answered and client.is_connected:
            self._keep(client)
        else:
            client.close()

    async def _open(self) -> aiosmtplib.SMTP:
        s = self.settings
        if self._local_hostname is None:
            # The name we greet the server with (EHLO); aiosmtplib would look it up in a
            # thread for every session otherwise.
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
            local_hostname=self._local_hostname,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _ in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
            client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        try:  # Telegram says it in the body: {"parameters": {"retry_after": 5}}
            return float(response.json()["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class WebhookChannel:
    """POSTs the JSON of the endpoint's format, signed with HMAC-SHA256 and a timestamp."""

    def __init__(
        self,
        endpoints: dict[str, WebhookEndpoint],
        clock: Callable[[], datetime],
        timeout_seconds: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self.timeout = timeout_seconds
        self.transport = transport

    def knows(self, name: str) -> bool:
        return name in self.endpoints

    async def deliver(self, delivery: Delivery) -> str:
        endpoint = self.endpoints.get(delivery.cmd.recipient)
        if endpoint is None:
            raise NoChannel("no webhook endpoint of that name is configured")
        try:
            body = encode(
                payload(endpoint.format, delivery.cmd, delivery.rendered, endpoint.chat_id)
            )
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc
        secret = endpoint.secret.get_secret_value() if endpoint.secret else None
        headers = signed_headers(secret, body, self.clock(), delivery.idempotency_key)
        headers["X-Careline-Notification-Id"] = str(delivery.cmd.notification_id)
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
                response = await http.post(endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"webhook unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status in (408, 425, 429) or status >= 500:
            raise TemporaryFailure(f"webhook answered {status}", _retry_after(response))
        if status >= 400:
            raise ReceiverRefused(f"webhook refused with {status}")
        return response.headers.get("X-Request-Id") or delivery.idempotency_key
