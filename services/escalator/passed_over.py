"""Why a staff notice reaches someone other than the usual person. Pure.

Seed 003: a threat (or advances) of the client naming the account manager or their deputy
spares them the client's cases while its hold stands (threatened.py). Whoever is told in
their place (the head of support a climb reaches past the deputy, the stand-in an alert
goes to) would otherwise read a case or an alert that is not theirs with no word of why.
They read one line, in their language (the notifier's templates): «Вам, а не менеджеру
клиента: клиент угрожал ему в деле CL-…». The head of support is told of the client's
threats anyway, so saying that the manager was threatened, and in which case, tells them
nothing they may not know; the threat's own words stay in that case, not in this line.

The escalator puts it in the request as `passed_over`: one item per person passed over,
with the role they hold, the case whose hold spares them and over what (threats or
advances).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .facts import sparing_over


@dataclass(frozen=True)
class Sparing:
    """A standing hold that spares a staff member: the case whose threats or advances
    named them, and which of the two."""

    escalation_id: str
    over: str  # "threats" or "advances" (facts.sparing_over)


def sparings_of(holds: Iterable[tuple[object, Mapping[str, Any] | None]]) -> dict[str, Sparing]:
    """The staff ids the holds spare (each a case's id and its hold as stored), each with
    the first case whose standing hold does; a lifted hold spares nobody."""
    found: dict[str, Sparing] = {}
    for escalation_id, hold in holds:
        if not hold or hold.get("lifted_at"):
            continue
        over = sparing_over(hold.get("while_signals") or [])
        for staff_id in hold.get("spares") or []:
            found.setdefault(str(staff_id), Sparing(str(escalation_id), over))
    return found


def named_by(escalation_id: object, signals: Iterable[str]) -> Sparing:
    """The sparing of a staff member this message's threats (`signals`: of the threatened
    person, threatened.Threatened) named, in the case it was placed in: advances when
    harassment is all that named them, else threats."""
    over = "advances" if set(signals) <= {"harassment"} else "threats"
    return Sparing(str(escalation_id), over)


def passed_over(role: str, sparing: Sparing | None) -> dict[str, Any] | None:
    """What a notice says of a person passed over (`role`: account_manager or deputy), as
    its `passed_over` item; None when no hold is known to spare them (nothing to say)."""
    if sparing is None:
        return None
    return {"role": role, "escalation_id": sparing.escalation_id, "over": sparing.over}


def staff_passed_over(
    roles: Iterable[tuple[str, str | None]], sparings: Mapping[str, Sparing]
) -> list[dict[str, Any]]:
    """The `passed_over` items of the staff (role, staff id) the holds spare, in order."""
    items = []
    for role, staff_id in roles:
        item = passed_over(role, sparings.get(staff_id) if staff_id else None)
        if item is not None:
            items.append(item)
    return items
