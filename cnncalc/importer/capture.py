"""Trace a module into a graph and record what every node produced, at the traced input and at a second one.

`torch.fx` symbolic tracing sees every `call_module`, `call_function` and `call_method` of the forward pass.
The graph then runs on meta tensors (nothing is allocated, any size is free) twice: at the input asked for, and
at a second input with twice the batch and twice each spatial size. A size that differs between the two runs
depends on the input (a token count, a batch), one that does not is a property of the model (channels, heads):
that is how a written `reshape` keeps working at other input sizes.
"""

from __future__ import annotations

import contextlib
import linecache
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
from torch import nn

from cnncalc.importer.errors import ImportFailure


@dataclass
class Capture:
    """A traced graph with what each node produced: `values[node]` at the traced input, `second[node]` at the
    second input (absent when the model refuses it)."""

    graph_module: torch.fx.GraphModule
    module: nn.Module  # the model itself (the graph module holds only the submodules the forward calls)
    modules: dict[str, nn.Module]
    input_shape: tuple[int, ...]  # batch first
    values: dict[torch.fx.Node, Any]
    second: dict[torch.fx.Node, Any] = field(default_factory=dict)
    second_tried: bool = False
    fixed: bool = False  # traced with its shapes fixed (the fallback): the spec holds at this input only

    def shape(self, node: torch.fx.Node) -> tuple[int, ...]:
        value = self.values[node]
        if isinstance(value, (tuple, list)):  # nn.MultiheadAttention: (output, weights)
            value = value[0]
        return tuple(value.shape)

    def varies(self, node: torch.fx.Node) -> tuple[bool, ...] | None:
        """For each axis of a node's tensor: whether its size changed with the input (None: no second run).
        The second run happens here, the first time a reshape asks: most networks never do."""
        if not self.second and not self.second_tried:
            self.second_tried = True
            batch, channels, *spatial = self.input_shape
            try:
                with for_inference(self.module):
                    self.second = run_on_meta(self.graph_module, (batch * 2, channels, *(size * 2 for size in spatial)))
            except Exception:
                self.second = {}  # the model runs at its traced size only (a fixed position embedding, say)
        if node not in self.second:
            return None
        first, second = self.values[node].shape, self.second[node].shape
        if len(first) != len(second):
            return None
        return tuple(a != b for a, b in zip(first, second, strict=True))


class _Recorder(torch.fx.Interpreter):
    """Runs the graph and keeps every node's result (tensors are meta tensors: shapes only)."""

    def __init__(self, graph_module: torch.fx.GraphModule) -> None:
        super().__init__(graph_module)
        self.values: dict[torch.fx.Node, Any] = {}

    def run_node(self, node: torch.fx.Node) -> Any:
        result = _same_shape_shortcut(self, node)
        if result is None:
            result = super().run_node(node)
        self.values[node] = result
        return result


_ELEMENTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.ELU,
    nn.Mish, nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
)  # fmt: skip
_BATCHNORM_RANKS = {nn.BatchNorm1d: (2, 3), nn.BatchNorm2d: (4,), nn.BatchNorm3d: (5,)}


def _same_shape_shortcut(interpreter: torch.fx.Interpreter, node: torch.fx.Node) -> Any:
    """The input itself, for a module call whose output has its input's shape and that PyTorch would accept
    (the same checks: channels, normalized shape), else None. Running BatchNorm on meta tensors goes through a
    slow Python decomposition; the shapes are known without it."""
    if node.op != "call_module" or len(node.args) != 1 or node.kwargs or not isinstance(node.args[0], torch.fx.Node):
        return None
    module = interpreter.submodules.get(str(node.target))
    value = interpreter.env.get(node.args[0])
    if module is None or not isinstance(value, torch.Tensor) or not value.is_meta:
        return None
    kind = type(module)
    if kind in _ELEMENTWISE_MODULES:
        return value
    if kind in _BATCHNORM_RANKS:
        accepted = value.dim() in _BATCHNORM_RANKS[kind] and value.shape[1] == module.num_features  # type: ignore[union-attr]
        return value if accepted else None
    if kind is nn.LayerNorm:
        normalized = tuple(module.normalized_shape)  # type: ignore[union-attr]
        return value if tuple(value.shape[-len(normalized) :]) == normalized else None
    if kind is nn.GroupNorm:
        return value if value.dim() >= 2 and value.shape[1] == module.num_channels else None
    return None


@contextlib.contextmanager
def for_inference(module: nn.Module) -> Iterator[None]:
    """The module in eval mode while it is traced (dropout off, auxiliary heads skipped), each submodule's own
    mode given back after: the module is the user's, and cnncalc leaves it as it found it."""
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training


class _Holder(nn.Module):
    """Holds the graph module so that torch.func.functional_call can swap its tensors for meta ones."""

    def __init__(self, graph_module: torch.fx.GraphModule, interpreter: torch.fx.Interpreter) -> None:
        super().__init__()
        self.held = graph_module
        self.interpreter = interpreter

    def forward(self, *arguments: Any) -> Any:
        return self.interpreter.run(*arguments)


