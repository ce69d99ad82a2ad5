"""The routing policy: a declarative rule file mapping signals and identity to escalations.

Rules are data (`data/policy.yaml`), validated at load. `evaluate` is pure: every rule whose
conditions hold yields a Decision that says which rule fired and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.contracts import Identity, IdentityStatus, NotificationKind, Severity, Signal

from .detection import SIGNALS

POLICY_PATH = Path(__file__).parent / "data" / "policy.yaml"
STAFF_ROLES = (
    "account_manager",
    "head_of_support",
    "legal",
    "billing",
    "security",
    "supervisor",
    "deputy",
    "director",
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class When(_Strict):
    any_signals: list[str] = Field(default_factory=list)
    all_signals: list[str] = Field(default_factory=list)
    min_score: float = 0.5
    identity_status: list[IdentityStatus] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)

    @field_validator("any_signals", "all_signals")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - set(SIGNALS))
        if unknown:
            raise ValueError(f"unknown signals {unknown}; known: {list(SIGNALS)}")
        return names

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        if not (self.any_signals or self.all_signals or self.identity_status):
            raise ValueError("a rule needs at least one signal or identity condition")
        return self


class ClientContact(_Strict):
    kind: NotificationKind
    to: Literal["registered_channel", "sender"]


class Rule(_Strict):
    id: str
    when: When
    kind: str
    severity: Severity
    notify: list[str]
    playbook: dict[str, str] = Field(default_factory=dict)
    client_contacts: list[ClientContact] = Field(default_factory=list)

    @field_validator("notify")
    @classmethod
    def _roles(cls, roles: list[str]) -> list[str]:
        unknown = sorted(set(roles) - set(STAFF_ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {list(STAFF_ROLES)}")
        return roles


class Policy(_Strict):
    team_language: Literal["ru", "uk", "en"] = "ru"
    roles: dict[str, str] = Field(description="Staff role -> address (account managers: CRM).")
    ack_deadlines_minutes: dict[Severity, PositiveFloat]
    chains: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Role -> who is told next, level by level, when nobody acknowledges.",
    )
    rules: list[Rule]

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Policy:
        # `careline policy check` asks for every problem, each with where it is.
        if info.context and info.context.get("collect_problems"):
            return self
        problems = consistency_problems(self)
        if problems:
            raise ValueError(problems[0][1])
        return self

    def ack_deadline(self, severity: str) -> timedelta:
        return timedelta(minutes=self.ack_deadlines_minutes[severity])  # type: ignore[index]


Location = tuple[str | int, ...]


def consistency_problems(policy: Policy) -> list[tuple[Location, str]]:
    """What is wrong across fields (where, what): ids, addresses, deadlines, chains."""
    problems: list[tuple[Location, str]] = []
    seen: set[str] = set()
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            problems.append((("rules", i, "id"), f"rule ids must be unique: {rule.id} again"))
        seen.add(rule.id)
        missing = [
            r
            for r in rule.notify
            if r != "account_manager" and not (policy.roles.get(r) or "").strip()
        ]
        if missing:
            where: Location = ("rules", i, "notify")
            problems.append((where, f"rule {rule.id}: no address for roles {missing}"))
        if rule.severity not in policy.ack_deadlines_minutes:
            where = ("rules", i, "severity")
            problems.append(
                (where, f"rule {rule.id}: no ack deadline for severity {rule.severity}")
            )
    for role, chain in policy.chains.items():
        unknown = sorted({role, *chain} - set(STAFF_ROLES))
        if unknown:
            problems.append((("chains", role), f"chain of {role}: unknown roles {unknown}"))
        # Who climbs is told from the policy: the account manager is per customer.
        missing = [r for r in chain if not (policy.roles.get(r) or "").strip()]
        if missing:
            problems.append((("chains", role), f"chain of {role}: no address for roles {missing}"))
    return problems


def parse_policy(text: str) -> Policy:
    return Policy.model_validate(yaml.safe_load(text))


@lru_cache(maxsize=4)
def load_policy(path: Path = POLICY_PATH) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Decision:
    rule: Rule
    signals: tuple[Signal, ...]
    reason: str


def evaluate(policy: Policy, signals: list[Signal], identity: Identity) -> list[Decision]:
    strong = {s.name: s for s in signals}
    tier = identity.customer.tier if identity.customer else None
    decisions = []
    for rule in policy.rules:
        when = rule.when
        present = {n: s for n, s in strong.items() if s.score >= when.min_score}
        matched: list[Signal] = []
        if when.any_signals:
            matched = [present[n] for n in when.any_signals if n in present]
            if not matched:
                continue
        if when.all_signals:
            if not all(n in present for n in when.all_signals):
                continue
            matched += [present[n] for n in when.all_signals if present[n] not in matched]
        if when.identity_status and identity.status not in when.identity_status:
            continue
        if when.tiers and tier not in when.tiers:
            continue
        decisions.append(Decision(rule, tuple(matched), _reason(rule, matched, identity)))
    return decisions


def _reason(rule: Rule, matched: list[Signal], identity: Identity) -> str:
    parts = []
    for signal in matched:
        words = ", ".join(f"«{e.text}»" for e in signal.evidence if not e.rule.startswith("form."))
        parts.append(f"{signal.name} {signal.score:.2f} ({words})")
    who = f"identity {identity.status}"
    if identity.customer:
        who += f" as customer {identity.customer.id} (tier {identity.customer.tier})"
    if identity.evidence:
        who += "; " + "; ".join(e.detail for e in identity.evidence)
    what = "; ".join(parts) if parts else "no threat signals"
    return f"rule {rule.id}: {what}; {who}"
