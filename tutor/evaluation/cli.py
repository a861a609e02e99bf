"""`tutor eval`: retrieval, tutor behaviour, the LLM judge, the essay coach, or all of them.

    tutor eval retrieval --questions corpus/eval/questions.jsonl --k 5 --json out.json
    tutor eval mrbench --file ../shared/data/mrbench/MRBench_V1.json --report reports/mrbench
    tutor eval mrbench --file ../shared/data/mrbench/MRBench_V1.json --train   # refit the reveal guard
    tutor eval tutor --cases corpus/eval/tutor_cases.jsonl --fail-under pass_rate=0.9
    tutor eval all --report reports/ --fail-under hybrid.recall@5=0.8

Every command takes ``--fail-under METRIC=VALUE`` (repeatable) and exits 1 below a floor.
Exit code 2 means the command could not run (bad data file, empty store, bad configuration).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tutor.errors import TutorError
from tutor.evaluation.floors import Floor, FloorError, check_floors, parse_floor

eval_app = typer.Typer(help="Measure retrieval, the tutor's replies, an optional LLM judge and the essay coach.",
                       no_args_is_help=True)
console = Console()
err = Console(stderr=True)

FAIL_UNDER_HELP = "METRIC=VALUE floor, repeatable (e.g. hybrid.recall@5=0.8, pass_rate=0.9); exit 1 below it."
JSON_HELP = "Write the result as JSON to this file ('-' for standard output)."


def _stop(message: str, code: int = 2) -> None:
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def _floors(specs: Optional[list[str]]) -> list[Floor]:
    try:
        return [parse_floor(s) for s in specs or []]
    except FloorError as exc:
        _stop(str(exc))


def _settings():
    from tutor.settings import get_settings

    try:
        return get_settings()
    except TutorError as exc:
        _stop(f"Error: {exc}")


def _store(settings):
    from tutor.store import Store

    try:
        store = Store.open(settings)
    except TutorError as exc:
        _stop(f"Error: {exc}")
    if store.count() == 0:
        _stop(f"The passage store at {settings.home} is empty, so there is nothing to evaluate. "
              "Ingest the corpus first: `tutor ingest corpus/sources`.")
    return store


def _default(settings, name: str) -> Path:
    return settings.corpus_dir / "eval" / name


def _load(loader: Callable, path: Path):
    from tutor.evaluation.datasets import DatasetError

    try:
        return loader(path)
    except DatasetError as exc:
        _stop(f"Cannot use {path}:\n{exc}")


@contextmanager
def _progress() -> Iterator[Callable[[str], Callable[[str, int, int], None]]]:
    """Progress bars on stderr (stdout stays clean for --json -); yields a task factory."""
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        def task(title: str) -> Callable[[str, int, int], None]:
            tid = bar.add_task(title, total=None)

            def tick(label: str, done: int, total: int) -> None:
                bar.update(tid, completed=done, total=total or None, description=f"{title} {label}"[:40])
            return tick
        yield task


def _finish(result: dict[str, Any], json_out: Optional[Path], floors: list[Floor]) -> None:
    if json_out is not None:
        text = json.dumps(result, indent=2, ensure_ascii=False, default=str)
        if str(json_out) == "-":
            typer.echo(text)
        else:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(text, encoding="utf-8")
            err.print(f"wrote {json_out}", highlight=False)
    try:
        failures = check_floors(result, floors)
    except FloorError as exc:
        _stop(str(exc))
    for failure in failures:
        err.print(f"[red]below the floor:[/red] {failure}", highlight=False)
    if failures:
        raise typer.Exit(1)


# -- printing -----------------------------------------------------------------------------
def print_retrieval(r: dict, out: Console) -> None:
    k = r["k"]
    table = Table(title=f"Retrieval: {r['n_questions']} questions, {r.get('n_chunks', '?')} chunks")
    for col in ("method", f"recall@{k}", "MRR@10", "nDCG@10", "p50 ms", "p95 ms"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, m in r["methods"].items():
        table.add_row(name, f"{m[f'recall@{k}']:.3f}", f"{m['mrr@10']:.3f}", f"{m['ndcg@10']:.3f}",
                      f"{m['p50_ms']:.1f}", f"{m['p95_ms']:.1f}")
    out.print(table)
    if r.get("unanswerable"):
        out.print(f"No chunk meets the gold terms of {', '.join(r['unanswerable'])}.", style="yellow")


def print_tutor(t: dict, out: Console) -> None:
    table = Table(title=f"Tutor: {t['n_cases']} cases ({t.get('mode', 'offline')})")
    table.add_column("tag")
    table.add_column("cases", justify="right")
    table.add_column("pass rate", justify="right")
    for tag, rate in t["rates"].items():
        table.add_row(tag, str(t["tag_counts"].get(tag, "")), f"{rate:.3f}")
    table.add_row("citation_validity", str(t["n_citing"]), f"{t['citation_validity']:.3f}")
    table.add_row("quote_fidelity", str(t["n_quoting"]), f"{t['quote_fidelity']:.3f}")
    for name in ("guidance_rate", "actionability_rate"):
        if name in t:
            table.add_row(f"{name.split('_')[0]} (every reply, not gating)", str(t["n_cases"]), f"{t[name]:.3f}")
    table.add_row("[bold]all checks (pass rate)[/bold]", str(t["n_cases"]), f"[bold]{t['pass_rate']:.3f}[/bold]")
    out.print(table)
    out.print(f"reply latency p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms", highlight=False)
    for c in t["cases"]:
        if not c["passed"]:
            out.print(f"  {c['id']} failed {', '.join(c['failed'])}: {' '.join(c['reply'].split())[:160]}",
                      markup=False, highlight=False, style="dim")


def print_judge(j: dict, out: Console) -> None:
    table = Table(title=f"LLM judge ({j.get('judge_model')}): {j['n_judged']} of {j['n_cases']} replies")
    for col in ("dimension", "desired", "share", "rated"):
        table.add_column(col, justify="right" if col in ("share", "rated") else "left")
    for dim, score in j["dimensions"].items():
        table.add_row(dim, j["desired"][dim], "–" if score is None else f"{score:.3f}", str(j["n_rated"][dim]))
    out.print(table)
    if j["errors"]:
        out.print(f"{len(j['errors'])} replies could not be judged, e.g. {j['errors'][0]['error']}", style="yellow")


def print_essays(e: dict, out: Console) -> None:
    table = Table(title=f"Essay coach: {e['n_essays']} essays")
    for col in ("essay", "expected", "coach", "marks (expected)", "marks (coach)", "missed", "extra"):
        table.add_column(col, overflow="fold")
    for r in e["essays"]:
        table.add_row(r["name"], r["expected_level"], str(r["level"]), str(r["expected_marks"]), str(r["marks"]),
                      ", ".join(r["missed"]) or "–", ", ".join(r["extra"]) or "–")
    out.print(table)
    out.print(f"level exact {e['level_accuracy']:.3f}, within one {e['level_within_one']:.3f}, marks overlap "
              f"{e['marks_overlap']:.3f}, issue recall {e['issue_recall']:.3f}, precision {e['issue_precision']:.3f}",
              highlight=False)


def print_mrbench(r: dict, out: Console) -> None:
    """One row per dimension and scheme: the checks beside the baselines, the judge and BEA 2025."""
    short = {"revealing_of_the_answer": "reveals answer", "providing_guidance": "guidance",
             "actionability": "actionability", "mistake_identification": "mistake ident.",
             "mistake_location": "mistake locat."}
    for split in ("dev", "test"):
        s = r["splits"][split]
        table = Table(title=f"MRBench {split}: {s['n_replies']} replies, {s['n_dialogues']} dialogues "
                            f"({s['n_with_solution']} with a solution); macro-F1 unless marked")
        for col in ("dimension", "scheme", "n", "checks", "κ", "rules", "majority", "question", "judge", "BEA best"):
            table.add_column(col, justify="left" if col in ("dimension", "scheme") else "right")
        for name, dim in s["dimensions"].items():
            for scheme in ("exact", "lenient"):
                m = dim.get(scheme)
                if not m or not m["check"]["n"]:
                    continue
                f1 = {who: "–" if v is None or v["macro_f1"] is None else f"{v['macro_f1']:.3f}" for who, v in m.items()}
                f1.setdefault("rules", "–")
                ref = dim["reference_f1"] if scheme == "exact" and dim["reference_f1"] is not None else None
                table.add_row(short.get(name, name), scheme, str(m["check"]["n"]), f"[bold]{f1['check']}[/bold]",
                              f"{m['check']['kappa']:.3f}", f1["rules"], f1["majority"], f1["question"], f1["judge"],
                              "–" if ref is None else f"{ref:.3f}")
        out.print(table)
    print_reveal_heldout(r, out)
    for g in r.get("goals", []):
        value = "–" if g["test"] is None else f"{g['test']:.3f}"
        out.print(f"goal {g['dimension']} ({g['scheme']}) macro-F1 ≥ {g['floor']:.2f} on test: {value} "
                  f"{'met' if g['met'] else 'NOT met'}", highlight=False)
    if r.get("judge_skipped"):
        out.print(f"LLM judge not run: {r['judge_skipped']}.", highlight=False)
    elif r.get("judge_errors"):
        out.print(f"{len(r['judge_errors'])} replies could not be judged, e.g. {r['judge_errors'][0]['error']}",
                  style="yellow", highlight=False)


def print_reveal_heldout(r: dict, out: Console) -> None:
    """The reveal guard on replies it was not trained on, beside the old rules on the same replies."""
    if "reveal_heldout" not in r:
        out.print("Reveal guard not run (--rules-only, or no classifier): the reveal label is the rules'.",
                  highlight=False)
        return
    g = r["reveal_guard"]
    out.print(f"Reveal guard: trained on {g['trained_on']} ({g['embedder']}, threshold {g['threshold']:.2f}); "
              "in-sample figure: the dev rows above, held out: the test rows and this table.", highlight=False)
    table = Table(title="Reveal guard held out: macro-F1 and per-class F1 (reveals / does not), guard vs old rules")
    for col in ("held out", "replies", "folds", "guard macro-F1", "guard F1 yes/no", "rules macro-F1", "rules F1 yes/no"):
        table.add_column(col, justify="left" if col == "held out" else "right")
    for name, h in r["reveal_heldout"].items():
        if "skipped" in h:
            table.add_row(name, "–", "–", h["skipped"], "", "", "")
            continue
        pair = {who: f"{h[who]['f1']['yes']:.3f} / {h[who]['f1']['no']:.3f}" for who in ("guard", "rules")}
        table.add_row(name, str(h["n"]), str(h["folds"]), f"[bold]{h['guard']['macro_f1']:.3f}[/bold]", pair["guard"],
                      f"{h['rules']['macro_f1']:.3f}", pair["rules"])
    out.print(table)
    by_tutor = r["reveal_heldout"].get("leave_tutor_out", {}).get("by_tutor")
    if by_tutor:
        out.print("each tutor when left out, macro-F1 guard / rules: "
                  + ", ".join(f"{t} {v['guard']:.2f} / {v['rules']:.2f}" for t, v in by_tutor.items()), highlight=False)


# -- the runs (shared by the single commands and `all`) -------------------------------------
def _retrieval(store, questions_path: Path, k: int, methods: str, task) -> dict:
    from tutor.evaluation.datasets import load_questions
    from tutor.evaluation.retrieval_eval import parse_methods, run_retrieval
    from tutor.retrieval import Retriever

    try:
        chosen = parse_methods(methods)
    except ValueError as exc:
        _stop(str(exc))
    from tutor.glossary import load_glossary

    questions = _load(load_questions, questions_path)
    # The app's retriever: the glossary's names added for a student's shorthand (services.build).
    retriever = Retriever(store, expand=load_glossary(store.settings.corpus_dir).expanded)
    result = run_retrieval(retriever, questions, k=k, methods=chosen, on_progress=task("retrieval"))
    return {"set": str(questions_path), **result}


def _services(settings, store, offline: bool = False):
    from tutor.services import CONFIGURED, build

    try:
        return build(settings, store=store, chat_model=None if offline else CONFIGURED)
    except TutorError as exc:
        _stop(f"Error: {exc}")


def _make_tutor(settings, store, offline: bool):
    return _services(settings, store, offline).tutor


def _tutor_run(settings, store, cases_path: Path, offline: bool, task) -> dict:
    from tutor.evaluation.datasets import load_cases
    from tutor.evaluation.tutor_eval import run_tutor

    cases = _load(load_cases, cases_path)
    tutor = _make_tutor(settings, store, offline)
    return {"set": str(cases_path), **run_tutor(tutor, cases, on_progress=task("tutor cases"))}


def _judge_model(settings):
    """The configured chat model, or None (with the reason) when there is none."""
    from tutor.llm import chat_model

    try:
        model = chat_model(settings)
    except TutorError as exc:
        return None, f"the model configuration is not usable ({exc})"
    if model is None:
        return None, ("no model is configured (TUTOR_LLM is offline and neither OPENAI_API_KEY nor "
                      "TUTOR_LLM_BASE_URL is set); the judge needs one")
    return model, ""


def _judge_run(settings, store, cases_path: Path, limit: Optional[int], task, model) -> dict:
    from tutor.evaluation.datasets import load_cases
    from tutor.evaluation.judge import load_judge_prompt, run_judge

    cases = _load(load_cases, cases_path)
    if limit:
        cases = cases[:limit]
    try:
        prompt = load_judge_prompt(settings.prompts_dir)
    except OSError as exc:
        _stop(f"Cannot read the judge prompt {settings.prompts_dir / 'judge.md'} ({exc}).")
    tutor = _make_tutor(settings, store, offline=False)
    return {"set": str(cases_path), **run_judge(tutor, model, cases, prompt, on_progress=task("judging"))}




def _essays_run(settings, store, directory: Path, task) -> dict:
    from tutor.evaluation.datasets import load_essays
    from tutor.evaluation.essays import run_essays

    samples = _load(load_essays, directory)
    coach = _services(settings, store, offline=True).essay_coach
    return {"dir": str(directory), **run_essays(coach, samples, on_progress=task("essays"))}


def _run_one(run, printer, json_out: Optional[Path], fail_under: Optional[list[str]]) -> None:
    """The shape every single-set command shares: floors, store, a progress bar, print, finish."""
    floors = _floors(fail_under)
    settings = _settings()
    store = _store(settings)
    with _progress() as task:
        result = run(settings, store, task)
    printer(result, err if str(json_out) == "-" else console)
    _finish(result, json_out, floors)


# -- commands -------------------------------------------------------------------------------
@eval_app.command()
def retrieval(
    questions: Optional[Path] = typer.Option(None, "--questions", help="JSONL questions (default corpus/eval/questions.jsonl)."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50, help="Cut-off for recall@k."),
    methods: str = typer.Option("hybrid,dense,bm25", "--methods", help="Comma-separated: hybrid, dense, bm25."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """recall@k (hit rate), MRR@10, nDCG@10 and latency for each method, side by side in one run."""
    _run_one(lambda settings, store, task: _retrieval(
        store, questions or _default(settings, "questions.jsonl"), k, methods, task),
        print_retrieval, json_out, fail_under)


@eval_app.command()
def tutor(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL cases (default corpus/eval/tutor_cases.jsonl)."),
    offline: bool = typer.Option(False, "--offline", help="Use the offline tutor even if a model is configured."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Run each case through the real Tutor and check its `must` tags, citations, quotes and latency."""
    _run_one(lambda settings, store, task: _tutor_run(
        settings, store, cases or _default(settings, "tutor_cases.jsonl"), offline, task),
        print_tutor, json_out, fail_under)


