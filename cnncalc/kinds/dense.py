"""Linear layers and the reshaping layers around them: flatten, reshape, permute.

Linear acts on the last axis, as torch.nn.Linear does:
  params = in * out + (out if bias);   MACs = prod(output shape) * in   (bias excluded)
"""

import math
from typing import Literal

from cnncalc.base import receptive_field as rf
from cnncalc.base.tensor import Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind
from cnncalc.kinds.fields import Positive
from cnncalc.kinds.shapes import format_shape, normalize_axis

# Why cnncalc refuses what PyTorch allows with the batch axis (it models networks, whose batch passes through).
BATCH_KEPT = "cnncalc keeps the batch as axis 0 of every tensor, so that totals and per-image figures mean something"


class LinearSpec(LayerSchema):
    out: Positive
    bias: bool = True


class FlattenSpec(LayerSchema):
    start_dim: int = 1
    end_dim: int = -1


AxisRole = Literal["channels", "spatial", "other"]


class ReshapeSpec(LayerSchema):
    shape: list[int]  # without the batch axis; one entry may be -1
    # What each output axis (batch excluded) holds, where the reshape alone does not say: e.g. [other, channels]
    # for (batch, tokens, dim), [channels, spatial, spatial] for a feature map.
    roles: list[AxisRole] | None = None


class PermuteSpec(LayerSchema):
    dims: list[int]  # a permutation of all axes, batch (0) first


class TransposeSpec(LayerSchema):
    dim0: int  # the two axes to swap, as torch.transpose(x, dim0, dim1) numbers them (negative from the end)
    dim1: int


