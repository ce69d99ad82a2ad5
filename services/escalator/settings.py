"""Escalator settings: the shared ones plus where the routing policy lives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from shared.settings import CarelineSettings

from .policy import POLICY_PATH


class EscalatorSettings(CarelineSettings):
    policy_path: Path = Field(POLICY_PATH, validation_alias="ESCALATOR_POLICY")
    # How often the deadline sweeper looks for missed acknowledgement deadlines, and how
    # many escalations it climbs per transaction.
    sweep_seconds: float = Field(1.0, validation_alias="ESCALATOR_SWEEP_SECONDS", gt=0)
    sweep_batch: int = Field(50, validation_alias="ESCALATOR_SWEEP_BATCH", ge=1)
    # Signs the one-click acknowledge links in staff notifications. No default: without it
    # (or without the public base URL of the escalator's HTTP side) notifications carry none.
    link_secret: SecretStr | None = Field(None, validation_alias="ESCALATOR_LINK_SECRET")
    link_base_url: str | None = Field(None, validation_alias="ESCALATOR_LINK_BASE_URL")
    link_ttl_hours: float = Field(72.0, gt=0, validation_alias="ESCALATOR_LINK_TTL_HOURS")
    # The subject history is kept for the policy's longest look-back plus this margin
    # (services/escalator/retention.py).
    history_margin_days: float = Field(14.0, ge=0, validation_alias="ESCALATOR_HISTORY_MARGIN_DAYS")
    # The statistical second opinion (detection/statistical.py): asserts a signal the lexicon
    # missed when its probability reaches the threshold; never withdraws the lexicon's.
    second_opinion: bool = Field(True, validation_alias="ESCALATOR_SECOND_OPINION")
    second_opinion_threshold: float = Field(
        # statistical.THRESHOLD, written out: settings must not load numpy and the model
        0.6,
        gt=0,
        le=1,
        validation_alias="ESCALATOR_SECOND_OPINION_THRESHOLD",
    )

    @property
    def history_margin(self) -> timedelta:
        return timedelta(days=self.history_margin_days)

    @property
    def link_ttl(self) -> timedelta:
        return timedelta(hours=self.link_ttl_hours)
