"""Session servers for integration and e2e tests: a real nats-server and a real PostgreSQL.

Started from the wheels in a temporary directory (or taken from NATS_URL / DATABASE_URL
when given); each integration test then gets clean streams and clean tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.embedded import create_database, free_port, start_nats, start_postgres
from shared.migrate import upgrade


@dataclass(frozen=True)
class Servers:
    nats_url: str
    database_url: str


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("servers")
    started = []
    try:
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            port = free_port()
            started.append(start_nats(base / "nats", port, free_port(), base / "logs"))
            nats_url = f"nats://127.0.0.1:{port}"
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            port = free_port()
            started.append(start_postgres(base / "pg", port, base / "logs"))
            database_url = create_database(port, "careline_test")
        upgrade(database_url)
        yield Servers(nats_url, database_url)
    finally:
        for proc in reversed(started):
            proc.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path
