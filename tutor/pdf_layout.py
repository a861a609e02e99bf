"""A PDF's text as a reader sees it: paragraphs and headings, not the lines the page was set in.

pdfplumber gives each printed line with its position and its characters' fonts and sizes. From
those, the body text's size is the commonest one; a short line set larger (or bold, standing
alone) is a heading; a line in the top or bottom margin that repeats on other pages, or is a bare
page number, is page furniture and is dropped; the lines of a paragraph are joined (a word
hyphenated at a line end is rejoined) and a paragraph broken by a page break is carried over.

>>> from tutor.pdf_layout import Line, reflow
>>> lines = [Line(1, 50, 62, 18, False, "The chervonets"), Line(1, 80, 91, 11, False, "It was intro-"),
...          Line(1, 94, 105, 11, False, "duced in 1922 and")]
>>> [(b.heading, b.text) for b in reflow([lines], page_height=800)]
[(True, 'The chervonets'), (False, 'It was introduced in 1922 and')]
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Any

# A line this much larger than the body text, and no longer than a heading, is a heading.
HEADING_SIZE_RATIO = 1.12
MAX_HEADING_CHARS = 120
# The top and bottom of a page where running heads, footers and page numbers live.
MARGIN_SHARE = 0.09
# Margin lines set this much smaller than the body are running heads or footers.
SMALL_PRINT = 0.9
# A vertical gap this many times the usual line spacing starts a new paragraph.
PARAGRAPH_GAP = 1.45
# A line ending before this share of the column's width ends its paragraph (if it ends a sentence).
SHORT_LINE = 0.8
_PAGE_NUMBER = re.compile(r"^\W*(?:page|p\.)?\s*(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.I)
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
# A word broken at the line end: a letter then a hyphen (not a dash, not "1922-").
_HYPHENATED = re.compile(r"[A-Za-zÀ-ÿ]-$")
# Titles PDF writers put in /Title when the author set none.
_PLACEHOLDER_TITLE = re.compile(r"^(?:untitled|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|odt|tex|rtf))$",
                                re.I)


@dataclass(frozen=True)
class Line:
    """One printed line: its page, its vertical extent, its commonest character size, whether it
    is mostly bold, its text, and its left and right edges (0 when unknown)."""

    page: int
    top: float
    bottom: float
    size: float
    bold: bool
    text: str
    x0: float = 0.0
    x1: float = 0.0


@dataclass
class Block:
    """A heading or a paragraph, on the page where it starts."""

    page: int
    heading: bool
    text: str


def _font_is_bold(name: str) -> bool:
    return bool(re.search(r"bold|black|heavy|semibold|demi", name or "", re.I))


def page_lines(page: Any, number: int) -> list[Line]:
    """A pdfplumber page's lines, in reading order, each with its commonest character size."""
    lines: list[Line] = []
    for raw in page.extract_text_lines(return_chars=True, keep_blank_chars=False):
        chars = [c for c in raw["chars"] if c.get("text", "").strip()]
        text = " ".join(raw["text"].split())
        if not chars or not text:
            continue
        size = Counter(round(float(c.get("size", 0)), 1) for c in chars).most_common(1)[0][0]
        bold = sum(_font_is_bold(c.get("fontname", "")) for c in chars) > len(chars) / 2
        lines.append(Line(number, float(raw["top"]), float(raw["bottom"]), size, bold, text,
                          float(raw["x0"]), float(raw["x1"])))
    return lines


def _furniture_key(text: str) -> str:
    # "Money and the NEP — page 3" and "... page 4" are the same running footer.
    return re.sub(r"\d+", "#", text.lower()).strip()


