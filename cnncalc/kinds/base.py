"""The layer-kind registry: one schema and one engine rule per kind, registered by a decorator.

A rule is a small pure function `(spec, inputs, ctx) -> LayerResult`: it receives the validated fields of
one layer and the engine's view of its input tensors, and returns the output tensor with the layer's
parameters, buffers and MACs. Rules never format text for display and never import torch.
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from cnncalc.base.geometry import Geometry, Window
from cnncalc.base.tensor import AxisField, Tensor
from cnncalc.kinds.fields import LayerSchema


class LayerError(Exception):
    """The layer cannot be computed (impossible shape, wrong input); no output shape exists."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class RuleContext:
    """What a rule may report besides its result: problems that still leave an output shape, and warnings."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def error(self, message: str, hint: str = "") -> None:
        self.errors.append((message, hint))

    def warning(self, message: str, hint: str = "") -> None:
        self.warnings.append((message, hint))


@dataclass
class LayerResult:
    """What a rule computes for one layer.

    `field` is the receptive field shown for this layer's row when it differs from the output tensor's
    (a patch embedding outputs tokens, yet its units have a field); `global_field` marks rows whose units
    see the whole input (global pooling, attention); `geometry` is the resolved window of a kind that slides
    one (its kind record says which). `buffers` counts every buffer element; `index_buffers` is the part of
    them that are int64 index tables (Swin's relative_position_index), which take 8 bytes each whatever the
    model's dtype; the rest are running statistics (BatchNorm's mean and variance).
    """

    output: Tensor
    params: int = 0
    buffers: int = 0
    index_buffers: int = 0  # of `buffers`: int64 index tables
    macs: int = 0
    field: tuple[AxisField, ...] | None = None
    global_field: bool = False
    geometry: Geometry | None = None
    notes: list[str] = dataclass_field(default_factory=list)


Rule = Callable[[Any, list[Tensor], RuleContext], LayerResult]


@dataclass(frozen=True)
class LayerKind:
    """Everything cnncalc knows about one layer kind, in one record; every other module reads its facts here.

    family:     what the kind is (convolution, pooling, activation, ...), for listings and for the rules of
                other tools that treat a family alike.
    does_work:  whether it computes anything from its inputs' values. A kind that only routes, reshapes or
                passes data on (flatten, concat, dropout at inference) counts zero in every tool's convention.
    window:     the sliding window its rule resolves into `LayerResult.geometry` (None: it slides none).
    pytorch_module: whether PyTorch code writes it as an nn.Module (False: as tensor code, `a + b`,
                `x.mean()`, a bare parameter), which no counting tool's module hook or patched function sees.
    ranked:     a rank-free kind that PyTorch names by rank (`conv` on a 2-d input is an nn.Conv2d).
    aliases:    other names the inline stack syntax of `cnncalc calc stack` accepts for it (`dw`, `tconv`).
    """

    name: str
    schema: type[LayerSchema]
    rule: Rule
    min_inputs: int
    max_inputs: int | None  # None: any number
    summary: str
    family: str
    does_work: bool = True
    window: Window | None = None
    pytorch_module: bool = True
    ranked: bool = False
    aliases: tuple[str, ...] = ()

    def pytorch_name(self, spatial_rank: int) -> str:
        """`conv` on 2 spatial axes is conv2d (a (batch, channels) input counts as 1-d, as for BatchNorm1d); a
        kind that names its rank itself keeps its name."""
        return f"{self.name}{min(max(spatial_rank, 1), 3)}d" if self.ranked else self.name


REGISTRY: dict[str, LayerKind] = {}


def layer_kind(
    name: str,
    schema: type[LayerSchema],
    *,
    family: str,
    summary: str = "",
    inputs: int | tuple[int, int | None] = 1,
    does_work: bool = True,
    window: Window | None = None,
    pytorch_module: bool = True,
    ranked: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[Rule], Rule]:
    """Register `rule` as the engine rule of layer kind `name`; a kind can be registered only once."""
    min_inputs, max_inputs = (inputs, inputs) if isinstance(inputs, int) else inputs

    def register(rule: Rule) -> Rule:
        if name in REGISTRY:
            raise RuntimeError(f"layer kind {name!r} is registered twice")
        REGISTRY[name] = LayerKind(
            name,
            schema,
            rule,
            min_inputs,
            max_inputs,
            summary,
            family,
            does_work,
            window,
            pytorch_module,
            ranked,
            aliases,
        )
        return rule

    return register


def ranked_kinds(
    name: str,
    schema: type[LayerSchema],
    rule_for: Callable[[str, int | None], Rule],
    *,
    family: str,
    summary: str,
    torch_name: str,
    window: Window | None = None,
    aliases: tuple[str, ...] = (),
) -> None:
    """Register a kind in PyTorch's four spellings: rank-free `name` (its rank from the input, named like
    PyTorch's for the rank: `conv` on 2 axes is conv2d) and `name1d`..`name3d` (torch.nn.<torch_name>1d...).
    `rule_for(kind name, rank or None)` makes each spelling's rule."""
    layer_kind(name, schema, family=family, summary=summary, window=window, ranked=True, aliases=aliases)(
        rule_for(name, None)
    )
    for rank in (1, 2, 3):
        ranked = f"{name}{rank}d"
        layer_kind(ranked, schema, family=family, summary=f"torch.nn.{torch_name}{rank}d.", window=window)(
            rule_for(ranked, rank)
        )


def image_result(
    tensor: Tensor, shape: tuple[int, ...], field: tuple[AxisField, ...] | None, **counts: Any
) -> LayerResult:
    """The result of a layer whose output is again an image (batch, channels, *spatial) with `tensor`'s axes."""
    return LayerResult(output=Tensor(shape, 1, tensor.spatial_axes, field, tensor.global_context), **counts)


def kinds_where(predicate: Callable[[LayerKind], bool]) -> frozenset[str]:
    """Names of the registered kinds a predicate holds for: how other modules get their sets of kinds."""
    return frozenset(name for name, kind in REGISTRY.items() if predicate(kind))
