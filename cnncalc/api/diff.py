"""`cnncalc.diff`: two networks, or one at two settings, compared as `cnncalc diff` compares them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cnncalc.api.analysis import Analysis, Layer
from cnncalc.api.functions import _analysis
from cnncalc.base.errors import UsageError
from cnncalc.compare.networks import NetworkDiff, Status, compare_networks

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LayerDiff:
    """One layer of the merged order: `status` ("added", "removed", "changed" or "unchanged"), the figures
    that differ (`changed`: "type", "output_shape", "params", "macs", "receptive_field", ...), and the layer
    in each network (`a`, `b`: a `Layer`, None where it is absent)."""

    name: str
    status: str
    changed: tuple[str, ...]
    a: Layer | None
    b: Layer | None


@dataclass(frozen=True)
class TotalDiff:
    """A total in both networks: `delta` is b - a, `ratio` b / a as an exact `Fraction` (None when a is 0)."""

    a: int
    b: int
    delta: int
    ratio: Fraction | None


@dataclass(frozen=True, repr=False)
class Diff:
    """Two networks compared, as `cnncalc.diff` returns it and `cnncalc diff` prints it.

    - `equal`: no layer added, removed or changed, and the same totals, input, output, dtype and receptive
      field (names and files are not compared);
    - `a`, `b`: the two `Analysis` results;
    - `layers`: a `LayerDiff` per layer of both, matched by path, in the merged order (layers added or removed
      where they stand); `differences`: those that are not unchanged;
    - `totals`: a `TotalDiff` per total, by the keys of the JSON's totals (`params`, `macs`, `flops`,
      `activation_bytes`, `peak_activation_bytes`, `layers`, ...);
    - `summary`: how many layers were `added`, `removed`, `changed` and `unchanged`.

    `to_dict()` is the JSON document of `cnncalc diff --format json`; `print(result)` prints its table as
    into a file.
    """

    equal: bool
    a: Analysis
    b: Analysis
    layers: tuple[LayerDiff, ...]
    totals: dict[str, TotalDiff]
    summary: dict[str, int]
    if TYPE_CHECKING:  # not a field: what the result is drawn from
        _compared: NetworkDiff

    @property
    def differences(self) -> tuple[LayerDiff, ...]:
        return tuple(layer for layer in self.layers if layer.status != "unchanged")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `cnncalc diff --format json` for the same networks and options."""
        from cnncalc.render.diff_table import diff_document

        return diff_document(self._compared)

    def __str__(self) -> str:
        """What `cnncalc diff` writes into a file, without its last line break."""
        import io

        from cnncalc.render.diff_table import print_diff
        from cnncalc.render.printer import PLAIN, Printer

        buffer = io.StringIO()
        print_diff(Printer(None, buffer, PLAIN), self._compared)
        return buffer.getvalue().rstrip("\n")

    def __repr__(self) -> str:
        counts = ", ".join(f"{count} {status}" for status, count in self.summary.items())
        return f"<Diff {self.a.name} -> {self.b.name}: {'equal' if self.equal else counts}>"


def diff(
    a: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module,
    b: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module | None = None,
    *,
    input: str | Sequence[int] | None = None,
    batch: int | None = None,
    dtype: str | torch.dtype | None = None,
    input_b: str | Sequence[int] | None = None,
    batch_b: int | None = None,
    dtype_b: str | torch.dtype | None = None,
    vars: Mapping[str, Any] | None = None,
    vars_b: Mapping[str, Any] | None = None,
    depth: int | None = None,
) -> Diff:
    """Compare two networks layer by layer, as `cnncalc diff`: the layers added, removed or changed (matched by
    path) and the totals with their change and ratio.

    `a` and `b` are sources as `analyze` takes them (a path, a bundled name, YAML text, a mapping, a module).
    Leave `b` out to compare `a` with itself at other settings: `cnncalc.diff("resnet50", input_b="3x320x320")`.
    `input`, `batch` and `dtype` apply to both; `input_b`, `batch_b` and `dtype_b` to `b` only, over them.
    `vars` sets top-level spec variables (`vars:`) of both, by name (`vars={"width": 0.5}`), as `--set`;
    `vars_b` those of `b` only, over `vars`, as `--set-b`: `cnncalc.diff("unet", vars_b={"base": 32})`.
    `depth` compares blocks nested deeper than `depth` as one row each, as `--depth`.

    Returns a `Diff`. Raises what `analyze` raises, and `UsageError` when there is nothing to compare (no `b`
    and no setting of its own) or a variable the spec does not declare.
    """
    shared, variables_b = dict(vars or {}), {**(vars or {}), **(vars_b or {})}
    if b is None and input_b is None and batch_b is None and dtype_b is None and variables_b == shared:
        raise UsageError("diff needs two networks: b, or a setting of b", 'e.g. input_b="3x320x320"')
    first = _analysis(a, input, batch, dtype, None, depth, None, "input", variables=shared)
    second = _analysis(
        a if b is None else b,
        input if input_b is None else input_b,
        batch if batch_b is None else batch_b,
        dtype if dtype_b is None else dtype_b,
        None,
        depth,
        None,
        "input" if input_b is None else "input_b",
        variables=variables_b,
        variables_argument="vars_b" if vars_b and set(vars_b) - set(shared) else "vars",
    )
    drawn_a, drawn_b = first._drawing, second._drawing
    compared_variables = None
    if variables_b:
        compared_variables = (
            _values_set(a, shared, variables_b),
            _values_set(a if b is None else b, variables_b, shared),
        )
    compared = compare_networks(drawn_a.result, drawn_b.result, drawn_a.rows, drawn_b.rows, depth, compared_variables)
    layers_of = {id(row): layer for analysis in (first, second) for row, layer in _rows_and_layers(analysis)}
    result = Diff(
        equal=compared.equal,
        a=first,
        b=second,
        layers=tuple(
            LayerDiff(
                change.name,
                change.status.value,
                change.changed,
                None if change.a is None else layers_of[id(change.a)],
                None if change.b is None else layers_of[id(change.b)],
            )
            for change in compared.layers
        ),
        totals={total.key: TotalDiff(total.a, total.b, total.delta, total.ratio) for total in compared.totals},
        summary={status.value: compared.count(status) for status in Status},
    )
    object.__setattr__(result, "_compared", compared)  # frozen otherwise
    return result


def _values_set(
    source: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module,
    own: Mapping[str, Any],
    other: Mapping[str, Any],
) -> dict[str, Any]:
    """Each variable set on either side, at the value this side is analysed at (its own, else the spec's)."""
    from cnncalc.api.modules import is_module
    from cnncalc.api.sources import load_source
    from cnncalc.language.variables import variable_value

    names = {**own, **other}
    if all(name in own for name in names) or is_module(source):  # a module has no `vars:` (refused before)
        return dict(own)
    loaded = load_source(source)
    return {name: own[name] if name in own else variable_value(loaded, name) for name in names}


def _rows_and_layers(analysis: Analysis) -> list[tuple[object, Layer]]:
    """The engine rows the analysis is drawn from, each with the `Layer` it shows as (one per row)."""
    return list(zip(analysis._drawing.rows, analysis.layers, strict=True))
