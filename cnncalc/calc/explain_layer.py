"""Worked solutions for one layer: output size, parameters, MACs/FLOPs, memory and receptive field.

Each section states the formula, substitutes the layer's numbers and carries out the arithmetic; every
result it shows is checked against the engine's row (see `Worked.check`). The output-size steps call
the engine's own formulas in cnncalc.base.arithmetic for the final value.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from cnncalc.base import arithmetic
from cnncalc.calc.explain_field import RECURRENCE, explain_row_field
from cnncalc.calc.geometry import SLIDING, AxisWindow, Geometry, Window, geometry_of, input_shape_of, window_of
from cnncalc.calc.worked import Worked, group_axes, num, product_text, shape_text
from cnncalc.engine.result import AnalysisResult, LayerRow
from cnncalc.kinds import REGISTRY
from cnncalc.kinds.elementwise import BatchNormSpec
from cnncalc.render.units import human, human_bytes
from cnncalc.render.view import axis_names

SECTIONS = ("shape", "params", "macs", "memory", "field")
FLOOR = "⌊{}⌋"
CEIL = "⌈{}⌉"


def explain_row(result: AnalysisResult, row: LayerRow, sections: Collection[str] = SECTIONS) -> Worked:
    """The worked solution of one row, limited to `sections` (in the order of SECTIONS)."""
    in_shape = input_shape_of(result, row)
    worked = Worked()
    worked.say(f"{layer_title(row, in_shape)} on input {shape_text(in_shape)}")
    for section in SECTIONS:
        if section not in sections:
            continue
        if section == "shape":
            _shape(row, in_shape, worked)
        elif section == "params":
            _params(row, in_shape, worked)
        elif section == "macs":
            _macs(row, in_shape, worked)
        elif section == "memory":
            _memory(result, row, worked)
        elif section == "field":
            worked.say(f"Receptive field{_field_formula(row)}")
            explain_row_field(result, row, worked, 1)
    return worked


def display_kind(row: LayerRow, in_shape: tuple[int, ...]) -> str:
    """The PyTorch-style name: a rank-free `conv` on a 2-d input is a conv2d."""
    return REGISTRY[row.kind].pytorch_name(len(in_shape) - 2)


def _is_batchnorm(row: LayerRow) -> bool:
    return REGISTRY[row.kind].schema is BatchNormSpec


def _window_title(kind: str, window: Window, geometry: Geometry) -> str:
    """A convolution's, transposed convolution's or pooling layer's title: its channels (not for pooling), then
    kernel, stride and padding per axis, and what differs from PyTorch's defaults."""
    axes = geometry.axes
    head = kind if window is Window.POOLING else f"{kind} {geometry.in_channels} → {geometry.out_channels}"
    parts = [head, "kernel " + "x".join(str(axis.kernel) for axis in axes)]
    parts.append("stride " + _axes_value([axis.stride for axis in axes]))
    pads = [(axis.pad_left, axis.pad_right) for axis in axes]
    if any(left != right for left, right in pads):  # 'same' with a stride: more on the right
        parts.append("padding " + ", ".join(f"{left}/{right}" for left, right in pads))
    else:
        parts.append("padding " + _axes_value([left for left, _ in pads]))
    if any(axis.output_padding for axis in axes):
        parts.append("output_padding " + _axes_value([axis.output_padding for axis in axes]))
    if any(axis.dilation > 1 for axis in axes):
        parts.append("dilation " + _axes_value([axis.dilation for axis in axes]))
    if window is Window.POOLING:
        if geometry.ceil_mode:
            parts.append("ceil_mode")
        return ", ".join(parts)
    if geometry.groups > 1:
        parts.append(f"groups {geometry.groups}")
    parts.append("bias" if geometry.bias else "no bias")
    return ", ".join(parts)


