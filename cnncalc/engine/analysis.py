"""Run the engine on a spec: load, validate, expand, compute, and assemble the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncalc.base import limits
from cnncalc.base.errors import Location, SpecError, SpecIssue
from cnncalc.base.tensor import Tensor, image_tensor
from cnncalc.engine.expansion import NETWORK_INPUT, Expansion, build_graph
from cnncalc.engine.memory import peak_live_bytes
from cnncalc.engine.result import INDEX_BYTES, AnalysisResult, LayerRow, Totals
from cnncalc.kinds import LayerResult
from cnncalc.language.document import DTYPE_BYTES, SpecDocument, canonical_dtype, parse_document_despite_input
from cnncalc.language.yaml_source import LoadedDocument, SourceMap, load_yaml, read_spec_text


@dataclass(frozen=True)
class InputOverrides:
    """Replacements for the spec's input section (the command line's options, the Python API's arguments)."""

    shape: tuple[int, ...] | None = None  # channels + spatial sizes
    batch: int | None = None
    dtype: str | None = None
    # What errors about these values call them: the options on the command line, the arguments in Python.
    names: tuple[str, str, str] = ("--input", "--batch", "--dtype")


def analyze_file(path: str | Path, overrides: InputOverrides | None = None) -> AnalysisResult:
    path = Path(path)
    return analyze_text(read_spec_text(path), str(path), overrides)


def analyze_text(text: str, file: str = "<spec>", overrides: InputOverrides | None = None) -> AnalysisResult:
    """Analyze a spec; raise SpecError listing every error found."""
    return analyze_loaded(load_yaml(text, file), overrides)


def analyze_loaded(loaded: LoadedDocument, overrides: InputOverrides | None = None) -> AnalysisResult:
    """Analyze a spec already read by `load_yaml` (for callers that look at it first, such as the Python API,
    which reads the input's rank before it reads a shape); raise SpecError listing every error found."""
    return _result_or_error(*_run(loaded, loaded.source.file, overrides))


def analyze_data(data: Mapping[str, Any], label: str = "<data>") -> AnalysisResult:
    """Analyze a spec given as Python data (what a YAML spec reads as: `{"input": {...}, "layers": [...]}`), for
    programs that build networks; raise SpecError listing every error found (located at `label`)."""
    return _result_or_error(*_run(LoadedDocument(dict(data), SourceMap(label), ""), label, None))


def _result_or_error(result: AnalysisResult | None, issues: list[SpecIssue]) -> AnalysisResult:
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors or result is None:
        raise SpecError(errors)
    return result


def check_text(text: str, file: str = "<spec>", overrides: InputOverrides | None = None) -> list[SpecIssue]:
    """Every error and warning of a spec, for `cnncalc validate`."""
    try:
        _, issues = _run(load_yaml(text, file), file, overrides)
    except SpecError as error:
        return list(error.issues)
    return issues


def _run(
    loaded: LoadedDocument, file: str, overrides: InputOverrides | None
) -> tuple[AnalysisResult | None, list[SpecIssue]]:
    document, input_issues = parse_document_despite_input(loaded)
    if input_issues:  # the layers are still checked, without shapes
        return None, [*input_issues, *build_graph(document, loaded.source, None).issues.issues]
    channels, spatial, batch, dtype = _input_settings(document, overrides)
    builder = build_graph(document, loaded.source, image_tensor(batch, channels, spatial))
    issues = builder.issues.issues
    if builder.issues.errors:
        blamed = _input_override_blamed(document, overrides, builder.issues.errors[0], file)
        if blamed is not None:
            return None, [blamed]
    if builder.issues.errors or not builder.nodes:
        if not builder.issues.errors:
            issues = [*issues, SpecIssue("the network has no layers", loaded.source.locate(("layers",)))]
        return None, issues
    return _assemble(document, loaded, builder, dtype, file), issues


_AXES = {2: "C x L", 3: "C x H x W", 4: "C x D x H x W"}


def _input_override_blamed(
    document: SpecDocument, overrides: InputOverrides | None, first_error: SpecIssue, file: str
) -> SpecIssue | None:
    """An error about `--input` when it changed the number of axes or the channels and the spec then fails.

    The spec's own lines are not wrong then: a network written for 3 x 224 x 224 images does not take 224 x 224,
    and blaming its first layer sends the user to the wrong place. A different channel count alone may be
    fine (only the first layer decides), so the option is blamed only when the analysis fails.
    """
    if overrides is None or overrides.shape is None:
        return None
    written = tuple(document.input.shape)
    given = tuple(overrides.shape)
    if len(given) == len(written) and given[0] == written[0]:
        return None
    name = document.name or Path(file).stem
    given_text = "x".join(str(size) for size in given)
    option = overrides.names[0]
    if len(given) != len(written):
        message = (
            f"{option} {given_text} has {len(given)} axes ({_AXES.get(len(given), '?')}); {name} is written for "
            f"{len(written)} ({_AXES.get(len(written), '?')}) with C = {written[0]} (input.shape {list(written)})"
        )
    else:
        message = f"{option} {given_text} has C = {given[0]}; {name} is written for C = {written[0]} " + (
            f"(input.shape {list(written)})"
        )
    detail = f"with it the spec fails at {first_error.location}: {first_error.message}"
    return SpecIssue(message, Location(option), detail)


