"""What the escalator remembers of a subject (a customer, or a sender without one). Pure.

For every message the escalator records what it saw (`SeenMessage`: when, which channel,
the signals with their scores, the policy's markers, a short excerpt) and what the policy
did about it: the escalations it opened or merged into, and its **marks**: a `warning`
(a rule with `warn: true` or a `hold` fired: staff were told to warn the client) or a
`flag` (a rule with `flag: [...]`, e.g. harassment: the contact is flagged). The service
loads a bounded `History` for the subject before deciding and passes it to `evaluate`;
`HistoryCondition` asks it one question each.

Counts of signals and markers include the message being decided (its own facts are passed
in as `current`); a signal only the statistical second opinion saw (`guessed`) counts in
none of them. Escalations, warnings, flags and open escalations are what earlier
messages led to, never what this one is about to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from .condition_facts import Fact
from .retraction import takes_back
from .team_calendar import Duration, describe_duration

MarkKind = Literal["warning", "flag"]


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Mark(_Fact):
    kind: MarkKind
    name: str = Field(description="For a warning: the escalation kind; for a flag: its name.")


class SeenMessage(_Fact):
    message_id: str
    at: datetime
    channel: str
    # Who wrote it (the address, phone or handle): staff tell the registered address's
    # messages from another's in the recent messages.
    sender: str = ""
    excerpt: str = ""
    signals: dict[str, float] = Field(default_factory=dict, description="Signal -> score.")
    markers: list[str] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)
    guessed: list[str] = Field(
        default_factory=list,
        description="Its signals only the second opinion saw (guessed.py): history "
        "conditions do not count them (messages of before: none known, all count).",
    )


class Hold(_Fact):
    """A pause the policy put on an escalation, e.g. the investigation until threats stop."""

    rule: str
    reason: dict[str, str] = Field(description="Language -> what staff are told.")
    text: str = Field("", description="The reason in the team's language.")
    while_signals: list[str]
    since: datetime
    message_id: str
    lifted_at: datetime | None = None
    lifted_by: str | None = Field(None, description="`message <id>` or the staff address.")
    spares: list[str] = Field(
        default_factory=list,
        description="Staff ids the threats named (the account manager): while the hold "
        "stands they are given none of the client's cases (threatened.py).",
    )
    spared_names: list[str] = Field(
        default_factory=list,
        description="Their names as the CRM writes them: staff notices say whom the hold "
        'spares (a hold stored before these were kept names nobody: "the manager").',
    )
    # What ends it (the rule's hold, policy_rules.Hold); a hold stored before these were
    # kept ends with the first calm message, as it did then.
    calm_for: timedelta = Field(
        timedelta(0),
        description="A message without the threats ends it only this long after the last "
        "message that carried them (0: the first such message).",
    )
    apology_lifts: bool = Field(
        True, description="A message without the threats that takes them back ends it sooner."
    )
    spares_only: bool = Field(
        False,
        description="It only spares the staff its signals named: the client's answers are "
        "not withheld (hold_stands).",
    )

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class PastEscalation(_Fact):
    id: str
    kind: str
    severity: str
    status: str
    rule: str
    opened_at: datetime
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    message_count: int = 1
    ack_deadline: datetime | None = None
    hold: Hold | None = None
    subject: str | None = None  # of the message that opened it


class History(_Fact):
    """The subject's recent messages (newest first, this one excluded) and escalations."""

    messages: list[SeenMessage] = Field(default_factory=list)
    escalations: list[PastEscalation] = Field(default_factory=list)

    def open_escalations(self) -> list[PastEscalation]:
        return [e for e in self.escalations if e.status == "open"]


# The escalations of the policy's confirmation rule (`unconfirmed-sender`): about who is
# speaking, not a case of the client's.
CONFIRMATION_KIND = "identity_confirmation"


def customer_subject(customer_id: str) -> str:
    """The subject of a known customer's messages: whose history they are, and the key their
    lock takes (a revoke of the customer's address takes the same lock: revocations.py)."""
    return f"customer:{customer_id}"


