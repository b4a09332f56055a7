"""Tests for hotspots.briefing: suppression, the static map and the printable page."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import geopandas as gpd
import geopandas.testing
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import imread
from shapely.geometry import box

import geodata
from hotspots import find_hotspots
from hotspots.errors import ParameterError
from hotspots.filter import filter_incidents
from hotspots.overlay import overlay_hotspots, ward_table
from hotspots.report.briefing import briefing_html, write_briefing
from hotspots.report.briefing_content import briefing_content
from hotspots.report.briefing_map import briefing_map_png
from hotspots.report.briefing_tables import (
    BRIEFING_COLUMNS,
    WARD_BRIEFING_COLUMNS,
    suppressed_table,
    suppressed_ward_table,
)
from hotspots.report.wording import fewer_than, suppress_small
from hotspots.trend import compare_counts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = re.compile(r"(?<![\d,.])[1-4](?![\d,.%])")
EVIL = "<script>alert(1)</script>"


# ------------------------------------------------------------------------------ fixtures


def _hotspots(
    counts: list[int] | None = None, *, street: str = "High Street", ward: str = "Ashmere"
) -> gpd.GeoDataFrame:
    """Two hand-made hotspots: H01 with 12 incidents, H02 with 3 (small counts in the text)."""
    counts = counts or [12, 3]
    n = len(counts)
    total = 100
    return gpd.GeoDataFrame(
        {
            "hotspot_id": [f"H{i + 1:02d}" for i in range(n)],
            "rank": list(range(1, n + 1)),
            "incidents": counts,
            "share": [c / total for c in counts],
            "area_km2": [0.04] * n,
            "density_km2": [c / 0.04 for c in counts],
            "pai": [c / total / (0.04 / 4.0) for c in counts],
            "top_categories": (
                [[("Drugs", 9), ("Burglary", 3)]] + [[("Robbery", 2), ("Drugs", 1)]] * n
            )[:n],
            "top_locations": ([[(street, 8), ("Mill Lane", 4)]] + [[("Mill Lane", 3)]] * n)[:n],
            "wards": ([[ward]] + [["Brindle Green"]] * n)[:n],
            "patrol_coverage": [np.nan] * n,
            "trend": ([0.5] + [-1.0] * n)[:n],
            "first_month": ["2024-01"] * n,
            "last_month": (["2024-06"] + ["2024-03"] * n)[:n],
        },
        geometry=[box(1000 * i, 0, 1000 * i + 200, 200) for i in range(n)],
        crs="EPSG:27700",
    )


def _incidents(n: int = 100) -> gpd.GeoDataFrame:
    """``n`` hand-made incidents over six months, in metres."""
    months = pd.to_datetime([f"2024-{1 + i % 6:02d}-01" for i in range(n)])
    return gpd.GeoDataFrame(
        {"month": months, "category": ["Drugs"] * n},
        geometry=gpd.points_from_xy(np.arange(n) * 10.0, np.zeros(n)),
        crs="EPSG:27700",
    )


def _wards(name: str = "Ashmere") -> gpd.GeoDataFrame:
    """Two wards tiling the hand-made hotspots."""
    return gpd.GeoDataFrame(
        {"ward_code": ["E05000001", "E05000002"], "ward_name": [name, "Brindle Green"]},
        geometry=[box(-500, -500, 600, 700), box(600, -500, 1700, 700)],
        crs="EPSG:27700",
    )


@pytest.fixture(scope="module")
def demo() -> dict[str, object]:
    """The demo borough's 2024 hotspots with wards, patrol areas and the ward table."""
    incidents, _ = geodata.load_sample_incidents()
    inc = filter_incidents(incidents, start="2024-01", end="2024-12")
    result = find_hotspots(inc)
    wards, _ = geodata.load_wards(geodata.SAMPLE_WARDS)
    patrols, _ = geodata.load_patrol_areas(geodata.SAMPLE_PATROL_AREAS)
    hs = overlay_hotspots(
        result.hotspots, inc, hotspot_ids=result.hotspot_ids, wards=wards, patrol_areas=patrols
    )
    table = ward_table(inc, wards, hotspots=hs, hotspot_ids=result.hotspot_ids)
    return {
        "incidents": inc,
        "hotspots": hs,
        "wards": wards,
        "patrols": patrols,
        "table": table.table,
        "outside": table.incidents_outside,
    }


# ------------------------------------------------------------------------------ suppress_small


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1, "fewer than 5"),
        (4, "fewer than 5"),
        (5, "5"),
        (1234, "1,234"),
        (np.int64(1234), "1,234"),
        (4.0, "fewer than 5"),
        (float("nan"), "–"),
        (None, "–"),
    ],
)
def test_suppress_small(value: float, expected: str) -> None:
    assert suppress_small(value) == expected


