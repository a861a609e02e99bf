"""Teacher handouts as Word and PDF files, made here from a Markdown handout (tests and
benchmarks/document_reading_benchmark.py).

The PDF is set as a word processor would: a /Title in its metadata, the title printed large,
bold section headings, justified body text with long words hyphenated at line ends, a running header and a page-numbered footer on every page.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import yaml

RUNNING_HEAD = "History department handout"


@dataclass
class Handout:
    title: str
    sections: list[tuple[str, list[str]]]  # (heading, paragraphs)

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _ in self.sections]


def parse_markdown(text: str) -> Handout:
    """A handout from a Markdown file with a front-matter title and ## sections."""
    _, front, body = text.split("---", 2)
    title = yaml.safe_load(front)["title"]
    sections: list[tuple[str, list[str]]] = []
    for block in re.split(r"\n\s*\n", body.strip()):
        block = " ".join(block.split())
        if block.startswith("#"):
            sections.append((block.lstrip("#").strip(), []))
        elif block:
            if not sections:
                sections.append(("", []))
            sections[-1][1].append(block)
    return Handout(title, sections)


def to_docx(handout: Handout, *, core_title: str | None = None) -> bytes:
    """A Word file: the title as a Title-style paragraph, Heading 1 sections."""
    import docx

    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    document.add_heading(handout.title, 0)
    for heading, paragraphs in handout.sections:
        if heading:
            document.add_heading(heading, 1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _hyphenable(text: str) -> str:
    """Soft hyphens inside long words, where the line breaker may cut them (and print a hyphen)."""
    def soft(match: re.Match) -> str:
        word = match.group(0)
        return "\u00ad".join(word[i:i + 3] for i in range(0, len(word), 3))

    return re.sub(r"(?<![\w-])[a-z]{9,}(?![\w-])", soft, text)


def to_pdf(handout: Handout, *, metadata_title: str | None = "same", body_size: float = 11) -> bytes:
    """A PDF as described in the module's docstring. ``metadata_title=None`` leaves /Title out."""
    from fpdf import FPDF

    class _Page(FPDF):
        def header(self):
            self.set_font("helvetica", "I", 8)
            self.cell(0, 6, RUNNING_HEAD, align="R", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self):
            self.set_y(-15)
            self.set_font("helvetica", "", 8)
            self.cell(0, 8, f"Page {self.page_no()}", align="C")

    pdf = _Page(format="A4")
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(True, margin=22)
    if metadata_title is not None:
        pdf.set_title(handout.title if metadata_title == "same" else metadata_title)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 9, handout.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in handout.sections:
        if heading:
            pdf.set_font("helvetica", "B", 13)
            pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        pdf.set_font("helvetica", "", body_size)
        for paragraph in paragraphs:
            pdf.multi_cell(0, body_size * 0.5, _hyphenable(paragraph), align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())