def layer_title(row: LayerRow, in_shape: tuple[int, ...]) -> str:
    """'conv2d 3 → 64, kernel 7x7, stride 2, padding 3, bias': the layer as a candidate would read it out."""
    kind = display_kind(row, in_shape)
    window = window_of(row)
    if window in (Window.CONVOLUTION, Window.TRANSPOSED, Window.POOLING):
        return _window_title(kind, window, geometry_of(row))
    if row.kind == "linear":
        return f"linear {in_shape[-1]} → {row.spec.out}, {'bias' if row.spec.bias else 'no bias'}"
    if window is Window.PATCH:
        geometry = geometry_of(row)
        patch = "x".join(str(axis.kernel) for axis in geometry.axes)
        return f"{kind}, patch {patch}, width {geometry.out_channels}"
    return kind


def _axes_value(values: list[int]) -> str:
    return str(values[0]) if all(value == values[0] for value in values) else "x".join(str(v) for v in values)


# ------------------------------------------------------------------------------------------- shapes


def _shape(row: LayerRow, in_shape: tuple[int, ...], worked: Worked) -> None:
    out = row.output_shape
    names = axis_names(len(in_shape) - 2) if len(in_shape) > 2 else ()
    window = window_of(row)
    if window is Window.CONVOLUTION:
        _window_sizes(worked, names, list(geometry_of(row).axes), out[2:], pool=False, ceil_mode=False)
        worked.say(f"Output shape: B × C_out × {' × '.join(n + '_out' for n in names)} = {shape_text(out)}")
    elif window is Window.POOLING:
        geometry = geometry_of(row)
        _window_sizes(worked, names, list(geometry.axes), out[2:], pool=True, ceil_mode=geometry.ceil_mode)
        worked.say(f"Output shape: channels unchanged = {shape_text(out)}")
    elif window is Window.TRANSPOSED:
        _transposed_sizes(worked, names, list(geometry_of(row).axes), out[2:])
        worked.say(f"Output shape: B × C_out × {' × '.join(n + '_out' for n in names)} = {shape_text(out)}")
    elif row.kind == "linear":
        worked.say(f"Output shape: the last axis {in_shape[-1]} becomes {row.spec.out}: {shape_text(out)}")
    elif row.kind == "flatten":
        merged = math.prod(in_shape[1:])
        worked.say(f"Flatten: {product_text(*in_shape[1:])} = {num(merged)} features per sample")
        worked.check("flattened features", (in_shape[0], merged), out)
        worked.say(f"Output shape: {shape_text(out)}")
    elif window is Window.PATCH:
        geometry = geometry_of(row)
        grid = [axis.size // axis.kernel for axis in geometry.axes]
        tokens = math.prod(grid)
        sizes = " × ".join(f"⌊{axis.size} / {axis.kernel}⌋" for axis in geometry.axes)
        dim = geometry.out_channels
        worked.say(f"Tokens N = {sizes} = {product_text(*grid)} = {num(tokens)}, each of width D = {dim}")
        worked.check("tokens", (in_shape[0], tokens, dim), out)
        worked.say(f"Output shape: B × N × D = {shape_text(out)}")
    elif row.kind == "class_token":
        worked.say(f"One learned token is prepended: N + 1 = {in_shape[1]} + 1 = {out[1]}: {shape_text(out)}")
        worked.check("tokens", in_shape[1] + 1, out[1])
    elif row.global_field and len(out) < len(in_shape):
        worked.say(f"Global pooling averages each channel to one number: {shape_text(out)}")
    elif out == in_shape:
        worked.say(f"Output shape: unchanged, {shape_text(out)}")
    else:
        worked.say(f"Output shape: {shape_text(out)}")


def _window_sizes(
    worked: Worked,
    names: tuple[str, ...],
    windows: list[AxisWindow],
    sizes: tuple[int, ...],
    pool: bool,
    ceil_mode: bool,
) -> None:
    dilated = any(window.dilation > 1 for window in windows)
    symmetric = all(window.pad_left == window.pad_right for window in windows)
    padded = "n + 2p" if symmetric else "n + p_left + p_right"
    kernel = "k_eff" if dilated else "k"
    rounding = CEIL if ceil_mode else FLOOR
    worked.say("Output size, per axis: " + rounding.format(f"({padded} − {kernel}) / s") + " + 1")
    if dilated:
        worked.say("with the dilated kernel's span k_eff = d·(k − 1) + 1", 1)
    if ceil_mode:
        worked.say("ceil_mode: PyTorch drops the last window if it would start in the right padding", 1)
    for label, first in group_axes(names, windows):
        window = windows[first]
        text, size = _window_size_text(window, ceil_mode)
        worked.say(f"{label}: {text}", 1)
        worked.check(f"output size of axis {label}", size, _engine_size(window, pool, ceil_mode))
        worked.check(f"output size of axis {label}", size, sizes[first])


def _engine_size(window: AxisWindow, pool: bool, ceil_mode: bool) -> int:
    """The engine's output size for this window (pooling and convolution have their own functions)."""
    if pool:
        return arithmetic.pool_output_size(
            window.size, window.kernel, window.stride, window.pad_left, window.dilation, ceil_mode
        )
    return arithmetic.conv_output_size(
        window.size, window.kernel, window.stride, window.pad_left, window.pad_right, window.dilation
    )


def _window_size_text(window: AxisWindow, ceil_mode: bool) -> tuple[str, int]:
    """('⌊(224 + 2·3 − 7) / 2⌋ + 1 = ⌊223 / 2⌋ + 1 = 111 + 1 = 112', 112): the steps and their result."""
    n, s, k_eff = window.size, window.stride, window.effective_kernel
    left, right = window.pad_left, window.pad_right
    pad = "" if left == right == 0 else f" + 2·{left}" if left == right else f" + {left} + {right}"
    kernel = f"{window.dilation}·({window.kernel} − 1) + 1" if window.dilation > 1 else str(window.kernel)
    numerator = n + left + right - k_eff
    steps = []
    if window.dilation > 1:
        steps.append(f"k_eff = {kernel} = {k_eff}; ")
    if s == 1:
        size = numerator + 1
        steps.append(f"({n}{pad} − {k_eff}) + 1 = {numerator} + 1 = {size}")
        return "".join(steps), size
    rounding = CEIL if ceil_mode else FLOOR
    quotient = -(-numerator // s) if ceil_mode else numerator // s
    size = quotient + 1
    steps.append(
        f"{rounding.format(f'({n}{pad} − {k_eff}) / {s}')} + 1 = {rounding.format(f'{numerator} / {s}')} + 1"
        f" = {quotient} + 1 = {size}"
    )
    if ceil_mode:
        last_start = (size - 1) * s
        if last_start >= n + left:
            size -= 1
            steps.append(
                f"; the last window would start at {size} × {s} = {last_start} ≥ n + p_left = {n + left}, "
                f"inside the right padding, so it is dropped: {size}"
            )
        elif numerator % s:
            steps.append(f" (the last window starts at {size - 1} × {s} = {last_start} < {n + left}: kept)")
    elif numerator % s:
        steps.append(f" (the floor drops the remainder {numerator % s})")
    return "".join(steps), size


def _transposed_sizes(worked: Worked, names: tuple[str, ...], axes: list[AxisWindow], sizes: tuple[int, ...]) -> None:
    worked.say("Output size, per axis: (n − 1) × s − 2p + d·(k − 1) + output_padding + 1")
    for label, first in group_axes(names, axes):
        window = axes[first]
        extra = window.output_padding
        n, s, p, d, k = window.size, window.stride, window.pad_left, window.dilation, window.kernel
        size = arithmetic.transposed_output_size(n, k, s, p, extra, d)
        worked.say(
            f"{label}: ({n} − 1) × {s} − 2·{p} + {d}·({k} − 1) + {extra} + 1 = "
            f"{(n - 1) * s} − {2 * p} + {d * (k - 1)} + {extra} + 1 = {size}",
            1,
        )
        worked.check(f"output size of axis {label}", (n - 1) * s - 2 * p + d * (k - 1) + extra + 1, size)
        worked.check(f"output size of axis {label}", size, sizes[first])


# -------------------------------------------------------------------------------------------- counts


def _params(row: LayerRow, in_shape: tuple[int, ...], worked: Worked) -> None:
    window = window_of(row)
    if window is Window.CONVOLUTION:
        geometry = geometry_of(row)
        kernels = [axis.kernel for axis in geometry.axes]
        per_group = geometry.in_channels // geometry.groups
        weights = geometry.out_channels * per_group * math.prod(kernels)
        bias = geometry.out_channels if geometry.bias else 0
        k_symbols = " × ".join(f"k_{name.lower()}" for name in axis_names(len(kernels)))
        if geometry.groups == geometry.in_channels > 1:  # depthwise: one input channel per filter
            worked.say(
                f"Depthwise: groups = C_in = {geometry.in_channels}, so each of the {geometry.out_channels} "
                "filters sees one input channel"
            )
        if geometry.groups > 1:
            formula = f"C_out × (C_in / g) × {k_symbols}"
            channels = f"{num(geometry.out_channels)} × ({geometry.in_channels} / {geometry.groups})"
        else:
            formula = f"C_out × C_in × {k_symbols}"
            channels = f"{num(geometry.out_channels)} × {num(geometry.in_channels)}"
        substituted = f"{channels} × {' × '.join(str(k) for k in kernels)}"
        _weights_and_bias(worked, formula, substituted, weights, bias, row.params)
    elif window is Window.TRANSPOSED:
        geometry = geometry_of(row)
        kernels = list(geometry.kernel)
        groups, out_channels = geometry.groups, geometry.out_channels
        weights = in_shape[1] * (out_channels // groups) * math.prod(kernels)
        bias = out_channels if geometry.bias else 0
        group_text = f"({out_channels} / {groups})" if groups > 1 else num(out_channels)
        substituted = f"{num(in_shape[1])} × {group_text} × {' × '.join(str(k) for k in kernels)}"
        k_symbols = " × ".join(f"k_{name.lower()}" for name in axis_names(len(kernels)))
        formula = f"C_in × (C_out / g) × {k_symbols}" if groups > 1 else f"C_in × C_out × {k_symbols}"
        _weights_and_bias(worked, formula, substituted, weights, bias, row.params)
    elif row.kind == "linear":
        weights = in_shape[-1] * row.spec.out
        bias = row.spec.out if row.spec.bias else 0
        substituted = f"{num(in_shape[-1])} × {num(row.spec.out)}"
        _weights_and_bias(worked, "in × out", substituted, weights, bias, row.params, "out")
    elif _is_batchnorm(row):
        channels = in_shape[1]
        if row.spec.affine:
            worked.say(f"Params: γ (scale) and β (shift) per channel = 2 × C = 2 × {num(channels)} = {num(row.params)}")
            worked.check("BatchNorm params", 2 * channels, row.params)
        else:
            worked.say("Params: 0 (affine=False: no γ, β)")
            worked.check("BatchNorm params", 0, row.params)
        if row.spec.track_running_stats:
            worked.say(
                f"Buffers (not parameters): running_mean and running_var = 2 × {num(channels)} = {num(row.buffers)}"
                " (the num_batches_tracked counter is not counted)"
            )
            worked.check("BatchNorm buffers", 2 * channels, row.buffers)
        else:
            worked.say("Buffers: 0 (track_running_stats=False)")
            worked.check("BatchNorm buffers", 0, row.buffers)
    elif window is Window.PATCH:
        geometry = geometry_of(row)
        patches = list(geometry.kernel)
        dim = geometry.out_channels
        weights = dim * in_shape[1] * math.prod(patches)
        bias = dim if geometry.bias else 0
        substituted = f"{num(dim)} × {in_shape[1]} × {' × '.join(str(p) for p in patches)}"
        _weights_and_bias(worked, "D × C × p × p", substituted, weights, bias, row.params, "D")
    elif row.kind == "class_token":
        worked.say(f"Params: one learned token of width D = {num(row.params)}")
        worked.check("class token params", in_shape[-1], row.params)
    elif row.kind == "pos_embed":
        worked.say(f"Params: N × D = {num(in_shape[1])} × {num(in_shape[2])} = {num(row.params)}")
        worked.check("position embedding params", in_shape[1] * in_shape[2], row.params)
    elif row.params == 0:
        worked.say("Params: 0")
    else:
        worked.say(f"Params: {num(row.params)}")


def _weights_and_bias(
    worked: Worked, formula: str, substituted: str, weights: int, bias: int, engine: int, bias_name: str = "C_out"
) -> None:
    if bias:
        worked.say(f"Params = {formula} + {bias_name} (bias) = {substituted} + {num(bias)}")
        worked.say(f"= {num(weights)} + {num(bias)} = {num(weights + bias)}", 1)
    else:
        worked.say(f"Params = {formula} (no bias) = {substituted} = {num(weights)}")
    worked.check("params", weights + bias, engine)


def _macs(row: LayerRow, in_shape: tuple[int, ...], worked: Worked) -> None:
    batch = in_shape[0]
    out = row.output_shape
    window = window_of(row)
    if window is Window.CONVOLUTION:
        geometry = geometry_of(row)
        kernels = [axis.kernel for axis in geometry.axes]
        per_group = geometry.in_channels // geometry.groups
        factors = [batch, geometry.out_channels, *out[2:], per_group, *kernels]
        formula = "B × C_out × (output positions) × (C_in / g) × (kernel taps)"
        _macs_lines(worked, formula, factors, row.macs, batch)
    elif window is Window.TRANSPOSED:
        geometry = geometry_of(row)
        factors = [batch, in_shape[1], *in_shape[2:], geometry.out_channels // geometry.groups, *geometry.kernel]
        formula = "B × C_in × (input positions) × (C_out / g) × (kernel taps), on the input grid"
        _macs_lines(worked, formula, factors, row.macs, batch)
    elif row.kind == "linear":
        factors = [*out[:-1], row.spec.out, in_shape[-1]]
        _macs_lines(worked, "(output elements) × in", factors, row.macs, batch)
    elif window is Window.PATCH:
        geometry = geometry_of(row)
        factors = [batch, out[1], geometry.out_channels, in_shape[1], *geometry.kernel]
        _macs_lines(worked, "B × N × D × C × p × p", factors, row.macs, batch)
    elif row.macs == 0:
        worked.say("MACs: 0 (cnncalc counts the MACs of convolutions, linear layers and matmuls only)")
    else:
        worked.say(f"MACs: {num(row.macs)}; FLOPs = 2 × MACs = {num(2 * row.macs)}")


def _macs_lines(worked: Worked, formula: str, factors: list[int], engine: int, batch: int) -> None:
    macs = math.prod(factors)
    worked.check("MACs", macs, engine)
    per_image = f" ({num(macs // batch)} per image)" if batch > 1 else ""
    worked.say(f"MACs = {formula}")
    worked.say(f"= {product_text(*factors)} = {num(macs)}{_about(macs)}{per_image}", 1)
    worked.say(f"FLOPs = 2 × MACs = {num(2 * macs)}{_about(2 * macs)} (a multiply and an add; bias not counted)")


def _about(value: int) -> str:
    """' ≈ 3.78 G' for large numbers, nothing for small ones."""
    return f" ≈ {human(value)}" if value >= 1000 else ""


def _memory(result: AnalysisResult, row: LayerRow, worked: Worked) -> None:
    elements = math.prod(row.output_shape)
    size = result.dtype_bytes
    worked.say(
        f"Output memory = {product_text(*row.output_shape)} elements × {size} bytes ({result.dtype}) = "
        f"{num(elements)} × {size} = {num(elements * size)} bytes ≈ {human_bytes(elements * size)}"
    )
    worked.check("output bytes", elements * size, row.activation_bytes)


def _field_formula(row: LayerRow) -> str:
    return ": " + RECURRENCE if window_of(row) in SLIDING else ":"
