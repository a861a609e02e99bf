"""Owns reading the prompt files under prompts/ (system prompt, one template per move, offline
wording, the coaches' files) and which of their lines are secret.

>>> from tutor.settings import DEFAULT_PROMPTS
>>> load_prompts(DEFAULT_PROMPTS).move("no-such-move") == load_prompts(DEFAULT_PROMPTS).move("hint")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from tutor.documents import YAML_LOADER
from tutor.errors import ConfigError
from tutor.settings import DEFAULT_PROMPTS


@dataclass(frozen=True)
class Prompts:
    system: str
    moves: dict[str, str]
    offline: dict

    def move(self, kind: str) -> str:
        return self.moves.get(kind) or self.moves["hint"]

    def secret_lines(self) -> list[str]:
        """Lines of the model-facing prompts that must never reach a student."""
        return secret_lines(self.system, *self.moves.values())


# A prompt line this long (and not a template line) is distinctive enough to count as leaked.
SECRET_LINE_CHARS = 40


def secret_lines(*texts: str) -> list[str]:
    """The one secret-line filter: lines of model-facing prompt text that must never reach a
    student, long enough to be distinctive and not template lines (those hold ``{fields}``).

    >>> secret_lines("short", "- A line of the prompt that is long enough to be worth hiding.")
    ['A line of the prompt that is long enough to be worth hiding.']
    """
    lines = [line.strip(" -") for text in texts for line in text.splitlines()]
    return [line for line in lines if len(line) >= SECRET_LINE_CHARS and "{" not in line]


def prompt_text(directory: Path, relative: str) -> str:
    """A prompt file such as ``coach/essay.md``; a custom prompts dir that lacks it falls back
    to the shipped one."""
    for base in (directory, DEFAULT_PROMPTS):
        path = base / relative
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ConfigError(f"prompts/{relative} is missing; restore it from the project.")


@lru_cache(maxsize=4)
def load_prompts(directory: Path) -> Prompts:
    try:
        system = (directory / "system.md").read_text(encoding="utf-8")
        moves = {p.stem: p.read_text(encoding="utf-8") for p in sorted((directory / "moves").glob("*.md"))}
        # The C loader where built: the templates load at every start, `tutor ask` included.
        offline = yaml.load((directory / "offline" / "templates.yaml").read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the prompts in {directory} ({exc}). Set TUTOR_PROMPTS_DIR or restore prompts/.") from exc
    return Prompts(system=system, moves=moves, offline=offline)


@lru_cache(maxsize=16)
def load_prompt_yaml(directory: Path, relative: str) -> dict:
    """A YAML prompt file such as ``coach/essay.yaml``; a custom prompts dir that lacks it
    falls back to the shipped one."""
    for base in (directory, DEFAULT_PROMPTS):
        path = base / relative
        if path.is_file():
            try:
                return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path} is not valid YAML ({exc}); restore it from the project.") from exc
    raise ConfigError(f"prompts/{relative} is missing; restore it from the project.")
