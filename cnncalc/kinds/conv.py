"""Convolutions: conv1d/2d/3d, depthwise, pointwise and transposed convolutions.

Counting (cnncalc convention, see README):
  params = C_out * (C_in / groups) * prod(k) + (C_out if bias)
  MACs   = batch * C_out * prod(out spatial) * (C_in / groups) * prod(k)       (bias excluded)
  transposed: params = C_in * (C_out / groups) * prod(k) + bias;
              MACs = batch * C_in * prod(in spatial) * (C_out / groups) * prod(k)  (counted on the input grid)
"""

import math
from typing import Literal

from cnncalc.base import receptive_field as rf
from cnncalc.base.arithmetic import conv_output_size, effective_kernel, same_padding, transposed_output_size
from cnncalc.base.geometry import Geometry, Window, windows
from cnncalc.base.tensor import Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, image_result, layer_kind, ranked_kinds
from cnncalc.kinds.fields import NonNegativeAxes, Positive, PositiveAxes, WindowFields
from cnncalc.kinds.shapes import image_view, per_axis

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


class ConvSpec(WindowFields):
    out: Positive
    groups: Positive = 1
    bias: bool = True
    padding_mode: PaddingMode = "zeros"


class DepthwiseSpec(WindowFields):
    multiplier: Positive = 1
    bias: bool = True
    padding_mode: PaddingMode = "zeros"


class PointwiseSpec(LayerSchema):
    out: Positive
    stride: PositiveAxes = 1
    groups: Positive = 1
    bias: bool = True


class ConvTransposeSpec(LayerSchema):
    out: Positive
    kernel: PositiveAxes
    stride: PositiveAxes = 1
    padding: NonNegativeAxes = 0
    output_padding: NonNegativeAxes = 0
    dilation: PositiveAxes = 1
    groups: Positive = 1
    bias: bool = True


