"""The headline figure of `analyze --convention NAME`, for the JSON totals and the totals panel.

Without a convention the headline is cnncalc's own (MACs of the whole batch) and nothing here imports
the conventions package, so `cnncalc analyze` starts as fast as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc.engine.result import AnalysisResult
from cnncalc.render.units import grouped, human

if TYPE_CHECKING:  # imported at run time only when --convention is given
    from cnncalc.conventions import NetworkCount


def headline_keys(result: AnalysisResult, headline: NetworkCount | None) -> dict[str, Any]:
    """`totals.convention`, `totals.headline`, `totals.headline_unit` (+ label, and why a tool fails)."""
    if headline is None:
        return {"convention": "cnncalc", "headline": result.totals.macs, "headline_unit": "MACs"}
    keys: dict[str, Any] = {
        "convention": headline.convention,
        "headline": headline.headline,
        "headline_unit": headline.unit,
        "headline_label": headline.label,
    }
    if headline.failure:
        keys["headline_failure"] = headline.failure
    return keys


def headline_lines(headline: NetworkCount | None) -> list[tuple[str, str]]:
    """(label, value) lines for the totals: the tool's number and the convention it follows."""
    if headline is None:
        return []
    title = f"Headline ({headline.convention})"
    if headline.headline is None:
        return [(title, f"none: {headline.failure}")]
    value = headline.headline
    return [
        (title, f"{grouped(value)} ({human(value)}) {headline.unit}, {headline.batch_handling}"),
        ("Counted as", f"{headline.tool} ({headline.label!r}): {headline.summary}"),
    ]
