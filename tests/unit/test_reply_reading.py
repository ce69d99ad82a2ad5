# ruff: noqa: E501  (the replies are kept as people wrote them, one per line)
"""A registered contact's replies to "someone writing from X asked in your name: is it you?",
as people write them (ru, uk, en), and how each must be read. A yes makes a stranger's
address the client's (account details and payment talk go there), so the invariant is hard:
nothing that is not a plain yes is read as one. A second review wrote these 207 and found
122 read as a yes when any yes-phrase anywhere counted (services/verifier/confirmation.py).
"""

from __future__ import annotations

import pytest

from services.verifier.confirmation import read_reply

pytestmark = pytest.mark.unit

C = "OK-ABCD-EFGH"
Y, N, U = {"yes"}, {"no"}, {"neither"}
NU = {"no", "neither"}  # anything but yes; "no" preferred

# fmt: off
CASES = [
# --- doubt / disbelief with an affirmation phrase inside (must not be yes)
("Не думаю, что это мы", NU, "doubt"),
("Не думаю, что это наш сотрудник", NU, "doubt"),
("Сомневаюсь, что это мы", NU, "doubt"),
("Вряд ли это мы", NU, "doubt"),
("Не уверен, что это наш бухгалтер", NU, "doubt"),
("Не похоже, что это мы", NU, "doubt"),
("Я не знаю, это наш или нет", NU, "doubt"),
("Это наш или нет — не знаю", NU, "doubt"),
("Навряд чи це ми", NU, "doubt"),
("Не думаю, що це наш працівник", NU, "doubt"),
("Сумніваюся, що це ми", NU, "doubt"),
("I don't think it's us", NU, "doubt"),
("I doubt it's us", NU, "doubt"),
("Not sure it's us, let me check", NU, "doubt"),
("Unlikely that it was us", NU, "doubt"),
("Если это мы, то я не в курсе", NU, "doubt"),
("Если это наш сотрудник, я бы знал", NU, "doubt"),
("If it's us, nobody told me", NU, "doubt"),
("С чего вы взяли, что это мы", NU, "doubt"),
("Кто вам сказал что это наш сотрудник", NU, "doubt"),
# --- question without '?' or with the clause cut before '?'
("Это мы, что ли?", NU, "question"),
("Это наш бухгалтер, что ли?", NU, "question"),
("Это мы, да?", NU, "question"),
("Это мы...?", NU, "question"),
("Это наш новый сотрудник…?", NU, "question"),
("Это наш бухгалтер, вы уверены?", NU, "question"),
("Всё верно, говорите?", NU, "question"),
("It's us, really?", NU, "question"),
("That's us, you say?", NU, "question"),
("Це ми, чи що?", NU, "question"),
("это наш бухгалтер что ли", NU, "question"),
("это мы писали или кто", NU, "question"),
("Это мы?!", NU, "question"),
("Это наш бухгалтер?!", NU, "question"),
("Это наш новый менеджер?!! Впервые слышу", NU, "question"),
("Всё верно?!", NU, "question"),
("Це наш працівник?!", NU, "question"),
("It's us?!", NU, "question"),
("Подтверждаю?! С какой стати", NU, "question"),
("Это мы? Это мы? Серьёзно", NU, "question"),
# --- "это мы/я" as subject of another verb
("Это мы сейчас проверим, пока ничего не делайте", NU, "subject"),
("Это я уточню у директора и перезвоню", NU, "subject"),
("Это я сейчас выясню", NU, "subject"),
("Это мы уже проходили, опять кто-то пытается", NU, "subject"),
("Це ми з'ясуємо, поки нічого не робіть", NU, "subject"),
("Це я перевірю в бухгалтерії", NU, "subject"),
("Это наша бухгалтерия разберётся, ждите звонка", NU, "subject"),
("Это мы обсудим с вашим менеджером по телефону", NU, "subject"),
# --- compromised / abandoned own address
("Это наш старый адрес, им давно никто не пользуется", NU, "hacked"),
("Это наш адрес, но его взломали!", NU, "hacked"),
("Это наша почта, но нас взломали, ничего не делайте", NU, "hacked"),
("Це наша стара скринька, її зламали", NU, "hacked"),
("It's ours but the mailbox was hacked", NU, "hacked"),
("That was us until last week, the account has been compromised", NU, "hacked"),
("Это наш домен, но такого ящика у нас нет", NU, "hacked"),
# --- "confirm" + a negation the denial list lacks
("I confirm that nobody from our company sent this", NU, "confirm-neg"),
("We confirm no one here sent that", NU, "confirm-neg"),
("I confirm this wasn't sent by us", NU, "confirm-neg"),
("I confirm this was not sent by anyone here", NU, "confirm-neg"),
("We confirm this is not our request", NU, "confirm-neg"),
("We confirm it's not our email address", NU, "confirm-neg"),
("I confirm this is not one of our employees", NU, "confirm-neg"),
("We confirm there is no such person at our company", NU, "confirm-neg"),
("I confirm our bank details have NOT changed.", NU, "confirm-neg"),
("We confirm our bank account remains the same", NU, "confirm-neg"),
("I confirm we didn't change anything", NU, "confirm-neg"),
("We confirm we do not know this address", NU, "confirm-neg"),
("Confirmed - none of us sent it", NU, "confirm-neg"),
("Подтверждаю, никто из наших этого не делал", NU, "confirm-neg"),
("Подтверждаю, что мы этого не делали.", NU, "confirm-neg"),
("Подтверждаю, это чужой адрес", NU, "confirm-neg"),
("Подтверждаю, сотрудника с таким именем у нас нет", NU, "confirm-neg"),
("Подтверждаю: у нас такого нет", NU, "confirm-neg"),
("Подтверждаю, наши реквизиты не изменились", NU, "confirm-neg"),
("Подтверждаем, реквизиты прежние", NU, "confirm-neg"),
("Подтверждаю: реквизиты остаются старыми", NU, "confirm-neg"),
("Подтверждаю, адрес нам незнаком", NU, "confirm-neg"),
("Підтверджую, реквізити залишаються без змін", NU, "confirm-neg"),
("Підтверджую, рахунок той самий, нічого не міняйте", NU, "confirm-neg"),
("Підтверджуємо, що ця адреса нам невідома", NU, "confirm-neg"),
("Подтверждаю, что это НЕ мы", N, "confirm-neg"),
("I confirm this is NOT us", N, "confirm-neg"),
# --- "всё верно" about our action, not the sender
("Всё верно сделали, что не стали ничего менять. Мы никаких писем не слали.", NU, "verno"),
("Вы всё верно сделали! Мы никому ничего не поручали", NU, "verno"),
("Всё верно, у нас такого сотрудника нет", NU, "verno"),
("Да, всё верно, адрес чужой", NU, "verno"),
("Получили, всё верно, но мы не понимаем, кто это", NU, "verno"),
("Все вірно зробили, ми нікому нічого не доручали", NU, "verno"),
("Всё верно, реквизиты у нас прежние", NU, "verno"),
# --- receipt confirmed
("Получение подтверждаю, разберёмся", NU, "receipt"),
("Подтверждаю получение письма. Адрес нам незнаком", NU, "receipt"),
("Receipt confirmed, we're checking internally", NU, "receipt"),
("Confirmed receipt. Will come back to you.", NU, "receipt"),
("Отримання підтверджую, перевіримо", NU, "receipt"),
("Письмо получил, подтверждено. Звоните директору", NU, "receipt"),
# --- sarcasm / irony
("Ага, конечно, это мы", NU, "sarcasm"),
("Ну да, конечно, это мы. Ещё и денег вам должны", NU, "sarcasm"),
("Да-да, это мы, как же", NU, "sarcasm"),
("Yeah right, it's us", NU, "sarcasm"),
("Sure, it was me, and I'm the Queen of England", NU, "sarcasm"),
("Ага, це ми, аякже", NU, "sarcasm"),
("Ну конечно это наш сотрудник, у нас же их 500", NU, "sarcasm"),
# --- code in own text without '?' but not a yes
(f"Что это за код {C}", NU, "code"),
(f"Зачем мне этот код {C}", NU, "code"),
(f"Получили ваш код {C}. Сейчас уточню у коллег и отпишусь", NU, "code"),
(f"Got your code {C}, will check with my team and get back to you", NU, "code"),
(f"Don't know what {C} is", NU, "code"),
(f"Отклоняю {C}", N, "code"),
(f"Reject {C}", N, "code"),
(f"Decline {C}", N, "code"),
(f"Отказ. {C}", N, "code"),
(f"Блокируйте! {C}", N, "code"),
(f"СТОП {C} ничего не делайте", NU, "code"),
(f"Do NOT act on {C}", NU, "code"),
(f"{C} — это фейк", N, "code"),
(f"{C} это обман", N, "code"),
(f"Код {C} никому не давали. Адрес левый", NU, "code"),
(f"Відхиляю {C}", N, "code"),
(f"Не знаю что такое {C}", NU, "code"),
(f"Я не понимаю, что значит {C}. Позвоните мне", NU, "code"),
# --- clear no, read as neither
("Это фейк", N, "no-missed"),
("Это скам", N, "no-missed"),
("Фишинг", N, "no-missed"),
("Це фейк", N, "no-missed"),
("Это обман", N, "no-missed"),
("Развод!", N, "no-missed"),
("Чужой адрес", N, "no-missed"),
("Левый адрес, мы его не знаем", N, "no-missed"),
("Впервые вижу этот адрес", N, "no-missed"),
("Ни в коем случае!", N, "no-missed"),
("Ні в якому разі!", N, "no-missed"),
("Неа", N, "no-missed"),
("Ничего не делайте!", N, "no-missed"),
("Мы этого не делали", N, "no-missed"),
("Мы такого не слали", N, "no-missed"),
("Это не из нашей компании", N, "no-missed"),
("Это адрес не нашего сотрудника", N, "no-missed"),
("У нас нет такого сотрудника", N, "no-missed"),
("Такого сотрудника у нас нет", N, "no-missed"),
("Нас взломали", N, "no-missed"),
("Absolutely not", N, "no-missed"),
("Not at all", N, "no-missed"),
("Hell no", N, "no-missed"),
("None of us sent it", N, "no-missed"),
("Nobody from our team wrote this", N, "no-missed"),
("This wasn't sent by us", N, "no-missed"),
("Not our request", N, "no-missed"),
("DO NOT CHANGE ANYTHING", N, "no-missed"),
("It's an impostor", N, "no-missed"),
("Spoofed address", N, "no-missed"),
("We don't know this person", N, "no-missed"),
("Ми такого не робили", N, "no-missed"),
("Це чужа адреса", N, "no-missed"),
("У нас немає такого працівника", N, "no-missed"),
("Самозванец", N, "no-missed"),
("Аферисты", N, "no-missed"),
# --- clear no, read right (controls)
("Это не мы", N, "ctl"), ("Нет", N, "ctl"), ("НЕТ!!!", N, "ctl"), ("Ні, не ми", N, "ctl"),
("Not us", N, "ctl"), ("No", N, "ctl"), ("Это мошенники", N, "ctl"),
("Мы ничего не просили!", N, "ctl"), ("Это наш бывший бухгалтер?!", N, "ctl"),
("Да, получили, но это не наш сотрудник", N, "ctl"),
("так, отримали; ні, не ми", N, "ctl"),
("Всё верно? Мы ничего не меняли?", NU, "ctl"),
("We never asked for this", N, "ctl"),
("Це шахраї", N, "ctl"),
# --- clear yes (controls and yes-read-as-no)
("Да, это мы", Y, "yes"), ("Это мы", Y, "yes"), ("Подтверждаю", Y, "yes"),
(C, Y, "yes"), (f"Подтверждаю {C}", Y, "yes"), ("Так, це ми", Y, "yes"),
("Yes, it's us", Y, "yes"), ("Confirmed", Y, "yes"), ("да", Y, "yes"),
("ДА ЭТО МЫ", Y, "yes"), ("это наш новый бухгалтер", Y, "yes"),
("Нет-нет, всё верно, это мой коллега", Y, "yes-as-no"),
("No problem, it's us", Y, "yes-as-no"),
("Нет проблем, это мы", Y, "yes-as-no"),
("Да, это наш новый бухгалтер, бывший уволился", Y, "yes-as-no"),
("Yes, that's our new CFO, the former one left", Y, "yes-as-no"),
("Да, это я, не волнуйтесь", Y, "yes-as-no"),
("Да, это мы, не мошенники", Y, "yes-as-no"),
("Это мы, просто пишем с личной почты, не с рабочей", Y, "yes-as-no"),
("Yes it's me, I didn't write from my work email because it's down", Y, "yes-as-no"),
("Да, это наш сотрудник. Не меняйте пока реквизиты, менеджер позвонит", NU, "yes-as-no"),
("Да, это мы. Почему вы не отвечаете на письмо?", Y, "yes-as-no"),
("Да", Y, "yes"), ("Yes.", Y, "yes"), ("Yes :)", Y, "yes"), ("Да, конечно", Y, "yes"),
("Да, это Ольга, наш бухгалтер", Y, "yes"), ("Yes, that is Olga, our accountant", Y, "yes"),
("Так, це наша бухгалтерка", Y, "yes"),
# --- signature / footer words
("Кто это вообще?\n\nЭто письмо проверено антивирусом, всё верно", NU, "footer"),
("Who is this?\n\nThis message has been scanned and confirmed virus-free", NU, "footer"),
("Не знаю такого.\nИван Петров\nООО Ромашка — качество подтверждено ISO 9001", NU, "footer"),
("Who is that?\nJohn Smith\nCEO | ISO 9001 confirmed supplier", NU, "footer"),
# --- unsplit quote of our own request
("Это мы\n\nНам написали от имени ООО Ромашка с адреса x@evil.com и попросили сменить ваши платёжные реквизиты. Мы ничего не меняли. Если это были не вы и не ваш коллега, ответьте «Это не мы». Если просьбу отправили вы или ваш коллега: ответьте на это письмо кодом " + C, Y, "quote"),
("- ответьте на это письмо кодом " + C + "\nНе понимаю, о чём речь", NU, "quote"),
("Тема: От имени ООО Ромашка просят сменить платёжные реквизиты (код " + C + ")\nЯ не понимаю, кто это", NU, "quote"),
("reply to this message with the code " + C + "\nWho is this person", NU, "quote"),
]
# fmt: on

