"""Tests for hotspots.footprint: one connected polygon per cluster, and the default study area."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon
from sklearn.cluster import DBSCAN

from hotspots import footprint
from hotspots.errors import ParameterError
from hotspots.footprint import hotspot_footprints, mst_radius

# Area of a circumscribed 32-gon relative to its circle (quad_segs=8): tan(pi/32) / (pi/32).
POLYGON_EXCESS = math.tan(math.pi / 32) / (math.pi / 32)


def exact_union_area(points: np.ndarray, radius: float) -> float:
    """Area of the union of true circles, to ~0.01% (512-gon discs)."""
    unique = np.unique(points, axis=0)
    return float(
        shapely.union_all(shapely.buffer(shapely.points(unique), radius, quad_segs=128)).area
    )


def assert_contains_all(footprint: Polygon | MultiPolygon, points: np.ndarray) -> None:
    assert shapely.contains_xy(footprint, points[:, 0], points[:, 1]).all()


# --------------------------------------------------------------------------- hand-made cases


def test_single_point_cluster_is_a_disc_of_min_radius() -> None:
    """HDBSCAN rule, edge case: one unique point (repeated) gets a disc of min_radius."""
    xy = np.array([[500.0, 500.0]] * 4)
    fp = hotspot_footprints(xy, np.zeros(4, dtype=np.int64), min_radius=20.0)
    assert list(fp) == [0]
    assert isinstance(fp[0], Polygon)
    assert fp[0].area == pytest.approx(math.pi * 20.0**2 * POLYGON_EXCESS, rel=1e-4)
    assert fp[0].centroid.distance(shapely.Point(500, 500)) < 1e-6


def test_repeated_points_count_once() -> None:
    """Many incidents on one map point give the same footprint as one incident there."""
    once = np.array([[0.0, 0.0], [60.0, 0.0], [60.0, 50.0]])
    many = np.repeat(once, [5, 1, 3], axis=0)
    a = hotspot_footprints(once, np.zeros(3, dtype=np.int64), radius=40.0)[0]
    b = hotspot_footprints(many, np.zeros(9, dtype=np.int64), radius=40.0)[0]
    assert a.equals(b)


def test_noise_has_no_footprint_and_labels_keep_their_numbers() -> None:
    """Labels are arbitrary numbers: keys are exactly the labels >= 0, ascending; -1 is skipped."""
    xy = np.array([[0.0, 0], [10, 0], [1000, 0], [1010, 0], [5000, 5000]])
    labels = np.array([7, 7, 2, 2, -1])
    fp = hotspot_footprints(xy, labels, radius=20.0)
    assert list(fp) == [2, 7]
    assert not fp[2].intersects(fp[7])
    assert not fp[7].contains(shapely.Point(5000, 5000))


def test_discs_exactly_eps_apart_still_join() -> None:
    """DBSCAN rule at its limit: points exactly eps apart with radius eps/2 give one Polygon."""
    eps = 150.0
    for angle in np.linspace(0, math.pi, 13):
        step = eps * np.array([math.cos(angle), math.sin(angle)])
        xy = np.array([[0.0, 0.0], step, 2 * step])
        fp = hotspot_footprints(xy, np.zeros(3, dtype=np.int64), radius=eps / 2)[0]
        assert isinstance(fp, Polygon), angle


def test_too_small_radius_gives_multipolygon() -> None:
    """A radius smaller than half the gap leaves two parts (the caller's choice, not DBSCAN's)."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0]])
    fp = hotspot_footprints(xy, np.array([0, 0]), radius=40.0)[0]
    assert isinstance(fp, MultiPolygon)
    assert len(fp.geoms) == 2


def test_area_matches_union_of_circles() -> None:
    """The Voronoi shortcut (>= 12 points) gives the union of circles within the polygon excess."""
    rng = np.random.default_rng(3)
    xy = np.round(rng.normal(0, 80, size=(200, 2)))
    fp = hotspot_footprints(xy, np.zeros(200, dtype=np.int64), radius=50.0)[0]
    exact = exact_union_area(xy, 50.0)
    assert exact <= fp.area <= exact * POLYGON_EXCESS * 1.0001
    assert_contains_all(fp, xy)


