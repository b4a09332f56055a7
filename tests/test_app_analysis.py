"""The Analysis and Evaluate-a-pilot tabs through Streamlit's AppTest, on the demo borough.

Each analysis method renders its map and table; the pilot tab recovers the fall planted on the
St James Street corridor and finds nothing at a placebo area (a saved patrol area around the
planted station hotspot, where nothing was done). The store is a temporary file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from geodata import SAMPLE_DIR
from geodata.store import PatrolAreaStore
from hotspots import InputError
from hotspots.assets import external_urls
from hotspots.harm import DEFAULT_HARM_WEIGHTS, HARM_SOURCE
from hotspots.significance import LEFT_OUT
from ui import analysis, pilot
from ui import harm_table as harm_ui
from ui.helpers import STATIC_URL

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TRUTH = json.loads((SAMPLE_DIR / "truth.json").read_text())
OPERATION = TRUTH["corridor"]["operation"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOTSPOTS_STORE in a temporary folder: a placebo area around the station and a control
    area around Central Square (another planted hotspot, where nothing was done either)."""
    path = tmp_path_factory.mktemp("store") / "store.gpkg"
    station = next(h for h in TRUTH["hotspots"] if "station" in h["name"].lower())
    centre = gpd.GeoSeries(
        gpd.points_from_xy([station["centre_lonlat"][0]], [station["centre_lonlat"][1]]),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    PatrolAreaStore(path).add("Station placebo", centre.buffer(300).iloc[0], crs="EPSG:27700")
    square = next(h for h in TRUTH["hotspots"] if h["name"] == "Central Square")
    centre = gpd.GeoSeries(
        gpd.points_from_xy([square["centre_lonlat"][0]], [square["centre_lonlat"][1]]),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    PatrolAreaStore(path).add("Square control", centre.buffer(400).iloc[0], crs="EPSG:27700")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOTSPOTS_STORE", str(path))
        yield path


def _run(element: Any) -> AppTest:
    """Run the app (or the app of a widget just changed); no traceback and no error shown."""
    at: AppTest = element.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture
def fresh(store_path: Path) -> AppTest:
    """A new session on the Analysis page."""
    return _run(AppTest.from_file(APP, default_timeout=180).switch_page("ui/pages/analysis.py"))


@pytest.fixture
def evaluate(store_path: Path) -> AppTest:
    """A new session on the Evaluate-an-operation page."""
    return _run(AppTest.from_file(APP, default_timeout=180).switch_page("ui/pages/evaluate.py"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    for df in at.dataframe:
        if list(df.value.columns[: len(columns)]) == list(columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def test_footprints_method_shows_the_ranked_table(fresh: AppTest) -> None:
    assert int(metric(fresh, "Footprints")) > 0
    assert len(table_with(fresh, "hotspot_id", "rank")) > 0


def test_kde_shows_bands_and_the_default_reasons(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("KDE"))
    assert int(metric(fresh, "KDE bands")) > 0
    assert len(table_with(fresh, "band")) > 0
    captions = " ".join(c.value for c in fresh.caption)
    assert "Default cell_size" in captions and "Default bandwidth" in captions
    _run(fresh.slider(key="kde_share").set_value(10))
    assert int(metric(fresh, "KDE bands")) >= 2


def test_kde_of_a_small_area_takes_its_own_small_defaults(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few streets' incidents: the automatic cell is a few metres. The boxes take it as the
    command line does, unrounded (the page stopped with "4 is less than the min_value 5")."""
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(3)
    lines = ["lon,lat,month,crime type"] + [
        f"{-0.0890 + 0.0012 * rng.random():.6f},{51.5138 + 0.0008 * rng.random():.6f},"
        f"2024-{1 + i % 6:02d},Robbery"
        for i in range(300)
    ]
    (folder / "small.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HOTSPOTS_DATA", str(folder))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    next(r for r in at.radio if r.label == "Incidents").set_value("Files in the data folder")
    at.run()
    at.switch_page("ui/pages/analysis.py")
    _run(at)
    _run(at.radio(key="an_method").set_value("KDE"))
    assert 0 < at.number_input(key="kde_cell").value < 5  # the automatic cell, unrounded
    assert int(metric(at, "KDE bands")) > 0


def test_kde_weighted_by_harm_shows_the_caveat(fresh: AppTest) -> None:
    fresh.radio(key="an_method").set_value("KDE")
    _run(fresh.checkbox(key="an_harm").check())
    assert int(metric(fresh, "KDE bands")) > 0
    assert any(HARM_SOURCE in c.value for c in fresh.caption)


@pytest.mark.parametrize("method", ["DBSCAN / HDBSCAN footprints", "Gi*", "Change"])
def test_every_method_weighted_by_harm_renders(fresh: AppTest, method: str) -> None:
    fresh.radio(key="an_method").set_value(method)
    _run(fresh.checkbox(key="an_harm").check())
    assert any(HARM_SOURCE in c.value for c in fresh.caption)
    if method == "Gi*":
        assert int(metric(fresh, "Hot cells")) > 0
    elif method == "Change":
        assert len(table_with(fresh, "pattern", "cells", "counts_rising")) > 0
    else:
        assert int(metric(fresh, "Footprints")) > 0


def test_gi_star_has_hot_cells_and_a_count_per_class(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("Gi*"))
    assert int(metric(fresh, "Hot cells")) > 0
    table = table_with(fresh, "class", "cells")
    assert list(table["class"])[:3] == ["hot 99%", "hot 95%", "hot 90%"]
    _run(fresh.checkbox(key="gi_fdr").uncheck())
    assert int(metric(fresh, "Hot cells")) > 0
    _run(fresh.checkbox(key="gi_permutations").check())
    assert any("999 conditional randomisations" in c.value for c in fresh.caption)
    assert int(metric(fresh, "Hot cells")) > 0


def test_change_shows_patterns_with_the_count_trend(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("Change"))
    compared = [d.value for d in fresh.dataframe if {"before", "after"} <= set(d.value.columns)]
    assert compared and (compared[0]["change"] != 0).any()
    words = compared[0]["change_words"]
    assert words.str.contains("95% interval").all()
    assert any("exact 95% interval" in c.value for c in fresh.caption)
    patterns = table_with(fresh, "pattern", "cells", "counts_rising", "counts_falling")
    assert patterns["cells"].sum() > 0
    tested = patterns[patterns["pattern"] != LEFT_OUT]  # clipped edge cells have no Gi*
    assert (
        tested[["counts_rising", "counts_falling", "no_clear_count_trend"]].sum(axis=1)
        == tested["cells"]
    ).all()
    cells = table_with(fresh, "pattern", "count_trend", "series", "incidents")
    assert len(cells) > 0
    assert cells["count_trend"].str.match(r"(rising|falling|no clear trend) \(p [<=] ").all()
    _run(fresh.radio(key="ch_window").set_value("Each period on its own"))
    assert any("same period only" in c.value for c in fresh.caption)


def test_gi_and_change_by_ward(fresh: AppTest) -> None:
    """With the demo wards loaded, the wards themselves can be the cells."""
    _run(fresh.radio(key="an_method").set_value("Gi*"))
    _run(fresh.radio(key="gi_cell_units").set_value("Wards"))
    wards = gpd.read_file(SAMPLE_DIR / "demo_wards.geojson")
    table = table_with(fresh, "class", "cells")
    assert table["cells"].sum() == len(wards)  # one Gi* value per ward
    assert not any(n.key == "gi_cell" for n in fresh.number_input)  # no grid size to choose
    _run(fresh.radio(key="an_method").set_value("Change"))
    _run(fresh.radio(key="ch_cell_units").set_value("Wards"))
    compared = [d.value for d in fresh.dataframe if {"before", "after"} <= set(d.value.columns)]
    assert compared and "ward_name" in compared[0].columns
    names = set(wards.drop(columns="geometry").astype(str).stack())  # whatever the name column
    assert set(compared[0]["ward_name"]) <= names


def test_an_input_error_is_shown_not_raised(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("Change"))
    fresh.number_input(key="ch_period").set_value(12).run()  # one year filtered: one period
    assert not fresh.exception
    assert any("period_months" in e.value for e in fresh.error)
    assert len(table_with(fresh, "cell_id")) > 0  # the period comparison is still shown


def test_cell_maps_load_nothing_from_outside_and_escape_tooltips() -> None:
    cells = gpd.GeoDataFrame(
        geometry=[box(530_000, 180_000, 530_250, 180_250), box(530_250, 180_000, 530_500, 180_250)],
        crs="EPSG:27700",
    )
    m, drawn = analysis.cells_map(
        cells, pd.Series(["#b10026", "#2166ac"]), pd.Series(["<script>x</script>", "ok"])
    )
    assert drawn == 2
    page = m.get_root().render()
    assert all(url.startswith(STATIC_URL) for url in external_urls(page)), external_urls(page)
    assert "<script>x</script>" not in page


def _pilot(at: AppTest, target: str, types: list[str] | None) -> str:
    at.radio(key="pilot_target").set_value(target)
    at.selectbox(key="pilot_start").set_value(OPERATION["first"])
    at.selectbox(key="pilot_end").set_value(OPERATION["last"])
    if types is not None:
        at.multiselect(key="pilot_types").set_value(types)
    _run(at)
    _run(at.button(key="pilot_run").click())
    return " ".join(m.value for m in at.markdown)


def test_pilot_on_the_demo_corridor_finds_the_planted_fall(evaluate: AppTest) -> None:
    text = _pilot(evaluate, pilot.CORRIDOR, TRUTH["corridor"]["violence_types"])
    assert "lower" in text and "95% confidence interval" in text
    counts = table_with(evaluate, "zone", "before", "during", "after")
    assert list(counts["zone"]) == ["target", "buffer", "control"]
    assert metric(evaluate, "Change beyond the control").startswith("−")
    assert any(m.label == "WDQ" for m in evaluate.metric)
    labels = [b.label for b in evaluate.get("download_button")]
    assert "pilot.json" in labels and "Monthly counts (CSV)" in labels
    assert "Pilot briefing (HTML)" in labels
    _run(evaluate.number_input(key="pilot_placebos").set_value(19))
    text = " ".join(m.value for m in evaluate.markdown)
    assert "Placebo check: of 19 areas of the target's size and shape" in text


def test_the_demo_opens_on_its_corridor_and_its_operation(evaluate: AppTest) -> None:
    """A new user on the demo sees an evaluation they can run at once (the target was "saved
    patrol area", with none saved yet)."""
    assert evaluate.radio(key="pilot_target").value == pilot.CORRIDOR
    assert evaluate.selectbox(key="pilot_start").value == OPERATION["first"]
    assert evaluate.selectbox(key="pilot_end").value == OPERATION["last"]


def test_choosing_the_demo_corridor_sets_its_operation_months(evaluate: AppTest) -> None:
    _run(evaluate.radio(key="pilot_target").set_value(pilot.CORRIDOR))
    assert evaluate.selectbox(key="pilot_start").value == OPERATION["first"]
    assert evaluate.selectbox(key="pilot_end").value == OPERATION["last"]
    _run(evaluate.selectbox(key="pilot_end").set_value(OPERATION["first"]))  # the user's own choice
    assert evaluate.selectbox(key="pilot_end").value == OPERATION["first"]


def test_pilot_charts_shade_the_operation_s_whole_months() -> None:
    """Three charts (each fits the page's width), the band from the first day of the first
    operation month to the first day after the last: the last month's point is inside it."""
    monthly = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"],
            "period": ["before", "during", "during", "after", "after"],
            "target": [5, 4, 3, 2, 2],
            "buffer": [3, 3, 3, 3, 3],
            "control": [50, 51, 49, 50, 52],
        }
    )
    charts = pilot.monthly_charts(monthly)
    assert len(charts) == 3
    band = charts[0].to_dict()["layer"][0]
    assert band["mark"]["type"] == "rect"
    shade = charts[0].to_dict()["datasets"][band["data"]["name"]][0]
    assert pd.Timestamp(shade["start"]) == pd.Timestamp("2024-02-01")
    assert pd.Timestamp(shade["end"]) == pd.Timestamp("2024-04-01")


def test_pilot_page_names_the_target() -> None:
    from geodata import load_sample_incidents
    from hotspots.pilot import evaluate_pilot

    incidents, _ = load_sample_incidents()
    target = pilot.corridor_target(str(incidents.crs))
    result = evaluate_pilot(incidents, target=target, start="2023-04", end="2023-09")
    page = pilot._pilot_page(result, "corridor", target, None, True)
    assert "St James Street corridor (demo)" in page and "SYNTHETIC DEMO DATA" in page
    saved = gpd.GeoDataFrame({"patrol_area": ["<b>Market & Co</b>"]}, geometry=target.values)
    page = pilot._pilot_page(result, "store:x", saved, None, False)
    assert "&lt;b&gt;Market &amp; Co&lt;/b&gt;" in page and "<b>Market" not in page
    assert "SYNTHETIC DEMO DATA" not in page


def test_pilot_at_a_placebo_area_shows_no_evidence(evaluate: AppTest) -> None:
    evaluate.radio(key="pilot_target").set_value("Saved patrol area")
    _run(evaluate)
    evaluate.selectbox(key="pilot_area").set_value("Station placebo")
    text = _pilot(evaluate, "Saved patrol area", None)
    assert "no evidence of a change" in text
    assert "lower than the control" not in text


def test_pilot_with_the_operation_reversed_is_an_error_not_a_traceback(evaluate: AppTest) -> None:
    _run(evaluate.radio(key="pilot_target").set_value(pilot.CORRIDOR))
    evaluate.selectbox(key="pilot_start").set_value("2024-06")
    evaluate.selectbox(key="pilot_end").set_value("2024-01")
    evaluate.run()
    evaluate.button(key="pilot_run").click().run()
    assert not evaluate.exception
    assert evaluate.error


def uploader(at: AppTest, key: str) -> Any:
    return next(u for u in at.get("file_uploader") if u.key == key)


def test_pilot_with_no_crime_type_chosen_asks_for_one(evaluate: AppTest) -> None:
    """No crime type chosen is not every type: the page asks for one and evaluates nothing."""
    _pilot(evaluate, pilot.CORRIDOR, [])
    assert any(i.value == "Choose at least one crime type to count." for i in evaluate.info)
    assert not any(m.label == "Change beyond the control" for m in evaluate.metric)


def test_pilot_crime_types_follow_the_sidebar_until_edited(evaluate: AppTest) -> None:
    categories = evaluate.multiselect(key="crime_types").value
    assert sorted(evaluate.multiselect(key="pilot_types").value) == sorted(categories)
    _run(evaluate.multiselect(key="crime_types").set_value(["Robbery", "Drugs"]))
    assert sorted(evaluate.multiselect(key="pilot_types").value) == ["Drugs", "Robbery"]
    _run(evaluate.multiselect(key="pilot_types").set_value(["Robbery"]))
    _run(evaluate)  # another run (any other widget): the user's choice is kept
    assert evaluate.multiselect(key="pilot_types").value == ["Robbery"]
    _run(evaluate.multiselect(key="crime_types").set_value(["Burglary"]))
    assert evaluate.multiselect(key="pilot_types").value == ["Burglary"]


def test_pilot_with_a_saved_control_area(evaluate: AppTest) -> None:
    violence = TRUTH["corridor"]["violence_types"]
    default_text = _pilot(evaluate, pilot.CORRIDOR, violence)
    assert "the rest of the study area" in default_text
    default_counts = table_with(evaluate, "zone", "before", "during", "after")
    assert any("control area: the study area minus" in c.value for c in evaluate.caption)
    assert any("matched control area" in c.value for c in evaluate.caption)
    assert not any("=" in c.value for c in evaluate.caption)  # no library arguments

    evaluate.radio(key="pilot_control").set_value(pilot.SAVED)
    _run(evaluate)
    _run(evaluate.selectbox(key="pilot_control_area").set_value("Square control"))
    text = " ".join(m.value for m in evaluate.markdown)
    assert "Over the same periods the control area changed" in text
    assert "the rest of the study area" not in text
    assert not any("control area: the study area minus" in c.value for c in evaluate.caption)
    counts = table_with(evaluate, "zone", "before", "during", "after")
    control = counts.set_index("zone").loc["control"]
    assert (control < default_counts.set_index("zone").loc["control"]).all()
    assert (
        counts.set_index("zone")
        .loc["target"]
        .equals(default_counts.set_index("zone").loc["target"])
    )


def test_pilot_refuses_the_target_as_its_own_control(evaluate: AppTest) -> None:
    evaluate.radio(key="pilot_target").set_value(pilot.SAVED)
    evaluate.radio(key="pilot_control").set_value(pilot.SAVED)
    _run(evaluate)  # the control starts on another area than the target's
    assert (
        evaluate.selectbox(key="pilot_control_area").value
        != evaluate.selectbox(key="pilot_area").value
    )
    evaluate.selectbox(key="pilot_area").set_value("Station placebo")
    evaluate.selectbox(key="pilot_control_area").set_value("Station placebo").run()
    assert not evaluate.exception
    assert [e.value for e in evaluate.error] == [
        "The control area is the same as the target area; choose another area "
        "(streets like the target's where nothing was done)."
    ]
    evaluate.button(key="pilot_run").click().run()
    assert not evaluate.exception
    assert not any(d.value.columns[0] == "zone" for d in evaluate.dataframe)  # not evaluated


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"{not json", "c.geojson"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {},
                            "geometry": {"type": "Point", "coordinates": [-0.02, 51.59]},
                        }
                    ],
                }
            ).encode(),
            "Point",
        ),
    ],
)
def test_a_bad_control_file_is_one_error_line(evaluate: AppTest, content: bytes, says: str) -> None:
    evaluate.radio(key="pilot_target").set_value(pilot.CORRIDOR)
    evaluate.radio(key="pilot_control").set_value(pilot.UPLOAD)
    _run(evaluate)
    uploader(evaluate, "pilot_control_file").set_value(("c.geojson", content, "application/json"))
    evaluate.run()
    evaluate.button(key="pilot_run").click().run()
    assert not evaluate.exception
    errors = [e.value for e in evaluate.error]
    assert len(errors) == 1 and says in errors[0] and "\n" not in errors[0], errors
    assert not any(d.value.columns[0] == "zone" for d in evaluate.dataframe)  # not evaluated