def test_suppress_small_threshold_10() -> None:
    assert suppress_small(9, threshold=10) == "fewer than 10"
    assert suppress_small(10, threshold=10) == "10"
    assert suppress_small(0, threshold=10) == "0"
    assert suppress_small(4, threshold=1) == "4"


@pytest.mark.parametrize(
    ("value", "threshold"), [(-1, 5), (math.inf, 5), (True, 5), ("3", 5), (3, 0), (3, 2.5)]
)
def test_suppress_small_rejects(value: object, threshold: object) -> None:
    with pytest.raises(ParameterError) as err:
        suppress_small(value, threshold=threshold)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------ tables


def test_suppressed_table_never_shows_small_counts() -> None:
    hs = _hotspots([12, 3])
    before = hs.copy()
    result = suppressed_table(hs)
    table = result.table
    assert table.columns.tolist() == BRIEFING_COLUMNS
    assert table["Hotspot"].tolist() == ["H01", "H02"]
    assert table["Incidents"].tolist() == ["12", "fewer than 5"]
    # 12 less Drugs' 9 would give Burglary's 3 away (and 12 - 8 Mill Lane's 4): names alone
    assert table.loc[0, "Top crime types"] == "Drugs; Burglary"
    assert table.loc[0, "Top streets"] == "High Street; Mill Lane"
    assert table.loc[1, "Top crime types"] == "Robbery fewer than 5; Drugs fewer than 5"
    # Figures that would reveal the suppressed count are hidden too.
    assert [table.loc[1, c] for c in ("Share", "PAI", "Trend")] == ["–", "–", "–"]
    assert table.loc[0, "Share"] == "12.0%"
    assert table.loc[0, "Trend"] == "up 50% on the previous period"
    assert table.loc[0, "Months"] == "Jan 2024 – Jun 2024"
    for cell in table.drop(columns=["Months"]).to_numpy().ravel():
        assert not SMALL.search(str(cell)), cell
    pd.testing.assert_frame_equal(hs, before)
    assert (result.hotspots_total, result.hotspots_shown) == (2, 2)


def test_suppressed_table_top_n_and_rank_order() -> None:
    hs = _hotspots([30, 20, 10]).iloc[::-1]
    result = suppressed_table(hs, top_n=2, threshold=15)
    table = result.table
    assert table["Hotspot"].tolist() == ["H01", "H02"]
    assert (result.hotspots_total, result.hotspots_shown) == (3, 2)
    assert table["Incidents"].tolist() == ["30", "20"]
    assert table.loc[0, "Top crime types"] == "Drugs fewer than 15; Burglary fewer than 15"


def test_suppressed_table_empty_and_errors() -> None:
    empty = suppressed_table(_hotspots().iloc[:0]).table
    assert empty.columns.tolist() == BRIEFING_COLUMNS
    assert len(empty) == 0
    with pytest.raises(ParameterError, match="hotspots"):
        suppressed_table(pd.DataFrame({"x": [1]}))
    with pytest.raises(ParameterError, match="top_n"):
        suppressed_table(_hotspots(), top_n=0)


def test_suppressed_ward_table() -> None:
    """Primary and complementary suppression in one small table.

    Changed with the complementary rule of briefing.py: a withheld ward now shows its own count
    in hotspots (0 here; the column's own rule decides it) instead of a blanket "–", and the
    table says that the hotspot column's printed total would expose Ashmere's 2.
    """
    wt = pd.DataFrame(
        {
            "ward_code": ["E1", "E2", "E3", "E4"],
            "ward_name": ["Ashmere", "Brindle", "Copper", "Dunmore"],
            "incidents": [40, 3, 0, 25],
            "incidents_per_1000": [4.0, 0.3, 0.0, 2.5],
            "hotspots": [["H01"], [], [], []],
            "hotspot_incidents": [2, 0, 0, 0],
            "share_in_hotspots": [0.05, 0.0, np.nan, 0.0],
        }
    )
    result = suppressed_ward_table(wt)
    out = result.table
    assert out.columns.tolist() == WARD_BRIEFING_COLUMNS
    assert out.iloc[0].tolist() == ["Ashmere", "40", "4.0", "H01", "fewer than 5", "–"]
    assert out.iloc[1].tolist() == ["Brindle", "fewer than 5", "–", "none", "0", "–"]
    assert out.iloc[2].tolist() == ["Copper", "0", "0.0", "none", "0", "–"]
    # one ward suppressed: the smallest other ward is withheld, or the total would reveal it
    assert out.iloc[3].tolist() == ["Dunmore", "withheld", "–", "none", "0", "–"]
    # Ashmere's 2 is the only count in hotspots: no other cell can be withheld to cover it, so
    # the page must not print that column's total exactly
    assert (result.incidents_total_exposes, result.hotspot_incidents_total_exposes) == (False, True)


