"""Tests for hotspots.evaluate: pilot evaluation (RES, WDQ) and forecast scores (PAI, RRI, PEI)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from hotspots.errors import InputError, ParameterError
from hotspots.evaluate import (
    FORECAST_COLUMNS,
    SMALL_COUNT,
    evaluate_forecast,
    evaluate_pilot,
    interpret_wdq,
    monthly_dispersion,
    relative_effect,
    weighted_displacement_quotient,
)

CRS = "EPSG:27700"
Z95 = 1.959963984540054

# --- formulas, by hand -----------------------------------------------------------------------


def test_relative_effect_by_hand() -> None:
    """RES = (Tb*Ca)/(Ta*Cb); var(ln RES) = 1/Tb + 1/Ta + 1/Cb + 1/Ca."""
    res, low, high = relative_effect(100, 50, 1000, 1000)
    assert res == pytest.approx(2.0)
    se = math.sqrt(1 / 100 + 1 / 50 + 1 / 1000 + 1 / 1000)  # 0.17889
    assert low == pytest.approx(2.0 * math.exp(-Z95 * se))  # 1.409
    assert high == pytest.approx(2.0 * math.exp(Z95 * se))  # 2.840
    assert (round(low, 3), round(high, 3)) == (1.409, 2.84)


def test_relative_effect_variance_inflation_widens() -> None:
    _, low1, high1 = relative_effect(100, 50, 1000, 1000)
    _, low2, high2 = relative_effect(100, 50, 1000, 1000, variance_inflation=4.0)
    se = math.sqrt(4 * (1 / 100 + 1 / 50 + 2 / 1000))
    assert low2 == pytest.approx(2.0 * math.exp(-Z95 * se))
    assert low2 < low1 and high2 > high1


def test_relative_effect_zero_count_is_nan() -> None:
    assert all(math.isnan(v) for v in relative_effect(10, 0, 100, 100))


def test_relative_effect_rejects_negative() -> None:
    with pytest.raises(ParameterError, match="counts"):
        relative_effect(-1, 2, 3, 4)


def test_wdq_worked_example_some_displacement() -> None:
    """Bowers & Johnson (2003): WDQ = (Da/Ca - Db/Cb) / (Ta/Ca - Tb/Cb).

    Target 100 -> 60, buffer 50 -> 55, control 1000 -> 1000:
    success = 60/1000 - 100/1000 = -0.04; displacement = 55/1000 - 50/1000 = 0.005;
    WDQ = 0.005 / -0.04 = -0.125: some displacement, less than the benefit.
    """
    wdq, success, disp = weighted_displacement_quotient(100, 60, 50, 55, 1000, 1000)
    assert success == pytest.approx(-0.04)
    assert disp == pytest.approx(0.005)
    assert wdq == pytest.approx(-0.125)
    assert interpret_wdq(wdq, success).startswith("some displacement")


def test_wdq_worked_example_unequal_control() -> None:
    """Control 2000 -> 1600 (a general fall): target 200 -> 100, buffer 80 -> 80.

    success = 100/1600 - 200/2000 = 0.0625 - 0.1 = -0.0375;
    displacement = 80/1600 - 80/2000 = 0.05 - 0.04 = 0.01; WDQ = 0.01 / -0.0375 = -0.2667.
    """
    wdq, success, disp = weighted_displacement_quotient(200, 100, 80, 80, 2000, 1600)
    assert success == pytest.approx(-0.0375)
    assert disp == pytest.approx(0.01)
    assert wdq == pytest.approx(-0.26667, abs=1e-5)


@pytest.mark.parametrize(
    ("counts", "wdq", "band"),
    [
        # target 100 -> 50, buffer 50 -> 40: success -0.05, disp -0.01, WDQ 0.2
        ((100, 50, 50, 40, 1000, 1000), 0.2, "some diffusion of benefit"),
        # target 100 -> 90, buffer 50 -> 20: success -0.01, disp -0.03, WDQ 3
        ((100, 90, 50, 20, 1000, 1000), 3.0, "diffusion of benefit into the buffer, larger"),
        # target 100 -> 90, buffer 50 -> 80: success -0.01, disp 0.03, WDQ -3
        ((100, 90, 50, 80, 1000, 1000), -3.0, "displacement into the buffer larger"),
        # target 100 -> 50, buffer 50 -> 50: WDQ 0
        ((100, 50, 50, 50, 1000, 1000), 0.0, "no displacement and no diffusion"),
    ],
)
def test_wdq_bands(counts: tuple[int, ...], wdq: float, band: str) -> None:
    got, success, _ = weighted_displacement_quotient(*counts)
    assert got == pytest.approx(wdq)
    assert interpret_wdq(got, success).startswith(band)


def test_wdq_not_interpreted_without_success() -> None:
    wdq, success, _ = weighted_displacement_quotient(100, 120, 50, 40, 1000, 1000)
    assert success > 0
    assert interpret_wdq(wdq, success).startswith("not interpretable")


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(2, 50),
)
def test_relative_effect_invariants(tb: int, ta: int, cb: int, ca: int, k: int) -> None:
    """The CI holds the estimate; swapping target and control inverts it; scaling the control
    changes nothing but the interval."""
    res, low, high = relative_effect(tb, ta, cb, ca)
    assert low < res < high
    inv, ilow, ihigh = relative_effect(cb, ca, tb, ta)
    assert inv == pytest.approx(1 / res)
    assert ilow == pytest.approx(1 / high) and ihigh == pytest.approx(1 / low)
    scaled, slow, shigh = relative_effect(tb, ta, k * cb, k * ca)
    assert scaled == pytest.approx(res)
    assert slow >= low - 1e-12 and shigh <= high + 1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 500),
    st.integers(1, 500),
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(2, 20),
)
def test_wdq_ignores_scale_of_counts(
    tb: int, ta: int, bb: int, ba: int, cb: int, ca: int, k: int
) -> None:
    """Multiplying every count by k leaves the WDQ unchanged (it is a ratio of rates)."""
    wdq, success, _ = weighted_displacement_quotient(tb, ta, bb, ba, cb, ca)
    wdq_k, success_k, _ = weighted_displacement_quotient(
        k * tb, k * ta, k * bb, k * ba, k * cb, k * ca
    )
    assert success_k == pytest.approx(success)
    if math.isfinite(wdq):
        assert wdq_k == pytest.approx(wdq, rel=1e-9, abs=1e-12)


# --- evaluate_pilot on hand-made data -------------------------------------------------------


def _row(table: pd.DataFrame, zone: str) -> list[int]:
    """One zone's counts (before, during, after) as plain ints."""
    return [int(v) for v in table.to_numpy()[list(table.index).index(zone)]]


