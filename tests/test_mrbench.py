"""`tutor eval mrbench` and the checks it validates, on a small MRBench-format fixture of our own
(tests/fixtures/mrbench/; the real data set is never copied into the project)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import tutor_cli
from openai_server import FakeOpenAIServer

from tutor.evaluation.datasets import DatasetError
from tutor.evaluation.mrbench import (DIMENSIONS, agreement, check_reply, load_mrbench, parse_turns,
                                      question_baseline, run_mrbench)
from tutor.lessons import LessonCard
from tutor.pedagogy.checks import leaked_key_points
from tutor.pedagogy.guidance import assess
from tutor.pedagogy.reveal import Reference, asserted_results, numbers_in, reveals, stated_points

FIXTURE = Path(__file__).parent / "fixtures" / "mrbench" / "mrbench_small.json"


@pytest.fixture(scope="module")
def dialogues():
    return load_mrbench(FIXTURE)


def _by_id(dialogues, cid):
    return next(d for d in dialogues if d.id == cid)


# -- loading ------------------------------------------------------------------------------
def test_load_parses_turns_solutions_and_labels(dialogues):
    assert [d.id for d in dialogues] == ["fx-pencils", "fx-times-table", "fx-shapes", "fx-coins"]
    pencils = _by_id(dialogues, "fx-pencils")
    assert [role for role, _ in pencils.turns] == ["tutor", "student", "tutor", "student"]
    assert "\u00a0" not in pencils.turns[1][1] and pencils.turns[1][1].endswith("15 - 10 = 5. 5")
    assert pencils.solution.endswith("26")
    # "Not Available" and a missing key both mean no reference solution.
    assert _by_id(dialogues, "fx-times-table").solution is None
    assert _by_id(dialogues, "fx-shapes").solution is None
    assert pencils.replies[1].labels["revealing_of_the_answer"] == "yes"       # "Yes (and … correct)"
    assert _by_id(dialogues, "fx-times-table").replies[2].labels["revealing_of_the_answer"] == "yes"  # incorrect
    assert pencils.replies[1].labels["providing_guidance"] == "to_some_extent"
    assert set(_by_id(dialogues, "fx-shapes").replies[1].labels) == {"revealing_of_the_answer", "actionability"}


def test_split_is_fixed_by_the_dialogue_id(dialogues):
    assert {d.id: d.split for d in dialogues} == {"fx-pencils": "test", "fx-times-table": "test",
                                                  "fx-shapes": "dev", "fx-coins": "dev"}


def test_parse_turns_tolerates_non_breaking_spaces():
    assert parse_turns("Tutor: What is 2+2?\u00a0\n\u00a0Student: 5\n Tutor: Look again.") == [
        ("tutor", "What is 2+2?"), ("student", "5"), ("tutor", "Look again.")]


@pytest.mark.parametrize("text, problem", [
    ("not json", "not valid JSON"),
    ('{"conversation_id": "x"}', "no 'Tutor:' or 'Student:' turns"),
    ('[{"conversation_id": "x", "conversation_history": "Tutor: hi", "anno_llm_responses": {}}]',
     "'anno_llm_responses' must map tutor names"),
    ('[{"conversation_id": "x", "conversation_history": "Tutor: hi", "anno_llm_responses": {"A": {"response": ""}}}]',
     "tutor 'A' has no 'response' text"),
    ("[]", "expected a JSON list"),
])
def test_a_file_that_is_not_mrbench_says_why(tmp_path, text, problem):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match="bad.json") as exc:
        load_mrbench(path)
    assert problem in str(exc.value)


# -- the reveal check -----------------------------------------------------------------------
def test_numbers_are_compared_by_value():
    assert numbers_in("It costs $2,000.50, or 30% of 10000") == [2000.5, 30.0, 10000.0]
    assert numbers_in("seven groups", words=True) == [7.0]


def test_solution_reference_reveals_the_final_answer_only_when_the_student_has_not_reached_it():
    ref = Reference.from_solution("3 x 12 = 36 pencils.\n36 - 10 = 26 pencils.\n 26")
    assert [p.id for p in ref.points] == ["answer"] and ref.final == "answer"
    assert stated_points("So Mia has 26 pencils left.", ref, said="I got 5") == ["answer"]
    assert stated_points("Yes, 26 is right.", ref, said="so it's 26 pencils") == []
    assert stated_points("How many are in 3 packs?", ref, said="5") == []
    assert stated_points("Is it 26?", ref, said="5", questions_reveal=False) == []
    steps = Reference.from_solution("3 x 12 = 36 pencils.\n36 - 10 = 26 pencils.\n 26", steps=True)
    assert [p.id for p in steps.points] == ["answer", "step1"]
    assert Reference.from_solution("Not Available") is None and Reference.from_solution("") is None


def test_without_a_reference_asserted_results_are_reveals():
    said, given = "54", "What is 8 times 7?"
    assert [a.value for a in asserted_results("Close! 8 times 7 is actually 56.", said, given)] == ["56"]
    assert asserted_results("What is 8 times 5?", said, given) == []          # a question states nothing
    assert asserted_results("8 times 7 is not 54.", said, given) == []         # the student's own number
    hexagon = asserted_results("A six-sided polygon is called a hexagon.", "pentagon", "six sides?")
    assert [a.value for a in hexagon] == ["hexagon"]
    verdict = reveals("Nearly! 8 times 7 is 58.", None, said, given)
    assert verdict.revealed and "58" in verdict.detail


def _card() -> LessonCard:
    return LessonCard.model_validate({
        "id": "test-card", "question": "Why did Stalin win?",
        "key_points": [
            {"id": "posts", "statement": "As General Secretary Stalin controlled appointments to party posts",
             "evidence_terms": ["General Secretary", "appointments", "Secretariat"], "sources": ["doc"]},
            {"id": "rivals", "statement": "His rivals underestimated him as a dull administrator",
             "evidence_terms": ["underestimated", "grey blur", "dull"], "sources": ["doc"]}],
        "hints": [{"key_point": "posts", "level": "pump", "text": "Which job did he hold?"}],
        "judgement_prompts": ["Which mattered most?"]})


def test_a_card_is_a_reference_answer_like_a_solution():
    card = _card()
    text = "As General Secretary he ran the Secretariat, didn't he?"
    assert stated_points(text, Reference.from_card(card)) == ["posts"]
    assert leaked_key_points(text, card, set(), "") == ["posts"]
    assert leaked_key_points(text, card, {"posts"}, "") == []                       # already made
    assert leaked_key_points(text, card, set(), "he was General Secretary") == []   # one new term only
    paraphrase = "Remember that as General Secretary Stalin controlled the appointments to posts in the party."
    assert "posts" in leaked_key_points(paraphrase, card, set(), "General Secretary appointments")


def _leaks_as_before(text, card, covered, allowed_text):
    """The key-point leak rule as checks.py had it before the reveal mechanism replaced it."""
    import re

    from tutor.pedagogy.learner import terms_in
    from tutor.lessons import PERSON_NAME
    from tutor.pedagogy.reveal import _SIDES, _content_tokens, _names, _only_names, restates

    leaked = []
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 7]
    for kp in card.key_points:
        if kp.id in covered:
            continue
        allowed = {t.lower() for t in terms_in(allowed_text, kp.evidence_terms)}
        new_terms = [t for t in terms_in(text, kp.evidence_terms) if t.lower() not in allowed]
        # One change since (relay trial 18): a point whose terms are all people's names is stated
        # only by a paraphrase, never by naming its people.
        names_only = bool(_only_names(kp.evidence_terms))
        # …and (relay trial 23) names alone state it only where it names three people or more.
        names = {t.lower() for t in _names(kp.evidence_terms)}
        strong = [t for t in new_terms if t.lower() not in names]
        # …and (relay trial 24) only in a sentence that also puts them on a side or shares another word
        # of the point's statement ("vouched for Stalin" over the Testament is not the alliances).
        people = _content_tokens(" ".join(PERSON_NAME.findall(kp.statement)) + " " + " ".join(names))
        sided = any(len(terms_in(s, new_terms)) >= 2 and (_SIDES.search(s) or
                                                          (_content_tokens(kp.statement) - people) & _content_tokens(s))
                    for s in re.split(r"(?<=[.!?…])[”\"’]?(?:\s*\[\d+\])?\s+", text))
        if (len(new_terms) >= 2 and not names_only and (strong or len(names) >= 3 and sided)) \
                or any(restates(s, kp.statement) for s in sentences):
            leaked.append(kp.id)
    return leaked


def test_the_card_leak_check_is_unchanged_on_the_course_cards():
    from tutor.lessons import load_lessons
    from tutor.settings import PROJECT_ROOT

    lessons = load_lessons(PROJECT_ROOT / "corpus")
    texts = []
    for card in lessons.cards:
        texts += [h.text for h in card.hints] + [kp.statement for kp in card.key_points]
        texts += list(card.judgement_prompts) + list(card.counter_arguments)
        texts.append(" ".join(kp.statement for kp in card.key_points[:3]))
        texts.append(" and ".join(t for kp in card.key_points for t in kp.evidence_terms[:2]))
    compared = 0
    for card in lessons.cards:
        for covered, allowed in ((set(), ""), ({card.key_points[0].id}, card.hints[0].text)):
            for text in texts:
                assert leaked_key_points(text, card, covered, allowed) == \
                    _leaks_as_before(text, card, covered, allowed), (card.id, text)
                compared += 1
    assert compared > 500, compared


# -- guidance and actionability --------------------------------------------------------------
@pytest.mark.parametrize("text, guidance, actionability", [
    ("You added the packs to the pencils, but each pack holds 12 pencils. How many pencils are in 3 packs?", "yes", "yes"),
    ("Great job! Let's move on to the next problem.", "no", "no"),
    ("Try again.", "to_some_extent", "to_some_extent"),
    ("Remember that each pack holds 12 pencils.", "yes", "no"),
    ("### User: what is a quadratic? ### Assistant: a polynomial of degree 2", "no", "no"),
])
def test_assess_levels(text, guidance, actionability):
    a = assess(text, student="I added 3 and 12 to get 15 pencils", context="3 packs of 12 pencils")
    assert (a.guidance, a.actionability) == (guidance, actionability)


def test_a_revealed_answer_leaves_nothing_to_do():
    text = "Check it: 3 x 12 = 36 and 36 - 10 = 26 pencils."
    assert assess(text, "15 - 10 = 5", "3 packs of 12 pencils").actionability == "yes"
    assert assess(text, "15 - 10 = 5", "3 packs of 12 pencils", revealed=True).actionability == "no"


def test_locating_the_mistake_needs_the_students_own_words():
    student = "I added the 3 packs and the 12 pencils to get 15"
    assert assess("You added the packs instead of multiplying.", student).locates_mistake
    assert not assess("Something is wrong somewhere.", student).locates_mistake


# -- scoring --------------------------------------------------------------------------------
def test_agreement_matches_hand_computed_figures():
    gold = ["yes", "yes", "no", "no"]
    m = agreement(gold, ["yes", "no", "no", "no"], ("yes", "no"))
    assert m["accuracy"] == 0.75
    assert m["macro_f1"] == round((2 / 3 + 0.8) / 2, 4)        # F1 yes 2/3, F1 no 0.8
    assert m["kappa"] == 0.5                                   # (0.75 - 0.5) / (1 - 0.5)
    assert m["confusion"] == {"labels": ["yes", "no"], "matrix": [[1, 1], [0, 2]]}
    assert agreement([], [], ("yes", "no"))["macro_f1"] is None
    assert agreement(["no", "no"], ["no", "no"], ("yes", "no"))["kappa"] == 0.0   # undefined κ is not a NaN


def test_question_baseline_reads_a_question_as_the_good_label():
    assert question_baseline("revealing_of_the_answer", "What is 8 x 7?") == "no"
    assert question_baseline("revealing_of_the_answer", "It is 56.") == "yes"
    assert question_baseline("actionability", "What is 8 x 7?") == "yes"


def test_check_reply_on_the_fixture(dialogues):
    pencils = _by_id(dialogues, "fx-pencils")
    tell = check_reply(pencils, pencils.replies[1].text)
    assert tell["labels"]["revealing_of_the_answer"] == "yes" and tell["reference"] == "solution"
    ask = check_reply(pencils, pencils.replies[0].text)
    assert ask["labels"] == {"revealing_of_the_answer": "no", "providing_guidance": "yes", "actionability": "yes",
                             "mistake_identification": "yes", "mistake_location": "yes"}
    shapes = _by_id(dialogues, "fx-shapes")
    assert check_reply(shapes, shapes.replies[1].text)["labels"]["revealing_of_the_answer"] == "yes"


def test_run_scores_what_is_labelled_and_says_how_many(dialogues):
    result = run_mrbench(dialogues)
    assert result["n_replies"] == 10 and result["n_with_solution"] == 5
    everything = result["splits"]["all"]["dimensions"]
    assert everything["revealing_of_the_answer"]["n_labelled"] == 10
    assert everything["providing_guidance"]["n_labelled"] == 9
    assert everything["providing_guidance"]["n_unlabelled"] == 1
    reveal = everything["revealing_of_the_answer"]
    assert reveal["human_distribution"] == {"yes": 5, "no": 5}
    assert reveal["exact"]["check"]["accuracy"] == 1.0 and reveal["exact"]["check"]["kappa"] == 1.0
    # Majority: a 5-5 tie goes to the desired label; the baseline is then right half the time.
    assert reveal["majority_label"] == "no" and reveal["exact"]["majority"]["accuracy"] == 0.5
    assert reveal["exact"]["judge"] is None and "lenient" not in reveal
    guidance = everything["providing_guidance"]
    assert set(guidance) >= {"exact", "lenient", "reference_f1"} and guidance["reference_f1"] == 0.583
    assert result["splits"]["dev"]["n_replies"] + result["splits"]["test"]["n_replies"] == 10
    assert [g["dimension"] for g in result["goals"]] == ["revealing_of_the_answer", "providing_guidance", "actionability"]


def test_the_judge_is_scored_the_same_way(dialogues):
    calls = []

    def judge(dialogue, text):
        calls.append(text)
        return {"revealing_of_the_answer": "no", "providing_guidance": "yes", "actionability": "yes",
                "mistake_identification": "yes"}

    result = run_mrbench(dialogues, judge=judge, judge_limit=4)
    assert len(calls) == 4 and result["judged"] == 4
    reveal = result["splits"]["all"]["dimensions"]["revealing_of_the_answer"]
    assert reveal["exact"]["judge"]["n"] == 4
    assert result["splits"]["all"]["dimensions"]["mistake_location"]["exact"]["judge"] is None


# -- the command ----------------------------------------------------------------------------
@pytest.fixture
def run(monkeypatch):
    return tutor_cli(monkeypatch, "eval", "mrbench", columns=200)


def test_command_writes_json_and_a_report_with_a_plot_per_dimension(run, tmp_path):
    out, report = tmp_path / "mrbench.json", tmp_path / "report"
    result = run("--file", str(FIXTURE), "--json", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    assert "majority" in result.output and "question" in result.output and "0.583" in result.output
    assert "LLM judge not run: no model is configured" in result.output
    data = json.loads(out.read_text())
    assert data["file"] == str(FIXTURE) and data["n_replies"] == 10
    names = sorted(p.name for p in report.iterdir())
    assert names == sorted(["mrbench.md", "mrbench.json", *(f"mrbench_{d}.png" for d in DIMENSIONS)])
    assert all((report / n).read_bytes()[:4] == b"\x89PNG" for n in names if n.endswith(".png"))
    md = (report / "mrbench.md").read_text()
    for heading in ("## Goals", "## test", "## dev", "## Confusion matrices", "![mrbench_actionability]"):
        assert heading in md


def test_command_floors_and_bad_files(run, tmp_path):
    result = run("--file", str(FIXTURE), "--fail-under", "splits.all.dimensions.revealing_of_the_answer.exact.check.macro_f1=0.99")
    assert result.exit_code == 0, result.output
    result = run("--file", str(FIXTURE), "--fail-under", "splits.all.dimensions.actionability.exact.majority.macro_f1=0.99")
    assert result.exit_code == 1 and "below the floor" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    result = run("--file", str(bad))
    assert result.exit_code == 2 and "record 0: not an object" in result.output
    assert run("--file", str(tmp_path / "missing.json")).exit_code == 2


JUDGE = json.dumps({"mistake_identification": "not_applicable", "providing_guidance": "yes", "actionability": "yes",
                    "revealing_of_the_answer": "no", "coherence": "yes", "tutor_tone": "neutral", "reason": "ok"})


def test_command_with_a_model_scores_the_judge_over_http(run, tmp_path, monkeypatch):
    out = tmp_path / "mrbench.json"
    with FakeOpenAIServer() as server:
        server.script(f"auto:{JUDGE}", f"auto:{JUDGE}", "auto:not labels at all")
        monkeypatch.setenv("TUTOR_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("TUTOR_LLM_MAX_RETRIES", "0")
        result = run("--file", str(FIXTURE), "--judge-limit", "3", "--json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["judged"] == 3 and len(data["judge_errors"]) == 1
    assert "no JSON object" in data["judge_errors"][0]["error"]
    reveal = data["splits"]["all"]["dimensions"]["revealing_of_the_answer"]["exact"]["judge"]
    assert reveal["n"] == 2
    first = next(r for r in data["replies"] if r.get("judge"))
    assert first["judge"]["mistake_identification"] == "no"          # not_applicable: nothing identified
    bodies = [json.dumps(r["body"]) for r in server.requests]
    assert len(bodies) == 3 and all("Mia buys 3 packs" in b or "8 times 7" in b for b in bodies)


# -- the trained reveal guard ------------------------------------------------------------------
from tutor.evaluation.reveal_training import (SCHEMES, THRESHOLDS, cross_validated, embed_replies,  # noqa: E402
                                              reveal_inputs, train_classifier)
from tutor.pedagogy.reveal import (CLASSIFIER_PATH, FEATURES, RevealClassifier, guarded_reveals,  # noqa: E402
                                   load_classifier, reveal_features)


@pytest.fixture(scope="module")
def inputs(dialogues, embedder):
    return reveal_inputs(dialogues, embed_replies(dialogues, embedder), embedder.name)


def test_the_committed_reveal_classifier_is_small_and_for_minilm():
    classifier = load_classifier()
    assert classifier is not None and CLASSIFIER_PATH.stat().st_size < 16_000
    assert (classifier.embedder, classifier.dim, classifier.features) == ("all-MiniLM-L6-v2", 384, FEATURES)
    assert len(classifier.weights) == 384 + len(FEATURES) and 0 < classifier.threshold < 1
    assert "dev half" in classifier.trained_on          # tuned on part of V1 only
    assert RevealClassifier.from_json(classifier.to_json()) == classifier


def test_reveal_features_are_the_rules_findings_in_order():
    ref = Reference.from_solution("3 x 12 = 36 pencils.\n36 - 10 = 26 pencils.\n 26")
    told = dict(zip(FEATURES, reveal_features("So Mia has 26 pencils left.", ref, said="5", given="3 packs")))
    asked = dict(zip(FEATURES, reveal_features("Is it 26? How many are in 3 packs?", ref, said="5", given="3 packs")))
    assert told["rules"] == told["rules_statements"] == 1.0 and told["has_question"] == 0.0
    assert asked["rules"] == 1.0 and asked["rules_statements"] == 0.0     # 26 only inside a question
    assert asked["question_share"] == 1.0 and asked["ends_with_question"] == 1.0 and asked["reference"] == 1.0


def test_the_guard_reads_a_told_answer_and_a_question(dialogues, embedder):
    pencils = _by_id(dialogues, "fx-pencils")
    ref = Reference.from_solution(pencils.solution)
    said, given = pencils.last_student(), pencils.given_text()
    told = guarded_reveals("Not quite. 3 packs of 12 is 36, and 36 - 10 = 26, so Mia has 26 pencils left.",
                           ref, said, given, embedder=embedder)
    asked = guarded_reveals("You added the packs. How many pencils are in one pack, and how many packs are there?",
                            ref, said, given, embedder=embedder)
    assert told.revealed and told.probability > 0.5 and told.detail
    assert not asked.revealed and asked.probability < 0.5 and asked.detail == ""
    # No embedder, or vectors the weights were not trained on: the rules decide alone.
    assert guarded_reveals("So Mia has 26 pencils left.", ref, said, given).probability is None

    class OtherEmbedder:
        name, dim = "text-embedding-3-small", 1536
    rules_only = guarded_reveals("So Mia has 26 pencils left.", ref, said, given, embedder=OtherEmbedder())
    assert rules_only.probability is None and rules_only.revealed


def test_training_is_deterministic_and_uses_only_what_it_is_given(inputs):
    dev = inputs.subset(inputs.splits == "dev")
    first, second = train_classifier(dev, "fixture dev"), train_classifier(dev, "fixture dev")
    assert first.to_json() == second.to_json()
    assert first.threshold in THRESHOLDS or first.threshold == 0.5
    with pytest.raises(ValueError, match="both revealing and not"):
        train_classifier(inputs.subset(inputs.gold == 1))


def test_held_out_predictions_do_not_see_the_held_out_labels(inputs):
    """Flip the human labels of the replies being predicted: a guard whose weights or threshold
    were chosen on them would change its predictions; a held-out one cannot."""
    folds = SCHEMES["leave_tutor_out"][1](inputs)
    before = cross_validated(inputs, folds)
    _, tested = folds[0]
    flipped = inputs.subset(np.arange(len(inputs.gold)))
    flipped.gold = flipped.gold.copy()
    flipped.gold[tested] = 1 - flipped.gold[tested]
    after = cross_validated(flipped, folds[:1])
    assert before is not None and after is not None
    assert after[tested].tolist() == before[tested].tolist()


def test_run_with_the_guard_scores_it_beside_the_rules_in_and_out_of_sample(dialogues, embedder):
    result = run_mrbench(dialogues, vectors=embed_replies(dialogues, embedder), classifier=load_classifier())
    reveal = result["splits"]["all"]["dimensions"]["revealing_of_the_answer"]["exact"]
    assert set(reveal) >= {"check", "rules"} and set(reveal["check"]["f1"]) == {"yes", "no"}
    assert reveal["rules"]["macro_f1"] == 1.0                          # the rules are right on the fixture
    assert result["reveal_guard"]["trained_on"].startswith("MRBench_V1.json, dev half")
    assert set(result["reveal_heldout"]) == {"leave_dialogue_out", "leave_tutor_out", "dev_to_test"}
    for h in result["reveal_heldout"].values():
        assert "skipped" in h or (h["n"] > 0 and set(h["guard"]["f1"]) == {"yes", "no"} and "rules" in h)
    by_tutor = result["reveal_heldout"]["leave_tutor_out"].get("by_tutor", {})
    assert set(by_tutor) in ({"TutorA", "TutorB", "TutorC"}, set())
    row = result["replies"][0]
    assert row["rules_reveal"] in ("yes", "no") and 0 <= row["reveal_probability"] <= 1
    assert "reveal_heldout" not in run_mrbench(dialogues)             # without vectors, the rules alone


def test_command_trains_the_guard_and_reports_it_held_out(run, tmp_path):
    trained, out, report = tmp_path / "reveal.json", tmp_path / "mrbench.json", tmp_path / "report"
    result = run("--file", str(FIXTURE), "--no-judge", "--train", "--train-out", str(trained),
                 "--json", str(out), "--report", str(report))
    assert result.exit_code == 0, result.output
    classifier = RevealClassifier.from_json(trained.read_text())
    assert classifier.trained_on == "mrbench_small.json, dev half: 2 dialogues, 4 labelled replies"
    assert "Reveal guard held out" in result.output and "leave_tutor_out" in result.output
    data = json.loads(out.read_text())
    assert data["reveal_guard"]["trained_on"] == classifier.trained_on
    assert "## The reveal guard held out" in (report / "mrbench.md").read_text()
    assert load_classifier() != classifier                              # the committed file is untouched
    plain = run("--file", str(FIXTURE), "--no-judge", "--rules-only")
    assert plain.exit_code == 0 and "Reveal guard not run" in plain.output


def test_a_course_card_stays_with_the_rules(embedder):
    """The classifier learnt from maths replies; a reply restating a card's key point must still be
    caught (it reads such replies as not revealing), so card references keep the rules' verdict."""
    from tutor.lessons import load_lessons
    from tutor.settings import PROJECT_ROOT

    card = load_lessons(PROJECT_ROOT / "corpus").cards[0]
    ref = Reference.from_card(card)
    for kp in card.key_points:
        text = kp.statement + " What do you make of that?"
        verdict = guarded_reveals(text, ref, said="", embedder=embedder)
        assert verdict.revealed == reveals(text, ref, "").revealed and verdict.probability is None
    assert guarded_reveals(card.key_points[0].statement, ref, said="", embedder=embedder).revealed
