"""The drill's training questions: every answer is the figure cnncalc's training engine gives through its public
API (`cnncalc.analyze(mode="train")`, `cnncalc.fit`), the worked solution shows the numbers that lead there, the
grader takes the right answer and refuses the typical wrong ones, and a seed always gives the same questions.

(tests/test_drill_questions.py works the same answers out again by hand from the questions' facts.)
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from typing import Any

import pytest
from drill_helpers import drill_ok, questions, typed_answer

import cnncalc
from cnncalc.calc.worked import num
from cnncalc.drill.question import Level, Question
from cnncalc.drill.topics import TOPICS, resolve_topics
from cnncalc.drill.topics import training as topic

ASKS = ("backward-flops", "saved-bytes", "optimizer-state", "fit-batch")
BUILDERS = {
    "backward-flops": topic.backward_flops,
    "saved-bytes": topic.saved_bytes,
    "optimizer-state": topic.optimizer_state,
    "fit-batch": topic.fit_batch,
}
SEEDS = range(5)


def drawn(ask: str, level: Level, seeds: range = SEEDS) -> list[Question]:
    return [BUILDERS[ask](random.Random(seed), level) for seed in seeds]


# ------------------------------------------------------------------------ the engine's figures, through the API


def conv_layer(facts: dict[str, Any]) -> dict[str, Any]:
    keys = ("out", "kernel", "stride", "padding", "groups")
    return {"type": "conv2d", **{key: facts[key] for key in keys}}


def network_around(facts: dict[str, Any]) -> dict[str, Any]:
    """A spec that puts the question's conv where it says: on the image, or above a 1x1 conv that trains (or is
    frozen, for "frozen-below")."""
    channels = facts["input"][0]
    layers: list[dict[str, Any]] = []
    if facts["situation"] != "first":
        below = {"type": "conv2d", "out": channels, "kernel": 1, "frozen": facts["situation"] == "frozen-below"}
        layers.append(below)
    layers.append(conv_layer(facts) | {"frozen": facts["situation"] == "frozen"})
    return {"name": "q", "input": {"shape": facts["input"], "batch": facts["batch"]}, "layers": layers}


def backward_flops_by_api(facts: dict[str, Any]) -> int:
    """The conv's `backward_flops` in `analyze(mode="train")`."""
    value = cnncalc.analyze(network_around(facts), mode="train").layers[-1].backward_flops
    assert value is not None
    return value


def saved_bytes_by_api(facts: dict[str, Any]) -> int:
    conv = {"type": "conv2d", "out": facts["out"], "kernel": 3, "padding": 1, "bias": False}
    block = [conv | {"stride": facts["stride"]}, {"type": "batchnorm2d"}]
    activation = {"type": facts["activation"], "inplace": facts["inplace"]}
    layers = [*block, activation] + ([conv, {"type": "batchnorm2d"}, activation] if facts["blocks"] == 2 else [])
    spec = {"name": "q", "input": {"shape": facts["input"], "batch": facts["batch"]}, "layers": layers}
    training = cnncalc.analyze(spec, mode="train").training
    assert training is not None
    return training.saved_activation_bytes


def optimizer_state_by_api(facts: dict[str, Any]) -> int:
    analysis = cnncalc.analyze(facts["network"], mode="train", optimizer=facts["optimizer"], freeze=facts["freeze"])
    training = analysis.training
    assert training is not None
    with_gradients = facts["variant"] == "with-gradients"
    return training.optimizer_state_bytes + (training.gradient_bytes if with_gradients else 0)


def peak_by_api(facts: dict[str, Any], batch: int) -> int:
    shape = tuple(facts["input"])
    analysis = cnncalc.analyze(
        facts["network"], input=None if shape == (3, 224, 224) else shape, batch=batch, mode="train",
        optimizer=facts["optimizer"],
    )  # fmt: skip
    assert analysis.training is not None
    return analysis.training.training_peak_bytes


