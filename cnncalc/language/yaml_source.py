"""Read YAML safely, keeping the line and column of every value.

PyYAML's loaders build Python objects without positions, expand aliases without limit and recurse in
Python. This module instead composes the document from the parser's event stream (libyaml when present)
into plain dicts, lists and scalars, while:

- recording the position of every value and every mapping key (so errors point at file:line:column);
- refusing every tag outside YAML's core schema (`!!python/object` and friends never run);
- bounding nesting depth and the size after alias expansion ("billion laughs");
- refusing duplicate keys, which PyYAML would silently resolve to the last one.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cnncalc.base import limits
from cnncalc.base.errors import Location, SpecError, SpecPathError

PathKey = tuple[str | int, ...]

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:merge",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"

_MAX_LITERAL = 10**limits.MAX_NUMBER_DIGITS
_DEPTH_MESSAGE = f"values are nested more than {limits.MAX_YAML_DEPTH} levels deep"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed; tests swap in the pure parser


class SourceMap:
    """Where each value of a loaded document came from, found on demand by walking the composed nodes.

    Positions are looked up only when something needs one (an error, a layer's location), so loading
    records nothing per value. `locate(path)` gives the 1-based line and column of the value at `path`
    (a tuple of keys and indices), or of the mapping key leading to it with `key=True`; a path that does
    not exist (a missing field) resolves to its nearest existing parent.
    """

    def __init__(self, file: str, root: _Node | None = None) -> None:
        self.file = file
        self.root = root

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        node = self.root
        if node is None:
            return Location(self.file, 1, 1)
        key_node: _Node | None = None
        for part in path:
            found = _child(node, part, self.file)
            if found is None:
                return Location(self.file, node.line, node.column)
            key_node, node = found
        chosen = key_node if key and key_node is not None else node
        return Location(self.file, chosen.line, chosen.column)


def _child(node: _Node, part: str | int, file: str) -> tuple[_Node | None, _Node] | None:
    """The (key node, value node) that `part` selects inside `node`, looking through `<<:` merges."""
    if node.kind == "seq":
        if isinstance(part, int) and 0 <= part < len(node.children):
            return None, node.children[part]
        return None
    if node.kind != "map":
        return None
    merges: list[_Node] = []
    children = node.children
    for index in range(0, len(children), 2):
        key_node = children[index]
        if key_node.kind != "scalar":
            continue
        if _tag_of(key_node) == _MERGE_TAG:
            merges.append(children[index + 1])
        elif key_node.value == part or (not isinstance(part, str) and _scalar_value(key_node, file) == part):
            return key_node, children[index + 1]
    for merged in merges:
        for source in merged.children if merged.kind == "seq" else [merged]:
            found = _child(source, part, file)
            if found is not None:
                return found
    return None


@dataclass
class LoadedDocument:
    data: Any
    source: SourceMap
    text: str


class _Node:
    """A composed YAML node; `size` counts nodes after alias expansion, `height` the nesting below it."""

    __slots__ = ("children", "column", "height", "implicit", "kind", "line", "size", "tag", "value")

    def __init__(self, kind: str, tag: str | None, line: int, column: int) -> None:
        self.kind = kind  # "scalar", "seq" or "map"
        self.tag = tag  # None for a scalar until its tag is resolved (see _tag_of)
        self.implicit: Any = None
        self.line = line
        self.column = column
        self.value: Any = None
        self.children: list[_Node] = []
        self.size = 1
        self.height = 1


def read_spec_text(path: Path) -> str:
    """Read a spec file as UTF-8 text, refusing oversize or undecodable input with a located message.

    Only a regular file is read: a FIFO without a writer would block `open()` forever and a device such as
    /dev/zero never ends, so anything else is refused from its `os.stat` before it is opened. The file is
    opened non-blocking and checked again, in case the path was replaced by a FIFO in between.
    """
    file = str(path)
    try:
        mode = os.stat(file).st_mode
    except OSError as error:
        raise _unreadable_path(file, error) from None
    _refuse_non_regular(file, mode)
    try:
        descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _unreadable_path(file, error) from None
    with os.fdopen(descriptor, "rb") as handle:
        _refuse_non_regular(file, os.fstat(handle.fileno()).st_mode)
        try:
            raw = handle.read(limits.MAX_FILE_BYTES + 1)
        except OSError as error:
            raise _unreadable_path(file, error) from None
    return decode_spec_bytes(raw, file)


_FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _refuse_non_regular(file: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise SpecPathError.at(Location(file), f"is {kind}, not a spec file")


def _unreadable_path(file: str, error: OSError) -> SpecPathError:
    """A one-line report for a path that cannot be opened, whatever the reason."""
    if error.errno == errno.ENAMETOOLONG:
        shown = file if len(file) <= 80 else f"{file[:40]}...{file[-20:]} ({len(file):,} characters)"
        return SpecPathError.at(Location(shown), "the path is longer than the file system allows")
    if error.errno == errno.ENOENT:
        if os.path.islink(file):
            return SpecPathError.at(
                Location(file), f"is a symbolic link to {os.readlink(file)!r}, which does not exist"
            )
        return SpecPathError.at(
            Location(file), "no such file", "check the path, or run `cnncalc zoo` for bundled specs"
        )
    if error.errno == errno.ELOOP:
        return SpecPathError.at(Location(file), "symbolic links loop (or nest too deeply) in this path")
    return SpecPathError.at(Location(file), f"cannot read the file: {error.strerror or error}")


def decode_spec_bytes(raw: bytes, file: str) -> str:
    if len(raw) > limits.MAX_FILE_BYTES:
        raise SpecError.at(
            Location(file),
            f"file is larger than {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB",
            "a spec describes layers, not data; no real network needs a spec this large",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = len(raw[line_start : error.start].decode("utf-8", errors="replace")) + 1  # characters, not bytes
        raise SpecError.at(
            Location(file, line, column),
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded)",
            "save the spec as UTF-8; binary files are not specs",
        ) from None


def load_yaml(text: str, file: str) -> LoadedDocument:
    """Parse one YAML document into plain Python values plus a SourceMap."""
    if not text.strip():
        raise SpecError.at(Location(file, 1, 1), "the spec is empty", "a spec needs at least `input:` and `layers:`")
    root = _compose(text, file, _Loader)
    data = _to_python(root, file)
    return LoadedDocument(data, SourceMap(file, root), text)


def _mark_location(file: str, mark: Any) -> Location:
    if mark is None:
        return Location(file)
    return Location(file, mark.line + 1, mark.column + 1)


def _compose(text: str, file: str, loader: type) -> _Node:
    """Build the node tree from parser events without recursion, enforcing the size and depth limits."""
    anchors: dict[str, _Node] = {}
    stack: list[tuple[_Node, str | None]] = []  # open collections with their anchors
    root: _Node | None = None
    documents = 0
    total = 0  # values so far, aliases counted at their expanded size: checked as the events arrive
    aliases = False
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.AliasEvent, yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if isinstance(event, yaml.AliasEvent):
                    aliases = True
                    target = anchors.get(event.anchor)
                    total += target.size if target is not None else 1
                else:
                    total += 1
                if total > limits.MAX_YAML_NODES:
                    raise _size_error(file, event.start_mark, aliases)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SpecError.at(
                        _mark_location(file, event.start_mark),
                        "the file holds more than one YAML document",
                        "put one network in each spec file (remove the second `---`)",
                    )
                continue
            if isinstance(event, yaml.AliasEvent):
                node = anchors.get(event.anchor)
                if node is None:
                    raise SpecError.at(
                        _mark_location(file, event.start_mark),
                        f"alias *{event.anchor} refers to an anchor that is not defined before it",
                        "define `&name` on a complete value before using `*name`",
                    )
                if len(stack) + node.height > limits.MAX_YAML_DEPTH:
                    raise _depth_error(file, event.start_mark)
                root = _attach(stack, node, root)
                continue
            if isinstance(event, yaml.ScalarEvent):
                node = _scalar_node(event, file)
                _remember_anchor(anchors, event.anchor, node)
                root = _attach(stack, node, root)
                continue
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
                tag = event.tag
                if tag is not None and tag not in _CORE_TAGS and tag != "!":
                    raise _tag_error(file, event.start_mark, tag)
                if len(stack) + 1 > limits.MAX_YAML_DEPTH:
                    raise _depth_error(file, event.start_mark)
                mark = event.start_mark
                stack.append((_Node(kind, tag, mark.line + 1, mark.column + 1), event.anchor))
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node, anchor = stack.pop()
                node.size = 1 + sum(child.size for child in node.children)
                node.height = 1 + max((child.height for child in node.children), default=0)
                _remember_anchor(anchors, anchor, node)
                root = _attach(stack, node, root)
    except yaml.reader.ReaderError as error:
        raise _reader_error(text, file, error, loader) from None
    except yaml.YAMLError as error:
        problem_mark = getattr(error, "problem_mark", None)
        context_mark = getattr(error, "context_mark", None)
        mark = problem_mark or context_mark
        problem = getattr(error, "problem", None) or str(error)
        if "nesting depth" in problem and mark is not None:
            raise _parser_depth_refusal(text, file, mark) from None
        context = getattr(error, "context", None)
        message = f"invalid YAML: {problem}"
        if context and context_mark is not None and problem_mark is not None and context_mark.line != problem_mark.line:
            # e.g. an unclosed bracket: the error shows where parsing failed, this says where the bracket opened
            message += f" ({context} that starts at line {context_mark.line + 1}, column {context_mark.column + 1})"
        elif context:
            message += f" ({context})"
        hint = "check indentation, colons and brackets near this position"
        if mark is not None and _tab_in_indentation(text, mark):
            hint = "YAML does not allow tabs in indentation: replace tabs with spaces"
        raise SpecError.at(_mark_location(file, mark), message, hint) from None
    if root is None:
        raise SpecError.at(Location(file, 1, 1), "the spec is empty", "a spec needs at least `input:` and `layers:`")
    return root


# The pure-Python parser reads about 0.7 MB/s: re-reading more than this to place an error would be slow.
_REPARSE_LIMIT_CHARS = 256 * 1024


def _parser_depth_refusal(text: str, file: str, mark: Any) -> SpecError:
    """cnncalc's nesting error for a parser that refused the nesting itself.

    libyaml refuses 1,000 nested flow collections while it is still looking ahead for the first of them, so
    it gives none of their events and the depth check in _compose never runs. The limit is cnncalc's, and so
    are its message and position: the text up to the refusal is read again with the pure-Python parser (which
    has no nesting limit of its own) to find where the nesting passes MAX_YAML_DEPTH, as it does without
    libyaml. A prefix too long to re-read quickly gets the same message at the parser's position.
    """
    lines = text.split("\n", mark.line + 1)
    prefix = "\n".join(lines[: mark.line + 1])
    if len(prefix) <= _REPARSE_LIMIT_CHARS:
        try:
            _compose(prefix, file, yaml.SafeLoader)
        except SpecError as error:
            if error.issues[0].message == _DEPTH_MESSAGE:
                return error
    return _depth_error(file, mark)


def _tab_in_indentation(text: str, mark: Any) -> bool:
    """Whether the parser stopped in the leading whitespace of a line that holds a tab."""
    lines = text.split("\n", mark.line + 1)
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    indentation = line[: len(line) - len(line.lstrip(" \t"))]
    return "\t" in indentation and mark.column <= len(indentation)


def _size_error(file: str, mark: Any, aliases: bool) -> SpecError:
    if aliases:
        return SpecError.at(
            _mark_location(file, mark),
            f"the document expands to more than {limits.MAX_YAML_NODES:,} values",
            "aliases (`*name`) are expanded where they are used; this looks like an alias bomb",
        )
    return SpecError.at(
        _mark_location(file, mark),
        f"the document holds more than {limits.MAX_YAML_NODES:,} values",
        "a spec describes layers, not data; no real network needs a spec this large",
    )


def _reader_error(text: str, file: str, error: yaml.reader.ReaderError, loader: type) -> SpecError:
    """A character YAML does not accept (NUL, other control characters); PyYAML gives no line for it."""
    position = error.position if isinstance(error.position, int) else 0
    # libyaml counts the position in UTF-8 bytes of the text, the pure-Python reader in characters.
    if loader is not yaml.SafeLoader:
        before = text.encode("utf-8", errors="surrogatepass")[:position].decode("utf-8", errors="replace")
    else:
        before = text[:position]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    character = error.character
    code = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    return SpecError.at(
        Location(file, line, column),
        f"invalid YAML: the character {code} is not allowed ({error.reason})",
        "remove control characters such as NUL; a spec is plain text",
    )


def _short(value: Any, limit: int = 60) -> str:
    """repr() of a value, shortened so that a huge scalar does not flood the message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]} ({len(text):,} characters)"


