"""Read incident points from every supported format into one Incidents frame.

:func:`read_incidents` accepts data.police.uk street CSVs (one file, many, a folder tree or
the downloaded ``.zip``), data.police.uk API JSON (``crimes-street``), generic CSVs with
coordinate columns, and point layers in GeoJSON, GeoPackage, Shapefile (also zipped) and
GeoParquet. It returns the Incidents frame of DESIGN.md, projected to metres, and a
:class:`LoadReport` in which every row read is either used or counted under a named reason.

:func:`filter_incidents` keeps the months and crime types asked for and counts the rest
into the same report.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import json
import logging
import os
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from .archive import check_zip
from .columns import INCIDENT_COLUMNS
from .crs import WGS84, choose_crs, in_great_britain
from .errors import InputFileError, ParameterError

__all__ = [
    "AT_ZERO",
    "BAD_MONTH",
    "CRIME_TYPES",
    "CRIME_TYPE_SLUGS",
    "DUPLICATE_ID",
    "NOT_SELECTED_TYPE",
    "NO_COORDINATES",
    "OUTSIDE_PERIOD",
    "OUTSIDE_STUDY_AREA",
    "OUT_OF_RANGE",
    "LoadReport",
    "filter_incidents",
    "read_incidents",
]

log = logging.getLogger(__name__)

# --- reasons a row is not used (shown to users) -------------------------------------------
NO_COORDINATES = "no coordinates"
OUT_OF_RANGE = "coordinates out of range"
AT_ZERO = "at 0,0"
BAD_MONTH = "unparseable month"
DUPLICATE_ID = "duplicate id"
OUTSIDE_STUDY_AREA = "outside the study area"
OUTSIDE_PERIOD = "outside the period"
NOT_SELECTED_TYPE = "not a selected crime type"

# read_incidents assigns each dropped row the first reason that applies, in this order.
_REASONS: tuple[str, ...] = (
    NO_COORDINATES,
    OUT_OF_RANGE,
    AT_ZERO,
    BAD_MONTH,
    DUPLICATE_ID,
    OUTSIDE_STUDY_AREA,
)
_C_NOCOORD, _C_RANGE, _C_ZERO, _C_MONTH, _C_DUP, _C_AREA = range(1, 7)

#: data.police.uk API category slugs and the crime type names published in the street CSVs.
CRIME_TYPE_SLUGS: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
    # used until 2013
    "public-disorder-weapons": "Public disorder and weapons",
}

#: The 14 current data.police.uk crime types, as published.
CRIME_TYPES: list[str] = [
    name for slug, name in CRIME_TYPE_SLUGS.items() if slug != "public-disorder-weapons"
]

_STR_COLUMNS = ("incident_id", "category", "location", "lsoa_code", "outcome", "source")
_MAX_EXAMPLES = 5
# "Most points sit on very few map points": more than half the incidents on at most this
# many distinct coordinates, checked once there are enough incidents to judge.
_FEW_POINTS = 20
_FEW_POINTS_MIN_ROWS = 100

_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".geojson": "geojson"}
_KINDS |= {".gpkg": "gpkg", ".shp": "shp", ".parquet": "parquet", ".geoparquet": "parquet"}
_KINDS |= {".zip": "zip"}
_FOLDER_SKIP_KINDS = {".txt"}  # only read when named explicitly
_SIDECARS = {
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".qix",
    ".sbn",
    ".sbx",
    ".xml",
    ".qmd",
    ".qpj",
    ".fix",
}
_ACCEPTED_EXT = ".csv, .json, .geojson, .gpkg, .shp, .parquet or .zip"
_OTHER_DATASETS = {"-outcomes.csv": "outcomes", "-stop-and-search.csv": "stop-and-search"}
_STREET_HEADER = {"Crime ID", "Month", "Longitude", "Latitude", "Crime type"}

# Column names accepted in generic files, compared after _norm_name(); first match wins.
_LON_NAMES = ("longitude", "lon", "lng", "long")
_LAT_NAMES = ("latitude", "lat")
_X_NAMES = ("x", "easting", "eastings", "east", "xcoord", "xcoordinate", "coordx", "pointx")
_Y_NAMES = ("y", "northing", "northings", "north", "ycoord", "ycoordinate", "coordy", "pointy")
_ALIASES: dict[str, tuple[str, ...]] = {
    "incident_id": (
        "crimeid",
        "incidentid",
        "id",
        "persistentid",
        "caseid",
        "crimereference",
        "crimeref",
        "reference",
        "ref",
        "eventid",
        "occurrenceid",
    ),
    "month": ("month", "yearmonth", "period"),
    "date": (
        "date",
        "datetime",
        "incidentdate",
        "dateoccurred",
        "occurreddate",
        "occurred",
        "offencedate",
        "crimedate",
        "reporteddate",
        "datereported",
        "timestamp",
    ),
    "category": (
        "crimetype",
        "category",
        "offence",
        "offense",
        "offencetype",
        "offensetype",
        "offencecategory",
        "crimecategory",
        "offencegroup",
        "crime",
        "type",
    ),
    "location": ("location", "street", "streetname", "address", "place", "locationdescription"),
    "lsoa_code": ("lsoacode", "lsoa", "lsoa11cd", "lsoa21cd", "lsoa11code", "lsoa21code"),
    "outcome": (
        "lastoutcomecategory",
        "outcome",
        "lastoutcome",
        "outcomecategory",
        "outcometype",
        "status",
    ),
}

# Formats tried on month/date text, in order, with whether each carries a day. Numeric
# dates are read day first (05/11/2019 is 5 November), as in the UK.
_DATE_FORMATS: tuple[tuple[str, bool], ...] = (
    *[(f, False) for f in ("%Y-%m",)],
    *[(f, True) for f in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")],
    *[(f, True) for f in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d", "%d-%m-%Y")],
    *[(f, True) for f in ("%d.%m.%Y",)],
    *[(f, False) for f in ("%Y/%m", "%m/%Y", "%m-%Y", "%b %Y", "%B %Y", "%b-%Y", "%Y%m")],
    ("ISO8601", True),
)

_FloatArray = npt.NDArray[np.float64]


# ==========================================================================================
# The report
# ==========================================================================================
@dataclass
class LoadReport:
    """What :func:`read_incidents` read, used and dropped (and why).

    ``rows_read == rows_used + rows_dropped`` holds for a report returned by
    :func:`read_incidents` and after :func:`filter_incidents`.

    Attributes
    ----------
    rows_read, rows_used
        Rows (records, features) read from the inputs, and incidents in the frame.
    dropped
        Reason -> number of rows, e.g. ``{"no coordinates": 1190}``.
    examples
        Reason -> the first few places (at most 5), e.g. ``["2019-11-x-street.csv row 14"]``.
    warnings
        Plain-English sentences about automatic choices and suspicious data.
    inputs
        The files read, zip members as ``"x.zip!2019-01/2019-01-x-street.csv"``.
    crs
        The working CRS of the frame, e.g. ``"EPSG:27700"``.
    """

    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    crs: str = ""

    @property
    def rows_dropped(self) -> int:
        """Rows dropped for any reason."""
        return sum(self.dropped.values())

    def drop(self, reason: str, count: int, examples: Sequence[str] = ()) -> None:
        """Count ``count`` rows under ``reason`` (and keep up to 5 examples).

        Only ``dropped`` and ``examples`` change: a caller removing rows from the frame also
        lowers ``rows_used`` (as :func:`filter_incidents` does) to keep the totals adding up.
        A count of 0 records nothing.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if count == 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + int(count)
        kept = self.examples.setdefault(reason, [])
        for example in examples:
            if len(kept) >= _MAX_EXAMPLES:
                break
            kept.append(str(example))
        if not kept:
            del self.examples[reason]

    def copy(self) -> LoadReport:
        """A deep copy (to filter without changing the original)."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; ``rows_dropped`` is the reason -> count mapping here.

        >>> r = LoadReport(rows_read=3, rows_used=2)
        >>> r.drop("no coordinates", 1, ["a.csv row 2"])
        >>> r.to_dict()["rows_dropped"]
        {'no coordinates': 1}
        """
        return {
            "rows_read": int(self.rows_read),
            "rows_used": int(self.rows_used),
            "rows_dropped": {k: int(v) for k, v in self.dropped.items()},
            "examples": {k: list(v) for k, v in self.examples.items()},
            "warnings": list(self.warnings),
            "inputs": list(self.inputs),
            "crs": self.crs,
        }

    def lines(self) -> list[str]:
        """Human-readable summary lines for the CLI and the app.

        >>> r = LoadReport(rows_read=3, rows_used=2, inputs=["a.csv"], crs="EPSG:27700")
        >>> r.drop("no coordinates", 1, ["a.csv row 2"])
        >>> r.lines()[:2]
        ['Read 3 rows from 1 file; used 2.', 'Dropped 1: no coordinates (first: a.csv row 2).']
        """
        n_files = len(self.inputs)
        files = f" from {n_files:,} file{'s' if n_files != 1 else ''}" if n_files else ""
        out = [f"Read {self.rows_read:,} rows{files}; used {self.rows_used:,}."]
        for reason, count in self.dropped.items():
            ex = self.examples.get(reason)
            first = f" (first: {', '.join(ex)})" if ex else ""
            out.append(f"Dropped {count:,}: {reason}{first}.")
        if self.crs:
            out.append(f"Working CRS: {self.crs}.")
        out.extend(self.warnings)
        return out


