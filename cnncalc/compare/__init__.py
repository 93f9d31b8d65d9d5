"""Two analyses side by side: which layers were added, removed or changed, and how the totals moved.

- `align`: the two layer lists merged into one order, layers matched by their block path;
- `networks`: the comparison itself (`compare_networks`), as frozen data; rendering is cnncalc.render.diff_table.
"""
