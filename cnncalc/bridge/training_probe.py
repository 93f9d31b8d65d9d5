"""Measure what a training step of a spec really does in PyTorch, per layer: the tensors autograd saves
for the backward (with `torch.autograd.graph.saved_tensors_hooks`) and the FLOPs of the backward (with
`torch.utils.flop_counter.FlopCounterMode` around `loss.backward()`).

Saved tensors are counted by storage, once across the network, at the layer that saved the storage first
(an in-place ReLU saves its output, which is the BatchNorm output it overwrote; the next convolution saves
the same storage again and adds nothing). Parameters and buffers are excluded. Backward FLOPs are credited
to the layer whose forward created the autograd node that computes them: a pre-hook on each node names the
layer whose node runs next, and the counter's growth since the previous node is credited to the last one.

A checkpointed block runs through `torch.utils.checkpoint` (non-reentrant): the hooks see what its frame
keeps (the block's inputs), credited to the block's first layer, and not the tensors saved inside it (the
frame's own hooks take those). Its forward runs again inside the backward, and FlopCounterMode counts it
there: the FLOPs of each layer's recomputation are credited to it apart (`recompute_flops`).

Under mixed precision the forward runs inside `torch.autocast` (the backward outside it, as in a training
loop). The half-precision copies autocast makes of a layer's parameters (a saved tensor with a parameter's
shape and its values once cast, `_copy_of`) are counted apart, as weight copies. (A dispatch mode that
watched the casts would name them directly, but under it PyTorch 2.13's bf16 CPU 3-d convolution crashed.)

The model is built in training mode; run it on "meta" to measure any size without allocating anything (in
fp32: autocast has no meta device).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.bridge.module import LayerCall, SpecModule, build_module
from cnncalc.engine.result import AnalysisResult, LayerRow


@dataclass(frozen=True)
class SavedStorage:
    """One storage autograd keeps for the backward, as first saved: by which layer, and what it is."""

    layer: int  # the row that saved it first
    shape: tuple[int, ...]  # of the tensor saved (a view of the storage, perhaps)
    dtype: str
    nbytes: int  # of the whole storage
    role: str  # "input0", "input1", ..., "output", "weight_copy", or "other" (made inside the layer)


@dataclass
class TrainingProbe:
    """What PyTorch did: per layer, storages first saved and backward FLOPs; and in total."""

    saved: list[SavedStorage] = field(default_factory=list)
    backward_flops: dict[int, int] = field(default_factory=dict)  # row -> FLOPs of its backward nodes
    recompute_flops: dict[int, int] = field(default_factory=dict)  # row -> FLOPs of its forward run again
    total_backward_flops: int = 0  # all FlopCounterMode counts around the backward, less the recomputation

    @property
    def total_recompute_flops(self) -> int:
        return sum(self.recompute_flops.values())

    def saved_bytes(self, row: int) -> int:
        """The activations `row` is the first to keep (weight copies apart)."""
        return sum(storage.nbytes for storage in self.saved if storage.layer == row and storage.role != WEIGHT_COPY)

    def weight_copy_bytes(self, row: int) -> int:
        return sum(storage.nbytes for storage in self.saved if storage.layer == row and storage.role == WEIGHT_COPY)

    @property
    def total_saved_bytes(self) -> int:
        return sum(storage.nbytes for storage in self.saved if storage.role != WEIGHT_COPY)

    @property
    def total_weight_copy_bytes(self) -> int:
        return sum(storage.nbytes for storage in self.saved if storage.role == WEIGHT_COPY)


WEIGHT_COPY = "weight_copy"
AUTOCAST_DTYPES = {"bf16-mixed": torch.bfloat16, "fp16-mixed": torch.float16}


def _storage_id(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage()._cdata


# autograd nodes of views, through which a saved tensor may lead back to the cast that made it
_VIEW_NODES = frozenset(
    {"TBackward0", "TransposeBackward0", "PermuteBackward0", "ViewBackward0", "UnsafeViewBackward0",
     "ExpandBackward0", "AsStridedBackward0", "SelectBackward0", "SliceBackward0", "UnsqueezeBackward0"}
)  # fmt: skip


def _copy_of(tensor: torch.Tensor, parameters: Sequence[torch.Tensor]) -> bool:
    """Whether a saved half-precision tensor is autocast's copy of one of the layer's parameters (as saved, or
    transposed, as a linear layer keeps it). A trained parameter's copy is the output of a cast whose input is
    the parameter (its autograd node leads to the parameter's). A frozen parameter's copy has no node: it is
    recognised by its storage, which holds the parameter's values once cast (weights are random, the probe's
    input zeros, so no activation takes a weight's values; a zero weight is not taken for a copy)."""
    if tensor.dtype not in (torch.float16, torch.bfloat16) or tensor.device.type == "meta":
        return False
    node = tensor.grad_fn
    if node is not None:
        while node is not None and type(node).__name__ in _VIEW_NODES:  # a linear layer keeps it transposed
            node = node.next_functions[0][0]
        if node is None or type(node).__name__ != "ToCopyBackward0":
            return False
        source = node.next_functions[0][0]
        variable = getattr(source, "variable", None)
        return any(variable is parameter for parameter in parameters)
    if tensor.requires_grad:
        return False
    # a frozen weight's copy, whatever view of it the op keeps (transposed, expanded): its whole storage holds
    # the parameter's values, cast
    elements = tensor.untyped_storage().nbytes() // tensor.element_size()
    storage = torch.empty(0, dtype=tensor.dtype, device=tensor.device).set_(tensor.untyped_storage(), 0, (elements,))
    for parameter in parameters:
        if parameter.requires_grad or parameter.numel() != elements:
            continue
        cast = parameter.detach().flatten().to(tensor.dtype)
        if torch.equal(cast, storage) and bool(cast.any()):
            return True
    return False
    for parameter in parameters:
        if parameter.requires_grad or parameter.numel() != tensor.numel():
            continue
        for form in (parameter, parameter.t() if parameter.dim() == 2 else None):
            if form is None or tuple(form.shape) != tuple(tensor.shape):
                continue
            cast = form.detach().to(tensor.dtype)
            if torch.equal(cast, tensor.detach()) and bool(cast.any()):
                return True
    return False
    for parameter in parameters:
        if parameter.numel() != tensor.numel() or parameter.numel() < 2:
            continue
        for form in (parameter, parameter.t() if parameter.dim() == 2 else None):
            if form is None or tuple(form.shape) != tuple(tensor.shape):
                continue
            cast = form.detach().to(tensor.dtype)
            if torch.equal(cast, tensor.detach()) and not torch.all(cast == cast.flatten()[0]):
                return True
    return False


def probe_training(
    result: AnalysisResult,
    device: str = "meta",
    input_requires_grad: bool = False,
    frozen_paths: Sequence[str] = (),
    checkpoint_paths: Sequence[str] = (),
    precision: str = "fp32",
    count_flops: bool = True,
) -> TrainingProbe:
    """Run one forward and `output.sum().backward()` of the spec in training mode on `device`, measuring.

    `frozen_paths` freezes the layers at those block paths (and below) besides those the spec freezes;
    `checkpoint_paths` checkpoints those blocks besides those the spec checkpoints; `precision` "fp32", or
    "bf16-mixed" / "fp16-mixed" to run the forward under autocast. `count_flops` False measures only what
    the forward saves (no backward, no FlopCounterMode).
    """
    module = build_module(result, device, for_counting=False).train().checkpoint(checkpoint_paths)
    _freeze(module, frozen_paths)
    excluded = {_storage_id(tensor) for tensor in [*module.parameters(), *module.buffers()]}
    for layer in module.layers:  # the modules of functional layers are not registered
        excluded |= {_storage_id(tensor) for tensor in [*layer.module.parameters(), *layer.module.buffers()]}
    probe = TrainingProbe()
    mixed = precision != "fp32"
    layer_parameters: list[list[torch.Tensor]] = [[]]  # of the layer running now
    # every save, in order: (storage, what, the holder autograd keeps); the first whose holder is still kept
    # after the forward counts (a checkpointed block that nothing needs drops what it saved)
    packed: list[tuple[int, SavedStorage, weakref.ref[_Held]]] = []
    # the saved tensors stay referenced until the forward ends, so that no later storage reuses the address
    # of a dropped one (and is taken for it)
    alive_until_counted: list[torch.Tensor] = []
    claimed_nodes: dict[torch.autograd.graph.Node, int] = {}
    current: list[int] = [-1]
    roles: dict[int, str] = {}

    def pack(tensor: torch.Tensor) -> _Held:
        held = _Held(tensor)
        storage = _storage_id(tensor)
        if storage not in excluded:
            alive_until_counted.append(tensor)
            what = SavedStorage(
                current[0],
                tuple(tensor.shape),
                str(tensor.dtype).removeprefix("torch."),
                tensor.untyped_storage().nbytes(),
                WEIGHT_COPY if mixed and _copy_of(tensor, layer_parameters[0]) else roles.get(storage, "other"),
            )
            packed.append((storage, what, weakref.ref(held)))
        return held

    def observe(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        current[0] = row.index
        layer_parameters[0] = list(layer.module.parameters())
        roles.clear()
        roles.update({_storage_id(tensor): f"input{number}" for number, tensor in enumerate(inputs)})
        with torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
            output = layer(*inputs)
        # the output's storage may be new or an input's (in place, a view): name it as the rule does
        output_storage = _storage_id(output)
        for position, (storage, what, held) in enumerate(packed):
            if storage == output_storage and what.role == "other":
                packed[position] = (storage, replace(what, role="output"), held)
        _claim_nodes(output.grad_fn, row.index, claimed_nodes)
        return output

    counter = FlopCounterMode(display=False)
    running: dict = {"layer": -1, "flops_before": 0, "bucket": probe.backward_flops}
    in_backward = [False]

    def credit(layer: int, bucket: dict[int, int] | None = None) -> None:
        """Credit the FLOPs counted since the last call to the layer named then; count on for `layer`."""
        total = counter.get_total_flops()
        gained = total - running["flops_before"]
        if gained:
            running["bucket"][running["layer"]] = running["bucket"].get(running["layer"], 0) + gained
        running.update(layer=layer, flops_before=total, bucket=probe.backward_flops if bucket is None else bucket)

    def around_checkpoint(first: LayerRow, inputs: Sequence[torch.Tensor], run: Callable[[], tuple]) -> tuple:
        # what the checkpoint frame keeps (the block's inputs) is the block's first layer's
        current[0] = first.index
        roles.clear()
        roles.update({_storage_id(tensor): f"input{number}" for number, tensor in enumerate(inputs)})
        with torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
            return run()

    def inside_checkpoint(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if in_backward[0]:  # the recomputation: its FLOPs are this layer's, apart from its backward's
            resumed = (running["layer"], running["bucket"])
            credit(row.index, probe.recompute_flops)
            try:  # (PyTorch stops the recomputation by raising, once the block's last saved tensor is saved)
                return layer(*inputs)
            finally:
                credit(*resumed)
        output = layer(*inputs)
        _claim_nodes(output.grad_fn, row.index, claimed_nodes)
        return output

    with torch.device(device):
        x = torch.zeros(result.input_shape, dtype=_dtype(result.dtype)).requires_grad_(input_requires_grad)
    with _autocast(device, precision):
        output = module(x, observer=observe, inside_checkpoint=inside_checkpoint, around_checkpoint=around_checkpoint)
    counted: set[int] = set()
    for storage, what, held in packed:
        if held() is not None and storage not in counted:
            counted.add(storage)
            probe.saved.append(what)
    alive_until_counted.clear()
    if not output.requires_grad or not count_flops:
        return probe

    for node, layer in claimed_nodes.items():
        node.register_prehook(lambda grads, layer=layer: credit(layer))
    in_backward[0] = True
    with counter:
        output.sum().backward()
    credit(-1)
    probe.total_backward_flops = counter.get_total_flops() - probe.total_recompute_flops
    return probe


class _Held:
    """A saved tensor as autograd holds it: alive exactly as long as autograd keeps it."""

    __slots__ = ("__weakref__", "tensor")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


def _unpack(held: _Held) -> torch.Tensor:
    return held.tensor


def _claim_nodes(root: torch.autograd.graph.Node | None, layer: int, claimed: dict) -> None:
    """Every autograd node reachable from `root` that no earlier layer claimed belongs to `layer`."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or node in claimed or type(node).__name__ == "AccumulateGrad":
            continue
        claimed[node] = layer
        stack.extend(next_node for next_node, _ in node.next_functions)


def _freeze(module: SpecModule, paths: Sequence[str]) -> None:
    for row, layer in zip(module.rows, module.layers, strict=True):
        if any(row.path == path or row.path.startswith(path + ".") for path in paths):
            layer.module.requires_grad_(False)


def _autocast(device: str, precision: str) -> contextlib.AbstractContextManager:
    """The forward's context: autocast at the precision, or nothing in fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if device == "meta":
        raise ValueError("autocast has no meta device: measure mixed precision on the CPU (or CUDA)")
    return torch.autocast(torch.device(device).type, dtype=AUTOCAST_DTYPES[precision])


def _dtype(name: str) -> torch.dtype:
    return getattr(torch, name)
