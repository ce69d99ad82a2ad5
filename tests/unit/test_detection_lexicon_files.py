"""The lexicon as data files: format, validation naming the file and entry, and the
prefix index that decides where regex entries are tried."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.escalator.detection import (
    LEXICON_PATH,
    LexiconError,
    detect,
    load_lexicon,
    parse_lexicon,
    read_lexicon_data,
)
from services.escalator.detection.firstchars import prefixes
from services.escalator.detection.lexicon import default_morphology
from services.escalator.detection.matching import regex_hits, word_starts
from services.escalator.detection.text import blank_quoted, fold, tokenize

pytestmark = pytest.mark.unit

EXTRA = Path(__file__).resolve().parents[1] / "data" / "classify-extra.jsonl"
HOLDOUT = Path(__file__).resolve().parents[1] / "data" / "classify-holdout.jsonl"


def write_lexicon(root: Path, files: dict[str, str]) -> Path:
    main = root / "lexicon.yaml"
    main.write_text("lexicons: words\nthresholds: {default: 0.5}\n", encoding="utf-8")
    for name, content in files.items():
        path = root / "words" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return main


def test_a_lexicon_directory_loads_per_language_and_signal(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "ru/legal_threat.yaml": 'entries:\n  - {id: ru.t.sue, lemmas: "подать ~3 суд"}\n',
            "en/abuse.yaml": "entries:\n  - {id: en.t.idiot, pattern: '\\bidiots?\\b'}\n",
        },
    )

    lexicon = parse_lexicon(read_lexicon_data(main))

    assert {(e.id, e.signal) for e in lexicon.patterns} == {
        ("ru.t.sue", "legal_threat"),
        ("en.t.idiot", "abuse"),
    }


def test_an_inflected_form_written_as_a_lemma_is_refused_with_the_fix(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path, {"ru/legal_threat.yaml": 'entries:\n  - {id: ru.t.sue, lemmas: "подам суд"}\n'}
    )

    with pytest.raises(LexiconError, match=r"ru/legal_threat\.yaml.*ru\.t\.sue.*'подать'"):
        parse_lexicon(read_lexicon_data(main))


def test_every_bad_entry_is_reported_at_once(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "uk/abuse.yaml": (
                "entries:\n"
                "  - {id: uk.t.one, pattern: '(unclosed'}\n"
                "  - {id: uk.t.two, lemmas: 'ідіоти'}\n"
                "  - {id: uk.t.three, pattern: 'x', weight: 2}\n"
            )
        },
    )

    with pytest.raises(LexiconError) as error:
        parse_lexicon(read_lexicon_data(main))

    assert all(i in str(error.value) for i in ("uk.t.one", "uk.t.two", "uk.t.three"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("de/abuse.yaml", "unknown language"),
        ("ru/rudeness.yaml", "unknown signal 'rudeness'"),
    ],
)
def test_misplaced_files_are_refused(tmp_path: Path, name: str, message: str) -> None:
    main = write_lexicon(tmp_path, {name: "entries: []\n"})

    with pytest.raises(LexiconError, match=message):
        read_lexicon_data(main)


def test_a_section_written_twice_is_refused_not_silently_replaced(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys: the first exclusions would vanish unseen."""
    main = write_lexicon(
        tmp_path,
        {
            "en/service_failure.yaml": (
                "entries:\n  - {id: en.t.lost, pattern: 'lost'}\n"
                "exclude:\n  - {id: en.t.not_mine, pattern: 'i lost'}\n"
                "exclude: []\n"
            )
        },
    )

    with pytest.raises(LexiconError, match=r"service_failure\.yaml.*'exclude' appears twice"):
        read_lexicon_data(main)


def test_an_unknown_key_in_an_entry_is_refused(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path, {"en/panic.yaml": "entries:\n  - {id: en.t.x, pattern: 'x', wieght: 0.5}\n"}
    )

    with pytest.raises(LexiconError, match=r"en\.t\.x.*wieght"):
        parse_lexicon(read_lexicon_data(main))


def test_an_entry_about_a_person_counts_only_with_its_words_near(tmp_path: Path) -> None:
    """`about`: lemmas (any form), `=form`s (as written) and `@name`, each group in its
    own window of the hit's sentence."""
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                "entries:\n"
                "  - id: ru.t.pretty\n"
                '    lemmas: "такой ~1 красивый"\n'
                "    about:\n"
                '      - {words: "=вы", before: 3}\n'
                '      - {words: "голос|@name", before: 3, after: 2}\n'
            )
        },
    )
    lexicon = parse_lexicon(read_lexicon_data(main))

    def fires(text: str) -> bool:
        return bool(detect(text, lexicon))

    assert fires("Вы такая красивая")
    assert fires("Марина такая красивая")
    assert fires("такой красивый голос")
    assert fires("голос у вас такой красивый")  # «голос» three words before, «вы» not
    assert not fires("У вас такие красивые витрины")  # «вас» is no «вы»
    assert not fires("Голос в вашем голосовом меню такой красивый")  # five words before
    assert not fires("Вы знаете? Такие красивые витрины")  # another sentence


