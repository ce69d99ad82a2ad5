"""The escalation lifecycle's decisions: who may act, and who is told next. Pure functions.

Only the people an escalation notified may act on it, each identified by the role it was
notified as and the address it was notified at. When an acknowledgement deadline passes,
the escalation climbs one level: each role the rule (or a reassignment) notified is
followed by the next role of its chain in the policy (manager -> deputy -> head of support
-> director); roles already told are not told twice, and a level with nobody new is
skipped. A rule may also name roles for a later level itself (`notify: [{role: director,
level: 2}]`): they join that level's climb. When every chain has ended, nothing climbs.

The `deputy` role is the CRM's deputy of the client's account manager when the escalation's
fact pack kept one (`crm.deputy`, facts.fact_pack): the climb tells that person, at their
own address (and so in their language, staff_language.of_escalations), not the policy's
shared deputy address, which stays for clients whose identity had no deputy. A deputy the
escalation's hold spares (a threat named them) is passed over: the climb goes on to the
next role of the chain, and whoever it reaches in their place (its `stand_ins`) reads why,
with the case whose hold spares them (passed_over.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from .passed_over import Sparing, passed_over, sparings_of
from .policy import Policy
from .policy_rules import address_key

Origin = Literal["rule", "climb", "reassigned"]
WEBHOOK_PREFIX = "webhook:"
DEPUTY = "deputy"  # the role the CRM's deputy of the account manager fills
Fallback = TypeVar("Fallback", bound=str | None)


@dataclass(frozen=True)
class Notified:
    """Someone an escalation told, and so someone who may act on it."""

    role: str
    address: str  # email, or webhook:NAME
    level: int
    origin: Origin = "rule"

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "address": self.address,
            "level": self.level,
            "origin": self.origin,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Notified:
        return cls(data["role"], data["address"], int(data["level"]), data.get("origin", "rule"))


@dataclass(frozen=True)
class Escalation:
    """An escalation as the lifecycle sees it (the row, read under a lock)."""

    id: uuid.UUID
    kind: str
    severity: str
    status: str
    level: int
    message_id: uuid.UUID
    correlation_id: str
    ack_deadline: datetime
    climb_due_at: datetime | None
    notified: tuple[Notified, ...]
    briefing: dict[str, Any] = field(default_factory=dict)
    # The rule's roles for later levels (role, level, address), its own minutes to
    # acknowledge (None: the severity's), and its hold as stored.
    planned: tuple[Notified, ...] = ()
    ack_minutes: float | None = None
    hold: dict[str, Any] | None = None
    client_reply_by: datetime | None = None  # what the client was promised, if anything
    promise_to: dict[str, Any] | None = None  # where and how (notifications.promise_contact)
    promises_missed: int = 0  # promises that passed unkept, each put off with a new date
    reopen_count: int = 0
    subject_key: str = ""  # whose history it belongs to (history_store)
    taken_by: str | None = None  # who acknowledged it (an address; a role if none is known)

    @property
    def acknowledged(self) -> bool:
        """Someone has it (`taken_by` says who)."""
        return self.taken_by is not None

    def per_opening(self, *parts: object) -> tuple[object, ...]:
        """The id parts of a step that each opening of the escalation takes anew (a climb
        to level 2, the end of its chain): a reopened escalation starts at level 1 again,
        and its climbs must not take the ids (and so the notices) of the first opening's.
        The first opening's parts are as they always were."""
        return (*parts, "reopened", self.reopen_count) if self.reopen_count else parts


@dataclass(frozen=True)
class Climb:
    level: int
    roles: tuple[str, ...]
    # Of the rule's planned roles, and of the CRM's deputy; the rest: the policy's.
    addresses: dict[str, str] = field(default_factory=dict)
    # The roles told in place of a deputy a hold spares: the climb would not have told them
    # (at this level) had the deputy not been passed over. They read why (passed_over.py).
    stand_ins: tuple[str, ...] = ()


def same_address(a: str, b: str) -> bool:
    return address_key(a) == address_key(b)


def authorize(escalation: Escalation, actor: str, role: str | None) -> Notified | None:
    """The notification that entitles `actor` (as `role`, if given) to act, if any."""
    for notified in escalation.notified:
        if same_address(notified.address, actor) and role in (None, notified.role):
            return notified
    return None


def next_climb(
    policy: Policy, escalation: Escalation, spared: Collection[str] = ()
) -> Climb | None:
    """Who is told when the current level's deadline passes; None when the chains ended.
    `spared`: the staff ids the client's standing holds spare (its other cases' holds too;
    the escalation's own hold counts anyway): a CRM deputy among them is passed over, and
    the roles told in their place are the climb's `stand_ins`."""
    passing_over = deputy_spared(escalation, spared)
    climb = _climb(policy, escalation, spared, passing_over)
    if climb is None or not passing_over:
        return climb
    usual = _climb(policy, escalation, spared, False)
    stand_ins = tuple(
        role
        for role in climb.roles
        if usual is None or usual.level != climb.level or role not in usual.roles
    )
    return replace(climb, stand_ins=stand_ins)


