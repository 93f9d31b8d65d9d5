"""`cnncalc.analyze`, `cnncalc.summary` and `cnncalc.to_spec`: check the arguments, read the source, run the
engine, and return the result as data that draws itself."""

from __future__ import annotations

import operator
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.api.analysis import Analysis, build_analysis
from cnncalc.api.modules import imported_spec, is_module, module_label, spatial_rank
from cnncalc.api.shapes import agreed_batch, read_input
from cnncalc.api.sources import is_spec_source, load_source
from cnncalc.base import limits
from cnncalc.base.errors import UsageError
from cnncalc.engine.analysis import InputOverrides, analyze_loaded
from cnncalc.language.yaml_source import LoadedDocument, load_yaml
from cnncalc.render.view import display_rows

if TYPE_CHECKING:
    import torch

    from cnncalc.training import TrainingOptions

# torchinfo's `col_names`, and the columns of `analyze --columns` they are.
TORCHINFO_COLUMNS = {
    "input_size": "input",
    "output_size": "output",
    "num_params": "params",
    "params_percent": "params_pct",
    "kernel_size": "kernel",
    "mult_adds": "macs",
    "trainable": "trainable",
}


def analyze(
    source: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module,
    input: str | Sequence[int] | None = None,  # the name people expect (torchinfo's is input_size)
    batch: int | None = None,
    dtype: str | torch.dtype | None = None,
    convention: str | None = None,
    *,
    depth: int | None = None,
    columns: str | Iterable[str] | None = None,
    mode: str = "infer",
    optimizer: str = "adamw",
    freeze: str | Iterable[str] | None = None,
    checkpoint: str | Iterable[str] | None = None,
    precision: str = "fp32",
    device: str = "cpu",
    vars: Mapping[str, Any] | None = None,  # the spec's own word, as in diff
) -> Analysis:
    """Analyze a network: shapes, parameters, MACs/FLOPs, memory and receptive fields of every layer, as
    `cnncalc analyze` on the command line. Pure arithmetic (no tensor is allocated) unless `source` is a module.

    `source` is one of:

    - a path to a YAML spec (`str` or `pathlib.Path`): `"specs/resnet50.yaml"`;
    - the name of a bundled spec: `"resnet50"` (see `cnncalc zoo`);
    - YAML text: a string with a line break, or a one-line mapping (`"{input: ..., layers: [...]}"`);
    - a spec as Python data (a mapping, what a YAML spec reads as);
    - a `torch.nn.Module`, imported into a spec on the fly (traced once at `input`, which it then needs).

    A string is read in that order: a line break makes it YAML text; then a path that exists; then a bundled
    name (without a `/`); then a one-line YAML mapping (a `{` or `key:` first). A string that is none of these
    is a `UsageError` naming the closest bundled spec.

    Arguments:

    - `input`: the input shape, in place of the spec's `input.shape`: one sample, channels then sizes
      (`"3x224x224"`, `(3, 224, 224)`), or a batch first (`(8, 3, 224, 224)`). The network's rank decides
      which: a spec's `input.shape` or a module's first convolution or pooling layer; with R spatial axes,
      R + 1 entries are one sample and R + 2 start with the batch. Any other length is a `UsageError`.
    - `batch`: the batch size (default: the spec's, 1 for a module); if `input` has a batch axis too, they must
      agree.
    - `dtype`: element type for memory figures: `"float32"`, `"float16"`/`"half"`/`"fp16"`, `"bfloat16"`/
      `"bf16"`, `"float64"`, `"int8"`, `"uint8"`, or a `torch.dtype` of one of them.
    - `convention`: also give the headline another tool prints (`"torchinfo"`, `"fvcore"`, `"ptflops"`,
      `"thop"`, `"torch"`, `"torchvision"`, `"deepspeed"`, `"calflops"`, `"cnncalc"`), as `--convention`:
      `totals.convention`, `totals.headline`, `totals.headline_unit`, `totals.headline_label`.
    - `depth`: collapse blocks nested deeper than `depth` into one row each, with summed figures (`depth=1`:
      one row per stage of a ResNet), as `--depth`. Default: every layer.
    - `columns`: the columns of the table and their order, as `--columns` (`"name,input,output,params,macs"`
      or a list of names); torchinfo's `col_names` work too (`"output_size"`, `"num_params"`, `"mult_adds"`,
      ...). The layer name comes first unless `"name"` is placed elsewhere in the list. Default:
      name, type, output, params, macs, flops, rf.
    - `mode`: `"train"` adds a training step, as `--mode train`: every layer's `backward_flops` and
      `saved_activation_bytes`, and `training` (a `TrainingTotals`) with the step's totals. Default `"infer"`.
    - `optimizer`: with `mode="train"`, `"sgd"`, `"momentum"`, `"adam"` or `"adamw"` (default), as
      `--optimizer`; `freeze`: block paths frozen besides the spec's `frozen: true`, as `--freeze`;
      `checkpoint`: block paths checkpointed besides the spec's `checkpoint: true`, as `--checkpoint`;
      `precision`: `"fp32"` (default), `"bf16-mixed"` or `"fp16-mixed"` (autocast), as `--precision`;
      `device`: whose kernels the rules follow, `"cpu"` (default, checked against PyTorch) or `"cuda"`, as
      `--device`.
    - `vars`: top-level spec variables (`vars:`) set to other values, as `--set`: `vars={"base": 32}`.

    Returns an `Analysis`: `.totals`, `.layers`, `.receptive_field`, `.to_dict()` (the JSON of
    `cnncalc analyze --format json` with the same options), and it shows itself as a table (`print`,
    `rich.print`, notebooks).

    Raises `SpecError` for an invalid spec (every problem located at file:line:column, as the command line
    reports them; an `input` the network cannot take is located at `input`), `SpecPathError` for a spec file
    that cannot be read, `UsageError` for an argument that cannot be used, `ModelImportError` for a module
    the importer cannot import, and `TypeError` for a `source` of another type. All but `TypeError` are
    `CnncalcError`s.
    """
    training = _training_options(mode, optimizer, freeze, checkpoint, precision, device)
    return _analysis(source, input, batch, dtype, convention, depth, columns, "input", training, vars)


