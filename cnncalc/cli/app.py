"""The `cnncalc` application: commands are registered here, each implemented in its own module."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cnncalc import __version__
from cnncalc.cli.analyze import analyze
from cnncalc.cli.bench import bench
from cnncalc.cli.calc import CALC_SETTINGS, calc
from cnncalc.cli.conventions import conventions
from cnncalc.cli.drill import DRILL_SETTINGS, drill
from cnncalc.cli.kinds import kinds
from cnncalc.cli.validate import validate
from cnncalc.cli.verify import verify
from cnncalc.cli.zoo import zoo

app = typer.Typer(
    name="cnncalc",
    help="Shapes, parameters, MACs/FLOPs, memory and receptive fields of convolutional networks, from YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # internal errors are bugs: keep the plain traceback
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """cnncalc: answer the arithmetic of a CNN without running it.

    Exit codes: 0 success, 1 invalid spec, 2 usage error, 3 missing optional dependency.
    """


app.command("analyze")(analyze)
app.command("conventions")(conventions)
app.command("validate")(validate)
app.command("zoo")(zoo)
app.command("kinds")(kinds)
app.command("calc", **CALC_SETTINGS)(calc)
app.command("drill", **DRILL_SETTINGS)(drill)
app.command("verify")(verify)
app.command("bench")(bench)


def run(args: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    # pydantic looks for plugins through every installed package's entry points on first use, which costs
    # more than the whole analysis; the command line uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app(args=args, prog_name="cnncalc")
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
