"""Training by arithmetic: backward FLOPs, what autograd keeps for the backward, and the memory of a step.

`analyze_training(result, TrainingOptions(...))` runs each layer kind's training rule (`registry`, `rules`)
over an engine result. Pure arithmetic: no torch.
"""

from cnncalc.training.network import (
    DEFAULT_OPTIMIZER,
    OPTIMIZER_STATES,
    TrainingLayer,
    TrainingOptions,
    TrainingRefused,
    TrainingResult,
    TrainingTotals,
    analyze_training,
    training_problem,
)
from cnncalc.training.registry import RULES_FOLLOW, TRAINING_RULES

__all__ = [
    "DEFAULT_OPTIMIZER",
    "OPTIMIZER_STATES",
    "RULES_FOLLOW",
    "TRAINING_RULES",
    "TrainingLayer",
    "TrainingOptions",
    "TrainingRefused",
    "TrainingResult",
    "TrainingTotals",
    "analyze_training",
    "training_problem",
]
