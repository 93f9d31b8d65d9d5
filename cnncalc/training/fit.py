"""`fit`: the largest batch, or the largest square input, whose memory estimate fits a budget. Exact integers.

Memory at batch b (train: `training_peak_bytes`; infer: parameters + buffers + peak live activations) is
affine in b for b >= 2: parameters, buffers, gradients and optimizer state do not depend on b, and every
activation, saved tensor and gradient holds b samples (BatchNorm's saved per-channel statistics are constant).
Batch 1 may differ: PyTorch treats a tensor whose batch axis has one element as contiguous whatever its
strides, so a layer that copies a permuted input at b >= 2 need not at b = 1 (Swin's window attention). The
solver therefore evaluates the engine at batches 1, 2 and 3, solves the line through 2 and 3 for the budget,
and checks its answer and the next batch with the engine itself; where the line does not hold there, it falls
back to a binary search over exact evaluations, so an answer is never taken from the formula alone.

Memory is not affine in the input size; it grows with it (every shape grows with the input), so the largest
side is found by doubling, then bisecting, over multiples of the network's total stride, each an exact
evaluation (at most about 4 x 31 of them). Every evaluated size is checked to cost no less than the smaller
ones; where one does not, the search stops with an error rather than answer from a wrong assumption.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from math import lcm

from cnncalc.base import limits
from cnncalc.base.errors import SpecError, UsageError
from cnncalc.engine.analysis import InputOverrides, analyze_loaded
from cnncalc.engine.result import AnalysisResult
from cnncalc.language.yaml_source import LoadedDocument
from cnncalc.training.network import TrainingOptions, TrainingRefused, analyze_training, training_problem

MODES = ("train", "infer")
SOLVES = ("batch", "resolution")

# Decimal units are powers of 1000 and binary ones powers of 1024, as the IEC prefixes say.
MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*")
MEMORY_HINT = "a size such as 24GiB, 24GB, 24000MiB or plain bytes (25769803776)"


def parse_memory(text: str) -> int:
    """'24GiB' -> 25769803776: a number (decimals allowed where they make whole bytes) and an optional unit
    (B, KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; any case)."""
    match = _MEMORY.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in MEMORY_UNITS:
        known = unit and unit not in MEMORY_UNITS
        raise UsageError(
            f"memory {text!r} is not a size" + (f": unknown unit {match.group(2)!r}" if match and known else ""),
            MEMORY_HINT,
        )
    value = Fraction(match.group(1)) * MEMORY_UNITS[unit]
    if value.denominator != 1:
        raise UsageError(f"memory {text!r} is not a whole number of bytes ({float(value)} B)", MEMORY_HINT)
    if value < 1:
        raise UsageError(f"memory {text!r} is no memory at all", MEMORY_HINT)
    return int(value)


@dataclass(frozen=True, slots=True)
class MemoryPoint:
    """The estimate at one batch and input: its components and their sum, `peak_bytes`, all exact bytes.

    Components, train: `param_bytes` (parameters and buffers), `gradient_bytes`, `optimizer_state_bytes`,
    `saved_activation_bytes` (and `saved_weight_copy_bytes` under mixed precision), `backward_transient_bytes`
    (and `recomputed_activation_bytes` with checkpointing); infer: `param_bytes`, `buffer_bytes`,
    `peak_activation_bytes`."""

    batch: int
    input_shape: tuple[int, ...]  # batch first
    components: tuple[tuple[str, int], ...]
    peak_bytes: int

    def component(self, name: str) -> int:
        return dict(self.components)[name]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A batch or input the network cannot run at (the engine or the training rules refuse it), and why."""

    batch: int
    input_shape: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class AffineMemory:
    """peak(b) = intercept + slope * b for every batch b >= `from_batch` (the line the batch solver used)."""

    intercept: int
    slope: int
    from_batch: int

    def at(self, batch: int) -> int:
        return self.intercept + self.slope * batch


