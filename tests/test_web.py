"""Web outputs stay small at any size: map.html and hotspots.geojson under 2 MB, outlines within
the documented tolerance, the features written equal to the frame's rows (sizes, never times)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from hotspots._text import lists_as_text
from hotspots.assets import asset_dir
from hotspots.columns import HOTSPOT_COLUMNS
from hotspots.errors import InputError
from hotspots.export import write_hotspots_geojson, write_map_html
from hotspots.mapping import make_map
from hotspots.web import (
    DISPLAY_TOLERANCE_M,
    GEOJSON_MAX_BYTES,
    WEB_MAX_BYTES,
    display_geometries,
)

EVIL = "<script>alert(1)</script>"


def big_hotspots(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` hotspots in BNG over 40 km: winding 25 m-wide corridors (hundreds of vertices
    each, as DBSCAN outlines of a city centre are), long names with markup in every list."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        start = rng.uniform([510_000, 160_000], [550_000, 200_000])
        walk = start + np.cumsum(rng.normal(0, 40, size=(rng.integers(2, 40), 2)), axis=0)
        geom = shapely.LineString(np.vstack([start, walk])).buffer(25)
        rows.append(
            {
                "hotspot_id": f"H{i + 1:04d}",
                "rank": i + 1,
                "incidents": int(rng.integers(15, 900)),
                "share": float(rng.uniform(0, 0.01)),
                "area_km2": geom.area / 1e6,
                "density_km2": float(rng.uniform(1e3, 3e5)),
                "pai": float(rng.uniform(1, 500)),
                "top_categories": [(f"Violence {EVIL} & sexual offences", 20), ("Drugs", 3)],
                "top_locations": [(f"On or near Street {i} Road's end", 12)],
                "wards": [f"Ward <{i % 600}>"],
                "patrol_coverage": np.nan,
                "trend": float(rng.normal()),
                "trend_low": -1.0,
                "trend_high": 1.0,
                "trend_p": 0.5,
                "first_month": "2024-01",
                "last_month": "2024-12",
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, columns=HOTSPOT_COLUMNS, crs="EPSG:27700")


def test_display_outlines_are_within_the_tolerance() -> None:
    hs = big_hotspots(60, seed=1)
    drawn = gpd.GeoSeries(display_geometries(hs), crs=4326).to_crs(hs.crs)
    for exact, shown in zip(hs.geometry, drawn, strict=True):
        assert shown.is_valid
        assert exact.hausdorff_distance(shown) <= DISPLAY_TOLERANCE_M + 0.15  # + 6-dp rounding
    assert (
        shapely.get_num_coordinates(drawn.values).sum()
        < 0.5 * shapely.get_num_coordinates(hs.geometry.values).sum()
    )


def test_geojson_holds_the_frames_values_in_rank_order(tmp_path: Path) -> None:
    """Read back with pyogrio: the properties are the frame's (lists as text), rank order."""
    hs = big_hotspots(40, seed=2).iloc[::-1]  # given in reverse: written in rank order
    path = write_hotspots_geojson(
        hs, tmp_path / "h.geojson", max_bytes=GEOJSON_MAX_BYTES, tolerance_m=DISPLAY_TOLERANCE_M
    )
    back = pyogrio.read_dataframe(path)
    expected = lists_as_text(pd.DataFrame(hs.sort_values("rank").drop(columns="geometry")))
    assert list(back.columns) == [*expected.columns, "geometry"]
    for col in expected.columns:
        want, got = expected[col].reset_index(drop=True), back[col]
        if pd.api.types.is_float_dtype(want.dtype):
            assert np.allclose(got.to_numpy(float), want.to_numpy(), equal_nan=True), col
        else:
            assert got.astype(str).tolist() == want.astype(str).tolist(), col
    assert "note" not in json.loads(path.read_text(encoding="utf-8"))  # all of them fitted


