"""Tests for hotspots.change: period comparison, Mann–Kendall, emerging hot spot patterns."""

from __future__ import annotations

import doctest
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest, kendalltau

from hotspots import change
from hotspots.change import (
    PATTERNS,
    Window,
    classify_pattern,
    compare_periods,
    emerging_hotspots,
)
from hotspots.density import grid_cells
from hotspots.errors import InputError, ParameterError
from hotspots.significance import LEFT_OUT
from hotspots.trend import (
    change_words,
    compare_counts,
    mann_kendall,
    percent_interval,
    seasonal_note,
)

BNG = "EPSG:27700"


def incidents(rows: Sequence[tuple[float, float, str]]) -> gpd.GeoDataFrame:
    """Incidents from (x, y, "YYYY-MM") rows, weight 1."""
    x, y, month = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "month": pd.to_datetime([f"{m}-01" for m in month]),
            "weight": np.ones(len(x)),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=BNG,
    )


def three_cells() -> gpd.GeoDataFrame:
    """Three 100 m squares in a row: x 0-100, 100-200, 200-300."""
    return grid_cells(shapely.box(0, 0, 300, 100), cell_size=100.0, crs=BNG)


def test_doctests() -> None:
    assert doctest.testmod(change).failed == 0


# --------------------------------------------------------------------------- compare_periods


def test_compare_periods_hand_counts() -> None:
    """Cell 0: 2 before, 1 after; cell 1: 0 before, 3 after; cell 2: 1 and 1."""
    rows = [
        (50, 50, "2024-01"),
        (50, 50, "2024-02"),
        (50, 50, "2024-04"),
        (150, 50, "2024-04"),
        (150, 50, "2024-05"),
        (150, 50, "2024-05"),
        (250, 50, "2024-03"),
        (250, 50, "2024-06"),
        (250, 50, "2023-12"),  # outside both periods
    ]
    frame = incidents(rows)
    before_frame = frame.copy()
    result = compare_periods(
        frame, three_cells(), before=("2024-01", "2024-03"), after=("2024-04", "2024-06")
    )
    out = result.cells
    pd.testing.assert_frame_equal(frame, before_frame)
    assert out["before"].tolist() == [2.0, 0.0, 1.0]
    assert out["after"].tolist() == [1.0, 3.0, 1.0]
    assert out["change"].tolist() == [-1.0, 3.0, 0.0]
    assert out["pct_change"].iloc[0] == pytest.approx(-50.0)
    assert math.isnan(out["pct_change"].iloc[1])
    assert out["pct_change"].iloc[2] == 0.0
    assert out["before_per_month"].tolist() == pytest.approx([2 / 3, 0.0, 1 / 3])
    assert "3 months" in result.notes[0]


def test_compare_periods_unequal_lengths_use_monthly_rates() -> None:
    """2 incidents in 1 month before, 4 in 4 months after: counts +100%, rate -50%."""
    rows = [(50, 50, "2024-01")] * 2 + [
        (50, 50, m) for m in ("2024-02", "2024-03", "2024-04", "2024-05")
    ]
    out = compare_periods(
        incidents(rows), three_cells(), before=("2024-01", "2024-01"), after=("2024-02", "2024-05")
    ).cells
    assert out["pct_change"].iloc[0] == pytest.approx(100.0)
    assert out["rate_change_pct"].iloc[0] == pytest.approx(-50.0)


def test_compare_periods_months_missing_from_the_data() -> None:
    """2024-02 has no incident anywhere: a missing month, not a zero month, in the rates."""
    rows = [(50, 50, "2024-01")] * 4 + [(50, 50, "2024-03")] * 2 + [(50, 50, "2024-04")] * 3
    rows += [(50, 50, "2024-05")] * 3 + [(50, 50, "2024-06")] * 3
    result = compare_periods(
        incidents(rows), three_cells(), before=("2024-01", "2024-03"), after=("2024-04", "2024-06")
    )
    out = result.cells
    assert out["before"].iloc[0] == 6 and out["after"].iloc[0] == 9
    assert out["before_per_month"].iloc[0] == pytest.approx(3.0)  # 6 over 2 months, not 3
    assert out["rate_change_pct"].iloc[0] == pytest.approx(0.0)
    assert "(2 months)" in result.notes[0]
    assert any("2024-02" in n and "missing" in n for n in result.notes)
    with pytest.raises(InputError, match="every month is missing"):
        compare_periods(
            incidents(rows),
            three_cells(),
            before=("2023-01", "2023-02"),
            after=("2024-04", "2024-06"),
        )


