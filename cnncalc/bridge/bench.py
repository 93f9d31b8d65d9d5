"""Time the real module: inference or a training step, at a dtype, layout and batch, on CPU or CUDA.

Achieved FLOP/s use the engine's FLOPs (x3 for a training step: forward, and backward for inputs and
weights). Memory is measured on CUDA (`torch.cuda.max_memory_allocated`) and set beside the engine's
estimate. Per-layer timing brackets each layer of the DAG and sets its share of time beside its share of
FLOPs and its roofline lower bound.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from cnncalc.bridge.device_peaks import DevicePeaks
from cnncalc.bridge.module import LayerCall, build_module
from cnncalc.bridge.timing import Timing, TimingPolicy, measure, synchronize
from cnncalc.engine.result import INDEX_BYTES, AnalysisResult, LayerRow

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
TRAIN_FLOPS_FACTOR = 3  # forward + backward (input gradients) + backward (weight gradients)


@dataclass(frozen=True)
class BenchConfig:
    device: str
    dtype: str = "fp32"
    mode: str = "inference"  # or "train": forward, backward and an optimizer step
    channels_last: bool = False
    compile: bool = False
    target_seconds: float | None = None


@dataclass
class LayerTiming:
    path: str
    kind: str
    seconds: float
    flops: int
    bytes_moved: int
    lower_bound_seconds: float | None
    bound: str  # "compute" or "memory"

    @property
    def efficiency(self) -> float | None:
        if self.lower_bound_seconds is None or self.seconds <= 0:
            return None
        return self.lower_bound_seconds / self.seconds


@dataclass
class BenchResult:
    batch: int
    config: BenchConfig
    timing: Timing
    flops: int  # per step, from the engine (x3 in train mode)
    peak_memory_bytes: int | None  # measured, CUDA only
    estimated_memory_bytes: int  # from the engine
    layers: list[LayerTiming] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.batch / self.timing.median

    @property
    def tflops(self) -> float:
        return self.flops / self.timing.median / 1e12


def estimated_memory(result: AnalysisResult, mode: str, element_bytes: int) -> int:
    """Engine estimate: weights + buffers + activations (peak live for inference; all outputs, gradients
    and SGD momentum for training)."""
    totals = result.totals
    weights = (totals.params + totals.running_stat_buffers) * element_bytes + totals.index_buffers * INDEX_BYTES
    if mode == "train":
        return (
            weights + 2 * totals.params * element_bytes + totals.activation_bytes // result.dtype_bytes * element_bytes
        )
    return weights + totals.peak_activation_bytes // result.dtype_bytes * element_bytes


def _autocast(config: BenchConfig) -> contextlib.AbstractContextManager[object]:
    if config.dtype == "fp32":
        return contextlib.nullcontext()
    device_type = "cuda" if config.device.startswith("cuda") else "cpu"
    return torch.autocast(device_type=device_type, dtype=DTYPES[config.dtype])


def _memory_format(rank: int) -> torch.memory_format | None:
    return {4: torch.channels_last, 5: torch.channels_last_3d}.get(rank)


def prepare(result: AnalysisResult, config: BenchConfig) -> tuple[nn.Module, torch.Tensor]:
    module = build_module(result, config.device)
    if config.mode == "train":
        module.train()
    network_input = torch.randn(result.input_shape, device=config.device)
    layout = _memory_format(network_input.dim()) if config.channels_last else None
    if layout is not None:
        module = module.to(memory_format=layout)
        network_input = network_input.contiguous(memory_format=layout)
    return module, network_input


def make_step(module: nn.Module, network_input: torch.Tensor, config: BenchConfig) -> Callable[[], object]:
    runner: Callable[..., torch.Tensor] = torch.compile(module) if config.compile else module
    if config.mode == "inference":

        def infer() -> object:
            with torch.inference_mode(), _autocast(config):
                return runner(network_input)

        return infer
    optimizer = torch.optim.SGD(
        [p for p in module.parameters() if p.requires_grad] or [torch.zeros(1)], lr=1e-4, momentum=0.9
    )

    def train() -> object:
        optimizer.zero_grad(set_to_none=True)
        with _autocast(config):
            output = runner(network_input)
        output.float().mean().backward()
        optimizer.step()
        return None

    return train


def run_benchmark(
    result: AnalysisResult, config: BenchConfig, peaks: DevicePeaks | None = None, per_layer: bool = False
) -> BenchResult:
    module, network_input = prepare(result, config)
    step = make_step(module, network_input, config)
    policy = TimingPolicy.for_device(config.device, config.target_seconds)
    on_gpu = config.device.startswith("cuda")
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    timing = measure(step, config.device, policy)
    peak_memory = torch.cuda.max_memory_allocated() if on_gpu else None
    element_bytes = torch.empty((), dtype=DTYPES[config.dtype]).element_size()
    factor = TRAIN_FLOPS_FACTOR if config.mode == "train" else 1
    bench = BenchResult(
        batch=result.totals.batch,
        config=config,
        timing=timing,
        flops=result.totals.flops * factor,
        peak_memory_bytes=peak_memory,
        estimated_memory_bytes=estimated_memory(result, config.mode, element_bytes),
    )
    if per_layer:
        bench.layers = time_layers(result, module, network_input, config, peaks, element_bytes)
    return bench


def time_layers(
    result: AnalysisResult,
    module: nn.Module,
    network_input: torch.Tensor,
    config: BenchConfig,
    peaks: DevicePeaks | None,
    element_bytes: int,
) -> list[LayerTiming]:
    """Median time of each layer over several inference passes, each layer bracketed on its own."""
    on_gpu = config.device.startswith("cuda")
    samples: dict[int, list[float]] = {row.index: [] for row in result.layers}
    pending: list[tuple[int, object, object]] = []

    def observe(row: LayerRow, layer: LayerCall, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        with _bracket(on_gpu, row.index, samples, pending):
            return layer(*inputs)

    policy = TimingPolicy.for_device(config.device, config.target_seconds)
    passes = max(3, min(policy.min_iterations * 2, 20))
    with torch.inference_mode(), _autocast(config):
        module(network_input, observer=observe)  # warm-up
        synchronize(config.device)
        for values in samples.values():
            values.clear()
        pending.clear()
        for _ in range(passes):
            module(network_input, observer=observe)
    synchronize(config.device)
    for index, start, end in pending:
        samples[index].append(start.elapsed_time(end) / 1000.0)  # type: ignore[attr-defined]
    timings = []
    for row in result.layers:
        moved = _bytes_moved(row, element_bytes)
        lower, bound = None, "-"
        if peaks is not None:
            compute = row.flops / peaks.flops_per_second
            memory = moved / peaks.bytes_per_second
            lower, bound = max(compute, memory), ("compute" if compute >= memory else "memory")
        values = sorted(samples[row.index])
        timings.append(LayerTiming(row.path, row.kind, values[len(values) // 2], row.flops, moved, lower, bound))
    return timings


@contextlib.contextmanager
def _bracket(
    on_gpu: bool, index: int, samples: dict[int, list[float]], pending: list[tuple[int, object, object]]
) -> Iterator[None]:
    if on_gpu:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        yield
        end.record()
        pending.append((index, start, end))
        return
    import time

    begin = time.perf_counter()
    yield
    samples[index].append(time.perf_counter() - begin)


def _bytes_moved(row: LayerRow, element_bytes: int) -> int:
    """Bytes a layer must at least read and write: its inputs, its output and its parameters."""
    elements = row.activation_elements + row.params + sum(math.prod(shape) for shape in row.input_shapes)
    return elements * element_bytes
