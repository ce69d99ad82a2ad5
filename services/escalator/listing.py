"""What `careline escalations` shows (the latest escalations and the notes under a row), and
`careline escalation ID` (one of them with its timeline), and which escalations a case
reference names (`CL-XXXX-XXXX`, shared/case_ref.py) for every command that takes an id.

Read-only helpers for the CLI (shared/cli.py imports them lazily, inside the command), kept
out of the store of escalations, which places and changes escalations.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.case_ref import id_bounds

from .hold_said import hold_described
from .tables import escalations, timeline


async def list_escalations(session: AsyncSession, limit: int = 50) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(escalations).order_by(escalations.c.opened_at.desc()).limit(limit)
    )
    return [dict(r) for r in rows.mappings()]


async def escalations_by_ref(session: AsyncSession, ref: str) -> list[dict[str, Any]]:
    """The escalations whose id begins with the reference's 40 bits, oldest first: one, or
    none, or (two ids sharing them, docs/escalations.md) every one, for the person to choose.
    A range on the primary key: its index answers, no index of the reference's own."""
    lower, upper = id_bounds(ref)
    found = await session.execute(
        select(
            escalations.c.id,
            escalations.c.opened_at,
            escalations.c.severity,
            escalations.c.kind,
            escalations.c.status,
            escalations.c.subject_key,
        )
        .where(escalations.c.id.between(lower, upper))
        .order_by(escalations.c.opened_at, escalations.c.id)
    )
    return [dict(r) for r in found.mappings()]


def escalation_notes(row: dict[str, Any], team_language: str = "en") -> list[str]:
    """What `careline escalations` adds under a row: its hold, its reopenings. The hold says
    what it does in the team's language, as the `escalation.*` events do (hold_said.py): a
    sparing hold, that the deputy has the client's cases and no answer is withheld (its
    rule's reason read as one more pause)."""
    notes = []
    hold = row.get("hold")
    if hold:
        reason = hold_described(hold, team_language)
        # A hold that only spares the named staff pauses nothing (facts.hold_view).
        what = "hold"
        if hold.get("spares_only"):
            what = f"hold sparing {', '.join(hold.get('spared_names') or ['the account manager'])}"
        if hold.get("lifted_at"):
            notes.append(
                f"{what} lifted {hold['lifted_at'][:16]} by {hold.get('lifted_by')}: {reason}"
            )
        elif row.get("status") == "resolved":
            notes.append(f"{what} ended with the resolution: {reason}")
        else:
            notes.append(f"{what} since {str(hold.get('since'))[:16]}: {reason}")
    if row.get("reopen_count"):
        notes.append(
            f"reopened {row['reopen_count']} times, last {row['reopened_at']:%Y-%m-%d %H:%M}"
        )
    return notes


async def escalation_history(
    session: AsyncSession, escalation_id: uuid.UUID
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The escalation's row and its timeline, oldest first."""
    row = (
        (await session.execute(select(escalations).where(escalations.c.id == escalation_id)))
        .mappings()
        .first()
    )
    if row is None:
        return None, []
    entries = await session.execute(
        select(timeline).where(timeline.c.escalation_id == escalation_id).order_by(timeline.c.id)
    )
    return dict(row), [dict(e) for e in entries.mappings()]


# What a timeline line says of an entry's detail, most telling first.
_SAID = ("note", "outcome", "rule", "to_role", "from", "to", "by", "level", "promised")


def timeline_line(entry: dict[str, Any]) -> str:
    """One entry as `careline escalation ID` prints it: when (UTC), what, who, the gist."""
    actor = entry.get("actor") or {}
    who = f" by {actor.get('role')}" if actor.get("role") else ""
    detail = entry.get("detail") or {}
    gist = "; ".join(f"{k} {detail[k]}" for k in _SAID if detail.get(k) not in (None, ""))
    return f"{entry['at']:%Y-%m-%d %H:%M} UTC {entry['entry']}{who}" + (f": {gist}" if gist else "")
