"""Escalator settings: the shared ones plus where the routing policy lives."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import CarelineSettings

from .policy import POLICY_PATH


class EscalatorSettings(CarelineSettings):
    policy_path: Path = Field(POLICY_PATH, validation_alias="ESCALATOR_POLICY")
    # How often the deadline sweeper looks for missed acknowledgement deadlines, and how
    # many escalations it climbs per transaction.
    sweep_seconds: float = Field(5.0, validation_alias="ESCALATOR_SWEEP_SECONDS", gt=0)
    sweep_batch: int = Field(50, validation_alias="ESCALATOR_SWEEP_BATCH", ge=1)
