"""Shared pieces of the question generators: realistic numbers, PyTorch-style wording, solutions.

Realistic numbers: feature maps are the (channels, size) pairs real networks have at each stage
(3x224 at the input, 64x112 after a stem, 256x56, 512x28, 1024x14, 2048x7 in a ResNet-50, 24x56 or 40x28
in an EfficientNet), batch sizes are powers of two, kernels are 1/3/5/7 (11 for AlexNet).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from cnncalc.calc.worked import Worked
from cnncalc.drill.question import Level

# (channels, size) of feature maps that real networks have.
_MAPS = {
    Level.easy: ((3, 224), (64, 112), (64, 56), (128, 28), (256, 14), (512, 7), (32, 64), (16, 32)),
    Level.medium: (
        (3, 224),
        (64, 112),
        (64, 56),
        (256, 56),
        (128, 28),
        (512, 28),
        (256, 14),
        (1024, 14),
        (512, 7),
        (2048, 7),
        (96, 55),
        (3, 227),
        (3, 299),
        (32, 149),
        (24, 56),
        (40, 28),
        (80, 14),
        (192, 35),
    ),
    Level.hard: (
        (3, 224),
        (3, 513),
        (256, 65),
        (512, 33),
        (64, 97),
        (96, 55),
        (3, 299),
        (192, 35),
        (768, 17),
        (1280, 9),
        (3, 331),
        (144, 75),
    ),
}
# Rectangular inputs of the hard level: (channels, height, width).
_RECTANGLES = ((3, 480, 640), (3, 375, 1242), (3, 720, 1280), (64, 120, 160), (256, 60, 80), (3, 800, 1333))
_BATCHES = {Level.easy: (1,), Level.medium: (1, 8, 16, 32, 64), Level.hard: (1, 4, 16, 32, 64, 128, 256)}
CHANNELS = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048)


def feature_map(rng: random.Random, level: Level, rectangles: bool = True) -> tuple[int, int, int]:
    """(C, H, W) of a realistic feature map; the hard level sometimes gives a rectangular one."""
    if level is Level.hard and rectangles and rng.random() < 0.3:
        return rng.choice(_RECTANGLES)
    channels, size = rng.choice(_MAPS[level])
    return channels, size, size


def batch_size(rng: random.Random, level: Level) -> int:
    return rng.choice(_BATCHES[level])


def out_channels(rng: random.Random, in_channels: int) -> int:
    """Keep, double or halve the channels as networks do (at least 16; from RGB: 32 or 64)."""
    if in_channels <= 3:
        return rng.choice((32, 64))
    return rng.choice((in_channels, 2 * in_channels, max(16, in_channels // 2)))


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


def torch_conv(
    in_channels: int,
    out: int,
    kernel: int | Sequence[int],
    stride: int = 1,
    padding: int | Sequence[int] = 0,
    dilation: int = 1,
    groups: int = 1,
    bias: bool = True,
) -> str:
    """nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1), defaults left out as people write it."""
    parts = [str(in_channels), str(out), f"kernel_size={axis_value(kernel)}"]
    if stride != 1:
        parts.append(f"stride={stride}")
    if padding != 0:
        parts.append(f"padding={axis_value(padding)}")
    if dilation != 1:
        parts.append(f"dilation={dilation}")
    if groups != 1:
        parts.append(f"groups={groups}")
    if not bias:
        parts.append("bias=False")
    return f"nn.Conv2d({', '.join(parts)})"


def torch_pool(kind: str, kernel: int, stride: int, padding: int, ceil_mode: bool) -> str:
    name = "MaxPool2d" if kind.startswith("max") else "AvgPool2d"
    parts = [f"kernel_size={kernel}"]
    if stride != kernel:
        parts.append(f"stride={stride}")
    if padding:
        parts.append(f"padding={padding}")
    if ceil_mode:
        parts.append("ceil_mode=True")
    return f"nn.{name}({', '.join(parts)})"


def torch_transposed(
    in_channels: int, out: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> str:
    parts = [str(in_channels), str(out), f"kernel_size={kernel}", f"stride={stride}"]
    if padding:
        parts.append(f"padding={padding}")
    if output_padding:
        parts.append(f"output_padding={output_padding}")
    if dilation != 1:
        parts.append(f"dilation={dilation}")
    return f"nn.ConvTranspose2d({', '.join(parts)})"


def conv_command(
    input_shape: Sequence[int],
    out: int,
    kernel: int | Sequence[int],
    stride: int = 1,
    padding: int | Sequence[int] = 0,
    dilation: int = 1,
    groups: int = 1,
    bias: bool = True,
    batch: int = 1,
) -> str:
    """The `cnncalc calc conv2d` command showing the same worked solution."""
    kernel_text = kernel if isinstance(kernel, int) else grid(kernel)
    padding_text = padding if isinstance(padding, int) else grid(padding)
    parts = [f"cnncalc calc conv2d --input {grid(input_shape)} --out {out} -k {kernel_text}"]
    if stride != 1:
        parts.append(f"-s {stride}")
    if padding_text != 0:
        parts.append(f"-p {padding_text}")
    if dilation != 1:
        parts.append(f"-d {dilation}")
    if groups != 1:
        parts.append(f"-g {groups}")
    if not bias:
        parts.append("--no-bias")
    if batch != 1:
        parts.append(f"--batch {batch}")
    return " ".join(parts) + " --explain"


def solution(worked: Worked, answer: str, notes: Sequence[str] = ()) -> str:
    """The full worked solution: the steps, the answer line, then remarks (corrections of the notes)."""
    lines = [*worked.lines, f"Answer: {answer}"]
    lines.extend(f"Note: {note}" for note in notes)
    return "\n".join(lines)
