"""The question families: one generator per topic, each answering through the engine."""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import compute, parameters, receptive, shapes

Generator = Callable[[random.Random, Level], Question]


@dataclass(frozen=True)
class Topic:
    name: str
    summary: str
    generate: Generator


TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic("conv-output", "conv output size (stride, padding, dilation) and 'same' padding", shapes.conv_output),
        Topic("pool-output", "pooling output size, with and without ceil_mode", shapes.pool_output),
        Topic(
            "transposed-output",
            "transposed-conv output size (stride, padding, output_padding)",
            shapes.transposed_output,
        ),
        Topic(
            "conv-params",
            "parameters of standard, grouped, depthwise, pointwise, separable convs",
            parameters.conv_params,
        ),
        Topic("batchnorm", "BatchNorm parameters vs buffers", parameters.batchnorm),
        Topic("linear-head", "classifier heads: global-average-pool head vs flatten head", parameters.linear_head),
        Topic("macs-flops", "MACs and FLOPs of a layer", compute.macs_flops),
        Topic("separable-ratio", "depthwise-separable cost ratio 1/C_out + 1/K²", compute.separable_ratio_question),
        Topic("receptive-field", "receptive field and jump through a stack", receptive.receptive_field),
        Topic("shortcut", "residual shortcut: identity or projection, and its parameters", parameters.shortcut),
        Topic("bottleneck", "bottleneck blocks and their savings", parameters.bottleneck),
        Topic("activation-memory", "memory of activations (dtype, batch)", compute.activation_memory),
        Topic("im2col", "im2col / GEMM matrix dimensions of a conv", compute.im2col),
        Topic("dense-vs-conv", "a dense layer vs a conv: parameter counts", parameters.dense_vs_conv),
        Topic("vit-patch", "ViT patch embedding: tokens, shapes, parameters", parameters.vit_patch),
    )
}

# Short names people type.
ALIASES = {
    "conv": "conv-output",
    "output": "conv-output",
    "same": "conv-output",
    "pool": "pool-output",
    "pooling": "pool-output",
    "transposed": "transposed-output",
    "deconv": "transposed-output",
    "params": "conv-params",
    "depthwise": "conv-params",
    "grouped": "conv-params",
    "bn": "batchnorm",
    "head": "linear-head",
    "gap": "linear-head",
    "linear": "linear-head",
    "macs": "macs-flops",
    "flops": "macs-flops",
    "separable": "separable-ratio",
    "ratio": "separable-ratio",
    "rf": "receptive-field",
    "receptive": "receptive-field",
    "residual": "shortcut",
    "projection": "shortcut",
    "memory": "activation-memory",
    "activations": "activation-memory",
    "gemm": "im2col",
    "dense": "dense-vs-conv",
    "fc": "dense-vs-conv",
    "vit": "vit-patch",
    "patch": "vit-patch",
}


class UnknownTopicError(ValueError):
    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"unknown topic {name!r}")
        self.name = name
        self.hint = hint


def resolve_topics(names: Iterable[str]) -> list[str]:
    """Topic names from --topic values (repeatable, comma-separated, aliases allowed), in the order given."""
    chosen: list[str] = []
    for value in names:
        for part in value.split(","):
            name = part.strip().lower().replace("_", "-")
            if not name:
                continue
            topic = name if name in TOPICS else ALIASES.get(name)
            if topic is None:
                close = difflib.get_close_matches(name, [*TOPICS, *ALIASES], n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "`cnncalc drill topics` lists them"
                raise UnknownTopicError(name, hint)
            if topic not in chosen:
                chosen.append(topic)
    return chosen
