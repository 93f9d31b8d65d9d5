"""Running a sweep: the totals of one spec at every point of a grid, each equal to a fresh analysis there.

How it stays fast (and exact):

- one `ReusableNetwork` per assignment of the spec's variables (`--set`): the network is expanded once and, at
  other inputs, only its layer rules run again, memoised (cnncalc.engine.reuse says when it analyses afresh);
- the batch: inference totals are either the same at every batch (parameters, buffers) or proportional to it
  (MACs, activations, the peak: every tensor keeps the batch as axis 0). That is checked, not assumed: for
  each input and variables, the totals are computed at the smallest and the largest batch asked for, and the
  batches between are derived only if every figure is constant or exactly proportional between those two;
  otherwise every batch is computed. The two ends are where a batch can make the network fail (a batch of one
  refused by batch statistics; a tensor over the size limits), so a derived point is one that works.
- a training step (`--mode train`) is computed at every point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.base.errors import SpecError, UsageError
from cnncalc.engine.analysis import InputOverrides
from cnncalc.engine.reuse import ReusableNetwork
from cnncalc.language.variables import with_variables
from cnncalc.language.yaml_source import LoadedDocument
from cnncalc.render.machine import count_totals_dict, training_totals_dict
from cnncalc.sweeps.grid import Number, Point

if TYPE_CHECKING:
    from cnncalc.training import TrainingOptions

# The figures a sweep can show: the integer keys of `analyze --format json`'s totals, under the same names.
INFERENCE_METRICS = (
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "running_stat_buffers",
    "index_buffers",
    "macs",
    "flops",
    "macs_per_sample",
    "flops_per_sample",
    "param_bytes",
    "buffer_bytes",
    "activation_bytes",
    "peak_activation_bytes",
)
TRAINING_METRICS = (  # with --mode train
    "backward_flops",
    "torch_backward_flops",
    "training_flops",
    "recompute_flops",
    "gradient_bytes",
    "optimizer_state_bytes",
    "saved_activation_bytes",
    "backward_transient_bytes",
    "recomputed_activation_bytes",
    "training_peak_bytes",
)
DEFAULT_METRICS = ("params", "macs", "flops", "peak_activation_bytes")
DEFAULT_TRAINING_METRICS = ("params", "flops", "training_flops", "training_peak_bytes")


class PointFailed(Exception):
    """The network cannot be analysed at one point of the sweep: the spec's errors there, and the point."""

    def __init__(self, point: Point, error: SpecError) -> None:
        super().__init__(str(error))
        self.point = point
        self.error = error


@dataclass(frozen=True)
class SweepRow:
    """The figures at one point, as analysed: input shape batch first, batch, the variables set, the totals."""

    point: Point
    input_shape: tuple[int, ...]
    batch: int
    totals: dict[str, int]


@dataclass
class SweepStats:
    """How the figures were obtained (for the benchmark and the tests: reuse must really happen)."""

    computed: int = 0  # points whose totals were computed (by rules re-run, or afresh)
    derived: int = 0  # points whose totals were derived from two batches
    fresh_analyses: int = 0  # analyses from scratch (a reference expansion each, or where reuse is not safe)


def run_sweep(
    loaded: LoadedDocument,
    points: tuple[Point, ...],
    dtype: str | None,
    training: TrainingOptions | None = None,
    stats: SweepStats | None = None,
) -> list[SweepRow]:
    """The totals at every point, in order. `training` (a TrainingOptions) adds a training step's totals at
    each point. Raises PointFailed at the first point the network cannot be analysed at."""
    stats = stats if stats is not None else SweepStats()
    networks: dict[tuple[tuple[str, Number], ...], ReusableNetwork] = {}
    rows: dict[int, SweepRow] = {}
    # points by (variables, input shape): the batches asked for there, each with its points
    groups: dict[tuple[Any, ...], dict[int | None, list[int]]] = {}
    for position, point in enumerate(points):
        groups.setdefault((point.variables, point.shape), {}).setdefault(point.batch, []).append(position)
    for (variables, shape), batches in groups.items():
        network = networks.get(variables)
        if network is None:
            network = networks[variables] = ReusableNetwork(with_variables(loaded, variables))
        first = points[next(iter(batches.values()))[0]]
        if training is not None:
            for batch, positions in batches.items():
                row = _training_row(network, points[positions[0]], shape, batch, dtype, training)
                stats.computed += 1
                for position in positions:
                    rows[position] = SweepRow(points[position], row.input_shape, row.batch, row.totals)
            continue
        computed = _inference_rows(network, first, shape, sorted(batches, key=_batch_order), dtype, stats)
        for batch, positions in batches.items():
            row = computed[batch]
            for position in positions:
                rows[position] = SweepRow(points[position], row.input_shape, row.batch, row.totals)
    stats.fresh_analyses = sum(network.fresh_analyses for network in networks.values())
    return [rows[position] for position in range(len(points))]


def _batch_order(batch: int | None) -> int:
    return 0 if batch is None else batch


