"""Density clustering of incident points on metre coordinates: DBSCAN, HDBSCAN, suggestions.

data.police.uk snaps many incidents onto one anonymous map point, so every function here
first reduces the rows to their unique coordinates (in first-appearance order) with the
summed row weights, works on those, and maps the result back to the rows. Row weights
behave exactly like repeated rows: an incident of weight 3 counts as three incidents.

* :func:`dbscan_labels` returns, element for element, the labels and core mask of
  ``sklearn.cluster.DBSCAN(eps=eps, min_samples=min_samples).fit(xy, sample_weight=weights)``
  (clusters numbered in the order of their first core row, a border row taking the lowest
  label among the clusters that reach it), at a fraction of its time and memory.
* :func:`hdbscan_labels` computes HDBSCAN of the map points weighted by their incidents:
  densities and sizes count incidents, a map point is indivisible. Where no map point
  alone holds ``min_cluster_size`` incidents this is HDBSCAN of the raw rows, what
  ``sklearn.cluster.HDBSCAN`` gives on them (up to ties); busy map points do not become
  infinitely dense hotspots of their own. It needs only scipy (see its notes for why not
  fast_hdbscan's ``sample_weight``).
* :func:`k_distance`, :func:`suggest_eps` and :func:`suggest_min_samples` give the k-distance
  curve and automatic parameter choices, each with a plain-English reason.

All distances are in the units of ``xy`` (metres in the working CRS).
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from .errors import ParameterError

__all__ = [
    "BUSIER_THAN",
    "DEFAULT_EPS",
    "EPS_RANGE",
    "MIN_SAMPLES_FLOOR",
    "Suggestion",
    "dbscan_labels",
    "hdbscan_labels",
    "k_distance",
    "map_point_spacing",
    "neighbour_counts",
    "suggest_eps",
    "suggest_min_samples",
]

log = logging.getLogger(__name__)

#: The search radius (metres) used when nobody chose one: about two street blocks.
DEFAULT_EPS: float = 150.0
#: :func:`suggest_eps` keeps its suggestion inside this street-scale range (metres).
EPS_RANGE: tuple[float, float] = (50.0, 250.0)
#: :func:`suggest_min_samples` never suggests fewer incidents than this.
MIN_SAMPLES_FLOOR: int = 5
#: A hotspot must hold this many times the incidents an average spot of radius eps holds.
_DENSITY_FACTOR: float = 3.0
#: ... and a core map point must be busier than the neighbourhood of this share of incidents.
BUSIER_THAN: float = 0.75

# Multiplier that mixes the two 64-bit coordinate words into one hash key (golden ratio).
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)
# From this many rows on, the rows are factorized in two threads.
_PARALLEL_ROWS = 1 << 20
# Mutual-reachability MST: neighbour radius as a multiple of the core distance, which is
# also the growth factor between density levels (see _mreach_mst).
_MST_RADIUS_FACTOR = 2.0


@dataclass(frozen=True)
class Suggestion:
    """An automatic parameter choice and why it was made.

    Attributes
    ----------
    value
        The suggested value (metres for eps, an incident count for min_samples).
    reason
        One plain-English sentence, shown to users next to the control.
    """

    value: float | int
    reason: str


# --------------------------------------------------------------------------- validation


def _check_xy(xy: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            "xy must be an (n, 2) array of numeric x/y coordinates in metres; "
            "convert the geometry with hotspots.crs.to_metres first."
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        if arr.size == 0:
            return np.empty((0, 2), dtype=np.float64)
        raise ParameterError(
            f"xy must be an (n, 2) array of x/y coordinates in metres, got shape {arr.shape}; "
            "pass one row per incident with two columns."
        )
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr).all(axis=1)).sum())
        raise ParameterError(
            f"xy has {bad} row(s) with missing or infinite coordinates; "
            "drop rows without coordinates before clustering."
        )
    return arr


def _check_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            "weights must be numbers, one per incident; pass None for equal weights."
        ) from None
    if w.ndim != 1 or w.shape[0] != n:
        raise ParameterError(
            f"weights must have one value per row of xy ({n}), got shape {w.shape}; "
            "pass one weight per incident or None."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ParameterError(
            "weights must be finite and non-negative; "
            "fix or drop the incidents with negative or missing weights."
        )
    return w


def _check_positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}; give e.g. {name}=150.")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{name} must be a positive finite number, got {value!r}.")
    return v


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be a whole number >= {minimum}, got {value!r}; e.g. {name}=15."
        )
    v = int(value)
    if v < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {v}; raise it to {minimum}.")
    return v


# ---------------------------------------------------------------- unique map points


def _dedupe(
    xy: NDArray[np.float64], weights: NDArray[np.float64] | None
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Unique coordinates in first-appearance order, the code of every row, summed weights.

    Rows are hashed to one int64 key (the two coordinate words mixed) and factorized (in
    two threads for large inputs); the result is verified against the coordinates, with an
    exact complex128 factorize as the fallback should two different points ever share a
    key. ``-0.0`` is read as ``0.0``.
    """
    pts = xy if np.all(xy) else xy + 0.0  # only a zero can be -0.0
    key = pts[:, 0].view(np.uint64) * _HASH_MIX
    np.bitwise_xor(key, pts[:, 1].view(np.uint64), out=key)
    codes = _factorize_codes(key.view(np.int64))
    del key
    # A row is a first appearance exactly when its code exceeds every code before it.
    first_mask = np.empty(len(codes), dtype=bool)
    first_mask[:1] = True
    if len(codes) > 1:
        np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=first_mask[1:])
    uxy = pts[first_mask] + 0.0
    if not all(np.array_equal(uxy[:, c].copy()[codes], pts[:, c]) for c in (0, 1)):
        codes, uniq = pd.factorize(pts.view(np.complex128).ravel() + 0.0)  # keys collided
        uxy = np.column_stack([uniq.real, uniq.imag])
    n_unique = len(uxy)
    if weights is None:
        uw = np.bincount(codes, minlength=n_unique).astype(np.float64)
    else:
        uw = np.bincount(codes, weights=weights, minlength=n_unique).astype(np.float64, copy=False)
    return codes.astype(np.intp, copy=False), uxy, uw


