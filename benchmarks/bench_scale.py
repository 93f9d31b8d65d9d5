"""Scale: in-process analysis time of large, flat specs, and how it grows with the number of layers.

Target (from the issue): a 10,000-layer spec analyses in <= 1 s in-process (YAML parsing included,
after one warm-up call), and time grows linearly, i.e. the time per layer stays roughly constant
across 1,250 / 2,500 / 5,000 / 10,000 / 20,000 layers.

The generated spec is a ResNet-34-like network stretched to the requested depth and written out flat,
one YAML entry per layer (no `repeat`, no `blocks`): a stem (conv/bn/relu/maxpool), four stages of
basic residual blocks (conv3x3-bn-relu-conv3x3-bn, `add` with the block input, relu; the first block
of stages 2-4 is strided with a 1x1 conv + bn projection shortcut), then avgpool/flatten/linear.
A residual `add` therefore comes every 7 layers. The exact layer count is reached by padding with
a few `identity` layers before the head.

    python benchmarks/bench_scale.py                 # all sizes
    python benchmarks/bench_scale.py --sizes 10000   # one size
    python benchmarks/bench_scale.py --profile 10000 # plus a cProfile of one 10,000-layer analysis
    python benchmarks/bench_scale.py --write-spec /tmp/flat10k.yaml --sizes 10000  # keep the spec
"""

from __future__ import annotations

import argparse
import functools
import gc
import math
import time
from typing import ClassVar

import _util

_util.use_working_tree()

from cnncalc.engine.analysis import analyze_text  # noqa: E402
from cnncalc.language.yaml_source import load_yaml  # noqa: E402

TARGET_10K_S = 1.0
STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, stride of the stage's first block)
HEAD = 3  # avgpool, flatten, fc
BASIC = 7  # conv bn relu conv bn add relu
PROJECTED = 9  # the same plus the 1x1 conv + bn shortcut


