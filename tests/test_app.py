"""The dashboard through Streamlit's AppTest: it opens on the synthetic sample and reacts.

Every view, the filters, the hotspot controls, uploads (good and bad) and the patrol-area store
(saving a drawn area, renaming, deleting) are driven here; the helpers app.py calls (ui/) are
tested with real bytes. The store is always a temporary file (HOTSPOTS_STORE).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box, mapping
from streamlit.testing.v1 import AppTest

from geodata import SAMPLE_INCIDENTS, SAMPLE_PATROL_AREAS, SAMPLE_WARDS
from geodata.store import PatrolAreaStore
from hotspots import InputError, read_incidents
from hotspots.pipeline import Analysis, analyse
from tests.conftest import STREET_HEADER, make_street_rows
from ui import context, helpers

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# A ward far (in the Midlands) from every incident used here: a layer for the wrong area.
FAR_WARD = gpd.GeoDataFrame(
    {"ward_code": ["X1"], "ward_name": ["Far away"]},
    geometry=[box(400_000, 300_000, 401_000, 301_000)],
    crs="EPSG:27700",
)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOTSPOTS_STORE in a temporary folder for every app run of this module."""
    path = tmp_path_factory.mktemp("store") / "store.gpkg"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOTSPOTS_STORE", str(path))
        yield path


# app.py's analysis dict (the parts the helpers use), the incidents, the map settings.
Fixture = tuple[Analysis, gpd.GeoDataFrame, dict[str, object]]


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def app(store_path: Path) -> AppTest:
    """The app after its first run on the demo borough (not changed by the tests using it)."""
    return _run(AppTest.from_file(APP, default_timeout=120))


@pytest.fixture
def fresh(store_path: Path) -> AppTest:
    """A new session of the app, for tests that change its state (the caches are shared)."""
    return _run(AppTest.from_file(APP, default_timeout=120))


def on_page(at: AppTest, name: str) -> AppTest:
    """Open one of the dashboard's pages (``ui/pages/<name>.py``) and run it."""
    at.switch_page(f"ui/pages/{name}.py")
    return _run(at)


def settings_used(at: AppTest) -> str:
    """The caption under the headline naming the settings used ("neighbour distance 75 m and
    at least 28")."""
    for c in at.caption:
        if c.value.startswith("Found with "):
            return c.value.removeprefix("Found with ").split(" incidents a dense spot")[0]
    raise AssertionError("no caption naming the settings used")


def settings_used_caption(at: AppTest) -> str:
    """The whole caption naming the settings used and the PAI's ground."""
    return next(c.value for c in at.caption if c.value.startswith("Found with "))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def incidents_shown(at: AppTest) -> int:
    return int(metrics(at)["Incidents analysed"].replace(",", ""))


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page whose columns start with ``columns``."""
    for df in at.dataframe:
        if list(df.value.columns[: len(columns)]) == list(columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def widget(items: object, label: str) -> object:
    for w in items:  # type: ignore[attr-defined]
        if w.label == label:
            return w
    raise AssertionError(f"no widget {label!r}")


def report_lines(at: AppTest) -> list[str]:
    for e in at.expander:
        if e.label == "How the data were read":
            return [m.value for m in e.markdown]
    raise AssertionError("no load report")


def street_csv(rows: list[list[str]] | None = None) -> bytes:
    """A police.uk street CSV (tests/conftest.py rows: two planted hotspots in Walthamstow)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(STREET_HEADER)
    w.writerows(make_street_rows() if rows is None else rows)
    return buf.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------------
# Opening view


def test_opens_on_the_synthetic_demo(app: AppTest) -> None:
    assert any("Synthetic demo data" in w.value for w in app.warning)
    shown = metrics(app)
    assert int(shown["Hotspots"]) > 0
    assert incidents_shown(app) > 10_000
    links = [e.proto.label for e in app.main.get("page_link")]
    assert links == [
        "Plan deployments",
        "Place outreach",
        "Prepare a briefing",
        "Evaluate an operation",
    ]
    assert not any("finding the hotspots" in i.value for i in app.info)  # the note is gone
    covered_metric = metrics(app)["Hotspots no patrol area covers"]
    on_page(app, "plan")
    table = frame_with(app, "hotspot_id", "rank")
    width = len(table["hotspot_id"].iloc[0]) - 1  # H01.. or H001.. by how many there are
    assert list(table["hotspot_id"][:2]) == [f"H{1:0{width}d}", f"H{2:0{width}d}"]
    assert table["density_km2"].is_monotonic_decreasing  # densest first
    assert table["wards"].str.len().gt(0).all()  # every hotspot lies in a demo ward
    frame_with(app, "ward_code", "ward_name", "incidents")
    on_page(app, "outreach")
    assert len(frame_with(app, "patrol_area")) == 4  # the four demo patrol areas
    streets = frame_with(app, "hotspot_id", "rank_in_hotspot")
    assert len(streets) > 0 and set(streets["hotspot_id"]) <= set(table["hotspot_id"])
    assert not app.error
    uncovered = app.dataframe[1].value
    assert covered_metric == str(len(uncovered))
    headline = next(m.value for m in app.markdown if "no patrol area covers" in m.value)
    assert headline.startswith(f"**{len(uncovered)} hotspots no patrol area covers")


def test_load_report_is_shown(app: AppTest) -> None:
    on_page(app, "overview")
    lines = report_lines(app)
    assert any(line.startswith("Read ") and "used" in line for line in lines)
    # in plain words: the grid named, no CRS code
    assert any("British National Grid" in line for line in lines)
    assert not any("EPSG" in line or "CRS" in line for line in lines)
    # ... and next to the data source control, in the sidebar
    side = [e for e in app.sidebar.expander if e.label.startswith("What was read: ")]
    assert side and side[0].caption[0].value == lines[0]


def test_suggested_values_are_the_values_used(app: AppTest) -> None:
    on_page(app, "overview")
    eps = widget(app.slider, "Neighbour distance (metres)")
    min_samples = widget(app.number_input, "Minimum incidents for a dense spot")
    assert eps.disabled and min_samples.disabled  # type: ignore[attr-defined]
    assert (
        settings_used(app) == f"neighbour distance {eps.value} m and at least {min_samples.value}"
    )  # type: ignore[attr-defined]
    assert any(e.label.startswith("Advanced") for e in app.sidebar.expander)
    captions = [c.value for c in app.caption]
    assert any(c.startswith(f"Suggested {eps.value} m: ") for c in captions)  # type: ignore[attr-defined]
    assert any(c.startswith(f"Suggested {min_samples.value}: ") for c in captions)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------
# Views


