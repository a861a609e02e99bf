"""The `tutor` command. Thin: every command calls a service in the package.

    tutor ingest corpus                  tutor search "why was the testament ignored"
    tutor sources --json                 tutor doctor
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tutor.errors import TutorError

app = typer.Typer(help="A Socratic tutor on the Soviet power struggle, 1921–1929.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)


def _fail(exc: TutorError) -> None:
    err.print(f"[red]Error:[/red] {exc}", markup=True, highlight=False)
    raise typer.Exit(2)


def _store():
    from tutor.store import Store

    try:
        return Store.open()
    except TutorError as exc:
        _fail(exc)


def _settings():
    from tutor.settings import get_settings

    try:
        return get_settings()
    except TutorError as exc:
        _fail(exc)


def _library():
    from tutor.library import Library

    return Library(_store())


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders (.md .txt .pdf .docx .html)."),
    yes: bool = typer.Option(False, "--yes", help="Index files the scan flags (instruction-like text)."),
) -> None:
    """Add or update documents; prints one line per file and a summary. Exit code 1 if any file
    failed or was flagged. A course corpus folder (`tutor ingest corpus`) gives its sources only."""
    from tutor.auth import local_operator

    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"{p}: failed — no such file or folder")
    library = _library()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("Embedding", total=None)

        def tick(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"Indexed {name}", completed=done, total=total)

        try:
            results = library.ingest_paths(local_operator(), [p for p in paths if p.exists()],
                                           confirm_flagged=yes, on_progress=tick)
        except TutorError as exc:
            _fail(exc)
    from tutor.library import summary

    for r in results:
        typer.secho(r.line(), fg={"failed": "red", "flagged": "yellow", "skipped": "bright_black"}.get(r.status))
        for finding in r.findings if r.status == "flagged" else []:
            typer.secho(f"    flagged {finding}", fg="yellow")
    typer.echo(summary(results) + (f", {len(missing)} not found" if missing else ""))
    if any(r.status in ("failed", "flagged") for r in results) or missing:
        raise typer.Exit(1)


@app.command()
def sources(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the documents in the store."""
    docs = [d.as_dict() for d in _store().documents()]
    if as_json:
        typer.echo(json.dumps(docs, indent=2, ensure_ascii=False))
        return
    table = Table("id", "title", "kind", "chunks", "version", "ingested at")
    for d in docs:
        table.add_row(d["id"], d["title"], d["kind"], str(d["chunks"]), str(d["version"]), d["ingested_at"])
    console.print(table)
    console.print(f"{len(docs)} documents")


@app.command()
def replace(
    doc_id: str = typer.Argument(..., help="The document to replace (`tutor sources` lists the ids)."),
    file: Path = typer.Argument(..., help="Its new version (.md .txt .pdf .docx .html)."),
    yes: bool = typer.Option(False, "--yes", help="Index the file even if the scan flags it."),
) -> None:
    """Replace a document with a new version of it, keeping its id. Exit code 1 if it failed."""
    from tutor.auth import local_operator
    from tutor.library import Upload

    if not file.is_file():
        err.print(f"{file}: failed — no such file")
        raise typer.Exit(1)
    if file.stat().st_size > _settings().max_upload_bytes:
        err.print(f"{file.name}: failed — file is over the {_settings().max_upload_mb:g} MB limit (TUTOR_MAX_UPLOAD_MB)")
        raise typer.Exit(1)
    try:
        result = _library().replace(local_operator(), doc_id, Upload(file.name, file.read_bytes()), confirm_flagged=yes)
    except TutorError as exc:
        _fail(exc)
    typer.secho(result.line(), fg={"failed": "red", "flagged": "yellow"}.get(result.status))
    for finding in result.findings if result.status == "flagged" else []:
        typer.secho(f"    flagged {finding}", fg="yellow")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def remove(doc_id: str) -> None:
    """Remove a document and every chunk of it."""
    from tutor.auth import local_operator

    if _library().remove(local_operator(), doc_id):
        console.print(f"removed {doc_id}")
    else:
        err.print(f"No document with id '{doc_id}'. `tutor sources` lists the ids.")
        raise typer.Exit(1)


