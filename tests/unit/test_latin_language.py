"""The language a message typed in Latin letters is written in, as the detector reads it:
the client is answered in it (intake's language detector takes it for English)."""

from __future__ import annotations

import pytest

from services.escalator.detection import read_message

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("privet, u nas opyat ne rabotaet kabinet, chto za bardak", "ru"),
        ("au, vy tam zhivy? tretiy raz pishu", "ru"),
        ("pidu do sudu, vy meni vynni groshi", "uk"),
        ("Hello, the dashboard is down again", None),
        ("Sudoku app crashed? no, all fine", None),
        ("Привет, у нас опять не работает", None),  # Cyrillic: intake's detector knows it
        ("ok", None),
    ],
)
def test_the_language_of_russian_or_ukrainian_in_latin_letters(
    text: str, language: str | None
) -> None:
    assert read_message(text).latin_language == language
