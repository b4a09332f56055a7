"""The back-test's fast paths give what the plain geometry gives.

A map point universe (rows to map points once), street spaces drawn once for the universe
and redrawn only where a subset misses a neighbour, and maps that place points by arithmetic
(grid cells, street spaces) rather than by a tree query: each is checked against the plain
computation on data built to hit its edge cases (points on grid lines, twins a hair apart,
spaces and cells cut by the study area).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.ranked_maps import (
    MapPoints,
    PointUniverse,
    RankedMap,
    StreetSpaces,
    best_hits,
    capture,
    kde_map,
    naive_cells,
    naive_points,
    street_spaces,
)
from hotspots.tuning import cluster_map

# A study area whose edges cut through cells and street spaces at odd angles.
STUDY = shapely.Polygon([(-20, 10), (980, -30), (1010, 700), (600, 1020), (30, 930)])


def _points(seed: int, n_sites: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows snapped to ``n_sites`` map points: on a 25 m lattice (half of them on 50 m grid
    lines), a few twins a tenth of a millimetre apart, a few off the lattice."""
    rng = np.random.default_rng(seed)
    sites = rng.integers(0, 40, size=(n_sites, 2)).astype(float) * 25.0
    sites[: n_sites // 8] += 1e-4  # twins of lattice points
    sites[n_sites // 8 : n_sites // 4] += rng.uniform(0, 25, size=(n_sites // 4 - n_sites // 8, 2))
    rows = sites[rng.integers(0, n_sites, size=n_rows)]
    months = rng.integers(1, 13, size=n_rows)
    return rows, months


def _plain(ranked: RankedMap) -> RankedMap:
    """The same map without its arithmetic: every point placed by the tree query."""
    return RankedMap(ranked.pieces, ranked.areas)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_universe_points_are_map_points_of_the_rows(seed: int, weighted: bool) -> None:
    """Map points cut from the universe: same points, order, counts as found afresh."""
    rows, months = _points(seed, 30, 200)
    weights = np.random.default_rng(seed).uniform(0.5, 3.0, size=len(rows)) if weighted else None
    universe = PointUniverse(rows, weights)
    for pick in (months <= 6, months > 9, np.zeros(len(rows), bool)):
        got = universe.points(pick)
        from hotspots._points import unique_points

        if not pick.any():
            assert len(got.xy) == 0 and got.total == 0
            continue
        _, xy, counts = unique_points(rows[pick], None if weights is None else weights[pick])
        assert np.array_equal(got.xy, xy)
        assert np.array_equal(got.counts, counts)
        assert np.array_equal(universe.xy[got.ids], got.xy)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 11))
def test_street_spaces_of_a_subset_are_those_drawn_for_it(seed: int, cut: int) -> None:
    """Reusing the universe's spaces and redrawing those that lost a neighbour gives the
    spaces street_spaces draws for the subset on its own."""
    rows, months = _points(seed, 120, 600)
    universe = PointUniverse(rows)
    spaces = StreetSpaces(universe, STUDY, radius=25.0)
    subset = universe.points(months > cut)
    drawn, delicate = spaces.of(subset.ids, STUDY)
    plain = street_spaces(subset.xy, STUDY, radius=25.0)
    assert delicate is not None and len(delicate) == len(drawn)
    assert shapely.area(drawn) == pytest.approx(shapely.area(plain), abs=1e-6)
    both_empty = shapely.is_empty(drawn) & shapely.is_empty(plain)  # outside the study area
    assert (both_empty | (shapely.hausdorff_distance(drawn, plain) < 1e-9)).all()  # to rounding


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 9), st.sampled_from([0.02, 0.1, 1.0]))
def test_maps_that_place_points_by_arithmetic_count_as_the_geometry(
    seed: int, split: int, share: float
) -> None:
    """Every baseline map, and the best-possible hits, catch exactly what the tree query of
    the same pieces catches: points on lattice lines, twins and cut pieces included."""
    rows, months = _points(seed, 150, 900)
    universe = PointUniverse(rows)
    spaces = StreetSpaces(universe, STUDY, radius=25.0)
    inside = shapely.intersects_xy(STUDY, rows[:, 0], rows[:, 1])
    fit = universe.points((months <= split) & inside)
    test = universe.points((months > split) & inside)
    max_area = share * STUDY.area
    targets = np.array([0.01, 0.05, 0.1, share]) * STUDY.area
    maps = {
        "points": naive_points(fit, STUDY, radius=25.0, max_area=max_area, spaces=spaces),
        "cells": naive_cells(fit, STUDY, max_area=max_area),
        "kde": kde_map(fit, STUDY, max_area),
    }
    for name, ranked in maps.items():
        assert ranked.locate is not None, name
        fast = capture(ranked, test, targets)
        assert np.array_equal(fast, capture(_plain(ranked), test, targets)), name
    # the map points' map is the one drawn without the universe
    alone = naive_points(MapPoints(fit.xy, fit.counts), STUDY, radius=25.0, max_area=max_area)
    assert capture(maps["points"], test, targets) == pytest.approx(
        capture(alone, test, targets), rel=1e-12
    )
    assert best_hits(test, STUDY, targets, radius=25.0, spaces=spaces) == pytest.approx(
        best_hits(MapPoints(test.xy, test.counts), STUDY, targets, radius=25.0), rel=1e-12
    )


def test_a_point_on_a_cell_line_counts_in_the_first_cell_ranked() -> None:
    """A point on the line between two ranked cells is the geometry's to place: the higher
    ranked cell takes it, as the tree query would."""
    fit = MapPoints(np.array([[60.0, 10.0], [60.0, 20.0], [40.0, 10.0]]), np.ones(3))
    ranked = naive_cells(fit, shapely.box(0, 0, 100, 100), max_area=1e9)
    # the cell x 50..100 holds two fit points, so it ranks first and takes the line's point
    test = MapPoints(np.array([[50.0, 25.0], [10.0, 10.0]]), np.array([3.0, 1.0]))
    assert capture(ranked, test, [2500.0, 5000.0]).tolist() == [3.0, 4.0]


def test_hotspot_maps_keep_the_tree_query() -> None:
    """A map of outlines has no layout to place points by: it is counted by the geometry."""
    pts = MapPoints(np.array([[100.0, 100.0], [110.0, 100.0], [500.0, 500.0]]), np.ones(3) * 9)
    outlines = cluster_map(pts, eps=30.0, min_samples=5)
    from hotspots.ranked_maps import ranked_map

    ranked = ranked_map(outlines, STUDY)
    assert ranked.locate is None
    assert capture(ranked, pts, [1e9])[0] == pytest.approx(27.0)
