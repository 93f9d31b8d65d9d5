"""The engine's picture of a tensor: a shape and what its axes mean, plus the receptive field of its units.

No data is ever allocated: a tensor here is a tuple of integers. Shapes always include the batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

Scalar = int | Fraction


@dataclass(frozen=True, slots=True)
class AxisField:
    """Receptive field of one unit along one spatial axis, in input pixels.

    size:    how many input pixels one unit sees (r).
    jump:    distance in input pixels between neighbouring units (effective stride, j).
    start:   effective padding P, the "start" of the Distill tables: unit 0's field begins at input pixel -P.

    Upsampling layers make the jump fractional, so jump and start may be Fractions.
    exact:   False once a layer that reads several units is applied after upsampling: units then read
             different numbers of input pixels, and `size` is an average over them rather than the largest.
    """

    size: Scalar
    jump: Scalar
    start: Scalar
    exact: bool = True

    @property
    def center(self) -> Fraction:
        """Centre of unit 0's field; units of a feature map are centred at `center + i * jump`."""
        return Fraction(self.size - 1, 2) - self.start


IDENTITY_FIELD = AxisField(1, 1, 0)


@dataclass(frozen=True, slots=True)
class Tensor:
    """Shape of a tensor (batch first) and the role of its axes.

    channel_axis:  index of the channel axis, or None (e.g. after flatten).
    spatial_axes:  indices of the spatial axes, in order (H, W for images; empty for tokens or vectors).
    field:         receptive field per spatial axis, or None where it is not tracked.
    global_context: True when every unit already depends on the whole input (after global pooling),
                   so the tensor is context, not a feature map, for receptive-field purposes.
    """

    shape: tuple[int, ...]
    channel_axis: int | None
    spatial_axes: tuple[int, ...]
    field: tuple[AxisField, ...] | None
    global_context: bool = False

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def channels(self) -> int | None:
        return None if self.channel_axis is None else self.shape[self.channel_axis]

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.shape[axis] for axis in self.spatial_axes)

    @property
    def numel(self) -> int:
        total = 1
        for size in self.shape:
            total *= size
        return total

    @property
    def is_image(self) -> bool:
        """Channels-first with spatial axes right after: the layout convolutions and pools expect."""
        return self.channel_axis == 1 and self.spatial_axes == tuple(range(2, self.rank))

    def with_shape(self, shape: tuple[int, ...]) -> Tensor:
        return replace(self, shape=shape)


def image_tensor(batch: int, channels: int, spatial: tuple[int, ...]) -> Tensor:
    """The network input: (batch, channels, *spatial), every pixel its own receptive field."""
    rank = 2 + len(spatial)
    return Tensor(
        shape=(batch, channels, *spatial),
        channel_axis=1,
        spatial_axes=tuple(range(2, rank)),
        field=tuple(IDENTITY_FIELD for _ in spatial),
    )


def plain_tensor(shape: tuple[int, ...], channel_axis: int | None = None) -> Tensor:
    """A tensor without spatial structure (vectors, token sequences)."""
    return Tensor(shape=shape, channel_axis=channel_axis, spatial_axes=(), field=None)
