"""Hostile and broken input: every case ends quickly, with exit 1 (2 for usage errors), a located message that
says what is wrong, and never a Python traceback, a hang or an exhausted memory.

Each case is run through the real command line in a subprocess (`python -m cnncalc analyze FILE`), where a
traceback, a hang (timeout) or a crash is visible as it would be to a user; `validate` is run on every case
in-process (CliRunner), and once more in a single subprocess over all the files together (text and JSON).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from clirunner import HEAD, Run, invoke
from clirunner import run_cli as run_process_cli

from cnncalc.base import limits
from cnncalc.base.errors import SpecPathError

TIMEOUT_S = 10  # a case that has not ended by then hangs
BUDGET_S = 5.0  # wall time a refusal may take, interpreter start-up included (generous for shared machines)


def run_cli(*args: str, timeout: float = TIMEOUT_S, **options) -> Run:
    """The command line in a fresh interpreter, as a user runs it; a hang is a timeout."""
    return run_process_cli(*args, timeout=timeout, **options)


def assert_clean_failure(run: Run, code: int = 1, budget: float = BUDGET_S) -> None:
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "Traceback" not in run.stdout, run.stdout[-3000:]
    assert run.code == code, f"exit {run.code}, expected {code}\n{run.stderr[-3000:]}"
    assert run.seconds < budget, f"took {run.seconds:.1f} s (budget {budget} s)"


# ------------------------------------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    """A hostile spec: its content (bytes, or a function that creates the file), what the error must say
    (a regex: parser wording differs between libyaml and pure-Python PyYAML), where it must point (line and
    column; both None: the file as a whole) and how many errors the spec has."""

    id: str
    content: bytes | Callable[[Path], None]
    message: str
    line: int | None
    column: int | None = None
    budget: float = BUDGET_S
    spawn: bool = True  # analyze in a real process (else in-process; the one-process validate run has all)
    errors: int = 1
    warnings: int = 0

    @property
    def summary(self) -> str:
        """What `validate` says of the file."""
        errors = f"{self.errors} error{'s' if self.errors > 1 else ''}"
        return errors + (f", {self.warnings} warning" if self.warnings else "")

    def __post_init__(self) -> None:
        assert (self.line is None) == (self.column is None), f"{self.id}: a line needs its column"

    def create(self, directory: Path) -> Path:
        path = directory / f"{self.id}.yaml"
        if callable(self.content):
            self.content(path)
        else:
            path.write_bytes(self.content)
        return path

    def location_pattern(self, path: Path) -> str:
        if self.line is None:
            return re.escape(f"{path}: error: ")
        return re.escape(f"{path}:{self.line}:{self.column}: error: ")


def _billion_laughs() -> bytes:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{aliases}]")
    return ("\n".join(lines) + "\n").encode()


def _blocks_chain(depth: int) -> bytes:
    """Block b0 uses b1, which uses b2, ... down to b{depth-1}: line 5 + 3 i holds b{i}'s use of b{i+1}."""
    text = "input: {shape: [3, 32, 32]}\nblocks:\n"
    for index in range(depth):
        inner = "{type: relu}" if index == depth - 1 else f"{{block: b{index + 1}}}"
        text += f"  b{index}:\n    layers:\n      - {inner}\n"
    return (text + "layers:\n  - {block: b0}\n").encode()


def _sparse_file(size: int) -> Callable[[Path], None]:
    def create(path: Path) -> None:
        with path.open("wb") as handle:  # sparse: no disk space is used
            handle.truncate(size)

    return create


def _binary_garbage() -> bytes:
    # NUL (valid UTF-8, refused by YAML) then 0xff, which is never valid UTF-8: the first problem is byte 2.
    return b"\x00\xff" + random.Random(1234).randbytes(4096)


EXPRESSION_100KB = "1+" * 50_000 + "1"

IN = False  # `spawn=IN`: analyze in-process (the one-process validate run still covers the file)