def resolve_padding(
    padding: int | str | list[int | list[int]],
    spatial: tuple[int, ...],
    kernels: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """(left, right) padding per spatial axis from any accepted form: n, per-axis list, per-side pairs,
    'valid', or 'same' (PyTorch's for stride 1, TensorFlow's SAME for larger strides)."""
    rank = len(spatial)
    if padding == "valid":
        return ((0, 0),) * rank
    if padding == "same":
        return tuple(
            same_padding(size, kernel, stride, dilation)
            for size, kernel, stride, dilation in zip(spatial, kernels, strides, dilations, strict=True)
        )
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    if len(padding) != rank:
        raise LayerError(
            f"padding has {len(padding)} entries but the input has {rank} spatial axes",
            "give one number, one number per axis, or one [left, right] pair per axis",
        )
    pairs: list[tuple[int, int]] = []
    for entry in padding:
        if isinstance(entry, int):
            pairs.append((entry, entry))
        elif len(entry) == 2:
            pairs.append((entry[0], entry[1]))
        else:
            raise LayerError("a per-side padding entry must be a [left, right] pair")
    return tuple(pairs)


def check_padding_mode(mode: str, padding: tuple[tuple[int, int], ...], spatial: tuple[int, ...]) -> None:
    """PyTorch: reflection needs pad < size; circular padding may wrap around at most once (pad <= size)."""
    if mode not in ("reflect", "circular"):
        return
    for axis, ((left, right), size) in enumerate(zip(padding, spatial, strict=True)):
        widest = max(left, right)
        if (mode == "reflect" and widest >= size) or (mode == "circular" and widest > size):
            raise LayerError(
                f"{mode} padding {widest} on axis {axis} is too large for an input of {size}",
                "use zeros or replicate padding, or a larger input",
            )


def convolve(
    kind: str,
    tensor: Tensor,
    out_channels: int,
    kernels: tuple[int, ...],
    strides: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilations: tuple[int, ...],
    groups: int,
    bias: bool,
    ctx: RuleContext,
) -> LayerResult:
    """Shape, parameters, MACs and receptive field of a (grouped, dilated) convolution."""
    in_channels = tensor.shape[1]
    spatial = tensor.spatial
    if in_channels % groups:
        ctx.error(
            f"groups={groups} does not divide the {in_channels} input channels",
            f"choose groups among the divisors of {in_channels}",
        )
    if out_channels % groups:
        ctx.error(
            f"groups={groups} does not divide the {out_channels} output channels",
            f"choose out as a multiple of {groups}",
        )
    out_spatial = []
    for axis, (size, kernel, stride, (left, right), dilation) in enumerate(
        zip(spatial, kernels, strides, padding, dilations, strict=True)
    ):
        size_out = conv_output_size(size, kernel, stride, left, right, dilation)
        if size_out < 1:
            span = effective_kernel(kernel, dilation)
            raise LayerError(
                f"spatial axis {axis} has size {size} (+{left + right} padding), smaller than the "
                f"effective kernel {span}; the output would be empty",
                "use a larger input, more padding, or a smaller kernel/dilation",
            )
        out_spatial.append(size_out)
    weights_per_output = (in_channels // groups) * math.prod(kernels)
    axes = windows(spatial, kernels, strides, padding, dilations)
    return image_result(
        tensor,
        (tensor.batch, out_channels, *out_spatial),
        rf.through_windows(tensor.field, axes),
        params=out_channels * weights_per_output + (out_channels if bias else 0),
        macs=tensor.batch * out_channels * math.prod(out_spatial) * weights_per_output,
        geometry=Geometry(Window.CONVOLUTION, axes, in_channels, out_channels, groups, bias),
    )


Axes = tuple[int, ...]


def _window(
    spec: ConvSpec | DepthwiseSpec, tensor: Tensor, kind: str, rank: int | None = None
) -> tuple[Axes, Axes, tuple[tuple[int, int], ...], Axes]:
    """Kernel, stride, (left, right) padding and dilation per spatial axis, checked against the input."""
    spatial_rank = image_view(tensor, kind, rank).rank - 2
    kernels = per_axis(spec.kernel, spatial_rank, "kernel")
    strides = per_axis(spec.stride, spatial_rank, "stride")
    dilations = per_axis(spec.dilation, spatial_rank, "dilation")
    spatial = tensor.spatial
    padding = resolve_padding(spec.padding, spatial, kernels, strides, dilations)
    check_padding_mode(spec.padding_mode, padding, spatial)
    return kernels, strides, padding, dilations


def _conv_rule(kind: str, rank: int | None):
    def rule(spec: ConvSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        tensor = image_view(inputs[0], kind, rank)
        kernels, strides, padding, dilations = _window(spec, tensor, kind, rank)
        return convolve(kind, tensor, spec.out, kernels, strides, padding, dilations, spec.groups, spec.bias, ctx)

    return rule


_CONV_SUMMARY = (
    "Convolution with per-axis kernel, stride, padding (n, per-axis, [left, right], same, valid), dilation, groups."
)
ranked_kinds(
    "conv",
    ConvSpec,
    _conv_rule,
    family="convolution",
    summary=_CONV_SUMMARY + " Rank from the input.",
    torch_name="Conv",
    window=Window.CONVOLUTION,
    aliases=("convolution",),
)


@layer_kind("depthwise", DepthwiseSpec, family="convolution", window=Window.CONVOLUTION, aliases=("dw", "dwconv"))
def depthwise(spec: DepthwiseSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Depthwise convolution: groups = C_in, out = C_in * multiplier."""
    tensor = image_view(inputs[0], "depthwise")
    kernels, strides, padding, dilations = _window(spec, tensor, "depthwise")
    channels = tensor.shape[1]
    return convolve(
        "depthwise", tensor, channels * spec.multiplier, kernels, strides, padding, dilations, channels, spec.bias, ctx
    )


@layer_kind("pointwise", PointwiseSpec, family="convolution", window=Window.CONVOLUTION, aliases=("pw",))
def pointwise(spec: PointwiseSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """1x1 convolution (channel mixing), optionally strided or grouped."""
    tensor = image_view(inputs[0], "pointwise")
    spatial_rank = tensor.rank - 2
    strides = per_axis(spec.stride, spatial_rank, "stride")
    ones = (1,) * spatial_rank
    padding = ((0, 0),) * spatial_rank
    return convolve("pointwise", tensor, spec.out, ones, strides, padding, ones, spec.groups, spec.bias, ctx)


def _transposed_rule(kind: str, rank: int | None):
    def rule(spec: ConvTransposeSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        tensor = image_view(inputs[0], kind, rank)
        spatial_rank = tensor.rank - 2
        kernels = per_axis(spec.kernel, spatial_rank, "kernel")
        strides = per_axis(spec.stride, spatial_rank, "stride")
        paddings = per_axis(spec.padding, spatial_rank, "padding")
        output_paddings = per_axis(spec.output_padding, spatial_rank, "output_padding")
        dilations = per_axis(spec.dilation, spatial_rank, "dilation")
        in_channels = tensor.shape[1]
        for name, channels in (("input", in_channels), ("output", spec.out)):
            if channels % spec.groups:
                ctx.error(f"groups={spec.groups} does not divide the {channels} {name} channels")
        out_spatial = []
        for axis, (size, kernel, stride, padding, output_padding, dilation) in enumerate(
            zip(tensor.spatial, kernels, strides, paddings, output_paddings, dilations, strict=True)
        ):
            if output_padding >= max(stride, dilation):
                raise LayerError(
                    f"output_padding {output_padding} on axis {axis} must be smaller than the stride ({stride}) "
                    f"or the dilation ({dilation})",
                    "PyTorch refuses this; output_padding only picks among the sizes a stride can produce",
                )
            size_out = transposed_output_size(size, kernel, stride, padding, output_padding, dilation)
            if size_out < 1:
                raise LayerError(
                    f"padding {padding} removes the whole output on axis {axis} (input {size} gives {size_out})",
                    "reduce the padding",
                )
            out_spatial.append(size_out)
        weights_per_input = (spec.out // spec.groups) * math.prod(kernels)
        padding_pairs = tuple((padding, padding) for padding in paddings)
        axes = windows(tensor.spatial, kernels, strides, padding_pairs, dilations, output_paddings)
        return image_result(
            tensor,
            (tensor.batch, spec.out, *out_spatial),
            rf.through_transposed_windows(tensor.field, axes),
            params=in_channels * weights_per_input + (spec.out if spec.bias else 0),
            macs=tensor.batch * in_channels * math.prod(tensor.spatial) * weights_per_input,
            geometry=Geometry(Window.TRANSPOSED, axes, in_channels, spec.out, spec.groups, spec.bias),
        )

    return rule


ranked_kinds(
    "conv_transpose",
    ConvTransposeSpec,
    _transposed_rule,
    family="convolution",
    summary="Transposed convolution with output_padding; MACs counted on the input grid. Rank from the input.",
    torch_name="ConvTranspose",
    window=Window.TRANSPOSED,
    aliases=("tconv", "deconv", "convt", "transposed"),
)
