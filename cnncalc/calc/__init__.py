"""One-line calculators: a single layer, or a short inline stack, without writing a YAML file.

Every number comes from the engine: the calculators build a tiny spec (`network.analyze_layers`) and
read the rows the engine returns. The worked explanations (`explain`) restate the formulas with the
numbers substituted and check each result they show against the engine's row.
"""
