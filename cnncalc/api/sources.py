"""What a `source` argument is, and its spec read as a located document.

A string is, in this order:

1. YAML text, when it holds a line break;
2. a path, when a file (or anything else) exists there;
3. a bundled spec, when it is the name of one (`resnet50`, or `resnet50.yaml`), with no `/`;
4. YAML text, when it reads as a one-line mapping: `{input: ..., layers: [...]}`, or a key and a colon followed
   by a space or the end (`input: {shape: [3, 8, 8]}`);
5. otherwise a `UsageError` says it is none of these, with the closest bundled name.

A `pathlib.Path` is always a file (a missing one is a `SpecPathError`); a mapping is a spec as Python data
(what a YAML spec reads as).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnncalc.base.errors import UsageError
from cnncalc.language.pydantic_errors import did_you_mean
from cnncalc.language.yaml_source import LoadedDocument, SourceMap, load_yaml, read_spec_text
from cnncalc.language.zoo import zoo_specs

TEXT_LABEL = "<spec>"  # what errors in a spec given as text point at
DATA_LABEL = "<data>"  # and in a spec given as Python data

# A one-line YAML mapping: a flow mapping, or a plain key then ":" and a space or the end ("C:\\x" is not one).
_ONE_LINE_MAPPING = re.compile(r"\s*(?:\{|[A-Za-z_][\w.-]*\s*:(?:\s|$))")


def is_spec_source(source: object) -> bool:
    """Whether `source` is one of the spec sources this module reads (not a module, not something else)."""
    return isinstance(source, (str, os.PathLike, Mapping))


def load_source(source: str | os.PathLike[str] | Mapping[str, Any]) -> LoadedDocument:
    """The spec of `source` (see the module's docstring), read; a spec that cannot be read is a SpecError."""
    if isinstance(source, Mapping):
        return LoadedDocument(dict(source), SourceMap(DATA_LABEL), "")
    if not isinstance(source, str):  # a path object: a file, whatever its name
        path = Path(source)
        return load_yaml(read_spec_text(path), str(path))
    if "\n" in source or "\r" in source:
        return load_yaml(source, TEXT_LABEL)
    if not source.strip():
        raise UsageError("the source is an empty string", "give a spec's path, a bundled spec's name or YAML text")
    path = _existing_path(source)
    if path is not None:
        return load_yaml(read_spec_text(path), str(path))
    bundled = _bundled(source)
    if bundled is not None:
        return load_yaml(read_spec_text(bundled), str(bundled))
    if _ONE_LINE_MAPPING.match(source):
        return load_yaml(source, TEXT_LABEL)
    raise UsageError(f"{_shown(source)} is neither an existing file, a bundled spec nor YAML text", _hint(source))


def _existing_path(text: str) -> Path | None:
    path = Path(text)
    try:
        if path.exists() or path.is_symlink():  # a dangling link too: reading it says what is wrong
            return path
    except (OSError, ValueError):  # a name longer than the file system allows, a NUL byte: not a path
        return None
    return None


def _bundled(text: str) -> Path | None:
    if "/" in text or os.sep in text:
        return None
    return zoo_specs().get(text.removesuffix(".yaml"))


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77]) + "..."


def _hint(text: str) -> str:
    close = did_you_mean(Path(text).stem, zoo_specs()) if len(text) <= 200 else ""
    if close.startswith("did you mean"):
        return f"{close} (a bundled spec); a path must exist; YAML text needs a line break or `key: value`"
    return "a path must exist; bundled specs: `cnncalc zoo`; YAML text needs a line break or `key: value`"
