"""`cnncalc calc`: single-layer calculators, the inline stack syntax, and worked explanations."""

from __future__ import annotations

import pytest
from clirunner import invoke

from cnncalc.calc import explain_layer
from cnncalc.calc.explain_layer import explain_row
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.stack_syntax import StackSyntaxError, parse_stack
from cnncalc.calc.worked import ExplanationMismatch


def calc(*args: str) -> tuple[int, str, str]:
    run = invoke("calc", *args, columns=None)  # explanations unwrapped
    return run.code, run.stdout, run.stderr


def calc_figures(*args: str) -> dict[str, str]:
    """The figures of a calculator that must succeed."""
    code, out, err = calc(*args)
    assert code == 0, err
    return field_lines(out)


def field_lines(text: str) -> dict[str, str]:
    """'  params           9,472 (9.47 K)' -> {'params': '9,472 (9.47 K)'} for the first block of figures."""
    figures: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("  ") and "  " in line.strip():
            label, value = line.strip().split("  ", 1)
            figures.setdefault(label, value.strip())
    return figures


def test_conv2d_stem_from_the_notes() -> None:
    code, out, _ = calc(
        "conv2d", "--input", "3x224x224", "--out", "64", "-k", "7", "-s", "2", "-p", "3", "--batch", "32"
    )
    assert code == 0
    figures = field_lines(out)
    assert out.splitlines()[0] == "conv2d 3 → 64, kernel 7x7, stride 2, padding 3, bias"
    assert figures["output"] == "32x64x112x112"
    assert figures["params"] == "9,472 (9.47 K)"
    assert figures["MACs"] == "3,776,446,464 (3.78 G); 118,013,952 per image"
    assert figures["FLOPs"] == "7,552,892,928 (7.55 G) = 2 x MACs"
    assert figures["receptive field"] == "7 (jump 2, start 3)"


def test_explain_substitutes_the_numbers_step_by_step() -> None:
    code, out, _ = calc("conv2d", "-i", "3x224x224", "-o", "64", "-k", "7", "-s", "2", "-p", "3", "--explain")
    assert code == 0
    assert "H, W: ⌊(224 + 2·3 − 7) / 2⌋ + 1 = ⌊223 / 2⌋ + 1 = 111 + 1 = 112" in out
    assert "Params = C_out × C_in × k_h × k_w + C_out (bias) = 64 × 3 × 7 × 7 + 64" in out
    assert "= 9,408 + 64 = 9,472" in out
    assert "= 1 × 64 × 112 × 112 × 3 × 7 × 7 = 118,013,952" in out
    assert "r = 1 + (7 − 1) × 1 = 7;  j = 1 × 2 = 2;  start = 0 + 3 × 1 = 3" in out


def test_grouped_dilated_conv() -> None:
    code, out, _ = calc(
        "conv2d", "-i", "64x56x56", "-o", "128", "-k", "3", "-p", "2", "-d", "2", "-g", "32", "--no-bias", "-e"
    )
    assert code == 0
    assert field_lines(out)["params"] == "2,304 (2.30 K)"  # 128 x (64 / 32) x 3 x 3
    assert "k_eff = 2·(3 − 1) + 1 = 5; (56 + 2·2 − 5) + 1 = 55 + 1 = 56" in out
    assert "128 × (64 / 32) × 3 × 3 = 2,304" in out


def test_pool_with_ceil_mode_and_its_correction() -> None:
    code, out, _ = calc("maxpool", "-i", "64x112x112", "-k", "3", "-s", "2", "--ceil-mode", "-e")
    assert code == 0
    assert field_lines(out)["output"] == "1x64x56x56"
    assert "⌈(112 − 3) / 2⌉ + 1 = ⌈109 / 2⌉ + 1 = 55 + 1 = 56" in out
    # PyTorch drops a last window that would start in the right padding: 5 -> 3 with k2 s2 p1 ceil.
    code, out, _ = calc("maxpool", "-i", "8x5x5", "-k", "2", "-s", "2", "-p", "1", "--ceil-mode", "-e")
    assert code == 0
    assert field_lines(out)["output"] == "1x8x3x3"
    assert "inside the right padding, so it is dropped: 3" in out


def test_transposed_conv() -> None:
    code, out, _ = calc("conv-transpose", "-i", "64x56x56", "-o", "32", "-k", "3", "-s", "2", "-p", "1",
                        "--output-padding", "1", "-e")  # fmt: skip
    assert code == 0
    assert field_lines(out)["output"] == "1x32x112x112"
    assert "(56 − 1) × 2 − 2·1 + 1·(3 − 1) + 1 + 1 = 110 − 2 + 2 + 1 + 1 = 112" in out
    assert field_lines(out)["params"] == "18,464 (18.46 K)"


def test_linear_gap_head_and_flatten_head() -> None:
    assert calc_figures("linear", "-i", "2048", "-o", "1000")["params"] == "2,049,000 (2.05 M)"
    code, out, _ = calc("linear", "-i", "2048x7x7", "-o", "1000")
    assert code == 0 and "params         100,353,000 (100.35 M)" in out


