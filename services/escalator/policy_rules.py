"""The routing policy's shape: rules, their conditions and outputs, validated at load.

Field problems are pydantic errors (with the path of the field); problems across fields
(ids, addresses, deadlines, chains, names that refer to nothing) are `consistency_problems`,
each with where it is, so `careline policy check` can name the line of every one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.contracts import Channel, IdentityStatus, NotificationKind, Severity, Signal

from .detection import SIGNALS
from .detection.lexicon import load_lexicon
from .history import HistoryCondition
from .team_calendar import (
    WEEKDAYS,
    BusinessHours,
    Duration,
    Holidays,
    Period,
    TeamCalendar,
    Weekday,
    zone,
)

STAFF_ROLES = (
    "account_manager",
    "agent",
    "head_of_support",
    "legal",
    "billing",
    "security",
    "supervisor",
    "deputy",
    "director",
)
TeamLanguage = Literal["ru", "uk", "en"]
Location = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _known_signals(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(SIGNALS))
    if unknown:
        raise ValueError(f"unknown signals {unknown}; known: {list(SIGNALS)}")
    return names


def _as_list(value: Any) -> Any:
    # `history: {signals: [abuse], at_least: 2}` is one condition; a list is several.
    return [value] if isinstance(value, dict) else value


class When(_Strict):
    any_signals: list[str] = Field(default_factory=list)
    all_signals: list[str] = Field(default_factory=list)
    none_signals: list[str] = Field(
        default_factory=list, description="The rule does not fire if any of these is present."
    )
    min_score: float = 0.5
    min_signals: PositiveInt | None = Field(
        None, description="At least this many distinct signals at once (at min_score)."
    )
    identity_status: list[IdentityStatus] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    time: list[Period] = Field(
        default_factory=list, description="Any of these periods, in the team's time zone."
    )
    markers: list[str] = Field(default_factory=list, description="This message has any of them.")
    all_markers: list[str] = Field(
        default_factory=list, description="This message has every one of them."
    )
    none_markers: list[str] = Field(
        default_factory=list, description="The rule does not fire if the message has any of them."
    )
    history: Annotated[list[HistoryCondition], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Every one of these facts about the subject holds."
    )

    @field_validator("any_signals", "all_signals", "none_signals")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        return _known_signals(names)

    @field_validator("history")
    @classmethod
    def _history_signals(cls, conditions: list[HistoryCondition]) -> list[HistoryCondition]:
        for condition in conditions:
            _known_signals(condition.signals or [])
        return conditions

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        about_message = self.any_signals or self.all_signals or self.identity_status
        if not (about_message or self.min_signals):
            raise ValueError("a rule needs at least one signal or identity condition")
        return self


class ClientContact(_Strict):
    kind: NotificationKind
    to: Literal["registered_channel", "sender"]


class Notify(_Strict):
    role: str
    level: PositiveInt = Field(1, description="1: at once; N: when the escalation climbs to N.")


def _notify_entry(value: Any) -> Any:
    return {"role": value} if isinstance(value, str) else value


class StaffContact(_Strict):
    """Where a role is told, and in which language it reads (the team's when not given)."""

    address: str
    language: TeamLanguage | None = None


def _contact_entry(value: Any) -> Any:
    # `legal: legal@x` is the address alone; `legal: {address: ..., language: en}` says both.
    if isinstance(value, str):
        return {"address": value}
    if not isinstance(value, dict | StaffContact):
        raise ValueError("a role is an address, or {address: ..., language: ru | uk | en}")
    return value


def address_key(address: str) -> str:
    """An address as compared: case and surrounding spaces make no other person (the
    policy's staff languages and the lifecycle's notified people alike)."""
    return address.strip().casefold()


class Hold(_Strict):
    """A pause put on the escalation, lifted by a later message without the threats from
    whoever wrote them: once `calm_for` has passed since the last threat, or sooner when it
    takes them back (history.holds_to_lift)."""

    reason: dict[TeamLanguage, str]
    while_signals: list[str] = Field(min_length=1)
    calm_for: Duration = Field(
        timedelta(hours=24),
        description="A message without the threats lifts the hold only this long after the "
        "last message that carried them (0m: the first such message lifts it).",
    )
    apology_lifts: bool = Field(
        True,
        description="A message without the threats that takes them back («извините, я "
        "погорячился», 'sorry, I didn't mean it') lifts it before `calm_for` has passed.",
    )
    spares_only: bool = Field(
        False,
        description="The hold only spares the staff the signals name (the deputy takes the "
        "client's cases): placed only when they name someone, and the client's answers are "
        "not withheld (a flirting client's failure is still answered).",
    )

    @field_validator("while_signals")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        return _known_signals(names)


class EvidenceOnly(_Strict):
    """A marker read from a signal's evidence, not from the words: the message carries
    `signal`, at least one piece of its evidence is an `only` entry, and every piece is an
    `only` or a `beside` one (entry ids, `*` any part: `*.fail.service_not_working`). The
    form of a message (capitals, "!!!": `form.*`) says how, not what, and is left aside.
    A plain outage report («интернет не работает») is told so from a failure whose
    evidence names a missed promise beside it."""

    signal: str
    only: list[str] = Field(min_length=1, description="Entries of which every piece is one.")
    beside: list[str] = Field(
        default_factory=list,
        description="Entries that may stand beside them, never alone («опять», 'again').",
    )

    @field_validator("signal")
    @classmethod
    def _known(cls, name: str) -> str:
        return _known_signals([name])[0]

    @cached_property
    def only_regex(self) -> re.Pattern[str]:
        return _entry_globs(self.only)

    @cached_property
    def beside_regex(self) -> re.Pattern[str]:
        return _entry_globs(self.beside)

    def holds(self, signals: Iterable[Signal]) -> bool:
        rules = [
            e.rule
            for s in signals
            if s.name == self.signal
            for e in s.evidence
            if not e.rule.startswith("form.")
        ]
        said = [r for r in rules if self.only_regex.fullmatch(r)]
        return bool(said) and all(r in said or self.beside_regex.fullmatch(r) for r in rules)


def _entry_globs(globs: list[str]) -> re.Pattern[str]:
    # `*.fail.service_not_working`: `*` is one dotted part of an entry id (any language).
    parts = ["\\.".join("[^.]+" if p == "*" else re.escape(p) for p in g.split(".")) for g in globs]
    return re.compile("|".join(parts) or "(?!)")


class Marker(_Strict):
    """Words the policy looks for itself (e.g. a pending suspension), as regular
    expressions; or what a signal's evidence is made of (`evidence`: an outage report)."""

    patterns: list[str] = Field(default_factory=list)
    evidence: EvidenceOnly | None = None
    names: dict[TeamLanguage, str] = Field(
        default_factory=dict,
        description="What staff notices call it, per language (the id where none is given).",
    )

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a regular expression: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _one_way(self) -> Marker:
        if bool(self.patterns) == (self.evidence is not None):
            raise ValueError("a marker has either patterns or evidence, one of them")
        return self

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.patterns) or "(?!)", re.IGNORECASE)

    def found(self, text: str, signals: Iterable[Signal]) -> bool:
        if self.evidence is not None:
            return self.evidence.holds(signals)
        return self.regex.search(text) is not None


