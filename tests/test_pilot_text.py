"""Tests for hotspots.report.pilot_text: the sentences about a pilot evaluation."""

from __future__ import annotations

import dataclasses
import json
import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from hotspots.errors import ParameterError
from hotspots.pilot import SMALL_COUNT, evaluate_pilot
from hotspots.pilot_stats import WDQ_BANDS
from hotspots.report.pilot_text import (
    NOT_JUDGED,
    can_judge_displacement,
    effect_stands,
    pilot_record,
    pilot_summary,
    wdq_sentence,
    wdq_words,
)
from hotspots.report.wording import percent_interval
from hotspots.trend import compare_counts
from tests.pilot_data import (
    CONTROL,
    TARGET,
    incidents_from,
    zone_row,
)


def test_pilot_summary_wording(pilot_frame: gpd.GeoDataFrame) -> None:
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    text = " ".join(
        pilot_summary(
            res,
        )
    )
    assert "a change of −33%" in text
    # Each zone's own change comes with its exact interval (counts over their dispersion).
    phi = max(res.dispersion["target"], 1.0)
    own = compare_counts(round(60 / phi), round(40 / phi), before_months=2, after_months=2)
    interval = percent_interval(100 * own.low[0], 100 * own.high[0])
    assert f"a change of −33% (95% interval {interval}" in text
    assert "changed by 0% (95% interval" in text and "no clear change on its own" in text
    # Jan-Feb against Apr-May: equal lengths but different months of the year.
    assert "different months of the year" in text
    assert "change in the target was −33% (95% confidence interval −57% to +4%)" in text
    assert "no evidence of a change beyond what the control area shows" in text
    # No significant change in the target: displacement is not judged, whatever the WDQ.
    assert res.wdq_band == "displacement"
    assert NOT_JUDGED in text
    assert "displacement into" not in text and "diffusion of benefit into" not in text
    assert "Weighted Displacement Quotient" not in text
    # every cell of the 2x2 table holds at least 20
    assert res.small_counts == []
    assert "Counts are small" not in text
    json.dumps(res.to_dict())  # JSON-ready


