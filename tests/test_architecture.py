"""The package's layers: data flows one way, and no module imports from a layer above its own.

base            errors, limits, the tensor picture, arithmetic, receptive fields, window geometry
language, kinds the spec language (YAML, document, expressions, zoo); the layer kinds (schema + rule + facts)
engine          structure checks, expansion, layer runner, result
training        a training step by arithmetic on the engine's result (the bridge checks it against PyTorch)
conventions, bridge          consumers of the result (other tools' counts; PyTorch)
render          tables and documents (also of the bridge's and conventions' reports)
importer        PyTorch models -> specs (beside render; it checks its specs with the bridge)
calc, drill     calculators and the interview drill
sweeps          one network's totals across inputs, batches and variables (beside calc)
cli, api        the two ways in, side by side: the command line and the Python API
"""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnncalc"

LAYER = {
    "base": 0,
    "language": 1,
    "kinds": 1,
    "engine": 2,
    "training": 2.5,  # above the engine, below the bridge that checks it
    "conventions": 3,
    "bridge": 3,
    "peers": 3,
    "compare": 3,  # two results side by side (`cnncalc diff`)
    "render": 4,
    "importer": 4,
    "calc": 5,
    "sweeps": 5,
    "drill": 6,
    "cli": 7,
    "api": 7,
    "__main__": 8,
}


def _imports(path: Path) -> set[str]:
    """The cnncalc packages a module imports (at any depth of the file: lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnncalc."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("cnncalc."))
    return found


def _package_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if _package_of(path) in LAYER)


def test_every_module_belongs_to_a_layer() -> None:
    loose = [
        path.name for path in PACKAGE.rglob("*.py") if _package_of(path) not in LAYER and path.name != "__init__.py"
    ]
    assert not loose, f"modules in no layer: {loose}"


@pytest.mark.parametrize("path", MODULES, ids=[str(path.relative_to(PACKAGE)) for path in MODULES])
def test_no_import_from_a_higher_layer(path: Path) -> None:
    own = _package_of(path)
    upward = sorted(package for package in _imports(path) if LAYER.get(package, 0) > LAYER[own])
    assert not upward, f"{path.relative_to(PACKAGE)} ({own}) imports from the layers above it: {upward}"


def test_no_import_between_packages_of_one_layer() -> None:
    """language and kinds, conventions and bridge: side by side, neither built on the other."""
    crossing = []
    for path in MODULES:
        own = _package_of(path)
        crossing += [
            f"{path.relative_to(PACKAGE)} -> {package}"
            for package in _imports(path)
            if package != own and package in LAYER and LAYER[package] == LAYER[own]
        ]
    assert not crossing, crossing


def test_the_engine_imports_no_torch_and_leaves_the_collector_alone() -> None:
    script = (
        "import gc, sys\n"
        "import cnncalc.engine as engine\n"
        "from cnncalc.language.zoo import resolve_spec\n"
        "gc.enable()\n"
        "thresholds = gc.get_threshold()\n"
        "engine.analyze_file(resolve_spec('resnet50'))\n"
        "assert gc.isenabled() and gc.get_threshold() == thresholds\n"
        "assert 'torch' not in sys.modules\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def test_the_engine_does_not_switch_the_collector_off_in_process() -> None:
    from cnncalc.engine import analyze_text

    gc.enable()
    analyze_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: relu}\n")
    assert gc.isenabled()
