"""Reading uploaded or on-disk files into text plus metadata, with validation.

>>> doc = read_document("notes.md", b"---\\nid: notes\\ntitle: Notes\\n---\\n# Hi\\ntext")
>>> doc.doc_id, doc.title
('notes', 'Notes')

Every failure is a :class:`~tutor.errors.DocumentError` whose message names the file and says
what is wrong, so one bad file in a batch never stops the others.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from tutor.errors import DocumentError

SUPPORTED_EXTENSIONS = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")
KINDS = ("overview", "event", "person", "idea", "historiography", "source-note", "skills", "other")
# A .docx is a zip; anything that unpacks past this is a zip bomb, not a history handout.
MAX_DOCX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200
# Reading one PDF may take this long and this much memory (see _read_pdf).
PDF_TIME_LIMIT_S = 120.0
PDF_MEMORY_LIMIT = 2 * 1024 ** 3
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
# Control characters, and lone surrogates (undecodable bytes in a terminal argument): the
# tokenizer rejects them and they cannot be stored as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# libyaml's safe loader when PyYAML was built with it: the same rules, ten times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Section:
    """A run of text from one page (PDF) or the whole file (other formats)."""

    text: str
    page: int | None = None


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


def decode_text(filename: str, data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), then cp1252; refuse binary data.

    UTF-16 is accepted when it starts with its byte-order mark (Windows Notepad's "Unicode").
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError(filename, "text has a UTF-16 mark but is not UTF-16; re-save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise DocumentError(filename, "looks like a binary file, not text; save it as UTF-8 text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text
    raise DocumentError(filename, "text is not UTF-8 or Windows-1252; re-save it as UTF-8")


def clean_text(text: str) -> str:
    """Drop control characters and NULs, normalise newlines and Unicode form."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _split_front_matter(filename: str, text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.load(match.group(1), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise DocumentError(filename, f"front matter is not valid YAML{where}; fix it or remove the --- block") from None
    if not isinstance(meta, dict):
        raise DocumentError(filename, "front matter must be key: value pairs")
    return meta, text[match.end():]


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
        return {"pages": [page.extract_text() or "" for page in reader.pages]}
    except (PdfReadError, PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OSError, RecursionError, ZeroDivisionError, AssertionError, MemoryError) as exc:
        # pypdf signals malformed files through a wide range of exception types.
        return {"malformed": type(exc).__name__}


def _pdf_child() -> None:
    """``python -m tutor.documents --pdf-pages``: PDF bytes on stdin, JSON on stdout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (PDF_MEMORY_LIMIT, PDF_MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on every platform; the time limit still holds
        pass
    sys.stdout.write(json.dumps(_pdf_pages(sys.stdin.buffer.read())))


def _read_pdf(filename: str, data: bytes) -> list[Section]:
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
    if result.get("encrypted"):
        raise DocumentError(filename, "PDF is encrypted; save an unprotected copy and upload that")
    if "malformed" in result:
        raise DocumentError(filename, f"malformed PDF ({result['malformed']}); re-export it from the original")
    sections = []
    for number, raw in enumerate(result["pages"], start=1):
        text = clean_text(raw).strip()
        if text:
            sections.append(Section(text=text, page=number))
    if not sections:
        raise DocumentError(filename, "scanned PDF: no text to index (run OCR on it first)")
    return sections


def _read_docx(filename: str, data: bytes) -> str:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(filename, "not a valid .docx (it is not a zip archive); re-save it from Word")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_DOCX_UNPACKED_BYTES or unpacked > MAX_DOCX_RATIO * max(len(data), 1) + 10_000_000:
            raise DocumentError(filename, "the .docx unpacks to an absurd size (a zip bomb?); refusing it")
        if "word/document.xml" not in archive.namelist():
            raise DocumentError(filename, "not a valid .docx (no word/document.xml); re-save it from Word")
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(filename, f"not a valid .docx ({type(exc).__name__}); re-save it from Word") from None
    except XMLSyntaxError:
        raise DocumentError(filename, "the .docx contains broken XML; re-save it from Word") from None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        if style.startswith("heading"):
            level = style.removeprefix("heading").strip()
            hashes = "#" * (int(level) if level.isdigit() and 0 < int(level) < 7 else 2)
            lines.append(f"{hashes} {text}")
        elif style == "title":
            lines.append(f"# {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                lines.append(" | ".join(cells))
    return "\n\n".join(lines)


def _read_html(filename: str, data: bytes) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(filename, data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed", "svg"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    text = soup.get_text("\n")
    text = re.sub(r"\n\s*\n+", "\n\n", text)
    return text, title


def _meta_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def read_document(filename: str, data: bytes, *, max_bytes: int | None = None) -> SourceDocument:
    """Read one file's bytes into a SourceDocument or raise DocumentError naming the file."""
    filename = safe_filename(filename)
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(
            filename, f"unsupported file type '{ext or '(none)'}'; use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentError(
            filename,
            f"file is {len(data) / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB limit "
            "(TUTOR_MAX_UPLOAD_MB); split it or raise the limit",
        )
    if not data.strip():
        raise DocumentError(filename, "file is empty")

    meta: dict[str, Any] = {}
    html_title = None
    is_markdown = ext in (".md", ".markdown", ".docx", ".html", ".htm")
    if ext == ".pdf":
        sections = _read_pdf(filename, data)
    else:
        if ext == ".docx":
            text = _read_docx(filename, data)
        elif ext in (".html", ".htm"):
            text, html_title = _read_html(filename, data)
        else:
            text = decode_text(filename, data)
            if ext in (".md", ".markdown"):
                meta, text = _split_front_matter(filename, text)
        text = clean_text(text).strip()
        if not text:
            raise DocumentError(filename, "file has no text to index")
        sections = [Section(text=text)]

    stem = filename.rsplit(".", 1)[0]
    raw_id = meta.get("id")
    doc_id = slugify(str(raw_id)) if raw_id not in (None, "") else slugify(stem)
    if not doc_id:
        raise DocumentError(filename, "cannot make a document id from the name; rename the file with letters or digits")
    kind = str(meta.get("kind") or "other").strip().lower()
    if kind not in KINDS:
        raise DocumentError(filename, f"front matter kind '{kind}' is not one of {', '.join(KINDS)}")
    title = str(meta.get("title") or html_title or stem.replace("-", " ").replace("_", " ").strip() or doc_id)
    clean_meta = {k: _meta_value(v) for k, v in meta.items() if k not in ("id", "title", "kind")}
    return SourceDocument(
        doc_id=doc_id,
        title=clean_text(title).strip()[:300],
        kind=kind,
        filename=filename,
        ext=ext,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=sections,
        metadata=clean_meta,
        raw=data,
        is_markdown=is_markdown,
    )


if __name__ == "__main__" and sys.argv[1:] == ["--pdf-pages"]:
    _pdf_child()
