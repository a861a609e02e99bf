"""An optional LLM judge on MRBench's pedagogical dimensions (Maurya et al., 2025).

Example::

    result = run_judge(tutor, judge_model, load_cases(path))
    result["dimensions"]["revealing_of_the_answer"]
    # → 0.97

Each reply gets one label per dimension from the configured model (prompt: prompts/judge.md);
a dimension's score is the share of replies with the desired label. Mistake identification is
scored only over replies whose student message had a mistake (the judge says 'not_applicable'
otherwise). The deterministic checkers remain the gate; the judge is a second opinion.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from langchain_core.messages import HumanMessage, SystemMessage

from tutor.evaluation.datasets import TutorCase
from tutor.evaluation.tutor_eval import play_case
from tutor.llm import MODEL_ERRORS, complete, describe_error

Progress = Callable[[str, int, int], None]

# dimension -> (allowed labels, desired label)
DIMENSIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "mistake_identification": (("yes", "to_some_extent", "no", "not_applicable"), "yes"),
    "providing_guidance": (("yes", "to_some_extent", "no"), "yes"),
    "actionability": (("yes", "to_some_extent", "no"), "yes"),
    "revealing_of_the_answer": (("yes", "no"), "no"),
    "coherence": (("yes", "to_some_extent", "no"), "yes"),
    "tutor_tone": (("encouraging", "neutral", "offensive"), "encouraging"),
}
_JSON = re.compile(r"\{.*\}", re.S)


class JudgeParseError(ValueError):
    """The judge's answer has no usable labels."""


def load_judge_prompt(prompts_dir: Path) -> str:
    return (Path(prompts_dir) / "judge.md").read_text(encoding="utf-8")


def judge_messages(prompt: str, case: TutorCase, reply_text: str) -> list:
    turns = [f"{'Student' if t['role'] == 'user' else 'Tutor'}: {t['content']}" for t in case.history[-6:]]
    return conversation_messages(prompt, "\n".join([*turns, f"Student: {case.message}"]), reply_text)


def conversation_messages(prompt: str, conversation: str, reply_text: str) -> list:
    body = {"conversation": conversation, "tutor_reply": reply_text}
    return [SystemMessage(prompt), HumanMessage(json.dumps(body, ensure_ascii=False, indent=1))]


def label_reply(judge_model, prompt: str, conversation: str, reply_text: str) -> dict[str, str]:
    """The judge's labels for one reply in a conversation ("Tutor: …\nStudent: …"). Raises the
    model's errors (``MODEL_ERRORS``) and JudgeParseError for the caller to record."""
    return parse_labels(complete(judge_model, conversation_messages(prompt, conversation, reply_text)))


def parse_labels(text: str) -> dict[str, str]:
    """The labels from a judge answer; unknown or missing dimensions raise JudgeParseError."""
    match = _JSON.search(text)
    if not match:
        raise JudgeParseError("no JSON object in the judge's answer")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise JudgeParseError(f"invalid JSON from the judge ({exc.msg})") from None
    labels = {}
    for dim, (allowed, _) in DIMENSIONS.items():
        value = str(data.get(dim, "")).strip().lower().replace(" ", "_").replace("-", "_")
        if value not in allowed:
            raise JudgeParseError(f"{dim}: '{data.get(dim)}' is not one of {', '.join(allowed)}")
        labels[dim] = value
    return labels


def run_judge(tutor, judge_model, cases: list[TutorCase], prompt: str, *,
              on_progress: Progress | None = None) -> dict[str, Any]:
    """Replies from ``tutor`` for each case, labelled by ``judge_model``."""
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for n, case in enumerate(cases, start=1):
        reply, _ = play_case(tutor, case)
        try:
            answer = complete(judge_model, judge_messages(prompt, case, reply.text))
            labels = parse_labels(answer)
        except MODEL_ERRORS as exc:
            errors.append({"id": case.id, "error": describe_error(exc)})
        except JudgeParseError as exc:
            errors.append({"id": case.id, "error": str(exc)})
        else:
            rows.append({"id": case.id, "reply": reply.text, "labels": labels})
        if on_progress:
            on_progress(case.id, n, len(cases))
    scores: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for dim, (_, desired) in DIMENSIONS.items():
        rated = [r["labels"][dim] for r in rows if r["labels"][dim] != "not_applicable"]
        counts[dim] = len(rated)
        scores[dim] = round(sum(label == desired for label in rated) / len(rated), 4) if rated else None
    return {"n_cases": len(cases), "n_judged": len(rows), "judge_model": getattr(judge_model, "model_name", None)
            or type(judge_model).__name__, "desired": {d: v[1] for d, v in DIMENSIONS.items()},
            "dimensions": scores, "n_rated": counts, "errors": errors, "cases": rows}
