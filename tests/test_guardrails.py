"""hotspots.guardrails: incidents far from the rest, boundaries that do not fit the incidents."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from hotspots.errors import ParameterError
from hotspots.guardrails import check_boundaries, far_incidents

BNG = "EPSG:27700"
X0, Y0 = 530_000.0, 180_000.0


def grid(n_side: int = 20, step: float = 50.0) -> list[Point]:
    """A square of n_side x n_side points, ``step`` metres apart, from (X0, Y0)."""
    return [Point(X0 + step * (i % n_side), Y0 + step * (i // n_side)) for i in range(n_side**2)]


def frame(points: list[Point]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=points, crs=BNG)


def test_far_incidents_are_counted_and_left_out_of_the_frame() -> None:
    """Two incidents ~150 km away (a police station in Derbyshire, say): counted, and the
    map's frame is the 1 km square of the rest."""
    inc = frame([*grid(), Point(430_000, 360_000), Point(431_000, 361_000)])
    far = far_incidents(inc)
    assert far.n_far == 2 and not far.keep[-1] and not far.keep[-2] and far.keep[:-2].all()
    assert far.bounds is not None
    (south, west), (north, east) = far.bounds
    assert north - south < 0.02 and east - west < 0.02  # about a kilometre, not 150 km
    sentence = far.sentence()
    assert sentence is not None and sentence.startswith("2 incidents recorded far from the rest")
    assert "EPSG" not in sentence and "--" not in sentence


@settings(max_examples=25, deadline=None)
@given(
    xy=st.lists(st.tuples(st.floats(0, 5_000), st.floats(0, 5_000)), min_size=25, max_size=120),
    repeats=st.integers(1, 4),
)
def test_frame_is_the_box_in_degrees_of_the_bulk(
    xy: list[tuple[float, float]], repeats: int
) -> None:
    """The frame is the WGS84 box GeoPandas gives the bulk's incidents (worked out on their
    distinct map points), whatever the repeats: a test of every point against to_crs."""
    points = [Point(X0 + x, Y0 + y) for x, y in xy] * repeats
    inc = frame(points)
    far = far_incidents(inc)
    assert far.bounds is not None
    xs = np.array([p.x for p in points])
    ys = np.array([p.y for p in points])
    dist = np.hypot(xs - np.median(xs), ys - np.median(ys))
    bulk = inc[dist <= np.percentile(dist, 99)] if len(points) >= 20 else inc
    w, s_, e, n = bulk.to_crs("EPSG:4326").total_bounds
    assert far.bounds == [[float(s_), float(w)], [float(n), float(e)]]


def test_incidents_without_a_position_are_left_out_of_the_checks() -> None:
    """A missing or empty point is counted nowhere (not an error from GEOS)."""
    inc = frame([*grid(), Point(), None])  # type: ignore[list-item]
    far = far_incidents(inc)
    assert far.n_far == 0 and far.keep.all() and far.bounds is not None
    wards = gpd.GeoDataFrame({"ward_name": ["All"]}, geometry=[box(0, 0, 1e6, 1e6)], crs=BNG)
    out = check_boundaries(inc, wards, name_column="ward_name")
    assert (out.inside, out.total) == (400, 400)


def test_no_far_incidents() -> None:
    far = far_incidents(frame(grid()))
    assert far.n_far == 0 and far.sentence() is None
    assert far_incidents(frame([Point(X0, Y0)] * 5)).n_far == 0  # too few to call any far


def test_check_boundaries_warns_about_mismatched_wards() -> None:
    """400 incidents in a 950 m square; a ward over a quarter of it, and a large empty one."""
    inc = frame(grid())
    wards = gpd.GeoDataFrame(
        {"ward_name": ["Corner", "Empty"]},
        geometry=[
            box(X0 - 1, Y0 - 1, X0 + 474, Y0 + 474),
            box(X0 + 2000, Y0, X0 + 8000, Y0 + 6000),
        ],
        crs=BNG,
    ).to_crs("EPSG:4326")
    out = check_boundaries(inc, wards, name_column="ward_name")
    assert (out.inside, out.total) == (100, 400)
    assert out.with_incidents == ["Corner"]
    assert out.boundary_km2 == pytest.approx(36.225, rel=1e-3)
    assert out.incidents_km2 == pytest.approx(0.95**2, rel=0.1)
    assert len(out.warnings) == 2
    assert out.warnings[0].startswith("Only 100 of 400 incidents (25%) fall inside the wards")
    assert "times the" in out.warnings[1] and "PAI" in out.warnings[1]


def test_check_boundaries_quiet_when_they_fit() -> None:
    inc = frame(grid())
    ward = gpd.GeoDataFrame(
        {"ward_name": ["All"]}, geometry=[box(X0 - 100, Y0 - 100, X0 + 1050, Y0 + 1050)], crs=BNG
    )
    out = check_boundaries(inc, ward, name_column="ward_name")
    assert out.inside == 400 and out.warnings == [] and out.with_incidents == ["All"]
    with pytest.raises(ParameterError, match="name_column"):
        check_boundaries(inc, ward, name_column="patrol_area")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 400))
def test_inside_counts_every_incident_once(k: int) -> None:
    """Two overlapping wards over the first k incidents (a strip): each counted once."""
    pts = [Point(X0 + i, Y0) for i in range(400)]
    hi = X0 + k - 0.5
    wards = gpd.GeoDataFrame(
        {"ward_name": ["A", "B"]},
        geometry=[box(X0 - 1, Y0 - 1, hi, Y0 + 1), box(X0 - 1, Y0 - 1, hi, Y0 + 1)],
        crs=BNG,
    )
    out = check_boundaries(frame(pts), wards, name_column="ward_name")
    assert out.inside == k and out.total == 400
    assert out.with_incidents == (["A", "B"] if k else [])
    assert np.isfinite(out.boundary_km2)


def test_the_incidents_spread_is_their_hull_with_repeats() -> None:
    """Incidents repeat their map points: the ground they spread over is the hull of the
    points, a triangle here, though one point lies on an edge between two others (GEOS
    3.14's hull of these rows is a bent ring of half the triangle)."""
    corners = [(100, 100)] * 20 + [(150, 0)] * 20 + [(100, 50)] * 20 + [(125, 50)] * 5
    inc = frame([Point(X0 + x, Y0 + y) for x, y in corners])
    wards = gpd.GeoDataFrame(
        {"ward_name": ["W"]}, geometry=[box(X0, Y0, X0 + 200, Y0 + 200)], crs=BNG
    )
    out = check_boundaries(inc, wards, name_column="ward_name")
    assert out.incidents_km2 == pytest.approx(50 * 50 / 2 / 1e6, rel=1e-9)
