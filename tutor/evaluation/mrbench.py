"""The reply checks against human judgement: MRBench (Maurya et al., NAACL 2025).

Example::

    dialogues = load_mrbench(Path("MRBench_V1.json"))
    result = run_mrbench(dialogues)
    result["splits"]["test"]["dimensions"]["revealing_of_the_answer"]["check"]["macro_f1"]
    # → 0.81

Every tutor reply in the file is checked in its own context: the dialogue history is the
conversation (the student's turns are what the student has said; the first tutor turn, which
poses the problem, and the tutor's last question are what the reply may repeat), and the
reference solution, when there is one, is the answer that must not be revealed. The project's
own checks give the predictions — ``tutor.pedagogy.reveal`` and ``tutor.pedagogy.guidance``,
the same code that checks the tutor's replies; there is no second checker here.

Per dimension, agreement with the annotators is reported as accuracy, macro-F1, Cohen's κ and a
confusion matrix (scikit-learn), for the checks and for two baselines computed on the same
replies: the majority label, and "the reply contains a question". With a judge model, its
labels are scored the same way. Figures are given for the dev half of the dialogues (whose
figures the rules were adjusted on and the reveal guard was trained on), the test half (held
out) and all; with the replies' embeddings, ``reveal_heldout`` adds the guard's recipe refitted
with whole dialogues or whole tutors left out (``reveal_training.heldout``).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tutor.evaluation.datasets import DatasetError
from tutor.pedagogy.guidance import assess
from tutor.pedagogy.reveal import Reference, RevealClassifier, guarded_reveals, reveals

Progress = Callable[[str, int, int], None]

# Published figures for comparison (BEA 2025 shared task, best exact macro-F1, held-out test).
REFERENCE_F1 = {"mistake_identification": 0.718, "mistake_location": 0.598, "providing_guidance": 0.583,
                "actionability": 0.709}
REFERENCE_SOURCE = "BEA 2025 shared task on pedagogical ability assessment, best exact (3-class) macro-F1"

# dimension -> (the file's key, labels in order, the label a good tutor reply gets)
DIMENSIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "revealing_of_the_answer": ("Revealing_of_the_Answer", ("yes", "no"), "no"),
    "providing_guidance": ("Providing_Guidance", ("yes", "to_some_extent", "no"), "yes"),
    "actionability": ("Actionability", ("yes", "to_some_extent", "no"), "yes"),
    "mistake_identification": ("Mistake_Identification", ("yes", "to_some_extent", "no"), "yes"),
    "mistake_location": ("Mistake_Location", ("yes", "to_some_extent", "no"), "yes"),
}
# Three-label dimensions are also scored "lenient" (yes and to_some_extent against no), as the
# shared task did; revealing the answer has two labels once right and wrong reveals are merged.
LENIENT = {"yes": "yes", "to_some_extent": "yes", "no": "no"}
_TURN = re.compile(r"(?:^|\n)[\s\u00a0]*(Tutor|Student)\s*:", re.I)
NOT_AVAILABLE = "not available"


@dataclass
class LabelledReply:
    tutor: str
    text: str
    labels: dict[str, str]  # dimension -> normalised label ("yes", "to_some_extent", "no")
    raw_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Dialogue:
    id: str
    turns: list[tuple[str, str]]  # ("tutor" | "student", text)
    solution: str | None
    source: str
    replies: list[LabelledReply]

    @property
    def split(self) -> str:
        """'dev' or 'test': a fixed half of the dialogues by SHA-1 of the id (the file's own
        Split field puts every dialogue without a solution in train, so it cannot be used)."""
        return "dev" if int(hashlib.sha1(self.id.encode()).hexdigest(), 16) % 2 == 0 else "test"

    def student_text(self) -> str:
        return "\n".join(t for role, t in self.turns if role == "student")

    def last_student(self) -> str:
        return next((t for role, t in reversed(self.turns) if role == "student"), "")

    def given_text(self) -> str:
        """What the reply may repeat without giving anything away: the tutor's first turn (it
        poses the problem) and the tutor's turns since the student's last message."""
        tutor_turns = [t for role, t in self.turns if role == "tutor"]
        given = tutor_turns[:1]
        for role, text in reversed(self.turns):
            if role == "student":
                break
            given.append(text)
        # The question the student was answering, when the student has just replied.
        for i in range(len(self.turns) - 1, 0, -1):
            if self.turns[i][0] == "student" and self.turns[i - 1][0] == "tutor":
                given.append(self.turns[i - 1][1])
                break
        return "\n".join(dict.fromkeys(given))

    def conversation(self) -> str:
        return "\n".join(f"{role.capitalize()}: {text}" for role, text in self.turns)


def parse_turns(history: str) -> list[tuple[str, str]]:
    """'Tutor: …\\n Student: …' into (role, text) turns (non-breaking spaces tolerated)."""
    marks = list(_TURN.finditer(history or ""))
    turns = []
    for m, nxt in zip(marks, [*marks[1:], None]):
        text = history[m.end(): nxt.start() if nxt else len(history)]
        text = " ".join(text.replace("\u00a0", " ").split())
        if text:
            turns.append((m.group(1).lower(), text))
    return turns


def normalise_label(dimension: str, value: Any) -> str | None:
    """The file's label as one of the dimension's labels; None when missing or unknown."""
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    if dimension == "revealing_of_the_answer":
        return "yes" if low.startswith("yes") else "no" if low == "no" else None
    return {"yes": "yes", "to some extent": "to_some_extent", "no": "no"}.get(low)


def load_mrbench(path: Path) -> list[Dialogue]:
    """Dialogues from an MRBench JSON file. Missing solutions and labels are allowed (they are
    counted, not guessed); a file that is not MRBench-shaped raises DatasetError listing why."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError([f"{path}: cannot read it ({exc.strerror or exc})"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError([f"{path}: not valid JSON ({exc})"]) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise DatasetError([f"{path}: expected a JSON list of MRBench dialogues"])
    problems: list[str] = []
    dialogues: list[Dialogue] = []
    for n, record in enumerate(data):
        where = f"{path}: record {n}"
        if not isinstance(record, dict):
            problems.append(f"{where}: not an object")
            continue
        cid = str(record.get("conversation_id") or f"record-{n}")
        responses = record.get("anno_llm_responses")
        history = record.get("conversation_history")
        if not isinstance(history, str) or not parse_turns(history):
            problems.append(f"{where} ({cid}): 'conversation_history' has no 'Tutor:' or 'Student:' turns")
            continue
        if not isinstance(responses, dict) or not responses:
            problems.append(f"{where} ({cid}): 'anno_llm_responses' must map tutor names to responses")
            continue
        replies = []
        for tutor, item in responses.items():
            if not isinstance(item, dict) or not isinstance(item.get("response"), str) or not item["response"].strip():
                problems.append(f"{where} ({cid}): tutor '{tutor}' has no 'response' text")
                continue
            raw = item.get("annotation") if isinstance(item.get("annotation"), dict) else {}
            labels = {}
            for dim, (key, _, _) in DIMENSIONS.items():
                label = normalise_label(dim, raw.get(key))
                if label is not None:
                    labels[dim] = label
            replies.append(LabelledReply(tutor, item["response"], labels, {k: str(v) for k, v in raw.items()}))
        solution = record.get("Ground_Truth_Solution")
        if not isinstance(solution, str) or solution.strip().lower() in ("", NOT_AVAILABLE):
            solution = None
        dialogues.append(Dialogue(cid, parse_turns(history), solution, str(record.get("Data") or "?"), replies))
    if problems:
        raise DatasetError(problems)
    return dialogues


