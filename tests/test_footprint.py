"""Tests for hotspots.footprint: outlines that hug the member map points and their links."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from shapely.geometry import Polygon
from sklearn.cluster import DBSCAN

from hotspots import footprint, spanning_trees
from hotspots.errors import ParameterError
from hotspots.footprint import hotspot_footprints
from hotspots.spanning_trees import spanning_tree_edges

# A buffer drawn with quad_segs=8 is inscribed in the true one: its area is within 1%.
TOL = 0.01


def true_outline(points: np.ndarray, margin: float) -> object:
    """The exact rule: a fine buffer of the points and the spanning tree's edges (whose total
    length test_spanning_tree_has_the_minimum_length checks against scipy's tree)."""
    unique = np.unique(points, axis=0)
    if len(unique) == 1:
        return shapely.buffer(shapely.points(unique[0]), margin, quad_segs=128)
    edges = spanning_tree_edges(unique)
    lines = shapely.linestrings(np.stack([unique[edges[:, 0]], unique[edges[:, 1]]], axis=1))
    return shapely.buffer(shapely.union_all(lines), margin, quad_segs=128)


def test_two_points_make_a_stadium_of_the_margin() -> None:
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [100.0, 0.0], [900.0, 0.0]])
    fp = hotspot_footprints(xy, np.array([0, 0, 0, -1]), margin=10.0)
    assert list(fp) == [0]
    assert isinstance(fp[0], Polygon)
    assert fp[0].area == pytest.approx(100 * 20 + math.pi * 100, rel=TOL)
    assert not fp[0].contains(shapely.Point(900, 0))  # noise is not in it


def test_single_map_point_is_a_disc_of_the_margin() -> None:
    fp = hotspot_footprints(np.zeros((5, 2)), np.zeros(5, dtype=np.int64), margin=25.0)[0]
    assert fp.area == pytest.approx(math.pi * 25**2, rel=TOL)


def test_repeats_do_not_change_the_outline() -> None:
    once = np.array([[0.0, 0.0], [60.0, 0.0], [60.0, 50.0]])
    many = np.repeat(once, 4, axis=0)
    a = hotspot_footprints(once, np.zeros(3, dtype=np.int64))[0]
    b = hotspot_footprints(many, np.zeros(12, dtype=np.int64))[0]
    assert a.equals(b)


def test_outline_hugs_the_street_not_a_disc_of_eps() -> None:
    """An L-shaped street of map points: the outline is the street 50 m wide, not eps discs."""
    street = np.array([[x, 0.0] for x in range(0, 400, 40)] + [[360.0, y] for y in (40, 80, 120)])
    fp = hotspot_footprints(street, np.zeros(len(street), dtype=np.int64), margin=25.0)[0]
    length = 360 + 120
    assert fp.area == pytest.approx(length * 50 + math.pi * 25**2, rel=0.02)
    assert not fp.contains(shapely.Point(200, 60))  # the block inside the L is left out


def test_link_leaves_out_long_links() -> None:
    xy = np.array([[0.0, 0.0], [30.0, 0.0], [300.0, 0.0]])
    fp = hotspot_footprints(xy, np.zeros(3, dtype=np.int64), margin=10.0, link=100.0)[0]
    assert fp.geom_type == "MultiPolygon" and len(fp.geoms) == 2
    assert not fp.contains(shapely.Point(150, 0))


def test_spanning_tree_edges_on_hand_data_and_collinear_points() -> None:
    pts = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 30.0]])
    assert spanning_tree_edges(pts).tolist() == [[0, 1], [1, 2]]
    line = np.array([[0.0, 0.0], [20.0, 20.0], [10.0, 10.0]])
    assert sorted(map(tuple, spanning_tree_edges(line).tolist())) == [(0, 2), (1, 2)]
    assert spanning_tree_edges(pts[:1]).shape == (0, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"margin": 0.0}, "margin"), ({"margin": -1.0}, "margin"), ({"link": 0.0}, "link")],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        hotspot_footprints(np.zeros((2, 2)), np.zeros(2, dtype=np.int64), **kwargs)


