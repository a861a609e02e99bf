"""Issue 15's measurement, in CI: a teacher's new documents are taught, not just stored.

Before any card is drafted, questions on six teacher documents no card covers are answered with
a citation of the new document and a question about its subject (floor 90%); after drafting
and publishing a card from each, a scripted dialogue per document reaches the summary.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from openai_server import openai_server  # noqa: F401 - a fixture
from tutor.settings import load_settings

from conftest import home_with_uploads

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TEACHER_DOCS = CORPUS / "eval" / "teacher_documents"
GROUNDED_FLOOR = 0.9

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def teacher_home(corpus_home, tmp_path_factory) -> Path:
    """The ingested course plus the six teacher documents (nothing drafted or published)."""
    return home_with_uploads(corpus_home, tmp_path_factory.mktemp("teacher-home"), sorted(TEACHER_DOCS.glob("*.md")))


def _tutor(home: Path, embedder):
    from tutor.services import build
    from tutor.store import Store

    settings = load_settings(home=home)
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


def test_questions_on_new_documents_are_answered_from_them_before_any_card(teacher_home, embedder):
    from tutor.evaluation.grounded import load_teacher_questions, run_grounded

    rows = load_teacher_questions(CORPUS / "eval" / "teacher_questions.jsonl")
    tutor = _tutor(teacher_home, embedder)
    assert not tutor.lessons.published.live(), "measured before any card is drafted"
    result = run_grounded(tutor, rows)
    metrics = result["metrics"]
    misses = [(r["id"], r["question"], r["reply"]) for r in result["results"] if not r["grounded"]]
    assert metrics["grounded_rate"] >= GROUNDED_FLOOR, misses
    for r in result["results"]:
        assert r["reply"].rstrip().endswith("?")
    grounded = [r for r in result["results"] if r["grounded"]]
    assert all(r["card"].startswith("passages:") for r in grounded), [(r["id"], r["question"], r["card"], r["reply"][:200]) for r in grounded if not r["card"].startswith("passages:")]


def test_a_plan_keeps_the_conversation_and_climbs_the_ladder(teacher_home, embedder):
    tutor = _tutor(teacher_home, embedder)
    session = tutor.new_session()
    first = tutor.reply(session, "What was the Shakhty trial?")
    assert first.card_id.startswith("passages:teacher-shakhty-trial-1928")
    assert any(c.doc_id == "teacher-shakhty-trial-1928" for c in first.citations)
    levels = [first.move["hint_level"]]
    for _ in range(2):
        reply = tutor.reply(session, "idk")
        assert reply.card_id == first.card_id, "a don't-know stays on the plan"
        levels.append(reply.move["hint_level"])
    assert levels == ["pump", "hint", "prompt"]
    texts = [t["content"] for t in session.history if t["role"] == "assistant"]
    assert len(set(texts)) == len(texts)


def test_the_progress_panel_shows_the_points_made_on_a_handout_no_card_covers(teacher_home, embedder):
    from tutor.sessions import progress, transcript_markdown

    tutor = _tutor(teacher_home, embedder)
    session = tutor.new_session()
    first = tutor.reply(session, "What was the Shakhty trial?")
    plan = tutor.planner.card(first.card_id)
    assert plan is not None and not progress(session, tutor.lessons).cards  # no course card: nothing before
    point = plan.key_points[0]
    tutor.reply(session, point.statement)
    [card] = progress(session, tutor.lessons, tutor.planner.card).cards
    assert card.card_id == first.card_id and card.total == len(plan.key_points)
    assert card.covered >= 1 and point.statement in [p.statement for p in card.points if p.covered]
    assert all(not p.statement for p in card.points if not p.covered)  # the rest stay hidden
    assert point.statement in transcript_markdown(session, tutor.lessons, tutor.planner.card)


def test_after_publishing_a_scripted_dialogue_per_document_reaches_the_summary(teacher_home, embedder, tmp_path,
                                                                              monkeypatch):
    """As a teacher and an evaluator would: `tutor lessons draft` and `tutor lessons publish` for
    each document, then `tutor eval dialogues --cases corpus/eval/teacher_dialogues.jsonl`."""
    from typer.testing import CliRunner

    from tutor.cli import app
    from tutor.settings import reset_settings

    home = tmp_path / "published-home"
    shutil.copytree(teacher_home, home)
    monkeypatch.setenv("TUTOR_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str):
        reset_settings()
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    cases = CORPUS / "eval" / "teacher_dialogues.jsonl"
    dialogues = [json.loads(line) for line in cases.read_text().splitlines()]
    assert len(dialogues) >= 6 and len({d["doc_id"] for d in dialogues}) == len(dialogues)
    for d in dialogues:
        draft = tmp_path / f"{d['doc_id']}.yaml"
        run("lessons", "draft", d["doc_id"], "--out", str(draft))
        assert f"published {d['doc_id']} v1" in run("lessons", "publish", str(draft)).output
    out = tmp_path / "teacher-dialogues.json"
    run("eval", "dialogues", "--cases", str(cases), "--offline", "--json", str(out))
    result = json.loads(out.read_text())
    metrics = result["metrics"]
    assert metrics["closure_rate"] == 1.0 and metrics["closures_owed"] >= len(dialogues), metrics
    assert metrics["repetition_rate"] == 0.0 and metrics["question_rate"] == 1.0, metrics
    assert metrics["feedback_accuracy"] >= 0.9, metrics
    for d, played in zip(dialogues, result["dialogues"]):
        turns = played["turns"]
        assert turns[0]["card"] == d["doc_id"], "the published card takes over from the passage plan"
        assert any(c["doc_id"] == d["doc_id"] for c in turns[0]["citations"])
        closed = [t for t in turns if t["move"] == "summarise_and_judge"]
        assert closed and closed[0]["card"] == d["doc_id"], (d["id"], [(t["card"], t["move"]) for t in turns])


def test_with_a_model_the_brief_carries_the_passage_plan(teacher_home, embedder, openai_server):  # noqa: F811
    """The real OpenAI client against the fake OpenAI-compatible server: for a topic no card
    covers, the model is given the same plan the offline tutor runs (as data in the turn data)."""
    from tutor.services import build
    from tutor.store import Store

    from fakes import scripted_reading

    openai_server.script("json:" + scripted_reading("Look at passage [1]: what did the OGPU say it had found in the "
                                                    "Shakhty mines?", move="answer_question"))
    settings = load_settings(home=teacher_home, llm_base_url=openai_server.base_url, llm_model="fake-model",
                             llm_timeout=5, llm_max_retries=0, rate_limit_per_minute=0)
    tutor = build(settings, store=Store(settings, embedder)).tutor
    session = tutor.new_session()
    reply = tutor.reply(session, "What was the Shakhty trial?")
    assert reply.card_id.startswith("passages:teacher-shakhty-trial-1928")
    plan = tutor.planner.card(reply.card_id)
    brief = openai_server.requests[0]["body"]["messages"][-1]["content"]
    block = re.search(r"<turn_data>\n(.*?)\n</turn_data>", brief, re.S)
    assert block, brief
    given = json.loads(block.group(1))["passage_plan"]["plan"]
    assert [p["statement"] for p in given["points"]] == [kp.statement for kp in plan.key_points]
    assert given["questions"] == [h.text for h in plan.ladder(reply.move["key_point"])], "recall → significance"
    rows = json.loads(re.search(r"<course_passages>\n(.*?)\n</course_passages>", brief, re.S).group(1))
    quoted = next(r for r in rows if r["n"] == given["quote"]["passage"])
    assert given["quote"]["sentence"] in quoted["text"]
    assert quoted["title"] == given["document"] == "The Shakhty trial of 1928"
    assert reply.mode == "fake-model" and reply.text.startswith("Look at passage [1]")