class Rule(_Strict):
    id: str
    when: When
    kind: str
    severity: Severity
    notify: list[Annotated[Notify, BeforeValidator(_notify_entry)]]
    ack_minutes: PositiveFloat | None = Field(
        None, description="Minutes to acknowledge, instead of the severity's."
    )
    playbook: dict[str, str] = Field(default_factory=dict)
    client_contacts: list[ClientContact] = Field(default_factory=list)
    warn: bool = Field(
        False,
        description="The client is warned (a conduct_notice client contact says it in writing; "
        "staff say it too): recorded as a warning, which history conditions count.",
    )
    flag: list[str] = Field(default_factory=list, description="Flags recorded on the subject.")
    hold: Hold | None = None
    reopen_within: Duration | None = Field(
        None, description="Reopen a resolved one this recent (0m: never); default the policy's."
    )

    @field_validator("notify")
    @classmethod
    def _roles(cls, notify: list[Notify]) -> list[Notify]:
        unknown = sorted({n.role for n in notify} - set(STAFF_ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {list(STAFF_ROLES)}")
        return notify

    @property
    def roles(self) -> list[str]:
        """The roles told when it opens (level 1)."""
        return [n.role for n in self.notify if n.level == 1]

    @property
    def later(self) -> list[Notify]:
        """Roles the rule itself adds when the escalation climbs to their level."""
        return [n for n in self.notify if n.level > 1]


class Within(_Strict):
    """A time the policy gives: `minutes` of the clock, or of the team's business hours when
    `business_hours` (a promise made on a Friday evening is kept on Monday), then never
    later than `at_most_minutes` of the clock when given (long holidays: a P3 arriving on
    31 December would otherwise wait for 12 January)."""

    minutes: PositiveFloat
    business_hours: bool = False
    at_most_minutes: PositiveFloat | None = None


def _minutes_entry(value: Any) -> Any:
    # `P1: 15` is the minutes of the clock, as every policy said before the mapping form.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"minutes": value}
    return value


def _default_client_reply() -> dict[Severity, Within]:
    # The urgent ones are worked around the clock (their chains climb at night); the others
    # within working days: a promise made on a Friday evening is kept on Monday.
    return {
        "P1": Within(minutes=120),
        "P2": Within(minutes=240),
        "P3": Within(minutes=480, business_hours=True),
        "P4": Within(minutes=960, business_hours=True),
    }


class Policy(_Strict):
    team_language: TeamLanguage = "ru"
    team_timezone: str = "UTC"
    business_hours: BusinessHours = BusinessHours()
    weekend: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[5:]))
    holidays: Holidays = Holidays()
    history_lookback: Duration = Field(
        timedelta(days=90), description="How far back a subject's history is loaded."
    )
    history_only_channels: list[Channel] = Field(
        default_factory=list, description="Recorded in the history; never fire a rule."
    )
    reopen_within: Duration = Field(
        timedelta(days=7), description="A message this soon after resolution reopens it."
    )
    follow_up_quiet: Duration = Field(
        timedelta(minutes=10),
        description="A client's message written into an open case without a rule of its own "
        "tells the case's holders at most once in this window after they were last told of "
        "it (a chat sends a line at a time); those between are in its timeline and in the "
        "next notice's recent messages (0m: every one).",
    )
    markers: dict[str, Marker] = Field(default_factory=dict)
    roles: dict[str, Annotated[StaffContact, BeforeValidator(_contact_entry)]] = Field(
        description="Staff role -> address, or {address, language} (account managers: CRM)."
    )
    staff_languages: dict[str, TeamLanguage] = Field(
        default_factory=dict,
        description="Address -> the language that person reads staff notices in, for people "
        "the roles do not name (account managers); the team's language otherwise.",
    )
    ack_deadlines_minutes: dict[Severity, Annotated[Within, BeforeValidator(_minutes_entry)]] = (
        Field(
            description="Severity -> minutes to acknowledge (`P1: 15`), or {minutes, "
            "business_hours: true} for those the team takes on in its working hours: a P3 "
            "that arrives at night waits for the morning instead of climbing to the next "
            "level at two o'clock."
        )
    )
    client_reply: dict[Severity, Within] = Field(
        default_factory=_default_client_reply,
        description="Severity -> the reply a client is promised (never before the ack deadline).",
    )
    client_reply_remind_minutes: PositiveFloat = Field(
        30,
        description="Whoever holds an open escalation is reminded this long before its "
        "promise to the client falls due.",
    )
    no_admission_while: list[str] = Field(
        default_factory=lambda: ["legal"],
        description="Escalation kinds during which (opened by the message, or open) the "
        "client gets no automatic admission of fault (the failure notice): the lawyers say "
        "what is written (seed 002: a concrete threat goes to the lawyers, who weigh it).",
    )
    no_reply_to_unverified_while: list[str] = Field(
        default_factory=lambda: ["payment_details"],
        description="Escalation kinds impostors ask for (invoice fraud: payment_details) "
        "during which (opened by the message, or open) a sender not verified hears nothing "
        "automatic back (no explanation, no acknowledgement: it may be the forger); the "
        "registered contact's confirmation request says what such a sender asked.",
    )
    client_reply_new_dates: int = Field(
        2,
        ge=0,
        description="How many times a promise to the client that passes unkept is owned up "
        "to automatically: the client is told first, with a new date; then only a person "
        "answers (seed 001).",
    )
    stranger_explanation: bool = Field(
        True,
        description="An unknown sender (nothing on file matched) whose message opens or "
        "reopens an escalation that none of its rule's client contacts can reach (they go to "
        "a registered address it has none of) is told once per escalation and address that "
        "the message is with staff and how to be matched (`stranger_explanation`, general "
        "content); only by email that passed SPF or DMARC (a forged From is not answered).",
    )
    chains: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Role -> who is told next, level by level, when nobody acknowledges.",
    )
    rules: list[Rule]

    @field_validator("team_timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            zone(name)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown IANA time zone {name!r} (e.g. Europe/Moscow)") from exc
        return name

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Policy:
        # `careline policy check` asks for every problem, each with where it is.
        if info.context and info.context.get("collect_problems"):
            return self
        problems = consistency_problems(self)
        if problems:
            raise ValueError(problems[0][1])
        return self

    @cached_property
    def calendar(self) -> TeamCalendar:
        return TeamCalendar(
            timezone=self.team_timezone,
            business_hours=self.business_hours,
            weekend=self.weekend,
            holidays=self.holidays,
        )

    def ack_by(self, severity: str, at: datetime, minutes: float | None = None) -> datetime:
        """When an escalation of `severity` given to someone at `at` must be acknowledged: a
        rule's own `ack_minutes` (an urgency it names: the clock's), else the severity's."""
        if minutes is not None:
            return at + timedelta(minutes=minutes)
        return self._after(self.ack_deadlines_minutes[severity], at)  # type: ignore[index]

    def _after(self, within: Within, at: datetime) -> datetime:
        # A team without business days (a policy of before) counts the clock's minutes.
        if within.business_hours and self.business_hours.days:
            due = self.calendar.after_business_minutes(at, within.minutes)
            if within.at_most_minutes is not None:
                due = min(due, at + timedelta(minutes=within.at_most_minutes))
            return due
        return at + timedelta(minutes=within.minutes)

    def client_reply_by(self, severity: str, at: datetime, ack_deadline: datetime) -> datetime:
        """When a client whose escalation opened `at` is promised an answer: the severity's
        `client_reply` from then, and never before staff must acknowledge it (seed 001: the
        promise is what the team can keep, not the fifteen minutes it has to pick it up)."""
        reply = self.client_reply.get(severity)  # type: ignore[call-overload]
        if reply is None:
            return ack_deadline
        return max(self._after(reply, at), ack_deadline)

    def address(self, role: str) -> str:
        """The role's address ("" when the policy gives none)."""
        contact = self.roles.get(role)
        return contact.address.strip() if contact else ""

    @cached_property
    def languages_by_address(self) -> dict[str, TeamLanguage]:
        """Who reads another language than the team's, by address (compared as
        `lifecycle.address_key` does): a role's `language`, and `staff_languages`."""
        known = {address_key(a): language for a, language in self.staff_languages.items()}
        for contact in self.roles.values():
            if contact.language is not None:
                known[address_key(contact.address)] = contact.language
        return known

    def marker_names(self, markers: list[str], language: str | None = None) -> list[str]:
        """The markers as the notices in `language` (default the team's) call them."""
        language = language or self.team_language
        return [
            self.markers[m].names.get(language, m) if m in self.markers else m  # type: ignore[call-overload]
            for m in markers
        ]

    def markers_in(self, text: str, signals: Iterable[Signal] = ()) -> list[str]:
        """The markers of a message: its words' (`text`), its signals' evidence's."""
        signals = list(signals)
        return [name for name, marker in self.markers.items() if marker.found(text, signals)]


