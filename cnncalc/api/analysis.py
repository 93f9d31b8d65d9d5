"""`Analysis`: what the Python API returns. Typed and frozen data whose attributes are the keys of
`cnncalc analyze --format json`, and which draws itself as the command line does (terminal, rich, notebooks)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cnncalc.base.errors import SpecIssue
from cnncalc.base.tensor import AxisField
from cnncalc.engine.result import AnalysisResult
from cnncalc.render.machine import totals_dict
from cnncalc.render.view import DisplayRow, axis_names

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from cnncalc.conventions import NetworkCount
    from cnncalc.training import TrainingResult


@dataclass(frozen=True, slots=True)
class FieldAxis:
    """The receptive field along one spatial axis, in input pixels (the `receptive_field` entries of the JSON).

    - `axis`: `"H"`, `"W"` (2-d), `"L"` (1-d) or `"D"`, `"H"`, `"W"` (3-d);
    - `size`: how many input pixels one unit sees, from its first to its last; where units see different
      counts (after upsampling), the largest;
    - `size_min`: the fewest input pixels any unit sees (`size` unless units differ);
    - `period`: after how many units the fields repeat (1: every unit sees `size` pixels);
    - `jump`: the distance in input pixels between neighbouring units (effective stride);
    - `start`: effective padding: unit 0's field begins at input pixel `-start` (and ends at `-start + size - 1`
      when `period` is 1);
    - `exact`: False only where the fields repeat over more units than cnncalc tracks (4096, e.g. after a
      chain of upsamplings by 1.5): `size` is then an average over units, `size_min` and `period` None.

    After upsampling `jump` may be a fraction (and `start` one where `exact` is False): it is then a
    `fractions.Fraction`, exact (the JSON writes it as a float).
    """

    axis: str
    size: int | Fraction
    jump: int | Fraction
    start: int | Fraction
    exact: bool
    size_min: int | Fraction | None
    period: int | None


@dataclass(frozen=True, slots=True)
class Layer:
    """One row of the per-layer table (a layer, or with `depth` a block collapsed into one row): the entries of
    the JSON's `layers` list, under the same names.

    - `name`: the layer's path in the spec (`layer3.2.conv2`); `type`: its kind (`conv2d`), or for a collapsed
      block the block's name or kind;
    - `depth`: how deep the path is nested (`layer3.2.conv2`: 3); `layers`: how many layers the row stands
      for (1 unless collapsed);
    - `input_shapes` (one shape per input), `output_shape`: with the batch axis first;
    - `params`, `trainable_params`, `buffers`, `macs`, `flops` (2 x MACs), `activation_bytes` (its output's
      bytes at the analysed dtype): whole batch, summed over a collapsed block; `buffers` =
      `running_stat_buffers` (BatchNorm's) + `index_buffers` (int64 index tables: Swin's
      relative_position_index);
    - `receptive_field`: one `FieldAxis` per spatial axis, or None where the output has no spatial axes or
      every unit sees the whole input (`global_receptive_field` is then True);
    - `functional`: the model runs it as a function call in `forward` (`F.relu(x)`), not as a module (a
      collapsed block: every layer in it is one).
    """

    name: str
    type: str
    depth: int
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: tuple[FieldAxis, ...] | None
    global_receptive_field: bool
    layers: int
    functional: bool = False
    running_stat_buffers: int = 0
    index_buffers: int = 0
    backward_flops: int | None = None  # with mode="train"
    saved_activation_bytes: int | None = None  # with mode="train"
    recompute_flops: int | None = None  # with mode="train": its forward again, in a checkpointed block
    saved_weight_copy_bytes: int | None = None  # with mode="train": autocast's weight copies it keeps


@dataclass(frozen=True, slots=True)
class TrainingTotals:
    """The totals of one training step (`mode="train"`), for the whole batch: the keys `--mode train` adds to
    the JSON's `totals`, under the same names.

    - `optimizer`; `backward_flops` (input and weight gradients of convolutions, linear layers and matmuls;
      `torch_backward_flops` is what `FlopCounterMode` counts for it), `recompute_flops` (the forwards of
      checkpointed blocks run again in the backward) and `training_flops` = forward + backward + recompute;
    - `gradient_bytes` (one per trainable parameter), `optimizer_state_bytes` (none, one or two copies),
      `saved_activation_bytes` (what autograd keeps for the backward, each storage once),
      `saved_weight_copy_bytes` (under mixed precision, `precision`, the half-precision weight copies autocast
      keeps for the backward),
      `backward_transient_bytes` (the largest transient of the backward), `recomputed_activation_bytes` (the
      largest checkpointed block's own saved tensors, alive during its backward) and `training_peak_bytes`,
      their sum with the parameters and buffers.
    """

    optimizer: str
    precision: str
    backward_flops: int
    torch_backward_flops: int
    training_flops: int
    recompute_flops: int
    gradient_bytes: int
    optimizer_state_bytes: int
    saved_activation_bytes: int
    saved_weight_copy_bytes: int
    backward_transient_bytes: int
    recomputed_activation_bytes: int
    training_peak_bytes: int


@dataclass(frozen=True, slots=True)
class Totals:
    """The network's totals, for the whole batch: the JSON's `totals`, under the same names.

    - `params` = `trainable_params` + `non_trainable_params` (layers marked `frozen`); `buffers` =
      `running_stat_buffers` (BatchNorm's) + `index_buffers` (int64 index tables), never counted as parameters;
    - `macs`, `flops` (2 x MACs), and per sample `macs_per_sample`, `flops_per_sample`;
    - `param_bytes`, `buffer_bytes` at the analysed dtype (index buffers at 8 bytes, as int64);
      `activation_bytes` (every layer's output, summed) and `peak_activation_bytes` (the most live at once
      during inference);
    - the headline of the counting convention asked for (`convention=`): `convention` (its name, `"cnncalc"`
      by default), `headline` (that tool's number; None where the tool cannot count the network, with
      `headline_failure` saying why), `headline_unit` (`"MACs"` or `"FLOPs"`: what the number really counts)
      and `headline_label` (what the tool calls it; None without `convention=`). Without `convention=`,
      `headline` is `macs`.
    """

    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    running_stat_buffers: int
    index_buffers: int
    macs: int
    flops: int
    macs_per_sample: int
    flops_per_sample: int
    param_bytes: int
    buffer_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    convention: str
    headline: int | None
    headline_unit: str
    headline_label: str | None = None
    headline_failure: str | None = None


class _Drawing:
    """What the result is drawn from: the engine's result, the rows shown, the headline and the columns."""

    __slots__ = ("columns", "headline", "result", "rows", "training")

    def __init__(
        self,
        result: AnalysisResult,
        rows: tuple[DisplayRow, ...],
        headline: NetworkCount | None,
        columns: tuple[str, ...] | None,
        training: TrainingResult | None = None,
    ) -> None:
        self.result = result
        self.rows = rows
        self.headline = headline
        self.columns = columns
        self.training = training

    def __deepcopy__(self, memo: dict[int, Any]) -> _Drawing:
        return self  # immutable in use: `copy.deepcopy` of a result need not copy a whole network


@dataclass(frozen=True)
class Uncounted:
    """An operation an imported spec keeps with its traced shape but whose work it does not count."""

    layer: str
    op: str


@dataclass(frozen=True, repr=False)
class Analysis:
    """The analysis of one network, as `cnncalc.analyze` and `cnncalc.summary` return it: typed, frozen data
    whose attributes are the keys of `cnncalc analyze --format json`, under the same names.

    - `name`, `file`: the spec's name and where it came from (a path, `<spec>` for YAML text, `<data>` for a
      mapping, the importer's label for a module);
    - `input_shape`, `output_shape` (batch axis first), `batch`, `dtype`;
    - `totals`: a `Totals`; `layers`: a tuple of `Layer`, one per row of the table (collapsed to `depth`);
    - `receptive_field`: one `FieldAxis` per spatial axis, of the deepest spatial feature map (None when the
      network has none), and `receptive_field_layer`: the layer it belongs to;
    - `uncounted`: the operations an imported spec carries without counting their work (`import
      --allow-uncounted`), one `Uncounted` (layer path, PyTorch operation) each; empty for a complete spec;
    - `warnings`: a tuple of `SpecIssue` (e.g. paths that are not aligned where they merge), each located;
    - `convention`: how cnncalc counts, in words (the convention asked for with `convention=` is
      `totals.convention`).

    It shows itself as the command line does: `print(result)` prints the table as into a file (plain text,
    every column), `rich.print(result)` draws it as on a terminal (fitted to the console's width, with colour
    and box drawing unless the console has none), and notebooks show it as HTML (`_repr_html_`) or Markdown
    (`_repr_markdown_`). `to_dict()` gives the JSON document.
    """

    name: str
    file: str
    convention: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    batch: int
    dtype: str
    totals: Totals
    receptive_field: tuple[FieldAxis, ...] | None
    receptive_field_layer: str | None
    layers: tuple[Layer, ...]
    uncounted: tuple[Uncounted, ...]
    warnings: tuple[SpecIssue, ...]
    training: TrainingTotals | None = None  # with mode="train"
    if TYPE_CHECKING:  # not a field (not compared, not in `dataclasses.asdict`): what the result is drawn from
        _drawing: _Drawing

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `cnncalc analyze --format json` for the same spec and options, as Python data:
        `json.dumps(result.to_dict())` is what the command prints, key for key (with `depth=`, as `--depth`)."""
        from cnncalc.render.machine import to_dict

        drawing = self._drawing
        return to_dict(drawing.result, list(drawing.rows), drawing.headline, drawing.training)

    def __str__(self) -> str:
        """The table and totals as plain text, every column whole (what `cnncalc analyze` writes into a file,
        without its last line break: `print(result)` writes the same)."""
        return self._text(None, styled=False).removesuffix("\n")

    def _text(self, width: int | None, styled: bool) -> str:
        """What `cnncalc analyze` prints for these options, at `width`, with colour and box drawing or plain."""
        from cnncalc.render.analysis_text import analysis_text

        drawing = self._drawing
        return analysis_text(
            drawing.result,
            drawing.rows,
            drawing.headline,
            drawing.columns,
            width=width,
            styled=styled,
            training=drawing.training,
        )

    def __repr__(self) -> str:
        totals = self.totals
        return (
            f"<cnncalc.Analysis {self.name}: input {_shape(self.input_shape)}, {totals.params:,} params, "
            f"{totals.macs:,} MACs, {len(self.layers)} rows; print() it for the table>"
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The table as the command line draws it on a terminal as wide as the console: with colour and box
        drawing, or plain where the console has no colour (into a file, `NO_COLOR`)."""
        from rich.text import Text

        styled = console.color_system is not None and not console.no_color
        yield Text.from_ansi(self._text(options.max_width, styled).rstrip("\n"), no_wrap=True)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython shows the table (as `print`)."""
        printer.text(repr(self) if cycle else str(self))

    def _repr_html_(self) -> str:
        """The table, the totals and the warnings as HTML, for notebooks."""
        from cnncalc.render.notebook import analysis_html

        drawing = self._drawing
        return analysis_html(drawing.result, drawing.rows, drawing.headline, drawing.columns)

    def _repr_markdown_(self) -> str:
        """What `cnncalc analyze --format markdown` prints."""
        from cnncalc.render.machine import render_markdown

        drawing = self._drawing
        return render_markdown(drawing.result, list(drawing.rows), drawing.headline, drawing.columns, drawing.training)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in shape)


def _field(field: tuple[AxisField, ...] | None) -> tuple[FieldAxis, ...] | None:
    if field is None:
        return None
    return tuple(
        FieldAxis(name, axis.size, axis.jump, axis.start, axis.exact, axis.size_min, axis.period)
        for name, axis in zip(axis_names(len(field)), field, strict=True)
    )


def _layer(row: DisplayRow) -> Layer:
    return Layer(
        name=row.name,
        type=row.kind,
        depth=row.depth,
        input_shapes=row.input_shapes,
        output_shape=row.output_shape,
        params=row.params,
        trainable_params=row.trainable_params,
        buffers=row.buffers,
        macs=row.macs,
        flops=row.flops,
        activation_bytes=row.activation_bytes,
        receptive_field=None if row.global_field else _field(row.field),
        global_receptive_field=row.global_field,
        layers=row.layers,
        functional=row.functional,
        running_stat_buffers=row.running_stat_buffers,
        index_buffers=row.index_buffers,
        backward_flops=row.backward_flops,
        saved_activation_bytes=row.saved_activation_bytes,
        saved_weight_copy_bytes=row.saved_weight_copy_bytes,
        recompute_flops=row.recompute_flops,
    )


def build_analysis(
    result: AnalysisResult,
    rows: list[DisplayRow],
    headline: NetworkCount | None = None,
    columns: tuple[str, ...] | None = None,
    training: TrainingResult | None = None,
) -> Analysis:
    """The API's result for the engine's `result`, shown as `rows`, with the headline of a convention (and a
    training step's figures with `training`)."""
    from cnncalc.render.machine import training_totals_dict

    analysis = Analysis(
        name=result.name,
        file=result.file,
        convention=result.convention,
        input_shape=result.input_shape,
        output_shape=result.output_shape,
        batch=result.totals.batch,
        dtype=result.dtype,
        totals=Totals(**totals_dict(result, headline)),
        receptive_field=_field(result.receptive_field),
        receptive_field_layer=result.receptive_field_layer,
        layers=tuple(_layer(row) for row in rows),
        uncounted=tuple(Uncounted(row.path, row.spec.op) for row in result.layers if row.kind == "uncounted"),
        warnings=result.warnings,
        training=TrainingTotals(**training_totals_dict(training)) if training else None,
    )
    object.__setattr__(
        analysis, "_drawing", _Drawing(result, tuple(rows), headline, columns, training)
    )  # frozen otherwise
    return analysis
