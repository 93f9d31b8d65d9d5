"""One runner per peer tool: feed it a module and an input shape, return the headline number it reports.

Each runner calls the tool the way its README shows, with printing and warnings silenced, and returns the
integer the tool prints as its total: torchinfo's "Total mult-adds", ptflops' MACs (default `pytorch`
backend), thop's MACs, fvcore's `FlopCountAnalysis.total()`, FlopCounterMode's total FLOPs, and the FLOPs
of DeepSpeed's flops profiler and of calflops. The tool's package is imported inside its runner, so a
missing tool only fails its own runner.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

Runner = Callable[[nn.Module, tuple[int, ...]], int]


@dataclass(frozen=True)
class PeerTool:
    """A counting tool, the convention that reproduces it, and how to run it."""

    name: str  # as shown in tables
    distribution: str  # the package to install (and whose version is reported)
    convention: str  # the cnncalc convention name that reproduces its headline
    run: Runner


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence a tool's prints, warnings and log records: only its returned number matters here."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def _torch_restored() -> Iterator[None]:
    """Put back whatever a tool monkey-patched in torch, torch.nn.functional and torch.Tensor.

    ptflops, DeepSpeed and calflops replace functions there while they count, and calflops leaves its
    patches in place when it fails; the next tool would then count through them.
    """
    import torch.nn.functional as functional

    namespaces = [functional, torch]
    saved = [(namespace, dict(vars(namespace))) for namespace in namespaces]
    saved_tensor = dict(vars(torch.Tensor))
    try:
        yield
    finally:
        for namespace, attributes in saved:
            for name, value in attributes.items():
                if vars(namespace).get(name) is not value:
                    setattr(namespace, name, value)
        for name, value in saved_tensor.items():
            if vars(torch.Tensor).get(name) is not value:
                setattr(torch.Tensor, name, value)


def _input(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.zeros(shape)


def run_torchinfo(module: nn.Module, shape: tuple[int, ...]) -> int:
    import torchinfo

    statistics = torchinfo.summary(module, input_size=shape, verbose=0)
    return int(statistics.total_mult_adds)


def run_ptflops(module: nn.Module, shape: tuple[int, ...]) -> int:
    from ptflops import get_model_complexity_info

    batch, *per_sample = shape
    # ptflops adds a batch of 1 itself; a larger batch needs an input constructor.
    constructor = None if batch == 1 else (lambda resolution: torch.zeros((batch, *resolution)))
    macs, _ = get_model_complexity_info(
        module,
        tuple(per_sample),
        as_strings=False,
        print_per_layer_stat=False,
        input_constructor=constructor,
    )
    if macs is None:
        raise RuntimeError("ptflops could not count this network (it printed an exception and returned None)")
    return int(macs)


def run_thop(module: nn.Module, shape: tuple[int, ...]) -> int:
    from thop import profile

    macs, _ = profile(module, inputs=(_input(shape),), verbose=False)
    return int(macs)


def run_fvcore(module: nn.Module, shape: tuple[int, ...]) -> int:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(module, _input(shape))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(analysis.total())


def run_flop_counter(module: nn.Module, shape: tuple[int, ...]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        module(_input(shape))
    return int(counter.get_total_flops())


def run_deepspeed(module: nn.Module, shape: tuple[int, ...]) -> int:
    from deepspeed.profiling.flops_profiler import get_model_profile

    flops, _, _ = get_model_profile(module, input_shape=shape, print_profile=False, detailed=False, as_string=False)
    return int(flops)


def run_calflops(module: nn.Module, shape: tuple[int, ...]) -> int:
    from calflops import calculate_flops

    flops, _, _ = calculate_flops(module, input_shape=shape, print_results=False, output_as_string=False)
    return int(flops)


PEER_TOOLS: dict[str, PeerTool] = {
    tool.name: tool
    for tool in (
        PeerTool("torchinfo", "torchinfo", "torchinfo", run_torchinfo),
        PeerTool("fvcore", "fvcore", "fvcore", run_fvcore),
        PeerTool("ptflops", "ptflops", "ptflops", run_ptflops),
        PeerTool("thop", "thop", "thop", run_thop),
        PeerTool("FlopCounterMode", "torch", "torch", run_flop_counter),
        PeerTool("deepspeed", "deepspeed", "deepspeed", run_deepspeed),
        PeerTool("calflops", "calflops", "calflops", run_calflops),
    )
}


def run_peer(name: str, module: nn.Module, shape: tuple[int, ...]) -> int:
    """The headline number tool `name` reports for `module` on an input of `shape` (batch first)."""
    with _quiet(), _torch_restored():
        return PEER_TOOLS[name].run(module, shape)
