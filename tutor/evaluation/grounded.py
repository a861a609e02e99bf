"""Passage-grounded tutoring on teacher documents no card covers (issue 15's measurement).

>>> result = run_grounded(tutor, load_teacher_questions(path))       # doctest: +SKIP
>>> result["metrics"]["grounded_rate"]                               # doctest: +SKIP
0.97

Each question opens a fresh conversation. It counts as grounded when the reply cites a passage
of the question's document and ends with a question that names the document's subject (one of
the question's ``subject_terms``). Input JSONL: ``{"id", "doc_id", "question", "subject_terms"}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from tutor.lessons import term_regex

FIELDS = ("id", "doc_id", "question", "subject_terms")


class TeacherQuestionsError(ValueError):
    pass


def load_teacher_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TeacherQuestionsError(f"{path.name}:{n}: not JSON ({exc.msg})") from None
        missing = [f for f in FIELDS if not row.get(f)]
        if missing:
            raise TeacherQuestionsError(f"{path.name}:{n}: missing {', '.join(missing)}")
        rows.append(row)
    return rows


def final_question(text: str) -> str:
    """The last sentence of a reply that ends in '?'."""
    found = re.findall(r"[^.?!“”]*\?", text)
    return found[-1].strip() if found else ""


def judge(row: dict[str, Any], reply) -> dict[str, Any]:
    cited = [c.doc_id for c in reply.citations]
    question = final_question(reply.text)
    about = [t for t in row["subject_terms"] if term_regex(t).search(question)]
    return {"id": row["id"], "doc_id": row["doc_id"], "question": row["question"], "reply": reply.text,
            "card": reply.card_id, "move": reply.move.get("kind"), "cited": cited,
            "cites_document": row["doc_id"] in cited, "asks_about_subject": bool(about),
            "grounded": row["doc_id"] in cited and bool(about)}


def run_grounded(tutor, rows: list[dict[str, Any]],
                 on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    results = []
    for n, row in enumerate(rows, start=1):
        reply = tutor.reply(tutor.new_session(), row["question"])
        results.append(judge(row, reply))
        if on_progress:
            on_progress(row["id"], n, len(rows))
    per_doc: dict[str, list[bool]] = {}
    for r in results:
        per_doc.setdefault(r["doc_id"], []).append(r["grounded"])
    total = max(1, len(results))
    metrics = {
        "questions": len(results),
        "grounded_rate": sum(r["grounded"] for r in results) / total,
        "cites_document_rate": sum(r["cites_document"] for r in results) / total,
        "asks_about_subject_rate": sum(r["asks_about_subject"] for r in results) / total,
        "per_document": {d: sum(v) / len(v) for d, v in sorted(per_doc.items())},
    }
    return {"metrics": metrics, "results": results}