def test_compare_periods_zero_month_of_a_filtered_type_is_not_missing() -> None:
    """Robbery 1, 0 before and 1, 1 after; the data (all types) cover every month."""
    rows = [(50, 50, "2024-01"), (50, 50, "2024-03"), (50, 50, "2024-04")]
    cells = three_cells()
    result = compare_periods(
        incidents(rows),
        cells,
        before=("2024-01", "2024-02"),
        after=("2024-03", "2024-04"),
        data_months=["2024-01", "2024-02", "2024-03", "2024-04"],
    )
    out = result.cells
    assert out["before_per_month"].iloc[0] == pytest.approx(0.5)
    assert out["rate_change_pct"].iloc[0] == pytest.approx(100.0)
    assert not any("missing" in n for n in result.notes)
    # without data_months, 2024-02 (no robbery) is taken as missing: 1 a month before
    alone = compare_periods(
        incidents(rows), cells, before=("2024-01", "2024-02"), after=("2024-03", "2024-04")
    ).cells
    assert alone["rate_change_pct"].iloc[0] == pytest.approx(0.0)
    with pytest.raises(ParameterError, match="data_months"):
        compare_periods(
            incidents(rows), cells, before=("2024-01", "2024-02"), after=("2024-03", "2024-04"),
            data_months=["soon"],
        )  # fmt: skip


def test_compare_periods_states_change_with_its_interval() -> None:
    """Cell 0: 10 incidents in Jan then 30 in Feb (monthly rates; a clear rise); cell 1: 4
    then 6 (no clear change); cell 2: none. Jan against Feb are different months of the year;
    with harm weights there is no interval."""
    rows = [(50.0, 50.0, "2024-01")] * 10 + [(50.0, 50.0, "2024-02")] * 30
    rows += [(150.0, 50.0, "2024-01")] * 4 + [(150.0, 50.0, "2024-02")] * 6
    frame = incidents(rows)
    span = {"before": ("2024-01", "2024-01"), "after": ("2024-02", "2024-02")}
    result = compare_periods(frame, three_cells(), **span)  # type: ignore[arg-type]
    out = result.cells
    assert out["change_p"].iloc[0] == pytest.approx(binomtest(30, 40).pvalue)
    assert out["change_low_pct"].iloc[0] > 0
    assert out["change_words"].iloc[0].startswith("up 200% (95% interval +")
    assert out["change_words"].iloc[1].startswith("no clear change (+50%; 95% interval −")
    assert out["change_words"].iloc[2] == "none in either span"
    assert any("different months of the year" in n for n in result.notes)
    a_year_apart = pd.concat([frame, frame.assign(month=pd.Timestamp("2023-01-01"))])
    same = compare_periods(a_year_apart, three_cells(), before=("2023-01", "2023-01"),
                           after=("2024-01", "2024-01"))  # fmt: skip
    assert not any("months of the year" in n for n in same.notes)
    weighted = compare_periods(frame.assign(weight=2.0), three_cells(), weights="weight", **span)  # type: ignore[arg-type]
    assert weighted.cells["change_p"].isna().all()
    assert any("no interval" in n for n in weighted.notes)


def test_emerging_hotspots_names_missing_months() -> None:
    rows = [
        (50 + 100 * (i % 3), 50, f"2024-{m:02d}") for m in range(1, 13) if m != 5 for i in range(9)
    ]
    out = emerging_hotspots(incidents(rows), three_cells(), period_months=2)
    assert any("2024-05" in n and "missing" in n for n in out.notes)


def test_a_missing_month_does_not_make_a_trend() -> None:
    """The same 3 incidents a month in cell 0 and 1 in cell 2 for 12 months but May: scaled
    to a full period, the period holding May counts 6 in cell 0 like the others, so there is
    no count trend, and ``incidents`` still counts what was read."""
    rows = [(x, 50.0, f"2024-{m:02d}") for m in range(1, 13) if m != 5 for x in (50, 50, 50, 250)]
    out = emerging_hotspots(incidents(rows), three_cells(), period_months=2, fdr=False).cells
    assert out["incidents"].tolist() == [33.0, 0.0, 11.0]
    assert (out["count_trend_z"] == 0).all()
    assert out["count_trend"].str.startswith("no clear trend").all()


