"""Ward boundaries and patrol areas: any polygon layer read into the frames the overlay uses.

:func:`load_wards` and :func:`load_patrol_areas` read GeoJSON, GeoPackage, Shapefile (a
``.shp``, a folder holding one, or a ``.zip`` of it, read in place) and KML (when the GDAL build
has a KML driver), in any CRS, and return the layer in ``target_crs`` (British National Grid by
default) with fixed leading columns, plus the warnings a user should see:

* wards: ``ward_code, ward_name, population, geometry`` then the other source columns;
* patrol areas: ``patrol_area, geometry`` then the other source columns.

What they decide, and say in a warning:

* **Columns** are found by their usual names, in any case (see :data:`CODE_NAMES`,
  :data:`NAME_NAMES`, :data:`POPULATION_NAMES`, :data:`PATROL_NAMES`), unless given. Without a
  code column the ward names are the codes; without a name column the codes are the names.
* **CRS**: the file's own. A layer without one (a Shapefile without its ``.prj``) is read as
  longitude/latitude (EPSG:4326) when every coordinate fits -180..180 / -90..90, else as
  British National Grid when every coordinate fits eastings 0..700,000 and northings
  0..1,300,000, else it is an error asking for the ``.prj`` or ``crs=``.
* **Invalid polygons** are repaired with :func:`shapely.make_valid`, keeping only their
  polygonal parts; features left without area are dropped.
* **Duplicate ward codes** (or patrol area names) are dissolved into one feature each.

Errors are :class:`hotspots.errors.InputFileError` (or ``ParameterError`` for a bad argument)
with one line naming the file and the fix: no such file, no polygon layer or several of them
and none chosen, points or lines given as areas, an empty layer, a named column that does not
exist, a zip member escaping the archive, and a layer lying nowhere near the incidents.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry import box

from hotspots.archive import check_zip
from hotspots.errors import InputFileError, ParameterError

__all__ = [
    "CODE_NAMES",
    "NAME_NAMES",
    "PATROL_COLUMNS",
    "PATROL_NAMES",
    "POPULATION_NAMES",
    "WARD_COLUMNS",
    "load_patrol_areas",
    "load_wards",
    "read_population",
]

log = logging.getLogger(__name__)

#: Leading columns of the wards frame, in this order; other source columns follow.
WARD_COLUMNS: list[str] = ["ward_code", "ward_name", "population", "geometry"]
#: Leading columns of the patrol areas frame; other source columns follow.
PATROL_COLUMNS: list[str] = ["patrol_area", "geometry"]

#: Ward code column names, in order of preference (any case; ``WD??CD`` is ONS style, WD22CD).
CODE_NAMES: tuple[str, ...] = ("ward_code", "code", "WD??CD", "GSS_CODE", "ons_code")
#: Ward name column names, in order of preference (any case).
NAME_NAMES: tuple[str, ...] = ("ward_name", "name", "WD??NM", "ward")
#: Population column names, in order of preference (any case).
POPULATION_NAMES: tuple[str, ...] = ("population", "pop", "usual_residents", "all_residents")
#: Patrol area name column names, in order of preference (any case).
PATROL_NAMES: tuple[str, ...] = ("patrol_area", "name", "area_name", "title")

_VECTOR_EXT = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage"}
_VECTOR_EXT |= {".shp": "Shapefile", ".kml": "KML", ".kmz": "KML"}
_ACCEPTED = ".geojson, .gpkg, .shp (or a folder or .zip holding one) or .kml"
# Zip guards (hotspots.archive), as for incident archives.
_MAX_ARCHIVE_BYTES = 2_000_000_000
_MAX_ARCHIVE_RATIO = 100.0
# Where British National Grid coordinates can lie (metres).
_BNG_BOX = (0.0, 0.0, 700_000.0, 1_300_000.0)
_LONLAT_BOX = (-180.0, -90.0, 180.0, 90.0)
_SHOW = 5  # names listed in a warning before "..."


# ==========================================================================================
# Small helpers
# ==========================================================================================
def _some(items: Sequence[str], k: int = _SHOW) -> str:
    shown = ", ".join(str(i) for i in items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")


def _norm(name: object) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower())


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(_norm(name)).replace(r"\?", r"\d") + "$")


def _find_column(columns: Sequence[str], names: Sequence[str], used: set[str]) -> str | None:
    """The first column matching ``names`` (in their order of preference), any case."""
    for name in names:
        pat = _pattern(name)
        for col in columns:
            if col not in used and pat.match(_norm(col)):
                return col
    return None


def _given_column(columns: Sequence[str], given: str, arg: str, display: str) -> str:
    if given in columns:
        return given
    folded = [c for c in columns if c.lower() == str(given).lower()]
    if folded:
        return folded[0]
    raise InputFileError(
        f"{display}: has no column {given!r} ({arg}); its columns are: "
        f"{', '.join(columns) or 'none'}."
    )


def _text(s: pd.Series) -> pd.Series:
    """Strings with "" for missing, stripped; whole floats shown as integers (codes)."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if np.all(v[fin] == np.round(v[fin])) and np.all(np.abs(v[fin]) < 2**53):
            vals = np.where(fin, v, 0).astype(np.int64).astype(str).astype(object)
            vals[~fin] = ""
            return pd.Series(vals, index=s.index, dtype="str")
    obj = s.astype(object)
    return obj.where(obj.notna(), "").astype("str").str.strip()


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from a column (thousands separators allowed); and which non-empty ones were bad."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.astype("float64")
        return values, pd.Series(False, index=s.index)
    text = _text(s).str.replace(r"[,\s_]", "", regex=True)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    return values, (text != "") & values.isna()


