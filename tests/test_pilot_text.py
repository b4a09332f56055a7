"""Tests for hotspots.report.pilot_text: the sentences about a pilot evaluation."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from hotspots.errors import ParameterError
from hotspots.pilot import SMALL_COUNT, evaluate_pilot
from hotspots.pilot_stats import WDQ_BANDS
from hotspots.report.pilot_text import pilot_record, pilot_summary, wdq_sentence
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
    assert "3 incidents" in exact and "-33%" in exact
    published = " ".join(pilot_summary(res, suppress_below=5))
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
    assert "60" not in text and "30.0 a month" not in text and "-33%" not in text
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
    assert {k: v for k, v in record.items() if k not in ("summary", "wdq_interpretation")} == (
        res.to_dict()
    )
    assert record["wdq_band"] == "displacement"
    assert record["wdq_interpretation"].startswith("some displacement into the buffer")
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