# -- predictions --------------------------------------------------------------------------
def check_reply(dialogue: Dialogue, text: str, *, vector=None,
                classifier: RevealClassifier | None = None) -> dict[str, Any]:
    """The project's checks on one reply in its dialogue: a label per dimension, and why. With
    the reply's embedding (``vector``) and a ``classifier``, the reveal label is the trained
    guard's (``guarded_reveals``); without, the rules' alone. ``rules_reveal`` is always the
    rules' own label, for comparison."""
    reference = Reference.from_solution(dialogue.solution) if dialogue.solution else None
    said, given = dialogue.student_text(), dialogue.given_text()
    # The student's current answer is their last turn: earlier working (MathDial opens with the
    # student's whole solution) often holds the right number as a step without the student having
    # reached it as the answer.
    rules = reveals(text, reference, dialogue.last_student(), given)
    verdict = guarded_reveals(text, reference, dialogue.last_student(), given, vector=vector,
                              classifier=classifier) if vector is not None and classifier is not None else rules
    context = given + "\n" + (dialogue.solution or "")
    a = assess(text, dialogue.last_student(), context + "\n" + said, revealed=verdict.revealed)
    labels = {
        "revealing_of_the_answer": "yes" if verdict.revealed else "no",
        "providing_guidance": a.guidance,
        "actionability": a.actionability,
        "mistake_identification": a.mistake_identification,
        "mistake_location": "yes" if a.locates_mistake else "no",
    }
    return {"labels": labels, "reveal": verdict.detail, "reference": "solution" if reference else "none",
            "grounded_on": a.as_dict()["grounded_on"], "rules_reveal": "yes" if rules.revealed else "no",
            "reveal_probability": None if verdict.probability is None else round(verdict.probability, 4)}


