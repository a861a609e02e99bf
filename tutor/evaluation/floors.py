"""``--fail-under METRIC=VALUE``: floors on any number in an evaluation result.

>>> result = {"methods": {"hybrid": {"recall@5": 0.93}}, "pass_rate": 0.95}
>>> check_floors(result, [parse_floor("hybrid.recall@5=0.9"), parse_floor("pass_rate=0.97")])
['pass_rate = 0.95 is below 0.97']

A metric is a dotted path into the result. ``methods.`` may be left out, and any unambiguous
ending of a path works, so ``hybrid.recall@5`` and ``tutor.pass_rate`` both resolve inside the
combined result of ``tutor eval all``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


class FloorError(ValueError):
    """A floor that cannot be parsed or names no metric of the result."""


@dataclass(frozen=True)
class Floor:
    metric: str
    value: float


def parse_floor(text: str) -> Floor:
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not metric or number is None:
        raise FloorError(f"--fail-under '{text}' must look like METRIC=VALUE, e.g. hybrid.recall@5=0.8")
    return Floor(metric, number)


def flatten(result: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number in nested dicts, keyed by dotted path (lists such as per-question rows skipped)."""
    out: dict[str, float] = {}
    for key, value in result.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[path] = float(value)
    return out


def resolve(result: dict[str, Any], metric: str) -> float:
    numbers = flatten(result)
    if metric in numbers:
        return numbers[metric]
    # Accept the path with any "methods." segment dropped, and any unambiguous ending of it.
    aliases: dict[str, list[str]] = {}
    for path in numbers:
        short = ".".join(p for p in path.split(".") if p != "methods")
        for name in {path, short}:
            aliases.setdefault(name, []).append(path)
    matches = sorted({p for name, paths in aliases.items() if name == metric or name.endswith("." + metric)
                      for p in paths})
    if len(matches) == 1:
        return numbers[matches[0]]
    if len(matches) > 1:
        raise FloorError(f"--fail-under {metric} is ambiguous: {', '.join(matches)}")
    known = sorted(n for n in numbers if not n.endswith("_ms") and "n_" not in n)[:30]
    raise FloorError(f"--fail-under: no metric '{metric}' in this result. Metrics: {', '.join(known)}")


def check_floors(result: dict[str, Any], floors: Iterable[Floor]) -> list[str]:
    """One message per floor the result falls below (empty when all are met)."""
    failures = []
    for floor in floors:
        value = resolve(result, floor.metric)
        if value < floor.value:
            failures.append(f"{floor.metric} = {value:g} is below {floor.value:g}")
    return failures
