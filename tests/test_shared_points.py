"""The reader gives the rows at one map point one shared shapely point
(:func:`hotspots._points.shared_points`): every row's coordinates must be its own, bit for bit
(sign of zero included), and the rows at each point counted as a plain count does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots._points import shared_points
from hotspots.io import read_incidents

_VALUES = st.sampled_from([0.0, -0.0, 1.5, -1.5, 530000.0, 180000.25, 1e-300])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_VALUES, _VALUES), min_size=0, max_size=30))
def test_each_row_keeps_its_coordinates_and_points_are_counted(rows: list) -> None:
    x = np.array([r[0] for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows], dtype=np.float64)
    geoms, counts = shared_points(np.column_stack([x, y]))
    assert len(geoms) == len(rows)
    xy = shapely.get_coordinates(geoms).reshape(-1, 2)
    for got, want in ((xy[:, 0], x), (xy[:, 1], y)):
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    plain: dict[tuple[float, float], int] = {}  # -0.0 == 0.0 as dict keys: one point
    for point in zip(x.tolist(), y.tolist(), strict=True):
        plain[point] = plain.get(point, 0) + 1
    assert counts.tolist() == [float(c) for c in plain.values()]


def test_rows_at_one_point_share_one_object() -> None:
    x = np.array([530000.0, 531000.0, 530000.0, 530000.0])
    y = np.array([180000.0, 180000.0, 180000.0, 181000.0])
    geoms, counts = shared_points(np.column_stack([x, y]))
    assert geoms[0] is geoms[2]
    assert geoms[0] is not geoms[3] and geoms[0] is not geoms[1]
    assert counts.tolist() == [2.0, 1.0, 1.0]


def _write_xy_csv(path: Path, points: list[tuple[float, float]]) -> Path:
    lines = ["crime_id,month,category,x,y"]
    lines += [f"c{k},2024-01,Robbery,{float(x)!r},{float(y)!r}" for k, (x, y) in enumerate(points)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_incidents_shares_points_and_keeps_every_rows_place(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    spots = rng.uniform([530000, 180000], [532000, 182000], size=(40, 2)).round(1)
    points = [tuple(spots[k]) for k in rng.integers(0, len(spots), 300)]
    incidents, _ = read_incidents(_write_xy_csv(tmp_path / "xy.csv", points), crs="EPSG:27700")
    geoms = incidents.geometry.to_numpy()
    assert np.array_equal(shapely.get_coordinates(geoms), np.array(points))
    first = {}
    for k, p in enumerate(points):
        assert geoms[k] is geoms[first.setdefault(p, k)]
    assert len({id(g) for g in geoms}) == len(set(points))


def test_few_map_points_are_warned_about_and_many_are_not(tmp_path: Path) -> None:
    crowded = [(530000.0, 180000.0)] * 160 + [(530000.0 + 10 * k, 181000.0) for k in range(140)]
    _, report = read_incidents(_write_xy_csv(tmp_path / "a.csv", crowded), crs="EPSG:27700")
    message = [w for w in report.warnings if w.startswith("Most points sit on very few")]
    assert message == [
        "Most points sit on very few map points: 160 of 300 incidents (53%) share 1 map "
        "point; check that the source does not put unknown places on a default point (a "
        "police station, a town centre)."
    ]
    spread = [(530000.0 + 10 * k, 181000.0) for k in range(300)]
    _, report = read_incidents(_write_xy_csv(tmp_path / "b.csv", spread), crs="EPSG:27700")
    assert not [w for w in report.warnings if w.startswith("Most points sit")]


def _frame(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, size=(n, 2)).round(1)
    return gpd.GeoDataFrame(
        {"k": np.arange(n)}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700"
    ), xy


def test_kept_coordinates_are_given_again_only_for_the_same_objects() -> None:
    from hotspots._points import incident_xy, point_rows

    frame, xy = _frame(20_000)
    first = incident_xy(frame)
    assert np.array_equal(first, xy) and not first.flags.writeable
    assert incident_xy(frame) is first  # kept
    assert incident_xy(frame.copy(deep=False)) is first  # a view of the same objects
    assert incident_xy(frame[frame["k"] >= 0]) is first  # every row kept: the same objects
    assert point_rows(frame.geometry.to_numpy())[1] is first
    # a row given a new point in place is seen (the objects are compared, not the array)
    frame.loc[5, "geometry"] = shapely.Point(-1.0, -2.0)
    changed = incident_xy(frame)
    assert changed is not first and changed[5].tolist() == [-1.0, -2.0]
    assert np.array_equal(np.delete(changed, 5, axis=0), np.delete(xy, 5, axis=0))
    # equal points, other objects: computed again, equal values
    again, _ = _frame(20_000)
    other = incident_xy(again)
    assert other is not first and np.array_equal(other, xy)
    # a subset is its own array
    part = frame.iloc[100:300]
    assert np.array_equal(incident_xy(part), changed[100:300])


def test_an_empty_point_is_not_kept_as_coordinates() -> None:
    from hotspots._points import incident_xy, point_rows

    frame, xy = _frame(20_000, seed=1)
    frame.loc[7, "geometry"] = shapely.Point()
    got = incident_xy(frame)
    assert np.isnan(got[7]).all() and np.array_equal(
        np.delete(got, 7, axis=0), np.delete(xy, 7, axis=0)
    )
    ok, pts = point_rows(frame.geometry.to_numpy())
    assert not ok[7] and ok.sum() == 19_999 and len(pts) == 19_999


def test_codes_of_a_read_only_array_are_kept_and_equal_fresh_ones() -> None:
    from hotspots._points import unique_points

    rng = np.random.default_rng(5)
    spots = rng.uniform(0, 1000, size=(500, 2))
    xy = spots[rng.integers(0, 500, 30_000)]
    xy.flags.writeable = False  # owns its data, read-only: as all_points_xy gives
    codes, uxy, counts = unique_points(xy)
    again, uxy_again, counts_again = unique_points(xy)
    assert again is codes and uxy_again is uxy  # kept
    fresh = unique_points(xy.copy())
    assert np.array_equal(fresh[0], codes) and np.array_equal(fresh[1], uxy)
    assert np.array_equal(counts, fresh[2]) and np.array_equal(counts_again, fresh[2])
    weights = rng.uniform(0, 3, len(xy))
    summed = unique_points(xy, weights)
    assert summed[0] is codes
    assert np.allclose(summed[2], np.bincount(fresh[0], weights=weights))


def test_codes_of_a_writeable_array_are_worked_out_each_time() -> None:
    from hotspots._points import unique_points

    xy = np.repeat(np.array([[1.0, 2.0], [3.0, 4.0]]), 10_000, axis=0)
    first = unique_points(xy)
    xy[:10_000] = [5.0, 6.0]  # the same array, other values
    second = unique_points(xy)
    assert second[0] is not first[0]
    assert second[1].tolist() == [[5.0, 6.0], [3.0, 4.0]] and second[2].tolist() == [1e4, 1e4]
    view = np.asarray(xy[:15_000])  # a read-only view of a writeable array is not kept
    view.flags.writeable = False
    assert unique_points(view)[0] is not unique_points(view)[0]


def test_a_write_while_the_coordinates_are_read_is_never_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hotspots._points as points_module

    arr = np.array(shapely.points(np.arange(40_000, dtype=float).reshape(-1, 2)), dtype=object)
    real = shapely.get_coordinates

    def racing(geoms, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(geoms, *args, **kwargs)
        arr[3] = shapely.Point(-1.0, -1.0)  # as another thread could, mid-read
        return out

    monkeypatch.setattr(points_module.shapely, "get_coordinates", racing)
    points_module.all_points_xy(arr)
    monkeypatch.setattr(points_module.shapely, "get_coordinates", real)
    assert points_module.all_points_xy(arr)[3].tolist() == [-1.0, -1.0]


def test_kept_coordinates_and_codes_go_with_their_arrays() -> None:
    import gc

    import hotspots._points as points_module

    frame, _ = _frame(20_000, seed=9)
    xy = points_module.incident_xy(frame)
    points_module.unique_points(xy)
    key = (len(frame), id(frame.geometry.to_numpy()[0]))
    assert key in points_module._KEPT and id(xy) in points_module._KEPT_CODES
    xy_id = id(xy)
    del frame, xy
    gc.collect()
    assert key not in points_module._KEPT  # the frame's points are not held past it
    assert xy_id not in points_module._KEPT_CODES


def test_the_oldest_codes_are_dropped_first() -> None:
    import hotspots._points as points_module

    arrays = []
    for k in range(3):
        xy = np.full((20_000, 2), float(k))
        xy.flags.writeable = False
        arrays.append(xy)
    first, second, third = arrays
    points_module.unique_points(first)
    points_module.unique_points(second)
    points_module.unique_points(first)  # kept: asked again, still the oldest entry
    points_module.unique_points(third)
    assert id(first) not in points_module._KEPT_CODES
    assert id(second) in points_module._KEPT_CODES and id(third) in points_module._KEPT_CODES


def test_the_reader_hands_on_its_coordinates_and_codes(tmp_path: Path) -> None:
    """A read of 10,000 rows or more leaves the points' coordinates and map-point codes
    kept: later stages get them without reading the geometries or hashing again, and they
    are the geometries' own numbers."""
    import hotspots._points as points_module

    rng = np.random.default_rng(8)
    spots = rng.uniform([530000, 180000], [532000, 182000], size=(500, 2)).round(1)
    points = [tuple(spots[k]) for k in rng.integers(0, len(spots), 12_000)]
    incidents, _ = read_incidents(_write_xy_csv(tmp_path / "xy.csv", points), crs="EPSG:27700")
    geoms = incidents.geometry.to_numpy()
    key = (len(geoms), id(geoms[0]))
    assert key in points_module._KEPT  # left by the reader, not by a read of the geometries
    xy = points_module.incident_xy(incidents)
    assert np.array_equal(xy, shapely.get_coordinates(geoms)) and not xy.flags.writeable
    codes = points_module.unique_points(xy)[0]
    assert points_module.unique_points(xy)[0] is codes
    assert np.array_equal(codes, points_module.unique_points(xy.copy())[0])