def test_deployments_view(app: AppTest) -> None:
    deploy = on_page(app, "plan")
    heads = [s.value for s in deploy.subheader]
    assert heads[:4] == [
        "Hotspots, ranked",
        "Wards each hotspot touches",
        "Ward table",
        "How well did these hotspots predict?",
    ]
    assert "Downloads" in heads
    assert deploy.selectbox[0].value == deploy.selectbox[0].options[0]  # the top hotspot
    labels = [b.label for b in deploy.get("download_button")]
    assert labels == [
        "Hotspots (GeoJSON)",
        "Hotspots (GeoPackage)",
        "Hotspots (CSV)",
        "Ward table (CSV)",
        "Patrol coverage (CSV)",
        "Outreach streets (CSV)",
        "Map (HTML, opens offline)",
        "Summary (JSON)",
    ]


def test_crime_mix_chart_gives_every_type_a_colour_and_a_legend_row() -> None:
    """All 14 data.police.uk types: one colour each (a 20-colour scheme over the 14 as its
    domain, not the 10-colour default, which repeated colours), the legend under the bars
    with no type cut off, every hotspot named and given its band."""
    from hotspots.crime_types import CRIME_TYPES
    from ui.views import crime_mix_chart

    ids = [f"H{i:03d}" for i in range(1, 11)]
    mix = pd.DataFrame(
        [(h, t, 1 + i) for h in ids for i, t in enumerate(CRIME_TYPES)],
        columns=["hotspot_id", "crime type", "incidents"],
    )
    spec = crime_mix_chart(mix, ids).to_dict()
    colour = spec["encoding"]["color"]
    assert colour["scale"]["domain"] == sorted(CRIME_TYPES)
    assert colour["scale"]["scheme"] == "tableau20" and len(CRIME_TYPES) <= 20
    assert colour["legend"]["orient"] == "bottom" and colour["legend"]["labelLimit"] >= 300
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert spec["encoding"]["y"]["sort"] == ids
    # a band of fixed height a hotspot: a fixed chart height, which includes the legend in
    # the page, left the bars no room at all (the chart drew only its legend)
    assert spec["height"] == {"step": 22}


def test_forecast_check_shows_the_back_test(app: AppTest) -> None:
    """The Deployments view opens with the back-test: its sentence with the figures."""
    deploy = on_page(app, "plan")
    sentence = " ".join(m.value for m in deploy.markdown)
    # the demo opens on its last year: three folds of three months, the latest Oct-Dec 2024
    latest = "3 back-tests (the latest fitted on 2024-01..2024-09, scored on 2024-10..2024-12)"
    assert latest in sentence
    assert "last period's busiest map points held" in sentence
    # the suggested settings were chosen by this back-test: the sentence says it flatters them
    assert "chosen as the best of those tried on these same months" in sentence
    # the capture curve: a Vega-Lite chart (AppTest has no typed element for it)
    children = list(deploy.main.children.values())
    kinds = [child.type for child in children]
    at = next(
        i
        for i, c in enumerate(children)
        if c.type == "subheader" and c.value == "How well did these hotspots predict?"
    )
    assert kinds[at : at + 4] == ["subheader", "markdown", "vega_lite_chart", "caption"], kinds


def test_outreach_view(app: AppTest) -> None:
    view = on_page(app, "outreach")
    heads = [s.value for s in view.subheader]
    assert heads == [
        "Patrol coverage per area",
        "Hotspots no patrol area covers, ranked",
        "Outreach sheets",
        "Streets to send outreach workers to",
        "Patrol points: the busiest spots in each hotspot",
    ]
    points = view.dataframe[3].value
    assert {"hotspot_id", "location", "incidents", "longitude", "latitude"} <= set(points.columns)
    uncovered = view.dataframe[1].value
    assert uncovered["rank"].is_monotonic_increasing
    labels = [b.label for b in view.get("download_button")]
    assert labels == ["Outreach sheets (HTML, 10 pages)", "Street list (CSV)"]


def test_briefing_view(app: AppTest) -> None:
    view = on_page(app, "briefing")
    assert view.subheader[0].value.startswith("Briefing: ")
    shown = {m.label: m.value for m in view.metric}
    assert set(shown) == {
        "Incidents counted",
        "Hotspots",
        "Share of incidents in hotspots",
        "Share of the area in hotspots",
    }
    said = " ".join(m.value for m in view.markdown)
    assert "**Crime types counted:** Anti\\-social behaviour, Bicycle theft" in said
    headline = view.dataframe[0].value
    assert list(headline.columns[:2]) == ["Hotspot", "Incidents"]
    assert headline["Incidents"].map(type).eq(str).all()  # counts as text ("fewer than 5")
    assert "Wards" in headline.columns and "Top streets" in headline.columns
    assert [b.label for b in view.get("download_button")] == ["Download the briefing (HTML)"]


# ------------------------------------------------------------------------------------------
# Filters and controls


def test_manual_settings_change_the_result(fresh: AppTest) -> None:
    before = int(metrics(fresh)["Hotspots"])
    widget(fresh.checkbox, "Use suggested settings").uncheck().run()  # type: ignore[attr-defined]
    widget(fresh.slider, "Neighbour distance (metres)").set_value(40).run()  # type: ignore[attr-defined]
    widget(fresh.number_input, "Minimum incidents for a dense spot").set_value(400)  # type: ignore[attr-defined]
    _run(fresh)
    after = metrics(fresh)
    assert settings_used(fresh) == "neighbour distance 40 m and at least 400"
    assert int(after["Hotspots"]) < before
    plan = " ".join(m.value for m in on_page(fresh, "plan").markdown)
    assert "last period's busiest map points held" in plan
    assert "chosen as the best of those tried" not in plan  # the user's own settings


def test_no_hotspots_are_not_called_covered(fresh: AppTest) -> None:
    """Settings that find no hotspot: the outreach page says so, not "every hotspot is
    covered"."""
    widget(fresh.checkbox, "Use suggested settings").uncheck().run()  # type: ignore[attr-defined]
    widget(fresh.number_input, "Minimum incidents for a dense spot").set_value(100_000)  # type: ignore[attr-defined]
    _run(fresh)
    assert int(metrics(fresh)["Hotspots"]) == 0
    view = on_page(fresh, "outreach")
    said = " ".join(m.value for m in view.markdown) + " ".join(s.value for s in view.success)
    assert "No hotspots with these settings." in said
    assert "Every hotspot" not in said


def test_hdbscan(fresh: AppTest) -> None:
    widget(fresh.radio, "Method").set_value("HDBSCAN")  # type: ignore[attr-defined]
    _run(fresh)
    assert settings_used(fresh).startswith("HDBSCAN's own distances and at least ")
    assert widget(fresh.slider, "Neighbour distance (metres)").disabled  # type: ignore[attr-defined]


def test_month_range_changes_the_incidents(fresh: AppTest) -> None:
    year = incidents_shown(fresh)
    fresh.select_slider[0].set_value(("2024-07", "2024-12"))
    _run(fresh)
    half = incidents_shown(fresh)
    assert 0 < half < year
    assert on_page(fresh, "briefing").subheader[0].value == "Briefing: 2024-07 to 2024-12"


