"""`--set NAME=VALUE`: a top-level spec variable (`vars:`) set from the command line, for the commands that
analyze a spec at one setting (analyze, report, graph, diff). `sweep --set` goes through lists of values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.base.errors import ExitCode, SpecError
from cnncalc.cli.failure import fail

if TYPE_CHECKING:
    from cnncalc.cli.common import SpecText
    from cnncalc.engine.analysis import InputOverrides
    from cnncalc.engine.result import AnalysisResult
    from cnncalc.sweeps.grid import Number

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="A top-level spec variable (`vars:`) and its value, e.g. --set width=0.5; repeatable.",
    ),
]


def variable_settings_or_fail(settings: list[str] | None, option: str, why_one: str) -> dict[str, Number]:
    """`--set NAME=VALUE`s -> {NAME: VALUE}: one number each, read as `sweep --set` reads one (`why_one` says
    why a list is refused here)."""
    from cnncalc.language.variables import VariableSettingError, split_setting
    from cnncalc.sweeps.grid import GridError, parse_values

    read: dict[str, Number] = {}
    for setting in settings or ():
        try:
            name, text = split_setting(setting, option, f"{option} width=0.5")
            values = parse_values(text, f"{option} {name}", integers=False)
        except VariableSettingError as error:
            raise fail(error.message, ExitCode.USAGE, error.hint) from None
        except GridError as error:  # its hint shows a list, which is not taken here
            raise fail(error.message, ExitCode.USAGE, f"e.g. {option} {name}=0.5") from None
        if len(values) != 1:
            raise fail(
                f"{option} {setting!r} gives {len(values)} values; {why_one}",
                ExitCode.USAGE,
                f"e.g. {option} {name}={values[0]}; `cnncalc sweep --set` goes through a list",
            )
        if name in read:
            raise fail(f"{option} {name} is given twice", ExitCode.USAGE, f"give {option} {name}=VALUE once")
        read[name] = values[0]
    return read


def analyze_set_or_fail(spec: SpecText, settings: list[str] | None, *overrides: InputOverrides) -> list[AnalysisResult]:
    """Analyze the spec with its `--set` variables under each set of overrides; a spec error ends the command
    with its located report (exit 1), a variable the spec does not declare with a usage error (exit 2)."""
    from cnncalc.cli.common import SourceCache, analyze_or_fail, spec_failure
    from cnncalc.cli.startup import collection_paused
    from cnncalc.engine.analysis import analyze_loaded
    from cnncalc.language.variables import VariableSettingError, check_variable, with_variables
    from cnncalc.language.yaml_source import load_yaml

    variables = variable_settings_or_fail(settings, "--set", "it takes one (a sweep takes several)")
    if not variables:
        return analyze_or_fail(spec, *overrides)
    sources = SourceCache()
    sources.add(spec.label, spec.text)
    try:
        with collection_paused():
            loaded = load_yaml(spec.text, spec.label)
            for name in variables:
                check_variable(name, loaded.data, "--set")
            changed = with_variables(loaded, variables.items())
            return [analyze_loaded(changed, each) for each in overrides]
    except VariableSettingError as error:
        raise fail(error.message, ExitCode.USAGE, error.hint) from None
    except SpecError as error:
        raise spec_failure(error, sources) from None