@lru_cache(maxsize=1)
def _drivers() -> frozenset[str]:
    return frozenset(pyogrio.list_drivers())


def _parse_crs(value: str | pyproj.CRS | None, arg: str) -> pyproj.CRS | None:
    if value is None:
        return None
    try:
        return pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise ParameterError(
            f"{arg}: {value!r} is not a coordinate reference system; give one like 'EPSG:27700'."
        ) from exc


# ==========================================================================================
# Finding the dataset: file, folder, zip member; KML driver; layer
# ==========================================================================================
def _check_zip(zf: zipfile.ZipFile, display: str) -> None:
    check_zip(
        zf,
        display,
        max_ratio=_MAX_ARCHIVE_RATIO,
        max_bytes=_MAX_ARCHIVE_BYTES,
        too_big_fix="simplify the boundaries or give the unzipped files",
    )


def _pick(candidates: list[str], layer: str | None, display: str, what: str) -> str:
    """One of several files: the only one, or the one whose stem is ``layer``."""
    if len(candidates) == 1:
        return candidates[0]
    if layer is not None:
        named = [c for c in candidates if PurePosixPath(c).stem.lower() == layer.lower()]
        if len(named) == 1:
            return named[0]
    listed = ", ".join(PurePosixPath(c).name for c in candidates)
    raise InputFileError(
        f"{display}: holds {len(candidates)} boundary files ({listed}); give the one with the "
        f"{what}, or its name as layer=."
    )


