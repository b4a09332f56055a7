"""Patrol areas over incidents and hotspots: coverage, uncovered hotspots, outreach streets.

The patrol-area family of the overlay step. The rules of :mod:`hotspots.overlay` hold here:
inputs are never modified; incidents must be in a projected CRS in metres; patrol area and
hotspot layers in another CRS are reprojected to it; *inside* means inside or on the edge;
patrol areas may overlap (an incident inside two areas counts in each area's row of
:func:`patrol_coverage`, and once in a hotspot's coverage); counts are incidents, not harm.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._counts import counted, rank_within
from ._points import all_points_xy, unique_points_of
from ._validate import check_incidents
from .errors import ParameterError
from .overlay import (
    check_hotspot_ids,
    check_hotspots,
    check_patrol_areas,
    hotspot_id_codes,
    inside_any,
    point_index,
    point_pairs,
    rank_order,
    share_inside,
    typed_frame,
    unique_lists,
)
from .places import location_codes

__all__ = [
    "OUTREACH_COLUMNS",
    "PATROL_POINT_COLUMNS",
    "PATROL_TABLE_COLUMNS",
    "coverage_share",
    "outreach_streets",
    "patrol_coverage",
    "patrol_points",
    "uncovered_hotspots",
]

#: Columns of :func:`patrol_coverage`, in this order.
PATROL_TABLE_COLUMNS: list[str] = [
    "patrol_area",
    "area_km2",
    "incidents",
    "hotspot_incidents",
    "hotspots_touched",
    "hotspots",
    "share_in_hotspots",
    "share_of_hotspot_incidents",
]
#: Columns of :func:`outreach_streets`, in this order.
OUTREACH_COLUMNS: list[str] = [
    "hotspot_id",
    "rank_in_hotspot",
    "street",
    "incidents",
    "share_of_hotspot",
]

_PATROL_DTYPES = {
    "patrol_area": "str",
    "area_km2": "float64",
    "incidents": "int64",
    "hotspot_incidents": "int64",
    "hotspots_touched": "int64",
    "hotspots": "object",
    "share_in_hotspots": "float64",
    "share_of_hotspot_incidents": "float64",
}
_OUTREACH_DTYPES = {
    "hotspot_id": "str",
    "rank_in_hotspot": "int64",
    "street": "str",
    "incidents": "int64",
    "share_of_hotspot": "float64",
}


def patrol_coverage(
    incidents: gpd.GeoDataFrame,
    patrol_areas: gpd.GeoDataFrame,
    *,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> pd.DataFrame:
    """Incidents and hotspots per patrol area.

    Parameters
    ----------
    incidents
        Incidents frame in a metre CRS.
    patrol_areas
        Patrol areas frame (``patrol_area``, polygons), e.g. :func:`geodata.load_patrol_areas`.
    hotspots, hotspot_ids
        ``find_hotspots(...).hotspots`` and ``.hotspot_ids``.

    Returns
    -------
    DataFrame
        Columns :data:`PATROL_TABLE_COLUMNS`, one row per patrol area, most hotspot incidents
        first (then most incidents, then name): ``area_km2``, ``incidents`` inside it (or on
        its edge; an incident inside overlapping areas counts in each), ``hotspot_incidents``
        (those in a hotspot), ``hotspots_touched`` (hotspots with an incident inside it:
        coverage by incidents, as :func:`uncovered_hotspots` counts it), ``hotspots``
        (their ids in rank order, ``"H01, H03"``), ``share_in_hotspots`` (of its
        incidents; NaN when none), ``share_of_hotspot_incidents`` (of all hotspot incidents;
        NaN when there are none).
    """
    frame = check_incidents(incidents)
    areas = check_patrol_areas(patrol_areas, frame.crs)
    hs = check_hotspots(hotspots, frame.crs)
    ids = check_hotspot_ids(hotspot_ids, frame)
    k = len(areas)
    points, inverse = point_index(frame)
    has = inverse >= 0
    per_point = np.bincount(inverse[has], minlength=len(points))
    hot = has & (ids != "")
    hot_per_point = np.bincount(inverse[hot], minlength=len(points))
    pt, poly = point_pairs(points, areas.geometry.to_numpy())
    counts = np.bincount(poly, weights=per_point[pt], minlength=k).astype(np.int64)
    hot_counts = np.bincount(poly, weights=hot_per_point[pt], minlength=k).astype(np.int64)

    touched = _hotspots_inside(hs, ids, inverse, hot, (pt, poly), len(points), k)
    n_hot = int((ids != "").sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        share_in = np.where(counts > 0, hot_counts / np.maximum(counts, 1), np.nan)
        share_of = hot_counts / n_hot if n_hot else np.full(k, np.nan)
    labels = areas["patrol_area"].astype("str").to_numpy(dtype=object)
    out = typed_frame(
        {
            "patrol_area": labels,
            "area_km2": shapely.area(areas.geometry.to_numpy()) / 1e6,
            "incidents": counts,
            "hotspot_incidents": hot_counts,
            "hotspots_touched": [len(set(t)) for t in touched],
            "hotspots": unique_lists(touched),
            "share_in_hotspots": share_in,
            "share_of_hotspot_incidents": share_of,
        },
        _PATROL_DTYPES,
    )
    rank = np.lexsort((labels.astype(str), -counts, -hot_counts)) if k else np.arange(0)
    return out.iloc[rank].reset_index(drop=True)


def _hotspots_inside(
    hs: gpd.GeoDataFrame,
    ids: npt.NDArray[np.object_],
    inverse: npt.NDArray[np.int64],
    hot: npt.NDArray[np.bool_],
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    n_points: int,
    k: int,
) -> list[list[str]]:
    """Per patrol area, the hotspots with at least one incident inside it, in rank order
    (coverage by incidents, as :func:`uncovered_hotspots` counts it; a footprint that only
    brushes an area's edge, with none of its incidents inside, does not count)."""
    ranked = hs["hotspot_id"].astype("str").to_numpy()[rank_order(hs)]
    rank_of = {str(h): pos for pos, h in enumerate(ranked)}
    point_hotspot = np.full(n_points, "", dtype=object)
    point_hotspot[inverse[hot]] = ids[hot]  # a map point's incidents share one hotspot
    touched: list[set[str]] = [set() for _ in range(k)]
    for p, a in zip(*pairs, strict=True):
        if point_hotspot[p]:
            touched[a].add(str(point_hotspot[p]))
    return [sorted(t, key=lambda h: (rank_of.get(h, len(rank_of)), h)) for t in touched]


def uncovered_hotspots(
    hotspots: gpd.GeoDataFrame,
    patrol_areas: gpd.GeoDataFrame,
    *,
    hotspot_ids: pd.Series,
    incidents: gpd.GeoDataFrame,
    max_coverage: float = 0.0,
) -> gpd.GeoDataFrame:
    """The hotspots that patrol areas leave (almost) uncovered.

    Parameters
    ----------
    hotspots, hotspot_ids
        ``find_hotspots(incidents).hotspots`` and ``.hotspot_ids``.
    patrol_areas
        Patrol areas frame (an empty one leaves every hotspot uncovered).
    incidents
        The Incidents frame the hotspots were found in.
    max_coverage
        Largest share (0..1) of a hotspot's incidents inside patrol areas for it to count as
        uncovered; 0.0 (default) means none of its incidents is inside one.

    Returns
    -------
    GeoDataFrame
        The rows of ``hotspots`` whose ``patrol_coverage`` (filled in, as in
        :func:`overlay_hotspots`) is at most ``max_coverage``, in rank order, same columns.
        A hotspot with no incidents in ``hotspot_ids`` has NaN coverage and is left out.
    """
    try:
        limit = float(max_coverage)
    except (TypeError, ValueError):
        raise ParameterError(
            f"max_coverage: must be a share between 0 and 1, not {max_coverage!r}."
        ) from None
    if not 0.0 <= limit <= 1.0:
        raise ParameterError(f"max_coverage: must be a share between 0 and 1, not {limit!r}.")
    frame = check_incidents(incidents)
    hs = check_hotspots(hotspots, frame.crs)
    ids = check_hotspot_ids(hotspot_ids, frame)
    coverage = share_inside(hs, frame, check_patrol_areas(patrol_areas, frame.crs), ids)
    out = hotspots.copy()
    out["patrol_coverage"] = pd.Series(coverage, index=out.index, dtype="float64")
    order = rank_order(hs)
    keep = order[coverage[order] <= limit]
    return out.iloc[keep]


def _hotspot_slots(
    incidents: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame, hotspot_ids: pd.Series, top_n: int
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.object_], npt.NDArray[np.intp]]:
    """The checked incidents, the hotspot ids in rank order and each incident's place among
    them (-1: in none of ``hotspots``), once ``top_n`` is checked."""
    if isinstance(top_n, bool) or not isinstance(top_n, int | np.integer) or top_n < 1:
        raise ParameterError(f"top_n: must be a whole number of at least 1, not {top_n!r}.")
    frame = check_incidents(incidents, columns=("location",))
    hs = check_hotspots(hotspots, frame.crs)
    codes, ids = hotspot_id_codes(hotspot_ids, frame)
    names = hs["hotspot_id"].astype("str").to_numpy(dtype=object)[rank_order(hs)]
    return frame, names, pd.Index(names).get_indexer(pd.Index(ids))[codes]


