"""Escalator settings: the shared ones plus where the routing policy lives."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import CarelineSettings

from .policy import POLICY_PATH


class EscalatorSettings(CarelineSettings):
    policy_path: Path = Field(POLICY_PATH, validation_alias="ESCALATOR_POLICY")
