"""The lexicon: data files per language and signal, validated when loaded.

`data/lexicon.yaml` holds what is shared (thresholds, negation, reported speech, which
signals take form evidence) and names the directory of word lists,
`data/lexicon/<language>/<signal>.yaml`. Every problem is reported with the file and the
entry id, so a support lead who edits a list sees exactly what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .entries import Entry, Near, Slot
from .index import Index, build_index
from .morphology import PAST, Morphology
from .text import fold, is_cyrillic

SIGNALS = (
    "legal_threat",
    "reputation_threat",
    "violence_threat",
    "abuse",
    "harassment",
    "panic",
    "service_failure",
    "compensation_demand",
    "freebie_demand",
    "billing_dispute",
    "churn_risk",
    "payment_details_change",
)
# Signals the statistical second opinion is not trained for: the lexicon alone decides them.
# A request to change bank details is said in a few fixed words, and a forged one reads like
# any billing note; a column trained on a handful of labelled messages would fire on every
# message about details ("реквизиты не изменились" has the same stems as "изменились").
LEXICON_ONLY = frozenset({"payment_details_change"})
LANGUAGES = ("ru", "uk", "en")
LEXICON_PATH = Path(__file__).parent.parent / "data" / "lexicon.yaml"
_GAP = re.compile(r"~(\d)")
_ENTRY_KEYS = {
    "id",
    "pattern",
    "lemmas",
    "weight",
    "negatable",
    "victim_subject",
    "about",
    "not_after",
    "unless",
    "note",
}
_NEAR_KEYS = {"words", "before", "after"}
NAME = "@name"  # a word of `about` that stands for any first name


class LexiconError(ValueError):
    """The lexicon is invalid; the message names the file or section and the entry."""


@dataclass(frozen=True)
class ReportedSpeech:
    """Someone else's threat, or a threat against the client, is not the client's."""

    signals: frozenset[str] = frozenset()
    reporters: frozenset[str] = frozenset()  # "угрожать", "threatened", "сказав"
    speakers: frozenset[str] = frozenset()  # "я", "we": the client reporting own words
    third_parties: frozenset[str] = frozenset()  # "сосед", "he", "someone"
    targets: frozenset[str] = frozenset()  # "меня", "me": the client is the target


@dataclass(frozen=True)
class Lexicon:
    patterns: tuple[Entry, ...]
    excludes: tuple[Entry, ...]
    thresholds: dict[str, float]
    form_signals: tuple[str, ...]
    negators: frozenset[str]
    bridges: frozenset[str] = frozenset()
    negation_after: frozenset[str] = frozenset()  # "... я не собираюсь"
    clause_words: frozenset[str] = frozenset()
    reported: ReportedSpeech = ReportedSpeech()
    index: Index = field(default_factory=Index, compare=False, repr=False)

    def threshold(self, signal: str) -> float:
        return self.thresholds.get(signal, self.thresholds.get("default", 0.5))


@lru_cache(maxsize=1)
def default_morphology() -> Morphology:
    return Morphology()


def _words(values: Any) -> frozenset[str]:
    return frozenset(fold(str(v)) for v in values or ())


def _slots(text: str, language: str | None, where: str, morph: Morphology) -> tuple[Slot, ...]:
    slots: list[Slot] = []
    gap = 0
    for part in str(text).split():
        if gap_match := _GAP.fullmatch(part):
            gap = int(gap_match.group(1))
            continue
        words, prefixes = set(), []
        for alternative in (_fold_word(a) for a in part.split("|")):
            if not alternative or alternative in {"=", "*"}:
                raise LexiconError(f"{where}: empty word in {text!r}")
            if alternative.startswith("="):
                words.add(alternative[1:])
            elif alternative.endswith("*"):
                prefixes.append(alternative[:-1])
            else:
                _check_lemma(alternative.removesuffix(PAST), language, where, morph)
                words.add(alternative)
        slots.append(Slot(frozenset(words), tuple(prefixes), gap))
        gap = 0
    if not slots:
        raise LexiconError(f"{where}: empty lemma sequence")
    if gap:
        raise LexiconError(f"{where}: a gap must stand between two words: {text!r}")
    return tuple(slots)


def _fold_word(word: str) -> str:
    """Fold a lexicon word as the text is folded, keeping a "@past" marker as it is."""
    if word.endswith(PAST):
        return fold(word.removesuffix(PAST)) + PAST
    return fold(word)


def _check_lemma(word: str, language: str | None, where: str, morph: Morphology) -> None:
    """Catch "подам" written where the lemma "подать" is meant: it would match one form."""
    if language not in morph.analyzers or not is_cyrillic(word):
        return
    if morph.is_known(word, language):
        lemmas = morph.lemmas(word, language)
        if word not in lemmas:
            raise LexiconError(
                f"{where}: {word!r} is not a {language} lemma; write one of "
                f"{sorted(lemmas)}, or '={word}' to match only this form"
            )


def _about(
    raw: Any, language: str | None, where: str, morph: Morphology, key: str = "about"
) -> tuple[Near, ...]:
    """`about:` or `unless:` — a list of {words, before, after}: lemmas, `=form`s and
    `@name`."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise LexiconError(f"{where}: '{key}' must be a non-empty list of {{words, before, after}}")
    found: list[Near] = []
    for group in raw:
        if not isinstance(group, dict) or "words" not in group or set(group) - _NEAR_KEYS:
            raise LexiconError(f"{where}: an '{key}' item is {{words, before, after}}, got {group}")
        before, after = group.get("before", 0), group.get("after", 0)
        if not all(isinstance(n, int) and 0 <= n <= 10 for n in (before, after)):
            raise LexiconError(f"{where}: 'before' and 'after' must be whole numbers 0-10")
        lemmas, forms, names = set(), set(), False
        for word in (fold(w) for w in str(group["words"]).split("|")):
            if word == NAME:
                names = True
            elif word.startswith("=") and len(word) > 1:
                forms.add(word[1:])
            elif word and not word.startswith("=") and "*" not in word and " " not in word:
                _check_lemma(word, language, where, morph)
                lemmas.add(word)
            else:
                raise LexiconError(f"{where}: bad word {word!r} in '{key}'")
        found.append(Near(frozenset(lemmas), frozenset(forms), names, before, after))
    return tuple(found)