def test_trend_is_the_chosen_months_against_those_before(fresh: AppTest) -> None:
    """A quarter against the quarter before it, months named; an arrow only for a clear change;
    the counts are period_change's (incidents inside each outline in both spans)."""
    from hotspots.period_change import period_change

    fresh.select_slider[0].set_value(("2024-10", "2024-12"))
    _run(fresh)
    incidents_metric = next(m for m in fresh.metric if m.label == "Incidents analysed")
    delta = incidents_metric.proto.delta
    assert re.fullmatch(r"[+−]\d+%|no clear change", delta), delta  # short: it fits its badge
    assert re.search(r"Here: .*(on|compared with) Jul–Sep 2024\.", incidents_metric.help)
    on_page(fresh, "plan")
    table = frame_with(fresh, "hotspot_id", "rank")
    assert "trend" not in table.columns  # the within-period trend is gone
    cols = list(table.columns)
    assert cols[cols.index("incidents") + 1 : cols.index("incidents") + 4] == [
        "outline_now",
        "previous",
        "change_label",
    ]
    for label in table["change_label"]:
        assert label.startswith(("▲ up", "▼ down")) != label.startswith("no clear change")
    clear = sum(label.startswith(("▲", "▼")) for label in table["change_label"])
    chance = f"{clear:,} of {len(table):,} hotspots show a clear change; chance alone would give"
    assert any(c.value.startswith(chance) for c in fresh.caption)
    # the same numbers from the library, on the app's own hotspots
    every = fresh.session_state["last_good"]["analysis"]
    demo, _ = read_incidents(SAMPLE_INCIDENTS)
    expected = period_change(demo, every.hotspots, start="2024-10", end="2024-12")
    assert table["previous"].tolist() == expected.table["before"].astype(int).tolist()
    assert table["outline_now"].tolist() == expected.table["now"].tolist()
    details = [m.value for m in fresh.markdown if m.value.startswith("**H")]
    assert "against Jul–Sep 2024: " in details[0]
    # the commander's headline: the top hotspot, its street and its change, months named
    top = next(m.value for m in fresh.markdown if m.value.startswith("**Top hotspot: "))
    assert f"{table['hotspot_id'].iloc[0]} around " in top and "in Jul–Sep 2024: " in top
    # the map's popups, the briefing and the files give that same change, months named
    shown = fresh.session_state[context._KEY].analysis.hotspots.set_index("hotspot_id")
    by_id = expected.table.set_index("hotspot_id")
    assert np.allclose(shown["trend"], by_id.loc[shown.index, "change"], equal_nan=True)
    assert set(shown["trend_against"]) == {"Jul 2024 – Sep 2024"}
    briefing = on_page(fresh, "briefing")
    trends = briefing.dataframe[0].value["Trend"].tolist()
    assert all(t == "–" or re.search(r" (on|compared with) Jul 2024 – Sep 2024", t) for t in trends)
    assert any(re.search(r" (on|compared with) Jul 2024 – Sep 2024", t) for t in trends)


def test_trend_without_earlier_months_says_so(fresh: AppTest) -> None:
    first = fresh.select_slider[0].options[0]
    fresh.select_slider[0].set_value((first, fresh.select_slider[0].options[2]))
    on_page(fresh, "plan")
    assert any(c.value.startswith("Change: the data start in") for c in fresh.caption)
    table = frame_with(fresh, "hotspot_id", "rank")
    assert "change_label" not in table.columns
    # nor do the map's popups, the briefing or the files give another change instead
    shown = fresh.session_state[context._KEY].analysis.hotspots
    assert shown["trend"].isna().all()
    trends = on_page(fresh, "briefing").dataframe[0].value["Trend"]
    assert set(trends) <= {"not enough months to compare", "–"}


def test_crime_type_preset_and_custom_list(fresh: AppTest) -> None:
    everything = incidents_shown(fresh)
    widget(fresh.selectbox, "Crime-type preset").set_value("Violence and weapons")  # type: ignore[attr-defined]
    _run(fresh)
    assert widget(fresh.multiselect, "Crime types").value == [  # type: ignore[attr-defined]
        "Violence and sexual offences",
        "Possession of weapons",
    ]
    violence = incidents_shown(fresh)
    assert 0 < violence < everything
    widget(fresh.selectbox, "Crime-type preset").set_value("Drugs")  # type: ignore[attr-defined]
    _run(fresh)
    assert widget(fresh.multiselect, "Crime types").value == ["Drugs"]  # type: ignore[attr-defined]
    assert incidents_shown(fresh) < violence


def test_no_crime_type_chosen_shows_a_message(fresh: AppTest) -> None:
    widget(fresh.multiselect, "Crime types").set_value([])  # type: ignore[attr-defined]
    _run(fresh)
    assert any("at least one crime type" in i.value for i in fresh.info)
    assert not fresh.metric


def test_ward_filter(fresh: AppTest) -> None:
    """Two wards chosen: their incidents, and the analysis made with those wards alone (the
    PAI's ground is their area, the ward table lists them), not the whole layer."""
    everything = incidents_shown(fresh)
    wards = widget(fresh.multiselect, "Wards (none chosen: all)")
    names = wards.options[:2]  # type: ignore[attr-defined]
    wards.set_value(names)  # type: ignore[attr-defined]
    _run(fresh)
    assert 0 < incidents_shown(fresh) < everything
    from geodata import SAMPLE_WARDS, load_wards

    layer, _ = load_wards(SAMPLE_WARDS)
    area_km2 = float(layer[layer["ward_name"].isin(names)].area.sum()) / 1e6
    assert f"measured against {area_km2:,.1f} km²" in settings_used_caption(fresh)
    plan = on_page(fresh, "plan")
    ward_table = next(d.value for d in plan.dataframe if "ward_name" in d.value.columns)
    assert sorted(ward_table["ward_name"]) == sorted(names)


def test_filter_error_keeps_the_last_good_result(fresh: AppTest) -> None:
    """A filter that keeps nothing: the message sits under the filters, the page stays up."""
    widget(fresh.selectbox, "Crime-type preset").set_value("Drugs")  # type: ignore[attr-defined]
    _run(fresh)
    before = incidents_shown(fresh)
    fresh.select_slider[0].set_value(("2022-01", "2022-01"))
    wards = widget(fresh.multiselect, "Wards (none chosen: all)")
    wards.set_value(wards.options[-1:])  # type: ignore[attr-defined]
    _run(fresh)
    if fresh.sidebar.error:  # no drugs incident in that ward that month
        assert incidents_shown(fresh) == before
    else:  # the data have one: the filter applied
        assert incidents_shown(fresh) < before


