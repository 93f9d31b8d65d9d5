"""cnncalc: shapes, parameters, MACs/FLOPs, memory and receptive fields of convolutional networks.

    import cnncalc
    result = cnncalc.analyze("resnet50")        # a bundled spec, a path, YAML text or a torch.nn.Module
    result.totals.params                        # 25557032
    cnncalc.summary(model, (1, 3, 224, 224))    # as torchinfo.summary: prints the table, returns the result

The names below load what they need when first used: `import cnncalc` alone imports neither the engine nor
rich nor torch, so the command line and programs that use one function start fast.
"""

__version__ = "0.1.0"

# Each public name and the module that defines it.
_PUBLIC = {
    "analyze": "cnncalc.api.functions",
    "summary": "cnncalc.api.functions",
    "to_spec": "cnncalc.api.functions",
    "fit": "cnncalc.api.fit",
    "diff": "cnncalc.api.diff",
    "sweep": "cnncalc.api.sweep",
    "Diff": "cnncalc.api.diff",
    "FitResult": "cnncalc.training.fit",
    "Analysis": "cnncalc.api.analysis",
    "Layer": "cnncalc.api.analysis",
    "Totals": "cnncalc.api.analysis",
    "FieldAxis": "cnncalc.api.analysis",
    "CnncalcError": "cnncalc.base.errors",
    "SpecError": "cnncalc.base.errors",
    "SpecPathError": "cnncalc.base.errors",
    "SpecIssue": "cnncalc.base.errors",
    "UsageError": "cnncalc.base.errors",
    "ModelImportError": "cnncalc.base.errors",
}

__all__ = [  # the names of _PUBLIC, written out for tools that read them without running this file
    "Analysis",
    "CnncalcError",
    "Diff",
    "FieldAxis",
    "FitResult",
    "Layer",
    "ModelImportError",
    "SpecError",
    "SpecIssue",
    "SpecPathError",
    "Totals",
    "UsageError",
    "__version__",
    "analyze",
    "diff",
    "fit",
    "summary",
    "sweep",
    "to_spec",
]

# Nothing is imported here, not even `typing` or `importlib` (the command line imports this package before
# anything else; see cnncalc/cli/startup.py). typing.TYPE_CHECKING, without importing typing:
TYPE_CHECKING = False
if TYPE_CHECKING:
    from cnncalc.api.analysis import Analysis, FieldAxis, Layer, Totals
    from cnncalc.api.diff import Diff, diff
    from cnncalc.api.fit import fit
    from cnncalc.api.functions import analyze, summary, to_spec
    from cnncalc.api.sweep import sweep
    from cnncalc.base.errors import CnncalcError, ModelImportError, SpecError, SpecIssue, SpecPathError, UsageError
    from cnncalc.training.fit import FitResult


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
