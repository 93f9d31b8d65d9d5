"""The `cnncalc` application: commands are registered here, each implemented in its own module."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cnncalc import __version__
from cnncalc.cli.analyze import analyze
from cnncalc.cli.bench import bench
from cnncalc.cli.calc import CALC_SETTINGS, calc
from cnncalc.cli.completion import completing
from cnncalc.cli.conventions import conventions
from cnncalc.cli.drill import DRILL_SETTINGS, drill
from cnncalc.cli.kinds import kinds
from cnncalc.cli.validate import validate
from cnncalc.cli.verify import verify
from cnncalc.cli.zoo import zoo

# -h as well as --help; help uses the terminal's width up to 120 columns (click's own limit is 80)
HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 120}
APP_SETTINGS: dict[str, Any] = dict(
    name="cnncalc",
    help="Shapes, parameters, MACs/FLOPs, memory and receptive fields of convolutional networks, from YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # internal errors are bugs: keep the plain traceback
    # Plain help and usage errors, as click formats them: paragraphs are re-wrapped to the terminal (never
    # broken mid-sentence), flags show no metavar (no "-h <bool>"), and no rich is imported to print them.
    rich_markup_mode=None,
    context_settings=HELP_SETTINGS,
)
app = typer.Typer(**APP_SETTINGS)


def _show_version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """cnncalc: answer the arithmetic of a CNN without running it.

    Exit codes: 0 success, 1 invalid spec, 2 usage error, 3 missing optional dependency.
    """


# name -> (function, command settings), in the order `--help` lists them
COMMANDS: dict[str, tuple[Callable[..., None], dict[str, Any]]] = {
    "analyze": (analyze, {}),
    "conventions": (conventions, {}),
    "validate": (validate, {}),
    "zoo": (zoo, {}),
    "kinds": (kinds, {}),
    "calc": (calc, CALC_SETTINGS),
    "drill": (drill, DRILL_SETTINGS),
    "verify": (verify, {}),
    "bench": (bench, {}),
}


def _register(target: typer.Typer, names: list[str]) -> typer.Typer:
    target.callback()(root)
    for name in names:
        function, settings = COMMANDS[name]
        target.command(name, **settings)(function)
    return target


_register(app, list(COMMANDS))


def completion_app() -> typer.Typer:
    """Every command with its real options and sub-commands, for shell completion (lazy groups expanded)."""
    from cnncalc.cli.calc_commands import calc_app
    from cnncalc.cli.drill_commands import drill_app

    full = typer.Typer(**APP_SETTINGS)
    full.callback()(root)
    for name in COMMANDS:
        if name not in LAZY_GROUPS:
            function, settings = COMMANDS[name]
            full.command(name, **settings)(function)
    full.add_typer(calc_app, name="calc", help=calc.__doc__)
    full.add_typer(drill_app, name="drill")
    return full


LAZY_GROUPS = ("calc", "drill")


def app_for(args: list[str]) -> typer.Typer:
    """The application to run for these arguments.

    Typer turns every registered command into a click command each time the program starts, which costs
    more than analysing a network; when the first argument names a command, an application holding only
    that command behaves the same (same root options, same usage line) and starts faster. Shell completion
    gets the whole tree.
    """
    if completing():
        return completion_app()
    if args and args[0] in COMMANDS:
        return _register(typer.Typer(**APP_SETTINGS), [args[0]])
    return app


def run(args: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    # pydantic looks for plugins through every installed package's entry points on first use, which costs
    # more than the whole analysis; the command line uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    arguments = sys.argv[1:] if args is None else args
    try:
        app_for(arguments)(args=arguments, prog_name="cnncalc")
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=sys.stderr)
        return 1
    return 0


def main() -> None:
    sys.exit(run())
