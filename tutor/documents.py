"""Reading uploaded or on-disk files into text plus metadata, with validation.

>>> doc = read_document("notes.md", b"---\\nid: notes\\ntitle: Notes\\n---\\n# Hi\\ntext")
>>> doc.doc_id, doc.title
('notes', 'Notes')

Every failure is a :class:`~tutor.errors.DocumentError` whose message names the file and says
what is wrong, so one bad file in a batch never stops the others.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable

import yaml

from tutor.errors import DocumentError
from tutor.hidden import DocxVisibility, docx_cell_texts, docx_visible_text, drop_hidden_html, drop_hidden_markdown

SUPPORTED_EXTENSIONS = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")
KINDS = ("overview", "event", "person", "idea", "historiography", "source-note", "skills", "other")
# A .docx is a zip of XML (and pictures). The whole course (45 handouts, 250 kB of text) as one
# .docx unpacks to 1.2 MB of XML, the largest single handout to 0.8 MB, compressed 3-4 to 1
# (benchmarks/hostile_upload_benchmark.py --measure-handouts); Word's own files are a few times
# larger. Past these limits it is a zip bomb, not a handout: python-docx holds every part in
# memory and builds a tree of every XML part (179 MB of XML took 4.8 GB and 7 minutes).
MAX_DOCX_XML_BYTES = 6 * 1024 * 1024  # 8 MB took 27 s to read on this busy 2-core machine
MAX_DOCX_UNPACKED_BYTES = 64 * 1024 * 1024  # pictures included (they do not compress)
MAX_DOCX_RATIO = 100  # of one part over 1 MB: Word's XML compresses 3-20 to 1
MAX_DOCX_PARTS = 2000
MAX_HIDDEN_PASSAGES = 200  # kept (for the instruction scan and the teacher) of those left out
# Reading one PDF may take this long and this much memory (see _read_pdf).
PDF_TIME_LIMIT_S = 120.0
PDF_MEMORY_LIMIT = 2 * 1024 ** 3
# Front matter is a few lines of key: value. Past these bounds it is not front matter but an
# attack on the parser (a YAML alias bomb expands 674 bytes into gigabytes).
MAX_FRONT_MATTER_CHARS = 16 * 1024
MAX_FRONT_MATTER_DEPTH = 3  # the mapping, a list in it, and nothing deeper
MAX_META_TEXT_CHARS = 2000
MAX_TAGS = 50
MAX_TITLE_CHARS = 300
# Every upload is read in a child process with these limits (see read_uploads); PDFs with the PDF ones.
READ_TIME_LIMIT_S = 30.0
READ_MEMORY_LIMIT = 1024 ** 3
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
# Control characters, and lone surrogates (undecodable bytes in a terminal argument): the
# tokenizer rejects them and they cannot be stored as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# libyaml's safe loader when PyYAML was built with it: the same rules, ten times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Section:
    """A run of text from one page and heading (PDF) or the whole file (other formats)."""

    text: str
    page: int | None = None
    # The heading the text stands under, kept out of the text itself (PDF).
    heading: str | None = None


@dataclass
class SourceDocument:
    """A file read into text, ready to chunk. ``content_hash`` identifies the version."""

    doc_id: str
    title: str
    kind: str
    filename: str
    ext: str
    content_hash: str
    sections: list[Section]
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""
    is_markdown: bool = False
    # Text a reader cannot see (hidden HTML, Markdown comments, hidden Word runs): not indexed.
    hidden: list[str] = field(default_factory=list)
    # What the upload result tells the teacher about the reading (encoding, ignored keys, hidden text).
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


# Letters NFKD does not reduce to ASCII. Cyrillic matters here: teachers name files
# "Троцкий.docx", and dropping every letter would leave no id at all.
_TRANSLITERATE = str.maketrans({
    "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
    "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i",
    **dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
               "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e iu ia".split())),
})


def slugify(name: str) -> str:
    """Normalise a file name or id to a doc id: lowercase ascii, digits and hyphens.

    >>> slugify("Lenin's Testament (1922–23)"), slugify("Œuvres"), slugify("Троцкий")
    ('lenin-s-testament-1922-23', 'oeuvres', 'trotskii')
    """
    name = unicodedata.normalize("NFKD", name.lower())
    name = "".join(c for c in name if not unicodedata.combining(c)).translate(_TRANSLITERATE)
    # Anything else that is not an ASCII letter or digit (dashes, quotes, other scripts) separates words.
    name = re.sub(r"[^a-z0-9]+", "-", name).strip("-")
    return name[:120].strip("-")


def safe_filename(name: str) -> str:
    """Return the name if it is a plain file name; refuse path parts and hidden names."""
    if not name or "\x00" in name:
        raise DocumentError(name or "(no name)", "file has no usable name")
    parts_posix = PurePosixPath(name).parts
    parts_win = PureWindowsPath(name).parts
    if len(parts_posix) != 1 or len(parts_win) != 1 or name in (".", "..") or name.startswith("."):
        raise DocumentError(
            name, "file name has path parts or is hidden; upload it under a plain name like notes.md"
        )
    return name


# Encodings a legacy history handout is plausibly in: Western and Central European Windows and
# ISO pages and the Cyrillic ones (Russian sources); UTF-16/32 without a byte-order mark apart.
# Restricting the detector to these keeps it from reading a short KOI8-R file as Shift-JIS.
_LEGACY_ENCODINGS = ["cp1252", "cp1250", "cp1257", "iso8859_15", "mac_roman", "cp1251", "koi8_r", "koi8_u",
                     "mac_cyrillic", "iso8859_5", "cp866"]
_WIDE_ENCODINGS = ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
_ENCODING_NAMES = {"cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1257": "Windows-1257",
                   "iso8859_15": "ISO-8859-15", "mac_roman": "Mac Roman", "cp1251": "Windows-1251 (Cyrillic)",
                   "koi8_r": "KOI8-R (Cyrillic)", "koi8_u": "KOI8-U (Cyrillic)", "mac_cyrillic": "Mac Cyrillic",
                   "iso8859_5": "ISO-8859-5 (Cyrillic)", "cp866": "DOS Cyrillic (cp866)",
                   "utf_16_le": "UTF-16 (no byte-order mark)", "utf_16_be": "UTF-16 (no byte-order mark)",
                   "utf_32_le": "UTF-32 (no byte-order mark)", "utf_32_be": "UTF-32 (no byte-order mark)"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# How much messier (charset-normalizer's mess ratio) a reading may be than the best one and still
# count as a rival; and the mess past which no reading is believable.
_RIVAL_MESS = 0.005
_WESTERN_MESS = 0.05
_RIVAL_COHERENCE = 0.05
_MAX_MESS = 0.2


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name

    @property
    def note(self) -> str | None:
        """What the upload result says about the encoding (nothing for UTF-8)."""
        if self.encoding in ("utf-8", "utf-8-sig", "ascii"):
            return None
        return f"read as {_ENCODING_NAMES.get(self.encoding, self.encoding)}, not UTF-8"


def detect_text(filename: str, data: bytes, declared: str | None = None) -> Decoded:
    """Decode bytes: a byte-order mark, then UTF-8, then a declared charset (HTML), then
    charset-normalizer over the plausible legacy encodings. Refuses binary data, and text whose
    encoding cannot be told with confidence, rather than index mojibake."""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            try:
                return Decoded(data.decode(codec), codec)
            except UnicodeDecodeError:
                label = codec.upper().replace("-SIG", "")
                raise DocumentError(filename, f"text has a {label} byte-order mark but is not {label}; "
                                              "re-save it as UTF-8") from None
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    if b"\x00" in data[:8192]:
        # No text but UTF-16/32 has NUL bytes: it is that (Notepad's "Unicode" without a mark) or binary.
        wide = from_bytes(data, cp_isolation=_WIDE_ENCODINGS).best()
        if wide is None or wide.chaos > _MAX_MESS:
            raise DocumentError(filename, "looks like a binary file, not text; save it as UTF-8 text")
        return Decoded(str(wide), wide.encoding)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return Decoded(data.decode(declared), codecs.lookup(declared).name)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common: detect instead
    matches = list(from_bytes(data, cp_isolation=_LEGACY_ENCODINGS))
    if not matches:
        raise DocumentError(filename, "text is in no encoding the tutor can read; re-save it as UTF-8")
    best = matches[0]
    # The course is in English: a Windows-1252 reading as clean as the detector's favourite is the
    # right one (the detector cannot tell cp1252 from cp1257 on English text, but accents differ).
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and mess_ratio(western) <= best.chaos + _WESTERN_MESS:
        return Decoded(western, "cp1252")
    if best.chaos > _MAX_MESS:
        raise DocumentError(filename, "text does not decode cleanly in any known encoding (binary, or damaged?); "
                                      "re-save it as UTF-8")
    text = str(best)
    rivals = [m for m in matches[1:] if m.chaos <= best.chaos + _RIVAL_MESS
              and m.coherence >= best.coherence - _RIVAL_COHERENCE and str(m) != text]
    if rivals:
        names = ", ".join(_ENCODING_NAMES.get(m.encoding, m.encoding) for m in [best, *rivals[:2]])
        raise DocumentError(filename, f"cannot tell the text's encoding for sure (it reads as {names}); "
                                      "re-save it as UTF-8")
    return Decoded(text, best.encoding)


def decode_text(filename: str, data: bytes) -> str:
    """The text of a file's bytes (see :func:`detect_text`)."""
    return detect_text(filename, data).text


