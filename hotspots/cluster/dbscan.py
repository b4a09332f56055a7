"""DBSCAN of incident points on metre coordinates, and the k-distance curve.

* :func:`dbscan_labels` returns, element for element, the labels and core mask of
  ``sklearn.cluster.DBSCAN(eps=eps, min_samples=min_samples).fit(xy, sample_weight=weights)``
  (clusters numbered in the order of their first core row, a border row taking the lowest
  label among the clusters that reach it), at a fraction of its time and memory.
* :func:`neighbour_counts` gives the weight DBSCAN compares with ``min_samples``;
  :func:`k_distance` the sorted distance from each map point to its k-th nearest incident
  (:func:`weighted_kth_distance` is the same per point, HDBSCAN's core distance).

Every function first reduces the rows to their unique map points with summed weights
(:func:`hotspots._points.unique_points`), works on those, and maps the result back to the
rows. Row weights behave exactly like repeated rows. Distances are in the units of ``xy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .._memo import KeptResults, digest
from .._points import morton_order, unique_points
from .._validate import check_int, check_positive_float, check_weights, check_xy
from ..errors import ParameterError
from . import pairs as pair_module
from .pairs import NeighbourPairs

__all__ = ["dbscan_labels", "k_distance", "neighbour_counts", "weighted_kth_distance"]

#: Most bytes of neighbourhoods kept between calls (:func:`_neighbourhood`).
_NEAR_BYTES = 128 * 2**20


def dbscan_labels(
    xy: NDArray[np.float64],
    *,
    eps: float,
    min_samples: int,
    weights: NDArray[np.float64] | None = None,
    distinct: bool = False,
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
    distinct
        The rows are distinct points already (a ``MapPoints``' map points with their
        counts): taken as they are, without looking for repeated rows.

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
    eps = check_positive_float(eps, "eps")
    min_samples = check_int(min_samples, "min_samples", minimum=1)
    pts = check_xy(xy)
    w = check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)

    if distinct:
        uw = np.ones(len(pts)) if w is None else w
        return _dbscan_unique(pts, uw, eps=eps, min_samples=min_samples)
    codes, uxy, uw = unique_points(pts, w)
    labels_u, core_u = _dbscan_unique(uxy, uw, eps=eps, min_samples=min_samples)
    return labels_u[codes], core_u[codes]


def _dbscan_unique(
    uxy: NDArray[np.float64],
    uw: NDArray[np.float64],
    *,
    eps: float,
    min_samples: int,
    budget: int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """DBSCAN of distinct points with weights; labels numbered by point index order.

    The neighbour pairs come in pieces of at most ``budget`` (:class:`NeighbourPairs`): one
    piece for sparse points, slices of rows found again in each pass for dense ones.
    """
    n = len(uxy)
    near = _neighbourhood(uxy, uw, eps, budget)
    order, pairs = near.order, near.pairs
    core = near.weight >= min_samples
    component = _core_components(pairs, core)

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
        for i, j in pairs:
            core_i, core_j = core[i], core[j]
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


@dataclass(frozen=True)
class _Near:
    """Distinct points' neighbourhoods within one distance: the points' Z-order, the
    neighbour pairs of the points in that order, and each ordered point's weight within the
    distance (its own included)."""

    order: NDArray[np.intp]
    pairs: NeighbourPairs
    weight: NDArray[np.float64]

    @property
    def nbytes(self) -> int:
        """About the bytes kept: the pairs, and the tree (~100 bytes a point)."""
        return self.pairs.nbytes + len(self.order) * 100


# Neighbourhoods kept by their points, weights and distance: the suggested min_samples and
# DBSCAN at that distance read the same one, as do the tuning's candidates of one distance.
_NEAR: KeptResults[_Near] = KeptResults(_NEAR_BYTES, weigh=lambda near: near.nbytes)


def _neighbourhood(
    uxy: NDArray[np.float64], uw: NDArray[np.float64], eps: float, budget: int | None
) -> _Near:
    """The neighbourhoods of distinct points ``uxy`` with weights ``uw`` within ``eps``,
    worked out once for the same input (:data:`_NEAR`)."""
    # the budget as it is now (a test may lower the module's): it decides how pairs are held
    budget = pair_module.PAIR_BUDGET if budget is None else budget
    key = (digest(uxy.tobytes()), digest(uw.tobytes()), float(eps), budget)

    def work_out() -> _Near:
        order = morton_order(uxy, eps)  # spatial order: compact slices when pairs are sliced
        sxy = uxy[order]
        tree = cKDTree(sxy, leafsize=16, balanced_tree=False, compact_nodes=False)
        pairs = NeighbourPairs(tree, eps, budget=budget)
        weight = _weight_near(pairs, uw[order])
        for array in (order, weight):
            array.flags.writeable = False
        return _Near(order, pairs, weight)

    return _NEAR.one(key, work_out)


def _weight_near(pairs: NeighbourPairs, w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each point's own weight plus its neighbours' (the weight DBSCAN's core test reads)."""
    near = w.copy()
    for i, j in pairs:
        near += np.bincount(i, weights=w[j], minlength=len(w))
        near += np.bincount(j, weights=w[i], minlength=len(w))
    return near


