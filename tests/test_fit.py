"""`cnncalc fit`: the answer fits and one step beyond does not, checked against the estimate computed directly;
memory is a line in the batch from batch 2 on for every zoo spec; budgets, refusals and the output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirunner import invoke

import cnncalc
from cnncalc.base import limits
from cnncalc.base.errors import UsageError
from cnncalc.engine.analysis import InputOverrides, analyze_loaded
from cnncalc.language.yaml_source import load_yaml, read_spec_text
from cnncalc.language.zoo import resolve_spec, zoo_specs
from cnncalc.training import TrainingRefused, analyze_training
from cnncalc.training.fit import (
    FitProblem,
    MemoryPoint,
    Refusal,
    _solve_batch,
    _solve_side,
    fit_memory,
    parse_memory,
    total_stride,
)

GIB = 1024**3


def _loaded(name: str):
    path = resolve_spec(name)
    return load_yaml(read_spec_text(path), str(path))


def direct_peak(name: str, mode: str, batch: int, sample: tuple[int, ...] | None = None) -> int:
    """The estimate as `analyze` gives it, computed here without the solver."""
    result = analyze_loaded(_loaded(name), InputOverrides(sample, batch))
    if mode == "infer":
        totals = result.totals
        return totals.param_bytes + totals.buffer_bytes + totals.peak_activation_bytes
    return analyze_training(result).totals.training_peak_bytes


CASES = [
    ("resnet18", "train", "batch", 8 * GIB),
    ("resnet18", "infer", "resolution", 8 * GIB),
    ("vit_b_16", "train", "resolution", 24 * GIB),
    ("vit_b_16", "infer", "batch", 2 * GIB),
    ("swin_t", "train", "batch", 3 * GIB),
    ("unet", "train", "resolution", 16 * GIB),
    ("deeplabv3_resnet50", "train", "batch", 6 * GIB),
    ("mobilenet_v2", "infer", "resolution", 10**9),
]


@pytest.mark.parametrize(("name", "mode", "solve", "budget"), CASES)
def test_the_answer_fits_and_one_step_beyond_does_not(name: str, mode: str, solve: str, budget: int) -> None:
    result = fit_memory(_loaded(name), budget, mode=mode, solve=solve)
    assert result.answer is not None and isinstance(result.at, MemoryPoint)
    assert isinstance(result.beyond, MemoryPoint)
    if solve == "batch":
        assert result.step == 1 and result.beyond.batch == result.answer + 1
        at = direct_peak(name, mode, result.answer)
        beyond = direct_peak(name, mode, result.answer + 1)
    else:
        channels = result.at.input_shape[1]
        assert result.answer % result.step == 0
        assert result.at.input_shape[2:] == (result.answer, result.answer)
        assert result.beyond.input_shape[2:] == (result.answer + result.step,) * 2
        at = direct_peak(name, mode, 1, (channels, result.answer, result.answer))
        beyond = direct_peak(name, mode, 1, (channels, result.answer + result.step, result.answer + result.step))
    assert result.at.peak_bytes == at <= budget < beyond == result.beyond.peak_bytes
    assert sum(value for _, value in result.at.components) == at
    assert result.evaluations <= (6 if solve == "batch" else 4 * 31)


def test_resnet50_at_24_gib_in_exact_bytes() -> None:
    result = fit_memory(_loaded("resnet50"), 24 * GIB)
    assert (result.answer, result.evaluations) == (265, 5)
    assert result.at is not None and result.beyond is not None and isinstance(result.beyond, MemoryPoint)
    assert dict(result.at.components) == {
        "param_bytes": 102_440_608,
        "gradient_bytes": 102_228_128,
        "optimizer_state_bytes": 204_456_256,
        "saved_activation_bytes": 22_766_231_040,
        "backward_transient_bytes": 2_552_954_880,
    }
    assert result.at.peak_bytes == 25_728_310_912 <= 24 * GIB < 25_823_854_208 == result.beyond.peak_bytes
    assert result.formula is not None
    assert (result.formula.intercept, result.formula.slope) == (409_337_472, 95_543_296)


@pytest.mark.parametrize("mode", ["train", "infer"])
@pytest.mark.parametrize("name", zoo_specs())
def test_memory_is_the_solvers_line_in_the_batch_from_batch_two(name: str, mode: str) -> None:
    """Every component is constant or holds the batch; the line through batches 2 and 3 gives every batch
    from 2 on exactly (batch 1 may differ: a batch axis of one element makes more views contiguous)."""
    result = fit_memory(_loaded(name), 64 * GIB, mode=mode)
    formula = result.formula
    assert formula is not None and formula.from_batch == 2 and formula.slope > 0
    for batch in (2, 5, 64, 1000, 2**20):
        assert direct_peak(name, mode, batch) == formula.at(batch), batch
    try:
        assert direct_peak(name, mode, 1) <= formula.at(2)  # batch 1 off the line, but below batch 2
    except TrainingRefused:  # BatchNorm over one value per channel: a network that trains only from batch 2
        assert name == "deeplabv3_resnet50"


def test_a_line_that_does_not_hold_falls_back_to_bisection() -> None:
    """Quadratic memory: the line through 2 and 3 overshoots; the exact search still answers right."""
    calls: list[int] = []

    def quadratic(batch: int) -> MemoryPoint:
        calls.append(batch)
        return MemoryPoint(batch, (batch, 1), (("x", batch * batch),), batch * batch)

    answer, at, beyond, _ = _solve_batch(quadratic, 10**6)
    assert (answer, at.peak_bytes, beyond.peak_bytes) == (1000, 10**6, 1001**2)  # type: ignore[union-attr]
    assert len(set(calls)) <= 5 + 32


def test_memory_that_shrinks_with_the_input_is_refused_not_answered() -> None:
    def shrinking(k: int) -> MemoryPoint:
        return MemoryPoint(1, (1, 1, k, k), (("x", 0),), 1000 - k if k < 500 else 10**9)

    with pytest.raises(FitProblem, match="memory does not grow with the input"):
        _solve_side(shrinking, 10**6, 8)


def test_sides_the_network_refuses_are_skipped_at_the_small_end() -> None:
    """AlexNet cannot take 32x32 (its kernels outgrow the map): the smallest side searched is 64."""
    result = fit_memory(_loaded("alexnet"), 240 * 10**6, mode="infer", solve="resolution")  # weights: 244 MB
    assert result.step == 32 and result.answer is None
    assert isinstance(result.beyond, MemoryPoint) and result.beyond.input_shape == (1, 3, 64, 64)
    assert result.smallest_refused is not None and result.smallest_refused.input_shape == (1, 3, 32, 32)
    assert "too small for a kernel" in result.smallest_refused.reason


@pytest.mark.parametrize(
    ("name", "stride"),
    [("resnet50", 32), ("vit_b_16", 16), ("unet", 16), ("fcn_resnet50", 8), ("lraspp_mobilenet_v3_large", 16)],
)
def test_total_stride(name: str, stride: int) -> None:
    assert total_stride(analyze_loaded(_loaded(name))) == stride


def test_a_budget_beyond_the_largest_batch_answers_the_largest_batch() -> None:
    result = fit_memory(_loaded("lenet5"), parse_memory("1000TiB"), mode="infer")
    assert result.answer == limits.MAX_DIMENSION and result.beyond is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("24GiB", 24 * 2**30),
        ("24GB", 24 * 10**9),
        ("24000MiB", 24000 * 2**20),
        ("25769803776", 25769803776),
        ("1.5GiB", 1610612736),
        ("24 gib", 24 * 2**30),
        ("512KiB", 512 * 1024),
        ("7B", 7),
    ],
)
def test_memory_sizes(text: str, value: int) -> None:
    assert parse_memory(text) == value


@pytest.mark.parametrize("text", ["24XB", "-5GiB", "0", "abc", "1.5B", "", "24G", "GiB", "1e9"])
def test_bad_memory_is_a_usage_error_with_a_hint(text: str) -> None:
    with pytest.raises(UsageError):
        parse_memory(text)
    result = invoke("fit", "resnet18", "--memory", text)
    assert result.code == 2, result.output
    assert "--memory" in result.stderr and "hint:" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("solve", ["batch", "resolution"])
def test_nothing_fits_is_an_answer(solve: str) -> None:
    result = invoke("fit", "resnet50", "--memory", "100MB", "--solve", solve, "--format", "json")
    assert result.code == 0, result.output
    document = json.loads(result.stdout)
    assert document["fits"] is False and document["answer"] is None and document["at"] is None
    # at 32x32 layer4 is 1x1 and BatchNorm at batch 1 would see one value per channel: PyTorch refuses to train
    smallest = [1, 3, 224, 224] if solve == "batch" else [1, 3, 64, 64]
    assert document["beyond"]["input_shape"] == smallest and document["beyond"]["fits"] is False
    assert document["beyond"]["training_peak_bytes"] > 100 * 10**6
    refused = document["smallest_refused"]
    assert refused is None if solve == "batch" else refused["input_shape"] == [1, 3, 32, 32]
    table = invoke("fit", "resnet50", "--memory", "100MB", "--solve", solve)
    assert table.code == 0 and "nothing fits in 95.37 MiB (100,000,000 B)" in table.stdout


def test_json_keys() -> None:
    train = json.loads(invoke("fit", "resnet18", "--memory", "8GiB", "--format", "json").stdout)
    assert list(train) == [
        "name", "mode", "solve", "memory_bytes", "optimizer", "precision", "freeze", "checkpoint", "step", "fits",
        "answer", "at", "beyond", "formula", "evaluations", "smallest_refused",
    ]  # fmt: skip
    assert list(train["at"]) == [
        "batch", "input_shape", "param_bytes", "gradient_bytes", "optimizer_state_bytes", "saved_activation_bytes",
        "backward_transient_bytes", "training_peak_bytes", "fits",
    ]  # fmt: skip
    assert list(train["formula"]) == ["intercept_bytes", "bytes_per_sample", "from_batch"]
    mixed = json.loads(invoke("fit", "resnet18", "-m", "8GiB", "--precision", "bf16-mixed", "-f", "json").stdout)
    assert mixed["precision"] == "bf16-mixed" and train["precision"] == "fp32"
    assert list(mixed["at"])[6:8] == ["saved_weight_copy_bytes", "backward_transient_bytes"]
    # the weight copies do not grow with the batch: resnet18's convolution and fc weights in bf16
    assert mixed["at"]["saved_weight_copy_bytes"] == mixed["beyond"]["saved_weight_copy_bytes"] == 23_357_824
    infer = json.loads(
        invoke("fit", "resnet18", "--memory", "8GiB", "--mode", "infer", "--solve", "resolution", "-f", "json").stdout
    )
    assert infer["optimizer"] is None and infer["formula"] is None and infer["step"] == 32
    assert list(infer["at"]) == [
        "batch", "input_shape", "param_bytes", "buffer_bytes", "peak_activation_bytes", "inference_peak_bytes", "fits",
    ]  # fmt: skip


def test_options_of_a_training_step_change_the_answer() -> None:
    adamw = cnncalc.fit("resnet50", "24GiB")
    sgd = cnncalc.fit("resnet50", "24GiB", optimizer="sgd", freeze=["conv1", "layer1"])
    assert sgd.answer is not None and adamw.answer is not None and sgd.answer > adamw.answer
    assert sgd.at is not None and sgd.at.component("optimizer_state_bytes") == 0
    assert (
        sgd.at.peak_bytes
        == analyze_training(
            analyze_loaded(_loaded("resnet50"), InputOverrides(batch=sgd.answer)),
            __import__("cnncalc.training", fromlist=["TrainingOptions"]).TrainingOptions("sgd", ("conv1", "layer1")),
        ).totals.training_peak_bytes
    )


def test_checkpointing_is_an_option_of_the_step_and_its_recomputation_a_component() -> None:
    """Checkpointing two stages of resnet18 keeps less and brings each stage's tensors back in its backward;
    the answer is the largest batch whose whole estimate, recomputed activations included, fits."""
    from cnncalc.training import TrainingOptions

    plain = cnncalc.fit("resnet18", "8GiB")
    checkpointed = cnncalc.fit("resnet18", "8GiB", checkpoint=["layer1", "layer2"])
    assert (plain.answer, checkpointed.answer) == (293, 320)
    assert checkpointed.checkpoint == ("layer1", "layer2")
    options = TrainingOptions(checkpoint=("layer1", "layer2"))
    for point, fits in ((checkpointed.at, True), (checkpointed.beyond, False)):
        assert point is not None
        totals = analyze_training(analyze_loaded(_loaded("resnet18"), InputOverrides(batch=point.batch)), options)
        assert point.peak_bytes == totals.totals.training_peak_bytes
        assert point.component("recomputed_activation_bytes") == totals.totals.recomputed_activation_bytes > 0
        assert (point.peak_bytes <= 8 * 2**30) is fits


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--solve", "batch", "--batch", "4"], "--batch is what --solve batch finds"),
        (["--solve", "resolution", "--input", "3x64x64"], "--input sets the sizes"),
        (["--mode", "infer", "--optimizer", "sgd"], "--optimizer applies to a training step"),
        (["--freeze", "nowhere"], "--freeze nowhere: no layer has this path"),
        (["--checkpoint", "nowhere"], "--checkpoint nowhere: no layer has this path"),
        (["--mode", "infer", "--checkpoint", "layer1"], "--checkpoint applies to a training step"),
        (["--dtype", "float16"], "the training rules are for a float32 model"),
    ],
)
def test_options_that_cannot_be_used_are_usage_errors(args: list[str], message: str) -> None:
    result = invoke("fit", "resnet18", "--memory", "8GiB", *args)
    assert result.code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_a_spec_error_is_located(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out: 4, kernel: 9}\n")
    result = invoke("fit", str(spec), "--memory", "1GiB")
    assert result.code == 1 and f"{spec}:3:" in result.stderr


def test_the_python_api() -> None:
    result = cnncalc.fit("resnet18", 8 * GIB, mode="infer", solve="resolution")
    assert isinstance(result, cnncalc.FitResult) and result.fits and result.step == 32
    assert result == cnncalc.fit("resnet18", "8GiB", mode="infer", solve="resolution")
    with pytest.raises(UsageError, match="not a size"):
        cnncalc.fit("resnet18", "lots")
    with pytest.raises(UsageError, match="no memory"):
        cnncalc.fit("resnet18", 0)
    with pytest.raises(UsageError, match="batch is what"):
        cnncalc.fit("resnet18", "8GiB", batch=4)
    assert cnncalc.fit("resnet18", "8GiB", input=(3, 512, 512)).at.input_shape[1:] == (3, 512, 512)  # type: ignore[union-attr]


def test_the_readme_example_is_real() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    command = "cnncalc fit resnet50 --memory 24GiB"
    start = readme.index(f"$ {command}\n") + len(f"$ {command}\n")
    shown = readme[start : readme.index("```", start)]
    assert shown == invoke(*command.split()[1:], columns=None).stdout


def test_a_side_the_network_refuses_is_shown_with_the_reason() -> None:
    """A network that takes sides up to 40 x 8 only: the answer is the largest it takes, beyond it the refusal."""

    def bounded(k: int) -> MemoryPoint | Refusal:
        if k > 40:
            return Refusal(1, (1, 3, 8 * k, 8 * k), "too large for the positional embedding")
        return MemoryPoint(1, (1, 3, 8 * k, 8 * k), (("x", k),), k)

    side, at, beyond = _solve_side(bounded, 10**6, 8)
    assert side == 320 and at is not None and at.peak_bytes == 40
    assert isinstance(beyond, Refusal) and beyond.input_shape == (1, 3, 328, 328)