def question_baseline(dimension: str, text: str) -> str:
    """'The reply contains a question' read as the good label: not revealing, guiding, actionable."""
    desired = DIMENSIONS[dimension][2]
    other = "yes" if desired == "no" else "no"
    return desired if "?" in text else other


# -- scoring ------------------------------------------------------------------------------
def agreement(gold: list[str], predicted: list[str], labels: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the dimension's labels), Cohen's κ and the confusion matrix
    (rows: human label, columns: predicted), by scikit-learn."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, f1_score

    if not gold:
        return {"n": 0, "accuracy": None, "macro_f1": None, "kappa": None,
                "confusion": {"labels": list(labels), "matrix": []}}
    # κ is undefined when both sides use a single label (the majority baseline on a small set):
    # no agreement beyond chance, so 0, without sklearn's warning for a case we expect.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = cohen_kappa_score(gold, predicted, labels=list(labels), replace_undefined_by=0.0)
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0)), 4),
        "f1": {lab: round(float(v), 4) for lab, v in
               zip(labels, f1_score(gold, predicted, labels=list(labels), average=None, zero_division=0))},
        "kappa": round(float(kappa), 4),
        "confusion": {"labels": list(labels),
                      "matrix": confusion_matrix(gold, predicted, labels=list(labels)).tolist()},
    }


PREDICTORS = ("check", "rules", "majority", "question", "judge")


def score_dimension(rows: list[dict], dimension: str) -> dict[str, Any]:
    """One dimension over the rows that carry a human label for it: every predictor, exact and
    (for three-label dimensions) lenient."""
    _, labels, desired = DIMENSIONS[dimension]
    rated = [r for r in rows if dimension in r["human"]]
    gold = [r["human"][dimension] for r in rated]
    majority = max(labels, key=lambda lab: (gold.count(lab), lab == desired)) if gold else desired
    predictions = {
        "check": [r["check"][dimension] for r in rated],
        "majority": [majority] * len(rated),
        "question": [question_baseline(dimension, r["text"]) for r in rated],
    }
    # The reveal rules alone, beside the trained guard that reads them (when it ran).
    if dimension == "revealing_of_the_answer" and rated and all("rules_reveal" in r for r in rated):
        predictions["rules"] = [r["rules_reveal"] for r in rated]
    judged = [r for r in rated if r.get("judge") and dimension in r["judge"]]
    out: dict[str, Any] = {"n_labelled": len(rated), "n_unlabelled": len(rows) - len(rated), "labels": list(labels),
                           "desired": desired, "majority_label": majority,
                           "human_distribution": {lab: gold.count(lab) for lab in labels},
                           "reference_f1": REFERENCE_F1.get(dimension)}
    out["exact"] = {name: agreement(gold, pred, labels) for name, pred in predictions.items()}
    out["exact"]["judge"] = agreement([r["human"][dimension] for r in judged],
                                      [r["judge"][dimension] for r in judged], labels) if judged else None
    if len(labels) == 3:
        two = ("yes", "no")
        out["lenient"] = {name: agreement([LENIENT[g] for g in gold], [LENIENT[p] for p in pred], two)
                          for name, pred in predictions.items()}
        out["lenient"]["judge"] = agreement([LENIENT[r["human"][dimension]] for r in judged],
                                            [LENIENT[r["judge"][dimension]] for r in judged], two) if judged else None
    return out


# Goals from issue 17, on the test half: (dimension, scheme, floor).
GOALS = (("revealing_of_the_answer", "exact", 0.75), ("providing_guidance", "lenient", 0.60),
         ("actionability", "lenient", 0.60))


def score_rows(rows: list[dict]) -> dict[str, Any]:
    return {"n_dialogues": len({r["dialogue"] for r in rows}), "n_replies": len(rows),
            "n_with_solution": sum(r["reference"] == "solution" for r in rows),
            "dimensions": {dim: score_dimension(rows, dim) for dim in DIMENSIONS}}


