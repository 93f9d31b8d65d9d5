"""Checks and conversions rules share: a value per spatial axis, an image-shaped input, an axis index."""

from cnncalc.base import limits
from cnncalc.base.tensor import Tensor
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


def require_image(tensor: Tensor, kind: str, rank: int | None = None) -> int:
    """Check the input is (batch, channels, *spatial) with `rank` spatial axes; return the spatial rank."""
    spatial_rank = len(tensor.spatial_axes)
    if not tensor.is_image or spatial_rank == 0:
        raise LayerError(
            f"{kind} needs a (batch, channels, *spatial) input, got shape {format_shape(tensor.shape)}",
            "put it before flatten/linear layers, or permute channels back to axis 1",
        )
    if rank is not None and spatial_rank != rank:
        raise LayerError(
            f"{kind} works on {rank} spatial axes but its input {format_shape(tensor.shape)} has {spatial_rank}",
            f"use the {spatial_rank}-d variant of this layer, or fix the input shape",
        )
    if spatial_rank > limits.MAX_SPATIAL_AXES:
        raise LayerError(f"at most {limits.MAX_SPATIAL_AXES} spatial axes are supported")
    return spatial_rank


def format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ")"


def normalize_axis(axis: int, rank: int, what: str = "dim") -> int:
    if not -rank <= axis < rank:
        raise LayerError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return axis % rank