def fit_by_api(facts: dict[str, Any]) -> int:
    shape = tuple(facts["input"])
    result = cnncalc.fit(
        facts["network"], facts["memory"], optimizer=facts["optimizer"],
        input=None if shape == (3, 224, 224) else shape,
    )  # fmt: skip
    assert result.answer is not None
    return result.answer


ENGINE = {
    "backward-flops": backward_flops_by_api,
    "saved-bytes": saved_bytes_by_api,
    "optimizer-state": optimizer_state_by_api,
    "fit-batch": fit_by_api,
}


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("ask", ASKS)
def test_each_answer_is_the_training_engines_figure(ask: str, level: Level) -> None:
    for question in drawn(ask, level):
        assert question.topic == "training" and question.facts["ask"] == ask
        assert question.expected.value == Fraction(ENGINE[ask](dict(question.facts))), question.id


@pytest.mark.parametrize("level", list(Level))
def test_the_largest_batch_fits_and_one_more_does_not(level: Level) -> None:
    for question in drawn("fit-batch", level, range(3)):
        facts = dict(question.facts)
        answer = int(question.expected.value)  # type: ignore[arg-type]
        assert answer >= 2
        assert peak_by_api(facts, answer) <= facts["memory_bytes"] < peak_by_api(facts, answer + 1), question.id


def test_every_kind_of_question_is_asked_at_every_level() -> None:
    for level in Level:
        asked = {TOPICS["training"].generate(random.Random(seed), level).facts["ask"] for seed in range(40)}
        assert asked == set(ASKS), level


def test_the_levels_differ() -> None:
    situations = {level: {q.facts["situation"] for q in drawn("backward-flops", level, range(30))} for level in Level}
    assert situations[Level.easy] <= {"first", "middle"}
    assert "frozen" in situations[Level.medium]
    assert "frozen-below" in situations[Level.hard]
    assert {q.facts["blocks"] for q in drawn("saved-bytes", Level.easy)} == {1}
    assert {q.facts["blocks"] for q in drawn("saved-bytes", Level.hard)} == {2}
    assert not any(q.facts["frozen_params"] for q in drawn("optimizer-state", Level.medium, range(10)))
    assert all(q.facts["frozen_params"] for q in drawn("optimizer-state", Level.hard, range(10)))


# ------------------------------------------------------------------------------------------ worked solutions


def first_question(ask: str, level: Level, wanted: dict[str, Any]) -> Question:
    """The first question (by seed) of this kind whose facts have these values."""
    for seed in range(200):
        question = BUILDERS[ask](random.Random(seed), level)
        if all(question.facts[key] == value for key, value in wanted.items()):
            return question
    raise AssertionError(f"no {ask} question with {wanted}")


def test_the_backward_solution_counts_the_gradients_autograd_computes() -> None:
    middle = first_question("backward-flops", Level.medium, {"situation": "middle", "approximate": False})
    gradient = int(middle.expected.value) // 2  # type: ignore[arg-type]
    assert (
        f"∂L/∂x (the output gradient convolved with the flipped kernel): 2 × MACs = {num(gradient)}" in middle.solution
    )
    assert f"∂L/∂W (the input correlated with the output gradient): 2 × MACs = {num(gradient)}" in middle.solution
    assert f"Backward FLOPs = {num(gradient)} + {num(gradient)} = {num(2 * gradient)}" in middle.solution
    assert "∂L/∂b: the output gradient summed over batch and positions: additions only, not counted" in middle.solution

    first = first_question("backward-flops", Level.easy, {"situation": "first"})
    assert "∂L/∂x: not computed: the image needs no gradient" in first.solution
    assert f"Backward FLOPs = {num(int(first.expected.value))} (the forward's FLOPs)" in first.solution  # type: ignore[arg-type]

    frozen = first_question("backward-flops", Level.medium, {"situation": "frozen"})
    assert "∂L/∂W: not computed: the layer is frozen" in frozen.solution
    below = first_question("backward-flops", Level.hard, {"situation": "frozen-below"})
    assert "∂L/∂x: not computed: nothing below this layer trains" in below.solution


