"""What placing a message's escalation takes and gives, without the SQL.

`NewEscalation` is what a message would open, `Placed` where it went (opened, merged or
reopened); `active_hold` and `more_severe` are the two decisions a merge makes. The store
in adapters does the placing; the service and the batch build and read these values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from .problem_keys import ABOUT_SIGNALS, same_thing


@dataclass(frozen=True)
class NewEscalation:
    id: uuid.UUID
    subject_key: str
    customer_id: str | None
    kind: str
    severity: str
    rule: str
    reason: str
    identity_status: str
    roles: list[str]
    signals: list[dict[str, Any]]
    ack_deadline: datetime
    correlation_id: str
    facts: dict[str, Any] = field(default_factory=dict)
    hold: dict[str, Any] | None = None
    planned: list[dict[str, Any]] = field(default_factory=list)  # role, level, address
    ack_minutes: float | None = None
    # A resolved escalation of the kind resolved since then is reopened instead of a new one.
    reopen_since: datetime | None = None
    # When the client is promised an answer, for the escalation's severity once placed (a
    # merge may have raised it); None: this message promises nothing.
    promise: Callable[[str], datetime] | None = None
    # Where and how that promise goes (the client's registered address, language, clock and
    # the names the mail uses): a promise that passes unkept is owned up to there.
    promise_to: dict[str, Any] | None = None
    # The acknowledgement deadline for a severity, from now (a reopening keeps the graver
    # severity it had); None: `ack_deadline`, whatever the severity.
    deadline: Callable[[str], datetime] | None = None
    # The confirmation the message's sender waits on (a probable sender), if any: its
    # outcome is told to the escalations placed while it stood.
    confirmation_id: uuid.UUID | None = None
    # The message's subject: the thread an escalation it opens goes by (follow-ups).
    subject: str = ""

    def promised(self, severity: str) -> datetime | None:
        return self.promise(severity) if self.promise is not None else None

    def deadline_for(self, severity: str) -> datetime:
        if self.deadline is None or severity == self.severity:
            return self.ack_deadline
        return self.deadline(severity)


Change = Literal["opened", "merged", "reopened"]


@dataclass(frozen=True)
class Placed:
    """Where a message's escalation went: opened, merged (raising severity or not), or
    reopened; who it had told before, its level, and the hold it has now."""

    id: uuid.UUID
    opened: bool
    severity: str
    raised_from: str | None = None
    change: Change = "opened"
    notified: tuple[dict[str, Any], ...] = ()
    level: int = 1
    hold: dict[str, Any] | None = None
    hold_placed: bool = False
    client_reply_by: datetime | None = None  # the escalation's promise to the client
    # A merge: the client's words this message brought of a kind the escalation did not
    # have yet (a new problem, a new threat), in order; empty when it only says them again.
    news: tuple[News, ...] = ()
    # A merge into an escalation whose client was sent its promising contact before (the
    # failure notice, the billing acknowledgement): new problems are a follow-up to it.
    answered_before: bool = False
    # The escalation's acknowledgement deadline once placed (a merge keeps the earlier one);
    # None: the new escalation's.
    ack_deadline: datetime | None = None
    # A merge or a reopening by a message from an address not confirmed yet that no earlier
    # message of the escalation waited on (another address in the client's name): news too.
    new_sender: bool = False
    # Of a case whose sender is marked suspicious already (a denial, failed authentication).
    suspicious_before: bool = False
    # Who took the escalation merged into, if anyone: its holders are not told to take it.
    taken_by: str | None = None


# Signals whose new evidence is a new fact for whoever holds the case (a problem, a claim, a
# threat); another insult, another flirt or more panic in other words is not.
NEWSWORTHY = frozenset(
    {
        "service_failure",
        "billing_dispute",
        "compensation_demand",
        "freebie_demand",
        "churn_risk",
        "legal_threat",
        "reputation_threat",
        "violence_threat",
        "payment_details_change",
    }
)


class News(NamedTuple):
    """A piece of the message's evidence that is news to its escalation, where it stands."""

    signal: str
    start: int
    end: int
    text: str


def news_of(before: list[dict[str, Any]] | None, now: list[dict[str, Any]]) -> tuple[News, ...]:
    """The client's words in `now`'s signals (serialized `Signal`s) the escalation had not
    seen, of a `NEWSWORTHY` signal. A problem (`ABOUT_SIGNALS`, its evidence keyed by what
    it is about: problem_keys) is news unless a problem of its signal the escalation has is
    about the same thing: "CSV export returns an empty file" after "the dashboard is down"
    is, though one entry finds both; «Экспорт до сих пор не работает, сколько можно» after
    «Экспорт отчётов до сих пор не работает» is not. Anything else, a problem whose clause
    names nothing ("it still doesn't work") and one the escalation keeps no key of (kept
    before keys were) is news when its lexicon entry (or the second opinion) has no
    evidence in `before`: the same threat in other words ("подам в суд" after "подам на вас
    в суд") is no news; a broken promise after an outage is. Marks on the text's form
    (capitals, "!!!") never are."""

    def pieces(signals: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        return [
            {**e, "signal": s["name"]}
            for s in signals or []
            if s["name"] in NEWSWORTHY
            for e in s.get("evidence") or []
            if not str(e.get("rule", "")).startswith("form.")
        ]

    known = pieces(before)

    def seen(piece: dict[str, Any]) -> bool:
        about = piece.get("about")
        for old in (k for k in known if k["signal"] == piece["signal"]):
            if about and old.get("about"):
                if same_thing(about, old["about"]):
                    return True
            elif old.get("rule") == piece.get("rule") and not (about and "about" in old):
                return True
        return False

    fresh = {
        " ".join(str(e["text"]).split()): News(e["signal"], e["start"], e["end"], e["text"])
        for e in pieces(now)
        if not seen(e)
    }
    return tuple(fresh.values())


# Why a promise to the client ended with nothing owed: the client said it works now
# (client_fixed.py), or staff recorded the answer (`careline client-reply` with no new date).
PromiseOver = Literal["client_says_fixed", "answered"]


def promise_over(promise_to: dict[str, Any] | None) -> bool:
    """Whether the escalation's promise was kept or is no longer needed (its `promise_to`
    says `over`), not used up: a new problem written into it is promised an answer again,
    a date the sweeper keeps. A promise whose new dates ran out, or whose request the
    registered contact disowned, is not over: a follow-up then names no date."""
    return bool((promise_to or {}).get("over"))


def closed_promise(promise_to: dict[str, Any] | None, why: PromiseOver) -> dict[str, Any] | None:
    """Where the promise went, kept (a follow-up is still one to the same client), marked
    over."""
    return {**promise_to, "over": why} if isinstance(promise_to, dict) else promise_to


def known_problems(
    signals: list[dict[str, Any]] | None, promise_to: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """What a message merged into the escalation is news against: all it recorded, but for
    its problems once the client said it works now (a promise over by `client_says_fixed`):
    «экспорт опять не работает» after «Всё заработало» is a failure again, told to the
    holders and, with a promise made anew, to the client."""
    if (promise_to or {}).get("over") != "client_says_fixed":
        return list(signals or [])
    return [s for s in signals or [] if s.get("name") not in ABOUT_SIGNALS]


def active_hold(hold: dict[str, Any] | None) -> bool:
    return bool(hold) and not (hold or {}).get("lifted_at")


def more_severe(a: str, b: str) -> bool:
    """Whether severity `a` is more severe than `b` (P1 is the most severe)."""
    return a < b
