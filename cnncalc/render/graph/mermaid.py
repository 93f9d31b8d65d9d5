"""Mermaid flowchart: clusters as `subgraph`, nested; every label a quoted string of entity-escaped text."""

from __future__ import annotations

import json
import string

from cnncalc.render.graph.model import GraphNode, LayerGraph
from cnncalc.render.graph.text import visible

# Mermaid refuses to draw a flowchart with more edges than this by default (its `maxEdges` setting): a graph
# above it is worth drawing with --depth.
MERMAID_MAX_EDGES = 500

# Characters written as they are; every other one (quotes, brackets, braces, #, &, %, non-ASCII letters) as
# Mermaid's entity code #NNN;, so that nothing in a name can end a label, open a tag or start a comment.
_PLAIN = frozenset(string.ascii_letters + string.digits + " .,:_-+=/()*@!?")
_SHAPES = {"layer": ('["', '"]'), "block": ('[["', '"]]'), "terminal": ('(["', '"])')}


def escaped(text: str) -> str:
    return "".join(char if char in _PLAIN else f"#{ord(char)};" for char in visible(text))


def _node(node: GraphNode) -> str:
    lines = [node.name] if node.role == "terminal" else [node.name, node.kind]
    opening, closing = _SHAPES[node.role]
    return f"{node.id}{opening}{'<br>'.join(escaped(line) for line in [*lines, *node.facts])}{closing}:::{node.role}"


def render_mermaid(graph: LayerGraph) -> str:
    # The title goes in the front matter, a YAML document: a JSON string is a valid YAML double-quoted scalar.
    out = ["---", f"title: {json.dumps(visible(graph.title))}", "---", "flowchart TB"]

    contents = graph.contents()

    def write(cluster: str | None, indent: str) -> None:
        for inner in contents[cluster]:
            if isinstance(inner, GraphNode):
                out.append(f"{indent}{_node(inner)}")
                continue
            out.append(f'{indent}subgraph {inner.id} ["{escaped(f"{inner.name} ({inner.kind})")}"]')
            write(inner.id, indent + "  ")
            out.append(f"{indent}end")

    write(None, "  ")
    out.extend(f'  {edge.source} -->|"{escaped(edge.label)}"| {edge.target}' for edge in graph.edges)
    out.extend(
        [
            "  classDef layer fill:#eef3fb,stroke:#6b87b8",
            "  classDef block fill:#e3efe0,stroke:#6a9a5b",
            "  classDef terminal fill:#fdf1d8,stroke:#c49a3a",
        ]
    )
    return "\n".join(out) + "\n"
