"""The salient sentences of a document and the questions they answer: the extractive core shared
by lesson-card drafting (tutor.drafting) and passage-grounded tutoring (pedagogy.passage_plan).

>>> points = salient_points(text, title="The Shakhty trial of 1928", k=5)      # doctest: +SKIP
>>> points[0].when.text, points[0].names[:2]                                  # doctest: +SKIP
('10 March 1928', ['Shakhty', 'Pravda'])
>>> ladder(points[0], topic_of("The Shakhty trial of 1928"))[0]               # doctest: +SKIP
'What happened in Shakhty on 10 March 1928?'

A sentence is salient when it carries what a student should recall and explain: dated events,
named people, bodies and places, causes and consequences. Everything is rule-based and
deterministic: the same document always gives the same points and questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.pedagogy.compose import sentences
from tutor.retrieval import tokenize
from tutor.scan import scan_text


def zipf_frequency(word: str, lang: str = "en") -> float:
    """wordfreq's Zipf frequency, imported on first use: wordfreq finds its data with
    ``inspect.stack()``, which costs up to a second when imported deep in the start-up imports."""
    from wordfreq import zipf_frequency as frequency

    return frequency(word, lang)

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
_MONTH = "|".join(MONTHS)
_DAY_DATE = re.compile(rf"\b([0-3]?\d)\s+({_MONTH})\s+(1[89]\d\d|20[0-4]\d)\b")
_MONTH_DATE = re.compile(rf"\b({_MONTH})\s+(1[89]\d\d|20[0-4]\d)\b")
_SEASON_DATE = re.compile(r"\b(spring|summer|autumn|winter)\s+of\s+(1[89]\d\d|20[0-4]\d)\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20[0-4]\d)\b")

# A run of capitalised words, with "of"/"of the"/"and" inside ("Hall of Columns", "Workers' Opposition").
_NAME_RUN = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)\s+)?[A-Z][\w’'-]*[\w](?:\s+(?:of\s+the\s+|of\s+|de\s+)?(?!(?:{_MONTH})\b)[A-Z][\w’'-]*[\w])*")
# Capitalised words that are not names on their own.
_NOT_NAMES = frozenset("""The A An In It Its That This These Those But And Or He She They His Her Their
Was Were Is Are Not No On At By For From To Of As If When While After Before Only Even Many Most Some
Its Our We You Who What Why How Which Where Then There Here Both Each Every Either Neither Other Others
Once Since Until Yet So Also However Although Though Because Between During Under Over Much More Less
Later Early Around About Again Against With Without Into Onto Upon Among Through Such Within Thousands
Around Of Several Ordinary Either Rumours Historians Newspapers Investigators Officials Between First
Second Third Fourth Last Next One Two Three Four Five Six Seven Eight Nine Ten Twenty Fifty""".split()) | set(MONTHS)
# Adjectives that are names only with a noun after them ("Soviet Union", not "Soviet advisers").
_ADJECTIVES = frozenset("""Soviet British German French American Russian Chinese Polish Japanese Finnish Western
Eastern Nationalist Tsarist White Red""".split())
# Words that make a capitalised name an institution, event or place rather than a person.
_NOT_PERSON = frozenset("""Congress Party Fleet Expedition Committee Commission Opposition Uprising Policy Island
Union Army Caucasus Revolution Conference Commune Front Square Academy Harvest Control Provisional Revolutionary
Economic New Northern Southern Baltic Central House Hall Trade Workers Soviet Red White Autumn Spring Industrial
Foreign Secretary Gulf Kingdom States Republic Affair Trial Plan Platform Declaration Office Ministry Bank
Council Comintern Kuomintang Politburo Orgburo Secretariat Pravda Times Street River Sea Mountains Province
Commissariat Court Police Guard Bureau Institute University School Academy Group League Society Company""".split())
# How common a word may be (Zipf scale, wordfreq) and still tell a sentence apart from others.
CUE_MAX_ZIPF = 5.0
MAX_POINT_WORDS = 50
_CAUSAL = re.compile(r"\b(because|so that|led to|leading to|as a result|result(ed)? in|caused|cause of|therefore|"
                     r"in order to|meant that|which meant|allowed|helped|gave|used (it|them|this)|turned|"
                     r"blamed|proof|reason|so\b|answered|in response|reprisal)\b", re.I)
_SIGNIFICANCE = re.compile(r"\b(matter(ed|s)?|legacy|lasting|significan\w*|weapon|turning|marked|changed|showed|"
                           r"shows|effect|consequence\w*|power struggle|struggle|lesson|taught)\b", re.I)
_HEDGE = re.compile(r"\b(historians (disagree|debate|still debate|argue|regard|note|warn)|some historians|others argue|"
                    r"cannot be tested|is not known|are uncertain|is uncertain|disputed|differ between)\b", re.I)
_LEANS_BACK = re.compile(r"^(he|she|it|they|this|these|that|those|his|her|its|their|such|both|others|also|yet|but|"
                         r"however|instead|then|thus|so|either way|the same|there)\b", re.I)
_PLACE_BEFORE = re.compile(r"\b(in|at|to|from|near|outside|across)\s+$", re.I)
# Course-wide names: every card is about them, so they never tell a document's topic apart.
COMMON_NAMES = frozenset({"stalin", "trotsky", "lenin", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky",
                          "bolshevik", "bolsheviks", "soviet", "soviet union", "russia", "moscow", "party",
                          "central committee", "politburo", "congress", "pravda", "ussr", "red army"})


@dataclass(frozen=True)
class When:
    """A date found in a sentence: ISO form for the timeline, its precision and the words used."""

    iso: str
    precision: str  # day | month | year
    text: str

    @property
    def year(self) -> int:
        return int(self.iso[:4])

    @property
    def phrase(self) -> str:
        """The date as a question uses it: 'on 12 April 1927', 'in April 1927', 'in 1927'."""
        return ("on " if self.precision == "day" else "in ") + self.text


@dataclass
class Point:
    """One salient sentence of a document, with what questions and checks need from it."""

    sentence: str
    position: int
    score: float
    when: When | None
    names: list[str]
    people: list[str]
    places: list[str]
    cues: list[str]
    kind: str  # event | cause | significance | fact
    section: int = 0
    terms: list[str] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)  # name -> how a student would write it

    @property
    def slug(self) -> str:
        head = (self.names or self.cues or ["point"])[0]
        base = re.sub(r"[^a-z0-9]+", "-", head.lower()).strip("-") or "point"
        return f"{base}-{self.when.year}" if self.when else base


def find_date(sentence: str) -> When | None:
    """The most precise date in a sentence (a day beats a month beats a season or a year)."""
    m = _DAY_DATE.search(sentence)
    if m:
        day, month, year = int(m.group(1)), MONTHS.index(m.group(2)) + 1, m.group(3)
        if 1 <= day <= 31:
            return When(f"{year}-{month:02d}-{day:02d}", "day", f"{day} {m.group(2)} {year}")
    m = _MONTH_DATE.search(sentence)
    if m:
        return When(f"{m.group(2)}-{MONTHS.index(m.group(1)) + 1:02d}", "month", f"{m.group(1)} {m.group(2)}")
    m = _SEASON_DATE.search(sentence)
    if m:
        return When(m.group(2), "year", f"the {m.group(1).lower()} of {m.group(2)}")
    m = _YEAR.search(sentence)
    if m:
        return When(m.group(1), "year", m.group(1))
    return None


def _clean_name(run: str) -> str | None:
    words = run.replace("’", "'").split()
    while words and words[0] in _NOT_NAMES:
        words = words[1:]
    while words and words[-1] in ("of", "the", "de", "and"):
        words = words[:-1]
    if not words:
        return None
    name = " ".join(words)
    name = re.sub(r"'s$", "", name)
    if name in _NOT_NAMES or name in _ADJECTIVES or _YEAR.fullmatch(name) or len(name) < 3:
        return None
    return name


def names_in(sentence: str) -> list[tuple[str, int]]:
    """Capitalised names in a sentence with their offsets, first occurrence first."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for m in _NAME_RUN.finditer(sentence):
        name = _clean_name(m.group())
        # A capitalised common word opening the sentence is not a name ("Distrust of ...").
        if name and " " not in name and sentence.startswith(name) and zipf_frequency(name.lower(), "en") >= 3.0:
            continue
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append((name, m.start() + m.group().find(name.split()[0])))
    return out


