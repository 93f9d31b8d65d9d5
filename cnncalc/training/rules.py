"""The training rule of every layer kind (PyTorch 2.13, CPU; fp32 and autocast): what its backward keeps and
computes.

What each op saves is what its entry in PyTorch's `derivatives.yaml` reads, and only when autograd records
the op (an input or a parameter needs a gradient) and, for a product, only the factor whose partner needs a
gradient (`mm` keeps its input only when the weight trains). Parameters and buffers are never counted: they
are kept anyway. Measured for every kind with `saved_tensors_hooks` (tests/test_training_torch.py).
"""

from __future__ import annotations

from math import prod

from cnncalc.engine.result import LayerRow
from cnncalc.kinds.window import axis_pair, padded_size
from cnncalc.training.layout import (
    contiguous_in_suggested_format,
    contiguous_strides,
    elementwise_strides,
    empty_like_strides,
    is_contiguous,
    permuted,
    view_strides,
)
from cnncalc.training.registry import (
    FP32_ITEMSIZE,
    INPUT,
    OUTPUT,
    SavedList,
    TrainingCost,
    TrainingRefused,
    TrainingView,
    training_rule,
)

INDEX_ITEMSIZE = 8  # int64 indices (max pooling)
STATISTIC_ITEMSIZE = FP32_ITEMSIZE  # normalization statistics beside fp32 parameters, under autocast too


def _statistics_itemsize(view: TrainingView, with_parameters: bool) -> int:
    """The dtype of a normalization's saved statistics: PyTorch's CPU kernels compute a half-precision input
    beside fp32 parameters or running statistics ("mixed type") with fp32 statistics, and one without any in
    the input's own dtype."""
    if view.device == "cuda":  # CUDA's kernels keep their statistics in the accumulation type, fp32
        return STATISTIC_ITEMSIZE
    return STATISTIC_ITEMSIZE if with_parameters else view.promoted_itemsize


MASK_ITEMSIZE = 1  # CUDA's fused dropout keeps a bool mask


def _autocast_fp32(view: TrainingView, on: str, applies: bool = True) -> tuple[str, int | None]:
    """An op autocast runs in fp32 on device `on` (where `applies`): what it reads of its input (a
    half-precision input is copied to fp32, and the copy is what it keeps) and the dtype it computes in;
    elsewhere (INPUT, None), its input as it is, in the input's dtype.

    CUDA autocast runs layer and group norm, softmax and upsampling in fp32; the CPU's, 3-d pooling and
    replicate and 1-d/2-d reflect padding."""
    if view.autocast_itemsize is None or view.device != on or not applies:
        return INPUT, None
    if view.input_itemsizes[0] == FP32_ITEMSIZE:
        return INPUT, FP32_ITEMSIZE
    return "input_fp32", FP32_ITEMSIZE


def _dropout_mask(view: TrainingView, p: float, inplace: bool) -> int | None:
    """The item size of what dropout keeps: None (its input's dtype, a noise tensor) on the CPU, in place or
    at p = 1; on CUDA, out of place with 0 < p < 1, PyTorch's fused kernel keeps a one-byte mask."""
    return MASK_ITEMSIZE if view.device == "cuda" and 0 < p < 1 and not inplace else None


def _matmul_backward(view: TrainingView, macs: int, input_grad: bool, weight_grad: bool) -> int:
    """A convolution's or a product's backward: the gradient w.r.t. its input and w.r.t. its weights each
    cost as much as the forward (2 FLOPs per multiply-accumulate)."""
    return 2 * macs * (int(input_grad) + int(weight_grad))


def _same_layout(view: TrainingView) -> tuple[int, ...] | None:
    """An elementwise op lays its output out as PyTorch's TensorIterator does from its input: a permuted
    input gives a permuted output, a slice a dense tensor in the slice's order (None: contiguous)."""
    if view.inputs_contiguous[0]:  # the common case, answered without working the layout out
        return None
    return _iterator_layout(view, [(view.row.input_shapes[0], view.input_layouts[0])])


Operand = tuple[tuple[int, ...], tuple[int, ...]]  # a tensor's shape and strides


def _iterator_layout(view: TrainingView, operands: list[Operand]) -> tuple[int, ...] | None:
    """The output layout of an elementwise op of these operands, in PyTorch's order (None: contiguous)."""
    shape = tuple(view.row.output_shape)
    strides = elementwise_strides(shape, operands)
    return None if is_contiguous(shape, strides) else strides


def _folded_layout(view: TrainingView, extra: list[Operand]) -> tuple[int, ...] | None:
    """`a + b + c` (or `*`) left to right, then each extra operand (a parameter, a noise tensor) in turn."""
    operands = [*zip(view.row.input_shapes, view.input_layouts, strict=True), *extra]
    running: Operand = operands[0]
    for operand in operands[1:]:
        shape = _broadcast(running[0], operand[0])
        running = (shape, elementwise_strides(shape, [running, operand]))
    if len(operands) == 1:
        return _same_layout(view)
    return None if is_contiguous(*running) else running[1]


def _alias_layout(view: TrainingView) -> tuple[int, ...] | None:
    """A view or an in-place op: the output is laid out as the input."""
    shape, strides = view.row.input_shape, view.input_layouts[0]
    return None if is_contiguous(shape, strides) else strides


# ----------------------------------------------------------------------------------------- convolutions


