"""The case reference (shared/case_ref.py): what staff and clients read for an escalation."""

from __future__ import annotations

import base64
import uuid

import pytest

from shared.case_ref import ALPHABET, NotACaseRef, case_ref, id_bounds, normalized, parse_case_ref
from shared.contracts import derived_id

_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _by_the_standard_library(escalation_id: uuid.UUID) -> str:
    """Base32 of the id's first five bytes, done another way: the RFC alphabet, translated."""
    digits = base64.b32encode(escalation_id.bytes[:5]).decode()
    return digits.translate(str.maketrans(_RFC4648, ALPHABET))


@pytest.mark.parametrize(
    ("escalation_id", "ref"),
    [
        ("1a573624-5b8f-5de6-9a25-e903108f937b", "CL-39BK-C92V"),
        ("5b0c9a52-6f0e-5d2a-9c61-0c8f1e2a7d34", "CL-BC69-MMKF"),
        ("00000000-0000-0000-0000-000000000000", "CL-0000-0000"),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", "CL-ZZZZ-ZZZZ"),
    ],
)
def test_known_vectors(escalation_id: str, ref: str) -> None:
    assert case_ref(escalation_id) == ref
    assert case_ref(uuid.UUID(escalation_id)) == ref


def test_the_reference_is_the_ids_first_40_bits_in_crockford_base32() -> None:
    for n in range(200):
        escalation_id = derived_id("escalation", n)
        ref = case_ref(escalation_id)
        assert (
            ref
            == f"CL-{_by_the_standard_library(escalation_id)[:4]}-"
            + (_by_the_standard_library(escalation_id)[4:])
        )
        assert set(ref[3:].replace("-", "")) <= set(ALPHABET)


def test_the_alphabet_is_crockfords() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_the_bounds_hold_the_id_and_give_back_its_reference() -> None:
    for n in range(200):
        escalation_id = derived_id("escalation", n)
        lower, upper = id_bounds(case_ref(escalation_id))
        assert lower <= escalation_id <= upper
        assert case_ref(lower) == case_ref(upper) == case_ref(escalation_id)
        # The bounds are tight: one below and one above is another reference.
        if lower.int:
            assert case_ref(uuid.UUID(int=lower.int - 1)) != case_ref(escalation_id)
        if upper.int < (1 << 128) - 1:
            assert case_ref(uuid.UUID(int=upper.int + 1)) != case_ref(escalation_id)
        # PostgreSQL compares uuids by their bytes: the same order as these.
        assert lower.bytes <= escalation_id.bytes <= upper.bytes


@pytest.mark.parametrize(
    "typed",
    ["CL-BC69-MMKF", "cl-bc69-mmkf", "Cl-Bc69-mMkF", "BC69-MMKF", "bc69mmkf", "CL BC69 MMKF"],
)
def test_typed_references_are_read_case_insensitively_with_or_without_prefix(typed: str) -> None:
    assert normalized(typed) == "CL-BC69-MMKF"
    assert id_bounds(typed) == id_bounds("CL-BC69-MMKF")


def test_letters_that_look_like_digits_are_read_as_them() -> None:
    # Crockford: I and L are 1, O is 0; a reader copying from paper may write either.
    assert parse_case_ref("CL-0I1L-oO00") == parse_case_ref("CL-0111-0000")


def test_a_reference_starting_with_the_prefixs_letters_is_not_cut() -> None:
    # Eight characters are the reference itself, even when they begin with C and L.
    ref = "CL-C112-3456"
    assert normalized(ref) == ref
    assert normalized("C112-3456") == ref
    assert normalized("CL12-3456") == ref


@pytest.mark.parametrize(
    "typed",
    ["", "CL-", "CL-BC69-MMK", "CL-BC69-MMKFF", "CL-BC69-MMKU", "CL-BC69-MM!F", "XY-BC69-MMKF"],
)
def test_what_is_not_a_reference_is_refused(typed: str) -> None:
    with pytest.raises(NotACaseRef):
        parse_case_ref(typed)
