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


# the order in which a channels-last tensor's axes run, innermost first (c10's is_channels_last_strides_*)
CHANNELS_LAST_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}


def _strides_like_channels_last(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """c10's `is_channels_last_strides_2d/3d`: a 4-d or 5-d tensor whose strides look channels-last; ambiguous
    layouts (a single position, a size-1 channel axis that could be either) count as channels-first."""
    order = CHANNELS_LAST_ORDER.get(len(shape))
    if order is None or strides[1] == 0:
        return False
    smallest = 0
    for axis in order:
        if shape[axis] == 0 or strides[axis] < smallest:
            return False
        if axis == 0 and smallest == strides[1]:
            return False
        smallest = strides[axis] * (shape[axis] if shape[axis] > 1 else 1)
    return True


def _channels_last_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    expected = 1
    for axis in CHANNELS_LAST_ORDER[len(shape)]:
        if shape[axis] != 1:
            if strides[axis] != expected:
                return False
            expected *= shape[axis]
    return True


def contiguous_in_suggested_format(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether `x.contiguous(x.suggest_memory_format())` returns `x` itself rather than a copy (group norm
    calls it): a channels-last-looking 4-d or 5-d tensor must be densely channels-last, any other contiguous."""
    if _strides_like_channels_last(shape, strides):
        return _channels_last_contiguous(shape, strides)
    return is_contiguous(shape, strides)
