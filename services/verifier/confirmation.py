"""The confirmation loop's pure parts: codes, signed links, and reading a reply. No I/O.

A probable sender's claim is confirmed through the customer's registered channel, either
by a reply that carries the code or by following a signed single-use link. Codes and link
signatures are HMACs under a secret only the verifier holds, so they cannot be guessed;
the code is derived from the confirmation id, so a redelivered message yields the same one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from shared.contracts import ConfirmationRequest, MessageNormalized

from .matching import channel_key
from .matching import name_similarity as similarity

# "OK-ABCD-EFGH". Codes sent before 2026-12-07 said "CL-", which case references say now
# (shared/case_ref.py: a client quoting the case number must not look like one answering
# with the code). A code is matched by its letters, so a reply with the old prefix is read
# too (for any code: a case reference's letters match no pending code); once the last old
# one expired (VERIFIER_CONFIRMATION_TTL), `LEGACY_PREFIX` can go.
CODE_PREFIX = "OK"
LEGACY_PREFIX = "CL"
_CODE_RE = re.compile(
    rf"(?<![A-Z0-9])(?:{CODE_PREFIX}|{LEGACY_PREFIX})-([A-Z2-7]{{4}})-([A-Z2-7]{{4}})(?![A-Z0-9])",
    re.IGNORECASE,
)
# "It was not me": the registered channel answers that the request is not theirs, as people
# answer a warning that someone asked in their name ("мы ничего не просили", "мы ничего не
# меняли", "это подделка", "это наш бывший бухгалтер", "we can't confirm this"). A word
# for fraud counts unless negated just before ("это не мошенники" vouches, it does not deny).
# Words for fraud, one vocabulary: a denial when said («это подделка», "it's a scam"), none
# when negated («это не мошенники», "not a scam": a yes may say it), and what keeps a doubt
# beside a no from taking it back ("Not us, maybe a scam").
_FRAUD = (
    r"мошенни\w*|шахра\w*|подделк\w*|підробк\w*|фейк\w*|фишинг\w*|фішинг\w*|скам\w*|"
    r"аферист\w*|самозван\w*|fraud\w*|scam\w*|phishing|fake\w*|impostor\w*|spoof\w*"
)
# Someone who was of theirs and is no more: a no even when asked («Это наш бывший бухгалтер?»),
# and never a plain yes.
_FORMER = r"бывш\w*|колишн\w*|уволил\w*|звільнил\w*|former|no\s+longer"
_DENIAL_RE = re.compile(
    r"^\W*(?:нет|ні|no|nope|неа)(?![^\W\d_])(?!\W*(?:проблем|problem))|^\W*развод\W*$|"
    r"(?<![^\W\d_])(?:"
    # A second review's plain no's: a fake, an impostor, a stranger's or a hacked mailbox,
    # no such employee, none of us, rejected.
    r"(?:это|це)\s+(?:обман|развод)|чуж(?:ой|ий|ая|а|ое|е)\s+(?:адрес\w*|ящик\w*|почт\w*|скриньк\w*)|"
    r"не\s+(?:из|з)\s+наш\w*|не\s+(?:делал\w*|робил\w*|слал\w*)|"
    r"(?:нет|немає|нема)\s+таког\w*|взломал\w*|зламал\w*|(?:was|been|got)\s+hacked|"
    r"none\s+of\s+us|nobody\s+(?:here|from\s+us|at\s+our|of\s+us)|no\s+one\s+(?:here|from)|"
    r"wasn'?t\s+sent\s+by\s+us|not\s+our\s+(?:request|employee|address|email|mail)|"
    r"absolutely\s+not|not\s+at\s+all|ни\s+в\s+коем|ні\s+в\s+якому|"
    r"отклоняю|відхиляю|reject\w*|decline\w*|отказ\w*|відмов\w*|заблокир\w*|блокируйте|"
    r"заблоку\w*|блокуйте|лев(?:ый|ая|ое)\s+\w+|впервые\s+вижу|"
    r"вперше\s+бачу|hell\s+no|nobody\s+from|(?:do\s+not|don'?t)\s+(?:change|know)|"
    r"ничего\s+не\s+делайте|нічого\s+не\s+робіть|не\s+наш\w*|"
    r"таког\w*\s+\w+\s+у\s+нас\s+(?:нет|немає|нема)|"
    r"(?:это|це)?\s*не\s+(?:я|мы|ми|наш[аеи]?|наше)|не\s+(?:от|від)\s+(?:нас|меня|мене)|"
    r"не\s+(?:отправлял[аи]?|писал[аи]?|"
    r"надсилал[аи]?|писав|писала|писали)|"
    r"не\s+(?:просил[аи]?|просив|подтвержда(?:ю|ем)|підтверджу(?:ю|ємо)|меня\w*|міня\w*|"
    r"змінюва\w*|змінил\w*|поменял\w*)|"
    r"ничего\s+(?:такого\s+)?не\s+(?:меняйте|просил[аи]?|отправлял[аи]?|писал[аи]?)|"
    r"нічого\s+(?:такого\s+)?не\s+(?:змінюйте|просил[аи]?|просив|надсилал[аи]?|писал[аи]?)|"
    rf"{_FORMER}|"
    r"(?<!\bне\s)(?<!\bnot\s)(?<!\bnot\sa\s)(?<!\bnot\san\s)(?<!\bno\s)"
    rf"(?:{_FRAUD})|"
    r"not\s+(?:me|us|mine|ours)|not\s+from\s+(?:me|us)|wasn'?t\s+(?:me|us)|didn'?t\s+(?:send|write)|"
    r"did\s+not\s+(?:send|write)|did(?:n'?t|\s+not)\s+(?:ask|request|authori[sz]e)|"
    r"(?:haven'?t|have\s+not)\s+(?:asked|requested|sent|changed)|"
    r"never\s+(?:asked|requested|sent|authori[sz]ed)|(?:do\s+not|don'?t)\s+confirm|"
    r"(?:can'?t|cannot|can\s+not)\s+confirm|not\s+authori[sz]ed"
    r")(?![^\W\d_])",
    re.IGNORECASE,
)
# "Yes, it was us": a yes confirms a stranger's address as the client's, after which account
# details and payment talk go there, so it must be plain. A reply vouches only when it is
# short, asks nothing, opens with the words of a yes (a bare "да" / "так" / "yes" as the whole
# reply; "подтверждаю", "да, это наш директор", "так, це ми", "yes, that's us", "I confirm")
# and says nothing that negates, doubts, conditions, mocks or speaks of a hacked or old
# mailbox. A second review found 122 of 207 replies read as a yes when any yes-phrase anywhere
# counted: «Не думаю, что это мы», «Это мы, что ли?», «Ага, конечно, это мы», «Это наш адрес,
# но его взломали», "I confirm this wasn't sent by us", «Получение подтверждаю». Anything
# else is "neither": staff call the client, which costs a call, not an account.
_YES_OPENING = re.compile(
    r"^(?:(?:да|так|yes|yep|yeah|конечно|звісно|авжеж|absolutely|correct|of\s+course)"
    r"(?![^\W\d_])[\s,.!:—–-]*)?(?:"
    r"подтвержда(?:ю|ем)|подтверждено|это\s+(?:я|мы|наш[аеи]?|мой|моя|мо[ие])|(?:всё|все)\s+верно|"
    r"підтверджу(?:ю|ємо)|підтверджено|це\s+(?:я|ми|наш[аеі]?|мій|моя|мо[її])|(?:все|усе)\s+вірно|"
    r"(?:i|we)\s+confirm|confirmed|"
    r"(?:it'?s|it\s+(?:is|was)|that'?s|that\s+(?:is|was))\s+(?:me|us|ours|mine|our|my)"
    r")(?![^\W\d_])|"
    # "ours" as the whole reply: «Так, наш.», «Конечно наш)», «Да, мы», "Yes, ours".
    r"^(?:(?:да|так|ага|конечно|звісно|авжеж|yes|sure)[\s,!.]*)?(?:наш[аеи]?|наші|мы|ми|ours)$|"
    r"^(?:да|так|yes|yep|yeah)(?:[\s,!.]+(?:конечно|звісно|of\s+course|sure))?[\s.!)]*$",
    re.IGNORECASE,
)
# What makes a reply no plain yes, wherever it stands in it.
_NO_PLAIN_YES = re.compile(
    r"\?|(?<![^\W\d_])(?:не|ні|нет|немає|нема|no|not|never|none|nobody|никто|ніхто|без|"
    r"если|якщо|if|думаю|think|doubt\w*|вряд|навряд|уверен\w*|впевнен\w*|ага|"
    r"аякже|как\s+же|right|или|чи|or|что\s+ли|взлом\w*|злам\w*|hack\w*|"
    r"сейчас|зараз|уже|вже|опять|снова|знову|ждите|чекайте|разбер\w*|обсуд\w*|выясн\w*|"
    r"з'ясу\w*|later|will|реквизит\w*|реквізит\w*|details|bank|iban|прежн\w*|"
    r"compromis\w*|стар\w*|old|чуж\w*|незнаком\w*|невідом\w*|получени\w*|отриманн\w*|"
    rf"receipt|received|{_FORMER}|провер\w*|перевір\w*|уточн\w*|check\w*|"
    r"(?:do|does|did|is|was|are|were|can|could|wo|would|should|have|has|had|ai)n'?t|"
    # A blind probe: someone of ours once, or not of ours at all, or a mailbox no longer ours
    # ("Yes it's our ex-employee", «Да, это наш поставщик», «наша почта, которую украли»).
    r"ex|экс|previous|past|used\s+to|left|quit|resign\w*|fired|dismiss\w*|until|уволен\w*|"
    r"уволил\w*|звільнен\w*|ушёл|ушел|ушла|пішов|пішла|раньше|раніше|supplier\w*|vendor\w*|"
    r"contractor\w*|partner\w*|client\w*|customer\w*|competitor\w*|intern\w*|behalf|"
    r"поставщик\w*|подрядчик\w*|партн[её]р\w*|клиент\w*|конкурент\w*|постачальник\w*|"
    r"підрядник\w*|клієнт\w*|фирм\w*|фірм\w*|имени|імені|муж\w*|жена|жены|сын\w*|доч\w*|"
    r"husband|wife|son|daughter|чоловік\w*|дружин\w*|син\w*|донька|доньк\w*|укра\w*|"
    r"вкра\w*|stolen|stole|lost|удал\w*|видален\w*|deleted)(?![^\W\d_])",
    re.IGNORECASE,
)
# A vouching reply often says the sender is no fraud: not a negation of the yes.
_NOT_A_FRAUD = re.compile(
    rf"(?:это|це)?\s*не\s+(?:{_FRAUD})|not\s+(?:an?\s+)?(?:{_FRAUD})|"
    r"нет\s+проблем|немає\s+проблем|no\s+problem",
    re.IGNORECASE,
)
# A line that closes the reply: what follows is the signature, read no further.
_SIGN_OFF = re.compile(
    r"^\s*(?:с\s+уважением|з\s+повагою|best(?:\s+regards)?|kind\s+regards|regards|"
    r"sincerely|thanks|thank\s+you|спасибо|дякую|--)\b.*",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
MOST_WORDS_OF_A_YES = 16
_GREETING = re.compile(
    r"^(?:добрый\s+(?:день|вечер)|доброе\s+утро|здравствуйте|добрий\s+день|доброго\s+дня|"
    r"вітаю|привет|hello|hi|good\s+(?:morning|afternoon|evening))(?![^\W\d_])[\s,!.]*",
    re.IGNORECASE,
)


class TokenRejected(Exception):
    """A confirmation link that is not ours, was altered, or has expired."""

    def __init__(
        self, reason: str, expired: bool = False, confirmation_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(reason)
        self.expired = expired
        self.confirmation_id = confirmation_id


@dataclass(frozen=True)
class TokenClaims:
    confirmation_id: uuid.UUID
    expires_at: datetime


def _mac(secret: bytes, purpose: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, purpose + b"\x00" + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def confirmation_code(secret: bytes, confirmation_id: uuid.UUID) -> str:
    """ "OK-ABCD-EFGH": short enough to type, 40 bits nobody can derive without the secret."""
    letters = base64.b32encode(_mac(secret, b"code", confirmation_id.bytes)).decode()[:8]
    return f"{CODE_PREFIX}-{letters[:4]}-{letters[4:]}"


def sign_token(secret: bytes, confirmation_id: uuid.UUID, expires_at: datetime) -> str:
    payload = confirmation_id.bytes + int(expires_at.timestamp()).to_bytes(8, "big")
    return f"{_b64(payload)}.{_b64(_mac(secret, b'link', payload))}"


def read_token(secret: bytes, token: str, now: datetime) -> TokenClaims:
    """The claims of a link we signed and that has not expired; TokenRejected otherwise."""
    try:
        body, signature = token.strip().split(".")
        payload, mac = _unb64(body), _unb64(signature)
    except ValueError as exc:
        raise TokenRejected("not a confirmation token") from exc
    if len(payload) != 24 or not hmac.compare_digest(mac, _mac(secret, b"link", payload)):
        raise TokenRejected("the token's signature does not match")
    claims = TokenClaims(
        confirmation_id=uuid.UUID(bytes=payload[:16]),
        expires_at=datetime.fromtimestamp(int.from_bytes(payload[16:], "big"), UTC),
    )
    if now >= claims.expires_at:
        raise TokenRejected(
            "the confirmation link has expired",
            expired=True,
            confirmation_id=claims.confirmation_id,
        )
    return claims


def new_confirmation(
    secret: bytes,
    message_id: uuid.UUID,
    now: datetime,
    ttl: timedelta,
    base_url: str | None,
) -> ConfirmationRequest:
    """The confirmation a probable message starts; same message, same id and code."""
    confirmation_id = uuid.uuid5(message_id, "confirmation")
    # Whole seconds: the link carries the expiry in seconds and must agree with the record.
    expires_at = (now + ttl).replace(microsecond=0)
    url = None
    if base_url:
        url = f"{base_url.rstrip('/')}/{sign_token(secret, confirmation_id, expires_at)}"
    return ConfirmationRequest(
        confirmation_id=confirmation_id,
        code=confirmation_code(secret, confirmation_id),
        url=url,
        expires_at=expires_at,
    )


def codes_in(*texts: str) -> list[str]:
    """Confirmation codes written anywhere in a reply, upper-cased, in order, no repeats:
    each as codes are issued now and as they were before (`LEGACY_PREFIX`), for a request
    sent before the change and still pending; the letters are what the secret derives."""
    found: list[str] = []
    for text in texts:
        for m in _CODE_RE.finditer(text):
            letters = f"{m.group(1).upper()}-{m.group(2).upper()}"
            for prefix in (CODE_PREFIX, LEGACY_PREFIX):
                if f"{prefix}-{letters}" not in found:
                    found.append(f"{prefix}-{letters}")
    return found


def codes_by_place(text: str, subject: str, quoted: str) -> list[list[str]]:
    """The codes of a reply (`codes_in`) by where they are, in the order a reply is read
    for the request it answers: typed in its own text, in the subject of the mail it
    answers ("Re: … (код OK-…)"), in the quoted history."""
    return [codes_in(text), codes_in(subject), codes_in(quoted)]


def answered_codes(places: list[list[str]], pending: Collection[str]) -> set[str]:
    """The codes of `pending` (requests of the replying customer) that a reply answers: those
    of the first place (`codes_by_place`) that names any. Two requests may both be named (a
    plain one in the subject, another in the quoted history a forward or a thread brought
    along): each request's code is its own, so the words answer the one the client typed or
    replied to, and a request only quoted is left as it was, not confirmed or denied by
    words written about another."""
    for codes in places:
        named = {c for c in codes if c in pending}
        if named:
            return named
    return set()


# Words that disown a person or an address outright, as a registered contact's fresh mail
# says no to a request it has no code of: «никакого Игоря Белова у нас нет», «адрес … не
# наш», «жодного … у нас немає», "nobody called Rachel White works here". A plain «Нет, …»
# or "declined" is no such word: «Нет, мы уже оплатили. Иван Петров» is about something else.
_DISOWNS = re.compile(
    r"(?<![^\W\d_])(?:"
    r"у\s+нас\s+(?:нет|не\s+работа\w*|никогда\s+не\s+работал\w*)|никак(?:ой|ого|ая|ую|ие|их)|"
    r"никого|не\s+знаем|не\s+знаю|не\s+наш\w*|(?:это|це)\s+не\s+(?:мы|ми)|не\s+из\s+наших|"
    r"впервые\s+(?:слыш|виж|вид)\w*|посторонн\w*|чуж(?:ой|ая|ое|ие|ого|ий|а|е|і)|"
    r"мошенни\w*|самозван\w*|не\s+(?:является|являлся|являлась)\s+наш\w*|"
    r"у\s+нас\s+(?:немає|нема|не\s+працю\w*)|жодн(?:ого|ої|ий|а|их)|нікого|не\s+знаємо|"
    r"вперше\s+(?:чу|бач)\w*|сторонн\w*|шахра\w*|"
    r"nobody\s+(?:called|named|by\s+(?:that|the)\s+name)|no\s+one\s+(?:called|named|by\s+that)|"
    r"(?:don'?t|do\s+not|doesn'?t|does\s+not)\s+(?:know|work\s+(?:here|for\s+us|with\s+us))|"
    r"never\s+heard\s+of|not\s+(?:one\s+of\s+)?(?:us|ours)|not\s+our\s+(?:employee|staff|"
    r"colleague|address|email|mail|person)|no\s+such\s+(?:person|employee)|stranger|"
    r"impost[oe]r\w*|scam\w*|fraud\w*"
    r")(?![^\W\d_])",
    re.IGNORECASE,
)
# A sentence ends at ".", "!", "?" or "…" before a space, or at a line's end (an address's
# dots have no space after them).
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")


def disowns(text: str) -> bool:
    """Whether a message disowns someone outright (`_DISOWNS`)."""
    return _DISOWNS.search(text) is not None


def names_disowned(
    text: str, address: str, claimed_name: str | None, name_similarity: float
) -> bool:
    """Whether a sentence of a registered contact's fresh mail disowns the address a request
    asks about, or the name its sender claimed, outright ("Not us: nobody called Rachel White
    works here", «Ивана Петрова у нас нет» — the name as the verifier matches names: both
    words of it, inflection and transliteration aside; the address whole, not a part of
    another). The name in a signature, or beside words of another matter («Нет, уже
    оплатили. Иван Петров»), disowns nobody."""
    whole = re.compile(rf"(?<![\w.+-]){re.escape(address)}(?![\w-])", re.IGNORECASE)
    for sentence in _SENTENCES.split(text):
        if not disowns(sentence):
            continue
        if whole.search(sentence):
            return True
        if claimed_name and similarity(claimed_name, sentence) >= name_similarity:
            return True
    return False


# Where a clause ends, and how: "?" asks, unless "!" stands beside it ("?!" is indignation:
# «Это наш бывший бухгалтер?!» says no).
_CLAUSE_END = re.compile(r"[?!]+|[.,;…\n]")
# Words of a no that deny even when asked: a former employee is no question to settle
# («Это наш бывший бухгалтер?», "our former CFO?").
_DENIES_ASKED = re.compile(_FORMER, re.IGNORECASE)


def _asked(text: str, m: re.Match[str]) -> bool:
    """Whether the words `m` found stand in a question: their clause ends in "?" alone."""
    end = _CLAUSE_END.search(text, m.end())
    return end is not None and "?" in end.group() and "!" not in end.group()


def is_denial(text: str) -> bool:
    """Whether the new text of a reply says the request was not theirs: words of a no said,
    not asked. «А кто это вообще? Мы вам ничего не писали?» is a contact who does not know
    what we ask about (neither: staff call them), while «Мы ничего не просили!», "Кто это? Мы
    ничего не меняли" and «Это наш бывший бухгалтер?» say no."""
    return any(
        not _asked(text, m) or _DENIES_ASKED.match(m.group().strip())
        for m in _DENIAL_RE.finditer(text)
    )