# Read on the safe side of what they mean (a yes read as "neither" or "no": staff call the
# client), left so: telling them from the replies above takes more than words.
SAFE_SIDE = {
    "Нет-нет, всё верно, это мой коллега",
    "No problem, it's us",
    "Нет проблем, это мы",
    "Да, это наш новый бухгалтер, бывший уволился",
    "Yes, that's our new CFO, the former one left",
    "Да, это я, не волнуйтесь",
    "Это мы, просто пишем с личной почты, не с рабочей",
    "Yes it's me, I didn't write from my work email because it's down",
    "Да, это мы. Почему вы не отвечаете на письмо?",
    "Да, это Ольга, наш бухгалтер",
    "Yes, that is Olga, our accountant",
    "Это мы\n\nНам написали от имени ООО Ромашка с адреса x@evil.com и попросили сменить ваши платёжные реквизиты. Мы ничего не меняли. Если это были не вы и не ваш коллега, ответьте «Это не мы». Если просьбу отправили вы или ваш коллега: ответьте на это письмо кодом OK-ABCD-EFGH",
}


@pytest.mark.parametrize(("text", "readings", "group"), CASES)
def test_nothing_but_a_plain_yes_confirms(text: str, readings: set[str], group: str) -> None:
    read = read_reply(text, C)
    if "yes" not in readings:
        assert read != "yes", group
    if text in SAFE_SIDE:
        assert read != "yes" and read not in readings
    else:
        assert read in readings, group