def test_suppressed_ward_table_secondary_suppression() -> None:
    """No small count can be worked back by subtraction, from the total or within a row.

    Changed with the complementary rule: two small wards (2 and 4) used to be left as they
    were, but their sum 6 (known from the total) would pin them more tightly; each column's
    hidden group now needs a withheld cell and a total of at least 10.
    """
    wt = pd.DataFrame(
        {
            "ward_name": ["A", "B", "C", "D"],
            "incidents": [40, 60, 2, 4],
            "hotspot_incidents": [37, 20, 0, 0],
            "share_in_hotspots": [37 / 40, 1 / 3, 0.0, 0.0],
        }
    )
    result = suppressed_ward_table(wt)
    out = result.table
    # Incidents: hidden 2 + 4 = 6 < 10, so the smallest ward of at least 5 (A, 40) is withheld:
    # the reader knows only A + C + D = 46 with C, D in 1..4 and A >= 37 (its hotspot count)
    assert out["Incidents"].tolist() == ["withheld", "60", "fewer than 5", "fewer than 5"]
    # Hotspots: A's 37 is "–" (40 - 37 = 3 outside hotspots is small); B's 20 is withheld, or
    # 57 - 20 = 37 would give it back. A + B = 57 with A in 36..39 leaves B in 18..21.
    assert out["Incidents in hotspots"].tolist() == ["–", "withheld", "0", "0"]
    assert out["Share in hotspots"].tolist() == ["–", "–", "–", "–"]
    text = " ".join(out.to_numpy().ravel())
    assert "37" not in text and "40" not in text and "20" not in text
    assert (result.incidents_total_exposes, result.hotspot_incidents_total_exposes) == (
        False,
        False,
    )


def test_ward_table_hotspot_column_total() -> None:
    """Repro (b): 97 = 207 - 50 - 60 from the headline "207 incidents" before the fix."""
    wt = pd.DataFrame(
        {
            "ward_name": ["A", "B", "C"],
            "incidents": [100, 200, 300],
            "incidents_per_1000": [1.0, 2.0, 3.0],
            "hotspots": [["H01"], ["H02"], ["H03"]],
            "hotspot_incidents": [97, 50, 60],
            "share_in_hotspots": [0.97, 0.25, 0.2],
        }
    )
    out = suppressed_ward_table(wt).table
    assert out.iloc[0].tolist() == ["A", "100", "1.0", "H01", "–", "–"]
    # 207 - 60 = 147 = A + B, A in 96..99 (100 minus 1..4): B in 48..51, A not pinned
    assert out.iloc[1].tolist() == ["B", "200", "2.0", "H02", "withheld", "–"]
    assert out.iloc[2].tolist() == ["C", "300", "3.0", "H03", "60", "20.0%"]
    text = " ".join(out.to_numpy().ravel())
    assert "97" not in text and "50" not in text and "25.0%" not in text


def test_ward_table_two_small_wards() -> None:
    """Repro (c): 708 - 300 - 400 = 8 with each <= 4 pinned both small wards to 4."""
    wt = pd.DataFrame({"ward_name": ["A", "B", "C", "D"], "incidents": [4, 4, 300, 400]})
    out = suppressed_ward_table(wt, incidents_outside=0).table
    # now 708 - 400 = 308 = A + B + C with C >= 5: A and B can each be 1..4
    assert out["Incidents"].tolist() == ["fewer than 5", "fewer than 5", "withheld", "400"]
    assert "300" not in " ".join(out.to_numpy().ravel())


def test_ward_table_small_outside_count() -> None:
    """Repro (a): 103 analysed - 40 - 60 = 3 outside every ward, printed as "fewer than 5"."""
    wt = pd.DataFrame({"ward_name": ["A", "B"], "incidents": [40, 60]})
    out = suppressed_ward_table(wt, incidents_outside=3).table
    # 103 - 60 = 43 = A + outside, with A >= 5 and outside 1..4
    assert out["Incidents"].tolist() == ["withheld", "60"]
    # without it the outside count is taken as 0 (the wards add up to the total)
    assert suppressed_ward_table(wt).table["Incidents"].tolist() == ["40", "60"]
    # a large outside count is printed: nothing to protect
    assert suppressed_ward_table(wt, incidents_outside=30).table["Incidents"].tolist() == [
        "40",
        "60",
    ]
    page = _page(incidents=_incidents(103), ward_table=wt, incidents_outside=3)
    wards = page[page.index("<h2>Wards</h2>") : page.index("<h2>How to read this</h2>")]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>.*?</td>", wards)]
    assert cells[:2] == ["A", "withheld"]
    assert "40" not in cells
    assert "fewer than 5 incidents fall outside every ward." in wards
    assert "3 incidents" not in page
    assert "withheld so that a small count elsewhere in the table cannot be worked out" in page
    assert "103" in page  # the total is still printed