def test_cell_maps_draw_the_wards_with_escaped_names() -> None:
    cells = gpd.GeoDataFrame(geometry=[box(530_000, 180_000, 530_250, 180_250)], crs="EPSG:27700")
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["<b>Evil & Co</b>", "Plain Ward"]},
        geometry=[box(529_000, 179_000, 530_100, 181_000), box(530_100, 179_000, 531_000, 181_000)],
        crs="EPSG:27700",
    )
    page, _ = analysis.cells_map(cells, pd.Series(["#b10026"]), pd.Series(["ok"]), wards)
    html = page.get_root().render()
    # folium writes the GeoJSON with <, > and & as \u escapes: read it as the browser does
    decoded = html
    for code, char in (("\\u0026", "&"), ("\\u003c", "<"), ("\\u003e", ">")):
        decoded = decoded.replace(code, char)
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in decoded and "Plain Ward" in decoded
    assert "<b>Evil" not in decoded
    assert '"fill": false' in html  # outlines only: the cells keep their tooltips
    assert all(url.startswith(STATIC_URL) for url in external_urls(html)), external_urls(html)
    without, _ = analysis.cells_map(cells, pd.Series(["#b10026"]), pd.Series(["ok"]))
    assert "Plain Ward" not in without.get_root().render()


def _grid(n: int, size: float = 50.0) -> gpd.GeoDataFrame:
    side = 400
    return gpd.GeoDataFrame(
        geometry=[
            box(530_000 + size * (i % side), 170_000 + size * (i // side),
                530_000 + size * (i % side + 1), 170_000 + size * (i // side + 1))
            for i in range(n)
        ],
        crs="EPSG:27700",
    )  # fmt: skip


def test_cell_maps_stay_under_2_mb_at_city_scale() -> None:
    """40,000 cells in four colours (a city's change map at 50 m would hold far more) and
    2,002 wards, two of them detailed: the first cells that fit are drawn, in the order given,
    and the page the browser receives stays under 2 MB; without a limit the cells alone would
    be ~13 MB."""
    from streamlit_folium import _get_header, _get_map_string

    from hotspots.web import WEB_MAX_BYTES

    cells = _grid(40_000)
    tips = pd.Series(
        [f"cell {i}: no clear change (+10%; 95% interval −58% to +189%)" for i in range(40_000)]
    )
    palette = list(analysis.CHANGE_COLOURS.values())  # a case in folium's styles for each
    colours = pd.Series([palette[i % 4] for i in range(40_000)])
    ring = Point(540_000, 175_000).buffer(6_000, quad_segs=4_000)  # 16,000 vertices a ward
    many = [
        box(600_000 + 90 * (i % 50), 170_000 + 90 * (i // 50),
            600_080 + 90 * (i % 50), 170_080 + 90 * (i // 50))
        for i in range(2_000)
    ]  # fmt: skip
    wards = gpd.GeoDataFrame(
        {"ward_name": ["West", "East", *(f"Ward {i}" for i in range(2_000))]},
        geometry=[
            ring.intersection(box(0, 0, 540_000, 1e6)),
            ring.intersection(box(540_000, 0, 1e6, 1e6)),
            *many,
        ],
        crs="EPSG:27700",
    )  # fmt: skip
    m, drawn = analysis.cells_map(cells, colours, tips, wards)
    assert 1_000 < drawn < 40_000
    m.get_root().render()
    payload = len(_get_map_string(m).encode()) + len(_get_header(m).encode())
    assert payload <= WEB_MAX_BYTES, payload
    page = _get_map_string(m)
    assert f"cell {drawn - 1}:" in page and f"cell {drawn}:" not in page  # the first ones
    assert "West" in page and "Ward 1999" in page  # the wards, simplified to fit


def test_change_map_puts_clear_changes_first_and_darker() -> None:
    moved = pd.DataFrame(
        {
            "ward": [0, 1, 2, 3, 4],
            "change": [5.0, -40.0, 30.0, -2.0, 12.0],
            "change_low_pct": [-10.0, -60.0, 20.0, -80.0, float("nan")],
            "change_high_pct": [50.0, 10.0, 90.0, -5.0, float("nan")],
        }
    )
    ordered = analysis._clear_first(moved)
    # clear: cells 2 (+30, up) and 3 (-2, down), by size; then 1, 4, 0 by size
    assert ordered["ward"].tolist() == [2, 3, 1, 4, 0]
    colours = analysis._change_colours(ordered).tolist()
    c = analysis.CHANGE_COLOURS
    assert colours == [c["clearly more"], c["clearly fewer"], c["fewer"], c["more"], c["more"]]
    # harm-weighted sums have no interval: every change in the dark colours, by its sign
    weighted = moved.assign(change_low_pct=float("nan"), change_high_pct=float("nan"))
    untested = analysis._change_colours(analysis._clear_first(weighted), tested=False)
    assert untested.tolist() == [c["clearly fewer"], c["clearly more"], c["clearly more"],
                                 c["clearly more"], c["clearly fewer"]]  # fmt: skip


def _harm_csv(weights: dict[str, float]) -> bytes:
    out = io.StringIO()
    pd.DataFrame({"crime_type": list(weights), "weight": list(weights.values())}).to_csv(
        out, index=False
    )
    return out.getvalue().encode()


# Drugs heavier than anything else: the harm ranking must change.
DRUGS_HEAVY = {name: 1.0 for name in DEFAULT_HARM_WEIGHTS} | {"Drugs": 5000.0}


def harm_table(at: AppTest) -> pd.DataFrame:
    """The Analysis tab's footprints ranked by harm (not the Deployments tab's table)."""
    return table_with(at, "hotspot_id", "rank", "incidents", "share", "harm")


def _harm_on(at: AppTest) -> pd.DataFrame:
    _run(at.checkbox(key="an_harm").check())
    assert any(HARM_SOURCE in c.value for c in at.caption)
    editor = at.data_editor[0]
    assert editor.value.to_dict("list") == {
        "crime_type": list(DEFAULT_HARM_WEIGHTS),
        "weight": list(DEFAULT_HARM_WEIGHTS.values()),
    }
    assert "Harm weights (CSV)" in [b.label for b in at.get("download_button")]
    return harm_table(at)


def test_harm_weights_from_a_file_change_the_footprints_and_reset(fresh: AppTest) -> None:
    built_in = _harm_on(fresh)
    uploader(fresh, "harm_file").set_value(("mine.csv", _harm_csv(DRUGS_HEAVY), "text/csv"))
    _run(fresh)
    assert any(c.value == "Harm weights: your file mine.csv." for c in fresh.caption)
    assert fresh.data_editor[0].value["weight"].tolist() == list(DRUGS_HEAVY.values())
    mine = harm_table(fresh)
    assert not mine.equals(built_in)
    _run(fresh.button(key="harm_reset").click())
    assert any(f"Harm weights: {HARM_SOURCE}." == c.value for c in fresh.caption)
    pd.testing.assert_frame_equal(harm_table(fresh), built_in)


def test_an_invalid_harm_file_is_an_error_and_keeps_the_table(fresh: AppTest) -> None:
    built_in = _harm_on(fresh)
    bad = _harm_csv({k: v for k, v in DRUGS_HEAVY.items() if k != "Robbery"})
    uploader(fresh, "harm_file").set_value(("bad.csv", bad, "text/csv"))
    fresh.run()
    assert not fresh.exception
    errors = [e.value for e in fresh.error]
    assert len(errors) == 1 and errors[0].startswith("bad.csv: missing crime types 'Robbery'")
    assert any(f"Harm weights: {HARM_SOURCE}." == c.value for c in fresh.caption)
    pd.testing.assert_frame_equal(harm_table(fresh), built_in)


def test_a_weight_edited_in_the_table_changes_the_footprints(fresh: AppTest) -> None:
    built_in = _harm_on(fresh)
    row = list(DEFAULT_HARM_WEIGHTS).index("Drugs")
    edits = {"edited_rows": {row: {"weight": 5000.0}}, "added_rows": [], "deleted_rows": []}
    fresh.session_state[str(fresh.data_editor[0].key)] = edits
    _run(fresh)
    assert any(c.value == "Harm weights: edited in the dashboard." for c in fresh.caption)
    edited = harm_table(fresh)
    assert not edited.equals(built_in)
    _run(fresh.radio(key="an_method").set_value("KDE"))  # kept across methods
    assert any(c.value == "Harm weights: edited in the dashboard." for c in fresh.caption)
    _run(fresh.checkbox(key="an_harm").uncheck())
    _run(fresh.checkbox(key="an_harm").check())  # and when harm is ticked again
    assert fresh.data_editor[0].value["weight"][row] == 5000.0
    _run(fresh.radio(key="an_method").set_value(analysis.METHODS[0]))
    assert any(c.value == "Harm weights: edited in the dashboard." for c in fresh.caption)
    pd.testing.assert_frame_equal(harm_table(fresh), edited)


def test_harm_helpers_read_files_and_key_the_table() -> None:
    table, name = harm_ui.read_harm_upload((("mine.csv", _harm_csv(DRUGS_HEAVY)),))
    assert name == "mine.csv" and table == DRUGS_HEAVY
    with pytest.raises(InputError, match=r"^latin\.csv: not a UTF-8"):
        harm_ui.read_harm_upload((("latin.csv", "crime_type,weight\nCaf\xe9,1".encode("cp1252")),))
    with pytest.raises(InputError, match=r"^x\.csv: a harm weights CSV needs"):
        harm_ui.read_harm_upload((("x.csv", b"a,b\n1,2"),))
    base = harm_ui.harm_key(DEFAULT_HARM_WEIGHTS)
    assert harm_ui.harm_key(dict(DEFAULT_HARM_WEIGHTS)) == base
    assert harm_ui.harm_key(DEFAULT_HARM_WEIGHTS | {"Drugs": 31.0}) != base
    frame = harm_ui.harm_frame(DEFAULT_HARM_WEIGHTS, HARM_SOURCE)
    assert list(frame.columns) == ["crime_type", "weight", "source"] and len(frame) == 14
