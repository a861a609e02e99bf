"""A handout keeps its own title and its sentences whole: Word and PDF files made as a teacher's
word processor makes them (tests/handouts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts import RUNNING_HEAD, Handout, parse_markdown, to_docx, to_pdf
from tutor.chunking import chunk_document
from tutor.documents import read_document
from tutor.pedagogy.compose import sentences

ROOT = Path(__file__).resolve().parent.parent
MONEY = Handout("Money in the NEP: the chervonets and the end of the sovznak", [
    ("The chervonets, 1922", [
        "In November 1922 the State Bank began to issue the chervonets, a note backed by a reserve of gold "
        "and foreign currency. Because it was issued only against real assets, traders and peasants trusted "
        "it far more than the sovznak, which lost value every week of the inflation.",
        "The new note was a counterrevolutionary concession in the eyes of some Left communists, who wanted "
        "money to wither away; Sokolnikov answered that a stable currency was the precondition of the "
        "alliance with the peasantry.",
    ]),
    ("The end of the sovznak, 1924", [
        "The last stage came in February 1924, when the government stopped printing the sovznak and bought "
        "the remaining notes back at a fixed rate. As a result, the budget had to be balanced by taxes rather "
        "than by the printing press, and the financial discipline that followed strengthened the "
        "Commissariat of Finance against the industrial managers.",
    ]),
    ("Why did it matter?", [
        "The reform made NEP a market economy with a hard currency, so arguments about prices, the scissors "
        "and the tempo of industry became arguments about the budget. " * 3,
    ]),
])


def _sentences(doc) -> list[str]:
    return [" ".join(s.split()) for c in chunk_document(doc, 1200, 150) for s in sentences(c.text)]


def _want(handout: Handout) -> list[str]:
    return [" ".join(s.split()) for _, ps in handout.sections for p in ps for s in sentences(p)]


def test_docx_title_is_the_title_style_paragraph_not_the_file_name():
    doc = read_document("money 1924.docx", to_docx(MONEY))
    assert doc.title == MONEY.title
    assert doc.doc_id == "money-1924"


def test_docx_core_title_comes_first():
    doc = read_document("money.docx", to_docx(MONEY, core_title="The chervonets reform"))
    assert doc.title == "The chervonets reform"


@pytest.mark.parametrize(("name", "data", "title"), [
    ("notes.md", b"# The ban on factions\n\nIn March 1921 the Tenth Congress met.\n\n# Its use", "The ban on factions"),
    ("notes.md", b"Intro text.\n\n## Background\n\nMore.\n\n## Result\n\nEnd.", "notes"),
    ("notes.html", b"<html><body><h1>The Triumvirate</h1><p>In 1923.</p></body></html>", "The Triumvirate"),
    ("notes.txt", b"# Not a heading in plain text\n\nText.", "notes"),
])
def test_title_from_the_first_heading_and_the_file_name_last(name, data, title):
    assert read_document(name, data).title == title


def test_pdf_title_is_its_metadata_title():
    doc = read_document("german october.pdf", to_pdf(MONEY, metadata_title="Money and the NEP, 1922-1924"))
    assert doc.title == "Money and the NEP, 1922-1924"


@pytest.mark.parametrize("placeholder", [None, "Microsoft Word - money.docx", "untitled"])
def test_pdf_without_a_real_title_takes_its_first_large_line(placeholder):
    doc = read_document("money.pdf", to_pdf(MONEY, metadata_title=placeholder))
    assert doc.title == MONEY.title


def test_pdf_paragraphs_are_reflowed_with_headings_and_page_furniture_kept_out():
    doc = read_document("money.pdf", to_pdf(MONEY))
    got = _sentences(doc)
    # Every sentence of the handout whole: no line-break splits, hyphenated words rejoined.
    assert [s for s in _want(MONEY) if s not in got] == []
    assert not any("The end of the sovznak, 1924" in s for s in got)
    assert "The end of the sovznak, 1924 The last stage came" not in doc.text
    assert not any(RUNNING_HEAD in s or "Page 1" in s for s in got)
    # The heading names the section the passage comes from instead.
    sections = {c.metadata.get("section") for c in chunk_document(doc, 1200, 150)}
    assert {"The chervonets, 1922", "The end of the sovznak, 1924", "Why did it matter?"} <= sections
    assert all(c.metadata["page"] >= 1 for c in chunk_document(doc, 1200, 150))


def test_a_paragraph_across_a_page_break_stays_one_paragraph():
    handout = parse_markdown((ROOT / "corpus/eval/teacher_documents/nep-debates.md").read_text(encoding="utf-8"))
    doc = read_document("nep.pdf", to_pdf(handout, body_size=13))
    assert max(s.page for s in doc.sections) >= 2
    got = _sentences(doc)
    assert [s for s in _want(handout) if s not in got] == []
    assert not any(h in s for s in got for h in handout.headings)
