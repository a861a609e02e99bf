"""The Store: chunks in Chroma, the manifest says which are live; versions switch safely."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import CountingEmbedder
from tutor.documents import read_document
from tutor.errors import EmbeddingMismatchError
from tutor.manifest import Manifest
from tutor.settings import load_settings
from tutor.store import Store

pytestmark = pytest.mark.both_databases

SECTIONS = {
    "Posts": "As General Secretary from April 1922 Stalin controlled appointments to local party posts.",
    "Delegates": "Local secretaries chose the delegates who voted at party congresses, so congresses backed him.",
    "Records": "The Secretariat kept files on every party member, which helped in every dispute.",
}


def md(doc_id: str, sections: dict[str, str] = SECTIONS, title: str | None = None) -> bytes:
    body = "\n\n".join(f"## {head}\n{text}" for head, text in sections.items())
    return f"---\nid: {doc_id}\ntitle: {title or doc_id}\nkind: idea\n---\n{body}\n".encode()


def load(doc_id: str, sections: dict[str, str] = SECTIONS, **kw):
    return read_document(f"{doc_id}.md", md(doc_id, sections, **kw))


def stored_ids(store: Store) -> list[str]:
    return sorted(store.collection.get(include=[])["ids"])


def add(store: Store, *docs) -> dict[str, int]:
    return store.commit(store.prepare(docs), originals={d.doc_id: f"{d.doc_id}.md" for d in docs})


def test_commit_adds_live_chunks(store):
    doc = load("apparatus")
    [prepared] = store.prepare([doc])
    assert [c.metadata["section"] for c in prepared.chunks] == list(SECTIONS)
    assert add(store, doc) == {"apparatus": 1}
    ids = [c.id for c in prepared.chunks]
    assert stored_ids(store) == sorted(ids)
    record = store.manifest.get("apparatus")
    assert record.chunk_ids == tuple(ids) and record.version == 1 and record.original == "apparatus.md"
    assert store.count() == 3 and store.live_ids() == set(ids)
    assert [p.id for p in store.chunks()] == ids
    hits = store.dense_search("Who chose the congress delegates?", k=2)
    assert hits[0].id == ids[1] and hits[0].section == "Delegates" and 0 < hits[0].score <= 1


def test_new_version_replaces_every_old_chunk(store):
    add(store, load("apparatus"), load("other", {"Kronstadt": "The sailors rose in March 1921."}))
    old_ids = set(store.manifest.get("apparatus").chunk_ids)
    other_ids = set(store.manifest.get("other").chunk_ids)
    new = load("apparatus", {"Posts": SECTIONS["Posts"] + " Revised.", "Only": "Just two sections now."})
    assert add(store, new) == {"apparatus": 2}
    new_ids = {c.id for c in store.prepare([new])[0].chunks}
    assert not new_ids & old_ids
    # Exactly the new version plus the untouched document: nothing stale, nothing twice.
    assert stored_ids(store) == sorted(new_ids | other_ids)
    assert {p.id for p in store.chunks("apparatus")} == new_ids
    assert all("Revised" in p.text or "two sections" in p.text for p in store.chunks("apparatus"))
    with store.manifest.transaction() as conn:
        versions = conn.execute(sa.text("SELECT version, n_chunks, retired_at IS NOT NULL AS retired FROM "
                                        "document_versions WHERE doc_id = 'apparatus' ORDER BY version")).all()
    assert [tuple(v) for v in versions] == [(1, 3, 1), (2, 2, 0)]


def test_remove_deletes_every_chunk_and_the_manifest_row(store):
    add(store, load("apparatus"), load("other", {"Kronstadt": "The sailors rose in March 1921."}))
    version = store.version()
    record = store.remove("apparatus")
    assert record is not None and record.doc_id == "apparatus"
    assert store.manifest.get("apparatus") is None
    assert stored_ids(store) == sorted(store.manifest.get("other").chunk_ids)
    assert store.collection.get(where={"doc_id": "apparatus"}, include=[])["ids"] == []
    assert store.version() == version + 1
    assert store.remove("apparatus") is None


def test_reopened_store_sees_the_same_documents_and_results(settings, embedder, store):
    add(store, load("apparatus"), load("other", {"Kronstadt": "The sailors rose in March 1921."}))
    before = [(p.id, round(p.score, 5)) for p in store.dense_search("party posts", k=3)]
    docs = [(d.doc_id, d.version, d.chunk_ids) for d in store.documents()]

    reopened = Store(load_settings(home=settings.home), embedder)
    assert reopened is not store and reopened.manifest is not store.manifest
    assert [(d.doc_id, d.version, d.chunk_ids) for d in reopened.documents()] == docs
    assert [(p.id, round(p.score, 5)) for p in reopened.dense_search("party posts", k=3)] == before
    assert reopened.version() == store.version()


def test_a_change_made_by_another_process_is_seen(settings, embedder, store):
    add(store, load("apparatus"))
    assert store.count() == 3
    other = Store(load_settings(home=settings.home), embedder)
    add(other, load("other", {"Kronstadt": "The sailors rose in March 1921."}))
    other.remove("apparatus")
    # The live-id cache follows the manifest's version counter.
    assert store.count() == 1
    assert [p.doc_id for p in store.dense_search("General Secretary appointments", k=3)] == ["other"]


def test_embedding_model_mismatch(settings, embedder, store):
    add(store, load("apparatus"))
    renamed = CountingEmbedder(embedder, name="some-other-model")
    with pytest.raises(EmbeddingMismatchError) as info:
        Store(load_settings(home=settings.home), renamed)
    message = str(info.value)
    assert "`tutor reindex`" in message and "all-MiniLM-L6-v2" in message and "some-other-model" in message
    # reindex opens without the check; the original model still opens normally.
    assert Store(load_settings(home=settings.home), renamed, check_model=False).count() == 3
    assert Store(load_settings(home=settings.home), embedder).count() == 3


def test_crash_before_the_switch_leaves_the_old_version_live(store, monkeypatch):
    add(store, load("apparatus"))
    old_ids = set(store.manifest.get("apparatus").chunk_ids)
    new = load("apparatus", {"Posts": "A different account: the Orgburo mattered more than posts."})
    new_ids = {c.id for c in store.prepare([new])[0].chunks}

    def crash(self, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(Manifest, "switch", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        add(store, new)
    monkeypatch.undo()

    # The new chunks reached Chroma but nothing lists them: readers see only the old version.
    assert set(stored_ids(store)) == old_ids | new_ids
    assert store.manifest.get("apparatus").version == 1
    assert {p.id for p in store.chunks()} == old_ids
    assert {p.id for p in store.dense_search("Orgburo mattered more", k=10)} == old_ids
    assert store.get_passages(sorted(new_ids)) == []
    assert store.count() == 3

    assert store.sweep_orphans() == len(new_ids)
    assert set(stored_ids(store)) == old_ids
    assert add(store, new) == {"apparatus": 2}
    assert set(stored_ids(store)) == new_ids


def test_crash_after_the_switch_leaves_only_the_new_version_live(store, monkeypatch):
    add(store, load("apparatus"))
    old_ids = set(store.manifest.get("apparatus").chunk_ids)
    new = load("apparatus", {"Posts": "A different account: the Orgburo mattered more than posts."})

    def crash(ids):
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "_delete", crash)
    with pytest.raises(RuntimeError):
        add(store, new)
    monkeypatch.undo()
    new_ids = set(store.manifest.get("apparatus").chunk_ids)
    assert {p.id for p in store.dense_search("party posts", k=10)} == new_ids
    assert {p.id for p in store.chunks()} == new_ids
    assert store.sweep_orphans() == len(old_ids)
    assert set(stored_ids(store)) == new_ids


def test_orphans_never_crowd_out_live_results(store):
    # Twenty near-copies of the query left as orphans, one live passage that matches less well.
    orphans = [load(f"orphan-{i}", {"Posts": f"General Secretary Stalin controlled appointments ({i})."})
               for i in range(20)]
    prepared = store.prepare(orphans)
    chunks = [c for p in prepared for c in p.chunks]
    store._add(chunks, store.embed(chunks))
    add(store, load("live", {"Kronstadt": "The sailors rose in March 1921."}),
        load("live-two", {"Posts": "Appointments made the General Secretary strong."}))
    hits = store.dense_search("General Secretary Stalin controlled appointments", k=2)
    assert [h.doc_id for h in hits] == ["live-two", "live"]
    assert store.count() == 2
    filtered = store.dense_search("appointments", k=5, where={"doc_id": "live"})
    assert [h.doc_id for h in filtered] == ["live"]


def test_empty_store_searches_return_nothing(store):
    assert store.dense_search("anything", k=5) == []
    assert store.chunks() == [] and store.count() == 0 and store.get_passages([]) == []
    assert store.sweep_orphans() == 0


def test_unchanged_check_uses_the_content_hash(store):
    doc = load("apparatus")
    assert not store.is_unchanged(doc)
    add(store, doc)
    assert store.is_unchanged(load("apparatus"))
    assert not store.is_unchanged(load("apparatus", title="Retitled"))


def test_a_concurrent_ingest_never_sweeps_chunks_being_written(settings, embedder, store, monkeypatch):
    """Writer A has added its chunks but not switched yet; writer B (another process or app
    thread) starts an ingest, which sweeps orphans. A's chunks must survive and go live."""
    other = Store(load_settings(home=settings.home), embedder)
    real_switch = Manifest.switch
    swept: list[int] = []

    def switch_after_the_other_writer(self, **kwargs):
        if self is store.manifest and not swept:
            swept.append(other.sweep_orphans())
            add(other, load("beta", {"Kronstadt": "The sailors rose in March 1921."}))
        return real_switch(self, **kwargs)

    monkeypatch.setattr(Manifest, "switch", switch_after_the_other_writer)
    add(store, load("alpha"))
    assert swept == [0]
    for reader in (store, other):
        assert set(stored_ids(reader)) == reader.live_ids()
        assert {p.doc_id for p in reader.chunks()} == {"alpha", "beta"}
        assert reader.dense_search("General Secretary appointments", k=1)[0].doc_id == "alpha"


def test_a_dead_writers_chunks_are_swept_after_the_grace_period(store, monkeypatch):
    import tutor.store

    doc = load("alpha")
    [prepared] = store.prepare([doc])
    ids = [c.id for c in prepared.chunks]
    # What a killed process leaves: chunks marked as being written, added, never switched.
    store.manifest.mark_pending(ids)
    store._add(prepared.chunks, store.embed(prepared.chunks))
    assert store.sweep_orphans() == 0 and len(stored_ids(store)) == 3
    monkeypatch.setattr(tutor.store, "PENDING_GRACE_S", 0.0)
    assert store.sweep_orphans() == 3 and stored_ids(store) == []
    assert store.manifest.pending_chunk_ids(newer_than=0) == set()
