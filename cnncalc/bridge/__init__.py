"""The torch bridge: every spec built as a real `torch.nn.Module` that runs the spec's DAG.

Importing this package imports torch; the engine and `cnncalc analyze` never do. Use
`cnncalc.bridge.require.torch_or_exit()` in commands to turn a missing torch into a clear message.
"""
