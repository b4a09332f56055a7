"""The hotspots kde / gi / change / emerging commands: their files equal the library's answers,
the counts are right by hand, and bad arguments get one line."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from shapely.geometry import box

from hotspots.change import compare_periods, emerging_hotspots
from hotspots.cli import main
from hotspots.density import grid_cells, kde
from hotspots.io import read_incidents
from hotspots.significance import gi_star_cells

X0, Y0 = 530_000.0, 180_000.0  # a corner in British National Grid metres


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def incidents_csv(tmp_path: Path) -> Path:
    """A 2 km square: 60 incidents a month in the 250 m cell at (500-750, 500-750), one a
    month in each other cell's centre, over 2024-01..2024-12; the busy cell doubles in July."""
    rows = []
    rng = np.random.default_rng(7)
    for m in range(1, 13):
        month = f"2024-{m:02d}"
        busy = 60 if m < 7 else 120
        for _ in range(busy):
            x, y = rng.uniform(510, 740, 2)
            rows.append((month, "Robbery", X0 + x, Y0 + y))
        for i in range(8):
            for j in range(8):
                if (i, j) != (2, 2):
                    rows.append((month, "Shoplifting", X0 + 125 + 250 * i, Y0 + 125 + 250 * j))
    path = tmp_path / "incidents.csv"
    pd.DataFrame(rows, columns=["month", "crime type", "x", "y"]).to_csv(path, index=False)
    return path


@pytest.fixture
def square(tmp_path: Path) -> Path:
    """Study area: the 2 km square, as four 1 km "wards"."""
    cells = [
        box(X0 + a, Y0 + b, X0 + a + 1000, Y0 + b + 1000) for a in (0, 1000) for b in (0, 1000)
    ]
    frame = gpd.GeoDataFrame(
        {"ward_code": [f"E0500000{i}" for i in range(4)], "ward_name": list("ABCD")},
        geometry=cells,
        crs="EPSG:27700",
    )
    path = tmp_path / "wards.gpkg"  # in metres, so the grid fits the square exactly
    frame.to_file(path)
    return path


