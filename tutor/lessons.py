"""Lesson cards and the timeline: pydantic models, loading, checking, matching.

Example::

    lessons = load_lessons(Path("corpus"))
    card = lessons.match("why did stalin win?")[0][0]
    card.next_hint(covered=set(), level=0).text
    # → 'What kinds of power could a party leader have besides ideas and speeches?'
    lessons.date_errors("Lenin died in 1925")[0].correct
    # → '21 January 1924'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, field_validator,
                      model_validator)

from tutor.documents import YAML_LOADER
from tutor.errors import TutorError
from tutor.triggers import Trigger, TriggerError, compile_pattern

HINT_LEVELS = ("pump", "hint", "prompt")
# The course's main question: the card a conversation (or an essay) falls back to.
DEFAULT_CARD = "why-stalin-won"
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]


class LessonError(TutorError):
    """One or more lesson files are invalid; the message lists file and field for each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Invalid lesson data:\n" + "\n".join(f"  - {p}" for p in problems)
                         + "\nFix the fields named above (`tutor lessons check` re-checks).")


# Every card field has a ceiling, so a card cannot carry a 5 MB "hint" to every student who
# reaches it: several times the longest field of the course's own cards, and list lengths a
# teacher never needs (tutor.drafting refuses over them with the field named).
MAX_ID, MAX_TERM, MAX_PATTERN = 80, 100, 500
MAX_QUESTION, MAX_STATEMENT, MAX_PARAGRAPH, MAX_EXPLANATION = 400, 600, 800, 2000
MAX_ROWS, MAX_TERMS = 60, 40

# Ids the tutor makes itself ("passages:<doc id>@2.1", "fact:<fact id>") carry a document id, so
# the model allows more than a teacher's card may use (tutor.drafting checks CARD_ID).
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# A teacher's card id names the card in the CLI, in URLs and in the database: a slug.
CARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,%d}" % (MAX_ID - 1))
DocId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN)]
# YAML reads `1921` as a number; a term is always text.
Term = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, (int, float)) else v),
                 StringConstraints(min_length=1, max_length=MAX_TERM)]
Question = Annotated[str, StringConstraints(min_length=5, max_length=MAX_QUESTION)]
Paragraph = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PARAGRAPH)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyPoint(_Strict):
    id: Id
    statement: str = Field(min_length=10, max_length=MAX_STATEMENT)
    evidence_terms: list[Term] = Field(min_length=1, max_length=MAX_TERMS)
    sources: list[DocId] = Field(min_length=1, max_length=10)


class Hint(_Strict):
    key_point: Id | None = None
    level: Literal["pump", "hint", "prompt"]
    text: Question

    @field_validator("text")
    @classmethod
    def _is_question(cls, v: str) -> str:
        if not v.rstrip().endswith("?"):
            raise ValueError("a hint must be a question ending in '?'")
        return v


