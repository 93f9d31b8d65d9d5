"""`cnncalc calc ...`: one-line calculators for a single layer or an inline stack, no YAML file needed.

Registered as a lazy group: the calculators (cnncalc.cli.calc_commands) and the engine are loaded only
when `cnncalc calc` runs, so the other commands start as fast as before.
"""

from __future__ import annotations

import typer

from cnncalc.cli.startup import run_group


def calc(ctx: typer.Context) -> None:
    """One-line calculators: shape, params, MACs/FLOPs, receptive field of a layer or an inline stack."""
    run_group(ctx, "cnncalc.cli.calc_commands", "calc_app")
