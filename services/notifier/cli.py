"""The notifier service's commands of the `careline` CLI (wired in shared/cli.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from shared.contracts import NotificationKind

notify_app = typer.Typer(help="Notification templates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this service's commands to the main `careline` app."""
    app.add_typer(notify_app, name="notify")
    app.command("notifications")(notifications)


@notify_app.command("preview")
def preview(
    kind: Annotated[str, typer.Argument(help="identity_confirmation, manager_escalation, ...")],
    lang: Annotated[str, typer.Option("--lang", help="ru, uk or en")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="text, html or eml")] = "text",
) -> None:
    """Render one notification kind with sample data, as the recipient would see it."""
    import uuid
    from datetime import UTC, datetime
    from typing import get_args

    from services.notifier.domain import render_kind
    from services.notifier.mime import build_email
    from services.notifier.samples import SAMPLES
    from shared.contracts import SendNotification

    kinds = get_args(NotificationKind)
    if kind not in kinds:
        typer.echo(f"unknown kind {kind!r}; known: {', '.join(kinds)}", err=True)
        raise typer.Exit(2)
    rendered = render_kind(kind, lang, SAMPLES[kind])
    if fmt == "html":
        typer.echo(rendered.html or "(this kind has no HTML part)")
    elif fmt == "eml":
        now = datetime.now(UTC)
        cmd = SendNotification(
            event_id=uuid.uuid4(),
            message_id=uuid.uuid4(),
            correlation_id="preview",
            occurred_at=now,
            notification_id=uuid.uuid4(),
            kind=kind,  # type: ignore[arg-type]
            recipient="client@example.com",
            recipient_role="preview",
            recipient_verified=True,
            language=lang if lang in ("ru", "uk", "en") else "unknown",  # type: ignore[arg-type]
            data=SAMPLES[kind],
        )
        message = build_email(cmd, rendered, "Careline <support@careline.example>", created_at=now)
        typer.echo(message.as_string())
    else:
        typer.echo(f"Subject: {rendered.subject}\n\n{rendered.body}", nl=False)


def notifications(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    status: Annotated[
        str | None,
        typer.Option(help="held, pending, sending, sent, failed, refused or withdrawn"),
    ] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient.")] = None,
) -> None:
    """List notifications: what was sent, to whom, when, status and attempts; answers held
    for a confirmation with when they were held, released or withdrawn, and by what."""
    from services.notifier.adapters import list_notifications
    from shared.db import in_one_transaction
    from shared.settings import CarelineSettings

    rows = asyncio.run(
        in_one_transaction(
            CarelineSettings().database_url,
            lambda s: list_notifications(s, limit, status, recipient),
        )
    )
    if not rows:
        typer.echo("no notifications yet")
    for row in rows:
        when = row["sent_at"] or row["created_at"]
        line = (
            f"{when:%Y-%m-%d %H:%M:%S} {row['status']:<8} attempts {row['attempts']} "
            f"{row['kind']:<26} {row['channel']:<7} {row['recipient_role']:<18} {row['recipient']}"
        )
        if row["status"] == "pending" and row["next_attempt_at"]:
            reason = row["deferred_reason"] or "due"
            line += f"\n    next attempt {row['next_attempt_at']:%Y-%m-%d %H:%M:%S} ({reason})"
        if row["last_error"] and row["status"] != "sent":
            line += f"\n    {row['last_error']}"
        line += "".join(f"\n    {note}" for note in hold_lines(row))
        typer.echo(line)


def hold_lines(row: dict[str, Any]) -> list[str]:
    """The audit trail of an answer held for a confirmation of its recipient's address."""
    if row.get("held_for_confirmation") is None:
        return []
    lines = [
        f"held {row['held_at']:%Y-%m-%d %H:%M:%S} for confirmation {row['held_for_confirmation']}"
    ]
    if row["released_at"]:
        lines.append(
            f"released {row['released_at']:%Y-%m-%d %H:%M:%S} to the confirmed address "
            f"by event {row['released_by']}"
        )
    if row["withdrawn_at"]:
        lines.append(
            f"withdrawn {row['withdrawn_at']:%Y-%m-%d %H:%M:%S}: {row['withdrawn_reason']}"
        )
    elif row["status"] == "held":
        lines.append("not sent until the address is confirmed")
    return lines