def _frame(
    rows: list[tuple[float, float, str, int]], category: str = "Robbery"
) -> gpd.GeoDataFrame:
    """Incidents from (x, y, month, how many) rows."""
    xs, ys, months = [], [], []
    for x, y, month, n in rows:
        xs += [x] * n
        ys += [y] * n
        months += [month] * n
    return gpd.GeoDataFrame(
        {
            "incident_id": pd.Series([f"row-{i}" for i in range(len(xs))], dtype="str"),
            "month": pd.to_datetime([f"{m}-01" for m in months]),
            "category": pd.Series([category] * len(xs), dtype="str"),
            "weight": np.ones(len(xs)),
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=CRS,
    )


TARGET = box(0, 0, 100, 100)  # target at the origin
CONTROL = box(2000, 0, 2100, 100)  # a separate control square


@pytest.fixture
def pilot_frame() -> gpd.GeoDataFrame:
    """Two months before (Jan, Feb), one during (Mar), two after (Apr, May).

    Target (50, 50): 30 + 30 before, 10 during, 20 + 20 after (60 -> 40).
    Buffer (150, 50), 100 m ring: 10 + 10 before, 5 during, 12 + 12 after (20 -> 24).
    Control (2050, 50): 100 + 100 before, 100 during, 100 + 100 after (200 -> 200).
    Outside everything (5000, 5000): 7 a month, never counted.
    """
    rows: list[tuple[float, float, str, int]] = []
    for month, t, b, c in [
        ("2024-01", 30, 10, 100),
        ("2024-02", 30, 10, 100),
        ("2024-03", 10, 5, 100),
        ("2024-04", 20, 12, 100),
        ("2024-05", 20, 12, 100),
    ]:
        rows += [(50, 50, month, t), (150, 50, month, b), (2050, 50, month, c)]
        rows += [(5000, 5000, month, 7)]
    return _frame(rows)


def test_pilot_counts_and_effect_by_hand(pilot_frame: gpd.GeoDataFrame) -> None:
    before = pilot_frame.copy()
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    pd.testing.assert_frame_equal(pilot_frame, before)  # not mutated
    assert _row(res.counts, "target") == [60, 10, 40]
    assert _row(res.counts, "buffer") == [20, 5, 24]
    assert _row(res.counts, "control") == [200, 100, 200]
    assert res.months == {
        "before": ("2024-01", "2024-02", 2),
        "during": ("2024-03", "2024-03", 1),
        "after": ("2024-04", "2024-05", 2),
    }
    assert res.pct_change["target"] == pytest.approx(-100 / 3)
    assert res.pct_change["buffer"] == pytest.approx(20.0)
    assert res.pct_change["control"] == pytest.approx(0.0)
    # RES = (60 * 200) / (40 * 200) = 1.5; relative change 1/1.5 - 1 = -33.3%
    assert res.relative_effect == pytest.approx(1.5)
    se = math.sqrt(1 / 60 + 1 / 40 + 1 / 200 + 1 / 200)
    assert res.ci_low == pytest.approx(1.5 * math.exp(-Z95 * se))
    assert res.ci_high == pytest.approx(1.5 * math.exp(Z95 * se))
    assert res.relative_change_pct == pytest.approx(-100 / 3)
    # WDQ = (24/200 - 20/200) / (40/200 - 60/200) = 0.02 / -0.1 = -0.2
    assert res.success_measure == pytest.approx(-0.1)
    assert res.displacement_measure == pytest.approx(0.02)
    assert res.wdq == pytest.approx(-0.2)
    assert res.wdq_interpretation.startswith("some displacement")
    # buffer against control: (20 * 200) / (24 * 200) -> +20% relative change
    assert res.buffer_change_pct == pytest.approx(20.0)
    # CI 0.96 .. 2.34: a third fewer, but 60 -> 40 is too few to exclude no change
    assert (round(res.ci_low, 2), round(res.ci_high, 2)) == (0.96, 2.34)
    assert not res.significant


def test_pilot_monthly_series(pilot_frame: gpd.GeoDataFrame) -> None:
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    m = res.monthly
    assert list(m.columns) == ["month", "period", "target", "buffer", "control"]
    assert m["month"].dt.strftime("%Y-%m").tolist() == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
    ]
    assert m["period"].tolist() == ["before", "before", "during", "after", "after"]
    assert m["target"].tolist() == [30, 30, 10, 20, 20]
    assert m["buffer"].tolist() == [10, 10, 5, 12, 12]
    assert m["control"].tolist() == [100] * 5
    assert res.geometries["zone"].tolist() == ["target", "buffer", "control"]