def _remember_anchor(anchors: dict[str, _Node], anchor: str | None, node: _Node) -> None:
    if anchor is not None:
        anchors[anchor] = node


def _attach(stack: list[tuple[_Node, str | None]], node: _Node, root: _Node | None) -> _Node | None:
    """Add `node` to the innermost open collection; a node with no open collection is the document root."""
    if not stack:
        return node
    stack[-1][0].children.append(node)
    return root


def _scalar_node(event: Any, file: str) -> _Node:
    mark = event.start_mark
    tag = event.tag
    if tag is None or tag == "!":
        tag = None  # resolved on use (_tag_of): cheaper for documents refused by the size limit
    elif tag not in _CORE_TAGS:
        raise _tag_error(file, mark, tag)
    node = _Node("scalar", tag, mark.line + 1, mark.column + 1)
    node.value = event.value
    node.implicit = event.implicit
    return node


def _tag_of(node: _Node) -> str:
    """The tag of a node; an untagged scalar gets the core-schema tag its text implies (int, bool, ...)."""
    if node.tag is None:
        node.tag = _resolve_scalar(node.value, node.implicit)
    return node.tag


# YAML 1.2 core schema, not the YAML 1.1 rules PyYAML resolves with: in 1.1, `1:30` is 90 (base 60), `010` is
# 8 (octal), `yes`/`no`/`on`/`off` are booleans and `1e5` is text; in 1.2 these are text, 10 (decimal), text
# and a float. The same spec must give the same network in every tool, so cnncalc reads plain scalars by the
# 1.2 rules and refuses the one form that both read as a number, differently (a leading zero: see _read_int).
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"