def followed_up(history: History, touched: set[str], subject: str = "") -> list[PastEscalation]:
    """The open escalations a message goes on with when it fires no rule on what it says:
    those it did not join, reopen or lift the hold of (`touched`, by id) already, and that
    are about the client's case (an identity confirmation is about who is speaking). A
    reply in the thread of some of them ("Re: Выгрузка") goes on with those only: "any
    news?" about the export is no news to the lawyers of another case."""
    cases = [
        e for e in history.open_escalations() if e.id not in touched and e.kind != CONFIRMATION_KIND
    ]
    topic = thread_topic(subject)
    same = [e for e in cases if topic and thread_topic(e.subject or "") == topic]
    return same or cases


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr|отв|ответ|відп|відповідь)\s*:\s*)+", re.I)


def thread_topic(subject: str) -> str:
    """A subject without its reply and forward prefixes, folded: the thread it belongs to."""
    return " ".join(_REPLY_PREFIX.sub("", subject).casefold().split())


def holds_to_lift(
    history: History,
    signals: dict[str, float],
    threshold: float = 0.5,
    sender: str = "",
    at: datetime | None = None,
    text: str = "",
) -> list[PastEscalation]:
    """Open escalations whose active hold this message (written `at`, saying `text`) ends:
    it carries none of the threats, it comes from whoever wrote the threats (`sender`: a
    colleague's calm question, or a stranger writing in the client's name, says nothing of
    whether the threats stopped; a hold whose message is no longer in the history is ended
    by any sender, as before), and either the hold's `calm_for` has passed since the last
    message that threatened, or the message takes the threats back and is hostile in no
    other way (retraction.py: `signals` decide it): one calm line a minute after «я знаю,
    где вы живёте» is a pause, not the threats stopping."""
    written_by = {m.message_id: m.sender.casefold() for m in history.messages if m.sender}
    return [
        e
        for e in history.open_escalations()
        if e.hold is not None
        and e.hold.active
        and not any(signals.get(name, 0.0) >= threshold for name in e.hold.while_signals)
        and written_by.get(e.hold.message_id, sender.casefold()) == sender.casefold()
        and _calm_enough(e.hold, history, at, text, signals, threshold)
    ]


def calm_from(hold: Hold, history: History, threshold: float = 0.5) -> datetime:
    """When a message without the threats may end `hold` by itself: `calm_for` after the
    last of the subject's messages that carried its threats (its own message among them)."""
    threatened = [
        m.at
        for m in history.messages
        if any(m.signals.get(name, 0.0) >= threshold for name in hold.while_signals)
    ]
    return max(threatened or [hold.since]) + hold.calm_for


def _calm_enough(
    hold: Hold,
    history: History,
    at: datetime | None,
    text: str,
    signals: dict[str, float],
    threshold: float,
) -> bool:
    if not hold.calm_for:
        return True
    # An apology beside an insult or another threat takes nothing back (retraction.py).
    if hold.apology_lifts and takes_back(text, signals, threshold):
        return True
    return at is not None and at >= calm_from(hold, history, threshold)


def standing_holds(history: History, lifted: list[PastEscalation]) -> list[PastEscalation]:
    """Open escalations whose active hold stays after this message (`lifted`: the holds it
    ends, `holds_to_lift`; none for a history-only channel)."""
    ended = {e.id for e in lifted}
    return [
        e
        for e in history.open_escalations()
        if e.hold is not None and e.hold.active and e.id not in ended
    ]


