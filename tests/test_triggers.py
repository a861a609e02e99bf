"""Misconception triggers run in linear time (RE2): a published trigger cannot hold the process.

Issue 24, item 2: ``^(\\w+\\s?)*$`` compiled under Python's `re`, and a 28-character message then
held the interpreter ~30 s (each extra character doubling it) for every student.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from test_drafting import LESSONS, _draft, _texts, TEACHER_DOCS
from tutor.drafting import validate_card
from tutor.lessons import LessonCard, Misconception
from tutor.triggers import Trigger, TriggerError, compile_pattern

ROOT = Path(__file__).resolve().parent.parent
# Nested quantifiers over overlapping classes: exponential for a backtracking engine.
HOSTILE = [r"^(\w+\s?)*$", r"^(\w+\s?)+$", r"(a|aa)+b", r"^(([a-z])+.)+[A-Z]([a-z])+$"]
BOUND_S = 60  # far above RE2's milliseconds, far below the ~2**40 steps `re` would need


def _run_bounded(code: str) -> subprocess.CompletedProcess:
    """Run in a child with a time bound: a backtracking engine hangs it, the test fails, and
    the pytest process itself is never held."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=BOUND_S, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"matching a hostile trigger held the process for more than {BOUND_S} s")


@pytest.mark.parametrize("pattern", HOSTILE)
def test_a_catastrophic_trigger_on_a_card_cannot_hold_the_process(pattern):
    card_file = ROOT / "corpus" / "lessons" / "why-stalin-won.yaml"
    result = _run_bounded(f"""
        import yaml
        from tutor.lessons import LessonCard, Lessons
        data = yaml.safe_load(open({str(card_file)!r}, encoding="utf-8"))
        data["misconceptions"].append({{"id": "hostile", "triggers": [{pattern!r}], "why_wrong": "x",
                                       "probe": "why?", "correct_doc": "overview-why-stalin-won"}})
        lessons = Lessons(cards=[LessonCard.model_validate(data)], timeline=[])
        for n in (28, 40, 5000):
            message = "a" * (n - 1) + "!"
            print(n, [m.id for _, m in lessons.misconceptions_in(message)])
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("28 ")


@pytest.mark.parametrize("pattern, says", [
    (r"(?<!not )only because", "look-behind"),
    (r"stalin(?! won)", "look-ahead"),
    (r"(stalin) and \1", "back-references"),
    (r"(a{1000}){1000}", "cannot be used"),
])
def test_a_trigger_re2_cannot_compile_is_refused_saying_how_to_fix_it(pattern, says):
    with pytest.raises(TriggerError) as caught:
        compile_pattern(pattern)
    assert says in str(caught.value) and "unless" in str(caught.value)
    card = _draft(TEACHER_DOCS[0]).card
    card["misconceptions"] = [{"id": "bad-trigger", "triggers": [pattern], "why_wrong": "It is wrong.",
                               "probe": "Why?", "correct_doc": card["key_points"][0]["sources"][0]}]
    problems = validate_card(card, sources=_texts(), lessons=LESSONS)
    assert any("misconceptions" in p and "triggers" in p and "RE2" in p for p in problems), problems


def test_a_trigger_matching_an_empty_message_is_refused():
    card = _draft(TEACHER_DOCS[0]).card
    card["misconceptions"] = [{"id": "fires-always", "triggers": [r"^(\w+\s?)*$"], "why_wrong": "It is wrong.",
                               "probe": "Why?", "correct_doc": card["key_points"][0]["sources"][0]}]
    problems = validate_card(card, sources=_texts(), lessons=LESSONS)
    assert any("fires-always" in p and "every message" in p for p in problems), problems


def test_unless_rules_a_match_out_in_its_own_sentence_only():
    m = LESSONS.card("why-stalin-won")
    [mc] = [x for x in m.misconceptions if x.id == "only-because-general-secretary"]
    assert mc.triggered_by("Stalin won only because he was general secretary")
    assert not mc.triggered_by("Stalin won not only because he was general secretary")
    assert mc.triggered_by("It was not only because of luck. Stalin won only because he was general secretary.")
    assert not mc.triggered_by("Stalin won not only because he was General Secretary, and ONLY because of that?")


@pytest.mark.parametrize("message, misconception", [
    ("Trotsky was exiled to Siberia in 1928", "trotsky-exiled-siberia"),
    ("Bukharin was on the left of the party", "bukharin-on-the-left"),
    ("all historians agree that he won by organisation", "historians-all-agree"),
    ("Kotkin described Stalin as a grey bureaucrat", "kotkin-service-grey-bureaucrat"),
])
def test_the_course_triggers_that_used_look_arounds_still_fire_and_still_hold_back(message, misconception):
    assert misconception in {m.id for _, m in LESSONS.misconceptions_in(message)}
    negated = {"trotsky-exiled-siberia": "Trotsky was exiled not to Siberia but to Alma-Ata",
               "bukharin-on-the-left": "Bukharin was on the left side of the room",
               "historians-all-agree": "not all historians agree that he won by organisation",
               "kotkin-service-grey-bureaucrat": "Kotkin described Stalin as not a grey bureaucrat"}[misconception]
    assert misconception not in {m.id for _, m in LESSONS.misconceptions_in(negated)}


def test_a_lone_surrogate_in_a_message_is_matched_not_crashed_on():
    mc = Misconception(id="x", triggers=["only because"], why_wrong="w", probe="why?", correct_doc="d")
    assert mc.triggered_by("he won \ud800 only because of luck")
    assert Trigger("luck").search("\udc00luck").group(0) == "luck"


def test_every_course_trigger_compiles_under_re2():
    patterns = [p for c in LESSONS.cards for m in c.misconceptions for p in [*m.triggers, *m.unless]]
    assert len(patterns) > 100
    for p in patterns:
        compile_pattern(p)
    raw = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (ROOT / "corpus" / "lessons").glob("*.yaml")]
    assert all(LessonCard.model_validate(d) for d in raw)
