"""Does one sentence of a student's message make a key point *closely* enough to be told "right"?

Precision before coverage (issue 22): a tutor that confirms a false claim does harm, and MiniLM
puts a near-miss ("Stalin and Trotsky were allies against Zinoviev") almost as near a point's
statement ("Stalin allied first with Zinoviev and Kamenev against Trotsky …") as a paraphrase.
So a sentence makes a point only when its cosine to the statement reaches ``RIGHT_CLOSE`` (the
threshold calibrated on corpus/eval/keypoint_matches.jsonl for precision ≥ 98%, see
``tutor eval keypoints``) *and* nothing in it disagrees with the statement: no person, year or
figure the statement does not have, no one on the other side of "against", no word the
statement says the opposite of ("silent" / "read out").

>>> close_score(emb_cos=0.81, sentence="Stalin and Trotsky were allies against Zinoviev",
...             statement="Stalin allied first with Zinoviev and Kamenev against Trotsky")  # doctest: +SKIP
0.0
"""

from __future__ import annotations

import re

# Calibrated on corpus/eval/keypoint_matches.jsonl (tutor eval keypoints): the lowest cosine at
# which a sentence that passes the disagreement checks is a true statement of the point in ≥ 98%
# of cases.
RIGHT_CLOSE = 0.72

# People and groups whose roles a near-miss swaps. Stalin is nearly everywhere and often "he" in a
# statement, so naming him is no disagreement.
_PEOPLE = ("trotsky", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky", "pyatakov", "sukhanov", "krupskaya",
           "eastman", "kirov", "carr", "conquest", "tucker", "deutscher", "cohen", "fitzpatrick", "service",
           "kotkin", "ward", "left", "right", "workers", "peasants", "army", "cheka", "politburo", "moscow",
           "leningrad", "permanent revolution", "socialism in one country")
_PERSON = re.compile(r"\b(" + "|".join(_PEOPLE) + r")(?:'s|s)?\b")
_SIDE = re.compile(r"\b(" + "|".join(("stalin", "lenin", "him", *_PEOPLE)) + r")(?:'s|s)?\b")
# Verbs whose doer a near-miss swaps ("Trotsky recanted while Zinoviev and Kamenev refused").
_ROLE_VERBS = ("recant", "refus", "exile", "expel", "call", "sign", "read", "miss", "wr[io]te", "propos", "set out",
               "attack", "defend", "back", "led", "ran", "chair", "publish", "creat", "introduc", "invent", "sided",
               "allied", "feared", "kill", "deport")
_ROLE = re.compile(r"\b(" + "|".join(_ROLE_VERBS) + r")\w*")
_AGAINST = re.compile(r"\b(?:against|opposed|attacked|feared|rivals? of|hostile to|turned on)\s+((?:\w+\s*){1,5})")
_WITH = re.compile(r"\b(?:allied with|allies? with|sided with|teamed up with|joined|with|ally of|friends? of|"
                   r"supported|backed)\s+((?:\w+\s*){1,5})")
# Where the people on one side end: the next relation, reason or clause.
_SIDE_END = re.compile(r"\b(?:against|with|then|than|because|to|so|which|who|while|but|in|from|at|after|before)\b|[,;]")
_YEAR = re.compile(r"\b(1[89]\d\d)\b")
_FIGURE = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d{2,}\b")
# (the student's word, the statement's opposite): the statement says one, the sentence the other.
_OPPOSITES = [
    (r"\b(?:against|enem(?:y|ies)|opposed|hated|rivals?)\b", r"\b(?:allied|alliance|triumvirate|troika|sided with|"
                                                              r"with bukharin|use stalin)\b"),
    (r"\b(?:allies|allied|teamed up|friends|sided)\b", r"\b(?:against)\b"),
    (r"\b(?:stopped|prevented|protected|banned|forbade|forbidden)\b", r"\b(?:allowed|let)\b"),
    (r"\b(?:let|allowed|free to)\b", r"\b(?:hard to|could not|cannot|banned|condemned)\b"),
    (r"\b(?:had to wait|must wait|needed to wait|depend(?:ed|s)? on (?:a )?(?:world )?revolution)",
     r"\b(?:tired of waiting|without waiting|by its own)"),
    (r"\b(?:only criticised|criticised only|just criticised)\b", r"\balso criticised\b"),
    (r"\b(?:everyone|anyone|everybody|all of them|they all)\b", r"\b(?:none|nobody|no one)\b"),
    (r"\b(?:all (?:at once|together)|at the same time|all of them at once)\b", r"\b(?:never had to face|one at a time)\b"),
    (r"\b(?:from the (?:start|beginning)|all along|always|from day one)\b", r"\b(?:first|then|later|turned|only (?:in|after)|"
                                                                         r"by 19\d\d|from 19\d\d|when)\b"),
    (r"\b(?:read (?:out|aloud)|whole congress|full congress|everyone|published in (?:pravda|russia))\b",
     r"\b(?:only to the delegations|not to the full|silent|abroad|kept sealed)\b"),
    (r"\b(?:went to|attended|gave the (?:main )?speech|organised|was the chief mourner)\b",
     r"\b(?:missed|did not return|absent)\b"),
    (r"\b(?:used the (?:red )?army|seize power|coup)\b", r"\b(?:did not use)\b"),
    (r"\b(?:refused|opposed it)\b", r"\b(?:recanted|adopted|accepted)\b"),
    (r"\b(?:recanted)\b", r"\b(?:refused)\b"),
    (r"\b(?:praised|supported|backed|loved|trusted)\b", r"\b(?:criticised|called stalin|too rude|remove him|"
                                                         r"distrusted|warned|feared him|opposed)\b"),
    (r"\b(?:fell|dropped|shrank|decreased)\b", r"\b(?:rose|grew|swamped)\b"),
    (r"\b(?:wait|waiting)\b", r"\b(?:by its own efforts|without waiting)\b"),
    (r"\b(?:brilliant|theorist|orator|best speaker)\b", r"\b(?:dull administrator|rather than a theorist)\b"),
    (r"\b(?:no value|useless|worthless)\b", r"\b(?:still valuable)\b"),
    (r"\b(?:personality alone|his own plans?)\b", r"\b(?:structure|bureaucracy)\b"),
]
_PRONOUN_START = re.compile(r"^\W*(?:he|she|his|her)\b")
_NEGATED = re.compile(r"\b(?:not|never|no|didn'?t|wasn'?t|weren'?t|couldn'?t|nobody|none)\b")