def summary(
    model: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module,
    input_size: str | Sequence[int] | None = None,
    *,
    depth: int | None = 3,
    columns: str | Iterable[str] | None = None,
    batch: int | None = None,
    dtype: str | torch.dtype | None = None,
    convention: str | None = None,
    verbose: int | None = None,
    mode: str = "infer",
    optimizer: str = "adamw",
    freeze: str | Iterable[str] | None = None,
    checkpoint: str | Iterable[str] | None = None,
    precision: str = "fp32",
    device: str = "cpu",
) -> Analysis:
    """A torchinfo-style summary: `cnncalc.summary(model, (1, 3, 224, 224))` prints the per-layer table and
    the totals and returns them, as `torchinfo.summary(model, input_size=(1, 3, 224, 224))` does.

    - `model`: a `torch.nn.Module` (imported into a spec on the fly; it needs `input_size`), or any spec source
      `analyze` takes (a path, a bundled name, YAML text, a mapping).
    - `input_size`: the input shape, as torchinfo's, batch first: `(1, 3, 224, 224)`; one sample
      (`(3, 224, 224)`, `"3x224x224"`) works too: the network's rank decides, as in `analyze`. Default: the
      spec's input (a module needs one).
    - `depth`: as torchinfo's: rows for module paths at most `depth` deep (`layer1.0.conv1` is 3 deep); deeper
      layers are summed into the row of their ancestor at that depth. Default 3, as torchinfo; None shows
      every layer.
    - `columns`: as torchinfo's `col_names` (`"input_size"`, `"output_size"`, `"num_params"`,
      `"params_percent"`, `"kernel_size"`, `"mult_adds"`, `"trainable"`) or cnncalc's column names (`"macs"`,
      `"flops"`, `"rf"`, ...; see `analyze`). The layer name comes first, as torchinfo's layer column.
    - `batch`, `dtype`, `convention`, `mode`, `optimizer`, `freeze`, `checkpoint`, `precision`, `device`: as
      in `analyze`.
    - `verbose`: 1 prints the table to standard output (as `cnncalc analyze` does: with colour and box
      drawing on a terminal, plain text elsewhere), 0 prints nothing. Default, as torchinfo: 0 in an
      interactive session (a REPL, IPython, Jupyter: the returned result shows itself there), else 1.

    Returns the `Analysis` (see `analyze`); raises what `analyze` raises.
    """
    training = _training_options(mode, optimizer, freeze, checkpoint, precision, device)
    result = _analysis(model, input_size, batch, dtype, convention, depth, columns, "input_size", training)
    if _verbosity(verbose):
        sys.stdout.write(result._text(*_terminal()))
        sys.stdout.flush()
    return result


