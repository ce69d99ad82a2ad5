"""`careline demo`: publish messages from the four stories and report what Careline did.

The demo only talks to NATS, like any publisher: it sends inbound messages and listens to
the events the services publish (verified, escalation, notify), matched by message id.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import yaml

from shared.broker import connect
from shared.contracts import (
    EscalationChanged,
    IdentityVerified,
    InboundMessage,
    NotificationDelivered,
    NotificationFailed,
    SendNotification,
)
from shared.settings import CarelineSettings
from shared.subjects import (
    ESCALATION_OPENED,
    ESCALATION_UPDATED,
    MESSAGE_VERIFIED,
    NOTIFY_FAILED,
    NOTIFY_REQUEST,
    NOTIFY_SENT,
    inbound,
)

STORIES = Path(__file__).parent / "data" / "demo_stories.yaml"


def load_stories(path: Path = STORIES) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]  # type: ignore[no-any-return]


@dataclass
class Outcome:
    """Everything the pipeline published about one client message."""

    verified: IdentityVerified | None = None
    escalations: list[EscalationChanged] = field(default_factory=list)
    requests: list[SendNotification] = field(default_factory=list)
    results: dict[str, NotificationDelivered | NotificationFailed] = field(default_factory=dict)

    def settled(self) -> bool:
        return self.verified is not None and not self.unsettled()

    def unsettled(self) -> list[SendNotification]:
        return [r for r in self.requests if not self._settled(r)]

    def _settled(self, request: SendNotification) -> bool:
        """Its result came; or it waits for the client, not the pipeline (an answer held for
        a confirmation); or it is a client digest whose answers all have theirs: the
        notifier leaves out the answers it sent before, and sends a lone one left as the
        notice it is, under that notice's own id (services/notifier/folds.py)."""
        if str(request.notification_id) in self.results:
            return True
        if request.held_for_confirmation is not None:
            return True
        return bool(request.parts) and all(
            str(part.notification_id) in self.results for part in request.parts
        )


