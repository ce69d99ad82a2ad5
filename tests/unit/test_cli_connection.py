"""Commands run beside `careline up` find its servers, and say so plainly when none runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.embedded import free_port
from shared.settings import CarelineSettings, SmtpSettings

pytestmark = pytest.mark.unit


def test_moved_embedded_ports_move_the_default_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATS_URL", "DATABASE_URL", "SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CARELINE_NATS_PORT", "24222")
    monkeypatch.setenv("CARELINE_PG_PORT", "25432")
    monkeypatch.setenv("CARELINE_SMTP_PORT", "22525")

    settings = CarelineSettings()

    assert settings.nats_url == "nats://127.0.0.1:24222"
    assert settings.database_url == "postgresql+asyncpg://careline@127.0.0.1:25432/careline"
    assert SmtpSettings().smtp_port == 22525


def test_explicit_urls_win_over_embedded_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARELINE_NATS_PORT", "24222")
    monkeypatch.setenv("NATS_URL", "nats://nats-1:4222")

    assert CarelineSettings().nats_url == "nats://nats-1:4222"


def test_a_command_without_a_running_careline_fails_fast_with_what_to_do() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "CARELINE_NATS_PORT": str(free_port()),  # nothing listens there
        "CARELINE_PG_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "send", "--text", "hello"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2, done.stderr
    assert "cannot reach NATS" in done.stderr
    assert "make run" in done.stderr
    assert "Traceback" not in done.stderr
