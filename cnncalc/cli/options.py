"""The options and arguments several commands share, declared once: SPEC, --format, --color, --dtype,
and the parsing of --input."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.base.errors import ExitCode
from cnncalc.cli.completion import complete_spec
from cnncalc.cli.failure import fail
from cnncalc.language.document import DTYPE_NAMES
from cnncalc.render.style import ColorChoice

if TYPE_CHECKING:
    from cnncalc.training import TrainingOptions


class OutputFormat(str, enum.Enum):
    """The formats every command that prints results accepts (`--format`)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Mode(str, enum.Enum):
    """What `analyze` and `verify` look at (`--mode`): inference, or a training step."""

    infer = "infer"
    train = "train"


class Optimizer(str, enum.Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"


# The options of a training step, as `analyze --mode train` and `fit` take them.
OptimizerOption = Annotated[
    Optimizer,
    typer.Option(
        "--optimizer",
        help="With --mode train: sgd (no state), momentum (one copy of the parameters), adam or adamw (two).",
        case_sensitive=False,
    ),
]
FreezeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--freeze",
        help="With --mode train: freeze the layers at this block path (and below), besides the spec's "
        "`frozen: true`; repeat for several, e.g. --freeze stem --freeze layer1.",
    ),
]
CheckpointOption = Annotated[
    list[str] | None,
    typer.Option(
        "--checkpoint",
        help="With --mode train: checkpoint the block at this path (torch.utils.checkpoint: keep its input, "
        "run its forward again in the backward), besides the spec's `checkpoint: true`; repeat for several.",
    ),
]


class Precision(str, enum.Enum):
    fp32 = "fp32"
    bf16_mixed = "bf16-mixed"
    fp16_mixed = "fp16-mixed"


class RulesDevice(str, enum.Enum):
    cpu = "cpu"
    cuda = "cuda"


RulesDeviceOption = Annotated[
    RulesDevice,
    typer.Option(
        "--device",
        help="With --mode train: whose kernels the rules follow: cpu (checked against PyTorch, the default) or "
        "cuda (from PyTorch's source, not yet measured on a GPU: a one-byte dropout mask, fused attention, "
        "norms and softmax in fp32 under autocast).",
        case_sensitive=False,
    ),
]
PrecisionOption = Annotated[
    Precision,
    typer.Option(
        "--precision",
        help="With --mode train: fp32, or autocast (bf16-mixed, fp16-mixed): convolutions, linear layers and "
        "attention in half precision with fp32 master weights, gradients and optimizer state.",
        case_sensitive=False,
    ),
]


def training_options_or_fail(
    mode: str,
    optimizer: Optimizer,
    freeze: list[str] | None,
    checkpoint: list[str] | None,
    precision: Precision,
    device: RulesDevice = RulesDevice.cpu,
    train_hint: str | None = None,
) -> TrainingOptions | None:
    """The training step's options (None without one), or a usage error naming the option as typed."""
    from cnncalc.base.errors import UsageError
    from cnncalc.training.choices import command_line_name, training_options

    try:
        return training_options(
            mode,
            optimizer.value,
            freeze,
            checkpoint,
            precision.value,
            device.value,
            spelled=command_line_name,
            train_hint=train_hint,
        )
    except UsageError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (aligned text; rich on a terminal), json, csv or markdown.",
        case_sensitive=False,
    ),
]
SpecArgument = Annotated[
    str,
    typer.Argument(
        help="Path to a YAML spec, the name of a bundled spec (see `cnncalc zoo`), or - for standard input.",
        autocompletion=complete_spec,
    ),
]
ColorOption = Annotated[
    ColorChoice,
    typer.Option(
        "--color",
        help="Colour and box drawing: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces), "
        "always or never.",
        case_sensitive=False,
    ),
]


# Every dtype name the spec accepts, aliases included, so --dtype and `input.dtype` agree.
Dtype = enum.Enum("Dtype", {name: name for name in DTYPE_NAMES}, type=str)


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """'3x224x224' (or '3,224,224') -> (3, 224, 224): channels then 1 to 3 spatial sizes."""
    if text is None:
        return None
    parts = text.replace(",", "x").replace("X", "x").replace("×", "x").split("x")
    try:
        sizes = tuple(int(part.strip()) for part in parts)
    except ValueError:
        raise fail(
            f"--input {text!r} is not a shape", ExitCode.USAGE, "write channels then sizes, e.g. --input 3x224x224"
        ) from None
    if not 2 <= len(sizes) <= 4 or min(sizes) < 1:
        raise fail(
            f"--input {text!r} needs channels and 1 to 3 positive spatial sizes",
            ExitCode.USAGE,
            "e.g. --input 3x224x224 (image) or --input 1x16000 (1-d signal)",
        )
    return sizes


# The options that choose what is analyzed and how the per-layer rows are shown: `analyze` and `report` take
# them alike.
DepthOption = Annotated[
    int | None,
    typer.Option(
        "--depth", "-d", min=1, help="Collapse blocks nested deeper than N into one row each (figures summed)."
    ),
]
ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        help="Columns of the table (and of CSV and Markdown), in order, comma-separated: name, type, input, "
        "output, params, params_pct, trainable, buffers, macs, macs_pct, flops, memory, kernel, stride, padding, "
        "dilation, groups, rf, rf_start. Default: name,type,output,params,macs,flops,rf.",
    ),
]
InputOption = Annotated[
    str | None, typer.Option("--input", "-i", help="Override the input: channels x sizes, e.g. 3x512x512.")
]
BatchOption = Annotated[int | None, typer.Option("--batch", "-b", min=1, help="Override the batch size.")]
DtypeOption = Annotated[
    Dtype | None, typer.Option("--dtype", help="Element type for memory figures.", case_sensitive=False)
]
ModeOption = Annotated[
    Mode,
    typer.Option(
        "--mode",
        help="train: add a training step: backward FLOPs, what autograd keeps, gradients, optimizer state and "
        "the peak estimate (rules of PyTorch 2.13 on the CPU; see --precision).",
        case_sensitive=False,
    ),
]