def test_labels_must_match_rows() -> None:
    with pytest.raises(ParameterError, match="one label per row"):
        hotspot_footprints(np.zeros((2, 2)), np.zeros(3, dtype=np.int64))


coords = st.integers(min_value=0, max_value=60).map(lambda v: v * 5.0)
clouds = st.lists(st.tuples(coords, coords), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clouds, st.sampled_from([10.0, 25.0]))
def test_outline_is_the_exact_rule(points: list[tuple[float, float]], margin: float) -> None:
    """Contains every member point; one polygon; nothing beyond the margin of the tree."""
    xy = np.array(points)
    fp = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64), margin=margin)[0]
    assert shapely.contains_xy(fp, xy[:, 0], xy[:, 1]).all()
    assert fp.geom_type == "Polygon"
    exact = true_outline(xy, margin)
    # inside the exact buffer (a drawn buffer is inscribed), and within 1% of its area
    assert shapely.difference(fp, shapely.buffer(exact, 1e-6)).area == pytest.approx(0, abs=1e-3)
    assert fp.area == pytest.approx(exact.area, rel=TOL)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coords, coords), min_size=2, max_size=80, unique=True))
def test_spanning_tree_has_the_minimum_length(points: list[tuple[float, float]]) -> None:
    """Prim's (up to 48 points) and Delaunay's (more) trees are minimum spanning trees."""
    xy = np.array(points)
    edges = spanning_tree_edges(xy)
    assert len(edges) == len(xy) - 1
    ours = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T).sum()
    assert ours == pytest.approx(minimum_spanning_tree(cdist(xy, xy)).sum())


@settings(max_examples=30, deadline=None)
@given(clouds)
def test_dbscan_clusters_get_one_connected_outline(points: list[tuple[float, float]]) -> None:
    """Every spanning-tree edge of a DBSCAN cluster is at most eps: one Polygon each."""
    xy = np.array(points)
    labels = DBSCAN(eps=30.0, min_samples=2).fit(xy).labels_
    for label, shape in hotspot_footprints(xy, labels, margin=5.0).items():
        members = xy[labels == label]
        assert shape.geom_type == "Polygon"
        assert shapely.contains_xy(shape, members[:, 0], members[:, 1]).all()


def test_doctests() -> None:
    assert doctest.testmod(footprint).failed == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clouds, st.sampled_from([10.0, 25.0]))
def test_area_floor_and_bound_hold_the_drawn_area(
    points: list[tuple[float, float]], margin: float
) -> None:
    """The cheap lower and upper bounds that decide splits without drawing never cross the
    outline's area (the drawn polygon is within 1% of the exact buffer, hence the slack)."""
    xy = np.array(points, dtype=float)
    area = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64), margin=margin)[0].area
    assert footprint.outline_area_floor(xy, margin=margin) <= area * 1.01
    bound = footprint.outline_area_bound(xy, np.zeros(len(xy), dtype=np.int64), margin=margin)
    assert area <= bound[0] * 1.0001


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clouds, min_size=1, max_size=6), st.sampled_from([10.0, 25.0]))
def test_drawn_floors_stay_under_the_outline(
    sets: list[list[tuple[float, float]]], margin: float
) -> None:
    """The coarse drawing that splits a cluster without its outline never has more area than
    the outline (no slack: a split it decides is one drawing would decide), and is close
    enough to decide most (at least 80%: a lone point's octagon at 0.97 of the margin)."""
    rng = np.random.default_rng(len(sets))
    unique = [rng.permutation(np.unique(np.array(c, dtype=float), axis=0)) for c in sets]
    floors = footprint.drawn_area_floors(unique, margin)
    for pts, floor in zip(unique, floors, strict=True):
        area = hotspot_footprints(pts, np.zeros(len(pts), dtype=np.int64), margin=margin)[0].area
        assert 0.8 * area <= floor <= area


