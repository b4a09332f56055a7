"""Kernel density estimation (KDE) of incidents on a square or hexagonal grid.

The rule
--------
Density at the centre ``c`` of every grid cell, in incidents per km², with the quartic
(biweight) kernel of bandwidth ``h`` (metres)::

    f(c) = 1e6 * sum_j w_j K(|c - p_j|),   K(d) = 3 / (pi h²) * (1 - (d/h)²)²  for d < h, else 0

where ``p_j`` are the incidents and ``w_j`` their weights (1, or the harm weight). ``K``
integrates to 1 over the plane, so summing ``density_km2 * area_km2`` over a grid that covers
every point's disc gives the number of incidents. data.police.uk snaps incidents onto a
limited set of map points, so the sum runs over the *unique* map points with their summed
weights: the same answer, at the cost of the map points only.

Defaults (Chainey & Ratcliffe 2005, *GIS and Crime Mapping*, ch. 6; Chainey 2013, "Examining
the influence of cell size and bandwidth size on kernel density estimation crime hotspot maps
for predicting spatial patterns of crime", *Bulletin of the Geographical Society of Liège* 60):

* cell size = the shorter side of the study area's bounding box / 150;
* bandwidth = the shorter side of the study area's bounding box / 30 (five default cells).

Both are overridable; the choice and its reason are logged and returned. A bandwidth smaller
than the cell size gives a speckled surface and a warning.

Every incident counts, including those outside the study area (they raise the density of the
cells near the edge, as in practice they do); the density is reported only for the cells of the
study area.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy, unique_points
from ._validate import check_incidents, check_positive_float
from .cluster import Suggestion
from .errors import InputError, ParameterError
from .grid_size import MAX_CELLS, check_grid_size, check_kernel_work, lattice_extent
from .study_area import AreaLike, area_geometry
from .study_area import study_area as make_study_area

__all__ = [
    "CELLS_PER_SHORT_SIDE",
    "MAX_CELLS",
    "SHAPES",
    "KDEResult",
    "grid_cells",
    "kde",
    "kde_bands",
    "kde_hotspot_cells",
    "quartic_kernel",
]

log = logging.getLogger(__name__)

SHAPES = ("square", "hex")
#: Default cell size: the bounding box's shorter side divided by this (Chainey 2013).
CELLS_PER_SHORT_SIDE = 150
#: Default bandwidth: the bounding box's shorter side divided by this (Chainey & Ratcliffe 2005).
BANDWIDTHS_PER_SHORT_SIDE = 30
# Cell centres handled per block of the distance computation (bounds the memory).
_BLOCK = 50_000
# ... and (cell, point) pairs per block, about 0.5 GB of distances.
_BLOCK_PAIRS = 20_000_000


@dataclass
class KDEResult:
    """What :func:`kde` computed.

    Attributes
    ----------
    cells
        One row per grid cell: ``cell_id``, ``row``, ``col``, ``x``, ``y`` (the centre where the
        density is evaluated), ``area_km2`` (clipped to the study area), ``density_km2``
        (incidents, or harm, per km²), ``incidents`` (``density_km2 * area_km2``: the
        estimated incidents in the cell), ``geometry``.
    cell_size, bandwidth
        In metres, given or chosen.
    shape
        ``"square"`` or ``"hex"``.
    weighted
        Whether incidents were weighted (harm) rather than counted.
    total
        Incidents (or summed weights) the surface was estimated from.
    study_area_km2
        Area of the study area.
    suggestions
        The automatic choices made, by parameter name, each with its reason.
    notes
        Plain sentences saying which choices were made.
    """

    cells: gpd.GeoDataFrame
    cell_size: float
    bandwidth: float
    shape: str
    weighted: bool
    total: float
    study_area_km2: float
    suggestions: dict[str, Suggestion] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygon parts of ``geom`` (an intersection can add lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _lattice(
    bounds: Sequence[float], cell_size: float, shape: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.object_]]:
    """Rows, columns, centres and polygons of the cells covering ``bounds``.

    The lattice is anchored at whole multiples of the cell spacing (the origin of the CRS), not
    at the corner of ``bounds``, so one cell size gives the same cells whatever the extent: two
    periods, two filters or two study areas of one place share their cells.
    """
    check_grid_size(bounds, cell_size, shape=shape, max_cells=MAX_CELLS)
    minx, miny, ncol, nrow = lattice_extent(bounds, cell_size, shape)
    if shape == "square":
        xs = minx + cell_size * np.arange(ncol + 1)
        ys = miny + cell_size * np.arange(nrow + 1)
        row, col = np.divmod(np.arange(nrow * ncol), ncol)
        centres = np.column_stack([(xs[col] + xs[col + 1]) / 2, (ys[row] + ys[row + 1]) / 2])
        polys = shapely.box(xs[col], ys[row], xs[col + 1], ys[row + 1])
        return row, col, centres, polys
    # Flat-topped hexagons; cell_size is the distance between neighbouring centres (the
    # flat-to-flat width), as in sf::st_make_grid(square = FALSE).
    radius = cell_size / math.sqrt(3.0)
    row, col = np.divmod(np.arange(nrow * ncol), ncol)
    # Vertices on an exact lattice of half-steps (x: radius / 2, y: cell_size / 2), so that
    # neighbouring hexagons share their vertices bit for bit (contiguity by shared vertices).
    half_x = 3 * col  # centre x in units of radius / 2
    half_y = 2 * row + (col % 2)  # centre y in units of cell_size / 2
    kx = np.array([2, 1, -1, -2, -1, 1, 2])
    ky = np.array([0, 1, 1, 0, -1, -1, 0])
    vx = minx + (radius / 2) * (half_x[:, None] + kx[None, :])
    vy = miny + (cell_size / 2) * (half_y[:, None] + ky[None, :])
    centres = np.column_stack([minx + (radius / 2) * half_x, miny + (cell_size / 2) * half_y])
    polys = shapely.polygons(np.stack([vx, vy], axis=-1))
    return row, col, centres, polys


# --------------------------------------------------------------------------- public API


def quartic_kernel(distance: Any, bandwidth: float) -> NDArray[np.float64]:
    """The quartic (biweight) kernel ``3 / (pi h²) (1 - (d/h)²)²`` for ``d < h``, per m².

    Examples
    --------
    >>> k = quartic_kernel([0.0, 50.0, 100.0], 100.0)
    >>> np.round(k * np.pi * 100.0**2 / 3, 4).tolist()
    [1.0, 0.5625, 0.0]
    """
    h = check_positive_float(bandwidth, "bandwidth")
    d = np.asarray(distance, dtype=float)
    u = np.clip(1.0 - (d / h) ** 2, 0.0, None)
    out: NDArray[np.float64] = 3.0 / (math.pi * h * h) * u * u
    return out


def grid_cells(
    study_area: AreaLike,
    *,
    cell_size: float,
    shape: Literal["square", "hex"] = "square",
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Square or hexagonal grid cells over a study area, clipped to it.

    Parameters
    ----------
    study_area
        Polygon(s) in metres: a shapely geometry (then give ``crs``) or a GeoDataFrame /
        GeoSeries (reprojected to ``crs`` when given).
    cell_size
        Side of a square, or distance between neighbouring hexagon centres, in metres.
    shape
        ``"square"`` or ``"hex"`` (flat-topped hexagons).
    crs
        CRS of the result; the study area's own CRS when None.

    Returns
    -------
    GeoDataFrame
        ``cell_id`` (0, 1, ... in row-major order), ``row``, ``col``, ``x``, ``y`` (centre of
        the whole cell), ``area_km2`` (of the clipped cell), ``geometry`` (clipped). Cells that
        do not overlap the study area are left out.

    Examples
    --------
    >>> cells = grid_cells(shapely.box(0, 0, 300, 200), cell_size=100.0, crs="EPSG:27700")
    >>> len(cells), cells["area_km2"].sum().round(3), cells[["x", "y"]].iloc[0].tolist()
    (6, np.float64(0.06), [50.0, 50.0])
    """
    size = check_positive_float(cell_size, "cell_size")
    if shape not in SHAPES:
        raise ParameterError(f"shape {shape!r} is not known; use one of: {', '.join(SHAPES)}.")
    if crs is None and isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        crs = study_area.crs
    area = area_geometry(study_area, crs)
    row, col, centres, polys = _lattice(area.bounds, size, shape)
    shapely.prepare(area)
    inside = shapely.contains(area, polys)
    touching = shapely.intersects(area, polys) & ~inside
    geoms = polys.copy()
    geoms[touching] = [_polygonal(g) for g in shapely.intersection(polys[touching], area)]
    keep = inside | touching
    keep[touching] &= shapely.area(geoms[touching]) > 0
    cells = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(int(keep.sum()), dtype=np.int64),
            "row": row[keep],
            "col": col[keep],
            "x": centres[keep, 0],
            "y": centres[keep, 1],
            "area_km2": shapely.area(geoms[keep]) / 1e6,
        },
        geometry=geoms[keep],
        crs=crs,
    )
    log.info("grid: %d %s cells of %g m over %.3f km2", len(cells), shape, size, area.area / 1e6)
    return cells


