"""Peak activation memory of an inference pass, from tensor lifetimes in execution order.

Each layer's output lives from the step that writes it until the last step that reads it; the network
output lives to the end. The peak is the largest total of live outputs (the network input included),
assuming every layer writes a new tensor (no in-place operations, no views).
"""

from __future__ import annotations

from collections.abc import Sequence


def last_readers(inputs: Sequence[Sequence[int]]) -> dict[int, int]:
    """For each value that is read (a node index, or -1 for the network input), the last node reading it."""
    readers: dict[int, int] = {}
    for node, sources in enumerate(inputs):
        for source in sources:
            readers[source] = node
    return readers


def peak_live_bytes(
    output_bytes: Sequence[int], inputs: Sequence[Sequence[int]], input_bytes: int, network_output: int
) -> int:
    """`output_bytes[i]` is node i's output size, `inputs[i]` the nodes it reads (-1: network input)."""
    return max([input_bytes, *live_bytes_per_step(output_bytes, inputs, input_bytes, network_output)])


def live_bytes_per_step(
    output_bytes: Sequence[int], inputs: Sequence[Sequence[int]], input_bytes: int, network_output: int
) -> list[int]:
    """The bytes live at each step of an inference pass, just after node i has written its output (its inputs
    not yet freed): the memory profile along the network, whose largest entry (or the input alone) is the peak."""
    count = len(output_bytes)
    readers = last_readers(inputs)
    last_use = [readers.get(node, node) for node in range(count)]  # nobody reads it: freed once written
    input_last_use = readers.get(-1, -1)
    if 0 <= network_output < count:
        last_use[network_output] = count
    elif network_output < 0:
        input_last_use = count  # the network returns its input: it lives to the end
    frees_at: list[int] = [0] * (count + 1)
    for node, step in enumerate(last_use):
        frees_at[step] += output_bytes[node]
    live = input_bytes
    profile: list[int] = []
    for step in range(count):
        live += output_bytes[step]
        profile.append(live)
        live -= frees_at[step]
        if step == input_last_use:
            live -= input_bytes
    return profile