def run_interpreter(interpreter: torch.fx.Interpreter, arguments: list[Any]) -> Any:
    """Run the graph on meta tensors. The model's own weights stay where they are, untouched: for the run,
    torch.func.functional_call puts meta tensors of the same shapes in their place (nothing is allocated)."""
    graph_module = interpreter.module
    meta = {
        f"held.{name}": torch.empty_like(tensor, device="meta")
        for named in (graph_module.named_parameters, graph_module.named_buffers)
        for name, tensor in named(remove_duplicate=False)
        if not tensor.is_meta
    }
    with torch.no_grad(), _quiet_warnings():
        if not meta:
            return interpreter.run(*arguments)
        return torch.func.functional_call(_Holder(graph_module, interpreter), meta, tuple(arguments), strict=False)


class _Tracer(torch.fx.Tracer):
    """torch.nn's modules are leaves, as usual, and so are the library modules cnncalc has one kind for
    (timm's self-attention: one `attention` layer instead of its reshapes and permutes of the batch axis)."""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        from cnncalc.importer.ops import module_handler

        return module_handler(module) is not None or super().is_leaf_module(module, qualified_name)


def _optional_arguments(module: nn.Module) -> dict[str, Any]:
    """Arguments of `forward` after the image that have defaults (a mask, a flag): traced at their defaults."""
    import inspect

    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    return {
        parameter.name: parameter.default
        for parameter in parameters[1:]
        if parameter.default is not inspect.Parameter.empty
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }


class _ShapedProxy(torch.fx.Proxy):
    """A proxy that knows its value on meta tensors: Python code in `forward` may read a tensor's shape (and
    branch on it, as TensorFlow-style padding and resizing heads do), which plain symbolic tracing cannot."""

    def _known(self) -> Any:
        node = self.__dict__.get("node")  # not self.node: __getattr__ runs before __init__ has set it
        return None if node is None else node.meta.get("value")

    def __getattr__(self, name: str) -> Any:
        value = self._known() if name in _CONCRETE_ATTRIBUTES else None
        if isinstance(value, torch.Tensor):
            return getattr(value, name)  # `x.shape`, `x.size(1)`, `x.dim()`: numbers, not graph nodes
        return super().__getattr__(name)

    def __len__(self) -> int:
        value = self._known()
        if value is None:
            return super().__len__()  # type: ignore[misc]
        return len(value)

    def __iter__(self) -> Any:
        value = self._known()
        if isinstance(value, (tuple, list, torch.Tensor)):
            return (self[index] for index in range(len(value)))
        return super().__iter__()


_CONCRETE_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "device", "is_cuda", "size", "dim", "numel", "layout"})