@app.command()
def reindex() -> None:
    """Rebuild the store from the kept originals (after changing model or chunking)."""
    from tutor.auth import local_operator
    from tutor.embeddings import get_embedder
    from tutor.library import Library
    from tutor.settings import get_settings
    from tutor.store import Store

    try:
        settings = get_settings()
        store = Store(settings, get_embedder(settings), check_model=False)
        results = Library(store).reindex(local_operator())
    except TutorError as exc:
        _fail(exc)
    for r in results:
        typer.echo(r.line())
    console.print(f"reindexed {sum(r.ok for r in results)} documents")
    if any(not r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def doctor() -> None:
    """Check configuration, model, store and corpus; say what to do about anything wrong."""
    from tutor.doctor import run_checks

    ok = True
    for check in run_checks():
        mark = "[green]ok[/green]" if check.ok else "[red]!![/red]"
        console.print(f"{mark} {check.name}: {check.detail}", highlight=False)
        if not check.ok:
            ok = False
            console.print(f"   fix: {check.fix}", highlight=False)
    if not ok:
        raise typer.Exit(1)


@app.command()
def search(
    query: str,
    k: int = typer.Option(5, "-k", help="How many passages."),
    method: str = typer.Option("hybrid", "--method", help="hybrid | dense | bm25"),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only documents of this kind."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Top passages for a query, with scores."""
    from tutor.retrieval import Retriever

    try:
        retriever = Retriever(_store())
        hits = retriever.search(query, k=k, method=method, kind=kind)
    except (TutorError, ValueError) as exc:
        _fail(exc if isinstance(exc, TutorError) else TutorError(str(exc)))
    if as_json:
        typer.echo(json.dumps([h.as_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    for n, h in enumerate(hits, start=1):
        where = f", p. {h.page}" if h.page else ""
        console.print(f"[bold][{n}] {h.title}[/bold] ({h.kind}{where}) score {h.score:.3f}  {h.id}", highlight=False)
        console.print("    " + h.text[:300].replace("\n", " ") + ("…" if len(h.text) > 300 else ""),
                      markup=False, highlight=False)


# -- tutoring ----------------------------------------------------------------------------
lessons_app = typer.Typer(help="Lesson cards and the timeline.", no_args_is_help=True)
app.add_typer(lessons_app, name="lessons")


@lessons_app.command("check")
def lessons_check() -> None:
    """Validate every lesson card and the timeline; list each error with file and field."""
    from tutor.lessons import LessonError, corpus_doc_ids, load_lessons
    from tutor.settings import get_settings

    corpus = get_settings().corpus_dir
    try:
        lessons = load_lessons(corpus, corpus_doc_ids(corpus))
    except LessonError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False)
        err.print(f"{len(exc.problems)} problem(s) found.")
        raise typer.Exit(1)
    from tutor.facts import load_facts

    try:
        facts = load_facts(corpus, corpus_doc_ids(corpus), lessons=lessons)
    except LessonError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False)
        err.print(f"{len(exc.problems)} problem(s) found.")
        raise typer.Exit(1)
    kps = sum(len(c.key_points) for c in lessons.cards)
    mcs = sum(len(c.misconceptions) for c in lessons.cards)
    console.print(f"ok: {len(lessons.cards)} cards, {kps} key points, {mcs} misconceptions, "
                  f"{len(lessons.timeline)} timeline events, {len(facts.sourced())} facts")


def _tutor():
    from tutor.services import build

    try:
        return build().tutor
    except TutorError as exc:
        _fail(exc)


def _print_reply(reply) -> None:
    if reply.notice:
        err.print(f"[yellow]{reply.notice}[/yellow]", highlight=False)
    console.print(reply.text, markup=False, highlight=False)
    for c in reply.citations:
        where = f", p. {c.page}" if c.page else ""
        console.print(f"  [{c.n}] {c.title} ({c.kind}{where})", markup=False, highlight=False, style="dim")
    label = reply.label + ("" if reply.mode == "offline" else f" · {reply.mode}")
    console.print(f"  ({label})", style="dim", highlight=False, markup=False)


@app.command()
def ask(message: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One tutor turn for a message (a fresh conversation)."""
    tutor = _tutor()
    reply = tutor.reply(tutor.new_session(), message)
    if as_json:
        typer.echo(json.dumps(reply.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print_reply(reply)


@app.command()
def chat() -> None:
    """A conversation in the terminal. Empty line or Ctrl-D to stop."""
    tutor = _tutor()
    session = tutor.new_session()
    console.print(f"Socratic tutor ({tutor.mode}). Ask about the power struggle of 1921–1929; "
                  "an empty line ends the chat.", style="bold")
    while True:
        try:
            message = console.input("[bold cyan]you> [/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            break
        if not message.strip():
            break
        _print_reply(tutor.reply(session, message))

from tutor.coach.cli import coach_app; app.add_typer(coach_app, name="coach")  # noqa: E402
from tutor.evaluation.cli import eval_app; app.add_typer(eval_app, name="eval")  # noqa: E402
