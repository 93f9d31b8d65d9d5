"""Measure what a training step of a spec really does in PyTorch, per layer: the tensors autograd saves
for the backward (with `torch.autograd.graph.saved_tensors_hooks`) and the FLOPs of the backward (with
`torch.utils.flop_counter.FlopCounterMode` around `loss.backward()`).

Saved tensors are counted by storage, once across the network, at the layer that saved the storage first
(an in-place ReLU saves its output, which is the BatchNorm output it overwrote; the next convolution saves
the same storage again and adds nothing). Parameters and buffers are excluded. Backward FLOPs are credited
to the layer whose forward created the autograd node that computes them: a pre-hook on each node names the
layer whose node runs next, and the counter's growth since the previous node is credited to the last one.

The model is built in training mode; run it on "meta" to measure any size without allocating anything.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    total_backward_flops: int = 0

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
) -> TrainingProbe:
    """Run one forward and `output.sum().backward()` of the spec in training mode on `device`, measuring.

    `frozen_paths` freezes the layers at those block paths (and below) besides those the spec freezes.
    """
    module = build_module(result, device, for_counting=False).train()
    _freeze(module, frozen_paths)
    excluded = {_storage_id(tensor) for tensor in [*module.parameters(), *module.buffers()]}
    for layer in module.layers:  # the modules of functional layers are not registered
        excluded |= {_storage_id(tensor) for tensor in [*layer.module.parameters(), *layer.module.buffers()]}
    probe = TrainingProbe()
    saved_at: dict[int, int] = {}  # storage -> its entry in probe.saved
    claimed_nodes: dict[torch.autograd.graph.Node, int] = {}
    current: list[int] = [-1]
    roles: dict[int, str] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = _storage_id(tensor)
        if storage not in excluded and storage not in saved_at:
            saved_at[storage] = len(probe.saved)
            probe.saved.append(
                SavedStorage(
                    current[0],
                    tuple(tensor.shape),
                    str(tensor.dtype).removeprefix("torch."),
                    tensor.untyped_storage().nbytes(),
                    roles.get(storage, "other"),
                )
            )
        return tensor

    def observe(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        current[0] = row.index
        roles.clear()
        roles.update({_storage_id(tensor): f"input{number}" for number, tensor in enumerate(inputs)})
        with torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
            output = layer(*inputs)
        # the output's storage may be new or an input's (in place, a view): name it as the rule does
        output_storage = _storage_id(output)
        if output_storage in saved_at and probe.saved[saved_at[output_storage]].role == "other":
            position = saved_at[output_storage]
            probe.saved[position] = replace(probe.saved[position], role="output")
        _claim_nodes(output.grad_fn, row.index, claimed_nodes)
        return output

    with torch.device(device):
        x = torch.zeros(result.input_shape, dtype=_dtype(result.dtype)).requires_grad_(input_requires_grad)
    output = module(x, observer=observe)
    if not output.requires_grad:
        return probe
    counter = FlopCounterMode(display=False)
    running = {"layer": -1, "flops_before": 0}

    def credit(layer: int) -> None:
        total = counter.get_total_flops()
        gained = total - running["flops_before"]
        if gained:
            probe.backward_flops[running["layer"]] = probe.backward_flops.get(running["layer"], 0) + gained
        running["layer"], running["flops_before"] = layer, total

    for node, layer in claimed_nodes.items():
        node.register_prehook(lambda grads, layer=layer: credit(layer))
    with counter:
        output.sum().backward()
    credit(-1)
    probe.total_backward_flops = counter.get_total_flops()
    return probe


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


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
