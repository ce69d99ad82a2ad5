"""What intake prunes of its schema (shared.retention; docs/retention.md).

`intake.messages`, every normalized message as it was decided on, is a record and stays.
"""

from __future__ import annotations

from datetime import timedelta

from shared.retention import Prunable, processed_keys
from shared.subjects import STREAM_INBOUND

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again.
CONSUMED = (STREAM_INBOUND,)


def prunables(retention: timedelta) -> list[Prunable]:
    return [processed_keys("intake", retention, CONSUMED)]
