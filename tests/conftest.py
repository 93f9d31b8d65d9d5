"""Fixtures every test file may use; the plain helpers they build on are in clirunner.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from clirunner import write_spec


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[..., Path]:
    """spec_file(text, name="spec"): the text written as NAME.yaml in the test's own folder, and its path."""

    def write(text: str | bytes, name: str = "spec") -> Path:
        return write_spec(tmp_path, text, name)

    return write


@pytest.fixture(scope="session")
def torchvision() -> ModuleType:
    """torchvision, imported with tests/model_libraries.py's workaround for its CUDA-only operators."""
    from model_libraries import import_model_library

    return import_model_library("torchvision")


@pytest.fixture(scope="session")
def timm() -> ModuleType:
    from model_libraries import import_model_library

    return import_model_library("timm")
