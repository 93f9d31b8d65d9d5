"""Map each traced operation to a cnncalc layer kind and its fields.

Three tables: module classes (`call_module` nodes: leaf modules of torch.nn), functions (`call_function`:
`F.relu`, `torch.cat`, `operator.add`, ...) and tensor methods (`call_method`: `x.view(...)`, `x.mean(...)`).
Each handler gets the converter (for the node's arguments, shapes and values) and returns a Layer's kind and
fields, a PassThrough, a NotATensor or an Unsupported with the reason.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnncalc.importer.layers import NotATensor, PassThrough, SpatialOf, Unsupported

# A handler's result: (kind, fields, tensor inputs) for a layer, or one of the markers.
Mapped = tuple[str, dict[str, Any], list[torch.fx.Node]] | PassThrough | NotATensor | Unsupported
ModuleHandler = Callable[[Any, torch.fx.Node, nn.Module], Mapped]
Handler = Callable[[Any, torch.fx.Node], Mapped]


def axes(value: Any) -> Any:
    """A per-axis value as a spec writes it: one number when every axis has the same, else a list."""
    if isinstance(value, (tuple, list)):
        values = [axes(item) for item in value]
        return values[0] if values and all(item == values[0] for item in values) else values
    return value


def _rank(module: nn.Module) -> int:
    name = type(module).__name__
    return int(name[-2]) if name.endswith(("1d", "2d", "3d")) else 0


# --- modules -----------------------------------------------------------------------------------------------


def _conv(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.modules.conv._ConvNd)
    transposed = module.transposed
    if transposed and (len(node.args) > 1 or "output_size" in node.kwargs):
        return Unsupported(f"{type(module).__name__} called with output_size", "give output_padding instead")
    padding = module.padding if isinstance(module.padding, str) else axes(module.padding)
    fields: dict[str, Any] = {"out": module.out_channels, "kernel": axes(module.kernel_size)}
    if axes(module.stride) != 1:
        fields["stride"] = axes(module.stride)
    if padding != 0:
        fields["padding"] = padding
    if transposed and axes(module.output_padding) != 0:
        fields["output_padding"] = axes(module.output_padding)
    if axes(module.dilation) != 1:
        fields["dilation"] = axes(module.dilation)
    if module.groups != 1:
        fields["groups"] = module.groups
    if module.bias is None:
        fields["bias"] = False
    if not transposed and module.padding_mode != "zeros":
        fields["padding_mode"] = module.padding_mode
    kind = ("conv_transpose" if transposed else "conv") + f"{len(module.kernel_size)}d"  # subclasses too
    return kind, fields, converter.tensors(node.args[:1])


def _linear(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.Linear)
    fields: dict[str, Any] = {"out": module.out_features}
    if module.bias is None:
        fields["bias"] = False
    return "linear", fields, converter.tensors(node.args[:1])


def _batchnorm(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.modules.batchnorm._BatchNorm)
    fields = _defaults_dropped(
        {
            "affine": module.affine,
            "track_running_stats": module.track_running_stats,
            "eps": module.eps,
            "momentum": module.momentum,
        },
        {"affine": True, "track_running_stats": True, "eps": 1e-5, "momentum": 0.1},
    )
    return f"batchnorm{_rank(module)}d", fields, converter.tensors(node.args[:1])


def _layernorm(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.LayerNorm)
    fields = _defaults_dropped(
        {
            "dims": len(module.normalized_shape),
            "elementwise_affine": module.elementwise_affine,
            "bias": module.bias is not None or not module.elementwise_affine,
            "eps": module.eps,
        },
        {"dims": 1, "elementwise_affine": True, "bias": True, "eps": 1e-5},
    )
    return "layernorm", fields, converter.tensors(node.args[:1])


def _groupnorm(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.GroupNorm)
    fields = {
        "groups": module.num_groups,
        **_defaults_dropped({"affine": module.affine, "eps": module.eps}, {"affine": True, "eps": 1e-5}),
    }
    return "groupnorm", fields, converter.tensors(node.args[:1])


def _instancenorm(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.modules.instancenorm._InstanceNorm)
    fields = _defaults_dropped(
        {"affine": module.affine, "track_running_stats": module.track_running_stats, "eps": module.eps},
        {"affine": False, "track_running_stats": False, "eps": 1e-5},
    )
    return "instancenorm", fields, converter.tensors(node.args[:1])


def _maxpool(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.modules.pooling._MaxPoolNd)
    if module.return_indices:
        return Unsupported(f"{type(module).__name__} with return_indices")
    return _max_pool_fields(
        converter,
        node,
        _rank(module),
        module.kernel_size,
        module.stride,
        module.padding,
        module.dilation,
        module.ceil_mode,
    )


def _pool_window(kernel: Any, stride: Any, padding: Any) -> dict[str, Any]:
    """A pooling window's kernel, and its stride and padding where they are not the defaults (stride: the
    kernel; PyTorch's functional forms also pass None or [] for that)."""
    fields: dict[str, Any] = {"kernel": axes(kernel)}
    if stride is not None and stride != [] and axes(stride) != axes(kernel):
        fields["stride"] = axes(stride)
    if axes(padding) != 0:
        fields["padding"] = axes(padding)
    return fields