@dataclass(frozen=True, slots=True)
class FitResult:
    """What `cnncalc fit` answers.

    - `answer`: the largest batch (`solve="batch"`) or square input side (`solve="resolution"`) whose estimate
      is at most `memory_bytes`; None when not even the smallest one fits (`beyond` is then that one);
    - `at`: the estimate at the answer; `beyond`: at one step more (batch + 1, or side + `step`), a
      `Refusal` where the network cannot run there, None where the answer is cnncalc's largest dimension;
    - `step`: 1 for batches, the network's total stride for sides (see `total_stride`);
    - `formula`: for batches, the line memory follows from batch 2 on (None for sides);
    - `evaluations`: how many times the engine ran;
    - `smallest_refused`: where the search had to start above batch 1 or the smallest side, the largest one
      below it the network refuses, and why (None otherwise).
    """

    name: str
    mode: str
    solve: str
    memory_bytes: int
    optimizer: str | None
    precision: str | None
    freeze: tuple[str, ...]
    checkpoint: tuple[str, ...]
    step: int
    answer: int | None
    at: MemoryPoint | None
    beyond: MemoryPoint | Refusal | None
    formula: AffineMemory | None
    evaluations: int
    smallest_refused: Refusal | None = None

    @property
    def fits(self) -> bool:
        return self.answer is not None


