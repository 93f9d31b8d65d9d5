"""The console-script entry point, kept free of heavy imports so that start-up can be tuned here.

A cnncalc command is a short-lived process, so two things that matter for long-running programs cost
time for nothing here: garbage-collection passes over the tens of thousands of objects that importing
typer and pydantic creates, and tearing all of them down again at exit. Collection is paused during
imports and those objects are frozen out of later passes; at the end the process exits directly after
flushing its output.
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    gc.disable()
    from cnncalc.cli.app import run

    gc.freeze()
    gc.enable()
    code = run()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`); nothing left to say
        pass
    os._exit(code)
