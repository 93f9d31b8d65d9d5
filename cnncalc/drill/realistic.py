"""Realistic numbers for the question generators: the sizes real networks have.

Feature maps are the (channels, size) pairs real networks have at each stage (3x224 at the input, 64x112
after a stem, 256x56, 512x28, 1024x14, 2048x7 in a ResNet-50, 24x56 or 40x28 in an EfficientNet), batch
sizes are powers of two, kernels are 1/3/5/7 (11 for AlexNet).
"""

from __future__ import annotations

import random

from cnncalc.drill.question import Level

# (channels, size) of feature maps that real networks have.
_MAPS = {
    Level.easy: ((3, 224), (64, 112), (64, 56), (128, 28), (256, 14), (512, 7), (32, 64), (16, 32)),
    Level.medium: (
        (3, 224),
        (64, 112),
        (64, 56),
        (256, 56),
        (128, 28),
        (512, 28),
        (256, 14),
        (1024, 14),
        (512, 7),
        (2048, 7),
        (96, 55),
        (3, 227),
        (3, 299),
        (32, 149),
        (24, 56),
        (40, 28),
        (80, 14),
        (192, 35),
    ),
    Level.hard: (
        (3, 224),
        (3, 513),
        (256, 65),
        (512, 33),
        (64, 97),
        (96, 55),
        (3, 299),
        (192, 35),
        (768, 17),
        (1280, 9),
        (3, 331),
        (144, 75),
    ),
}
# Rectangular inputs of the hard level: (channels, height, width).
_RECTANGLES = ((3, 480, 640), (3, 375, 1242), (3, 720, 1280), (64, 120, 160), (256, 60, 80), (3, 800, 1333))
_BATCHES = {Level.easy: (1,), Level.medium: (1, 8, 16, 32, 64), Level.hard: (1, 4, 16, 32, 64, 128, 256)}


def feature_map(rng: random.Random, level: Level, rectangles: bool = True) -> tuple[int, int, int]:
    """(C, H, W) of a realistic feature map; the hard level sometimes gives a rectangular one."""
    if level is Level.hard and rectangles and rng.random() < 0.3:
        return rng.choice(_RECTANGLES)
    channels, size = rng.choice(_MAPS[level])
    return channels, size, size


def batch_size(rng: random.Random, level: Level) -> int:
    return rng.choice(_BATCHES[level])


def out_channels(rng: random.Random, in_channels: int) -> int:
    """Keep, double or halve the channels as networks do (at least 16; from RGB: 32 or 64)."""
    if in_channels <= 3:
        return rng.choice((32, 64))
    return rng.choice((in_channels, 2 * in_channels, max(16, in_channels // 2)))
