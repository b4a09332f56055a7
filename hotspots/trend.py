"""Trends over time: the Mann–Kendall test, and the emerging hot spot patterns built on it.

* :func:`mann_kendall`: the Mann–Kendall test for a monotonic trend, on one series or many at
  once; :func:`hotspots.change.emerging_hotspots` runs it on every cell's Gi* z-scores and counts.
* :func:`trend_label`: "rising (p = 0.003)", "falling (...)" or "no clear trend (...)".
* :func:`compare_counts`: the exact conditional test and interval for the change between two
  Poisson counts (before and after), and :func:`change_words` to say it ("no clear change"
  when the interval includes no change); :func:`percent_interval` prints an interval without
  rounding an endpoint onto or across zero; :func:`seasonal_note` warns when two spans are
  different months of the year.
* :func:`classify_pattern`: the emerging hot spot pattern of a cell from its hot / cold series,
  by the definitions of ArcGIS Pro 3.x "How Emerging Hot Spot Analysis works" (Esri).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta, binom, norm

from .errors import ParameterError

__all__ = [
    "PATTERNS",
    "CountChange",
    "MannKendall",
    "change_percent",
    "change_words",
    "classify_pattern",
    "compare_counts",
    "mann_kendall",
    "percent_interval",
    "seasonal_note",
    "trend_label",
]

_KINDS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
#: Every pattern :func:`classify_pattern` returns.
PATTERNS = (
    *(f"{k} hot spot" for k in _KINDS),
    *(f"{k} cold spot" for k in _KINDS),
    "no pattern",
)
#: Share of the periods a cell must be significant in to be "mostly" hot (Esri: 90 percent).
_MOSTLY = 0.9


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


def trend_label(z: float, p: float, alpha: float = 0.05) -> str:
    """A Mann–Kendall result in words, with its p-value.

    Examples
    --------
    >>> trend_label(2.9, 0.0037), trend_label(-0.4, 0.69), trend_label(-4.1, 0.00004)
    ('rising (p = 0.004)', 'no clear trend (p = 0.69)', 'falling (p < 0.001)')
    """
    if not math.isfinite(p):
        return "no clear trend"
    shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
    if p <= alpha and z > 0:
        return f"rising ({shown})"
    if p <= alpha and z < 0:
        return f"falling ({shown})"
    return f"no clear trend ({shown})"


def _side(same: Sequence[bool], other: Sequence[bool], up: bool, down: bool) -> str:
    """The pattern of a cell significant on this side (hot, or cold mirrored) in the final
    period; ``up`` / ``down``: its Gi* z-score trend is significantly towards / away from it."""
    n = len(same)
    count = sum(same)
    if count >= _MOSTLY * n - 1e-9:
        return "intensifying" if up else "diminishing" if down else "persistent"
    if count == 1:
        return "new"
    run = n - next(i for i in range(n - 1, -1, -1) if not same[i]) - 1
    if run == count:  # one unbroken run up to the final period, never before it
        return "consecutive"
    return "oscillating" if any(other) else "sporadic"


def classify_pattern(
    hot: Sequence[bool],
    cold: Sequence[bool],
    *,
    trend_z: float,
    trend_p: float,
    trend_alpha: float = 0.05,
) -> str:
    """The emerging-hot-spot pattern of one cell from its series of significant periods.

    ``hot[t]`` / ``cold[t]``: the cell is a significant hot / cold spot in period ``t`` (time
    order, the last = the final time step). ``trend_z``, ``trend_p``: Mann–Kendall test of its
    Gi* z-scores. "Mostly" means in at least 90% of the ``n`` periods (all 6 of 6, 17 of 18).
    The definitions are those of ArcGIS Pro 3.x, "How Emerging Hot Spot Analysis works" (Esri;
    the same table in the ArcGIS AllSource "latest" help): every pattern but "historical" needs
    the cell hot in the final time step (ArcMap 10.x's older text let "sporadic" end cold).

    ===============  ======================================================================
    pattern          rule (hot spots; cold spots mirror it with hot and cold swapped and the
                     trend negated)
    ===============  ======================================================================
    intensifying     hot mostly, including the final step; Gi* z trend up (p <= trend_alpha)
    diminishing      hot mostly, including the final step; Gi* z trend down (p <= trend_alpha)
    persistent       hot mostly, including the final step; no significant trend
    historical       hot mostly, but not in the final step
    new              hot in the final step and never before
    consecutive      hot in one unbroken run of >= 2 steps ending with the final one, never
                     before the run, not mostly
    sporadic         hot in the final step and on and off before, never cold, not mostly
    oscillating      hot in the final step, cold in some earlier step, not mostly
    no pattern       none of the above (e.g. hot on and off but not in the final step)
    ===============  ======================================================================

    Where Esri's text lets two patterns apply they are tried in its table's order: a cell
    cold earlier and hot in the final step only is "new", hot in a final run only
    "consecutive" (not "oscillating"). Esri's "persistent" does not name the final step; a
    mostly-hot cell not hot in it is "historical", as Esri defines that pattern.

    Examples
    --------
    >>> classify_pattern([False] * 9 + [True], [False] * 10, trend_z=1.0, trend_p=0.3)
    'new hot spot'
    >>> classify_pattern([True] * 10, [False] * 10, trend_z=3.0, trend_p=0.001)
    'intensifying hot spot'
    >>> classify_pattern([False] * 10, [True] * 9 + [False], trend_z=0.5, trend_p=0.6)
    'historical cold spot'
    >>> classify_pattern([True, False, False, True, False], [False] * 5, trend_z=0, trend_p=1)
    'no pattern'
    """
    h = [bool(v) for v in hot]
    c = [bool(v) for v in cold]
    if len(h) != len(c) or not h:
        raise ParameterError("hot and cold must be equally long, non-empty series of periods.")
    if any(a and b for a, b in zip(h, c, strict=True)):
        raise ParameterError("a period cannot be both hot and cold for one cell.")
    trend = trend_p <= trend_alpha
    if h[-1]:
        return f"{_side(h, c, trend and trend_z > 0, trend and trend_z < 0)} hot spot"
    if c[-1]:
        return f"{_side(c, h, trend and trend_z < 0, trend and trend_z > 0)} cold spot"
    n = len(h)
    if sum(h) >= _MOSTLY * n - 1e-9:
        return "historical hot spot"
    if sum(c) >= _MOSTLY * n - 1e-9:
        return "historical cold spot"
    return "no pattern"


# --------------------------------------------------------------------------- two counts


@dataclass(frozen=True)
class CountChange:
    """The change between two counts, one value per pair (see :func:`compare_counts`).

    Attributes
    ----------
    change
        ``after_rate / before_rate - 1`` (0.62 = up 62%); inf when before is 0 and after not,
        NaN when both are 0.
    low, high
        The exact (Clopper–Pearson, conditional) interval of ``change`` at ``confidence``.
    p
        Exact two-sided p-value of "no change in the rate" (twice the smaller binomial tail:
        the test whose acceptance region is that interval, so ``p > 1 - confidence`` exactly
        when the interval holds 0).
    """

    change: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    p: NDArray[np.float64]


def compare_counts(
    before: ArrayLike,
    after: ArrayLike,
    *,
    before_months: float = 1.0,
    after_months: float = 1.0,
    confidence: float = 0.95,
) -> CountChange:
    """Exact conditional test and interval for the change of a Poisson rate between two spans.

    Given the total ``n = before + after``, ``after`` is binomial with probability
    ``pi = a R / (a R + b)`` (``a``, ``b`` the spans' lengths, ``R`` the rate ratio); under no
    change ``pi0 = a / (a + b)``. The Clopper–Pearson interval of ``pi`` gives that of ``R``
    (``R = pi b / ((1 - pi) a)``), and the p-value is ``min(1, 2 min(P(X <= k), P(X >= k)))``
    (Przyborowski & Wilenski 1940): the doubled smaller tail, which agrees with the interval
    (p <= 0.05 exactly when the 95% interval leaves out no change). R's ``poisson.test`` and
    scipy's ``binomtest`` sum instead the outcomes no likelier than the one seen; with spans
    of equal length the two are the same, with unequal ones this p can be up to twice theirs.

    Parameters
    ----------
    before, after
        Incident counts (whole numbers, one or many).
    before_months, after_months
        The spans' lengths (months actually covered), for a change of the monthly rate.
    confidence
        Of the interval (0.95).

    Examples
    --------
    21 incidents before and 34 after, in spans of equal length: up 62%, p = 0.105, and the
    interval holds no change.

    >>> r = compare_counts(21, 34)
    >>> round(float(r.change[0]), 3), round(float(r.p[0]), 3)
    (0.619, 0.105)
    >>> round(float(r.low[0]), 3), round(float(r.high[0]), 3)
    (-0.087, 1.936)
    """
    b = np.atleast_1d(np.asarray(before, dtype=float))
    a = np.atleast_1d(np.asarray(after, dtype=float))
    if b.shape != a.shape:
        raise ParameterError("before and after must have one count each per place.")
    if not (np.isfinite(b).all() and np.isfinite(a).all()) or (b < 0).any() or (a < 0).any():
        raise ParameterError("before and after must be counts: whole numbers of 0 or more.")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}.")
    if not (before_months > 0 and after_months > 0):
        raise ParameterError("before_months and after_months must be positive numbers of months.")
    k, n = np.round(a), np.round(a) + np.round(b)
    lengths = before_months / after_months
    tail = (1 - confidence) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        pi_low = np.where(k > 0, beta.ppf(tail, k, n - k + 1), 0.0)
        pi_high = np.where(k < n, beta.ppf(1 - tail, k + 1, n - k), 1.0)
        low = pi_low / (1 - pi_low) * lengths - 1
        high = np.where(pi_high < 1, pi_high / (1 - pi_high) * lengths - 1, np.inf)
        change = np.where(n - k > 0, k / (n - k) * lengths - 1, np.where(k > 0, np.inf, np.nan))
    pi0 = after_months / (before_months + after_months)
    p = np.minimum(1.0, 2 * np.minimum(binom.cdf(k, n, pi0), binom.sf(k - 1, n, pi0)))
    none = n == 0
    low[none], high[none], p[none] = np.nan, np.nan, 1.0
    return CountChange(change=change, low=low, high=high, p=p)


def change_percent(value: float) -> str:
    """``value`` (0.25) as a signed percentage ("+25%"), whole unless that would round it to
    zero: then to one significant digit (up to 3 decimals), "−0.05%"."""
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    digits = 0
    if value != 0 and round(100 * value) == 0:
        digits = min(3, -math.floor(math.log10(abs(100 * value))))
    text = f"{100 * value:+,.{digits}f}%"
    return text.replace("-", "−")


def percent_interval(low: float, high: float) -> str:
    """An interval of relative changes as signed percentages, "−47% to +12%".

    Endpoints are printed whole; an endpoint that would round to zero is printed to one
    significant digit (up to 3 decimals), so that an interval that excludes zero never reads
    as touching it.

    Examples
    --------
    >>> percent_interval(-0.468, -0.0005)
    '−47% to −0.05%'
    >>> percent_interval(-0.087, 1.936)
    '−9% to +194%'
    >>> percent_interval(0.004, float("inf"))
    '+0.4% to +∞'
    """
    return f"{change_percent(low)} to {change_percent(high)}"


def change_words(change: float, low: float, high: float, *, confidence: float = 0.95) -> str:
    """A change and its interval in words: "no clear change" when the interval holds 0.

    Examples
    --------
    >>> change_words(0.619, -0.087, 1.936)
    'no clear change (+62%; 95% interval −9% to +194%)'
    >>> change_words(-0.4, -0.6, -0.1)
    'down 40% (95% interval −60% to −10%)'
    >>> change_words(float("nan"), float("nan"), float("nan"))
    'none in either span'
    """
    if math.isnan(change):
        return "none in either span"
    level = f"{100 * confidence:g}% interval {percent_interval(low, high)}"
    if math.isnan(low) or low <= 0 <= high:
        return f"no clear change ({change_percent(change)}; {level})"
    if math.isinf(change):
        return f"new: none before ({level})"
    direction = "up" if change > 0 else "down"
    return f"{direction} {abs(100 * change):,.0f}% ({level})"


def seasonal_note(before: tuple[int, int], after: tuple[int, int]) -> str | None:
    """A warning when two spans (first and last month numbers, ``year * 12 + month - 1``)
    cover different months of the year, else None.

    Examples
    --------
    >>> seasonal_note((2016 * 12 + 3, 2016 * 12 + 8), (2017 * 12 + 3, 2017 * 12 + 8)) is None
    True
    >>> seasonal_note((0, 2), (3, 5))
    'the two spans are different months of the year: seasonal swings show as change'
    """
    months = [{m % 12 for m in range(first, last + 1)} for first, last in (before, after)]
    if months[0] == months[1]:
        return None
    return "the two spans are different months of the year: seasonal swings show as change"
