"""Why a rule fired, in the notice's language. Pure.

The escalator's reason is its own account in English with ids (events and timelines keep
it). Staff notices say it again from the parts the escalator sends beside it: what the
message changed of an escalation on file (`change_items`), the rule, the signals with the
client's words, and each condition that held (`condition_items`); each item a kind and its
values. The words come from REASONS in _staff_labels.j2 (phrases with %(value)s
places, and names of signals, kinds, channels, periods, weekdays, units). A request of
before (no parts) keeps the escalator's reason; a condition of a kind without a phrase, or
whose phrase names a value it lacks, keeps its English words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.case_ref import case_ref_said

from .figures import percent

# Which names a condition's `names`/`name` are, to say each by its name.
_NAMES_OF = {
    "history_signals": "signals",
    "history_signals_apart": "signals",
    "history_escalations": "kinds",
    "history_warned": "kinds",
    "history_flagged": "kinds",
    "second_opinion_also": "signals",
    "second_opinion_only": "signals",
}
_SPAN = re.compile(r"^(\d+)([a-z])$")


def named(value: Any, names: Mapping[str, str]) -> str:
    """An id of the policy or the lexicon (a kind, a signal, a role) by its name in
    _staff_labels.j2, or a CRM's word (a contract's status) in any case; one without a name
    as itself, underscores as spaces. The templates' `named` filter (a filter, not a macro,
    so that the HTML templates escape what it returns), and the reason's names."""
    value = str(value)
    return names.get(value) or names.get(value.casefold()) or value.replace("_", " ")


def reason_said(escalation: Mapping[str, Any], words: Mapping[str, Any]) -> str:
    """What changed (reopened, severity raised), the rule, its signals with the client's
    words, then each condition, in one line. `escalation`: a staff notice's data, or one
    escalation of a digest."""
    conditions = escalation.get("condition_items")
    if conditions is None:
        return str(escalation.get("reason", ""))
    names = words.get("signals", {})
    language = str(words.get("language", "en"))
    said = [_signal_said(s, names, language) for s in escalation.get("signals") or []]
    rule = words["rule"] % {"rule": escalation.get("rule")}
    head = f"{rule}: {'; '.join(said or [words['no_signals']])}"
    changes = [condition_said(c, words) for c in escalation.get("change_items") or []]
    return "; ".join([*changes, head, *(condition_said(c, words) for c in conditions)])


def _signal_said(signal: Mapping[str, Any], names: Mapping[str, str], language: str) -> str:
    name = str(signal.get("name", ""))
    said = f"{named(name, names)} {percent(signal.get('score', 0), language)}"
    # The client's words as the escalator's reason quotes them (no "!!!", no capitals
    # runs); requests of before have all the evidence as "words".
    quoted = ", ".join(f"«{w}»" for w in signal.get("quoted", signal.get("words")) or [])
    return f"{said} ({quoted})" if quoted else said


def condition_said(condition: Mapping[str, Any], words: Mapping[str, Any]) -> str:
    kind = str(condition.get("kind", ""))
    text = str(condition.get("text", kind))
    phrase = words.get("phrases", {}).get(kind)
    if not phrase:
        return text
    given = dict(condition.get("values") or {})
    try:
        values = {k: _value_said(kind, k, v, words, given) for k, v in given.items()}
        return str(phrase % values)
    except Exception:  # values of a shape this notifier does not know: the words instead
        return text


def _value_said(
    kind: str, key: str, value: Any, words: Mapping[str, Any], given: Mapping[str, Any]
) -> str:
    names = words.get(_NAMES_OF.get(kind, ""), {})
    if key in ("names", "markers") and given.get("said"):
        return ", ".join(str(n) for n in given["said"])  # the policy's own names for them
    if key == "names":
        return ", ".join(named(n, names) for n in value)
    if key == "name":
        return named(value, names)
    if key in ("within", "apart"):
        return _span(str(value), words.get("units", {}))
    if key == "status" and kind == "identity":
        return named(value, words.get("identities", {}))
    if key == "included":
        return str(words["included"]["yes" if value else "no"])
    if key == "weekday":
        return str(words.get("weekdays", {}).get(value, value))
    if key == "channel":
        return named(value, words.get("channels", {}))
    if key == "via":
        return named(value, words.get("vias", {}))
    if key == "periods":
        return ", ".join(_period(p, words, given.get("holiday")) for p in value)
    if key == "owed":  # what a promise to the client still owes (client_says_fixed_owed)
        return ", ".join(named(n, words.get("owed", {})) for n in value)
    if key == "escalation":  # the reference a person types into `careline client-reply`
        return case_ref_said(value)
    if key == "open":
        kinds = words.get("kinds", {})
        return ", ".join(f"{named(e['kind'], kinds)} {e['severity']}" for e in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _period(period: str, words: Mapping[str, Any], holiday: Any) -> str:
    said = named(period, words.get("periods", {}))
    if period != "holiday" or not holiday:
        return said
    # Public holidays come named in the calendar's language; the company's own day by id.
    return f"{said} ({words.get('holidays', {}).get(holiday, holiday)})"


def _span(span: str, units: Mapping[str, Any]) -> str:
    """`30d` as the notice's language writes it (`30 дн.`, `30 days`: a unit given as
    [one, more] is said by its count, `1 day`); as the policy writes it else."""
    found = _SPAN.match(span)
    if not found or found[2] not in units:
        return span
    unit = units[found[2]]
    if isinstance(unit, list):
        unit = unit[0] if found[1] == "1" else unit[1]
    return str(unit) % found[1]
