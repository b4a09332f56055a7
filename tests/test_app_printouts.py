"""The printout views (ui/views.py ``briefing`` and ``outreach``) through Streamlit's AppTest.

Each view runs alone (``AppTest.from_function``) on the analysis the dashboard makes of the
planted-hotspot street CSV (tests/conftest.py: two hotspots in Walthamstow), so these tests do
not depend on how app.py lays out its pages.
"""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest


def _briefing_view(crime_types: list[str] | None, few: bool) -> None:
    """The briefing view of the planted CSV (``few``: its first 8 incidents, in two wards of
    4: a total the ward table would expose)."""
    import csv
    import io

    import geopandas as gpd
    from shapely.geometry import box

    from hotspots.pipeline import analyse
    from tests.conftest import STREET_HEADER, make_street_rows
    from ui import helpers
    from ui.printouts import briefing_view as briefing

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(STREET_HEADER)
    w.writerows(make_street_rows())
    incidents, _ = helpers.read_uploaded_incidents((("a.csv", buf.getvalue().encode()),))
    if few:
        incidents = incidents.iloc[:8]
        x = incidents.geometry.x.sort_values()
        cut = (x.iloc[3] + x.iloc[4]) / 2
        west, east = incidents.total_bounds[[0, 2]]
        bounds = [(west - 10, cut), (cut, east + 10)]
    else:
        bounds = [(530_000, 538_000), (538_000, 545_000)]
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["West <Ward>", "East Ward"]},
        geometry=[box(a, 180_000, b, 195_000) for a, b in bounds],
        crs="EPSG:27700",
    )
    out = analyse(incidents, wards=wards, eps=100, min_samples=10, run_backtest=False)
    period = out.period()
    map_kw = {"wards": wards, "patrols": None, "title": "Test", "synthetic": False}
    briefing(
        f"test-{few}",
        out,
        incidents,
        map_kw,
        "the months",
        (str(period["from"]), str(period["to"])),
        crime_types=crime_types,
        ward_names=[],
    )


def _outreach_view(synthetic: bool) -> None:
    """The outreach view of the planted CSV with a patrol area over the first hotspot."""
    import csv
    import io

    import geopandas as gpd

    from hotspots.pipeline import analyse
    from tests.conftest import STREET_HEADER, make_street_rows
    from ui import helpers
    from ui.views import outreach

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(STREET_HEADER)
    w.writerows(make_street_rows())
    incidents, _ = helpers.read_uploaded_incidents((("a.csv", buf.getvalue().encode()),))
    first = analyse(incidents, eps=100, min_samples=10, run_backtest=False).hotspots
    patrols = gpd.GeoDataFrame(
        {"patrol_area": ["Market patrol"]},
        geometry=[first.geometry.iloc[0].buffer(50)],
        crs=first.crs,
    )
    import streamlit as st

    if st.session_state.get("cover_all"):  # the patrol area now covers both hotspots
        patrols.loc[0, "geometry"] = first.geometry.union_all().buffer(50)
    out = analyse(incidents, patrols=patrols, eps=100, min_samples=10, run_backtest=False)
    outreach(out, "the months", True, crime_types=["Drugs"], ward_names=[], synthetic=synthetic)


def _run(script: Any, **kwargs: Any) -> AppTest:
    at = AppTest.from_function(script, kwargs=kwargs, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_briefing_states_crime_types_and_offers_the_file() -> None:
    at = _run(_briefing_view, crime_types=["Violence and sexual offences", "Drugs"], few=False)
    said = " ".join(m.value for m in at.markdown)
    assert "Crime types counted:" in said
    assert "Drugs, Violence and sexual offences" in said
    assert "**Wards:** all\\: no ward filter" in said  # as written, Markdown escaped
    labels = {m.label for m in at.metric}
    assert {"Incidents counted", "Hotspots"} <= labels
    assert [b.label for b in at.get("download_button")] == ["Download the briefing (HTML)"]
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["Hotspot", "Incidents"]
    # the page itself, as it prints and downloads, shown on the briefing's page (a toggle)
    frames = at.get("iframe")
    assert len(frames) == 1
    shown = frames[0].proto.srcdoc  # the page as text
    assert "<dt>Crime types counted</dt><dd>Drugs, Violence and sexual offences</dd>" in shown
    assert "data:image/png;base64," in shown
    at.toggle(key="briefing_preview").set_value(False).run()
    assert not at.exception and not at.error
    assert not at.get("iframe")


def test_briefing_screen_withholds_what_the_file_withholds() -> None:
    """Eight incidents, four a ward: the file withholds the total (it would reveal both
    wards' small counts); the screen says the same, not "8"."""
    at = _run(_briefing_view, crime_types=None, few=True)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Incidents counted"] == "withheld"
    wards = at.dataframe[1].value
    assert wards["Incidents"].tolist() == ["fewer than 5", "fewer than 5"]


def test_outreach_sheets_download_and_tables_in_words() -> None:
    at = _run(_outreach_view, synthetic=True)
    labels = [b.label for b in at.get("download_button")]
    assert "Outreach sheets (HTML, 1 page)" in labels
    picked = next(m for m in at.multiselect if m.label == "Hotspots on the sheets")
    assert picked.value == ["H02"]  # the hotspot no patrol area covers
    heads = [s.value for s in at.subheader]
    assert heads[-3:] == [
        "Outreach sheets",
        "Streets to send outreach workers to",
        "Patrol points: the busiest spots in each hotspot",
    ]
    streets = at.dataframe[2].value
    assert set(streets["hotspot_id"]) == {"H02"}
    assert streets["share_of_hotspot"].between(0, 100).all()
    assert streets["share_of_hotspot"].max() > 1  # percent, for the "23%" column format
    picked.set_value(["H01", "H02"]).run()
    assert "Outreach sheets (HTML, 2 pages)" in [b.label for b in at.get("download_button")]
    at.toggle(key="sheets_preview").set_value(True).run()
    sheets = at.get("iframe")[0].proto.srcdoc
    assert sheets.count('<section class="sheet">') == 2 and "SYNTHETIC DEMO DATA" in sheets


def test_the_sheets_follow_a_change_of_cover() -> None:
    """The proposal follows the patrol areas: once the area covers H02 too, no hotspot is
    uncovered and none is proposed (the pick made under the old cover was kept); the user's
    own pick holds while the cover stays."""
    at = _run(_outreach_view, synthetic=True)
    picked = next(m for m in at.multiselect if m.label == "Hotspots on the sheets")
    assert picked.value == ["H02"]
    picked.set_value(["H01", "H02"]).run()
    at.run()
    picked = next(m for m in at.multiselect if m.label == "Hotspots on the sheets")
    assert picked.value == ["H01", "H02"]  # the user's own pick stays on a rerun
    at.session_state["cover_all"] = True
    at.run()
    assert not at.exception
    picked = next(m for m in at.multiselect if m.label == "Hotspots on the sheets")
    assert picked.value == []  # every hotspot covered: none proposed (the pick was kept before)
