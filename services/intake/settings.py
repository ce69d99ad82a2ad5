"""Intake's own settings: the HTTP front door's publishers and limits, the entity patterns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

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
    # The authserv-ids of our own border MTA (comma-separated, any case): only an
    # Authentication-Results header one of them wrote is believed (RFC 8601 section 5), since
    # a sender can write any such header into its mail. Unset: none is, every email reads as
    # unauthenticated (`careline up` sets the demo's id, shared.settings.DEMO_AUTHSERV_ID).
    authserv_ids: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias="CARELINE_INTAKE_AUTHSERV_IDS"
    )

    @field_validator("authserv_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(str(v).strip().lower() for v in value if str(v).strip())
        return value
