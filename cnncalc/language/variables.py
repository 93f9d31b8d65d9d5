"""Setting a spec's top-level `vars:` from outside the spec (`sweep --set`, `diff --set`, `cnncalc.diff(vars=)`).

A setting names a variable the spec declares; a name it does not declare is refused with the closest one (a
typo would otherwise be a silent no-op). The set value replaces the spec's own where the spec reads it, and the
variable keeps its source position, so an error the new value causes points at its line in `vars:`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnncalc.language.pydantic_errors import did_you_mean
from cnncalc.language.yaml_source import LoadedDocument


class VariableSettingError(ValueError):
    """A setting that cannot be applied: the message names the option, the hint what to write instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def split_setting(setting: str, option: str, example: str, form: str = "NAME=VALUE") -> tuple[str, str]:
    """`NAME=VALUE` as `option` takes it (`form`, shown with `example` when it is not) -> (NAME, VALUE)."""
    name, equals, value = setting.partition("=")
    name = name.strip()
    if not equals or not name:
        raise VariableSettingError(f"{option} {setting!r} is not {form}", f"e.g. {example}")
    return name, value


def declared_variables(data: Any) -> list[str]:
    """The names of the spec's top-level `vars:`, in the spec's order (none where it has no such mapping)."""
    variables = data.get("vars") if isinstance(data, dict) else None
    return list(variables) if isinstance(variables, dict) else []


def check_variable(name: str, data: Any, option: str, spec: str = "the spec") -> None:
    """Refuse a `name` the spec (`data`, described as `spec` in the message) does not declare in `vars:`."""
    known = declared_variables(data)
    if name in known:
        return
    if not known:
        raise VariableSettingError(
            f"{option} {name}: {spec} has no top-level `vars:`", f"{option} changes a variable of `vars:`"
        )
    hint = did_you_mean(name, known) or f"the spec's variables: {', '.join(known)}"
    raise VariableSettingError(f"{option} {name}: {spec} has no variable {name!r} in `vars:`", hint)


def variable_value(loaded: LoadedDocument, name: str) -> Any:
    """The value the spec gives a declared variable (as written: a number, or an expression's text)."""
    variables = loaded.data.get("vars") if isinstance(loaded.data, dict) else None
    return variables.get(name) if isinstance(variables, dict) else None


def with_variables(loaded: LoadedDocument, variables: Iterable[tuple[str, Any]]) -> LoadedDocument:
    """The spec with some top-level `vars` set to other values (their source positions kept for errors); the
    names are the caller's to check (`check_variable`)."""
    settings = dict(variables)
    if not settings:
        return loaded
    data = dict(loaded.data)
    data["vars"] = {**data.get("vars", {}), **settings}
    return LoadedDocument(data, loaded.source, loaded.text)
