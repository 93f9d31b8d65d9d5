"""Will it fit? The engine's memory estimate against what the device has free, before anything is allocated.

Running a network too large for the machine would end in an allocator error deep inside PyTorch (or in
the operating system killing the process); `verify` and `bench` ask here first and refuse clearly instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from cnncalc.engine.result import INDEX_BYTES, AnalysisResult

FLOAT32_BYTES = 4  # the bridge builds every module in float32


@dataclass(frozen=True)
class Shortfall:
    needed: int
    available: int


def inference_bytes(result: AnalysisResult, element_bytes: int = FLOAT32_BYTES) -> int:
    """Weights, buffers and the most activations alive at once (the input included) of a forward pass
    without autograd, which is how `verify` runs: the module frees each value after its last reader."""
    totals = result.totals
    peak_elements = totals.peak_activation_bytes // result.dtype_bytes
    index_bytes = totals.index_buffers * INDEX_BYTES  # int64 whatever the dtype
    return (totals.params + totals.running_stat_buffers + peak_elements) * element_bytes + index_bytes


def available_bytes(device: str) -> int | None:
    """Free memory on `device` in bytes; None where nothing is allocated (meta) or it cannot be told."""
    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info()
        return int(free)
    if device != "cpu":
        return None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return None


def shortfall(needed: int, device: str) -> Shortfall | None:
    """The shortfall when `needed` bytes do not fit in what `device` has free; None when they fit."""
    available = available_bytes(device)
    if available is None or needed <= available:
        return None
    return Shortfall(needed, available)