def _resolve_scalar(text: str, implicit: Any) -> str:
    """The YAML 1.2 core-schema tag of an untagged scalar: quoted scalars are text; `<<` is a merge key."""
    if not (implicit and implicit[0]):  # quoted, or a block scalar: text
        return _STR_TAG
    if text == "<<":
        return _MERGE_TAG
    if _NULL.fullmatch(text):
        return _NULL_TAG
    if _BOOL.fullmatch(text):
        return _BOOL_TAG
    if _INT.fullmatch(text):
        return _INT_TAG
    if _FLOAT.fullmatch(text):
        return _FLOAT_TAG
    return _STR_TAG


def _read_int(node: _Node, file: str) -> int:
    text = node.value.strip()
    location = Location(file, node.line, node.column)
    if _LEADING_ZERO.fullmatch(text):
        plain = text.lstrip("+-").lstrip("0") or "0"
        sign = "-" if text.startswith("-") else ""
        raise SpecError.at(
            location,
            f"the number {_short(text, 40)} has a leading zero",
            "a leading zero is read as octal by YAML 1.1 and as decimal by YAML 1.2; "
            f"write {sign}{plain} (or {sign}0o{plain} for octal)",
        )
    if not _INT.fullmatch(text):
        raise ValueError(text)
    digits = text.lstrip("+-")
    if digits.startswith(("0o", "0x")):
        number = int(digits[2:], 8 if digits[1] == "o" else 16)
    elif len(digits) > limits.MAX_NUMBER_DIGITS:  # int() of thousands of digits is slow, then repr() fails
        number = _MAX_LITERAL
    else:
        number = int(digits)
    number = -number if text.startswith("-") else number
    if abs(number) >= _MAX_LITERAL:  # 0xfff... escapes Python's 4300-digit limit, then repr() fails
        raise SpecError.at(
            location,
            f"the number {_short(node.value, 40)} is too large for any real network",
            f"integers in a spec have at most {limits.MAX_NUMBER_DIGITS} digits",
        )
    return number


