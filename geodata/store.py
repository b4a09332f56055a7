"""The hotspots store: one GeoPackage file with patrol areas, downloaded layers and a cache.

A :class:`PatrolAreaStore` keeps, in one ``.gpkg`` file (an application's
:attr:`geodata.settings.Settings.store_path`):

``patrol_areas``
    A MultiPolygon feature layer in British National Grid (EPSG:27700) with the columns
    ``patrol_area`` (unique name, case-insensitive), ``created_by``, ``created_at``,
    ``updated_by``, ``updated_at`` (ISO 8601 UTC, ``2025-01-31T09:30:00.000Z``) and ``note``.
    Single polygons come back as one-part MultiPolygons (the layer's declared type).
reference layers
    Downloaded layers (wards, ...) put by :mod:`geodata.fetch`, one feature table each, listed
    with where they came from in the ``hotspots_layers`` table.
``hotspots_cache``
    Small key/value blobs (HTTP responses) for the fetchers.
``hotspots_store``
    Key/value metadata: ``format_version`` (1) and ``created_by_app``.

The file is a plain GeoPackage: QGIS, ogr2ogr and geopandas read it.

Atomic changes
--------------
Every change is one SQLite transaction on the GeoPackage itself (a GeoPackage *is* an SQLite
database). SQLite's rollback journal makes a transaction all-or-nothing: if the process is
killed, or the machine loses power, part way through, the next connection finds the journal and
rolls the file back to its state before the change. A store-level copy-and-rename was the
other option; it rewrites the whole file on every change, which is cheap for a few patrol areas
but not once the store caches downloaded boundaries and API responses (tens of MB), and it needs
a lock file of its own. With transactions:

* patrol areas are written directly: the GeoPackage geometry blob is encoded here, and the
  R-tree spatial index and feature count are kept up to date by the triggers GDAL put on the
  table (the ``ST_MinX``... functions they call are registered on each connection), so GDAL
  reads back a consistent layer;
* a reference layer is first written by GDAL (pyogrio) to a temporary GeoPackage, which is then
  ``ATTACH``-ed and copied - table, index, R-tree, metadata rows - inside one transaction, so the
  old layer is replaced by the complete new one or not at all;
* a new store is made the same way: GDAL writes an empty ``patrol_areas`` layer to a temporary
  GeoPackage and the first write copies it in, in the same transaction as the change itself.

Two sessions writing at once are serialised by SQLite's own file lock: each change starts with
``BEGIN IMMEDIATE`` (the write lock) and reads what it checks (duplicate names, ...) inside the
transaction, so no change is lost; a writer waits up to 30 s for the lock. Readers see either
the state before or after a change, never half of one. (SQLite's locks, like any file locks,
are not reliable on some network file systems: keep a shared store on a local disk.)

Before each change the file is checked (``PRAGMA quick_check``, ~30 ms for 50 MB) so nothing is
written into a damaged file; reads report damage in what they read; :meth:`PatrolAreaStore.check`
checks everything.

Reading a missing store gives an empty result; the first change creates the file (and its
folder). A file that is not an SQLite database, a GeoPackage without the ``hotspots_store``
table, a store of a newer format and a damaged file each raise a one-line
:class:`~hotspots.errors.InputFileError` that names the file and what to do.
"""

from __future__ import annotations

import builtins
import getpass
import importlib.metadata
import logging
import os
import re
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from hotspots.crs import parse_crs
from hotspots.errors import InputFileError, ParameterError