# ==========================================================================================
# Sources: files, folder members and zip members
# ==========================================================================================
@dataclass(frozen=True)
class _Source:
    """One file to read: a file on disk, or a member of a zip archive on disk."""

    sort_key: tuple[str, str]
    display: str
    kind: str
    path: Path
    member: str | None = None

    def read_bytes(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)

    def ogr_path(self) -> str:
        if self.member is None:
            return str(self.path)
        return f"/vsizip/{self.path.resolve().as_posix()}/{self.member}"


@dataclass
class _Notes:
    """Warnings collected while reading, grouped so each kind is said once."""

    lines: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    no_month: list[str] = field(default_factory=list)
    cp1252: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)

    def flush(self) -> list[str]:
        out: list[str] = []
        if self.twice:
            out.append(f"{_some(self.twice)} given more than once; read once.")
        for kind, names in self.skipped.items():
            out.append(
                f"Skipped {len(names):,} data.police.uk {kind} file"
                f"{'s' if len(names) != 1 else ''} ({_some(names)}): another dataset, not "
                "street-level crimes."
            )
        if self.ignored:
            out.append(
                f"Ignored {len(self.ignored):,} file{'s' if len(self.ignored) != 1 else ''} "
                f"that are not incident data ({_some(self.ignored)})."
            )
        if self.cp1252:
            out.append(
                f"Not UTF-8 text, so read as Windows-1252 (cp1252): {_some(self.cp1252)}; "
                "check accented names."
            )
        if self.no_month:
            out.append(
                f"No month or date column in {_some(self.no_month)}: those incidents have no "
                "month, so period filters and trends leave them out."
            )
        return out + self.lines


def _some(names: Sequence[str], k: int = 3) -> str:
    if len(names) <= k:
        return ", ".join(names)
    return f"{', '.join(names[:k])} and {len(names) - k:,} more"


def _as_paths(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(inputs, (str, os.PathLike)):
        items: list[Any] = [inputs]
    elif isinstance(inputs, Sequence):
        items = list(inputs)
    else:
        raise ParameterError(
            f"inputs: expected a path or a list of paths, got {type(inputs).__name__}."
        )
    if not items:
        raise ParameterError("inputs: no files given; give at least one file or folder.")
    paths = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or str(item).strip() == "":
            raise ParameterError(f"inputs: {item!r} is not a path; give file or folder paths.")
        paths.append(Path(item).expanduser())
    return paths


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        found.extend(Path(root) / f for f in files if not f.startswith("."))
    return sorted(found)


def _other_dataset(name: str) -> str | None:
    lower = name.lower()
    for suffix, kind in _OTHER_DATASETS.items():
        if lower.endswith(suffix):
            return kind
    return None


def _expand(
    inputs: str | Path | Sequence[str | Path],
    *,
    max_ratio: float,
    max_bytes: int,
    notes: _Notes,
) -> list[_Source]:
    """Every file to read, in a stable order (sorted by path; zip members by name)."""
    sources: list[_Source] = []
    seen: set[Path] = set()

    def add(path: Path, display: str, *, explicit: bool) -> bool:
        """Queue one file; False if it is not a kind of file incidents come in."""
        ext = path.suffix.lower()
        kind = _KINDS.get(ext)
        if kind is None or (not explicit and ext in _FOLDER_SKIP_KINDS):
            if ext not in _SIDECARS:
                notes.ignored.append(display)
            return False
        resolved = path.resolve()
        if resolved in seen:
            notes.twice.append(display)
            return True
        seen.add(resolved)
        other = _other_dataset(path.name)
        if other:
            notes.skipped.setdefault(other, []).append(display)
            return True
        key = (resolved.as_posix(), "")
        if kind == "zip":
            sources.extend(_zip_members(path, display, key, max_ratio, max_bytes, notes))
        else:
            sources.append(_Source(key, display, kind, path))
        return True

    for path in _as_paths(inputs):
        if not path.exists():
            raise InputFileError(
                f"{path}: no such file or folder; check the path (and that the download finished)."
            )
        if path.is_dir():
            found = [add(f, f.relative_to(path).as_posix(), explicit=False) for f in _walk(path)]
            if not any(found):
                raise InputFileError(
                    f"{path}: the folder holds no incident files ({_ACCEPTED_EXT}); give a "
                    "folder of data.police.uk CSV or JSON files, or the files themselves."
                )
        else:
            if path.suffix.lower() not in _KINDS:
                raise InputFileError(
                    f"{path.name}: unknown file type '{path.suffix or '(none)'}'; give a "
                    f"{_ACCEPTED_EXT} file."
                )
            add(path, path.name, explicit=True)

    # Display names must tell files apart (they prefix generated ids).
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.display] = counts.get(s.display, 0) + 1
    out = []
    for s in sources:
        if counts[s.display] > 1:
            full = s.path.as_posix() + (f"!{s.member}" if s.member else "")
            s = _Source(s.sort_key, full, s.kind, s.path, s.member)
        out.append(s)
    out.sort(key=lambda s: s.sort_key)
    if not out:
        raise InputFileError(
            f"{_some([str(p) for p in _as_paths(inputs)])}: nothing to read: only "
            "data.police.uk outcomes or stop-and-search files, or files given twice; give the "
            "street-level crime files (*-street.csv)."
        )
    return out


def _check_archive(zf: zipfile.ZipFile, display: str, max_ratio: float, max_bytes: int) -> None:
    check_zip(
        zf,
        display,
        max_ratio=max_ratio,
        max_bytes=max_bytes,
        too_big_fix="split the data or raise the limit (max_archive_bytes)",
    )