class Observer:
    """Collects pipeline events by message id from core NATS subscriptions."""

    def __init__(self) -> None:
        # By notification, for every message: a later message of an open escalation asks
        # again for a contact the client already had (the notifier takes it once), and that
        # one's result came with the earlier message.
        self.results: dict[str, NotificationDelivered | NotificationFailed] = {}
        self.by_message: dict[str, Outcome] = defaultdict(lambda: Outcome(results=self.results))
        self.by_correlation: dict[str, str] = {}
        self.last_event = time.monotonic()

    async def attach(self, nc: nats.NATS) -> None:
        async def on_message(msg: Any) -> None:
            data = json.loads(msg.data)
            outcome = self.by_message[data["message_id"]]
            subject = msg.subject
            if subject == MESSAGE_VERIFIED:
                outcome.verified = IdentityVerified.model_validate(data)
            elif subject in (ESCALATION_OPENED, ESCALATION_UPDATED):
                event = EscalationChanged.model_validate(data)
                if event.event_id not in {e.event_id for e in outcome.escalations}:
                    outcome.escalations.append(event)
            elif subject == NOTIFY_REQUEST:
                req = SendNotification.model_validate(data)
                if req.notification_id not in {r.notification_id for r in outcome.requests}:
                    outcome.requests.append(req)
            elif subject == NOTIFY_SENT:
                sent = NotificationDelivered.model_validate(data)
                self.results[str(sent.notification_id)] = sent
            elif subject == NOTIFY_FAILED:
                failed = NotificationFailed.model_validate(data)
                self.results[str(failed.notification_id)] = failed
            self.last_event = time.monotonic()

        for subject in (
            MESSAGE_VERIFIED,
            ESCALATION_OPENED,
            ESCALATION_UPDATED,
            NOTIFY_REQUEST,
            NOTIFY_SENT,
            NOTIFY_FAILED,
        ):
            await nc.subscribe(subject, cb=on_message)

    async def wait(self, message_ids: list[str], timeout: float, quiet: float = 1.5) -> None:
        """Until every message is verified and all its notifications are settled, then quiet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = all(self.by_message[m].settled() for m in message_ids)
            if done and time.monotonic() - self.last_event >= quiet:
                return
            await asyncio.sleep(0.1)
        waiting = [
            f"{r.kind} to {r.recipient_role}"
            for m in message_ids
            for r in self.by_message[m].unsettled()
        ]
        said = f" (no result yet: {', '.join(waiting)})" if waiting else ""
        raise TimeoutError(f"the pipeline did not finish in time{said}; see var/logs and dlq.*")


async def publish_inbound(nc: nats.NATS, message: InboundMessage) -> None:
    js = nc.jetstream()
    headers = (
        {"Nats-Msg-Id": f"{message.channel}:{message.external_id}"}
        if (message.external_id)
        else None
    )
    await js.publish(
        inbound(message.channel),
        message.model_dump_json(exclude_none=True).encode(),
        headers=headers,
    )


def tagged(raw: dict[str, Any], run_tag: str) -> InboundMessage:
    """The story message with ids unique to this run, so a second demo is new traffic."""
    data = dict(raw)
    if data.get("external_id"):
        data["external_id"] = f"{data['external_id']}.{run_tag}"
    if data.get("raw_email"):
        data["raw_email"] = re.sub(
            r"^(Message-ID:\s*<)([^>]+)>",
            rf"\g<1>\g<2>.{run_tag}>",
            data["raw_email"],
            count=1,
            flags=re.MULTILINE | re.IGNORECASE,
        )
    return InboundMessage.model_validate(data)


Report = list[tuple[dict[str, Any], list[Outcome]]]


async def run_demo(
    settings: CarelineSettings, timeout: float = 60.0, run_tag: str | None = None
) -> Report:
    run_tag = run_tag or format(time.time_ns() // 1_000_000, "x")
    nc = await connect(settings, patient=False)
    observer = Observer()
    await observer.attach(nc)
    try:
        stories = load_stories()
        # A message's id is only known once intake has normalized it: match on external id.
        sent: list[tuple[dict[str, Any], list[InboundMessage]]] = []
        for story in stories:
            messages = [tagged(m, run_tag) for m in story["messages"]]
            for message in messages:
                await publish_inbound(nc, message)
            sent.append((story, messages))
        expected = sum(len(m) for _, m in sent)
        deadline = time.monotonic() + timeout
        while sum(o.verified is not None for o in observer.by_message.values()) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError("messages were not verified in time; see var/logs and dlq.*")
            await asyncio.sleep(0.1)
        await observer.wait(list(observer.by_message), timeout)
        by_external = {
            o.verified.message.external_id: o
            for o in observer.by_message.values()
            if o.verified is not None
        }
        report = []
        for story, messages in sent:
            outcomes = [by_external[_external_id(m)] for m in messages]
            report.append((story, outcomes))
        return report
    finally:
        await nc.close()


def _external_id(message: InboundMessage) -> str:
    if message.external_id:
        return message.external_id
    from email import message_from_bytes, policy

    assert message.raw_email is not None
    parsed = message_from_bytes(message.raw_email.encode(), policy=policy.default)
    return str(parsed["Message-ID"]).strip().strip("<>")


def format_outcome(outcome: Outcome) -> list[str]:
    assert outcome.verified is not None
    msg, identity = outcome.verified.message, outcome.verified.identity
    who = msg.sender.email or msg.sender.phone or msg.sender.handle
    lines = [f"  message {msg.message_id} ({msg.channel}, {msg.language}) from {who}"]
    customer = f"{identity.customer.name} [{identity.customer.id}]" if identity.customer else "-"
    lines.append(
        f"    identity: {identity.status} (confidence {identity.confidence:.2f}), customer "
        f"{customer}, disclosure {identity.disclosure}"
    )
    for ev in identity.evidence:
        lines.append(f"      evidence: {ev.kind} (weight {ev.weight:+.2f}): {ev.detail}")
    if identity.account_manager:
        lines.append(
            f"    account manager: {identity.account_manager.name} "
            f"<{identity.account_manager.email}>"
        )
    signals: dict[str, Any] = {}
    for esc in outcome.escalations:
        for s in esc.signals:
            signals[s.name] = s
    if signals:
        for s in signals.values():
            words = ", ".join(f"«{e.text}»" for e in s.evidence if not e.rule.startswith("form"))
            lines.append(f"    signal: {s.name} {s.score:.2f}: {words}")
    else:
        lines.append("    signals: none")
    for esc in outcome.escalations:
        lines.append(
            f"    escalation {esc.change}: {esc.kind} {esc.severity} by rule {esc.rule} -> "
            f"{', '.join(esc.roles)} (acknowledge by {esc.ack_deadline:%Y-%m-%d %H:%M} UTC)"
        )
        if esc.change == "merged":
            lines.append(
                f"      merged into open escalation {esc.escalation_id}: its people were "
                "notified when it opened"
            )
    for req in outcome.requests:
        result = outcome.results.get(str(req.notification_id))
        if result is not None and result.message_id != req.message_id:
            state = f"already asked for with message {result.message_id}: not sent again"
        elif isinstance(result, NotificationDelivered):
            state = "sent"
        elif isinstance(result, NotificationFailed):
            state = f"FAILED: {result.reason}"
        elif req.held_for_confirmation is not None:
            state = (
                f"held until the address is confirmed (confirmation {req.held_for_confirmation})"
            )
        else:
            state = "pending"
        verified = "verified" if req.recipient_verified else "unverified"
        lines.append(
            f"    notification {req.kind} -> {req.recipient_role} {req.recipient} "
            f"({verified}, {req.content_class} content): {state}"
        )
    return lines


def format_report(report: Report) -> str:
    out = []
    for story, outcomes in report:
        out.append(f"== Story {story['id']}: {story['title']}")
        for outcome in outcomes:
            out.extend(format_outcome(outcome))
        out.append("")
    return "\n".join(out)
