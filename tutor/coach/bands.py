"""Placing an essay in a band of the 25-mark scheme, descriptor by descriptor.

Example::

    summary = Summary.of(paragraphs, findings)
    band = place(summary)
    band.level, band.marks
    # → ('L3', (11, 13))

The bands follow the course factsheet (corpus/sources/skills-25-mark-essay.md), which summarises
AQA's levels: L1 1–5, L2 6–10, L3 11–15, L4 16–20, L5 21–25. Each level has descriptors, each
tested by measurable features; an essay reaches a level when it meets every descriptor of that
level and of the levels below (a ladder, so "why not the next level" is always a named
descriptor). The marks inside the band depend on how much of the next level is already there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tutor.coach.facts import Finding
from tutor.coach.features import Paragraph, ends_cleanly

LEVELS = ("L1", "L2", "L3", "L4", "L5")
MARKS = {"L1": (1, 5), "L2": (6, 10), "L3": (11, 15), "L4": (16, 20), "L5": (21, 25)}
# Each level's summary from the factsheet, shown with the band.
LEVEL_SUMMARY = {
    "L1": "limited understanding; generalised comments with little relevant evidence",
    "L2": "some understanding, but mostly descriptive",
    "L3": "some analysis and relevant evidence, but the judgement is limited or only asserted",
    "L4": "good understanding; analytical and balanced, with a judgement supported by evidence",
    "L5": "very good understanding; precise, well-selected evidence; fully analytical, with a sustained "
          "and substantiated judgement",
}
# Words an essay needs to have room for what a level asks (an exam answer is 600–1200 words): a
# floor for L2 (a few lines cannot show knowledge) and for "fully developed" at L5; the levels
# between rest on argument, evidence, judgement and accuracy alone.
MIN_WORDS = {"L2": 150, "L5": 800}
# Distinct specific names (people, congresses, documents) that show knowledge without a date.
KNOWLEDGE_NAMES = 4
PARAGRAPH_WORDS = 80  # one developed paragraph; below it, a few lines
# The highest level an essay that stops before its judgement can reach.
UNFINISHED_CAP = "L2"
_LINE = re.compile(r"\b(?:(?:this|the|my) essay (?:will )?argues?|i (?:will )?argue|will argue|argues? that)\b", re.I)
_AVOIDS = re.compile(r"\ball (?:of )?(?:these|the|those) (?:factors|reasons)\b[^.]{0,40}\b(?:together|helped|"
                     r"contributed|were (?:all )?important|played a part)|\b(?:were|are) all important\b", re.I)


@dataclass
class Summary:
    """Essay-level measurements the descriptors are tested on."""

    paragraphs: list[Paragraph]
    findings: list[Finding] = field(default_factory=list)

    @classmethod
    def of(cls, paragraphs: list[Paragraph], findings: list[Finding] | None = None) -> "Summary":
        return cls(paragraphs, list(findings or []))

    @property
    def words(self) -> int:
        return sum(p.words for p in self.paragraphs)

    @property
    def introduction(self) -> Paragraph | None:
        return next((p for p in self.paragraphs if p.role == "introduction"), None)

    @property
    def conclusion(self) -> Paragraph | None:
        return next((p for p in self.paragraphs if p.role == "conclusion"), None)

    @property
    def body(self) -> list[Paragraph]:
        body = [p for p in self.paragraphs if p.role == "body"]
        return body or [p for p in self.paragraphs if p.role != "conclusion"] or self.paragraphs

    @property
    def unfinished(self) -> bool:
        return bool(self.paragraphs) and not ends_cleanly(self.paragraphs[-1].text)

    def share(self, test: Callable[[Paragraph], bool]) -> float:
        body = self.body
        return sum(1 for p in body if test(p)) / max(1, len(body))

    @property
    def with_evidence(self) -> float:
        return self.share(lambda p: p.evidence > 0)

    @property
    def evidence_per_paragraph(self) -> float:
        return sum(p.evidence for p in self.body) / max(1, len(self.body))

    @property
    def analytical(self) -> float:
        return self.share(lambda p: p.analytical)

    @property
    def narrative(self) -> list[Paragraph]:
        return [p for p in self.body if p.narrative]

    @property
    def counter_paragraphs(self) -> list[Paragraph]:
        """Body paragraphs that turn to the other side of the argument."""
        return [p for p in self.body if p.counter_opening or p.counter >= 2]

    @property
    def counter_weighed(self) -> bool:
        """The other side is weighed: a counter paragraph compares, or the conclusion does."""
        counters = self.counter_paragraphs
        if not counters:
            return False
        concl = self.conclusion
        return any(p.weighed for p in counters) or bool(concl and concl.weighed and self.judgement == "supported")

    @property
    def judgement(self) -> str:
        """none (no conclusion) | absent (a conclusion with no verdict) | asserted | supported."""
        concl = self.conclusion
        if concl is None:
            return "none"
        if not concl.verdict and not concl.weighed:
            return "absent"
        avoids = bool(_AVOIDS.search(concl.text)) and concl.weighed < 2
        if concl.weighed and (concl.explained or concl.linked) and not avoids:
            return "supported"
        return "asserted"

    @property
    def line_of_argument(self) -> bool:
        """The introduction states a position that the essay will test."""
        intro = self.introduction
        return bool(intro and (intro.weighed or _LINE.search(intro.text)))

    @property
    def mini_judgements(self) -> float:
        return self.share(lambda p: p.weighed > 0 or (p.linked > 0 and (p.verdict or p.counter > 0)))

    @property
    def historians(self) -> list[str]:
        return sorted({h for p in self.paragraphs for h in p.historians})

    @property
    def fact_errors(self) -> int:
        return len(self.findings)

    def numbers(self) -> dict[str, float | int | str | bool]:
        """The measurements, rounded, for JSON output and the "why" of each descriptor."""
        return {
            "words": self.words, "paragraphs": len(self.paragraphs), "body_paragraphs": len(self.body),
            "body_with_evidence": round(self.with_evidence, 2),
            "evidence_per_body_paragraph": round(self.evidence_per_paragraph, 1),
            "analytical_body_paragraphs": round(self.analytical, 2),
            "narrative_paragraphs": len(self.narrative), "counter_paragraphs": len(self.counter_paragraphs),
            "counter_weighed": self.counter_weighed, "judgement": self.judgement,
            "line_of_argument": self.line_of_argument, "mini_judgements": round(self.mini_judgements, 2),
            "historians": len(self.historians), "fact_errors": self.fact_errors, "unfinished": self.unfinished,
        }


@dataclass
class Descriptor:
    """One level descriptor: met or not, the measurement behind it (why) and, when unmet, the
    shortfall in a phrase ("paragraphs 2 and 4 mostly tell the story")."""

    level: str
    text: str
    met: bool
    why: str
    key: str = ""  # knowledge | analysis | evidence | judgement | balance | supported | accuracy | ...
    gap: str = ""

    def as_dict(self) -> dict:
        return {"level": self.level, "descriptor": self.text, "met": self.met, "why": self.why}


def _paras(ps: list[Paragraph]) -> str:
    nums = [str(p.n) for p in ps]
    if not nums:
        return ""
    return ("paragraph " if len(nums) == 1 else "paragraphs ") + (
        nums[0] if len(nums) == 1 else ", ".join(nums[:-1]) + " and " + nums[-1])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def descriptors(s: Summary) -> list[Descriptor]:
    """Every descriptor from L2 to L5, each with whether it is met and the measurement behind it."""
    out: list[Descriptor] = []
    body = s.body
    nb = len(body)

    def add(level: str, key: str, text: str, checks: list[tuple[bool, str, str]]) -> None:
        """checks: (passed, what was measured, the shortfall when it did not pass).

        A met descriptor's "why" is what was measured; an unmet one's is what falls short, so the
        row never reads "no" beside evidence that it was met."""
        met = all(ok for ok, _, _ in checks)
        gap = "; ".join(g for ok, _, g in checks if not ok and g)
        why = "; ".join(w for ok, w, _ in checks if w and ok) if met else gap
        out.append(Descriptor(level, text, met, why, key, gap))

    # L2: some relevant knowledge.
    evidenced = [p for p in s.paragraphs if p.evidence]
    dated = sum(len(p.dates) + len(p.figures) for p in s.paragraphs)
    named = len({n for p in s.paragraphs for n in p.names})
    # Names are knowledge too: an essay full of the right people, congresses and documents knows
    # something even if it gives no year.
    specific = ", ".join(x for x in (_plural(dated, "date or figure").replace("date or figures", "dates or figures")
                                     if dated else "", _plural(named, "specific name") if named else "") if x)
    add("L2", "knowledge", "Some relevant knowledge: specific dates, names or figures, not only general comments", [
        # A single paragraph (the essay written in parts) shows knowledge on its own; the length cap
        # in place() keeps it from reading as a whole essay (offline trial 2: a paragraph naming the
        # Secretariat, the Orgburo, the Lenin Enrolment of 1924 and the 14th Congress was Level 1).
        (len(evidenced) >= min(2, len(s.paragraphs)) and sum(p.evidence for p in s.paragraphs) >= 3,
         f"{len(evidenced)} of {len(s.paragraphs)} paragraphs name specific events, documents or people",
         "most points have no specific event, document or person behind them"),
        (dated >= 1 or named >= KNOWLEDGE_NAMES, specific,
         "there is not one date, figure or specific name" if not (dated or named)
         else f"only {specific}: too few to show knowledge"),
        (s.words >= (PARAGRAPH_WORDS if len(s.paragraphs) == 1 else MIN_WORDS["L2"]), "",
         f"at {s.words} words the answer is too short to show much"),
    ])

    # L3: some analysis, relevant evidence, a judgement (even if only asserted).
    narrative = s.narrative
    add("L3", "analysis", "Some analysis: paragraphs explain why their evidence matters instead of telling the story", [
        (s.analytical >= 0.6, f"{round(s.analytical * nb)} of {nb} body paragraphs explain what their evidence shows",
         "most body paragraphs do not say what their evidence shows"),
        (len(narrative) <= nb / 3, f"{_paras(narrative)} mostly tell the story" if narrative else "",
         f"{_paras(narrative)} mostly {'tells' if len(narrative) == 1 else 'tell'} the story"),
    ])
    no_ev = [p for p in body if not p.evidence]
    add("L3", "evidence", "Relevant evidence in most paragraphs", [
        (s.with_evidence >= 0.6, f"{nb - len(no_ev)} of {nb} body paragraphs give specific evidence",
         f"{_paras(no_ev)} {'has' if len(no_ev) == 1 else 'have'} no specific evidence"),
    ])
    judgement = s.judgement
    stated = {"none": "there is no conclusion" + (" (the essay stops mid-sentence)" if s.unfinished else ""),
              "absent": "the conclusion does not say how far you agree",
              "asserted": "the conclusion states a view",
              "supported": "the conclusion states a view and gives reasons for it"}[judgement]
    if _one_paragraph(s):
        # A paragraph sent on its own (the essay in parts) has no conclusion to judge: its own last
        # sentence is the judgement it can show.
        ends = s.mini_judgements >= 1.0 or judgement in ("asserted", "supported")
        stated = ("the paragraph ends by judging its point against the question" if ends
                  else "the paragraph does not end by judging its point against the question")
        add("L3", "judgement", "Reaches a judgement, even if it is only asserted at the end", [(ends, stated, stated)])
    else:
        add("L3", "judgement", "Reaches a judgement, even if it is only asserted at the end", [
            (judgement in ("asserted", "supported"), stated, stated)])

    # L4: balanced, a supported judgement, good accurate knowledge.
    counters = s.counter_paragraphs
    if not counters:
        balance = "no paragraph argues against the view in the question"
    elif s.counter_weighed:
        balance = f"{_paras(counters)} {'takes' if len(counters) == 1 else 'take'} the other side and weigh it"
    else:
        balance = (f"{_paras(counters)} {'raises' if len(counters) == 1 else 'raise'} the other side "
                   "without weighing it against the view")
    add("L4", "balance", "Balanced: the other side of the argument is considered and weighed", [
        (bool(counters) and s.counter_weighed, balance, balance)])
    supported = {"supported": "the conclusion compares factors and explains why one matters more",
                 "asserted": "the conclusion states a view without showing why one factor outweighs the others",
                 "absent": "the conclusion does not reach a view", "none": "there is no conclusion"}[judgement]
    add("L4", "supported", "A judgement supported by reasons and evidence", [
        (judgement == "supported", supported, supported)])
    add("L4", "accuracy", "Good, accurate knowledge: specific evidence in nearly every paragraph", [
        (s.with_evidence >= 0.75 and s.evidence_per_paragraph >= 2,
         f"{s.evidence_per_paragraph:.1f} specific details per body paragraph, in "
         f"{round(s.with_evidence * nb)} of {nb}", f"{_paras(no_ev) or 'some paragraphs'} lack specific evidence"),
        (s.fact_errors <= 1, _plural(s.fact_errors, "factual error") + " to correct" if s.fact_errors
         else "no factual errors found", _plural(s.fact_errors, "factual error") + " to correct"),
        # Names show knowledge; good knowledge also places events in time.
        (dated >= 1, "", "no dates or figures place the events in time"),
    ])

    # L5: sustained judgement, precise well-selected evidence, fully analytical and developed.
    add("L5", "sustained", "A sustained judgement: set out in the introduction, tested in every paragraph, "
                           "confirmed in the conclusion", [
        (s.line_of_argument, "the introduction sets out a line of argument" if s.line_of_argument else "",
         "the introduction does not yet commit to a line of argument"),
        (s.mini_judgements >= 0.6, f"{round(s.mini_judgements * nb)} of {nb} body paragraphs end in a mini-judgement",
         "most body paragraphs do not end by judging their factor against the view"),
        (judgement == "supported", "", "the conclusion does not yet weigh the factors"),
    ])
    thin = [p for p in body if p.evidence < 3]
    historians = s.historians
    add("L5", "precise", "Precise, well-selected evidence, including historians' interpretations", [
        (not thin, "every body paragraph is precise" if not thin else "", f"{_paras(thin)} could be more precise"),
        (len(historians) >= 2, _plural(len(historians), "historian") + " used"
         + (f" ({', '.join(historians)})" if historians else ""),
         "historians' interpretations are not yet used to support the argument" if not historians
         else f"only one historian's interpretation ({historians[0]}) is used"),
        (s.fact_errors == 0, "", "there are factual errors"),
    ])
    add("L5", "developed", "Fully analytical and developed throughout", [
        (s.analytical == 1.0 and not narrative, f"{round(s.analytical * nb)} of {nb} body paragraphs analytical",
         "not every body paragraph is analytical"),
        (s.words >= MIN_WORDS["L5"], f"{s.words} words",
         f"at {s.words} words there is room to develop each point further"),
    ])
    return out


@dataclass
class Band:
    level: str
    marks: tuple[int, int]
    descriptors: list[Descriptor]

    @property
    def next_level(self) -> str | None:
        i = LEVELS.index(self.level)
        return LEVELS[i + 1] if i + 1 < len(LEVELS) else None

    def unmet(self, level: str | None = None) -> list[Descriptor]:
        level = level or self.next_level
        return [d for d in self.descriptors if d.level == level and not d.met]

    @property
    def summary(self) -> str:
        return LEVEL_SUMMARY[self.level]


PARAGRAPH_CAP = "L3"


def _one_paragraph(s: Summary) -> bool:
    """A single developed paragraph, sent on its own to be marked."""
    return len(s.paragraphs) == 1 and s.words >= PARAGRAPH_WORDS


def place(s: Summary) -> Band:
    """The highest level whose own descriptors are all met, with at most one slip among the
    descriptors below it (best fit: one missing date does not undo analysis, evidence and balance
    the table finds). An unfinished essay is read for what it has: its missing conclusion does
    not floor it, but without a judgement it is capped at Level 2 (the teachers' band for
    corpus/eval/essays/l2-unfinished-divisions)."""
    ds = descriptors(s)
    cut_short = s.unfinished and s.judgement in ("none", "absent")
    level = "L1"
    for i, candidate in enumerate(LEVELS[1:], start=1):
        own = [d for d in ds if d.level == candidate and not (cut_short and d.key == "judgement")]
        slips = [d for d in ds if LEVELS.index(d.level) < i and not d.met
                 and not (cut_short and d.key == "judgement")]
        if len(slips) > 1:
            break
        if all(d.met for d in own):
            level = candidate
    # One paragraph can show knowledge, analysis and a judgement of its point, not balance or a
    # weighed conclusion: it reads no higher than Level 3, as a paragraph.
    if _one_paragraph(s):
        if LEVELS.index(level) > LEVELS.index(PARAGRAPH_CAP):
            level = PARAGRAPH_CAP
    # A few lines cannot show more than some knowledge, however well argued.
    elif (cut_short or s.words < MIN_WORDS["L2"]) and LEVELS.index(level) > LEVELS.index(UNFINISHED_CAP):
        level = UNFINISHED_CAP
    return Band(level, _marks(level, ds, s), ds)


def _marks(level: str, ds: list[Descriptor], s: Summary) -> tuple[int, int]:
    """A three-mark range inside the band: higher when more of the next level is already met."""
    low, high = MARKS[level]
    i = LEVELS.index(level)
    nxt = LEVELS[i + 1] if i + 1 < len(LEVELS) else None
    if nxt:
        upper = [d for d in ds if d.level == nxt]
        progress = sum(d.met for d in upper) / len(upper)
    else:
        progress = 1.0
    # Argument, judgement and accuracy place the mark; length counts only through what it holds.
    judged = {"supported": 1.0, "asserted": 0.5}.get(s.judgement, 0.0)
    quality = (min(1.0, s.evidence_per_paragraph / 4) + s.analytical + judged) / 3
    quality = max(0.0, quality)
    # Each factual error costs a little: accuracy is part of "understanding" at every level.
    position = 0.6 * progress + 0.4 * quality - 0.1 * min(3, s.fact_errors)
    centre = low + round(position * (high - low))
    centre = min(max(centre, low + 1), high - 1)
    return centre - 1, centre + 1