def _factorize_codes(key: NDArray[np.int64]) -> NDArray[np.intp]:
    """``pandas.factorize(key)[0]``; two halves in two threads when that pays (pandas
    releases the GIL), merged so that codes still follow first appearance."""
    n = len(key)
    if n < _PARALLEL_ROWS or (os.cpu_count() or 1) < 2:
        return pd.factorize(key)[0]
    half = n // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        (codes_a, uniq_a), (codes_b, uniq_b) = pool.map(pd.factorize, (key[:half], key[half:]))
    # The first half's keys keep their codes; the second half's new keys follow, in order.
    merged = pd.factorize(np.concatenate([uniq_a, uniq_b]))[0]
    return np.concatenate([codes_a, merged[len(uniq_a) :][codes_b]])


def _morton_order(pts: NDArray[np.float64], cell: float) -> NDArray[np.intp]:
    """A permutation that puts nearby points next to each other (Z-order of cells)."""
    span = pts - pts.min(axis=0)
    cells = np.minimum(span / cell, 2.0**31 - 1).astype(np.uint64)

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    code = spread(cells[:, 0]) | (spread(cells[:, 1]) << np.uint64(1))
    return np.argsort(code, kind="stable")


# ------------------------------------------------------------------------------ DBSCAN


def dbscan_labels(
    xy: NDArray[np.float64],
    *,
    eps: float,
    min_samples: int,
    weights: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """DBSCAN labels and core mask of every row, identical to scikit-learn's DBSCAN.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident (repeats allowed).
    eps
        Neighbourhood radius in metres; points at distance ``<= eps`` are neighbours.
    min_samples
        A point is a core point when the weight of all rows within ``eps`` of it (its own
        included) is at least ``min_samples``.
    weights
        Non-negative weight per row (default 1); a weight of 3 counts as three incidents.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster of each row, ``-1`` for noise; clusters are numbered ``0, 1, ...`` in the
        order of their first core row.
    is_core : ndarray of bool, shape (n,)
        Whether each row is a core point.

    Notes
    -----
    The result equals ``sklearn.cluster.DBSCAN(eps=eps, min_samples=min_samples).fit(xy,
    sample_weight=weights)``: ``labels_`` element for element and ``is_core`` equal to the
    mask of ``core_sample_indices_``. (With non-integer weights, a neighbourhood whose
    weight lands on ``min_samples`` within floating-point rounding may be summed in another
    order.) scikit-learn's ``dbscan_inner`` starts a cluster at each unlabelled core point
    in row order and expands it depth-first through core points, so clusters are the
    connected components of the core points, numbered by their first core row, and a
    border point keeps the first cluster to reach it: the lowest label among its core
    neighbours. This reproduces that without the per-point loop: the rows are reduced to
    unique map points with summed weights (which changes no neighbourhood weight), the
    neighbour pairs come from a k-d tree over the points in Z-order, the weighted core
    test is two ``bincount`` calls, the clusters are ``connected_components`` of the
    core-core pairs, and border points take the minimum label over their core pairs.

    Examples
    --------
    Two blobs of three points, a far point, and a point repeated three times:

    >>> xy = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10],
    ...                [50, 50], [80, 80], [80, 80], [80, 80]], dtype=float)
    >>> labels, is_core = dbscan_labels(xy, eps=1.5, min_samples=3)
    >>> labels.tolist()
    [0, 0, 0, 1, 1, 1, -1, 2, 2, 2]
    >>> int(is_core.sum())
    9
    """
    eps = _check_positive_float("eps", eps)
    min_samples = _check_int("min_samples", min_samples, 1)
    pts = _check_xy(xy)
    w = _check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)

    codes, uxy, uw = _dedupe(pts, w)
    labels_u, core_u = _dbscan_unique(uxy, uw, eps=eps, min_samples=min_samples)
    return labels_u[codes], core_u[codes]