def test_tile_server_setting(fresh: AppTest) -> None:
    widget(fresh.text_input, "Your organisation's tile server (optional)").set_value(  # type: ignore[attr-defined]
        "https://tiles.example.org/{z}/{x}/{y}.png"
    )
    _run(fresh)
    assert metrics(fresh)["Hotspots"]


def test_selected_hotspot_drives_the_details(fresh: AppTest) -> None:
    """A map click sets ``hotspot_pick`` (see test_hotspot_at); the details follow it."""
    on_page(fresh, "plan")
    third = frame_with(fresh, "hotspot_id", "rank")["hotspot_id"].iloc[2]
    assert fresh.main.selectbox[0].value == fresh.main.selectbox[0].options[0]
    fresh.session_state["hotspot_pick"] = third
    _run(fresh)
    assert fresh.main.selectbox[0].value == third
    details = [m.value for m in fresh.markdown if m.value.startswith("**H")]
    assert details and details[0].startswith(f"**{third}**")


# ------------------------------------------------------------------------------------------
# Uploads


def test_upload_good_incidents(fresh: AppTest) -> None:
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("2024-test-street.csv", street_csv(), "text/csv")
    )
    _run(fresh)
    assert not fresh.error
    assert not any("Synthetic demo data" in w.value for w in fresh.warning)
    assert incidents_shown(fresh) == len(make_street_rows())
    assert int(metrics(fresh)["Hotspots"]) >= 1
    lines = report_lines(fresh)
    assert (
        lines[0]
        == f"Read {len(make_street_rows()):,} rows from 1 file; used {len(make_street_rows()):,}."
    )


def test_upload_bad_incidents_shows_error_and_keeps_running(fresh: AppTest) -> None:
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    uploader = fresh.sidebar.get("file_uploader")[0]
    uploader.set_value(("2024-test-street.csv", street_csv(), "text/csv"))
    _run(fresh)
    good = incidents_shown(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("notes.csv", b"just,some\ntext,here\n", "text/csv")
    )
    _run(fresh)
    assert fresh.sidebar.error, "the error belongs next to the upload control"
    assert "notes.csv" in fresh.sidebar.error[0].value
    assert incidents_shown(fresh) == good  # the last good data stay on screen


def test_one_broken_file_in_an_upload_leaves_the_others_read(fresh: AppTest) -> None:
    """A broken file among good ones: named with its reason and left out, the others read
    (they were all left unread, the demo still on screen, and only the last bad one named)."""
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        [
            ("2024-test-street.csv", street_csv(), "text/csv"),
            ("broken.csv", b"lat,lon\n51.5\x00,0.1\n", "text/csv"),
            ("notes.csv", b"just,some\ntext,here\n", "text/csv"),
        ]
    )
    _run(fresh)
    errors = [e.value for e in fresh.sidebar.error]
    assert len(errors) == 2
    assert any(e.startswith("broken.csv: ") for e in errors)
    assert any(e.startswith("notes.csv: ") for e in errors)
    assert all(e.endswith("Left out: the other 1 file is read.") for e in errors)
    assert incidents_shown(fresh) == len(make_street_rows())
    assert not any("Synthetic demo data" in w.value for w in fresh.warning)


def test_files_in_the_data_folder_are_read_where_they_lie(
    fresh: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder ($HOTSPOTS_DATA) lists its folders and incident files, reads the one
    picked (again when it changes), and says what is wrong with a bad one."""
    folder = tmp_path / "police data"
    monkeypatch.setenv("HOTSPOTS_DATA", str(folder))
    widget(fresh.radio, "Incidents").set_value("Files in the data folder")  # type: ignore[attr-defined]
    _run(fresh)
    assert folder.is_dir(), "made, so that the user can find it"
    assert any("data folder is empty" in i.value for i in fresh.sidebar.info)
    assert any(str(folder) in c.value for c in fresh.sidebar.caption)
    rows = make_street_rows()
    (folder / "2024-01-met-street.csv").write_bytes(street_csv(rows))
    (folder / "notes.md").write_text("not incidents")
    (folder / ".hidden-street.csv").write_bytes(street_csv(rows))
    (folder / "2024-02").mkdir()
    (folder / "2024-02" / "2024-02-met-street.csv").write_bytes(street_csv(rows[:40]))
    widget(fresh.button, "Look in the folder again").click()  # type: ignore[attr-defined]
    _run(fresh)
    pick = fresh.sidebar.selectbox(key="data_pick")
    assert list(pick.options) == ["2024-01-met-street.csv", "2024-02/"]
    assert not fresh.error
    assert incidents_shown(fresh) == len(rows)
    assert not any("Synthetic demo data" in w.value for w in fresh.warning)
    pick.select_index(1)
    _run(fresh)
    assert incidents_shown(fresh) == 40  # the folder's files
    (folder / "2024-02" / "2024-02-met-street.csv").write_bytes(street_csv(rows[:60]))
    _run(fresh)
    assert incidents_shown(fresh) == 60, "a file changed in place is read again"
    (folder / "bad.csv").write_bytes(b"just,some\ntext,here\n")
    _run(fresh)
    assert list(fresh.sidebar.selectbox(key="data_pick").options)[2] == "bad.csv"
    fresh.sidebar.selectbox(key="data_pick").select_index(2)
    _run(fresh)
    assert fresh.sidebar.error, "the error belongs next to the data folder's list"
    assert "bad.csv" in fresh.sidebar.error[0].value


def test_a_data_folder_s_state_changes_with_its_files(tmp_path: Path) -> None:
    """The state that keys a folder's reading changes when a file is added, removed or
    replaced, even by one of the same size with its old modification time kept (cp -p), and
    not when a hidden file (an editor's swap file) changes."""
    import os

    from ui.sources import stamp

    folder = tmp_path / "met"
    (folder / "2024-01").mkdir(parents=True)
    one = folder / "2024-01" / "2024-01-met-street.csv"
    one.write_bytes(b"a" * 100)
    first = stamp(folder)
    assert stamp(folder) == first
    (folder / ".notes.swp").write_bytes(b"x")
    assert stamp(folder) == first
    info = one.stat()
    replaced = tmp_path / "replacement.csv"
    replaced.write_bytes(b"b" * 100)
    os.replace(replaced, one)
    os.utime(one, ns=(info.st_atime_ns, info.st_mtime_ns))  # the old time kept
    assert one.stat().st_size == info.st_size and one.stat().st_mtime_ns == info.st_mtime_ns
    second = stamp(folder)
    assert second != first
    (folder / "2024-02-met-street.csv").write_bytes(b"c")
    third = stamp(folder)
    assert third not in (first, second)
    (folder / "2024-02-met-street.csv").unlink()
    assert stamp(folder) == second
    assert stamp(one) != stamp(folder)


def test_upload_bad_ward_layer(fresh: AppTest, tmp_path: Path) -> None:
    widget(fresh.radio, "Ward boundaries").set_value("Upload")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("far.geojson", FAR_WARD.to_json().encode(), "application/geo+json")
    )
    _run(fresh)
    assert fresh.sidebar.error
    assert metrics(fresh)["Hotspots"]  # still analysing, without wards


def test_upload_good_patrol_layer_and_save_into_store(fresh: AppTest, store_path: Path) -> None:
    widget(fresh.radio, "Patrol areas").set_value("Upload")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("areas.geojson", SAMPLE_PATROL_AREAS.read_bytes(), "application/geo+json")
    )
    on_page(fresh, "outreach")
    assert not fresh.error
    assert len(frame_with(fresh, "patrol_area")) == 4
    widget(fresh.button, "Save these areas into the store").click()  # type: ignore[attr-defined]
    _run(fresh)
    assert any("Saved 4 patrol area" in s.value for s in fresh.success)
    stored = PatrolAreaStore(store_path).list()["patrol_area"].tolist()
    assert len(stored) >= 4
    # one layer: the saved copies stand in for the uploaded ones (not drawn twice)
    assert len(frame_with(fresh, "patrol_area")) == len(stored)
    widget(fresh.button, "Save these areas into the store").click()  # type: ignore[attr-defined]
    _run(fresh)
    assert any("Saved 0 patrol area(s). 4 had a saved area" in s.value for s in fresh.success)
    assert not [w for w in fresh.warning if "given now" in w.value]
    # a new version of the file, one area moved: the boundary given now is used, said once
    moved = gpd.read_file(SAMPLE_PATROL_AREAS)
    first = moved["name"].iloc[0] if "name" in moved else None
    metric = moved.to_crs(27700)
    metric.loc[0, "geometry"] = metric.geometry.iloc[0].buffer(200)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("areas-v2.geojson", metric.to_crs(4326).to_json().encode(), "application/geo+json")
    )
    on_page(fresh, "outreach")
    warned = [w.value for w in fresh.warning if "the boundary given now is used" in w.value]
    assert len(warned) == 1 and (first is None or str(first) in warned[0])
    table = frame_with(fresh, "patrol_area")
    assert len(table) == len(stored)  # still one row a name
    # ... and the saved ones alone, without the upload
    widget(fresh.radio, "Patrol areas").set_value("None")  # type: ignore[attr-defined]
    _run(fresh)
    assert len(frame_with(fresh, "patrol_area")) == len(stored)
    for name in stored:
        PatrolAreaStore(store_path).delete(name)


