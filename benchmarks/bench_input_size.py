"""Input-size independence: analysing ResNet-50 must cost the same whatever the input size and batch.

Target (from the issue): analysis time of resnet50 at 3x224x224, batch 1, and at 3x8192x8192,
batch 1024, are the same (ratio of medians ~1.0), and the totals stay exact integers.

The two cases are timed alternately in one loop (A B A B ...), after a warm-up call of each, so that
machine noise hits both alike; medians and their ratio are printed, then the totals of both.

    python benchmarks/bench_input_size.py
    python benchmarks/bench_input_size.py --runs 300
    python benchmarks/bench_input_size.py --profile   # plus a cProfile of one call of each case
"""

from __future__ import annotations

import argparse

import _util

_util.use_working_tree()

from cnncalc.engine.analysis import InputOverrides, analyze_file  # noqa: E402

SPEC = _util.REPO / "specs" / "resnet50.yaml"
CASES = {
    "3x224x224, batch 1 (spec default)": None,
    "3x8192x8192, batch 1024": InputOverrides(shape=(3, 8192, 8192), batch=1024),
}
RATIO_TOLERANCE = 0.15  # |ratio - 1| accepted as "~1.0" on a noisy shared machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="timed calls of each case (default 100)")
    parser.add_argument("--profile", action="store_true", help="also cProfile one call of each case")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    print("# bench_input_size: resnet50 analysis time vs input size and batch\n")
    print(_util.machine_line())
    print(
        f"analyze_file({SPEC.relative_to(_util.REPO)}, overrides): 1 warm-up call each, then {args.runs} "
        "calls of each, alternating.\n"
    )

    results = {label: analyze_file(SPEC, overrides) for label, overrides in CASES.items()}  # warm-up
    times: dict[str, list[float]] = {label: [] for label in CASES}
    for _ in range(args.runs):
        for label, overrides in CASES.items():
            times[label].append(_util.timed(lambda overrides=overrides: analyze_file(SPEC, overrides)))

    (small_label, large_label) = list(CASES)
    small, large = _util.median(times[small_label]), _util.median(times[large_label])
    rows = [
        (
            label,
            len(times[label]),
            _util.ms(_util.median(times[label])),
            _util.ms(min(times[label])),
            _util.ms(max(times[label])),
        )
        for label in CASES
    ]
    print(_util.table(["input", "runs", "median", "min", "max"], rows))
    ratio = large / small
    verdict = "MET" if abs(ratio - 1) <= RATIO_TOLERANCE else "MISSED"
    print(
        f"\nRatio of medians (8192x8192 b1024 / 224x224 b1): {ratio:.3f} -> {verdict} "
        f"(accepted: within {RATIO_TOLERANCE:.0%} of 1.0)"
    )

    print("\nTotals (exact integers; 2**53 = 9,007,199,254,740,992 is where float64 stops being exact):\n")
    fields = [
        ("input shape", lambda r: "x".join(map(str, r.input_shape))),
        ("output shape", lambda r: "x".join(map(str, r.output_shape))),
        ("params", lambda r: r.totals.params),
        ("buffers", lambda r: r.totals.buffers),
        ("MACs", lambda r: r.totals.macs),
        ("FLOPs", lambda r: r.totals.flops),
        ("activation bytes", lambda r: r.totals.activation_bytes),
        ("peak activation bytes", lambda r: r.totals.peak_activation_bytes),
        ("receptive field", lambda r: r.receptive_field and "x".join(str(axis.size) for axis in r.receptive_field)),
    ]
    total_rows = []
    for name, get in fields:
        values = [get(results[label]) for label in CASES]
        cells = [f"{v:,}" if isinstance(v, int) else str(v) for v in values]
        kinds = "int" if all(isinstance(v, int) and not isinstance(v, bool) for v in values) else ""
        if kinds and max(values) > 2**53:
            kinds += " (> 2**53)"
        total_rows.append((name, *cells, kinds))
    print(_util.table(["total", small_label, large_label, "type"], total_rows))

    if args.profile:
        for label, overrides in CASES.items():
            print(f"\n## cProfile of one analyze_file call, {label}\n")
            print("```")
            print(_util.profile(lambda overrides=overrides: analyze_file(SPEC, overrides), args.top))
            print("```")


if __name__ == "__main__":
    main()
