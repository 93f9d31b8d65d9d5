"""The issues an analysis finds, gathered so that a whole spec is checked and not only up to its first error.

Besides collecting, the log keeps three promises of the report:
- the same issue at the same place is reported once (a block used ten times is checked ten times);
- the same warning of many layers becomes one issue that lists them (28 BatchNorm layers, one warning);
- layers that could not be shape-checked (their input failed upstream) are counted and said so, once.
"""

from __future__ import annotations

from cnncalc.base.errors import NOT_SHAPE_CHECKED, IssueCollector, LayerSubject, Location, SpecIssue

COLLAPSED_NAMES = 3  # layer names shown in a warning that many layers share (all are in its `layers`)


class IssueLog(IssueCollector):
    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[Location, str]] = set()
        # warnings of layer rules, grouped by (kind, message, hint): where the group's issue is, and its layers
        self._layer_warnings: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
        self.unchecked = 0  # layers whose fields were checked but not their shapes (an input failed upstream)
        self.first_failure: tuple[str, Location] | None = None  # the first layer whose output failed

    def error(self, location: Location, message: str, hint: str = "", subject: LayerSubject | None = None) -> None:
        if (location, message) not in self._seen:
            self._seen.add((location, message))
            self.issues.append(SpecIssue(message, location, hint, "error", subject=subject))

    def warning(self, location: Location, message: str, hint: str = "") -> None:
        if (location, message) not in self._seen:
            self._seen.add((location, message))
            self.issues.append(SpecIssue(message, location, hint, "warning"))

    def layer_error(
        self,
        location: Location,
        path: str,
        kind: str,
        detail: str,
        hint: str = "",
        field: str = "",
        stops: bool = True,
    ) -> None:
        """An error about one layer: the message names it (`layer2.0.conv1 (conv2d): ...`), the subject too
        (`stops`: the layer has no output)."""
        self.error(location, f"{path} ({kind}): {detail}", hint, LayerSubject(path, kind, detail, field, stops))

    def layer_warning(self, location: Location, path: str, kind: str, detail: str, hint: str) -> None:
        """A rule's warning; the same warning of many layers becomes one issue (see `finish`)."""
        group = (kind, detail, hint)
        if group in self._layer_warnings:
            self._layer_warnings[group][1].append(path)
            return
        self._layer_warnings[group] = (len(self.issues), [path])
        subject = LayerSubject(path, kind, detail, stops=False)
        self.issues.append(SpecIssue(f"{path} ({kind}): {detail}", location, hint, "warning", subject=subject))

    def failed(self, path: str, kind: str, location: Location) -> None:
        """Remember the first layer that has no output: what the layers not shape-checked come after."""
        if self.first_failure is None:
            self.first_failure = (f"{path} ({kind})", location)

    def finish(self, input_location: Location | None, layers_location: Location) -> None:
        """Collapse warnings that many layers share, and say how many layers were not shape-checked
        (`input_location` is where the input section is when it is itself invalid, else None)."""
        for (kind, detail, hint), (position, paths) in self._layer_warnings.items():
            if len(paths) > 1:
                first = self.issues[position]
                shown = ", ".join(paths[:COLLAPSED_NAMES]) + (", ..." if len(paths) > COLLAPSED_NAMES else "")
                self.issues[position] = SpecIssue(
                    f"{kind} in {len(paths)} layers ({shown}): {detail}",
                    first.location,
                    hint,
                    "warning",
                    count=len(paths),
                    layers=tuple(paths),
                    subject=first.subject,
                )
        if not self.unchecked:
            return
        layers = f"{self.unchecked} layer{'s' * (self.unchecked != 1)}"
        were = "were" if self.unchecked != 1 else "was"
        if input_location is not None:
            where, message = input_location, f"{layers} {were} not shape-checked: the input is invalid"
        elif self.first_failure is not None:
            path, where = self.first_failure
            message = f"{layers} after {path} {were} not shape-checked: their input shape is unknown"
        else:
            where, message = layers_location, f"{layers} {were} not shape-checked: their input shape is unknown"
        self.issues.append(
            SpecIssue(message, where, "fix the errors above, then check again", "warning", code=NOT_SHAPE_CHECKED)
        )