def _read_float(node: _Node, file: str) -> float:
    text = node.value.strip()
    if not _FLOAT.fullmatch(text) and not _INT.fullmatch(text):
        raise ValueError(text)
    number = float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))  # Python spells them inf, nan
    if not math.isfinite(number):  # .inf, .nan, or 1e400: no size, count or rate in a network is infinite
        raise SpecError.at(
            Location(file, node.line, node.column),
            f"{_short(node.value, 40)} is not a finite number",
            "write a finite number; YAML reads .inf, .nan and numbers beyond 1.8e308 as non-finite floats",
        )
    return number


def _tag_error(file: str, mark: Any, tag: str) -> SpecError:
    return SpecError.at(
        _mark_location(file, mark),
        f"the YAML tag {tag!r} is not allowed",
        "specs use plain YAML values only: numbers, strings, booleans, lists and mappings",
    )


def _depth_error(file: str, mark: Any) -> SpecError:
    return SpecError.at(
        _mark_location(file, mark),
        _DEPTH_MESSAGE,
        "flatten the structure; real specs nest a few levels",
    )


def _scalar_value(node: _Node, file: str) -> Any:
    tag = _tag_of(node)
    try:
        if tag == _INT_TAG:
            return _read_int(node, file)
        if tag == _FLOAT_TAG:
            return _read_float(node, file)
        if tag == _BOOL_TAG:
            if not _BOOL.fullmatch(node.value.strip()):
                raise ValueError(node.value)
            return node.value.strip().lower() == "true"
        if tag == _NULL_TAG:
            return None
    except ValueError:  # e.g. `!!bool maybe` or `!!int ten`
        raise SpecError.at(
            Location(file, node.line, node.column), f"cannot read {_short(node.value)} as {tag.rsplit(':', 1)[-1]}"
        ) from None
    return node.value