def test_voronoi_shortcut_agrees_with_plain_union_of_discs() -> None:
    """Footprint = union of every disc polygon, small holes filled, up to slivers (< 0.01%)."""
    rng = np.random.default_rng(4)
    xy = np.unique(np.round(rng.uniform(0, 600, size=(150, 2)) / 20) * 20, axis=0)
    fp = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64), radius=45.0)[0]
    outer = 45.0 * (1 + 1e-6) / math.cos(math.pi / 32)
    plain = shapely.union_all(shapely.buffer(shapely.points(xy), outer, quad_segs=8))
    assert isinstance(plain, Polygon)
    assert len(plain.interiors) > 0  # sparse points leave gaps smaller than a disc...
    big = [hole for hole in plain.interiors if Polygon(hole).area >= math.pi * 45.0**2]
    plain = Polygon(plain.exterior, big)  # ...which the footprint fills
    assert fp.symmetric_difference(plain).area < 1e-4 * plain.area


def test_small_holes_filled_large_holes_kept() -> None:
    """A gap between three overlapping discs is filled; a ring of points around a square stays."""
    side = 100.0  # equilateral triangle with side 2r: its centre is outside every circle
    tri = np.array([[0.0, 0.0], [side, 0.0], [side / 2, side * math.sqrt(3) / 2]])
    fp = hotspot_footprints(tri, np.zeros(3, dtype=np.int64), radius=side / 2)[0]
    assert isinstance(fp, Polygon)
    assert len(fp.interiors) == 0
    assert fp.contains(shapely.Point(side / 2, side * math.sqrt(3) / 6))

    edge = np.arange(0.0, 1000.0, 50.0)
    ring = np.concatenate(
        [
            np.column_stack([edge, np.zeros_like(edge)]),
            np.column_stack([np.full_like(edge, 1000.0), edge]),
            np.column_stack([1000.0 - edge, np.full_like(edge, 1000.0)]),
            np.column_stack([np.zeros_like(edge), 1000.0 - edge]),
        ]
    )
    square = hotspot_footprints(ring, np.zeros(len(ring), dtype=np.int64), radius=30.0)[0]
    assert isinstance(square, Polygon)
    assert len(square.interiors) == 1
    assert not square.contains(shapely.Point(500, 500))


# --------------------------------------------------------------------------- HDBSCAN radius rule


def test_mst_radius_on_hand_data() -> None:
    """MST of (0,0) (100,0) (100,30) (300,30): edges 100, 30, 200 -> radius 100."""
    pts = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 30.0], [300.0, 30.0]])
    assert mst_radius(pts) == pytest.approx(100.0)
    # The diagonal (0,0)-(100,30) is 104.4: the tree takes 100 + 30, not the diagonal.
    assert mst_radius(pts[:3]) == pytest.approx(50.0)


def test_mst_radius_two_points_collinear_points_and_floor() -> None:
    """Two points: half their distance; collinear points: the longest gap; floor min_radius."""
    assert mst_radius(np.array([[0.0, 0.0], [30.0, 40.0]])) == pytest.approx(25.0)
    assert mst_radius(np.array([[0.0, 0.0], [3.0, 4.0]]), min_radius=15.0) == 15.0
    line = np.array([[0.0, 0.0], [70.0, 70.0], [10.0, 10.0], [30.0, 30.0]])
    assert mst_radius(line, min_radius=1.0) == pytest.approx(20.0 * math.sqrt(2))
    assert mst_radius(np.array([[5.0, 5.0]]), min_radius=12.0) == 12.0


def test_mst_radius_with_points_closer_than_qhull_precision() -> None:
    """Points 1 nm from another (Qhull sets them aside as coplanar) still join the tree."""
    base = 537_000.0 + np.random.default_rng(1).uniform(0, 100, size=(50, 2))
    nearly_twins = np.vstack([base, base[:5] + 1e-9])
    assert mst_radius(nearly_twins, min_radius=0.001) == pytest.approx(
        mst_radius(base, min_radius=0.001)
    )


def test_hdbscan_footprint_uses_mst_radius() -> None:
    """radius=None: discs of half the longest MST edge, so a sparse cluster is still one Polygon."""
    pts = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 30.0], [300.0, 30.0]])
    fp = hotspot_footprints(pts, np.zeros(4, dtype=np.int64))[0]
    assert isinstance(fp, Polygon)
    exact = exact_union_area(pts, 100.0)
    assert exact <= fp.area <= exact * POLYGON_EXCESS * 1.0001


