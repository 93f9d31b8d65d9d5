"""The layer DAG of an analysed network as plain data: nodes, edges and clusters, ready for a writer.

Everything here comes from the engine's result: each row's path and kind, the rows it reads
(`input_indices`, which hold every `from:` reference, merge and skip connection), the shapes it reads
(`input_shapes`), and the blocks and groups (`group_kinds`). Nothing is recomputed.

With a depth, every layer nested deeper than it is drawn as the block at that depth (one node per block, its
figures summed), as `analyze --depth` collapses rows; an edge then joins two distinct nodes once, however many
tensors pass between them, labelled with every distinct shape that does.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.render.view import shape_text

INPUT_NODE = "input"
OUTPUT_NODE = "output"


@dataclass(frozen=True)
class GraphNode:
    id: str  # n0, n1, ...: safe in every format, whatever the layer is called
    name: str  # the layer's path, the collapsed block's path, or "input" / "output"
    kind: str  # the layer kind, the block's name (with "xN" for a repeat), or "input" / "output"
    facts: tuple[str, ...]  # compact figures: kernel and stride, params, MACs, layer count
    cluster: str | None  # id of the innermost cluster holding it; None at the top level
    role: str = "layer"  # "layer", "block" (a collapsed block) or "terminal" (the network input or output)


@dataclass(frozen=True)
class GraphEdge:
    source: str  # node ids
    target: str
    label: str  # the shape(s) of the tensor(s) flowing along it, batch first: "1x64x56x56"


@dataclass(frozen=True)
class GraphCluster:
    id: str  # c0, c1, ...
    name: str  # the block use's or group's path
    kind: str  # its block's name, "group", a composite's kind, or "NAME xN" for a repeat
    parent: str | None  # id of the enclosing cluster


@dataclass(frozen=True)
class LayerGraph:
    title: str  # the network's name
    nodes: tuple[GraphNode, ...]  # in execution order, the input first and the output last
    edges: tuple[GraphEdge, ...]
    clusters: tuple[GraphCluster, ...]  # parents before children

    def contents(self) -> dict[str | None, list[GraphCluster | GraphNode]]:
        """What each cluster holds directly (None: the top level), in the order the network runs it (a cluster
        where its first node runs), which writers keep so that the layout does too; in one pass over the graph."""
        parents = {each.id: each.parent for each in self.clusters}
        first_node: dict[str, int] = {}
        items: dict[str | None, list[tuple[int, GraphCluster | GraphNode]]] = {None: []}
        items.update((each.id, []) for each in self.clusters)
        for position, node in enumerate(self.nodes):
            items[node.cluster].append((position, node))
            holder = node.cluster
            while holder is not None and holder not in first_node:
                first_node[holder] = position
                holder = parents[holder]
        for each in self.clusters:
            items[each.parent].append((first_node.get(each.id, len(self.nodes)), each))
        return {key: [item for _, item in sorted(held, key=lambda pair: pair[0])] for key, held in items.items()}


def layer_graph(result: AnalysisResult, depth: int | None = None) -> LayerGraph:
    """The DAG of `result`; with `depth`, blocks nested deeper than it are one node each."""
    unit_of = [_unit(row.path, depth) for row in result.layers]
    members: dict[str, list[LayerRow]] = {}
    for row, unit in zip(result.layers, unit_of, strict=True):
        members.setdefault(unit, []).append(row)
    cluster_paths = _cluster_paths(result, members)
    cluster_ids = {path: f"c{number}" for number, path in enumerate(cluster_paths)}
    clusters = tuple(
        GraphCluster(
            cluster_ids[path],
            path,
            result.group_kinds[path],
            cluster_ids.get(_enclosing(path, cluster_ids) or ""),
        )
        for path in cluster_paths
    )

    input_id, output_id = "n0", f"n{len(members) + 1}"
    node_ids = {unit: f"n{number}" for number, unit in enumerate(members, start=1)}
    nodes = [GraphNode(input_id, INPUT_NODE, INPUT_NODE, (shape_text(result.input_shape),), None, "terminal")]
    for unit, rows in members.items():
        cluster = cluster_ids.get(_enclosing(unit, cluster_ids) or "")
        if len(rows) == 1 and rows[0].path == unit:
            nodes.append(GraphNode(node_ids[unit], unit, rows[0].kind, _layer_facts(rows[0]), cluster))
        else:
            kind = result.group_kinds.get(unit, "group")
            nodes.append(GraphNode(node_ids[unit], unit, kind, _block_facts(rows), cluster, "block"))
    nodes.append(GraphNode(output_id, OUTPUT_NODE, OUTPUT_NODE, (shape_text(result.output_shape),), None, "terminal"))

    # (source, target) -> the distinct shapes passing, in the order first seen
    shapes: dict[tuple[str, str], list[str]] = {}

    def connect(source: str, target: str, shape: tuple[int, ...]) -> None:
        if source != target:  # inside one collapsed block
            passing = shapes.setdefault((source, target), [])
            if shape_text(shape) not in passing:
                passing.append(shape_text(shape))

    for row, unit in zip(result.layers, unit_of, strict=True):
        for index, shape in zip(row.input_indices, row.input_shapes, strict=True):
            connect(input_id if index < 0 else node_ids[unit_of[index]], node_ids[unit], shape)
    last = input_id if result.output_index < 0 else node_ids[unit_of[result.output_index]]
    connect(last, output_id, result.output_shape)
    edges = tuple(GraphEdge(source, target, ", ".join(passing)) for (source, target), passing in shapes.items())
    return LayerGraph(result.name, tuple(nodes), edges, clusters)


def _unit(path: str, depth: int | None) -> str:
    """The node a layer is drawn as: itself, or its enclosing block at `depth`."""
    if depth is None:
        return path
    parts = path.split(".")
    return path if len(parts) <= depth else ".".join(parts[:depth])


def _cluster_paths(result: AnalysisResult, members: dict[str, list[LayerRow]]) -> list[str]:
    """The blocks and groups drawn as clusters: those that enclose a node (a collapsed block is a node, not a
    cluster), parents first."""
    found: set[str] = set()
    for unit in members:
        parts = unit.split(".")
        found.update(
            prefix for prefix in (".".join(parts[:end]) for end in range(1, len(parts))) if prefix in result.group_kinds
        )
    # Pre-order: a cluster sorts by where each of its enclosing paths is first used, so a parent comes before
    # its children and siblings come as the network runs them.
    first_use: dict[str, int] = {}
    for position, unit in enumerate(members):
        parts = unit.split(".")
        for end in range(1, len(parts)):
            first_use.setdefault(".".join(parts[:end]), position)

    def preorder(path: str) -> tuple[int, ...]:
        parts = path.split(".")
        return tuple(first_use[".".join(parts[:end])] for end in range(1, len(parts) + 1))

    return sorted(found, key=preorder)


def _enclosing(path: str, clusters: dict[str, str]) -> str | None:
    """The innermost cluster path strictly enclosing `path`."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in clusters:
            return prefix
    return None


def compact(value: int) -> str:
    """Three significant digits and a decimal unit: 9.41 K, 118 M, 513 K; smaller numbers as they are."""
    for scale, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}"
    return str(value)


def _figures(params: int, macs: int) -> list[str]:
    return [f"{label} {compact(value)}" for label, value in (("params", params), ("MACs", macs)) if value]


def _axes_text(sizes: tuple[int, ...]) -> str:
    return str(sizes[0]) if len(set(sizes)) == 1 else "x".join(str(size) for size in sizes)


def _layer_facts(row: LayerRow) -> tuple[str, ...]:
    facts = []
    if row.geometry is not None:
        kernel = "x".join(str(size) for size in row.geometry.kernel)
        stride = row.geometry.stride
        facts.append(f"kernel {kernel}" + ("" if set(stride) == {1} else f" stride {_axes_text(stride)}"))
    return (*facts, *_figures(row.params, row.macs))


def _block_facts(rows: list[LayerRow]) -> tuple[str, ...]:
    count = f"{len(rows)} layer" + ("" if len(rows) == 1 else "s")
    return (count, *_figures(sum(row.params for row in rows), sum(row.macs for row in rows)))
