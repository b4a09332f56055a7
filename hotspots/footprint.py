"""One polygon per hotspot from its member points, and the default study area.

The rule
--------
The footprint of a cluster is the union of discs of one radius ``r`` centred on the cluster's
*unique* member points (data.police.uk snaps many incidents to one map point; a point counts once).

* **DBSCAN**: pass ``radius=eps / 2``. Every point of a DBSCAN cluster is within ``eps`` of a core
  point of the same cluster, and the core points are linked by steps of at most ``eps``, so discs of
  radius ``eps / 2`` around two linked points meet and the footprint is one connected Polygon.
* **HDBSCAN** (``radius=None``): ``r`` is half the longest edge of the minimum spanning tree of
  the cluster's unique points, and at least ``min_radius``. Every tree edge is at most ``2 r``
  long, so the discs along the tree meet and the footprint is again one Polygon. A cluster of one
  unique point is a disc of ``min_radius``.

How the discs are drawn (so that the two guarantees above hold on the computer, not just on paper):

* each disc is a regular polygon of ``4 * quad_segs`` sides that *circumscribes* the circle of
  radius ``r (1 + 1e-6)``: its edges touch that circle, so the polygon contains the whole true
  disc and two discs whose centres are exactly ``2 r`` apart still overlap;
* the union is computed from the Voronoi diagram of the unique points: where a point's Voronoi cell
  lies inside its own circle, the cell stands in for the disc (the cells tile the plane and union
  cheaply); the other points keep their disc polygons. The result contains the union of the true
  circles, lies inside the union of the disc polygons, and takes ~3x less time than unioning every
  disc;
* holes smaller than one disc (``pi r^2``) are filled: they are gaps between overlapping discs,
  not places without crime.

The area of a footprint is therefore within 0.5% of the union of the true circles (the polygons'
excess area for ``quad_segs=8``).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError
from shapely.geometry import MultiPolygon, Polygon

from ._validate import check_positive_float, check_xy
from .errors import ParameterError

__all__ = ["hotspot_footprints", "mst_radius"]

log = logging.getLogger(__name__)

#: Relative widening of every disc, so that discs exactly ``2 r`` apart overlap despite rounding.
_SLACK = 1e-6
#: Below this many unique points, union the discs directly (the Voronoi step costs more).
_VORONOI_MIN_POINTS = 12
#: Most threads used to build footprints (one cluster per task).
_MAX_THREADS = 8


def mst_radius(points: NDArray[np.float64], *, min_radius: float = 15.0) -> float:
    """Half the longest edge of the minimum spanning tree of ``points``, at least ``min_radius``.

    Discs of this radius around the points form one connected shape. ``points`` should be unique;
    one point gives ``min_radius``. Collinear points are handled (the tree is then the chain of
    neighbours along the line).

    Parameters
    ----------
    points
        ``(n, 2)`` array of unique x, y coordinates in metres.
    min_radius
        Lower bound of the result, in metres.

    Examples
    --------
    >>> mst_radius(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 30.0]]))
    50.0
    >>> mst_radius(np.array([[0.0, 0.0], [10.0, 0.0]]), min_radius=15.0)
    15.0
    """
    pts = check_xy(points, "points")
    floor = check_positive_float(min_radius, "min_radius")
    return max(_longest_mst_edge(pts) / 2.0, floor)


def _longest_mst_edge(pts: NDArray[np.float64]) -> float:
    n = len(pts)
    if n < 2:
        return 0.0
    if n == 2:
        return float(np.hypot(*(pts[1] - pts[0])))
    centred = pts - pts.mean(axis=0)
    spread = np.linalg.svd(centred, compute_uv=False)
    if spread[1] <= 1e-9 * spread[0]:  # collinear: the tree is the chain along the line
        return _longest_chain_edge(pts)
    try:
        tri = Delaunay(pts)
    except QhullError:  # near-degenerate input: a joggled triangulation still spans every point
        try:
            tri = Delaunay(pts, qhull_options="QJ")
        except QhullError:
            return _longest_chain_edge(pts)
    simplices = tri.simplices
    # The Euclidean minimum spanning tree is a subgraph of the Delaunay triangulation; points
    # Qhull set aside as coplanar (closer than its precision to another) join their nearest vertex.
    sides = np.concatenate(
        [simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]], tri.coplanar[:, [0, 2]]]
    )
    sides.sort(axis=1)
    key = np.unique(sides[:, 0].astype(np.int64) * n + sides[:, 1])  # each edge once
    first, second = key // n, key % n
    lengths = np.hypot(*(pts[first] - pts[second]).T)
    graph = coo_matrix((lengths, (first, second)), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph)
    if tree.nnz != n - 1:  # a degenerate triangulation left a point out: stay safe
        return _longest_chain_edge(pts)
    return float(tree.data.max())


def _longest_chain_edge(pts: NDArray[np.float64]) -> float:
    """Longest step between neighbours along the points' principal axis.

    For collinear points this chain is the minimum spanning tree; for any points it is a spanning
    tree, whose longest edge is never shorter than the minimum spanning tree's (so discs of half
    of it still connect: the last-resort answer).
    """
    centred = pts - pts.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    ordered = pts[np.argsort(centred @ axis, kind="stable")]
    return float(np.hypot(*np.diff(ordered, axis=0).T).max())


def _disc_template(radius: float, quad_segs: int) -> NDArray[np.float64]:
    """Closed ring of a regular polygon circumscribing the circle of ``radius (1 + _SLACK)``."""
    sides = 4 * quad_segs
    outer = radius * (1.0 + _SLACK) / math.cos(math.pi / sides)
    angles = np.linspace(0.0, 2.0 * math.pi, sides + 1)
    ring = np.column_stack([np.cos(angles), np.sin(angles)]) * outer
    ring[-1] = ring[0]
    return ring


def _discs(pts: NDArray[np.float64], template: NDArray[np.float64]) -> NDArray[np.object_]:
    return shapely.polygons(pts[:, None, :] + template[None, :, :])


def _union_of_discs(
    pts: NDArray[np.float64], radius: float, template: NDArray[np.float64]
) -> Polygon | MultiPolygon:
    n = len(pts)
    parts: list[object] = []
    keep_disc = np.ones(n, dtype=bool)
    if n >= _VORONOI_MIN_POINTS:
        reach = radius * (1.0 + _SLACK)
        lo = pts.min(axis=0) - 4.0 * reach
        hi = pts.max(axis=0) + 4.0 * reach
        frame = shapely.box(lo[0], lo[1], hi[0], hi[1])
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame, ordered=True)
        )
        if len(cells) == n and shapely.contains_xy(cells, pts[:, 0], pts[:, 1]).all():
            coords, owner = shapely.get_coordinates(cells, return_index=True)
            far = np.zeros(n)
            np.maximum.at(far, owner, np.hypot(*(coords - pts[owner]).T))
            inner = far <= reach  # the whole cell lies inside the true circle of this point
            if inner.any():
                parts.append(shapely.coverage_union_all(cells[inner]))
                keep_disc = ~inner
    discs = _discs(pts[keep_disc], template)
    union = shapely.union_all(np.concatenate([np.array(parts, dtype=object), discs]))
    return _fill_small_holes(union, math.pi * radius * radius)


def _fill_small_holes(geom: object, min_hole_area: float) -> Polygon | MultiPolygon:
    polygons = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    filled = []
    for poly in polygons:
        holes = [ring for ring in poly.interiors if Polygon(ring).area >= min_hole_area]
        filled.append(Polygon(poly.exterior, holes) if len(holes) < len(poly.interiors) else poly)
    if len(filled) == 1:
        return filled[0]
    return MultiPolygon(filled)


def hotspot_footprints(
    xy: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    radius: float | None = None,
    min_radius: float = 15.0,
    quad_segs: int = 8,
) -> dict[int, Polygon | MultiPolygon]:
    """One footprint polygon per cluster: the union of discs around its unique member points.

    See the module docstring for the rule and why it keeps clusters connected.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident (repeated points allowed).
    labels
        ``(n,)`` cluster label per row: ``-1`` (any negative) is noise, ``0..k-1`` are clusters.
    radius
        Disc radius in metres. For DBSCAN pass ``eps / 2``. ``None`` (HDBSCAN) picks it per
        cluster: half the longest edge of the minimum spanning tree of its unique points, at least
        ``min_radius``.
    min_radius
        Smallest radius picked when ``radius`` is None, in metres.
    quad_segs
        Segments per quarter circle of each disc (``4 * quad_segs`` sides).

    Returns
    -------
    dict
        ``{label: Polygon or MultiPolygon}`` for every label ``>= 0``, in ascending label order.
        A MultiPolygon only arises when ``radius`` is too small for the cluster's gaps.

    Notes
    -----
    Clusters are built in parallel threads (GEOS releases the GIL); each footprint depends only
    on its own points, so the result is the same with any number of threads.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [0.0, 0.0], [100.0, 0.0], [900.0, 0.0]])
    >>> fp = hotspot_footprints(xy, np.array([0, 0, 0, -1]), radius=50.0)
    >>> list(fp), fp[0].geom_type, round(fp[0].area / (2 * np.pi * 50**2), 2)
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
    fixed = None if radius is None else check_positive_float(radius, "radius")
    floor = check_positive_float(min_radius, "min_radius")
    if isinstance(quad_segs, bool) or not isinstance(quad_segs, (int, np.integer)) or quad_segs < 1:
        raise ParameterError(f"quad_segs must be a whole number >= 1; got {quad_segs!r}.")

    member = labs >= 0
    if not member.any():
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

    segs = int(quad_segs)
    groups = [
        (int(cluster_of[begin]), table[begin:end]) for begin, end in itertools.pairwise(bounds)
    ]

    def build(group: tuple[int, NDArray[np.float64]]) -> tuple[Polygon | MultiPolygon, float]:
        unique_pts = group[1]
        r = fixed if fixed is not None else max(_longest_mst_edge(unique_pts) / 2.0, floor)
        return _union_of_discs(unique_pts, r, _disc_template(r, segs)), r

    # GEOS releases the GIL, so clusters are built side by side; each result depends only on its
    # own points, so the output is the same whatever the number of threads.
    workers = min(len(groups), os.cpu_count() or 1, _MAX_THREADS)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            built = list(pool.map(build, groups))
    else:
        built = [build(group) for group in groups]
    footprints = {label: shape for (label, _), (shape, _) in zip(groups, built, strict=True)}
    if fixed is None:
        radii = np.array([r for _, r in built])
        log.info(
            "footprint radius per cluster (half its longest spanning-tree edge, >= %.0f m): "
            "median %.0f m, %.0f-%.0f m",
            floor,
            np.median(radii),
            radii.min(),
            radii.max(),
        )
    return footprints
