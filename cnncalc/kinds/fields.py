"""The fields layer kinds are made of: the schema base class and the value types its fields use."""

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from cnncalc.base import limits

Positive = Annotated[int, Field(ge=1, le=limits.MAX_DIMENSION)]
NonNegative = Annotated[int, Field(ge=0, le=limits.MAX_DIMENSION)]
PositiveAxes = Positive | list[Positive]  # one number for every spatial axis, or one per axis
NonNegativeAxes = NonNegative | list[NonNegative]
Padding = NonNegative | list[NonNegative | list[NonNegative]] | Literal["same", "valid"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
# A normalization's epsilon: PyTorch's BatchNorm refuses eps <= 0, and 0 or less makes no sense for the others.
Epsilon = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class LayerSchema(BaseModel):
    """Fields of one layer kind. Unknown fields are refused; schemas build lazily to keep start-up fast."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True, populate_by_name=True)

    #: field names whose values are free text; every other string value is evaluated as an expression
    text_fields: ClassVar[frozenset[str]] = frozenset()


class WindowFields(LayerSchema):
    """The fields of a sliding window: kernel, stride, padding and dilation, per axis or for all axes."""

    kernel: PositiveAxes
    stride: PositiveAxes = 1
    padding: Padding = 0
    dilation: PositiveAxes = 1