def _analysed(
    network: ReusableNetwork, point: Point, shape: tuple[int, ...] | None, batch: int | None, dtype: str | None
) -> tuple[tuple[int, ...], dict[str, int]]:
    """(input shape batch first, totals) at one configuration."""
    try:
        input_shape, totals = network.totals_at(InputOverrides(shape, batch, dtype))
    except SpecError as error:
        raise PointFailed(point, error) from None
    return input_shape, count_totals_dict(totals)


def _inference_rows(
    network: ReusableNetwork,
    point: Point,
    shape: tuple[int, ...] | None,
    batches: list[int | None],
    dtype: str | None,
    stats: SweepStats,
) -> dict[int | None, SweepRow]:
    """The rows at one input for every batch asked for: computed at the ends, derived between where the
    figures are constant or proportional to the batch (checked), else computed."""
    rows: dict[int | None, SweepRow] = {}

    def compute(batch: int | None) -> SweepRow:
        input_shape, totals = _analysed(network, point, shape, batch, dtype)
        stats.computed += 1
        rows[batch] = SweepRow(point, input_shape, input_shape[0], totals)
        return rows[batch]

    low = compute(batches[0])
    if len(batches) == 1:
        return rows
    high = compute(batches[-1])
    middle = batches[1:-1]
    if _proportional(low, high):
        for batch in middle:
            assert batch is not None  # None (the spec's batch) sorts first: the low end, computed
            rows[batch] = SweepRow(point, (batch, *low.input_shape[1:]), batch, _scaled(low, high, batch))
            stats.derived += 1
    else:
        for batch in middle:
            compute(batch)
    return rows


def _proportional(low: SweepRow, high: SweepRow) -> bool:
    """Whether every figure is the same at both batches or in their exact ratio (and a whole number per
    sample), with the input the same but for its batch."""
    if low.input_shape[1:] != high.input_shape[1:] or low.batch == high.batch:
        return False
    for key, value in low.totals.items():
        other = high.totals[key]
        constant = value == other
        proportional = value * high.batch == other * low.batch and value % low.batch == 0
        if not (constant or proportional):
            return False
    return True


def _scaled(low: SweepRow, high: SweepRow, batch: int) -> dict[str, int]:
    """The figures at `batch`, from two batches where each was found constant or exactly proportional."""
    return {
        key: value if value == high.totals[key] else value // low.batch * batch for key, value in low.totals.items()
    }


def _training_row(
    network: ReusableNetwork,
    point: Point,
    shape: tuple[int, ...] | None,
    batch: int | None,
    dtype: str | None,
    options: TrainingOptions,
) -> SweepRow:
    from cnncalc.training import TrainingRefused, analyze_training, training_problem

    try:
        result = network.result_at(InputOverrides(shape, batch, dtype))
    except SpecError as error:
        raise PointFailed(point, error) from None
    problem = training_problem(result, options.freeze, options.checkpoint)
    if problem is not None:  # a --freeze or --checkpoint path the network does not have: a usage error
        raise TrainingProblem(point, *problem, usage=True)
    try:
        training = analyze_training(result, options)
    except TrainingRefused as refused:
        raise TrainingProblem(point, refused.message, refused.hint, usage=False) from None
    totals = count_totals_dict(result.totals)
    extra = training_totals_dict(training)
    totals.update({key: value for key, value in extra.items() if key in TRAINING_METRICS})
    return SweepRow(point, result.input_shape, result.input_shape[0], totals)


class TrainingProblem(Exception):
    """A training step cannot be estimated at a point (a --freeze path that does not exist, say)."""

    def __init__(self, point: Point, message: str, hint: str, usage: bool) -> None:
        super().__init__(message)
        self.point = point
        self.message = message
        self.hint = hint
        self.usage = usage  # the options' fault (exit 2), else the network's (exit 1)


def chosen_metrics(names: Sequence[str] | None, training: bool, option: str = "--metrics") -> tuple[str, ...]:
    """The figures asked for (the defaults for None), checked: each a total of `analyze`'s JSON, a training
    step's only with one (UsageError naming the figure as `option` does)."""
    from cnncalc.language.pydantic_errors import did_you_mean

    if names is None:
        return DEFAULT_TRAINING_METRICS if training else DEFAULT_METRICS
    names = tuple(name.strip() for name in names if name.strip())
    if not names:
        raise UsageError(f"{option} names no figure", f"e.g. {option} {','.join(DEFAULT_METRICS)}")
    known = (*INFERENCE_METRICS, *TRAINING_METRICS)
    for name in names:
        if name in TRAINING_METRICS and not training:
            train = "add --mode train" if option.startswith("--") else "add mode='train'"
            raise UsageError(f"{option} {name} is a figure of a training step", train)
        if name not in known:
            raise UsageError(
                f"{option}: unknown figure {name!r}", did_you_mean(name, known) or f"one of: {', '.join(known)}"
            )
    return tuple(dict.fromkeys(names))


def spatial_rank(data: Any) -> int:
    """How many spatial axes the spec's input has (2 where its input section cannot say: its errors come later)."""
    section = data.get("input") if isinstance(data, dict) else None
    shape = section.get("shape") if isinstance(section, dict) else None
    return len(shape) - 1 if isinstance(shape, list) and 2 <= len(shape) <= 4 else 2


def network_name(loaded: LoadedDocument) -> str:
    data = loaded.data
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else Path(loaded.source.file).stem