def clean_text(text: str) -> str:
    """Drop control characters and NULs, normalise newlines and Unicode form."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _bounded_yaml(filename: str, block: str) -> Any:
    """Parse front matter refusing what no handout needs and an attacker does: anchors and
    aliases (the alias bomb), nesting past a list in a mapping, and blocks over 16 kB.
    The event stream is checked before anything is built, so nothing is ever expanded."""
    if len(block) > MAX_FRONT_MATTER_CHARS:
        raise DocumentError(filename, f"front matter is over {MAX_FRONT_MATTER_CHARS // 1024} kB; keep it to the "
                                      "keys id, title, kind, period, tags, author, date, provenance, purpose, audience")
    depth = 0
    for event in yaml.parse(block, Loader=YAML_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DocumentError(filename, "front matter uses YAML anchors or aliases (& or *); write each value out")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise DocumentError(filename, "front matter is nested too deeply; use plain key: value pairs "
                                              "and simple lists like tags: [a, b]")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.load(block, Loader=YAML_LOADER)


def _split_front_matter(filename: str, text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = _bounded_yaml(filename, match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise DocumentError(filename, f"front matter is not valid YAML{where}; fix it or remove the --- block") from None
    if not isinstance(meta, dict):
        raise DocumentError(filename, "front matter must be key: value pairs")
    return meta, text[match.end():]


def _meta_text(filename: str, key: str, value: Any) -> str:
    # YAML reads `date: 1921-03-08` as a date and `title: 1922` as a number; both are text here.
    if isinstance(value, (list, tuple, dict, set)):
        raise DocumentError(filename, f"front matter '{key}' must be text, not a list or mapping")
    text = clean_text(str(value)).strip()
    if len(text) > MAX_META_TEXT_CHARS:
        raise DocumentError(filename, f"front matter '{key}' is over {MAX_META_TEXT_CHARS} characters; shorten it")
    return text


def _meta_period(filename: str, value: Any) -> list[int]:
    years = value if isinstance(value, list) else [value]
    try:
        if 1 <= len(years) <= 2 and all(not isinstance(y, (bool, list, dict)) for y in years):
            out = [int(str(y).strip()) for y in years]
            if all(0 < y < 3000 for y in out) and out[0] <= out[-1]:
                return [out[0], out[-1]]
    except ValueError:
        pass
    raise DocumentError(filename, "front matter 'period' must be a year or [first, last] years, e.g. [1921, 1924]")


def _meta_tags(filename: str, value: Any) -> list[str]:
    tags = value if isinstance(value, list) else [value]
    if len(tags) > MAX_TAGS or any(isinstance(t, (list, dict)) for t in tags):
        raise DocumentError(filename, f"front matter 'tags' must be a list of at most {MAX_TAGS} words, e.g. [nep, party]")
    return [t for t in (_meta_text(filename, "tags", tag) for tag in tags if tag is not None) if t]


# The front matter the tutor uses (corpus/README.md), each key with its reader. Other keys are
# ignored, and the upload result says so.
_META_READERS: dict[str, Callable[[str, str, Any], Any]] = {
    **{key: _meta_text for key in ("id", "title", "kind", "author", "date", "provenance", "purpose", "audience")},
    "period": lambda filename, key, value: _meta_period(filename, value),
    "tags": lambda filename, key, value: _meta_tags(filename, value),
}


def _known_meta(filename: str, meta: dict[Any, Any]) -> tuple[dict[str, Any], list[str]]:
    """The known keys, each checked and of its type; the names of the ignored ones."""
    known: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in meta.items():
        reader = _META_READERS.get(key) if isinstance(key, str) else None
        if reader is None:
            ignored.append(clean_text(str(key))[:40])
        elif value is not None:
            known[key] = reader(filename, key, value)
    return known, ignored


def _pdf_pages(data: bytes) -> dict[str, Any]:
    """Each page's raw text, or why there is none. Runs in the child process of :func:`_read_pdf`."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            # pypdf raises NotImplementedError for encryption schemes it cannot open: treat the
            # file as encrypted, like a wrong password.
            except (PyPdfError, NotImplementedError, ValueError):
                ok = 0
            if not ok:
                return {"encrypted": True}
        return _pdf_layout_or_pages(data, reader)
    except (PdfReadError, PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OSError, RecursionError, ZeroDivisionError, AssertionError, MemoryError) as exc:
        # pypdf signals malformed files through a wide range of exception types.
        return {"malformed": type(exc).__name__}


