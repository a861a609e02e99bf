"""The shipped corpus: documents, lesson cards, timeline and evaluation sets are valid and consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tutor.documents import read_document
from tutor.lessons import load_lessons
from tutor.pedagogy.learner import terms_in

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SOURCES = sorted((CORPUS / "sources").glob("*.md"))
KINDS = {"overview", "event", "person", "idea", "historiography", "source-note", "skills"}
EVAL_TAGS = {"ends_with_question", "no_full_answer", "cites_source", "no_essay_written",
             "challenges_misattribution", "asks_for_evidence_or_counter", "redirects_to_topic",
             "no_system_prompt_leak", "corrects_date"}
ISSUE_KINDS = {"no_evidence", "no_counter_argument", "no_judgement", "no_conclusion", "unfinished",
               "wrong_date", "misattribution", "narrative"}


def _docs():
    return {p.stem: read_document(p.name, p.read_bytes()) for p in SOURCES}


DOCS = _docs()
LESSONS = load_lessons(CORPUS, set(DOCS))


def _body_words(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    body = re.sub(r"\A---.*?\n---\n", "", text, flags=re.S)
    return len(re.findall(r"\b\w[\w'’-]*\b", body))


def test_at_least_thirty_documents_and_eight_source_notes():
    assert len(SOURCES) >= 30
    assert sum(d.kind == "source-note" for d in DOCS.values()) >= 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_document_front_matter_and_length(path):
    doc = DOCS[path.stem]
    assert doc.doc_id == path.stem, "the id in front matter must match the file name"
    assert doc.kind in KINDS
    period = doc.metadata.get("period")
    assert isinstance(period, list) and len(period) == 2 and 1900 < int(period[0]) <= int(period[1]) < 1960
    assert doc.metadata.get("tags"), "tags are required"
    if doc.kind == "source-note":
        for key in ("author", "date", "provenance", "purpose", "audience"):
            assert doc.metadata.get(key), f"source note needs {key}"
    assert 400 <= _body_words(path) <= 1500
    assert "##" in path.read_text(encoding="utf-8"), "sections with ## headings let the chunker split"


def test_document_ids_unique():
    ids = [d.doc_id for d in DOCS.values()]
    assert len(ids) == len(set(ids))


def test_required_people_have_person_documents():
    for person in ("lenin", "stalin", "trotsky", "zinoviev", "kamenev", "bukharin"):
        assert f"person-{person}" in DOCS


def test_grey_blur_attributed_to_sukhanov_not_trotsky():
    text = DOCS["hist-underestimation"].text
    assert "Sukhanov" in text and "outstanding mediocrity" in text


def test_lesson_cards_cover_the_big_questions():
    ids = {c.id for c in LESSONS.cards}
    assert len(ids) >= 12
    for needed in ("why-stalin-won", "left-underestimated-stalin", "general-secretary-power",
                   "testament-not-acted-on", "trotskys-mistakes", "ideology-socialism-in-one-country",
                   "zinoviev-kamenev-alliances", "lenin-enrolment", "ban-on-factions", "defeat-of-the-right",
                   "historians-interpretations", "evaluating-a-primary-source"):
        assert needed in ids


def test_every_key_point_has_a_full_hint_ladder():
    for card in LESSONS.cards:
        for kp in card.key_points:
            levels = [h.level for h in card.ladder(kp.id)]
            assert levels == ["pump", "hint", "prompt"], (card.id, kp.id, levels)


@pytest.mark.parametrize("card", LESSONS.cards, ids=lambda c: c.id)
def test_key_point_evidence_terms_occur_in_their_sources(card):
    for kp in card.key_points:
        text = "\n".join(DOCS[d].text for d in kp.sources)
        missing = [t for t in kp.evidence_terms if not terms_in(text, [t])]
        assert not missing, f"{card.id}.{kp.id}: {missing} not in {kp.sources}"


def test_open_hints_do_not_state_their_key_point():
    from tutor.pedagogy.checks import leaked_key_points

    # The last rung ("prompt") may name things; the open rungs must not give the point away.
    for card in LESSONS.cards:
        for hint in (h for h in card.hints if h.level == "pump"):
            leaked = leaked_key_points(hint.text, card, covered=set(), allowed_text="")
            assert hint.key_point not in leaked, (card.id, hint.text)


def test_timeline_rows_are_covered_by_their_documents():
    assert len(LESSONS.timeline) >= 30
    for event in LESSONS.timeline:
        text = " ".join(DOCS[d].text for d in event.docs)
        assert str(event.years[0]) in text, f"{event.id}: year {event.years[0]} not in {event.docs}"


def test_misconception_triggers_fire_on_known_misconceptions():
    examples = {
        "Trotsky called Stalin a grey blur": "grey",
        "Lenin died in 1925": None,
    }
    assert LESSONS.misconceptions_in("trotsky called stalin a grey blur, so he underestimated him")
    assert not LESSONS.misconceptions_in("Sukhanov called Stalin a grey blur in his memoir of 1917.")
    assert LESSONS.date_errors("Lenin died in 1925")[0].event.years[0] == 1924
    assert not LESSONS.date_errors("Lenin died on 21 January 1924.")
    assert examples


def _jsonl(name: str) -> list[dict]:
    rows = []
    for n, line in enumerate((CORPUS / "eval" / name).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            rows.append(json.loads(line))
    return rows


def test_retrieval_questions_are_valid_and_answerable():
    from tutor.chunking import chunk_document

    rows = _jsonl("questions.jsonl")
    assert len(rows) >= 80
    assert len({r["id"] for r in rows}) == len(rows)
    chunks = [c.text.lower() for d in DOCS.values() for c in chunk_document(d, 1200, 150)]
    for r in rows:
        assert r["question"].strip()
        groups = r["gold_terms"]
        assert groups and all(isinstance(g, list) and g for g in groups)
        hits = sum(all(any(a.lower() in c for a in g) for g in groups) for c in chunks)
        assert hits >= 1, f"{r['id']}: no chunk meets its gold terms"


def test_tutor_cases_are_valid():
    rows = _jsonl("tutor_cases.jsonl")
    assert len(rows) >= 100
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["message"].strip() and r["must"]
        assert set(r["must"]) <= EVAL_TAGS, r["id"]
        if {"challenges_misattribution", "corrects_date"} & set(r["must"]):
            assert r.get("expect_any"), r["id"]
        for turn in r.get("history", []):
            assert turn["role"] in ("user", "assistant") and turn["content"]


def test_essays_have_valid_sidecars_across_all_levels():
    essays = sorted((CORPUS / "eval" / "essays").glob("*.md"))
    assert len(essays) >= 6
    levels = set()
    for essay in essays:
        sidecar = json.loads(essay.with_suffix(".json").read_text(encoding="utf-8"))
        assert re.fullmatch(r"L[1-5]", sidecar["level"])
        levels.add(sidecar["level"])
        lo, hi = sidecar["marks"]
        assert 1 <= lo <= hi <= 25
        for issue in sidecar["issues"]:
            assert issue["kind"] in ISSUE_KINDS
    assert levels == {"L1", "L2", "L3", "L4", "L5"}


def test_timeline_yaml_is_a_list_of_rows():
    rows = yaml.safe_load((CORPUS / "timeline.yaml").read_text(encoding="utf-8"))
    assert isinstance(rows, list) and all("date" in r and "docs" in r for r in rows)


def test_another_mans_funeral_is_not_lenins():
    # relay trial 59: the model's "his last speech, at Adolf Joffe's funeral in November 1927" was refused as
    # misdating Lenin's funeral
    assert not LESSONS.date_errors("the speech you picture may be his last one, at Adolf Joffe's funeral in November 1927.")
    assert [e.event.id for e in LESSONS.date_errors("trotsky missed the funeral in 1925")] == ["lenin-funeral"]


def test_a_group_of_names_before_an_event_keyword_is_read_whole():
    # relay trial 63: "when exactly were Zinoviev and Kamenev expelled?" got no date: Kamenev, the last name,
    # is not in Trotsky's and Zinoviev's expulsion, and nothing keyed Kamenev's
    named = [e.id for e in LESSONS.events_named("when were zinoviev and kamenev expelled from the party?")]
    assert "trotsky-zinoviev-expelled" in named and "fifteenth-congress" in named
    assert "trotsky-zinoviev-expelled" not in [e.id for e in LESSONS.events_named("when was bukharin expelled from the party?")]