def test_pilot_before_after_months_limit_periods(pilot_frame: gpd.GeoDataFrame) -> None:
    res = evaluate_pilot(
        pilot_frame,
        target=TARGET,
        start="2024-03",
        end="2024-03",
        buffer_m=100,
        control=CONTROL,
        before_months=1,
        after_months=1,
    )
    assert _row(res.counts, "target") == [30, 10, 20]
    assert res.months["before"] == ("2024-02", "2024-02", 1)
    assert res.monthly["period"].tolist() == ["before", "during", "after"]


def test_pilot_default_control_is_hull_minus_target_and_buffer(
    pilot_frame: gpd.GeoDataFrame,
) -> None:
    """Without control=, everything in the incidents' hull outside target+buffer is control:
    the control square and the far point at (5000, 5000) (7 a month)."""
    res = evaluate_pilot(pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100)
    assert res.control_is_default
    assert _row(res.counts, "control") == [214, 107, 214]
    assert any("convex hull" in n for n in res.notes)
    assert any("rest of the study area" in s for s in res.summary())


def test_pilot_study_area_default_control(pilot_frame: gpd.GeoDataFrame) -> None:
    """With study_area=, the default control is it minus target and buffer: here only the
    control square's half x >= 2050 is inside, and its incidents sit at x = 2050."""
    res = evaluate_pilot(
        pilot_frame,
        target=TARGET,
        start="2024-03",
        end="2024-03",
        buffer_m=100,
        study_area=box(-500, -500, 2060, 500),
    )
    assert _row(res.counts, "control") == [200, 100, 200]
    assert any("the study area minus the target" in n for n in res.notes)


def test_pilot_given_control_overlapping_target_is_cut(pilot_frame: gpd.GeoDataFrame) -> None:
    """A control drawn over everything: target and buffer are cut out of it, so no incident
    counts twice."""
    res = evaluate_pilot(
        pilot_frame,
        target=TARGET,
        start="2024-03",
        end="2024-03",
        buffer_m=100,
        control=box(-100, -100, 2200, 200),
    )
    assert _row(res.counts, "target") == [60, 10, 40]
    assert _row(res.counts, "control") == [200, 100, 200]
    assert any("cut out of the control" in n for n in res.notes)


def test_pilot_rise_is_not_called_an_effect() -> None:
    """Target 100 -> 200 while the control stays at 1000: a significant rise, worded as such."""
    frame = _frame(
        [
            (50, 50, "2024-01", 100),
            (2050, 50, "2024-01", 1000),
            (2050, 50, "2024-02", 10),
            (50, 50, "2024-03", 200),
            (2050, 50, "2024-03", 1000),
        ]
    )
    res = evaluate_pilot(
        frame, target=TARGET, start="2024-02", end="2024-02", buffer_m=50, control=CONTROL
    )
    assert res.significant and res.relative_effect == pytest.approx(0.5)
    assert res.relative_change_pct == pytest.approx(100.0)
    text = " ".join(res.summary())
    assert "100% higher" in text
    assert "consistent with an effect" not in text
    assert "Crime rose in the target" in text
    assert res.wdq_interpretation.startswith("not interpretable")  # WDQ without a success
    assert "(2024-01 to 2024-01, 1 month)" in text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(-600, 600), st.integers(-600, 600), st.sampled_from(range(1, 6))),
        min_size=5,
        max_size=60,
    ),
    st.integers(0, 300),
)
def test_pilot_zones_partition_the_incidents(
    points: list[tuple[int, int, int]], buffer_m: int
) -> None:
    """With the default control (the hull of all incidents), every incident of the compared
    months is in exactly one zone, and the monthly series adds up to the period counts."""
    rows = [(float(x), float(y), f"2024-0{m}", 1) for x, y, m in points]
    rows += [
        (-700.0, -700.0, "2024-01", 1),
        (700.0, 700.0, "2024-05", 1),
        (-700.0, 700.0, "2024-03", 1),
    ]
    frame = _frame(rows)
    res = evaluate_pilot(
        frame, target=box(-100, -100, 100, 100), start="2024-03", end="2024-03", buffer_m=buffer_m
    )
    assert int(res.counts.to_numpy().sum()) == len(frame)
    for period in ("before", "during", "after"):
        in_period = res.monthly[res.monthly["period"] == period]
        assert [int(in_period[z].sum()) for z in ("target", "buffer", "control")] == [
            int(v) for v in res.counts[period]
        ]