def to_spec(
    model: torch.nn.Module,
    input_size: str | Sequence[int],
    *,
    batch: int | None = None,
    name: str | None = None,
) -> str:
    """The YAML spec of a PyTorch module, as cnncalc's importer writes it: `cnncalc analyze` (or
    `cnncalc.analyze`) reads it back to the same figures, and it can be edited, validated and versioned.

    - `model`: a `torch.nn.Module`, traced once at `input_size` (with the batch of `batch`).
    - `input_size`: batch first, `(1, 3, 224, 224)`, or one sample, `(3, 224, 224)` / `"3x224x224"`; the
      module's rank decides, as in `analyze`.
    - `batch`: the batch size written into the spec (default: the batch axis of `input_size`, else 1).
    - `name`: the spec's `name:` (default: the importer's, from the module's class).

    Raises `ModelImportError` when the module cannot be imported, `UsageError` for a shape or batch that
    cannot be used, `TypeError` when `model` is not a module.
    """
    if not is_module(model):
        raise TypeError(f"to_spec needs a torch.nn.Module, not {type(model).__name__}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}")
    shape = read_input(input_size, spatial_rank(model), "input_size", type(model).__name__)
    batch = agreed_batch(_batch(batch), shape.batch, "input_size") or 1
    return imported_spec(model, shape.sample, batch, name)


NAMES = ("batch", "dtype")  # how errors name the arguments after `input`


def _analysis(
    source: str | os.PathLike[str] | Mapping[str, Any] | torch.nn.Module,
    input: str | Sequence[int] | None,
    batch: int | None,
    dtype: str | torch.dtype | None,
    convention: str | None,
    depth: int | None,
    columns: str | Iterable[str] | None,
    argument: str,
    training_options: TrainingOptions | None = None,
    variables: Mapping[str, Any] | None = None,
    variables_argument: str = "vars",
) -> Analysis:
    batch = _batch(batch)
    dtype_name = _dtype(dtype)
    depth = _depth(depth)
    chosen = _columns(columns)
    if convention is not None:
        _check_convention(convention)
    sample: tuple[int, ...] | None = None
    if is_module(source):
        if input is None:
            raise UsageError(
                f"a module needs {argument}=: the shape to trace it at", f"e.g. {argument}=(1, 3, 224, 224)"
            )
        shape = read_input(input, spatial_rank(source), argument, type(source).__name__)
        sample, batch = shape.sample, agreed_batch(batch, shape.batch, argument) or 1
        loaded = load_yaml(imported_spec(source, sample, batch, None), module_label(source))
    elif is_spec_source(source):
        loaded = load_source(source)
        if input is not None:
            shape = read_input(input, _spec_rank(loaded), argument, _spec_name(loaded))
            sample, batch = shape.sample, agreed_batch(batch, shape.batch, argument)
    else:
        raise TypeError(
            "source must be a spec path (str or pathlib.Path), a bundled spec's name, YAML text, a mapping or a "
            f"torch.nn.Module, not {type(source).__name__}"
        )
    if variables:
        loaded = _with_variables(loaded, variables, variables_argument)
    result = analyze_loaded(loaded, InputOverrides(sample, batch, dtype_name, (argument, *NAMES)))
    headline = None
    if convention is not None:
        from cnncalc.conventions import count_as

        headline = count_as(result, convention)
    training = None
    if training_options is not None:
        from cnncalc.training import TrainingRefused, analyze_training, training_problem

        problem = training_problem(result, training_options.freeze, training_options.checkpoint)
        if problem is not None:
            raise UsageError(*problem)
        try:
            training = analyze_training(result, training_options)
        except TrainingRefused as refused:
            raise UsageError(refused.message, refused.hint) from None
    rows = display_rows(result, depth, training.layers if training else None)
    return build_analysis(result, rows, headline, chosen, training)


def _with_variables(loaded: LoadedDocument, variables: Mapping[str, Any], argument: str) -> LoadedDocument:
    """The spec with top-level `vars` set (`argument=` of the call, for messages), each one it declares."""
    from cnncalc.language.variables import VariableSettingError, check_variable, with_variables

    if not isinstance(variables, Mapping):
        raise TypeError(f"{argument} must be a mapping of variable names to values, not {type(variables).__name__}")
    for name in variables:
        try:
            check_variable(str(name), loaded.data, argument)
        except VariableSettingError as error:
            raise UsageError(error.message, error.hint) from None
    return with_variables(loaded, variables.items())


