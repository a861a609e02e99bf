"""`tutor eval verdicts`: the offline tutor's verdict on labelled statements, end to end.

Each statement of a claims set (``tutor eval claims``'s JSONL) is sent to a new conversation as a
student would check it ("…, right?"), and the reply's verdict is scored: a false statement must
never be confirmed and should be corrected; a true one must never be called wrong and should be
confirmed. Where no check decides, the reply gives no verdict, which is counted apart (issue 22:
precision before coverage).

Output: ``{"cases": [{"id", "text", "false", "feedback"}], "metrics": {...}}`` with
``false_confirmed`` and ``true_called_wrong`` (the harms), ``false_corrected`` and
``true_confirmed`` (the coverage), each a share of its statements.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

ASKED = "{text}, right?"


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def verdict_metrics(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in rows if "false" in r]
    false = [r for r in rows if r["false"]]
    true = [r for r in rows if not r["false"]]
    counts = {
        "false_confirmed_n": sum(r["feedback"] == "right" for r in false),
        "false_corrected_n": sum(r["feedback"] in ("wrong", "partly") for r in false),
        "true_called_wrong_n": sum(r["feedback"] in ("wrong", "partly") for r in true),
        "true_confirmed_n": sum(r["feedback"] == "right" for r in true),
    }
    return {"false_statements": len(false), "true_statements": len(true), **counts,
            "false_confirmed": _share(counts["false_confirmed_n"], len(false)),
            "false_corrected": _share(counts["false_corrected_n"], len(false)),
            "true_called_wrong": _share(counts["true_called_wrong_n"], len(true)),
            "true_confirmed": _share(counts["true_confirmed_n"], len(true))}


def run_verdicts(tutor, cases: list[dict[str, Any]],
                 on_progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Each case asked of ``tutor`` (the offline tutor) in a conversation of its own."""
    out = []
    for i, case in enumerate(cases, start=1):
        session = tutor.new_session()
        # A client of its own per case: the rate limit is for people typing, not for a scripted set.
        reply = tutor.reply(session, ASKED.format(text=case["text"].rstrip(" .?!")), client=f"eval-{case['id']}")
        out.append({"id": case["id"], "text": case["text"], **({"false": case["false"]} if "false" in case else {}),
                    "feedback": reply.feedback, "reply": reply.text})
        if on_progress is not None:
            on_progress(case["id"], i, len(cases))
    return {"cases": out, "metrics": verdict_metrics(out)}
