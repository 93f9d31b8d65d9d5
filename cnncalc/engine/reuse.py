"""One network analysed at many inputs: expanded once, then only its layers' rules run again.

Expanding a spec (blocks, `repeat`, `when`, expressions, field validation) is most of an analysis; the layer
rules are the rest. Where the expansion cannot depend on the input, a new input size or batch needs only the
rules, run again along the same nodes, and a rule's result depends only on its spec and its input tensors
(rules are pure: see cnncalc.kinds.base), so results are memoised by input tensor: after the first layers'
downsampling, inputs of different sizes often meet the same feature maps.

What the expansion reads of the input, and how each is handled (correctness first: any doubt means a fresh
analysis, which is what `analyze` would compute):

- `shape(NAME)`, `spatial(NAME)` and `in_features` (the last axis: a width for an image) in any expression:
  such a spec is analysed afresh at every input (`reads_input_shape`, a conservative scan of its text).
- `in_channels` (the channel count of an entry's first input) is read in most specs (`project: in_channels !=
  out`). Every tensor it can come from is the network input or a node's output, so the expansion of a spec
  that mentions it is reused only when every one of them has the same channel count as in the reference
  expansion (a flatten's count changes with the input size); otherwise, afresh.
- a rule that fails, reports an error, or gives a tensor over the size limits at the new input: afresh, so
  that the error is reported exactly as `analyze` reports it.

`ReusableNetwork.result_at` gives what `analyze_loaded` gives (warnings included); `totals_at` only the totals,
without building the per-layer rows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from cnncalc.base import limits
from cnncalc.base.tensor import Tensor, image_tensor
from cnncalc.engine.analysis import InputOverrides, _assemble, _input_settings, analyze_loaded, network_totals
from cnncalc.engine.expansion import NETWORK_INPUT, Expansion, build_graph
from cnncalc.engine.issues import IssueLog
from cnncalc.engine.result import AnalysisResult, Totals
from cnncalc.kinds import REGISTRY, LayerError, LayerResult, RuleContext
from cnncalc.language.document import DTYPE_BYTES, SpecDocument, parse_document_despite_input
from cnncalc.language.yaml_source import LoadedDocument

# Expressions that read sizes of the input or of a layer besides its channel count. Matched on the raw text of
# every string in the spec: a layer merely named `in_features` makes the scan say yes, which only costs time.
_SHAPE_READING = re.compile(r"\b(?:shape|spatial)\s*\(|\bin_features\b")
_CHANNELS_READING = re.compile(r"\bin_channels\b")

# Memoised rule results kept at most (a 1,000-point sweep of ResNet-50 at 1,000 input sizes keeps about 22,000).
MEMO_LIMIT = 500_000


def reads_input_shape(data: Any) -> bool:
    """Whether any expression of a spec (its YAML data) may read a shape other than a channel count."""
    return any(_SHAPE_READING.search(text) for text in _strings(data))


def reads_channels(data: Any) -> bool:
    """Whether any expression of a spec (its YAML data) may read `in_channels`."""
    return any(_CHANNELS_READING.search(text) for text in _strings(data))


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in ("name", "description", "reference", "input"):  # text that is never an expression
                yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


class _Replay:
    """A reference expansion and what re-running its rules needs."""

    def __init__(self, builder: Expansion) -> None:
        self.builder = builder
        nodes = builder.nodes
        self.rules = [REGISTRY[node.kind].rule for node in nodes]
        self.trainable = [not node.frozen for node in nodes]
        self.inputs = [node.inputs for node in nodes]
        self.output_ref = builder.output_ref if builder.output_ref is not None else len(nodes) - 1
        assert builder.input_tensor is not None  # a reference expansion always has an input
        self.channels = self.channels_of(builder.input_tensor, [node.result for node in nodes])

    @staticmethod
    def channels_of(input_tensor: Tensor, results: list[LayerResult]) -> tuple[int | None, ...]:
        """Every `in_channels` an expression can read: of the network input and of each layer's output."""
        return (input_tensor.channels, *(result.output.channels for result in results))


