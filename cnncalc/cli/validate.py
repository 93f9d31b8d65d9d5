"""`cnncalc validate SPEC...`: every error of every spec, located, with hints."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.base.errors import ExitCode, Location, SpecError, SpecIssue, SpecPathError
from cnncalc.cli.common import STDIN_ARGUMENT, STDIN_LABEL, SourceCache, read_stdin_spec, write_text
from cnncalc.cli.completion import complete_spec
from cnncalc.cli.options import parse_input_shape
from cnncalc.cli.startup import collection_paused
from cnncalc.engine.analysis import InputOverrides, check_text
from cnncalc.language.yaml_source import read_spec_text
from cnncalc.language.zoo import resolve_spec
from cnncalc.render.issues import issues_csv, issues_github, issues_json, issues_markdown, issues_text, verdict

SPEC_SUFFIXES = (".yaml", ".yml")


class ValidateFormat(str, enum.Enum):
    """The formats of every command (--format), and GitHub Actions annotations, which only validate speaks."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    github = "github"


ValidateFormatOption = Annotated[
    ValidateFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (aligned text; rich on a terminal), json, csv, markdown, or github (GitHub Actions "
        "annotations: one ::error or ::warning line per problem).",
        case_sensitive=False,
    ),
]


def _is_directory(argument: str) -> bool:
    try:
        return argument != STDIN_ARGUMENT and Path(argument).is_dir()
    except OSError:  # e.g. a name longer than the file system allows: reported when it is read
        return False


def _expanded(arguments: list[str]) -> list[str]:
    """Each argument as given, a directory replaced by every *.yaml and *.yml file under it, sorted."""
    expanded: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if _is_directory(argument):
            found = sorted(str(file) for file in path.rglob("*") if file.suffix in SPEC_SUFFIXES and file.is_file())
            expanded.extend(found or [argument])  # an empty directory is reported as itself
        else:
            expanded.append(argument)
    return expanded


def _check(argument: str, overrides: InputOverrides, sources: SourceCache) -> tuple[str, list[SpecIssue], bool]:
    """(file label, issues, whether the file itself could not be read)."""
    if argument == STDIN_ARGUMENT:
        label = STDIN_LABEL
        try:
            text = read_stdin_spec()
        except SpecError as error:
            return label, list(error.issues), False
    else:
        path = resolve_spec(argument)
        if path is None:
            return argument, [SpecIssue("no such file or bundled spec", Location(argument))], True
        if _is_directory(argument):
            message = "is a directory with no *.yaml or *.yml file under it"
            return argument, [SpecIssue(message, Location(argument))], True
        label = str(path)
        try:
            text = read_spec_text(path)
        except SpecError as error:
            return label, list(error.issues), isinstance(error, SpecPathError)  # unreadable path: a usage error
    sources.add(label, text)
    with collection_paused():
        return label, check_text(text, label, overrides), False


def validate(
    specs: Annotated[
        list[str],
        typer.Argument(
            help="Spec files, directories (every *.yaml and *.yml under them), names of bundled specs, "
            "or - for standard input.",
            autocompletion=complete_spec,
        ),
    ],
    output_format: ValidateFormatOption = ValidateFormat.table,
    input_shape: Annotated[
        str | None, typer.Option("--input", "-i", help="Check with this input instead: channels x sizes.")
    ] = None,
) -> None:
    """Check specs and report all errors found, each at file:line:column with a hint.

    Exit codes: 0 every spec is valid, 1 a spec is invalid, 2 usage error (e.g. a file that does not exist).
    """
    overrides = InputOverrides(parse_input_shape(input_shape))
    sources = SourceCache()
    results: dict[str, list[SpecIssue]] = {}
    unreadable = False
    for argument in _expanded(specs):
        label, issues, could_not_read = _check(argument, overrides, sources)
        results[label] = issues
        unreadable = unreadable or could_not_read
    if output_format is ValidateFormat.json:
        write_text(issues_json(results))
    elif output_format is ValidateFormat.csv:
        write_text(issues_csv(results))
    elif output_format is ValidateFormat.markdown:
        write_text(issues_markdown(results))
    elif output_format is ValidateFormat.github:
        sys.stdout.write(issues_github(results))  # nothing at all when every spec is valid
    else:
        for file, issues in results.items():
            if issues:
                print(issues_text(issues, sources), file=sys.stderr)
            print(f"{file}: {verdict(issues)}")
    if unreadable:
        raise typer.Exit(int(ExitCode.USAGE))
    if any(issue.severity == "error" for issues in results.values() for issue in issues):
        raise typer.Exit(int(ExitCode.INVALID_SPEC))
