"""One outline per hotspot: its member map points and the street space between close neighbours.

The rule
--------
The outline of a cluster is the set of places within ``margin`` metres of its *unique* member
points (data.police.uk snaps many incidents to one map point; a point counts once) or of an edge
of their minimum spanning tree (the shortest set of straight links joining them all):

    outline = buffer(margin) of (member map points ∪ spanning-tree edges no longer than ``link``)

* It contains every member map point, and nothing farther than ``margin`` from a member point
  or a kept edge: it hugs the streets where the crime is, not discs of ``eps / 2`` around
  every point.
* With every edge kept (``link=None``) the outline is one connected Polygon. For DBSCAN every
  spanning-tree edge is at most ``eps`` long: each member is within ``eps`` of a core point of
  its cluster and the core points are linked by steps of at most ``eps``.
* ``margin`` (default 25 m): data.police.uk map points sit on street centrelines and public
  places; 25 m takes in the carriageway, pavements and frontages around them.

The outline is drawn with ``quad_segs`` segments per quarter circle (GEOS buffer), so its
area is within 1% of the exact buffer's.
"""

from __future__ import annotations

import itertools
import logging
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

from ._memo import KeptResults, digest
from ._points import kept_point_codes, morton_order
from ._threads import workers
from ._validate import check_positive_float, check_xy
from .errors import ParameterError
from .spanning_trees import cluster_trees
from .tree_area import buffer_area_floors

__all__ = [
    "DEFAULT_MARGIN",
    "drawn_area_floors",
    "hotspot_footprints",
    "outline_area_bound",
    "outline_area_floor",
]

log = logging.getLogger(__name__)

#: Metres around a hotspot's map points and the links between them (the outline's margin).
DEFAULT_MARGIN: float = 25.0
#: A cluster with more spanning-tree edges than this is buffered in pieces (:func:`_outlines`).
_SPLIT_EDGES = 512
#: Edges in each such piece.
_PIECE_EDGES = 64
# From this many outlines on, they are buffered in two threads.
_THREADED_BUFFERS = 64
# The outlines last drawn, by their cluster's unique points and the setting: moving the
# dashboard's distance leaves most clusters' points as they were (by vertices: ~32 MB).
_DRAWN: KeptResults[Polygon | MultiPolygon] = KeptResults(2_000_000, shapely.get_num_coordinates)
#: The coarse drawing of :func:`drawn_area_floors`: this share of the margin, ...
_FLOOR_SHRINK = 0.97
#: ... and this many segments per quarter circle.
_FLOOR_QUAD_SEGS = 2
#: The outline holds its tree's exact buffer at this share of the margin (at least 0.985:
#: :func:`drawn_area_floors`), the radius of the floor worked out from the tree alone.
_EXACT_SHRINK = 0.98

#: Cell boxes of up to this many cells (or :data:`_CELL_MAP_PER_POINT` per point) are mapped,
#: not sorted, to find their distinct cells.
_CELL_MAP_MIN = 1 << 16
_CELL_MAP_PER_POINT = 8
# The floors last worked out, by their cluster's unique points and the margin.
_FLOORS: KeptResults[float] = KeptResults(100_000)