def test_keep_points_xy_takes_only_read_only_coordinates_of_as_many_points() -> None:
    import pytest

    from hotspots._points import keep_points_xy

    geoms = np.asarray(shapely.points(np.zeros((3, 2))), dtype=object)
    with pytest.raises(ValueError, match="read-only"):
        keep_points_xy(geoms, np.zeros((3, 2)))
    frozen = np.zeros((2, 2))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        keep_points_xy(geoms, frozen)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    share=st.sampled_from([0.0, 0.01, 0.3, 1.0]),
    weighted=st.booleans(),
    shuffled=st.booleans(),
)
def test_a_subsets_points_from_kept_codes_equal_its_own(
    seed: int, share: float, weighted: bool, shuffled: bool
) -> None:
    """unique_points_of(xy, rows) gives unique_points(xy[rows]) number for number (codes in
    first-appearance order, points with -0.0 read as 0.0, summed weights), from the codes
    kept for a city's array as from a plain one; rows in any order."""
    from hotspots._points import kept_point_codes, unique_points, unique_points_of

    rng = np.random.default_rng(seed)
    points = np.round(rng.uniform(-50, 50, (300, 2)), 0)
    points[:3] = [(0.0, 1.0), (-0.0, 1.0), (2.0, -0.0)]
    xy = points[rng.integers(0, len(points), 11_000)]
    xy.flags.writeable = False
    unique_points(xy)
    assert kept_point_codes(xy) is not None
    rows = np.flatnonzero(rng.random(len(xy)) < share)
    if shuffled:
        rows = rng.permutation(rows)
    weights = rng.uniform(0, 3, len(rows)) if weighted else None
    want = unique_points(xy[rows], weights)
    for given_xy in (xy, xy.copy()):  # kept codes, and none
        got = unique_points_of(given_xy, rows, weights)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        assert np.array_equal(np.signbit(got[1]), np.signbit(want[1]))