def test_an_english_first_name_is_a_name_to_about(tmp_path: Path) -> None:
    """Round 36: `@name` of a Latin word is a first name by simplemma's English dictionary,
    which gives a proper noun its capital as its lemma ("emily" → "Emily")."""
    main = write_lexicon(
        tmp_path,
        {
            "en/harassment.yaml": (
                "entries:\n"
                "  - id: en.t.looks\n"
                "    pattern: '\\b[a-z]+\\s+is\\s+gorgeous\\b'\n"
                "    about:\n"
                '      - {words: "@name"}\n'
            )
        },
    )
    lexicon = parse_lexicon(read_lexicon_data(main))

    def fires(text: str) -> bool:
        return bool(detect(text, lexicon))

    assert fires("Emily is gorgeous")
    assert fires("honestly sarah is gorgeous")  # the word, not its capital
    assert not fires("The dashboard is gorgeous")
    assert not fires("Everything is gorgeous")
    morph = default_morphology()
    assert morph.is_name("hannah") and not morph.is_name("website")
    assert not morph.is_name("r2d2")


@pytest.mark.parametrize(
    ("about", "message"),
    [
        ('[{words: "голоса"}]', "'голос'"),
        ('[{words: "голос", before: 20}]', "whole numbers 0-10"),
        ('[{words: "голос", near: 2}]', "an 'about' item is"),
        ("[]", "non-empty list"),
        ('[{words: "гол*"}]', "bad word"),
    ],
)
def test_a_bad_about_is_refused_with_the_entry(tmp_path: Path, about: str, message: str) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                f'entries:\n  - {{id: ru.t.pretty, lemmas: "такой красивый", about: {about}}}\n'
            )
        },
    )

    with pytest.raises(LexiconError, match=rf"ru\.t\.pretty.*{message}"):
        parse_lexicon(read_lexicon_data(main))


def test_an_entry_with_unless_does_not_count_with_its_words_near(tmp_path: Path) -> None:
    """`unless`: the same words and windows as `about`; one of them near is no hit."""
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                "entries:\n"
                "  - id: ru.t.number\n"
                '    lemmas: "дать ~2 номер"\n'
                "    unless:\n"
                '      - {words: "водитель|рабочий", after: 1}\n'
                '      - {words: "@name"}\n'
            )
        },
    )
    lexicon = parse_lexicon(read_lexicon_data(main))

    def fires(text: str) -> bool:
        return bool(detect(text, lexicon))

    assert fires("Дайте ваш номер")
    assert fires("Дайте номер, а водитель пусть подождёт")  # two words after
    assert not fires("Дайте номер водителя")  # one word after
    assert not fires("Дайте рабочий номер")  # inside the hit
    assert fires("Дайте номер. Водитель опоздал")  # another sentence


def test_an_exclusion_takes_no_unless(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                "exclude:\n"
                '  - {id: ru.t.not, lemmas: "дать номер", unless: [{words: "водитель"}]}\n'
            )
        },
    )

    with pytest.raises(LexiconError, match=r"ru\.t\.not.*no 'unless'"):
        parse_lexicon(read_lexicon_data(main))


def test_she_who_is_a_thing_just_named_is_no_one(tmp_path: Path) -> None:
    """An `about` pronoun («она», «вона», «он») whose nearest noun of its gender before it
    in the sentence is a thing stands for the thing; a person or no noun leaves it her."""
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                "entries:\n"
                "  - id: ru.t.pretty\n"
                '    lemmas: "очень|такой ~1 красивый"\n'
                "    about:\n"
                '      - {words: "=она|=он|=вона", before: 3}\n'
            )
        },
    )
    lexicon = parse_lexicon(read_lexicon_data(main))

    def fires(text: str) -> bool:
        return bool(detect(text, lexicon))

    assert not fires("Заказала сумку, она очень красивая")
    assert not fires("Замовила сукню, вона дуже красива")
    assert not fires("Купил телефон, он такой красивый")
    assert fires("Пришла девушка, она очень красивая")
    assert fires("Была у мастера Оли, она очень красивая")
    assert fires("Она очень красивая")  # no noun before: another sentence's, her
    assert fires("Купила платье, она очень красивая")  # «платье» is no «она»