def _dataset(path: Path, layer: str | None, what: str) -> tuple[str, str, str, bool]:
    """``(target for GDAL, name shown in messages, format, chosen by file name)``."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder; check the path.")
    display = path.name
    if path.is_dir():
        files = sorted(
            p.name
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in _VECTOR_EXT and not p.name.startswith(".")
        )
        if not files:
            raise InputFileError(
                f"{display}: the folder holds no boundary file ({_ACCEPTED}); give the file."
            )
        chosen = _pick(files, layer, display, what)
        target, shown, kind, _ = _dataset(path / chosen, None, what)
        return target, f"{display}/{shown}", kind, len(files) > 1
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                _check_zip(zf, display)
                names = [i.filename for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
            raise InputFileError(
                f"{display}: not a readable zip archive ({exc}); download it again, or unzip it "
                "and give the folder."
            ) from exc
        members = sorted(
            n
            for n in names
            if PurePosixPath(n).suffix.lower() in _VECTOR_EXT
            and not any(p.startswith(".") or p == "__MACOSX" for p in n.split("/"))
        )
        if not members:
            raise InputFileError(
                f"{display}: the archive holds no boundary file ({_ACCEPTED}); check that it "
                f"holds the {what}."
            )
        member = _pick(members, layer, display, what)
        kind = _VECTOR_EXT[PurePosixPath(member).suffix.lower()]
        _check_driver(kind, f"{display}!{member}")
        target = f"/vsizip/{path.resolve().as_posix()}/{member}"
        return target, f"{display}!{member}", kind, len(members) > 1
    kind_or_none = _VECTOR_EXT.get(suffix)
    if kind_or_none is None:
        raise InputFileError(f"{display}: not a boundary file; give the {what} as {_ACCEPTED}.")
    _check_driver(kind_or_none, display, kmz=suffix == ".kmz")
    return str(path), display, kind_or_none, False


def _check_driver(kind: str, display: str, *, kmz: bool = False) -> None:
    if kind != "KML":
        return
    drivers = _drivers()
    if "LIBKML" in drivers or ("KML" in drivers and not kmz):
        return
    raise InputFileError(
        f"{display}: this installation's GDAL has no {'LIBKML' if kmz else 'KML'} driver, so "
        "KML cannot be read; convert it to GeoJSON or GeoPackage first (e.g. "
        "ogr2ogr -f GeoJSON areas.geojson areas.kml)."
    )


def _layer_kind(gtype: object) -> str:
    text = str(gtype or "").lower()
    if "polygon" in text:
        return "polygon"
    if "point" in text or "line" in text:
        return "other"
    return "unknown"


def _choose_layer(target: str, layer: str | None, display: str, what: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [(str(n), g) for n, g in pyogrio.list_layers(target)]
    except Exception as exc:
        raise InputFileError(
            f"{display}: cannot be opened ({_first_line(exc)}); check that the file is complete "
            "and of the type its name says."
        ) from exc
    names = [n for n, _ in layers]
    listed = ", ".join(f"{n} ({g or 'no geometry'})" for n, g in layers) or "none"
    if layer is not None:
        if layer in names:
            return layer
        folded = [n for n in names if n.lower() == layer.lower()]
        if folded:
            return folded[0]
        raise InputFileError(f"{display}: has no layer {layer!r}; its layers are: {listed}.")
    if len(layers) <= 1:
        return names[0] if names else None
    polygons = [n for n, g in layers if _layer_kind(g) == "polygon"]
    if len(polygons) == 1:
        return polygons[0]
    if len(polygons) > 1:
        raise InputFileError(
            f"{display}: holds {len(polygons)} polygon layers ({', '.join(polygons)}); choose "
            f"the one with the {what} with layer= (e.g. layer={polygons[0]!r})."
        )
    unknown = [n for n, g in layers if _layer_kind(g) == "unknown"]
    if len(unknown) == 1:
        return unknown[0]
    raise InputFileError(
        f"{display}: no single polygon layer (layers: {listed}); choose the layer with the "
        f"{what} with layer=, or give a file of polygons."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read(path: str | Path, layer: str | None, what: str) -> tuple[gpd.GeoDataFrame, str]:
    if not isinstance(path, str | Path):
        raise ParameterError(f"path: expected a file path, got {type(path).__name__}.")
    if layer is not None and not isinstance(layer, str):
        raise ParameterError(f"layer: expected a layer name, got {type(layer).__name__}.")
    target, display, kind, by_file = _dataset(Path(path), layer, what)
    chosen = _choose_layer(target, None if by_file else layer, display, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(target, layer=chosen)
    except Exception as exc:
        raise InputFileError(
            f"{display}: cannot be read as {kind} ({_first_line(exc)}); check that the file is "
            "complete and of that type."
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputFileError(
            f"{display}: holds a table without geometry; give the {what} as polygons."
        )
    log.info("%s: read %d features (%s, layer %s)", display, len(gdf), kind, chosen)
    return gdf, display


# ==========================================================================================
# Geometry: types, CRS, repair
# ==========================================================================================
def _check_polygons(
    gdf: gpd.GeoDataFrame, display: str, what: str, notes: list[str]
) -> gpd.GeoDataFrame:
    geom = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if len(gdf) == 0 or missing.all():
        raise InputFileError(
            f"{display}: holds no {what} (the layer is empty); check that it is the right file "
            "or layer."
        )
    types = shapely.get_type_id(geom)
    polygonal = np.isin(types, [3, 6])
    collection = types == 7
    if collection.any():  # keep collections that hold areas; their other parts are dropped
        polygonal[collection] = [_has_area_part(g) for g in geom[collection]]
    bad = ~missing & ~polygonal
    if bad.any():
        kinds = sorted({str(t) for t in gdf.geometry[bad].geom_type.unique()})
        raise InputFileError(
            f"{display}: holds {', '.join(kinds)} geometries ({int(bad.sum()):,} of "
            f"{len(gdf):,} features), not areas; give the {what} as polygons, not points or lines."
        )
    if missing.any():
        notes.append(f"{display}: {int(missing.sum())} features without a geometry were left out.")
        gdf = gdf[~missing]
    out = gdf.copy()
    out.geometry = shapely.force_2d(out.geometry.to_numpy())
    return out


def _has_area_part(g: Any) -> bool:
    parts = shapely.get_parts(g)
    return bool(np.isin(shapely.get_type_id(parts), [3, 6]).any())


def _fits(bounds: np.ndarray, limits: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    x0, y0, x1, y1 = limits
    return (
        bool(np.isfinite(bounds).all()) and x0 <= minx and maxx <= x1 and y0 <= miny and maxy <= y1
    )


def _set_crs(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS | None, display: str, notes: list[str]
) -> gpd.GeoDataFrame:
    bounds = gdf.total_bounds
    lonlat = _fits(bounds, _LONLAT_BOX)
    bng = _fits(bounds, _BNG_BOX)
    extent = f"x {bounds[0]:,.2f} to {bounds[2]:,.2f}, y {bounds[1]:,.2f} to {bounds[3]:,.2f}"
    if gdf.crs is None:
        if crs is not None:
            return gdf.set_crs(crs)
        if lonlat:
            notes.append(
                f"{display}: no coordinate reference system (a missing .prj?); the coordinates "
                "look like longitude/latitude, so WGS84 (EPSG:4326) was assumed; give crs= if "
                "that is wrong."
            )
            return gdf.set_crs("EPSG:4326")
        if bng:
            notes.append(
                f"{display}: no coordinate reference system (a missing .prj?); the coordinates "
                "fit British National Grid, so EPSG:27700 was assumed; give crs= if that is wrong."
            )
            return gdf.set_crs("EPSG:27700")
        raise InputFileError(
            f"{display}: the layer has no coordinate reference system (a missing .prj?) and its "
            f"coordinates ({extent}) fit neither longitude/latitude nor British National Grid; "
            "add the .prj file beside the .shp or give its CRS, e.g. crs='EPSG:32630'."
        )
    if gdf.crs.is_geographic and not lonlat:
        if bng:
            notes.append(
                f"{display}: says its coordinates are longitude/latitude ({gdf.crs.name}) but "
                "they are metres that fit British National Grid, so EPSG:27700 was assumed."
            )
            return gdf.set_crs("EPSG:27700", allow_override=True)
        raise InputFileError(
            f"{display}: says its coordinates are longitude/latitude ({gdf.crs.name}) but they "
            f"are not ({extent}); fix the file's CRS or give the right one with crs=."
        )
    return gdf


def _reproject(gdf: gpd.GeoDataFrame, target: pyproj.CRS, display: str) -> gpd.GeoDataFrame:
    out = gdf if gdf.crs == target else gdf.to_crs(target)
    if not np.isfinite(out.total_bounds).all():
        raise InputFileError(
            f"{display}: its coordinates cannot be transformed from {gdf.crs.name} to "
            f"{target.name}; check the layer's CRS."
        )
    return out


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry (a Polygon, a MultiPolygon, or an empty Polygon)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(shapely.get_parts(geom))
    polys = [p for p in parts if shapely.get_type_id(p) == 3 and not p.is_empty]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _repair(
    geoms: np.ndarray, labels: pd.Series, display: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """make_valid the invalid polygons (polygonal parts kept); ``(geometries, has area)``."""
    out = geoms.copy()
    collection = shapely.get_type_id(out) == 7
    invalid = ~shapely.is_valid(out) | collection
    if invalid.any():
        fixed = shapely.make_valid(out[invalid])
        out[invalid] = [_polygonal(g) for g in fixed]
        which = labels[invalid].tolist()
        notes.append(
            f"{display}: {int(invalid.sum())} invalid polygon(s) repaired with make_valid "
            f"(only their area kept): {_some(which)}."
        )
    has_area = shapely.area(out) > 0
    if not has_area.all():
        which = labels[~has_area].tolist()
        notes.append(
            f"{display}: {int((~has_area).sum())} feature(s) without any area were left out: "
            f"{_some(which)}."
        )
    return out, has_area


def _check_near(
    layer: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame | None, display: str, what: str
) -> None:
    """A layer whose polygons all miss the incidents' bounding box is the wrong area or CRS."""
    if incidents is None:
        return
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ParameterError(
            f"incidents: expected the Incidents GeoDataFrame, got {type(incidents).__name__}."
        )
    if incidents.crs is None:
        raise ParameterError("incidents: the frame has no CRS; read it with read_incidents().")
    pts = incidents.geometry
    pts = pts[pts.notna() & ~pts.is_empty]
    if pts.empty or layer.empty:
        return
    if pts.crs != layer.crs:
        pts = pts.to_crs(layer.crs)
    bounds = pts.total_bounds
    if not np.isfinite(bounds).all():
        return
    if layer.sindex.query(box(*bounds), predicate="intersects").size:
        return
    lx, ly = _centre(layer.total_bounds)
    ix, iy = _centre(bounds)
    raise InputFileError(
        f"{display}: the {what} lie nowhere near the incidents ({what} around x {lx:,.0f}, "
        f"y {ly:,.0f}; incidents around x {ix:,.0f}, y {iy:,.0f}): check it is the right area "
        "or CRS."
    )