def _core_components(pairs: NeighbourPairs, core: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Connected components of the core points through their core-core pairs (every point a
    node; a point that is not core is a component of its own)."""
    n = len(core)
    component: NDArray[np.int32] | None = None
    for i, j in pairs:
        both = core[i] & core[j]
        if component is None:
            # the first piece's pairs are distinct: nothing to sum, skip the sort
            graph = coo_array((np.ones(int(both.sum())), (i[both], j[both])), shape=(n, n))
            graph.has_canonical_format = True
            _, component = connected_components(graph.tocsr(), directed=True, connection="weak")
            continue
        # later pieces join the components found so far
        a, b = component[i[both]], component[j[both]]
        apart = a != b
        graph = coo_array((np.ones(int(apart.sum())), (a[apart], b[apart])), shape=(n, n))
        _, joined = connected_components(graph.tocsr(), directed=True, connection="weak")
        component = joined[component]
    if component is None:
        return np.arange(n, dtype=np.int32)
    return component


# -------------------------------------------------------------------------- k-distance


def weighted_kth_distance(
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
    k = check_int(k, "k", minimum=1)
    pts = check_xy(xy)
    w = check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.empty(0, dtype=np.float64)
    _, uxy, uw = unique_points(pts, w)
    total = float(uw.sum())
    if total < k:
        raise ParameterError(
            f"k={k} is more than the {total:g} incidents given; choose k <= {math.floor(total)}."
        )
    order = morton_order(uxy, 1.0 + float(np.ptp(uxy, axis=0).max()) / 1024)
    tree = cKDTree(uxy[order], balanced_tree=False, compact_nodes=False)
    dist = weighted_kth_distance(tree, uxy[order], uw[order], k)
    return np.sort(dist)


def neighbour_counts(
    xy: NDArray[np.float64], *, eps: float, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """For each row, the incidents (summed weights) within ``eps`` of its map point.

    This is the count DBSCAN compares with ``min_samples`` (a row's own map point included).

    >>> neighbour_counts(np.array([[0.0, 0], [0, 0], [10, 0], [100, 0]]), eps=10).tolist()
    [3.0, 3.0, 3.0, 1.0]
    """
    codes, counts, _ = point_neighbour_counts(xy, eps=eps, weights=weights)
    return counts[codes]


def point_neighbour_counts(
    xy: NDArray[np.float64], *, eps: float, weights: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`neighbour_counts` per distinct map point: each row's point code, each point's
    count within ``eps`` and its own incidents (summed weights), as
    :func:`hotspots._points.unique_points` numbers the points.

    >>> codes, counts, own = point_neighbour_counts(np.array([[0.0, 0], [0, 0], [30, 0]]), eps=10)
    >>> codes.tolist(), counts.tolist(), own.tolist()
    ([0, 0, 1], [2.0, 1.0], [2.0, 1.0])
    """
    eps = check_positive_float(eps, "eps")
    pts = check_xy(xy)
    w = check_weights(weights, len(pts))
    if len(pts) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros(0)
    codes, uxy, uw = unique_points(pts, w)
    near = _neighbourhood(uxy, uw, eps, None)
    counts = np.empty(len(uxy))
    counts[near.order] = near.weight
    return codes, counts, uw
