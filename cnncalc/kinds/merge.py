"""Layers with several inputs: add, multiply (both broadcasting) and concat.

Their receptive field is the widest of the paths that meet; a warning says when the paths are not aligned
(different jump, or units centred on different pixels). Inputs broadcast along their spatial axes (an SE
gate of shape (B, C, 1, 1)) are global context: they are left out of the receptive field.
"""

from cnncalc.base import receptive_field as rf
from cnncalc.base.tensor import AxisField, Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind
from cnncalc.kinds.dense import BATCH_KEPT
from cnncalc.kinds.shapes import format_shape, normalize_axis

AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class ElementwiseMergeSpec(LayerSchema):
    pass


class ConcatSpec(LayerSchema):
    dim: int = 1


def axis_name(rank: int, index: int) -> str:
    names = AXIS_NAMES.get(rank)
    return names[index] if names else str(index)


def merged_field(
    output: Tensor, candidates: list[Tensor], what: str, ctx: RuleContext
) -> tuple[tuple[AxisField, ...] | None, bool]:
    """The receptive field where paths meet, with a warning for misaligned paths.

    Returns the field and whether every input was global context.
    """
    spatial = output.spatial
    paths = [
        tensor
        for tensor in candidates
        if tensor.field is not None and not tensor.global_context and tensor.spatial == spatial
    ]
    if not paths:
        # No path carries a field: the result is global if any input already saw the whole input.
        return None, any(tensor.global_context for tensor in candidates)
    merged: list[AxisField] = []
    for index in range(len(spatial)):
        widest, aligned = rf.merge([tensor.field[index] for tensor in paths])  # type: ignore[index]
        if not aligned:
            details = "; ".join(
                f"size {t.field[index].size}, jump {t.field[index].jump}, centre {t.field[index].center}"  # type: ignore[index]
                for t in paths
            )
            ctx.warning(
                f"{what}: the paths are not aligned on axis {axis_name(len(spatial), index)} ({details}); "
                f"the receptive field shown is {_merged_from(paths, index)}",
                "units of the merged map look at different places; check strides and padding of each path",
            )
        merged.append(widest)
    return tuple(merged), False


def same_roles(tensors: list[Tensor]) -> bool:
    """Whether the inputs agree on which axis holds the channels and which are spatial."""
    return len({(tensor.channel_axis, tensor.spatial_axes) for tensor in tensors}) == 1


def unknown_roles(shape: tuple[int, ...], inputs: list[Tensor]) -> Tensor:
    """The output of a merge whose inputs disagree on their axes' roles (valid in PyTorch, which has none):
    cnncalc does not pick one, so a later layer that needs a role asks for it."""
    return Tensor(shape, None, (), None, all(tensor.global_context for tensor in inputs))


def _merged_from(paths: list[Tensor], index: int) -> str:
    """What rf.merge reports for misaligned paths: their union where they share the jump, else the widest."""
    jumps = {tensor.field[index].jump for tensor in paths}  # type: ignore[index]
    return "the union of the paths' fields" if len(jumps) == 1 else "the widest path's"


def broadcast_shapes(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    rank = max(len(shape) for shape in shapes)
    result = []
    for position in range(rank):
        sizes = {shape[position - rank + len(shape)] for shape in shapes if position - rank + len(shape) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            return None
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _mismatch_hint(shapes: list[tuple[int, ...]]) -> str:
    first = shapes[0]
    for other in shapes[1:]:
        if len(other) == len(first) and len(first) >= 2 and other[1] != first[1]:
            return (
                f"channels differ ({first[1]} vs {other[1]}): give the shortcut a projection "
                "(a 1x1 conv to the same channels, strided if the resolution changes too)"
            )
        if len(other) == len(first) and other[2:] != first[2:]:
            return "spatial sizes differ: the paths downsample differently; add a strided projection or a pool"
    return "the shapes must be equal, or broadcastable (sizes equal or 1 on each axis)"


def _elementwise(kind: str):
    def rule(spec: ElementwiseMergeSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        shapes = [tensor.shape for tensor in inputs]
        shape = broadcast_shapes(shapes)
        if shape is None:
            listed = " and ".join(format_shape(s) for s in shapes)
            raise LayerError(f"input shapes {listed} do not match", _mismatch_hint(shapes))
        # Axis roles come from an input of full rank; the shape is the broadcast one, e.g.
        # (1, 2, 5, 1) + (1, 2, 1, 7) -> (1, 2, 5, 7).
        full_rank = [tensor for tensor in inputs if tensor.rank == len(shape)]
        template = next((tensor for tensor in full_rank if tensor.shape == shape), full_rank[0]).with_shape(shape)
        if not same_roles(full_rank):
            return LayerResult(output=unknown_roles(shape, inputs))
        field, all_global = merged_field(template, inputs, kind, ctx)
        output = Tensor(shape, template.channel_axis, template.spatial_axes, field, all_global)
        return LayerResult(output=output)

    return rule


layer_kind(
    "add",
    ElementwiseMergeSpec,
    family="merge",
    summary="Elementwise sum of two or more inputs (broadcasting).",
    pytorch_module=False,  # `a + b`
    inputs=(2, None),
)(_elementwise("add"))
layer_kind(
    "multiply",
    ElementwiseMergeSpec,
    family="merge",
    summary="Elementwise product (broadcasting), e.g. a squeeze-and-excitation gate.",
    pytorch_module=False,  # `a * b`
    inputs=(2, None),
)(_elementwise("multiply"))


@layer_kind("concat", ConcatSpec, family="merge", does_work=False, inputs=(2, None))
def concat(spec: ConcatSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Concatenate inputs along dim (default 1, channels)."""
    first = inputs[0]
    if len({tensor.rank for tensor in inputs}) > 1:
        listed = " and ".join(format_shape(t.shape) for t in inputs)
        raise LayerError(f"inputs {listed} have different ranks")
    dim = normalize_axis(spec.dim, first.rank)
    if dim == 0:
        raise LayerError(
            f"concat along the batch axis is not modelled: {BATCH_KEPT}", "concatenate along channels (dim 1)"
        )
    for tensor in inputs[1:]:
        for axis, (mine, theirs) in enumerate(zip(first.shape, tensor.shape, strict=True)):
            if axis != dim and mine != theirs:
                raise LayerError(
                    f"concat along dim {dim}: {format_shape(first.shape)} and {format_shape(tensor.shape)} "
                    f"differ on axis {axis}",
                    "all inputs must match on every axis but the one concatenated; resample one path first",
                )
    shape = tuple(sum(t.shape[dim] for t in inputs) if axis == dim else size for axis, size in enumerate(first.shape))
    if not same_roles(inputs):
        return LayerResult(output=unknown_roles(shape, inputs))
    field, all_global = merged_field(first.with_shape(shape), inputs, "concat", ctx)
    output = Tensor(shape, first.channel_axis, first.spatial_axes, field, all_global)
    return LayerResult(output=output)