def test_the_demo_patrol_areas_are_not_offered_for_saving(fresh: AppTest) -> None:
    """Synthetic areas saved into the store would count as cover over real data later."""
    assert widget(fresh.radio, "Patrol areas").value == "Demo"  # type: ignore[attr-defined]
    assert not [b for b in fresh.button if b.label == "Save these areas into the store"]
    assert any("not offered for saving" in c.value for c in fresh.sidebar.caption)


def test_an_upload_switches_the_layers_away_from_the_demo(fresh: AppTest) -> None:
    """The demo wards and patrol areas only fit the demo: new incidents offer an upload."""
    assert widget(fresh.radio, "Ward boundaries").value == "Demo"  # type: ignore[attr-defined]
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("2024-test-street.csv", street_csv(), "text/csv")
    )
    _run(fresh)
    assert widget(fresh.radio, "Ward boundaries").value == "Upload"  # type: ignore[attr-defined]
    assert widget(fresh.radio, "Patrol areas").value == "Upload"  # type: ignore[attr-defined]
    assert not fresh.error
    # the user may still choose again; the choice stays
    widget(fresh.radio, "Ward boundaries").set_value("None")  # type: ignore[attr-defined]
    _run(fresh)
    assert widget(fresh.radio, "Ward boundaries").value == "None"  # type: ignore[attr-defined]


def test_read_uploaded_incidents_with_real_bytes(tmp_path: Path) -> None:
    incidents, report = helpers.read_uploaded_incidents(
        (("a.csv", street_csv()), ("a.csv", street_csv(make_street_rows(seed=8))))
    )
    assert report.rows_read == 2 * len(make_street_rows())
    assert len(incidents) > 0
    with pytest.raises(InputError):
        helpers.read_uploaded_incidents((("x.csv", b"\x00\x01 not a table"),))
    with pytest.raises(InputError):
        helpers.read_uploaded_incidents(())


def test_read_uploaded_layer_with_real_bytes() -> None:
    incidents, _ = helpers.read_uploaded_incidents((("a.csv", street_csv()),))
    wards, _ = helpers.read_uploaded_layer(
        "wards", (("w.geojson", SAMPLE_WARDS.read_bytes()),), incidents
    )
    assert list(wards.columns[:2]) == ["ward_code", "ward_name"]
    with pytest.raises(InputError):  # nowhere near these incidents
        helpers.read_uploaded_layer(
            "wards", (("far.geojson", FAR_WARD.to_json().encode()),), incidents
        )
    with pytest.raises(InputError):
        helpers.read_uploaded_layer("patrols", (("p.geojson", b"{not json"),), incidents)


# ------------------------------------------------------------------------------------------
# Drawn areas and the store


def saved_count(at: AppTest) -> int:
    """The number in the sidebar's "Saved patrol areas (N)" expander."""
    for e in at.sidebar.expander:
        if e.label.startswith("Saved patrol areas ("):
            return int(e.label.removeprefix("Saved patrol areas (").rstrip(")"))
    raise AssertionError("no saved patrol areas expander")


def test_new_drawing_only_takes_draw_tool_shapes() -> None:
    """streamlit-folium's values: a click on a hotspot or ward sets last_object_clicked (and
    last_active_drawing to the clicked feature) but never adds to all_drawings."""
    click = {"last_object_clicked": {"lat": 51.005, "lng": 0.005}, "all_drawings": []}
    assert helpers.new_drawing(click["all_drawings"], []) == (None, [])
    assert helpers.new_drawing(None, []) == (None, [])
    drawn = json.loads(json.dumps(mapping(box(-0.02, 51.58, -0.01, 51.59))))
    shape, seen = helpers.new_drawing([{"type": "Feature", "geometry": drawn}], [])
    assert shape == drawn and len(seen) == 1
    # the same drawings again (e.g. after a later click): nothing new to save
    assert helpers.new_drawing([{"type": "Feature", "geometry": drawn}], seen) == (None, seen)
    second = json.loads(json.dumps(mapping(box(0, 51, 0.01, 51.01))))
    both = [{"type": "Feature", "geometry": drawn}, {"type": "Feature", "geometry": second}]
    shape, seen = helpers.new_drawing(both, seen)
    assert shape == second and len(seen) == 2


