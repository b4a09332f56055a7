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

Finding, reading and checking the file itself (formats, layers, geometry types, CRS, repair) is
:mod:`geodata.polygons`; this module maps its columns and builds the frames.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from hotspots._files import check_readable
from hotspots._text import decode_text, first_line, list_some, text_column
from hotspots.errors import InputFileError, ParameterError

from .polygons import check_near, polygonal, read_polygons, repair_polygons

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
_SHOW = 5  # names listed in a warning before "..."

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


# ==========================================================================================
# Small helpers
# ==========================================================================================
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
        f"{list_some(columns, 8) or 'none'}."
    )


def _column(
    columns: Sequence[str],
    given: str | None,
    arg: str,
    names: Sequence[str],
    used: set[str],
    display: str,
) -> str | None:
    """The column ``given`` as argument ``arg`` (any case), else the first found by ``names``.

    The column chosen is added to ``used``.
    """
    found = (
        _given_column(columns, given, arg, display)
        if given is not None
        else _find_column(columns, names, used)
    )
    if found is not None:
        used.add(found)
    return found


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from a column (thousands separators allowed); and which non-empty ones were bad."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.astype("float64")
        return values, pd.Series(False, index=s.index)
    text = text_column(s).str.replace(r"[,\s_]", "", regex=True)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    return values, (text != "") & values.isna()


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
        merged.append(parts[0] if len(parts) == 1 else polygonal(shapely.union_all(parts)))
    for col in sums:
        out[col] = frame[col].groupby(groups).sum(min_count=1).to_numpy()
    out = out.set_geometry(np.array(merged, dtype=object), crs=frame.crs)
    return out.reset_index(drop=True)


def _merge_repeated(
    frame: gpd.GeoDataFrame,
    key: str,
    sums: Sequence[str],
    display: str,
    notes: list[str],
    *,
    what: str,
    into: str,
) -> gpd.GeoDataFrame:
    """``frame`` with the features sharing a ``key`` merged (:func:`_dissolve`), and a note."""
    dup = frame[key].duplicated(keep=False)
    if not dup.any():
        return frame
    repeated = list(dict.fromkeys(frame.loc[dup, key].tolist()))
    notes.append(
        f"{display}: {len(repeated)} {what} appear in several features, each merged into one "
        f"{into}: {list_some(repeated, _SHOW)}."
    )
    return _dissolve(frame, key, sums)


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
    gdf, display, target, notes = read_polygons(path, layer, crs, target_crs, "wards")
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    used: set[str] = set()
    code_col = _column(columns, code_column, "code_column", CODE_NAMES, used, display)
    name_col = _column(columns, name_column, "name_column", NAME_NAMES, used, display)
    pop_col = _column(
        columns, population_column, "population_column", POPULATION_NAMES, used, display
    )
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
            f"{list_some(columns, 8) or 'none'}); give code_column= and name_column=."
        )
    codes, names = _ward_labels(gdf, code_col, name_col, display, notes)
    population = _ward_population(gdf, pop_col, codes, display, notes)

    geoms, has_area = repair_polygons(gdf.geometry.to_numpy(), names, display, notes)
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
    frame = _merge_repeated(
        frame,
        "ward_code",
        ["population"],
        display,
        notes,
        what="ward code(s)",
        into="ward (areas joined, populations added)",
    )
    check_near(frame, incidents, display, "wards")
    return frame, notes


def _ward_labels(
    gdf: gpd.GeoDataFrame,
    code_col: str | None,
    name_col: str | None,
    display: str,
    notes: list[str],
) -> tuple[pd.Series, pd.Series]:
    """Ward codes and names, each standing in for the other where missing (with a note)."""
    n = len(gdf)
    codes = text_column(gdf[code_col]) if code_col else pd.Series([""] * n, dtype="str")
    names = text_column(gdf[name_col]) if name_col else pd.Series([""] * n, dtype="str")
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
            f"were called {list_some(filler[unnamed].tolist(), _SHOW)}."
        )
    return codes, names


