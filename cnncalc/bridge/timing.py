"""Timing a callable the way a performance engineer would.

- Warm-up first (allocator, cuDNN autotuning, lazy compilation), for a minimum count and time.
- On CUDA each iteration is bracketed by CUDA events and read after one synchronize; on the CPU a
  monotonic clock is read around each call.
- The iteration count adapts to the measured cost, so each measurement takes about `target_seconds`.
- Results are the median and the 10th/90th percentiles, plus the coefficient of variation (stdev/mean)
  as a figure of run-to-run spread.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TimingPolicy:
    warmup_iterations: int
    warmup_seconds: float
    target_seconds: float
    min_iterations: int
    max_iterations: int

    @classmethod
    def for_device(cls, device: str, target_seconds: float | None = None) -> TimingPolicy:
        if device.startswith("cuda"):
            return cls(10, 0.2, target_seconds or 1.0, 10, 1000)
        return cls(2, 0.05, target_seconds or 1.0, 3, 50)  # CPU: fewer, longer iterations


@dataclass(frozen=True)
class Timing:
    samples: tuple[float, ...]  # seconds, one per iteration

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        position = fraction * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    @property
    def p10(self) -> float:
        return self.percentile(0.10)

    @property
    def p90(self) -> float:
        return self.percentile(0.90)

    @property
    def cv(self) -> float:
        """Coefficient of variation: stdev / mean (0 for a single sample)."""
        if len(self.samples) < 2:
            return 0.0
        mean = statistics.fmean(self.samples)
        return statistics.stdev(self.samples) / mean if mean else 0.0


NOISY_CV = 0.10  # above this spread, a median is not a figure to quote
FEW_ITERATIONS = 5  # below this count, percentiles and the spread mean little


def reliability_warnings(timing: Timing) -> list[tuple[str, str]]:
    """(warning, hint) pairs for a measurement too noisy or too short to quote."""
    warnings = []
    if timing.cv > NOISY_CV:
        warnings.append(
            (
                f"the iteration times vary by {timing.cv:.0%} (coefficient of variation over {NOISY_CV:.0%})",
                "other work on the machine disturbs the timing: close it, or raise --target-time for more iterations",
            )
        )
    if len(timing.samples) < FEW_ITERATIONS:
        warnings.append(
            (
                f"only {len(timing.samples)} iteration(s) were timed (fewer than {FEW_ITERATIONS})",
                "raise --target-time so that more iterations fit",
            )
        )
    return warnings


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(step: Callable[[], object], device: str, policy: TimingPolicy) -> Timing:
    """Warm up `step`, then time it for an adaptive number of iterations."""
    started = time.perf_counter()
    done = 0
    while done < policy.warmup_iterations or time.perf_counter() - started < policy.warmup_seconds:
        step()
        done += 1
    synchronize(device)
    estimate = (time.perf_counter() - started) / done
    iterations = int(policy.target_seconds / estimate) if estimate > 0 else policy.max_iterations
    iterations = max(policy.min_iterations, min(policy.max_iterations, iterations))
    if device.startswith("cuda"):
        return _measure_cuda(step, iterations)
    samples = []
    for _ in range(iterations):
        begin = time.perf_counter()
        step()
        samples.append(time.perf_counter() - begin)
    return Timing(tuple(samples))


def _measure_cuda(step: Callable[[], object], iterations: int) -> Timing:
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iterations)]
    for start, end in events:
        start.record()
        step()
        end.record()
    torch.cuda.synchronize()
    return Timing(tuple(start.elapsed_time(end) / 1000.0 for start, end in events))