def _dbscan_unique(
    uxy: NDArray[np.float64], uw: NDArray[np.float64], *, eps: float, min_samples: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """DBSCAN of distinct points with weights; labels numbered by point index order."""
    n = len(uxy)
    order = _morton_order(uxy, eps)
    sxy = uxy[order]
    sw = uw[order]
    tree = cKDTree(sxy, leafsize=16, balanced_tree=False, compact_nodes=False)
    pairs = tree.query_pairs(eps, output_type="ndarray")
    del tree
    idx_type = np.int32 if n < 2**31 else np.int64
    i = pairs[:, 0].astype(idx_type)
    j = pairs[:, 1].astype(idx_type)
    del pairs

    weight_near = sw.copy()
    weight_near += np.bincount(i, weights=sw[j], minlength=n)
    weight_near += np.bincount(j, weights=sw[i], minlength=n)
    core = weight_near >= min_samples
    del weight_near
    core_i = core[i]
    core_j = core[j]

    both = core_i & core_j
    n_core_edges = int(np.count_nonzero(both))
    graph = coo_array((np.ones(n_core_edges), (i[both], j[both])), shape=(n, n))
    # query_pairs returns each pair once, so there is nothing to sum: skip the sort.
    graph.has_canonical_format = True
    _, component = connected_components(graph.tocsr(), directed=True, connection="weak")
    del graph, both

    # Number the clusters by their first core point in the original (unsorted) order.
    core_idx = np.flatnonzero(core)
    labels = np.full(n, -1, dtype=np.int64)
    if core_idx.size:
        comp = component[core_idx]
        first = np.full(int(component.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first, comp, order[core_idx])
        used = np.flatnonzero(first < n)
        rank = np.empty_like(first)
        rank[used[np.argsort(first[used], kind="stable")]] = np.arange(used.size)
        labels[core_idx] = rank[comp]

        # Border points: the lowest label among their core neighbours.
        none = np.iinfo(np.int64).max
        border = np.full(n, none, dtype=np.int64)
        to_j = core_i & ~core_j
        np.minimum.at(border, j[to_j], labels[i[to_j]])
        to_i = core_j & ~core_i
        np.minimum.at(border, i[to_i], labels[j[to_i]])
        reached = border != none
        labels[reached] = border[reached]

    labels_u = np.empty(n, dtype=np.int64)
    labels_u[order] = labels
    core_u = np.empty(n, dtype=bool)
    core_u[order] = core
    return labels_u, core_u


# -------------------------------------------------------------------------- k-distance


def _weighted_kth_distance(
    tree: cKDTree, pts: NDArray[np.float64], uw: NDArray[np.float64], k: float
) -> NDArray[np.float64]:
    """Distance from each of ``pts`` to where the cumulative weight of the tree's points
    (nearest first, a point's own included) first reaches ``k``; inf if it never does."""
    n_tree = tree.n
    out = np.full(len(pts), np.inf)
    todo = np.arange(len(pts))
    n_nb = max(1, min(n_tree, math.ceil(k)))
    while todo.size:
        chunk = max(1, (1 << 22) // n_nb)
        unfinished = []
        for start in range(0, todo.size, chunk):
            rows = todo[start : start + chunk]
            dist, nb = tree.query(pts[rows], k=n_nb, workers=-1)
            dist = dist.reshape(len(rows), n_nb)
            cum = np.cumsum(uw[nb.reshape(len(rows), n_nb)], axis=1)
            done = cum[:, -1] >= k
            at = np.argmax(cum >= k, axis=1)
            out[rows[done]] = dist[done, at[done]]
            unfinished.append(rows[~done])
        todo = np.concatenate(unfinished)
        if n_nb == n_tree:
            break
        n_nb = min(n_tree, 2 * n_nb)
    return out


def k_distance(
    xy: NDArray[np.float64], *, k: int, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Sorted distance from each unique map point to its k-th nearest incident.

    Incidents are counted with their weights and a point's own incidents count, so a map
    point holding ``k`` or more incidents has distance 0. This is the curve to read eps
    from (DBSCAN's core test is ``k_distance <= eps`` with ``k = min_samples``), and the
    HDBSCAN core distance of each map point.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident.
    k
        Number of incidents (total weight) to reach.
    weights
        Non-negative weight per row (default 1).

    Returns
    -------
    ndarray of float64
        One distance per unique map point, sorted ascending.

    Examples
    --------
    >>> xy = np.array([[0, 0], [0, 0], [3, 4], [6, 8]], dtype=float)
    >>> k_distance(xy, k=2).tolist()
    [0.0, 5.0, 5.0]
    >>> k_distance(xy, k=3).tolist()
    [5.0, 5.0, 10.0]
    """
    k = _check_int("k", k, 1)
    pts = _check_xy(xy)
    w = _check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.empty(0, dtype=np.float64)
    _, uxy, uw = _dedupe(pts, w)
    total = float(uw.sum())
    if total < k:
        raise ParameterError(
            f"k={k} is more than the {total:g} incidents given; choose k <= {math.floor(total)}."
        )
    order = _morton_order(uxy, 1.0 + float(np.ptp(uxy, axis=0).max()) / 1024)
    tree = cKDTree(uxy[order], balanced_tree=False, compact_nodes=False)
    dist = _weighted_kth_distance(tree, uxy[order], uw[order], k)
    return np.sort(dist)


# ----------------------------------------------------------------------------- HDBSCAN


def hdbscan_labels(
    xy: NDArray[np.float64],
    *,
    min_cluster_size: int,
    min_samples: int | None = None,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """HDBSCAN of the map points weighted by their incidents; a label per row.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident (repeats allowed).
    min_cluster_size
        Fewest incidents (total weight) a hotspot may hold; at least 2.
    min_samples
        Incidents (total weight, a point's own included) that define a point's core
        distance; ``None`` means ``min_cluster_size``, as in scikit-learn.
    weights
        Non-negative weight per row (default 1); a weight of 3 counts as three incidents.

    Returns
    -------
    ndarray of int64
        Hotspot of each row, ``-1`` for noise; hotspots numbered ``0, 1, ...`` in the order
        of their first row.

    Notes
    -----
    **Which clustering.** HDBSCAN* (excess-of-mass selection, the root never a cluster) of
    the unique map points weighted by their incidents:

    * a map point's core distance is the distance within which ``min_samples`` incidents
      lie, its own included (:func:`k_distance`), so density counts incidents;
    * ``min_cluster_size`` and every cluster's mass and stability count incidents;
    * a map point is indivisible: when it stands alone as a cluster, its incidents leave
      that cluster at once, so a lone map point adds no stability of its own.

    Wherever no map point alone holds ``min_cluster_size`` incidents, this is exactly
    HDBSCAN of the raw incidents (each row repeated by its weight): what
    ``sklearn.cluster.HDBSCAN(min_cluster_size, min_samples).fit(rows)`` gives, except
    where two merges happen at one distance (sklearn's binary tree then depends on its edge
    order; here everything that joins at one distance joins at once, as in the level-set
    definition). It differs where a map point holds ``min_cluster_size`` incidents: among
    the raw rows the copies of such a point stay together down to distance 0 when it
    holds ``min_samples`` of them, an infinitely dense and infinitely stable cluster, so
    HDBSCAN of the rows cuts a street of busy map points into one hotspot per map point
    (an artefact of police.uk snapping incidents to anonymous points). Here such a street
    stays one hotspot; a busy map point far from others is still a hotspot of its own.
    Weights need not be integers.

    It is not ``fast_hdbscan.HDBSCAN().fit(unique_xy, sample_weight=counts)`` either: in
    fast_hdbscan 0.3 the weighted core distances are computed from distances but then used
    as squared distances (a 120 m core distance enters as its square root, 11 m), so
    density hardly matters there: DESIGN.md measured 2% noise against 43% for the raw
    points.

    **How.** On the unique map points: weighted core distances from a k-d tree; the exact
    minimum spanning tree of the mutual-reachability graph from a candidate edge set that
    provably contains one (see ``_mreach_mst``); then scikit-learn's single-linkage,
    condensed-tree and excess-of-mass steps with masses for counts. Only scipy: no numba,
    no JIT compilation on the first call (Waltham Forest 2016, 24,774 incidents on 1,608
    map points: 0.04 s, against 1.7 s for scikit-learn on the raw rows).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> xy = np.concatenate([rng.normal(0, 10, (60, 2)), rng.normal(500, 10, (60, 2)),
    ...                      rng.uniform(-300, 800, (10, 2))])
    >>> labels = hdbscan_labels(xy, min_cluster_size=20, min_samples=10)
    >>> sorted(set(labels[:60].tolist())), sorted(set(labels[60:120].tolist()))
    ([0], [1])
    """
    min_cluster_size = _check_int("min_cluster_size", min_cluster_size, 2)
    if min_samples is None:
        min_samples = min_cluster_size
    min_samples = _check_int("min_samples", min_samples, 1)
    pts = _check_xy(xy)
    w = _check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.empty(0, dtype=np.int64)
    codes, uxy, uw = _dedupe(pts, w)
    total = float(uw.sum())
    if len(uxy) < 2 or total < min_samples or total < min_cluster_size:
        return np.full(len(pts), -1, dtype=np.int64)

    order = _morton_order(uxy, 1.0 + float(np.ptp(uxy, axis=0).max()) / 1024)
    sxy, sw = uxy[order], uw[order]
    tree = cKDTree(sxy, balanced_tree=False, compact_nodes=False)
    core_dist = _weighted_kth_distance(tree, sxy, sw, min_samples)
    a, b, dist = _mreach_mst(sxy, core_dist, tree)
    labels_s = _hdbscan_from_mst(a, b, dist, sw, min_cluster_size)
    labels_u = np.empty(len(uxy), dtype=np.int64)
    labels_u[order] = labels_s
    rows = labels_u[codes]
    # Number hotspots by first row appearance.
    clustered = rows >= 0
    if clustered.any():
        renum, _ = pd.factorize(rows[clustered])
        rows[clustered] = renum
    return rows


def _pairs_within(
    tree: cKDTree, pts: NDArray[np.float64], radius: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All (p, q), p != q, with ``|p - q| <= radius[p]`` (points are the tree's own)."""
    rows_out: list[NDArray[np.intp]] = []
    cols_out: list[NDArray[np.intp]] = []
    n = tree.n
    todo = np.arange(n)
    n_nb = min(n, 16)
    while todo.size:
        chunk = max(1, (1 << 22) // n_nb)
        unfinished = []
        for start in range(0, todo.size, chunk):
            rows = todo[start : start + chunk]
            dist, nb = tree.query(pts[rows], k=n_nb, workers=-1)
            dist = dist.reshape(len(rows), n_nb)
            nb = nb.reshape(len(rows), n_nb)
            more = (dist[:, -1] <= radius[rows]) & (n_nb < n)  # maybe more within reach
            rr, cc = np.nonzero((dist <= radius[rows, None]) & ~more[:, None])
            rows_out.append(rows[rr])
            cols_out.append(nb[rr, cc])
            unfinished.append(rows[more])
        todo = np.concatenate(unfinished)
        n_nb = min(n, 2 * n_nb)
    near = np.concatenate(rows_out)
    far = np.concatenate(cols_out)
    off_diagonal = near != far
    return near[off_diagonal], far[off_diagonal]


def _delaunay_edges(pts: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Edges of a Delaunay triangulation of ``pts`` (all pairs of three or fewer points);
    they contain a Euclidean minimum spanning tree."""
    m = len(pts)
    if m <= 3:
        a, b = np.triu_indices(m, k=1)
        return a.astype(np.intp), b.astype(np.intp)
    for options in (None, "QJ"):
        try:
            tri = Delaunay(pts, qhull_options=options)
        except QhullError:
            continue
        s = tri.simplices
        a = np.concatenate([s[:, 0], s[:, 1], s[:, 2]])
        b = np.concatenate([s[:, 1], s[:, 2], s[:, 0]])
        return a.astype(np.intp), b.astype(np.intp)
    # Qhull refuses only (near-)collinear input: then neighbours along the line suffice.
    line = np.lexsort((pts[:, 1], pts[:, 0]))
    return line[:-1].astype(np.intp), line[1:].astype(np.intp)


def _gap(pts: NDArray[np.float64], a: NDArray[np.intp], b: NDArray[np.intp]) -> NDArray[np.float64]:
    """Distance between points ``a`` and ``b``, computed as cKDTree does (so ties stay ties)."""
    dx = pts[a, 0] - pts[b, 0]
    dy = pts[a, 1] - pts[b, 1]
    return np.sqrt(dx * dx + dy * dy)


def _mreach_mst(
    pts: NDArray[np.float64], core_dist: NDArray[np.float64], tree: cKDTree
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Exact minimum spanning tree of the mutual-reachability graph of distinct points.

    ``mreach(p, q) = max(core_p, core_q, |p - q|)``. Candidate edges: every pair with
    ``|p - q| <= 2 max(core_p, core_q)``, plus the Delaunay edges of each level set
    ``{p : core_p <= t}`` for ``t = 0`` and ``t`` doubling from the smallest positive core
    distance to the largest. They contain an MST: take an MST edge (p, q) with
    ``t* = max(core_p, core_q)``. If ``|p - q| <= 2 t*`` it is a candidate. Otherwise take
    the first level ``t >= t*`` (so ``t <= 2 t* < |p - q|``); p and q are in its level set,
    whose Euclidean MST joins them by a path of edges no longer than ``|p - q|`` between
    points of core distance ``<= t``, i.e. of mutual reachability ``<= |p - q|`` =
    ``mreach(p, q)``; by the cycle property the path can replace the edge. Kruskal on the
    candidates (scipy) then gives an MST of the whole graph.
    """
    n = len(pts)
    radius = _MST_RADIUS_FACTOR * core_dist
    p, q = _pairs_within(tree, pts, radius)
    # Each such pair once, from its end with the larger core distance (whose radius holds it).
    own = (core_dist[p] > core_dist[q]) | ((core_dist[p] == core_dist[q]) & (p < q))
    near_a, near_b = p[own], q[own]
    del p, q, own

    finite = core_dist[np.isfinite(core_dist)]
    positive = finite[finite > 0]
    levels: list[float] = [0.0] if (finite == 0).any() else []
    if positive.size:
        t = float(positive.min())
        top = float(positive.max())
        while True:
            levels.append(t)
            if t >= top:
                break
            t = min(_MST_RADIUS_FACTOR * t, top)
    levels.append(np.inf)
    far_a: list[NDArray[np.intp]] = []
    far_b: list[NDArray[np.intp]] = []
    seen = -1
    for t in levels:
        members = np.flatnonzero(core_dist <= t)
        if members.size == seen or members.size < 2:
            continue
        seen = members.size
        a, b = _delaunay_edges(pts[members])
        a, b = members[a], members[b]
        # Keep the edges the radius pairs do not already hold, each pair once.
        longer = _gap(pts, a, b) > np.maximum(radius[a], radius[b])
        far_a.append(np.minimum(a[longer], b[longer]))
        far_b.append(np.maximum(a[longer], b[longer]))
    if far_a:
        key = pd.unique(np.concatenate(far_a).astype(np.int64) * n + np.concatenate(far_b))
        lo = np.concatenate([near_a, key // n])
        hi = np.concatenate([near_b, key % n])
    else:
        lo, hi = near_a, near_b
    reach = np.maximum(np.maximum(core_dist[lo], core_dist[hi]), _gap(pts, lo, hi))
    # scipy reads a weight of 0 as "no edge"; distinct points are at a positive distance
    # unless its square underflows (points ~1e-160 apart): give those the smallest weight.
    reach[reach == 0] = np.nextafter(0.0, 1.0)
    mst = minimum_spanning_tree(coo_array((reach, (lo, hi)), shape=(n, n))).tocoo()
    if mst.nnz != n - 1:  # pragma: no cover - the candidate graph is always connected
        raise RuntimeError("internal error: mutual-reachability candidate graph is disconnected")
    return mst.row.astype(np.intp), mst.col.astype(np.intp), mst.data.astype(np.float64)


def _hdbscan_from_mst(
    a: NDArray[np.intp],
    b: NDArray[np.intp],
    dist: NDArray[np.float64],
    mass: NDArray[np.float64],
    min_cluster_size: int,
) -> NDArray[np.int64]:
    """Single linkage -> condensed tree -> excess of mass -> label per point (-1 noise).

    scikit-learn's ``_condense_tree`` / ``_compute_stability`` / ``_get_clusters`` with
    point counts replaced by masses (weights); merges at one distance form one split; a
    point that stands alone as a cluster (mass >= min_cluster_size) has its incidents
    leave at that moment, adding nothing to the cluster's stability.
    """
    n = len(mass)
    order = np.lexsort((b, a, dist))
    ea, eb, ed = a[order].tolist(), b[order].tolist(), dist[order].tolist()

    # Single-linkage tree: node n + s merges the two roots joined by sorted edge s.
    parent = list(range(2 * n - 1))
    node_mass = mass.tolist() + [0.0] * (n - 1)
    left = [0] * (n - 1)
    right = [0] * (n - 1)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for s in range(n - 1):
        ra, rb = find(ea[s]), find(eb[s])
        node = n + s
        left[s], right[s] = ra, rb
        parent[ra] = parent[rb] = node
        node_mass[node] = node_mass[ra] + node_mass[rb]

    # Condense top-down (children always have smaller ids than their parent). Merges at
    # one distance form one split, whatever order the sorted edges put them in: the parts
    # are the nodes below that distance. A map point is indivisible: once it stands alone
    # (as a cluster of its own or as what remains of one) its incidents leave at once.
    inf = math.inf
    root = 2 * n - 2
    cluster_of = [-1] * (2 * n - 1)  # cluster a node still belongs to as a whole
    fell_from = [-1] * (2 * n - 1)  # cluster a node's points fell out of ...
    fell_at = [0.0] * (2 * n - 1)  # ... and at which lambda
    absorbed = [False] * (2 * n - 1)  # internal node merged into its parent's split
    alone_at = [0.0] * n  # lambda at which a map point became a cluster by itself
    cluster_of[root] = 0
    cl_parent = [-1]
    cl_birth = [0.0]
    cl_mass = [node_mass[root]]
    for node in range(root, n - 1, -1):
        if absorbed[node]:
            continue
        s = node - n
        if fell_from[node] >= 0:
            for child in (left[s], right[s]):
                fell_from[child] = fell_from[node]
                fell_at[child] = fell_at[node]
            continue
        cl = cluster_of[node]
        height = ed[s]
        lam = 1.0 / height if height > 0 else inf
        parts: list[int] = []
        stack = [left[s], right[s]]
        while stack:
            part = stack.pop()
            if part >= n and ed[part - n] == height:
                absorbed[part] = True
                stack.append(left[part - n])
                stack.append(right[part - n])
            else:
                parts.append(part)
        big = [part for part in parts if node_mass[part] >= min_cluster_size]
        for part in parts:
            if part < n:
                alone_at[part] = lam
            if part in big and len(big) == 1:
                cluster_of[part] = cl
            elif part in big:
                cluster_of[part] = len(cl_parent)
                cl_parent.append(cl)
                cl_birth.append(lam)
                cl_mass.append(node_mass[part])
            else:
                fell_from[part] = cl
                fell_at[part] = lam

    # Points: where they left which cluster.
    point_cluster = np.empty(n, dtype=np.int64)
    point_lambda = np.empty(n, dtype=np.float64)
    for p in range(n):
        if fell_from[p] >= 0:
            point_cluster[p] = fell_from[p]
            point_lambda[p] = fell_at[p]
        else:  # the point alone is (what remains of) a cluster: it adds no excess of mass
            point_cluster[p] = cluster_of[p]
            point_lambda[p] = alone_at[p]

    # Stability: sum over what leaves each cluster of (lambda - birth) * mass.
    n_cl = len(cl_parent)
    births = np.asarray(cl_birth)
    stability = np.zeros(n_cl)
    has_mass = mass > 0
    with np.errstate(invalid="ignore"):
        np.add.at(
            stability,
            point_cluster[has_mass],
            (point_lambda[has_mass] - births[point_cluster[has_mass]]) * mass[has_mass],
        )
    cl_parent_arr = np.asarray(cl_parent)
    child_rows = np.arange(1, n_cl)
    np.add.at(
        stability,
        cl_parent_arr[child_rows],
        (births[child_rows] - births[cl_parent_arr[child_rows]]) * np.asarray(cl_mass)[1:],
    )

    # Excess of mass, leaves first (cluster ids grow downwards); the root is never chosen.
    children: list[list[int]] = [[] for _ in range(n_cl)]
    for c in range(1, n_cl):
        children[cl_parent[c]].append(c)
    selected = [True] * n_cl
    selected[0] = False
    stab = stability.tolist()
    for c in range(n_cl - 1, 0, -1):
        subtree = sum(stab[ch] for ch in children[c])
        if subtree > stab[c]:
            selected[c] = False
            stab[c] = subtree
        else:
            stack = list(children[c])
            while stack:
                d = stack.pop()
                selected[d] = False
                stack.extend(children[d])

    # Each cluster's label: itself if selected, else its nearest selected ancestor.
    label_of = [-1] * n_cl
    for c in range(1, n_cl):
        label_of[c] = c if selected[c] else label_of[cl_parent[c]]
    return np.asarray(label_of, dtype=np.int64)[point_cluster]


# -------------------------------------------------------------------------- suggestions


def neighbour_counts(
    xy: NDArray[np.float64], *, eps: float, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """For each row, the incidents (summed weights) within ``eps`` of its map point.

    This is the count DBSCAN compares with ``min_samples`` (a row's own map point included).

    >>> neighbour_counts(np.array([[0.0, 0], [0, 0], [10, 0], [100, 0]]), eps=10).tolist()
    [3.0, 3.0, 3.0, 1.0]
    """
    eps = _check_positive_float("eps", eps)
    pts = _check_xy(xy)
    w = _check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.zeros(0)
    codes, uxy, uw = _dedupe(pts, w)
    pairs = cKDTree(uxy).query_pairs(eps, output_type="ndarray")
    counts = uw.copy()
    if len(pairs):
        counts += np.bincount(pairs[:, 0], weights=uw[pairs[:, 1]], minlength=len(uxy))
        counts += np.bincount(pairs[:, 1], weights=uw[pairs[:, 0]], minlength=len(uxy))
    return counts[codes]


def suggest_min_samples(
    n_incidents: float,
    *,
    n_months: int,
    area_km2: float,
    eps: float = DEFAULT_EPS,
    xy: NDArray[np.float64] | None = None,
    weights: NDArray[np.float64] | None = None,
    busier_than: float = BUSIER_THAN,
) -> Suggestion:
    """Suggest ``min_samples`` for DBSCAN from how many incidents fall where, and when.

    Rule: the largest of

    * the floor of 5 incidents, and one incident per month analysed;
    * ``3 x`` the incidents an average disc of radius ``eps`` holds over the study area and
      the months analysed (``n / area * pi eps^2``): a hotspot must be well above uniform;
    * when ``xy`` is given, the count within ``eps`` that ``busier_than`` (0.75) of all
      incidents do not exceed (:func:`neighbour_counts`, weighted by incidents): a core map
      point must be busier than the neighbourhood of three incidents in four. This keeps
      hotspots to the busiest places where crime is dense everywhere (a city centre), where
      the area rule alone depends on how far the study area reaches.

    Every part grows with the incidents and months analysed, so a year of a whole city does
    not make every map point a core point.

    Parameters
    ----------
    n_incidents
        Incidents (or total weight) analysed.
    n_months
        Months the incidents span.
    area_km2
        Study area in square kilometres (e.g. the wards or the incidents' extent); an
        area of 0 (all incidents on one spot or one line) counts as one disc.
    eps
        The DBSCAN radius in metres the suggestion is for.
    xy, weights
        The incidents' coordinates (and weights), for the neighbourhood-count rule.
    busier_than
        Share of incidents whose neighbourhood a core point must exceed, in (0, 1).

    Returns
    -------
    Suggestion
        ``value`` an int; ``reason`` names the incidents, months, area and the rule used.

    Notes
    -----
    On real data.police.uk data at the suggested eps: City of London 2018-04..2019-12
    (15,400 incidents, eps 140 m) gives 619 and 4 hotspots holding 46% of incidents with
    PAIs of 20-29; Waltham Forest 2016-01..2017-06 (38,541 incidents, eps 180 m) gives 311
    and 23 hotspots holding 44%.

    Examples
    --------
    >>> s = suggest_min_samples(24_000, n_months=12, area_km2=39.0)
    >>> s.value
    131
    >>> suggest_min_samples(300, n_months=3, area_km2=39.0).value
    5
    """
    if isinstance(n_incidents, bool) or not isinstance(n_incidents, numbers.Real):
        raise ParameterError(
            f"n_incidents must be a number of incidents, got {n_incidents!r}; e.g. 24000."
        )
    n = float(n_incidents)
    if not math.isfinite(n) or n < 0:
        raise ParameterError(f"n_incidents must be 0 or more, got {n_incidents!r}.")
    months = _check_int("n_months", n_months, 1)
    if isinstance(area_km2, bool) or not isinstance(area_km2, numbers.Real):
        raise ParameterError(f"area_km2 must be a number of km², got {area_km2!r}.")
    area = float(area_km2)
    if not math.isfinite(area) or area < 0:
        raise ParameterError(f"area_km2 must be 0 or more km², got {area_km2!r}.")
    eps = _check_positive_float("eps", eps)
    if not (0.0 < float(busier_than) < 1.0):
        raise ParameterError(f"busier_than must be between 0 and 1, got {busier_than!r}.")
    disc_km2 = math.pi * (eps / 1000.0) ** 2
    # An area no bigger than one disc (e.g. the hull of points on one street) holds them all.
    expected = n * min(1.0, disc_km2 / area) if area > 0 else n
    # ... and no rule may ask for more incidents than there are.
    by_density = min(math.ceil(_DENSITY_FACTOR * expected - 1e-9), math.ceil(n))
    by_quantile = 0
    if xy is not None and len(xy):
        counts = neighbour_counts(xy, eps=eps, weights=weights)
        w = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
        order = np.argsort(counts, kind="stable")
        cum = np.cumsum(w[order])
        at = int(np.searchsorted(cum, float(busier_than) * cum[-1]))
        by_quantile = math.ceil(float(counts[order][min(at, len(order) - 1)]) - 1e-9)
    value = max(MIN_SAMPLES_FLOOR, months, by_density, by_quantile)
    unit = "incidents" if weights is None else "units of weight"
    if value == by_quantile and by_quantile > by_density:
        why = (
            f"busier than the {eps:g} m neighbourhood of {busier_than:.0%} of all incidents, "
            f"which is above {_DENSITY_FACTOR:g} times the {expected:,.1f} an average spot holds"
        )
    elif value == by_density and by_density < _DENSITY_FACTOR * expected - 1e-9:
        why = f"all {n:,.0f} {unit}: the area is hardly bigger than one {eps:g} m radius"
    elif value == by_density:
        why = (
            f"{_DENSITY_FACTOR:g} times the {expected:,.1f} {unit} an average "
            f"{eps:g} m radius holds"
        )
    elif value == months:
        why = f"at least one incident a month over the {months} months analysed"
    else:
        why = f"the floor of {MIN_SAMPLES_FLOOR} incidents"
    reason = (
        f"{n:,.0f} {unit} over {months} month{'s' if months != 1 else ''} in "
        f"{area:,.1f} km²; a hotspot core needs {value:,} {unit} within {eps:g} m ({why})."
    )
    log.info("suggested min_samples=%d: %s", value, reason)
    return Suggestion(value=int(value), reason=reason)


def _ordinal(k: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd`` ..."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _knee_index(curve: NDArray[np.float64]) -> int:
    """Index of the point of ``curve`` (sorted ascending) farthest below its chord."""
    m = len(curve)
    x = np.linspace(0.0, 1.0, m)
    span = curve[-1] - curve[0]
    if span <= 0:
        return m // 2
    y = (curve - curve[0]) / span
    return int(np.argmax(x - y))


def map_point_spacing(xy: NDArray[np.float64], *, k: int = 4) -> NDArray[np.float64]:
    """Distance from each unique map point to its ``k``-th nearest other map point, sorted.

    The k-distance curve of the map points themselves (not counting incidents): how far
    apart the places are where incidents can be recorded. This is the curve
    :func:`suggest_eps` finds the knee of and the app charts.
    """
    k = _check_int("k", k, 1)
    pts = _check_xy(xy)
    _, uxy, _ = _dedupe(pts, None) if len(pts) else (None, pts, None)
    if len(uxy) <= k:
        return np.zeros(0)
    dist, _ = cKDTree(uxy).query(uxy, k=k + 1)
    return np.sort(dist[:, k])


def suggest_eps(xy: NDArray[np.float64], *, k: int = 4) -> Suggestion:
    """Suggest DBSCAN's ``eps`` (metres): the knee of the map points' k-distance curve.

    The curve is :func:`map_point_spacing` (distance from each unique map point to its
    ``k``-th nearest map point; k = 4 as Ester et al. recommend for 2-D data). Its knee,
    the point farthest below the chord (Kneedle), is where the spacing of map points along
    the street network gives way to isolated points; a radius of that size spans a map
    point's few nearest neighbours, so DBSCAN compares like with like whatever the volume
    of incidents (which :func:`suggest_min_samples` then accounts for). The sparsest 10% of
    map points (outskirts, crimes recorded far away) are left out of the curve; the value
    is rounded to the metre and kept within 50-250 m (street scale).

    Why not the k-distance of incidents with k = ``min_samples``: data.police.uk stacks
    many incidents on each map point, and at a hotspot-level ``min_samples`` that curve's
    knee lies where most map points are already core points, so DBSCAN joins most of a
    borough into one cluster.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident.
    k
        Which nearest map point the spacing is measured to.

    Returns
    -------
    Suggestion
        ``value`` in metres (a float); ``reason`` says what the curve showed.

    Examples
    --------
    >>> grid = np.array([[x, y] for x in range(0, 3000, 100) for y in range(0, 3000, 100)])
    >>> suggest_eps(grid.astype(float)).value
    100.0
    """
    k = _check_int("k", k, 1)
    pts = _check_xy(xy)
    lo, hi = EPS_RANGE
    curve = map_point_spacing(pts, k=k)
    if curve.size < 10:
        return Suggestion(
            value=DEFAULT_EPS,
            reason=(
                f"Fewer than 10 map points with {k} neighbours, so there is no k-distance "
                f"curve to read; the default {DEFAULT_EPS:g} m is suggested."
            ),
        )
    body = curve[curve <= np.quantile(curve, 0.9)]
    knee = float(body[_knee_index(body)])
    value = float(min(max(round(knee), lo), hi))
    share = float(np.mean(curve <= value))
    found = (
        f"The distance from each of the {len(curve):,} map points to its {_ordinal(k)} "
        f"nearest map point bends upward at {knee:,.0f} m"
    )
    if knee < lo:
        reason = f"{found}, below the {lo:g} m street-scale minimum, so {value:g} m is suggested"
    elif knee > hi:
        reason = f"{found}, above the {hi:g} m street-scale maximum, so {value:g} m is suggested"
    else:
        reason = f"{found}, so {value:g} m is suggested"
    reason += f" ({share:.0%} of map points have {k} others within {value:g} m)."
    log.info("suggested eps=%g m: %s", value, reason)
    return Suggestion(value=value, reason=reason)
