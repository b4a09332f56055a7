"""study_area: the one rule for the area every PAI and grid is measured against."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull, QhullError

from hotspots.errors import InputError, ParameterError
from hotspots.study_area import (
    DEFAULT_BUFFER_M,
    StudyArea,
    area_geometry,
    study_area,
    without_far_outliers,
)


def _points(xs: list[float], ys: list[float]) -> gpd.GeoDataFrame:
    """Incidents-like points in BNG metres."""
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:27700")


def test_default_is_the_buffered_hull() -> None:
    pts = _points([0, 1000, 1000, 0], [0, 0, 1000, 1000])
    area = study_area(pts)
    expected = shapely.box(0, 0, 1000, 1000).buffer(DEFAULT_BUFFER_M, quad_segs=16).area
    assert area.area_km2 == pytest.approx(expected / 1e6)
    assert area.source == "incidents"
    assert area.buffer_m == DEFAULT_BUFFER_M
    assert "convex hull" in area.note and "km²" in area.note


def test_boundary_in_another_crs_is_reprojected_and_dissolved() -> None:
    pts = _points([100, 200], [100, 200])
    wards = gpd.GeoDataFrame(
        {"ward_name": ["A", "B"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    area = study_area(pts, boundary=wards)
    assert area.source == "boundary"
    assert area.area_km2 == pytest.approx(2.0, rel=1e-3)
    assert study_area(pts, boundary=area) is area  # a StudyArea passes through


def test_far_outliers_are_left_out_and_counted() -> None:
    rng = np.random.default_rng(1)
    xs = [*list(rng.uniform(0, 1000, 200)), 200000.0]
    ys = [*list(rng.uniform(0, 1000, 200)), 50000.0]
    area = study_area(_points(xs, ys), buffer_m=0)
    assert area.left_out == 1
    assert area.area_km2 < 1.0
    assert "leaving out 1 incidents" in area.note


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000)), min_size=20, max_size=80))
def test_outlier_mask_keeps_at_least_three(points: list[tuple[float, float]]) -> None:
    xy = np.array(points, dtype=float)
    keep = without_far_outliers(xy)
    assert keep.dtype == bool and len(keep) == len(xy)
    assert keep.sum() >= 3


@settings(max_examples=60, deadline=None)
@given(
    sites=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=3, max_size=30, unique=True
    ),
    picks=st.lists(st.integers(0, 10_000), min_size=25, max_size=200),
    far=st.booleans(),
)
# GEOS 3.14's convex hull of these rows, with their repeats, is a bent ring of half the
# triangle's area (a hull point on an edge between the others); Qhull's is the triangle
@example(
    sites=[(4, 4), (4, 2), (0, 0), (6, 0), (5, 2)], picks=[0] * 47 + [53, 154, 294, 1], far=False
)
def test_the_hull_is_every_kept_rows_hull(
    sites: list[tuple[int, int]], picks: list[int], far: bool
) -> None:
    """Drawn around the rows' distinct map points (rows repeat a point many times; a far
    outlier's point left out), the area is the buffered hull of every kept row (Qhull's, of
    the rows with their repeats)."""
    xy = np.array([sites[p % len(sites)] for p in picks], dtype=float) * 25.0
    if far:
        xy = np.r_[xy, [[500_000.0, 400_000.0]]]
    keep = without_far_outliers(xy)
    try:
        corners = ConvexHull(xy[keep]).vertices
    except QhullError:
        return  # points on a line: refused (test_bad_inputs_have_clear_messages)
    hull = shapely.Polygon(xy[keep][corners])
    area = study_area(_points(list(xy[:, 0]), list(xy[:, 1])), buffer_m=100.0)
    want = hull.buffer(100.0, quad_segs=16)
    assert area.left_out == int((~keep).sum())
    assert area.geometry.symmetric_difference(want).area < 1e-6 * want.area


def test_bad_inputs_have_clear_messages() -> None:
    pts = _points([0, 1, 2], [0, 1, 2])
    with pytest.raises(InputError, match="on a line"):
        study_area(pts, buffer_m=0)
    with pytest.raises(ParameterError, match="buffer_m"):
        study_area(pts, buffer_m=-1)
    with pytest.raises(ParameterError, match="boundary must be a polygon"):
        study_area(pts, boundary="wards.geojson")
    with pytest.raises(ParameterError, match="no area"):
        area_geometry(shapely.LineString([(0, 0), (1, 1)]), "EPSG:27700")
    with pytest.raises(ParameterError, match="GeoDataFrame"):
        study_area("not a frame")  # type: ignore[arg-type]
    empty = _points([], [])
    with pytest.raises(InputError, match="no incidents"):
        study_area(empty)


def test_to_frame_round_trips() -> None:
    area = StudyArea(shapely.box(0, 0, 10, 10), gpd.GeoSeries(crs="EPSG:27700").crs, "boundary")
    frame = area.to_frame()
    assert frame.crs == "EPSG:27700" and frame.geometry.iloc[0].area == 100


def test_a_boundary_says_how_many_incidents_lie_outside_it() -> None:
    """Wards that miss some incidents: the study area's note counts them (kde, gi, change and
    emerging keep to the boundary and dropped them without a word)."""
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([10, 20, 30, 5_000, 5_000], [10, 20, 30, 5_000, 5_000]),
        crs="EPSG:27700",
    )
    area = study_area(pts, boundary=shapely.box(0, 0, 100, 100))
    assert "(2 of the 5 incidents, 40%, lie outside it and are not counted there)" in area.note
    inside = study_area(pts.iloc[:3], boundary=shapely.box(0, 0, 100, 100))
    assert "outside" not in inside.note


def test_a_hull_spread_by_a_few_incidents_is_said_to_inflate_every_pai() -> None:
    """1,000 incidents in a 1 km square, and 8 on a ring 1.8 km out (near enough to stay in
    the hull): the hull is many times the ground 98% of them cover, and the note says so,
    with both areas; without the ring nothing is said."""
    from hotspots.study_area import study_area

    rng = np.random.default_rng(5)
    core = rng.uniform(0, 1000, size=(1000, 2)) + 530_000
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)]) * 1800 + 530_500

    def frame(xy: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=27700)

    spread = study_area(frame(np.vstack([core, ring])))
    assert spread.left_out == 0
    said = r"most incidents \(98%\) lie within 1\.[2-5] km²: .* make it [6-9] times larger"
    assert re.search(said, spread.note), spread.note
    assert "times larger" not in study_area(frame(core)).note