class Misconception(_Strict):
    id: Id
    # RE2 patterns (tutor.triggers): linear-time, so no trigger can hold the app.
    triggers: list[Pattern] = Field(min_length=1, max_length=20)
    # Patterns that, in the same sentence as a trigger's match, rule it out ("not only because").
    unless: list[Pattern] = Field(default_factory=list, max_length=20)
    why_wrong: str = Field(min_length=1, max_length=MAX_EXPLANATION)
    probe: str = Field(min_length=1, max_length=1000)
    correct_doc: DocId
    # "partly": a half-truth the sources qualify ("Stalin won by luck") rather than a falsehood.
    verdict: Literal["wrong", "partly"] = "wrong"

    @field_validator("triggers", "unless")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                compile_pattern(pattern)
            except TriggerError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("probe")
    @classmethod
    def _probe_is_question(cls, v: str) -> str:
        if "?" not in v:
            raise ValueError("the probe must be a question")
        return v

    @cached_property
    def patterns(self) -> list[Trigger]:
        return [Trigger(p, self.unless) for p in self.triggers]

    def triggered_by(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


class LessonCard(_Strict):
    """One big question with its expectations (key points), hint ladders and misconceptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    id: Id
    question: Question
    match_terms: list[Term] = Field(default_factory=list, max_length=MAX_TERMS)
    key_points: list[KeyPoint] = Field(min_length=1, max_length=12)
    hints: list[Hint] = Field(min_length=1, max_length=MAX_ROWS)
    misconceptions: list[Misconception] = Field(default_factory=list, max_length=30)
    counter_arguments: list[Paragraph] = Field(default_factory=list, max_length=12)
    judgement_prompts: list[Question] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _consistent(self) -> "LessonCard":
        ids = [k.id for k in self.key_points]
        if len(ids) != len(set(ids)):
            raise ValueError("key_points ids must be unique within the card")
        for hint in self.hints:
            if hint.key_point is not None and hint.key_point not in ids:
                raise ValueError(f"hint names key_point '{hint.key_point}', which the card does not have")
        return self

    def key_point(self, kp_id: str) -> KeyPoint:
        return next(k for k in self.key_points if k.id == kp_id)

    def ladder(self, kp_id: str | None) -> list[Hint]:
        """The hints for one key point, open → specific (card-level hints if it has none)."""
        own = [h for h in self.hints if h.key_point == kp_id]
        ladder = own or [h for h in self.hints if h.key_point is None] or list(self.hints)
        return sorted(ladder, key=lambda h: HINT_LEVELS.index(h.level))

    @property
    def source_docs(self) -> set[str]:
        docs = {d for k in self.key_points for d in k.sources}
        docs.update(m.correct_doc for m in self.misconceptions)
        return docs


# The timeline states events in the present ("Stalin becomes General Secretary"), as chronologies
# do; a correction said to a student tells them in the past ("Trotsky joined the Bolshevik party in
# 1917, not 1903"). The verbs the timeline uses, and their past forms.
_PAST = {"is": "was", "are": "were", "becomes": "became", "joins": "joined", "sits": "sat", "rise": "rose",
         "suffers": "suffered", "makes": "made", "abuses": "abused", "declines": "declined", "dictates": "dictated",
         "calls": "called", "asks": "asked", "ends": "ended", "threatens": "threatened", "does": "did",
         "condemns": "condemned", "writes": "wrote", "begin": "began", "dies": "died", "admits": "admitted",
         "gives": "gave", "back": "backed", "stays": "stayed", "publishes": "published", "answer": "answered",
         "brand": "branded", "states": "stated", "succeeds": "succeeded", "adopts": "adopted", "urges": "urged",
         "signs": "signed", "defeats": "defeated", "take": "took", "form": "formed", "recants": "recanted",
         "recant": "recanted", "demonstrate": "demonstrated", "expels": "expelled", "refuses": "refused",
         "travels": "travelled", "removes": "removed", "loses": "lost", "announces": "announced", "meets": "met",
         "appear": "appeared", "has": "had", "have": "had", "leaves": "left", "wins": "won"}


class TimelineEvent(_Strict):
    id: Id
    date: str
    end: str | None = None
    precision: Literal["day", "month", "year", "span"]
    event: str = Field(min_length=1, max_length=MAX_QUESTION)
    keywords: list[Term] = Field(min_length=1, max_length=MAX_TERMS)
    docs: list[DocId] = Field(min_length=1, max_length=10)
    note: str | None = Field(default=None, max_length=MAX_PARAGRAPH)

    @property
    def told(self) -> str:
        """The event in the past tense, without its full stop: "Trotsky joined the Bolshevik party"."""
        words = self.event.rstrip(".").split(" ")
        return " ".join(_PAST.get(w, w) if not w[:1].isupper() else w for w in words)

    @field_validator("date", "end", mode="before")
    @classmethod
    def _iso(cls, v: object) -> object:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, int):
            return str(v)
        if v is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(v)):
            raise ValueError("must be YYYY, YYYY-MM or YYYY-MM-DD")
        return v

    @property
    def years(self) -> tuple[int, int]:
        start = int(self.date[:4])
        return start, int(self.end[:4]) if self.end else start

    @property
    def when(self) -> str:
        """Human form of the date, e.g. '21 January 1924' or 'March 1921'."""
        def human(iso: str) -> str:
            parts = iso.split("-")
            if len(parts) == 3:
                return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
            if len(parts) == 2:
                return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
            return parts[0]
        text = human(self.date)
        if self.end and len(self.date) == len(self.end) == 10 and self.date[:7] == self.end[:7]:
            # "18–31 December 1925", not "from 18 December 1925 to 31 December 1925" (offline trial 15)
            return f"{int(self.date[8:])}–{human(self.end)}"
        return f"{text} – {human(self.end)}" if self.end else text


@dataclass(frozen=True)
class DateError:
    """A student's year for an event that the timeline dates differently."""

    event: TimelineEvent
    stated_year: int
    keyword: str
    sentence: str

    @property
    def correct(self) -> str:
        return self.event.when


_YEAR = re.compile(r"\b(1[89]\d\d|20[0-4]\d)\b")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass
class Lessons:
    cards: list[LessonCard]
    timeline: list[TimelineEvent]

    def card(self, card_id: str) -> LessonCard:
        return next(c for c in self.cards if c.id == card_id)

    def get(self, card_id: str | None) -> LessonCard | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def match(self, message: str, passage_docs: list[str] | None = None) -> list[tuple[LessonCard, float]]:
        """Cards ranked for a message: match terms and evidence terms in the text (whole words,
        apostrophes optional), plus the documents retrieval found (weighted by rank)."""
        text = message.lower()
        ranked: list[tuple[LessonCard, float]] = []
        for card in self.cards:
            score = 0.0
            for term in card.match_terms:
                if term_regex(term).search(text):
                    score += 1.0 + 0.1 * len(term.split())
            for kp in card.key_points:
                score += 0.3 * sum(1 for t in kp.evidence_terms if term_regex(t).search(text))
            if passage_docs:
                docs = card.source_docs
                score += sum(0.6 / (rank + 1) for rank, d in enumerate(passage_docs) if d in docs)
            ranked.append((card, score))
        ranked.sort(key=lambda x: -x[1])
        return ranked

    def misconceptions_in(self, message: str) -> list[tuple[LessonCard, Misconception]]:
        return [(card, m) for card in self.cards for m in card.misconceptions if m.triggered_by(message)]

    def events_named(self, text: str, limit: int = 2) -> list[TimelineEvent]:
        """The timeline events a sentence names by their keywords (not someone else's: "when was
        bukharin expelled?" is not Trotsky's expulsion), in the order the timeline holds them."""
        low = text.lower()
        out = []
        for event in self.timeline:
            for keyword in event.keywords:
                m = term_regex(keyword).search(low)
                if m and not someone_else(low[:m.start()], event.event, m.group(0)):
                    out.append(event)
                    break
        return out[:limit]

    def fate_asked(self, question: str, context: str = "") -> list[TimelineEvent]:
        """The timeline events that answer a question about what became of someone: "after he got
        expelled in 1927, what happened to him?" (his exile, deportation and murder), "how did trotsky
        die?", "was he deported right after?", "did they get shot too?". The person is the one the
        question names, or the subject of an event it names, or the one ``context`` (the last exchange)
        names most; none found, nothing is guessed."""
        fate = _FATE.search(question)
        if fate is None:
            return []
        def others(text: str) -> list[str]:
            return [m.lower() for m in PERSON_NAME.findall(text) if m.lower() not in ("lenin", "stalin")]

        named = next((g for g in fate.group("who", "dier", "asked", "subject") if g), "")
        people = [m.lower() for m in PERSON_NAME.findall(named)] or \
            others(question) or [e.event.split()[0].lower() for e in self.events_named(question)] or \
            [n for n, _ in Counter(others(context)).most_common(1)]
        if not people:
            return []
        asked = question[fate.start():fate.end() + 30]  # a lookahead's verb is not in the match
        act = re.search(r"\b(deport|exile|expel|arrest)", asked, re.I)
        if act:
            # "was he deported right after?": the deportation itself, whatever year the student has.
            acted = [e for e in self.fate_of(people[0], limit=len(self.timeline)) if act.group(1).lower() in e.event.lower()]
            if acted:
                return acted
            # "what happened to bukharin in the end, did he get exiled too?": he was not; what did happen
            # answers it (relay trial 49's model had no evidence and said his end was outside the course).
        # "after he got expelled in 1927": from the next year.
        years = [int(y) + bool(re.search(r"\bafter\b", question, re.I)) for y in re.findall(r"\b19[0-4]\d\b", question)]
        dying = bool(re.search(r"\b(?:die|shot|killed|executed|murdered)\b", asked, re.I))
        return self.fate_of(people[0], max(years, default=0), dying=dying)

    def fate_of(self, person: str, after: int = 0, limit: int = 3, dying: bool = False) -> list[TimelineEvent]:
        """What happened to a person from the year ``after``, by the timeline events they are the
        subject of ("Trotsky is exiled…", "…deported…", "…murdered…"), earliest first, their death
        always among them: "what happened to him after 1927?" (relay trial 24's model had no passage
        past 1929 and left his murder unsaid)."""
        mine = [e for e in self.timeline if e.event.lower().startswith(person.lower()) and int(e.date[:4]) >= after]
        death = next((e for e in mine if _DEATH.search(e.event)), None)
        if dying:
            return [death] if death is not None else []  # "how did he die?"
        # From a year, what came next; with none, how it ended.
        out = mine[:limit] if after else mine[-limit:]
        if death is not None and death not in out:
            out = out[:limit - 1] + [death]
        return out

    def date_errors(self, text: str) -> list[DateError]:
        """Years a student gives for a timeline event that disagree with the timeline.

        A keyword and a year must sit in the same sentence, joined only by linking words ("in",
        "was in", "of early", at most four), and each year belongs to the keyword nearest to it, so
        "Lenin died in 1924 and Trotsky left in 1929" checks each event against its own year
        and "the testament got published in the New York Times in 1924" is about the
        publication, not the writing. The nearest mistakes come first.
        """
        found: list[tuple[int, DateError]] = []
        seen: set[str] = set()
        for sentence in _SENTENCE.split(text):
            years = [(m.start(), m.end(), int(m.group())) for m in _YEAR.finditer(sentence)]
            if not years:
                continue
            low = sentence.lower()
            hits: list[tuple[int, int, TimelineEvent, str]] = []  # distance, year, event, keyword
            for event in self.timeline:
                best: tuple[int, int, TimelineEvent, str] | None = None
                for keyword in event.keywords:
                    m = term_regex(keyword).search(low)
                    if not m or someone_else(low[:m.start()], event.event, m.group(0)) or wished(low[:m.start()]):
                        continue
                    # "X in 1925" before "1924, X": a year after the keyword is the likelier date.
                    for y_start, y_end, year in sorted(years, key=lambda y: (y[0] < m.end(), abs(y[0] - m.end()))):
                        if y_start < m.end() and y_end > m.start():
                            continue  # the year is part of the keyword ("1923 congress")
                        after = y_start >= m.end()
                        between = low[m.end():y_start] if after else low[y_end:m.start()]
                        if len(between) > 60 or not _attached(between, year_first=not after):
                            continue
                        if not after and "," in between and not _OPENS_PHRASE.search(low[max(0, y_start - 30):y_start]):
                            # "In 1926, the …" opens a phrase; "General Secretary 1922, the funeral, …" is a
                            # list, and its year is the item's before it (offline trial 2).
                            continue
                        distance = len(between) + (0 if after else 20)
                        if best is None or distance < best[0]:
                            best = (distance, year, event, keyword)
                        break
                if best:
                    hits.append(best)
            owner: dict[int, int] = {}
            for distance, year, _, _ in hits:
                owner[year] = min(distance, owner.get(year, distance))
            for distance, year, event, keyword in hits:
                first, last = event.years
                if event.id in seen or first <= year <= last or distance > owner[year]:
                    continue
                found.append((distance, DateError(event, year, keyword, sentence.strip())))
                seen.add(event.id)
        return [e for _, e in sorted(found, key=lambda x: x[0])]


# "what happened to him / to Trotsky", "what became of Bukharin", "how did he die", "was he deported right
# after?", "did they get shot too?": a question about what became of someone. Not "how did Stalin win".
_FATE = re.compile(r"\b(?:what (?:\w+ly |really |exactly |then )?(?:happened|became) (?:to|of)\s+(?P<who>[\w']+)|"
                   r"(?:how )?did\s+(?P<dier>[\w']+)\s+(?:end up|die)\b|"
                   r"(?:was|were|did)(?=\s+[\w']+\s+(?:\w+\s+)?(?:get\s+|got\s+)?(?:deported|exiled|expelled|shot|killed|"
                   r"executed|arrested|murdered)\b)\s+(?P<asked>[\w']+)|"
                   r"\b(?P<subject>[\w']+)\s+(?:was|were|got|get)\s+(?:\w+\s+)?(?:deported|exiled|shot|killed|executed|"
                   r"arrested|murdered)\b)", re.I)
_DEATH = re.compile(r"\b(?:dies|murdered|killed|shot|executed)\b")
# The course's people by surname, as a student or a card writes them ("Trotsky's", "trotskyist").
# Joffe too: "his last speech, at Adolf Joffe's funeral in November 1927" is not Lenin's funeral (relay trial
# 59's model was refused for it).
PERSON_NAME = re.compile(r"\b(lenin|stalin|trotsky|zinoviev|kamenev|bukharin|rykov|tomsky|pyatakov|kirov|molotov|"
                         r"frunze|preobrazhensky|krupskaya|uglanov|dzerzhinsky|ordzhonikidze|joffe|kalinin|voroshilov)(?:'s)?",
                         re.I)


def someone_else(before: str, event: str, keyword: str = "") -> bool:
    """The person a keyword's clause is about (the last named before it, near it) is not in the
    event: "bukharin got expelled from the party in 1929" is not Trotsky and Zinoviev's expulsion
    of November 1927 (relay trial 20). A keyword that names its own person ("Lenin died") is
    about that person, whoever came before it ("Stalin won because Lenin died in 1925")."""
    if PERSON_NAME.search(keyword):
        return False
    window = before[-40:]
    names = list(PERSON_NAME.finditer(window))
    if not names:
        return False
    # The last name with those joined to it: "when were zinoviev and kamenev expelled?" is about Zinoviev
    # too, whom Trotsky's and Zinoviev's expulsion names (relay trial 63's question got no date).
    group = [names[-1]]
    for earlier in reversed(names[:-1]):
        if not re.fullmatch(r"\s*(?:,|and|&|\+|,\s*and)\s*", window[earlier.end():group[-1].start()]):
            break
        group.append(earlier)
    return not any(n.group(1).lower() in event.lower() for n in group)


def wished(before: str) -> bool:
    """The event is what someone wanted, not what happened: "they wanted Trotsky expelled in 1925"
    (Zinoviev's demand of January 1925) does not date his expulsion (relay trial 25's model was
    refused for reading it so)."""
    return bool(_WISHED.search(before[-50:]))


# Not "threatened to" nor "voted to": "Lenin threatened to break off relations" is itself the event.
_WISHED = re.compile(r"\b(?:wanted|wants?|demanded|demands?|called for|calling for|urged|tried to|trying to|"
                     r"pushed for|asked for|hoped|planned to|plotted to|wished)\b"
                     r"(?:\W+\w+){0,3}\W*$", re.I)


# Words that may stand between an event and its year without changing what the year dates:
# "the ban on factions in 1923", "Lenin's first stroke was in 1923", "the congress of early 1924".
# So may the verbs of making the thing itself ("the Declaration of the 46 was written in 1925").
# Any other word ("the Testament was read in 1924", "adopted in 1925") ties the year to another
# action, so events are named by keywords that carry their own verb ("Lenin died").
_MONTH_WORDS = " ".join(m.lower() for m in _MONTHS) + " jan feb mar apr jun jul aug sep sept oct nov dec"
_LINKING = frozenset(("""in of from on at by around about was were is had been being the a an its his their
during early late mid only autumn spring summer winter year
written drafted dictated signed sent issued formed founded created set up launched began started
introduced passed """ + _MONTH_WORDS).split())


# A year opening a phrase ("In April 1922, the …"): a month or season counts only after a preposition or
# at the start, since "gen sec april 1922, testament read to delegations may 1924" is a list whose
# years follow their items (relay trial 40's evidence dated the Testament's reading 1922).
_OPENS_PHRASE = re.compile(r"(?:^|[.;:!?]\s*|\b(?:in|by|from|during|after|since|until)\s+)(?:(?:early|late|mid)\s+)?"
                           r"(?:(?:the\s+)?(?:autumn|spring|summer|winter|" + _MONTH_WORDS.replace(" ", "|") +
                           r")\s+(?:of\s+)?)?$", re.I)


def _attached(between: str, year_first: bool) -> bool:
    """True when the text between a keyword and a year is only linking words (at most 4), with no
    clause break; a comma may only follow a year that opens the phrase ("In 1926, the ...")."""
    if re.search(r"[;:—–()]", between) or ("," in between and not year_first):
        return False
    words = re.findall(r"[a-z']+", between.lower())
    return len(words) <= 4 and all(w in _LINKING for w in words)


@lru_cache(maxsize=4096)
def term_regex(term: str) -> re.Pattern[str]:
    """A lesson term as a case-insensitive pattern: whole words, apostrophes optional
    ("Lenin's" matches "lenins"), and "..." standing for up to 25 characters of the same
    sentence ("Bukharin ... off the Politburo")."""
    parts = []
    for piece in re.split(r"\s*(?:\.\.\.|…)\s*", term.strip().lower()):
        p = re.sub(r"['’]", "['’]?", re.escape(piece))
        p = re.sub(r"(\\ )+", r"\\s+", p)
        parts.append(p)
    body = r"\b[^.;!?]{0,25}?\b".join(parts)
    return re.compile(rf"(?<![\w]){body}(?![\w])" if len(term) <= 5 else rf"(?<![\w]){body}", re.I)


def explain(err: dict) -> str:
    """A pydantic error as a teacher reads it: what is wrong and how to fix it."""
    kind, ctx, value = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    if kind == "string_too_long":
        return f"{err['msg']} (it has {len(value):,}); shorten it"
    if kind == "too_long":
        return f"{err['msg']}; keep the {ctx.get('max_length')} that matter most"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in ("list_type", "model_type", "dict_type", "string_type"):
        want = {"list_type": "a list (one '- ' line per item)", "model_type": "a mapping (field: value lines)",
                "dict_type": "a mapping (field: value lines)", "string_type": "text"}[kind]
        return f"must be {want}, not {type(value).__name__ if value is not None else 'empty'}"
    return err["msg"]


def _problems(path: Path, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"])
        out.append(f"{path.name}: {where or '(top)'}: {explain(err)}")
    return out


MAX_YAML_BYTES = 512 * 1024  # a card is a few kB; the field limits keep a valid one far below this
MAX_DEPTH = 12  # a card nests four deep (card, key_points, a key point, its terms)


def read_yaml(text: str | bytes, name: str) -> object:
    """The data in a YAML text; LessonError saying why it cannot be read (not UTF-8, too big,
    nested too deep, not YAML), each problem labelled with ``name``."""
    if len(text) > MAX_YAML_BYTES:
        raise LessonError([f"{name}: {len(text):,} bytes; a card file is at most {MAX_YAML_BYTES // 1024} kB "
                           "(each field of a card is limited in length: shorten them)"])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LessonError([f"{name}: not UTF-8 text (byte 0x{text[exc.start]:02x} at position {exc.start}); "
                               "save it as UTF-8"]) from None
    try:
        data = yaml.load(text, Loader=YAML_LOADER)  # the C loader where built: course cards load at every start
    except yaml.YAMLError as exc:
        raise LessonError([f"{name}: not valid YAML ({exc})"]) from None
    except RecursionError:
        raise LessonError([f"{name}: nested too deeply to read; a card nests at most {MAX_DEPTH} levels"]) from None
    if _depth(data) > MAX_DEPTH:
        raise LessonError([f"{name}: nested more than {MAX_DEPTH} levels deep; a card is a mapping of fields "
                           "and lists"])
    return data


def _depth(data: object) -> int:
    """How deep lists and mappings nest (without recursion: the data may be hostile)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _read_yaml(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LessonError([f"{path.name}: cannot be read ({exc.strerror})"]) from None
    return read_yaml(raw, path.name)


def load_lessons(corpus_dir: Path, known_docs: set[str] | None = None) -> Lessons:
    """Load and validate every card and the timeline; raise LessonError listing every problem."""
    problems: list[str] = []
    cards: list[LessonCard] = []
    for path in sorted((corpus_dir / "lessons").glob("*.y*ml")):
        try:
            data = _read_yaml(path)
            cards.append(LessonCard.model_validate(data))
        except LessonError as exc:
            problems.extend(exc.problems)
        except ValidationError as exc:
            problems.extend(_problems(path, exc))
    timeline: list[TimelineEvent] = []
    tl_path = corpus_dir / "timeline.yaml"
    if tl_path.is_file():
        try:
            rows = _read_yaml(tl_path) or []
            if not isinstance(rows, list):
                rows = (rows or {}).get("events", [])
            for n, row in enumerate(rows):
                try:
                    timeline.append(TimelineEvent.model_validate(row))
                except ValidationError as exc:
                    problems.extend(f"timeline.yaml: [{n}] {p.split(': ', 1)[1]}" for p in _problems(tl_path, exc))
        except LessonError as exc:
            problems.extend(exc.problems)

    ids = [c.id for c in cards]
    problems += [f"lessons: card id '{i}' is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    mc_ids = [m.id for c in cards for m in c.misconceptions]
    problems += [f"lessons: misconception id '{i}' is used twice" for i in sorted({i for i in mc_ids if mc_ids.count(i) > 1})]
    ev_ids = [e.id for e in timeline]
    problems += [f"timeline.yaml: event id '{i}' is used twice" for i in sorted({i for i in ev_ids if ev_ids.count(i) > 1})]
    if known_docs is not None:
        for card in cards:
            for kp in card.key_points:
                problems += [f"{card.id}.yaml: key_points.{kp.id}.sources: unknown document '{d}'"
                             for d in kp.sources if d not in known_docs]
            problems += [f"{card.id}.yaml: misconceptions.{m.id}.correct_doc: unknown document '{m.correct_doc}'"
                         for m in card.misconceptions if m.correct_doc not in known_docs]
        for event in timeline:
            problems += [f"timeline.yaml: {event.id}.docs: unknown document '{d}'" for d in event.docs if d not in known_docs]
    if problems:
        raise LessonError(problems)
    return Lessons(cards=cards, timeline=timeline)


def corpus_doc_ids(corpus_dir: Path) -> set[str]:
    """The ids of the shipped source documents (front-matter id or file name)."""
    from tutor.corpus import course_documents
    from tutor.documents import read_document

    return {read_document(p.name, p.read_bytes()).doc_id for p in course_documents(corpus_dir)}
