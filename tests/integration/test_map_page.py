"""The Safety Map page in a real browser: headless Chromium, driven over the DevTools
protocol (CDP) with the `websockets` client already in the environment (no browser
download, no Playwright).

The page is written from the session's demo warehouse, opened from a file:// URL, and
for each layer we count what Leaflet drew in that layer's pane (each layer has its own
SVG pane and CSS class), switch it off and on through the layer control, change the
hour of the week and see the patrol cells change, check the Polish labels, record every
request the page makes (Network.requestWillBeSent: only file: and data: allowed), and
check a screenshot is not blank. The relocation plan is empty at demo scale (no
candidate site has preventable offences), so its layer is also checked on a copy of the
published file with two moves added.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import Settings

pytestmark = pytest.mark.integration

CHROMIUM = Path(os.environ.get("KSP_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = os.environ.get("KSP_MAP_SCREENSHOT")  # where to keep the PNG (docs/img/map.png is one)
VIEWPORT = (1400, 900)


class Browser:
    """One headless Chromium and one page target, spoken to over CDP."""

    def __init__(self, tmp: Path) -> None:
        from websockets.sync.client import connect

        if not CHROMIUM.exists():
            pytest.fail(f"{CHROMIUM} not found: the map page test needs Chromium "
                        "(Debian: `apt-get install -y chromium`; elsewhere set KSP_CHROMIUM)")
        self.profile = Path(tempfile.mkdtemp(prefix="ksp-chromium-", dir=tmp))
        self.proc = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
             f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                self.close()
                pytest.fail(f"Chromium did not open its DevTools port: {err}")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=64 * 2**20, open_timeout=10))
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, *, session: bool = False, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def js(self, expression: str) -> Any:
        """Evaluate in the page; the value comes back as JSON (exceptions fail the test)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> float:
        start = time.monotonic()
        while not self.js(expression):
            if time.monotonic() - start > timeout:
                raise AssertionError(f"page not ready after {timeout} s ({expression}); "
                                     f"console: {self.console()}")
            time.sleep(0.05)
        return time.monotonic() - start

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def console(self) -> list[str]:
        return [e["params"]["entry"]["text"] for e in self.events if e["method"] == "Log.entryAdded"]

    def close(self) -> None:
        try:
            if getattr(self, "_stack", None):
                self._stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path)
    try:
        yield b
    finally:
        b.close()


def _open(browser: Browser, page: Path) -> float:
    """Navigate to the page and wait until the map has rendered; returns the seconds it took."""
    start = time.monotonic()
    browser.call("Page.navigate", session=True, url=page.as_uri())
    browser.wait_for("window.kspReady === true")
    return time.monotonic() - start


COUNT = "document.querySelectorAll(%r).length"


def _count(browser: Browser, selector: str) -> int:
    return browser.js(COUNT % selector)


def _toggle(browser: Browser, layer: str) -> None:
    """Click the layer's checkbox in the layer control, as a reader would."""
    browser.js(f"""(() => {{
        const span = document.querySelector(".leaflet-control-layers [data-layer='{layer}']");
        span.closest("label").querySelector("input").click();
    }})()""")


def _checked(browser: Browser, layer: str) -> bool:
    return browser.js(f"""document.querySelector(".leaflet-control-layers [data-layer='{layer}']")
                         .closest("label").querySelector("input").checked""")


def _popup(browser: Browser, layer: str) -> str:
    """Open the popup of the layer's first feature and return its text."""
    return browser.js(f"""(() => {{ const l = window.ksp.layers.{layer}.getLayers()[0]; l.openPopup();
                                   return l.getPopup().getElement().innerText; }})()""")


def _pixels(browser: Browser, png: bytes) -> dict[str, float]:
    """Mean, standard deviation and distinct colours of a PNG, decoded by the browser itself
    in a fresh about:blank document (no image library needed)."""
    browser.call("Page.navigate", session=True, url="about:blank")
    browser.wait_for("document.readyState === 'complete'")
    data = base64.b64encode(png).decode()
    return browser.js(f"""new Promise((done) => {{
        const img = new Image();
        img.onload = () => {{
            const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
            const g = c.getContext("2d"); g.drawImage(img, 0, 0);
            const px = g.getImageData(0, 0, c.width, c.height).data;
            let s = 0, s2 = 0, n = 0; const colours = new Set();
            for (let i = 0; i < px.length; i += 4) {{
                const v = (px[i] + px[i + 1] + px[i + 2]) / 3; s += v; s2 += v * v; n++;
                colours.add((px[i] >> 3) << 10 | (px[i + 1] >> 3) << 5 | (px[i + 2] >> 3));
            }}
            const mean = s / n;
            done({{width: c.width, height: c.height, mean: mean, std: Math.sqrt(s2 / n - mean * mean),
                   colours: colours.size}});
        }};
        img.src = "data:image/png;base64,{data}";
    }})""")


def _assert_offline(browser: Browser) -> None:
    urls = browser.requests()
    assert urls, "no request recorded at all: the Network domain did not report"
    remote = [u for u in urls if not u.startswith(("file:", "data:", "about:"))]
    assert remote == [], f"the page fetched from the network: {remote}"
    blocked = [m for m in browser.console() if "Content Security Policy" in m]
    assert blocked == [], f"the page tried to load something its CSP forbids: {blocked}"