def test_briefing_html_withholds_an_exposing_total() -> None:
    """Two wards of 4 and nothing else: the printed total 8 would pin both, so it is withheld."""
    wt = pd.DataFrame({"ward_name": ["A", "B"], "incidents": [4, 4]})
    assert suppressed_ward_table(wt, incidents_outside=0).incidents_total_exposes is True
    page = _page(incidents=_incidents(8), ward_table=wt, incidents_outside=0)
    assert "<b>withheld</b>incidents analysed" in page
    assert "<b>8</b>" not in page


# ------------------------------------------------------------------------------ map image


def test_briefing_map_png_demo(demo: dict[str, object]) -> None:
    hs = demo["hotspots"]
    assert isinstance(hs, gpd.GeoDataFrame) and len(hs) > 0
    before = hs.copy()
    png = briefing_map_png(
        hs, wards=demo["wards"], patrol_areas=demo["patrols"], title="Demo", synthetic=True,
        width_px=800, height_px=600, dpi=100,
    )  # fmt: skip
    assert png.startswith(PNG_MAGIC)
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (600, 800)
    assert float(image[..., :3].std()) > 0.05  # not a blank image
    geopandas.testing.assert_geodataframe_equal(hs, before)


def test_briefing_map_png_default_height_and_wgs84_layers() -> None:
    png = briefing_map_png(_hotspots(), wards=_wards().to_crs("EPSG:4326"), width_px=600)
    h, w = imread(io.BytesIO(png), format="png").shape[:2]
    assert w == 600
    assert 0.57 * 600 - 1 <= h <= 600


def test_briefing_map_png_empty_and_errors() -> None:
    png = briefing_map_png(_hotspots().iloc[:0], width_px=400, height_px=300)
    assert imread(io.BytesIO(png), format="png").shape[:2] == (300, 400)
    with pytest.raises(ParameterError, match="width_px"):
        briefing_map_png(_hotspots(), width_px=10)
    with pytest.raises(ParameterError, match="wards"):
        briefing_map_png(_hotspots(), wards=pd.DataFrame())  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ the page


def _page(**kwargs: object) -> str:
    args: dict[str, object] = {
        "hotspots": _hotspots(),
        "incidents": _incidents(),
        "period": ("2024-01", "2024-06"),
        "title": "Test briefing",
        "generated": "1 July 2024",
    }
    args.update(kwargs)
    return briefing_html(**args)  # type: ignore[arg-type]


def test_briefing_html_self_contained() -> None:
    page = _page(wards=_wards())
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http:" not in text and "https:" not in text and "//" not in text
    for ref in re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.I):
        assert ref.startswith("data:image/png;base64,"), ref[:60]
    assert not re.search(r"url\(", page, flags=re.I)
    assert "@page" in page and "A4" in page
    assert "Test briefing" in page and "January 2024 to June 2024" in page
    assert "1 July 2024" in page


def test_briefing_html_escapes_user_text() -> None:
    hs = _hotspots(street=EVIL, ward=EVIL)
    wt = pd.DataFrame({"ward_code": ["E1"], "ward_name": [EVIL], "incidents": [12]})
    page = _page(hotspots=hs, wards=_wards(EVIL), ward_table=wt, title=f"Title {EVIL}")
    assert EVIL not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_briefing_html_headline_and_suppression() -> None:
    page = _page()
    assert "fewer than 5" in page
    # 15 of 100 incidents are in hotspots: 15 less H01's 12 would give H02's 3 away
    assert "15.0%" not in page and "15 incidents" not in page
    page = _page(hotspots=_hotspots([12, 30]))
    assert "42.0%" in page  # no count hidden: the share in hotspots is printed
    assert "SYNTHETIC DEMO DATA" not in page
    body = re.sub(r"<style>.*?</style>|data:image/png;base64,[^\"']+", "", page, flags=re.S)
    table = body[body.index("<table>") : body.index("</table>")]
    for cell in re.findall(r"<td[^>]*>(.*?)</td>", table):
        text = re.sub(r"<[^>]+>", " ", cell)
        if "Jan" not in text:  # the months column holds dates
            assert not SMALL.search(text), text


def test_briefing_html_synthetic_notice() -> None:
    page = _page(synthetic=True)
    assert "SYNTHETIC DEMO DATA" in page
    assert "not real crimes" in page


