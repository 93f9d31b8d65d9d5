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
    depth: int | None = None,
) -> Diff:
    """Compare two networks layer by layer, as `cnncalc diff`: the layers added, removed or changed (matched by
    path) and the totals with their change and ratio.

    `a` and `b` are sources as `analyze` takes them (a path, a bundled name, YAML text, a mapping, a module).
    Leave `b` out to compare `a` with itself at other settings: `cnncalc.diff("resnet50", input_b="3x320x320")`.
    `input`, `batch` and `dtype` apply to both; `input_b`, `batch_b` and `dtype_b` to `b` only, over them.
    `depth` compares blocks nested deeper than `depth` as one row each, as `--depth`.

    Returns a `Diff`. Raises what `analyze` raises, and `UsageError` when there is nothing to compare (no `b`
    and no setting of its own).
    """
    if b is None and input_b is None and batch_b is None and dtype_b is None:
        raise UsageError("diff needs two networks: b, or a setting of b", 'e.g. input_b="3x320x320"')
    first = _analysis(a, input, batch, dtype, None, depth, None, "input")
    second = _analysis(
        a if b is None else b,
        input if input_b is None else input_b,
        batch if batch_b is None else batch_b,
        dtype if dtype_b is None else dtype_b,
        None,
        depth,
        None,
        "input" if input_b is None else "input_b",
    )
    drawn_a, drawn_b = first._drawing, second._drawing
    compared = compare_networks(drawn_a.result, drawn_b.result, drawn_a.rows, drawn_b.rows, depth)
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


def _rows_and_layers(analysis: Analysis) -> list[tuple[object, Layer]]:
    """The engine rows the analysis is drawn from, each with the `Layer` it shows as (one per row)."""
    return list(zip(analysis._drawing.rows, analysis.layers, strict=True))
