"""Checks and conversions rules share: a value per spatial axis, an image-shaped input, an axis index."""

from cnncalc.base import limits
from cnncalc.base.tensor import AxisField, Tensor
from cnncalc.kinds.base import LayerError


def per_axis(value: int | list[int], rank: int, what: str) -> tuple[int, ...]:
    """Expand a number to one value per spatial axis, or check a list has one value per axis."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise LayerError(
            f"{what} has {len(value)} values but the input has {rank} spatial axes",
            f"give one number for all axes, or exactly {rank} (one per axis)",
        )
    return tuple(value)


def image_view(tensor: Tensor, kind: str, rank: int | None = None) -> Tensor:
    """The input as PyTorch's image layers read it: by position, (batch, channels, *spatial).

    Like PyTorch, cnncalc never refuses an input of the right rank because of what its axes held before
    (a conv2d after `permute [0, 1, 3, 2]` or after a reshape is valid). Receptive fields carry over only
    where every positional spatial axis is one the engine tracks as spatial, in any order; otherwise the
    view has no field (shown as unknown, never as a guess).
    """
    spatial_rank = tensor.rank - 2
    if spatial_rank < 1:
        raise LayerError(
            f"{kind} needs a (batch, channels, *spatial) input, got shape {format_shape(tensor.shape)}",
            "put it before flatten/linear layers, or reshape to (batch, channels, length) first",
        )
    if rank is not None and spatial_rank != rank:
        raise LayerError(
            f"{kind} works on {rank} spatial axes but its input {format_shape(tensor.shape)} has {spatial_rank}",
            f"use the {spatial_rank}-d variant of this layer, or fix the input shape",
        )
    if spatial_rank > limits.MAX_SPATIAL_AXES:
        raise LayerError(f"at most {limits.MAX_SPATIAL_AXES} spatial axes are supported")
    if tensor.is_image:
        return tensor
    return Tensor(tensor.shape, 1, tuple(range(2, tensor.rank)), positional_fields(tensor), tensor.global_context)


def positional_fields(tensor: Tensor) -> tuple[AxisField, ...] | None:
    """The fields of axes 2, 3, ... in that order, or None unless each of them is a tracked spatial axis."""
    if tensor.field is None:
        return None
    fields = []
    for axis in range(2, tensor.rank):
        if axis not in tensor.spatial_axes:
            return None
        fields.append(tensor.field[tensor.spatial_axes.index(axis)])
    return tuple(fields)


def format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ")"


def normalize_axis(axis: int, rank: int, what: str = "dim") -> int:
    if not -rank <= axis < rank:
        raise LayerError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return axis % rank
