"""Whether a client's message takes back the threats it wrote before. Pure.

A hold placed for a threat of harm is not ended by one calm line a minute later: the
client who wrote «приеду и переломаю вам ноги» and then «ну так что с возвратом?» has not
stopped threatening, only paused. Either time passes without threats (the hold's
`calm_for`), or the client takes the threats back: «извините, я погорячился», «вибачте,
я погарячкував», "sorry, I didn't mean it" (history.holds_to_lift).

A polite opener is not a retraction: «Извините, когда будет ответ?», "sorry to bother
you" say nothing of the threats. What counts is a word of losing one's temper
(погорячился, сорвался, погарячкував, lost my temper), of not meaning it (не хотел
угрожать, didn't mean it), of taking the words back (беру слова назад, take it back), or
an apology for what was said (простите за мои слова, вибачте за погрози, sorry for what I
said). Not after a negation: «я не погорячился», "I'm not taking it back".

Nor said so as not to take anything back. A question asks, it does not retract: «Я
погорячился? Нет, я серьёзно», "You think I lost my temper? I'm dead serious". A negation
or a "you think" anywhere before it in the sentence turns it around: «Не думайте, что я
погорячился», «Думаете, я погорячился», "Don't think I lost my temper". "I didn't mean it
as a joke" means it. And a retraction followed by a contrast, a condition or a promise of
consequences is a threat restated: «Я сорвался, да. Но обещание своё выполню», «Беру слова
назад, если вернёте деньги до пятницы. Иначе пеняйте на себя», «Я не хотел угрожать. Я
просто обещаю: вы пожалеете». These cost a sincere line now and then («извините, я
погорячился, но нервы сдали»): it then waits the hold's `calm_for`, while a threat restated
would have lifted a hold for violence a minute after it was placed.

Nor beside hostility: «Извините, я погорячился, но вы все идиоты и воры» takes nothing
back. The hold's own threats are not all there is (its `while_signals` leave out insults),
so a retraction counts only in a message that carries no hostile signal at all: no abuse,
no advances, no threat of any kind (harm, blackmail, court). Without one that counts, the
hold waits its `calm_for`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The detector's signals (detection/lexicon.SIGNALS) that are hostile to the people the
# client writes to: an insult, advances, a threat of harm, of exposure, of court.
HOSTILE_SIGNALS = frozenset(
    {"abuse", "harassment", "violence_threat", "reputation_threat", "legal_threat"}
)

_RU = [
    r"погорячил(?:ся|ась|ись)",
    r"сорвал(?:ся|ась|ись)",
    r"(?:беру|забираю)\s+(?:свои\s+)?слова\s+(?:обратно|назад)",
    r"не\s+(?:хотел|хотела|хотели)\s+(?:вам\s+|вас\s+|никому\s+)?"
    r"(?:угрожать|обидеть|напугать|пугать|оскорб\w*)",
    r"не\s+(?:имел|имела|имели)\s+(?:этого\s+)?в\s+виду",
    r"(?:был|была|были)\s+неправ\w*",
    r"(?:извините|простите|прошу\s+прощения|приношу\s+(?:свои\s+)?извинения|извиняюсь)"
    r"\s+за\s+(?:мои\s+|свои\s+|эти\s+|те\s+|то,?\s+что\s+|вчерашн\w+\s+|прошл\w+\s+)?"
    r"(?:слова|угроз\w*|резкост\w*|грубост\w*|тон|сказанн\w*|написал\w*|сказал\w*|"
    r"письм\w*|сообщени\w*|поведени\w*|эмоци\w*|выражени\w*|высказыван\w*)",
]
_UK = [
    r"погарячкува(?:в|ла|ли)",
    r"зірва(?:вся|лася|лись|лися)",
    r"(?:беру|забираю)\s+(?:свої\s+)?слова\s+назад",
    r"не\s+(?:хотів|хотіла|хотіли)\s+(?:вам\s+|вас\s+|нікому\s+)?"
    r"(?:погрожувати|образити|налякати|лякати)",
    r"не\s+(?:мав|мала|мали)\s+(?:цього\s+)?на\s+увазі",
    r"(?:був|була|були)\s+неправ\w*",
    r"(?:вибачте|пробачте|перепрошую|прошу\s+вибачення|вибачаюсь|вибачаюся)"
    r"\s+за\s+(?:мої\s+|свої\s+|ці\s+|ті\s+|те,?\s+що\s+|вчорашн\w+\s+|минул\w+\s+)?"
    r"(?:слова|погроз\w*|різкість|грубість|тон|сказане|написал\w*|сказал\w*|"
    r"лист\w*|повідомленн\w*|поведінк\w*|емоці\w*|вислов\w*)",
]
_EN = [
    r"lost\s+my\s+temper",
    # Not "I didn't mean it as a joke" / "literally": that says it was meant.
    r"(?:didn'?t|did\s+not|never)\s+mean\s+(?:(?:it|that|any\s+of\s+it)"
    r"(?!\s+(?:as\b(?!\s+a\s+threat)|literally))|what\s+i\s+(?:said|wrote)"
    r"|to\s+(?:threaten|scare|offend|frighten))",
    r"take\s+(?:it|that|those\s+words|my\s+words|everything|it\s+all)\s+back",
    r"(?:was|were)\s+out\s+of\s+line",
    r"overreacted|went\s+too\s+far|got\s+carried\s+away",
    r"(?:i'?m|i\s+am|so|very|really|terribly)\s+sorry\s+(?:for|about)\s+"
    r"(?:what\s+i\s+(?:said|wrote)|my\s+|the\s+(?:threat|message|tone|last|previous)|"
    r"that\s+(?:message|email|threat)|those\s+words)",
    r"(?:apologi[sz]e|my\s+apologies)\s+(?:for|about)\s+"
    r"(?:what\s+i\s+(?:said|wrote)|my\s+|the\s+(?:threat|message|tone|last|previous)|"
    r"that\s+(?:message|email|threat)|those\s+words)",
]
_RETRACTION = re.compile(r"\b(?:" + "|".join(_RU + _UK + _EN) + r")", re.IGNORECASE)
# In the retraction's own clause: «я не погорячился», "I'm not sorry for what I said",
# «ні, не беру слова назад», "I wasn't out of line".
_NEGATED = re.compile(r"(?:\b(?:не|ні|not|never)\b|n't)", re.IGNORECASE)
# Anywhere before it in its sentence: a doubt put to the reader, or a condition. «Не
# думайте, что я погорячился», «Думаете, я погорячился», "you really think I lost my temper",
# «если вернёте деньги, беру слова назад».
_DOUBTED = re.compile(
    r"\b(?:думае\w*|думаешь|думайте|считаете|полагаете|думаєте|думаєш|вважаєте|вважаєш"
    r"|you\s+(?:\w+\s+)?(?:think|thought|believe)|don'?t\s+think|do\s+not\s+think"
    r"|если|якщо|if|unless)\b",
    re.IGNORECASE,
)
# Anywhere after it: a contrast, a condition, a promise of consequences, "I mean it". A
# promise that it won't happen again is no threat, nor is "sorry if it sounded harsh".
_RESTATED = re.compile(
    r"\b(?:но|однако|зато|але|проте|однак|but|however"
    r"|если|якщо|if|unless|иначе|інакше|otherwise|or\s+else"
    r"|(?:обещаю|обіцяю|i\s+promise)(?![\s,:—-]+(?:\w+\s+){0,3}?"
    r"(?:больше\s+не|більше\s+не|не\s+повтор|won'?t\s+happen|never\s+again|will\s+not\s+happen))"
    r"|пожалеете|пожалеешь|пошкодуєте|пошкодуєш|you(?:'ll|\s+will)\s+(?:\w+\s+)?regret"
    r"|еще\s+увидите|еще\s+увидишь|ще\s+побачите|ще\s+побачиш|you(?:'ll|\s+will)\s+see"
    r"|серьезн\w*|серйозн\w*|serious\w*)\b",
    re.IGNORECASE,
)
_EXCUSING = re.compile(r"(?:sorry|извините|простите|вибачте|пробачте|перепрошую)[\s,]*$", re.I)
_SENTENCE_END = re.compile(r"[.!?…\n]+")
_CLAUSE_END = re.compile(r"[.!?…\n,;:—–]+")


def takes_back(text: str, signals: Mapping[str, float], threshold: float = 0.5) -> bool:
    """Whether `text` takes back or apologises for what the client wrote before, the
    message carrying none of the hostile signals (`signals`: its names and scores, as
    detected; those scoring at least `threshold` count)."""
    if any(signals.get(name, 0.0) >= threshold for name in HOSTILE_SIGNALS):
        return False
    folded = text.replace("ё", "е").replace("Ё", "Е").replace("’", "'")
    return any(_retracts(folded, m) for m in _RETRACTION.finditer(folded))


def _retracts(text: str, match: re.Match[str]) -> bool:
    """Whether the retraction `match` of `text` stands: not asked, not negated or doubted
    before it, not restated after it."""
    before, after = text[: match.start()], text[match.end() :]
    ends = _SENTENCE_END.search(after)
    if ends is not None and "?" in ends.group():
        return False
    sentence = _SENTENCE_END.split(before)[-1]
    if _NEGATED.search(_CLAUSE_END.split(sentence)[-1]) or _DOUBTED.search(sentence):
        return False
    return not any(
        not (
            r.group().casefold() in {"if", "если", "якщо"} and _EXCUSING.search(after[: r.start()])
        )
        for r in _RESTATED.finditer(after)
    )
