"""Loading and validating the evaluation sets, with errors that name the file and line.

Example::

    questions = load_questions(Path("corpus/eval/questions.jsonl"))
    questions[0].gold_terms
    # → [['On Party Unity', 'ban on factions'], ['Kronstadt']]

Every problem in a file is collected before anything is raised, so one run lists them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from tutor.errors import TutorError

ROLES = ("user", "assistant")
ESSAY_LEVELS = ("L1", "L2", "L3", "L4", "L5")
ISSUE_KINDS = ("no_evidence", "no_counter_argument", "no_judgement", "no_conclusion", "unfinished",
               "wrong_date", "misattribution", "wrong_fact", "narrative")


class DatasetError(TutorError):
    """An evaluation file that cannot be used; ``problems`` lists each one as 'file:line: what'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:20]
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__("\n".join(shown) + more)


@dataclass(frozen=True)
class Question:
    """A retrieval question; a passage is relevant when it holds one alternative of every group."""

    id: str
    question: str
    gold_terms: list[list[str]]


@dataclass(frozen=True)
class TutorCase:
    """A tutor behaviour case: the student's message, earlier turns, and the tags the reply must pass."""

    id: str
    message: str
    must: list[str]
    history: list[dict[str, str]] = field(default_factory=list)
    expect_any: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "message": self.message, "must": list(self.must), "history": list(self.history),
                "expect_any": list(self.expect_any)}


@dataclass(frozen=True)
class EssaySample:
    """A sample essay (``name.md``) with its expected result from the sidecar ``name.json``."""

    name: str
    text: str
    question: str
    level: str
    marks: tuple[int, int]
    issues: list[dict[str, Any]]

    @property
    def issue_kinds(self) -> set[str]:
        return {i["kind"] for i in self.issues}


T = TypeVar("T")


def _read_jsonl(path: Path, parse: Callable[[dict[str, Any], Callable[[str], None]], T | None]) -> list[T]:
    """Parse each non-blank line; ``parse`` reports problems through the callback it is given."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError([f"{path}: cannot be read ({exc})"]) from None
    items: list[T] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: each line must be a JSON object, got {type(data).__name__}")
            continue
        before = len(problems)
        item = parse(data, lambda msg, _w=where: problems.append(f"{_w}: {msg}"))
        if len(problems) > before or item is None:
            continue
        item_id = getattr(item, "id")
        if item_id in seen:
            problems.append(f"{where}: duplicate id '{item_id}' (first on line {seen[item_id]})")
            continue
        seen[item_id] = number
        items.append(item)
    if problems:
        raise DatasetError(problems)
    if not items:
        raise DatasetError([f"{path}: no entries (expected one JSON object per line)"])
    return items


def _text(data: dict[str, Any], key: str, problem: Callable[[str], None], *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problem(f"'{key}' must be a non-empty string")
        return ""
    return value


def _terms(value: Any, key: str, problem: Callable[[str], None]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        problem(f"'{key}' must be a list of non-empty strings")
        return []
    return list(value)


def parse_question(data: dict[str, Any], problem: Callable[[str], None]) -> Question | None:
    qid = _text(data, "id", problem)
    text = _text(data, "question", problem)
    gold = data.get("gold_terms")
    if (not isinstance(gold, list) or not gold
            or not all(isinstance(g, list) and g and all(isinstance(t, str) and t.strip() for t in g) for g in gold)):
        problem("'gold_terms' must be a non-empty list of non-empty lists of strings, "
                'e.g. [["General Secretary"], ["1922"]]')
        return None
    return Question(qid, text, [list(g) for g in gold])


def known_tags() -> frozenset[str]:
    """The tags the deterministic checkers know."""
    from tutor.evaluation.checkers import TAGS

    return frozenset(TAGS)


def parse_case(data: dict[str, Any], problem: Callable[[str], None], tags: frozenset[str] | None = None) -> TutorCase | None:
    cid = _text(data, "id", problem)
    message = data.get("message")
    if not isinstance(message, str):
        problem("'message' must be a string")
    must = data.get("must")
    if not isinstance(must, list) or not must or not all(isinstance(t, str) for t in must):
        problem("'must' must be a non-empty list of tag names")
        must = []
    elif tags is not None:
        unknown = [t for t in must if t not in tags]
        if unknown:
            problem(f"unknown tag(s) {', '.join(unknown)}; known: {', '.join(sorted(tags))}")
    history = data.get("history") or []
    if not isinstance(history, list):
        problem("'history' must be a list of {\"role\", \"content\"} objects")
        history = []
    turns = []
    for n, turn in enumerate(history, start=1):
        if (not isinstance(turn, dict) or turn.get("role") not in ROLES
                or not isinstance(turn.get("content"), str)):
            problem(f"history turn {n} must be {{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}}")
            continue
        turns.append({"role": turn["role"], "content": turn["content"]})
    expect_any = _terms(data.get("expect_any"), "expect_any", problem)
    if not isinstance(message, str):
        return None
    return TutorCase(cid, message, list(must), turns, expect_any)


def load_questions(path: Path) -> list[Question]:
    return _read_jsonl(path, parse_question)


def load_cases(path: Path) -> list[TutorCase]:
    tags = known_tags()
    return _read_jsonl(path, lambda data, problem: parse_case(data, problem, tags))


def load_essays(directory: Path) -> list[EssaySample]:
    """Every ``*.md`` in the folder with its ``*.json`` sidecar (question, level, marks, issues)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError([f"{directory}: no such folder"])
    problems: list[str] = []
    samples: list[EssaySample] = []
    for md in sorted(directory.glob("*.md")):
        sidecar = md.with_suffix(".json")
        if not sidecar.is_file():
            problems.append(f"{md}: no sidecar {sidecar.name}")
            continue
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            text = md.read_text(encoding="utf-8")
        except json.JSONDecodeError as exc:
            problems.append(f"{sidecar}:{exc.lineno}: not valid JSON ({exc.msg})")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{md}: cannot be read ({exc})")
            continue
        before = len(problems)

        def problem(msg: str, _where: Path = sidecar) -> None:
            problems.append(f"{_where}: {msg}")

        if not isinstance(data, dict):
            problem("must be a JSON object")
            continue
        question = _text(data, "question", problem)
        level = data.get("level")
        if level not in ESSAY_LEVELS:
            problem(f"'level' must be one of {', '.join(ESSAY_LEVELS)}")
        marks = data.get("marks")
        if (not isinstance(marks, list) or len(marks) != 2 or not all(isinstance(m, int) for m in marks)
                or marks[0] > marks[1]):
            problem("'marks' must be [low, high] whole numbers with low <= high")
        issues = data.get("issues", [])
        if not isinstance(issues, list):
            problem("'issues' must be a list")
            issues = []
        for n, issue in enumerate(issues, start=1):
            if not isinstance(issue, dict) or issue.get("kind") not in ISSUE_KINDS:
                problem(f"issue {n}: 'kind' must be one of {', '.join(ISSUE_KINDS)}")
        if not text.strip():
            problems.append(f"{md}: the essay is empty")
        if len(problems) > before:
            continue
        samples.append(EssaySample(md.stem, text, question, level, (marks[0], marks[1]), issues))
    if problems:
        raise DatasetError(problems)
    if not samples:
        raise DatasetError([f"{directory}: no essays (*.md with a *.json sidecar)"])
    return samples