def _max_pool_fields(
    converter: Any,
    node: torch.fx.Node,
    rank: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> Mapped:
    fields = _pool_window(kernel, stride, padding)
    if axes(dilation) != 1:
        fields["dilation"] = axes(dilation)
    if ceil_mode:
        fields["ceil_mode"] = True
    return f"maxpool{rank}d", fields, converter.tensors(node.args[:1])


def _avgpool(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    rank = _rank(module)
    divisor = getattr(module, "divisor_override", None)
    return _avg_pool_fields(
        converter,
        node,
        rank,
        module.kernel_size,
        module.stride,
        module.padding,
        module.ceil_mode,
        module.count_include_pad,
        divisor,
    )


def _avg_pool_fields(
    converter: Any,
    node: torch.fx.Node,
    rank: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor: int | None,
) -> Mapped:
    fields = _pool_window(kernel, stride, padding)
    if ceil_mode:
        fields["ceil_mode"] = True
    if not count_include_pad:
        fields["count_include_pad"] = False
    if divisor is not None:
        fields["divisor_override"] = divisor
    return f"avgpool{rank}d", fields, converter.tensors(node.args[:1])


def _adaptive(kind: str) -> ModuleHandler:
    def handler(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
        return f"{kind}{_rank(module)}d", {"output_size": axes(module.output_size)}, converter.tensors(node.args[:1])

    return handler


def _activation_module(kind: str, attributes: dict[str, Any] | None = None) -> ModuleHandler:
    """An activation module: `attributes` maps each field to its default, read from the module's attribute."""

    def handler(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
        fields = {name: getattr(module, name) for name in (attributes or {})}
        return kind, _defaults_dropped(fields, attributes or {}), converter.tensors(node.args[:1])

    return handler


def _prelu(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.PReLU)
    fields = {"per_channel": True} if module.num_parameters > 1 else {}
    return "prelu", fields, converter.tensors(node.args[:1])


def _softmax_module(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.Softmax)
    if module.dim is None:
        return Unsupported("Softmax without dim", "give dim explicitly")
    return "softmax", {"dim": module.dim}, converter.tensors(node.args[:1])


def _dropout(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    return "dropout", _defaults_dropped({"p": module.p}, {"p": 0.5}), converter.tensors(node.args[:1])


def _flatten_module(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.Flatten)
    return _flatten_fields(converter, node, module.start_dim, module.end_dim)


def _flatten_fields(converter: Any, node: torch.fx.Node, start_dim: int, end_dim: int) -> Mapped:
    fields = _defaults_dropped({"start_dim": start_dim, "end_dim": end_dim}, {"start_dim": 1, "end_dim": -1})
    return "flatten", fields, converter.tensors(node.args[:1])


def _identity(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    return "identity", {}, converter.tensors(node.args[:1])


def _upsample_module(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.Upsample)
    return _upsample_fields(converter, node, module.size, module.scale_factor, module.mode, module.align_corners)


def _upsample_fields(
    converter: Any, node: torch.fx.Node, size: Any, scale: Any, mode: str, align_corners: bool | None
) -> Mapped:
    fields: dict[str, Any] = {}
    if scale is not None:
        fields["scale"] = axes(scale)
    elif size is not None:
        if isinstance(size, torch.fx.Node) or (
            isinstance(size, (list, tuple)) and any(isinstance(item, torch.fx.Node) for item in size)
        ):
            source = _spatial_source(converter, size, node.args[0])
            if source is None:
                return Unsupported(
                    converter.op_name(node),
                    "to a size computed from other tensors in a way the importer does not follow "
                    "(it writes `size: spatial(NAME)` for `other.shape[-2:]` or `other.shape[2:]`)",
                )
            fields["size"] = SpatialOf(source)
        else:
            fields["size"] = axes(size)
    if mode != "nearest":
        fields["mode"] = mode
    if align_corners is not None and mode not in ("nearest", "nearest-exact"):
        fields["align_corners"] = align_corners
    return "upsample", fields, converter.tensors(node.args[:1])


def _spatial_source(converter: Any, size: Any, resized: Any) -> torch.fx.Node | None:
    """The tensor whose spatial sizes `size` is, when it is `other.shape[k:]` (or `.size()[k:]`) with k the
    first spatial axis (2 or minus the spatial rank) and the same rank as the resized tensor; else None."""
    if not isinstance(size, torch.fx.Node) or size.op != "call_function" or size.target is not operator.getitem:
        return None
    shape, index = size.args
    if not isinstance(shape, torch.fx.Node) or not isinstance(index, slice) or index.stop is not None:
        return None
    reads_shape = (shape.op == "call_function" and shape.target is getattr and shape.args[1] == "shape") or (
        shape.op == "call_method" and shape.target == "size" and len(shape.args) == 1
    )
    if not reads_shape or index.step not in (None, 1) or not isinstance(shape.args[0], torch.fx.Node):
        return None
    tensor = shape.args[0]
    values = converter.capture.values
    if not (isinstance(values.get(tensor), torch.Tensor) and isinstance(values.get(resized), torch.Tensor)):
        return None
    rank = values[tensor].dim()
    spatial_rank = rank - 2
    if values[resized].dim() != rank or spatial_rank < 1 or index.start not in (2, -spatial_rank):
        return None
    return converter.resolve(tensor)


def _pixel(kind: str, attribute: str) -> ModuleHandler:
    def handler(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
        return kind, {"factor": getattr(module, attribute)}, converter.tensors(node.args[:1])

    return handler


def _channel_shuffle_module(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    return "channel_shuffle", {"groups": module.groups}, converter.tensors(node.args[:1])


def _multihead_attention(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    assert isinstance(module, nn.MultiheadAttention)
    query, key, value = (list(node.args) + [node.kwargs.get(name) for name in ("query", "key", "value")])[:3]
    if not (query is key is value):
        return Unsupported("MultiheadAttention with different query, key and value", "cnncalc models self-attention")
    if not module.batch_first:
        return Unsupported("MultiheadAttention with batch_first=False", "cnncalc's attention is batch-first")
    if not module._qkv_same_embed_dim or module.bias_k is not None or module.add_zero_attn:
        return Unsupported("MultiheadAttention with kdim/vdim, add_bias_kv or add_zero_attn")
    if any(node.kwargs.get(name) is not None for name in ("key_padding_mask", "attn_mask")):
        return Unsupported("MultiheadAttention with a mask")
    fields: dict[str, Any] = {"heads": module.num_heads}
    if module.in_proj_bias is None:
        fields["bias"] = False
    if module.dropout:
        fields["dropout"] = module.dropout
    if node.kwargs.get("need_weights", True) is False:
        fields["need_weights"] = False  # torchvision's ViT: the attention weights are not computed
    converter.attention_outputs.add(node)
    return "attention", fields, converter.tensors([query])


def _defaults_dropped(fields: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name not in defaults or defaults[name] != value}


_INPLACE = {"inplace": False}
MODULES: dict[type, ModuleHandler] = {
    **{
        cls: _conv
        for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    },
    nn.Linear: _linear,
    **{cls: _batchnorm for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)},
    nn.LayerNorm: _layernorm,
    nn.GroupNorm: _groupnorm,
    **{cls: _instancenorm for cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)},
    **{cls: _maxpool for cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)},
    **{cls: _avgpool for cls in (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)},
    **{
        cls: _adaptive("adaptive_avgpool") for cls in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
    },
    **{
        cls: _adaptive("adaptive_maxpool") for cls in (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
    },
    nn.ReLU: _activation_module("relu", _INPLACE),
    nn.ReLU6: _activation_module("relu6", _INPLACE),
    nn.LeakyReLU: _activation_module("leaky_relu", {"negative_slope": 0.01, **_INPLACE}),
    nn.ELU: _activation_module("elu", {"alpha": 1.0, **_INPLACE}),
    nn.GELU: _activation_module("gelu", {"approximate": "none"}),
    nn.SiLU: _activation_module("silu", _INPLACE),
    nn.Mish: _activation_module("mish", _INPLACE),
    nn.Sigmoid: _activation_module("sigmoid"),
    nn.Hardsigmoid: _activation_module("hardsigmoid", _INPLACE),
    nn.Hardswish: _activation_module("hardswish", _INPLACE),
    nn.Hardtanh: _activation_module("hardtanh", {"min_val": -1.0, "max_val": 1.0, **_INPLACE}),
    nn.Tanh: _activation_module("tanh"),
    nn.PReLU: _prelu,
    nn.Softmax: _softmax_module,
    **{cls: _dropout for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)},
    nn.Flatten: _flatten_module,
    nn.Identity: _identity,
    nn.Upsample: _upsample_module,
    nn.UpsamplingNearest2d: _upsample_module,
    nn.UpsamplingBilinear2d: _upsample_module,
    nn.PixelShuffle: _pixel("pixel_shuffle", "upscale_factor"),
    nn.PixelUnshuffle: _pixel("pixel_unshuffle", "downscale_factor"),
    nn.ChannelShuffle: _channel_shuffle_module,
    nn.MultiheadAttention: _multihead_attention,
}


# --- functions and methods ----------------------------------------------------------------------------------


def _argument(node: torch.fx.Node, position: int, name: str, default: Any = None) -> Any:
    if len(node.args) > position:
        return node.args[position]
    return node.kwargs.get(name, default)


def _activation_function(kind: str, options: dict[str, tuple[int, Any]] | None = None) -> Handler:
    """`F.relu(x)`, `torch.sigmoid(x)`, `x.relu()`: options maps a field to (argument position, default)."""

    def handler(converter: Any, node: torch.fx.Node) -> Mapped:
        fields = {
            name: _argument(node, position, name, default) for name, (position, default) in (options or {}).items()
        }
        fields = {name: value for name, value in fields.items() if value != (options or {})[name][1]}
        if any(isinstance(value, torch.fx.Node) for value in fields.values()):
            return Unsupported(f"{converter.op_name(node)} with a computed argument")
        return kind, fields, converter.tensors(node.args[:1])

    return handler


def _softmax_function(converter: Any, node: torch.fx.Node) -> Mapped:
    dim = _argument(node, 1, "dim")
    if not isinstance(dim, int):
        return Unsupported("softmax without an explicit dim")
    return "softmax", {"dim": dim}, converter.tensors(node.args[:1])


def _adaptive_function(kind: str, rank: int) -> Handler:
    def handler(converter: Any, node: torch.fx.Node) -> Mapped:
        size = _argument(node, 1, "output_size")
        if isinstance(size, torch.fx.Node):
            return Unsupported(f"{converter.op_name(node)} with a computed output_size")
        return f"{kind}{rank}d", {"output_size": axes(size)}, converter.tensors(node.args[:1])

    return handler


def _max_pool_function(rank: int) -> Handler:
    def handler(converter: Any, node: torch.fx.Node) -> Mapped:
        if _argument(node, 6, "return_indices", False):
            return Unsupported("max_pool with return_indices")
        kernel = _argument(node, 1, "kernel_size")
        return _max_pool_fields(
            converter,
            node,
            rank,
            kernel,
            _argument(node, 2, "stride"),
            _argument(node, 3, "padding", 0),
            _argument(node, 4, "dilation", 1),
            _argument(node, 5, "ceil_mode", False),
        )

    return handler


def _avg_pool_function(rank: int) -> Handler:
    def handler(converter: Any, node: torch.fx.Node) -> Mapped:
        kernel = _argument(node, 1, "kernel_size")
        return _avg_pool_fields(
            converter,
            node,
            rank,
            kernel,
            _argument(node, 2, "stride"),
            _argument(node, 3, "padding", 0),
            _argument(node, 4, "ceil_mode", False),
            _argument(node, 5, "count_include_pad", True),
            _argument(node, 6, "divisor_override"),
        )

    return handler


def _flatten_function(converter: Any, node: torch.fx.Node) -> Mapped:
    return _flatten_fields(converter, node, _argument(node, 1, "start_dim", 0), _argument(node, 2, "end_dim", -1))


def _merge(kind: str) -> Handler:
    """`a + b`, `torch.add(a, b)`, `a * b`: a merge of two tensors; a learned tensor times a value is a scale."""

    def handler(converter: Any, node: torch.fx.Node) -> Mapped:
        operands = list(node.args[:2])
        if node.kwargs.get("alpha", 1) != 1:
            return Unsupported(f"{converter.op_name(node)} with alpha")
        learned = [operand for operand in operands if converter.is_learned(operand)]
        values = [operand for operand in operands if converter.is_activation(operand)]
        if len(values) == 2 and not learned:
            return kind, {}, converter.tensors(values)
        if len(values) == 1 and len(learned) == 1:
            return converter.learned_operation(node, kind, learned[0], values[0])
        return Unsupported(
            f"{converter.op_name(node)} of a tensor and a constant",
            "cnncalc merges tensors; arithmetic with constants has no layer kind",
        )

    return handler


def _cat(converter: Any, node: torch.fx.Node) -> Mapped:
    tensors = _argument(node, 0, "tensors")
    dim = _argument(node, 1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or not isinstance(dim, int):
        return Unsupported("cat of a computed list or along a computed dim")
    learned = [item for item in tensors if converter.is_learned(item)]
    if len(tensors) == 1 and not learned:
        return PassThrough(tensors[0])  # DenseNet's first layer concatenates a list of one
    if learned:
        return converter.class_token(node, tensors, dim)
    return "concat", _defaults_dropped({"dim": dim}, {"dim": 1}), converter.tensors(list(tensors))


def _split_function(converter: Any, node: torch.fx.Node) -> Mapped:
    return converter.splitting(node)


def _permute_function(converter: Any, node: torch.fx.Node) -> Mapped:
    dims = node.args[1:] if node.op == "call_method" else (_argument(node, 1, "dims"),)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    if any(not isinstance(dim, int) for dim in dims):
        return Unsupported("permute with computed dims")
    rank = len(converter.capture.shape(node))
    return "permute", {"dims": [dim % rank for dim in dims]}, converter.tensors(node.args[:1])


def _transpose_function(converter: Any, node: torch.fx.Node) -> Mapped:
    first, second = _argument(node, 1, "dim0"), _argument(node, 2, "dim1")
    if not isinstance(first, int) or not isinstance(second, int):
        return Unsupported("transpose of computed dims")
    return "transpose", {"dim0": first, "dim1": second}, converter.tensors(node.args[:1])


def _reshape(converter: Any, node: torch.fx.Node) -> Mapped:
    return converter.reshaping(node)


def _mean(converter: Any, node: torch.fx.Node) -> Mapped:
    return converter.mean(node)


def _layer_norm_function(converter: Any, node: torch.fx.Node) -> Mapped:
    return converter.functional_layer_norm(node)


def _batch_norm_function(converter: Any, node: torch.fx.Node) -> Mapped:
    """F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps) (timm's BatchNormAct2d)."""
    running_mean, weight = _argument(node, 1, "running_mean"), _argument(node, 3, "weight")
    for position, name in ((1, "running_mean"), (2, "running_var"), (3, "weight"), (4, "bias")):
        converter.use_learned(_argument(node, position, name))
    fields = _defaults_dropped(
        {
            "affine": weight is not None,
            "track_running_stats": running_mean is not None,
            "eps": _argument(node, 7, "eps", 1e-5),
            "momentum": _argument(node, 6, "momentum", 0.1),
        },
        {"affine": True, "track_running_stats": True, "eps": 1e-5, "momentum": 0.1},
    )
    return "batchnorm", fields, converter.tensors(node.args[:1])


def _group_norm_function(converter: Any, node: torch.fx.Node) -> Mapped:
    """F.group_norm(x, num_groups, weight, bias, eps)."""
    groups, weight = _argument(node, 1, "num_groups"), _argument(node, 2, "weight")
    for position, name in ((2, "weight"), (3, "bias")):
        converter.use_learned(_argument(node, position, name))
    if not isinstance(groups, int):
        return Unsupported("group_norm with a computed number of groups")
    fields = {
        "groups": groups,
        **_defaults_dropped(
            {"affine": weight is not None, "eps": _argument(node, 4, "eps", 1e-5)}, {"affine": True, "eps": 1e-5}
        ),
    }
    return "groupnorm", fields, converter.tensors(node.args[:1])


def _interpolate(converter: Any, node: torch.fx.Node) -> Mapped:
    return _upsample_fields(
        converter,
        node,
        _argument(node, 1, "size"),
        _argument(node, 2, "scale_factor"),
        _argument(node, 3, "mode", "nearest"),
        _argument(node, 4, "align_corners"),
    )


def _dropout_function(converter: Any, node: torch.fx.Node) -> Mapped:
    p = _argument(node, 1, "p", 0.5)
    return "dropout", _defaults_dropped({"p": p}, {"p": 0.5}), converter.tensors(node.args[:1])


def _stochastic_depth(converter: Any, node: torch.fx.Node) -> Mapped:
    p, mode = _argument(node, 1, "p"), _argument(node, 2, "mode", "row")
    return "stochastic_depth", {"p": p, **({"mode": mode} if mode != "row" else {})}, converter.tensors(node.args[:1])


def _getitem(converter: Any, node: torch.fx.Node) -> Mapped:
    return converter.getitem(node)


def _pass(converter: Any, node: torch.fx.Node) -> Mapped:
    return PassThrough(node.args[0])  # type: ignore[arg-type]


def _not_a_tensor(converter: Any, node: torch.fx.Node) -> Mapped:
    """Shape arithmetic; reached only when the value holds tensors (`a - b` of two activations)."""
    return Unsupported(converter.op_name(node), "arithmetic on tensors that has no layer kind")


def _linear_function(converter: Any, node: torch.fx.Node) -> Mapped:
    """F.linear(x, weight, bias) (timm's Linear subclass calls it)."""
    weight, bias = _argument(node, 1, "weight"), _argument(node, 2, "bias")
    if not converter.is_learned(weight):
        return Unsupported("F.linear with a computed weight")
    converter.use_learned(weight)
    converter.use_learned(bias)
    fields: dict[str, Any] = {"out": converter.capture.values[weight].shape[0]}
    if bias is None:
        fields["bias"] = False
    return "linear", fields, converter.tensors(node.args[:1])


_ACTIVATIONS: dict[str, tuple[str, dict[str, tuple[int, Any]]]] = {
    "relu": ("relu", {}),
    "relu_": ("relu", {}),
    "relu6": ("relu6", {}),
    "gelu": ("gelu", {"approximate": (1, "none")}),
    "silu": ("silu", {}),
    "mish": ("mish", {}),
    "sigmoid": ("sigmoid", {}),
    "hardsigmoid": ("hardsigmoid", {}),
    "hardswish": ("hardswish", {}),
    "tanh": ("tanh", {}),
    "leaky_relu": ("leaky_relu", {"negative_slope": (1, 0.01)}),
    "elu": ("elu", {"alpha": (1, 1.0)}),
}


def _activation_table() -> dict[Any, Handler]:
    table: dict[Any, Handler] = {}
    for name, (kind, options) in _ACTIVATIONS.items():
        for namespace in (F, torch):
            function = getattr(namespace, name, None)
            if function is not None:
                table[function] = _activation_function(kind, options)
    table[F.hardtanh] = _activation_function("hardtanh", {"min_val": (1, -1.0), "max_val": (2, 1.0)})
    return table


FUNCTIONS: dict[Any, Handler] = {
    **_activation_table(),
    F.softmax: _softmax_function,
    torch.softmax: _softmax_function,
    F.adaptive_avg_pool1d: _adaptive_function("adaptive_avgpool", 1),
    F.adaptive_avg_pool2d: _adaptive_function("adaptive_avgpool", 2),
    F.adaptive_avg_pool3d: _adaptive_function("adaptive_avgpool", 3),
    F.adaptive_max_pool1d: _adaptive_function("adaptive_maxpool", 1),
    F.adaptive_max_pool2d: _adaptive_function("adaptive_maxpool", 2),
    F.adaptive_max_pool3d: _adaptive_function("adaptive_maxpool", 3),
    F.max_pool1d: _max_pool_function(1),
    F.max_pool2d: _max_pool_function(2),
    F.max_pool3d: _max_pool_function(3),
    F.avg_pool1d: _avg_pool_function(1),
    F.avg_pool2d: _avg_pool_function(2),
    F.avg_pool3d: _avg_pool_function(3),
    torch._C._nn.avg_pool2d: _avg_pool_function(2),
    torch._C._nn.avg_pool3d: _avg_pool_function(3),
    torch.flatten: _flatten_function,
    operator.add: _merge("add"),
    operator.iadd: _merge("add"),
    torch.add: _merge("add"),
    operator.mul: _merge("multiply"),
    operator.imul: _merge("multiply"),
    torch.mul: _merge("multiply"),
    torch.cat: _cat,
    torch.concat: _cat,
    torch.chunk: _split_function,
    torch.split: _split_function,
    torch.permute: _permute_function,
    torch.transpose: _transpose_function,
    torch.swapaxes: _transpose_function,
    torch.reshape: _reshape,
    torch.mean: _mean,
    F.layer_norm: _layer_norm_function,
    F.batch_norm: _batch_norm_function,
    F.linear: _linear_function,
    F.group_norm: _group_norm_function,
    torch.squeeze: _reshape,
    torch.unsqueeze: _reshape,
    F.interpolate: _interpolate,
    F.dropout: _dropout_function,
    operator.getitem: _getitem,
    getattr: _not_a_tensor,
    torch._assert: _not_a_tensor,
    **{
        function: _not_a_tensor
        for function in (
            operator.eq,
            operator.ne,
            operator.floordiv,
            operator.truediv,
            operator.sub,
            operator.mod,
            operator.lt,
            operator.gt,
            operator.le,
            operator.ge,
            operator.neg,
        )
    },
}

METHODS: dict[str, Handler] = {
    **{name: _activation_function(kind, options) for name, (kind, options) in _ACTIVATIONS.items()},
    "softmax": _softmax_function,
    "flatten": _flatten_function,
    "add": _merge("add"),
    "add_": _merge("add"),
    "mul": _merge("multiply"),
    "mul_": _merge("multiply"),
    "chunk": _split_function,
    "split": _split_function,
    "permute": _permute_function,
    "transpose": _transpose_function,
    "swapaxes": _transpose_function,
    "view": _reshape,
    "squeeze": _reshape,
    "unsqueeze": _reshape,
    "reshape": _reshape,
    "mean": _mean,
    "contiguous": _pass,
    "size": _not_a_tensor,
    "dim": _not_a_tensor,
}


def _timm_attention(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    """timm's Attention: qkv Linear, fused attention, proj Linear; the same work and parameters as
    nn.MultiheadAttention when it has no extras (checked by library_leaf)."""
    fields: dict[str, Any] = {"heads": module.num_heads}
    if module.qkv.bias is None:
        fields["bias"] = False
    if any(node.kwargs.get(name) is not None for name in ("attn_mask", "rope")) or len(node.args) > 1:
        return Unsupported("timm Attention with a mask")
    return "attention", fields, converter.tensors(node.args[:1])


def _tensorflow_same_conv(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    """timm's Conv2dSame pads as TensorFlow's SAME (ceil(n / stride) outputs, the odd pixel on the right):
    cnncalc's `padding: same`, which holds at every input size."""
    mapped = _conv(converter, node, module)
    if isinstance(mapped, tuple):
        kind, fields, inputs = mapped
        fields = {**{key: value for key, value in fields.items() if key != "padding"}, "padding": "same"}
        return kind, fields, inputs
    return mapped


def _layernorm_2d(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    """torchvision's and timm's LayerNorm2d: a LayerNorm over the channels of (B, C, H, W), written in their
    forward as permute, layer_norm, permute; one `layernorm` with `channels_first`, as the module is one."""
    mapped = _layernorm(converter, node, module)
    if isinstance(mapped, tuple):
        kind, fields, inputs = mapped
        return kind, {"channels_first": True, **fields}, inputs
    return mapped


def _window_attention(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    """torchvision's ShiftedWindowAttention (Swin): window_attention with its window, shift and heads."""
    fields: dict[str, Any] = {
        "heads": module.num_heads,
        "window": axes(list(module.window_size)),
        **_defaults_dropped({"shift": axes(list(module.shift_size))}, {"shift": 0}),
        **_defaults_dropped(
            {
                "qkv_bias": module.qkv.bias is not None,
                "proj_bias": module.proj.bias is not None,
                "attention_dropout": module.attention_dropout,
                "dropout": module.dropout,
            },
            {"qkv_bias": True, "proj_bias": True, "attention_dropout": 0.0, "dropout": 0.0},
        ),
    }
    return "window_attention", fields, converter.tensors(node.args[:1])


def _patch_merging(converter: Any, node: torch.fx.Node, module: nn.Module) -> Mapped:
    """torchvision's PatchMerging (Swin): pad, 2x2 concatenation, LayerNorm(4C), Linear(4C, 2C)."""
    return "patch_merging", _defaults_dropped({"eps": module.norm.eps}, {"eps": 1e-5}), converter.tensors(node.args[:1])


def _swin_leaf(module: nn.Module, name: str) -> ModuleHandler | None:
    """torchvision's Swin (v1) modules, where they hold exactly what the kinds model: a plain LayerNorm in
    patch merging, and the relative position bias table of v1 (v2's attention has another bias and scale)."""
    if name == "torchvision.models.swin_transformer.ShiftedWindowAttention":
        windowed = len(module.window_size) == 2 and len(module.shift_size) == 2
        return _window_attention if windowed and module.qkv.in_features == module.proj.out_features else None
    if name == "torchvision.models.swin_transformer.PatchMerging":
        norm = module.norm
        plain = type(norm) is nn.LayerNorm and norm.elementwise_affine and norm.bias is not None
        return _patch_merging if plain and module.reduction.bias is None else None
    return None


def library_leaf(module: nn.Module) -> ModuleHandler | None:
    """A module of a model library that maps to one cnncalc kind as a whole, or None."""
    cls = type(module)
    swin = _swin_leaf(module, f"{cls.__module__}.{cls.__qualname__}")
    if swin is not None:
        return swin
    if isinstance(module, nn.LayerNorm) and cls is not nn.LayerNorm and cls.__name__ == "LayerNorm2d":
        return _layernorm_2d if len(module.normalized_shape) == 1 else None
    if f"{cls.__module__}.{cls.__qualname__}" == "timm.layers.conv2d_same.Conv2dSame":
        return _tensorflow_same_conv
    if f"{cls.__module__}.{cls.__qualname__}" == "timm.layers.attention.Attention":
        plain = (
            module.attn_dim == module.qkv.in_features == module.proj.out_features
            and all(isinstance(getattr(module, name), nn.Identity) for name in ("q_norm", "k_norm", "norm"))
            and getattr(module, "gate", None) is None
            and (module.qkv.bias is None) == (module.proj.bias is None)
        )
        return _timm_attention if plain else None
    return None


def module_handler(module: nn.Module) -> ModuleHandler | None:
    """How a module call maps to a kind: by its torch.nn class, by the torch.nn class it subclasses without
    changing `forward` (torchvision's Conv3DSimple is an nn.Conv3d), or as a library module cnncalc knows."""
    cls = type(module)
    handler = MODULES.get(cls) or library_leaf(module)
    if handler is not None:
        return handler
    for base in cls.__mro__[1:]:
        if base in MODULES:
            return MODULES[base] if cls.forward is base.forward else None
    return None


def optional_function_table() -> dict[Any, Handler]:
    """Functions of libraries that may be absent (torchvision's stochastic depth), found only if imported."""
    import sys

    table: dict[Any, Handler] = {}
    ops = sys.modules.get("torchvision.ops.stochastic_depth")
    if ops is not None:
        table[ops.stochastic_depth] = _stochastic_depth
    return table
