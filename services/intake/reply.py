"""A message body split into the client's new words, the quoted history and the signature."""

from __future__ import annotations

import re

# A line that introduces quoted history. Gmail ("On ... wrote:", Russian Gmail's
# "пн, 25 нояб. 2024 г. в 10:00, Иван <ivan@x.ru>:"), Russian and Ukrainian clients
# ("... пишет:", "... пише:"), Outlook and forwarded-message separators.
_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"On .{3,300} wrote:|"
    # (Apple Mail in Russian: "… <support@…> написал(а):")
    r".{3,300} (?:пишет|написал|написала|пише|написав|писал|писала)(?:\s*\((?:а|ла)\))?:|"
    # Yandex "22.11.2024, 14:05, ...", Mail.ru "Понедельник, 25 ноября 2024, 10:00 +03:00 от"
    r".{0,60}\d{4}\s*(?:г\.|р\.)?,? (?:(?:в|о|at) )?\d{1,2}:\d{2},? .{0,200}<[^<>@\s]+@[^<>\s]+>:|"
    # ... and Mail.ru with the address bare: "… 10:00 +03:00 от support@careline.example:"
    r".{0,60}\d{4}\s*(?:г\.|р\.)?,? (?:(?:в|о|at) )?\d{1,2}:\d{2}.{0,60} (?:от|від|from) "
    r"[^<>@\s]+@[^<>\s]+:|"
    # Lotus Notes: "Служба поддержки <support@careline.example> 07.12.2026 10:00"
    r".{0,200}<[^<>@\s]+@[^<>\s]+>\s+\d{1,2}[./]\d{1,2}[./]\d{2,4}\s+\d{1,2}:\d{2}|"
    # The Bat!: "Вы писали 22 ноября 2024 г., 14:11:15:"
    # (a date and a time, so a client's own "You wrote on Monday that...:" is not a header)
    r"(?:вы|ви|you) (?:писали|wrote) \d{1,2}[ ./]\S{1,12}[ ./]\d{4}.{0,30}"
    r"\d{1,2}:\d{2}(?::\d{2})?:|"
    r"-{2,}\s*(?:Original Message|Исходное сообщение|Оригінальне повідомлення|"
    r"Исходное письмо|Оригинальное сообщение|Оригінальний лист|Вихідний лист|"
    r"Forwarded message|Пересылаемое сообщение|Переслане повідомлення|Пересланное сообщение)"
    r"\s*-{2,}|"
    r"Begin forwarded message:|Начало переадресованного сообщения:"
    r")\s*$",
    re.IGNORECASE,
)
# Outlook copies the original below a header block: "From:" then "Sent:"/"To:"/"Subject:".
# A lone "From: ..." line in the client's own text is not such a block.
_OUTLOOK_FROM = re.compile(r"^\s*\**(?:From|От|Від|Od):\**\s+\S", re.IGNORECASE)
_OUTLOOK_FIELD = re.compile(
    r"^\s*\**(?:Sent|Date|To|Subject|Cc|Отправлено|Дата|Кому|Тема|Копия|Надіслано|Відправлено)"
    r":\**\s",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|спасибо,|"
    r"з повагою|з найкращими побажаннями|дякую,|"
    r"best regards|kind regards|warm regards|regards|sincerely|cheers|thanks and regards|"
    r"thanks,|many thanks,|thank you,|"
    # Mobile clients' footers: "Sent from my Samsung Galaxy smartphone.", "Отправлено из
    # Mail.ru для Android", "Отправлено из мобильной Яндекс Почты", "Get Outlook for iOS".
    r"sent from my \w[\w .-]{0,40}|отправлено (?:с|из) \w[\w .-]{0,40}|"
    r"надіслано з \w[\w .-]{0,40}|get outlook for \w+)[,.!]?\s*$",
    re.IGNORECASE,
)