# A third probe, written blind (before its author read the code): 240 replies; its author
# then found a class the first two missed, a yes about someone not of ours or no longer ours.
NOT_OURS = [
    "Yes it's our ex-employee",
    "Yes, it's our supplier writing on our behalf",
    "Yes it's our previous bookkeeper",
    "Да, это наш экс-бухгалтер",
    "Да, это наш сотрудник, уволен",
    "Так, це наш працівник, звільнений",
    "Да, это наш сотрудник, ушёл в марте",
    "Yes, it was us until March",
    "Yes it is our intern from last summer",
    "Да, это наш поставщик",
    "Так, це наш підрядник",
    "Yes that's our contractor",
    "It's our partner company",
    "Yes, that is our competitor",
    "Да это наш юрист из другой фирмы",
    "Это мой муж",
    "Yes, that was my son",
    "Да, это наша почта, которую украли",
    "Подтверждаю, это наш домен, но ящик удалён",
    "Sure, it was me, and I'm the Queen of England",
]


@pytest.mark.parametrize("text", NOT_OURS)
def test_a_yes_about_someone_not_or_no_longer_ours_confirms_nothing(text: str) -> None:
    assert read_reply(text, C) != "yes"


def test_the_blind_probe_reads_no_yes_that_is_not_one() -> None:
    from tests.unit import reply_probe_blind, reply_probe_extras

    replies = [*reply_probe_blind.REPLIES, *reply_probe_extras.REPLIES]
    wrongly_yes = [t for _, t, ok in replies if "yes" not in ok and read_reply(t, C) == "yes"]
    assert wrongly_yes == []
    # How many plain yeses it takes (staff call about the others): 40 of 52 when written.
    plain = [t for _, t, ok in replies if ok == {"yes"}]
    taken = [t for t in plain if read_reply(t, C) == "yes"]
    assert len(taken) >= 40, sorted(set(plain) - set(taken))


