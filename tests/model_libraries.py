"""torchvision and timm, imported for tests on this kind of machine.

The torchvision wheel on the package index is a CUDA build: beside the CPU build of torch its compiled
operators do not load, and its import dies while it registers fake kernels for them (`torchvision::nms`
does not exist). Nothing the tests use needs those operators (they serve detection models), so while the
libraries import, `torch.library.register_fake` is made to tolerate failures. This belongs to the tests:
cnncalc itself imports what the user has, as it is.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import torch


@contextlib.contextmanager
def tolerant_fake_registration() -> Iterator[None]:
    original = torch.library.register_fake

    def tolerant(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        try:
            register = original(*args, **kwargs)
        except Exception:
            return lambda function: function

        def apply(function: Callable[..., Any]) -> Callable[..., Any]:
            try:
                return register(function)
            except Exception:
                return function

        return apply

    torch.library.register_fake = tolerant  # type: ignore[assignment]
    try:
        yield
    finally:
        torch.library.register_fake = original


def import_model_library(name: str) -> ModuleType:
    """`torchvision` or `timm` (which imports torchvision), imported despite the CUDA-only operators."""
    with tolerant_fake_registration():
        return importlib.import_module(name)