class _ShapedTracer(_Tracer):
    """Symbolic tracing that runs every operation on meta tensors as it records it (shapes fixed at the
    traced input): the fallback for models whose `forward` branches on sizes."""

    def __init__(self, arguments: list[Any]) -> None:
        super().__init__()
        self.arguments = list(arguments)
        self.computing = False  # running an operation for its value: nothing it calls is recorded

    def proxy(self, node: torch.fx.Node) -> torch.fx.Proxy:
        return _ShapedProxy(node, self)

    def call_module(self, module: nn.Module, forward: Any, args: Any, kwargs: Any) -> Any:
        if self.computing:
            return forward(*args, **kwargs)
        return super().call_module(module, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        if self.computing:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def create_proxy(self, kind: str, target: Any, args: Any, kwargs: Any, *rest: Any, **options: Any) -> Any:
        proxy = super().create_proxy(kind, target, args, kwargs, *rest, **options)
        self.computing = True
        try:
            proxy.node.meta["value"] = self._value(kind, target, args, kwargs)
        finally:
            self.computing = False
        return proxy

    def _value(self, kind: str, target: Any, args: Any, kwargs: Any) -> Any:
        def concrete(item: Any) -> Any:
            return item.node.meta.get("value") if isinstance(item, torch.fx.Proxy) else item

        args = torch.fx.node.map_aggregate(args, concrete)
        kwargs = torch.fx.node.map_aggregate(kwargs, concrete)
        if kind == "placeholder":
            return self.arguments.pop(0) if self.arguments else None
        if kind == "get_attr":
            value: Any = self.root
            for part in str(target).split("."):
                value = getattr(value, part)
            return value
        if kind == "call_module":
            return self.root.get_submodule(target)(*args, **kwargs)
        if kind == "call_method":
            return getattr(args[0], target)(*args[1:], **kwargs)
        if kind == "call_function":
            return target(*args, **kwargs)
        return None


def trace_with_shapes(module: nn.Module, input_shape: tuple[int, ...], label: str) -> Capture:
    """The fallback capture: trace while running on meta tensors, the model's weights swapped for meta ones
    for the time of the trace (the model itself is left as it is)."""
    image = torch.zeros(input_shape, device="meta")
    defaults = list(_optional_arguments(module).values())
    meta = {
        f"held.{name}": torch.empty_like(tensor, device="meta")
        for named in (module.named_parameters, module.named_buffers)
        for name, tensor in named(remove_duplicate=False)
        if not tensor.is_meta
    }
    holder = _TraceHolder(module, [image, *defaults])
    try:
        with torch.no_grad(), _quiet_warnings():
            torch.func.functional_call(holder, meta, (image,), strict=False)
    except Exception as error:
        raise ImportFailure(
            f"{label}: torch.fx cannot trace this model's forward, even with its shapes fixed: "
            f"{type(error).__name__}: {_first_line(error)}\n"
            "  hint: data-dependent control flow (an `if` on a tensor's values) cannot be traced; "
            "wrap that part in a submodule or a function marked with torch.fx.wrap"
        ) from None
    graph_module = holder.traced
    values = {node: node.meta.get("value") for node in graph_module.graph.nodes}
    capture = Capture(graph_module, module, dict(graph_module.named_modules()), input_shape, values)
    capture.second_tried = True  # its shapes are the traced input's: no second input to compare with
    capture.fixed = True
    return capture


class _TraceHolder(nn.Module):
    def __init__(self, module: nn.Module, arguments: list[Any]) -> None:
        super().__init__()
        self.held = module
        self.arguments = arguments
        self.traced: torch.fx.GraphModule | None = None

    def forward(self, image: torch.Tensor) -> None:
        tracer = _ShapedTracer(self.arguments)
        tracer.record_stack_traces = True
        graph = tracer.trace(self.held, concrete_args=_optional_arguments(self.held) or None)
        self.traced = torch.fx.GraphModule(tracer.root, graph, type(self.held).__name__)


def trace(module: nn.Module, label: str, stack_traces: bool = False) -> torch.fx.GraphModule:
    """The symbolic trace; `stack_traces` records each node's line of code (for error messages: it costs
    about as much as the trace itself)."""
    tracer = _Tracer()
    tracer.record_stack_traces = stack_traces
    try:
        graph = tracer.trace(module, concrete_args=_optional_arguments(module) or None)
    except Exception as error:  # the model's own code raised while being traced
        raise ImportFailure(
            f"{label}: torch.fx cannot trace this model's forward: {type(error).__name__}: {_first_line(error)}\n"
            "  hint: data-dependent control flow (an `if` on a tensor's values) cannot be traced; "
            "wrap that part in a submodule or a function marked with torch.fx.wrap"
        ) from None
    return torch.fx.GraphModule(tracer.root, graph, type(module).__name__)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def run_on_meta(graph_module: torch.fx.GraphModule, shape: tuple[int, ...]) -> dict[torch.fx.Node, Any]:
    recorder = _Recorder(graph_module)
    run_interpreter(recorder, network_arguments(graph_module, torch.zeros(shape, device="meta")))
    return recorder.values


def network_arguments(graph_module: torch.fx.GraphModule, image: torch.Tensor) -> list[Any]:
    """The image, then the defaults of the optional arguments the trace fixed (their placeholders stay)."""
    placeholders = [node for node in graph_module.graph.nodes if node.op == "placeholder"]
    return [image, *(node.args[0] if node.args else None for node in placeholders[1:])]


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def capture(module: nn.Module, input_shape: tuple[int, ...], label: str, stack_traces: bool = False) -> Capture:
    """Trace `module` and run it at `input_shape` (batch first); a second, larger input is run when needed."""
    with for_inference(module):
        return _capture(module, input_shape, label, stack_traces)


def _capture(module: nn.Module, input_shape: tuple[int, ...], label: str, stack_traces: bool) -> Capture:
    try:
        graph_module = trace(module, label, stack_traces)
    except ImportFailure:
        return trace_with_shapes(module, input_shape, label)  # a forward that branches on sizes
    placeholders = [node for node in graph_module.graph.nodes if node.op == "placeholder"]
    if not placeholders:
        raise ImportFailure(f"{label}: forward takes no input")
    try:
        values = run_on_meta(graph_module, input_shape)
    except Exception as error:
        shape = "x".join(str(size) for size in input_shape)
        raise ImportFailure(
            f"{label}: the model rejects an input of shape {shape}: {type(error).__name__}: {_first_line(error)}"
        ) from None
    return Capture(graph_module, module, dict(graph_module.named_modules()), input_shape, values)


def source_line(node: torch.fx.Node) -> str:
    """`file:line` of the user's code that made a node (the innermost frame outside torch), or ''."""
    trace_text = node.stack_trace or ""
    frames = [line.strip() for line in trace_text.splitlines() if line.strip().startswith("File ")]
    for frame in reversed(frames):
        # File "/path/model.py", line 12, in forward
        parts = frame.split('"')
        if len(parts) < 3:
            continue
        path = parts[1]
        if "/torch/" in path or "/cnncalc/" in path:
            continue
        line = parts[2].split(",")[1].strip().removeprefix("line ").strip() if "," in parts[2] else ""
        code = linecache.getline(path, int(line)).strip() if line.isdigit() else ""
        return f"{path}:{line}" + (f": {code}" if code else "")
    return ""
