"""The case reference: what people read, say and type for an escalation, `CL-7K3F-9Q2M`.

It is the escalation id's first 40 bits in Crockford base32 (no I, L, O or U, so nothing
reads as 1 or 0 or another letter), derived each time it is shown: no sequence, no column,
no extra write. Escalation ids are uuid5 (SHA-1 of their inputs), so those bits are evenly
spread; two escalations share a reference by chance (about n / 2^40 for one reference among
n kept escalations, docs/escalations.md), and a lookup then lists every match. Typed, it is
case-insensitive, with or without `CL` and dashes; I and L are read as 1 and O as 0.

Used by the notifier (its `case_ref` filter) and the escalator (its facts; its CLI looks a
reference up by `id BETWEEN lower AND upper`: the primary key answers it, no index of its
own).
"""

from __future__ import annotations

import re
import uuid

PREFIX = "CL"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
BITS = 40
_DIGITS = BITS // 5  # 8 characters, 5 bits each
_REST = 128 - BITS  # the bits of the id a reference does not say
# What a reader may type for a digit that looks like one (Crockford's decoding).
_READ_AS = {**{c: i for i, c in enumerate(ALPHABET)}, "I": 1, "L": 1, "O": 0}
_SEPARATORS = re.compile(r"[\s\-_.]+")


class NotACaseRef(ValueError):
    """Text that is not a case reference (wrong length or a letter the alphabet lacks)."""


def case_ref(escalation_id: uuid.UUID | str) -> str:
    """`CL-XXXX-XXXX` of an escalation id (a UUID or its text)."""
    value = uuid.UUID(str(escalation_id)).int >> _REST
    digits = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_DIGITS)))
    return f"{PREFIX}-{digits[:4]}-{digits[4:]}"


def case_ref_said(value: object) -> str:
    """The reference of an escalation id (a UUID or its text), as a notice shows it; ""
    for none; anything that is no id (a placeholder, a hand-made request) as it is: a
    notice is not lost over its number."""
    if not value:
        return ""
    try:
        return case_ref(str(value))
    except ValueError:
        return str(value)


def parse_case_ref(text: str) -> int:
    """The 40 bits a typed reference says; `NotACaseRef` if it says none."""
    compact = _SEPARATORS.sub("", text).upper()
    if len(compact) == _DIGITS + len(PREFIX) and compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    if len(compact) != _DIGITS or any(c not in _READ_AS for c in compact):
        raise NotACaseRef(f"not a case reference: {text!r} (expected {PREFIX}-XXXX-XXXX)")
    value = 0
    for c in compact:
        value = value << 5 | _READ_AS[c]
    return value


def normalized(text: str) -> str:
    """A typed reference as it is shown (`cl 7k3f 9qzm` -> `CL-7K3F-9QZM`)."""
    return case_ref(uuid.UUID(int=parse_case_ref(text) << _REST))


def id_bounds(text: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The lowest and highest escalation id with this reference, for `id BETWEEN lo AND hi`
    (PostgreSQL orders uuids by their bytes, most significant first, as these bounds)."""
    high = parse_case_ref(text) << _REST
    return uuid.UUID(int=high), uuid.UUID(int=high | ((1 << _REST) - 1))
