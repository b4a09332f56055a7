"""The back-test's DBSCAN hotspot map: every cluster's outline, densest first.

:func:`cluster_map` clusters a fold's map points (:func:`hotspots.size_limit.hotspot_labels`,
the size limit included), draws each cluster's outline and ranks them by incidents per
square metre. With ``max_area`` only the clusters that can reach that much area are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from .footprint import DEFAULT_MARGIN, outline_area_bound
from .ranked_maps import MapPoints
from .size_limit import MAX_HOTSPOT_KM2, hotspot_labels, outlines_of, treeless_bound

__all__ = ["cluster_map"]


def cluster_map(
    points: MapPoints,
    *,
    eps: float,
    min_samples: int | Sequence[int],
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    groups: npt.NDArray[np.int64] | None = None,
    max_area: float | None = None,
) -> list[BaseGeometry]:
    """The DBSCAN hotspot outlines of ``points``, densest first (the back-test's map).

    With ``groups`` (a group number 0.. per point), each group is clustered on its own with
    ``min_samples[group]``, and the outlines of all groups are ranked together. With
    ``max_area`` (m²) only the clusters needed to fill it are drawn: clusters in order of
    incidents per bound of their area (:func:`hotspots.footprint.outline_area_bound`) until
    the bounds add up to twice ``max_area`` (fast over a city; the drawn ones are then ranked
    by their true density).
    """
    if not len(points.xy):
        return []
    if groups is None:
        parts = [(points, int(np.max(min_samples)))]
    else:
        needed = np.atleast_1d(np.asarray(min_samples, dtype=np.int64))
        parts = [
            (MapPoints(points.xy[groups == g], points.counts[groups == g]), int(needed[g]))
            for g in np.unique(groups)
        ]
    shapes: list[BaseGeometry] = []
    counts: list[float] = []
    for part, needed_here in parts:
        drawn: dict[int, BaseGeometry] = {}
        labels, _ = hotspot_labels(
            part.xy,
            part.counts,
            eps=eps,
            min_samples=needed_here,
            margin=margin,
            max_km2=max_km2,
            outlines=drawn,
            distinct=True,  # a MapPoints' points
        )
        if max_area is not None:
            labels = _densest_clusters(part, labels, (margin, eps), 2.0 * max_area)
        found, held = _outlines(part, labels, margin, drawn)
        shapes += found
        counts += held
    if not shapes:
        return []
    held_arr = np.array(counts)
    areas = shapely.area(np.asarray(shapes, dtype=object))
    order = np.lexsort((np.arange(len(shapes)), -held_arr, -held_arr / areas))
    return [shapes[i] for i in order]


def _densest_clusters(
    points: MapPoints,
    labels: npt.NDArray[np.int64],
    setting: tuple[float, float],
    area: float,
) -> npt.NDArray[np.int64]:
    """``labels`` with clusters beyond the densest ``area`` m² (by area bound) set to noise.

    ``setting``: the outline margin and DBSCAN's eps. When the clusters' bounds that need no
    spanning tree (:func:`treeless_bound`) add up to no more than ``area``, all are kept as
    they are: the same answer without the trees (a city's thousands of clusters, under a
    budget they fill far less than twice)."""
    margin, eps = setting
    member = labels >= 0
    if not member.any():
        return labels
    points_per = np.bincount(labels[member])
    with np.errstate(invalid="ignore"):  # (an infinite eps: no bound, NaN; the trees decide)
        treeless = float(treeless_bound(points_per[points_per > 0], eps, margin).sum())
    if treeless <= area:
        return labels
    bound = outline_area_bound(points.xy, labels, margin=margin)
    if not bound:
        return labels
    keys = np.array(sorted(bound))
    sizes = np.array([bound[int(k)] for k in keys])
    member = labels >= 0
    held = np.bincount(labels[member], weights=points.counts[member])[keys]
    order = np.lexsort((keys, -held / sizes))
    upto = int(np.searchsorted(np.cumsum(sizes[order]), area)) + 1
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    keep[keys[order[:upto]]] = True
    out = labels.copy()
    out[member & ~keep[np.maximum(labels, 0)]] = -1
    return out


def _outlines(
    points: MapPoints,
    labels: npt.NDArray[np.int64],
    margin: float,
    drawn: dict[int, BaseGeometry],
) -> tuple[list[BaseGeometry], list[float]]:
    """Each cluster's outline and its incidents (weights), in label order (``drawn``: those
    already drawn)."""
    outlines = outlines_of(points.xy, labels, margin, drawn)
    if not outlines:
        return [], []
    keys = np.array(sorted(outlines))
    counts = np.bincount(labels[labels >= 0], weights=points.counts[labels >= 0])[keys]
    return [outlines[int(k)] for k in keys], [float(c) for c in counts]