def _zip_members(
    path: Path,
    display: str,
    key: tuple[str, str],
    max_ratio: float,
    max_bytes: int,
    notes: _Notes,
) -> list[_Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            _check_archive(zf, display, max_ratio, max_bytes)
            names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise InputFileError(
            f"{display}: not a readable zip archive ({exc}); download it again, or unzip it "
            "and give the folder."
        ) from exc
    out: list[_Source] = []
    skipped = 0
    for name in names:
        parts = name.split("/")
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue
        ext = Path(name).suffix.lower()
        kind = _KINDS.get(ext)
        shown = f"{display}!{name}"
        if kind is None or kind == "zip" or ext in _FOLDER_SKIP_KINDS:
            if ext not in _SIDECARS:
                notes.ignored.append(shown)
            continue
        other = _other_dataset(name)
        if other:
            notes.skipped.setdefault(other, []).append(shown)
            skipped += 1
            continue
        out.append(_Source((key[0], name), shown, kind, path, name))
    if not out and not skipped:
        raise InputFileError(
            f"{display}: the archive holds no incident files ({_ACCEPTED_EXT}); check that it "
            "is the data.police.uk download."
        )
    return out


# ==========================================================================================
# Parts: rows read from one or more files, before validation
# ==========================================================================================
@dataclass
class _Part:
    """Rows read from one file (or a run of API JSON files) in a common CRS.

    ``frame`` holds incident_id, month, date, category, location, lsoa_code, outcome,
    source and extra columns; ``x``/``y`` are the raw coordinates in ``crs``.
    """

    frame: pd.DataFrame
    x: _FloatArray
    y: _FloatArray
    crs: pyproj.CRS
    rows: npt.NDArray[np.int64]
    word: str
    has_id: npt.NDArray[np.bool_]
    month_ok: npt.NDArray[np.bool_]
    repeat_ids_ok: bool
    name: str


def _norm_name(name: object) -> str:
    """Lower-case column name without units in brackets or punctuation.

    >>> _norm_name(" Longitude (WGS84) "), _norm_name("Crime_Type")
    ('longitude', 'crimetype')
    """
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name).lower())
    return re.sub(r"[^a-z0-9]", "", text)


def _find(columns: Sequence[str], names: Sequence[str], used: set[str]) -> str | None:
    normed = {c: _norm_name(c) for c in columns if c not in used}
    for alias in names:
        for col, norm in normed.items():
            if norm == alias:
                return col
    return None


def _text(s: pd.Series) -> pd.Series:
    """Strings with '' for missing, whitespace stripped (whole floats shown as integers)."""
    if isinstance(s.dtype, pd.StringDtype):
        return s.fillna("").str.strip()
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if np.all(np.abs(v[fin]) < 2**53) and np.all(v[fin] == np.round(v[fin])):
            vals = np.where(fin, v, 0).astype(np.int64).astype(str).astype(object)
            vals[~fin] = ""
            return pd.Series(vals, index=s.index, dtype="str")
    obj = s.astype(object)
    return obj.where(obj.notna(), "").astype("str").str.strip()


def _to_float(s: pd.Series) -> _FloatArray:
    """Numbers from text; decimal commas accepted; empty or not a number -> NaN."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    vals = np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    retry = np.isnan(vals) & (s.astype("str").fillna("").to_numpy() != "")
    if retry.any():
        fixed = s[retry].astype("str").str.strip().str.replace(",", ".", regex=False)
        vals[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return vals


def _parse_dates(s: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Timestamps (datetime64[ns], NaT if unparseable) and whether each carried a day."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_localize(None)
        ts = ts.astype("datetime64[ns]")
        return ts.reset_index(drop=True), ts.notna().to_numpy()
    text = _text(s)
    codes, uniq = pd.factorize(text)
    values = np.full(len(uniq), np.datetime64("NaT"), dtype="datetime64[ns]")
    has_day = np.zeros(len(uniq), dtype=bool)
    todo = np.flatnonzero(np.asarray(uniq, dtype=object) != "")
    for fmt, day in _DATE_FORMATS:
        if todo.size == 0:
            break
        if fmt == "ISO8601":  # full dates only: ISO8601 would read "2019" as 2019-01-01
            todo = todo[np.array([len(str(u)) >= 10 for u in np.asarray(uniq)[todo]], dtype=bool)]
            if todo.size == 0:
                break
        cand = pd.Index(np.asarray(uniq, dtype=object)[todo])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = pd.to_datetime(cand, format=fmt, errors="coerce", utc=fmt == "ISO8601")
        except (ValueError, TypeError, OverflowError):
            continue
        if got.tz is not None:
            got = got.tz_localize(None)
        ok = ~np.asarray(got.isna())
        values[todo[ok]] = got[ok].to_numpy(dtype="datetime64[ns]")
        has_day[todo[ok]] = day
        todo = todo[~ok]
    safe = np.where(codes >= 0, codes, 0)
    ts_arr = np.where(codes >= 0, values[safe], np.datetime64("NaT"))
    return pd.Series(ts_arr.astype("datetime64[ns]")), has_day[safe] & (codes >= 0)


def _month_floor(ts: pd.Series) -> pd.Series:
    arr = ts.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]")
    return pd.Series(arr)


def _categories(s: pd.Series) -> pd.Series:
    """Published crime type names for API slugs; other values kept as given."""
    text = _text(s)
    codes, uniq = pd.factorize(text)
    mapped = np.array([CRIME_TYPE_SLUGS.get(str(u).lower(), str(u)) for u in uniq], dtype=object)
    if len(mapped) == 0:
        return text
    return pd.Series(mapped[np.where(codes >= 0, codes, 0)], dtype="str")


def _row_ids(sources: pd.Series, rows: npt.NDArray[np.int64]) -> pd.Series:
    nums = pd.Series(rows).astype("str")
    return sources.reset_index(drop=True).astype("str") + ":row-" + nums


def _one_source(display: str, n: int) -> pd.Series:
    return pd.Series(np.full(n, display, dtype=object), dtype="str")


def _build_part(
    attrs: pd.DataFrame,
    x: _FloatArray,
    y: _FloatArray,
    crs: pyproj.CRS,
    *,
    sources: pd.Series,
    rows: npt.NDArray[np.int64],
    name: str,
    word: str,
    repeat_ids_ok: bool,
    notes: _Notes,
) -> _Part:
    """Map attribute columns by name onto the Incidents contract.

    ``sources`` and ``rows`` give each row's file and row number; ``name`` names the part
    in warnings.
    """
    n = len(attrs)
    attrs = attrs.reset_index(drop=True)
    sources = sources.reset_index(drop=True)
    used: set[str] = set()
    cols: dict[str, str | None] = {}
    for target, names in _ALIASES.items():
        col = _find([str(c) for c in attrs.columns], names, used)
        cols[target] = col
        if col is not None:
            used.add(col)

    def text(target: str) -> pd.Series:
        col = cols[target]
        if col is None:
            return pd.Series([""] * n, dtype="str")
        return _text(attrs[col])

    ids = text("incident_id")
    has_id = (ids != "").to_numpy()
    if not has_id.all():
        ids = ids.where(has_id, _row_ids(sources, rows))

    month_col, date_col = cols["month"], cols["date"]
    if month_col is not None:
        month_ts, month_day = _parse_dates(attrs[month_col])
        month_ok = month_ts.notna().to_numpy()
        month = _month_floor(month_ts)
        if date_col is not None:
            date_ts, date_day = _parse_dates(attrs[date_col])
            date = date_ts.where(date_day)
        else:
            date = month_ts.where(month_day)
    elif date_col is not None:
        date_ts, date_day = _parse_dates(attrs[date_col])
        month_ok = date_ts.notna().to_numpy()
        month = _month_floor(date_ts)
        date = date_ts.where(date_day)
    else:
        month = pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        date = month.copy()
        month_ok = np.ones(n, dtype=bool)
        if n:
            notes.no_month.append(name)

    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "month": month.astype("datetime64[ns]"),
            "date": date.astype("datetime64[ns]"),
            "category": _categories(attrs[cols["category"]])
            if cols["category"] is not None
            else text("category"),
            "location": text("location"),
            "lsoa_code": text("lsoa_code"),
            "outcome": text("outcome"),
            "source": sources,
        }
    )
    for col in attrs.columns:
        if col in used:
            continue
        label = str(col)
        if label in frame.columns or label in INCIDENT_COLUMNS or label.startswith("_"):
            label = f"input_{label}"
        frame[label] = attrs[col]  # same RangeIndex: no copy, dtype kept
    return _Part(
        frame=frame,
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        crs=crs,
        rows=rows,
        word=word,
        has_id=has_id,
        month_ok=month_ok,
        repeat_ids_ok=repeat_ids_ok,
        name=name,
    )


# --- CSV ----------------------------------------------------------------------------------
def _decode(data: bytes, src: _Source, notes: _Notes) -> tuple[str, bytes]:
    """The text, and the same text as UTF-8 bytes without BOM (``data`` itself if it is)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return text, text.encode("utf-8")
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    notes.cp1252.append(src.display)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, text.encode("utf-8")