def hotspot_footprints(
    xy: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    margin: float = DEFAULT_MARGIN,
    link: float | None = None,
    quad_segs: int = 8,
) -> dict[int, Polygon | MultiPolygon]:
    """One outline per cluster: its unique member points and spanning tree, ``margin`` wide.

    See the module docstring for the rule.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident (repeated points allowed).
    labels
        ``(n,)`` cluster label per row: ``-1`` (any negative) is noise, ``0..k-1`` are clusters.
    margin
        Metres kept around the member map points and the links between them.
    link
        Longest link kept between neighbouring member points, metres; ``None`` keeps the whole
        spanning tree (one connected outline per cluster).
    quad_segs
        Segments per quarter circle of the buffer.

    Returns
    -------
    dict
        ``{label: Polygon or MultiPolygon}`` for every label ``>= 0``, in ascending label order.
        A MultiPolygon only arises when ``link`` leaves out a long link.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [0.0, 0.0], [100.0, 0.0], [900.0, 0.0]])
    >>> fp = hotspot_footprints(xy, np.array([0, 0, 0, -1]), margin=10.0)
    >>> list(fp), fp[0].geom_type, round(fp[0].area / (200 * 10 + np.pi * 10**2), 2)
    ([0], 'Polygon', 1.0)
    """
    pts = check_xy(xy)
    labs = np.asarray(labels)
    if labs.ndim != 1 or len(labs) != len(pts):
        raise ParameterError(
            f"labels must hold one label per row of xy ({len(pts)}); got shape {labs.shape}."
        )
    if len(labs) and not np.issubdtype(labs.dtype, np.integer):
        if not np.all(np.isfinite(labs)) or not np.all(labs == np.round(labs)):
            raise ParameterError("labels must be whole numbers (-1 for noise, 0.. for clusters).")
        labs = labs.astype(np.int64)
    width = check_positive_float(margin, "margin")
    longest = None if link is None else check_positive_float(link, "link")
    if isinstance(quad_segs, bool) or not isinstance(quad_segs, (int, np.integer)) or quad_segs < 1:
        raise ParameterError(f"quad_segs must be a whole number >= 1; got {quad_segs!r}.")

    member = _member_rows(pts, labs)
    if not member.size:
        return {}
    # Unique (label, x, y) rows, grouped by label: one vectorised pass for all clusters.
    member_labels = labs[member].astype(np.int64)
    member_pts = pts[member]
    order = np.lexsort((member_pts[:, 1], member_pts[:, 0], member_labels))
    member_labels, member_pts = member_labels[order], member_pts[order]
    fresh = np.r_[
        True,
        (np.diff(member_labels) != 0) | (np.diff(member_pts, axis=0) != 0).any(axis=1),
    ]
    cluster_of, table = member_labels[fresh], member_pts[fresh]
    starts = np.flatnonzero(np.r_[True, cluster_of[1:] != cluster_of[:-1]])
    bounds = np.r_[starts, len(table)]
    groups = [
        (int(cluster_of[begin]), table[begin:end]) for begin, end in itertools.pairwise(bounds)
    ]
    shapes = _kept_outlines(groups, width, longest, int(quad_segs))
    return {label: shape for (label, _), shape in zip(groups, shapes, strict=True)}


def _member_rows(pts: NDArray[np.float64], labels: NDArray[np.int64]) -> NDArray[np.intp]:
    """The rows of cluster members (label >= 0), ascending; when the map-point codes of ``pts``
    are kept (:func:`hotspots._points.kept_point_codes`: a city's rows on few map points) and
    every point's members share one label, only the first member row of each point (the rows
    a sort would keep as the distinct (label, x, y) rows: no sort of every member row)."""
    member = np.flatnonzero(labels >= 0)
    kept = kept_point_codes(pts)
    if kept is None or not member.size:
        return member
    codes = kept[0][member]
    n_points = len(kept[1])
    label_of = np.full(n_points, -1, dtype=np.int64)
    label_of[codes] = labels[member]
    if not np.array_equal(label_of[codes], labels[member]):
        return member  # a point with members of two labels: every row, sorted
    first = np.full(n_points, len(labels), dtype=np.intp)
    np.minimum.at(first, codes, member)  # each point's first member row
    return np.sort(first[first < len(labels)])


def _kept_outlines(
    groups: list[tuple[int, NDArray[np.float64]]],
    margin: float,
    link: float | None,
    quad_segs: int,
) -> list[Polygon | MultiPolygon]:
    """:func:`_outlines`, taking those of point sets drawn before from :data:`_DRAWN` (a
    cluster's outline depends on its unique points and the setting alone)."""
    setting = (margin, link, quad_segs)
    keys = [(digest(np.ascontiguousarray(pts).tobytes()), setting) for _, pts in groups]
    return _DRAWN.results(
        keys, lambda todo: _outlines([groups[i] for i in todo], margin, link, quad_segs)
    )


