"""Check every number of the engine against what PyTorch does with the built module.

For every layer: the output shape the forward pass produced, the parameters and buffers the module holds,
and the FLOPs `torch.utils.flop_counter.FlopCounterMode` counts while that layer runs. Attention is built
on its explicit path (Q Kᵀ and A V as bmm) so the counter sees its matmuls; the row says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.bridge.module import LayerCall, build_module
from cnncalc.engine.result import AnalysisResult, LayerRow

CHECKS = ("shape", "params", "buffers", "flops")
_COUNTER_NOTES = {
    "attention": "run unfused (explicit bmm) so FlopCounterMode counts Q Kᵀ and A V; fused kernels are invisible to it",
}


@dataclass
class LayerCheck:
    path: str
    kind: str
    expected: dict[str, object]
    measured: dict[str, object]
    note: str = ""

    @property
    def failed(self) -> list[str]:
        return [name for name in CHECKS if self.expected[name] != self.measured[name]]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class VerifyReport:
    name: str
    device: str
    torch_version: str
    layers: list[LayerCheck]
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (engine, torch)

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers) and all(a == b for a, b in self.totals.values())

    def mismatches(self) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for layer in self.layers:
            for check in layer.failed:
                found.append(
                    {
                        "layer": layer.path,
                        "check": check,
                        "engine": layer.expected[check],
                        "torch": layer.measured[check],
                    }
                )
        for name, (engine, measured) in self.totals.items():
            if engine != measured:
                found.append({"layer": "(total)", "check": name, "engine": engine, "torch": measured})
        return found


def buffer_count(module: nn.Module) -> int:
    """Buffers as the engine counts them: running statistics, not the num_batches_tracked counters."""
    return sum(buffer.numel() for name, buffer in module.named_buffers() if not name.endswith("num_batches_tracked"))


def pick_device(requested: str) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def verify(result: AnalysisResult, device: str = "auto") -> VerifyReport:
    device = pick_device(device)
    module = build_module(result, device, for_counting=True)
    checks: list[LayerCheck] = []

    def observe(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        with FlopCounterMode(display=False) as counter:
            output = layer(*inputs)
        checks.append(
            LayerCheck(
                path=row.path,
                kind=row.kind,
                expected={"shape": row.output_shape, "params": row.params, "buffers": row.buffers, "flops": row.flops},
                measured={
                    "shape": tuple(output.shape),
                    "params": sum(parameter.numel() for parameter in layer.module.parameters()),
                    "buffers": buffer_count(layer.module),
                    "flops": counter.get_total_flops(),
                },
                note=_COUNTER_NOTES.get(row.kind, ""),
            )
        )
        return output

    # nn.MultiheadAttention takes a fused "fast path" at inference whatever need_weights says, and
    # FlopCounterMode counts nothing inside it: switch it off so the explicit matmuls are what runs.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad():
            network_input = torch.zeros(result.input_shape, device=device)
            module(network_input, observer=observe)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    trainable = sum(parameter.numel() for parameter in module.parameters() if parameter.requires_grad)
    totals = {
        "params": (result.totals.params, sum(parameter.numel() for parameter in module.parameters())),
        "trainable_params": (result.totals.trainable_params, trainable),
        "buffers": (result.totals.buffers, buffer_count(module)),
        "flops": (result.totals.flops, sum(int(check.measured["flops"]) for check in checks)),  # type: ignore[call-overload]
    }
    return VerifyReport(result.name, device, torch.__version__, checks, totals)
