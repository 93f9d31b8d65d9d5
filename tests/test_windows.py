"""Swin's windowed attention and patch merging: hand-worked rules, the buffers they add (int64 index tables,
reported apart from running statistics), and specs/swin_t.yaml against torchvision's swin_t at two sizes.

The engine tests never import torch. Each figure is worked out beside it; the torch tests compare with
torchvision's own modules (FlopCounterMode, as tests/importer_helpers.py counts it).
"""

from __future__ import annotations

import json
from types import ModuleType

import pytest
import yaml
from clirunner import invoke

from cnncalc.base.errors import SpecError
from cnncalc.engine import analyze_file, analyze_text
from cnncalc.engine.analysis import InputOverrides
from cnncalc.language.zoo import resolve_spec

TO_CHANNELS_LAST = {"type": "permute", "dims": [0, 2, 3, 1]}


def analyze(shape: list[int], layers: list[dict], batch: int = 1, dtype: str = "float32"):
    document = {"input": {"shape": shape, "batch": batch, "dtype": dtype}, "layers": layers}
    return analyze_text(yaml.safe_dump(document, sort_keys=False))


def row_named(result, path: str):
    return next(row for row in result.layers if row.path == path)


# ------------------------------------------------------------------------------------------- the rules


def test_window_attention_pads_the_map_to_whole_windows():
    """(1, 10, 9, 8), 2 heads, windows 4 x 3: 10 rows pad to 12, 9 columns are whole; P = 12 * 9 = 108 padded
    positions, N = 12 tokens per window.
    params = 4 * 8^2 (qkv 3C^2 + proj C^2) + 3 * 8 + 8 (biases) + (2*4 - 1) * (2*3 - 1) * 2 (bias table) = 358
    buffers = N^2 = 144 (int64 relative_position_index)
    MACs = P * (4 C^2 + 2 N C) = 108 * (256 + 192) = 48,384."""
    attention = {"name": "attn", "type": "window_attention", "heads": 2, "window": [4, 3], "shift": [2, 1]}
    result = analyze([8, 10, 9], [TO_CHANNELS_LAST, attention])
    row = row_named(result, "attn")
    assert row.output_shape == (1, 10, 9, 8)
    assert (row.params, row.buffers, row.index_buffers, row.macs) == (358, 144, 144, 48_384)
    assert result.warnings == ()  # both shifts kept: 12 > 4 rows, 9 > 3 columns


def test_a_shift_one_window_covers_is_dropped_at_no_cost():
    """(1, 5, 20, 4), 1 head, 7 x 7 windows shifted by 3: the 5 rows pad to 7, which one window covers, so
    torchvision drops the height shift; 20 columns pad to 21 (3 windows) and keep theirs.
    P = 7 * 21 = 147, N = 49: MACs = 147 * (4 * 16 + 2 * 49 * 4) = 147 * 456 = 67,032;
    params = 4 * 16 + 3 * 4 + 4 + 13 * 13 * 1 = 249; buffers = 49^2 = 2,401. A shift costs nothing."""
    attention = {"name": "attn", "type": "window_attention", "heads": 1, "window": 7}
    shifted = analyze([4, 5, 20], [TO_CHANNELS_LAST, {**attention, "shift": 3}])
    row = row_named(shifted, "attn")
    assert (row.params, row.buffers, row.macs) == (249, 2_401, 67_032)
    assert [issue.message for issue in shifted.warnings] == [
        "attn (window_attention): window_attention: the height shift (3) is dropped: one window (7) covers the "
        "padded height (7)"
    ]
    plain = analyze([4, 5, 20], [TO_CHANNELS_LAST, attention])
    assert row_named(plain, "attn").macs == 67_032 and plain.warnings == ()


