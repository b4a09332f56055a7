"""Polygon layer files: find the dataset, read it, check its geometries and CRS, reproject.

:func:`read_polygons` is the first step of :func:`geodata.layers.load_wards` and
:func:`geodata.layers.load_patrol_areas`: a file, a folder holding one, or a zip member (read in
place, after the archive guards of :mod:`hotspots.archive`); the layer chosen in a file with
several; polygons only; the CRS of the file, or one inferred when it has none; then reprojected.
:func:`repair_polygons` and :func:`check_near` are the later checks the loaders share.
"""

from __future__ import annotations

import logging
import stat
import warnings
import zipfile
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

from hotspots._files import check_readable, walk_files
from hotspots._text import coordinate_text, first_line, list_some
from hotspots.archive import HEAD_BYTES, check_contents, check_zip, hidden_member
from hotspots.crs import BNG_BOUNDS, parse_crs
from hotspots.errors import InputFileError, ParameterError

__all__ = [
    "check_near",
    "polygonal",
    "read_polygons",
    "repair_polygons",
]

log = logging.getLogger(__name__)

_VECTOR_EXT = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage"}
_VECTOR_EXT |= {".shp": "Shapefile", ".kml": "KML", ".kmz": "KML"}
_ACCEPTED = ".geojson, .gpkg, .shp (or a folder or .zip holding one) or .kml"
_LONLAT_BOX = (-180.0, -90.0, 180.0, 90.0)
_SHOW = 5  # names listed in a warning before "..."


@lru_cache(maxsize=1)
def _drivers() -> frozenset[str]:
    return frozenset(pyogrio.list_drivers())


# ==========================================================================================
# Finding the dataset: file, folder, zip member; KML driver; layer
# ==========================================================================================
def _pick(candidates: list[str], layer: str | None, display: str, what: str) -> str:
    """One of several files: the only one, or the one whose stem is ``layer``."""
    if len(candidates) == 1:
        return candidates[0]
    if layer is not None:
        named = [c for c in candidates if PurePosixPath(c).stem.lower() == layer.lower()]
        if len(named) == 1:
            return named[0]
    listed = list_some([PurePosixPath(c).name for c in candidates], 5)
    raise InputFileError(
        f"{display}: holds {len(candidates)} boundary files ({listed}); give the one with the "
        f"{what}, or its name as layer=."
    )