def test_harm_weighted_emerging_counts_incidents_and_gives_harm_beside_them() -> None:
    """Weighted by harm, ``incidents`` is the count (as Gi*'s), and ``harm`` the weights'
    sum (the column held harm under the name incidents)."""
    rows = [(x, 50.0, f"2024-{m:02d}") for m in range(1, 13) for x in (50, 50, 50, 250)]
    frame = incidents(rows).assign(weight=2.5)
    out = emerging_hotspots(frame, three_cells(), period_months=2, weights="weight").cells
    assert out["incidents"].tolist() == [36.0, 0.0, 12.0]
    assert out["harm"].tolist() == [90.0, 0.0, 30.0]
    plain = emerging_hotspots(frame, three_cells(), period_months=2).cells
    assert plain["incidents"].tolist() == [36.0, 0.0, 12.0] and "harm" not in plain.columns


def test_a_period_of_missing_months_only_is_refused_not_counted_as_none() -> None:
    """One-month periods with May missing: May's period holds no data, and its cells would be
    zeros in the Gi* series and the trend (breaking every run of hot periods). Refused."""
    rows = [(x, 50.0, f"2024-{m:02d}") for m in range(1, 13) if m != 5 for x in (50, 50, 250)]
    with pytest.raises(InputError, match=r"2024-05\.\.2024-05 hold only months missing"):
        emerging_hotspots(incidents(rows), three_cells(), period_months=1, fdr=False)


def test_compare_periods_errors_and_overlap_refused() -> None:
    frame = incidents([(50, 50, "2024-01")])
    with pytest.raises(ParameterError, match="before"):
        compare_periods(
            frame, three_cells(), before=("2024-03", "2024-01"), after=("2024-04", "2024-05")
        )
    with pytest.raises(ParameterError, match="after"):
        compare_periods(frame, three_cells(), before=("2024-01", "2024-01"), after="2024-04")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="before"):
        compare_periods(
            frame, three_cells(), before=("soon", "2024-01"), after=("2024-04", "2024-05")
        )
    with pytest.raises(ParameterError, match=r"share months; choose periods that do not"):
        compare_periods(
            incidents([(50, 50, "2024-01"), (50, 50, "2024-04")]),
            three_cells(),
            before=("2024-01", "2024-03"),
            after=("2024-03", "2024-05"),
        )


# --------------------------------------------------------------------------- Mann-Kendall


def test_mann_kendall_hand_example_without_ties() -> None:
    """[1, 2, 3, 4, 5]: S = 10, var = 5*4*15/18 = 16.667, z = 9/sqrt(16.667) = 2.2045,
    p = 0.0275."""
    r = mann_kendall([1, 2, 3, 4, 5])
    assert r.s[0] == 10
    assert r.var[0] == pytest.approx(50 / 3)
    assert r.z[0] == pytest.approx(9 / math.sqrt(50 / 3))
    assert r.z[0] == pytest.approx(2.2045, abs=1e-4)
    assert r.p[0] == pytest.approx(0.0275, abs=1e-4)


def test_mann_kendall_hand_example_with_ties() -> None:
    """[3, 1, 3, 3, 2, 5]: signs by first element: 3 -> -1, 1 -> +4, 3 -> 0, 3 -> 0, 2 -> +1,
    so S = 4; ties: one group of three 3s, var = (6*5*17 - 3*2*11)/18 = (510 - 66)/18 = 24.667;
    z = (4 - 1)/sqrt(24.667) = 0.6040."""
    r = mann_kendall([3, 1, 3, 3, 2, 5])
    assert r.s[0] == 4
    assert r.var[0] == pytest.approx(444 / 18)
    assert r.z[0] == pytest.approx(3 / math.sqrt(444 / 18))
    assert r.z[0] == pytest.approx(0.6040, abs=1e-4)
    flat = mann_kendall([[2, 2, 2, 2], [4, 3, 2, 1]])
    assert flat.z[0] == 0 and flat.p[0] == 1
    assert flat.s[1] == -6 and flat.z[1] < 0