def test_pilot_summary_wording(pilot_frame: gpd.GeoDataFrame) -> None:
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    text = " ".join(res.summary())
    assert "a change of -33%" in text
    assert "change in the target was -33% (95% confidence interval -57% to +4%)" in text
    assert "no evidence of a change beyond what the control area shows" in text
    assert "some displacement into the buffer" in text
    # every cell of the 2x2 table holds at least 20
    assert res.small_counts == []
    assert "Counts are small" not in text
    json.dumps(res.to_dict())  # JSON-ready


def test_pilot_summary_small_counts_and_ci_crossing_one() -> None:
    """Target 12 -> 10, control 100 -> 100: few incidents and a CI across 1."""
    frame = _frame(
        [
            (50, 50, "2024-01", 12),
            (2050, 50, "2024-01", 100),
            (2050, 50, "2024-02", 50),
            (50, 50, "2024-03", 10),
            (2050, 50, "2024-03", 100),
        ]
    )
    res = evaluate_pilot(
        frame, target=TARGET, start="2024-02", end="2024-02", buffer_m=50, control=CONTROL
    )
    assert not res.significant
    assert res.small_counts == ["target before", "target after"]
    text = " ".join(res.summary())
    assert "no evidence of a change beyond what the control area shows" in text
    assert f"fewer than {SMALL_COUNT}" in text
    assert "no incidents before or after" in text  # empty buffer


def test_pilot_without_control_says_so() -> None:
    """A control that lies wholly inside the buffer leaves no control area."""
    frame = _frame([(50, 50, "2024-01", 30), (50, 50, "2024-03", 20)])
    res = evaluate_pilot(
        frame,
        target=TARGET,
        start="2024-02",
        end="2024-02",
        buffer_m=100,
        control=box(110, 0, 150, 100),
    )
    assert not res.has_control
    assert math.isnan(res.relative_effect) and math.isnan(res.wdq)
    text = " ".join(res.summary())
    assert "There is no control area" in text
    assert "not evidence that the operation worked" in text


def test_pilot_categories_filter(pilot_frame: gpd.GeoDataFrame) -> None:
    other = _frame([(50, 50, "2024-01", 99), (50, 50, "2024-05", 1)], category="Shoplifting")
    both = pd.concat([pilot_frame, other], ignore_index=True)
    res = evaluate_pilot(
        both,
        target=TARGET,
        start="2024-03",
        end="2024-03",
        buffer_m=100,
        control=CONTROL,
        categories=["robbery"],
    )
    assert _row(res.counts, "target") == [60, 10, 40]
    assert res.categories == ["Robbery"]


def test_pilot_accepts_geodataframe_in_other_crs(pilot_frame: gpd.GeoDataFrame) -> None:
    """Moved to Walthamstow (inside the British grid) so the round trip through WGS84 is exact."""
    dx, dy = 537_000, 189_000
    moved = pilot_frame.copy()
    moved["geometry"] = moved.geometry.translate(dx, dy)
    target = gpd.GeoDataFrame(geometry=[TARGET], crs=CRS).translate(dx, dy).to_crs("EPSG:4326")
    control = gpd.GeoSeries([CONTROL], crs=CRS).translate(dx, dy)
    res = evaluate_pilot(
        moved,
        target=gpd.GeoDataFrame(geometry=target),
        start="2024-03",
        end="2024-03",
        buffer_m=100,
        control=control,
    )
    assert _row(res.counts, "target") == [60, 10, 40]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start": "2024-13", "end": "2024-03"}, "start"),
        ({"start": "2024-03", "end": "2024-02"}, "end"),
        ({"start": "2024-01", "end": "2024-01"}, "no months before"),
        ({"start": "2024-05", "end": "2024-05"}, "no months after"),
        ({"start": "2024-03", "end": "2024-03", "buffer_m": -5}, "buffer_m"),
        ({"start": "2024-03", "end": "2024-03", "before_months": 0}, "before_months"),
        ({"start": "2024-03", "end": "2024-03", "target": LineString([(0, 0), (1, 1)])}, "target"),
        ({"start": "2024-03", "end": "2024-03", "target": "here"}, "target"),
    ],
)
def test_pilot_bad_arguments(
    pilot_frame: gpd.GeoDataFrame, kwargs: dict[str, object], match: str
) -> None:
    args: dict[str, object] = {"target": TARGET, **kwargs}
    with pytest.raises(ParameterError, match=match):
        evaluate_pilot(pilot_frame, **args)  # type: ignore[arg-type]


def test_pilot_rejects_unprojected(pilot_frame: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="projected"):
        evaluate_pilot(
            pilot_frame.to_crs("EPSG:4326"), target=TARGET, start="2024-03", end="2024-03"
        )


# --- over-dispersed counts ---------------------------------------------------------------------


def test_monthly_dispersion_by_hand() -> None:
    """Pearson chi-square around each period's mean over (months - 2), at least 1."""
    # before 20, 40 (mean 30): (100 + 100) / 30; after 10, 30 (mean 20): (100 + 100) / 20
    assert monthly_dispersion([20, 40], [10, 30]) == pytest.approx((200 / 30 + 200 / 20) / 2)
    assert monthly_dispersion([30, 30, 30], [20, 20]) == 1.0  # steadier than Poisson
    assert monthly_dispersion([5], [9]) == 1.0  # too few months to tell
    assert monthly_dispersion([0, 0], [3, 4]) == 1.0  # an empty period


