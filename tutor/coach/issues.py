"""The problems an essay coach names, each tied to a paragraph.

Example::

    [i.kind for i in find_issues(summary)]
    # → ['narrative', 'no_counter_argument', 'no_judgement']

Kinds (the same as corpus/eval/essays sidecars): no_evidence, no_counter_argument, no_judgement,
no_conclusion, unfinished, wrong_date, misattribution, narrative. Messages describe what is
missing; they never supply the missing sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.coach.bands import Summary
from tutor.coach.features import ends_cleanly

ISSUE_KINDS = ("no_evidence", "no_counter_argument", "no_judgement", "no_conclusion", "unfinished",
               "wrong_date", "misattribution", "wrong_fact", "narrative")
# Factual errors: a wrong date (or order), a quotation given to the wrong person, or another fact
# the fact base contradicts (an office, an alliance, a faction, "elected by the people").
FACT_KINDS = ("wrong_date", "misattribution", "wrong_fact")


@dataclass(frozen=True)
class Issue:
    kind: str
    paragraph: int
    message: str
    detail: str = ""  # for fact issues: the misconception, timeline event or fact id
    scope: str = ""   # for no_judgement: "body" or "conclusion"
    sentence: str = ""  # for fact issues: the student's sentence, quoted
    correct: str = ""  # for fact issues: the correct fact
    doc: str = ""  # for fact issues: the corpus document that has it
    probe: str = ""  # for fact issues: a question that sends the student to the source

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "paragraph": self.paragraph, "message": self.message}
        if self.kind in FACT_KINDS:
            data.update(sentence=self.sentence, correct=self.correct, doc=self.doc)
        return data


def find_issues(s: Summary) -> list[Issue]:
    """Every issue, in paragraph order (fact issues where the slip is)."""
    issues: list[Issue] = []
    paras = s.paragraphs
    if not paras:
        return issues
    last = paras[-1]
    counters = s.counter_paragraphs

    for p in s.body:
        if p.role != "body" and len(paras) > 2:
            continue
        if p.narrative:
            issues.append(Issue("narrative", p.n, f"Paragraph {p.n} tells what happened ({len(p.dates)} dates) "
                                                  "but does not say what it shows about the question."))
        elif p.evidence == 0 and len(p.sentences) >= 2:
            issues.append(Issue("no_evidence", p.n, f"Paragraph {p.n} makes its point without a specific date, "
                                                    "name or figure to prove it."))
        elif p.evidence <= 1 and len(p.sentences) >= 4:
            issues.append(Issue("no_evidence", p.n, f"Paragraph {p.n} has only one specific detail for "
                                                    f"{len(p.sentences)} sentences of argument."))
        elif p.asserted:
            issues.append(Issue("no_evidence", p.n, f"Paragraph {p.n} asserts a judgement about a factor "
                                                    "without a date, figure or event to support it."))
        if p in counters and not s.counter_weighed and ends_cleanly(p.text):
            issues.append(Issue("no_judgement", p.n, f"Paragraph {p.n} raises the other side but leaves it "
                                                     "hanging: it is not weighed against the view.", scope="body"))

    for f in s.findings:
        # The student's sentence travels in its own field (shown as their quotation), so the
        # coach's own words never repeat the essay.
        where = f" (source: {f.doc})" if f.doc else ""
        message = f"{f.message.rstrip('.')}.{where}"
        issues.append(Issue(f.kind, f.paragraph, message, f.source_id, sentence=f.sentence, correct=f.correct,
                            doc=f.doc, probe=f.probe))

    finished_counters = [p for p in counters if ends_cleanly(p.text)]
    if not finished_counters:
        where = s.conclusion.n if s.conclusion else last.n
        message = ("The other side of the argument is only begun." if counters
                   else "No paragraph argues against the view in the question, so the essay is one-sided.")
        issues.append(Issue("no_counter_argument", where, message))

    if s.unfinished:
        issues.append(Issue("unfinished", last.n, f"The essay stops mid-sentence in paragraph {last.n}."))
    judgement = s.judgement
    if judgement == "none" and len(paras) >= 2:
        issues.append(Issue("no_conclusion", last.n, "There is no conclusion, so the essay never gives its "
                                                     "answer to the question."))
    elif judgement == "absent":
        issues.append(Issue("no_judgement", last.n, "The conclusion does not say how far you agree with the view.",
                            scope="conclusion"))
    elif judgement == "asserted":
        issues.append(Issue("no_judgement", last.n, "The conclusion states a view but does not weigh the factors "
                                                    "to show why it holds.", scope="conclusion"))
    return sorted(issues, key=lambda i: (i.paragraph, ISSUE_KINDS.index(i.kind)))
