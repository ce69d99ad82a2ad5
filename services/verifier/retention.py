"""What the verifier prunes of its schema (shared.retention; docs/retention.md).

The CRM mirror, identity decisions, and confirmations a client confirmed or denied (with
their log) are records and stay. Confirmations that expired unanswered go with their log
once they are as old as idempotency keys: nobody can use them any more (a late reply with
their code is taken as an ordinary message), and they hold an address and a claimed name.
"""

from __future__ import annotations

from datetime import timedelta

from shared.retention import Prunable, processed_keys
from shared.subjects import STREAM_CRM, STREAM_MESSAGES

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again.
CONSUMED = (STREAM_MESSAGES, STREAM_CRM)


def prunables(retention: timedelta) -> list[Prunable]:
    keys = processed_keys("crm", retention, CONSUMED)
    return [
        keys,
        Prunable(
            "crm.confirmations",
            "resolved_at",
            keys.horizon,
            "confirmations that expired unanswered, with their log",
            only="status = 'expired'",
        ),
    ]
