"""`cnncalc calc stack` reports every problem of a stack in one run, each naming its layer as written."""

from __future__ import annotations

import pytest
from clirunner import invoke

from cnncalc.base.errors import LayerSubject, SpecError
from cnncalc.calc.network import analyze_layers
from cnncalc.calc.stack_syntax import StackSyntaxError, parse_stack


def stack(text: str) -> tuple[int, list[str]]:
    """Exit code and the stderr lines of `cnncalc calc stack TEXT`, unwrapped."""
    result = invoke("calc", "stack", text, columns=None)
    return result.code, result.stderr.splitlines()


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("error: ")]


def test_every_unreadable_layer_is_reported_with_exit_2() -> None:
    code, lines = stack("cnv3, conv3 q7, conv3/0")
    assert code == 2
    assert errors(lines) == [
        """error: layer 1 "cnv3": unknown layer name 'cnv'""",
        """error: layer 2 "conv3 q7": unknown option 'q7'""",
        'error: layer 3 "conv3/0": stride should be ≥ 1',
    ]
    assert "  hint: did you mean 'conv'?" in lines


def test_readable_layers_between_bad_ones_do_not_hide_them() -> None:
    code, lines = stack("conv3, fc0, pool2/2, conv3 c64x3, relu")
    assert code == 2
    assert errors(lines) == [
        'error: layer 2 "fc0": out should be ≥ 1',
        """error: layer 4 "conv3 c64x3": out takes one number, not '64x3'""",
    ]


def test_the_parser_lists_its_problems() -> None:
    with pytest.raises(StackSyntaxError) as raised:
        parse_stack("cnv3, conv3 q7, conv3/0, pool2 c3")
    assert [problem.message for problem in raised.value.problems] == [
        """layer 1 "cnv3": unknown layer name 'cnv'""",
        """layer 2 "conv3 q7": unknown option 'q7'""",
        'layer 3 "conv3/0": stride should be ≥ 1',
        'layer 4 "pool2 c3": maxpool takes no channels',
    ]
    assert raised.value.message.startswith("4 problems: layer 1 \"cnv3\": unknown layer name 'cnv'; ")
    assert raised.value.message.endswith("; and 1 more")
    with pytest.raises(StackSyntaxError) as single:
        parse_stack("conv3, cnv3")
    assert single.value.problems == (single.value,)


def test_a_flood_of_bad_layers_shows_the_first_twenty_and_a_count() -> None:
    code, lines = stack(", ".join(f"cnv{size}" for size in range(1, 26)))
    assert code == 2
    assert len(errors(lines)) == 20
    assert errors(lines)[-1] == """error: layer 20 "cnv20": unknown layer name 'cnv'"""
    assert lines[-1] == "note: 5 more layers cannot be read either; fix these first"


def empty_output(layer: str, size: int, kernel: int) -> list[str]:
    """The error of a conv larger than its input, and its hint."""
    return [
        f"error: layer {layer}: spatial axis 0 has size {size} (+0 padding), smaller than the effective kernel "
        f"{kernel}; the output would be empty (input 3x224x224)",
        "  hint: use a larger input, more padding, or a smaller kernel/dilation",
    ]


# The engine computes each layer on the output of the one before: after a conv larger than its input, the rest
# are never computed, and their silence is not a clean bill. (stack, the whole report: errors, hints, the note)
NOT_CHECKED = [
    ("conv300, conv300, conv3, conv500", [
        *empty_output('1 "conv300"', 224, 300),
        'note: the 3 layers from layer 2 "conv300" on were not checked: their input is the output of '
        'layer 1 "conv300", which has none',
    ]),
    # every layer the engine reaches is reported (both problems of layer 1), then the rest named
    ("conv3 g2, conv300, conv3 g5", [
        'error: layer 1 "conv3 g2": groups=2 does not divide the 3 input channels (input 3x224x224)',
        "  hint: choose groups among the divisors of 3",
        'error: layer 1 "conv3 g2": groups=2 does not divide the 3 output channels (input 3x224x224)',
        "  hint: choose out as a multiple of 2",
        *empty_output('2 "conv300"', 222, 300),
        'note: layer 3 "conv3 g5" was not checked: its input is the output of layer 2 "conv300", which has none',
    ]),
    # copies of a repeated layer are named by copy: 222 -> 23 after the first copy, the second has no output
    ("conv3, conv200 x3, conv3", [
        *empty_output('2 "conv200 x3" (copy 2 of 3)', 23, 200),
        'note: the 2 layers from layer 2 "conv200 x3" (copy 3 of 3) on were not checked: their input is the '
        'output of layer 2 "conv200 x3" (copy 2 of 3), which has none',
    ]),
    # no note when nothing comes after the failed layer
    ("conv3, conv300", empty_output('2 "conv300"', 222, 300)),
]


@pytest.mark.parametrize(("text", "report"), NOT_CHECKED, ids=["after_the_first", "reached", "copies", "last"])
def test_layers_after_one_without_output_are_named_as_not_checked_with_exit_1(text: str, report: list[str]) -> None:
    assert stack(text) == (1, report)


def test_engine_issues_name_their_layer_as_data() -> None:
    """The calculators read which layer failed from the issue's subject, never from its message."""
    conv = {"type": "conv", "out": 8, "kernel": 3}
    too_large = {"type": "conv", "out": 8, "kernel": 300}
    separable = {"type": "separable", "out": 8, "kernel": 3, "multiplier": 0}
    with pytest.raises(SpecError) as raised:
        analyze_layers((3, 224, 224), [conv, too_large, conv])
    [issue] = raised.value.issues
    assert issue.subject == LayerSubject(
        "1", "conv", "spatial axis 0 has size 222 (+0 padding), smaller than the effective kernel 300; "
        "the output would be empty"
    )
    with pytest.raises(SpecError) as raised:
        analyze_layers((3, 224, 224), [separable])
    [issue] = raised.value.issues
    assert (issue.subject.path, issue.subject.kind, issue.subject.detail) == (
        "0",
        "separable",
        "multiplier: must be at least 1 (got 0)",
    )
