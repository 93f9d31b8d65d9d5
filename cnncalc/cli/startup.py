"""How a cnncalc command starts and ends, tuned in this one module.

A cnncalc command is a short-lived process that often does less work than its own start-up: importing typer
and pydantic costs more than analysing ResNet-50. Every choice made for start-up time is here, each with its
reason, so that the rest of the program reads as if they did not exist:

1. Cyclic garbage collection is paused while modules are imported (tens of thousands of objects, none of
   them garbage), whose objects are then frozen out of later passes, and while the engine analyses a spec
   (`collection_paused`): an analysis keeps all of its objects until it ends, so passes find nothing to free
   while walking an ever larger heap (about a third of the time of a 100,000-layer analysis). Afterwards the
   result, which lives until the command ends, is frozen out of the passes that run while it is written
   (a 20,000-row table is drawn 12% faster, its JSON 7%). The engine itself leaves the collector alone: a
   program that imports cnncalc keeps its own settings.
2. pydantic looks for plugins through every installed package's entry points on first use, which costs more
   than the whole analysis; the command line uses none (PYDANTIC_DISABLE_PLUGINS).
3. Typer turns every registered command into a click command each time the program starts; when the first
   argument names a command, an application holding only that command is built (same root options, same usage
   line), and only that command's module is imported (cnncalc.cli.app names each command's module). Help,
   a mistyped command and shell completion get the whole tree.
4. `calc` and `drill` are lazy groups: registered as one plain command that hands its arguments to the real
   typer app, imported and built only when that group runs.
5. At the end the process flushes its output and exits at once, without tearing down every object.

Nothing here is imported by the engine; `cnncalc.cli.app` holds the commands themselves.
"""

from __future__ import annotations

# Only modules the interpreter has already loaded are imported before `main` pauses collection (see 1.):
# `typing`, `contextlib` and friends come later, with everything else.
import gc
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; type checkers read it the same way
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

    import typer

COMPLETE_VARIABLE = "_CNNCALC_COMPLETE"  # set by the shell's completion script (typer: _{PROG}_COMPLETE)

# How a lazy group is registered: `app.command(name, **LAZY_GROUP_SETTINGS)(proxy)`. The proxy takes every
# argument verbatim, --help included, and leaves them to the real app.
LAZY_GROUP_SETTINGS: dict[str, Any] = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    "add_help_option": False,
}


class collection_paused:  # a class, not @contextmanager: contextlib is not loaded yet (see above)
    """No cyclic collection while the engine analyses a spec; then what it made is frozen (see 1. above)."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        gc.freeze()  # the result lives until the command ends: later passes (while it is written) skip it
        if self.was_enabled:
            gc.enable()


def run_group(ctx: typer.Context, module: str, attribute: str) -> None:
    """Run the typer app `module.attribute` on a lazy group's arguments (exits like any command)."""
    import importlib

    import typer.main

    group = getattr(importlib.import_module(module), attribute)
    typer.main.get_command(group).main(args=list(ctx.args), prog_name=ctx.command_path, standalone_mode=True)


def completing() -> bool:
    """Whether this run answers a shell's completion request."""
    return COMPLETE_VARIABLE in os.environ


def app_for(args: list[str]) -> typer.Typer:
    """The application to run for these arguments: only the command named first, or the whole tree."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # before pydantic is first used (see 2.)
    from cnncalc.cli import app

    if completing():
        return app.completion_app()
    if args and args[0] in app.COMMANDS:
        return app.application([args[0]])
    return app.full_application()


def run(args: list[str] | None = None, application: typer.Typer | None = None) -> int:
    """Run the command line (on `application`, else the one `app_for` builds) and return its exit code."""
    arguments = sys.argv[1:] if args is None else args
    try:
        (application or app_for(arguments))(args=arguments, prog_name="cnncalc")
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=sys.stderr)
        return 1
    return 0


def main() -> None:
    """The console script: build the application without collection, run, flush, exit at once."""
    gc.disable()
    application = app_for(sys.argv[1:])  # imports only what this command needs; then frozen (see 1.)
    gc.freeze()
    gc.enable()
    code = run(application=application)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`); nothing left to say
        pass
    os._exit(code)