def test_relative_effect_separate_control_inflation() -> None:
    """var(ln RES) = phi_T (1/Tb + 1/Ta) + phi_C (1/Cb + 1/Ca)."""
    _, low, high = relative_effect(100, 50, 1000, 1000, variance_inflation=3, control_inflation=10)
    se = math.sqrt(3 * (1 / 100 + 1 / 50) + 10 * (2 / 1000))
    assert low == pytest.approx(2.0 * math.exp(-Z95 * se))
    assert high == pytest.approx(2.0 * math.exp(Z95 * se))
    with pytest.raises(ParameterError, match="control_inflation"):
        relative_effect(100, 50, 1000, 1000, control_inflation=0)


def _varying_frame(
    before: tuple[int, ...] = (20, 40, 30), after: tuple[int, ...] = (10, 30, 20)
) -> gpd.GeoDataFrame:
    """Target months varying before and after a one-month operation (15); control 100 a month."""
    rows: list[tuple[float, float, str, int]] = []
    series = [*before, 15, *after]
    for i, t in enumerate(series):
        month = f"2024-{i + 1:02d}"
        rows += [(50, 50, month, t), (2050, 50, month, 100)]
    return _frame(rows)


def test_pilot_dispersion_measured_from_monthly_counts() -> None:
    res = evaluate_pilot(
        _varying_frame(), target=TARGET, start="2024-04", end="2024-04", control=CONTROL
    )
    # before 20, 40, 30 (mean 30): 200 / 30; after 10, 30, 20 (mean 20): 200 / 20; 6 - 2 df
    phi_t = (200 / 30 + 200 / 20) / 4  # 4.17: the target's months vary far beyond Poisson
    assert res.dispersion_is_measured
    assert res.dispersion["target"] == pytest.approx(phi_t)
    assert res.dispersion["control"] == 1.0
    assert res.relative_effect == pytest.approx(1.5)  # (90 * 300) / (60 * 300)
    se = math.sqrt(phi_t * (1 / 90 + 1 / 60) + 1 / 300 + 1 / 300)
    assert res.ci_low == pytest.approx(1.5 * math.exp(-Z95 * se))
    assert res.ci_high == pytest.approx(1.5 * math.exp(Z95 * se))
    assert any("4.2 times the Poisson variance in the target" in s for s in res.summary())
    assert res.to_dict()["dispersion"]["target"] == pytest.approx(phi_t)

    poisson = evaluate_pilot(
        _varying_frame(),
        target=TARGET,
        start="2024-04",
        end="2024-04",
        control=CONTROL,
        variance_inflation=1,
    )
    assert not poisson.dispersion_is_measured
    assert poisson.ci_high - poisson.ci_low < res.ci_high - res.ci_low
    assert any("assume Poisson counts" in s for s in poisson.summary())


def test_pilot_too_few_months_to_measure_dispersion_says_so() -> None:
    """Two months after the operation: the dispersion is not measured, and the page says so."""
    res = evaluate_pilot(
        _varying_frame(after=(10, 30)),
        target=TARGET,
        start="2024-04",
        end="2024-04",
        control=CONTROL,
    )
    assert not res.dispersion_is_measured
    assert res.dispersion == {"target": 1.0, "buffer": 1.0, "control": 1.0}
    assert any("cannot be measured" in s for s in res.summary())
    assert any("too few" in n for n in res.notes)


@pytest.mark.parametrize("bad", ["often", 0, -2.0, math.nan, True, None])
def test_pilot_rejects_bad_variance_inflation(pilot_frame: gpd.GeoDataFrame, bad: object) -> None:
    with pytest.raises(ParameterError, match="variance_inflation"):
        evaluate_pilot(
            pilot_frame,
            target=TARGET,
            start="2024-03",
            end="2024-03",
            variance_inflation=bad,  # type: ignore[arg-type]
        )


def test_pilot_month_missing_from_the_data_is_left_out() -> None:
    """2024-02 has no incidents anywhere (not supplied): not a zero month in the mean."""
    rows: list[tuple[float, float, str, int]] = []
    for month, t in [("2024-01", 30), ("2024-03", 10), ("2024-04", 20), ("2024-05", 20)]:
        rows += [(50, 50, month, t), (2050, 50, month, 100)]
    res = evaluate_pilot(
        _frame(rows), target=TARGET, start="2024-03", end="2024-03", control=CONTROL
    )
    assert res.months["before"] == ("2024-01", "2024-02", 1)
    assert res.per_month.loc["target", "before"] == pytest.approx(30.0)  # not 15
    assert res.pct_change["target"] == pytest.approx(-100 / 3)
    assert res.monthly["period"].tolist() == ["before", "missing", "during", "after", "after"]
    assert any("2024-02" in note and "missing" in note for note in res.notes)


