"""Sets of distinct map points with their counts, in one order: by x, then y.

:class:`MapPoints` are what the back-test's and the tuning's maps are fitted and scored on;
:class:`PointUniverse` finds every row's map point once, so that a fold's points are a count of
codes, not a search; :func:`map_points` gives a frame's own. All three list the points in order
of x, then y (:func:`space_order`), never in the order of the rows: DBSCAN numbers its
clusters by their first core point and gives a border point the lowest-numbered one, and the
maps break ties by position in the list, so the same incidents in another order (a folder of
monthly files, or one file) give the same maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from ._points import incident_xy, unique_points

__all__ = ["MapPoints", "PointUniverse", "map_points", "space_order"]


def space_order(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """The order of distinct points by x, then y.

    >>> space_order(np.array([[5.0, 1.0], [0.0, 2.0], [5.0, 0.0]])).tolist()
    [1, 2, 0]
    """
    return np.lexsort((xy[:, 1], xy[:, 0])).astype(np.intp)


@dataclass(frozen=True)
class MapPoints:
    """Unique map points and their counts (or summed weights).

    ``ids`` and ``universe``: each point's index among the :class:`PointUniverse` it was cut
    from (None when drawn on its own), so that maps drawn from the same universe can find a
    point's piece by its index rather than by geometry.
    """

    xy: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]
    ids: npt.NDArray[np.intp] | None = None
    universe: PointUniverse | None = field(default=None, repr=False, compare=False)

    @property
    def total(self) -> float:
        """All the incidents (or harm) of these points."""
        return float(self.counts.sum())

    @cached_property
    def tree(self) -> shapely.STRtree:
        """A tree of the points, built once: every map of a fold is scored on its test points."""
        return shapely.STRtree(shapely.points(self.xy))


def map_points(incidents: gpd.GeoDataFrame, *, weighted: bool = False) -> MapPoints:
    """The incidents' unique map points with their counts (``weight`` sums when weighted), in
    order of x, then y."""
    xy = incident_xy(incidents)
    if not len(xy):
        return MapPoints(np.zeros((0, 2)), np.zeros(0))
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    _, uxy, uw = unique_points(xy, weights)
    order = space_order(uxy)
    return MapPoints(uxy[order], uw[order])


class PointUniverse:
    """Every row's map point among the distinct map points of a set of rows (in order of x,
    then y), found once: the map points of any selection of the rows (:meth:`points`) are
    then a count, not a search.

    >>> u = PointUniverse(np.array([[5.0, 5.0], [0.0, 0.0], [5.0, 5.0]]))
    >>> p = u.points(np.array([True, True, False]))
    >>> p.xy.tolist(), p.counts.tolist(), p.ids.tolist()
    ([[0.0, 0.0], [5.0, 5.0]], [1.0, 1.0], [0, 1])
    """

    def __init__(
        self, xy: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None = None
    ) -> None:
        if len(xy):
            codes, uxy, _ = unique_points(xy)
            order = space_order(uxy)
            place = np.empty(len(order), dtype=np.intp)
            place[order] = np.arange(len(order))
            self.codes, self.xy = place[codes], uxy[order]
        else:
            self.codes, self.xy = np.zeros(0, dtype=np.intp), np.zeros((0, 2))
        self.weights = None if weights is None else np.asarray(weights, dtype=float)

    def points(self, rows: npt.NDArray[np.bool_]) -> MapPoints:
        """The map points of the ``rows`` (a mask) with their counts, exactly as
        :func:`map_points` of those rows gives them."""
        picked = self.codes[rows]
        if not len(picked):
            return MapPoints(np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.intp), self)
        weights = None if self.weights is None else self.weights[rows]
        counts = np.bincount(picked, weights=weights, minlength=len(self.xy))
        present = np.zeros(len(self.xy), dtype=bool)
        present[picked] = True
        ids = np.flatnonzero(present).astype(np.intp)
        return MapPoints(self.xy[ids], counts[ids].astype(np.float64), ids, self)
