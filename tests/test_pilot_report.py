"""Tests for hotspots.report.pilot_page: the printable before/after report of a pilot evaluation."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import geopandas.testing
import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from shapely.geometry import LineString, box

import geodata
from hotspots.assets import external_urls
from hotspots.errors import ParameterError
from hotspots.pilot import PERIODS, ZONES, PilotResult, evaluate_pilot
from hotspots.pilot_disclosure import disclosed_monthly, withheld_months
from hotspots.report.pilot_figures import pilot_chart_png, pilot_map_png
from hotspots.report.pilot_page import pilot_report_html, write_pilot_report
from hotspots.report.pilot_text import pilot_summary


def _series(monthly: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """What the pilot chart plots (:func:`hotspots.pilot_disclosure.disclosed_monthly`)."""
    return disclosed_monthly(monthly, threshold, zones=ZONES, periods=PERIODS)


CRS = "EPSG:27700"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert(1)</script>"
SMALL = re.compile(r"(?<![\d,.])[1-4](?![\d,.%])")
TARGET = box(0, 0, 100, 100)  # target at the origin, 100 m buffer ring around it
CONTROL = box(2000, 0, 2100, 100)  # a separate control square
# points in each zone
T, B, C = (50, 50), (150, 50), (2050, 50)


# ------------------------------------------------------------------------------ fixtures


def _frame(rows: list[tuple[tuple[float, float], str, int]]) -> gpd.GeoDataFrame:
    """Incidents from ((x, y), month, how many) rows, in EPSG:27700."""
    xs, ys, months = [], [], []
    for (x, y), month, n in rows:
        xs += [x] * n
        ys += [y] * n
        months += [month] * n
    return gpd.GeoDataFrame(
        {
            "incident_id": pd.Series([f"row-{i}" for i in range(len(xs))], dtype="str"),
            "month": pd.to_datetime([f"{m}-01" for m in months]),
            "category": pd.Series(["Robbery"] * len(xs), dtype="str"),
            "weight": np.ones(len(xs)),
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=CRS,
    )


def _pilot(table: list[tuple[str, int, int, int]], **kwargs: object) -> PilotResult:
    """evaluate_pilot over (month, target, buffer, control) counts; operation in 2024-04."""
    rows = []
    for month, t, b, c in table:
        rows += [(T, month, t), (B, month, b), (C, month, c)]
    args: dict[str, object] = {
        "target": TARGET,
        "start": "2024-04",
        "end": "2024-04",
        "buffer_m": 100,
        "control": CONTROL,
    }
    args.update(kwargs)
    return evaluate_pilot(_frame(rows), **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fell() -> PilotResult:
    """Target 100 a month before (3 months), 50 after (3 months); control steady at 500.

    RES = (300 * 1500) / (150 * 1500) = 2, a relative change of −50%. Steady months give a
    dispersion of 1 (Poisson): se = sqrt(1/300 + 1/150 + 1/1500 + 1/1500) = 0.10646, so the
    RES interval is 2 exp(+-1.96 se) = 1.624 .. 2.464 and the change −59% .. −38%.
    """
    table = [(f"2024-0{m}", 100, 20, 500) for m in (1, 2, 3)]
    table += [("2024-04", 70, 20, 500)]
    table += [(f"2024-0{m}", 50, 20, 500) for m in (5, 6, 7)]
    return _pilot(table)


@pytest.fixture(scope="module")
def small() -> PilotResult:
    """Target counts 3 before (2 + 1) and 2 after (2 + 0): both must be suppressed.

    The buffer has 2 in January (a small month) and 40 in total before; the control is large.
    """
    return _pilot(
        [
            ("2024-02", 2, 2, 300),
            ("2024-03", 1, 38, 300),
            ("2024-04", 0, 20, 300),
            ("2024-05", 2, 20, 300),
            ("2024-06", 0, 20, 300),
        ]
    )


@pytest.fixture(scope="module")
def gap() -> PilotResult:
    """February 2024 is missing from the data altogether (no incident anywhere)."""
    return _pilot(
        [
            ("2024-01", 30, 10, 100),
            ("2024-03", 30, 10, 100),
            ("2024-04", 20, 10, 100),
            ("2024-05", 20, 10, 100),
            ("2024-06", 20, 10, 100),
        ]
    )


def _wards(name: str = "Ashmere") -> gpd.GeoDataFrame:
    """Two wards covering the zones, the second holding the control."""
    return gpd.GeoDataFrame(
        {"ward_code": ["E1", "E2"], "ward_name": [name, "Brindle Green"]},
        geometry=[box(-300, -300, 1000, 400), box(1000, -300, 2300, 400)],
        crs=CRS,
    )


def _text(page: str) -> str:
    """The page without its inline images and CSS."""
    return re.sub(r"<style>.*?</style>|data:image/png;base64,[^\"']+", "", page, flags=re.S)


def _row(page: str, zone: str) -> list[str]:
    """The cells of the counts table's row for ``zone`` ("Target area", ...)."""
    text = _text(page)
    start = text.index("<h2>Counts</h2>")
    table = text[start : text.index("</table>", start)]
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells and cells[0].startswith(zone):
            return cells
    raise AssertionError(f"no row for {zone}")


