"""`cnncalc drill`: interview practice, with `drill stats` and `drill topics`.

Registered as a lazy group: the drill's options and sub-commands (cnncalc.cli.drill_commands), the question
bank, SQLite and the engine are loaded only when `cnncalc drill` runs.
"""

from __future__ import annotations

import typer

from cnncalc.cli.startup import run_group


def drill(ctx: typer.Context) -> None:
    """Interview drill on CNN arithmetic, graded by the engine, with worked solutions and saved progress."""
    run_group(ctx, "cnncalc.cli.drill_commands", "drill_app")
