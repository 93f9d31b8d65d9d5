"""Sweeps: one network's totals across inputs, batches and spec variables (`cnncalc sweep`).

grid: the options read into parameters and points; run: the totals at each point, reusing the expansion
(cnncalc.engine.reuse); output: the table, JSON, CSV, Markdown and the charts.
"""
