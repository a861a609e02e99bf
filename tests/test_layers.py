"""The layers hold: import-linter's contracts in pyproject.toml (ui and cli on top, then
services, the dialogue, its parts and storage; engine and coaches never import each other)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tutor.settings import PROJECT_ROOT


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is part of the test extra: pip install -e '.[test]'"
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([exe, "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: the essay coach importing the engine (the old cycle) fails it."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "tutor", copy / "tutor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy / "pyproject.toml")
    essay = copy / "tutor" / "coach" / "essay.py"
    essay.write_text(essay.read_text(encoding="utf-8") + "\nfrom tutor.engine import Tutor  # noqa\n",
                     encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0 and "tutor.coach.essay -> tutor.engine" in result.stdout
