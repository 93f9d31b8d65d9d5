"""`cnncalc.sweep`: the totals of one network across inputs, batches and spec variables, as `cnncalc sweep`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cnncalc.api.functions import _training_options
from cnncalc.api.sources import is_spec_source, load_source
from cnncalc.base.errors import UsageError


def sweep(
    source: str | os.PathLike[str] | Mapping[str, Any],
    input: str | None = None,
    batch: str | int | Sequence[int] | None = None,
    vars: Mapping[str, str | float | Sequence[float]] | None = None,  # the spec's own word, as in diff
    *,
    zip: bool = False,
    metrics: str | Iterable[str] | None = None,
    dtype: str | None = None,
    mode: str = "infer",
    optimizer: str = "adamw",
    freeze: str | Iterable[str] | None = None,
    checkpoint: str | Iterable[str] | None = None,
    precision: str = "fp32",
    device: str = "cpu",
) -> dict[str, Any]:
    """The totals at every point of a grid, each what `analyze` gives there, as `cnncalc sweep --format json`.

    - `source`: a spec, as `analyze` takes it (a path, a bundled name, YAML text, a mapping).
    - `input`: channels x sizes with lists in braces, as `--input`: `"3x{128..512..64}"`, `"3x{224,320}"`.
    - `batch`: `"1,8,32"`, `"1..64..8"`, one int, or a sequence of ints.
    - `vars`: top-level spec variables and their values: `{"base": [16, 32, 64]}` or `{"width": "0.5..1..0.25"}`.
    - `zip`: the lists side by side (all of one length) instead of every combination.
    - `metrics`: the totals to give (names of `analyze`'s JSON totals; default params, macs, flops,
      peak_activation_bytes, or with `mode="train"` params, flops, training_flops, training_peak_bytes).
    - `dtype`, `mode`, `optimizer`, `freeze`, `checkpoint`, `precision`, `device`: as in `analyze`.

    Returns the JSON document: `{name, file, mode, combination, parameters, metrics, points: [{input_shape,
    batch, vars, parameters, totals}]}`. Raises `UsageError` for an argument that cannot be used and
    `SpecError` for an invalid spec, or for a point the network cannot be analysed at (its note names it).
    """
    from cnncalc.language.variables import VariableSettingError, check_variable
    from cnncalc.sweeps.grid import GridError, build_grid
    from cnncalc.sweeps.output import point_text, sweep_document
    from cnncalc.sweeps.run import (
        PointFailed,
        TrainingProblem,
        chosen_metrics,
        network_name,
        run_sweep,
        spatial_rank,
    )

    if not is_spec_source(source):
        raise TypeError(f"source must be a spec (a path, a bundled name, YAML text or a mapping), not {type(source)}")
    options = _training_options(mode, optimizer, freeze, checkpoint, precision, device)
    chosen = chosen_metrics(
        None if metrics is None else metrics.split(",") if isinstance(metrics, str) else list(metrics),
        options is not None,
        "metrics",
    )
    loaded = load_source(source)
    settings: list[tuple[str, str]] = []
    for name, values in (vars or {}).items():
        try:
            check_variable(name, loaded.data, "vars")
        except VariableSettingError as error:
            raise UsageError(error.message, error.hint) from None
        settings.append((name, _listed(values)))
    try:
        grid = build_grid(input, None if batch is None else _listed(batch), settings, spatial_rank(loaded.data), zip)
        rows = run_sweep(loaded, grid.points, dtype, options)
    except GridError as error:
        raise UsageError(error.message, error.hint) from None
    except PointFailed as failed:
        failed.error.add_note(f"the network cannot be analysed at {point_text(failed.point)}")
        raise failed.error from None
    except TrainingProblem as problem:
        raise UsageError(f"at {point_text(problem.point)}: {problem.message}", problem.hint) from None
    return sweep_document(network_name(loaded), loaded.source.file, grid, rows, chosen, mode)


def _listed(values: object) -> str:
    """A value or a list of values as the command line writes them (`1,8,32`; a string as it is)."""
    if isinstance(values, str):
        return values
    if isinstance(values, int | float):
        return str(values)
    if isinstance(values, Sequence):
        return ",".join(str(value) for value in values)
    raise UsageError(f"expected a number, a list of numbers or a string, not {type(values).__name__}")
