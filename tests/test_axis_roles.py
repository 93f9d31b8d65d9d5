"""Axis roles after reshapes, permutes and merges: cnncalc reads axes by position where PyTorch does, tracks
what each axis holds where the operations say it, and never guesses.

Each case is one a user (or a random differential test against PyTorch) ran into: a valid network refused
because an axis role was lost, or a number silently taken from the wrong axis. The engine's figures are exact
integers worked out by hand; `verify` then runs the spec in PyTorch and must agree.
"""

from __future__ import annotations

import pytest
import yaml

from cnncalc.base.errors import SpecError
from cnncalc.engine import analyze_text

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from cnncalc.bridge.verify import verify  # noqa: E402


def analyzed(shape: list[int], layers: list[dict]):
    return analyze_text(yaml.safe_dump({"input": {"shape": shape}, "layers": layers}, sort_keys=False))


def last(result):
    row = result.layers[-1]
    return row.output_shape, row.params, row.macs


def verified(shape: list[int], layers: list[dict]):
    result = analyzed(shape, layers)
    report = verify(result, "cpu")
    assert report.ok, report.mismatches()
    return result


# (input [C, *spatial], layers, output shape, params, MACs of the last layer): PyTorch runs each of these.
ACCEPTED = {
    "conv2d after swapping H and W": (
        [3, 5, 7],
        [{"type": "permute", "dims": [0, 1, 3, 2]}, {"type": "conv2d", "out": 4, "kernel": 3}],
        (1, 4, 5, 3),
        112,
        1620,
    ),
    "conv1d after flatten(2)": (
        [3, 4, 5],
        [{"type": "flatten", "start_dim": 2}, {"type": "conv1d", "out": 2, "kernel": 3}],
        (1, 2, 18),
        20,
        324,
    ),
    "maxpool after flatten(2)": (
        [3, 4, 5],
        [{"type": "flatten", "start_dim": 2}, {"type": "maxpool", "kernel": 2}],
        (1, 3, 10),
        0,
        0,
    ),
    "adaptive_avgpool1d after flatten(2)": (
        [3, 4, 5],
        [{"type": "flatten", "start_dim": 2}, {"type": "adaptive_avgpool1d", "output_size": 4}],
        (1, 3, 4),
        0,
        0,
    ),
    "upsample after flatten(2)": (
        [3, 4, 5],
        [{"type": "flatten", "start_dim": 2}, {"type": "upsample", "scale": 2}],
        (1, 3, 40),
        0,
        0,
    ),
    "batchnorm after flatten(2)": (
        [3, 4, 5],
        [{"type": "flatten", "start_dim": 2}, {"type": "batchnorm"}],
        (1, 3, 20),
        6,
        0,
    ),
    "batchnorm1d on tokens (normalizes the token axis, as PyTorch does)": (
        [3, 8, 8],
        [{"type": "patch_embed", "patch": 4, "dim": 6}, {"type": "batchnorm1d"}],
        (1, 4, 6),
        8,
        0,
    ),
    "channel_split after a permute": (
        [4, 6, 2],
        [{"type": "permute", "dims": [0, 2, 1, 3]}, {"type": "channel_split", "parts": 2, "take": 1}],
        (1, 3, 4, 2),
        0,
        0,
    ),
    "global pool after a permute": (
        [4, 6, 2],
        [{"type": "permute", "dims": [0, 2, 3, 1]}, {"type": "global_avgpool"}],
        (1, 6),
        0,
        0,
    ),
    "attention after a reshape to (batch, tokens, dim)": (
        [16, 4, 4],
        [{"type": "reshape", "shape": [16, 16]}, {"type": "attention", "heads": 4}],
        (1, 16, 16),
        1088,
        24576,
    ),
    "attention on a plain (B, C, L)": (
        [4, 6],
        [{"type": "attention", "heads": 2}],
        (1, 4, 6),
        168,
        768,
    ),
    "class_token on a plain (B, C, L)": ([4, 6], [{"type": "class_token"}], (1, 5, 6), 6, 0),
    "pos_embed on a plain (B, C, L)": ([4, 6], [{"type": "pos_embed"}], (1, 4, 6), 24, 0),
    "take_token on a plain (B, C, L)": ([4, 6], [{"type": "take_token", "index": 1}], (1, 6), 0, 0),
    "pixel_unshuffle after permute, reshape and permute back": (
        [2, 4, 6],
        [
            {"type": "permute", "dims": [0, 2, 3, 1]},
            {"type": "reshape", "shape": [4, 6, 2]},
            {"type": "permute", "dims": [0, 3, 1, 2]},
            {"type": "pixel_unshuffle", "factor": 2},
        ],
        (1, 8, 2, 3),
        0,
        0,
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_valid_layouts_are_accepted_and_match_pytorch(name):
    shape, layers, output, params, macs = ACCEPTED[name]
    assert last(verified(shape, layers)) == (output, params, macs)


def test_layer_scale_after_pos_embed_scales_the_token_width():
    # (1, 7, 2, 4) -> flatten(2) -> (1, 7, 8) -> pos_embed: a (B, N, D) sequence from then on, so the learned
    # scale has D = 8 values (PyTorch's), not the 7 of the axis that held the image's channels.
    result = verified([7, 2, 4], [{"type": "flatten", "start_dim": 2}, {"type": "pos_embed"}, {"type": "layer_scale"}])
    assert last(result) == ((1, 7, 8), 8, 0)


def test_in_channels_follows_the_channels_through_permute_and_reshape():
    # channels-last (1, 2, 4, 16), then H and W merged: (1, 8, 16) -- the 16 channels are still the last axis.
    layers = [
        {"type": "permute", "dims": [0, 2, 3, 1]},
        {"type": "reshape", "shape": [8, 16]},
        {"type": "linear", "out": "in_channels"},
    ]
    assert last(verified([16, 2, 4], layers)) == ((1, 8, 16), 272, 2048)


def test_in_channels_is_refused_where_no_axis_holds_the_channels():
    layers = [{"type": "reshape", "shape": [2, 8, 8]}, {"type": "linear", "out": "in_channels"}]
    with pytest.raises(SpecError) as caught:
        analyzed([16, 2, 4], layers)
    message = str(caught.value)
    assert "in_channels" in message and "not known" in message and "roles" in message


def test_reshape_roles_name_the_axes():
    layers = [
        {"type": "reshape", "shape": [2, 8, 8], "roles": ["other", "other", "channels"]},
        {"type": "linear", "out": "in_channels * 2"},
    ]
    assert last(verified([16, 2, 4], layers)) == ((1, 2, 8, 16), 144, 2048)


def test_reshape_roles_are_checked():
    with pytest.raises(SpecError, match="one role"):
        analyzed([16, 2, 4], [{"type": "reshape", "shape": [2, 8, 8], "roles": ["channels"]}])
    with pytest.raises(SpecError, match="more than one channel axis"):
        analyzed([16, 2, 4], [{"type": "reshape", "shape": [16, 8], "roles": ["channels", "channels"]}])
    with pytest.raises(SpecError, match="roles"):
        analyzed([16, 2, 4], [{"type": "reshape", "shape": [16, 8], "roles": ["channels", "height"]}])


def test_layer_scale_asks_for_dim_where_the_channels_are_unknown():
    with pytest.raises(SpecError, match="dim"):
        analyzed([16, 2, 4], [{"type": "reshape", "shape": [2, 8, 8]}, {"type": "layer_scale"}])
    result = verified([16, 2, 4], [{"type": "reshape", "shape": [2, 8, 8]}, {"type": "layer_scale", "dim": -2}])
    assert last(result) == ((1, 2, 8, 8), 8, 0)


def test_a_merge_of_differently_laid_out_paths_keeps_no_roles():
    # (1, 4, 4, 4): the permuted path's channels are on axis 3, the other's on axis 1; `add` is valid in PyTorch
    # but which axis holds the channels afterwards is not for cnncalc to pick.
    layers = [
        {"name": "a", "type": "identity"},
        {"name": "b", "type": "permute", "dims": [0, 3, 2, 1]},
        {"name": "sum", "type": "add", "from": ["a", "b"]},
        {"type": "linear", "out": "in_channels"},
    ]
    with pytest.raises(SpecError, match="in_channels"):
        analyzed([4, 4, 4], layers)


@pytest.mark.parametrize(
    ("layers", "channel_axis", "fields"),
    [
        # whole axes carried over keep their roles and receptive fields
        ([{"type": "reshape", "shape": [3, 5, 7]}], 1, 2),
        # H and W merged: the channels stay; the merged axis is no spatial axis, so no field is shown
        ([{"type": "reshape", "shape": [3, 35]}], 1, None),
        # channels merged with H: the merged axis holds the channels (as flatten's does)
        ([{"type": "reshape", "shape": [15, 7]}], 1, None),
        # an axis of size 1 inserted: the others carry over
        ([{"type": "reshape", "shape": [1, 3, 5, 7]}], 2, 2),
        # channels and H regrouped as (5, 3): neither output axis is the channel axis
        ([{"type": "reshape", "shape": [5, 3, 7]}], None, None),
        # a permute moves roles (and fields) with the axes
        ([{"type": "permute", "dims": [0, 2, 3, 1]}], 3, 2),
    ],
)
def test_roles_after_reshapes(layers, channel_axis, fields):
    row = analyzed([3, 5, 7], layers).layers[-1]
    assert row.channel_axis == channel_axis
    assert (None if row.field is None else len(row.field)) == fields


def test_the_readme_example_states_what_it_shows():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("### Axis roles") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```", section.index("```yaml\n") + 8)]
    rows = analyze_text(example).layers
    assert [row.kind for row in rows] == ["permute", "reshape", "linear", "reshape", "layer_scale"]
    assert rows[2].params == 16 * 16 + 16  # linear: in_channels = 16
    assert rows[4].params == 16
