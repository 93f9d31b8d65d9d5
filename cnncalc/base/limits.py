"""Documented limits that keep hostile or broken specs from hanging cnncalc or exhausting memory.

Each is far above what any real network needs; the README lists them.
"""

MAX_FILE_BYTES = 8 * 1024 * 1024  # a 10,000-layer spec is well under 1 MiB
MAX_YAML_NODES = 500_000  # scalars + collections after alias expansion (stops "billion laughs")
MAX_YAML_DEPTH = 64  # nesting of YAML collections
MAX_BLOCK_DEPTH = 32  # nesting of block uses inside block uses
MAX_REPEAT = 10_000  # repeat count of one entry
MAX_NODES = 100_000  # layer nodes after every block and repeat is expanded
MAX_NESTING = 64  # levels of a layer's path (blocks, groups and repeats inside each other)
MAX_EXPRESSION_CHARS = 500
MAX_EXPRESSION_NODES = 200  # syntax-tree nodes in one expression
MAX_LIST_LENGTH = 64  # items of a list an expression builds: kernel sizes, shapes (a few axes)
MAX_DIMENSION = 2**31 - 1  # any single axis (batch, channels, spatial size, features)
MAX_NUMEL = 2**63 - 1  # elements in one tensor: PyTorch indexes tensors with int64
MAX_INTEGER = 2**62  # any integer an expression produces
MAX_NUMBER_DIGITS = 100  # decimal digits of an integer written in a spec (0x... literals can be far longer)
MAX_SPATIAL_AXES = 3
