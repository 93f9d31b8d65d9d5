"""Build a whole spec as one `nn.Module` that runs its DAG.

Each layer's module sits at its spec path, so parameters are named as the spec reads:
`layer1.0.conv1.weight`. The forward pass runs the layers in the engine's order, keeps each output only
until its last reader has run, and can report every layer to an observer (for verification and timing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from cnncalc.bridge import conv, dense, elementwise, merge, pool, resample, transformer  # noqa: F401  (registration)
from cnncalc.bridge.registry import BUILDERS, BuildContext
from cnncalc.engine.memory import last_readers
from cnncalc.engine.result import AnalysisResult, LayerRow

# Observer: called for each layer with (row, module, inputs); it must call the module and return its output.
Observer = Callable[[LayerRow, nn.Module, Sequence[torch.Tensor]], torch.Tensor]


class SpecModule(nn.Module):
    """A spec as a module. `forward(x)` takes the network input (batch first) and returns its output."""

    def __init__(self, result: AnalysisResult, for_counting: bool = False) -> None:
        super().__init__()
        self.rows: tuple[LayerRow, ...] = result.layers
        self.layer_modules: list[nn.Module] = []
        self.module_names: list[str] = []
        channel_axes = {-1: 1, **{row.index: row.channel_axis for row in result.layers}}
        for row in result.layers:
            context = BuildContext(
                input_shapes=row.input_shapes,
                output_shape=row.output_shape,
                channel_axes=tuple(channel_axes[index] for index in row.input_indices),
                geometry=row.geometry,
                for_counting=for_counting,
            )
            module = BUILDERS[row.kind](row.spec, context)
            if not row.trainable:
                module.requires_grad_(False)
            self.module_names.append(self._attach(row.path, module))
            self.layer_modules.append(module)
        self._output_index = result.output_index
        self._frees_after = _last_uses(result.layers, self._output_index)

    def _attach(self, path: str, module: nn.Module) -> str:
        """Place `module` at `path`, creating plain container modules for the prefixes; returns its name."""
        parent: nn.Module = self
        parts = path.split(".")
        names: list[str] = []
        for index, part in enumerate(parts):
            name = _safe_name(parent, part)
            names.append(name)
            if index == len(parts) - 1:
                parent.add_module(name, module)
            else:
                if name not in parent._modules:
                    parent.add_module(name, nn.Module())
                parent = parent._modules[name]  # type: ignore[assignment]
        return ".".join(names)

    def forward(self, x: torch.Tensor, observer: Observer | None = None) -> torch.Tensor:
        values: dict[int, torch.Tensor] = {-1: x}
        for row, module, frees in zip(self.rows, self.layer_modules, self._frees_after, strict=True):
            inputs = [values[index] for index in row.input_indices]
            values[row.index] = observer(row, module, inputs) if observer else module(*inputs)
            for index in frees:
                del values[index]
        return values[self._output_index]


def _safe_name(parent: nn.Module, part: str) -> str:
    """A spec name that clashes with an nn.Module attribute (`type`, `forward`, ...) gets a trailing '_'."""
    name = part
    while hasattr(parent, name) and name not in parent._modules:
        name += "_"
    return name


def _last_uses(rows: Sequence[LayerRow], output: int) -> list[list[int]]:
    """For each row, the values that can be dropped after it runs (their last reader)."""
    frees: list[list[int]] = [[] for _ in rows]
    for value, reader in last_readers([row.input_indices for row in rows]).items():
        if value != output:
            frees[reader].append(value)
    return frees


def build_module(result: AnalysisResult, device: str | torch.device = "cpu", for_counting: bool = False) -> SpecModule:
    """Build on `device`; on "meta" nothing is allocated, so any input size can be checked."""
    with torch.device(device):
        module = SpecModule(result, for_counting=for_counting)
    return module.eval()