def test_saving_a_drawn_area(fresh: AppTest, store_path: Path) -> None:
    """A shape drawn on the map (new_drawing) opens a naming dialog; after Save the dialog
    closes, the sidebar's count goes up, the area joins the patrol layer and covers the
    hotspot it was drawn around."""
    outreach = on_page(fresh, "outreach")
    uncovered = outreach.dataframe[1].value["hotspot_id"].tolist()
    assert uncovered, "the demo has hotspots no demo patrol area covers"
    target = uncovered[0]
    points = outreach.dataframe[3].value
    spot = points[points["hotspot_id"] == target].iloc[0]
    lon, lat = float(spot["longitude"]), float(spot["latitude"])
    drawn = mapping(box(lon - 0.0005, lat - 0.0004, lon + 0.0005, lat + 0.0004))
    before, layer_before = saved_count(fresh), len(frame_with(fresh, "patrol_area"))
    fresh.session_state["drawn_geometry"] = json.loads(json.dumps(drawn))
    _run(fresh)
    widget(fresh.button, "Save patrol area").click()  # type: ignore[attr-defined]
    _run(fresh)  # no name: the dialog stays, with the message
    assert any("name" in e.value for e in fresh.error)
    widget(fresh.text_input, "Name of the patrol area").set_value("Hoe Street drawn")  # type: ignore[attr-defined]
    widget(fresh.button, "Save patrol area").click()  # type: ignore[attr-defined]
    _run(fresh)
    assert any("Hoe Street drawn" in s.value for s in fresh.success)
    assert not [t for t in fresh.text_input if t.label == "Name of the patrol area"]  # closed
    assert saved_count(fresh) == before + 1
    table = frame_with(fresh, "patrol_area")
    assert len(table) == layer_before + 1 and "Hoe Street drawn" in table["patrol_area"].tolist()
    assert target not in fresh.dataframe[1].value["hotspot_id"].tolist()
    names = PatrolAreaStore(store_path).list()["patrol_area"].tolist()
    assert "Hoe Street drawn" in names
    # rename and delete from the sidebar
    fresh2 = _run(AppTest.from_file(APP, default_timeout=120))  # survives a restart
    widget(fresh2.selectbox, "Area").set_value("Hoe Street drawn")  # type: ignore[attr-defined]
    widget(fresh2.text_input, "New name").set_value("Hoe Street corridor")  # type: ignore[attr-defined]
    widget(fresh2.button, "Rename").click()  # type: ignore[attr-defined]
    _run(fresh2)
    names = PatrolAreaStore(store_path).list()["patrol_area"].tolist()
    assert "Hoe Street corridor" in names and "Hoe Street drawn" not in names
    widget(fresh2.selectbox, "Area").set_value("Hoe Street corridor")  # type: ignore[attr-defined]
    _run(fresh2)
    assert widget(fresh2.button, "Delete").disabled  # type: ignore[attr-defined]  # asked first
    widget(fresh2.checkbox, "Yes, delete the area chosen").check()  # type: ignore[attr-defined]
    _run(fresh2)
    widget(fresh2.button, "Delete").click()  # type: ignore[attr-defined]
    _run(fresh2)
    assert "Hoe Street corridor" not in PatrolAreaStore(store_path).list()["patrol_area"].tolist()
    assert any(s.value == "Deleted Hoe Street corridor." for s in fresh2.success)
    assert fresh2.session_state["store_confirm"] is False  # asked again for the next one


def test_discarding_a_drawn_area(fresh: AppTest, store_path: Path) -> None:
    """Discard closes the dialog, saves nothing and redraws the map without the shape."""
    before = len(PatrolAreaStore(store_path).list())
    fresh.session_state["drawn_geometry"] = json.loads(
        json.dumps(mapping(box(-0.02, 51.58, -0.01, 51.59)))
    )
    _run(fresh)
    fresh.session_state["map_round"] = 3
    widget(fresh.button, "Discard").click()  # type: ignore[attr-defined]
    _run(fresh)
    assert not [t for t in fresh.text_input if t.label == "Name of the patrol area"]
    assert fresh.session_state["map_round"] == 4  # a new map, without the shape
    assert not fresh.session_state["drawn_geometry"]
    assert len(PatrolAreaStore(store_path).list()) == before


def test_saving_a_drawn_area_needs_a_name_and_a_polygon(tmp_path: Path) -> None:
    store = PatrolAreaStore(tmp_path / "s.gpkg")
    poly = mapping(box(-0.02, 51.58, -0.01, 51.59))
    with pytest.raises(InputError, match="name"):
        helpers.save_drawn_area(store, "  ", poly)
    with pytest.raises(InputError, match="polygon"):
        helpers.save_drawn_area(
            store, "A line", {"type": "LineString", "coordinates": [[0, 51], [1, 51]]}
        )
    assert helpers.save_drawn_area(store, " Market ", poly) == "Market"
    with pytest.raises(InputError):  # names are unique
        helpers.save_drawn_area(store, "market", poly)
    assert store.list()["patrol_area"].tolist() == ["Market"]


# ------------------------------------------------------------------------------------------
# Helpers: map, click, downloads, briefing


@pytest.fixture(scope="module")
def analysis() -> Fixture:
    """The analysis the app runs (hotspots.pipeline.analyse) of the planted-hotspot CSV over
    one ward with a name to escape, the incidents and the map options."""
    incidents, _ = helpers.read_uploaded_incidents((("a.csv", street_csv()),))
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "ward_name": ["Test <Ward>"], "population": [1000.0]},
        geometry=[box(535_000, 186_000, 541_000, 192_000)],
        crs="EPSG:27700",
    )
    out = analyse(incidents, wards=wards, eps=100, min_samples=10)
    map_kw = {
        "wards": wards,
        "patrols": None,
        "tiles": None,
        "attribution": None,
        "title": "Test",
        "synthetic": False,
    }
    return out, incidents, map_kw


def test_hotspot_at(
    analysis: Fixture,
) -> None:
    hs = analysis[0].hotspots.to_crs("EPSG:4326")  # type: ignore[union-attr]
    inside = hs.geometry.iloc[0].representative_point()
    assert helpers.hotspot_at(hs, inside.y, inside.x) == hs["hotspot_id"].iloc[0]
    assert helpers.hotspot_at(hs, 10.0, 10.0) is None
    assert helpers.hotspot_at(hs.iloc[0:0], inside.y, inside.x) is None


def test_standalone_map_and_draw_tool(
    analysis: Fixture,
) -> None:
    out, incidents, map_kw = analysis
    page = helpers.standalone_map(out, incidents, **map_kw)
    assert '<script src="http' not in page and "leaflet" in page.lower()
    m = helpers.build_map(out, incidents, **map_kw)
    has_draw = helpers.add_draw_tool(m)
    rendered = m.get_root().render()
    assert "cdn" not in rendered.lower() and "unpkg" not in rendered.lower()
    assert ("L.Control.Draw" in rendered) == has_draw
    hs = out.hotspots
    marked = helpers.build_map(out, incidents, **{**map_kw, "uncovered": hs.iloc[:1]})
    html_text = marked.get_root().render()
    assert f"{hs['hotspot_id'].iloc[0]}: no patrol area covers it" in html_text
    assert f"{hs['hotspot_id'].iloc[1]}: no patrol area covers it" not in html_text
    # the layer control comes after the layer it lists (else Leaflet stops: a blank map)
    assert html_text.index("no patrol area covers it") < html_text.index("L.control.layers")


