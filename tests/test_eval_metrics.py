"""Evaluation metrics, data-set loading and --fail-under floors on small hand-worked examples."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

from tutor.evaluation.datasets import DatasetError, load_cases, load_essays, load_questions
from tutor.evaluation.essays import compare
from tutor.evaluation.floors import FloorError, check_floors, parse_floor, resolve
from tutor.evaluation.metrics import (
    build_qrels,
    first_relevant_rank,
    is_relevant,
    latency_summary,
    percentile,
    ranking_metrics,
)


@dataclass
class FakePassage:
    id: str
    search_text: str


@dataclass
class FakeQuestion:
    id: str
    gold_terms: list[list[str]]


@dataclass
class FakeAnalysis:
    level: str
    marks: list[int]
    issues: list[dict]


# -- relevance -------------------------------------------------------------------------------
def test_relevant_needs_one_alternative_from_every_group_case_insensitively():
    gold = [["On Party Unity", "ban on factions"], ["Kronstadt"]]
    assert is_relevant("After KRONSTADT the Tenth Congress passed the Ban on Factions.", gold)
    assert not is_relevant("The ban on factions was passed in March 1921.", gold)  # no Kronstadt
    assert not is_relevant("anything", [])


def test_qrels_are_every_passage_meeting_the_gold_terms():
    passages = [FakePassage("p1", "General Secretary from April 1922"),
                FakePassage("p2", "the general secretary controlled appointments"),
                FakePassage("p3", "April 1922: Stalin becomes General Secretary")]
    questions = [FakeQuestion("q1", [["General Secretary"], ["1922"]]), FakeQuestion("q2", [["Wrangel"]])]
    assert build_qrels(questions, passages) == {"q1": {"p1": 1, "p3": 1}, "q2": {}}


def test_first_relevant_rank_is_one_based():
    assert first_relevant_rank(["x", "y", "a"], {"a", "b"}) == 3
    assert first_relevant_rank(["x"], {"a"}) is None


# -- ranking metrics (worked by hand) ----------------------------------------------------------
QRELS = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}, "q3": {}, "q4": {"g": 1}}
RUNS = {"q1": ["x", "a", "y", "b"], "q2": ["d", "e", "f", "c"], "q3": ["a"], "q4": ["g"]}


def test_per_question_values():
    per_q = ranking_metrics(QRELS, RUNS, k=2)["per_question"]
    # q1: first relevant at rank 2 -> hit@2 = 1, RR = 1/2;
    #     DCG = 1/log2(3) + 1/log2(5), ideal = 1 + 1/log2(3).
    ndcg_q1 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert per_q["q1"]["recall@2"] == 1.0
    assert per_q["q1"]["mrr@10"] == pytest.approx(0.5)
    assert per_q["q1"]["ndcg@10"] == pytest.approx(ndcg_q1)          # 0.65092
    # q2: only relevant at rank 4 -> missed at k=2, RR = 1/4, nDCG = 1/log2(5).
    assert per_q["q2"]["recall@2"] == 0.0
    assert per_q["q2"]["mrr@10"] == pytest.approx(0.25)
    assert per_q["q2"]["ndcg@10"] == pytest.approx(1 / math.log2(5))  # 0.43068
    # q3: nothing in the store is relevant -> a miss on every metric, not dropped.
    assert per_q["q3"] == {"recall@2": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    # q4: the one relevant passage first -> perfect.
    assert per_q["q4"] == {"recall@2": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}


def test_means_over_all_questions():
    mean = ranking_metrics(QRELS, RUNS, k=2)["mean"]
    assert mean["recall@2"] == 0.5                       # (1 + 0 + 0 + 1) / 4
    assert mean["mrr@10"] == 0.4375                      # (0.5 + 0.25 + 0 + 1) / 4
    assert mean["ndcg@10"] == pytest.approx(0.5204, abs=1e-4)  # (0.65092 + 0.43068 + 0 + 1) / 4


def test_recall_at_k_is_a_hit_rate_and_mrr_stops_at_ten():
    ranking = [f"n{i}" for i in range(10)] + ["a"]          # relevant only at rank 11
    result = ranking_metrics({"q": {"a": 1, "b": 1, "c": 1}}, {"q": ranking}, k=20)["per_question"]["q"]
    assert result["mrr@10"] == 0.0 and result["ndcg@10"] == 0.0
    assert result["recall@20"] == 1.0                       # one of three relevant found: still a hit
    two_hits = ranking_metrics({"q": {"a": 1, "b": 1}}, {"q": ["a", "b"]}, k=5)["mean"]
    assert two_hits["recall@5"] == 1.0                      # not 2.0: a hit rate, not a count


def test_percentiles_interpolate_linearly():
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)   # 30 + 0.85 * 10
    assert percentile([], 95) == 0.0
    assert latency_summary([5.0]) == {"p50_ms": 5.0, "p95_ms": 5.0}


# -- essays comparison ---------------------------------------------------------------------------
def test_essay_comparison_levels_marks_and_issue_kinds(tmp_path):
    (tmp_path / "e.md").write_text("Stalin won because...", encoding="utf-8")
    (tmp_path / "e.json").write_text(json.dumps({
        "question": "Why did Stalin win?", "level": "L3", "marks": [11, 14],
        "issues": [{"kind": "no_evidence", "paragraph": 2}, {"kind": "no_judgement", "paragraph": 4}]}))
    sample = load_essays(tmp_path)[0]
    row = compare(sample, FakeAnalysis("L4", [15, 17], [{"kind": "no_evidence"}, {"kind": "narrative"}]))
    assert (row["level_match"], row["level_within_one"], row["marks_overlap"]) == (False, True, False)
    assert row["missed"] == ["no_judgement"] and row["extra"] == ["narrative"]
    assert compare(sample, FakeAnalysis("L3", [14, 16], []))["marks_overlap"] is True  # 14 is shared


# -- data sets -----------------------------------------------------------------------------------
def test_questions_load_and_every_bad_line_is_named(tmp_path):
    good = tmp_path / "q.jsonl"
    good.write_text('{"id": "q1", "question": "who ran the secretariat", "gold_terms": [["Stalin"]]}\n\n')
    assert load_questions(good)[0].gold_terms == [["Stalin"]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([
        '{"id": "q1", "question": "ok", "gold_terms": [["a"]]}',
        '{"id": "q2", "question": "no gold"}',
        '{"id": "q3", "question": "flat", "gold_terms": ["a", "b"]}',
        "not json",
        '{"id": "q1", "question": "again", "gold_terms": [["a"]]}',
    ]))
    with pytest.raises(DatasetError) as info:
        load_questions(bad)
    problems = info.value.problems
    assert [p.split(": ")[0] for p in problems] == [f"{bad}:2", f"{bad}:3", f"{bad}:4", f"{bad}:5"]
    assert "gold_terms" in problems[0] and "not valid JSON" in problems[2] and "duplicate id 'q1'" in problems[3]


def test_cases_reject_unknown_tags_and_bad_history(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([
        '{"id": "t1", "message": "hi", "must": ["ends_with_question"]}',
        '{"id": "t2", "message": "hi", "must": ["be_nice"]}',
        '{"id": "t3", "message": "hi", "must": ["ends_with_question"], "history": [{"role": "bot", "content": "x"}]}',
    ]))
    with pytest.raises(DatasetError) as info:
        load_cases(path)
    assert info.value.problems[0].startswith(f"{path}:2: unknown tag(s) be_nice")
    assert info.value.problems[1].startswith(f"{path}:3: history turn 1")


def test_missing_file_and_empty_file_are_clear(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_questions(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="no entries"):
        load_questions(tmp_path / "empty.jsonl")


def test_essay_without_sidecar_or_with_bad_level_is_named(tmp_path):
    (tmp_path / "a.md").write_text("text")
    (tmp_path / "b.md").write_text("text")
    (tmp_path / "b.json").write_text(json.dumps({"question": "q", "level": "L9", "marks": [1, 2]}))
    with pytest.raises(DatasetError) as info:
        load_essays(tmp_path)
    assert info.value.problems == [f"{tmp_path / 'a.md'}: no sidecar a.json",
                                   f"{tmp_path / 'b.json'}: 'level' must be one of L1, L2, L3, L4, L5"]


# -- floors --------------------------------------------------------------------------------------
RESULT = {"retrieval": {"methods": {"hybrid": {"recall@5": 0.93}, "dense": {"recall@5": 0.8}}},
          "tutor": {"pass_rate": 0.95, "rates": {"ends_with_question": 1.0}}}


def test_floors_resolve_short_names_and_report_each_shortfall():
    assert resolve(RESULT, "hybrid.recall@5") == 0.93
    assert resolve(RESULT, "retrieval.methods.dense.recall@5") == 0.8
    assert resolve(RESULT, "pass_rate") == 0.95
    floors = [parse_floor("hybrid.recall@5=0.9"), parse_floor("pass_rate=0.97"), parse_floor("dense.recall@5=0.85")]
    assert check_floors(RESULT, floors) == ["pass_rate = 0.95 is below 0.97", "dense.recall@5 = 0.8 is below 0.85"]


def test_bad_floors_are_errors_not_passes():
    with pytest.raises(FloorError, match="METRIC=VALUE"):
        parse_floor("hybrid.recall@5>0.8")
    with pytest.raises(FloorError, match="ambiguous"):
        resolve(RESULT, "recall@5")
    with pytest.raises(FloorError, match="no metric 'recal@5'"):
        check_floors(RESULT, [parse_floor("recal@5=0.1")])
