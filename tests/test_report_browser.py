"""`cnncalc report` in a real browser: Debian's Chromium, headless, driven by playwright (never a browser
download: the system's /usr/bin/chromium). The page must load with no console error and no request but its
own file, draw its charts, and sort, filter and collapse its table.

With CNNCALC_UPDATE_SCREENSHOTS=1 the tests also write the screenshots the README shows
(tests/screenshots/resnet50.png and unet.png).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from clirunner import ROOT, invoke
from report_pages import BLOCK, DEEP_LAYERS, DEEP_SPEC, NAME, PARENT, SORT, TYPE, column_index, embedded_data

try:
    from PIL import Image
    from playwright import sync_api
except ImportError as missing:  # pragma: no cover - the test extra installs both
    sync_api = Image = None
    MISSING_PACKAGE: str | None = f"{missing.name} is not installed: pip install -e '.[test]' installs it"
else:
    MISSING_PACKAGE = None

CHROMIUM = os.environ.get("CNNCALC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox (CI runs as root), no GPU, and nothing of Chromium's own that talks to the network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "tests" / "screenshots"
VIEWPORT = {"width": 1200, "height": 900}
DEEP_LOAD_LIMIT_S = 20  # measured about 1 s on a loaded two-core machine: generous, to catch a hang or a quadratic


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = MISSING_PACKAGE
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"Chromium is not installed ({CHROMIUM}): apt-get install chromium (.ci/run installs it)"
    if missing is not None:
        if os.environ.get("CI") == "true":  # CI installs both: there, a missing browser is a broken CI
            pytest.fail(missing)
        pytest.skip(missing)
    assert sync_api is not None
    with sync_api.sync_playwright() as playwright:
        # playwright gives every launch a fresh temporary profile (--user-data-dir)
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@dataclass
class Loaded:
    page: Any
    url: str
    seconds: float  # from navigation until the table is drawn
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def shown(self) -> list[int]:
        """The table rows in the page now (the data's row indices), top to bottom."""
        indices: list[int] = self.page.eval_on_selector_all(
            "#layers tbody tr[data-index]", "rows => rows.map(row => Number(row.dataset.index))"
        )
        return indices


def _load(browser: Any, path: Path) -> Loaded:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    loaded = Loaded(page, path.resolve().as_uri(), 0.0)
    page.on(
        "console",
        lambda message: (
            loaded.errors.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda error: loaded.errors.append(f"exception: {error}"))
    page.on("requestfailed", lambda request: loaded.errors.append(f"failed request: {request.url}"))
    page.on("request", lambda request: loaded.requests.append(request.url))
    # any request but the page itself is refused (and recorded above, so the test fails on it)
    page.route("**/*", lambda route: route.continue_() if route.request.url == loaded.url else route.abort())
    start = time.monotonic()
    page.goto(loaded.url)
    page.wait_for_selector("body[data-ready=true]")
    loaded.seconds = time.monotonic() - start
    return loaded


def _write_report(tmp_path: Path, spec: str, *options: str) -> Path:
    output = tmp_path / f"{Path(spec).stem}.html"
    run = invoke("report", spec, "-o", str(output), *options)
    assert run.code == 0, run.output
    return output


def _check_clean(loaded: Loaded) -> None:
    assert loaded.errors == []
    assert loaded.requests == [loaded.url]


def _varied(png: bytes) -> tuple[int, float]:
    """How many colours a screenshot has, and the share of its pixels that are not the white background."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height)
    white = sum(count for count, colour in counts if colour == (255, 255, 255))
    return len(counts), 1 - white / (image.width * image.height)


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("resnet50", ()),
        ("unet", ()),
        ("lraspp_mobilenet_v3_large", ()),  # warnings in the spec view
        ("resnet18", ("--mode", "train", "--depth", "2")),
        ("vit_b_16", ("--columns", "name,input,params_pct,kernel,rf_start")),
    ],
)
def test_page_loads_offline_and_draws_its_charts(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, options: tuple[str, ...]
) -> None:
    monkeypatch.chdir(ROOT)  # the page names the spec as given: specs/NAME.yaml, as the screenshots show it
    loaded = _load(browser, _write_report(tmp_path, f"specs/{spec}.yaml", *options))
    _check_clean(loaded)
    charts = loaded.page.locator("svg.chart")
    expected = 7 if "train" in options else 6
    assert charts.count() == expected
    for index in range(expected):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 100
        colours, inked = _varied(chart.screenshot())
        assert colours >= 8 and inked > 0.01, (index, colours, inked)  # axes, labels and marks, not a blank box
    assert len(loaded.shown()) >= 10
    if spec in ("resnet50", "unet") and os.environ.get("CNNCALC_UPDATE_SCREENSHOTS") == "1":
        _save_screenshot(loaded, SCREENSHOTS / f"{spec}.png")


def _save_screenshot(loaded: Loaded, path: Path) -> None:
    """The whole page down to the end of the table, in 128 colours: small enough to keep in the repository."""
    page = loaded.page
    page.eval_on_selector("#table-view", "view => { view.style.maxHeight = '600px'; }")  # not 70% of the viewport
    page.evaluate("window.scrollTo(0, 0)")
    bottom = page.eval_on_selector("#section-layers", "section => section.getBoundingClientRect().bottom + scrollY")
    # a viewport as tall as the picture, rather than a full-page capture, which repeats the sticky navigation bar
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(bottom) + 16})
    page.evaluate("window.scrollTo(0, 0)")
    png = page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128)
    path.parent.mkdir(exist_ok=True)
    image.save(path, optimize=True)


def _sorted_units(rows: list[list[Any]], column: int, descending: bool) -> list[int]:
    """What the page shows sorted with every block expanded: every layer, by the column, ties in network order."""
    units = [index for index, row in enumerate(rows) if not row[BLOCK]]
    return sorted(
        units, key=lambda index: (-rows[index][SORT][column] if descending else rows[index][SORT][column], index)
    )


def test_sorting_a_column_reorders_the_rows(browser: Any, tmp_path: Path) -> None:
    path = _write_report(tmp_path, "resnet50")
    rows = embedded_data(path.read_text())["table"]["rows"]
    loaded = _load(browser, path)
    network_order = loaded.shown()
    assert network_order == list(range(len(network_order)))
    for key in ("params", "flops"):
        column = column_index(embedded_data(path.read_text()), key)
        header = loaded.page.locator(f'#layers th[data-key="{key}"]')
        header.click()
        assert header.get_attribute("aria-sort") == "descending"
        shown = loaded.shown()
        assert len(shown) >= 20
        assert shown == _sorted_units(rows, column, descending=True)[: len(shown)]
        values = [rows[index][SORT][column] for index in shown]
        assert values == sorted(values, reverse=True) and values[0] > values[-1]
        header.click()
        assert header.get_attribute("aria-sort") == "ascending"
        assert loaded.shown() == _sorted_units(rows, column, descending=False)[: len(loaded.shown())]
        header.click()  # a third time: network order again
        assert header.get_attribute("aria-sort") is None
        assert loaded.shown() == network_order
    _check_clean(loaded)


def test_filtering_keeps_matches_and_their_blocks(browser: Any, tmp_path: Path) -> None:
    path = _write_report(tmp_path, "resnet50")
    rows = embedded_data(path.read_text())["table"]["rows"]
    loaded = _load(browser, path)
    loaded.page.fill("#table-filter", "downsample")
    shown = loaded.shown()
    matching = [index for index, row in enumerate(rows) if "downsample" in row[NAME]]
    assert len(matching) == 12  # a projection group and its conv and BatchNorm in each of the four stages
    ancestors = set()
    for index in matching:
        parent = rows[index][PARENT]
        while parent >= 0:
            ancestors.add(parent)
            parent = rows[parent][PARENT]
    assert shown == sorted({*matching, *ancestors})
    assert all(rows[index][BLOCK] for index in ancestors)
    assert loaded.page.inner_text("#table-status") == f"{len(shown)} of {len(rows)} rows shown"
    loaded.page.fill("#table-filter", "BatchNorm")  # types match too, whatever the case
    assert {rows[index][TYPE] for index in loaded.shown() if not rows[index][BLOCK]} == {"batchnorm"}
    loaded.page.fill("#table-filter", "")
    assert loaded.shown()[:5] == [0, 1, 2, 3, 4]
    _check_clean(loaded)


def test_collapsing_a_block(browser: Any, tmp_path: Path) -> None:
    path = _write_report(tmp_path, "resnet50")
    rows = embedded_data(path.read_text())["table"]["rows"]
    names = [row[NAME] for row in rows]
    loaded = _load(browser, path)
    layer1, layer2 = names.index("layer1"), names.index("layer2")
    toggle = loaded.page.locator(f'button.toggle[data-index="{layer1}"]')
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    shown = loaded.shown()
    assert shown[shown.index(layer1) + 1] == layer2
    assert not any(names[index].startswith("layer1.") for index in shown)
    assert loaded.page.locator(f'button.toggle[data-index="{layer1}"]').get_attribute("aria-expanded") == "false"
    loaded.page.locator(f'button.toggle[data-index="{layer1}"]').click()
    shown = loaded.shown()
    assert names[shown[shown.index(layer1) + 1]] == "layer1.0"
    loaded.page.click("#collapse-all")  # the top level only: the stem, four stages and the head
    top_level = [index for index, row in enumerate(rows) if row[PARENT] == -1]
    assert loaded.shown() == top_level
    assert [names[index] for index in top_level][4:8] == ["layer1", "layer2", "layer3", "layer4"]
    loaded.page.locator('#layers th[data-key="flops"]').click()  # sorted: the collapsed stages compete as rows
    assert names[loaded.shown()[0]] == "layer3"
    _check_clean(loaded)


def test_depth_starts_with_deeper_blocks_collapsed(browser: Any, tmp_path: Path) -> None:
    path = _write_report(tmp_path, "resnet50", "--depth", "1")
    rows = embedded_data(path.read_text())["table"]["rows"]
    loaded = _load(browser, path)
    assert loaded.shown() == [index for index, row in enumerate(rows) if row[PARENT] == -1]
    _check_clean(loaded)


def test_ten_thousand_layers_load_quickly_and_draw_only_what_is_in_view(browser: Any, tmp_path: Path) -> None:
    spec = tmp_path / "deep.yaml"
    spec.write_text(DEEP_SPEC)
    path = _write_report(tmp_path, str(spec))
    rows = embedded_data(path.read_text())["table"]["rows"]
    assert sum(1 for row in rows if not row[BLOCK]) == DEEP_LAYERS
    loaded = _load(browser, path)
    print(f"10,003-layer report: {path.stat().st_size:,} bytes, table drawn {loaded.seconds:.2f} s after navigation")
    assert loaded.seconds < DEEP_LOAD_LIMIT_S
    assert len(loaded.shown()) < 120  # of 12,123 rows: only those in view, and a margin
    loaded.page.eval_on_selector("#table-view", "view => { view.scrollTop = view.scrollHeight; }")
    loaded.page.wait_for_function(
        f"() => [...document.querySelectorAll('#layers tbody tr[data-index]')].some(row => row.dataset.index == "
        f"'{len(rows) - 1}')"
    )
    start = time.monotonic()
    loaded.page.locator('#layers th[data-key="flops"]').click()
    column = column_index(embedded_data(path.read_text()), "flops")
    shown = loaded.shown()
    assert shown == _sorted_units(rows, column, descending=True)[: len(shown)]
    assert time.monotonic() - start < 5
    _check_clean(loaded)