def test_hdbscan_collinear_cluster_is_one_polygon() -> None:
    """Collinear points (Delaunay fails on them) still get the chain rule and one Polygon."""
    xy = np.column_stack([np.array([0.0, 10, 30, 70, 200, 210]), np.zeros(6)])
    fp = hotspot_footprints(xy, np.zeros(6, dtype=np.int64), min_radius=5.0)[0]
    assert isinstance(fp, Polygon)
    exact = exact_union_area(xy, 65.0)  # longest gap 70 -> 200 is 130
    assert exact <= fp.area <= exact * POLYGON_EXCESS * 1.0001


# --------------------------------------------------------------------------- invariants


coords = st.integers(min_value=0, max_value=60).map(lambda v: v * 10.0)
point_sets = st.lists(st.tuples(coords, coords), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=point_sets,
    eps=st.floats(min_value=15.0, max_value=200.0),
    min_samples=st.integers(min_value=1, max_value=6),
)
def test_dbscan_clusters_give_one_polygon_containing_members(
    points: list[tuple[float, float]], eps: float, min_samples: int
) -> None:
    """Any DBSCAN cluster with radius eps/2: footprint is one Polygon holding every member."""
    xy = np.array(points)
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(xy).astype(np.int64)
    fp = hotspot_footprints(xy, labels, radius=eps / 2)
    assert sorted(fp) == sorted(set(labels[labels >= 0].tolist()))
    for label, shape in fp.items():
        assert isinstance(shape, Polygon), (label, shape.geom_type)
        assert shape.is_valid
        assert_contains_all(shape, xy[labels == label])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=point_sets, groups=st.integers(min_value=1, max_value=4), seed=st.integers(0, 99))
def test_mst_rule_connects_any_grouping(
    points: list[tuple[float, float]], groups: int, seed: int
) -> None:
    """radius=None (HDBSCAN): for any grouping, each footprint is one Polygon with its points."""
    xy = np.array(points)
    labels = np.random.default_rng(seed).integers(-1, groups, size=len(xy)).astype(np.int64)
    fp = hotspot_footprints(xy, labels, min_radius=5.0)
    for label, shape in fp.items():
        assert isinstance(shape, Polygon)
        assert shape.is_valid
        assert_contains_all(shape, xy[labels == label])


@settings(max_examples=40, deadline=None)
@given(
    angles=st.lists(st.floats(min_value=0.0, max_value=2 * math.pi), min_size=1, max_size=30),
    eps=st.floats(min_value=10.0, max_value=500.0),
)
def test_chain_of_points_exactly_eps_apart_is_one_polygon(angles: list[float], eps: float) -> None:
    """A random walk with steps of exactly eps: discs of eps/2 still form one Polygon."""
    steps = eps * np.column_stack([np.cos(angles), np.sin(angles)])
    xy = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)]) + 500_000.0
    fp = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64), radius=eps / 2)[0]
    assert isinstance(fp, Polygon)
    assert_contains_all(fp, xy)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"xy": np.zeros((3, 3))}, "xy must be an"),
        ({"xy": np.array([[0.0, np.nan]] * 3)}, "NaN"),
        ({"labels": np.array([0, 0])}, "labels must hold one label per row"),
        ({"labels": np.array([0.5, 0, 0])}, "whole numbers"),
        ({"radius": 0.0}, "radius must be a positive"),
        ({"radius": float("nan")}, "radius must be a positive"),
        ({"min_radius": -1.0}, "min_radius must be a positive"),
        ({"quad_segs": 0}, "quad_segs"),
    ],
)
def test_bad_arguments_raise_parameter_error(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"xy": np.zeros((3, 2)), "labels": np.zeros(3, dtype=np.int64)}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        hotspot_footprints(args.pop("xy"), args.pop("labels"), **args)  # type: ignore[arg-type]


def test_all_noise_gives_no_footprints() -> None:
    assert hotspot_footprints(np.zeros((3, 2)), np.full(3, -1)) == {}
    assert hotspot_footprints(np.zeros((0, 2)), np.zeros(0, dtype=np.int64)) == {}


# --------------------------------------------------------------------------- study area


def test_docstring_examples() -> None:
    assert doctest.testmod(footprint, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
