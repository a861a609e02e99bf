"""`tutor coach`: the essay coach and the source-evaluation coach in the terminal.

    tutor coach essay essay.docx --question "'Stalin won because ...' Assess the validity of this view."
    tutor coach essay essay.md --json
    tutor coach source source-trotsky-my-life --enquiry "why Trotsky lost"
    tutor coach source extract.txt --origin "Trotsky, My Life, written in exile in 1929" --json
    tutor coach source            # lists the source notes
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from tutor.errors import TutorError

coach_app = typer.Typer(help="Essay and source-evaluation coaching.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
ESSAY_EXTENSIONS = (".txt", ".md", ".markdown", ".docx")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"Error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def _services():
    """The object graph (tutor.services.build); passages are cited only when the store has some."""
    from tutor.services import build
    from tutor.settings import get_settings

    try:
        services = build(get_settings())
    except TutorError as exc:
        _fail(str(exc))
    if not services.store.count():
        err.print("Note: the store is empty (run `tutor ingest corpus/sources`), so no passages are cited.",
                  markup=False)
        services.essay_coach.retriever = services.source_coach.retriever = None
    return services


def _read_essay(path: Path) -> str:
    from tutor.documents import read_file, read_upload
    from tutor.settings import get_settings

    if not path.exists():
        _fail(f"{path}: no such file")
    if path.suffix.lower() not in ESSAY_EXTENSIONS:
        _fail(f"{path.name}: use a .txt, .md or .docx file for an essay")
    try:
        limit = get_settings().max_upload_bytes
        return read_upload(path.name, read_file(path, limit), max_bytes=limit).text
    except TutorError as exc:
        _fail(str(exc))


@coach_app.command("essay")
def essay(
    file: Path = typer.Argument(..., help="The essay (.txt, .md or .docx)."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="The essay question (else read from "
                                                                          "the first line if it is one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Band an essay (L1–L5 with marks), explain it descriptor by descriptor, list its issues and
    the coaching questions, one at a time, that would lift it."""
    text = _read_essay(file)
    coach = _services().essay_coach
    try:
        analysis = coach.analyse(text, question=question)
    except TutorError as exc:
        _fail(str(exc))
    if as_json:
        data = analysis.as_dict()
        data["reply"], citations = coach.offline_reply(analysis)
        read = coach.model_reading(analysis, citations)
        if read is not None:
            data["model_reading"] = read.as_dict()
        for p in data["paragraphs"]:
            p.pop("text", None)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(analysis.band_line, markup=False, highlight=False, style="bold")
    for note in analysis.notes:
        console.print(f"Note: {note}", markup=False, highlight=False, style="dim")
    table = Table("level", "descriptor", "met", "why", show_lines=False)
    for d in analysis.descriptors:
        table.add_row(d["level"], d["descriptor"], "yes" if d["met"] else "no", d["why"])
    console.print(table)
    if analysis.issues:
        issues = Table("paragraph", "issue", "what", "you wrote")
        for i in analysis.issues:
            issues.add_row(str(i["paragraph"]), i["kind"], i["message"],
                           f"“{i['sentence']}”" if i.get("sentence") else "")
        console.print(issues)
    console.print("Questions to work on, one at a time:", style="bold")
    for n, q in enumerate(analysis.steps, start=1):
        cite = f" [{q.citation}]" if q.citation else ""
        console.print(f"  {n}. {q.text}{cite}", markup=False, highlight=False)
    for c in analysis.citations:
        console.print(f"  [{c.n}] “{c.quote}” — {c.title}", markup=False, highlight=False, style="dim")


@coach_app.command("source")
def source(
    ref: Optional[str] = typer.Argument(None, help="A source-note id (see the list) or a file."),
    enquiry: Optional[str] = typer.Option(None, "--enquiry", "-e", help="What the historian is studying."),
    origin: Optional[str] = typer.Option(None, "--origin", help="For a pasted extract in FILE: who wrote it, "
                                                                "what it is and when."),
    as_json: bool = typer.Option(False, "--json", help="Print the first step as JSON and stop."),
) -> None:
    """Evaluate a primary source step by step: provenance, tone, content against context, value.
    An empty line or Ctrl-D ends the session."""
    from tutor.coach.source import SourceInfo

    coach = _services().source_coach
    if not ref:
        for doc_id, title in coach.source_notes():
            console.print(f"{doc_id}  {title}", markup=False, highlight=False)
        return
    try:
        if origin:
            path = Path(ref)
            if not path.is_file():
                _fail(f"{ref}: no such file (with --origin, give a file holding the extract)")
            info = SourceInfo.from_paste(path.read_text(encoding="utf-8", errors="replace"), origin)
        else:
            info = coach.load(ref)
    except TutorError as exc:
        _fail(str(exc))
    session = coach.start(info, enquiry)
    first = coach.first_turn(session)
    if as_json:
        typer.echo(json.dumps({"source": {"id": info.doc_id, "title": info.title, "origin": info.origin,
                                          "extract": info.extract},
                               "enquiry": session.enquiry, **first.as_dict()}, indent=2, ensure_ascii=False))
        return
    console.print(f"Source: {info.origin}", markup=False, highlight=False, style="bold")
    console.print(info.extract, markup=False, highlight=False)
    console.print("")
    _print_turn(first, session.stage)
    while not session.done:
        try:
            answer = console.input("[bold cyan]you> [/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            break
        if not answer.strip():
            break
        _print_turn(coach.respond(session, answer), session.stage)


def _print_turn(turn, stage: str) -> None:
    if turn.notice:
        err.print(turn.notice, markup=False, highlight=False, style="yellow")
    console.print(turn.text, markup=False, highlight=False)
    for c in turn.citations:
        console.print(f"  [{c.n}] {c.title}", markup=False, highlight=False, style="dim")
    console.print(f"  ({stage} · {turn.step})", markup=False, highlight=False, style="dim")
