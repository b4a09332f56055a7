"""Street context without tiles (hotspots.map_labels) and the tile-server check (hotspots.basemap).

Ward names sit inside their wards; street names are the incidents' own "On or near" labels, one
per street per area, capped, near hotspots first; every label escaped; the zoom thresholds are
in the page. A tile server address is checked in the library, named by its flag on the command
line, and reported under its box in the dashboard while the map still shows without tiles.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box
from streamlit.testing.v1 import AppTest

from hotspots._text import esc
from hotspots.basemap import TILE_SERVER_HELP, check_tiles
from hotspots.cli import main
from hotspots.errors import ParameterError
from hotspots.map_labels import (
    STREET_CELL_M,
    STREET_LABELS_MAX,
    STREET_ZOOM,
    WARD_ZOOM,
    LabelLayer,
    labels_bytes,
    street_candidates,
    street_labels,
)
from hotspots.mapping import make_map
from hotspots.web import MAP_LABEL_BYTES
from tests.browser import CHROMIUM, NO_CHROMIUM
from tests.test_mapping import hotspots_frame

APP = str(Path(__file__).resolve().parents[1] / "app.py")
EVIL = "<script>alert(1)</script>"
BNG = "EPSG:27700"


def incidents(rows: Sequence[tuple[float, float, str]]) -> gpd.GeoDataFrame:
    """One incident per (easting, northing, location) in BNG."""
    return gpd.GeoDataFrame(
        {"location": [r[2] for r in rows], "category": "Burglary"},
        geometry=gpd.points_from_xy([r[0] for r in rows], [r[1] for r in rows]),
        crs=BNG,
    )


def label_layers(m: folium.Map) -> dict[str, LabelLayer]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, LabelLayer)}


def page_labels(page: str) -> list[list[object]]:
    """Every label array written in the page, as the browser's JSON parser reads it."""
    found = re.findall(r"var data = (\[.*?\]\]);", page)
    return [label for text in found for label in json.loads(text)]


def to_bng(lat: float, lon: float) -> Point:
    return gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(BNG).iloc[0]


# ------------------------------------------------------------------------------------------
# ward names


def test_ward_names_sit_inside_their_wards_and_are_escaped() -> None:
    # A U-shaped ward: its centroid lies outside it, in the notch.
    u_shape = Polygon(
        [(535_000, 187_000), (538_000, 187_000), (538_000, 190_000), (537_400, 190_000),
         (537_400, 187_600), (535_600, 187_600), (535_600, 190_000), (535_000, 190_000)]
    )  # fmt: skip
    assert not u_shape.contains(u_shape.centroid)
    wards = gpd.GeoDataFrame(
        {"ward_name": ["Higham Hill", EVIL]},
        geometry=[u_shape, box(538_000, 187_000, 540_000, 190_000)],
        crs=BNG,
    )
    m = make_map(hotspots_frame(), incidents([]), assets="static", tiles=None, wards=wards)
    layer = label_layers(m)["Ward names"]
    assert layer.min_zoom == WARD_ZOOM
    by_name = {text: to_bng(lat, lon) for lat, lon, text in layer.labels}
    assert set(by_name) == {"Higham Hill", esc(EVIL)}
    assert u_shape.contains(by_name["Higham Hill"])
    assert wards.geometry.iloc[1].contains(by_name[esc(EVIL)])
    page = m.get_root().render()
    assert EVIL not in page
    assert [esc(EVIL) in str(label[2]) for label in page_labels(page)].count(True) == 1
    assert f"var minZoom = {WARD_ZOOM};" in page


# ------------------------------------------------------------------------------------------
# street names