class FitProblem(ValueError):
    """The question has no exact answer for this network (message, hint): the command exits with code 1."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def total_stride(result: AnalysisResult) -> int:
    """The network's total stride: the least common multiple of the whole-number jumps (effective strides, in
    input pixels) of its feature maps that have more than one unit along every spatial axis, over every axis,
    at the analysed input. Maps of one unit are left out: adaptive and global pooling give their single unit a
    jump of the whole map, not a stride; fractional jumps (after upsampling) divide the ones before them.
    ResNet-50: 32; ViT-B/16 and U-Net: 16; FCN-ResNet50 (dilated): 8."""
    jumps = [
        int(axis.jump)
        for row in result.layers
        if row.field is not None and not row.global_field and min(row.output_shape[-len(row.field) :]) > 1
        for axis in row.field
        if Fraction(axis.jump).denominator == 1
    ]
    return lcm(*jumps) if jumps else 1


Evaluation = MemoryPoint | Refusal


class _Evaluator:
    """The estimate at a batch and sample shape, by running the engine (and the training rules); counted."""

    def __init__(self, loaded: LoadedDocument, mode: str, options: TrainingOptions, dtype: str | None) -> None:
        self.loaded, self.mode, self.options, self.dtype = loaded, mode, options, dtype
        self.count = 0

    def __call__(self, batch: int, sample: tuple[int, ...] | None) -> Evaluation:
        self.count += 1
        shape = (batch, *sample) if sample else (batch,)
        try:
            result = analyze_loaded(self.loaded, InputOverrides(sample, batch, self.dtype))
        except SpecError as error:
            return Refusal(batch, shape, error.issues[0].message if error.issues else str(error))
        shape = result.input_shape
        if self.mode == "infer":
            totals = result.totals
            components = (
                ("param_bytes", totals.param_bytes),
                ("buffer_bytes", totals.buffer_bytes),
                ("peak_activation_bytes", totals.peak_activation_bytes),
            )
            return MemoryPoint(batch, shape, components, sum(value for _, value in components))
        problem = training_problem(result, self.options.freeze, self.options.checkpoint)
        if problem is not None:
            raise UsageError(*problem)
        try:
            training = analyze_training(result, self.options).totals
        except TrainingRefused as refused:
            return Refusal(batch, shape, refused.message)
        components = (
            ("param_bytes", training.param_bytes),
            ("gradient_bytes", training.gradient_bytes),
            ("optimizer_state_bytes", training.optimizer_state_bytes),
            ("saved_activation_bytes", training.saved_activation_bytes),
        )
        if self.options.precision != "fp32":  # autocast's half-precision weights kept for the backward
            components += (("saved_weight_copy_bytes", training.saved_weight_copy_bytes),)
        components += (("backward_transient_bytes", training.backward_transient_bytes),)
        if self.options.checkpoint or training.recomputed_activation_bytes:
            # a checkpointed block's own saved tensors come back during its backward
            components += (("recomputed_activation_bytes", training.recomputed_activation_bytes),)
        if sum(value for _, value in components) != training.training_peak_bytes:
            raise AssertionError("the peak estimate is not the sum of its components")  # a bug, not a user error
        return MemoryPoint(batch, shape, components, training.training_peak_bytes)


def fit_memory(
    loaded: LoadedDocument,
    memory_bytes: int,
    *,
    mode: str = "train",
    solve: str = "batch",
    options: TrainingOptions | None = None,
    sample: tuple[int, ...] | None = None,
    batch: int | None = None,
    dtype: str | None = None,
) -> FitResult:
    """Solve for the largest batch (at `sample`, default the spec's input) or the largest square side (at
    `batch`, default the spec's) whose estimate fits `memory_bytes`. Raises `SpecError` for an invalid spec,
    `UsageError` for options the training rules cannot take, `FitProblem` where no exact answer exists."""
    if mode not in MODES:
        raise UsageError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    if solve not in SOLVES:
        raise UsageError(f"solve: expected one of {', '.join(SOLVES)}, got {solve!r}")
    options = options or TrainingOptions()
    base = analyze_loaded(loaded, InputOverrides(sample, batch, dtype))  # the spec as given: errors surface here
    if mode == "train":
        problem = training_problem(base, options.freeze, options.checkpoint)
        if problem is not None:
            raise UsageError(*problem)
    evaluate = _Evaluator(loaded, mode, options, dtype)
    common = dict(
        name=base.name,
        mode=mode,
        solve=solve,
        memory_bytes=memory_bytes,
        optimizer=options.optimizer if mode == "train" else None,
        precision=options.precision if mode == "train" else None,
        freeze=options.freeze if mode == "train" else (),
        checkpoint=options.checkpoint if mode == "train" else (),
    )
    if solve == "batch":
        points: dict[int, Evaluation] = {}
        answer, at, beyond, formula = _solve_batch(lambda b: evaluate(b, base.input_shape[1:]), memory_bytes, points)
        return FitResult(**common, step=1, answer=answer, at=at, beyond=beyond, formula=formula,
                         evaluations=evaluate.count, smallest_refused=_below_smallest(points))  # fmt: skip
    if len(base.input_shape) < 3:
        raise FitProblem(f"{base.name} has no spatial axis to grow", "use --solve batch")
    step = total_stride(base)
    channels, rank, fixed_batch = base.input_shape[1], len(base.input_shape) - 2, base.input_shape[0]
    sides: dict[int, Evaluation] = {}
    side, at, beyond = _solve_side(
        lambda k: evaluate(fixed_batch, (channels, *(k * step,) * rank)), memory_bytes, step, sides
    )
    return FitResult(**common, step=step, answer=side, at=at, beyond=beyond, formula=None,
                     evaluations=evaluate.count, smallest_refused=_below_smallest(sides))  # fmt: skip


def _below_smallest(points: dict[int, Evaluation]) -> Refusal | None:
    """The largest refused point below the smallest the network takes, if the search met one."""
    taken = [key for key, point in points.items() if isinstance(point, MemoryPoint)]
    below = [key for key, point in points.items() if isinstance(point, Refusal) and (not taken or key < min(taken))]
    if not below:
        return None
    refusal = points[max(below)]
    assert isinstance(refusal, Refusal)
    return refusal


def _fits(point: Evaluation, memory_bytes: int) -> bool:
    return isinstance(point, MemoryPoint) and point.peak_bytes <= memory_bytes


def _solve_batch(
    evaluate: Callable[[int], Evaluation], memory_bytes: int, points: dict[int, Evaluation] | None = None
) -> tuple[int | None, MemoryPoint | None, Evaluation | None, AffineMemory | None]:
    """`points` collects every evaluation, by batch."""
    limit = limits.MAX_DIMENSION
    points = {} if points is None else points

    def at(batch: int) -> Evaluation:
        if batch not in points:
            points[batch] = evaluate(batch)
        return points[batch]

    # Batch 1 can be refused where 2 is not (BatchNorm's statistics over a single value per channel).
    first = 1 if isinstance(at(1), MemoryPoint) else 2
    start = at(first)
    if isinstance(start, Refusal):
        raise FitProblem(f"the network cannot run at batch 1 or 2: {start.reason}", "check the spec with analyze")
    if not _fits(start, memory_bytes):
        return None, None, start, _line(at)
    formula = _line(at)
    # The line's answer, then the engine's word on it and on the next batch.
    if formula is not None and formula.slope > 0:
        guess = max(first, min(limit, (memory_bytes - formula.intercept) // formula.slope))
    else:
        guess = limit
    good, bad = first, limit + 1  # good fits; bad does not (limit + 1: beyond what cnncalc takes)
    if _fits(at(guess), memory_bytes):
        good = guess
        if guess < limit and not _fits(at(guess + 1), memory_bytes):
            bad = guess + 1
    else:
        bad = guess
    while bad - good > 1:  # only where the line did not hold: bisect exact evaluations (at most 31)
        middle = (good + bad) // 2
        if _fits(at(middle), memory_bytes):
            good = middle
        else:
            bad = middle
    answer_point = at(good)
    assert isinstance(answer_point, MemoryPoint)
    return good, answer_point, at(bad) if bad <= limit else None, formula


def _line(at: Callable[[int], Evaluation]) -> AffineMemory | None:
    """The line through the estimates at batches 2 and 3 (None where either is refused)."""
    two, three = at(2), at(3)
    if not (isinstance(two, MemoryPoint) and isinstance(three, MemoryPoint)):
        return None
    slope = three.peak_bytes - two.peak_bytes
    return AffineMemory(two.peak_bytes - 2 * slope, slope, 2)


def _solve_side(
    evaluate: Callable[[int], Evaluation], memory_bytes: int, step: int, points: dict[int, Evaluation] | None = None
) -> tuple[int | None, MemoryPoint | None, Evaluation | None]:
    """The largest k with the estimate at side k * step within the budget, by doubling and bisection; sides
    the network refuses (too small for its kernels, or a size it cannot take) count as not fitting above the
    smallest side it takes."""
    limit = limits.MAX_DIMENSION // step
    points = {} if points is None else points

    def at(k: int) -> Evaluation:
        if k not in points:
            points[k] = evaluate(k)
        return points[k]

    smallest = 1  # the smallest side the network takes: too small a side is refused (kernels larger than the map)
    while isinstance(at(smallest), Refusal) and smallest * 2 <= limit:
        smallest *= 2
    if isinstance(at(smallest), Refusal):
        refusal = at(smallest)
        assert isinstance(refusal, Refusal)
        raise FitProblem(f"the network takes no square input in steps of {step}: {refusal.reason}", "use --solve batch")
    if smallest > 1:  # refusals end somewhere between smallest / 2 and smallest: find where
        low, high = smallest // 2, smallest
        while high - low > 1:
            middle = (low + high) // 2
            if isinstance(at(middle), Refusal):
                low = middle
            else:
                high = middle
        smallest = high
    if not _fits(at(smallest), memory_bytes):
        return None, None, at(smallest)
    good, bad = smallest, limit + 1
    probe = smallest
    while probe < limit:
        probe = min(limit, probe * 2)
        if _fits(at(probe), memory_bytes):
            good = probe
        else:
            bad = probe
            break
    while bad - good > 1:
        middle = (good + bad) // 2
        if _fits(at(middle), memory_bytes):
            good = middle
        else:
            bad = middle
    _check_growth(points, step)
    answer_point = at(good)
    assert isinstance(answer_point, MemoryPoint)
    beyond = at(bad) if bad <= limit else None
    return good * step, answer_point, beyond


def _check_growth(points: dict[int, Evaluation], step: int) -> None:
    """The bisection's answer is the largest only if memory grows with the side: check every evaluated side."""
    sides = sorted(k for k, point in points.items() if isinstance(point, MemoryPoint))
    for smaller, larger in pairwise(sides):
        low, high = points[smaller], points[larger]
        assert isinstance(low, MemoryPoint) and isinstance(high, MemoryPoint)
        if high.peak_bytes < low.peak_bytes:
            raise FitProblem(
                f"memory does not grow with the input here (side {larger * step}: {high.peak_bytes:,} B, "
                f"side {smaller * step}: {low.peak_bytes:,} B), so a search cannot promise the largest side",
                "analyze the sizes you need with --input",
            )
