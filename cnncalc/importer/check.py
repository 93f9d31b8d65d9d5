"""`cnncalc import --check`: the written spec against the original model, layer by layer.

The model is traced again and run on meta tensors node by node under FlopCounterMode; each spec row is
compared with the operation it was written from (same path): output shape, the parameters and buffers that
operation reads, and the FLOPs PyTorch counts for it. The totals compare the whole spec with the whole model.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.fx
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.bridge.verify import LayerCheck, VerifyReport, buffer_count
from cnncalc.engine.result import AnalysisResult
from cnncalc.importer.capture import Capture, capture, for_inference, network_arguments, run_interpreter
from cnncalc.importer.convert import convert
from cnncalc.importer.spec import layout


class _CountingRecorder(torch.fx.Interpreter):
    def __init__(self, graph_module: torch.fx.GraphModule) -> None:
        super().__init__(graph_module)
        self.values: dict[torch.fx.Node, Any] = {}
        self.flops: dict[torch.fx.Node, int] = {}

    def run_node(self, node: torch.fx.Node) -> Any:
        with FlopCounterMode(display=False) as counter:
            result = super().run_node(node)
        self.values[node] = result
        self.flops[node] = counter.get_total_flops()
        return result


def check_against_model(
    module: nn.Module, result: AnalysisResult, label: str, allow_uncounted: bool = False
) -> VerifyReport:
    with for_inference(module):
        graph_module = capture(module, result.input_shape, label).graph_module  # the same capture as the import
        recorder = _CountingRecorder(graph_module)
        run_interpreter(recorder, network_arguments(graph_module, torch.zeros(result.input_shape, device="meta")))
    counted = Capture(graph_module, module, dict(graph_module.named_modules()), result.input_shape, recorder.values)
    counted.second_tried = True  # the spec is compared at its own input only
    conversion = convert(counted, allow_uncounted)
    layout(conversion)  # the paths the spec was written with
    layers = {layer.path: layer for layer in conversion.layers}
    parameters = dict(module.named_parameters())
    buffers = dict(module.named_buffers())
    checks: list[LayerCheck] = []
    for row in result.layers:
        layer = layers.get(row.path)
        expected = {"shape": row.output_shape, "params": row.params, "buffers": row.buffers, "flops": row.flops}
        if layer is None:
            missing = {"shape": (), "params": 0, "buffers": 0, "flops": 0}
            checks.append(LayerCheck(row.path, row.kind, expected, missing, "no operation of the model has this path"))
            continue
        called = counted.modules.get(str(layer.node.target)) if layer.node.op == "call_module" else None
        read = set(layer.parameters)
        measured = {
            "shape": counted.shape(layer.output_node),
            "params": sum(parameters[name].numel() for name in read if name in parameters),
            "buffers": buffer_count(called)
            if called is not None
            else sum(
                buffers[name].numel() for name in read if name in buffers and not name.endswith("num_batches_tracked")
            ),
            "flops": recorder.flops[layer.node],
        }
        checks.append(LayerCheck(row.path, row.kind, expected, measured))
    unused = conversion.unused_parameters
    used_buffers = sum(
        buffer.numel()
        for name, buffer in module.named_buffers()
        if not name.endswith("num_batches_tracked") and not any(name.startswith(f"{owner}.") for owner in unused)
    )
    totals = {
        "params": (
            result.totals.params,
            sum(parameter.numel() for parameter in module.parameters()) - sum(unused.values()),
        ),
        "buffers": (result.totals.buffers, used_buffers),
        "flops": (result.totals.flops, sum(recorder.flops.values())),
    }
    return VerifyReport(label, "meta (the original model)", torch.__version__, checks, totals)  # type: ignore[arg-type]