def _png_size(png: bytes) -> tuple[int, int]:
    image = imread(io.BytesIO(png), format="png")
    assert float(image[..., :3].std()) > 0.05  # not a blank image
    return int(image.shape[1]), int(image.shape[0])


# ------------------------------------------------------------------------------ chart data


def test_chart_series_hides_small_counts_and_means() -> None:
    """Counts 1..4 are not plotted; a mean is hidden when its period total is 1..4."""
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
            "period": ["before", "before", "during", "after"],
            "target": [3, 0, 9, 12],
            "buffer": [1, 2, 0, 0],
            "control": [40, 60, 50, 70],
        }
    )
    s = _series(monthly, 5)
    assert list(s.columns) == [
        "zone",
        "month",
        "period",
        "count",
        "small",
        "withheld",
        "missing",
        "mean",
    ]
    target = s[s["zone"] == "target"]
    assert target["count"].tolist()[1:] == [0.0, 9.0, 12.0]  # zero shows as 0
    assert math.isnan(target["count"].tolist()[0])  # 3 is not plotted
    assert target["small"].tolist() == [True, False, False, False]
    # before total 3 is itself suppressed, so its mean (1.5 a month) is not drawn
    assert target["mean"].isna().tolist() == [True, True, True, False]
    assert target["mean"].tolist()[3] == 12.0
    buffer = s[s["zone"] == "buffer"]
    assert buffer["small"].tolist() == [True, True, False, False]
    assert buffer["mean"].isna().tolist()[:2] == [True, True]  # before total 3
    assert buffer["mean"].tolist()[3] == 0.0  # after total 0 is shown
    control = s[s["zone"] == "control"]
    assert control["count"].tolist() == [40.0, 60.0, 50.0, 70.0]
    assert control["mean"].tolist()[:2] == [50.0, 50.0]
    plotted = s["count"].dropna()
    assert not ((plotted > 0) & (plotted < 5)).any()
    # threshold 1 suppresses nothing
    assert not _series(monthly, 1)["small"].any()


def test_chart_series_withholds_a_month_that_would_reveal_a_small_one() -> None:
    """Before: 2, 38 and 50, total 90 published: 38 and 50 shown would give the 2 away.

    The smallest month of 5 or more (38) is withheld with it: 40 over the two, the small one
    anything from 1 to 4. After: 3, 2 and 40, total 45. The old rule took 3 + 2 = 5 over two
    months as safe; the rule now is that small months are never hidden only among themselves
    (4 + 4 = 8 would pin both), so the 40 is withheld too, and the total stays published.
    """
    monthly = pd.DataFrame(
        {
            "month": pd.date_range("2024-01-01", periods=7, freq="MS"),
            "period": ["before", "before", "before", "during", "after", "after", "after"],
            "target": [2, 38, 50, 9, 3, 2, 40],
            "buffer": [0, 0, 0, 0, 0, 0, 0],
            "control": [3, 0, 0, 9, 0, 0, 0],
        }
    )
    s = _series(monthly, 5)
    target = s[s["zone"] == "target"]
    assert target["small"].tolist() == [True, False, False, False, True, True, False]
    assert target["withheld"].tolist() == [False, True, False, False, False, False, True]
    shown = target["count"].tolist()
    assert [v for v in shown if not math.isnan(v)] == [50.0, 9.0]
    # both totals stay published: the hidden months hold one of 5 or more
    assert target["mean"].tolist()[:3] == [30.0, 30.0, 30.0]
    assert target["mean"].tolist()[4:] == [15.0, 15.0, 15.0]
    # control: before total 3 is itself suppressed, so nothing more to withhold
    control = s[s["zone"] == "control"]
    assert not control["withheld"].any()
    assert control["mean"].isna().tolist()[:3] == [True, True, True]