def _people(doc_names: list[str]) -> set[str]:
    """Names that look like people: two or three capitalised words with no 'of' and no word of
    an institution ('Pyotr Voikov', not 'Baltic Fleet'), and any single word of such a name that
    the document also uses alone ('Chiang' from 'Chiang Kai-shek')."""
    people: set[str] = set()
    alone = {n for n in doc_names if " " not in n}
    for name in doc_names:
        words = name.split()
        if 2 <= len(words) <= 3 and "of" not in words and not any(w in _NOT_PERSON for w in words):
            people.add(name)
            people.update(w for w in words if w in alone)
    return people


def short_name(name: str, people: set[str], alone: set[str]) -> str:
    """How a student would write a person's name: the part the document uses alone, else all of it."""
    if name not in people or " " not in name:
        return name
    return next((w for w in name.split() if w in alone), name)


def topic_of(title: str) -> str:
    """The subject a question can name: 'The Shakhty trial of 1928' → 'the Shakhty trial of 1928';
    'The NEP debates: scissors, ...' → 'the NEP debates'."""
    head = re.split(r"\s*[:;—–(]\s*|\s+-\s+", title.strip(), maxsplit=1)[0].strip().rstrip(".")
    if not head:
        return "this topic"
    before_and = head.split(" and ")[0]
    if " and " in head and len(before_and.split()) >= 4:
        head = before_and
    first, _, rest = head.partition(" ")
    if first in ("The", "A", "An"):
        return f"{first.lower()} {rest}".strip()
    return head


