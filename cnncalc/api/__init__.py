"""The Python API: `cnncalc.analyze`, `cnncalc.summary` and `cnncalc.to_spec`, and the result they return.

- `functions`: the three functions, which check their arguments and run the engine;
- `sources`: what a `source` argument is (a path, a bundled name, YAML text, data, a PyTorch module);
- `shapes`: how an `input` argument is read (with or without its batch axis);
- `modules`: the PyTorch side (whether a value is a module, its rank, the importer), torch imported only there;
- `analysis`: `Analysis`, the typed and frozen result, which draws itself as the command line does;
- `reference`: the README's API reference, written from the docstrings.

`import cnncalc` imports none of these: the names in `cnncalc` load them when first used.
"""