def test_an_exclusion_takes_no_about(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "ru/harassment.yaml": (
                'exclude:\n  - {id: ru.t.not, lemmas: "такой красивый", about: [{words: "вы"}]}\n'
            )
        },
    )

    with pytest.raises(LexiconError, match=r"ru\.t\.not.*no 'about'"):
        parse_lexicon(read_lexicon_data(main))


def test_the_exact_form_marker_and_past_tense_marker_are_accepted(tmp_path: Path) -> None:
    main = write_lexicon(
        tmp_path,
        {
            "ru/service_failure.yaml": (
                'entries:\n  - {id: ru.t.past, lemmas: "=не ответить@past"}\n'
                '  - {id: ru.t.form, lemmas: "=подам"}\n'
            )
        },
    )

    lexicon = parse_lexicon(read_lexicon_data(main))

    assert {e.id for e in lexicon.patterns} == {"ru.t.past", "ru.t.form"}


def test_the_shipped_lexicon_covers_every_signal_in_every_language() -> None:
    data = read_lexicon_data(LEXICON_PATH)

    for signal, entries in data["signals"].items():
        languages = {e["language"] for e in entries}
        assert languages == {"ru", "uk", "en"}, signal


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bsue\b", {"sue"}),
        (r"\b(?:my|our)\s+lawyer", {"my ", "my\n", "my\t", "my\r", "my\xa0", "our"}),
        (r"\bбл[яа]", {"бля", "бла"}),
        (r"[😍😘]", {"😍", "😘"}),
        (r"\w+ing", None),
        # a look-behind or look-ahead is zero-width: what follows it starts the match
        (r"(?<!не\s)\bсдерж", {"сде"}),
        (r"(?=\w)(?:да|нет)\b", {"да", "нет"}),
    ],
)
def test_prefixes_are_read_from_the_pattern(pattern: str, expected: set[str] | None) -> None:
    found = prefixes(pattern)

    assert found == (frozenset(expected) if expected is not None else None)


def test_the_regex_index_finds_exactly_what_trying_every_entry_everywhere_finds() -> None:
    """The fast path (word starts from the tokens, the prefix windows, the required-literal
    prefilter, case-sensitive twins of the patterns) must find every match at every word
    start, and nothing else."""
    lexicon = load_lexicon()
    word_start = re.compile(r"\b\w")
    texts = [
        json.loads(line)["text"]
        for path in (EXTRA, HOLDOUT)
        for line in path.read_text(encoding="utf-8").splitlines()
    ] + ["ſue you, I'll ſue", "ПОДАМ В СУД İ don't-care x*йня e-mail 'quoted' ᲀас"]
    entries = [
        e
        for e in lexicon.patterns + lexicon.excludes
        if e.regex is not None and e not in lexicon.index.scanned
    ]
    for text in texts:
        folded = blank_quoted(fold(text))
        tokens = tokenize(folded, lexicon.clause_words)
        indexed = {
            (h.entry.id, h.start, h.end)
            for h in regex_hits(lexicon, folded, tokens)
            if h.entry not in lexicon.index.scanned
        }
        everywhere = set()
        for at in (m.start() for m in word_start.finditer(folded)):
            for entry in entries:
                m = entry.regex.match(folded, at)  # type: ignore[union-attr]
                if m is not None and m.end() > at:
                    # a group named `said` is the hit, the rest of the match its context
                    said = m.span("said") if "said" in m.re.groupindex else (-1, -1)
                    span = said if said[1] > said[0] else (at, m.end())
                    everywhere.add((entry.id, *span))
        assert indexed == everywhere, text


def test_every_regex_entry_is_indexed_by_the_letters_it_can_start_with() -> None:
    """An entry whose first letters the index cannot read (a leading \\d, \\w, a lookahead)
    is tried at every word start of every text: write it with explicit classes ([0-9])."""
    assert [e.id for e in load_lexicon().index.at_any_word] == []


def test_only_entries_that_start_at_a_mark_are_scanned_over_the_whole_text() -> None:
    """A scanned entry is searched through every message (emoji, tears: they need not
    stand at a word). One that starts with a currency sign by accident ("[£$€]\\d") cost
    every message a search: round 7's did, 12% of the lexicon's time on long messages."""
    scanned = {e.id for e in load_lexicon().index.scanned}

    assert scanned == {"en.harass.emoji", "ru.harass.emoji", "en.panic.crying", "ru.panic.crying"}


def test_word_starts_from_the_tokens_are_where_the_regex_finds_them() -> None:
    lexicon = load_lexicon()
    for text in ["", "plain words only", "don't x*y e-mail 'q' - a--b ' ' ##tag 5$", "ы'ы’ы"]:
        folded = fold(text)
        tokens = tokenize(folded, lexicon.clause_words)
        expected = [m.start() for m in re.finditer(r"\b\w", folded)]
        assert word_starts(folded, tokens) == expected, text