def _named(text: str) -> set[str]:
    return {m.group(1) for m in _PERSON.finditer(text)}


def _sides(pattern: re.Pattern[str], text: str) -> set[str]:
    """Who stands after "against" (or "with"): Stalin counts here, and "him" is Stalin."""
    out: set[str] = set()
    for m in pattern.finditer(text):
        span = _SIDE_END.split(m.group(1), maxsplit=1)[0]
        out |= {"stalin" if w.group(1) == "him" else w.group(1) for w in _SIDE.finditer(span)}
    return out


def _doers(text: str) -> dict[str, str]:
    """Each role verb with the person named last before it in its clause."""
    out: dict[str, str] = {}
    for m in _ROLE.finditer(text):
        clause = re.split(r"[,;:]|\b(?:while|whereas|but|and then|who|which)\b", text[:m.start()])[-1]
        names = [w.group(1) for w in _SIDE.finditer(clause) if w.group(1) != "him"]
        if names:
            out.setdefault(m.group(1), names[-1])
    return out


def disagreement(sentence: str, statement: str) -> str:
    """Why the sentence cannot be the statement said another way ('' when nothing disagrees):
    a person, year or figure the statement lacks, someone on the other side, an opposite word."""
    s, k = sentence.lower(), statement.lower()
    extra = _named(s) - _named(k)
    if len(extra) == 1 and _PRONOUN_START.match(k):
        extra = set()  # "He argued…" (a drafted point from a handout): the student's name for "he" is no other person
    if extra:
        return f"names {', '.join(sorted(extra))}, which the point does not"
    years = set(_YEAR.findall(s)) - set(_YEAR.findall(k))
    if years:
        return f"gives {', '.join(sorted(years))}, a year the point does not"
    figures = {f for f in _FIGURE.findall(s) if not _YEAR.fullmatch(f)} - set(_FIGURE.findall(k))
    if figures:
        return f"gives {', '.join(sorted(figures))}, a figure the point does not"
    mine_against, its_against = _sides(_AGAINST, s), _sides(_AGAINST, k)
    mine_with, its_with = _sides(_WITH, s), _sides(_WITH, k)
    if mine_against & its_with or mine_with & its_against or (mine_against and its_against and not
                                                               mine_against & its_against):
        return "puts someone on the other side"
    if _doers(s) and any(v in _doers(k) and _doers(k)[v] != d for v, d in _doers(s).items()):
        return "has someone else doing it"
    for theirs, ours in _OPPOSITES:
        said = [m for m in re.finditer(theirs, s) if not _NEGATED.search(" ".join(s[:m.start()].split()[-3:]))]
        if said and re.search(ours, k) and not re.search(theirs, k):
            return "says the opposite of the point"
    return ""


def close_score(cosine: float, sentence: str, statement: str) -> float:
    """The cosine, or 0 when the sentence disagrees with the statement in any checkable way."""
    return 0.0 if disagreement(sentence, statement) else cosine


def makes_point(cosine: float, sentence: str, statement: str, threshold: float = RIGHT_CLOSE) -> bool:
    return close_score(cosine, sentence, statement) >= threshold
