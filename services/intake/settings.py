"""Intake's own settings: the HTTP front door's publishers and limits, the entity patterns."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import CarelineSettings

from .entities import ENTITIES_FILE


class IntakeSettings(CarelineSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    # Publisher name -> bearer token, as JSON: {"mail-gateway": "...", "chat-widget": "..."}.
    # No default: without it POST /v1/inbound/{channel} answers 401 to everyone.
    http_tokens: dict[str, SecretStr] = Field(
        default_factory=dict, validation_alias="CARELINE_INTAKE_TOKENS"
    )
    # Below NATS's default max_payload (1 MiB), which a published message must fit in.
    http_max_body_bytes: int = Field(
        900_000, validation_alias="CARELINE_INTAKE_MAX_BODY", gt=0, le=64 * 1024 * 1024
    )
    entities_path: Path = Field(ENTITIES_FILE, validation_alias="CARELINE_INTAKE_ENTITIES")
