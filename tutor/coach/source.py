"""The source-evaluation coach: owns walking a student through one source — provenance, tone
and emphasis, content against context, then value and limitations for a stated enquiry — one
question at a time.

Example (tests/test_coach.py runs it)::

    coach = SourceCoach(lessons, retriever)
    session = coach.start(coach.load("source-trotsky-my-life"), enquiry="why Trotsky lost")
    coach.respond(session, "Trotsky, writing in exile after he had lost").step    # 'when'

The frame is the AQA question "assess the value of these sources to an historian studying ...".
A source is a source-note document from the corpus (front matter author, date, provenance,
purpose, audience) or an extract the student pastes with its origin named. The session keeps the
stage and what the student said at each step, so the UI and CLI can resume it. The coach shows
the source and its caption, asks, and points to context; it never writes the evaluation.

Offline, rules judge each answer (the step's vocabulary, the fact checker, the cards'
misconceptions). With a model, one structured call a turn (``SourceReading``, through
tutor.model_turn) judges it instead, given the fact checker's findings as evidence; the reading is
guarded (citations, no evaluation written, every contradicted claim listed and not moved past, no
contradicted fact in the reply) and, failing that, the offline rules answer with a notice.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from tutor.coach.facts import supported_check
from tutor.coach.features import DATE, FIGURE, Lexicon, split_sentences
from tutor.documents import SourceDocument, clean_text, read_document
from tutor.errors import DocumentError, TutorError
from tutor.lessons import Lessons
from tutor.model_turn import Brief, ModelTurn, data_block, model_turn, passages_block
from tutor.pedagogy.checks import Check, CheckContext, run_checks
from tutor.prompts import load_prompt_yaml, prompt_text, secret_lines
from tutor.pedagogy.compose import Citation, sentences as passage_sentences
from tutor.retrieval import tokenize
from tutor.turn import Turn
from tutor.settings import DEFAULT_CORPUS, DEFAULT_PROMPTS

STAGES = ("provenance", "tone", "content", "value")
# Each step: (key, stage). Provenance is four questions: who, when, why, for whom.
STEPS = (("who", "provenance"), ("when", "provenance"), ("why", "provenance"), ("audience", "provenance"),
         ("tone", "tone"), ("content", "content"), ("value", "value"), ("limitation", "value"))
STEP_KEYS = tuple(k for k, _ in STEPS)
MAX_EXTRACT_WORDS = 380
# Note sections that already evaluate the source are not shown: that is the student's job.
_EVALUATIVE_HEADING = re.compile(r"value|limitation|debate|using|interpret|mattered|provenance|context|"
                                 r"what happened|reaction|how the .* (?:used|responded)|evidence", re.I)
_CONTENT_HEADING = re.compile(r"said|says|argued|argue|arguments|account|recorded|main", re.I)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]

# What counts as an answer that engages with each step (rules, so the coach is repeatable).
_SIGNALS = {
    "who": re.compile(r"\b(?:leader|general secretary|commissar|rival|exile|exiled|defeated|opposition|secretary|"
                      r"member|politburo|head|ill|dying|historian|memoir|wrote|writer|author|position|he was|she was|"
                      r"they were|as a|congress|party)\b", re.I),
    "when": re.compile(r"\b(?:1[89]\d\d|before|after|hindsight|later|at the time|during|while|years|yet|already|"
                       r"still|then|looking back|afterwards|contemporary)\b", re.I),
    "why": re.compile(r"\b(?:persuade|justify|justif\w+|warn|defend|attack|convince|record|explain|propaganda|blame|"
                      r"criticis\w+|criticiz\w+|inform|win|discredit|protect|show|prove|argue|wanted|aim|purpose|"
                      r"so that|in order to|to make)\b", re.I),
    "audience": re.compile(r"\b(?:public|private|secret|party|congress|delegates|members|readers|published|"
                           r"publish|intended|audience|foreign|west|workers|leaders|central committee|himself|"
                           r"insiders|ordinary|mass)\b", re.I),
    "tone": re.compile(r"\b(?:calm|balanced|angry|bitter|ironic|confident|cautious|critical|sarcastic|emotional|"
                       r"measured|defensive|frightened|afraid|hostile|positive|negative|formal|neutral|polemical|"
                       r"even-handed|harsh|urgent|alarmed|worried|persuasive|self-justifying|mocking|respectful|"
                       r"emphasi[sz]\w*|stress\w*|leaves? out|omit\w*|focus\w*|tone|language|words?)\b", re.I),
    "content": re.compile(r"\b(?:accurate|true|context|fits?|confirms?|contradicts?|other evidence|agrees?|"
                          r"matches|typical|leaves out|misses|ignores|consistent|challenges?)\b", re.I),
    "value": re.compile(r"\b(?:valuable|useful|value|shows?|reveals?|evidence (?:of|for)|tells us|insight|"
                        r"helps?|because)\b", re.I),
    "limitation": re.compile(r"\b(?:limit\w*|however|but|bias\w*|one-sided|not|cannot|can't|only|hindsight|"
                             r"selective|exaggerat\w*|partial|unreliable|less)\b", re.I),
}
_EVALUATION = re.compile(r"\b(?:this|the) (?:source|document|extract|memoir|letter) (?:is|was) (?:very |highly |quite |"
                         r"extremely |therefore |of (?:great |little |limited )?)?(?:valuable|useful|reliable|"
                         r"unreliable|limited|biased|value)\b", re.I)


# How a student refers to the source in front of them.
_THIS_SOURCE = re.compile(r"\b(?:this|that|the) (?:source|document|extract|book|letter|memoir|autobiography|"
                          r"pamphlet|article|articles|resolution|text|declaration|platform|postscript|lectures?|"
                          r"essay|testament|notes)\b|\b(?:it|this)\b(?= (?:was|is|were) (?:written|published|"
                          r"dictated|drafted|produced|issued|signed|made)\b)|(?:(?<=\bwrote )|(?<=\bsigned )|(?<=\bdictated )|(?<=\bdrafted )|(?<=\bissued ))(?:it|this)\b", re.I)


MODEL_NOTICE = "This step comes from the offline source coach because {reason}."


class _ReadingPart(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerError(_ReadingPart):
    """A factual error in the student's answer."""

    text: str = Field(description="the student's words that state it, copied exactly")
    correction: str = Field(description="the correct fact, one short sentence")
    evidence: str = Field(description="the evidence id (E1...) or passage number that gives the correct fact")


