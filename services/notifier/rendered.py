"""What acceptance already rendered, kept for the sender of the same process.

Acceptance renders every request (a request whose templates cannot render it is refused at
once); the sender needs the same rendering and the same validated command moments later.
It takes them from here instead of validating the stored request and rendering it again,
when the row's stored request is still the one accepted (a released hold stores a new one).
Anything not found (another replica accepted it, the process restarted, it was evicted) is
validated and rendered from the row as before: this only saves work, it decides nothing.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any, NamedTuple

from shared.contracts import SendNotification

from .domain import Rendered

# Bounded: a backlog larger than this renders its oldest rows again, as before.
KEEP = 2048


class Accepted(NamedTuple):
    request: dict[str, Any]  # as stored in the outbox row
    cmd: SendNotification
    rendered: Rendered


class RenderedRequests:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._kept: OrderedDict[uuid.UUID, Accepted] = OrderedDict()

    def put(
        self,
        notification_id: uuid.UUID,
        request: dict[str, Any],
        cmd: SendNotification,
        rendered: Rendered,
    ) -> None:
        self._kept[notification_id] = Accepted(request, cmd, rendered)
        self._kept.move_to_end(notification_id)
        while len(self._kept) > self.keep:
            self._kept.popitem(last=False)

    def take(self, notification_id: uuid.UUID, request: dict[str, Any]) -> Accepted | None:
        """What was accepted for this row, once, if its stored request is still that one."""
        found = self._kept.pop(notification_id, None)
        if found is None or found.request != request:
            return None
        return found

    def size(self) -> int:
        return len(self._kept)