@given(st.lists(st.integers(0, 6), min_size=3, max_size=25))
def test_mann_kendall_invariants(series: list[int]) -> None:
    """Reversing the series negates S and z; without the continuity correction, the p-value is
    scipy's Kendall tau-b test of the series against time."""
    x = np.array(series, dtype=float)
    forward, backward = mann_kendall(x), mann_kendall(x[::-1])
    assert backward.s[0] == -forward.s[0]
    assert backward.z[0] == pytest.approx(-forward.z[0])
    if forward.var[0] > 0 and len(set(series)) > 1:
        z_plain = forward.s[0] / math.sqrt(forward.var[0])
        expected = kendalltau(np.arange(len(x)), x, method="asymptotic").pvalue
        assert 2 * (1 - 0.5 * (1 + math.erf(abs(z_plain) / math.sqrt(2)))) == pytest.approx(
            expected, rel=1e-9, abs=1e-12
        )


# --------------------------------------------------------------------------- two counts


@settings(deadline=None)
@given(st.integers(0, 300), st.integers(0, 300))
def test_compare_counts_is_scipys_exact_binomial_test(before: int, after: int) -> None:
    """Equal spans: the p-value is scipy's exact binomial test of after out of the total at
    1/2, the interval scipy's Clopper-Pearson interval turned into a rate ratio; the test and
    the interval agree on whether there is a change."""
    r = compare_counts(before, after)
    n = before + after
    if n == 0:
        assert r.p[0] == 1 and math.isnan(r.low[0])
        return
    test = binomtest(after, n)
    ci = test.proportion_ci(0.95, method="exact")
    assert r.p[0] == pytest.approx(test.pvalue, rel=1e-6, abs=1e-12)
    assert r.low[0] == pytest.approx(ci.low / (1 - ci.low) - 1, rel=1e-6, abs=1e-9)
    if ci.high < 1:
        assert r.high[0] == pytest.approx(ci.high / (1 - ci.high) - 1, rel=1e-6)
    else:
        assert math.isinf(r.high[0])
    holds_zero = r.low[0] <= 0 <= r.high[0]
    assert holds_zero == (r.p[0] > 0.05) or r.p[0] == pytest.approx(0.05, abs=1e-9)


def test_compare_counts_by_hand() -> None:
    """21 -> 34 in equal spans is +62% with p = 0.105 (the audit's figure); 10 in 2 months
    then 10 in 1 month doubles the monthly rate; a new place has an infinite change."""
    r = compare_counts([21, 10, 0, 0], [34, 10, 8, 0], before_months=1, after_months=1)
    assert r.change[0] == pytest.approx(13 / 21) and r.p[0] == pytest.approx(0.1048, abs=1e-4)
    assert r.low[0] < 0 < r.high[0]
    assert math.isinf(r.change[2]) and r.low[2] > 0 and math.isnan(r.change[3])
    rate = compare_counts(10, 10, before_months=2, after_months=1)
    assert rate.change[0] == pytest.approx(1.0)
    # 10 of 20 incidents fall in the 1-month span when it has a third of the time: p is
    # twice P(X >= 10) for X ~ Binomial(20, 1/3).
    assert rate.p[0] == pytest.approx(2 * binom.sf(9, 20, 1 / 3))
    with pytest.raises(ParameterError, match="counts"):
        compare_counts([-1], [2])


@pytest.mark.parametrize(
    ("change", "low", "high", "text"),
    [
        (0.619, -0.087, 1.936, "no clear change (+62%; 95% interval −9% to +194%)"),
        (-0.30, -0.468, -0.0005, "down 30% (95% interval −47% to −0.05%)"),
        (0.5, 0.004, 1.2, "up 50% (95% interval +0.4% to +120%)"),
        (float("inf"), 0.3, float("inf"), "new: none before (95% interval +30% to +∞)"),
    ],
)
def test_change_words(change: float, low: float, high: float, text: str) -> None:
    assert change_words(change, low, high) == text


@settings(deadline=None)
@given(st.floats(-0.999, -1e-4), st.floats(1e-4, 5))
def test_an_interval_off_zero_never_prints_as_zero(low: float, high: float) -> None:
    """Whichever side of zero an interval lies, neither endpoint is printed as 0% or with
    the other sign."""
    for lo, hi in ((low, low / 2), (high / 2, high)):
        text = percent_interval(lo, hi)
        first, second = text.split(" to ")
        assert first[0] == second[0] == ("−" if lo < 0 else "+")
        assert not any(part.strip("+−%0.,") == "" for part in (first, second))


