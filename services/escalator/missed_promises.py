"""A promise to the client that passed with its escalation still open. Pure.

Seed 001: a promise not kept is support's own failure, and the way out is to act first:
tell the client the bad news before they have to ask, raise the priority, take it to a
more senior manager. So when `client_reply_by` passes and nobody resolved the escalation,
the client hears it first, at the address the promise went to (`promise_to`), in its
language and on its clock: we did not make it, this is the new date (the severity's
`client_reply` from now). The policy's `client_reply_new_dates` bounds how often a machine
says that; when the last new date passes too, the client is not told another one and only
a person answers. A promise whose request the registered contact disowned (a probable
sender denied: settlement.promise_owed) is owned up to nobody automatically. Either way
everyone who holds the escalation hears what was missed and what the client was told, and
the sweeper climbs it a level (climbs.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts import SendNotification, derived_id

from .condition_facts import promise_missed_fact
from .hold_notices import notices_to_holders
from .lifecycle import Escalation
from .policy import Policy
from .promised import promise_about
from .staff_language import StaffLanguages


@dataclass(frozen=True)
class MissedPromise:
    """What passing the promise `missed` changes: the new date told to the client (None:
    none, the new dates are used up, or there is nowhere to tell it)."""

    missed: datetime
    new_date: datetime | None

    def kept_on(self, e: Escalation) -> Escalation:
        """The escalation once the miss is recorded: the new date (or none), one more miss."""
        return replace(e, client_reply_by=self.new_date, promises_missed=e.promises_missed + 1)

    def changes(self, e: Escalation, now: datetime) -> dict[str, object]:
        """The row's new values (`kept_on`'s, and the reminder re-armed)."""
        kept = self.kept_on(e)
        return {
            "client_reply_by": kept.client_reply_by,
            "promise_reminded_at": None,  # the new date is reminded of in its turn
            "promises_missed": kept.promises_missed,
            "updated_at": now,
        }


def promised_to(e: Escalation) -> str | None:
    """The address a delay of the escalation's promise is told at: where the promise went
    (a confirmed sender's own, once its held answer went there), or None: nowhere kept (a
    promise of before 0015), or nobody to tell (the registered contact disowned the request
    it answered: settlement.promise_owed)."""
    return (e.promise_to or {}).get("recipient") or None


def owned_up_automatically(policy: Policy, e: Escalation) -> bool:
    """Whether the client is told by Careline if the escalation's promise passes: it knows
    where the promise went, and the policy's new dates are not used up."""
    return promised_to(e) is not None and e.promises_missed < policy.client_reply_new_dates


def missed_promise(policy: Policy, e: Escalation, now: datetime) -> MissedPromise:
    """The escalation's promise passed at `now`: whether the client gets a new date (the
    severity's reply from now, never before the new holder must acknowledge it)."""
    assert e.client_reply_by is not None
    new_date = None
    if owned_up_automatically(policy, e):
        deadline = policy.ack_by(e.severity, now, e.ack_minutes)
        new_date = policy.client_reply_by(e.severity, now, deadline)
    return MissedPromise(e.client_reply_by, new_date)


def client_delay_notice(
    e: Escalation, missed: MissedPromise, level_told: bool, now: datetime
) -> SendNotification | None:
    """The bad news to the client first: the answer promised by `missed.missed` is late,
    and when it comes now; once per promise missed."""
    to, recipient = e.promise_to or {}, promised_to(e)
    if recipient is None or missed.new_date is None:
        return None
    parts = (e.id, "promise_delay_notice", missed.missed.isoformat())
    return SendNotification(
        event_id=derived_id("notify-request", *parts),
        notification_id=derived_id("notification", *parts),
        message_id=e.message_id,
        correlation_id=e.correlation_id,
        occurred_at=now,
        escalation_id=e.id,
        kind="promise_delay_notice",
        recipient=recipient,
        recipient_role="client_registered",
        recipient_verified=True,
        content_class="account",
        language=to.get("language") or "en",
        recipient_timezone=to.get("timezone"),
        data={
            "customer": to.get("customer") or "",
            "subject": to.get("subject") or "",
            "received_at": to.get("received_at"),
            "account_manager": to.get("account_manager"),
            # What was promised: a payment check's result, the answer to a request (a free
            # service, compensation: nothing to fix, nothing conceded), or a failure's cause
            # and fix.
            "about": promise_about(e.kind, to),
            "escalation_id": str(e.id),
            "promised": missed.missed.isoformat(),
            "reply_by": missed.new_date.isoformat(),
            # Whether someone more senior has it now (the chain climbed a level).
            "senior": level_told,
        },
        severity=e.severity,  # type: ignore[arg-type]
        # A revoke of the address after the promise went there still keeps this from it,
        # should the sweeper get here before the escalator hears of the revoke.
        identity_decided_at=_decided(to.get("identity_decided_at")),
    )


def _decided(at: object) -> datetime | None:
    # Promises kept before the escalator wrote it down: the notice's own time stands for it.
    return datetime.fromisoformat(at) if isinstance(at, str) else None


def holder_notices(
    e: Escalation, missed: MissedPromise, languages: StaffLanguages, now: datetime
) -> list[SendNotification]:
    """Everyone who holds it hears that the promise passed and what the client was told;
    `e` as changed (its new date in the briefing, or none)."""
    return notices_to_holders(
        e,
        "promise_missed",
        promise_missed_fact(missed.new_date is not None, disowned=_disowned(e)),
        ("promise-missed", missed.missed.isoformat()),
        None,  # the message that opened it
        languages,
        now,
    )


def _disowned(e: Escalation) -> bool:
    """Whether the promise has nobody to be owned up to because the registered contact
    disowned the request (kept, with no recipient), not because the dates are used up."""
    return e.promise_to is not None and promised_to(e) is None