@eval_app.command()
def judge(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL cases (default corpus/eval/tutor_cases.jsonl)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Judge only the first N cases."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Optional: the configured model rates the tutor's replies on MRBench's dimensions."""
    floors = _floors(fail_under)
    settings = _settings()
    model, reason = _judge_model(settings)
    if model is None:
        console.print(f"The LLM judge did not run: {reason}. Set OPENAI_API_KEY (or TUTOR_LLM_BASE_URL and "
                      "TUTOR_LLM_MODEL for an OpenAI-compatible server) to use it.", highlight=False)
        raise typer.Exit(0)
    store = _store(settings)
    with _progress() as task:
        result = _judge_run(settings, store, cases or _default(settings, "tutor_cases.jsonl"), limit, task, model)
    print_judge(result, err if str(json_out) == "-" else console)
    _finish(result, json_out, floors)


@eval_app.command()
def essays(
    directory: Optional[Path] = typer.Option(None, "--dir", help="Folder of essays with .json sidecars (default corpus/eval/essays)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Compare the essay coach's level, marks and issues with each essay's sidecar."""
    _run_one(lambda settings, store, task: _essays_run(
        settings, store, directory or _default(settings, "essays"), task),
        print_essays, json_out, fail_under)


def print_claims(c: dict, out: Console) -> None:
    table = Table("set", "false caught", "true flagged")
    rows = [("all", c["metrics"])] + list(c["metrics"].get("splits", {}).items())
    for name, m in rows:
        table.add_row(name, f"{m['false_caught_n']}/{m['false_statements']} ({m['false_caught']})",
                      f"{m['true_flagged_n']}/{m['true_statements']} ({m['true_flagged']})")
    out.print(table)


def _claims_run(settings, cases_path: Path, task) -> dict:
    from tutor.embeddings import get_embedder
    from tutor.evaluation.claims import load_claim_cases, run_claims
    from tutor.facts import FactChecker
    from tutor.lessons import LessonError

    cases = _load(load_claim_cases, cases_path)
    try:
        checker = FactChecker.load(settings.corpus_dir, embedder=get_embedder(settings))
    except LessonError as exc:
        _stop(f"The fact base cannot be loaded:\n{exc}")
    return {"cases_file": str(cases_path), **run_claims(checker, cases, on_progress=task("claims"))}


@eval_app.command()
def claims(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL statements (default corpus/eval/claims.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """The fact checker on true and false statements: share of false ones caught, true ones flagged.
    Needs no passage store."""
    floors = _floors(fail_under)
    settings = _settings()
    with _progress() as task:
        result = _claims_run(settings, cases or _default(settings, "claims.jsonl"), task)
    print_claims(result, err if str(json_out) == "-" else console)
    _finish(result, json_out, floors)


def print_verdicts(v: dict, out: Console) -> None:
    m = v["metrics"]
    table = Table("statements", "false confirmed", "false corrected", "true called wrong", "true confirmed")
    table.add_row(f"{m['false_statements']} false, {m['true_statements']} true",
                  f"{m['false_confirmed_n']} ({m['false_confirmed']})", f"{m['false_corrected_n']} ({m['false_corrected']})",
                  f"{m['true_called_wrong_n']} ({m['true_called_wrong']})", f"{m['true_confirmed_n']} ({m['true_confirmed']})")
    out.print(table)


def _verdicts_run(settings, store, path: Path, task) -> dict:
    from tutor.evaluation.claims import load_claim_cases
    from tutor.evaluation.verdicts import run_verdicts

    cases = _load(load_claim_cases, path)
    tutor = _make_tutor(settings, store, offline=True)
    return {"cases_file": str(path), **run_verdicts(tutor, cases, on_progress=task("verdicts"))}


@eval_app.command()
def verdicts(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL statements (default corpus/eval/claims.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """The offline tutor's verdict on each labelled statement, asked as "…, right?" in a conversation of its
    own: false ones confirmed (must be none) or corrected, true ones called wrong (must be none) or confirmed."""
    _run_one(lambda settings, store, task: _verdicts_run(settings, store, cases or _default(settings, "claims.jsonl"), task),
             print_verdicts, json_out, fail_under)


@eval_app.command()
def acts(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL acts in context (default corpus/eval/acts.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Accuracy of the dialogue act the offline tutor reads for each message in its context."""
    _run_one(lambda settings, store, task: _acts_run(settings, store, cases or _default(settings, "acts.jsonl"), task),
             print_acts, json_out, fail_under)


@eval_app.command()
def dialogues(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL dialogues (default corpus/eval/dialogues.jsonl)."),
    offline: bool = typer.Option(False, "--offline", help="Use the offline tutor even if a model is configured."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    report: Optional[Path] = typer.Option(None, "--report", help="Write dialogues.md (metrics and transcripts) here."),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Scripted multi-turn dialogues: repetition, expectations, feedback, acts, questions, closure."""
    def run(settings, store, task):
        result = _dialogues_run(settings, store, cases or _default(settings, "dialogues.jsonl"), offline, task)
        if report is not None:
            from tutor.evaluation.dialogues import dialogues_markdown

            report.mkdir(parents=True, exist_ok=True)
            (report / "dialogues.md").write_text(dialogues_markdown(result), encoding="utf-8")
            err.print(f"wrote {report / 'dialogues.md'}", highlight=False)
        return result
    _run_one(run, print_dialogues, json_out, fail_under)


def print_acts(a: dict, out: Console) -> None:
    table = Table(title=f"Dialogue acts in context: {a['n_cases']} messages")
    table.add_column("act")
    splits = list(a["splits"])
    for col in ["n", "accuracy", *splits]:
        table.add_column(col, justify="right")
    for act, row in a["per_act"].items():
        table.add_row(act, str(row["n"]), f"{row['accuracy']:.3f}",
                      *[f"{a['splits'][s]['per_act'].get(act, {}).get('accuracy', float('nan')):.3f}" for s in splits])
    table.add_row("[bold]all[/bold]", str(a["n"]), f"[bold]{a['accuracy']:.3f}[/bold]",
                  *[f"{a['splits'][s]['accuracy']:.3f}" for s in splits])
    out.print(table)
    for m in a["misses"][:30]:
        out.print(f"  {m['id']} ({m['split']}): {m['act']} read as {m['read']}: {m['message'][:80]}",
                  markup=False, highlight=False, style="dim")


def print_dialogues(d: dict, out: Console) -> None:
    table = Table(title=f"Dialogues: {d['n_dialogues']} dialogues, {d['n_turns']} turns")
    table.add_column("metric")
    splits = list(d["splits"])
    for col in ["all", *splits]:
        table.add_column(col, justify="right")
    for key in ("repetition_rate", "expectation_hit_rate", "feedback_accuracy", "act_accuracy", "question_rate",
                "closure_rate", "struggling_redirected", "latency_p50_ms", "latency_p95_ms"):
        table.add_row(key, str(d["metrics"][key]), *[str(d["splits"][s][key]) for s in splits])
    out.print(table)


def _acts_run(settings, store, path: Path, task) -> dict:
    from tutor.evaluation.dialogues import load_acts, run_acts

    rows = _load(load_acts, path)
    tutor = _make_tutor(settings, store, offline=True)
    return {"set": str(path), **run_acts(tutor, rows, on_progress=task("acts"))}


def _dialogues_run(settings, store, path: Path, offline: bool, task) -> dict:
    from tutor.evaluation.dialogues import load_dialogues, run_dialogues

    rows = _load(load_dialogues, path)
    tutor = _make_tutor(settings, store, offline)
    return {"set": str(path), **run_dialogues(tutor, rows, on_progress=task("dialogues"))}


@eval_app.command()
def mrbench(
    file: Path = typer.Option(..., "--file", help="An MRBench JSON file (e.g. MRBench_V1.json)."),
    with_judge: bool = typer.Option(True, "--judge/--no-judge", help="Also score the LLM judge when a model is configured."),
    judge_limit: Optional[int] = typer.Option(None, "--judge-limit", min=1, help="Judge only the first N replies."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write mrbench.md, mrbench.json and a PNG per dimension here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
    guard: bool = typer.Option(True, "--guard/--rules-only",
                               help="Score the trained reveal guard (embeds every reply with MiniLM) or the rules alone."),
    train: bool = typer.Option(False, "--train", help="Refit the reveal guard on the file's dev half and write it first."),
    train_out: Optional[Path] = typer.Option(None, "--train-out",
                                             help="Where --train writes the classifier (default: the committed one)."),
) -> None:
    """Agreement of the reply checks (and the LLM judge) with MRBench's human labels."""
    from tutor.evaluation.mrbench import load_mrbench, model_judge, run_mrbench

    floors = _floors(fail_under)
    dialogues = _load(load_mrbench, file)
    judge, errors, skipped = None, [], ""
    if with_judge:
        settings = _settings()
        model, skipped = _judge_model(settings)
        if model is not None:
            from tutor.evaluation.judge import load_judge_prompt

            try:
                judge = model_judge(model, load_judge_prompt(settings.prompts_dir), errors)
            except OSError as exc:
                _stop(f"Cannot read the judge prompt {settings.prompts_dir / 'judge.md'} ({exc}).")
    else:
        skipped = "not requested (--no-judge)"
    vectors, classifier = _reveal_guard(dialogues, guard or train, train, train_out, file.name)
    with _progress() as task:
        result = run_mrbench(dialogues, judge=judge, judge_limit=judge_limit, on_progress=task("mrbench"),
                             vectors=vectors, classifier=classifier)
    result = {"file": str(file), **result, "judge_errors": errors, **({"judge_skipped": skipped} if judge is None else {})}
    out = err if str(json_out) == "-" else console
    print_mrbench(result, out)
    if report is not None:
        from tutor.evaluation.mrbench_report import write_mrbench_report

        paths = write_mrbench_report(report, result)
        err.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False)
    _finish(result, json_out, floors)


def _reveal_guard(dialogues: list, wanted: bool, train: bool, train_out: Optional[Path], source: str):
    """The replies' MiniLM embeddings and the reveal classifier (refitted on the dev half with
    ``train``), or (None, None) for the rules alone."""
    if not wanted:
        return None, None
    from tutor.embeddings import MiniLMEmbeddings, get_embedder
    from tutor.evaluation.reveal_training import embed_replies, reveal_inputs, train_classifier
    from tutor.pedagogy.reveal import CLASSIFIER_PATH, load_classifier

    # The guard's weights are for MiniLM vectors, whatever TUTOR_EMBEDDINGS the store uses.
    embedder = get_embedder(_settings())
    if not isinstance(embedder, MiniLMEmbeddings):
        embedder = MiniLMEmbeddings()
    err.print(f"embedding {sum(len(d.replies) for d in dialogues)} replies with {embedder.name} …", highlight=False)
    try:
        vectors = embed_replies(dialogues, embedder)
    except TutorError as exc:
        _stop(f"Error: {exc}")
    if not train:
        classifier = load_classifier()
        if classifier is None:
            err.print(f"No reveal classifier at {CLASSIFIER_PATH}: scoring the rules alone (--train writes one).",
                      style="yellow", highlight=False)
            return None, None
        return vectors, classifier
    inputs = reveal_inputs(dialogues, vectors, embedder.name)
    try:
        dev = inputs.subset(inputs.splits == "dev")
        classifier = train_classifier(dev, trained_on=f"{source}, dev half: {len(set(dev.dialogues.tolist()))} "
                                                      f"dialogues, {len(dev.gold)} labelled replies")
    except ValueError as exc:
        _stop(f"Cannot train the reveal guard: {exc}")
    path = train_out or CLASSIFIER_PATH
    path.write_text(classifier.to_json(), encoding="utf-8")
    load_classifier.cache_clear()
    err.print(f"wrote the reveal classifier to {path} (threshold {classifier.threshold:.2f})", highlight=False)
    return vectors, classifier


@eval_app.command("all")
def run_all(
    questions: Optional[Path] = typer.Option(None, "--questions", help="Retrieval questions (JSONL)."),
    cases: Optional[Path] = typer.Option(None, "--cases", help="Tutor cases (JSONL)."),
    essays_dir: Optional[Path] = typer.Option(None, "--essays", help="Folder of sample essays."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50, help="Cut-off for recall@k."),
    offline: bool = typer.Option(False, "--offline", help="Use the offline tutor even if a model is configured."),
    with_judge: bool = typer.Option(True, "--judge/--no-judge", help="Run the LLM judge when a model is configured."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write report.md, report.json and PNG plots here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Everything: retrieval, tutor cases, the judge (if a model is configured) and the essay coach."""
    floors = _floors(fail_under)
    settings = _settings()
    store = _store(settings)
    out = err if str(json_out) == "-" else console
    result: dict[str, Any] = {}
    with _progress() as task:
        result["retrieval"] = _retrieval(store, questions or _default(settings, "questions.jsonl"), k,
                                         "hybrid,dense,bm25", task)
        result["tutor"] = _tutor_run(settings, store, cases or _default(settings, "tutor_cases.jsonl"), offline, task)
        model, reason = _judge_model(settings) if with_judge and not offline else (None, "not requested")
        result["judge"] = (_judge_run(settings, store, cases or _default(settings, "tutor_cases.jsonl"), None, task,
                                      model) if model is not None else {"skipped": reason})
        result["essays"] = _essays_run(settings, store, essays_dir or _default(settings, "essays"), task)
    print_retrieval(result["retrieval"], out)
    print_tutor(result["tutor"], out)
    if result["judge"].get("skipped"):
        out.print(f"LLM judge skipped: {result['judge']['skipped']}.", highlight=False)
    else:
        print_judge(result["judge"], out)
    if result["essays"].get("skipped"):
        out.print(f"Essay coach skipped: {result['essays']['skipped']}.", highlight=False)
    else:
        print_essays(result["essays"], out)
    if report is not None:
        from tutor.evaluation.report import write_report

        paths = write_report(report, result)
        err.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False)
    _finish(result, json_out, floors)


@eval_app.command()
def sweep(
    sizes: str = typer.Option("600,900,1200,1500", "--sizes", help="Chunk sizes in characters, comma-separated."),
    overlap_ratio: float = typer.Option(0.125, "--overlap-ratio", min=0.0, max=0.5, help="Overlap as a share of the size."),
    rrf_k: str = typer.Option("10,60", "--rrf-k", help="RRF constants to try for the hybrid method, comma-separated."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="Retrieval questions (JSONL)."),
    sources: Optional[Path] = typer.Option(None, "--sources", help="Documents to ingest (default corpus/sources)."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50, help="Cut-off for recall@k."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="Write the table as Markdown here."),
) -> None:
    """Ingest the corpus at several chunk sizes (in throw-away stores) and measure every method."""
    from tutor.evaluation.datasets import load_questions
    from tutor.evaluation.sweep import sweep_chunking, sweep_markdown

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
        rrf_list = [int(s) for s in rrf_k.split(",") if s.strip()]
    except ValueError:
        _stop("--sizes and --rrf-k take comma-separated whole numbers, e.g. --sizes 600,900,1200")
    if not size_list or any(not 200 <= s <= 4000 for s in size_list) or not rrf_list or min(rrf_list) < 1:
        _stop("--sizes must be between 200 and 4000 characters and --rrf-k at least 1")
    settings = _settings()
    questions_list = _load(load_questions, questions or _default(settings, "questions.jsonl"))
    sources = sources or settings.corpus_dir / "sources"
    if not sources.exists():
        _stop(f"{sources}: no such file or folder")
    try:
        with _progress() as task:
            rows = sweep_chunking(sources, questions_list, sizes=size_list, overlap_ratio=overlap_ratio,
                                  rrf_ks=rrf_list, k=k, on_progress=task("sweep"))
    except TutorError as exc:
        _stop(f"Error: {exc}")
    table = sweep_markdown(rows, k)
    (err if str(json_out) == "-" else console).print(table, markup=False, highlight=False)
    if markdown_out is not None:
        markdown_out.write_text(table + "\n", encoding="utf-8")
    _finish({"k": k, "rows": rows}, json_out, [])


def print_grounded(g: dict, out: Console) -> None:
    m = g["metrics"]
    table = Table("document", "grounded")
    for doc, rate in m["per_document"].items():
        table.add_row(doc, f"{rate:.0%}")
    out.print(table)
    out.print(f"{m['questions']} questions: grounded {m['grounded_rate']:.1%} (cites the document "
              f"{m['cites_document_rate']:.1%}, asks about its subject {m['asks_about_subject_rate']:.1%})",
              highlight=False)
    for r in g["results"]:
        if not r["grounded"]:
            out.print(f"  not grounded {r['id']} {r['question']!r} → {r['reply'][:160]!r}", markup=False, highlight=False)


def _grounded_run(settings, store, questions_path: Path, task) -> dict:
    from tutor.evaluation.grounded import TeacherQuestionsError, load_teacher_questions, run_grounded

    try:
        rows = load_teacher_questions(questions_path)
    except (OSError, TeacherQuestionsError) as exc:
        _stop(f"Cannot use {questions_path}: {exc}")
    missing = sorted({r["doc_id"] for r in rows} - {d.doc_id for d in store.documents()})
    if missing:
        _stop(f"These documents are not in the store: {', '.join(missing)}. Upload them on the Teacher page, or "
              "copy them out of the corpus and ingest the copy (`tutor ingest` leaves corpus/eval alone): "
              "`cp -r corpus/eval/teacher_documents /tmp/teacher-documents && tutor ingest /tmp/teacher-documents`.")
    tutor = _make_tutor(settings, store, offline=True)
    return {"set": str(questions_path), **run_grounded(tutor, rows, on_progress=task("teacher questions"))}


@eval_app.command()
def grounded(
    questions: Optional[Path] = typer.Option(None, "--questions",
                                             help="JSONL (default corpus/eval/teacher_questions.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Questions on teacher documents no card covers: does the reply cite the document and ask about its subject?"""
    _run_one(lambda settings, store, task: _grounded_run(
        settings, store, questions or _default(settings, "teacher_questions.jsonl"), task),
        print_grounded, json_out, fail_under)


def print_keypoints(k: dict, out: Console) -> None:
    m = k["metrics"]
    table = Table(title=f"Close key-point matches: {m['n']} sentences ({m['near_misses']} near-misses)")
    for col in ("threshold", "said right", "precision", "recall"):
        table.add_column(col, justify="right")
    for row in k["sweep"]:
        if row["threshold"] * 100 % 2 == 0 or row["threshold"] in (m["calibrated_threshold"], m["threshold_in_force"]):
            table.add_row(f"{row['threshold']:.2f}", str(row["right"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}")
    out.print(table)
    out.print(f"calibrated threshold (precision ≥ 0.98 from there up): {m['calibrated_threshold']}; in force: "
              f"{m['threshold_in_force']}; the tutor's 'right': precision {m['right_precision']:.3f}, recall "
              f"{m['right_recall']:.3f}, near-misses confirmed {m['false_confirmed']}, true ones called wrong "
              f"{m['false_called_wrong']}", highlight=False)


@eval_app.command()
def keypoints(
    cases: Optional[Path] = typer.Option(None, "--cases", help="JSONL sentences (default corpus/eval/keypoint_matches.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help=JSON_HELP),
    fail_under: Optional[list[str]] = typer.Option(None, "--fail-under", help=FAIL_UNDER_HELP),
) -> None:
    """Precision of the offline tutor's "right" on near-misses, and the threshold sweep that
    calibrates it. Needs no passage store."""
    from tutor.embeddings import get_embedder
    from tutor.evaluation.keypoints import load_keypoint_cases, run_keypoints
    from tutor.facts import FactChecker
    from tutor.lessons import LessonError, load_lessons
    from tutor.pedagogy.assess import Assessor
    from tutor.pedagogy.learner import KeyPointMatcher

    floors = _floors(fail_under)
    settings = _settings()
    rows = _load(load_keypoint_cases, cases or _default(settings, "keypoint_matches.jsonl"))
    embedder = get_embedder(settings)
    try:
        lessons = load_lessons(settings.corpus_dir)
        facts = FactChecker.load(settings.corpus_dir, embedder=embedder, lessons=lessons)
    except LessonError as exc:
        _stop(f"The lessons or the fact base cannot be loaded:\n{exc}")
    with _progress() as task:
        result = run_keypoints(Assessor(KeyPointMatcher(embedder), lessons, facts), lessons, rows,
                               on_progress=task("key points"))
    print_keypoints(result, err if str(json_out) == "-" else console)
    _finish(result, json_out, floors)
