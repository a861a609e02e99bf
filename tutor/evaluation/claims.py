"""`tutor eval claims`: does the fact checker catch false statements and leave true ones alone?

Input JSONL, one statement a line: ``{"id": "c001", "text": "...", "false": true}``; ``false`` is
optional (a case without it is checked but not scored) and ``split`` ("dev" or "heldout") is
optional too: metrics are given for all cases and for each split, so a set tuned on its dev part
can be reported honestly on the held-out part.

Output: ``{"cases": [{"id", "text", "false", "split", "flagged", "verdicts": [...]}], "metrics": {...}}``
with ``false_caught`` (recall on false statements), ``true_flagged`` (false-alarm rate on true
ones), counts and, per split, the same two numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

from tutor.evaluation.datasets import DatasetError
from tutor.facts import FactChecker


def load_claim_cases(path: Path) -> list[dict[str, Any]]:
    """Read and check the JSONL file; DatasetError names the line of each problem."""
    if not Path(path).is_file():
        raise DatasetError([f"{path}: no such file"])
    cases, problems, ids = [], [], set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc.msg})")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str):
            problems.append(f'line {n}: needs "id" and "text" strings')
            continue
        if "false" in row and not isinstance(row["false"], bool):
            problems.append(f'line {n}: "false" must be true or false')
            continue
        if row["id"] in ids:
            problems.append(f"line {n}: id '{row['id']}' is used twice")
            continue
        ids.add(row["id"])
        cases.append(row)
    if problems:
        raise DatasetError([f"{Path(path).name}:{p}" for p in problems])
    if not cases:
        raise DatasetError([f"{path}: no cases"])
    return cases


def _rates(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in rows if "false" in r]
    false = [r for r in rows if r["false"]]
    true = [r for r in rows if not r["false"]]
    caught = sum(r["flagged"] for r in false)
    alarms = sum(r["flagged"] for r in true)
    return {"false_statements": len(false), "true_statements": len(true), "false_caught_n": caught,
            "true_flagged_n": alarms,
            "false_caught": round(caught / len(false), 4) if false else None,
            "true_flagged": round(alarms / len(true), 4) if true else None}


def run_claims(checker: FactChecker, cases: list[dict[str, Any]],
               on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    out = []
    for n, case in enumerate(cases, start=1):
        verdicts = checker.check(case["text"])
        row = {"id": case["id"], "text": case["text"], "flagged": any(v.status == "contradicted" for v in verdicts),
               "verdicts": [v.as_dict() for v in verdicts]}
        for key in ("false", "split"):
            if key in case:
                row[key] = case[key]
        out.append(row)
        if on_progress:
            on_progress(case["id"], n, len(cases))
    metrics = _rates(out)
    splits = sorted({r["split"] for r in out if "split" in r})
    if splits:
        metrics["splits"] = {s: _rates(r for r in out if r.get("split") == s) for s in splits}
    return {"cases": out, "metrics": metrics}
