"""Close key-point matches: how often the offline tutor's "right" is right.

``corpus/eval/keypoint_matches.jsonl`` holds student sentences, each with the lesson card it is
judged against and ``makes_point`` (true: it states one of the card's key points; false: a
near-miss that is false, or a true sentence that makes none of the points). About half are
near-misses, so precision is measured where it is hard. The run reports

- the sweep: for each cosine threshold, the precision and recall of "right" given by the close
  match alone (contradiction checks first, as the tutor runs them), and the calibrated threshold:
  the lowest one whose precision, and every higher one's, is at least ``PRECISION_FLOOR``;
- the tutor's own verdict (``Assessor.assess``) at the threshold in force
  (``tutor.pedagogy.close_match.RIGHT_CLOSE``): precision and recall of "right".

Rows: ``{"text", "card", "key_point"?, "makes_point": bool, "kind", "source"}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from tutor.pedagogy.close_match import RIGHT_CLOSE, close_score

PRECISION_FLOOR = 0.98
THRESHOLDS = [round(0.50 + 0.01 * i, 2) for i in range(46)]


def load_keypoint_cases(path: Path) -> list[dict]:
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("text"), str) or not isinstance(row.get("makes_point"), bool) or not row.get("card"):
            raise ValueError(f"{path}:{n}: each row needs 'text' (string), 'card' and 'makes_point' (true/false)")
        cases.append(row)
    return cases


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def run_keypoints(assessor, lessons, cases: list[dict],
                  on_progress: Callable[[str, int, int], None] | None = None) -> dict:
    """``assessor`` is a tutor.pedagogy.assess.Assessor with an embedder; ``lessons`` its Lessons."""
    from tutor.pedagogy.assess import SENTENCES

    rows = []
    for i, case in enumerate(cases):
        card = lessons.get(case["card"])
        if card is None:
            raise ValueError(f"unknown card {case['card']!r} in the key-point set")
        text = case["text"]
        sentences = [s[:600] for s in SENTENCES.split(text) if s and s.strip()] or [text]
        contradicted = any(assessor.contradiction(s) is not None for s in sentences)
        vectors = assessor.matcher._vectors([*sentences, *(kp.statement for kp in card.key_points)])
        sims = np.stack(vectors[: len(sentences)]) @ np.stack(vectors[len(sentences):]).T
        score = max(close_score(float(sims[a, b]), s, kp.statement)
                    for a, s in enumerate(sentences) for b, kp in enumerate(card.key_points))
        verdict = assessor.assess(text, card, target=None, covered=set()).verdict
        rows.append({"text": text, "card": card.id, "makes_point": case["makes_point"], "kind": case.get("kind"),
                     "score": round(score, 4), "contradicted": contradicted, "verdict": verdict})
        if on_progress:
            on_progress(case["card"], i + 1, len(cases))
    sweep = []
    for t in THRESHOLDS:
        said = [r for r in rows if not r["contradicted"] and r["score"] >= t]
        true = sum(r["makes_point"] for r in said)
        sweep.append({"threshold": t, "right": len(said), "precision": _share(true, len(said)) if said else 1.0,
                      "recall": _share(true, sum(r["makes_point"] for r in rows))})
    calibrated = None
    for i, row in enumerate(sweep):
        if all(s["precision"] >= PRECISION_FLOOR for s in sweep[i:]):
            calibrated = row["threshold"]
            break
    right = [r for r in rows if r["verdict"] == "right"]
    positives = sum(r["makes_point"] for r in rows)
    metrics = {"n": len(rows), "makes_point": positives, "near_misses": len(rows) - positives,
               "calibrated_threshold": calibrated, "threshold_in_force": RIGHT_CLOSE,
               "right_said": len(right), "right_precision": _share(sum(r["makes_point"] for r in right), len(right)),
               "right_recall": _share(sum(r["makes_point"] for r in right), positives),
               "false_confirmed": sum(not r["makes_point"] for r in right),
               "false_called_wrong": sum(r["makes_point"] and r["verdict"] == "contradicted" for r in rows)}
    return {"metrics": metrics, "sweep": sweep, "cases": rows,
            "false_confirmed": [r["text"] for r in right if not r["makes_point"]]}