def consistency_problems(policy: Policy) -> list[tuple[Location, str]]:
    """What is wrong across fields (where, what): ids, addresses, deadlines, chains, names."""
    problems: list[tuple[Location, str]] = []
    seen: set[str] = set()
    kinds = {r.kind for r in policy.rules}
    flags = {f for r in policy.rules for f in r.flag}
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            problems.append((("rules", i, "id"), f"rule ids must be unique: {rule.id} again"))
        seen.add(rule.id)
        missing = [
            n.role
            for n in rule.notify
            if n.role != "account_manager" and not policy.address(n.role)
        ]
        if missing:
            where: Location = ("rules", i, "notify")
            problems.append((where, f"rule {rule.id}: no address for roles {missing}"))
        if rule.severity not in policy.ack_deadlines_minutes:
            where = ("rules", i, "severity")
            problems.append(
                (where, f"rule {rule.id}: no ack deadline for severity {rule.severity}")
            )
        if not rule.roles:
            where = ("rules", i, "notify")
            problems.append((where, f"rule {rule.id}: nobody is told at level 1"))
        problems += _condition_problems(policy, i, rule, kinds, flags)
    problems += _language_problems(policy)
    problems += _evidence_marker_problems(policy)
    for role, chain in policy.chains.items():
        unknown = sorted({role, *chain} - set(STAFF_ROLES))
        if unknown:
            problems.append((("chains", role), f"chain of {role}: unknown roles {unknown}"))
        # Who climbs is told from the policy: the account manager is per customer.
        missing = [r for r in chain if not policy.address(r)]
        if missing:
            problems.append((("chains", role), f"chain of {role}: no address for roles {missing}"))
    return problems