CASES = [
    # --- malformed YAML
    Case("bad_indentation", b"input:\n  shape: [3, 32, 32]\n   batch: 1\nlayers:\n  - {type: relu}\n",
         r"invalid YAML: .*block mapping", 3, 4),
    Case("unclosed_bracket", b"input:\n  shape: [3, 32, 32\nlayers:\n  - {type: relu}\n",
         r"invalid YAML: did not find expected ',' or '\]'.*starts at line 2, column 10", 3, 7),
    Case("unclosed_quote", b'name: "abc\ninput: {shape: [3, 32, 32]}\n',
         r"invalid YAML: .*quoted scalar that starts at line 1, column 7", 3, 1, spawn=IN),
    Case("tab_indentation", b"input:\n\tshape: [3, 32, 32]\nlayers:\n  - {type: relu}\n",
         r"invalid YAML: found character .*cannot start any token(.*\n)*.*replace tabs with spaces", 2, 1, spawn=IN),
    Case("tab_in_layer", HEAD.encode() + b"  - type: relu\n\t  inplace: true\n",
         r"invalid YAML: (.*\n)*.*replace tabs with spaces", 4, 1, spawn=IN),
    Case("undefined_alias", HEAD.encode() + b"  - *conv\n", r"alias \*conv refers to an anchor that is not defined",
         3, 5, spawn=IN),
    # --- nothing, or not text
    Case("empty", b"", r"the spec is empty", 1, 1),
    Case("whitespace_only", b"   \n\n\t\n  \n", r"the spec is empty", 1, 1),
    Case("comments_only", b"# input: {shape: [3, 32, 32]}\n", r"the spec is empty", 1, 1, spawn=IN),
    Case("binary_garbage", _binary_garbage(), r"not UTF-8 text \(byte 0xff", 1, 2),
    Case("latin1_text", "name: café\ninput: {shape: [3, 32, 32]}\n".encode("latin-1"),
         r"not UTF-8 text \(byte 0xe9", 1, 10),
    Case("latin1_after_utf8", "name: ééé\ndescription: naïve\n".encode() + b"x: caf\xe9\n",
         r"not UTF-8 text \(byte 0xe9", 3, 7, spawn=IN),
    Case("nul_in_utf8_text", HEAD.encode() + b"  - {type: relu, name: a\x00b}\n",
         r"character U\+0000 is not allowed", 3, 25),
    Case("escape_character", b"name: a\x1bb\n" + HEAD.encode(), r"character U\+001B is not allowed", 1, 8, spawn=IN),
    # --- YAML features that attack the loader
    # 74,740 values up to lol5's list, then each *lol4 adds 66,430: the 7th passes 500,000, at column 14 + 6 * 7
    Case("alias_bomb", _billion_laughs(), r"expands to more than 500,000 values.*\n(.*\n)*.*alias bomb", 6, 56),
    Case("python_object_apply", b'input: !!python/object/apply:os.system ["echo pwned"]\nlayers: []\n',
         r"YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed", 1, 8),
    Case("python_name", HEAD.encode() + b"  - !!python/name:os.system\n",
         r"YAML tag .*python/name:os.system.* not allowed", 3, 5),
    Case("custom_tag", HEAD.encode() + b"  - !conv {out: 8}\n", r"YAML tag '!conv' is not allowed", 3, 5, spawn=IN),
    Case("bad_bool_tag", b"input: {shape: [3, !!bool maybe, 32]}\nlayers:\n  - {type: relu}\n",
         r"cannot read 'maybe' as bool", 1, 20, spawn=IN),
    Case("two_documents", (HEAD + "  - {type: relu}\n---\n" + HEAD + "  - {type: relu}\n").encode(),
         r"more than one YAML document", 4, 1),
    Case("duplicate_key", b"input: {shape: [3, 32, 32]}\ninput: {shape: [3, 64, 64]}\nlayers:\n  - {type: relu}\n",
         r"duplicate key 'input'", 2, 1),
    Case("duplicate_layer_key", HEAD.encode() + b"  - {type: conv2d, out: 8, kernel: 3, out: 16}\n",
         r"duplicate key 'out'", 3, 39, spawn=IN),
    Case("top_level_list", b"- {type: conv2d, out: 8, kernel: 3}\n- {type: relu}\n",
         r"a spec must be a mapping with `input:` and `layers:`, not a list", 1, 1),
    Case("top_level_scalar", b"resnet50\n", r"a spec must be a mapping .*, not a str", 1, 1, spawn=IN),
    Case("numeric_key", b"1: one\ninput: {shape: [3, 32, 32]}\nlayers:\n  - {type: relu}\n",
         r"a key must be a name", 1, 1, spawn=IN),
    # --- sizes: nesting, counts, numbers, expressions, bytes
    Case("deep_yaml_list", ("x: " + "[" * 10_000 + "]" * 10_000 + "\n").encode(),
         rf"nested more than {limits.MAX_YAML_DEPTH} levels deep", 1, 3 + limits.MAX_YAML_DEPTH),
    Case("deep_yaml_mapping", ("{a: " * 10_000 + "1" + "}" * 10_000 + "\n").encode(),
         rf"nested more than {limits.MAX_YAML_DEPTH} levels deep", 1, 4 * limits.MAX_YAML_DEPTH + 1),
    # the mapping, `x` and the list are 3 values: the item at index 500,000 - 3 is the one too many, at column
    # 5 + 2 * its index
    Case("many_values", ("x: [" + "1," * 1_100_000 + "1]\n").encode(),
         r"holds more than 500,000 values", 1, 5 + 2 * (limits.MAX_YAML_NODES - 3), budget=10.0),
    Case("repeat_billion", HEAD.encode() + b"  - {type: relu, repeat: 1000000000}\n",
         r"repeat must be a whole number from 1 to 10,000, got 1000000000", 3, 26),
    Case("repeat_expression_billion", b"vars: {n: 10**9}\n" + HEAD.encode() + b"  - {type: relu, repeat: n}\n",
         r"repeat must be a whole number from 1 to 10,000", 4, 26, spawn=IN),
    Case("nested_repeats", HEAD.encode() + b"  - layers:\n      - {type: relu, repeat: 10000}\n    repeat: 10000\n",
         rf"expands to more than {limits.MAX_NODES:,} layers", 3, 5),
    Case("block_uses_itself",
         b"input: {shape: [3, 32, 32]}\nblocks:\n  b:\n    layers:\n      - {block: b}\nlayers:\n  - {block: b}\n",
         r"block 'b' uses itself", 5, 9),
    Case("blocks_use_each_other",
         b"input: {shape: [3, 32, 32]}\nblocks:\n  a:\n    layers:\n      - {block: b}\n"
         b"  b:\n    layers:\n      - {block: a}\nlayers:\n  - {block: a}\n",
         r"block 'a' uses itself \(a -> b -> a\)", 8, 9, spawn=IN),
    Case("blocks_100_deep", _blocks_chain(100), rf"blocks are nested more than {limits.MAX_BLOCK_DEPTH} deep",
         5 + 3 * (limits.MAX_BLOCK_DEPTH - 1), 9),
    Case("out_1e30", HEAD.encode() + b"  - {type: conv2d, out: 1000000000000000000000000000000, kernel: 3}\n",
         r"out: must be at most 2147483647", 3, 25),
    Case("input_1e12", b"input: {shape: [3, 1000000000000, 1000000000000]}\nlayers:\n  - {type: relu}\n",
         r"input.shape.1: must be at most 2147483647", 1, 20, errors=2, warnings=1),  # and input.shape.2, column 35
    Case("batch_1e30",
         b"input: {shape: [3, 32, 32], batch: 1000000000000000000000000000000}\nlayers:\n  - {type: relu}\n",
         r"input.batch: must be at most 2147483647", 1, 36, spawn=IN, warnings=1),
    Case("hex_literal_huge", HEAD.encode() + b"  - {type: conv2d, out: 0x" + b"f" * 5000 + b", kernel: 3}\n",
         r"the number '0xfff.*\(5,004 characters\) is too large for any real network", 3, 25),
    Case("hex_repeat_huge", HEAD.encode() + b"  - {type: relu, repeat: 0x" + b"f" * 5000 + b"}\n",
         r"too large for any real network", 3, 26, spawn=IN),
    Case("inf_literal", HEAD.encode() + b"  - {type: upsample, scale: .inf}\n", r"'\.inf' is not a finite number",
         3, 29),
    Case("nan_literal", b"input: {shape: [3, 32, .nan]}\nlayers:\n  - {type: relu}\n",
         r"'\.nan' is not a finite number", 1, 24, spawn=IN),
    Case("float_overflow", HEAD.encode() + b"  - {type: conv2d, out: 1e400, kernel: 3}\n", r"not a finite number",
         3, 25, spawn=IN),
    Case("power_tower", HEAD.encode() + b'  - {type: conv2d, out: "9**9**9**9", kernel: 3}\n',
         r"power is too large", 3, 25),
    Case("expression_100kb", (HEAD + f'  - {{type: conv2d, out: "{EXPRESSION_100KB}", kernel: 3}}\n').encode(),
         rf"expression is longer than {limits.MAX_EXPRESSION_CHARS} characters", 3, 25),
    Case("round_huge_digits", HEAD.encode() + b'  - {type: conv2d, out: "round(5, -4000000000000000000)", kernel: 3}\n',
         r"round\(\): digits must be a whole number", 3, 25),
    Case("complex_number", HEAD.encode() + b'  - {type: conv2d, out: 8, kernel: 3, when: "(-8) ** 0.5 < 1"}\n',
         r"not a real number", 3, 45, spawn=IN),
    Case("bit_shift", HEAD.encode() + b'  - {type: conv2d, out: "1 << 40", kernel: 3}\n',
         r"operator << is not allowed", 3, 25, spawn=IN),
    Case("attribute_access", HEAD.encode() + b'  - {type: conv2d, out: "().__class__", kernel: 3}\n',
         r"cannot evaluate '\(\).__class__': attribute is not allowed in expressions", 3, 25, spawn=IN),
    Case("file_300mb", _sparse_file(300 * 1024 * 1024), r"file is larger than 8 MiB", None),
]
CASE_IDS = [case.id for case in CASES]
HEAVY = {"many_values", "nested_repeats"}  # refused by a limit only after real work: no in-process re-run
VALIDATE_ALL = "validate --format json (all files)"


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("hostile")
    return {case.id: case.create(directory) for case in CASES}