def _entry(raw: Any, signal: str, where: str, morph: Morphology, excluded: bool) -> Entry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: an entry must be a mapping, got {raw!r}")
    if "id" not in raw:
        raise LexiconError(f"{where}: entry without 'id': {raw}")
    where = f"{where}: {raw['id']}"
    unknown = set(raw) - _ENTRY_KEYS - {"language"}
    if unknown:
        raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
    if ("pattern" in raw) == ("lemmas" in raw):
        raise LexiconError(f"{where}: entry without 'pattern' or 'lemmas' (give one)")
    weight = float(raw.get("weight", 0.9))
    if not 0 < weight <= 1:
        raise LexiconError(f"{where}: weight must be in (0, 1], got {weight}")
    negatable = bool(raw.get("negatable", True))
    victim = bool(raw.get("victim_subject", False))
    about = _about(raw.get("about"), raw.get("language"), where, morph)
    unless = _about(raw.get("unless"), raw.get("language"), where, morph, "unless")
    if about and excluded:
        raise LexiconError(f"{where}: an exclusion takes no 'about'")
    if unless and excluded:
        raise LexiconError(f"{where}: an exclusion takes no 'unless'")
    not_after = _not_after(raw.get("not_after"), where)
    if "pattern" in raw:
        try:
            regex = re.compile(str(raw["pattern"]), re.IGNORECASE)
        except re.error as exc:
            raise LexiconError(f"{where}: bad pattern: {exc}") from exc
        if regex.match(""):
            raise LexiconError(f"{where}: the pattern matches empty text")
        return Entry(
            str(raw["id"]),
            signal,
            weight,
            negatable,
            regex=regex,
            excluded=excluded,
            victim_subject=victim,
            about=about,
            not_after=not_after,
            unless=unless,
        )
    sequence = _slots(raw["lemmas"], raw.get("language"), where, morph)
    return Entry(
        str(raw["id"]),
        signal,
        weight,
        negatable,
        sequence=sequence,
        excluded=excluded,
        anchor=_anchor(sequence),
        victim_subject=victim,
        about=about,
        not_after=not_after,
        unless=unless,
    )


