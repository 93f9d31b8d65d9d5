"""How an `input` (or `input_size`) argument is read: a shape with or without its batch axis.

It is written as text, `"3x224x224"` (as `--input` on the command line; `,` may stand for `x`), or as a
sequence of integers, `(3, 224, 224)`, `[1, 3, 224, 224]` or a `torch.Size`. Whether its first entry is the
batch is decided by the network's rank (its number of spatial axes), never guessed from the values:

- a spec's rank is that of its `input.shape` (`[3, 224, 224]`: 2 spatial axes);
- a module's rank is that of its first convolution or pooling layer (`Conv2d`: 2), as torch reads the input;
- with R spatial axes, R + 1 entries are one sample (C, *sizes) and R + 2 entries are (N, C, *sizes): the first
  is the batch, which must then agree with `batch=` if that is given too. Any other length is an error.

A module with neither convolutions nor pooling has no rank to go by: its input is read as one sample, unless it
has 5 entries (one sample has at most 4: channels and 3 sizes).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.base import limits
from cnncalc.base.errors import UsageError

_LAYOUTS = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


class InputShape(NamedTuple):
    """A shape argument, read: the shape of one sample (channels, then sizes) and the batch it gave, if any."""

    sample: tuple[int, ...]
    batch: int | None


def read_input(value: object, rank: int | None, argument: str = "input", network: str = "the network") -> InputShape:
    """`value` read against a network with `rank` spatial axes (None: not known); UsageError if it cannot be."""
    sizes = _sizes(value, argument)
    count = len(sizes)
    if rank is not None:
        if count == rank + 1:
            return InputShape(sizes, None)
        if count == rank + 2:
            return InputShape(sizes[1:], sizes[0])
        layout = _LAYOUTS.get(rank, f"(C, {rank} sizes)")
        raise UsageError(
            f"{argument}={_written(value)} has {count} axes; {network} has {rank} spatial "
            f"{'axis' if rank == 1 else 'axes'}",
            f"give one sample {layout} or a batch (N, {layout[1:]}, e.g. {_example(rank)}",
        )
    if 2 <= count <= 1 + limits.MAX_SPATIAL_AXES:
        return InputShape(sizes, None)
    if count == 2 + limits.MAX_SPATIAL_AXES:
        return InputShape(sizes[1:], sizes[0])
    raise UsageError(
        f"{argument}={_written(value)} has {count} axes",
        "give channels and 1 to 3 sizes, e.g. (3, 224, 224), or a batch first, e.g. (1, 3, 224, 224)",
    )


def agreed_batch(given: int | None, from_shape: int | None, argument: str = "input") -> int | None:
    """The batch: `batch=` and the batch axis of the shape, which must agree when both are given."""
    if given is not None and from_shape is not None and given != from_shape:
        raise UsageError(
            f"batch={given} disagrees with the batch axis of {argument} ({from_shape})",
            f"give the batch once: batch={given} with a shape of one sample, or only the shape",
        )
    return given if given is not None else from_shape


def _sizes(value: object, argument: str) -> tuple[int, ...]:
    if isinstance(value, str):
        sizes = _parsed_text(value, argument)
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        sizes = tuple(_size(entry, value, argument) for entry in value)
    else:
        raise UsageError(
            f"{argument} must be a shape such as (3, 224, 224) or '3x224x224', not {type(value).__name__}",
            "one input only: a network with several inputs is not supported",
        )
    for size in sizes:
        if not 1 <= size <= limits.MAX_DIMENSION:
            raise UsageError(
                f"{argument}={_written(value)}: size {size:,} is out of range (1 to {limits.MAX_DIMENSION:,})"
            )
    return sizes


def _parsed_text(text: str, argument: str) -> tuple[int, ...]:
    parts = text.replace(",", "x").replace("X", "x").replace("×", "x").split("x")
    try:
        return tuple(int(part.strip()) for part in parts)
    except ValueError:
        raise UsageError(f"{argument}={text!r} is not a shape", "write channels then sizes, e.g. '3x224x224'") from None


def _size(entry: object, value: Sequence[object], argument: str) -> int:
    if isinstance(entry, (bool, str, bytes)):
        raise UsageError(f"{argument}={_written(value)}: {entry!r} is not a size", "sizes are integers")
    try:
        return operator.index(entry)  # int, numpy integers, 0-d integer tensors; never a float
    except TypeError:
        hint = "one input only: a network with several inputs is not supported" if _nested(entry) else "integers"
        raise UsageError(f"{argument}={_written(value)}: {entry!r} is not a size", hint) from None


def _nested(entry: object) -> bool:
    return isinstance(entry, Sequence) and not isinstance(entry, str)


def _written(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return repr(tuple(value))  # type: ignore[call-overload]  # a torch.Size as a plain tuple
    except TypeError:
        return repr(value)


def _example(rank: int) -> str:
    sizes = {1: (16000,), 2: (224, 224), 3: (16, 112, 112)}.get(rank, (32,) * rank)
    return repr((3, *sizes))
