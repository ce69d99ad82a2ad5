"""The `careline` command: run the system, publish messages, look at what it decided."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.errors import NoServersError
from sqlalchemy.engine import make_url

from shared.settings import CarelineSettings

# platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers, CI): noise.
warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

app = typer.Typer(
    help="Careline: an open escalation system for customer support.", no_args_is_help=True
)
streams_app = typer.Typer(help="JetStream streams.", no_args_is_help=True)
app.add_typer(streams_app, name="streams")


def _settings() -> CarelineSettings:
    return CarelineSettings()


@app.command()
def up(
    var_dir: Annotated[
        Path, typer.Option(help="Where embedded data lives.", envvar="CARELINE_VAR_DIR")
    ] = Path("var"),
    demo_crm: Annotated[bool, typer.Option(help="Load the demo CRM into the mirror.")] = True,
) -> None:
    """Run the whole system: embedded servers (unless configured) and the four services."""
    from shared.runtime import describe, start_servers, start_services, wait_ready

    stopping = False

    def request_stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = start_servers(var_dir, os.environ)
    code = 0
    try:
        start_services(stack, os.environ, demo_crm)
        wait_ready(stack)
        typer.echo(describe(stack))
        while not stopping:
            dead = stack.supervisor.first_dead()
            if dead:
                typer.echo(
                    f"{dead.name} exited with {dead.popen.returncode}; see {dead.log_path}",
                    err=True,
                )
                code = 1
                break
            time.sleep(0.5)
    finally:
        typer.echo("stopping ...")
        stack.supervisor.stop_all()
        typer.echo("stopped.")
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Apply the database migrations to DATABASE_URL."""
    from shared.migrate import upgrade

    upgrade(_settings().database_url)
    typer.echo("migrated")


@app.command()
def prune(
    dry_run: Annotated[bool, typer.Option(help="Count what would go; delete nothing.")] = False,
    service: Annotated[
        list[str] | None,
        typer.Option(help="Only this service's schema (repeatable): intake, verifier, ..."),
    ] = None,
) -> None:
    """Delete working data past its horizon once (what the services do every
    CARELINE_PRUNE_SECONDS) and report, per table, the horizon and the rows removed."""
    from shared.app import utc_now
    from shared.db import Database, create_engine
    from shared.retention import Pruned, Pruner

    plans = _retention_plans()
    unknown = sorted(set(service or ()) - set(plans))
    if unknown:
        raise typer.BadParameter(f"unknown services {unknown}; known: {list(plans)}")
    chosen = [plans[name] for name in (service or plans)]
    settings = _settings()

    async def go() -> list[Pruned]:
        db = Database(create_engine(settings.database_url))
        try:
            pruner = Pruner(db, utc_now, [p for plan in chosen for p in plan], settings.prune_batch)
            return await pruner.prune(dry_run=dry_run)
        finally:
            await db.dispose()

    done = asyncio.run(go())
    for pruned in done:
        p = pruned.prunable
        verb = ("would redact" if p.redact else "would remove") if dry_run else p.action
        typer.echo(
            f"{p.table:<34} {verb} {pruned.rows:>8,}  {p.age} before "
            f"{pruned.before:%Y-%m-%d %H:%M} UTC ({_days(p.horizon)}): {p.why}"
        )
    total = sum(p.rows for p in done)
    typer.echo(f"dry run: {total:,} rows would change" if dry_run else f"{total:,} rows changed")


def _retention_plans() -> dict[str, list[Any]]:
    """Each service's prunables, from its own settings (and the escalator's policy)."""
    from services.escalator.policy import load_policy
    from services.escalator.retention import prunables as escalator
    from services.escalator.settings import EscalatorSettings
    from services.intake.retention import prunables as intake
    from services.notifier.retention import prunables as notifier
    from services.verifier.retention import prunables as verifier

    settings = _settings()
    retention, content = settings.retention, settings.content_retention
    escalator_settings = EscalatorSettings()
    policy = load_policy(escalator_settings.policy_path)
    return {
        "intake": intake(retention, content),
        "verifier": verifier(retention),
        "escalator": escalator(
            policy,
            escalator_settings.retention,
            escalator_settings.history_margin,
            escalator_settings.content_retention,
        ),
        "notifier": notifier(retention, content),
    }


