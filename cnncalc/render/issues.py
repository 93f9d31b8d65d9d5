"""Spec errors for people (file:line:column, the source line and a caret) and for machines (JSON)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence

from cnncalc.base.errors import SpecIssue

SourceLines = Callable[[str], list[str] | None]


def issue_text(issue: SpecIssue, source_lines: SourceLines) -> str:
    lines = [f"{issue.location}: {issue.severity}: {issue.message}"]
    text = source_lines(issue.location.file) if issue.location.line > 0 else None
    if text is not None and issue.location.line <= len(text):
        source = text[issue.location.line - 1].rstrip("\n")
        if len(source) <= 200 and source.isprintable():
            number = str(issue.location.line)
            lines.append(f"  {number} | {source}")
            caret_at = max(issue.location.column - 1, 0)
            lines.append(f"  {' ' * len(number)} | {' ' * caret_at}^")
    if issue.hint:
        lines.append(f"  hint: {issue.hint}")
    return "\n".join(lines)


def issues_text(issues: Sequence[SpecIssue], source_lines: SourceLines) -> str:
    return "\n".join(issue_text(issue, source_lines) for issue in issues)


def issues_json(results: dict[str, Sequence[SpecIssue]]) -> str:
    """{"valid": bool, "files": [{"file", "valid", "errors": [...], "warnings": [...]}]}"""
    files = []
    for file, issues in results.items():
        errors = [issue.as_dict() for issue in issues if issue.severity == "error"]
        warnings = [issue.as_dict() for issue in issues if issue.severity == "warning"]
        files.append({"file": file, "valid": not errors, "errors": errors, "warnings": warnings})
    return json.dumps({"valid": all(entry["valid"] for entry in files), "files": files}, indent=2)


def verdict(issues: Sequence[SpecIssue]) -> str:
    """'valid', or '2 errors, 1 warning'."""
    errors = sum(issue.severity == "error" for issue in issues)
    warnings = len(issues) - errors
    text = "valid" if not errors else f"{errors} error{'s' * (errors != 1)}"
    if warnings:
        text += f", {warnings} warning{'s' * (warnings != 1)}"
    return text


def issues_csv(results: Mapping[str, Sequence[SpecIssue]]) -> str:
    """One line per issue of every file (a valid file without warnings has none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "severity", "line", "column", "message", "hint"])
    for file, issues in results.items():
        for issue in issues:
            location = issue.location
            writer.writerow([file, issue.severity, location.line, location.column, issue.message, issue.hint])
    return buffer.getvalue()


def issues_markdown(results: Mapping[str, Sequence[SpecIssue]]) -> str:
    """Each file with its verdict, then its issues as a list."""
    lines: list[str] = []
    for file, issues in results.items():
        lines.append(f"- `{file}`: {verdict(issues)}")
        for issue in issues:
            where = f"line {issue.location.line}, column {issue.location.column}"
            text = f"  - {issue.severity} at {where}: {issue.message}"
            lines.append(text + (f" (hint: {issue.hint})" if issue.hint else ""))
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    """A workflow command's message as the Actions toolkit escapes it (`%` first, so nothing is escaped twice)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which end a value there."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


GITHUB_TITLE = "cnncalc validate"


def issues_github(results: Mapping[str, Sequence[SpecIssue]]) -> str:
    """GitHub Actions workflow commands, one line per issue: `::error file=F,line=L,col=C,title=T::message`
    (and `::warning`), which GitHub shows as annotations at that line of the file; the hint follows the
    message on a line of its own. Line and column are left out where they are not known."""
    lines: list[str] = []
    for file, issues in results.items():
        for issue in issues:
            location = issue.location
            properties = [("file", location.file or file)]
            if location.line > 0:
                properties.append(("line", str(location.line)))
                if location.column > 0:
                    properties.append(("col", str(location.column)))
            properties.append(("title", GITHUB_TITLE))
            written = ",".join(f"{key}={_escape_property(value)}" for key, value in properties)
            message = issue.message + (f"\nhint: {issue.hint}" if issue.hint else "")
            lines.append(f"::{issue.severity} {written}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)
