"""Getis-Ord Gi* hot and cold spots of incident counts in grid cells or any polygons.

The statistic
-------------
For cell ``i`` with value ``x_i`` (incidents, or summed harm weights), ``n`` cells, weights
``w_ij`` that include the cell itself (``w_ii = 1``: the "star"), ``W_i = sum_j w_ij``,
``S1_i = sum_j w_ij²``, the mean ``xbar`` and ``s = sqrt(sum_j x_j² / n - xbar²)``, the z-score
is (Getis & Ord 1992, eq. 14; Ord & Getis 1995, eq. 9)::

    Gi*_i = (sum_j w_ij x_j - xbar W_i) / (s sqrt((n S1_i - W_i²) / (n - 1)))

With binary weights it is exactly ``esda.G_Local(x, w, transform="B", star=True).Zs``. Scaling a
row of the weights leaves ``Gi*_i`` unchanged, so row-standardised binary weights give the same
z-scores (esda's ``transform="R"`` differs only because its variance assumes binary weights).
p-values are two-sided from the normal distribution, ``2 (1 - Phi(|z|))`` (twice esda's
``p_norm``), and the Benjamini & Hochberg (1995) false-discovery-rate adjusted p-values are
returned beside them.

Neighbours (:func:`neighbours`) are the cells themselves plus either the cells that touch them
(queen contiguity: sharing an edge or a corner, so the 8 around a square cell and the 6 around
a hexagon) or the cells whose centroids lie within a distance.

Classes (:func:`hotspot_classes`, as in ArcGIS Hot Spot Analysis): "hot 99%" when ``z > 0`` and
``p <= 0.01``, "hot 95%" for ``p <= 0.05``, "hot 90%" for ``p <= 0.10``; "cold ..." likewise
for ``z < 0``; otherwise "not significant". With ``fdr=True`` the FDR-adjusted p is used.

Sparse counts
-------------
* Permutation inference (:func:`permutation_p`, ``permutations=`` of :func:`gi_star_cells`):
  esda's conditional randomisation. Each cell keeps its own value; its neighbours' values are
  drawn at random (without replacement) from the other cells', ``permutations`` times with a
  fixed seed, and the p-value is ``2 (m + 1) / (permutations + 1)`` (capped at 1), ``m`` the
  draws whose local sum is at least as extreme as the observed one on its side (esda's folded
  ``p_sim``, doubled to be two-sided like the normal p). It does not lean on the normal
  approximation, which is poor for counts that are mostly 0 or 1.
* Cold spots: with the normal approximation a cell can only be cold when its neighbourhood's
  sum is far enough below the mean; :func:`lowest_z` is the z of a neighbourhood with no
  incidents at all. When it is above ``-1.645`` nowhere, no cold spot can be found at these
  counts, whatever the data, and :func:`gi_star_cells` says so in its notes.
* Clipped edge cells (``min_area=`` of :func:`gi_star_cells`; :func:`hotspots.methods.analyse_gi`
  gives half a whole cell): a grid cell cut by the study boundary to under half its area holds
  fewer incidents only because it is smaller, so it would look cold and drag its neighbours
  down. Such cells are left out of the statistic (neither a value nor a neighbour), kept in the
  output with ``hotspot_class`` :data:`LEFT_OUT` and no z or p, and counted in the notes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.stats import norm

from ._points import unique_points
from ._validate import check_incidents, check_layer
from .errors import InputError, ParameterError

__all__ = [
    "CLASSES",
    "LEFT_OUT",
    "GiResult",
    "benjamini_hochberg",
    "cell_values",
    "gi_star",
    "gi_star_cells",
    "hotspot_classes",
    "lowest_z",
    "neighbours",
    "permutation_p",
]

log = logging.getLogger(__name__)

#: Below this many cells a note says Gi* says little (each neighbourhood is much of the map).
_FEW_CELLS = 30

#: Confidence levels and their largest p-value, most confident first.
_LEVELS = ((99, 0.01), (95, 0.05), (90, 0.10))
#: Every class :func:`hotspot_classes` returns.
CLASSES = (
    *(f"hot {c}%" for c, _ in _LEVELS),
    "not significant",
    *(f"cold {c}%" for c, _ in reversed(_LEVELS)),
)
#: The class of a cell left out of the statistic (clipped to under ``min_area``).
LEFT_OUT = "clipped, left out"
#: |z| needed for the weakest class (two-sided 90%).
_Z90 = float(norm.isf(0.05))
# Polygons closer than this (metres) count as touching: shared edges computed by different
# arithmetic can differ in the last bits.
_TOUCH_TOLERANCE = 1e-3


@dataclass(frozen=True)
class GiResult:
    """What :func:`gi_star_cells` found.

    Attributes
    ----------
    cells
        The cells with their counts, z-scores, p-values and ``hotspot_class``.
    notes
        The neighbour rule and the p-values used, one sentence each.
    """

    cells: gpd.GeoDataFrame
    notes: list[str]


def neighbours(cells: gpd.GeoDataFrame, *, distance: float | None = None) -> sparse.csr_array:
    """Binary neighbour matrix of ``cells``, each cell its own neighbour (the Gi* "star").

    Parameters
    ----------
    cells
        Polygons in metres (grid cells, wards, ...).
    distance
        None for queen contiguity (cells touching along an edge or at a corner); otherwise a
        distance in metres between cell centroids.

    Returns
    -------
    scipy.sparse.csr_array
        ``(n, n)`` of 0/1 with ones on the diagonal, symmetric.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=27700)
    >>> neighbours(g).toarray().astype(int).tolist()
    [[1, 1, 0], [1, 1, 1], [0, 1, 1]]
    """
    check_layer(cells, "cells", metres=True, fix="give polygons such as grid_cells(...)")
    geoms = cells.geometry.to_numpy()
    n = len(geoms)
    if distance is None:
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="dwithin", distance=_TOUCH_TOLERANCE)
    else:
        try:
            d = float(distance)
        except (TypeError, ValueError):
            raise ParameterError(f"distance must be metres; got {distance!r}.") from None
        if not math.isfinite(d) or d <= 0:
            raise ParameterError(f"distance must be a positive number of metres; got {distance!r}.")
        centroids = shapely.get_coordinates(shapely.centroid(geoms))
        pairs = cKDTree(centroids).query_pairs(d, output_type="ndarray")
        idx = np.arange(n)
        left = np.concatenate([pairs[:, 0], pairs[:, 1], idx])
        right = np.concatenate([pairs[:, 1], pairs[:, 0], idx])
    w = sparse.coo_array((np.ones(len(left)), (left, right)), shape=(n, n)).tocsr()
    w.data[:] = 1.0  # duplicates summed above: back to binary
    w = w.maximum(w.T)
    w.setdiag(1.0)
    return sparse.csr_array(w)


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini & Hochberg (1995) false-discovery-rate adjusted p-values.

    ``p_adj[i] = min over k >= rank(i) of (m p_(k) / k)``, capped at 1; NaNs stay NaN and do
    not count in ``m``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    vals = arr[ok]
    m = len(vals)
    if m == 0:
        return out
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def gi_star(
    values: ArrayLike, *, neighbours: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Getis-Ord Gi* z-scores and two-sided normal p-values.

    Parameters
    ----------
    values
        One value per cell (incident counts or summed weights).
    neighbours
        ``(n, n)`` weights, a scipy sparse matrix or array (e.g. from :func:`neighbours`).
        Where a cell's own weight ``w_ii`` is 0 it is set to 1: Gi* always includes the cell.

    Returns
    -------
    (z, p)
        Arrays of length n. When every value is equal (or a cell neighbours every cell) the
        z-score is 0 and p is 1.

    Examples
    --------
    Five cells in a row, each neighbouring the next; the busy end is hot:

    >>> w = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(5, 5))
    >>> z, p = gi_star([9, 8, 1, 0, 0], neighbours=w)
    >>> z.round(3).tolist()
    [1.986, 1.459, -0.365, -1.986, -1.459]

    Cell 0 by hand: mean 3.6, s = sqrt(146 / 5 - 3.6²) = 4.030, neighbours {0, 1}:
    ``(17 - 3.6 * 2) / (4.030 * sqrt((5 * 2 - 2²) / 4))`` = 1.986.
    """
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    if not np.isfinite(x).all():
        raise ParameterError("values must be finite numbers, one per cell; fill the gaps first.")
    try:
        w = sparse.csr_array(neighbours, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            "neighbours must be an (n, n) scipy sparse matrix; build it with neighbours(cells)."
        ) from None
    if w.shape != (n, n):
        raise ParameterError(
            f"neighbours must be {n} x {n} (one row per value); got {w.shape[0]} x {w.shape[1]}."
        )
    diagonal = w.diagonal()
    if (diagonal == 0).any():
        w = sparse.csr_array(w + sparse.diags_array(np.where(diagonal == 0, 1.0, 0.0)))
    if n < 2:
        return np.zeros(n), np.ones(n)
    mean = x.mean()
    s = math.sqrt(max(float((x * x).mean() - mean * mean), 0.0))
    row_sum = np.asarray(w.sum(axis=1)).ravel()
    row_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    numerator = w @ x - mean * row_sum
    spread = (n * row_sq - row_sum**2) / (n - 1)
    denominator = s * np.sqrt(np.clip(spread, 0.0, None))
    z = np.zeros(n)
    ok = denominator > 1e-12 * max(abs(mean), s, 1.0)
    z[ok] = numerator[ok] / denominator[ok]
    p = 2.0 * norm.sf(np.abs(z))
    return z, p


