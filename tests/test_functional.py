"""`functional: true`: a layer that the source model runs as a function call in its forward (torchvision's
DenseNet calls F.relu and F.adaptive_avg_pool2d), not as a registered module.

The engine carries the flag on the row and counts the layer as ever; the torch bridge runs the call without
registering a module; each convention counts what its tool sees of a function call. The located errors are
in tests/test_validate.py, and tests/test_conventions_live.py feeds a network of every stateless kind, run
as calls, to the tools themselves.
"""

from __future__ import annotations

import pytest
from clirunner import invoke

from cnncalc.conventions import count_as
from cnncalc.engine.analysis import analyze_text

HEAD = "input: {shape: [3, 8, 8], batch: 2}\nlayers:\n  - {type: conv2d, out: 4, kernel: 3, padding: 1, bias: false}\n"


def network(*layers: str) -> str:
    return HEAD + "".join(f"  - {layer}\n" for layer in layers)


# ----------------------------------------------------------------------------------------------- the engine


def test_the_row_carries_the_flag_and_the_same_figures():
    called = analyze_text(network("{name: act, type: relu, functional: true}", "{type: flatten}"))
    module = analyze_text(network("{name: act, type: relu}", "{type: flatten}"))
    assert [row.functional for row in called.layers] == [False, True, False]
    assert not any(row.functional for row in module.layers)
    for a, b in zip(called.layers, module.layers, strict=True):
        assert (a.output_shape, a.params, a.buffers, a.macs) == (b.output_shape, b.params, b.buffers, b.macs)
    assert called.totals == module.totals


def test_repeats_and_blocks_keep_the_flag_on_their_layers():
    text = (
        "input: {shape: [3, 8, 8]}\n"
        "blocks:\n  unit:\n    layers:\n"
        "      - {name: conv, type: conv2d, out: 3, kernel: 1}\n"
        "      - {name: act, type: relu, functional: true}\n"
        "layers:\n"
        "  - {name: stage, block: unit, repeat: 2}\n"
        "  - {name: pool, type: adaptive_avgpool, output_size: 1, functional: true, repeat: 2}\n"
    )
    flags = {row.path: row.functional for row in analyze_text(text).layers}
    assert flags == {
        "stage.0.conv": False,
        "stage.0.act": True,
        "stage.1.conv": False,
        "stage.1.act": True,
        "pool.0": True,
        "pool.1": True,
    }


def test_a_stateless_norm_may_be_a_call_a_norm_with_weights_may_not():
    ok = network("{type: layernorm, dims: 3, elementwise_affine: false, functional: true}")
    assert analyze_text(ok).layers[-1].functional
    refused = network("{type: layernorm, dims: 3, functional: true}")
    with pytest.raises(Exception, match="needs a layer without parameters or buffers; this layernorm has 512"):
        analyze_text(refused)


def test_json_lists_the_flag_of_each_layer(spec_file):
    path = spec_file(network("{name: act, type: relu, functional: true}", "{name: flat, type: flatten}"))
    document = invoke("analyze", str(path), "--format", "json").json()
    assert [layer["functional"] for layer in document["layers"]] == [False, True, False]


def test_a_collapsed_row_is_functional_when_all_its_layers_are(spec_file):
    text = (
        "input: {shape: [3, 8, 8]}\nlayers:\n"
        "  - {name: tail, layers: [{type: relu, functional: true}, {type: flatten, functional: true}]}\n"
        "  - {name: head, layers: [{type: linear, out: 4}, {type: relu, functional: true}]}\n"
    )
    document = invoke("analyze", str(spec_file(text)), "--format", "json", "--depth", "1").json()
    assert {layer["name"]: layer["functional"] for layer in document["layers"]} == {"tail": True, "head": False}


def test_validate_accepts_the_zoo_and_its_calls():
    outcome = invoke("validate", "densenet121", "vit_b_16")
    assert outcome.code == 0, outcome.stderr


# ------------------------------------------------------------------------------------------- the conventions

# One ReLU on a 2 x 4 x 8 x 8 map (512 elements), as a module and as F.relu.
RELU = 2 * 4 * 8 * 8