def test_patch_merging_pads_odd_sizes():
    """(2, 7, 6, 8): 7 rows pad to 8, giving a 4 x 3 map of 4C = 32 features, projected to 2C = 16.
    params = 2 * 32 (LayerNorm) + 32 * 16 (no bias) = 576; MACs = 2 * 12 * 32 * 16 = 12,288."""
    result = analyze([8, 7, 6], [TO_CHANNELS_LAST, {"name": "merge", "type": "patch_merging"}], batch=2)
    row = row_named(result, "merge")
    assert row.output_shape == (2, 4, 3, 16)
    assert (row.params, row.buffers, row.macs) == (576, 0, 12_288)


def test_the_receptive_field_grows_by_the_window_on_either_side():
    """After a 4x4 stride-4 stem (r = 4, j = 4), a 7 x 7 window reaches 6 tokens on either side: r = 4 + 12 * 4
    = 52, centred, start 0 + 6 * 4 = 24; no unit sees all of it, so it is approximate. Merging 2 x 2 then
    adds (2 - 1) * 4: 56, jump 8."""
    layers = [
        {"type": "conv2d", "out": 6, "kernel": 4, "stride": 4},
        TO_CHANNELS_LAST,
        {"name": "attn", "type": "window_attention", "heads": 2, "window": 7},
        {"name": "merge", "type": "patch_merging"},
    ]
    result = analyze([3, 56, 56], layers)
    attention, merge = row_named(result, "attn").field, row_named(result, "merge").field
    assert [(axis.size, axis.jump, axis.start, axis.exact) for axis in attention] == [(52, 4, 24, False)] * 2
    assert [(axis.size, axis.jump, axis.start) for axis in merge] == [(56, 8, 24)] * 2


@pytest.mark.parametrize(
    ("layer", "message", "hint"),
    [
        ({"heads": 4, "window": 4}, "4 heads do not divide the 6 channels", "pick heads dividing C"),
        ({"heads": 2, "window": 4, "shift": [4, 1]}, "the height shift (4) must be smaller than the window (4)", "//"),
        ({"heads": 2, "window": [4, 4, 4]}, "window has 3 values", "[height, width]"),
    ],
)
def test_bad_window_attention_is_refused_with_its_location(tmp_path, layer, message, hint):
    path = tmp_path / "bad.yaml"
    entry = json.dumps({"type": "window_attention", **layer})
    path.write_text(f"input: {{shape: [6, 8, 8]}}\nlayers:\n  - {{type: permute, dims: [0, 2, 3, 1]}}\n  - {entry}\n")
    result = invoke("analyze", str(path))
    assert result.code == 1
    assert f"bad.yaml:4:5: error: 1 (window_attention): {message}" in result.stderr
    assert hint in result.stderr


def test_window_kinds_need_a_channels_last_map():
    with pytest.raises(SpecError, match=r"patch_merging needs a channels-last map .* got \(1, 4, 16\)"):
        analyze([4, 16], [{"type": "patch_merging"}])
    # a channels-first image is read by position as PyTorch reads it, with a warning
    result = analyze([6, 8, 8], [{"type": "window_attention", "heads": 2, "window": 4}])
    assert "has its channels at axis 1" in result.warnings[0].message
    assert "dims: [0, 2, 3, 1]" in result.warnings[0].hint


# ------------------------------------------------------------------------------------ buffers by role


