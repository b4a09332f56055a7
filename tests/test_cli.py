"""The `hotspots` command: outputs, exit codes and one-line messages."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from hotspots.cli import main
from hotspots.columns import INCIDENTS_CSV_COLUMNS

from .conftest import STREET_HEADER, realdata_path, write_street_folder

EXPECTED_FILES = {"hotspots.geojson", "hotspots.csv", "incidents.csv", "map.html", "summary.json"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(err: str, *needles: str) -> None:
    """stderr ends with exactly one error line (progress lines may come before it)."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, f"expected one error line on stderr, got: {err!r}"
    assert err.rstrip().splitlines()[-1] == errors[0]
    for needle in needles:
        assert needle in errors[0], f"{needle!r} not in {errors[0]!r}"


def test_analyse_writes_every_output_and_accounts_for_rows(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, stdout, err = _run(
        capsys,
        "analyse",
        str(street_folder),
        "--eps",
        "100",
        "--min-samples",
        "10",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert {p.name for p in out.iterdir()} >= EXPECTED_FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_read"] == 6 * (40 + 20 + 30)
    assert summary["rows_read"] == summary["rows_used"] + sum(summary["rows_dropped"].values())
    assert summary["n_hotspots"] == 2
    assert summary["params"] == {
        "eps_m": 100.0,
        "min_samples": 10,
        "method": "dbscan",
        "crs": "EPSG:27700",
    }
    assert summary["period"] == {"from": "2024-01", "to": "2024-06"}
    assert len(summary["inputs"]) == 6
    # the planted blobs are the hotspots, the larger one first
    hot = pd.read_csv(out / "hotspots.csv")
    assert list(hot["hotspot_id"]) == ["H01", "H02"]
    assert list(hot["incidents"]) == [240, 120]
    assert "St James Street" in hot.loc[0, "top_locations"]
    assert "H01" in stdout and "St James Street" in stdout


def test_incidents_csv_clusters_are_exactly_dbscan(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        "analyse",
        str(street_folder),
        "--eps",
        "60",
        "--min-samples",
        "8",
        "--out",
        str(out),
    )
    assert code == 0, err
    inc = pd.read_csv(out / "incidents.csv", dtype={"hotspot_id": str}, keep_default_na=False)
    assert list(inc.columns) == INCIDENTS_CSV_COLUMNS
    xy = inc[["easting", "northing"]].to_numpy()
    labels = DBSCAN(eps=60, min_samples=8).fit(xy).labels_
    ours = inc["hotspot_id"].to_numpy()
    # same noise, and the same partition of clustered incidents
    assert np.array_equal(ours == "", labels == -1)
    pairs = set(zip(ours[labels >= 0], labels[labels >= 0], strict=True))
    assert len(pairs) == len({p[0] for p in pairs}) == len({p[1] for p in pairs})


def test_filters_count_dropped_rows(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        "analyse",
        str(street_folder),
        "--from",
        "2024-02",
        "--to",
        "2024-04",
        "--crime-type",
        "burglary",
        "--eps",
        "100",
        "--min-samples",
        "10",
        "--out",
        str(out),
    )
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_used"] == 3 * 30
    assert summary["rows_read"] == summary["rows_used"] + sum(summary["rows_dropped"].values())
    assert summary["period"] == {"from": "2024-02", "to": "2024-04"}
    # the command's own lines add up too: every row left out by the filters under its reason
    for reason, n in summary["rows_dropped"].items():
        assert f"Dropped {n:,}: {reason}" in err
    assert f"used {summary['rows_used']:,}." in err


def test_map_html_escapes_text_and_fetches_nothing(
    street_rows: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "<script>alert('x')</script>"
    rows = [list(r) for r in street_rows]
    for r in rows:
        if r[6] == "On or near St James Street":
            r[6] = f"On or near {evil}"
            r[9] = "<img src=x onerror=alert(1)>"
    folder = write_street_folder(tmp_path / "evil", rows)
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        "analyse",
        str(folder),
        "--eps",
        "100",
        "--min-samples",
        "10",
        "--tiles",
        "none",
        "--out",
        str(out),
    )
    assert code == 0, err
    html = (out / "map.html").read_text(encoding="utf-8")
    assert evil not in html
    assert "<img src=x" not in html
    # HTML-escaped text, itself JSON-escaped inside the map's script
    assert "&lt;script&gt;" in html or "\\u0026lt;script\\u0026gt;" in html
    from hotspots.assets import external_urls

    assert external_urls(html) == []


def test_reads_the_downloaded_zip(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(street_folder.rglob("*.csv")):
            z.write(p, p.relative_to(street_folder).as_posix())
    out = tmp_path / "out"
    code, _, err = _run(
        capsys, "analyse", str(archive), "--eps", "100", "--min-samples", "10", "--out", str(out)
    )
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["n_hotspots"] == 2


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["analyse", "missing.csv", "--out", "OUT"], ["missing.csv"]),
        (["analyse", "IN", "--eps", "abc", "--out", "OUT"], ["--eps", "abc"]),
        (["analyse", "IN", "--eps", "-5", "--out", "OUT"], ["--eps"]),
        (["analyse", "IN", "--min-samples", "0", "--out", "OUT"], ["--min-samples"]),
        (["analyse", "IN", "--from", "2024-13", "--out", "OUT"], ["--from", "YYYY-MM"]),
        (["analyse", "IN", "--from", "2024-05", "--to", "2024-01", "--out", "OUT"], ["--from"]),
        (["analyse", "IN", "--crime-type", "Jaywalking", "--out", "OUT"], ["--crime-type"]),
        (["analyse", "IN", "--method", "kmeans", "--out", "OUT"], ["--method"]),
        (["analyse", "IN"], ["--out"]),
        (["analyse", "IN", "--from", "2030-01", "--out", "OUT"], ["--from", "2024-06"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str],
    needles: list[str],
    street_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        str(street_folder) if a == "IN" else str(tmp_path / "o") if a == "OUT" else a for a in argv
    ]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    _assert_one_line_error(err, *needles)


def test_bad_files_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_coords = tmp_path / "no_coords.csv"
    no_coords.write_text("id,month,crime\n1,2024-01,Burglary\n", encoding="utf-8")
    code, _, err = _run(capsys, "analyse", str(no_coords), "--out", str(tmp_path / "o"))
    assert code == 2
    _assert_one_line_error(err, "no_coords.csv")

    broken = tmp_path / "broken.json"
    broken.write_text('[{"category": "burglary", "location": ', encoding="utf-8")
    code, _, err = _run(capsys, "analyse", str(broken), "--out", str(tmp_path / "o"))
    assert code == 2
    _assert_one_line_error(err, "broken.json")

    escape = tmp_path / "evil.zip"
    with zipfile.ZipFile(escape, "w") as z:
        z.writestr("../../evil-street.csv", ",".join(STREET_HEADER) + "\n")
    code, _, err = _run(capsys, "analyse", str(escape), "--out", str(tmp_path / "o"))
    assert code == 2
    _assert_one_line_error(err, "evil.zip")
    assert not (tmp_path.parent / "evil-street.csv").exists()


def test_out_is_a_file(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, _, err = _run(capsys, "analyse", str(street_folder), "--out", str(target))
    assert code == 2
    _assert_one_line_error(err, "--out")


def test_console_script_help_and_run(street_folder: Path, tmp_path: Path) -> None:
    exe = shutil.which("hotspots", path=str(Path(sys.executable).parent))
    assert exe, "the hotspots console script is not installed"
    help_ = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    assert help_.returncode == 0
    assert "analyse" in help_.stdout
    sub = subprocess.run([exe, "analyse", "--help"], capture_output=True, text=True, check=False)
    assert "--min-samples" in sub.stdout and "--crime-type" in sub.stdout
    out = tmp_path / "out"
    run = subprocess.run(
        [exe, "analyse", str(street_folder), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    with open(out / "hotspots.csv", newline="") as f:
        assert next(csv.reader(f))[0] == "hotspot_id"


@pytest.mark.realdata
def test_real_city_of_london(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = realdata_path("police-uk", "city-of-london-street")
    out = tmp_path / "col"
    code, _, err = _run(capsys, "analyse", str(folder), "--out", str(out), "--quiet")
    assert code == 0, err
    s = json.loads((out / "summary.json").read_text())
    assert s["rows_read"] == 16_590
    assert s["rows_read"] == s["rows_used"] + sum(s["rows_dropped"].values())
    assert s["rows_dropped"]["no coordinates"] > 1000
    assert s["n_hotspots"] >= 3
    assert s["params"]["crs"] == "EPSG:27700"


@pytest.mark.realdata
def test_real_waltham_forest_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = realdata_path("police-uk", "waltham-forest-api")
    out = tmp_path / "wf"
    code, _, err = _run(capsys, "analyse", str(folder), "--out", str(out), "--quiet")
    assert code == 0, err
    s = json.loads((out / "summary.json").read_text())
    assert s["rows_read"] == s["rows_used"] + sum(s["rows_dropped"].values())
    assert s["rows_dropped"].get("duplicate id", 0) > 0
    assert s["period"] == {"from": "2016-01", "to": "2017-06"}
    assert any("2016-03" in w for w in s["warnings"])
    inc = pd.read_csv(out / "incidents.csv", dtype={"hotspot_id": str}, keep_default_na=False)
    labels = (
        DBSCAN(eps=s["params"]["eps_m"], min_samples=s["params"]["min_samples"])
        .fit(inc[["easting", "northing"]].to_numpy())
        .labels_
    )
    assert np.array_equal(inc["hotspot_id"].to_numpy() == "", labels == -1)


def _square(x0: float, y0: float, size: float):  # type: ignore[no-untyped-def]
    from shapely.geometry import box

    return box(x0, y0, x0 + size, y0 + size)


def test_wards_for_another_place_are_warned_of(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wards that miss most incidents or spread far beyond them are the study area every PAI
    is measured against: the command says so (as the dashboard does), naming --wards."""
    import geopandas as gpd

    far = gpd.GeoDataFrame(
        {"WD22CD": ["E05000009"], "WD22NM": ["Far Ward"]},
        geometry=[_square(520_000, 175_000, 18_000)],  # the west blob and much more
        crs="EPSG:27700",
    )
    far.to_file(tmp_path / "far.geojson")
    code, _, err = _run(
        capsys, "analyse", str(street_folder), "--wards", str(tmp_path / "far.geojson"),
        "--no-backtest", "--no-tune", "--tiles", "none", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, err
    assert "The wards cover 324.0 km², 24 times the" in err
    assert "every hotspot looks more concentrated than it is (a higher PAI). Check --wards." in err


def test_wards_and_patrols_write_their_tables(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two wards split at easting 538,000: the St James blob (537,500) is west, the Hoe Street
    blob (538,600) east. One patrol area covers the St James blob only."""
    import geopandas as gpd

    wards = gpd.GeoDataFrame(
        {"WD22CD": ["E05000001", "E05000002"], "WD22NM": ["West <b>Ward</b>", "East Ward"]},
        geometry=[_square(533_000, 186_000, 5_000), _square(538_000, 186_000, 5_000)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    wards.to_file(tmp_path / "wards.geojson")
    patrols = gpd.GeoDataFrame(
        {"name": ["St James patrol"]},
        geometry=[_square(537_300, 189_000, 400)],
        crs="EPSG:27700",
    )
    patrols.to_file(tmp_path / "patrols.gpkg", layer="patrols")
    population = tmp_path / "population.csv"
    population.write_text("ward_code,population\nE05000001,10000\nE05000002,5000\n")
    out = tmp_path / "out"
    code, _, err = _run(
        capsys,
        "analyse",
        str(street_folder),
        "--eps",
        "100",
        "--min-samples",
        "10",
        "--wards",
        str(tmp_path / "wards.geojson"),
        "--population",
        str(population),
        "--patrols",
        str(tmp_path / "patrols.gpkg"),
        "--tiles",
        "none",
        "--out",
        str(out),
    )
    assert code == 0, err
    wards_csv = pd.read_csv(out / "wards.csv", keep_default_na=False)
    assert list(wards_csv.columns[:3]) == ["ward_code", "ward_name", "incidents"]
    by_code = wards_csv.set_index("ward_code")
    summary = json.loads((out / "summary.json").read_text())
    outside = summary["wards"]["incidents_outside_wards"]
    assert by_code["incidents"].sum() + outside == summary["rows_used"]
    assert by_code.loc["E05000001", "hotspots"] == "H01"
    assert by_code.loc["E05000002", "hotspots"] == "H02"
    west = int(by_code.loc["E05000001", "incidents"])
    assert by_code.loc["E05000001", "incidents_per_1000"] == pytest.approx(west / 10)
    assert summary["params"]["crs"] == "EPSG:27700"
    assert summary["study_area_km2"] == pytest.approx(50.0, rel=1e-3)  # the two wards

    patrols_csv = pd.read_csv(out / "patrols.csv", keep_default_na=False)
    assert list(patrols_csv.columns[:5]) == [
        "patrol_area",
        "area_km2",
        "incidents",
        "hotspot_incidents",
        "hotspots_touched",
    ]
    row = patrols_csv.iloc[0]
    assert row["patrol_area"] == "St James patrol"
    assert row["hotspot_incidents"] == 240 and row["hotspots_touched"] == 1
    assert summary["patrols"]["uncovered_hotspots"] == ["H02"]
    outreach = pd.read_csv(out / "outreach.csv")
    assert set(outreach["hotspot_id"]) == {"H02"}
    assert outreach.iloc[0]["street"] == "Hoe Street"
    sheets = (out / "outreach.html").read_text(encoding="utf-8")  # the uncovered one only
    assert "Outreach sheet: H02" in sheets and "Outreach sheet: H01" not in sheets

    hot = pd.read_csv(out / "hotspots.csv", keep_default_na=False)
    assert list(hot["patrol_coverage"]) == [1.0, 0.0]
    assert hot.loc[1, "wards"] == "East Ward"
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<b>Ward</b>" not in html  # ward names are escaped too
    assert "St James patrol" in html


def test_population_without_wards_is_refused(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "analyse", str(street_folder), "--population", "p.csv", "--out", str(tmp_path)
    )
    assert code == 2
    _assert_one_line_error(err, "--population", "--wards")


def test_a_ward_layer_far_from_the_incidents_is_refused(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd

    far = gpd.GeoDataFrame(
        {"ward_code": ["E05000009"], "ward_name": ["Somewhere else"]},
        geometry=[_square(300_000, 600_000, 1_000)],
        crs="EPSG:27700",
    )
    far.to_file(tmp_path / "far.gpkg")
    code, _, err = _run(
        capsys,
        "analyse",
        str(street_folder),
        "--wards",
        str(tmp_path / "far.gpkg"),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2
    _assert_one_line_error(err, "far.gpkg")


def test_fetch_police_then_analyse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hotspots fetch police` against the local API look-alike writes what `analyse` reads."""
    import geopandas as gpd

    from .fake_services import FakeServices
    from .test_fetch import CRIMES, RECT

    monkeypatch.setenv("HOTSPOTS_CACHE", str(tmp_path / "cache"))
    gpd.GeoDataFrame({"name": ["study"]}, geometry=[RECT], crs="EPSG:4326").to_file(
        tmp_path / "area.geojson"
    )
    with FakeServices(crimes=CRIMES) as fake:
        code, _, err = _run(
            capsys,
            "fetch",
            "police",
            "--boundary",
            str(tmp_path / "area.geojson"),
            "--from",
            "2024-01",
            "--to",
            "2024-02",
            "--api",
            fake.police_url,
            "--out",
            str(tmp_path / "crimes"),
        )
        assert code == 0, err
        expected = len(fake.truth(RECT, "2024-01")) + len(fake.truth(RECT, "2024-02"))
        asked = len(fake.police_requests())
        assert asked == 2
        # run again: both months are complete on disk, so nothing is asked again
        code, _, err = _run(
            capsys,
            "fetch",
            "police",
            "--boundary",
            str(tmp_path / "area.geojson"),
            "--from",
            "2024-01",
            "--to",
            "2024-02",
            "--api",
            fake.police_url,
            "--out",
            str(tmp_path / "crimes"),
        )
        assert code == 0, err
        assert len(fake.police_requests()) == asked
        assert "2 resumed" in err
    incidents, report = read_incidents_for_test(tmp_path / "crimes")
    assert report.rows_used == expected == len(incidents)


def read_incidents_for_test(path: Path):  # type: ignore[no-untyped-def]
    from hotspots import read_incidents

    return read_incidents(path)


def test_fetch_offline_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import geopandas as gpd

    from .fake_services import closed_port_url
    from .test_fetch import RECT

    monkeypatch.setenv("HOTSPOTS_CACHE", str(tmp_path / "cache"))
    gpd.GeoDataFrame(geometry=[RECT], crs="EPSG:4326").to_file(tmp_path / "area.geojson")
    code, _, err = _run(
        capsys,
        "fetch",
        "police",
        "--boundary",
        str(tmp_path / "area.geojson"),
        "--from",
        "2024-01",
        "--to",
        "2024-01",
        "--api",
        closed_port_url(),
        "--out",
        str(tmp_path / "crimes"),
    )
    assert code == 2
    _assert_one_line_error(err, "data.police.uk/data")


def test_fetch_wards_writes_a_geopackage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from geodata import load_wards

    from .fake_services import FakeServices, ward_feature

    monkeypatch.setenv("HOTSPOTS_CACHE", str(tmp_path / "cache"))
    features = [
        ward_feature(f"E0501{i:04d}", f"Ward {i}", "E09000031", -0.05 + 0.011 * i, 51.58)
        for i in range(5)
    ]
    with FakeServices(wards=features, max_record_count=2) as fake:
        code, _, err = _run(
            capsys,
            "fetch",
            "wards",
            "--lad",
            "E09000031",
            "--service",
            fake.wards_url,
            "--out",
            str(tmp_path / "wards.gpkg"),
        )
    assert code == 0, err
    wards, _ = load_wards(tmp_path / "wards.gpkg")
    assert sorted(wards["ward_code"]) == [f"E0501{i:04d}" for i in range(5)]

    code, _, err = _run(
        capsys, "fetch", "wards", "--lad", "E0900003", "--out", str(tmp_path / "x.gpkg")
    )
    assert code == 2
    _assert_one_line_error(err, "E0900003")


def _corridor_target(tmp_path: Path) -> Path:
    """The demo borough's planted St James Street corridor, buffered 50 m, as a GeoJSON."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from geodata import SAMPLE_DIR

    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    line = gpd.GeoSeries([LineString(truth["corridor"]["line_lonlat"])], crs="EPSG:4326")
    target = line.to_crs("EPSG:27700").buffer(truth["corridor"]["width_m"])
    path = tmp_path / "corridor.geojson"
    gpd.GeoDataFrame({"name": ["St James Street"]}, geometry=target).to_file(path)
    return path


def test_evaluate_pilot_recovers_the_planted_fall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geodata import SAMPLE_INCIDENTS

    out = tmp_path / "pilot"
    argv = ["evaluate-pilot", str(SAMPLE_INCIDENTS), "--target", str(_corridor_target(tmp_path))]
    argv += ["--start", "2023-04", "--end", "2023-09", "--out", str(out)]
    for t in ("Violence and sexual offences", "Possession of weapons", "Robbery"):
        argv += ["--crime-type", t]
    code, stdout, err = _run(capsys, *argv)
    assert code == 0, err
    pilot = json.loads((out / "pilot.json").read_text())
    # planted: x0.65 after the operation; the rest of the borough flat
    assert pilot["significant"] is True
    low, high = pilot["relative_change_ci"]
    assert low < pilot["relative_change_pct"] < high < 0
    assert low < -35 < high
    assert "wdq" in pilot
    monthly = pd.read_csv(out / "pilot_monthly.csv")
    assert {"month", "target", "buffer", "control"} <= set(monthly.columns)
    assert len(monthly) == 36
    assert "35% lower" in stdout and "confidence interval" in stdout
    page = (out / "pilot.html").read_text(encoding="utf-8")
    headline = f"{pilot['relative_change_pct']:+.0f}%".replace("+", "").replace("-", "−")
    assert f"Change beyond the control area: {headline}" in page
    assert "St James Street" in page  # the target file's name column
    assert "SYNTHETIC DEMO DATA" in page  # the demo says what it is
    assert pilot["rows_read"] == pilot["rows_used"] + sum(pilot["rows_dropped"].values())


def test_evaluate_map_writes_the_comparison(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "forecast"
    code, stdout, err = _run(
        capsys,
        "evaluate-map",
        str(street_folder),
        "--fit-from",
        "2024-01",
        "--fit-to",
        "2024-04",
        "--test-from",
        "2024-05",
        "--test-to",
        "2024-06",
        "--area-share",
        "0.01",
        "--area-share",
        "0.02",
        "--out",
        str(out),
    )
    assert code == 0, err
    table = pd.read_csv(out / "forecast.csv")
    naive = {"last period, map points", "last period, 50 m cells"}
    assert set(table["method"]) == {"DBSCAN", "KDE", "Gi*"} | naive
    assert sorted(set(table["area_share"])) == [0.01, 0.02]
    # the planted blobs persist into the test months: every map beats chance (PAI > 1)
    assert (table["pai"].dropna() > 1).all()
    assert "PAI" in stdout
    assert all(f"{name} " in stdout for name in naive)  # every map is printed
    record = json.loads((out / "forecast.json").read_text())
    bandwidth = record["kde_bandwidth_m"]
    assert bandwidth in (50, 100, 200, 400)  # four fit months: back-tested
    assert f"note: KDE bandwidth {bandwidth:g} m chosen by back-test" in stdout
    assert any(n.startswith(f"KDE bandwidth {bandwidth:g} m") for n in record["notes"])
    # a map out-caught at every share by a naive one is named so, in print and in the record
    from hotspots.report.forecast_text import no_better_notes

    said = no_better_notes(table)
    rates = table.pivot_table(index="area_share", columns="method", values="hit_rate")
    beaten = [
        m for m in ("DBSCAN", "KDE", "Gi*") if any((rates[n] > rates[m]).all() for n in naive)
    ]
    assert [n.split(":")[0] for n in said] == beaten
    assert all(n in record["notes"] and f"note: {n}" in stdout for n in said)
    # every row read is used or dropped by reason, as in summary.json
    assert record["rows_read"] == record["rows_used"] + sum(record["rows_dropped"].values())
    assert record["rows_used"] > 0 and record["inputs"]


def test_evaluate_map_names_its_own_flags_for_an_empty_period(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate-map", str(street_folder), "--fit-from", "2010-01", "--fit-to", "2010-04"]
    argv += ["--test-from", "2024-05", "--test-to", "2024-06", "--out", str(tmp_path / "o")]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    _assert_one_line_error(err, "--fit-from 2010-01 and --fit-to 2010-04")
    assert "--from" not in err.replace("--fit-from", "")


@pytest.mark.parametrize("value", ["wide", "-50", "0"])
def test_evaluate_map_refuses_a_bad_kde_bandwidth(
    value: str, street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate-map", str(street_folder), "--fit-from", "2024-01", "--fit-to", "2024-04"]
    argv += ["--test-from", "2024-05", "--test-to", "2024-06", "--out", str(tmp_path / "o")]
    code, _, err = _run(capsys, *argv, "--kde-bandwidth", value)
    assert code == 2
    _assert_one_line_error(err, "--kde-bandwidth", value)
    assert not (tmp_path / "o").exists()


def test_evaluate_map_refuses_overlapping_periods(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate-map", str(street_folder), "--fit-from", "2024-01", "--fit-to", "2024-04"]
    argv += ["--test-from", "2024-03", "--test-to", "2024-06", "--out", str(tmp_path / "o")]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    _assert_one_line_error(err, "--test-from", "--fit-to")


def test_analyse_harm_ranks_by_harm_with_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--harm: each hotspot's harm is the sum of its incidents' crime-type weights."""
    from geodata import SAMPLE_INCIDENTS
    from hotspots.harm import DEFAULT_HARM_WEIGHTS, HARM_SOURCE

    out = tmp_path / "harm"
    argv = ["analyse", str(SAMPLE_INCIDENTS), "--from", "2024-01", "--to", "2024-06"]
    code, stdout, err = _run(capsys, *argv, "--harm", "--out", str(out))
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["harm"]["source"] == HARM_SOURCE
    assert summary["harm"]["weights"] == DEFAULT_HARM_WEIGHTS
    hotspots = pd.read_csv(out / "hotspots.csv")
    assert len(hotspots) > 1
    assert list(hotspots.columns[3:6]) == ["share", "harm", "harm_share"]
    density = hotspots["harm"] / hotspots["area_km2"]
    assert density.is_monotonic_decreasing  # ranked by harm per km²
    incidents = pd.read_csv(out / "incidents.csv")
    weight = incidents["category"].map(DEFAULT_HARM_WEIGHTS).fillna(1.0)
    by_hotspot = weight.groupby(incidents["hotspot_id"]).sum()
    for row in hotspots.itertuples():
        assert row.harm == pytest.approx(by_hotspot[row.hotspot_id])
        assert row.harm_share == pytest.approx(row.harm / weight.sum())
    assert "harm" in stdout.splitlines()[0]
    assert "units of weight" in err  # min_samples is suggested in harm units


def test_analyse_own_harm_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geodata import SAMPLE_INCIDENTS
    from hotspots.crime_types import CRIME_TYPES

    table = tmp_path / "my-weights.csv"
    rows = ["crime_type,weight,source"]
    rows += [f"{t},{100 if t == 'Robbery' else 1},ours" for t in CRIME_TYPES]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "mine"
    argv = ["analyse", str(SAMPLE_INCIDENTS), "--from", "2024-01", "--to", "2024-06"]
    code, _, err = _run(capsys, *argv, "--harm-weights", str(table), "--out", str(out))
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["harm"]["source"] == f"your table {table}"
    assert summary["harm"]["weights"]["Robbery"] == 100
    incidents = pd.read_csv(out / "incidents.csv")
    weight = np.where(incidents["category"] == "Robbery", 100.0, 1.0)
    assert summary["harm"]["total_harm"] == pytest.approx(weight.sum())

    table.write_text("crime_type,weight\nRobbery,lots\n", encoding="utf-8")
    code, _, err = _run(capsys, *argv, "--harm-weights", str(table), "--out", str(out))
    assert code == 2
    _assert_one_line_error(err, "my-weights.csv", "Robbery='lots'", "missing crime types")


def test_evaluate_pilot_dispersion_and_study_area(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geodata import SAMPLE_INCIDENTS, SAMPLE_WARDS

    base = ["evaluate-pilot", str(SAMPLE_INCIDENTS), "--target", str(_corridor_target(tmp_path))]
    base += ["--start", "2023-04", "--end", "2023-09", "--crime-type", "Robbery"]
    base += ["--study-area", str(SAMPLE_WARDS)]
    widths = {}
    for inflation in ("auto", "1"):
        out = tmp_path / f"pilot-{inflation}"
        code, _, err = _run(capsys, *base, "--variance-inflation", inflation, "--out", str(out))
        assert code == 0, err
        pilot = json.loads((out / "pilot.json").read_text())
        assert pilot["dispersion_measured"] is (inflation == "auto")
        assert set(pilot["dispersion"]) == {"target", "buffer", "control"}
        assert all(v >= 1 for v in pilot["dispersion"].values())
        assert "study area" in " ".join(pilot["notes"])
        low, high = pilot["relative_effect_ci"]
        widths[inflation] = high / low
    assert widths["auto"] >= widths["1"]

    code, _, err = _run(capsys, *base, "--variance-inflation", "lots", "--out", str(tmp_path / "x"))
    assert code == 2
    _assert_one_line_error(err, "--variance-inflation 'lots'", "auto")

    code, stdout, err = _run(capsys, *base, "--buffer", "0", "--out", str(tmp_path / "b0"))
    assert code == 0, err
    assert "No buffer was drawn" in stdout
    code, _, err = _run(capsys, *base, "--buffer", "-5", "--out", str(tmp_path / "b0"))
    assert code == 2
    _assert_one_line_error(err, "--buffer", "0 or more")

    code, stdout, err = _run(capsys, *base, "--placebos", "19", "--out", str(tmp_path / "pl"))
    assert code == 0, err
    placebo = json.loads((tmp_path / "pl" / "pilot.json").read_text())["placebo"]
    assert placebo["areas"] == 19 and 0 < placebo["share"] <= 1
    assert "Placebo check: of 19 areas of the target's size and shape" in stdout
    code, _, err = _run(capsys, *base, "--placebos", "-3", "--out", str(tmp_path / "pl"))
    assert code == 2
    _assert_one_line_error(err, "--placebos", "whole number")


def test_help_texts_show_plain_percent_signs(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse %-formats help strings but not descriptions: no '%%' may reach the reader."""
    for command in ("analyse", "evaluate-pilot", "evaluate-map", "kde", "gi", "change", "emerging"):
        code, stdout, _ = _run(capsys, command, "--help")
        assert code == 0
        assert "%%" not in stdout, command


@pytest.mark.parametrize("name", ["hotspots.cli", "hotspots.cli.arguments", "hotspots.cli.cells"])
def test_doctests(name: str) -> None:
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module(name)).failed == 0


def test_no_command_module_imports_the_command_package() -> None:
    """One module a command, no cycle: the command modules never import hotspots.cli itself."""
    import hotspots.cli

    folder = Path(hotspots.cli.__file__).parent
    for path in folder.glob("*.py"):
        if path.name != "__init__.py":
            text = path.read_text(encoding="utf-8")
            assert "from . import" not in text and "hotspots.cli import" not in text, path.name


#: The demo borough's hotspots.csv list columns (outlines hugging the map points, ranked by density;
#: the frame holds (name, count) pairs and ward names; the files write this text).
SAMPLE_HOTSPOT_TEXT = {
    "H001": (
        "Violence and sexual offences 177; Anti-social behaviour 96; Other theft 58",
        "Cranmere Terrace 577",
        "Ivydene",
    ),
    "H002": (
        "Violence and sexual offences 86; Shoplifting 44; Anti-social behaviour 42",
        "Redstart Street 331",
        "Ivydene",
    ),
    "H003": (
        "Violence and sexual offences 76; Anti-social behaviour 35; Vehicle crime 26",
        "Tansy Grove 213",
        "Copperfield",
    ),
    "H004": (
        "Violence and sexual offences 61; Anti-social behaviour 34; Burglary 18",
        "Beacon Mews 182",
        "Ivydene",
    ),
    "H005": (
        "Violence and sexual offences 496; Theft from the person 483; Anti-social behaviour 407",
        "Harrowgate Avenue 1986; Parking Area near Harrowgate Avenue 336",
        "Fallowfield",
    ),
    "H006": (
        "Violence and sexual offences 1574; Anti-social behaviour 433; Public order 303",
        "St James Street 2647; Shopping Area near St James Street 423; "
        "Supermarket near St James Street 183",
        "Grangewood",
    ),
    "H007": (
        "Violence and sexual offences 55; Anti-social behaviour 33; Burglary 16",
        "Coppice Street 151",
        "Hollowmead",
    ),
    "H008": (
        "Violence and sexual offences 47; Anti-social behaviour 24; Vehicle crime 18",
        "Harrowgate Avenue 148",
        "Ivydene",
    ),
}


def test_sample_hotspots_files_keep_their_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The frame holds lists; hotspots.csv and hotspots.geojson hold the same text as before."""
    from geodata import SAMPLE_INCIDENTS, SAMPLE_PATROL_AREAS, SAMPLE_WARDS

    out = tmp_path / "sample"
    code, stdout, err = _run(
        capsys,
        "analyse",
        str(SAMPLE_INCIDENTS),
        "--wards",
        str(SAMPLE_WARDS),
        "--patrols",
        str(SAMPLE_PATROL_AREAS),
        "--out",
        str(out),
    )
    assert code == 0, err
    columns = ["top_categories", "top_locations", "wards"]
    hot = pd.read_csv(out / "hotspots.csv", dtype=str, keep_default_na=False)
    written = {row[0]: tuple(row[1:]) for row in hot[["hotspot_id", *columns]].itertuples(False)}
    assert {h: written[h] for h in SAMPLE_HOTSPOT_TEXT} == SAMPLE_HOTSPOT_TEXT  # the top eight
    doc = json.loads((out / "hotspots.geojson").read_text(encoding="utf-8"))
    props = {f["properties"]["hotspot_id"]: f["properties"] for f in doc["features"]}
    assert {h: tuple(p[c] for c in columns) for h, p in props.items()} == written
    # the printed table shows the streets and places as the files write them
    assert (
        "H001" in stdout
        and "St James Street 2647; Shopping Area near St James Street 423 …" in stdout
    )


def test_the_back_test_of_tuned_settings_says_they_were_chosen_on_its_months(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settings the back-test chose are scored on the months that chose them: the printed
    back-test says so; settings given by hand are not."""
    from hotspots.report.backtest_text import CHOSEN_HERE

    code, stdout, err = _run(capsys, "analyse", str(street_folder), "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert CHOSEN_HERE.strip() in stdout
    assert "chosen each time on the earlier back-tests alone" in err  # the reason's fair figure
    code, stdout, err = _run(
        capsys, "analyse", str(street_folder), "--eps", "100", "--min-samples", "10",
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert code == 0, err
    assert "last period's busiest map points held" in stdout
    assert CHOSEN_HERE.strip() not in stdout


def test_analyse_no_backtest_writes_the_same_hotspots_without_backtest_csv(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {}
    for name, extra in (("with", []), ("without", ["--no-backtest"])):
        out = tmp_path / name
        code, stdout, err = _run(
            capsys, "analyse", str(street_folder), "--eps", "100", "--min-samples", "10",
            "--out", str(out), *extra,
        )  # fmt: skip
        assert code == 0, err
        runs[name] = out
        # says why there is no back-test: it was turned off, not too few months
        assert ("turned off with --no-backtest" in stdout) == (name == "without")
        assert "fewer than 4 months" not in stdout
    assert (runs["with"] / "backtest.csv").exists()
    assert not (runs["without"] / "backtest.csv").exists()
    assert "backtest" not in json.loads((runs["without"] / "summary.json").read_text())
    pd.testing.assert_frame_equal(
        pd.read_csv(runs["with"] / "hotspots.csv"), pd.read_csv(runs["without"] / "hotspots.csv")
    )


@pytest.mark.parametrize(
    ("command", "text", "said"),
    [
        (
            "analyse",
            "--from 2020-01 and end 2020-05 select none of the 1,245 incidents.",
            "--from 2020-01 and --to 2020-05 select none of the 1,245 incidents.",
        ),
        (
            "evaluate-pilot",
            "start (2018-04) leaves no months before the operation.",
            "--start 2018-04 leaves no months before the operation.",
        ),
        ("analyse", "crs: 'EPSG:99999' is not a coordinate reference system.",
         "--crs 'EPSG:99999' is not a coordinate reference system."),
        ("analyse", "a.csv: no ward code column found; give code_column=.",
         "a.csv: no ward code column found; name the column that holds the codes ward_code."),
        ("change", "some incidents have no month; drop them or read with read_incidents().",
         "some incidents have no month; give files with a month or date column."),
        ("analyse", "the data start in 2019-01: there are no 3 months before",
         "the data start in 2019-01: there are no 3 months before"),
    ],
)  # fmt: skip
def test_library_words_become_the_command_s_own(command: str, text: str, said: str) -> None:
    """A message from the library names what a command-line user can change: its flags, not
    the library's parameters (independent review)."""
    import argparse

    from hotspots.cli.arguments import in_command_words

    args = argparse.Namespace(command=command, start="2020-01", end="2020-05", crs="EPSG:99999")
    assert in_command_words(text, args) == said


def test_a_period_with_no_incidents_names_both_flags(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "analyse", str(street_folder), "--from", "2020-01", "--to", "2020-05",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2
    _assert_one_line_error(err, "--from 2020-01", "--to 2020-05")


def test_the_map_asks_no_server_and_is_framed_on_the_bulk(
    street_rows: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default map.html asks nothing of any server (it fetched OpenStreetMap's tiles, where
    the README says nothing is sent anywhere), and a few incidents recorded far away do not
    frame it (all the hotspots sat on one dot of a 50 km view)."""
    import re

    from hotspots.assets import external_urls

    far = list(street_rows[0])
    far[0], far[4], far[5] = "far-1", "-1.90", "52.48"  # Birmingham, 160 km away
    rows = [*street_rows, far]
    folder = write_street_folder(tmp_path / "download", rows)
    out = tmp_path / "out"
    code, _, err = _run(capsys, "analyse", str(folder), "--no-backtest", "--out", str(out))
    assert code == 0, err
    html = (out / "map.html").read_text(encoding="utf-8")
    assert external_urls(html) == [] and "openstreetmap" not in html.lower()
    bounds = re.findall(
        r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]", html
    )
    assert bounds, "the map is framed"
    south, west = map(float, bounds[-1][:2])
    assert west > -0.5 and south > 51.3  # the bulk in north-east London, not Birmingham


def test_a_patrol_file_of_several_layers_is_answered_with_its_own_flag(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GeoPackage of two polygon layers given to --patrols: the message names
    --patrols-layer (not the incidents' --layer); --patrols-layer without --patrols is refused."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspots.io import read_incidents

    incidents, _ = read_incidents(street_folder)
    x0, y0, x1, y1 = incidents.total_bounds
    areas = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(x0, y0, x1, y1)], crs=incidents.crs)
    gpkg = tmp_path / "two.gpkg"
    areas.to_file(gpkg, layer="areas_2023")
    areas.to_file(gpkg, layer="areas_2024")
    out = str(tmp_path / "out")
    code, _, err = _run(capsys, "analyse", str(street_folder), "--patrols", str(gpkg),
                        "--no-backtest", "--out", out)  # fmt: skip
    assert code != 0
    _assert_one_line_error(err, "--patrols-layer")
    assert "--layer " not in err.replace("--patrols-layer", "")
    code, _, err = _run(capsys, "analyse", str(street_folder), "--patrols", str(gpkg),
                        "--patrols-layer", "areas_2024", "--no-backtest", "--out", out)  # fmt: skip
    assert code == 0, err
    code, _, err = _run(capsys, "analyse", str(street_folder), "--patrols-layer", "areas_2024",
                        "--out", out)  # fmt: skip
    assert code == 2
    _assert_one_line_error(err, "--patrols-layer needs --patrols")


def test_hotspots_partly_covered_are_named_and_the_sheets_say_why_none_print(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patrol area over the west half of each hotspot: none is wholly uncovered, so the
    log names each as partly covered with its share inside, and outreach.html says why it
    prints no sheet (it said "No hotspots were chosen")."""
    import geopandas as gpd
    from shapely.geometry import box

    out = tmp_path / "first"
    code, _, err = _run(capsys, "analyse", str(street_folder), "--no-backtest", "--out", str(out))
    assert code == 0, err
    hs = gpd.read_file(out / "hotspots.geojson").to_crs(27700)
    halves = [
        box(g.bounds[0] - 10, g.bounds[1] - 10, g.centroid.x, g.bounds[3] + 10) for g in hs.geometry
    ]
    patrols = gpd.GeoDataFrame(
        {"name": [f"West of {h}" for h in hs["hotspot_id"]]}, geometry=halves, crs=27700
    )
    patrols.to_file(tmp_path / "west.geojson")
    again = tmp_path / "second"
    west = str(tmp_path / "west.geojson")
    code, _, err = _run(capsys, "analyse", str(street_folder), "--patrols", west,
                        "--no-backtest", "--out", str(again))  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(again / "hotspots.csv")
    assert table["patrol_coverage"].between(0, 1, inclusive="neither").all()
    assert "not covered: none; partly covered: " in err
    for h, c in zip(table["hotspot_id"], table["patrol_coverage"], strict=True):
        assert f"{h} ({c:.0%} inside)" in err
    sheets = (again / "outreach.html").read_text()
    assert "Every hotspot has some of its incidents inside a patrol area" in sheets


def test_month_and_time_messages_name_the_commands_own_flags_once(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """evaluate-pilot's months in reverse: "--start" once (it printed "----start");
    evaluate-map's fit months in reverse: its --fit-from/--fit-to (it said "start"/"end");
    fetch's --timeout 0: a time in seconds (it said "a distance in metres")."""
    out = str(tmp_path / "o")
    target = str(tmp_path / "t.geojson")
    code, _, err = _run(capsys, "evaluate-pilot", str(street_folder), "--target", target,
                        "--start", "2024-05", "--end", "2024-02", "--out", out)  # fmt: skip
    assert code == 2
    _assert_one_line_error(err, "--start 2024-05 is after --end 2024-02")
    assert "----" not in err
    code, _, err = _run(capsys, "evaluate-map", str(street_folder), "--fit-from", "2024-04",
                        "--fit-to", "2024-01", "--test-from", "2024-05", "--test-to",
                        "2024-06", "--out", out)  # fmt: skip
    assert code == 2
    _assert_one_line_error(err, "--fit-from 2024-04 is after --fit-to 2024-01")
    code, _, err = _run(capsys, "fetch", "wards", "--timeout", "0")
    assert code == 2
    assert "a positive time in seconds" in err and "metres" not in err


def test_control_characters_from_the_data_never_reach_the_terminal_or_files(
    street_rows: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A street named with a terminal escape (colour and window title) and a right-to-left
    override: taken out when read, so the printed table and the files hold neither."""
    from tests.conftest import STREET_HEADER, write_street_folder

    loc = STREET_HEADER.index("Location")
    for row in street_rows:
        row[loc] = "On or near \x1b[31;1mRed\x1b]0;PWNED\x07 \u202eGNP.exe Road"
    folder = write_street_folder(tmp_path / "in", street_rows)
    out = tmp_path / "out"
    code, stdout, err = _run(capsys, "analyse", str(folder), "--no-backtest", "--out", str(out))
    assert code == 0, err
    assert "Red" in stdout and "GNP.exe Road" in stdout
    for text in (
        stdout,
        err,
        (out / "hotspots.csv").read_text(),
        (out / "outreach.csv").read_text(),
    ):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
