"""Small-count disclosure control for the pilot page: which months and totals to hide.

The rules of :mod:`hotspots.disclosure` (a count of 1 to ``threshold - 1`` is never
published, nor a figure it can be worked out from) applied to an operation's monthly counts:
:func:`withheld_months`, :func:`hidden_totals`, :func:`disclosed_monthly` and
:func:`protect_pilot`, as a :class:`PilotDisclosure`. Numbers and frames in, decisions out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .disclosure import is_small

__all__ = [
    "PilotDisclosure",
    "disclosed_monthly",
    "hidden_totals",
    "protect_pilot",
    "withheld_months",
]


def withheld_months(raw: np.ndarray, small: np.ndarray, threshold: int) -> tuple[np.ndarray, bool]:
    """Months of one period to withhold besides the small ones, and whether to hide the
    period's total too.

    The period's total is published (table, rate, mean line) unless it is itself small, and
    with it the sum of the months not plotted. Months that are all small cannot be hidden
    behind that sum: two months of "fewer than 5" adding up to 8 are 4 and 4. So the hidden
    months must include one of ``threshold`` or more: the smallest larger month of the
    period is withheld too (secondary suppression). A reader then knows the hidden months'
    sum, that the withheld month is at least ``threshold`` and at most the smallest larger
    month still shown. When that sum is under ``2 * threshold`` or still pins the small
    months down (their sum forced to its least or greatest value, or a lone small month
    forced), or the period has no larger month, the total (and its mean) is hidden as well.

    The choice follows only the hidden sum, which the reader sees when the total is shown,
    and the withheld month stays withheld when the total is hidden: were it shown, the rule
    run again on it would tell them the sum (``[1, 5]``: the total hidden beside a 5 shown
    would say the small month is 1).

    Returns
    -------
    tuple
        The months to withhold (a boolean array like ``raw``) and whether to hide the total.

    Examples
    --------
    >>> s = lambda v: withheld_months(np.array(v, float), (np.array(v) > 0) & (np.array(v) < 5), 5)
    >>> s([4, 4])  # 8 over two small months would be 4 + 4: hide the total
    (array([False, False]), True)
    >>> s([2, 38, 50])  # 38 is withheld with the 2: 40 over the two, the 2 anything from 1 to 4
    (array([False,  True, False]), False)
    >>> s([1, 5, 5])  # 1 + 5 = 6 would pin the 1: the total hidden, the first 5 withheld
    (array([False,  True, False]), True)
    >>> s([3, 0, 9])[0].tolist(), s([9, 20])  # nothing small: nothing to do
    ([False, False, True], (array([False, False]), False))
    """
    out = np.zeros(len(raw), dtype=bool)
    total = float(np.nansum(raw))
    if not small.any() or is_small(total, threshold):
        return out, False
    large = [int(i) for i in np.argsort(raw, kind="stable") if raw[i] >= threshold]
    if not large:
        return out, True
    first = large[0]
    out[first] = True
    most = float(raw[large[1]]) if len(large) > 1 else math.inf
    n_small = int(small.sum())
    hidden_sum = float(raw[small].sum() + raw[first])
    low = max(n_small, hidden_sum - most)  # the least the small months can add up to
    high = min(n_small * (threshold - 1), hidden_sum - threshold)  # the most
    pinned = low >= high and (n_small == 1 or low in (n_small, n_small * (threshold - 1)))
    return out, bool(pinned or hidden_sum < 2 * threshold)


def hidden_totals(
    monthly: pd.DataFrame, threshold: int, *, zones: Sequence[str], periods: Sequence[str]
) -> set[tuple[str, str]]:
    """The (zone, period) totals of a pilot's monthly counts hidden by :func:`withheld_months`.

    Parameters
    ----------
    monthly
        :attr:`hotspots.pilot.PilotResult.monthly` (``period`` and a column per zone).
    threshold
        Counts from 1 to ``threshold - 1`` are small.
    zones, periods
        The zone columns and the periods to check.

    Examples
    --------
    >>> m = pd.DataFrame({"period": ["before"] * 2 + ["after"] * 2, "target": [4, 4, 9, 20]})
    >>> hidden_totals(m, 5, zones=["target"], periods=["before", "after"])
    {('target', 'before')}
    """
    period = monthly["period"].astype(str).to_numpy()
    out = set()
    for zone in zones:
        raw = pd.to_numeric(monthly[zone], errors="coerce").to_numpy(dtype=float)
        for p in periods:
            sel = np.flatnonzero(period == p)
            values = raw[sel]
            small = (values > 0) & (values < threshold)
            if len(sel) and withheld_months(values, small, threshold)[1]:
                out.add((zone, p))
    return out


def disclosed_monthly(
    monthly: pd.DataFrame, threshold: int, *, zones: Sequence[str], periods: Sequence[str]
) -> pd.DataFrame:
    """What the pilot chart may plot: one row per zone and month, suppression applied.

    Parameters
    ----------
    monthly
        :attr:`hotspots.pilot.PilotResult.monthly` (``month``, ``period``, ``target``,
        ``buffer``, ``control``).
    threshold
        Counts from 1 to ``threshold - 1`` are not plotted.
    zones, periods
        The zone columns to plot and the periods of the data (a month of any other period,
        such as "missing", is not in the data); the means are of every period but "during".

    Returns
    -------
    DataFrame
        Columns ``zone``, ``month``, ``period``, ``count`` (the plotted value; NaN for a month
        missing from the data, which is a gap, and for a month not shown), ``small`` (a count
        of 1 to ``threshold - 1``, drawn as a band from 0 to the threshold), ``withheld`` (a
        larger count not shown because, with the period's published total, the small ones
        could be worked out; see :func:`withheld_months`), ``missing`` (the month is not in
        the data) and ``mean`` (the zone's monthly mean over the before or the after period,
        drawn dashed; NaN during the operation, for missing months, and when the period's total
        is itself suppressed or hidden by :func:`withheld_months`).

    Examples
    --------
    >>> m = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                   "period": ["before", "missing", "after"],
    ...                   "target": [3, 0, 7], "buffer": [0, 0, 9], "control": [50, 0, 60]})
    >>> s = disclosed_monthly(m, 5, zones=["target", "buffer", "control"],
    ...                       periods=["before", "during", "after"])
    >>> s[s["zone"] == "target"][["count", "small", "missing", "mean"]].values.tolist()
    [[nan, True, False, nan], [nan, False, True, nan], [7.0, False, False, 7.0]]
    """
    period = monthly["period"].astype(str).to_numpy()
    missing = ~np.isin(period, list(periods))
    frames = []
    for zone in zones:
        raw = pd.to_numeric(monthly[zone], errors="coerce").to_numpy(dtype=float)
        raw = np.where(missing, np.nan, raw)
        small = (raw > 0) & (raw < threshold)
        withheld = np.zeros(len(raw), dtype=bool)
        mean = np.full(len(raw), np.nan)
        for p in periods:
            sel = np.flatnonzero(period == p)
            if not len(sel):
                continue
            withheld[sel], hide_total = withheld_months(raw[sel], small[sel], threshold)
            total = float(np.nansum(raw[sel]))
            if p != "during" and not hide_total and not is_small(total, threshold):
                mean[sel] = total / len(sel)
        count = np.where(small | withheld, np.nan, raw)
        frames.append(
            pd.DataFrame(
                {
                    "zone": zone,
                    "month": pd.to_datetime(monthly["month"]).to_numpy(),
                    "period": period,
                    "count": count,
                    "small": small,
                    "withheld": withheld,
                    "missing": missing,
                    "mean": mean,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["zone"] = out["zone"].astype("str")
    out["period"] = out["period"].astype("str")
    return out


@dataclass(frozen=True)
class PilotDisclosure:
    """Which period totals of a pilot's counts table to hide (:func:`protect_pilot`).

    Attributes
    ----------
    small
        ``(zone, period)`` totals that are a small count (primary suppression).
    withheld
        ``(zone, period)`` totals hidden by :func:`withheld_months`: their months are all small,
        so the total with the number of months would give them away.
    """

    small: frozenset[tuple[str, str]]
    withheld: frozenset[tuple[str, str]]

    def hidden(self, zone: str, period: str) -> bool:
        """The total of ``zone`` in ``period`` is not printed (nor its rate)."""
        return (zone, period) in self.small or (zone, period) in self.withheld

    def change_hidden(self, zone: str) -> bool:
        """The change of ``zone`` (after against before) would reveal a hidden total."""
        return self.hidden(zone, "before") or self.hidden(zone, "after")

    @property
    def effect_hidden(self) -> bool:
        """The change beyond the control area would reveal a hidden total (of the target or
        the control area, before or after)."""
        return self.change_hidden("target") or self.change_hidden("control")


def protect_pilot(counts: pd.DataFrame, monthly: pd.DataFrame, threshold: int) -> PilotDisclosure:
    """Which totals of a pilot evaluation to hide.

    Parameters
    ----------
    counts
        :attr:`hotspots.pilot.PilotResult.counts`: a zone a row, a period a column.
    monthly
        :attr:`hotspots.pilot.PilotResult.monthly`.
    threshold
        Counts from 1 to ``threshold - 1`` are small.

    Returns
    -------
    PilotDisclosure

    Examples
    --------
    >>> counts = pd.DataFrame({"before": [8, 3], "after": [30, 40]}, index=["target", "control"])
    >>> m = pd.DataFrame({"period": ["before", "before", "after"],
    ...                   "target": [4, 4, 30], "control": [2, 1, 40]})
    >>> d = protect_pilot(counts, m, 5)
    >>> sorted(d.small), sorted(d.withheld), d.effect_hidden, d.change_hidden("target")
    ([('control', 'before')], [('target', 'before')], True, True)
    """
    zones = [str(z) for z in counts.index]
    periods = [str(p) for p in counts.columns]
    table = counts.to_numpy(dtype=float)
    small = {
        (z, p)
        for i, z in enumerate(zones)
        for j, p in enumerate(periods)
        if is_small(float(table[i, j]), threshold)
    }
    withheld = hidden_totals(monthly, threshold, zones=zones, periods=periods)
    return PilotDisclosure(small=frozenset(small), withheld=frozenset(withheld))
