"""The top level of a spec file: input, variables, reusable blocks and the layer list.

Layer entries are kept as raw mappings here: their fields may hold expressions that only get values when
a block is instantiated, so each entry is validated against its kind's schema during expansion
(cnncalc.engine.runner).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from cnncalc.base import limits
from cnncalc.base.errors import SpecError, SpecIssue
from cnncalc.language.pydantic_errors import issues_from_validation_error
from cnncalc.language.yaml_source import LoadedDocument

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # names of variables and blocks
# Layer names also take what PyTorch module paths use: `0` (a Sequential's children), `block1-0` (regnet).
LAYER_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]


def _refuse_bool(value: Any) -> Any:
    """Pydantic's lax mode reads true as 1 for an int: `batch: true` would silently mean batch 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_for_number", "should be a whole number, not true or false")
    return value


Dimension = Annotated[int, BeforeValidator(_refuse_bool), Field(ge=1, le=limits.MAX_DIMENSION)]

DTYPE_BYTES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int8": 1,
    "uint8": 1,
}
DTYPE_ALIASES: dict[str, str] = {
    "fp64": "float64",
    "fp32": "float32",
    "fp16": "float16",
    "half": "float16",
    "bf16": "bfloat16",
}
DTYPE_NAMES: tuple[str, ...] = (*DTYPE_BYTES, *DTYPE_ALIASES)
DtypeName = Literal[DTYPE_NAMES]  # type: ignore[valid-type]  # the names above, as a type pydantic checks


def canonical_dtype(name: str) -> str:
    return DTYPE_ALIASES.get(name, name)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class InputSpec(_Strict):
    """The network input: channels then 1 to 3 spatial sizes, e.g. [3, 224, 224]."""

    shape: Annotated[
        list[Dimension],
        Field(
            min_length=2,
            max_length=1 + limits.MAX_SPATIAL_AXES,
            description="Channels, then 1 to 3 spatial sizes, e.g. [3, 224, 224] (no batch).",
        ),
    ]
    batch: Dimension = Field(1, description="The batch size; totals are for the whole batch.")
    dtype: DtypeName = Field("float32", description="The element type, for memory figures.")
    # true: the layers hold at this shape only (an import that had to fix the model's shape arithmetic at the
    # traced size); another shape is refused rather than analyzed with sizes that belong to this one
    fixed: bool = Field(False, description="true: the layers hold at this input shape only; another is refused.")


class BlockDef(_Strict):
    """A reusable, parameterised group of layers."""

    description: str | None = None
    args: dict[Identifier, Any] = Field(
        default_factory=dict, description="Argument names and their defaults (null: the argument must be given)."
    )
    # arguments that may be left out: `none` inside the block then, and a layer field given none is unset
    optional: list[Identifier] = Field(
        default_factory=list,
        description="Arguments that may be left out: `none` inside the block, and a layer field given none is unset.",
    )
    vars: dict[Identifier, Any] = Field(
        default_factory=dict, description="Derived values (numbers or expressions), evaluated after the arguments."
    )
    inputs: Annotated[list[Identifier], Field(min_length=1)] = Field(
        default_factory=lambda: ["input"], description="Names of the block's inputs (a use gives one `from:` each)."
    )
    output: str | None = Field(None, description="The entry whose output is the block's (default: the last).")
    layers: Annotated[list[Any], Field(min_length=1, description="The block's entries.")]


class SpecDocument(_Strict):
    name: str | None = Field(None, description="Shown in `zoo` and in the output (default: the file name).")
    description: str | None = Field(None, description="One line on what the network is.")
    reference: dict[str, Any] = Field(  # free-form: where published figures come from
        default_factory=dict, description="Free-form: where published figures come from ({torchvision: resnet50})."
    )
    input: InputSpec = Field(description="The network input: shape [C, *spatial], batch, dtype.")
    vars: dict[Identifier, Any] = Field(
        default_factory=dict, description="Named numbers or expressions, evaluated in order (width: 64)."
    )
    blocks: dict[Identifier, BlockDef] = Field(
        default_factory=dict, description="Reusable, parameterised groups of layers, used as {block: NAME, ...}."
    )
    layers: Annotated[list[Any], Field(min_length=1, description="The network: a list of entries.")]


def parse_document(loaded: LoadedDocument) -> SpecDocument:
    if not isinstance(loaded.data, dict):
        kind = type(loaded.data).__name__
        raise SpecError.at(
            loaded.source.locate(()),
            f"a spec must be a mapping with `input:` and `layers:`, not a {kind}",
            "start the file with `input:` (see `cnncalc zoo` for examples)",
        )
    try:
        return SpecDocument.model_validate(loaded.data)
    except ValidationError as error:
        issues = issues_from_validation_error(error, (), loaded.source, loaded.data, _document_fields_at)
        raise SpecError(issues) from None


def parse_document_despite_input(loaded: LoadedDocument) -> tuple[SpecDocument, list[SpecIssue]]:
    """The document and the errors of its `input:` section, when that section is all that is wrong.

    An invalid input (`batch: 0`) leaves the layers without shapes, not without meaning: their fields can
    still be checked. The document returned then has a placeholder input, and the caller must not use it.
    Any other error is raised as parse_document raises it.
    """
    try:
        return parse_document(loaded), []
    except SpecError as error:
        data = loaded.data
        if not isinstance(data, dict) or not isinstance(data.get("input"), dict):
            raise
        try:
            document = SpecDocument.model_validate({**data, "input": {"shape": [1, 1]}})
        except ValidationError:
            raise error from None
        return document, list(error.issues)


def _document_fields_at(path: tuple[str | int, ...]) -> list[str]:
    """Field names valid at `path` of the document, for "did you mean" hints."""
    if path == ():
        return list(SpecDocument.model_fields)
    if path == ("input",):
        return list(InputSpec.model_fields)
    if len(path) == 2 and path[0] == "blocks":
        return list(BlockDef.model_fields)
    return []
