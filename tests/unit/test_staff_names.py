"""The English first names that are common words come from a data file (round 33)."""

from __future__ import annotations

import re

import pytest

from services.escalator.detection.lexicon import default_morphology
from services.escalator.staff_names import (
    COMMON_WORD_NAMES,
    COMMON_WORD_NAMES_FILE,
    name_keys,
    names_in,
)


def test_the_common_word_names_are_loaded_from_the_data_file_as_written() -> None:
    # Every word of the list, as written: YAML would turn an unquoted yes, no, on or off
    # into a boolean, which would then be no name at all.
    body = re.sub(r"#.*", "", COMMON_WORD_NAMES_FILE.read_text(encoding="utf-8"))
    written = {w for w in re.split(r"[\s,\[\]]+", body) if w}

    assert written == COMMON_WORD_NAMES
    assert {"bill", "will", "mark", "hope", "frank", "grace"} <= COMMON_WORD_NAMES
    assert all(name == name.lower() and name.isalpha() for name in COMMON_WORD_NAMES)


@pytest.mark.parametrize(
    ("name", "sentence", "named"),
    [
        ("Mark Smith", "Mark my words, I will find you.", False),
        ("Mark Smith", "Mark, I will find you.", True),
        ("Will Brown", "Will you fix it or not?", False),
        ("Will Brown", "Tell Will I know where he lives.", True),
        ("Anna Smith", "Anna knows where I live.", True),  # no common word: a name
    ],
)
def test_a_common_word_name_opening_a_sentence_names_nobody(
    name: str, sentence: str, named: bool
) -> None:
    morph = default_morphology()
    assert bool(names_in(sentence, [name_keys(name, morph)], morph)) is named
