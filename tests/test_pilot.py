"""Tests for hotspots.pilot: the before/after evaluation of a pilot operation (zones, periods,
counts, effects), with the sentences of hotspots.report.pilot_text where they are the point."""

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
from hotspots.pilot import evaluate_pilot
from hotspots.report.pilot_text import pilot_summary
from tests.pilot_data import (
    CONTROL,
    CRS,
    TARGET,
    incidents_from,
    zone_row,
)

Z95 = 1.959963984540054


def test_pilot_counts_and_effect_by_hand(pilot_frame: gpd.GeoDataFrame) -> None:
    before = pilot_frame.copy()
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    pd.testing.assert_frame_equal(pilot_frame, before)  # not mutated
    assert zone_row(res.counts, "target") == [60, 10, 40]
    assert zone_row(res.counts, "buffer") == [20, 5, 24]
    assert zone_row(res.counts, "control") == [200, 100, 200]
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
    assert res.wdq_band == "displacement"
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
    assert zone_row(res.counts, "target") == [30, 10, 20]
    assert res.months["before"] == ("2024-02", "2024-02", 1)
    assert res.monthly["period"].tolist() == ["before", "during", "after"]


def test_pilot_default_control_is_hull_minus_target_and_buffer(
    pilot_frame: gpd.GeoDataFrame,
) -> None:
    """Without control=, everything in the incidents' hull outside target+buffer is control:
    the control square and the far point at (5000, 5000) (7 a month)."""
    res = evaluate_pilot(pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100)
    assert res.control_is_default
    assert zone_row(res.counts, "control") == [214, 107, 214]
    assert any("convex hull" in n for n in res.notes)
    assert any(
        "rest of the study area" in s
        for s in pilot_summary(
            res,
        )
    )


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
    assert zone_row(res.counts, "control") == [200, 100, 200]
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
    assert zone_row(res.counts, "target") == [60, 10, 40]
    assert zone_row(res.counts, "control") == [200, 100, 200]
    assert any("cut out of the control" in n for n in res.notes)


def test_pilot_rise_is_not_called_an_effect() -> None:
    """Target 100 -> 200 while the control stays at 1000: a significant rise, worded as such."""
    frame = incidents_from(
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
    text = " ".join(
        pilot_summary(
            res,
        )
    )
    assert "100% higher" in text
    assert "consistent with an effect" not in text
    assert "Crime rose in the target" in text
    assert res.wdq_band == "no_success"  # WDQ without a success
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
    frame = incidents_from(rows)
    res = evaluate_pilot(
        frame, target=box(-100, -100, 100, 100), start="2024-03", end="2024-03", buffer_m=buffer_m
    )
    assert int(res.counts.to_numpy().sum()) == len(frame)
    for period in ("before", "during", "after"):
        in_period = res.monthly[res.monthly["period"] == period]
        assert [int(in_period[z].sum()) for z in ("target", "buffer", "control")] == [
            int(v) for v in res.counts[period]
        ]


def test_pilot_without_control_says_so() -> None:
    """A control that lies wholly inside the buffer leaves no control area."""
    frame = incidents_from([(50, 50, "2024-01", 30), (50, 50, "2024-03", 20)])
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
    text = " ".join(
        pilot_summary(
            res,
        )
    )
    assert "There is no control area" in text
    assert "not evidence that the operation worked" in text


def test_pilot_categories_filter(pilot_frame: gpd.GeoDataFrame) -> None:
    other = incidents_from(
        [(50, 50, "2024-01", 99), (50, 50, "2024-05", 1)], category="Shoplifting"
    )
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
    assert zone_row(res.counts, "target") == [60, 10, 40]
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
    assert zone_row(res.counts, "target") == [60, 10, 40]


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


def _varying_frame(
    before: tuple[int, ...] = (20, 40, 30), after: tuple[int, ...] = (10, 30, 20)
) -> gpd.GeoDataFrame:
    """Target months varying before and after a one-month operation (15); control 100 a month."""
    rows: list[tuple[float, float, str, int]] = []
    series = [*before, 15, *after]
    for i, t in enumerate(series):
        month = f"2024-{i + 1:02d}"
        rows += [(50, 50, month, t), (2050, 50, month, 100)]
    return incidents_from(rows)


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
    assert any(
        "4.2 times the Poisson variance in the target" in s
        for s in pilot_summary(
            res,
        )
    )
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
    assert any(
        "assume Poisson counts" in s
        for s in pilot_summary(
            poisson,
        )
    )


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
    assert any(
        "cannot be measured" in s
        for s in pilot_summary(
            res,
        )
    )
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
        incidents_from(rows), target=TARGET, start="2024-03", end="2024-03", control=CONTROL
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
        frame = incidents_from(rows)
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
    text = " ".join(
        pilot_summary(
            res,
        )
    )
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
    assert "no evidence of a change beyond what the control area shows" in " ".join(
        pilot_summary(
            res,
        )
    )


def test_doctests() -> None:
    import doctest

    from hotspots import pilot

    for module in (pilot,):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.attempted > 0 and result.failed == 0, module.__name__