def test_one_label_per_street_per_area_at_its_busiest_point() -> None:
    rows = (
        # High Street: three map points within 60 m (4, 2 and 1 incidents) ...
        [(537_000, 188_000, "On or near High Street")] * 4
        + [(537_030, 188_000, "On or near High Street")] * 2
        + [(537_060, 188_000, "On or near High Street")]
        # ... and one 1 km away: a second label
        + [(538_000, 188_000, "On or near High Street")]
        + [(537_010, 188_050, "On or near Mill Lane")] * 3
        + [(537_500, 188_500, "No Location"), (537_600, 188_600, "")]
    )
    labels = street_labels(incidents(rows), hotspots_frame().iloc[0:0], max_bytes=MAP_LABEL_BYTES)
    texts = [t for _, _, t in labels]
    assert sorted(texts) == ["High Street", "High Street", "Mill Lane"]
    assert labels[0][2] == "High Street"  # the most incidents first
    high = [to_bng(lat, lon) for lat, lon, t in labels if t == "High Street"]
    assert high[0].distance(Point(537_000, 188_000)) < 1.5  # the busiest of the three
    assert high[1].distance(Point(538_000, 188_000)) < 1.5


def test_no_two_labels_of_one_street_closer_than_the_area() -> None:
    """A street running 2 km with a map point every 20 m: labels at least STREET_CELL_M apart."""
    rows = [(536_000 + 20 * k, 188_000 + 3 * k, "On or near Long Road") for k in range(100)]
    labels = street_labels(incidents(rows), hotspots_frame().iloc[0:0], max_bytes=MAP_LABEL_BYTES)
    pts = [to_bng(lat, lon) for lat, lon, _ in labels]
    assert 5 <= len(pts) <= 2_000 / STREET_CELL_M + 1
    gaps = [a.distance(b) for i, a in enumerate(pts) for b in pts[i + 1 :]]
    assert min(gaps) >= STREET_CELL_M - 1.5


def test_street_labels_are_capped_near_hotspots_first() -> None:
    """Many streets: the cap holds, the bytes fit, and the labels kept are the hotspots'."""
    rng = np.random.default_rng(3)
    xy = rng.uniform([520_000, 170_000], [540_000, 190_000], size=(6_000, 2)).round()
    rows = [(x, y, f"On or near Street {i}") for i, (x, y) in enumerate(xy)]
    hs = hotspots_frame(2)  # two 60 m discs near (537 500, 189 200)
    near = [(537_500 + dx, 189_200, f"On or near Hotspot Row {dx}") for dx in (0, 20, 40)]
    inc = incidents(rows + near * 1)
    labels = street_labels(inc, hs, max_bytes=MAP_LABEL_BYTES)
    assert len(labels) == STREET_LABELS_MAX
    assert labels_bytes(labels) <= MAP_LABEL_BYTES
    assert {t for _, _, t in labels[:3]} == {f"Hotspot Row {dx}" for dx in (0, 20, 40)}
    small = street_labels(inc, hs, max_labels=10_000, max_bytes=20_000)
    assert 0 < labels_bytes(small) <= 20_000 and len(small) < STREET_LABELS_MAX
    m = make_map(hs, inc, assets="static", tiles=None)
    layer = label_layers(m)["Street names"]
    assert len(layer.labels) <= STREET_LABELS_MAX


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(
        st.tuples(
            st.floats(-90, 90, allow_nan=False),
            st.floats(-180, 180, allow_nan=False),
            st.text(max_size=30),
        ),
        max_size=20,
    )
)
def test_labels_bytes_are_the_bytes_folium_writes(labels: list[tuple[float, float, str]]) -> None:
    """As the page holds them (Jinja's HTML-safe JSON), and the sum of each label's bytes."""
    from jinja2.utils import htmlsafe_json_dumps

    written = len(htmlsafe_json_dumps([list(label) for label in labels])) if labels else 0
    assert labels_bytes(labels) == written
    assert labels_bytes(labels) == sum(labels_bytes([label]) for label in labels)