@pytest.mark.parametrize(
    ("convention", "as_module", "as_call"),
    [
        ("torchinfo", 0, 0),  # parameter-free modules count 0 anyway
        ("thop", 0, 0),  # no rule for ReLU modules
        ("fvcore", 0, 0),  # no handle for aten::relu
        ("torch", 0, 0),
        ("ptflops", RELU // 2 + RELU, RELU),  # hook (one image) + patched F.relu (whole batch); the call alone
        ("deepspeed", RELU, RELU),  # F.relu either way
        ("calflops", RELU, RELU),
    ],
)
def test_relu_as_each_tool_sees_it(convention, as_module, as_call):
    conv = count_as(analyze_text(HEAD), convention).headline
    module = count_as(analyze_text(network("{type: relu}")), convention).headline
    call = count_as(analyze_text(network("{type: relu, functional: true}")), convention).headline
    assert (module - conv, call - conv) == (as_module, as_call)


@pytest.mark.parametrize(
    ("convention", "as_module", "as_call"),
    [
        ("thop", (2 * 2 + 1) * 2 * 4 * 4 * 4, 0),  # its hook: (window + 1) x output numel; a call has none
        ("ptflops", RELU // 2 + RELU, RELU),
        ("fvcore", RELU, RELU),  # aten::adaptive_avg_pool2d: input numel, module or not
        ("deepspeed", RELU, RELU),
        ("torchinfo", 0, 0),
    ],
)
def test_adaptive_average_pool_as_each_tool_sees_it(convention, as_module, as_call):
    pool = "{type: adaptive_avgpool, output_size: 4%s}"
    conv = count_as(analyze_text(HEAD), convention).headline
    module = count_as(analyze_text(network(pool % "")), convention).headline
    call = count_as(analyze_text(network(pool % ", functional: true")), convention).headline
    assert (module - conv, call - conv) == (as_module, as_call)


@pytest.mark.parametrize("convention", ["ptflops", "deepspeed", "calflops"])
def test_relu6_as_a_call_is_f_relu6_which_the_patching_tools_count(convention):
    # nn.ReLU6 runs F.hardtanh, which no tool patches; written as a function it is F.relu6, which they do.
    conv = count_as(analyze_text(HEAD), convention).headline
    call = count_as(analyze_text(network("{type: relu6, functional: true}")), convention).headline
    assert call - conv == RELU


def test_the_breakdown_still_adds_up():
    from cnncalc.conventions import count_all
    from cnncalc.conventions.breakdown import differences

    result = analyze_text(network("{type: relu, functional: true}", "{type: maxpool, kernel: 2, functional: true}"))
    for count in count_all(result):
        assert result.totals.macs + sum(differences(count, result.totals.macs).values()) == count.headline


# ---------------------------------------------------------------------------------------------- the bridge


def test_the_bridge_runs_a_call_and_registers_no_module():
    torch = pytest.importorskip("torch")
    from cnncalc.bridge.module import build_module

    text = network(
        "{name: act, type: relu, functional: true}",
        "{name: drop, type: dropout, p: 0.5, functional: true}",
        "{name: pool, type: adaptive_avgpool, output_size: 1, functional: true}",
        "{name: flat, type: flatten, functional: true}",
        "{name: fc, type: linear, out: 3}",
    )
    called = build_module(analyze_text(text))
    registered = build_module(analyze_text(text.replace(", functional: true", "")))
    assert [name for name, _ in called.named_modules()] == ["", "0", "fc"]
    assert {"act", "drop", "pool", "flat"} <= {name for name, _ in registered.named_modules()}
    assert called.module_names == ["0", None, None, None, None, "fc"]
    registered.load_state_dict(called.state_dict())
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(called(x), registered(x))  # eval: the functional dropout is off too
    fired = []
    for module in called.modules():
        module.register_forward_hook(lambda module, inputs, output: fired.append(type(module).__name__))
    called(x)
    assert fired == ["Conv2d", "Linear", "SpecModule"]  # hooks see the modules, never the calls
    called.train()
    assert called.layers[2].module.training  # F.dropout reads `training`: it follows the network's mode
    called.eval()
    assert not called.layers[2].module.training


def test_a_relu6_call_is_f_relu6(monkeypatch):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from cnncalc.bridge.module import build_module

    calls = []
    relu6 = F.relu6
    monkeypatch.setattr(F, "relu6", lambda x, inplace=False: calls.append(x.shape) or relu6(x, inplace))
    module = build_module(analyze_text(network("{type: relu6, functional: true}")))
    module(torch.zeros(2, 3, 8, 8))
    assert calls == [torch.Size([2, 4, 8, 8])]


@pytest.mark.parametrize("need_weights", [True, False])
def test_attention_is_a_plain_multihead_attention_called_as_torchvision_calls_it(need_weights, monkeypatch):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from cnncalc.bridge.module import build_module

    text = (
        "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: patch_embed, patch: 4, dim: 8}\n"
        f"  - {{name: attention, type: attention, heads: 2, need_weights: {str(need_weights).lower()}}}\n"
    )
    result = analyze_text(text)
    fused = []
    sdpa = F.scaled_dot_product_attention
    monkeypatch.setattr(F, "scaled_dot_product_attention", lambda *a, **k: fused.append(1) or sdpa(*a, **k))
    module = build_module(result)
    assert type(module.attention) is torch.nn.MultiheadAttention  # the class ptflops' hook matches exactly
    module(torch.zeros(1, 3, 8, 8))
    assert bool(fused) is not need_weights
    fused.clear()
    build_module(result, for_counting=True)(torch.zeros(1, 3, 8, 8))  # verify: always the explicit path
    assert not fused