@pytest.fixture(scope="module")
def process_runs(hostile_files: dict[str, Path]) -> dict[str, Run | BaseException]:
    """Real processes, two at a time to save wall time: `analyze FILE` per case, and one `validate` of all files.
    A run that times out (a hang) or fails to start is kept as its exception and fails its own test."""
    jobs: dict[str, tuple[list[str], float]] = {
        case.id: (["analyze", str(hostile_files[case.id])], case.budget + TIMEOUT_S) for case in CASES if case.spawn
    }
    paths = [str(hostile_files[case.id]) for case in CASES]
    jobs[VALIDATE_ALL] = (["validate", "--format", "json", *paths], 60)
    runs: dict[str, Run | BaseException] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(run_cli, *args, timeout=timeout) for key, (args, timeout) in jobs.items()}
        for key, future in futures.items():
            try:
                runs[key] = future.result()
            except (subprocess.TimeoutExpired, OSError) as error:
                runs[key] = error
    return runs


def process_run(runs: dict[str, Run | BaseException], key: str) -> Run:
    run = runs[key]
    if isinstance(run, BaseException):
        raise AssertionError(f"{key}: {run!r}")
    return run


def check_report(case: Case, path: Path, stderr: str) -> None:
    """The report names the file, line and column and says what is wrong."""
    location = case.location_pattern(path)
    assert re.search(location, stderr), f"no {location!r} in:\n{stderr[:3000]}"
    assert re.search(case.message, stderr), f"no {case.message!r} in:\n{stderr[:3000]}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_analyze_refuses_hostile_input(case: Case, hostile_files: dict[str, Path],
                                       process_runs: dict[str, Run | BaseException]) -> None:
    path = hostile_files[case.id]
    run = process_run(process_runs, case.id) if case.spawn else invoke("analyze", str(path))
    assert_clean_failure(run, budget=case.budget)
    check_report(case, path, run.stderr)
    assert run.stdout == ""


