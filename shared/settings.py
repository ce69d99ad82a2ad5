"""Settings every service shares; each service extends them with its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Embedded defaults: where `careline up` puts its servers when nothing is configured.
DEFAULT_NATS_PORT = 14222
DEFAULT_PG_PORT = 15432
DEFAULT_SMTP_PORT = 12525
# The authserv-id `careline up` has intake believe (CARELINE_INTAKE_AUTHSERV_IDS): the one
# the demo stories' and the test fixtures' Authentication-Results carry. There is no MTA in
# the embedded setup, so nothing else writes one; a deployment names its own border MTA's.
DEMO_AUTHSERV_ID = "mx.careline.example"


def embedded_port(variable: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    """The port `careline up` gives an embedded server (CARELINE_NATS_PORT, ...).

    Read by the defaults below too, so a command run beside `careline up` with moved ports
    finds the same servers without NATS_URL or DATABASE_URL.
    """
    return int((os.environ if environ is None else environ).get(variable) or default)


def _embedded_nats_url() -> str:
    return f"nats://127.0.0.1:{embedded_port('CARELINE_NATS_PORT', DEFAULT_NATS_PORT)}"


def _embedded_database_url() -> str:
    port = embedded_port("CARELINE_PG_PORT", DEFAULT_PG_PORT)
    return f"postgresql+asyncpg://careline@127.0.0.1:{port}/careline"


def _embedded_smtp_port() -> int:
    return embedded_port("CARELINE_SMTP_PORT", DEFAULT_SMTP_PORT)


# Each service's HTTP port (health, and intake's POST /v1/inbound/{channel}) when
# CARELINE_HTTP_PORT is not set.
DEFAULT_HTTP_PORTS = {"intake": 18081, "verifier": 18082, "escalator": 18083, "notifier": 18084}


class CarelineSettings(BaseSettings):
    """Read from the environment (NATS_URL, DATABASE_URL, SMTP_*, OTEL_*, CARELINE_*)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    nats_url: str = Field(default_factory=_embedded_nats_url, validation_alias="NATS_URL")
    database_url: str = Field(
        default_factory=_embedded_database_url, validation_alias="DATABASE_URL"
    )
    var_dir: Path = Field(Path("var"), validation_alias="CARELINE_VAR_DIR")
    # Delivery contract of every work-queue consumer.
    max_deliver: int = Field(5, validation_alias="CARELINE_MAX_DELIVER", ge=1)
    ack_wait_seconds: float = Field(30.0, validation_alias="CARELINE_ACK_WAIT", gt=0)
    retry_backoff_seconds: float = Field(1.0, validation_alias="CARELINE_RETRY_BACKOFF", ge=0)
    # Messages a service handles at once: handlers wait on the database most of the time,
    # and idempotency keys plus advisory locks make concurrent handling safe. The use cases
    # of messages handled at once share a transaction (shared.group_commit): at most
    # `batch_size` in one, `batch_concurrency` transactions at a time.
    consumer_workers: int = Field(64, validation_alias="CARELINE_CONSUMER_WORKERS", ge=1)
    batch_size: int = Field(64, validation_alias="CARELINE_BATCH_SIZE", ge=1)
    batch_concurrency: int = Field(2, validation_alias="CARELINE_BATCH_CONCURRENCY", ge=1)
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    # Spans for every SQL statement (inside the consumer span of their message): for
    # looking into the database's share of a trace, at a cost in CPU.
    trace_sql: bool = Field(False, validation_alias="CARELINE_TRACE_SQL")
    # HTTP server of the service: loopback unless told otherwise (a container sets 0.0.0.0);
    # no port means the service's entry in DEFAULT_HTTP_PORTS.
    http_host: str = Field("127.0.0.1", validation_alias="CARELINE_HTTP_HOST")
    http_port: int | None = Field(None, validation_alias="CARELINE_HTTP_PORT", ge=0, le=65535)
    # NATS credentials (deploy/nats/auth.conf gives each service its own user): a user and
    # password, or a creds file (JWT and seed) for operator-mode servers; none when embedded.
    nats_user: str | None = Field(None, validation_alias="NATS_USER")
    nats_password: SecretStr | None = Field(None, validation_alias="NATS_PASSWORD")
    nats_creds: Path | None = Field(None, validation_alias="NATS_CREDS")
    # Replies (JetStream acks, pulled messages) arrive under this prefix; a user may only
    # subscribe to its own, so services cannot read each other's deliveries.
    # Default: _INBOX.<NATS_USER> with a user, else _INBOX.
    nats_inbox_prefix: str | None = Field(None, validation_alias="NATS_INBOX_PREFIX")
    # TLS to NATS: a CA to trust (or tls:// URLs with the system CAs); cert and key for mTLS.
    nats_tls_ca: Path | None = Field(None, validation_alias="NATS_TLS_CA")
    nats_tls_cert: Path | None = Field(None, validation_alias="NATS_TLS_CERT")
    nats_tls_key: Path | None = Field(None, validation_alias="NATS_TLS_KEY")
    # Profile of shared/data/streams.yaml the streams are ensured with (replicas).
    stream_profile: str = Field("embedded", validation_alias="CARELINE_STREAM_PROFILE")
    # Retention (shared.retention, docs/retention.md): how long idempotency keys and other
    # working data are kept (never less than the streams' redelivery needs), how often a
    # service prunes its schema (0: never; `careline prune` runs a pass by hand), and how
    # many rows one short transaction deletes.
    retention_days: float = Field(35.0, validation_alias="CARELINE_RETENTION_DAYS", gt=0)
    # Personal content of the records kept for good (what the client wrote, fact packs,
    # rendered notices) is cut out of them once they are this old; unset keeps it
    # (shared.retention.content_of, docs/retention.md).
    content_days: float | None = Field(None, validation_alias="CARELINE_CONTENT_DAYS", gt=0)
    prune_seconds: float = Field(3600.0, validation_alias="CARELINE_PRUNE_SECONDS", ge=0)
    prune_batch: int = Field(1000, validation_alias="CARELINE_PRUNE_BATCH", ge=1)

    @model_validator(mode="after")
    def _nats_credentials_complete(self) -> CarelineSettings:
        if (self.nats_user is None) != (self.nats_password is None):
            raise ValueError("NATS_USER and NATS_PASSWORD must be set together")
        if self.nats_user is not None and self.nats_creds is not None:
            raise ValueError("set either NATS_USER/NATS_PASSWORD or NATS_CREDS, not both")
        if (self.nats_tls_cert is None) != (self.nats_tls_key is None):
            raise ValueError("NATS_TLS_CERT and NATS_TLS_KEY must be set together")
        return self

    @property
    def inbox_prefix(self) -> str:
        if self.nats_inbox_prefix:
            return self.nats_inbox_prefix
        return f"_INBOX.{self.nats_user}" if self.nats_user else "_INBOX"

    def http_port_of(self, service: str) -> int:
        return self.http_port if self.http_port is not None else DEFAULT_HTTP_PORTS[service]

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @property
    def content_retention(self) -> timedelta | None:
        return None if self.content_days is None else timedelta(days=self.content_days)

    @property
    def trace_dir(self) -> Path:
        return self.var_dir / "traces"


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    smtp_host: str = Field("127.0.0.1", validation_alias="SMTP_HOST")
    smtp_port: int = Field(default_factory=_embedded_smtp_port, validation_alias="SMTP_PORT")
    smtp_username: str | None = Field(None, validation_alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, validation_alias="SMTP_PASSWORD")
    smtp_use_tls: bool = Field(False, validation_alias="SMTP_USE_TLS")
    smtp_starttls: bool = Field(False, validation_alias="SMTP_STARTTLS")
    smtp_timeout_seconds: float = Field(10.0, validation_alias="SMTP_TIMEOUT")
    mail_from: str = Field("Careline <support@careline.example>", validation_alias="MAIL_FROM")
