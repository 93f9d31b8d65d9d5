"""An operation cnncalc has no kind for, kept in an imported spec so that the network still reads through.

`cnncalc import --allow-uncounted` writes each such operation as an `uncounted` layer: its output shape is the
one PyTorch produced at the traced input, and it counts no parameters and no work. Its shapes hold only at that
input, so at any other input it refuses, rather than give a silently wrong shape downstream.
"""

from cnncalc.base.tensor import Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind
from cnncalc.kinds.fields import NonNegative
from cnncalc.kinds.shapes import format_shape


class UncountedSpec(LayerSchema):
    op: str  # the PyTorch operation, as the importer named it (`torch.sum`, `Tensor.roll`)
    shape: list[NonNegative]  # the output shape PyTorch gave, without the batch axis
    traced_inputs: list[list[NonNegative]]  # the input shapes (without batch) it was traced at
    params: NonNegative = 0  # parameters the operation reads (counted: they are in the model's state_dict)
    buffers: NonNegative = 0  # buffers it reads (an index table, say)


@layer_kind(
    "uncounted",
    UncountedSpec,
    family="structure",
    summary="An operation with no kind (from `import --allow-uncounted`): traced shape, no params, work not counted.",
    inputs=(1, None),
    does_work=False,
    pytorch_module=False,
)
def uncounted(spec: UncountedSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """The traced output shape, at the traced input shapes only."""
    actual = [list(tensor.shape[1:]) for tensor in inputs]
    if actual != spec.traced_inputs:
        raise LayerError(
            f"uncounted operation {spec.op} was traced with input shapes "
            f"{', '.join(format_shape(tuple(shape)) for shape in spec.traced_inputs)} (without batch), "
            f"here {', '.join(format_shape(tuple(shape)) for shape in actual)}",
            "its shape is only known at the traced input: import the model again at this input size",
        )
    ctx.warning(
        f"uncounted: {spec.op} is not counted (no cnncalc kind); its shape is the traced one",
        "the totals leave out whatever work it does",
    )
    shape = (inputs[0].batch, *spec.shape)
    first = inputs[0]
    if len(shape) == first.rank:  # same axes: they keep their roles (a channels-last map stays one)
        return LayerResult(
            output=Tensor(shape, first.channel_axis, first.spatial_axes, None), params=spec.params, buffers=spec.buffers
        )
    return LayerResult(
        output=Tensor(shape, 1 if len(shape) > 1 else None, tuple(range(2, len(shape))), None),
        params=spec.params,
        buffers=spec.buffers,
    )
