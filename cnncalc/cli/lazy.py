"""Sub-command groups that are built only when they run.

Typer turns every registered command into a click command each time the program starts, inspecting every
parameter; for a group of many commands (the calculators) that costs tens of milliseconds on every run of
every command. A lazy group is registered as one plain command that takes its arguments as they are and
hands them to the real typer app, imported and built on demand.
"""

from __future__ import annotations

import importlib

import typer

# The proxy takes every argument verbatim, --help included, and leaves them to the real app.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
# How a lazy group is registered: `app.command(name, **LAZY_GROUP_SETTINGS)(proxy)`.
LAZY_GROUP_SETTINGS = {"context_settings": PASS_THROUGH, "add_help_option": False}


def run_group(ctx: typer.Context, module: str, attribute: str) -> None:
    """Run the typer app `module.attribute` on this command's arguments (exits like any command)."""
    import typer.main

    group = getattr(importlib.import_module(module), attribute)
    typer.main.get_command(group).main(args=list(ctx.args), prog_name=ctx.command_path, standalone_mode=True)