def _training_options(
    mode: object,
    optimizer: object,
    freeze: object,
    checkpoint: object = None,
    precision: object = "fp32",
    device: object = "cpu",
) -> TrainingOptions | None:
    """The options of a training step (None for `mode="infer"`), checked."""
    from cnncalc.training.choices import training_options

    return training_options(mode, optimizer, freeze, checkpoint, precision, device)


def _spec_rank(loaded: LoadedDocument) -> int | None:
    """The number of spatial axes of the spec's input, as written (None if it is not written as a list)."""
    data = loaded.data
    section = data.get("input") if isinstance(data, dict) else None
    shape = section.get("shape") if isinstance(section, dict) else None
    return len(shape) - 1 if isinstance(shape, list) and shape else None


def _spec_name(loaded: LoadedDocument) -> str:
    data = loaded.data
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else Path(loaded.source.file).stem


def _integer(value: object, argument: str) -> int:
    """An int, a numpy integer or a 0-d integer tensor as an int; never a bool, a float or a string."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise UsageError(f"{argument} must be an integer, not {value!r}") from None


def _batch(batch: object) -> int | None:
    if batch is None:
        return None
    batch = _integer(batch, "batch")
    if not 1 <= batch <= limits.MAX_DIMENSION:
        raise UsageError(f"batch={batch:,} is out of range (1 to {limits.MAX_DIMENSION:,})")
    return batch


def _dtype(dtype: object) -> str | None:
    from cnncalc.language.document import DTYPE_NAMES

    if dtype is None:
        return None
    if isinstance(dtype, str):
        name = dtype.lower()
    elif type(dtype).__module__ == "torch" and str(dtype).startswith("torch."):  # a torch.dtype: torch.float16
        name = str(dtype).removeprefix("torch.")
    else:
        name = ""
    if name not in DTYPE_NAMES:
        raise UsageError(f"unknown dtype {dtype!r}", f"one of: {', '.join(DTYPE_NAMES)} (or a torch.dtype of one)")
    return name


def _depth(depth: object) -> int | None:
    if depth is None:
        return None
    depth = _integer(depth, "depth")
    if depth < 1:
        raise UsageError(f"depth={depth} shows no layer", "give 1 or more (1: the top-level layers), or None: all")
    return depth


def _columns(columns: object) -> tuple[str, ...] | None:
    from cnncalc.language.pydantic_errors import did_you_mean
    from cnncalc.render.layer_columns import LAYER_COLUMNS

    if columns is None:
        return None
    if isinstance(columns, str):
        names: list[object] = list(columns.split(","))
    elif isinstance(columns, Iterable):
        names = list(columns)
    else:
        raise UsageError(f"columns must be a string or a list of column names, not {columns!r}")
    keys: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise UsageError(f"columns: {name!r} is not a column name")
        key = name.strip().lower()
        if not key:
            continue
        key = TORCHINFO_COLUMNS.get(key, key)
        if key not in LAYER_COLUMNS:
            known = [*LAYER_COLUMNS, *TORCHINFO_COLUMNS]
            raise UsageError(f"columns: unknown column {name!r}", did_you_mean(key, known) or ", ".join(known))
        keys.append(key)
    if not keys:
        raise UsageError("columns needs at least one column", f"one of: {', '.join(LAYER_COLUMNS)}")
    if "name" not in keys:
        keys.insert(0, "name")
    return tuple(dict.fromkeys(keys))


def _check_convention(convention: object) -> None:
    from cnncalc.conventions import convention_names
    from cnncalc.language.pydantic_errors import did_you_mean

    names = convention_names()
    if not isinstance(convention, str) or convention not in names:
        hint = (did_you_mean(convention, names) if isinstance(convention, str) else "") or "one of: " + ", ".join(names)
        raise UsageError(f"unknown convention {convention!r}", hint)


def _verbosity(verbose: object) -> bool:
    if verbose is None:
        return not hasattr(sys, "ps1")  # as torchinfo: quiet where the result shows itself (REPL, notebooks)
    if verbose not in (0, 1) or not isinstance(verbose, int):
        raise UsageError(f"verbose must be 0 (print nothing) or 1 (print the table), not {verbose!r}")
    return bool(verbose)


def _terminal() -> tuple[int | None, bool]:
    """The width and look `cnncalc analyze` would use on standard output now."""
    from cnncalc.render.style import output_style

    style = output_style()
    return style.width, style.rich
