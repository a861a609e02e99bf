"""Loaders: every supported format from files made here, and one clear error per bad input."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from tutor import documents
from tutor.chunking import chunk_document
from tutor.documents import read_document, safe_filename, slugify
from tutor.errors import DocumentError

MD = """---
id: Event Ban On Factions
title: "The 1921 ban on factions"
kind: event
period: [1921, 1921]
tags: [tenth-congress, party-unity]
author: "Tenth Congress"
---
# The ban

## Background
In March 1921 the Tenth Congress met while Kronstadt rose.

## The resolution
Point 7 stayed secret until 1924.
"""


def make_pdf(pages: list[str], *, user_password: str | None = None, owner_password: str | None = None,
             blank_pages: int = 0, image_only: bool = False) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    for _ in range(blank_pages):
        pdf.add_page()
    if image_only:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (400, 100), "white")
        ImageDraw.Draw(image).text((10, 40), "A scanned page of text", fill="black")
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=150)
    if user_password is not None or owner_password is not None:
        pdf.set_encryption(owner_password=owner_password or "owner", user_password=user_password)
    return bytes(pdf.output())


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Trotsky's mistakes", 0)
    document.add_heading("Illness in 1923", 1)
    document.add_paragraph("Trotsky was ill during the autumn of 1923 and missed key meetings.")
    document.add_paragraph("   ")
    document.add_heading("Lenin's funeral", 2)
    document.add_paragraph("He did not return from the Caucasus for the funeral in January 1924.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Event"
    table.cell(1, 0).text, table.cell(1, 1).text = "1925", "Removed as War Commissar"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def zip_of_zeros(megabytes: int, level: int = 1) -> bytes:
    """A small zip whose one member unpacks to `megabytes` MB of zeros, written in 1 MB chunks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        with archive.open("word/document.xml", "w") as member:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
    return buf.getvalue()