def _furniture(pages: list[list[Line]], page_height: float) -> set[tuple[int, float]]:
    """(page, top) of each line that is page furniture: in a margin and a bare page number, a
    text that recurs in the margins of other pages, or set smaller than the body text."""
    margin = page_height * MARGIN_SHARE
    in_margin = [ln for page in pages for ln in page if ln.top < margin or ln.bottom > page_height - margin]
    recurring = Counter(_furniture_key(ln.text) for ln in in_margin)
    repeat = 2 if len(pages) > 1 else 10 ** 9
    body = body_size(pages)
    return {(ln.page, ln.top) for ln in in_margin
            if _PAGE_NUMBER.match(ln.text) or recurring[_furniture_key(ln.text)] >= repeat
            or ln.size < body * SMALL_PRINT}


def body_size(pages: list[list[Line]]) -> float:
    """The size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for ln in page:
            sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _is_heading(line: Line, body: float) -> bool:
    """A short line set larger than the body (a question is a heading too), or a bold line of
    body size that ends no sentence."""
    if len(line.text) > MAX_HEADING_CHARS or line.text.endswith((".", ";", ",")):
        return False
    if line.size >= body * HEADING_SIZE_RATIO:
        return True
    return line.bold and line.size >= body and not _SENTENCE_END.search(line.text)


def _join(paragraph: str, line: str) -> str:
    if not paragraph:
        return line
    if _HYPHENATED.search(paragraph) and line[:1].islower():
        return paragraph[:-1] + line
    return f"{paragraph} {line}"


def reflow(pages: list[list[Line]], page_height: float) -> list[Block]:
    """Headings and paragraphs from each page's lines (see the module's docstring)."""
    furniture = _furniture(pages, page_height)
    body = body_size(pages)
    blocks: list[Block] = []
    previous: Line | None = None
    for page in pages:
        kept = [ln for ln in page if (ln.page, ln.top) not in furniture]
        body_lines = [ln for ln in kept if ln.size == body]
        spacings = [b.top - a.top for a, b in zip(body_lines, body_lines[1:]) if 0 < b.top - a.top < 3 * body]
        spacing = median(spacings) if spacings else body * 1.2
        right = max((ln.x1 for ln in body_lines), default=0.0)
        left = min((ln.x0 for ln in body_lines), default=0.0)
        for line in kept:
            if _is_heading(line, body):
                if blocks and blocks[-1].heading and previous is not None and previous.size == line.size \
                        and line.top - previous.bottom < spacing:
                    blocks[-1].text += " " + line.text  # a heading set on two lines
                else:
                    blocks.append(Block(line.page, True, line.text))
                previous = line
                continue
            last = blocks[-1] if blocks else None
            new_paragraph = (
                last is None or last.heading
                or (previous is not None and previous.page == line.page
                    and line.top - previous.top > spacing * PARAGRAPH_GAP)
                or (previous is not None and right > left and previous.x1 < left + (right - left) * SHORT_LINE
                    and _SENTENCE_END.search(previous.text) is not None)
                # Across a page break a paragraph goes on unless the last one ended a sentence.
                or (previous is not None and previous.page != line.page and _SENTENCE_END.search(last.text))
            )
            if new_paragraph:
                blocks.append(Block(line.page, False, line.text))
            else:
                last.text = _join(last.text, line.text)
            previous = line
    return blocks


def title_of(metadata: dict[str, Any], blocks: list[Block]) -> str | None:
    """The PDF's own title: its /Title unless that is a writer's placeholder, else the first
    heading on the first page (the largest first, as a title page sets it)."""
    title = " ".join(str(metadata.get("Title") or "").split())
    if title and not _PLACEHOLDER_TITLE.match(title):
        return title
    first = [b for b in blocks if b.heading and b.page == blocks[0].page] if blocks else []
    return first[0].text if first else None


def read_layout(data: bytes) -> dict[str, Any]:
    """The blocks and title of a PDF's bytes, as JSON-ready values."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = [page_lines(page, n) for n, page in enumerate(pdf.pages, start=1)]
        height = float(pdf.pages[0].height) if pdf.pages else 792.0
        blocks = reflow(pages, height)
        metadata = dict(pdf.metadata or {})
    title = title_of(metadata, blocks)
    return {"blocks": [[b.page, b.heading, b.text] for b in blocks], "title": title}
