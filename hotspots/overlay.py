"""Wards and patrol areas over incidents and hotspots: point-in-polygon joins and their tables.

This module owns the joins (:func:`point_index`, :func:`point_pairs`, :func:`overlap_pairs`,
:func:`inside_any`, :func:`share_inside`) and the checks of the overlay layers; the ward family
(:func:`assign_wards`, :func:`ward_table`, :func:`overlay_hotspots`) lives here, the patrol-area
family (``patrol_coverage``, ``uncovered_hotspots``, ``coverage_share``, ``outreach_streets``) in
:mod:`hotspots.patrols`.

Every function takes frames and returns a new frame (inputs are never modified). Incidents must
be in a projected CRS in metres (as :func:`hotspots.read_incidents` returns them); ward, patrol
area and hotspot layers in another CRS are reprojected to it. ``hotspot_ids`` is the
per-incident Series of :attr:`hotspots.HotspotResult.hotspot_ids` ("" for incidents in no
hotspot, same index as the incidents).

Rules
-----
* **Inside** means inside or on the boundary (``intersects``). An incident on the edge shared by
  two wards is assigned to exactly one: the ward with the smallest ``ward_code`` (string order).
  Incidents in no ward (outside the layer, or in a gap between wards) get ``""``; the ward
  table counts them in :attr:`WardTable.incidents_outside`.
* Patrol areas may overlap: an incident inside two areas counts in each area's row of
  :func:`hotspots.patrols.patrol_coverage`, and once in a hotspot's ``patrol_coverage``
  (inside *any* area).
* A hotspot *touches* a ward or patrol area when its footprint overlaps it with a positive
  area (touching along an edge only does not count).
* Counts are incidents (rows), not harm weights.

Joins run on the unique map points (data.police.uk snaps incidents to few points) through a
:class:`shapely.STRtree`; a borough-year (30k incidents, 20 wards, 5 patrol areas) takes a few
hundredths of a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._points import unique_points
from ._text import text_codes
from ._validate import check_incidents, check_layer, check_named_areas
from .errors import ParameterError

__all__ = [
    "WARD_TABLE_COLUMNS",
    "Overlaps",
    "WardTable",
    "assign_wards",
    "check_hotspot_ids",
    "check_hotspots",
    "check_patrol_areas",
    "hotspot_id_codes",
    "inside_any",
    "overlap_pairs",
    "overlay_hotspots",
    "point_index",
    "point_pairs",
    "rank_order",
    "share_inside",
    "typed_frame",
    "unique_lists",
    "ward_table",
]

log = logging.getLogger(__name__)

#: Columns of :func:`ward_table`, in this order.
WARD_TABLE_COLUMNS: list[str] = [
    "ward_code",
    "ward_name",
    "incidents",
    "area_km2",
    "incidents_per_km2",
    "population",
    "incidents_per_1000",
    "hotspots",
    "n_hotspots",
    "hotspot_incidents",
    "share_in_hotspots",
]

_WARD_DTYPES = {
    "ward_code": "str",
    "ward_name": "str",
    "incidents": "int64",
    "area_km2": "float64",
    "incidents_per_km2": "float64",
    "population": "float64",
    "incidents_per_1000": "float64",
    "hotspots": "object",
    "n_hotspots": "int64",
    "hotspot_incidents": "int64",
    "share_in_hotspots": "float64",
}

_IntArray = npt.NDArray[np.int64]
#: :func:`overlap_pairs`' answer: (footprint index, polygon index, overlap m²) per overlap.
Overlaps = tuple[_IntArray, _IntArray, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class WardTable:
    """What :func:`ward_table` found.

    Attributes
    ----------
    table
        One row per ward, columns :data:`WARD_TABLE_COLUMNS`.
    incidents_outside
        Incidents in no ward (outside the layer, or in a gap between wards).
    incidents_total
        Incidents given: ``table["incidents"].sum() + incidents_outside == incidents_total``.
    """

    table: pd.DataFrame
    incidents_outside: int
    incidents_total: int


# ==========================================================================================
# Validation
# ==========================================================================================


def _wards(wards: object, crs: Any) -> gpd.GeoDataFrame:
    frame = check_layer(
        wards, "wards", crs=crs, columns=("ward_code",), fix="load it with geodata.load_wards()"
    )
    codes = frame["ward_code"]
    if codes.isna().any() or (codes.astype("str") == "").any():
        raise ParameterError(
            "wards: some ward_code values are empty; give every ward a code (load_wards does)."
        )
    dup = codes.astype("str").duplicated()
    if dup.any():
        raise ParameterError(
            f"wards: ward code {codes[dup].iloc[0]!r} appears more than once; load the layer "
            "with geodata.load_wards(), which merges them."
        )
    return frame


def check_patrol_areas(patrol_areas: object, crs: Any) -> gpd.GeoDataFrame:
    """``patrol_areas`` (a GeoDataFrame of polygons with a CRS and ``patrol_area``, each name
    once) in ``crs``."""
    fix = "load it with geodata.load_patrol_areas()"
    frame = check_layer(patrol_areas, "patrol_areas", crs=crs, columns=("patrol_area",), fix=fix)
    return check_named_areas(frame, "patrol_areas", "patrol_area", fix)


def check_hotspots(hotspots: object, crs: Any) -> gpd.GeoDataFrame:
    """``hotspots`` (a GeoDataFrame with ``hotspot_id`` and a CRS) in ``crs``."""
    return check_layer(
        hotspots,
        "hotspots",
        crs=crs,
        columns=("hotspot_id",),
        fix="use find_hotspots(...).hotspots",
    )


def check_hotspot_ids(hotspot_ids: object, incidents: gpd.GeoDataFrame) -> npt.NDArray[np.object_]:
    """Hotspot id per incident as an object array of str ("" for none)."""
    codes, names = hotspot_id_codes(hotspot_ids, incidents)
    return names[codes]


def hotspot_id_codes(
    hotspot_ids: object, incidents: gpd.GeoDataFrame
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """:func:`check_hotspot_ids` as a code per incident into distinct ids (str, stripped;
    ``""`` for none): each distinct id is cleaned once, not each incident's."""
    n = len(incidents)
    if isinstance(hotspot_ids, pd.Series):
        if len(hotspot_ids) != n or not hotspot_ids.index.equals(incidents.index):
            raise ParameterError(
                f"hotspot_ids: must have one entry per incident with the incidents' index ({n} "
                "rows); pass find_hotspots(incidents).hotspot_ids for these incidents."
            )
        series = hotspot_ids
    else:
        values = np.asarray(hotspot_ids, dtype=object)
        if values.shape != (n,):
            raise ParameterError(
                f"hotspot_ids: must hold one entry per incident ({n}); got shape {values.shape}."
            )
        series = pd.Series(values)
    return text_codes(series)


