"""What `careline escalations` shows (the latest escalations and the notes under a row), and
`careline escalation ID` (one of them with its timeline).

Read-only helpers for the CLI (shared/cli.py imports them lazily, inside the command), kept
out of the store of escalations, which places and changes escalations.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import escalations, timeline


async def list_escalations(session: AsyncSession, limit: int = 50) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(escalations).order_by(escalations.c.opened_at.desc()).limit(limit)
    )
    return [dict(r) for r in rows.mappings()]


def escalation_notes(row: dict[str, Any]) -> list[str]:
    """What `careline escalations` adds under a row: its hold, its reopenings."""
    notes = []
    hold = row.get("hold")
    if hold:
        reason = hold.get("text") or next(iter((hold.get("reason") or {}).values()), "")
        if hold.get("lifted_at"):
            notes.append(
                f"hold lifted {hold['lifted_at'][:16]} by {hold.get('lifted_by')}: {reason}"
            )
        elif row.get("status") == "resolved":
            notes.append(f"hold ended with the resolution: {reason}")
        else:
            notes.append(f"hold since {str(hold.get('since'))[:16]}: {reason}")
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
