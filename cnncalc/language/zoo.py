"""The bundled specs (the zoo): where they are, and how a SPEC argument is resolved.

In the repository they live in specs/ at the top level; an installed wheel carries them as cnncalc/specs.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the cnncalc package


def zoo_dir() -> Path | None:
    for candidate in (_PACKAGE_DIR / "specs", _PACKAGE_DIR.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return None


def zoo_specs() -> dict[str, Path]:
    """Bundled spec names (file stems) and their paths, sorted by name."""
    directory = zoo_dir()
    if directory is None:
        return {}
    return {path.stem: path for path in sorted(directory.glob("*.yaml"))}


def resolve_spec(argument: str) -> Path | None:
    """A path as given if it exists, else the bundled spec of that name (with or without .yaml)."""
    path = Path(argument)
    try:
        if path.exists() or path.is_symlink():  # a dangling link too: reading it says what is wrong
            return path
    except OSError:  # e.g. a name longer than the file system allows: reading it says what is wrong
        return path
    specs = zoo_specs()
    name = argument[: -len(".yaml")] if argument.endswith(".yaml") else argument
    if "/" not in argument and name in specs:
        return specs[name]
    return None
