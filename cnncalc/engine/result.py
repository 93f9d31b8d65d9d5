"""The engine's output: frozen data, one row per layer plus totals. Rendering happens elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.base.errors import Location, SpecIssue
from cnncalc.base.geometry import Geometry
from cnncalc.base.tensor import AxisField
from cnncalc.kinds.base import LayerSchema

CONVENTION = (
    "cnncalc: MACs of conv, linear and attention matmuls (bias excluded, transposed conv on its input grid); "
    "FLOPs = 2 x MACs; whole batch; buffers apart from params"
)

INDEX_BYTES = 8  # an index buffer is int64 whatever dtype the model runs in (Swin's relative_position_index)


@dataclass(frozen=True, slots=True)
class LayerRow:
    index: int
    path: str  # block path, e.g. "layer3.2.conv2"
    kind: str
    inputs: tuple[str, ...]  # paths of the layers it reads ("input" for the network input)
    input_indices: tuple[int, ...]  # their row indices; -1 is the network input
    input_shapes: tuple[tuple[int, ...], ...]  # the shape of each input, batch first
    spec: LayerSchema  # the validated fields of this layer (what a torch builder needs)
    output_shape: tuple[int, ...]
    channel_axis: int | None  # of the output (channels-last layouts move it)
    params: int
    trainable: bool
    buffers: int
    macs: int
    activation_elements: int
    activation_bytes: int
    field: tuple[AxisField, ...] | None  # receptive field of this layer's units, per spatial axis
    global_field: bool  # units see the whole input (global pooling, attention)
    geometry: Geometry | None  # the resolved window of a kind that slides one (kernel, stride, padding, ...)
    location: Location
    functional: bool = False  # `functional: true`: a function call in the model's forward, not a submodule
    index_buffers: int = 0  # of `buffers`: int64 index tables (8 bytes each); the rest are running statistics

    @property
    def running_stat_buffers(self) -> int:
        return self.buffers - self.index_buffers

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of its first input."""
        return self.input_shapes[0]

    @property
    def batch(self) -> int:
        return self.output_shape[0]


@dataclass(frozen=True, slots=True)
class Totals:
    params: int
    trainable_params: int
    buffers: int
    macs: int
    param_bytes: int
    buffer_bytes: int
    activation_bytes: int  # every layer's output, summed (what a training step keeps for backward)
    peak_activation_bytes: int  # the most live at once during inference, in execution order
    batch: int
    index_buffers: int = 0  # of `buffers`: int64 index tables, counted at 8 bytes in `buffer_bytes`

    @property
    def running_stat_buffers(self) -> int:
        return self.buffers - self.index_buffers

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    name: str
    file: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    output_index: int  # the row that is the network output; -1 when the output is the input itself
    dtype: str
    dtype_bytes: int
    layers: tuple[LayerRow, ...]
    totals: Totals
    receptive_field: tuple[AxisField, ...] | None  # of the deepest spatial feature map
    receptive_field_layer: str | None  # the layer it belongs to
    warnings: tuple[SpecIssue, ...]
    group_kinds: dict[str, str]  # path of each block use / group -> its block name or kind, for --depth
    group_outputs: dict[str, int]  # the same paths -> the row that is their output (-1: the network input)
    convention: str = CONVENTION
    checkpoint_paths: tuple[str, ...] = ()  # entries marked `checkpoint: true`: recomputed in a training step