@layer_kind("linear", LinearSpec, family="linear", aliases=("fc", "dense"))
def linear(spec: LinearSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Fully connected layer on the last axis (torch.nn.Linear)."""
    tensor = inputs[0]
    if tensor.rank < 2:
        raise LayerError(f"linear needs at least (batch, features), got {format_shape(tensor.shape)}")
    in_features = tensor.shape[-1]
    if tensor.channel_axis is not None and len(tensor.spatial_axes) >= 2 and tensor.rank - 1 in tensor.spatial_axes:
        # Valid in PyTorch, and rarely meant: on (B, C, H, W) a Linear mixes the W positions of each row only.
        ctx.warning(
            f"linear on the feature map {format_shape(tensor.shape)} acts on its last axis only "
            f"({in_features} values along a spatial axis), not on the channels or the whole map",
            "add `- {type: flatten}` before it to use every value, or use a 1x1 conv (`pointwise`) to mix channels",
        )
    output = last_axis_replaced(tensor, spec.out)
    return LayerResult(
        output=output,
        params=in_features * spec.out + (spec.out if spec.bias else 0),
        macs=math.prod(output.shape) * in_features,
    )


def last_axis_replaced(tensor: Tensor, size: int) -> Tensor:
    """The output of a layer that maps the last axis to `size` features (linear, token MLP).

    Acting on channels (channels-last) keeps every receptive field. Acting on a spatial axis mixes all its
    positions: along that axis every output sees the whole input (the axis stays an axis PyTorch can
    convolve or pool); the other axes keep their fields.
    """
    shape = (*tensor.shape[:-1], size)
    last = tensor.rank - 1
    if last not in tensor.spatial_axes or tensor.field is None:
        return tensor.with_shape(shape)
    position = tensor.spatial_axes.index(last)
    field = list(tensor.field)
    field[position] = rf.whole_axis(field[position], tensor.shape[last])
    return Tensor(shape, tensor.channel_axis, tensor.spatial_axes, tuple(field), tensor.global_context)


@layer_kind("flatten", FlattenSpec, family="reshape", does_work=False)
def flatten(spec: FlattenSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Merge axes start_dim..end_dim into one (torch.nn.Flatten)."""
    tensor = inputs[0]
    start = normalize_axis(spec.start_dim, tensor.rank, "start_dim")
    end = normalize_axis(spec.end_dim, tensor.rank, "end_dim")
    if start == 0:
        raise LayerError(
            "flatten must keep the batch axis (start_dim >= 1); PyTorch allows start_dim 0, but " + BATCH_KEPT,
            "flatten from start_dim 1 (nn.Flatten's default)",
        )
    if end < start:
        raise LayerError(f"end_dim ({spec.end_dim}) comes before start_dim ({spec.start_dim})")
    merged = math.prod(tensor.shape[start : end + 1])
    shape = (*tensor.shape[:start], merged, *tensor.shape[end + 1 :])
    removed = end - start

    def moved(axis: int) -> int:
        return axis if axis < start else axis - removed

    spatial = tuple(moved(axis) for axis in tensor.spatial_axes if not start <= axis <= end)
    channel_axis = tensor.channel_axis
    if channel_axis is not None:
        channel_axis = start if start <= channel_axis <= end else moved(channel_axis)
    if len(spatial) == len(tensor.spatial_axes):
        return LayerResult(output=Tensor(shape, channel_axis, spatial, tensor.field, tensor.global_context))
    # Spatial axes merged away: what is left is a vector (or sequence) without a receptive field.
    return LayerResult(output=Tensor(shape, channel_axis, (), None, tensor.global_context))


@layer_kind("reshape", ReshapeSpec, family="reshape", does_work=False)
def reshape(spec: ReshapeSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """View as a new shape (batch kept; one -1 is inferred)."""
    tensor = inputs[0]
    per_sample = tensor.numel // tensor.batch
    sizes = list(spec.shape)
    if sizes.count(-1) > 1:
        raise LayerError("only one size can be -1")
    if any(size == 0 or size < -1 for size in sizes):
        raise LayerError("sizes must be positive (or one -1)")
    known = math.prod([size for size in sizes if size != -1])
    if -1 in sizes:
        if per_sample % known:
            raise LayerError(f"{per_sample} elements per sample do not divide into {sizes}")
        sizes[sizes.index(-1)] = per_sample // known
    if math.prod(sizes) != per_sample:
        raise LayerError(
            f"{format_shape(tensor.shape[1:])} has {per_sample} elements per sample, {sizes} has {math.prod(sizes)}"
        )
    shape = (tensor.batch, *sizes)
    output = reshaped_roles(tensor, shape)
    if spec.roles is not None:
        output = _stated_roles(output, spec.roles)
    return LayerResult(output=output)


def reshaped_roles(tensor: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The output of a reshape with the axis roles that follow from it, never guessed.

    The axes of input and output are matched in runs whose sizes multiply to the same number (the only way a
    row-major view can regroup them). An axis carried over whole keeps its role and receptive field; axes
    merged into one keep the channel role if the channels are among them (as flatten does); an axis split in
    parts, or a merge of spatial axes only, holds no known role.
    """
    channel_axis: int | None = None
    spatial: list[int] = []
    fields = []
    for old_axes, new_axes in _matched_runs(tensor.shape, shape):
        if len(old_axes) == 1 and len(new_axes) == 1:
            old, new = old_axes[0], new_axes[0]
            if old == tensor.channel_axis:
                channel_axis = new
            elif old in tensor.spatial_axes:
                spatial.append(new)
                if tensor.field is not None:
                    fields.append(tensor.field[tensor.spatial_axes.index(old)])
        elif len(new_axes) == 1 and tensor.channel_axis in old_axes:
            channel_axis = new_axes[0]
    # A field is kept only if every spatial axis kept its own (none was merged away or split).
    kept_all = tensor.field is not None and len(spatial) == len(tensor.spatial_axes)
    return Tensor(shape, channel_axis, tuple(spatial), tuple(fields) if kept_all else None, tensor.global_context)


def _matched_runs(old: tuple[int, ...], new: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Pair runs of consecutive axes (batch excluded) of two shapes with the same number of elements whose
    sizes multiply to the same product: (1, 6, 4) -> (1, 2, 3, 4) gives [([1], [1, 2]), ([2], [3])]. An axis
    of size 1 that is not matched to one of size 1 forms a run of its own on its side."""
    runs: list[tuple[list[int], list[int]]] = []
    i, j = 1, 1
    while i < len(old) or j < len(new):
        if i < len(old) and j < len(new) and old[i] == 1 and new[j] == 1:
            runs.append(([i], [j]))
            i, j = i + 1, j + 1
            continue
        if i < len(old) and old[i] == 1:
            runs.append(([i], []))
            i += 1
            continue
        if j < len(new) and new[j] == 1:
            runs.append(([], [j]))
            j += 1
            continue
        old_run, new_run = [i], [j]
        old_product, new_product = old[i], new[j]
        i, j = i + 1, j + 1
        while old_product != new_product:
            if old_product < new_product:
                old_product *= old[i]
                old_run.append(i)
                i += 1
            else:
                new_product *= new[j]
                new_run.append(j)
                j += 1
        runs.append((old_run, new_run))
    return runs


def _stated_roles(tensor: Tensor, roles: list[str]) -> Tensor:
    """The reshape's output with the roles its `roles:` states; fields survive only where they agree."""
    if len(roles) != tensor.rank - 1:
        raise LayerError(
            f"roles names {len(roles)} axes but the output {format_shape(tensor.shape)} has {tensor.rank - 1} "
            "besides the batch",
            "give one role (channels, spatial or other) per output axis, batch excluded",
        )
    if roles.count("channels") > 1:
        raise LayerError("roles names more than one channel axis", "one axis holds the channels; call the rest other")
    channel_axis = roles.index("channels") + 1 if "channels" in roles else None
    spatial = tuple(axis for axis, role in enumerate(roles, start=1) if role == "spatial")
    field = tensor.field if spatial == tensor.spatial_axes else None
    return Tensor(tensor.shape, channel_axis, spatial, field, tensor.global_context)


@layer_kind("permute", PermuteSpec, family="reshape", does_work=False)
def permute(spec: PermuteSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Reorder axes (torch.permute); dims include the batch axis."""
    tensor = inputs[0]
    if sorted(spec.dims) != list(range(tensor.rank)):
        raise LayerError(
            f"dims {spec.dims} is not a permutation of the {tensor.rank} axes of {format_shape(tensor.shape)}",
            f"list each of 0..{tensor.rank - 1} once, batch (0) first",
        )
    return _reordered(tensor, spec.dims, "permute must keep the batch axis first (dims[0] == 0): " + BATCH_KEPT)


@layer_kind("transpose", TransposeSpec, family="reshape", does_work=False)
def transpose(spec: TransposeSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Swap two axes (torch.transpose: dim0 and dim1); the batch axis stays first."""
    tensor = inputs[0]
    first = normalize_axis(spec.dim0, tensor.rank, "dim0")
    second = normalize_axis(spec.dim1, tensor.rank, "dim1")
    order = list(range(tensor.rank))
    order[first], order[second] = order[second], order[first]
    return _reordered(
        tensor, order, "transpose must keep the batch axis first (neither dim0 nor dim1 is 0): " + BATCH_KEPT
    )


def _reordered(tensor: Tensor, order: list[int], batch_moved: str) -> LayerResult:
    """The input with its axes in `order` (output axis i is input axis order[i]); the axes keep their roles."""
    if order[0] != 0:
        raise LayerError(batch_moved)
    new_position = {old: new for new, old in enumerate(order)}
    shape = tuple(tensor.shape[axis] for axis in order)
    channel_axis = None if tensor.channel_axis is None else new_position[tensor.channel_axis]
    spatial = tuple(new_position[axis] for axis in tensor.spatial_axes)
    return LayerResult(output=Tensor(shape, channel_axis, spatial, tensor.field, tensor.global_context))
