"""Payment card numbers a client writes are masked before his words go out in staff mail.

Staff need the last four digits to talk about a card ("the card ending 5678"), never the
whole number: mail is no place for it (PCI DSS), and a notice is forwarded, printed and
kept. Masked: numbers written the way cards are (four groups of four digits, or 4-6-5),
whatever their check digit (a client mistyping one digit still wrote his card), and any
other run of 13 to 19 digits that passes the Luhn check. The mask keeps the text's length
and separators, so evidence offsets into the text stay right.
"""

from __future__ import annotations

import re

MASK = "*"
SHOWN_DIGITS = 4

# Not inside a longer number or a dashed reference (an order "2024-1234-5678-9012-7").
_GROUPED = re.compile(r"(?<![\d-])(?:(?:\d{4}[ -]){3}\d{4}|\d{4}[ -]\d{6}[ -]\d{5})(?![\d-])")
_RUN = re.compile(r"(?<![\d-])\d{13,19}(?![\d-])")


def luhn_valid(digits: str) -> bool:
    """The check digit of card numbers (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _hide(number: str) -> str:
    """Every digit but the last four becomes the mask; separators stay."""
    digits = sum(ch.isdigit() for ch in number)
    out, seen = [], 0
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - SHOWN_DIGITS else MASK)
        else:
            out.append(ch)
    return "".join(out)


def mask_card_numbers(text: str) -> str:
    """`text` with the card numbers in it masked but for their last four digits."""
    text = _GROUPED.sub(lambda m: _hide(m.group()), text)
    return _RUN.sub(lambda m: _hide(m.group()) if luhn_valid(m.group()) else m.group(), text)
