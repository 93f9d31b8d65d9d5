"""`cnncalc graph`: the layer DAG as Mermaid, DOT and SVG.

The Mermaid and DOT outputs are read back by small parsers below (every line must be one of the forms the
writers produce), and the tests check what the drawing says: which nodes, which edges with which shapes,
which clusters inside which. DOT is also laid out by Graphviz (`dot -Tsvg`) where it is installed (CI installs
it); those tests skip elsewhere, saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from clirunner import invoke, run_process

from cnncalc.engine import analyze_file
from cnncalc.language.zoo import zoo_specs
from cnncalc.render.graph import GraphCluster, GraphEdge, GraphNode, LayerGraph, render_dot, render_mermaid

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not on PATH (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Drawing:
    """What a graph output says, read back: node id -> its label lines, edges, clusters and their nesting."""

    title: str = ""
    nodes: dict[str, list[str]] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (source id, target id, label)
    clusters: dict[str, str] = field(default_factory=dict)  # id -> label
    parent: dict[str, str | None] = field(default_factory=dict)  # node or cluster id -> enclosing cluster id

    def node(self, name: str) -> str:
        """The id of the node whose first label line is `name`."""
        [found] = [node for node, lines in self.nodes.items() if lines[0] == name]
        return found

    def name(self, node: str) -> str:
        return self.nodes[node][0]

    def named_edges(self) -> list[tuple[str, str, str]]:
        return [(self.name(source), self.name(target), label) for source, target, label in self.edges]

    def into(self, name: str) -> list[tuple[str, str]]:
        """(source name, label) of the edges into the node called `name`."""
        return [(source, label) for source, target, label in self.named_edges() if target == name]

    def cluster_chain(self, name: str) -> list[str]:
        """The labels of the clusters around node `name`, innermost first."""
        chain, holder = [], self.parent[self.node(name)]
        while holder is not None:
            chain.append(self.clusters[holder])
            holder = self.parent[holder]
        return chain


def _mermaid_text(escaped: str) -> str:
    assert '"' not in escaped and "<" not in escaped.replace("<br>", ""), escaped
    return re.sub(r"#(\d+);", lambda match: chr(int(match.group(1))), escaped)


MERMAID_NODE = re.compile(r'(n\d+)(\[\[|\(\[|\[)"([^"]*)"(\]\]|\]\)|\]):::(layer|block|terminal)')
MERMAID_EDGE = re.compile(r'(n\d+) -->\|"([^"]*)"\| (n\d+)')
MERMAID_SUBGRAPH = re.compile(r'subgraph (c\d+) \["([^"]*)"\]')
MERMAID_CLASS = re.compile(r"classDef (layer|block|terminal) [\w:#,]+")


def parse_mermaid(text: str) -> Drawing:
    """Read a flowchart back; fail on any line that is not one of the forms the writer produces, on an id
    defined twice, on an edge whose ends are not defined, and on subgraphs left open."""
    lines = text.splitlines()
    assert lines[:1] == ["---"] and lines[2:4] == ["---", "flowchart TB"], lines[:4]
    drawing = Drawing(title=json.loads(lines[1].removeprefix("title: ")))
    open_clusters: list[str] = []
    for line in lines[4:]:
        body = line.strip()
        if match := MERMAID_NODE.fullmatch(body):
            node, opening, label, closing, _ = match.groups()
            assert {"[[": "]]", "([": "])", "[": "]"}[opening] == closing, line
            assert node not in drawing.nodes and node not in drawing.clusters, f"{node} defined twice"
            drawing.nodes[node] = [_mermaid_text(part) for part in label.split("<br>")]
            drawing.parent[node] = open_clusters[-1] if open_clusters else None
        elif match := MERMAID_SUBGRAPH.fullmatch(body):
            cluster, label = match.groups()
            assert cluster not in drawing.clusters and cluster not in drawing.nodes, f"{cluster} defined twice"
            drawing.clusters[cluster] = _mermaid_text(label)
            drawing.parent[cluster] = open_clusters[-1] if open_clusters else None
            open_clusters.append(cluster)
        elif body == "end":
            open_clusters.pop()
        elif match := MERMAID_EDGE.fullmatch(body):
            assert not open_clusters, "edges come after every subgraph is closed"
            source, label, target = match.groups()
            drawing.edges.append((source, target, _mermaid_text(label)))
        else:
            assert MERMAID_CLASS.fullmatch(body), f"not a line the writer produces: {line!r}"
    assert not open_clusters, f"subgraphs left open: {open_clusters}"
    for source, target, _ in drawing.edges:
        assert source in drawing.nodes and target in drawing.nodes, (source, target)
    return drawing


def _dot_text(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda match: match.group(1), quoted).replace("&amp;", "&")


DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
DOT_NODE = re.compile(rf"(n\d+) \[label={DOT_STRING}, shape=\w+, style=[^,]+(?:,[^,]+)?, fillcolor=\"#\w+\"\];")
DOT_EDGE = re.compile(rf"(n\d+) -> (n\d+) \[label={DOT_STRING}\];")
DOT_CLUSTER = re.compile(r"subgraph cluster_(c\d+) \{")
DOT_CLUSTER_LABEL = re.compile(rf"label={DOT_STRING};")
DOT_HEADER = re.compile(rf"graph \[label={DOT_STRING}, labelloc=t, .*\];")


def parse_dot(text: str) -> Drawing:
    """Read the DOT back, as strictly as parse_mermaid."""
    lines = text.splitlines()
    assert lines[0] == "digraph network {" and lines[-1] == "}", (lines[0], lines[-1])
    drawing = Drawing()
    open_clusters: list[str] = []
    for line in lines[1:-1]:
        body = line.strip()
        if match := DOT_NODE.fullmatch(body):
            node, label = match.groups()
            assert node not in drawing.nodes, f"{node} defined twice"
            drawing.nodes[node] = [_dot_text(part) for part in label.split("\\n")]
            drawing.parent[node] = open_clusters[-1] if open_clusters else None
        elif match := DOT_CLUSTER.fullmatch(body):
            [cluster] = match.groups()
            assert cluster not in drawing.clusters, f"{cluster} defined twice"
            drawing.parent[cluster] = open_clusters[-1] if open_clusters else None
            drawing.clusters[cluster] = ""
            open_clusters.append(cluster)
        elif (match := DOT_CLUSTER_LABEL.fullmatch(body)) and open_clusters:
            drawing.clusters[open_clusters[-1]] = _dot_text(match.group(1))
        elif body == "}":
            open_clusters.pop()
        elif match := DOT_EDGE.fullmatch(body):
            source, target, label = match.groups()
            drawing.edges.append((source, target, _dot_text(label)))
        elif match := DOT_HEADER.fullmatch(body):
            drawing.title = _dot_text(match.group(1))
        else:
            assert body.startswith(("node [", "edge [", "style=")), f"not a line the writer produces: {line!r}"
    assert not open_clusters
    for source, target, _ in drawing.edges:
        assert source in drawing.nodes and target in drawing.nodes, (source, target)
    return drawing


def graph(*args: str) -> str:
    run = invoke("graph", *args)
    assert run.code == 0, run.output
    return run.stdout


def both(*args: str) -> list[Drawing]:
    """The same graph read back from Mermaid and from DOT."""
    return [parse_mermaid(graph(*args)), parse_dot(graph(*args, "--format", "dot"))]


def svg_counts(svg: str) -> dict[str, int]:
    """How many node, edge and cluster groups Graphviz drew."""
    root = ElementTree.fromstring(svg)
    classes = [group.get("class") for group in root.iter(f"{SVG}g")]
    return {kind: classes.count(kind) for kind in ("node", "edge", "cluster")}


# resnet18: 69 layers, 8 of them adds of two inputs; 15 block uses and groups (4 stages, 8 blocks, 3
# projection shortcuts). Drawn whole: the layers plus the input and output nodes, one edge per tensor read
# plus the one into the output.
RESNET18 = {None: (71, 78, 15), 2: (17, 16, 4), 1: (13, 12, 0)}


@pytest.mark.parametrize("depth", sorted(RESNET18, key=str))
def test_resnet18_has_every_layer_and_every_tensor_read(depth: int | None) -> None:
    nodes, edges, clusters = RESNET18[depth]
    for drawing in both("resnet18", *(["--depth", str(depth)] if depth else [])):
        assert (len(drawing.nodes), len(drawing.edges), len(drawing.clusters)) == (nodes, edges, clusters)
        assert len(set(drawing.edges)) == edges  # no edge drawn twice
        assert drawing.name("n0") == "input" and drawing.nodes["n0"][1] == "1x3x224x224"
        assert drawing.into("output") == [("fc", "1x1000")]


def test_resnet18_skip_connections_carry_their_shapes() -> None:
    for drawing in both("resnet18"):
        # identity shortcuts: the block's input goes straight to its add
        assert sorted(drawing.into("layer1.0.add")) == [("layer1.0.bn2", "1x64x56x56"), ("maxpool", "1x64x56x56")]
        assert ("layer2.0.relu", "1x128x28x28") in drawing.into("layer2.1.add")
        # a projection shortcut: the strided 1x1 conv reads the block's input, and the add reads the projection
        assert drawing.into("layer2.0.downsample.0") == [("layer1.1.relu", "1x64x56x56")]
        assert sorted(drawing.into("layer2.0.add")) == [
            ("layer2.0.bn2", "1x128x28x28"),
            ("layer2.0.downsample.1", "1x128x28x28"),
        ]
        assert drawing.nodes[drawing.node("layer2.0.conv1")][1:] == [
            "conv2d",
            "kernel 3x3 stride 2",
            "params 73.7 K",
            "MACs 57.8 M",
        ]


def test_blocks_are_nested_clusters() -> None:
    for drawing in both("resnet18"):
        assert drawing.cluster_chain("layer2.0.downsample.0") == [
            "layer2.0.downsample (group)",
            "layer2.0 (basic_block)",
            "layer2 (basic_block x2)",
        ]
        assert drawing.cluster_chain("layer2.0.add") == ["layer2.0 (basic_block)", "layer2 (basic_block x2)"]
        assert drawing.cluster_chain("maxpool") == []


def test_depth_collapses_blocks_into_nodes_with_deduplicated_edges() -> None:
    for drawing in both("resnet18", "--depth", "1"):
        # layer1's first conv and its shortcut both read maxpool: one edge
        assert drawing.into("layer1") == [("maxpool", "1x64x56x56")]
        assert drawing.nodes[drawing.node("layer2")][1:] == [
            "basic_block x2",
            "16 layers",
            "params 526 K",
            "MACs 411 M",
        ]
        assert [name for name, _ in drawing.into("avgpool")] == ["layer4"]
    for drawing in both("resnet18", "--depth", "2"):
        assert drawing.into("layer2.0") == [("layer1.1", "1x64x56x56")]
        assert drawing.cluster_chain("layer2.0") == ["layer2 (basic_block x2)"]


def test_concat_inputs_are_drawn() -> None:
    for drawing in both("googlenet"):
        assert drawing.into("inception3a.concat") == [
            ("inception3a.branch1.relu", "1x64x28x28"),
            ("inception3a.branch2.1.relu", "1x128x28x28"),
            ("inception3a.branch3.1.relu", "1x32x28x28"),
            ("inception3a.branch4.1.relu", "1x32x28x28"),
        ]
        # the four branches read the block's input
        assert {target for source, target, _ in drawing.named_edges() if source == "maxpool2"} == {
            "inception3a.branch1.conv",
            "inception3a.branch2.0.conv",
            "inception3a.branch3.0.conv",
            "inception3a.branch4.0",
        }
    for drawing in both("googlenet", "--depth", "1"):
        assert drawing.into("inception3a") == [("maxpool2", "1x192x28x28")]
        assert drawing.into("inception3b") == [("inception3a", "1x256x28x28")]
    for drawing in both("densenet121"):
        assert drawing.into("features.denseblock1.0.concat") == [
            ("features.pool0", "1x64x56x56"),
            ("features.denseblock1.0.conv2", "1x32x56x56"),
        ]


@pytest.mark.parametrize("name", sorted(zoo_specs()))
def test_every_zoo_network_is_drawn_whole_and_collapsed(name: str) -> None:
    """Every layer once, one edge per pair of layers a tensor passes between (and one into the output), every
    block that holds a layer a cluster; at depth 1, one node per top-level entry and no cluster."""
    result = analyze_file(zoo_specs()[name])
    pairs = {(source, row.index) for row in result.layers for source in row.input_indices}
    top_level = {row.path.split(".")[0] for row in result.layers}
    for drawing in both(name):
        assert sorted(lines[0] for lines in drawing.nodes.values()) == sorted(
            ["input", "output", *(row.path for row in result.layers)]
        )
        assert len(drawing.edges) == len(pairs) + 1
        assert len(drawing.clusters) == len(result.group_kinds)
    for drawing in both(name, "--depth", "1"):
        assert sorted(lines[0] for lines in drawing.nodes.values()) == sorted(["input", "output", *top_level])
        assert not drawing.clusters
    if DOT is not None:
        svg = graph(name, "--format", "svg", "--depth", "2")
        assert svg_counts(svg)["node"] == len(parse_dot(graph(name, "--format", "dot", "--depth", "2")).nodes)


def test_input_and_batch_options_change_the_shapes() -> None:
    for drawing in both("resnet18", "--depth", "1", "--input", "3x64x64", "--batch", "2"):
        assert drawing.nodes["n0"][1] == "2x3x64x64"
        assert drawing.into("layer2") == [("layer1", "2x64x16x16")]
        assert drawing.into("output") == [("fc", "2x1000")]


@needs_dot
@pytest.mark.parametrize("depth", sorted(RESNET18, key=str))
def test_graphviz_lays_out_the_dot_output(depth: int | None) -> None:
    svg = graph("resnet18", "--format", "svg", *(["--depth", str(depth)] if depth else []))
    nodes, edges, clusters = RESNET18[depth]
    assert svg_counts(svg) == {"node": nodes, "edge": edges, "cluster": clusters}


@needs_dot
def test_svg_goes_to_a_file_replacing_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "resnet18.svg"
    target.write_text("old")
    run = invoke("graph", "resnet18", "--depth", "1", "--format", "svg", "-o", str(target))
    assert run.code == 0 and run.stdout == "", run.output
    assert svg_counts(target.read_text()) == {"node": 13, "edge": 12, "cluster": 0}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["resnet18.svg"]  # no temporary file left


def test_an_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    run = invoke("graph", "lenet5", "-o", str(tmp_path / "missing" / "graph.mmd"))
    assert run.code == 2 and "cannot write" in run.stderr and "graph.mmd" in run.stderr, run.output
    assert list(tmp_path.iterdir()) == []


def test_svg_without_graphviz_says_how_to_install_it(tmp_path: Path) -> None:
    """With a PATH that holds no `dot`: exit 3, and the message says how to install Graphviz and that
    --format dot needs nothing."""
    command = [sys.executable, "-m", "cnncalc", "graph", "lenet5", "--format", "svg"]
    run = run_process(command, env={"PATH": str(tmp_path)})
    assert run.code == 3, run.output
    assert run.stdout == "" and "Traceback" not in run.stderr
    for words in ("dot program", "apt-get install graphviz", "brew install graphviz", "conda", "--format dot"):
        assert words in run.stderr, (words, run.stderr)
    assert invoke("graph", "lenet5", "--format", "dot", env={"PATH": str(tmp_path)}).code == 0


def test_a_failing_dot_is_reported_with_what_it_said(tmp_path: Path) -> None:
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    run = invoke("graph", "lenet5", "--format", "svg", env={"PATH": str(tmp_path)})
    assert run.code == 2 and run.stdout == "", run.output
    assert "dot exited with code 1: Error: syntax error in line 1" in run.stderr, run.stderr
    assert "--format dot" in run.stderr


# A name built to break each format: quotes and brackets that end labels, braces and pipes, Mermaid's entity
# and comment syntax, DOT's escapes (\N is the node's name, \G the graph's), markup, a newline, a bidirectional
# override, a lone surrogate, letters of other scripts and an emoji.
HOSTILE = 'a"b\'c [d] {e} (f) <g> </text> |h| #quot; #35; %% end \\N \\G \\" ;\n\u202eback\ud800 Ωmega 東京 🧪 &amp;'
VISIBLE = HOSTILE.replace("\n", "\ufffd").replace("\u202e", "\ufffd").replace("\ud800", "\ufffd")


def _hostile_graph() -> LayerGraph:
    nodes = (
        GraphNode("n0", "input", "input", ("1x3",), None, "terminal"),
        GraphNode("n1", HOSTILE, HOSTILE, (HOSTILE,), "c0"),
        GraphNode("n2", "output", "output", ("1x3",), None, "terminal"),
    )
    edges = (GraphEdge("n0", "n1", HOSTILE), GraphEdge("n1", "n2", "1x3"))
    return LayerGraph(HOSTILE, nodes, edges, (GraphCluster("c0", HOSTILE, HOSTILE, None),))


def test_hostile_text_cannot_break_mermaid() -> None:
    drawing = parse_mermaid(render_mermaid(_hostile_graph()))
    assert drawing.title == VISIBLE
    assert drawing.nodes["n1"] == [VISIBLE] * 3
    assert drawing.clusters["c0"] == f"{VISIBLE} ({VISIBLE})"
    assert drawing.edges == [("n0", "n1", VISIBLE), ("n1", "n2", "1x3")]


def test_hostile_text_cannot_break_dot() -> None:
    drawing = parse_dot(render_dot(_hostile_graph()))
    assert drawing.title == VISIBLE
    assert drawing.nodes["n1"] == [VISIBLE] * 3
    assert drawing.clusters["c0"] == f"{VISIBLE} ({VISIBLE})"
    assert drawing.edges == [("n0", "n1", VISIBLE), ("n1", "n2", "1x3")]


@needs_dot
def test_hostile_text_is_shown_as_written_by_graphviz() -> None:
    from cnncalc.render.graph import render_svg

    svg = render_svg(render_dot(_hostile_graph()))
    root = ElementTree.fromstring(svg)  # well-formed: markup in a name stayed text
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert texts.count(VISIBLE) == 5  # the title, the node's three lines and the edge's label
    assert f"{VISIBLE} ({VISIBLE})" in texts  # the cluster's
    assert svg_counts(svg) == {"node": 3, "edge": 2, "cluster": 1}


def test_a_hostile_network_name_in_a_spec(spec_file) -> None:
    """The network's name is the one free text of a spec that reaches the drawing (layer and block names are
    identifiers); written in YAML with every character above, it comes out whole in both formats."""
    name = HOSTILE.replace("\ud800", "")  # YAML has no lone surrogates
    path = spec_file(
        f"name: {json.dumps(name, ensure_ascii=False)}\n"
        "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 4, kernel: 3}\n"
    )
    expected = name.replace("\n", "\ufffd").replace("\u202e", "\ufffd")
    mermaid, dot = both(str(path))
    assert mermaid.title == dot.title == expected
    assert len(mermaid.nodes) == len(dot.nodes) == 3


def test_mermaid_warns_past_its_default_edge_limit() -> None:
    run = invoke("graph", "resnet152")
    assert run.code == 0 and "note: 566 edges; Mermaid draws at most 500" in run.stderr, run.stderr
    assert len(parse_mermaid(run.stdout).edges) == 566
    assert invoke("graph", "resnet152", "--depth", "1").stderr == ""


def test_the_readme_example_is_what_the_command_prints() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    [example] = re.findall(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    assert example == graph("lenet5")


def test_a_layer_name_with_quotes_is_refused_before_drawing(spec_file) -> None:
    path = spec_file('input: {shape: [3, 8, 8]}\nlayers:\n  - {name: "a\\"b[c]", type: conv2d, out: 4, kernel: 3}\n')
    run = invoke("graph", str(path))
    assert run.code == 1 and run.stdout == "", run.output
    assert "spec.yaml:3:" in run.stderr and "is not a valid name" in run.stderr, run.stderr