class ReusableNetwork:
    """A loaded spec, analysed at many inputs (`InputOverrides`) as `analyze_loaded` would, faster."""

    def __init__(self, loaded: LoadedDocument) -> None:
        self.loaded = loaded
        self.file = loaded.source.file
        self.reads_shape = reads_input_shape(loaded.data)
        self.reads_channels = reads_channels(loaded.data)
        self._document: SpecDocument | None = None
        self._replay: _Replay | None = None
        # (node index, ids of its interned input tensors) -> (interned output, result, warnings)
        self._memo: dict[tuple[int, ...], tuple[Tensor, LayerResult, list[tuple[str, str]]]] = {}
        self._interned: dict[Tensor, Tensor] = {}
        self.fresh_analyses = 0  # how many inputs needed an analysis from scratch (the first one included)

    def result_at(self, overrides: InputOverrides) -> AnalysisResult:
        """The analysis at `overrides`, equal to `analyze_loaded(loaded, overrides)`; raises SpecError as it does."""
        replayed = self._replayed(overrides)
        if isinstance(replayed, AnalysisResult):
            return replayed
        replay, input_tensor, results, warnings, dtype = replayed
        builder = replay.builder
        clone = copy.copy(builder)  # the reference's structure, with this input's tensors and warnings
        clone.input_tensor = input_tensor
        clone.runner = copy.copy(builder.runner)
        clone.runner.nodes = [replace(node, result=result) for node, result in zip(builder.nodes, results, strict=True)]
        log = IssueLog()
        for node, node_warnings in zip(builder.nodes, warnings, strict=True):
            for message, hint in node_warnings:
                log.layer_warning(node.location, node.path, node.kind, message, hint)
        log.finish(None, self.loaded.source.locate(("layers",)))
        clone.issues = log
        assert self._document is not None
        return _assemble(self._document, self.loaded, clone, dtype, self.file)

    def totals_at(self, overrides: InputOverrides) -> tuple[tuple[int, ...], Totals]:
        """The input shape (batch first) and the totals at `overrides`, equal to those of
        `analyze_loaded(loaded, overrides)`; raises SpecError as it does."""
        replayed = self._replayed(overrides)
        if isinstance(replayed, AnalysisResult):
            return replayed.input_shape, replayed.totals
        replay, input_tensor, results, _, dtype = replayed
        totals = network_totals(
            results, replay.trainable, replay.inputs, input_tensor, replay.output_ref, DTYPE_BYTES[dtype]
        )
        return input_tensor.shape, totals

    def _fresh(self, overrides: InputOverrides) -> AnalysisResult:
        self.fresh_analyses += 1
        return analyze_loaded(self.loaded, overrides)

    def _replayed(
        self, overrides: InputOverrides
    ) -> AnalysisResult | tuple[_Replay, Tensor, list[LayerResult], list[list[tuple[str, str]]], str]:
        """The rules re-run along the reference expansion at `overrides`, or a fresh analysis where the
        reference cannot be reused (which raises SpecError where `analyze` fails)."""
        if self.reads_shape:
            return self._fresh(overrides)
        if self._document is None:
            document, input_issues = parse_document_despite_input(self.loaded)
            if input_issues:
                return self._fresh(overrides)  # the spec's own input section is invalid: reported as analyze does
            self._document = document
        channels, spatial, batch, dtype = _input_settings(self._document, overrides)
        input_tensor = image_tensor(batch, channels, spatial)
        if self._replay is None:
            builder = build_graph(self._document, self.loaded.source, input_tensor)
            if builder.issues.errors or not builder.nodes:
                return self._fresh(overrides)
            self.fresh_analyses += 1
            self._replay = _Replay(builder)
            return _assemble(self._document, self.loaded, builder, dtype, self.file)
        replay = self._replay
        ran = self._run_rules(replay, input_tensor)
        if ran is None or (self.reads_channels and _Replay.channels_of(input_tensor, ran[0]) != replay.channels):
            return self._fresh(overrides)
        return replay, input_tensor, ran[0], ran[1], dtype

    def _run_rules(
        self, replay: _Replay, input_tensor: Tensor
    ) -> tuple[list[LayerResult], list[list[tuple[str, str]]]] | None:
        """Each node's result at `input_tensor` (memoised), or None where a rule fails or reports an error."""
        memo, interned = self._memo, self._interned
        if len(memo) > MEMO_LIMIT:
            memo.clear()
            interned.clear()
        network_input = interned.setdefault(input_tensor, input_tensor)
        outputs: list[Tensor] = []
        results: list[LayerResult] = []
        warnings: list[list[tuple[str, str]]] = []
        for index, node in enumerate(replay.builder.nodes):
            tensors = [network_input if ref == NETWORK_INPUT else outputs[ref] for ref in node.inputs]
            key = (index, *map(id, tensors))  # interned tensors: equal tensors are one object
            known = memo.get(key)
            if known is None:
                context = RuleContext()
                try:
                    result = replay.rules[index](node.spec, tensors, context)
                except LayerError:
                    return None
                output = result.output
                too_large = any(size > limits.MAX_DIMENSION for size in output.shape) or output.numel > limits.MAX_NUMEL
                stateful = node.functional and (result.params or result.buffers)
                if context.errors or too_large or stateful:
                    return None
                known = (interned.setdefault(output, output), result, context.warnings)
                memo[key] = known
            outputs.append(known[0])
            results.append(known[1])
            warnings.append(known[2])
        return results, warnings
