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
