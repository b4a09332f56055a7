"""Neighbour pairs within a distance, in pieces of bounded size.

DBSCAN and the neighbour counts need every pair of map points within ``eps``. Where points
are sparse (a year of snapped data.police.uk points at the suggested distances) that is a few
pairs a point and :meth:`scipy.spatial.cKDTree.query_pairs` gives them all at once, fastest.
Where they are dense (unsnapped or jittered points, a large distance tried by the tuning) the
pairs grow with the square of the density: 350,000 points a few kilometres across at 300 m
are half a billion pairs, more memory than the machine has. :class:`NeighbourPairs` then gives
the same pairs a slice of rows at a time, each slice holding at most ``budget`` pairs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["PAIR_BUDGET", "NeighbourPairs"]

#: Most neighbour pairs held at once: a slice costs ~130 bytes a pair while it is found and
#: used (scipy's records and their copy, the index columns, the weights), so ~0.5 GB.
PAIR_BUDGET = 4_000_000
# Points whose neighbourhoods estimate the total number of pairs.
_SAMPLE = 4096


def _estimated_pairs(tree: cKDTree, xy: NDArray[np.float64], eps: float) -> float:
    """The number of pairs within ``eps``, from an evenly spread sample of the points."""
    step = max(1, len(xy) // _SAMPLE)
    sample = xy[::step]
    near = tree.query_ball_point(sample, eps, return_length=True) - 1
    return float(near.mean()) * len(xy) / 2


class NeighbourPairs:
    """Every pair ``(i, j)``, ``i < j``, of a tree's points at most ``eps`` apart, once, as
    pieces ``(i, j)`` of index arrays; iterate as often as needed.

    One piece (``query_pairs``, kept) when the estimated total fits ``budget`` (default
    :data:`PAIR_BUDGET`); else slices of consecutive rows holding at most ``budget`` pairs
    each (a row with more neighbours than that gets a slice of its own), found again at each
    iteration. Points in a spatial order (Z-order) keep the slices compact.

    >>> xy = np.array([[0.0, 0], [1, 0], [2, 0], [10, 0]])
    >>> pairs = NeighbourPairs(cKDTree(xy), 1.0, budget=1)
    >>> pairs.pieces, sorted((int(a), int(b)) for i, j in pairs for a, b in zip(i, j))
    (4, [(0, 1), (1, 2)])
    """

    def __init__(self, tree: cKDTree, eps: float, *, budget: int | None = None) -> None:
        budget = PAIR_BUDGET if budget is None else budget
        self.tree = tree
        self.eps = float(eps)
        xy = np.asarray(tree.data)
        n = len(xy)
        self._whole: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None
        self._bounds: list[int] = []
        if n < 2:
            empty = np.zeros(0, dtype=np.intp)
            self._whole = (empty, empty)
        elif _estimated_pairs(tree, xy, eps) <= budget:
            pairs = tree.query_pairs(eps, output_type="ndarray")
            index = np.int32 if n < 2**31 else np.int64
            self._whole = (pairs[:, 0].astype(index), pairs[:, 1].astype(index))
            for half in self._whole:  # shared by every caller of a kept neighbourhood
                half.flags.writeable = False
        else:
            # each row's neighbours (itself included), counted without being listed
            ends = np.cumsum(tree.query_ball_point(xy, eps, return_length=True, workers=-1))
            self._bounds = [0]
            while self._bounds[-1] < n:
                start = self._bounds[-1]
                before = int(ends[start - 1]) if start else 0
                stop = int(np.searchsorted(ends, before + budget, side="right"))
                self._bounds.append(max(start + 1, stop))

    @property
    def nbytes(self) -> int:
        """The bytes the pairs held take (none when they come in slices, found again)."""
        return 0 if self._whole is None else sum(a.nbytes for a in self._whole)

    @property
    def pieces(self) -> int:
        """How many pieces an iteration yields."""
        return 1 if self._whole is not None else len(self._bounds) - 1

    def __iter__(self) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        if self._whole is not None:
            yield self._whole
            return
        xy = np.asarray(self.tree.data)
        for start, stop in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            found = cKDTree(xy[start:stop]).sparse_distance_matrix(
                self.tree, self.eps, output_type="ndarray"
            )
            i = found["i"].astype(np.intp) + start
            j = found["j"].astype(np.intp)
            del found
            keep = i < j
            yield i[keep], j[keep]
