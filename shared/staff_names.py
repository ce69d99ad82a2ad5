"""What people read for the codes of staff roles and escalation kinds (ru, uk, en).

One table (shared/data/staff_names.yaml) for every service that names them to staff: the
notifier's mail (its templates' `STAFF_NAMES`) and the escalator's acknowledge pages, so a
page never says `head_of_support` where the mail said «руководитель поддержки».
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml

NAMES_PATH = Path(__file__).parent / "data" / "staff_names.yaml"


@cache
def staff_names() -> Mapping[str, Mapping[str, Mapping[str, str]]]:
    """{"roles" | "kinds": {language: {code: name}}}, read once."""
    data = yaml.safe_load(NAMES_PATH.read_text(encoding="utf-8"))
    return {table: data[table] for table in ("roles", "kinds")}


def role_name(role: str, language: str) -> str:
    """The role as staff read it in `language` ("account_manager" → «менеджер клиента»)."""
    return staff_names()["roles"].get(language, {}).get(role, role)


def kind_name(kind: str, language: str) -> str:
    """The escalation kind as staff read it in `language` ("billing" → «спор об оплате»)."""
    return staff_names()["kinds"].get(language, {}).get(kind, kind)
