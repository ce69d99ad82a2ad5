"""Where the writer says in the body who they are. Pure.

A client writing from a personal address often has no signature at all and says it in the
first lines instead: "Меня зовут Ольга Иванова, я главный бухгалтер ООО «СтройМонтаж»",
"Це Олена Шевчук з ТОВ «Квітка»", "This is Jane Doe from Northwind Logistics". These are
the claims a signature makes (anyone can type them: they corroborate, they rarely decide
alone), so they are read the same way: as lines, looked up and matched like a signature's.

Only the opening of the body is read, and only sentences that speak of the writer (a cue:
"меня зовут", "пишу от имени", "я бухгалтер", "это Имя Фамилия", "из ООО", "my name is",
"on behalf of"...), so a company the client merely mentions ("нам пришло письмо от
ООО «Ромашка»") names nobody. A sentence is cut into its clauses, so the company named
after the person is among the first words of a line (lines are looked up by those).
"""

from __future__ import annotations

import re

# How much of the body is read: an introduction comes first.
OPENING_CHARS = 400
_LEGAL = r"(?:ООО|ОАО|ЗАО|ПАО|АО|ИП|ТОВ|ПП|ФОП|ПрАТ|ПАТ)"
_ROLES = (
    r"(?:представител\w*|представник\w*|сотрудни\w*|співробітни\w*|директор\w*|бухгалтер\w*|"
    r"менеджер\w*|руководител\w*|керівни\w*|владел\w*|власни\w*|основател\w*|засновни\w*)"
)
_CUES = re.compile(
    "|".join(
        (
            r"(?i:\bменя\s+зовут\b|\bмене\s+звати\b|\bmy\s+name\s+is\b)",
            r"(?i:\bпишу\s+(?:вам\s+)?(?:от\s+имени|від\s+імені)\b|\bon\s+behalf\s+of\b)",
            rf"(?i:\b(?:я|мы|ми)\s*[—–-]?\s*(?:главн\w+\s+|головн\w+\s+|генеральн\w+\s+)?{_ROLES})",
            r"(?i:\bI(?:'m|’m|\s+am)\s+(?:the\s+)?(?:director|accountant|manager|owner|founder|"
            r"head|ceo|cfo|cto)\b)",
            rf"(?i:\bявля(?:юсь|емся)\s+(?:{_ROLES}|вашим\s+клиентом))",
            r"(?i:\b(?:наша|моя)\s+(?:компания|организация|фирма|компанія|організація)\b)",
            r"(?i:\bour\s+company\b|\bwe\s+are\s+(?:a\s+)?(?:client|customer)\b)",
            # A name of two capitalized words after "это" / "я" / "с вами говорит" / "this
            # is" / "I'm" ("Я Андрей Соколов", "На связи Ольга Иванова").
            r"(?i:\bэто|\bце|\bя|\bс\s+вами\s+говорит|\bз\s+вами\s+говорить|\bна\s+связи|"
            r"\bна\s+зв['’]язку|\bthis\s+is|\bI'm|\bI\s+am)\s+"
            r"[A-ZА-ЯЁІЇЄҐ][\w'’-]+\s+[A-ZА-ЯЁІЇЄҐ][\w'’-]+",
        )
    )
)
_SENTENCES = re.compile(r"[^.!?\n]+")
_CLAUSES = re.compile(r"[^,;:()—–]+")
# A clause that goes on with the writer's company or role after the name ("…, ООО
# «СтройМонтаж»", "…, из ТОВ «Квітка»", "…, директорка ТОВ «Квітка»").
_COMPANY_NEXT = re.compile(
    rf"^(?:(?:(?i:из|з|із|від|от|from|at)\s+)?{_LEGAL}\b|"
    rf"(?i:(?:главн\w+\s+|головн\w+\s+|генеральн\w+\s+)?{_ROLES}))"
)


def introductions(text: str, limit: int) -> list[str]:
    """The clauses of the opening in which the writer says who they are (and the company
    named right after one), in order, up to `limit`. Only those: in "я бухгалтер ООО
    «Альфа», работаем с ООО «СтройМонтаж»" the second company is a partner, not a claim."""
    lines: list[str] = []
    for sentence in _SENTENCES.findall(text[:OPENING_CHARS]):
        clauses = [c.strip(" \t«»\"'") for c in _CLAUSES.findall(sentence)]
        for i, clause in enumerate(clauses):
            said = bool(_CUES.search(clause))
            follows = i > 0 and _CUES.search(clauses[i - 1]) and _COMPANY_NEXT.search(clause)
            # One word is a greeting or a label, never a name with its surname or a company
            # with its form ("Hello", "Здравствуйте").
            if (said or follows) and len(clause.split()) >= 2 and clause not in lines:
                lines.append(clause)
    return lines[:limit]