def test_seasonal_note() -> None:
    jan, jun = 2024 * 12, 2024 * 12 + 5
    assert seasonal_note((jan, jun), (jan + 12, jun + 12)) is None
    assert "different months of the year" in str(seasonal_note((jan, jun), (jun + 1, jun + 6)))


# --------------------------------------------------------------------------- patterns

N = [False] * 10


def series(text: str) -> tuple[list[bool], list[bool]]:
    """'H' hot, 'C' cold, '.' neither, oldest first."""
    return [c == "H" for c in text], [c == "C" for c in text]


# One hand-built series per pattern and the final-step rules (ArcGIS Pro 3.x definitions).
# 10 periods: "mostly" = at least 9 of them.
@pytest.mark.parametrize(
    ("text", "trend_z", "trend_p", "expected"),
    [
        (".........H", 0.5, 0.6, "new hot spot"),
        ("C........H", 0.5, 0.6, "new hot spot"),  # new comes before oscillating in Esri's table
        (".......HHH", 2.0, 0.04, "consecutive hot spot"),
        ("...C...HHH", 2.0, 0.04, "consecutive hot spot"),
        ("HHHHHHHHHH", 3.0, 0.001, "intensifying hot spot"),
        (".HHHHHHHHH", 3.0, 0.001, "intensifying hot spot"),  # 9 of 10 is 90%
        (".HHHHHHHHH", 0.4, 0.7, "persistent hot spot"),
        ("HHHHHHHHHH", 1.5, 0.13, "persistent hot spot"),  # trend not significant
        ("HHHHHHHHHH", -2.5, 0.01, "diminishing hot spot"),
        ("HHHHHHHHH.", -1.0, 0.3, "historical hot spot"),
        ("HHHHHHHHH.", -3.0, 0.001, "historical hot spot"),  # trend does not matter
        ("H.H..H...H", 0.2, 0.8, "sporadic hot spot"),
        ("H......HHH", 0.2, 0.8, "sporadic hot spot"),  # hot before the final run
        ("HH.C...H.H", 0.2, 0.8, "oscillating hot spot"),
        ("C.......HH", 0.2, 0.8, "consecutive hot spot"),
        ("C.H.....HH", 0.2, 0.8, "oscillating hot spot"),
        # The final-step rules: sporadic and oscillating need the final step hot.
        ("H.H..H....", 0.2, 0.8, "no pattern"),
        ("....H.....", 0.2, 0.8, "no pattern"),
        ("H.........", 0.2, 0.8, "no pattern"),
        ("HH.C...H..", 0.2, 0.8, "no pattern"),
        ("HHHHHHHH..", -1.0, 0.3, "no pattern"),  # 8 of 10: not mostly, not hot now
        ("HHHHHHHHH.", 0.0, 1.0, "historical hot spot"),
        ("..........", 0.0, 1.0, "no pattern"),
        ("HHHC......", 0.0, 1.0, "no pattern"),
        (".........C", -0.5, 0.6, "new cold spot"),
        ("......CCCC", 0.0, 1.0, "consecutive cold spot"),
        ("..H.....CC", 0.0, 1.0, "consecutive cold spot"),  # hot history does not matter
        ("CCCCCCCCCC", -3.0, 0.001, "intensifying cold spot"),  # z falling: colder
        ("CCCCCCCCCC", 0.0, 1.0, "persistent cold spot"),
        ("CCCCCCCCCC", 3.0, 0.001, "diminishing cold spot"),
        ("CCCCCCCCC.", 0.0, 1.0, "historical cold spot"),
        ("C..C.C...C", 0.0, 1.0, "sporadic cold spot"),
        ("C..C.C....", 0.0, 1.0, "no pattern"),
        ("C.H.C...CC", 0.0, 1.0, "oscillating cold spot"),
    ],
)
def test_classify_pattern_rule_table(
    text: str, trend_z: float, trend_p: float, expected: str
) -> None:
    hot, cold = series(text)
    assert classify_pattern(hot, cold, trend_z=trend_z, trend_p=trend_p) == expected
    assert expected in PATTERNS


