"""Tutor behaviour evaluation: each case through the real Tutor, judged by deterministic checkers.

Example::

    result = run_tutor(build(get_settings()).tutor, load_cases(path))
    result["pass_rate"], result["rates"]["ends_with_question"]
    # → (0.96, 1.0)

A case's earlier user turns are replayed through the tutor first, so the learner state and the
lesson card are the ones a real conversation would have reached. A case passes when every tag
in ``must`` passes and its citations and quotes are valid (checked on every case).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from tutor.evaluation.checkers import ALWAYS, MEASURED, check_case, check_tag
from tutor.evaluation.datasets import TutorCase
from tutor.evaluation.metrics import latency_summary
from tutor.pedagogy.checks import quoted_spans
from tutor.citations import CITE as _CITE

Progress = Callable[[str, int, int], None]


def secret_lines_of(tutor) -> list[str]:
    """The prompt lines a reply must never repeat (the engine keeps them; rebuild if absent)."""
    lines = getattr(tutor, "_secret_lines", None)
    return list(lines) if lines is not None else tutor.prompts.secret_lines()


def play_case(tutor, case: TutorCase):
    """Replay the case's earlier user turns, then send its message; returns (reply, wall ms)."""
    session = tutor.new_session()
    for turn in case.history:
        if turn["role"] == "user":
            tutor.reply(session, turn["content"])
    started = time.perf_counter()
    reply = tutor.reply(session, case.message)
    return reply, (time.perf_counter() - started) * 1000


def _share(passed: int, total: int) -> float:
    return round(passed / total, 4) if total else 1.0


def run_tutor(tutor, cases: list[TutorCase], *, on_progress: Progress | None = None) -> dict[str, Any]:
    """Run every case; return pass rate, per-tag rates, citation/quote checks, latency, and each case."""
    if hasattr(tutor, "warm"):
        tutor.warm()  # model loading and the BM25 build are not a student's reply time
    secrets = secret_lines_of(tutor)
    rows: list[dict[str, Any]] = []
    latencies: list[float] = []
    tag_total: dict[str, int] = {}
    tag_passed: dict[str, int] = {}
    citing = citing_ok = quoting = quoting_ok = fallbacks = 0
    measured = {tag: 0 for tag in MEASURED}
    for n, case in enumerate(cases, start=1):
        reply, ms = play_case(tutor, case)
        latencies.append(ms)
        results = check_case(case.as_dict(), reply, tutor.lessons, secrets)
        for tag in case.must:
            tag_total[tag] = tag_total.get(tag, 0) + 1
            tag_passed[tag] = tag_passed.get(tag, 0) + bool(results.get(tag))
        if _CITE.search(reply.text):
            citing += 1
            citing_ok += bool(results.get("citation_validity", True))
        if any(num is not None for _, num in quoted_spans(reply.text)):
            quoting += 1
            quoting_ok += bool(results.get("quote_fidelity", True))
        if getattr(tutor, "chat_model", None) is not None and reply.mode == "offline":
            fallbacks += 1
        for tag in MEASURED:
            measured[tag] += results[tag] if tag in results else check_tag(tag, case.as_dict(), reply, tutor.lessons, secrets)
        failed = [tag for tag, ok in results.items() if not ok]
        rows.append({"id": case.id, "passed": not failed, "failed": failed, "must": list(case.must),
                     "reply": reply.text, "move": reply.move.get("kind"), "card": reply.card_id,
                     "mode": reply.mode, "citations": len(reply.citations), "latency_ms": round(ms, 1)})
        if on_progress:
            on_progress(case.id, n, len(cases))
    return {
        "n_cases": len(cases),
        "mode": getattr(tutor, "mode", "offline"),
        "pass_rate": _share(sum(r["passed"] for r in rows), len(rows)),
        "rates": {tag: _share(tag_passed[tag], tag_total[tag]) for tag in sorted(tag_total)},
        "tag_counts": {tag: tag_total[tag] for tag in sorted(tag_total)},
        # Over the replies that cite / quote at all: a reply without citations is not evidence.
        "citation_validity": _share(citing_ok, citing), "n_citing": citing,
        "quote_fidelity": _share(quoting_ok, quoting), "n_quoting": quoting,
        "always_checked": list(ALWAYS),
        # Over every reply (tutor.pedagogy.guidance; agreement with humans: tutor eval mrbench).
        "guidance_rate": _share(measured["gives_guidance"], len(rows)),
        "actionability_rate": _share(measured["actionable"], len(rows)),
        "model_fallbacks": fallbacks,
        **latency_summary(latencies),
        "latencies_ms": [round(x, 1) for x in latencies],
        "cases": rows,
    }
