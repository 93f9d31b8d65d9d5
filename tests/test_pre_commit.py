"""The pre-commit hook (.pre-commit-hooks.yaml at the repository's root, where pre-commit looks for it): its
entry runs `cnncalc validate` on the files pre-commit passes, and its default file filter takes specs, not a
repository's other YAML files."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirunner import HEAD, ROOT

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text())
    assert [entry["id"] for entry in hooks] == ["cnncalc-validate"]
    return hooks[0]


def test_the_hook_runs_validate_on_the_files_it_is_given(hook: dict[str, Any]) -> None:
    assert hook["language"] == "python"  # pre-commit installs this package in a virtual environment
    assert hook["pass_filenames"] is True
    program, *arguments = shlex.split(hook["entry"])
    assert program == "cnncalc" and arguments == ["validate"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^cnncalc = "cnncalc\.cli\.startup:main"$', pyproject, re.M), "the entry's console script"


def test_the_default_filter_takes_specs_and_leaves_other_yaml(hook: dict[str, Any]) -> None:
    """pre-commit selects a file when `files` matches its path (re.search) and its type is in `types`."""
    assert hook["types"] == ["yaml"]
    files = re.compile(hook["files"])
    assert all(files.search(path) for path in ("specs/resnet50.yaml", "models/specs/net.yml"))
    assert not any(files.search(path) for path in (".github/workflows/ci.yml", ".pre-commit-config.yaml"))


def test_the_entry_checks_several_files_in_one_run(hook: dict[str, Any], tmp_path: Path) -> None:
    good = ROOT / "specs" / "lenet5.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "  - {type: conv2d, out: 16, kernal: 3}\n")
    _, *arguments = shlex.split(hook["entry"])
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", *arguments, str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 1
    assert f"{good}: valid" in run.stdout and f"{bad}: 1 error" in run.stdout
    assert f"{bad}:3:29: error: unknown field 'kernal'" in run.stderr


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed (pip install pre-commit)")
def test_pre_commit_runs_the_hook_from_this_repository(tmp_path: Path) -> None:
    """pre-commit itself, as a project using the hook runs it: it installs cnncalc from this repository (from
    PyPI's index for its dependencies) and runs the hook on a repository with a spec, a broken spec and a
    workflow file. The hook's file must be committed (try-repo reads tracked files)."""
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / ".github").mkdir()
    shutil.copy(ROOT / "specs" / "lenet5.yaml", project / "specs")
    (project / "specs" / "bad.yaml").write_text(HEAD + "  - {type: conv2d, out: 16, kernal: 3}\n")
    (project / ".github" / "ci.yml").write_text("on: push\n")
    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    command = ["pre-commit", "try-repo", str(ROOT), "cnncalc-validate", "--all-files"]
    run = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600, env=environment)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "specs/bad.yaml:3:29: error: unknown field 'kernal'" in run.stdout
    assert "specs/lenet5.yaml: valid" in run.stdout and "ci.yml" not in run.stdout
