"""hotspots.export: standalone map HTML, GeoJSON, CSV, GeoPackage, summary JSON."""

from __future__ import annotations

import csv
import datetime
import json
import math
import os
import stat
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from hotspots._text import join_items, join_names, lists_as_text
from hotspots.assets import asset_dir, external_urls, local_assets
from hotspots.columns import HOTSPOT_COLUMNS, INCIDENTS_CSV_COLUMNS
from hotspots.errors import InputError, ParameterError
from hotspots.export import (
    map_html,
    write_hotspots_csv,
    write_hotspots_geojson,
    write_hotspots_gpkg,
    write_incidents_csv,
    write_map_html,
    write_summary,
    write_table_csv,
)
from hotspots.mapping import make_map
from hotspots.web import DISPLAY_TOLERANCE_M

EVIL = "<script>alert(1)</script>"


def hotspots_frame(n: int = 2) -> gpd.GeoDataFrame:
    """``n`` hotspots in BNG: the first a square with a hole, the second with NaN statistics."""
    rows = []
    for i in range(n):
        shell = Point(537_500 + 500 * i, 189_200).buffer(80, quad_segs=2)
        geom = shell.difference(Point(537_500, 189_200).buffer(10)) if i == 0 else shell
        rows.append(
            {
                "hotspot_id": f"H{i + 1:02d}",
                "rank": i + 1,
                "incidents": 30 - i,
                "share": 0.25,
                "area_km2": 0.02,
                "density_km2": 1500.0,
                "pai": 9.0,
                "top_categories": [("Drugs", 10), (EVIL, 2)] if i == 0 else [("Burglary", 5)],
                "top_locations": [("Café Street", 7)],
                "wards": ["Higham Hill"],
                "patrol_coverage": 0.5 if i == 0 else np.nan,
                "trend": np.nan,
                "first_month": "2024-01",
                "last_month": "2024-06",
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, columns=HOTSPOT_COLUMNS, crs="EPSG:27700")


def incidents_frame() -> gpd.GeoDataFrame:
    """Four incidents (two on one map point) with a non-default index, months as datetimes."""
    return gpd.GeoDataFrame(
        {
            "incident_id": ["a", "b", "c", "d"],
            "month": pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-02-01", "NaT"]),
            "category": ["Burglary", "Drugs", EVIL, "Burglary"],
        },
        geometry=gpd.points_from_xy(
            [537_500.04, 537_500.04, 538_000.0, 539_000.0],
            [189_200.06, 189_200.06, 189_500, 189_900],
        ),
        index=[10, 11, 12, 13],
        crs="EPSG:27700",
    )


def needs_assets() -> None:
    try:
        asset_dir()
    except InputError as exc:
        pytest.skip(f"map assets not installed: {exc}")


# --- map HTML ----------------------------------------------------------------------------


@pytest.mark.parametrize("tiles", [None, "OpenStreetMap"])
def test_written_map_loads_nothing_from_the_network(tmp_path: Path, tiles: str | None) -> None:
    needs_assets()
    m = make_map(hotspots_frame(), incidents_frame(), tiles=tiles, synthetic=True)
    path = write_map_html(m, tmp_path / "out" / "map.html")
    page = path.read_text(encoding="utf-8")
    assert external_urls(page) == []
    assert "<script src" not in page and '<link rel="stylesheet"' not in page
    assert "file:" not in page
    # Leaflet, the heat plugin (with the weights patch) and full screen, inline
    assert "/* leaflet/leaflet.js */" in page and "Leaflet 1.9" in page
    assert "L.HeatLayer" in page and "simpleheat" in page and "maxQuantile" in page
    assert "leaflet.fullscreen/Control.FullScreen.js" in page
    assert "data:image/png;base64," in page  # Leaflet's layer icons
    if tiles is None:
        assert "tile.openstreetmap.org" not in page
    else:
        assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page


def test_written_map_escapes_user_text(tmp_path: Path) -> None:
    needs_assets()
    page = write_map_html(
        make_map(hotspots_frame(), incidents_frame(), tiles=None, title=EVIL), tmp_path / "m.html"
    ).read_text(encoding="utf-8")
    assert EVIL not in page
    assert "\\u0026lt;script\\u0026gt;" in page or "&lt;script&gt;" in page


def test_map_html_of_a_static_map_is_standalone_and_leaves_the_map_alone() -> None:
    needs_assets()
    m = make_map(hotspots_frame(), incidents_frame(), assets="static", tiles=None)
    links = list(m.default_js)
    page = map_html(m)
    assert external_urls(page) == []
    assert m.default_js == links
    again = m.get_root().render()
    assert all(u.startswith("/app/static/vendor/") for u in external_urls(again))


def test_empty_hotspots_still_write_a_map(tmp_path: Path) -> None:
    needs_assets()
    m = make_map(hotspots_frame(0), incidents_frame().iloc[:0], tiles=None)
    page = write_map_html(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "none found" in page and external_urls(page) == []


def test_a_map_with_an_unshippable_plugin_is_refused(tmp_path: Path) -> None:
    needs_assets()
    m = folium.Map(tiles=None)
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(ValueError, match="does not ship"):
        write_map_html(m, tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()


def test_plain_folium_map_is_made_standalone() -> None:
    needs_assets()
    m = folium.Map(location=[51.5, -0.1], tiles=None)
    folium.GeoJson({"type": "Point", "coordinates": [-0.1, 51.5]}).add_to(m)
    assert external_urls(map_html(local_assets(m, mode="static"))) == []


# --- GeoJSON -----------------------------------------------------------------------------


def test_geojson_is_rfc7946_wgs84(tmp_path: Path) -> None:
    hs = hotspots_frame()
    path = write_hotspots_geojson(
        hs, tmp_path / "a" / "hotspots.geojson", tolerance_m=DISPLAY_TOLERANCE_M
    )
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == 2
    first = doc["features"][0]
    assert list(first["properties"]) == HOTSPOT_COLUMNS[:-1]
    assert first["properties"]["hotspot_id"] == "H01"
    assert first["properties"]["top_categories"] == f"Drugs 10; {EVIL} 2"  # data, not HTML
    assert first["properties"]["trend"] is None
    assert doc["features"][1]["properties"]["patrol_coverage"] is None
    geom = shapely.geometry.shape(first["geometry"])
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 1
    lon, lat = geom.exterior.coords[0]
    assert -0.1 < lon < 0.1 and 51.5 < lat < 51.7
    for x, y in geom.exterior.coords:
        assert round(x, 6) == x and round(y, 6) == y
    assert geom.exterior.is_ccw and not geom.interiors[0].is_ccw  # right-hand rule
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    # simplified for display: within the documented tolerance of the exact outline (+ rounding)
    drawn = back.to_crs(hs.crs).geometry
    for i in range(len(hs)):
        assert drawn.iloc[i].hausdorff_distance(hs.geometry.iloc[i]) <= DISPLAY_TOLERANCE_M + 0.15
    exact = gpd.read_file(write_hotspots_geojson(hs, tmp_path / "exact.geojson"))
    expected = hs.to_crs(4326).geometry.iloc[0]
    assert exact.geometry.iloc[0].hausdorff_distance(expected) < 1e-6


def test_geojson_of_no_hotspots(tmp_path: Path) -> None:
    doc = json.loads(write_hotspots_geojson(hotspots_frame(0), tmp_path / "h.geojson").read_text())
    assert doc == {"type": "FeatureCollection", "features": []}


def test_frame_without_crs_is_refused(tmp_path: Path) -> None:
    hs = hotspots_frame().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="coordinate reference system"):
        write_hotspots_geojson(hs, tmp_path / "h.geojson")
    assert list(tmp_path.iterdir()) == []


# --- CSV ---------------------------------------------------------------------------------


def test_hotspots_csv_has_no_geometry_and_a_centroid(tmp_path: Path) -> None:
    hs = hotspots_frame()
    path = write_hotspots_csv(hs, tmp_path / "hotspots.csv")
    table = pd.read_csv(path, keep_default_na=False)
    assert list(table.columns) == [*HOTSPOT_COLUMNS[:-1], "centroid_longitude", "centroid_latitude"]
    centre = gpd.GeoSeries([hs.geometry.iloc[1].centroid], crs=hs.crs).to_crs(4326).iloc[0]
    assert table.loc[1, "centroid_longitude"] == pytest.approx(centre.x, abs=1e-6)
    assert table.loc[1, "centroid_latitude"] == pytest.approx(centre.y, abs=1e-6)
    assert table.loc[1, "patrol_coverage"] == ""  # NaN is an empty cell
    assert table.loc[0, "top_locations"] == "Café Street 7"
    assert table.loc[0, "top_categories"] == f"Drugs 10; {EVIL} 2"
    assert table.loc[0, "wards"] == "Higham Hill"


def test_incidents_csv_columns_and_values(tmp_path: Path) -> None:
    inc = incidents_frame()
    ids = pd.Series(["H01", "H01", "", None], index=inc.index, dtype=object)
    path = write_incidents_csv(inc, tmp_path / "incidents.csv", hotspot_ids=ids)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == INCIDENTS_CSV_COLUMNS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["incident_id"] == "a" and first["month"] == "2024-01"
    assert first["easting"] == "537500.0" and first["northing"] == "189200.1"
    assert len(first["longitude"].split(".")[1]) <= 6 and len(first["latitude"].split(".")[1]) <= 6
    assert first["hotspot_id"] == "H01"
    assert [r[7] for r in rows[1:]] == ["H01", "H01", "", ""]
    assert rows[3][2] == EVIL  # the CSV holds the data as it is
    assert rows[4][1] == ""  # missing month
    table = pd.read_csv(path)
    assert table["latitude"].between(51.5, 51.7).all()


def test_incidents_csv_with_reordered_ids_aligns_on_the_index(tmp_path: Path) -> None:
    inc = incidents_frame()
    ids = pd.Series(["", "H02", "H01", "H01"], index=[13, 12, 11, 10])
    table = pd.read_csv(
        write_incidents_csv(inc, tmp_path / "i.csv", hotspot_ids=ids), keep_default_na=False
    )
    assert table["hotspot_id"].tolist() == ["H01", "H01", "H02", ""]


def test_incidents_csv_without_ids_is_all_noise(tmp_path: Path) -> None:
    table = pd.read_csv(
        write_incidents_csv(incidents_frame(), tmp_path / "i.csv"), keep_default_na=False
    )
    assert (table["hotspot_id"] == "").all()


def test_incidents_csv_refuses_ids_for_other_incidents(tmp_path: Path) -> None:
    ids = pd.Series(["H01"], index=[99])
    with pytest.raises(ParameterError, match="hotspot_ids"):
        write_incidents_csv(incidents_frame(), tmp_path / "i.csv", hotspot_ids=ids)


def test_incidents_in_degrees_get_metres_from_the_chosen_crs(tmp_path: Path) -> None:
    inc = incidents_frame().to_crs(4326)
    table = pd.read_csv(write_incidents_csv(inc, tmp_path / "i.csv"))
    assert table.loc[0, "easting"] == pytest.approx(537_500.0, abs=0.2)


# --- GeoPackage --------------------------------------------------------------------------


def test_gpkg_round_trip(tmp_path: Path) -> None:
    hs = hotspots_frame()
    path = write_hotspots_gpkg(hs, tmp_path / "g" / "hotspots.gpkg", layer="spots")
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["spots"]
    back = pyogrio.read_dataframe(path, layer="spots")
    assert back.crs.to_epsg() == 27700
    assert list(back.columns) == HOTSPOT_COLUMNS
    assert back["hotspot_id"].tolist() == ["H01", "H02"]
    assert back["top_categories"].iloc[0] == f"Drugs 10; {EVIL} 2"  # the lists as text
    assert back["wards"].tolist() == ["Higham Hill", "Higham Hill"]
    assert math.isnan(back["patrol_coverage"].iloc[1])
    assert back.geometry.iloc[0].equals_exact(hs.geometry.iloc[0], tolerance=1e-6)


# --- summary and files -------------------------------------------------------------------


def test_summary_json(tmp_path: Path) -> None:
    summary = {
        "rows_read": np.int64(10),
        "share_in_hotspots": np.float64(0.5),
        "bad": float("nan"),
        "period": {"from": "2024-01", "to": "2024-06"},
        "inputs": (Path("a.csv"), "Café.csv"),
        "when": pd.Timestamp("2024-01-01"),
    }
    path = write_summary(summary, tmp_path / "s" / "summary.json")
    text = path.read_text(encoding="utf-8")
    assert "Café.csv" in text and "\n  " in text
    assert json.loads(text) == {
        "rows_read": 10,
        "share_in_hotspots": 0.5,
        "bad": None,
        "period": {"from": "2024-01", "to": "2024-06"},
        "inputs": ["a.csv", "Café.csv"],
        "when": "2024-01-01T00:00:00",
    }


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("cannot say")

    path = write_summary({"ok": 1}, tmp_path / "summary.json")
    with pytest.raises(RuntimeError):
        write_summary({"bad": Broken()}, path)
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_files_get_normal_permissions(tmp_path: Path) -> None:
    path = write_hotspots_csv(hotspots_frame(), tmp_path / "h.csv")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


# --- the list columns as text ------------------------------------------------------------

#: Names as awkward as data gets: separators, digits, quotes, commas (a name may end in a number).
NAMES = st.text(alphabet="ab Z09;,'\"é", min_size=1, max_size=12).map(str.strip).filter(bool)
ITEMS = st.lists(st.tuples(NAMES, st.integers(0, 10_000)), max_size=4)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(categories=ITEMS, streets=ITEMS, wards=st.lists(NAMES, max_size=3))
def test_written_text_is_the_joined_lists(
    tmp_path: Path,
    categories: list[tuple[str, int]],
    streets: list[tuple[str, int]],
    wards: list[str],
) -> None:
    """Whatever the names hold, the CSV and GeoJSON cells are exactly the joined lists, and the
    frame's lists are kept (the written text is never read back as data)."""
    hs = hotspots_frame(1)
    hs["top_categories"] = pd.Series([categories], dtype=object)
    hs["top_locations"] = pd.Series([streets], dtype=object)
    hs["wards"] = pd.Series([wards], dtype=object)
    expected = {
        "top_categories": "; ".join(f"{n} {c}" for n, c in categories),
        "top_locations": "; ".join(f"{n} {c}" for n, c in streets),
        "wards": "; ".join(wards),
    }
    assert join_items(categories) == expected["top_categories"]
    assert join_names(wards) == expected["wards"]
    assert lists_as_text(hs)[list(expected)].iloc[0].to_dict() == expected
    table = pd.read_csv(
        write_hotspots_csv(hs, tmp_path / "h.csv"), dtype=str, keep_default_na=False
    )
    assert table[list(expected)].iloc[0].to_dict() == expected
    doc = json.loads(write_hotspots_geojson(hs, tmp_path / "h.geojson").read_text("utf-8"))
    assert {k: doc["features"][0]["properties"][k] for k in expected} == expected
    assert hs["top_categories"].iloc[0] == categories  # the frame keeps its lists


@pytest.mark.parametrize("rows", [65_636, 600_000])
def test_incident_coordinates_are_each_rows_own_projection(rows: int) -> None:
    """Every row gets exactly the numbers its own projection gives (repeated points, points
    in any order, a -0.0 easting), whether the rows are projected in two threads or, from
    PARALLEL_PROJECT_ROWS on, each distinct point once (not with a zero: every row)."""
    from pyproj import CRS, Transformer

    from hotspots.crs import PARALLEL_PROJECT_ROWS, _distinct_points, project_xy

    assert 65_636 < PARALLEL_PROJECT_ROWS <= 600_000
    rng = np.random.default_rng(2)
    sites = rng.uniform([500_000, 170_000], [560_000, 200_000], size=(50, 2))
    xy = sites[rng.integers(0, len(sites), size=rows)]
    bng, wgs84 = CRS.from_epsg(27700), CRS.from_epsg(4326)
    plain = Transformer.from_crs(bng, wgs84, always_xy=True)
    for x, y in [(xy[:, 0], xy[:, 1]), (np.r_[xy[:, 0], -0.0], np.r_[xy[:, 1], 1.0])]:
        assert (_distinct_points(x, y) is not None) == bool(np.all(x))  # by point, if large
        lon, lat = project_xy(bng, wgs84, x.copy(), y.copy())
        want_lon, want_lat = plain.transform(x.copy(), y.copy())
        assert np.array_equal(lon, want_lon) and np.array_equal(lat, want_lat)


def test_incidents_csv_gives_every_row_its_own_projection(tmp_path: Path) -> None:
    """A city-sized frame's distinct map points are projected once (their codes are kept):
    every row's longitude and latitude must be its own projection, rounded; a frame with a
    zero easting takes the row-by-row path."""
    from pyproj import Transformer

    rng = np.random.default_rng(4)
    sites = rng.uniform([500_000, 170_000], [560_000, 200_000], size=(300, 2))
    xy = sites[rng.integers(0, len(sites), size=20_000)]
    plain = Transformer.from_crs(27700, 4326, always_xy=True)
    for rows in (xy, np.r_[xy, [[0.0, 180_000.0]]]):
        frame = gpd.GeoDataFrame(
            {"month": pd.Timestamp("2024-01-01")},
            geometry=gpd.points_from_xy(rows[:, 0], rows[:, 1]),
            crs="EPSG:27700",
            index=range(len(rows)),
        )
        for _ in range(2):  # the second time from the kept coordinates and codes
            written = pd.read_csv(write_incidents_csv(frame, tmp_path / "i.csv"))
            lon, lat = plain.transform(rows[:, 0].copy(), rows[:, 1].copy())
            assert np.array_equal(written["longitude"].to_numpy(), np.round(lon, 6))
            assert np.array_equal(written["latitude"].to_numpy(), np.round(lat, 6))
            assert np.array_equal(written["easting"].to_numpy(), np.round(rows[:, 0], 1))


def test_incidents_csv_by_map_point_writes_the_row_by_row_text(tmp_path: Path) -> None:
    """Coordinates written by map point (each distinct value's text made once) are the bytes
    a plain table of every row's own numbers gives, also where a longitude rounds to -0.0
    or 0.0 on the Greenwich meridian (then every row is written on its own)."""
    from pyproj import Transformer

    from hotspots.export import _incident_xy

    rng = np.random.default_rng(8)
    sites = rng.uniform([520_000, 170_000], [545_000, 195_000], size=(300, 2))
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    meridian = np.array([to_bng.transform(lon, 51.5) for lon in (-1e-7, 1e-7)])
    plain = Transformer.from_crs(27700, 4326, always_xy=True)
    for extra in (np.zeros((0, 2)), meridian):
        points = np.r_[sites, extra]
        xy = points[rng.integers(0, len(points), size=30_000)]
        frame = gpd.GeoDataFrame(
            {"month": pd.Timestamp("2024-03-01")},
            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
            crs="EPSG:27700",
            index=range(len(xy)),
        )
        assert _incident_xy(frame)[0] is not None  # by map point
        got = write_incidents_csv(frame, tmp_path / "i.csv").read_bytes()
        lon, lat = plain.transform(xy[:, 0].copy(), xy[:, 1].copy())
        rows = {"incident_id": "", "month": "2024-03", "category": ""}
        numbers = {"longitude": np.round(lon, 6), "latitude": np.round(lat, 6)}
        numbers |= {"easting": np.round(xy[:, 0], 1), "northing": np.round(xy[:, 1], 1)}
        table = pd.DataFrame({**rows, **numbers, "hotspot_id": ""})
        assert got == write_table_csv(table, tmp_path / "w.csv").read_bytes()
    assert b"\n,2024-03,,-0.0," in got and b"\n,2024-03,,0.0," in got


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=datetime.datetime(1700, 1, 1), max_value=datetime.datetime(2200, 12, 31)
            ),
        ),
        min_size=0,
        max_size=40,
    )
)
def test_months_are_written_as_a_plain_format_gives_them(values: list) -> None:  # type: ignore[type-arg]
    """incidents.csv's months (each distinct month formatted once, counted from the first)
    equal strftime's ``YYYY-MM`` of every row; a missing month is empty."""
    from hotspots.export import _months

    series = pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
    got = _months(series).tolist()
    want = [None if pd.isna(v) else v.strftime("%Y-%m") for v in series]
    assert [None if pd.isna(g) else g for g in got] == want
