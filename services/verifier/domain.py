"""Identity decisions: who is speaking, how sure we are, what a reply may disclose. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from shared.contracts import (
    AuthResults,
    ChannelRef,
    CustomerRef,
    Evidence,
    Identity,
    Party,
    StaffRef,
)

from .settings import EvidenceWeights

_DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    lines = (_DATA / "free_mail_domains.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


@dataclass(frozen=True)
class ChannelMatch:
    customer_id: str
    contact_id: str
    contact_name: str
    kind: str
    verified: bool


@dataclass(frozen=True)
class CustomerFacts:
    customer: CustomerRef
    account_manager: StaffRef | None
    authorized_channels: tuple[ChannelRef, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Candidate:
    """What the CRM said about a sender: filled by the service, decided on here."""

    channel_matches: tuple[ChannelMatch, ...] = ()
    domain: str | None = None
    domain_customers: tuple[str, ...] = ()


def email_domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].lower()


def is_corporate(domain: str | None) -> bool:
    return bool(domain) and domain not in free_mail_domains()


def _auth_failed(auth: AuthResults) -> list[str]:
    return [name for name in ("dmarc", "spf") if getattr(auth, name) == "fail"]


def decide_identity(
    candidate: Candidate,
    auth: AuthResults,
    facts: dict[str, CustomerFacts],
    weights: EvidenceWeights,
    probable_threshold: float,
) -> Identity:
    """The ladder: exact verified channel > channel on file > corporate domain > nothing."""
    evidence: list[Evidence] = []
    matches = candidate.channel_matches
    customers = sorted({m.customer_id for m in matches})
    if len(customers) > 1:
        evidence += [_channel_evidence(m, weights) for m in matches]
        return Identity(status="conflict", confidence=0.0, evidence=evidence, disclosure="none")

    if matches:
        best = max(matches, key=lambda m: m.verified)
        evidence.append(_channel_evidence(best, weights))
        customer = facts.get(best.customer_id)
        failed = _auth_failed(auth) if best.kind == "email" else []
        contact = Party(id=best.contact_id, name=best.contact_name)
        if failed:
            evidence.append(
                Evidence(
                    kind="authentication_failed",
                    detail=f"{', '.join(failed).upper()} failed for a known address: "
                    "possible spoofing",
                    weight=weights.failed_authentication - evidence[0].weight,
                    source="email.Authentication-Results",
                )
            )
            return _identity(
                "suspicious", weights.failed_authentication, customer, contact, evidence, "none"
            )
        if best.verified:
            return _identity(
                "verified", weights.verified_channel, customer, contact, evidence, "account"
            )
        return _identity(
            "probable", weights.unverified_channel, customer, contact, evidence, "general"
        )

    if is_corporate(candidate.domain) and candidate.domain_customers:
        if len(candidate.domain_customers) > 1:
            evidence += [
                Evidence(
                    kind="corporate_domain",
                    detail=f"domain {candidate.domain} belongs to customer {cid}",
                    weight=weights.corporate_domain,
                    source="sender.email",
                )
                for cid in candidate.domain_customers
            ]
            return Identity(status="conflict", confidence=0.0, evidence=evidence)
        cid = candidate.domain_customers[0]
        evidence.append(
            Evidence(
                kind="corporate_domain",
                detail=f"sender's domain {candidate.domain} is the corporate domain of "
                f"customer {cid}; the address itself is not on file",
                weight=weights.corporate_domain,
                source="sender.email",
            )
        )
        if weights.corporate_domain >= probable_threshold:
            return _identity(
                "probable", weights.corporate_domain, facts.get(cid), None, evidence, "general"
            )

    if candidate.domain and not is_corporate(candidate.domain):
        evidence.append(
            Evidence(
                kind="free_mail_domain",
                detail=f"{candidate.domain} is a public mail provider: proves no company",
                weight=0.0,
                source="sender.email",
            )
        )
    if not evidence:
        # "Unknown" is a decision too: say what was looked for, so the reason is never empty.
        evidence.append(
            Evidence(
                kind="no_match",
                detail="no channel on file and no customer's corporate domain matches the sender",
                weight=0.0,
                source="crm",
            )
        )
    return Identity(status="unknown", confidence=0.0, evidence=evidence, disclosure="none")


def _channel_evidence(match: ChannelMatch, weights: EvidenceWeights) -> Evidence:
    state = "verified" if match.verified else "unverified"
    return Evidence(
        kind=f"{state}_channel",
        detail=f"sender {match.kind} is on file as a {state} channel of contact {match.contact_id} "
        f"of customer {match.customer_id}",
        weight=weights.verified_channel if match.verified else weights.unverified_channel,
        source=f"sender.{match.kind}",
    )


def _identity(
    status: str,
    confidence: float,
    facts: CustomerFacts | None,
    contact: Party | None,
    evidence: list[Evidence],
    disclosure: str,
) -> Identity:
    return Identity(
        status=status,  # type: ignore[arg-type]
        confidence=confidence,
        customer=facts.customer if facts else None,
        contact=contact,
        account_manager=facts.account_manager if facts else None,
        authorized_channels=list(facts.authorized_channels) if facts else [],
        disclosure=disclosure,  # type: ignore[arg-type]
        evidence=evidence,
    )
