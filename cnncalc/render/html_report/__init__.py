"""`cnncalc report`: one self-contained HTML page with the totals, the per-layer table (sortable, filterable,
collapsible by block), charts drawn as inline SVG, the conventions table and the spec with its warnings.

`model` selects the data from the engine's result, `charts` draws the SVG, `page` assembles the page with
the inline `report.css` and `report.js`.
"""

from cnncalc.render.html_report.model import ReportInputs, document
from cnncalc.render.html_report.page import GENERATOR, render_report

__all__ = ["GENERATOR", "ReportInputs", "document", "render_report"]
