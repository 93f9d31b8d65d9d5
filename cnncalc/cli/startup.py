"""How a cnncalc command starts and ends, tuned in this one module.

A cnncalc command is a short-lived process that often does less work than its own start-up: importing typer
and pydantic costs more than analysing ResNet-50. Every choice made for start-up time is here, each with its
reason, so that the rest of the program reads as if they did not exist:

1. Cyclic garbage collection is paused while modules are imported (tens of thousands of objects, none of
   them garbage), whose objects are then frozen out of later passes, and while the engine analyses a spec
   (`collection_paused`): an analysis keeps all of its objects until it ends, so passes find nothing to free
   while walking an ever larger heap (about a third of the time of a 100,000-layer analysis). It runs again
   afterwards, so the analysis's own reference cycles are freed before the output is written (a 100,000-layer
   JSON document needs half the memory then). The engine itself leaves the collector alone: a program that
   imports cnncalc keeps its own settings.
2. pydantic looks for plugins through every installed package's entry points on first use, which costs more
   than the whole analysis; the command line uses none (PYDANTIC_DISABLE_PLUGINS).
3. Typer turns every registered command into a click command each time the program starts; when the first
   argument names a command, an application holding only that command is built (same root options, same usage
   line). Shell completion gets the whole tree.
4. `calc` and `drill` are lazy groups: registered as one plain command that hands its arguments to the real
   typer app, imported and built only when that group runs.
5. At the end the process flushes its output and exits at once, without tearing down every object.

Nothing here is imported by the engine; `cnncalc.cli.app` holds the commands themselves.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

COMPLETE_VARIABLE = "_CNNCALC_COMPLETE"  # set by the shell's completion script (typer: _{PROG}_COMPLETE)

# How a lazy group is registered: `app.command(name, **LAZY_GROUP_SETTINGS)(proxy)`. The proxy takes every
# argument verbatim, --help included, and leaves them to the real app.
LAZY_GROUP_SETTINGS: dict[str, Any] = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    "add_help_option": False,
}


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection while the engine analyses a spec (see 1. above); restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_group(ctx: typer.Context, module: str, attribute: str) -> None:
    """Run the typer app `module.attribute` on a lazy group's arguments (exits like any command)."""
    import typer.main

    group = getattr(importlib.import_module(module), attribute)
    typer.main.get_command(group).main(args=list(ctx.args), prog_name=ctx.command_path, standalone_mode=True)


def completing() -> bool:
    """Whether this run answers a shell's completion request."""
    return COMPLETE_VARIABLE in os.environ


def app_for(args: list[str]) -> typer.Typer:
    """The application to run for these arguments: only the command named first, or the whole tree."""
    from cnncalc.cli import app

    if completing():
        return app.completion_app()
    if args and args[0] in app.COMMANDS:
        return app.application([args[0]])
    return app.app


def run(args: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
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
    """The console script: import without collection, run, flush, exit at once."""
    gc.disable()
    from cnncalc.cli import app  # noqa: F401  (the imports, before their objects are frozen)

    gc.freeze()
    gc.enable()
    code = run()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`); nothing left to say
        pass
    os._exit(code)
