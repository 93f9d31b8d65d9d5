"""A training step of a whole network, by arithmetic: each layer's training rule, then what the network adds
up to (storages counted once, optimizer state, gradients, the peak estimate).

Which layers autograd records follows from the network: the input needs no gradient (as in training), a
layer's output needs one when one of its inputs does or its own parameters train; a frozen layer with nothing
trainable below it is not recorded at all, so it keeps nothing and its backward does not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import prod

from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.training import rules  # noqa: F401  (registers every kind's rule)
from cnncalc.training.layout import contiguous_strides, is_contiguous
from cnncalc.training.registry import (
    INPUT,
    OUTPUT,
    RULES_FOLLOW,
    TRAINING_RULES,
    TrainingCost,
    TrainingRefused,
    TrainingView,
)

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  # copies of the parameters each keeps
DEFAULT_OPTIMIZER = "adamw"
# the bytes per element autocast computes in (None: no autocast, everything in the model's fp32)
PRECISIONS: dict[str, int | None] = {"fp32": None, "bf16-mixed": 2, "fp16-mixed": 2}
DEFAULT_PRECISION = "fp32"
DEVICES = ("cpu", "cuda")
DEFAULT_DEVICE = "cpu"  # the CPU's rules are checked against PyTorch; CUDA's come from its source

NETWORK_INPUT = -1
StorageKey = tuple[int, str]


@dataclass(frozen=True)
class TrainingOptions:
    optimizer: str = DEFAULT_OPTIMIZER
    freeze: tuple[str, ...] = ()  # block paths frozen besides the spec's `frozen: true`
    checkpoint: tuple[str, ...] = ()  # block paths checkpointed besides the spec's `checkpoint: true`
    input_requires_grad: bool = False
    precision: str = DEFAULT_PRECISION  # "fp32", or autocast: "bf16-mixed", "fp16-mixed"
    device: str = DEFAULT_DEVICE  # whose kernels the rules follow: "cpu" or "cuda"


@dataclass(frozen=True, slots=True)
class TrainingLayer:
    index: int
    trains: bool
    backward_flops: int
    torch_backward_flops: int  # what FlopCounterMode counts for the same backward
    saved_activation_bytes: int  # storages this layer is the first to keep for the backward
    recompute_flops: int = 0  # its forward again, during the backward, in a checkpointed block
    saved_weight_copy_bytes: int = 0  # the half-precision copies of its weights it keeps, under autocast


@dataclass(frozen=True, slots=True)
class TrainingTotals:
    optimizer: str
    precision: str
    trainable_params: int
    backward_flops: int
    torch_backward_flops: int
    training_flops: int  # forward + backward + recomputation
    recompute_flops: int  # forwards of checkpointed blocks run again during the backward
    param_bytes: int  # parameters and buffers, all of them
    gradient_bytes: int
    optimizer_state_bytes: int
    saved_activation_bytes: int
    saved_weight_copy_bytes: int  # half-precision weight copies autocast keeps for the backward
    backward_transient_bytes: int  # the largest gradients of one layer's backward
    recomputed_activation_bytes: int  # the largest checkpointed block's own saved tensors, alive in its backward
    training_peak_bytes: int


@dataclass(frozen=True, slots=True)
class TrainingResult:
    layers: tuple[TrainingLayer, ...]
    totals: TrainingTotals
    rules_follow: str = RULES_FOLLOW


def frozen_by_path(row: LayerRow, paths: Sequence[str]) -> bool:
    return any(row.path == path or row.path.startswith(path + ".") for path in paths)


def analyze_training(result: AnalysisResult, options: TrainingOptions | None = None) -> TrainingResult:
    options = options or TrainingOptions()
    dtype_bytes = result.dtype_bytes
    autocast_itemsize = PRECISIONS[options.precision]
    itemsize_of: dict[int, int] = {NETWORK_INPUT: dtype_bytes}  # each tensor's bytes per element
    tracked: dict[int, bool] = {NETWORK_INPUT: options.input_requires_grad}
    layouts: dict[int, tuple[int, ...]] = {NETWORK_INPUT: contiguous_strides(result.input_shape)}
    storage_of: dict[int, StorageKey] = {NETWORK_INPUT: (NETWORK_INPUT, OUTPUT)}
    storage_bytes: dict[StorageKey, int] = {(NETWORK_INPUT, OUTPUT): prod(result.input_shape) * dtype_bytes}
    kept: set[StorageKey] = set()
    # tensors autograd forbids an in-place op to overwrite, and why
    guarded: dict[int, tuple[str, str] | None] = {
        NETWORK_INPUT: ("the network input, which needs a gradient", "an in-place op on a leaf that needs a gradient")
        if options.input_requires_grad
        else None
    }
    layers: list[TrainingLayer] = []
    transient = 0
    block_of = checkpoint_blocks(result, (*result.checkpoint_paths, *options.checkpoint))
    inputs_of_block = block_inputs(result, block_of)
    inner_kept: dict[str, set[StorageKey]] = {block: set() for block in inputs_of_block}
    inner_bytes: dict[str, int] = dict.fromkeys(inputs_of_block, 0)
    keeps_any: dict[int, bool] = {}  # autograd saves something for the layer (parameters included)
    keeps_own: dict[int, bool] = {}  # ... something its own forward makes (its output, a statistic)
    block_start: dict[str, int] = {}  # each checkpointed block's first layer (its position in `layers`)
    inputs_kept_of: set[str] = set()
    inputs_kept_bytes: dict[int, int] = {}  # first layer of a block -> the bytes of the inputs it keeps
    for row in result.layers:
        trains = row.trainable and row.params > 0 and not frozen_by_path(row, options.freeze)
        view = TrainingView(
            row=row,
            dtype_bytes=dtype_bytes,
            inputs_need_grad=tuple(tracked[index] for index in row.input_indices),
            trains=trains,
            inputs_contiguous=tuple(
                is_contiguous(shape, layouts[index])
                for shape, index in zip(row.input_shapes, row.input_indices, strict=True)
            ),
            input_layouts=tuple(layouts[index] for index in row.input_indices),
            input_itemsizes=tuple(itemsize_of[index] for index in row.input_indices),
            autocast_itemsize=autocast_itemsize,
            device=options.device,
        )
        try:
            cost: TrainingCost = TRAINING_RULES[row.kind](view)
        except TrainingRefused as refused:  # the rule says why; name the layer and where the spec has it
            where = f"{row.location}: layer {row.path!r} ({row.kind})"
            raise TrainingRefused(f"{where}: {refused.message}", refused.hint, refused.pytorch_raises) from None
        _refuse_forbidden_inplace(row, cost, view, guarded)
        output_tracked = view.tracked if cost.output_tracked is None else cost.output_tracked
        tracked[row.index] = output_tracked
        itemsize = itemsize_of[row.index] = cost.itemsize or view.promoted_itemsize
        layouts[row.index] = cost.output_strides or contiguous_strides(row.output_shape)
        if cost.output_alias is not None:
            storage_of[row.index] = storage_of[row.input_indices[_input_number(cost.output_alias)]]
        else:
            storage_of[row.index] = (row.index, OUTPUT)
            storage_bytes[(row.index, OUTPUT)] = (cost.output_storage_elements or prod(row.output_shape)) * itemsize
        first_kept = 0
        copies_kept = 0
        block = block_of.get(row.index)
        if block is not None:
            block_start.setdefault(block, len(layers))
        keeps_any[row.index] = bool(cost.saved) or (view.tracked and row.params > 0)
        if block is not None and block not in inputs_kept_of and view.tracked and keeps_any[row.index]:
            # the checkpoint frame keeps the block's inputs once autograd holds it: once a layer inside saves
            # something (a block nothing in which is recorded drops them after its forward)
            inputs_kept_of.add(block)
            for index in inputs_of_block[block]:
                if storage_of[index] not in kept:
                    kept.add(storage_of[index])
                    start = block_start[block]
                    inputs_kept_bytes[start] = inputs_kept_bytes.get(start, 0) + storage_bytes[storage_of[index]]
        for saved in cost.saved:
            if saved.tensor == OUTPUT:
                key = storage_of[row.index]
            elif saved.tensor.startswith("input") and saved.tensor[5:].isdigit():
                key = storage_of[row.input_indices[_input_number(saved.tensor)]]
            else:
                key = (row.index, saved.tensor)
                storage_bytes[key] = saved.elements * (saved.itemsize or itemsize)
            if block is not None:  # kept only while the block's backward runs, after its recomputation
                if key not in kept and key not in inner_kept[block]:
                    inner_kept[block].add(key)
                    inner_bytes[block] += storage_bytes[key]
            elif key not in kept:
                kept.add(key)
                if saved.weight_copy:
                    copies_kept += storage_bytes[key]
                else:
                    first_kept += storage_bytes[key]
        keeps_own[row.index] = any(
            saved.tensor not in _SAVED_BEFORE_THE_OP and not saved.tensor.startswith("input") for saved in cost.saved
        )
        if output_tracked:  # each gradient in its tensor's dtype
            inputs = zip(row.input_shapes, view.inputs_need_grad, view.input_itemsizes, strict=True)
            input_gradients = sum(prod(shape) * size for shape, needs, size in inputs if needs)
            gradients = prod(row.output_shape) * itemsize + input_gradients
            transient = max(transient, gradients)
        torch_flops = cost.backward_flops if cost.torch_backward_flops is None else cost.torch_backward_flops
        layers.append(TrainingLayer(row.index, trains, cost.backward_flops, torch_flops, first_kept, 0, copies_kept))
    recompute = _recompute_flops(result, block_of, keeps_any, keeps_own)
    if recompute or inputs_kept_bytes:  # only checkpointing changes a layer after the walk
        layers = [
            replace(
                layer,
                recompute_flops=recompute.get(layer.index, 0),
                saved_activation_bytes=layer.saved_activation_bytes + inputs_kept_bytes.get(position, 0),
            )
            for position, layer in enumerate(layers)
        ]
    recomputed_bytes = max(inner_bytes.values(), default=0)
    totals = _totals(result, layers, options, transient, recomputed_bytes)
    return TrainingResult(tuple(layers), totals, rules_followed(options))


def rules_followed(options: TrainingOptions) -> str:
    """Whose behaviour the figures follow: PyTorch's version, the device, the precision."""
    return f"{RULES_FOLLOW}, {options.precision}".replace("CPU", options.device.upper())


