"""Verifier settings: evidence weights and thresholds are configuration, not code."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import CarelineSettings


class EvidenceWeights(BaseModel):
    verified_channel: float = 0.95
    unverified_channel: float = 0.6
    corporate_domain: float = 0.5
    # A known address whose email authentication failed is worth this much, and no more.
    failed_authentication: float = 0.2


class VerifierSettings(CarelineSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    weights: EvidenceWeights = Field(
        default_factory=EvidenceWeights, validation_alias="VERIFIER_WEIGHTS"
    )
    probable_threshold: float = Field(0.4, validation_alias="VERIFIER_PROBABLE_THRESHOLD")
    demo_crm: bool = Field(False, validation_alias="CARELINE_DEMO_CRM")