def _library(csv: Path, wards: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from geodata.layers import load_wards

    incidents, _ = read_incidents([csv], crs="EPSG:27700")
    study, _ = load_wards(wards, incidents=incidents)
    return incidents, study


def test_gi_finds_the_busy_cell_and_equals_the_library(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gi"
    code, stdout, err = _run(
        capsys, "gi", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "gi_cells.csv")
    assert len(table) == 64
    busiest = table.loc[table["incidents"].idxmax()]
    assert busiest["incidents"] == 6 * 60 + 6 * 120
    assert busiest["z"] == table["z"].max() and busiest["hotspot_class"].startswith("hot")
    incidents, study = _library(incidents_csv, square)
    expected = gi_star_cells(incidents, grid_cells(study, cell_size=250, crs=incidents.crs)).cells
    np.testing.assert_allclose(table["z"], expected["z"])
    assert table["hotspot_class"].tolist() == expected["hotspot_class"].tolist()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == expected["hotspot_class"].value_counts().to_dict()
    assert summary["rows_used"] == len(incidents)
    assert busiest["hotspot_class"] in stdout
    geo = json.loads((out / "gi_cells.geojson").read_text())
    assert len(geo["features"]) == 64


def test_gi_permutations(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gp"
    code, _, err = _run(
        capsys, "gi", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--permutations", "199", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "gi_cells.csv")
    incidents, study = _library(incidents_csv, square)
    expected = gi_star_cells(
        incidents, grid_cells(study, cell_size=250, crs=incidents.crs), permutations=199
    ).cells
    np.testing.assert_allclose(table["p"], expected["p"])
    assert json.loads((out / "summary.json").read_text())["permutations"] == 199
    assert "199 conditional randomisations" in err
    code, _, err = _run(
        capsys, "gi", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--permutations", "-1", "--out", str(out),
    )  # fmt: skip
    assert code == 2 and "--permutations" in err and "Traceback" not in err


def test_gi_by_ward(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gw"
    code, _, err = _run(
        capsys, "gi", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--by-ward", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "gi_cells.csv")
    assert table["ward_name"].tolist() == list("ABCD")
    # ward A (0-1000, 0-1000) holds the busy cell: 1,080 + 15 cells x 12 shoplifting
    assert table.loc[table["ward_name"] == "A", "incidents"].item() == 1080 + 15 * 12
    assert table["incidents"].sum() == 1080 + 63 * 12


def test_kde_files_equal_the_library(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kde"
    code, stdout, err = _run(
        capsys, "kde", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--cell-size", "50", "--bandwidth", "200", "--area-share", "0.02", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    # the files --help says it writes, each of them
    assert main(["kde", "--help"]) == 0
    said = capsys.readouterr().out.split("writes", 1)[1]
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 6 and all(name in said for name in written), (written, said)
    cells = pd.read_csv(out / "kde_cells.csv")
    incidents, study = _library(incidents_csv, square)
    expected = kde(incidents, study_area=study, cell_size=50, bandwidth=200)
    assert len(cells) == len(expected.cells) == 40 * 40
    np.testing.assert_allclose(cells["density_km2"], expected.cells["density_km2"])
    top = pd.read_csv(out / "kde_top_cells.csv")
    assert len(top) == 32  # 2% of 1,600 equal cells
    # the densest cells lie in the busy cell (500-750 m)
    assert top["x"].between(X0 + 400, X0 + 850).all() and top["y"].between(Y0 + 400, Y0 + 850).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cell_size_m"] == 50 and summary["bandwidth_m"] == 200
    assert summary["top_cells"] == 32
    # what the densest cells hold, counted by hand: incidents inside their squares
    xy = np.column_stack([incidents.geometry.x, incidents.geometry.y])
    inside = np.zeros(len(xy), dtype=bool)
    for x, y in zip(top["x"], top["y"], strict=True):  # the cells' centres, 50 m squares
        inside |= (np.abs(xy[:, 0] - x) < 25) & (np.abs(xy[:, 1] - y) < 25)
    assert summary["top_cells_share_held"] == pytest.approx(inside.mean(), abs=1e-6)
    assert summary["top_cells_area_share"] == pytest.approx(0.02)
    assert f"hold {inside.mean():.0%} of the incidents (the smoothed surface" in stdout
    bands = json.loads((out / "kde_bands.geojson").read_text())
    assert next(f["properties"]["band"] for f in bands["features"]).startswith("top 1%")


def test_change_counts_by_hand(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "change"
    code, stdout, err = _run(
        capsys, "change", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--before", "2024-01:2024-06", "--after", "2024-07:2024-12", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "change_cells.csv")
    busy = table.loc[table["before"].idxmax()]
    assert (busy["before"], busy["after"], busy["change"]) == (360, 720, 360)
    quiet = table.drop(index=busy.name)
    assert (quiet["before"] == 6).all() and (quiet["change"] == 0).all()
    incidents, study = _library(incidents_csv, square)
    expected = compare_periods(
        incidents,
        grid_cells(study, cell_size=250, crs=incidents.crs),
        before=("2024-01", "2024-06"),
        after=("2024-07", "2024-12"),
    ).cells
    assert table["change"].tolist() == expected["change"].tolist()
    assert "1 cells rose and 0 fell" in stdout
    # 360 -> 720 in equal spans: scipy's exact binomial test, and an interval above 0.
    assert busy["change_p"] == pytest.approx(binomtest(720, 1080).pvalue, abs=1e-12)
    assert busy["change_low_pct"] > 0 and busy["change_words"].startswith("up 100% (95% interval")
    assert (quiet["change_words"] == "no clear change (+0%; 95% interval −73% to +274%)").all()
    assert "beyond chance (exact 95% interval excluding no change) 1 rose and 0 fell" in stdout
    assert "different months of the year" in err
    rises = [line for line in stdout.splitlines() if line.startswith("  ")]
    assert rises and all("95% interval" in line for line in rises)


def test_emerging_equals_the_library(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "em"
    code, stdout, err = _run(
        capsys, "emerging", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--period-months", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "emerging_cells.csv", dtype={"series": "str"})
    incidents, study = _library(incidents_csv, square)
    expected = emerging_hotspots(
        incidents, grid_cells(study, cell_size=250, crs=incidents.crs), period_months=2
    ).cells
    assert table["pattern"].tolist() == expected["pattern"].tolist()
    summary = json.loads((out / "summary.json").read_text())
    assert sum(summary["patterns"].values()) == 64
    assert len(summary["periods"]) == 6
    busiest = table.loc[table["incidents"].idxmax(), "pattern"]
    assert busiest in {"persistent hot spot", "intensifying hot spot", "consecutive hot spot"}
    assert busiest in stdout
    assert table["count_trend"].tolist() == expected["count_trend"].tolist()
    geo = json.loads((out / "emerging_cells.geojson").read_text())
    assert {"pattern", "count_trend", "count_trend_p"} <= set(geo["features"][0]["properties"])
    assert summary["window"] == "entire" and "whole space-time cube" in stdout
    trends = summary["count_trends"]
    assert {k: sum(v.values()) for k, v in trends.items()} == summary["patterns"]
    for line in stdout.splitlines()[1:]:  # every pattern line carries its count trend
        assert "counts rising in" in line and "no clear trend in" in line


def test_emerging_each_period_window(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "em"
    code, stdout, err = _run(
        capsys, "emerging", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--period-months", "2", "--window", "each", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "emerging_cells.csv", dtype={"series": "str"})
    incidents, study = _library(incidents_csv, square)
    expected = emerging_hotspots(
        incidents,
        grid_cells(study, cell_size=250, crs=incidents.crs),
        period_months=2,
        window="each",
    ).cells
    assert table["pattern"].tolist() == expected["pattern"].tolist()
    assert "(Gi* against each period)" in stdout


def test_harm_weights_the_method(
    incidents_csv: Path, square: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotspots.harm import DEFAULT_HARM_WEIGHTS

    out = tmp_path / "harm"
    code, _, err = _run(
        capsys, "change", str(incidents_csv), "--crs", "EPSG:27700", "--wards", str(square),
        "--before", "2024-01:2024-06", "--after", "2024-07:2024-12", "--harm", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "change_cells.csv")
    busy = table.loc[table["before"].idxmax()]
    assert busy["before"] == pytest.approx(360 * DEFAULT_HARM_WEIGHTS["Robbery"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["harm"]["weights"]["Shoplifting"] == DEFAULT_HARM_WEIGHTS["Shoplifting"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["gi", "IN", "--by-ward", "--out", "OUT"], "--by-ward needs --wards"),
        (["change", "IN", "--before", "2024-06:2024-01", "--after", "2024-07:2024-08"], "swap"),
        (["change", "IN", "--before", "2024-01", "--after", "2024-07:2024-08"], "FIRST:LAST"),
        (["kde", "IN", "--area-share", "5", "--out", "OUT"], "between 0 and 1"),
        (["gi", "IN", "--cell-size", "-3", "--out", "OUT"], "--cell-size"),
        (["emerging", "IN", "--period-months", "0", "--out", "OUT"], "--period-months"),
    ],
)
def test_bad_arguments_one_line(
    argv: list[str],
    needle: str,
    incidents_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        str(incidents_csv) if a == "IN" else str(tmp_path / "o") if a == "OUT" else a for a in argv
    ]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    code, _, err = _run(capsys, *args, "--crs", "EPSG:27700")
    assert code == 2
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err


def test_change_rises_are_per_month_when_periods_differ(
    incidents_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 months before, 9 after: the quiet cells' counts triple but their monthly rate does not."""
    out = tmp_path / "uneven"
    code, stdout, err = _run(
        capsys, "change", str(incidents_csv), "--crs", "EPSG:27700",
        "--before", "2024-01:2024-03", "--after", "2024-04:2024-12", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cells_up"] == 1 and summary["cells_down"] == 0  # only the busy cell
    assert "per month, 1 cells rose and 0 fell" in stdout


@pytest.mark.parametrize("command", ["gi", "change", "emerging"])
def test_an_incident_recorded_far_away_does_not_stretch_the_grid(
    incidents_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """One incident recorded 200 km away (a force's records hold some): the grid is drawn
    over the rest, as the study area is, not refused as too large for the default cells."""
    frame = pd.read_csv(incidents_csv)
    far = pd.DataFrame(
        [("2024-03", "Robbery", X0 + 200_000.0, Y0 + 150_000.0)], columns=frame.columns
    )
    path = tmp_path / "with_far.csv"
    pd.concat([frame, far]).to_csv(path, index=False)
    extra = {"change": ["--before", "2024-01:2024-06", "--after", "2024-07:2024-12"]}
    code, _, err = _run(
        capsys, command, str(path), "--crs", "EPSG:27700", *extra.get(command, []),
        "--out", str(tmp_path / command),
    )  # fmt: skip
    assert code == 0, err
    assert "cells over" not in err


def test_change_periods_outside_from_to_are_refused_not_counted_as_empty(
    incidents_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from leaving out the "before" months: refused (it reported every cell new, "none
    before", a rise of +400,000%)."""
    code, _, err = _run(
        capsys, "change", str(incidents_csv), "--crs", "EPSG:27700", "--from", "2024-07",
        "--before", "2024-01:2024-06", "--after", "2024-07:2024-12", "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 2
    assert "before (2024-01 to 2024-06) has no incidents" in err
    assert "outside --from/--to" in err


def test_harm_weighted_change_claims_no_test(
    incidents_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Harm-weighted sums are not counts: the printed line says no cell was tested (it said
    "beyond chance 0 rose and 0 fell, where chance alone would give about ...")."""
    code, out, err = _run(
        capsys, "change", str(incidents_csv), "--crs", "EPSG:27700", "--harm",
        "--before", "2024-01:2024-06", "--after", "2024-07:2024-12", "--out", str(tmp_path / "h"),
    )  # fmt: skip
    assert code == 0, err
    assert "no cell's change is tested" in out and "beyond chance" not in out