def test_briefing_html_empty_hotspots() -> None:
    page = _page(hotspots=_hotspots().iloc[:0])
    assert "No hotspots were found" in page
    assert "data:image/png;base64," in page


def test_briefing_html_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="period"):
        _page(period=("2024-1", "2024-06"))
    with pytest.raises(ParameterError, match="period"):
        _page(period=("2024-06", "2024-01"))
    with pytest.raises(ParameterError, match="title"):
        _page(title=" ")
    with pytest.raises(ParameterError, match="incidents"):
        _page(incidents=[1, 2])


def test_write_briefing_demo(demo: dict[str, object], tmp_path: Path) -> None:
    target = tmp_path / "out" / "briefing.html"
    path = write_briefing(
        target,
        hotspots=demo["hotspots"],  # type: ignore[arg-type]
        incidents=demo["incidents"],  # type: ignore[arg-type]
        wards=demo["wards"],  # type: ignore[arg-type]
        patrol_areas=demo["patrols"],  # type: ignore[arg-type]
        ward_table=demo["table"],  # type: ignore[arg-type]
        incidents_outside=demo["outside"],  # type: ignore[arg-type]
        period=("2024-01", "2024-12"),
        title="Demo Borough hotspots 2024",
        synthetic=True,
    )
    assert path == target
    assert [p.name for p in target.parent.iterdir()] == ["briefing.html"]  # no temp file left
    page = target.read_text(encoding="utf-8")
    assert "SYNTHETIC DEMO DATA" in page and "Wards" in page and "H01" in page
    assert "January 2024 to December 2024" in page
    assert "http:" not in page and "https:" not in page


def test_ward_table_respects_what_the_hotspot_table_prints() -> None:
    """A ward whose hotspots lie in it alone has its hotspot count printed, in effect, by the
    hotspot table (the sum of their counts): it is not the cell withheld to protect a small
    count elsewhere; and when its incidents outside hotspots are small, its incidents are hidden.
    """
    wt = pd.DataFrame(
        {
            "ward_name": ["Alder", "Birch", "Cedar", "Damson"],
            "incidents": [900, 700, 800, 100],
            "hotspots": [["H01"], ["H02", "H03"], ["H03"], ["H04"]],
            "hotspot_incidents": [416, 600, 3, 97],
            "share_in_hotspots": [416 / 900, 600 / 700, 3 / 800, 0.97],
        }
    )
    hotspot_wards = {
        "H01": ["Alder"],
        "H02": ["Birch"],
        "H03": ["Birch", "Cedar"],
        "H04": ["Damson"],
    }
    blind = suppressed_ward_table(wt).table
    assert blind.iloc[0]["Incidents in hotspots"] == "withheld"  # H01's 416 would undo it
    out = suppressed_ward_table(wt, hotspot_wards=hotspot_wards).table
    column = out["Incidents in hotspots"].tolist()
    assert column[2] == "fewer than 5"
    assert column[0] == "416"  # printed anyway as H01's count
    assert column[1] == "withheld"  # H02 and H03 span wards: 600 cannot be worked out
    # Damson: 100 - 97 = 3 outside hotspots; H04 (97) lies in Damson alone, so the 100 goes
    damson = out.iloc[3]
    assert damson["Incidents"] == "–" and damson["Share in hotspots"] == "–"
    assert "100" not in " ".join(out.to_numpy().ravel())
    assert "withheld" in out["Incidents"].tolist()  # so the total does not give the 100 back


def test_briefing_never_prints_negative_zero() -> None:
    """Trends of -0.4% and shares that round to zero print no "-0%"."""
    hs = _hotspots([12, 30]).assign(trend=[-0.004, -0.0004], share=[-0.0, 0.0])
    page = _page(hotspots=hs)
    assert not re.search(r"-0(\.0+)?%", page)


#: Names that look like counts or lists: digits, ";" and spaces.
ITEM_NAMES = st.text(alphabet="ab 19;", min_size=1, max_size=10).map(str.strip).filter(bool)


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(st.tuples(ITEM_NAMES, st.integers(0, 40)), min_size=1, max_size=5),
    threshold=st.integers(1, 10),
)
def test_suppression_works_on_the_numbers_not_the_names(
    items: list[tuple[str, int]], threshold: int
) -> None:
    """A name holding ";" or digits is printed whole, and only its own count is suppressed."""
    # (1,000 incidents: the counts not listed hide the small ones, so each count is printed)
    frame = pd.DataFrame(
        {"hotspot_id": ["H01"], "incidents": [1000], "top_categories": [items], "wards": [["A; 2"]]}
    )
    result = suppressed_table(frame, threshold=threshold)
    printed = result.lists["Top crime types"][0]
    assert printed == [f"{name} {suppress_small(n, threshold=threshold)}" for name, n in items]
    for (name, n), text in zip(items, printed, strict=True):
        assert text.startswith(name + " ")
        shown = text[len(name) + 1 :]
        assert shown == ("0" if n == 0 else fewer_than(threshold) if n < threshold else f"{n:,}")
    assert result.table.loc[0, "Top crime types"] == "; ".join(printed)
    assert result.lists["Wards"] == [["A; 2"]]  # one ward, not split


