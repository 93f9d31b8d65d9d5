"""`cnncalc.fit`: the largest batch, or square input, whose memory estimate fits a budget, as `cnncalc fit`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cnncalc.api.functions import _batch, _dtype, _spec_name, _spec_rank, _training_options
from cnncalc.api.modules import is_module
from cnncalc.api.shapes import read_input
from cnncalc.api.sources import is_spec_source, load_source
from cnncalc.base.errors import UsageError
from cnncalc.training import TrainingOptions
from cnncalc.training.fit import FitProblem, FitResult, fit_memory, parse_memory

if TYPE_CHECKING:
    import torch


def fit(
    source: str | os.PathLike[str] | Mapping[str, Any],
    memory: str | int,
    *,
    mode: str = "train",
    solve: str = "batch",
    optimizer: str = "adamw",
    freeze: str | Iterable[str] | None = None,
    checkpoint: str | Iterable[str] | None = None,
    precision: str = "fp32",
    device: str = "cpu",
    input: str | Sequence[int] | None = None,
    batch: int | None = None,
    dtype: str | torch.dtype | None = None,
) -> FitResult:
    """The largest batch (`solve="batch"`) or square input side (`solve="resolution"`, in steps of the
    network's total stride) whose peak memory estimate fits in `memory`, as `cnncalc fit`.

    - `source`: a spec, as `analyze` takes it (a path, a bundled name, YAML text, a mapping); for a
      `torch.nn.Module`, write its spec with `to_spec` first.
    - `memory`: bytes (an int), or a size such as `"24GiB"`, `"24GB"`, `"24000MiB"`.
    - `solve`: `"batch"` (default) or `"resolution"`: what grows until the budget is spent.
    - `mode`: `"train"` (default: `training_peak_bytes`, as `analyze(mode="train")`) or `"infer"` (parameters +
      buffers + peak live activations); `optimizer`, `freeze`, `checkpoint`, `precision`, `device`: of the
      training step, as in `analyze`.
    - `input`: with `solve="batch"`, the input to solve at (one sample, as in `analyze`); `batch`: with
      `solve="resolution"`, the batch to solve at. `dtype`: as in `analyze`.

    Returns a `FitResult`: `answer` (None when nothing fits), `at` and `beyond` (the estimate at the answer and
    one step beyond, each with its `components` and `peak_bytes`), `step`, `formula`, `evaluations`.

    Raises `UsageError` for an argument that cannot be used (a memory that is not a size) or a question with no
    exact answer for this network, `SpecError` for an invalid spec.
    """
    if is_module(source):
        raise UsageError("fit takes a spec, not a module", "write its spec with cnncalc.to_spec(model, input) first")
    if not is_spec_source(source):
        raise TypeError(f"source must be a spec (a path, a bundled name, YAML text or a mapping), not {type(source)}")
    budget = _memory(memory)
    options = _training_options(mode, optimizer, freeze, checkpoint, precision, device) or TrainingOptions()
    if solve == "batch" and batch is not None:
        raise UsageError("batch is what solve='batch' finds", "drop batch, or use solve='resolution'")
    if solve == "resolution" and input is not None:
        raise UsageError("input sets the sizes solve='resolution' finds", "drop input, or use solve='batch'")
    loaded = load_source(source)
    sample = None
    batch = _batch(batch)
    if input is not None:
        shape = read_input(input, _spec_rank(loaded), "input", _spec_name(loaded))
        sample = shape.sample
        if shape.batch is not None:
            raise UsageError(
                "input: give one sample (the batch is what solve='batch' finds)", "e.g. input=(3, 512, 512)"
            )
    try:
        return fit_memory(
            loaded, budget, mode=str(mode), solve=str(solve), options=options, sample=sample, batch=batch,
            dtype=_dtype(dtype),
        )  # fmt: skip
    except FitProblem as problem:
        raise UsageError(problem.message, problem.hint) from None


def _memory(memory: object) -> int:
    if isinstance(memory, bool) or not isinstance(memory, int | str):
        raise UsageError(f"memory must be bytes (an int) or a size such as '24GiB', not {memory!r}")
    if isinstance(memory, int):
        if memory < 1:
            raise UsageError(f"memory={memory} is no memory at all", "give bytes, or a size such as '24GiB'")
        return memory
    return parse_memory(memory)