def _arrow_csv(text: str, utf8: bytes, sep: str) -> pd.DataFrame | None:
    """Parse with pyarrow (several times faster than pandas into string columns).

    None when the file needs pandas' leniency (ragged rows, repeated column names...).
    """
    first = text.lstrip("\r\n").split("\n", 1)[0]
    header = next(csv.reader([first], delimiter=sep), [])
    if not header or len(set(header)) != len(header):
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(utf8),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.column_names != header or not all(pa.types.is_string(t) for t in table.schema.types):
        return None
    return table.to_pandas()


def _delimiter(text: str) -> str:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(src: _Source, notes: _Notes) -> tuple[bool, pd.DataFrame] | None:
    """The CSV as text columns, and whether it is a data.police.uk street CSV (None: skip)."""
    data = src.read_bytes()
    if not data.strip():
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        )
    text, utf8 = _decode(data, src, notes)
    sep = _delimiter(text)
    try:
        df = _arrow_csv(text, utf8, sep)
        if df is None:
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False
            )
    except pd.errors.EmptyDataError as exc:
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        ) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(
            f"{src.display}: cannot be read as CSV ({first}); check the delimiter and quoting."
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    header = set(df.columns)
    if "Outcome type" in header and "Crime type" not in header:
        notes.skipped.setdefault("outcomes", []).append(src.display)
        return None
    if "Object of search" in header or "Part of a policing operation" in header:
        notes.skipped.setdefault("stop-and-search", []).append(src.display)
        return None
    return header.issuperset(_STREET_HEADER), df


def _street_run(run: list[tuple[_Source, pd.DataFrame]], notes: _Notes) -> _Part:
    """One part from consecutive data.police.uk street CSVs (mapped once, not per file)."""
    frames = [df for _, df in run]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    lengths = [len(f) for f in frames]
    sources = pd.Series(
        np.repeat(np.array([s.display for s, _ in run], dtype=object), lengths), dtype="str"
    )
    rows = np.concatenate([np.arange(2, k + 2, dtype=np.int64) for k in lengths])
    return _build_part(
        df.drop(columns=["Longitude", "Latitude"]),
        _to_float(df["Longitude"]),
        _to_float(df["Latitude"]),
        _wgs84(),
        sources=sources,
        rows=rows,
        name=run[0][0].display if len(run) == 1 else f"{run[0][0].display} and others",
        word="row",
        repeat_ids_ok=True,
        notes=notes,
    )


def _names_list() -> str:
    return (
        f"longitude/latitude ({', '.join(_LON_NAMES)} / {', '.join(_LAT_NAMES)}) or x/y "
        f"({', '.join(_X_NAMES[:3])} / {', '.join(_Y_NAMES[:3])}), any case"
    )


def _generic_table(
    df: pd.DataFrame,
    src: _Source,
    crs_arg: pyproj.CRS | None,
    notes: _Notes,
    *,
    word: str,
    first_row: int,
) -> _Part:
    n = len(df)
    sources = _one_source(src.display, n)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    columns = [str(c) for c in df.columns]
    lon = _find(columns, _LON_NAMES, set())
    lat = _find(columns, _LAT_NAMES, set())
    xc = _find(columns, _X_NAMES, set())
    yc = _find(columns, _Y_NAMES, set())
    use_xy = xc is not None and yc is not None and (crs_arg is not None or lon is None)
    if not use_xy and (lon is None or lat is None):
        found = ", ".join(repr(c) for c in columns[:20]) or "none"
        half = lon or lat or xc or yc
        missing = f" (found {half!r} but not its partner)" if half else ""
        raise InputFileError(
            f"{src.display}: no coordinate columns{missing}; columns found: {found}; name "
            f"them {_names_list()}."
        )
    if not use_xy:
        assert lon is not None and lat is not None
        return _build_part(
            df.drop(columns=[lon, lat]),
            _to_float(df[lon]),
            _to_float(df[lat]),
            _wgs84(),
            sources=sources,
            rows=rows,
            name=src.display,
            word=word,
            repeat_ids_ok=False,
            notes=notes,
        )
    assert xc is not None and yc is not None
    x, y = _to_float(df[xc]), _to_float(df[yc])
    crs = crs_arg if crs_arg is not None else _guess_xy_crs(x, y, src, xc, yc, notes)
    return _build_part(
        df.drop(columns=[xc, yc]),
        x,
        y,
        crs,
        sources=sources,
        rows=rows,
        name=src.display,
        word=word,
        repeat_ids_ok=False,
        notes=notes,
    )


def _guess_xy_crs(
    x: _FloatArray, y: _FloatArray, src: _Source, xc: str, yc: str, notes: _Notes
) -> pyproj.CRS:
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    vx, vy = x[ok], y[ok]
    if vx.size:
        bng = (
            np.all((vx >= 0) & (vx <= 700_000))
            and np.all((vy >= 0) & (vy <= 1_300_000))
            and (vx.max() > 1_000)
            and (vy.max() > 1_000)
        )
        if bng:
            notes.lines.append(
                f"{src.display}: the columns {xc!r}/{yc!r} have no CRS given; their values are "
                "British National Grid eastings/northings, so they were read as EPSG:27700 "
                "(give crs if not)."
            )
            return pyproj.CRS.from_user_input("EPSG:27700")
        if np.all(np.abs(vx) <= 180) and np.all(np.abs(vy) <= 90):
            raise InputFileError(
                f"{src.display}: the columns {xc!r}/{yc!r} look like longitude/latitude but "
                "have no CRS; give crs='EPSG:4326' (--crs EPSG:4326), or rename them "
                "longitude/latitude."
            )
    raise InputFileError(
        f"{src.display}: the columns {xc!r}/{yc!r} hold coordinates in an unknown CRS; give "
        "their CRS, e.g. crs='EPSG:27700' (--crs EPSG:27700)."
    )


# --- data.police.uk API JSON --------------------------------------------------------------
_API_TEXT = ("month", "category", "persistent_id", "location_type", "location_subtype", "context")


def _api_lists(records: list[Any], display: str) -> dict[str, list[Any]]:
    """Column lists from one crimes-street JSON list (comprehensions: ~10x a loop)."""
    if records and not any(
        isinstance(r, dict) and ("category" in r or "location" in r) for r in records[:50]
    ):
        raise InputFileError(
            f"{display}: a JSON list, but not data.police.uk street crimes (no 'category' or "
            "'location' in its items); give crimes-street JSON or GeoJSON."
        )
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise InputFileError(
                f"{display}: item {i + 1} is not a crime record (a JSON object); give "
                "data.police.uk crimes-street JSON."
            )
    empty: dict[str, Any] = {}
    locs = [r.get("location") for r in records]
    locs = [loc if isinstance(loc, dict) else empty for loc in locs]
    streets = [loc.get("street") for loc in locs]
    outcomes = [r.get("outcome_status") for r in records]
    cols: dict[str, list[Any]] = {k: [r.get(k) or "" for r in records] for k in _API_TEXT}
    cols["id"] = [("" if v is None else str(v)) for v in (r.get("id") for r in records)]
    cols["street"] = [(st.get("name") or "") if isinstance(st, dict) else "" for st in streets]
    cols["outcome"] = [(o.get("category") or "") if isinstance(o, dict) else "" for o in outcomes]
    cols["lon"] = [loc.get("longitude") for loc in locs]
    cols["lat"] = [loc.get("latitude") for loc in locs]
    return cols


def _strs(values: list[Any]) -> pd.Series:
    """A ``str`` Series from a list of Python values ('' for None)."""
    try:
        arr = pd.array(values, dtype="str")
    except (TypeError, ValueError):
        arr = pd.array(["" if v is None else str(v) for v in values], dtype="str")
    return pd.Series(arr).fillna("")


def _floats(values: list[Any]) -> _FloatArray:
    """Floats from a list of numbers-as-text (NaN for None or not a number)."""
    try:
        arr = pa.array(values, type=pa.string()).cast(pa.float64())
        return np.array(arr.to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowException, TypeError, ValueError):
        num = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return np.array(num.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _read_api_run(run: list[tuple[_Source, dict[str, list[Any]]]], notes: _Notes) -> _Part:
    """One part from consecutive API JSON files (columns built once, not per file)."""
    lists: dict[str, list[Any]] = {key: [] for key in (*_API_TEXT, "id", "street", "outcome")}
    lists |= {"lon": [], "lat": []}
    lengths: list[int] = []
    for _, cols in run:
        lengths.append(len(cols["id"]))
        for key, v in cols.items():
            lists[key].extend(v)
    n = sum(lengths)
    row_arr = np.concatenate([np.arange(1, k + 1, dtype=np.int64) for k in lengths])
    source = pd.Series(
        pd.array(
            np.repeat(np.array([s.display for s, _ in run], dtype=object), lengths), dtype="str"
        )
    )
    ids = _strs(lists["id"])
    has_id = (ids != "").to_numpy()
    if not has_id.all():
        ids = ids.where(has_id, _row_ids(source, row_arr))
    month_ts = pd.to_datetime(_strs(lists["month"]), format="%Y-%m", errors="coerce")
    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "month": month_ts.astype("datetime64[ns]"),
            "date": pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")),
            "category": _categories(_strs(lists["category"])),
            "location": _strs(lists["street"]),
            "lsoa_code": _strs([""] * n),
            "outcome": _strs(lists["outcome"]),
            "source": source,
        }
    )
    for extra in ("persistent_id", "location_type", "location_subtype", "context"):
        frame[extra] = _strs(lists[extra])
    return _Part(
        frame=frame,
        x=_floats(lists["lon"]),
        y=_floats(lists["lat"]),
        crs=_wgs84(),
        rows=row_arr,
        word="record",
        has_id=has_id,
        month_ok=month_ts.notna().to_numpy(),
        repeat_ids_ok=False,
        name=run[0][0].display if len(run) == 1 else f"{run[0][0].display} and others",
    )