def test_downloads_are_real_files(
    analysis: Fixture,
    tmp_path: Path,
) -> None:
    from hotspots import write_hotspots_geojson, write_hotspots_gpkg

    out, _, _ = analysis
    hs = out.hotspots
    doc = json.loads(helpers.file_bytes(lambda p: write_hotspots_geojson(hs, p), ".geojson"))  # type: ignore[arg-type]
    assert len(doc["features"]) == len(hs)  # type: ignore[arg-type]
    gpkg = tmp_path / "h.gpkg"
    gpkg.write_bytes(helpers.file_bytes(lambda p: write_hotspots_gpkg(hs, p), ".gpkg"))  # type: ignore[arg-type]
    assert len(gpd.read_file(gpkg)) == len(hs)  # type: ignore[arg-type]
    wards_csv = helpers.table_csv(out.ward_table).decode()  # type: ignore[arg-type]
    assert wards_csv.startswith("ward_code,ward_name")
    page = helpers.printable_html(
        "Outreach <list>", "2024", [("Streets", pd.DataFrame({"s": ["<b>"]}))]
    )
    assert "&lt;b&gt;" in page and "<b>" not in page.replace("<body>", "")


def test_summary_download_is_the_cli_summary() -> None:
    """The dashboard's summary.json is Analysis.summary(): the contract hotspots analyse writes."""
    incidents, report = helpers.read_uploaded_incidents((("a.csv", street_csv()),))
    out = analyse(incidents, eps=100, min_samples=10)
    summary = json.loads(helpers.summary_json(out, report))
    assert summary == json.loads(json.dumps(out.summary(report)))
    assert summary["rows_read"] == report.rows_read and summary["n_hotspots"] == 2
    assert summary["params"]["eps_m"] == 100.0


def test_the_dashboard_s_summary_counts_the_filtered_rows_as_the_command_line_does() -> None:
    """The months and crime types chosen in the sidebar leave rows out: the dashboard's
    summary.json counts them under the command line's reasons (it said every row loaded was
    used: 88,534 against the command line's 29,594 on the demo's last year)."""
    from hotspots.filter import filter_incidents

    incidents, report = helpers.read_uploaded_incidents((("a.csv", street_csv()),))
    months = sorted(incidents["month"].dt.strftime("%Y-%m").unique())
    chosen = filter_incidents(incidents, start=months[1], end=months[-1], categories=["Burglary"])
    out = helpers.analysed_report(
        report, incidents, (months[1], months[-1], ["Burglary"]), len(chosen)
    )
    assert out.rows_used == len(chosen)
    assert out.rows_read == out.rows_used + out.rows_dropped == report.rows_read
    assert out.dropped["outside the period"] > 0 and out.dropped["not a selected crime type"] > 0
    assert report.rows_used == len(incidents)  # the load report itself is left as it was


def test_the_spacing_chart_is_not_flattened_by_far_points() -> None:
    """A few map points hundreds of km away: the axis stops at four times the larger of the
    distance in use and the 95th percentile, so the curve and the red line can be read."""
    spacing = np.r_[np.linspace(10, 120, 1000), [150_000.0, 200_000.0]]
    spec = helpers.k_distance_chart(spacing, 75.0).to_dict()
    y = spec["layer"][0]["encoding"]["y"]
    top = 4 * float(np.percentile(spacing, 95))
    assert y["scale"]["domain"] == [0, pytest.approx(top)] and top < 1_000
    assert spec["layer"][0]["mark"]["clip"] is True


def test_briefing_table_suppresses_small_counts(analysis: Fixture) -> None:
    hs = analysis[0].hotspots.copy()  # type: ignore[union-attr]
    hs.loc[hs.index[0], "incidents"] = 3
    table = helpers.briefing_table(hs)
    assert table["Incidents"].iloc[0] == "fewer than 5"


def test_fewer_than_5() -> None:
    assert helpers.fewer_than_5(0) == "0"
    assert helpers.fewer_than_5(1) == helpers.fewer_than_5(4) == "fewer than 5"
    assert helpers.fewer_than_5(5) == "5"


def test_briefing_file(
    analysis: Fixture,
) -> None:
    out, incidents, map_kw = analysis
    page = helpers.briefing_page(out, incidents, map_kw, ("2024-01", "2024-06"))
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "data:image/png;base64" in page
    assert "Test &lt;Ward&gt;" in page or "Test <Ward>" not in page


# ------------------------------------------------------------------------------------------
# Fetching (against a local fake of data.police.uk and the ONS ward service)