def generate_spec(layers: int) -> str:
    """A flat spec with exactly `layers` layer entries (see the module docstring)."""
    lines = [
        f"name: flat_resnet_{layers}",
        f"description: generated benchmark spec, {layers} layers written out flat",
        "input: {shape: [3, 224, 224], batch: 1, dtype: float32}",
        "layers:",
        "  - {name: stem_conv, type: conv2d, out: 64, kernel: 7, stride: 2, padding: 3, bias: false}",
        "  - {name: stem_bn, type: batchnorm}",
        "  - {name: stem_relu, type: relu}",
        "  - {name: stem_pool, type: maxpool, kernel: 3, stride: 2, padding: 1}",
    ]
    count = 4
    body = layers - count - HEAD
    projected = sum(1 for _, stride in STAGES if stride != 1)
    blocks = (body - projected * PROJECTED) // BASIC + projected
    if blocks < len(STAGES):
        raise ValueError(f"{layers} layers is too few for {len(STAGES)} stages")
    per_stage = [blocks // len(STAGES) + (1 if i < blocks % len(STAGES) else 0) for i in range(len(STAGES))]
    previous = "stem_pool"
    in_channels = 64
    for stage, ((channels, stride), n_blocks) in enumerate(zip(STAGES, per_stage, strict=True), start=1):
        for block in range(n_blocks):
            p = f"s{stage}b{block}"
            s = stride if block == 0 else 1
            project = s != 1 or in_channels != channels
            lines += [
                f"  - {{name: {p}_conv1, type: conv2d, out: {channels}, kernel: 3, stride: {s}, padding: 1, "
                "bias: false}",
                f"  - {{name: {p}_bn1, type: batchnorm}}",
                f"  - {{name: {p}_relu1, type: relu}}",
                f"  - {{name: {p}_conv2, type: conv2d, out: {channels}, kernel: 3, padding: 1, bias: false}}",
                f"  - {{name: {p}_bn2, type: batchnorm}}",
            ]
            shortcut = previous
            if project:
                lines += [
                    f"  - {{name: {p}_down, type: conv2d, from: {previous}, out: {channels}, kernel: 1, "
                    f"stride: {s}, bias: false}}",
                    f"  - {{name: {p}_down_bn, type: batchnorm}}",
                ]
                shortcut = f"{p}_down_bn"
            lines += [
                f"  - {{name: {p}_add, type: add, from: [{p}_bn2, {shortcut}]}}",
                f"  - {{name: {p}_relu, type: relu}}",
            ]
            count += PROJECTED if project else BASIC
            previous = f"{p}_relu"
            in_channels = channels
    pad = layers - HEAD - count
    if pad < 0:
        raise AssertionError("generator overshot the layer count")
    lines += [f"  - {{name: pad{i}, type: identity}}" for i in range(pad)]
    lines += [
        "  - {name: avgpool, type: adaptive_avgpool2d, output_size: 1}",
        "  - {name: flatten, type: flatten}",
        "  - {name: fc, type: linear, out: 1000}",
    ]
    return "\n".join(lines) + "\n"


def repeats_for(warmup_s: float, wanted: int) -> int:
    """Fewer timed runs for slow sizes, so that the whole script stays within a few minutes."""
    if warmup_s < 2:
        return wanted
    if warmup_s < 8:
        return min(wanted, 3)
    return min(wanted, 2)


class Phases:
    """Time the stages of one analyze_text call by wrapping the functions analysis._run calls.

    Instrumentation only, installed for one extra call per size after the timed runs (so the timed runs
    are unaffected): load_yaml, parse_document (the document's checks, done by
    parse_document_despite_input), build_graph (and, inside it, Expansion.run_order), and _assemble.
    These are internal names; if they move, the breakdown is skipped.
    """

    NAMES = ("load_yaml", "parse_document", "build_graph", "run_order", "_assemble")
    # stage label -> the function of cnncalc.engine.analysis that does it
    ANALYSIS_FUNCTIONS: ClassVar[dict[str, str]] = {
        "load_yaml": "load_yaml",
        "parse_document": "parse_document_despite_input",
        "build_graph": "build_graph",
        "_assemble": "_assemble",
    }

    def __init__(self) -> None:
        from cnncalc.engine import analysis, expansion

        self.targets = [(analysis, name, label) for label, name in self.ANALYSIS_FUNCTIONS.items()]
        self.targets.append((expansion.Expansion, "run_order", "run_order"))
        for owner, name, _ in self.targets:
            if not callable(getattr(owner, name, None)):
                raise AttributeError(name)

    def measure(self, call) -> dict[str, float]:
        spent = dict.fromkeys(self.NAMES, 0.0)
        originals = [(owner, name, label, owner.__dict__[name]) for owner, name, label in self.targets]

        def wrap(name, function):
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[name] += time.perf_counter() - start

            return wrapper

        collections = {"started": 0.0}
        spent["gc"] = 0.0
        spent["gc_passes"] = 0

        def on_gc(phase, info):  # time spent in the cyclic garbage collector, which runs inside any stage
            if phase == "start":
                collections["started"] = time.perf_counter()
            else:
                spent["gc"] += time.perf_counter() - collections["started"]
                spent["gc_passes"] += 1

        try:
            for owner, name, label, function in originals:
                setattr(owner, name, wrap(label, function))
            gc.callbacks.append(on_gc)
            start = time.perf_counter()
            call()
            spent["total"] = time.perf_counter() - start
        finally:
            gc.callbacks.remove(on_gc)
            for owner, name, _, function in originals:
                setattr(owner, name, function)
        return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1250, 2500, 5000, 10000, 20000])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per size (after 1 warm-up)")
    parser.add_argument("--profile", type=int, metavar="LAYERS", help="also cProfile one analysis of this size")
    parser.add_argument("--top", type=int, default=20, help="functions listed in the profile")
    parser.add_argument("--write-spec", metavar="PATH", help="write the largest generated spec here")
    args = parser.parse_args()

    print("# bench_scale: in-process analyze_text on flat generated specs\n")
    print(_util.machine_line())
    print(
        f"Each size: 1 warm-up call, then the median of up to {args.repeats} timed calls of "
        "analyze_text(text) (YAML parsing included); YAML load alone timed separately.\n"
    )

    try:
        phases = Phases()
    except (ImportError, AttributeError) as error:
        phases = None
        print(f"(phase breakdown unavailable: {error})")
    phase_rows = []
    rows = []
    results: dict[int, float] = {}
    results_paused: dict[int, float] = {}  # the same calls with the collector paused
    for layers in sorted(args.sizes):
        text = generate_spec(layers)
        if args.write_spec and layers == max(args.sizes):
            with open(args.write_spec, "w") as handle:
                handle.write(text)
        label = f"<flat {layers}>"
        analyze = functools.partial(analyze_text, text, label)
        load = functools.partial(load_yaml, text, label)
        start = time.perf_counter()
        result = analyze()
        warmup = time.perf_counter() - start
        if len(result.layers) != layers:
            raise SystemExit(f"expected {layers} layer rows, got {len(result.layers)}")
        params, macs = result.totals.params, result.totals.macs
        del result  # keep the timed calls' heap the same as a fresh caller's
        n = repeats_for(warmup, args.repeats)
        times, times_no_gc, yaml_times = [], [], []
        for i in range(n):
            # Each timed call starts from a collected heap, so that one call's garbage is not charged to the next.
            gc.collect()
            times.append(_util.timed(analyze))
            # Side by side: the same call with the cyclic garbage collector paused (a diagnostic, not a target).
            gc.collect()
            gc.disable()
            try:
                times_no_gc.append(_util.timed(analyze))
            finally:
                gc.enable()
            if i < 3:
                gc.collect()
                yaml_times.append(_util.timed(load))
        t = _util.median(times)
        results[layers] = t
        results_paused[layers] = _util.median(times_no_gc)
        if phases is not None:
            spent = phases.measure(analyze)
            staged = ("load_yaml", "parse_document", "build_graph", "_assemble")
            other = spent["total"] - sum(spent[name] for name in staged)
            phase_rows.append(
                (
                    f"{layers:,}",
                    _util.ms(spent["total"]),
                    _util.ms(spent["load_yaml"]),
                    _util.ms(spent["parse_document"]),
                    _util.ms(spent["build_graph"]),
                    _util.ms(spent["run_order"]),
                    _util.ms(spent["build_graph"] - spent["run_order"]),
                    _util.ms(spent["_assemble"]),
                    _util.ms(other),
                    f"{_util.ms(spent['gc'])} ({spent['gc_passes']})",
                )
            )
        rows.append(
            (
                layers,
                len(text.encode()),
                n,
                t,
                min(times),
                max(times),
                _util.median(yaml_times),
                warmup,
                _util.median(times_no_gc),
                params,
                macs,
            )
        )

    base = rows[0]
    table_rows = []
    previous = None
    for layers, size, n, t, lo, hi, ty, warm, t_no_gc, _params, _macs in rows:
        per_layer = t / layers * 1e6
        exponent = "" if previous is None else f"{math.log(t / previous[1]) / math.log(layers / previous[0]):.2f}"
        table_rows.append(
            (
                f"{layers:,}",
                f"{size / 1024:.0f} KiB",
                n,
                _util.ms(t),
                f"{_util.ms(lo)} / {_util.ms(hi)}",
                f"{ty * 1000:.1f} ms ({ty / t:.0%})",
                f"{per_layer:.1f} µs",
                f"{per_layer / (base[3] / base[0] * 1e6):.2f}x",
                exponent or "-",
                _util.ms(warm),
                f"{_util.ms(t_no_gc)} ({t_no_gc / layers * 1e6:.1f} µs/layer)",
            )
        )
        previous = (layers, t)
    print(
        _util.table(
            [
                "layers",
                "spec",
                "runs",
                "median",
                "min / max",
                "YAML load (share)",
                "per layer",
                "per layer vs smallest",
                "growth exponent",
                "warm-up",
                "median with GC paused",
            ],
            table_rows,
        )
    )
    print("\ngrowth exponent = log(t2/t1) / log(n2/n1) against the previous size: 1.0 is linear, 2.0 quadratic.")
    print(
        "median with GC paused: the same call, timed alternately with the others, under gc.disable() "
        "(diagnostic only; every timed call starts after gc.collect())."
    )
    for layers, *_rest, params, macs in rows:
        print(f"  {layers:,} layers: params {params:,}, MACs {macs:,}")
    if phase_rows:
        print(
            "\nWhere the time goes: one extra instrumented call per size (after the timed runs), "
            "wall time of each stage of analyze_text; 'GC inside' is the time the cyclic garbage collector ran "
            "during the call, whichever stage it interrupted.\n"
        )
        print(
            _util.table(
                [
                    "layers",
                    "total",
                    "load_yaml",
                    "parse_document",
                    "build_graph",
                    "of which run_order",
                    "build_graph w/o run_order",
                    "_assemble",
                    "other",
                    "GC inside (passes)",
                ],
                phase_rows,
            )
        )

    if 10000 in results:
        t = results[10000]
        verdict = "MET" if t <= TARGET_10K_S else "MISSED"
        print(f"\nTarget 10,000 layers <= {TARGET_10K_S:.1f} s: median {t:.3f} s -> {verdict}")
    per_layer = [t / layers for layers, t in sorted(results.items())]
    if len(per_layer) > 1:
        spread = max(per_layer) / min(per_layer)
        verdict = "MET" if spread <= 1.5 else "MISSED"
        print(
            f"Target linear growth (per-layer time roughly constant): max/min per-layer time = {spread:.2f}x "
            f"-> {verdict} (threshold used here: 1.5x)"
        )
        paused = [t / layers for layers, t in sorted(results_paused.items())]
        print(
            f"  with the collector paused, as `cnncalc analyze` runs the engine: {max(paused) / min(paused):.2f}x "
            "(the engine leaves the collector to its caller; its passes over the growing heap make the rest)"
        )

    if args.profile:
        text = generate_spec(args.profile)
        analyze_text(text)
        print(f"\n## cProfile of one analyze_text call, {args.profile:,} layers\n")
        print("```")
        print(_util.profile(lambda: analyze_text(text), args.top))
        print("```")


if __name__ == "__main__":
    main()
