"""Messages a user can act on: one line, at most ~200 characters, long lists cut to a few items.

Each case feeds a command a file with thousands of names (crime types, columns, layers) where the
message would list them all, and checks the one error line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotspots.cli import main

LIMIT = 200


def _error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.rstrip().splitlines()[-1]
    assert line.startswith("hotspots: error:"), err
    return line


def _short(line: str, tmp_path: Path) -> str:
    """The line with the temporary folder's path (which can be long) shortened."""
    return line.replace(str(tmp_path), "T")


def _many_types_csv(path: Path, n: int) -> Path:
    rows = ["longitude,latitude,month,crime_type"]
    rows += [f"-0.02,51.58,2024-01,Type number {i:05d} with a long-ish name" for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_unknown_crime_type_among_3000_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _many_types_csv(tmp_path / "many.csv", 3000)
    line = _error_line(
        capsys, "kde", str(data), "--crime-type", "Burglery", "--out", str(tmp_path / "o")
    )
    assert "--crime-type" in line and "3,014 types" in line and "more" in line
    assert len(_short(line, tmp_path)) <= LIMIT, line
    # a near miss is suggested
    line = _error_line(
        capsys, "kde", str(data), "--crime-type", "burglarly", "--out", str(tmp_path / "o")
    )
    assert "did you mean 'Burglary'" in line, line


def test_a_harm_table_of_3000_unknown_types_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _many_types_csv(tmp_path / "many.csv", 20)
    harm = tmp_path / "harm.csv"
    harm.write_text(
        "crime_type,weight\n" + "".join(f"Made up type {i},1\n" for i in range(3000)),
        encoding="utf-8",
    )
    line = _error_line(
        capsys, "kde", str(data), "--harm-weights", str(harm), "--out", str(tmp_path / "o")
    )
    assert "unknown crime types" in line and "2,997 more" in line
    assert len(_short(line, tmp_path)) <= 2 * LIMIT, line  # three lists, each cut to 3


def test_a_table_of_many_columns_without_coordinates_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(
        ",".join(f"column_{i}" for i in range(1500)) + "\n" + ",".join(["1"] * 1500) + "\n"
    )
    line = _error_line(capsys, "kde", str(wide), "--out", str(tmp_path / "o"))
    assert "no coordinate columns" in line and "1,492 more" in line
    assert len(_short(line, tmp_path)) <= 2 * LIMIT, line


def test_messages_name_the_commands_flags_not_python_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from .conftest import REPO

    data = REPO / "geodata" / "sample" / "demo-borough-street.zip"
    wards = tmp_path / "two-layers.gpkg"
    for name in ("first", "second"):
        gpd.GeoDataFrame(
            {"ward_code": ["E1"]}, geometry=[box(530_000, 180_000, 540_000, 190_000)], crs=27700
        ).to_file(wards, layer=name)
    out = str(tmp_path / "o")
    line = _error_line(capsys, "kde", str(data), "--wards", str(wards), "--out", out)
    assert "with --wards-layer (e.g. --wards-layer first)" in line, line
    xy = tmp_path / "xy.csv"
    xy.write_text("x,y,month\n-0.02,51.58,2024-01\n", encoding="utf-8")
    line = _error_line(capsys, "kde", str(xy), "--out", out)
    assert "give --crs EPSG:4326, or rename" in line and "crs=" not in line, line
    for line in (
        _error_line(capsys, "gi", str(data), "--cell-size", "4", "--out", out),
        _error_line(capsys, "emerging", str(data), "--period-months", "400", "--out", out),
    ):
        assert "cell_size" not in line and "period_months" not in line, line