def outline_area_bound(
    xy: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    margin: float = DEFAULT_MARGIN,
    floors: dict[int, float] | None = None,
) -> dict[int, float]:
    """An upper bound of each cluster's outline area (m²) without drawing it: a disc of the
    margin plus a ``2 margin`` wide strip along every spanning-tree edge. ``floors``, when
    given, receives a lower bound of each from the same trees (see :func:`drawn_area_floors`).

    >>> xy = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 0.0]])
    >>> round(outline_area_bound(xy, np.array([0, 0, 0]), margin=10.0)[0])
    2314
    """
    pts = check_xy(xy)
    labs = np.asarray(labels, dtype=np.int64)
    member = labs >= 0
    if not member.any():
        return {}
    codes = labs[member]
    order = np.lexsort((pts[member][:, 1], pts[member][:, 0], codes))
    cluster_of, table = codes[order], pts[member][order]
    fresh = np.r_[True, (np.diff(cluster_of) != 0) | (np.diff(table, axis=0) != 0).any(axis=1)]
    cluster_of, table = cluster_of[fresh], table[fresh]
    bounds = np.r_[np.flatnonzero(np.r_[True, cluster_of[1:] != cluster_of[:-1]]), len(table)]
    out: dict[int, float] = {}
    clouds = [table[begin:end] for begin, end in itertools.pairwise(bounds)]
    trees = cluster_trees(clouds)
    for begin, pts_k, edges in zip(bounds[:-1], clouds, trees, strict=True):
        length = float(np.hypot(*(pts_k[edges[:, 0]] - pts_k[edges[:, 1]]).T).sum())
        out[int(cluster_of[begin])] = math.pi * margin * margin + 2 * margin * length
    if floors is not None:
        below = buffer_area_floors(clouds, trees, margin * _EXACT_SHRINK)
        floors.update(zip(cluster_of[bounds[:-1]].tolist(), below.tolist(), strict=True))
    return out


def outline_area_floor(xy: NDArray[np.float64], *, margin: float = DEFAULT_MARGIN) -> float:
    """A lower bound of the outline area (m²) of one cluster with these points, without
    drawing it (milliseconds for a city-sized cluster, where drawing takes seconds).

    The outline holds the ``margin`` disc of every point, so it is at least:

    * the cells of side ``margin / sqrt 2`` that hold a point (each such cell lies wholly
      inside its point's disc), and
    * ``pi margin²`` times the points of one parity class of the cells of side ``2 margin``
      (points in different cells of one class are at least ``2 margin`` apart: their discs do
      not overlap).

    >>> pts = np.array([[0.0, 0.0], [0.0, 0.0], [40.0, 0.0]])
    >>> round(outline_area_floor(pts, margin=10.0))
    628
    """
    pts = check_xy(xy)
    if not len(pts):
        return 0.0
    small = margin / math.sqrt(2.0)
    cells = _unique_cells(np.floor(pts / small).astype(np.int64))
    by_cells = len(cells) * small * small
    big = _unique_cells(np.floor(pts / (2.0 * margin)).astype(np.int64))
    parity = (big[:, 0] & 1) * 2 + (big[:, 1] & 1)
    by_discs = np.bincount(parity, minlength=4).max() * math.pi * margin * margin
    return float(max(by_cells, by_discs))


