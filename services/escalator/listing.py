"""What `careline escalations` shows: the latest escalations and the notes under a row.

Read-only helpers for the CLI (shared/cli.py imports them lazily, inside the command), kept
out of the store of escalations, which places and changes escalations.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import escalations


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