FOCUS_BONUS = 1.0     # a sentence of the passage that answered the student
ANSWER_BONUS = 10.0   # the sentence that answers the student: always a key point


def analyse(text: str, period: tuple[int, int] | None = None, focus: str = "", answer: str = "") -> list[Point]:
    """Every usable sentence of a text as a scored Point (document order). A date outside the
    document's period (a book of 1958 in a document on 1928) counts for little. Sentences of
    ``focus`` (the passage that answered the student) count for more."""
    focused = {" ".join(tokenize(x)) for x in sentences(focus)} if focus else set()
    period = (int(period[0]), int(period[1])) if period else None
    sections = [s for s in re.split(r"\n(?=#)", text)]
    raw: list[tuple[int, str]] = []
    seen: set[str] = set()
    for n, section in enumerate(sections):
        for sentence in sentences(section):
            key = " ".join(tokenize(sentence))
            if not _standalone(sentence) or key in seen:  # chunk overlap repeats sentences
                continue
            seen.add(key)
            raw.append((n, sentence))
    all_names = [name for _, s in raw for name, _ in names_in(s)]
    people = _people(all_names)
    alone = {n for n in all_names if " " not in n}
    counts: dict[str, int] = {}
    for _, s in raw:
        for t in set(tokenize(s)):
            counts[t] = counts.get(t, 0) + 1
    points: list[Point] = []
    first_in_section: set[int] = set()
    for position, (section, s) in enumerate(raw):
        when = find_date(s)
        if when and period and not (period[0] <= when.year <= period[1]):
            when = None
        found = names_in(s)
        names = [n for n, _ in found]
        persons = [n for n in names if n in people]
        places = [n for n, at in found if n not in people and _PLACE_BEFORE.search(s[:at])
                  and not any(w in _NOT_PERSON for w in n.split())]
        # Words of this sentence rare in the rest of the document say what it alone is about.
        name_tokens = set(tokenize(" ".join(names)))
        cues = []
        for word in re.findall(r"\b[a-z][a-z-]{4,}\b(?!['’])", s):
            stem = (tokenize(word) or [""])[0]
            if stem and stem not in name_tokens and counts.get(stem, 0) <= 3 and word.lower() not in cues \
                    and word[0].islower() and zipf_frequency(word.lower(), "en") <= CUE_MAX_ZIPF:
                cues.append(word.lower())
        cues.sort(key=lambda w: zipf_frequency(w, "en"))
        score = 0.0
        if when:
            score += {"day": 2.0, "month": 1.5, "year": 1.0}[when.precision]
        score += 0.6 * min(4, len([n for n in names if n.lower() not in COMMON_NAMES]))
        causal = bool(_CAUSAL.search(s))
        significant = bool(_SIGNIFICANCE.search(s))
        score += 1.0 if causal else 0.0
        score += 0.8 if significant else 0.0
        words = len(s.split())
        score += 0.5 if 12 <= words <= 40 else (-2.0 if words < 8 else 0.0)
        if _LEANS_BACK.match(s):
            score -= 1.2
        if _HEDGE.search(s):
            score -= 0.8  # a debate is a counter-argument, not a point to recall
        if section not in first_in_section:
            first_in_section.add(section)
            score += 0.3
        key = " ".join(tokenize(s))
        if key in focused:
            score += FOCUS_BONUS
        if answer and key == " ".join(tokenize(answer)):
            score += ANSWER_BONUS
        kind = "event" if when else "significance" if significant else "cause" if causal else "fact"
        point = Point(s, position, score, when, names, persons, places, cues[:6], kind, section)
        point.short = {n: short_name(n, people, alone) for n in names}
        points.append(point)
    return points


def _standalone(sentence: str) -> bool:
    words = len(sentence.split())
    return (6 <= words <= MAX_POINT_WORDS and sentence.count('"') % 2 == 0
            and sentence.count("“") == sentence.count("”") and not sentence.startswith(("-", "*", "|")))


_KIND_ORDER = {"event": 0, "fact": 1, "cause": 2, "significance": 3}