def test_pilot_summary_small_counts_and_ci_crossing_one() -> None:
    """Target 12 -> 10, control 100 -> 100: few incidents and a CI across 1."""
    frame = incidents_from(
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
    text = " ".join(
        pilot_summary(
            res,
        )
    )
    assert "no evidence of a change beyond what the control area shows" in text
    assert f"fewer than {SMALL_COUNT}" in text
    assert "no incidents before or after" in text  # empty buffer


def test_pilot_summary_suppresses_small_counts_for_publication() -> None:
    """Target 3 -> 2 and buffer 4 -> 1: published as "fewer than 5", with nothing derived."""
    rows: list[tuple[float, float, str, int]] = []
    for month, t, b in [("2024-01", 3, 4), ("2024-02", 1, 1), ("2024-03", 2, 1)]:
        rows += [(50, 50, month, t), (150, 50, month, b), (2050, 50, month, 100)]
    res = evaluate_pilot(
        incidents_from(rows),
        target=TARGET,
        start="2024-02",
        end="2024-02",
        buffer_m=100,
        control=CONTROL,
    )
    assert zone_row(res.counts, "target") == [3, 1, 2]
    exact = " ".join(
        pilot_summary(
            res,
        )
    )
    assert "3 incidents" in exact and "−33%" in exact
    published = " ".join(pilot_summary(res, suppress_below=5))
    assert "fewer than 5 incidents" in published
    assert "3 incidents" not in published and "a month)" not in published
    assert "−33%" not in published and "too small to publish" in published
    assert "displacement is not reported" in published


def test_pilot_summary_suppresses_a_small_control() -> None:
    """Control 2 -> 3: "+50%" would tell a reader it went from 2 to 3."""
    rows: list[tuple[float, float, str, int]] = []
    for month, t, c in [("2024-01", 40, 2), ("2024-02", 30, 1), ("2024-03", 30, 3)]:
        rows += [(50, 50, month, t), (2050, 50, month, c)]
    res = evaluate_pilot(
        incidents_from(rows),
        target=TARGET,
        start="2024-02",
        end="2024-02",
        buffer_m=100,
        control=CONTROL,
    )
    assert "+50%" in " ".join(
        pilot_summary(
            res,
        )
    )
    published = " ".join(pilot_summary(res, suppress_below=5))
    assert "+50%" not in published and "too few incidents to publish" in published
    assert "confidence interval" not in published  # its width would give the counts away


def test_pilot_summary_unpublished_totals(pilot_frame: gpd.GeoDataFrame) -> None:
    """A total a page withholds for another reason: named so, with nothing worked from it."""
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    text = " ".join(pilot_summary(res, suppress_below=5, unpublished={("target", "before")}))
    assert "had an unpublished number of incidents" in text
    assert "60" not in text and "30.0 a month" not in text and "−33%" not in text
    assert "too small to publish an effect" in text
    assert "40 (20.0 a month)" in text  # the after count is still published


def test_wdq_sentence_words_every_band() -> None:
    words = [wdq_sentence(band) for band in WDQ_BANDS]
    assert len(set(words)) == len(WDQ_BANDS)
    assert wdq_sentence("no_buffer") == "not computed: no buffer (buffer_m=0)"
    with pytest.raises(ParameterError, match="band"):
        wdq_sentence("somewhere")


def test_pilot_record_adds_the_sentences(pilot_frame: gpd.GeoDataFrame) -> None:
    """The JSON record: the result's figures plus the WDQ band in words and the summary."""
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    record = pilot_record(res)
    added = ("summary", "wdq_interpretation", "wdq_reading")
    assert {k: v for k, v in record.items() if k not in added} == res.to_dict()
    assert record["wdq_band"] == "displacement"  # the value's band, but not a finding:
    assert record["wdq_interpretation"].startswith("not judged: no significant fall")
    assert record["wdq_reading"] == "not_judged"
    assert record["summary"] == pilot_summary(res)
    json.dumps(record)  # JSON-ready


def test_doctests() -> None:
    import doctest

    from hotspots.report import pilot_text

    for module in (pilot_text,):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.attempted > 0 and result.failed == 0, module.__name__


def _pilot_rows(target: list[int], buffer: list[int], control: int = 100) -> gpd.GeoDataFrame:
    """Jan, Feb before; Mar during; Apr, May after: target, buffer (100 m ring) and control
    counts per month."""
    rows: list[tuple[float, float, str, int]] = []
    for k, month in enumerate(["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]):
        rows += [(50, 50, month, target[k]), (150, 50, month, buffer[k])]
        rows += [(2050, 50, month, control)]
    return incidents_from(rows)


def test_displacement_is_judged_after_a_significant_fall() -> None:
    """Target 60 + 60 -> 20 + 20 against a flat control: a significant fall; the buffer
    doubles (40 -> 80): displacement, and the WDQ is worded."""
    res = evaluate_pilot(
        _pilot_rows([60, 60, 30, 20, 20], [20, 20, 20, 40, 40]),
        target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL,
        variance_inflation=1,
    )  # fmt: skip
    assert res.significant and res.relative_change_pct < 0
    assert can_judge_displacement(res)
    text = " ".join(pilot_summary(res))
    assert "this suggests displacement into the buffer" in text
    assert f"Weighted Displacement Quotient {res.wdq:.2f} ({wdq_sentence(res.wdq_band)}" in text
    assert NOT_JUDGED not in text
    assert pilot_record(res)["wdq_interpretation"] == wdq_sentence(res.wdq_band)
    assert pilot_record(res)["wdq_reading"] == res.wdq_band


def test_wdq_not_read_when_the_buffer_change_is_within_chance() -> None:
    """A significant fall in the target but a buffer that barely moves (40 -> 42): the WDQ
    is given but not read as displacement or diffusion."""
    res = evaluate_pilot(
        _pilot_rows([60, 60, 30, 20, 20], [20, 20, 20, 21, 21]),
        target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL,
        variance_inflation=1,
    )  # fmt: skip
    assert can_judge_displacement(res)
    lo, hi = res.buffer_change_ci
    assert lo < 0 < hi
    text = " ".join(pilot_summary(res))
    assert "not read as displacement or a diffusion of benefit" in text
    assert wdq_sentence(res.wdq_band) not in text
    # the words beside the WDQ on the dashboard and in pilot.json say the same
    assert wdq_words(res).startswith("not read as displacement or a diffusion of benefit")
    assert pilot_record(res)["wdq_interpretation"] == wdq_words(res)


def test_never_displacement_when_the_target_rose() -> None:
    """Target 20 -> 60 a month (a significant rise) while the buffer rises too: no sentence
    says displacement or a diffusion of benefit."""
    res = evaluate_pilot(
        _pilot_rows([20, 20, 30, 60, 60], [20, 20, 20, 40, 40]),
        target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL,
        variance_inflation=1,
    )  # fmt: skip
    assert res.significant and res.relative_change_pct > 0
    text = " ".join(pilot_summary(res))
    assert "no fall to displace" in text
    for claim in ("suggests displacement", "suggests a diffusion", "Weighted Displacement"):
        assert claim not in text


def test_interval_endpoints_never_round_onto_zero(pilot_frame: gpd.GeoDataFrame) -> None:
    """A significant result whose interval ends at −0.05%: printed "−0.05%", not "0%"."""
    res = evaluate_pilot(
        pilot_frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100, control=CONTROL
    )
    edge = dataclasses.replace(res, ci_low=1.0005, ci_high=1.88, relative_change_ci=(-46.8, -0.05))
    assert edge.significant
    text = " ".join(pilot_summary(edge))
    assert "(95% confidence interval −47% to −0.05%)" in text
    assert "to 0%" not in text


def test_warning_when_zones_reach_outside_the_data() -> None:
    """The study area ends at x = 100: 36% of the 100 m buffer ring around the 100 m target
    square, and none of the target, lies outside it."""
    frame = _pilot_rows([30, 30, 30, 30, 30], [10, 10, 10, 10, 10])
    study = box(-100, -100, 100, 3000)
    res = evaluate_pilot(
        frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100,
        study_area=study, control=CONTROL,
    )  # fmt: skip
    assert res.outside_coverage["target"] == 0
    ring = res.geometries.geometry.iloc[1]
    assert res.outside_coverage["buffer"] == pytest.approx(ring.difference(study).area / ring.area)
    assert 0.35 < res.outside_coverage["buffer"] < 0.37  # (100² + π 100² / 2) / (4 100² + π 100²)
    text = " ".join(pilot_summary(res))
    share = f"{res.outside_coverage['buffer']:.0%}"
    assert f"Warning: {share} of the buffer ring" in text and "the study area" in text
    assert "the target area" not in text.split("Warning:")[1].split(".")[0]
    inside = evaluate_pilot(
        frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=100,
        study_area=box(-500, -500, 3000, 3000), control=CONTROL,
    )  # fmt: skip
    assert "Warning:" not in " ".join(pilot_summary(inside))


def test_placebo_in_space_ranks_the_target() -> None:
    """A 10 x 10 grid of 100 m squares, 10 incidents a month each; the target square falls
    to 2 a month after the operation: no placebo square falls as far, so it ranks first.
    A target with no change ranks in the middle."""
    rows: list[tuple[float, float, str, int]] = []
    for month in ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]:
        for i in range(10):
            for j in range(10):
                n = 2 if (i, j) == (0, 0) and month >= "2024-04" else 10
                rows.append((i * 100 + 50, j * 100 + 50, month, n))
    frame = incidents_from(rows)
    study = box(0, 0, 1000, 1000)
    res = evaluate_pilot(
        frame, target=TARGET, start="2024-03", end="2024-03", buffer_m=0,
        study_area=study, placebos=49, seed=3,
    )  # fmt: skip
    assert res.placebo is not None and res.placebo.n == 49
    assert res.placebo.as_extreme == 0 and res.placebo.share == pytest.approx(1 / 50)
    text = " ".join(pilot_summary(res))
    assert "of 49 areas of the target's size and shape" in text
    assert "0 changed at least as far down as the target" in text and "ranks 1 of 50" in text
    flat = evaluate_pilot(
        frame, target=box(500, 500, 600, 600), start="2024-03", end="2024-03", buffer_m=0,
        study_area=study, placebos=49, seed=3,
    )  # fmt: skip
    assert flat.placebo is not None and flat.placebo.share > 0.3
    assert res.to_dict()["placebo"]["areas"] == 49
    assert res.significant and effect_stands(res)
    assert "than the control's change would predict" in text
    with pytest.raises(ParameterError, match="placebos"):
        evaluate_pilot(
            frame, target=TARGET, start="2024-03", end="2024-03", placebos=-1, study_area=study
        )


def test_placebos_widen_the_interval_where_places_change_on_their_own() -> None:
    """A 10 x 10 grid of 100 m squares, 20 incidents a month each before; after, each square
    is multiplied by its own factor (e^N(0, 0.5), seeded), the target's by 0.6. The placebo
    areas' log ratios vary well beyond Poisson noise, so their spread widens the effect's
    interval, and the summary says so; without placebos the interval is narrower."""
    rng = np.random.default_rng(7)
    factor = np.exp(rng.normal(0.0, 0.5, (10, 10)))
    factor[0, 0] = 0.6
    rows: list[tuple[float, float, str, int]] = []
    for month in ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]:
        for i in range(10):
            for j in range(10):
                n = 20 if month < "2024-04" else round(float(20 * factor[i, j]))
                rows.append((i * 100 + 50, j * 100 + 50, month, n))
    frame = incidents_from(rows)
    kw = {"target": TARGET, "start": "2024-03", "end": "2024-03", "buffer_m": 0.0}
    study = box(0, 0, 1000, 1000)
    plain = evaluate_pilot(frame, study_area=study, variance_inflation=1, placebos=0, **kw)  # type: ignore[arg-type]
    widened = evaluate_pilot(
        frame,
        study_area=study,
        variance_inflation=1,
        placebos=49,
        **kw,  # type: ignore[arg-type]
    )
    assert widened.placebo is not None and widened.placebo.spread > 0.1
    width = [math.log(r.ci_high / r.ci_low) for r in (plain, widened)]
    assert width[1] > 1.5 * width[0]
    assert widened.relative_effect == pytest.approx(plain.relative_effect)
    assert "widened for how much places of the target's size change" in " ".join(
        pilot_summary(widened)
    )
