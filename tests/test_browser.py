"""What a person sees: the real Streamlit server in Debian's Chromium, driven by Playwright.

Skips with a message when no Chromium is installed (`.ci/run` installs Debian's `chromium`).
Saves a screenshot to docs/screenshot.png (the README's picture) when HOTSPOTS_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.browser import CHROMIUM, MAP_FRAME, NO_CHROMIUM, REPO, map_frame, streamlit_server

pytestmark = NO_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` on a free local port, as `make run` starts it."""
    folder = tmp_path_factory.mktemp("browser")
    with streamlit_server(folder / "store.gpkg", log=folder / "server.log") as url:
        yield url


def _map_frame(page):  # type: ignore[no-untyped-def]
    """The map's element and its frame once Leaflet has drawn the hotspots in it."""
    frame = map_frame(page, timeout=90_000)
    return page.locator(MAP_FRAME).first, frame


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
