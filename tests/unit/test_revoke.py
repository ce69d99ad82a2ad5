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
