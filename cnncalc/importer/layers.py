"""What the importer writes for one traced operation: a cnncalc layer, or a note that it passes data on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch.fx


@dataclass
class Layer:
    """One layer of the imported spec.

    path:       where it sits, as the model's module paths read (`layer1.0.conv1`): its parameters then have
                the model's `state_dict` names.
    inputs:     the graph nodes whose values it reads, in order (the network input is the placeholder node).
    functional: written as a call in the model's `forward` (`F.relu(x)`, `x + y`), not as a module.
    """

    path: str
    kind: str
    fields: dict[str, Any]
    inputs: list[torch.fx.Node]
    node: torch.fx.Node
    functional: bool = False
    parameters: list[str] = field(default_factory=list)  # names (`state_dict` style) of the parameters it reads
    last_node: torch.fx.Node | None = None  # the node whose value it outputs, when it stands for several

    @property
    def name(self) -> str:
        """The name in its group: the last part of its path."""
        return self.path.rpartition(".")[2]

    @property
    def output_node(self) -> torch.fx.Node:
        return self.last_node or self.node

    @property
    def reads(self) -> list[torch.fx.Node]:
        """Every node it depends on: its inputs, then the tensors whose sizes its fields take (`SpatialOf`)."""
        return [*self.inputs, *(value.node for value in self.fields.values() if isinstance(value, SpatialOf))]


@dataclass(frozen=True)
class SpatialOf:
    """A field that takes another tensor's spatial sizes (`F.interpolate(x, size=skip.shape[-2:])`), written as
    `spatial(NAME)` with NAME the layer that tensor comes from."""

    node: torch.fx.Node


@dataclass(frozen=True)
class Unsupported:
    """An operation with no cnncalc kind (or used in a way cnncalc does not model), and why."""

    op: str
    reason: str = ""


@dataclass(frozen=True)
class PassThrough:
    """The node's value is another node's (`x.contiguous()`, the output of `attention(...)[0]`)."""

    source: torch.fx.Node


@dataclass(frozen=True)
class NotATensor:
    """Shape arithmetic (`x.shape`, `x.size(0) // 2`, an assert): no layer, its value is read by other nodes."""
