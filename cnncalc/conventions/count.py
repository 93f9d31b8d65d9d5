"""Apply a convention to an analysed network: one view per engine row, the rules, the tool's headline."""

from __future__ import annotations

from fractions import Fraction

from cnncalc.conventions.model import LayerCount, LayerView, NetworkCount, Part, Term
from cnncalc.conventions.registry import Convention
from cnncalc.engine.result import AnalysisResult


def layer_views(result: AnalysisResult) -> tuple[LayerView, ...]:
    return result.layers


def count(result: AnalysisResult, convention: Convention) -> NetworkCount:
    """What the tool behind `convention` reports for this network, input and batch, with its parts."""
    layers: list[LayerCount] = []
    terms: list[Term] = []
    failure = convention.refuses(result) if convention.refuses else None
    for view in [] if failure else layer_views(result):
        nonzero = tuple(term for term in convention.rule_for(view.kind, view.functional)(view) if term.amount)
        layers.append(LayerCount(view.path, view.kind, view.macs, nonzero))
        terms.extend(nonzero)
    batch = result.totals.batch
    parts = {part: Fraction(0) for part in Part}
    for term in terms:
        parts[term.part] += Fraction(term.amount)
    headline = None if failure else convention.headline(terms, batch, convention.core_scale)
    return NetworkCount(
        convention=convention.name,
        tool=convention.tool,
        headline=headline,
        unit=convention.unit,
        label=convention.label,
        batch_handling=convention.batch_handling,
        summary=convention.summary,
        batch=batch,
        core_scale=convention.core_scale,
        parts=parts,
        layers=tuple(layers),
        failure=failure,
    )