def _climb(
    policy: Policy, escalation: Escalation, spared: Collection[str], passing_over: bool
) -> Climb | None:
    """The next climb, passing over the CRM's deputy when `passing_over` (as if told)."""
    origins = list(dict.fromkeys(n.role for n in escalation.notified if n.origin != "climb"))
    told = {n.role for n in escalation.notified}
    chains = [policy.chains.get(role, []) for role in origins]
    longest = max((len(chain) for chain in chains), default=0)
    longest = max([longest, *(p.level - 1 for p in escalation.planned)])
    if passing_over:
        told.add(DEPUTY)  # passed over as if told: the chain goes on past them
    level = escalation.level
    # Level 1 is the rule's roles, so level L + 1 takes the L-th role of each chain, and
    # the roles the rule itself named for level L + 1.
    while level - 1 < longest:
        step = level - 1
        level += 1
        planned = [p for p in escalation.planned if p.level == level and p.role not in told]
        fresh = [c[step] for c in chains if len(c) > step and c[step] not in told]
        fresh += [p.role for p in planned]
        if fresh:
            addresses = {p.role: p.address for p in planned}
            if DEPUTY in fresh and DEPUTY not in addresses:
                # The CRM's deputy when on file and not spared (a spared one is not fresh);
                # else the role's shared address, which the climb looks up itself.
                deputy = _deputy_address(escalation, spared)
                if deputy is not None:
                    addresses[DEPUTY] = deputy
            return Climb(level, tuple(dict.fromkeys(fresh)), addresses)
    return None


def taker(
    acknowledged_at: datetime | None, acknowledged_by: Mapping[str, Any] | None
) -> str | None:
    """Who took the escalation, as staff read it: the address, else the role (a dash for
    rows that kept neither); None while nobody has."""
    if acknowledged_at is None:
        return None
    by = acknowledged_by or {}
    return str(by.get("address") or by.get("role") or "—")


def ack_view(taken_by: str | None, deadline: datetime, now: datetime) -> dict[str, Any]:
    """What a notice to an escalation's holders says of taking it: who has it already, or
    that its deadline passed with nobody taking it (not "take it by" a time gone by), or
    nothing more than the deadline."""
    return {"taken_by": taken_by, "ack_overdue": taken_by is None and deadline <= now}


def policy_address(policy: Policy, role: str) -> str | None:
    return policy.address(role) or None


def role_address(
    policy: Policy, escalation: Escalation, role: str, spared: Collection[str] = ()
) -> str | None:
    """Where the escalation tells `role`: the CRM's deputy of the client's manager for the
    `deputy` role when the fact pack kept one and no hold spares them (`spared`, or the
    escalation's own hold), else the policy's address of the role."""
    deputy = deputy_on_file(escalation)
    if role != DEPUTY or deputy is None:
        return policy_address(policy, role)
    return _deputy_address(escalation, spared) or policy_address(policy, role)


def deputy_address(
    deputy_id: str | None, deputy_email: str | None, spared: Collection[str], fallback: Fallback
) -> str | Fallback:
    """Where the `deputy` role is told: at the CRM's deputy of the client's account manager
    (`deputy_id`, `deputy_email`) unless a threat of the client named them (their id among
    `spared`, staff ids; a deputy kept without an id, before ids were, cannot be); else at
    `fallback`, the policy's shared deputy address (not the person threatened). The one
    decision for a rule's roles (from the identity, notifications.rule_role_address) and
    for the climbs and reassignments (from the fact pack, role_address)."""
    if deputy_email and (deputy_id is None or deputy_id not in spared):
        return deputy_email
    return fallback


def _deputy_address(escalation: Escalation, spared: Collection[str]) -> str | None:
    """The CRM's deputy's address for the `deputy` role (deputy_address), None when the
    fact pack kept none or a hold spares them."""
    deputy = deputy_on_file(escalation)
    if deputy is None:
        return None
    deputy_id = str(deputy["id"]) if deputy.get("id") else None
    return deputy_address(deputy_id, str(deputy["email"]), _held_spares(escalation, spared), None)


def deputy_on_file(escalation: Escalation) -> Mapping[str, Any] | None:
    """The CRM's deputy of the client's account manager (id, name, email, language) as the
    escalation's fact pack kept them when it was opened (or its severity raised), if the
    identity carried one. The sweeper climbs without the message: this is what it has."""
    crm = (escalation.briefing.get("fact_pack") or {}).get("crm") or {}
    deputy = crm.get("deputy") if isinstance(crm, Mapping) else None
    return deputy if isinstance(deputy, Mapping) and deputy.get("email") else None


def deputy_spared(escalation: Escalation, spared: Collection[str] = ()) -> bool:
    """Whether a standing hold spares the CRM's deputy (a threat named them): the
    escalation's own (its `spares`: staff ids) or one of the client's others (`spared`). A
    deputy kept before ids were has none: not spared."""
    deputy = deputy_on_file(escalation)
    if deputy is None or not deputy.get("id"):
        return False
    return str(deputy["id"]) in _held_spares(escalation, spared)


def deputy_passed_over(
    escalation: Escalation, spared: Mapping[str, Sparing]
) -> dict[str, Any] | None:
    """What a climb's stand-ins read of the deputy passed over (passed_over.py): the case
    whose hold spares them, the escalation's own first, else one of the client's others
    (`spared`, as the store read them). None when no standing hold spares them."""
    deputy = deputy_on_file(escalation)
    if deputy is None or not deputy.get("id"):
        return None
    own = sparings_of([(escalation.id, escalation.hold)])
    staff_id = str(deputy["id"])
    return passed_over(DEPUTY, own.get(staff_id) or spared.get(staff_id))


def _held_spares(escalation: Escalation, spared: Collection[str]) -> set[str]:
    """The staff ids standing holds spare: the escalation's own unless lifted, and `spared`
    (the client's other cases' holds)."""
    hold = escalation.hold or {}
    own = [] if hold.get("lifted_at") else hold.get("spares") or []
    return {*own, *spared}


def channel_of(address: str) -> tuple[str, str]:
    """(notification channel, recipient) for a policy address."""
    if address.startswith(WEBHOOK_PREFIX):
        return "webhook", address.removeprefix(WEBHOOK_PREFIX)
    return "email", address