def outreach_streets(
    incidents: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    hotspot_ids: pd.Series,
    top_n: int = 5,
    locations: pd.Series | None = None,
) -> pd.DataFrame:
    """The streets where each hotspot's incidents happen, most first: where to send outreach.

    Parameters
    ----------
    incidents
        Incidents frame (``location`` column, e.g. "On or near St James Street").
    hotspots
        The hotspots to list (e.g. :func:`uncovered_hotspots`); only ``hotspot_id`` (and
        ``rank`` for the order) is used.
    hotspot_ids
        ``find_hotspots(incidents).hotspot_ids``; incidents of hotspots not in ``hotspots`` are
        ignored.
    top_n
        Streets listed per hotspot (at least 1).
    locations
        The incidents' place names, :func:`hotspots.places.location_names` of ``incidents``,
        when the caller has them; None: named here.

    Returns
    -------
    DataFrame
        Columns :data:`OUTREACH_COLUMNS`: per hotspot in rank order, its streets and places
        as :func:`hotspots.places.location_names` names them ("On or near " stripped, a
        police.uk place type by its nearest street: "Supermarket near High Street"; empty and
        "No Location" skipped) by incidents, most first, ties by name: ``rank_in_hotspot``
        (1..), ``street``, ``incidents``, ``share_of_hotspot`` (of all the hotspot's
        incidents, with or without a street). The same names as the hotspots'
        ``top_locations`` and :func:`patrol_points`.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(
    ...     {"location": ["On or near High Street"] * 2 + ["On or near Mill Lane", "No Location"]},
    ...     geometry=gpd.points_from_xy([0, 1, 2, 3], [0, 0, 0, 0]), crs="EPSG:27700")
    >>> hs = gpd.GeoDataFrame({"hotspot_id": ["H01"], "rank": [1]}, geometry=[None],
    ...                       crs="EPSG:27700")
    >>> outreach_streets(pts, hs, hotspot_ids=pd.Series(["H01"] * 4)).to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'hotspot_id': ['H01', 'H01'], 'rank_in_hotspot': [1, 2],
     'street': ['High Street', 'Mill Lane'], 'incidents': [2, 1], 'share_of_hotspot': [0.5, 0.25]}
    """
    frame, names, slot = _hotspot_slots(incidents, hotspots, hotspot_ids, top_n)
    member = slot >= 0
    totals = np.bincount(slot[member], minlength=len(names))
    place_code, streets = location_codes(frame, locations)
    named = member & (place_code >= 0)
    # incidents per (hotspot, street): one whole-number key per pair, counted
    pair, _, n = counted(slot[named].astype(np.int64) * max(len(streets), 1) + place_code[named])
    slots, code = np.divmod(pair, max(len(streets), 1))
    order = np.lexsort((_text_rank(streets)[code], -n, slots))  # most first, ties by name
    slots, code, n = slots[order], code[order], n[order]
    rank = rank_within(slots) + 1  # 1, 2, ... in each hotspot
    keep = rank <= int(top_n)
    slots, code, n, rank = slots[keep], code[keep], n[keep], rank[keep]
    return typed_frame(
        {
            "hotspot_id": names[slots] if len(slots) else [],
            "rank_in_hotspot": rank,
            "street": streets[code] if len(code) else np.zeros(0, dtype=object),
            "incidents": n,
            "share_of_hotspot": n / totals[slots] if len(slots) else [],
        },
        _OUTREACH_DTYPES,
    )


