"""`cnncalc verify SPEC --mode train`: the training rules against one real training step in PyTorch.

Per layer, the backward FLOPs `FlopCounterMode` counts around `loss.backward()` against the rules' figure
for it (`torch_backward_flops`), and the bytes autograd keeps for the backward (`saved_tensors_hooks`, each
storage once, credited to the first layer that keeps it) against `saved_activation_bytes`; the measurements
are `cnncalc.bridge.training_probe`'s. Where FlopCounterMode is known to be wrong (torch 2.13: the weight
gradient of a grouped or depthwise convolution counted `groups` times, no formula for the CPU flash-attention
kernel), the row shows cnncalc's true figure beside it and says why.

The step runs on the CPU (the CPU's rules), on "meta" (nothing allocated, any size; fp32 only, for networks
whose layers behave there as on the CPU, `meta_problem`), or on CUDA (CUDA's rules, written from PyTorch's
source: this check is what measures them). Under mixed precision
the forward runs inside autocast, and the half-precision weight copies autocast keeps are checked too
(`saved_weight_copy_bytes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from cnncalc.bridge.training_probe import probe_training
from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.training import RULES_FOLLOW, TrainingOptions, TrainingResult, analyze_training
from cnncalc.training.rules import cpu_only

TRAINING_CHECKS = ("backward_flops", "saved_activation_bytes")
WEIGHT_COPY_CHECK = "saved_weight_copy_bytes"  # checked under mixed precision
RECOMPUTE_CHECK = "recompute_flops"  # checked where blocks are checkpointed


@dataclass
class TrainingLayerCheck:
    path: str
    kind: str
    expected: dict[str, int]  # the rules' figures, backward FLOPs as FlopCounterMode counts them
    measured: dict[str, int]
    true_backward_flops: int  # cnncalc's figure, where FlopCounterMode is wrong
    note: str = ""

    @property
    def failed(self) -> list[str]:
        return [name for name in self.expected if self.expected[name] != self.measured[name]]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class TrainingVerifyReport:
    name: str
    device: str
    torch_version: str
    layers: list[TrainingLayerCheck]
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (rules, torch)
    true_backward_flops: int = 0
    rules_follow: str = RULES_FOLLOW
    checks: tuple[str, ...] = TRAINING_CHECKS

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers) and all(a == b for a, b in self.totals.values())

    def mismatches(self) -> list[dict[str, object]]:
        found: list[dict[str, object]] = [
            {"layer": layer.path, "check": check, "engine": layer.expected[check], "torch": layer.measured[check]}
            for layer in self.layers
            for check in layer.failed
        ]
        for name, (engine, measured) in self.totals.items():
            if engine != measured:
                found.append({"layer": "(total)", "check": name, "engine": engine, "torch": measured})
        return found


def meta_problem(result: AnalysisResult) -> str | None:
    """Why the "meta" device would not reproduce the CPU's behaviour that the rules follow, or None."""
    for row in result.layers:
        reason = cpu_only(row)
        if reason is not None:
            return f"layer {row.path!r}: {reason}"
    return None


def counter_note(row: LayerRow, true_flops: int, counted: int) -> str:
    """Why FlopCounterMode's backward FLOPs differ from the true figure for this layer."""
    if true_flops == counted:
        return ""
    if row.kind == "attention":
        return f"true backward {true_flops:,}: FlopCounterMode has no formula for the CPU flash-attention kernel"
    groups = row.geometry.groups if row.geometry else 1
    return f"true backward {true_flops:,}: FlopCounterMode counts the weight gradient {groups} times (groups={groups})"


def verify_training(
    result: AnalysisResult,
    device: str,
    rules: TrainingResult | None = None,
    checkpoint: Sequence[str] = (),
    precision: str = "fp32",
) -> TrainingVerifyReport:
    """Run one training step of the spec on `device` ("cpu", "meta" or "cuda") at `precision` and compare it
    with the rules (given, or those of that device and precision).

    Checkpointed blocks (the spec's and `checkpoint`) run through torch.utils.checkpoint: FlopCounterMode
    counts their recomputed forward inside the backward, which is checked apart as `recompute_flops`."""
    rules_device = "cuda" if device.startswith("cuda") else "cpu"  # the rules of the device it runs on
    options = TrainingOptions(checkpoint=tuple(checkpoint), precision=precision, device=rules_device)
    rules = rules or analyze_training(result, options)
    measured = probe_training(result, device, checkpoint_paths=checkpoint, precision=precision)
    recomputing = bool(result.checkpoint_paths or checkpoint)
    mixed = precision != "fp32"
    checks = []
    for row, layer in zip(result.layers, rules.layers, strict=True):
        expected = {
            "backward_flops": layer.torch_backward_flops,
            "saved_activation_bytes": layer.saved_activation_bytes,
        }
        pytorch = {
            "backward_flops": measured.backward_flops.get(row.index, 0),
            "saved_activation_bytes": measured.saved_bytes(row.index),
        }
        if recomputing:
            expected[RECOMPUTE_CHECK] = layer.recompute_flops
            pytorch[RECOMPUTE_CHECK] = measured.recompute_flops.get(row.index, 0)
        if mixed:
            expected[WEIGHT_COPY_CHECK] = layer.saved_weight_copy_bytes
            pytorch[WEIGHT_COPY_CHECK] = measured.weight_copy_bytes(row.index)
        checks.append(
            TrainingLayerCheck(
                path=row.path,
                kind=row.kind,
                expected=expected,
                measured=pytorch,
                true_backward_flops=layer.backward_flops,
                note=counter_note(row, layer.backward_flops, layer.torch_backward_flops),
            )
        )
    totals = {
        "backward_flops": (rules.totals.torch_backward_flops, measured.total_backward_flops),
        "saved_activation_bytes": (rules.totals.saved_activation_bytes, measured.total_saved_bytes),
    }
    if recomputing:
        totals[RECOMPUTE_CHECK] = (rules.totals.recompute_flops, measured.total_recompute_flops)
    if mixed:
        totals[WEIGHT_COPY_CHECK] = (rules.totals.saved_weight_copy_bytes, measured.total_weight_copy_bytes)
    return TrainingVerifyReport(
        result.name,
        device,
        torch.__version__,
        checks,
        totals,
        true_backward_flops=rules.totals.backward_flops,
        rules_follow=rules.rules_follow,
        checks=(
            *TRAINING_CHECKS,
            *((RECOMPUTE_CHECK,) if recomputing else ()),
            *((WEIGHT_COPY_CHECK,) if mixed else ()),
        ),
    )