def test_buffers_say_which_are_running_statistics_and_which_index_tables(tmp_path):
    """A BatchNorm over 8 channels (16 running statistics) and a window attention of 3 x 3 windows (81 index
    entries), in float16: the statistics take 2 bytes each, the int64 index entries 8."""
    spec = {
        "input": {"shape": [3, 6, 6], "dtype": "float16"},
        "layers": [
            {"name": "conv", "type": "conv2d", "out": 8, "kernel": 3, "padding": 1},
            {"name": "bn", "type": "batchnorm2d"},
            {"name": "to_last", **TO_CHANNELS_LAST},
            {"name": "attn", "type": "window_attention", "heads": 2, "window": 3},
        ],
    }
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = invoke("analyze", str(path), "--format", "json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    totals = document["totals"]
    assert (totals["buffers"], totals["running_stat_buffers"], totals["index_buffers"]) == (97, 16, 81)
    assert totals["buffer_bytes"] == 16 * 2 + 81 * 8
    layers = {layer["name"]: layer for layer in document["layers"]}
    assert (layers["bn"]["running_stat_buffers"], layers["bn"]["index_buffers"]) == (16, 0)
    assert (layers["attn"]["running_stat_buffers"], layers["attn"]["index_buffers"]) == (0, 81)
    text = invoke("analyze", str(path)).stdout
    assert "Buffers            97 (16 running statistics, 81 int64 index entries)" in text


def test_swin_t_buffers_are_index_tables_and_resnet18s_running_statistics():
    import cnncalc

    swin = cnncalc.analyze("swin_t").totals
    assert (swin.buffers, swin.running_stat_buffers, swin.index_buffers) == (28_812, 0, 28_812)  # 12 x 49^2
    assert swin.buffer_bytes == 28_812 * 8
    resnet = cnncalc.analyze("resnet18").totals
    assert (resnet.buffers, resnet.running_stat_buffers, resnet.index_buffers) == (9_600, 9_600, 0)
    assert resnet.buffer_bytes == 9_600 * 4


# ------------------------------------------------------------------------------------- the zoo's swin_t


def test_swin_t_counts_as_torchvision_publishes_it():
    """torchvision 0.28's Swin_T_Weights: 28,288,354 params, 4.491 GFLOPS (MACs); exactly 4,490,566,656."""
    result = analyze_file(resolve_spec("swin_t"))
    assert (result.totals.params, result.totals.macs) == (28_288_354, 4_490_566_656)
    assert result.output_shape == (1, 1000)
    assert result.warnings == ()


@pytest.mark.parametrize(("size", "flops"), [((224, 224), 8_981_133_312), ((231, 197), 10_268_758_272)])
def test_swin_t_equals_torchvisions_model(torchvision: ModuleType, size: tuple[int, int], flops: int):
    """At 231 x 197 the stem gives 57 x 49 tokens: every stage pads to whole 7 x 7 windows (57 -> 63, 29 -> 35,
    25 -> 28, 15 -> 21, 13 -> 14, 8 -> 14), patch merging pads 57, 49, 29, 25, 15 and 13 by one, and the last
    stage's 7 columns are one window, so the shifted block drops its width shift."""
    from importer_helpers import module_figures, spec_figures

    from cnncalc.bridge.verify import verify

    result = analyze_file(resolve_spec("swin_t"), InputOverrides(shape=(3, *size)))
    figures = spec_figures(result)
    assert figures == module_figures(torchvision.models.swin_t(), (1, 3, *size))
    assert figures.flops == flops
    assert verify(result, "meta").ok


def test_the_bridge_computes_what_torchvisions_modules_compute(torchvision: ModuleType):
    """Same state dict, same output: windows with padding, a shift, a shift dropped, odd patch merging."""
    import torch
    from torchvision.models.swin_transformer import PatchMerging as TorchvisionMerging
    from torchvision.models.swin_transformer import ShiftedWindowAttention

    from cnncalc.bridge.window import PatchMerging, WindowAttention

    torch.manual_seed(0)
    for height, width, window, shift in [(10, 9, (4, 3), (2, 1)), (5, 13, (4, 4), (2, 2)), (14, 14, (7, 7), (3, 3))]:
        reference = ShiftedWindowAttention(8, list(window), list(shift), 2).eval()
        ours = WindowAttention(8, window, shift, 2, True, True, 0.0, 0.0).eval()
        ours.load_state_dict(reference.state_dict())
        x = torch.randn(2, height, width, 8)
        assert torch.equal(ours(x), reference(x)), (height, width, window, shift)
    reference_merging = TorchvisionMerging(8).eval()
    merging = PatchMerging(8, 1e-5).eval()
    merging.load_state_dict(reference_merging.state_dict())
    x = torch.randn(2, 7, 6, 8)
    assert torch.equal(merging(x), reference_merging(x))
