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

The model is built in training mode; run it on "meta" to measure any size without allocating anything.
"""

from __future__ import annotations

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
    role: str  # "input0", "input1", ..., "output", or "other" (a tensor the layer made inside itself)


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
        return sum(storage.nbytes for storage in self.saved if storage.layer == row)

    @property
    def total_saved_bytes(self) -> int:
        return sum(storage.nbytes for storage in self.saved)


def _storage_id(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage()._cdata


def probe_training(
    result: AnalysisResult,
    device: str = "meta",
    input_requires_grad: bool = False,
    frozen_paths: Sequence[str] = (),
    checkpoint_paths: Sequence[str] = (),
) -> TrainingProbe:
    """Run one forward and `output.sum().backward()` of the spec in training mode on `device`, measuring.

    `frozen_paths` freezes the layers at those block paths (and below) besides those the spec freezes;
    `checkpoint_paths` checkpoints those blocks besides those the spec checkpoints.
    """
    module = build_module(result, device, for_counting=False).train().checkpoint(checkpoint_paths)
    _freeze(module, frozen_paths)
    excluded = {_storage_id(tensor) for tensor in [*module.parameters(), *module.buffers()]}
    for layer in module.layers:  # the modules of functional layers are not registered
        excluded |= {_storage_id(tensor) for tensor in [*layer.module.parameters(), *layer.module.buffers()]}
    probe = TrainingProbe()
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
                roles.get(storage, "other"),
            )
            packed.append((storage, what, weakref.ref(held)))
        return held

    def observe(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        current[0] = row.index
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
    output = module(x, observer=observe, inside_checkpoint=inside_checkpoint, around_checkpoint=around_checkpoint)
    counted: set[int] = set()
    for storage, what, held in packed:
        if held() is not None and storage not in counted:
            counted.add(storage)
            probe.saved.append(what)
    alive_until_counted.clear()
    if not output.requires_grad:
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


def _dtype(name: str) -> torch.dtype:
    return getattr(torch, name)