def error_for(name: str, data: bytes, **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        read_document(name, data, **kwargs)
    err = info.value
    # One line, naming the file first, with the reason after it.
    assert str(err) == f"{err.filename}: {err.reason}"
    assert "\n" not in str(err)
    return err


# -- formats ---------------------------------------------------------------------------------

def test_markdown_front_matter_gives_id_title_kind_and_metadata():
    doc = read_document("notes.md", MD.encode())
    assert doc.doc_id == "event-ban-on-factions"  # normalised from the front-matter id
    assert doc.title == "The 1921 ban on factions"
    assert doc.kind == "event"
    assert doc.metadata == {"period": [1921, 1921], "tags": ["tenth-congress", "party-unity"],
                            "author": "Tenth Congress"}
    assert doc.is_markdown and doc.ext == ".md"
    assert not doc.text.startswith("---") and "Point 7 stayed secret" in doc.text
    chunks = chunk_document(doc, size=1200, overlap=150)
    assert {c.metadata["section"] for c in chunks} == {"Background", "The resolution"}
    assert chunks[0].metadata["period_start"] == 1921 and chunks[0].metadata["tags"] == "tenth-congress, party-unity"
    assert chunks[0].search_text.startswith("The 1921 ban on factions — Background\n")


def test_content_hash_identifies_the_version():
    a = read_document("a.md", MD.encode())
    b = read_document("b.md", MD.encode())
    c = read_document("a.md", MD.replace("1924", "1925").encode())
    assert a.content_hash == b.content_hash != c.content_hash
    assert a.doc_id == c.doc_id


@pytest.mark.parametrize(("name", "doc_id", "title"), [
    ("My Notes (v2).md", "my-notes-v2", "My Notes (v2)"),
    ("Trotsky_Mistakes.TXT", "trotsky-mistakes", "Trotsky Mistakes"),
    ("Œuvres-complètes.markdown", "oeuvres-completes", "Œuvres complètes"),
])
def test_id_without_front_matter_is_the_normalised_filename(name, doc_id, title):
    doc = read_document(name, b"Some text about 1924.")
    assert (doc.doc_id, doc.title, doc.kind) == (doc_id, title, "other")


def test_plain_text():
    doc = read_document("notes.txt", b"Line one\r\nLine two\x07\r\n\r\nLine three\n")
    assert doc.text == "Line one\nLine two\n\nLine three"  # newlines normalised, control chars dropped
    assert not doc.is_markdown and doc.sections[0].page is None
    # No front matter in a .txt: the dashes are text.
    assert read_document("fm.txt", b"---\nid: x\n---\nbody").doc_id == "fm"


def test_pdf_pages_are_kept():
    data = make_pdf(["Stalin became General Secretary in April 1922.",
                     "Lenin's Testament was read to delegations in May 1924."], blank_pages=1)
    doc = read_document("Power Struggle.pdf", data)
    assert doc.doc_id == "power-struggle" and doc.ext == ".pdf"
    assert [s.page for s in doc.sections] == [1, 2]  # the blank third page adds nothing
    assert "General Secretary" in doc.sections[0].text and "Testament" in doc.sections[1].text
    chunks = chunk_document(doc, size=1200, overlap=150)
    assert [c.metadata["page"] for c in chunks] == [1, 2]


def test_pdf_with_owner_password_only_is_readable():
    doc = read_document("open.pdf", make_pdf(["Readable although protected against editing."],
                                             owner_password="owner"))
    assert "Readable" in doc.text


def test_docx_headings_become_markdown_sections():
    doc = read_document("mistakes.docx", make_docx())
    lines = doc.text.split("\n\n")
    assert lines[0] == "# Trotsky's mistakes"
    # Title and Heading 1 are both top level; Heading 2 one below.
    assert "# Illness in 1923" in lines and "## Lenin's funeral" in lines
    assert "1925 | Removed as War Commissar" in lines
    assert doc.is_markdown
    sections = {c.metadata.get("section") for c in chunk_document(doc, 1200, 150)}
    assert {"Illness in 1923", "Lenin's funeral"} <= sections


def test_html_drops_script_and_style_and_keeps_headings():
    html = b"""<html><head><title>The Triumvirate</title><style>p {color: red}</style>
    <script>alert('x'); var secret = 1;</script></head>
    <body><h1>Triumvirate</h1><p>Stalin, Zinoviev and Kamenev joined against Trotsky.</p>
    <noscript>enable js</noscript><h2>Why</h2><p>They feared him as a Bonaparte.</p></body></html>"""
    doc = read_document("triumvirate.html", html)
    assert doc.title == "The Triumvirate"
    assert "alert" not in doc.text and "color" not in doc.text and "enable js" not in doc.text
    assert "# Triumvirate" in doc.text and "## Why" in doc.text
    assert "Bonaparte" in doc.text
    assert read_document("page.htm", b"<p>short page</p>").doc_id == "page"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_text_encodings(encoding):
    text = "---\ntitle: “Café” – Lenin’s testament\n---\nTrotsky’s “grey blur” – naïve, 1924 €5."
    doc = read_document("enc.md", text.encode(encoding))
    assert doc.title == "“Café” – Lenin’s testament"
    assert doc.text == "Trotsky’s “grey blur” – naïve, 1924 €5."


RUSSIAN = ("Сталин стал генеральным секретарём в апреле 1922 года. Троцкий недооценил его и считал "
           "\"серой посредственностью\".\nЗавещание Ленина не было опубликовано.")


@pytest.mark.parametrize("encoding,note", [
    ("cp1251", "read as Windows-1251 (Cyrillic), not UTF-8"),
    ("koi8-r", "read as KOI8-R (Cyrillic), not UTF-8"),
    ("utf-16-le", "read as UTF-16 (no byte-order mark), not UTF-8"),
    ("utf-16-be", "read as UTF-16 (no byte-order mark), not UTF-8"),
])
def test_cyrillic_and_bomless_utf16_are_read_and_reported(encoding, note):
    doc = read_document("stalin.txt", RUSSIAN.encode(encoding))
    assert doc.text == RUSSIAN
    assert doc.notes == [note]


def test_bomless_utf16_english_is_text_not_binary():
    text = "Stalin became General Secretary in April 1922; few saw what the post could do."
    assert read_document("notes.txt", text.encode("utf-16-le")).text == text


def test_western_text_is_read_as_windows_1252_not_a_lookalike():
    # The detector alone prefers cp1257 here, which turns "déjà" into "dėją".
    text = "Lenin’s Testament was read to the delegations – never published. " * 4 + "Ébauche, déjà vu, Größe."
    doc = read_document("notes.txt", text.encode("cp1252"))
    assert doc.text == text and doc.notes == ["read as Windows-1252, not UTF-8"]


def test_html_declared_charset_is_used():
    page = f'<html><head><meta charset="koi8-r"><title>Сталин</title></head><body><p>{RUSSIAN}</p></body></html>'
    doc = read_document("page.html", page.encode("koi8-r"))
    assert doc.title == "Сталин" and "серой посредственностью" in doc.text


def test_encoding_that_cannot_be_told_is_refused():
    # Fifteen Cyrillic letters read as cleanly in three Cyrillic code pages, differently in each.
    err = error_for("short.txt", "Сталин победил.".encode("cp1251"))
    assert "cannot tell the text's encoding for sure" in err.reason and "Windows-1251" in err.reason
    assert "re-save it as UTF-8" in err.reason


def test_utf8_is_not_reported():
    assert read_document("notes.txt", RUSSIAN.encode()).notes == []


# -- bad input: one error each, naming the file ----------------------------------------------

def test_unsupported_extension():
    err = error_for("slides.pptx", b"PK\x03\x04 data")
    assert err.filename == "slides.pptx" and "unsupported file type '.pptx'" in err.reason
    assert "unsupported file type '(none)'" in error_for("README", b"text").reason


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  "])
def test_empty_or_whitespace_file(data):
    assert error_for("empty.md", data).reason == "file is empty"


def test_front_matter_only_has_no_text():
    assert "no text to index" in error_for("only-meta.md", b"---\ntitle: x\n---\n\n").reason


def test_over_size_limit():
    err = error_for("big.txt", b"x" * (2 * 1024 * 1024 + 1), max_bytes=1024 * 1024)
    assert "over the 1 MB limit" in err.reason and "TUTOR_MAX_UPLOAD_MB" in err.reason
    assert read_document("ok.txt", b"x" * 1024, max_bytes=1024).doc_id == "ok"  # at the limit is fine


def test_binary_and_undecodable_text():
    assert "binary file" in error_for("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").reason
    # 0x81 and 0x8d are neither UTF-8 nor defined in cp1252.
    err = error_for("weird.md", b"caf\x81 \x8d text")
    assert "cannot tell the text's encoding" in err.reason and "re-save it as UTF-8" in err.reason
    assert err.filename == "weird.md"
    assert "not UTF-16" in error_for("odd.txt", b"\xff\xfeA").reason


def test_malformed_pdf():
    for data in (b"this is not a pdf at all", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage",
                 make_pdf(["cut short"])[:300]):
        err = error_for("broken.pdf", data)
        assert err.reason.startswith("malformed PDF"), err.reason


def test_encrypted_pdf():
    err = error_for("locked.pdf", make_pdf(["Secret minutes"], user_password="s3cret"))
    assert err.reason.startswith("PDF is encrypted")


@pytest.mark.parametrize("kind", ["blank", "image"])
def test_pdf_without_text_layer(kind):
    data = make_pdf([], blank_pages=2) if kind == "blank" else make_pdf([], image_only=True)
    assert error_for("scan.pdf", data).reason.startswith("scanned PDF: no text to index")


def test_docx_that_is_not_a_zip():
    err = error_for("essay.docx", b"This was saved as plain text with a .docx name.")
    assert "not a valid .docx (it is not a zip archive)" in err.reason


def test_zip_without_word_document():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "no word/document.xml" in error_for("renamed.docx", buf.getvalue()).reason


def test_docx_with_broken_xml():
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as good, zipfile.ZipFile(buf, "w") as bad:
        for info in good.infolist():
            data = good.read(info)
            bad.writestr(info, b"<w:document><unclosed>" if info.filename == "word/document.xml" else data)
    assert "contains broken XML" in error_for("broken.docx", buf.getvalue()).reason


def test_docx_zip_bomb_small(monkeypatch):
    monkeypatch.setattr(documents, "MAX_DOCX_UNPACKED_BYTES", 2 * 1024 * 1024)
    err = error_for("bomb.docx", zip_of_zeros(4))
    assert "(a zip bomb?)" in err.reason


def test_docx_zip_bomb_ratio(monkeypatch):
    # 5 MB of zeros packs into about 5 KB: a thousand times, under the 6 MB limit on XML.
    data = zip_of_zeros(5, level=9)
    assert len(data) < 100_000
    assert "(a zip bomb?)" in error_for("bomb.docx", data).reason


def test_docx_zip_bomb_realistic():
    data = zip_of_zeros(250)  # 250 MB declared, about 1 MB on disk; about 0.6 s to build
    checked = time.perf_counter()
    err = error_for("bomb.docx", data)
    assert "(a zip bomb?)" in err.reason
    assert time.perf_counter() - checked < 0.5, "the size is read from the zip directory, not by unpacking"


def test_invalid_yaml_front_matter():
    err = error_for("bad-meta.md", b"---\ntitle: [unclosed\nkind: event\n---\nbody")
    assert "front matter is not valid YAML" in err.reason and "(line " in err.reason
    assert "key: value" in error_for("list-meta.md", b"---\n- a\n- b\n---\nbody").reason
    assert "kind 'speech'" in error_for("kind.md", b"---\nkind: speech\n---\nbody").reason


@pytest.mark.parametrize("name", ["../x.md", "a/b.md", "..\\x.md", ".hidden.md", "/etc/passwd.md",
                                  "C:\\x.md", "..", "", "x\x00.md"])
def test_names_with_path_parts_are_refused(name):
    with pytest.raises(DocumentError) as info:
        read_document(name, b"# Title\ntext")
    assert "\n" not in str(info.value)
    with pytest.raises(DocumentError):
        safe_filename(name)


def test_name_with_no_letters_or_digits():
    assert "cannot make a document id" in error_for("---.md", b"text").reason


def test_slugify():
    assert slugify("  Lenin's Testament (1922–23)!  ") == "lenin-s-testament-1922-23"
    assert slugify("Троцкий и Зиновьев") == "trotskii-i-zinov-ev"
    assert slugify("x" * 300) == "x" * 120
    assert slugify("a-" * 100).endswith("a")


def test_cyrillic_file_name_gets_an_id():
    assert read_document("Съезд партии.md", "Текст".encode()).doc_id == "s-ezd-partii"
