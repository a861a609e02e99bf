"""The object graph and the domain rules that left the UI: tutor.services.build (one builder,
TUTOR_PROMPTS_DIR honoured by tutor and coaches), Library.replace and `tutor replace`, one
parse per upload, and evaluation runs gated by the Teacher capability in the service.
These are unit tests of the wiring: the store uses the deterministic FakeEmbeddings."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import tutor.library as library_module
from fakes import FakeChatModel, FakeEmbeddings
from tutor.auth import local_operator
from tutor.errors import ConfigError, PermissionDenied
from tutor.evaluation import runs
from tutor.library import Upload
from tutor.services import build
from tutor.settings import DEFAULT_PROMPTS, get_settings, load_settings, reset_settings
from tutor.ui import teacher as teacher_service

NOTE = b"---\nid: notes-on-kronstadt\ntitle: Kronstadt\nkind: event\n---\n## March 1921\nThe sailors rose in March 1921.\n"
NOTE_V2 = NOTE.replace(b"rose in March 1921.", b"rose in March 1921 and were crushed by the Red Army.")


@pytest.fixture
def services(settings):
    return build(settings, embedder=FakeEmbeddings(), chat_model=None)


def test_one_graph_shares_its_parts(services):
    assert services.tutor.retriever is services.retriever is services.essay_coach.retriever
    assert services.tutor.coach is services.essay_coach and services.library.store is services.store
    assert services.tutor.mode == "offline" and services.model is None


def test_a_given_model_reaches_the_tutor_and_both_coaches_with_the_turn_budget(settings):
    custom = load_settings(home=settings.home, llm_turn_budget=7)
    built = build(custom, embedder=FakeEmbeddings(), chat_model=FakeChatModel().enqueue("Who?"))
    assert built.tutor.model is built.essay_coach.model is built.source_coach.model
    assert built.model.budget == 7 and built.tutor.mode == "fake-model"


def test_tutor_prompts_dir_is_honoured_by_the_tutor_and_both_coaches(settings, tmp_path):
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS, prompts)
    (prompts / "coach" / "source.md").write_text("A custom source brief that is long enough to be secret.\n{brief}\n")
    custom = load_settings(home=settings.home, prompts_dir=prompts)
    built = build(custom, embedder=FakeEmbeddings(), chat_model=None)
    assert built.essay_coach.prompts_dir == prompts == built.source_coach.prompts_dir
    assert built.tutor.prompts is built.essay_coach.prompts
    assert "A custom source brief that is long enough to be secret." in built.source_coach.secret_lines()


def test_a_store_and_an_embedder_together_are_refused(services):
    with pytest.raises(ConfigError, match="not both"):
        build(services.settings, store=services.store, embedder=FakeEmbeddings())


def test_replace_keeps_the_id_and_refuses_another(services):
    library, teacher = services.library, local_operator()
    [added] = library.ingest(teacher, [Upload("kronstadt.md", NOTE)])
    result = library.replace(teacher, "notes-on-kronstadt", Upload("anything-v2.md", NOTE_V2))
    assert result.status == "updated" and result.doc_id == "notes-on-kronstadt" and result.filename == "anything-v2.md"
    assert result.version == added.version + 1
    missing = library.replace(teacher, "no-such-doc", Upload("x.md", NOTE))
    assert missing.status == "failed" and "no document 'no-such-doc'" in missing.reason
    other = library.replace(teacher, "notes-on-kronstadt", Upload("x.md", b"---\nid: something-else\n---\nText here."))
    assert other.status == "failed" and "something-else" in other.reason
    with pytest.raises(PermissionDenied):
        library.replace("a student", "notes-on-kronstadt", Upload("x.md", NOTE))


def test_each_upload_is_parsed_once(services, monkeypatch):
    parsed = []
    real = library_module.read_uploads  # every upload is read in the bounded child, a batch at a time

    def reading(files, *args, **kw):
        parsed.extend(name for name, _ in files)
        return real(files, *args, **kw)

    monkeypatch.setattr(library_module, "read_uploads", reading)
    files = [Upload("kronstadt.md", NOTE), Upload("other.md", NOTE.replace(b"notes-on-kronstadt", b"other"))]
    results = teacher_service.handle_uploads(services.library, local_operator(), files)
    assert [r.status for r in results] == ["added", "added"]
    assert sorted(parsed) == ["kronstadt.md", "other.md"], "check() reads each file; ingest does not read it again"


def test_tutor_replace_command(services, tmp_path, monkeypatch):
    from tutor.cli import app

    services.library.ingest(local_operator(), [Upload("kronstadt.md", NOTE)])
    new = tmp_path / "v2.md"
    new.write_bytes(NOTE_V2)
    monkeypatch.setattr("tutor.store.get_embedder", lambda settings=None: services.store.embedder)
    runner = CliRunner()
    reset_settings()
    result = runner.invoke(app, ["replace", "notes-on-kronstadt", str(new)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "v2.md: updated (notes-on-kronstadt, v2" in result.output
    reset_settings()
    missing = runner.invoke(app, ["replace", "no-such-doc", str(new)], catch_exceptions=False)
    assert missing.exit_code == 1 and "no document 'no-such-doc'" in missing.output


def test_evaluation_runs_need_the_teacher_capability_in_the_service(services, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "message": "why did stalin win?", "must": []}\n')
    for actor in (None, "teacher", {"name": "teacher"}):
        with pytest.raises(PermissionDenied, match="needs a teacher"):
            runs.run_tutor_set(actor, services.tutor, cases)
        with pytest.raises(PermissionDenied, match="needs a teacher"):
            runs.run_retrieval_set(actor, services.retriever, cases)
    assert get_settings()  # the autouse TUTOR_HOME is untouched by the refusals
