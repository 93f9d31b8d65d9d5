"""`cnncalc validate SPEC...`: every error of every spec, located, with hints."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cnncalc.cli.common import OutputFormat, SourceCache, parse_input_shape
from cnncalc.engine.analysis import InputOverrides, check_text
from cnncalc.errors import ExitCode, Location, SpecError, SpecIssue, SpecPathError
from cnncalc.render.issues import issues_json, issues_text
from cnncalc.spec.yaml_source import read_spec_text
from cnncalc.zoo import resolve_spec


def validate(
    specs: Annotated[list[str], typer.Argument(help="Spec files, or names of bundled specs.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table (human-readable) or json.", case_sensitive=False)
    ] = OutputFormat.table,
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
    missing = False
    for argument in specs:
        path = resolve_spec(argument)
        if path is None:
            missing = True
            results[argument] = [SpecIssue("no such file or bundled spec", Location(argument))]
            continue
        try:
            text = read_spec_text(path)
        except SpecError as error:
            results[str(path)] = list(error.issues)
            missing = missing or isinstance(error, SpecPathError)  # unreadable path: a usage error
            continue
        sources.add(str(path), text)
        results[str(path)] = check_text(text, str(path), overrides)
    if output_format is OutputFormat.json:
        sys.stdout.write(issues_json(results) + "\n")
    else:
        for file, issues in results.items():
            if issues:
                print(issues_text(issues, sources), file=sys.stderr)
            errors = sum(issue.severity == "error" for issue in issues)
            warnings = len(issues) - errors
            verdict = "valid" if not errors else f"{errors} error{'s' * (errors != 1)}"
            if warnings:
                verdict += f", {warnings} warning{'s' * (warnings != 1)}"
            print(f"{file}: {verdict}")
    if missing:
        raise typer.Exit(int(ExitCode.USAGE))
    if any(issue.severity == "error" for issues in results.values() for issue in issues):
        raise typer.Exit(int(ExitCode.INVALID_SPEC))