def test_batchnorm_params_apart_from_buffers() -> None:
    figures = calc_figures("batchnorm", "-i", "256x56x56")
    assert figures["params"] == "512"
    assert figures["buffers"] == "512 (BatchNorm running statistics, not params)"


def test_separable_compares_with_the_standard_conv() -> None:
    code, out, _ = calc("separable", "-i", "32x112x112", "-o", "64", "-k", "3", "-p", "1", "--no-bias", "-e")
    assert code == 0
    assert "cost ratio  73/576 ≈ 0.1267 (MACs)" in out
    assert "= 1/64 + 1/9 = 73/576 ≈ 0.1267" in out


def test_patch_embedding() -> None:
    code, out, _ = calc("patch-embed", "-i", "3x224x224", "--patch", "16", "--dim", "768", "--class-token")
    assert code == 0
    assert "output           1x197x768" in out
    assert "params           591,360 (591.36 K)" in out  # 590,592 + 768 for the class token


def test_stack_receptive_field_of_the_issue_example() -> None:
    code, out, _ = calc("stack", "conv3, conv3, pool2/2, conv3 dilated 2", "--explain")
    assert code == 0
    assert "receptive field  14 (jump 2, start 0)" in out
    assert "conv3 dilated 2: H, W: k_eff = 2·(3 − 1) + 1 = 5; r = 6 + (5 − 1) × 2 = 14;  j = 2 × 1 = 2" in out
    assert "pool2/2: H, W: r = 5 + (2 − 1) × 1 = 6;  j = 1 × 2 = 2" in out


def test_stack_of_a_resnet_stem_matches_the_zoo() -> None:
    run = invoke("calc", "stack", "conv7/2 p3 c64, bn, relu, pool3/2 p1", "--json")
    assert run.code == 0
    document = run.json()
    assert document["output_shape"] == [1, 64, 56, 56]
    assert document["receptive_field"][0] == {
        "axis": "H", "size": 11, "jump": 4, "start": 5, "exact": True, "size_min": 11, "period": 1
    }
    assert document["totals"]["params"] == 9472 + 128


def test_stack_syntax() -> None:
    layers = parse_stack("conv7/2 p3 c64; pool3/2 p1 ceil -> sep3 c128 nobias → conv1x7 p0x3 x2, fc10")
    assert [layer.entry for layer in layers] == [
        {"type": "conv", "kernel": 7, "stride": 2, "padding": 3, "out": 64},
        {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"type": "separable", "kernel": 3, "out": 128, "bias": False},
        {"type": "conv", "kernel": [1, 7], "padding": [0, 3], "out": "in_channels"},
        {"type": "conv", "kernel": [1, 7], "padding": [0, 3], "out": "in_channels"},
        {"type": "linear", "out": 10},
    ]
    assert [layer.text for layer in layers][3:5] == ["conv1x7 p0x3 x2 (1/2)", "conv1x7 p0x3 x2 (2/2)"]
    assert parse_stack("relu6, swish, gap")[0].entry == {"type": "relu6"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv3, cnv3", "unknown layer name 'cnv'"),
        ("conv3 q7", "unknown option 'q7'"),
        ("pool2 c3", "maxpool takes no channels"),
        ("conv", "conv needs a kernel size"),
        ("", "the stack is empty"),
        ("conv3 stride", "'stride' needs a number"),
    ],
)
def test_stack_syntax_errors_name_the_layer_and_word(text: str, message: str) -> None:
    with pytest.raises(StackSyntaxError) as error:
        parse_stack(text)
    assert message in error.value.message


def test_errors_and_exit_codes() -> None:
    code, _, err = calc("stack", "conv3, cnv3")
    assert code == 2 and "did you mean 'conv'?" in err
    code, _, err = calc("conv2d", "-i", "3x4x4", "-o", "8", "-k", "7")
    assert code == 1 and "smaller than the effective kernel 7" in err
    code, _, err = calc("conv2d", "-i", "3x224x224", "-o", "8", "-k", "7x")
    assert code == 2 and "--kernel '7x'" in err


def test_help_documents_the_stack_syntax() -> None:
    result = invoke("calc", "stack", "--help", env={"COLUMNS": "120"})
    assert result.code == 0
    for example in ("conv7/2 p3 c64", "conv3 d2", "pool2/2", "sep3 c128", "tconv4/2 p1", "xN repeat"):
        assert example in result.stdout