def _header_at(lines: list[str], i: int) -> int:
    """How many lines the quote header starting at line i spans (0 if none)."""
    line = lines[i]
    if _QUOTE_HEADER.match(line):
        return 1
    # Gmail wraps a long attribution: "On Mon, ... Ivan Petrov <" / "ivan@x.ru> wrote:".
    if i + 1 < len(lines) and line.strip() and _QUOTE_HEADER.match(f"{line} {lines[i + 1]}"):
        return 2
    if _OUTLOOK_FROM.match(line) and any(
        _OUTLOOK_FIELD.match(following) for following in lines[i + 1 : i + 5]
    ):
        return 1
    return 0


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def split_reply(body: str) -> tuple[str, str, str]:
    """(new text, quoted history, signature) of a message body.

    Lines of a ">" quote are history, but the client's answers written between them are
    new text. A header that is not followed by ">" lines (Outlook, forwarded blocks)
    starts history that runs to the end.
    """
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fresh: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        header = _header_at(lines, i)
        if header:
            following = next((ln for ln in lines[i + header :] if ln.strip()), "")
            if not _is_quoted(following):
                quoted.extend(lines[i:])
                break
            quoted.extend(lines[i : i + header])
            i += header
            continue
        if _is_quoted(lines[i]):
            quoted.append(lines[i])
        elif quoted and not lines[i].strip():
            (quoted if _quote_continues(lines, i) else fresh).append(lines[i])
        else:
            fresh.append(lines[i])
        i += 1
    fresh_text, signature = _split_signature(fresh)
    return fresh_text, "\n".join(quoted).strip(), signature


def _quote_continues(lines: list[str], i: int) -> bool:
    following = next((ln for ln in lines[i:] if ln.strip()), "")
    return _is_quoted(following)


def _split_signature(lines: list[str]) -> tuple[str, str]:
    sign_at = len(lines)
    for i, line in enumerate(lines):
        if i > 0 and _SIGN_OFF.match(line):
            sign_at = i
            break
    else:
        # No sign-off: a last paragraph that looks signed is the signature too, but stays in
        # the text ("Всё Сломалось / верните деньги или подам в суд" looks the same, and
        # what the client says must reach the detector).
        bare = _bare_signature_at(lines)
        return _fresh(lines), "\n".join(lines[bare:]).strip()
    return _fresh(lines[:sign_at]), "\n".join(lines[sign_at:]).strip()


def _fresh(lines: list[str]) -> str:
    # Where a quote between the client's answers was taken out, the blank lines around it
    # meet: one blank line is the paragraph break the client wrote.
    return _BLANK_RUN.sub("\n\n", "\n".join(lines).strip())


_BLANK_RUN = re.compile(r"\n[^\S\n]*\n(?:[^\S\n]*\n)+")
# A person's name alone on a line: two or three capitalized words ("Андрей Соколов",
# "А. Соколов", "Olena Shevchuk-Bondar").
_NAME_LINE = re.compile(r"^\s*[A-ZА-ЯЁІЇЄҐ][\w'’.-]*(?:\s+[A-ZА-ЯЁІЇЄҐ][\w'’.-]*){1,2}\s*$")
BARE_SIGNATURE_LINES = 4
_NOT_A_NAME = frozenset(
    {"спасибо", "благодарю", "дякую", "thanks", "thank", "жду", "ждём", "ждем", "чекаю",
     "чекаємо", "best", "kind", "warm", "всего", "всім", "всем", "удачи", "hope", "please"}
)  # fmt: skip


def _bare_signature_at(lines: list[str]) -> int:
    """Where a signature without a sign-off starts: a last paragraph of at most four short
    lines, after the text, that opens with a name alone ("Андрей Соколов / генеральный
    директор ООО «СтройМонтаж»"); else the end (nothing is a signature). The verifier reads
    its name and company; the text keeps it."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = lines[start:end]
    before = any(line.strip() for line in lines[:start])
    short = all(len(line.strip()) <= 60 for line in block)
    named = bool(_NAME_LINE.match(block[0])) if block else False
    if named and block[0].split()[0].casefold().strip(",.!") in _NOT_A_NAME:
        named = False  # "Спасибо Вам", "Thank You" close the text, they sign nothing
    if before and 0 < len(block) <= BARE_SIGNATURE_LINES and short and named:
        return start
    return len(lines)
