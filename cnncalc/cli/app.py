"""The `cnncalc` application: commands are registered here, each implemented in its own module.

How the application is built and run at start-up (only the command being run, lazy groups) is decided in
cnncalc.cli.startup.
"""

from __future__ import annotations

import importlib
import keyword
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cnncalc import __version__
from cnncalc.cli.startup import LAZY_GROUP_SETTINGS

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


# name -> (the module that defines the command function of that name, command settings), in the order
# `--help` lists them. A module is imported only when its command is built: a command starts without the
# others' imports.
COMMANDS: dict[str, tuple[str, dict[str, Any]]] = {
    "analyze": ("cnncalc.cli.analyze", {}),
    "fit": ("cnncalc.cli.fit", {}),
    "sweep": ("cnncalc.cli.sweep", {}),
    "report": ("cnncalc.cli.report", {}),
    "graph": ("cnncalc.cli.graph", {}),
    "conventions": ("cnncalc.cli.conventions", {}),
    "validate": ("cnncalc.cli.validate", {}),
    "diff": ("cnncalc.cli.diff", {}),
    "schema": ("cnncalc.cli.schema", {}),
    "zoo": ("cnncalc.cli.zoo", {}),
    "kinds": ("cnncalc.cli.kinds", {}),
    "calc": ("cnncalc.cli.calc", LAZY_GROUP_SETTINGS),
    "drill": ("cnncalc.cli.drill", LAZY_GROUP_SETTINGS),
    "import": ("cnncalc.cli.import_model", {}),
    "verify": ("cnncalc.cli.verify", {}),
    "bench": ("cnncalc.cli.bench", {}),
}
LAZY_GROUPS = ("calc", "drill")


def command_function(name: str) -> Callable[..., None]:
    """The function that implements command `name` (its module imported now)."""
    module, _ = COMMANDS[name]
    # `import` is a Python keyword: its function is `import_command`.
    attribute = f"{name}_command" if keyword.iskeyword(name) else name
    function: Callable[..., None] = getattr(importlib.import_module(module), attribute)
    return function


def application(names: list[str]) -> typer.Typer:
    """An application holding the named commands (cnncalc.cli.startup builds only the one being run)."""
    target = typer.Typer(**APP_SETTINGS)
    target.callback()(root)
    for name in names:
        target.command(name, **COMMANDS[name][1])(command_function(name))
    return target


def full_application() -> typer.Typer:
    """Every command: for `cnncalc --help`, a mistyped command, and tests."""
    return application(list(COMMANDS))


def completion_app() -> typer.Typer:
    """Every command with its real options and sub-commands, for shell completion (lazy groups expanded)."""
    from cnncalc.cli.calc_commands import calc_app
    from cnncalc.cli.drill_commands import drill_app

    full = application([name for name in COMMANDS if name not in LAZY_GROUPS])
    full.add_typer(calc_app, name="calc", help=command_function("calc").__doc__)
    full.add_typer(drill_app, name="drill")
    return full