def test_explanations_refuse_to_disagree_with_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The explanation recomputes what it shows and checks it: a wrong formula cannot slip into the text."""
    result = analyze_layers((3, 224, 224), [{"type": "conv2d", "out": 64, "kernel": 7, "stride": 2, "padding": 3}])
    consistent = explain_row(result, result.layers[0]).text()  # every section checks itself: no error
    assert "H, W: ⌊(224 + 2·3 − 7) / 2⌋ + 1 = ⌊223 / 2⌋ + 1 = 111 + 1 = 112" in consistent
    monkeypatch.setattr(explain_layer.arithmetic, "conv_output_size", lambda *args: 111)
    with pytest.raises(ExplanationMismatch):
        explain_row(result, result.layers[0], ("shape",))


# ------------------------------------------------------------------------ hostile text, exit codes, messages


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stack", "conv3 x" + "9" * 5000), "repeat count 999"),
        (("stack", "conv" + "9" * 5000), "kernel 999"),
        (("stack", "conv3 p" + "9" * 5000), "padding 999"),
        (("stack", "conv3/2x" + "9" * 30), "is too large (at most 2,147,483,647)"),
        (("conv2d", "-i", "3x224x224", "-o", "8", "-k", "9" * 5000), "--kernel '999"),
        (("linear", "-i", "9" * 5000, "-o", "8"), "--input '999"),
    ],
)
def test_huge_numbers_are_usage_errors_not_tracebacks(args: tuple[str, ...], message: str) -> None:
    result = invoke("calc", *args)  # an exception escaping cnncalc (ValueError) fails here
    assert result.code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr) < 500  # the 5,000 digits are not echoed whole


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stack", "conv3/0"), 'layer 1 "conv3/0": stride should be ≥ 1'),
        (("stack", "conv3, fc0"), 'layer 2 "fc0": out should be ≥ 1'),
        (("stack", "conv3 d0"), "dilation should be ≥ 1"),
        (("stack", "conv3 c64x3"), "out takes one number"),
        (("stack", "conv3x3x3x3"), "more than 3 axes"),
        (("stack", "pool3 p99999999999"), "padding 99999999999 is too large"),
        (("stack", "conv3 stride same"), "stride cannot be 'same'"),
        (("conv2d", "-i", "3x99999999999999999999", "-o", "8", "-k", "3"), "has a size above 2,147,483,647"),
        (("linear", "-i", "99999999999999999999", "-o", "8"), "has a size above 2,147,483,647"),
        (("conv2d", "-i", "3x224x224", "-o", "8", "-k", "99999999999999999999"), "--kernel"),
        (("conv2d", "-i", "3x224x224", "-o", "8", "-k", "3", "-s", "0"), "--stride '0' must be at least 1"),
        (("conv2d", "-i", "3x224x224", "-o", "99999999999999999999", "-k", "3"), "--out"),
        (("conv2d", "-i", "3x224x224", "-o", "8", "-k", "3", "-b", "99999999999999999999"), "--batch"),
        (("patch-embed", "-i", "3x224x224", "-P", "16", "-D", "99999999999999999999"), "--dim"),
    ],
)
def test_malformed_values_exit_2_before_the_engine_runs(args: tuple[str, ...], message: str) -> None:
    result = invoke("calc", *args)
    assert result.code == 2, result.output
    assert message in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (
            ("stack", "conv3, conv3 c4 g3, conv300"),
            [
                'error: layer 2 "conv3 c4 g3": groups=3 does not divide the 4 output channels (input 3x224x224)',
                'error: layer 3 "conv300": spatial axis 0 has size 220 (+0 padding), smaller than the effective '
                "kernel 300",
            ],
        ),
        (("stack", "conv3 x2, conv200 x2"), ['error: layer 2 "conv200 x2" (copy 2 of 2): spatial axis 0 has size 21 ']),
        (("stack", "sep300 c8"), ['error: layer 1 "sep300 c8" [depthwise]: spatial axis 0 has size 224']),
        (("stack", "conv3, pool3 p2"), ['error: layer 2 "pool3 p2": padding 2 on axis 0 is more than half the kernel']),
        (
            ("conv2d", "-i", "3x8x8", "-o", "3", "-k", "3", "-g", "2"),
            [
                "error: groups=2 does not divide the 3 input channels (input 3x8x8)",
                "error: groups=2 does not divide the 3 output channels (input 3x8x8)",
            ],
        ),
    ],
)
def test_every_engine_issue_is_shown_naming_its_stack_layer(args: tuple[str, ...], messages: list[str]) -> None:
    code, _, err = calc(*args)
    assert code == 1, err  # values that are each valid but cannot apply together: a spec-level error
    for message in messages:
        assert message in err
    assert err.count("error: ") == len(messages)
    assert "hint: " in err


def test_stack_help_is_the_stack_syntax_table() -> None:
    from cnncalc.calc.stack_syntax import HELP_ROWS, OPTIONS_HELP, help_table
    from cnncalc.cli.calc_commands import STACK_HELP

    assert help_table(indent="  ") in STACK_HELP and OPTIONS_HELP in STACK_HELP
    for example, _ in HELP_ROWS:  # every example of the table is valid stack syntax, a layer for each part
        layers = []
        for part in example.split(", "):
            repeat = part.partition(" x")[2]
            count = int(repeat) if repeat.isdigit() else 1
            layers += [f"{part} ({copy}/{count})" for copy in range(1, count + 1)] if count > 1 else [part]
        assert [layer.text for layer in parse_stack(example)] == layers, example
    shown = invoke("calc", "stack", "--help", env={"COLUMNS": "200"}).stdout
    for example, meaning in HELP_ROWS:
        assert example in shown and meaning in shown
