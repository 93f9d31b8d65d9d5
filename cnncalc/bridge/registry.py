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

import torch
from torch import nn

from cnncalc.base.geometry import Geometry
from cnncalc.base.registration import register_once
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

# (the built module, the layer's spec, its context) -> what the forward pass runs with the layer's inputs
Run = Callable[..., torch.Tensor]
RunFactory = Callable[[nn.Module, LayerSchema, BuildContext], Run]
CALLS: dict[str, RunFactory] = {}
FUNCTIONAL_FORMS: dict[str, RunFactory] = {}


def builds(*kinds: str) -> Callable[[Builder], Builder]:
    return register_once(BUILDERS, kinds, "layer kind {name} has two torch builders")


def calls(*kinds: str) -> Callable[[RunFactory], RunFactory]:
    """Register how the forward pass calls the module of these kinds (default: `module(*inputs)`)."""
    return register_once(CALLS, kinds, "layer kind {name} has two module calls")


def functional_form(*kinds: str) -> Callable[[RunFactory], RunFactory]:
    """Register the function a `functional: true` layer of these kinds runs (default: its module's forward)."""
    return register_once(FUNCTIONAL_FORMS, kinds, "layer kind {name} has two functional forms")
