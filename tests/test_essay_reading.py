"""The essay coach with a model (issue 21 item 5), over real HTTP: the tutor's ChatOpenAI against
the scripted OpenAI-compatible server in tests/openai_server.py. The model bands the essay against
the mark scheme, cites the essay's words and lists factual errors (an ``EssayReading``); the fact
checker adds any error the model missed, in the reply's JSON and in the notice the page shows; a
reading that lists as an error what the fact base supports is refused."""

from __future__ import annotations

import json
import re

import pytest

from openai_server import FakeOpenAIServer, openai_server, served  # noqa: F401 - a fixture
from tutor.engine import Tutor
from tutor.settings import PROJECT_ROOT

ESSAYS = PROJECT_ROOT / "corpus" / "eval" / "essays"
L3_REPLY = "This is Level 3: each paragraph explains a factor, with some evidence. Which factor does your conclusion weigh most, and why?"
L2_REPLY = "This is Level 2: the events are right but mostly told as a story. Which event best answers the question, and why?"


def essay_reading(reply: str, level: str = "L2", marks: int = 8, evidence=(), errors=()) -> str:
    return json.dumps({"level": level, "marks": marks, "evidence": list(evidence),
                       "factual_errors": [dict(zip(("text", "correction", "evidence"), e)) for e in errors],
                       "reply": reply})


def _tutor(corpus_home, embedder, server: FakeOpenAIServer) -> Tutor:
    return served(server, corpus_home, embedder).tutor


def test_the_fact_checker_adds_the_grey_blur_the_model_missed_in_the_json_and_the_notice(openai_server,  # noqa: F811
                                                                                         corpus_home, embedder):
    openai_server.script("json:" + essay_reading(L3_REPLY, level="L3", marks=12,
                                                 evidence=["Trotsky famously called him"]))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), (ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8"))
    assert reply.mode == "fake-model" and reply.text == L3_REPLY, reply.notice
    [request] = openai_server.requests
    assert request["body"]["response_format"]["type"] == "json_schema"
    prompt = request["body"]["messages"][-1]["content"]
    assert "Sukhanov" in prompt, "the fact checker's finding reaches the model as evidence"
    data = reply.as_dict()["move"]
    assert data["level"] == "L3" and data["marks"] == [12, 12] and data["band_evidence"] == ["Trotsky famously called him"]
    added = [e for e in data["factual_errors"] if e["found_by"] == "fact checker"]
    blur = next(e for e in added if "grey blur" in e["text"])
    assert "Sukhanov" in blur["correction"] and "1917" in blur["correction"] and blur["evidence"]
    assert reply.notice and re.search(r"grey blur.*Sukhanov", reply.notice)


def test_an_error_the_model_found_is_kept_and_not_listed_twice(openai_server, corpus_home, embedder):  # noqa: F811
    found = ("Trotsky famously called him a \"grey blur\"", "The phrase is Sukhanov's, about 1917.", "E1")
    openai_server.script("json:" + essay_reading(L3_REPLY, level="L3", marks=12, errors=[found]))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), (ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8"))
    errors = reply.move["factual_errors"]
    blur = [e for e in errors if "grey blur" in e["text"]]
    assert len(blur) == 1 and blur[0]["found_by"] == "model", errors


def test_support_for_another_part_of_the_sentence_does_not_veto_an_error():
    """Relay trial 42: "… replaced by Kamenev" was refused as an error because the same long sentence
    dated the 13th Party Conference rightly."""
    from tutor.coach.facts import default_checker, supported_errors
    from tutor.lessons import load_lessons

    checker = default_checker(load_lessons(PROJECT_ROOT / "corpus"))
    sentence = ("The sequence I have is: ill in winter 1923-24, condemned at the 13th Party Conference in January "
                "1924, and finally he was removed as Commissar for War in January 1925 and replaced by Kamenev.")
    assert supported_errors(checker, ["replaced by Kamenev"], [sentence]) == []
    # A true sentence listed as an error is still refused.
    assert supported_errors(checker, ["became General Secretary in April 1922"],
                            ["Stalin became General Secretary in April 1922."])


def test_a_true_sentence_listed_as_an_error_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    false_alarm = essay_reading(L2_REPLY, errors=[("In April 1922 Stalin became General Secretary",
                                                   "He became General Secretary in 1924.", "E1")])
    openai_server.script("json:" + false_alarm)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), (ESSAYS / "l2-narrative-1922-1929.md").read_text(encoding="utf-8"))
    assert len(openai_server.requests) == 2
    assert "errors_not_supported" in openai_server.requests[1]["body"]["messages"][-1]["content"]
    assert reply.mode == "offline" and "errors_not_supported" in reply.notice and reply.move["level"] == "L2"


def test_malformed_json_twice_falls_back_to_the_offline_essay_coach(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:Level 2, I think. Which event matters most?")
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), (ESSAYS / "l2-narrative-1922-1929.md").read_text(encoding="utf-8"))
    assert reply.mode == "offline" and "schema" in reply.notice and "offline essay coach" in reply.notice
    assert reply.text.startswith("This reads as Level 2") and reply.move["level"] == "L2"


# -- the model's reading in `tutor coach essay --json` and on the coach page ----------------------
def _configure(monkeypatch, server: FakeOpenAIServer) -> None:
    monkeypatch.setenv("TUTOR_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("TUTOR_LLM_MAX_RETRIES", "0")


def test_the_cli_json_carries_the_models_reading_with_the_fact_checkers_addition(openai_server, corpus_home,  # noqa: F811
                                                                                 embedder, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app
    from tutor.settings import reset_settings

    openai_server.script("json:" + essay_reading(L3_REPLY, level="L3", marks=13))
    monkeypatch.setenv("TUTOR_HOME", str(corpus_home))
    _configure(monkeypatch, openai_server)
    reset_settings()
    essay = tmp_path / "essay.md"
    essay.write_text((ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["coach", "essay", str(essay), "--json"], catch_exceptions=False)
    reset_settings()
    assert result.exit_code == 0, result.output
    read = json.loads(result.stdout)["model_reading"]
    assert read["used"] and read["level"] == "L3" and read["marks"] == [13, 13] and read["reply"] == L3_REPLY
    assert any(e["found_by"] == "fact checker" and "Sukhanov" in e["correction"] for e in read["factual_errors"])
    assert "Sukhanov" in read["notice"]


def test_the_coach_page_shows_the_models_band_and_the_error_it_missed(openai_server, tutor_home, corpus_home,  # noqa: F811
                                                                      embedder, monkeypatch, fresh_app):
    import shutil

    from streamlit.testing.v1 import AppTest

    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    openai_server.script("json:" + essay_reading(L3_REPLY, level="L3", marks=13))
    _configure(monkeypatch, openai_server)
    at = AppTest.from_function(_essay_page, default_timeout=180).run()
    at.text_area(key="coach_essay_text").set_value((ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8"))
    at.button(key="coach_essay_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "The model's reading" in shown and "Level 3, 13 of 25 marks" in shown
    assert re.search(r"Error found by the fact checker: “Trotsky famously called him a \"grey blur\".*Sukhanov", shown)


def _essay_page() -> None:
    from tutor.ui.coach_page import essay_coach_page

    essay_coach_page()