def _centre(bounds: np.ndarray) -> tuple[float, float]:
    return float(bounds[0] + bounds[2]) / 2, float(bounds[1] + bounds[3]) / 2


# ==========================================================================================
# Frames
# ==========================================================================================
def _extras(gdf: gpd.GeoDataFrame, used: set[str], reserved: Sequence[str]) -> pd.DataFrame:
    """The other source columns, renamed ``<name>_source`` where they clash with ours."""
    keep = [c for c in gdf.columns if c != gdf.geometry.name and c not in used]
    extra = pd.DataFrame(gdf[keep]).reset_index(drop=True)
    taken = set(reserved)
    renames: dict[str, str] = {}
    for col in keep:
        new = str(col)
        while new in taken:
            new = f"{new}_source"
        taken.add(new)
        renames[col] = new
    return extra.rename(columns=renames)


def _dissolve(frame: gpd.GeoDataFrame, key: str, sums: Sequence[str]) -> gpd.GeoDataFrame:
    """One row per ``key`` (first-appearance order): geometries unioned, ``sums`` added."""
    groups = pd.factorize(frame[key])[0]
    first = ~pd.Series(groups).duplicated().to_numpy()
    out = frame[first].copy()
    geoms = frame.geometry.to_numpy()
    merged = []
    for g in range(int(groups.max()) + 1):
        parts = geoms[groups == g]
        merged.append(parts[0] if len(parts) == 1 else _polygonal(shapely.union_all(parts)))
    for col in sums:
        out[col] = frame[col].groupby(groups).sum(min_count=1).to_numpy()
    out = out.set_geometry(np.array(merged, dtype=object), crs=frame.crs)
    return out.reset_index(drop=True)