# tensors a layer saves before its forward computes anything (a padded copy of a convolution's input)
_SAVED_BEFORE_THE_OP = frozenset({"padded"})


def checkpoint_blocks(result: AnalysisResult, paths: Sequence[str]) -> dict[int, str]:
    """The checkpointed block (its path) each layer inside one belongs to."""
    block_of: dict[int, str] = {}
    for row in result.layers:
        for path in paths:
            if frozen_by_path(row, [path]):
                block_of[row.index] = path
    return block_of


def block_inputs(result: AnalysisResult, block_of: dict[int, str]) -> dict[str, list[int]]:
    """Per checkpointed block, the tensors it reads from outside itself, in order: what checkpoint keeps (and
    the block's function takes)."""
    found: dict[str, list[int]] = {}
    for row in result.layers:
        block = block_of.get(row.index)
        if block is None:
            continue
        inputs = found.setdefault(block, [])
        for index in row.input_indices:
            if block_of.get(index) != block and index not in inputs:
                inputs.append(index)
    return found


def _recompute_flops(
    result: AnalysisResult, block_of: dict[int, str], keeps_any: dict[int, bool], keeps_own: dict[int, bool]
) -> dict[int, int]:
    """The FLOPs each layer of a checkpointed block spends running again in the backward. PyTorch recomputes
    the block until the last tensor its forward saved is saved again, then stops: a layer runs again when a
    later layer of the block keeps something, or it keeps something its own forward makes."""
    recompute: dict[int, int] = {}
    later_keeps: dict[str, bool] = {}
    for row in reversed(result.layers):
        block = block_of.get(row.index)
        if block is None:
            continue
        if later_keeps.get(block, False) or keeps_own[row.index]:
            recompute[row.index] = row.flops
        later_keeps[block] = later_keeps.get(block, False) or keeps_any[row.index]
    return recompute


