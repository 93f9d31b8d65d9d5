"""The question families: one generator per topic, each answering through the engine.

The topics, their summaries and aliases are listed in cnncalc.drill.catalog; here each gets its generator.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cnncalc.drill.catalog import ALIASES, SUMMARIES
from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import compute, parameters, receptive, shapes, training

Generator = Callable[[random.Random, Level], Question]


@dataclass(frozen=True)
class Topic:
    name: str
    summary: str
    generate: Generator


_GENERATORS: dict[str, Generator] = {
    "conv-output": shapes.conv_output,
    "pool-output": shapes.pool_output,
    "transposed-output": shapes.transposed_output,
    "conv-params": parameters.conv_params,
    "batchnorm": parameters.batchnorm,
    "linear-head": parameters.linear_head,
    "macs-flops": compute.macs_flops,
    "separable-ratio": compute.separable_ratio_question,
    "receptive-field": receptive.receptive_field,
    "shortcut": parameters.shortcut,
    "bottleneck": parameters.bottleneck,
    "activation-memory": compute.activation_memory,
    "im2col": compute.im2col,
    "dense-vs-conv": parameters.dense_vs_conv,
    "vit-patch": parameters.vit_patch,
    "training": training.training,
}
TOPICS: dict[str, Topic] = {name: Topic(name, summary, _GENERATORS[name]) for name, summary in SUMMARIES.items()}


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
