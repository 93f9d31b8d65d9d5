"""`cnncalc calc ...`: one-line calculators for a single layer or an inline stack, no YAML file needed.

Loaded only when `cnncalc calc` runs (see cnncalc.cli.calc); the engine is imported when a calculator runs.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cnncalc.base.limits import MAX_DIMENSION
from cnncalc.calc.stack_syntax import OPTIONS_HELP, help_table
from cnncalc.cli.options import ColorOption, Dtype
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cnncalc.base.errors import SpecIssue
    from cnncalc.calc.stack_syntax import StackLayer, StackSyntaxError

# Help is formatted by click: paragraphs are re-wrapped to the terminal, and a paragraph that starts with \b
# (the syntax table) is kept line for line. The table and the options line are the stack syntax's own
# (cnncalc.calc.stack_syntax.HELP_ROWS).
STACK_HELP = (
    "Receptive field, shapes and counts of a short stack written inline.\n\n"
    "Layers are separated by commas; each is a name with its kernel and stride (conv3, conv7/2, pool2/2), "
    "then options in any order. Defaults are PyTorch's (stride 1, padding 0; pooling stride = kernel); "
    "a conv keeps its input's channel count unless given cN.\n\n"
    f"\b\n{help_table(indent='  ')}\n\n"
    f"{OPTIONS_HELP}\n\n"
    'Example: cnncalc calc stack "conv3, conv3, pool2/2, conv3 d2" --explain'
)

calc_app = typer.Typer(
    rich_markup_mode=None,  # plain click help, as the main application's
    help="One-line calculators: shape, params, MACs/FLOPs and receptive field of one layer or an inline "
    "stack. Add --explain for the worked solution.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)


# Every calculator option: its type, flags and help text.
InputOption = Annotated[
    str, typer.Option("--input", "-i", help="Input without the batch: channels x sizes, e.g. 3x224x224.")
]
OutOption = Annotated[int, typer.Option("--out", "-o", min=1, max=MAX_DIMENSION, help="Output channels.")]
KernelOption = Annotated[str, typer.Option("--kernel", "-k", help="Kernel size: 3, or one per axis: 1x7.")]
StrideOption = Annotated[str, typer.Option("--stride", "-s", help="Stride: 2, or one per axis.")]
PaddingOption = Annotated[str, typer.Option("--padding", "-p", help="Padding: 1, one per axis (0x3), same or valid.")]
DilationOption = Annotated[str, typer.Option("--dilation", "-d", help="Dilation: 2, or one per axis.")]
GroupsOption = Annotated[
    int, typer.Option("--groups", "-g", min=1, max=MAX_DIMENSION, help="Groups (C_in / groups inputs per filter).")
]
BiasOption = Annotated[bool, typer.Option("--bias/--no-bias", help="Learned bias (PyTorch's default: on).")]
MultiplierOption = Annotated[
    int, typer.Option("--multiplier", "-m", min=1, max=MAX_DIMENSION, help="Filters per input channel.")
]
SeparableMultiplierOption = Annotated[
    int, typer.Option("--multiplier", "-m", min=1, max=MAX_DIMENSION, help="Depthwise filters per channel.")
]
TransposedPaddingOption = Annotated[str, typer.Option("--padding", "-p", help="Padding: 1, or one per axis.")]
OutputPaddingOption = Annotated[
    str, typer.Option("--output-padding", help="Extra size on one side: 1, or one per axis (< stride).")
]
PoolStrideOption = Annotated[str | None, typer.Option("--stride", "-s", help="Stride (default: the kernel).")]
PoolPaddingOption = Annotated[str, typer.Option("--padding", "-p", help="Padding (at most half the kernel).")]
CeilModeOption = Annotated[bool, typer.Option("--ceil-mode", help="Round the output size up (PyTorch's rule).")]
FeaturesOption = Annotated[
    str, typer.Option("--input", "-i", help="Features (2048), or a feature map to flatten first (2048x7x7).")
]
OutFeaturesOption = Annotated[
    int, typer.Option("--out", "-o", min=1, max=MAX_DIMENSION, help="Output features (e.g. classes).")
]
ChannelsOption = Annotated[str, typer.Option("--input", "-i", help="Channels (256) or a feature map (256x56x56).")]
AffineOption = Annotated[bool, typer.Option("--affine/--no-affine", help="Learned scale and shift (γ, β).")]
RunningStatsOption = Annotated[
    bool, typer.Option("--running-stats/--no-running-stats", help="Running mean and variance buffers.")
]
PatchOption = Annotated[
    int, typer.Option("--patch", "-P", min=1, max=MAX_DIMENSION, help="Patch size (16 for ViT-B/16).")
]
DimOption = Annotated[
    int, typer.Option("--dim", "-D", min=1, max=MAX_DIMENSION, help="Embedding width D (768 for ViT-B).")
]
ClassTokenOption = Annotated[bool, typer.Option("--class-token", help="Prepend a class token (N + 1).")]
StackArgument = Annotated[str, typer.Argument(help='The stack, e.g. "conv3, conv3, pool2/2, conv3 d2".')]
StackInputOption = Annotated[str, typer.Option("--input", "-i", help="Input without the batch: channels x sizes.")]
BatchOption = Annotated[
    int, typer.Option("--batch", "-b", min=1, max=MAX_DIMENSION, help="Batch size (MACs are for the batch).")
]
DtypeOption = Annotated[
    Dtype, typer.Option("--dtype", help="Element type for the memory figure.", case_sensitive=False)
]
ExplainOption = Annotated[
    bool, typer.Option("--explain", "-e", help="Print the worked solution: each formula with its numbers.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the analysis as JSON (as `analyze --format json`).")]

REQUIRED = inspect.Parameter.empty
# The options by the parameter name a calculator gives them, with their defaults. A calculator's signature
# names the options it takes, in the order --help lists them; the name is not what is typed (the flags are),
# except a positional argument's, which --help shows as LAYERS.
OPTIONS: dict[str, tuple[Any, Any]] = {
    "input_shape": (InputOption, REQUIRED),
    "out": (OutOption, REQUIRED),
    "kernel": (KernelOption, REQUIRED),
    "stride": (StrideOption, "1"),
    "padding": (PaddingOption, "0"),
    "dilation": (DilationOption, "1"),
    "groups": (GroupsOption, 1),
    "bias": (BiasOption, True),
    "multiplier": (MultiplierOption, 1),
    "depthwise_multiplier": (SeparableMultiplierOption, 1),
    "transposed_padding": (TransposedPaddingOption, "0"),
    "output_padding": (OutputPaddingOption, "0"),
    "pool_stride": (PoolStrideOption, None),
    "pool_padding": (PoolPaddingOption, "0"),
    "ceil_mode": (CeilModeOption, False),
    "features": (FeaturesOption, REQUIRED),
    "out_features": (OutFeaturesOption, REQUIRED),
    "channels": (ChannelsOption, REQUIRED),
    "affine": (AffineOption, True),
    "running_stats": (RunningStatsOption, True),
    "patch": (PatchOption, REQUIRED),
    "dim": (DimOption, REQUIRED),
    "class_token": (ClassTokenOption, False),
    "layers": (StackArgument, REQUIRED),
    "stack_input": (StackInputOption, "3x224x224"),
    "batch": (BatchOption, 1),
    "dtype": (DtypeOption, Dtype.float32),
    "explain": (ExplainOption, False),
    "as_json": (JsonOption, False),
    "color": (ColorOption, ColorChoice.auto),
}
# Every calculator ends with these: the batch and element type its figures are for, and how they are shown.
OUTPUT_OPTIONS = ("batch", "dtype", "explain", "as_json", "color")


@dataclass(frozen=True)
class Calculation:
    """What a calculator asks of the engine: layers on an input, as typed."""

    input_text: str
    layers: list[dict[str, Any]]
    compare_with: dict[str, Any] | None = None  # a second layer to compare with (separable vs standard)
    features_only_ok: bool = False  # the input may be a bare feature count (then it is flattened)
    stack_layers: list[StackLayer] | None = None  # the inline stack the layers were read from


def calculator(
    name: str, *aliases: str, help_text: str | None = None
) -> Callable[[Callable[..., Calculation]], Callable[..., None]]:
    """Register a calculator as `cnncalc calc NAME` (and hidden ALIASES).

    The decorated function names the options it takes (keyword-only, unannotated: OPTIONS has them) and turns
    their values into a Calculation. The command typer sees takes those options and then the OUTPUT_OPTIONS,
    and prints the calculation (its help is the function's docstring, or help_text).
    """

    def register(body: Callable[..., Calculation]) -> Callable[..., None]:
        names = [*inspect.signature(body).parameters, *OUTPUT_OPTIONS]

        @functools.wraps(body)
        def command(**values: Any) -> None:
            output = {option: values.pop(option) for option in OUTPUT_OPTIONS}
            _calculate(body(**values), **output)

        command.__signature__ = inspect.Signature([_parameter(option) for option in names])  # type: ignore[attr-defined]
        calc_app.command(name, help=help_text)(command)
        for alias in aliases:
            calc_app.command(alias, hidden=True, help=help_text)(command)
        return command

    return register


def _parameter(name: str) -> inspect.Parameter:
    annotation, default = OPTIONS[name]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


@calculator("conv2d", "conv", "conv1d", "conv3d")
def conv(*, input_shape, out, kernel, stride, padding, dilation, groups, bias) -> Calculation:
    """Convolution (torch.nn.Conv2d; 1-d or 3-d from --input): output shape, params, MACs/FLOPs, receptive field.

    Example: cnncalc calc conv2d --input 3x224x224 --out 64 -k 7 -s 2 -p 3 --explain
    """
    entry = {"type": "conv", "out": out, **_window(kernel, stride, padding, dilation), "groups": groups, "bias": bias}
    return Calculation(input_shape, [entry])


@calculator("depthwise")
def depthwise(*, input_shape, kernel, stride, padding, dilation, multiplier, bias) -> Calculation:
    """Depthwise convolution (groups = C_in): one k x k filter per input channel.

    Example: cnncalc calc depthwise --input 32x112x112 -k 3 -p 1
    """
    entry = {"type": "depthwise", **_window(kernel, stride, padding, dilation), "multiplier": multiplier, "bias": bias}
    return Calculation(input_shape, [entry])


@calculator("pointwise")
def pointwise(*, input_shape, out, stride, groups, bias) -> Calculation:
    """Pointwise (1x1) convolution: channel mixing only.

    Example: cnncalc calc pointwise --input 256x56x56 --out 64 --no-bias
    """
    entry = {"type": "pointwise", "out": out, "stride": _axes(stride, "--stride"), "groups": groups, "bias": bias}
    return Calculation(input_shape, [entry])


@calculator("separable")
def separable(*, input_shape, out, kernel, stride, padding, dilation, depthwise_multiplier, bias) -> Calculation:
    """Depthwise-separable convolution (depthwise k x k, then pointwise 1x1), compared with a standard conv.

    Prints the cost ratio separable / standard, 1/C_out + 1/K² (MACs, bias excluded).
    Example: cnncalc calc separable --input 32x112x112 --out 64 -k 3 -p 1 --explain
    """
    window = _window(kernel, stride, padding, dilation)
    entry = {"type": "separable", "out": out, **window, "multiplier": depthwise_multiplier, "bias": bias}
    standard = {"type": "conv", "out": out, **window, "bias": bias}
    return Calculation(input_shape, [entry], compare_with=standard)


@calculator("conv-transpose", "conv_transpose", "conv-transpose2d", "deconv", "tconv")
def conv_transpose(
    *, input_shape, out, kernel, stride, transposed_padding, output_padding, dilation, groups, bias
) -> Calculation:
    """Transposed convolution (torch.nn.ConvTranspose2d): upsampling output size, params, MACs (input grid).

    Example: cnncalc calc conv-transpose --input 64x56x56 --out 32 -k 4 -s 2 -p 1
    """
    entry = {
        "type": "conv_transpose",
        "out": out,
        "kernel": _axes(kernel, "--kernel"),
        "stride": _axes(stride, "--stride"),
        "padding": _axes(transposed_padding, "--padding", minimum=0),
        "output_padding": _axes(output_padding, "--output-padding", minimum=0),
        "dilation": _axes(dilation, "--dilation"),
        "groups": groups,
        "bias": bias,
    }
    return Calculation(input_shape, [entry])


@calculator("maxpool", "pool")
def maxpool(*, input_shape, kernel, pool_stride, pool_padding, dilation, ceil_mode) -> Calculation:
    """Max pooling (torch.nn.MaxPool2d), with ceil_mode exactly as PyTorch rounds it.

    Example: cnncalc calc maxpool --input 64x112x112 -k 3 -s 2 -p 1
    """
    entry = _pool_entry("maxpool", kernel, pool_stride, pool_padding, ceil_mode)
    return Calculation(input_shape, [entry | {"dilation": _axes(dilation, "--dilation")}])


@calculator("avgpool")
def avgpool(*, input_shape, kernel, pool_stride, pool_padding, ceil_mode) -> Calculation:
    """Average pooling (torch.nn.AvgPool2d), with ceil_mode exactly as PyTorch rounds it.

    Example: cnncalc calc avgpool --input 256x56x56 -k 2
    """
    return Calculation(input_shape, [_pool_entry("avgpool", kernel, pool_stride, pool_padding, ceil_mode)])


@calculator("linear")
def linear(*, features, out_features, bias) -> Calculation:
    """Fully connected layer (torch.nn.Linear); a C x H x W input is flattened first (a flatten head).

    Example: cnncalc calc linear --input 2048 --out 1000
    """
    layers = [{"type": "flatten"}, {"type": "linear", "out": out_features, "bias": bias}]
    return Calculation(features, layers, features_only_ok=True)


@calculator("batchnorm")
def batchnorm(*, channels, affine, running_stats) -> Calculation:
    """BatchNorm: parameters (γ, β) apart from buffers (running mean and variance).

    Example: cnncalc calc batchnorm --input 256x56x56 --explain
    """
    entry = {"type": "batchnorm", "affine": affine, "track_running_stats": running_stats}
    return Calculation(channels, [entry], features_only_ok=True)


@calculator("patch-embed")
def patch_embed(*, input_shape, patch, dim, class_token) -> Calculation:
    """ViT patch embedding: tokens N = (H/p)·(W/p), shape (B, N, D), params D·C·p² + D.

    Example: cnncalc calc patch-embed --input 3x224x224 --patch 16 --dim 768 --class-token
    """
    layers: list[dict[str, Any]] = [{"type": "patch_embed", "patch": patch, "dim": dim}]
    if class_token:
        layers.append({"type": "class_token"})
    return Calculation(input_shape, layers)


@calculator("stack", help_text=STACK_HELP)
def stack(*, layers, stack_input) -> Calculation:
    """Receptive field, shapes and counts of a short stack written inline (help: STACK_HELP)."""
    from cnncalc.calc.stack_syntax import StackSyntaxError, parse_stack

    try:
        parsed = parse_stack(layers)
    except StackSyntaxError as error:
        raise _every_syntax_problem(error) from None
    return Calculation(stack_input, [layer.entry for layer in parsed], stack_layers=parsed)


# ------------------------------------------------------------------------------------------ helpers


MAX_SHOWN_PROBLEMS = 20  # a stack of a thousand misspelt layers is not a thousand errors on the screen


def _every_syntax_problem(error: StackSyntaxError) -> typer.Exit:
    """Print each layer the stack parser could not read (usage errors, exit 2); return the Exit to raise."""
    import sys

    failure = typer.Exit()
    for problem in error.problems[:MAX_SHOWN_PROBLEMS]:
        failure = _usage(problem.message, problem.hint or "see `cnncalc calc stack --help`")
    hidden = len(error.problems) - MAX_SHOWN_PROBLEMS
    if hidden > 0:
        print(f"note: {hidden} more layers cannot be read either; fix these first", file=sys.stderr)
    return failure


def _usage(message: str, hint: str = "") -> typer.Exit:
    from cnncalc.base.errors import ExitCode
    from cnncalc.cli.failure import fail

    return fail(message, ExitCode.USAGE, hint)


def _axes(text: str, what: str, minimum: int = 1) -> int | list[int]:
    from cnncalc.calc.options import OptionValueError, parse_axes

    try:
        return parse_axes(text, what, minimum)
    except OptionValueError as error:
        raise _usage(str(error)) from None


def _padding(text: str) -> int | str | list[int]:
    from cnncalc.calc.options import OptionValueError, parse_padding

    try:
        return parse_padding(text)
    except OptionValueError as error:
        raise _usage(str(error)) from None


def _window(kernel: str, stride: str, padding: str, dilation: str) -> dict[str, Any]:
    """A convolution's window options, checked (a bad one is a usage error), in the order they are checked."""
    return {
        "kernel": _axes(kernel, "--kernel"),
        "stride": _axes(stride, "--stride"),
        "padding": _padding(padding),
        "dilation": _axes(dilation, "--dilation"),
    }


def _pool_entry(kind: str, kernel: str, stride: str | None, padding: str, ceil_mode: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": kind,
        "kernel": _axes(kernel, "--kernel"),
        "padding": _axes(padding, "--padding", minimum=0),
        "ceil_mode": ceil_mode,
    }
    if stride is not None:
        entry["stride"] = _axes(stride, "--stride")
    return entry


_LONG_NUMBER = re.compile(rf"[1-9][0-9]{{{len(str(MAX_DIMENSION))},}}")  # more digits than MAX_DIMENSION has


def _input(text: str, features_only_ok: bool) -> tuple[tuple[int, ...], bool]:
    """The input shape, and whether it is a bare feature count (then a flatten row is scaffolding)."""
    from cnncalc.calc.options import shorten
    from cnncalc.cli.options import parse_input_shape

    word = text.strip()
    if _LONG_NUMBER.search(word):  # checked before int(): no 5,000-digit integers
        raise _usage(f"--input {shorten(word)!r} has a size above {MAX_DIMENSION:,}", "e.g. --input 3x224x224")
    if features_only_ok and word.isascii() and word.isdigit() and int(word) >= 1:
        shape, features_only = (int(word), 1), True
    else:
        parsed = parse_input_shape(word)
        assert parsed is not None  # parse_input_shape returns None only for None
        shape, features_only = parsed, False
    if max(shape) > MAX_DIMENSION:
        raise _usage(f"--input {shorten(word)!r} has a size above {MAX_DIMENSION:,}", "e.g. --input 3x224x224")
    return shape, features_only


def _calculate(
    calculation: Calculation,
    batch: int,
    dtype: Dtype,
    explain: bool,
    as_json: bool,
    color: ColorChoice = ColorChoice.auto,
) -> None:
    """Run the layers through the engine and print the figures (and the worked solution).

    Every option value was checked before this (a bad one is a usage error, exit 2); what the engine refuses now
    is a combination that cannot apply to the input, such as a kernel larger than the padded input: exit 1, with
    every issue printed, each naming its stack layer.
    """
    from cnncalc.base.errors import ExitCode, SpecError
    from cnncalc.calc.network import analyze_layers

    input_text, layers, compare_with = calculation.input_text, calculation.layers, calculation.compare_with
    stack_layers = calculation.stack_layers
    input_shape, features_only = _input(input_text, calculation.features_only_ok)
    if features_only and layers[0]["type"] != "flatten":
        layers = [{"type": "flatten"}, *layers]
    try:
        result = analyze_layers(input_shape, layers, batch, dtype.value)
        standard = analyze_layers(input_shape, [compare_with], batch, dtype.value) if compare_with else None
    except SpecError as error:
        from cnncalc.cli.failure import fail

        failure = typer.Exit(int(ExitCode.INVALID_SPEC))
        for issue in error.issues:
            failure = fail(
                f"{_issue_text(issue, stack_layers)} (input {input_text})", ExitCode.INVALID_SPEC, issue.hint
            )
        if stack_layers is not None:
            _note_unchecked_layers(error.issues, stack_layers)
        raise failure from None
    shown = list(range(1 if features_only else 0, len(result.layers)))
    from cnncalc.calc.render_calc import calculation_json, print_calculation

    if as_json:
        print(calculation_json(result, shown, explain, standard=standard, stack_layers=stack_layers))
        return
    from cnncalc.cli.common import printer

    print_calculation(printer(color), result, shown, explain, standard=standard, stack_layers=stack_layers)


def _note_unchecked_layers(issues: Sequence[SpecIssue], stack_layers: list[StackLayer]) -> None:
    """Say which stack layers the engine could not check: each takes the output of the one before, so after a
    layer that has no output (a kernel larger than its input, say) the rest are never computed and report
    nothing, valid or not. Saying so keeps "no error" from reading as "no problem"."""
    import sys

    failed = [
        position
        for issue in issues
        if issue.subject is not None and issue.subject.stops and (position := _stack_position(issue)) is not None
    ]
    if not failed:
        return  # not about the layers (the input, say): the layers were not reached at all
    broken = min(failed)
    unchecked = stack_layers[broken + 1 :]
    if not unchecked:
        return
    if len(unchecked) == 1:
        subject = f"{unchecked[0].name} was not checked: its input"
    else:
        subject = f"the {len(unchecked)} layers from {unchecked[0].name} on were not checked: their input"
    print(f"note: {subject} is the output of {stack_layers[broken].name}, which has none", file=sys.stderr)


def _stack_position(issue: SpecIssue) -> int | None:
    """The stack layer an engine issue is about: the first part of its layer's path ("1", or "0.depthwise" for a
    part of a composite layer), or None for an issue about no layer."""
    if issue.subject is None:
        return None
    top = issue.subject.path.split(".", 1)[0]
    return int(top) if top.isdigit() else None


def _issue_text(issue: SpecIssue, stack_layers: list[StackLayer] | None) -> str:
    """An engine issue as the calculators show it: for a stack, the layer by its position and its text as written
    ('layer 2 "conv300": spatial axis 0 has size ...'); for one layer, the message alone (there is one layer)."""
    subject = issue.subject
    if subject is None:
        return issue.message  # not about one layer (the input, say): as the engine wrote it
    if stack_layers is None:
        return subject.detail
    position = _stack_position(issue)
    if position is None or position >= len(stack_layers):
        return issue.message
    _, _, inner = subject.path.partition(".")
    return f"{stack_layers[position].name}{f' [{inner}]' if inner else ''}: {subject.detail}"
