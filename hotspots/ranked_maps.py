"""Maps as ranked pieces of the study area, and what they catch: the back-test's and the
forecast's common ground.

A map is a list of polygons in priority order (:func:`ranked_map` cuts each to the study
area and to what earlier ones left free, up to an area budget); :func:`capture` counts the
points (:class:`MapPoints`, unique map points with counts) its first square metres catch.
The baseline maps are here too: each map point's street space (:func:`street_spaces`)
ranked by count (:func:`naive_points`), 50 m grid cells ranked by count
(:func:`naive_cells`), KDE cells (:func:`kde_map`), and the best any map of an area could have
caught (:func:`best_hits`, the PEI's denominator). :mod:`hotspots.backtest` scores them on
folds of months.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy, unique_points
from .footprint import DEFAULT_MARGIN

__all__ = [
    "NAIVE_CELL_M",
    "MapPoints",
    "RankedMap",
    "best_hits",
    "capture",
    "clip",
    "kde_map",
    "map_points",
    "naive_cells",
    "naive_points",
    "ranked_map",
    "simplified",
    "street_spaces",
]

#: Cell size of the naive and best-possible grid maps, metres.
NAIVE_CELL_M = 50.0


@dataclass(frozen=True)
class MapPoints:
    """Unique map points and their counts (or summed weights)."""

    xy: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]

    @property
    def total(self) -> float:
        """All the incidents (or harm) of these points."""
        return float(self.counts.sum())

    @cached_property
    def tree(self) -> shapely.STRtree:
        """A tree of the points, built once: every map of a fold is scored on its test points."""
        return shapely.STRtree(shapely.points(self.xy))


def map_points(incidents: gpd.GeoDataFrame, *, weighted: bool = False) -> MapPoints:
    """The incidents' unique map points with their counts (``weight`` sums when weighted)."""
    xy = incident_xy(incidents)
    if not len(xy):
        return MapPoints(np.zeros((0, 2)), np.zeros(0))
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    _, uxy, uw = unique_points(xy, weights)
    return MapPoints(uxy, uw)


def simplified(study: BaseGeometry) -> BaseGeometry:
    """The study area with vertices closer than 1 m to its line dropped (fast clipping; the
    area changes by a few square metres a kilometre of boundary)."""
    return shapely.simplify(study, 1.0, preserve_topology=True)


def clip(geoms: npt.ArrayLike, study: BaseGeometry) -> npt.NDArray[np.object_]:
    """``geoms`` cut to the study area; those wholly inside are kept as they are (fast)."""
    out = np.asarray(geoms, dtype=object).copy()
    if not len(out):
        return out
    shapely.prepare(study)
    cut = ~shapely.contains_properly(study, out)
    if cut.any():
        out[cut] = shapely.intersection(out[cut], study)
    return out


@dataclass(frozen=True)
class RankedMap:
    """A map cut into disjoint pieces inside the study area, in priority order."""

    pieces: npt.NDArray[np.object_]
    areas: npt.NDArray[np.float64]

    @property
    def area(self) -> float:
        """Total area of the pieces, m²."""
        return float(self.areas.sum())


