"""read_incidents: every source read, every row checked, one Incidents frame and its report.

The readers of each format (:mod:`~hotspots.io.police_csv`, :mod:`~hotspots.io.generic_csv`,
:mod:`~hotspots.io.police_api`, :mod:`~hotspots.io.vector`) each return parts; here they are
checked row by row (coordinates, month, duplicate ids, study area), projected to the working
CRS and finished into the Incidents frame of the design, with a :class:`LoadReport` in which
every row read is either used or counted under a named reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from .._memory import release_free_memory, reuse_large_blocks, use_system_arrow_pool
from .._points import keep_points_xy, shared_points
from .._text import list_some
from ..columns import INCIDENT_COLUMNS
from ..crs import choose_crs, in_great_britain, parse_crs, project_xy
from ..errors import InputError, InputFileError, ParameterError
from .checks import CODES, REASONS, mark_duplicates, row_codes
from .generic_csv import read_csv_table, read_generic_table
from .parts import FloatArray, Part, wgs84_crs
from .police_api import api_columns, load_json, read_api_run
from .police_csv import read_street_run
from .report import OUT_OF_RANGE, OUTSIDE_STUDY_AREA, LoadReport, Notes
from .sources import Source, as_paths, expand_inputs
from .text_categories import categorise_text, concat_parts, finish_text
from .vector import read_vector

__all__ = ["read_incidents"]

log = logging.getLogger(__name__)

# "Most points sit on very few map points": more than half the incidents on at most this
# many distinct coordinates, checked once there are enough incidents to judge.
_FEW_POINTS = 20
_FEW_POINTS_MIN_ROWS = 100


def _read_sources(
    sources: list[Source], crs_arg: pyproj.CRS | None, notes: Notes, layer: str | None = None
) -> tuple[list[Part], list[str]]:
    parts: list[Part] = []
    read: list[str] = []
    run: list[tuple[Source, dict[str, list[Any]]]] = []
    street: list[tuple[Source, pd.DataFrame]] = []

    def flush_run() -> None:
        if run:
            parts.append(read_api_run(list(run), notes))
            run.clear()
        if street:
            parts.append(read_street_run(list(street), notes))
            street.clear()

    for src in sources:
        if src.in_folder and src.size() == 0:
            notes.empty.append(src.display)
            continue
        if src.kind == "json":
            obj, data = load_json(src)
            if isinstance(obj, list):
                if street:
                    flush_run()
                run.append((src, api_columns(obj, src.display)))
                del obj
                read.append(src.display)
                continue
            flush_run()
            if isinstance(obj, dict) and obj.get("type") in ("FeatureCollection", "Feature"):
                parts.append(read_vector(src, crs_arg, notes, data=data, layer=layer))
                read.append(src.display)
                continue
            raise InputFileError(
                f"{src.display}: JSON that is neither a data.police.uk crime list nor GeoJSON; "
                "give crimes-street JSON (a list of crimes) or a GeoJSON FeatureCollection."
            )
        if src.kind == "csv":
            table = read_csv_table(src, notes)
            if table is None:
                continue
            read.append(src.display)
            if table[0]:
                if run:
                    flush_run()
                street.append((src, table[1]))
                continue
            flush_run()
            parts.append(read_generic_table(table[1], src, crs_arg, notes, word="row", first_row=2))
            continue
        flush_run()
        parts.append(read_vector(src, crs_arg, notes, layer=layer))
        read.append(src.display)
    flush_run()
    return parts, read


def _study_area(
    area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS
) -> BaseGeometry:
    """The study area as one prepared, valid geometry in ``crs``."""
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
    layer: str | None = None,
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
    that has a month or date column), ``"duplicate row"`` (a row with an id that repeats an
    earlier row of the same file in every field, as when a month is pasted twice; rows without
    an id are never compared), ``"duplicate id"`` (an id already used by an earlier
    row; data.police.uk street CSVs publish some Crime IDs twice within one month's file:
    those rows are kept, the repeats' ids get ``-2``, ``-3`` suffixes, and a warning says
    so), and ``"outside the study area"``.

    On Linux, reading makes the system allocator pyarrow's default memory pool (fewer page
    faults than pyarrow's mimalloc: :func:`hotspots._memory.use_system_arrow_pool`) and has
    glibc reuse large freed blocks (:func:`hotspots._memory.reuse_large_blocks`).

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
        to 1 (a zip bomb). A file larger than ``max_archive_bytes`` is refused before it is
        read, too. CSV files holding binary data (NUL bytes), a first line over
        ``MAX_HEADER_CHARS`` characters or more than ``MAX_COLUMNS`` columns
        (:mod:`hotspots.io.generic_csv`), and JSON nested too deeply are refused before
        parsing; CSV lines may end in LF, CRLF or CR alone.

    Returns
    -------
    (incidents, report)
        The Incidents frame (columns ``hotspots.columns.INCIDENT_COLUMNS`` then extra source
        columns; ``month`` and ``date`` are datetime64[ns], text columns are categories of
        ``str`` with ``""`` for missing, ``weight`` is 1.0) and the :class:`LoadReport`.

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
    crs_arg, work_crs = _check_arguments(crs, target_crs, max_archive_ratio, max_archive_bytes)
    use_system_arrow_pool()  # fewer page faults than pyarrow's mimalloc (hotspots._memory)
    reuse_large_blocks()  # and fewer than a fresh mapping for each large array
    notes = Notes()
    sources = expand_inputs(
        inputs, max_ratio=max_archive_ratio, max_bytes=max_archive_bytes, notes=notes
    )
    parts, read = _read_sources(sources, crs_arg, notes, layer)
    report = LoadReport(inputs=read, empty_files=list(notes.empty))
    what = read[0] if len(read) == 1 else f"the {len(read):,} input files"
    if not parts and notes.empty:
        raise InputFileError(
            f"{list_some(notes.empty)}: every file to read is empty (0 bytes); download them again."
        )
    if not parts:
        raise InputFileError(
            f"{list_some(read) or list_some([str(p) for p in as_paths(inputs)])}: no "
            "street-level crime files to read; give data.police.uk *-street.csv files or API "
            "JSON."
        )

    rows = _stack(parts, notes)
    release_free_memory()  # the parse's buffers and the parts' first copies
    code = rows.code
    n = len(code)
    report.rows_read = n
    if n == 0:
        raise InputFileError(
            f"{what}: no rows (only headers or empty lists); give files with incidents."
        )

    # the duplicates (by ids) and the projection (by coordinates) side by side: the rows
    # alive before the duplicates are marked are projected, and the projection is taken for
    # the rows left when the CRS those rows choose is the same (else worked out again)
    before = code == 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        marked = pool.submit(
            mark_duplicates, rows.frame, code, rows.has_id, rows.repeat_ok, notes, (rows.x, rows.y)
        )
        try:
            early: tuple[pyproj.CRS, FloatArray, FloatArray, FloatArray] | None = _projected_rows(
                parts, rows, before, work_crs, what
            )
        except InputError:
            early = None  # perhaps for rows that are duplicates: worked out again below
        frame = marked.result()
    release_free_memory()  # the parse's and the checks' copies: back before the projection
    if not (code == 0).any():
        raise _nothing_usable(code, what)
    work_crs, gx, gy = _project(parts, rows, work_crs, what, early)
    if study_area is not None:
        _keep_inside(study_area, work_crs, code, gx, gy)
    alive = code == 0

    report.crs = work_crs.to_string()
    report.rows_used = report.rows_read
    _count_drops(report, code, frame["source"], parts, rows)

    del rows
    parts.clear()  # the parts' own frames (copies when several were stacked) are not needed
    out = _take_rows(frame, alive)
    del frame
    out["weight"] = 1.0
    # the rows at one map point share one point object (hotspots._points.shared_points);
    # read-only, the coordinates' codes are kept, and below the points' coordinates too
    xy = np.column_stack([gx[alive], gy[alive]])
    xy.flags.writeable = False
    geoms, at_point = shared_points(xy)
    points = gpd.array.from_shapely(geoms, crs=work_crs)
    del geoms
    # copy=False: geopandas copies a DataFrame it is given (a city's frame held twice)
    incidents = gpd.GeoDataFrame(out, geometry=points, crs=work_crs, copy=False)
    del out, points  # else the text columns outlive their categories until the return
    incidents = _finish_columns(incidents)
    keep_points_xy(incidents.geometry.to_numpy(), xy)  # no stage reads them from GEOS again
    notes.lines.extend(_data_warnings(incidents, at_point))
    report.warnings = notes.flush()
    log.info("read %s rows, used %s (%s)", f"{n:,}", f"{report.rows_used:,}", report.crs)
    release_free_memory()  # the parse's buffers and the dropped frames back to the system
    return incidents, report


def _check_arguments(
    crs: str | pyproj.CRS | None,
    target_crs: str | pyproj.CRS | None,
    max_archive_ratio: float,
    max_archive_bytes: int,
) -> tuple[pyproj.CRS | None, pyproj.CRS | None]:
    """``(crs, target_crs)`` parsed; errors name the argument."""
    crs_arg = parse_crs(crs, "crs")
    work_crs = parse_crs(target_crs, "target_crs")
    if work_crs is not None and not work_crs.is_projected:
        raise ParameterError(
            f"target_crs: {work_crs.to_string()} is not a projected CRS in metres; give one "
            "like 'EPSG:27700' or a UTM zone."
        )
    if not max_archive_ratio > 0:
        raise ParameterError(f"max_archive_ratio: must be > 0, got {max_archive_ratio!r}.")
    if not max_archive_bytes > 0:
        raise ParameterError(f"max_archive_bytes: must be > 0, got {max_archive_bytes!r}.")
    return crs_arg, work_crs


@dataclass
class _Stacked:
    """The rows of every part, one after another; ``code`` is each row's drop reason (0: kept)."""

    frame: pd.DataFrame
    code: npt.NDArray[np.int8]
    x: FloatArray
    y: FloatArray
    has_id: npt.NDArray[np.bool_]
    repeat_ok: npt.NDArray[np.bool_]
    part_of: npt.NDArray[np.int32]
    rows: npt.NDArray[np.int64]