def test_briefing_html_prints_each_item_whole() -> None:
    """A street named "Mill; Lane 3" is one line of its cell, its count 8 beside it."""
    page = _page(hotspots=_hotspots([40, 3], street="Mill; Lane 3", ward="Ash; Elm"))
    assert "<td>Mill; Lane 3 8<br>Mill Lane fewer than 5</td>" in page
    assert "<td>Ash; Elm</td>" in page


def test_text_lists_are_refused_not_parsed() -> None:
    """A frame whose lists are text (read back from a file) cannot be suppressed safely."""
    frame = pd.DataFrame(
        {"hotspot_id": ["H01"], "incidents": [12], "top_categories": ["Drugs 9; Burglary 3"]}
    )
    with pytest.raises(ParameterError, match="text"):
        suppressed_table(frame)


# ------------------------------------------------------------------------------ scope, one rule


def test_briefing_states_crime_types_wards_and_months() -> None:
    """The page says which crime types, wards and months it counts, as text (escaped)."""
    page = _page(
        crime_types=["Robbery", "Drugs", EVIL],
        ward_names=["Ashmere", "Brindle <Green>"],
        period=("2024-01", "2024-06"),
    )
    text = re.sub(r"<[^>]+>", " ", page)
    assert "Crime types counted" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;, Drugs, Robbery" in text
    assert "Wards" in text and "Ashmere, Brindle &lt;Green&gt;" in text
    assert "January 2024 to June 2024 (6 months)" in text
    assert EVIL not in page
    # no types given: the incidents' own; no ward filter: said so
    page = _page(ward_names=[])
    assert "<dt>Crime types counted</dt><dd>Drugs</dd>" in page
    assert "<dt>Wards</dt><dd>all: no ward filter</dd>" in page
    assert "<dt>Wards</dt>" not in _page()  # not known: not said


def test_screen_and_file_share_one_suppression_rule() -> None:
    """What the dashboard shows (briefing_content) is what the page prints: a total the ward
    table would expose is "withheld" in both (the screen once showed the count, 8 here), and a
    small hotspot count is "fewer than 5" in both."""
    from hotspots.report.briefing_content import briefing_content

    wt = pd.DataFrame({"ward_name": ["A", "B"], "incidents": [4, 4]})
    args: dict[str, object] = {
        "hotspots": _hotspots([12, 3]),
        "incidents": _incidents(8),
        "period": ("2024-01", "2024-06"),
        "ward_table": wt,
        "incidents_outside": 0,
    }
    content = briefing_content(**args)  # type: ignore[arg-type]
    page = _page(**args)
    assert content.headline[0].value == "withheld"
    for figure in content.headline:
        assert f"<b>{figure.value}</b>{figure.label}" in page
    assert content.hotspots.table["Incidents"].tolist() == ["12", "fewer than 5"]
    assert content.hotspots.table.equals(suppressed_table(_hotspots([12, 3])).table)
    for cell in content.wards.table["Incidents"]:  # type: ignore[union-attr]
        assert f">{cell}</td>" in page


def test_briefing_without_hotspots_explains_none() -> None:
    """No hotspots: the guide says none was found and why, and names no hotspot (no "H01"),
    nor the hotspot columns it has no table for."""
    page = _page(hotspots=_hotspots().iloc[:0])
    guide = page.split("How to read this")[1]
    assert "None was found in this period" in guide
    assert "H01" not in page and "PAI (Predictive" not in guide and "<dt>Trend" not in guide
    with_hotspots = _page().split("How to read this")[1]
    assert "H01 is the densest" in with_hotspots and "PAI (Predictive" in with_hotspots


def test_small_areas_keep_a_figure() -> None:
    """A hotspot of 0.004 km² (a street corner) is not printed "0.00"."""
    hs = _hotspots([12, 30])
    hs["area_km2"] = [0.004, 0.25]
    assert suppressed_table(hs).table["Area km²"].tolist() == ["0.004", "0.25"]


