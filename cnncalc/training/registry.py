"""The training rules: one per layer kind, registered by a decorator, as the engine rules are.

A training rule says, for one layer in one training step, what autograd keeps from the forward pass for the
backward (`saved`), what the backward computes (`backward_flops`: gradients of convolutions, linear layers and
matmuls, with respect to the input where the input needs one and to the weights where they train), and how
its output relates to its input's storage (a view or an in-place op shares it). Rules are pure arithmetic on
the layer's row; they never import torch.

The rules follow PyTorch 2.13 on the CPU (`RULES_FOLLOW`), in fp32 and under autocast (bf16-mixed,
fp16-mixed): which tensors an op saves is stated by PyTorch's `tools/autograd/derivatives.yaml` and its
kernels, and was measured for every kind with `torch.autograd.graph.saved_tensors_hooks` (see
`cnncalc.bridge.training_probe`).

Under autocast each tensor has its own dtype: the ops autocast runs in half precision (convolutions, linear
layers, matmuls, PReLU, attention) cast an fp32 input to a half-precision copy, which is what they keep, and
keep a half-precision copy of their weight (`weight_copy`); other ops run in their inputs' dtype, promoted to
the widest (a bf16 map plus an fp32 parameter is fp32). Rules see each input's item size and say their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod
from typing import Any

from cnncalc.base.registration import register_once
from cnncalc.engine.result import LayerRow

RULES_FOLLOW = "PyTorch 2.13, CPU"
FP32_ITEMSIZE = 4

INPUT = "input0"  # the storage of the layer's first input
OUTPUT = "output"  # the storage of the layer's output


@dataclass(frozen=True)
class Saved:
    """One tensor a layer's backward needs. `tensor` names its storage: "input0", "input1", ... (an input's,
    which may be shared with the layer that made it), "output" (the layer's own), or any other name for a
    tensor made inside the layer (its storage is the layer's alone). `elements` is the storage's size;
    `itemsize` None means the dtype the layer computes in (int64 indices take 8 bytes whatever it is, and
    normalization statistics stay fp32 under autocast). `weight_copy`: a half-precision copy of a parameter
    that autocast made (counted apart from the activations, as `saved_weight_copy_bytes`)."""

    tensor: str
    elements: int
    itemsize: int | None = None
    weight_copy: bool = False


@dataclass(frozen=True)
class TrainingView:
    """One layer as a training rule sees it."""

    row: LayerRow
    dtype_bytes: int  # of the model's parameters
    inputs_need_grad: tuple[bool, ...]  # whether autograd tracks each input (something below it trains)
    trains: bool  # the layer has parameters, and they are not frozen
    inputs_contiguous: tuple[bool, ...]  # whether each input is laid out contiguously (a view may not be)
    input_layouts: tuple[tuple[int, ...], ...] = ()  # each input's strides, in elements
    input_itemsizes: tuple[int, ...] = ()  # each input's bytes per element (its dtype)
    autocast_itemsize: int | None = None  # under autocast, the bytes per element of its half precision
    device: str = "cpu"  # whose kernels the rules follow: "cpu" or "cuda"

    @property
    def input_grad(self) -> bool:
        return any(self.inputs_need_grad)

    @property
    def tracked(self) -> bool:
        """Autograd records this layer at all: an input needs a gradient or the layer trains."""
        return self.input_grad or self.trains

    @property
    def spec(self) -> Any:  # each kind has its own schema
        return self.row.spec

    @property
    def promoted_itemsize(self) -> int:
        """The dtype an op of the inputs (and of fp32 parameters, `with_parameters`) computes in: the widest."""
        return max(self.input_itemsizes or (self.dtype_bytes,))

    @property
    def lowered_itemsize(self) -> int:
        """The dtype of an op autocast runs in half precision (its inputs' without autocast)."""
        return self.autocast_itemsize or self.promoted_itemsize

    def lowered_input(self, number: int = 0) -> str:
        """What such an op reads of an input: the input itself, or the half-precision copy autocast makes of
        an input in another dtype (a new tensor, this layer's own)."""
        if self.autocast_itemsize is None or self.input_itemsizes[number] == self.autocast_itemsize:
            return f"input{number}"
        return f"cast{number}"

    def input_elements(self, number: int = 0) -> int:
        return prod(self.row.input_shapes[number])

    @property
    def output_elements(self) -> int:
        return prod(self.row.output_shape)


@dataclass(frozen=True)
class TrainingCost:
    """What a rule computes for one layer.

    itemsize:       the bytes per element of what it computes and outputs (None: its inputs' dtype, promoted
                    to the widest); under autocast, the half precision for the ops autocast lowers.
    backward_flops: what its backward computes (2 per multiply-accumulate), cnncalc's true figure.
    torch_backward_flops: what `FlopCounterMode` counts for the same backward, where it differs (None: same).
    output_alias:   the output shares the storage of this input ("input0": a view, an in-place op), or None.
    output_strides: the output's strides where it is not laid out contiguously (a permuted view), else None.
    output_tracked: whether autograd tracks the output (None: when the layer is tracked).
    output_storage_elements: the size of the output's own storage where it is larger than the output (a
                    kernel that reuses a bigger allocation), else None.
    overwrites_input: the layer writes its output into its input's storage (an in-place op).
    one_of_several_views: the output is one of the views an op returns together (`torch.split`), which
                    autograd does not let an in-place op overwrite.
    """

    saved: tuple[Saved, ...] = ()
    itemsize: int | None = None  # bytes per element it computes and outputs in (None: its inputs', promoted)
    backward_flops: int = 0
    torch_backward_flops: int | None = None
    output_alias: str | None = None
    output_strides: tuple[int, ...] | None = None
    output_tracked: bool | None = None
    output_storage_elements: int | None = None
    overwrites_input: bool = False
    one_of_several_views: bool = False


class TrainingRefused(ValueError):
    """A network PyTorch refuses to train as specified (it raises in the forward): the rules do not answer."""

    def __init__(self, message: str, hint: str, pytorch_raises: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.pytorch_raises = pytorch_raises  # False: PyTorch does not raise but fails worse (memory corruption)


TrainingRule = Callable[[TrainingView], TrainingCost]
TRAINING_RULES: dict[str, TrainingRule] = {}


def training_rule(*kinds: str) -> Callable[[TrainingRule], TrainingRule]:
    """Register `rule` as the training rule of these kinds; a kind can have only one."""
    return register_once(TRAINING_RULES, kinds, "layer kind {name} has two training rules")


@dataclass
class SavedList:
    """Collects what a rule saves, skipping what autograd would not keep."""

    items: list[Saved] = field(default_factory=list)

    def add(self, tensor: str, elements: int, when: bool = True, itemsize: int | None = None) -> None:
        if when:
            self.items.append(Saved(tensor, elements, itemsize))

    def add_weight_copy(self, view: TrainingView, elements: int, when: bool = True, name: str = "weight") -> None:
        """The half-precision copy of a weight that autocast makes for a lowered op, when the op keeps it
        (without autocast it keeps the parameter itself, which is not counted)."""
        if when and view.autocast_itemsize is not None:
            self.items.append(Saved(name, elements, view.autocast_itemsize, weight_copy=True))

    def done(self, **cost: object) -> TrainingCost:
        return TrainingCost(saved=tuple(self.items), **cost)  # type: ignore[arg-type]
