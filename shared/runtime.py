"""`careline up`: the whole system as separate OS processes, on embedded servers by default.

Anything configured in the environment (NATS_URL, DATABASE_URL, SMTP_HOST) is used as it
is and nothing embedded is started for it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.broker import connect, ensure_streams
from shared.embedded import (
    ManagedProcess,
    Supervisor,
    create_database,
    port_open,
    start_nats,
    start_postgres,
    start_smtp_sink,
)
from shared.migrate import upgrade
from shared.settings import (
    DEFAULT_HTTP_PORTS,
    DEFAULT_NATS_PORT,
    DEFAULT_PG_PORT,
    DEFAULT_SMTP_PORT,
    DEMO_AUTHSERV_ID,
    CarelineSettings,
    embedded_port,
)

SERVICES = ("intake", "verifier", "escalator", "notifier")


@dataclass
class Stack:
    """The servers a run uses and the environment its services get."""

    var_dir: Path
    supervisor: Supervisor = field(default_factory=Supervisor)
    env: dict[str, str] = field(default_factory=dict)
    embedded: list[str] = field(default_factory=list)
    http_ports: dict[str, int] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"


def _free(port: int, what: str) -> int:
    if port_open(port):
        raise RuntimeError(
            f"port {port} for the embedded {what} is taken: is Careline already running? "
            f"Stop it, or set the CARELINE_*_PORT variables."
        )
    return port


def start_servers(
    var_dir: Path,
    environ: Mapping[str, str],
    *,
    nats_port: int | None = None,
    pg_port: int | None = None,
    smtp_port: int | None = None,
    database: str = "careline",
) -> Stack:
    """Start what the environment does not provide; migrate; create the streams."""
    var_dir = var_dir.resolve()
    stack = Stack(var_dir)
    env = stack.env
    env["CARELINE_VAR_DIR"] = str(var_dir)
    try:
        if environ.get("NATS_URL"):
            env["NATS_URL"] = environ["NATS_URL"]
        else:
            port = nats_port or _free(
                embedded_port("CARELINE_NATS_PORT", DEFAULT_NATS_PORT, environ), "nats-server"
            )
            monitor = int(environ.get("CARELINE_NATS_MONITOR_PORT", port + 1000))
            stack.supervisor.add(start_nats(var_dir / "nats", port, monitor, stack.log_dir))
            env["NATS_URL"] = f"nats://127.0.0.1:{port}"
            stack.embedded.append("nats")
        if environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = environ["DATABASE_URL"]
        else:
            port = pg_port or _free(
                embedded_port("CARELINE_PG_PORT", DEFAULT_PG_PORT, environ), "postgres"
            )
            stack.supervisor.add(start_postgres(var_dir / "pg", port, stack.log_dir))
            env["DATABASE_URL"] = create_database(port, database)
            stack.embedded.append("postgres")
        if environ.get("SMTP_HOST"):
            for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD"):
                if environ.get(key):
                    env[key] = environ[key]
        else:
            port = smtp_port or _free(
                embedded_port("CARELINE_SMTP_PORT", DEFAULT_SMTP_PORT, environ), "smtp sink"
            )
            stack.supervisor.add(start_smtp_sink(stack.mail_dir, port, stack.log_dir))
            env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(port)
            stack.embedded.append("smtp")
        upgrade(env["DATABASE_URL"])
        asyncio.run(ensure_streams(env["NATS_URL"]))
    except BaseException:
        stack.supervisor.stop_all()
        raise
    return stack


def http_port_of(name: str, environ: Mapping[str, str]) -> int:
    """CARELINE_<NAME>_HTTP_PORT, else the service's default (18081 intake ... 18084)."""
    key = f"CARELINE_{name.upper()}_HTTP_PORT"
    return _free(int(environ.get(key, DEFAULT_HTTP_PORTS[name])), f"{name} HTTP server")


