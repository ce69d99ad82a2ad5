"""Delivery channels: SMTP (aiosmtplib) and signed webhooks (httpx), behind `ports.Channel`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import datetime

import aiosmtplib
import httpx

from shared.errors import PermanentError
from shared.settings import SmtpSettings

from .mime import Unsubscribe, build_email
from .ports import Delivery, TemporaryFailure
from .settings import WebhookEndpoint
from .webhooks import encode, payload, signed_headers


class EmailChannel:
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
        self._local_hostname: str | None = None

    async def deliver(self, delivery: Delivery) -> str:
        s = self.settings
        if self._local_hostname is None:
            # The name we greet the server with (EHLO); aiosmtplib would look it up in a
            # thread for every mail otherwise.
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        message = build_email(
            delivery.cmd,
            delivery.rendered,
            s.mail_from,
            created_at=delivery.created_at,
            message_id_domain=self.message_id_domain,
            unsubscribe=self.unsubscribe,
        )
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_use_tls,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
                local_hostname=self._local_hostname,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise PermanentError(f"SMTP refused the recipient ({codes[0]})") from exc
            raise TemporaryFailure(f"SMTP deferred the recipient ({codes})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentError(f"SMTP refused with {exc.code}") from exc
            raise TemporaryFailure(f"SMTP temporary failure {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP unavailable: {type(exc).__name__}") from exc
        return str(message["Message-ID"])


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
            raise PermanentError("no webhook endpoint of that name is configured")
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
            raise PermanentError(f"webhook refused with {status}")
        return response.headers.get("X-Request-Id") or delivery.idempotency_key
