"""Writers: frames and maps in, files out.

Every writer creates the parent folders, writes a temporary file next to the target and moves it
into place with :func:`os.replace` (:mod:`hotspots._files`), so a reader never sees half a file,
and returns the path.
Text files are UTF-8. The Hotspots frame's lists are written as text, "Drugs 30; Burglary 12"
and "Ward A; Ward B" (:func:`hotspots._text.lists_as_text`), in every file. Coordinates leave
in WGS84 (longitude, latitude; 6 decimal places, about 0.1 m) except the GeoPackage, which
keeps the frame's projected CRS (exact areas) and says which.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ._files import atomic_write, write_via
from ._points import all_points_xy, unique_points
from ._text import lists_as_text
from ._validate import check_layer
from .assets import assets_as, external_urls, inline_html
from .columns import INCIDENTS_CSV_COLUMNS
from .crs import project_xy, to_metres
from .csv_text import csv_columns, write_csv_columns
from .errors import ParameterError
from .web import fitting_items

__all__ = [
    "map_html",
    "safe_cell",
    "write_hotspots_csv",
    "write_hotspots_geojson",
    "write_hotspots_gpkg",
    "write_incidents_csv",
    "write_map_html",
    "write_summary",
    "write_table_csv",
]

log = logging.getLogger(__name__)

_DP_DEGREES = 6
_DP_METRES = 1


def _json_value(value: Any) -> Any:
    """A cell as a JSON value: NaN/NA/NaT -> null, numpy scalars -> Python, dates -> ISO text."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_value(v) for v in value]
    return str(value)