def test_withheld_needs_a_month_of_threshold_or_more() -> None:
    """Hand-worked periods (threshold 5): (months withheld, whether the total is hidden).

    A reader knows the period total, the months shown, that each small month is 1 to 4 and
    that the withheld month is 5 or more but no more than the smallest month still shown.
    """

    def run(values: list[int]) -> tuple[list[bool], bool]:
        raw = np.array(values, dtype=float)
        out, hide = withheld_months(raw, (raw > 0) & (raw < 5), 5)
        return out.tolist(), hide

    # 4 + 4 = 8 over two small months: both 4. Six 1s adding to 6: all 1. A zero month does
    # not help. No month of 5 or more to withhold, so the total is hidden.
    assert run([4, 4]) == ([False, False], True)
    assert run([1] * 6) == ([False] * 6, True)
    assert run([4, 4, 0]) == ([False, False, False], True)
    # 2 + 38 = 40 withheld: the 2 could be 1 to 4 (the 38 then 39 to 36)
    assert run([2, 38, 50]) == ([False, True, False], False)
    # 4 + 4 + 9 = 17 withheld: the small ones add up to 2 to 8, the 9 being 5 to 15
    assert run([4, 4, 9]) == ([False, False, True], False)
    # 3 + 5 = 8 withheld: under 2 x 5, so the total is hidden too (the 5 stays withheld)
    assert run([3, 5, 6]) == ([False, True, False], True)
    # 1 + 5 = 6 withheld: the 5 is at least 5, so the small one is 1. 4 + 5 = 9 with the 5
    # no more than the other 5 shown: the small one is 4. Hide the total too, the 5 withheld
    # (shown, it would let a reader run the rule again and learn the sum).
    assert run([1, 5, 5]) == ([False, True, False], True)
    assert run([4, 5, 5]) == ([False, True, False], True)
    # nothing small, or a total itself small (already "fewer than 5"): nothing to do
    assert run([9, 20]) == ([False, False], False)
    assert run([2, 1]) == ([False, False], False)


def test_chart_series_hides_the_mean_of_small_months_only() -> None:
    """Target before 4 and 4: a mean line at 4.0 (or the total 8) would pin both at 4.

    The buffer's six before months of 1 would be pinned by the mean 1.0 the same way. The
    months are drawn as bands and no mean is drawn; the after means (with no small month)
    are.
    """
    monthly = pd.DataFrame(
        {
            "month": pd.date_range("2023-10-01", periods=8, freq="MS"),
            "period": ["before"] * 6 + ["during", "after"],
            "target": [0, 0, 0, 0, 4, 4, 10, 30],
            "buffer": [1] * 6 + [10, 20],
            "control": [100] * 8,
        }
    )
    s = _series(monthly, 5)
    for zone in ("target", "buffer"):
        part = s[s["zone"] == zone]
        before = part[part["period"] == "before"]
        assert before["mean"].isna().all(), zone
        assert not before["withheld"].any(), zone
        assert before["count"].dropna().tolist() == ([0.0] * 4 if zone == "target" else [])
        assert part["mean"].tolist()[-1] == part["count"].tolist()[-1]  # after mean shown
    assert s[s["zone"] == "control"]["mean"].tolist()[0] == 100.0