def salient_points(text: str, *, k: int = 5, min_score: float = 1.5, per_section: int = 2,
                   period: tuple[int, int] | None = None, focus: str = "", answer: str = "") -> list[Point]:
    """The k most salient sentences, spread across sections and not repeating one another,
    ordered from recall (dated events, in date order) to causes and significance."""
    chosen: list[Point] = []
    used: dict[int, int] = {}
    focused = {" ".join(tokenize(x)) for x in sentences(focus)} if focus else set()
    for p in sorted(analyse(text, period, focus, answer), key=lambda p: (-p.score, p.position)):
        if len(chosen) >= k or p.score < min_score:
            break
        # The answering passage may give up to three points; other sections two.
        if used.get(p.section, 0) >= per_section + (1 if " ".join(tokenize(p.sentence)) in focused else 0):
            continue
        mine = set(tokenize(p.sentence))
        if any(len(mine & set(tokenize(c.sentence))) > 0.5 * max(1, len(mine)) for c in chosen):
            continue
        if scan_text(p.sentence):  # text aimed at a model ("ignore previous instructions") is no point to teach
            continue
        chosen.append(p)
        used[p.section] = used.get(p.section, 0) + 1
    for p in chosen:
        p.terms = evidence_terms(p)
    return sorted(chosen, key=lambda p: (_KIND_ORDER[p.kind], p.when.iso if p.when else "", p.position))


def evidence_terms(point: Point, limit: int = 4) -> list[str]:
    """Words a student making this point would use: its distinctive names, its year, its rarest
    words. Each is copied from the sentence, so each is in the document."""
    terms: list[str] = []
    for name in point.names:
        short = point.short.get(name, name)
        if short.lower() not in COMMON_NAMES and short not in terms:
            terms.append(short)
        if len(terms) >= 2:
            break
    if point.when:
        terms.append(str(point.when.year))
    for cue in point.cues:
        if len(terms) >= limit:
            break
        terms.append(cue)
    for name in point.names:  # a course-wide name is still better than too few terms
        if len(terms) >= 2:
            break
        if name not in terms:
            terms.append(name)
    return terms[:limit]


def _with_article(name: str, sentence: str) -> str:
    """'the OGPU', 'the Right' when the document writes them so; people and places as they are."""
    after = r"(?=[,.;:)'’]|\s+(?:was|were|had|has|is|and|in|of|to|at|on|by|with|as|from|for|which|who|did)\b|$)"
    return f"the {name}" if re.search(rf"\bthe {re.escape(name)}{after}", sentence) else name


# A lowercase word this rare ("samokritika") names the point better than a course-wide name.
RARE_CUE_ZIPF = 2.5


def _subject(point: Point) -> str:
    for name in point.names:
        if name.lower() not in COMMON_NAMES:
            return name
    rare = [c for c in point.cues if zipf_frequency(c, "en") < RARE_CUE_ZIPF]
    if rare:
        return rare[0]
    return point.names[0] if point.names else (point.cues[0] if point.cues else "it")


def ladder(point: Point, topic: str) -> list[str]:
    """Three questions on one point, from recall to significance (pump, hint, prompt). They
    name the point's subject, place or date, never its whole statement."""
    raw = _subject(point)
    subject = _with_article(raw, point.sentence)
    place = point.places[0] if point.places else None
    when = point.when.phrase if point.when else ""
    if point.when and place:
        pump = f"What happened in {place} {when}?"
    elif point.when and raw.lower() in COMMON_NAMES:
        # "What happened in June 1928 involving Stalin?" could be about anything: name the topic.
        pump = f"In {topic}, what happened {when} involving {subject}?"
    elif point.when:
        pump = f"What happened {when} involving {subject}?"
    elif raw in point.people:
        pump = f"What part did {subject} play in {topic}?"
    elif raw.lower() in topic.lower():  # not "about Shakhty in the Shakhty trial of 1928"
        pump = f"What do you know about {topic}?"
    else:
        pump = f"What do you know about {subject} in {topic}?"
    other = next((_with_article(n, point.sentence) for n in point.names
                  if n not in (raw, place) and n.lower() not in pump.lower()), None)
    cue = next((c for c in point.cues if c.lower() not in pump.lower()), None)
    if other:
        hint = f"How were {subject} and {other} involved{' ' + when if when else ''}?"
    elif cue:
        hint = f"Think about the word “{cue}”: how does it fit what happened with {subject}?"
    else:
        hint = f"Who else was involved with {subject}, and what did they do?"
    if point.kind in ("cause", "significance"):
        prompt = f"What did this lead to, and why did it matter for {topic}?"
    elif raw in point.people:
        prompt = f"Why did what {subject} did{' ' + when if when else ''} matter for {topic}?"
    else:
        prompt = f"Why did the events involving {subject}{' ' + when if when else ''} matter for {topic}?"
    return [pump, hint, prompt]


def hedges(text: str, limit: int = 3) -> list[str]:
    """Sentences where the document says historians disagree or evidence is uncertain: the
    document's own counter-arguments."""
    out = [p.sentence for p in analyse(text) if _HEDGE.search(p.sentence) and not _LEANS_BACK.match(p.sentence)]
    return out[:limit]
