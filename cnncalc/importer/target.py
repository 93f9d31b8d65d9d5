"""Turn a command-line TARGET into a module: `torchvision:resnet50`, `timm:convnext_tiny`,
`package.module:attr` or `path/to/file.py:attr`.

Nothing is downloaded: torchvision and timm models are built with random initialisation (`weights=None`,
`pretrained=False`). A model is built on the meta device when its constructor allows it (nothing is
allocated), on the CPU otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncalc.importer.errors import ImportFailure


@dataclass(frozen=True)
class Built:
    module: Any  # torch.nn.Module
    library: str  # "torchvision", "timm" or "" (the user's code)
    library_version: str


def parse_arguments(pairs: list[str]) -> dict[str, Any]:
    """`--arg num_classes=10 --arg drop_rate=0.1 --arg name=x`: values read as Python literals when they are."""
    import ast

    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key.strip().isidentifier():
            raise ImportFailure(f"--arg {pair!r}: expected KEY=VALUE, e.g. num_classes=10", usage=True)
        try:
            value: Any = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        arguments[key.strip()] = value
    return arguments


def build(target: str, arguments: dict[str, Any]) -> Built:
    import torch

    library, separator, name = target.partition(":")
    if not separator or not library or not name:
        raise ImportFailure(
            f"{target!r} is not a model target: use torchvision:NAME, timm:NAME, package.module:ATTR "
            "or path/to/file.py:ATTR",
            usage=True,
        )
    if library in ("torchvision", "timm"):
        factory = _library_factory(library, name, target)
        version = getattr(sys.modules[library], "__version__", "")
    else:
        factory = _user_factory(library, name, target, arguments)
        version = ""
        library = ""
    for device in ("meta", "cpu"):
        try:
            with torch.device(device), _quiet():
                module = factory(arguments)
            break
        except ImportFailure:
            raise
        except Exception as error:
            if device == "cpu":
                raise ImportFailure(f"{target}: building the model failed: {type(error).__name__}: {error}") from None
    if not isinstance(module, torch.nn.Module):
        raise ImportFailure(f"{target}: {name} gave a {type(module).__name__}, not a torch.nn.Module", usage=True)
    return Built(module, library, version)


def _library_factory(library: str, name: str, target: str) -> Any:
    try:
        package = importlib.import_module(library)
    except ModuleNotFoundError:
        raise ImportFailure(f"{target}: {library} is not installed (pip install {library})", usage=True) from None
    except Exception as error:
        raise ImportFailure(f"{target}: importing {library} failed: {type(error).__name__}: {error}") from None
    if library == "torchvision":
        available = set(package.models.list_models())
        if name not in available:
            raise ImportFailure(f"{target}: torchvision has no model {name!r}{_close(name, available)}", usage=True)
        builder = package.models.get_model_builder(name)
        # segmentation and detection builders download their backbone's weights unless told not to
        extra = {"weights_backbone": None} if "weights_backbone" in inspect.signature(builder).parameters else {}
        return lambda arguments: builder(**{"weights": None, **extra, **arguments})
    if not package.is_model(name):
        raise ImportFailure(
            f"{target}: timm has no model {name!r}{_close(name, set(package.list_models()))}", usage=True
        )
    return lambda arguments: package.create_model(name, pretrained=False, **arguments)


def _close(name: str, names: set[str]) -> str:
    import difflib

    matches = difflib.get_close_matches(name, sorted(names), n=3)
    return f" (did you mean {', '.join(matches)}?)" if matches else ""


def _user_factory(location: str, attribute: str, target: str, arguments: dict[str, Any]) -> Any:
    namespace = _load(location, target)
    value = namespace
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise ImportFailure(f"{target}: {location} has no attribute {attribute!r}", usage=True)
        value = getattr(value, part)
    import torch

    if isinstance(value, torch.nn.Module):
        if arguments:
            raise ImportFailure(f"{target}: --arg given, but {attribute} is a module instance", usage=True)
        return lambda _arguments: value
    if not callable(value):
        raise ImportFailure(f"{target}: {attribute} is a {type(value).__name__}, not a module or a factory", usage=True)
    if inspect.isclass(value) and not issubclass(value, torch.nn.Module):
        raise ImportFailure(f"{target}: {attribute} is a class but not a torch.nn.Module", usage=True)
    return lambda arguments: value(**arguments)


def _load(location: str, target: str) -> Any:
    if location.endswith(".py") or "/" in location or "\\" in location:
        path = Path(location)
        if not path.is_file():
            raise ImportFailure(f"{target}: no such file {location}", usage=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(path.stem, module)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise ImportFailure(f"{target}: running {location} failed: {type(error).__name__}: {error}") from None
        return module
    try:
        return importlib.import_module(location)
    except ModuleNotFoundError as error:
        if error.name and location.startswith(error.name):
            raise ImportFailure(f"{target}: no module named {location!r}", usage=True) from None
        raise ImportFailure(f"{target}: importing {location} failed: {error}") from None
    except Exception as error:
        raise ImportFailure(f"{target}: importing {location} failed: {type(error).__name__}: {error}") from None


@contextlib.contextmanager
def _quiet() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
