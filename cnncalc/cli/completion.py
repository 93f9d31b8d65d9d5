"""Shell completion: the values a shell offers after `cnncalc ... <TAB>`.

Completion runs the program with an environment variable set (typer's `--install-completion` script does
it); only then is the whole command tree built, lazy groups (calc, drill) included (cnncalc.cli.startup), so
a normal run starts as fast as before. Value completions are plain functions: typer calls them with what
was typed.
"""

from __future__ import annotations

from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")


def complete_spec(incomplete: str) -> list[str]:
    """Bundled spec names, then directories and *.yaml / *.yml files that start with what was typed."""
    from cnncalc.language.zoo import zoo_specs

    names = [name for name in zoo_specs() if name.startswith(incomplete)]
    folder, _, prefix = incomplete.rpartition("/")
    directory = Path(folder + "/" if folder or incomplete.startswith("/") else ".")
    paths: list[str] = []
    try:
        for entry in sorted(directory.iterdir()):
            if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
                continue
            shown = f"{folder}/{entry.name}" if folder or incomplete.startswith("/") else entry.name
            if entry.is_dir():
                paths.append(shown + "/")
            elif entry.suffix in SPEC_SUFFIXES:
                paths.append(shown)
    except OSError:  # an unreadable or missing directory: nothing to offer there
        pass
    return names + paths


def complete_convention(incomplete: str) -> list[str]:
    from cnncalc.conventions import convention_names

    return [name for name in convention_names() if name.startswith(incomplete)]
