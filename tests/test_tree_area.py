"""Tests for hotspots.tree_area: the floor of a spanning tree's buffer, worked out undrawn."""

from __future__ import annotations

import doctest
import math

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots import footprint, tree_area
from hotspots.footprint import hotspot_footprints
from hotspots.spanning_trees import spanning_tree_edges
from hotspots.tree_area import buffer_area_floors
from hotspots.tuning import hotspot_labels


def exact_buffer_area(pts: np.ndarray, edges: np.ndarray, radius: float) -> float:
    """The tree's buffer drawn finely (inscribed: within 0.01% of the exact area)."""
    if not len(edges):
        return math.pi * radius * radius
    lines = shapely.linestrings(np.stack([pts[edges[:, 0]], pts[edges[:, 1]]], axis=1))
    return float(shapely.buffer(shapely.union_all(lines), radius, quad_segs=128).area)


def test_doctests() -> None:
    assert doctest.testmod(tree_area).failed == 0


def test_known_answers() -> None:
    """A lone point is its disc; a straight chain and a right-angled path are exact (the
    only overlap is the kite beyond the corner's disc, r² (1 - pi / 4)); no points, no area."""
    r = 10.0
    line = np.array([[0.0, 0.0], [50.0, 0.0], [120.0, 0.0]])
    corner = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]])
    floors = buffer_area_floors(
        [np.array([[5.0, 5.0]]), line, corner, np.zeros((0, 2))],
        [np.zeros((0, 2), dtype=np.intp), *[np.array([[0, 1], [1, 2]])] * 2, np.zeros((0, 2))],
        r,
    )
    assert floors[0] == math.pi * r * r
    assert math.isclose(floors[1], math.pi * r * r + 2 * r * 120.0)
    assert math.isclose(floors[2], math.pi * r * r + 2 * r * 200.0 - r * r * (1 - math.pi / 4))
    assert floors[3] == 0.0
    assert math.isclose(
        floors[2], exact_buffer_area(corner, np.array([[0, 1], [1, 2]]), r), rel_tol=1e-4
    )


coords = st.integers(min_value=0, max_value=60)
clouds = st.lists(st.tuples(coords, coords), min_size=1, max_size=40)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(clouds, min_size=1, max_size=5),
    st.sampled_from([5.0, 20.0, 100.0]),
    st.sampled_from([4.0, 10.0, 25.0]),
)
def test_floor_never_exceeds_the_buffer(
    sets: list[list[tuple[int, int]]], step: float, r: float
) -> None:
    """Dense or sparse, with ties between links (a lattice), every floor is at most the exact
    buffer's area, each tree on its own though worked out together."""
    unique = [np.unique(np.array(c, dtype=float) * step, axis=0) for c in sets]
    trees = [spanning_tree_edges(pts) for pts in unique]
    floors = buffer_area_floors(unique, trees, r)
    for pts, edges, floor in zip(unique, trees, floors, strict=True):
        exact = exact_buffer_area(pts, edges, r)
        assert floor <= exact * 1.0001
        assert floor >= math.pi * r * r


def test_floor_is_close_for_a_sparse_tree() -> None:
    """Points spread wider than the buffer (a city's back-test clusters): the floor is within
    a few percent of the buffer, close enough to decide most splits undrawn."""
    rng = np.random.default_rng(3)
    ratios = []
    for _ in range(20):
        pts = np.unique(rng.uniform(0, 1500, size=(60, 2)).round(), axis=0)
        edges = spanning_tree_edges(pts)
        floor = buffer_area_floors([pts], [edges], 25.0)[0]
        ratios.append(floor / exact_buffer_area(pts, edges, 25.0))
    assert max(ratios) <= 1.0001
    assert np.median(ratios) >= 0.95


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clouds, min_size=1, max_size=4), st.sampled_from([10.0, 25.0]))
def test_drawn_floors_with_enough_stay_under_the_outline(
    sets: list[list[tuple[int, int]]], margin: float
) -> None:
    """The floors that decide splits, undrawn where the tree suffices, never pass the drawn
    outline (no slack: a split they decide is one the outline would)."""
    unique = [np.unique(np.array(c, dtype=float) * 20.0, axis=0) for c in sets]
    for enough in (0.0, 50_000.0, math.inf):
        floors = footprint.drawn_area_floors(unique, margin, enough)
        for pts, floor in zip(unique, floors, strict=True):
            labels = np.zeros(len(pts), dtype=np.int64)
            assert floor <= hotspot_footprints(pts, labels, margin=margin)[0].area


