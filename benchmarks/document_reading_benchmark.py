"""How well uploaded handouts are read: titles, and PDF sentences intact, split or glued.

    python benchmarks/document_reading_benchmark.py            # a short report
    python benchmarks/document_reading_benchmark.py --json     # JSON on stdout

Each teacher document of corpus/eval/teacher_documents is written out as a teacher would upload
it (tests/handouts.py): Markdown without front matter (a # title line), HTML with a <title>, a
Word file with a Title-style paragraph, a PDF with /Title set in justified, hyphenated lines with
a running header and page numbers, and the same PDF without /Title. Then:

- titles right: the document's title is the handout's title (not the file name);
- PDF sentences: the handout's sentences (as the tutor splits them, tutor.pedagogy.compose) are
  looked for among the sentences of the PDF's chunks. "intact" = found word for word; "glued" =
  a PDF sentence holding a heading, the running header or a page number; "split" = a handout
  sentence found in no PDF sentence (cut by a line or page break, or a hyphen left in).

Target (issue 23): every title right; no glued and no split sentence. Exit code 1 otherwise.
Run from the repository root; PYTHONPATH picks the code measured (e.g. an older checkout).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from handouts import RUNNING_HEAD, parse_markdown, to_docx, to_pdf  # noqa: E402

from tutor.chunking import chunk_document  # noqa: E402
from tutor.documents import read_document  # noqa: E402
from tutor.pedagogy.compose import sentences  # noqa: E402

DOCS = ROOT / "corpus" / "eval" / "teacher_documents"


def _norm(text: str) -> str:
    return " ".join(text.split())


def files_for(handout, stem: str) -> dict[str, bytes]:
    body = "\n\n".join(f"## {h}\n\n" + "\n\n".join(ps) for h, ps in handout.sections)
    html = (f"<html><head><title>{handout.title}</title></head><body><h1>{handout.title}</h1>"
            + "".join(f"<h2>{h}</h2>" + "".join(f"<p>{p}</p>" for p in ps) for h, ps in handout.sections)
            + "</body></html>")
    return {
        f"{stem}.md": f"# {handout.title}\n\n{body}\n".encode(),
        f"{stem}.html": html.encode(),
        f"{stem}.docx": to_docx(handout),
        f"{stem}.pdf": to_pdf(handout),
        f"{stem}-untitled.pdf": to_pdf(handout, metadata_title=None),
    }


def pdf_sentences(handout, data: bytes, name: str) -> dict[str, int]:
    doc = read_document(name, data)
    got = [_norm(s) for c in chunk_document(doc, 1200, 150) for s in sentences(c.text)]
    want = [_norm(s) for _, ps in handout.sections for p in ps for s in sentences(p)]
    furniture = [h for h in handout.headings if h] + [RUNNING_HEAD]
    glued = [s for s in got if any(f in s for f in furniture) or re.search(r"\bPage \d+\b", s)]
    found = set(got)
    split = [s for s in want if s not in found]
    return {"sentences": len(want), "intact": len(want) - len(split), "split": len(split), "glued": len(glued),
            "examples": (glued[:1] + split[:1])}


def run() -> dict:
    titles: list[dict] = []
    pdf: dict[str, int] = {"sentences": 0, "intact": 0, "split": 0, "glued": 0}
    examples: list[str] = []
    for path in sorted(DOCS.glob("*.md")):
        handout = parse_markdown(path.read_text(encoding="utf-8"))
        for name, data in files_for(handout, path.stem).items():
            title = read_document(name, data).title
            titles.append({"file": name, "title": title, "right": title == handout.title})
        counts = pdf_sentences(handout, files_for(handout, path.stem)[f"{path.stem}.pdf"], f"{path.stem}.pdf")
        examples += counts.pop("examples")
        for key, value in counts.items():
            pdf[key] += value
    return {"titles_right": sum(t["right"] for t in titles), "titles": len(titles),
            "wrong_titles": [t for t in titles if not t["right"]], "pdf": pdf, "examples": examples[:6]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        p = result["pdf"]
        print(f"titles right: {result['titles_right']}/{result['titles']}")
        for t in result["wrong_titles"]:
            print(f"  {t['file']}: {t['title']!r}")
        print(f"PDF sentences: {p['intact']}/{p['sentences']} intact, {p['split']} split, {p['glued']} glued")
        for example in result["examples"]:
            print(f"  e.g. {example[:140]!r}")
    ok = result["titles_right"] == result["titles"] and not result["pdf"]["split"] and not result["pdf"]["glued"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