def _stack(parts: list[Part], notes: Notes) -> _Stacked:
    """Check each part's rows (swapping lon/lat back first), then put the parts together."""
    codes = [row_codes(p, notes) for p in parts]
    for p in parts:  # repeated text held once per name from here on (a city's peak is here)
        categorise_text(p.frame)
    frame = concat_parts([p.frame for p in parts])
    return _Stacked(
        frame=frame,
        code=np.concatenate(codes),
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        has_id=np.concatenate([p.has_id for p in parts]),
        repeat_ok=np.concatenate([np.full(len(p.x), p.repeat_ids_ok) for p in parts]),
        part_of=np.concatenate([np.full(len(p.x), i, dtype=np.int32) for i, p in enumerate(parts)]),
        rows=np.concatenate([p.rows for p in parts]),
    )


def _take_rows(frame: pd.DataFrame, keep: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """``frame.loc[keep].reset_index(drop=True)``, a column at a time: each column of
    ``frame`` is taken out of it as its kept rows are copied, so a city's frame is never held
    twice (``frame`` is left empty); all of it, uncopied, when every row is kept."""
    if keep.all():
        return frame.reset_index(drop=True)
    taken = {name: frame.pop(name)[keep].reset_index(drop=True) for name in list(frame.columns)}
    return pd.DataFrame(taken, index=pd.RangeIndex(int(keep.sum())))


def _nothing_usable(code: npt.NDArray[np.int8], what: str) -> InputFileError:
    """The error for inputs none of whose rows can be used, with the count of each reason."""
    counts = np.bincount(code, minlength=len(REASONS) + 1)
    summary = ", ".join(
        f"{REASONS[c - 1]} {counts[c]:,}" for c in range(1, len(REASONS) + 1) if counts[c]
    )
    return InputFileError(
        f"{what}: none of the {len(code):,} rows can be used ({summary}); check the coordinate "
        "and month columns."
    )


def _project(
    parts: list[Part],
    rows: _Stacked,
    work_crs: pyproj.CRS | None,
    what: str,
    early: tuple[pyproj.CRS, FloatArray, FloatArray, FloatArray] | None = None,
) -> tuple[pyproj.CRS, FloatArray, FloatArray]:
    """The working CRS (chosen from the usable rows when not given) and the rows in it.

    Rows that cannot be projected are coded out of range (in place on ``rows.code``).
    ``early``: :func:`_projected_rows` of a superset of the usable rows, taken when the
    usable rows choose the same CRS (a row outside them keeps its numbers: nothing reads
    them).
    """
    code = rows.code
    alive = code == 0
    if early is not None:
        crs, gx, gy, lonlat = early
        if work_crs is None and not crs.equals(choose_crs(*lonlat[:, alive], source=what)):
            early = None
    if early is None:
        crs, gx, gy, _ = _projected_rows(parts, rows, alive, work_crs, what)
    code[alive & ~(np.isfinite(gx) & np.isfinite(gy))] = CODES[OUT_OF_RANGE]
    return crs, gx, gy


def _projected_rows(
    parts: list[Part],
    rows: _Stacked,
    alive: npt.NDArray[np.bool_],
    work_crs: pyproj.CRS | None,
    what: str,
) -> tuple[pyproj.CRS, FloatArray, FloatArray, FloatArray]:
    """The working CRS (chosen from the ``alive`` rows when not given), the ``alive`` rows in
    it (NaN for the rest), and their longitude and latitude (a 2 x n array; NaN when the CRS
    was given)."""
    x, y, part_of = rows.x, rows.y, rows.part_of
    n = len(x)
    lonlat = np.full((2, n), np.nan)
    if work_crs is None:
        for i, p in enumerate(parts):
            m = alive & (part_of == i)
            lonlat[0, m], lonlat[1, m] = project_xy(p.crs, wgs84_crs(), x[m], y[m])
        try:
            work_crs = choose_crs(lonlat[0, alive], lonlat[1, alive], source=what)
        except InputError:
            _refuse_swapped_rows(parts, rows, lonlat, alive)
            raise
    gx = np.full(n, np.nan)
    gy = np.full(n, np.nan)
    for i, p in enumerate(parts):
        m = alive & (part_of == i)
        gx[m], gy[m] = project_xy(p.crs, work_crs, x[m], y[m])
    return work_crs, gx, gy, lonlat


def _refuse_swapped_rows(
    parts: list[Part], rows: _Stacked, lonlat: FloatArray, alive: npt.NDArray[np.bool_]
) -> None:
    """Name the rows whose longitude and latitude are the wrong way round, when they are what
    spreads the points too far (a few rows typed swapped among a file of Great Britain): the
    points are in Great Britain but for them, and they are once swapped back."""
    lon, lat = lonlat
    inside = in_great_britain(lon, lat) & alive
    swapped = alive & ~inside & in_great_britain(lat, lon)
    if not swapped.any() or (inside | swapped).sum() < 0.99 * alive.sum():
        return
    at = np.flatnonzero(swapped)
    first = parts[rows.part_of[at[0]]]
    where = ", ".join(f"{parts[rows.part_of[i]].word} {rows.rows[i]}" for i in at[:3])
    raise InputFileError(
        f"{first.name}: {len(at):,} row{'s have' if len(at) != 1 else ' has'} longitude and "
        f"latitude the wrong way round (first: {where}; the other rows are in Great Britain, "
        "and these are once swapped back); swap them back and read the file again."
    )


def _keep_inside(
    study_area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    work_crs: pyproj.CRS,
    code: npt.NDArray[np.int8],
    gx: FloatArray,
    gy: FloatArray,
) -> None:
    """Code the rows outside the study area (in place); an area holding none is an error."""
    alive = code == 0
    area = _study_area(study_area, work_crs)
    inside = np.zeros(len(code), dtype=bool)
    inside[alive] = shapely.intersects_xy(area, gx[alive], gy[alive])
    code[alive & ~inside] = CODES[OUTSIDE_STUDY_AREA]
    if not (code == 0).any():
        raise ParameterError(
            f"study_area: none of the {int(alive.sum()):,} incidents lie inside it; check "
            f"that it covers the data (it must be in {work_crs.to_string()} if a geometry)."
        )


def _count_drops(
    report: LoadReport,
    code: npt.NDArray[np.int8],
    sources_col: pd.Series,
    parts: list[Part],
    rows: _Stacked,
) -> None:
    """Count the dropped rows by reason into ``report`` (with their first places)."""
    words = [p.word for p in parts]
    for c, reason in enumerate(REASONS, start=1):
        where = np.flatnonzero(code == c)
        if where.size:
            examples = [
                f"{sources_col.iloc[i]} {words[rows.part_of[i]]} {rows.rows[i]}" for i in where[:5]
            ]
            report.drop(reason, int(where.size), examples)
            report.rows_used -= int(where.size)


def _finish_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The Incidents frame's dtypes: ``incident_id`` as ``str``, every other text column (the
    contract's and the source's extras) as sorted categories of ``str`` (the used ones),
    ``""`` for missing."""
    gdf["incident_id"] = gdf["incident_id"].fillna("").astype("str")
    finish_text(gdf)
    for col in ("month", "date"):
        gdf[col] = gdf[col].astype("datetime64[ns]")
    gdf["weight"] = gdf["weight"].astype(float)
    extras = [c for c in gdf.columns if c not in INCIDENT_COLUMNS]
    ordered = gdf[INCIDENT_COLUMNS + extras]
    assert isinstance(ordered, gpd.GeoDataFrame)
    return ordered


def _data_warnings(incidents: gpd.GeoDataFrame, at_point: FloatArray) -> list[str]:
    """Warnings about the rows kept; ``at_point``: the rows at each distinct map point."""
    out: list[str] = []
    n = len(incidents)
    if n >= _FEW_POINTS_MIN_ROWS:
        top = np.sort(at_point)[::-1][:_FEW_POINTS]
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
    months = incidents["month"].to_numpy(dtype="datetime64[ns]")
    numbers = months[~np.isnat(months)].astype("datetime64[M]").view(np.int64)
    if len(numbers):  # months counted by number since 1970: a bincount, not a sort
        first = int(numbers.min())
        missing = np.flatnonzero(np.bincount(numbers - first) == 0) + first
        gaps = [str(m) for m in missing.astype("datetime64[M]")]
        if len(gaps) == 1:
            out.append(f"No incidents in {gaps[0]} (a month with no data published?).")
        elif gaps:
            shown = ", ".join(gaps[:6]) + (", ..." if len(gaps) > 6 else "")
            out.append(
                f"No incidents in {len(gaps)} months between the first and last read: {shown} "
                "(months with no "
                "data published?)."
            )
    return out


# ==========================================================================================