def test_map_page_renders_every_layer_offline(demo_warehouse: Settings, browser: Browser, tmp_path: Path) -> None:
    from serving.map_page import PATROL_TOP, write_map_page

    start = time.monotonic()
    page = write_map_page(demo_warehouse)
    written_s = time.monotonic() - start
    assert page.name == "mapa.html" and page.parent.parent == demo_warehouse.reports_dir / "map"
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script src" not in html and "<link" not in html
    index = (page.parent.parent / "index.html").read_text(encoding="utf-8")
    assert f"{page.parent.name}/mapa.html" in index

    render_s = _open(browser, page)
    print(f"\nmap page: {page.stat().st_size / 1e6:.2f} MB, written in {written_s:.1f} s, "
          f"rendered in {render_s:.2f} s")
    data = browser.js("window.ksp.data.meta")

    # the districts: always drawn, 18 boundaries with their names, not in the layer control;
    # zoomed out, the small central districts carry their numeral only
    assert _count(browser, ".leaflet-ksp-districts-pane path.ksp-district") == 18
    labels = "[...document.querySelectorAll('.ksp-district-label')].map(e => e.textContent)"
    zoomed_out = browser.js(labels)
    assert len(zoomed_out) == 18 and "I" in zoomed_out and "XVIII Nowa Huta" in zoomed_out
    view = browser.js("[window.ksp.map.getCenter().lat, window.ksp.map.getCenter().lng, window.ksp.map.getZoom()]")
    browser.js("void window.ksp.map.setZoom(13, {animate: false})")
    assert "I Stare Miasto" in browser.js(labels) and "V Krowodrza" in browser.js(labels)
    browser.js(f"void window.ksp.map.setView([{view[0]}, {view[1]}], {view[2]}, {{animate: false}})")
    assert browser.js(labels) == zoomed_out

    # the Polish names of the switchable layers, the legend, the hour control
    text = browser.js("document.body.innerText")
    for name in ("Punkty kamerowe", f"Gorące punkty {data['hotspotYear']}", "Ryzyko w godzinie tygodnia",
                 "Proponowane przeniesienia", "Szkoły bez pokrycia", "Legenda", "Mapa Bezpieczeństwa Krakowa",
                 "czas warszawski"):
        assert name in text, name
    assert data["hotspotYear"] == 2026
    assert "2026" in data["publishedAt"] and "grudnia" in data["publishedAt"]  # Warsaw time, Polish month
    assert "czerwca 2026" in data["horizon"]

    # each layer draws, and the layer control switches it off and on again
    expected = {
        "cameras": browser.js("window.ksp.data.cameras.length"),
        "hotspots": browser.js("window.ksp.data.hotspots.length"),
        "patrol": browser.js("window.ksp.data.patrol.hours[window.ksp.hour()].length"),
        "schools": browser.js("window.ksp.data.schools.length"),
    }
    selectors = {"cameras": ".leaflet-ksp-cameras-pane path.ksp-camera",
                 "hotspots": ".leaflet-ksp-hotspots-pane path.ksp-hotspot",
                 "patrol": ".leaflet-ksp-patrol-pane path.ksp-patrol",
                 "schools": ".leaflet-ksp-schools-pane path.ksp-school"}
    assert expected["cameras"] > 200 and expected["hotspots"] > 100 and expected["schools"] > 50
    assert 0 < expected["patrol"] <= PATROL_TOP
    for layer, selector in selectors.items():
        if not _checked(browser, layer):  # hot spots start off: the map stays readable
            assert _count(browser, selector) == 0
            _toggle(browser, layer)
        assert _checked(browser, layer)
        assert _count(browser, selector) == expected[layer], layer
        _toggle(browser, layer)
        assert _count(browser, selector) == 0, f"{layer} still drawn after switching it off"
        _toggle(browser, layer)
        assert _count(browser, selector) == expected[layer], f"{layer} not drawn again"
    kinds = browser.js("[...new Set([...document.querySelectorAll('path.ksp-camera')].map("
                       "p => p.getAttribute('class').match(/ksp-camera-(\\w+)/)[1]))].sort()")
    assert kinds == ["anpr", "city_monitoring", "multisensor"]
    fills = browser.js("[...new Set([...document.querySelectorAll('path.ksp-camera')].map("
                       "p => p.getAttribute('fill')))].length")
    assert fills == 3, "camera points are coloured by kind"
    # the page carries exactly the published plan's moves; an empty plan is listed and says so
    import duckdb

    con = duckdb.connect(str(demo_warehouse.published_path), read_only=True)
    try:
        [(planned,)] = con.execute("select count(*) from marts.mart_relocation_plan").fetchall()
    finally:
        con.close()
    assert browser.js("window.ksp.data.moves.length") == planned
    assert _count(browser, "path.ksp-move") == planned
    if not planned:
        assert "brak w tej publikacji" in browser.js("document.querySelector('.ksp-legend').innerText")

    # the hour of the week: the label is Polish ("pt. 21:00–22:00"), changing it redraws the cells
    first_hour = browser.js("window.ksp.hour()")
    before = browser.js("[...document.querySelectorAll('path.ksp-patrol')].map(p => p.getAttribute('d')).join()")
    label = browser.js("document.getElementById('ksp-hour-label').textContent")
    assert label.split(" ")[0] in ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz.")
    browser.js("(() => { const s = document.getElementById('ksp-hour'); s.value = 3;"
               " s.dispatchEvent(new Event('input')); })()")  # Monday 03:00, the quietest kind of hour
    assert browser.js("document.getElementById('ksp-hour-label').textContent") == "pon. 03:00–04:00"
    after = browser.js("[...document.querySelectorAll('path.ksp-patrol')].map(p => p.getAttribute('d')).join()")
    assert _count(browser, "path.ksp-patrol") == browser.js("window.ksp.data.patrol.hours[3].length")
    assert after != before, "changing the hour of the week did not change the drawn cells"
    browser.js("(() => { const d = document.getElementById('ksp-day'); d.value = 4;"
               " d.dispatchEvent(new Event('change'));"
               " const h = document.getElementById('ksp-hod'); h.value = 21;"
               " h.dispatchEvent(new Event('change')); })()")
    assert browser.js("window.ksp.hour()") == 4 * 24 + 21
    assert browser.js("document.getElementById('ksp-hour-label').textContent") == "pt. 21:00–22:00"
    browser.js(f"window.ksp.setHour({first_hour})")

    # popups in Polish with decimal commas
    popup = _popup(browser, "patrol")
    assert "Średnio na tydzień" in popup and "," in popup.split("Średnio na tydzień")[1].split("\n")[0]
    popup = _popup(browser, "cameras")
    assert "Ocena skuteczności" in popup and "Rodzaj" in popup
    browser.js("void window.ksp.map.closePopup()")

    # nothing from the network, and a screenshot that shows a map
    _assert_offline(browser)
    browser.js("void window.ksp.layers.hotspots.remove()")
    png = base64.b64decode(browser.call("Page.captureScreenshot", session=True, format="png")["data"])
    (tmp_path / "map.png").write_bytes(png)
    if SCREENSHOT:
        Path(SCREENSHOT).write_bytes(png)
    stats = _pixels(browser, png)
    assert (stats["width"], stats["height"]) == VIEWPORT
    assert stats["std"] > 15 and stats["colours"] > 50, f"the screenshot looks blank: {stats}"