def _finish(
    front: dict[str, pd.Series],
    extras: pd.DataFrame,
    geoms: np.ndarray,
    crs: pyproj.CRS,
    leading: list[str],
) -> gpd.GeoDataFrame:
    data = pd.concat([pd.DataFrame(front), extras], axis=1)
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    order = leading + [c for c in frame.columns if c not in leading]
    return frame[order]


def _prepare(
    path: str | Path,
    layer: str | None,
    crs: str | pyproj.CRS | None,
    target_crs: str | pyproj.CRS,
    what: str,
) -> tuple[gpd.GeoDataFrame, str, pyproj.CRS, list[str]]:
    target = _parse_crs(target_crs, "target_crs")
    if target is None:
        raise ParameterError("target_crs: give the CRS to return the layer in, e.g. 'EPSG:27700'.")
    given = _parse_crs(crs, "crs")
    notes: list[str] = []
    gdf, display = _read(path, layer, what)
    gdf = _check_polygons(gdf, display, what, notes)
    gdf = _set_crs(gdf, given, display, notes)
    gdf = _reproject(gdf, target, display)
    return gdf.reset_index(drop=True), display, target, notes


def load_wards(
    path: str | Path,
    *,
    layer: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    target_crs: str | pyproj.CRS = "EPSG:27700",
    incidents: gpd.GeoDataFrame | None = None,
    crs: str | pyproj.CRS | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read ward boundaries into a wards frame in ``target_crs``.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile (``.shp``, a folder or a ``.zip`` holding one) or KML
        file of ward polygons, in any CRS.
    layer
        The layer to read from a file with several (a GeoPackage): needed when it holds more
        than one polygon layer. In a folder or zip with several files, the file's name stem.
    code_column, name_column, population_column
        Source columns holding the ward code, name and usual resident population. When None
        they are found by name in any case: code ``ward_code``, ``code``, ``WD??CD`` (ONS,
        e.g. WD22CD), ``GSS_CODE``, ``ons_code``; name ``ward_name``, ``name``, ``WD??NM``,
        ``ward``; population ``population``, ``pop``, ``usual_residents``, ``all_residents``.
    target_crs
        CRS of the returned frame (British National Grid by default).
    incidents
        When given, a layer with no polygon anywhere near the incidents' extent is an error
        (the wrong area, or a wrong CRS).
    crs
        CRS of the file's coordinates, used only when the file gives none (a Shapefile without
        its ``.prj``); when None such a CRS is inferred (see the module docstring).

    Returns
    -------
    wards : GeoDataFrame
        ``ward_code`` (str), ``ward_name`` (str), ``population`` (float, NaN when unknown),
        ``geometry`` ((Multi)Polygon), then the other source columns (renamed
        ``<name>_source`` on a clash), one row per ward code, in file order, in ``target_crs``.
    warnings : list of str
        What was assumed or repaired: inferred CRS, codes made from names, repaired polygons,
        merged duplicate codes, unreadable populations.

    Examples
    --------
    >>> from geodata import SAMPLE_WARDS
    >>> wards, notes = load_wards(SAMPLE_WARDS)
    >>> wards.columns[:4].tolist(), len(wards), wards.crs.to_string(), notes
    (['ward_code', 'ward_name', 'population', 'geometry'], 10, 'EPSG:27700', [])
    """
    gdf, display, target, notes = _prepare(path, layer, crs, target_crs, "wards")
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    used: set[str] = set()

    def column(given: str | None, arg: str, names: Sequence[str]) -> str | None:
        found = (
            _given_column(columns, given, arg, display)
            if given is not None
            else _find_column(columns, names, used)
        )
        if found is not None:
            used.add(found)
        return found

    code_col = column(code_column, "code_column", CODE_NAMES)
    name_col = column(name_column, "name_column", NAME_NAMES)
    pop_col = column(population_column, "population_column", POPULATION_NAMES)
    log.info(
        "%s: ward code column %s, name column %s, population column %s",
        display,
        code_col,
        name_col,
        pop_col,
    )
    if code_col is None and name_col is None:
        raise InputFileError(
            f"{display}: no ward code or name column found (columns: "
            f"{', '.join(columns) or 'none'}); give code_column= and name_column=."
        )
    n = len(gdf)
    codes = _text(gdf[code_col]) if code_col else pd.Series([""] * n, dtype="str")
    names = _text(gdf[name_col]) if name_col else pd.Series([""] * n, dtype="str")
    if code_col is None:
        notes.append(
            f"{display}: no ward code column (ward_code, WD22CD, GSS_CODE, ...); the ward names "
            "are used as codes; give code_column= to use another column."
        )
    elif name_col is None:
        notes.append(
            f"{display}: no ward name column (ward_name, name, WD22NM, ...); the ward codes are "
            "used as names; give name_column= to use another column."
        )
    codes = codes.mask(codes == "", names)
    names = names.mask(names == "", codes)
    unnamed = (codes == "").to_numpy()
    if unnamed.any():
        filler = pd.Series([f"ward-{i + 1}" for i in range(n)], dtype="str")
        codes = codes.mask(unnamed, filler)
        names = names.mask(unnamed, filler)
        notes.append(
            f"{display}: {int(unnamed.sum())} feature(s) have neither a code nor a name; they "
            f"were called {_some(filler[unnamed].tolist())}."
        )
    if pop_col is not None:
        population, bad = _numbers(gdf[pop_col])
        negative = (population < 0).to_numpy()
        if bad.any() or negative.any():
            which = codes[bad.to_numpy() | negative].tolist()
            notes.append(
                f"{display}: population ({pop_col}) is not a number of people for "
                f"{len(which)} ward(s), left unknown: {_some(which)}."
            )
            population = population.mask(negative)
    else:
        population = pd.Series(np.full(n, np.nan), dtype="float64")

    geoms, has_area = _repair(gdf.geometry.to_numpy(), names, display, notes)
    front: dict[str, pd.Series] = {
        "ward_code": codes.reset_index(drop=True).astype("str"),
        "ward_name": names.reset_index(drop=True).astype("str"),
        "population": population.reset_index(drop=True).astype("float64"),
    }
    extras = _extras(gdf, used, WARD_COLUMNS)
    frame = _finish(front, extras, geoms, target, WARD_COLUMNS)
    frame = frame[has_area].reset_index(drop=True)
    if frame.empty:
        raise InputFileError(f"{display}: no ward has any area; check the file.")
    dup = frame["ward_code"].duplicated(keep=False)
    if dup.any():
        repeated = list(dict.fromkeys(frame.loc[dup, "ward_code"].tolist()))
        notes.append(
            f"{display}: {len(repeated)} ward code(s) appear in several features, each merged "
            f"into one ward (areas joined, populations added): {_some(repeated)}."
        )
        frame = _dissolve(frame, "ward_code", ["population"])
    _check_near(frame, incidents, display, "wards")
    return frame, notes


def load_patrol_areas(
    path: str | Path,
    *,
    layer: str | None = None,
    name_column: str | None = None,
    target_crs: str | pyproj.CRS = "EPSG:27700",
    incidents: gpd.GeoDataFrame | None = None,
    crs: str | pyproj.CRS | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read detached-outreach patrol areas into a patrol areas frame in ``target_crs``.

    Parameters
    ----------
    path, layer, target_crs, incidents, crs
        As for :func:`load_wards`.
    name_column
        Source column naming each area; when None found by name in any case: ``patrol_area``,
        ``name``, ``area_name``, ``title``. Without one, areas are called "Patrol area 1", ...

    Returns
    -------
    patrol_areas : GeoDataFrame
        ``patrol_area`` (str), ``geometry`` ((Multi)Polygon), then the other source columns,
        one row per name (features sharing a name are merged), in file order.
    warnings : list of str

    Examples
    --------
    >>> from geodata import SAMPLE_PATROL_AREAS
    >>> areas, notes = load_patrol_areas(SAMPLE_PATROL_AREAS)
    >>> areas["patrol_area"].tolist()[:2], notes
    (['St James Street Corridor', 'Central Square Outreach'], [])
    """
    gdf, display, target, notes = _prepare(path, layer, crs, target_crs, "patrol areas")
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if name_column is not None:
        name_col: str | None = _given_column(columns, name_column, "name_column", display)
    else:
        name_col = _find_column(columns, PATROL_NAMES, set())
    n = len(gdf)
    names = _text(gdf[name_col]) if name_col else pd.Series([""] * n, dtype="str")
    unnamed = (names == "").to_numpy()
    if unnamed.any():
        filler = pd.Series([f"Patrol area {i + 1}" for i in range(n)], dtype="str")
        names = names.mask(unnamed, filler)
        if name_col is None:
            notes.append(
                f"{display}: no name column (patrol_area, name, area_name, title); the areas "
                "were called Patrol area 1, 2, ...; give name_column= to use another column."
            )
        else:
            notes.append(
                f"{display}: {int(unnamed.sum())} area(s) have no name ({name_col}); they were "
                f"called {_some(filler[unnamed].tolist())}."
            )
    geoms, has_area = _repair(gdf.geometry.to_numpy(), names, display, notes)
    front: dict[str, pd.Series] = {"patrol_area": names.reset_index(drop=True).astype("str")}
    extras = _extras(gdf, {name_col} if name_col else set(), PATROL_COLUMNS)
    frame = _finish(front, extras, geoms, target, PATROL_COLUMNS)
    frame = frame[has_area].reset_index(drop=True)
    if frame.empty:
        raise InputFileError(f"{display}: no patrol area has any area; check the file.")
    dup = frame["patrol_area"].duplicated(keep=False)
    if dup.any():
        repeated = list(dict.fromkeys(frame.loc[dup, "patrol_area"].tolist()))
        notes.append(
            f"{display}: {len(repeated)} patrol area name(s) appear in several features, each "
            f"merged into one area: {_some(repeated)}."
        )
        frame = _dissolve(frame, "patrol_area", [])
    _check_near(frame, incidents, display, "patrol areas")
    return frame, notes


