"""Charts as image files (PNG, SVG, PDF), drawn with matplotlib: an optional dependency
(`pip install "cnncalc[plot]"`), imported only here and only when a file is asked for.

The same `Chart`s the terminal draws (cnncalc.render.line_chart), one panel each, stacked. SVG keeps its text
as text (the labels and tick values can be searched and read), and files carry no date, so the same sweep
writes the same file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cnncalc.render.line_chart import Chart, y_text

FORMATS = ("png", "svg", "pdf")
INSTALL_HINT = 'pip install "cnncalc[plot]"'


def plotting_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def write_plot(charts: list[Chart], path: Path, title: str) -> None:
    """Draw `charts` one above the other into `path`, whose suffix (one of FORMATS) chooses the format."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit: files only
    from matplotlib import pyplot
    from matplotlib.ticker import FuncFormatter

    suffix = path.suffix.lower().lstrip(".")
    settings = {"svg.fonttype": "none", "svg.hashsalt": "cnncalc"}
    with matplotlib.rc_context(settings):
        figure, axes = pyplot.subplots(len(charts), 1, figsize=(8, 3.2 * len(charts)), squeeze=False)
        try:
            for chart, panel in zip(charts, axes[:, 0], strict=True):
                for series in chart.series:
                    xs = [x for x, _ in series.points]
                    ys = [y for _, y in series.points]
                    panel.plot(xs, ys, marker="o", markersize=3, label=series.label or None)
                panel.set_title(chart.title, fontsize=10)
                panel.set_xlabel(chart.x_label)
                panel.set_ylabel(chart.y_label)
                panel.set_ylim(bottom=min(0, *(y for series in chart.series for _, y in series.points)))
                in_bytes = chart.y_bytes
                panel.yaxis.set_major_formatter(FuncFormatter(lambda value, _, b=in_bytes: y_text(value, b)))
                panel.grid(True, alpha=0.3)
                if any(series.label for series in chart.series):
                    panel.legend(fontsize=8)
            figure.suptitle(title)
            figure.tight_layout()
            metadata = {"Date": None} if suffix in ("svg", "pdf") else {}
            figure.savefig(path, format=suffix, dpi=100, metadata=metadata)
        finally:
            pyplot.close(figure)