def greedy_street_labels(
    inc: gpd.GeoDataFrame, hs: gpd.GeoDataFrame, max_labels: int, max_bytes: int
) -> list[tuple[str, float, float]]:
    """The documented rule, plainly: the candidates (each street's busiest map point per
    cell), near-hotspot ones first, then by incidents, name and position; a candidate is kept
    unless a kept one of its street is closer than STREET_CELL_M; stop at the caps."""
    prepared = street_candidates(inc)
    table = prepared.table
    near = [
        bool(hs.distance(Point(x, y)).min() <= 150.0) for x, y in zip(table.x, table.y, strict=True)
    ]
    rows = sorted(
        range(len(table)),
        key=lambda i: (not near[i], -table.n[i], table.street[i], table.x[i], table.y[i]),
    )
    kept: list[int] = []
    used = 0
    for i in rows:
        if any(
            table.street[j] == table.street[i]
            and (table.x[i] - table.x[j]) ** 2 + (table.y[i] - table.y[j]) ** 2 < STREET_CELL_M**2
            for j in kept
        ):
            continue
        size = labels_bytes([(90.12345, -180.12345, esc(table.street[i]))])
        if used + size > max_bytes:
            break
        kept.append(i)
        used += size
        if len(kept) >= max_labels:
            break
    return [(esc(table.street[i]), table.x[i], table.y[i]) for i in kept]


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.integers(0, 40).map(lambda k: 537_000 + 25 * k),
            st.integers(0, 40).map(lambda k: 188_500 + 25 * k),
            st.sampled_from(["High Street", "Mill Lane", "Hoe Street", "Church <Road>"]),
        ),
        min_size=1,
        max_size=120,
    ),
    max_labels=st.integers(1, 40),
    max_bytes=st.integers(0, 2_000),
)
def test_street_labels_follow_the_documented_greedy_rule(
    points: list[tuple[int, int, str]], max_labels: int, max_bytes: int
) -> None:
    """The prepared, vectorised choice equals the rule applied one candidate at a time."""
    inc = incidents([(x, y, f"On or near {name}") for x, y, name in points])
    hs = hotspots_frame(2)
    labels = street_labels(inc, hs, max_labels=max_labels, max_bytes=max_bytes)
    expected = greedy_street_labels(inc, hs, max_labels, max_bytes)
    assert [t for _, _, t in labels] == [t for t, _, _ in expected]
    for (lat, lon, _), (_, x, y) in zip(labels, expected, strict=True):
        assert to_bng(lat, lon).distance(Point(x, y)) < 1.5


def test_street_labels_in_the_page_are_escaped_and_shown_from_street_zoom() -> None:
    rows = [(537_500, 189_200, f"On or near {EVIL}")] * 3 + [
        (537_800, 189_200, "On or near St James's Street")
    ]
    page = make_map(hotspots_frame(), incidents(rows), assets="static", tiles=None)
    html = page.get_root().render()
    assert EVIL not in html
    texts = {str(label[2]) for label in page_labels(html)}
    assert texts == {esc(EVIL), esc("St James's Street")}
    assert f"var minZoom = {STREET_ZOOM};" in html
    assert '"labels"' in html  # their own pane, above the outlines
    assert "zoom in to streets to read their names" in html


def test_with_a_tile_server_street_names_start_switched_off() -> None:
    rows = [(537_500, 189_200, "On or near High Street")] * 2
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    m = make_map(hotspots_frame(), incidents(rows), assets="static", tiles=url)
    layer = label_layers(m)["Street names"]
    assert layer.show is False and [t for _, _, t in layer.labels] == ["High Street"]
    page = m.get_root().render()
    assert f"{layer.get_name()}.addTo(" not in page  # in the layer control, not on the map
    assert "zoom in to streets to read their names" not in page
    offline = make_map(hotspots_frame(), incidents(rows), assets="static", tiles=None)
    layer = label_layers(offline)["Street names"]
    assert layer.show is True and f"{layer.get_name()}.addTo(" in offline.get_root().render()


def test_no_location_column_no_street_layer() -> None:
    inc = incidents([(537_500, 189_200, "On or near High Street")]).drop(columns="location")
    m = make_map(hotspots_frame(), inc, assets="static", tiles=None)
    assert "Street names" not in label_layers(m)


def test_street_labels_from_a_longitude_latitude_frame() -> None:
    rows = [(537_500, 189_200, "On or near High Street")] * 2
    wgs = incidents(rows).to_crs(4326)
    labels = street_labels(wgs, hotspots_frame(), max_bytes=MAP_LABEL_BYTES)
    assert [t for _, _, t in labels] == ["High Street"]
    assert to_bng(labels[0][0], labels[0][1]).distance(Point(537_500, 189_200)) < 1.5


# ------------------------------------------------------------------------------------------
# the tile server check


