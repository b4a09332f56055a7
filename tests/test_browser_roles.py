"""Each role's job walked in Chromium against the real server (tests/browser.py).

The commander picks a quarter and violence and reads the top hotspot's trend; the coordinator
clicks a hotspot (no save prompt), draws, names and saves an area around a hotspot no patrol
area covers and sees the uncovered list shrink, then downloads the outreach sheets to print; the
council officer downloads the briefing and finds its crime types and period. Screenshots of
each step go to $HOTSPOTS_SCREENSHOTS when it names a folder. Skips without Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from geodata.store import PatrolAreaStore
from tests.browser import (
    CHROMIUM,
    MAP_FRAME,
    NO_CHROMIUM,
    map_frame,
    shot,
    streamlit_server,
    text_after_change,
)

pytestmark = NO_CHROMIUM
HEADLINE = "Top hotspot: "
UNCOVERED_RING = "#111111"  # hotspots.map_layers.add_uncovered's dashed ring


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roles") / "store.gpkg"


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with streamlit_server(store, log=store.with_name("server.log")) as served:
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


def _overlaps(a: dict[str, float], b: dict[str, float], margin: float = 12) -> bool:
    return not (
        a["x"] + a["width"] + margin < b["x"]
        or b["x"] + b["width"] + margin < a["x"]
        or a["y"] + a["height"] + margin < b["y"]
        or b["y"] + b["height"] + margin < a["y"]
    )


def _ring_in_view(page, frame) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The box of an uncovered hotspot's ring that a person could draw around."""
    view = page.viewport_size
    boxes = [
        b
        for sel in (".leaflet-popup", ".leaflet-control", ".hs-title", ".hs-legend")
        for el in frame.locator(sel).all()
        if (b := el.bounding_box()) is not None
    ]
    container = frame.locator(".leaflet-container").bounding_box()
    for ring in frame.locator(f'path[stroke="{UNCOVERED_RING}"]').all():
        box = ring.bounding_box()
        if box is None or not _overlaps(box, container, margin=-20):
            continue
        inside = box["y"] > 20 and box["y"] + box["height"] + 20 < view["height"]
        if inside and not any(_overlaps(box, b) for b in boxes):
            return box  # type: ignore[no-any-return]
    raise AssertionError("no uncovered hotspot in plain view")


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
    # (the details below the table come later in the same rerun: wait for them)
    page.get_by_text(f"{found.group(1)}: {found.group(3)} incidents").first.wait_for(timeout=60_000)


def test_coordinator_draws_names_and_saves_an_area_and_clicks_without_a_prompt(
    url: str,
    page,  # type: ignore[no-untyped-def]
    store: Path,
) -> None:
    page.goto(f"{url}/outreach", wait_until="domcontentloaded")
    headline = page.get_by_text("no patrol area covers;")
    headline.first.wait_for(timeout=180_000)
    frame = map_frame(page)
    shot(page, "coordinator-1-outreach")
    before = headline.first.inner_text()
    uncovered = int(before.split(" hotspot")[0])
    # a click on the rank-1 hotspot: its popup, and nothing offers to save it
    target = frame.locator('path.leaflet-interactive[fill="#800026"]').first.bounding_box()
    assert target is not None
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    frame.locator(".leaflet-popup-content").wait_for(timeout=10_000)
    page.wait_for_timeout(4_000)  # the rerun the click starts
    assert page.get_by_text("Save the area you drew").count() == 0
    frame = map_frame(page)
    page.locator(MAP_FRAME).first.scroll_into_view_if_needed()
    # a rectangle drawn with the tool around a hotspot no patrol area covers (a dark ring in
    # plain view: on screen, clear of the popup and the map's boxes)
    ring = _ring_in_view(page, frame)
    frame.locator("a.leaflet-draw-draw-rectangle").click()
    page.mouse.move(ring["x"] - 8, ring["y"] - 8)
    page.mouse.down()
    page.mouse.move(ring["x"] + ring["width"] + 8, ring["y"] + ring["height"] + 8, steps=8)
    page.mouse.up()
    page.get_by_text("Save the area you drew").first.wait_for(timeout=30_000)
    shot(page, "coordinator-2-name")
    page.get_by_label("Name of the patrol area").fill("Browser box")
    page.get_by_role("button", name="Save patrol area").click()
    page.get_by_text("Saved patrol area 'Browser box'").first.wait_for(timeout=60_000)
    page.get_by_text("Saved patrol areas (1)").first.wait_for(timeout=30_000)
    assert page.get_by_text("Save the area you drew").count() == 0  # the dialog closed
    # it joins the patrol layer at once: the uncovered list shrinks
    after = text_after_change(headline, before)
    assert int(after.split(" hotspot")[0]) < uncovered, (before, after)
    shot(page, "coordinator-3-saved")
    assert PatrolAreaStore(store).list()["patrol_area"].tolist() == ["Browser box"]


def _downloaded(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """Press the download button whose label starts with ``name``; the file's text."""
    button = page.get_by_role("button", name=re.compile("^" + re.escape(name)))
    button.first.scroll_into_view_if_needed()
    with page.expect_download(timeout=120_000) as info:
        button.first.click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_coordinator_prints_the_outreach_sheets(url: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/outreach", wait_until="domcontentloaded")
    page.get_by_text("Outreach sheets").first.wait_for(timeout=180_000)
    sheets = _downloaded(page, "Outreach sheets (HTML")
    shot(page, "coordinator-4-sheets")
    pages = sheets.count('class="sheet')
    assert pages >= 1
    assert "SYNTHETIC DEMO DATA" in sheets  # the demo's mark on every printed page
    assert "Crime types counted" in sheets and "January 2024 to December 2024" in sheets
    assert re.search(r"\d+%", sheets)  # plain percentages
    assert "http://" not in sheets.replace("http://www.w3.org", "")  # nothing fetched


def test_officer_downloads_the_briefing_and_finds_crime_types_and_period(
    url: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    page.goto(f"{url}/briefing", wait_until="domcontentloaded")
    page.get_by_text("Crime types counted").first.wait_for(timeout=180_000)
    page.locator("iframe").first.wait_for(timeout=120_000)  # the page as it prints
    shot(page, "officer-1-briefing")
    briefing = _downloaded(page, "Download the briefing (HTML)")
    assert "<dt>Period</dt><dd>January 2024 to December 2024 (12 months)</dd>" in briefing
    counted = re.search(r"<dt>Crime types counted</dt><dd>(.+?)</dd>", briefing)
    assert counted and "Violence and sexual offences" in counted.group(1)
    # what the screen says is what the file says
    assert page.get_by_text(counted.group(1)).count() >= 1