@pytest.mark.parametrize(
    "text",
    [
        "Это не мы... хотя подождите, может Сергей писал. Уточню.",
        "Хм, такого адреса у нас нет, но может кто-то с личной почты. Проверю.",
        "Це не ми... хоча стривайте, може Сергій писав. Уточню.",
        "Це не я, але можливо колега. Спитаю.",
        "Not us... wait, maybe Steve wrote it. Let me check.",
    ],
)
def test_a_no_the_writer_doubts_disowns_nothing(text: str) -> None:
    """A denial makes the address's next messages suspicious: one its writer takes back
    («хотя», «уточню», "maybe", "let me check") is a question for staff to call about."""
    assert read_reply(text, C) == "neither"


@pytest.mark.parametrize(
    "text",
    [
        "Not us, maybe a scam",
        "Это мошенники, уточню у коллег, кто это",
        "Мы ничего не просили, не знаю, кто это пишет",
    ],
)
def test_a_no_beside_fraud_named_or_not_knowing_who_stays_a_no(text: str) -> None:
    assert read_reply(text, C) == "no"


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Да, это мы, это не фейк", "yes"),  # was a denial: «фейк» counted even negated
        ("Yes, that's us, not an impostor", "yes"),
        ("Это фейк", "no"),
        ("This is an impostor", "no"),
    ],
)
def test_fraud_words_deny_when_said_and_not_when_negated(text: str, read: str) -> None:
    assert read_reply(text, C) == read
