"""Hostile files: named pipes, links out of a folder or in a loop, empty and damaged files.

Every command given such a file must end at once with one line naming it (never hang): each
FIFO case runs the CLI in a subprocess with a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hotspots._files import check_readable, walk_files
from hotspots.errors import InputFileError
from hotspots.io import read_incidents

from .conftest import REPO, STREET_HEADER

SAMPLE = REPO / "geodata" / "sample"
ZIP = SAMPLE / "demo-borough-street.zip"
WARDS = SAMPLE / "demo_wards.geojson"
PATROLS = SAMPLE / "demo_patrol_areas.geojson"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``hotspots`` in a subprocess; a hang fails the test after 30 s instead of hanging."""
    code = "import sys; from hotspots.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def _one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The one error line (at most ~200 characters, the temporary folder's path aside)."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.rstrip().splitlines()[-1]
    assert last.startswith("hotspots: error:"), proc.stderr
    short = last
    for arg in proc.args[3:]:
        short = short.replace(str(Path(arg).parent), "T")
    assert len(short) <= 200, last
    for needle in needles:
        assert needle in last, last
    return last


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


def test_a_fifo_as_the_incident_file_is_refused_at_once(fifo: Path, tmp_path: Path) -> None:
    proc = _cli("analyse", str(fifo), "--out", str(tmp_path / "out"))
    _one_line(proc, "pipe.csv", "named pipe (FIFO)")


def test_a_fifo_inside_an_input_folder_is_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text(",".join(STREET_HEADER) + "\n", encoding="utf-8")
    os.mkfifo(folder / "b.csv")
    proc = _cli("kde", str(folder), "--out", str(tmp_path / "out"))
    _one_line(proc, "b.csv", "named pipe (FIFO)")


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        ("analyse", "--wards"),
        ("analyse", "--patrols"),
        ("analyse", "--population"),
        ("analyse", "--harm-weights"),
        ("gi", "--wards"),
        ("gi", "--harm-weights"),
        ("evaluate-pilot", "--target"),
    ],
)
def test_a_fifo_as_any_file_argument_is_refused_at_once(
    fifo: Path, tmp_path: Path, command: str, flag: str
) -> None:
    argv = [command, str(ZIP), flag, str(fifo), "--out", str(tmp_path / "out")]
    if command == "evaluate-pilot":
        argv += ["--start", "2024-04", "--end", "2024-06"]
    if flag == "--population":
        argv += ["--wards", str(WARDS)]
    _one_line(_cli(*argv), "pipe.csv", "named pipe (FIFO)")


def test_a_device_and_a_link_loop_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a device"):
        check_readable("/dev/zero", what="harm weights file")
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(InputFileError, match="loops"):
        read_incidents(loop)
    with pytest.raises(InputFileError, match="is a folder"):
        check_readable(tmp_path, what="harm weights file")


