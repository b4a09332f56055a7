"""The coordinator's patrol-area job in Chromium against the real server: a click on a hotspot
offers no save; a rectangle drawn with the tool is named in a dialog, saved, counted in the
sidebar and joins the patrol layer. Skips without Chromium, as tests/test_browser.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest

from geodata.store import PatrolAreaStore

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: apt-get install chromium (CI installs it)"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`streamlit run app.py` on a free port with its own patrol-area store."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    store = tmp_path_factory.mktemp("browser-store") / "store.gpkg"
    env = {**os.environ, "HOTSPOTS_STORE": str(store)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start")
        yield url, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _map(page):  # type: ignore[no-untyped-def]
    el = page.locator(MAP_FRAME).first
    el.wait_for(timeout=120_000)
    frame = el.content_frame
    assert frame is not None
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    return frame


def test_click_selects_and_a_drawn_area_is_saved(served: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, store = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1050})
        page.goto(url, wait_until="domcontentloaded")
        frame = _map(page)
        # a click on the rank-1 hotspot: it is selected, and nothing offers to save it
        target = frame.locator('path.leaflet-interactive[fill="#800026"]').first.bounding_box()
        assert target is not None
        page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
        frame.locator(".leaflet-popup-content").wait_for(timeout=10_000)
        page.wait_for_timeout(4_000)  # the rerun the click starts
        assert page.get_by_text("Save the area you drew").count() == 0
        # a rectangle drawn with the tool opens the naming dialog
        frame = _map(page)
        frame.locator("a.leaflet-draw-draw-rectangle").click()
        box = frame.locator(".leaflet-container").bounding_box()
        assert box is not None
        x0, y0 = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.6  # clear ground
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x0 + 80, y0 + 60, steps=8)
        page.mouse.up()
        page.get_by_text("Save the area you drew").first.wait_for(timeout=30_000)
        page.get_by_label("Name of the patrol area").fill("Browser box")
        page.get_by_role("button", name="Save patrol area").click()
        page.get_by_text("Saved patrol area 'Browser box'").first.wait_for(timeout=60_000)
        page.get_by_text("Saved patrol areas (1)").first.wait_for(timeout=30_000)
        assert page.get_by_text("Save the area you drew").count() == 0  # the dialog closed
        if os.environ.get("HOTSPOTS_SCREENSHOT"):
            page.screenshot(path=str(REPO / "docs" / "screenshot-patrol.png"))
        browser.close()
    assert PatrolAreaStore(store).list()["patrol_area"].tolist() == ["Browser box"]