def ranked_map(
    polygons: Sequence[BaseGeometry] | npt.NDArray[np.object_],
    study: BaseGeometry,
    *,
    max_area: float = math.inf,
    disjoint: bool = False,
) -> RankedMap:
    """Polygons in priority order, each cut to the study area and to what earlier ones left free.

    Stops once the pieces' area passes ``max_area``. ``disjoint=True`` (grid cells, street
    spaces) skips the cutting of overlaps.
    """
    geoms = np.asarray(polygons, dtype=object)
    if not len(geoms):
        return RankedMap(np.zeros(0, dtype=object), np.zeros(0))
    clipped = clip(geoms, study)
    if disjoint:
        areas = shapely.area(clipped)
        keep = areas > 0
        clipped, areas = clipped[keep], areas[keep]
        stop = int(np.searchsorted(np.cumsum(areas), max_area)) + 1
        return RankedMap(clipped[:stop], areas[:stop])
    # each polygon loses what the earlier ones it overlaps took (outlines rarely overlap)
    tree = shapely.STRtree(clipped)
    later, earlier = tree.query(clipped, predicate="intersects")
    keep = earlier < later
    overlaps: dict[int, list[int]] = {}
    for i, j in zip(later[keep].tolist(), earlier[keep].tolist(), strict=True):
        overlaps.setdefault(i, []).append(j)
    pieces = np.empty(len(clipped), dtype=object)
    areas = np.zeros(len(clipped))
    total = 0.0
    last = len(clipped)
    for i, piece in enumerate(clipped):
        if piece is None or piece.is_empty:
            continue
        if i in overlaps:
            piece = piece.difference(shapely.union_all(pieces[overlaps[i]]))
        pieces[i] = piece
        areas[i] = float(piece.area)
        total += areas[i]
        if total >= max_area:
            last = i + 1
            break
    chosen = areas[:last] > 0
    return RankedMap(pieces[:last][chosen], areas[:last][chosen])


def _piece_counts(ranked: RankedMap, points: MapPoints) -> npt.NDArray[np.float64]:
    """Counts of ``points`` in each piece (a point on a shared edge counts in the first)."""
    out = np.zeros(len(ranked.pieces))
    if not len(ranked.pieces) or not len(points.xy):
        return out
    piece_idx, point_idx = points.tree.query(ranked.pieces, predicate="intersects")
    first = np.full(len(points.xy), len(ranked.pieces), dtype=np.int64)
    np.minimum.at(first, point_idx, piece_idx)
    held = first < len(ranked.pieces)
    np.add.at(out, first[held], points.counts[held])
    return out