def _ward_population(
    gdf: gpd.GeoDataFrame,
    pop_col: str | None,
    codes: pd.Series,
    display: str,
    notes: list[str],
) -> pd.Series:
    """Each ward's population (NaN where unknown, unreadable, not > 0 or infinite, with a note)."""
    if pop_col is None:
        return pd.Series(np.full(len(gdf), np.nan), dtype="float64")
    population, bad = _numbers(gdf[pop_col])
    wrong = (population.notna() & ~(np.isfinite(population) & (population > 0))).to_numpy()
    if bad.any() or wrong.any():
        which = codes[bad.to_numpy() | wrong].tolist()
        notes.append(
            f"{display}: population ({pop_col}) is not a number of people (> 0) for "
            f"{len(which)} ward(s), left unknown: {list_some(which, _SHOW)}."
        )
        population = population.mask(wrong)
    return population


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
    gdf, display, target, notes = read_polygons(path, layer, crs, target_crs, "patrol areas")
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    name_col = _column(columns, name_column, "name_column", PATROL_NAMES, set(), display)
    n = len(gdf)
    names = text_column(gdf[name_col]) if name_col else pd.Series([""] * n, dtype="str")
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
                f"called {list_some(filler[unnamed].tolist(), _SHOW)}."
            )
    geoms, has_area = repair_polygons(gdf.geometry.to_numpy(), names, display, notes)
    front: dict[str, pd.Series] = {"patrol_area": names.reset_index(drop=True).astype("str")}
    extras = _extras(gdf, {name_col} if name_col else set(), PATROL_COLUMNS)
    frame = _finish(front, extras, geoms, target, PATROL_COLUMNS)
    frame = frame[has_area].reset_index(drop=True)
    if frame.empty:
        raise InputFileError(f"{display}: no patrol area has any area; check the file.")
    frame = _merge_repeated(
        frame, "patrol_area", [], display, notes, what="patrol area name(s)", into="area"
    )
    check_near(frame, incidents, display, "patrol areas")
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
        No such file, a column not found, a population that is not a number of people (not a
        number, negative, zero or infinite: empty means unknown), a code that appears twice.
    """
    if not isinstance(path, str | Path):
        raise ParameterError(f"path: expected a CSV file path, got {type(path).__name__}.")
    p = Path(path)
    display = p.name
    check_readable(p, what="population table (CSV)")
    text, _ = decode_text(p.read_bytes())
    first = text.splitlines()[0] if text.strip() else ""
    sep = max((",", ";", "\t"), key=first.count)

    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputFileError(
            f"{display}: cannot be read as a CSV table ({first_line(exc)}); give a CSV with a "
            "ward code and a population column."
        ) from exc
    columns = [str(c) for c in table.columns]
    used: set[str] = set()
    code_col = _column(columns, code_column, "code_column", CODE_NAMES, used, display)
    pop_col = _column(
        columns, population_column, "population_column", POPULATION_NAMES, used, display
    )
    if code_col is None or pop_col is None:
        missing = "ward code" if code_col is None else "population"
        arg = "code_column" if code_col is None else "population_column"
        raise InputFileError(
            f"{display}: no {missing} column found (columns: {list_some(columns, 8) or 'none'}); "
            f"give {arg}=."
        )
    codes = text_column(table[code_col])
    population, bad = _numbers(table[pop_col])
    blank = (codes == "") & (text_column(table[pop_col]) == "")
    codes, population, bad = codes[~blank], population[~blank], bad[~blank]
    wrong = bad | (population.notna() & ~(np.isfinite(population) & (population > 0)))
    if wrong.any():
        row = int(np.flatnonzero(wrong.to_numpy())[0])
        value = str(table[pop_col][~blank].iloc[row])[:40]
        more = f" (and {int(wrong.sum()) - 1:,} more rows)" if wrong.sum() > 1 else ""
        raise InputFileError(
            f"{display}: population {value!r} for ward {str(codes.iloc[row])[:40]!r} "
            f"({pop_col}) is not a number of people (> 0){more}; fix that row, or leave it "
            "empty if unknown."
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
