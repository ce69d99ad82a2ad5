"""What the notifier sent to an address staff took back, for the alert that says so.

The escalator's `identity_alert` after a revoke (`occasion: revoked`) told staff «расскажите,
что ушло на X» without saying what did (seed 000: the payment reply about invoice 4512).
The escalator knows what it asked to send, not what went (an answer held for the
confirmation went only once it was confirmed; one may have been refused or withdrawn), so
the notifier, which knows, adds to the alert as it accepts it the client mails it sent to
the address since it was confirmed (`sent_there`: kind, the kinds a digest stood for, case,
when), at most `LIMIT`, stored with the request so a re-send says the same. One query on
the recipient's index, for a rare alert only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import SendNotification

from .adapters import notifications
from .scheduling import is_client

LIMIT = 20


def lists_sent_there(cmd: SendNotification) -> bool:
    """Whether this request is a revoke's alert to staff that does not list them yet."""
    return (
        cmd.kind == "identity_alert"
        and not is_client(cmd.recipient_role)
        and cmd.data.get("occasion") == "revoked"
        and isinstance(cmd.data.get("address"), str)
        and "sent_there" not in cmd.data
    )


def confirmed_since(data: dict[str, Any]) -> datetime | None:
    """The earliest time a confirmation the revoke took back was given (None: not said)."""
    times = [
        datetime.fromisoformat(str(c["confirmed_at"]))
        for c in data.get("confirmations") or []
        if isinstance(c, dict) and c.get("confirmed_at")
    ]
    return min(times) if times else None


def sent_entry(kind: str, escalation_id: object, sent_at: datetime, request: Any) -> dict[str, Any]:
    """One mail as the alert lists it: a client digest by the answers it stood for."""
    parts = (request or {}).get("parts") or [] if isinstance(request, dict) else []
    kinds = [str(p["kind"]) for p in parts if isinstance(p, dict) and p.get("kind")] or [kind]
    cases = [str(p["escalation_id"]) for p in parts if isinstance(p, dict)] or (
        [str(escalation_id)] if escalation_id else []
    )
    return {"kinds": kinds, "cases": list(dict.fromkeys(cases)), "sent_at": sent_at.isoformat()}


async def with_sent_there(session: AsyncSession, cmd: SendNotification) -> SendNotification:
    address = str(cmd.data["address"]).strip()
    n = notifications.c
    query = (
        select(n.kind, n.escalation_id, n.sent_at, n.request, n.recipient_role)
        .where(
            n.recipient.in_(sorted({address, address.lower()})),
            n.status == "sent",
            n.sent_at.is_not(None),
        )
        .order_by(n.sent_at)
    )
    since = confirmed_since(cmd.data)
    if since is not None:
        query = query.where(n.sent_at >= since)
    rows = (await session.execute(query.limit(LIMIT * 4))).all()
    sent = [
        sent_entry(r.kind, r.escalation_id, r.sent_at, r.request)
        for r in rows
        if is_client(r.recipient_role)
    ][:LIMIT]
    return cmd.model_copy(update={"data": {**cmd.data, "sent_there": sent}})
