"""The Python examples of the README's "Python API" section, run as tests.

Each ```python block is run in order, in one namespace per group (a notebook's cells), from the repository's
root (the examples name `specs/...`). Two checks come from the README itself:

- a line `EXPRESSION  # -> VALUE` checks that the expression equals the Python literal VALUE;
- a ```text block right after a ```python block is what that block prints, exactly.

A block after the line `<!-- needs the importer ... -->` needs cnncalc's PyTorch importer: those run in
tests/test_api_modules.py, the others in tests/test_api.py.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Python API\n"
NEEDS_IMPORTER = "<!-- needs the importer"

_BLOCK = re.compile(
    r"(?P<marker><!--[^\n]*-->\n)?```python\n(?P<code>.*?)```\n(?:```text\n(?P<output>.*?)```\n)?", re.S
)
_EXPECTATION = re.compile(r"^(?P<expression>\S.*?)  # -> (?P<value>.+)$", re.M)


@dataclass(frozen=True)
class Example:
    code: str
    output: str | None  # what it prints, if the README shows it
    needs_importer: bool
    line: int  # of the block in README.md, for failure messages


def readme_section() -> tuple[str, int]:
    """The "Python API" section and the line it starts on."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + 1)
    return readme[start:end], readme[:start].count("\n") + 1


def examples(needs_importer: bool) -> list[Example]:
    section, first_line = readme_section()
    found = [
        Example(
            match["code"],
            match["output"],
            bool(match["marker"]) and NEEDS_IMPORTER in match["marker"],
            first_line + section[: match.start("code")].count("\n"),
        )
        for match in _BLOCK.finditer(section)
    ]
    assert found, "no ```python block found in the README's Python API section: the pattern is wrong"
    return [example for example in found if example.needs_importer == needs_importer]


def _checked(code: str) -> str:
    """The code with each `EXPRESSION  # -> VALUE` line turned into a check."""
    return _EXPECTATION.sub(lambda match: f"_expect(({match['expression']}), ({match['value']}), {match[0]!r})", code)


def _expect(actual: Any, expected: Any, line: str) -> None:
    assert actual == expected, f"README: {line}\n  evaluates to {actual!r}"


def run(example: Example, namespace: dict[str, Any]) -> None:
    """Run one example in `namespace` (shared by the examples of a group), checking what the README says."""
    namespace.setdefault("_expect", _expect)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_checked(example.code), f"README.md:{example.line}", "exec"), namespace)
    if example.output is not None:
        assert out.getvalue() == example.output, (
            f"README.md:{example.line}: the example prints\n{out.getvalue()}\ninstead of\n{example.output}"
        )