def capture(
    ranked: RankedMap, points: MapPoints, target_areas: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Counts of ``points`` caught by the first ``target_areas`` m² of the map's pieces.

    The last piece reached is taken in part, its count in proportion to the area taken; past
    the map's end the count stays at the map's total.

    >>> sq = RankedMap(np.array([shapely.box(0, 0, 10, 10)], dtype=object), np.array([100.0]))
    >>> capture(sq, MapPoints(np.array([[5.0, 5.0]]), np.array([4.0])), [50, 100, 400]).tolist()
    [2.0, 4.0, 4.0]
    """
    targets = np.asarray(target_areas, dtype=float)
    counts = _piece_counts(ranked, points)
    if not len(counts):
        return np.zeros(len(targets))
    cum_area = np.r_[0.0, np.cumsum(ranked.areas)]
    cum_count = np.r_[0.0, np.cumsum(counts)]
    k = np.clip(np.searchsorted(cum_area, targets, side="right") - 1, 0, len(counts) - 1)
    frac = np.clip((targets - cum_area[k]) / ranked.areas[k], 0.0, 1.0)
    return np.asarray(cum_count[k] + frac * counts[k], dtype=float)


def street_spaces(
    xy: npt.NDArray[np.float64], study: BaseGeometry, *, radius: float = DEFAULT_MARGIN
) -> npt.NDArray[np.object_]:
    """Each map point's street space: the ground nearer to it than to any other map point,
    within ``radius`` metres of it and inside the study area (one polygon per row of ``xy``,
    all disjoint).
    """
    if not len(xy):
        return np.zeros(0, dtype=object)
    discs = _discs(xy, radius)
    if len(xy) < 2:
        return clip(discs, study)
    # Only a point with another within 2 radius has a neighbour's cell cutting its disc; those
    # points' neighbours are such points too, so their cells are computed among them alone.
    gap = cKDTree(xy).query(xy, k=2)[0][:, 1]
    near = np.flatnonzero(gap <= 2 * radius)
    spaces = discs.copy()
    if len(near) >= 2:
        pts = xy[near]
        lo, hi = pts.min(axis=0) - 2 * radius, pts.max(axis=0) + 2 * radius
        cells = shapely.get_parts(
            shapely.voronoi_polygons(
                shapely.multipoints(pts), extend_to=shapely.box(*lo, *hi), ordered=True
            )
        )
        if len(cells) != len(pts):  # GEOS merged near-twins: fall back to discs (may overlap)
            return clip(discs, study)
        spaces[near] = shapely.intersection(cells, discs[near])
    return clip(spaces, study)


def _discs(xy: npt.NDArray[np.float64], radius: float) -> npt.NDArray[np.object_]:
    """``shapely.buffer(points, radius, quad_segs=4)``, vertex for vertex, from one template
    16-gon (GEOS's: from angle 0 clockwise) moved to every point: several times faster."""
    angles = -np.arange(16) * (2 * np.pi / 16)
    ring = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    ring = np.vstack([ring, ring[:1]])
    return np.asarray(shapely.polygons(xy[:, None, :] + ring[None, :, :]), dtype=object)


def naive_points(
    fit: MapPoints, study: BaseGeometry, *, radius: float = DEFAULT_MARGIN, max_area: float
) -> RankedMap:
    """The naive map at the map-point scale: street spaces ranked by their fit-month count."""
    order = np.lexsort((np.arange(len(fit.counts)), -fit.counts))
    order = order[fit.counts[order] > 0]
    spaces = street_spaces(fit.xy[order], study, radius=radius)
    return ranked_map(spaces, study, max_area=max_area, disjoint=True)


def _cell_counts(
    points: MapPoints, study: BaseGeometry, cell_m: float
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """The grid cells (anchored at whole multiples of ``cell_m``) holding points, and counts."""
    if not len(points.xy):
        return np.zeros(0, dtype=object), np.zeros(0)
    ij = np.floor(points.xy / cell_m).astype(np.int64)
    keys, inverse = np.unique(ij, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=points.counts, minlength=len(keys)).astype(float)
    x0, y0 = keys[:, 0] * cell_m, keys[:, 1] * cell_m
    cells = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    return np.asarray(cells, dtype=object), counts


def naive_cells(
    fit: MapPoints, study: BaseGeometry, *, cell_m: float = NAIVE_CELL_M, max_area: float
) -> RankedMap:
    """The naive grid map: ``cell_m`` cells ranked by their fit-month count (ties: lower x, y)."""
    cells, counts = _cell_counts(fit, study, cell_m)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    return ranked_map(cells[order], study, max_area=max_area, disjoint=True)


def _densest(pieces: npt.NDArray[np.object_], counts: npt.NDArray[np.float64]) -> RankedMap:
    areas = shapely.area(pieces) if len(pieces) else np.zeros(0)
    keep = (areas > 0) & (counts > 0)
    pieces, areas, counts = pieces[keep], areas[keep], counts[keep]
    order = np.lexsort((areas, -counts / np.where(areas > 0, areas, 1.0)))
    return RankedMap(pieces[order], areas[order])


def best_hits(
    test: MapPoints, study: BaseGeometry, target_areas: npt.ArrayLike, *, radius: float
) -> npt.NDArray[np.float64]:
    """The most test incidents any map could catch in each area: the test months' own densest
    map-point street spaces or 50 m cells, whichever catches more (the PEI's denominator)."""
    spaces = street_spaces(test.xy, study, radius=radius)
    by_points = capture(_densest(spaces, test.counts), test, target_areas)
    cells, counts = _cell_counts(test, study, NAIVE_CELL_M)
    clipped = clip(cells, study)
    by_cells = capture(_densest(clipped, counts), test, target_areas)
    return np.maximum(by_points, by_cells)


def kde_map(
    fit: gpd.GeoDataFrame, study: BaseGeometry, weighted: bool, max_area: float
) -> RankedMap:
    """The KDE map of ``fit``: quartic-kernel density cells, densest first, up to ``max_area``."""
    from .density import ranked_kde_cells

    # 50 m cells, coarser over a city (at most about 250,000 cells), bandwidth four cells
    cell = max(NAIVE_CELL_M, round(math.sqrt(float(study.area) / 250_000)))
    cells, _ = ranked_kde_cells(
        fit,
        study,
        cell_size=cell,
        bandwidth=4 * cell,
        max_area=max_area,
        weights="weight" if weighted else None,
    )
    return ranked_map(cells, study, max_area=max_area, disjoint=True)
