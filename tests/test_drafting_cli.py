"""`tutor lessons draft / publish / unpublish / published` through Typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import tutor_cli
import yaml


DOC = Path(__file__).resolve().parent.parent / "corpus" / "eval" / "teacher_documents" / "war-scare-1927.md"
DOC_ID = "teacher-war-scare-1927"


@pytest.fixture
def run(monkeypatch, embedder):
    return tutor_cli(monkeypatch)


@pytest.fixture
def home(tutor_home, corpus_home, run, tmp_path):
    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    # A teacher's own copy: `tutor ingest` refuses files under corpus/eval (not course sources).
    mine = tmp_path / "handouts"
    mine.mkdir()
    shutil.copy(DOC, mine)
    result = run("ingest", str(mine))
    assert result.exit_code == 0, result.output
    return tutor_home


def test_draft_edit_publish_unpublish(home, run, tmp_path):
    out = tmp_path / "card.yaml"
    result = run("lessons", "draft", DOC_ID, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "key points" in result.output and "timeline offers" in result.output
    data = yaml.safe_load(out.read_text())
    assert data["card"]["id"] == DOC_ID and data["timeline"]
    data["card"]["question"] = "Why did fear of war in 1927 help Stalin against the opposition?"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = run("lessons", "publish", str(out))
    assert result.exit_code == 0, result.output
    assert f"published {DOC_ID} v1" in result.output
    assert not any((Path("corpus") / "lessons").glob("teacher-*"))
    listed = json.loads(run("lessons", "published", "--json").output)
    assert [(r["id"], r["version"], r["unpublished_at"]) for r in listed] == [(DOC_ID, 1, None)]
    assert run("lessons", "unpublish", DOC_ID).exit_code == 0
    assert run("lessons", "unpublish", DOC_ID).exit_code == 1
    listed = json.loads(run("lessons", "published", "--json").output)
    assert listed[0]["unpublished_by"] == "local operator"


def test_a_failing_card_is_not_published_and_each_failure_is_named(home, run, tmp_path):
    out = tmp_path / "card.yaml"
    assert run("lessons", "draft", DOC_ID, "--out", str(out)).exit_code == 0
    data = yaml.safe_load(out.read_text())
    data["card"]["key_points"][0]["evidence_terms"].append("Napoleon")
    data["card"]["key_points"][1]["sources"] = ["no-such-doc"]
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run("lessons", "publish", str(out))
    assert result.exit_code == 1
    assert "'Napoleon' does not occur" in result.output and "unknown document 'no-such-doc'" in result.output
    assert "Nothing was published." in result.output
    assert json.loads(run("lessons", "published", "--json").output) == []
    out.write_text("id: [unclosed")
    result = run("lessons", "publish", str(out))
    assert result.exit_code == 1 and "not valid YAML" in result.output


def test_nothing_to_draft_from(home, run):
    result = run("lessons", "draft", "no-such-document")
    assert result.exit_code == 1 and "Nothing to draft from" in result.output


def test_lessons_check_validates_published_cards_naming_each_failure(home, run, tmp_path):
    result = run("lessons", "check")
    assert result.exit_code == 0 and "published: none" in result.output, result.output
    out = tmp_path / "card.yaml"
    assert run("lessons", "draft", DOC_ID, "--out", str(out)).exit_code == 0
    assert run("lessons", "publish", str(out)).exit_code == 0
    result = run("lessons", "check")
    assert result.exit_code == 0 and "published: 1 cards ok" in result.output, result.output
    # The document the card teaches is removed: the card no longer passes, and check says why.
    assert run("remove", DOC_ID).exit_code == 0
    result = run("lessons", "check")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(f"published {DOC_ID} v1: ")]
    assert lines and all("unknown document" in line for line in lines), result.output
    assert "problem(s) in published cards" in result.output