def test_every_pattern_has_a_worked_example() -> None:
    """The table above holds one hand-built series for each of the 17 patterns."""
    seen = {
        classify_pattern(*series(text), trend_z=z, trend_p=p)
        for text, z, p in [
            (".........H", 0, 1), (".......HHH", 0, 1), ("HHHHHHHHHH", 3, 0.001),
            ("HHHHHHHHHH", 0, 1), ("HHHHHHHHHH", -3, 0.001), ("H.H..H...H", 0, 1),
            ("HH.C...H.H", 0, 1), ("HHHHHHHHH.", 0, 1), (".........C", 0, 1),
            ("......CCCC", 0, 1), ("CCCCCCCCCC", -3, 0.001), ("CCCCCCCCCC", 0, 1),
            ("CCCCCCCCCC", 3, 0.001), ("C..C.C...C", 0, 1), ("C.H.C...CC", 0, 1),
            ("CCCCCCCCC.", 0, 1), ("..........", 0, 1),
        ]
    }  # fmt: skip
    assert seen == set(PATTERNS)


@settings(deadline=None)
@given(st.text(alphabet="HC.", min_size=1, max_size=20), st.floats(-4, 4), st.floats(0, 1))
def test_only_historical_or_no_pattern_when_the_final_step_is_not_significant(
    text: str, trend_z: float, trend_p: float
) -> None:
    """Every pattern but historical needs the cell significant in the final step, on its side."""
    got = classify_pattern(*series(text), trend_z=trend_z, trend_p=trend_p)
    if text[-1] == ".":
        assert got.startswith("historical") or got == "no pattern"
    elif text[-1] == "H":
        assert got.endswith("hot spot")
    else:
        assert got.endswith("cold spot")


def test_classify_pattern_errors() -> None:
    with pytest.raises(ParameterError, match="equally long"):
        classify_pattern([True], [True, False], trend_z=0.0, trend_p=1.0)
    with pytest.raises(ParameterError, match="both hot and cold"):
        classify_pattern([True], [True], trend_z=0.0, trend_p=1.0)


# --------------------------------------------------------------------------- emerging


def block(row: int, col: int, extra: int, month: str) -> list[tuple[float, float, str]]:
    """``extra`` incidents in each of the 3 x 3 cells of 100 m around (row, col)."""
    cells = [
        (c * 100 + 50.0, r * 100 + 50.0)
        for r in range(row - 1, row + 2)
        for c in range(col - 1, col + 2)
    ]
    return [(x, y, month) for x, y in cells] * extra