def _street_csv(path: Path, ids: list[str]) -> Path:
    rows = [",".join(STREET_HEADER)]
    for cid in ids:
        rows.append(
            f"{cid},2024-01,MPS,MPS,-0.02,51.58,On or near Hoe Street,E01004321,WF 001A,"
            "Burglary,Under investigation,"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_folder_walks_follow_no_link_out_or_around_a_loop(tmp_path: Path) -> None:
    outside = _street_csv(tmp_path / "elsewhere" / "2024-01-x-street.csv", ["o1", "o2"])
    folder = tmp_path / "data"
    _street_csv(folder / "2024-01" / "2024-01-a-street.csv", ["a1", "a2", "a3"])
    (folder / "2024-01" / "out-street.csv").symlink_to(outside)
    (folder / "up").symlink_to(tmp_path)  # a link to a folder above: a loop if followed
    (folder / "self.csv").symlink_to(folder / "self.csv")
    found = walk_files(folder)
    assert [p.name for p in found.files] == ["2024-01-a-street.csv"]
    assert sorted(p.name for p in found.outside) == ["out-street.csv", "up"]
    assert [p.name for p in found.loops] == ["self.csv"]
    incidents, report = read_incidents(folder)
    assert sorted(incidents["incident_id"]) == ["a1", "a2", "a3"]
    note = next(w for w in report.warnings if "Did not follow 3 links" in w)
    assert "self.csv" in note


def test_a_link_to_a_file_inside_the_folder_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    real = _street_csv(folder / "2024-01-a-street.csv", ["a1", "a2"])
    (folder / "z-link-street.csv").symlink_to(real)
    incidents, report = read_incidents(folder)
    assert len(incidents) == 2
    assert any("more than once" in w for w in report.warnings)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_folder_is_not_called_empty(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _street_csv(folder / "2024-01" / "2024-01-a-street.csv", ["a1"])
    os.chmod(folder / "2024-01", 0)
    try:
        with pytest.raises(InputFileError, match=r"cannot be read .*permissions"):
            read_incidents(folder)
    finally:
        os.chmod(folder / "2024-01", 0o755)


def test_empty_files_in_a_folder_are_counted_and_the_read_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _street_csv(folder / "2024-01" / "2024-01-a-street.csv", ["a1", "a2"])
    (folder / "2024-02").mkdir()
    (folder / "2024-02" / "2024-02-a-street.csv").write_bytes(b"")
    (folder / "2024-03.json").write_bytes(b"")
    incidents, report = read_incidents(folder)
    assert len(incidents) == 2
    assert report.empty_files == ["2024-02/2024-02-a-street.csv", "2024-03.json"]
    assert report.to_dict()["empty_files"] == report.empty_files
    assert any(line.startswith("Skipped 2 empty files") for line in report.lines())
    # alone, an empty file is still an error; a folder of nothing but empty files too
    with pytest.raises(InputFileError, match="empty"):
        read_incidents(folder / "2024-03.json")
    with pytest.raises(InputFileError, match="empty"):
        read_incidents(folder / "2024-02")


def test_empty_zip_members_are_counted_and_damaged_ones_named(tmp_path: Path) -> None:
    good = _street_csv(tmp_path / "g.csv", ["a1", "a2"]).read_bytes()
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-01/2024-01-a-street.csv", good)
        zf.writestr("2024-02/2024-02-a-street.csv", b"")
    incidents, report = read_incidents(archive)
    assert len(incidents) == 2
    assert report.empty_files == ["x.zip!2024-02/2024-02-a-street.csv"]
    # flip a byte of the first member's compressed data: a bad CRC or bad deflate data
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("2024-01/2024-01-a-street.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match=r"x\.zip!2024-01/2024-01-a-street\.csv: damaged"):
        read_incidents(archive)


def test_summary_json_names_the_empty_files(tmp_path: Path) -> None:
    import json

    folder = tmp_path / "data"
    with zipfile.ZipFile(ZIP) as zf:
        zf.extractall(folder)
    empty = folder / "2099-01" / "2099-01-x-street.csv"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    for command in ("analyse", "kde"):
        out = tmp_path / command
        proc = _cli(command, str(folder), "--out", str(out), "--quiet")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["empty_files"] == ["2099-01/2099-01-x-street.csv"]


# ------------------------------------------------------------------------------------------
# Readers bound their work
# ------------------------------------------------------------------------------------------
def test_cr_only_line_ends_are_read(tmp_path: Path) -> None:
    path = _street_csv(tmp_path / "2024-01-a-street.csv", ["a1", "a2", "a3"])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    incidents, _report = read_incidents(path)
    assert incidents["incident_id"].tolist() == ["a1", "a2", "a3"]
    generic = tmp_path / "generic.csv"
    generic.write_bytes(b"lon,lat,month\r-0.02,51.58,2024-01\r-0.03,51.58,2024-01\r")
    assert len(read_incidents(generic)[0]) == 2


def test_a_million_columns_are_refused_before_parsing(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["c"] * 1_000_000) + "\n" + ",".join(["1"] * 1_000_000) + "\n")
    proc = _cli("kde", str(wide), "--out", str(tmp_path / "out"))
    _one_line(proc, "wide.csv", "1,000,000 columns, more than 2,000")
    long_header = tmp_path / "long.csv"
    long_header.write_text("x" * 200_000 + "\n1\n")
    with pytest.raises(InputFileError, match="first line is 200,000 characters"):
        read_incidents(long_header)


def test_binary_and_oversized_files_are_refused_unread(tmp_path: Path) -> None:
    nul = _street_csv(tmp_path / "nul-street.csv", ["a1"])
    with open(nul, "ab") as f:
        f.write(b"\x00" * 1000)
    with pytest.raises(InputFileError, match=r"nul-street.csv: holds binary data \(a NUL byte"):
        read_incidents(nul)
    sparse = _street_csv(tmp_path / "sparse-street.csv", ["a1"])
    os.truncate(sparse, 2_200_000_000)  # sparse: no disk used, and never read
    proc = _cli("analyse", str(sparse), "--out", str(tmp_path / "out"))
    line = _one_line(proc, "sparse-street.csv: 2,200,000,000 bytes, more than the limit")
    assert line.endswith("more than the limit of 2,000,000,000; split it.")


def test_json_nested_100000_deep_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    proc = _cli("analyse", str(deep), "--out", str(tmp_path / "out"))
    _one_line(proc, "deep.json", "nested too deeply")


def test_a_grid_too_fine_is_refused_before_it_starts(tmp_path: Path) -> None:
    """`gi --cell-size 4` on a borough is millions of cells: refused at once, with a size."""
    proc = _cli("gi", str(ZIP), "--wards", str(WARDS), "--cell-size", "4", "--out", str(tmp_path))
    line = _one_line(proc, "--cell-size", "more than the 200,000 'hotspots gi' allows")
    assert "use a cell size of 20 m or more" in line
    proc = _cli("kde", str(ZIP), "--cell-size", "2", "--out", str(tmp_path))
    _one_line(proc, "--cell-size", "'hotspots kde' allows; use a cell size of")


def test_a_line_of_20_mb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = _street_csv(tmp_path / "long-street.csv", ["a1", "a2"])
    with open(path, "a", encoding="utf-8") as f:
        f.write("a3,2024-01," + "x" * 20_000_000 + "\n")
    with pytest.raises(InputFileError, match=r"line 4 is 20,000,011 bytes long, more than 10,000"):
        read_incidents(path)


def _vrt(secret: Path) -> bytes:
    """GDAL's virtual-layer XML that reads ``secret`` (a CSV) as points."""
    return (
        "<OGRVRTDataSource><OGRVRTLayer name='x'>"
        f"<SrcDataSource>{secret}</SrcDataSource><GeometryType>wkbPoint</GeometryType>"
        "<GeometryField encoding='PointFromColumns' x='lon' y='lat'/>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


@pytest.mark.parametrize("name", ["in.geojson", "in.gpkg", "in.zip"])
def test_a_file_of_gdal_virtual_layer_xml_is_refused_unread(tmp_path: Path, name: str) -> None:
    """GDAL chooses its reader from contents: a ".geojson" or ".gpkg" (or one in a zip) of
    virtual-layer XML would read any file on the server. Refused by its first bytes, in one
    line, before GDAL sees it: the secret's text is in no result."""
    from geodata import load_patrol_areas

    secret = tmp_path / "secret.csv"
    secret.write_text("lon,lat,name\n-0.1,51.5,TOPSECRET\n")
    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("areas.geojson", _vrt(secret))
    else:
        path.write_bytes(_vrt(secret))
    for read in (read_incidents, load_patrol_areas):
        with pytest.raises(InputFileError) as info:
            read(path)
        assert "contents are not" in str(info.value) and "TOPSECRET" not in str(info.value)


def test_an_archive_of_too_many_files_is_refused_before_reading(tmp_path: Path) -> None:
    from hotspots.archive import MAX_ARCHIVE_MEMBERS

    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(MAX_ARCHIVE_MEMBERS + 1):
            zf.writestr(f"m{i}.csv", "")
    with pytest.raises(InputFileError, match=r"many\.zip: refused: it holds 25,001 files"):
        read_incidents(path)


def test_a_parquet_file_made_to_unpack_far_beyond_its_size_is_refused(tmp_path: Path) -> None:
    """Two million rows of one repeated point compress to a few kB: refused by the file's own
    metadata before reading (it unpacked to millions of rows and gigabytes); a plain Parquet
    file of real-looking rows is read."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 2_000_000
    bomb = pa.table({"Longitude": np.full(n, -0.02), "Latitude": np.full(n, 51.58),
                     "Month": pa.array(["2024-01"] * n)})  # fmt: skip
    path = tmp_path / "bomb.parquet"
    pq.write_table(bomb, path)
    assert path.stat().st_size < 200_000
    with pytest.raises(InputFileError, match=r"bomb\.parquet: refused: its 2,000,000 rows"):
        read_incidents(path)
    rng = np.random.default_rng(0)
    fine = pa.table({"Longitude": -0.02 + rng.normal(0, 0.01, 5000),
                     "Latitude": 51.58 + rng.normal(0, 0.01, 5000),
                     "Month": pa.array(["2024-01"] * 5000)})  # fmt: skip
    pq.write_table(fine, tmp_path / "fine.parquet")
    incidents, _ = read_incidents(tmp_path / "fine.parquet")
    assert len(incidents) == 5000
