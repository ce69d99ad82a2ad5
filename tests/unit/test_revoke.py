"""`careline crm revoke ADDRESS`: what kind of channel an address typed by staff is."""

from __future__ import annotations

import pytest

from services.verifier.revoke import channel_kind_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("director@stroymontazh.ru", "email"),
        (" Director@StroyMontazh.RU ", "email"),
        ("@olena_kvitka", "handle"),
        ("+380441234567", "phone"),
        ("8 (495) 123-45-67", "phone"),
    ],
)
def test_the_kind_of_an_address_staff_type(address: str, kind: str) -> None:
    assert channel_kind_of(address) == kind


def test_revoking_an_address_never_confirmed_needs_no_nats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing to announce: the command says nothing changed, not that a revocation is on
    file but unannounced (NATS down, or not running at all)."""
    from typer.testing import CliRunner

    import shared.db
    from services.verifier import revoke
    from shared.cli import app

    async def nothing_on_file(url: str, work: object) -> revoke.Revoked:
        return revoke.Revoked([], 0, [])

    async def unreachable(settings: object, events: object) -> None:
        raise OSError("nats: no servers available")

    monkeypatch.setattr(shared.db, "in_one_transaction", nothing_on_file)
    monkeypatch.setattr(revoke, "announce", unreachable)
    result = CliRunner().invoke(
        app, ["crm", "revoke", "nobody@example.com", "--customer", "cust-stroymontazh"]
    )
    assert result.exit_code == 1
    assert "nothing changed" in result.output
    assert "not announced" not in result.output


def test_each_event_of_one_command_names_every_confirmation_it_took_back() -> None:
    """The address confirmed twice and taken back by one command (one time), and once by an
    earlier command: each event of the command lists the two it took back, in the order they
    were confirmed (one the log has no date for last); the earlier command's lists its own."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from services.verifier.revoke import taken_back_with

    now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    earlier, late, undated, old = (uuid.uuid4() for _ in range(4))

    def row(i: uuid.UUID, resolved: datetime, confirmed: datetime | None) -> dict[str, object]:
        return {
            "confirmation_id": i,
            "channel_address": "Director@stroymontazh.ru",
            "resolved_at": resolved,
            "confirmed_at": confirmed,
        }

    rows = [
        row(late, now, now - timedelta(days=2)),
        row(old, now - timedelta(days=30), now - timedelta(days=40)),
        row(undated, now, None),
        row(earlier, now, now - timedelta(days=9)),
    ]
    for this in (rows[0], rows[2], rows[3]):
        taken = taken_back_with(this, rows)
        assert [t.confirmation_id for t in taken] == [earlier, late, undated]
    assert taken[0].confirmed_at == now - timedelta(days=9) and taken[2].confirmed_at is None
    assert [t.confirmation_id for t in taken_back_with(rows[1], rows)] == [old]