@pytest.mark.parametrize("case", [case for case in CASES if case.id not in HEAVY],
                         ids=[case.id for case in CASES if case.id not in HEAVY])
def test_validate_refuses_hostile_input(case: Case, hostile_files: dict[str, Path]) -> None:
    path = hostile_files[case.id]
    run = invoke("validate", str(path))
    assert_clean_failure(run, budget=case.budget)
    check_report(case, path, run.stderr)
    assert run.stdout == f"{path}: {case.summary}\n"


def test_validate_all_hostile_files_in_one_process(hostile_files: dict[str, Path],
                                                    process_runs: dict[str, Run | BaseException]) -> None:
    """One real process over every file: each gets its own located errors and the run ends with exit 1."""
    run = process_run(process_runs, VALIDATE_ALL)
    assert_clean_failure(run, budget=60)
    report = json.loads(run.stdout)
    assert report["valid"] is False
    by_file = {entry["file"]: entry for entry in report["files"]}
    assert set(by_file) == {str(path) for path in hostile_files.values()}
    for case in CASES:
        entry = by_file[str(hostile_files[case.id])]
        assert entry["valid"] is False, case.id
        assert (len(entry["errors"]), len(entry["warnings"])) == (case.errors, case.warnings), (case.id, entry)
        first = entry["errors"][0]
        assert re.search(case.message, "\n".join(e["message"] + "\n" + e["hint"] for e in entry["errors"])), case.id
        assert (first["line"], first["column"]) == (case.line or 0, case.column or 0), (case.id, first)  # 0: none


