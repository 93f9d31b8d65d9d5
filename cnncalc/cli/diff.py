"""`cnncalc diff A [B]`: two networks, or one at two settings, compared layer by layer and in total."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.base.errors import DiffExitCode, ExitCode, SpecError
from cnncalc.cli.common import (
    STDIN_ARGUMENT,
    SourceCache,
    SpecText,
    analyze_or_fail,
    printer,
    read_spec_or_fail,
    spec_failure,
    write_text,
)
from cnncalc.cli.completion import complete_spec
from cnncalc.cli.failure import fail
from cnncalc.cli.options import ColorOption, Dtype, FormatOption, OutputFormat, SpecArgument, parse_input_shape
from cnncalc.cli.startup import collection_paused
from cnncalc.engine.analysis import InputOverrides
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:  # loaded when a comparison runs, not when the command is built
    from cnncalc.engine.result import AnalysisResult
    from cnncalc.language.yaml_source import LoadedDocument
    from cnncalc.sweeps.grid import Number


@contextmanager
def _trouble_is_not_a_difference() -> Iterator[None]:
    """An invalid spec ends other commands with 1, which `diff` reserves for "different": it ends with 2."""
    try:
        yield
    except typer.Exit as exit_:
        if exit_.exit_code == ExitCode.INVALID_SPEC:
            raise typer.Exit(int(DiffExitCode.TROUBLE)) from None
        raise


def diff(
    a: SpecArgument,
    b: Annotated[
        str | None,
        typer.Argument(
            help="The second network (as SPEC). Leave it out to compare A with itself at the --input-b, "
            "--batch-b or --dtype-b settings.",
            autocompletion=complete_spec,
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    input_shape: Annotated[
        str | None,
        typer.Option("--input", "-i", help="Override the input of both networks: channels x sizes, e.g. 3x512x512."),
    ] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override both batch sizes.")] = None,
    dtype: Annotated[
        Dtype | None,
        typer.Option("--dtype", help="Element type of both, for memory figures.", case_sensitive=False),
    ] = None,
    input_b: Annotated[
        str | None, typer.Option("--input-b", help="The input of B only (wins over --input for B), e.g. 3x320x320.")
    ] = None,
    batch_b: Annotated[int | None, typer.Option("--batch-b", min=1, help="The batch size of B only.")] = None,
    dtype_b: Annotated[
        Dtype | None, typer.Option("--dtype-b", help="The element type of B only.", case_sensitive=False)
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="A top-level spec variable (`vars:`) of both, and its value: --set width=0.5; repeatable."
        ),
    ] = None,
    settings_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", help="A spec variable of B only (wins over --set for B): --set-b base=32."),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", "-d", min=1, help="Compare blocks nested deeper than N as one row each (figures summed)."
        ),
    ] = None,
    totals_only: Annotated[
        bool, typer.Option("--totals-only", help="Compare the totals only, without the per-layer differences.")
    ] = False,
    color: ColorOption = ColorChoice.auto,
) -> None:
    """Compare two networks layer by layer: the layers added, removed or changed, and the totals.

    A and B are two specs (`cnncalc diff resnet18 resnet34`), or one spec at two settings: leave B out and
    give B's input, batch, dtype or spec variables (`cnncalc diff resnet50 --input-b 3x320x320`,
    `cnncalc diff unet --set-b base=32`). --input, --batch, --dtype and --set apply to both; --input-b,
    --batch-b, --dtype-b and --set-b to B only, over them.

    Layers are matched by their path (`layer3.2.conv1`): a path in both is compared (type, output shape,
    params, buffers, MACs, activation memory, receptive field size and jump); a path in one only is a layer
    added or removed, shown where it stands in the network. A renamed layer is one removed and one added.
    Tables show the differences; JSON and CSV list every layer with its status.

    Exit codes: 0 the networks are equal, 1 they differ (as diff(1): usable in CI), 2 no comparison was
    made: an invalid spec (which other commands end with 1), an unreadable file or a bad option.
    """
    overrides_a = InputOverrides(parse_input_shape(input_shape), batch, dtype.value if dtype else None)
    overrides_b = InputOverrides(
        parse_input_shape(input_b) if input_b is not None else overrides_a.shape,
        batch_b if batch_b is not None else batch,
        dtype_b.value if dtype_b else overrides_a.dtype,
        names=("--input-b" if input_b is not None else "--input", "--batch-b" if batch_b else "--batch",
               "--dtype-b" if dtype_b else "--dtype"),
    )  # fmt: skip
    shared = _settings_or_fail(settings, "--set")
    own_b = _settings_or_fail(settings_b, "--set-b")
    variables_b = {**shared, **own_b}
    if b is None and overrides_b == overrides_a and variables_b == shared:
        raise fail(
            "diff needs two networks: a second SPEC, or a setting of B",
            ExitCode.USAGE,
            f"e.g. cnncalc diff {a} OTHER, cnncalc diff {a} --input-b 3x320x320 or --set-b NAME=VALUE",
        )
    if a == STDIN_ARGUMENT and b == STDIN_ARGUMENT:
        raise fail("only one of A and B can be read from standard input (-)", ExitCode.USAGE)
    with _trouble_is_not_a_difference():
        text_a = read_spec_or_fail(a)
        text_b: SpecText = text_a if b is None else read_spec_or_fail(b)
        if not variables_b:
            [result_a] = analyze_or_fail(text_a, overrides_a)
            [result_b] = analyze_or_fail(text_b, overrides_b)
            compared_variables = None
        else:
            loaded_a, loaded_b = _loaded_or_fail(text_a), _loaded_or_fail(text_b)
            _check_variables_or_fail(shared, own_b, loaded_a, loaded_b, None if b is None else (a, b))
            result_a = _analysis_or_fail(text_a, loaded_a, shared, overrides_a)
            result_b = _analysis_or_fail(text_b, loaded_b, variables_b, overrides_b)
            compared_variables = _values_set(loaded_a, shared, variables_b), _values_set(loaded_b, variables_b, shared)

    from cnncalc.compare.networks import compare_networks
    from cnncalc.render import diff_table
    from cnncalc.render.view import display_rows

    compared = compare_networks(
        result_a, result_b, display_rows(result_a, depth), display_rows(result_b, depth), depth, compared_variables
    )
    if output_format is OutputFormat.table:
        diff_table.print_diff(printer(color), compared, totals_only)
    elif output_format is OutputFormat.json:
        import json

        sys.stdout.write(json.dumps(diff_table.diff_document(compared, totals_only), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        write_text(diff_table.diff_csv(compared, totals_only))
    else:
        write_text(diff_table.diff_markdown(compared, totals_only))
    raise typer.Exit(int(DiffExitCode.EQUAL if compared.equal else DiffExitCode.DIFFERENT))


def _settings_or_fail(settings: list[str] | None, option: str) -> dict[str, Number]:
    """`--set NAME=VALUE`s (or `--set-b`) -> {NAME: VALUE}: one number each, read as `sweep --set` reads one."""
    from cnncalc.cli.variables import variable_settings_or_fail

    return variable_settings_or_fail(settings, option, "diff compares at one")


def _loaded_or_fail(text: SpecText) -> LoadedDocument:
    from cnncalc.language.yaml_source import load_yaml

    try:
        return load_yaml(text.text, text.label)
    except SpecError as error:
        raise spec_failure(error, _sources(text)) from None


def _sources(text: SpecText) -> SourceCache:
    sources = SourceCache()
    sources.add(text.label, text.text)
    return sources


def _check_variables_or_fail(
    shared: dict[str, Number],
    own_b: dict[str, Number],
    loaded_a: LoadedDocument,
    loaded_b: LoadedDocument,
    arguments: tuple[str, str] | None,
) -> None:
    """Every --set names a variable of both specs, every --set-b one of B (`arguments`: A and B as given, None
    for one spec)."""
    from cnncalc.language.variables import VariableSettingError, check_variable

    spec_a, spec_b = ("the spec", "the spec") if arguments is None else (f"A ({arguments[0]})", f"B ({arguments[1]})")
    checks = [("--set", name, loaded_a, spec_a) for name in shared]
    if arguments is not None:
        checks += [("--set", name, loaded_b, spec_b) for name in shared]
    checks += [("--set-b", name, loaded_b, spec_b) for name in own_b]
    for option, name, loaded, spec in checks:
        try:
            check_variable(name, loaded.data, option, spec)
        except VariableSettingError as error:
            raise fail(error.message, ExitCode.USAGE, error.hint) from None


def _analysis_or_fail(
    text: SpecText, loaded: LoadedDocument, variables: dict[str, Number], overrides: InputOverrides
) -> AnalysisResult:
    from cnncalc.engine.analysis import analyze_loaded
    from cnncalc.language.variables import with_variables

    try:
        with collection_paused():
            return analyze_loaded(with_variables(loaded, variables.items()), overrides)
    except SpecError as error:
        raise spec_failure(error, _sources(text)) from None


def _values_set(loaded: LoadedDocument, own: dict[str, Number], other: dict[str, Number]) -> dict[str, object]:
    """Each variable set on either side, at the value this side is analysed at (its own, else the spec's)."""
    from cnncalc.language.variables import variable_value

    return {name: own[name] if name in own else variable_value(loaded, name) for name in {**own, **other}}