def _load_json(src: _Source) -> tuple[Any, bytes]:
    data = src.read_bytes()
    if not data.strip():
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        )
    try:
        return json.loads(data), data
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        where = " (not UTF-8 text)"
    raise InputFileError(
        f"{src.display}: not valid JSON{where}; download it again (the file may be cut short)."
    )


# --- vector layers --------------------------------------------------------------------------
def _read_vector(
    src: _Source, crs_arg: pyproj.CRS | None, notes: _Notes, data: Any = None
) -> _Part:
    kind = src.kind
    layer: str | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "parquet":
                raw = src.read_bytes()
                try:
                    gdf = gpd.read_parquet(io.BytesIO(raw))
                except ValueError as exc:
                    if "geo metadata" not in str(exc):
                        raise
                    # Plain Parquet: a table with coordinate columns, like a generic CSV.
                    table = pd.read_parquet(io.BytesIO(raw))
                    return _generic_table(table, src, crs_arg, notes, word="row", first_row=1)
            else:
                target: Any = data if data is not None else src.ogr_path()
                if kind == "gpkg":
                    layer = _point_layer(src, target, notes)
                gdf = pyogrio.read_dataframe(target, layer=layer)
    except InputFileError:
        raise
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(
            f"{src.display}: cannot be read as {kind} ({msg}); check that the file is complete "
            "and of that type."
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputFileError(f"{src.display}: holds no geometry column; give a layer of points.")
    geom = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    types = shapely.get_type_id(geom)
    multi = types == 4
    if multi.any():
        parts = shapely.get_num_geometries(geom[multi])
        if (parts > 1).any():
            first = int(np.flatnonzero(multi)[np.argmax(parts > 1)]) + 1
            raise InputFileError(
                f"{src.display}: feature {first} is a MultiPoint of several points; give one "
                "point per incident (explode the layer first)."
            )
        geom = geom.copy()
        geom[multi] = shapely.get_geometry(geom[multi], 0)
        types = np.where(multi, 0, types)
    bad = ~missing & (types != 0)
    if bad.any():
        kinds = sorted({str(t) for t in gdf.geometry[bad].geom_type.unique()})
        raise InputFileError(
            f"{src.display}: holds {', '.join(kinds)} geometries ({int(bad.sum()):,} of "
            f"{len(gdf):,} features); give a layer of points, one per incident."
        )
    x = np.full(len(geom), np.nan)
    y = np.full(len(geom), np.nan)
    ok = ~missing
    x[ok] = shapely.get_x(geom[ok])
    y[ok] = shapely.get_y(geom[ok])
    crs = gdf.crs if gdf.crs is not None else crs_arg
    if crs is None:
        raise InputFileError(
            f"{src.display}: the layer has no coordinate reference system (a missing .prj?); "
            "give its CRS, e.g. crs='EPSG:27700' (--crs EPSG:27700)."
        )
    attrs = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]))
    part = _build_part(
        attrs,
        x,
        y,
        pyproj.CRS.from_user_input(crs),
        sources=_one_source(src.display, len(attrs)),
        rows=np.arange(1, len(attrs) + 1, dtype=np.int64),
        name=src.display,
        word="feature",
        repeat_ids_ok=False,
        notes=notes,
    )
    return part


def _point_layer(src: _Source, target: Any, notes: _Notes) -> str:
    layers = pyogrio.list_layers(target)
    points = [str(name) for name, gtype in layers if gtype and "point" in str(gtype).lower()]
    if not points:
        found = ", ".join(f"{name} ({gtype or 'no geometry'})" for name, gtype in layers)
        raise InputFileError(
            f"{src.display}: no point layer (layers: {found or 'none'}); give a layer of "
            "incident points."
        )
    if len(points) > 1:
        notes.lines.append(
            f"{src.display} has {len(points)} point layers ({', '.join(points)}); read the "
            f"first, {points[0]!r}."
        )
    return points[0]


# ==========================================================================================
# Reading every source
# ==========================================================================================
@lru_cache(maxsize=1)
def _wgs84() -> pyproj.CRS:
    return pyproj.CRS.from_user_input(WGS84)


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def _transform(
    crs_from: pyproj.CRS, crs_to: pyproj.CRS, x: _FloatArray, y: _FloatArray
) -> tuple[_FloatArray, _FloatArray]:
    if crs_from == crs_to or x.size == 0:
        return x, y
    t = _transformer(crs_from.to_wkt(), crs_to.to_wkt())
    with np.errstate(all="ignore"):
        tx, ty = t.transform(x, y, errcheck=False)
    return np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)


