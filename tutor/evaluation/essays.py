"""Essay coach evaluation: the coach's level, marks and issues against each sample's sidecar.

Example::

    result = run_essays(EssayCoach(lessons, retriever), load_essays(Path("corpus/eval/essays")))
    result["level_accuracy"], result["issue_recall"]
    # → (0.78, 0.83)

Levels count as right when equal and as close when one level apart; marks agree when the two
ranges overlap; issues are compared by kind (micro-averaged precision and recall over essays).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from tutor.errors import TutorError
from tutor.evaluation.datasets import EssaySample
from tutor.evaluation.metrics import latency_summary

Progress = Callable[[str, int, int], None]


def _level_number(level: str) -> int | None:
    level = str(level or "").upper().strip()
    return int(level[1:]) if level.startswith("L") and level[1:].isdigit() else None


def compare(sample: EssaySample, analysis: Any) -> dict[str, Any]:
    """One essay's comparison row (the analysis needs .level, .marks and .issues with 'kind');
    ``None`` stands for no analysis at all."""
    got_level = getattr(analysis, "level", None)
    got_marks = list(getattr(analysis, "marks", None) or [])
    got_kinds = {i.get("kind") if isinstance(i, dict) else getattr(i, "kind", None)
                 for i in getattr(analysis, "issues", None) or []} - {None}
    want, got = _level_number(sample.level), _level_number(got_level)
    overlap = (len(got_marks) == 2 and got_marks[0] <= sample.marks[1] and sample.marks[0] <= got_marks[1])
    return {"name": sample.name, "expected_level": sample.level, "level": got_level,
            "level_match": want is not None and want == got,
            "level_within_one": want is not None and got is not None and abs(want - got) <= 1,
            "expected_marks": list(sample.marks), "marks": got_marks, "marks_overlap": overlap,
            "expected_issues": sorted(sample.issue_kinds), "issues": sorted(got_kinds),
            "missed": sorted(sample.issue_kinds - got_kinds), "extra": sorted(got_kinds - sample.issue_kinds)}


def run_essays(coach, samples: list[EssaySample], *, on_progress: Progress | None = None) -> dict[str, Any]:
    rows, latencies = [], []
    for n, sample in enumerate(samples, start=1):
        started = time.perf_counter()
        try:
            analysis = coach.analyse(sample.text, sample.question)
        except TutorError as exc:  # the coach refuses the essay (too short...): a miss, with its reason
            row = compare(sample, None)
            row["error"] = str(exc)
        else:
            row = compare(sample, analysis)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append(row)
        if on_progress:
            on_progress(sample.name, n, len(samples))
    total = len(rows) or 1
    expected = sum(len(r["expected_issues"]) for r in rows)
    found = sum(len(r["issues"]) for r in rows)
    hits = sum(len(set(r["expected_issues"]) & set(r["issues"])) for r in rows)
    return {
        "n_essays": len(rows),
        "level_accuracy": round(sum(r["level_match"] for r in rows) / total, 4),
        "level_within_one": round(sum(r["level_within_one"] for r in rows) / total, 4),
        "marks_overlap": round(sum(r["marks_overlap"] for r in rows) / total, 4),
        "issue_recall": round(hits / expected, 4) if expected else 1.0,
        "issue_precision": round(hits / found, 4) if found else 1.0,
        "errors": [{"name": r["name"], "error": r["error"]} for r in rows if "error" in r],
        **latency_summary(latencies),
        "essays": rows,
    }
