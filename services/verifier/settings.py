"""Verifier settings: evidence weights and thresholds are configuration, not code.

Nested values come from the environment with `__`, e.g. `VERIFIER_WEIGHTS__DOCUMENT=0.7`,
`VERIFIER_MATCHING__NAME_SIMILARITY=90`, or whole as JSON (`VERIFIER_WEIGHTS='{...}'`).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import CarelineSettings


class EvidenceWeights(BaseModel):
    """What each kind of evidence contributes; several combine as 1 - Π(1 - w)."""

    verified_channel: float = Field(0.95, ge=0, le=1)
    unverified_channel: float = Field(0.6, ge=0, le=1)
    corporate_domain: float = Field(0.5, ge=0, le=1)
    # A known address whose email authentication failed is worth this much, and no more.
    failed_authentication: float = Field(0.2, ge=0, le=1)
    # A contract / invoice / account / order number of the customer quoted in the message.
    document: float = Field(0.6, ge=0, le=1)
    # A phone of a contact on file written in the body or the signature.
    mentioned_phone: float = Field(0.45, ge=0, le=1)
    # Names are claims anyone can type: they corroborate, they rarely decide alone.
    # Scaled by the similarity (0..1) of the match.
    signature_name: float = Field(0.3, ge=0, le=1)
    # The writer naming themself in the body ("Меня зовут …"): a signature in other words.
    introduction_name: float = Field(0.3, ge=0, le=1)
    display_name: float = Field(0.25, ge=0, le=1)
    company_name: float = Field(0.3, ge=0, le=1)
    # An address the registered contact disowned, writing again in the client's name: what
    # it is worth (suspicious), however much else it matches.
    denied_before: float = Field(0.05, ge=0, le=1)
    # Another address of the customer disowned lately: the share of confidence it takes off.
    recent_denial: float = Field(0.5, ge=0, le=1)


class MatchingRules(BaseModel):
    """How close a fuzzy match must be, and when two customers are too close to choose."""

    # rapidfuzz scores 0..100 after transliteration to Latin ("Иванов" ~ "Ivanov").
    name_similarity: float = Field(85.0, ge=0, le=100)
    company_similarity: float = Field(90.0, ge=0, le=100)
    # Two customers both above the probable threshold are a conflict unless the best one
    # leads by at least this much confidence.
    conflict_margin: float = Field(0.25, ge=0, le=1)
    # Upper bound on the contacts and customers fetched as name candidates per message.
    max_name_candidates: int = Field(50, ge=1)
    # Upper bound on the pairs of name keys (two words of one line, of its first six)
    # looked up per message, display name first, then the signature's lines in order.
    max_name_pairs: int = Field(32, ge=0, le=200)
    # Upper bound on the company keys (matching.company_keys_in) looked up per message,
    # in the same order.
    max_company_keys: int = Field(48, ge=0, le=400)
    # Lines of the signature read for names and companies.
    signature_lines: int = Field(6, ge=1)
    # Clauses of the body's opening in which the writer says who they are (introductions.py).
    introduction_lines: int = Field(4, ge=0)


class VerifierSettings(CarelineSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    weights: EvidenceWeights = Field(
        default_factory=EvidenceWeights, validation_alias="VERIFIER_WEIGHTS"
    )
    matching: MatchingRules = Field(
        default_factory=MatchingRules, validation_alias="VERIFIER_MATCHING"
    )
    probable_threshold: float = Field(0.4, validation_alias="VERIFIER_PROBABLE_THRESHOLD")
    demo_crm: bool = Field(False, validation_alias="CARELINE_DEMO_CRM")
    # The secret that signs confirmation links and derives confirmation codes. No default:
    # without it the verifier decides identities but starts no confirmation loop.
    confirmation_secret: SecretStr | None = Field(
        None, validation_alias="CARELINE_CONFIRMATION_SECRET"
    )
    # Where the signed link points: "{base}/{token}"; none means code-by-reply only.
    confirmation_base_url: str | None = Field(
        None, validation_alias="VERIFIER_CONFIRMATION_BASE_URL"
    )
    confirmation_ttl_hours: float = Field(72.0, gt=0, validation_alias="VERIFIER_CONFIRMATION_TTL")
    # How long a denial is remembered: that address is suspicious, another one less sure.
    denial_memory_days: float = Field(30.0, gt=0, validation_alias="VERIFIER_DENIAL_MEMORY")
    # How often pending confirmations past their expiry are expired and announced.
    expiry_sweep_seconds: float = Field(30.0, gt=0, validation_alias="VERIFIER_EXPIRY_SWEEP")
    # Query an external CRM over HTTP instead of the Postgres mirror (see docs/crm.md).
    crm_url: str | None = Field(None, validation_alias="VERIFIER_CRM_URL")
    crm_timeout_seconds: float = Field(5.0, gt=0, validation_alias="VERIFIER_CRM_TIMEOUT")

    @property
    def confirmation_ttl(self) -> timedelta:
        return timedelta(hours=self.confirmation_ttl_hours)

    @property
    def denial_memory(self) -> timedelta:
        return timedelta(days=self.denial_memory_days)
