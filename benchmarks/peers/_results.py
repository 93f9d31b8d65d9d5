"""Write one subsection of the "## Peers" section of benchmarks/RESULTS.md, leaving the rest of the file alone."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
SECTION = "## Peers"
INTRO = (
    "cnncalc's `--convention` figures against the tools themselves, and the cost of a cold process that\n"
    "prints each tool's summary. Scripts in `benchmarks/peers/`; each subsection names its command."
)


def _split(text: str, heading: str, level: str) -> tuple[str, str, str]:
    """(before, the block that starts with `heading` up to the next heading of the same level, after)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        return text, "", ""
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(level + " ") or _outer(lines[i], level)),
        len(lines),
    )
    return "".join(lines[:start]), "".join(lines[start:end]), "".join(lines[end:])


def _outer(line: str, level: str) -> bool:
    """A heading of a higher level than `level` (e.g. "## " while inside "### " blocks)."""
    hashes = len(line) - len(line.lstrip("#"))
    return 0 < hashes < len(level) and line[hashes : hashes + 1] == " "


def write_subsection(title: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or add) `### title` inside `## Peers`, creating the section or the file if missing."""
    text = path.read_text() if path.exists() else "# cnncalc benchmark results\n"
    block = f"### {title}\n\n{body.strip()}\n\n"
    before, section, after = _split(text, SECTION, "##")
    if not section:
        separator = "" if before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
        section = f"{SECTION}\n\n{INTRO}\n\n"
        before, after = before + separator, ""
    head, old, tail = _split(section, f"### {title}", "###")
    section = head + block + tail if old else section.rstrip("\n") + "\n\n" + block
    path.write_text(before + section.rstrip("\n") + "\n" + ("\n" + after if after else ""))