def _both_or_neither(hotspots: object, hotspot_ids: object) -> None:
    if (hotspots is None) != (hotspot_ids is None):
        raise ParameterError(
            "hotspots and hotspot_ids: give both (find_hotspots(...).hotspots and "
            ".hotspot_ids) or neither."
        )


# ==========================================================================================
# Joins
# ==========================================================================================
def point_index(incidents: gpd.GeoDataFrame) -> tuple[npt.NDArray[np.object_], _IntArray]:
    """Unique incident points and, per incident, its unique point (-1: no coordinates)."""
    geom = incidents.geometry.to_numpy()
    with np.errstate(invalid="ignore"):
        x = shapely.get_x(geom)
        y = shapely.get_y(geom)
    ok = np.isfinite(x) & np.isfinite(y)
    inverse = np.full(len(geom), -1, dtype=np.int64)
    if not ok.any():
        return np.empty(0, dtype=object), inverse
    codes, uxy, _ = unique_points(np.column_stack([x[ok], y[ok]]))
    inverse[ok] = codes
    return shapely.points(uxy[:, 0], uxy[:, 1]), inverse


def point_pairs(
    points: npt.NDArray[np.object_], polygons: npt.NDArray[np.object_]
) -> tuple[_IntArray, _IntArray]:
    """``(point index, polygon index)`` for every point inside or on a polygon."""
    if len(points) == 0 or len(polygons) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = shapely.STRtree(points)
    poly_idx, pt_idx = tree.query(polygons, predicate="intersects")  # polygons get prepared
    return pt_idx.astype(np.int64), poly_idx.astype(np.int64)


