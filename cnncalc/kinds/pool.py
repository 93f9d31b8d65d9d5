"""Pooling: max/avg pooling (with ceil_mode), adaptive pooling and global pooling. No parameters, no MACs."""

from cnncalc.base import receptive_field as rf
from cnncalc.base.arithmetic import effective_kernel, pool_output_size
from cnncalc.base.geometry import Geometry, Window, windows
from cnncalc.base.tensor import Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, image_result, layer_kind, ranked_kinds
from cnncalc.kinds.fields import NonNegativeAxes, Positive, PositiveAxes
from cnncalc.kinds.shapes import image_view, per_axis


class MaxPoolSpec(LayerSchema):
    kernel: PositiveAxes
    stride: PositiveAxes | None = None  # default: the kernel size, as in PyTorch
    padding: NonNegativeAxes = 0
    dilation: PositiveAxes = 1
    ceil_mode: bool = False


class AvgPoolSpec(LayerSchema):
    kernel: PositiveAxes
    stride: PositiveAxes | None = None
    padding: NonNegativeAxes = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: Positive | None = None


class AdaptivePoolSpec(LayerSchema):
    output_size: Positive | list[Positive | None]


class GlobalPoolSpec(LayerSchema):
    keepdim: bool = False


def _pool(kind: str, rank: int | None, tensor: Tensor, spec: MaxPoolSpec | AvgPoolSpec, dilation_value) -> LayerResult:
    tensor = image_view(tensor, kind, rank)
    spatial_rank = tensor.rank - 2
    kernels = per_axis(spec.kernel, spatial_rank, "kernel")
    strides = per_axis(spec.stride if spec.stride is not None else spec.kernel, spatial_rank, "stride")
    paddings = per_axis(spec.padding, spatial_rank, "padding")
    dilations = per_axis(dilation_value, spatial_rank, "dilation")
    out_spatial = []
    for axis, (size, kernel, stride, padding, dilation) in enumerate(
        zip(tensor.spatial, kernels, strides, paddings, dilations, strict=True)
    ):
        # PyTorch bounds the padding by the kernel size itself, dilated or not.
        if 2 * padding > kernel:
            raise LayerError(
                f"padding {padding} on axis {axis} is more than half the kernel ({kernel})",
                "PyTorch requires pad <= kernel / 2 for pooling",
            )
        if kind in ("avgpool", "avgpool3d") and spatial_rank == 3 and size < kernel:
            # PyTorch's 3-d average pooling (alone) compares the unpadded input with the kernel.
            raise LayerError(
                f"spatial axis {axis} has size {size}, smaller than the kernel {kernel}",
                "3-d average pooling needs an input at least as large as the kernel, padding aside",
            )
        size_out = pool_output_size(size, kernel, stride, padding, dilation, spec.ceil_mode)
        if size_out < 1:
            raise LayerError(
                f"spatial axis {axis} has size {size}, too small for a kernel of "
                f"{effective_kernel(kernel, dilation)} with padding "
                f"{padding}; the output would be empty",
                "use a larger input or a smaller kernel",
            )
        out_spatial.append(size_out)
    channels = tensor.shape[1]
    axes = windows(tensor.spatial, kernels, strides, tuple((pad, pad) for pad in paddings), dilations)
    geometry = Geometry(Window.POOLING, axes, channels, channels, ceil_mode=spec.ceil_mode)
    shape = (tensor.batch, channels, *out_spatial)
    return image_result(tensor, shape, rf.through_windows(tensor.field, axes), geometry=geometry)


def _max_rule(kind: str, rank: int | None):
    def rule(spec: MaxPoolSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        return _pool(kind, rank, inputs[0], spec, spec.dilation)

    return rule


def _avg_rule(kind: str, rank: int | None):
    def rule(spec: AvgPoolSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        if spec.divisor_override is not None and (rank == 1 or (rank is None and len(inputs[0].spatial) == 1)):
            raise LayerError(
                f"{kind} on a 1-d input has no divisor_override: PyTorch's AvgPool1d and avg_pool1d have none",
                "remove divisor_override (2-d and 3-d average pooling take it)",
            )
        return _pool(kind, rank, inputs[0], spec, 1)

    return rule


def _adaptive_rule(kind: str, rank: int | None):
    def rule(spec: AdaptivePoolSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        tensor = image_view(inputs[0], kind, rank)
        spatial_rank = tensor.rank - 2
        requested = per_axis(spec.output_size, spatial_rank, "output_size")  # type: ignore[arg-type]
        out_spatial = tuple(
            size if want is None else want for size, want in zip(tensor.spatial, requested, strict=True)
        )
        field = None
        if tensor.field is not None:
            field = tuple(
                rf.through_adaptive(axis_field, size, size_out)
                for axis_field, size, size_out in zip(tensor.field, tensor.spatial, out_spatial, strict=True)
            )
        is_global = all(size == 1 for size in out_spatial) and any(size > 1 for size in tensor.spatial)
        shape = (tensor.batch, tensor.shape[1], *out_spatial)
        return LayerResult(
            output=Tensor(shape, 1, tensor.spatial_axes, field, tensor.global_context or is_global),
            global_field=is_global,
        )

    return rule


def _global_rule(kind: str):
    def rule(spec: GlobalPoolSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
        tensor = image_view(inputs[0], kind)
        spatial_rank = tensor.rank - 2
        field = None
        if tensor.field is not None:
            field = tuple(rf.whole_axis(f, size) for f, size in zip(tensor.field, tensor.spatial, strict=True))
        if spec.keepdim:
            shape = (tensor.batch, tensor.shape[1], *(1,) * spatial_rank)
            output = Tensor(shape, 1, tensor.spatial_axes, field, True)
        else:
            output = Tensor((tensor.batch, tensor.shape[1]), 1, (), None, True)
        return LayerResult(output=output, field=field, global_field=True)

    return rule


for _name, _schema, _rule, _what, _torch, _aliases in (
    ("maxpool", MaxPoolSpec, _max_rule, "Max", "MaxPool", ("pool", "max")),
    ("avgpool", AvgPoolSpec, _avg_rule, "Average", "AvgPool", ("avg",)),
):
    ranked_kinds(
        _name,
        _schema,
        _rule,
        family="pooling",
        summary=f"{_what} pooling; stride defaults to the kernel; ceil_mode follows PyTorch exactly.",
        torch_name=_torch,
        window=Window.POOLING,
        aliases=_aliases,
    )
for _mode, _torch in (("avg", "AdaptiveAvgPool"), ("max", "AdaptiveMaxPool")):
    ranked_kinds(
        f"adaptive_{_mode}pool",
        AdaptivePoolSpec,
        _adaptive_rule,
        family="pooling",
        summary=f"Adaptive {_mode} pooling to output_size (null keeps an axis).",
        torch_name=_torch,
    )

for _mode in ("avg", "max"):
    layer_kind(
        f"global_{_mode}pool",
        GlobalPoolSpec,
        family="pooling",
        summary=f"Global {_mode} pooling over all spatial axes: (B, C, ...) -> (B, C), or (B, C, 1, ...) with keepdim.",
        # PyTorch writes it as x.mean() / x.amax(), not as a module
        pytorch_module=False,
        aliases=(f"g{_mode[0]}p",),
    )(_global_rule(f"global_{_mode}pool"))