def _to_python(node: _Node, file: str) -> Any:
    if node.kind == "scalar":
        return _scalar_value(node, file)
    if node.kind == "seq":
        return [_to_python(child, file) for child in node.children]
    result: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    children = node.children
    for index in range(0, len(children), 2):
        key_node, value_node = children[index], children[index + 1]
        if key_node.kind != "scalar":
            raise SpecError.at(
                Location(file, key_node.line, key_node.column),
                "mapping keys must be plain names, not lists or mappings",
            )
        if _tag_of(key_node) == _MERGE_TAG:
            for extra_key, extra_value in _merge_sources(value_node, file):
                merged.setdefault(extra_key, extra_value)
            continue
        key = _scalar_value(key_node, file)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise SpecError.at(
                Location(file, key_node.line, key_node.column), f"mapping key {_short(key)} must be a name"
            )
        if key in result:
            raise SpecError.at(
                Location(file, key_node.line, key_node.column),
                f"duplicate key {_short(key)}",
                "each key may appear once in a mapping; remove or rename one of them",
            )
        result[key] = _to_python(value_node, file)
    for key, value in merged.items():
        result.setdefault(key, value)
    return result


def _merge_sources(node: _Node, file: str) -> list[tuple[Any, Any]]:
    """The entries a `<<:` merge key brings in (a mapping, or a list of mappings, earlier ones winning)."""
    sources = node.children if node.kind == "seq" else [node]
    pairs: list[tuple[Any, Any]] = []
    for item in sources:
        if item.kind != "map":
            raise SpecError.at(
                Location(file, item.line, item.column), "`<<:` must merge a mapping or a list of mappings"
            )
        value = _to_python(item, file)
        pairs.extend(value.items())
    return pairs