@training_rule("conv", "conv1d", "conv2d", "conv3d", "depthwise", "pointwise")
def convolution(view: TrainingView) -> TrainingCost:
    """Keeps its input (and its weight, a parameter). A padding mode other than zeros (even with no padding),
    or unequal sides, runs F.pad first: the convolution keeps the padded copy, and a reflect or replicate pad
    keeps its own input as well (a circular pad is slicing and keeps nothing)."""
    saved = SavedList()
    if not view.tracked:
        return saved.done(itemsize=view.lowered_itemsize)
    geometry = view.row.geometry
    assert geometry is not None
    mode = getattr(view.spec, "padding_mode", "zeros")
    if geometry.symmetric and mode == "zeros":
        saved.add(view.lowered_input(), view.input_elements())
    else:
        batch, channels = view.row.input_shape[:2]
        sizes = [
            size + left + right for size, (left, right) in zip(view.row.input_shape[2:], geometry.padding, strict=True)
        ]
        saved.add("padded", batch * channels * prod(sizes))
        reflect_3d = mode == "reflect" and len(geometry.axes) == 3
        pad_input, itemsize = _autocast_fp32(view, "cpu", applies=not reflect_3d)
        kept = view.input_grad and mode in ("reflect", "replicate")
        saved.add(pad_input, view.input_elements(), when=kept, itemsize=itemsize)
    return _conv_cost(view, saved)


def _conv_weight_elements(row: LayerRow) -> int:
    geometry = row.geometry
    assert geometry is not None
    return row.params - (geometry.out_channels if geometry.bias else 0)


def _conv_cost(view: TrainingView, saved: SavedList, **more: object) -> TrainingCost:
    """FlopCounterMode (torch 2.13) counts the weight gradient of a grouped convolution `groups` times.
    Under autocast the convolution runs in half precision and keeps its weight's half-precision copy."""
    saved.add_weight_copy(view, _conv_weight_elements(view.row))
    macs = view.row.macs
    groups = view.row.geometry.groups if view.row.geometry else 1
    true = _matmul_backward(view, macs, view.input_grad, view.trains)
    weight_part = 2 * macs if view.trains else 0
    torch = true + (groups - 1) * weight_part
    return saved.done(
        backward_flops=true,
        torch_backward_flops=torch if torch != true else None,
        itemsize=view.lowered_itemsize,
        **more,
    )


