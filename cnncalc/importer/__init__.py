"""Import a PyTorch model as a cnncalc spec: trace it, map every operation to a layer kind, write YAML.

`spec_from_module(module, input_shape)` is the whole job for a module in hand; `cnncalc import TARGET`
builds the module from a target first (cnncalc/importer/target.py). Importing this package imports torch.
"""

from cnncalc.importer.errors import ImportFailure
from cnncalc.importer.spec import ImportedSpec, import_module, spec_from_module

__all__ = ["ImportFailure", "ImportedSpec", "import_module", "spec_from_module"]
