"""Each role's job walked in Chromium against the real server (tests/browser.py).

The commander picks a quarter and violence and reads the top hotspot's trend. Screenshots of
each step go to $HOTSPOTS_SCREENSHOTS when it names a folder. Skips without Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    map_frame,
    shot,
    streamlit_server,
    text_after_change,
)

pytestmark = NO_CHROMIUM
HEADLINE = "Top hotspot: "


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("roles")
    with streamlit_server(folder / "store.gpkg", log=folder / "server.log") as served:
        yield served


@pytest.fixture
def page(url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1366, "height": 768})  # a council laptop
        yield tab
        browser.close()


def _choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``option`` in the sidebar's select box ``label``."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_commander_picks_a_quarter_and_violence_and_reads_the_top_trend(
    url: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    page.goto(f"{url}/plan", wait_until="domcontentloaded")
    headline = page.get_by_text(HEADLINE)
    headline.first.wait_for(timeout=180_000)
    map_frame(page)
    shot(page, "commander-1-plan")
    year = headline.first.inner_text()
    assert "in Jan–Dec 2023: " in year  # the whole year against the year before
    # a quarter: the start of the months slider moved from January to October
    start = page.get_by_role("slider").first
    start.focus()
    for _ in range(9):
        start.press("ArrowRight")
    quarter = text_after_change(headline, year)
    assert start.get_attribute("aria-valuetext") == "2024-10"
    while "in Jul–Sep 2024: " not in quarter:  # the slider's intermediate months pass by
        quarter = text_after_change(headline, quarter)
    shot(page, "commander-2-quarter")
    # violence: the crime-type preset
    _choose(page, "Crime-type preset", "Violence and weapons")
    violence = text_after_change(headline, quarter)
    shot(page, "commander-3-violence")
    found = re.match(r"Top hotspot: (H\d+) around (.+?), ([\d,]+) incidents; inside", violence)
    assert found, violence
    assert "in Jul–Sep 2024: " in violence
    # the trend: an arrow only with a clear change, else said in words, with its interval
    trend = violence.split("in Jul–Sep 2024: ")[1]
    assert trend.startswith(("▲ up", "▼ down", "no clear change")), trend
    assert "95% interval" in trend
    # the same hotspot heads the ranked table, with its change in the change column
    page.get_by_text("Hotspots, ranked").first.scroll_into_view_if_needed()
    shot(page, "commander-4-table")
    assert page.get_by_text(f"{found.group(1)}: {found.group(3)} incidents").count() >= 1
