"""Tests for hotspots.filter: periods and crime types kept, the rest counted in the report."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from hotspots.crime_types import CRIME_TYPES
from hotspots.errors import ParameterError
from hotspots.filter import filter_incidents
from hotspots.io import (
    NO_COORDINATES,
    NO_MONTH_FOR_PERIOD,
    NOT_SELECTED_TYPE,
    OUTSIDE_PERIOD,
    LoadReport,
    read_incidents,
)

from .test_io import LAT, LON, street_row, write_street


# ------------------------------------------------------------------------------------------
# filter_incidents
# ------------------------------------------------------------------------------------------
@pytest.fixture
def six_months(tmp_path: Path) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """2019-01..2019-06, two incidents a month: one Burglary, one Violence and sexual offences."""
    rows = []
    for m in range(1, 7):
        month = f"2019-{m:02d}"
        rows.append(street_row(f"b{m}", month, LON, LAT + 0.0003 * m, "Burglary"))
        rows.append(street_row(f"v{m}", month, LON + 0.001, LAT, "Violence and sexual offences"))
    rows.append(street_row("n", "2019-06", None, None))
    return read_incidents(write_street(tmp_path / "six-street.csv", rows))


def test_filter_period_and_types_updates_report(six_months) -> None:
    gdf, report = six_months
    before = gdf.copy()
    out = filter_incidents(
        gdf, report, start="2019-02", end="2019-04", categories=["violent-crime", "BURGLARY"]
    )
    assert len(out) == 6
    assert_geodataframe_equal(gdf, before)  # input not mutated
    assert report.dropped == {NO_COORDINATES: 1, OUTSIDE_PERIOD: 6}
    assert report.rows_used == 6 and report.rows_read == 13
    only = filter_incidents(out, report, categories=["violence and sexual offences"])
    assert only["category"].unique().tolist() == ["Violence and sexual offences"]
    assert report.dropped[NOT_SELECTED_TYPE] == 3
    assert report.rows_read == report.rows_used + report.rows_dropped == 13
    assert report.rows_used == len(only) == 3


def test_rows_without_a_month_are_counted_as_such_when_a_period_is_chosen() -> None:
    """A row with no month is not "outside the period": it has none (independent review)."""
    frame = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime(["2019-01-01", "2019-05-01", None, None]),
            "category": ["Drugs"] * 4,
        },
        geometry=gpd.points_from_xy(range(4), range(4)),
        crs="EPSG:27700",
    )
    report = LoadReport(rows_read=4, rows_used=4)
    out = filter_incidents(frame, report, start="2019-01", end="2019-03")
    assert len(out) == 1
    assert report.dropped == {OUTSIDE_PERIOD: 1, NO_MONTH_FOR_PERIOD: 2}
    assert report.rows_read == report.rows_used + report.rows_dropped


def test_filter_without_report_and_copy(six_months) -> None:
    gdf, report = six_months
    kept = report.copy()
    out = filter_incidents(gdf, start="2019-06")
    assert out["month"].dt.strftime("%Y-%m").unique().tolist() == ["2019-06"]
    assert report == kept
    assert out.index.tolist() == [10, 11]


def test_filter_errors_name_the_argument(six_months) -> None:
    gdf, _ = six_months
    with pytest.raises(ParameterError, match=r"start '2019-13': not a month; use YYYY-MM") as err:
        filter_incidents(gdf, start="2019-13")
    assert err.value.argument == "start"
    with pytest.raises(ParameterError, match=r"end 'June'.*covers 2019-01 to 2019-06") as err:
        filter_incidents(gdf, end="June")
    assert err.value.argument == "end"
    with pytest.raises(ParameterError, match=r"start 2019-05 is after end 2019-02"):
        filter_incidents(gdf, start="2019-05", end="2019-02")
    with pytest.raises(ParameterError) as err:
        filter_incidents(gdf, categories=["Thefts"])
    assert "categories 'Thefts'" in str(err.value)
    assert err.value.argument == "categories"
    assert f"{len(CRIME_TYPES)} types: {CRIME_TYPES[0]}" in str(err.value)  # a few, and a count
    assert len(str(err.value)) <= 200
    with pytest.raises(ParameterError, match=r"categories Drugs selects none of the 12"):
        filter_incidents(gdf, categories=["Drugs"])
    with pytest.raises(ParameterError, match=r"start 2020-01 selects none") as err:
        filter_incidents(gdf, start="2020-01")
    assert err.value.argument == "start"


_FILTER_FRAME = gpd.GeoDataFrame(
    {
        "incident_id": [str(i) for i in range(24)],
        "month": pd.to_datetime([f"2019-{1 + i % 12:02d}-01" for i in range(24)]),
        "category": ["Burglary", "Drugs", "Other theft"] * 8,
    },
    geometry=gpd.points_from_xy(range(24), range(24)),
    crs="EPSG:27700",
)


@settings(max_examples=40, deadline=None)
@given(
    start=st.one_of(st.none(), st.integers(1, 12)),
    end=st.one_of(st.none(), st.integers(1, 12)),
    types=st.lists(st.sampled_from(["burglary", "drugs", "Other theft", "robbery"]), max_size=3),
)
def test_filter_counts_every_removed_row_once(start, end, types) -> None:
    """Kept + counted == before, for any period and crime types that select something."""
    report = LoadReport(rows_read=30, rows_used=24)
    report.drop(NO_COORDINATES, 6)
    months = _FILTER_FRAME["month"].dt.month
    keep = pd.Series(True, index=_FILTER_FRAME.index)
    if start is not None:
        keep &= months >= start
    if end is not None:
        keep &= months <= end
    in_period = int(keep.sum())
    if types:
        keep &= _FILTER_FRAME["category"].str.lower().isin([t.lower() for t in types])
    args = {
        "start": None if start is None else f"2019-{start:02d}",
        "end": None if end is None else f"2019-{end:02d}",
        "categories": types,
    }
    if start is not None and end is not None and start > end:
        with pytest.raises(ParameterError, match=r"is after end"):
            filter_incidents(_FILTER_FRAME, report, **args)
        return
    if not keep.any():
        with pytest.raises(ParameterError, match=r"select"):
            filter_incidents(_FILTER_FRAME, report, **args)
        assert report.rows_used == 24  # untouched on error
        return
    out = filter_incidents(_FILTER_FRAME, report, **args)
    assert out["incident_id"].tolist() == _FILTER_FRAME.loc[keep, "incident_id"].tolist()
    assert report.rows_read == report.rows_used + report.rows_dropped
    assert report.rows_used == len(out)
    assert report.dropped.get(OUTSIDE_PERIOD, 0) == 24 - in_period
    assert report.dropped.get(NOT_SELECTED_TYPE, 0) == in_period - len(out)


def test_the_rows_kept_are_a_copy_even_when_all_are_kept() -> None:
    """Changing the filtered frame (all rows kept, or some) never changes the one read."""
    frame = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "category": pd.Series(["Robbery", "Drugs"], dtype="str"),
        },
        geometry=[Point(0, 0), Point(1, 1)],
        crs="EPSG:27700",
    )
    for end in ("2024-02", "2024-01"):
        out = filter_incidents(frame, start="2024-01", end=end)
        out.loc[out.index[0], "category"] = "Burglary"
        out.loc[out.index[0], "geometry"] = Point(5, 5)
        out["month"] = pd.NaT
        assert frame["category"].tolist() == ["Robbery", "Drugs"]
        assert frame.geometry.iloc[0].equals(Point(0, 0))
        assert frame["month"].notna().all()
