"""write_analysis: every output file of an analysis, as ``hotspots analyse`` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from hotspots import analyse, read_incidents
from hotspots.outputs import write_analysis


def test_every_file_is_written_and_agrees_with_the_analysis(
    street_folder: Path, tmp_path: Path
) -> None:
    incidents, report = read_incidents(street_folder)
    minx, miny, maxx, maxy = incidents.total_bounds
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "ward_name": ["Only <ward>"]},
        geometry=[shapely.box(minx - 10, miny - 10, maxx + 10, maxy + 10)],
        crs=incidents.crs,
    )
    analysis = analyse(incidents, wards=wards, eps=100, min_samples=10)
    out = tmp_path / "out"
    written = write_analysis(analysis, out, report=report, files={"wards": "w.gpkg"})
    names = {p.name for p in written}
    assert names == {
        "hotspots.geojson",
        "hotspots.gpkg",
        "hotspots.csv",
        "incidents.csv",
        "outreach.csv",
        "outreach.html",
        "wards.csv",
        "summary.json",
        "map.html",
        "backtest.csv",  # six months: back-tested
        "patrol_points.csv",
    }
    assert {p.name for p in out.iterdir()} == names  # nothing else, no temporary file left
    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads(json.dumps(analysis.summary(report, files={"wards": "w.gpkg"})))
    sheets = (out / "outreach.html").read_text(encoding="utf-8")  # a page per hotspot (2)
    assert sheets.count('<section class="sheet">') == len(analysis.hotspots) == 2
    assert "SYNTHETIC DEMO DATA" not in sheets and "<dt>Crime types counted</dt>" in sheets
    points = pd.read_csv(out / "patrol_points.csv")
    assert (
        points.groupby("hotspot_id")["incidents"]
        .sum()
        .le(table_counts := analysis.hotspots.set_index("hotspot_id")["incidents"])
        .all()
    )
    assert set(points["hotspot_id"]) == set(table_counts.index)
    backtest = pd.read_csv(out / "backtest.csv")
    assert analysis.backtest is not None
    assert len(backtest) == len(analysis.backtest.table) > 0
    assert summary["backtest"]["folds"][0]["test_to"] == backtest["test_to"].iloc[0]
    exact = pyogrio.read_dataframe(out / "hotspots.gpkg")
    assert exact.crs == analysis.hotspots.crs
    pairs = zip(exact.geometry, analysis.hotspots.geometry, strict=True)
    assert all(a.equals_exact(b, 1e-6) for a, b in pairs)
    table = pd.read_csv(out / "hotspots.csv")
    assert table["hotspot_id"].tolist() == ["H01", "H02"]
    used = pd.read_csv(out / "incidents.csv", keep_default_na=False)
    assert len(used) == len(incidents) and (used["hotspot_id"] == "H01").sum() == 240
    assert pd.read_csv(out / "wards.csv")["incidents"].sum() == len(incidents)
    page = (out / "map.html").read_text()
    assert "Only &lt;ward&gt;" in page or "Only <ward>" not in page  # the ward name is escaped