def vouches(text: str, code: str) -> bool:
    """Whether the new text of a reply that carries a pending request's code says yes,
    plainly: the code alone (typed or pasted, «код OK-…»), or short words of a yes
    (`_YES_OPENING`) with nothing that asks, negates, doubts or mocks (`_NO_PLAIN_YES`),
    the code beside them or not. A code only in the subject or the quoted request is no yes
    by itself: "Мы ничего не просили менять!" came back with the code in "Re: …"."""
    said = _SIGN_OFF.sub("", text.strip(), count=1).strip() if "\n" in text else text.strip()
    if "?" in said:
        return False  # asked, not said: «Это мы?», "OK-…?"
    typed = code in codes_in(said)
    rest = _CODE_RE.sub(" ", said)
    rest = re.sub(r"(?<![^\W\d_])(?:код|code)(?![^\W\d_])", " ", rest, flags=re.IGNORECASE)
    # A greeting before the yes, an emoji or a smile after it: «Добрый день! Да, это мы 👍».
    rest = _GREETING.sub("", " ".join(rest.split()).strip(" .,:;!—–-()«»\"'"))
    rest = re.sub(r"[^\w]+$", "", rest)
    if typed and not rest:
        return True
    plain = _NOT_A_FRAUD.sub(" ", rest)
    return (
        bool(_YES_OPENING.search(rest))
        and not _NO_PLAIN_YES.search(plain)
        and len(rest.split()) <= MOST_WORDS_OF_A_YES
    )


