"""Tests for hotspots.profile: the ranked Hotspots frame, monthly counts and trend wording."""

from __future__ import annotations

import doctest
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from shapely.geometry import Polygon, box

from hotspots import profile
from hotspots.columns import HOTSPOT_COLUMNS, INCIDENT_COLUMNS
from hotspots.errors import InputError, ParameterError
from hotspots.profile import (
    describe_trend,
    hotspot_id,
    monthly_counts,
    profile_hotspots,
    trend_window,
)

VIOLENCE = "Violence and sexual offences"
ASB = "Anti-social behaviour"

# (label, month, category, location) for the hand-made borough; see `incidents` below.
ROWS = [
    # label 5: 6 incidents, area 0.02 km²; Jan-Mar 2, Apr-Jun 4 -> trend +100%
    (5, "2024-01", VIOLENCE, "On or near High Street"),
    (5, "2024-02", VIOLENCE, "On or near High Street"),
    (5, "2024-04", VIOLENCE, "On or near High Street"),
    (5, "2024-05", "Drugs", "On or near Market Place"),
    (5, "2024-06", "Drugs", "On or near Market Place"),
    (5, "2024-06", "Burglary", "No Location"),
    # label 0: 4 incidents, area 0.01 km²; Jan-Mar 3, Apr-Jun 1 -> trend -2/3; category tie
    (0, "2024-01", "Drugs", "On or near Station Road"),
    (0, "2024-01", ASB, "On or near Station Road"),
    (0, "2024-02", "Drugs", ""),
    (0, "2024-05", ASB, "On or near Alma Street"),
    # label 2: 4 incidents, area 0.04 km² (loses the tie with label 0); none before April -> NaN
    (2, "2024-04", "Shoplifting", "On or near Supermarket"),
    (2, "2024-04", "Shoplifting", "On or near Supermarket"),
    (2, "2024-05", "Shoplifting", "On or near Supermarket"),
    (2, "2024-06", "Shoplifting", "On or near Supermarket"),
    # noise: counted in `share`'s denominator and in the period only
    (-1, "2024-03", "Drugs", "On or near Elsewhere Lane"),
    (-1, "2024-06", "Drugs", "On or near Elsewhere Lane"),
]
FOOTPRINTS = {
    5: box(0, 0, 200, 100),  # 0.02 km²
    0: box(1000, 0, 1200, 100),  # 0.02 km²
    2: box(2000, 0, 2200, 200),  # 0.04 km²
}
STUDY_KM2 = 4.0


def make_incidents(rows: list[tuple[int, str, str, str]]) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Incidents frame (contract columns, EPSG:27700) and labels; points inside their footprint."""
    labels = np.array([r[0] for r in rows], dtype=np.int64)
    anchor = {5: (50.0, 50.0), 0: (1050.0, 50.0), 2: (2100.0, 100.0), -1: (5000.0, 5000.0)}
    xy = np.array([anchor.get(int(lab), (9000.0, 9000.0)) for lab in labels])
    frame = gpd.GeoDataFrame(
        {
            "incident_id": [f"id-{i}" for i in range(len(rows))],
            "month": pd.to_datetime([r[1] + "-01" for r in rows]),
            "date": pd.NaT,
            "category": [r[2] for r in rows],
            "location": [r[3] for r in rows],
            "lsoa_code": "E01000001",
            "outcome": "",
            "source": "test.csv",
            "weight": 1.0,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )
    return frame[INCIDENT_COLUMNS], labels


@pytest.fixture
def borough() -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Three hotspots (labels 5, 0, 2) and two noise incidents over Jan-Jun 2024 (6 months)."""
    return make_incidents(ROWS)


# --------------------------------------------------------------------------- profile_hotspots