def test_chart_series_missing_months_are_gaps(gap: PilotResult) -> None:
    assert gap.monthly["period"].tolist()[1] == "missing"
    s = _series(gap.monthly, 5)
    feb = s[s["month"] == pd.Timestamp("2024-02-01")]
    assert len(feb) == 3
    assert feb["missing"].all() and feb["count"].isna().all() and not feb["small"].any()
    # the before mean is over the two months in the data: 60 / 2, not 60 / 3
    target = s[(s["zone"] == "target") & (s["period"] == "before")]
    assert target["mean"].tolist() == [30.0, 30.0]
    assert math.isnan(feb["mean"].tolist()[0])


# ------------------------------------------------------------------------------ images


def test_pilot_chart_png_valid(fell: PilotResult) -> None:
    png = pilot_chart_png(fell, width_px=700, height_px=500, dpi=100)
    assert png.startswith(PNG_MAGIC)
    assert _png_size(png) == (700, 500)
    w, h = _png_size(pilot_chart_png(fell, width_px=600, synthetic=True))
    assert w == 600 and h > 300


def test_pilot_chart_png_does_not_draw_suppressed_values(small: PilotResult) -> None:
    """Swapping two suppressed months (same total) leaves the image unchanged, byte for byte.

    Swapping two shown months changes it: the chart does draw what is not suppressed.
    """
    monthly = small.monthly
    assert monthly["target"].tolist()[:2] == [2, 1]  # both suppressed, before total 3

    def chart(target: list[int]) -> bytes:
        changed = monthly.assign(target=target)
        return pilot_chart_png(dataclasses.replace(small, monthly=changed), width_px=500)

    base = chart(monthly["target"].tolist())
    assert chart([1, 2, *monthly["target"].tolist()[2:]]) == base
    # the buffer's 38 is withheld too (with the published total 40 it would reveal the 2)
    buffer = monthly["buffer"].tolist()
    assert buffer[:2] == [2, 38]
    moved = dataclasses.replace(small, monthly=monthly.assign(buffer=[3, 37, *buffer[2:]]))
    assert pilot_chart_png(moved, width_px=500) == pilot_chart_png(small, width_px=500)
    control = monthly["control"].tolist()
    changed = dataclasses.replace(small, monthly=monthly.assign(control=[*control[:-1], 320]))
    assert pilot_chart_png(changed, width_px=500) != pilot_chart_png(small, width_px=500)


def test_pilot_map_png_valid(fell: PilotResult) -> None:
    before = fell.geometries.copy()
    png = pilot_map_png(fell, wards=_wards().to_crs("EPSG:4326"), width_px=800, height_px=400)
    assert png.startswith(PNG_MAGIC)
    assert _png_size(png) == (800, 400)
    w, h = _png_size(pilot_map_png(fell, width_px=500, synthetic=True))
    assert w == 500 and 0.57 * 500 - 1 <= h <= 500
    geopandas.testing.assert_geodataframe_equal(fell.geometries, before)  # not modified


def test_images_reject_bad_arguments(fell: PilotResult) -> None:
    with pytest.raises(ParameterError, match="result"):
        pilot_chart_png(fell.counts)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="width_px"):
        pilot_chart_png(fell, width_px=10)
    with pytest.raises(ParameterError, match="threshold"):
        pilot_chart_png(fell, threshold=0)
    with pytest.raises(ParameterError, match="wards"):
        pilot_map_png(fell, wards=pd.DataFrame())  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="result"):
        pilot_map_png("result")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ the page


def test_html_headline_matches_result(fell: PilotResult) -> None:
    assert fell.relative_change_pct == pytest.approx(-50.0)
    assert fell.significant
    lo, hi = fell.relative_change_ci
    assert (round(lo), round(hi)) == (-59, -38)
    page = pilot_report_html(fell, generated="1 August 2024")
    assert "Change beyond the control area: −50% (95% confidence interval −59% to −38%)" in page
    text = _text(page)
    for sentence in pilot_summary(fell, suppress_below=5):
        assert sentence.replace("'", "&#x27;") in text
    assert _row(page, "Target area")[2:] == ["300", "100.0", "70", "70.0", "150", "50.0", "−50%"]
    assert _row(page, "Buffer ring")[2:] == ["60", "20.0", "20", "20.0", "60", "20.0", "0%"]
    control = ["1,500", "500.0", "500", "500.0", "1,500", "500.0", "0%"]
    assert _row(page, "Control area")[2:] == control
    assert "January 2024 to March 2024" in page and "May 2024 to July 2024" in page
    assert "all crime types" in page and "1 August 2024" in page  # categories=None