def _pdf_layout_or_pages(data: bytes, reader) -> dict[str, Any]:
    """The PDF's paragraphs, headings and title from its layout (:mod:`tutor.pdf_layout`); pypdf's
    plain page text where pdfminer cannot read the layout (its own damaged-file errors)."""
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    from tutor.pdf_layout import read_layout

    # pypdf walks the page tree first: a loop in it (which pdfminer quietly reads as no pages) is
    # a malformed file, not a scanned one.
    len(reader.pages)
    try:
        return read_layout(data)
    except (PSException, PdfminerException, MalformedPDFException):
        return {"pages": [page.extract_text() or "" for page in reader.pages]}


def _pdf_child() -> None:
    """``python -m tutor.documents --pdf-pages``: PDF bytes on stdin, JSON on stdout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (PDF_MEMORY_LIMIT, PDF_MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on every platform; the time limit still holds
        pass
    sys.stdout.write(json.dumps(_pdf_pages(sys.stdin.buffer.read())))


def _read_pdf(filename: str, data: bytes) -> tuple[list[Section], str | None]:
    """The PDF's sections and its own title (None if it has none)."""
    if _IN_READER_CHILD:  # already inside read_upload's limited child process
        return _pdf_sections(filename, _pdf_pages(data))
    # pypdf runs in a child process with a time and memory limit: a few kB of crafted PDF can
    # keep it busy for hours (long compressed content streams on many pages), and a thread
    # cannot be stopped. The child is killed at the limit and the upload gets a clear error.
    try:
        done = subprocess.run([sys.executable, "-m", "tutor.documents", "--pdf-pages"], input=data,
                              capture_output=True, timeout=PDF_TIME_LIMIT_S, check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError(filename, f"reading the PDF took over {PDF_TIME_LIMIT_S:g} seconds (malformed or "
                                      "hostile file?); re-export it from the original") from None
    except OSError as exc:
        raise DocumentError(filename, f"cannot start the PDF reader ({exc.strerror}); try again") from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise DocumentError(filename, f"malformed PDF (the reader stopped, exit code {done.returncode}); "
                                      "re-export it from the original") from None
    return _pdf_sections(filename, result)


def _pdf_sections(filename: str, result: dict[str, Any]) -> tuple[list[Section], str | None]:
    if result.get("encrypted"):
        raise DocumentError(filename, "PDF is encrypted; save an unprotected copy and upload that")
    if "malformed" in result:
        raise DocumentError(filename, f"malformed PDF ({result['malformed']}); re-export it from the original")
    if "blocks" in result:
        sections = _sections_from_blocks(result["blocks"])
    else:
        sections = [Section(text=text, page=number) for number, raw in enumerate(result["pages"], start=1)
                    if (text := clean_text(raw).strip())]
    if not sections:
        raise DocumentError(filename, "scanned PDF: no text to index (run OCR on it first)")
    return sections, result.get("title")


def _sections_from_blocks(blocks: list[list[Any]]) -> list[Section]:
    """One section per run of paragraphs under one heading on one page; paragraphs apart by a
    blank line, the heading kept out of the text (it is the section's name)."""
    sections: list[Section] = []
    heading: str | None = None
    for page, is_heading, raw in blocks:
        text = clean_text(raw).strip()
        if not text:
            continue
        if is_heading:
            heading = text[:MAX_META_TEXT_CHARS]
        elif sections and sections[-1].page == page and sections[-1].heading == heading:
            sections[-1].text += "\n\n" + text
        else:
            sections.append(Section(text=text, page=page, heading=heading))
    return sections


def check_docx_archive(filename: str, data: bytes) -> None:
    """Refuse a .docx whose zip directory says it unpacks past what any handout does, before a
    byte is unpacked. The directory cannot lie about it: zipfile stops each part at its declared
    size and fails its checksum if there is more."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(filename, "not a valid .docx (it is not a zip archive); re-save it from Word")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DocumentError(filename, "not a valid .docx (a damaged zip archive); re-save it from Word") from None
    xml = [p for p in parts if p.filename.lower().endswith((".xml", ".rels"))]
    xml_bytes = sum(p.file_size for p in xml)
    refuse = ("the .docx unpacks to {what}, more than any handout (a zip bomb?); re-save it from Word, or split "
              "it, or save it as PDF")
    if len(parts) > MAX_DOCX_PARTS:
        raise DocumentError(filename, refuse.format(what=f"{len(parts)} parts (limit {MAX_DOCX_PARTS})"))
    if xml_bytes > MAX_DOCX_XML_BYTES:
        raise DocumentError(filename, refuse.format(
            what=f"{xml_bytes / 1048576:.0f} MB of XML (limit {MAX_DOCX_XML_BYTES // 1048576} MB)"))
    unpacked = sum(p.file_size for p in parts)
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise DocumentError(filename, refuse.format(
            what=f"{unpacked / 1048576:.0f} MB (limit {MAX_DOCX_UNPACKED_BYTES // 1048576} MB)"))
    for part in xml:
        if part.file_size > 1024 * 1024 and part.file_size > MAX_DOCX_RATIO * max(part.compress_size, 1):
            raise DocumentError(filename, refuse.format(
                what=f"a part {part.file_size // max(part.compress_size, 1)} times its packed size"))
    if "word/document.xml" not in {p.filename for p in parts}:
        raise DocumentError(filename, "not a valid .docx (no word/document.xml); re-save it from Word")


def _read_docx(filename: str, data: bytes, hidden: list[str]) -> tuple[str, str | None]:
    """The document as Markdown (headings as #) and its own title: the core properties' title,
    else the first Title-style paragraph."""
    check_docx_archive(filename, data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(filename, f"not a valid .docx ({type(exc).__name__}); re-save it from Word") from None
    except XMLSyntaxError as exc:
        if "NO_MEMORY" in str(getattr(exc, "error_log", "")):  # lxml reports running out of memory as broken XML
            raise MemoryError(str(exc)) from None
        raise DocumentError(filename, "the .docx contains broken XML; re-save it from Word") from None
    title = clean_text(document.core_properties.title or "").strip() or None
    lines: list[str] = []
    visibility = DocxVisibility(document)
    for paragraph in document.paragraphs:
        text = docx_visible_text(visibility, paragraph, hidden).strip()
        if not text:
            continue
        style = visibility.style_name(paragraph)
        if style.startswith("heading"):
            level = style.removeprefix("heading").strip()
            hashes = "#" * (int(level) if level.isdigit() and 0 < int(level) < 7 else 2)
            lines.append(f"{hashes} {text}")
        elif style == "title":
            title = title or text
            lines.append(f"# {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [text.strip() for text in docx_cell_texts(visibility, row, hidden) if text.strip()]
            if cells:
                lines.append(" | ".join(cells))
    return "\n\n".join(lines), title


def _declared_charset(data: bytes) -> str | None:
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", data[:4096], re.I)
    return match.group(1).decode("ascii") if match else None


def _read_html(filename: str, data: bytes, hidden: list[str]) -> tuple[str, str | None, Decoded]:
    from bs4 import BeautifulSoup

    decoded = detect_text(filename, data, declared=_declared_charset(data))
    soup = BeautifulSoup(decoded.text, "html.parser")
    # Before the style sheets go: their rules say which classes are hidden.
    hidden.extend(drop_hidden_html(soup))
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    text = soup.get_text("\n")
    text = re.sub(r"\n\s*\n+", "\n\n", text)
    return text, title, decoded


_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


def first_heading(markdown: str) -> str | None:
    """A Markdown text's title: a heading that opens the text, or the one heading at the top
    level. A section heading among others of its level is no title.

    >>> first_heading("# The ban on factions\\n\\nIn 1921 ...\\n\\n# Its use")
    'The ban on factions'
    >>> first_heading("Intro\\n\\n## Background\\n\\n# The ban on factions\\n"), first_heading("Intro\\n\\n## A\\n\\n## B")
    ('The ban on factions', None)
    """
    found = list(_HEADING_LINE.finditer(markdown))
    if not found:
        return None
    if not markdown[:found[0].start()].strip():
        return found[0].group(2).strip()
    top = min(len(m.group(1)) for m in found)
    at_top = [m.group(2).strip() for m in found if len(m.group(1)) == top]
    return at_top[0] if len(at_top) == 1 else None


def check_size(filename: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DocumentError(
            filename,
            f"file is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB limit "
            "(TUTOR_MAX_UPLOAD_MB); split it or raise the limit",
        )


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, checked before reading: a regular file within the size limit. The check
    is made on the opened descriptor (opened non-blocking), so a FIFO named notes.md cannot
    block and /dev/zero cannot fill memory, even if the name is swapped after a look."""
    name = path.name or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read it ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = next((label for test, label in _NOT_REGULAR if test(info.st_mode)), "not a regular file")
        raise DocumentError(name, f"it is {what}, not a regular file; only files can be ingested")
    with os.fdopen(fd, "rb") as handle:
        check_size(name, info.st_size, max_bytes)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise DocumentError(str(path), f"cannot read it ({exc.strerror})") from None
    check_size(name, len(data), max_bytes)  # it grew while being read
    return data


def read_document(filename: str, data: bytes, *, max_bytes: int | None = None) -> SourceDocument:
    """Read one file's bytes into a SourceDocument or raise DocumentError naming the file."""
    filename = safe_filename(filename)
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(
            filename, f"unsupported file type '{ext or '(none)'}'; use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if max_bytes is not None:
        check_size(filename, len(data), max_bytes)
    if not data.strip():
        raise DocumentError(filename, "file is empty")

    meta: dict[str, Any] = {}
    own_title = None
    hidden: list[str] = []
    notes: list[str] = []
    decoded: Decoded | None = None
    is_markdown = ext in (".md", ".markdown", ".docx", ".html", ".htm")
    if ext == ".pdf":
        sections, own_title = _read_pdf(filename, data)
    else:
        if ext == ".docx":
            text, own_title = _read_docx(filename, data, hidden)
        elif ext in (".html", ".htm"):
            text, own_title, decoded = _read_html(filename, data, hidden)
        else:
            decoded = detect_text(filename, data)
            text = decoded.text
            if ext in (".md", ".markdown"):
                raw_meta, text = _split_front_matter(filename, text)
                meta, ignored = _known_meta(filename, raw_meta)
                if ignored:
                    notes.append(f"front matter keys ignored (not used by the tutor): {', '.join(ignored[:10])}")
                text, dropped = drop_hidden_markdown(text)
                hidden.extend(dropped)
        text = clean_text(text).strip()
        if not text:
            raise DocumentError(filename, "file has no visible text to index (what there is, is hidden)"
                                if hidden else "file has no text to index")
        sections = [Section(text=text)]
    if decoded is not None and decoded.note:
        notes.insert(0, decoded.note)
    if hidden:
        chars = sum(len(h) for h in hidden)
        notes.append(f"left out {len(hidden)} hidden passage{'s' if len(hidden) > 1 else ''} "
                     f"({chars} characters a reader cannot see), e.g. “{hidden[0][:80]}”")
        del hidden[MAX_HIDDEN_PASSAGES:]  # enough to scan and show; a file can hide 100,000

    stem = filename.rsplit(".", 1)[0]
    raw_id = meta.get("id")
    doc_id = slugify(raw_id) if raw_id else slugify(stem)
    if not doc_id:
        raise DocumentError(filename, "cannot make a document id from the name; rename the file with letters or digits")
    kind = (meta.get("kind") or "other").strip().lower()
    if kind not in KINDS:
        raise DocumentError(filename, f"front matter kind '{kind}' is not one of {', '.join(KINDS)}")
    title = (meta.get("title") or own_title or (first_heading(sections[0].text) if is_markdown else None)
             or stem.replace("-", " ").replace("_", " ").strip() or doc_id)
    return SourceDocument(
        doc_id=doc_id,
        title=" ".join(clean_text(title).split())[:MAX_TITLE_CHARS],
        kind=kind,
        filename=filename,
        ext=ext,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=sections,
        metadata={k: v for k, v in meta.items() if k not in ("id", "title", "kind")},
        raw=data,
        is_markdown=is_markdown,
        hidden=hidden,
        notes=notes,
    )

def read_upload(filename: str, data: bytes, *, max_bytes: int,
                time_limit_s: float = READ_TIME_LIMIT_S) -> SourceDocument:
    """:func:`read_document` in a child process with a time and memory budget (see
    :func:`read_uploads`), for one file; raises DocumentError."""
    [result] = read_uploads([(filename, data)], max_bytes=max_bytes, time_limit_s=time_limit_s)
    if isinstance(result, DocumentError):
        raise result
    return result


def read_uploads(files: list[tuple[str, bytes]], *, max_bytes: int | None,
                 time_limit_s: float | None = None) -> list[SourceDocument | DocumentError]:
    """:func:`read_document` for every file anyone sends (a student's essay, a teacher's
    handouts, the CLI's files, the kept originals of a reindex), in a child process with a
    time limit per file and a memory limit, so that no file, however crafted, can hold the app
    or its memory. One child reads the whole batch (one process start, about 0.3 s); a file
    that runs out of time or memory kills it and fails alone, and a new child reads the rest.
    Returns, in order, each file's document or the error that names it."""
    results: dict[int, SourceDocument | DocumentError] = {}
    pending: list[tuple[int, str, bytes]] = []
    for index, (filename, data) in enumerate(files):
        try:
            filename = safe_filename(filename)
            if max_bytes is not None:
                check_size(filename, len(data), max_bytes)
        except DocumentError as exc:
            results[index] = exc
            continue
        pending.append((index, filename, data))
    while pending:
        done, pending = _read_in_child(pending, time_limit_s)
        results.update(done)
    return [results[index] for index in range(len(files))]


def _time_limit(filename: str, time_limit_s: float | None) -> float:
    if time_limit_s is not None:
        return time_limit_s
    return PDF_TIME_LIMIT_S if filename.lower().endswith(".pdf") else READ_TIME_LIMIT_S


def _read_in_child(pending: list[tuple[int, str, bytes]], time_limit_s: float | None
                   ) -> tuple[dict[int, SourceDocument | DocumentError], list[tuple[int, str, bytes]]]:
    """Read files in one child until one fails it; return the results and the files not read."""
    import queue
    import threading

    memory = PDF_MEMORY_LIMIT if any(name.lower().endswith(".pdf") for _, name, _ in pending) else READ_MEMORY_LIMIT
    done: dict[int, SourceDocument | DocumentError] = {}
    try:
        child = subprocess.Popen([sys.executable, "-m", "tutor.documents", "--read-batch", str(memory)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as exc:
        return {index: DocumentError(name, f"cannot start the file reader ({exc.strerror}); try again")
                for index, name, _ in pending}, []

    def feed() -> None:
        try:
            for _, name, data in pending:
                child.stdin.write(json.dumps({"name": name, "size": len(data)}).encode() + b"\n")
                child.stdin.write(data)
            child.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the child was stopped: the files it did not read are read by the next one

    lines: queue.Queue[bytes | None] = queue.Queue()

    def drain() -> None:
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=feed, daemon=True).start()
    threading.Thread(target=drain, daemon=True).start()
    try:
        for position, (index, name, data) in enumerate(pending):
            limit = _time_limit(name, time_limit_s)
            try:
                line = lines.get(timeout=limit)
            except queue.Empty:
                done[index] = DocumentError(name, f"reading it took over {limit:g} seconds (a damaged or hostile "
                                                  "file?); save it again as plain text or .docx, or re-export it")
                return done, pending[position + 1:]
            if line is None:
                child.wait()
                done[index] = DocumentError(name, f"the file reader stopped (exit code {child.returncode}, over "
                                                  f"{memory // 1024 ** 2} MB of memory?); save the file again as "
                                                  "plain text or .docx, or re-export it")
                return done, pending[position + 1:]
            try:
                result = json.loads(line)
            except ValueError:  # cut off mid-line: the child died writing it
                result = {"error": "the file reader stopped while answering; save the file again and retry"}
            done[index] = _document_from_child(name, data, result)
        return done, []
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def _document_from_child(filename: str, data: bytes, result: dict[str, Any]) -> SourceDocument | DocumentError:
    if "error" in result:
        return DocumentError(filename, result["error"])
    fields = result["doc"]
    fields["sections"] = [Section(**section) for section in fields["sections"]]
    return SourceDocument(**fields, raw=data)


_IN_READER_CHILD = False


def _reader_child(memory: int) -> None:
    """``python -m tutor.documents --read-batch BYTES``: on stdin, for each file a JSON line
    {"name", "size"} then its bytes; on stdout, one JSON line per file as it is read."""
    global _IN_READER_CHILD
    _IN_READER_CHILD = True
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # not on every platform; the time limit still holds
        pass
    source = sys.stdin.buffer
    while header := source.readline():
        item = json.loads(header)
        data = source.read(item["size"])
        try:
            doc = read_document(item["name"], data)
        except DocumentError as exc:
            out: dict[str, Any] = {"error": exc.reason}
        except MemoryError:
            out = {"error": f"reading it needs over {memory // 1024 ** 2} MB of memory (a hostile file?); "
                            "save it again as plain text or .docx, or re-export it"}
        else:
            fields = {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc) if f.name != "raw"}
            fields["sections"] = [dataclasses.asdict(section) for section in doc.sections]
            out = {"doc": fields}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__" and sys.argv[1:] == ["--pdf-pages"]:
    _pdf_child()
elif __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--read-batch":
    _reader_child(int(sys.argv[2]))