def _named_wards(n_side: int, size: float) -> gpd.GeoDataFrame:
    names = [f"Long Ward Name Number {i}" for i in range(n_side * n_side)]
    return gpd.GeoDataFrame(
        {"ward_name": names},
        geometry=[
            box(530_000 + size * (i % n_side), 180_000 + size * (i // n_side),
                530_000 + size * (i % n_side + 1), 180_000 + size * (i // n_side + 1))
            for i in range(n_side * n_side)
        ],
        crs="EPSG:27700",
    )  # fmt: skip


@pytest.mark.parametrize(("n_side", "size"), [(3, 2_000.0), (20, 300.0)])
def test_ward_names_never_write_over_each_other(n_side: int, size: float) -> None:
    """A borough's few large wards are all named; a city's hundreds of small ones only where
    a name overlaps no other (the larger wards first), never one over another."""
    from hotspots.report.figures import label_wards, map_frame, new_map

    wards = _named_wards(n_side, size)
    frame = map_frame(wards.total_bounds, width=1400, height_px=1000)
    _fig, canvas, ax = new_map(frame, 150)
    label_wards(ax, wards, None, frame, 150)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    if n_side == 3:
        assert len(boxes) == 9
    else:
        assert 10 < len(boxes) < 400
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)


# ------------------------------------------------------------------ totals that give away


def _possible(total: float, bounds: list[tuple[float, float]], i: int) -> list[int]:
    """What a reader can tell of hidden cell ``i``: the whole values in its bounds that leave
    the others (whole numbers in theirs) a sum they can make."""
    lo_rest = sum(b[0] for j, b in enumerate(bounds) if j != i)
    hi_rest = sum(b[1] for j, b in enumerate(bounds) if j != i)
    lo, hi = bounds[i]
    top = int(min(hi, total))
    return [v for v in range(int(lo), top + 1) if lo_rest <= total - v <= hi_rest]


def _briefing_of(counts: list[int], top_n: int) -> tuple[str, list[str]]:
    hs = pd.DataFrame(
        {
            "hotspot_id": [f"H{i:02d}" for i in range(len(counts))],
            "rank": range(1, len(counts) + 1),
            "incidents": counts,
        }
    )
    inc = pd.DataFrame({"category": ["Drugs"] * 1000})
    c = briefing_content(hotspots=hs, incidents=inc, period=("2024-01", "2024-01"), top_n=top_n)
    return c.headline[2].note, c.hotspots.table["Incidents"].tolist()


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(1, 14), min_size=1, max_size=7), top_n=st.integers(1, 7))
def test_the_count_in_hotspots_never_gives_a_small_one_away(counts: list[int], top_n: int) -> None:
    """When the headline prints the incidents in hotspots, a reader who takes away the counts
    the table shows still cannot tell any count of 1 to 4 (the hotspots not listed are
    whole numbers of 1 or more; a "fewer than 5" is 1 to 4)."""
    note, shown = _briefing_of(counts, top_n)
    if not note:
        return  # the count in hotspots is not printed
    total = int(note.split()[0].replace(",", ""))
    assert total == sum(counts)
    printed = [int(t) for t in shown if t != "fewer than 5"]
    hidden = [c for c in counts[:top_n] if 1 <= c <= 4] + counts[top_n:]
    bounds = [(1.0, 4.0)] * sum(1 <= c <= 4 for c in counts[:top_n])
    bounds += [(1.0, float(total))] * len(counts[top_n:])
    rest = total - sum(printed)
    assert rest == sum(hidden)
    for i, value in enumerate(hidden):
        if 1 <= value <= 4:
            assert len(_possible(rest, bounds, i)) >= 2, (counts, top_n, i)


def test_the_count_in_hotspots_is_hidden_when_it_gives_one_away() -> None:
    assert _briefing_of([30, 20, 3], 10)[0] == ""  # 53 - 30 - 20 = 3
    assert _briefing_of([10] * 10 + [2], 10)[0] == ""  # the unlisted 11th: 102 - 100 = 2
    assert _briefing_of([30, 20, 3, 40], 3)[0] == "93 incidents"  # 3 + 40: no telling


def test_a_hotspot_s_lists_never_give_a_small_count_away() -> None:
    """A hotspot's top crime types: its count less the counts shown never pins a hidden one;
    the names alone are printed then."""
    frame = pd.DataFrame(
        {
            "hotspot_id": ["H01", "H02", "H03"],
            "incidents": [10, 40, 8],
            "top_categories": [
                [("Drugs", 9), ("Burglary", 1)],  # complete: 10 - 9 = 1
                [("Drugs", 30), ("Burglary", 4), ("Robbery", 3)],  # 3 more not listed
                [("Drugs", 4), ("Burglary", 4)],  # 8 from two of 1-4: both 4
            ],
        }
    )
    lists = suppressed_table(frame).table["Top crime types"].tolist()
    assert lists == [
        "Drugs; Burglary",
        "Drugs 30; Burglary fewer than 5; Robbery fewer than 5",
        "Drugs; Burglary",
    ]


