"""The drill's topics: names, one-line summaries and the short aliases --topic accepts.

The one list of topics. It is kept apart from the question generators (cnncalc.drill.topics, which import the
engine), so that `cnncalc drill --help` and `cnncalc drill topics` list the topics without loading them.
"""

from __future__ import annotations

# In the order sessions, worksheets and listings use.
SUMMARIES: dict[str, str] = {
    "conv-output": "conv output size (stride, padding, dilation) and 'same' padding",
    "pool-output": "pooling output size, with and without ceil_mode",
    "transposed-output": "transposed-conv output size (stride, padding, output_padding)",
    "conv-params": "parameters of standard, grouped, depthwise, pointwise, separable convs",
    "batchnorm": "BatchNorm parameters vs buffers",
    "linear-head": "classifier heads: global-average-pool head vs flatten head",
    "macs-flops": "MACs and FLOPs of a layer",
    "separable-ratio": "depthwise-separable cost ratio 1/C_out + 1/K²",
    "receptive-field": "receptive field and jump through a stack",
    "shortcut": "residual shortcut: identity or projection, and its parameters",
    "bottleneck": "bottleneck blocks and their savings",
    "activation-memory": "memory of activations (dtype, batch)",
    "im2col": "im2col / GEMM matrix dimensions of a conv",
    "dense-vs-conv": "a dense layer vs a conv: parameter counts",
    "vit-patch": "ViT patch embedding: tokens, shapes, parameters",
    "training": "a training step: backward FLOPs, saved bytes, optimizer state, fit",
}

# Short names people type.
ALIASES: dict[str, str] = {
    "conv": "conv-output",
    "output": "conv-output",
    "same": "conv-output",
    "pool": "pool-output",
    "pooling": "pool-output",
    "transposed": "transposed-output",
    "deconv": "transposed-output",
    "params": "conv-params",
    "depthwise": "conv-params",
    "grouped": "conv-params",
    "bn": "batchnorm",
    "head": "linear-head",
    "gap": "linear-head",
    "linear": "linear-head",
    "macs": "macs-flops",
    "flops": "macs-flops",
    "separable": "separable-ratio",
    "ratio": "separable-ratio",
    "rf": "receptive-field",
    "receptive": "receptive-field",
    "residual": "shortcut",
    "projection": "shortcut",
    "memory": "activation-memory",
    "activations": "activation-memory",
    "gemm": "im2col",
    "dense": "dense-vs-conv",
    "fc": "dense-vs-conv",
    "vit": "vit-patch",
    "patch": "vit-patch",
    "train": "training",
    "backward": "training",
    "optimizer": "training",
    "fit": "training",
}