def test_every_column_on_hand_data(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    table, ids = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2)
    assert list(table.columns) == HOTSPOT_COLUMNS
    assert table.crs == incidents.crs
    assert ids == {5: "H01", 0: "H02", 2: "H03"}
    assert table["hotspot_id"].tolist() == ["H01", "H02", "H03"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["incidents"].tolist() == [6, 4, 4]
    assert table["share"].tolist() == pytest.approx([6 / 16, 4 / 16, 4 / 16])
    assert table["area_km2"].tolist() == pytest.approx([0.02, 0.02, 0.04])
    # ranked densest first: 300, 200, 100 incidents per km²
    assert table["density_km2"].tolist() == pytest.approx([300.0, 200.0, 100.0])
    # PAI = share / (area / study area): 0.375 / 0.005, 0.25 / 0.005, 0.25 / 0.01
    assert table["pai"].tolist() == pytest.approx([75.0, 50.0, 25.0])
    assert table["top_categories"].tolist() == [
        [(VIOLENCE, 3), ("Drugs", 2), ("Burglary", 1)],
        [(ASB, 2), ("Drugs", 2)],  # tie on count: by name
        [("Shoplifting", 4)],
    ]
    assert table["top_locations"].tolist() == [
        [("High Street", 3), ("Market Place", 2)],  # "No Location" skipped
        [("Station Road", 2), ("Alma Street", 1)],  # empty location skipped
        [("Supermarket", 4)],
    ]
    assert table["wards"].tolist() == [[], [], []]
    assert table["patrol_coverage"].isna().all()
    trend = table["trend"].tolist()
    assert trend[0] == pytest.approx(1.0)  # 2 -> 4
    assert trend[1] == pytest.approx(-2 / 3)  # 3 -> 1
    assert math.isnan(trend[2])  # 0 -> 4: new
    assert table["first_month"].tolist() == ["2024-01", "2024-01", "2024-04"]
    assert table["last_month"].tolist() == ["2024-06", "2024-05", "2024-06"]
    assert table.geometry.tolist()[1].equals(FOOTPRINTS[0])
    assert table.index.tolist() == [0, 1, 2]


def test_ranked_by_density_not_by_count(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    """A small busy hotspot outranks a larger one holding more incidents."""
    incidents, labels = borough
    tight = {**FOOTPRINTS, 0: box(1000, 0, 1050, 100)}  # 4 incidents in 0.005 km²: 800 / km²
    table, ids = profile_hotspots(incidents, labels, tight, study_area_km2=STUDY_KM2)
    assert ids == {0: "H01", 5: "H02", 2: "H03"}
    assert table["density_km2"].tolist() == pytest.approx([800.0, 300.0, 100.0])
    assert table["incidents"].tolist() == [4, 6, 4]


def test_dtypes_are_fixed_and_same_when_empty(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    """No hotspots: same columns, dtypes and CRS, no rows."""
    incidents, labels = borough
    table, _ = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2)
    empty, ids = profile_hotspots(
        incidents, np.full(len(incidents), -1), {}, study_area_km2=STUDY_KM2
    )
    assert ids == {}
    assert len(empty) == 0
    zero_area, _ = profile_hotspots(incidents, np.full(len(incidents), -1), {}, study_area_km2=0)
    assert len(zero_area) == 0  # a degenerate study area is fine when there are no hotspots
    assert list(empty.columns) == HOTSPOT_COLUMNS
    assert empty.crs == incidents.crs
    assert empty.geometry.name == "geometry"
    assert empty.dtypes.astype(str).tolist() == table.dtypes.astype(str).tolist()
    expected = {
        "hotspot_id": "str",
        "rank": "int64",
        "incidents": "int64",
        "share": "float64",
        "pai": "float64",
        "top_categories": "object",  # lists of (name, count) pairs
        "wards": "object",  # lists of names
        "patrol_coverage": "float64",
        "trend": "float64",
        "first_month": "str",
        "geometry": "geometry",
    }
    assert {name: str(table[name].dtype) for name in expected} == expected


def test_empty_input_frame(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, _ = borough
    none = incidents.iloc[:0]
    table, ids = profile_hotspots(none, np.zeros(0, dtype=np.int64), {}, study_area_km2=1.0)
    assert (len(table), ids, list(table.columns)) == (0, {}, HOTSPOT_COLUMNS)


def test_input_not_mutated(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    before, labels_before = incidents.copy(), labels.copy()
    profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2, rank_by="harm")
    assert_geodataframe_equal(incidents, before)
    np.testing.assert_array_equal(labels, labels_before)


def test_rank_by_harm(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    """Label 2 (4 incidents of weight 3 = 12) outranks label 5 (6) and label 0 (4)."""
    incidents, labels = borough
    weighted = incidents.assign(weight=np.where(labels == 2, 3.0, 1.0))
    table, ids = profile_hotspots(
        weighted, labels, FOOTPRINTS, study_area_km2=STUDY_KM2, rank_by="harm"
    )
    assert ids == {2: "H01", 5: "H02", 0: "H03"}
    assert table["incidents"].tolist() == [4, 6, 4]  # still counts, not weights


def test_ties_break_on_area_then_label() -> None:
    """Equal counts: smaller footprint first; equal areas too: lower label first."""
    rows = [(lab, "2024-01", "Drugs", "On or near A Street") for lab in (9, 9, 4, 4, 1, 1)]
    incidents, labels = make_incidents(rows)
    same = {9: box(0, 0, 100, 100), 4: box(0, 0, 100, 100), 1: box(0, 0, 50, 100)}
    _, ids = profile_hotspots(incidents, labels, same, study_area_km2=1.0)
    assert ids == {1: "H01", 4: "H02", 9: "H03"}


def test_trend_months_given(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    """trend_months=2: May-Jun vs Mar-Apr. Label 5: 1 -> 3; label 0: 0 -> 1; label 2: 2 -> 2."""
    incidents, labels = borough
    table, _ = profile_hotspots(
        incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2, trend_months=2
    )
    trend = dict(zip(table["hotspot_id"], table["trend"], strict=True))
    assert trend["H01"] == pytest.approx(2.0)
    assert math.isnan(trend["H02"])
    assert trend["H03"] == 0.0


def test_trend_zero_in_both_spans_is_no_change() -> None:
    """A hotspot with nothing in either span has trend 0.0 (not 'new')."""
    rows = [
        (0, "2024-01", "Drugs", "x"),
        (0, "2024-01", "Drugs", "x"),
        (-1, "2024-05", "Drugs", "x"),
    ]
    incidents, labels = make_incidents(rows)
    table, _ = profile_hotspots(
        incidents, labels, {0: box(0, 0, 1, 1)}, study_area_km2=1.0, trend_months=2
    )
    assert table["trend"].tolist() == [0.0]


def test_trend_interval_and_words() -> None:
    """21 incidents in Jan-Mar and 34 in Apr-Jun: +62% but p = 0.105 (scipy's exact binomial
    test of 34 of 55 at 1/2), an interval from about -9% to +194%: "no clear change". 10 then
    30 is a clear rise."""
    rows = [(0, "2024-01", "Drugs", "x")] * 21 + [(0, "2024-05", "Drugs", "x")] * 34
    rows += [(2, "2024-02", "Drugs", "x")] * 10 + [(2, "2024-06", "Drugs", "x")] * 30
    incidents, labels = make_incidents(rows)
    table, ids = profile_hotspots(
        incidents, labels, {0: box(1000, 0, 1100, 100), 2: box(2000, 0, 2200, 200)},
        study_area_km2=1.0,
    )  # fmt: skip
    flat = table.set_index("hotspot_id").loc[ids[0]]
    assert flat["trend"] == pytest.approx(13 / 21)
    assert flat["trend_p"] == pytest.approx(binomtest(34, 55).pvalue)
    assert flat["trend_low"] < 0 < flat["trend_high"]
    words = describe_trend(flat["trend"], months=3, low=flat["trend_low"], high=flat["trend_high"])
    assert words.startswith("no clear change (+62%; 95% interval −9% to +194%)")
    rise = table.set_index("hotspot_id").loc[ids[2]]
    assert rise["trend_low"] > 0 and rise["trend_p"] < 0.01
    assert describe_trend(
        rise["trend"], months=3, low=rise["trend_low"], high=rise["trend_high"]
    ).startswith("up 200% (95% interval +")


def test_default_trend_window_short_periods() -> None:
    """5 months -> 2 (Apr-May vs Feb-Mar; January unused); 1 month -> no trend (NaN)."""
    rows = [(0, m, "Drugs", "x") for m in ("2024-01", "2024-01", "2024-02", "2024-04", "2024-05")]
    incidents, labels = make_incidents(rows)
    assert trend_window(incidents) == 2
    table, _ = profile_hotspots(incidents, labels, {0: box(0, 0, 1, 1)}, study_area_km2=1.0)
    assert table["trend"].tolist() == [1.0]  # 1 -> 2
    one_month = incidents.assign(month=pd.Timestamp("2024-03-01"))
    assert trend_window(one_month) == 0
    table, _ = profile_hotspots(one_month, labels, {0: box(0, 0, 1, 1)}, study_area_km2=1.0)
    assert math.isnan(table["trend"].iloc[0])
    assert (table["first_month"].iloc[0], table["last_month"].iloc[0]) == ("2024-03", "2024-03")


def test_period_is_all_incidents_not_the_hotspot(
    borough: tuple[gpd.GeoDataFrame, np.ndarray],
) -> None:
    """Label 2 only exists Apr-Jun, yet the window is the borough's: 6 months -> 3."""
    incidents, _ = borough
    assert trend_window(incidents) == 3
    assert trend_window(incidents, trend_months=1) == 1


def test_hotspot_ids_widen_past_99() -> None:
    """100 hotspots: H001..H100, one width, so sorting the ids sorts by rank."""
    assert [hotspot_id(r, 99) for r in (1, 99)] == ["H01", "H99"]
    assert [hotspot_id(r, 100) for r in (1, 100)] == ["H001", "H100"]
    rows = [(lab, "2024-01", "Drugs", "x") for lab in range(100) for _ in range(100 - lab)]
    incidents, labels = make_incidents(rows)
    fps = {lab: box(0, 0, 10, 10) for lab in range(100)}
    table, ids = profile_hotspots(incidents, labels, fps, study_area_km2=1.0)
    assert ids[0] == "H001" and ids[99] == "H100"
    assert table["hotspot_id"].tolist() == sorted(table["hotspot_id"])


def test_top_n(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    table, _ = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2, top_n=1)
    assert table["top_categories"].tolist() == [[(VIOLENCE, 3)], [(ASB, 2)], [("Shoplifting", 4)]]
    assert table["top_locations"].tolist() == [
        [("High Street", 3)],
        [("Station Road", 2)],
        [("Supermarket", 4)],
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"study_area_km2": 0.0}, ParameterError, "study_area_km2"),
        ({"study_area_km2": -1.0}, ParameterError, "study_area_km2"),
        ({"study_area_km2": float("nan")}, ParameterError, "study_area_km2"),
        ({"rank_by": "count"}, ParameterError, "rank_by"),
        ({"top_n": 0}, ParameterError, "top_n"),
        ({"trend_months": 4}, ParameterError, "trend_months=4 needs at least 8 months"),
        ({"footprints": {5: box(0, 0, 1, 1)}}, ParameterError, "no polygon for cluster label 0"),
        ({"labels": np.zeros(3, dtype=np.int64)}, ParameterError, "one cluster label per"),
    ],
)
def test_bad_arguments(
    borough: tuple[gpd.GeoDataFrame, np.ndarray],
    kwargs: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    incidents, labels = borough
    args: dict[str, object] = {
        "labels": labels,
        "footprints": FOOTPRINTS,
        "study_area_km2": STUDY_KM2,
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        profile_hotspots(incidents, args.pop("labels"), args.pop("footprints"), **args)  # type: ignore[arg-type]


def test_bad_incidents(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    with pytest.raises(InputError, match="longitude/latitude"):
        profile_hotspots(incidents.to_crs(4326), labels, FOOTPRINTS, study_area_km2=1.0)
    with pytest.raises(InputError, match="no 'location' column"):
        profile_hotspots(incidents.drop(columns="location"), labels, FOOTPRINTS, study_area_km2=1.0)
    with pytest.raises(ParameterError, match="GeoDataFrame"):
        profile_hotspots(pd.DataFrame(incidents), labels, FOOTPRINTS, study_area_km2=1.0)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(
    labels=st.lists(st.integers(min_value=-1, max_value=5), min_size=1, max_size=60),
    months=st.data(),
    seed=st.integers(0, 1000),
)
def test_relabelling_does_not_change_the_table(
    labels: list[int], months: st.DataObject, seed: int
) -> None:
    """Cluster numbers are arbitrary: permuting them gives the same table; counts add up."""
    choices = st.sampled_from(["2024-01", "2024-02", "2024-03", "2024-07"])
    month_list = months.draw(st.lists(choices, min_size=len(labels), max_size=len(labels)))
    rows = [(lab, m, "Drugs", "x") for lab, m in zip(labels, month_list, strict=True)]
    incidents, labs = make_incidents(rows)
    sizes = {lab: box(0, 0, 10 + lab, 10) for lab in range(6)}  # distinct areas: no label ties
    table, ids = profile_hotspots(incidents, labs, sizes, study_area_km2=1.0)
    perm = np.random.default_rng(seed).permutation(6)
    moved = np.where(labs >= 0, perm[np.maximum(labs, 0)], -1)
    moved_fps = {int(perm[lab]): shape for lab, shape in sizes.items()}
    table2, ids2 = profile_hotspots(incidents, moved, moved_fps, study_area_km2=1.0)
    assert_geodataframe_equal(table, table2)
    assert {int(perm[lab]): hid for lab, hid in ids.items()} == ids2
    assert table["incidents"].sum() == int((labs >= 0).sum())
    assert table["share"].sum() == pytest.approx((labs >= 0).mean())
    assert (np.diff(table["density_km2"].to_numpy()) <= 0).all()  # ranked densest first


# --------------------------------------------------------------------------- monthly_counts


def test_monthly_counts_from_labels(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    _, ids = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2)
    tidy = monthly_counts(incidents, labels, ids=ids)
    assert list(tidy.columns) == ["hotspot_id", "month", "incidents"]
    assert len(tidy) == 3 * 6  # every hotspot x every month of the period
    wide = tidy.pivot(index="month", columns="hotspot_id", values="incidents")
    assert wide["H01"].tolist() == [1, 1, 0, 1, 1, 2]
    assert wide["H02"].tolist() == [2, 1, 0, 0, 1, 0]
    assert wide["H03"].tolist() == [0, 0, 0, 2, 1, 1]
    assert tidy["month"].dtype == incidents["month"].dtype
    assert str(tidy["hotspot_id"].dtype) == "str"
    assert tidy["incidents"].dtype == np.int64


def test_monthly_counts_from_hotspot_ids(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    """Per-row ids as in incidents.csv (empty for noise) give the same table."""
    incidents, labels = borough
    _, ids = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2)
    per_row = [ids.get(int(lab), "") for lab in labels]
    expected = monthly_counts(incidents, labels, ids=ids)
    pd.testing.assert_frame_equal(monthly_counts(incidents, per_row), expected)
    with_none = [ids.get(int(lab)) for lab in labels]  # None for noise
    pd.testing.assert_frame_equal(monthly_counts(incidents, with_none), expected)
    with pytest.raises(ParameterError, match="pass ids="):
        monthly_counts(incidents, labels)
    with pytest.raises(ParameterError, match="one entry per incident"):
        monthly_counts(incidents, per_row[:3])


def test_monthly_counts_no_hotspots(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, _ = borough
    tidy = monthly_counts(incidents, [""] * len(incidents))
    assert list(tidy.columns) == ["hotspot_id", "month", "incidents"]
    assert len(tidy) == 0


# --------------------------------------------------------------------------- describe_trend


@pytest.mark.parametrize(
    ("trend", "months", "text"),
    [
        (0.25, 3, "up 25% (last 3 months vs previous 3)"),
        (-0.4, 3, "down 40% (last 3 months vs previous 3)"),
        (-1.0, 2, "down 100% (last 2 months vs previous 2)"),
        (12.5, 3, "up 1,250% (last 3 months vs previous 3)"),
        (0.0, 3, "no change"),
        (-0.004, 3, "no change"),
        (float("nan"), 3, "new (none in previous 3 months)"),
        (float("nan"), 1, "new (none in previous month)"),
        (0.5, 1, "up 50% (last month vs previous month)"),
        (float("nan"), 0, "no trend (under 2 months of incidents)"),
    ],
)
def test_describe_trend(trend: float, months: int, text: str) -> None:
    assert describe_trend(trend, months=months) == text


def test_describe_trend_of_profiled_rows(borough: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    incidents, labels = borough
    table, _ = profile_hotspots(incidents, labels, FOOTPRINTS, study_area_km2=STUDY_KM2)
    months = trend_window(incidents)
    assert [describe_trend(t, months=months) for t in table["trend"]] == [
        "up 100% (last 3 months vs previous 3)",
        "down 67% (last 3 months vs previous 3)",
        "new (none in previous 3 months)",
    ]


def test_footprint_type_accepted() -> None:
    """Footprints may be any Polygon or MultiPolygon; areas are planar m² / 1e6."""
    incidents, labels = make_incidents([(0, "2024-01", "Drugs", "x")])
    square = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    table, _ = profile_hotspots(incidents, labels, {0: square}, study_area_km2=2.0)
    assert table["area_km2"].tolist() == [1.0]
    assert table["pai"].tolist() == [2.0]  # share 1 / (1 / 2)


def test_docstring_examples() -> None:
    assert doctest.testmod(profile, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["", "H01", " H02", "H02", "H10"]), st.integers(1, 6)),
        min_size=1,
        max_size=60,
    )
)
def test_monthly_counts_of_categories_equal_those_of_text(rows: list[tuple[str, int]]) -> None:
    """Hotspot ids held as categories (find_hotspots' own) count as the same ids as text."""
    ids, months = zip(*rows, strict=True)
    frame = pd.DataFrame({"month": pd.to_datetime([f"2024-{m:02d}-01" for m in months])})
    as_text = monthly_counts(frame, list(ids))
    as_categories = monthly_counts(frame, pd.Series(ids, dtype="category"))
    pd.testing.assert_frame_equal(as_text, as_categories)
