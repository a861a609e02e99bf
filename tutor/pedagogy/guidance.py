"""Does a reply guide? Checks a tutor reply can be scored on without a model.

>>> g = assess("Check the second step: did he really have 6,000 steps left after the jog?",
...            student="he took 4000 steps during his jog", context="he had 2,000 steps left")
>>> g.guidance, g.actionability, g.locates_mistake
('to_some_extent', 'to_some_extent', False)
>>> assess("Great job! Let's move on to the next problem.", student="4000").guidance
'no'

Three questions, after MRBench's dimensions (Maurya et al., NAACL 2025):

- **actionability** — is there a next step the student can take: a question put to them, or an
  instruction (check, try, look at, think about…)?  A step that names the work in hand is
  ``yes``; a bare "try again" is ``to_some_extent``.
- **locates the mistake** — does the reply point at something specific the student wrote, or a
  given they missed, next to a sign that something is wrong?
- **guidance** — does it help: a grounded hint, explanation or question (``yes``), help that is
  generic or merely tells (``to_some_extent``), or none — praise, moving on, off-topic (``no``)?

"Grounded" means the reply names content of the conversation: a number, or a content word of
the student's words or the problem (for the history tutor: the student's message, the lesson
card and the shown passages). The rules are lexical on purpose: they run on every reply, offline,
and are measured against human labels by ``tutor eval mrbench`` (docs/evaluation.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.pedagogy.reveal import numbers_in

Level = str  # "yes" | "to_some_extent" | "no"
MIN_GROUNDING = 2  # numbers and content words of the conversation a reply must name to be specific

# Something for the student to do: a request or an instruction (a question is checked apart).
_STEP = re.compile(
    r"\b(can you|could you|would you|will you|try|check|re-?check|double[- ]check|look (at|again|back|closely)"
    r"|take a (closer |second )?look|think (about|of|through)|consider|compare|work (it |this |that )?out|calculate"
    r"|recalculate|count|go back|revisit|re-?read|review|show me|tell me|explain|walk me through|let'?s|start (with|by)"
    r"|focus on|make sure|see if|figure out|work through|redo|retry)\b", re.I)
# Help that is not a request: a hint or an explanation.
_HINT = re.compile(
    r"\b(remember|recall|notice|note that|keep in mind|think of it|for example|imagine|means|because|since|so that"
    r"|instead|rather than|the (key|trick)|which (is|means)|that is|when we|if (you|we|he|she|they))\b", re.I)
_MISTAKE = re.compile(
    r"\b(not quite|not (correct|right)|incorrect|mistake|error|wrong|mix-?up|mixed up|forgot|overlook|miss(ed|ing)?"
    r"|actually|however|but|close|almost|careful|double[- ]check|re-?check|slip|confus|misread|misunderstand"
    r"|instead of|rather than|should (have|be)|isn'?t|wasn'?t|doesn'?t|don'?t think|not the|too (big|small|high|low|many|few))\b",
    re.I)
_MOVE_ON = re.compile(
    r"\b(move on|next (problem|question|topic)|another (question|problem|example)|similar problems?|more examples"
    r"|keep (it up|practicing|practising|going)|well done|great job|good job|nice work|good try|great try|good attempt"
    r"|plus 1 point)\b", re.I)
# Replies that wandered off the exchange (an LLM continuing a transcript, a new topic).
_OFF_TRACK = re.compile(r"###|\b(user|assistant):|\bwhat would you like to (learn|talk)", re.I)
_WORD = re.compile(r"[a-z][a-z']+")
_COMMON = frozenset(
    "about above after again against all also always am an and any are around as at back be because been before being "
    "below between both but by can cannot could did do does doing done down during each even every few for from further "
    "get gets getting give given go going good got great had has have having he her here hers him his how however i if "
    "in into is it its itself just keep know let like look looks made make many may me might more most much must my "
    "need needs new next no nor not now of off ok okay on once one only or other our out over own part put quite really "
    "right same say see seems she should show so some step steps still such sure take than thank thanks that the their "
    "them then there these they thing think this those though through time to too try two under until up us use very "
    "want was way we well were what when where which while who why will with work would yes yet you your yours "
    "answer answers question problem correct incorrect mistake wrong actually remember again let's that's it's you're "
    "we're i'm don't can't isn't idea track close almost nice job attempt effort glad help".split())


def _content_words(text: str) -> set[str]:
    return {w.rstrip("'s") for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _COMMON}


@dataclass
class Grounding:
    numbers: list[float] = field(default_factory=list)  # numbers of the conversation the reply uses
    words: list[str] = field(default_factory=list)  # content words of the conversation the reply uses
    student_terms: int = 0  # of those, how many come from the student's own words

    @property
    def size(self) -> int:
        return len(self.numbers) + len(self.words)


def grounding(text: str, student: str, context: str = "") -> Grounding:
    """What of the conversation the reply names: numbers and content words of the student's
    words (``student``) or the problem, card or passages (``context``)."""
    reply_numbers = set(numbers_in(text))
    student_numbers, context_numbers = set(numbers_in(student)), set(numbers_in(context))
    reply_words = _content_words(text)
    student_words, context_words = _content_words(student), _content_words(context)
    numbers = sorted(reply_numbers & (student_numbers | context_numbers))
    words = sorted(reply_words & (student_words | context_words))
    from_student = len(reply_numbers & student_numbers) + len(reply_words & student_words)
    return Grounding(numbers, words, from_student)


@dataclass
class Assessment:
    guidance: Level
    actionability: Level
    mistake_identification: Level
    locates_mistake: bool
    grounding: Grounding
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"guidance": self.guidance, "actionability": self.actionability,
                "mistake_identification": self.mistake_identification, "locates_mistake": self.locates_mistake,
                "grounded_on": [*map(_num, self.grounding.numbers), *self.grounding.words], "reasons": self.reasons}


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def asks_question(text: str) -> bool:
    return "?" in text


def assess(text: str, student: str, context: str = "", *, revealed: bool = False) -> Assessment:
    """Guidance, actionability and mistake signals for one reply.

    ``student``: what the student said (their last message matters most); ``context``: the
    rest of what the reply may refer to. ``revealed``: the reveal check found that the reply
    hands over the answer, which leaves the student little to do.
    """
    reasons: list[str] = []
    g = grounding(text, student, context)
    off_track = bool(_OFF_TRACK.search(text))
    question = asks_question(text)
    request = bool(_STEP.search(text))
    step = question or request
    hint = bool(_HINT.search(text))
    mistake = bool(_MISTAKE.search(text))
    moving_on = bool(_MOVE_ON.search(text)) and g.size <= 1
    grounded = g.size >= MIN_GROUNDING

    if off_track:
        reasons.append("off track")
    if moving_on:
        reasons.append("praise or moving on, nothing specific")

    # Annotators, like students, find nothing left to do once the answer is handed over.
    if off_track or revealed or not step or (moving_on and not question):
        actionability = "no"
    elif grounded:
        actionability = "yes"
    else:
        actionability = "to_some_extent"

    locates = mistake and g.student_terms >= 1 and not off_track
    if off_track or moving_on or not (grounded or step):
        guidance = "no"
    elif grounded and (step or hint or mistake):
        guidance = "yes"
    else:
        guidance = "to_some_extent"

    mistake_identification = "yes" if mistake and not off_track else ("no" if not step or moving_on else "to_some_extent")
    return Assessment(guidance, actionability, mistake_identification, locates, g, reasons)


def gives_guidance(text: str, student: str, context: str = "") -> bool:
    """The reply gives grounded help (the ``yes`` of ``assess``)."""
    return assess(text, student, context).guidance == "yes"


def is_actionable(text: str, student: str, context: str = "") -> bool:
    """The student can tell what to do next, about the work in hand (the ``yes`` of ``assess``)."""
    return assess(text, student, context).actionability == "yes"
