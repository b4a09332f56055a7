"""The KDE map's cells, densest first, drawn only as far as a map needs them.

:func:`hotspots.density.kde` grids the whole study area; a forecast or back-test map needs
only its densest tenth, so :func:`ranked_kde_cells` draws the cells with a density in the
same order as ``kde``'s and stops once their area passes the budget. It also says where each
cell sits on the lattice, so that a map of them can place points by arithmetic
(:mod:`hotspots.ranked_maps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.ndimage import binary_dilation
from shapely.geometry.base import BaseGeometry

from ._validate import check_positive_float
from .density import _density_at, _polygonal, _weighted_points
from .grid_size import MAX_CELLS, check_grid_size, lattice_extent
from .study_area import area_geometry

__all__ = ["KDECells", "kde_cells", "ranked_kde_cells"]


@dataclass(frozen=True)
class KDECells:
    """The cells :func:`kde_cells` drew, in order: geometry, density per km², (column, row) on the
    lattice from ``origin``, and which are whole boxes (not cut by the study area)."""

    cells: npt.NDArray[np.object_]
    density: npt.NDArray[np.float64]
    lattice: npt.NDArray[np.int64]
    whole: npt.NDArray[np.bool_]
    origin: tuple[float, float]


def ranked_kde_cells(
    incidents: gpd.GeoDataFrame,
    study_area: BaseGeometry,
    *,
    cell_size: float,
    bandwidth: float,
    max_area: float,
    weights: str | None = None,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """The square KDE cells (clipped to ``study_area``) with a density, densest first (ties:
    lower cell_id), until their area passes ``max_area`` m²; and their densities per km².

    The same cells and order as :func:`hotspots.density.kde`'s (``density_km2 > 0``, sorted by
    density then ``cell_id``), but only the cells needed are drawn: at city scale the lattice
    has hundreds of thousands of cells and a forecast map needs a tenth of them.
    """
    points, counts = _weighted_points(incidents, weights)
    area = area_geometry(study_area, incidents.crs)
    found = kde_cells(points, counts, area, cell_size, bandwidth, max_area)
    return found.cells, found.density


def kde_cells(
    points: npt.NDArray[np.float64],
    counts: npt.NDArray[np.float64],
    area: BaseGeometry,
    cell_size: float,
    bandwidth: float,
    max_area: float,
) -> KDECells:
    """:func:`ranked_kde_cells` of unique ``points`` (sorted by x, then y) and their counts."""
    size = check_positive_float(cell_size, "cell_size")
    h = check_positive_float(bandwidth, "bandwidth")
    check_grid_size(area.bounds, size, shape="square", max_cells=MAX_CELLS)
    minx, miny, ncol, nrow = lattice_extent(area.bounds, size, "square")
    # only cells whose centre is within the bandwidth of a point can have a density
    reach = math.ceil(h / size) + 1
    near = np.floor((points - (minx, miny)) / size).astype(np.int64)
    near = near.clip(0, (ncol - 1, nrow - 1))  # a point off the lattice reaches no farther
    occupied = np.zeros((nrow, ncol), dtype=bool)
    occupied[near[:, 1], near[:, 0]] = True
    around = binary_dilation(occupied, structure=np.ones((2 * reach + 1, 2 * reach + 1), bool))
    cand = np.flatnonzero(around.ravel())  # row-major: the order of cell_id
    row, col = np.divmod(cand, ncol)
    centres = np.column_stack([minx + size * (col + 0.5), miny + size * (row + 0.5)])
    density = _density_at(centres, points, counts, h) * 1e6
    order = np.lexsort((cand, -density))
    order = order[density[order] > 0]
    shapely.prepare(area)
    picked: list[Any] = []
    total, start, step = 0.0, 0, max(64, int(max_area / (size * size)) + 1)
    while start < len(order) and total < max_area:
        chunk = order[start : start + step]
        x0, y0 = minx + size * col[chunk], miny + size * row[chunk]
        boxes = np.asarray(shapely.box(x0, y0, x0 + size, y0 + size), dtype=object)
        inside = shapely.contains(area, boxes)
        cut = ~inside & shapely.intersects(area, boxes)
        boxes[cut] = [_polygonal(g) for g in shapely.intersection(boxes[cut], area)]
        keep = inside | (cut & (shapely.area(boxes) > 0))
        areas = shapely.area(boxes[keep])
        upto = int(np.searchsorted(np.cumsum(areas), max_area - total)) + 1
        lattice = np.column_stack([col[chunk], row[chunk]])[keep][:upto]
        picked.append(
            (boxes[keep][:upto], density[chunk][keep][:upto], lattice, inside[keep][:upto])
        )
        total += float(areas[:upto].sum())
        start += step
    if not picked:
        return KDECells(
            np.zeros(0, dtype=object), np.zeros(0), np.zeros((0, 2), np.int64), np.zeros(0, bool),
            (minx, miny),
        )  # fmt: skip
    cells, densities, lattice, whole = (np.concatenate(p) for p in zip(*picked, strict=True))
    return KDECells(cells, densities, lattice, whole, (minx, miny))