def _refuse_forbidden_inplace(
    row: LayerRow, cost: TrainingCost, view: TrainingView, guarded: dict[int, tuple[str, str] | None]
) -> None:
    """PyTorch raises when an in-place op, tracked by autograd, overwrites the network input that needs a
    gradient (a leaf), one of several views an op returns together, or a view of either. `guarded` says, per
    tensor, why none may overwrite it (what it is, and the hint); a layer that does is refused."""
    source = row.input_indices[0]
    if cost.one_of_several_views:
        guarded[row.index] = (
            f"one of the views {row.kind} {row.path!r} returns together",
            "an in-place op on one of several views a function returns",
        )
    elif cost.output_alias is not None:
        guarded[row.index] = guarded[source]  # a view of a guarded tensor (or the tensor itself) is guarded too
    else:
        guarded[row.index] = None
    reason = guarded[source]
    if reason is not None and cost.overwrites_input and view.inputs_need_grad[0]:
        what, why = reason
        raise TrainingRefused(
            f"{row.location}: layer {row.path!r} ({row.kind}, inplace: true) overwrites {what}; PyTorch refuses "
            f"to train that ({why})",
            f"set inplace: false on {row.path!r}",
        )


def _input_number(name: str) -> int:
    return int(name.removeprefix("input")) if name != INPUT else 0


