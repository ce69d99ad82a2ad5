"""Settings every service shares; each service extends them with its own."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Embedded defaults: where `careline up` puts its servers when nothing is configured.
DEFAULT_NATS_PORT = 14222
DEFAULT_PG_PORT = 15432
DEFAULT_SMTP_PORT = 12525
DEFAULT_NATS_URL = f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
DEFAULT_DATABASE_URL = f"postgresql+asyncpg://careline@127.0.0.1:{DEFAULT_PG_PORT}/careline"


class CarelineSettings(BaseSettings):
    """Read from the environment (NATS_URL, DATABASE_URL, SMTP_*, OTEL_*, CARELINE_*)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    nats_url: str = Field(DEFAULT_NATS_URL, validation_alias="NATS_URL")
    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    var_dir: Path = Field(Path("var"), validation_alias="CARELINE_VAR_DIR")
    # Delivery contract of every work-queue consumer.
    max_deliver: int = Field(5, validation_alias="CARELINE_MAX_DELIVER", ge=1)
    ack_wait_seconds: float = Field(30.0, validation_alias="CARELINE_ACK_WAIT", gt=0)
    retry_backoff_seconds: float = Field(1.0, validation_alias="CARELINE_RETRY_BACKOFF", ge=0)
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    @property
    def trace_dir(self) -> Path:
        return self.var_dir / "traces"


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    smtp_host: str = Field("127.0.0.1", validation_alias="SMTP_HOST")
    smtp_port: int = Field(DEFAULT_SMTP_PORT, validation_alias="SMTP_PORT")
    smtp_username: str | None = Field(None, validation_alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, validation_alias="SMTP_PASSWORD")
    smtp_use_tls: bool = Field(False, validation_alias="SMTP_USE_TLS")
    smtp_starttls: bool = Field(False, validation_alias="SMTP_STARTTLS")
    smtp_timeout_seconds: float = Field(10.0, validation_alias="SMTP_TIMEOUT")
    mail_from: str = Field("Careline <support@careline.example>", validation_alias="MAIL_FROM")
