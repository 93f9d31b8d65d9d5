"""`cnncalc schema`: the JSON Schema of the spec language, for editors and other checkers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.cli.common import write_atomically
from cnncalc.engine.spec_schema import schema_text


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file (default: standard output).")
    ] = None,
) -> None:
    """Print the JSON Schema (draft-07) of spec files: every layer type with its fields, defaults and description.

    Editors that use yaml-language-server (VS Code's YAML extension, and others) complete and check specs with
    it: a spec's first line `# yaml-language-server: $schema=PATH` points at the file (the bundled specs point
    at specs/cnncalc.schema.json). The schema checks fields and types; `cnncalc validate` also checks shapes
    and evaluates expressions. Exit codes: 0 written, 2 the file cannot be written.
    """
    text = schema_text()
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        print(f"wrote {output}", file=sys.stderr)