def test_html_no_evidence_wording() -> None:
    """Target 60 -> 40, control 200 -> 200: a third lower, but the interval includes 0."""
    res = _pilot(
        [
            ("2024-02", 30, 10, 100),
            ("2024-03", 30, 10, 100),
            ("2024-04", 10, 5, 100),
            ("2024-05", 20, 12, 100),
            ("2024-06", 20, 12, 100),
        ]
    )
    assert not res.significant
    page = pilot_report_html(res)
    lo, hi = res.relative_change_ci
    assert lo < 0 < hi
    assert (
        f"No evidence of a change beyond the control area: −33% (95% confidence interval "
        f"{lo:+.0f}% to {hi:+.0f}%, which includes no change)".replace("-", "−")
    ) in page
    assert "Change beyond the control area: −33%" not in page


def test_html_no_control_wording() -> None:
    """A control inside the buffer ring is empty once target and buffer are cut out."""
    table = [("2024-02", 30, 10, 0), ("2024-03", 30, 10, 0), ("2024-04", 20, 10, 0)]
    table += [("2024-05", 20, 10, 0), ("2024-06", 20, 10, 0)]
    res = _pilot(table, control=box(120, 0, 180, 100))
    assert not res.has_control
    page = pilot_report_html(res)
    assert "No control area: the change in the target cannot be told apart" in page
    with pytest.raises(AssertionError):
        _row(page, "Control area")


def test_html_suppresses_small_counts(small: PilotResult) -> None:
    assert [int(v) for v in small.counts.to_numpy()[0]] == [3, 0, 2]  # the target row
    page = pilot_report_html(small)
    row = _row(page, "Target area")
    assert row[2] == "fewer than 5" and row[6] == "fewer than 5"
    assert row[3] == "–" and row[7] == "–" and row[8] == "–"  # rates and change left out
    assert row[4:6] == ["0", "0.0"]  # zero is shown
    for cell in row[2:]:
        assert not SMALL.search(cell), cell
    assert "too small to publish a change beyond the control area" in page
    assert "fewer than 5 incidents" in page  # from the summary sentences
    assert "−33%" not in page  # 3 -> 2 would show as a change of −33%


def test_html_missing_month_note(gap: PilotResult) -> None:
    page = pilot_report_html(gap)
    assert "Missing from the data and left out (not counted as zero): Feb 2024." in page
    assert "Before<br>2 months" in page  # the before period counts only its months in data


def test_html_escapes_user_text(fell: PilotResult) -> None:
    page = pilot_report_html(
        fell, title=f"Pilot {EVIL}", area_name=f"Area {EVIL}", wards=_wards(EVIL)
    )
    assert EVIL not in page
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # <title>, <h1>, area


def test_html_self_contained(fell: PilotResult) -> None:
    page = pilot_report_html(fell, wards=_wards())
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("data:image/png;base64,") == 2
    assert external_urls(page) == []
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "<a " not in page.lower()
    text = _text(page)
    assert "http:" not in text and "https:" not in text and "//" not in text
    for ref in re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.I):
        assert ref.startswith("data:image/png;base64,"), ref[:60]
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "@page" in page and "A4" in page and "@media print" in page
    assert "Open Government Licence v3.0" in page and "data.police.uk" in page
    assert "How to read this" in page and "not proof" in page
    assert "SYNTHETIC DEMO DATA" not in page
    for uri in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page):
        assert base64.b64decode(uri).startswith(PNG_MAGIC)


def test_html_synthetic_banner(fell: PilotResult) -> None:
    page = pilot_report_html(fell, synthetic=True)
    assert "SYNTHETIC DEMO DATA" in page and "not real crimes" in page
    assert "Open Government Licence" not in page  # invented data is not police.uk data


