"""Tests for hotspots.cluster_maps and the streamed ranked_map: outlines drawn only as far as
a map takes them give the same map as every outline drawn first."""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots import footprint, ranked_maps
from hotspots._memo import forget_all
from hotspots.cluster_maps import cluster_map, cluster_outlines
from hotspots.ranked_maps import MapPoints, RankedMap, ranked_map

# Cuts the town's south-west corner off: some outlines are clipped, some left out.
STUDY = shapely.Polygon([(0, 1500), (1500, 0), (12_000, 0), (12_000, 12_000), (0, 12_000)])


def town(seed: int, n_blobs: int = 160) -> MapPoints:
    """Map points in busy street corners of every size and weight across 12 km, and a few
    squares packed with map points 5 m apart: their tree's upper bound is three times their
    outline, so by their bounds they rank far below where their density puts them."""
    rng = np.random.default_rng(seed)
    blobs = []
    for _ in range(n_blobs):
        centre = rng.uniform(0, 12_000, size=2)
        blobs.append(centre + rng.normal(0, rng.uniform(15, 90), size=(rng.integers(3, 40), 2)))
    square = np.array([(x, y) for x in range(8) for y in range(8)], dtype=float) * 5
    blobs += [rng.uniform(0, 12_000, size=2).round() + square for _ in range(n_blobs // 20)]
    xy = np.unique(np.round(np.vstack(blobs) / 5) * 5, axis=0)
    return MapPoints(xy, rng.integers(1, 25, size=len(xy)).astype(float))


def same_map(a: RankedMap, b: RankedMap) -> bool:
    return (
        len(a.pieces) == len(b.pieces)
        and all(p.equals_exact(q, 0) for p, q in zip(a.pieces, b.pieces, strict=True))
        and np.array_equal(a.areas, b.areas)
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.02, 0.1, 0.3, 2.0]), st.booleans())
def test_lazy_outlines_make_the_same_map(seed: int, share: float, grouped: bool) -> None:
    """Whatever share of the outlines' area the map reaches, and with groups clustered on
    their own, the map of lazily drawn outlines is the map of all of them."""
    points = town(seed)
    groups = (points.xy[:, 0] > 6000).astype(np.int64) if grouped else None
    setting = {"eps": 60.0, "min_samples": [8, 5] if grouped else 6, "groups": groups}
    every = cluster_map(points, **setting)  # type: ignore[arg-type]
    if not every:
        return
    max_area = share * float(shapely.area(np.asarray(every, dtype=object)).sum())
    setting["max_area"] = max_area
    plain = ranked_map(cluster_map(points, **setting), STUDY, max_area=max_area)  # type: ignore[arg-type]
    lazy = ranked_map(cluster_outlines(points, **setting), STUDY, max_area=max_area)  # type: ignore[arg-type]
    assert same_map(lazy, plain)
    assert list(cluster_outlines(points, **setting)) == cluster_map(points, **setting)  # type: ignore[arg-type]


def test_a_map_draws_fewer_outlines_than_its_candidates() -> None:
    """A map of half the outlines' area draws under 80% of its candidates (those whose area
    bounds, densest first, add up to twice the map): the rest could not have come before the
    ones it took."""
    points = town(1, n_blobs=400)
    every = cluster_map(points, eps=60.0, min_samples=6)
    max_area = 0.5 * float(shapely.area(np.asarray(every, dtype=object)).sum())
    candidates = cluster_map(points, eps=60.0, min_samples=6, max_area=max_area)
    forget_all()
    ranked = ranked_map(
        cluster_outlines(points, eps=60.0, min_samples=6, max_area=max_area),
        STUDY,
        max_area=max_area,
    )
    drawn = len(footprint._DRAWN)
    assert len(ranked.pieces) < drawn < 0.8 * len(candidates)


def polygons_strategy() -> st.SearchStrategy[list[shapely.Geometry]]:
    box = st.tuples(st.integers(-200, 1200), st.integers(-200, 1200), st.integers(5, 300))
    return st.lists(box, min_size=0, max_size=300).map(
        lambda boxes: [shapely.box(x, y, x + w, y + w // 2 + 5) for x, y, w in boxes]
    )


@settings(max_examples=40, deadline=None)
@given(polygons_strategy(), st.sampled_from([1e3, 5e4, 2e5, float("inf")]))
def test_a_streamed_map_is_the_whole_one(polygons: list[shapely.Geometry], max_area: float) -> None:
    """Overlapping, clipped or outside the study area: polygons taken a chunk at a time make
    the map taken at once, and no more than a chunk past the last one it needs is asked for."""
    study = shapely.Polygon([(-20, 10), (980, -30), (1010, 700), (600, 1020), (30, 930)])
    whole = ranked_map(polygons, study, max_area=max_area)
    asked = itertools.count()
    streamed = ranked_map((p for p in polygons if next(asked) >= 0), study, max_area=max_area)
    assert same_map(streamed, whole)
    taken = next(asked)
    if whole.area < max_area:
        assert taken == len(polygons)
    else:
        assert taken <= len(polygons)
        assert taken <= _last_needed(polygons, study, max_area) + ranked_maps._STREAMED


def _last_needed(polygons: list[shapely.Geometry], study: shapely.Geometry, max_area: float) -> int:
    """How many polygons the map of ``max_area`` reads."""
    for k in range(1, len(polygons) + 1):
        if ranked_map(polygons[:k], study, max_area=max_area).area >= max_area:
            return k
    return len(polygons)


def test_an_empty_stream_is_an_empty_map() -> None:
    ranked = ranked_map(iter([]), STUDY, max_area=1e6)
    assert len(ranked.pieces) == 0 and ranked.area == 0.0
    assert not list(
        cluster_outlines(MapPoints(np.zeros((0, 2)), np.zeros(0)), eps=50.0, min_samples=3)
    )


def test_a_cluster_denser_than_its_bound_says_is_drawn_before_it_is_passed() -> None:
    """Ten lines of five map points (their bound is their outline) and a square packed with
    map points 5 m apart (its bound nearly three times its outline): by their bounds the
    square ranks fifth, past what the map draws first; by its outline it is the densest.
    It is drawn before any line is taken, and the map leads with it."""
    line = np.array([(40.0 * i, 0.0) for i in range(5)])
    square = np.array([(x, y) for x in range(8) for y in range(8)], dtype=float) * 5
    shift = np.array([0.0, 500.0])
    xy = np.vstack([*(line + shift[::-1] * k for k in range(10)), square + shift])
    counts = np.concatenate([np.full(5, 20.0 + 3 * k) for k in range(10)] + [np.full(64, 5.0)])
    points = MapPoints(xy, counts)
    study = shapely.box(-1000, -1000, 6000, 2000)
    line_area = float(
        cluster_map(MapPoints(line, np.full(5, 20.0)), eps=60, min_samples=10)[0].area
    )
    setting = {"eps": 60.0, "min_samples": 10, "max_area": 3.0 * line_area}
    lazy = ranked_map(cluster_outlines(points, **setting), study, max_area=setting["max_area"])  # type: ignore[arg-type]
    plain = ranked_map(cluster_map(points, **setting), study, max_area=setting["max_area"])  # type: ignore[arg-type]
    assert same_map(lazy, plain)
    assert shapely.contains_xy(lazy.pieces[0], 17.5, 517.5)  # the square first
