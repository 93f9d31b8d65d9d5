"""The README documents every layer type, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

from cnncalc.kinds import all_kind_names

ROOT = Path(__file__).resolve().parents[1]


def test_readme_documents_every_layer_type():
    readme = (ROOT / "README.md").read_text()
    reference = readme[readme.index("### Layer types") :]
    # Rank variants (conv2d, maxpool3d, ...) are documented with their family (`conv`, `maxpool`, "...1d/2d/3d").
    families = {re.sub(r"[123]d$", "", name) for name in all_kind_names()}
    missing = [name for name in sorted(families) if f"`{name}`" not in reference]
    assert not missing, f"layer types missing from the README reference: {missing}"


def _readme_commands() -> list[str]:
    """The two commands of "Start on a fresh machine": install-and-analyze, then install-and-test."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Start on a fresh machine") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_starts_with_two_commands():
    run, test = _readme_commands()
    assert run.startswith("python3 -m pip install ") and " analyze " in run
    assert test.startswith("python3 -m pip install ") and test.endswith("python3 -m pytest")


def test_ci_runs_the_readme_test_command_in_a_fresh_virtual_environment():
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line and not line.startswith("#")]
    assert test in commands
    venv = next(index for index, line in enumerate(commands) if "-m venv" in line)
    activate = next(index for index, line in enumerate(commands) if "/bin/activate" in line)
    assert venv < activate < commands.index(test)


def test_readme_links_stay_inside_the_repository():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#][^)]*)\)", readme)
    assert targets, "no links found: the pattern is wrong"
    for target in targets:
        assert "://" not in target, f"README links outside the repository: {target}"
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"README link to a missing file: {target}"


def test_tests_read_nothing_outside_the_repository():
    for test_file in (ROOT / "tests").rglob("*.py"):
        if test_file.resolve() == Path(__file__).resolve():
            continue  # this file holds the patterns it looks for
        text = test_file.read_text()
        assert "parents[2]" not in text and "/".join(("..", "shared")) not in text, test_file.name