def test_a_grouped_conv_names_flop_counter_modes_figure() -> None:
    grouped = [q for q in drawn("backward-flops", Level.hard, range(60)) if q.facts["groups"] > 1]
    assert grouped
    named = 0
    for question in grouped:
        facts = question.facts
        analysis = cnncalc.analyze(network_around(facts), mode="train")
        assert analysis.training is not None
        # the 1x1 conv below has one group: FlopCounterMode counts its backward right
        below = sum(layer.backward_flops or 0 for layer in analysis.layers[:-1])
        torch_figure = analysis.training.torch_backward_flops - below
        if facts["situation"] == "frozen":  # no weight gradient: FlopCounterMode has nothing to count twice
            continue
        assert torch_figure > int(question.expected.value), question.id  # type: ignore[arg-type]
        assert f"FlopCounterMode prints {num(torch_figure)}" in question.solution
        assert f"groups = {facts['groups']} that many times" in question.solution
        grade = question.grade(str(torch_figure))
        assert not grade.correct
        named += "FlopCounterMode" in grade.note  # unless another slip gives the same number (groups = 2)
    assert named


def test_the_saved_bytes_solution_goes_storage_by_storage() -> None:
    relu = first_question("saved-bytes", Level.hard, {"activation": "relu"})
    facts = relu.facts
    channels, height, width = facts["input"]
    block_input = facts["batch"] * channels * height * width * 4
    assert (
        f"conv: its input (∂L/∂W needs it): {facts['batch']} × {channels} × {height} × {width} × 4 = " in relu.solution
    )
    assert f"= {num(block_input)} B" in relu.solution
    assert "conv: its input is the ReLU's output, kept already: one storage, counted once: + 0 B" in relu.solution
    assert f"2 × {facts['out']} × 4 = {num(8 * facts['out'])} B" in relu.solution  # BatchNorm's statistics
    assert f"= {num(int(relu.expected.value))} B ≈ " in relu.solution  # type: ignore[arg-type]

    silu = first_question("saved-bytes", Level.hard, {"activation": "silu", "inplace": True})
    assert "in place it overwrites its input, which its backward reads: autograd keeps a copy first" in silu.solution
    assert "the BatchNorm output the in-place SiLU overwrote, which nothing keeps yet" in silu.solution


def test_the_optimizer_solution_counts_state_per_trainable_parameter() -> None:
    question = first_question("optimizer-state", Level.hard, {"optimizer": "adamw"})
    facts = question.facts
    trainable = facts["params"] - facts["frozen_params"]
    assert (
        f"Trainable parameters: {num(facts['params'])} − {num(facts['frozen_params'])} frozen = {num(trainable)}"
        in (question.solution)
    )
    assert f"Optimizer state = 2 × {num(trainable)} × 4 = {num(8 * trainable)} B" in question.solution
    assert "exp_avg and exp_avg_sq" in question.solution
    momentum = first_question("optimizer-state", Level.easy, {"optimizer": "momentum"})
    assert f"Optimizer state = 1 × {num(momentum.facts['params'])} × 4 = " in momentum.solution


def test_the_fit_solution_solves_the_line_and_checks_both_sides() -> None:
    question = first_question("fit-batch", Level.medium, {"optimizer": "adamw"})
    facts = question.facts
    answer = int(question.expected.value)  # type: ignore[arg-type]
    per_sample = facts["per_sample_bytes"]
    assert num(per_sample) in question.prompt and facts["network"] in question.command
    assert f"2 × {num(facts['params'])} × 4 = {num(8 * facts['params'])} B" in question.solution  # AdamW's state
    assert f"/ {num(per_sample)}⌋ = {num(answer)}" in question.solution
    assert f"Check: batch {num(answer)} needs {num(peak_by_api(dict(facts), answer))} B ≤ " in question.solution
    assert f"batch {num(answer + 1)} would need {num(peak_by_api(dict(facts), answer + 1))} B > " in question.solution