def test_map_page_draws_recommended_moves(demo_warehouse: Settings, browser: Browser, tmp_path: Path) -> None:
    """A copy of the published file (the published file itself stays untouched) gets a plan
    of exactly two known moves, whatever the demo city's own plan holds; both are drawn."""
    import duckdb

    from serving.map_page import write_map_page

    copy = tmp_path / "published" / "ksp.duckdb"
    copy.parent.mkdir()
    shutil.copy(demo_warehouse.published_path, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("delete from marts.mart_relocation_plan")
        con.execute("""
            insert into marts.mart_relocation_plan by name
            select row_number() over (order by camera_point_id)::integer as move_rank, camera_point_id,
                   location_name as from_location_name, district_id as from_district_id,
                   easting_m as from_easting_m, northing_m as from_northing_m, 0.25 as remaining_effect_share,
                   1.5 as value_given_up, 'S' || camera_point_id as to_site_id,
                   easting_m + 900 as to_easting_m, northing_m + 600 as to_northing_m,
                   'commercial' as to_area_type, true as to_is_near_children_places,
                   false as to_is_near_transit_node, true as to_has_infrastructure, 6.25 as value_gained,
                   3.5 as offences_prevented_per_year, 4.75 as net_gain, 'test' as evidence,
                   10.0 as plan_objective, 5.0 as baseline_objective, 'optimal' as solver_status,
                   0.0 as solver_mip_gap, 24.0 as city_half_life_months, 2 as moves_requested,
                   100 as candidate_sites
            from marts.dim_camera_point where is_current and removed_date is null
            order by camera_point_id limit 2""")
    finally:
        con.close()
    cfg = dataclasses.replace(demo_warehouse, published_path=copy, reports_dir=tmp_path / "reports")
    page = write_map_page(cfg)
    _open(browser, page)
    assert _count(browser, ".leaflet-ksp-moves-pane path.ksp-move") == 2
    assert _count(browser, ".leaflet-ksp-moves-pane path.ksp-move-to") == 2
    _toggle(browser, "moves")
    assert _count(browser, "path.ksp-move") == 0
    _toggle(browser, "moves")
    assert _count(browser, "path.ksp-move") == 2
    popup = _popup(browser, "moves")
    assert "Przeniesienie nr 1" in popup and "3,5" in popup and "25\u00a0%" in popup
    _assert_offline(browser)


def test_map_page_refuses_without_a_published_warehouse(cfg: Settings) -> None:
    from serving.map_page import WarehouseNotPublished, write_map_page

    with pytest.raises(WarehouseNotPublished, match="no build has been published"):
        write_map_page(cfg)
