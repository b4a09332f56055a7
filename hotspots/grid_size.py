"""Size checks for the grids and kernels: how much work a grid or a kernel density would be,
counted before any of it starts.

:func:`grid_size` counts the cells of the lattice :func:`hotspots.density.grid_cells` draws,
without drawing one; :func:`check_grid_size` refuses a grid of more than a limit of cells and
says the smallest cell size that fits (:func:`fitting_cell_size`); :func:`check_kernel_work`
estimates, from a sample of cells, how many (cell, map point) pairs a kernel density within a
bandwidth would evaluate, and refuses more than a limit. Every refusal is a
:class:`~hotspots.errors.ParameterError` naming the parameter (``cell_size``, ``bandwidth``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .errors import ParameterError

__all__ = [
    "MAX_CELLS",
    "MAX_KERNEL_PAIRS",
    "check_grid_size",
    "check_kernel_work",
    "fitting_cell_size",
    "grid_size",
    "lattice_extent",
]

#: Most grid cells drawn; a finer grid is a parameter error.
MAX_CELLS = 4_000_000
#: Most (cell, map point) pairs a kernel density evaluates (about a minute of work).
MAX_KERNEL_PAIRS = 500_000_000
# Cell centres sampled to estimate a kernel's work.
_SAMPLE = 500


def lattice_extent(
    bounds: Sequence[float], cell_size: float, shape: str
) -> tuple[float, float, int, int]:
    """The lattice's origin (``minx``, ``miny``) and its columns and rows over ``bounds``."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    # hexagons: flat-topped, cell_size the distance between neighbouring centres; two columns
    # make the pattern (the odd ones sit half a row up)
    dx = cell_size if shape == "square" else 1.5 * cell_size / math.sqrt(3.0)
    extra = 0 if shape == "square" else 1
    minx = math.floor(minx / (dx * (1 + extra))) * dx * (1 + extra)
    miny = math.floor(miny / cell_size) * cell_size
    ncol = max(1, math.ceil((maxx - minx) / dx) + extra)
    return minx, miny, ncol, max(1, math.ceil((maxy - miny) / cell_size) + extra)


def grid_size(bounds: Sequence[float], cell_size: float, shape: str = "square") -> int:
    """How many cells the lattice of :func:`grid_cells` has over ``bounds`` (before clipping),
    counted without drawing one, so that a grid can be refused before any work starts.

    >>> grid_size((0, 0, 1000, 500), 100.0)
    50
    """
    _, _, ncol, nrow = lattice_extent(bounds, cell_size, shape)
    return ncol * nrow


def fitting_cell_size(bounds: Sequence[float], max_cells: int, shape: str = "square") -> int:
    """The smallest whole number of metres whose grid over ``bounds`` has at most ``max_cells``.

    >>> fitting_cell_size((0, 0, 1000, 500), 50)
    100
    """
    area = max(bounds[2] - bounds[0], 1.0) * max(bounds[3] - bounds[1], 1.0)
    size = max(1, math.floor(math.sqrt(area / max_cells)))
    while grid_size(bounds, float(size), shape) > max_cells:
        size += 1
    return size


def check_grid_size(
    bounds: Sequence[float],
    cell_size: float,
    *,
    shape: str = "square",
    max_cells: int = MAX_CELLS,
    what: str = "a grid",
) -> int:
    """The number of cells of the grid, or a :class:`ParameterError` (``argument="cell_size"``)
    saying what cell size would fit when there are more than ``max_cells``; ``what`` names the
    grid's user in it."""
    n = grid_size(bounds, cell_size, shape)
    if n > max_cells:
        km2 = (float(bounds[2]) - float(bounds[0])) * (float(bounds[3]) - float(bounds[1])) / 1e6
        raise ParameterError(
            f"cell_size {cell_size:g} m makes {n:,} cells over this {km2:,.3g} km2 area, "
            f"more than the {max_cells:,} {what} allows; use a cell size of "
            f"{fitting_cell_size(bounds, max_cells, shape)} m or more.",
            argument="cell_size",
        )
    return n


def check_kernel_work(
    centres: NDArray[np.float64],
    points: NDArray[np.float64],
    bandwidth: float,
    cell_size: float,
    *,
    max_pairs: int = MAX_KERNEL_PAIRS,
) -> float:
    """The mean number of map points within ``bandwidth`` of a cell centre (from a sample of
    cells), or a :class:`ParameterError` (``argument="bandwidth"``) when all the cells would
    reach more than ``max_pairs`` (cell, point) pairs, saying what would fit.

    >>> centres = np.array([[x, 0.0] for x in range(100)])
    >>> check_kernel_work(centres, np.zeros((10, 2)), 50.0, 1.0)
    5.1
    """
    if len(centres) == 0 or len(points) == 0:
        return 0.0
    step = max(1, len(centres) // _SAMPLE)
    reach = cKDTree(points).query_ball_point(centres[::step], bandwidth, return_length=True)
    mean = float(np.mean(reach))
    pairs = mean * len(centres)
    if pairs > max_pairs:
        size = math.ceil(cell_size * math.sqrt(pairs / max_pairs))
        raise ParameterError(
            f"bandwidth {bandwidth:g} m reaches about {pairs:,.0f} (cell, map point) pairs over "
            f"{len(centres):,} cells, more than {max_pairs:,}; use a smaller bandwidth or a "
            f"cell size of {size} m or more.",
            argument="bandwidth",
        )
    return mean