@training_rule("conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def transposed_convolution(view: TrainingView) -> TrainingCost:
    """Keeps its input. A 3-d one that PyTorch's CPU runs on its own kernel rather than oneDNN's (see
    `slow_transposed_3d`) writes its output into a tensor made like its input and resized, whose storage
    stays as large as the input where that is larger; a layer keeping the output keeps all of it."""
    saved = SavedList()
    storage = None
    if view.device == "cpu" and slow_transposed_3d(view.row):
        storage = max(view.input_elements(), view.output_elements)
    if not view.tracked:
        return saved.done(output_storage_elements=storage, itemsize=view.lowered_itemsize)
    saved.add(view.lowered_input(), view.input_elements())
    return _conv_cost(view, saved, output_storage_elements=storage)


def slow_transposed_3d(row: LayerRow) -> bool:
    """Whether PyTorch 2.13 runs this 3-d transposed convolution on the CPU with `slow_conv_transpose3d` (one
    group; with several, each group's output is concatenated into a tensor of the exact size). oneDNN takes it
    unless an output padding reaches its stride, or the kernel is 1 on the last two axes without stride or
    dilation and the batch is under 16 (which oneDNN takes only when PyTorch runs more than one thread: the
    rule assumes it does, PyTorch's default on a multi-core CPU), or neither a kernel above 3 on the last
    two axes, a batch above 1 nor more than 20480 (batch x channels x depth x height) makes it worth it."""
    geometry = row.geometry
    if geometry is None or len(row.input_shape) != 5 or geometry.groups != 1:
        return False
    if any(axis.output_padding >= axis.stride for axis in geometry.axes):
        return True
    batch, channels, depth, height, _ = row.input_shape
    kernel = geometry.kernel
    worth_it = (kernel[-1] > 3 and kernel[-2] > 3) or batch > 1 or batch * channels * depth * height > 20480
    return not worth_it


@training_rule("patch_embed")
def patch_embed(view: TrainingView) -> TrainingCost:
    """A strided convolution, then its output flattened and transposed to tokens: a view of it."""
    saved = SavedList()
    _, tokens, width = view.row.output_shape
    strides = (width * tokens, 1, tokens)
    layout = None if is_contiguous(view.row.output_shape, strides) else strides
    if not view.tracked:
        return saved.done(output_strides=layout, itemsize=view.lowered_itemsize)
    saved.add(view.lowered_input(), view.input_elements())
    return _conv_cost(view, saved, output_strides=layout)


# ---------------------------------------------------------------------------------------------- linear


def _folded_input(view: TrainingView) -> str:
    """What a linear layer's matrix product keeps of its input: the input itself (a 2-d input, or the leading
    axes folded as a view) or a copy (`reshape` copies an input whose leading axes do not fold)."""
    shape = view.row.input_shape
    if len(shape) <= 2:
        return view.lowered_input()
    folded = (prod(shape[:-1]), shape[-1])
    return view.lowered_input() if view_strides(shape, view.input_layouts[0], folded) is not None else "folded"


@training_rule("linear")
def linear(view: TrainingView) -> TrainingCost:
    """`mm` keeps its input when the weight trains (and the weight, a parameter, when the input needs a
    gradient: under autocast its half-precision copy)."""
    saved = SavedList()
    saved.add(_folded_input(view), view.input_elements(), when=view.trains)
    saved.add_weight_copy(view, view.row.input_shape[-1] * view.row.output_shape[-1], when=view.input_grad)
    flops = _matmul_backward(view, view.row.macs, view.input_grad, view.trains)
    return saved.done(backward_flops=flops, itemsize=view.lowered_itemsize)


# -------------------------------------------------------------------------------------------- normalization


def _refuse_one_value(values: int, per: str) -> None:
    """PyTorch refuses to normalize with batch statistics of a single value in training mode (they would be
    that value and zero), in the forward, whether anything trains or not. (Group norm refuses it in any mode,
    and so does instance norm without running statistics: the engine says so already.)"""
    if values == 1:
        raise TrainingRefused(
            f"its statistics in training mode would be of one value {per}; PyTorch refuses that",
            "train with a larger batch or input",
        )


@training_rule("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def batchnorm(view: TrainingView) -> TrainingCost:
    """In training mode: its input and the batch mean and inverse deviation per channel (the running
    statistics are buffers)."""
    saved = SavedList()
    channels = view.row.input_shape[1]
    _refuse_one_value(view.input_elements() // channels, "per channel (batch x positions)")
    saved.add(INPUT, view.input_elements(), when=view.tracked)
    statistics = _statistics_itemsize(view, view.spec.affine or view.spec.track_running_stats)
    saved.add("mean", channels, when=view.tracked, itemsize=statistics)
    saved.add("invstd", channels, when=view.tracked, itemsize=statistics)
    return saved.done()


@training_rule("layernorm")
def layernorm(view: TrainingView) -> TrainingCost:
    """Its input and a mean and a reciprocal deviation per normalized group. ConvNeXt's channels-first form
    normalizes a moved view of its input and moves the result back: a view of a new tensor."""
    saved = SavedList()
    shape = view.row.input_shape
    normalized = shape[1] if view.spec.channels_first else prod(shape[len(shape) - view.spec.dims :])
    groups = view.input_elements() // normalized if normalized else 0
    normalized_input, itemsize = _autocast_fp32(view, "cuda")
    saved.add(normalized_input, view.input_elements(), when=view.tracked, itemsize=itemsize)
    statistics = _statistics_itemsize(view, view.spec.elementwise_affine)
    saved.add("mean", groups, when=view.tracked, itemsize=statistics)
    saved.add("rstd", groups, when=view.tracked, itemsize=statistics)
    layout = None
    if view.spec.channels_first:
        moved = (shape[0], *shape[2:], shape[1])
        rank = len(shape)
        strides = permuted(contiguous_strides(moved), (0, rank - 1, *range(1, rank - 1)))
        layout = None if is_contiguous(shape, strides) else strides
    return saved.done(output_strides=layout, itemsize=itemsize)


@training_rule("groupnorm")
def groupnorm(view: TrainingView) -> TrainingCost:
    """Its input and a mean and a reciprocal deviation per sample and group. PyTorch first makes the input
    contiguous in the memory format its strides suggest (channels-last for a 4-d or 5-d channels-last view):
    an input laid out otherwise is copied, and the copy is what it keeps."""
    saved = SavedList()
    groups = view.row.input_shape[0] * view.spec.groups
    in_place = contiguous_in_suggested_format(view.row.input_shape, view.input_layouts[0])
    normalized_input, itemsize = _autocast_fp32(view, "cuda")
    if normalized_input == INPUT and not in_place:
        normalized_input = "contiguous"
    saved.add(normalized_input, view.input_elements(), when=view.tracked, itemsize=itemsize)
    statistics = _statistics_itemsize(view, view.spec.affine)
    saved.add("mean", groups, when=view.tracked, itemsize=statistics)
    saved.add("rstd", groups, when=view.tracked, itemsize=statistics)
    return saved.done(itemsize=itemsize)


@training_rule("instancenorm")
def instancenorm(view: TrainingView) -> TrainingCost:
    """PyTorch runs batch norm on the input viewed as (1, B*C, ...): the weight and the running statistics
    are repeated B times into new tensors, which the batch norm keeps with its input and statistics."""
    saved = SavedList()
    instances = view.row.input_shape[0] * view.row.input_shape[1]
    _refuse_one_value(prod(view.row.input_shape[2:]), "per sample and channel (one position)")
    if not view.tracked:
        return saved.done()
    contiguous = is_contiguous(view.row.input_shape, view.input_layouts[0])
    saved.add(INPUT if contiguous else "contiguous", view.input_elements())
    # (measured: without an affine weight, PyTorch 2.13 hands the repeated running statistics to batch norm in
    # the input's dtype, and the statistics follow)
    statistics = _statistics_itemsize(view, view.spec.affine)
    saved.add("weight", instances, when=view.spec.affine, itemsize=FP32_ITEMSIZE)
    saved.add("running_mean", instances, when=view.spec.track_running_stats, itemsize=statistics)
    saved.add("running_var", instances, when=view.spec.track_running_stats, itemsize=statistics)
    saved.add("mean", instances, itemsize=statistics)
    saved.add("invstd", instances, itemsize=statistics)
    return saved.done()


# ------------------------------------------------------------------------------------------- activations


def _keeps_output(view: TrainingView, inplace: bool) -> TrainingCost:
    """relu, sigmoid, tanh, softmax: the backward reads the output (in place, the overwritten input)."""
    saved = SavedList()
    saved.add(OUTPUT, view.output_elements, when=view.tracked)
    layout = _alias_layout(view) if inplace else _same_layout(view)
    return saved.done(output_alias=INPUT if inplace else None, output_strides=layout, overwrites_input=inplace)


def _keeps_input(view: TrainingView) -> TrainingCost:
    saved = SavedList()
    saved.add(INPUT, view.input_elements(), when=view.tracked)
    return saved.done(output_strides=_same_layout(view))


def _inplace(view: TrainingView) -> bool:
    return bool(getattr(view.spec, "inplace", False))


@training_rule("relu")
def relu(view: TrainingView) -> TrainingCost:
    return _keeps_output(view, _inplace(view))


@training_rule("sigmoid", "tanh")
def keeps_output(view: TrainingView) -> TrainingCost:
    return _keeps_output(view, False)


@training_rule("softmax")
def softmax(view: TrainingView) -> TrainingCost:
    """Keeps its output, which PyTorch lays out contiguously whatever the input's layout (fp32 under CUDA
    autocast)."""
    saved = SavedList()
    saved.add(OUTPUT, view.output_elements, when=view.tracked)
    return saved.done(itemsize=_autocast_fp32(view, "cuda")[1])


@training_rule("leaky_relu", "elu")
def result_when_inplace(view: TrainingView) -> TrainingCost:
    """Out of place these keep their input; in place, PyTorch's formula reads the result instead."""
    if _inplace(view):
        return _keeps_output(view, True)
    return _keeps_input(view)


@training_rule("gelu")
def keeps_input(view: TrainingView) -> TrainingCost:
    return _keeps_input(view)


@training_rule("prelu")
def prelu(view: TrainingView) -> TrainingCost:
    """Keeps its input and its weight; autocast runs it in half precision (a copy of each in fp32)."""
    saved = SavedList()
    saved.add(view.lowered_input(), view.input_elements(), when=view.tracked)
    saved.add_weight_copy(view, view.row.params, when=view.tracked)
    return saved.done(output_strides=_same_layout(view), itemsize=view.lowered_itemsize)


@training_rule("silu", "mish", "hardsigmoid", "hardswish", "hardtanh", "relu6")
def copy_when_inplace(view: TrainingView) -> TrainingCost:
    """The backward reads the input; in place, autograd keeps a copy of the input before it is overwritten
    (relu6 is hardtanh(0, 6), whose in-place formula reads the input too)."""
    if not _inplace(view):
        return _keeps_input(view)
    saved = SavedList()
    saved.add("original", view.input_elements(), when=view.tracked)
    return saved.done(output_alias=INPUT, output_strides=_alias_layout(view), overwrites_input=True)


# --------------------------------------------------------------------------- dropout, identity, structure


def _dropout_cost(view: TrainingView, p: float, inplace: bool) -> TrainingCost:
    """On the CPU, dropout multiplies by a float noise tensor (0 or 1/(1-p)), which it keeps; p = 0 returns
    the input itself (in place too, without writing to it), p = 1 multiplies by a zero scalar. On CUDA,
    out of place with 0 < p < 1, the fused kernel keeps a one-byte mask instead."""
    saved = SavedList()
    if p == 0:
        return saved.done(output_alias=INPUT, output_strides=_alias_layout(view))
    mask = _dropout_mask(view, p, inplace)
    saved.add("noise", view.input_elements() if p < 1 else 1, when=view.input_grad, itemsize=mask)
    if mask is not None:  # the fused kernel's output is laid out as its input
        return saved.done(output_strides=_same_layout(view))
    if inplace:
        return saved.done(output_alias=INPUT, output_strides=_alias_layout(view), overwrites_input=True)
    shape, strides = view.row.input_shape, view.input_layouts[0]
    noise = [(shape, empty_like_strides(shape, strides))] if p < 1 else []  # p = 1: a 0-d zero, broadcast
    return saved.done(output_strides=_folded_layout(view, noise))


@training_rule("dropout")
def dropout(view: TrainingView) -> TrainingCost:
    return _dropout_cost(view, view.spec.p, view.spec.inplace)


@training_rule("stochastic_depth")
def stochastic_depth(view: TrainingView) -> TrainingCost:
    """Multiplies by a noise tensor with one value per sample ("row") or one for the batch, which it keeps."""
    saved = SavedList()
    if view.spec.p == 0:
        return saved.done(output_alias=INPUT, output_strides=_alias_layout(view))
    shape = view.row.input_shape
    saved.add("noise", shape[0] if view.spec.mode == "row" else 1, when=view.input_grad)
    noise_shape = (shape[0] if view.spec.mode == "row" else 1, *(1,) * (len(shape) - 1))
    return saved.done(output_strides=_folded_layout(view, [(noise_shape, contiguous_strides(noise_shape))]))


@training_rule("identity")
def identity(view: TrainingView) -> TrainingCost:
    return TrainingCost(output_alias=INPUT, output_strides=_alias_layout(view))


@training_rule("layer_scale")
def layer_scale(view: TrainingView) -> TrainingCost:
    """x * gamma keeps x when gamma trains. Under autocast the product takes gamma's fp32."""
    saved = SavedList()
    saved.add(INPUT, view.input_elements(), when=view.trains)
    shape = view.row.input_shape
    # the scale lies along `dim`, or the channel axis (the output's is the input's), as the bridge builds it
    dim = view.spec.dim % len(shape) if view.spec.dim is not None else view.row.channel_axis
    if dim is None:
        return saved.done(output_strides=_same_layout(view), itemsize=_with_parameters(view))
    scale_shape = (shape[dim], *(1,) * (len(shape) - dim - 1))
    strides = _folded_layout(view, [(scale_shape, contiguous_strides(scale_shape))])
    return saved.done(output_strides=strides, itemsize=_with_parameters(view))


@training_rule("add", "pos_embed")
def sums(view: TrainingView) -> TrainingCost:
    """A sum needs only shapes for its backward; inputs added left to right (a position embedding is a
    (1, T, E) parameter added)."""
    extra: list[Operand] = []
    itemsize = None
    if view.row.kind == "pos_embed":
        embedding = (1, *view.row.input_shape[1:])
        extra = [(embedding, contiguous_strides(embedding))]
        itemsize = _with_parameters(view)
    return TrainingCost(output_strides=_folded_layout(view, extra), itemsize=itemsize)


def _with_parameters(view: TrainingView) -> int:
    """An op of the input and the layer's own fp32 parameter computes in the wider of the two."""
    return max(view.promoted_itemsize, view.dtype_bytes)


@training_rule("concat", "pixel_shuffle", "pixel_unshuffle")
def keeps_nothing(view: TrainingView) -> TrainingCost:
    """Concatenations and rearrangements need only shapes for their backward."""
    return TrainingCost()


@training_rule("upsample")
def upsample(view: TrainingView) -> TrainingCost:
    """Needs only shapes for its backward; CUDA autocast runs it in fp32."""
    return TrainingCost(itemsize=_autocast_fp32(view, "cuda")[1])


@training_rule("class_token")
def class_token(view: TrainingView) -> TrainingCost:
    """The token (an fp32 parameter) concatenated before the sequence: in the wider dtype of the two."""
    return TrainingCost(itemsize=_with_parameters(view))


@training_rule("channel_shuffle")
def channel_shuffle(view: TrainingView) -> TrainingCost:
    return TrainingCost()


@training_rule("multiply")
def multiply(view: TrainingView) -> TrainingCost:
    """a * b * c as PyTorch runs it, left to right: each product keeps each factor whose partner needs a
    gradient (the running product is a new tensor of the broadcast shape)."""
    saved = SavedList()
    shapes = view.row.input_shapes
    running_shape = shapes[0]
    running_name, running_grad = "input0", view.inputs_need_grad[0]
    running_itemsize = view.input_itemsizes[0]
    for number in range(1, len(shapes)):
        other_grad = view.inputs_need_grad[number]
        saved.add(running_name, prod(running_shape), when=other_grad, itemsize=running_itemsize)
        saved.add(f"input{number}", prod(shapes[number]), when=running_grad)
        running_shape = _broadcast(running_shape, shapes[number])
        running_name, running_grad = f"product{number}", running_grad or other_grad
        running_itemsize = max(running_itemsize, view.input_itemsizes[number])
    return saved.done(output_strides=_folded_layout(view, []))


def _broadcast(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
    rank = max(len(first), len(second))
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in (first, second)]
    return tuple(max(a, b) for a, b in zip(*padded, strict=True))


@training_rule("flatten", "reshape")
def reshaping(view: TrainingView) -> TrainingCost:
    """A view where the strides allow one, else a copy; neither keeps anything."""
    strides = view_strides(view.row.input_shape, view.input_layouts[0], view.row.output_shape)
    if strides is None:
        return TrainingCost()
    return TrainingCost(output_alias=INPUT, output_strides=strides)


@training_rule("permute")
def permute(view: TrainingView) -> TrainingCost:
    return TrainingCost(output_alias=INPUT, output_strides=permuted(view.input_layouts[0], view.spec.dims))


@training_rule("transpose")
def transpose(view: TrainingView) -> TrainingCost:
    rank = len(view.row.input_shape)
    dims = list(range(rank))
    first, second = view.spec.dim0 % rank, view.spec.dim1 % rank
    dims[first], dims[second] = dims[second], dims[first]
    return TrainingCost(output_alias=INPUT, output_strides=permuted(view.input_layouts[0], dims))


@training_rule("channel_split")
def channel_split(view: TrainingView) -> TrainingCost:
    """A slice of the input along its channels: a view, with the input's strides, one of those `torch.split`
    returns together."""
    return TrainingCost(output_alias=INPUT, output_strides=view.input_layouts[0], one_of_several_views=True)


@training_rule("take_token")
def take_token(view: TrainingView) -> TrainingCost:
    """x[:, i]: a view of the input without its token axis."""
    strides = view.input_layouts[0]
    return TrainingCost(output_alias=INPUT, output_strides=(strides[0], *strides[2:]))


@training_rule("uncounted")
def uncounted(view: TrainingView) -> TrainingCost:
    """Stands for an operation cnncalc does not know: zeros of its shape, which need no gradient."""
    return TrainingCost(output_tracked=False)


# ---------------------------------------------------------------------------------------------- pooling


@training_rule("maxpool", "maxpool1d", "maxpool2d", "maxpool3d", "adaptive_maxpool")
def max_pooling(view: TrainingView) -> TrainingCost:
    """Its input and the int64 index of each maximum. A window that holds only padding has no maximum (its
    output is -inf) and no valid index: PyTorch 2.13's CPU backward then writes outside the gradient
    (memory corruption), so a tracked one is refused."""
    saved = SavedList()
    axis = _window_of_padding_only(view.row)
    if axis is not None and view.tracked:
        raise TrainingRefused(
            f"a pooling window along spatial axis {axis} holds only padding (its output is -inf, with no valid "
            "index); PyTorch's backward then writes outside the gradient's memory",
            "use less padding or dilation, or a larger input",
            pytorch_raises=False,
        )
    pooled_input, itemsize = _pooling_precision(view)
    saved.add(pooled_input, view.input_elements(), when=view.tracked)
    saved.add("indices", view.output_elements, when=view.tracked, itemsize=INDEX_ITEMSIZE)
    return saved.done(itemsize=itemsize)


def _window_of_padding_only(row: LayerRow) -> int | None:
    """The first spatial axis (0-based) along which a window of this pooling layer covers no input position."""
    geometry = row.geometry
    if geometry is None:
        return None
    outputs = row.output_shape[len(row.output_shape) - len(geometry.axes) :]
    for number, (axis, outputs_along) in enumerate(zip(geometry.axes, outputs, strict=True)):
        for output in range(outputs_along):
            start = output * axis.stride - axis.pad_left
            taps = range(start, start + axis.dilation * (axis.kernel - 1) + 1, axis.dilation)
            if not any(0 <= tap < axis.size for tap in taps):
                return number
    return None


def _pooling_precision(view: TrainingView) -> tuple[str, int | None]:
    """CPU autocast runs 3-d pooling in fp32 (see `_autocast_fp32`)."""
    return _autocast_fp32(view, "cpu", applies=len(view.row.input_shape) == 5)


@training_rule("adaptive_maxpool1d", "adaptive_maxpool2d", "adaptive_maxpool3d")
def adaptive_max_pooling(view: TrainingView) -> TrainingCost:
    return max_pooling(view)


@training_rule("avgpool", "avgpool1d", "avgpool2d", "avgpool3d")
def average_pooling(view: TrainingView) -> TrainingCost:
    saved = SavedList()
    pooled_input, itemsize = _pooling_precision(view)
    saved.add(pooled_input, view.input_elements(), when=view.tracked)
    return saved.done(itemsize=itemsize)


@training_rule("adaptive_avgpool", "adaptive_avgpool1d", "adaptive_avgpool2d", "adaptive_avgpool3d")
def adaptive_average_pooling(view: TrainingView) -> TrainingCost:
    """To a single value per channel PyTorch takes a mean, which keeps nothing; else it keeps its input."""
    if all(size == 1 for size in view.row.output_shape[2:]):
        return TrainingCost(itemsize=_pooling_precision(view)[1])
    return average_pooling(view)


@training_rule("global_avgpool")
def global_average(view: TrainingView) -> TrainingCost:
    return TrainingCost()


@training_rule("global_maxpool")
def global_max(view: TrainingView) -> TrainingCost:
    """amax keeps its input and its result (the gradient goes to every position equal to the maximum)."""
    saved = SavedList()
    saved.add(INPUT, view.input_elements(), when=view.tracked)
    saved.add(OUTPUT, view.output_elements, when=view.tracked)
    return saved.done()


# -------------------------------------------------------------------------------------------- transformer


@training_rule("mlp")
def mlp(view: TrainingView) -> TrainingCost:
    """Linear, activation, dropout, linear, dropout (torchvision's MLPBlock), each keeping what it keeps alone."""
    saved = SavedList()
    spec = view.spec
    shape = view.row.input_shape
    rows = prod(shape[:-1])
    width, hidden, out = shape[-1], spec.hidden, spec.out or shape[-1]
    saved.add(_folded_input(view), rows * width, when=view.trains)
    saved.add_weight_copy(view, width * spec.hidden, when=view.input_grad, name="weight1")
    inside = view.tracked  # everything after the first linear layer is tracked when anything is
    saved.add_weight_copy(view, spec.hidden * (spec.out or width), when=inside, name="weight2")
    if inside:
        if spec.activation in ("relu", "tanh"):
            saved.add("activated", rows * hidden)
        else:  # gelu and silu keep their input
            saved.add("hidden", rows * hidden)
    after_activation = "activated"
    mask = _dropout_mask(view, spec.dropout, inplace=False)
    if spec.dropout > 0:
        saved.add("noise1", rows * hidden if spec.dropout < 1 else 1, when=inside, itemsize=mask)
        after_activation = "dropped"
    saved.add(after_activation, rows * hidden, when=view.trains)
    if spec.dropout > 0:
        saved.add("noise2", rows * out if spec.dropout < 1 else 1, when=inside, itemsize=mask)
    macs1, macs2 = rows * width * hidden, rows * hidden * out
    flops = _matmul_backward(view, macs1, view.input_grad, view.trains)
    flops += _matmul_backward(view, macs2, inside, view.trains)
    return saved.done(backward_flops=flops, itemsize=view.lowered_itemsize)


@training_rule("attention")
def attention(view: TrainingView) -> TrainingCost:
    """nn.MultiheadAttention(batch_first=True) on (B, T, E), as torchvision's ViT calls it.

    The input is transposed to (T, B, E) and projected to Q, K, V in one product, which keeps the input (a
    copy, as the transposed input does not fold, unless B or T is 1). With `need_weights: false` PyTorch runs
    scaled_dot_product_attention, on the CPU its flash kernel: it keeps the packed Q, K, V, its output and a
    log-sum-exp per query (recomputing the attention matrix in the backward). With `need_weights: true` the
    explicit path runs: Q scaled (a new tensor), Kᵀ (the packed tensor), the softmax output and, with
    dropout, its noise and the dropped matrix; A V keeps V (the packed tensor again). With attention dropout
    and `need_weights: false`, scaled_dot_product_attention's math path: the same, except that it scales Kᵀ
    as well as Q (each by the square root of the scale), a second new tensor. The output projection keeps a
    contiguous copy of the heads' output when its weight trains.
    """
    saved = SavedList()
    batch, tokens, width = view.row.input_shape
    heads = view.spec.heads
    positions = batch * tokens
    matrices = batch * heads * tokens * tokens
    projection_macs = positions * width * 3 * width
    attention_macs = 2 * batch * tokens * tokens * width
    output_macs = positions * width * width
    inside = view.tracked
    transposed_folds = batch == 1 or tokens == 1
    saved.add(view.lowered_input() if transposed_folds else "input_copy", positions * width, when=view.trains)
    saved.add_weight_copy(view, 3 * width * width, when=view.input_grad, name="in_proj_weight")
    saved.add_weight_copy(view, width * width, when=inside, name="out_proj_weight")
    cuda = view.device == "cuda"
    # CUDA's fused kernels take attention dropout too; the CPU's flash kernel does not (the math path does)
    flash = not view.spec.need_weights and (view.spec.dropout == 0 or cuda)
    math_path = not view.spec.need_weights and not flash
    # on the CPU the math path computes half-precision Q, K, V in fp32: new fp32 copies (V's kept), and
    # every tensor it keeps is fp32
    upcast = math_path and view.autocast_itemsize is not None and view.device == "cpu"
    inner_itemsize = FP32_ITEMSIZE if upcast else None
    if inside:
        saved.add("v_fp32" if upcast else "qkv", (1 if upcast else 3) * positions * width, itemsize=inner_itemsize)
        if flash:
            saved.add("heads_output", positions * width)
            if not cuda:
                saved.add("logsumexp", batch * heads * tokens, itemsize=FP32_ITEMSIZE)
            else:
                _cuda_attention_state(view, saved, batch * heads, tokens)
        else:
            saved.add("q_scaled", positions * width, itemsize=inner_itemsize)
            # scaled_dot_product_attention's math path (attention dropout without need_weights) scales Kᵀ
            # too, by the square root of the scale, as it scales Q: a new tensor, which Q Kᵀ keeps
            saved.add("k_scaled", positions * width, when=math_path, itemsize=inner_itemsize)
            # CUDA autocast runs the explicit path's softmax in fp32; its A V (a bmm autocast lowers) then
            # keeps a half-precision copy of the attention. (The CPU's math path runs inside the fused op,
            # below autocast: its A V keeps the fp32 attention itself.)
            cast_for_av = cuda and view.autocast_itemsize is not None
            scores = FP32_ITEMSIZE if cast_for_av else inner_itemsize
            saved.add("softmax", matrices, itemsize=scores)
            if view.spec.dropout > 0:
                mask = _dropout_mask(view, view.spec.dropout, inplace=False) or scores
                saved.add("noise", matrices if view.spec.dropout < 1 else 1, itemsize=mask)
                saved.add("dropped", matrices, itemsize=scores, when=not cast_for_av)
            saved.add("attention_copy", matrices, when=cast_for_av)
    if not flash:
        saved.add("heads_output", positions * width, when=view.trains)
    flops = _matmul_backward(view, projection_macs, view.input_grad, view.trains)
    inner = 2 * 2 * attention_macs if inside else 0  # both factors of Q Kᵀ and of A V
    flops += inner + _matmul_backward(view, output_macs, inside, view.trains)
    # FlopCounterMode has no formula for the CPU flash kernel (CUDA's fused kernels: not yet measured)
    torch_flops = flops - inner if flash and not cuda else None
    return saved.done(backward_flops=flops, torch_backward_flops=torch_flops, itemsize=view.lowered_itemsize)


def _cuda_attention_state(view: TrainingView, saved: SavedList, heads: int, tokens: int) -> None:
    """What CUDA's fused attention kernels keep beside Q, K, V and the output (from PyTorch's source; not
    measured on a GPU): in half precision the flash kernel, an fp32 log-sum-exp per query and a random state
    (two and one uint64); in fp32 the memory-efficient kernel, its log-sum-exp padded to a multiple of 32
    queries and a 0-d int64 seed and offset."""
    if view.autocast_itemsize is not None:
        saved.add("logsumexp", heads * tokens, itemsize=FP32_ITEMSIZE)
        saved.add("rng_state", 2, itemsize=8)
        saved.add("rng_unused", 1, itemsize=8)
    else:
        saved.add("logsumexp", heads * -(-tokens // 32) * 32, itemsize=FP32_ITEMSIZE)
        saved.add("philox_seed", 1, itemsize=8)
        saved.add("philox_offset", 1, itemsize=8)


@training_rule("window_attention")
def window_attention(view: TrainingView) -> TrainingCost:
    """Swin's window attention (cnncalc.bridge.window): the map padded (F.pad copies even with nothing to
    pad), rolled and cut into windows, Q K V in one product that keeps the windows when its weight trains;
    Q scaled and Kᵀ for Q Kᵀ; the softmax output (and with attention dropout its noise and the dropped
    matrix); V for A V; a copy of the heads' output for the projection (when it trains), and with dropout
    the projection's noise.

    Kᵀ and V are views of the packed Q K V tensor, which `matmul` folds to three axes with `reshape`: a copy
    of one head's share where the strides do not fold, else a view, which keeps the whole packed tensor (one
    storage, three times the size, counted once for both). They fold when one token per window, one head or
    one window in the batch leaves an axis of size 1."""
    saved = SavedList()
    batch, height, width, channels = view.row.input_shape
    window_h, window_w = axis_pair(view.spec.window, "window")
    padded_h, padded_w = padded_size(height, window_h), padded_size(width, window_w)
    tokens = window_h * window_w
    windows = (padded_h // window_h) * (padded_w // window_w)
    positions = batch * padded_h * padded_w
    matrices = batch * windows * view.spec.heads * tokens * tokens
    inside = view.tracked
    saved.add("windows", positions * channels, when=view.trains)
    saved.add_weight_copy(view, 3 * channels * channels, when=view.input_grad, name="qkv_weight")
    k_folds, v_folds = _packed_heads_fold(batch * windows, tokens, view.spec.heads, channels // view.spec.heads)
    # the scores plus the position bias (gathered from an fp32 parameter) are fp32 under autocast too
    scores = max(view.lowered_itemsize, view.dtype_bytes)
    if inside:
        saved.add("q_scaled", positions * channels)
        saved.add("qkv" if k_folds else "k_transposed", (3 if k_folds else 1) * positions * channels)
        saved.add("softmax", matrices, itemsize=scores)
    dropout = view.spec.attention_dropout
    cast_for_av = scores != view.lowered_itemsize  # under autocast, A V casts the fp32 attention
    if dropout > 0 and inside:
        mask = _dropout_mask(view, dropout, inplace=False) or scores
        saved.add("attention_noise", matrices if dropout < 1 else 1, itemsize=mask)
        saved.add("dropped", matrices, itemsize=scores, when=not cast_for_av)
    # A V under autocast: the matmul's half-precision copy of the (dropped) fp32 attention, kept for V's gradient
    saved.add("attention_copy", matrices, when=inside and cast_for_av)
    saved.add("qkv" if v_folds else "v", (3 if v_folds else 1) * positions * channels, when=inside)
    saved.add("heads_output", positions * channels, when=view.trains)
    saved.add_weight_copy(view, channels * channels, when=inside, name="proj_weight")
    if view.spec.dropout > 0 and inside:
        mask = _dropout_mask(view, view.spec.dropout, inplace=False)
        saved.add("noise", positions * channels if view.spec.dropout < 1 else 1, itemsize=mask)
    projection_macs = positions * channels * 3 * channels
    attention_macs = 2 * positions * tokens * channels
    output_macs = positions * channels * channels
    flops = _matmul_backward(view, projection_macs, view.input_grad, view.trains)
    flops += (2 * 2 * attention_macs if inside else 0) + _matmul_backward(view, output_macs, inside, view.trains)
    storage = _window_output_storage(view)
    return saved.done(backward_flops=flops, output_storage_elements=storage, itemsize=view.lowered_itemsize)


def _window_output_storage(view: TrainingView) -> int | None:
    """The windows go back to the padded map (a view of the projection's output where the strides allow,
    else a copy; rolled back, a new contiguous tensor), the padding is cut off and the rest made contiguous:
    where the cut already is, `contiguous` returns it, and the output keeps the padded map's whole storage."""
    batch, height, width, channels = view.row.input_shape
    window_h, window_w = axis_pair(view.spec.window, "window")
    padded_h, padded_w = padded_size(height, window_h), padded_size(width, window_w)
    if (padded_h, padded_w) == (height, width):
        return None
    rows, columns = padded_h // window_h, padded_w // window_w
    windows_shape = (batch, rows, columns, window_h, window_w, channels)
    moved = (0, 1, 3, 2, 4, 5)
    map_shape = (batch, padded_h, padded_w, channels)
    shift_h, shift_w = axis_pair(view.spec.shift, "shift")
    rolled = (shift_h if window_h < padded_h else 0) + (shift_w if window_w < padded_w else 0) > 0
    map_strides = (
        None
        if rolled
        else view_strides(
            tuple(windows_shape[axis] for axis in moved), permuted(contiguous_strides(windows_shape), moved), map_shape
        )
    )
    if not is_contiguous((batch, height, width, channels), map_strides or contiguous_strides(map_shape)):
        return None  # copied
    return batch * padded_h * padded_w * channels


def _packed_heads_fold(batches: int, tokens: int, heads: int, head_width: int) -> tuple[bool, bool]:
    """Whether `matmul` folds Kᵀ (batches, heads, head_width, tokens) and V (batches, heads, tokens,
    head_width), views of the packed (batches, tokens, 3, heads, head_width) tensor moved to (3, batches,
    heads, tokens, head_width), to three axes as views (else it copies them)."""
    packed = permuted(contiguous_strides((batches, tokens, 3, heads, head_width)), (2, 0, 3, 1, 4))[1:]
    k_strides = (packed[0], packed[1], packed[3], packed[2])
    k_shape = (batches, heads, head_width, tokens)
    v_shape = (batches, heads, tokens, head_width)
    k_folds = view_strides(k_shape, k_strides, (batches * heads, head_width, tokens)) is not None
    v_folds = view_strides(v_shape, packed, (batches * heads, tokens, head_width)) is not None
    return k_folds, v_folds


@training_rule("patch_merging")
def patch_merging(view: TrainingView) -> TrainingCost:
    """2x2 neighbours concatenated (a new tensor), LayerNorm(4C) keeping it with two statistics per position,
    and a linear layer (no bias) keeping the normalized map when it trains."""
    saved = SavedList()
    batch, height, width, channels = view.row.input_shape
    positions = batch * ((height + 1) // 2) * ((width + 1) // 2)
    merged = positions * 4 * channels
    # (CUDA autocast runs the LayerNorm in fp32: it keeps an fp32 copy of a half-precision map)
    merged_itemsize = FP32_ITEMSIZE if view.device == "cuda" and view.autocast_itemsize else view.promoted_itemsize
    saved.add("merged", merged, when=view.tracked, itemsize=merged_itemsize)
    saved.add("mean", positions, when=view.tracked, itemsize=STATISTIC_ITEMSIZE)
    saved.add("rstd", positions, when=view.tracked, itemsize=STATISTIC_ITEMSIZE)
    # the normalized map, or under autocast the half-precision copy the linear layer makes of an fp32 one
    saved.add("normalized", merged, when=view.trains)
    saved.add_weight_copy(view, 4 * channels * 2 * channels, when=view.tracked)
    flops = _matmul_backward(view, view.row.macs, view.tracked, view.trains)
    return saved.done(backward_flops=flops, itemsize=view.lowered_itemsize)


def cpu_only(row: LayerRow) -> str | None:
    """Why this layer's rule holds on the CPU only, not on the "meta" device (where PyTorch allocates
    nothing and runs no real kernel), or None."""
    if row.kind == "attention" and not row.spec.need_weights and row.spec.dropout == 0:
        return "attention runs the CPU flash kernel, which meta does not (it takes the math path)"
    if row.kind.startswith("conv_transpose") and slow_transposed_3d(row):
        return "PyTorch's slow CPU kernel for this 3-d transposed convolution keeps a larger output storage"
    return None