def test_drawn_floor_is_of_the_outlines_tree_whatever_the_order() -> None:
    """On a lattice every link is a tie, and the spanning tree depends on the points' order:
    the floor takes them in the outline's order, so any order gives the same floor."""
    grid = np.array([(x, y) for x in range(0, 600, 40) for y in range(0, 400, 40)], dtype=float)
    rng = np.random.default_rng(7)
    floors = {footprint.drawn_area_floors([rng.permutation(grid)], 25.0)[0] for _ in range(5)}
    assert floors == {footprint.drawn_area_floors([grid], 25.0)[0]}


def test_drawn_floor_of_a_cluster_drawn_in_pieces() -> None:
    """Over _SPLIT_EDGES edges the coarse drawing is in pieces too, and stays under the
    outline by about the share of the margin it leaves out."""
    rng = np.random.default_rng(11)
    pts = np.unique(rng.uniform(0, 3000, size=(footprint._SPLIT_EDGES * 2, 2)).round(), axis=0)
    area = hotspot_footprints(pts, np.zeros(len(pts), dtype=np.int64))[0].area
    (floor,) = footprint.drawn_area_floors([pts], footprint.DEFAULT_MARGIN)
    assert 0.94 * area <= floor <= area
    assert footprint.drawn_area_floors([pts], footprint.DEFAULT_MARGIN) == [floor]  # kept


@settings(max_examples=30, deadline=None)
@given(st.lists(clouds, min_size=1, max_size=12))
def test_batched_trees_equal_one_at_a_time(sets: list[list[tuple[float, float]]]) -> None:
    """Prim's run on many small clusters at once gives each the same edges (ties included:
    the 5 m lattice makes many equal distances) as the one-cluster loop."""
    unique = [np.unique(np.array(c, dtype=float), axis=0) for c in sets]
    batched = spanning_trees.cluster_trees(unique)
    for pts, edges in zip(unique, batched, strict=True):
        assert np.array_equal(edges, spanning_trees._tree(pts))


def test_many_outlines_drawn_in_threads_equal_each_drawn_alone() -> None:
    """Over the threading threshold the outlines are the ones drawn one cluster at a time."""
    rng = np.random.default_rng(5)
    n = footprint._THREADED_BUFFERS * 2
    centres = np.column_stack([np.arange(n) * 1000.0, np.zeros(n)])
    xy = np.repeat(centres, 6, axis=0) + rng.uniform(-60, 60, size=(n * 6, 2)).round()
    labels = np.repeat(np.arange(n), 6)
    together = hotspot_footprints(xy, labels)
    for k in (0, n // 2, n - 1):
        alone = hotspot_footprints(xy[labels == k], np.zeros(6, dtype=np.int64))[0]
        assert shapely.equals_exact(together[k], alone, tolerance=0.0)
    assert len(together) == n


def test_a_dense_cluster_drawn_in_pieces_is_the_rule_at_once() -> None:
    """Over _SPLIT_EDGES edges (unsnapped, dense points) the pieces' union is the outline
    drawn at once: every point inside, one polygon, the same area within ten square metres a
    square kilometre, and nowhere beyond the exact buffer."""
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 400, size=(footprint._SPLIT_EDGES * 3, 2))
    xy = np.vstack([xy, xy[:500] + rng.normal(0, 3, size=(500, 2))])
    fp = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64))[0]
    edges = spanning_tree_edges(np.unique(xy, axis=0))
    assert len(edges) > footprint._SPLIT_EDGES
    at_once = footprint._outlines([(0, np.unique(xy, axis=0))], 25.0, None, 16)
    whole = shapely.buffer(
        shapely.line_merge(
            shapely.multilinestrings(
                shapely.linestrings(
                    np.stack(
                        [np.unique(xy, axis=0)[edges[:, 0]], np.unique(xy, axis=0)[edges[:, 1]]],
                        axis=1,
                    )
                )
            )
        ),
        25.0,
        quad_segs=16,
    )
    assert shapely.contains_xy(fp, xy[:, 0], xy[:, 1]).all()
    assert fp.geom_type == "Polygon"
    assert at_once[0].area == pytest.approx(whole.area, rel=1e-5)
    assert shapely.symmetric_difference(at_once[0], whole).area < 1e-5 * whole.area
    exact = true_outline(np.unique(xy, axis=0), 25.0)
    assert shapely.difference(fp, shapely.buffer(exact, 1e-6)).area == pytest.approx(0, abs=1e-3)
    assert fp.area == pytest.approx(exact.area, rel=TOL)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-30, 30), st.integers(-30, 30)), min_size=1, max_size=80),
    st.sampled_from([0, 1 << 20, -(1 << 40)]),
)
def test_unique_cells_equal_numpy_unique_rows(cells: list[tuple[int, int]], shift: int) -> None:
    """The distinct cells (the area floor's), by a map of their box, by one key or by rows, are
    numpy's unique rows."""
    ij = np.array(cells, dtype=np.int64) + shift
    assert np.array_equal(footprint._unique_cells(ij), np.unique(ij, axis=0))
    far = np.vstack([ij, [[-(1 << 40), 1 << 40]]])  # a span too wide for one key
    assert np.array_equal(footprint._unique_cells(far), np.unique(far, axis=0))
    wide = np.vstack([ij, [[shift, shift + 10**6]]])  # one key, too sparse for a map
    assert np.array_equal(footprint._unique_cells(wide), np.unique(wide, axis=0))


