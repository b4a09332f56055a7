"""One dataset, one study area, one grid: the same figures through every door.

Before the library had one owner of the study area, the demo year without wards had 65.0 km²
through ``find_hotspots`` and 62.3 km² through ``kde``, and ``hotspots gi`` laid 1,119 cells
where the dashboard's Gi* laid 1,054. Here the library (:mod:`hotspots.pipeline`,
:mod:`hotspots.methods`), the command line (``hotspots analyse``, ``kde``, ``gi``) and the
dashboard (Streamlit's AppTest on ``app.py``) analyse the demo year, with and without the demo
wards, and must agree on the km² and on the Gi* cells.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from geodata import SAMPLE_INCIDENTS, SAMPLE_WARDS, load_wards
from hotspots.cli import main
from hotspots.filter import filter_incidents
from hotspots.io import read_incidents
from hotspots.methods import analyse_gi, analyse_kde
from hotspots.pipeline import analyse

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def demo_year() -> tuple[gpd.GeoDataFrame, str, str]:
    """The demo incidents of the last 12 months (the dashboard's default filter)."""
    incidents, _ = read_incidents(SAMPLE_INCIDENTS)
    months = sorted(incidents["month"].dt.strftime("%Y-%m").unique())
    start, end = months[-12], months[-1]
    return filter_incidents(incidents, None, start=start, end=end), start, end


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty patrol-area store for the dashboard."""
    path = tmp_path_factory.mktemp("store") / "store.gpkg"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOTSPOTS_STORE", str(path))
        yield path


def _cli(tmp_path: Path, command: str, start: str, end: str, *extra: str) -> dict[str, Any]:
    out = tmp_path / command
    argv = [command, str(SAMPLE_INCIDENTS), "--from", start, "--to", end, "--out", str(out)]
    assert main([*argv, "--quiet", *extra]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def _app(store: Path, wards: bool) -> AppTest:
    """The dashboard's Analysis page on the demo borough, Gi* chosen, with or without the demo
    wards."""
    at = AppTest.from_file(APP, default_timeout=240).switch_page("ui/pages/analysis.py").run()
    if not wards:
        at = at.radio(key="wards_source").set_value("None").run()
    at = at.radio(key="an_method").set_value("Gi*").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _app_gi_cells(at: AppTest) -> int:
    """Cells in the dashboard's Gi* class table (every cell has one class)."""
    table = next(d.value for d in at.dataframe if list(d.value.columns[:2]) == ["class", "cells"])
    return int(table["cells"].sum())


def _app_study_km2(at: AppTest) -> float:
    """The km² of the study-area note in "How the data were read"."""
    text = " ".join(m.value for m in at.markdown)
    found = re.search(r"study area: [^\n]*?([\d,]+\.\d\d) km²", text)
    assert found, "no study-area note on the page"
    return float(found.group(1).replace(",", ""))


@pytest.mark.parametrize("with_wards", [False, True], ids=["incidents' hull", "wards"])
def test_same_study_area_and_grid_through_every_door(
    demo_year: tuple[gpd.GeoDataFrame, str, str], store: Path, tmp_path: Path, with_wards: bool
) -> None:
    incidents, start, end = demo_year
    wards = load_wards(SAMPLE_WARDS, incidents=incidents)[0] if with_wards else None
    extra = ["--wards", str(SAMPLE_WARDS)] if with_wards else []

    # the library
    km2 = analyse(incidents, wards=wards).study_area.area_km2
    assert analyse_kde(incidents, wards=wards).study_area.area_km2 == pytest.approx(km2)
    gi = analyse_gi(incidents, wards=wards, cell_size=250)
    assert gi.units.study_area.area_km2 == pytest.approx(km2)

    # the command line
    assert _cli(tmp_path, "analyse", start, end, *extra)["study_area_km2"] == pytest.approx(km2)
    assert _cli(tmp_path, "kde", start, end, *extra)["study_area_km2"] == pytest.approx(km2)
    cli_gi = _cli(tmp_path, "gi", start, end, *extra)
    assert cli_gi["study_area_km2"] == pytest.approx(km2)
    assert cli_gi["cells"] == len(gi.cells)
    assert cli_gi["classes"] == gi.class_counts()

    # the dashboard
    at = _app(store, with_wards)
    assert _app_gi_cells(at) == len(gi.cells)
    assert _app_study_km2(at) == pytest.approx(km2, abs=0.005)