def planted_series(kind: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """An 11 x 11 grid of 100 m cells over 12 months (period_months=1): 1-3 incidents a month in
    every cell (a fixed pattern), plus planted 3 x 3 blocks of extra incidents per cell:

    * ``"fixed"``: (2, 2) +6 every month (persistent); (2, 8) +12 in the last month only (new);
      (8, 5) +6 every month but the last (historical);
    * ``"trend"``: (2, 2) +6 every month; (5, 8) +16, +18, ..., +38 (growing: intensifying);
    * ``"fade"``: the same with (5, 8) shrinking +28, ..., +6 (diminishing).
    """
    rows: list[tuple[float, float, str]] = []
    for k in range(12):
        month = f"2024-{k + 1:02d}"
        for r in range(11):
            for c in range(11):
                rows += [(c * 100 + 50.0, r * 100 + 50.0, month)] * (1 + (r * 7 + c * 3 + k) % 3)
        rows += block(2, 2, 6, month)
        if kind == "fixed":
            rows += block(2, 8, 12, month) if k == 11 else block(8, 5, 6, month)
        elif kind == "trend":
            rows += block(5, 8, 16 + 2 * k, month)
        else:
            rows += block(5, 8, 16 + 2 * (11 - k), month)
    cells = grid_cells(shapely.box(0, 0, 1100, 1100), cell_size=100.0, crs=BNG)
    return incidents(rows), cells


def test_emerging_hotspots_recovers_planted_patterns() -> None:
    frame, cells = planted_series("fixed")
    result = emerging_hotspots(frame, cells, period_months=1)
    out = result.cells
    at = out.set_index(["row", "col"])
    assert at.loc[(2, 2), "pattern"] == "persistent hot spot"
    assert at.loc[(2, 2), "series"] == "H" * 12
    assert at.loc[(2, 8), "pattern"] == "new hot spot"
    assert at.loc[(2, 8), "series"] == "." * 11 + "H"
    assert at.loc[(8, 5), "pattern"] == "historical hot spot"
    assert at.loc[(8, 5), "series"] == "H" * 11 + "."
    assert at.loc[(5, 5), "pattern"] == "no pattern"
    assert result.periods[0] == "2024-01..2024-01" and len(result.periods) == 12
    assert result.z.shape == (121, 12)
    assert set(out["pattern"]) <= set(PATTERNS)
    assert out["incidents"].sum() == len(frame)
    assert list(out.columns[-12:]) == [
        "incidents",
        "hot_periods",
        "cold_periods",
        "series",
        "last_z",
        "trend_z",
        "trend_p",
        "count_trend_z",
        "count_trend_p",
        "count_trend",
        "pattern",
        "geometry",
    ]


@pytest.mark.parametrize("window", ["entire", "each"])
@pytest.mark.parametrize(("kind", "pattern"), [("trend", "intensifying"), ("fade", "diminishing")])
def test_emerging_hotspots_trends(kind: str, pattern: str, window: Window) -> None:
    """A block growing (shrinking) beside a constant one: hot every month, its Gi* z-score
    rising (falling) significantly, and its counts too, with either global window."""
    frame, cells = planted_series(kind)
    out = emerging_hotspots(frame, cells, period_months=1, window=window)
    out = out.cells.set_index(["row", "col"])
    cell = out.loc[(5, 8)]
    assert cell["series"] == "H" * 12
    assert cell["pattern"] == f"{pattern} hot spot"
    assert cell["trend_p"] < 0.05 and cell["count_trend_p"] < 0.001
    assert (
        np.sign(cell["trend_z"]) == np.sign(cell["count_trend_z"]) == (1 if kind == "trend" else -1)
    )
    assert cell["count_trend"] == ("rising" if kind == "trend" else "falling") + " (p < 0.001)"


def test_global_window_entire_cube_by_hand() -> None:
    """Three cells in a row over two one-month periods, counts (4, 0, 0) then (8, 2, 0). The
    whole cube: n = 6 bins, mean 14 / 6, s² = 84 / 6 - (14 / 6)²; cell 0 in period 2 with its
    neighbour cell 1: (8 + 2 - 2 * 14 / 6) / (s * sqrt((6 * 2 - 2²) / 5)). Each period alone:
    period 2 has mean 10 / 3, s² = 68 / 3 - (10 / 3)², n = 3."""
    rows = [(50.0, 50.0, "2024-01")] * 4 + [(50.0, 50.0, "2024-02")] * 8
    rows += [(150.0, 50.0, "2024-02")] * 2
    frame = incidents(rows)
    mean, n = 14 / 6, 6
    s = math.sqrt(84 / 6 - mean**2)
    expected = (10 - 2 * mean) / (s * math.sqrt((n * 2 - 4) / (n - 1)))
    entire = emerging_hotspots(frame, three_cells(), period_months=1, fdr=False)
    assert entire.z[0, 1] == pytest.approx(expected)
    assert any("whole space-time cube" in note for note in entire.notes)
    each = emerging_hotspots(frame, three_cells(), period_months=1, fdr=False, window="each")
    mean, n = 10 / 3, 3
    s = math.sqrt(68 / 3 - mean**2)
    assert each.z[0, 1] == pytest.approx((10 - 2 * mean) / (s * math.sqrt((n * 2 - 4) / (n - 1))))
    assert any("same period only" in note for note in each.notes)


def test_clipped_cells_are_left_out_of_emerging() -> None:
    """The planted 11 x 11 grid cut at x = 1030: the last column keeps 30% of each cell and
    is left out (pattern LEFT_OUT, no z-scores; incidents still counted); the planted
    persistent block keeps its pattern."""
    frame, _ = planted_series("fixed")
    cut = grid_cells(shapely.box(0, 0, 1030, 1100), cell_size=100.0, crs=BNG)
    result = emerging_hotspots(frame, cut, period_months=1, min_area=5000.0)
    out = result.cells.set_index(["row", "col"])
    left = result.cells[result.cells["pattern"] == LEFT_OUT]
    assert len(left) == 11 and left["col"].eq(10).all()
    assert np.isnan(result.z[left.index]).all()
    assert result.cells["incidents"].sum() == (frame.geometry.x < 1030).sum()
    assert out.loc[(2, 2), "pattern"] == "persistent hot spot"
    assert any("11 edge cells clipped" in n for n in result.notes)


def test_each_period_window_makes_a_steady_cell_emerge() -> None:
    """A block with the same counts every month beside a block that fades: standardised period
    by period ("each") the steady block looks like a new run of hot spots as the other fades;
    against the whole cube ("entire", the default) it has no pattern, as its counts say."""
    frame, cells = planted_series("fade")
    each = emerging_hotspots(frame, cells, period_months=1, window="each").cells
    entire = emerging_hotspots(frame, cells, period_months=1).cells
    steady = each.set_index(["row", "col"]).loc[(2, 2)]
    assert steady["pattern"] == "consecutive hot spot"
    assert steady["count_trend"].startswith("no clear trend")
    assert entire.set_index(["row", "col"]).loc[(2, 2), "pattern"] == "no pattern"
    with pytest.raises(ParameterError, match="window") as err:
        emerging_hotspots(frame, cells, period_months=1, window="cube")  # type: ignore[arg-type]
    assert err.value.argument == "window"


def test_periods_end_on_the_last_month() -> None:
    """Ten months in periods of 3: Feb-Apr, May-Jul, Aug-Oct; January is left out."""
    rows = [(50.0, 50.0, f"2024-{m:02d}") for m in range(1, 11)]
    result = emerging_hotspots(incidents(rows), three_cells(), period_months=3)
    assert result.periods == ["2024-02..2024-04", "2024-05..2024-07", "2024-08..2024-10"]
    assert result.cells["incidents"].sum() == 9
    assert any("left out" in n for n in result.notes)
    assert any("only 3 periods" in n for n in result.notes)


def test_emerging_hotspots_errors() -> None:
    frame = incidents([(50.0, 50.0, "2024-01"), (50.0, 50.0, "2024-02")])
    with pytest.raises(InputError, match="period_months"):
        emerging_hotspots(frame, three_cells(), period_months=3)
    with pytest.raises(ParameterError, match="period_months"):
        emerging_hotspots(frame, three_cells(), period_months=0)
    with pytest.raises(ParameterError, match="alpha"):
        emerging_hotspots(frame, three_cells(), period_months=1, alpha=1.5)
    with pytest.raises(InputError, match="at least 3"):
        emerging_hotspots(frame, three_cells().iloc[:2], period_months=1)


# --------------------------------------------------------------------------- demo borough


def test_demo_borough_corridor_fall() -> None:
    """The bundled demo borough has a 35% fall in violence planted along St James Street (50 m
    either side). compare_periods on that strip reproduces the generator's observed monthly
    rates (truth.json), and emerging_hotspots on 250 m cells calls the cells on the street
    "diminishing hot spot"."""
    import json

    from geodata import SAMPLE_DIR, load_sample_incidents

    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())["corridor"]
    frame, _ = load_sample_incidents()
    line = gpd.GeoSeries([shapely.LineString(truth["line_lonlat"])], crs=4326).to_crs(BNG)
    strip = gpd.GeoDataFrame(geometry=line.buffer(truth["width_m"]), crs=BNG)
    violence = frame[frame["category"].isin(truth["violence_types"])]
    periods = truth["periods"]
    out = compare_periods(
        violence, strip, before=tuple(periods["before"]), after=tuple(periods["after"])
    ).cells
    observed = truth["observed"]["corridor"]
    assert out["before_per_month"].iloc[0] == pytest.approx(
        observed["violence_per_month_before"], abs=0.01
    )
    assert out["after_per_month"].iloc[0] == pytest.approx(
        observed["violence_per_month_after"], abs=0.01
    )
    assert -40 < out["rate_change_pct"].iloc[0] < -30

    borough = gpd.read_file(SAMPLE_DIR / "demo_borough.geojson")
    cells = grid_cells(borough.to_crs(BNG), cell_size=250.0)
    patterns = emerging_hotspots(frame, cells, period_months=3).cells
    street = line.iloc[0]
    stops = [street.interpolate(share, normalized=True) for share in (0.2, 0.5, 0.8)]
    on_street = patterns[[any(cell.contains(p) for p in stops) for cell in patterns.geometry]]
    assert len(on_street) >= 2
    assert (on_street["pattern"] == "diminishing hot spot").all()