def test_a_large_clusters_tree_is_remembered_and_equal_to_a_fresh_one() -> None:
    """The area bound and the drawing ask for the same cluster's tree: the second time it is
    the remembered one (read-only), equal to the tree computed afresh."""
    rng = np.random.default_rng(11)
    cloud = np.unique(rng.uniform(0, 2000, size=(300, 2)).round(), axis=0)
    first = spanning_trees.cluster_trees([cloud])[0]
    again = spanning_trees.cluster_trees([cloud.copy()])[0]
    assert again is first and not first.flags.writeable
    assert np.array_equal(first, spanning_trees._delaunay_tree(cloud))
    bound = footprint.outline_area_bound(cloud, np.zeros(len(cloud), dtype=np.int64))[0]
    area = hotspot_footprints(cloud, np.zeros(len(cloud), dtype=np.int64))[0].area
    assert area <= bound


@pytest.mark.parametrize("shared_point", [False, True])
def test_a_citys_kept_map_points_give_the_outlines_of_every_row(shared_point: bool) -> None:
    """With the map-point codes of a large read-only array kept (a city's rows, as read), the
    outlines come from each point's first member row: equal to those of a plain copy's rows
    (repeats, a -0.0 beside 0.0, noise); a point with members of two labels takes every row."""
    from hotspots._points import kept_point_codes, unique_points

    rng = np.random.default_rng(12)
    points = np.round(rng.uniform(0, 3000, (400, 2)), 1)
    points[0] = (0.0, 250.0)
    point_label = rng.integers(-1, 40, len(points))
    rows = rng.integers(0, len(points), 12_000)
    xy = points[rows].copy()
    xy[rows == 0, 0] = np.where(np.arange((rows == 0).sum()) % 2, 0.0, -0.0)
    labels = point_label[rows]
    if shared_point:  # one point's rows split between two clusters
        labels[np.flatnonzero(rows == 3)[::2]] = 7 if point_label[3] != 7 else 8
    xy.flags.writeable = False
    unique_points(xy)
    assert kept_point_codes(xy) is not None
    member_points = len(np.unique(rows[labels >= 0]))
    expected_rows = (labels >= 0).sum() if shared_point else member_points
    assert len(footprint._member_rows(xy, labels)) == expected_rows
    kept = hotspot_footprints(xy, labels)
    plain = hotspot_footprints(xy.copy(), labels)
    assert list(kept) == list(plain)
    assert all(shapely.equals_exact(kept[k], plain[k], 0.0) for k in kept)
