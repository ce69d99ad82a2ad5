"""When a notification may go out: backoff with jitter, quiet hours, per-recipient rate limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.notifier.scheduling import (
    RetryPolicy,
    backoff_delay,
    defer,
    quiet_hours_end,
    rate_limit_of,
    rate_limit_until,
)
from services.notifier.settings import NotifierSettings, parse_quiet_hours, parse_rate_limit

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(max_attempts=6, base_seconds=2.0, cap_seconds=60.0)
NIGHT = (time(21, 0), time(8, 0))
# 2025-03-14 is a Friday; Moscow and Kyiv are UTC+3 and UTC+2 that day.
UTC_NOON = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


# --- backoff -------------------------------------------------------------------------


def test_backoff_grows_exponentially_within_its_jitter_band() -> None:
    rng = random.Random(7)
    for attempt, step in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 32.0)]:
        delays = [backoff_delay(attempt, POLICY, rng).total_seconds() for _ in range(200)]
        assert min(delays) >= step / 2
        assert max(delays) <= step
        assert max(delays) - min(delays) > step / 4  # really jittered, not one value


def test_backoff_is_capped() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(30, POLICY, rng) for _ in range(100)]

    assert max(delays) <= timedelta(seconds=60)
    assert min(delays) >= timedelta(seconds=30)


def test_backoff_of_many_failures_spreads_them_out() -> None:
    rng = random.Random(3)
    delays = {round(backoff_delay(3, POLICY, rng).total_seconds(), 3) for _ in range(50)}

    assert len(delays) > 40  # an SMTP outage does not make every retry fire at once


# --- quiet hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "zone", "ends_utc"),
    [
        # 23:30 in Moscow: quiet until 08:00 Moscow the next day = 05:00 UTC.
        (datetime(2025, 3, 14, 20, 30, tzinfo=UTC), "Europe/Moscow", datetime(2025, 3, 15, 5, 0)),
        # 02:00 in Kyiv: quiet until 08:00 Kyiv the same day = 06:00 UTC.
        (datetime(2025, 3, 14, 0, 0, tzinfo=UTC), "Europe/Kyiv", datetime(2025, 3, 14, 6, 0)),
        # 21:00 sharp in London is quiet already.
        (datetime(2025, 3, 14, 21, 0, tzinfo=UTC), "Europe/London", datetime(2025, 3, 15, 8, 0)),
    ],
)
def test_quiet_hours_are_in_the_clients_zone(utc: datetime, zone: str, ends_utc: datetime) -> None:
    assert quiet_hours_end(utc, zone, NIGHT) == ends_utc.replace(tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Europe/Kyiv", "America/New_York"])
def test_daytime_is_not_quiet(zone: str) -> None:
    local_ten = datetime(2025, 3, 14, 10, 0).replace(tzinfo=ZoneInfo(zone))

    assert quiet_hours_end(local_ten.astimezone(UTC), zone, NIGHT) is None
    assert quiet_hours_end(local_ten.astimezone(UTC), zone, None) is None


def test_the_same_moment_is_quiet_in_one_zone_and_not_in_another() -> None:
    moment = datetime(2025, 3, 14, 19, 30, tzinfo=UTC)  # 22:30 Moscow, 15:30 New York

    assert quiet_hours_end(moment, "Europe/Moscow", NIGHT) is not None
    assert quiet_hours_end(moment, "America/New_York", NIGHT) is None


def test_a_window_within_one_day() -> None:
    lunch = (time(13, 0), time(14, 0))

    assert quiet_hours_end(datetime(2025, 3, 14, 13, 30, tzinfo=UTC), "UTC", lunch) == datetime(
        2025, 3, 14, 14, 0, tzinfo=UTC
    )
    assert quiet_hours_end(datetime(2025, 3, 14, 14, 0, tzinfo=UTC), "UTC", lunch) is None


# --- rate limits ---------------------------------------------------------------------


def test_under_the_limit_goes_now() -> None:
    recent = [UTC_NOON - timedelta(minutes=m) for m in (1, 2)]

    assert rate_limit_until(UTC_NOON, recent, (3, 3600)) is None
    assert rate_limit_until(UTC_NOON, recent * 10, None) is None


def test_at_the_limit_waits_until_the_oldest_leaves_the_window() -> None:
    recent = [UTC_NOON - timedelta(minutes=m) for m in (50, 10, 30)]  # any order

    assert rate_limit_until(UTC_NOON, recent, (3, 3600)) == UTC_NOON + timedelta(minutes=10)


def test_sends_outside_the_window_do_not_count() -> None:
    recent = [UTC_NOON - timedelta(hours=h) for h in (2, 3, 4)]

    assert rate_limit_until(UTC_NOON, recent, (1, 3600)) is None


# --- defer ---------------------------------------------------------------------------


def _defer(role: str, severity: str | None, now: datetime = UTC_NOON, **kw: object) -> object:
    args: dict[str, object] = {
        "recipient_role": role,
        "severity": severity,
        "zone": "Europe/Moscow",
        "quiet": NIGHT,
        "recent": [],
        "limit": None,
    }
    args.update(kw)
    return defer(now, **args)  # type: ignore[arg-type]


NIGHT_IN_MOSCOW = datetime(2025, 3, 14, 20, 0, tzinfo=UTC)  # 23:00 there


@pytest.mark.parametrize("severity", ["P3", "P4", None])
def test_a_non_urgent_client_message_waits_for_the_morning(severity: str | None) -> None:
    deferral = _defer("client_registered", severity, NIGHT_IN_MOSCOW)

    assert deferral is not None
    assert deferral.reason == "quiet_hours"  # type: ignore[attr-defined]
    assert deferral.until == datetime(2025, 3, 15, 5, 0, tzinfo=UTC)  # type: ignore[attr-defined]


@pytest.mark.parametrize("severity", ["P1", "P2"])
def test_an_urgent_client_message_goes_at_night(severity: str) -> None:
    assert _defer("client_registered", severity, NIGHT_IN_MOSCOW) is None


def test_staff_are_told_at_night() -> None:
    assert _defer("head_of_support", "P4", NIGHT_IN_MOSCOW) is None


def test_a_rate_limited_recipient_waits_unless_urgent() -> None:
    recent = [UTC_NOON - timedelta(minutes=5)]

    waiting = _defer("client_sender", "P3", recent=recent, limit=(1, 3600))
    assert waiting is not None and waiting.reason == "rate_limit"  # type: ignore[attr-defined]
    assert _defer("client_sender", "P1", recent=recent, limit=(1, 3600)) is None


def test_a_confirmation_request_is_not_held_back_by_the_rate_limit_but_waits_for_morning() -> None:
    recent = [UTC_NOON - timedelta(minutes=5)]
    limits = {"client": (1, 3600), "staff": (9, 60)}
    limit = rate_limit_of("identity_confirmation", "client_registered", **limits)
    asked = {"recent": recent, "limit": limit}

    assert rate_limit_of("service_failure_notice", "client_registered", **limits) == (1, 3600)
    assert rate_limit_of("manager_escalation", "head_of_support", **limits) == (9, 60)
    assert _defer("client_registered", "P3", **asked) is None
    night = _defer("client_registered", "P3", NIGHT_IN_MOSCOW, **asked)
    assert night is not None and night.reason == "quiet_hours"  # type: ignore[attr-defined]


# --- settings ------------------------------------------------------------------------


def test_settings_parse_windows_limits_and_webhooks() -> None:
    settings = NotifierSettings(
        NOTIFIER_QUIET_HOURS="22:00-07:30",
        NOTIFIER_CLIENT_RATE_LIMIT="3/600",
        NOTIFIER_CLIENT_TIMEZONE="Europe/Kyiv",
        NOTIFIER_WEBHOOKS='{"ops": {"url": "http://127.0.0.1:9/h", "format": "slack", '
        '"secret": "s3cret"}}',
    )

    assert parse_quiet_hours(settings.quiet_hours) == (time(22, 0), time(7, 30))
    assert parse_rate_limit(settings.client_rate_limit) == (3, 600.0)
    assert settings.webhooks["ops"].format == "slack"
    assert settings.webhooks["ops"].secret is not None
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("NOTIFIER_QUIET_HOURS", "late-early"),
        ("NOTIFIER_QUIET_HOURS", "08:00-08:00"),
        ("NOTIFIER_CLIENT_RATE_LIMIT", "lots"),
        ("NOTIFIER_CLIENT_RATE_LIMIT", "0/60"),
        ("NOTIFIER_CLIENT_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_bad_settings_fail_loudly(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        NotifierSettings(**{field: value})
