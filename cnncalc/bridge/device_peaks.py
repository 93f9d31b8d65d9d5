"""Peak FLOP/s and memory bandwidth of a device, measured once on the device itself and cached.

The roofline lower bound of a layer is max(FLOPs / peak FLOP/s, bytes / bandwidth). The peaks come from a
large matrix multiply and a large copy on the same device, dtype and torch version; the cache lives in
the user's cache directory and is rewritten atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from cnncalc.bridge.timing import TimingPolicy, measure


@dataclass(frozen=True)
class DevicePeaks:
    device_name: str
    dtype: str
    flops_per_second: float
    bytes_per_second: float


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnncalc" / "device_peaks.json"


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    import platform

    return f"cpu:{platform.processor() or platform.machine()}:{torch.get_num_threads()} threads"


def _read_cache(path: Path) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # missing or unreadable: measure again (a cache holds nothing the user made)
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict[str, dict[str, float]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
            temporary = handle.name
            try:
                json.dump(data, handle, indent=2)
            except BaseException:
                handle.close()
                os.unlink(temporary)
                raise
        os.replace(temporary, path)
    except OSError:
        pass  # an unwritable cache only means measuring again next time


def measure_peaks(device: str, dtype: torch.dtype) -> DevicePeaks:
    """A large matmul for FLOP/s and a large copy for bandwidth, timed like any benchmark."""
    on_gpu = device.startswith("cuda")
    size = 8192 if on_gpu else 1024
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    policy = TimingPolicy.for_device(device, target_seconds=0.5)
    matmul = measure(lambda: torch.mm(a, b), device, policy)
    elements = (256 if on_gpu else 64) * 2**20 // 4
    source = torch.empty(elements, device=device, dtype=torch.float32)
    target = torch.empty_like(source)
    copy = measure(lambda: target.copy_(source), device, policy)
    return DevicePeaks(
        device_name=device_name(device),
        dtype=str(dtype).removeprefix("torch."),
        flops_per_second=2 * size**3 / matmul.median,
        bytes_per_second=2 * source.numel() * source.element_size() / copy.median,  # read + write
    )


def device_peaks(device: str, dtype: torch.dtype, refresh: bool = False) -> DevicePeaks:
    name = device_name(device)
    key = f"{name}|{str(dtype).removeprefix('torch.')}|torch {torch.__version__}"
    path = cache_path()
    cache = _read_cache(path)
    entry = cache.get(key)
    if not refresh and isinstance(entry, dict) and {"flops_per_second", "bytes_per_second"} <= set(entry):
        return DevicePeaks(
            name, str(dtype).removeprefix("torch."), entry["flops_per_second"], entry["bytes_per_second"]
        )
    peaks = measure_peaks(device, dtype)
    cache[key] = {"flops_per_second": peaks.flops_per_second, "bytes_per_second": peaks.bytes_per_second}
    _write_cache(path, cache)
    return peaks