def _evidence_marker_problems(policy: Policy) -> list[tuple[Location, str]]:
    """An evidence marker's entry that names nothing of the lexicon (a typo, an entry since
    renamed) would make it never hold, silently: said, with where."""
    markers = {n: m.evidence for n, m in policy.markers.items() if m.evidence is not None}
    if not markers:
        return []
    lexicon = load_lexicon()
    problems: list[tuple[Location, str]] = []
    for name, evidence in markers.items():
        ids = [e.id for e in lexicon.patterns if e.signal == evidence.signal]
        for field in ("only", "beside"):
            for k, glob in enumerate(getattr(evidence, field)):
                if not any(_entry_globs([glob]).fullmatch(i) for i in ids):
                    problems.append(
                        (
                            ("markers", name, "evidence", field, k),
                            f"marker {name}: no {evidence.signal} entry is {glob}",
                        )
                    )
    return problems


def _language_problems(policy: Policy) -> list[tuple[Location, str]]:
    """A person reads one language: an address given two (a role's and `staff_languages`,
    or two roles') is a mistake, said where the second is given."""
    problems: list[tuple[Location, str]] = []
    given: dict[str, tuple[str, str]] = {}  # address key -> (language, where it was given)
    said: list[tuple[Location, str, str]] = [
        (("roles", role, "language"), contact.address, contact.language)
        for role, contact in policy.roles.items()
        if contact.language is not None
    ]
    said += [
        (("staff_languages", a), a, language) for a, language in policy.staff_languages.items()
    ]
    for where, address, language in said:
        if not address.strip():
            problems.append((where, "a language needs an address to be read at"))
            continue
        first = given.setdefault(address_key(address), (language, ".".join(map(str, where))))
        if first[0] != language:
            problems.append(
                (where, f"{address} reads {first[0]} already ({first[1]}), not {language} too")
            )
    return problems


def _condition_problems(
    policy: Policy, i: int, rule: Rule, kinds: set[str], flags: set[str]
) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    for field in ("markers", "all_markers", "none_markers"):
        unknown = sorted(set(getattr(rule.when, field)) - set(policy.markers))
        if unknown:
            where: Location = ("rules", i, "when", field)
            problems.append((where, f"rule {rule.id}: unknown markers {unknown}"))
    for j, condition in enumerate(rule.when.history):
        where = ("rules", i, "when", "history", j)
        refers_to = {
            "markers": (set(policy.markers), "markers"),
            "escalations": (kinds, "kinds"),
            "open": (kinds, "kinds"),
            "warned": (kinds, "kinds"),
            "flagged": (flags, "flags"),
        }.get(condition.question)
        if refers_to is not None:
            known, what = refers_to
            unknown = sorted(set(condition.names) - known)
            if unknown:
                problems.append(
                    ((*where, condition.question), f"rule {rule.id}: unknown {what} {unknown}")
                )
        if condition.within is not None and condition.within > policy.history_lookback:
            problems.append(
                (
                    (*where, "within"),
                    f"rule {rule.id}: looks back further than history_lookback "
                    f"({condition.within} > {policy.history_lookback})",
                )
            )
    return problems
