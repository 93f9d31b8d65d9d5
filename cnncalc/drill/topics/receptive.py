"""Receptive-field questions: size and jump through a stack, and how many layers reach a given field."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from cnncalc.base import arithmetic
from cnncalc.base.geometry import Window
from cnncalc.base.tensor import AxisField
from cnncalc.calc.explain_field import explain_field_stack
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.worked import Worked
from cnncalc.drill.building import excluding_answer, generated
from cnncalc.drill.question import Level, Mistake, Question, exact_number
from cnncalc.engine.result import AnalysisResult
from cnncalc.kinds import REGISTRY

# A large input keeps every stack's feature maps non-empty; the receptive field does not depend on it.
STACK_INPUT = (8, 1024, 1024)

_TEMPLATES = {
    Level.easy: (
        "conv3, conv3",
        "conv3, conv3, conv3",
        "conv5, conv3",
        "conv3, conv3, pool2/2",
        "conv3, pool2/2, conv3",
    ),
    Level.medium: (
        "conv3, conv3, pool2/2, conv3, conv3, pool2/2",
        "conv7/2, pool3/2, conv3, conv3",
        "conv3, conv3, pool2/2, conv3 d2",
        "conv5, pool2/2, conv5, pool2/2",
        "conv3/2, conv3, conv3/2, conv3",
        "conv3, conv3/2, conv3, pool2/2, conv3",
    ),
    Level.hard: (
        "conv11/4, pool3/2, conv5, pool3/2, conv3, conv3, conv3",
        "conv7/2, pool3/2, conv3, conv3, conv3, conv3, conv3/2, conv3",
        "conv3 d1, conv3 d2, conv3 d4, conv3 d8",
        "conv3/2, conv3, conv3/2, conv3 d2, conv3 d4",
        "conv3, conv3, pool2/2, conv3, conv3, pool2/2, conv3, conv3, conv3, pool2/2",
        "conv7/2, pool3/2, conv3 x4, conv3/2, conv3 x3, conv3 d2 x2",
    ),
}


# How the drill writes a kind in the inline syntax and in words, where that differs from the kind's own name.
_INLINE_NAMES = {"maxpool": "pool"}
_WORD_NAMES = {"maxpool": "max-pool"}
# What the drill builds for the engine where the stack syntax's rank-free kind has a fixed-rank spelling.
_ENGINE_TYPES = {"conv": "conv2d", "maxpool": "maxpool2d"}


def _window(kind: str) -> Window | None:
    """The window a stack layer's kind slides, from its registry record; a stack question cannot ask about a
    composite (it is several layers) or a window with no integer jump along the stack."""
    record = REGISTRY.get(kind)
    if record is None:
        raise ValueError(f"'{kind}' expands into several layers; a receptive-field stack takes single layers")
    if record.window not in (None, Window.CONVOLUTION, Window.POOLING):
        raise ValueError(f"'{kind}' has a {record.window.value} window; a stack question takes convolutions and pools")
    return record.window


def _default_stride(kind: str, kernel: int) -> int:
    """PyTorch's: the kernel for a pool, 1 otherwise (as the stack syntax has it)."""
    return kernel if _window(kind) is Window.POOLING else 1


def _first(value: int | list[int]) -> int:
    """The first spatial axis's value of a field written for every axis or per axis."""
    return value[0] if isinstance(value, list) else value


def stack_layers(text: str) -> list[dict[str, Any]]:
    """'conv3/2, pool2/2, relu, conv3 d2' -> [{kind, kernel, stride, dilation}, ...] along the first spatial
    axis, repeats expanded, PyTorch's defaults filled in. Any kind the stack syntax reads may appear: one that
    slides no window (an activation, a norm, a kind a plugin registered) is written as kernel, stride and
    dilation 1, since it adds nothing to the field."""
    from cnncalc.calc.stack_syntax import parse_stack

    layers = []
    for layer in parse_stack(text):
        entry = layer.entry
        kind = entry["type"]
        if _window(kind) is None:
            kernel = stride = dilation = 1
        else:
            kernel = _first(entry["kernel"])
            stride = _first(entry.get("stride", _default_stride(kind, kernel)))
            dilation = _first(entry.get("dilation", 1))
        layers.append({"kind": kind, "kernel": kernel, "stride": stride, "dilation": dilation})
    return layers


def stack_text(layers: Sequence[dict[str, Any]]) -> str:
    """The inline form: conv3, conv3/2, pool2/2, conv3 d2, relu."""
    parts = []
    for layer in layers:
        kind = layer["kind"]
        name = _INLINE_NAMES.get(kind, kind)
        window = _window(kind)
        if window is None:
            parts.append(name)
            continue
        text = f"{name}{layer['kernel']}"
        if layer["stride"] != _default_stride(kind, layer["kernel"]) or window is Window.POOLING:
            text += f"/{layer['stride']}"
        if layer["dilation"] != 1:
            text += f" d{layer['dilation']}"
        parts.append(text)
    return ", ".join(parts)


