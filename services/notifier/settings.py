"""Notifier settings: the shared ones, SMTP, and the delivery policy of the outbox sender."""

from __future__ import annotations

import json
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from shared.settings import CarelineSettings, SmtpSettings


class WebhookEndpoint(BaseModel):
    """One webhook a notification can be addressed to by name (`channel=webhook`)."""

    url: str
    format: Literal["generic", "slack", "mattermost", "telegram"] = "generic"
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key of the signature.")
    chat_id: str | None = Field(None, description="Telegram chat to post to.")


class NotifierSettings(CarelineSettings, SmtpSettings):
    # Retries of the sender loop: exponential backoff with jitter, at most max_attempts.
    max_attempts: int = Field(6, validation_alias="NOTIFIER_MAX_ATTEMPTS", ge=1)
    retry_base_seconds: float = Field(2.0, validation_alias="NOTIFIER_RETRY_BASE", gt=0)
    retry_cap_seconds: float = Field(600.0, validation_alias="NOTIFIER_RETRY_CAP", gt=0)
    poll_seconds: float = Field(1.0, validation_alias="NOTIFIER_POLL", gt=0)
    # The sender claims up to send_batch due notifications at once and delivers up to
    # send_concurrency of them at a time (as many SMTP sessions, kept open between mails).
    send_batch: int = Field(64, validation_alias="NOTIFIER_BATCH", ge=1)
    send_concurrency: int = Field(16, validation_alias="NOTIFIER_CONCURRENCY", ge=1)
    # Quiet hours for non-urgent client messages, in the client's zone; "" disables them.
    quiet_hours: str = Field("", validation_alias="NOTIFIER_QUIET_HOURS", examples=["21:00-08:00"])
    client_timezone: str = Field("Europe/Moscow", validation_alias="NOTIFIER_CLIENT_TIMEZONE")
    # "count/seconds" per recipient; "" means no limit. Staff get no limit by default so
    # that an incident storm still reaches them; clients are protected from floods.
    client_rate_limit: str = Field("5/3600", validation_alias="NOTIFIER_CLIENT_RATE_LIMIT")
    staff_rate_limit: str = Field("", validation_alias="NOTIFIER_STAFF_RATE_LIMIT")
    message_id_domain: str = Field("careline.local", validation_alias="NOTIFIER_MESSAGE_ID_DOMAIN")
    # Where a client can opt out of non-essential mail (List-Unsubscribe), if anywhere.
    unsubscribe_mailto: str | None = Field(None, validation_alias="NOTIFIER_UNSUBSCRIBE_MAILTO")
    unsubscribe_url: str | None = Field(None, validation_alias="NOTIFIER_UNSUBSCRIBE_URL")
    webhooks: dict[str, WebhookEndpoint] = Field(
        default_factory=dict,
        validation_alias="NOTIFIER_WEBHOOKS",
        description='JSON: {"name": {"url": ..., "format": "slack", "secret": ...}}',
    )
    webhook_timeout_seconds: float = Field(10.0, validation_alias="NOTIFIER_WEBHOOK_TIMEOUT")

    @field_validator("webhooks", mode="before")
    @classmethod
    def _parse_webhooks(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("client_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _windows(self) -> NotifierSettings:
        parse_quiet_hours(self.quiet_hours)
        parse_rate_limit(self.client_rate_limit)
        parse_rate_limit(self.staff_rate_limit)
        return self


def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """'21:00-08:00' -> (21:00, 08:00); '' -> None."""
    if not spec.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-", 1))
    except ValueError as exc:
        raise ValueError(f"quiet hours must look like 21:00-08:00, not {spec!r}") from exc
    if start == end:
        raise ValueError("quiet hours must not start and end at the same time")
    return start, end


def parse_rate_limit(spec: str) -> tuple[int, float] | None:
    """'5/3600' -> (5 messages, 3600 seconds); '' -> None."""
    if not spec.strip():
        return None
    try:
        count, seconds = spec.split("/", 1)
        limit = (int(count), float(seconds))
    except ValueError as exc:
        raise ValueError(f"a rate limit looks like 5/3600, not {spec!r}") from exc
    if limit[0] < 1 or limit[1] <= 0:
        raise ValueError(f"a rate limit needs a positive count and window: {spec!r}")
    return limit
