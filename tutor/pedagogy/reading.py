"""Owns the Reading: one typed object describing a turn's judgement of the student's message —
every claim with its verdict, evidence and correction, the student's own questions, the key
points the message makes in the student's words, the move, and the reply.

With a model the model fills it in one structured call (``tutor.model_turn`` through LangChain's
``with_structured_output``); the guards in ``tutor.pedagogy.checks`` check it against the same
evidence the model was given, and the learner state is updated from the accepted Reading only.

Every field is required (no defaults), so the JSON schema is valid for OpenAI's strict mode and
a grammar-constrained local server fills in every part.

>>> r = Reading.model_validate({"claims": [{"text": "Lenin died in 1925", "verdict": "wrong",
...     "evidence": "E1", "correction": "He died on 21 January 1924.", "misread": ""}], "student_questions": [],
...     "points_made": [], "move": "correct", "reply": "Not quite: 21 January 1924 [1]. Why does it matter?"})
>>> r.feedback, r.claims[0].evidence_ref()
('wrong', ('fact', 'E1'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["right", "partly", "wrong", "unsure"]
# What the tutor does this turn. The names the UI and the evaluation already know where they fit.
ReadingMove = Literal["answer_question", "correct", "probe", "hint", "ask_evidence", "counter_argument",
                      "confirm", "summarise_and_judge", "redirect", "refuse_instructions", "greet",
                      "decline_and_scaffold"]
# The label and the engine's move kind each Reading move is shown as.
MOVE_KINDS: dict[str, str] = {"correct": "probe_misconception", "probe": "probe_misconception"}
# A claim an earlier turn already settled (the model corrected it then, on that turn's passages).
_OUTSIDE = re.compile(r"^\W*outside\b", re.I)
_EARLIER = re.compile(r"\b(?:earlier|previous|last turn|before)\b", re.I)
_EVIDENCE_ID = re.compile(r"\b[Ee]\d+\b")
_PASSAGE_REF = re.compile(r"^\s*(?:passage\s*)?\[?(\d+)\]?\s*$", re.I)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimReading(_Part):
    """One claim in the student's message and its verdict."""

    text: str = Field(description="the claim, in the student's own words")
    verdict: Verdict = Field(description="right, partly (right but incomplete or overstated), wrong, or unsure "
                                         "(nothing given decides it)")
    evidence: str = Field(description="what decides it: a passage number like '2', an evidence id like 'E1', or "
                                      "'earlier' when an earlier turn of this conversation settled it, or 'outside' "
                                      "for a well-established fact from outside the course's sources; empty when unsure")
    correction: str = Field(description="for partly or wrong: the correct fact, one short sentence; else empty")
    misread: str = Field(description="an evidence id (such as 'E2') whose finding misreads THIS claim (it takes a "
                                     "denial, a what-if, a question, or one person's act or side for another's, as "
                                     "the claim), then why in a few words; else empty")

    def disputed(self) -> set[str]:
        """The evidence ids the model says misread this claim.

        >>> ClaimReading(text="x", verdict="right", evidence="2", correction="",
        ...              misread="E2: a what-if, not a claim; e1 too").disputed() == {"E1", "E2"}
        True
        """
        return {m.upper() for m in _EVIDENCE_ID.findall(self.misread)}

    def evidence_ref(self) -> tuple[str, str] | None:
        """('passage', '2'), ('fact', 'E1'), or None when no evidence is named (the first, where
        several are)."""
        refs = self.evidence_refs()
        return refs[0] if refs else None

    def evidence_refs(self) -> list[tuple[str, str]]:
        """Every piece of evidence named: "3, 4" and "E1 and [2]" name two (relay trial 18 refused
        "3, 4" as evidence not given).

        >>> ClaimReading(text="x", verdict="right", evidence="3, 4", correction="", misread="").evidence_refs()
        [('passage', '3'), ('passage', '4')]
        >>> ClaimReading(text="x", verdict="wrong", evidence="outside the course's sources", correction="Moscow.",
        ...              misread="").evidence_refs()
        [('outside', "outside the course's sources")]
        """
        ref = self.evidence.strip()
        if not ref:
            return []
        if _EARLIER.search(ref):
            return [("earlier", ref)]
        if _OUTSIDE.match(ref):
            # "outside: the 14th Congress met in Moscow": a well-established fact the brief lets the model give,
            # flagged to the student; relay trial 77 refused it twice as "evidence not given".
            return [("outside", ref)]
        parts = [p for p in re.split(r"\s*(?:,|;|&|\band\b)\s*", ref) if p.strip()]
        if len(parts) > 1 and all(_PASSAGE_REF.match(p) or _EVIDENCE_ID.fullmatch(p.strip()) for p in parts):
            return [("passage", m.group(1)) if (m := _PASSAGE_REF.match(p)) else ("fact", p.strip().upper())
                    for p in parts]
        m = _PASSAGE_REF.match(ref)
        return [("passage", m.group(1)) if m else ("fact", ref)]


