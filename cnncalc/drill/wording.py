"""How questions write layers: as PyTorch modules and tensors, and as the `cnncalc calc` command that shows
the same worked solution. Arguments at their defaults are left out, as people write them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def tensor(shape: Sequence[int]) -> str:
    """(8, 64, 56, 56)."""
    return "(" + ", ".join(str(size) for size in shape) + ")"


def grid(shape: Sequence[int]) -> str:
    """64x56x56."""
    return "x".join(str(size) for size in shape)


def axis_value(value: int | Sequence[int]) -> str:
    """3 or (1, 7): how PyTorch writes a per-axis argument."""
    if isinstance(value, int):
        return str(value)
    return tensor(value)


def option_value(value: int | Sequence[int]) -> str:
    """3 or 1x7: how the calculators write a per-axis option."""
    if isinstance(value, int):
        return str(value)
    return grid(value)


def _set_arguments(*arguments: tuple[object, object, str]) -> list[str]:
    """The texts of the (value, default, text) arguments whose value is not the default: people leave the
    defaults out of a module's constructor and out of a command line."""
    return [text for value, default, text in arguments if value != default]


# A conv's optional arguments and their defaults (PyTorch's), as nn.Conv2d and as `cnncalc calc conv2d` write one
# that is set ({} is its value).
_CONV_OPTIONS = (
    ("stride", 1, "stride={}", "-s {}"),
    ("padding", 0, "padding={}", "-p {}"),
    ("dilation", 1, "dilation={}", "-d {}"),
    ("groups", 1, "groups={}", "-g {}"),
    ("bias", True, "bias=False", "--no-bias"),
)


def _conv_options(conv: Mapping[str, Any], torch: bool) -> list[str]:
    """The conv's arguments that are set, as PyTorch writes them (torch) or as the calculator does."""
    return [
        torch_text.format(axis_value(conv[name])) if torch else option_text.format(option_value(conv[name]))
        for name, default, torch_text, option_text in _CONV_OPTIONS
        if conv.get(name, default) != default
    ]


def torch_conv(in_channels: int, conv: Mapping[str, Any]) -> str:
    """nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1) for a conv2d spec ({"out": 128, "kernel": 3, ...}),
    defaults left out as people write it."""
    parts = [str(in_channels), str(conv["out"]), f"kernel_size={axis_value(conv['kernel'])}"]
    return f"nn.Conv2d({', '.join([*parts, *_conv_options(conv, torch=True)])})"


def torch_pool(kind: str, kernel: int, stride: int, padding: int, ceil_mode: bool) -> str:
    name = "MaxPool2d" if kind.startswith("max") else "AvgPool2d"
    parts = [f"kernel_size={kernel}"]
    parts += _set_arguments(
        (stride, kernel, f"stride={stride}"), (padding, 0, f"padding={padding}"), (ceil_mode, False, "ceil_mode=True")
    )
    return f"nn.{name}({', '.join(parts)})"


def torch_transposed(
    in_channels: int, out: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> str:
    parts = [str(in_channels), str(out), f"kernel_size={kernel}", f"stride={stride}"]
    parts += _set_arguments(
        (padding, 0, f"padding={padding}"),
        (output_padding, 0, f"output_padding={output_padding}"),
        (dilation, 1, f"dilation={dilation}"),
    )
    return f"nn.ConvTranspose2d({', '.join(parts)})"


def conv_command(input_shape: Sequence[int], conv: Mapping[str, Any], batch: int = 1) -> str:
    """The `cnncalc calc conv2d` command showing the same worked solution, for a conv2d spec on an input
    (without the batch)."""
    parts = [f"cnncalc calc conv2d --input {grid(input_shape)} --out {conv['out']} -k {option_value(conv['kernel'])}"]
    parts += [*_conv_options(conv, torch=False), *_set_arguments((batch, 1, f"--batch {batch}"))]
    return " ".join(parts) + " --explain"


def pool_command(
    kind: str, input_shape: Sequence[int], kernel: int, stride: int, padding: int, ceil_mode: bool, batch: int = 1
) -> str:
    """The `cnncalc calc maxpool` (or avgpool) command showing the same worked solution."""
    parts = [f"cnncalc calc {kind.removesuffix('2d')} --input {grid(input_shape)} -k {kernel} -s {stride}"]
    parts += _set_arguments(
        (padding, 0, f"-p {padding}"), (ceil_mode, False, "--ceil-mode"), (batch, 1, f"--batch {batch}")
    )
    return " ".join(parts) + " --explain"