def test_a_cluster_over_enough_is_not_drawn() -> None:
    """Its floor is the tree's, below the coarse drawing's, and nothing is drawn for it."""
    rng = np.random.default_rng(5)
    pts = np.unique(rng.uniform(0, 3000, size=(300, 2)).round(), axis=0)
    footprint._FLOORS.clear()
    (tree_floor,) = footprint.drawn_area_floors([pts], 25.0, enough=1e5)
    assert len(footprint._FLOORS) == 0
    (drawn,) = footprint.drawn_area_floors([pts], 25.0)
    assert 0.9 * drawn < tree_floor < drawn
    assert tree_floor > 1e5


def test_splits_are_the_ones_the_outlines_decide() -> None:
    """With the tree's floors deciding most splits, every hotspot fits the size limit and
    every split was needed: the labels equal those of a run that draws every floor."""
    rng = np.random.default_rng(9)
    blobs = []  # street-like lattices 100 m apart, 0.1 to 1 km² of outline, 2.5 km apart
    for k, side in enumerate(range(5, 17, 2)):
        grid = np.array([(x, y) for x in range(side) for y in range(side)], dtype=float) * 100
        blobs.append(grid + rng.uniform(-20, 20, size=grid.shape) + (k * 2500.0, 0.0))
    xy = np.vstack(blobs).round()
    # the 11 x 11 lattice's outline is 0.531 km², its tree's upper bound 0.548 km²: only
    # a floor that stays under the outline keeps it whole at this limit
    limit_km2 = 0.54
    original = footprint.buffer_area_floors
    decided: list[float] = []

    def recorded(clouds: list[np.ndarray], trees: list[np.ndarray], radius: float) -> np.ndarray:
        floors = original(clouds, trees, radius)
        decided.extend(floors[floors > limit_km2 * 1e6])
        return floors

    footprint._FLOORS.clear()
    try:
        footprint.buffer_area_floors = recorded
        labels, _ = hotspot_labels(xy, None, eps=150.0, min_samples=4, max_km2=limit_km2)
    finally:
        footprint.buffer_area_floors = original
    assert decided  # the tree's floor split some clusters undrawn
    outlines = hotspot_footprints(xy, labels, margin=footprint.DEFAULT_MARGIN)
    assert outlines and max(shape.area for shape in outlines.values()) <= limit_km2 * 1e6
    assert max(shape.area for shape in outlines.values()) > 0.53e6  # the 11 x 11 kept whole
    try:
        footprint.buffer_area_floors = lambda clouds, trees, radius: np.zeros(len(clouds))
        drawn_labels, _ = hotspot_labels(xy, None, eps=150.0, min_samples=4, max_km2=limit_km2)
    finally:
        footprint.buffer_area_floors = original
    np.testing.assert_array_equal(labels, drawn_labels)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(-20, 20)] * 8), min_size=1, max_size=30))
def test_segment_gaps_are_shapelys_distances(rows: list[tuple[int, ...]]) -> None:
    """Crossing, touching, collinear, parallel or apart, and points for segments: the gap the
    near-pairs rule filters on is GEOS's distance."""
    ends = np.array(rows, dtype=float).reshape(-1, 4, 2)
    gaps = tree_area._segment_gaps(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
    lines = [shapely.linestrings(ends[:, :2]), shapely.linestrings(ends[:, 2:])]
    np.testing.assert_allclose(gaps, shapely.distance(*lines), atol=1e-9)
