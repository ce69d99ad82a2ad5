"""The bench counts the CPU of what it started, never another PostgreSQL on the machine."""

from __future__ import annotations

import os

import pytest

from bench.cpu import ProcessTimes, Watched, process_table, seconds_now, tree, tree_seconds

# A machine with two PostgreSQL servers: the bench's (postmaster 100) and a test run's (500),
# both children of pid 1, and the bench's load generator (10) with a service (20).
TABLE = {
    1: ProcessTimes(ppid=0, own=50.0, reaped=900.0),
    10: ProcessTimes(ppid=1, own=2.0, reaped=0.0),
    20: ProcessTimes(ppid=10, own=7.0, reaped=0.0),
    100: ProcessTimes(ppid=10, own=0.5, reaped=1.25),  # 1.25 s of backends that exited
    101: ProcessTimes(ppid=100, own=3.0, reaped=0.0),  # backend
    102: ProcessTimes(ppid=100, own=0.25, reaped=0.0),  # checkpointer
    103: ProcessTimes(ppid=101, own=0.5, reaped=0.0),  # whatever a backend starts
    500: ProcessTimes(ppid=1, own=9.0, reaped=4.0),  # someone else's postmaster
    501: ProcessTimes(ppid=500, own=30.0, reaped=0.0),
}


def test_the_tree_is_the_postmaster_and_its_descendants_only() -> None:
    assert tree(TABLE, [100]) == {100, 101, 102, 103}
    assert 500 not in tree(TABLE, [100]) and 501 not in tree(TABLE, [100])


def test_a_root_that_has_exited_selects_nothing() -> None:
    assert tree(TABLE, [999]) == set()
    assert tree_seconds(TABLE, [999]) == 0.0


def test_the_tree_counts_its_exited_children_once() -> None:
    # own time of 100..103 plus what the postmaster reaped from backends that have ended
    assert tree_seconds(TABLE, [100]) == pytest.approx(0.5 + 1.25 + 3.0 + 0.25 + 0.5)


def test_a_backend_ending_inside_the_window_keeps_the_total_monotonic() -> None:
    before = tree_seconds(TABLE, [100])
    after_exit = dict(TABLE)
    del after_exit[103]  # its 0.5 s now reaped by its parent, the backend
    after_exit[101] = ProcessTimes(ppid=100, own=3.0, reaped=0.5)
    assert tree_seconds(after_exit, [100]) == pytest.approx(before)


def test_the_load_generator_is_itself_not_the_stack_it_started() -> None:
    generator = Watched((10,), with_descendants=False)
    assert generator.seconds(TABLE) == 2.0
    assert Watched((10,)).seconds(TABLE) > 10  # with descendants it would swallow the stack


def test_this_process_is_read_from_proc() -> None:
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc")
    table = process_table()
    assert table[os.getpid()].ppid == os.getppid()
    assert seconds_now({"me": Watched((os.getpid(),), with_descendants=False)})["me"] > 0