Reading = Literal["no", "yes", "neither"]
# Fraud named: a doubt beside it is about who the fraudster is ("Not us, maybe a scam").
_FRAUD_SAID = re.compile(_FRAUD, re.IGNORECASE)
# A writer doubting their own answer: they will check, ask, or it may be someone of theirs.
_HEDGED = re.compile(
    r"(?<![^\W\d_])(?:хотя|хоча|может\s+быть|может,|возможно|наверное|можливо|мабуть|може,|"
    r"уточню|спрошу|проверю|перевірю|спитаю|дізнаюся|узнаю|maybe|perhaps|possibly|"
    r"not\s+sure|let\s+me\s+check|i'?ll\s+check|i'?ll\s+ask|wait)(?![^\W\d_])",
    re.IGNORECASE,
)


def read_reply(text: str, code: str) -> Reading:
    """What the new text of a registered contact's reply says of the request with `code`.
    No is read before yes, and words of a no even only asked are no yes: «Это наш
    бухгалтер? Мы ничего не меняли?» holds "это наш" and a no asked about; it is a question
    for staff to call about ("neither"), never a confirmation of the forger's address. A no
    taken back by a doubt of its own («Это не мы... хотя подождите, может Сергей писал.
    Уточню.», "Not us... wait, maybe Steve wrote it") is "neither" too: a denial disowns the
    address, and its next messages are suspicious."""
    if is_denial(text):
        doubted = _HEDGED.search(text) and not _FRAUD_SAID.search(text)
        return "neither" if doubted else "no"
    if _DENIAL_RE.search(text) is None and vouches(text, code):
        return "yes"
    return "neither"


def channel_to_link(message: MessageNormalized) -> tuple[str, str, str] | None:
    """(kind, address, match key) of the sender's address that a confirmation would verify."""
    sender = message.sender
    for kind, address in (
        ("email", sender.email),
        ("phone", sender.phone),
        ("handle", sender.handle),
    ):
        if address:
            key = channel_key(kind, address)
            return kind, address.strip().lower() if kind == "email" else key, key
    return None


def claimed_name(message: MessageNormalized, address: str) -> str | None:
    """The name a sender gave, for a contact of its own if its address is confirmed and no
    one on file was named: its display name, unless that only repeats the address."""
    name = message.sender.display_name
    if not name or name.casefold() == address.casefold():
        return None
    return name