__all__ = [
    "AREA_COLUMNS",
    "FORMAT_VERSION",
    "MAX_NAME_LENGTH",
    "LayerInfo",
    "PatrolAreaStore",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAX_NAME_LENGTH = 100
AREA_COLUMNS = (
    "patrol_area",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "note",
    "geometry",
)

_BNG = "EPSG:27700"
_BNG_SRS_ID = 27700
_AREAS = "patrol_areas"
_GEOM = "geom"
_META = "hotspots_store"
_LAYERS = "hotspots_layers"
_CACHE = "hotspots_cache"
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S = 30.0
_LAYER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_RESERVED_PREFIXES = ("gpkg", "rtree_", "sqlite_", "hotspots_", "trigger_")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Bytes of envelope after the 8-byte GeoPackage geometry header, by envelope indicator.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

_T = TypeVar("_T")


class LayerInfo(NamedTuple):
    """A reference layer in the store: its name, where it came from and when (ISO 8601 UTC)."""

    name: str
    source: str
    fetched_at: str


class PatrolAreaStore:
    """Named patrol areas, downloaded layers and a download cache in one GeoPackage.

    Parameters
    ----------
    path
        The ``.gpkg`` file (an application's is :attr:`geodata.settings.Settings.store_path`).
        It need not exist: reading a missing store gives empty results and the first change
        creates it.

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import box
    >>> store = PatrolAreaStore(Path(tempfile.mkdtemp()) / "store.gpkg")
    >>> store.add("Town Centre", box(537_000, 189_000, 538_000, 189_500), by="ann")
    >>> store.rename("town centre", "High Street", by="bob")
    >>> store.list()[["patrol_area", "created_by", "updated_by"]].to_dict("records")
    [{'patrol_area': 'High Street', 'created_by': 'ann', 'updated_by': 'bob'}]
    >>> round(store.list().area.iloc[0])
    500000
    """

    path: Path

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if isinstance(path, (str, os.PathLike)):
            if not str(path).strip():
                raise ParameterError("store path is empty; give a .gpkg file name.")
            resolved = Path(path).expanduser()
        else:
            raise ParameterError(
                f"store path must be a file path, got {type(path).__name__}; "
                "give a .gpkg file name."
            )
        if resolved.suffix.lower() != ".gpkg":
            raise ParameterError(
                f"store path {resolved} does not end in .gpkg; give a GeoPackage file name "
                "such as store.gpkg."
            )
        if resolved.is_dir():
            raise ParameterError(
                f"store path {resolved} is a folder; give a file name inside it, "
                f"e.g. {resolved / 'store.gpkg'}."
            )
        self.path = resolved

    def __repr__(self) -> str:
        return f"PatrolAreaStore({str(self.path)!r})"

    # -- patrol areas ----------------------------------------------------------------------

    def list(self) -> gpd.GeoDataFrame:
        """All patrol areas, sorted by name.

        Returns
        -------
        geopandas.GeoDataFrame
            Columns :data:`AREA_COLUMNS`, CRS EPSG:27700; no rows (same columns) when the store
            is missing or holds no areas.
        """
        conn = self._open_for_reading()
        if conn is None:
            return _areas_frame([])
        with self._sqlite_errors(), _closing(conn):
            rows = conn.execute(
                "SELECT patrol_area, created_by, created_at, updated_by, updated_at, note,"
                f' "{_GEOM}" FROM "{_AREAS}"'
            ).fetchall()
        rows.sort(key=lambda row: (str(row[0] or "").casefold(), str(row[0] or "")))
        return _areas_frame(rows)

    def add(
        self,
        name: str,
        geometry: Polygon | MultiPolygon,
        *,
        crs: str | CRS = _BNG,
        by: str = "",
        note: str = "",
    ) -> None:
        """Add a patrol area.

        Parameters
        ----------
        name
            Unique name (case-insensitive), 1 to :data:`MAX_NAME_LENGTH` characters, one line;
            surrounding spaces are removed.
        geometry
            Polygon or MultiPolygon in ``crs``; it is reprojected to EPSG:27700 and, if
            invalid, repaired (:func:`shapely.make_valid`, keeping the polygonal parts).
        crs
            CRS of ``geometry``, e.g. ``"EPSG:4326"`` for longitude/latitude.
        by
            Who adds it (default: the operating-system user name).
        note
            Free text kept with the area.
        """
        clean = _check_name(name)
        geom = _prepare_geometry(geometry, crs, what=f"patrol area {clean!r}")
        text = _check_text(note, "note")
        who = _who(by)

        def change(conn: sqlite3.Connection) -> None:
            names = _area_names(conn)
            _refuse_duplicate(clean, names, self.path)
            now = _now()
            _insert_area(conn, clean, geom, who, now, text)
            _touch_areas(conn, now)

        self._write(change)
        log.info("added patrol area %r to %s", clean, self.path)

    def rename(self, old: str, new: str, *, by: str = "") -> None:
        """Rename patrol area ``old`` (case-insensitive) to ``new``."""
        old_name = _check_name(old, argument="old")
        new_name = _check_name(new, argument="new")
        who = _who(by)

        def change(conn: sqlite3.Connection) -> None:
            names = _area_names(conn)
            fid, stored = _lookup(old_name, names, self.path)
            others = {f: n for f, n in names.items() if f != fid}
            clash = _find_name(new_name, others)
            if clash is not None:
                raise ParameterError(
                    f"cannot rename patrol area {stored!r} to {new_name!r}: an area named "
                    f"{others[clash]!r} already exists; choose another name or delete that area."
                )
            now = _now()
            conn.execute(
                f'UPDATE "{_AREAS}" SET patrol_area = ?, updated_by = ?, updated_at = ?'
                " WHERE fid = ?",
                (new_name, who, now, fid),
            )
            _touch_areas(conn, now)

        self._write(change)
        log.info("renamed patrol area %r to %r in %s", old_name, new_name, self.path)

    def replace(
        self,
        name: str,
        geometry: Polygon | MultiPolygon,
        *,
        crs: str | CRS = _BNG,
        by: str = "",
    ) -> None:
        """Replace the boundary of patrol area ``name`` (case-insensitive); see :meth:`add`."""
        clean = _check_name(name)
        geom = _prepare_geometry(geometry, crs, what=f"patrol area {clean!r}")
        who = _who(by)

        def change(conn: sqlite3.Connection) -> None:
            fid, _ = _lookup(clean, _area_names(conn), self.path)
            now = _now()
            conn.execute(
                f'UPDATE "{_AREAS}" SET "{_GEOM}" = ?, updated_by = ?, updated_at = ?'
                " WHERE fid = ?",
                (_to_gpkg_blob(geom), who, now, fid),
            )
            _touch_areas(conn, now)

        self._write(change)
        log.info("replaced the boundary of patrol area %r in %s", clean, self.path)

    def delete(self, name: str) -> None:
        """Delete patrol area ``name`` (case-insensitive)."""
        clean = _check_name(name)

        def change(conn: sqlite3.Connection) -> None:
            fid, _ = _lookup(clean, _area_names(conn), self.path)
            conn.execute(f'DELETE FROM "{_AREAS}" WHERE fid = ?', (fid,))
            _touch_areas(conn, _now())

        self._write(change)
        log.info("deleted patrol area %r from %s", clean, self.path)

    def import_layer(
        self, areas: gpd.GeoDataFrame, *, name_column: str = "patrol_area", by: str = ""
    ) -> int:
        """Add every row of ``areas`` as a patrol area, all or none.

        Parameters
        ----------
        areas
            Polygons in any CRS (it must be set); a ``note`` column, if present, is kept.
        name_column
            The column holding each area's name.
        by
            Who imports them (default: the operating-system user name).

        Returns
        -------
        int
            The number of areas added.
        """
        if not isinstance(areas, gpd.GeoDataFrame):
            raise ParameterError(
                f"areas must be a GeoDataFrame, got {type(areas).__name__}; "
                "read the file with geopandas.read_file first."
            )
        if not isinstance(name_column, str) or name_column not in areas.columns:
            shown = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
            raise ParameterError(
                f"name_column {name_column!r} is not a column of the areas; "
                f"choose one of: {shown or '(no columns)'}."
            )
        if areas.crs is None:
            raise ParameterError(
                "areas has no CRS; set the CRS its coordinates are in, "
                "e.g. areas.set_crs('EPSG:4326')."
            )
        who = _who(by)
        source_crs = areas.crs
        prepared: builtins.list[tuple[str, MultiPolygon, str]] = []
        seen: dict[str, str] = {}
        notes = areas["note"] if "note" in areas.columns else None
        for row, (raw, geometry) in enumerate(
            zip(areas[name_column], areas.geometry, strict=True), start=1
        ):
            if raw is None or (not isinstance(raw, str) and pd.isna(raw)):
                raise ParameterError(
                    f"row {row} of the areas has no {name_column}; give every area a name."
                )
            shown = str(raw).strip()
            shown = f"{shown[:40]!r}{'…' if len(shown) > 40 else ''}"
            clean = _check_name(str(raw), argument=f"{shown} (area {row} of those given)")
            key = clean.casefold()
            if key in seen:
                also = "" if seen[key] == clean else f" and {clean!r} (names compare without case)"
                raise ParameterError(
                    f"two of the areas given are named {seen[key]!r}{also}; give each area its "
                    "own name in the file, then save them again."
                )
            seen[key] = clean
            geom = _prepare_geometry(
                geometry, source_crs, what=f"patrol area {clean!r} (row {row})"
            )
            note_value = "" if notes is None else notes.iloc[row - 1]
            note = "" if note_value is None or pd.isna(note_value) else str(note_value)
            prepared.append((clean, geom, note))

        def change(conn: sqlite3.Connection) -> None:
            names = _area_names(conn)
            now = _now()
            for clean, geom, note in prepared:
                _refuse_duplicate(clean, names, self.path)
                _insert_area(conn, clean, geom, who, now, note)
            if prepared:
                _touch_areas(conn, now)

        if prepared:
            self._write(change)
        log.info("imported %d patrol areas into %s", len(prepared), self.path)
        return len(prepared)

    # -- reference layers ------------------------------------------------------------------

    def put_layer(self, name: str, gdf: gpd.GeoDataFrame, *, source: str, by: str = "") -> None:
        """Store ``gdf`` as reference layer ``name``, replacing any layer of that name.

        Parameters
        ----------
        name
            Lower-case letters, digits and ``_``, starting with a letter (e.g. ``wards_2024``).
        gdf
            The layer, in a CRS with an EPSG code (kept as given).
        source
            Where it came from (a URL), shown by :meth:`layers`.
        by
            Who fetched it (default: the operating-system user name).
        """
        table = _check_layer_name(name)
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise ParameterError(
                f"the layer for {name!r} must be a GeoDataFrame, got {type(gdf).__name__}."
            )
        if gdf.crs is None or gdf.crs.to_epsg() is None:
            raise ParameterError(
                f"layer {name!r} has no CRS with an EPSG code; set or reproject it first, "
                "e.g. gdf.to_crs('EPSG:27700')."
            )
        src_text = _check_text(source, "source")
        who = _who(by)
        with tempfile.TemporaryDirectory(prefix="hotspots-store-") as tmp:
            staged = Path(tmp) / "layer.gpkg"
            options: dict[str, Any] = {}
            if len(gdf) == 0 or gdf.geometry.isna().all():
                options["geometry_type"] = "Unknown"
            try:
                pyogrio.write_dataframe(gdf, staged, layer=table, driver="GPKG", **options)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, ValueError) as exc:
                raise ParameterError(
                    f"layer {name!r} cannot be written to a GeoPackage "
                    f"({_first_line(exc)}); check its columns and geometries."
                ) from exc

            def change(conn: sqlite3.Connection) -> None:
                _drop_layer(conn, table)
                _copy_layer(conn, "src", table)
                conn.execute(
                    f"INSERT OR REPLACE INTO {_LAYERS} (name, source, fetched_at, fetched_by)"
                    " VALUES (?, ?, ?, ?)",
                    (table, src_text, _now(), who),
                )

            self._write(change, attach=staged)
        log.info("stored layer %r (%d features) in %s", table, len(gdf), self.path)

    def get_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Reference layer ``name`` as stored, or ``None`` when the store does not have it."""
        table = _check_layer_name(name)
        conn = self._open_for_reading()
        if conn is None:
            return None
        with self._sqlite_errors(), _closing(conn):
            found = conn.execute(f"SELECT name FROM {_LAYERS} WHERE name = ?", (table,)).fetchone()
        if found is None:
            return None
        try:
            frame = pyogrio.read_dataframe(self.path, layer=table)
        except pyogrio.errors.DataSourceError as exc:
            raise InputFileError(
                f"{self.path}: layer {table!r} cannot be read ({_first_line(exc)}); fetch it again."
            ) from exc
        return frame

    def layers(self) -> builtins.list[LayerInfo]:
        """The stored reference layers as ``(name, source, fetched_at)``, sorted by name."""
        conn = self._open_for_reading()
        if conn is None:
            return []
        with self._sqlite_errors(), _closing(conn):
            rows = conn.execute(
                f"SELECT name, source, fetched_at FROM {_LAYERS} ORDER BY name"
            ).fetchall()
        return [LayerInfo(str(n), str(s), str(f)) for n, s, f in rows]

    # -- download cache --------------------------------------------------------------------

    def cache_get(self, key: str, *, max_age: float | None = None) -> bytes | None:
        """The bytes cached under ``key``, or ``None``.

        Parameters
        ----------
        key
            Any non-empty text (e.g. a URL).
        max_age
            Seconds; an entry stored longer ago than this counts as missing.
        """
        checked = _check_key(key)
        if max_age is not None and (not isinstance(max_age, (int, float)) or max_age < 0):
            raise ParameterError(f"max_age must be a number of seconds >= 0, got {max_age!r}.")
        conn = self._open_for_reading()
        if conn is None:
            return None
        with self._sqlite_errors(), _closing(conn):
            row = conn.execute(
                f"SELECT data, stored_at FROM {_CACHE} WHERE key = ?", (checked,)
            ).fetchone()
        if row is None:
            return None
        if max_age is not None:
            stored = datetime.strptime(str(row[1]), "%Y-%m-%dT%H:%M:%S.%fZ")
            age = datetime.now(UTC) - stored.replace(tzinfo=UTC)
            if age.total_seconds() > max_age:
                return None
        return bytes(row[0])

    def cache_put(self, key: str, data: bytes) -> None:
        """Cache ``data`` under ``key``, replacing what was there."""
        checked = _check_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ParameterError(f"cache data must be bytes, got {type(data).__name__}.")
        blob = bytes(data)

        def change(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT OR REPLACE INTO {_CACHE} (key, data, stored_at) VALUES (?, ?, ?)",
                (checked, blob, _now()),
            )

        self._write(change)

    # -- health ----------------------------------------------------------------------------

    def check(self) -> None:
        """Check the whole file; raise :class:`InputFileError` naming the first problem.

        Runs SQLite's ``integrity_check`` and checks that the patrol areas, their spatial index
        and feature count agree, every area has a valid polygonal boundary and a unique name,
        and every listed reference layer has its table. A missing store passes.
        """
        conn = self._open_for_reading()
        if conn is None:
            return
        with self._sqlite_errors(), _closing(conn):
            problems = _problems(conn)
        if problems:
            raise InputFileError(
                f"{self.path} is damaged ({problems[0]}); restore it from a backup, or move it "
                "away and start a new store."
            )

    # -- plumbing --------------------------------------------------------------------------

    def _open_for_reading(self) -> sqlite3.Connection | None:
        """A checked connection to the store, or ``None`` when it does not exist (yet).

        Opening read-write lets SQLite roll back a change a killed writer left half done.
        """
        if not self.path.exists():
            return None
        with self._sqlite_errors():
            conn = _connect(self.path, create=False)
            try:
                state = _state(conn, self.path)
            except BaseException:
                conn.close()
                raise
        if state == "new":
            conn.close()
            return None
        return conn

    def _write(
        self, change: Callable[[sqlite3.Connection], _T], *, attach: Path | None = None
    ) -> _T:
        """Apply ``change`` in one transaction, creating the store first if needed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputFileError(
                f"{self.path}: cannot create its folder ({exc.strerror}); choose another "
                "store path."
            ) from exc
        with (
            self._sqlite_errors(),
            tempfile.TemporaryDirectory(prefix="hotspots-store-") as tmp,
        ):
            conn = _connect(self.path, create=True)
            attached: builtins.list[str] = []
            try:
                if _state(conn, self.path) == "new":
                    template = _make_template(Path(tmp))
                    conn.execute("ATTACH DATABASE ? AS tmpl", (str(template),))
                    attached.append("tmpl")
                if attach is not None:
                    conn.execute("ATTACH DATABASE ? AS src", (str(attach),))
                    attached.append("src")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if _state(conn, self.path) == "new":
                        if "tmpl" not in attached:
                            raise InputFileError(
                                f"{self.path} was emptied while being written; try again."
                            )
                        _initialise(conn)
                    else:
                        _refuse_damaged(conn, self.path)
                    result = change(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                for schema in attached:
                    conn.execute(f"DETACH DATABASE {schema}")
            finally:
                conn.close()
        return result

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        """Turn SQLite failures into one-line :class:`InputFileError` naming the store."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise _file_error(self.path, exc) from exc


# -- connections and state -------------------------------------------------------------------


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    mode = "rwc" if create else "rw"
    uri = f"{path.absolute().as_uri()}?mode={mode}"
    conn = sqlite3.connect(
        uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA synchronous = FULL")
    for name, func in (
        ("ST_IsEmpty", _st_is_empty),
        ("ST_MinX", _st_bound(0)),
        ("ST_MaxX", _st_bound(1)),
        ("ST_MinY", _st_bound(2)),
        ("ST_MaxY", _st_bound(3)),
    ):
        conn.create_function(name, 1, func, deterministic=True)
    return conn


@contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


def _state(conn: sqlite3.Connection, path: Path) -> str:
    """``"new"`` for an empty database, ``"ok"`` for a hotspots store; else raise."""
    tables = {
        str(r[0]).lower()
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    }
    if not tables:
        return "new"
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if _META not in tables:
        if application_id != _GPKG_APPLICATION_ID and "gpkg_contents" not in tables:
            raise InputFileError(
                f"{path} is an SQLite database but not a GeoPackage made by hotspots; "
                "choose another store path or move it away."
            )
        raise InputFileError(
            f"{path} was not made by hotspots (it has no {_META} table); choose another store "
            "path or move it away."
        )
    rows = dict(conn.execute(f"SELECT key, value FROM {_META}").fetchall())
    version_text = str(rows.get("format_version", ""))
    if not version_text.isdigit():
        raise InputFileError(
            f"{path} is damaged (its store format version is {version_text or 'missing'!r}); "
            "restore it from a backup, or move it away and start a new store."
        )
    if int(version_text) > FORMAT_VERSION:
        made_by = rows.get("created_by_app", "a newer hotspots")
        raise InputFileError(
            f"{path} was made by a newer version of hotspots ({made_by}, store format "
            f"{version_text}; this version reads format {FORMAT_VERSION}); upgrade hotspots "
            "or choose another store path."
        )
    missing = sorted({_AREAS, _LAYERS, _CACHE, "gpkg_contents"} - tables)
    if missing:
        raise InputFileError(
            f"{path} is damaged (table {missing[0]} is missing); restore it from a backup, "
            "or move it away and start a new store."
        )
    return "ok"


def _refuse_damaged(conn: sqlite3.Connection, path: Path) -> None:
    """Raise before writing into a damaged file (``quick_check``: ~30 ms for 50 MB)."""
    verdict = [str(r[0]) for r in conn.execute("PRAGMA quick_check(1)").fetchall()]
    if verdict != ["ok"]:
        raise InputFileError(
            f"{path} is damaged ({verdict[0] if verdict else 'quick_check failed'}); restore it "
            "from a backup, or move it away and start a new store."
        )


def _file_error(path: Path, exc: sqlite3.DatabaseError) -> InputFileError:
    message = _first_line(exc)
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return InputFileError(
            f"{path} is busy: another hotspots session has been writing to it for over "
            f"{_BUSY_TIMEOUT_S:.0f} s; try again in a moment."
        )
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return InputFileError(
            f"{path} cannot be opened ({message}); check the file and folder permissions "
            "or choose another store path."
        )
    if "not a database" in lowered and not _has_sqlite_header(path):
        return InputFileError(
            f"{path} is not a GeoPackage (not an SQLite file); choose another store path "
            "or move it away."
        )
    return InputFileError(
        f"{path} is damaged ({message}); restore it from a backup, or move it away and "
        "start a new store."
    )


def _has_sqlite_header(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


# -- creating the store ----------------------------------------------------------------------


def _make_template(folder: Path) -> Path:
    """An empty GeoPackage with the ``patrol_areas`` layer, written by GDAL."""
    path = folder / "template.gpkg"
    text = pd.Series([], dtype="str")
    when = pd.Series([], dtype="datetime64[ms, UTC]")
    empty = gpd.GeoDataFrame(
        {
            "patrol_area": text,
            "created_by": text,
            "created_at": when,
            "updated_by": text,
            "updated_at": when,
            "note": text,
        },
        geometry=gpd.GeoSeries([], crs=_BNG),
    )
    pyogrio.write_dataframe(empty, path, layer=_AREAS, driver="GPKG", geometry_type="MultiPolygon")
    return path


def _initialise(conn: sqlite3.Connection) -> None:
    """Copy the attached ``tmpl`` GeoPackage into the empty main database, add our tables."""
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM tmpl.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    ]
    _copy_tables(conn, "tmpl", tables)
    for pragma in ("application_id", "user_version"):
        value = int(conn.execute(f"PRAGMA tmpl.{pragma}").fetchone()[0])
        conn.execute(f"PRAGMA main.{pragma} = {value}")
    conn.execute(f'CREATE UNIQUE INDEX "{_AREAS}_name" ON "{_AREAS}" (patrol_area COLLATE NOCASE)')
    # Registering the metadata table as GeoPackage "attributes" also tells GDAL to list only
    # registered tables, so the cache and layer list stay out of QGIS's layer list.
    conn.execute(
        f"CREATE TABLE {_META} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " key TEXT UNIQUE NOT NULL, value TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
        " VALUES (?, 'attributes', ?, 'hotspots store: format version and origin', ?)",
        (_META, _META, _now()),
    )
    conn.execute(
        f"CREATE TABLE {_LAYERS} (name TEXT PRIMARY KEY NOT NULL, source TEXT NOT NULL,"
        " fetched_at TEXT NOT NULL, fetched_by TEXT NOT NULL DEFAULT '')"
    )
    conn.execute(
        f"CREATE TABLE {_CACHE} (key TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,"
        " stored_at TEXT NOT NULL)"
    )
    conn.executemany(
        f"INSERT INTO {_META} (key, value) VALUES (?, ?)",
        [
            ("format_version", str(FORMAT_VERSION)),
            ("created_by_app", f"hotspots {_app_version()}"),
            ("created_at", _now()),
        ],
    )


def _app_version() -> str:
    try:
        return importlib.metadata.version("hotspots")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# -- copying layers between attached databases -----------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_tables(conn: sqlite3.Connection, src: str, tables: builtins.list[str]) -> None:
    """Copy ``tables`` (schema, rows, indexes, triggers) from schema ``src`` into main.

    R-tree shadow tables are skipped: creating the virtual table makes them.
    """
    objects = conn.execute(
        f"SELECT type, name, tbl_name, sql FROM {src}.sqlite_master WHERE sql IS NOT NULL"
    ).fetchall()
    virtual = {
        str(name).lower()
        for kind, name, _, sql in objects
        if kind == "table" and str(sql).upper().startswith("CREATE VIRTUAL TABLE")
    }
    shadows = {f"{v}_{suffix}" for v in virtual for suffix in ("node", "parent", "rowid")}
    wanted = {t.lower() for t in tables} - shadows
    for kind, name, _, sql in objects:
        if kind == "table" and str(name).lower() in wanted:
            conn.execute(str(sql))
            conn.execute(f"INSERT INTO main.{_quote(name)} SELECT * FROM {src}.{_quote(name)}")
    for wanted_kind in ("index", "trigger"):
        for kind, _, table, sql in objects:
            if kind == wanted_kind and str(table).lower() in wanted:
                conn.execute(str(sql))
    if "sqlite_sequence" in _table_names(conn, src):
        for name, seq in conn.execute(f"SELECT name, seq FROM {src}.sqlite_sequence").fetchall():
            if str(name).lower() in wanted:
                conn.execute("DELETE FROM main.sqlite_sequence WHERE name = ?", (name,))
                conn.execute(
                    "INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq)
                )


def _table_names(conn: sqlite3.Connection, schema: str) -> set[str]:
    rows = conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
    return {str(r[0]).lower() for r in rows.fetchall()}


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> builtins.list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA {schema}.table_info({_quote(table)})")]


def _gpkg_registries(conn: sqlite3.Connection, schema: str) -> builtins.list[str]:
    """GeoPackage metadata tables that list tables by ``table_name`` (contents, extensions...)."""
    found = []
    for name in sorted(_table_names(conn, schema)):
        if name.startswith("gpkg_") and "table_name" in _columns(conn, schema, name):
            found.append(name)
    return found


def _rtrees(conn: sqlite3.Connection, schema: str, table: str) -> builtins.list[tuple[str, str]]:
    """The R-tree spatial index tables of feature table ``table`` in ``schema``, with the
    geometry column each indexes."""
    tables = _table_names(conn, schema)
    if "gpkg_geometry_columns" not in tables:
        return []
    columns = conn.execute(
        f"SELECT column_name FROM {schema}.gpkg_geometry_columns"
        " WHERE lower(table_name) = lower(?)",
        (table,),
    ).fetchall()
    pairs = [(f"rtree_{table}_{column}", str(column)) for (column,) in columns]
    return [(name, column) for name, column in pairs if name.lower() in tables]


def _drop_layer(conn: sqlite3.Connection, table: str) -> None:
    """Remove ``table`` and everything GeoPackage keeps about it from main."""
    existing = _table_names(conn, "main")
    for name, _ in _rtrees(conn, "main", table):
        conn.execute(f"DROP TABLE main.{_quote(name)}")
    conn.execute(f"DROP TABLE IF EXISTS main.{_quote(table)}")
    for registry in _gpkg_registries(conn, "main"):
        conn.execute(f"DELETE FROM main.{registry} WHERE lower(table_name) = lower(?)", (table,))
    if "sqlite_sequence" in existing:
        conn.execute("DELETE FROM main.sqlite_sequence WHERE lower(name) = lower(?)", (table,))


def _copy_layer(conn: sqlite3.Connection, src: str, table: str) -> None:
    """Copy feature table ``table`` written by GDAL in schema ``src`` into main."""
    _copy_tables(conn, src, [table, *(name for name, _ in _rtrees(conn, src, table))])
    srs_ids = {
        int(r[0])
        for r in conn.execute(
            f"SELECT srs_id FROM {src}.gpkg_contents WHERE lower(table_name) = lower(?)"
            f" UNION SELECT srs_id FROM {src}.gpkg_geometry_columns"
            " WHERE lower(table_name) = lower(?)",
            (table, table),
        ).fetchall()
        if r[0] is not None
    }
    for srs_id in sorted(srs_ids):
        theirs = conn.execute(
            f"SELECT organization, organization_coordsys_id FROM {src}.gpkg_spatial_ref_sys"
            " WHERE srs_id = ?",
            (srs_id,),
        ).fetchone()
        ours = conn.execute(
            "SELECT organization, organization_coordsys_id FROM main.gpkg_spatial_ref_sys"
            " WHERE srs_id = ?",
            (srs_id,),
        ).fetchone()
        if ours is None:
            conn.execute(
                "INSERT INTO main.gpkg_spatial_ref_sys"
                f" SELECT * FROM {src}.gpkg_spatial_ref_sys WHERE srs_id = ?",
                (srs_id,),
            )
        elif theirs is not None and (str(ours[0]).upper(), ours[1]) != (
            str(theirs[0]).upper(),
            theirs[1],
        ):
            raise ParameterError(
                f"layer {table!r}: its CRS clashes with another CRS in the store "
                f"(srs_id {srs_id}); reproject it, e.g. gdf.to_crs('EPSG:27700')."
            )
    ours_registries = set(_gpkg_registries(conn, "main"))
    src_objects = dict(
        conn.execute(f"SELECT name, sql FROM {src}.sqlite_master WHERE type = 'table'").fetchall()
    )
    for registry in _gpkg_registries(conn, src):
        if registry == "gpkg_spatial_ref_sys":
            continue
        if registry not in ours_registries:
            conn.execute(str(src_objects[registry]))
        columns = [
            c for c in _columns(conn, src, registry) if c in _columns(conn, "main", registry)
        ]
        listed = ", ".join(_quote(c) for c in columns)
        conn.execute(
            f"INSERT INTO main.{registry} ({listed}) SELECT {listed} FROM {src}.{registry}"
            " WHERE lower(table_name) = lower(?)",
            (table,),
        )


# -- patrol area rows ------------------------------------------------------------------------


def _area_names(conn: sqlite3.Connection) -> dict[int, str]:
    rows = conn.execute(f'SELECT fid, patrol_area FROM "{_AREAS}"').fetchall()
    return {int(fid): str(name or "") for fid, name in rows}


def _find_name(name: str, names: Mapping[int, str]) -> int | None:
    key = name.casefold()
    for fid, stored in names.items():
        if stored.casefold() == key:
            return fid
    return None


def _refuse_duplicate(name: str, names: dict[int, str], path: Path) -> None:
    clash = _find_name(name, names)
    if clash is not None:
        raise ParameterError(
            f"a patrol area named {names[clash]!r} already exists in {path.name}; choose "
            "another name, or delete the saved one first."
        )


def _lookup(name: str, names: Mapping[int, str], path: Path) -> tuple[int, str]:
    fid = _find_name(name, names)
    if fid is None:
        known = sorted(names.values(), key=str.casefold)
        if not known:
            hint = "the store has no patrol areas yet; add one first."
        else:
            shown = ", ".join(repr(n) for n in known[:10])
            more = f" and {len(known) - 10} more" if len(known) > 10 else ""
            hint = f"choose one of: {shown}{more}."
        raise ParameterError(f"no patrol area named {name!r} in {path.name}; {hint}")
    return fid, names[fid]


def _insert_area(
    conn: sqlite3.Connection, name: str, geom: MultiPolygon, who: str, now: str, note: str
) -> None:
    conn.execute(
        f'INSERT INTO "{_AREAS}" ("{_GEOM}", patrol_area, created_by, created_at, updated_by,'
        " updated_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (_to_gpkg_blob(geom), name, who, now, who, now, note),
    )


def _touch_areas(conn: sqlite3.Connection, now: str) -> None:
    """Record the change time and extent of ``patrol_areas`` in ``gpkg_contents``."""
    extent = conn.execute(
        f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{_AREAS}_{_GEOM}"'
    ).fetchone()
    conn.execute(
        "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ?"
        " WHERE table_name = ?",
        (now, *extent, _AREAS),
    )


def _areas_frame(rows: builtins.list[Any]) -> gpd.GeoDataFrame:
    columns: dict[str, Any] = {}
    for i, column in enumerate(AREA_COLUMNS[:-1]):
        columns[column] = pd.Series(["" if r[i] is None else str(r[i]) for r in rows], dtype="str")
    geoms = [_from_gpkg_blob(r[-1]) for r in rows]
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=_BNG), crs=_BNG)


def _problems(conn: sqlite3.Connection) -> builtins.list[str]:
    problems = [
        str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"
    ]
    if problems:
        return problems
    tables = _table_names(conn, "main")
    for (table,) in conn.execute("SELECT table_name FROM gpkg_geometry_columns").fetchall():
        if str(table).lower() not in tables:
            problems.append(f"layer {table!r} is registered but its table is missing")
            continue
        count = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
        for rtree, column in _rtrees(conn, "main", table):
            indexed = conn.execute(f"SELECT count(*) FROM {_quote(rtree)}").fetchone()[0]
            column_sql = _quote(column)
            nonempty = conn.execute(
                f"SELECT count(*) FROM {_quote(table)}"
                f" WHERE {column_sql} IS NOT NULL AND NOT ST_IsEmpty({column_sql})"
            ).fetchone()[0]
            if indexed != nonempty:
                problems.append(f"layer {table!r}: {count} features, {indexed} in its index")
        counted = conn.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)",
            (table,),
        ).fetchone()
        if counted is not None and counted[0] is not None and counted[0] != count:
            problems.append(f"layer {table!r}: {count} features, a feature count of {counted[0]}")
    seen: set[str] = set()
    for name, blob in conn.execute(f'SELECT patrol_area, "{_GEOM}" FROM "{_AREAS}"'):
        key = str(name or "").casefold()
        if not key.strip():
            problems.append("a patrol area without a name")
        elif key in seen:
            problems.append(f"patrol area name {name!r} twice")
        seen.add(key)
        try:
            geom = _from_gpkg_blob(blob)
        except (ValueError, shapely.errors.GEOSException) as exc:
            problems.append(f"patrol area {name!r} has an unreadable boundary ({exc})")
            continue
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"patrol area {name!r} has no polygon boundary")
        elif not geom.is_valid:
            problems.append(f"patrol area {name!r} has an invalid boundary")
    for (layer,) in conn.execute(f"SELECT name FROM {_LAYERS}").fetchall():
        if str(layer).lower() not in tables:
            problems.append(f"layer {layer!r} is listed but its table is missing")
    return problems


# -- GeoPackage geometry blobs ---------------------------------------------------------------


def _to_gpkg_blob(geom: BaseGeometry, srs_id: int = _BNG_SRS_ID) -> bytes:
    """GeoPackage geometry: ``GP`` header (little-endian, xy envelope) + ISO WKB."""
    minx, miny, maxx, maxy = geom.bounds
    header = struct.pack("<2sBBi4d", b"GP", 0, 0b0000_0011, srs_id, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")


def _split_blob(blob: bytes) -> tuple[int, tuple[float, ...] | None, bool]:
    """Header length, envelope (minx, maxx, miny, maxy) if any, and the empty flag."""
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    indicator = (flags >> 1) & 0b111
    if indicator not in _ENVELOPE_BYTES:
        raise ValueError(f"bad envelope indicator {indicator}")
    size = 8 + _ENVELOPE_BYTES[indicator]
    order = "<" if flags & 1 else ">"
    envelope = struct.unpack(f"{order}4d", blob[8:40]) if indicator else None
    return size, envelope, bool(flags & 0b1_0000)


def _from_gpkg_blob(blob: bytes | None) -> BaseGeometry | None:
    if blob is None:
        return None
    data = bytes(blob)
    size, _, _ = _split_blob(data)
    return shapely.from_wkb(data[size:])


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    data = bytes(blob)
    size, _, empty = _split_blob(data)
    return int(empty or shapely.from_wkb(data[size:]).is_empty)


def _st_bound(index: int) -> Callable[[bytes | None], float | None]:
    """SQL function returning minx (0), maxx (1), miny (2) or maxy (3) of a geometry blob."""

    def bound(blob: bytes | None) -> float | None:
        if blob is None:
            return None
        data = bytes(blob)
        size, envelope, empty = _split_blob(data)
        if empty:
            return None
        if envelope is None:
            minx, miny, maxx, maxy = shapely.from_wkb(data[size:]).bounds
            envelope = (minx, maxx, miny, maxy)
        return float(envelope[index])

    return bound


# -- validation ------------------------------------------------------------------------------


def _check_name(name: object, *, argument: str = "name") -> str:
    if not isinstance(name, str):
        raise ParameterError(
            f"patrol area {argument} must be text, got {type(name).__name__}; "
            "give a name such as 'Town Centre'."
        )
    clean = name.strip()
    if not clean:
        raise ParameterError(
            "the patrol area's name is empty; give it a name such as 'Town Centre'."
        )
    if len(clean) > MAX_NAME_LENGTH:
        raise ParameterError(
            f"patrol area {argument} is {len(clean)} characters long; shorten it to at most "
            f"{MAX_NAME_LENGTH}."
        )
    if _CONTROL.search(clean):
        raise ParameterError(
            f"patrol area {argument} {clean[:40]!r} has a line break or control character; "
            "use one line of text."
        )
    return clean


def _check_text(value: object, argument: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParameterError(f"{argument} must be text, got {type(value).__name__}.")
    return value


def _check_layer_name(name: object) -> str:
    if not isinstance(name, str) or not _LAYER_NAME.fullmatch(name):
        raise ParameterError(
            f"layer name {name!r} is not allowed; use lower-case letters, digits and _, "
            "starting with a letter (e.g. 'wards_2024')."
        )
    if name == _AREAS or name.startswith(_RESERVED_PREFIXES):
        raise ParameterError(
            f"layer name {name!r} is reserved by the store; choose another (e.g. 'wards_2024')."
        )
    return name


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ParameterError(f"cache key must be non-empty text, got {key!r}.")
    return key


def _who(by: object) -> str:
    text = _check_text(by, "by").strip()
    if text:
        return text
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


def _now() -> str:
    """The current time as GeoPackage wants it: ``YYYY-MM-DDTHH:MM:SS.SSSZ`` (UTC)."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _prepare_geometry(geometry: object, crs: str | CRS, *, what: str) -> MultiPolygon:
    """Check, reproject to EPSG:27700 and repair one boundary; return it as a MultiPolygon."""
    if not isinstance(geometry, BaseGeometry):
        raise ParameterError(
            f"the boundary of {what} must be a shapely Polygon or MultiPolygon, got "
            f"{type(geometry).__name__}; draw or load an area."
        )
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise ParameterError(
            f"the boundary of {what} is a {geometry.geom_type}, not a polygon; draw an area "
            "(a closed shape), not a point or line."
        )
    if geometry.is_empty:
        raise ParameterError(f"the boundary of {what} is empty; draw an area with a few corners.")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise ParameterError(
            f"the boundary of {what} has missing or infinite coordinates; draw it again."
        )
    source = parse_crs(crs, f"crs of {what}")
    if source is None:
        raise ParameterError(
            f"crs of {what}: none given; give the CRS of its coordinates, such as 'EPSG:4326' "
            "(longitude/latitude) or 'EPSG:27700'."
        )
    bng = CRS.from_user_input(_BNG)
    geom = shapely.force_2d(geometry)
    if source.equals(bng):
        west, south, east, north = geom.bounds
        if west >= -180 and east <= 180 and south >= -90 and north <= 90:
            raise ParameterError(
                f"the boundary of {what} has coordinates like longitude/latitude, not British "
                "National Grid metres; pass crs='EPSG:4326'."
            )
    else:
        geom = gpd.GeoSeries([geom], crs=source).to_crs(bng).iloc[0]
        if geom is None or not np.isfinite(shapely.get_coordinates(geom)).all():
            raise ParameterError(
                f"the boundary of {what} cannot be moved from {source.to_string()} to "
                "EPSG:27700; check its crs."
            )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        repaired = _polygonal_part(shapely.make_valid(geom))
        if repaired is None:
            raise ParameterError(
                f"the boundary of {what} is invalid ({reason}) and has no area once repaired; "
                "draw it again with its edges not crossing."
            )
        log.warning("repaired the boundary of %s (%s)", what, reason)
        geom = repaired
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty or geom.area <= 0:
        raise ParameterError(f"the boundary of {what} has no area; draw an area, not a line.")
    return geom


def _polygonal_part(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygons in ``geom`` (a make_valid result) as one valid MultiPolygon, or None."""
    polygons: builtins.list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(p for p in part.geoms if not p.is_empty)
        elif part.geom_type == "GeometryCollection":
            inner = _polygonal_part(part)
            if inner is not None:
                polygons.extend(inner.geoms)
    if not polygons:
        return None
    merged = MultiPolygon(polygons)
    if not merged.is_valid:
        union = shapely.union_all(polygons)
        merged = union if isinstance(union, MultiPolygon) else MultiPolygon([union])
    return merged if merged.area > 0 else None
