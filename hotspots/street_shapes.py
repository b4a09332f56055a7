"""The two shapes a map point's street space is made of (:mod:`hotspots.ranked_maps`): the
disc within the radius of it, and that disc cut by the half-plane nearer to it than to each
neighbour (the definition, used where GEOS's Voronoi cells fail); and the areas alone of an
intersection (:func:`polygonal`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["cut_by_neighbours", "disc_polygons", "polygonal"]


def cut_by_neighbours(
    q: npt.NDArray[np.float64], others: npt.NDArray[np.float64], disc: BaseGeometry, radius: float
) -> BaseGeometry:
    """The street space of ``q`` by its definition: its disc cut by the half-plane nearer to
    it than to each of ``others`` (the points within twice the radius; ``q`` itself and its
    exact twins are passed over)."""
    space = disc
    for o in others:
        gap = float(np.hypot(*(o - q)))
        if gap == 0:
            continue
        normal, mid = (o - q) / gap, (o + q) / 2
        along = np.array([-normal[1], normal[0]]) * 4 * radius
        away = mid - normal * 4 * radius
        space = space.intersection(
            shapely.Polygon([mid + along, away + along, away - along, mid - along])
        )
    return space


def disc_polygons(xy: npt.NDArray[np.float64], radius: float) -> npt.NDArray[np.object_]:
    """``shapely.buffer(points, radius, quad_segs=4)``, vertex for vertex, from one template
    16-gon (GEOS's: from angle 0 clockwise) moved to every point: several times faster."""
    angles = -np.arange(16) * (2 * np.pi / 16)
    ring = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    ring = np.vstack([ring, ring[:1]])
    return np.asarray(shapely.polygons(xy[:, None, :] + ring[None, :, :]), dtype=object)


def polygonal(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """``geoms`` with whatever is not an area dropped: an intersection of two polygons that
    touch at a corner or along an edge is a point, a line or a collection holding them, and
    a piece of a map is an area (polygons kept, the rest an empty polygon).

    >>> corner = shapely.intersection(shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2))
    >>> corner.wkt, polygonal(np.array([corner]))[0].wkt
    ('POINT (1 1)', 'POLYGON EMPTY')
    """
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    for k in np.flatnonzero((types != 3) & (types != 6)):  # not a (multi)polygon: rare
        parts = [g for g in shapely.get_parts(out[k]) if shapely.get_type_id(g) in (3, 6)]
        out[k] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out
