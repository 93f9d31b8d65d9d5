"""Windowed attention and patch merging on channels-last maps (B, H, W, C), as the Swin Transformer runs them
(torchvision.models.swin_transformer: ShiftedWindowAttention, PatchMerging).

window_attention: the map is padded on the bottom and right to multiples of the window (wh, ww), optionally
    rolled by the shift (a shift is dropped along an axis whose padded size the window already covers), cut
    into windows of N = wh*ww tokens, and each window runs multi-head self-attention with a learned relative
    position bias; the result is cut back to H x W. With Hp, Wp the padded sizes and P = B*Hp*Wp:
      params  = 4*C^2 (+ 3*C qkv bias) (+ C proj bias) + (2*wh - 1)*(2*ww - 1)*heads   [bias table]
      buffers = N^2 int64 entries (relative_position_index, 8 bytes each whatever the model's dtype)
      MACs    = P*3*C^2 [qkv]  +  P*N*C [Q K^T]  +  P*N*C [A V]  +  P*C^2 [proj]
    The linear layers and both matmuls run on the padded map, as PyTorch computes them; the bias, the
    scaling, the position bias, the mask and the softmax are not multiply-accumulates of a matmul.
patch_merging: pads H and W to even sizes, concatenates each 2x2 neighbourhood into 4*C channels, normalizes
    them (LayerNorm(4C)) and projects them to 2*C without bias: (B, H, W, C) -> (B, ceil(H/2), ceil(W/2), 2C),
      params = 8*C (LayerNorm) + 8*C^2,   MACs = B * ceil(H/2) * ceil(W/2) * 4C * 2C

Both read their axes by position, as torchvision does: height at axis 1, width at 2, channels last.
"""

from dataclasses import replace

from cnncalc.base import receptive_field as rf
from cnncalc.base.tensor import AxisField, Tensor
from cnncalc.kinds.base import LayerError, LayerResult, LayerSchema, RuleContext, layer_kind
from cnncalc.kinds.fields import NonNegativeAxes, Positive, PositiveAxes, Probability
from cnncalc.kinds.shapes import format_shape


class WindowAttentionSpec(LayerSchema):
    heads: Positive
    window: PositiveAxes  # [wh, ww], or one number for both
    shift: NonNegativeAxes = 0  # [sh, sw]: the cyclic shift of the shifted-window blocks (window // 2)
    qkv_bias: bool = True
    proj_bias: bool = True
    attention_dropout: Probability = 0.0
    dropout: Probability = 0.0


class PatchMergingSpec(LayerSchema):
    eps: float = 1e-5  # of its LayerNorm(4C)