def drawn_area_floors(
    clouds: list[NDArray[np.float64]], margin: float, enough: float = math.inf
) -> list[float]:
    """A lower bound of the outline area (m²) of each set of unique points, from a coarse
    drawing: the same rule at :data:`_FLOOR_SHRINK` of the margin with
    :data:`_FLOOR_QUAD_SEGS` segments per quarter circle (about half the time of the outline
    itself, 96% of its area; kept by the points, so the dashboard works each out once).

    A set whose spanning tree alone puts its outline over ``enough`` m² is not drawn: its
    floor is the tree's (:func:`hotspots.tree_area.buffer_area_floors` at
    :data:`_EXACT_SHRINK` of the margin: a tenth of the time, 97% of the area at the median).

    Why it is below the outline: it is drawn from the same spanning tree (the points in the
    outline's order), and GEOS puts every vertex of a buffer's arcs on the arc, so the
    outline (8 segments a quarter) holds that tree's exact buffer at cos(pi / 32) = 0.995 of
    the margin, less the 1% of the width within which GEOS simplifies the lines it buffers:
    at least 0.985 of it. The coarse drawing lies within the exact buffer at
    0.97 x 1.01 = 0.98 of the margin.
    """
    if not clouds:
        return []
    width = check_positive_float(margin, "margin")
    # in the outline's order (hotspot_footprints sorts by x, then y): with ties between
    # distances the spanning tree depends on the order, and the floor must be of its tree
    ordered = [np.ascontiguousarray(pts[np.lexsort((pts[:, 1], pts[:, 0]))]) for pts in clouds]
    keys = [(digest(pts.tobytes()), width) for pts in ordered]
    floors = np.zeros(len(ordered))
    if enough < math.inf:  # the tree's floor where no drawing is kept
        kept = _FLOORS.known(keys)
        fresh = [i for i, floor in enumerate(kept) if floor is None]
        floors[:] = [0.0 if floor is None else floor for floor in kept]
        sets = [ordered[i] for i in fresh]
        floors[fresh] = buffer_area_floors(sets, cluster_trees(sets), width * _EXACT_SHRINK)
    todo = [i for i in range(len(ordered)) if not floors[i] > enough]
    keys = [keys[i] for i in todo]

    def draw(which: list[int]) -> list[float]:
        shapes = _outlines(
            [(i, ordered[todo[i]]) for i in which], width * _FLOOR_SHRINK, None, _FLOOR_QUAD_SEGS
        )
        return [float(shape.area) for shape in shapes]

    for i, floor in zip(todo, _FLOORS.results(keys, draw), strict=True):
        floors[i] = floor
    return [float(f) for f in floors]


