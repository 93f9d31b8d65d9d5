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


def channels_last_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides = [0] * len(shape)
    step = 1
    for axis in CHANNELS_LAST_ORDER[len(shape)]:
        strides[axis] = step
        step *= max(shape[axis], 1)
    return tuple(strides)


def _non_overlapping_and_dense(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """c10's test: some order of the axes (size-1 axes aside) makes the strides those of a contiguous tensor."""
    order = sorted((axis for axis in range(len(shape)) if shape[axis] >= 2), key=lambda axis: strides[axis])
    expected = 1
    for axis in order:
        if strides[axis] != expected:
            return False
        expected *= shape[axis]
    return True


def elementwise_strides(
    shape: Sequence[int], operands: Sequence[tuple[Sequence[int], Sequence[int]]]
) -> tuple[int, ...]:
    """The strides of the output PyTorch's TensorIterator allocates for an elementwise op of these operands
    (each its shape and strides, broadcast to `shape`): contiguous, channels-last or the operands' own strides
    where they all agree, else dense in the order of the operands' strides (its `reorder_dimensions`)."""
    rank = len(shape)
    same_shape = all(tuple(operand_shape) == tuple(shape) for operand_shape, _ in operands)
    if same_shape:
        if all(is_contiguous(shape, strides) for _, strides in operands):
            return contiguous_strides(shape)
        # (the iterator's channels-last case is 4-d only; a 5-d one keeps its strides through the next case)
        if rank == 4 and all(_channels_last_contiguous(shape, strides) for _, strides in operands):
            return channels_last_strides(shape)
        first = tuple(operands[0][1])
        if all(_non_overlapping_and_dense(shape, strides) for _, strides in operands) and all(
            tuple(strides) == first for _, strides in operands
        ):
            return first
    broadcast = [_broadcast_strides(shape, operand_shape, strides) for operand_shape, strides in operands]

    def should_swap(first_axis: int, second_axis: int) -> int:
        for strides in broadcast:
            first_stride, second_stride = strides[first_axis], strides[second_axis]
            if first_stride == 0 or second_stride == 0:
                continue
            if first_stride != second_stride:
                return -1 if first_stride < second_stride else 1
            if shape[first_axis] > shape[second_axis]:
                return 1
        return 0

    order = list(range(rank - 1, -1, -1))  # fastest-moving first
    for position in range(1, rank):
        moving = position
        for earlier in range(position - 1, -1, -1):
            comparison = should_swap(order[earlier], order[moving])
            if comparison > 0:
                order[earlier], order[moving] = order[moving], order[earlier]
                moving = earlier
            elif comparison < 0:
                break
    strides = [0] * rank
    step = 1
    for axis in order:
        strides[axis] = step
        step *= shape[axis]
    return tuple(strides)


def _broadcast_strides(shape: Sequence[int], operand_shape: Sequence[int], strides: Sequence[int]) -> list[int]:
    """An operand's strides against the output's axes: 0 along an axis it is broadcast over."""
    missing = len(shape) - len(operand_shape)
    result = [0] * missing
    for axis, (size, stride) in enumerate(zip(operand_shape, strides, strict=True)):
        result.append(0 if size == 1 and shape[missing + axis] != 1 else stride)
    return result


def empty_like_strides(shape: Sequence[int], strides: Sequence[int]) -> tuple[int, ...]:
    """The strides of `torch.empty_like(x)` (memory format preserved): x's own where x is dense, else the
    channels-last or contiguous layout x's strides suggest."""
    if _non_overlapping_and_dense(shape, strides):
        return tuple(strides)
    if _strides_like_channels_last(shape, strides):
        return channels_last_strides(shape)
    return contiguous_strides(shape)
