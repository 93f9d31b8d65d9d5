"""Build a whole spec as one `nn.Module` that runs its DAG.

Each layer's module sits at its spec path, so parameters are named as the spec reads:
`layer1.0.conv1.weight`. The forward pass runs the layers in the engine's order, keeps each output only
until its last reader has run, and can report every layer to an observer (for verification and timing).

A `functional: true` layer is a function call made inside this module's forward, as `F.relu(x)` in a
torchvision model: its module is built (it holds no parameters or buffers) but not registered, and the
forward pass runs the function that module's forward calls, never the module itself. Module hooks,
`named_modules()` and tools that walk the module tree do not see it; patched functions, traced operators
and FlopCounterMode do.

A checkpointed block (`checkpoint: true`, or `checkpoint(paths)`) runs, in training mode with gradients
enabled, through `torch.utils.checkpoint.checkpoint(use_reentrant=False)`: one function of the tensors the
block reads from outside, returning those of its tensors read after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from cnncalc.bridge import conv, dense, elementwise, merge, pool, resample, transformer, window  # noqa: F401
from cnncalc.bridge.registry import BUILDERS, CALLS, FUNCTIONAL_FORMS, BuildContext, Run
from cnncalc.engine.memory import last_readers
from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.kinds.base import LayerSchema
from cnncalc.training.network import block_inputs, checkpoint_blocks


class LayerCall:
    """One layer as the forward pass runs it: `layer(*inputs)` gives its output; `module` holds what it built."""

    def __init__(self, module: nn.Module, run: Run, functional: bool) -> None:
        self.module = module
        self.functional = functional  # run as a function call: the module is not registered, no hook fires
        self._run = run

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self._run(*inputs)


# Observer: called for each layer with (row, layer, inputs); it must call the layer and return its output.
Observer = Callable[[LayerRow, LayerCall, Sequence[torch.Tensor]], torch.Tensor]
# AroundCheckpoint: called with a checkpointed block's first row, its inputs and a function that runs the block
# through torch.utils.checkpoint; it must call that function and return what it returns.
AroundCheckpoint = Callable[[LayerRow, Sequence[torch.Tensor], Callable[[], tuple[torch.Tensor, ...]]], tuple]


def _module_call(module: nn.Module, spec: LayerSchema, context: BuildContext) -> Run:
    return module


def _forward_call(module: nn.Module, spec: LayerSchema, context: BuildContext) -> Run:
    return module.forward


class SpecModule(nn.Module):
    """A spec as a module. `forward(x)` takes the network input (batch first) and returns its output."""

    def __init__(self, result: AnalysisResult, for_counting: bool = False) -> None:
        super().__init__()
        self.rows: tuple[LayerRow, ...] = result.layers
        self.layers: list[LayerCall] = []  # a plain list: what is registered is done by _attach
        self.module_names: list[str | None] = []  # None for a functional layer, which has no name in the tree
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
            if row.functional:
                run = FUNCTIONAL_FORMS.get(row.kind, _forward_call)(module, row.spec, context)
                self.module_names.append(None)
            else:
                run = CALLS.get(row.kind, _module_call)(module, row.spec, context)
                self.module_names.append(self._attach(row.path, module))
            self.layers.append(LayerCall(module, run, row.functional))
        self._output_index = result.output_index
        self._frees_after = _last_uses(result.layers, self._output_index)
        self._result = result
        self.checkpoint(result.checkpoint_paths)

    def checkpoint(self, paths: Sequence[str]) -> SpecModule:
        """Checkpoint the blocks at these paths too (besides the spec's `checkpoint: true`)."""
        self.checkpoint_of = checkpoint_blocks(self._result, (*self._result.checkpoint_paths, *paths))
        self._block_inputs = block_inputs(self._result, self.checkpoint_of)
        return self

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

    def train(self, mode: bool = True) -> SpecModule:
        """Train or eval mode for the registered modules and for those of the functional layers, which
        behave as their module would (F.dropout reads `training`)."""
        super().train(mode)
        for layer in self.layers:
            if layer.functional:
                layer.module.train(mode)
        return self

    def forward(
        self,
        x: torch.Tensor,
        observer: Observer | None = None,
        inside_checkpoint: Observer | None = None,
        around_checkpoint: AroundCheckpoint | None = None,
    ) -> torch.Tensor:
        """`observer` sees every layer outside checkpointed blocks, `inside_checkpoint` those inside (in the
        forward and again in the recomputation), `around_checkpoint` each checkpointed block as a whole."""
        values: dict[int, torch.Tensor] = {-1: x}
        checkpointing = self.training and torch.is_grad_enabled()
        position = 0
        while position < len(self.rows):
            row = self.rows[position]
            block = self.checkpoint_of.get(row.index) if checkpointing else None
            if block is None:
                inputs = [values[index] for index in row.input_indices]
                values[row.index] = (
                    observer(row, self.layers[position], inputs) if observer else self.layers[position](*inputs)
                )
                end = position + 1
            else:
                end = position
                while end < len(self.rows) and self.checkpoint_of.get(self.rows[end].index) == block:
                    end += 1
                values.update(self._run_checkpointed(position, end, values, inside_checkpoint, around_checkpoint))
            for freed in range(position, end):
                for index in self._frees_after[freed]:
                    values.pop(index, None)
            position = end
        return values[self._output_index]

    def _run_checkpointed(
        self,
        start: int,
        end: int,
        values: dict[int, torch.Tensor],
        inside: Observer | None,
        around: AroundCheckpoint | None,
    ) -> dict[int, torch.Tensor]:
        from torch.utils.checkpoint import checkpoint

        rows = self.rows[start:end]
        inner = {row.index for row in rows}
        read_from = self._block_inputs[self.checkpoint_of[rows[0].index]]
        read_after = [
            row.index
            for row in rows
            if row.index == self._output_index or any(row.index in later.input_indices for later in self.rows[end:])
        ]

        def block(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
            local = dict(zip(read_from, tensors, strict=True))
            for row, layer in zip(rows, self.layers[start:end], strict=True):
                inputs = [local[index] for index in row.input_indices]
                local[row.index] = inside(row, layer, inputs) if inside else layer(*inputs)
            return tuple(local[index] for index in read_after)

        tensors = [values[index] for index in read_from if index not in inner]

        def run() -> tuple[torch.Tensor, ...]:
            return checkpoint(block, *tensors, use_reentrant=False)

        outputs = around(rows[0], tensors, run) if around else run()
        return dict(zip(read_after, outputs, strict=True))


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