def _unique_cells(ij: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.unique(ij, axis=0)`` (the distinct cells, sorted), through one int64 key per cell
    when the cells span a range that fits in one (several times faster than rows), marked in
    a map of the cells' box when it is small beside the points (no sort at all)."""
    lo = ij.min(axis=0)
    span = ij.max(axis=0) - lo + 1
    cells = float(span[0]) * float(span[1])
    if cells >= 2.0**62:
        return np.unique(ij, axis=0)
    key = (ij[:, 0] - lo[0]) * span[1] + (ij[:, 1] - lo[1])
    if cells <= max(_CELL_MAP_MIN, _CELL_MAP_PER_POINT * len(ij)):
        # a map of the box's cells (a city's cluster fills much of its box): no sort
        seen = np.zeros(int(cells), dtype=bool)
        seen[key] = True
        key = np.flatnonzero(seen)
    else:
        key = np.unique(key)
    return np.column_stack([key // span[1] + lo[0], key % span[1] + lo[1]])


def _buffer(geoms: NDArray[np.object_], margin: float, quad_segs: int) -> NDArray[np.object_]:
    """``shapely.buffer`` of many new geometries, in two threads when there are enough (GEOS
    releases the GIL; the halves share no geometry)."""
    if workers(2, len(geoms), _THREADED_BUFFERS) < 2:
        return np.asarray(shapely.buffer(geoms, margin, quad_segs=quad_segs), dtype=object)
    weight = np.cumsum(shapely.get_num_coordinates(geoms))
    half = int(np.searchsorted(weight, weight[-1] / 2)) + 1
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(
            pool.map(
                lambda part: shapely.buffer(part, margin, quad_segs=quad_segs),
                (geoms[:half], geoms[half:]),
            )
        )
    return np.concatenate(parts).astype(object)


def _outlines(
    groups: list[tuple[int, NDArray[np.float64]]],
    margin: float,
    link: float | None,
    quad_segs: int,
) -> list[Polygon | MultiPolygon]:
    """Every cluster's outline (module docstring), buffered in one vectorised call.

    Each cluster's tree edges are merged into the fewest lines first (``line_merge``): GEOS
    buffers a few long lines several times faster than many two-point segments. A cluster of
    more than :data:`_SPLIT_EDGES` edges is buffered in pieces of :data:`_PIECE_EDGES` edges
    close together (Z-order of their midpoints), then the pieces united: buffering a dense
    tree at once nodes every pair of overlapping offset curves (a 30,000-point cluster of
    unsnapped points: 26 s and 3.0 GB at once, 1.3 s and 37 MB in pieces, ``benchmarks/
    dense.py``; the area equal to within a few square metres, where arcs of pieces meet).
    """
    segments: list[NDArray[np.float64]] = []
    segment_piece: list[NDArray[np.intp]] = []
    lone: list[NDArray[np.float64]] = []
    lone_piece: list[NDArray[np.intp]] = []
    piece_owner: list[int] = []  # the cluster of each piece, pieces numbered in cluster order
    trees = cluster_trees([pts for _, pts in groups])
    for k, ((_, pts), edges) in enumerate(zip(groups, trees, strict=True)):
        if link is not None and len(edges):
            lengths = np.hypot(*(pts[edges[:, 0]] - pts[edges[:, 1]]).T)
            edges = edges[lengths <= link]
        linked = np.zeros(len(pts), dtype=bool)
        linked[edges.ravel()] = True
        if len(edges):
            ends = np.stack([pts[edges[:, 0]], pts[edges[:, 1]]], axis=1)
            n_pieces = 1
            if len(edges) > _SPLIT_EDGES:
                ends = ends[morton_order(ends.mean(axis=1), margin)]
                n_pieces = math.ceil(len(edges) / _PIECE_EDGES)
            first = len(piece_owner)
            piece_owner += [k] * n_pieces
            segments.append(ends)
            segment_piece.append(first + np.arange(len(edges)) * n_pieces // len(edges))
        if (~linked).any():  # points no kept edge reaches: in the cluster's last piece
            if not len(edges):
                piece_owner.append(k)
            lone.append(pts[~linked])
            lone_piece.append(np.full(int((~linked).sum()), len(piece_owner) - 1, dtype=np.intp))
    parts: list[NDArray[np.object_]] = []
    owner: list[NDArray[np.intp]] = []
    if segments:
        seg_piece = np.concatenate(segment_piece)
        lines = shapely.linestrings(np.concatenate(segments))
        pieces = np.unique(seg_piece)
        # pieces are ascending: one MultiLineString per piece, merged
        grouped = shapely.multilinestrings(lines, indices=np.searchsorted(pieces, seg_piece))
        parts.append(shapely.line_merge(grouped))
        owner.append(pieces)
    if lone:
        parts.append(shapely.points(np.concatenate(lone)))
        owner.append(np.concatenate(lone_piece))
    part_piece = np.concatenate(owner)
    order = np.argsort(part_piece, kind="stable")
    collections = shapely.geometrycollections(
        np.concatenate(parts)[order], indices=part_piece[order]
    )
    buffered = _buffer(collections, margin, quad_segs)
    bounds = np.r_[0, np.flatnonzero(np.diff(piece_owner)) + 1, len(piece_owner)]
    out: list[Polygon | MultiPolygon] = []
    for begin, end in itertools.pairwise(bounds.tolist()):
        shape = buffered[begin] if end == begin + 1 else shapely.union_all(buffered[begin:end])
        if not isinstance(shape, Polygon | MultiPolygon) or not shape.is_valid:
            shape = shapely.make_valid(shape)
            polygons = [g for g in shapely.get_parts(shape) if isinstance(g, Polygon)]
            shape = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
        out.append(shape)
    return out
