"""SMTP delivery (aiosmtplib) and the notifier's tables (schema `notifier`)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import UUID

from shared.errors import PermanentError, RetryableError
from shared.outbox import processed_table
from shared.settings import SmtpSettings

metadata = MetaData(schema="notifier")
notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", UUID(as_uuid=True), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False),
    Column("escalation_id", UUID(as_uuid=True)),
    Column("kind", String, nullable=False),
    Column("recipient_role", String, nullable=False),
    Column("recipient", String, nullable=False),
    Column("status", String, nullable=False),
    Column("provider_message_id", String),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)
processed = processed_table(metadata)


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> str:
        s = self.settings
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
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentError("SMTP refused every recipient") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentError(f"SMTP refused with {exc.code}") from exc
            raise RetryableError(f"SMTP temporary failure {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryableError(f"SMTP unavailable: {type(exc).__name__}") from exc
        return str(message["Message-ID"])
