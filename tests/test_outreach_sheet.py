"""The outreach sheets (hotspots.report.outreach_sheet): one page per hotspot chosen, a small map
drawn from the data, streets with counts and plain percentages, place types located by their
nearest street, what the counts cover, a watermark on synthetic data, every name escaped."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotspots.errors import ParameterError
from hotspots.report.outreach_map import hotspot_svg, map_points
from hotspots.report.outreach_sheet import (
    outreach_sheet_html,
    sheet_streets,
    write_outreach_sheet,
)

EVIL = "<script>alert(1)</script> Road"


def _data() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """Two hotspots and a stray incident. H01: High Street 6 (at 0,0), a supermarket 2 (30 m
    east of it); H02: a street named with a script 3, Mill Lane 1; one Mill Lane incident in
    no hotspot."""
    rows = (
        [("On or near High Street", 0, 0, "H01")] * 6
        + [("On or near Supermarket", 30, 0, "H01")] * 2
        + [(f"On or near {EVIL}", 2000, 0, "H02")] * 3
        + [("On or near Mill Lane", 2010, 0, "H02"), ("On or near Mill Lane", 600, 600, "")]
    )
    incidents = gpd.GeoDataFrame(
        {
            "location": [r[0] for r in rows],
            "category": ["Drugs"] * 8 + ["Robbery"] * 5,
            "month": pd.to_datetime(["2024-01-01"] * 13),
        },
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs="EPSG:27700",
    )
    hotspots = gpd.GeoDataFrame(
        {
            "hotspot_id": ["H01", "H02"],
            "rank": [1, 2],
            "incidents": [8, 4],
            "area_km2": [0.004, 0.001],
            "top_categories": [[("Drugs", 8)], [("Robbery", 4)]],
            "wards": [["Ashmere"], ["Brindle <Green>"]],
            "trend": [0.5, float("nan")],
            "first_month": ["2024-01", "2024-01"],
            "last_month": ["2024-01", "2024-01"],
        },
        geometry=[box(-20, -20, 50, 20), box(1990, -20, 2030, 20)],
        crs="EPSG:27700",
    )
    return incidents, hotspots, pd.Series([r[3] for r in rows])


def _sheet(**kwargs: object) -> str:
    incidents, hotspots, ids = _data()
    args: dict[str, object] = {
        "hotspots": hotspots,
        "incidents": incidents,
        "hotspot_ids": ids,
        "period": ("2024-01", "2024-03"),
        "generated": "1 April 2024",
    }
    args.update(kwargs)
    return outreach_sheet_html(**args)  # type: ignore[arg-type]


def test_one_sheet_per_hotspot_chosen_in_rank_order() -> None:
    page = _sheet(chosen=["H02", "H01"])
    assert page.count('<section class="sheet">') == 2
    assert page.index("Outreach sheet: H01") < page.index("Outreach sheet: H02")
    assert page.count("<svg") == 2
    one = _sheet(chosen=["H02"])
    assert one.count('<section class="sheet">') == 1 and "Outreach sheet: H01" not in one
    assert _sheet().count('<section class="sheet">') == 2  # None: every hotspot
    # page breaks between the sheets when printed
    assert ".sheet + .sheet { break-before: page;" in page


def test_streets_counts_and_plain_percentages() -> None:
    """H01's 8 incidents: High Street 6 (75%), the supermarket 2 (25%) named after High Street;
    column headings in words; shares in whole percent, never a raw fraction."""
    page = _sheet(chosen=["H01"])
    rows = re.findall(
        r"<tr><td>([^<]*)</td><td class='num'>([^<]*)</td><td class='num'>"
        r"([^<]*)</td></tr>",
        page,
    )
    assert rows == [("High Street", "6", "75%"), ("Supermarket near High Street", "2", "25%")]
    for heading in ("Street or place", "Incidents", "Share of the hotspot&#x27;s incidents"):
        assert f">{heading}</th>" in page
    assert "share_of_hotspot" not in page and "0.75" not in page
    assert "Drugs 8 (100%)" in page


def test_sheet_states_what_it_counts() -> None:
    page = _sheet(crime_types=["Drugs", "Robbery"], ward_names=["Ashmere"])
    assert page.count("<dt>Period</dt><dd>January 2024 to March 2024 (3 months)</dd>") == 2
    assert "<dt>Crime types counted</dt><dd>Drugs, Robbery</dd>" in page
    assert "<dt>Wards</dt><dd>Ashmere</dd>" in page


def test_watermark_only_on_synthetic_data() -> None:
    marked = _sheet(synthetic=True)
    assert marked.count("<div class='watermark'>SYNTHETIC DEMO DATA</div>") == 2
    real = _sheet(synthetic=False)
    assert "SYNTHETIC DEMO DATA" not in real
    # every sheet credits the data and says it is not for publication (small counts shown)
    assert real.count("not for publication") == real.count('<section class="sheet">') > 0
    assert "Open Government Licence v3.0" in real and "Invented incidents" not in real


def test_names_are_escaped_and_nothing_is_fetched() -> None:
    page = _sheet()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Road" in page  # table and map label
    assert "Brindle &lt;Green&gt;" in page
    body = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http:" not in body and "https:" not in body and "<link" not in body
    assert not re.search(r"""(?:src|href)\s*=""", body, flags=re.I)


def test_small_map_is_drawn_from_the_data() -> None:
    """The map of H01 holds its outline, a dot per map point around it (H01's two in the
    hotspot colour, the stray Mill Lane point in grey) and the streets' names."""
    incidents, hotspots, ids = _data()
    points = map_points(incidents, ids)
    assert sorted(points.incidents.tolist()) == [1, 1, 2, 3, 6]
    svg = hotspot_svg("H01", hotspots, points)
    assert svg.count('class="own"') == 2 and svg.count('class="pt"') == 0
    assert '<path class="hotspot" d="M' in svg
    assert ">High Street</text>" in svg and ">Supermarket</text>" in svg
    assert "SYNTHETIC" not in svg and "SYNTHETIC" in hotspot_svg(
        "H01", hotspots, points, synthetic=True
    )
    wide = hotspot_svg("H02", hotspots, points)
    assert wide.count('class="own"') == 2  # H02's two map points
    with pytest.raises(ParameterError, match="H09"):
        hotspot_svg("H09", hotspots, points)