def stack_words(layers: Sequence[dict[str, Any]]) -> str:
    """conv 3x3 (stride 1) → max-pool 2x2 (stride 2) → relu → conv 3x3 (stride 1, dilation 2)."""
    parts = []
    for layer in layers:
        name = _WORD_NAMES.get(layer["kind"], layer["kind"])
        if _window(layer["kind"]) is None:
            parts.append(name)
            continue
        details = f"stride {layer['stride']}" + (f", dilation {layer['dilation']}" if layer["dilation"] != 1 else "")
        parts.append(f"{name} {layer['kernel']}x{layer['kernel']} ({details})")
    return " → ".join(parts)


def analyze_stack(layers: Sequence[dict[str, Any]]) -> AnalysisResult:
    """The engine's analysis of a stack; convolutions are padded to keep sizes (padding never changes r or j)."""
    entries: list[dict[str, Any]] = []
    for layer in layers:
        kind, kernel, stride, dilation = layer["kind"], layer["kernel"], layer["stride"], layer["dilation"]
        entry: dict[str, Any] = {"type": _ENGINE_TYPES.get(kind, kind)}
        window = _window(kind)
        if window is Window.CONVOLUTION:
            padding = (arithmetic.effective_kernel(kernel, dilation) - 1) // 2
            if kind == "conv":
                entry["out"] = STACK_INPUT[0]
            entry.update(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        elif window is Window.POOLING:
            entry.update(kernel=kernel, stride=stride)
            if dilation != 1:
                entry["dilation"] = dilation
        entries.append(entry)
    return analyze_layers(STACK_INPUT, entries)


def stack_field(layers: Sequence[dict[str, Any]]) -> AxisField:
    """The receptive field (first spatial axis) of the stack's last layer."""
    field = analyze_stack(layers).receptive_field
    assert field is not None  # a stack of convs, pools and layers without a window always has one
    return field[0]


def receptive_field(rng: random.Random, level: Level) -> Question:
    if level is not Level.easy and rng.random() < 0.25:
        return _layers_needed(rng, level)
    template = rng.choice(_TEMPLATES[level])
    ask = "jump" if level is Level.hard and rng.random() < 0.3 else "size"
    return stack_question(template, level, ask)


def stack_question(text: str, level: Level, ask: str = "size") -> Question:
    """The question on the receptive field's size (or jump) through a stack written inline, with the engine's
    answer and the calculators' worked solution. Any single-layer kind the stack syntax reads can be in it."""
    layers = stack_layers(text)
    result = analyze_stack(layers)
    labels = {index: stack_text([layer]) for index, layer in enumerate(layers)}
    worked = explain_field_stack(result, labels)
    field = result.receptive_field[0] if result.receptive_field else None
    assert field is not None
    value = field.size if ask == "size" else field.jump
    mistakes: list[Mistake] = []
    if ask == "size":
        ignoring_jump = 1 + sum(arithmetic.effective_kernel(layer["kernel"], layer["dilation"]) - 1 for layer in layers)
        mistakes.append((Fraction(ignoring_jump), "that ignores the jump: after stride s, later taps are s× apart"))
        if any(layer["dilation"] != 1 for layer in layers):
            plain = stack_field([{**layer, "dilation": 1} for layer in layers])
            mistakes.append((Fraction(plain.size), "that ignores the dilation: k_eff = d·(k − 1) + 1"))
        question = "How large is the receptive field of one unit of the last layer (in input pixels, per side)?"
    else:
        question = "What is the jump (effective stride: input pixels between neighbouring units) of the last layer?"
    inline = stack_text(layers)
    prompt = f"A stack: {stack_words(layers)}. {question}\n(Inline: {inline})"
    facts = {"ask": ask, "layers": layers}
    command = f'cnncalc calc stack "{inline}" --explain'
    expected = exact_number(value)
    mistakes = excluding_answer(mistakes, value)
    return generated("receptive-field", level, f"{ask}/{inline}", prompt, expected, worked, facts, command, mistakes)


def _layers_needed(rng: random.Random, level: Level) -> Question:
    kernel = rng.choice((3, 3, 5)) if level is Level.hard else 3
    target = rng.choice((7, 11, 15, 19, 25, 31, 51))
    fields: list[int] = []
    while not fields or fields[-1] < target:
        size = stack_field([{"kind": "conv", "kernel": kernel, "stride": 1, "dilation": 1}] * (len(fields) + 1)).size
        assert isinstance(size, int)
        fields.append(size)
    count = len(fields)
    worked = Worked()
    worked.say(f"Each {kernel}x{kernel} stride-1 conv adds (k − 1) × j = {kernel - 1} × 1 = {kernel - 1} pixels:")
    worked.say(f"r_n = 1 + n × {kernel - 1}; the engine's fields for n = 1 … {count}: {', '.join(map(str, fields))}", 1)
    worked.say(f"The first n with r_n ≥ {target} is {count} (r = {fields[-1]})", 1)
    prompt = (
        f"How many stacked {kernel}x{kernel} convolutions (stride 1, no pooling) does it take for the receptive "
        f"field to reach at least {target}x{target} input pixels?"
    )
    key = f"layers-needed/k{kernel}/r{target}"
    facts = {"ask": "layers-needed", "kernel": kernel, "target": target}
    command = f'cnncalc calc stack "conv{kernel} x{count}" --explain'
    return generated("receptive-field", level, key, prompt, exact_number(count), worked, facts, command)