def _read_sources(
    sources: list[_Source], crs_arg: pyproj.CRS | None, notes: _Notes
) -> tuple[list[_Part], list[str]]:
    parts: list[_Part] = []
    read: list[str] = []
    run: list[tuple[_Source, dict[str, list[Any]]]] = []
    street: list[tuple[_Source, pd.DataFrame]] = []

    def flush_run() -> None:
        if run:
            parts.append(_read_api_run(list(run), notes))
            run.clear()
        if street:
            parts.append(_street_run(list(street), notes))
            street.clear()

    for src in sources:
        if src.kind == "json":
            obj, data = _load_json(src)
            if isinstance(obj, list):
                if street:
                    flush_run()
                run.append((src, _api_lists(obj, src.display)))
                del obj
                read.append(src.display)
                continue
            flush_run()
            if isinstance(obj, dict) and obj.get("type") in ("FeatureCollection", "Feature"):
                parts.append(_read_vector(src, crs_arg, notes, data=data))
                read.append(src.display)
                continue
            raise InputFileError(
                f"{src.display}: JSON that is neither a data.police.uk crime list nor GeoJSON; "
                "give crimes-street JSON (a list of crimes) or a GeoJSON FeatureCollection."
            )
        if src.kind == "csv":
            table = _read_csv(src, notes)
            if table is None:
                continue
            read.append(src.display)
            if table[0]:
                if run:
                    flush_run()
                street.append((src, table[1]))
                continue
            flush_run()
            parts.append(_generic_table(table[1], src, crs_arg, notes, word="row", first_row=2))
            continue
        flush_run()
        parts.append(_read_vector(src, crs_arg, notes))
        read.append(src.display)
    flush_run()
    return parts, read


def _check_swap(part: _Part, notes: _Notes) -> None:
    """Swap lon/lat back (in place) where the swapped reading is plainly the right one."""
    x, y = part.x, part.y
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    n = int(ok.sum())
    if n == 0:
        return
    vx, vy = x[ok], y[ok]
    bad_given = (np.abs(vy) > 90) | (np.abs(vx) > 180)
    bad_swapped = (np.abs(vx) > 90) | (np.abs(vy) > 180)
    name = part.name
    if bad_given.sum() * 2 > n:
        if not bad_swapped.any():
            part.x, part.y = y.copy(), x.copy()
            notes.lines.append(
                f"Latitude and longitude look swapped in {name}: {int(bad_given.sum()):,} of "
                f"{n:,} latitudes are outside -90..90; they were swapped back."
            )
        else:
            notes.lines.append(
                f"Latitude and longitude look swapped in {name}: {int(bad_given.sum()):,} of "
                f"{n:,} latitudes are outside -90..90; they were not swapped back because "
                f"{int(bad_swapped.sum()):,} would still be out of range; fix the columns in "
                "the file."
            )
        return
    if bad_given.any():
        return
    gb_given = float(in_great_britain(vx, vy).mean())
    gb_swapped = float(in_great_britain(vy, vx).mean())
    if gb_given < 0.5 and gb_swapped >= 0.99:
        part.x, part.y = y.copy(), x.copy()
        notes.lines.append(
            f"Latitude and longitude look swapped in {name}: the points fall in Great Britain "
            "only when read the other way round; they were swapped back."
        )
    elif gb_given < 0.5 and gb_swapped >= 0.5:
        notes.lines.append(
            f"Latitude and longitude look swapped in {name} for {gb_swapped:.0%} of the "
            "points; they were not swapped back because the rest read correctly; fix the "
            "columns in the file."
        )


def _part_codes(part: _Part, notes: _Notes) -> npt.NDArray[np.int8]:
    geographic = part.crs.is_geographic
    if geographic:
        _check_swap(part, notes)
    x, y = part.x, part.y
    code = np.zeros(len(x), dtype=np.int8)
    nan = np.isnan(x) | np.isnan(y)
    code[nan] = _C_NOCOORD
    rng = ~nan & (np.isinf(x) | np.isinf(y))
    if geographic:
        with np.errstate(invalid="ignore"):
            rng |= ~nan & ((np.abs(y) > 90) | (np.abs(x) > 180))
    code[(code == 0) & rng] = _C_RANGE
    code[(code == 0) & (x == 0) & (y == 0)] = _C_ZERO
    code[(code == 0) & ~part.month_ok] = _C_MONTH
    return code


def _parse_crs(value: str | pyproj.CRS | None, arg: str) -> pyproj.CRS | None:
    if value is None:
        return None
    try:
        return pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise ParameterError(
            f"{arg}: {value!r} is not a coordinate reference system; give one like 'EPSG:27700'."
        ) from exc


def _study_area(
    area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS
) -> BaseGeometry:
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is None:
            raise ParameterError(
                "study_area: the layer has no CRS; set it first (e.g. .set_crs('EPSG:27700'))."
            )
        geom = shapely.union_all(area.to_crs(crs).geometry.to_numpy())
    elif isinstance(area, BaseGeometry):
        geom = area
    else:
        raise ParameterError(
            f"study_area: expected a polygon or a GeoDataFrame, got {type(area).__name__}."
        )
    if geom is None or geom.is_empty or geom.area <= 0:
        raise ParameterError(
            "study_area: not a polygon with an area; give the boundary of the study area."
        )
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    shapely.prepare(geom)
    return geom