# ------------------------------------------------------------------------------------------ grading


@pytest.mark.parametrize("ask", ASKS)
def test_the_right_answer_is_accepted_and_wrong_ones_are_not(ask: str) -> None:
    for level in Level:
        for question in drawn(ask, level, range(3)):
            assert question.grade(typed_answer(question)).correct, question.id
            value = question.expected.value
            assert isinstance(value, Fraction)
            assert not question.grade(str(int(value) * 2)).correct, question.id
            if not question.expected.tolerance:
                assert not question.grade(str(int(value) + 1)).correct, question.id
            # a count typed in full, with its unit (a bare number would be read in the question's unit)
            unit = " B" if question.expected.memory else " FLOPs" if question.facts["ask"] == "backward-flops" else ""
            for mistake, note in question.mistakes:  # each typical slip, typed exactly, is named
                grade = question.grade(f"{int(mistake)}{unit}")  # type: ignore[arg-type]
                assert not grade.correct and grade.note == note, (question.id, mistake)


def test_typical_slips_get_their_remark() -> None:
    first = first_question("backward-flops", Level.easy, {"situation": "first"})
    both = 2 * int(first.expected.value)  # type: ignore[arg-type]
    assert first.grade(str(both)).note == "that counts ∂L/∂x too: the first layer's input, the image, needs no gradient"
    middle = first_question("backward-flops", Level.easy, {"situation": "middle"})
    one = int(middle.expected.value) // 2  # type: ignore[arg-type]
    assert "one gradient's worth" in middle.grade(str(one)).note

    fit = first_question("fit-batch", Level.medium, {"optimizer": "adamw", "memory": "24GiB"})
    facts = fit.facts
    params, per_sample = facts["params"], facts["per_sample_bytes"]
    fixed = 4 * (params + facts["buffers"]) + 4 * params + 8 * params + facts["constant_bytes"]
    assert fit.grade(str((24 * 10**9 - fixed) // per_sample)).note == "1 GiB = 2³⁰ bytes, not 10⁹"
    without_state = (facts["memory_bytes"] - fixed + 8 * params) // per_sample
    if without_state != int(fit.expected.value):  # type: ignore[arg-type]
        assert "leaves out the optimizer state" in fit.grade(str(without_state)).note


# ------------------------------------------------------------------------------------------ the topic


def test_the_topic_is_listed_and_its_aliases_resolve() -> None:
    listing = drill_ok("topics", env={"COLUMNS": "200"}).stdout  # one line per topic at this width
    line = next(line for line in listing.splitlines() if line.startswith("training "))
    assert "backward FLOPs, saved bytes, optimizer state, fit" in line
    assert resolve_topics(["train", "backward", "optimizer", "fit"]) == ["training"]


@pytest.mark.parametrize("level", list(Level))
def test_a_seed_gives_the_same_training_questions(level: Level) -> None:
    def session(seed: int) -> list[tuple[str, str, str, object]]:
        return [(q.id, q.prompt, q.solution, q.expected) for q in questions(("training",), 8, seed, level)]

    assert session(3) == session(3)
    assert session(3) != session(4)
    for seed in range(3):
        once = TOPICS["training"].generate(random.Random(seed), level)
        again = TOPICS["training"].generate(random.Random(seed), level)
        assert (once.id, once.prompt, once.solution, once.mistakes) == (
            again.id,
            again.prompt,
            again.solution,
            again.mistakes,
        )


def test_a_piped_training_session_grades_right_answers_right() -> None:
    asked = questions(("training",), 6, 21, Level.hard)
    piped = "".join(f"{typed_answer(question)}\n" for question in asked)
    report = json.loads(
        drill_ok("--json", "--topic", "train", "--count", "6", "--seed", "21", "--level", "hard", "--no-save",
                 stdin=piped).stdout
    )  # fmt: skip
    assert [entry["id"] for entry in report["questions"]] == [question.id for question in asked]
    assert report["summary"]["correct"] == 6
