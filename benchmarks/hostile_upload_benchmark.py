"""A YAML alias bomb uploaded on the Essay coach page, and a .docx bomb uploaded by a teacher, at
service level: does the app stay up?

    python benchmarks/hostile_upload_benchmark.py [--baseline-src /path/to/old/checkout] [--json out.json]
    python benchmarks/hostile_upload_benchmark.py --docx-bomb [--baseline-src …] [--baseline-limit-s 120]
    python benchmarks/hostile_upload_benchmark.py --measure-handouts

``--docx-bomb``: the probe's file of issue 24 (1.8 MB unpacking to 179 MB of XML, tests/hostile.py
docx_bomb) through the reader every upload path uses (``read_uploads``, as Library.check calls
it), then a .docx just under the XML limit, to show what the limits still allow (time and the
reader child's peak memory). ``--measure-handouts``: the course handouts written as .docx files,
and what they unpack to — the figures the limits in tutor/documents.py are chosen from.

The upload goes through ``read_upload`` exactly as tutor/ui/coach_page.py calls it, in a
worker thread (Streamlit runs each browser session's script in its own thread), while the main
thread plays the other students: it wakes every 5 ms and records the longest it was kept
waiting (a parser holding the GIL freezes every session of the process) and samples the
resident memory of the process and its children. Prints what the upload returned, the longest
stall, and the peak memory. ``--baseline-src`` runs the same upload against another checkout's
``read_document`` in a child process (limited to 4 GB and 60 s) to show what it did before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile import LIMIT, alias_bomb, docx_bomb  # noqa: E402  (shared with tests/test_hostile_files.py)
from tutor.documents import MAX_DOCX_XML_BYTES, read_upload, read_uploads  # noqa: E402
from tutor.errors import DocumentError  # noqa: E402


def rss_mb(pid: int, children_only: bool = False) -> float:
    """Resident memory of a process and its children (from /proc), in MB."""
    total = 0
    pids = [] if children_only else [pid]
    # Children are listed per thread: the reader child is started from the upload's worker thread.
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def watch(work, tick_s: float = 0.005) -> dict:
    """Run ``work`` in a thread; meanwhile measure the main thread's longest wait and peak RSS."""
    outcome: dict = {}

    def run() -> None:
        start = time.perf_counter()
        try:
            outcome["result"] = work()
        except DocumentError as exc:
            outcome["result"] = f"refused: {exc}"
        outcome["seconds"] = round(time.perf_counter() - start, 3)

    worker = threading.Thread(target=run, daemon=True)
    base = rss_mb(os.getpid())
    worst = 0.0
    peak = base
    child_peak = 0.0
    worker.start()
    last = time.perf_counter()
    while worker.is_alive():
        time.sleep(tick_s)
        now = time.perf_counter()
        worst = max(worst, now - last - tick_s)
        last = now
        peak = max(peak, rss_mb(os.getpid()))
        # Sampled: getrusage's figure for children keeps the parent's high-water mark across the fork.
        child_peak = max(child_peak, rss_mb(os.getpid(), children_only=True))
    return {**outcome, "longest_stall_ms": round(worst * 1000, 1), "rss_before_mb": round(base, 1),
            "peak_rss_mb": round(peak, 1), "reader_child_peak_rss_mb": round(child_peak, 1)}


BASELINE = """
import resource, sys, threading, time
cap = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (cap * 1024 ** 3, cap * 1024 ** 3))
sys.path.insert(0, sys.argv[1])
from tutor.documents import read_document
data = sys.stdin.buffer.read()
def run():
    try:
        read_document(sys.argv[2], data)
        print("result read", flush=True)
    except MemoryError:
        print(f"result MemoryError at the {cap} GB cap", flush=True)
    except Exception as exc:
        print(f"result {type(exc).__name__}: {exc}", flush=True)
threading.Thread(target=run, daemon=True).start()
while True:  # the other students: a heartbeat every 5 ms
    time.sleep(0.005)
    print(f"tick {time.time()}", flush=True)
"""


def baseline(src: Path, bomb: bytes, limit_s: float = 60.0, name: str = "essay.md", cap_gb: int = 4) -> dict:
    """The old reader in a child: its longest heartbeat gap and peak RSS, sampled from here."""
    proc = subprocess.Popen([sys.executable, "-c", BASELINE, str(src), name, str(cap_gb)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(src)})
    proc.stdin.buffer.write(bomb)
    proc.stdin.close()
    ticks: list[float] = []
    result = [f"still running after {limit_s:g} s (killed)"]

    def read() -> None:
        for line in proc.stdout:
            if line.startswith("tick "):
                ticks.append(float(line.split()[1]))
            elif line.startswith("result "):
                result[0] = line[7:].strip()
                proc.kill()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    start = time.time()
    peak = 0.0
    while proc.poll() is None and time.time() - start < limit_s:
        time.sleep(0.05)
        peak = max(peak, rss_mb(proc.pid))
    proc.kill()
    proc.wait()
    reader.join(5)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    tail = time.time() - ticks[-1] if ticks and result[0].startswith("still") else 0.0
    return {"result": result[0], "seconds": round(time.time() - start, 1),
            "longest_stall_ms": round(max(gaps + [tail]) * 1000, 1) if ticks else None,
            "peak_rss_mb": round(peak, 1)}


