"""hotspots.mapping.make_map: layers, weights, escaping, offline links, arguments."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import HeatMap
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from hotspots.assets import external_urls
from hotspots.columns import HOTSPOT_COLUMNS
from hotspots.errors import InputError, ParameterError
from hotspots.mapping import POINTS_MAX, make_map
from hotspots.palette import RANK_COLOURS, trend_words

EVIL_SCRIPT = "<script>alert(1)</script>"
EVIL_IMG = "<img src=x onerror=alert(2)>"


def hotspots_frame(n: int = 2, *, evil: bool = False) -> gpd.GeoDataFrame:
    """``n`` round hotspots in BNG near Walthamstow, all contract columns filled.

    With ``evil``, the first hotspot's crime types, streets and wards hold HTML/JS injections.
    """
    rows = []
    for i in range(n):
        top_cat = [("Violence and sexual offences", 12), ("Drugs", 3)]
        top_loc = [("St James Street", 9), ("Hoe Street", 2)]
        wards = ["Higham Hill"]
        if evil and i == 0:
            top_cat = [(EVIL_SCRIPT, 12), ("Drugs", 3)]
            top_loc = [(EVIL_IMG, 9)]
            wards = [EVIL_SCRIPT]
        rows.append(
            {
                "hotspot_id": f"H{i + 1:02d}",
                "rank": i + 1,
                "incidents": 20 - i,
                "share": 0.1,
                "area_km2": 0.03,
                "density_km2": 600.0,
                "pai": 8.5,
                "top_categories": top_cat,
                "top_locations": top_loc,
                "wards": wards,
                "patrol_coverage": np.nan if i else 0.5,
                "trend": np.nan if i else 0.3,
                "first_month": "2024-01",
                "last_month": "2024-06",
                "geometry": Point(537_500 + 400 * i, 189_200).buffer(60),
            }
        )
    return gpd.GeoDataFrame(rows, columns=HOTSPOT_COLUMNS, crs="EPSG:27700")


def incidents_frame(points: Sequence[tuple[float, float]]) -> gpd.GeoDataFrame:
    """One incident per (easting, northing) in BNG; repeat a pair to snap several onto it."""
    x = [p[0] for p in points]
    y = [p[1] for p in points]
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"i{k}" for k in range(len(points))],
            "month": pd.Timestamp("2024-01-01"),
            "category": "Burglary",
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


def render(m: folium.Map) -> str:
    return m.get_root().render()


def heat_layers(m: folium.Map) -> list[HeatMap]:
    return [c for c in m._children.values() if isinstance(c, HeatMap)]


def hotspot_layer(m: folium.Map) -> folium.GeoJson:
    return next(
        c
        for c in m._children.values()
        if isinstance(c, folium.GeoJson) and c.layer_name == "Hotspots"
    )


def json_strings(page: str) -> str:
    """The page with the JSON escapes of <, >, & undone (what the browser's JS sees)."""
    return page.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")


@pytest.fixture
def snapped() -> gpd.GeoDataFrame:
    """Nine incidents on three map points (5, 3 and 1 incidents)."""
    return incidents_frame(
        [(537_500, 189_200)] * 5 + [(537_520, 189_210)] * 3 + [(538_000, 189_900)]
    )


def test_heat_uses_unique_points_with_counts(snapped: gpd.GeoDataFrame) -> None:
    m = make_map(hotspots_frame(), snapped, assets="static", tiles=None)
    (heat,) = heat_layers(m)
    weights = sorted(row[2] for row in heat.data)
    assert weights == [1, 3, 5]
    for lat, lon, _ in heat.data:
        assert 51.5 < lat < 51.7 and -0.1 < lon < 0.05


def test_many_points_are_merged_to_max_points_keeping_the_total() -> None:
    rng = np.random.default_rng(0)
    pts = [(537_000 + x, 189_000 + y) for x, y in rng.uniform(0, 2000, size=(3000, 2))]
    m = make_map(
        hotspots_frame(), incidents_frame(pts), assets="static", tiles=None, max_points=200
    )
    (heat,) = heat_layers(m)
    assert len(heat.data) <= 200
    assert sum(row[2] for row in heat.data) == 3000
    assert "merged on a" in render(m)


def test_few_points_are_also_drawn_as_circles(snapped: gpd.GeoDataFrame) -> None:
    page = render(make_map(hotspots_frame(), snapped, assets="static", tiles=None))
    assert "Incident points" in page
    assert "L.CircleMarker" in page


def test_many_points_are_heat_only() -> None:
    pts = [(537_000 + 3.0 * k, 189_000.0) for k in range(POINTS_MAX + 1)]
    page = render(make_map(hotspots_frame(), incidents_frame(pts), assets="static", tiles=None))
    assert "Incident heat" in page
    assert "Incident points" not in page


def test_layers_controls_and_boxes(snapped: gpd.GeoDataFrame) -> None:
    page = render(
        make_map(hotspots_frame(3), snapped, assets="static", tiles=None, title="Borough")
    )
    for needle in (
        "L.heatLayer",
        "L.control.layers",
        "L.control.scale",
        "L.control.fullscreen",
        '"Hotspots"',
        "fitBounds",
        "Borough",
    ):
        assert needle in page, needle
    assert "SYNTHETIC DEMO DATA" not in page
    assert "$(" not in page, "nothing may need jQuery"
    from hotspots.basemap import DATA_ATTRIBUTION

    assert "data.police.uk, Open Government Licence v3.0" in DATA_ATTRIBUTION
    assert json.dumps(DATA_ATTRIBUTION) in page  # in the attribution control


def test_synthetic_maps_say_so(snapped: gpd.GeoDataFrame) -> None:
    page = render(make_map(hotspots_frame(), snapped, assets="static", tiles=None, synthetic=True))
    assert "SYNTHETIC DEMO DATA" in page


def test_user_text_is_escaped_everywhere(snapped: gpd.GeoDataFrame) -> None:
    wards = gpd.GeoDataFrame(
        {"name": [EVIL_SCRIPT]},
        geometry=[box(537_000, 189_000, 538_000, 190_000)],
        crs="EPSG:27700",
    )
    patrols = gpd.GeoDataFrame(
        {"label": [EVIL_IMG]}, geometry=[box(537_200, 189_100, 537_800, 189_500)], crs="EPSG:27700"
    )
    m = make_map(
        hotspots_frame(evil=True),
        snapped,
        assets="static",
        tiles=None,
        title=EVIL_SCRIPT,
        attribution=EVIL_IMG,
        wards=wards,
        patrol_areas=patrols,
    )
    page = render(m)
    seen_by_js = json_strings(page)
    for evil in (EVIL_SCRIPT, EVIL_IMG):
        assert evil not in page
        assert evil not in seen_by_js
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in seen_by_js
    assert "&lt;img src=x onerror=alert(2)&gt;" in seen_by_js


def test_popup_holds_the_statistics(snapped: gpd.GeoDataFrame) -> None:
    seen_by_js = json_strings(
        render(make_map(hotspots_frame(), snapped, assets="static", tiles=None))
    )
    for needle in (
        "Hotspot H01",
        "20 (10.0% of all analysed)",
        "Violence and sexual offences 12",
        "St James Street 9",
        "PAI",
        "up 30% on the previous period",
        "not enough months to compare",
        "50% of its incidents inside a patrol area",
        "2024-01 to 2024-06",
    ):
        assert needle in seen_by_js, needle


def test_top_rank_is_darkest() -> None:
    hs = hotspots_frame(12).sample(frac=1.0, random_state=1)  # order must not matter
    m = make_map(hs, incidents_frame([]), assets="static", tiles=None)
    geo = hotspot_layer(m)
    colours = {
        f["properties"]["hotspot_id"]: f["properties"]["style"]["color"]
        for f in geo.data["features"]
    }
    assert colours["H01"] == RANK_COLOURS[0]
    assert colours["H12"] == RANK_COLOURS[-1]


def test_empty_frames_still_give_a_map() -> None:
    empty_hs = hotspots_frame(0)
    empty_inc = incidents_frame([])
    m = make_map(empty_hs, empty_inc, assets="static", tiles=None)
    page = render(m)
    assert "none found" in page
    assert heat_layers(m) == []


def test_offline_default_has_no_tiles_and_a_light_background(snapped: gpd.GeoDataFrame) -> None:
    page = render(make_map(hotspots_frame(), snapped, assets="static", tiles=None))
    assert "L.tileLayer" not in page
    assert re.search(r"\.leaflet-container \{ background: #[0-9a-f]{6}", page)
    assert all(u.startswith("/app/static/vendor/") for u in external_urls(page))


def test_own_tile_server(snapped: gpd.GeoDataFrame) -> None:
    url = "https://tiles.example.police.uk/{z}/{x}/{y}.png"
    page = render(make_map(hotspots_frame(), snapped, assets="static", tiles=url))
    assert "L.tileLayer" in page and "tiles.example.police.uk" in page
    assert not any("tiles.example" in u for u in external_urls(page))


def test_unknown_tile_name_is_a_parameter_error(snapped: gpd.GeoDataFrame) -> None:
    with pytest.raises(ParameterError, match="tile server address") as err:
        make_map(hotspots_frame(), snapped, assets="static", tiles="NoSuchTiles")
    assert err.value.argument == "tiles"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"assets": "cdn"}, ParameterError, "assets"),
        ({"max_points": 0}, ParameterError, "max_points"),
        ({"max_points": 1.5}, ParameterError, "max_points"),
    ],
)
def test_bad_arguments(
    snapped: gpd.GeoDataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make_map(hotspots_frame(), snapped, **kwargs)  # type: ignore[arg-type]


def test_bad_frames(snapped: gpd.GeoDataFrame) -> None:
    with pytest.raises(ParameterError, match="incidents"):
        make_map(hotspots_frame(), pd.DataFrame(), assets="static")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="hotspot_id"):
        make_map(hotspots_frame().drop(columns="hotspot_id"), snapped, assets="static")
    with pytest.raises(InputError, match="coordinate reference system"):
        make_map(hotspots_frame(), snapped.set_crs(None, allow_override=True), assets="static")


