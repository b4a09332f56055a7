"""hotspots.period_change.period_change: the chosen months against the months just before them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from hotspots.errors import ParameterError
from hotspots.period_change import period_change
from hotspots.trend import compare_counts

BNG = "EPSG:27700"
X0, Y0 = 530_000.0, 180_000.0  # central London: every position below is relative to it


def incidents(spec: list[tuple[str, float, float, int]]) -> gpd.GeoDataFrame:
    """(month, x, y, how many) rows as an incidents frame."""
    months, points = [], []
    for month, x, y, n in spec:
        months += [pd.Timestamp(month + "-01")] * n
        points += [Point(X0 + x, Y0 + y)] * n
    return gpd.GeoDataFrame({"month": months}, geometry=points, crs=BNG)


HOTSPOTS = gpd.GeoDataFrame(
    {"hotspot_id": ["H02", "H01"], "rank": [2, 1]},
    geometry=[box(X0 + 100, Y0, X0 + 110, Y0 + 10), box(X0, Y0, X0 + 10, Y0 + 10)],
    crs=BNG,
)


def test_a_quarter_against_the_quarter_before() -> None:
    """H01: 30 in Oct-Dec, 20 in Jul-Sep (+50%); H02: 60 against 20 (+200%, clear);
    incidents outside every outline and before July count only in the total."""
    frame = incidents(
        [
            ("2024-10", 5, 5, 10), ("2024-12", 5, 5, 20), ("2024-08", 5, 5, 20),
            ("2024-11", 105, 5, 60), ("2024-07", 105, 5, 20),
            ("2024-11", 500, 500, 7), ("2024-01", 5, 5, 99),
        ]
    )  # fmt: skip
    out = period_change(frame, HOTSPOTS, start="2024-10", end="2024-12")
    assert out.period == ("2024-10", "2024-12") and out.previous == ("2024-07", "2024-09")
    assert out.table["hotspot_id"].tolist() == ["H01", "H02"]  # rank order
    assert out.table["now"].tolist() == [30, 60] and out.table["before"].tolist() == [20, 20]
    expected = compare_counts([20, 20], [30, 60])
    np.testing.assert_allclose(out.table["change"], expected.change)
    np.testing.assert_allclose(out.table["p"], expected.p)
    assert out.table["clear"].tolist() == [False, True]  # +50% on 20 is no clear change
    now, before, total = out.total
    assert (now, before) == (97, 40) and total is not None
    assert total.change[0] == pytest.approx(97 / 40 - 1)
    assert out.note is not None and "different months of the year" in out.note


def test_kept_point_trees_count_only_their_own_points() -> None:
    """The points' tree is kept for the next hotspots (the dashboard's next distance): other
    hotspots over the same incidents, and other incidents, still count what lies inside."""
    first = incidents([("2024-11", 5, 5, 10), ("2024-11", 105, 5, 4), ("2024-08", 5, 5, 2)])
    moved = first.set_geometry(first.geometry.translate(100.0, 0.0))
    wider = HOTSPOTS.assign(geometry=HOTSPOTS.geometry.buffer(200.0))
    cases = [(first, HOTSPOTS, [10, 4]), (first, wider, [14, 14]), (moved, HOTSPOTS, [0, 10])]
    for frame, spots, now in cases * 2:
        out = period_change(frame, spots, start="2024-10", end="2024-12")
        assert out.table.sort_values("hotspot_id")["now"].tolist() == now


def test_no_previous_span_in_the_data() -> None:
    """The chosen months start where the data start: no comparison, and the note says why."""
    frame = incidents([("2024-01", 5, 5, 10), ("2024-02", 5, 5, 12), ("2024-03", 5, 5, 9)])
    out = period_change(frame, HOTSPOTS, start="2024-01", end="2024-02")
    assert out.previous is None and out.total[1] is None
    assert out.table["before"].isna().all() and not out.table["clear"].any()
    assert (
        out.note == "the data start in 2024-01: there are no months before 2024-01 to compare with"
    )


def test_first_month_makes_empty_months_zeros() -> None:
    """A crime type with none in the months before: zeros, not unknown, when the data hold
    those months (first_month), so the hotspot is new."""
    frame = incidents([("2024-03", 5, 5, 12)])
    alone = period_change(frame, HOTSPOTS, start="2024-03", end="2024-03")
    assert alone.previous is None
    out = period_change(frame, HOTSPOTS, start="2024-03", end="2024-03", first_month="2024-01")
    assert out.previous == ("2024-02", "2024-02")
    row = out.table.iloc[0]
    assert (row["now"], row["before"]) == (12, 0) and np.isinf(row["change"]) and row["clear"]
    assert out.table.iloc[1]["now"] == 0 and np.isnan(out.table.iloc[1]["change"])


def test_hotspots_in_another_crs_and_bad_months() -> None:
    frame = incidents([("2024-01", 5, 5, 3), ("2024-02", 5, 5, 4)])
    out = period_change(frame, HOTSPOTS.to_crs("EPSG:4326"), start="2024-02", end="2024-02")
    assert out.table["now"].tolist() == [4, 0] and out.table["before"].tolist() == [3, 0]
    with pytest.raises(ParameterError, match="start"):
        period_change(frame, HOTSPOTS, start="February", end="2024-02")
    with pytest.raises(ParameterError, match="after end"):
        period_change(frame, HOTSPOTS, start="2024-03", end="2024-02")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 11), min_size=1, max_size=60), st.integers(0, 11), st.integers(1, 6))
def test_counts_are_the_incidents_in_each_span(months: list[int], start: int, length: int) -> None:
    """Every incident inside H01: now and before are the incidents in each span."""
    stamps = [pd.Timestamp(2024, m + 1, 1) for m in months]
    frame = gpd.GeoDataFrame(
        {"month": stamps}, geometry=[Point(X0 + 5, Y0 + 5)] * len(stamps), crs=BNG
    )
    end = min(11, start + length - 1)
    n = end - start + 1
    out = period_change(
        frame,
        HOTSPOTS,
        start=f"2024-{start + 1:02d}",
        end=f"2024-{end + 1:02d}",
        first_month="2024-01",
    )
    arr = np.array(months)
    assert out.table.iloc[0]["now"] == ((arr >= start) & (arr <= end)).sum()
    if start - n >= 0:
        assert out.table.iloc[0]["before"] == ((arr >= start - n) & (arr < start)).sum()
        assert out.table.iloc[0]["clear"] == (out.table.iloc[0]["p"] < 0.05)
    else:
        assert out.previous is None


@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 12), st.booleans(), st.booleans()),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=60, deadline=None)
def test_inside_counts_match_a_plain_count_with_shared_points(
    rows: list[tuple[int, int, bool, bool]],
) -> None:
    """Counting per distinct map point (incidents share points) gives each outline the same
    counts as testing every incident on its own (edges count as inside)."""
    import shapely

    from hotspots.period_change import _inside_counts

    xy = np.array([[x, y] for x, y, _, _ in rows], dtype=float)
    flags = [np.array([a for *_, a, _ in rows]), np.array([b for *_, b in rows])]
    polygons = np.array([box(0, 0, 4, 4), box(3, 3, 9, 12), box(20, 20, 21, 21)], dtype=object)
    got = _inside_counts(xy, flags, polygons)
    for f, counts in zip(flags, got, strict=True):
        plain = [
            sum(bool(f[i]) and shapely.intersects(p, Point(xy[i])) for i in range(len(xy)))
            for p in polygons
        ]
        assert counts.tolist() == plain


def test_a_city_sized_frame_counts_as_a_plain_count() -> None:
    """From 10,000 rows on, the frame's coordinates and map points are kept between calls
    (hotspots._points); the counts must equal a plain count, and a frame with a row that is
    not a point (the other path) must count the same."""
    import shapely

    rng = np.random.default_rng(11)
    spots = rng.integers(0, 400, size=(300, 2)).astype(float)
    xy = spots[rng.integers(0, len(spots), 24_000)]
    months = pd.to_datetime([f"2024-{m:02d}" for m in rng.integers(1, 7, len(xy))])
    incidents = gpd.GeoDataFrame(
        {"month": months}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700"
    )
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H1", "H2"]}, geometry=[box(0, 0, 150, 150), box(100, 100, 400, 300)],
        crs="EPSG:27700",
    )  # fmt: skip
    for _ in range(2):  # the second time from what was kept
        got = period_change(incidents, hotspots, start="2024-04", end="2024-06")
        now = np.asarray(months >= "2024-04")
        for k, shape in enumerate(hotspots.geometry):
            inside = shapely.intersects_xy(shape, xy[:, 0], xy[:, 1])
            assert got.table["now"].iloc[k] == int((inside & now).sum())
            assert got.table["before"].iloc[k] == int((inside & ~now).sum())
    odd = pd.concat(
        [incidents, gpd.GeoDataFrame({"month": months[:1]}, geometry=[Point()], crs="EPSG:27700")],
        ignore_index=True,
    )
    other = period_change(odd, hotspots, start="2024-04", end="2024-06")
    pd.testing.assert_frame_equal(other.table, got.table)
