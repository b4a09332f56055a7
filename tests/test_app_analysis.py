"""The Analysis and Evaluate-a-pilot tabs through Streamlit's AppTest, on the demo borough.

Each analysis method renders its map and table; the pilot tab recovers the fall planted on the
St James Street corridor and finds nothing at a placebo area (a saved patrol area around the
planted station hotspot, where nothing was done). The store is a temporary file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from geodata import SAMPLE_DIR
from geodata.store import PatrolAreaStore
from hotspots.assets import external_urls
from hotspots.harm import HARM_SOURCE
from ui import analysis
from ui.helpers import STATIC_URL

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TRUTH = json.loads((SAMPLE_DIR / "truth.json").read_text())
OPERATION = TRUTH["corridor"]["operation"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOTSPOTS_STORE in a temporary folder, holding a placebo area around the station."""
    path = tmp_path_factory.mktemp("store") / "store.gpkg"
    station = next(h for h in TRUTH["hotspots"] if "station" in h["name"].lower())
    centre = gpd.GeoSeries(
        gpd.points_from_xy([station["centre_lonlat"][0]], [station["centre_lonlat"][1]]),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    PatrolAreaStore(path).add("Station placebo", centre.buffer(300).iloc[0], crs="EPSG:27700")
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
    return _run(AppTest.from_file(APP, default_timeout=180))


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
        assert len(table_with(fresh, "pattern", "cells", "median_count_trend_p")) > 0
    else:
        assert int(metric(fresh, "Footprints")) > 0


def test_gi_star_has_hot_cells_and_a_count_per_class(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("Gi*"))
    assert int(metric(fresh, "Hot cells")) > 0
    table = table_with(fresh, "class", "cells")
    assert list(table["class"])[:3] == ["hot 99%", "hot 95%", "hot 90%"]
    _run(fresh.checkbox(key="gi_fdr").uncheck())
    assert int(metric(fresh, "Hot cells")) > 0


def test_change_shows_patterns_with_the_count_trend(fresh: AppTest) -> None:
    _run(fresh.radio(key="an_method").set_value("Change"))
    compared = [d.value for d in fresh.dataframe if {"before", "after"} <= set(d.value.columns)]
    assert compared and (compared[0]["change"] != 0).any()
    patterns = table_with(fresh, "pattern", "cells", "median_count_trend_p")
    assert patterns["cells"].sum() > 0
    cells = table_with(fresh, "pattern", "series", "incidents", "count_trend_z", "count_trend_p")
    assert len(cells) > 0


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
    m = analysis.cells_map(
        cells, pd.Series(["#b10026", "#2166ac"]), pd.Series(["<script>x</script>", "ok"])
    )
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


def test_pilot_on_the_demo_corridor_finds_the_planted_fall(fresh: AppTest) -> None:
    text = _pilot(fresh, analysis.CORRIDOR, TRUTH["corridor"]["violence_types"])
    assert "lower" in text and "95% confidence interval" in text
    counts = table_with(fresh, "zone", "before", "during", "after")
    assert list(counts["zone"]) == ["target", "buffer", "control"]
    assert metric(fresh, "Change beyond the control").startswith("-")
    assert any(m.label == "WDQ" for m in fresh.metric)
    labels = [b.label for b in fresh.get("download_button")]
    assert "pilot.json" in labels and "Monthly counts (CSV)" in labels


def test_pilot_at_a_placebo_area_shows_no_evidence(fresh: AppTest) -> None:
    fresh.radio(key="pilot_target").set_value("Saved patrol area")
    _run(fresh)
    fresh.selectbox(key="pilot_area").set_value("Station placebo")
    text = _pilot(fresh, "Saved patrol area", None)
    assert "no evidence of a change" in text
    assert "lower than the control" not in text


def test_pilot_with_the_operation_reversed_is_an_error_not_a_traceback(fresh: AppTest) -> None:
    fresh.radio(key="pilot_target").set_value(analysis.CORRIDOR)
    fresh.selectbox(key="pilot_start").set_value("2024-06")
    fresh.selectbox(key="pilot_end").set_value("2024-01")
    fresh.run()
    fresh.button(key="pilot_run").click().run()
    assert not fresh.exception
    assert fresh.error
