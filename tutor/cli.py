"""The `tutor` command. Thin: every command calls a service in the package.

    tutor ingest corpus                  tutor search "why was the testament ignored"
    tutor sources --json                 tutor doctor
    tutor retitle DOC_ID "Title" [--kind event]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn, Optional

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
def retitle(
    doc_id: str = typer.Argument(..., help="The document (`tutor sources` lists the ids)."),
    title: str = typer.Argument(..., help="Its title, as citations should show it."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Its kind too: overview, event, person, idea, "
                                       "historiography, source-note, skills or other."),
) -> None:
    """Give a document the title (and kind) you choose; new versions of the file keep it."""
    from tutor.auth import local_operator

    try:
        record = _library().retitle(local_operator(), doc_id, title, kind)
    except TutorError as exc:
        _fail(exc)
    console.print(f"{record.doc_id}: “{record.title}” ({record.kind})", markup=False, highlight=False)


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
        _refuse(exc.problems)
    from tutor.facts import load_facts

    try:
        facts = load_facts(corpus, corpus_doc_ids(corpus), lessons=lessons)
    except LessonError as exc:
        _refuse(exc.problems)
    from tutor.glossary import GlossaryError, load_glossary

    try:
        glossary = load_glossary(corpus, corpus_doc_ids(corpus))
    except GlossaryError as exc:
        _refuse(exc.problems)
    kps = sum(len(c.key_points) for c in lessons.cards)
    mcs = sum(len(c.misconceptions) for c in lessons.cards)
    console.print(f"ok: {len(lessons.cards)} cards, {kps} key points, {mcs} misconceptions, "
                  f"{len(lessons.timeline)} timeline events, {len(facts.sourced())} facts, "
                  f"{len(glossary)} glossary entries")
    _check_published(lessons)


def _refuse(problems: list[str]) -> NoReturn:
    for problem in problems:
        err.print(problem, markup=False, highlight=False)
    err.print(f"{len(problems)} problem(s) found.")
    raise typer.Exit(1)


def _check_published(course) -> None:
    """The published cards, validated as at publishing against today's documents and cards."""
    from tutor.drafting import DocumentTexts, check_published
    from tutor.published import LiveLessons, PublishedCards
    from tutor.settings import get_settings
    from tutor.store import Store

    settings = get_settings()
    published = PublishedCards(settings)
    try:
        live = published.live()
        if not live:
            console.print("published: none")
            return
        lessons = LiveLessons(course, published)
        problems = check_published(published, lessons, DocumentTexts.from_store(Store.open(settings)))
    except TutorError as exc:
        _fail(exc)
    if problems:
        for problem in problems:
            err.print(problem, markup=False, highlight=False)
        err.print(f"{len(problems)} problem(s) in published cards; fix the card and `tutor lessons publish` it "
                  "again, or `tutor lessons unpublish` it.")
        raise typer.Exit(1)
    console.print(f"published: {len(live)} cards ok")


def _drafting_context(*, offline: bool = True):
    from tutor.drafting import DocumentTexts
    from tutor.services import CONFIGURED, build

    try:
        services = build(chat_model=None if offline else CONFIGURED)
        return services, DocumentTexts.from_store(services.store)
    except TutorError as exc:
        _fail(exc)


def _print_problems(exc) -> None:
    err.print(str(exc).splitlines()[0], markup=False, highlight=False)
    for problem in exc.problems:
        err.print(f"  - {problem}", markup=False, highlight=False)


@lessons_app.command("draft")
def lessons_draft(
    doc_id: str = typer.Argument(..., help="A document id (`tutor sources` lists them)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the draft (card and timeline offers) as YAML here."),
    offline: bool = typer.Option(False, "--offline", help="Draft extractively even if a model is configured."),
) -> None:
    """Draft a lesson card from a document: key points, hints, candidate misconceptions, timeline offers.
    With a model configured the model drafts, and the same validator checks it (else the offline draft)."""
    import yaml

    from tutor.drafting import DraftError, draft_from_store, validate_card

    services, sources = _drafting_context(offline=offline)
    lessons = services.lessons
    try:
        draft = draft_from_store(services.store, lessons, doc_id, chat_model=services.chat_model)
    except DraftError as exc:
        _print_problems(exc)
        raise typer.Exit(1)
    text = yaml.safe_dump({"card": draft.card, "timeline": draft.timeline}, sort_keys=False, allow_unicode=True,
                          width=100)
    if out:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(f"Cannot write the draft to {out}: {exc.strerror or exc}. Choose a writable file path, or "
                      "leave out --out to print the draft.", markup=False, highlight=False)
            raise typer.Exit(1)
        console.print(f"wrote {out}: {len(draft.card['key_points'])} key points, "
                      f"{len(draft.card['misconceptions'])} candidate misconceptions, "
                      f"{len(draft.timeline)} timeline offers", highlight=False)
    else:
        typer.echo(text)
    for note in draft.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    problems = validate_card(draft.card, sources=sources, lessons=lessons, timeline=draft.timeline)
    for problem in problems:
        err.print(f"  - {problem}", markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    err.print(f"Edit it, then `tutor lessons publish {out or 'FILE'}`.", markup=False, highlight=False)


@lessons_app.command("publish")
def lessons_publish(path: Path = typer.Argument(..., help="A card YAML file (from `tutor lessons draft --out`).")) -> None:
    """Validate a card and publish it under TUTOR_HOME; the running tutor uses it from its next turn."""
    from tutor.auth import local_operator
    from tutor.drafting import DraftError, publish_card, read_card_file, split_draft_file

    if not path.is_file():
        err.print(f"{path}: no such file")
        raise typer.Exit(1)
    try:  # read before opening the store: a file that cannot be read says so at once
        card, timeline = split_draft_file(read_card_file(path))
    except DraftError as exc:
        _print_problems(exc)
        err.print("Nothing was published.")
        raise typer.Exit(1)
    services, sources = _drafting_context()
    lessons = services.lessons
    try:
        record = publish_card(local_operator(), card, timeline=timeline, published=lessons.published,
                              lessons=lessons, sources=sources)
    except DraftError as exc:
        _print_problems(exc)
        err.print("Nothing was published.")
        raise typer.Exit(1)
    console.print(f"published {record.card_id} v{record.version} ({len(record.timeline)} timeline events) "
                  f"by {record.published_by} at {record.published_at}", highlight=False)


@lessons_app.command("unpublish")
def lessons_unpublish(card_id: str) -> None:
    """Withdraw a published card (its history is kept)."""
    from tutor.auth import local_operator
    from tutor.published import PublishedCards
    from tutor.settings import get_settings

    if PublishedCards(get_settings()).unpublish(local_operator(), card_id):
        console.print(f"unpublished {card_id}")
    else:
        err.print(f"No published card '{card_id}'. `tutor lessons published` lists them.")
        raise typer.Exit(1)


@lessons_app.command("published")
def lessons_published(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every version of every published card, with who published or withdrew it and when."""
    from tutor.published import PublishedCards
    from tutor.settings import get_settings

    rows = [r.as_dict() for r in PublishedCards(get_settings()).history()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("id", "version", "docs", "published", "withdrawn")
    for r in rows:
        table.add_row(r["id"], str(r["version"]), ", ".join(r["docs"]), f"{r['published_at']} ({r['published_by']})",
                      f"{r['unpublished_at']} ({r['unpublished_by']})" if r["unpublished_at"] else "live")
    console.print(table)


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