def write_hotspots_geojson(
    hotspots: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    tolerance_m: float = 0.0,
) -> Path:
    """Write the Hotspots frame (or any polygon layer) as RFC 7946 GeoJSON.

    WGS84 longitude/latitude rounded to 6 decimal places, polygon rings oriented
    counter-clockwise (exterior) as RFC 7946 asks, every other column as a property (NaN as
    ``null``), no ``crs`` member. The list columns are text (``"Drugs 30; Burglary 12"``,
    ``"Ward A; Ward B"``). Features in rank order (when there is a ``rank`` column), their
    texts joined, not built as one big structure. For the web (what ``hotspots analyse``
    writes: :data:`hotspots.web.GEOJSON_MAX_BYTES`, :data:`hotspots.web.DISPLAY_TOLERANCE_M`)
    outlines are simplified within ``tolerance_m`` metres
    (:func:`hotspots.web.display_geometries`) and features written while they fit in
    ``max_bytes``; when some are left out, a ``note`` member says how many (every hotspot,
    exact, is in :func:`write_hotspots_gpkg` and :func:`write_hotspots_csv`).

    Parameters
    ----------
    hotspots
        Hotspots frame in any CRS (may be empty).
    path
        The ``.geojson`` file to write.
    max_bytes
        Most bytes of features (None: every feature).
    tolerance_m
        Display simplification in metres (0: exact outlines).

    Returns
    -------
    Path
    """
    frame = check_layer(hotspots, "hotspots", fix="pass find_hotspots(...).hotspots")
    if "rank" in frame.columns and len(frame):
        frame = frame.sort_values("rank", kind="stable")
    table = lists_as_text(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    names = [str(c) for c in table.columns]
    rows = table.itertuples(index=False, name=None)

    def features(
        batch: gpd.GeoDataFrame, geoms: np.ndarray[Any, Any], start: int
    ) -> Iterator[tuple[str, int]]:
        geoms = geoms.copy()
        geoms[shapely.is_empty(geoms)] = None
        texts = shapely.to_geojson(geoms)
        for geometry, record in zip(texts, itertools.islice(rows, len(batch)), strict=True):
            properties = {n: _json_value(v) for n, v in zip(names, record, strict=True)}
            text = (
                '{"type":"Feature","properties":'
                + json.dumps(properties, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                + ',"geometry":'
                + (geometry if geometry is not None else "null")
                + "}"
            )
            yield text, len(text.encode("utf-8")) + 1

    budget = sys.maxsize if max_bytes is None else max_bytes
    texts = fitting_items(frame, features, budget, tolerance_m=tolerance_m)
    note = ""
    if len(texts) < len(frame):
        note = json.dumps(
            f"The top {len(texts):,} of {len(frame):,} hotspots by rank, to keep this file "
            f"under {budget / 1e6:.1f} MB; every hotspot, with its exact outline, is in "
            "hotspots.gpkg and hotspots.csv.",
            ensure_ascii=False,
        )
        note = f'"note":{note},'
    with atomic_write(path) as f:
        f.write('{"type":"FeatureCollection",' + note + '"features":[')
        f.write(",".join(texts))
        f.write("]}\n")
    log.info("wrote %d of %d hotspots to %s", len(texts), len(frame), path)
    return Path(path)


def write_hotspots_csv(hotspots: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the Hotspots frame as CSV: every column but the geometry, plus its centroid.

    ``centroid_longitude`` / ``centroid_latitude`` (WGS84, 6 decimal places) are computed in a
    projected CRS (the frame's, or the one :func:`hotspots.crs.to_metres` picks) and come last.
    Missing values are empty cells; the list columns are text (``"Drugs 30; Burglary 12"``).

    Returns
    -------
    Path
    """
    frame = check_layer(hotspots, "hotspots", fix="pass find_hotspots(...).hotspots")
    metric = frame if frame.crs.is_projected else to_metres(frame)
    centroids = gpd.GeoSeries(metric.geometry.centroid, crs=metric.crs).to_crs("EPSG:4326")
    table = lists_as_text(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    empty = metric.geometry.isna().to_numpy() | metric.geometry.is_empty.to_numpy()
    lon = np.where(empty, np.nan, np.round(centroids.x.to_numpy(), _DP_DEGREES))
    lat = np.where(empty, np.nan, np.round(centroids.y.to_numpy(), _DP_DEGREES))
    table["centroid_longitude"] = lon
    table["centroid_latitude"] = lat
    _write_csv(table, path)
    log.info("wrote %d hotspots to %s", len(table), path)
    return Path(path)


def write_hotspots_gpkg(
    hotspots: gpd.GeoDataFrame, path: str | os.PathLike[str], *, layer: str = "hotspots"
) -> Path:
    """Write the Hotspots frame as a GeoPackage layer, in the frame's own CRS.

    The file is replaced as a whole (other layers in an existing file are not kept). The list
    columns are text (``"Drugs 30; Burglary 12"``).

    Returns
    -------
    Path
    """
    frame = check_layer(hotspots, "hotspots", fix="pass find_hotspots(...).hotspots")
    if not layer or not isinstance(layer, str):
        raise ParameterError(f"layer must be a non-empty name, not {layer!r}.")
    out = lists_as_text(frame)
    for col in out.columns:
        if col != out.geometry.name and isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(object)

    def write(tmp: Path) -> None:
        pyogrio.write_dataframe(out, tmp, layer=layer, driver="GPKG")

    write_via(path, write, ".gpkg")
    log.info("wrote %d hotspots to %s (layer %s)", len(frame), path, layer)
    return Path(path)


def _months(values: pd.Series) -> pd.Series:
    """``YYYY-MM`` text for datetimes or date-like text; empty (missing) for missing."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        # few distinct months, counted from the first (a bincount, not a sort of every row):
        # categories, each month formatted once (written by code: hotspots.csv_text)
        months = values.to_numpy().astype("datetime64[M]")
        missing = np.isnat(months)
        number = months.view(np.int64)
        first = int(number[~missing].min()) if not missing.all() else 0
        code = np.where(missing, 0, number - first)
        span = int(code.max(initial=0)) + 1
        used = np.flatnonzero(np.bincount(code[~missing], minlength=span))
        position = np.full(span, -1, dtype=np.int64)
        position[used] = np.arange(len(used))
        texts = pd.Index([str(np.datetime64(first + int(k), "M")) for k in used], dtype="str")
        codes = np.where(missing, -1, position[code])
        return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(texts)))
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y-%m")
        return out.where(values.notna(), "")
    text = values.astype(object).where(values.notna(), "")
    return text.map(lambda v: str(v)[:7])


def _incident_xy(
    frame: gpd.GeoDataFrame,
) -> tuple[
    np.ndarray[Any, Any] | None,
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
]:
    """Each incident's easting, northing (metres) and longitude, latitude (NaN: no geometry),
    and None; or each row's code into distinct map points and those four of each point."""
    metric = frame if frame.crs.is_projected else to_metres(frame)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    every = all_points_xy(geoms)  # every row a point (an Incidents frame): kept coordinates
    if every is not None:
        if not np.all(every):  # a zero, maybe -0.0: each row projected, its sign kept
            x, y = every[:, 0].copy(), every[:, 1].copy()
            return (None, x, y, *project_xy(metric.crs, CRS.from_epsg(4326), x, y))
        # each distinct map point projected once, from the codes kept for these coordinates
        # (hotspots._points.unique_points: 3M rows on 125k points)
        codes, uxy, _ = unique_points(every)
        x, y = uxy[:, 0].copy(), uxy[:, 1].copy()
        return (codes, x, y, *project_xy(metric.crs, CRS.from_epsg(4326), x, y))
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    if ok.any():
        pts = geoms[ok]
        if not (shapely.get_type_id(pts) == 0).all():
            pts = shapely.point_on_surface(pts)
        x[ok], y[ok] = shapely.get_x(pts), shapely.get_y(pts)
        lon[ok], lat[ok] = project_xy(metric.crs, CRS.from_epsg(4326), x[ok], y[ok])
    return None, x, y, lon, lat


def _rounded(values: np.ndarray[Any, Any], decimals: int, codes: Any) -> pd.Series:
    """``values`` rounded, a row each; with ``codes`` (a row's map point) values of the map
    points, given as categories, so that the writer makes each one's text once."""
    rounded = np.round(values, decimals)
    if codes is None:
        return pd.Series(rounded)
    if not np.isfinite(rounded).all() or (rounded == 0).any():
        # categories hold no NaN, and one of 0.0 and -0.0 (written "-0.0"): a row each
        return pd.Series(rounded[codes])
    distinct, inverse = np.unique(rounded, return_inverse=True)
    dtype = pd.CategoricalDtype(pd.Index(distinct))
    return pd.Series(pd.Categorical.from_codes(inverse[codes], dtype=dtype))


def write_incidents_csv(
    incidents: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    hotspot_ids: pd.Series | None = None,
) -> Path:
    """Write every incident with its coordinates and its hotspot (``INCIDENTS_CSV_COLUMNS``).

    Columns, exactly: ``incident_id``, ``month`` (``YYYY-MM``), ``category``, ``longitude`` and
    ``latitude`` (WGS84, 6 decimal places), ``easting`` and ``northing`` (metres in the frame's
    CRS, or the CRS :func:`hotspots.crs.to_metres` picks when the frame is in degrees; 1 decimal
    place), ``hotspot_id`` (empty for noise). Written through Arrow (:mod:`hotspots.csv_text`).

    Parameters
    ----------
    incidents
        Incidents frame (points).
    path
        The ``.csv`` file to write.
    hotspot_ids
        Each incident's hotspot id, aligned on the frame's index (as ``find_hotspots`` returns
        it); missing, ``""`` or NaN for noise. When ``None``, the frame's ``hotspot_id`` column
        is used if it has one, else every incident is noise.

    Returns
    -------
    Path
    """
    frame = check_layer(incidents, "incidents", fix="read them with read_incidents()")
    codes, x, y, lon, lat = _incident_xy(frame)
    if hotspot_ids is None:
        ids = (
            frame["hotspot_id"]
            if "hotspot_id" in frame.columns
            else pd.Series("", index=frame.index)
        )
    else:
        if not isinstance(hotspot_ids, pd.Series):
            raise ParameterError(
                f"hotspot_ids: expected a pandas Series aligned on the incidents, "
                f"got {type(hotspot_ids).__name__}."
            )
        if not hotspot_ids.index.equals(frame.index):
            if not hotspot_ids.index.is_unique or not frame.index.isin(hotspot_ids.index).all():
                raise ParameterError(
                    "hotspot_ids: its index does not match the incidents' index; pass the "
                    "Series find_hotspots returned for these incidents."
                )
            hotspot_ids = hotspot_ids.reindex(frame.index)
        ids = hotspot_ids

    def column(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series("", index=frame.index)
        return frame[name]

    series = [
        column("incident_id"),
        _months(frame["month"]) if "month" in frame.columns else column("month"),
        column("category"),
        _rounded(lon, _DP_DEGREES, codes),
        _rounded(lat, _DP_DEGREES, codes),
        _rounded(x, _DP_METRES, codes),
        _rounded(y, _DP_METRES, codes),
        ids,
    ]
    _write_columns_csv(list(INCIDENTS_CSV_COLUMNS), series, path)
    log.info("wrote %d incidents to %s", len(frame), path)
    return Path(path)


def map_html(m: folium.Map, *, asset_folder: str | os.PathLike[str] | None = None) -> str:
    """The map as one standalone HTML page: every script and stylesheet inlined.

    Renders ``m`` with its links pointed at the installed local assets in ``asset_folder``
    (default: :data:`hotspots.assets.DEFAULT_FOLDER`), whatever ``assets`` mode it was made with
    (its own links are restored afterwards), then inlines them
    (:func:`hotspots.assets.inline_html`). The page loads nothing from the network except map
    tiles, when the map has a tile layer. Usable as ``streamlit.components.v1.html(map_html(m))``.

    Raises
    ------
    InputError
        When the map assets are not installed.
    ValueError
        When something external besides map tiles would still be fetched.
    """
    if not isinstance(m, folium.Map):
        raise ParameterError(f"m: expected a folium.Map, got {type(m).__name__}.")
    with assets_as(m, mode="inline", folder=asset_folder):
        page = m.get_root().render()
    page = inline_html(page, folder=asset_folder)
    left = external_urls(page)
    if left:
        raise ValueError(
            "the map would still load " + ", ".join(left[:5]) + "; it cannot be made standalone."
        )
    return page


def write_map_html(
    m: folium.Map,
    path: str | os.PathLike[str],
    *,
    asset_folder: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``m`` as a standalone HTML file that opens with no internet (:func:`map_html`).

    ``asset_folder`` is the installed map assets' folder (default:
    :data:`hotspots.assets.DEFAULT_FOLDER`).

    Returns
    -------
    Path
    """
    page = map_html(m, asset_folder=asset_folder)
    with atomic_write(path) as f:
        f.write(page)
    log.info("wrote the map to %s (%.1f MB)", path, len(page.encode("utf-8")) / 1e6)
    return Path(path)


def write_summary(summary: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``summary`` as JSON: UTF-8, indent 2, keys in the order given, NaN as ``null``.

    Numpy scalars, timestamps and paths are converted; anything else JSON does not know is
    written as its text.

    Returns
    -------
    Path
    """
    if not isinstance(summary, Mapping):
        raise ParameterError(f"summary: expected a mapping, got {type(summary).__name__}.")

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [clean(v) for v in value]
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        return _json_value(value)

    with atomic_write(path) as f:
        json.dump(clean(summary), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    return Path(path)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def safe_cell(value: object) -> object:
    r"""A cell as a spreadsheet may open it: text it would run as a formula gets a leading ``'``.

    Text starting with ``=`` ``+`` ``-`` ``@``, a tab or a carriage return is a formula to
    Excel, LibreOffice and Google Sheets (CSV injection, OWASP): a street or ward name such as
    ``=HYPERLINK(...)`` would run when the file is opened. Numbers, and text that is a plain
    number (``-0.5``), are left alone; so is anything else.

    >>> [safe_cell(v) for v in ("=1+2", "@cmd", "-0.5", -3, "Hoe Street", "\tx")]
    ["'=1+2", "'@cmd", '-0.5', -3, 'Hoe Street', "'\tx"]
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def _spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell and column name passed through :func:`safe_cell`.

    Street names, categories, ward names and the columns of the user's files all reach the CSV
    files; numeric columns cannot hold a formula and are left alone.
    """
    out = table
    for i in range(table.shape[1]):
        series = table.iloc[:, i]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
            series.dtype
        ):
            continue
        values = series.astype(object)
        maybe = np.flatnonzero(values.astype("str").str.startswith(_FORMULA_START).to_numpy())
        pairs = [(int(j), safe_cell(values.iloc[j])) for j in maybe]
        changed = [(j, v) for j, v in pairs if v is not values.iloc[j]]
        if changed:
            if out is table:
                out = table.copy()
            fixed = values.copy()
            fixed.iloc[[j for j, _ in changed]] = [v for _, v in changed]
            out.isetitem(i, fixed.to_numpy())
    names = [safe_cell(str(c)) for c in table.columns]
    if names != [str(c) for c in table.columns]:
        out = out.copy() if out is table else out
        out.columns = names
    return out


def _write_columns_csv(
    names: list[str],
    series: list[pd.Series],
    path: str | os.PathLike[str],
    table: pd.DataFrame | None = None,
) -> None:
    """The one CSV writer: spreadsheet-safe cells and names, UTF-8, LF line ends, atomic.

    Through Arrow (:mod:`hotspots.csv_text`: the same text, at Arrow's speed) when every column
    has a plain type; else with pandas (``table``, or one built from ``series``).
    """
    columns = csv_columns(series)
    if columns is not None:
        write_csv_columns([str(safe_cell(n)) for n in names], columns, path)
        return
    if table is None:
        table = pd.DataFrame({i: s.to_numpy() for i, s in enumerate(series)})
        table.columns = pd.Index(names)
    with atomic_write(path) as f:
        _spreadsheet_safe(table).to_csv(f, index=False, lineterminator="\n")


def _write_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``table`` (no index) with :func:`_write_columns_csv`."""
    series = [table.iloc[:, i] for i in range(table.shape[1])]
    _write_columns_csv([str(c) for c in table.columns], series, path, table)


def write_table_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a plain table (ward table, patrol coverage, outreach streets) as CSV.

    UTF-8, no index, missing values as empty cells, the Hotspots frame's list columns as text,
    text that a spreadsheet would run as a formula prefixed with ``'``. Written atomically (a
    temporary file, then renamed).

    Returns
    -------
    Path
    """
    if not isinstance(table, pd.DataFrame):
        raise ParameterError(f"table: expected a DataFrame, got {type(table).__name__}.")
    frame = pd.DataFrame(table)
    if isinstance(table, gpd.GeoDataFrame):
        frame = pd.DataFrame(table.drop(columns=table.geometry.name))
    frame = lists_as_text(frame)
    _write_csv(frame, path)
    log.info("wrote %d rows to %s", len(frame), path)
    return Path(path)
