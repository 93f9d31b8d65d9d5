"""Output-size formulas of PyTorch's layers, one axis at a time, on exact integers.

These are the formulas the engine's rules use and the drill mode explains; each matches PyTorch's
shape function for the same layer, including its integer-division and ceil-mode corner cases.
"""

from __future__ import annotations

import math


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """k_eff = d * (k - 1) + 1: the span of a dilated kernel."""
    return dilation * (kernel - 1) + 1


def conv_output_size(
    size: int, kernel: int, stride: int = 1, pad_left: int = 0, pad_right: int = 0, dilation: int = 1
) -> int:
    """floor((n + p_l + p_r - d(k-1) - 1) / s) + 1, as torch.nn.Conv*d computes it.

    Returns a value < 1 when the (padded) input is smaller than the effective kernel; callers report that.
    """
    return (size + pad_left + pad_right - effective_kernel(kernel, dilation)) // stride + 1


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """PyTorch's pooling_output_shape: floor or ceil of (n + 2p - d(k-1) - 1) / s, plus 1.

    With ceil_mode the last window must start inside the input or its left padding; if it would start in
    the right padding only, that window is dropped (the "-1 correction").
    """
    numerator = size + 2 * padding - effective_kernel(kernel, dilation) + (stride - 1 if ceil_mode else 0)
    output = numerator // stride + 1
    if ceil_mode and (output - 1) * stride >= size + padding:
        output -= 1
    return output


def transposed_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """(n - 1) * s - 2p + d(k-1) + output_padding + 1, as torch.nn.ConvTranspose*d computes it."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Left and right padding that give ceil(n / s) outputs ("same"), the smaller half on the left.

    For stride 1 this is exactly PyTorch's padding='same'; for larger strides it is TensorFlow's SAME,
    which depends on the input size.
    """
    output = -(-size // stride)
    total = max((output - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def adaptive_windows(size: int, output: int) -> list[tuple[int, int]]:
    """The [start, end) windows of adaptive pooling: start = floor(i*n/o), end = ceil((i+1)*n/o)."""
    return [((index * size) // output, -((-(index + 1) * size) // output)) for index in range(output)]


def interpolate_output_size(size: int, scale: float) -> int:
    """floor(n * scale) in floating point, exactly as torch.nn.functional.interpolate computes it
    (so 10 * 0.7 = 7.000000000000001 gives 7, where the exact binary value of 0.7 would give 6)."""
    return math.floor(float(size) * scale) if scale > 0 else 0
