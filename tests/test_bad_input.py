"""Bad input, chat and uploads alike: each case gets a clear message, loses nothing, leaves
nothing partial in the store or manifest, and the service answers the next good request.

The chat cases run through the offline Tutor on the shared corpus; the upload cases run
through ``Library.ingest`` on a fresh store each.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor import documents
from tutor.services import build
from tutor.auth import local_operator
from tutor.library import Library, Upload
from tutor.settings import PROJECT_ROOT, load_settings, reset_settings
from tutor.store import Store

TEACHER = local_operator()
GOOD = Upload("good-notes.md", b"---\nid: good-notes\ntitle: Good notes\nkind: event\n---\n"
                               b"# The ban on factions\nThe Tenth Congress banned factions in March 1921.\n")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


# -- helpers -----------------------------------------------------------------------------------
def assert_nothing_partial(library: Library) -> None:
    """What Chroma holds is exactly what the manifest lists, and every kept original belongs
    to a live document (no half-written upload left behind)."""
    store = library.store
    stored = set(store.collection.get(include=[])["ids"])
    assert stored == store.manifest.live_chunk_ids()
    assert store.manifest.original_names() == {d.original for d in store.documents()}


def assert_still_works(library: Library) -> None:
    [result] = library.ingest(TEACHER, [GOOD])
    assert result.status in ("added", "unchanged"), result.line()
    assert library.store.chunks("good-notes")
    assert_nothing_partial(library)


def ingest_one(library: Library, name: str, data: bytes):
    [result] = library.ingest(TEACHER, [Upload(name, data)])
    assert_nothing_partial(library)
    return result


# -- chat --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def offline_tutor(corpus_home, embedder):
    from tutor.engine import Tutor

    settings = load_settings(home=corpus_home, rate_limit_per_minute=0, llm="offline")
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


LONG_CLAIM = "Stalin won because he controlled the party apparatus as General Secretary. " * 700  # ~52k chars
CHAT_CASES = {
    "empty": "",
    "whitespace-only": "   \n\t  \u3000 ",
    "50k-characters": LONG_CLAIM[:50_000],
    "50k-no-spaces": "a" * 50_000,
    "control-chars-and-nuls": "why did\x00 stalin\x07 win\x1b[31m the \x7f struggle\x00\x00",
    "script-tag": "<script>alert('x')</script> why did stalin win?",
    "html-attributes": "why did trotsky lose <img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">x</a>",
    "rtl-override-and-arabic": "\u202eniw nilats did yhw — لماذا فاز ستالين؟ למה סטלין ניצח",
    "emoji": "🤔🤔 why did stalin win 🚩☭",
    "zero-width": "why\u200b did\u200d st\u200balin\ufeff win the power struggle",
    "lone-surrogate": "why did stalin win \udcff\ud800 ?",
    "only-punctuation": "?????!!!!",
}


@pytest.mark.parametrize("message", list(CHAT_CASES.values()), ids=list(CHAT_CASES))
def test_chat_bad_input(offline_tutor, message):
    tutor = offline_tutor
    session = tutor.new_session()
    reply = tutor.reply(session, message)

    assert reply.text.strip(), "every message gets an answer"
    assert "<script" not in reply.text.lower() and "onerror" not in reply.text.lower()
    assert not _PLACEHOLDER.search(reply.text), f"template placeholder in the reply: {reply.text!r}"
    for turn in session.history:
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", turn["content"])
        turn["content"].encode("utf-8")  # storable
    if not message.strip():
        assert reply.move["kind"] == "empty" and session.history == []
        assert "Type a question" in reply.text
    else:
        assert [t["role"] for t in session.history] == ["user", "assistant"]
    if len(message) > 20_000:
        assert len(session.history[0]["content"]) <= 20_000
        assert reply.notice and "very long" in reply.notice

    # The conversation goes on normally.
    before = len(session.history)
    follow = tutor.reply(session, "Why did Stalin win the power struggle?")
    assert follow.text.rstrip().endswith("?") and follow.citations
    assert len(session.history) == before + 2
    session.to_dict()  # still serialisable for the sessions table


def _ui_files() -> list[Path]:
    files = sorted((PROJECT_ROOT / "tutor" / "ui").glob("*.py"))
    app = PROJECT_ROOT / "streamlit_app.py"
    return files + ([app] if app.is_file() else [])


def test_ui_never_renders_text_as_html():
    """No Streamlit call in the app turns text into HTML: no ``unsafe_allow_html=True``, no
    ``st.html`` or components HTML, except on a literal string written in the code."""
    files = _ui_files()
    assert files, "the Streamlit app is missing"
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                         for k in node.keywords)
            html_call = name.endswith((".html", "components.html")) and name.split(".")[0] in ("st", "components",
                                                                                                 "streamlit")
            # The sign-in cookie's script: built by teacher_token.cookie_script, which refuses any
            # character outside a token's own (tested there).
            own = [a for a in node.args if not isinstance(a, ast.Constant)]
            if own and all(ast.unparse(a).startswith("teacher_token.cookie_script(") for a in own):
                continue
            if (unsafe or html_call) and not all(isinstance(a, ast.Constant) for a in node.args):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not offenders, offenders


def test_ui_escapes_student_and_document_text():
    from tutor.ui.render import escape_markdown, highlight

    for text in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"):
        for shown in (escape_markdown(text), highlight(text, text[:10])):
            # Markdown shows a backslash-escaped character literally: no tag, no link survives.
            assert not re.search(r"(?<!\\)[<>]|(?<!\\)\]\(", shown), shown


# -- uploads -----------------------------------------------------------------------------------
def test_html_scripts_dropped_text_kept(library):
    page = (b"<html><head><title>The Lenin Enrolment</title><script>alert('x')</script>"
            b"<style>body{color:red}</style></head><body onload=\"alert(2)\">"
            b"<h1>Lenin Enrolment</h1><p>In 1924 the party admitted over 200,000 new members.</p>"
            b"<a href=\"javascript:alert(3)\">more</a><img src=x onerror=\"alert(4)\">"
            b"<iframe src=\"https://example.org\"></iframe><noscript>enable js</noscript></body></html>")
    result = ingest_one(library, "enrolment.html", page)
    assert result.status == "added", result.line()
    text = " ".join(p.text for p in library.store.chunks(result.doc_id))
    assert "200,000 new members" in text
    for bad in ("alert", "javascript", "onerror", "<script", "color:red", "enable js"):
        assert bad not in text
    assert_still_works(library)


def test_cp1252_text_is_read(library):
    data = "Trotsky’s “Lessons of October” – 1924, café".encode("cp1252")
    result = ingest_one(library, "lessons.txt", data)
    assert result.status == "added", result.line()
    text = library.store.chunks(result.doc_id)[0].text
    assert "Trotsky’s “Lessons of October” – 1924, café" in text
    assert_still_works(library)


@pytest.mark.parametrize("data,reason", [
    (b"Stalin \x81\x8d\x8f\x90\x9d notes", "cannot tell the text's encoding"),
    (b"Stalin\x00\x00\x00binary\x00", "binary file"),
    (b"\xff\xfeS\x00t\x00\xd8", "UTF-16"),
], ids=["undecodable-bytes", "nul-bytes-binary", "broken-utf16"])
def test_undecodable_text_fails_clearly(library, data, reason):
    result = ingest_one(library, "notes.txt", data)
    assert result.status == "failed" and reason in result.reason and "save it as UTF-8" in result.reason
    assert_still_works(library)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_docx_zip_bomb_refused(library):
    # 40 MB of zeros packs to ~40 kB: far past any real handout's ratio.
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (40 * 1024 * 1024)})
    assert len(bomb) < 200_000
    result = ingest_one(library, "handout.docx", bomb)
    assert result.status == "failed" and "zip bomb" in result.reason
    assert_still_works(library)


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", _zip({"readme.txt": b"hello"})],
                         ids=["not-a-zip", "zip-without-document"])
def test_docx_not_a_document(library, data):
    result = ingest_one(library, "essay.docx", data)
    assert result.status == "failed" and "not a valid .docx" in result.reason
    assert_still_works(library)


# Hand-built PDFs: each object at a known offset so the cross-reference table is exact.
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_PAGE = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>")


def _pdf(objects: dict[int, bytes], trailer: str = "") -> tuple[bytes, int]:
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for num, body in sorted(objects.items()):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets.get(i, 0):010d} 00000 n \n".encode() for i in range(1, size))
    out += f"trailer\n<< /Size {size} /Root 1 0 R {trailer} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out), xref_at


def _stream(data: bytes, compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
    head = b"<< /Length %d%s >>\nstream\n" % (len(data), b" /Filter /FlateDecode" if compress else b"")
    return head + data + b"\nendstream"


def circular_page_tree_pdf() -> bytes:
    return _pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"})[0]


def cyclic_prev_pdf() -> bytes:
    # The trailer's /Prev points back at its own cross-reference section.
    data, xref_at = _pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                          3: _PAGE, 4: _stream(b"BT /F1 12 Tf 72 720 Td (Prev loop) Tj ET"), 5: _FONT},
                         trailer="/Prev 0000000000")
    return data.replace(b"/Prev 0000000000", f"/Prev {xref_at:010d}".encode())


def self_referencing_pdf() -> bytes:
    return _pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"2 0 R"})[0]


def slow_pdf(pages: int = 200) -> bytes:
    """A ~7 kB PDF whose pages share one compressed content stream of 60,000 text operators:
    pypdf spends seconds per page on it, so unguarded it would read for many minutes."""
    ops = _stream(b"BT /F1 12 Tf 72 720 Td (x) Tj ET " * 60_000, compress=True)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: _FONT, 4: ops}
    kids = []
    for n in range(6, 6 + pages):
        objects[n] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                      b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{n} 0 R")
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    return _pdf(objects)[0]


@pytest.mark.parametrize("make", [circular_page_tree_pdf, self_referencing_pdf,
                                  lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage"],
                         ids=["circular-page-tree", "self-referencing-object", "truncated"])
def test_malformed_pdf_fails_clearly(library, make):
    result = ingest_one(library, "broken.pdf", make())
    assert result.status == "failed" and result.reason.startswith("malformed PDF"), result.line()
    assert "re-export" in result.reason
    assert_still_works(library)


def test_cyclic_xref_chain_finishes(library):
    # pypdf notices the loop and reads the one real section: either outcome is a finished read.
    result = ingest_one(library, "cycle.pdf", cyclic_prev_pdf())
    if result.status == "failed":
        assert result.reason.startswith("malformed PDF")
    else:
        assert result.status == "added" and "Prev loop" in library.store.chunks(result.doc_id)[0].text
    assert_still_works(library)


def test_pdf_that_keeps_the_reader_busy_is_stopped(library, monkeypatch):
    monkeypatch.setattr(documents, "PDF_TIME_LIMIT_S", 3.0)
    result = ingest_one(library, "slow.pdf", slow_pdf())
    assert result.status == "failed" and "took over 3 seconds" in result.reason, result.line()
    assert_still_works(library)


def test_duplicate_upload_in_one_batch(library):
    results = library.ingest(TEACHER, [GOOD, Upload("good-notes.md", GOOD.data)])
    assert [r.status for r in results] == ["added", "unchanged"]
    assert "same file twice" in results[1].reason
    assert library.store.manifest.get("good-notes").version == 1
    assert_nothing_partial(library)
    assert_still_works(library)


def test_two_files_same_name_in_one_batch(library):
    other = Upload("good-notes.md", GOOD.data.replace(b"March 1921", b"the spring of 1921"))
    results = library.ingest(TEACHER, [GOOD, other])
    assert [r.status for r in results] == ["added", "failed"]
    assert "another file in this batch has the document id 'good-notes'" in results[1].reason
    assert [d.content_hash for d in library.store.documents()] == [documents.read_document(GOOD.name, GOOD.data).content_hash]
    assert_nothing_partial(library)
    assert_still_works(library)


@pytest.mark.parametrize("name", ["../x.md", "..\\x.md", "/etc/passwd", "C:\\x.md", "C:x.md", "notes/../../x.md",
                                  "x\x00.md", ".env", "..", ""],
                         ids=["dotdot-posix", "dotdot-windows", "absolute-posix", "absolute-windows",
                              "drive-relative", "nested-dotdot", "nul-in-name", "hidden", "parent-dir", "no-name"])
def test_path_traversal_names_refused(library, tmp_path, name):
    result = ingest_one(library, name, b"# Notes\nStalin became General Secretary in 1922.\n")
    assert result.status == "failed"
    assert "path parts" in result.reason or "no usable name" in result.reason
    assert not list(library.settings.documents_dir.iterdir()) and not library.store.manifest.original_names()
    assert not (tmp_path / "x.md").exists() and not (library.settings.home.parent / "x.md").exists()
    assert_still_works(library)


@pytest.mark.parametrize("data,reason", [
    (b"---\nid: notes\ntitle: [unclosed\n---\nText about Stalin in 1922.\n", "front matter is not valid YAML"),
    (b"---\n- just\n- a list\n---\nText about Stalin in 1922.\n", "front matter must be key: value pairs"),
    (b"---\nid: notes\nkind: gossip\n---\nText about Stalin in 1922.\n", "kind 'gossip' is not one of"),
    (b"---\nid: notes\ntitle: Only front matter\n---\n", "no text to index"),
], ids=["invalid-yaml", "yaml-not-a-mapping", "unknown-kind", "front-matter-only"])
def test_bad_front_matter(library, data, reason):
    result = ingest_one(library, "notes.md", data)
    assert result.status == "failed" and reason in result.reason, result.line()
    assert_still_works(library)


@pytest.mark.parametrize("name", ["notes.exe", "notes", "notes.md.zip", "script.js"],
                         ids=["exe", "no-extension", "double-extension", "javascript"])
def test_unsupported_type(library, name):
    result = ingest_one(library, name, b"alert('x')")
    assert result.status == "failed" and "unsupported file type" in result.reason and ".md" in result.reason
    assert_still_works(library)


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n"], ids=["zero-bytes", "whitespace-only"])
def test_empty_file(library, data):
    result = ingest_one(library, "empty.md", data)
    assert result.status == "failed" and result.reason == "file is empty"
    assert_still_works(library)


def test_oversize_file(settings, embedder):
    small = load_settings(home=settings.home, max_upload_mb=1)
    library = Library(Store(small, embedder))
    big = b"# Notes\n" + b"Stalin became General Secretary in 1922. " * 40_000  # ~1.6 MB
    result = ingest_one(library, "big.md", big)
    assert result.status == "failed" and "over the 1 MB limit" in result.reason and "TUTOR_MAX_UPLOAD_MB" in result.reason
    assert_still_works(library)


def test_bad_files_do_not_stop_the_batch(library):
    batch = [Upload("../evil.md", b"# x\ntext"), Upload("empty.txt", b""), GOOD,
             Upload("bomb.docx", _zip({"word/document.xml": b"\0" * (40 * 1024 * 1024)})),
             Upload("broken.pdf", circular_page_tree_pdf())]
    results = library.ingest(TEACHER, batch)
    assert [r.status for r in results] == ["failed", "failed", "added", "failed", "failed"]
    assert [d.doc_id for d in library.store.documents()] == ["good-notes"]
    assert all(r.reason for r in results if r.status == "failed")
    assert_nothing_partial(library)


# -- lesson cards ------------------------------------------------------------------------------
@pytest.fixture
def broken_corpus(tmp_path) -> Path:
    """A corpus folder with one good card and one whose 'question' field is missing."""
    import yaml

    corpus = tmp_path / "corpus"
    (corpus / "lessons").mkdir(parents=True)
    (corpus / "sources").mkdir()
    good = (PROJECT_ROOT / "corpus" / "lessons" / "why-stalin-won.yaml").read_text(encoding="utf-8")
    (corpus / "lessons" / "why-stalin-won.yaml").write_text(good, encoding="utf-8")
    card = yaml.safe_load((PROJECT_ROOT / "corpus" / "lessons" / "ban-on-factions.yaml").read_text(encoding="utf-8"))
    del card["question"]
    (corpus / "lessons" / "broken-card.yaml").write_text(yaml.safe_dump(card), encoding="utf-8")
    return corpus


def test_lesson_card_missing_field(broken_corpus):
    from tutor.lessons import LessonError, load_lessons

    with pytest.raises(LessonError) as info:
        load_lessons(broken_corpus)
    assert any(p.startswith("broken-card.yaml: question:") for p in info.value.problems), info.value.problems
    assert "why-stalin-won.yaml" not in str(info.value)
    assert "tutor lessons check" in str(info.value)


def test_lessons_check_exits_1_naming_file_and_field(broken_corpus, monkeypatch):
    from tutor.cli import app

    monkeypatch.setenv("TUTOR_CORPUS_DIR", str(broken_corpus))
    reset_settings()
    result = CliRunner().invoke(app, ["lessons", "check"])
    assert result.exit_code == 1, result.output
    assert "broken-card.yaml: question:" in result.output
