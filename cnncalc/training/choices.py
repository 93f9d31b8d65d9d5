"""The options of a training step as a user gives them (command line or Python API), checked in one place.

Both front ends pass the raw values; `spelled` says how the front end names an option in its messages
(`--freeze` or `freeze`), so that each user reads the names they typed.
"""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.base.errors import UsageError
from cnncalc.training.network import (
    DEFAULT_DEVICE,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEVICES,
    OPTIMIZER_STATES,
    PRECISIONS,
    TrainingOptions,
)


def command_line_name(option: str) -> str:
    return f"--{option}"


def api_name(option: str) -> str:
    return option


def training_options(
    mode: object,
    optimizer: object = DEFAULT_OPTIMIZER,
    freeze: object = None,
    checkpoint: object = None,
    precision: object = DEFAULT_PRECISION,
    device: object = DEFAULT_DEVICE,
    spelled: Callable[[str], str] = api_name,
    train_hint: str | None = None,
) -> TrainingOptions | None:
    """The options of a training step (None for mode "infer"), checked; UsageError says what is wrong.
    `train_hint`: what to tell a user who gave a training option without a training step."""
    train_hint = train_hint or ("add --mode train" if spelled is command_line_name else "add mode='train'")
    if mode not in ("infer", "train"):
        raise UsageError(f"{spelled('mode')}: expected 'infer' or 'train', got {mode!r}", train_hint)
    for option, value, allowed in (
        ("optimizer", optimizer, OPTIMIZER_STATES),
        ("precision", precision, PRECISIONS),
        ("device", device, DEVICES),
    ):
        if value not in allowed:
            raise UsageError(f"{spelled(option)}: unknown {option} {value!r}", f"one of: {', '.join(allowed)}")
    paths = _paths(freeze, spelled("freeze"), "['conv1', 'layer1']")
    checkpointed = _paths(checkpoint, spelled("checkpoint"), "['layer3', 'layer4']")
    if mode == "infer":
        given = [
            name
            for name, used in (
                ("freeze", paths),
                ("checkpoint", checkpointed),
                ("optimizer", optimizer != DEFAULT_OPTIMIZER),
                ("precision", precision != DEFAULT_PRECISION),
                ("device", device != DEFAULT_DEVICE),
            )
            if used
        ]
        if given:
            raise UsageError(f"{spelled(given[0])} applies to a training step", train_hint)
        return None
    return TrainingOptions(
        optimizer=str(optimizer),
        freeze=paths,
        checkpoint=checkpointed,
        precision=str(precision),
        device=str(device),
    )


def _paths(value: object, name: str, example: str) -> tuple[str, ...]:
    paths = (value,) if isinstance(value, str) else tuple(value or ())  # type: ignore[arg-type]
    if not all(isinstance(path, str) for path in paths):
        raise UsageError(f"{name}: expected block paths (strings)", f"e.g. {name}={example}")
    return paths
