"""Property-based check of the engine against PyTorch: random valid specs over every layer kind.

Hypothesis generates YAML specs that are valid by construction: the generator tracks every tensor's shape
(and the axis roles the engine gives it: channel axis, spatial axes) while it picks each layer's fields, so
every field it writes is one the layer accepts for that input. Each spec is analyzed by the pure-arithmetic
engine, built as an `nn.Module` by the torch bridge and run; `verify` must find engine == PyTorch, as exact
integers, for the output shape, parameters, buffers and FLOPs of every node (and the totals).

What the generator covers: every kind in `REGISTRY` and `COMPOSITES` (a test below asserts the set of kinds it
can produce is exactly the registry); 1-d, 2-d and 3-d inputs; strides, dilations, groups, ceil modes;
padding as a number, per axis, per-side pairs, `same` and `valid`, with every padding mode; transposed
convolutions with output_padding; adaptive pools with `null` axes; upsample by scale (floats included) or size in
every mode; pixel (un)shuffle; channel shuffle/split; reshapes, permutes and flattens into other layouts; merges
(add/multiply with broadcasting, concat along any axis, three inputs); residual branches via `from:`; groups;
blocks with args, vars, `when` and `repeat`; a two-input block; frozen entries; stateless layers run as function
calls (`functional: true`); attention with and without `need_weights`; and token sequences for the ViT
kinds.

Sizes stay small on CPU (spatial 1..24, channels 1..16, batch 1..3) so real kernels run fast; a portion runs
on the "meta" device (nothing allocated) with larger sizes.

Configurations PyTorch refuses are never generated (marked "INVALID IN PYTORCH" where the generator avoids
them); the engine refuses them too, which `test_fixed_bug_repros` checks with the minimal reproduction of each
disagreement this test once found.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'cnncalc[torch]'")

from cnncalc.base.errors import SpecError  # noqa: E402
from cnncalc.bridge.verify import verify  # noqa: E402
from cnncalc.engine import analyze_text  # noqa: E402
from cnncalc.engine.result import AnalysisResult  # noqa: E402
from cnncalc.kinds import COMPOSITES, REGISTRY  # noqa: E402

# ------------------------------------------------------------------------------------------- settings

SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
EXAMPLES_PER_KIND = 6  # x 72 kinds = 432 examples, each a spec built around that kind (CPU)
NETWORK_EXAMPLES = 150  # random multi-layer networks with branches, blocks and merges (CPU)
META_EXAMPLES = 100  # larger random networks on the meta device


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Tiny tensors: one intra-op thread is ~15x faster than two on a 2-core runner (no thread hand-off)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------------- tensors and limits


@dataclass(frozen=True)
class Meta:
    """A tensor: shape (batch first), and the roles the engine must give its axes (channel axis, spatial axes).

    PyTorch's layers read axes by position (a conv2d takes any 4-d tensor, attention any 3-d one), so what a
    layer accepts is decided by the shape alone: `channels`, `spatial`, `image` and `tokens` are positional.
    The roles are what cnncalc tracks through reshapes and permutes (never guessing), kept here independently:
    they decide what `in_channels` and a layer_scale without `dim` read, which the tests check.
    """

    shape: tuple[int, ...]
    ch: int | None
    sp: tuple[int, ...]

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def channels(self) -> int:
        """Axis 1, which PyTorch's image layers and channel norms read as channels."""
        return self.shape[1]

    @property
    def spatial(self) -> tuple[int, ...]:
        """Axes 2, 3, ...: what PyTorch's image layers read as spatial."""
        return self.shape[2:]

    @property
    def image(self) -> bool:
        """(B, C, *spatial) by position with 1 to 3 spatial axes: what convolutions and pools take."""
        return 3 <= self.rank <= 5

    @property
    def tokens(self) -> bool:
        """(B, N, D) by position: what the transformer kinds take."""
        return self.rank == 3

    @property
    def in_channels_known(self) -> bool:
        """Whether `in_channels` is axis 1 (an expression may then use it for the positional channels)."""
        return self.ch == 1

    def view(self) -> Meta:
        """The output roles of a layer that reads and writes an image by position: channels 1, spatial 2..."""
        return Meta(self.shape, 1, tuple(range(2, self.rank)))

    def with_shape(self, shape: tuple[int, ...]) -> Meta:
        return Meta(tuple(shape), self.ch, self.sp)


def image(batch: int, channels: int, spatial: tuple[int, ...] | list[int]) -> Meta:
    spatial = tuple(spatial)
    return Meta((batch, channels, *spatial), 1, tuple(range(2, 2 + len(spatial))))


@dataclass(frozen=True)
class Limits:
    device: str
    batch: int  # largest batch
    ch: int  # soft cap on channels and widths the generator writes
    inp: dict[int, int]  # largest input size per axis, by spatial rank
    cap: dict[int, int]  # soft cap on spatial sizes after upsampling layers, by spatial rank
    kernel: int = 5  # largest convolution kernel
    stride: int = 3  # largest convolution stride
    dilation: int = 3  # largest convolution dilation


CPU = Limits("cpu", 3, 16, {1: 24, 2: 24, 3: 8}, {1: 48, 2: 32, 3: 12})
META = Limits("meta", 4, 64, {1: 160, 2: 96, 3: 24}, {1: 320, 2: 160, 3: 40}, kernel=7, stride=4, dilation=4)


def product(values) -> int:
    return math.prod(values)