def _weighted_points(
    incidents: gpd.GeoDataFrame, weights: str | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The incidents' unique map points (sorted by x, then y) and their summed weights."""
    xy = incident_xy(incidents)
    if weights is None:
        w = np.ones(len(xy))
    else:
        if weights not in incidents.columns:
            raise ParameterError(
                f"weights column {weights!r} is not in the incidents; use None or 'weight'."
            )
        w = pd.to_numeric(incidents[weights], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError(
                f"the {weights!r} column has missing or negative values; fix or drop those rows."
            )
    ok = np.isfinite(xy).all(axis=1)
    xy, w = xy[ok], w[ok]
    if len(xy) == 0:
        return xy, w
    _, uniq, summed = unique_points(xy, w)
    order = np.lexsort((uniq[:, 1], uniq[:, 0]))  # the order the density sums have always used
    return uniq[order], summed[order]


def _density_at(
    centres: NDArray[np.float64],
    points: NDArray[np.float64],
    counts: NDArray[np.float64],
    bandwidth: float,
    reach: float = 1.0,
) -> NDArray[np.float64]:
    """Quartic KDE at ``centres``, per m², from weighted ``points`` (vectorised, in blocks of
    cells holding about :data:`_BLOCK_PAIRS` pairs; ``reach``: points per cell, on average)."""
    out = np.zeros(len(centres))
    if len(points) == 0 or len(centres) == 0:
        return out
    point_tree = cKDTree(points)
    step = int(min(_BLOCK, max(1, _BLOCK_PAIRS // max(reach, 1.0))))
    for start in range(0, len(centres), step):
        block = centres[start : start + step]
        pairs = cKDTree(block).sparse_distance_matrix(point_tree, bandwidth, output_type="ndarray")
        if len(pairs) == 0:
            continue
        k = quartic_kernel(pairs["v"], bandwidth) * counts[pairs["j"]]
        out[start : start + len(block)] = np.bincount(pairs["i"], weights=k, minlength=len(block))
    return out


def kde(
    incidents: gpd.GeoDataFrame,
    *,
    study_area: AreaLike | None = None,
    cell_size: float | None = None,
    bandwidth: float | None = None,
    shape: Literal["square", "hex"] = "square",
    weights: str | None = None,
) -> KDEResult:
    """Quartic kernel density of incidents per km², at the centre of every grid cell.

    See the module docstring for the kernel and the default rules.

    Parameters
    ----------
    incidents
        An Incidents frame in metres (from :func:`hotspots.read_incidents`).
    study_area
        Boundary of the grid (polygon in the incidents' CRS, or a GeoDataFrame in any CRS);
        the incidents' convex hull when None.
    cell_size
        Cell size in metres; the study area's shorter bounding-box side / 150 when None.
    bandwidth
        Kernel radius in metres; the shorter bounding-box side / 30 when None.
    shape
        ``"square"`` or ``"hex"`` cells.
    weights
        None to count incidents, or a column of weights (``"weight"``: harm weights).

    Returns
    -------
    KDEResult

    Examples
    --------
    One incident at the origin, bandwidth 100 m: the four nearest cell centres, (±50, ±50), are
    70.7 m away and hold ``1e6 * 3 / (pi 100²) * (1 - 0.5)²`` = 23.9 incidents per km².

    >>> one = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:27700")
    >>> res = kde(one, study_area=shapely.box(-200, -200, 200, 200), cell_size=100.0,
    ...           bandwidth=100.0)
    >>> round(float(res.cells["density_km2"].max()), 1)
    23.9
    """
    check_incidents(incidents)
    if shape not in SHAPES:
        raise ParameterError(f"shape {shape!r} is not known; use one of: {', '.join(SHAPES)}.")
    points, counts = _weighted_points(incidents, weights)
    notes: list[str] = []
    suggestions: dict[str, Suggestion] = {}

    if study_area is None:
        default = make_study_area(incidents)
        area = default.geometry
        notes.append(default.note)
    else:
        area = area_geometry(study_area, incidents.crs)
    minx, miny, maxx, maxy = area.bounds
    short = min(maxx - minx, maxy - miny)
    if short <= 0:
        raise InputError("the study area is a line; give a polygon with width and height.")

    if cell_size is None:
        size = short / CELLS_PER_SHORT_SIDE
        reason = (
            f"the study area's shorter side ({short:,.0f} m) / {CELLS_PER_SHORT_SIDE} "
            "(Chainey 2013)"
        )
        suggestions["cell_size"] = Suggestion(size, reason)
        notes.append(f"cell size {size:.0f} m (automatic): {reason}")
    else:
        size = check_positive_float(cell_size, "cell_size")
    if bandwidth is None:
        h = short / BANDWIDTHS_PER_SHORT_SIDE
        reason = (
            f"the study area's shorter side ({short:,.0f} m) / {BANDWIDTHS_PER_SHORT_SIDE} "
            "(Chainey & Ratcliffe 2005)"
        )
        suggestions["bandwidth"] = Suggestion(h, reason)
        notes.append(f"bandwidth {h:.0f} m (automatic): {reason}")
    else:
        h = check_positive_float(bandwidth, "bandwidth")
    for note in notes:
        log.info("KDE %s", note)
    if h < size:
        message = (
            f"bandwidth {h:g} m is smaller than the cell size {size:g} m: the surface will be "
            "speckled and miss incidents between cell centres; use a bandwidth of at least "
            "the cell size."
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        notes.append(message)

    cells = grid_cells(area, cell_size=size, shape=shape, crs=incidents.crs)
    centres = cells[["x", "y"]].to_numpy(dtype=float)
    reach = check_kernel_work(centres, points, h, size)
    density = _density_at(centres, points, counts, h, reach) * 1e6
    cells["density_km2"] = density
    cells["incidents"] = density * cells["area_km2"].to_numpy()
    cells = cells[
        ["cell_id", "row", "col", "x", "y", "area_km2", "density_km2", "incidents", "geometry"]
    ]
    total = float(counts.sum())
    log.info(
        "KDE of %d map points (%.0f %s) on %d cells, bandwidth %.0f m",
        len(points),
        total,
        "weight" if weights else "incidents",
        len(cells),
        h,
    )
    return KDEResult(
        cells=cells,
        cell_size=size,
        bandwidth=h,
        shape=shape,
        weighted=weights is not None,
        total=total,
        study_area_km2=float(area.area) / 1e6,
        suggestions=suggestions,
        notes=notes,
    )


def _area_rank(cells: gpd.GeoDataFrame) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Cells by density, highest first (ties: lower cell_id), and the area share up to each."""
    density = cells["density_km2"].to_numpy(dtype=float)
    order = np.lexsort((cells["cell_id"].to_numpy(), -density))
    area = cells["area_km2"].to_numpy(dtype=float)[order]
    total = area.sum()
    cumulative = np.cumsum(area) / total if total > 0 else np.zeros(len(area))
    return order, cumulative


def _check_share(value: Any, name: str) -> float:
    try:
        share = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a share between 0 and 1; got {value!r}.") from None
    if not (0 < share <= 1):
        raise ParameterError(f"{name} must be a share between 0 and 1 (0.05 = 5%); got {value!r}.")
    return share


def kde_hotspot_cells(result: KDEResult, *, area_share: float = 0.05) -> gpd.GeoDataFrame:
    """The densest cells that together cover at most ``area_share`` of the study area.

    Cells are taken in order of density (ties: lower ``cell_id`` first) while their running
    area stays within the share; cells of zero density are never hotspots.

    Parameters
    ----------
    result
        From :func:`kde`.
    area_share
        Share of the grid's area, ``0 < area_share <= 1`` (0.05 = the top 5%).

    Returns
    -------
    GeoDataFrame
        The chosen cells (columns of ``result.cells``) plus ``rank`` (1 = densest) and
        ``area_share`` (running share of the grid's area up to and including the cell).
    """
    share = _check_share(area_share, "area_share")
    order, cumulative = _area_rank(result.cells)
    density = result.cells["density_km2"].to_numpy(dtype=float)[order]
    take = (cumulative <= share * (1 + 1e-12)) & (density > 0)
    chosen = result.cells.iloc[order[take]].copy()
    chosen["rank"] = np.arange(1, len(chosen) + 1)
    chosen["area_share"] = cumulative[take]
    cols = [c for c in chosen.columns if c != "geometry"] + ["geometry"]
    return chosen[cols].reset_index(drop=True)


def kde_bands(
    result: KDEResult, *, levels: Sequence[float] = (0.01, 0.05, 0.1)
) -> gpd.GeoDataFrame:
    """Banded polygons of the densest cells for the map: top 1%, 1-5%, 5-10% of the area, ...

    Each band is the union of the cells whose running area share (densest first, as in
    :func:`kde_hotspot_cells`) falls in ``(previous level, level]``.

    Parameters
    ----------
    result
        From :func:`kde`.
    levels
        Increasing area shares in ``(0, 1]``.

    Returns
    -------
    GeoDataFrame
        One row per non-empty band: ``band`` (e.g. "top 1%", "1-5%"), ``share_from``,
        ``share_to``, ``min_density_km2``, ``max_density_km2``, ``area_km2``, ``geometry``.
    """
    shares = [_check_share(v, "levels") for v in levels]
    if not shares or any(b <= a for a, b in itertools.pairwise(shares)):
        raise ParameterError("levels must be increasing area shares, e.g. (0.01, 0.05, 0.1).")
    cells = result.cells
    order, cumulative = _area_rank(cells)
    density = cells["density_km2"].to_numpy(dtype=float)[order]
    geoms = cells.geometry.to_numpy()[order]
    rows: list[dict[str, Any]] = []
    previous = 0.0
    for level in shares:
        pick = (
            (cumulative > previous * (1 + 1e-12))
            & (cumulative <= level * (1 + 1e-12))
            & (density > 0)
        )
        if pick.any():
            label = f"top {_pct(level)}" if previous == 0 else f"{_pct(previous)}-{_pct(level)}"
            merged = shapely.union_all(geoms[pick])
            rows.append(
                {
                    "band": label,
                    "share_from": previous,
                    "share_to": level,
                    "min_density_km2": float(density[pick].min()),
                    "max_density_km2": float(density[pick].max()),
                    "area_km2": float(merged.area) / 1e6,
                    "geometry": merged,
                }
            )
        previous = level
    columns = [
        "band",
        "share_from",
        "share_to",
        "min_density_km2",
        "max_density_km2",
        "area_km2",
        "geometry",
    ]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=cells.crs)


def _pct(share: float) -> str:
    return f"{share * 100:g}%"