class HistoryCondition(BaseModel):
    """One question about the subject's history; exactly one of the first six keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signals: list[str] | None = Field(None, description="Messages with any of these signals.")
    markers: list[str] | None = Field(None, description="Messages with any of these markers.")
    escalations: list[str] | None = Field(None, description="Escalations of these kinds opened.")
    open: list[str] | None = Field(None, description="Open escalations of these kinds ([]: any).")
    warned: list[str] | None = Field(None, description="Warnings about these kinds ([]: any).")
    flagged: list[str] | None = Field(None, description="Flags with these names ([]: any).")
    at_least: PositiveInt = 1
    within: Duration | None = Field(None, description="Default: the policy's history_lookback.")
    min_score: float | None = Field(None, description="For signals; default the rule's.")
    apart: Duration | None = Field(
        None,
        description="For signals and markers: messages closer than this to one counted are "
        "the same occasion (three messages in a minute about one outage are one failure).",
    )

    @model_validator(mode="after")
    def _one_question(self) -> HistoryCondition:
        asked = [k for k in QUESTIONS if getattr(self, k) is not None]
        if len(asked) != 1:
            raise ValueError(f"a history condition asks exactly one of {list(QUESTIONS)}")
        if asked[0] in ("signals", "markers", "escalations") and not getattr(self, asked[0]):
            raise ValueError(f"history {asked[0]}: name at least one")
        if self.apart is not None and asked[0] not in ("signals", "markers"):
            raise ValueError("history apart: only for signals and markers")
        return self

    @property
    def question(self) -> str:
        return next(k for k in QUESTIONS if getattr(self, k) is not None)

    @property
    def names(self) -> list[str]:
        return list(getattr(self, self.question))

    def check(
        self,
        history: History,
        current: SeenMessage,
        at: datetime,
        lookback: timedelta,
        min_score: float,
    ) -> Fact | None:
        """The fact that makes it hold; None when it does not."""
        within = self.within or lookback
        since = at - within
        span = describe_duration(within)
        window = f"within {span}"
        names = self.names
        question = self.question
        kind = f"history_{question}"
        if question in ("signals", "markers"):
            threshold = self.min_score if self.min_score is not None else min_score
            seen = [current, *(m for m in history.messages if m.at >= since)]
            hits = [m for m in seen if _carries(m, question, names, threshold)]
            if self.apart is not None:
                hits = _occasions(hits, self.apart)
            if len(hits) < self.at_least:
                return None
            included = hits[0] is current
            values: dict[str, Any] = {
                "names": names,
                "count": len(hits),
                "within": span,
                "included": included,
                "at_least": self.at_least,
            }
            counted = "messages"
            if self.apart is not None:
                kind += "_apart"
                values["apart"] = describe_duration(self.apart)
                counted = f"occasions at least {values['apart']} apart"
            return Fact(
                kind,
                f"history: {'/'.join(names)} in {len(hits)} {counted} {window} "
                f"(this one {'included' if included else 'not among them'}; "
                f"at least {self.at_least})",
                values,
            )
        if question == "escalations":
            found = [e for e in history.escalations if e.kind in names and e.opened_at >= since]
            if len(found) < self.at_least:
                return None
            return Fact(
                kind,
                f"history: {len(found)} {'/'.join(names)} escalations {window} "
                f"(at least {self.at_least})",
                {"names": names, "count": len(found), "within": span, "at_least": self.at_least},
            )
        if question == "open":
            found = [e for e in history.open_escalations() if not names or e.kind in names]
            if len(found) < self.at_least:
                return None
            return Fact(
                kind,
                "history: open escalations: " + ", ".join(f"{e.kind} {e.severity}" for e in found),
                {"open": [{"kind": e.kind, "severity": e.severity} for e in found]},
            )
        mark: MarkKind = "warning" if question == "warned" else "flag"
        marked = _marked(history.messages, mark, names, since)
        if len(marked) < self.at_least:
            return None
        last_at, last = marked[0]
        what = "warned about" if mark == "warning" else "flagged"
        return Fact(
            kind,
            f"history: {what} {last.name} on {last_at:%Y-%m-%d} ({len(marked)} {window})",
            {"name": last.name, "on": f"{last_at:%Y-%m-%d}", "count": len(marked), "within": span},
        )


QUESTIONS = ("signals", "markers", "escalations", "open", "warned", "flagged")


def _carries(message: SeenMessage, question: str, names: Sequence[str], threshold: float) -> bool:
    if question == "signals":
        # A guess is no occasion: one fed-up message read as abuse by the second opinion
        # made the next real insult "repeated" (guessed.py).
        return any(
            message.signals.get(n, 0.0) >= threshold and n not in message.guessed for n in names
        )
    return any(n in message.markers for n in names)


def _occasions(hits: Sequence[SeenMessage], apart: timedelta) -> list[SeenMessage]:
    """`hits` (newest first), one per occasion: a message closer than `apart` to the one
    counted after it (newer) is the same occasion. Newest first still, the current one
    first when it carries it."""
    kept: list[SeenMessage] = []
    for m in hits:
        if not kept or kept[-1].at - m.at >= apart:
            kept.append(m)
    return kept


def _marked(
    messages: Sequence[SeenMessage], kind: MarkKind, names: Sequence[str], since: datetime
) -> list[tuple[datetime, Mark]]:
    return [
        (m.at, mark)
        for m in messages
        if m.at >= since
        for mark in m.marks
        if mark.kind == kind and (not names or mark.name in names)
    ]
