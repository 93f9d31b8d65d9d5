"""The torch bridge: a builder for every kind, zoo modules equal to torchvision's, verify and bench on CPU."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from clirunner import invoke  # noqa: E402

from cnncalc.bridge.module import build_module  # noqa: E402
from cnncalc.bridge.registry import BUILDERS  # noqa: E402
from cnncalc.bridge.verify import verify  # noqa: E402
from cnncalc.engine import InputOverrides, analyze_file  # noqa: E402
from cnncalc.kinds import REGISTRY  # noqa: E402
from cnncalc.language.zoo import zoo_specs  # noqa: E402

SPECS = zoo_specs()


def test_every_layer_kind_has_a_torch_builder():
    missing = sorted(set(REGISTRY) - set(BUILDERS))
    assert not missing, f"layer kinds without a torch builder: {missing}"
    assert not sorted(set(BUILDERS) - set(REGISTRY)), "builders for kinds the engine does not know"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_zoo_spec_verifies_on_meta(name):
    report = verify(analyze_file(SPECS[name]), "meta")
    assert report.ok, report.mismatches()[:5]
    assert report.totals["params"][0] == report.totals["params"][1]


def test_module_parameter_names_follow_spec_paths():
    resnet = build_module(analyze_file(SPECS["resnet50"]), "meta")
    names = set(resnet.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.0.downsample.0.weight",
            "layer4.2.bn3.bias", "fc.weight", "fc.bias"} <= names
    assert sum(p.numel() for p in resnet.parameters()) == 25_557_032
    vit = build_module(analyze_file(SPECS["vit_b_16"]), "meta")
    assert sum(p.numel() for p in vit.parameters()) == 86_567_656
    assert "conv_proj.weight" in set(vit.state_dict())


def test_verify_runs_real_kernels_on_cpu():
    result = analyze_file(SPECS["resnet18"])
    small = analyze_file(SPECS["resnet18"], InputOverrides(shape=(3, 64, 64)))
    assert small.input_shape == (1, 3, 64, 64)
    report = verify(small, "cpu")
    assert report.ok, report.mismatches()[:5]
    assert report.totals["flops"] == (small.totals.flops, small.totals.flops)
    assert result.totals.params == report.totals["params"][1]


def test_verify_command_json_and_exit_code():
    outcome = invoke("verify", "lenet5", "--device", "cpu", "--format", "json")
    assert outcome.code == 0, outcome.stderr
    document = outcome.json()
    assert document["ok"] is True
    assert document["mismatches"] == []
    assert document["totals"]["params"] == {"engine": 61_706, "torch": 61_706}
    first = document["layers"][0]
    assert first["engine"]["flops"] == first["torch"]["flops"] == 235_200


def test_verify_reports_a_wrong_engine_number(monkeypatch):
    """A rule that miscounts must be caught: exit 1 and the mismatch listed."""
    relu = REGISTRY["relu"]

    def wrong(spec, inputs, ctx):
        result = relu.rule(spec, inputs, ctx)
        return replace(result, params=1)

    monkeypatch.setitem(REGISTRY, "relu", replace(relu, rule=wrong))
    outcome = invoke("verify", "lenet5", "--device", "meta", "--format", "json")
    # lenet5 uses tanh, not relu: still fine
    assert outcome.code == 0
    outcome = invoke("verify", "resnet18", "--device", "meta", "--format", "json")
    assert outcome.code == 1
    document = outcome.json()
    assert document["ok"] is False
    assert {"layer": "relu", "check": "params", "engine": 1, "torch": 0} in document["mismatches"]


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("{type: batchnorm, eps: -1.0e-5}", "eps: must be greater than 0.0"),
        ("{type: hardtanh, min_val: 1, max_val: -1}", "max_val -1.0 is not greater than min_val 1.0"),
    ],
)
def test_verify_refuses_what_pytorch_refuses_with_a_located_message(spec_file, layer, message):
    """Values PyTorch refuses stop `verify` at the spec, with file:line:column, never in PyTorch with a traceback."""
    path = spec_file(f"input: {{shape: [3, 8, 8]}}\nlayers:\n  - {layer}\n")
    outcome = invoke("verify", str(path), "--device", "cpu")
    assert outcome.code == 1
    assert f"{path}:3:" in outcome.stderr and message in outcome.stderr


def test_verify_refuses_divisor_override_on_a_1d_average_pool(spec_file):
    path = spec_file("input: {shape: [3, 8]}\nlayers:\n  - {type: avgpool1d, kernel: 2, divisor_override: 3}\n")
    outcome = invoke("verify", str(path), "--device", "cpu")
    assert outcome.code == 1
    assert "has no divisor_override" in outcome.stderr


def test_verify_table_output():
    outcome = invoke("verify", "resnet18", "--device", "meta")
    assert outcome.code == 0
    assert "✓" in outcome.stdout
    assert "OK: all 69 layers match PyTorch" in outcome.stdout


def test_missing_torch_is_a_clear_message(monkeypatch):
    monkeypatch.setattr("cnncalc.bridge.require.torch_available", lambda: False)
    for command in ("verify", "bench"):
        outcome = invoke(command, "lenet5")
        assert outcome.code == 3
        assert 'pip install "cnncalc[torch]"' in outcome.stderr
        assert "Traceback" not in outcome.stderr


def bench_json(*args: str) -> dict:
    outcome = invoke("bench", *args, "--device", "cpu", "--target-time", "0.05", "--format", "json")
    assert outcome.code == 0, outcome.stderr
    return outcome.json()


def test_bench_batch_sweep_on_cpu():
    document = bench_json("resnet18", "--input", "3x32x32", "--batch", "1,2")
    assert [run["batch"] for run in document["runs"]] == [1, 2]
    for run in document["runs"]:
        latency = run["latency_ms"]
        assert 0 < latency["p10"] <= latency["median"] <= latency["p90"]
        assert run["iterations"] >= 3
        assert run["peak_memory_bytes"] is None  # measured on CUDA only
        small = analyze_file(SPECS["resnet18"], InputOverrides(shape=(3, 32, 32), batch=run["batch"]))
        assert run["flops_per_step"] == small.totals.flops
        assert run["achieved_tflops"] == pytest.approx(run["flops_per_step"] / (latency["median"] / 1e3) / 1e12)
        assert run["throughput_per_s"] == pytest.approx(run["batch"] / (latency["median"] / 1e3))


def test_bench_train_mode_counts_three_times_the_flops():
    inference = bench_json("lenet5")["runs"][0]
    train = bench_json("lenet5", "--mode", "train")["runs"][0]
    assert train["flops_per_step"] == 3 * inference["flops_per_step"] == 3 * 833_040


def test_bench_per_layer_roofline(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    document = bench_json("lenet5", "--per-layer")
    layers = document["runs"][0]["layers"]
    assert [layer["name"] for layer in layers][:3] == ["c1", "tanh1", "s2"]
    assert document["peaks"]["flops_per_second"] > 0
    assert (tmp_path / "cnncalc" / "device_peaks.json").exists()  # cached for the next run
    for layer in layers:
        assert layer["median_ms"] > 0
        assert layer["bound"] in ("compute", "memory")
        assert layer["lower_bound_ms"] == pytest.approx(
            1e3 * max(layer["flops"] / document["peaks"]["flops_per_second"],
                      layer["bytes"] / document["peaks"]["bytes_per_second"])
        )


def test_bench_bf16_and_channels_last_on_cpu():
    document = bench_json("resnet18", "--input", "3x32x32", "--dtype", "bf16", "--channels-last")
    run = document["runs"][0]
    assert run["dtype"] == "bf16"
    assert run["channels_last"] is True


def test_bench_rejects_a_bad_sweep():
    outcome = invoke("bench", "lenet5", "--batch", "1,x", "--device", "cpu")
    assert outcome.code == 2
    assert outcome.stderr == "error: --batch '1,x' is not a list of positive sizes\n  hint: e.g. --batch 1,8,32,128\n"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_bench_and_verify_on_cuda():
    verified = invoke("verify", "resnet18", "--device", "cuda")
    assert verified.code == 0, verified.output
    bench = invoke("bench", "resnet18", "--device", "cuda", "--batch", "1,8", "--format", "json",
                   "--target-time", "0.2")
    assert bench.code == 0, bench.stderr
    document = bench.json()
    assert [run["batch"] for run in document["runs"]] == [1, 8]
    assert all(run["peak_memory_bytes"] > 0 for run in document["runs"])
