"""One cold process of the speed benchmark: import torch and one counting tool, build the network with
cnncalc's torch bridge, and print the tool's summary, as a user of that tool would.

    python benchmarks/peers/_child.py TOOL SPEC CHANNELSxHxW BATCH

TOOL is torchinfo, ptflops, flopcounter, or build (import torch and build the module only: the floor
every tool pays before it counts anything). Every tool runs under torch.no_grad(): without it ptflops and
FlopCounterMode keep the autograd graph, which takes far more memory at large inputs.
"""

from __future__ import annotations

import sys


def main() -> None:
    tool, spec, shape_text, batch_text = sys.argv[1:5]
    per_sample = tuple(int(size) for size in shape_text.split("x"))
    batch = int(batch_text)
    shape = (batch, *per_sample)

    import torch

    from cnncalc.bridge.module import build_module
    from cnncalc.engine.analysis import InputOverrides, analyze_file

    result = analyze_file(spec, InputOverrides(shape=per_sample, batch=batch))
    model = build_module(result, "cpu")
    with torch.no_grad():
        if tool == "torchinfo":
            import torchinfo

            print(torchinfo.summary(model, input_size=shape, verbose=0))
        elif tool == "ptflops":
            from ptflops import get_model_complexity_info

            constructor = None if batch == 1 else (lambda resolution: torch.zeros((batch, *resolution)))
            macs, params = get_model_complexity_info(
                model, per_sample, as_strings=True, print_per_layer_stat=True, input_constructor=constructor
            )
            print(f"Computational complexity: {macs}\nNumber of parameters: {params}")
        elif tool == "flopcounter":
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=True):
                model(torch.zeros(shape))
        elif tool == "build":
            print(sum(parameter.numel() for parameter in model.parameters()))
        else:
            raise SystemExit(f"unknown tool {tool!r}")


if __name__ == "__main__":
    main()