def overlap_pairs(
    footprints: npt.NDArray[np.object_], polygons: npt.NDArray[np.object_]
) -> Overlaps:
    """``(footprint index, polygon index, overlap m²)`` for every overlap with positive area."""
    if len(footprints) == 0 or len(polygons) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=float)
    tree = shapely.STRtree(polygons)
    fp_idx, poly_idx = tree.query(footprints, predicate="intersects")
    # a footprint wholly inside a polygon (most hotspots in a ward) overlaps it by its own
    # area: only those crossing an edge are cut (a city's thousands of hotspots); the test on
    # prepared copies (the caller's polygons may be in use in other threads)
    ready = shapely.from_wkb(shapely.to_wkb(polygons))
    shapely.prepare(ready)
    area = shapely.area(footprints[fp_idx])
    crossing = ~shapely.contains_properly(ready[poly_idx], footprints[fp_idx])
    area[crossing] = shapely.area(
        shapely.intersection(footprints[fp_idx[crossing]], polygons[poly_idx[crossing]])
    )
    keep = area > 0
    return fp_idx[keep].astype(np.int64), poly_idx[keep].astype(np.int64), area[keep]


def _ward_index(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> _IntArray:
    """Per incident, the position of its ward in ``wards`` (-1: in none)."""
    points, inverse = point_index(incidents)
    codes = wards["ward_code"].astype("str").to_numpy(dtype=object)
    out = np.full(len(incidents), -1, dtype=np.int64)
    if len(codes) == 0:
        return out
    by_code = np.argsort(codes, kind="stable")  # rank -> ward position
    rank = np.empty(len(codes), dtype=np.int64)
    rank[by_code] = np.arange(len(codes))
    pt, poly = point_pairs(points, wards.geometry.to_numpy())
    best = np.full(len(points), len(codes), dtype=np.int64)
    np.minimum.at(best, pt, rank[poly])  # smallest ward_code wins a shared edge
    ward_of_point = np.where(best < len(codes), by_code[np.minimum(best, len(codes) - 1)], -1)
    has = inverse >= 0
    out[has] = ward_of_point[inverse[has]]
    return out


def inside_any(incidents: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> npt.NDArray[np.bool_]:
    """Per incident, whether it is inside (or on) any of the polygons."""
    points, inverse = point_index(incidents)
    pt, _ = point_pairs(points, polygons.geometry.to_numpy())
    inside_point = np.zeros(len(points), dtype=bool)
    inside_point[pt] = True
    out = np.zeros(len(incidents), dtype=bool)
    has = inverse >= 0
    out[has] = inside_point[inverse[has]]
    return out


def share_inside(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    patrol_areas: gpd.GeoDataFrame,
    ids: npt.NDArray[np.object_],
) -> npt.NDArray[np.float64]:
    """Per hotspot row, the share of its incidents inside any patrol area (NaN: none)."""
    inside = inside_any(incidents, patrol_areas)
    names = hotspots["hotspot_id"].astype("str").to_numpy(dtype=object)
    slot = pd.Index(names).get_indexer(pd.Index(ids))  # -1: noise or another hotspot
    member = slot >= 0
    total = np.bincount(slot[member], minlength=len(names))
    covered = np.bincount(slot[member & inside], minlength=len(names))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, covered / np.maximum(total, 1), np.nan)


def unique_lists(lists: list[list[str]]) -> list[list[str]]:
    """Each list with its repeats dropped, first order kept (a table's list column: the
    writers join it into text, :func:`hotspots._text.lists_as_text`)."""
    return [list(dict.fromkeys(items)) for items in lists]


def typed_frame(columns: dict[str, Any], dtypes: dict[str, str]) -> pd.DataFrame:
    """A DataFrame of ``columns`` in the order and with the dtypes of ``dtypes``."""
    return pd.DataFrame({name: pd.Series(columns[name], dtype=d) for name, d in dtypes.items()})


def rank_order(hotspots: gpd.GeoDataFrame) -> npt.NDArray[np.intp]:
    """The row positions of ``hotspots`` in ``rank`` order (row order without a ``rank``)."""
    if "rank" in hotspots.columns:
        return np.argsort(hotspots["rank"].to_numpy(), kind="stable")
    return np.arange(len(hotspots))


# ==========================================================================================
# Public functions
# ==========================================================================================
def assign_wards(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.Series:
    """The ward code of every incident.

    Parameters
    ----------
    incidents
        Incidents frame in a metre CRS.
    wards
        Wards frame (``ward_code``, polygons), e.g. from :func:`geodata.load_wards`; reprojected
        to the incidents' CRS when needed. Codes must be unique.

    Returns
    -------
    Series
        ``ward_code`` (str) per incident, same index as ``incidents``: the ward the incident
        lies inside or on the edge of. An incident on an edge shared by several wards goes to
        the one with the smallest ``ward_code`` (string order), so each incident is in exactly
        one ward or none; ``""`` means outside every ward (or no coordinates).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> wards = gpd.GeoDataFrame({"ward_code": ["B", "A"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:27700")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([50, 100, 150, 500], [50, 50, 50, 50]),
    ...                        crs="EPSG:27700")
    >>> assign_wards(pts, wards).tolist()
    ['B', 'A', 'A', '']
    """
    frame = check_incidents(incidents)
    layer = _wards(wards, frame.crs)
    idx = _ward_index(frame, layer)
    codes = layer["ward_code"].astype("str").to_numpy(dtype=object)
    values = np.full(len(frame), "", dtype=object)
    values[idx >= 0] = codes[idx[idx >= 0]]
    return pd.Series(values, index=frame.index, name="ward_code", dtype="str")


def _ward_population(
    layer: gpd.GeoDataFrame, codes: npt.NDArray[np.object_], population: pd.DataFrame | None
) -> npt.NDArray[np.float64]:
    """Residents per ward: the wards frame's ``population``, replaced where ``population`` has
    the code (NaN unknown)."""
    pop = (
        pd.to_numeric(layer["population"], errors="coerce").to_numpy(dtype=float)
        if "population" in layer.columns
        else np.full(len(layer), np.nan)
    )
    if population is None:
        return pop
    if not isinstance(population, pd.DataFrame) or not {"ward_code", "population"} <= set(
        population.columns
    ):
        raise ParameterError(
            "population: expected a table with ward_code and population columns "
            "(geodata.read_population)."
        )
    table = population.assign(ward_code=population["ward_code"].astype("str"))
    lookup = pd.to_numeric(table["population"], errors="coerce")
    lookup.index = pd.Index(table["ward_code"])
    lookup = lookup[~lookup.index.duplicated()]
    given_pop = lookup.reindex(pd.Index(codes)).to_numpy(dtype=float)
    pop = np.where(np.isfinite(given_pop), given_pop, pop)
    stray = sorted(set(lookup.index) - set(codes))
    if stray:
        log.warning("population: %d codes match no ward (e.g. %s)", len(stray), stray[0])
    return pop


def _ward_hotspots(
    frame: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    idx: _IntArray,
    hotspots: gpd.GeoDataFrame | None,
    hotspot_ids: pd.Series | None,
    overlaps: Overlaps | None = None,
) -> tuple[list[list[str]], _IntArray]:
    """Per ward, the ids of the hotspots overlapping it (rank order) and its incidents in one
    (``overlaps``: :func:`overlap_pairs` of the hotspots and wards, when already found)."""
    k = len(layer)
    hotspot_lists: list[list[str]] = [[] for _ in range(k)]
    hotspot_counts = np.zeros(k, dtype=np.int64)
    if hotspots is None or hotspot_ids is None:
        return hotspot_lists, hotspot_counts
    hs = check_hotspots(hotspots, frame.crs)
    ids = check_hotspot_ids(hotspot_ids, frame)
    order = rank_order(hs)
    if overlaps is None:
        overlaps = overlap_pairs(hs.geometry.to_numpy(), layer.geometry.to_numpy())
    ranked = np.empty(len(order), dtype=np.int64)
    ranked[order] = np.arange(len(order))  # each hotspot's place in rank order
    fp, poly = ranked[overlaps[0]], overlaps[1]
    names = hs["hotspot_id"].astype("str").to_numpy(dtype=object)[order]
    for f, w in sorted(zip(fp.tolist(), poly.tolist(), strict=True)):
        hotspot_lists[w].append(str(names[f]))
    in_hotspot = (idx >= 0) & (ids != "")
    hotspot_counts = np.bincount(idx[in_hotspot], minlength=k).astype(np.int64)
    return hotspot_lists, hotspot_counts


def ward_table(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    hotspots: gpd.GeoDataFrame | None = None,
    hotspot_ids: pd.Series | None = None,
    population: pd.DataFrame | None = None,
    ward_codes: pd.Series | None = None,
    overlaps: Overlaps | None = None,
) -> WardTable:
    """Incidents, rates and hotspots per ward.

    Parameters
    ----------
    incidents
        Incidents frame in a metre CRS.
    wards
        Wards frame (``ward_code``; ``ward_name`` and ``population`` used when present).
    hotspots, hotspot_ids
        Both or neither: ``find_hotspots(...).hotspots`` and ``.hotspot_ids``.
    population
        ``ward_code``, ``population`` (e.g. :func:`geodata.read_population`); where it has a
        code its figure replaces the wards frame's.
    ward_codes
        :func:`assign_wards` of these incidents and wards, when already computed.
    overlaps
        :func:`overlap_pairs` of the hotspots' footprints (row order) and the wards, when
        already found (:func:`overlay_hotspots` finds the same).

    Returns
    -------
    WardTable
        ``table``: columns :data:`WARD_TABLE_COLUMNS`, one row per ward, most incidents
        first (ties by ward code): ``incidents`` (assigned as in :func:`assign_wards`),
        ``area_km2``, ``incidents_per_km2``, ``population`` (NaN unknown),
        ``incidents_per_1000`` residents (NaN without a positive population), ``hotspots``
        (ids of hotspots whose footprint overlaps the ward, rank order, ``"H01, H03"``),
        ``n_hotspots``, ``hotspot_incidents`` (the ward's incidents that belong to a hotspot),
        ``share_in_hotspots`` (of the ward's incidents; NaN when it has none). Without
        hotspots: ``""``, 0, 0, 0.0.

        ``incidents_outside`` is the number of incidents in no ward and ``incidents_total``
        the number given, so that
        ``table["incidents"].sum() + incidents_outside == incidents_total``.
    """
    frame = check_incidents(incidents)
    layer = _wards(wards, frame.crs)
    _both_or_neither(hotspots, hotspot_ids)
    codes = layer["ward_code"].astype("str").to_numpy(dtype=object)
    k = len(layer)
    if ward_codes is not None:
        # each distinct code looked up once (a city's million incidents in 657 wards)
        code_of, given = hotspot_id_codes(ward_codes, frame)
        where = pd.Index(codes).get_indexer(pd.Index(given))
        unknown = (where < 0) & (given != "")
        if unknown[code_of].any():
            first = code_of[unknown[code_of]][0]  # a code an incident holds, not just a name
            raise ParameterError(
                f"ward_codes: holds the code {given[first]!r}, not in wards; pass "
                "assign_wards(incidents, wards) for these wards."
            )
        idx = where[code_of].astype(np.int64)
    else:
        idx = _ward_index(frame, layer)
    inward = idx >= 0
    counts = np.bincount(idx[inward], minlength=k).astype(np.int64)
    area_km2 = shapely.area(layer.geometry.to_numpy()) / 1e6

    pop = _ward_population(layer, codes, population)
    hotspot_lists, hotspot_counts = _ward_hotspots(
        frame, layer, idx, hotspots, hotspot_ids, overlaps
    )

    with np.errstate(divide="ignore", invalid="ignore"):
        per_km2 = np.where(area_km2 > 0, counts / area_km2, np.nan)
        per_1000 = np.where(pop > 0, counts / pop * 1000.0, np.nan)
        share = np.where(counts > 0, hotspot_counts / np.maximum(counts, 1), np.nan)
    names_col = (
        layer["ward_name"].astype("str").to_numpy(dtype=object)
        if "ward_name" in layer.columns
        else codes
    )
    lists = unique_lists(hotspot_lists)
    out = typed_frame(
        {
            "ward_code": codes,
            "ward_name": names_col,
            "incidents": counts,
            "area_km2": area_km2,
            "incidents_per_km2": per_km2,
            "population": pop,
            "incidents_per_1000": per_1000,
            "hotspots": lists,
            "n_hotspots": [len(set(x)) for x in hotspot_lists],
            "hotspot_incidents": hotspot_counts,
            "share_in_hotspots": share,
        },
        _WARD_DTYPES,
    )
    rank = np.lexsort((codes.astype(str), -counts)) if k else np.arange(0)
    return WardTable(
        table=out.iloc[rank].reset_index(drop=True),
        incidents_outside=int((~inward).sum()),
        incidents_total=len(frame),
    )


def overlay_hotspots(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    hotspot_ids: pd.Series,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    overlaps: Overlaps | None = None,
) -> gpd.GeoDataFrame:
    """The hotspots with their ``wards`` and ``patrol_coverage`` columns filled.

    Parameters
    ----------
    hotspots, hotspot_ids
        ``find_hotspots(incidents).hotspots`` and ``.hotspot_ids``.
    incidents
        The Incidents frame the hotspots were found in (metre CRS).
    wards, patrol_areas
        Wards (``ward_name`` or ``ward_code``) and patrol areas frames, or None.

    Returns
    -------
    GeoDataFrame
        A copy of ``hotspots`` (same columns, rows and CRS) with ``wards``: the list of the
        names of the wards its footprint overlaps, largest overlap first (``[]`` without a
        ward layer or outside all wards; the files write ``"Ward A; Ward B"``), and
        ``patrol_coverage``: the share of its incidents
        inside (or on the edge of) any patrol area (NaN without a patrol layer).

    ``overlaps``: :func:`overlap_pairs` of the hotspots' footprints and the wards, when
    already found (one search for this and :func:`ward_table`).
    """
    frame = check_incidents(incidents)
    hs = check_hotspots(hotspots, frame.crs)
    ids = check_hotspot_ids(hotspot_ids, frame)
    out = hotspots.copy()
    k = len(hs)
    ward_names: list[list[str]] = [[] for _ in range(k)]
    if wards is not None:
        layer = _wards(wards, frame.crs)
        label_col = "ward_name" if "ward_name" in layer.columns else "ward_code"
        labels = layer[label_col].astype("str").to_numpy(dtype=object)
        if overlaps is None:
            overlaps = overlap_pairs(hs.geometry.to_numpy(), layer.geometry.to_numpy())
        fp, w, area = overlaps
        order = np.lexsort((labels[w].astype(str), -area, fp))  # by hotspot, area desc, name
        for i in order:
            ward_names[int(fp[i])].append(str(labels[w[i]]))
        ward_names = [list(dict.fromkeys(names)) for names in ward_names]
    out["wards"] = pd.Series(ward_names, index=out.index, dtype="object")
    coverage = np.full(k, np.nan)
    if patrol_areas is not None:
        coverage = share_inside(hs, frame, check_patrol_areas(patrol_areas, frame.crs), ids)
    out["patrol_coverage"] = pd.Series(coverage, index=out.index, dtype="float64")
    return out
