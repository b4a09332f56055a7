"""Formula cells: no CSV the project writes holds a cell a spreadsheet would run as a formula.

Street names, crime types, ward and patrol names and column names come from the user's files;
each command is run on files full of ``=``, ``+``, ``-``, ``@`` and tab-led text, and every cell
of every CSV written is checked (numbers aside). The writers share one cell writer
(:func:`hotspots.export.safe_cell`); a source scan checks that nothing writes CSV around it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from hotspots.cli import main
from hotspots.export import safe_cell

from .conftest import REPO, make_street_rows, write_street_folder

_RISKY = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
EVIL_STREET = '=HYPERLINK("http://x","click")'
EVIL_TYPE = "@SUM(1+1)"
EVIL_WARDS = ("=1+2", "+cmd|' /C calc'!A0", "@A1", "\tTabbed")
EVIL_PATROL = "-2+3"


def _evil_folder(root: Path) -> Path:
    rows = make_street_rows()
    for r in rows:
        if r[6] == "On or near St James Street":
            r[6] = EVIL_STREET
        if r[9] == "Burglary":
            r[9] = EVIL_TYPE
        r[2] = "\tReported"
    return write_street_folder(root, rows)


def _layers(tmp: Path) -> tuple[Path, Path, Path]:
    corners = [(533_000, 186_000), (538_000, 186_000), (533_000, 189_000), (538_000, 189_000)]
    wards = gpd.GeoDataFrame(
        {
            "WD22CD": [f"E0500000{i}" for i in range(1, 5)],
            "WD22NM": list(EVIL_WARDS),
            "@note": ["a", "b", "c", "d"],
        },
        geometry=[box(x, y, x + 5_000, y + 3_000) for x, y in corners],
        crs="EPSG:27700",
    )
    wards.to_file(tmp / "wards.geojson")
    patrols = gpd.GeoDataFrame(
        {"name": [EVIL_PATROL]}, geometry=[box(537_300, 189_000, 537_700, 189_400)], crs=27700
    )
    patrols.to_file(tmp / "patrols.geojson")
    population = tmp / "population.csv"
    population.write_text("ward_code,population\nE05000001,10000\nE05000002,5000\n")
    return tmp / "wards.geojson", tmp / "patrols.geojson", population


def _unsafe_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        cells = [c for row in csv.reader(f) for c in row]
    return [c for c in cells if c.startswith(_RISKY) and not _NUMBER.match(c)]


def _escaped(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    return sum(text.count("'" + s) for s in ("=", "+", "-", "@", "\t"))


def test_every_csv_every_command_writes_is_spreadsheet_safe(tmp_path: Path) -> None:
    data = _evil_folder(tmp_path / "data")
    wards, patrols, population = _layers(tmp_path)
    area = ["--wards", str(wards)]
    runs = {
        "analyse": ["analyse", str(data), "--eps", "100", "--min-samples", "10", *area,
                    "--patrols", str(patrols), "--population", str(population),
                    "--tiles", "none"],
        "kde": ["kde", str(data), *area],
        "gi": ["gi", str(data), *area, "--by-ward"],
        "change": ["change", str(data), *area, "--by-ward", "--before", "2024-01:2024-03",
                   "--after", "2024-04:2024-06"],
        "emerging": ["emerging", str(data), *area, "--by-ward", "--period-months", "1"],
        "evaluate-map": ["evaluate-map", str(data), "--fit-from", "2024-01", "--fit-to",
                         "2024-04", "--test-from", "2024-05", "--test-to", "2024-06"],
        "evaluate-pilot": ["evaluate-pilot", str(data), "--target", str(patrols), "--start",
                           "2024-03", "--end", "2024-04"],
    }  # fmt: skip
    written: dict[str, Path] = {}
    for name, argv in runs.items():
        out = tmp_path / name
        assert main([*argv, "--out", str(out), "--quiet"]) == 0, name
        for path in out.glob("*.csv"):
            written[f"{name}/{path.name}"] = path
    expected = {
        "analyse/hotspots.csv",
        "analyse/incidents.csv",
        "analyse/outreach.csv",
        "analyse/wards.csv",
        "analyse/patrols.csv",
        "gi/gi_cells.csv",
        "change/change_cells.csv",
        "emerging/emerging_cells.csv",
        "evaluate-map/forecast.csv",
        "evaluate-pilot/pilot_monthly.csv",
    }
    assert expected <= set(written)
    for name, path in sorted(written.items()):
        assert _unsafe_cells(path) == [], name
    # the hostile names did reach the files, escaped (the check above is not vacuous)
    for name in ("analyse/wards.csv", "gi/gi_cells.csv", "change/change_cells.csv",
                 "emerging/emerging_cells.csv", "analyse/hotspots.csv",
                 "analyse/incidents.csv", "analyse/patrols.csv"):  # fmt: skip
        assert _escaped(written[name]) > 0, name
    assert "'@note" in written["gi/gi_cells.csv"].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("@cmd", "'@cmd"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-0.5", "-0.5"),
        ("+3e5", "+3e5"),
        (-2.5, -2.5),
        ("Hoe Street", "Hoe Street"),
        ("", ""),
    ],
)
def test_the_cell_writer(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_no_csv_is_written_around_the_cell_writer() -> None:
    """Only hotspots/export.py calls to_csv; csv.writer only in the synthetic-data maker."""
    offenders = []
    for path in [*REPO.glob("hotspots/**/*.py"), *REPO.glob("geodata/**/*.py"),
                 *REPO.glob("ui/**/*.py"), REPO / "app.py"]:  # fmt: skip
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(REPO).as_posix()
        if ".to_csv(" in text and rel != "hotspots/export.py":
            offenders.append(rel)
        if re.search(r"csv\.(writer|DictWriter)\(", text) and rel != "geodata/make_sample.py":
            offenders.append(rel)
    assert offenders == []
