"""Euclidean minimum spanning trees of point sets: the links a hotspot's outline follows.

:func:`spanning_tree_edges` is one tree; :func:`cluster_trees` the trees of many clusters at
once, the way :mod:`hotspots.footprint` and :mod:`hotspots.tree_area` ask for them: small sets
in batches (Prim's algorithm on all distances), large ones from their Delaunay triangulation
(the tree is a subgraph of it), each remembered by its points' bytes, since a cluster's tree is
asked for its area bounds and again to draw it.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from ._validate import check_xy

__all__ = ["cluster_trees", "forget_trees", "spanning_tree_edges"]

#: Clusters of at most this many unique points get their spanning tree from all distances.
_DENSE_TREE_MAX = 48
# The spanning trees of the clusters last seen, by their points' bytes: a cluster's tree is
# asked for its area bounds and again to draw it (and by every analysis of the same
# incidents). At most _TREE_MEMO_BYTES of points are kept; then it starts afresh.
_TREE_MEMO: dict[bytes, NDArray[np.intp]] = {}
_TREE_MEMO_BYTES = 32 * 2**20
_TREE_MEMO_BYTES_USED = 0
_tree_memo_lock = threading.Lock()


def spanning_tree_edges(points: NDArray[np.float64]) -> NDArray[np.intp]:
    """The edges of the Euclidean minimum spanning tree of ``points``, as index pairs.

    ``points`` should be unique. Collinear points are handled (the tree is then the chain of
    neighbours along the line).

    Parameters
    ----------
    points
        ``(n, 2)`` array of unique x, y coordinates in metres.

    Returns
    -------
    numpy.ndarray
        ``(n - 1, 2)`` indices into ``points`` (``(0, 2)`` for fewer than two points).

    Examples
    --------
    >>> spanning_tree_edges(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 30.0]])).tolist()
    [[0, 1], [1, 2]]
    """
    return _tree(check_xy(points, "points"))


def _delaunay_tree(pts: NDArray[np.float64]) -> NDArray[np.intp]:
    """The spanning tree from the Delaunay triangulation (for many points)."""
    n = len(pts)
    centred = pts - pts.mean(axis=0)
    spread = np.linalg.svd(centred, compute_uv=False)
    if spread[1] <= 1e-9 * spread[0]:  # collinear: the tree is the chain along the line
        return _chain_edges(pts)
    try:
        tri = Delaunay(pts)
    except QhullError:  # near-degenerate input: a joggled triangulation still spans every point
        try:
            tri = Delaunay(pts, qhull_options="QJ")
        except QhullError:
            return _chain_edges(pts)
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
    # a zero-length edge (points closer than Qhull's precision) must still count as an edge
    graph = coo_matrix((np.maximum(lengths, 1e-12), (first, second)), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    if tree.nnz != n - 1:  # a degenerate triangulation left a point out: stay safe
        return _chain_edges(pts)
    edges = np.column_stack([tree.row, tree.col]).astype(np.intp)
    edges.sort(axis=1)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def _chain_edges(pts: NDArray[np.float64]) -> NDArray[np.intp]:
    """Links between neighbours along the points' principal axis (a spanning tree).

    For collinear points this chain is the minimum spanning tree; for any points it is a
    spanning tree (the last-resort answer when triangulation fails).
    """
    centred = pts - pts.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    order = np.argsort(centred @ axis, kind="stable")
    edges = np.column_stack([order[:-1], order[1:]]).astype(np.intp)
    edges.sort(axis=1)
    return edges


def cluster_trees(clouds: list[NDArray[np.float64]]) -> list[NDArray[np.intp]]:
    """:func:`spanning_tree_edges` of every point set (unchecked), remembered by its points'
    bytes (read-only); the small ones in batches of one size (Prim's run on all of them at
    once: the same edges, without a Python loop), the large ones from their triangulation."""
    out: list[NDArray[np.intp]] = [np.zeros((0, 2), dtype=np.intp)] * len(clouds)
    keys = {
        k: np.ascontiguousarray(pts, dtype=np.float64).tobytes()
        for k, pts in enumerate(clouds)
        if len(pts) >= 2
    }
    with _tree_memo_lock:  # (a cluster's tree is asked for its bounds and its drawing)
        kept = {k: _TREE_MEMO.get(key) for k, key in keys.items()}
    todo: list[int] = []
    for k, tree in kept.items():
        if tree is not None:
            out[k] = tree
        elif len(clouds[k]) > _DENSE_TREE_MAX:
            out[k] = _kept_tree(keys[k], _delaunay_tree(clouds[k]))
        else:
            todo.append(k)
    small = np.array(todo, dtype=np.intp)
    small = small[np.argsort([len(clouds[k]) for k in todo], kind="stable")]
    for batch in np.array_split(small, max(1, math.ceil(len(small) * _DENSE_TREE_MAX**2 / 2e6))):
        made = _prim_batch([clouds[k] for k in batch]) if len(batch) else []
        for k, edges in zip(batch.tolist(), made, strict=True):
            out[k] = _kept_tree(keys[k], edges.copy())  # (a copy: not the batch's array)
    return out


def _kept_tree(key: bytes, edges: NDArray[np.intp]) -> NDArray[np.intp]:
    """``edges`` remembered (read-only) as the tree of the points whose bytes are ``key``."""
    global _TREE_MEMO_BYTES_USED
    edges.flags.writeable = False
    with _tree_memo_lock:
        if _TREE_MEMO_BYTES_USED + len(key) > _TREE_MEMO_BYTES:
            _TREE_MEMO.clear()
            _TREE_MEMO_BYTES_USED = 0
        _TREE_MEMO[key] = edges
        _TREE_MEMO_BYTES_USED += len(key)
    return edges


def _prim_batch(clouds: list[NDArray[np.float64]]) -> list[NDArray[np.intp]]:
    """Prim's algorithm on all distances of several small point sets at once (ties: the
    lowest index joins first, as in :func:`_tree`)."""
    sizes = np.array([len(c) for c in clouds], dtype=np.intp)
    k, n = len(clouds), int(sizes.max())
    pts = np.zeros((k, n, 2))
    real = np.arange(n)[None, :] < sizes[:, None]
    pts[real] = np.concatenate(clouds)
    gaps = np.hypot(*(pts[:, :, None, :] - pts[:, None, :, :]).transpose(3, 0, 1, 2))
    gaps[~(real[:, :, None] & real[:, None, :])] = np.inf
    rows = np.arange(k)
    joined = ~real
    joined[:, 0] = True
    best = gaps[:, 0, :].copy()
    parent = np.zeros((k, n), dtype=np.intp)
    edges = np.zeros((k, max(n - 1, 0), 2), dtype=np.intp)
    for step in range(n - 1):
        active = step < sizes - 1
        nxt = np.argmin(np.where(joined, np.inf, best), axis=1)
        edges[:, step, 0] = parent[rows, nxt]
        edges[:, step, 1] = nxt
        joined[rows[active], nxt[active]] = True
        reach = gaps[rows, nxt]
        closer = (reach < best) & ~joined & active[:, None]
        best = np.where(closer, reach, best)
        parent = np.where(closer, nxt[:, None], parent)
    edges.sort(axis=2)
    return [edges[i, : sizes[i] - 1] for i in range(k)]


def _tree(pts: NDArray[np.float64]) -> NDArray[np.intp]:
    """The spanning tree's edges: Prim's on all distances for a few points (fast; ties go to
    the lowest index), else from the Delaunay triangulation."""
    n = len(pts)
    if n < 2:
        return np.zeros((0, 2), dtype=np.intp)
    if n > _DENSE_TREE_MAX:
        return _delaunay_tree(pts)
    gaps = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    # Prim's algorithm on all distances (ties: the lowest index joins first)
    joined = np.zeros(n, dtype=bool)
    joined[0] = True
    best = gaps[0].copy()
    parent = np.zeros(n, dtype=np.intp)
    edges = np.empty((n - 1, 2), dtype=np.intp)
    for step in range(n - 1):
        nxt = int(np.argmin(np.where(joined, np.inf, best)))
        edges[step] = (parent[nxt], nxt)
        joined[nxt] = True
        closer = (gaps[nxt] < best) & ~joined
        best[closer] = gaps[nxt][closer]
        parent[closer] = nxt
    edges.sort(axis=1)
    return edges


def forget_trees() -> None:
    """Drop the remembered trees (a benchmark's cold start)."""
    global _TREE_MEMO_BYTES_USED
    with _tree_memo_lock:
        _TREE_MEMO.clear()
        _TREE_MEMO_BYTES_USED = 0
