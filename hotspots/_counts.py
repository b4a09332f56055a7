"""Counting whole-number codes: how often each key occurs, and each row's place among the rows
of its key (what pandas' ``groupby().size()`` and ``cumcount()`` give, without a frame: a
city's millions of rows are hashed or sorted once, as numbers).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["counted", "rank_within"]


def counted(
    keys: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """The distinct ``keys`` (in first-appearance order), each row's index into them, and how
    often each occurs (hashed, not sorted).

    >>> [a.tolist() for a in counted(np.array([7, 3, 7, 7]))]
    [[7, 3], [0, 1, 0, 0], [3, 1]]
    """
    codes, distinct = pd.factorize(keys)
    return (
        np.asarray(distinct, dtype=np.int64),
        np.asarray(codes, dtype=np.intp),
        np.bincount(codes, minlength=len(distinct)).astype(np.int64),
    )


def rank_within(key: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """0 for the first row of each key, 1 for the second, ... (a numpy cumcount).

    >>> rank_within(np.array([5, 3, 5, 5, 3])).tolist()
    [0, 0, 1, 2, 1]
    """
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    rank = np.empty(key.size, dtype=np.intp)
    rank[order] = np.arange(key.size) - group_start
    return rank