# ----------------------------------------------------------------------------------------- code must not run
PAYLOADS = [
    "input: !!python/object/apply:os.system [{command}]\nlayers: []\n",
    "input: !!python/object/apply:subprocess.call [[sh, -c, {command}]]\nlayers: []\n",
    "input: !!python/object/new:os.system [{command}]\nlayers: []\n",
    'input: !<tag:yaml.org,2002:python/object/apply:os.system> [{command}]\nlayers: []\n',
    "input: {shape: [3, 32, 32]}\nlayers:\n  - {type: relu, name: !!python/object/apply:os.system [{command}]}\n",
    "a: &x !!python/object/apply:os.system [{command}]\ninput: {shape: [3, 32, 32]}\nlayers: [*x]\n",
    "input: !!python/module:os\nlayers: []\n",
    "input: !!python/object:os.system {}\nlayers: []\n",
]


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    command = json.dumps(f"touch {marker}")
    paths = []
    for index, payload in enumerate(PAYLOADS):
        path = tmp_path / f"payload{index}.yaml"
        path.write_text(payload.replace("{command}", command))
        paths.append(str(path))
    validate = run_cli("validate", *paths, cwd=tmp_path)
    analyze = run_cli("analyze", paths[0], cwd=tmp_path)
    assert not marker.exists(), "a !!python tag ran a command"
    assert_clean_failure(validate)
    assert_clean_failure(analyze)
    for path in paths:
        assert re.search(re.escape(path) + r":\d+:\d+: error: the YAML tag '[^']*python/[^']*' is not allowed",
                         validate.stderr), path
    assert f"{paths[0]}:1:8: error: the YAML tag" in analyze.stderr
    assert "plain YAML values only" in analyze.stderr  # the hint


# ------------------------------------------------------------------------------------ paths that are no spec
def test_directory_as_spec(tmp_path: Path) -> None:
    run = run_cli("analyze", str(tmp_path))
    assert_clean_failure(run, code=2)  # the path is wrong, not the spec: a usage error
    assert f"{tmp_path}: error: is a directory, not a spec file" in run.stderr
    # validate checks every spec under a directory; one with none is a usage error too
    run = run_cli("validate", str(tmp_path))
    assert_clean_failure(run, code=2)
    assert f"{tmp_path}: error: is a directory with no *.yaml or *.yml file under it" in run.stderr


def test_nonexistent_path_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    run = run_cli("analyze", str(missing))
    assert_clean_failure(run, code=2)
    assert f"'{missing}' is neither a file nor a bundled spec" in run.stderr
    run = invoke("validate", str(missing))
    assert_clean_failure(run, code=2)
    assert f"{missing}: error: no such file or bundled spec" in run.stderr


@dataclass(frozen=True)
class PathCase:
    """A SPEC argument that is no readable spec file: `make` creates it in a folder and returns the argument."""

    id: str
    make: Callable[[Path], str]
    message: str  # the whole report line after "ARGUMENT: error: " (or after the shortened argument)
    shown: Callable[[str], str] = str  # how the report names the argument


def _fifo(directory: Path) -> str:
    path = directory / "fifo.yaml"
    os.mkfifo(path)  # no writer ever opens it: open() without O_NONBLOCK would wait forever
    return str(path)


def _dangling_link(directory: Path) -> str:
    link = directory / "dangling.yaml"
    link.symlink_to(directory / "gone.yaml")
    return str(link)