def read_as_teacher(name: str, data: bytes) -> str:
    [doc] = read_uploads([(name, data)], max_bytes=LIMIT)
    if isinstance(doc, DocumentError):
        raise doc
    return f"read: {len(doc.text)} characters, {len(doc.hidden)} hidden passages"


def docx_bomb_report(args) -> dict:
    import io
    import zipfile

    def unpacked(data: bytes) -> int:
        return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())

    bomb = docx_bomb()
    # Just under the XML limit (the template's other parts are about 0.8 MB): the worst a .docx may still cost.
    near = docx_bomb(MAX_DOCX_XML_BYTES / 1048576 - 1.0, every=3)  # 15 to 1: under the ratio limit too
    report = {"bomb_bytes": len(bomb), "bomb_unpacked_bytes": unpacked(bomb),
              "teacher_upload": watch(lambda: read_as_teacher("handout.docx", bomb)),
              "near_limit_bytes": len(near), "near_limit_unpacked_bytes": unpacked(near),
              "near_limit_upload": watch(lambda: read_as_teacher("handout.docx", near))}
    if args.baseline_src:
        report["baseline"] = baseline(args.baseline_src, bomb, args.baseline_limit_s, "handout.docx", cap_gb=6)
    return report


def measure_handouts() -> dict:
    """Each course handout (corpus/sources, corpus/eval/teacher_documents) as a .docx, a run per
    sentence as Word splits them, and the whole course as one document: what each unpacks to."""
    import io
    import zipfile

    import docx

    from tutor.settings import PROJECT_ROOT

    def build(texts: list[str]) -> bytes:
        document = docx.Document()
        for text in texts:
            for para in (p.strip() for p in text.split("\n\n")):
                if para.startswith("#"):
                    document.add_heading(para.lstrip("# "), level=2)
                elif para:
                    paragraph = document.add_paragraph()
                    for sentence in para.replace("\n", " ").split(". "):
                        paragraph.add_run(sentence + ". ")
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    def sizes(data: bytes) -> dict:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
        body = next(p for p in parts if p.filename == "word/document.xml")
        return {"docx_bytes": len(data), "xml_bytes": sum(p.file_size for p in parts if p.filename.endswith((".xml", ".rels"))),
                "document_xml_ratio": round(body.file_size / max(body.compress_size, 1), 1)}

    corpus = PROJECT_ROOT / "corpus"
    files = sorted((corpus / "sources").glob("*.md")) + sorted((corpus / "eval" / "teacher_documents").glob("*.md"))
    each = {p.name: sizes(build([p.read_text(encoding="utf-8")])) for p in files}
    largest = max(each, key=lambda name: each[name]["xml_bytes"])
    return {"handouts": len(files), "largest": {largest: each[largest]},
            "whole_course_as_one_docx": sizes(build([p.read_text(encoding="utf-8") for p in files])),
            "limit_xml_bytes": MAX_DOCX_XML_BYTES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-src", type=Path, help="a checkout with the old reader (e.g. an old commit)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--docx-bomb", action="store_true", help="the teacher's .docx bomb of issue 24")
    parser.add_argument("--baseline-limit-s", type=float, default=120.0, help="stop the old reader after this")
    parser.add_argument("--measure-handouts", action="store_true", help="what real handouts unpack to")
    args = parser.parse_args()
    if args.docx_bomb or args.measure_handouts:
        report = docx_bomb_report(args) if args.docx_bomb else measure_handouts()
        text = json.dumps(report, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text)
        return
    bomb = alias_bomb()
    report = {"bomb_bytes": len(bomb),
              "coach_upload": watch(lambda: read_upload("essay.md", bomb, max_bytes=LIMIT).title),
              # The budget itself: an essay the child is given 50 ms for (a stand-in for any slow parse).
              "time_budget": watch(lambda: read_upload("essay.md", b"# Essay\nStalin won.", max_bytes=LIMIT,
                                                       time_limit_s=0.05).title)}
    if args.baseline_src:
        report["baseline"] = baseline(args.baseline_src, bomb)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