class SourceReading(_ReadingPart):
    """The model's reading of one answer in the source walk-through, and the reply."""

    engages: bool = Field(description="true if the answer does this step's job (specific, about this source); "
                                      "false if it is vague, off the step, or rests on a factual error")
    strengths: list[str] = Field(description="short phrases copied exactly from the answer that do the step's job")
    factual_errors: list[AnswerError] = Field(description="every factual error in the answer")
    reply: str = Field(description="the coach's reply: a few words on the answer, any error corrected, then "
                                   "exactly one question: the next step's if engages is true, else this step's again")


class SourceError(TutorError):
    """A source cannot be found or read; the message says what to do."""


def load_source_templates(directory: Path) -> dict[str, Any]:
    """prompts/coach/source.yaml (the shipped one if a custom prompts dir lacks it)."""
    return load_prompt_yaml(directory, "coach/source.yaml")


def _human_date(value: str | None) -> str:
    if not value:
        return "date not given"
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(value).strip())
    if not m:
        return str(value)
    year, month, day = m.groups()
    if day:
        return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"
    if month:
        return f"{_MONTHS[int(month) - 1]} {year}"
    return year


@dataclass
class SourceInfo:
    """What the student sees (title, caption, extract) and what the coach checks answers against."""

    title: str
    origin: str
    extract: str
    doc_id: str | None = None
    author: str = ""
    date: str = ""
    provenance: str = ""
    purpose: str = ""
    audience: str = ""

    @property
    def author_short(self) -> str:
        return re.split(r"[,;(]", self.author)[0].strip() if self.author else "its author"

    @property
    def date_human(self) -> str:
        return _human_date(self.date) if self.date else (DATE.search(self.origin).group(0)
                                                         if DATE.search(self.origin) else "date not given")

    @classmethod
    def from_document(cls, doc: SourceDocument) -> "SourceInfo":
        meta = doc.metadata
        author = str(meta.get("author") or "")
        date = str(meta.get("date") or "")
        origin = ", ".join(filter(None, [author, _human_date(date) if date else ""])) or doc.title
        return cls(title=doc.title.removeprefix("Source note: ").strip(), origin=origin, extract=_extract(doc.text),
                   doc_id=doc.doc_id, author=author, date=date, provenance=str(meta.get("provenance") or ""),
                   purpose=str(meta.get("purpose") or ""), audience=str(meta.get("audience") or ""))

    @classmethod
    def from_paste(cls, text: str, origin: str) -> "SourceInfo":
        text = clean_text(text or "").strip()
        origin = " ".join(clean_text(origin or "").split())
        if len(text.split()) < 5:
            raise SourceError("Paste the extract itself (a sentence or more) so we can look at what it says.")
        if len(origin.split()) < 2:
            raise SourceError("Name the extract's origin: who wrote it, what it is and when, for example "
                              "“Trotsky, My Life, written in exile in 1929”.")
        year = DATE.search(origin)
        return cls(title="this extract", origin=origin, extract=_truncate(text, MAX_EXTRACT_WORDS * 2),
                   author=origin.split(",")[0].strip(), date=year.group(0) if year else "")