def _days(horizon: Any) -> str:
    days = horizon.total_seconds() / 86400
    return f"{days:g} days"


@streams_app.command("apply")
def streams_apply(
    profile: Annotated[str, typer.Option(help="embedded (1 replica) or cluster (3)")] = (
        "embedded"
    ),
) -> None:
    """Create or update every stream of shared/data/streams.yaml (idempotent)."""
    from shared.broker import ensure_streams
    from shared.subjects import STREAMS, stream_replicas

    replicas = stream_replicas(profile)
    asyncio.run(ensure_streams(_settings().nats_url, replicas))
    for spec in STREAMS:
        typer.echo(f"{spec.name}: {', '.join(spec.subjects)} (replicas {replicas})")


@app.command()
def send(
    channel: Annotated[str, typer.Option(help="email, chat, social, web_form, phone, system")] = (
        "chat"
    ),
    file: Annotated[Path | None, typer.Option(help="An .eml source or an InboundMessage JSON.")] = (
        None
    ),
    sender_email: Annotated[str | None, typer.Option("--from-email")] = None,
    sender_phone: Annotated[str | None, typer.Option("--from-phone")] = None,
    sender_handle: Annotated[str | None, typer.Option("--from-handle")] = None,
    name: Annotated[str | None, typer.Option(help="Sender's display name.")] = None,
    subject: str = "",
    text: Annotated[str | None, typer.Option(help="Message text.")] = None,
    external_id: Annotated[str | None, typer.Option(help="Publisher's own id.")] = None,
) -> None:
    """Publish one inbound message."""
    from shared.contracts import InboundMessage, SenderIdentifiers, message_id_of
    from shared.demo import publish_inbound

    if file is not None:
        content = file.read_text(encoding="utf-8")
        if file.suffix == ".json":
            message = InboundMessage.model_validate_json(content)
        else:
            message = InboundMessage(channel="email", raw_email=content, external_id=external_id)
    else:
        sender = SenderIdentifiers(
            email=sender_email, phone=sender_phone, handle=sender_handle, display_name=name
        )
        message = InboundMessage(
            channel=channel,  # type: ignore[arg-type]
            sender=sender,
            subject=subject,
            text=text,
            # An id of its own, so the message can be followed (and sending the same words
            # twice by hand is two messages, as it would be from a client).
            external_id=external_id or f"cli-{uuid.uuid4()}",
        )

    async def go() -> None:
        from shared.broker import connect

        nc = await connect(_settings(), patient=False)
        try:
            await publish_inbound(nc, message)
        finally:
            await nc.close()

    asyncio.run(go())
    typer.echo(f"published to inbound.{message.channel}")
    if message.external_id and file is None:
        # Intake's id for it (a mail from a file is known by its own Message-ID instead).
        message_id = message_id_of(message.channel, message.external_id)
        typer.echo(f"message {message_id}: careline trace {message_id}")


@app.command()
def escalations(limit: int = 50) -> None:
    """List escalations: kind, severity, rule, signals, identity, notified roles, holds."""
    from services.escalator.listing import escalation_notes, list_escalations
    from shared.case_ref import case_ref
    from shared.db import in_one_transaction

    rows = asyncio.run(
        in_one_transaction(_settings().database_url, lambda s: list_escalations(s, limit))
    )
    language = _team_language()
    if not rows:
        typer.echo("no escalations yet")
    for row in rows:
        signals = ", ".join(sorted({s["name"] for s in row["signals"]})) or "-"
        typer.echo(
            f"{row['opened_at']:%Y-%m-%d %H:%M} {row['severity']} {row['kind']:<22} "
            f"{row['status']:<6} {row['subject_key']}\n"
            f"    rule {row['rule']}; identity {row['identity_status']}; signals {signals}; "
            f"messages {row['message_count']}; notified {', '.join(row['roles'])}; "
            f"ack by {row['ack_deadline']:%Y-%m-%d %H:%M} UTC; "
            f"{case_ref(row['id'])} (id {row['id']})"
        )
        for line in escalation_notes(row, language):
            typer.echo(f"    {line}")