class StudentQuestion(_Part):
    """A question the student asked, and the short direct answer the reply gives first."""

    text: str = Field(description="the student's question")
    answer: str = Field(description="a direct, short answer from the passages (one sentence), or empty if "
                                    "answering would give away the lesson's whole answer")


class PointMade(_Part):
    """A key point of the lesson card that this message makes, with the student's words."""

    key_point_id: str = Field(description="the id of a key point of the lesson card")
    words: str = Field(description="the student's own words from this message that make the point, copied exactly")


class Reading(_Part):
    """The judgement of one student message, and the reply."""

    claims: list[ClaimReading] = Field(description="every factual claim in the message, each judged; "
                                                   "empty if it makes none")
    student_questions: list[StudentQuestion] = Field(description="every question the student asks in the message")
    points_made: list[PointMade] = Field(description="key points this message makes (not earlier ones)")
    move: ReadingMove = Field(description="what the reply does")
    reply: str = Field(description="the tutor's reply to the student: short, ends with one question")

    @property
    def feedback(self) -> str | None:
        """The verdict the reply leads with: the worst of the claims' (wrong before partly before
        right); None when no claim was judged."""
        verdicts = {c.verdict for c in self.claims}
        for v in ("wrong", "partly", "right"):
            if v in verdicts:
                return v
        return None

    @property
    def move_kind(self) -> str:
        return MOVE_KINDS.get(self.move, self.move)

    def summary(self) -> dict:
        """The Reading without its reply, as recorded with the turn."""
        return self.model_dump(exclude={"reply"})


@dataclass(frozen=True)
class Evidence:
    """What the fact base or the timeline says about one sentence of the student's message:
    given to the model as data (never as a verdict) and used to guard its verdicts."""

    id: str         # "E1", "E2" … within the turn
    key: str        # the fact's id, or "date:<timeline event id>": the same fact found twice is one
    sentence: str   # the student's sentence it bears on
    # "answers": a dated timeline event a question of the student's names (the date is the answer;
    # relay trial 20's model hedged "check the exact day" where no passage gave it).
    # "background": the course glossary's definition of a term a claim names ("the NEP was his idea":
    # NEP was Lenin's, March 1921), so the model can check the claim instead of saying "nothing here
    # says" (relay trial 30). Neither finding is a verdict the guards hold the model to.
    finding: Literal["supports", "contradicts", "answers", "background"]
    fact: str       # the fact, in the project's words
    source: str     # the corpus document that gives it

    def as_dict(self) -> dict:
        return {"id": self.id, "student_sentence": self.sentence, "finding": self.finding, "fact": self.fact,
                "source": self.source}


# -- the essay coach's reading ----------------------------------------------------------------------
class EssayFactError(_Part):
    """A factual error in the essay."""

    text: str = Field(description="the essay's words that state it, copied exactly")
    correction: str = Field(description="the correct fact, one short sentence")
    evidence: str = Field(description="a passage number, or the evidence id that gives the correct fact")


class EssayReading(_Part):
    """The model's judgement of a pasted essay against the mark scheme, and the reply."""

    level: Literal["L1", "L2", "L3", "L4", "L5"] = Field(description="the mark scheme level the essay reaches")
    marks: int = Field(description="the mark out of 25, inside the level's band")
    evidence: list[str] = Field(description="short phrases copied exactly from the essay that justify the level")
    factual_errors: list[EssayFactError] = Field(description="every factual error in the essay")
    reply: str = Field(description="the coach's reply: the level and why in one sentence, any error to check, "
                                   "then one coaching question")
