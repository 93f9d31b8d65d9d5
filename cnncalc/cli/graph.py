"""`cnncalc graph SPEC`: the layer DAG as Mermaid, Graphviz DOT or SVG."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.common import read_spec_or_fail, write_atomically, write_text
from cnncalc.cli.failure import fail
from cnncalc.cli.options import SpecArgument, parse_input_shape
from cnncalc.cli.variables import SetOption, analyze_set_or_fail
from cnncalc.engine.analysis import InputOverrides

GRAPHVIZ_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: "
    "conda install -c conda-forge graphviz), or write --format dot, which needs nothing, and lay it out elsewhere"
)


class GraphFormat(str, enum.Enum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"


def graph(
    spec: SpecArgument,
    output_format: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            "-f",
            help="mermaid (a flowchart for Markdown), dot (Graphviz source) or svg (laid out by Graphviz's dot "
            "program, which must be installed).",
            case_sensitive=False,
        ),
    ] = GraphFormat.mermaid,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", "-d", min=1, help="Draw blocks nested deeper than N as one node each (figures summed)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: standard output).")
    ] = None,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Override the input: channels x sizes, e.g. 3x512x512.")
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")] = None,
    settings: SetOption = None,
) -> None:
    """The layer graph: every layer a node (path, type, kernel, params, MACs), every edge the tensor that
    flows along it (skip connections and merges included) labelled with its shape, blocks drawn as nested
    clusters.

    With --depth N, blocks nested deeper than N are one node each, as in `analyze --depth`. SVG needs
    Graphviz's dot program (exit code 3 without it); Mermaid and DOT need nothing.
    """
    from cnncalc.render.graph import (
        MERMAID_MAX_EDGES,
        GraphvizFailed,
        GraphvizMissing,
        layer_graph,
        render_dot,
        render_mermaid,
        render_svg,
    )

    overrides = InputOverrides(parse_input_shape(input_shape), batch)
    [result] = analyze_set_or_fail(read_spec_or_fail(spec), settings, overrides)
    drawing = layer_graph(result, depth)
    if output_format is GraphFormat.mermaid:
        text = render_mermaid(drawing)
        if len(drawing.edges) > MERMAID_MAX_EDGES:
            print(
                f"note: {len(drawing.edges)} edges; Mermaid draws at most {MERMAID_MAX_EDGES} unless its maxEdges "
                "setting is raised: --depth draws fewer",
                file=sys.stderr,
            )
    elif output_format is GraphFormat.dot:
        text = render_dot(drawing)
    else:
        try:
            text = render_svg(render_dot(drawing))
        except GraphvizMissing:
            raise fail(
                "--format svg needs Graphviz's dot program, which is not on PATH",
                ExitCode.MISSING_DEPENDENCY,
                GRAPHVIZ_HINT,
            ) from None
        except GraphvizFailed as error:
            raise fail(
                f"Graphviz could not lay out the graph: {error}", ExitCode.USAGE, "try --depth 1, or --format dot"
            ) from None
    if output is None:
        write_text(text)
    else:
        write_atomically(output, text)