@app.command()
def escalation(
    escalation_id: Annotated[
        str, typer.Argument(help="The escalation's reference (CL-XXXX-XXXX) or id.")
    ],
) -> None:
    """Show one escalation and its timeline (who was told, acted, what the client wrote)."""
    from services.escalator.cli import escalation_id_of
    from services.escalator.listing import escalation_history, escalation_notes, timeline_line
    from shared.case_ref import case_ref
    from shared.db import in_one_transaction

    wanted = escalation_id_of(escalation_id)

    row, entries = asyncio.run(
        in_one_transaction(_settings().database_url, lambda s: escalation_history(s, wanted))
    )
    if row is None:
        typer.echo(f"no escalation {wanted}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{case_ref(row['id'])} {row['severity']} {row['kind']} {row['status']} "
        f"(level {row['level']}), {row['subject_key']}\n  id {row['id']}\n"
        f"  rule {row['rule']}; identity {row['identity_status']}; "
        f"messages {row['message_count']}; ack by {row['ack_deadline']:%Y-%m-%d %H:%M} UTC"
    )
    if row.get("resolution_note"):
        typer.echo(f"  resolved: {row['resolution_note']}")
    for line in escalation_notes(row, _team_language()):
        typer.echo(f"  {line}")
    typer.echo("timeline:")
    for entry in entries:
        typer.echo(f"  {timeline_line(entry)}")


def _team_language() -> str:
    """The team's language (the escalator's policy): holds are said in it, as the events
    say them."""
    from services.escalator.policy import load_policy
    from services.escalator.settings import EscalatorSettings

    return load_policy(EscalatorSettings().policy_path).team_language


@app.command()
def demo(timeout: float = 90.0) -> None:
    """Publish messages from the four stories and print what Careline decided and sent."""
    from shared.demo import format_report, run_demo

    report = asyncio.run(run_demo(_settings(), timeout))
    typer.echo(format_report(report))


@app.command()
def trace(message_id: str) -> None:
    """Print the span tree of every trace that carried this message (from var/traces)."""
    from shared.telemetry import read_spans, span_tree

    spans = read_spans(_settings().trace_dir)
    lines = span_tree(spans, message_id)
    if not lines:
        typer.echo(f"no spans for message {message_id} under {_settings().trace_dir}", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(lines))


@app.command()
def asyncapi() -> None:
    """Regenerate docs/asyncapi/<service>.json from the code."""
    from shared.asyncapi import write_documents

    for path in write_documents():
        typer.echo(f"wrote {path}")


@app.command()
def bench(
    seconds: Annotated[float, typer.Option(help="How long to offer the maximum load.")] = 20.0,
    customers: Annotated[int, typer.Option(help="Customers in the synthetic CRM.")] = 10_000,
) -> None:
    """Measure the real pipeline beside its ceiling; write bench/results/ and print the table."""
    from bench.run import Settings, markdown, run

    typer.echo(markdown(run(Settings(load_seconds=seconds, customers=customers))))


def _register_service_commands() -> None:
    from services.escalator.cli import register as escalator
    from services.intake.cli import register as intake
    from services.notifier.cli import register as notifier
    from services.verifier.cli import register as verifier

    for register in (intake, verifier, escalator, notifier):
        register(app)


_register_service_commands()


def main() -> None:
    try:
        sys.exit(app())
    except (NoServersError, OSError) as exc:
        # The command needs a running Careline (or NATS_URL / DATABASE_URL) and found none.
        settings = _settings()
        typer.echo(
            f"careline: cannot reach NATS at {settings.nats_url} or PostgreSQL at "
            f"{_without_password(settings.database_url)} ({type(exc).__name__}: {exc}).\n"
            "Is Careline running? Start it with `make run` (or set NATS_URL / DATABASE_URL).",
            err=True,
        )
        sys.exit(2)


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
