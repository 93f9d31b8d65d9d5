"""Strides of tensors, in elements, as PyTorch lays them out: enough to tell a view from a copy.

A layer that reshapes a tensor (a linear layer folding its leading axes, `flatten`, `reshape`) makes a view
when the strides allow it and a copy when they do not; which one decides what autograd keeps.
"""

from __future__ import annotations

from collections.abc import Sequence


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides: list[int] = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """PyTorch's test: axes of size 1 may have any stride."""
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def view_strides(shape: Sequence[int], strides: Sequence[int], new_shape: Sequence[int]) -> tuple[int, ...] | None:
    """The strides of `new_shape` as a view of a tensor, or None where a reshape has to copy (PyTorch's
    `computeStride`)."""
    if 0 in shape:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_index = len(new_shape) - 1
    chunk_base = strides[-1] if strides else 1
    tensor_elements = 1
    view_elements = 1
    for index in range(len(shape) - 1, -1, -1):
        tensor_elements *= shape[index]
        if index == 0 or (shape[index - 1] != 1 and strides[index - 1] != tensor_elements * chunk_base):
            while view_index >= 0 and (view_elements < tensor_elements or new_shape[view_index] == 1):
                new_strides[view_index] = view_elements * chunk_base
                view_elements *= new_shape[view_index]
                view_index -= 1
            if view_elements != tensor_elements:
                return None
            if index > 0:
                chunk_base = strides[index - 1]
                tensor_elements = 1
                view_elements = 1
    if view_index != -1:
        return None
    return tuple(new_strides)


def permuted(strides: Sequence[int], dims: Sequence[int]) -> tuple[int, ...]:
    return tuple(strides[dim] for dim in dims)