def test_fetch_from_data_police_uk(
    fresh: AppTest, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from tests.fake_services import FakeServices, crime, ward_feature

    lad = "E09000031"
    wards = [
        ward_feature(f"E0501{k:04d}", f"Ward {k}", lad, -0.05 + 0.01 * k, 51.58) for k in range(5)
    ]
    rng = np.random.default_rng(3)
    crimes = []
    for month in ("2024-01", "2024-02"):
        for i in range(150):  # a tight blob, and background over the five wards
            if i < 100:
                lon, lat = -0.025 + rng.normal(0, 0.0003), 51.585 + rng.normal(0, 0.0002)
            else:
                lon, lat = rng.uniform(-0.05, 0.0), rng.uniform(51.58, 51.59)
            crimes.append(crime(len(crimes) + 1, lon, lat, month, "violent-crime"))
    with FakeServices(crimes=crimes, wards=wards) as fake:
        monkeypatch.setenv("HOTSPOTS_POLICE_API", fake.police_url)
        monkeypatch.setenv("HOTSPOTS_ONS_WARDS_URL", fake.wards_url)
        widget(fresh.radio, "Incidents").set_value("Fetch from data.police.uk")  # type: ignore[attr-defined]
        _run(fresh)
        widget(fresh.text_input, "Local authority code").set_value(lad)  # type: ignore[attr-defined]
        widget(fresh.text_input, "From (YYYY-MM)").set_value("2024-01")  # type: ignore[attr-defined]
        widget(fresh.text_input, "To (YYYY-MM)").set_value("2024-02")  # type: ignore[attr-defined]
        widget(fresh.button, "Fetch").click()  # type: ignore[attr-defined]
        _run(fresh)
        assert fake.police_requests() and fake.arcgis_requests()
    assert not fresh.error, [e.value for e in fresh.error]
    assert incidents_shown(fresh) == 300
    assert widget(fresh.radio, "Ward boundaries").value == "Fetched"  # type: ignore[attr-defined]
    assert len(frame_with(on_page(fresh, "plan"), "ward_code", "ward_name", "incidents")) == 5
    assert any(f.name == f"{lad}-2024-01-2024-02" for f in helpers.fetched_folders())
    # a bad code: the message sits under the fetch form, the fetched data stay
    widget(fresh.text_input, "Local authority code").set_value("nonsense")  # type: ignore[attr-defined]
    widget(fresh.button, "Fetch").click()  # type: ignore[attr-defined]
    on_page(fresh, "overview")
    assert fresh.sidebar.error
    assert incidents_shown(fresh) == 300


def test_wards_can_be_shaded_by_a_rate(fresh: AppTest) -> None:
    """Choosing a shading re-draws the map with the ward table's values, without errors."""
    fresh.selectbox(key="ward_shading").set_value("Incidents per km²")
    _run(fresh)
    assert not fresh.exception
    assert not [e.value for e in fresh.error]
    assert fresh.selectbox(key="ward_shading").value == "Incidents per km²"


def test_a_bad_store_path_is_one_line_not_a_traceback(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTSPOTS_STORE", str(store_path.with_suffix(".sqlite")))
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert len(at.error) == 1
    message = at.error[0].value
    assert "store cannot be opened" in message and "HOTSPOTS_STORE" in message
    assert "\n" not in message


def test_a_city_waits_for_the_back_test_to_be_asked_for(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At city scale (here: the threshold lowered to the demo's size) the commander's page shows
    the hotspots at once and the back-test only after its button; the overview never runs it."""
    from ui import context

    monkeypatch.setattr(context, "CITY_INCIDENTS", 1_000)
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("ui/pages/plan.py").run()
    # months no other test chooses: an analysis of its own (the caches are shared)
    at.select_slider[0].set_value(("2024-02", "2024-12"))
    _run(at)
    sentence = " ".join(m.value for m in at.markdown)
    assert "back-tests" not in sentence
    # the settings are the back-test's choice at city scale too, as on the command line
    captions = " ".join(c.value for c in at.caption)
    assert "m: chosen by back-test on your own months" in captions
    ask = widget(at.button, "Check how well these hotspots predict")
    ask.click()  # type: ignore[attr-defined]
    _run(at)
    sentence = " ".join(m.value for m in at.markdown)
    assert "back-tests (the latest fitted on 2024-02.." in sentence


def test_text_from_the_data_forms_no_link_or_image_on_the_pages(fresh: AppTest) -> None:
    """Streets and crime types holding Markdown (an image from a web address, a link) and a
    bare address: on Plan deployments and Place outreach no text forms an image or link
    (it loaded an outside image and showed a working link), and the words still show."""
    rows = make_street_rows()
    loc, cat = STREET_HEADER.index("Location"), STREET_HEADER.index("Crime type")
    for row in rows:
        row[loc] = "On or near ![x](http://127.0.0.1:9/s.png) www.evil.example Road"
        row[cat] = "[Sign in](http://127.0.0.1:9/login)"
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        ("2024-x-street.csv", street_csv(rows), "text/csv")
    )
    _run(fresh)
    linked = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|www\.evil|<http")
    for page in ("plan", "outreach"):
        shown = on_page(fresh, page)
        texts = [
            e.value
            for kind in ("markdown", "caption", "error", "warning")
            for e in getattr(shown, kind)
        ]
        said = [t for t in texts if isinstance(t, str) and ("evil" in t or "Sign in" in t)]
        assert said or page == "outreach", page  # the data's words are on the plan ...
        assert not [t for t in said if linked.search(t)], said  # ... but form no link


def test_an_upload_larger_in_all_than_allowed_is_refused(
    fresh: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's size limit is a file's: several files together are checked here (two
    120 MB files were read, 240 MB). The limit is lowered for the test, to two files' size."""
    import ui.sources

    one = street_csv()
    monkeypatch.setattr(ui.sources, "MAX_UPLOAD_BYTES", len(one) + 10)
    widget(fresh.radio, "Incidents").set_value("Upload files")  # type: ignore[attr-defined]
    _run(fresh)
    fresh.sidebar.get("file_uploader")[0].set_value(
        [("2024-a-street.csv", one, "text/csv"), ("2024-b-street.csv", one, "text/csv")]
    )
    _run(fresh)
    assert any("more than an upload may" in e.value for e in fresh.error)
    assert incidents_shown(fresh) != 2 * len(make_street_rows())  # neither file was read


def test_a_drawn_area_joins_the_layer_even_with_saved_areas_left_out(
    fresh: AppTest, store_path: Path
) -> None:
    """'It joins the patrol layer at once': with 'Add the patrol areas saved in the store'
    unticked, saving a drawn area ticks it again (the area was saved but not used)."""
    widget(fresh.checkbox, "Add the patrol areas saved in the store").uncheck()  # type: ignore[attr-defined]
    _run(fresh)
    drawn = mapping(box(-0.0205, 51.5805, -0.0195, 51.5813))
    fresh.session_state["drawn_geometry"] = json.loads(json.dumps(drawn))
    _run(fresh)
    widget(fresh.text_input, "Name of the patrol area").set_value("Ticked again")  # type: ignore[attr-defined]
    widget(fresh.button, "Save patrol area").click()  # type: ignore[attr-defined]
    _run(fresh)
    assert widget(fresh.checkbox, "Add the patrol areas saved in the store").value  # type: ignore[attr-defined]
    on_page(fresh, "outreach")
    assert "Ticked again" in frame_with(fresh, "patrol_area")["patrol_area"].tolist()
    PatrolAreaStore(store_path).delete("Ticked again")


def test_the_map_opens_on_the_wards_chosen() -> None:
    """Wards chosen in the filter: the map's frame is theirs (it stayed on the borough, the
    wards small in it); none chosen: the bulk of the incidents, as before."""
    from geodata import SAMPLE_WARDS, load_wards
    from ui.sidebar import Data

    layer, _ = load_wards(SAMPLE_WARDS)
    bulk = [[51.0, -1.0], [52.0, 1.0]]

    def data(names: list[str]) -> Data:
        return Data(
            inc_key="k", incidents=layer.iloc[:0], report=None, synthetic=True,  # type: ignore[arg-type]
            wards_key="w", wards=layer, ward_notes=[], patrols_key="none", patrols=None,
            patrol_notes=[], start="2024-01", end="2024-12", crime_types=[],
            ward_names=names, frame=bulk,
        )  # fmt: skip

    assert data([]).map_frame == bulk
    one = str(layer["ward_name"].iloc[0])
    w, s, e, n = layer[layer["ward_name"] == one].to_crs(4326).total_bounds
    frame = data([one]).map_frame
    assert frame is not None and [*frame[0], *frame[1]] == pytest.approx([s, w, n, e])
