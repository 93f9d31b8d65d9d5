"""User-facing errors and exit codes.

A `SpecIssue` is one problem with a spec, located at file:line:column, with a hint on how to fix it.
`SpecError` carries one or more issues; the command line turns it into a located report and exit code 1.
Every error cnncalc raises for something its user gave it is a `CnncalcError`: `SpecError` (and
`SpecPathError`), `UsageError` (an argument of the Python API it cannot use) and `ModelImportError` (a PyTorch
module it cannot import). Anything else that escapes is a bug in cnncalc and keeps its traceback.
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


class DiffExitCode(enum.IntEnum):
    """Exit codes of `cnncalc diff`, as diff(1) and cmp(1) have them, so that CI can test for "changed": 1
    is taken by "the networks differ", so an invalid spec, which other commands end with 1, ends it with 2,
    as a usage error does. Whatever stops the comparison is 2; "equal" and "different" are answers."""

    EQUAL = 0
    DIFFERENT = 1
    TROUBLE = 2  # an invalid spec, an unreadable file, a bad option: no comparison was made


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
    """One problem with a spec, an error or a warning (`severity`), located: `SpecError.issues` and
    `Analysis.warnings` hold them.

    - `message`, and `hint` (how to fix it; may be empty);
    - `location`: `file`, `line` and `column` (1-based; 0 where unknown), written `file:line:column`;
    - `count` and `layers` tell which layers share an issue that is reported once for all of them (e.g. the
      same warning on 28 BatchNorm layers); `code` marks issues that programs may look for; `subject` names the
      layer an issue is about, for programs (the message names it for people);
    - `as_dict()` is its entry in the JSON output, `str(issue)` the lines the command line prints.
    """

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


class CnncalcError(Exception):
    """The base class of every error cnncalc raises for something it was given: catch it to handle them all.

    Its subclasses are `SpecError` (an invalid spec, with every problem located at file:line:column),
    `SpecPathError` (a spec file that cannot be read), `UsageError` (an argument cnncalc cannot use) and
    `ModelImportError` (a PyTorch module cnncalc cannot import). `str(error)` is the whole report.
    """


@dataclass
class SpecError(CnncalcError):
    """An invalid spec: one or more located problems, each a `SpecIssue` in `issues`.

    `str(error)` has one line per problem, as the command line prints them (`net.yaml:3:5: error: 0 (conv2d):
    spatial axis 0 has size 8 (+0 padding), smaller than the effective kernel 9; ...`), each followed by a
    `hint:` line where there is one. Errors about an argument that changed the input (`input=` of the Python
    API, `--input` on the command line) are located at that argument's name.
    """

    issues: list[SpecIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    @classmethod
    def at(cls, location: Location, message: str, hint: str = "") -> SpecError:
        return cls([SpecIssue(message, location, hint)])

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class SpecPathError(SpecError):
    """The spec file itself cannot be read (missing, a directory, no permission, too large, not UTF-8 text):
    on the command line a usage error, exit code 2."""


class UsageError(CnncalcError, ValueError):
    """An argument cnncalc cannot use: a source that is neither a file, a bundled spec nor YAML text, a malformed
    input shape, an unknown column, convention or dtype. A `ValueError` too; the message says what was expected."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class ModelImportError(CnncalcError):
    """A PyTorch module cnncalc cannot turn into a spec (an operation it has no layer kind for, control flow that
    depends on the data, ...). `message` says why; the importer's own exception is its `__cause__`."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


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
