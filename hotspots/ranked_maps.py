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

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .footprint import DEFAULT_MARGIN
from .kde_cells import kde_cells
from .point_sets import MapPoints, PointUniverse, map_points
from .street_shapes import cut_by_neighbours, disc_polygons, polygonal

__all__ = [
    "NAIVE_CELL_M",
    "NOWHERE",
    "UNSURE",
    "MapPoints",
    "PointUniverse",
    "RankedMap",
    "StreetSpaces",
    "best_hits",
    "capture",
    "clip",
    "kde_cell",
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
# Polygons taken at a time from an iterable (outlines drawn as they are asked for).
_STREAMED = 128
#: What a map's ``locate`` answers for a point in none of its pieces ...
NOWHERE = -1
#: ... and for a point it leaves to the geometry (on or near an edge).
UNSURE = -2


def simplified(study: BaseGeometry) -> BaseGeometry:
    """The study area with vertices closer than 1 m to its line dropped (fast clipping; the
    area changes by a few square metres a kilometre of boundary)."""
    return shapely.simplify(study, 1.0, preserve_topology=True)


def clip(geoms: npt.ArrayLike, study: BaseGeometry) -> npt.NDArray[np.object_]:
    """``geoms`` cut to the study area; those wholly inside are kept as they are (fast)."""
    return _clip(geoms, study)[0]


def _clip(
    geoms: npt.ArrayLike, study: BaseGeometry
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """:func:`clip`, and which of the geometries were cut."""
    out = np.asarray(geoms, dtype=object).copy()
    if not len(out):
        return out, np.zeros(0, dtype=bool)
    shapely.prepare(study)
    cut = ~shapely.contains_properly(study, out)
    if cut.any():
        out[cut] = polygonal(shapely.intersection(out[cut], study))  # areas only
    return out, cut


#: A map's fast answer to "which piece holds each of these points?": a piece index,
#: :data:`NOWHERE`, or :data:`UNSURE` for the points the geometry must decide.
Locate = Callable[[MapPoints], npt.NDArray[np.intp]]


@dataclass(frozen=True)
class RankedMap:
    """A map cut into disjoint pieces inside the study area, in priority order.

    ``locate``, when the map knows its pieces' layout (grid cells, street spaces), finds the
    piece of most points by arithmetic; :func:`capture` asks the geometry about the rest.
    """

    pieces: npt.NDArray[np.object_]
    areas: npt.NDArray[np.float64]
    locate: Locate | None = field(default=None, repr=False, compare=False)

    @property
    def area(self) -> float:
        """Total area of the pieces, m²."""
        return float(self.areas.sum())


def ranked_map(
    polygons: Iterable[BaseGeometry] | npt.NDArray[np.object_],
    study: BaseGeometry,
    *,
    max_area: float = math.inf,
    disjoint: bool = False,
) -> RankedMap:
    """Polygons in priority order, each cut to the study area and to what earlier ones left free.

    Stops once the pieces' area passes ``max_area``. ``disjoint=True`` (grid cells, street
    spaces) skips the cutting of overlaps. A list or array is cut at once; any other iterable
    is taken :data:`_STREAMED` at a time, and no further than the map needs (an iterator that
    draws its polygons as they are asked for draws no more than that).
    """
    whole = isinstance(polygons, Sequence | np.ndarray)
    if disjoint:
        clipped = clip(np.asarray(polygons if whole else list(polygons), dtype=object), study)
        kept = _prefix(shapely.area(clipped), max_area)
        return RankedMap(clipped[kept], shapely.area(clipped[kept]))
    items = iter(polygons)
    size = len(polygons) if isinstance(polygons, Sequence | np.ndarray) else _STREAMED
    clipped = np.zeros(0, dtype=object)
    pieces: list[BaseGeometry | None] = []
    total = 0.0
    while len(chunk := np.asarray(list(itertools.islice(items, size)), dtype=object)):
        first = len(clipped)
        clipped = np.concatenate([clipped, clip(chunk, study)])
        # each polygon loses what the earlier ones it overlaps took (outlines rarely overlap)
        later, earlier = shapely.STRtree(clipped).query(clipped[first:], predicate="intersects")
        keep = earlier < later + first
        overlaps: dict[int, list[int]] = {}
        for i, j in zip((later[keep] + first).tolist(), earlier[keep].tolist(), strict=True):
            overlaps.setdefault(i, []).append(j)
        for i in range(first, len(clipped)):
            piece = clipped[i]
            if piece is not None and not piece.is_empty and i in overlaps:
                piece = piece.difference(shapely.union_all([pieces[j] for j in overlaps[i]]))
            pieces.append(None if piece is None or piece.is_empty else piece)
            total += 0.0 if pieces[-1] is None else float(pieces[-1].area)
            if total >= max_area:
                return _taken(pieces)
    return _taken(pieces)


def _taken(pieces: list[BaseGeometry | None]) -> RankedMap:
    """The map of ``pieces``, the empty ones left out."""
    kept = np.asarray([piece for piece in pieces if piece is not None], dtype=object)
    areas = np.asarray(shapely.area(kept), dtype=float)
    return RankedMap(kept[areas > 0], areas[areas > 0])


def _prefix(areas: npt.NDArray[np.float64], max_area: float) -> npt.NDArray[np.intp]:
    """The disjoint pieces a map keeps: those of positive area, up to the first whose running
    area reaches ``max_area``."""
    kept = np.flatnonzero(areas > 0)
    return kept[: int(np.searchsorted(np.cumsum(areas[kept]), max_area)) + 1]


def _first_piece(
    pieces: npt.NDArray[np.object_], tree: shapely.STRtree, n_points: int
) -> npt.NDArray[np.intp]:
    """The first piece holding each of the tree's points (a point on a shared edge counts in
    the first), :data:`NOWHERE` for none."""
    piece_idx, point_idx = tree.query(pieces, predicate="intersects")
    first = np.full(n_points, len(pieces), dtype=np.intp)
    np.minimum.at(first, point_idx, piece_idx)
    first[first == len(pieces)] = NOWHERE
    return first


def _piece_counts(ranked: RankedMap, points: MapPoints) -> npt.NDArray[np.float64]:
    """Counts of ``points`` in each piece (a point on a shared edge counts in the first)."""
    if not len(ranked.pieces) or not len(points.xy):
        return np.zeros(len(ranked.pieces))
    if ranked.locate is None:
        where = _first_piece(ranked.pieces, points.tree, len(points.xy))
    else:
        where = ranked.locate(points)
        unsure = np.flatnonzero(where == UNSURE)
        if len(unsure):
            tree = shapely.STRtree(shapely.points(points.xy[unsure]))
            where[unsure] = _first_piece(ranked.pieces, tree, len(unsure))
    held = where >= 0
    counts = np.bincount(where[held], weights=points.counts[held], minlength=len(ranked.pieces))
    return counts.astype(np.float64, copy=False)


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


def _grid_locate(
    origin: tuple[float, float],
    size: float,
    cells: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.float64],
    whole: npt.NDArray[np.bool_],
) -> Locate:
    """Where points fall among square cells of a lattice (``origin``, ``size``): ``cells``
    (column, row) of the pieces in order, their ``bounds``, and which are ``whole`` boxes
    (not cut by the study area). A point strictly inside a whole box is in that piece and no
    other; one strictly inside a cell the map does not hold is in none; the rest (on or near
    a line, or in a cut cell) are :data:`UNSURE`."""
    keys = _cell_keys(cells)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    ox, oy = origin

    def locate(points: MapPoints) -> npt.NDArray[np.intp]:
        x, y = points.xy[:, 0], points.xy[:, 1]
        fx, fy = (x - ox) / size, (y - oy) / size
        col, row = np.floor(fx), np.floor(fy)
        # within a millionth of a cell of a lattice line: left to the geometry
        clear = np.minimum(
            np.minimum(fx - col, 1 - (fx - col)), np.minimum(fy - row, 1 - (fy - row))
        )
        wanted = _cell_keys(np.column_stack([col, row]).astype(np.int64))
        k = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
        held = sorted_keys[k] == wanted
        piece = np.where(held, order[k], NOWHERE).astype(np.intp)
        b = bounds[np.maximum(piece, 0)]
        inside = (b[:, 0] < x) & (x < b[:, 2]) & (b[:, 1] < y) & (y < b[:, 3])
        sure = (clear > 1e-6) & np.where(held, whole[np.maximum(piece, 0)] & inside, True)
        return np.where(sure, piece, UNSURE).astype(np.intp)

    return locate


def _cell_keys(cells: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """One int64 per (column, row) cell, in the cells' (column, row) order (columns and rows
    within ±2³¹)."""
    return (cells[:, 0] << 32) + (cells[:, 1] + (1 << 31))


def _site_locate(
    universe: PointUniverse,
    sites: npt.NDArray[np.intp],
    pool: npt.NDArray[np.intp],
    delicate: npt.NDArray[np.bool_],
) -> Locate:
    """Where points of ``universe`` fall among street spaces: ``sites`` (the universe indices
    of the pieces' map points, in order) out of the ``pool`` of map points whose spaces were
    drawn (all disjoint). A map point is inside its own space and no other's, so a point of
    the pool is in its own piece or, if the map left its space out, in none; a point outside
    the pool, or ``delicate`` (its space cut by the study area, or a twin within a
    millimetre), is :data:`UNSURE`."""
    piece = np.full(len(universe.xy), NOWHERE, dtype=np.intp)
    piece[sites] = np.arange(len(sites))
    known = np.zeros(len(universe.xy), dtype=bool)
    known[pool[~delicate]] = True

    def locate(points: MapPoints) -> npt.NDArray[np.intp]:
        if points.universe is not universe or points.ids is None:
            return np.full(len(points.xy), UNSURE, dtype=np.intp)
        return np.where(known[points.ids], piece[points.ids], UNSURE).astype(np.intp)

    return locate


def street_spaces(
    xy: npt.NDArray[np.float64], study: BaseGeometry, *, radius: float = DEFAULT_MARGIN
) -> npt.NDArray[np.object_]:
    """Each map point's street space: the ground nearer to it than to any other map point,
    within ``radius`` metres of it and inside the study area (one polygon per row of ``xy``,
    all disjoint).
    """
    return _street_spaces(xy, study, radius)[0]


def _street_spaces(
    xy: npt.NDArray[np.float64], study: BaseGeometry, radius: float
) -> tuple[npt.NDArray[np.object_], bool, npt.NDArray[np.bool_]]:
    """:func:`street_spaces`, whether they are disjoint (not GEOS's fallback to discs), and
    which the study area cut."""
    if not len(xy):
        return np.zeros(0, dtype=object), True, np.zeros(0, dtype=bool)
    discs = disc_polygons(xy, radius)
    if len(xy) < 2:
        clipped, cut = _clip(discs, study)
        return clipped, True, cut
    # Only a point with another within 2 radius has a neighbour's cell cutting its disc; those
    # points' neighbours are such points too, so their cells are computed among them alone.
    gap = cKDTree(xy).query(xy, k=2)[0][:, 1]
    near = np.flatnonzero(gap <= 2 * radius)
    spaces = discs.copy()
    if len(near) >= 2:
        pts = xy[near]
        lo, hi = pts.min(axis=0) - 2 * radius, pts.max(axis=0) + 2 * radius
        try:
            cells = shapely.get_parts(
                shapely.voronoi_polygons(
                    shapely.multipoints(pts), extend_to=shapely.box(*lo, *hi), ordered=True
                )
            )
        except shapely.errors.GEOSException:  # a topology error on near-twins: each space
            cells = np.full(len(pts), None)  # cut by its neighbours' half-planes instead
        if len(cells) != len(pts):  # GEOS merged near-twins: fall back to discs (may overlap)
            clipped, cut = _clip(discs, study)
            return clipped, False, cut
        spaces[near] = shapely.intersection(cells, discs[near])
        # GEOS may draw a cell that is invalid (two vertices a hair apart) or not its point's
        # (near-twins), or none: those spaces are cut by each neighbour's half-plane instead
        wrong = ~shapely.is_valid(cells) | ~shapely.intersects_xy(cells, *pts.T)
        around = cKDTree(pts).query_ball_point(pts[wrong], 2 * radius)
        for k, others in zip(np.flatnonzero(wrong), around, strict=True):
            spaces[near[k]] = cut_by_neighbours(pts[k], pts[others], discs[near[k]], radius)
    clipped, cut = _clip(spaces, study)
    return clipped, True, cut


class StreetSpaces:
    """The street spaces of every map point of a :class:`PointUniverse`, drawn once, and
    those among any subset of it (:meth:`of`).

    A map point's street space depends only on the map points within twice the radius of it.
    Among a subset, a point keeps its universe space unless one of those neighbours is
    missing; only such points are drawn again, among their neighbours in the subset: the
    same spaces :func:`street_spaces` draws for the subset, for a fraction of the work.
    """

    def __init__(
        self, universe: PointUniverse, study: BaseGeometry, *, radius: float = DEFAULT_MARGIN
    ) -> None:
        self.universe, self.radius = universe, radius
        xy = universe.xy
        tree = cKDTree(xy)
        self._pairs = tree.query_pairs(2 * radius, output_type="ndarray").reshape(-1, 2)
        self.spaces, self._disjoint, cut = _street_spaces(xy, study, radius)
        self.areas = shapely.area(self.spaces)
        twins = tree.query_pairs(1e-3, output_type="ndarray").reshape(-1, 2)
        self._delicate = cut.copy()
        self._delicate[twins.ravel()] = True

    def of(
        self, ids: npt.NDArray[np.intp], study: BaseGeometry
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_] | None]:
        """The street spaces among the map points ``ids`` (in that order), and which of them
        are delicate for :func:`_site_locate` (None when the spaces may overlap); see
        :meth:`with_areas`."""
        spaces, _, delicate = self.with_areas(ids, study)
        return spaces, delicate

    def with_areas(
        self, ids: npt.NDArray[np.intp], study: BaseGeometry
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
        """:meth:`of`, with the spaces' areas (each worked out once, with the universe's
        spaces, but for those drawn again among the subset).

        ``study``: the same study area as the universe's, the caller's own copy (a prepared
        geometry must not be shared between threads).
        """
        xy, ids = self.universe.xy, np.asarray(ids, dtype=np.intp)
        if not self._disjoint:
            alone = _street_spaces(xy[ids], study, self.radius)[0]
            return alone, shapely.area(alone), None
        member = np.zeros(len(xy), dtype=bool)
        member[ids] = True
        a, b = self._pairs[:, 0], self._pairs[:, 1]
        redo = np.unique(np.r_[a[member[a] & ~member[b]], b[member[b] & ~member[a]]])
        spaces, areas, delicate = self.spaces[ids], self.areas[ids], self._delicate.copy()
        if len(redo):
            again = np.zeros(len(xy), dtype=bool)
            again[redo] = True
            both = member[a] & member[b]
            local = np.unique(np.r_[redo, b[both & again[a]], a[both & again[b]]])
            drawn, disjoint, cut = _street_spaces(xy[local], study, self.radius)
            if not disjoint:  # as street_spaces of the subset would
                alone = _street_spaces(xy[ids], study, self.radius)[0]
                return alone, shapely.area(alone), None
            position = np.full(len(xy), -1, dtype=np.intp)
            position[ids] = np.arange(len(ids))
            mine = again[local]
            spaces[position[local[mine]]] = drawn[mine]
            areas[position[local[mine]]] = shapely.area(drawn[mine])
            delicate[local[mine]] |= cut[mine]
        return spaces, areas, delicate[ids]


def _drawn_by(spaces: StreetSpaces, points: MapPoints, radius: float) -> bool:
    """Whether ``points`` were cut from the universe of ``spaces``, drawn at ``radius``."""
    return points.universe is spaces.universe and spaces.radius == radius


def naive_points(
    fit: MapPoints,
    study: BaseGeometry,
    *,
    radius: float = DEFAULT_MARGIN,
    max_area: float,
    spaces: StreetSpaces | None = None,
) -> RankedMap:
    """The naive map at the map-point scale: street spaces ranked by their fit-month count.

    ``spaces``: the street spaces of the universe ``fit`` was cut from (faster; the same map).
    """
    order = np.lexsort((np.arange(len(fit.counts)), -fit.counts))
    order = order[fit.counts[order] > 0]
    if spaces is None or fit.ids is None or not _drawn_by(spaces, fit, radius):
        drawn = street_spaces(fit.xy[order], study, radius=radius)
        return ranked_map(drawn, study, max_area=max_area, disjoint=True)
    ids = fit.ids[order]
    drawn, areas, delicate = spaces.with_areas(ids, study)
    kept = _prefix(areas, max_area)
    locate = None if delicate is None else _site_locate(spaces.universe, ids[kept], ids, delicate)
    return RankedMap(drawn[kept], areas[kept], locate)


def _cell_counts(
    points: MapPoints, cell_m: float
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The grid cells (anchored at whole multiples of ``cell_m``) holding points, their
    counts and their (column, row)."""
    if not len(points.xy):
        return np.zeros(0, dtype=object), np.zeros(0), np.zeros((0, 2), dtype=np.int64)
    cell_keys, inverse = np.unique(
        _cell_keys(np.floor(points.xy / cell_m).astype(np.int64)), return_inverse=True
    )  # sorted by column, then row
    keys = np.column_stack([cell_keys >> 32, (cell_keys & 0xFFFFFFFF) - (1 << 31)])
    counts = np.bincount(inverse, weights=points.counts, minlength=len(keys)).astype(float)
    x0, y0 = keys[:, 0] * cell_m, keys[:, 1] * cell_m
    cells = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    return np.asarray(cells, dtype=object), counts, keys


def _cell_map(
    cells: npt.NDArray[np.object_],
    keys: npt.NDArray[np.int64],
    study: BaseGeometry,
    cell_m: float,
    rank: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.intp]],
) -> RankedMap:
    """Grid cells cut to the study area, in the order ``rank`` gives from their areas (the
    pieces it keeps), with a :data:`Locate` on the lattice."""
    clipped, cut = _clip(cells, study)
    kept = rank(shapely.area(clipped))
    pieces = clipped[kept]
    locate = _grid_locate((0.0, 0.0), cell_m, keys[kept], shapely.bounds(pieces), ~cut[kept])
    return RankedMap(pieces, shapely.area(pieces), locate)


def naive_cells(
    fit: MapPoints, study: BaseGeometry, *, cell_m: float = NAIVE_CELL_M, max_area: float
) -> RankedMap:
    """The naive grid map: ``cell_m`` cells ranked by their fit-month count (ties: lower x, y)."""
    cells, counts, keys = _cell_counts(fit, cell_m)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    return _cell_map(
        cells[order], keys[order], study, cell_m, lambda areas: _prefix(areas, max_area)
    )


def _densest_order(
    areas: npt.NDArray[np.float64], counts: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """The pieces with area and a count, densest first (ties: the smaller first)."""
    keep = np.flatnonzero((areas > 0) & (counts > 0))
    density = counts[keep] / areas[keep]
    return keep[np.lexsort((areas[keep], -density))]


def best_hits(
    test: MapPoints,
    study: BaseGeometry,
    target_areas: npt.ArrayLike,
    *,
    radius: float,
    spaces: StreetSpaces | None = None,
) -> npt.NDArray[np.float64]:
    """The most test incidents any map could catch in each area: the test months' own densest
    map-point street spaces or 50 m cells, whichever catches more (the PEI's denominator).

    ``spaces``: the street spaces of the universe ``test`` was cut from (faster; the same).
    """
    locate: Locate | None = None
    if spaces is not None and test.ids is not None and _drawn_by(spaces, test, radius):
        drawn, areas, delicate = spaces.with_areas(test.ids, study)
    else:
        drawn, delicate = street_spaces(test.xy, study, radius=radius), None
        areas = shapely.area(drawn) if len(drawn) else np.zeros(0)
    order = _densest_order(areas, test.counts)
    if delicate is not None and spaces is not None and test.ids is not None:
        locate = _site_locate(spaces.universe, test.ids[order], test.ids, delicate)
    by_points = capture(RankedMap(drawn[order], areas[order], locate), test, target_areas)
    cells, counts, keys = _cell_counts(test, NAIVE_CELL_M)
    grid = _cell_map(cells, keys, study, NAIVE_CELL_M, lambda areas: _densest_order(areas, counts))
    by_cells = capture(grid, test, target_areas)
    return np.maximum(by_points, by_cells)


def kde_cell(study: BaseGeometry) -> float:
    """The side (metres) of :func:`kde_map`'s cells over ``study``: 50 m, coarser over a city
    (at most about 250,000 cells)."""
    return float(max(NAIVE_CELL_M, round(math.sqrt(float(study.area) / 250_000))))


def kde_map(fit: MapPoints, study: BaseGeometry, max_area: float, *, cells: int = 4) -> RankedMap:
    """The KDE map of ``fit``: quartic-kernel density cells (:func:`kde_cell`), densest
    first, up to ``max_area``; the bandwidth is ``cells`` cells."""
    cell = kde_cell(study)
    order = np.lexsort((fit.xy[:, 1], fit.xy[:, 0]))  # the order the density sums have used
    found = kde_cells(fit.xy[order], fit.counts[order], study, cell, cells * cell, max_area)
    kept = _prefix(shapely.area(found.cells), max_area)
    pieces = found.cells[kept]
    locate = _grid_locate(
        found.origin, cell, found.lattice[kept], shapely.bounds(pieces), found.whole[kept]
    )
    return RankedMap(pieces, shapely.area(pieces), locate)
