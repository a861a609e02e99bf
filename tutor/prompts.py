"""The prompt files under prompts/: system prompt, one template per move, offline wording.

>>> p = load_prompts(Path("prompts"))          # doctest: +SKIP
>>> p.move("hint")[:30]                        # doctest: +SKIP
'Help the student think about t'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

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
        lines = [l.strip(" -") for text in [self.system, *self.moves.values()] for l in text.splitlines()]
        return [l for l in lines if len(l) >= 40 and "{" not in l]


@lru_cache(maxsize=4)
def load_prompts(directory: Path) -> Prompts:
    try:
        system = (directory / "system.md").read_text(encoding="utf-8")
        moves = {p.stem: p.read_text(encoding="utf-8") for p in sorted((directory / "moves").glob("*.md"))}
        offline = yaml.safe_load((directory / "offline" / "templates.yaml").read_text(encoding="utf-8"))
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
                return yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path} is not valid YAML ({exc}); restore it from the project.") from exc
    raise ConfigError(f"prompts/{relative} is missing; restore it from the project.")