def start_services(stack: Stack, environ: Mapping[str, str], demo_crm: bool) -> None:
    for name in SERVICES:
        stack.http_ports[name] = http_port_of(name, environ)
    # The embedded default turns the confirmation loop on with a secret kept under var/;
    # production sets CARELINE_CONFIRMATION_SECRET (and the public link base) itself.
    if not environ.get("CARELINE_CONFIRMATION_SECRET"):
        stack.env["CARELINE_CONFIRMATION_SECRET"] = local_secret(
            stack.var_dir / "secrets" / "confirmation.key"
        )
    if not environ.get("VERIFIER_CONFIRMATION_BASE_URL"):
        stack.env["VERIFIER_CONFIRMATION_BASE_URL"] = (
            f"http://127.0.0.1:{stack.http_ports['verifier']}/v1/confirm"
        )
    # The same for the escalator's one-click acknowledge links in staff notifications.
    if not environ.get("ESCALATOR_LINK_SECRET"):
        stack.env["ESCALATOR_LINK_SECRET"] = local_secret(
            stack.var_dir / "secrets" / "escalator-links.key"
        )
    if not environ.get("ESCALATOR_LINK_BASE_URL"):
        stack.env["ESCALATOR_LINK_BASE_URL"] = f"http://127.0.0.1:{stack.http_ports['escalator']}"
    # The demo's mail says it passed DMARC as written by the id below; set to anything, even
    # empty (believe none), the environment's value stands.
    if "CARELINE_INTAKE_AUTHSERV_IDS" not in environ:
        stack.env["CARELINE_INTAKE_AUTHSERV_IDS"] = DEMO_AUTHSERV_ID
    for name in SERVICES:
        stack.supervisor.add(spawn_service(stack, name, environ, demo_crm))


def local_secret(path: Path) -> str:
    """A random secret created once and reused, readable only by its owner."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")
    return value


def spawn_service(
    stack: Stack, name: str, environ: Mapping[str, str], demo_crm: bool
) -> ManagedProcess:
    """One service as its own OS process, the way a container would run it."""
    env = {**environ, **stack.env, "PYTHONUNBUFFERED": "1"}
    port = stack.http_ports.get(name) or http_port_of(name, environ)
    stack.http_ports[name] = port
    env["CARELINE_HTTP_PORT"] = str(port)
    if demo_crm:
        env["CARELINE_DEMO_CRM"] = "1"
    argv = [
        sys.executable,
        "-m",
        "faststream",
        "run",
        f"services.{name}.app:build_app",
        "--factory",
    ]
    return ManagedProcess.spawn(
        name,
        argv,
        stack.log_dir / f"{name}.log",
        env=env,
        stop_signal=signal.SIGINT,  # FastStream's graceful shutdown
        where=f"http://127.0.0.1:{port}  log {stack.log_dir / (name + '.log')}",
        cwd=Path(__file__).resolve().parent.parent,
    )


def wait_ready(stack: Stack, timeout: float = 60.0) -> None:
    """Services are ready when each durable consumer exists and each answers /health/ready."""

    async def consumers_present() -> bool:
        nc = await connect(CarelineSettings(), stack.env["NATS_URL"])
        try:
            js = nc.jetstream()
            names = set()
            for stream in ("CARELINE_INBOUND", "CARELINE_MESSAGES", "CARELINE_NOTIFY"):
                for info in await js.consumers_info(stream):
                    names.add(info.name)
            return set(SERVICES) <= names
        finally:
            await nc.close()

    def http_ready() -> bool:
        import httpx

        for port in stack.http_ports.values():
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=3).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = stack.supervisor.first_dead()
        if dead:
            raise RuntimeError(f"{dead.name} exited; see {dead.log_path}")
        if asyncio.run(consumers_present()) and http_ready():
            return
        time.sleep(0.3)
    raise TimeoutError("services did not subscribe in time; see the logs under var/logs")


def describe(stack: Stack) -> str:
    lines = ["Careline is running:"]
    for proc in stack.supervisor.processes:
        lines.append(f"  {proc.name:<12} pid {proc.popen.pid:<7} {proc.where}")
    external = [k for k in ("NATS_URL", "DATABASE_URL", "SMTP_HOST") if k in os.environ]
    for key in external:
        lines.append(f"  {key:<12} external (from the environment)")
    lines.append(f"  data         {stack.var_dir}")
    if "smtp" in stack.embedded:
        lines.append(f"  outgoing mail {stack.mail_dir} (index.jsonl lists every message)")
    lines.append(f"  traces       {stack.var_dir / 'traces'} (careline trace MESSAGE_ID)")
    lines.append("Try: careline demo | careline escalations. Ctrl-C stops everything.")
    return "\n".join(lines)
