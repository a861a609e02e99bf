"""The essay coach: owns banding an essay, naming its issues, and coaching it one question at
a time (on the coach page, and in the chat when a student pastes an essay).

Example (tests/test_coach.py runs it on the project's sample essays)::

    coach = EssayCoach(lessons, retriever)
    analysis = coach.analyse(text, question="'Stalin won because ...' Assess this view.")
    analysis.level, analysis.marks      # ('L3', [12, 14])
    reply = coach.chat_reply(session, text)

The analysis (band, descriptors, issues, fact checks, questions) is deterministic and offline.
A configured model reads the essay too (``model_reading``: one structured call, an EssayReading):
it bands the essay, cites the essay's words and lists factual errors, and the fact checker adds
any it missed. The reading and its reply are checked (marks in band, evidence in the essay, no
error listed that the fact base supports, no echo of the student's sentences), or the offline
wording is used instead, with a notice. The coach
never rewrites a paragraph or supplies a finished sentence: it asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from tutor.coach.bands import MARKS, Band, Summary, place
from tutor.coach.facts import EssayFacts, supported_check
from tutor.coach.features import (PROTAGONISTS, Lexicon, Paragraph, read_paragraphs, split_paragraphs,
                                  split_sentences)
from tutor.coach.issues import FACT_KINDS, Issue, find_issues
from tutor.documents import clean_text
from tutor.errors import TutorError
from tutor.lessons import DEFAULT_CARD, KeyPoint, LessonCard, Lessons
from tutor.model_turn import Brief, ModelTurn, data_block, model_turn, passages_block
from tutor.pedagogy.reading import EssayReading
from tutor.pedagogy.checks import Check, CheckContext, leaked_key_points, run_checks
from tutor.pedagogy.compose import Citation, sentences as passage_sentences
from tutor.pedagogy.learner import terms_in
from tutor.prompts import Prompts, load_prompt_yaml, load_prompts, prompt_text, secret_lines
from tutor.retrieval import tokenize
from tutor.settings import DEFAULT_PROMPTS
from tutor.turn import OFFLINE, Reply, Session, Turn

MAX_QUESTIONS = 6
# A coach sentence this close to a sentence of the student's essay would be rewriting it.
ECHO_LIMIT = 85
_QUESTION_LINE = re.compile(r"\b(explain why you agree or disagree|assess the validity|to what extent|how far|"
                            r"how (?:valid|convincing)|do you agree)\b", re.I)
_QUOTED_VIEW = re.compile(r"^\s*[‘'“\"](.+?)[’'”\"]\s*(?=(?:explain|assess|how|to what|discuss|do you)\b)",
                          re.I | re.S)
_INVERTED = re.compile(r"^\s*(?:to what extent|how far)\s+(was|were|did|is|had)\s+(.+?)\??\s*$", re.I | re.S)
# A short quoted phrase ("grey blur") may repeat the student's words; a quoted sentence may not.
_QUOTED_SPAN = re.compile(r"[\"“][^\"“”]{0,60}[\"”]")
MIN_ESSAY_WORDS = 40
# A 25-mark essay is 1,000-2,000 words; the longest sample (corpus/eval/essays) is 7,000
# characters. Past this it is not one essay, and reading it costs the app's CPU for minutes
# (a 1.7 MB paste took 99 s): it is refused, before any reading, with a message.
MAX_ESSAY_CHARS = 30_000
# "... in the power struggle of 1922–1929" makes every question long; the student knows the dates.
_DATES_IN_VIEW = re.compile(r",?\s+(?:in|during|between) (?:the (?:power struggle|years|period)(?: of)?)?\s*"
                            r"(?:\d{4}\s*[–-]\s*\d{2,4})?(?=\s*(?:$|[,.?]|was|were|is))")


class EssayError(TutorError):
    """The text cannot be analysed as an essay (empty or far too short)."""


def load_templates(directory: Path) -> dict[str, Any]:
    """prompts/coach/essay.yaml (the shipped one if a custom prompts dir lacks it)."""
    return load_prompt_yaml(directory, "coach/essay.yaml")


def _brief_template(directory: Path) -> str:
    return prompt_text(directory, "coach/essay.md")


FALLBACK_NOTICE = "This reply comes from the offline essay coach because {reason}. Your essay's analysis is the same."


@dataclass
class Question:
    """One coaching question, with what it is about (for finding evidence to cite)."""

    text: str
    kind: str
    paragraph: int | None = None
    topic: str = ""
    doc: str = ""
    citation: int | None = None  # the number of its Citation in the analysis


@dataclass
class EssayAnalysis:
    """Everything the coach found. ``as_dict()`` is the JSON shape of `tutor coach essay --json`."""

    level: str
    marks: list[int]
    paragraphs: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    descriptors: list[dict[str, Any]]
    questions: list[str]
    citations: list[Citation]
    question: str | None = None
    card: str | None = None
    band_line: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    steps: list[Question] = field(default_factory=list, repr=False)
    text: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level, "marks": list(self.marks), "band": self.band_line, "question": self.question,
            "card": self.card, "descriptors": self.descriptors, "issues": self.issues,
            "paragraphs": self.paragraphs, "questions": self.questions,
            "question_citations": [q.citation for q in self.steps],
            "citations": [c.as_dict() for c in self.citations], "measures": self.numbers, "notes": self.notes,
            # Every sentence the fact check contradicted, with the correction and its source (the
            # model path adds what it found to these, never removes them).
            "facts": self.fact_checks,
        }

    @property
    def fact_checks(self) -> list[dict[str, Any]]:
        """The issues that are factual slips, each with the student's sentence, the correction
        and its source document."""
        return [i for i in self.issues if i["kind"] in FACT_KINDS]

    def essay_sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in split_sentences(p["text"])]


@dataclass
class EssayConversation:
    """Coaching one analysed essay a question at a time (the app's coach page keeps one)."""

    analysis: EssayAnalysis
    step: int = 0
    tries: int = 0
    turns: list[dict[str, Any]] = field(default_factory=list)  # Turn.as_dict() rows (tutor.turn)
    done: bool = False

    @property
    def current(self) -> Question | None:
        return self.analysis.steps[self.step] if self.step < len(self.analysis.steps) else None


_EVIDENCE_STEPS = ("no_evidence", "narrative", "wrong_date", "misattribution", "wrong_fact", "historians", "develop")
_REASONING = re.compile(r"\b(?:because|so|therefore|more than|less than|outweigh\w*|rather than|depend\w*|mattered|"
                        r"since|as a result|which meant|without|only|main|most)\b", re.I)


_LEAD_IN = re.compile(r"^(?P<lead>.{0,500}?\b(?:here'?s|heres|here is|here it is|this is)\b[^:\n]{0,60}:)\s*",
                      re.I | re.S)
_WRAPPING_QUOTES = "'\"‘’“”"


def pasted_writing(message: str) -> str:
    """The writing in a chat message that introduces it ("I think … Here's my second revision:
    <paragraph>"): what follows the lead-in, without wrapping quotation marks. The lead-in is talk
    (the third blind offline trial's revision was marked with it as an empty first paragraph)."""
    m = _LEAD_IN.match(message.strip())
    if not m:
        return message
    rest = message.strip()[m.end():].strip()
    if len(rest.split()) < 40:
        return message
    if rest[:1] in _WRAPPING_QUOTES and rest[-1:] in _WRAPPING_QUOTES:
        rest = rest[1:-1].strip()
    return rest


def split_question(text: str) -> tuple[str | None, str]:
    """A leading exam question ("Question: ...", or a short line quoting a view and ending with
    "Assess the validity of this view." or a "?") separated from the essay below it."""
    stripped = text.strip()
    head, _, rest = stripped.partition("\n")
    labelled = re.match(r"^\s*(?:#+\s*)?(?:essay )?(?:question|title)\s*:\s*", head, re.I)
    head = head[labelled.end():].strip() if labelled else re.sub(r"^\s*#+\s*", "", head).strip()
    short = len(head.split()) <= 50
    exam_like = bool(_QUESTION_LINE.search(head)) and (head.endswith(("?", "view.", "view", "statement."))
                                                       or head.startswith(("'", "‘", "“", '"')))
    if rest.strip() and short and (labelled or exam_like or (head.endswith("?") and len(head.split()) <= 30)):
        return head, rest.strip()
    return None, stripped


def view_phrase(question: str | None, lexicon: Lexicon, default: str) -> str:
    """How questions refer to the view being tested: "the view that Stalin won because ..."."""
    if not question:
        return default
    m = _QUOTED_VIEW.match(question)
    if m:
        view = _tidy(_DATES_IN_VIEW.sub(" ", m.group(1).strip().rstrip(".")))
        first = view.split()[0] if view.split() else ""
        named = first.lower().rstrip("'’s") in PROTAGONISTS or first in lexicon.names
        if first and not named and first[1:2].islower():
            view = first.lower() + view[len(first):]
        return f"the view that {view}"
    m = _INVERTED.match(question)
    if m:
        verb, rest = m.group(1).lower(), _tidy(_DATES_IN_VIEW.sub(" ", m.group(2).strip()))
        words = rest.split()
        n = 1
        if words and words[0].endswith(("'s", "’s")) and len(words) > 1:
            n = 2
        if words and words[0][:1].isupper():
            return f"the view that {' '.join(words[:n])} {verb} {' '.join(words[n:])}".strip()
    return default


class EssayCoach:
    """Analyses essays and coaches them. ``retriever`` (optional) finds passages to cite."""

    def __init__(self, lessons: Lessons, retriever=None, *, chat_model=None, prompts_dir: Path | None = None,
                 prompts: Prompts | None = None, model: ModelTurn | None = None, facts: EssayFacts | None = None):
        self.lessons = lessons
        self.retriever = retriever
        self.model = model or model_turn(chat_model)
        self.prompts_dir = Path(prompts_dir) if prompts_dir else DEFAULT_PROMPTS
        self._prompts = prompts
        self.lexicon = Lexicon.from_lessons(lessons)
        self.facts = facts or EssayFacts(lessons)
        self._factor_cache: dict[tuple[str, int], list] = {}

    @property
    def templates(self) -> dict[str, Any]:
        return load_templates(self.prompts_dir)

    @property
    def prompts(self) -> Prompts:
        """The tutor's prompts (system prompt and secret lines), read when a model first needs them."""
        if self._prompts is None:
            self._prompts = load_prompts(self.prompts_dir)
        return self._prompts

    # -- analysis ------------------------------------------------------------------------
    def analyse(self, text: str, question: str | None = None) -> EssayAnalysis:
        """Band, descriptors, issues, fact checks and ordered questions for one essay.
        Raises EssayError for text too short or far too long to be an essay."""
        if len(text or "") > MAX_ESSAY_CHARS:
            raise EssayError(f"That is {len(text):,} characters, longer than any essay the coach reads (up to "
                             f"{MAX_ESSAY_CHARS:,}, about 5,000 words); paste or upload one essay, or the part "
                             "you want coached.")
        text = clean_text(text or "")
        if question is None:
            question, text = split_question(text)
        question = " ".join(question.split()) if question and question.strip() else None
        if len(text.split()) < MIN_ESSAY_WORDS:
            raise EssayError(f"That is {len(text.split())} words; paste or upload the whole essay "
                             f"(at least {MIN_ESSAY_WORDS} words) and I will read it paragraph by paragraph.")
        paras = read_paragraphs(text, self.lexicon)
        findings = [f for p in paras for f in self.facts.check(p.text, p.n)]
        summary = Summary.of(paras, findings)
        band = place(summary)
        issues = find_issues(summary)
        card = self._card(question, text)
        view = view_phrase(question, self.lexicon, self.templates["view_default"])
        view_kps = {(c.id, k.id) for c, k, _, _ in self.factors(question or "")}
        covered = {k.id for c, k, _, _ in self.factors(text, limit=50) if card and c.id == card.id}
        steps = self._questions(summary, band, issues, view, card)
        citations = self._cite(steps, summary, card, view, covered, text)
        paragraphs = [self._paragraph_dict(p, issues, view_kps) for p in paras]
        analysis = EssayAnalysis(
            level=band.level, marks=list(band.marks), paragraphs=paragraphs,
            issues=[i.as_dict() for i in issues], descriptors=[d.as_dict() for d in band.descriptors],
            questions=[q.text for q in steps], citations=citations, question=question,
            card=card.id if card else None, band_line=self._band_line(band), numbers=summary.numbers(),
            notes=self._notes(text, paras, question),
            steps=steps, text=text)
        return analysis

    @staticmethod
    def _notes(text: str, paras: list[Paragraph], question: str | None) -> list[str]:
        """Things the student should know about how the essay was read."""
        notes = []
        if len(split_paragraphs(text)) == 1 and len(text.split()) >= 150:
            notes.append("The essay came as one block of text, so the coach split it where topic sentences begin "
                         "(“Firstly”, “However”...). Leave a blank line between paragraphs for a more exact reading.")
        if not question:
            notes.append("No essay question was given, so the coach judged the argument without knowing the exact "
                         "view being tested. Add the question for sharper feedback.")
        return notes

    def factors(self, text: str, limit: int = 4) -> list[tuple[LessonCard, KeyPoint, float, str]]:
        key = (text, limit)
        if key not in self._factor_cache:
            if len(self._factor_cache) > 512:
                self._factor_cache.clear()
            self._factor_cache[key] = self._factors(text, limit)
        return self._factor_cache[key]

    def _factors(self, text: str, limit: int) -> list[tuple[LessonCard, KeyPoint, float, str]]:
        """Key points a text argues: (card, key point, score, the term that showed it), best first.

        A named term (capitalised or several words) counts 1, a topic word 0.5 and a protagonist's
        name 0.34, so "Trotsky" alone is not an argument about Trotsky's mistakes."""
        found = []
        for card in self.lessons.cards:
            for kp in card.key_points:
                hits = terms_in(text, kp.evidence_terms)
                score = 0.0
                for t in hits:
                    if t.lower() in PROTAGONISTS:
                        score += 0.34
                    elif " " in t or t[:1].isupper() or t.isdigit():
                        score += 1.0
                    else:
                        score += 0.5
                if score >= 1.0:
                    best = max(hits, key=lambda t: (t.lower() not in PROTAGONISTS, len(t)))
                    found.append((card, kp, score, best))
        found.sort(key=lambda x: -x[2])
        return found[:limit]

    def _card(self, question: str | None, text: str) -> LessonCard | None:
        """The lesson card for the factor the question names. The general "why Stalin won" card
        matches most exam questions ("power struggle", "main reason"), so a more specific card
        that also matches wins."""
        general = self.lessons.get(DEFAULT_CARD)
        if question:
            ranked = [(c, s) for c, s in self.lessons.match(question) if s >= 1.0]
            specific = [c for c, _ in ranked if c.id != DEFAULT_CARD]
            if specific or ranked:
                return (specific or [ranked[0][0]])[0]
            # Otherwise the card sharing most topic words with the question; the names in it
            # (capitalised: Trotsky, Bukharin) say what the question is about, years do not.
            names = {t for w in re.findall(r"\b[A-Z][\w'’]+", question) for t in tokenize(w)}
            words = {t for t in tokenize(question) if not t.isdigit()}

            def overlap(card: LessonCard) -> tuple[float, bool]:
                own = set(tokenize(" ".join([card.question, *card.match_terms])))
                return sum(2.0 if t in names else 1.0 for t in words & own), card.id != DEFAULT_CARD

            best = max(self.lessons.cards, key=overlap, default=None)
            if best is not None and overlap(best)[0] > 0:
                return best
        if general is not None:
            return general
        ranked = self.lessons.match(text[:3000])
        return ranked[0][0] if ranked and ranked[0][1] > 0 else None

    def _paragraph_dict(self, p: Paragraph, issues: list[Issue], view_kps: set[tuple[str, str]]) -> dict[str, Any]:
        factors = self.factors(p.text)
        own = {(c.id, k.id) for c, k, _, _ in factors}
        if p.narrative or not (p.analytical or p.verdict or p.counter):
            stance = "describes"
        elif p.counter_opening or p.counter >= 2 or (view_kps and own and not own & view_kps):
            stance = "weighs" if p.weighed else "challenges"
        else:
            stance = "supports"
        return {
            "n": p.n, "role": p.role, "words": p.words, "stance": stance,
            "factors": [{"card": c.id, "key_point": k.id, "term": term} for c, k, _, term in factors],
            "evidence": p.evidence_dict(), "issues": [i.kind for i in issues if i.paragraph == p.n],
            "text": p.text,
        }

    def _band_line(self, band: Band) -> str:
        t = self.templates
        gap = ""
        unmet = band.unmet()
        if unmet:
            gap = t["gap_intro"].format(next_n=band.next_level[1]) + unmet[0].gap
        return t["band_line"].format(level_n=band.level[1], low=band.marks[0], high=band.marks[1],
                                     strength=t["strength"][band.level], gap=gap)

    # -- questions -----------------------------------------------------------------------
    _FOR_DESCRIPTOR = {
        "knowledge": ["no_evidence"], "analysis": ["narrative", "no_evidence"], "evidence": ["no_evidence"],
        "judgement": ["unfinished", "no_conclusion", "no_judgement:conclusion"],
        "balance": ["no_counter_argument", "no_judgement:body"], "supported": ["no_judgement:conclusion"],
        "accuracy": ["wrong_date", "misattribution", "wrong_fact", "no_evidence"], "sustained": ["sustain"],
        "precise": ["no_evidence", "historians"], "developed": ["narrative", "develop"],
    }

    def _questions(self, s: Summary, band: Band, issues: list[Issue], view: str,
                   card: LessonCard | None) -> list[Question]:
        """Questions in coaching order: what lifts the essay to the next level first, then facts
        to check, then everything else."""
        wanted: list[str] = []
        for d in band.unmet():
            wanted += self._FOR_DESCRIPTOR.get(d.key, [])
        if band.next_level is None:
            wanted.append("stretch")
        ordered: list[Issue | str] = []
        used: set[int] = set()

        def take(kind: str) -> None:
            base, _, scope = kind.partition(":")
            matched = [i for i in issues if i.kind == base and (not scope or i.scope == scope) and id(i) not in used]
            if matched:
                for i in matched[:2]:
                    used.add(id(i))
                    ordered.append(i)
            elif base in ("sustain", "historians", "develop", "stretch") and base not in ordered:
                ordered.append(base)

        for kind in wanted:
            take(kind)
        facts = [i for i in issues if i.kind in FACT_KINDS and id(i) not in used]
        rest = [i for i in issues if i not in facts and id(i) not in used]
        first, later = ordered[:1], ordered[1:]
        queue = first + facts + later + rest
        out: list[Question] = []
        seen_text: set[str] = set()
        per_kind: dict[str, int] = {}
        for item in queue:
            q = self._question(item, s, view, card)
            if q and per_kind.get(q.kind, 0) >= 2:
                continue
            if q and q.text not in seen_text:
                per_kind[q.kind] = per_kind.get(q.kind, 0) + 1
                seen_text.add(q.text)
                out.append(q)
            if len(out) >= MAX_QUESTIONS:
                break
        if not out:
            out.append(self._question("stretch", s, view, card) or Question(self.templates["questions"]["develop"],
                                                                             "develop"))
        return out

    def _question(self, item: Issue | str, s: Summary, view: str, card: LessonCard | None) -> Question | None:
        t = self.templates["questions"]
        if isinstance(item, str):
            if item == "stretch":
                counters = card.counter_arguments if card else []
                if not counters:
                    return Question(t["develop"], "develop")
                counter = counters[0][0].lower() + counters[0][1:] if counters[0][1:2].islower() else counters[0]
                return Question(t["stretch"].format(counter=counter.rstrip(".")), "stretch", topic=counters[0])
            return Question(t[item], item)
        p = next((x for x in s.paragraphs if x.n == item.paragraph), None)
        topic = ""
        if p is not None:
            named = [f for f in self.factors(p.text) if f[3].lower() not in PROTAGONISTS]
            topic = named[0][3] if named else ""
        kind = item.kind
        if kind in ("wrong_date", "misattribution", "wrong_fact"):
            probe, event, doc = self._fact_probe(item)
            text = t["fact_probe"].format(n=item.paragraph, probe=probe) if probe else \
                t[kind].format(n=item.paragraph, event=event or "that event")
            return Question(text, kind, item.paragraph, topic=event or topic, doc=doc)
        if kind == "no_judgement":
            if item.scope == "body":
                return Question(t["no_judgement_body"].format(n=item.paragraph, view=view), kind, item.paragraph,
                                topic=topic)
            prompts = card.judgement_prompts if card else []
            text = t["no_judgement_card"].format(prompt=prompts[0]) if prompts else t["no_judgement"]
            return Question(text, kind, item.paragraph, topic=topic)
        template = t.get(kind)
        if kind == "no_evidence" and not topic:
            template = t["no_evidence_general"]
        if not template:
            return None
        return Question(template.format(n=item.paragraph, view=view, topic=topic or "this point"), kind,
                        item.paragraph, topic=topic)

    def _fact_probe(self, issue: Issue) -> tuple[str, str, str]:
        """(the probe question, the event's name, a document with the fact)."""
        if issue.probe:
            return issue.probe, "", issue.doc
        for card in self.lessons.cards:
            for m in card.misconceptions:
                if m.id == issue.detail:
                    return m.probe, "", m.correct_doc
        for event in self.lessons.timeline:
            if event.id == issue.detail:
                return "", event.event.rstrip("."), event.docs[0] if event.docs else ""
        return "", "", ""

    # -- evidence to cite ----------------------------------------------------------------
    def _query(self, q: Question, s: Summary, card: LessonCard | None, view: str) -> str:
        """What to search for: the paragraph's own material, or the side of the argument the
        question points to."""
        p = next((x for x in s.paragraphs if x.n == q.paragraph), None)
        if q.kind in ("no_counter_argument", "stretch") and card and card.counter_arguments:
            return f"{card.counter_arguments[0]} {view}"
        if q.kind == "historians":
            return f"historians interpretation {view} {card.question if card else ''}"
        if q.kind in FACT_KINDS:
            return f"{q.topic} {p.text[:300] if p else ''}"
        if q.kind == "no_evidence" and p is not None and p.asserted:
            return f"{q.topic} {p.asserted[0]}"
        if q.kind == "no_judgement" and card and not (p and p.role == "body"):
            return f"{card.judgement_prompts[0]} {card.question} {q.topic}"
        return " ".join(filter(None, [q.topic, p.text[:400] if p else "", view if view.startswith("the view that")
                                      else ""]))

    def _cite(self, steps: list[Question], s: Summary, card: LessonCard | None, view: str, covered: set[str],
              essay: str) -> list[Citation]:
        """A passage sentence for each of the first questions: on its topic, from the course's
        content documents (not the skills sheets), not a sentence the student already wrote, and
        not a key point the essay has not reached."""
        if self.retriever is None:
            return []
        essay_sents = [x for p in s.paragraphs for x in p.sentences if len(x.split()) >= 6]
        citations: list[Citation] = []
        used: set[str] = set()
        for q in steps[:3]:
            query = self._query(q, s, card, view)[:700]
            # The first question's evidence comes from hybrid search on a short query (it is the one
            # the chat shows); later ones from BM25, which is instant and as good for picking a
            # sentence by its words.
            method = "hybrid" if not citations else "bm25"
            short = query if method == "bm25" else _short_query(query)
            try:
                passages = self.retriever.search(short, k=3, doc_id=q.doc, method=method) if q.doc else []
                passages += [p for p in self.retriever.search(short, k=8, method=method) if p.kind != "skills"]
            except ValueError:
                continue
            best = None
            target = set(tokenize(query))
            for rank, passage in enumerate(passages):
                for sentence in passage_sentences(passage.text):
                    words = len(sentence.split())
                    if not (7 <= words <= 40) or sentence in used or sentence.endswith("?") or sentence.count('"') % 2 \
                            or sentence.count("“") != sentence.count("”") or sentence.startswith(("-", "*", "|")):
                        continue
                    if card and leaked_key_points(sentence, card, covered, essay + "\n" + q.text):
                        continue
                    if any(fuzz.partial_ratio(sentence.lower(), e.lower()) >= ECHO_LIMIT - 5 for e in essay_sents):
                        continue
                    score = len(set(tokenize(sentence)) & target) / (1 + len(target)) ** 0.5 - 0.05 * rank
                    if q.kind in ("no_evidence", "narrative", "wrong_date") and re.search(r"\b1[89]\d\d\b", sentence):
                        score += 0.3  # evidence the student can use carries a date
                    if best is None or score > best[0]:
                        best = (score, passage, sentence)
            if best:
                _, passage, sentence = best
                used.add(sentence)
                n = len(citations) + 1
                citations.append(Citation(n, passage.id, passage.doc_id, passage.title, passage.kind, passage.page,
                                          sentence, passage.text))
                q.citation = n
        return citations

    # -- wording -------------------------------------------------------------------------
    def offline_reply(self, analysis: EssayAnalysis, step: int = 0) -> tuple[str, list[Citation]]:
        """Band line, a note on any factual slip, one quoted passage [1], one question."""
        t = self.templates
        parts = [analysis.band_line] if step == 0 else []
        q = analysis.steps[min(step, len(analysis.steps) - 1)]
        if step == 0 and q.kind not in FACT_KINDS:
            slips = [i for i in analysis.issues if i["kind"] in FACT_KINDS]
            if slips:
                fact = slips[0]
                correct = (fact.get("correct") or "").strip()
                correct = correct if correct.endswith((".", "!", "?")) else correct + "."
                parts.append(t["fact_note"][fact["kind"]].format(n=fact["paragraph"], correct=correct))
                if len(slips) > 1 and t.get("fact_note_more"):
                    more = len(slips) - 1
                    words = ["no", "one", "two", "three", "four", "five"]
                    parts.append(t["fact_note_more"].format(more=words[more] if more < len(words) else more,
                                                            s="s" * (more != 1)))
        citations: list[Citation] = []
        if q.citation:
            c = analysis.citations[q.citation - 1]
            citations = [Citation(1, c.passage_id, c.doc_id, c.title, c.kind, c.page, c.quote, c.text)]
            parts.append(f"{t['evidence_intro']} “{c.quote}” [1]")
        parts.append(q.text)
        return " ".join(p.strip() for p in parts if p.strip()), citations

    def start_coaching(self, analysis: EssayAnalysis) -> EssayConversation:
        """The conversation after the analysis: its first turn is the band line and question 1."""
        conv = EssayConversation(analysis)
        text, citations = self.offline_reply(analysis)
        self._say(conv, text, citations)
        return conv

    def respond(self, conv: EssayConversation, answer: str) -> dict[str, Any]:
        """The coach's turn after the student's answer: a word on the answer, then the same question
        once more (if it was vague) or the next one. It never supplies the sentence to write."""
        t = self.templates["follow_up"]
        answer = " ".join(clean_text(answer or "").split())
        conv.turns.append(Turn(role="user", content=answer).as_dict())
        q = conv.current
        if conv.done or q is None:
            conv.done = True
            return self._say(conv, t["done"], [])
        findings = self.facts.check(answer)
        if findings:
            conv.tries += 1
            f = findings[0]
            probe, event, _ = self._fact_probe(Issue(f.kind, 0, "", f.source_id, probe=f.probe, doc=f.doc))
            question = probe or self.templates["questions"][findings[0].kind].format(
                n="your answer", event=event or "that event").replace("paragraph your answer", "your answer")
            return self._say(conv, f"{t['fact']} {question}", [])
        specific = bool(self.lexicon.find(answer)) or any(ch.isdigit() for ch in answer)
        reasoned = bool(_REASONING.search(answer)) and len(answer.split()) >= 8
        ok = specific if q.kind in _EVIDENCE_STEPS else reasoned
        if not ok and conv.tries == 0:
            conv.tries = 1
            nudge = t["vague"] if q.kind in _EVIDENCE_STEPS else \
                "Say why: what makes one factor matter more than another?"
            return self._say(conv, f"{nudge} {q.text}", [])
        ack = t["specific"] if specific else ""
        conv.step += 1
        conv.tries = 0
        if conv.step >= len(conv.analysis.steps):
            conv.done = True
            return self._say(conv, " ".join(filter(None, [ack, t["done"]])), [])
        text, citations = self.offline_reply(conv.analysis, conv.step)
        return self._say(conv, " ".join(filter(None, [ack, t["next"], text])), citations)

    @staticmethod
    def _say(conv: EssayConversation, text: str, citations: list[Citation]) -> dict[str, Any]:
        turn = Turn(role="assistant", content=text, citations=[c.as_dict() | {"text": c.text} for c in citations],
                    mode=OFFLINE).as_dict()
        conv.turns.append(turn)
        return turn

    def checks(self, text: str, analysis: EssayAnalysis, citations: list[Citation],
               secret: list[str] | None = None) -> list[Check]:
        """The tutor's reply checks plus one of the coach's own: no sentence echoes the essay."""
        card = self.lessons.get(analysis.card)
        covered = {k.id for c, k, _, _ in self.factors(analysis.text, limit=50) if card and c.id == card.id}
        allowed = "\n".join([analysis.text, analysis.question or "", *analysis.questions])
        ctx = CheckContext(passages={c.n: c.text for c in citations}, card=card, covered=covered,
                           allowed_text=allowed, secret_lines=list(secret or []) + self.secret_lines())
        checks = run_checks(text, ctx)
        echoed = echoes(text, analysis.essay_sentences())
        checks.append(Check("no_rewrite", not echoed,
                            f"repeats or rewrites the student's sentence: {echoed[0][:60]}" if echoed else ""))
        return checks

    def secret_lines(self) -> list[str]:
        return secret_lines(_brief_template(self.prompts_dir))

    def model_messages(self, analysis: EssayAnalysis, citations: list[Citation], system: str,
                       history: list[dict[str, Any]] | None = None) -> list:
        """The prompt for the model's reading of the essay: the essay, the coach's analysis as a
        hint, the fact checker's findings as evidence and the coaching question, all as data."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        q = analysis.steps[0]
        data = {
            "essay": analysis.text[:12000],
            "exam_question": analysis.question or "",
            "coach_analysis": {
                "level": analysis.level, "marks": list(analysis.marks), "why": analysis.band_line,
                "descriptors": [{"level": d.get("level"), "descriptor": d["descriptor"], "met": d["met"],
                                 "why": d["why"]} for d in analysis.descriptors],
            },
            "fact_checker_errors": [{"id": f"E{n}", "essay_sentence": i.get("sentence", ""), "correct": i.get("correct", ""),
                                     "source": i.get("doc", "")}
                                    for n, i in enumerate(self._fact_issues(analysis), start=1)],
            "coaching_question": q.text,
        }
        rows = [{"n": c.n, "title": c.title, "text": c.text} for c in citations]
        messages = [SystemMessage(system)]
        for turn in (history or [])[-4:]:
            cls = HumanMessage if turn.get("role") == "user" else AIMessage
            messages.append(cls(str(turn.get("content", ""))[:1500]))
        messages.append(HumanMessage(
            f"{passages_block(rows)}\n\n{_brief_template(self.prompts_dir).format(analysis=data_block(data))}"))
        return messages

    @staticmethod
    def _fact_issues(analysis: EssayAnalysis) -> list[dict[str, Any]]:
        return [i for i in analysis.issues if i["kind"] in FACT_KINDS]

    def reading_checks(self, reading: EssayReading, analysis: EssayAnalysis, citations: list[Citation],
                       secret: list[str]) -> list[Check]:
        """The reply's checks, and the reading's: the mark inside the level's band, the evidence
        and the errors in the essay's own words."""
        checks = self.checks(reading.reply, analysis, citations, secret)
        low, high = MARKS[reading.level]
        checks.append(Check("marks_in_band", low <= reading.marks <= high,
                            "" if low <= reading.marks <= high else
                            f"{reading.marks} is outside {reading.level}'s band ({low}-{high})"))
        essay = " ".join(analysis.text.lower().split())
        quoted = [e for e in reading.evidence + [x.text for x in reading.factual_errors]
                  if e.strip() and fuzz.partial_ratio(" ".join(e.lower().split()), essay) < 90]
        checks.append(Check("evidence_in_essay", not quoted,
                            f"not the essay's words: {quoted[:2]}; copy phrases exactly from the essay" if quoted else ""))
        checks.append(supported_check(self.facts.claims, [e.text for e in reading.factual_errors],
                                      analysis.essay_sentences()))
        return checks

    def merged_errors(self, reading: EssayReading, analysis: EssayAnalysis) -> list[dict[str, Any]]:
        """The model's factual errors, then any the fact checker found that the model missed."""
        errors = [{"text": e.text, "correction": e.correction, "evidence": e.evidence, "found_by": "model"}
                  for e in reading.factual_errors]
        for issue in self._fact_issues(analysis):
            sentence = issue.get("sentence", "")
            if not any(fuzz.partial_ratio(e["text"].lower(), sentence.lower()) >= 80 for e in errors if e["text"]):
                errors.append({"text": sentence, "correction": issue.get("correct") or issue["message"],
                               "evidence": issue.get("doc", ""), "found_by": "fact checker"})
        return errors

    def model_reading(self, analysis: EssayAnalysis, citations: list[Citation],
                      history: list[dict[str, Any]] | None = None) -> "ModelReading | None":
        """The model's guarded reading of the essay (one structured call, tutor.model_turn), with
        the fact checker's errors the model missed added; None without a model."""
        if self.model is None:
            return None
        secret = self.prompts.secret_lines()
        outcome = self.model.run(Brief(
            self.model_messages(analysis, citations, self.prompts.system, history),
            check=lambda r: self.reading_checks(r, analysis, citations, secret),
            notice=FALLBACK_NOTICE, checker="the coach's checks", schema=EssayReading))
        if not outcome.ok:
            return ModelReading(None, outcome.checks, notice=outcome.notice)
        reading = outcome.parsed
        errors = self.merged_errors(reading, analysis)
        missed = [e for e in errors if e["found_by"] == "fact checker"]
        notice = "The fact checker also found: " + " ".join(
            f"“{_clip(e['text'])}” — {e['correction']}" for e in missed[:3]) if missed else None
        return ModelReading(reading, outcome.checks, errors, notice, analysis.level, list(analysis.marks))

    @staticmethod
    def _question_from_history(session: Session) -> str | None:
        """An exam question the student gave in one of their last few messages, if any."""
        turns = [t for t in (getattr(session, "history", None) or [])[:-1] if t.get("role") == "user"]
        for turn in reversed(turns[-3:]):
            for line in str(turn.get("content", "")).splitlines():
                line = line.strip()
                if len(line.split()) <= 50 and _QUESTION_LINE.search(line) and (
                        line.endswith(("?", "view.", "view")) or line.startswith(("'", "‘", "“", '"'))):
                    return re.sub(r"^(?:my |the |essay )?question(?: is)?\s*:?\s*", "", line, flags=re.I)
        return None

    def chat_reply(self, session: Session, message: str) -> Reply:
        """The chat's turn for a pasted essay: band and why in one line, then ONE question. With a
        model its checked reading bands the essay and words the turn; the learner records the coaching."""
        message = pasted_writing(message)
        question, _ = split_question(message)
        if question is None:
            question = self._question_from_history(session)
        analysis = self.analyse(message, question=question) if question else self.analyse(message)
        text, citations = self.offline_reply(analysis)
        secret = self.prompts.secret_lines()
        checks = self.checks(text, analysis, citations, secret)
        mode = OFFLINE
        read = self.model_reading(analysis, citations, session.history[:-1])
        if read is not None and read.ok:
            text, checks, mode = read.reply, read.checks, self.model.mode
        notice = read.notice if read is not None else None
        card = self.lessons.get(analysis.card)
        if card is not None:
            covered = {k.id for c, k, _, _ in self.factors(analysis.text, limit=50) if c.id == card.id}
            session.learner.mark_covered(card.id, covered)
            session.learner.record("essay_feedback", card.id)
        move = {"kind": "essay_feedback", "label": "essay coaching", "card": analysis.card, "level": analysis.level,
                "marks": list(analysis.marks), "issues": [i["kind"] for i in analysis.issues],
                "question_kind": analysis.steps[0].kind}
        if read is not None and read.ok:
            move |= read.as_move()
        passages = []
        if citations and self.retriever is not None and hasattr(self.retriever, "store"):
            passages = self.retriever.store.get_passages([c.passage_id for c in citations])
        return Reply(text, citations, move, analysis.card, checks, mode, "essay", notice, passages)


@dataclass
class ModelReading:
    """The model's checked reading of an essay (``reading`` None when it failed: ``notice`` says
    why) and every factual error, the model's then the fact checker's additions."""

    reading: EssayReading | None
    checks: list[Check]
    errors: list[dict[str, Any]] = field(default_factory=list)
    notice: str | None = None
    coach_level: str = ""
    coach_marks: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reading is not None

    @property
    def reply(self) -> str:
        return self.reading.reply if self.reading else ""

    def as_move(self) -> dict[str, Any]:
        """The model bands the essay; the coach's own band stays alongside it."""
        r = self.reading
        return {"level": r.level, "marks": [r.marks, r.marks], "band_evidence": list(r.evidence),
                "factual_errors": self.errors, "coach_level": self.coach_level, "coach_marks": self.coach_marks}

    def as_dict(self) -> dict[str, Any]:
        """The reading in `tutor coach essay --json` ("model_reading")."""
        if self.reading is None:
            return {"used": False, "notice": self.notice}
        return {"used": True, "notice": self.notice, "reply": self.reply} | self.as_move()


def _clip(text: str, limit: int = 120) -> str:
    """A quoted sentence shortened at a word, never mid-word."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _tidy(text: str) -> str:
    """One space between words and none before punctuation (after a phrase was cut out of it:
    "Stalin's victory in the power struggle was ..." keeps the space before "was")."""
    return re.sub(r"\s+([,.?;:])", r"\1", " ".join(text.split()))


def _short_query(query: str, words: int = 28) -> str:
    """The query's topic words, capped: the embedding model's cost grows with the text's length."""
    tokens = [w for w in re.findall(r"[\w'’-]+", query)]
    return " ".join(tokens[:words])


def echoes(text: str, essay_sentences: list[str], limit: int = ECHO_LIMIT) -> list[str]:
    """Sentences of ``text`` (6+ words, quoted phrases removed) that closely match a sentence of
    the essay: the signature of rewriting or handing back the student's own paragraph."""
    out = []
    for sentence in split_sentences(" ".join(text.split())):
        bare = _QUOTED_SPAN.sub(" ", sentence)
        if len(bare.split()) < 6:
            continue
        for e in essay_sentences:
            if len(e.split()) >= 6 and fuzz.partial_ratio(bare.lower(), e.lower()) >= limit:
                out.append(sentence)
                break
    return out