def test_a_trend_whose_counts_include_a_small_one_is_not_printed() -> None:
    """The change and its exact interval pin both spans' counts: "−67% (95% interval −99%
    to +315%)" is 3 -> 1 alone. Every pair of counts up to 30 with one of 1 to 4 prints
    "–"; pairs of 5 or more print their words."""
    before, after = np.meshgrid(np.arange(1, 31), np.arange(0, 31))
    b, a = before.ravel(), after.ravel()
    test = compare_counts(b, a)
    frame = pd.DataFrame(
        {
            "hotspot_id": [f"H{i}" for i in range(len(b))],
            "incidents": 100,
            "trend": (a - b) / b,
            "trend_low": test.low,
            "trend_high": test.high,
        }
    )
    printed = suppressed_table(frame, top_n=len(b)).table["Trend"].to_numpy()
    small = ((b >= 1) & (b <= 4)) | ((a >= 1) & (a <= 4))
    assert (printed[small] == "–").all()
    big = (b >= 5) & (a >= 5)
    assert (printed[big] != "–").mean() > 0.99  # (a rare pair prints like a small one)


def test_a_trend_against_the_months_before_is_named_in_the_table_and_the_guide() -> None:
    """The dashboard's change (the chosen months against as many before: with_period_change)
    is worded with those months, in the Trend column and in "How to read this"."""
    hs = _hotspots([40, 30]).assign(
        trend=[0.5, -0.2], trend_low=[0.1, -0.5], trend_high=[1.0, 0.3],
        trend_against="Jan 2023 – Jun 2023",
    )  # fmt: skip
    page = _page(hotspots=hs)
    assert "up 50% on Jan 2023 – Jun 2023 (95% interval" in page
    assert "the same number of months just before them (Jan 2023 – Jun 2023)" in page
    assert "in the last" not in page  # not the analysis' own within-period trend


def test_a_total_over_many_small_wards_is_printed() -> None:
    """Twelve wards of 1 to 4 incidents adding up to 17, none to withhold: the total pins no
    ward (each could be 1 to 4), so it is printed; three wards of 4 adding up to 12 would pin
    each, so that total is not."""
    many = pd.DataFrame({"ward_name": [f"W{i}" for i in range(12)], "incidents": [2] * 5 + [1] * 7})
    assert int(many["incidents"].sum()) == 17
    assert not suppressed_ward_table(many).incidents_total_exposes
    three = pd.DataFrame({"ward_name": ["A", "B", "C"], "incidents": [4, 4, 4]})
    assert suppressed_ward_table(three).incidents_total_exposes


def test_briefing_map_ids_never_overlap_and_the_densest_keeps_its_place() -> None:
    """Twelve hotspots 40 m apart in a row, over 3 km of map: their ids would sit on each
    other; placed in rank order, no two overlap (each beside its hotspot or left out), H01
    stays on its own hotspot, and no ward name is written over an id."""
    from hotspots.report.briefing_map import _draw_hotspots, _name_wards
    from hotspots.report.figures import map_frame, new_map

    x0, y0 = 530_000.0, 180_000.0
    hs = gpd.GeoDataFrame(
        {"hotspot_id": [f"H{i:02d}" for i in range(1, 13)], "rank": range(1, 13)},
        geometry=[box(x0 + 40 * i, y0, x0 + 40 * i + 20, y0 + 20) for i in range(12)],
        crs=27700,
    )
    wards = gpd.GeoDataFrame(
        {"ward_name": ["Longname Ward"]},
        geometry=[box(x0 - 200, y0 - 150, x0 + 650, y0 + 170)],
        crs=27700,
    )
    frame = map_frame((x0 - 1500, y0 - 1500, x0 + 1500, y0 + 1500), width=800, height_px=800)
    _fig, canvas, ax = new_map(frame, 150)
    labels = _draw_hotspots(ax, hs, frame)
    _name_wards(ax, hs, wards, None, frame, 150, labels)
    canvas.draw()
    renderer = canvas.get_renderer()
    ids = [t for t in ax.texts if t.get_text().startswith("H")]
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in ids]
    assert 3 <= len(ids) < 12  # some placed beside, the rest left out
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    first = next(t for t in ids if t.get_text() == "H01")
    assert first.get_position() == pytest.approx((x0 + 10, y0 + 10), abs=1.0)
    for name in (t for t in ax.texts if t.get_text() == "LONGNAME WARD"):
        extent = name.get_window_extent(renderer)
        assert not any(extent.overlaps(b) for b in boxes)