def _totals(
    result: AnalysisResult,
    layers: list[TrainingLayer],
    options: TrainingOptions,
    transient: int,
    recomputed_bytes: int,
) -> TrainingTotals:
    dtype_bytes = result.dtype_bytes
    trainable = sum(row.params for row, layer in zip(result.layers, layers, strict=True) if layer.trains)
    backward = sum(layer.backward_flops for layer in layers)
    gradient_bytes = trainable * dtype_bytes
    optimizer_bytes = OPTIMIZER_STATES[options.optimizer] * trainable * dtype_bytes
    saved = sum(layer.saved_activation_bytes for layer in layers)
    copies = sum(layer.saved_weight_copy_bytes for layer in layers)
    recompute = sum(layer.recompute_flops for layer in layers)
    model_bytes = result.totals.param_bytes + result.totals.buffer_bytes
    return TrainingTotals(
        optimizer=options.optimizer,
        precision=options.precision,
        trainable_params=trainable,
        backward_flops=backward,
        torch_backward_flops=sum(layer.torch_backward_flops for layer in layers),
        training_flops=result.totals.flops + backward + recompute,
        recompute_flops=recompute,
        param_bytes=model_bytes,
        gradient_bytes=gradient_bytes,
        optimizer_state_bytes=optimizer_bytes,
        saved_activation_bytes=saved,
        saved_weight_copy_bytes=copies,
        backward_transient_bytes=transient,
        recomputed_activation_bytes=recomputed_bytes,
        training_peak_bytes=model_bytes
        + gradient_bytes
        + optimizer_bytes
        + saved
        + copies
        + transient
        + recomputed_bytes,
    )


def training_problem(
    result: AnalysisResult, freeze: Sequence[str], checkpoint: Sequence[str] = ()
) -> tuple[str, str] | None:
    """Why the training rules cannot answer for this network and these options (message, hint), or None."""
    if result.dtype != "float32":
        return (
            f"the training rules are for a float32 model; this analysis is in {result.dtype}",
            "use --dtype float32, and --precision bf16-mixed or fp16-mixed for mixed precision (autocast)",
        )
    for option, paths in (("--freeze", freeze), ("--checkpoint", checkpoint)):
        for path in paths:
            if not any(frozen_by_path(row, [path]) for row in result.layers):
                from cnncalc.language.pydantic_errors import did_you_mean

                blocks = {".".join(row.path.split(".")[:depth]) for row in result.layers for depth in (1,)}
                hint = did_you_mean(path, sorted(blocks)) or "give a layer's or a block's path, as `analyze` lists them"
                return f"{option} {path}: no layer has this path", hint
    return nested_checkpoint(result.checkpoint_paths, checkpoint)


def nested_checkpoint(in_spec: Sequence[str], given: Sequence[str]) -> tuple[str, str] | None:
    """Checkpointed blocks must not overlap: the rules follow one level of `torch.utils.checkpoint`."""
    named = [(path, "the spec's `checkpoint: true`") for path in in_spec] + [(path, "--checkpoint") for path in given]
    for outer, outer_source in named:
        for inner, inner_source in named:
            if inner.startswith(outer + "."):
                return (
                    f"{inner_source} {inner} lies inside {outer}, checkpointed too ({outer_source})",
                    "checkpoint one of them: nested checkpointing is not covered",
                )
    return None
