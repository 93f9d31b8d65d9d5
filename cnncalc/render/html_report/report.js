// The per-layer table of a cnncalc report: sorting, filtering, collapsing blocks, and drawing only the rows
// in view (a 10,000-layer network stays as quick as a small one). Reads the data embedded in the page.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("cnncalc-data").textContent).table;
  const rows = data.rows; // [name, type, depth, parent, isBlock, layers, cells, sortValues]
  const NAME = 0, TYPE = 1, DEPTH = 2, PARENT = 3, BLOCK = 4, CELLS = 6, SORT = 7;
  const nameColumn = data.columns.findIndex((column) => column.key === "name");
  const view = document.getElementById("table-view");
  const table = document.getElementById("layers");
  const body = table.tBodies[0];
  const status = document.getElementById("table-status");
  const filterBox = document.getElementById("table-filter");
  const limit = data.collapsed_below;
  const expanded = new Uint8Array(rows.length);
  let sortColumn = -1;
  let sortDirection = 1;
  let visible = [];
  let rowHeight = 25;
  const OVERSCAN = 20;

  function expandTo(depth) {
    rows.forEach((row, index) => { expanded[index] = row[BLOCK] && (depth === null || row[DEPTH] < depth) ? 1 : 0; });
  }

  function compare(a, b) {
    const x = rows[a][SORT][sortColumn], y = rows[b][SORT][sortColumn];
    let order;
    if (typeof x === "number" && typeof y === "number") order = x - y;
    else if (typeof x === "number") order = -1;
    else if (typeof y === "number") order = 1;
    else order = x < y ? -1 : x > y ? 1 : 0;
    return order * sortDirection || a - b; // ties keep the network order
  }

  // The rows to show, in order. Network order: a block's row, then its rows when it is expanded. Sorted: the
  // rows at the current level of detail (an expanded block's rows, a collapsed block as one row).
  function computeVisible() {
    const query = filterBox.value.trim().toLowerCase();
    let keep = null;
    if (query) {
      keep = new Uint8Array(rows.length);
      for (let index = rows.length - 1; index >= 0; index--) {
        const row = rows[index];
        if (keep[index] || row[NAME].toLowerCase().includes(query) || row[TYPE].toLowerCase().includes(query)) {
          keep[index] = 1;
          if (row[PARENT] >= 0) keep[row[PARENT]] = 1; // a block holding a match stays in view
        }
      }
    }
    const reached = new Uint8Array(rows.length);
    const out = [];
    for (let index = 0; index < rows.length; index++) {
      const parent = rows[index][PARENT];
      reached[index] = parent < 0 || (reached[parent] && expanded[parent]) ? 1 : 0;
      if (!reached[index] || (keep && !keep[index])) continue;
      if (sortColumn >= 0 && rows[index][BLOCK] && expanded[index]) continue;
      out.push(index);
    }
    if (sortColumn >= 0) out.sort(compare);
    visible = out;
    const layers = out.reduce((sum, index) => sum + rows[index][5], 0);
    status.textContent = `${out.length} of ${rows.length} rows shown` +
      (sortColumn >= 0 ? ` (sorted: ${layers} layers at this level of detail)` : "");
  }

  function spacer(height) {
    const row = document.createElement("tr");
    row.className = "spacer";
    const cell = document.createElement("td");
    cell.colSpan = data.columns.length;
    cell.style.height = `${height}px`;
    row.appendChild(cell);
    return row;
  }

  function rowElement(index) {
    const row = rows[index];
    const element = document.createElement("tr");
    element.dataset.index = String(index);
    if (row[BLOCK]) element.className = "block";
    row[CELLS].forEach((text, column) => {
      const cell = document.createElement("td");
      if (data.columns[column].numeric) cell.className = "num";
      if (column === nameColumn) {
        cell.style.paddingLeft = `${10 + 16 * (row[DEPTH] - 1)}px`;
        if (row[BLOCK]) {
          const toggle = document.createElement("button");
          toggle.className = "toggle";
          toggle.dataset.index = String(index);
          toggle.setAttribute("aria-expanded", expanded[index] ? "true" : "false");
          toggle.title = expanded[index] ? "collapse this block" : "expand this block";
          toggle.textContent = expanded[index] ? "▾" : "▸";
          cell.appendChild(toggle);
        } else {
          cell.appendChild(document.createTextNode("\u2002 "));
        }
      }
      cell.appendChild(document.createTextNode(text));
      element.appendChild(cell);
    });
    return element;
  }

  function draw() {
    const top = view.scrollTop;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((top + view.clientHeight) / rowHeight) + OVERSCAN);
    const fragment = document.createDocumentFragment();
    fragment.appendChild(spacer(first * rowHeight));
    for (let position = first; position < last; position++) fragment.appendChild(rowElement(visible[position]));
    fragment.appendChild(spacer((visible.length - last) * rowHeight));
    body.replaceChildren(fragment);
    const sample = body.querySelector("tr[data-index]");
    if (sample) {
      const measured = sample.getBoundingClientRect().height;
      if (measured > 0 && Math.abs(measured - rowHeight) > 0.5) { rowHeight = measured; draw(); }
    }
  }

  function refresh() { computeVisible(); draw(); }

  table.tHead.addEventListener("click", (event) => {
    const header = event.target.closest("th");
    if (!header) return;
    const column = Number(header.dataset.column);
    if (sortColumn !== column) { sortColumn = column; sortDirection = data.columns[column].numeric ? -1 : 1; }
    else if (sortDirection === (data.columns[column].numeric ? -1 : 1)) sortDirection = -sortDirection;
    else sortColumn = -1; // third click: network order again
    table.tHead.querySelectorAll("th").forEach((each, index) => {
      if (index === sortColumn) each.setAttribute("aria-sort", sortDirection > 0 ? "ascending" : "descending");
      else each.removeAttribute("aria-sort");
    });
    view.scrollTop = 0;
    refresh();
  });
  body.addEventListener("click", (event) => {
    const toggle = event.target.closest("button.toggle");
    if (!toggle) return;
    const index = Number(toggle.dataset.index);
    expanded[index] = expanded[index] ? 0 : 1;
    refresh();
  });
  filterBox.addEventListener("input", () => { view.scrollTop = 0; refresh(); });
  view.addEventListener("scroll", () => window.requestAnimationFrame(draw), { passive: true });
  document.getElementById("expand-all").addEventListener("click", () => { expandTo(null); refresh(); });
  document.getElementById("collapse-all").addEventListener("click", () => { expandTo(1); refresh(); });

  expandTo(limit);
  refresh();
  document.body.dataset.ready = "true"; // the table is drawn (tests wait for this)
})();
