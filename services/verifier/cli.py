"""The verifier service's commands of the `careline` CLI (wired in shared/cli.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

crm_app = typer.Typer(
    help="The CRM mirror: import records, confirm and revoke addresses.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add this service's commands to the main `careline` app."""
    app.add_typer(crm_app, name="crm")
    app.command("verify")(verify)


@crm_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file (see docs/crm.md).")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows even if some are invalid.")
    ] = False,
) -> None:
    """Upsert CRM records into the mirror; every invalid row is reported with its line."""
    from shared.app import utc_now
    from shared.db import in_one_transaction

    from .importer import import_records, parse_file
    from .settings import VerifierSettings

    parsed = parse_file(file)

    report = asyncio.run(
        in_one_transaction(
            VerifierSettings().database_url,
            lambda s: import_records(s, parsed, utc_now(), skip_invalid),
        )
    )
    for error in report.errors:
        typer.echo(f"{file.name}: {error}", err=True)
    typer.echo(f"imported {report.applied} records, {len(report.errors)} invalid rows")
    if report.errors and not skip_invalid:
        typer.echo("nothing was imported; fix the rows or pass --skip-invalid", err=True)
    if report.errors:
        raise typer.Exit(1)


@crm_app.command("confirm")
def confirm(
    token: Annotated[str, typer.Argument(help="The token of a confirmation link.")],
    timeout: float = 10.0,
) -> None:
    """Follow a signed confirmation link (over NATS, `crm.confirm`), as the client would."""
    from shared.contracts import ConfirmChannel
    from shared.settings import CarelineSettings

    from .request import request_outcome

    outcome = asyncio.run(request_outcome(CarelineSettings(), ConfirmChannel(token=token), timeout))
    typer.echo(f"{outcome.outcome}: {outcome.detail}")
    if outcome.outcome not in ("confirmed", "already_confirmed"):
        raise typer.Exit(1)


@crm_app.command("revoke")
def revoke(
    address: Annotated[str, typer.Argument(help="The confirmed address: email, +phone, @handle.")],
    customer: Annotated[str, typer.Option(help="The customer id it was confirmed for.")],
    by: Annotated[str, typer.Option(help="Who takes it back (recorded).")] = "staff",
) -> None:
    """Take back an address confirmed for a customer (docs/crm.md): its confirmed channel is
    removed and the confirmation recorded as denied, so it writes as a suspicious sender."""
    from shared.app import utc_now
    from shared.db import in_one_transaction

    from .revoke import announce, revoke_confirmed
    from .settings import VerifierSettings

    settings = VerifierSettings()
    revoked = asyncio.run(
        in_one_transaction(
            settings.database_url,
            lambda s: revoke_confirmed(s, customer, address, by, utc_now()),
        )
    )
    # Announced after the commit; again (same ids) on a repeat, so a failed publish is
    # mended by running the command again. Nothing on file: nothing to announce, no NATS.
    try:
        if revoked.events:
            asyncio.run(announce(settings, revoked.events))
    except Exception as exc:
        typer.echo(
            f"the revocation is on file but was not announced on crm.channel.revoked ({exc}); "
            "run the same command again once NATS is reachable",
            err=True,
        )
        raise typer.Exit(1) from exc
    if not revoked.confirmation_ids and not revoked.channels_removed:
        if revoked.events:
            typer.echo(f"{address} was revoked for {customer} before: announced again")
            return
        typer.echo(f"{address} is not a confirmed address of {customer}: nothing changed", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"revoked {len(revoked.confirmation_ids)} confirmation(s) of {address} for {customer}; "
        f"{revoked.channels_removed} confirmed channel(s) removed"
    )


def verify(
    file: Annotated[Path, typer.Argument(help="JSON lines of MessageNormalized.")],
    as_json: Annotated[bool, typer.Option("--json", help="One Identity JSON per line.")] = False,
    crm: Annotated[
        Path | None,
        typer.Option(help="Decide against this CRM file (.csv/.jsonl) instead of the mirror."),
    ] = None,
) -> None:
    """Print the identity decision with its evidence for each message, against the CRM.

    Read-only: nothing is recorded and no confirmation is started. With --crm no database
    is needed: the file is loaded in memory and indexed as the mirror would index it.
    """
    from pydantic import ValidationError

    from shared.app import utc_now
    from shared.contracts import MessageNormalized
    from shared.db import Database, create_engine

    from .service import VerifierService, mirror_directory
    from .settings import VerifierSettings

    settings = VerifierSettings()
    failed = 0
    directory = None
    if crm is not None:
        from .importer import batch_of, parse_file
        from .memory import InMemoryCrm

        parsed = parse_file(crm)
        for error in parsed.errors:
            typer.echo(f"{crm.name}: {error}", err=True)
        if parsed.errors:
            raise typer.Exit(1)
        directory = InMemoryCrm(batch_of(parsed, set()))

    @asynccontextmanager
    async def in_memory(session: Any) -> AsyncIterator[Any]:
        yield directory

    async def go() -> None:
        nonlocal failed
        db = Database(create_engine(settings.database_url))
        service = VerifierService(
            db, settings, utc_now, in_memory if directory else mirror_directory
        )
        try:
            for number, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    message = MessageNormalized.model_validate_json(line)
                except ValidationError as exc:
                    failed += 1
                    typer.echo(
                        f"line {number}: not a MessageNormalized: {exc.errors()[0]['msg']}",
                        err=True,
                    )
                    continue
                if directory is not None:
                    identity = await service.decide(None, message)  # type: ignore[arg-type]
                else:
                    async with db.transaction() as session:
                        identity = await service.decide(session, message)
                if as_json:
                    typer.echo(
                        json.dumps(
                            {
                                "line": number,
                                "message_id": str(message.message_id),
                                "identity": identity.model_dump(mode="json"),
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    typer.echo(_describe(number, message, identity))
        finally:
            await db.dispose()

    asyncio.run(go())
    if failed:
        raise typer.Exit(1)


def _describe(number: int, message: Any, identity: Any) -> str:
    customer = f"{identity.customer.name} ({identity.customer.id})" if identity.customer else "-"
    lines = [
        f"line {number} message {message.message_id}: {identity.status} "
        f"confidence {identity.confidence:.2f} disclosure {identity.disclosure}",
        f"  customer {customer}; contact {identity.contact.id if identity.contact else '-'}; "
        f"account manager {identity.account_manager.email if identity.account_manager else '-'}",
    ]
    if identity.authorized_channels:
        lines.append(
            "  authorized: "
            + ", ".join(f"{c.kind} {c.address}" for c in identity.authorized_channels)
        )
    for e in identity.evidence:
        lines.append(f"  {e.weight:+.2f} {e.kind:<22} {e.source:<20} {e.detail}")
    return "\n".join(lines)
