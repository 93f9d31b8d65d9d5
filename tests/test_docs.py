"""The README documents every layer type, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

from cnncalc.layers import all_kind_names

ROOT = Path(__file__).resolve().parents[1]


def test_readme_documents_every_layer_type():
    readme = (ROOT / "README.md").read_text()
    reference = readme[readme.index("### Layer types") :]
    # Rank variants (conv2d, maxpool3d, ...) are documented with their family (`conv`, `maxpool`, "...1d/2d/3d").
    families = {re.sub(r"[123]d$", "", name) for name in all_kind_names()}
    missing = [name for name in sorted(families) if f"`{name}`" not in reference]
    assert not missing, f"layer types missing from the README reference: {missing}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'python3 -m pip install "torch==2.13.0" -e ".[test,bench]" && python3 -m pytest'
    assert command in readme
    assert command in ci
