"""What can be measured in an essay's text: paragraphs, sentences, evidence, argument language.

Example::

    lexicon = Lexicon.from_lessons(lessons)
    paras = read_paragraphs("In April 1922 Stalin became General Secretary. ...", lexicon)
    paras[0].dates, paras[0].names
    # → (['April 1922'], ['General Secretary'])

Everything here is rules over words, so the same essay always gets the same reading and every
number the banding uses can be shown to the student ("paragraph 3 has no date, name or figure").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.lessons import Lessons

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December"
          "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec")
# Longest forms first, so "21 January 1924" is one date and not also "1924".
DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? (?:{MONTHS})\.? (?:1[89]\d\d)"
    rf"|(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:1[89]\d\d)"
    rf"|(?:{MONTHS})\.? (?:1[89]\d\d)"
    rf"|(?:1[89]\d\d)(?:\s?[–—-]\s?(?:1[89])?\d\d)?(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:{MONTHS})\b)"
)
FIGURE = re.compile(
    r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\s?(?:%|per ?cent\b)"
    r"|\b(?:one|two|three|four|five|half a|a) (?:million|thousand)\b|\b\d+ (?:million|thousand)\b"
    r"|\b(?:forty-six|two-thirds|one-third|a third|a quarter|a half|half of)\b",
    re.I,
)
ORDINAL_EVENT = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)|First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth|Eleventh|"
    r"Twelfth|Thirteenth|Fourteenth|Fifteenth|Sixteenth) (?:Party )?(?:Congress|Conference)\b", re.I)
# Historians whose interpretations the course teaches (corpus/sources/hist-*.md) and the memoirist
# students most often quote. Matched case-sensitively: "service" the noun is not Robert Service.
HISTORIANS = ("Carr", "Deutscher", "Service", "Kotkin", "Fitzpatrick", "Conquest", "Tucker", "Ward", "Pipes",
              "Cohen", "Lewin", "Daniels", "Sukhanov", "Volkogonov", "Figes", "McCauley", "Lynch")
# The main actors are named in every essay; naming them is not in itself evidence.
PROTAGONISTS = frozenset({"stalin", "trotsky", "lenin", "zinoviev", "kamenev", "bukharin", "the party",
                          "the left", "the right", "party", "congress", "politburo", "russia", "ussr"})
# Single words that name a side or a month, not a specific event.
GENERIC = frozenset({"left", "right", "october", "leninism", "opposition", "georgia", "trotskyism"})

ANALYSIS = re.compile(
    r"\b(?:(?:this|which|that|it|these|they) (?:clearly |also |therefore )?(?:shows?|showed|suggests?|suggested|"
    r"meant|means|explains?|explained|mattered|matters|helped|helps|is (?:strong |good |clear )?evidence|"
    r"was (?:strong |good |clear )?evidence|supports?|fits|points?|proves?|reveals?|turned|ensured)"
    r"|therefore|as a result|consequently|thus|hence|mattered because|(?:important|significant|decisive|"
    r"damaging|effective|valuable) because|explains? why|the effect|this is why|which is why|shows? that|"
    r"suggests? that|means? that|meant that|is a reminder|shows the limits|so that|in order to|led (?:directly )?to"
    r"|(?:allowed|enabled|let) (?:him|stalin|them|the)|made it (?:possible|impossible|hard|easier|harder)"
    r"|(?:this|which|it) (?:started|caused|created|gave|made|weakened|strengthened|damaged|left|cost|saved))\b",
    re.I,
)
EXPLAINS = re.compile(r"\b(?:because|since|as a result of|due to|owing to)\b", re.I)
COUNTER = re.compile(
    r"\b(?:however|on the other hand|nevertheless|nonetheless|although|even so|yet|by contrast|in contrast"
    r"|another (?:reason|factor|explanation|cause)|other (?:reasons|factors)"
    r"|(?:the|a) (?:best|strongest|main) (?:argument|case|objection) against"
    r"|cannot be explained (?:only|solely|simply|just)|(?:alone|on its own) (?:does|did|cannot|could) not"
    r"|not (?:entirely|only|solely|simply|wholly) (?:to blame|responsible|because|due)"
    r"|(?:limits?|limitations?) of (?:the|this) (?:view|argument)|only up to a point|not sufficient"
    r"|(?:also|as well) (?:important|responsible|significant|to blame)|challenges? (?:the|this) view)\b",
    re.I,
)
WEIGH = re.compile(
    r"\b(?:(?:more|less|most|least) (?:important|significant|decisive|convincing|valid|responsible|damaging|"
    r"influential|fundamental|powerful)\b|rather than|outweigh\w*|mattered more|matters more|the (?:key|decisive|main|"
    r"real|deeper|underlying) (?:factor|reason|cause|explanation)|main reason|depended on|depends on"
    r"|to (?:a|some) (?:large|significant|great|limited|certain)? ?extent|to some extent"
    r"|(?:largely|partly|only partly|fully|mostly|completely) (?:valid|convincing|agree|true|correct)"
    r"|not (?:only|simply|just|merely)\b[^.]{0,60}\bbut\b|(?:was|is) (?:the )?foundation|connected all|linked all"
    r"|more than (?:any|anything|his|the|\w+ allowed)|decisive test|necessary but|not sufficient"
    r"|(?:partly|largely|mainly|mostly|only) because|qualif(?:y|ies|ied)|up to a point)",
    re.I,
)
VERDICT = re.compile(
    r"\b(?:i (?:partly |largely |mostly |strongly |partially |completely |fully )?(?:agree|disagree)"
    r"|the view is|this view is"
    r"|view (?:is|was) (?:largely |partly |only partly |fully |mostly )?(?:valid|convincing|correct|right|wrong)"
    r"|(?:largely|partly|mostly|fully|only partly) (?:valid|convincing|true|agree)"
    r"|(?:main|most important|key|decisive|biggest|greatest|principal|chief) (?:reason|factor|cause)"
    r"|(?:was|were) (?:mostly |largely |partly |entirely |only partly )?responsible"
    r"|to (?:a|some) (?:large |significant |great |limited |certain )?extent"
    r"|this is why|that is why|(?:more|most) important|the more important|(?:won|lost) because"
    r"|(?:was|were) (?:very |an? |the )?(?:important|significant|crucial|key|vital)(?: (?:reason|factor|cause))?)\b",
    re.I,
)
CONCLUSION_OPENER = re.compile(
    r"^\W*(?:in conclusion|to conclude|overall|in summary|to sum up|all in all|in the end|ultimately|so,? |"
    r"therefore,? (?:overall|in conclusion)|taking everything|on balance|my conclusion)", re.I)
CHRONOLOGY = re.compile(
    rf"^\W*(?:(?:in|on|by|from|after|during|at the end of|early in|late in|in the autumn of|in the spring of)\s+"
    rf"(?:the )?(?:(?:early|late|spring|summer|autumn|winter|end) (?:of )?)?(?:\d{{1,2}} )?(?:(?:{MONTHS}) )?1[89]\d\d"
    r"|then\b|next\b|later\b|after (?:that|this)\b|soon after\b|meanwhile\b)",
    re.I,
)
_SENT = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“‘'(])")
_TERMINAL = re.compile(r"[.!?][\"”’')\]]*\s*$")


@dataclass
class Lexicon:
    """Named things that count as specific evidence: events, documents, institutions, historians.

    Two alternations, longest name first (so "13th Party Conference" wins over "Conference"):
    capitalised single words match case-sensitively ("Service" the historian, not "service"),
    everything else case-insensitively."""

    names: list[str]
    exact: re.Pattern[str] | None = None
    loose: re.Pattern[str] | None = None
    canonical: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_lessons(cls, lessons: Lessons) -> "Lexicon":
        terms: dict[str, str] = {}
        for event in lessons.timeline:
            for kw in event.keywords:
                terms.setdefault(kw.lower(), kw)
        for card in lessons.cards:
            for kp in card.key_points:
                for term in kp.evidence_terms:
                    # Lower-case single words ("mistakes", "value") are topics, not evidence.
                    if " " in term or term[:1].isupper():
                        terms.setdefault(term.lower(), term)
        exact, loose = list(HISTORIANS), []
        for low, term in terms.items():
            if low in PROTAGONISTS or low in GENERIC or re.fullmatch(r"\d{4}", low) or len(low) < 4:
                continue
            (exact if (" " not in term and term[:1].isupper()) else loose).append(term)

        def alternation(words: list[str], flags: int) -> re.Pattern[str] | None:
            if not words:
                return None
            body = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
            return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", flags)

        canonical = {t.lower(): t for t in loose}
        return cls(sorted(set(exact + loose)), alternation(exact, 0), alternation(loose, re.I), canonical)

    def find(self, text: str) -> list[str]:
        """Distinct named things in the text; a longer name hides the shorter ones inside it."""
        taken: list[tuple[int, int]] = []
        found: list[str] = []
        matches = [(m.span(), m.group(0)) for m in ORDINAL_EVENT.finditer(text)]
        if self.loose is not None:
            matches += [(m.span(), self.canonical.get(m.group(0).lower(), m.group(0)))
                        for m in self.loose.finditer(text)]
        if self.exact is not None:
            matches += [(m.span(), m.group(0)) for m in self.exact.finditer(text)]
        # Longest first, so a name inside a longer one is skipped.
        for (a, b), name in sorted(matches, key=lambda x: -(x[0][1] - x[0][0])):
            if any(x <= a and b <= y for x, y in taken):
                continue
            taken.append((a, b))
            if name not in found:
                found.append(name)
        return found


@dataclass
class Paragraph:
    """One paragraph with its measurements. ``n`` counts from 1, as a teacher would."""

    n: int
    text: str
    sentences: list[str]
    role: str = "body"  # introduction | body | conclusion
    dates: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    historians: list[str] = field(default_factory=list)
    linked: int = 0       # sentences that draw a consequence or link evidence to the argument
    explained: int = 0    # sentences giving a reason (because, since...)
    counter: int = 0      # counter-argument markers
    weighed: int = 0      # weighing / comparison markers
    verdict: bool = False
    chronological: int = 0  # sentences that open with a date or "then"
    counter_opening: bool = False  # the first sentences turn to the other side
    asserted: list[str] = field(default_factory=list)  # claims with no date, figure or event near them

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def evidence(self) -> int:
        return len(self.dates) + len(self.names) + len(self.figures)

    @property
    def analytical(self) -> bool:
        """Draws at least one consequence from its material, or weighs it."""
        return self.linked > 0 or self.weighed > 0

    @property
    def narrative(self) -> bool:
        """Tells what happened, in date order, without saying why it matters to the question."""
        s = max(1, len(self.sentences))
        return (len(self.dates) >= 2 and self.linked == 0 and self.weighed == 0
                and (self.explained / s < 0.34 or self.chronological / s >= 0.4))

    def evidence_dict(self) -> dict[str, list[str]]:
        return {"dates": self.dates, "names": self.names, "figures": self.figures}


def split_paragraphs(text: str) -> list[str]:
    """Blank-line paragraphs; a text with none but several lines is split on its lines.
    Markdown headings and a leading "Question: ..." line are not part of the essay."""
    text = text.replace("\r\n", "\n").strip()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) == 1 and text.count("\n") >= 2:
        blocks = [b.strip() for b in text.split("\n") if b.strip()]
    out = []
    for block in blocks:
        lines = [ln for ln in block.split("\n") if not re.match(r"^\s*#{1,6}\s", ln)]
        block = " ".join(" ".join(lines).split())
        if not block or re.match(r"^(?:question|title|essay question)\s*:", block, re.I) and len(out) == 0 \
                and len(block.split()) < 60:
            continue
        out.append(block)
    return out


# Sentences that usually open a new paragraph, for text pasted without paragraph breaks.
_TOPIC_OPENER = re.compile(
    r"^\W*(?:firstly|first of all|secondly|thirdly|another|however|on the other hand|in addition|furthermore|"
    r"moreover|finally|lastly|in conclusion|to conclude|overall|the (?:best|strongest|main) (?:argument|case)|"
    r"a further|a second|a third|nevertheless)\b", re.I)
ONE_BLOCK_WORDS = 200


def split_block(block: str) -> list[str]:
    """One long block of text split where its topic sentences begin ("Firstly", "However", ...)."""
    sentences = split_sentences(block)
    parts: list[list[str]] = [[]]
    for sentence in sentences:
        if parts[-1] and len(parts[-1]) >= 2 and _TOPIC_OPENER.search(sentence):
            parts.append([])
        parts[-1].append(sentence)
    if len(parts) == 1 and len(sentences) >= 8:
        # No topic sentences to go by: paragraphs of about five sentences.
        parts = [sentences[i:i + 5] for i in range(0, len(sentences), 5)]
    return [" ".join(p) for p in parts if p]


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENT.split(paragraph) if s.strip()]


def ends_cleanly(paragraph: str) -> bool:
    return bool(_TERMINAL.search(paragraph.strip()))


def measure(n: int, text: str, lexicon: Lexicon) -> Paragraph:
    sentences = split_sentences(text)
    names = lexicon.find(text)
    historians = [h for h in HISTORIANS if re.search(rf"\b{h}\b", text)]
    opening = " ".join(sentences[:2]) if len(sentences) > 1 else text
    return Paragraph(
        n=n, text=text, sentences=sentences,
        dates=[m.group(0) for m in DATE.finditer(text)],
        names=names, figures=[m.group(0) for m in FIGURE.finditer(text)], historians=historians,
        linked=sum(1 for s in sentences if ANALYSIS.search(s)),
        explained=sum(1 for s in sentences if EXPLAINS.search(s)),
        counter=len(COUNTER.findall(text)),
        weighed=len(WEIGH.findall(text)),
        verdict=bool(VERDICT.search(text)),
        chronological=sum(1 for s in sentences if CHRONOLOGY.search(s)),
        counter_opening=bool(COUNTER.search(opening[:260])),
        asserted=unsupported_claims(sentences, lexicon),
    )


_EVALUATIVE = re.compile(r"\b(?:popular|unpopular|important|attractive|appeal\w*|mattered|loyal|powerful|successful|"
                         r"effective|liked|hated|trusted|feared|optimistic|clever|weak|strong|main reason)\b", re.I)


_DRAWS = re.compile(r"^\W*(?:therefore|thus|hence|so|this (?:shows|suggests|meant|means|is why)|these|overall|"
                    r"as a result|consequently)\b", re.I)


def _specific(sentence: str) -> bool:
    return bool(DATE.search(sentence) or FIGURE.search(sentence) or ORDINAL_EVENT.search(sentence)
                or any(re.search(rf"\b{h}\b", sentence) for h in HISTORIANS))


def unsupported_claims(sentences: list[str], lexicon: Lexicon) -> list[str]:
    """Sentences that judge a named factor ("X was popular", "X was important") with no date,
    figure, numbered congress or historian in the sentence or the one after it."""
    out = []
    for i, sentence in enumerate(sentences):
        if not _EVALUATIVE.search(sentence) or not lexicon.find(sentence):
            continue
        # "Therefore the post was very important" draws a conclusion from the evidence above it.
        if i > 0 and _DRAWS.match(sentence):
            continue
        if _specific(sentence) or (i + 1 < len(sentences) and _specific(sentences[i + 1])):
            continue
        out.append(sentence)
    return out


def read_paragraphs(text: str, lexicon: Lexicon) -> list[Paragraph]:
    """Measure every paragraph and give each its role (introduction, body, conclusion)."""
    blocks = split_paragraphs(text)
    if len(blocks) == 1 and len(blocks[0].split()) >= ONE_BLOCK_WORDS:
        blocks = split_block(blocks[0])
    paras = [measure(n, block, lexicon) for n, block in enumerate(blocks, start=1)]
    if len(paras) >= 3:
        paras[0].role = "introduction"
    if len(paras) >= 2 and is_conclusion(paras[-1]):
        paras[-1].role = "conclusion"
    return paras


def is_conclusion(p: Paragraph) -> bool:
    """A final paragraph that opens like a conclusion, or is short, finished and gives a verdict."""
    if CONCLUSION_OPENER.search(p.text):
        return True
    return ends_cleanly(p.text) and p.verdict and p.evidence <= 3 and len(p.sentences) <= 5
