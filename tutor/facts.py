"""The claim checker: what a student's sentence claims, checked against the fact base.

Example::

    checker = FactChecker.load(Path("corpus"))
    [v.status for v in checker.check("Zinoviev called Stalin the outstanding mediocrity of our party")]
    # → ['contradicted']
    v = checker.contradicted("Rykov and Tomsky sided with Trotsky in 1927")[0]
    v.kind, v.doc, v.correct
    # → ('wrong_alliance', 'event-ban-on-factions', 'In 1927 Rykov and Tomsky were ...')

The API (stable; the tutor, the essay coach, the source coach and the dialogue engine use it):

- ``FactChecker.load(corpus_dir, embedder=None)`` builds a checker over ``corpus/facts/*.yaml``
  and ``corpus/timeline.yaml``. ``embedder`` (a LangChain ``Embeddings``, normally the MiniLM
  model) adds paraphrase matching of quotations whose words the student did not use.
- ``check(text) -> list[Verdict]``: one verdict per claim found, in text order.
- ``contradicted(text) -> list[Verdict]``: only the claims the fact base contradicts.
- ``Verdict``: ``status`` ("contradicted" | "supported" | "unknown"), ``kind`` (misattribution,
  wrong_date, wrong_office, wrong_alliance, wrong_faction, wrong_order, false_claim, or the
  relation for a supported claim), ``claim`` (a ``Claim``: subject, relation, object, year,
  negated, sentence), ``correct`` (the fact, in the project's words), ``fact_id``, ``doc`` (the
  corpus document) and ``passage`` (the sentence of that document that supports the fact),
  ``probe`` (a question that sends the student to the source), ``as_dict()`` and
  ``as_misconception()`` (the verdict as a card ``Misconception``: the chat turn probes it like one).

"unknown" is never an alarm: a claim the fact base is silent on is reported as unknown and
nothing is flagged. A claim is contradicted only when a fact covers the same subject, relation
and time and says otherwise.

How claims are read. A sentence is split into mentions: people (aliases, misspellings by
rapidfuzz: "Zinovev", "Trotksy"), offices, groups and wings, quotations and works (fuzzy phrase
match, and, with an embedder, a paraphrase of the quotation's gist), timeline events (their
keywords) and years ("1927", "in '24"). Relation cues (said/called/wrote, became/was made, led,
allied/sided/teamed up, against, before/after) tie them into claims. spaCy was considered: the
official ``en_core_web_sm`` is not on PyPI (only third-party re-uploads are), and a news-trained
parser reads student slang ("zinoviev n kamenev were w/ trotsky vs stalin") worse than cues over
a closed list of the course's people, posts and groups do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

from tutor.documents import YAML_LOADER
from tutor.lessons import (LessonError, Lessons, Misconception, TimelineEvent, load_lessons, someone_else, term_regex,
                           wished)

Status = Literal["contradicted", "supported", "unknown"]
_NAMED_FOR = re.compile(r"(?:'s|s)?\s+(?:enrol+ment|levy|recruitment)\b")
DEFAULT_PROBE = "What do the course sources give as the date and the order of events here?"
PROTAGONISTS = ("stalin", "trotsky", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky", "lenin")


# -- the fact base (pydantic models of corpus/facts/*.yaml) --------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _iso(v: object) -> object:
    if v is None:
        return None
    v = str(v)
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", v):
        raise ValueError("must be YYYY, YYYY-MM or YYYY-MM-DD")
    return v


class Sourced(_Strict):
    doc: str
    support: str = Field(min_length=6)


class Person(_Strict):
    id: str
    name: str
    aliases: list[str] = Field(min_length=1)


class Holder(Sourced):
    person: str
    start: str = Field(alias="from")
    end: str | None = Field(default=None, alias="to")
    chosen_by: str | None = None
    # The source says only that he held it by then ("by 1925 the Moscow party organisation, led by
    # Nikolai Uglanov, …"): an earlier start is not contradicted (relay trial 41 told a student that
    # Uglanov's 1924 appointment was wrong).
    start_at_latest: bool = Field(default=False, alias="from_at_latest")

    _dates = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _iso(v)))

    def covers(self, year: int) -> bool:
        return int(self.start[:4]) <= year <= (int(self.end[:4]) if self.end else 1940)

    def excludes(self, year: int) -> bool:
        """The source rules the year out: after the end, or before a start it dates exactly."""
        return year > (int(self.end[:4]) if self.end else 1940) or (
            year < int(self.start[:4]) and not self.start_at_latest)

    def began_otherwise(self, year: int) -> bool:
        """"He became … in <year>" is ruled out by the source's start."""
        start = int(self.start[:4])
        return year > start if self.start_at_latest else year != start

    @property
    def span(self) -> str:
        if self.start_at_latest:
            return f"by {_human(self.start)}" + (f" and until {_human(self.end)}" if self.end else "")
        return f"from {_human(self.start)}" + (f" to {_human(self.end)}" if self.end else "")


class Office(_Strict):
    id: str
    name: str
    aliases: list[str] = Field(min_length=1)
    holders: list[Holder] = Field(min_length=1)


class Denial(Sourced):
    id: str
    claim: str
    relation: str
    subject: str
    correct: str
    probe: str = Field(pattern=r"\?\s*$")
    # Regular expressions over the normalised sentence; a denial without them is read by code
    # (its relation names the reader in FactChecker._denials).
    patterns: list[str] = Field(default_factory=list)
    # How far before a pattern's match a negation still belongs to the claim. 0 for a pattern that
    # opens at its anchor ("funeral … in exile"), where a "wasn't at" before it is the true half.
    negation_window: int = Field(default=25, ge=0)
    # Sentences any of these match are about something else ("Trotsky organised the October 1917
    # coup" is no failed coup of the 1920s): the denial does not read them.
    unless: list[str] = Field(default_factory=list)

    @field_validator("patterns", "unless")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for p in v:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression ({exc})") from None
        return v


class Group(Sourced):
    id: str
    name: str
    aliases: list[str] = Field(min_length=1)
    members: list[str] = Field(min_length=1)
    against: list[str] = Field(default_factory=list)
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    wing: Literal["left", "right", "centre"]

    _dates = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _iso(v)))

    @property
    def years(self) -> tuple[int, int]:
        return int(self.start[:4]), int(self.end[:4])

    def covers(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]


class Quotation(Sourced):
    id: str
    text: str
    phrases: list[str] = Field(min_length=1)
    kind: Literal["phrase", "said", "wrote", "idea", "work"]
    author: str
    about: str | None = None
    coauthors: list[str] = Field(default_factory=list)
    date: str | None = None
    years: tuple[int, int]
    when: str
    gist: list[str] = Field(default_factory=list)
    source_note: str | None = None  # the corpus source note that presents this work

    _dates = field_validator("date", mode="before")(classmethod(lambda cls, v: _iso(v)))


class OtherAuthor(_Strict):
    name: str
    aliases: list[str] = Field(default_factory=list)


class FactBase(_Strict):
    """Everything in corpus/facts/ plus the timeline (dated events and their order)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    people: list[Person]
    offices: list[Office]
    denials: list[Denial] = Field(default_factory=list)
    groups: list[Group]
    quotations: list[Quotation]
    other_authors: dict[str, OtherAuthor] = Field(default_factory=dict)
    timeline: list[TimelineEvent] = Field(default_factory=list)

    @cached_property
    def person(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @cached_property
    def event(self) -> dict[str, TimelineEvent]:
        return {e.id: e for e in self.timeline}

    def name(self, pid: str) -> str:
        if pid in self.person:
            return self.person[pid].name.split()[-1]
        return self.other_authors[pid].name if pid in self.other_authors else pid

    def sourced(self) -> list[tuple[str, Sourced]]:
        """Every fact that cites a document, with a label for messages."""
        out: list[tuple[str, Sourced]] = []
        out += [(f"offices.{o.id}.{h.person}", h) for o in self.offices for h in o.holders]
        out += [(f"denials.{d.id}", d) for d in self.denials]
        out += [(f"groups.{g.id}", g) for g in self.groups]
        out += [(f"quotations.{q.id}", q) for q in self.quotations]
        return out

    def groups_of(self, pid: str, year: int | None = None) -> list[Group]:
        """The person's factions and alliances (in a year, or at any time)."""
        return [g for g in self.groups if pid in g.members and (year is None or g.covers(year))]

    def wings(self, pid: str) -> set[str]:
        return {g.wing for g in self.groups_of(pid)} - {"centre"}


FACT_FILES = ("people.yaml", "groups.yaml", "quotations.yaml")


