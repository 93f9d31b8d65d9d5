"""Graphviz DOT: clusters as `subgraph cluster_...`, nested; every label a quoted string."""

from __future__ import annotations

from cnncalc.render.graph.model import GraphNode, LayerGraph
from cnncalc.render.graph.text import visible

FONT = "Helvetica"
NODE_STYLE = {
    "layer": 'shape=box, style="rounded,filled", fillcolor="#eef3fb"',
    "block": 'shape=box3d, style=filled, fillcolor="#e3efe0"',
    "terminal": 'shape=oval, style=filled, fillcolor="#fdf1d8"',
}


def quoted(text: str) -> str:
    """A DOT quoted string showing `text` as written: in a label a backslash starts an escape (\\n, \\N, \\G, ...),
    a quote ends the string and Graphviz reads `&name;` as a character entity, so all three are escaped; what is
    left needs none (angle brackets and braces are plain characters inside quotes)."""
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") + '"'


def _label(lines: list[str]) -> str:
    """Lines joined by DOT's centred line break `\\n`, each escaped on its own."""
    return "\\n".join(quoted(line)[1:-1] for line in lines)


def _node(node: GraphNode) -> str:
    lines = [node.name] if node.role == "terminal" else [node.name, node.kind]
    return f'{node.id} [label="{_label([*lines, *node.facts])}", {NODE_STYLE[node.role]}];'


def render_dot(graph: LayerGraph) -> str:
    out = [
        "digraph network {",
        f'  graph [label={quoted(graph.title)}, labelloc=t, fontname="{FONT}", rankdir=TB];',
        f'  node [fontname="{FONT}", fontsize=10];',
        f'  edge [fontname="{FONT}", fontsize=9, color="#555555"];',
    ]

    contents = graph.contents()

    def write(cluster: str | None, indent: str) -> None:
        for inner in contents[cluster]:
            if isinstance(inner, GraphNode):
                out.append(f"{indent}{_node(inner)}")
                continue
            out.append(f"{indent}subgraph cluster_{inner.id} {{")
            out.append(f"{indent}  label={quoted(f'{inner.name} ({inner.kind})')};")
            out.append(f'{indent}  style="rounded,dashed"; color="#8a8a8a"; fontsize=10;')
            write(inner.id, indent + "  ")
            out.append(f"{indent}}}")

    write(None, "  ")
    out.extend(f"  {edge.source} -> {edge.target} [label={quoted(edge.label)}];" for edge in graph.edges)
    out.append("}")
    return "\n".join(out) + "\n"