def _link_loop(directory: Path) -> str:
    (directory / "loop_a.yaml").symlink_to(directory / "loop_b.yaml")
    (directory / "loop_b.yaml").symlink_to(directory / "loop_a.yaml")
    return str(directory / "loop_a.yaml")


def _long_name(directory: Path) -> str:
    return str(directory / ("a" * 5_000 + ".yaml"))


def _shortened(argument: str) -> str:
    return f"{argument[:40]}...{argument[-20:]} ({len(argument):,} characters)"


PATH_CASES = [
    PathCase("fifo_without_writer", _fifo, "is a named pipe (FIFO), not a spec file"),
    PathCase("dev_zero", lambda _: "/dev/zero", "is a character device, not a spec file"),
    PathCase("dev_urandom", lambda _: "/dev/urandom", "is a character device, not a spec file"),
    PathCase("dev_null", lambda _: os.devnull, "is a character device, not a spec file"),
    PathCase("directory", str, "is a directory, not a spec file"),
    PathCase("dangling_symlink", _dangling_link, "is a symbolic link to '{dir}/gone.yaml', which does not exist"),
    PathCase("symlink_loop", _link_loop, "symbolic links loop (or nest too deeply) in this path"),
    PathCase("name_too_long", _long_name, "the path is longer than the file system allows", _shortened),
]


@pytest.mark.parametrize("command", ["analyze", "validate"])
@pytest.mark.parametrize("case", PATH_CASES, ids=[case.id for case in PATH_CASES])
def test_path_that_is_no_spec_file_is_a_usage_error(case: PathCase, command: str, tmp_path: Path) -> None:
    """A real process, so that a hang (FIFO, endless device) shows as a timeout: exit 2 at once, one line."""
    argument = case.make(tmp_path)
    run = run_cli(command, argument, timeout=TIMEOUT_S)
    assert_clean_failure(run, code=2, budget=BUDGET_S)
    report = [line for line in run.stderr.splitlines() if line.strip()]
    message = case.message
    if case.id == "directory" and command == "validate":  # validate reads the specs under a directory
        message = "is a directory with no *.yaml or *.yml file under it"
    assert report == [f"{case.shown(argument)}: error: {message.format(dir=tmp_path)}"], run.stderr


def test_permission_denied_is_reported_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user may not read. Tests run as root in CI, and root reads files whatever their permission
    bits, so the refusal is made by open() itself, in-process."""
    path = tmp_path / "secret.yaml"
    path.write_text(HEAD + "  - {type: relu}\n")
    real_open = os.open

    def refusing_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    for command in ("analyze", "validate"):
        run = invoke(command, str(path))
        assert_clean_failure(run, code=2)
        assert run.stderr.strip() == f"{path}: error: cannot read the file: Permission denied"


def test_regular_file_replaced_by_a_fifo_after_the_check_does_not_hang(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The path passes os.stat as a regular file, then is a FIFO when opened: the open does not block and the
    file is refused from its descriptor. Read in a thread, so that a blocking open fails the test, not hangs it."""
    from cnncalc.language.yaml_source import read_spec_text

    fifo = tmp_path / "swapped.yaml"
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(__file__)

    def stat_before_the_swap(file, *args, **kwargs):
        return regular if str(file) == str(fifo) else real_stat(file, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_before_the_swap)
    outcome: list[BaseException | str] = []

    def read() -> None:
        try:
            outcome.append(read_spec_text(fifo))
        except BaseException as error:  # any outcome is recorded and checked below
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=2)
    assert outcome, "reading a FIFO swapped in after the check blocked"
    [error] = outcome
    assert isinstance(error, SpecPathError)
    assert str(error) == f"{fifo}: error: is a named pipe (FIFO), not a spec file"


# ------------------------------------------------------------------------------ found bugs outside spec/ code
def _expanding_blocks(levels: int) -> str:
    """Block b{i} uses b{i+1} twice: 2**(levels-1) relu layers, far beyond limits.MAX_NODES."""
    text = "input: {shape: [3, 8, 8]}\nblocks:\n"
    for index in range(levels):
        body = "      - {type: relu}\n" if index == levels - 1 else f"      - {{block: b{index + 1}}}\n" * 2
        text += f"  b{index}:\n    layers:\n{body}"
    return text + "layers:\n  - {block: b0}\n"


