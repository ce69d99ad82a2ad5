"""What the escalator prunes of its schema, and how far back the subject history must reach.

The subject history (`subject_messages`) matters only as far back as the policy looks, so
its horizon comes from the loaded policy, never from a constant kept by hand: a policy
that looks further back keeps more. Escalations, their timelines and the fact packs they
carry are records and stay; with a content horizon set, a resolved escalation that old
loses the client's words and the fact pack (briefing, facts, the signals' evidence, the
reason's quotes) and keeps its kind, rule, signals' names and scores, people and times.
Pure: the service's start and `careline prune` use it.
"""

from __future__ import annotations

from datetime import timedelta

from shared.retention import Prunable, content_horizon, content_of, processed_keys
from shared.subjects import STREAM_CRM, STREAM_MESSAGES

from .policy_rules import Policy

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again (a confirmation's outcome, of
# CARELINE_CRM, keys nothing: its timeline entry and notices have ids of their own).
CONSUMED = (STREAM_MESSAGES, STREAM_CRM)


def longest_lookback(policy: Policy) -> timedelta:
    """The furthest back any part of the policy looks: the history it loads, every history
    condition's window, every reopening window.

    Reopening reads escalations (kept), not the subject's messages; its windows count
    anyway, so no window of the policy ever spans more than the history kept.
    """
    windows = [policy.history_lookback, policy.reopen_within]
    for rule in policy.rules:
        if rule.reopen_within is not None:
            windows.append(rule.reopen_within)
        windows += [c.within for c in rule.when.history if c.within is not None]
    return max(windows)


def history_horizon(policy: Policy, margin: timedelta) -> timedelta:
    """How long a subject's messages are kept: the policy's longest look-back plus `margin`
    (room for a policy rolled out with a longer window, replicas whose policies differ
    for a moment, clocks a little apart)."""
    return longest_lookback(policy) + margin


# Cut together with the briefing: the fact pack, the words each signal quoted, and the
# reason (it quotes the client and the identity evidence); the rule and the signals'
# names and scores say which rule fired and why.
def _names_and_scores(signals: str) -> str:
    """SQL: the signals of a JSONB array without their evidence (anything else: none)."""
    return (
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('name', s->'name', 'score', "
        f"s->'score')), '[]'::jsonb) FROM jsonb_array_elements(CASE jsonb_typeof({signals}) "
        f"WHEN 'array' THEN {signals} ELSE '[]'::jsonb END) AS s)"
    )


_ESCALATION_CONTENT = (
    "facts = jsonb_build_object('redacted', true), promise_to = NULL, subject = NULL, "
    f"signals = {_names_and_scores('signals')}, "
    "reason = 'rule ' || rule || ' (its account quoted the client: cut after the content horizon)'"
)
# The same of the timeline entries that told the rule's account (opened, merged into,
# reopened), once their escalation was resolved that long ago: the reason and the quoted
# words go, the rest of the entry (the rule, who resolved it before a reopening) stays.
# Entries of acts (acknowledged, resolved, holds) stay whole. The index of migration
# 0012_content_horizon is partial on the same entries.
_TIMELINE_CONTENT = (
    "detail = (detail - 'reason' - 'signals') || jsonb_build_object('redacted', true, "
    "'signals', " + _names_and_scores("detail->'signals'") + ")"
)
_TIMELINE_TOLD = (
    "(detail->>'redacted') IS NULL AND entry IN ('opened', 'merged', 'reopened') "
    "AND escalation_id IN (SELECT id FROM escalator.escalations "
    "WHERE status = 'resolved' AND resolved_at < :before)"
)


def prunables(
    policy: Policy, retention: timedelta, margin: timedelta, content: timedelta | None = None
) -> list[Prunable]:
    keys = processed_keys("escalator", retention, CONSUMED)
    history = history_horizon(policy, margin)
    cut = []
    if content is not None:
        # Never inside a window the policy may reopen the escalation in or read it back.
        horizon = content_horizon(content, keys.horizon, history)
        cut.append(
            content_of(
                "escalator.escalations",
                "resolved_at",
                horizon,
                "what the client wrote and the fact pack, cut out of resolved escalations "
                "(CARELINE_CONTENT_DAYS)",
                "briefing",
                ("kind", "severity", "rule"),
                only="status = 'resolved'",
                also=_ESCALATION_CONTENT,
            )
        )
        cut.append(
            Prunable(
                "escalator.escalation_timeline",
                "at",
                horizon,
                "the client's words in the timeline of resolved escalations "
                "(CARELINE_CONTENT_DAYS)",
                only=_TIMELINE_TOLD,
                redact=_TIMELINE_CONTENT,
            )
        )
    return [
        keys,
        Prunable(
            "escalator.subject_messages",
            "at",
            history,
            "subject history: the policy's longest look-back plus a margin",
        ),
        Prunable(
            "escalator.outbox",
            "published_at",
            keys.horizon,
            "lifecycle events published (unpublished rows always stay)",
        ),
        Prunable(
            "escalator.commands",
            "at",
            keys.horizon,
            "answers kept for retried staff commands (the timeline keeps who did what)",
        ),
        Prunable(
            "escalator.ack_links",
            "expires_at",
            keys.horizon,
            "acknowledge links past their expiry (the signed token expires with them)",
        ),
        # A message verified before a revoke comes no later than the streams keep it.
        Prunable(
            "escalator.revoked_addresses",
            "recorded_at",
            keys.horizon,
            "addresses staff took back, for messages verified before that arrive after",
        ),
        *cut,
    ]
