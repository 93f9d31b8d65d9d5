"""`cnncalc validate --format github`: one GitHub Actions workflow command per problem, which GitHub shows as an
annotation at that line of the file, escaped as the Actions toolkit escapes them (`%`, CR and LF in the
message; also `:` and `,` in property values)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clirunner import HEAD, invoke

from cnncalc.base.errors import Location, SpecIssue
from cnncalc.render.issues import issues_github

SpecFile = Callable[..., Path]


def test_an_invalid_spec_gives_one_error_line_per_problem_and_exit_1(spec_file: SpecFile) -> None:
    path = spec_file(HEAD + "  - {type: conv2d, out: 16, kernal: 3}\n  - {type: relu, inplace: 2}\n")
    result = invoke("validate", "--format", "github", str(path))
    assert result.code == 1
    assert result.stdout.splitlines() == [
        f"::error file={path},line=3,col=29,title=cnncalc validate::unknown field 'kernal' for layer type "
        "'conv2d'%0Ahint: did you mean 'kernel'?",
        f"::error file={path},line=4,col=27,title=cnncalc validate::1 (relu): inplace: should be a valid boolean, "
        "unable to interpret input (got 2)",
        f"::warning file={path},line=3,col=3,title=cnncalc validate::1 layer was not shape-checked: their input "
        "shape is unknown%0Ahint: fix the errors above, then check again",
    ]
    assert result.stderr == ""


def test_a_warning_alone_exits_0(spec_file: SpecFile) -> None:
    path = spec_file("input: {shape: [3, 1, 1]}\nlayers:\n  - {type: batchnorm}\n")
    result = invoke("validate", "--format", "github", str(path))
    assert result.code == 0
    [line] = result.stdout.splitlines()
    assert line.startswith(f"::warning file={path},line=3,col=5,title=cnncalc validate::0 (batchnorm): ")


def test_valid_specs_print_nothing_and_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    valid = invoke("validate", "--format", "github", "lenet5", "resnet18")
    assert (valid.code, valid.stdout) == (0, "")
    missing = invoke("validate", "--format", "github", "lenet5", str(tmp_path / "gone.yaml"))
    assert missing.code == 2
    # no line number is known: the annotation is on the file
    assert (
        missing.stdout
        == f"::error file={tmp_path / 'gone.yaml'},title=cnncalc validate::no such file or bundled spec\n"
    )


def test_messages_and_properties_are_escaped_as_the_actions_toolkit_does() -> None:
    issue = SpecIssue("100% of\r\nit: a, b", Location("dir,1/a:b.yaml", 7, 2), hint="50%", severity="warning")
    assert issues_github({"dir,1/a:b.yaml": [issue]}) == (
        "::warning file=dir%2C1/a%3Ab.yaml,line=7,col=2,title=cnncalc validate::100%25 of%0D%0Ait: a, b%0Ahint: 50%25\n"
    )


def test_the_help_names_the_format() -> None:
    assert "github" in invoke("validate", "--help").stdout