def test_exponential_block_expansion_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "blocks_tree.yaml"
    path.write_text(_expanding_blocks(30))
    run = run_cli("analyze", str(path), timeout=BUDGET_S)
    assert_clean_failure(run)
    assert f"more than {limits.MAX_NODES:,} layers" in run.stderr


def _groups_in_blocks(blocks: int, groups: int) -> str:
    """Each of `blocks` chained blocks wraps its content in `groups` nested inline groups: blocks nest less than
    MAX_BLOCK_DEPTH deep and the YAML less than MAX_YAML_DEPTH levels, but together they nest over 200 levels."""
    text = "input: {shape: [3, 8, 8]}\nblocks:\n"
    for index in range(blocks):
        inner = "{type: relu}" if index == blocks - 1 else f"{{block: b{index + 1}}}"
        text += f"  b{index}:\n    layers:\n"
        indent = 6
        for _ in range(groups):
            text += " " * indent + "- layers:\n"
            indent += 4
        text += " " * indent + f"- {inner}\n"
    return text + "layers:\n  - {block: b0}\n"


def test_groups_nested_in_blocks_do_not_overflow_the_stack(tmp_path: Path) -> None:
    """Refused at the 65th level: each block use and each group is a level of a layer's path, so b0's use (1),
    its 29 groups (2-30), b1's use (31), its groups (32-60), b2's use (61) and b2's 4th group (65), which is on
    line 3 + 31 + 31 + 7 = 72, its `layers:` at column 6 + 4 * 3 + 3 = 21."""
    path = tmp_path / "deep_groups.yaml"
    path.write_text(_groups_in_blocks(8, 29))
    run = run_cli("validate", str(path))
    assert_clean_failure(run)
    assert run.stderr.startswith(
        f"{path}:72:21: error: blocks and groups are nested more than {limits.MAX_NESTING} levels deep here (0.0.0."
    ), run.stderr[:500]
    assert "  hint: flatten the structure; real networks nest a few levels\n" in run.stderr
    assert run.stdout == f"{path}: 1 error\n"


def test_huge_expression_is_not_echoed_in_full(hostile_files: dict[str, Path]) -> None:
    run = invoke("validate", str(hostile_files["expression_100kb"]))
    assert_clean_failure(run)
    assert len(run.stderr) < 2_000, f"{len(run.stderr):,} characters of error message"


def test_markup_in_the_network_name_is_shown_as_text(tmp_path: Path) -> None:
    path = tmp_path / "markup.yaml"
    path.write_text('name: "[/bold] net"\n' + HEAD + "  - {type: relu}\n")
    run = invoke("analyze", str(path))
    assert run.code == 0
    assert "[/bold] net" in run.stdout


def _hundred_thousand_layers() -> str:
    """About 1 KB that expands to 100,000 layers, the documented limit: 10 convolutions with long names in a
    block, used 10,000 times."""
    convs = "\n".join(
        f"      - {{name: convolution_layer_number_{index}, type: conv2d, out: 3, kernel: 3, padding: 1}}"
        for index in range(10)
    )
    return (
        "input: {shape: [3, 8, 8]}\n"
        "blocks:\n  ten:\n    layers:\n" + convs + "\n"
        "layers:\n  - {name: outer_stage, block: ten, repeat: 10000}\n"
    )


def test_a_network_at_the_layer_limit_is_written_as_json_within_512_mib(tmp_path: Path) -> None:
    """The JSON document of 100,000 layers is about 90 MB of text. It is streamed a layer at a time, so the
    command needs what the analysis needs (about 270 MB here) and fits under a 512 MiB address-space cap;
    built whole, the same document ended in a MemoryError traceback under that cap (850 MB resident)."""
    spec = tmp_path / "limit.yaml"
    spec.write_text(_hundred_thousand_layers())
    output = tmp_path / "limit.json"
    with output.open("wb") as handle:
        run = run_cli("analyze", str(spec), "--format", "json", stdout=handle, memory_limit=512 << 20, timeout=120)
    assert run.code == 0, run.stderr[-2000:]
    text = output.read_text()
    assert text.count('"type": "conv2d"') == 100_000
    assert text.rstrip().endswith('"warnings": []\n}') and '"params": 8400000' in text
