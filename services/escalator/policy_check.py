"""`careline policy check`: every problem of a policy file, each with its line and field.

YAML's composed node tree keeps where each key and item starts; pydantic's error locations
(`rules.3.when.any_signals`) are mapped back to those marks, to the deepest one that exists
(a missing field is reported at the mapping that lacks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from .policy import Location, Policy, consistency_problems

_START = yaml.Mark("", 0, 0, 0, "", 0)  # line 1, column 1: where a whole-file problem is


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based, as editors count
    column: int
    field: str
    message: str

    def describe(self, source: str) -> str:
        return f"{source}:{self.line}:{self.column}: {self.field}: {self.message}"


def _marks(node: yaml.Node, path: Location = ()) -> dict[Location, yaml.Mark]:
    """Where each path starts: a mapping entry at its key, a list item at the item."""
    marks: dict[Location, yaml.Mark] = {path: node.start_mark}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            step = (*path, str(key.value))
            marks.update(_marks(value, step))
            marks[step] = key.start_mark
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            marks.update(_marks(item, (*path, i)))
    return marks


def _field(loc: Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(policy)"


def _at(marks: dict[Location, yaml.Mark], loc: Location, message: str) -> Problem:
    known = tuple(p for p in loc if p != "[key]")  # pydantic's marker for a dict key
    while known not in marks and known:
        known = known[:-1]
    mark = marks.get(known, _START)
    return Problem(mark.line + 1, mark.column + 1, _field(tuple(loc)), message)


def check_policy(text: str) -> tuple[Policy | None, list[Problem]]:
    """The policy if it is valid, and every problem found (none when valid)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(line, column, "(yaml)", str(exc.problem or exc))]
    marks: dict[Location, yaml.Mark] = _marks(root) if root is not None else {(): _START}
    try:
        policy = Policy.model_validate(data, context={"collect_problems": True})
    except ValidationError as exc:
        return None, [
            _at(marks, tuple(e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]
    problems = [_at(marks, loc, message) for loc, message in consistency_problems(policy)]
    return (None if problems else policy), problems
