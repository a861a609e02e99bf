"""Behaviour floors of the offline tutor on every case in corpus/eval/tutor_cases.jsonl.

Each case runs in a fresh session with its earlier student turns replayed first (the tutor
writes its own replies to them), and is judged by the deterministic checkers of
tutor.evaluation.checkers. The floors are the project's acceptance bar for the offline tutor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.services import build
from tutor.evaluation.checkers import MEASURED, check_case, check_tag
from tutor.settings import PROJECT_ROOT, load_settings
from tutor.store import Store

CASES_PATH = PROJECT_ROOT / "corpus" / "eval" / "tutor_cases.jsonl"
FLOORS = {  # name: (tags judged, cases counted, floor)
    "question rate": ("ends_with_question", "all", 0.95),
    "no-reveal": ("no_full_answer", "tagged", 0.97),
    "citation validity": ("citation_validity", "all", 1.0),
    "quote fidelity": ("quote_fidelity", "all", 1.0),
    "misconception catch": (("challenges_misattribution", "corrects_date"), "tagged", 0.90),
    "off-topic redirect": ("redirects_to_topic", "tagged", 1.0),
    # MRBench's guidance and actionability (tutor eval mrbench measures these checks against humans).
    "guidance": ("gives_guidance", "all", 0.95),
    "actionability": ("actionable", "all", 0.95),
}


def _cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def outcomes(corpus_home, embedder) -> list[tuple[dict, object, dict[str, bool]]]:
    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)
    tutor = build(settings, store=Store(settings, embedder), chat_model=None).tutor
    secret = tutor.prompts.secret_lines()
    out = []
    for case in _cases(CASES_PATH):
        session = tutor.new_session()
        for turn in case.get("history") or []:
            if turn["role"] == "user":
                tutor.reply(session, turn["content"])
        reply = tutor.reply(session, case["message"])
        results = check_case(case, reply, tutor.lessons, secret)
        for tag in ("ends_with_question", "citation_validity", "quote_fidelity", *MEASURED):
            results.setdefault(tag, check_tag(tag, case, reply, tutor.lessons, secret))
        out.append((case, reply, results))
    return out


@pytest.mark.parametrize("name", list(FLOORS))
def test_floor(outcomes, name):
    tags, scope, floor = FLOORS[name]
    tags = (tags,) if isinstance(tags, str) else tags
    judged = [(case, reply, [results[t] for t in tags if t in results]) for case, reply, results in outcomes
              if scope == "all" or set(tags) & set(case["must"])]
    assert judged, f"no case is tagged {tags}"
    passed = [all(r) for _, _, r in judged]
    rate = sum(passed) / len(passed)
    failing = [f"{case['id']}: {reply.text[:160]}" for (case, reply, _), ok in zip(judged, passed) if not ok]
    assert rate >= floor, f"{name} {rate:.1%} < {floor:.0%} over {len(judged)} cases:\n" + "\n".join(failing)


def test_every_case_was_judged_on_its_tags(outcomes):
    assert len(outcomes) >= 100
    for case, _, results in outcomes:
        assert set(case["must"]) <= set(results), case["id"]