def test_pilot_ci_holds_its_level_on_overdispersed_counts() -> None:
    """Nothing happens, but monthly counts vary (gamma-Poisson, CV 0.3): a Poisson interval
    finds "effects" far more often than 5% of the time; the measured dispersion does not."""
    rng = np.random.default_rng(20261123)
    found = {"poisson": 0, "auto": 0}
    trials = 40
    for _ in range(trials):
        rows: list[tuple[float, float, str, int]] = []
        for m in range(1, 25):
            month = f"{2022 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}"
            t = int(rng.poisson(30 * rng.gamma(1 / 0.09, 0.09)))
            c = int(rng.poisson(300 * rng.gamma(1 / 0.09, 0.09)))
            rows += [(50, 50, month, t), (2050, 50, month, c)]
        frame = _frame(rows)
        for name, inflation in (("poisson", 1.0), ("auto", "auto")):
            res = evaluate_pilot(
                frame,
                target=TARGET,
                start="2023-01",
                end="2023-01",
                buffer_m=0,
                control=CONTROL,
                variance_inflation=inflation,
            )
            found[name] += res.significant
    assert found["poisson"] >= 10, found  # about half the placebos "significant"
    assert found["auto"] <= 5, found  # about the nominal 5% (2 of 40)


def test_pilot_summary_suppresses_small_counts_for_publication() -> None:
    """Target 3 -> 2 and buffer 4 -> 1: published as "fewer than 5", with nothing derived."""
    rows: list[tuple[float, float, str, int]] = []
    for month, t, b in [("2024-01", 3, 4), ("2024-02", 1, 1), ("2024-03", 2, 1)]:
        rows += [(50, 50, month, t), (150, 50, month, b), (2050, 50, month, 100)]
    res = evaluate_pilot(
        _frame(rows), target=TARGET, start="2024-02", end="2024-02", buffer_m=100, control=CONTROL
    )
    assert _row(res.counts, "target") == [3, 1, 2]
    exact = " ".join(res.summary())
    assert "3 incidents" in exact and "-33%" in exact
    published = " ".join(res.summary(suppress_below=5))
    assert "fewer than 5 incidents" in published
    assert "3 incidents" not in published and "a month)" not in published
    assert "-33%" not in published and "too small to publish" in published
    assert "displacement is not reported" in published


def test_pilot_summary_suppresses_a_small_control() -> None:
    """Control 2 -> 3: "+50%" would tell a reader it went from 2 to 3."""
    rows: list[tuple[float, float, str, int]] = []
    for month, t, c in [("2024-01", 40, 2), ("2024-02", 30, 1), ("2024-03", 30, 3)]:
        rows += [(50, 50, month, t), (2050, 50, month, c)]
    res = evaluate_pilot(
        _frame(rows), target=TARGET, start="2024-02", end="2024-02", buffer_m=100, control=CONTROL
    )
    assert "+50%" in " ".join(res.summary())
    published = " ".join(res.summary(suppress_below=5))
    assert "+50%" not in published and "too few incidents to publish" in published
    assert "confidence interval" not in published  # its width would give the counts away


def test_pilot_summary_unpublished_totals(pilot_frame: gpd.GeoDataFrame) -> None:
    """A total a page withholds for another reason: named so, with nothing worked from it."""
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    text = " ".join(res.summary(suppress_below=5, unpublished={("target", "before")}))
    assert "had an unpublished number of incidents" in text
    assert "60" not in text and "30.0 a month" not in text and "-33%" not in text
    assert "too small to publish an effect" in text
    assert "40 (20.0 a month)" in text  # the after count is still published


# --- the demo borough: the planted St James Street fall --------------------------------------


@pytest.fixture(scope="module")
def demo() -> tuple[gpd.GeoDataFrame, dict]:
    from geodata import SAMPLE_DIR, load_sample_incidents

    incidents, _ = load_sample_incidents()
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    return incidents, truth


def test_demo_corridor_fall_recovered(demo: tuple[gpd.GeoDataFrame, dict]) -> None:
    """Violence within 50 m of St James Street fell ~35% after the 2023-04..09 operation."""
    incidents, truth = demo
    corridor = truth["corridor"]
    line = gpd.GeoSeries([LineString(corridor["line_lonlat"])], crs="EPSG:4326").to_crs(CRS)
    target = gpd.GeoDataFrame(geometry=line.buffer(corridor["width_m"]), crs=CRS)
    op = corridor["operation"]
    res = evaluate_pilot(
        incidents,
        target=target,
        start=op["first"],
        end=op["last"],
        buffer_m=corridor["buffer"]["outer_m"] - corridor["width_m"],
        categories=corridor["violence_types"],
    )
    assert res.months["before"] == ("2022-01", "2023-03", 15)
    assert res.months["after"] == ("2023-10", "2024-12", 15)
    observed = corridor["observed"]["corridor"]
    assert res.per_month.loc["target", "before"] == pytest.approx(
        observed["violence_per_month_before"], abs=0.01
    )
    assert res.per_month.loc["target", "after"] == pytest.approx(
        observed["violence_per_month_after"], abs=0.01
    )
    # right sign, CI excludes no effect, and the planted -35% lies inside the CI
    assert res.relative_effect > 1 and res.ci_low > 1
    assert res.significant
    low, high = res.relative_change_ci
    assert low < corridor["planted_effect"]["change_after_vs_before_pct"] < high
    assert -45 < res.relative_change_pct < -25
    # nothing planted in the buffer: no evidence of displacement either way
    assert res.buffer_change_ci[0] < 0 < res.buffer_change_ci[1]
    text = " ".join(res.summary())
    assert "lower than the control's change would predict" in text
    assert "no evidence of displacement" in text


