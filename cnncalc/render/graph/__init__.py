"""The layer DAG as a picture: a model of nodes, edges and clusters built from the engine's result
(cnncalc.render.graph.model), then one writer per format: Mermaid, Graphviz DOT, and SVG through Graphviz."""

from cnncalc.render.graph.dot import render_dot
from cnncalc.render.graph.mermaid import MERMAID_MAX_EDGES, render_mermaid
from cnncalc.render.graph.model import GraphCluster, GraphEdge, GraphNode, LayerGraph, layer_graph
from cnncalc.render.graph.svg import GraphvizFailed, GraphvizMissing, render_svg

__all__ = [
    "MERMAID_MAX_EDGES",
    "GraphCluster",
    "GraphEdge",
    "GraphNode",
    "GraphvizFailed",
    "GraphvizMissing",
    "LayerGraph",
    "layer_graph",
    "render_dot",
    "render_mermaid",
    "render_svg",
]