def read_incidents(
    inputs: str | Path | Sequence[str | Path],
    *,
    crs: str | pyproj.CRS | None = None,
    study_area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    target_crs: str | pyproj.CRS | None = None,
    max_archive_ratio: float = 100.0,
    max_archive_bytes: int = 2_000_000_000,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read incident points from files and folders into one Incidents frame.

    Formats are told apart by extension and content: data.police.uk street CSVs (single
    files, folder trees of ``YYYY-MM/*-street.csv``, or the downloaded ``.zip``, read in
    place), data.police.uk API JSON (``crimes-street``: a JSON list per file), generic CSVs
    (coordinate columns found by name, ``,`` ``;`` or tab delimited, decimal commas, UTF-8
    with or without BOM, or Windows-1252), and point layers in GeoJSON, GeoPackage (the first
    point layer), Shapefile (also zipped) and GeoParquet, in any CRS. data.police.uk outcomes
    and stop-and-search files are skipped with a warning.

    Every row read is either used or counted in the report under one named reason, the first
    that applies in this order: ``"no coordinates"`` (empty or not a number),
    ``"coordinates out of range"`` (latitude beyond +-90, longitude beyond +-180, infinite,
    or not projectable), ``"at 0,0"``, ``"unparseable month"`` (empty or unreadable in a file
    that has a month or date column), ``"duplicate id"`` (an id already used by an earlier
    row; data.police.uk street CSVs publish some Crime IDs twice within one month's file:
    those rows are kept, the repeats' ids get ``-2``, ``-3`` suffixes, and a warning says
    so), and ``"outside the study area"``.

    Places in the report are ``"<file> row <n>"`` for CSV files, counted as a spreadsheet
    shows them (the header is row 1, so the first data row is row 2);
    ``"<file> record <n>"`` for API JSON (the n-th crime of the list, from 1) and
    ``"<file> feature <n>"`` for vector layers (from 1). Rows without an id get
    ``"<file>:row-<n>"`` with the same n.

    Parameters
    ----------
    inputs
        A file or folder, or a list of them; folders are searched recursively. Files come
        in path order, rows in file order.
    crs
        CRS of x/y (easting/northing) columns of a generic CSV, or of a layer without one.
        Without it, x/y values that are plainly British National Grid are read as
        EPSG:27700 (with a warning); anything else is an error.
    study_area
        Keep only incidents inside (or on the edge of) this area: a shapely geometry in the
        working CRS, or a GeoDataFrame/GeoSeries in any CRS.
    target_crs
        The working CRS (projected, in metres). Default: :func:`hotspots.crs.choose_crs`
        (EPSG:27700 in Great Britain, else the UTM zone).
    max_archive_ratio, max_archive_bytes
        Zip archives are refused before anything is read from them when a member's path
        escapes the archive, when they would unpack to more than ``max_archive_bytes``, or
        when (unpacking to 1 MB or more) they are compressed more than ``max_archive_ratio``
        to 1 (a zip bomb).

    Returns
    -------
    (incidents, report)
        The Incidents frame (columns ``hotspots.columns.INCIDENT_COLUMNS`` then extra source
        columns; ``month`` and ``date`` are datetime64[ns], text columns are ``str`` with
        ``""`` for missing, ``weight`` is 1.0) and the :class:`LoadReport`.

    Raises
    ------
    InputFileError
        A missing path, an empty folder or file, an unknown file type, malformed JSON, a
        CSV without coordinate columns, a non-point layer, an unsafe archive, or no usable
        rows at all. The message names the file and the fix.
    ParameterError
        A bad ``crs``/``target_crs``/``study_area``/archive limit, or a study area that
        holds none of the incidents.
    """
    crs_arg = _parse_crs(crs, "crs")
    work_crs = _parse_crs(target_crs, "target_crs")
    if work_crs is not None and not work_crs.is_projected:
        raise ParameterError(
            f"target_crs: {work_crs.to_string()} is not a projected CRS in metres; give one "
            "like 'EPSG:27700' or a UTM zone."
        )
    if not max_archive_ratio > 0:
        raise ParameterError(f"max_archive_ratio: must be > 0, got {max_archive_ratio!r}.")
    if not max_archive_bytes > 0:
        raise ParameterError(f"max_archive_bytes: must be > 0, got {max_archive_bytes!r}.")

    notes = _Notes()
    sources = _expand(inputs, max_ratio=max_archive_ratio, max_bytes=max_archive_bytes, notes=notes)
    parts, read = _read_sources(sources, crs_arg, notes)
    report = LoadReport(inputs=read)
    what = read[0] if len(read) == 1 else f"the {len(read):,} input files"
    if not parts:
        raise InputFileError(
            f"{_some(read) or _some([str(p) for p in _as_paths(inputs)])}: no street-level "
            "crime files to read; give data.police.uk *-street.csv files or API JSON."
        )

    codes = [_part_codes(p, notes) for p in parts]
    frame = (
        parts[0].frame
        if len(parts) == 1
        else pd.concat([p.frame for p in parts], ignore_index=True)
    )
    code = np.concatenate(codes)
    x = np.concatenate([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    has_id = np.concatenate([p.has_id for p in parts])
    repeat_ok = np.concatenate([np.full(len(p.x), p.repeat_ids_ok) for p in parts])
    part_of = np.concatenate([np.full(len(p.x), i, dtype=np.int32) for i, p in enumerate(parts)])
    rows = np.concatenate([p.rows for p in parts])
    n = len(code)
    report.rows_read = n
    if n == 0:
        raise InputFileError(
            f"{what}: no rows (only headers or empty lists); give files with incidents."
        )

    frame = _mark_duplicates(frame, code, has_id, repeat_ok, notes)

    alive = code == 0
    if not alive.any():
        counts = np.bincount(code, minlength=len(_REASONS) + 1)
        summary = ", ".join(
            f"{_REASONS[c - 1]} {counts[c]:,}" for c in range(1, len(_REASONS) + 1) if counts[c]
        )
        raise InputFileError(
            f"{what}: none of the {n:,} rows can be used ({summary}); check the coordinate "
            "and month columns."
        )

    # Working CRS, from longitude/latitude of the usable rows.
    if work_crs is None:
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        for i, p in enumerate(parts):
            m = alive & (part_of == i)
            lon[m], lat[m] = _transform(p.crs, _wgs84(), x[m], y[m])
        work_crs = choose_crs(lon[alive], lat[alive], source=what)
    gx = np.full(n, np.nan)
    gy = np.full(n, np.nan)
    for i, p in enumerate(parts):
        m = alive & (part_of == i)
        gx[m], gy[m] = _transform(p.crs, work_crs, x[m], y[m])
    code[alive & ~(np.isfinite(gx) & np.isfinite(gy))] = _C_RANGE
    alive = code == 0

    if study_area is not None:
        area = _study_area(study_area, work_crs)
        inside = np.zeros(n, dtype=bool)
        inside[alive] = shapely.intersects_xy(area, gx[alive], gy[alive])
        code[alive & ~inside] = _C_AREA
        if not (code == 0).any():
            raise ParameterError(
                f"study_area: none of the {int(alive.sum()):,} incidents lie inside it; check "
                f"that it covers the data (it must be in {work_crs.to_string()} if a geometry)."
            )
        alive = code == 0

    report.crs = work_crs.to_string()
    report.rows_used = report.rows_read
    words = [p.word for p in parts]
    sources_col = frame["source"].to_numpy()
    for c, reason in enumerate(_REASONS, start=1):
        where = np.flatnonzero(code == c)
        if where.size:
            examples = [f"{sources_col[i]} {words[part_of[i]]} {rows[i]}" for i in where[:5]]
            report.drop(reason, int(where.size), examples)
            report.rows_used -= int(where.size)

    out = frame.loc[alive].reset_index(drop=True)
    out["weight"] = 1.0
    incidents = gpd.GeoDataFrame(out, geometry=shapely.points(gx[alive], gy[alive]), crs=work_crs)
    incidents = _finish_columns(incidents)
    notes.lines.extend(_data_warnings(incidents, gx[alive], gy[alive]))
    report.warnings = notes.flush()
    log.info("read %s rows, used %s (%s)", f"{n:,}", f"{report.rows_used:,}", report.crs)
    return incidents, report


def _mark_duplicates(
    frame: pd.DataFrame,
    code: npt.NDArray[np.int8],
    has_id: npt.NDArray[np.bool_],
    repeat_ok: npt.NDArray[np.bool_],
    notes: _Notes,
) -> pd.DataFrame:
    """Code repeated ids as duplicates (in place on ``code``); suffix allowed repeats."""
    cand = np.flatnonzero((code == 0) & has_id)
    if cand.size == 0:
        return frame
    ids = frame["incident_id"].to_numpy()[cand]
    key = pd.factorize(ids)[0]  # codes in order of first appearance
    src = pd.factorize(frame["source"].to_numpy()[cand])[0]
    first_pos = np.unique(key, return_index=True)[1][key]
    first_src = src[first_pos]
    dup = np.where(repeat_ok[cand], src != first_src, first_pos != np.arange(cand.size))
    code[cand[dup]] = _C_DUP
    kept = cand[~dup]
    rank = _rank_within(key[~dup])
    again = rank > 0
    if again.any():
        frame = frame.copy()
        col = frame["incident_id"].to_numpy(dtype=object).copy()
        idx = kept[again]
        col[idx] = [f"{col[i]}-{r + 1}" for i, r in zip(idx, rank[again], strict=True)]
        frame["incident_id"] = pd.Series(col, dtype="str")
        n_ids = len(set(ids[~dup][again]))
        files = sorted(set(frame["source"].to_numpy()[idx]))
        notes.lines.append(
            f"{n_ids:,} Crime ID{'s' if n_ids != 1 else ''} appear on more than one row of the "
            f"same file ({_some(files)}); data.police.uk publishes these as separate records, "
            f"so all were kept, the repeats with ids ending -2, -3, ..."
        )
    return frame


def _rank_within(key: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """0 for the first row of each key, 1 for the second, ... (a numpy cumcount).

    >>> _rank_within(np.array([5, 3, 5, 5, 3])).tolist()
    [0, 0, 1, 2, 1]
    """
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    rank = np.empty(key.size, dtype=np.intp)
    rank[order] = np.arange(key.size) - group_start
    return rank


def _finish_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for col in _STR_COLUMNS:
        gdf[col] = gdf[col].fillna("").astype("str")
    for col in ("month", "date"):
        gdf[col] = gdf[col].astype("datetime64[ns]")
    gdf["weight"] = gdf["weight"].astype(float)
    extras = [c for c in gdf.columns if c not in INCIDENT_COLUMNS]
    for col in extras:
        s = gdf[col]
        if isinstance(s.dtype, pd.StringDtype) or (
            s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")
        ):
            gdf[col] = s.astype(object).where(s.notna(), "").astype("str")
    ordered = gdf[INCIDENT_COLUMNS + extras]
    assert isinstance(ordered, gpd.GeoDataFrame)
    return ordered


def _data_warnings(incidents: gpd.GeoDataFrame, gx: _FloatArray, gy: _FloatArray) -> list[str]:
    out: list[str] = []
    n = len(incidents)
    if n >= _FEW_POINTS_MIN_ROWS:
        _, counts = np.unique(gx + 1j * gy, return_counts=True)
        top = np.sort(counts)[::-1][:_FEW_POINTS]
        cum = np.cumsum(top)
        k = int(np.searchsorted(cum * 2, n, side="right")) + 1
        if k <= len(top) and cum[k - 1] * 2 > n:
            share = cum[k - 1] / n
            out.append(
                f"Most points sit on very few map points: {int(cum[k - 1]):,} of {n:,} "
                f"incidents ({share:.0%}) share {k} map point{'s' if k != 1 else ''}; check "
                "that the source does not put unknown places on a default point (a police "
                "station, a town centre)."
            )
    months = incidents["month"].dropna()
    if len(months):
        have = set(months.dt.to_period("M").unique())
        span = pd.period_range(min(have), max(have), freq="M")
        gaps = [str(p) for p in span if p not in have]
        if len(gaps) == 1:
            out.append(f"No incidents in {gaps[0]} (a month with no data published?).")
        elif gaps:
            shown = ", ".join(gaps[:6]) + (", ..." if len(gaps) > 6 else "")
            out.append(
                f"No incidents in {len(gaps)} months of the period: {shown} (months with no "
                "data published?)."
            )
    return out


# ==========================================================================================
# Filtering
# ==========================================================================================
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _norm_type(name: str) -> str:
    """Crime type key: slugs resolved, case, hyphens and spaces ignored."""
    text = str(name).strip()
    text = CRIME_TYPE_SLUGS.get(text.lower(), text)
    return " ".join(re.sub(r"[-_]", " ", text.lower()).split())


def _month_arg(value: str | None, flag: str, span: str) -> pd.Timestamp | None:
    if value is None:
        return None
    text = str(value).strip()
    if not _MONTH_RE.match(text):
        raise ParameterError(f"{flag} {value!r}: not a month; use YYYY-MM, e.g. 2019-01 ({span}).")
    return pd.Timestamp(text + "-01")


def filter_incidents(
    incidents: gpd.GeoDataFrame,
    report: LoadReport | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    categories: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Keep the incidents of a period and of some crime types.

    Parameters
    ----------
    incidents
        An Incidents frame (from :func:`read_incidents`); not changed.
    report
        If given, it is updated **in place**: rows removed here are counted under
        ``"outside the period"`` and ``"not a selected crime type"`` (each row under the
        first that applies) and ``rows_used`` goes down by as many, so
        ``rows_read == rows_used + rows_dropped`` still holds. Pass ``report.copy()`` to keep
        the original.
    start, end
        First and last month to keep, inclusive, as ``"YYYY-MM"`` (``--from``/``--to``).
        Incidents without a month fall outside any period given.
    categories
        Crime types to keep (``--crime-type``): published names or API slugs, any case.
        None or empty keeps all.

    Returns
    -------
    GeoDataFrame
        The rows kept (a copy, with their original index).

    Raises
    ------
    ParameterError
        A month not in ``YYYY-MM`` form, ``--from`` after ``--to``, an unknown crime type
        (the message lists the valid ones), or a filter that keeps no incident.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> inc = gpd.GeoDataFrame({"month": pd.to_datetime(["2019-01-01", "2019-02-01"]),
    ...     "category": ["Burglary", "Drugs"]}, geometry=gpd.points_from_xy([0, 1], [0, 1]))
    >>> len(filter_incidents(inc, start="2019-02", categories=["drugs"]))
    1
    """
    if not isinstance(incidents, pd.DataFrame):
        raise ParameterError(
            f"incidents: expected the frame read_incidents returns, got {type(incidents).__name__}."
        )
    for col in ("month", "category"):
        if col not in incidents.columns:
            raise ParameterError(
                f"incidents: no {col!r} column; pass the frame read_incidents returns."
            )
    months = pd.to_datetime(incidents["month"])
    known = months.dropna()
    span = (
        f"the data covers {known.min():%Y-%m} to {known.max():%Y-%m}"
        if len(known)
        else "the data has no months"
    )
    start_ts = _month_arg(start, "--from", span)
    end_ts = _month_arg(end, "--to", span)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise ParameterError(f"--from {start} is after --to {end}; swap them ({span}).")

    in_period = np.ones(len(incidents), dtype=bool)
    if start_ts is not None:
        in_period &= (months >= start_ts).to_numpy(dtype=bool, na_value=False)
    if end_ts is not None:
        in_period &= (months <= end_ts).to_numpy(dtype=bool, na_value=False)

    selected = np.ones(len(incidents), dtype=bool)
    cats = incidents["category"].fillna("").astype("str")
    if categories:
        if isinstance(categories, str):
            categories = [categories]
        present = [c for c in pd.unique(cats) if c]
        valid = CRIME_TYPES + sorted(c for c in present if c not in CRIME_TYPES)
        valid_keys = {_norm_type(v) for v in valid}
        wanted: set[str] = set()
        for c in categories:
            key = _norm_type(c)
            if key not in valid_keys:
                raise ParameterError(
                    f"--crime-type {c!r}: not a crime type; use one of: {', '.join(valid)}."
                )
            wanted.add(key)
        codes, uniq = pd.factorize(cats)
        hit = np.array([_norm_type(u) in wanted for u in uniq], dtype=bool)
        selected = hit[codes] if len(uniq) else np.zeros(len(cats), dtype=bool)

    keep = in_period & selected
    if len(incidents) and not keep.any():
        flags = []
        if start is not None:
            flags.append(f"--from {start}")
        if end is not None:
            flags.append(f"--to {end}")
        if categories:
            flags.append("--crime-type " + ", ".join(str(c) for c in categories))
        present_types = ", ".join(sorted(c for c in pd.unique(cats) if c)[:20])
        raise ParameterError(
            f"{' and '.join(flags)} select{'s' if len(flags) == 1 else ''} none of the "
            f"{len(incidents):,} incidents; {span}"
            f"{'; crime types present: ' + present_types if categories else ''}."
        )
    out = incidents.loc[keep].copy()
    if report is not None:
        n_period = int((~in_period).sum())
        n_type = int((in_period & ~selected).sum())
        report.drop(OUTSIDE_PERIOD, n_period)
        report.drop(NOT_SELECTED_TYPE, n_type)
        report.rows_used -= n_period + n_type
    return out
