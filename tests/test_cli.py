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
