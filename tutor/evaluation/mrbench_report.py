"""The MRBench agreement report: mrbench.md, mrbench.json and one PNG per dimension.

Example::

    paths = write_mrbench_report(Path("reports/mrbench"), result)
    sorted(p.name for p in paths)[:2]
    # → ['mrbench.json', 'mrbench.md']

Each plot shows, for one dimension on the test half, macro-F1 (exact, and lenient for the
three-label dimensions) and Cohen's κ of the checks, the two baselines and (when it ran) the LLM
judge, with the published reference figure as a line; beside it, the checks' confusion matrix
against the human labels.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tutor.evaluation.report import _pyplot

NAMES = {"check": "project checks", "rules": "reveal rules alone", "majority": "majority label", "question": "contains a question",
         "judge": "LLM judge"}


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def summary_rows(result: dict, split: str = "test") -> list[dict]:
    """One row per dimension and predictor: the numbers the table and the plots show."""
    rows = []
    for name, dim in result["splits"][split]["dimensions"].items():
        for scheme in ("exact", "lenient"):
            for who, m in (dim.get(scheme) or {}).items():
                if m is None or not m["n"]:
                    continue
                rows.append({"dimension": name, "scheme": scheme, "predictor": who, "n": m["n"],
                             "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "kappa": m["kappa"]})
    return rows


def markdown(result: dict) -> str:
    lines = ["# MRBench: the reply checks against human labels", "",
             f"Generated {result.get('generated_at', time.strftime('%Y-%m-%d %H:%M'))} from `{result.get('file', '?')}`: "
             f"{result['n_replies']} replies in {result['n_dialogues']} dialogues "
             f"({result['n_with_solution']} replies have a reference solution). Split: {result['split_rule']}. "
             "The rules were adjusted on dev figures only; test is the held-out half (docs/evaluation.md says how).", ""]
    goals = result.get("goals") or []
    if goals:
        lines += ["## Goals (macro-F1 of the checks on the test half)", "", "| dimension | scheme | floor | dev | test | met |",
                  "|---|---|---:|---:|---:|---|"]
        for g in goals:
            lines.append(f"| {g['dimension']} | {g['scheme']} | {g['floor']:.2f} | {_f(g['dev'])} | {_f(g['test'])} | "
                         f"{'yes' if g['met'] else '**no**'} |")
        lines.append("")
    lines += reveal_heldout_lines(result)
    for split in ("test", "dev", "all"):
        s = result["splits"][split]
        lines += [f"## {split} ({s['n_replies']} replies, {s['n_dialogues']} dialogues)", "",
                  "| dimension | scheme | predictor | replies | accuracy | macro-F1 | κ | BEA 2025 best (exact) |",
                  "|---|---|---|---:|---:|---:|---:|---:|"]
        for row in summary_rows(result, split):
            ref = s["dimensions"][row["dimension"]]["reference_f1"] if row["scheme"] == "exact" else None
            f1 = f"**{_f(row['macro_f1'])}**" if row["predictor"] == "check" else _f(row["macro_f1"])
            lines.append(f"| {row['dimension']} | {row['scheme']} | {NAMES[row['predictor']]} | {row['n']} | "
                         f"{_f(row['accuracy'])} | {f1} | {_f(row['kappa'])} | {_f(ref)} |")
        unlabelled = {d: v["n_unlabelled"] for d, v in s["dimensions"].items() if v["n_unlabelled"]}
        if unlabelled:
            lines += ["", "Replies without a human label (not scored): "
                      + ", ".join(f"{d} {n}" for d, n in unlabelled.items()) + "."]
        lines.append("")
    split = plot_split(result)
    test = result["splits"][split]["dimensions"]
    lines += [f"## Confusion matrices of the checks ({split}; rows human, columns checks)", ""]
    for name, dim in test.items():
        for scheme in ("exact", "lenient"):
            m = (dim.get(scheme) or {}).get("check")
            if not m or not m["n"]:
                continue
            labels = m["confusion"]["labels"]
            lines += [f"**{name}** ({scheme})", "", "| human \\ checks | " + " | ".join(labels) + " |",
                      "|---|" + "---:|" * len(labels)]
            for lab, row in zip(labels, m["confusion"]["matrix"]):
                lines.append(f"| {lab} | " + " | ".join(str(x) for x in row) + " |")
            lines.append("")
    if result.get("judge_skipped"):
        lines += [f"LLM judge: not run ({result['judge_skipped']}).", ""]
    elif result.get("judge_errors"):
        lines += [f"LLM judge: {len(result['judge_errors'])} replies could not be judged "
                  f"(first: {result['judge_errors'][0]['error']}).", ""]
    plots = result.get("plots") or []
    if plots:
        lines += ["## Plots", ""] + [f"![{Path(p).stem}]({Path(p).name})" for p in plots] + [""]
    return "\n".join(lines)


def reveal_heldout_lines(result: dict) -> list[str]:
    """The reveal guard on replies it was not trained on, beside the old rules on the same replies."""
    if "reveal_heldout" not in result:
        return ["Reveal guard: not run (the reveal label is the rules' alone).", ""]
    g = result["reveal_guard"]
    lines = ["## The reveal guard held out", "",
             f"Trained on {g['trained_on']} ({g['embedder']} embedding and the rules' findings, threshold "
             f"{g['threshold']:.2f}): the dev tables below are in-sample, the test tables held out. Held out "
             "below, the same recipe refitted without the replies it is scored on; the old rules on the same replies.", "",
             "| held out | replies | folds | guard macro-F1 | guard F1 reveals / not | rules macro-F1 | rules F1 reveals / not |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, h in result["reveal_heldout"].items():
        if "skipped" in h:
            lines.append(f"| {h['description']} | – | – | {h['skipped']} | | | |")
            continue
        pair = {who: f"{_f(h[who]['f1']['yes'])} / {_f(h[who]['f1']['no'])}" for who in ("guard", "rules")}
        lines.append(f"| {h['description']} | {h['n']} | {h['folds']} | **{_f(h['guard']['macro_f1'])}** | "
                     f"{pair['guard']} | {_f(h['rules']['macro_f1'])} | {pair['rules']} |")
    by_tutor = result["reveal_heldout"].get("leave_tutor_out", {}).get("by_tutor")
    if by_tutor:
        lines += ["", "Each tutor when it was the one left out (macro-F1):", "",
                  "| tutor | replies | reveals (human) | guard | rules |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {t} | {v['n']} | {v['reveals']} | {_f(v['guard'])} | {_f(v['rules'])} |" for t, v in by_tutor.items()]
    return lines + [""]


def plot_split(result: dict) -> str:
    """The test half, or every reply when the file is too small to have one."""
    return "test" if result["splits"]["test"]["n_replies"] else "all"


def plot_dimension(result: dict, name: str, path: Path, split: str = "test") -> Path:
    plt = _pyplot()
    dim = result["splits"][split]["dimensions"][name]
    schemes = [sc for sc in ("exact", "lenient") if dim.get(sc)]
    predictors = [who for who, m in dim["exact"].items() if m is not None and m["n"]]
    bars = [(f"macro-F1 {sc}", [dim[sc][w]["macro_f1"] for w in predictors]) for sc in schemes]
    bars.append(("Cohen's κ exact", [dim["exact"][w]["kappa"] for w in predictors]))
    fig, (ax, cm_ax) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars):
        drawn = ax.bar([x + (i - (len(bars) - 1) / 2) * width for x in range(len(predictors))], values, width, label=label)
        ax.bar_label(drawn, fmt="%.2f", fontsize=7)
    ax.set_xticks(list(range(len(predictors))), [NAMES[w] for w in predictors], fontsize=8)
    if dim.get("reference_f1") is not None:
        ax.axhline(dim["reference_f1"], color="grey", linestyle="--", linewidth=1,
                   label=f"BEA 2025 best, exact ({dim['reference_f1']:.3f})")
    low = min([0.0] + [v for _, values in bars for v in values if v is not None])
    ax.set_ylim(low - 0.05, 1.1)
    ax.set_title(f"{name}: {split}, {dim['n_labelled']} labelled replies", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    m = dim["exact"]["check"]
    labels = m["confusion"]["labels"]
    matrix = m["confusion"]["matrix"]
    cm_ax.imshow(matrix, cmap="Blues")
    top = max((v for row in matrix for v in row), default=0)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            cm_ax.text(j, i, str(v), ha="center", va="center", fontsize=9,
                       color="white" if top and v > top / 2 else "black")
    cm_ax.set_xticks(range(len(labels)), labels, fontsize=8)
    cm_ax.set_yticks(range(len(labels)), labels, fontsize=8)
    cm_ax.set_xlabel("project checks")
    cm_ax.set_ylabel("human annotators")
    cm_ax.set_title("confusion matrix (exact labels)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_mrbench_report(directory: Path, result: dict[str, Any]) -> list[Path]:
    """Write mrbench.md, mrbench.json and a plot per dimension; returns every path written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    result = {"generated_at": time.strftime("%Y-%m-%d %H:%M"), **result}
    split = plot_split(result)
    plots = [plot_dimension(result, name, directory / f"mrbench_{name}.png", split)
             for name, dim in result["splits"][split]["dimensions"].items() if dim["n_labelled"]]
    result["plots"] = [p.name for p in plots]
    md = directory / "mrbench.md"
    md.write_text(markdown(result), encoding="utf-8")
    js = directory / "mrbench.json"
    js.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return [md, js, *plots]
