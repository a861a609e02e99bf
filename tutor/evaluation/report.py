"""Writing an evaluation report: report.md, report.json and PNG plots in one folder.

Example::

    paths = write_report(Path("reports"), {"retrieval": r, "tutor": t})
    sorted(p.name for p in paths)
    # → ['latency.png', 'report.json', 'report.md', 'retrieval_methods.png', 'tutor_tags.png']

Plots use matplotlib's Agg backend: no display is needed (CI, servers).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

METRIC_ORDER = ("recall@", "mrr@", "ndcg@")


def _quality_metrics(methods: dict[str, dict]) -> list[str]:
    names = list(next(iter(methods.values())).keys()) if methods else []
    return [n for prefix in METRIC_ORDER for n in names if n.startswith(prefix)]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


# -- markdown -----------------------------------------------------------------------------
def retrieval_markdown(r: dict) -> list[str]:
    methods = r["methods"]
    quality = _quality_metrics(methods)
    cols = [*quality, "p50_ms", "p95_ms"]
    lines = [f"## Retrieval ({r['n_questions']} questions, k = {r['k']}, {r.get('n_chunks', '?')} chunks)", "",
             "| method | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    best = {c: max(m[c] for m in methods.values()) for c in quality}
    for name, m in methods.items():
        cells = [f"**{_fmt(m[c])}**" if c in best and m[c] == best[c] else _fmt(m[c]) for c in quality]
        cells += [f"{m[c]:.1f}" for c in ("p50_ms", "p95_ms")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if r.get("unanswerable"):
        lines += ["", f"No chunk meets the gold terms of: {', '.join(r['unanswerable'])} "
                      "(these count as misses for every method)."]
    misses = [q for q in r.get("per_question", []) if any(v.get("rank") is None or v["rank"] > r["k"]
                                                           for v in q["methods"].values())]
    if misses:
        lines += ["", f"<details><summary>{len(misses)} questions missed by at least one method "
                      f"(rank of the first relevant passage; – = not in the top 10)</summary>", "",
                  "| id | question | " + " | ".join(methods) + " |", "|---|---|" + "---:|" * len(methods)]
        for q in misses:
            ranks = [_fmt(q["methods"][m]["rank"]) for m in methods]
            lines.append(f"| {q['id']} | {q['question'][:80]} | " + " | ".join(ranks) + " |")
        lines += ["", "</details>"]
    return lines + [""]


def tutor_markdown(t: dict) -> list[str]:
    lines = [f"## Tutor ({t['n_cases']} cases, mode: {t.get('mode', 'offline')})", "",
             f"- pass rate (every tag of the case, plus citation and quote checks): **{t['pass_rate']:.3f}**",
             f"- citation validity: {t['citation_validity']:.3f} over {t.get('n_citing', '?')} replies that cite",
             f"- quote fidelity: {t['quote_fidelity']:.3f} over {t.get('n_quoting', '?')} replies that quote",
             f"- reply latency: p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms"]
    if "guidance_rate" in t:
        lines.append(f"- guidance {t['guidance_rate']:.3f}, actionability {t['actionability_rate']:.3f} over every "
                     "reply (measured, not gating; see `tutor eval mrbench` for how far these checks agree with humans)")
    if t.get("model_fallbacks"):
        lines.append(f"- model replies that fell back to offline: {t['model_fallbacks']}")
    lines += ["", "| tag | cases | pass rate |", "|---|---:|---:|"]
    for tag, rate in t["rates"].items():
        lines.append(f"| {tag} | {t.get('tag_counts', {}).get(tag, '')} | {rate:.3f} |")
    failed = [c for c in t["cases"] if not c["passed"]]
    if failed:
        lines += ["", f"<details><summary>{len(failed)} failing cases</summary>", ""]
        for c in failed:
            reply = " ".join(c["reply"].split())
            lines.append(f"- **{c['id']}** failed {', '.join(c['failed'])} — “{reply[:220]}”")
        lines += ["", "</details>"]
    return lines + [""]


def judge_markdown(j: dict) -> list[str]:
    if j.get("skipped"):
        return ["## LLM judge", "", f"Skipped: {j['skipped']}.", ""]
    lines = [f"## LLM judge (MRBench dimensions, {j['n_judged']} of {j['n_cases']} replies judged by "
             f"{j.get('judge_model')})", "", "| dimension | desired label | share | rated |", "|---|---|---:|---:|"]
    for dim, score in j["dimensions"].items():
        lines.append(f"| {dim} | {j['desired'][dim]} | {_fmt(score)} | {j['n_rated'][dim]} |")
    if j.get("errors"):
        lines += ["", f"{len(j['errors'])} replies could not be judged (first: {j['errors'][0]['error']})."]
    return lines + [""]


def essays_markdown(e: dict) -> list[str]:
    if e.get("skipped"):
        return ["## Essay coach", "", f"Skipped: {e['skipped']}.", ""]
    lines = [f"## Essay coach ({e['n_essays']} essays)", "",
             f"- level exact: {e['level_accuracy']:.3f}; within one level: {e['level_within_one']:.3f}",
             f"- marks ranges overlap: {e['marks_overlap']:.3f}",
             f"- issue kinds: recall {e['issue_recall']:.3f}, precision {e['issue_precision']:.3f}",
             f"- analysis time: p50 {e['p50_ms']:.0f} ms, p95 {e['p95_ms']:.0f} ms", "",
             "| essay | expected | coach | marks expected | coach marks | missed issues | extra issues |",
             "|---|---|---|---|---|---|---|"]
    for r in e["essays"]:
        lines.append(f"| {r['name']} | {r['expected_level']} | {r['level']} | {r['expected_marks']} | {r['marks']} | "
                     f"{', '.join(r['missed']) or '–'} | {', '.join(r['extra']) or '–'} |")
    return lines + [""]


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Evaluation report", "", f"Generated {result.get('generated_at', time.strftime('%Y-%m-%d %H:%M'))}.", ""]
    if result.get("retrieval"):
        lines += retrieval_markdown(result["retrieval"])
    if result.get("tutor"):
        lines += tutor_markdown(result["tutor"])
    if result.get("judge"):
        lines += judge_markdown(result["judge"])
    if result.get("essays"):
        lines += essays_markdown(result["essays"])
    plots = result.get("plots") or []
    if plots:
        lines += ["## Plots", ""] + [f"![{Path(p).stem}]({Path(p).name})" for p in plots] + [""]
    return "\n".join(lines)


# -- plots ---------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display: CI and servers
    import matplotlib.pyplot as plt

    return plt


def plot_methods(r: dict, path: Path) -> Path:
    plt = _pyplot()
    methods = r["methods"]
    metrics = _quality_metrics(methods)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(methods), 1)
    for i, (name, m) in enumerate(methods.items()):
        xs = [j + i * width for j in range(len(metrics))]
        bars = ax.bar(xs, [m[c] for c in metrics], width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(metrics))], metrics)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Retrieval: methods side by side ({r['n_questions']} questions)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_tags(t: dict, path: Path) -> Path:
    plt = _pyplot()
    rates = {**t["rates"], "citation_validity": t["citation_validity"], "quote_fidelity": t["quote_fidelity"],
             "ALL (pass rate)": t["pass_rate"]}
    names = list(rates)
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(names) + 1.2))
    bars = ax.barh(names, [rates[n] for n in names], color=["#4c72b0"] * (len(names) - 1) + ["#dd8452"])
    ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_xlim(0, 1.1)
    ax.invert_yaxis()
    ax.set_title(f"Tutor: pass rate per tag ({t['n_cases']} cases)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_latency(result: dict, path: Path) -> Path:
    plt = _pyplot()
    panels = []
    if result.get("retrieval", {}).get("latencies_ms"):
        panels.append(("Retrieval per query (ms)", result["retrieval"]["latencies_ms"]))
    if result.get("tutor", {}).get("latencies_ms"):
        panels.append(("Tutor reply (ms)", {"reply": result["tutor"]["latencies_ms"]}))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.8), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels):
        ax.boxplot(list(series.values()), tick_labels=list(series), showfliers=True)
        ax.set_yscale("log")  # BM25 takes under a millisecond, dense search hundreds
        ax.set_title(title)
    fig.suptitle("Latency distributions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(directory: Path, result: dict[str, Any]) -> list[Path]:
    """Write report.md, report.json and the plots that apply; returns every path written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    result = {"generated_at": time.strftime("%Y-%m-%d %H:%M"), **result}
    plots: list[Path] = []
    if result.get("retrieval"):
        plots.append(plot_methods(result["retrieval"], directory / "retrieval_methods.png"))
    if result.get("tutor"):
        plots.append(plot_tags(result["tutor"], directory / "tutor_tags.png"))
    if result.get("retrieval") or result.get("tutor"):
        plots.append(plot_latency(result, directory / "latency.png"))
    result["plots"] = [p.name for p in plots]
    md = directory / "report.md"
    md.write_text(markdown(result), encoding="utf-8")
    js = directory / "report.json"
    js.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return [md, js, *plots]