@pytest.mark.parametrize("name", ["Harrowgate Station", "Wellbrook Market"])
def test_demo_no_effect_where_none_planted(demo: tuple[gpd.GeoDataFrame, dict], name: str) -> None:
    """A planted hotspot with no planted change, same operation dates: no effect reported."""
    incidents, truth = demo
    spot = next(h for h in truth["hotspots"] if h["name"] == name)
    centre = gpd.GeoSeries([Point(spot["centre_lonlat"])], crs="EPSG:4326").to_crs(CRS)
    target = gpd.GeoDataFrame(geometry=centre.buffer(300), crs=CRS)
    res = evaluate_pilot(
        incidents,
        target=target,
        start="2023-04",
        end="2023-09",
        categories=truth["corridor"]["violence_types"],
    )
    assert min(res.counts.loc["target", ["before", "after"]]) > 200
    assert res.ci_low < 1 < res.ci_high
    assert not res.significant
    assert "no evidence of a change beyond what the control area shows" in " ".join(res.summary())


# --- evaluate_forecast on a 4x4 grid of 100 m cells -------------------------------------------

STUDY = box(0, 0, 400, 400)


def _cell(i: int, j: int) -> object:
    return box(100 * i, 100 * j, 100 * (i + 1), 100 * (j + 1))