def test_big_input_keeps_map_and_geojson_under_the_bound(tmp_path: Path) -> None:
    try:
        asset_dir()
    except InputError as exc:
        pytest.skip(f"map assets not installed: {exc}")
    hs = big_hotspots(2_500)
    rng = np.random.default_rng(5)
    points = rng.uniform([510_000, 160_000], [550_000, 200_000], size=(120_000, 2)).round()
    which = rng.integers(0, len(points), 400_000)
    xy = points[which]
    # a street per map point, 20,000 streets with markup and quotes: labels within the budget
    streets = np.array([f"On or near {EVIL} St Anne's Road {i}" for i in range(20_000)])
    incidents = gpd.GeoDataFrame(
        {"location": streets[which % len(streets)]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    wards = gpd.GeoDataFrame(
        {"ward_name": [f"Ward <{i}>" for i in range(400)]},
        geometry=[
            shapely.Point(510_000 + 2_000 * (i % 20), 160_000 + 2_000 * (i // 20)).buffer(
                1_000, quad_segs=400
            )
            for i in range(400)
        ],
        crs=27700,
    )
    geojson = write_hotspots_geojson(
        hs,
        tmp_path / "hotspots.geojson",
        max_bytes=GEOJSON_MAX_BYTES,
        tolerance_m=DISPLAY_TOLERANCE_M,
    )
    doc = json.loads(geojson.read_text(encoding="utf-8"))
    assert geojson.stat().st_size <= WEB_MAX_BYTES
    kept = len(doc["features"])
    assert 0 < kept < len(hs) and f"top {kept:,} of 2,500" in doc["note"]
    assert [f["properties"]["rank"] for f in doc["features"]] == list(range(1, kept + 1))
    m = make_map(hs, incidents, tiles=None, wards=wards, patrol_areas=wards.iloc[:50])
    page_path = write_map_html(m, tmp_path / "map.html")
    assert page_path.stat().st_size <= WEB_MAX_BYTES
    page = page_path.read_text(encoding="utf-8")
    assert EVIL not in page and "Ward <1>" not in page  # user text still escaped
    assert "of 2,500 hotspots by rank are drawn" in page
    # the legend's colour classes span the ranks drawn, not the 2,500
    on_map = int(page.split("the top ")[1].split(" of 2,500")[0].replace(",", ""))
    last = "\\u2013{:,}\\u003c/div"  # a class's end, as the legend's script holds it
    assert last.format(on_map) in page and last.format(2_500) not in page
    assert "merged on a" in page  # 120,000 map points: the heat is on a grid
    assert "Street names" in page and "Ward names" in page


def test_hotspots_drawn_in_part_are_coloured_over_the_ranks_drawn() -> None:
    """When not all hotspots fit, the drawn ones take the six colour classes among themselves
    (a city's top few hundred would otherwise all be in the first); all drawn: as before."""
    import folium

    from hotspots.map_layers import add_hotspots
    from hotspots.palette import RANK_COLOURS, rank_class

    hs = big_hotspots(60, seed=2)
    every, n = add_hotspots(folium.Map(), hs, max_bytes=10**9)
    assert n == 60 and [f["properties"]["colour"] for f in every] == [
        rank_class(p, 60) for p in range(60)
    ]
    sizes = np.cumsum([len(json.dumps(f)) for f in every])
    drawn, shown = add_hotspots(folium.Map(), hs, max_bytes=int(sizes[20]))
    assert 6 <= len(drawn) < 60 and shown == len(drawn)
    classes = [f["properties"]["colour"] for f in drawn]
    assert classes == [rank_class(p, shown) for p in range(shown)] and classes[-1] == 5
    assert {f["properties"]["style"]["fillColor"] for f in drawn} == set(RANK_COLOURS)
    assert all(
        f["properties"]["style"]["color"] == f["properties"]["style"]["fillColor"] for f in drawn
    )


def test_display_outlines_kept_between_calls_equal_fresh_ones() -> None:
    """The dashboard's slider redraws hotspots whose outlines did not change: a kept display
    outline equals one worked out afresh, in the new frame's order, missing ones kept."""
    from hotspots import web

    frame = big_hotspots(6, seed=4)
    first = display_geometries(frame.iloc[:4])
    assert len(first) == 4
    moved = gpd.GeoDataFrame(
        geometry=[frame.geometry.iloc[5], None, frame.geometry.iloc[2], frame.geometry.iloc[0]],
        crs=frame.crs,
    )
    again = display_geometries(moved)
    fresh = web._displayed(
        np.asarray([frame.geometry.iloc[i] for i in (5, 2, 0)], dtype=object), frame.crs, 2.0
    )
    assert again[1] is None
    assert [g.wkb for g in again[[0, 2, 3]]] == [g.wkb for g in fresh]
    assert again[2].wkb == first[2].wkb and again[3].wkb == first[0].wkb
    exact = display_geometries(moved, 0.0)  # another tolerance: not the simplified ones
    assert shapely.get_num_coordinates(exact[0]) > shapely.get_num_coordinates(again[0])
