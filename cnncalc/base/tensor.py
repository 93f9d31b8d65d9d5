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

    size:    how many input pixels one unit sees (r), from its first to its last pixel; after upsampling, where
             units see different counts, the largest.
    jump:    distance in input pixels between neighbouring units (effective stride, j).
    start:   effective padding P, the "start" of the Distill tables: unit 0's field begins at input pixel -P.
    exact:   False only where the fields of a map repeat over more units than the engine tracks
             (receptive_field.MAX_PERIOD): `size` is then an average over units, as in earlier versions.
    reach:   None when every unit sees `size` pixels (unit y: from -start + y*jump). After a fractional stride
             (upsampling, adaptive pooling of a size it does not divide) units differ periodically: then the
             first and last input pixel of units 0 .. period-1 (None for a unit that reads no pixel); unit
             y + period sees what unit y sees, moved by jump * period pixels.

    Upsampling layers make the jump fractional, so jump and start may be Fractions.
    """

    size: Scalar
    jump: Scalar
    start: Scalar
    exact: bool = True
    reach: tuple[tuple[int, int] | None, ...] | None = None

    @property
    def period(self) -> int | None:
        """After how many units the fields repeat (1: all alike); None where not tracked (`exact` False)."""
        if not self.exact:
            return None
        return 1 if self.reach is None else len(self.reach)

    @property
    def size_min(self) -> Scalar | None:
        """The fewest input pixels a unit sees (0 for units that read none); None where not tracked."""
        if not self.exact:
            return None
        if self.reach is None:
            return self.size
        return min(0 if pixels is None else pixels[1] - pixels[0] + 1 for pixels in self.reach)

    @property
    def center(self) -> Fraction:
        """Centre of unit 0's field; units of a feature map are centred at `center + i * jump`.

        Where units differ (`reach`), the average over a period of how far each unit's centre lies from
        `i * jump`: two maps with the same jump and centre sit on the same pixels.
        """
        if self.reach is None:
            return Fraction(self.size - 1, 2) - self.start
        offsets = [
            Fraction(pixels[0] + pixels[1], 2) - self.jump * unit
            for unit, pixels in enumerate(self.reach)
            if pixels is not None
        ]
        return sum(offsets, Fraction(0)) / len(offsets) if offsets else Fraction(0)


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
