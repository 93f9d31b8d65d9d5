"""The PyTorch side of the API: whether a value is a module, its rank, and its spec from the importer.

torch is never imported to answer "is this a module?": a program that holds an `nn.Module` has imported torch
already, so a value can only be a module when `torch` is in `sys.modules`. Everything else here runs only for
a module, when torch is loaded anyway.
"""

from __future__ import annotations

import sys
from typing import Any

from cnncalc.base.errors import ModelImportError


def is_module(value: object) -> bool:
    """Whether `value` is a `torch.nn.Module` (without importing torch)."""
    torch = sys.modules.get("torch")
    nn = getattr(torch, "nn", None)
    module_type = getattr(nn, "Module", None)
    return isinstance(module_type, type) and isinstance(value, module_type)


def spatial_rank(module: Any) -> int | None:
    """The number of spatial axes the module's input has, from its first convolution or pooling layer (None if
    it has none): what decides whether an input shape starts with the batch."""
    from torch import nn

    ranks: tuple[tuple[tuple[type, ...], int], ...] = (
        ((nn.Conv1d, nn.ConvTranspose1d, nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d), 1),
        ((nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), 2),
        ((nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d, nn.AvgPool3d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool3d), 3),
    )
    for submodule in module.modules():
        for types, rank in ranks:
            if isinstance(submodule, types):
                return rank
    return None


def module_label(module: Any) -> str:
    """What errors in a module's imported spec point at: `<ResNet>`."""
    return f"<{type(module).__name__}>"


def imported_spec(module: Any, sample: tuple[int, ...], batch: int, name: str | None) -> str:
    """The spec of `module` for inputs of shape (batch, *sample), as YAML text, from cnncalc's importer; a module
    it cannot import is a ModelImportError with the importer's reason. The importer is handed a copy (see
    `shape_copy`): the caller's module keeps its weights, device and training mode."""
    from cnncalc.importer import ImportFailure, spec_from_module

    try:
        return spec_from_module(shape_copy(module), sample, batch, name=name)
    except ImportFailure as failure:
        raise ModelImportError(f"cannot import {type(module).__name__}: {failure.message}") from failure


def shape_copy(module: Any) -> Any:
    """A copy of `module` whose parameters and buffers are meta tensors of the same shapes, dtypes and
    `requires_grad` (shared ones stay shared): what importing needs, and nothing is allocated. Tracing may
    then move it, switch it to eval mode or change it otherwise, and the caller's module stays as it was.

    A module that cannot be copied so (a tensor type without a meta form) is copied whole; one that cannot be
    copied at all is a ModelImportError, never changed in place."""
    import copy
    import itertools

    import torch

    try:
        memo: dict[int, Any] = {}
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            empty = torch.empty_like(tensor, device="meta")
            if isinstance(tensor, torch.nn.Parameter):
                empty = torch.nn.Parameter(empty, requires_grad=tensor.requires_grad)
            memo[id(tensor)] = empty
        return copy.deepcopy(module, memo)
    except Exception:
        pass
    try:
        return copy.deepcopy(module)
    except Exception as error:
        raise ModelImportError(
            f"cannot import {type(module).__name__} without changing it: it cannot be copied ({error})"
        ) from error