def test_html_bad_arguments(fell: PilotResult) -> None:
    with pytest.raises(ParameterError, match="result") as err:
        pilot_report_html(fell.to_dict())  # type: ignore[arg-type]
    assert "\n" not in str(err.value) and "evaluate_pilot" in str(err.value)
    with pytest.raises(ParameterError, match="title"):
        pilot_report_html(fell, title=" ")
    with pytest.raises(ParameterError, match="area_name"):
        pilot_report_html(fell, area_name=5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="threshold"):
        pilot_report_html(fell, threshold=2.5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="synthetic"):
        pilot_report_html(fell, synthetic="yes")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="wards"):
        pilot_report_html(fell, wards=[1, 2])  # type: ignore[arg-type]


def test_write_pilot_report(fell: PilotResult, tmp_path: Path) -> None:
    target = tmp_path / "out" / "pilot.html"
    path = write_pilot_report(fell, target, title="Pilot", generated="1 August 2024")
    assert path == target
    assert [p.name for p in target.parent.iterdir()] == ["pilot.html"]  # no temp file left
    page = target.read_text(encoding="utf-8")
    assert page == pilot_report_html(fell, title="Pilot", generated="1 August 2024")
    with pytest.raises(ParameterError, match="path"):
        write_pilot_report(fell, 3)  # type: ignore[arg-type]


def test_demo_corridor_report(tmp_path: Path) -> None:
    """The demo's St James Street corridor: the planted −35% shows, with its interval."""
    incidents, _ = geodata.load_sample_incidents()
    wards, _ = geodata.load_wards(geodata.SAMPLE_WARDS)
    corridor = json.loads((geodata.SAMPLE_DIR / "truth.json").read_text())["corridor"]
    line = gpd.GeoSeries([LineString(corridor["line_lonlat"])], crs="EPSG:4326")
    target = line.to_crs(incidents.crs).buffer(corridor["width_m"])
    res = evaluate_pilot(
        incidents,
        target=target,
        start="2023-04",
        end="2023-09",
        study_area=wards,
        categories=["Violence and sexual offences"],
    )
    path = write_pilot_report(
        res, tmp_path / "pilot.html", area_name="St James Street", wards=wards, synthetic=True
    )
    page = path.read_text(encoding="utf-8")
    lo, hi = res.relative_change_ci
    expected = (
        f"Change beyond the control area: {res.relative_change_pct:+.0f}% "
        f"(95% confidence interval {lo:+.0f}% to {hi:+.0f}%)"
    ).replace("-", "−")
    # (the default 99 placebo areas widen the interval a little: −44% to −25% without them)
    assert expected == "Change beyond the control area: −35% (95% confidence interval −45% to −24%)"
    assert expected in page
    assert "SYNTHETIC DEMO DATA" in page and external_urls(page) == []
    assert "Violence and sexual offences" in page and "St James Street" in page


# ------------------------------------------------------------------------------ small months


def _counts_text(page: str) -> str:
    """The counts table, its notes and the summary sentences: where the totals are written."""
    text = _text(page)
    return text[text.index("<h2>Counts</h2>") : text.index('<figure class="map">')]


def test_html_hides_a_total_of_small_months_only() -> None:
    """Target before 4 and 4 (February, March): the total 8 with two months would pin both.

    The table shows "not shown" and "–" (no rate 4.0, no change), the summary sentence says
    "an unpublished number", no effect is published, and the chart is the same as for 1 and
    2 (no mean line, two bands): nothing on the page tells 4 + 4 from any other split.
    """
    table = [("2024-02", 4, 20, 300), ("2024-03", 4, 20, 300), ("2024-04", 10, 20, 300)]
    table += [("2024-05", 30, 20, 300), ("2024-06", 30, 20, 300)]
    res = _pilot(table)
    assert res.counts.loc["target"].tolist() == [8, 10, 60]
    page = pilot_report_html(res)
    assert _row(page, "Target area")[2:] == ["not shown", "–", "10", "10.0", "60", "30.0", "–"]
    text = _counts_text(page)
    assert not re.search(r"(?<![\d,.-])8(?![\d,])|(?<!\d)4\.0", text)
    assert "target area had an unpublished number of incidents" in text
    assert (
        "Not shown: a total that, with the months drawn, could give away a month of fewer than 5"
        in text
    )
    assert "too small to publish a change beyond the control area" in page
    assert "relative to the control area (95%" in text  # the buffer is still reported
    assert "Relative to the control area the change" not in text
    other = res.monthly.assign(target=[1, 2, *res.monthly["target"].tolist()[2:]])
    assert pilot_chart_png(res, width_px=500) == pilot_chart_png(
        dataclasses.replace(res, monthly=other), width_px=500
    )


