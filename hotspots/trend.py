"""The Mann–Kendall test for a monotonic trend, on one series or many at once.

:func:`hotspots.change.emerging_hotspots` runs it on every cell's Gi* z-scores and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from .errors import ParameterError

__all__ = ["MannKendall", "mann_kendall"]


@dataclass(frozen=True)
class MannKendall:
    """Mann–Kendall trend test results, one value per series.

    Attributes
    ----------
    s
        The statistic ``S = sum_{i<j} sign(x_j - x_i)``.
    var
        Its variance under no trend, corrected for ties.
    z
        ``(S - 1) / sqrt(var)`` if ``S > 0``, ``(S + 1) / sqrt(var)`` if ``S < 0``, else 0.
    p
        Two-sided normal p-value.
    """

    s: NDArray[np.float64]
    var: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]


def mann_kendall(series: ArrayLike) -> MannKendall:
    """Mann–Kendall test for a monotonic trend, along the last axis.

    ``var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` where ``t`` runs over the sizes of
    groups of tied values (Kendall 1975; Hipel & McLeod 1994, eq. 23.3).

    Parameters
    ----------
    series
        ``(T,)`` or ``(m, T)``: one series per row, in time order.

    Examples
    --------
    ``[1, 2, 2, 3]``: S = 5 (five rising pairs, one tie), var = (4*3*13 - 2*1*9) / 18 = 7.667,
    z = (5 - 1) / sqrt(7.667) = 1.4446.

    >>> r = mann_kendall([1, 2, 2, 3])
    >>> float(r.s[0]), round(float(r.var[0]), 3), round(float(r.z[0]), 4)
    (5.0, 7.667, 1.4446)
    """
    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError("series must be one series or a 2-d array of series (one per row).")
    if not np.isfinite(x).all():
        raise ParameterError("series must hold finite numbers; fill or drop the gaps first.")
    m, t = x.shape
    i, j = np.triu_indices(t, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    # Tie groups: runs of equal values in each sorted row.
    ties: NDArray[np.float64] = np.zeros(m)
    if t > 1:
        ordered = np.sort(x, axis=1)
        new_run = np.ones((m, t), dtype=bool)
        new_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        run_id = np.cumsum(new_run.ravel()) - 1
        sizes = np.bincount(run_id).astype(float)
        row_of_run = np.repeat(np.arange(m), new_run.sum(axis=1))
        ties = np.bincount(
            row_of_run, weights=sizes * (sizes - 1) * (2 * sizes + 5), minlength=m
        ).astype(float)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    z = np.zeros(m)
    ok = var > 0
    z[ok] = (s[ok] - np.sign(s[ok])) / np.sqrt(var[ok])
    p = 2.0 * norm.sf(np.abs(z))
    return MannKendall(s=s.astype(float), var=var, z=z, p=p)
