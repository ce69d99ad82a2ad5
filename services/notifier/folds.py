"""A client digest at acceptance: the answers in it not taken before. Pure functions.

The escalator folds the answers one message sends one address into a `client_digest`
(escalator digest.py); each answer keeps its own id on the digest's `parts`. An answer the
notifier took before (an earlier message asked for it alone, or in another digest) is not
said again: the digest goes with the others, a lone one goes as the notice it is, and
when none is left nothing goes.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from shared.contracts import NoticePart, SendNotification


def part_ids(cmd: SendNotification) -> list[uuid.UUID]:
    return [part.notification_id for part in cmd.parts]


def unfold(cmd: SendNotification, taken: Collection[uuid.UUID]) -> SendNotification | None:
    """What of `cmd` goes, given the notification ids taken before; None for nothing."""
    parts = [part for part in cmd.parts if part.notification_id not in taken]
    if len(parts) == len(cmd.parts):
        return cmd
    if not parts:
        return None
    if len(parts) == 1:
        return alone(cmd, parts[0])
    severities = sorted(p.severity for p in parts if p.severity is not None)
    return cmd.model_copy(
        update={"parts": parts, "severity": severities[0] if severities else None}
    )


def alone(cmd: SendNotification, part: NoticePart) -> SendNotification:
    """The part as the notice it would have been without the digest."""
    return cmd.model_copy(
        update={
            "notification_id": part.notification_id,
            "escalation_id": part.escalation_id,
            "kind": part.kind,
            "severity": part.severity,
            "data": part.data,
            "parts": [],
        }
    )
