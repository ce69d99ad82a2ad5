"""The hold in force as the `escalation.*` events say it (their `hold`). Pure.

A hold pauses the case (the investigation waits for the threats to stop), and the event
says so in the policy's words. A sparing hold (`spares_only`: advances naming the account
manager, seed 003) pauses nothing: the client's cases go to the deputy and the client's
answers go out as ever. Its rule's reason says only that the manager is spared, so a view
of the escalations read it as one more pause; the event says what it does instead, in the
team's language, with whom it spares (the staff notices say it as `facts.hold_view` gives
it, the notifier's labels: `spare_hold`).
"""

from __future__ import annotations

from typing import Any

from .facts import hold_view

_SPARING: dict[str, dict[str, str]] = {
    "ru": {
        "advances": "Дела клиента ведёт заместитель, а не {who} — адресат личных знаков "
        "внимания клиента; ответы клиенту не задерживаются.",
        "threats": "Дела клиента ведёт заместитель, а не {who} — адресат угроз клиента; "
        "ответы клиенту не задерживаются.",
    },
    "uk": {
        "advances": "Справи клієнта веде заступник, а не {who} — адресат особистих знаків "
        "уваги клієнта; відповіді клієнтові не затримуються.",
        "threats": "Справи клієнта веде заступник, а не {who} — адресат погроз клієнта; "
        "відповіді клієнтові не затримуються.",
    },
    "en": {
        "advances": "The client's cases go to the deputy, not to {who}, whom the client's "
        "advances named; answers to the client are not withheld.",
        "threats": "The client's cases go to the deputy, not to {who}, whom the client's "
        "threats named; answers to the client are not withheld.",
    },
}
# Whom it spares when the hold kept no name (one stored before names were kept).
_UNNAMED = {"ru": "его менеджер", "uk": "його менеджер", "en": "their account manager"}


def hold_said(hold: dict[str, Any] | None, language: str) -> str | None:
    """The hold standing on the escalation, in `language`: the rule's reason, or for a
    sparing hold what it does (whose cases go to the deputy instead of whom, and that no
    answer is withheld). None when no hold stands."""
    view = hold_view(hold, language)
    if not view or not view["active"]:
        return None
    return _said(view, language)


def hold_described(hold: dict[str, Any] | None, language: str) -> str:
    """What the hold does, in `language`, standing or not (`careline escalations` lists
    lifted and ended holds too): as `hold_said`; "" for no hold."""
    view = hold_view(hold, language)
    return _said(view, language) if view else ""


def _said(view: dict[str, Any], language: str) -> str:
    if not view.get("spares_only"):
        return str(view["reason"])
    said = _SPARING.get(language, _SPARING["en"])
    who = ", ".join(view["spared"]) or _UNNAMED.get(language, _UNNAMED["en"])
    return said[view["over"]].format(who=who)