def _dataset(path: Path, layer: str | None, what: str) -> tuple[str, str, str, bool]:
    """``(target for GDAL, name shown in messages, format, chosen by file name)``."""
    st = check_readable(path, what=what, folder=True)
    display = path.name
    if stat.S_ISDIR(st.st_mode):
        found = walk_files(path, hidden_member)
        files = sorted(
            p.name for p in found.files if p.parent == path and p.suffix.lower() in _VECTOR_EXT
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
                check_zip(
                    zf, display, too_big_fix="simplify the boundaries or give the unzipped files"
                )
                names = [i.filename for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
            raise InputFileError(
                f"{display}: not a readable zip archive ({exc}); download it again, or unzip it "
                "and give the folder."
            ) from exc
        members = sorted(
            n
            for n in names
            if PurePosixPath(n).suffix.lower() in _VECTOR_EXT and not hidden_member(n)
        )
        if not members:
            raise InputFileError(
                f"{display}: the archive holds no boundary file ({_ACCEPTED}); check that it "
                f"holds the {what}."
            )
        member = _pick(members, layer, display, what)
        kind = _VECTOR_EXT[PurePosixPath(member).suffix.lower()]
        _check_driver(kind, f"{display}!{member}")
        with zipfile.ZipFile(path) as zf, zf.open(member) as f:  # GDAL reads by contents
            check_contents(f.read(HEAD_BYTES), _content_kind(member), f"{display}!{member}")
        target = f"/vsizip/{path.resolve().as_posix()}/{member}"
        return target, f"{display}!{member}", kind, len(members) > 1
    kind_or_none = _VECTOR_EXT.get(suffix)
    if kind_or_none is None:
        raise InputFileError(f"{display}: not a boundary file; give the {what} as {_ACCEPTED}.")
    _check_driver(kind_or_none, display, kmz=suffix == ".kmz")
    with open(path, "rb") as f:  # GDAL reads by contents: only a file of its kind is opened
        check_contents(f.read(HEAD_BYTES), _content_kind(path.name), display)
    return str(path), display, kind_or_none, False


def _content_kind(name: str) -> str:
    """The kind :func:`hotspots.archive.check_contents` checks a boundary file's start for."""
    suffix = PurePosixPath(name).suffix.lower()
    return {".kmz": "kmz", ".json": "json"}.get(suffix, _VECTOR_EXT.get(suffix, ""))


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


def _unopened(target: str, display: str, exc: Exception) -> str:
    """Why GDAL could not open ``target`` (shown as ``display``), in one line without its
    own paths and driver advice."""
    path = Path(target)
    if path.is_file() and path.stat().st_size == 0:
        return f"{display}: the file is empty (0 bytes); give the boundary file itself."
    said = first_line(exc)
    if "not recognized as being in a supported file format" in said:
        return (
            f"{display}: not a GeoJSON, GeoPackage, Shapefile or KML file of shapes (its "
            "contents are of no format these read); check that the file is complete and of "
            "the type its name says."
        )
    said = said.replace(target, display).replace(str(path.parent) + "/", "")
    return (
        f"{display}: cannot be opened ({said}); check that the file is complete and of the "
        "type its name says."
    )


def _choose_layer(target: str, layer: str | None, display: str, what: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [(str(n), g) for n, g in pyogrio.list_layers(target)]
    except Exception as exc:
        raise InputFileError(_unopened(target, display, exc)) from exc
    names = [n for n, _ in layers]
    listed = list_some([f"{n} ({g or 'no geometry'})" for n, g in layers], 5) or "none"
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
            f"{display}: holds {len(polygons)} polygon layers ({list_some(polygons, 5)}); choose "
            f"the one with the {what} with layer= (e.g. layer={polygons[0]!r})."
        )
    unknown = [n for n, g in layers if _layer_kind(g) == "unknown"]
    if len(unknown) == 1:
        return unknown[0]
    raise InputFileError(
        f"{display}: no single polygon layer (layers: {listed}); choose the layer with the "
        f"{what} with layer=, or give a file of polygons."
    )


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
            f"{display}: cannot be read as {kind} ({first_line(exc)}); check that the file is "
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
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    if not np.isfinite(coords).all():
        ok = [bool(np.isfinite(shapely.get_coordinates(g)).all()) for g in gdf.geometry]
        first = int(np.flatnonzero(~np.array(ok))[0]) + 1
        raise InputFileError(
            f"{display}: feature {first} ({int((~np.array(ok)).sum()):,} in all) has a corner "
            "that is not a number (NaN or infinite); redraw or remove it in a GIS."
        )
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
    bng = _fits(bounds, BNG_BOUNDS)
    x0, y0, x1, y1 = (coordinate_text(float(b), 2) for b in bounds)
    extent = f"x {x0} to {x1}, y {y0} to {y1}"
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


def polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry (a Polygon, a MultiPolygon, or an empty Polygon)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(shapely.get_parts(geom))
    polys = [p for p in parts if shapely.get_type_id(p) == 3 and not p.is_empty]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def repair_polygons(
    geoms: np.ndarray, labels: pd.Series, display: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """make_valid the invalid polygons (polygonal parts kept); ``(geometries, has area)``."""
    out = geoms.copy()
    collection = shapely.get_type_id(out) == 7
    invalid = ~shapely.is_valid(out) | collection
    if invalid.any():
        fixed = shapely.make_valid(out[invalid])
        out[invalid] = [polygonal(g) for g in fixed]
        which = labels[invalid].tolist()
        notes.append(
            f"{display}: {int(invalid.sum())} invalid polygon(s) repaired with make_valid "
            f"(only their area kept): {list_some(which, _SHOW)}."
        )
    has_area = shapely.area(out) > 0
    if not has_area.all():
        which = labels[~has_area].tolist()
        notes.append(
            f"{display}: {int((~has_area).sum())} feature(s) without any area were left out: "
            f"{list_some(which, _SHOW)}."
        )
    return out, has_area


# Most incidents tried for whether a layer holds any of them.
_NEAR_SAMPLE = 20_000


def check_near(
    layer: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame | None, display: str, what: str
) -> None:
    """A layer whose polygons all miss the incidents' bounding box, or that holds none of them,
    is the wrong area or CRS."""
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
        # over the incidents' box: it must also hold some of them (at most _NEAR_SAMPLE
        # incidents tried, evenly through the rows: fewer than 1 in 20,000 is none to speak of)
        step = max(1, len(pts) // _NEAR_SAMPLE)
        if layer.sindex.query(pts.to_numpy()[::step], predicate="intersects").size:
            return
        raise InputFileError(
            f"{display}: the {what} hold none of the incidents (they lie around them): check "
            "it is the right area, e.g. the wards of the borough the incidents are from."
        )
    lx, ly = _centre(layer.total_bounds)
    ix, iy = _centre(bounds)
    raise InputFileError(
        f"{display}: the {what} lie nowhere near the incidents ({what} around x "
        f"{coordinate_text(lx)}, y {coordinate_text(ly)}; incidents around x "
        f"{coordinate_text(ix)}, y {coordinate_text(iy)}): check it is the right area "
        "or CRS."
    )


def _centre(bounds: np.ndarray) -> tuple[float, float]:
    return float(bounds[0] + bounds[2]) / 2, float(bounds[1] + bounds[3]) / 2


def read_polygons(
    path: str | Path,
    layer: str | None,
    crs: str | pyproj.CRS | None,
    target_crs: str | pyproj.CRS,
    what: str,
) -> tuple[gpd.GeoDataFrame, str, pyproj.CRS, list[str]]:
    """Read the polygon layer at ``path`` into valid-typed polygons in ``target_crs``.

    Returns ``(layer, name shown in messages, target CRS, notes)``; ``what`` ("wards",
    "patrol areas") names the layer in messages.
    """
    target = parse_crs(target_crs, "target_crs")
    if target is None:
        raise ParameterError("target_crs: give the CRS to return the layer in, e.g. 'EPSG:27700'.")
    given = parse_crs(crs, "crs")
    notes: list[str] = []
    gdf, display = _read(path, layer, what)
    gdf = _check_polygons(gdf, display, what, notes)
    gdf = _set_crs(gdf, given, display, notes)
    gdf = _reproject(gdf, target, display)
    return gdf.reset_index(drop=True), display, target, notes
