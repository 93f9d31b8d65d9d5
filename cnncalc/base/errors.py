"""User-facing errors and exit codes.

A `SpecIssue` is one problem with a spec, located at file:line:column, with a hint on how to fix it.
`SpecError` carries one or more issues; the command line turns it into a located report and exit code 1.
Anything else that escapes is a bug in cnncalc and keeps its traceback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class ExitCode(enum.IntEnum):
    """Exit codes of every cnncalc command, mapped in this one place."""

    OK = 0
    INVALID_SPEC = 1  # the spec (or an option that changes it, such as --input) is wrong
    USAGE = 2  # bad command-line usage: unknown option, missing argument, unreadable path
    MISSING_DEPENDENCY = 3  # an optional dependency (torch) is needed and not installed


@dataclass(frozen=True)
class Location:
    """A position in a spec file; line and column are 1-based, 0 means unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


NOT_SHAPE_CHECKED = "not-shape-checked"  # code of the note on layers after a failure that were not shape-checked


class LayerSubject(NamedTuple):  # a named tuple: quick to define at start-up, and as immutable
    """Which layer an issue is about, as data: its path in the expanded network, its kind, and the field at fault
    (empty when the issue is not about one field). `detail` is the message without the layer named in front;
    `stops` says the layer has no output, so the layers that read it are not computed."""

    path: str
    kind: str
    detail: str
    field: str = ""
    stops: bool = True


@dataclass(frozen=True)
class SpecIssue:
    """One problem. `count` and `layers` tell which layers share an issue that is reported once for all of them
    (e.g. the same warning on 28 BatchNorm layers); `code` marks issues that programs may look for; `subject`
    names the layer an issue is about, for programs (the message names it for people)."""

    message: str
    location: Location
    hint: str = ""
    severity: str = "error"  # "error" or "warning"
    count: int = 1
    layers: tuple[str, ...] = ()
    code: str = ""
    subject: LayerSubject | None = None

    def as_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "severity": self.severity,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "hint": self.hint,
        }
        if self.layers:  # only issues shared by several layers carry these, so other issues keep their keys
            entry["count"] = self.count
            entry["layers"] = list(self.layers)
        if self.code:
            entry["code"] = self.code
        if self.subject is not None:
            entry["layer"] = self.subject.path
            entry["type"] = self.subject.kind
            if self.subject.field:
                entry["field"] = self.subject.field
        return entry

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


@dataclass
class SpecError(Exception):
    """One or more located problems with a spec."""

    issues: list[SpecIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    @classmethod
    def at(cls, location: Location, message: str, hint: str = "") -> SpecError:
        return cls([SpecIssue(message, location, hint)])

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class SpecPathError(SpecError):
    """The spec file itself cannot be read (missing, a directory, no permission): a usage error, exit code 2."""


class IssueCollector:
    """Gathers issues so that a whole spec can be checked, not just up to its first error."""

    def __init__(self) -> None:
        self.issues: list[SpecIssue] = []

    def error(self, location: Location, message: str, hint: str = "") -> None:
        self.issues.append(SpecIssue(message, location, hint, "error"))

    def warning(self, location: Location, message: str, hint: str = "") -> None:
        self.issues.append(SpecIssue(message, location, hint, "warning"))

    def extend(self, issues: list[SpecIssue]) -> None:
        self.issues.extend(issues)

    @property
    def errors(self) -> list[SpecIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[SpecIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SpecError(self.errors)