def divisors(number: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(number) + 1) if number % d == 0]
    return sorted({*small, *(number // d for d in small)})


# -------------------------------------------------------- PyTorch's size formulas (written independently)


def conv_out(size: int, kernel: int, stride: int, left: int, right: int, dilation: int) -> int:
    return (size + left + right - dilation * (kernel - 1) - 1) // stride + 1


def tf_same(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME (PyTorch's 'same' for stride 1): ceil(n / s) outputs, the extra pixel on the right."""
    total = max((math.ceil(size / stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def pool_out(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span
    if ceil_mode:
        out = -(-numerator // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return numerator // stride + 1


def transposed_out(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + shape for shape in shapes]
    out = []
    for sizes in zip(*padded, strict=True):
        big = {size for size in sizes if size != 1}
        assert len(big) <= 1, shapes
        out.append(big.pop() if big else 1)
    return tuple(out)


# ------------------------------------------------------------------------------------------ generation


class G:
    """Draws from hypothesis, within the limits of one test."""

    def __init__(self, draw, lim: Limits) -> None:
        self.draw = draw
        self.lim = lim

    def int(self, low: int, high: int) -> int:
        assert low <= high, (low, high)
        return low if low == high else self.draw(st.integers(low, high))

    def bool(self) -> bool:
        return self.draw(st.booleans())

    def pick(self, options):
        options = list(options)
        assert options
        return options[0] if len(options) == 1 else self.draw(st.sampled_from(options))

    def rare(self) -> bool:
        """True about one time in eight (a middle value: hypothesis favours the ends of a range)."""
        return self.int(0, 7) == 3

    def field(self, entry: dict, key: str, value: Any, default: Any, written: Any = None) -> None:
        """Write `key` (as `written`, by default `value`) when `value` is not PyTorch's default, and now and then
        when it is: a spec may spell a default out."""
        if value != default or self.bool():
            entry[key] = value if written is None else written


def axes(g: G, bounds: list[tuple[int, int]]):
    """A per-axis field, written as one number for every axis or as a list; returns (written, per-axis values)."""
    low = max(b[0] for b in bounds)
    high = min(b[1] for b in bounds)
    if low <= high and g.bool():
        value = g.int(low, high)
        return value, (value,) * len(bounds)
    values = [g.int(a, b) for a, b in bounds]
    return values, tuple(values)


class Net:
    """The spec being generated: top-level entries (every one named), blocks, vars, and each name's tensor."""

    def __init__(self, g: G, x: Meta) -> None:
        self.g = g
        self.input = x
        self.entries: list[dict] = []
        self.blocks: dict[str, dict] = {}
        self.vars: dict[str, object] = {}
        self.metas: dict[str, Meta] = {"input": x}
        self.name = "input"
        self.count = 0
        self.nodes = 0  # layers the engine should expand the entries to
        self.expected_params: dict[str, int] = {}  # layer_scale entries: what PyTorch's scale holds

    @property
    def meta(self) -> Meta:
        return self.metas[self.name]

    def fresh(self) -> str:
        self.count += 1
        # Now and then a name that clashes with an nn.Module attribute, which the bridge must rename.
        if self.g.rare():
            special = self.g.pick(["type", "forward", "training", "eval", "weight", "bias", "layers"])
            if special not in self.metas:
                return special
        return f"n{self.count}"

    def add(self, entry: dict, meta: Meta, src: str | list[str] | None = None, nodes: int | None = None) -> str:
        """Append a named entry producing `meta`; `nodes`: the layers it expands to (counted here unless a block)."""
        name = self.fresh()
        full = {"name": name}
        if src is not None:
            full["from"] = src
        elif self.g.rare():
            full["from"] = self.name  # the default, written out
        full.update(entry)
        if full.get("type") == "layer_scale" and "when" not in full:
            source = self.metas[src] if isinstance(src, str) else self.meta
            self.expected_params[name] = layer_scale_params(full, source)
        if self.g.rare() and "when" not in full:
            full["frozen"] = True
        if self.g.rare() and full.get("type") in STATELESS:
            full["functional"] = True  # a function call in forward: the bridge registers no module
        self.entries.append(full)
        self.nodes += count_nodes(full) if nodes is None else nodes
        self.metas[name] = meta
        self.name = name
        return name

    def text(self) -> str:
        x = self.input
        document: dict = {"name": "property"}
        spec_input: dict = {"shape": [x.shape[1], *x.shape[2:]]}
        if x.batch != 1 or self.g.bool():
            spec_input["batch"] = x.batch
        if self.g.rare():
            spec_input["dtype"] = self.g.pick(["float16", "bfloat16", "float64"])
        document["input"] = spec_input
        if self.vars:
            document["vars"] = self.vars
        if self.blocks:
            document["blocks"] = self.blocks
        document["layers"] = self.entries
        return yaml.safe_dump(document, sort_keys=False)


def count_nodes(entry: dict) -> int:
    """How many layer rows an entry (not a block use) expands to."""
    if entry.get("when", True) in FALSE_WHEN:
        return 0
    if "layers" in entry:
        count = sum(count_nodes(inner) for inner in entry["layers"])
    else:
        count = 2 if entry["type"] == "separable" else 1
    return entry.get("repeat", 1) * count


# Kinds that never hold parameters or buffers, which may be function calls (`functional: true`).
STATELESS = {
    name
    for name, kind in REGISTRY.items()
    if kind.family in {"reshape", "activation", "regularization", "merge", "pooling", "resampling", "channels"}
} - {"prelu"} | {"identity", "take_token"}

Make = Callable[[G, Meta], tuple[dict, Meta]]
FALSE_WHEN = [False, "in_channels < 0", "in_features > 1000000"]  # `when` values that skip an entry


@dataclass(frozen=True)
class Kind:
    """How to generate one layer kind: when it applies, and either `make` (one entry) or `emit` (several)."""

    applies: Callable[[Meta], bool]
    make: Make | None = None
    emit: Callable[[G, Net], None] | None = None
    prepare: Callable[[G, Net], None] | None = None  # helper layers before it, in the per-kind test
    ranks: tuple[int, ...] = (1, 2, 3)  # spatial ranks of the input in the per-kind test


def any_tensor(x: Meta) -> bool:
    return True


def is_image(rank: int | None = None) -> Callable[[Meta], bool]:
    return lambda x: x.image and (rank is None or x.rank - 2 == rank)


# --- convolutions ----------------------------------------------------------------------------------


def conv_geometry(g: G, x: Meta) -> tuple[dict, tuple[int, ...], list[tuple[int, int]]]:
    """kernel, stride, padding (any form) and dilation for a convolution on image x; the output spatial sizes."""
    sizes = x.spatial
    rank = len(sizes)
    cap = g.lim.cap[rank]
    kernel_max = g.lim.kernel
    dilation_field, dilation = axes(g, [(1, g.lim.dilation)] * rank)
    stride_field, stride = axes(g, [(1, g.lim.stride)] * rank)
    room = [max(0, min(3, (cap - size) // 2)) for size in sizes]
    form = g.pick(["default", "int", "axis", "pairs", "same", "valid"])
    fields: dict = {}
    pads: list[tuple[int, int]] = [(0, 0)] * rank
    if form == "valid":
        fields["padding"] = "valid"
    elif form == "int":
        pad = g.int(0, min(room))
        pads = [(pad, pad)] * rank
        fields["padding"] = pad
    elif form == "axis":
        values = [g.int(0, r) for r in room]
        pads = [(v, v) for v in values]
        fields["padding"] = values
    elif form == "pairs":
        written: list = []
        pads = []
        for r in room:
            if g.bool():
                pad = g.int(0, r)
                written.append(pad)
                pads.append((pad, pad))
            else:
                left, right = g.int(0, r), g.int(0, r)
                written.append([left, right])
                pads.append((left, right))
        fields["padding"] = written
    if form == "same":
        kernel_field, kernel = axes(g, [(1, kernel_max)] * rank)
        pads = [tf_same(n, k, s, d) for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)]
        fields["padding"] = "same"
    else:
        bounds = [
            (1, min(kernel_max, (n + left + right - 1) // d + 1))
            for n, (left, right), d in zip(sizes, pads, dilation, strict=True)
        ]
        kernel_field, kernel = axes(g, bounds)
    out = tuple(
        conv_out(n, k, s, left, right, d)
        for n, k, s, (left, right), d in zip(sizes, kernel, stride, pads, dilation, strict=True)
    )
    assert min(out) >= 1
    geometry = {"kernel": kernel_field}
    g.field(geometry, "stride", stride, (1,) * rank, stride_field)
    geometry.update(fields)
    g.field(geometry, "dilation", dilation, (1,) * rank, dilation_field)
    return geometry, out, pads


def padding_mode(g: G, sizes: tuple[int, ...], pads: list[tuple[int, int]]) -> str:
    """A padding mode PyTorch accepts for these pads: reflect needs pad < size, circular pad <= size."""
    mode = g.pick(["zeros", "zeros", "reflect", "replicate", "circular"])
    widest = [max(pair) for pair in pads]
    if mode == "reflect" and any(w >= n for w, n in zip(widest, sizes, strict=True)):
        return "zeros"
    if mode == "circular" and any(w > n for w, n in zip(widest, sizes, strict=True)):
        return "zeros"
    return mode


def out_channels(g: G, x: Meta, groups: int) -> tuple[int | str, int]:
    """A channel count that is a multiple of groups; sometimes written as an expression of in_channels."""
    count = groups * g.int(1, max(1, g.lim.ch // groups))
    in_channels = x.channels
    if x.in_channels_known and count % in_channels == 0 and g.rare():
        return f"in_channels * {count // in_channels}", count
    return count, count


def make_conv(kind: str) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        geometry, out, pads = conv_geometry(g, x)
        channels = x.channels
        groups = g.pick(divisors(channels)) if g.bool() else 1
        written, count = out_channels(g, x, groups)
        entry = {"type": kind, "out": written, **geometry}
        g.field(entry, "groups", groups, 1)
        if g.bool():
            entry["bias"] = g.bool()
        mode = padding_mode(g, x.spatial, pads)
        if mode != "zeros" or g.rare():
            entry["padding_mode"] = mode
        return entry, image(x.batch, count, out)

    return make


def make_depthwise(g: G, x: Meta) -> tuple[dict, Meta]:
    geometry, out, pads = conv_geometry(g, x)
    multiplier = g.int(1, max(1, min(3, g.lim.ch // x.channels)))
    entry = {"type": "depthwise", **geometry}
    g.field(entry, "multiplier", multiplier, 1)
    if g.bool():
        entry["bias"] = g.bool()
    # INVALID IN PYTORCH (depthwise-padding-mode): reflect/circular pads too large for the input;
    # padding_mode() only writes modes PyTorch accepts.
    mode = padding_mode(g, x.spatial, pads)
    if mode != "zeros":
        entry["padding_mode"] = mode
    return entry, image(x.batch, x.channels * multiplier, out)


def make_pointwise(g: G, x: Meta) -> tuple[dict, Meta]:
    rank = x.rank - 2
    stride_field, stride = axes(g, [(1, 3)] * rank)
    groups = g.pick(divisors(x.channels)) if g.bool() else 1
    written, count = out_channels(g, x, groups)
    entry = {"type": "pointwise", "out": written}
    g.field(entry, "stride", stride, (1,) * rank, stride_field)
    g.field(entry, "groups", groups, 1)
    if g.bool():
        entry["bias"] = g.bool()
    out = tuple((n - 1) // s + 1 for n, s in zip(x.spatial, stride, strict=True))
    return entry, image(x.batch, count, out)


def make_separable(g: G, x: Meta) -> tuple[dict, Meta]:
    geometry, out, _ = conv_geometry(g, x)
    multiplier = g.int(1, max(1, min(3, g.lim.ch // x.channels)))
    count = g.int(1, g.lim.ch)
    entry = {"type": "separable", "out": count, **geometry}
    g.field(entry, "multiplier", multiplier, 1)
    if g.bool():
        entry["bias"] = g.bool()
    return entry, image(x.batch, count, out)


def make_transposed(kind: str) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        sizes = x.spatial
        rank = len(sizes)
        cap = g.lim.cap[rank]
        stride_field, stride = axes(g, [(1, 3 if n == 1 else max(1, min(3, (cap - 6) // (n - 1)))) for n in sizes])
        dilation_field, dilation = axes(g, [(1, 2)] * rank)
        kernel_field, kernel = axes(g, [(1, 4)] * rank)
        extra_field, extra = axes(g, [(0, max(s, d) - 1) for s, d in zip(stride, dilation, strict=True)])
        pad_bounds = [
            (0, min(3, ((n - 1) * s + d * (k - 1) + e) // 2))
            for n, s, d, k, e in zip(sizes, stride, dilation, kernel, extra, strict=True)
        ]
        pad_field, pad = axes(g, pad_bounds)
        out = tuple(transposed_out(*values) for values in zip(sizes, kernel, stride, pad, extra, dilation, strict=True))
        channels = x.channels
        groups = g.pick(divisors(channels)) if g.bool() else 1
        count = groups * g.int(1, max(1, g.lim.ch // groups))
        entry = {"type": kind, "out": count, "kernel": kernel_field, "stride": stride_field}
        g.field(entry, "padding", pad, (0,) * rank, pad_field)
        g.field(entry, "output_padding", extra, (0,) * rank, extra_field)
        g.field(entry, "dilation", dilation, (1,) * rank, dilation_field)
        g.field(entry, "groups", groups, 1)
        if g.bool():
            entry["bias"] = g.bool()
        return entry, image(x.batch, count, out)

    return make


# --- pooling ---------------------------------------------------------------------------------------


def make_pool(kind: str, dilated: bool) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        sizes = x.spatial
        rank = len(sizes)
        entry: dict = {"type": kind}
        dilation_field, dilation = (None, (1,) * rank)
        if dilated and g.bool():
            dilation_field, dilation = axes(g, [(1, 2)] * rank)
        # PyTorch: pad <= kernel // 2, and the padded input must hold one (dilated) window.
        kernel_max = [
            max(k for k in range(1, 5) if d * (k - 1) + 1 <= n + 2 * (k // 2))
            for n, d in zip(sizes, dilation, strict=True)
        ]
        if not dilated and rank == 3:
            # INVALID IN PYTORCH (avgpool3d-kernel-vs-input): PyTorch's avg_pool3d also needs input >= kernel on every
            # axis, before padding.
            kernel_max = [min(k, n) for k, n in zip(kernel_max, sizes, strict=True)]
        kernel_field, kernel = axes(g, [(1, k) for k in kernel_max])
        pad_bounds = [
            (max(0, -(-(d * (k - 1) + 1 - n) // 2)), k // 2) for n, k, d in zip(sizes, kernel, dilation, strict=True)
        ]
        pad_field, pad = axes(g, pad_bounds)
        entry["kernel"] = kernel_field
        if g.bool():
            stride_field, stride = axes(g, [(1, 3)] * rank)
            entry["stride"] = stride_field
        else:
            stride = kernel
        g.field(entry, "padding", pad, (0,) * rank, pad_field)
        if dilation_field is not None:
            entry["dilation"] = dilation_field
        ceil_mode = g.bool()
        if ceil_mode or g.bool():
            entry["ceil_mode"] = ceil_mode
        if not dilated:
            if g.bool():
                entry["count_include_pad"] = g.bool()
            if g.rare() and rank > 1:  # AvgPool1d has no divisor_override
                entry["divisor_override"] = g.int(1, 5)
        out = tuple(
            pool_out(n, k, s, p, d, ceil_mode)
            for n, k, s, p, d in zip(sizes, kernel, stride, pad, dilation, strict=True)
        )
        assert min(out) >= 1
        return entry, image(x.batch, x.channels, out)

    return make


def make_adaptive(kind: str) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        sizes = x.spatial
        cap = g.lim.cap[len(sizes)]
        if g.bool():
            size = g.int(1, min(cap, max(sizes) + 2))
            return {"type": kind, "output_size": size}, image(x.batch, x.channels, (size,) * len(sizes))
        written: list = []
        out = []
        for n in sizes:
            if g.bool():
                written.append(None)  # null keeps the axis
                out.append(n)
            else:
                size = g.int(1, min(cap, n + 2))
                written.append(size)
                out.append(size)
        return {"type": kind, "output_size": written}, image(x.batch, x.channels, out)

    return make


def make_global(kind: str) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        keepdim = g.bool()
        entry = {"type": kind}
        if keepdim or g.bool():
            entry["keepdim"] = keepdim
        if keepdim:
            return entry, image(x.batch, x.channels, (1,) * len(x.spatial))
        return entry, Meta((x.batch, x.channels), 1, ())

    return make


# --- resampling and channels -----------------------------------------------------------------------

# INVALID IN PYTORCH (upsample-mode-rank): PyTorch's linear needs 1 spatial axis,
# bilinear/bicubic 2, trilinear 3. Only modes valid for the input are generated.
UPSAMPLE_MODES = {
    1: ["nearest", "nearest-exact", "linear"],
    2: ["nearest", "nearest-exact", "bilinear", "bicubic"],
    3: ["nearest", "nearest-exact", "trilinear"],
}
SCALES = [0.5, 0.7, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]


def make_upsample(g: G, x: Meta) -> tuple[dict, Meta]:
    sizes = x.spatial
    rank = len(sizes)
    cap = g.lim.cap[rank]
    mode = g.pick(UPSAMPLE_MODES[rank])
    entry: dict = {"type": "upsample"}
    if g.bool():
        size_field, out = axes(g, [(1, min(cap, 2 * n + 1)) for n in sizes])
        entry["size"] = size_field
    else:

        def scale_choices(n: int) -> list[float]:
            return [s for s in SCALES if math.floor(n * s) >= 1 and (s <= 1 or math.floor(n * s) <= cap)]

        def any_scale(n: int) -> float:
            if g.int(0, 2) == 0:  # an arbitrary float: the output is floor(n * scale) in double precision
                low = 1.0 / n
                high = max(low, min(3.0, cap / n))
                scale = g.draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
                if 1 <= math.floor(n * scale) <= max(cap, n):
                    return scale
            return g.pick(scale_choices(n))

        if g.bool():
            common = [s for s in SCALES if all(s in scale_choices(n) for n in sizes)]
            scale = g.pick(common) if g.bool() else any_scale(min(sizes))
            if all(math.floor(float(n) * scale) >= 1 for n in sizes):
                entry["scale"] = scale
                scales = [scale] * rank
            else:
                scales = [g.pick(common)] * rank
                entry["scale"] = scales[0]
        else:
            scales = [any_scale(n) for n in sizes]
            entry["scale"] = scales
        out = tuple(math.floor(float(n) * s) for n, s in zip(sizes, scales, strict=True))
    g.field(entry, "mode", mode, "nearest")
    if mode not in ("nearest", "nearest-exact") and g.bool():
        entry["align_corners"] = g.bool()
    return entry, image(x.batch, x.channels, out)


def make_pixel_shuffle(g: G, x: Meta) -> tuple[dict, Meta]:
    factor = g.pick([r for r in (1, 2, 3) if x.channels % (r * r) == 0])
    h, w = x.spatial
    return {"type": "pixel_shuffle", "factor": factor}, image(
        x.batch, x.channels // factor**2, (h * factor, w * factor)
    )


def make_pixel_unshuffle(g: G, x: Meta) -> tuple[dict, Meta]:
    h, w = x.spatial
    factor = g.pick([r for r in (1, 2, 3) if h % r == 0 and w % r == 0])
    return {"type": "pixel_unshuffle", "factor": factor}, image(
        x.batch, x.channels * factor**2, (h // factor, w // factor)
    )


def make_channel_shuffle(g: G, x: Meta) -> tuple[dict, Meta]:
    return {"type": "channel_shuffle", "groups": g.pick(divisors(x.channels))}, x


def make_channel_split(g: G, x: Meta) -> tuple[dict, Meta]:
    channels = x.channels
    if g.bool():
        parts = g.pick(divisors(channels))
        sizes = [channels // parts] * parts
        entry: dict = {"type": "channel_split", "parts": parts}
    else:
        count = g.int(1, min(4, channels))
        cuts = []
        if count > 1:
            cuts = sorted(g.draw(st.sets(st.integers(1, channels - 1), min_size=count - 1, max_size=count - 1)))
        bounds = [0, *cuts, channels]
        sizes = [b - a for a, b in itertools.pairwise(bounds)]
        entry = {"type": "channel_split", "sizes": sizes}
    take = g.int(0, len(sizes) - 1)
    if take or g.bool():
        entry["take"] = take
    return entry, x.with_shape((x.batch, sizes[take], *x.shape[2:]))


# --- normalization ---------------------------------------------------------------------------------

# INVALID IN PYTORCH (norm-rank-6): no torch BatchNorm/InstanceNorm module takes a rank-6 tensor.
# Only ranks 2..5 (instancenorm 3..5) are generated.
BATCHNORM_RANKS = {"batchnorm": (2, 3, 4, 5), "batchnorm1d": (2, 3), "batchnorm2d": (4,), "batchnorm3d": (5,)}


def values_per_channel(x: Meta) -> int:
    """How many values BatchNorm sees per channel (batch x the axes after the channels)."""
    return x.batch * product(x.shape[2:])


def make_batchnorm(kind: str) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        entry: dict = {"type": kind}
        if g.bool():
            entry["affine"] = g.bool()
        track = g.bool() or values_per_channel(x) == 1
        # Without running statistics PyTorch normalizes by the batch statistics even in eval mode, and refuses
        # a single value per channel ("Expected more than 1 value per channel when training").
        if not track or g.bool():
            entry["track_running_stats"] = track
        if g.rare():
            entry["eps"] = 1e-3
        if g.rare():
            entry["momentum"] = g.pick([None, 0.01])
        return entry, x

    return make


def make_layernorm(g: G, x: Meta) -> tuple[dict, Meta]:
    entry: dict = {"type": "layernorm"}
    if g.bool():
        entry["channels_first"] = True
    else:
        dims = g.int(1, min(3, x.rank - 1))
        g.field(entry, "dims", dims, 1)
    if g.bool():
        entry["elementwise_affine"] = g.bool()
    if g.bool():
        entry["bias"] = g.bool()
    return entry, x


def groupnorm_applies(x: Meta) -> bool:
    return x.rank >= 2 and x.channels * values_per_channel(x) > 1


def make_groupnorm(g: G, x: Meta) -> tuple[dict, Meta]:
    # PyTorch refuses a group holding a single value (batch 1, one channel per group, 1x1 map): "Expected more
    # than 1 value per channel when training", even in eval mode.
    groups = [d for d in divisors(x.channels) if values_per_channel(x) * (x.channels // d) > 1]
    entry: dict = {"type": "groupnorm", "groups": g.pick(groups)}
    if g.bool():
        entry["affine"] = g.bool()
    return entry, x


def make_instancenorm(g: G, x: Meta) -> tuple[dict, Meta]:
    entry: dict = {"type": "instancenorm"}
    if g.bool():
        entry["affine"] = g.bool()
    # Without running statistics PyTorch needs more than one spatial element ("Expected more than 1 spatial
    # element when training"), even in eval mode.
    track = g.bool() or product(x.shape[2:]) == 1
    if track or g.bool():
        entry["track_running_stats"] = track
    return entry, x


# --- activations and other shape-preserving layers -------------------------------------------------


def make_simple(kind: str, options: Callable[[G, Meta], dict] | None = None) -> Make:
    def make(g: G, x: Meta) -> tuple[dict, Meta]:
        entry = {"type": kind}
        if options is not None:
            entry.update(options(g, x))
        if kind == "pos_embed":  # a (B, N, D) sequence from then on, whatever the axes held before
            return entry, Meta(x.shape, 2, ())
        return entry, x

    return make


def layer_scale_options(g: G, x: Meta) -> dict:
    """`dim` where the engine cannot know the channel axis (it must refuse a layer_scale without), and now and
    then elsewhere, as a number from either end."""
    options: dict = {"init": 0.5} if g.bool() else {}
    if x.ch is None or g.bool():
        axis = g.int(1, x.rank - 1)
        options["dim"] = axis - x.rank if g.bool() else axis
    return options


def layer_scale_params(entry: dict, x: Meta) -> int:
    """What PyTorch's learned scale holds: one value per entry of the axis it scales."""
    axis = entry["dim"] % x.rank if "dim" in entry else x.ch
    assert axis is not None
    return x.shape[axis]


def inplace(g: G, x: Meta) -> dict:
    return {"inplace": g.bool()} if g.bool() else {}


SIMPLE_OPTIONS: dict[str, Callable[[G, Meta], dict] | None] = {
    "relu": inplace,
    "relu6": inplace,
    "silu": inplace,
    "mish": inplace,
    "hardsigmoid": inplace,
    "hardswish": inplace,
    "sigmoid": None,
    "tanh": None,
    "identity": None,
    "leaky_relu": lambda g, x: {"negative_slope": g.pick([0.01, 0.2]), **inplace(g, x)},
    "elu": lambda g, x: {"alpha": g.pick([1.0, 0.5]), **inplace(g, x)},
    "gelu": lambda g, x: {"approximate": g.pick(["none", "tanh"])} if g.bool() else {},
    "hardtanh": lambda g, x: {"min_val": -2.0, "max_val": g.pick([0.5, 2.0]), **inplace(g, x)},
    "softmax": lambda g, x: {"dim": g.int(-x.rank, x.rank - 1)} if x.rank > 2 or g.bool() else {},
    "prelu": lambda g, x: {"per_channel": g.bool(), "init": 0.1} if g.bool() else {},
    "dropout": lambda g, x: {"p": g.pick([0.0, 0.1, 0.5]), **inplace(g, x)},
    "stochastic_depth": lambda g, x: {"p": g.pick([0.0, 0.2]), "mode": g.pick(["row", "batch"])},
    "layer_scale": lambda g, x: layer_scale_options(g, x),
}


# --- linear and reshaping --------------------------------------------------------------------------


def make_linear(g: G, x: Meta) -> tuple[dict, Meta]:
    count = g.int(1, g.lim.ch)
    entry: dict = {"type": "linear", "out": count}
    if g.bool():
        entry["bias"] = g.bool()
    # On a spatial last axis it mixes that axis's positions, which stays an axis (the engine keeps it spatial).
    return entry, Meta((*x.shape[:-1], count), x.ch, x.sp)


def make_uncounted(g: G, x: Meta) -> tuple[dict, Meta]:
    """What `import --allow-uncounted` writes: the traced shape (here the input's, so the axes keep their roles),
    with parameters and buffers it reads, and no work."""
    entry: dict = {
        "type": "uncounted",
        "op": "torch.roll",
        "shape": list(x.shape[1:]),
        "traced_inputs": [list(x.shape[1:])],
    }
    if g.bool():
        entry["params"] = g.int(1, 50)
    if g.bool():
        entry["buffers"] = g.int(1, 50)
    return entry, x


def make_mlp(g: G, x: Meta) -> tuple[dict, Meta]:
    hidden = g.int(1, 2 * g.lim.ch)
    entry: dict = {"type": "mlp", "hidden": hidden}
    width = x.shape[-1]
    out = width
    if g.bool():
        out = g.int(1, g.lim.ch)
        entry["out"] = out
    if g.bool():
        entry["activation"] = g.pick(["gelu", "relu", "silu", "tanh"])
    if g.bool():
        entry["bias"] = g.bool()
    if g.rare():
        entry["dropout"] = 0.1
    return entry, x.with_shape((*x.shape[:-1], out))


def make_flatten(g: G, x: Meta) -> tuple[dict, Meta]:
    rank = x.rank
    start = g.int(1, rank - 1)
    end = g.int(start, rank - 1)
    entry: dict = {"type": "flatten"}
    if start != 1 or g.bool():
        entry["start_dim"] = start - rank if g.bool() else start
    if end != rank - 1 or g.bool():
        entry["end_dim"] = end - rank if g.bool() else end
    return entry, flattened(x, start, end)


def flattened(x: Meta, start: int, end: int) -> Meta:
    """Axes start..end merged: the merged axis holds the channels if they are among them; spatial roles survive
    only if no spatial axis was merged."""
    shape = (*x.shape[:start], product(x.shape[start : end + 1]), *x.shape[end + 1 :])
    removed = end - start

    def moved(axis: int) -> int:
        return axis if axis < start else axis - removed

    spatial = tuple(moved(axis) for axis in x.sp if not start <= axis <= end)
    ch = x.ch if x.ch is None else (start if start <= x.ch <= end else moved(x.ch))
    if len(spatial) != len(x.sp):
        spatial = ()  # spatial axes merged away: no spatial structure left
    return Meta(shape, ch, spatial)


def make_reshape(g: G, x: Meta) -> tuple[dict, Meta]:
    remaining = product(x.shape[1:])
    count = g.int(1, 5)  # up to (B, C, 4 more axes): beyond what convolutions take
    sizes = []
    for _ in range(count - 1):
        size = g.pick([d for d in divisors(remaining) if d <= 64])
        sizes.append(size)
        remaining //= size
    sizes.append(remaining)
    written = list(sizes)
    if g.bool():
        written[g.int(0, count - 1)] = -1
    return reshaped(g, x, written, sizes)


def reshaped(g: G, x: Meta, written: list[int], sizes: list[int]) -> tuple[dict, Meta]:
    """A reshape entry to `sizes` (written as `written`), sometimes naming its axes' roles."""
    shape = (x.batch, *sizes)
    entry: dict = {"type": "reshape", "shape": written}
    if g.rare():
        roles = [g.pick(["spatial", "other"]) for _ in sizes]
        if g.bool():
            roles[g.int(0, len(sizes) - 1)] = "channels"
        entry["roles"] = roles
        channel = roles.index("channels") + 1 if "channels" in roles else None
        return entry, Meta(shape, channel, tuple(i for i, role in enumerate(roles, start=1) if role == "spatial"))
    return entry, Meta(shape, *reshape_roles(x, shape))


def reshape_roles(x: Meta, shape: tuple[int, ...]) -> tuple[int | None, tuple[int, ...]]:
    """The roles after a reshape, worked out from where each axis starts and ends in the flat (row-major) order:
    an output axis spanning exactly one input axis of size > 1 is that axis; one spanning several holds the
    channels if they are among them; axes of size 1 carry their role only to an axis of size 1 at the same
    place. Split axes hold no role."""

    def spans(sizes: tuple[int, ...]) -> list[tuple[int, int]]:
        start, result = 1, []
        for size in sizes[1:]:
            result.append((start, start * size))
            start *= size
        return result

    old, new = spans(x.shape), spans(shape)
    channel, spatial = None, []
    used: set[int] = set()
    for j, (begin, end) in enumerate(new, start=1):
        if begin == end:  # size 1: the first unused input axis of size 1 at the same boundary
            match = next((i for i, span in enumerate(old, start=1) if span == (begin, end) and i not in used), None)
            inside = [] if match is None else [match]
            if match is not None:
                used.add(match)
        else:
            inside = [i for i, (b, e) in enumerate(old, start=1) if b != e and begin <= b and e <= end]
            if not inside or old[inside[0] - 1][0] != begin or old[inside[-1] - 1][1] != end:
                continue  # the output axis splits an input axis
        if len(inside) == 1 and inside[0] in x.sp:
            spatial.append(j)
        if x.ch in inside:
            channel = j
    return channel, tuple(spatial)


def make_permute(g: G, x: Meta) -> tuple[dict, Meta]:
    rest = g.draw(st.permutations(list(range(1, x.rank))))
    dims = [0, *rest]
    return {"type": "permute", "dims": dims}, permuted(x, dims)


def permuted(x: Meta, dims: list[int]) -> Meta:
    """x with its axes in the order `dims` (output axis i is input axis dims[i]): every axis keeps its role."""
    position = {old: new for new, old in enumerate(dims)}
    shape = tuple(x.shape[axis] for axis in dims)
    ch = None if x.ch is None else position[x.ch]
    return Meta(shape, ch, tuple(position[axis] for axis in x.sp))


def make_transpose(g: G, x: Meta) -> tuple[dict, Meta]:
    rank = len(x.shape)
    first = g.int(1, rank - 1)
    second = g.pick([axis for axis in range(1, rank) if axis != first] or [first])  # (B, F): swaps F with itself
    dims = list(range(rank))
    dims[first], dims[second] = dims[second], dims[first]
    position = {old: new for new, old in enumerate(dims)}
    shape = tuple(x.shape[axis] for axis in dims)
    ch = None if x.ch is None else position[x.ch]
    negative = g.bool()  # torch numbers axes from the end too
    entry = {"type": "transpose", "dim0": first - rank if negative else first, "dim1": second}
    return entry, Meta(shape, ch, tuple(position[axis] for axis in x.sp))


# --- transformer -----------------------------------------------------------------------------------


def make_patch_embed(g: G, x: Meta) -> tuple[dict, Meta]:
    patch_field, patch = axes(g, [(1, min(4, n)) for n in x.spatial])
    dim = g.int(1, g.lim.ch)
    entry: dict = {"type": "patch_embed", "patch": patch_field, "dim": dim}
    if g.bool():
        entry["bias"] = g.bool()
    tokens = product(n // p for n, p in zip(x.spatial, patch, strict=True))
    return entry, Meta((x.batch, tokens, dim), 2, ())


def make_class_token(g: G, x: Meta) -> tuple[dict, Meta]:
    return {"type": "class_token"}, Meta((x.batch, x.shape[1] + 1, x.shape[2]), 2, ())


def make_attention(g: G, x: Meta) -> tuple[dict, Meta]:
    entry: dict = {"type": "attention", "heads": g.pick([h for h in divisors(x.shape[2]) if h <= 8])}
    if g.bool():
        entry["bias"] = g.bool()
    if g.rare():
        entry["dropout"] = 0.1
    if g.bool():
        entry["need_weights"] = g.bool()  # false as torchvision calls it: verify still runs the explicit path
    return entry, Meta(x.shape, 2, ())


def make_take_token(g: G, x: Meta) -> tuple[dict, Meta]:
    tokens = x.shape[1]
    index = g.int(-tokens, tokens - 1)
    entry: dict = {"type": "take_token"}
    if index or g.bool():
        entry["index"] = index
    return entry, Meta((x.batch, x.shape[2]), 1, ())


# --- shape-preserving entries (residual branches, repeats) -----------------------------------------


def preserving_entry(g: G, x: Meta) -> tuple[dict, Meta]:
    """One layer entry whose output has the same shape as x (its axes' roles may change: a conv's output is an
    image whatever its input's roles were)."""
    options = ["simple", "layernorm", "mlp"]
    if groupnorm_applies(x):
        options.append("groupnorm")
    if 2 <= x.rank <= 5:
        options.append("batchnorm")
    if 3 <= x.rank <= 5:
        options += ["instancenorm", "channel_shuffle"]
    if x.image:
        options += ["conv", "depthwise", "pointwise", "pool", "resize", "transposed"]
    if x.tokens:
        options += ["attention", "pos_embed"]
    choice = g.pick(options)
    rank = x.rank - 2
    image_out = x.view()  # what a layer that reads an image by position outputs
    if choice == "simple":
        kind = g.pick(sorted(SIMPLE_OPTIONS))
        return make_simple(kind, SIMPLE_OPTIONS[kind])(g, x)
    if choice == "mlp":
        entry, _ = make_mlp(g, x)
        if "out" in entry:
            entry["out"] = x.shape[-1]
        return entry, x
    if choice == "conv":
        groups = g.pick(divisors(x.channels))
        width = g.pick([x.channels, "in_channels"]) if x.in_channels_known else x.channels
        entry = {"type": "conv", "out": width, "groups": groups}
        if g.bool():
            entry.update(kernel=g.int(1, 5), padding="same", dilation=g.int(1, 2))
        else:
            kernel, dilation = g.pick([1, 3, 5]), g.int(1, 2)
            entry.update(kernel=kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        return entry, image_out
    if choice == "depthwise":
        return {"type": "depthwise", "kernel": g.int(1, 4), "padding": "same"}, image_out
    if choice == "pointwise":
        return {"type": "pointwise", "out": x.channels}, image_out
    if choice == "pool":
        kind = g.pick(["maxpool", "avgpool", f"maxpool{rank}d", f"avgpool{rank}d"])
        kernel = 3
        if kind.startswith("avg") and rank == 3 and min(x.spatial) < 3:
            kernel = 1  # INVALID IN PYTORCH (avgpool3d-kernel-vs-input), see make_pool
        return {"type": kind, "kernel": kernel, "stride": 1, "padding": kernel // 2, "ceil_mode": g.bool()}, image_out
    if choice == "resize":
        if g.bool():
            return {"type": "upsample", "size": list(x.spatial), "mode": g.pick(UPSAMPLE_MODES[rank])}, image_out
        return {"type": g.pick(["adaptive_avgpool", "adaptive_maxpool"]), "output_size": list(x.spatial)}, image_out
    if choice == "transposed":
        return {"type": "conv_transpose", "out": x.channels, "kernel": 3, "padding": 1}, image_out
    make = {
        "layernorm": make_layernorm,
        "groupnorm": make_groupnorm,
        "batchnorm": make_batchnorm("batchnorm"),
        "instancenorm": make_instancenorm,
        "channel_shuffle": make_channel_shuffle,
        "attention": make_attention,
        "pos_embed": make_simple("pos_embed"),
    }[choice]
    return make(g, x)


def preserving_chain(g: G, x: Meta, count: int) -> tuple[list[dict], Meta]:
    entries = []
    for _ in range(count):
        entry, x = preserving_entry(g, x)
        entries.append(entry)
    return entries, x


# --- merges ----------------------------------------------------------------------------------------


def merged_meta(metas: list[Meta], shape: tuple[int, ...]) -> Meta:
    """Axis roles of a merge: from an input of full rank, preferably one of exactly the output shape; none when
    the inputs of full rank disagree (a permuted path added to an unpermuted one: the engine picks neither)."""
    full = [m for m in metas if m.rank == len(shape)]
    if len({(m.ch, m.sp) for m in full}) > 1:
        return Meta(shape, None, ())
    template = next((m for m in full if m.shape == shape), full[0])
    return Meta(shape, template.ch, template.sp)


def branch(g: G, net: Net, src: str) -> str:
    """A shape-preserving branch from src: a group (a residual path), one layer, or src itself."""
    x = net.metas[src]
    how = g.pick(["group", "layer", "self"])
    if how == "self":
        return src
    if how == "layer":
        entry, meta = preserving_entry(g, x)
        return net.add(entry, meta, src=src)
    entries, meta = preserving_chain(g, x, g.int(1, 3))
    if g.rare():  # a name inside the group that clashes with an nn.Module attribute
        entries[0] = {"name": g.pick(["forward", "weight", "type", "eval"]), **entries[0]}
    return net.add({"layers": entries}, meta, src=src)


def emit_elementwise(kind: str) -> Callable[[G, Net], None]:
    def emit(g: G, net: Net) -> None:
        src = net.name
        x = net.meta
        ways = ["residual"]
        if x.image:
            ways += ["gate", "cross", "channel_gate"]
        if x.tokens and x.batch == 1:
            ways.append("token")
        way = g.pick(ways)
        if way == "residual":
            inputs = [src, branch(g, net, src)]
            if g.rare():
                inputs.append(branch(g, net, src))
        elif way == "gate":  # squeeze-and-excitation: (B, C, 1, ...) broadcast over space
            pooled = image(x.batch, x.channels, (1,) * len(x.spatial))
            gate = net.add({"type": "global_avgpool", "keepdim": True}, pooled, src=src)
            if g.bool():
                gate = net.add({"type": "pointwise", "out": x.channels}, pooled)
                gate = net.add({"type": "sigmoid"}, pooled)
            inputs = [src, gate]
        elif way == "channel_gate":  # (B, 1, *spatial) broadcast over channels
            one = image(x.batch, 1, x.spatial)
            inputs = [src, net.add({"type": "pointwise", "out": 1}, one, src=src)]
        elif way == "cross":  # (B, C, H, 1) with (B, C, 1, W): each broadcasts along the other's axis
            axis = g.int(0, len(x.spatial) - 1)
            first = [n if i == axis else 1 for i, n in enumerate(x.spatial)]
            second = [1 if i == axis else n for i, n in enumerate(x.spatial)]
            a = net.add({"type": "adaptive_avgpool", "output_size": first}, image(x.batch, x.channels, first), src=src)
            b = net.add(
                {"type": "adaptive_maxpool", "output_size": second}, image(x.batch, x.channels, second), src=src
            )
            inputs = [a, b]
        else:  # (1, D) + (1, N, D): ranks differ, broadcast from the right
            inputs = [src, net.add(make_take_token(g, x)[0], Meta((1, x.shape[2]), 1, ()), src=src)]
        if g.bool():
            inputs.reverse()
        metas = [net.metas[name] for name in inputs]
        shape = broadcast([m.shape for m in metas])
        net.add({"type": kind}, merged_meta(metas, shape), src=inputs)

    return emit


def emit_concat(g: G, net: Net) -> None:
    src = net.name
    x = net.meta
    if x.image and g.bool():  # along channels: 1x1 / same-padded convolutions of different widths
        inputs = []
        for _ in range(g.int(2, 3)):
            count = g.int(1, g.lim.ch)
            if g.bool():
                entry = {"type": "pointwise", "out": count}
            else:
                entry = {"type": "conv", "out": count, "kernel": g.int(1, 4), "padding": "same"}
            inputs.append(net.add(entry, image(x.batch, count, x.spatial), src=src))
        dim = g.pick([1, 1 - x.rank])
    elif x.image and g.bool():  # along a spatial axis: the other path pooled to another size on that axis
        axis = g.int(0, len(x.spatial) - 1)
        size = g.int(1, x.spatial[axis] + 2)
        sizes = [size if i == axis else n for i, n in enumerate(x.spatial)]
        pooled = net.add({"type": "adaptive_maxpool", "output_size": sizes}, image(x.batch, x.channels, sizes), src=src)
        inputs = [src, pooled]
        dim = g.pick([2 + axis, 2 + axis - x.rank])
    else:  # any tensor with a same-shape branch, along any non-batch axis
        inputs = [src, branch(g, net, src)]
        dim = g.int(1, x.rank - 1)
        if g.bool():
            dim -= x.rank
    if g.bool():
        inputs.reverse()
    metas = [net.metas[name] for name in inputs]
    axis = dim % x.rank
    shape = tuple(sum(m.shape[axis] for m in metas) if i == axis else n for i, n in enumerate(metas[0].shape))
    entry: dict = {"type": "concat"}
    g.field(entry, "dim", dim, 1)
    net.add(entry, merged_meta(metas, shape), src=inputs)


# --- structures: blocks, repeats, skipped entries ----------------------------------------------------


def emit_block(g: G, net: Net) -> None:
    """A ResNet-style block (args, vars, `when`-gated projection shortcut and norm), used with `repeat`."""
    x = net.meta
    name = f"res{len(net.blocks)}"
    kernel, dilation, groups = g.pick([1, 3, 5]), g.int(1, 2), g.pick([1, 2, 4])
    pad = dilation * (kernel - 1) // 2
    net.blocks[name] = {
        "args": {"width": None, "stride": 1, "norm": True},
        "vars": {"project": "stride != 1 or in_channels != width"},
        "layers": [
            {"name": "conv1", "type": "conv", "out": "width", "kernel": kernel, "stride": "stride", "padding": pad,
             "dilation": dilation, "bias": False},
            {"name": "bn1", "type": "batchnorm", "when": "norm"},
            {"name": "act1", "type": "relu"},
            {"name": "conv2", "type": "conv", "out": "width", "kernel": kernel, "padding": pad, "dilation": dilation,
             "groups": f"{groups} if width % {groups} == 0 else 1"},
            {"name": "shortcut", "from": "input", "when": "project", "layers": [
                {"type": "conv", "out": "width", "kernel": 1, "stride": "stride", "bias": False},
                {"type": "batchnorm", "when": "norm"},
            ]},
            {"name": "add", "type": "add", "from": ["conv2", "shortcut"]},
            {"name": "act2", "type": "relu"},
        ],
    }  # fmt: skip
    width = g.int(1, g.lim.ch)
    stride = g.int(1, 2)
    args: dict = {"width": width, "stride": f"{stride} if index == 0 else 1"}
    if g.bool():
        net.vars[f"width{len(net.vars)}"] = width
        args["width"] = f"width{len(net.vars) - 1}"
    if g.bool():
        args["norm"] = g.bool()
    entry: dict = {"block": name, "args": args}
    repeat = g.int(1, 3)
    if repeat > 1 or g.bool():
        entry["repeat"] = repeat
    out = tuple((n - 1) // stride + 1 for n in x.spatial)
    norm = args.get("norm", True)
    nodes = 0
    for index in range(repeat):  # conv1, bn1?, act1, conv2, shortcut (conv, bn?) when projecting, add, act2
        project = index == 0 and (stride != 1 or x.channels != width)  # later copies: stride 1, width in and out
        nodes += 5 + norm + project * (1 + norm)
    net.add(entry, image(x.batch, width, out), nodes=nodes)


def emit_fuse(g: G, net: Net) -> None:
    """A two-input block (`inputs: [x, skip]`): concat, then a 1x1 projection."""
    src = net.name
    x = net.meta
    net.blocks["fuse"] = {
        "args": {"width": None},
        "inputs": ["x", "skip"],
        "output": "project",
        "layers": [
            {"name": "cat", "type": "concat", "from": ["x", "skip"]},
            {"name": "project", "type": "pointwise", "out": "width"},
            {"name": "act", "type": "relu"},
        ],
    }
    other = branch(g, net, src)
    width = g.int(1, g.lim.ch)
    net.add(
        {"block": "fuse", "from": [src, other], "args": {"width": width}}, image(x.batch, width, x.spatial), nodes=3
    )


def emit_repeat(g: G, net: Net) -> None:
    """One shape-preserving entry repeated; the conv variant widens its dilation with `index`."""
    meta = net.meta
    if meta.image and meta.in_channels_known and g.bool():
        entry = {"type": "conv", "out": "in_channels", "kernel": 3, "dilation": "1 + index", "padding": "1 + index"}
    else:
        entry, meta = preserving_entry(g, meta)  # attention moves the channel axis: do it once more, no change
    entry["repeat"] = g.int(2, 3)
    net.add(entry, meta)


def emit_skipped(g: G, net: Net) -> None:
    """An entry whose `when` is false: skipped, its name stands for its input."""
    x = net.meta
    kinds = [k for k in SINGLE if KINDS[k].applies(x)]
    entry, _ = KINDS[g.pick(kinds)].make(g, x)
    entry["when"] = g.pick(FALSE_WHEN if x.ch is not None else [w for w in FALSE_WHEN if "in_channels" not in str(w)])
    net.add(entry, x)
    if g.bool():  # and a layer whose `when` holds
        entry, meta = preserving_entry(g, x)
        entry["when"] = g.pick([True, "in_channels >= 1"] if x.ch is not None else [True])
        net.add(entry, meta)


STRUCTURES: dict[str, tuple[Callable[[Meta], bool], Callable[[G, Net], None]]] = {
    "block": (lambda x: x.image and x.in_channels_known, emit_block),
    "fuse": (is_image(), emit_fuse),
    "repeat": (any_tensor, emit_repeat),
    "skipped": (any_tensor, emit_skipped),
}


# --- per-kind test setup -----------------------------------------------------------------------------


def commit(net: Net, steps: list[tuple[dict, Meta]]) -> None:
    for entry, meta in steps:
        net.add(entry, meta)


def to_tokens(g: G, net: Net) -> None:
    """Image to a (B, N, D) sequence: a patch embedding, or flatten(2) (then maybe a transpose), maybe a class token."""
    x = net.meta
    way = g.int(0, 3)
    if way == 0:
        commit(net, [make_patch_embed(g, x)])
    elif way == 1:  # flatten(2): (B, C, L), channels on axis 1; the token kinds read it as (B, N, D) all the same
        seq = Meta((x.batch, x.channels, product(x.spatial)), 1, ())
        net.add({"type": "flatten", "start_dim": 2}, seq)
        if g.bool():
            net.add({"type": "permute", "dims": [0, 2, 1]}, Meta((x.batch, seq.shape[2], x.channels), 2, ()))
    elif way == 2:  # channels-last, then the positions merged by a reshape: (B, H*W, C), channels kept
        last = [0, *range(2, x.rank), 1]
        net.add({"type": "permute", "dims": last}, permuted(x, last))
        commit(net, [reshaped(g, net.meta, [-1, x.channels], [product(x.spatial), x.channels])])
    else:  # any (B, N, D) of the same elements
        total = product(x.shape[1:])
        tokens = g.pick([d for d in divisors(total) if d <= 64])
        commit(net, [reshaped(g, x, [tokens, -1], [tokens, total // tokens])])
    if g.bool():
        commit(net, [make_class_token(g, net.meta)])


def vary_layout(applies: Callable[[Meta], bool]) -> Callable[[G, Net], None]:
    """Before a layer that takes many layouts: maybe move to tokens, a vector, channels-last or a reshape."""

    def prepare(g: G, net: Net) -> None:
        x = net.meta
        layouts: list[list[tuple[dict, Meta]]] = [[]]
        layouts.append([make_global("global_avgpool")(g, x)])
        layouts.append([make_patch_embed(g, x)])
        last = [0, *range(2, x.rank), 1]
        layouts.append([({"type": "permute", "dims": last}, permuted(x, last))])
        layouts.append([make_reshape(g, x)])
        layouts.append([make_flatten(g, x)])
        choices = [steps for steps in layouts if applies(steps[-1][1] if steps else x)]
        commit(net, choices[g.int(0, len(choices) - 1)])

    return prepare


def scramble(g: G, net: Net) -> None:
    """Before a layer that reads an image by position: change what its axes hold without changing the shape the
    layer sees, as PyTorch code does (a permute of the spatial axes, a channels-last round trip through a reshape,
    flatten(2) and a reshape back), so that roles are reordered or lost; the layer must still be accepted."""
    x = net.meta
    if not x.image:
        return
    way = g.int(0, 3)
    if way == 1:  # the spatial axes reordered (and back or not): roles move with them
        dims = [0, 1, *g.draw(st.permutations(list(range(2, x.rank))))]
        net.add({"type": "permute", "dims": dims}, permuted(x, dims))
        if g.bool():
            back = [dims.index(axis) for axis in range(x.rank)]
            net.add({"type": "permute", "dims": back}, permuted(net.meta, back))
    elif way == 2:  # channels-last, then viewed as the original shape: the values move, the roles are lost
        last = [0, *range(2, x.rank), 1]
        net.add({"type": "permute", "dims": last}, permuted(x, last))
        commit(net, [reshaped(g, net.meta, list(x.shape[1:]), list(x.shape[1:]))])
    elif way == 3:  # flatten(2), then a reshape back: the channel axis is kept, the spatial roles are not
        net.add({"type": "flatten", "start_dim": 2}, flattened(x, 2, x.rank - 1))
        commit(net, [reshaped(g, net.meta, list(x.shape[1:]), list(x.shape[1:]))])


def scramble_or_flatten(rank: int | None) -> Callable[[G, Net], None]:
    """`scramble`, or flatten(2) of a map with more spatial axes (valid for a layer of `rank` spatial axes when
    the result has that many, or for a rank-free one), so the layer reads (B, C, H*W) by position."""

    def prepare(g: G, net: Net) -> None:
        x = net.meta
        if x.image and x.rank >= 4 and (rank is None or rank == 1) and (rank == 1 or g.bool()):
            net.add({"type": "flatten", "start_dim": 2}, flattened(x, 2, x.rank - 1))
        scramble(g, net)

    return prepare


def then(*steps: Callable[[G, Net], None] | None) -> Callable[[G, Net], None]:
    def prepare(g: G, net: Net) -> None:
        for step in steps:
            if step is not None:
                step(g, net)

    return prepare


def to_channels(counts: Callable[[G], int], always: bool = False) -> Callable[[G, Net], None]:
    """A pointwise conv to an interesting channel count (composite, a multiple of r^2, ...), or nothing."""

    def prepare(g: G, net: Net) -> None:
        if always or g.bool():
            x = net.meta
            count = counts(g)
            net.add({"type": "pointwise", "out": count}, image(x.batch, count, x.spatial))

    return prepare


def to_multiple_sizes(g: G, net: Net) -> None:
    """Adaptive pooling to sizes divisible by a random factor, for pixel_unshuffle."""
    if g.bool():
        x = net.meta
        factor = g.int(2, 3)
        sizes = [factor * g.int(1, 4), factor * g.int(1, 4)]
        net.add({"type": "adaptive_avgpool2d", "output_size": sizes}, image(x.batch, x.channels, sizes))


def maybe_vector(g: G, net: Net) -> None:
    if g.bool():
        commit(net, [make_global("global_maxpool")(g, net.meta)])
        if net.meta.rank != 2:  # keepdim: flatten it
            x = net.meta
            net.add({"type": "flatten"}, Meta((x.batch, x.channels), 1, ()))


# --- the kind table ----------------------------------------------------------------------------------

KINDS: dict[str, Kind] = {}

# Layers that read an image by position get inputs whose axes were permuted, reshaped or flattened first
# (`scramble`); those of one spatial rank also a 2-d map flattened to (B, C, H*W) (`flat` for 1-d).
flat = scramble_or_flatten(1)
KINDS["conv"] = Kind(is_image(), make_conv("conv"), prepare=scramble)
KINDS["depthwise"] = Kind(is_image(), make_depthwise, prepare=scramble)
KINDS["pointwise"] = Kind(is_image(), make_pointwise, prepare=scramble)
KINDS["separable"] = Kind(is_image(), make_separable, prepare=scramble)
KINDS["conv_transpose"] = Kind(is_image(), make_transposed("conv_transpose"), prepare=scramble)
for _family, _make in (("maxpool", lambda k: make_pool(k, True)), ("avgpool", lambda k: make_pool(k, False))):
    KINDS[_family] = Kind(is_image(), _make(_family), prepare=scramble)
for _rank in (1, 2, 3):
    _ranks = (1, 2) if _rank == 1 else (_rank,)
    _prepare = flat if _rank == 1 else scramble
    KINDS[f"conv{_rank}d"] = Kind(is_image(_rank), make_conv(f"conv{_rank}d"), prepare=_prepare, ranks=_ranks)
    KINDS[f"conv_transpose{_rank}d"] = Kind(
        is_image(_rank), make_transposed(f"conv_transpose{_rank}d"), prepare=_prepare, ranks=_ranks
    )
    KINDS[f"maxpool{_rank}d"] = Kind(
        is_image(_rank), make_pool(f"maxpool{_rank}d", True), prepare=_prepare, ranks=_ranks
    )
    KINDS[f"avgpool{_rank}d"] = Kind(
        is_image(_rank), make_pool(f"avgpool{_rank}d", False), prepare=_prepare, ranks=_ranks
    )
for _mode in ("avg", "max"):
    KINDS[f"adaptive_{_mode}pool"] = Kind(is_image(), make_adaptive(f"adaptive_{_mode}pool"), prepare=scramble)
    for _rank in (1, 2, 3):
        _kind = f"adaptive_{_mode}pool{_rank}d"
        KINDS[_kind] = Kind(
            is_image(_rank),
            make_adaptive(_kind),
            prepare=flat if _rank == 1 else scramble,
            ranks=(1, 2) if _rank == 1 else (_rank,),
        )
    KINDS[f"global_{_mode}pool"] = Kind(is_image(), make_global(f"global_{_mode}pool"), prepare=scramble)
KINDS["upsample"] = Kind(is_image(), make_upsample, prepare=scramble_or_flatten(None))
KINDS["pixel_shuffle"] = Kind(
    is_image(2),
    make_pixel_shuffle,
    prepare=then(to_channels(lambda g: g.int(2, 3) ** 2 * g.int(1, 3)), scramble),
    ranks=(2,),
)
KINDS["pixel_unshuffle"] = Kind(
    is_image(2), make_pixel_unshuffle, prepare=then(to_multiple_sizes, scramble), ranks=(2,)
)
# INVALID IN PYTORCH (channel-shuffle-2d): PyTorch's channel_shuffle needs > 2 dims.
KINDS["channel_shuffle"] = Kind(
    lambda x: x.rank >= 3, make_channel_shuffle, prepare=then(to_channels(lambda g: g.pick([4, 6, 8, 12])), scramble)
)
KINDS["channel_split"] = Kind(lambda x: x.rank >= 2, make_channel_split, prepare=vary_layout(lambda x: x.rank >= 2))
for _kind, _ranks in BATCHNORM_RANKS.items():
    KINDS[_kind] = Kind(
        lambda x, ranks=_ranks: x.rank in ranks,
        make_batchnorm(_kind),
        prepare={
            "batchnorm": then(maybe_vector, scramble_or_flatten(None)),
            "batchnorm1d": then(maybe_vector, flat),
        }.get(_kind, scramble),
        ranks={"batchnorm1d": (1, 2), "batchnorm2d": (2,), "batchnorm3d": (3,)}.get(_kind, (1, 2, 3)),
    )
KINDS["layernorm"] = Kind(any_tensor, make_layernorm, prepare=vary_layout(any_tensor))
KINDS["groupnorm"] = Kind(
    groupnorm_applies,
    make_groupnorm,
    prepare=then(to_channels(lambda g: g.pick([2, 4, 6, 8, 12, 16]), always=True), scramble),
)
# INVALID IN PYTORCH (instancenorm-2d): no InstanceNorm takes a (B, C) tensor.
# INVALID IN PYTORCH (norm-rank-6): nor rank 6, see BATCHNORM_RANKS.
KINDS["instancenorm"] = Kind(lambda x: 3 <= x.rank <= 5, make_instancenorm, prepare=scramble)
for _kind, _options in SIMPLE_OPTIONS.items():
    KINDS[_kind] = Kind(any_tensor, make_simple(_kind, _options), prepare=vary_layout(any_tensor))
KINDS["linear"] = Kind(any_tensor, make_linear, prepare=vary_layout(any_tensor))
KINDS["uncounted"] = Kind(any_tensor, make_uncounted)
KINDS["mlp"] = Kind(any_tensor, make_mlp, prepare=vary_layout(any_tensor))
KINDS["flatten"] = Kind(any_tensor, make_flatten, prepare=vary_layout(any_tensor))
KINDS["reshape"] = Kind(any_tensor, make_reshape, prepare=vary_layout(any_tensor))
KINDS["permute"] = Kind(any_tensor, make_permute, prepare=vary_layout(any_tensor))
KINDS["transpose"] = Kind(any_tensor, make_transpose, prepare=vary_layout(any_tensor))
KINDS["patch_embed"] = Kind(is_image(), make_patch_embed, prepare=scramble)
KINDS["class_token"] = Kind(lambda x: x.tokens, make_class_token, prepare=to_tokens)
KINDS["pos_embed"] = Kind(lambda x: x.tokens, make_simple("pos_embed"), prepare=to_tokens)
KINDS["attention"] = Kind(lambda x: x.tokens, make_attention, prepare=to_tokens)
KINDS["take_token"] = Kind(lambda x: x.tokens, make_take_token, prepare=to_tokens)
KINDS["add"] = Kind(any_tensor, emit=emit_elementwise("add"), prepare=vary_layout(any_tensor))
KINDS["multiply"] = Kind(any_tensor, emit=emit_elementwise("multiply"), prepare=vary_layout(any_tensor))
KINDS["concat"] = Kind(any_tensor, emit=emit_concat, prepare=vary_layout(any_tensor))


# --- Swin's windowed kinds on channels-last maps (B, H, W, C) ----------------------------------------------


def is_channels_last_map(x: Meta) -> bool:
    """Any 4-d tensor, read by position as (B, H, W, C) as torchvision's Swin modules do."""
    return x.rank == 4


def to_channels_last_map(g: G, net: Net) -> None:
    """A 2-d image permuted to (B, H, W, C), maybe first given a channel count several head counts divide."""
    if g.bool():
        x = net.meta
        count = g.pick([4, 6, 8, 12])
        net.add({"type": "pointwise", "out": count}, image(x.batch, count, x.spatial))
    x = net.meta
    net.add({"type": "permute", "dims": [0, 2, 3, 1]}, Meta((x.batch, *x.spatial, x.channels), 3, (1, 2)))


def make_window_attention(g: G, x: Meta) -> tuple[dict, Meta]:
    """Windows smaller than the map, not dividing it (padding), or larger (one window, shift dropped)."""
    _, height, width, channels = x.shape
    window = [g.int(1, size + 2) for size in (min(height, 6), min(width, 6))]
    shift = [g.int(0, side - 1) for side in window]
    entry: dict = {"type": "window_attention", "heads": g.pick([h for h in divisors(channels) if h <= 8])}
    entry["window"] = window[0] if window[0] == window[1] and g.bool() else window
    if any(shift):
        entry["shift"] = shift[0] if shift[0] == shift[1] and g.bool() else shift
    for field in ("qkv_bias", "proj_bias"):
        if g.bool():
            entry[field] = g.bool()
    if g.rare():
        entry["attention_dropout"] = 0.1
    return entry, Meta(x.shape, 3, (1, 2))


def make_patch_merging(g: G, x: Meta) -> tuple[dict, Meta]:
    batch, height, width, channels = x.shape
    entry: dict = {"type": "patch_merging"}
    if g.rare():
        entry["eps"] = 1e-6
    return entry, Meta((batch, -(-height // 2), -(-width // 2), 2 * channels), 3, (1, 2))


KINDS["window_attention"] = Kind(
    is_channels_last_map, make_window_attention, prepare=then(to_channels_last_map, scramble), ranks=(2,)
)
KINDS["patch_merging"] = Kind(
    is_channels_last_map, make_patch_merging, prepare=then(to_channels_last_map, scramble), ranks=(2,)
)

SINGLE = sorted(kind for kind, spec in KINDS.items() if spec.make is not None)

FAMILIES: dict[str, list[str]] = {
    "conv": ["conv", "conv1d", "conv2d", "conv3d", "depthwise", "pointwise", "separable"],
    "transposed": ["conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    "pool": [k for k in KINDS if k.startswith(("maxpool", "avgpool"))],
    "adaptive": [k for k in KINDS if k.startswith(("adaptive", "global"))],
    "resample": ["upsample", "pixel_shuffle", "pixel_unshuffle"],
    "channels": ["channel_shuffle", "channel_split"],
    "norm": [*BATCHNORM_RANKS, "layernorm", "groupnorm", "instancenorm"],
    "activation": sorted(SIMPLE_OPTIONS),
    "reshape": ["linear", "mlp", "flatten", "reshape", "permute", "transpose"],
    "transformer": ["patch_embed", "class_token", "pos_embed", "attention", "take_token"],
    "merge": ["add", "multiply", "concat"],
}
FAMILIES["windows"] = ["window_attention", "patch_merging"]  # Swin's kinds, on channels-last maps


def generated_kinds() -> set[str]:
    """Every kind the strategies can write: the kind table (each drawn by the per-kind test) and the families."""
    return set(KINDS) | {kind for kinds in FAMILIES.values() for kind in kinds}


def run_kind(g: G, net: Net, kind: str) -> None:
    spec = KINDS[kind]
    if spec.make is not None:
        entry, meta = spec.make(g, net.meta)
        if g.rare() and net.meta.ch is not None:
            entry["when"] = "in_channels > 0"
        net.add(entry, meta)
    else:
        assert spec.emit is not None
        spec.emit(g, net)


def random_step(g: G, net: Net, structures: bool) -> None:
    """One more layer (or merge, block, repeat, ...), chosen by family first so activations do not dominate."""
    x = net.meta
    options = {family: [k for k in kinds if KINDS[k].applies(x)] for family, kinds in FAMILIES.items()}
    options = {family: kinds for family, kinds in options.items() if kinds}
    if structures:
        for name, (applies, _) in STRUCTURES.items():
            if applies(x):
                options[name] = [name]
    family = g.pick(sorted(options))
    if family in STRUCTURES:
        STRUCTURES[family][1](g, net)
        return
    run_kind(g, net, g.pick(options[family]))


def random_input(g: G, rank: int) -> Meta:
    lim = g.lim
    spatial = [g.int(1, lim.inp[rank]) for _ in range(rank)]
    return image(g.int(1, lim.batch), g.int(1, lim.ch), spatial)


@st.composite
def kind_case(draw, kind: str, lim: Limits) -> tuple[Net, str]:
    g = G(draw, lim)
    spec = KINDS[kind]
    net = Net(g, random_input(g, g.pick(spec.ranks)))
    if spec.prepare is not None:
        spec.prepare(g, net)
    assert spec.applies(net.meta), (kind, net.meta)
    run_kind(g, net, kind)
    for _ in range(g.int(0, 2)):
        random_step(g, net, structures=False)
    return net, net.text()


@st.composite
def network_case(draw, lim: Limits, steps: int) -> tuple[Net, str]:
    g = G(draw, lim)
    net = Net(g, random_input(g, g.pick([1, 2, 2, 3])))
    for _ in range(g.int(2, steps)):
        random_step(g, net, structures=True)
    if not net.nodes:  # every entry was skipped: a spec without layers is invalid
        net.add({"type": "identity"}, net.meta)
    return net, net.text()


# ------------------------------------------------------------------------------------------ known bugs


# ---------------------------------------------------------------------------------------------- checks


def kinds_of(result: AnalysisResult) -> set[str]:
    return {row.kind for row in result.layers} | set(result.group_kinds.values())


def check(net: Net, text: str, device: str, kind: str | None = None) -> None:
    try:
        result = analyze_text(text)
    except SpecError as error:
        pytest.fail(f"the generator wrote a spec the engine refuses:\n{text}\n{error}")
    assert result.output_shape == net.meta.shape, f"generator and engine disagree on the output shape:\n{text}"
    assert len(result.layers) == net.nodes, f"generator and engine disagree on the number of layers:\n{text}"
    if kind is not None:
        assert kind in kinds_of(result), text
    for name, params in net.expected_params.items():  # an entry repeated makes rows name.0, name.1, ...
        rows = [row for row in result.layers if row.kind == "layer_scale" and row.path.split(".")[0] == name]
        assert rows and all(row.params == params for row in rows), f"layer_scale {name}: PyTorch has {params}\n{text}"
    try:
        report = verify(result, device)
    except Exception as error:  # a torch error: the engine accepted a spec PyTorch refuses, or a builder bug
        raise AssertionError(f"PyTorch could not run the spec:\n{text}") from error
    assert report.ok, f"engine != torch:\n{text}\n{report.mismatches()}"


# ----------------------------------------------------------------------------------------------- tests


def test_generators_cover_every_kind():
    assert generated_kinds() == set(REGISTRY) | set(COMPOSITES)
    assert set(KINDS) == set(REGISTRY) | set(COMPOSITES)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=EXAMPLES_PER_KIND, **SETTINGS)
@given(data=st.data())
def test_each_kind_matches_torch(kind, data):
    net, text = data.draw(kind_case(kind, CPU), label="spec")
    check(net, text, "cpu", kind)


@settings(max_examples=NETWORK_EXAMPLES, **SETTINGS)
@given(case=network_case(CPU, steps=7))
def test_random_networks_match_torch(case):
    net, text = case
    check(net, text, "cpu")


@settings(max_examples=META_EXAMPLES, **SETTINGS)
@given(case=network_case(META, steps=8))
def test_larger_networks_match_torch_on_meta(case):
    net, text = case
    check(net, text, "meta")


# Minimal reproductions of the disagreements this test found, as (input [C, *spatial], layers). Each asserts what
# is right: the engine refuses the spec (PyTorch would too), or engine == torch.
FIXED_BUGS = {
    # BRIDGE: FlopCounterMode sees 0 FLOPs (engine 40): nn.MultiheadAttention's fused fast path.
    "attention-fastpath": ([1, 2], [{"type": "flatten", "start_dim": 2}, {"type": "attention", "heads": 2}]),
    # BRIDGE: TypeError, nn.AdaptiveAvgPool1d/AdaptiveMaxPool1d refuse output_size (None,).
    "adaptive-1d-null": ([1, 3], [{"type": "adaptive_avgpool1d", "output_size": [None]}]),
    # ENGINE: accepted (output (1, 1, 8)); PyTorch: "Got 3D input, but bilinear mode needs 4D input".
    "upsample-mode-rank": ([1, 4], [{"type": "upsample", "scale": 2, "mode": "bilinear"}]),
    # ENGINE: accepted (output (1, 1, 6)); PyTorch: reflect padding must be smaller than the input (2).
    "depthwise-padding-mode": ([1, 2], [{"type": "depthwise", "kernel": 1, "padding": 2, "padding_mode": "reflect"}]),
    # ENGINE: accepted; PyTorch: "channel_shuffle expects input with > 2 dims".
    "channel-shuffle-2d": ([2, 1], [{"type": "flatten"}, {"type": "channel_shuffle", "groups": 1}]),
    # ENGINE: accepted; no InstanceNorm module takes (B, C) (the bridge: KeyError 2).
    "instancenorm-2d": ([2, 1], [{"type": "flatten"}, {"type": "instancenorm"}]),
    # ENGINE: accepted; no BatchNorm module takes a rank-6 tensor (the bridge: KeyError 6). Same for instancenorm.
    "norm-rank-6": ([1, 1], [{"type": "reshape", "shape": [1, 1, 1, 1, 1]}, {"type": "batchnorm"}]),
    # ENGINE: accepted (output (1, 1, 1, 1, 1)); PyTorch's avg_pool3d: "input image (T: 1 H: 1 W: 1) smaller than
    # kernel size (kT: 1 kH: 1 kW: 2)" -- it compares the unpadded input with the kernel; avg_pool1d/2d do not.
    "avgpool3d-kernel-vs-input": ([1, 1, 1, 1], [{"type": "avgpool3d", "kernel": [1, 1, 2], "padding": [0, 0, 1]}]),
}


@pytest.mark.parametrize("name", sorted(FIXED_BUGS))
def test_fixed_bug_repros(name):
    """Regressions: each of these once disagreed with PyTorch. Now the bridge matches or the engine refuses."""
    shape, layers = FIXED_BUGS[name]
    text = yaml.safe_dump({"input": {"shape": shape}, "layers": layers}, sort_keys=False)
    try:
        result = analyze_text(text)
    except SpecError:
        return  # fixed by refusing the spec
    report = verify(result, "cpu")
    assert report.ok, report.mismatches()
