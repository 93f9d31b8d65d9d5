"""`cnncalc kinds`: every layer type, its fields and what it computes."""

from __future__ import annotations

from typing import Annotated

import typer

from cnncalc.layers import COMPOSITES, REGISTRY


def kinds(
    kind: Annotated[str | None, typer.Argument(help="Show one layer type only.")] = None,
) -> None:
    """List layer types with their fields (required ones first) and a one-line description."""
    entries = {
        **{name: (k.schema, k.summary, k.family) for name, k in REGISTRY.items()},
        **{name: (c.schema, c.summary, c.family) for name, c in COMPOSITES.items()},
    }
    if kind is not None and kind not in entries:
        from cnncalc.cli.common import fail
        from cnncalc.errors import ExitCode
        from cnncalc.spec.pydantic_errors import did_you_mean

        raise fail(f"unknown layer type {kind!r}", ExitCode.USAGE, did_you_mean(kind, entries))
    for name in sorted(entries, key=lambda n: (entries[n][2], n)):
        if kind is not None and name != kind:
            continue
        schema, summary, family = entries[name]
        fields = []
        for field, info in schema.model_fields.items():
            fields.append(field if info.is_required() else f"{field}={info.default!r}")
        print(f"{name:18} [{family}] {summary}")
        if fields:
            print(f"{'':18} fields: {', '.join(fields)}")
