"""Point layers: GeoJSON, GeoPackage (its first point layer), Shapefile and GeoParquet.

Read with pyogrio (GeoParquet with geopandas), in any CRS; zipped layers are read in place.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import pyproj
import shapely

from .._text import coordinate_text, first_line, list_some
from ..archive import HEAD_BYTES, check_contents
from ..crs import fits_british_national_grid
from ..errors import InputFileError
from .generic_csv import read_generic_table
from .parts import Part, build_part, one_source
from .report import Notes
from .sources import Source

__all__ = ["read_vector"]


def read_vector(
    src: Source,
    crs_arg: pyproj.CRS | None,
    notes: Notes,
    data: Any = None,
    layer: str | None = None,
) -> Part:
    """One part from a point layer (``data``: the GeoJSON bytes, when already read; ``layer``:
    a GeoPackage's layer to read, else its first point layer).

    Plain Parquet without geo metadata is read as a table with coordinate columns. Single
    points in MultiPoints are accepted; other geometries, or a layer without a CRS when
    ``crs_arg`` is None, are errors.
    """
    kind = src.kind
    asked, layer = layer, None
    # GDAL reads by contents: only a file that begins as its kind does is opened
    check_contents(data[:HEAD_BYTES] if data is not None else src.head(), kind, src.display)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "parquet":
                raw = src.read_bytes()
                _check_parquet_size(raw, src.display)
                try:
                    gdf = gpd.read_parquet(io.BytesIO(raw))
                except ValueError as exc:
                    if "geo metadata" not in str(exc):
                        raise
                    # Plain Parquet: a table with coordinate columns, like a generic CSV.
                    table = pd.read_parquet(io.BytesIO(raw))
                    return read_generic_table(table, src, crs_arg, notes, word="row", first_row=1)
            else:
                target: Any = data if data is not None else src.ogr_path()
                if kind == "gpkg":
                    layer = _point_layer(src, target, notes, asked)
                gdf = pyogrio.read_dataframe(target, layer=layer)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            f"{src.display}: cannot be read as {kind} ({first_line(exc)}); check that the file "
            "is complete and of that type."
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
    if kind == "geojson" and gdf.crs is not None and gdf.crs.to_epsg() == 4326:
        crs = _geojson_crs(x, y, crs_arg, src, notes)
    if crs is None:
        raise InputFileError(
            f"{src.display}: the layer has no coordinate reference system (a missing .prj?); "
            "give its CRS, e.g. crs='EPSG:27700' (--crs EPSG:27700)."
        )
    attrs = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]))
    part = build_part(
        attrs,
        x,
        y,
        pyproj.CRS.from_user_input(crs),
        sources=one_source(src.display, len(attrs)),
        rows=np.arange(1, len(attrs) + 1, dtype=np.int64),
        name=src.display,
        word="feature",
        repeat_ids_ok=False,
        notes=notes,
    )
    return part


def _geojson_crs(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], crs_arg: Any, src: Source, notes: Notes
) -> Any:
    """The CRS of a GeoJSON's points. GeoJSON is longitude/latitude unless it says otherwise,
    so GDAL reports EPSG:4326 for a file with no ``crs`` member; numbers that cannot be
    degrees are another CRS: ``crs_arg`` when given, British National Grid when they fit it
    (said in a note), else an error asking for it."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any() or (np.all(np.abs(x[ok]) <= 180) and np.all(np.abs(y[ok]) <= 90)):
        return "EPSG:4326"
    if crs_arg is not None:
        return crs_arg
    vx, vy = x[ok], y[ok]
    if fits_british_national_grid(vx, vy):
        notes.lines.append(
            f"{src.display}: its coordinates are not longitude/latitude, as GeoJSON's are "
            "unless it says otherwise, but British National Grid eastings/northings, so they "
            "were read as EPSG:27700 (if they are not, say which coordinate system they are in)."
        )
        return "EPSG:27700"
    raise InputFileError(
        f"{src.display}: its coordinates (e.g. {coordinate_text(vx[0])}, "
        f"{coordinate_text(vy[0])}) are not "
        "longitude/latitude and it names no coordinate system; give it, e.g. "
        "crs='EPSG:27700' (--crs EPSG:27700)."
    )


def _point_layer(src: Source, target: Any, notes: Notes, asked: str | None = None) -> str:
    """The GeoPackage layer to read: the one ``asked`` for, else the first point layer (a
    note naming the others when there are several)."""
    layers = pyogrio.list_layers(target)
    points = [str(name) for name, gtype in layers if gtype and "point" in str(gtype).lower()]
    if asked is not None:
        if asked not in points:
            raise InputFileError(
                f"{src.display}: no point layer {asked!r} (point layers: "
                f"{list_some(points, 5) or 'none'}); give layer= one of them."
            )
        return asked
    if not points:
        found = list_some([f"{name} ({gtype or 'no geometry'})" for name, gtype in layers], 5)
        raise InputFileError(
            f"{src.display}: no point layer (layers: {found or 'none'}); give a layer of "
            "incident points."
        )
    if len(points) > 1:
        notes.lines.append(
            f"{src.display} has {len(points)} point layers ({list_some(points, 5)}); read the "
            f"first, {points[0]!r} (give layer= to read another)."
        )
    return points[0]


def _check_parquet_size(raw: bytes, display: str) -> None:
    """Refuse a Parquet file that would unpack far beyond its size (a "Parquet bomb": 321 kB
    of repeated values made 20 million rows and 6.5 GB), by its own metadata, before reading:
    the zip limits (:data:`hotspots.archive.MAX_ARCHIVE_BYTES`, ``MAX_ARCHIVE_RATIO``)."""
    import pyarrow.parquet as pq

    from ..archive import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_RATIO

    try:
        meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    except Exception:
        return  # not readable as Parquet: the reader says so
    # at least 8 bytes a value once read (the metadata's sizes are of the encoded pages)
    unpacked = max(
        8 * meta.num_rows * meta.num_columns,
        sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
    )
    ratio = unpacked / max(len(raw), 1)
    if unpacked > MAX_ARCHIVE_BYTES or (unpacked >= 1_000_000 and ratio > MAX_ARCHIVE_RATIO):
        raise InputFileError(
            f"{display}: refused: its {meta.num_rows:,} rows would unpack to {unpacked:,} bytes, "
            f"{ratio:,.0f} times its size, which marks a file made to exhaust memory; use a "
            "file from a trusted source."
        )