def test_choices_and_empty_cases(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="chosen"):
        _sheet(chosen=["H07"])
    none = _sheet(chosen=[])
    assert "No hotspots were chosen" in none and "<section" not in none
    incidents, hotspots, ids = _data()
    empty = _sheet(hotspots=hotspots.iloc[:0])
    assert "No hotspots were found" in empty
    streets = sheet_streets(hotspots, incidents, ids, ["H02"])
    assert streets["street"].tolist() == [EVIL, "Mill Lane"]
    path = write_outreach_sheet(
        tmp_path / "outreach.html",
        hotspots=hotspots,
        incidents=incidents,
        hotspot_ids=ids,
        period=("2024-01", "2024-01"),
    )
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _plain_map_points(incidents: gpd.GeoDataFrame, hotspot_ids: pd.Series) -> pd.DataFrame:
    """map_points written plainly: a groupby per point, the most frequent location's street
    name (ties by name), the greatest hotspot id."""
    from hotspots.places import street_names

    frame = pd.DataFrame(
        {
            "x": incidents.geometry.x.to_numpy(),
            "y": incidents.geometry.y.to_numpy(),
            "loc": incidents["location"].astype(str).to_numpy(dtype=object),
            "hid": hotspot_ids.astype(str).str.strip().to_numpy(dtype=object),
        }
    )
    names = street_names(pd.Series(frame["loc"].unique(), dtype="str")).fillna("")
    frame["name"] = frame["loc"].map(dict(zip(frame["loc"].unique(), names, strict=True)))
    points = frame.groupby(["x", "y"], sort=True).agg(n=("hid", "size"), hid=("hid", "max"))
    labels = frame.groupby(["x", "y", "loc"], sort=False).agg(
        k=("hid", "size"), name=("name", "first")
    )
    labels = labels.reset_index().sort_values(["k", "name"], ascending=[False, True])
    labels = labels.drop_duplicates(["x", "y"]).set_index(["x", "y"])["name"]
    return points.join(labels, how="left").reset_index()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.sampled_from(
                ["On or near A Road", "A Road", "On or near B Lane", "", "No Location"]
            ),
            st.sampled_from(["", "H01", "H02", " H02"]),
        ),
        min_size=1,
        max_size=80,
    ),
    st.booleans(),
)
def test_map_points_equal_the_plain_groupby(rows: list, categorical: bool) -> None:
    """Counting codes gives the plain groupby's points, counts, labels and hotspots."""
    x, y, loc, hid = (list(c) for c in zip(*rows, strict=True))
    incidents = gpd.GeoDataFrame(
        {"location": pd.Series(loc, dtype="category" if categorical else "str")},
        geometry=gpd.points_from_xy(np.array(x) * 10.0, np.array(y) * 10.0),
        crs="EPSG:27700",
    )
    ids = pd.Series(hid, dtype="category" if categorical else "str")
    got = map_points(incidents, ids)
    want = _plain_map_points(incidents, ids)
    np.testing.assert_array_equal(got.xy, want[["x", "y"]].to_numpy())
    assert got.incidents.tolist() == want["n"].tolist()
    assert got.hotspot.tolist() == want["hid"].tolist()
    assert got.label.tolist() == want["name"].fillna("").tolist()
