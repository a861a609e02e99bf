"""Multi-turn evaluation: dialogue acts in context, and scripted dialogues.

>>> result = run_dialogues(tutor, load_dialogues(Path("corpus/eval/dialogues.jsonl")))   # doctest: +SKIP
>>> result["metrics"]["repetition_rate"], result["metrics"]["closure_rate"]              # doctest: +SKIP
(0.0, 1.0)

Acts (``corpus/eval/acts.jsonl``): ``{"id", "history": [earlier student messages], "message",
"act", "split"?}``. Each row is played through the real Tutor after its history (the tutor's own
replies to it are part of the context), and the act the engine reads is compared with the label.
Rows that continue one another share the replay, so a conversation costs one pass.

Dialogues (``corpus/eval/dialogues.jsonl``): ``{"id", "turns": [{"say", "expect_any"?, "act"?,
"feedback"?}], "persona"?, "split"?}``. Metrics, over all dialogues and per split:

- repetition_rate: replies whose opening sentence, question or a quoted sentence repeats (rapidfuzz)
  one of an earlier reply in the same dialogue;
- expectation_hit_rate: turns with ``expect_any`` whose reply contains one of the terms;
- feedback_accuracy: labelled turns whose reply opened with that verdict (right / partly / wrong), or
  gave none where none is due ("none");
- act_accuracy: labelled turns whose act the engine read correctly;
- question_rate: replies ending with a question;
- closure_rate: of the closures owed (a summary request, or a card whose points the student has
  all made), the share the tutor gave (a summary at that turn / by the end of the dialogue);
- struggling_redirected: don't-know and complaint turns answered with an off-topic redirect (0).
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tutor.evaluation.datasets import DatasetError
from tutor.evaluation.metrics import latency_summary
from tutor.pedagogy.acts import ACTS
from tutor.pedagogy.checks import last_sentence_is_question
from tutor.pedagogy.repeats import opening_of, question_of, quotes_of, similar

Progress = Callable[[str, int, int], None]
# "none": no check decides the message, so the reply gives no verdict (issue 22: precision first).
FEEDBACK = ("right", "partly", "wrong", "none")


@dataclass(frozen=True)
class ActCase:
    id: str
    history: tuple[str, ...]
    message: str
    act: str
    split: str = "dev"


@dataclass(frozen=True)
class DialogueTurn:
    say: str
    act: str | None = None
    feedback: str | None = None
    expect_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[DialogueTurn, ...]
    persona: str = ""
    split: str = "dev"


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    problems: list[str] = []
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError([f"{path}: cannot read ({exc})"]) from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{n}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{path.name}:{n}: each line must be a JSON object")
            continue
        out.append((n, data))
    if problems:
        raise DatasetError(problems)
    if not out:
        raise DatasetError([f"{path.name}: no rows"])
    return out


def load_acts(path: Path) -> list[ActCase]:
    problems: list[str] = []
    cases = []
    for n, d in _rows(path):
        where = f"{path.name}:{n}"
        if not isinstance(d.get("message"), str) or not d["message"].strip():
            problems.append(f"{where}: 'message' must be a non-empty string")
            continue
        if d.get("act") not in ACTS:
            problems.append(f"{where}: 'act' must be one of {', '.join(ACTS)}")
            continue
        history = d.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            problems.append(f"{where}: 'history' must be a list of earlier student messages")
            continue
        cases.append(ActCase(str(d.get("id", n)), tuple(history), d["message"], d["act"], str(d.get("split", "dev"))))
    if problems:
        raise DatasetError(problems)
    return cases


def load_dialogues(path: Path) -> list[Dialogue]:
    problems: list[str] = []
    out = []
    for n, d in _rows(path):
        where = f"{path.name}:{n}"
        turns = d.get("turns")
        if not isinstance(turns, list) or not turns:
            problems.append(f"{where}: 'turns' must be a non-empty list")
            continue
        parsed = []
        for i, t in enumerate(turns, start=1):
            if not isinstance(t, dict) or not isinstance(t.get("say"), str) or not t["say"].strip():
                problems.append(f"{where}: turn {i}: 'say' must be a non-empty string")
                continue
            if t.get("act") is not None and t["act"] not in ACTS:
                problems.append(f"{where}: turn {i}: unknown act '{t['act']}'")
            if t.get("feedback") is not None and t["feedback"] not in FEEDBACK:
                problems.append(f"{where}: turn {i}: 'feedback' must be right, partly, wrong or none")
            expect = t.get("expect_any") or []
            if not isinstance(expect, list) or not all(isinstance(e, str) for e in expect):
                problems.append(f"{where}: turn {i}: 'expect_any' must be a list of strings")
                expect = []
            parsed.append(DialogueTurn(t["say"], t.get("act"), t.get("feedback"), tuple(expect)))
        out.append(Dialogue(str(d.get("id", n)), tuple(parsed), str(d.get("persona", "")), str(d.get("split", "dev"))))
    if problems:
        raise DatasetError(problems)
    return out


# -- acts ------------------------------------------------------------------------------------
def run_acts(tutor, cases: list[ActCase], *, on_progress: Progress | None = None) -> dict[str, Any]:
    """Accuracy of the act read in context, per act and per split, with every miss."""
    if hasattr(tutor, "warm"):
        tutor.warm()
    sessions: dict[tuple[str, ...], Any] = {}
    rows = []
    for n, case in enumerate(cases, start=1):
        session = _session_after(tutor, sessions, case.history)
        reply = tutor.reply(session, case.message)
        sessions[case.history + (case.message,)] = session
        rows.append({"id": case.id, "split": case.split, "message": case.message, "act": case.act,
                     "read": reply.intent, "ok": reply.intent == case.act, "card": reply.card_id})
        if on_progress:
            on_progress(case.id, n, len(cases))
    return {"n_cases": len(rows), **_act_scores(rows),
            "splits": {s: _act_scores([r for r in rows if r["split"] == s]) for s in sorted({r["split"] for r in rows})},
            "misses": [r for r in rows if not r["ok"]]}


def _session_after(tutor, sessions: dict, history: tuple[str, ...]):
    """A fresh copy of a session that has seen ``history``: the longest prefix already played,
    continued (each played prefix is kept, so a conversation's rows cost one replay)."""
    cut = next(c for c in range(len(history), -1, -1) if c == 0 or history[:c] in sessions)
    base = sessions.get(history[:cut])
    session = copy.deepcopy(base) if base is not None else tutor.new_session()
    for i in range(cut, len(history)):
        tutor.reply(session, history[i])
        sessions[history[:i + 1]] = copy.deepcopy(session)
    return session


def _act_scores(rows: list[dict]) -> dict[str, Any]:
    total = Counter(r["act"] for r in rows)
    ok = Counter(r["act"] for r in rows if r["ok"])
    per = {act: {"n": total[act], "accuracy": round(ok[act] / total[act], 4)} for act in sorted(total)}
    return {"n": len(rows), "accuracy": round(sum(ok.values()) / len(rows), 4) if rows else 1.0, "per_act": per,
            "min_accuracy_20": min((v["accuracy"] for v in per.values() if v["n"] >= 20), default=1.0)}


# -- dialogues ---------------------------------------------------------------------------------
@dataclass
class _Tally:
    replies: int = 0
    repeated: int = 0
    questions: int = 0
    expect: int = 0
    expect_hit: int = 0
    feedback: int = 0
    feedback_ok: int = 0
    acts: int = 0
    acts_ok: int = 0
    closures_owed: int = 0
    closures_given: int = 0
    struggling: int = 0
    struggling_redirected: int = 0
    latencies: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        share = lambda a, b: round(a / b, 4) if b else 1.0
        return {"replies": self.replies,
                "repetition_rate": round(self.repeated / self.replies, 4) if self.replies else 0.0,
                "expectation_hit_rate": share(self.expect_hit, self.expect), "expectations": self.expect,
                "feedback_accuracy": share(self.feedback_ok, self.feedback), "feedback_labelled": self.feedback,
                "act_accuracy": share(self.acts_ok, self.acts), "acts_labelled": self.acts,
                "question_rate": share(self.questions, self.replies),
                "closure_rate": share(self.closures_given, self.closures_owed), "closures_owed": self.closures_owed,
                "struggling_redirected": self.struggling_redirected,
                **{f"latency_{k}": v for k, v in latency_summary(self.latencies or [0.0]).items()}}


def run_dialogues(tutor, dialogues: list[Dialogue], *, on_progress: Progress | None = None) -> dict[str, Any]:
    if hasattr(tutor, "warm"):
        tutor.warm()
    tallies: dict[str, _Tally] = {"all": _Tally()}
    out = []
    for n, dialogue in enumerate(dialogues, start=1):
        session = tutor.new_session()
        said: list[dict[str, Any]] = []
        rows = []
        owed_by_end: set[str] = set()
        closed: set[str] = set()
        split = tallies.setdefault(dialogue.split, _Tally())
        for turn in dialogue.turns:
            started = time.perf_counter()
            reply = tutor.reply(session, turn.say)
            ms = (time.perf_counter() - started) * 1000
            kind = reply.move.get("kind")
            parts = {"opening": opening_of(reply.text), "question": question_of(reply.text),
                     "quotes": quotes_of(reply.text)}
            repeated = any(similar(parts["opening"], p["opening"]) or
                           (parts["question"] and similar(parts["question"], p["question"])) or
                           any(similar(q, old) for q in parts["quotes"] for old in p["quotes"]) for p in said)
            said.append(parts)
            if kind == "summarise_and_judge":
                closed.add(reply.card_id or "")
            for t in (tallies["all"], split):
                t.replies += 1
                t.repeated += repeated
                t.questions += last_sentence_is_question(reply.text)
                t.latencies.append(ms)
                if turn.expect_any:
                    t.expect += 1
                    t.expect_hit += any(e.lower() in reply.text.lower() for e in turn.expect_any)
                if turn.feedback:
                    t.feedback += 1
                    t.feedback_ok += (reply.feedback or "none") == turn.feedback
                if turn.act:
                    t.acts += 1
                    t.acts_ok += reply.intent == turn.act
                if turn.act == "summary":
                    t.closures_owed += 1
                    t.closures_given += kind == "summarise_and_judge"
                if turn.act in ("dont_know", "complaint") or reply.intent in ("dont_know", "complaint"):
                    t.struggling += 1
                    t.struggling_redirected += kind == "redirect"
            state = session.learner
            for card in tutor.lessons.cards:
                if card.key_points and state.covered_on(card.id) >= {k.id for k in card.key_points}:
                    owed_by_end.add(card.id)
            rows.append({"message": turn.say, "reply": reply.text, "act": reply.intent, "feedback": reply.feedback,
                         "move": kind, "mode": reply.mode, "card": reply.card_id,
                         "citations": [c.as_dict() for c in reply.citations],
                         "expected": {"act": turn.act, "feedback": turn.feedback, "expect_any": list(turn.expect_any)},
                         "repeated": repeated})
        for t in (tallies["all"], split):
            t.closures_owed += len(owed_by_end)
            t.closures_given += len(owed_by_end & closed)
        out.append({"id": dialogue.id, "persona": dialogue.persona, "split": dialogue.split, "turns": rows})
        if on_progress:
            on_progress(dialogue.id, n, len(dialogues))
    return {"n_dialogues": len(dialogues), "n_turns": sum(len(d.turns) for d in dialogues),
            "dialogues": out, "metrics": tallies["all"].metrics(),
            "splits": {k: v.metrics() for k, v in tallies.items() if k != "all"}}


def dialogues_markdown(result: dict[str, Any]) -> str:
    m = result["metrics"]
    lines = [f"# Dialogues: {result['n_dialogues']} dialogues, {result['n_turns']} turns", "",
             "| metric | all | " + " | ".join(result["splits"]) + " |",
             "|---|---|" + "---|" * len(result["splits"])]
    for key in ("repetition_rate", "expectation_hit_rate", "feedback_accuracy", "act_accuracy", "question_rate",
                "closure_rate", "struggling_redirected", "latency_p50_ms", "latency_p95_ms"):
        cells = [str(m.get(key))] + [str(s.get(key)) for s in result["splits"].values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", "## Transcripts", ""]
    for d in result["dialogues"]:
        lines.append(f"### {d['id']} ({d['split']})")
        for t in d["turns"]:
            exp = t["expected"]
            flags = []
            if exp["act"] and exp["act"] != t["act"]:
                flags.append(f"act {t['act']} ≠ {exp['act']}")
            if exp["feedback"] and exp["feedback"] != (t["feedback"] or "none"):
                flags.append(f"feedback {t['feedback']} ≠ {exp['feedback']}")
            if t["repeated"]:
                flags.append("repeats")
            lines.append(f"- **Student:** {t['message']}")
            lines.append(f"  **Tutor** ({t['act']}, {t['move']}, {t['card']}): {t['reply']}"
                         + (f"  ⚠ {'; '.join(flags)}" if flags else ""))
        lines.append("")
    return "\n".join(lines)
