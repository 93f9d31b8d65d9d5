"""Fixtures every test file may use; the plain helpers they build on are in clirunner.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from clirunner import write_spec


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[..., Path]:
    """spec_file(text, name="spec"): the text written as NAME.yaml in the test's own folder, and its path."""

    def write(text: str | bytes, name: str = "spec") -> Path:
        return write_spec(tmp_path, text, name)

    return write
