"""The start of a long text, cut where a word ends: what a service reads or quotes of a huge
message (a pasted statement or log) when reading it all would cost more than it tells."""

from __future__ import annotations


def head_of(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut before the word the limit falls in: a
    number cut short is another number («счёт № 451» of «№ 45123»). One word longer than
    the limit is cut where the limit falls."""
    head = text[:limit]
    if len(head) < len(text) and not text[limit].isspace():
        head = head.rsplit(None, 1)[0] if head.strip() else head
    return head