_POINT_DTYPES = {
    "hotspot_id": "str",
    "rank_in_hotspot": "int64",
    "location": "str",
    "incidents": "int64",
    "share_of_hotspot": "float64",
    "easting": "float64",
    "northing": "float64",
    "longitude": "float64",
    "latitude": "float64",
}
#: Columns of :func:`patrol_points`.
PATROL_POINT_COLUMNS = list(_POINT_DTYPES)


def patrol_points(
    incidents: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    hotspot_ids: pd.Series,
    top_n: int = 5,
    locations: pd.Series | None = None,
) -> pd.DataFrame:
    """Each hotspot's busiest map points: the exact places to send officers or outreach workers.

    data.police.uk records every crime at one of a fixed set of anonymous map points, so a
    hotspot's crime sits on a few points; these are its patrol points, busiest first.

    Parameters
    ----------
    incidents
        Incidents frame (``location`` column) in a metre CRS.
    hotspots
        The hotspots to list (``hotspot_id`` and ``rank`` for the order).
    hotspot_ids
        Each incident's hotspot id ("" for none); hotspots not in ``hotspots`` are ignored.
    top_n
        Map points listed per hotspot (at least 1).
    locations
        The incidents' place names, :func:`hotspots.places.location_names` of ``incidents``,
        when the caller has them; None: named here.

    Returns
    -------
    DataFrame
        Columns :data:`PATROL_POINT_COLUMNS`: per hotspot in rank order, its map points by
        incidents, most first, ties by location then position: ``rank_in_hotspot`` (1..),
        ``location`` (the point's most frequent name by :func:`hotspots.places.location_names`:
        "On or near " stripped, a place type by its nearest street, "" for none), ``incidents``,
        ``share_of_hotspot``, ``easting``/``northing`` (the incidents' CRS) and
        ``longitude``/``latitude`` (WGS84).

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(
    ...     {"location": ["On or near High Street"] * 3 + ["On or near Mill Lane"]},
    ...     geometry=gpd.points_from_xy([0, 0, 0, 90], [0, 0, 0, 0]), crs="EPSG:27700")
    >>> hs = gpd.GeoDataFrame({"hotspot_id": ["H01"], "rank": [1]}, geometry=[None],
    ...                       crs="EPSG:27700")
    >>> t = patrol_points(pts, hs, hotspot_ids=pd.Series(["H01"] * 4))
    >>> t[["location", "incidents", "easting"]].values.tolist()
    [['High Street', 3, 0.0], ['Mill Lane', 1, 90.0]]
    """
    frame, names, slot = _hotspot_slots(incidents, hotspots, hotspot_ids, top_n)
    member = np.flatnonzero(slot >= 0)
    point, uxy = _member_points(frame, member)
    label_code, labels = location_codes(frame, locations)
    totals = np.bincount(slot[member], minlength=len(names))
    # incidents per (hotspot, map point), and per (hotspot, map point, name): whole-number
    # keys, counted (a point's name: its most frequent, ties by name)
    pair, pair_of_row, n = counted(slot[member].astype(np.int64) * max(len(uxy), 1) + point)
    slots, p = np.divmod(pair, max(len(uxy), 1))
    named = label_code[member] >= 0
    width = max(len(labels), 1)
    triple, _, k = counted(pair_of_row[named].astype(np.int64) * width + label_code[member][named])
    t_pair, t_loc = np.divmod(triple, width)
    label_rank = _text_rank(labels)
    best = np.lexsort((label_rank[t_loc], -k, t_pair))
    first = best[np.r_[True, t_pair[best][1:] != t_pair[best][:-1]]] if len(best) else best
    location = np.full(len(pair), "", dtype=object)
    location[t_pair[first]] = labels[t_loc[first]]
    x, y = uxy[p, 0], uxy[p, 1]
    order = np.lexsort((y, x, _text_rank(location), -n, slots))
    slots, location, n, x, y = slots[order], location[order], n[order], x[order], y[order]
    rank = rank_within(slots) + 1  # 1, 2, ... in each hotspot
    keep = rank <= int(top_n)
    slots, location, n, x, y, rank = (a[keep] for a in (slots, location, n, x, y, rank))
    lonlat = (
        shapely.get_coordinates(
            gpd.GeoSeries(gpd.points_from_xy(x, y), crs=frame.crs).to_crs("EPSG:4326").to_numpy()
        )
        if len(x)
        else np.zeros((0, 2))
    )
    return typed_frame(
        {
            "hotspot_id": names[slots] if len(slots) else [],
            "rank_in_hotspot": rank,
            "location": location,
            "incidents": n,
            "share_of_hotspot": n / totals[slots] if len(slots) else [],
            "easting": x,
            "northing": y,
            "longitude": lonlat[:, 0],
            "latitude": lonlat[:, 1],
        },
        _POINT_DTYPES,
    )