def axis_pair(value: int | list[int], what: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if len(value) != 2:
        raise LayerError(f"{what} has {len(value)} values; give [height, width] or one number for both")
    return value[0], value[1]


_TO_CHANNELS_LAST = "permute a (B, C, H, W) map first: `- {type: permute, dims: [0, 2, 3, 1]}`"


def _channels_last_map(tensor: Tensor, kind: str, ctx: RuleContext) -> tuple[int, int, int, int]:
    if tensor.rank != 4:
        raise LayerError(
            f"{kind} needs a channels-last map (batch, height, width, channels), got {format_shape(tensor.shape)}",
            _TO_CHANNELS_LAST,
        )
    if tensor.is_image:
        # PyTorch runs it (the axes are read by position), but on the wrong axes: almost surely a mistake.
        ctx.warning(
            f"{kind} reads (batch, height, width, channels) by position, but its input "
            f"{format_shape(tensor.shape)} has its channels at axis 1",
            _TO_CHANNELS_LAST,
        )
    batch, height, width, channels = tensor.shape
    return batch, height, width, channels


def _map_fields(tensor: Tensor) -> tuple[AxisField, AxisField] | None:
    """The receptive fields of the height and width axes, where the tensor tracks them at axes 1 and 2."""
    if tensor.field is None or tuple(tensor.spatial_axes) != (1, 2):
        return None
    return tensor.field[0], tensor.field[1]


def _channels_last(shape: tuple[int, int, int, int], fields: tuple[AxisField, ...] | None, source: Tensor) -> Tensor:
    return Tensor(shape, 3, (1, 2), fields, source.global_context)


def padded_size(size: int, window: int) -> int:
    """`size` rounded up to a multiple of `window`, as torchvision pads before cutting windows."""
    return -(-size // window) * window


def effective_shift(window: int, shift: int, padded: int) -> int:
    """torchvision drops the shift along an axis where one window already covers the padded map."""
    return 0 if window >= padded else shift


@layer_kind(
    "window_attention",
    WindowAttentionSpec,
    family="transformer",
    summary="Swin's (shifted) window attention on (B, H, W, C): padded to whole windows, relative position bias.",
)
def window_attention(spec: WindowAttentionSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Multi-head self-attention inside (shifted) windows; see the module docstring for the counts."""
    tensor = inputs[0]
    batch, height, width, channels = _channels_last_map(tensor, "window_attention", ctx)
    window_h, window_w = axis_pair(spec.window, "window")
    shift_h, shift_w = axis_pair(spec.shift, "shift")
    if channels % spec.heads:
        raise LayerError(f"{spec.heads} heads do not divide the {channels} channels", "pick heads dividing C")
    for axis, window, shift in (("height", window_h, shift_h), ("width", window_w, shift_w)):
        if shift >= window:
            raise LayerError(
                f"the {axis} shift ({shift}) must be smaller than the window ({window})",
                "Swin's shifted blocks shift by half a window (window // 2); the others by 0",
            )
    padded_h, padded_w = padded_size(height, window_h), padded_size(width, window_w)
    for axis, window, shift, padded in (
        ("height", window_h, shift_h, padded_h),
        ("width", window_w, shift_w, padded_w),
    ):
        if shift and not effective_shift(window, shift, padded):
            ctx.warning(
                f"window_attention: the {axis} shift ({shift}) is dropped: one window ({window}) covers the "
                f"padded {axis} ({padded})",
                "as in PyTorch (torchvision's Swin); no cyclic shift happens along that axis",
            )
    tokens = window_h * window_w
    positions = batch * padded_h * padded_w
    params = 4 * channels * channels + (2 * window_h - 1) * (2 * window_w - 1) * spec.heads
    params += (3 * channels if spec.qkv_bias else 0) + (channels if spec.proj_bias else 0)
    macs = positions * (4 * channels * channels + 2 * tokens * channels)
    fields = _map_fields(tensor)
    if fields is not None:
        # A unit sees the whole of its window, which reaches at most `window - 1` units on either side of it
        # (fewer along an axis shorter than the window): the field shown is that span, centred on the unit like
        # a (2w - 1) window. No unit sees all of it, so it is marked as an approximation (~).
        fields = tuple(
            replace(rf.through_window(field, 2 * reach - 1, 1, reach - 1), exact=False)
            for field, reach in zip(fields, (min(window_h, height), min(window_w, width)), strict=True)
        )
    index = tokens * tokens
    return LayerResult(
        output=_channels_last(tensor.shape, fields, tensor),  # type: ignore[arg-type]
        params=params,
        buffers=index,
        index_buffers=index,
        macs=macs,
    )


@layer_kind(
    "patch_merging",
    PatchMergingSpec,
    family="transformer",
    summary="Swin's patch merging on (B, H, W, C): 2x2 neighbours concatenated, LayerNorm(4C), Linear(4C, 2C).",
)
def patch_merging(spec: PatchMergingSpec, inputs: list[Tensor], ctx: RuleContext) -> LayerResult:
    """Halve the map (odd sizes padded by one) and double the channels; see the module docstring."""
    tensor = inputs[0]
    batch, height, width, channels = _channels_last_map(tensor, "patch_merging", ctx)
    out_h, out_w = -(-height // 2), -(-width // 2)
    fields = _map_fields(tensor)
    if fields is not None:
        fields = tuple(rf.through_window(field, 2, 2, 0) for field in fields)
    merged = 4 * channels
    return LayerResult(
        output=_channels_last((batch, out_h, out_w, 2 * channels), fields, tensor),
        params=2 * merged + merged * 2 * channels,
        macs=batch * out_h * out_w * merged * 2 * channels,
    )