def _truncate(text: str, words: int) -> str:
    parts = text.split()
    if len(parts) <= words:
        return text.strip()
    cut = " ".join(parts[:words])
    end = max(cut.rfind(". "), cut.rfind(".”"), cut.rfind('."'))
    return (cut[:end + 1] if end > len(cut) // 2 else cut) + " …"


def _extract(markdown: str) -> str:
    """The parts of a source note that present the source (what it is, what it says), without the
    sections that evaluate it."""
    sections = re.split(r"(?m)^##\s+", markdown)
    kept: list[tuple[int, int, str]] = []
    for order, section in enumerate(sections):
        heading, _, body = section.partition("\n")
        if not body.strip() or _EVALUATIVE_HEADING.search(heading):
            continue
        # What the source says first, then what it is; anything else last.
        rank = 0 if _CONTENT_HEADING.search(heading) else 1 if re.match(r"what .* is\b", heading, re.I) else 2
        kept.append((rank, order, body.strip()))
    if not kept:
        kept = [(0, 0, sections[-1].partition("\n")[2] or markdown)]
    chosen = sorted(sorted(kept)[:2], key=lambda x: x[1])
    return _truncate("\n\n".join(body for _, _, body in chosen), MAX_EXTRACT_WORDS)


@dataclass
class SourceSession:
    """One student's walk through one source. Serialisable (``to_dict``/``from_dict``)."""

    source: SourceInfo
    enquiry: str
    step: str = "who"
    tries: int = 0
    notes: dict[str, list[str]] = field(default_factory=dict)  # step -> what the student said
    turns: list[dict[str, Any]] = field(default_factory=list)  # Turn.as_dict() rows (tutor.turn), with step
    done: bool = False

    @property
    def stage(self) -> str:
        return dict(STEPS).get(self.step, "value")

    @property
    def stage_number(self) -> int:
        return STAGES.index(self.stage) + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SourceSession":
        data = dict(data)
        data["source"] = SourceInfo(**data["source"])
        return cls(**data)


@dataclass
class SourceTurn:
    """The coach's reply for one step."""

    text: str
    step: str
    stage: str
    citations: list[Citation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    mode: str = "offline"
    notice: str | None = None
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "step": self.step, "stage": self.stage, "done": self.done, "mode": self.mode,
                "notice": self.notice, "citations": [c.as_dict() for c in self.citations],
                "checks": [c.as_dict() for c in self.checks]}


class SourceCoach:
    """Coaches the evaluation of one source at a time. ``retriever`` (optional) finds context."""

    def __init__(self, lessons: Lessons, retriever=None, *, chat_model=None, prompts_dir: Path | None = None,
                 corpus_dir: Path | None = None, model: ModelTurn | None = None, facts=None):
        from tutor.coach.facts import default_checker

        self.lessons = lessons
        # The claim checker: provenance answers ("Zinoviev wrote this in 1927") are facts too.
        self.facts = facts or default_checker(lessons)
        self.retriever = retriever
        self.model = model or model_turn(chat_model)
        self.prompts_dir = Path(prompts_dir) if prompts_dir else DEFAULT_PROMPTS
        self.corpus_dir = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS
        self.lexicon = Lexicon.from_lessons(lessons)

    @property
    def templates(self) -> dict[str, Any]:
        return load_source_templates(self.prompts_dir)

    # -- finding the source --------------------------------------------------------------
    def source_notes(self) -> list[tuple[str, str]]:
        """(doc id, title) of every source note: from the store if there is one, else the corpus."""
        store = getattr(self.retriever, "store", None)
        if store is not None:
            notes = [(d.doc_id, d.title) for d in store.documents() if d.kind == "source-note"]
            if notes:
                return notes
        out = []
        for path in sorted((self.corpus_dir / "sources").glob("*.md")):
            try:
                doc = read_document(path.name, path.read_bytes())
            except (DocumentError, OSError):
                continue
            if doc.kind == "source-note":
                out.append((doc.doc_id, doc.title))
        return out

    def load(self, ref: str) -> SourceInfo:
        """A source note by document id (store, then corpus) or a file path."""
        path = Path(ref)
        if path.suffix and path.is_file():
            return self._from_bytes(path.name, path.read_bytes())
        store = getattr(self.retriever, "store", None)
        if store is not None:
            record = store.manifest.get(ref)
            if record is not None and record.original:
                data = store.manifest.original(record.original)  # in the database since issue 16
                legacy = store.settings.documents_dir / record.original
                if data is None and legacy.is_file():
                    data = legacy.read_bytes()
                if data is not None:
                    return self._from_bytes(record.filename or record.original, data)
        corpus_file = self.corpus_dir / "sources" / f"{ref}.md"
        if corpus_file.is_file():
            return self._from_bytes(corpus_file.name, corpus_file.read_bytes())
        known = ", ".join(d for d, _ in self.source_notes()[:6])
        raise SourceError(f"No source note '{ref}'. Pick one of: {known} … "
                          "(or paste an extract and name its origin).")

    @staticmethod
    def _from_bytes(name: str, data: bytes) -> SourceInfo:
        try:
            return SourceInfo.from_document(read_document(name, data))
        except DocumentError as exc:
            raise SourceError(str(exc)) from exc

    # -- the conversation ----------------------------------------------------------------
    def start(self, source: SourceInfo, enquiry: str | None = None) -> SourceSession:
        enquiry = " ".join((enquiry or "").split()).rstrip(".?") or self.templates["default_enquiry"]
        session = SourceSession(source=source, enquiry=enquiry)
        t = self.templates
        intro = t["intro"].format(title=source.title if source.doc_id else "this extract", enquiry=enquiry)
        self._record(session, self._turn(session, "who", [intro]))
        return session

    def first_turn(self, session: SourceSession) -> SourceTurn:
        last = session.turns[-1]["content"]
        return SourceTurn(last, session.step, session.stage, checks=self.checks(last, []),
                          done=session.done)

    def respond(self, session: SourceSession, answer: str) -> SourceTurn:
        """Judge the answer to the current step; move on, or ask once more, more specifically.
        With a model, its guarded reading decides (``read_answer``); else, or when it fails, the
        offline rules do, with a notice saying why."""
        t = self.templates
        answer = " ".join(clean_text(answer or "").split())
        if session.done:
            return SourceTurn(t["finished"], session.step, session.stage, done=True)
        session.turns.append(Turn(role="user", content=answer, step=session.step).as_dict())
        if not answer:
            return self._record(session, self._turn(session, session.step, [], pump=True))
        session.notes.setdefault(session.step, []).append(answer)
        notice = None
        if self.model is not None:
            turn, notice = self.read_answer(session, answer)
            if turn is not None:
                return self._record(session, turn)
        turn = self._offline_step(session, answer)
        turn.notice = notice
        return self._record(session, turn)

    def _offline_step(self, session: SourceSession, answer: str) -> SourceTurn:
        """The offline rules' turn: a contradicted fact or a misconception is probed, a thin answer
        asked again once, anything else moves on."""
        t = self.templates
        wrong = self.provenance_errors(session.source, answer)
        if wrong:
            v = wrong[0]
            session.tries += 1
            return self._turn(session, session.step, [t["ack"]["fact"]], question=v.probe)
        misconceptions = self.lessons.misconceptions_in(answer)
        if misconceptions:
            _, m = misconceptions[0]
            session.tries += 1
            return self._turn(session, session.step, [t["ack"]["misconception"]], question=m.probe)
        good = self.engages(session.step, answer, session)
        if not good and session.tries == 0:
            session.tries = 1
            ack = t["ack"]["thin"][len(session.turns) % len(t["ack"]["thin"])]
            return self._turn(session, session.step, [ack], pump=True)
        # Move on (after one nudge the student keeps going: the point is practice, not a gate).
        ack = t["ack"]["good"][len(session.turns) % len(t["ack"]["good"])] if good else ""
        i = STEP_KEYS.index(session.step)
        if i + 1 >= len(STEP_KEYS):
            session.done = True
            text = " ".join(filter(None, [ack, t["done"].format(enquiry=session.enquiry)]))
            return SourceTurn(text, session.step, session.stage, done=True)
        nxt = STEP_KEYS[i + 1]
        lead = [ack]
        if dict(STEPS)[nxt] != session.stage:
            stage = t["stages"][dict(STEPS)[nxt]]
            lead.append(t["ack"]["next_stage"].format(stage=stage[0].lower() + stage[1:]))
        session.step, session.tries = nxt, 0
        return self._turn(session, nxt, lead)

    def provenance_errors(self, source: SourceInfo, answer: str) -> list:
        """Contradicted claims in an answer, reading "this" / "it" / "the source" as the source itself
        when the fact base knows who wrote it and when (``Quotation.source_note``)."""
        text = answer
        work = next((q for q in self.facts.facts.quotations if source.doc_id and q.source_note == source.doc_id), None)
        if work is not None:
            text = _THIS_SOURCE.sub(f"“{work.phrases[0]}”", answer, count=1)
        return self.facts.contradicted(text)

    def engages(self, step: str, answer: str, session: SourceSession) -> bool:
        """Whether an answer works on its step: the step's own vocabulary, or the source's own
        provenance facts, in a sentence of some substance."""
        words = len(answer.split())
        if words < 4:
            return False
        signal = bool(_SIGNALS[step].search(answer))
        src = session.source
        facts = {"who": src.author, "when": f"{src.date} {src.provenance}", "why": src.purpose,
                 "audience": src.audience}.get(step, "")
        overlap = len(set(tokenize(answer)) & set(tokenize(facts))) if facts else 0
        specific = bool(DATE.search(answer) or FIGURE.search(answer) or self.lexicon.find(answer))
        if step == "content":
            return signal and (specific or words >= 15) or (specific and words >= 8)
        if step in ("value", "limitation"):
            enquiry = set(tokenize(session.enquiry))
            return signal and (words >= 10 or bool(enquiry & set(tokenize(answer))))
        return signal or overlap >= 2

    # -- wording -------------------------------------------------------------------------
    def _turn(self, session: SourceSession, step: str, lead: list[str], *,
              pump: bool = False, question: str | None = None) -> SourceTurn:
        t = self.templates
        src = session.source
        fields = {"author_short": src.author_short, "date_h": src.date_human, "enquiry": session.enquiry,
                  "title": src.title}
        spec = t["steps"][step]
        question = question or (spec["pump"] if pump else spec["question"]).format(**fields)
        citations: list[Citation] = []
        parts = [p for p in lead if p]
        if step == "content" and not pump:
            found = self._context(src)
            if found:
                citations = [found]
                parts.append(f"{t['context_intro']} “{found.quote}” [1]")
        parts.append(question)
        text = " ".join(parts)
        checks = self.checks(text, citations)
        return SourceTurn(text, step, dict(STEPS)[step], citations, checks)

    def _record(self, session: SourceSession, turn: SourceTurn) -> SourceTurn:
        session.turns.append(Turn(role="assistant", content=turn.text, step=turn.step, mode=turn.mode,
                                  notice=turn.notice, citations=[c.as_dict() for c in turn.citations],
                                  checks=[c.as_dict() for c in turn.checks]).as_dict())
        return turn

    def _context(self, src: SourceInfo) -> Citation | None:
        """A dated sentence from the course about the source's context (not from the note itself)."""
        if self.retriever is None:
            return None
        query = f"{src.title} {src.origin} {src.provenance[:200]}"
        try:
            passages = self.retriever.search(query, k=8)
        except ValueError:
            return None
        best = None
        target = set(tokenize(query))
        for rank, p in enumerate(passages):
            if p.doc_id == src.doc_id or p.kind in ("skills", "source-note"):
                continue
            for sentence in passage_sentences(p.text):
                n = len(sentence.split())
                if not (7 <= n <= 40) or sentence.endswith("?") or sentence.count('"') % 2 \
                        or sentence.count("“") != sentence.count("”"):
                    continue
                score = len(set(tokenize(sentence)) & target) / (1 + len(target)) ** 0.5 - 0.05 * rank
                if DATE.search(sentence):
                    score += 0.3
                if _EVALUATION.search(sentence):
                    continue
                if best is None or score > best[0]:
                    best = (score, p, sentence)
        if not best:
            return None
        _, p, sentence = best
        return Citation(1, p.id, p.doc_id, p.title, p.kind, p.page, sentence, p.text)

    def checks(self, text: str, citations: list[Citation]) -> list[Check]:
        ctx = CheckContext(passages={c.n: c.text for c in citations}, secret_lines=self.secret_lines())
        checks = [c for c in run_checks(text, ctx) if c.name != "no_answer_leak"]
        evaluates = _EVALUATION.search(text)
        checks.append(Check("no_evaluation_written", not evaluates,
                            f"states the evaluation for the student: {evaluates.group(0)}" if evaluates else ""))
        return checks

    def secret_lines(self) -> list[str]:
        return secret_lines(prompt_text(self.prompts_dir, "coach/source.md"))

    def read_answer(self, session: SourceSession, answer: str) -> tuple[SourceTurn | None, str | None]:
        """One structured model call (tutor.model_turn, ``SourceReading``): the model judges the
        answer and words the turn, guarded; (None, notice) when the offline rules must answer."""
        step = session.step
        i = STEP_KEYS.index(step)
        nxt = STEP_KEYS[i + 1] if i + 1 < len(STEP_KEYS) else None
        context = self._context(session.source)
        citations = [context] if context else []
        # The checker reads "this source" as the work's title; the evidence quotes the student's own sentence.
        own = split_sentences(answer) or [answer]
        found = [(max(own, key=lambda s: fuzz.ratio(s, v.sentence)), "contradicts", v.correct, v.doc)
                 for v in self.provenance_errors(session.source, answer)]
        # A card's misconception is evidence too: a false one like the fact base's, a half-truth
        # ("won by luck") as a qualification the reply may take up.
        found += [(next((s for s in own if any(p.search(s) for p in m.patterns)), answer),
                   "contradicts" if m.verdict == "wrong" else "qualifies", m.why_wrong, m.correct_doc)
                  for _, m in self.lessons.misconceptions_in(answer)]
        evidence = [{"id": f"E{n}", "student_sentence": sentence, "finding": finding, "fact": fact, "source": doc}
                    for n, (sentence, finding, fact, doc) in enumerate(found, start=1)]
        outcome = self.model.run(Brief(
            self.reading_messages(session, answer, citations, evidence),
            check=lambda r: self.reading_checks(r, answer, citations, evidence),
            notice=MODEL_NOTICE, checker="the coach's checks", schema=SourceReading))
        if not outcome.ok:
            return None, outcome.notice
        reading: SourceReading = outcome.parsed
        if reading.engages:
            session.step, session.tries = (nxt or step), 0
            session.done = nxt is None
        else:
            session.tries += 1
        return SourceTurn(outcome.text, session.step, session.stage, citations if _cites(outcome.text) else [],
                          outcome.checks, self.model.mode, done=session.done), None

    def reading_messages(self, session: SourceSession, answer: str, citations: list[Citation],
                         evidence: list[dict[str, Any]]) -> list:
        """The prompt: the source's caption and extract, the step and its question, the next
        step's question, the fact checker's evidence and the student's earlier answers, as data."""
        from langchain_core.messages import HumanMessage, SystemMessage

        t = self.templates
        src = session.source
        fields = {"author_short": src.author_short, "date_h": src.date_human, "enquiry": session.enquiry,
                  "title": src.title}
        i = STEP_KEYS.index(session.step)
        nxt = STEP_KEYS[i + 1] if i + 1 < len(STEP_KEYS) else None
        data = {
            "source": {"title": src.title, "origin": src.origin, "author": src.author, "date": src.date_human,
                       "provenance": src.provenance, "extract": src.extract},
            "enquiry": session.enquiry,
            "step": f"{t['stages'][session.stage]} ({session.step})",
            "step_question": t["steps"][session.step]["question"].format(**fields),
            "next_question": t["steps"][nxt]["question"].format(**fields) if nxt else
            t["done"].format(enquiry=session.enquiry),
            "fact_checker_evidence": evidence,
            "earlier_answers": {k: v for k, v in session.notes.items() if k != session.step},
            "student_answer": answer[:2000],
        }
        rows = [{"n": c.n, "title": c.title, "text": c.text} for c in citations]
        # A custom prompt written for the earlier rewording brief names the data {brief}.
        block = f"<source_step>\n{data_block(data)}\n</source_step>"
        content = (f"{passages_block(rows)}\n\n" if rows else "") + \
            prompt_text(self.prompts_dir, "coach/source.md").format(data=block, brief=block)
        return [SystemMessage("You are a Socratic history tutor coaching source evaluation."), HumanMessage(content)]

    def reading_checks(self, reading: SourceReading, answer: str, citations: list[Citation],
                       evidence: list[dict[str, Any]]) -> list[Check]:
        """The reply's checks (citations, no evaluation written), and the reading's: its quoted
        words are the student's, the fact checker's errors are listed and block moving on, and
        the reply states nothing the fact base contradicts."""
        checks = self.checks(reading.reply, citations)
        low = " ".join(answer.lower().split())
        quoted = [q for q in reading.strengths + [e.text for e in reading.factual_errors]
                  if q.strip() and fuzz.partial_ratio(" ".join(q.lower().split()), low) < 90]
        checks.append(Check("words_in_answer", not quoted,
                            f"not the student's words: {quoted[:2]}; copy phrases exactly from the answer"
                            if quoted else ""))
        listed = [e.text.lower() for e in reading.factual_errors]
        evidence = [e for e in evidence if e["finding"] == "contradicts"]
        missed = [e for e in evidence if not any(fuzz.partial_ratio(t, e["student_sentence"].lower()) >= 80
                                                 for t in listed if t)]
        checks.append(Check("errors_listed", not missed,
                            "the fact base contradicts the answer: " + "; ".join(
                                f"“{e['student_sentence']}” ({e['id']}: {e['fact']})" for e in missed[:2])
                            + "; list it in factual_errors and correct it" if missed else ""))
        wrong_on = (reading.engages and (evidence or reading.factual_errors))
        checks.append(Check("no_moving_on_from_an_error", not wrong_on,
                            "the answer has a factual error, so engages must be false and the step asked again"
                            if wrong_on else ""))
        checks.append(supported_check(self.facts, [e.text for e in reading.factual_errors],
                                      split_sentences(answer) or [answer]))
        stated = self.facts.contradicted(reading.reply)
        checks.append(Check("reply_facts", not stated,
                            f"the fact base contradicts the reply: {stated[0].sentence} ({stated[0].correct})"
                            if stated else ""))
        return checks


def _cites(text: str) -> bool:
    return bool(re.search(r"\[\d+\]", text))