def lowest_z(neighbours: Any, n_values: int, mean: float, sd: float) -> NDArray[np.float64]:
    """The Gi* z-score of each cell if it and all its neighbours held nothing.

    ``(0 - mean W_i) / (sd sqrt((n S1_i - W_i²) / (n - 1)))``: the most negative z the cell
    can reach with these counts (``mean`` and ``sd`` of all the values, ``n_values`` of them).

    Examples
    --------
    Five cells in a row; the counts of :func:`gi_star`'s example (mean 3.6, sd 4.030):

    >>> w = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(5, 5))
    >>> lowest_z(w, 5, 3.6, 4.030).round(3).tolist()
    [-1.459, -2.188, -2.188, -2.188, -1.459]

    Cell 0 by hand: ``-3.6 * 2 / (4.030 * sqrt((5 * 2 - 2²) / 4))`` = -1.459.
    """
    w = sparse.csr_array(neighbours, dtype=float)
    row_sum = np.asarray(w.sum(axis=1)).ravel()
    row_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    spread = np.sqrt(np.clip((n_values * row_sq - row_sum**2) / (n_values - 1), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread * sd > 0, -mean * row_sum / (sd * spread), 0.0)


def permutation_p(
    values: ArrayLike, *, neighbours: Any, permutations: int = 999, seed: int = 0
) -> NDArray[np.float64]:
    """Two-sided pseudo p-values of Gi* by conditional randomisation (esda's ``p_sim``, x2).

    Parameters
    ----------
    values
        One value per cell.
    neighbours
        Binary ``(n, n)`` weights with the cell itself (from :func:`neighbours`).
    permutations
        Random draws per cell.
    seed
        Of the draws (the same seed gives the same p-values).

    Returns
    -------
    numpy array
        ``min(1, 2 (m + 1) / (permutations + 1))`` per cell, ``m`` the smaller of the
        draws at least as large as the observed local sum and those at most as large.

    Examples
    --------
    The busy end of :func:`gi_star`'s five cells:

    >>> w = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(5, 5))
    >>> permutation_p([9, 8, 1, 0, 0], neighbours=w, permutations=99).round(2).tolist()
    [0.5, 0.34, 1.0, 0.32, 0.56]
    """
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 1:
        raise ParameterError(
            f"permutations must be a whole number >= 1; got {permutations!r}.",
            argument="permutations",
        )
    w = sparse.csr_array(neighbours, dtype=float)
    w.setdiag(0.0)
    w.eliminate_zeros()
    k = np.diff(w.indptr)
    observed = x + w @ x
    if n < 2:
        return np.ones(n)
    kmax = int(min(k.max(initial=0), n - 1))
    rng = np.random.default_rng(seed)
    # One draw of kmax distinct other cells per permutation, shared by every cell (as esda).
    draws = np.argsort(rng.random((permutations, n - 1)), axis=1)[:, :kmax]
    p = np.ones(n)
    for i in range(n):
        ids = draws[:, : k[i]]
        ids = ids + (ids >= i)
        sims = x[i] + x[ids].sum(axis=1)
        tol = 1e-9 * max(1.0, abs(float(observed[i])))
        m = min(int((sims >= observed[i] - tol).sum()), int((sims <= observed[i] + tol).sum()))
        p[i] = min(1.0, 2.0 * (m + 1) / (permutations + 1))
    return p


def hotspot_classes(
    z: ArrayLike, p: ArrayLike, *, p_fdr: ArrayLike | None = None, fdr: bool = True
) -> NDArray[np.str_]:
    """Hot/cold class of each cell from its Gi* z-score and p-value.

    Parameters
    ----------
    z, p
        From :func:`gi_star`.
    p_fdr
        FDR-adjusted p-values; computed from ``p`` with :func:`benjamini_hochberg` when None.
    fdr
        Classify by the FDR-adjusted p (True) or the raw p (False).

    Returns
    -------
    numpy array of str
        One of :data:`CLASSES` per cell.

    Examples
    --------
    >>> hotspot_classes([3.0, -2.0, 1.7, 0.5], [0.003, 0.046, 0.09, 0.6], fdr=False).tolist()
    ['hot 99%', 'cold 95%', 'hot 90%', 'not significant']
    """
    zs = np.asarray(z, dtype=float).ravel()
    ps = np.asarray(p, dtype=float).ravel()
    if zs.shape != ps.shape:
        raise ParameterError("z and p must have one value per cell each.")
    if fdr:
        ps = benjamini_hochberg(ps) if p_fdr is None else np.asarray(p_fdr, dtype=float).ravel()
    out = np.full(zs.shape, "not significant", dtype=object)
    for confidence, alpha in reversed(_LEVELS):  # weakest first, overwritten by stronger
        sig = np.isfinite(ps) & (ps <= alpha)
        out[sig & (zs > 0)] = f"hot {confidence}%"
        out[sig & (zs < 0)] = f"cold {confidence}%"
    return out.astype(str)


def cell_values(
    incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, weights: str | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Incidents in each cell, and their summed weights (the counts again when ``weights`` is None).

    A point on the boundary between cells counts in the first of them; points outside every
    cell are left out (logged).
    """
    if weights is not None and weights not in incidents.columns:
        raise ParameterError(
            f"weights column {weights!r} is not in the incidents; use None or 'weight'."
        )
    geom = incidents.geometry.to_numpy()
    with np.errstate(invalid="ignore"):
        xy = np.column_stack([shapely.get_x(geom), shapely.get_y(geom)])
    ok = np.isfinite(xy).all(axis=1)
    # Each unique map point is looked up once; its incidents follow it into its cell.
    codes, uxy, _ = unique_points(xy[ok])
    tree = shapely.STRtree(cells.geometry.to_numpy())
    point_idx, cell_idx = tree.query(shapely.points(uxy), predicate="intersects")
    first = np.unique(point_idx, return_index=True)[1]
    cell_of_point = np.full(len(uxy), -1, dtype=np.int64)
    cell_of_point[point_idx[first]] = cell_idx[first]
    cell_of_row = np.full(len(geom), -1, dtype=np.int64)
    cell_of_row[ok] = cell_of_point[codes]
    inside = cell_of_row >= 0
    n = len(cells)
    counts = np.bincount(cell_of_row[inside], minlength=n).astype(np.int64)
    if weights is None:
        values = counts.astype(float)
    else:
        w = pd.to_numeric(incidents[weights], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(w).all():
            raise InputError(f"the {weights!r} column has missing values; fix or drop those rows.")
        values = np.bincount(cell_of_row[inside], weights=w[inside], minlength=n)
    outside = int(len(geom) - inside.sum())
    if outside:
        log.info("%d incidents lie outside every cell and are left out", outside)
    return counts, values


def gi_star_cells(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    distance: float | None = None,
    weights: str | None = None,
    fdr: bool = True,
    min_area: float | None = None,
    permutations: int = 0,
    seed: int = 0,
) -> GiResult:
    """Getis-Ord Gi* hot and cold spots of incidents in ``cells`` (a grid, wards, ...).

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    cells
        Polygons in any CRS (reprojected to the incidents'), e.g. from
        :func:`hotspots.density.grid_cells`.
    distance
        Neighbours within this centroid distance (metres); None for touching cells (queen).
    weights
        None to count incidents, or a weights column (``"weight"``) to sum harm.
    fdr
        Classify by the FDR-adjusted p-values (True) or the raw ones.
    min_area
        Cells smaller than this (m²) are left out of the statistic (see the module docstring:
        clipped edge cells); None keeps every cell.
    permutations, seed
        0 (default): p-values from the normal approximation; N: from N conditional
        randomisations (:func:`permutation_p`) with ``seed``.

    Returns
    -------
    GiResult
        ``cells``: ``cells`` (copied) plus ``incidents`` (count), ``value`` (count or summed
        weight), ``n_neighbours`` (including the cell), ``z``, ``p``, ``p_fdr``,
        ``hotspot_class`` (:data:`LEFT_OUT`, with NaN z and p, for a cell under ``min_area``);
        ``notes`` says which neighbour rule and p-values were used, the cells left out, and
        when no cold spot can be found at these counts.
    """
    check_incidents(incidents)
    cells = check_layer(cells, "cells", fix="give polygons such as grid_cells(...)")
    out = cells.to_crs(incidents.crs) if cells.crs != incidents.crs else cells.copy()
    keep = np.ones(len(out), dtype=bool)
    if min_area is not None:
        keep = np.asarray(out.geometry.area >= float(min_area))
    if keep.sum() < 3:
        raise InputError(
            "Gi* needs at least 3 cells (grid cells or wards); use a finer grid or more wards."
        )
    counts, values = cell_values(incidents, out, weights=weights)
    used = out[keep]
    w = neighbours(used, distance=distance)
    z_in, p_in = gi_star(values[keep], neighbours=w)
    rule = (
        "neighbours: touching cells (queen contiguity) and the cell itself"
        if distance is None
        else f"neighbours: cells with centroids within {float(distance):g} m, and the cell itself"
    )
    notes = [rule]
    if permutations:
        p_in = permutation_p(values[keep], neighbours=w, permutations=permutations, seed=seed)
        notes.append(
            f"p-values: {permutations:,} conditional randomisations (seed {seed}, two-sided; "
            f"the smallest possible is {2 / (permutations + 1):.2g}); "
            + ("FDR-adjusted" if fdr else "raw")
        )
    else:
        notes.append("p-values: two-sided normal; " + ("FDR-adjusted" if fdr else "raw"))
    notes += _sparse_notes(values[keep], w, counts, keep, permutations)
    if keep.sum() < _FEW_CELLS:  # a cell's neighbourhood is then much of the whole map
        notes.append(
            f"only {int(keep.sum())} cells: a cell's neighbourhood is much of the area, so Gi* "
            "says little; use grid cells, or smaller ones"
        )
    log.info("Gi* on %d cells; %s", int(keep.sum()), rule)
    z = np.full(len(out), np.nan)
    p = np.full(len(out), np.nan)
    z[keep], p[keep] = z_in, p_in
    p_fdr = benjamini_hochberg(p)
    classes = np.full(len(out), LEFT_OUT, dtype=object)
    classes[keep] = hotspot_classes(z_in, p_in, p_fdr=p_fdr[keep], fdr=fdr)
    n_nb = np.zeros(len(out), dtype=np.int64)
    n_nb[keep] = np.diff(w.indptr)
    out["incidents"] = counts
    out["value"] = values
    out["n_neighbours"] = n_nb
    out["z"] = z
    out["p"] = p
    out["p_fdr"] = p_fdr
    out["hotspot_class"] = pd.array(classes.astype(str), dtype="str")
    cols = [c for c in out.columns if c != out.geometry.name] + [out.geometry.name]
    return GiResult(cells=out[cols], notes=notes)


def _sparse_notes(
    values: NDArray[np.float64],
    w: sparse.csr_array,
    counts: NDArray[np.int64],
    keep: NDArray[np.bool_],
    permutations: int,
) -> list[str]:
    """Notes on cells left out, and on cold spots that these counts cannot show."""
    notes = []
    left = int((~keep).sum())
    if left:
        notes.append(
            f"{left:,} edge cell{'s' if left != 1 else ''} clipped by the boundary to under half "
            f"a cell ({int(counts[~keep].sum()):,} incidents) left out of Gi*: a part-cell holds "
            "fewer incidents only because it is smaller"
        )
    sd = float(values.std())
    if not permutations and sd > 0:
        floor = float(lowest_z(w, len(values), float(values.mean()), sd).min())
        if floor > -_Z90:
            notes.append(
                f"no cold spot can be found at these counts: even a cell whose neighbourhood "
                f"has no incidents has z = {floor:.2f}, short of the -1.64 needed for 90% "
                "(try permutations, larger cells or more months)"
            )
    return notes
