"""Where the writer says in the body who they are (services/verifier/introductions.py):
the clauses of the opening that speak of the writer, in ru, uk and en; a company or a name
the client merely mentions is no introduction."""

from __future__ import annotations

import pytest

from services.verifier.introductions import OPENING_CHARS, introductions


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (
            "Добрый день! Меня зовут Ольга Иванова, я главный бухгалтер ООО «СтройМонтаж». "
            "Пишу по поводу счёта 4512.",
            ["Меня зовут Ольга Иванова", "я главный бухгалтер ООО «СтройМонтаж"],
        ),
        ("Пишу от имени ООО «СтройМонтаж»: выгрузка не работает.", None),
        (
            "Это Андрей Соколов из СтройМонтажа, перезвоните.",
            ["Это Андрей Соколов из СтройМонтажа"],
        ),
        ("Це Олена Шевчук з ТОВ «Квітка». Чому рахунок?", ["Це Олена Шевчук з ТОВ «Квітка"]),
        ("Доброго дня, я директорка ТОВ «Квітка», Олена Шевчук.", None),
        (
            "Hello, this is Jane Doe from Northwind Logistics. Our export is broken.",
            ["this is Jane Doe from Northwind Logistics"],
        ),
        ("My name is Jane Doe; I'm the accountant at Northwind.", None),
    ],
)
def test_the_writer_introducing_themself_is_read_as_lines(
    text: str, lines: list[str] | None
) -> None:
    found = introductions(text, 4)

    assert found, text
    if lines is not None:
        assert found == lines
    assert all(len(line.split()) >= 2 for line in found)  # no "Hello", no "Здравствуйте"


@pytest.mark.parametrize(
    "text",
    [
        "Нам пришло письмо от ООО «Ромашка», что с ним делать?",
        "Это не работает уже третий день.",
        "Це жахливо, нічого не працює.",
        "This is broken again, and John Smith from sales promised a fix.",
        "Андрей Соколов просил переслать вам счёт.",
        "Нам пришёл счёт из ООО «СтройМонтаж».",
    ],
)
def test_a_name_or_a_company_merely_mentioned_is_no_introduction(text: str) -> None:
    assert introductions(text, 4) == []


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        # A partner and a client named beside the writer's own company are no claims.
        (
            "Я бухгалтер ООО «Альфа», работаем с ООО «СтройМонтаж», Андрей Соколов просил "
            "написать.",
            ["Я бухгалтер ООО «Альфа"],
        ),
        ("Я представитель компании, ваш клиент Андрей Соколов попросил написать.", None),
        # The company right after the writer's name is the writer's.
        ("Меня зовут Ольга Иванова, ООО «СтройМонтаж».", ["Меня зовут Ольга Иванова", None]),
        ("Я Андрей Соколов из СтройМонтажа.", ["Я Андрей Соколов из СтройМонтажа"]),
        ("На связи Ольга Иванова, бухгалтерия.", ["На связи Ольга Иванова"]),
        # Acceptance: the role and company after the name, in a clause of its own.
        (
            "Доброго дня, це Олена Шевчук, директорка ТОВ «Квітка». Чому рахунок?",
            ["це Олена Шевчук", "директорка ТОВ «Квітка"],
        ),
    ],
)
def test_only_the_clauses_that_speak_of_the_writer_are_claims(
    text: str, lines: list[str | None] | None
) -> None:
    found = introductions(text, 4)

    if lines is None:
        assert found == ["Я представитель компании"]
    else:
        assert len(found) == len(lines)
        assert all(want is None or got == want for got, want in zip(found, lines, strict=True))


def test_only_the_opening_is_read_and_the_lines_are_bounded() -> None:
    late = "Текст письма. " * (OPENING_CHARS // 10) + "Меня зовут Ольга Иванова."
    many = "Меня зовут Ольга Иванова, я бухгалтер ООО «Альфа», ООО «Бета», ООО «Гамма»."

    assert introductions(late, 4) == []
    assert len(introductions(many, 2)) == 2