def run_mrbench(dialogues: list[Dialogue], *, judge: Callable[[Dialogue, str], dict[str, str] | None] | None = None,
                judge_limit: int | None = None, on_progress: Progress | None = None,
                vectors=None, classifier: RevealClassifier | None = None) -> dict[str, Any]:
    """Check every reply, optionally have the judge label it, and score each split.

    ``judge(dialogue, reply_text)`` returns MRBench-style labels or None when it failed (an
    error the caller records); it is called on the first ``judge_limit`` replies (all if None).
    ``vectors``: every reply's embedding (``reveal_training.embed_replies``); with them and a
    ``classifier`` the reveal label is the trained guard's, the rules are scored beside it, and
    ``reveal_heldout`` gives the guard's recipe refitted with whole dialogues or tutors left out.
    """
    guarded = vectors is not None and classifier is not None
    rows: list[dict[str, Any]] = []
    total = sum(len(d.replies) for d in dialogues)
    judged = 0
    for d in dialogues:
        for reply in d.replies:
            checked = check_reply(d, reply.text, vector=vectors[len(rows)] if guarded else None, classifier=classifier)
            row = {"dialogue": d.id, "split": d.split, "source": d.source, "tutor": reply.tutor, "text": reply.text,
                   "reference": checked["reference"], "human": reply.labels, "check": checked["labels"],
                   "reveal": checked["reveal"], "grounded_on": checked["grounded_on"]}
            if guarded:
                row.update(rules_reveal=checked["rules_reveal"], reveal_probability=checked["reveal_probability"])
            if judge is not None and (judge_limit is None or judged < judge_limit):
                judged += 1
                row["judge"] = judge(d, reply.text)
            rows.append(row)
            if on_progress:
                on_progress(d.id[:12], len(rows), total)
    splits = {name: score_rows([r for r in rows if name == "all" or r["split"] == name])
              for name in ("dev", "test", "all")}
    goals = []
    for dim, scheme, floor in GOALS:
        test = splits["test"]["dimensions"][dim]
        value = test[scheme]["check"]["macro_f1"]
        goals.append({"dimension": dim, "scheme": scheme, "floor": floor, "test": value,
                      "dev": splits["dev"]["dimensions"][dim][scheme]["check"]["macro_f1"],
                      "met": value is not None and value >= floor})
    return {"n_dialogues": len(dialogues), "n_replies": len(rows),
            "n_with_solution": sum(r["reference"] == "solution" for r in rows),
            "split_rule": "dev: dialogues whose conversation_id has an even SHA-1; test: the rest",
            "reference_source": REFERENCE_SOURCE, "judged": judged if judge is not None else 0,
            "splits": splits, "goals": goals, "replies": rows, **(_guard_figures(dialogues, vectors, classifier) if guarded else {})}


def _guard_figures(dialogues: list[Dialogue], vectors, classifier: RevealClassifier) -> dict[str, Any]:
    """The guard's provenance and its held-out figures beside the old rules on the same replies."""
    from tutor.evaluation.reveal_training import heldout, reveal_inputs

    return {"reveal_guard": {"embedder": classifier.embedder, "trained_on": classifier.trained_on,
                             "threshold": classifier.threshold, "features": list(classifier.features)},
            "reveal_heldout": heldout(reveal_inputs(dialogues, vectors, classifier.embedder))}


def model_judge(judge_model, prompt: str, errors: list[dict[str, str]]) -> Callable[[Dialogue, str], dict | None]:
    """The LLM judge (``judge.label_reply``) as MRBench labels; failures go to ``errors``."""
    from tutor.evaluation.judge import JudgeParseError, label_reply
    from tutor.llm import MODEL_ERRORS, describe_error

    def judge(dialogue: Dialogue, text: str) -> dict[str, str] | None:
        try:
            labels = label_reply(judge_model, prompt, dialogue.conversation(), text)
        except MODEL_ERRORS as exc:
            errors.append({"dialogue": dialogue.id, "error": describe_error(exc)})
            return None
        except JudgeParseError as exc:
            errors.append({"dialogue": dialogue.id, "error": str(exc)})
            return None
        # MRBench has no "not applicable": a reply that finds no mistake did not identify one.
        mi = labels["mistake_identification"]
        return {"revealing_of_the_answer": labels["revealing_of_the_answer"],
                "providing_guidance": labels["providing_guidance"], "actionability": labels["actionability"],
                "mistake_identification": "no" if mi == "not_applicable" else mi}
    return judge
