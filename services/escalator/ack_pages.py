"""The small HTML pages of acknowledge links, in the language of their reader. Pure functions.

GET only shows what the link would do (mail scanners prefetch links and must not act);
the button POSTs to the same address.
"""

from __future__ import annotations

from html import escape
from typing import Literal, get_args

from shared.case_ref import case_ref
from shared.staff_names import kind_name, role_name

Lang = Literal["ru", "uk", "en"]
LANGUAGES: frozenset[str] = frozenset(get_args(Lang))

_TEXT: dict[str, dict[Lang, str]] = {
    "title": {
        "ru": "Взять эскалацию в работу",
        "uk": "Взяти ескалацію в роботу",
        "en": "Acknowledge an escalation",
    },
    "escalation": {"ru": "Эскалация", "uk": "Ескалація", "en": "Escalation"},
    "full_id": {"ru": "Полный идентификатор", "uk": "Повний ідентифікатор", "en": "Full id"},
    "client": {"ru": "Клиент", "uk": "Клієнт", "en": "Client"},
    "as": {
        "ru": "Вы берёте её в работу как {role} ({address}).",
        "uk": "Ви берете її в роботу як {role} ({address}).",
        "en": "You acknowledge it as {role} ({address}).",
    },
    "effect": {
        "ru": "Взяв её в работу, вы остановите повышение уровня: эскалация будет за вами.",
        "uk": "Коли ви візьмете її в роботу, підвищення рівня зупиниться: ескалація буде за вами.",
        "en": "Acknowledging stops the re-escalation: the escalation is yours.",
    },
    "button": {"ru": "Взять в работу", "uk": "Взяти в роботу", "en": "Acknowledge"},
    "state_acknowledged": {
        "ru": "Эскалация уже взята в работу.",
        "uk": "Ескалацію вже взято в роботу.",
        "en": "The escalation is already acknowledged.",
    },
    "state_resolved": {
        "ru": "Эскалация уже закрыта.",
        "uk": "Ескалацію вже закрито.",
        "en": "The escalation is already resolved.",
    },
    "acknowledged": {
        "ru": "Взято в работу. Эскалация за вами, повышение уровня остановлено.",
        "uk": "Взято в роботу. Ескалація за вами, підвищення рівня зупинено.",
        "en": "Acknowledged. The escalation is yours; re-escalation has stopped.",
    },
    "already_acknowledged": {
        "ru": "Эскалация уже была взята в работу, ничего не изменилось.",
        "uk": "Ескалацію вже було взято в роботу, нічого не змінилося.",
        "en": "The escalation was already acknowledged; nothing changed.",
    },
    "already_resolved": {
        "ru": "Эскалация уже закрыта, ничего не изменилось.",
        "uk": "Ескалацію вже закрито, нічого не змінилося.",
        "en": "The escalation is already resolved; nothing changed.",
    },
    "forbidden": {
        "ru": "Эта ссылка не для того, кого уведомили об этой эскалации. Отказано.",
        "uk": "Це посилання не для того, кого сповістили про цю ескалацію. Відмовлено.",
        "en": "This link is not for a person notified of this escalation. Refused.",
    },
    "not_found": {
        "ru": "Такой эскалации нет.",
        "uk": "Такої ескалації немає.",
        "en": "There is no such escalation.",
    },
    "forged": {
        "ru": "Ссылка недействительна: она изменена или выдана не нами. Отказано.",
        "uk": "Посилання недійсне: його змінено або видано не нами. Відмовлено.",
        "en": "This link is not valid: it was altered or not issued by us. Refused.",
    },
    "expired": {
        "ru": "Срок действия ссылки истёк. Возьмите в работу из консоли: careline ack {id}",
        "uk": "Термін дії посилання минув. Візьміть у роботу з консолі: careline ack {id}",
        "en": "This link has expired. Acknowledge from the console: careline ack {id}",
    },
    "used": {
        "ru": "Эта ссылка уже использована: она действует один раз.",
        "uk": "Це посилання вже використано: воно діє один раз.",
        "en": "This link has already been used: it works once.",
    },
}


def say(lang: Lang, key: str, **values: str) -> str:
    text = _TEXT[key].get(lang) or _TEXT[key]["en"]
    return text.format(**{k: escape(v) for k, v in values.items()})


def _page(lang: Lang, body: str) -> str:
    title = escape(say(lang, "title"))
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        '<body style="font-family:sans-serif;max-width:36em;margin:2em auto;">'
        f"<h1>{title}</h1>{body}</body></html>"
    )


def confirm_page(
    lang: Lang,
    *,
    escalation_id: str,
    kind: str,
    severity: str,
    customer: str | None,
    role: str,
    address: str,
    state: str | None,
) -> str:
    """What the link acknowledges, and the button (none if there is nothing to do). The
    escalation by its reference (what notices and the CLI say); its full id small, last."""
    facts = (
        f"<p><strong>{escape(say(lang, 'escalation'))}</strong> "
        f"<code>{case_ref(escalation_id)}</code>: {escape(kind_name(kind, lang))}, "
        f"{escape(severity)}</p>"
    )
    full_id = (
        '<p style="font-size:12px;color:#59636e;">'
        f"{escape(say(lang, 'full_id'))}: <code>{escape(escalation_id)}</code></p>"
    )
    if customer:
        facts += f"<p>{escape(say(lang, 'client'))}: {escape(customer)}</p>"
    if state is not None:
        return _page(lang, facts + f"<p>{say(lang, state)}</p>" + full_id)
    action = (
        f"<p>{say(lang, 'as', role=role_name(role, lang), address=address)}</p>"
        f"<p>{escape(say(lang, 'effect'))}</p>"
        f'<form method="post"><button type="submit">{escape(say(lang, "button"))}</button></form>'
    )
    return _page(lang, facts + action + full_id)


def outcome_page(lang: Lang, key: str, **values: str) -> str:
    """The answer to a click, or why a link is refused (`key` names the text)."""
    return _page(
        lang, f'<p id="outcome" data-outcome="{escape(key)}">{say(lang, key, **values)}</p>'
    )