def _member_points(
    frame: gpd.GeoDataFrame, member: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The map point (a code) of each ``member`` row, and the points' coordinates
    (:func:`hotspots._points.unique_points_of`: a city's kept codes); only the members'
    geometries are read when other rows are not all points."""
    geoms = frame.geometry.to_numpy()
    xy = all_points_xy(geoms)  # kept for a city's frame; None unless every row is a point
    if xy is None:
        xy, member = shapely.get_coordinates(geoms[member]), np.arange(len(member))
    codes, uxy, _ = unique_points_of(xy, member)
    return codes, uxy


def _text_rank(values: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    """Each value's place in the order pandas sorts them (equal values one place; names of
    mixed kinds, numbers before text, as a pandas sort of the column puts them): a sort key
    for names."""
    if not len(values):
        return np.zeros(0, dtype=np.intp)
    rank, _ = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return np.asarray(rank, dtype=np.intp)


def coverage_share(
    incidents: gpd.GeoDataFrame,
    patrol_areas: gpd.GeoDataFrame,
    *,
    hotspot_ids: pd.Series,
) -> float:
    """The share of all hotspot incidents that lie inside (or on) any patrol area.

    Returns NaN when no incident is in a hotspot.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([5, 50, 500], [5, 5, 5]),
    ...                        crs="EPSG:27700")
    >>> areas = gpd.GeoDataFrame({"patrol_area": ["A"]}, geometry=[box(0, 0, 10, 10)],
    ...                          crs="EPSG:27700")
    >>> coverage_share(pts, areas, hotspot_ids=pd.Series(["H01", "H01", ""]))
    0.5
    """
    frame = check_incidents(incidents)
    areas = check_patrol_areas(patrol_areas, frame.crs)
    ids = check_hotspot_ids(hotspot_ids, frame)
    hot = ids != ""
    if not hot.any():
        return float("nan")
    inside = inside_any(frame, areas)
    return float((inside & hot).sum() / hot.sum())
