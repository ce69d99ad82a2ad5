"""Escalator use case: a verified message in; escalations and notifications out.

Per message, in one transaction: the subject (customer, or sender) is locked, its history
is read, the policy decides on the message's signals, identity, channel, the team's clock
and that history; holds the message ends are lifted; each decision opens, merges into or
reopens an escalation and tells whom it must (each staff address once for the whole message:
digest.py); and what the escalator saw of the message is recorded for the next decision.
Messages that share a transaction (shared.group_commit) lock their subjects and read their
histories together, and insert their records together at the end (batch.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import (
    EscalationChanged,
    IdentityVerified,
    SendNotification,
    Signal,
    derived_id,
)
from shared.db import Database
from shared.group_commit import GroupCommit, batch_of
from shared.outbox import Outgoing
from shared.subjects import (
    ESCALATION_OPENED,
    ESCALATION_REOPENED,
    ESCALATION_UPDATED,
    NOTIFY_REQUEST,
)

from .adapters import SqlEscalationStore
from .batch import BatchEscalationStore, EscalateBatch
from .client_fixed import says_fixed, still_owed
from .client_words import sentences_with
from .condition_facts import Fact, change_facts, new_sender_fact, who_wrote
from .courtesy import holders_hear
from .detection import SecondOpinion, read_message
from .digest import message_notices, to_the_sender, withheld_kinds
from .facts import fact_pack, hold_record, hold_view, pack_of_case, seen_message
from .history import (
    History,
    Mark,
    PastEscalation,
    followed_up,
    holds_to_lift,
    standing_holds,
)
from .history_store import load_history, lock_subject, record_seen, seen_row
from .hold_notices import follow_up_notices, hold_lifted_notices
from .hold_said import hold_said
from .impersonation import named_customer_alert
from .lifecycle import Escalation, ack_view
from .links import AckLinkIssuer
from .notifications import (
    client_contacts,
    guessed_only,
    makes_promise,
    notified_staff,
    outage_only,
    promise_contact,
    promised_about,
    rule_role_address,
    staff_briefing,
    staff_notifications,
    subject_key,
    to_other_holders,
    warning_said,
)
from .passed_over import named_by, sparings_of
from .placement import NewEscalation, Placed
from .policy import (
    Decision,
    Policy,
    Situation,
    admission_barred,
    evaluate,
    hold_stands,
    sender_silence,
)
from .problem_keys import ABOUT_SIGNALS, keyed
from .revoked_sender import as_disowned, revoked_since_decided, sender_keys
from .revoked_store import revoked_of
from .staff_language import StaffLanguages, of_escalations, of_message
from .tables import processed
from .threatened import (
    THREAT_FACTS,
    aimed_at,
    is_spared,
    one_each,
    spared_staff,
    threatened_notices,
    threatened_staff,
    unnamed_to_client,
    with_threatened,
)
from .unclear import UnclearAnswer, late_denial_alert, unclear_answers, unclear_notices

# Who speaking goes on with the subject's cases: the client on a verified channel, or an
# unknown sender (its subject is its own address: its cases are its own).
FOLLOWS_UP_AS = frozenset({"verified", "unknown"})

SUBJECTS = {
    "opened": ESCALATION_OPENED,
    "merged": ESCALATION_UPDATED,
    "reopened": ESCALATION_REOPENED,
    "hold_lifted": ESCALATION_UPDATED,
}


class EscalatorService:
    def __init__(
        self,
        db: Database,
        policy: Policy,
        clock: Callable[[], datetime],
        links: AckLinkIssuer | None = None,
        commits: GroupCommit | None = None,
        opinions: Mapping[str, SecondOpinion] | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.links = links
        self.opinions = opinions
        self.commits = commits or GroupCommit(db, processed, "escalator", clock)
        self.commits.open_batch = self._open_batch

    async def handle(self, verified: IdentityVerified) -> list[Outgoing]:
        """Once per message, in the transaction it shares with the messages beside it."""
        return await self.commits.once(
            str(verified.message_id), lambda session: self._escalate(session, verified), verified
        )

    async def _open_batch(
        self, session: AsyncSession, messages: list[IdentityVerified]
    ) -> EscalateBatch:
        subjects = sorted({subject_key(m) for m in messages})
        windows = [self.policy.reopen_within, *(r.reopen_within for r in self.policy.rules)]
        longest = max(w for w in windows if w is not None)
        senders = sorted({k for m in messages for k in sender_keys(m)})
        return await EscalateBatch.read_ahead(
            session, subjects, self.clock(), self.policy.history_lookback, longest, senders
        )

    async def _escalate(self, session: AsyncSession, verified: IdentityVerified) -> list[Outgoing]:
        now = self.clock()
        key = subject_key(verified)
        since = now - self.policy.history_lookback
        batch = batch_of(session, EscalateBatch)
        history = await batch.history(session, key, since) if batch else None
        store = BatchEscalationStore(session, batch) if batch else SqlEscalationStore(session)
        if history is None:  # not read with the batch: lock the subject and read it now
            await lock_subject(session, key)
            history = await load_history(session, key, since)
        # Verified before a revoke of its address, handled after it: the sender is disowned,
        # for everything below that reads the identity (revoked_sender.py).
        keys = sender_keys(verified)
        revoked = batch.revokes(keys) if batch else None
        if revoked is None:
            revoked = await revoked_of(session, keys)
        revoke = revoked_since_decided(verified, revoked)
        if revoke is not None:
            verified = as_disowned(verified, revoke)
        message, identity = verified.message, verified.identity
        read = read_message(message.text, language=message.language, opinions=self.opinions)
        signals = read.signals
        if read.latin_language is not None and message.language not in ("ru", "uk"):
            # Russian or Ukrainian in Latin letters: answered in the language it is written in.
            message = message.model_copy(update={"language": read.latin_language})
            verified = verified.model_copy(update={"message": message})
        text = f"{message.subject}\n{message.text}"
        situation = Situation(now, message.channel, text, history)
        current = seen_message(verified, signals, self.policy.markers_in(text, signals), [])
        outputs: list[Outgoing] = []
        lifted: list[PastEscalation] = []
        staff: list[SendNotification] = []
        if message.channel not in self.policy.history_only_channels:
            lifted = holds_to_lift(
                history, current.signals, sender=current.sender, at=current.at, text=text
            )
            for held in lifted:
                events, told = await self._lift_hold(store, held, verified, now)
                outputs += events
                staff += told
        marks: list[Mark] = []
        placements: list[tuple[Placed, str]] = []  # where each escalation went, its kind
        clients: list[SendNotification] = []
        # A rule's own signals say why it fired; the fact pack shows everything the client
        # said (the insult beside the blackmail, the money beside the lawsuit).
        facts = fact_pack(verified, tuple(signals), current, history)
        decisions = evaluate(self.policy, signals, identity, situation)
        # A threat that names the account manager says so, and they hear it from us
        # (threatened.py, seed 003: protect the staff).
        people = threatened_staff(message.text, signals, identity.account_manager)
        decisions = [with_threatened(d, people) for d in decisions]
        # Whom the client threatened, now or under a hold that stands: given none of its cases.
        standing = standing_holds(history, lifted)
        spared = spared_staff(people, standing)
        # And in which case: a standing hold's, else the one this message's threat went to.
        sparings = sparings_of(
            (e.id, e.hold.model_dump(mode="json") if e.hold else None) for e in standing
        )
        threatened: list[SendNotification] = []
        # Under a hold the contacts that promise an answer are withheld (message_notices).
        under_hold = hold_stands(history, lifted, decisions)
        # While the lawyers weigh a claim, nothing admits fault to the client (digest.py).
        legal_claim = admission_barred(self.policy, history, decisions)
        unsaid = withheld_kinds(under_hold, legal_claim, identity.status == "suspicious")
        # Invoice fraud from a sender not verified: nothing back to it, and the registered
        # contact's confirmation request says what it asked (policy.silent_to_sender).
        silent, asks = sender_silence(self.policy, identity, history, decisions, current.sender)
        languages = of_message(self.policy, identity)  # who of the staff reads which
        for decision in decisions:
            rule = decision.rule
            promise = makes_promise(decision, verified, unsaid)
            placed, event, changed = await self._place(
                store, decision, verified, facts, now, promise
            )
            outputs.append(Outgoing.of(SUBJECTS[event.change], event))
            told, contacted, warned = await self._tell_staff(
                store,
                decision,
                event,
                placed,
                changed,
                verified,
                facts,
                now,
                languages,
                silent,
                asks,
                signals,
                spared=spared,
            )
            staff += told
            clients += contacted
            # Told apart from the person's digest: it is not a case to take, but a warning.
            again = ("reopened", verified.message_id) if placed.change == "reopened" else ()
            threatened += threatened_notices(people, decision, event, verified, languages, again)
            for person in aimed_at(decision, people):
                sparings.setdefault(person.staff_id, named_by(placed.id, person.signals))
            placements.append((placed, rule.kind))
            if warned:
                marks.append(Mark(kind="warning", name=rule.kind))
            marks += [Mark(kind="flag", name=flag) for flag in rule.flag]
        touched = [{"id": str(p.id), "kind": kind, "change": p.change} for p, kind in placements]
        # The registered contact answered a confirmation request with neither yes nor no:
        # the cases of the sender asked about hear it as such (unclear.py), no follow-up.
        for answer in unclear_answers(identity):
            events, told, cases = await self._answered_unclearly(
                store, history, answer, verified, facts, now
            )
            outputs += events
            staff += told
            touched += [{"id": e.id, "kind": e.kind, "change": "identity_unclear"} for e in cases]
            if answer.settled and not cases:
                # A no after a yes that no case holds: someone must hear it. A notice of its
                # own, outside the message's staff digests (it is about no escalation).
                alert = late_denial_alert(
                    self.policy, verified, answer, languages, now, spared, sparings
                )
                if alert is not None:
                    outputs.append(Outgoing.of(NOTIFY_REQUEST, alert))
        # A sender another client disowned, writing in this customer's name: the customer
        # it named is warned apart (impersonation.py); the disowner's people have the case.
        warned_named = named_customer_alert(self.policy, verified, now)
        if warned_named is not None:
            outputs.append(Outgoing.of(NOTIFY_REQUEST, warned_named))
        if self._goes_on(verified, decisions):
            # Nothing said fired a rule: if the client has open cases, this goes on with them.
            done = {t["id"] for t in touched} | {e.id for e in lifted}
            for past in followed_up(history, done, message.subject):
                events, told = await self._follow_up(store, past, verified, facts, now)
                outputs += events
                staff += told
                if events:
                    touched.append({"id": past.id, "kind": past.kind, "change": "follow_up"})
        # Told once per person for the whole message, however many escalations it touched;
        # under a hold some contacts to the client are withheld (see `message_notices`).
        holds = self._holds_standing(history, lifted, placements)
        clients = unnamed_to_client(clients, spared, identity.account_manager)
        notices = message_notices(
            verified, staff, clients, under_hold, holds, legal_claim, silent_sender=silent
        )
        outputs += [Outgoing.of(NOTIFY_REQUEST, n) for n in [*notices, *one_each(threatened)]]
        seen = current.model_copy(update={"marks": marks})
        customer_id = identity.customer.id if identity.customer else None
        row = seen_row(key, customer_id, seen, message.language, touched, now)
        if batch is not None:
            batch.record(key, row, seen, placed=bool(outputs))
        else:
            await record_seen(session, [row])
        return outputs

    async def _place(
        self,
        store: SqlEscalationStore,
        decision: Decision,
        verified: IdentityVerified,
        facts: dict[str, Any],
        now: datetime,
        promise: bool = False,
    ) -> tuple[Placed, EscalationChanged, list[Fact]]:
        """Open, merge into or reopen the escalation of the decision's kind; with `promise`,
        the client is told when the answer comes (kept on the escalation)."""
        rule, identity = decision.rule, verified.identity
        key = subject_key(verified)
        window = rule.reopen_within
        if window is None:
            window = self.policy.reopen_within
        hold = None
        # Whom the threats named: spared the client's cases while the hold stands.
        named = [f.values for f in decision.facts if f.kind in THREAT_FACTS]
        spares = [str(v["staff"]) for v in named]
        # A hold that only spares the named staff means nothing when it names nobody.
        if rule.hold is not None and (spares or not rule.hold.spares_only):
            texts = {str(language): text for language, text in rule.hold.reason.items()}
            hold = hold_record(
                rule.id,
                texts,
                rule.hold.while_signals,
                verified,
                now,
                self.policy.team_language,
                spares,
                rule.hold.model_dump(include={"calm_for", "apology_lifts", "spares_only"}),
                [str(v["person"]) for v in named],
            )
        new = NewEscalation(
            id=derived_id("escalation", key, rule.kind, verified.message_id),
            subject_key=key,
            customer_id=identity.customer.id if identity.customer else None,
            kind=rule.kind,
            severity=rule.severity,
            rule=rule.id,
            reason=decision.reason,
            identity_status=identity.status,
            roles=rule.roles,
            # A problem's evidence keeps what it is about: a merge tells a new one by it.
            signals=keyed(decision.signals, verified.message.text, verified.message.language),
            ack_deadline=self.policy.ack_by(rule.severity, now, rule.ack_minutes),
            correlation_id=verified.correlation_id,
            facts=facts,
            hold=hold,
            planned=self._planned(decision, verified),
            ack_minutes=rule.ack_minutes,
            reopen_since=now - window if window.total_seconds() > 0 else None,
            promise=self._promise(rule.ack_minutes, now) if promise else None,
            promise_to=promise_contact(verified, promised_about(rule)) if promise else None,
            deadline=lambda severity: self.policy.ack_by(severity, now, rule.ack_minutes),
            confirmation_id=identity.confirmation.confirmation_id
            if identity.confirmation
            else None,
            subject=verified.message.subject,
        )
        placed = await store.open_or_merge(new, verified.message_id, now)
        changed = _changed(placed, verified)
        reason = "; ".join([*(f.text for f in changed), decision.reason])
        event = EscalationChanged(
            event_id=derived_id("escalation-changed", placed.id, verified.message_id),
            message_id=verified.message_id,
            correlation_id=verified.correlation_id,
            occurred_at=now,
            escalation_id=placed.id,
            change=placed.change,
            kind=rule.kind,
            severity=placed.severity,  # type: ignore[arg-type]
            rule=rule.id,
            reason=reason,
            customer_id=new.customer_id,
            identity_status=identity.status,
            signals=list(decision.signals),
            roles=rule.roles,
            # The escalation's own deadline: a merge keeps the one it has.
            ack_deadline=placed.ack_deadline or new.ack_deadline,
            hold=self._hold_text(placed.hold),
            client_reply_by=placed.client_reply_by,
        )
        return placed, event, changed

    def _promise(self, ack_minutes: float | None, now: datetime) -> Callable[[str], datetime]:
        """When the client is promised an answer, given the severity the escalation has once
        the message is placed (never before staff must acknowledge it)."""

        def promised(severity: str) -> datetime:
            deadline = self.policy.ack_by(severity, now, ack_minutes)
            return self.policy.client_reply_by(severity, now, deadline)

        return promised

    def _planned(self, decision: Decision, verified: IdentityVerified) -> list[dict[str, Any]]:
        """The rule's roles for later levels, with the address each will be told at (the
        account manager's and their CRM deputy's own, as at level 1; a climb passes over a
        deputy a hold spares by then: lifecycle.next_climb)."""
        manager = verified.identity.account_manager
        planned = []
        for n in decision.rule.later:
            address = manager.email if n.role == "account_manager" and manager else None
            address = address or rule_role_address(self.policy, n.role, manager)
            if address:
                planned.append({"role": n.role, "level": n.level, "address": address})
        return planned

    async def _tell_staff(
        self,
        store: SqlEscalationStore,
        decision: Decision,
        event: EscalationChanged,
        placed: Placed,
        changed: list[Fact],
        verified: IdentityVerified,
        facts: dict[str, Any],
        now: datetime,
        languages: StaffLanguages,
        silent: bool = False,
        asks: list[str] | None = None,
        message_signals: Sequence[Signal] = (),
        spared: Collection[str] = (),
    ) -> tuple[list[SendNotification], list[SendNotification], bool]:
        """Opening tells the rule's roles and contacts the client; reopening tells the
        rule's roles again; a merge tells only the roles the escalation had not told yet,
        unless it raised the severity (the deadline is shorter now) or the client wrote
        something the escalation did not have (a new problem, a new threat: whoever holds
        it must know before answering): then the rule's roles hear it, told before or not,
        and the notice says why.
        The staff notices and the client contacts, apart: staff notices are grouped per
        person over the message (digest.py); and whether the client was warned in writing
        by them (a rule that warns records the warning only then). `changed`: what the
        message changed of the escalation, as `_place` said it in the event's reason.
        `languages`: who of the staff reads which (of_message).
        `silent`: nothing goes back to the sender (policy.silent_to_sender), so a conduct
        notice to it warns nobody; `asks`: what the confirmation request names
        (policy.guarded_asks); `message_signals`: every signal of the message (what the
        client's words quoted back leave out: its threats)."""
        extra: dict[str, Any] = {
            # The open one this message merged into is the case itself, not its history (a
            # reopened one's earlier outcome is history).
            "fact_pack": pack_of_case(facts, placed.id) if placed.change == "merged" else facts,
            "hold": hold_view(placed.hold, self.policy.team_language),
            # What this message changed: in every notice of it and in the briefing that
            # later notices (a climb, a reassignment) are told from.
            "change_items": [f.item() for f in changed],
            **ack_view(placed.taken_by, event.ack_deadline, now),
        }
        occasion: tuple[object, ...] = ()
        if placed.change == "reopened":
            occasion = ("reopened", verified.message_id)
        elif placed.raised_from is not None:
            occasion = ("raised", verified.message_id)
        elif placed.news or placed.new_sender:
            occasion = ("news", verified.message_id)
        # The client at every message: the notifier takes a contact once per escalation and
        # address (see client_contacts), so a client writing again from an address already
        # answered hears nothing twice, and one writing from a new address is not ignored.
        # A reopening is a new case for the client; a raise is the team's business (the
        # client was answered once already: the same contact again would be a copy).
        reopening = occasion if placed.change == "reopened" else ()
        strangers = self.policy.stranger_explanation
        clients = client_contacts(
            decision,
            event,
            verified,
            reopening,
            strangers=strangers,
            asks=asks or (),
            message_signals=message_signals,
        )
        if placed.answered_before and _brings_new_problems(placed):
            # New problems written into the open case: the client hears they were added; a
            # new outage report is acknowledged, not admitted, whatever the case was.
            news = ("news", verified.message_id)
            clients += client_contacts(
                decision,
                event,
                verified,
                news,
                follow_up=True,
                message_signals=message_signals,
                outage_only=outage_only(self.policy, placed.news, decision.signals),
            )
        rule = decision.rule
        # A hold pauses the investigation; only `warn` says the client is warned (a threat
        # of harm is held too, and security, not an automatic notice, speaks to the client).
        warns = rule.warn and not guessed_only(decision)
        said = [c for c in clients if not (silent and to_the_sender(c))]
        warned = warns and warning_said(rule, said)
        if warns and not warned:
            # No conduct notice could go (a chat, a phone): staff warn and record it.
            extra["unwarned"] = str(event.escalation_id)
        staff = staff_notifications(
            self.policy, decision, event, verified, extra, occasion, languages, spared
        )
        if placed.change == "merged":
            told = {_who(n) for n in placed.notified}
            if placed.raised_from is None and not (placed.news or placed.new_sender):
                # The client only said again what the escalation has: whoever was told
                # has it; a role the rule adds hears it.
                staff = [n for n in staff if _who(notified_staff([n])[0]) not in told]
            elif placed.news or placed.new_sender:
                # News of the case is for everyone holding it, not only the rule's roles.
                manager = verified.identity.account_manager
                holders = [p for p in placed.notified if not is_spared(p, spared, manager)]
                staff += to_other_holders(staff, holders, occasion, languages)
            fresh = [
                {**n, "level": placed.level} for n in notified_staff(staff) if _who(n) not in told
            ]
            raised_briefing = None
            if placed.raised_from is not None:
                # A climb or a reassignment from now on is told why it is this grave: the
                # rule that raised it, its words and playbook (not the opening message's).
                raised_briefing = staff_briefing(self.policy, decision, event, verified, extra)
            await store.add_notified(placed.id, fresh, verified.message_id, now, raised_briefing)
        else:
            # Opening, or reopening: the lifecycle starts from level 1 with the rule's roles
            # (whoever a climb or a reassignment told before is not told, nor may act, now).
            briefing = staff_briefing(self.policy, decision, event, verified, extra)
            await store.record_notified(placed.id, notified_staff(staff), briefing)
        # What a digest lists of each escalation besides what the notice says already.
        level = placed.level if placed.change == "merged" else 1
        change = {"level": level, "change": placed.change}
        staff = [
            await self._with_link(store, n.model_copy(update={"data": {**n.data, **change}}), now)
            for n in staff
        ]
        return staff, clients, warned

    async def _lift_hold(
        self,
        store: SqlEscalationStore,
        held: PastEscalation,
        verified: IdentityVerified,
        now: datetime,
    ) -> tuple[list[Outgoing], list[SendNotification]]:
        """The message carries none of the hold's threats: the hold ends (timeline entry
        `hold_lifted`, an `escalation.updated` event with change `hold_lifted`), and the
        people the escalation told hear it (hold_notices.py), each with an acknowledge link:
        the investigation may start."""
        by = f"message {verified.message_id}"
        escalation_id = uuid.UUID(held.id)
        if held.hold is None:
            return [], []
        escalation = await store.lift_hold(escalation_id, by, verified.message_id, now)
        if escalation is None:  # lifted meanwhile, or resolved
            return [], []
        event = _updated_by(
            escalation,
            held,
            verified,
            now,
            "escalation-hold-lifted",
            change="hold_lifted",
            reason=f"hold lifted: message {verified.message_id} carries none of "
            f"{', '.join(held.hold.while_signals)}",
            hold=None,
        )
        languages = of_escalations(self.policy, escalation)
        told = hold_lifted_notices(escalation, verified, languages, now)
        told = [await self._with_link(store, n, now) for n in told]
        return [Outgoing.of(ESCALATION_UPDATED, event)], told

    def _goes_on(self, verified: IdentityVerified, decisions: list[Decision]) -> bool:
        """Whether a message goes on with the client's open cases: it fired no rule on what
        it says, it is the client's (not billing's own notice; the client himself, or a
        sender whose cases are its own, never one claiming to be the client: the holders
        would answer a stranger), and it is not the registered contact answering a
        confirmation request (its outcome tells the holders: confirmations.py)."""
        return (
            verified.message.channel not in self.policy.history_only_channels
            and verified.identity.status in FOLLOWS_UP_AS
            and not verified.answers_confirmations
            and not any(d.signals for d in decisions)
        )

    async def _follow_up(
        self,
        store: SqlEscalationStore,
        past: PastEscalation,
        verified: IdentityVerified,
        facts: dict[str, Any],
        now: datetime,
    ) -> tuple[list[Outgoing], list[SendNotification]]:
        """The message joins the client's open case without a rule of its own: its timeline
        names it (`followed_up`), an `escalation.updated` event (change `merged`), and the
        people the escalation told read what the client wrote (hold_notices.py), unless it
        only thanks or says "ok", or they were told of the case moments ago (courtesy.py: a
        chat would ping them at every line). A message saying only that the problem is gone
        (client_fixed.py) drops the promise to the client, unless the case holds more than
        a thing that works again (`still_owed`: a disputed charge, a compensation asked
        for), and is told to them at once with what is still owed."""
        escalation_id = uuid.UUID(past.id)
        text = verified.message.text
        fixed = says_fixed(text)
        last_told = await store.last_told(escalation_id)
        # That the problem is gone changes the case: its holders hear it at once.
        heard = fixed is not None or holders_hear(text, last_told, now, self.policy.follow_up_quiet)
        promised = await store.promise_of(escalation_id) if fixed else None
        owed = still_owed(*await store.matters_of(escalation_id)) if fixed else None
        escalation = await store.follow_up(
            escalation_id, verified.message_id, now, heard, fixed, promised, owed
        )
        if escalation is None:  # resolved meanwhile
            return [], []
        told: list[SendNotification] = []
        if heard:
            pack = pack_of_case(facts, escalation.id)
            languages = of_escalations(self.policy, escalation)
            fixing = (fixed, promised is not None) if fixed else None
            told = follow_up_notices(escalation, verified, pack, languages, now, fixing, owed)
        said = "wrote again about the open case"
        if fixed:
            said = "says the problem is gone"
            if owed is not None and promised is not None:
                said += f"; the answer promised still owes: {', '.join(owed.matters)}"
        event = _updated_by(
            escalation,
            past,
            verified,
            now,
            "escalation-follow-up",
            change="merged",
            reason=f"the client {said} (message {verified.message_id})",
            hold=self._hold_text(escalation.hold),
            client_reply_by=escalation.client_reply_by,
        )
        told = [await self._with_link(store, n, now) for n in told]
        return [Outgoing.of(ESCALATION_UPDATED, event)], told

    async def _answered_unclearly(
        self,
        store: SqlEscalationStore,
        history: History,
        answer: UnclearAnswer,
        verified: IdentityVerified,
        facts: dict[str, Any],
        now: datetime,
    ) -> tuple[list[Outgoing], list[SendNotification], list[PastEscalation]]:
        """The reply joins each open case a message of the sender asked about was placed in
        (the identity confirmation, a payment-details case, ...; timeline `identity_unclear`,
        an `escalation.updated` event with change `merged`), and their holders are told,
        whatever the courtesy rule of follow-ups would say: it is a question to act on."""
        open_cases = {uuid.UUID(e.id): e for e in history.open_escalations()}
        waiting = await store.waiting_on(sorted(open_cases), answer.confirmation_id)
        if answer.settled:
            # A no after a yes: the address wrote as the client's since, and its cases (a
            # billing claim it opened once confirmed) wait on what the client now says.
            key = subject_key(verified)
            waiting |= await store.written_from(sorted(open_cases), key, answer.address)
        outputs: list[Outgoing] = []
        told: list[SendNotification] = []
        cases: list[PastEscalation] = []
        for escalation_id in sorted(waiting):
            past = open_cases[escalation_id]
            e = await store.answered_unclearly(
                escalation_id, verified.message_id, answer.confirmation_id, now
            )
            if e is None:  # resolved meanwhile
                continue
            cases.append(past)
            languages = of_escalations(self.policy, e)
            notes = unclear_notices(e, verified, answer, pack_of_case(facts, e.id), languages, now)
            told += [await self._with_link(store, n, now) for n in notes]
            event = _updated_by(
                e,
                past,
                verified,
                now,
                "escalation-identity-unclear",
                change="merged",
                reason=f"the registered contact answered confirmation {answer.confirmation_id} "
                + (
                    "with a no after it was confirmed"
                    if answer.settled
                    else "without confirming or denying it"
                )
                + f" (message {verified.message_id})",
                hold=self._hold_text(e.hold),
                client_reply_by=e.client_reply_by,
            )
            outputs.append(Outgoing.of(ESCALATION_UPDATED, event))
        return outputs, told, cases

    def _holds_standing(
        self,
        history: History,
        lifted: list[PastEscalation],
        placements: list[tuple[Placed, str]],
    ) -> list[dict[str, Any]]:
        """The client's holds once this message is placed: kept from before, or placed by
        it (escalation id, kind, the reason in the team's language and in all the rule
        wrote, for each reader's: digest._with_holds, since when)."""
        found: dict[str, dict[str, Any]] = {}
        for e in standing_holds(history, lifted):
            view = hold_view(
                e.hold.model_dump(mode="json") if e.hold else None, self.policy.team_language
            )
            if view:
                found[e.id] = {"escalation_id": e.id, "kind": e.kind, **view}
        for placed, kind in placements:
            view = hold_view(placed.hold, self.policy.team_language)
            if view and view["active"]:
                found[str(placed.id)] = {"escalation_id": str(placed.id), "kind": kind, **view}
        # A sparing hold's view says whom it spares and over what (facts.hold_view).
        return [{k: h[k] for k in _STANDING_HOLD if k in h} for h in found.values()]

    def _hold_text(self, hold: dict[str, Any] | None) -> str | None:
        return hold_said(hold, self.policy.team_language)

    async def _with_link(
        self, store: SqlEscalationStore, note: SendNotification, now: datetime
    ) -> SendNotification:
        """The staff notification with its one-click acknowledge link (`ack_url`)."""
        if self.links is None or note.escalation_id is None:
            return note
        (notified,) = notified_staff([note])
        url = await self.links.issue(
            store.session,
            note.escalation_id,
            notified["role"],
            notified["address"],
            now,
            note.language,
        )
        return note.model_copy(update={"data": {**note.data, "ack_url": url}})


# What a notice shows of each of the client's standing holds (digest._with_holds).
_STANDING_HOLD = (
    "escalation_id",
    "kind",
    "reason",
    "reasons",
    "since",
    "spares_only",
    "spared",
    "over",
)


def _who(notified: dict[str, Any]) -> tuple[str, str]:
    return notified["role"], str(notified["address"]).strip().casefold()


def _brings_new_problems(placed: Placed) -> bool:
    """Whether the merged message's news holds evidence of a new problem: a failure or a
    disputed payment or charge, each told by what it is about (problem_keys). Only a client
    sent the first notice before gets a follow-up: one whose first notice goes with this
    very message (no address on file until now) gets that one alone."""
    return any(n.signal in ABOUT_SIGNALS for n in placed.news)


def _updated_by(
    e: Escalation,
    past: PastEscalation,
    verified: IdentityVerified,
    now: datetime,
    occasion: str,
    **fields: Any,
) -> EscalationChanged:
    """`escalation.updated` for a message that changed an escalation without a rule of its
    own (it lifted the hold, it followed the case up): the escalation's kind, rule,
    severity and deadline, no signals, no roles told by a rule."""
    identity = verified.identity
    return EscalationChanged(
        event_id=derived_id(occasion, past.id, verified.message_id),
        message_id=verified.message_id,
        correlation_id=verified.correlation_id,
        occurred_at=now,
        escalation_id=e.id,
        kind=past.kind,
        severity=e.severity,  # type: ignore[arg-type]
        rule=past.rule,
        customer_id=identity.customer.id if identity.customer else None,
        identity_status=identity.status,
        signals=[],
        roles=[],
        ack_deadline=e.ack_deadline,
        **fields,
    )


def _changed(placed: Placed, verified: IdentityVerified) -> list[Fact]:
    # A raise says why everyone hears it again; new words are news when they alone do, and
    # are quoted as the sentences they stand in (one word, «обещал», told staff little).
    # Whose they are is said with them: a disowned sender's are not the client's.
    text, identity = verified.message.text, verified.identity
    spans = [(n.start, n.end) for n in placed.news]
    news = sentences_with(text, spans) if placed.raised_from is None else ()
    writer = who_wrote(identity.status, [e.kind for e in identity.evidence])
    reopened = placed.change == "reopened"
    facts = change_facts(placed.raised_from, placed.severity, reopened, news, writer)
    if not placed.new_sender:
        return facts
    return [new_sender_fact(placed.suspicious_before), *facts]