def _grid_points(counts: dict[tuple[int, int], int]) -> gpd.GeoDataFrame:
    """Points strictly inside cells: cell (i, j) gets counts[(i, j)] points near its centre."""
    rows = []
    for (i, j), n in counts.items():
        for k in range(n):
            rows.append((100 * i + 50 + (k % 7) * 5 - 15, 100 * j + 50 + (k // 7) * 5 - 15))
    xs, ys = zip(*rows, strict=True) if rows else ((), ())
    return gpd.GeoDataFrame(
        {"month": pd.to_datetime(["2024-01-01"] * len(xs)), "category": ["Robbery"] * len(xs)},
        geometry=gpd.points_from_xy(xs, ys),
        crs=CRS,
    )


A, B, C, D, E = (0, 0), (1, 0), (3, 3), (2, 2), (0, 3)
TEST = {A: 6, B: 2, C: 8, D: 4}  # 20 test incidents; densest cells C (8), A (6), D (4)
FIT = {A: 4, B: 4, C: 2, E: 10}  # 20 fitting incidents


def _map(*cells: tuple[int, int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[_cell(*c) for c in cells], crs=CRS)


def test_forecast_by_hand_on_4x4_grid() -> None:
    """Map = cells A, B, C in that order; study area 16 cells.

    1/16:   A            hits 6/20 = 0.30, PAI 4.8,  RRI (6/4)/(20/20) = 1.5,
            best C       8/20 = 0.40, PEI 0.75
    1.5/16: A + B/2      hits 7/20 = 0.35, PAI 3.733, RRI (7/6) = 1.1667,
            best C + A/2 11/20 = 0.55, PEI 0.6364
    2/16:   A + B        hits 8/20 = 0.40, PAI 3.2,  RRI (8/8) = 1.0,
            best C + A   14/20 = 0.70, PEI 0.5714
    4/16:   the map covers 3/16 only -> NaN
    """
    fit, test = _grid_points(FIT), _grid_points(TEST)
    fit_before = fit.copy()
    table = evaluate_forecast(
        fit,
        test,
        {"m": _map(A, B, C)},
        study_area=STUDY,
        area_shares=(1 / 16, 1.5 / 16, 2 / 16, 4 / 16),
        cell_m=100,
    )
    pd.testing.assert_frame_equal(fit, fit_before)
    assert list(table.columns) == FORECAST_COLUMNS
    expected = [
        (0.30, 4.8, 1.5, 0.75, 0.40),
        (0.35, 0.35 / (1.5 / 16), 7 / 6, 0.35 / 0.55, 0.55),
        (0.40, 3.2, 1.0, 0.4 / 0.7, 0.70),
    ]
    for row, (hit, pai, rri, pei, best) in zip(table.itertuples(), expected, strict=False):
        assert row.hit_rate == pytest.approx(hit)
        assert row.pai == pytest.approx(pai)
        assert row.rri == pytest.approx(rri)
        assert row.pei == pytest.approx(pei)
        assert row.best_hit_rate == pytest.approx(best)
    last = table.iloc[3]
    assert math.isnan(last["hit_rate"]) and math.isnan(last["pai"]) and math.isnan(last["pei"])
    assert last["map_share"] == pytest.approx(3 / 16)
    assert last["best_hit_rate"] == pytest.approx((8 + 6 + 4 + 2) / 20)
    assert table["area_km2"].tolist() == pytest.approx([0.01, 0.015, 0.02, 0.04])


def test_forecast_partial_polygon_by_area_proportion() -> None:
    """One 200 x 100 polygon over A and B (8 test incidents): at 1/16 half of it is taken,
    counting half its incidents: hit rate 4/20 = 0.2, PAI 3.2."""
    fit, test = _grid_points(FIT), _grid_points(TEST)
    table = evaluate_forecast(
        fit,
        test,
        {"rect": gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs=CRS)},
        study_area=STUDY,
        area_shares=(1 / 16,),
    )
    assert table.loc[0, "hit_rate"] == pytest.approx(0.2)
    assert table.loc[0, "pai"] == pytest.approx(3.2)
    assert table.loc[0, "test_hits"] == pytest.approx(4.0)
    assert table.loc[0, "fit_hits"] == pytest.approx(4.0)


def test_forecast_overlaps_and_rank_column() -> None:
    """Lower-ranked polygons only add what higher ones left free; ``rank`` sets the order."""
    fit, test = _grid_points(FIT), _grid_points(TEST)
    ranked = gpd.GeoDataFrame({"rank": [2, 1]}, geometry=[_cell(*B), _cell(*C)], crs=CRS)
    overlapping = gpd.GeoDataFrame(
        geometry=[_cell(*C), box(300, 300, 400, 400), _cell(*A)], crs=CRS
    )
    table = evaluate_forecast(
        fit,
        test,
        {"ranked": ranked, "overlap": overlapping},
        study_area=STUDY,
        area_shares=(1 / 16, 2 / 16),
    )
    by = table.set_index(["method", "area_share"])
    assert by.loc[("ranked", 1 / 16), "hit_rate"] == pytest.approx(8 / 20)  # C first
    assert by.loc[("ranked", 2 / 16), "hit_rate"] == pytest.approx(10 / 20)
    assert by.loc[("overlap", 2 / 16), "hit_rate"] == pytest.approx(14 / 20)  # C then A
    assert by.loc[("overlap", 2 / 16), "pei"] == pytest.approx(1.0)


def test_forecast_leaves_out_incidents_outside_study_area() -> None:
    fit = _grid_points(FIT)
    test = pd.concat([_grid_points(TEST), _grid_points({(9, 9): 5})], ignore_index=True)
    table = evaluate_forecast(fit, test, {"m": _map(A)}, study_area=STUDY, area_shares=(1 / 16,))
    assert table.loc[0, "hit_rate"] == pytest.approx(6 / 20)
    assert any("outside the study area" in n for n in table.attrs["notes"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"area_shares": (0.0,)}, "area_shares"),
        ({"area_shares": (1.5,)}, "area_shares"),
        ({"cell_m": -1.0}, "cell_m"),
        ({"maps": {}}, "maps"),
        ({"maps": {"x": "nope"}}, "maps"),
    ],
)
def test_forecast_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"maps": {"m": _map(A)}, "study_area": STUDY, **kwargs}
    maps = args.pop("maps")
    with pytest.raises(ParameterError, match=match):
        evaluate_forecast(_grid_points(FIT), _grid_points(TEST), maps, **args)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(st.integers(0, 6), min_size=16, max_size=16),
    order=st.permutations(list(range(16))),
)
def test_forecast_invariants_for_grid_maps(counts: list[int], order: list[int]) -> None:
    """For a map of the grid's own cells: PEI <= 1, PAI = hit rate / share, hit rates grow
    with the area share, and the map ranked by test density has PEI 1."""
    cells = [(i, j) for i in range(4) for j in range(4)]
    test_counts = {c: n for c, n in zip(cells, counts, strict=True) if n}
    if not test_counts:
        test_counts = {A: 1}
    test = _grid_points(test_counts)
    fit = _grid_points({A: 1, C: 1})
    full = [cells[k] for k in order]
    densest = sorted(cells, key=lambda c: -test_counts.get(c, 0))
    shares = (1 / 16, 2.5 / 16, 5 / 16)
    table = evaluate_forecast(
        fit,
        test,
        {"any": _map(*full), "best": _map(*densest)},
        study_area=STUDY,
        area_shares=shares,
    )
    for name in ("any", "best"):
        rows = table[table["method"] == name]
        assert (rows["pei"] <= 1 + 1e-9).all()
        assert np.allclose(rows["pai"], rows["hit_rate"] / rows["area_share"])
        assert rows["hit_rate"].is_monotonic_increasing
    assert np.allclose(table.loc[table["method"] == "best", "pei"], 1.0)


def test_doctests() -> None:
    import doctest

    from hotspots import evaluate

    result = doctest.testmod(evaluate, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_forecast_maps_are_in_priority_order() -> None:
    """The three maps evaluate_forecast compares: densest DBSCAN footprints, densest KDE
    cells and highest-z Gi* cells first, with no rank column to override the row order."""
    from geodata import load_sample_incidents
    from hotspots.evaluate import forecast_maps
    from hotspots.filter import filter_incidents

    incidents, _ = load_sample_incidents()
    fit = filter_incidents(incidents, None, start="2024-01", end="2024-06")
    maps = forecast_maps(fit)
    assert set(maps) == {"DBSCAN", "KDE", "Gi*"}
    for frame in maps.values():
        assert len(frame) > 0 and "rank" not in frame.columns
    assert maps["DBSCAN"]["density_km2"].is_monotonic_decreasing
    assert maps["KDE"]["density_km2"].is_monotonic_decreasing
    assert (maps["KDE"]["density_km2"] > 0).all()
    assert maps["Gi*"]["z"].is_monotonic_decreasing and (maps["Gi*"]["z"] > 0).all()