def test_inputs_are_not_mutated(snapped: gpd.GeoDataFrame) -> None:
    hs = hotspots_frame(evil=True)
    hs_before, inc_before = hs.copy(), snapped.copy()
    make_map(hs, snapped, assets="static", tiles=None)
    assert_geodataframe_equal(hs, hs_before)
    assert_geodataframe_equal(snapped, inc_before)


def test_reference_layers_in_any_crs(snapped: gpd.GeoDataFrame) -> None:
    wards = gpd.GeoDataFrame(
        {"WD24CD": ["E05000001"], "WD24NM": ["Higham Hill"]},
        geometry=[box(537_000, 189_000, 538_000, 190_000)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    m = make_map(hotspots_frame(), snapped, assets="static", tiles=None, wards=wards)
    page = render(m)
    assert '"Wards"' in page and "Higham Hill" in page  # WD24NM names the ward, not WD24CD
    assert '"Patrol areas"' not in page


def test_map_size_stays_small_for_many_incidents() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 3000, size=(60_000, 2)) + np.array([536_000, 188_000])
    inc = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")
    page = render(make_map(hotspots_frame(), inc, assets="static", tiles=None, max_points=5_000))
    assert len(page) < 400_000


def test_geojson_payload_is_valid_json(snapped: gpd.GeoDataFrame) -> None:
    m = make_map(hotspots_frame(evil=True), snapped, assets="static", tiles=None)
    geo = hotspot_layer(m)
    text = json.dumps(geo.data)
    assert json.loads(text)["features"][0]["properties"]["label"] == "H01"


@pytest.mark.parametrize(
    ("trend", "words"),
    [
        (0.25, "up 25% on the previous period"),
        (-0.5, "down 50% on the previous period"),
        (0.02, "about the same as the previous period"),
        (float("nan"), "not enough months to compare"),
        (None, "not enough months to compare"),
        (float("inf"), "new: none in the previous period"),
    ],
)
def test_trend_words(trend: float | None, words: str) -> None:
    assert trend_words(trend) == words


def test_trend_words_with_the_interval() -> None:
    """With its interval the popup says "no clear change" when it holds 0."""
    assert trend_words(0.62, -0.087, 1.936).startswith(
        "no clear change compared with the previous period"
    )
    assert trend_words(-0.3, -0.468, -0.0005) == (
        "down 30% on the previous period (95% interval −47% to −0.05%)"
    )


def test_wards_shaded_by_a_column() -> None:
    """Four square wards with 1, 10, 100 and 1000 incidents: the lightest and darkest of the
    five shades go to the quietest and busiest ward; tooltips carry the value, escaped."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspots.errors import ParameterError
    from hotspots.map_layers import WARD_SHADES

    wards = gpd.GeoDataFrame(
        {
            "ward_code": ["W1", "W2", "W3", "W4"],
            "ward_name": ["Quiet", "Low", "Busy <b>x</b>", "Busiest"],
            "incidents": [1, 10, 100, 1000],
        },
        geometry=[box(530_000 + 1000 * i, 180_000, 531_000 + 1000 * i, 181_000) for i in range(4)],
        crs="EPSG:27700",
    )
    empty = gpd.GeoDataFrame({"hotspot_id": [], "rank": []}, geometry=[], crs="EPSG:27700")
    points = gpd.GeoDataFrame(geometry=[], crs="EPSG:27700")
    html = make_map(empty, points, tiles=None, wards=wards, ward_shading="incidents")
    page = html.get_root().render()
    assert WARD_SHADES[-1] in page and WARD_SHADES[0] in page
    assert "Busiest: 1,000 incidents" in page
    assert "<b>x</b>" not in page
    assert "wards by incidents: 1 to 1,000" in page
    with pytest.raises(ParameterError, match="ward_shading"):
        make_map(empty, points, tiles=None, wards=wards, ward_shading="robberies")


_coordinate = st.floats(-180, 180, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    centre=st.tuples(_coordinate, _coordinate),
    radius=st.floats(1e-4, 10, allow_nan=False),
    hole=st.booleans(),
    parts=st.integers(1, 3),
)
def test_geojson_geometry_writes_what_shapely_mapping_writes(
    centre: tuple[float, float], radius: float, hole: bool, parts: int
) -> None:
    """The map's features take each ring's coordinates at once: the same JSON as shapely's
    mapping, for polygons with and without holes and for multipolygons."""
    from shapely.geometry import MultiPolygon, mapping

    from hotspots.map_layers import geojson_geometry

    x, y = centre
    polys = []
    for k in range(parts):
        outer = Point(x + 3 * radius * k, y).buffer(radius, quad_segs=3)
        polys.append(
            outer.difference(Point(x + 3 * radius * k, y).buffer(radius / 3)) if hole else outer
        )
    geoms = [polys[0], MultiPolygon(polys), Point(x, y)]
    for geom in geoms:
        assert json.dumps(geojson_geometry(geom)) == json.dumps(mapping(geom))


# ------------------------------------------------------------------------------------------
# Cell layers of the Analysis page's maps


def _cells(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=[
            box(530_000 + 50 * (i % 100), 180_000 + 50 * (i // 100),
                530_050 + 50 * (i % 100), 180_050 + 50 * (i // 100))
            for i in range(n)
        ],
        crs="EPSG:27700",
    )  # fmt: skip


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 400), budget=st.integers(0, 60_000))
def test_cell_features_are_the_first_cells_that_fit(n: int, budget: int) -> None:
    """As many cells as fit in the budget, in the order given, each with its colour and its
    escaped tip; one more would not have fitted."""
    from hotspots.map_layers import _STYLED_FEATURE_BYTES, _page_bytes, cell_features

    def size(feature: dict) -> int:  # type: ignore[type-arg]
        return _page_bytes(feature) + _STYLED_FEATURE_BYTES

    tips = [f"<b>cell {i}</b> & co" for i in range(n)]
    colours = ["#b10026" if i % 2 else "#2166ac" for i in range(n)]
    got = cell_features(_cells(n), colours, tips, max_bytes=budget)
    assert [f["properties"]["tip"] for f in got] == [
        f"&lt;b&gt;cell {i}&lt;/b&gt; &amp; co" for i in range(len(got))
    ]
    assert [f["properties"]["colour"] for f in got] == colours[: len(got)]
    used = sum(size(f) for f in got)
    assert used <= budget
    if len(got) < n:
        every = cell_features(_cells(n), colours, tips, max_bytes=10**9)
        assert used + size(every[len(got)]) > budget
    if got:
        lat = np.array(got[0]["geometry"]["coordinates"][0])[:, 1]
        assert np.all(np.abs(lat - 51.5) < 0.1)  # in degrees, not metres


def test_cell_features_need_a_colour_and_a_tip_per_cell() -> None:
    from hotspots.map_layers import cell_features

    with pytest.raises(ParameterError, match="3 cells need as many colours and tips"):
        cell_features(_cells(3), ["#b10026"], ["a", "b", "c"])


def test_a_reference_layer_kept_between_maps_is_each_map_s_own() -> None:
    """The ward layer is worked out once for the same wards and style; each map gets its own
    copy (shading one map's wards leaves the next map's as they were)."""
    from hotspots.map_layers import display_layer, reference_geojson

    wards = gpd.GeoDataFrame(
        {"ward_name": ["A <b>", "B"]},
        geometry=[box(530_000, 180_000, 531_000, 181_000), box(531_000, 180_000, 532_000, 181_000)],
        crs="EPSG:27700",
    )
    layer = display_layer(wards, "wards")
    first = reference_geojson(layer, {"color": "#555555"})
    first["features"][0]["properties"]["style"]["fillColor"] = "#08519c"
    second = reference_geojson(layer, {"color": "#555555"})
    assert second["features"][0]["properties"]["style"] == {"color": "#555555"}
    assert [f["properties"]["label"] for f in second["features"]] == ["A &lt;b&gt;", "B"]
    other = reference_geojson(layer, {"color": "#2166ac"})  # another style: not the kept one
    assert other["features"][0]["properties"]["style"] == {"color": "#2166ac"}
    gap = gpd.GeoDataFrame({"ward_name": ["A", "B"]}, geometry=[None, wards.geometry.iloc[1]])
    assert [f["properties"]["label"] for f in reference_geojson(gap, {})["features"]] == ["B"]


def test_a_map_base_reused_for_other_wards_draws_the_same_map() -> None:
    """map_base(..., reuse=) takes the heat points and street names of a base of the same
    incidents and draws only the wards' part: the same map as a base worked out afresh."""
    import re as regex

    from hotspots.map_base import map_base

    rng = np.random.default_rng(4)
    pts = [(537_000 + x, 189_000 + y) for x, y in rng.uniform(0, 2000, size=(400, 2))]
    inc = incidents_frame(pts).assign(location=[f"On or near Road {i % 7}" for i in range(400)])
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["West", "East"]},
        geometry=[box(536_900, 188_900, 538_000, 191_100), box(538_000, 188_900, 539_100, 191_100)],
        crs="EPSG:27700",
    )
    plain = map_base(inc, wards)
    reused = map_base(inc, wards, reuse=map_base(inc))
    assert reused.streets is not None and [w[2] for w in reused.ward_labels] == ["West", "East"]
    assert [w[2] for w in plain.ward_labels] == ["West", "East"]

    def page(base):  # type: ignore[no-untyped-def]
        m = make_map(hotspots_frame(), inc, wards=wards, assets="static", tiles=None, base=base)
        return regex.sub(r"[0-9a-f]{32}", "", render(m))  # folium's random ids

    assert page(reused) == page(plain)
    other = map_base(inc, None, reuse=plain)  # the wards' part dropped with the wards
    assert other.ward_frame is None and other.ward_labels == [] and other.streets is plain.streets


def test_a_map_asks_nothing_of_any_tile_server_unless_told(snapped: gpd.GeoDataFrame) -> None:
    """make_map's default is no base map, as the command line's: a notebook's map.html
    sends no request (it fetched OpenStreetMap's tiles by default)."""
    page = render(make_map(hotspots_frame(3), snapped, assets="static"))
    assert "openstreetmap" not in page.lower() and "L.tileLayer" not in page
    told = render(make_map(hotspots_frame(3), snapped, assets="static", tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in told


def test_a_map_is_framed_below_its_title_box(snapped: gpd.GeoDataFrame) -> None:
    """More room at the top, where the title box sits: the data are framed below it."""
    page = render(make_map(hotspots_frame(3), snapped, assets="static", title="Borough"))
    assert '"paddingTopLeft": [30, 75]' in page and '"paddingBottomRight": [30, 30]' in page
