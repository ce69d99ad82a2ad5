"""Ports for the servers of one stack are probed one by one: none may be handed out twice."""

from __future__ import annotations

import socket

import pytest

from shared import embedded
from shared.embedded import free_port

pytestmark = pytest.mark.unit


def test_a_port_is_never_handed_out_twice_in_one_process() -> None:
    ports = [free_port() for _ in range(200)]

    assert len(set(ports)) == len(ports)


def test_a_port_the_system_offers_again_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system may offer the port it just gave (the probe closed): it is probed again."""
    given = free_port()
    offers = iter([given, given, given + 1 if given < 65535 else given - 1])

    class Probe(socket.socket):
        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", next(offers))

    monkeypatch.setattr(embedded.socket, "socket", Probe)
    monkeypatch.setattr(embedded, "_HANDED_OUT", {given})

    assert free_port() != given