def load_facts(corpus_dir: Path, known_docs: set[str] | None = None, lessons: Lessons | None = None) -> FactBase:
    """Load and validate corpus/facts/; raise LessonError (the `tutor lessons check` error) listing
    every problem with file and field."""
    directory = Path(corpus_dir) / "facts"
    data: dict[str, Any] = {}
    problems: list[str] = []
    for name in FACT_FILES:
        path = directory / name
        if not path.is_file():
            problems.append(f"facts/{name}: missing (the fact base needs {', '.join(FACT_FILES)})")
            continue
        try:
            loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            problems.append(f"facts/{name}: not valid YAML ({exc})")
            continue
        if not isinstance(loaded, dict):
            problems.append(f"facts/{name}: the top level must be a mapping of sections")
            continue
        for key, value in loaded.items():
            data.setdefault(key, value)
    if problems:
        raise LessonError(problems)
    if lessons is None:
        lessons = load_lessons(Path(corpus_dir))
    data["timeline"] = list(lessons.timeline)
    try:
        facts = FactBase.model_validate(data)
    except ValidationError as exc:
        raise LessonError([f"facts: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]) from None
    problems += _references(facts, known_docs)
    if problems:
        raise LessonError(problems)
    return facts


def _references(facts: FactBase, known_docs: set[str] | None) -> list[str]:
    problems: list[str] = []
    people = set(facts.person)
    authors = people | set(facts.other_authors)
    for kind, ids in (("people", [p.id for p in facts.people]), ("offices", [o.id for o in facts.offices]),
                      ("groups", [g.id for g in facts.groups]), ("quotations", [q.id for q in facts.quotations])):
        problems += [f"facts: {kind} id '{i}' is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for o in facts.offices:
        problems += [f"facts: offices.{o.id}: unknown person '{h.person}'" for h in o.holders if h.person not in people]
    for g in facts.groups:
        problems += [f"facts: groups.{g.id}: unknown person '{p}'" for p in [*g.members, *g.against] if p not in people]
        if g.years[0] > g.years[1]:
            problems.append(f"facts: groups.{g.id}: 'from' is after 'to'")
    for q in facts.quotations:
        problems += [f"facts: quotations.{q.id}: unknown author '{a}'" for a in [q.author, *q.coauthors]
                     if a not in authors]
        if q.about and q.about not in people:
            problems.append(f"facts: quotations.{q.id}: unknown person '{q.about}' in 'about'")
    for d in facts.denials:
        if d.subject not in people:
            problems.append(f"facts: denials.{d.id}: unknown person '{d.subject}'")
    if known_docs is not None:
        problems += [f"facts: {label}: unknown document '{f.doc}'" for label, f in facts.sourced()
                     if f.doc not in known_docs]
        problems += [f"facts: quotations.{q.id}.source_note: unknown document '{q.source_note}'"
                     for q in facts.quotations if q.source_note and q.source_note not in known_docs]
    return problems


# -- claims and verdicts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """What one sentence asserts: subject (a person or group id), relation, object, year."""

    subject: str
    relation: str  # said | wrote | held_office | led | allied_with | opposed | member_of | happened_in | before | ...
    object: str
    year: int | None = None
    negated: bool = False
    sentence: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "relation": self.relation, "object": self.object, "year": self.year,
                "negated": self.negated, "sentence": self.sentence}


@dataclass(frozen=True)
class Verdict:
    status: Status
    kind: str
    claim: Claim
    correct: str = ""
    fact_id: str = ""
    doc: str = ""
    passage: str = ""
    probe: str = ""

    @property
    def sentence(self) -> str:
        return self.claim.sentence

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "kind": self.kind, "claim": self.claim.as_dict(), "correct": self.correct,
                "fact": self.fact_id, "doc": self.doc, "passage": self.passage, "probe": self.probe}

    @property
    def question(self) -> str:
        """The probe without its quotation of the source, for a reply that quotes the passage itself."""
        return " ".join(re.sub(r"(?:The source says:?|One says)\s*“[^”]*”", " ", self.probe).split())

    def as_misconception(self) -> Misconception:
        """A contradicted verdict in the shape of a lesson card's misconception, so the dialogue
        engine probes it exactly like one: its probe question, the correcting document's passage,
        and never praise (id ``fact:<fact id>``)."""
        if self.status != "contradicted":
            raise ValueError("only a contradicted verdict is a misconception")
        # Every contradicted verdict probes, even one built without a question of its own (relay trial 39:
        # "kicked out of the party right after lenin died" crashed the turn on an empty probe).
        return Misconception(id=f"fact:{self.fact_id}", triggers=[re.escape(self.sentence[:80]) or "$^"],
                             why_wrong=self.correct, probe=self.question or DEFAULT_PROBE, correct_doc=self.doc)


# -- reading a sentence ---------------------------------------------------------------------------------
# "an" is text-speak for "and" only before a consonant: before a vowel it is the article ("won an
# election" read as "won and election", and the claim of a popular vote went unchecked).
_SLANG = [(r"\b(?:n|&|nd)\b(?=\s+[a-z])|\ban\b(?=\s+[b-df-hj-np-tv-z])", "and"), (r"(?<=[a-z])\s*\+\s*(?=[a-z])", " and "), (r"\bw/(?=\s|\w)", "with "), (r"\bthe (\w+) (?:vs\.?|versus) (\w+) (thing|question|debate|essay|topic|stuff|struggle|rivalry|part|bit)\b", r"the \1 and \2 \3"),
          (r"\bvs\.?(?=\s)", "against"),
          (r"\bversus\b", "against"), (r"\bb4\b", "before"), (r"\bbc\b|\bcuz\b|\bcos\b", "because"),
          (r"\bwas like\b", "was"), (r"\b(?:totally|basically|literally|kinda|like totally|lowkey|deffo|defo)\b", ""),
          (r"\b(?:ganged|teamed) up (?:on|against)\b", "allied against"), (r"\bteamed up\b", "allied"), (r"\bbesties\b|\bbffs?\b|\bmates\b|\bpals\b|\bbuddies\b", "allies"),
          (r"\bganged up\b", "allied"), (r"\bgen(?:eral)? ?sec\b", "general secretary"), (r"\bu\b", "you"),
          (r"[’‘`]", "'"), (r"[“”]", '"'), (r"\bon ([a-z]+)'s side\b", r"on the side of \1")]
_TAKEN_BACK = re.compile(r"\b(?:scratch that|ignore (?:that|what i said)|forget (?:that|what i said)|i was wrong|"
                         r"i take (?:that|it) back|i got that wrong|my bad|no wait|wait no)\b[\s,.;:!-]*", re.I)
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_COUNTED = re.compile(r"\s*(?:%|per\s*cent|days?|weeks?|months?|years?|hours?|minutes?|votes?|members?|people|men|"
                      r"delegates?|times|of\s+them|or\s+so)\b")
_YEAR = re.compile(r"\b(?:(1[89]\d\d)|(?:in|by|of|from|during|until|till|to|circa|c\.)\s+'?(1\d|2\d)|'(1\d|2\d))\b")
_NEGATION = re.compile(r"\b(?:not|never|no|didn't|did not|wasn't|was not|weren't|were not|isn't|nor|neither|"
                       r"rather than|instead of|wrongly|falsely|incorrectly|mistakenly|myth|"
                       r"didnt|wasnt|werent|isnt|nobody|no one|noone|"
                       # "who decided that Lenin's Testament wouldn't be read to the full congress" (relay trial 74)
                       r"wouldn't|would not|wouldnt|won't|will not|couldn't|could not|couldnt|hadn't|had not|hadnt)\b")
# "i dont think stalin became general secretary in 1922" denies it (relay trial 73)
_DENY = r"\bi (?:don'?t|do not|didn'?t|did not) (?:think|believe|reckon)"
_I_DENY = re.compile(_DENY + r"\b")
_NOT_BEFORE = re.compile(r"(?:\bnot|\bnever|\bnor|\brather than|\binstead of|\bunlike|\bnot by|" + _DENY + r")\s*(?:even\s+)?$")
_SAY = re.compile(r"\b(?:said|says|say|saying|call(?:ed|s|ing)?|wrote|writes|written|write|describ(?:ed|es|ing)|"
                  r"dubb(?:ed)?|dubs|label+(?:ed|ing|s)?|nam(?:ed|es)|coin(?:ed|s)?|referr?(?:ed|ing)? to|"
                  r"nicknam(?:ed|es)|mock(?:ed|s)|sneer(?:ed|s)?|insult(?:ed|s)?|reckon(?:ed|s)?|claim(?:ed|s)?|"
                  r"compar(?:ed|es)|branded|dismiss(?:ed|es)|put it|phrase|words|quote|quoted|remark|comment|"
                  r"propos(?:ed|es)|put forward|came up with|invent(?:ed|s)?|develop(?:ed|s)?|thought up|"
                  r"argu(?:ed|es)|publish(?:ed|es)?|author(?:ed)?|penn?(?:ed)|dictat(?:ed|es)|idea|theory|slogan|"
                  r"term|book|article|essay|letter|speech|lecture|lectures|told|urged|warned|according to|"
                  r"in the words of|by|from|'s)\b|'s\b")
_WRITE = re.compile(r"\b(?:wrote|written|write|writes|writing|authored|published|publishes|penn?ed|dictated|"
                    r"drafted|composed|co-?wrote|co-?written|signed|issued|produced)\b")
_INVERTED_NEGATIVE = re.compile(r"^(\W*(?:(?:u+m+|so|but|and|ok|okay|wait|well|hmm+|like|then|also)\W+)*)"
                                r"(wasn'?t|weren'?t|didn'?t|isn'?t|aren'?t|hadn'?t|doesn'?t)"
                                r"(?=\s+(?:the|it|he|she|they|that|this|his|lenin|stalin|trotsky|zinoviev|kamenev|bukharin|"
                                r"rykov|tomsky|kirov|krupskaya)\b)")
_POSITIVE = {"wasnt": "was", "werent": "were", "didnt": "did", "isnt": "is", "arent": "are", "hadnt": "had",
             "doesnt": "does"}
_OWN_WRITING = re.compile(r"\b(?:i|we|you|u)(?:'ll|'d| will| would| should| could| can| had to| have to| need to| want to|"
                          r"'m going to| am going to| gonna| wanna| might| must)?\s+(?:\w+\s+)?$")
_SAY_VERB = re.compile(r"\b(?:said|says|say|saying|call(?:ed|s|ing)?|wrote|writes|written|write|describ(?:ed|es|ing)|"
                       r"dubb(?:ed)?|dubs|label+(?:ed|ing|s)?|nam(?:ed|es)|coin(?:ed|s)?|referr?(?:ed|ing)? to|"
                       r"nicknam(?:ed|es)|mock(?:ed|s)|sneer(?:ed|s)?|insult(?:ed|s)?|reckon(?:ed|s)?|claim(?:ed|s)?|"
                       r"compar(?:ed|es|ing)|branded|dismiss(?:ed|es)|put it|propos(?:ed|es)|put forward|came up with|"
                       r"invent(?:ed|s)?|develop(?:ed|s)?|thought up|argu(?:ed|es)|publish(?:ed|es)?|author(?:ed)?|"
                       r"penn?ed|dictat(?:ed|es)|told|urged|warned|stated|declared|thought|believed|saw|seen|"
                       r"regarded|considered|dismissed|described)\b")
# Words between a person and a post that make the post someone else's ("Stalin's supporters took
# over the Leningrad party") or put it in another clause.
_OTHER_SUBJECT = re.compile(r"[;:()]|\b(?:than|because|but|which|when|while|whose|and|supporters?|allies|ally|"
                            r"opponents?|followers?|men|rivals?|critics?|enemies|friends?|nominees?|people|"
                            r"delegates?|protégés?|proteges?|clients?|machine|absence|funeral|death|backing|support|"
                            # "after lenin died in 1924 he got made gen sec": the post is the next subject's, not
                            # Lenin's (offline trial 14 said "never Lenin" of a claim about Stalin)
                            r"died|dies)\b")
_SUBORDINATE = re.compile(r"\b(?:after|before|when|until|once|since|because|while|whereas|though|although)\b")
# A new clause begun without punctuation by a pronoun and its verb ("… he was in charge of …").
_RESTART = re.compile(r"\b(?:he|she|they)\s+(?:was|were|is|had|became|held|ran|led)\b")
# A year whose phrase opens its clause ("In 1927, Trotsky was expelled"), so a comma after it does not
# end what it dates; "illness in autumn 1923, missing Lenin's funeral" is a list, each item its own.
_OPENS_CLAUSE = re.compile(r"(?:^|[,;:(]|\b(?:and|but|then|so))\s*(?:in|by|during)\s+(?:\w+\s+)?'?$")
_TAG_QUESTION = re.compile(r"[\s,]+(?:right|yeah|yes|correct|true|innit|isn't it|wasn't it|didn't he|wasn't he|no)\W*$")
_HE_BEFORE = re.compile(r"\b(?:he|she)\s+(?:\w+\s+){0,2}$")


def _someone_else_he(low: str, m: "Mention") -> bool:
    """An event said of a "he" nothing resolved, in a sentence that names a rival separately: "and then he
    got expelled from the party in 1929 same time trotsky got kicked out" (he being Bukharin, relay trial
    50). With no rival named, the "he" is the event's own ("he was kicked out of the country in 1925")."""
    if not _HE_BEFORE.search(low[max(0, m.start - 30):m.start]):
        return False
    return bool(_PROTAGONIST.search(low[:max(0, m.start - 30)] + " " + low[m.end:]))


# A question that takes a claim as given: "was it just that X?", "is it true that X?", "isn't it because X?".
_EMBEDDED_CLAIM = re.compile(r"^\W*(?:(?:so|and|but|ok|okay|or|then)\W+)?(?:was it|is it|isn'?t it|wasn'?t it)\s+"
                             r"(?:(?:just|only|really|simply|mainly|mostly|true|also)\s+)*(?:that|because|bc|cos|cuz)\s+"
                             r"(?P<claim>[^?]{12,})\?*\s*$", re.I)
_SAID_IT = re.compile(r"\b(?:said|say|says|wrote|write|used|use|coined|made|gave)\s+it\s+(?:in|around|back in|during)\s+"
                      r"(?:early\s+|late\s+|mid-?)?(?:[a-z]+\s+)?$")
_NOT_THINK = re.compile(r"\b(?:don'?t|do not|didn'?t|did not|never)\s+(?:really\s+)?(?:think|believe|reckon|thought)\s+"
                        r"(?:that\s+)?(?:the\s+)?(?:idea\s+of\s+)?$")
_POSSESSIVE_TAIL = re.compile(r"^'s?\b")
# "was Stalin's", "was Stalin's idea", "was Bukharin's, not Stalin's": the possessive owns the quotation itself.
_OWNED_ALONE = re.compile(r"'s?(?:\s*$|\s*[,.;:!?)\"'”]|\s+(?:[\w-]+\s+){0,2}(?:idea|phrase|words?|"
                          r"theory|slogan|work|book|line|quote|term|policy|plan|doing|invention|creation|coinage|label|description|verdict|"
                          r"view|nickname|insult|put-down|jibe|remark|comment|characteri[sz]ation|quip|dismissal|sneer|"
                          r"judgement|name)s?\b|"
                          r"\s+(?:and|not|but|or|though|tho|too|either|i think|right|lol|originally|really|all along)\b)")
_SUPPOSING = re.compile(r"\b(?:if|what if|suppose|supposing|imagine)\s+(?:\w+\s+){0,2}$")
_WHAT_IF = re.compile(r"\b(?:could|would|might|should|couldve|wouldve|mightve|if)\b|(?:could|would|might)n?'?t?'?ve\b")
_APPEARS = re.compile(r"\b(?:look(?:s|ed|ing)? like|seem(?:s|ed)?|appear(?:s|ed)?|as if|as though|portray(?:s|ed)?|"
                      r"present(?:s|ed)? (?:himself|itself)|pose[sd]? as|image)\b")
# "Max Eastman's account of the Testament" (relay trial 10): his writing about the document, not the document.
_ABOUT_IT = re.compile(r"\b(?:accounts?|version|story|report|copy|copies|publication|leak|summary|reading|"
                       r"interpretation|book|articles?|use|handling|suppression|treatment|memoirs?|history)\s+"
                       r"(?:of|about|on)\b|"
                       # "Trotsky's silence over the Testament", "his attack on it": what he did about it
                       r"\b\w+\s+(?:over|about|on|against|towards?|regarding|concerning)\s+(?:the\s+|his\s+|its\s+)?$")
_BECAME = re.compile(r"\b(?:became|become|becomes|becoming|made|appointed|elected|named|chosen|picked|promoted|"
                     r"took over|take over|given|got|gets|won|installed|rose to)\b")
# "his position as General Secretary, which he held from 1917" (offline trial 11's essay)
# "the key date is April 1922, when Stalin became General Secretary" (relay trial 36's evidence dated it 1921)
_ENTRY_YEAR = re.compile(r"\s*[,:(-]?\s*(?:in\s+)?1[89]\d\d\b")
_WHEN_BEFORE = re.compile(r"(1[89]\d\d)\s*,?\s*when\b[^,;.]{0,40}$")
_HELD_SINCE = re.compile(r"\s*,?\s*(?:which|that) (?:he|she|stalin|trotsky) (?:had )?(?:held|had|kept|got|took|was given)"
                         r"\s+(?:from|since|in)\s+(1[89]\d\d)\b")
_BACK_DATED = re.compile(r"\b(?:that|this|which|it)\s+(?:was|happened|took place)\s+(?:in\s+)?(1[89]\d\d)\b")
_BY_BEFORE = re.compile(r"\b(?:by|before)\s+(?:the\s+end\s+of\s+|early\s+|late\s+|mid-?)?$")
_BY_YEAR = re.compile(r"\b(?:by|before)\s+(?:the\s+end\s+of\s+|early\s+|late\s+|mid-?)?(1[89]\d\d)\b")
_REMOVED = re.compile(r"\b(?:removed|sacked|lost|loses|dismissed|ousted|replaced|fired|stripped|kicked out|"
                      r"pushed out|forced out|resigned|gave up|dropped|stopped|quit|left)\b")
_HELD = re.compile(r"\b(?:was|were|is|as|been|being|had|has|held|hold|holds|served|became|made|appointed|elected|named|chosen|"
                   r"promoted|took over|given|got|the|led|ran|run|runs|headed|head|chaired|controlled|boss|"
                   r"in charge|installed|rose to|stayed|remained|still|kept|edit|edited|editing|edits|'s)\b")
# "were on trotskys side": the cue is "on", so the person whose side it is comes after it (relay trial 14).
_ALLY = re.compile(r"\b(?:on(?=\s+[a-z]+'?s\s+side\b)|allied|allies|ally|alliance|allying|sided|side with|on the side of|same side|joined "
                   r"(?:forces )?with|joined|worked with|working with|backed|backing|supported|supporting|together "
                   r"with|united with|teamed|bloc with|in league with|partner(?:ed|s)?|partnership|friends with|"
                   r"aligned|alongside|stood with|stood by|voted with|coalition|cooperated|collaborated|"
                   r"went over to|gone over to|going over to|switched to|defected to|"
                   r"with)\b")
_AGAINST = re.compile(r"\b(?:against|opposed|opposing|oppose|fought|fight|fighting|attacked|attack|turned on|"
                      r"turned against|broke with|(?<!former )(?<!old )(?<!one-time )(?:enemies|enemy|rivals?)|clashed|defeated|beat|to stop|to block|"
                      r"to defeat|to oppose|to remove|to get rid of|vs|fell out|falling out|split with|split from|"
                      r"quarrell?ed|broke up)\b")
_DATE_PHRASE = re.compile(r"\b(?:in|by|from|until|after|before|during)\s+(?:early\s+|late\s+|mid-?)?(?:[a-z]+\s+)?1[89]\d\d\b")
_MEMBER = re.compile(r"\b(?:was|were|is|in|part of|member|members|joined|belonged|belong|led|leader|leaders|formed|form|"
                     r"founded|on|of|with|within|inside|headed|a|an)\b")
_STANCE_ON = re.compile(r"\b(?:back(?:ed|ing|s)?|defend(?:ed|ing|s)?|support(?:ed|ing|s)?|champion(?:ed|ing|s)?|"
                        r"accept(?:ed|ing|s)?|adopt(?:ed|ing|s)?|oppos(?:e|ed|es|ing)|attack(?:ed|ing|s)?|reject(?:ed|ing|s)?|"
                        r"critici[sz](?:e|ed|es|ing)|believed in|agreed with|embraced|endorsed|upheld|argued (?:for|against))"
                        r"\s+(?:the\s+)?(?:idea of\s+|theory of\s+|doctrine of\s+|policy of\s+)?$")
_WING_VERB = re.compile(r"(?:led|joined|headed|head of|leader of|a leader of|part of|member of|belonged to|on|in)\b")
_QUESTION_OPENING = re.compile(
    r"(?:why|how|what|whats|what's|who|whom|whose|when|where|which|was|were|did|does|do|is|are|had|has|have|"
    r"could|would|can|should|will|wasn't|didn't|isn't|i wonder|is it true|in what way|to what extent)\b")
_WH = {"why", "how", "what", "whats", "what's", "who", "whom", "whose", "when", "where", "which", "in what way",
       "to what extent"}
_AUX = re.compile(r"(?:was|were|did|does|do|is|are|had|has|have|could|would|can|should|will|didn't|wasn't|"
                  r"much|many|long|far|exactly|happened|made|caused|led)\b")
# "until 1928", "from 1925 to 1928": the last year named is the year they split.
_UP_TO = re.compile(r"\b(?:until|till|til|up to|up until|still|early|beginning of|start of)\b|"
                    r"\b1\d\d\d\s*(?:-|–|to)\s*'?(?:1\d)?\d\d\b")
# Words that say outright that two people were allies (not "worked with" or "with").
_ALLY_STRONG = re.compile(r"\b(?:allied|allies|ally|alliance|sided|on the side of|same side|bloc with|"
                          r"in league with|teamed|went over to|gone over to|defected to)\b")
# "Stalin + Trotsky vs Zinoviev and Kamenev": a side named together against others stood together
# (offline trial 5). Not "both attacked" (each on his own) nor a quarrel ("fell out with").
_SIDE_AGAINST = re.compile(r"against|to get rid of|to defeat|to remove|to stop|to block|to oppose")
# Where one clause of a sentence ends and the next begins, for a negation's reach.
# "the testament didnt finish him off because lenin said trotsky should take over": a negation before
# "because" is the main clause's, not the reason's (relay trial 55's evidence read the claim as a denial).
_CLAUSE_BREAK = re.compile(r"\s[-–—]+\s|[;:]|,\s*(?:so|but|and then|because|which)\b|\bbut\b|\b(?:because|bc|cos|cuz)\b")
_MIXED_UP = re.compile(r"\b(?:mix(?:ed)?\s+up|mixing\s+up|mixed|confus(?:e|ed|ing)|mistook|muddl(?:e|ed)|"
                       r"got\s+\w+\s+muddled|swapped|compar(?:e|ed|ing))\b[^.;]{0,40}$")
_ALWAYS = re.compile(r"\b(?:from the (?:start|beginning|outset|very start|very beginning)|all along|always|"
                     r"the whole time|throughout the (?:1920s|twenties|period|struggle)|from day one|ever since)\b")
# "right after", "soon after": the claim is that one followed close on the other.
_SOON = re.compile(r"\b(?:right|just|straight|soon|immediately|shortly|directly|straightaway)\s+$")
_ORDER = re.compile(r"\b(?:before|after|then|followed by|preceded|earlier than|later than|prior to|"
                    r"came after|came before|until|once)\b")
# "what i dont get is lenins testament. it got read out to the whole congress": what happened to "it"
# is what happened to the document the sentence before named (relay trial 34 found no evidence).
_WORK = re.compile(r"\b(lenin'?s testament|the testament|testament|letter to the congress|lessons of october|"
                   r"the new course|declaration of the 46)\b", re.I)
_IT_HAPPENED = re.compile(r"^(\W*(?:and|but|so|then|because|cos)?\s*)it\s+(?=(?:got|was|wasn'?t|had been|has been)?\s*"
                          r"(?:read|shown|published|printed|put|kept|hidden|suppressed|released|leaked|given|sent|"
                          r"handed|written|dictated|discussed|debated|burned|burnt|destroyed|ignored)\b)", re.I)


# The rivals by surname, for patterns whose subject is one of them (Lenin is no rival).
_RIVALS = "|".join(p for p in PROTAGONISTS if p != "lenin")
_OPENING_SUBJECT = re.compile(r"^(?:\W*(?:so|basically|ok|okay|and|but|well|i think|like|hi|hey)\b[\s,]*)*"
                              rf"({_RIVALS})\b", re.I)
_HE_AFTER_LINK = re.compile(r"(\b(?:because|cos|so|and then|and|then|since|after|before|once|when|until|but|as)\s+(?:in\s+1[89]\d\d\s+)?)"
                            r"he(?:'d| had)?\b", re.I)


def _he_resolved(sentence: str) -> str:
    """"stalin won because he'd been general secretary since 1917 … and then in 1924 he brought in NEP":
    a "he" joined by a conjunction to a sentence that opens with one rival as its subject, with no other
    person named before it, is that rival (relay trial 37's evidence found nothing in either clause)."""
    opening = _OPENING_SUBJECT.match(sentence)
    if not opening:
        return sentence
    name = opening.group(1)
    first_he = _HE_AFTER_LINK.search(sentence)
    others = [p for p in PROTAGONISTS if p != name.lower()]
    if not first_he or re.search(r"\b(?:" + "|".join(others) + r")\b", sentence[:first_he.start()], re.I):
        return sentence
    cut = next((m.start() for m in re.finditer(r"\b(?:" + "|".join(others) + r")\b", sentence, re.I)), len(sentence))
    head, tail = sentence[:cut], sentence[cut:]
    return _HE_AFTER_LINK.sub(lambda m: m.group(1) + name + (" had" if m.group(0).lower().endswith(("'d", " had")) else ""),
                              head) + tail


_FATE_AFTER_AND = re.compile(
    r"\b(?P<subj>" + _RIVALS + r"|he)\b"
    r"(?P<mid>\s+(?:was\s+|got\s+|had\s+been\s+|had\s+)?(?:\w+ed|thrown|beaten|driven|taken|sent)\b[^.;?!]{0,90}?\band\s+"
    r"(?:then\s+|later\s+|soon\s+|eventually\s+|finally\s+)?(?:was\s+|got\s+)?)"
    r"(?=(?:killed|murdered|shot|assassinated|executed|exiled|deported|expelled)\b)", re.I)


def _fate_carried(sentence: str) -> str:
    """ "i thought he got expelled in 1927 and then killed like straight away in 1929": the second verb
    shares the first one's subject, a rival named or the "he" after the one rival the sentence names
    (relay trial 41's evidence found nothing, and the 1940 murder never reached the model)."""
    m = _FATE_AFTER_AND.search(sentence)
    if not m:
        return sentence
    name = m.group("subj")
    if name.lower() == "he":
        named = {p for p in PROTAGONISTS if re.search(rf"\b{p}\b", sentence[:m.start()], re.I)}
        if len(named) != 1 or named == {"lenin"}:
            return sentence
        name = named.pop()
    rest = sentence[m.end():]
    # "in 1929 bukharin got expelled and executed": the year that opens the clause dates both verbs.
    opening = re.search(r"\bin\s+(1[89]\d\d)\s*,?\s*$", sentence[:m.start()], re.I)
    if opening and not re.match(r"\w+\s+(?:\w+\s+){0,3}?(?:in|by)\s+1[89]\d\d\b", rest):
        fate = re.match(r"\w+", rest).group(0)
        rest = f"{fate} in {opening.group(1)}{rest[len(fate):]}"
    return sentence[:m.end()] + name + " " + rest


_OPENING_HE = re.compile(r"^(\W*(?:and|but|so|also|then|yet)?\s*(?:i (?:thought|think|guess|reckon|believe|assumed)\s+"
                         r"(?:that\s+)?)?)(he(?:'d| had|'s)?)\b", re.I)
_PROTAGONIST = re.compile(r"\b(" + "|".join(PROTAGONISTS) + r")\b", re.I)


def _he_from_previous(sentence: str, previous: str) -> str:
    """The sentence with an opening "he" read as the one rival the sentence before it names: "The bit I'm
    less sure about is Trotsky's side of it. He'd famously dismissed Stalin as a 'grey blur'" is
    Trotsky's claim (relay trial 49's evidence found nothing in it)."""
    opening = _OPENING_HE.match(sentence)
    named = {m.group(1).lower() for m in _PROTAGONIST.finditer(previous or "")}
    if not opening or len(named) != 1:
        return sentence
    name = next(iter(named)).capitalize()
    pronoun = opening.group(2).lower()
    said = name + (" had" if pronoun.endswith(("'d", " had")) else " is" if pronoun.endswith("'s") else "")
    return opening.group(1) + said + sentence[opening.end():]


_RIVAL_NAMED = re.compile(r"\b(" + _RIVALS + r")(?:'?s)?\b", re.I)
_FATE_VERB = r"(?:killed|murdered|shot|executed|exiled|deported|expelled|arrested|tried|purged|kicked out)"
_HIM_FATE = re.compile(r"\b(?P<subj>" + _RIVALS + r")\s+"
                       r"(?:(?P<had>had|got|gets|has|have)\s+him\s+(?=" + _FATE_VERB + r"\b)|"
                       r"(?P<verb>" + _FATE_VERB + r")\s+(?P<object>him|" + _RIVALS + r")\b)", re.I)


def _him_resolved(sentence: str, previous: str) -> str:
    """ "socialism in one country was bukharins idea … and thats why stalin had him executed in 1929":
    the "him" a rival had killed or exiled is the one other rival named before it in the sentence, or
    else in the sentence before (relay trial 56's evidence never saw the 1938 trial); "stalin exiled
    trotsky" is said as what happened to Trotsky, the form the timeline's keywords take."""
    m = _HIM_FATE.search(sentence)
    if not m:
        return sentence
    if m.group("verb") and m.group("object").lower() != "him":
        # "stalin exiled trotsky in 1927": the timeline keys the event on the one it was done to.
        return sentence[:m.start()] + f"{m.group('object')} was {m.group('verb')}" + sentence[m.end():]
    subject = m.group("subj").lower()
    for text in (sentence[:m.start()], previous or ""):
        named = {n.group(1).lower() for n in _RIVAL_NAMED.finditer(text)} - {subject}
        if named:
            break
    if len(named) != 1:
        return sentence
    other = named.pop().capitalize()
    if m.group("had"):
        done = f"{m.group('subj')} {m.group('had')} {other} "
    else:
        done = f"{other} was {m.group('verb')}"
    return sentence[:m.start()] + done + sentence[m.end():]


def _it_resolved(sentence: str, previous: str) -> str:
    """The sentence with an opening "it" that was done to a document named just before as that document."""
    work = _WORK.search(previous) if previous else None
    if not work or _WORK.search(sentence):
        return sentence
    return _IT_HAPPENED.sub(lambda m: f"{m.group(1)}the {work.group(1).removeprefix('the ')} ", sentence, count=1)


# Who won a vote, or where: a congress or a committee vote, or another side's win, is no popular vote.
_PARTY_VOTE = re.compile(r"\b(?:congress|conference|central committee|plenum|politburo|orgburo|delegates)\b")
_OTHER_SIDE = re.compile(r"\b(?:left|right|opposition|oppositionists|trotsky|zinoviev|kamenev|bukharin|rykov|they|trotskyists)\b")
def _party_win(low: str, found: re.Match) -> bool:
    """ "the Left won the vote at the 15th Congress": a congress's vote, or another side's win, is no
    popular vote (offline trial 9 answered it "No popular vote made Stalin leader")."""
    return found.group(0).startswith(("win", "won")) and bool(
        _PARTY_VOTE.search(low) or _OTHER_SIDE.search(low[max(0, found.start() - 40):found.start()]))


_ELECTED_BY_PEOPLE = re.compile(
    r"\b(?:(?:elected|voted in|voted for|chosen|picked|selected|put in power)\b[^.]{0,40}\bby (?:the )?(?:soviet |"
    r"russian )?(?:people|public|voters|citizens|population|masses|nation|electorate|country|workers)|"
    r"(?:won|win|winning|wins) (?:an?|the) (?:\w+ )?(?:election|elections|vote|popular vote)|democratically elected|"
    # "i thought he was voted in like a president after lenin" (offline trial 10)
    r"(?:elected|voted in|chosen)\b[^.]{0,15}\b(?:like|as) (?:a |the )?president|"
    r"(?:popular|general|national|public|democratic) (?:vote|election|elections|ballot)|"
    # "those people voted for him" (the men he appointed) is no popular vote.
    # …nor do "Stalin's people chose them" (relay trial 5: his appointees chose the delegates).
    r"(?<!those )(?<!these )(?<!his )(?<!such )(?<!same )(?<!new )(?<!appointed )(?<!loyal )(?<!'s )(?<!s' )"
    r"(?:people|public|voters|citizens|russians|masses|nation) (?:elected|voted for|voted in|chose|picked))\b")
_SUCCESSOR = re.compile(
    r"\blenin\b[^.]{0,40}?\b(?:named|chose|chosen|picked|appointed|designated|anointed|wanted|made|declared|"
    r"nominated|selected|hand-?picked)\b[^.]{0,40}?\b(?:successor|heir|replacement|next leader)|"
    r"\blenin's (?:chosen|named|designated|hand-?picked|official|preferred|appointed) (?:successor|heir)|"
    r"\b(?:successor|heir)\b[^.]{0,20}\b(?:chosen|named|picked|appointed) by lenin\b")
_SIGNED = re.compile(r"\b(?:signed|signatory|signatories|co-?signed|put his name)\b")
_WING = re.compile(r"\b(?:(?:on|of|to|with|in|led|joined|leader of|part of|member of|belonged to|sided with|"
                   r"head of|a leader of)\s+the\s+(left|right)(?:[- ]wing)?(?:\s+(?:of the party|faction|wing|"
                   r"opposition))?\b(?!\s+(?:to|after|away|of way))|\b(left|right)[- ]wing(?:er)?s?\b|\b(left|right)"
                   r"ists?\b|^\s*the\s+(left|right)\b(?=\s+(?:was|were|is|are|consisted|included|meant)\b))")


@dataclass
class Mention:
    kind: str  # person | office | group | quote | event | wing
    id: str
    start: int
    end: int
    negated: bool = False


class FactChecker:
    """Reads the claims in a text and gives each a verdict against the fact base."""

    # rapidfuzz ratio for a misspelt name ("Zinovev" 93, "Trotksy" 86); "Leninism" (77) is not Lenin.
    NAME_CUTOFF = 84
    PHRASE_CUTOFF = 90
    GIST_CUTOFF = 0.72

    def __init__(self, facts: FactBase, embedder=None):
        self.facts = facts
        self.embedder = embedder
        self._names: dict[str, str] = {}
        for p in facts.people:
            for a in p.aliases:
                self._names[a.lower()] = p.id
        for aid, other in facts.other_authors.items():
            for a in other.aliases:
                self._names[a.lower()] = aid
        self._single = {k: v for k, v in self._names.items() if " " not in k and len(k) >= 5}
        self._gists: list[tuple[Quotation, list[float]]] | None = None

    def names_person(self, name: str) -> bool:
        """True when ``name`` is one of the fact base's names for a person ("Trotsky", "Rykov")."""
        return name.lower().strip() in self._names

    # The patterns are compiled on the first claim checked, not at start-up: a few hundred regular
    # expressions (about 0.2 s) that a question, which claims nothing, never uses.
    @cached_property
    def _offices(self) -> list[tuple[Office, list[re.Pattern[str]]]]:
        return [(o, [term_regex(a) for a in o.aliases]) for o in self.facts.offices]

    @cached_property
    def _groups(self) -> list[tuple[Group, list[re.Pattern[str]]]]:
        return [(g, [term_regex(a) for a in g.aliases if a.lower() not in ("the right",)]) for g in self.facts.groups]

    @cached_property
    def _events(self) -> list[tuple[TimelineEvent, list[re.Pattern[str]]]]:
        return [(e, [_loose(k) for k in e.keywords]) for e in self.facts.timeline]

    @classmethod
    def load(cls, corpus_dir: Path, embedder=None, lessons: Lessons | None = None) -> "FactChecker":
        return cls(load_facts(Path(corpus_dir), lessons=lessons), embedder)

    # -- public API -------------------------------------------------------------------------------------
    def check(self, text: str, questions: bool = False) -> list[Verdict]:
        """Verdicts on the claims of every sentence; a question ("Why was Lenin's Testament not
        acted on in 1924?") claims nothing and is skipped unless ``questions`` is set."""
        verdicts: list[Verdict] = []
        text = text or ""
        # "… scratch that, I was wrong": what the student took back is no longer their claim.
        taken_back = list(_TAKEN_BACK.finditer(text))
        if taken_back:
            text = text[taken_back[-1].end():]
        previous = ""
        for sentence in _SENTENCES.split(text):
            embedded = None if questions else _EMBEDDED_CLAIM.match(sentence.strip())
            if embedded and self.is_question(sentence):
                # "was it just that zinoviev and kamenev were mensheviks…?": the question takes its claim as
                # given (relay trial 50's evidence held nothing, though a sourced denial settles it).
                said = sentence.strip()
                found = self._check_sentence(_he_from_previous(embedded.group("claim"), previous))
                verdicts += [replace(v, claim=replace(v.claim, sentence=said)) for v in found]
            elif len(sentence.split()) >= 2 and (questions or not self.is_question(sentence)):
                said = sentence.strip()
                resolved = said
                for resolve in (_he_from_previous, _him_resolved, _it_resolved):  # pronouns the sentence before settles
                    resolved = resolve(resolved, previous)
                resolved = _fate_carried(_he_resolved(resolved))
                found = self._check_sentence(resolved)
                spoken = self._work_speaks(resolved)
                if spoken != resolved:
                    # The work's own reading stands ("the testament said stalin should be the next leader"
                    # is the Testament denial); its author's adds what the author said.
                    keys = {(v.status, v.fact_id) for v in found}
                    found += [v for v in self._check_sentence(spoken) if (v.status, v.fact_id) not in keys]
                if resolved != said:  # the student's own sentence is what the verdict is on
                    found = [replace(v, claim=replace(v.claim, sentence=said)) for v in found]
                verdicts += found
            previous = sentence
        return verdicts

    def _work_speaks(self, sentence: str) -> str:
        """ "the testament said stalin was too rude": what a work says, its author says (offline trial
        11's "Lenin's Testament said Stalin should be …, is that correct?" had no verdict)."""
        low = sentence.lower()
        for q in self.facts.quotations:
            if q.kind not in ("work", "wrote"):
                continue
            for phrase in sorted([q.text, *q.phrases], key=len, reverse=True):
                m = re.search(r"(?:\b(?:the|his|lenin'?s|trotsky'?s|stalin'?s)\s+)?\b" + re.escape(phrase.lower()) +
                              r"\s+(?=(?:said|says|called|calls|described|describes|warned|urged|asked)\b)", low)
                if m and len(sentence) == len(low):
                    return sentence[:m.start()] + self.facts.name(q.author) + " " + sentence[m.end():]
        return sentence

    def contradicted(self, text: str, questions: bool = False) -> list[Verdict]:
        return [v for v in self.check(text, questions) if v.status == "contradicted"]

    @staticmethod
    def is_question(sentence: str) -> bool:
        """A question asks rather than claims: it opens with a question word or an inverted verb
        ("why was…", "was it when…", "did Trotsky…"), with or without its question mark. A
        statement said with a rising tone ("Trotsky was killed in 1929?") still claims something."""
        low = sentence.strip().lower()
        low = re.sub(r"^(?:so|and|but|ok|okay|hmm+|um+|wait|then|also|sorry|right|hey|pls|please)\b[\s,]*", "", low)
        low = re.sub(r"^(?:can|could) (?:you|u) (?:tell me|explain|say)\b\s*", "why ", low)
        m = _QUESTION_OPENING.match(low)
        if not m:
            return False
        wh = m.group(0) in _WH
        if wh and _TAG_QUESTION.search(low) and not _AUX.match(low[m.end():].strip()):
            # "when trotsky lost the army job zinoviev took over the red army right?": a clause opened by
            # "when", then a claim the student asks to have confirmed (relay trial 49).
            return False
        if low.endswith("?"):
            return True
        # Without its mark a question still inverts: "why was…", "who did…" ("When Lenin died,
        # Trotsky was away" is a statement).
        return len(low.split()) <= 25 and (not wh or bool(_AUX.match(low[m.end():].strip())))

    # -- mentions ---------------------------------------------------------------------------------------
    @staticmethod
    def normalise(sentence: str) -> str:
        low = sentence.lower()
        for pattern, repl in _SLANG:
            low = re.sub(pattern, repl, low)
        return re.sub(r"[ \t]+", " ", low)

    def mentions(self, low: str) -> list[Mention]:
        found: list[Mention] = []
        taken: list[tuple[int, int]] = []

        def free(s: int, e: int) -> bool:
            return all(e <= a or s >= b for a, b in taken)

        def add(kind: str, mid: str, s: int, e: int) -> None:
            if free(s, e):
                taken.append((s, e))
                found.append(Mention(kind, mid, s, e, bool(_NOT_BEFORE.search(low[max(0, s - 16):s]))))

        # Quotations first: their words ("outstanding mediocrity of our party") must not be read as
        # anything else, and a quotation is never a person.
        for fuzzy in (False, True):
            for q in self.facts.quotations:
                if any(m.id == q.id for m in found):
                    continue
                for phrase in sorted([q.text, *q.phrases], key=len, reverse=True):
                    span = self._find_phrase(low, phrase.lower(), fuzzy)
                    if span:
                        add("quote", q.id, *span)
                        break
        for o, patterns in self._offices:
            for p in patterns:
                m = p.search(low)
                if m:
                    add("office", o.id, m.start(), m.end())
                    break
        for g, patterns in self._groups:
            for p in patterns:
                m = p.search(low)
                if m:
                    add("group", g.id, m.start(), m.end())
                    break
        for m in _WING.finditer(low):
            add("wing", next(x for x in m.groups() if x), m.start(), m.end())
        # Multi-word aliases, then single words with misspellings.
        for alias, pid in sorted(self._names.items(), key=lambda x: -len(x[0])):
            if " " in alias:
                for m in re.finditer(rf"(?<!\w){re.escape(alias)}(?!\w)", low):
                    add("person", pid, m.start(), m.end())
        for m in re.finditer(r"[a-z][a-z\-]+", low):
            word = m.group(0)
            if len(word) < 4 or not free(m.start(), m.end()) or _NAMED_FOR.match(low, m.end()):
                continue  # "the lenin enrolment depended on the general secretary" names no Lenin (relay trial 39)
            pid = self._names.get(word)
            if pid is None and len(word) >= 5:
                hit = process.extractOne(word, self._single.keys(), scorer=fuzz.ratio, score_cutoff=self.NAME_CUTOFF)
                pid = self._single[hit[0]] if hit else None
            if pid is None and word.endswith("s") and word[:-1] in self._names:
                pid = self._names[word[:-1]]  # "stalins" for "Stalin's"
            if pid:
                add("person", pid, m.start(), m.end())
        # Events may overlap other mentions ("became General Secretary", "Lessons of October"):
        # a date or an order is a different claim from who held a post or wrote a work.
        for e, patterns in self._events:
            for p in patterns:
                m = p.search(low)
                if m:
                    found.append(Mention("event", e.id, m.start(), m.end()))
                    break
        return sorted(found, key=lambda x: x.start)

    def _find_phrase(self, low: str, phrase: str, fuzzy: bool) -> tuple[int, int] | None:
        if not fuzzy:
            m = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", low)
            return (m.start(), m.end()) if m else None
        if len(phrase) < 10 or " " not in phrase or re.search(r"\d", phrase):
            return None
        hit = fuzz.partial_ratio_alignment(phrase, low, score_cutoff=self.PHRASE_CUTOFF)
        if hit is None:
            return None
        s, e = hit.dest_start, hit.dest_end
        # Snap to word boundaries so "the outstandin mediocrity" is one span.
        while s > 0 and low[s - 1].isalpha():
            s -= 1
        while e < len(low) and low[e].isalpha():
            e += 1
        return s, e

    @staticmethod
    def years(low: str) -> list[tuple[int, int]]:
        out = []
        for m in _YEAR.finditer(low):
            full, short, apos = m.groups()
            if short and (re.search(r"\d\s*$", low[:m.start()]) or _COUNTED.match(low[m.end():])):
                continue  # "voted 30 to 10", "in 10 days": a count, not 1910 (offline trial 9)
            y = int(full) if full else 1900 + int(short or apos)
            if 1890 <= y <= 1945:
                out.append((m.start(), y))
        return out

    # -- one sentence -----------------------------------------------------------------------------------
    def _check_sentence(self, sentence: str) -> list[Verdict]:
        low = self.normalise(sentence)
        # "umm wasnt the testament read out to everyone at the congress in 1924 lol" asks to have the claim
        # confirmed, not denied: an opening negative auxiliary is the question's, so it reads as "was …"
        # (the offline judge confirmed it as the true denial).
        low = _INVERTED_NEGATIVE.sub(lambda m: m.group(1) + _POSITIVE[m.group(2).replace("'", "")], low, count=1)
        ms = self.mentions(low)
        years = self.years(low)
        year = years[0][1] if years else None
        negated = bool(_NEGATION.search(low))
        out: list[Verdict] = []
        out += self._denials(low, sentence, ms, negated)
        quotes = [m for m in ms if m.kind == "quote"]
        if not quotes and self.embedder is not None and _SAY.search(low):
            quotes = self._gist_quotes(sentence, low)
        for q in quotes:
            v = self._quotation(q, low, sentence, ms, years)
            if v:
                out.append(v)
        # "the 1921 ban on factions", "the ban on factions of 1921": a year bound to an event's
        # phrase dates that event, not the posts and alliances elsewhere in the sentence.
        free = [(p, y) for p, y in years if not _bound_to_event(low, p, ms)]
        out += self._offices_held(low, sentence, ms, free)
        out += self._alignments(low, sentence, ms, free)
        out += self._memberships(low, sentence, ms, free)
        out += self._turned_on(low, sentence, ms, free)
        dated = self._events_dated(low, sentence, ms, years)
        if not any(v.kind == "wrong_date" for v in out):
            out += dated
        out += self._order(low, sentence, ms)
        # "stalin was only made gen sec after lenin died": the post was his, but the claim is its order or
        # date, which is wrong; an undated "supported" beside it told relay trial 66's model he was right.
        wrong = {v.claim.subject for v in out if v.status == "contradicted" and v.kind in ("wrong_order", "wrong_date")} \
            | {v.claim.object for v in out if v.status == "contradicted" and v.kind in ("wrong_order", "wrong_date")}
        # …and a dated one too: "i dont think 1922 is right, stalin became gen sec after lenin died" is wrong on
        # its order whatever year it names (relay trial 73's evidence "supported" it).
        out = [v for v in out if not (v.status == "supported" and v.kind == "held_office"
                                      and any(str(v.claim.object) in str(w) for w in wrong))]
        # "i dont think stalin became general secretary in 1922": the date the student denies is no support
        # for them beside the denial's correction.
        if _I_DENY.search(low) and any(v.status == "contradicted" for v in out):
            out = [v for v in out if not (v.status == "supported" and v.kind == "happened_in")]
        return out

    def _verdict(self, status: Status, kind: str, claim: Claim, fact: Sourced | None = None, correct: str = "",
                 fact_id: str = "", probe: str = "") -> Verdict:
        passage = _sentence_of(fact.support) if fact else ""
        return Verdict(status, kind, claim, correct, fact_id, fact.doc if fact else "", passage,
                       probe if status == "contradicted" else "")

    # -- denials ("elected by the people", "Lenin named his successor") ------------------------------
    def _denials(self, low: str, sentence: str, ms: list[Mention], negated: bool) -> list[Verdict]:
        out = []
        people = {m.id for m in ms if m.kind == "person"}
        for d in self.facts.denials:
            hit = False
            if d.patterns:
                if any(re.search(u, low) for u in d.unless):
                    continue
                found = next((m for m in (re.search(p, low) for p in d.patterns) if m), None)
                if found is None:
                    continue
                if _SUPPOSING.search(low[max(0, found.start() - 20):found.start()]):
                    # "like if trotsky went 2 the funeral wld he of won": a what-if asserts nothing (offline
                    # trial 15 corrected it, after the student had just said he missed it).
                    continue
                # The negation must sit in the claim itself ("read to the delegations, not to the
                # whole congress"); one elsewhere in the sentence is about something else.
                # …and within its own clause: "the machine wasnt enough - the testament was read out to the
                # whole 13th congress" denies nothing about the Testament (relay trial 26's evidence said
                # "supports").
                local = _negated_in_clause(low, found, max(0, found.start() - d.negation_window))
                out.append(self._denial_verdict(d, sentence, local))
                continue
            found = None
            if d.relation == "elected_by_people":
                found = _ELECTED_BY_PEOPLE.search(low)
                # "even with the label they could've won a vote": a what-if about the rivals, not a
                # claim that Stalin was elected (relay trial 17).
                hit = bool(found) and (d.subject in people or not people) and not _WHAT_IF.search(
                    low[max(0, found.start() - 30):found.start()]) and not _party_win(low, found)
            elif d.relation == "named_successor":
                # "Stalin could look like Lenin's chosen heir" is about appearances, which is true
                # (relay trial 16's offline fallback called it wrong).
                found = _SUCCESSOR.search(low)
                hit = bool(found) and not _APPEARS.search(low)
            elif d.relation == "signed_46":
                found = _SIGNED.search(low)
                hit = bool(found) and ("46" in low or "forty-six" in low) and "trotsky" in _side_before(
                    low, [m for m in ms if m.kind == "person"], found.start(), 3)
            if hit:
                # A negation counts where it stands in the claim's own words, from its clause to the claim's
                # end: "lenin basically picked stalin in his testament … so isnt that the main reason he
                # won?" denies nothing (relay trial 32's evidence said it supported "no successor").
                out.append(self._denial_verdict(d, sentence, _negated_in_clause(low, found)))
        return out

    def _denial_verdict(self, d: Denial, sentence: str, negated: bool) -> Verdict:
        claim = Claim(d.subject, d.relation, d.claim, negated=negated, sentence=sentence)
        if negated:
            return self._verdict("supported", d.relation, claim, d, d.correct, f"denials.{d.id}")
        return self._verdict("contradicted", "false_claim", claim, d, d.correct, f"denials.{d.id}",
                             probe=f"Is that what the sources say? One says “{_sentence_of(d.support)}” {d.probe}")

    # -- who said or wrote what -------------------------------------------------------------------------
    def _gist_quotes(self, sentence: str, low: str) -> list[Mention]:
        """Quotations the student paraphrased without their words (MiniLM cosine to each gist)."""
        if self._gists is None:
            items = [(q, g) for q in self.facts.quotations for g in q.gist]
            vectors = self.embedder.embed_documents([g for _, g in items]) if items else []
            self._gists = [(q, v) for (q, _), v in zip(items, vectors)]
        if not self._gists:
            return []
        vec = self.embedder.embed_query(sentence)
        best: dict[str, float] = {}
        for q, g in self._gists:
            score = sum(a * b for a, b in zip(vec, g))
            best[q.id] = max(best.get(q.id, -1.0), score)
        qid, score = max(best.items(), key=lambda x: x[1])
        return [Mention("quote", qid, len(low), len(low))] if score >= self.GIST_CUTOFF else []

    def _quotation(self, q: Mention, low: str, sentence: str, ms: list[Mention],
                   years: list[tuple[int, int]]) -> Verdict | None:
        quote = next(x for x in self.facts.quotations if x.id == q.id)
        speaker, negated = self._speaker(q, low, ms, quote)
        relation = "wrote" if quote.kind in ("wrote", "work") else "said"
        label = f"“{quote.text}”"
        if speaker is None:
            target = self._target(q, low, ms, quote, None, sentence, years)
            if target is not None and target.status == "contradicted":
                return target
            return self._quote_date(quote, low, sentence, years, q)
        claim = Claim(speaker, relation, quote.id, years[0][1] if years else None, negated, sentence)
        authors = {quote.author, *quote.coauthors}
        fid = f"quotations.{quote.id}"
        who = self.facts.name(quote.author)
        correct = (f"{label} is {who}'s ({quote.when})" if quote.kind in ("phrase", "said", "wrote", "idea")
                   else f"{label} was written by {who} ({quote.when})")
        if quote.about:
            correct += f", about {self.facts.name(quote.about)}"
        correct += "."
        target = self._target(q, low, ms, quote, speaker, sentence, years)
        if target is not None and target.status == "contradicted" and speaker in authors and not negated:
            return target
        denied = next((m for m in ms if m.kind == "person" and m.id == quote.author and m.negated), None)
        if speaker in quote.coauthors and not negated and denied is not None:
            # "socialism in one country was bukharins idea not stalins": the half-truth credits the
            # coauthor but denies the author (relay trial 56's evidence showed it as supported).
            claim = Claim(quote.author, relation, quote.id, claim.year, True, sentence)
            return self._verdict("contradicted", "misattribution", claim, quote, correct, fid,
                                 probe=f"Whose idea was {label} first? The source says: “{_sentence_of(quote.support)}”")
        if speaker in quote.coauthors and not negated:
            # "bukharin came up with socialism in one country": half the story, neither right nor wrong
            # (relay trial 57's model was refused twice for calling it wrong on "supporting" evidence).
            return self._verdict("unknown", "coauthor", claim, quote, correct, fid)
        if (speaker in authors) != negated:
            dated = self._quote_date(quote, low, sentence, years, q, speaker)
            if dated is not None and dated.status == "contradicted":
                return dated
            return self._verdict("supported", relation, claim, quote, correct, fid)
        if negated and speaker not in authors:
            return self._verdict("supported", relation, claim, quote, correct, fid)
        return self._verdict("contradicted", "misattribution", claim, quote, correct, fid,
                             probe=f"Who actually {'wrote' if quote.kind == 'work' else 'used the words'} {label}? "
                                   f"The source says: “{_sentence_of(quote.support)}” "
                                   f"Why might it matter whether it was {self.facts.name(speaker)} or "
                                   f"{who}?")

    def _bare_possessive(self, low: str, m: Mention) -> bool:
        """"trotskys idea": a name with an s and no apostrophe."""
        word = low[m.start:m.end]
        return word.endswith("s") and word[:-1] in self._names

    def _target(self, q: Mention, low: str, ms: list[Mention], quote: Quotation, speaker: str | None,
                sentence: str, years: list[tuple[int, int]]) -> Verdict | None:
        """Whom the sentence says the words were about ("Sukhanov called Trotsky a grey blur"):
        the person just before the quotation, as its object or its subject."""
        if not quote.about:
            return None
        target = next((m for m in reversed(ms) if m.kind == "person" and m.end <= q.start
                       and re.fullmatch(r"\s*(?:as\s+|was\s+|is\s+|were\s+)?(?:just\s+|only\s+|basically\s+)?"
                                        r"(?:a|an|the|some)?\s*[\"'“]?\s*", low[m.end:q.start])), None)
        if target is None or target.id in (quote.about, speaker, quote.author) or target.id not in PROTAGONISTS:
            return None
        claim = Claim(speaker or quote.author, "said_about", target.id, years[0][1] if years else None,
                      target.negated, sentence)
        correct = (f"“{quote.text}” is {self.facts.name(quote.author)}'s ({quote.when}), about "
                   f"{self.facts.name(quote.about)}, not {self.facts.name(target.id)}.")
        if target.negated:
            return self._verdict("supported", "said_about", claim, quote, correct, f"quotations.{quote.id}")
        return self._verdict("contradicted", "misattribution", claim, quote, correct, f"quotations.{quote.id}",
                             probe=f"Whom were the words “{quote.text}” about? The source says: "
                                   f"“{_sentence_of(quote.support)}” Who was being underestimated?")

    def _speaker(self, q: Mention, low: str, ms: list[Mention], quote: Quotation) -> tuple[str | None, bool]:
        """Who the sentence says used the quotation, and whether it denies it ("not Trotsky").

        Only a person tied to the quotation counts: possessive right before it ("Trotsky's
        famous phrase ..."), named right after it ("... by Trotsky", "... was Bukharin's"), named by
        "according to" / "in the words of", or the subject of the saying (for a work, writing)
        verb nearest to it ("Trotsky once called Stalin ...")."""
        people = [m for m in ms if m.kind == "person"]
        if not people:
            return None, False

        def found(m: Mention) -> tuple[str, bool]:
            # "i really don't think socialism in one country was Stalin's" denies it (relay trial 59's evidence
            # showed it as supporting Stalin's authorship).
            return m.id, m.negated or _negated_between(low, m, q) or bool(_NOT_THINK.search(low[max(0, q.start - 40):q.start]))

        for m in people:
            if m.end <= q.start and re.fullmatch(r"'s?\s+(?:[\w-]+\s+){0,3}[\"'“]?", low[m.end:q.start]) \
                    and not _OTHER_SUBJECT.search(low[m.end:q.start]) and not _ABOUT_IT.search(low[m.end:q.start]):
                return found(m)
        for m in people:
            if m.start >= q.end:
                gap = low[q.end:m.start]
                if len(gap.split()) <= 6 and not re.search(r"[;:]", gap) and (
                        re.search(r"\b(?:by|from|coined by)\s+(?:the\s+)?(?:[\w-]+\s+)?$", gap)
                        or (re.fullmatch(r"[\"'”\s,]*(?:[\w-]+\s+){0,2}(?:was|is|were|came from|wasn'?t|was not|isn'?t|is not)"
                                         r"\s+(?:\w+\s+)?",
                                         gap) and ((_POSSESSIVE_TAIL.match(low[m.end:m.end + 3])
                                                    # "the Testament was Stalin's most dangerous moment" gives
                                                    # Stalin the moment, not the work (relay trial 77's evidence)
                                                    and _OWNED_ALONE.match(low[m.end:]))
                                         or self._bare_possessive(low, m)))):
                    return found(m)
        for m in people:
            if m.end <= q.start + 1 and re.search(r"\b(?:according to|in the words of)\s+$", low[max(0, m.start - 20):m.start]):
                return found(m)
        # "in Trotsky's words", "to Trotsky, Stalin was…", "Trotsky's famous description of Stalin as…"
        for m in people:
            if m.end > q.start or len(low[m.end:q.start].split()) > 10 or re.search(r"[;:]", low[m.end:q.start]):
                continue
            if re.search(r"(?:^|[,;:]\s*|\b(?:and|but|so)\s+)(?:to|for|in)\s+$", low[max(0, m.start - 12):m.start]) \
                    and re.match(r"(?:'s?\s+(?:view|eyes|opinion|words|mind)\b|\s*,)", low[m.end:]):
                return found(m)
            if re.match(r"'s?\s+(?:\w+\s+){0,2}(?:description|view|verdict|words|phrase|label|nickname|dismissal|"
                        r"opinion|remark|insult|jibe|put-down|characterisation|characterization)\b", low[m.end:]):
                return found(m)
        verbs = _WRITE if quote.kind == "work" else _SAY_VERB
        # A verb after the quotation in a clause of its own is not about the quotation's author: "denied
        # the Testament existed after Max Eastman published it" (offline trial 13) named no author.
        near = [v for v in verbs.finditer(low) if (v.end() <= q.start and len(low[v.end():q.start].split()) <= 8)
                or (v.start() >= q.end and len(low[q.end:v.start()].split()) <= 4
                    and not _SUBORDINATE.search(low[q.end:v.start()]))]
        if not near:
            return None, False
        # A verb before the quotation is its own ("Lenin called Stalin 'too rude' and urged ...").
        ahead = [v for v in near if v.end() <= q.start]
        verb = ahead[-1] if ahead else near[0]
        if verb.end() <= q.start and re.match(r"\s+(?:about|on|of|against)\b", low[verb.end():q.start]):
            return None, False  # "Eastman wrote about the Testament": about it, not its author
        passive = bool(re.search(r"(?:ed|en)$", verb.group(0)) and re.search(
            r"\b(?:was|were|been|being|is|be|get|got)\s+(?:\w+ly\s+)?$", low[:verb.start()]))
        if passive:
            return None, False
        # "Bukharin's meeting with Kamenev in July 1928, calling Stalin Genghis Khan": a participle after
        # a comma belongs to the sentence's subject, not the person just before it (relay trial 49).
        participle = verb.group(0).endswith("ing")
        before = [m for m in people if m.end <= verb.start() and len(low[m.end:verb.start()].split()) <= 4
                  and not re.search(r"[;:]|\b(?:than|because|so|but|which|when)\b", low[m.end:verb.start()])
                  and not _OTHER_SUBJECT.search(low[m.end:verb.start()])
                  and not (participle and "," in low[m.end:verb.start()])
                  # "naive about Stalin by 1928 - he called him a Genghis Khan": the verb has a subject of
                  # its own (relay trial 51's evidence gave the phrase to Stalin).
                  and not re.search(r"\s[-–—]+\s|\b(?:he|she|they|i|we|you|u)\b", low[m.end:verb.start()])]
        if before:
            return found(before[-1])
        return None, False

    @staticmethod
    def _writes(low: str, q: Mention) -> bool:
        """A verb of writing that can be the quotation's own: not one after it in a clause of its own
        ("in 1925 he denied the Testament existed after Max Eastman published it")."""
        return any((v.end() <= q.start or not _SUBORDINATE.search(low[q.end:v.start()]))
                   # "if i had to write one sentence in my essay on whether the testament in may 1924 …":
                   # the student's own writing dates nothing (relay trial 74's evidence misdated the Testament).
                   and not _OWN_WRITING.search(low[max(0, v.start() - 30):v.start()])
                   for v in _WRITE.finditer(low))

    def _quote_date(self, quote: Quotation, low: str, sentence: str, years: list[tuple[int, int]], q: Mention,
                    speaker: str | None = None) -> Verdict | None:
        """A year tied to the quotation ("Genghis Khan in 1925", "My Life (1930)") outside its span."""
        near = []
        for pos, y in years:
            gap = low[q.end:pos] if pos >= q.end else low[pos:q.start]
            if pos >= q.end and len(gap.split()) <= 4 and not re.search(r"[;:]|,\s|\b(?:and|but|when|after|before|while|which)\b", gap):
                near.append(y)
            elif pos < q.start and re.match(r"^\W*(?:in|by|during)\s+'?\d", low[max(0, pos - 8):pos + 2].lstrip()) \
                    and len(gap.split()) <= 7 and not re.search(r"[;:]|,\s|\b(?:and|but|when|after|before|while|which)\b", gap[4:]):
                near.append(y)
            elif pos >= q.end and _SAID_IT.search(low[max(q.end, pos - 40):pos]):
                # "his 'enrich yourselves' quote and i wrote that he said it in 1928" (relay trial 58's
                # evidence held nothing, and the model sent the student to check the date).
                near.append(y)
        if not near or quote.kind == "idea":
            return None
        # "when the Testament came up in 1924" dates its reading, not its writing.
        if quote.kind == "work" and not self._writes(low, q) and not re.search(r"\(\s*'?\d", low):
            return None
        # "testament read to delegations may 1924 not published til 1956": the writing verb comes after the
        # year and has its own (relay trial 76's evidence dated the Testament's writing to 1924).
        first = next((pos for pos, y in years if y == near[0]), None)
        if quote.kind == "work" and first is not None and first > q.end and not re.search(r"\(\s*'?\d", low) and not any(
                v.end() <= first and not _OWN_WRITING.search(low[max(0, v.start() - 30):v.start()])
                for v in _WRITE.finditer(low)):
            return None
        # "Eastman wrote about the Testament in 1925", "his account of the Testament in 1925": the year
        # dates the writing about it (relay trial 10).
        if quote.kind == "work" and re.search(r"\b(?:about|on)\s+(?:the\s+|lenin'?s\s+|his\s+)?$", low[max(0, q.start - 20):q.start]) \
                or _ABOUT_IT.search(low[max(0, q.start - 30):q.start]):
            return None
        y = near[0]
        claim = Claim(speaker or quote.author, "said_in", quote.id, y, False, sentence)
        lo, hi = quote.years
        fact_id = f"quotations.{quote.id}"
        correct = f"“{quote.text}” dates from {quote.when}."
        if lo <= y <= hi:
            return self._verdict("supported", "said_in", claim, quote, correct, fact_id)
        return self._verdict("contradicted", "wrong_date", claim, quote, correct, fact_id,
                             probe=f"When was “{quote.text}” said or written? The source says: "
                                   f"“{_sentence_of(quote.support)}” How does the date change what it shows?")

    # -- offices ----------------------------------------------------------------------------------------
    def _offices_held(self, low: str, sentence: str, ms: list[Mention], years: list[tuple[int, int]]) -> list[Verdict]:
        out = []
        people = [m for m in ms if m.kind == "person"]
        for om in (m for m in ms if m.kind == "office"):
            year = _segment_year(low, om.start, years)
            if year is None:
                # "lost the war commissariat cos of lessons of october, that was 1926": the year comes
                # back to the clause in a clause of its own (relay trial 21).
                back = _BACK_DATED.search(low, om.end) or _HELD_SINCE.match(low, om.end) or \
                    _WHEN_BEFORE.search(low[:om.start])
                year = int(back.group(1)) if back else None
            office = next(o for o in self.facts.offices if o.id == om.id)
            person = _nearest_person(low, people, om)
            if person is None:
                continue
            window = low[min(person.end, om.end):max(person.start, om.start)]
            # The cue may be the post's own words ("led the Comintern", "chaired Sovnarkom").
            if not _HELD.search(window + " " + low[max(0, om.start - 12):om.end]) and person.end <= om.start:
                continue
            if person.end <= om.start and re.search(r"\b(?:him|her|them)\b", window):
                # "Lenin had recommended removing him as General Secretary": the post is his object's,
                # not Lenin's (second blind offline trial).
                continue
            successor = self._successor(low, people, person, office, om, sentence, years)
            if successor is not None:
                out.append(successor)
                continue
            pid = person.id
            # "trotsky wasn't a tsar general he was in charge of the red army": the negation belongs to a
            # clause the pronoun closes (offline trial 13 told a lost student this true claim was wrong).
            restarts = [m.end() for m in _RESTART.finditer(window)]
            negated = person.negated or bool(re.search(r"\b(?:not|never|wasn't|was not)\b", window[max([0] + restarts):]))
            # "it had stalin gen sec 1924 right underneath it": a timeline's entry, name, post and year with
            # no verb, dates the appointment (relay trial 66's evidence "supported" it: he held it in 1924).
            entry = person.end <= om.start and not window.strip() and bool(_ENTRY_YEAR.match(low, om.end))
            became = (bool(_BECAME.search(window)) or entry) and not _REMOVED.search(window)
            removed = bool(_REMOVED.search(low[person.end:om.start] if person.end <= om.start else window)) or (
                # "he sacked zinoviev as leningrad boss in 1924": the removal is said before the person
                # (relay trial 34's evidence "supported" it; he kept Leningrad until January 1926).
                person.end <= om.start and bool(_REMOVED.search(low[max(0, person.start - 15):person.start]))
                and bool(re.fullmatch(r"\s*(?:as|from)\s+(?:the\s+)?(?:post of\s+|job of\s+)?", low[person.end:om.start])))
            claim = Claim(pid, "held_office", office.id, year, negated, sentence)
            holders = [h for h in office.holders if h.person == pid]
            fid = f"offices.{office.id}"
            if holders:
                h = holders[0]
                correct = f"{self.facts.name(pid)} was {office.name} {h.span}."
                if negated and removed:
                    # "stalin was not removed as general secretary in 1924" denies a removal: true unless the
                    # post ended then (it was called wrong in a check after relay trial 68).
                    ended = bool(h.end) and (year is None or int(h.end[:4]) == year)
                    out.append(self._verdict("contradicted" if ended else "supported",
                                             "wrong_date" if ended else "held_office", claim, h, correct, fid))
                    continue
                if negated:
                    out.append(self._verdict("contradicted", "wrong_office", claim, h, correct, fid,
                                             probe=f"Are you sure? The source says: “{_sentence_of(h.support)}”"))
                    continue
                if removed and not h.end and len(holders) == 1:
                    # "stalin was removed as gen sec for a few months in 1924": he never lost the post (relay
                    # trial 68's evidence "supported" it, since he held the post that year).
                    out.append(self._verdict("contradicted", "wrong_date", claim, h,
                                             f"{self.facts.name(pid)} was never removed as {office.name}: {correct}", fid,
                                             probe=f"Was he ever removed? The source says: “{_sentence_of(h.support)}”"))
                    continue
                if year is not None:
                    by = _BY_YEAR.search(low, 0, om.start) or _BY_YEAR.search(low)
                    if removed and h.end and by and int(by.group(1)) == year:
                        bad = int(h.end[:4]) > year  # "by 1926 trotsky had lost the war commissariat" (January 1925)
                    elif removed and h.end and year != int(h.end[:4]):
                        bad = True
                    elif became and not removed:
                        bad = h.began_otherwise(year)
                    else:
                        bad = all(x.excludes(year) for x in holders)
                    if bad:
                        out.append(self._verdict("contradicted", "wrong_date", claim, h, correct, fid,
                                                 probe=f"When exactly did that happen? The source says: "
                                                       f"“{_sentence_of(h.support)}”"))
                        continue
                    if not any(x.covers(year) for x in holders):
                        continue  # before a start the source dates only "by": it neither confirms nor denies
                out.append(self._verdict("supported", "held_office", claim, h, correct, fid))
                continue
            # Someone else held the post then (or at every time the base covers).
            others = [h for h in office.holders if year is None or h.covers(year)]
            if not others or pid not in PROTAGONISTS:
                continue
            h = others[0]
            correct = f"{office.name} was {', then '.join(self.facts.name(x.person) + ' (' + ('by ' if x.start_at_latest else '') + _human(x.start) + (('–' + _human(x.end)) if x.end else ' on') + ')' for x in others)}, never {self.facts.name(pid)}."
            if negated:
                out.append(self._verdict("supported", "held_office", claim, h, correct, fid))
            else:
                out.append(self._verdict("contradicted", "wrong_office", claim, h, correct, fid,
                                         probe=f"Who held that post? The source says: “{_sentence_of(h.support)}” "
                                               f"What did {self.facts.name(pid)} hold instead?"))
        return out

    def _successor(self, low: str, people: list[Mention], person: Mention, office: Office, om: Mention,
                   sentence: str, years: list[tuple[int, int]]) -> Verdict | None:
        """"X replaced Y as <post>": the claim is who came after Y, not whether Y held it."""
        cue = re.search(r"\b(?:replaced|succeeded|took over from|followed)\s+$", low[:person.start])
        if cue is None:
            return None
        new = next((p for p in reversed(people) if p.end <= cue.start()
                    and len(low[p.end:cue.start()].split()) <= 3), None)
        olds = [i for i, h in enumerate(office.holders) if h.person == person.id]
        if new is None or not olds or olds[0] + 1 >= len(office.holders):
            return None
        after = office.holders[olds[0] + 1]
        claim = Claim(new.id, "succeeded", person.id, _segment_year(low, om.start, years), new.negated, sentence)
        correct = (f"{self.facts.name(after.person)} succeeded {self.facts.name(person.id)} as {office.name} "
                   f"({_human(after.start)}).")
        fid = f"offices.{office.id}"
        if (new.id == after.person) != new.negated:
            return self._verdict("supported", "succeeded", claim, after, correct, fid)
        return self._verdict("contradicted", "wrong_office", claim, after, correct, fid,
                             probe=f"Who came next in that post? The source says: “{_sentence_of(after.support)}”")

    # -- alliances and oppositions ----------------------------------------------------------------------
    def allied(self, a: str, b: str, year: int | None) -> Group | None:
        return next((g for g in self.facts.groups if a in g.members and b in g.members
                     and (year is None or g.covers(year))), None)

    def opposed(self, a: str, b: str, year: int | None) -> Group | None:
        """The group that set them against each other, the subject's own first: "Zinoviev went over to
        Bukharin in 1926" is answered with Zinoviev's United Opposition, not Bukharin's alliance."""
        found = [g for g in self.facts.groups if (year is None or g.covers(year))
                 and ((a in g.members and b in g.against) or (b in g.members and a in g.against))]
        return next((g for g in found if a in g.members), found[0] if found else None)

    def _alignments(self, low: str, sentence: str, ms: list[Mention],
                    years: list[tuple[int, int]]) -> list[Verdict]:
        people = [m for m in ms if m.kind == "person" and m.id in PROTAGONISTS and m.id != "lenin"]
        if len({m.id for m in people}) < 2 or any(m.kind in ("quote", "office") for m in ms):
            return []
        ally = _first(_ALLY, low, people[0].end)
        against = _first(_AGAINST, low, people[0].end)
        if ally is None and against is None:
            return []
        if ally is not None and _MIXED_UP.search(low[:ally.end()]):
            # "i mixed up the trotsky praise with stalin", "i confused trotsky with stalin": the student's
            # muddle, not an alliance (relay trial 29's model was refused for reading it so, twice).
            return []
        cue = min((m for m in (ally, against) if m is not None), key=lambda m: m.start())
        # "after the grain procurement crisis of 1927-28 …, Stalin turned on Bukharin": a year in an
        # "after" phrase before the cue only bounds it (relay trial 42's evidence dated the break 1927).
        in_clause = [y for p, y in _in_segment(low, cue.start(), years)
                     if not (p < cue.start() and re.search(r"\b(?:after|since|following)\b[^,;.]*$", low[max(0, p - 60):p]))]
        year_list = in_clause or [None]
        # The negation must belong to this claim: "agreed not to publish it …, and Zinoviev and Kamenev
        # backed Stalin" denies nothing about the alliance (relay trial 9). Its clause runs from just
        # before the first person to the cue and a little after ("were allies, not enemies" stays
        # the ally cue's).
        before = re.split(r"[,;:]|\band\b", low[max(0, people[0].start - 30):people[0].start])[-1]
        scope = before + low[people[0].start:cue.end() + 12]
        breaks = [b.end() for b in _CLAUSE_BREAK.finditer(low, max(0, people[0].start - 30), cue.start())]
        if breaks:
            # "it wasn't planned purely as a Stalin move, because Zinoviev and Kamenev were in the
            # triumvirate with him": the negation is the earlier clause's (relay trial 34's evidence
            # said the triumvirate "contradicts" it). The later start wins: "ok, so 1927 not 1924, and
            # bukharin was with stalin" starts at "bukharin" (offline trial 11).
            scope = low[max(max(breaks), people[0].start - len(before)):cue.end() + 12]
        negated = bool(re.search(r"\b(?:not|never|wasn't|weren't|didn't|did not|were not|was not)\b", scope))
        if negated and against is not None and (ally is None or against.start() < ally.start()) \
                and re.fullmatch(r"attack(?:ed)?|fought|fight|clashed|defeated|beat|to stop|to block|to defeat|to oppose|"
                                 r"to remove|to get rid of", against.group(0)):
            # "Trotsky chose not to attack Stalin over Georgia" denies an action, not the enmity
            # (relay trial 17 read it as "Trotsky was not against Stalin").
            return []
        # "against Stalin from the start": a claim about every year, so one alliance refutes it.
        # …unless it is the student who always does something ("i always get the left and right mixed
        # up" made "bukharin stayed with stalin" a claim about every year, relay trial 18).
        always = any(not re.search(r"\b(?:i|we|you|u)\s+(?:\w+\s+)?$", low[:m.start()])
                     for m in _ALWAYS.finditer(low)) and not in_clause
        pairs: list[tuple[str, str, str]] = []  # (a, b, "ally" | "enemy")
        if ally is not None and (against is None or ally.start() < against.start()):
            left = _side_before(low, people, ally.start())
            # "allies against Zinoviev": the people after "against" are foes, not allies.
            right = _side_after(low, [m for m in people if against is None or against.start() < ally.end()
                                      or m.end <= against.start()], ally.end())
            # "allied with Bukharin …, before he turned on Bukharin in 1928": a later clause's enemy is
            # another claim, with its own year (offline trial 3 read the 1927 alliance as enmity).
            later = against is not None and bool(re.search(r"\b(?:before|after|until|then|later|when|whose|which)\b|[;,]",
                                                             low[ally.end():against.start()]))
            foes = _side_after(low, people, against.end(), 3) if against is not None and not later else []
            # "zinoviev and kamenev were already with him from 1923": allied with someone the checker cannot
            # name, not with each other (relay trial 51's evidence "supported" it by the triumvirate).
            if not right and len(left) >= 2 and not re.match(r"\s+(?:\w+\s+)?(?:him|her|them|me|us)\b", low[ally.end():]):
                pairs += [(left[i], left[j], "ally") for i in range(len(left)) for j in range(i + 1, len(left))]
            pairs += [(a, b, "ally") for a in left for b in right]
            # "zinoviev and kamenev teamed up with bukharin against him in 1925": allies against someone the
            # checker cannot name; that they stood together in some body that year does not support it
            # (relay trial 52's evidence did, by the semyorka).
            unnamed_foe = against is not None and bool(re.match(r"\s+(?:him|her|them)\b", low[against.end():]))
            # "zinoviev and kamenev were always with trotsky against stalin" is about Zinoviev and Kamenev:
            # Trotsky's own enmity, found true, read as support for the sentence (relay trial 42).
            pairs += [(a, f, "enemy") for a in (left or right) for f in foes]
        else:
            unnamed_foe = False
            left = _side_before(low, people, against.start())
            right = _side_after(low, people, against.end(), 3)
            if not right and len(left) >= 2 and re.search(r"\b(?:enemies|rivals|fell out|falling out|quarrell?ed|"
                                                          r"broke up)\b", low):
                right, left = left[1:], left[:1]
            pairs += [(a, b, "enemy") for a in left for b in right]
            if right and len(left) >= 2 and not negated and _SIDE_AGAINST.fullmatch(against.group(0)) \
                    and not re.search(r"\b(?:both|each)\b", low):
                pairs += [(left[i], left[j], "ally") for i in range(len(left)) for j in range(i + 1, len(left))]
        out = []
        seen = set()
        for a, b, stance in pairs:
            if a == b or (a, b, stance) in seen:
                continue
            seen.add((a, b, stance))
            relation = "allied_with" if stance == "ally" else "opposed"
            for y in year_list:
                claim = Claim(a, relation, b, y, negated, sentence)
                with_ = self.allied(a, b, y)
                vs = self.opposed(a, b, y)
                if with_ is None and vs is None:
                    if stance != "ally" or (y is None and not _ALLY_STRONG.search(low)):
                        continue
                    # No group covers that year: a pair never allied at any time and opposed at
                    # some time (Stalin and Trotsky) was still not allied.
                    vs = None if self.allied(a, b, None) else self.opposed(a, b, None)
                    if vs is None:
                        continue
                if always:
                    truth = (not vs) if stance == "ally" else (not with_)
                    if truth and not (with_ if stance == "ally" else vs):
                        truth = None
                elif stance == "ally" and not with_ and y is not None and self.allied(a, b, y - 1) \
                        and not self.opposed(a, b, y - 1) and _UP_TO.search(low):
                    truth = None  # up to the year they split ("Bukharin backed Stalin until 1928") is true
                elif stance == "ally" and y is None and with_ and vs:
                    # Allies at one time and enemies at another, with no year said ("my notes say zinoviev
                    # and kamenev were with trotsky, are you sure?"): no check decides which the student
                    # means (offline trial 12 answered it "You're right" with the 1926 alliance).
                    truth = None
                elif stance == "ally":
                    truth = True if with_ else (False if vs and (y is not None or not self.allied(a, b, None)) else None)
                else:
                    truth = None if (vs and with_) else True if vs else (False if with_ and y is not None else None)
                if truth is None:
                    continue
                if negated:
                    truth = not truth
                if truth and stance == "ally" and unnamed_foe:
                    continue
                fact = with_ or vs
                shown = with_
                if not truth and (stance == "ally") != negated and vs is not None:
                    # "always with Trotsky" is refuted by the years they were enemies, not by the years
                    # they were allies (relay trial 42's evidence quoted the United Opposition against it).
                    fact, shown = vs, None
                correct = self._alignment_fact(a, b, y, shown, vs)
                if truth:
                    out.append(self._verdict("supported", relation, claim, fact, correct, f"groups.{fact.id}"))
                else:
                    out.append(self._verdict("contradicted", "wrong_alliance", claim, fact, correct,
                                             f"groups.{fact.id}",
                                             probe=f"Who was on which side{' in ' + str(y) if y else ''}? The source "
                                                   f"says: “{_sentence_of(fact.support)}” Where does that leave "
                                                   f"{self.facts.name(a)} and {self.facts.name(b)}?"))
        return out

    def _alignment_fact(self, a: str, b: str, y: int | None, with_: Group | None, vs: Group | None) -> str:
        na, nb = self.facts.name(a), self.facts.name(b)
        g = with_ or vs
        # The group's years once, as a reader would say them ("From 1923 to 1925 …"), not "In these
        # years … of 1923-1924 (1923–1924)" (offline, after trial 9).
        dated = bool(re.search(r"\d{4}", g.name))
        when = f"In {y} " if y else "" if dated else _during(g) + " "
        span = "" if dated else f" ({_span(g)})"
        if with_:
            return f"{when}{na} and {nb} stood together in {g.name}."
        side_a = a in g.members
        member, other = (na, nb) if side_a else (nb, na)
        if y and not g.covers(y):
            # No group of that year: the pair's only recorded relation, with its own years ("In 1928
            # Bukharin was in Stalin's alliance … (1925–1927)" misdated it, relay trial 19).
            return f"{na} and {nb} were never allies: {member} was in {g.name}{span}, against {other}."
        if member.split()[-1] in g.name:
            # "Bukharin was in Stalin's alliance with Bukharin, Rykov and Tomsky …" named him twice.
            mates = [self.facts.name(m) for m in g.members if self.facts.name(m) != member]
            side = ", ".join(mates[:-1]) + " and " + mates[-1] if len(mates) > 1 else "".join(mates)
            short = re.split(r" (?:of|with) ", g.name)[0]
            return f"{when}{member} was with {side} in {short}, against {other}."
        return f"{when}{member} was in {g.name}, against {other}."

    # -- factions and wings -----------------------------------------------------------------------------
    def _memberships(self, low: str, sentence: str, ms: list[Mention], years: list[tuple[int, int]]) -> list[Verdict]:
        out = []
        people = [m for m in ms if m.kind == "person" and m.id in PROTAGONISTS and m.id != "lenin"]
        if not people or any(m.kind in ("quote", "office") for m in ms):
            return out
        for gm in (m for m in ms if m.kind in ("group", "wing")):
            year = _segment_year(low, gm.start, years)
            # "Bukharin, Rykov and Tomsky were condemned as the Right": the list just before it;
            # "the triumvirate was Stalin, Trotsky and Zinoviev": the list just after a linking word.
            gap_before = low[:gm.start]
            before = _side_before(low, people, gm.start, 5)
            first_before = next((m for m in reversed(people) if m.end <= gm.start), None)
            # "Trotsky led the Right": the wing's own phrase may carry the verb (offline trial 5).
            # "when stalin took it in 1926 the new opposition had no base left": a date's "in" links no one
            # to the group (relay trial 36's evidence put Stalin in the New Opposition, refused twice).
            gap = _DATE_PHRASE.sub(" ", low[first_before.end:gm.start]) if first_before is not None else ""
            if first_before is not None and not _MEMBER.search(gap + " ") and not (
                    gm.kind == "wing" and not low[first_before.end:gm.start].strip()
                    and _WING_VERB.match(low, gm.start)):
                before = []
            # "they turn on Stalin with the New Opposition": the person an attack is aimed at is not
            # one of the group (relay trial 11).
            targets = {m.id for m in people if m.end <= gm.start
                       and re.search(r"(?:\bturn(?:ed|s)? on|\bagainst|\battack(?:ed|s)?|\bchalleng(?:ed|es|e)|"
                                     r"\bdefeat(?:ed|s)?|\bopposed?|\bbeat|"
                                     # "helping Stalin crush Trotsky in the triumvirate" (relay trial 65)
                                     r"\bcrush(?:ed|es|ing)?|\bisolat(?:e|ed|es|ing)|\bsideline(?:d|s)?|\bsidelining|"
                                     r"\bstop(?:ped|s|ping)?|\bblock(?:ed|s|ing)?|\bcontain(?:ed|s|ing)?|\bkeep(?:ing)? out|"
                                     r"\bdefeating|\bbeating|\bgang(?:ed|ing)? up on|"
                                     # "a counterweight to Trotsky in the triumvirate" (relay trial 15)
                                     r"\b(?:counterweight|counter-weight|balance|check|threat|rival|alternative)s? to)\s+$",
                                     low[max(0, m.start - 25):m.start])}
            before = [pid for pid in before if pid not in targets]
            after = []
            later = [m for m in people if m.start >= gm.end]
            first_after = later[0] if later else None
            if first_after is not None and _TARGET_AFTER.fullmatch(low[gm.end:first_after.start]) and len(later) > 1:
                # "the triumvirate against trotsky was stalin, zinoviev and bukharin": the one it was
                # against is no member; the list after the link is (the offline trial 14 student went
                # uncorrected).
                targets.add(first_after.id)
                gm_end, first_after = first_after.end, later[1]
            else:
                gm_end = gm.end
            if first_after is not None and _GROUP_LINK.fullmatch(low[gm_end:first_after.start]):
                after = _side_after(low, people, first_after.start, 6)  # the link is checked: "(" too
                after = [pid for pid in after if pid not in targets]
            for pid in before + after:
                # The mention nearest the group: "a rebuke for Stalin, but not his removal — the troika
                # (Zinoviev, Kamenev, Stalin)" names Stalin in the troika (relay trial 59's evidence took
                # the first "Stalin" and read the "not" between as denying it).
                pm = min((m for m in people if m.id == pid), key=lambda m: min(abs(m.start - gm.end), abs(gm.start - m.end)))
                between = low[min(pm.end, gm_end):max(pm.start, gm.start)]
                if _AGAINST.search(between):
                    continue
                negated = pm.negated or bool(re.search(r"\b(?:not|never|wasn't|weren't)\b", between))
                if gm.kind == "group":
                    out += self._group_member(pm.id, gm.id, year, negated, sentence)
                else:
                    out += self._wing_member(pm.id, gm.id, negated, sentence)
        return out

    def _turned_on(self, low: str, sentence: str, ms: list[Mention], years: list[tuple[int, int]]) -> list[Verdict]:
        """"Stalin turned on the Right in 1925": a person against a group or wing. Contradicted when
        the person was one of its members, or turned on it before it existed as his opponent."""
        out = []
        people = [m for m in ms if m.kind == "person" and m.id in PROTAGONISTS and m.id != "lenin"]
        for gm in (m for m in ms if m.kind in ("group", "wing")):
            cue = next((c for c in _AGAINST.finditer(low) if c.end() <= gm.start + 3
                        and re.fullmatch(r"\s*(?:on\s+)?(?:the\s+)?", low[c.end():gm.start])
                        or (c.end() <= gm.start and re.fullmatch(r"(?:on)?\s*", low[c.end():gm.start]))), None)
            if cue is None:
                continue
            subject = next((p for p in reversed(people) if p.end <= cue.start()
                            and len(low[p.end:cue.start()].split()) <= 3
                            and not _SIDE_BREAK.search(low[p.end:cue.start()])), None)
            if subject is None:
                continue
            groups = ([g for g in self.facts.groups if g.id == gm.id] if gm.kind == "group"
                      else [g for g in self.facts.groups if g.wing == gm.id])
            year = _segment_year(low, gm.start, years)
            claim = Claim(subject.id, "opposed", gm.id, year, subject.negated, sentence)
            foe = [g for g in groups if subject.id in g.against]
            if foe and not subject.negated:
                g = foe[0]
                correct = f"{self.facts.name(subject.id)} was against {g.name} in {_span(g)}."
                if year is not None and year < min(x.years[0] for x in foe):
                    allies = [x for x in self.facts.groups_of(subject.id, year)
                              if set(x.members) & set(g.members)]
                    if allies:
                        correct += f" In {year} he was in {allies[0].name}."
                    out.append(self._verdict("contradicted", "wrong_date", claim, g, correct, f"groups.{g.id}",
                                             probe=f"When did {self.facts.name(subject.id)} turn on them? The "
                                                   f"source says: “{_sentence_of(g.support)}”"))
                else:
                    out.append(self._verdict("supported", "opposed", claim, g, correct, f"groups.{g.id}"))
            elif groups and all(subject.id in g.members for g in groups) and not subject.negated:
                g = groups[0]
                out.append(self._verdict("contradicted", "wrong_alliance", claim, g,
                                         f"{self.facts.name(subject.id)} was one of {g.name}.", f"groups.{g.id}",
                                         probe=f"Whose side was {self.facts.name(subject.id)} on? The source says: "
                                               f"“{_sentence_of(g.support)}”"))
        return out

    def _group_member(self, pid: str, gid: str, year: int | None, negated: bool, sentence: str) -> list[Verdict]:
        g = next(x for x in self.facts.groups if x.id == gid)
        claim = Claim(pid, "member_of", gid, year, negated, sentence)
        members = " and ".join([", ".join(self.facts.name(m) for m in g.members[:-1]), self.facts.name(g.members[-1])]
                               if len(g.members) > 1 else [self.facts.name(g.members[0])])
        name = g.name[0].upper() + g.name[1:]
        named = all(self.facts.name(m).split()[-1] in g.name for m in g.members)
        # "The United Opposition of Trotsky, Zinoviev and Kamenev … was Trotsky, Zinoviev and Kamenev"
        # said nothing (offline trial 10, as the correction of "formed in 1924"): its years say it.
        correct = f"{name} belongs to {_span(g)}." if named else f"{name} ({_span(g)}) was {members}."
        is_member = pid in g.members
        if year is not None and is_member and not (g.years[0] - 1 <= year <= g.years[1]) and not negated:
            if named:
                correct = f"{name} belongs to {_span(g)}, not {year}."
            return [self._verdict("contradicted", "wrong_date", claim, g, correct, f"groups.{gid}",
                                  probe=f"When did that group exist? The source says: “{_sentence_of(g.support)}”")]
        if year is not None and is_member and year == g.years[0] - 1 and not negated:
            # The year before a group's first: some accounts date a beginning early (the triumvirate from
            # about 1922), so no contradiction, but no support either (relay trials 41 and 43's evidence
            # "supported" the United Opposition at the 14th Congress of December 1925).
            return []
        if is_member != negated:
            return [self._verdict("supported", "member_of", claim, g, correct, f"groups.{gid}")]
        if named:
            correct = f"{name} ({_span(g)}) was {members}, never {self.facts.name(pid)}." if not is_member \
                else f"{name} ({_span(g)}) did include {self.facts.name(pid)}."
        return [self._verdict("contradicted", "wrong_faction", claim, g, correct, f"groups.{gid}",
                              probe=f"Who was in {g.name.split(' of ')[0]}? The source says: "
                                    f"“{_sentence_of(g.support)}” Where was {self.facts.name(pid)} then?")]

    def _wing_member(self, pid: str, wing: str, negated: bool, sentence: str) -> list[Verdict]:
        wings = self.facts.wings(pid)
        if not wings:
            return []
        groups = [g for g in self.facts.groups_of(pid) if g.wing != "centre"]
        g = groups[0]
        claim = Claim(pid, "member_of", f"the {wing}", None, negated, sentence)
        correct = (f"{self.facts.name(pid)} was on the party's {' and '.join(sorted(wings))}: "
                   + "; ".join(f"{x.name} ({_span(x)})" for x in groups) + ".")
        if (wing in wings) != negated:
            return [self._verdict("supported", "member_of", claim, g, correct, f"groups.{g.id}")]
        # "Trotsky led the Right": say who the Right were, too (offline trial 5).
        named = [x for x in self.facts.groups if x.wing == wing and pid not in x.members]
        if named and not negated:
            correct += f" The party's {wing} was " + "; ".join(f"{x.name} ({_span(x)})" for x in named) + "."
        return [self._verdict("contradicted", "wrong_faction", claim, g, correct, f"groups.{g.id}",
                              probe=f"The source says: “{_sentence_of(g.support)}” Which side of the party was "
                                    f"{self.facts.name(pid)} on?")]

    # -- dated events and their order (the timeline) ----------------------------------------------------
    def _events_dated(self, low: str, sentence: str, ms: list[Mention],
                      years: list[tuple[int, int]]) -> list[Verdict]:
        """A year tied to a timeline event: right after its phrase ("expelled ... in 1927") or opening
        the clause just before it ("In 1927 Trotsky was expelled"), nearest event first."""
        events = [m for m in ms if m.kind == "event"]
        if not events or not years:
            return []
        # "Zinoviev attacked socialism in one country in 1925": the year dates the attack on
        # the idea, not the idea's statement.
        idea_spans = [(m.start, m.end) for m in ms if m.kind == "quote"
                      and next(q for q in self.facts.quotations if q.id == m.id).kind == "idea"]
        events = [m for m in events if not any(s <= m.start < e for s, e in idea_spans)
                  or not _AGAINST.search(low[:m.start])]
        # "Did Bukharin back SiOC alongside Stalin in 1925-27": the year dates the backing, not the
        # idea's statement (offline trial 5).
        events = [m for m in events if not _STANCE_ON.search(low[:m.start])]
        # "bukharin got expelled from the party in 1929" is not Trotsky and Zinoviev's expulsion; "they
        # wanted Trotsky expelled in 1925" is a demand, not the expulsion.
        # "and then he got expelled from the party in 1929 same time trotsky got kicked out": a "he" nothing
        # resolved is no one the event names (relay trial 50: Bukharin's 1929 fall read as Trotsky's expulsion).
        events = [m for m in events
                  if not wished(low[:m.start])
                  and not someone_else(low[:m.start], self.facts.event[m.id].event,
                                       low[m.start:m.end])
                  and not _someone_else_he(low, m)]
        if not events:
            return []
        stated: dict[str, int] = {}
        lessons = Lessons(cards=[], timeline=self.facts.timeline)
        kept = {m.id for m in events}
        for err in lessons.date_errors(sentence):
            if err.event.id in kept:
                stated.setdefault(err.event.id, err.stated_year)
        # Each year goes to its nearest event, and each event keeps its nearest year: "he was NOT killed
        # in 1929, he was exiled to Alma-Ata in 1928" dates the exile 1928, not by the first year read
        # (offline trial 7).
        pairs: dict[str, tuple[int, int]] = {}  # event id: (distance, year)
        where: dict[str, int] = {}  # event id: where its year is
        for pos, y in years:
            best = None
            for m in events:
                if pos >= m.end:
                    gap = low[m.end:pos]
                    # "at the 12th Congress or over the Testament in May 1924": the year is the Testament's.
                    ok = len(gap.split()) <= 6 and not re.search(r"[;:()]|,\s|\b(?:and|but|or|nor|which|when|after|before|while)\b", gap)
                    # "Socialism in One Country was 'adopted in 1925'" dates the adoption, not the statement
                    # (relay trial 61's evidence contradicted a true date).
                    ok = ok and not (re.search(r"\b(?:adopted|approved|ratified|endorsed)\b", gap) and not re.search(
                        r"adopt|approv|ratif|endors", self.facts.event[m.id].event, re.I))
                    dist = len(gap)
                else:
                    gap = low[pos + 4:m.start]
                    ok = len(gap.split()) <= 5 and not re.search(r"[;:()]", gap) and \
                        bool(re.search(r"(?:^|\b(?:in|by|during)\s+(?:\w+\s+)?)$", low[:pos].strip()[-20:] + " ")) \
                        and not re.search(r"\b(?:and|but|after|before|then|than)\b", gap) \
                        and not ("," in gap and not _OPENS_CLAUSE.search(low[:pos]))
                    dist = len(gap) + 20
                # "Trotsky was not killed in 1929": a denial of the date is no claim of it.
                denied = _NEGATION.search(low[max(0, min(m.start, pos) - 12):max(m.end, pos)])
                if ok and not denied and (best is None or dist < best[0]):
                    best = (dist, m)
            if best and (best[1].id not in pairs or best[0] < pairs[best[1].id][0]):
                pairs[best[1].id] = (best[0], y)
                where[best[1].id] = pos
        for eid, (_, y) in pairs.items():
            stated.setdefault(eid, y)
        # "by 1926 trotsky had lost the war commissariat": done by then, not in that year (relay trial 34).
        by_years = {y for pos, y in years if _BY_BEFORE.search(low[max(0, pos - 25):pos])}
        out = []
        for eid, y in stated.items():
            ev = self.facts.event[eid]
            lo, hi = ev.years
            claim = Claim(ev.id, "happened_in", ev.event, y, False, sentence)
            correct = _dated(ev)
            # "Bukharin left the Politburo in April 1929", "the postscript in March 1923": the year fits,
            # the month does not (relay trial 44's evidence said "the date fits").
            month_wrong = eid in where and stated[eid] == pairs[eid][1] and _wrong_month(low, where[eid], y, ev)
            if (lo <= y <= hi or (y in by_years and lo <= y)) and not month_wrong:
                out.append(Verdict("supported", "happened_in", claim, correct, f"timeline.{ev.id}", ev.docs[0],
                                   _event_passage(ev)))
            else:
                out.append(Verdict("contradicted", "wrong_date", claim, correct, f"timeline.{ev.id}", ev.docs[0],
                                   _event_passage(ev),
                                   f"When did that happen? The course timeline dates it to {ev.when}: what came "
                                   f"just before it?"))
        return out

    def _order(self, low: str, sentence: str, ms: list[Mention]) -> list[Verdict]:
        events = []
        for m in ms:
            if m.kind == "event" and re.match(r"\s+(?:members|recruits|intake|generation|delegates)\b", low[m.end:]):
                # "socialism in one country then gave the new Lenin Enrolment members a reason": the people
                # it brought in, not the event, so no order (relay trial 43's essay notice said otherwise).
                continue
            if m.kind == "event" and _someone_else_he(low, m):
                continue  # an unresolved "he" is no one the event names (see _events_dated)
            if m.kind == "event" and m.id not in [e.id for e, _ in events]:
                events.append((self.facts.event[m.id], m))
        if len(events) < 2:
            return []
        (a, ma), (b, mb) = events[0], events[1]
        # A cue between the two events speaks for them before one opening the sentence: "Once Stalin became
        # General Secretary in 1923, after Lenin's third stroke, he…" puts the stroke first (relay trial
        # 59's evidence read the opening "once" and found the order "fits").
        cues = list(_ORDER.finditer(low))
        cue = next((c for c in cues if ma.end <= c.start() <= mb.start), cues[0] if cues else None)
        soon = next((c for c in _ORDER.finditer(low) if c.group(0) == "after" and _SOON.search(low[:c.start()])), None)
        if soon:
            # "when lenin died … and then trotsky got exiled straight after the funeral": the "straight
            # after" is the claim to test, between the events either side of it (relay trial 33).
            before = [e for e in events if e[1].end <= soon.start()]
            after = [e for e in events if e[1].start >= soon.end()]
            if before and after:
                (a, ma), (b, mb), cue = before[-1], after[0], soon
        # …nor "check my fixed timeline before i go: ban on factions march 1921, …": the student's own
        # doings, or a colon between, end the cue's reach (relay trial 58's evidence reversed a right list).
        if not cue or re.match(r"\s+(?:that|this|then|it|them|those|i|we|you|u)\b", low[cue.end():]) \
                or (cue.start() < ma.start and re.search(r"[;:]", low[cue.end():ma.start])):
            # "before that he'd been Commissar for Nationalities and head of Rabkrin": both before
            # something said earlier, not one before the other (relay trial 5).
            return []
        word = cue.group(0)
        earlier_first = word not in ("after", "came after", "later than", "once", "preceded")
        if cue.start() < ma.start and (len(low[cue.end():ma.start].split()) > 3
                                       or re.search(r"\d", low[cue.end():ma.start])):
            return []  # "Before 1922 he was A and B": the cue's object is a date, not event A (relay trial 6)
        if cue.start() < ma.start:  # "After A, B" / "Before A, B": B relative to A
            earlier_first = word in ("before", "prior to", "until")
            first, second = (b, a) if earlier_first else (a, b)
        elif ma.end <= cue.start() <= mb.start:
            gap = low[ma.end:cue.start()]
            if len(gap.split()) > 8 or re.search(r"[;:]|\s[-–—]\s|\bbecause\b", gap):
                # (and "the 14th congress, because once they lost … then kirov took leningrad": the cue opens a
                # reason of its own, relay trial 49)
                # "… at the 14th Congress in 1925 was so isolated - Leningrad was …, and once the Congress
                # had voted … Stalin sent Molotov and Kirov": the cue belongs to a later clause, not to
                # the event named far before it (relay trial 42's evidence reversed the order).
                return []
            first, second = (a, b) if earlier_first else (b, a)
        else:
            return []
        f0, s0 = _start(first), _start(second)
        if f0 == s0 or _overlap(first, second):
            return []
        if any(_TOPIC_OF.search(low, 0, m.start) for m in (ma, mb)):
            # "once Trotsky lost the War Commissariat, they fell out over socialism in one country": what a
            # quarrel is about is no event in the order (relay trial 40's evidence contradicted it).
            return []
        claim = Claim(first.id, "before", second.id, None, False, sentence)
        negated = bool(re.search(r"\b(?:not|never)\b", low[min(ma.start, mb.start):max(ma.end, mb.end)]))
        right = (f0 < s0) != negated
        correct = f"{first.event if f0 < s0 else second.event} ({(first if f0 < s0 else second).when}) came before " \
                  f"{(second if f0 < s0 else first).event[0].lower() + (second if f0 < s0 else first).event[1:]} " \
                  f"({(second if f0 < s0 else first).when})."
        doc = (second if f0 >= s0 else first).docs[0]
        passage = _event_passage(first if f0 >= s0 else second)
        early, late = (first, second) if f0 < s0 else (second, first)
        if right and not negated and _SOON.search(low[:cue.start()]) and _months(late.date) - _months(early.end or early.date) > 12:
            # "he got killed right after Lenin died in 1924": the order holds, the "right after" does not
            # (the seventh blind offline trial's student heard "My notes don't decide that one").
            years = _months(late.date) // 12 - _months(early.date) // 12
            correct = f"{late.told} {_on(late.when)}, {years} year{'s' * (years != 1)} after " \
                      f"{early.told[0].lower() + early.told[1:]} ({early.when}), not straight after it."
            return [Verdict("contradicted", "wrong_date", claim, correct, f"timeline.{late.id}", late.docs[0],
                            _event_passage(late), f"How long after {early.told[0].lower() + early.told[1:]} did "
                                                  f"that happen, and what came in between?")]
        if right:
            return [Verdict("supported", "before", claim, correct, f"timeline.{first.id}", doc, passage)]
        return [Verdict("contradicted", "wrong_order", claim, correct, f"timeline.{first.id}", doc, passage,
                        f"Which came first? The timeline puts {second.when} before {first.when}: how does the "
                        "order change the story?")]


# -- helpers --------------------------------------------------------------------------------------------
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


# What an argument is about, said just before an event's name: the event is its topic.
_TOPIC_OF = re.compile(r"\b(?:fell out|falling out|split|quarrell?ed|argued|arguing|clashed|disagreed|divided|broke)\b"
                       r"[^.,;]{0,25}?\b(?:over|about|regarding|concerning|on)\s+(?:the\s+)?(?:question of\s+|issue of\s+)?$")


_MONTH_NUMBER = {m.lower(): i + 1 for i, m in enumerate(_MONTHS)}


def _wrong_month(low: str, pos: int, year: int, ev: TimelineEvent) -> bool:
    """The year the event was given has a month just before it ("in April 1929") and the event, dated
    to a month or to a day within one month, fell in another month of that year."""
    # A span within one month too: the 13th Congress (23–31 May 1924) "in january 1924" (relay trial 64's evidence
    # said the date fits).
    if ev.precision not in ("month", "day", "span") or (ev.end and ev.end[:7] != ev.date[:7]) or int(ev.date[:4]) != year:
        return False
    said = re.search(rf"\b({'|'.join(_MONTH_NUMBER)})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?$", low[max(0, pos - 16):pos])
    return bool(said) and _MONTH_NUMBER[said.group(1)] != int(ev.date[5:7])


def _loose(term: str) -> re.Pattern[str]:
    """A timeline keyword allowing up to two words between its words ("NEP was introduced",
    "Trotsky was deported", "13th Party Congress")."""
    words = [w for w in re.split(r"[\s]+", term.lower().replace("...", " ").replace("’", "'")) if w]
    if len(words) < 2:
        return term_regex(term)
    parts = [re.escape(w).replace("'", "'?") for w in words]
    # "Lenin's third stroke" is not "Lenin's stroke" (the first): an ordinal is never a filler word.
    # Spaces only between the words: "Ah right, New Opposition in 1925" is not the Right Opposition
    # dated 1925 (relay trial 6); a comma or a full stop ends the phrase.
    # Nor is "against": "joined Stalin against Trotsky" is no "joined Trotsky".
    filler = r"\s+(?:(?!(?:first|second|third|fourth|last|final|against)\b)[\w'-]+\s+){0,2}?"
    return re.compile(r"(?<!\w)" + filler.join(parts) + r"(?!\w)")


def _during(g: Group) -> str:
    """ "From 1923 to 1925", or "In 1925" for one year: a group's years opening a sentence."""
    a, b = g.years
    return f"In {a}" if a == b else f"From {a} to {b}"


def _span(g: Group) -> str:
    """A group's years: "1926–1927", or "1925" for one year."""
    a, b = g.years
    return str(a) if a == b else f"{a}–{b}"


def _human(iso: str) -> str:
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def _sentence_of(support: str) -> str:
    text = support.strip()
    return text if text.endswith((".", "?", "!", "”", '"')) else text + "…"


def _dated(ev: TimelineEvent) -> str:
    """"In February 1929, Trotsky is deported from the USSR to Turkey.": the date first, so a reply
    that keeps only a correction's first clause (up to a colon or semicolon) still gives it."""
    when = f"From {ev.when.replace(' – ', ' to ')}" if ev.end else f"{'On' if ev.precision == 'day' else 'In'} {ev.when}"
    # Told in the past ("Trotsky was exiled"): a correction in the timeline's present tense ("In January
    # 1928, Trotsky is exiled") read as garbled to the seventh offline trial's scorers.
    event = ev.told.rstrip(".")
    if event.split(" ", 1)[0] in ("The", "A", "An"):
        event = event[0].lower() + event[1:]
    return f"{when}, {event}."


def _event_passage(ev: TimelineEvent) -> str:
    return f"{ev.when}: {ev.event}."


def _negated_in_clause(low: str, found: re.Match, start: int = 0) -> bool:
    """A negation in the claim's own words: from ``start`` or the last clause break before the claim,
    to its end."""
    # A break inside the claim's span counts too: "the testament didnt finish him off because lenin said
    # trotsky should take over" matched from "testament" across the "because" (relay trial 55).
    breaks = [b.end() for b in _CLAUSE_BREAK.finditer(low, start, found.end()) if b.end() < found.end()]
    return bool(_NEGATION.search(low[max([start] + breaks):found.end()]))


def _on(when: str) -> str:
    """"August 1940" → "in August 1940"; "21 January 1924" → "on 21 January 1924"."""
    return ("on " if when[:1].isdigit() and not re.fullmatch(r"\d{4}", when) else "in ") + when


def _months(date: str) -> int:
    """An ISO date's month count, for gaps between events ("1940-08-20" → 1940 * 12 + 7)."""
    return int(date[:4]) * 12 + (int(date[5:7]) - 1 if len(date) >= 7 else 0)


def _start(ev: TimelineEvent) -> str:
    return ev.date


def _overlap(a: TimelineEvent, b: TimelineEvent) -> bool:
    """Two events whose dates cannot be ordered (same month at month precision, or spans overlapping)."""
    def bounds(e: TimelineEvent) -> tuple[str, str]:
        return e.date, (e.end or e.date) + "~"
    (a0, a1), (b0, b1) = bounds(a), bounds(b)
    if a.precision == "year" or b.precision == "year":
        return a.date[:4] == b.date[:4]
    if a.precision == "month" or b.precision == "month":
        if a.date[:7] == b.date[:7]:
            return True
    return a0 < b1 and b0 < a1 and (a.end is not None or b.end is not None)


def _first(pattern: re.Pattern[str], low: str, after: int = 0) -> re.Match[str] | None:
    for m in pattern.finditer(low):
        if m.start() >= after - 1:
            return m
    return None


_FRONTED = re.compile(r"^\W*(?:having been|as|appointed|made|named|once|after becoming|on becoming)\s+(?:the\s+)?$")
_FRONTED_GAP = re.compile(r"\s*(?:(?:since|from|in|by)\s+(?:\w+\s+)?\d{4}\s*)?(?:with lenin's support\s*)?,\s*")


def _nearest_person(low: str, people: list[Mention], om: Mention) -> Mention | None:
    """The person a post is claimed for: named right after it ("General Secretary Stalin") or the
    subject just before it in the same clause ("Stalin, the General Secretary", "Stalin became
    General Secretary"), not someone in another clause ("Stalin's opponents ... the Leningrad
    organisation")."""
    after = [p for p in people if p.start >= om.end and re.fullmatch(r"\s*", low[om.end:p.start])]
    if after:
        return after[0]
    # "Having been General Secretary since 1917, Stalin was able to …": the post opens the sentence and
    # its holder is the subject after the comma (offline trial 10's essay).
    fronted = [p for p in people if p.start >= om.end and _FRONTED_GAP.fullmatch(low[om.end:p.start])]
    if fronted and _FRONTED.search(low[:om.start]):
        return fronted[0]
    before = [p for p in people if p.end <= om.start]
    if not before:
        return None
    p = before[-1]
    gap = low[p.end:om.start]
    if len(gap.split()) > 6 or _OTHER_SUBJECT.search(gap) or _THOUGHT_OF.search(gap):
        return None
    return p


# "nobody, Lenin included, thought of the General Secretary as the top job": the post is what he thought
# about, not one he held (relay trial 75's evidence said "never Lenin").
_THOUGHT_OF = re.compile(r"\b(?:thought of|thinks? of|thought about|saw|sees|regarded|regards?|considered|considers?|"
                         r"viewed|views?|treated|rated|underestimated|dismissed|feared|looked down on)\b")


# ", siding with Bukharin against the United Opposition" after "putting forward Socialism in One Country in late
# 1924": a list of things done, each its own clause (relay trial 75's evidence dated the siding 1924).
_SEGMENT = re.compile(r"[;:]|\s[-–—]+\s|,\s*(?:and|but|when|while|which|who|then|so|after|before|because|as)\b|"
                      r",\s*(?:and\s+)?(?=[a-z]{3,}ing\s)(?!during\b|according\b|including\b|regarding\b|following\b)|"
                      r"\b(?:when|while|because|whereas|although|though)\b|\band then\b")
# "the triumvirate (stalin zinoviev bukharin)": a bracket or colon alone also names the members.
_TARGET_AFTER = re.compile(r"\s*(?:\(\s*)?(?:against|vs\.?|versus|opposed to|to stop|to beat)\s+(?:the\s+)?")
_GROUP_LINK = re.compile(r"\s*[(:]\s*|\s*(?:\(|,|:)?\s*(?:(?:in|of|from)\s+\d{4}(?:\s*[-–]\s*\d{2,4})?\s*,?\s*)?(?:of|including|with|like|such as|namely|by|was|were|consisted of|"
                         r"made up of|included|comprised|led by|formed by|members were|were led by|was led by)\s*"
                         r"(?:the\s+)?")


def _bound_to_event(low: str, pos: int, ms: list[Mention]) -> bool:
    """The year at ``pos`` is an event's own ("the 1921 ban on factions", "ban on factions of 1921")."""
    for m in ms:
        if m.kind != "event":
            continue
        if m.start >= pos + 4 and re.fullmatch(r"\s*", low[pos + 4:m.start]) and re.search(r"\bthe\s+$", low[:pos]):
            return True
        if pos >= m.end and re.fullmatch(r"\s*(?:of|\()\s*'?", low[m.end:pos]):
            return True
    return False


def _in_segment(low: str, pos: int, years: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (position, year) pairs in the clause that holds ``pos``."""
    bounds = [0] + [m.start() for m in _SEGMENT.finditer(low)] + [len(low)]
    lo = max(b for b in bounds if b <= pos)
    hi = min(b for b in bounds if b > pos) if any(b > pos for b in bounds) else len(low)
    return [(p, y) for p, y in years if lo <= p < hi]


def _segment_years(low: str, pos: int, years: list[tuple[int, int]]) -> list[int]:
    """The years in the clause that holds ``pos`` (a year in another clause is about something else)."""
    return [y for _, y in _in_segment(low, pos, years)]


def _segment_year(low: str, pos: int, years: list[tuple[int, int]]) -> int | None:
    """The year of the clause nearest ``pos``: "lenin died in 1926 and stalin had been general
    secretary since 1917" dates the post 1917, not 1926 (relay trial 19)."""
    inside = _in_segment(low, pos, years)
    return min(inside, key=lambda py: abs(py[0] - pos))[1] if inside else None


_LIST_JOIN = re.compile(r"\s*(?:,|and|&|or|,\s*and)?\s*")
_CLAUSE_AND = re.compile(r"\b(?:and|then|whereas|yet)\b")
_SIDE_BREAK = re.compile(r"[;:()]|\b(?:than|because|so|but|which|who|when|while|whose|after|before|more|less|"
                         r"feared|fear|hated|thought|although|though|if)\b")


def _side_before(low: str, people: list[Mention], at: int, gap_words: int = 4) -> list[str]:
    """The list of people just before a cue ("Zinoviev and Kamenev were allied"), nearest last."""
    side: list[str] = []
    end = at
    for m in reversed([m for m in people if m.end <= at]):
        gap = low[m.end:end]
        if not side:
            # "fell out with stalin over nep and joined trotsky": Stalin, the object of the first
            # clause, is not who joined Trotsky (relay trial 5).
            if len(gap.split()) > gap_words or _SIDE_BREAK.search(gap) or "," in gap \
                    or (len(gap.split()) >= 2 and _CLAUSE_AND.search(gap)):
                break
        elif not _LIST_JOIN.fullmatch(gap):
            break
        side.insert(0, m.id)
        end = m.start
    return side


def _side_after(low: str, people: list[Mention], at: int, gap_words: int = 3) -> list[str]:
    """The list of people just after a cue ("sided with Rykov and Tomsky")."""
    side: list[str] = []
    start = at
    for m in [m for m in people if m.start >= at]:
        gap = low[start:m.start]
        if not side:
            # "supported NEP and stalin…": a new clause began, Stalin is not who was supported.
            if len(gap.split()) > gap_words or _SIDE_BREAK.search(gap) or (gap.strip() and _CLAUSE_AND.search(gap)):
                break
        elif not _LIST_JOIN.fullmatch(gap):
            break
        side.append(m.id)
        start = m.end
    return side


def _negated_between(low: str, person: Mention, quote: Mention) -> bool:
    lo, hi = sorted((person.end, quote.start))
    return bool(re.search(r"\b(?:not|never|didn't|did not|wasn't|was not|rather than|instead of)\b", low[lo:hi]))
