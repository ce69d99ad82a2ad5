"""Each process's CPU time, read from /proc (Linux): the services, PostgreSQL, nats-server,
the SMTP sink and this load generator, as `careline bench` starts them."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from shared.runtime import SERVICES, Stack


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def processes(stack: Stack) -> dict[str, list[int]]:
    by_name = {p.name: [p.popen.pid] for p in stack.supervisor.processes if p.name in SERVICES}
    by_name["postgres"] = pids_named("postgres")
    by_name["nats"] = pids_named("nats-server")
    by_name["smtp-sink"] = [p.popen.pid for p in stack.supervisor.processes if "smtp" in p.name]
    by_name["load generator"] = [os.getpid()]
    return by_name


def cpu_reader(stack: Stack) -> Callable[[], dict[str, float]] | None:
    """CPU seconds so far of each process of the stack, by name; None where /proc is not.

    PostgreSQL's backends are the ones running when it is made (one per pooled connection)."""
    if not sys.platform.startswith("linux"):
        return None
    watched = processes(stack)

    def now() -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in watched.items()}

    return now