def _not_after(pattern: Any, where: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(str(pattern), re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: bad not_after: {exc}") from exc


def _anchor(sequence: tuple[Slot, ...]) -> frozenset[str] | None:
    """The later slot most likely missing from a text: its shortest word the longest."""
    slots = [s for s in sequence[1:] if s.words and not s.prefixes]
    if not slots:
        return None
    return max(reversed(slots), key=lambda s: min(map(len, s.words))).words


def _surzhyk(entries: list[Entry], morph: Morphology) -> list[Entry]:
    """A Ukrainian lemma sequence also takes, slot by slot, the Russian words of its twin.

    Surzhyk mixes the two in one sentence ("минулого разу ви это сделали бесплатно"): every
    word has its lemmas in both dictionaries already, but the Ukrainian entry wants
    "безкоштовно" and the Russian one "прошлый", so neither matches. The twin is the entry
    of the same id after the language ("ru.free.last_time" of "uk.free.last_time"), of the
    same signal, flags, slots and gaps. Only words the Ukrainian dictionary does not know
    are taken (the Russian a surzhyk speaker brings in): a word both know keeps the role
    the Ukrainian entry gives it (ru.harass.married's «одна» is "single", in Ukrainian
    «ви ж одна мережа» it is "one"; «вернёте» is a Ukrainian form too). Only the Ukrainian
    entry is widened, and not when it weighs more than its twin, so a Russian or Ukrainian
    text keeps its evidence and score; the Russian entry only takes its twin's `unless`
    words, which can take a hit away and never add one.
    """
    russian = {e.id[3:]: e for e in entries if e.id.startswith("ru.") and e.sequence}
    ukrainian = {e.id[3:]: e for e in entries if e.id.startswith("uk.") and e.unless}
    merged: list[Entry] = []
    for entry in entries:
        # The other way for `unless`: «Дайте робочий номер» is «дайте … номер» to the
        # Russian entry, and the Ukrainian «робочий» still says whose number it is. Its
        # words only take hits away, so all of them are taken.
        other = ukrainian.get(entry.id[3:]) if entry.id.startswith("ru.") else None
        if other is not None and len(other.unless) == len(entry.unless):
            entry = replace(
                entry,
                unless=tuple(
                    replace(m, lemmas=m.lemmas | t.lemmas, forms=m.forms | t.forms)
                    for m, t in zip(entry.unless, other.unless, strict=True)
                ),
            )
        twin = russian.get(entry.id[3:]) if entry.id.startswith("uk.") else None
        if (
            twin is not None
            and entry.sequence
            and (twin.signal, twin.negatable, twin.victim_subject)
            == (entry.signal, entry.negatable, entry.victim_subject)
            and entry.weight <= twin.weight
            and [s.gap for s in twin.sequence] == [s.gap for s in entry.sequence]
        ):
            sequence = tuple(
                replace(mine, words=mine.words | _not_ukrainian(theirs.words, morph))
                for mine, theirs in zip(entry.sequence, twin.sequence, strict=True)
            )
            entry = replace(
                entry,
                sequence=sequence,
                anchor=_anchor(sequence),
                about=_surzhyk_about(entry.about, twin.about, morph),
                unless=_surzhyk_about(entry.unless, twin.unless, morph),
            )
        merged.append(entry)
    return merged


def _surzhyk_about(
    mine: tuple[Near, ...], theirs: tuple[Near, ...], morph: Morphology
) -> tuple[Near, ...]:
    """The twin's `about` words beside the entry's own, group by group («ви така милая»
    has its «ви»; «девушка, ви така гарна» its «девушка»), when both have the same groups."""
    if len(mine) != len(theirs):
        return mine
    return tuple(
        replace(
            m,
            lemmas=m.lemmas | _not_ukrainian(t.lemmas, morph),
            forms=m.forms | _not_ukrainian(t.forms, morph),
            names=m.names or t.names,
        )
        for m, t in zip(mine, theirs, strict=True)
    )


def _not_ukrainian(words: frozenset[str], morph: Morphology) -> frozenset[str]:
    return frozenset(
        w for w in words if is_cyrillic(w) and not morph.is_known(w.removesuffix(PAST), "uk")
    )


def parse_lexicon(data: dict[str, Any], morphology: Morphology | None = None) -> Lexicon:
    """Validate a lexicon given as one mapping (`read_lexicon_data` merges the files)."""
    morph = morphology or default_morphology()
    patterns: list[Entry] = []
    excludes: list[Entry] = []
    problems: list[str] = []  # every bad entry at once, not one per attempt
    for section, target in (("signals", patterns), ("exclude", excludes)):
        for signal, entries in (data.get(section) or {}).items():
            if signal not in SIGNALS:
                raise LexiconError(f"{section}: unknown signal {signal!r}")
            for raw in entries or []:
                where = f"{section}.{signal}"
                if isinstance(raw, dict) and "file" in raw:
                    where, raw = f"{raw['file']}", {k: v for k, v in raw.items() if k != "file"}
                try:
                    target.append(_entry(raw, signal, where, morph, section == "exclude"))
                except LexiconError as exc:
                    problems.append(str(exc))
    if problems:
        raise LexiconError("\n".join(problems))
    patterns, excludes = _surzhyk(patterns, morph), _surzhyk(excludes, morph)
    ids = [p.id for p in patterns + excludes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise LexiconError(f"duplicate entry ids: {duplicates}")
    form_signals = tuple(data.get("form_signals") or ())
    unknown = set(form_signals) - set(SIGNALS)
    if unknown:
        raise LexiconError(f"form_signals: unknown signals {sorted(unknown)}")
    thresholds = {str(k): float(v) for k, v in (data.get("thresholds") or {}).items()}
    for name, value in thresholds.items():
        if name != "default" and name not in SIGNALS:
            raise LexiconError(f"thresholds: unknown signal {name!r}")
        if not 0 < value <= 1:
            raise LexiconError(f"thresholds: {name} must be in (0, 1]")
    reported = data.get("reported_speech") or {}
    return Lexicon(
        patterns=tuple(patterns),
        excludes=tuple(excludes),
        thresholds=thresholds,
        form_signals=form_signals,
        negators=_words(data.get("negators")),
        bridges=_words(data.get("negation_bridges")),
        negation_after=_words(data.get("negation_after")),
        clause_words=_words(data.get("clause_words")),
        reported=ReportedSpeech(
            signals=frozenset(reported.get("signals") or ()),
            reporters=_words(reported.get("reporters")),
            speakers=_words(reported.get("speakers")),
            third_parties=_words(reported.get("third_parties")),
            targets=_words(reported.get("targets")),
        ),
        index=build_index(patterns + excludes),
    )


def read_lexicon_data(path: Path = LEXICON_PATH) -> dict[str, Any]:
    """The main file with the word lists of its `lexicons` directory merged in."""
    data = _read(path)
    directory = data.pop("lexicons", None)
    if directory is None:
        return data
    signals: dict[str, list[Any]] = dict(data.get("signals") or {})
    excludes: dict[str, list[Any]] = dict(data.get("exclude") or {})
    for file in sorted((path.parent / str(directory)).glob("*/*.yaml")):
        language, signal = file.parent.name, file.stem
        name = f"{file.parent.name}/{file.name}"
        if language not in LANGUAGES:
            raise LexiconError(f"{name}: unknown language directory {language!r}")
        if signal not in SIGNALS:
            raise LexiconError(f"{name}: unknown signal {signal!r} (the file name)")
        content = _read(file)
        unknown = set(content) - {"entries", "exclude"}
        if unknown:
            raise LexiconError(f"{name}: unknown sections {sorted(unknown)}")
        for section, target in (("entries", signals), ("exclude", excludes)):
            for raw in content.get(section) or []:
                if not isinstance(raw, dict):
                    raise LexiconError(f"{name}: an entry must be a mapping, got {raw!r}")
                item = {"file": f"{name} {section}", "language": language, **raw}
                target.setdefault(signal, []).append(item)
    data["signals"], data["exclude"] = signals, excludes
    return data


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word: a second `exclude:` in a
    signal's file would silently drop the first one's entries. Here it is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LexiconError(f"{path.name}: expected a mapping at the top")
    return data


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    return parse_lexicon(read_lexicon_data(path))