@pytest.mark.parametrize(
    "url",
    [
        "https://tiles.example.org/{z}/{x}/{y}.png",
        " https://tiles.example.org/{z}/{x}/{y}.png ",
        "https://{s}.tiles.example.org/{z}/{x}/{y}{r}.png?key=abc",
        "https://tiles.example.org/wmts/{z}/{y}/{x}",
        "https://tiles.example.org:8443/{z}/{x}/{-y}.png",
        "HTTPS://TILES.EXAMPLE.ORG/{z}/{x}/{y}.png",
    ],
)
def test_good_tile_servers(url: str) -> None:
    assert check_tiles(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "htps://x/{z}/{x}/{y}.png",
        "https://x/{z}/{x}.png",
        "https://tiles.example.org/tiles.png",
        "http://tiles.example.org/{z}/{x}/{y}.png",
        "tiles.example.org/{z}/{x}/{y}.png",
        "https:///{z}/{x}/{y}.png",
        "https://tiles.example.org/{z}/{x}/{y}.png?key={apikey}",
        "https://tiles.example.org/{z}/{x}/{y.png",
        "https://tiles.example.org/{z}/{x}{y}.png",  # a "/" missing: two numbers run together
        "https://tiles.example.org/{z}/{x}/{y}.png extra",
        "https://tiles.example.org/{z}/{x}/{y}.png'",
        "NoSuchTiles",
    ],
)
def test_bad_tile_servers_get_one_plain_line(url: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_tiles(url)
    assert str(err.value) == TILE_SERVER_HELP
    assert err.value.argument == "tiles"
    with pytest.raises(ParameterError, match="tile server address"):
        make_map(hotspots_frame(), incidents([]), assets="static", tiles=url)


def test_no_base_map() -> None:
    assert check_tiles(None) is None
    assert check_tiles("") is None and check_tiles("  ") is None and check_tiles("None") is None
    assert check_tiles("OpenStreetMap") == "OpenStreetMap"


_PIECES = st.sampled_from(
    ["https://", "http://", "htps://", "tiles.example.org", "/", "{z}", "{x}", "{y}", "{s}", "{",
     "}", "{key}", ".png", "?", "=", " ", ":", "a", "'"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_a_tile_setting_is_accepted_only_when_leaflet_can_fill_it(text: str) -> None:
    try:
        got = check_tiles(text)
    except ParameterError as err:
        assert str(err) == TILE_SERVER_HELP and err.argument == "tiles"
        return
    if got is None:
        assert text.strip().lower() in ("", "none")
        return
    assert got == text.strip()
    assert got.lower().startswith("https://") and " " not in got
    assert all(p in got for p in ("{z}", "{x}", "{y}"))
    assert "{key}" not in got
    assert not re.sub(r"\{(s|z|x|y)\}", "", got).count("{")


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.permutations(["{z}", "{x}", "{y}"]),
    st.sampled_from(["", ".png", ".jpg", ".png?style=light"]),
)
def test_every_https_template_with_z_x_y_is_accepted(
    host: str, order: list[str], suffix: str
) -> None:
    url = f"https://{host}/tiles/{'/'.join(order)}{suffix}"
    assert check_tiles(url) == url


def test_the_cli_names_its_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "street.csv"
    data.write_text("Month,Longitude,Latitude\n", encoding="utf-8")
    code = main(["analyse", str(data), "--tiles", "htps://x/{z}/{x}.png", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"hotspots: error: --tiles 'htps://x/{{z}}/{{x}}.png': {TILE_SERVER_HELP}"


# ------------------------------------------------------------------------------------------
# the dashboard


def _under_the_tile_box(at: AppTest) -> Any:
    """The sidebar element right after the tile server box."""
    items: list[Any] = list(at.sidebar)
    for i, el in enumerate(items):
        if type(el).__name__ == "TextInput" and el.label.startswith("Your organisation's tile"):
            return items[i + 1]
    raise AssertionError("no tile server box in the sidebar")


def _map_args(at: AppTest) -> str:
    component: Any
    (component,) = [c for c in at.get("component_instance") if "folium" in c.proto.component_name]
    return str(component.proto.json_args)


def test_app_reports_a_bad_tile_server_under_its_box_and_keeps_the_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTSPOTS_STORE", str(tmp_path / "store.gpkg"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    at.text_input(key="tiles").set_value("htps://x/{z}/{x}.png").run()
    assert not at.exception
    under = _under_the_tile_box(at)
    assert type(under).__name__ == "Error" and under.value.replace("`", "") == TILE_SERVER_HELP
    assert len(at.error) == 1  # nothing else blamed
    args = _map_args(at)
    assert "Street names" in args and "tileLayer" not in args  # the map, without tiles
    assert not [c for c in at.caption if "Leaflet.draw" in c.value]

    at.text_input(key="tiles").set_value("https://tiles.example.org/{z}/{x}/{y}.png").run()
    assert not at.exception and not at.error
    assert "tiles.example.org" in _map_args(at)


def test_many_wards_keep_the_largest_names_within_half_the_label_budget() -> None:
    side = 40  # 1,600 wards of 100 m, every tenth one larger: more names than the budget holds
    cells = [
        box(530_000 + 100 * (i % side), 180_000 + 100 * (i // side),
            530_000 + 100 * (i % side) + (90 if i % 10 == 0 else 50),
            180_000 + 100 * (i // side) + 90)
        for i in range(side * side)
    ]  # fmt: skip
    names = [
        f"A rather long ward name, as some councils write them, number {i}"
        for i in range(len(cells))
    ]
    wards = gpd.GeoDataFrame({"ward_name": names}, geometry=cells, crs=BNG)
    m = make_map(
        hotspots_frame().iloc[0:0], incidents([]), assets="static", tiles=None, wards=wards
    )
    kept = label_layers(m)["Ward names"].labels
    assert 0 < len(kept) < len(cells)
    assert MAP_LABEL_BYTES // 2 - 100 < labels_bytes(kept) <= MAP_LABEL_BYTES // 2
    large = {names[i] for i in range(0, len(cells), 10)}
    texts = [t for _, _, t in kept]
    assert set(texts[: len(large)]) == large  # the largest wards first


# ------------------------------------------------------------------------------------------
# hotspot ids kept apart in the browser


@NO_CHROMIUM
def test_close_hotspots_ids_do_not_overlap_until_zoomed_in(tmp_path: Path) -> None:
    """Two hotspots 15 m apart: at the map's first zoom the lower rank's id is hidden (the
    higher's shows), a far one keeps its id; zoomed in to 0.3 m a pixel both show."""
    from playwright.sync_api import sync_playwright

    from hotspots.export import write_map_html

    x0, y0 = 537_000.0, 188_000.0
    hs = gpd.GeoDataFrame(
        {"hotspot_id": ["H001", "H002", "H003"], "rank": [1, 2, 3], "incidents": [30, 20, 10]},
        geometry=[
            box(x0, y0, x0 + 30, y0 + 30),
            box(x0 + 45, y0, x0 + 75, y0 + 30),
            box(x0 + 2000, y0, x0 + 2030, y0 + 30),
        ],
        crs=BNG,
    )
    page_path = write_map_html(
        make_map(hs, incidents([(x0 + 10, y0 + 10, "On or near A Road")]), tiles=None),
        tmp_path / "map.html",
    )
    middle = gpd.GeoSeries([Point(x0 + 37, y0 + 15)], crs=BNG).to_crs(4326).iloc[0]
    shown = "els => els.map(e => [e.textContent, getComputedStyle(e).display !== 'none'])"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 600})
            page.goto(page_path.as_uri())
            page.wait_for_selector(".hotspot-label.hs-pinned")
            page.wait_for_timeout(300)
            first = page.eval_on_selector_all(".hotspot-label.hs-pinned", shown)
            name = page.evaluate("Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")
            page.evaluate(
                f"window['{name}'].setView([{middle.y}, {middle.x}], 19, {{animate: false}})"
            )
            page.wait_for_timeout(300)
            close = page.eval_on_selector_all(".hotspot-label.hs-pinned", shown)
        finally:
            browser.close()
    assert first == [["H001", True], ["H002", False], ["H003", True]]
    assert close[:2] == [["H001", True], ["H002", True]]
