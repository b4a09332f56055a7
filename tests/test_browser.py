"""What a person sees: the real Streamlit server in Debian's Chromium, driven by Playwright.

Skips with a message when no Chromium is installed (`.ci/run` installs Debian's `chromium`).
Saves a screenshot to docs/screenshot.png (the README's picture) when HOTSPOTS_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: apt-get install chromium (CI installs it)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`streamlit run app.py` on a free local port, as `make run` starts it."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
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
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"streamlit did not start: {out[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _map_frame(page):  # type: ignore[no-untyped-def]
    """The streamlit-folium frame once Leaflet has drawn the hotspots in it."""
    frame_el = page.locator(MAP_FRAME).first
    frame_el.wait_for(timeout=90_000)
    frame = frame_el.content_frame
    assert frame is not None
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    return frame_el, frame


def test_dashboard_draws_the_map_offline(server: str) -> None:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1050})

        def note(request) -> None:  # type: ignore[no-untyped-def]
            host = urlparse(request.url).hostname
            if request.url.startswith(("http://", "https://", "ws://", "wss://")) and host not in (
                "127.0.0.1",
                "localhost",
            ):
                outside.append(request.url)

        page.on("request", note)
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_text("Synthetic demo data").first.wait_for(timeout=90_000)
        frame_el, frame = _map_frame(page)
        box = frame_el.bounding_box()
        # a component frame of height 0 has been seen with local assets: the map must show
        assert box is not None and box["height"] > 300 and box["width"] > 300
        map_box = frame.locator(".leaflet-container").bounding_box()
        assert map_box is not None and map_box["height"] > 300
        # hotspot footprints (coloured by rank) and the ten demo ward boundaries are drawn
        hotspot_paths = frame.locator('path.leaflet-interactive[fill="#800026"]')
        assert hotspot_paths.count() >= 1
        assert frame.locator('path.leaflet-interactive[stroke="#555555"]').count() >= 10
        assert frame.locator('path.leaflet-interactive[stroke="#2166ac"]').count() >= 4
        assert frame.locator(".hs-synthetic").count() == 1
        # the tool for drawing a patrol area, served from static/vendor like Leaflet itself
        assert frame.locator("a.leaflet-draw-draw-polygon").count() == 1
        if os.environ.get("HOTSPOTS_SCREENSHOT"):
            page.wait_for_timeout(1500)  # let the heat layer paint
            page.screenshot(path=str(REPO / "docs" / "screenshot.png"), full_page=False)

        # on the commander's page, a real click on the rank-1 hotspot opens its popup and
        # selects it in the tables
        page.get_by_role("link", name="Plan deployments").first.click()
        page.get_by_text("Top hotspot: ").first.wait_for(timeout=60_000)
        frame_el, frame = _map_frame(page)
        hotspot_paths = frame.locator('path.leaflet-interactive[fill="#800026"]')
        target = hotspot_paths.first.bounding_box()
        assert target is not None
        page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10_000)
        text = popup.inner_text()
        assert "Incidents" in text
        hid = re.search(r"H\d+", text)
        assert hid is not None
        page.locator("p", has_text=f"{hid.group(0)}: ").first.wait_for(timeout=30_000)

        # moving the start month on the sidebar slider re-draws the map with fewer incidents
        title = frame.locator(".hs-title").inner_text()
        thumb = page.get_by_role("slider").first
        thumb.focus()
        for _ in range(6):
            thumb.press("ArrowRight")
        deadline = time.monotonic() + 60
        changed = title
        while time.monotonic() < deadline and changed == title:
            page.wait_for_timeout(500)
            try:
                _, frame = _map_frame(page)
                changed = frame.locator(".hs-title").inner_text(timeout=2_000)
            except Exception:  # the frame is being replaced
                continue
        assert changed != title, "the map did not change after the slider moved"
        browser.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
