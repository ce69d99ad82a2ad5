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
    r"(?:didn'?t|did\s+not|never)\s+mean\s+(?:it|that|any\s+of\s+it|what\s+i\s+(?:said|wrote)"
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
# «я не погорячился», "I'm not sorry for what I said", «ні, не беру слова назад».
_NEGATED = re.compile(r"(?:\bне|\bні|\bnot|n't|\bnever)\s+(?:\w+\s+)?$", re.IGNORECASE)


def takes_back(text: str, signals: Mapping[str, float], threshold: float = 0.5) -> bool:
    """Whether `text` takes back or apologises for what the client wrote before, the
    message carrying none of the hostile signals (`signals`: its names and scores, as
    detected; those scoring at least `threshold` count)."""
    if any(signals.get(name, 0.0) >= threshold for name in HOSTILE_SIGNALS):
        return False
    folded = text.replace("ё", "е").replace("Ё", "Е").replace("’", "'")
    return any(
        not _NEGATED.search(folded[max(0, m.start() - 24) : m.start()])
        for m in _RETRACTION.finditer(folded)
    )