def test_html_hides_a_total_of_six_months_of_one() -> None:
    """Buffer before: six months of 1, total 6: with six months it would pin each at 1."""
    table = [(f"2023-{m}", 30, 1, 300) for m in (10, 11, 12)]
    table += [(f"2024-0{m}", 30, 1, 300) for m in (1, 2, 3)]
    table += [("2024-04", 30, 10, 300)] + [(f"2024-{m:02d}", 20, 10, 300) for m in range(5, 11)]
    res = _pilot(table)
    assert res.months["before"][2] == 6 and res.counts.loc["buffer", "before"] == 6
    page = pilot_report_html(res)
    assert _row(page, "Buffer ring")[2:] == ["not shown", "–", "10", "10.0", "60", "10.0", "–"]
    text = _counts_text(page)
    # the number of months (the "6 months" heading) is published, the total and mean are not
    assert not re.search(r"(?<![\d,.−-])6(?![\d,]| months)|(?<!\d)1\.0(?!\d| times)", text)
    assert "Weighted Displacement" not in text  # worked out from the buffer's total
    # the target's effect does not depend on the buffer: it is still published
    assert _row(page, "Target area")[2:4] == ["180", "30.0"]
    assert "confidence interval" in _text(page).split("<h2>Counts</h2>")[0]


def test_html_withholds_a_large_month_with_a_small_one() -> None:
    """Target before 2, 38, 50 (total 90 published): the 38 is withheld with the 2.

    The chart does not change when 2 and 38 become 4 and 36 (same total), so the 2 cannot be
    worked out from the total; the table shows the total 90 and its rate.
    """
    table = [("2024-01", 2, 20, 300), ("2024-02", 38, 20, 300), ("2024-03", 50, 20, 300)]
    table += [("2024-04", 40, 20, 300)] + [(f"2024-0{m}", 40, 20, 300) for m in (5, 6, 7)]
    res = _pilot(table)
    s = _series(res.monthly, 5)
    target = s[(s["zone"] == "target") & (s["period"] == "before")]
    assert target["withheld"].tolist() == [False, True, False]
    assert target["mean"].tolist() == [30.0, 30.0, 30.0]
    assert _row(pilot_report_html(res), "Target area")[2:4] == ["90", "30.0"]
    other = res.monthly.assign(target=[4, 36, *res.monthly["target"].tolist()[2:]])
    assert pilot_chart_png(res, width_px=500) == pilot_chart_png(
        dataclasses.replace(res, monthly=other), width_px=500
    )


def test_html_operation_months_all_missing() -> None:
    """April 2024 (the operation) has no incident anywhere: "–" for its counts, not 0."""
    table = [("2024-02", 30, 20, 300), ("2024-03", 30, 20, 300)]
    table += [("2024-05", 30, 20, 300), ("2024-06", 30, 20, 300)]
    res = _pilot(table)
    assert res.months["during"][2] == 0 and res.monthly["period"].tolist()[2] == "missing"
    page = pilot_report_html(res)
    for zone in ("Target area", "Buffer ring", "Control area"):
        assert _row(page, zone)[4:6] == ["–", "–"], zone
    assert _row(page, "Target area")[2:4] == ["60", "30.0"]
    assert "The operation&#x27;s months are not in the data" in page
    assert "Missing from the data and left out (not counted as zero): Apr 2024." in page


def test_page_never_prints_negative_zero(fell: PilotResult) -> None:
    """A change of −0.4% is "0%" everywhere on the page (it was "−0%" in the counts table)."""
    nearly = dataclasses.replace(
        fell,
        pct_change={**fell.pct_change, "target": -0.4, "buffer": -0.4, "control": -0.4},
        relative_change_pct=-0.4,
        relative_change_ci=(-0.4, 0.3),
    )
    page = pilot_report_html(nearly, generated="1 July 2024")
    assert not re.search(r"-0(\.0+)?%", page)
    assert _row(page, "Target area")[-1] == "0%"