def _input_settings(document: SpecDocument, overrides: InputOverrides | None) -> tuple[int, tuple[int, ...], int, str]:
    overrides = overrides or InputOverrides()
    shape = tuple(overrides.shape) if overrides.shape is not None else tuple(document.input.shape)
    batch = overrides.batch if overrides.batch is not None else document.input.batch
    dtype = canonical_dtype(overrides.dtype or document.input.dtype)
    input_name, batch_name, dtype_name = overrides.names
    if document.input.fixed and shape != tuple(document.input.shape):
        written = "x".join(str(size) for size in document.input.shape)
        raise SpecError.at(
            Location(input_name),
            f"this spec holds at input {written} only (`input.fixed`: its sizes were fixed when it was imported)",
            f"import the model again at {'x'.join(str(size) for size in shape)}",
        )
    if not 2 <= len(shape) <= 1 + limits.MAX_SPATIAL_AXES:
        raise SpecError.at(
            Location(input_name),
            f"input {shape} needs channels and 1 to 3 spatial sizes",
            f"e.g. {input_name} 3x224x224",
        )
    for option, size in [*((input_name, size) for size in shape), (batch_name, batch)]:
        if not 1 <= size <= limits.MAX_DIMENSION:
            raise SpecError.at(Location(option), f"size {size} is out of range (1 to {limits.MAX_DIMENSION:,})")
    if dtype not in DTYPE_BYTES:
        raise SpecError.at(Location(dtype_name), f"unknown dtype {dtype!r}", f"one of: {', '.join(DTYPE_BYTES)}")
    return shape[0], shape[1:], batch, dtype


def network_totals(
    results: Sequence[LayerResult],
    trainable: Sequence[bool],
    inputs: Sequence[Sequence[int]],
    input_tensor: Tensor,
    output_ref: int,
    dtype_bytes: int,
) -> Totals:
    """The totals of a network from its layers' results (in execution order), which layers are trainable, what
    each reads (-1: the network input) and which one is the network output (-1: the input itself). The one
    place totals are summed: a full analysis and a sweep's re-run of the layer rules both come here."""
    params = trainable_params = buffers = index_buffers = macs = 0
    output_bytes = []
    for result, learns in zip(results, trainable, strict=True):
        params += result.params
        if learns:
            trainable_params += result.params
        buffers += result.buffers
        index_buffers += result.index_buffers
        macs += result.macs
        output_bytes.append(result.output.numel * dtype_bytes)
    return Totals(
        params=params,
        trainable_params=trainable_params,
        buffers=buffers,
        macs=macs,
        param_bytes=params * dtype_bytes,
        buffer_bytes=(buffers - index_buffers) * dtype_bytes + index_buffers * INDEX_BYTES,
        activation_bytes=sum(output_bytes),
        peak_activation_bytes=peak_live_bytes(output_bytes, inputs, input_tensor.numel * dtype_bytes, output_ref),
        batch=input_tensor.batch,
        index_buffers=index_buffers,
    )


def _assemble(
    document: SpecDocument, loaded: LoadedDocument, builder: Expansion, dtype: str, file: str
) -> AnalysisResult:
    dtype_bytes = DTYPE_BYTES[dtype]
    nodes = builder.nodes
    input_tensor = builder.input_tensor
    rows: list[LayerRow] = []
    for node in nodes:
        result = node.result
        output = result.output
        numel = output.numel
        rows.append(
            LayerRow(
                index=node.index,
                path=node.path,
                kind=node.kind,
                inputs=tuple("input" if ref == NETWORK_INPUT else nodes[ref].path for ref in node.inputs),
                input_indices=node.inputs,
                input_shapes=tuple(
                    input_tensor.shape if ref == NETWORK_INPUT else nodes[ref].result.output.shape
                    for ref in node.inputs
                ),
                spec=node.spec,
                output_shape=output.shape,
                channel_axis=output.channel_axis,
                params=result.params,
                trainable=not node.frozen,
                buffers=result.buffers,
                macs=result.macs,
                activation_elements=numel,
                activation_bytes=numel * dtype_bytes,
                field=result.field if result.field is not None else output.field,
                global_field=result.global_field or output.global_context,
                geometry=result.geometry,
                location=node.location,
                functional=node.functional,
                index_buffers=result.index_buffers,
            )
        )
    # The network output is what the last top-level entry yields: usually the last layer, but it may be
    # an earlier one (a skipped entry stands for its input), or the network input itself.
    output_ref = builder.output_ref if builder.output_ref is not None else len(nodes) - 1
    totals = network_totals(
        [node.result for node in nodes],
        [not node.frozen for node in nodes],
        [node.inputs for node in nodes],
        input_tensor,
        output_ref,
        dtype_bytes,
    )
    field_row = next((row for row in reversed(rows) if row.field and not row.global_field), None)
    return AnalysisResult(
        name=document.name or Path(file).stem,
        file=file,
        input_shape=input_tensor.shape,
        output_shape=input_tensor.shape if output_ref == NETWORK_INPUT else nodes[output_ref].result.output.shape,
        output_index=output_ref,
        dtype=dtype,
        dtype_bytes=dtype_bytes,
        layers=tuple(rows),
        totals=totals,
        receptive_field=field_row.field if field_row else None,
        receptive_field_layer=field_row.path if field_row else None,
        warnings=tuple(builder.issues.warnings),
        group_kinds=dict(builder.group_kinds),
        group_outputs={path: ref for path, ref in builder.group_outputs.items() if ref is not None},
        checkpoint_paths=tuple(builder.checkpointed),
    )
