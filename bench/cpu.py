"""Each process's CPU time, read from /proc (Linux): the services, PostgreSQL, nats-server,
the SMTP sink and this load generator, as `careline bench` starts them.

Only what the stack itself started is counted: by the pid the supervisor holds and, for
PostgreSQL, every process under its postmaster (backends, checkpointer, WAL writer...).
Counting every process named `postgres` would add any other PostgreSQL on the machine
(a test run's, another helper's) to the benchmark's figure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.runtime import SERVICES, Stack


@dataclass(frozen=True)
class ProcessTimes:
    """One line of the process table: who its parent is and the CPU it has used."""

    ppid: int
    own: float  # user + system seconds of the process itself (all its threads)
    reaped: float  # user + system seconds of its children it has waited for (exited ones)


def _times(stat: str) -> ProcessTimes:
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return ProcessTimes(
        ppid=int(fields[1]),
        own=(int(fields[11]) + int(fields[12])) / tick,
        reaped=(int(fields[13]) + int(fields[14])) / tick,
    )


def process_table() -> dict[int, ProcessTimes]:
    """Every process visible in /proc now, by pid."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = _times((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue  # exited while we read
    return table


def tree(table: Mapping[int, ProcessTimes], roots: Iterable[int]) -> set[int]:
    """The roots still alive and every process descending from them."""
    children: dict[int, list[int]] = {}
    for pid, times in table.items():
        children.setdefault(times.ppid, []).append(pid)
    found: set[int] = set()
    waiting = [pid for pid in roots if pid in table]
    while waiting:
        pid = waiting.pop()
        if pid not in found:
            found.add(pid)
            waiting.extend(children.get(pid, ()))
    return found


def tree_seconds(table: Mapping[int, ProcessTimes], roots: Iterable[int]) -> float:
    """CPU seconds the roots and their descendants have used, the exited ones included: an
    exited child's time is in its parent's `reaped`, so a backend that ends inside the window
    neither vanishes from the figure nor is counted twice."""
    return sum(table[pid].own + table[pid].reaped for pid in tree(table, roots))


def own_seconds(table: Mapping[int, ProcessTimes], pids: Iterable[int]) -> float:
    """CPU seconds of these processes alone (not what they started)."""
    return sum(table[pid].own for pid in pids if pid in table)


@dataclass(frozen=True)
class Watched:
    """The pids the bench attributes to one name, and whether their descendants count."""

    pids: tuple[int, ...]
    with_descendants: bool = True

    def seconds(self, table: Mapping[int, ProcessTimes]) -> float:
        if self.with_descendants:
            return tree_seconds(table, self.pids)
        return own_seconds(table, self.pids)


def processes(stack: Stack) -> dict[str, Watched]:
    """What the stack started, by name. PostgreSQL and nats-server only when embedded (a
    server from the environment is not the bench's to measure); the load generator is this
    process alone, since every other process of the stack descends from it."""
    started = {p.name: p.popen.pid for p in stack.supervisor.processes}
    watched = {name: Watched((started[name],)) for name in SERVICES if name in started}
    if "postgres" in started:
        watched["postgres"] = Watched((started["postgres"],))
    if "nats-server" in started:
        watched["nats"] = Watched((started["nats-server"],))
    if "smtp-sink" in started:
        watched["smtp-sink"] = Watched((started["smtp-sink"],))
    watched["load generator"] = Watched((os.getpid(),), with_descendants=False)
    return watched


def seconds_now(watched: Mapping[str, Watched]) -> dict[str, float]:
    """CPU seconds so far of each watched name, from one reading of the process table."""
    table = process_table()
    return {name: w.seconds(table) for name, w in watched.items()}


def cpu_reader(stack: Stack) -> Callable[[], dict[str, float]] | None:
    """CPU seconds so far of each process of the stack, by name; None where /proc is not.

    The process table is read again on every call, so PostgreSQL backends started after
    this is made are counted too."""
    if not sys.platform.startswith("linux"):
        return None
    watched = processes(stack)
    return lambda: seconds_now(watched)
