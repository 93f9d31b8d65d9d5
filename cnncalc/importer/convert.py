"""Walk a captured graph and turn each node into a cnncalc layer (or a pass-through), collecting what cannot be.

Layer paths follow the model: a module call is named by its module path (`layer1.0.conv1`); a functional call
(`F.relu(x)`, `x + y`) by the module whose `forward` makes it plus the operation's name (`layer1.0.add`). A
module called twice (torchvision's BasicBlock reuses its ReLU) gives a second layer `relu_1`.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx

from cnncalc.importer import ops
from cnncalc.importer.capture import Capture, source_line
from cnncalc.importer.layers import Layer, NotATensor, PassThrough, Unsupported


@dataclass
class UnsupportedUse:
    """One unsupported operation at one line of the model's code: how often it ran, and in which modules."""

    op: str
    reason: str
    module_paths: list[str]
    source: str
    count: int = 1


@dataclass
class Conversion:
    layers: list[Layer]
    output: torch.fx.Node  # the node whose value the model returns (a layer's node, or the input)
    unsupported: list[UnsupportedUse]
    unused_parameters: dict[str, int] = field(default_factory=dict)  # module path -> parameters never used


class Converter:
    def __init__(self, capture: Capture, allow_uncounted: bool = False) -> None:
        self.capture = capture
        self.allow_uncounted = allow_uncounted
        self.layers: list[Layer] = []
        self.alias: dict[torch.fx.Node, torch.fx.Node] = {}
        self.learned: dict[torch.fx.Node, torch.fx.Node] = {}  # node -> the get_attr it is derived from
        self.splits: dict[torch.fx.Node, tuple[str, dict[str, Any], torch.fx.Node]] = {}
        self.attention_outputs: set[torch.fx.Node] = set()
        self.absorbed: dict[torch.fx.Node, torch.fx.Node] = {}  # nodes a pattern already wrote
        self.module_paths: set[str] = set(capture.modules) | {
            name for name, _ in capture.graph_module.named_parameters()
        }
        self.taken_paths: set[str] = set()
        self.module_calls: Counter[str] = Counter()
        self.used_parameters: set[str] = set()
        self.unsupported: dict[tuple[str, str, str], UnsupportedUse] = {}
        self.functions = {**ops.FUNCTIONS, **ops.optional_function_table()}
        self.read_by_node: list[str] = []  # parameters the node being converted reads
        self.shared_parameters: set[str] = set()  # read by two operations: cnncalc would count them twice
        self.derived_sources: dict[torch.fx.Node, set[str]] = {}  # learned values -> what they are made of
        self.chain_ends: dict[torch.fx.Node, torch.fx.Node] = {}  # a pattern's first node -> its last

    # --- helpers the handlers call ---------------------------------------------------------------------------

    def resolve(self, node: torch.fx.Node) -> torch.fx.Node:
        while node in self.alias:
            node = self.alias[node]
        return node

    def tensors(self, arguments: Any) -> list[torch.fx.Node]:
        return [self.resolve(argument) for argument in arguments if isinstance(argument, torch.fx.Node)]

    def is_learned(self, argument: Any) -> bool:
        return isinstance(argument, torch.fx.Node) and (argument.op == "get_attr" or argument in self.learned)

    def is_activation(self, argument: Any) -> bool:
        return (
            isinstance(argument, torch.fx.Node)
            and not self.is_learned(argument)
            and isinstance(self.capture.values.get(argument), torch.Tensor)
        )

    def learned_source(self, argument: torch.fx.Node) -> torch.fx.Node:
        return self.learned.get(argument, argument)

    def op_name(self, node: torch.fx.Node) -> str:
        if node.op == "call_module":
            return type(self.capture.modules[str(node.target)]).__name__
        if node.op == "call_method":
            return f"Tensor.{node.target}"
        target = node.target
        module = getattr(target, "__module__", None) or ""
        name = getattr(target, "__name__", str(target))
        module = {"_operator": "operator", "torch._C._nn": "torch.nn.functional", "builtins": ""}.get(module, module)
        return f"{module}.{name}" if module else name

    def parameter_shape(self, node: torch.fx.Node) -> tuple[int, ...]:
        return tuple(self.capture.values[self.learned_source(node)].shape)

    # --- patterns -------------------------------------------------------------------------------------------

    def learned_operation(self, node: torch.fx.Node, kind: str, learned: torch.fx.Node, value: torch.fx.Node) -> Any:
        """A learned tensor times an activation (layer scale) or added to it (position embedding)."""
        source = self.learned_source(learned)
        operand = tuple(self.capture.values[learned].shape)  # as the operation sees it (after a reshape, say)
        shape = self.capture.shape(value)
        self.use_parameter(str(source.target))
        if kind == "multiply" and len(shape) > 1:
            # The scaled axis is written out (`dim`): the learned tensor's shape says which it is.
            core = list(operand)
            while core and core[0] == 1 and len(core) > 1:
                core.pop(0)
            numel = self.capture.values[source].numel()
            if len(core) == 1 and core[0] == shape[-1] == numel:
                return "layer_scale", {"dim": -1}, [self.resolve(value)], str(source.target)
            if numel == shape[1] and len(core) == len(shape) - 1 and all(size == 1 for size in core[1:]):
                return "layer_scale", {"dim": 1}, [self.resolve(value)], str(source.target)
        if kind == "add" and operand == (1, *shape[1:]) and len(shape) == 3:
            return "pos_embed", {}, [self.resolve(value)], str(source.target)
        return Unsupported(
            f"{self.op_name(node)} of a learned tensor {operand} and an activation {shape}",
            "cnncalc models a learned per-channel scale (layer_scale) and a position embedding (pos_embed)",
        )

    def class_token(self, node: torch.fx.Node, tensors: list[Any], dim: int) -> Any:
        values = [item for item in tensors if self.is_activation(item)]
        learned = [item for item in tensors if self.is_learned(item)]
        shape = self.capture.shape(values[0]) if len(values) == 1 else ()
        if (
            len(values) == 1
            and len(learned) == 1
            and tensors[0] is learned[0]
            and dim == 1
            and len(shape) == 3
            and self.parameter_shape(learned[0]) == (1, 1, shape[2])
        ):
            source = self.learned_source(learned[0])
            self.use_parameter(str(source.target))
            return "class_token", {}, [self.resolve(values[0])], str(source.target)
        return Unsupported("cat of a learned tensor with activations", "cnncalc models a class token (class_token)")

    def splitting(self, node: torch.fx.Node) -> Any:
        if node.op == "call_method":
            how, dim = (node.args[1] if len(node.args) > 1 else None), (node.args[2] if len(node.args) > 2 else 0)
            how = node.kwargs.get("chunks", node.kwargs.get("split_size", how))
        else:
            how = ops._argument(node, 1, "chunks" if node.target is torch.chunk else "split_size_or_sections")
            dim = ops._argument(node, 2, "dim", 0)
        dim = node.kwargs.get("dim", dim)
        source = node.args[0]
        shape = self.capture.shape(source)
        if dim % len(shape) != 1:
            return Unsupported(f"{self.op_name(node)} along axis {dim}", "cnncalc splits along the channel axis")
        sizes = [tuple(part.shape)[1] for part in self.capture.values[node]]
        chunked = node.target in (torch.chunk, "chunk")
        if chunked and len(set(sizes)) == 1 and shape[1] % how == 0:
            fields: dict[str, Any] = {"parts": how}
        else:
            fields = {"sizes": sizes}
        self.splits[node] = ("channel_split", fields, self.resolve(source))
        return NotATensor()

    def getitem(self, node: torch.fx.Node) -> Any:
        source, index = node.args[0], node.args[1]
        if not isinstance(source, torch.fx.Node):
            return NotATensor()
        if source in self.attention_outputs:
            if index == 0:
                return PassThrough(source)
            return Unsupported("the attention weights of MultiheadAttention", "call it with need_weights=False")
        if source in self.splits:
            kind, fields, origin = self.splits[source]
            parts = fields.get("parts") or len(fields["sizes"])
            return kind, {**fields, "take": index % parts}, [origin]
        value = self.capture.values.get(source)
        if not isinstance(value, torch.Tensor):
            return NotATensor()
        shape = tuple(value.shape)
        if (
            len(shape) == 3
            and isinstance(index, tuple)
            and len(index) == 2
            and index[0] == slice(None)
            and isinstance(index[1], int)
        ):
            return "take_token", ({"index": index[1]} if index[1] else {}), [self.resolve(source)]
        sliced = self.channel_slice(node, shape, index)
        if sliced is not None:
            return sliced
        return Unsupported("indexing a tensor", f"index {index!r} of shape {shape}")

    def reshaping(self, node: torch.fx.Node) -> Any:
        source = node.args[0]
        in_shape = self.capture.shape(source)
        out_shape = self.capture.shape(node)
        if in_shape == out_shape:
            return PassThrough(source)
        if out_shape[0] != in_shape[0]:
            return Unsupported(f"{self.op_name(node)} that changes the batch axis", f"{in_shape} -> {out_shape}")
        # A flatten of trailing axes is written as one: it works at every input size.
        for start in range(1, len(in_shape)):
            if out_shape == (*in_shape[:start], math.prod(in_shape[start:])):
                return "flatten", ({"start_dim": start} if start != 1 else {}), [self.resolve(source)]
        shuffle = self.channel_shuffle(node, in_shape, out_shape)
        if shuffle is not None:
            return shuffle
        varies = self.capture.varies(node)
        sizes = list(out_shape[1:])
        if varies is not None:
            changing = [axis for axis in range(1, len(out_shape)) if varies[axis]]
            if len(changing) == 1:
                sizes[changing[0] - 1] = -1
        return "reshape", {"shape": sizes}, [self.resolve(source)]

    def channel_shuffle(self, node: torch.fx.Node, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Any:
        """ShuffleNet's view(B, g, C/g, H, W) -> transpose(1, 2) -> contiguous -> view(B, C, H, W)."""
        if len(in_shape) != 4 or len(out_shape) != 5 or out_shape[1] * out_shape[2] != in_shape[1]:
            return None
        chain: list[torch.fx.Node] = [node]
        current = node
        for _ in range(3):
            users = list(current.users)
            if len(users) != 1:
                return None
            current = users[0]
            chain.append(current)
            if current.op == "call_method" and current.target in ("view", "reshape"):
                break
        transpose = [item for item in chain[1:] if item.target in ("transpose", torch.transpose)]
        last = chain[-1]
        if (
            len(transpose) != 1
            or sorted(a % 5 for a in transpose[0].args[1:3]) != [1, 2]  # type: ignore[operator]
            or last.target not in ("view", "reshape")
            or self.capture.shape(last) != in_shape
        ):
            return None
        for item in chain[1:]:
            self.absorbed[item] = node
        self.chain_ends[node] = last
        return "channel_shuffle", {"groups": out_shape[1]}, [self.resolve(node.args[0])]

    def mean(self, node: torch.fx.Node) -> Any:
        dims = ops._argument(node, 1, "dim")
        keepdim = ops._argument(node, 2, "keepdim", False)
        shape = self.capture.shape(node.args[0])
        if isinstance(dims, int):
            dims = [dims]
        spatial = list(range(2, len(shape)))
        if isinstance(dims, (list, tuple)) and spatial and sorted(dim % len(shape) for dim in dims) == spatial:
            return "global_avgpool", ({"keepdim": True} if keepdim else {}), [self.resolve(node.args[0])]
        return Unsupported(self.op_name(node), f"over axes {dims}: cnncalc averages over all spatial axes only")

    def functional_layer_norm(self, node: torch.fx.Node) -> Any:
        normalized = ops._argument(node, 1, "normalized_shape")
        weight, bias = ops._argument(node, 2, "weight"), ops._argument(node, 3, "bias")
        eps = ops._argument(node, 4, "eps", 1e-5)
        if not isinstance(normalized, (list, tuple)) or any(isinstance(size, torch.fx.Node) for size in normalized):
            return Unsupported("layer_norm over a computed shape")
        for parameter in (weight, bias):
            if isinstance(parameter, torch.fx.Node) and parameter.op == "get_attr":
                self.use_parameter(str(parameter.target))
        fields = ops._defaults_dropped(
            {
                "dims": len(normalized),
                "elementwise_affine": weight is not None,
                "bias": bias is not None or weight is None,
                "eps": eps,
            },
            {"dims": 1, "elementwise_affine": True, "bias": True, "eps": 1e-5},
        )
        # Named by its node in the calling module (`features.0.1.layer_norm`): the module's own path is the
        # group of the permutes around it (ConvNeXt's LayerNorm2d).
        return "layernorm", fields, [self.resolve(node.args[0])]

    def expanding(self, node: torch.fx.Node) -> Any:
        """`y.expand_as(x)` before `x * y`: broadcasting does the same, so the merge reads `y` itself."""
        merges = {operator.add, operator.mul, torch.add, torch.mul, "add", "mul"}
        if all(user.target in merges for user in node.users):
            return PassThrough(node.args[0])  # type: ignore[arg-type]
        return Unsupported(f"{self.op_name(node)} of an activation", "only before a broadcasting add or multiply")

    def use_learned(self, argument: Any) -> None:
        """A parameter or buffer an operation reads (`F.batch_norm(x, self.running_mean, ...)`)."""
        if isinstance(argument, torch.fx.Node) and self.is_learned(argument):
            self.use_parameter(str(self.learned_source(argument).target))

    def channel_slice(self, node: torch.fx.Node, shape: tuple[int, ...], index: Any) -> Any:
        """`x[:, a:b]` (GhostNet keeps its first channels): a channel split that outputs the middle part."""
        if not (isinstance(index, tuple) and len(index) >= 2 and index[0] == slice(None)):
            return None
        part, rest = index[1], index[2:]
        if not isinstance(part, slice) or part.step not in (None, 1) or any(item != slice(None) for item in rest):
            return None
        if isinstance(part.start, torch.fx.Node) or isinstance(part.stop, torch.fx.Node):
            return None
        start, stop, _ = part.indices(shape[1])
        if stop <= start:
            return None
        sizes = [size for size in (start, stop - start, shape[1] - stop) if size]
        return "channel_split", {"sizes": sizes, "take": 1 if start else 0}, [self.resolve(node.args[0])]

    def uncounted(self, node: torch.fx.Node, unsupported: Unsupported) -> Any:
        """An `uncounted` layer of the traced shape for an operation with no kind, where one can stand."""
        value = self.capture.values.get(node)
        inputs = [self.resolve(item) for item in node.all_input_nodes if self.is_activation(item)]
        if not isinstance(value, torch.Tensor) or not inputs or value.dim() < 1:
            return unsupported
        batch = self.capture.shape(inputs[0])[0]
        if value.shape[0] != batch:
            return unsupported
        fields: dict[str, Any] = {
            "op": unsupported.op,
            "shape": list(value.shape[1:]),
            "traced_inputs": [list(self.capture.shape(item)[1:]) for item in inputs],
        }
        learned = set().union(*(self.sources_of(item) for item in node.all_input_nodes if self.is_learned(item)))
        parameters = dict(self.capture.module.named_parameters())
        buffers = dict(self.capture.module.named_buffers())
        for name in learned:
            self.use_parameter(name)
        counts = {
            "params": sum(parameters[name].numel() for name in learned if name in parameters),
            "buffers": sum(buffers[name].numel() for name in learned if name in buffers),
        }
        fields.update({key: count for key, count in counts.items() if count})
        return "uncounted", fields, inputs

    def derived_from_learned(self, node: torch.fx.Node) -> bool:
        """`self.gamma.reshape(1, -1, 1, 1)`, `self.cls_token.expand(B, -1, -1)`: a parameter reshaped, still a
        parameter (no layer); the operation that uses it with an activation decides what it is."""
        inputs = [
            argument
            for argument in node.all_input_nodes
            if isinstance(self.capture.values.get(argument), torch.Tensor) or argument.op == "get_attr"
        ]
        learned = [argument for argument in inputs if self.is_learned(argument)]
        if learned and len(learned) == len(inputs) and isinstance(self.capture.values.get(node), torch.Tensor):
            self.learned[node] = self.learned_source(learned[0])
            self.derived_sources[node] = set().union(*(self.sources_of(argument) for argument in learned))
            return True
        return False

    def sources_of(self, node: torch.fx.Node) -> set[str]:
        """Every parameter and buffer a learned value is computed from (a bias table and its index)."""
        if node.op == "get_attr":
            return {str(node.target)}
        return self.derived_sources.get(node, {str(self.learned_source(node).target)})

    def use_parameter(self, target: str) -> None:
        if target in self.used_parameters and target not in self.read_by_node:
            self.shared_parameters.add(target)
        self.used_parameters.add(target)
        self.read_by_node.append(target)

    # --- the walk -------------------------------------------------------------------------------------------

    def convert(self) -> Conversion:
        output: torch.fx.Node | None = None
        for node in self.capture.graph_module.graph.nodes:
            if node.op == "placeholder":
                continue
            if node.op == "output":
                result = node.args[0]
                if isinstance(result, dict) and isinstance(result.get("out"), torch.fx.Node):
                    result = result["out"]  # torchvision's segmentation models: the `out` entry is the output
                if not isinstance(result, torch.fx.Node):
                    self.report(
                        node, Unsupported("a forward that returns several values", "cnncalc follows one output")
                    )
                    continue
                output = self.resolve(result)
                continue
            if node.op == "get_attr":
                continue
            if node in self.absorbed:
                self.alias[node] = self.absorbed[node]
                continue
            self.convert_node(node)
        placeholder = next(node for node in self.capture.graph_module.graph.nodes if node.op == "placeholder")
        return Conversion(self.layers, output or placeholder, list(self.unsupported.values()), self.unused_parameters())

    def convert_node(self, node: torch.fx.Node) -> None:
        self.read_by_node = []
        mapped = self.map_node(node)
        shared = [name for name in self.read_by_node if name in self.shared_parameters]
        if shared and not isinstance(mapped, (PassThrough, NotATensor)):
            mapped = Unsupported(f"{self.op_name(node)} reusing {shared[0]}", "weights shared between two layers")
        if isinstance(mapped, PassThrough):
            self.alias[node] = self.resolve(mapped.source)
            return
        if isinstance(mapped, NotATensor):
            return
        if isinstance(mapped, Unsupported):
            mapped = self.uncounted(node, mapped) if self.allow_uncounted else mapped
            if isinstance(mapped, Unsupported):
                self.report(node, mapped)
                return
        kind, fields, inputs, *owner = mapped
        layer = Layer(
            self.path_for(node, kind, owner[0] if owner else None),
            kind,
            fields,
            inputs,
            node,
            functional=node.op != "call_module",
            parameters=self.read_by_node,
        )
        layer.last_node = self.chain_ends.get(node)
        self.layers.append(layer)

    def map_node(self, node: torch.fx.Node) -> Any:
        if node.op == "call_module":
            module = self.capture.modules[str(node.target)]
            handler = ops.module_handler(module)
            if handler is None:
                return Unsupported(type(module).__name__, "a module class cnncalc has no layer kind for")
            if any(True for _ in module.parameters()) and self.module_calls[str(node.target)]:
                return Unsupported(f"{type(module).__name__} called twice", "weights shared between two layers")
            self.module_calls[str(node.target)] += 1
            for name, _ in module.named_parameters():
                self.use_parameter(f"{node.target}.{name}")
            return handler(self, node, module)
        if not _holds_tensors(self.capture.values.get(node)):
            return NotATensor()  # shape arithmetic, asserts, a None from need_weights=False
        if node.op in ("call_function", "call_method") and self.derived_from_learned(node):
            return NotATensor()
        if node.op == "call_function":
            handler = self.functions.get(node.target)
            if handler is None:
                return Unsupported(self.op_name(node), "a function cnncalc has no layer kind for")
            return handler(self, node)
        if node.op == "call_method":
            if node.target in ("expand", "expand_as"):
                return self.expanding(node)
            handler = ops.METHODS.get(str(node.target))
            if handler is None:
                if not isinstance(self.capture.values.get(node), torch.Tensor):
                    return NotATensor()
                return Unsupported(self.op_name(node), "a tensor method cnncalc has no layer kind for")
            return handler(self, node)
        return Unsupported(node.op)

    def report(self, node: torch.fx.Node, unsupported: Unsupported) -> None:
        stack = list((node.meta.get("nn_module_stack") or {}).keys())
        module_path = str(node.target) if node.op == "call_module" else (stack[-1] if stack else "")
        source = source_line(node)
        key = (unsupported.op, unsupported.reason, source or module_path)
        if key in self.unsupported:
            use = self.unsupported[key]
            use.count += 1
            if module_path and module_path not in use.module_paths:
                use.module_paths.append(module_path)
        else:
            self.unsupported[key] = UnsupportedUse(unsupported.op, unsupported.reason, [module_path], source)

    def path_for(self, node: torch.fx.Node, kind: str, owner: str | None) -> str:
        """A path no other layer has, that names no module the layer is not (`add` never takes `relu`'s)."""
        if owner is not None:
            base, own_module = owner, True
        elif node.op == "call_module":
            base, own_module = str(node.target), True
        else:
            stack = list((node.meta.get("nn_module_stack") or {}).keys())
            # a module's second call is `name@1` in the stack: written `name_1`, beside the first call's `name`
            scope = re.sub(r"@(\d+)", r"_\1", stack[-1]) if stack else ""
            name = re.sub(r"_\d+$", "", node.name)
            base, own_module = (f"{scope}.{name}" if scope else name), False
        path, number = base, 1
        while path in self.taken_paths or (path in self.module_paths and not (own_module and path == base)):
            path = f"{base}_{number}"
            number += 1
        self.taken_paths.add(path)
        return path

    def unused_parameters(self) -> dict[str, int]:
        """Parameters the forward pass never reads (an auxiliary head at inference), by the outermost module
        none of whose parameters is read."""
        used_modules: set[str] = set()
        for name in self.used_parameters:
            parts = name.split(".")
            used_modules.update(".".join(parts[:end]) for end in range(len(parts)))
        unused: Counter[str] = Counter()
        for name, parameter in self.capture.module.named_parameters():
            if name not in self.used_parameters:
                parts = name.split(".")
                owner = next(
                    ".".join(parts[:end])
                    for end in range(1, len(parts) + 1)
                    if ".".join(parts[:end]) not in used_modules
                )
                unused[owner] += parameter.numel()
        return dict(unused)


def _holds_tensors(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, (tuple, list)) and any(isinstance(item, torch.Tensor) for item in value)


def convert(capture: Capture, allow_uncounted: bool = False) -> Conversion:
    return Converter(capture, allow_uncounted).convert()
