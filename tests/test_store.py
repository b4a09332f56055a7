"""The GeoPackage store: patrol areas, reference layers, cache; validation; crashes; concurrency."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geodata.store import (
    AREA_COLUMNS,
    FORMAT_VERSION,
    LayerInfo,
    PatrolAreaStore,
)
from hotspots.errors import InputFileError, ParameterError

REPO = Path(__file__).resolve().parents[1]
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"

# A 1 km square in Walthamstow (British National Grid metres).
TOWN = box(537_000.0, 189_000.0, 538_000.0, 190_000.0)
MARKET = box(538_500.0, 189_000.0, 539_000.0, 189_800.0)
NAN_TRIANGLE = shapely.set_coordinates(
    Polygon([(0, 0), (1, 0), (1, 1)]), np.array([[0, 0], [1, 0], [np.nan, 1], [0, 0]])
)


@pytest.fixture
def store(tmp_path: Path) -> PatrolAreaStore:
    """A store whose file does not exist yet."""
    return PatrolAreaStore(tmp_path / "store.gpkg")


def as_multi(geom: Polygon | MultiPolygon) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def assert_same_boundary(got: object, expected: Polygon | MultiPolygon) -> None:
    """Equal vertex for vertex within 1e-6 m (the store returns MultiPolygons)."""
    assert isinstance(got, MultiPolygon)
    assert shapely.equals_exact(
        shapely.normalize(got), shapely.normalize(as_multi(expected)), tolerance=1e-6
    )


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def now_ms() -> datetime:
    stamp = datetime.now(UTC)
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- patrol areas: round trips ---------------------------------------------------------------


def test_missing_store_reads_empty_with_columns(store: PatrolAreaStore) -> None:
    """Reading never creates the file; the frame has the documented columns and CRS."""
    areas = store.list()
    assert list(areas.columns) == list(AREA_COLUMNS)
    assert len(areas) == 0
    assert areas.crs == "EPSG:27700"
    assert store.layers() == []
    assert store.get_layer("wards") is None
    assert store.cache_get("anything") is None
    store.check()
    assert not store.path.exists()


def test_add_list_round_trip(store: PatrolAreaStore) -> None:
    before = now_ms()
    store.add("Town Centre", TOWN, by="ann", note="Fri/Sat nights")
    after = now_ms()
    assert store.path.exists()
    areas = store.list()
    assert list(areas.columns) == list(AREA_COLUMNS)
    assert areas.crs == "EPSG:27700"
    row = areas.iloc[0]
    assert (row.patrol_area, row.created_by, row.updated_by, row.note) == (
        "Town Centre",
        "ann",
        "ann",
        "Fri/Sat nights",
    )
    assert before <= parse_stamp(row.created_at) <= after
    assert row.updated_at == row.created_at
    assert_same_boundary(row.geometry, TOWN)


def test_who_defaults_to_the_login_name(store: PatrolAreaStore) -> None:
    import getpass

    store.add("Town", TOWN)
    assert store.list().created_by.iloc[0] == getpass.getuser()


def test_wgs84_polygon_is_reprojected(store: PatrolAreaStore) -> None:
    lonlat = Polygon([(-0.02, 51.58), (-0.01, 51.58), (-0.01, 51.59), (-0.02, 51.59)])
    store.add("Hoe Street", lonlat, crs="EPSG:4326", by="ann")
    expected = gpd.GeoSeries([lonlat], crs="EPSG:4326").to_crs("EPSG:27700").iloc[0]
    got = store.list().geometry.iloc[0]
    assert_same_boundary(got, expected)
    assert 537_000 < got.centroid.x < 539_000


def test_multipolygon_and_sorting(store: PatrolAreaStore) -> None:
    both = MultiPolygon([TOWN, MARKET])
    store.add("zeta", MARKET)
    store.add("Alpha", both)
    store.add("beta", TOWN)
    areas = store.list()
    assert areas.patrol_area.tolist() == ["Alpha", "beta", "zeta"]
    assert_same_boundary(areas.geometry.iloc[0], both)


def test_rename_keeps_boundary_and_creation(store: PatrolAreaStore) -> None:
    store.add("Town", TOWN, by="ann")
    created = store.list().iloc[0]
    store.rename("town", "Town Centre", by="bob")  # lookup ignores case
    row = store.list().iloc[0]
    assert row.patrol_area == "Town Centre"
    assert (row.created_by, row.created_at) == ("ann", created.created_at)
    assert row.updated_by == "bob"
    assert parse_stamp(row.updated_at) >= parse_stamp(created.created_at)
    assert_same_boundary(row.geometry, TOWN)


def test_rename_to_other_case_of_itself(store: PatrolAreaStore) -> None:
    store.add("town", TOWN)
    store.rename("town", "Town")
    assert store.list().patrol_area.tolist() == ["Town"]


def test_replace_and_delete(store: PatrolAreaStore) -> None:
    store.add("Town", TOWN, by="ann")
    store.add("Market", MARKET, by="ann")
    store.replace("TOWN", MARKET.buffer(10), by="cy")
    areas = store.list().set_index("patrol_area")
    assert_same_boundary(areas.loc["Town"].geometry, MARKET.buffer(10))
    assert areas.loc["Town"].updated_by == "cy"
    assert areas.loc["Town"].created_by == "ann"
    store.delete("market")
    assert store.list().patrol_area.tolist() == ["Town"]
    store.delete("Town")
    assert len(store.list()) == 0
    assert list(store.list().columns) == list(AREA_COLUMNS)


def test_persists_across_instances(tmp_path: Path) -> None:
    """A new PatrolAreaStore on the same file (an app restart) sees every change."""
    path = tmp_path / "sub" / "dir" / "areas.gpkg"  # folders are created on first write
    PatrolAreaStore(path).add("Town", TOWN, by="ann")
    PatrolAreaStore(str(path)).add("Market", MARKET, by="bob")
    PatrolAreaStore(path).rename("Market", "Market Square")
    areas = PatrolAreaStore(path).list()
    assert areas.patrol_area.tolist() == ["Market Square", "Town"]
    assert_same_boundary(areas.geometry.iloc[1], TOWN)


def test_gdal_reads_the_same_layer(store: PatrolAreaStore) -> None:
    """The file is a GeoPackage GDAL reads: layer, CRS, features, spatial index all agree."""
    store.add("Town", TOWN)
    store.add("Market", MARKET)
    store.delete("Town")
    store.add("Town", TOWN.buffer(5))
    layers = dict(pyogrio.list_layers(store.path).tolist())
    assert layers["patrol_areas"] == "MultiPolygon"
    assert "hotspots_cache" not in layers
    info = pyogrio.read_info(store.path, layer="patrol_areas")
    assert info["crs"] == "EPSG:27700"
    assert info["features"] == 2
    np.testing.assert_allclose(info["total_bounds"], store.list().total_bounds)
    gdal = pyogrio.read_dataframe(store.path, layer="patrol_areas")
    ours = store.list()
    mine = ours.set_index("patrol_area").geometry
    for name, geom in zip(gdal.patrol_area, gdal.geometry, strict=True):
        assert_same_boundary(geom, mine[name])
    # the R-tree finds areas by bounding box
    hit = pyogrio.read_dataframe(store.path, layer="patrol_areas", bbox=MARKET.bounds)
    assert hit.patrol_area.tolist() == ["Market"]
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        meta = dict(conn.execute("SELECT key, value FROM hotspots_store").fetchall())
    assert meta["format_version"] == str(FORMAT_VERSION)
    assert meta["created_by_app"].startswith("hotspots ")
    store.check()


def test_invalid_polygon_is_repaired(store: PatrolAreaStore) -> None:
    """A bow-tie (self-crossing) becomes its two triangles."""
    bowtie = Polygon(
        [(537_000, 189_000), (538_000, 190_000), (538_000, 189_000), (537_000, 190_000)]
    )
    assert not bowtie.is_valid
    store.add("Bow tie", bowtie)
    got = store.list().geometry.iloc[0]
    assert got.is_valid
    assert len(got.geoms) == 2
    assert got.area == pytest.approx(500_000)


def test_import_layer(store: PatrolAreaStore) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Town", "Market"], "note": ["north", None]},
        geometry=[TOWN, MARKET],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    assert store.import_layer(frame, name_column="name", by="dee") == 2
    areas = store.list().set_index("patrol_area")
    assert areas.loc["Town"].note == "north"
    assert areas.loc["Market"].note == ""
    assert set(areas.created_by) == {"dee"}
    expected = frame.to_crs("EPSG:27700").geometry.iloc[0]
    assert_same_boundary(areas.loc["Town"].geometry, expected)


def test_import_is_all_or_nothing(store: PatrolAreaStore) -> None:
    store.add("Market", MARKET)
    frame = gpd.GeoDataFrame(
        {"patrol_area": ["Town", "market"]}, geometry=[TOWN, MARKET], crs="EPSG:27700"
    )
    with pytest.raises(ParameterError, match="already exists"):
        store.import_layer(frame)
    assert store.list().patrol_area.tolist() == ["Market"]


# -- validation ------------------------------------------------------------------------------


def _filled(store: PatrolAreaStore) -> PatrolAreaStore:
    store.add("Town", TOWN)
    store.add("Market", MARKET)
    return store


BAD_CALLS = [
    (lambda s: s.add("", TOWN), "name is empty"),
    (lambda s: s.add("   ", TOWN), "name is empty"),
    (lambda s: s.add("x" * 101, TOWN), "101 characters long; shorten it to at most 100"),
    (lambda s: s.add("two\nlines", TOWN), "use one line of text"),
    (lambda s: s.add(42, TOWN), "must be text, got int"),
    (lambda s: s.add("TOWN", MARKET), "named 'Town' already exists"),
    (lambda s: s.add(" town ", MARKET), "named 'Town' already exists"),
    (lambda s: s.rename("Market", "town"), "an area named 'Town' already exists"),
    (lambda s: s.rename("Nowhere", "Somewhere"), "no patrol area named 'Nowhere'"),
    (lambda s: s.rename("Town", ""), "name is empty"),
    (lambda s: s.replace("Nowhere", TOWN), "choose one of: 'Market', 'Town'"),
    (lambda s: s.delete("Nowhere"), "no patrol area named 'Nowhere'"),
    (lambda s: s.add("Pt", Point(537_000, 189_000)), "is a Point, not a polygon"),
    (lambda s: s.add("Ln", LineString([(0, 0), (1, 1)])), "is a LineString, not a polygon"),
    (lambda s: s.add("Empty", Polygon()), "is empty"),
    (lambda s: s.add("Wkt", "POLYGON ((0 0, 1 0, 1 1, 0 0))"), "got str"),
    (
        lambda s: s.add(
            "Flat", Polygon([(537_000, 189_000), (538_000, 189_000), (537_500, 189_000)])
        ),
        "has no area once repaired",
    ),
    (
        lambda s: s.add("Nan", NAN_TRIANGLE),
        "missing or infinite coordinates",
    ),
    (lambda s: s.add("Degrees", box(-0.02, 51.58, -0.01, 51.59)), "pass crs='EPSG:4326'"),
    (lambda s: s.add("Crs", TOWN, crs="EPSG:999999"), "not a coordinate reference system"),
    (lambda s: s.add("Note", TOWN, note=3), "note must be text"),
    (
        lambda s: s.import_layer(gpd.GeoDataFrame({"n": ["a"]}, geometry=[TOWN])),
        "'patrol_area' is not a column",
    ),
    (
        lambda s: s.import_layer(gpd.GeoDataFrame({"patrol_area": ["a"]}, geometry=[TOWN])),
        "areas has no CRS",
    ),
    (
        lambda s: s.import_layer(
            gpd.GeoDataFrame(
                {"patrol_area": ["ok", "Long " * 30]}, geometry=[TOWN, TOWN], crs=27700
            )
        ),
        "patrol area 'Long Long Long Long Long Long Long Long '… (area 2 of those given) is 149",
    ),
    (
        lambda s: s.import_layer(
            gpd.GeoDataFrame({"patrol_area": ["a", "A"]}, geometry=[TOWN, TOWN], crs=27700)
        ),
        "two of the areas given are named 'a' and 'A' (names compare without case)",
    ),
    (
        lambda s: s.import_layer(
            gpd.GeoDataFrame({"patrol_area": ["a", None]}, geometry=[TOWN, TOWN], crs=27700)
        ),
        "row 2 of the areas has no patrol_area",
    ),
    (lambda s: s.import_layer(TOWN), "must be a GeoDataFrame"),
    (
        lambda s: s.put_layer("Wards", gpd.GeoDataFrame(geometry=[TOWN], crs=27700), source=""),
        "lower-case letters",
    ),
    (
        lambda s: s.put_layer(
            "patrol_areas", gpd.GeoDataFrame(geometry=[TOWN], crs=27700), source=""
        ),
        "reserved",
    ),
    (
        lambda s: s.put_layer("gpkg_x", gpd.GeoDataFrame(geometry=[TOWN], crs=27700), source=""),
        "reserved",
    ),
    (
        lambda s: s.put_layer("wards", gpd.GeoDataFrame(geometry=[TOWN]), source=""),
        "no CRS with an EPSG code",
    ),
    (lambda s: s.get_layer("no such"), "lower-case letters"),
    (lambda s: s.cache_put("", b"x"), "cache key must be non-empty"),
    (lambda s: s.cache_put("k", "text"), "cache data must be bytes"),
    (lambda s: s.cache_get("k", max_age=-1), "max_age must be"),
]


@pytest.mark.parametrize(("call", "expected"), BAD_CALLS)
def test_every_bad_argument_is_one_line_with_the_fix(
    store: PatrolAreaStore, call: object, expected: str
) -> None:
    _filled(store)
    before = store.path.read_bytes()
    with pytest.raises(ParameterError) as caught:
        call(store)  # type: ignore[operator]
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert ";" in message or "got" in message  # problem; fix
    assert store.path.read_bytes() == before  # nothing written


@pytest.mark.parametrize(
    ("path", "expected"),
    [("store.sqlite", "does not end in .gpkg"), ("", "store path is empty")],
)
def test_bad_store_paths(tmp_path: Path, path: str, expected: str) -> None:
    with pytest.raises(ParameterError, match=expected):
        PatrolAreaStore(str(tmp_path / path) if path else path)


def test_folder_as_store_path(tmp_path: Path) -> None:
    folder = tmp_path / "areas.gpkg"
    folder.mkdir()
    with pytest.raises(ParameterError, match="is a folder; give a file name inside it"):
        PatrolAreaStore(folder)


# -- files that are not (our) stores ---------------------------------------------------------


def _assert_refused(path: Path, expected: str, *, layers: bool = True) -> None:
    """Reading and writing both refuse with one line naming the file; nothing is changed."""
    before = path.read_bytes()
    store = PatrolAreaStore(path)
    actions = [store.list, store.check, lambda: store.add("Town", TOWN)]
    if layers:
        actions.append(store.layers)
    for action in actions:
        with pytest.raises(InputFileError) as caught:
            action()
        message = str(caught.value)
        assert str(path) in message
        assert expected in message
        assert "\n" not in message
    assert path.read_bytes() == before


def test_foreign_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[TOWN], crs=27700).to_file(path, layer="roads")
    _assert_refused(path, "was not made by hotspots (it has no hotspots_store table); choose")


def test_plain_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "other.gpkg"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    _assert_refused(path, "is an SQLite database but not a GeoPackage made by hotspots")


def test_newer_format(store: PatrolAreaStore) -> None:
    store.add("Town", TOWN)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE hotspots_store SET value = '2' WHERE key = 'format_version'")
    conn.close()
    _assert_refused(store.path, "was made by a newer version of hotspots")


def test_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "notes.gpkg"
    path.write_text("these are my notes, not a database\n" * 50)
    _assert_refused(path, "is not a GeoPackage (not an SQLite file)")


@pytest.mark.parametrize("damage", ["truncate", "overwrite"])
def test_corrupt_file(store: PatrolAreaStore, damage: str) -> None:
    ring = [
        (538_000 + 300 * np.cos(a), 189_000 + 300 * np.sin(a)) for a in np.arange(0, 6.28, 0.001)
    ]
    for i in range(8):
        store.add(f"area {i}", Polygon(ring).buffer(i))
    size = store.path.stat().st_size
    with open(store.path, "r+b") as fh:
        if damage == "truncate":
            fh.truncate(size // 2)
        else:
            fh.seek(size // 3)
            fh.write(bytes(range(256)) * 80)
    # Reading the layer list does not touch the damaged pages, so only it still works.
    _assert_refused(store.path, "is damaged (", layers=False)


def test_empty_file_is_a_new_store(tmp_path: Path) -> None:
    """A zero-byte file (e.g. left by a store creation that was killed) counts as missing."""
    path = tmp_path / "store.gpkg"
    path.touch()
    store = PatrolAreaStore(path)
    assert len(store.list()) == 0
    store.add("Town", TOWN)
    assert store.list().patrol_area.tolist() == ["Town"]


# -- reference layers and cache --------------------------------------------------------------


def test_layers_round_trip(store: PatrolAreaStore) -> None:
    wards = gpd.GeoDataFrame(
        {"ward_code": ["E05000001", "E05000002"], "population": [11_000, 9_500]},
        geometry=[TOWN, MARKET],
        crs="EPSG:27700",
    )
    before = now_ms()
    store.put_layer("wards", wards, source="https://example.org/wards.zip", by="ann")
    store.put_layer("wards_wgs", wards.to_crs("EPSG:4326"), source="ons")
    got = store.get_layer("wards")
    assert got is not None
    assert_geodataframe_equal(got, wards, check_dtype=False, check_less_precise=False)
    wgs = store.get_layer("wards_wgs")
    assert wgs is not None and wgs.crs == "EPSG:4326"
    listed = store.layers()
    assert [info.name for info in listed] == ["wards", "wards_wgs"]
    assert isinstance(listed[0], LayerInfo)
    _, source, fetched_at = listed[0]
    assert source == "https://example.org/wards.zip"
    assert parse_stamp(fetched_at) >= before
    # replacing a layer replaces all of it; patrol areas are untouched
    store.add("Town", TOWN)
    store.put_layer("wards", wards.iloc[:1], source="v2")
    got = store.get_layer("wards")
    assert got is not None and len(got) == 1
    assert dict((i.name, i.source) for i in store.layers())["wards"] == "v2"
    assert len(pyogrio.read_dataframe(store.path, layer="wards")) == 1
    assert store.list().patrol_area.tolist() == ["Town"]
    assert store.get_layer("missing") is None
    store.check()


def test_layer_names_sharing_a_prefix(store: PatrolAreaStore) -> None:
    """Replacing 'wards' leaves 'wards_2024' (whose index is rtree_wards_2024_geom) alone."""
    one = gpd.GeoDataFrame({"a": [1]}, geometry=[TOWN], crs="EPSG:27700")
    two = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[TOWN, MARKET], crs="EPSG:27700")
    store.put_layer("wards_2024", two, source="b")
    store.put_layer("wards", one, source="a")
    store.put_layer("wards", two, source="a2")
    store.check()
    for name in ("wards", "wards_2024"):
        assert len(pyogrio.read_dataframe(store.path, layer=name, bbox=MARKET.bounds)) == 1


def test_empty_layer(store: PatrolAreaStore) -> None:
    empty = gpd.GeoDataFrame({"a": []}, geometry=gpd.GeoSeries([]), crs="EPSG:27700")
    store.put_layer("nothing", empty, source="test")
    got = store.get_layer("nothing")
    assert got is not None and len(got) == 0


def test_cache(store: PatrolAreaStore) -> None:
    payload = bytes(range(256)) * 1000
    store.cache_put("https://data.police.uk/api/crimes-street?x=1", payload)
    assert store.cache_get("https://data.police.uk/api/crimes-street?x=1") == payload
    assert store.cache_get("https://data.police.uk/api/crimes-street?x=1", max_age=3600) == payload
    assert store.cache_get("https://data.police.uk/api/crimes-street?x=1", max_age=0) is None
    store.cache_put("https://data.police.uk/api/crimes-street?x=1", b"")
    assert store.cache_get("https://data.police.uk/api/crimes-street?x=1") == b""
    assert PatrolAreaStore(store.path).cache_get("other") is None


# -- several processes -----------------------------------------------------------------------

ADDER = textwrap.dedent(
    """
    import sys
    from shapely.geometry import box
    from geodata.store import PatrolAreaStore

    store = PatrolAreaStore(sys.argv[1])
    prefix = sys.argv[2]
    for i in range(15):
        store.add(f"{prefix}-{i}", box(530_000 + i * 100, 180_000, 530_050 + i * 100, 180_050))
    """
)


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    """Two sessions create the same (missing) store and add areas at once: none is lost."""
    path = tmp_path / "shared.gpkg"
    procs = [run_python(ADDER, str(path), prefix) for prefix in ("east", "west")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    names = set(PatrolAreaStore(path).list().patrol_area)
    assert names == {f"{p}-{i}" for p in ("east", "west") for i in range(15)}
    PatrolAreaStore(path).check()


VERTICES = 4000
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")  # a hot (to be rolled back) SQLite journal

# Imports once, then for each seed read on stdin forks a child that writes in a loop until it
# is killed: mostly patrol-area changes with 64 kB boundaries, now and then a reference layer of
# 20-120 such polygons (1-8 MB) or a cache blob of up to 2 MB. Prints the child's pid, then its
# wait status. (Forking spares each writer the 2-3 s of imports.)
SPAWNER = textwrap.dedent(
    f"""
    import os, random, sys, traceback
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import Polygon
    from geodata.store import PatrolAreaStore

    VERTICES = {VERTICES}
    store = PatrolAreaStore(sys.argv[1])
    angle = np.linspace(0, 2 * np.pi, VERTICES, endpoint=False)
    radius = 300 + 50 * np.sin(7 * angle)
    blobs = [
        Polygon(np.c_[530_000 + k * 800 + radius * np.cos(angle), 180_000 + radius * np.sin(angle)])
        for k in range(40)
    ]

    def write_forever(tag):
        rng = random.Random(tag)
        names = store.list().patrol_area.tolist()
        i = 0
        while True:
            i += 1
            op = rng.random()
            if not names or (op < 0.45 and len(names) < 25):
                names.append(f"area {{tag}}-{{i}}")
                store.add(names[-1], blobs[i % 40], by="writer", note=str(i))
            elif op < 0.6:
                k = rng.randrange(len(names))
                store.rename(names[k], f"renamed {{tag}}-{{i}}")
                names[k] = f"renamed {{tag}}-{{i}}"
            elif op < 0.75:
                store.replace(rng.choice(names), blobs[i % 40])
            elif op < 0.85:
                store.delete(names.pop(rng.randrange(len(names))))
            elif op < 0.93:
                n = rng.randrange(20, 120)
                layer = gpd.GeoDataFrame(
                    {{"k": np.arange(n)}}, geometry=[blobs[j % 40] for j in range(n)], crs=27700
                )
                store.put_layer(f"layer_{{i % 3}}", layer, source=f"n={{n}}")
            else:
                size = rng.randrange(1, 2_000_000)
                store.cache_put(f"blob-{{size}}", bytes([i % 256]) * size)

    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(int(line))
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        print(pid, flush=True)
        print(os.waitpid(pid, 0)[1], flush=True)
    """
)


def _assert_consistent(path: Path) -> tuple[int, int]:
    """The store reads, is a valid GeoPackage and every area, layer and blob is whole."""
    store = PatrolAreaStore(path)
    areas = store.list()  # first connection: rolls back what a killed writer left half done
    # A journal may stay behind only if it is not hot (SQLite writes its magic number last).
    journal = Path(f"{path}-journal")
    assert not journal.exists() or journal.read_bytes()[:8] != JOURNAL_MAGIC
    store.check()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # killed while creating the store: still an empty file, which reads as no store
            assert len(areas) == 0 and store.layers() == []
            return 0, 0
        keys = conn.execute("SELECT key, length(data) FROM hotspots_cache").fetchall()
    conn.close()
    names = areas.patrol_area.tolist()
    assert len({n.casefold() for n in names}) == len(names)
    for geom in areas.geometry:
        assert geom.is_valid
        assert len(shapely.get_coordinates(geom)) == VERTICES + 1
    assert pyogrio.read_info(path, layer="patrol_areas")["features"] == len(areas)
    gdal = pyogrio.read_dataframe(path, layer="patrol_areas")
    assert sorted(gdal.patrol_area) == sorted(names)
    for info in store.layers():
        layer = store.get_layer(info.name)
        assert layer is not None
        assert len(layer) == int(info.source.removeprefix("n="))
        assert pyogrio.read_info(path, layer=info.name)["features"] == len(layer)
    for key, length in keys:
        assert length == int(key.removeprefix("blob-"))
    return len(areas), len(keys)


def test_killed_writer_never_leaves_a_broken_store(tmp_path: Path) -> None:
    """SIGKILL a process that writes in a loop at random moments; the store stays whole."""
    if not hasattr(os, "fork"):
        pytest.skip("needs fork and SIGKILL")
    path = tmp_path / "crash.gpkg"
    rng = random.Random(20240601)
    kills, rolled_back = 10, 0
    with open(tmp_path / "stderr.txt", "w+") as errors:
        spawner = subprocess.Popen(
            [sys.executable, "-c", SPAWNER, str(path)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert spawner.stdin is not None and spawner.stdout is not None
        try:
            assert spawner.stdout.readline().strip() == "ready", errors.read()
            for attempt in range(kills):
                spawner.stdin.write(f"{attempt}\n")
                spawner.stdin.flush()
                pid = int(spawner.stdout.readline())
                time.sleep(rng.uniform(0.05, 0.8))
                os.kill(pid, signal.SIGKILL)
                status = int(spawner.stdout.readline())
                errors.seek(0)
                # it was writing without error until killed
                assert os.WIFSIGNALED(status), errors.read()
                assert os.WTERMSIG(status) == signal.SIGKILL
                journal = Path(f"{path}-journal")
                rolled_back += journal.exists() and journal.read_bytes()[:8] == JOURNAL_MAGIC
                _assert_consistent(path)
        finally:
            spawner.stdin.close()
            spawner.wait(timeout=30)
    areas, _ = _assert_consistent(path)
    assert areas > 0
    print(f"{rolled_back} of {kills} kills left a half-done change that was rolled back")


HALF_DONE = textwrap.dedent(
    """
    import sys, time
    from shapely.geometry import box
    from geodata.store import PatrolAreaStore

    store = PatrolAreaStore(sys.argv[1])

    def change(conn):
        conn.execute("UPDATE patrol_areas SET patrol_area = 'renamed', note = 'half done'")
        conn.execute("DELETE FROM hotspots_layers")
        # a tiny page cache makes SQLite spill the change into the file before the commit
        conn.execute("PRAGMA cache_size = -64")
        conn.execute(
            "INSERT INTO hotspots_cache (key, data, stored_at)"
            " VALUES ('big', zeroblob(8000000), '')"
        )
        print("inside", flush=True)
        time.sleep(120)

    store._write(change)
    """
)


def test_kill_inside_a_transaction_rolls_back(store: PatrolAreaStore) -> None:
    """Killed with half a change already in the file: the next reader rolls it back."""
    store.add("Town", TOWN, note="before")
    store.put_layer("wards", gpd.GeoDataFrame(geometry=[MARKET], crs=27700), source="ons")
    before = store.list()
    proc = run_python(HALF_DONE, str(store.path))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inside", proc.communicate()[1]
    proc.kill()
    proc.communicate(timeout=30)
    journal = Path(f"{store.path}-journal")
    assert journal.read_bytes()[:8] == JOURNAL_MAGIC  # hot: the file holds half a change
    assert_geodataframe_equal(store.list(), before)
    assert not journal.exists()
    assert store.cache_get("big") is None
    assert [info.name for info in store.layers()] == ["wards"]
    store.check()
    assert pyogrio.read_dataframe(store.path, layer="patrol_areas").note.tolist() == ["before"]
