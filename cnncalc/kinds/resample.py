"""Resampling and channel rearrangement: upsample, pixel shuffle/unshuffle, channel shuffle, channel split.

None has parameters or MACs.
"""

from fractions import Fraction
from typing import Literal

from cnncalc.base import receptive_field as rf
from cnncalc.base.arithmetic import interpolate_output_size
from cnncalc.base.tensor import AxisField, Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, image_result, layer_kind
from cnncalc.kinds.fields import Positive
from cnncalc.kinds.shapes import format_shape, image_view, per_axis

# Spatial axes each interpolation mode works on (nearest works on any).
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


class UpsampleSpec(LayerSchema):
    scale: float | list[float] | None = None
    size: Positive | list[Positive] | None = None
    mode: Literal["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"] = "nearest"
    align_corners: bool | None = None


class FactorSpec(LayerSchema):
    factor: Positive


class ChannelShuffleSpec(LayerSchema):
    groups: Positive


class ChannelSplitSpec(LayerSchema):
    sizes: list[Positive] | None = None  # explicit chunk sizes, summing to the channels
    parts: Positive | None = None  # or this many equal chunks
    take: int = 0  # which chunk this layer outputs


@layer_kind("upsample", UpsampleSpec, family="resampling")
def upsample(spec: UpsampleSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Interpolation by scale (output floor(n*scale)) or to a size; nearest, (bi/tri)linear, bicubic."""
    tensor = image_view(inputs[0], "upsample")
    rank = tensor.rank - 2
    if (spec.scale is None) == (spec.size is None):
        raise LayerError("upsample needs exactly one of `scale` and `size`", "e.g. `scale: 2` or `size: [64, 64]`")
    needed = _MODE_RANK.get(spec.mode)
    if needed is not None and needed != rank:
        raise LayerError(
            f"mode {spec.mode!r} interpolates {needed} spatial axes, but the input has {rank}",
            "use linear for 1-d, bilinear or bicubic for 2-d, trilinear for 3-d inputs, or nearest for any",
        )
    if spec.align_corners is not None and spec.mode in ("nearest", "nearest-exact"):
        raise LayerError("align_corners applies to linear, bilinear, bicubic and trilinear modes only")
    if spec.size is not None:
        out_spatial = per_axis(spec.size, rank, "size")
    else:
        scales = spec.scale if isinstance(spec.scale, list) else [spec.scale] * rank
        if len(scales) != rank:
            raise LayerError(f"scale has {len(scales)} values but the input has {rank} spatial axes")
        if any(scale <= 0 for scale in scales):
            raise LayerError("scale must be positive")
        out_spatial = tuple(
            interpolate_output_size(size, scale) for size, scale in zip(tensor.spatial, scales, strict=True)
        )
        if min(out_spatial) < 1:
            raise LayerError(f"scale {spec.scale} shrinks the input {tensor.spatial} to nothing")
    field = _resized(tensor, tuple(out_spatial), spec)
    return image_result(tensor, (tensor.batch, tensor.shape[1], *out_spatial), field)


def _resized(tensor: Tensor, sizes: tuple[int, ...], spec: UpsampleSpec) -> tuple[AxisField, ...] | None:
    """The receptive field after resizing each spatial axis to `sizes` (None where none is tracked)."""
    if tensor.field is None:
        return None
    if spec.scale is None:
        scales: list[Fraction | None] = [None] * len(sizes)
    else:
        # PyTorch reads input y / scale for output y, not y * in/out; the scale as written (1.5 is 3/2).
        given = spec.scale if isinstance(spec.scale, list) else [spec.scale] * len(sizes)
        scales = [Fraction(str(scale)) for scale in given]
    return tuple(
        rf.through_resize(field, size, size_out, spec.mode, bool(spec.align_corners), scale)
        for field, size, size_out, scale in zip(tensor.field, tensor.spatial, sizes, scales, strict=True)
    )


def _image_and_factor(spec: FactorSpec, inputs: list[Tensor], kind: str) -> tuple[Tensor, int, tuple[int, ...]]:
    """The 2-d image a pixel (un)shuffle reads, its factor, and the image's (channels, height, width)."""
    tensor = image_view(inputs[0], kind, 2)
    return tensor, spec.factor, tensor.shape[1:]


@layer_kind("pixel_shuffle", FactorSpec, family="resampling", does_work=False)
def pixel_shuffle(spec: FactorSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """(B, C*r^2, H, W) -> (B, C, H*r, W*r) (torch.nn.PixelShuffle)."""
    tensor, factor, (channels, height, width) = _image_and_factor(spec, inputs, "pixel_shuffle")
    if channels % (factor * factor):
        raise LayerError(
            f"pixel_shuffle by {factor} needs channels divisible by {factor * factor}, got {channels}",
            f"make the previous layer output a multiple of {factor * factor} channels",
        )
    field = None if tensor.field is None else tuple(rf.through_pixel_shuffle(f, factor) for f in tensor.field)
    return image_result(tensor, (tensor.batch, channels // (factor * factor), height * factor, width * factor), field)


@layer_kind("pixel_unshuffle", FactorSpec, family="resampling", does_work=False)
def pixel_unshuffle(spec: FactorSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """(B, C, H*r, W*r) -> (B, C*r^2, H, W) (torch.nn.PixelUnshuffle)."""
    tensor, factor, (channels, height, width) = _image_and_factor(spec, inputs, "pixel_unshuffle")
    if height % factor or width % factor:
        raise LayerError(
            f"pixel_unshuffle by {factor} needs height and width divisible by {factor}, got {height}x{width}"
        )
    field = None if tensor.field is None else tuple(rf.through_window(f, factor, factor, 0) for f in tensor.field)
    return image_result(tensor, (tensor.batch, channels * factor * factor, height // factor, width // factor), field)


@layer_kind("channel_shuffle", ChannelShuffleSpec, family="channels", does_work=False)
def channel_shuffle(spec: ChannelShuffleSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Interleave channels of `groups` groups (ShuffleNet); shape unchanged."""
    tensor = inputs[0]
    if tensor.rank < 3:
        raise LayerError(
            f"channel_shuffle needs (batch, channels, *spatial), channels on axis 1; got {format_shape(tensor.shape)}",
            "PyTorch's channel_shuffle expects more than two dimensions",
        )
    if tensor.shape[1] % spec.groups:
        raise LayerError(f"groups={spec.groups} does not divide the {tensor.shape[1]} channels")
    return LayerResult(output=tensor)


@layer_kind("channel_split", ChannelSplitSpec, family="channels", does_work=False)
def channel_split(spec: ChannelSplitSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Split channels into chunks (sizes or equal parts) and output chunk `take` (ShuffleNet v2)."""
    tensor = inputs[0]
    if tensor.rank < 2:
        raise LayerError(f"channel_split splits axis 1, which {format_shape(tensor.shape)} does not have")
    channels = tensor.shape[1]
    if (spec.sizes is None) == (spec.parts is None):
        raise LayerError("channel_split needs exactly one of `sizes` and `parts`", "e.g. `parts: 2, take: 0`")
    if spec.parts is not None:
        if channels % spec.parts:
            raise LayerError(f"{spec.parts} parts do not divide the {channels} channels")
        sizes = [channels // spec.parts] * spec.parts
    else:
        sizes = list(spec.sizes or [])
        if sum(sizes) != channels:
            raise LayerError(f"sizes {sizes} add up to {sum(sizes)}, but the input has {channels} channels")
    if not 0 <= spec.take < len(sizes):
        raise LayerError(f"take={spec.take} but there are {len(sizes)} chunks (0..{len(sizes) - 1})")
    shape = (tensor.shape[0], sizes[spec.take], *tensor.shape[2:])
    return LayerResult(output=tensor.with_shape(shape))
