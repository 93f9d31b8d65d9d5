"""One torch builder per layer kind, registered by a decorator; a kind can be registered only once.

A builder receives the layer's validated spec and the shapes the engine computed for it, and returns an
`nn.Module`. The forward pass calls that module with the layer's inputs in order, unless the kind says
otherwise:
- `@calls(kind)`: how the module is called when its forward takes other arguments (nn.MultiheadAttention
  takes query, key and value);
- `@functional_form(kind)`: the function a `functional: true` layer of this kind runs, when it is not
  what its module's forward calls (nn.ReLU6 calls F.hardtanh; PyTorch code writes F.relu6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

from cnncalc.base.geometry import Geometry
from cnncalc.kinds.base import LayerSchema


@dataclass(frozen=True)
class BuildContext:
    """What a builder may need besides the spec."""

    input_shapes: tuple[tuple[int, ...], ...]  # batch first, as the engine computed them
    output_shape: tuple[int, ...]
    channel_axes: tuple[int | None, ...]  # channel axis of each input (channels-last after a permute)
    geometry: Geometry | None = None  # the window the engine resolved (kernel, stride, padding per axis, ...)
    for_counting: bool = False  # run attention on its explicit path, whatever the spec says (verify)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_shapes[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.input_shape[2:]

    @property
    def window(self) -> Geometry:
        """The resolved geometry of a windowed kind (its rule always provides one)."""
        if self.geometry is None:
            raise ValueError("this layer kind slides no window")
        return self.geometry


Builder = Callable[[LayerSchema, BuildContext], nn.Module]
BUILDERS: dict[str, Builder] = {}
Entry = TypeVar("Entry")

# (the built module, the layer's spec, its context) -> what the forward pass runs with the layer's inputs
Run = Callable[..., torch.Tensor]
RunFactory = Callable[[nn.Module, LayerSchema, BuildContext], Run]
CALLS: dict[str, RunFactory] = {}
FUNCTIONAL_FORMS: dict[str, RunFactory] = {}


def builds(*kinds: str) -> Callable[[Builder], Builder]:
    return _register_once(BUILDERS, "torch builders", kinds)


def _register_once(table: dict[str, Entry], what: str, kinds: tuple[str, ...]) -> Callable[[Entry], Entry]:
    """A decorator that puts its function in `table` under each kind; a kind can be registered only once."""

    def register(entry: Entry) -> Entry:
        for kind in kinds:
            if kind in table:
                raise RuntimeError(f"layer kind {kind!r} has two {what}")
            table[kind] = entry
        return entry

    return register


def calls(*kinds: str) -> Callable[[RunFactory], RunFactory]:
    """Register how the forward pass calls the module of these kinds (default: `module(*inputs)`)."""
    return _register_once(CALLS, "module calls", kinds)


def functional_form(*kinds: str) -> Callable[[RunFactory], RunFactory]:
    """Register the function a `functional: true` layer of these kinds runs (default: its module's forward)."""
    return _register_once(FUNCTIONAL_FORMS, "functional forms", kinds)