def read_population(
    path: str | Path,
    *,
    code_column: str | None = None,
    population_column: str | None = None,
) -> pd.DataFrame:
    """Read ward populations from a CSV keyed by ward code.

    Parameters
    ----------
    path
        A CSV file (``,`` ``;`` or tab delimited; UTF-8, with or without BOM, or
        Windows-1252) with a ward code and a population column.
    code_column, population_column
        The columns to use; when None found by name in any case as in :func:`load_wards`.
        Numbers may have thousands separators ("12,345").

    Returns
    -------
    DataFrame
        ``ward_code`` (str) and ``population`` (float, NaN where empty), one row per code, in
        file order; blank rows are skipped.

    Raises
    ------
    InputFileError
        No such file, a column not found, a population that is not a number, a code that
        appears twice.
    """
    if not isinstance(path, str | Path):
        raise ParameterError(f"path: expected a CSV file path, got {type(path).__name__}.")
    p = Path(path)
    display = p.name
    if not p.is_file():
        raise InputFileError(f"{p}: no such file; check the path.")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    sep = max((",", ";", "\t"), key=first.count)

    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputFileError(
            f"{display}: cannot be read as a CSV table ({_first_line(exc)}); give a CSV with a "
            "ward code and a population column."
        ) from exc
    columns = [str(c) for c in table.columns]
    used: set[str] = set()
    if code_column is not None:
        code_col: str | None = _given_column(columns, code_column, "code_column", display)
    else:
        code_col = _find_column(columns, CODE_NAMES, used)
    if code_col is not None:
        used.add(code_col)
    if population_column is not None:
        pop_col: str | None = _given_column(
            columns, population_column, "population_column", display
        )
    else:
        pop_col = _find_column(columns, POPULATION_NAMES, used)
    if code_col is None or pop_col is None:
        missing = "ward code" if code_col is None else "population"
        arg = "code_column" if code_col is None else "population_column"
        raise InputFileError(
            f"{display}: no {missing} column found (columns: {', '.join(columns) or 'none'}); "
            f"give {arg}=."
        )
    codes = _text(table[code_col])
    population, bad = _numbers(table[pop_col])
    blank = (codes == "") & (_text(table[pop_col]) == "")
    codes, population, bad = codes[~blank], population[~blank], bad[~blank]
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = table[pop_col][~blank].iloc[row]
        raise InputFileError(
            f"{display}: population {value!r} for ward {codes.iloc[row]!r} ({pop_col}) is not a "
            "number; fix that row."
        )
    if (codes == "").any():
        row = int(np.flatnonzero((codes == "").to_numpy())[0]) + 2
        raise InputFileError(f"{display}: row {row} has a population but no ward code; fill it.")
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise InputFileError(
            f"{display}: ward code {codes[dup].iloc[0]!r} appears more than once; keep one row "
            "per ward."
        )
    return pd.DataFrame(
        {
            "ward_code": codes.reset_index(drop=True).astype("str"),
            "population": population.reset_index(drop=True).astype("float64"),
        }
    )
