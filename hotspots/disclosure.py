"""Small-count disclosure control: which published figures to hide (decisions, no prose).

Everything a printable page publishes about a few people must not let a reader learn a count of
1 to ``threshold - 1`` (standard statistical disclosure control, ``threshold=5``). This module is
the one owner of those rules; the pages (:mod:`hotspots.report`) and the dashboard ask it which
cells to hide and :mod:`hotspots.report.wording` says how ("fewer than 5", "withheld").

* :func:`is_small`: the threshold test (primary suppression);
* :func:`total_exposes`: whether a printed total, less the cells shown beside it, gives away a
  small hidden cell (the briefing's count in hotspots against its hotspot table, a hotspot's
  count against its top crime types and streets);
* :func:`change_exposes`: whether a printed change with its interval could only come from
  counts of which one is small (the briefing's trend);
* :func:`protect_ward_table` (with :func:`hotspot_counts_printed`): the briefing's ward table,
  with complementary ("withheld") suppression against the totals printed on the page, as a
  :class:`WardDisclosure`;
* the pilot report's monthly chart and counts table: :mod:`hotspots.pilot_disclosure`.

Numbers and frames in, decisions out: no text is formatted here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .trend import compare_counts

__all__ = [
    "WardDisclosure",
    "change_exposes",
    "hotspot_counts_printed",
    "is_small",
    "protect_ward_table",
    "total_exposes",
]


def is_small(count: float | None, threshold: int) -> bool:
    """True for a count that must not be published: 1 .. ``threshold - 1`` (None, NaN: False).

    Parameters
    ----------
    count
        A count (a number; None or NaN when missing).
    threshold
        The least count that may be published (a whole number >= 1).

    Examples
    --------
    >>> [is_small(v, 5) for v in (None, 0, 1, 4, 4.5, 5, float("nan"))]
    [False, False, True, True, True, False, False]
    """
    return count is not None and 0 < count < threshold


def total_exposes(
    hidden: Sequence[float], bounds: Sequence[tuple[float, float]], threshold: int
) -> bool:
    """Whether printing a total lets a reader learn a small hidden cell.

    The reader takes the cells shown from the total and knows the ``hidden`` cells' sum; they
    know of each hidden cell that it lies in its ``bounds`` (1 to ``threshold - 1`` for a
    "fewer than" cell; 1 to infinity for a hotspot not listed). The total exposes when the
    hidden cells hold a small count and either add up to less than ``2 * threshold`` or let
    some cell be narrowed to one value (the ward table's rule, :func:`_protect_column`).

    Examples
    --------
    Hotspots of 30, 20 and 3 incidents, the 3 shown as "fewer than 5": 53 in hotspots gives
    it away. With an unlisted hotspot of 40 beside it, it does not.

    >>> total_exposes([3], [(1, 4)], 5), total_exposes([3, 40], [(1, 4), (1, math.inf)], 5)
    (True, False)
    >>> total_exposes([4, 4, 4], [(1, 4)] * 3, 5)  # 12 from three cells of at most 4 each
    True
    """
    small = [i for i, v in enumerate(hidden) if is_small(v, threshold)]
    if not small:
        return False
    if sum(hidden) < 2 * threshold:
        return True
    lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
    # not a cell its own label already tells ("fewer than 2" is 1, whatever the total)
    return _pinned(list(hidden), lo, hi, only=[i for i in small if hi[i] - lo[i] >= 1])


#: The most incidents before a small count after that :func:`change_exposes` tries.
_MOST_BEFORE = 100_000


def change_exposes(change: float, low: float, high: float, threshold: int) -> bool:
    """Whether a change printed with its 95% interval (whole percents, as
    :func:`hotspots.trend.change_words` prints them) could come from a small count in either
    span: the change and interval of :func:`hotspots.trend.compare_counts` for counts of 1 to
    ``threshold - 1`` in one span, and the count in the other that gives the same change,
    printed the same.

    A change of two counts pins both: ``3 -> 1`` is the only pair up to 200 printed "−67%
    (95% interval −99% to +315%)". With none before ("new"), the interval's low end pins the
    count after. Without an interval the change alone pins nothing here.

    Examples
    --------
    >>> from hotspots.trend import compare_counts
    >>> r = compare_counts(3, 1)
    >>> change_exposes(-2 / 3, float(r.low[0]), float(r.high[0]), 5)
    True
    >>> r = compare_counts(40, 60)
    >>> change_exposes(0.5, float(r.low[0]), float(r.high[0]), 5)
    False
    >>> r = compare_counts(0, 3)
    >>> change_exposes(math.inf, float(r.low[0]), float(r.high[0]), 5)
    True
    """
    printed = np.array([change, low, high], dtype=float)
    small = np.arange(1, threshold, dtype=float)
    if change == math.inf and math.isfinite(low):  # "new: none before": the interval's low end
        test = compare_counts(np.zeros(len(small), dtype=np.int64), small.astype(np.int64))
        return bool((np.round(100 * test.low) == np.round(100 * low)).any())
    if not np.isfinite(printed).all():
        return False
    shown = np.round(100 * printed)
    # the ratios after / before that print the change shown (it is rounded to a whole percent)
    lo_r, hi_r = 1.0 + (shown[0] - 0.5) / 100.0, 1.0 + (shown[0] + 0.5) / 100.0
    before: list[NDArray[np.float64]] = []
    after: list[NDArray[np.float64]] = []
    for k in small:  # a small count before: the counts after in its ratio range
        ks = np.arange(math.ceil(k * lo_r), math.floor(k * hi_r) + 1, dtype=float)
        before.append(np.full(len(ks), k))
        after.append(ks)
    for k in small:  # a small count after: the counts before in its ratio range
        top = math.floor(k / lo_r) if lo_r > 0 else _MOST_BEFORE
        ks = np.arange(max(1, math.ceil(k / hi_r)), min(top, _MOST_BEFORE) + 1)
        before.append(ks.astype(float))
        after.append(np.full(len(ks), k))
    b, a = np.concatenate(before), np.concatenate(after)
    ok = (b >= 1) & (a >= 0)
    b, a = b[ok], a[ok]
    if not len(b):
        return False
    test = compare_counts(b.astype(np.int64), a.astype(np.int64))
    their = np.round(100 * np.stack([(a - b) / b, test.low, test.high], axis=1))
    return bool((their == shown).all(axis=1).any())


# ==========================================================================================
# The briefing's ward table
# ==========================================================================================
def _pinned(
    values: list[float], lo: list[float], hi: list[float], only: Sequence[int] | None = None
) -> bool:
    """True when a reader can narrow some hidden cell (of those ``only``, else any) to one
    value.

    ``values`` are the hidden cells of one column (their sum is known from the printed total
    minus the shown cells); ``lo`` and ``hi`` are what the reader knows of each (from its label
    and from the row). A cell's possible values run from ``max(lo, total - others' hi)`` to
    ``min(hi, total - others' lo)``.
    """
    total = sum(values)
    for i in range(len(values)) if only is None else only:
        rest_lo = sum(v for j, v in enumerate(lo) if j != i)
        rest_hi = sum(v for j, v in enumerate(hi) if j != i)
        low = max(lo[i], total - rest_hi)
        high = min(hi[i], total - rest_lo)
        if high - low < 1:
            return True
    return False


def _protect_column(
    values: list[float],
    hidden: list[bool],
    bounds: list[tuple[float, float]],
    withheld_bounds: list[tuple[float, float]],
    threshold: int,
    listed: int | None = None,
    eligible: list[bool] | None = None,
) -> tuple[set[int], bool]:
    """Complementary suppression for one column checked against its printed total.

    ``values`` are all the cells that add up to the printed total (cells not shown in the
    table, such as the incidents outside every ward, included); ``hidden`` marks the cells
    already hidden (small counts and derived "–"), ``bounds`` what a reader knows of each
    hidden cell and ``withheld_bounds`` what they would know of a cell once withheld. Cells
    that are shown and at least ``threshold`` are withheld, smallest first, until the hidden
    group holds a withheld cell, totals at least ``2 * threshold`` and no hidden cell can be
    narrowed to one value (:func:`_pinned`). Only the first ``listed`` cells (all when None)
    are in the table and can be withheld, and of those only the ``eligible`` ones (a cell
    another table prints in effect, such as a ward's hotspot incidents that are one
    hotspot's count, would not stay hidden).

    Returns the indices to withhold and whether the printed total would expose a hidden cell:
    the rule not met and the hidden group's sum pinning a small cell (:func:`total_exposes`).

    >>> _protect_column([4, 4, 300, 400], [True, True, False, False],
    ...                 [(1, 4), (1, 4), (0, 0), (0, 0)], [(5, math.inf)] * 4, 5)
    ({2}, False)
    """
    withheld: set[int] = set()
    if not any(hidden):
        return withheld, False

    def ok() -> bool:
        group = [i for i in range(len(values)) if hidden[i] or i in withheld]
        if not withheld or sum(values[i] for i in group) < 2 * threshold:
            return False
        lo = [(withheld_bounds if i in withheld else bounds)[i][0] for i in group]
        hi = [(withheld_bounds if i in withheld else bounds)[i][1] for i in group]
        return not _pinned([values[i] for i in group], lo, hi)

    stop = len(values) if listed is None else listed
    candidates = sorted(
        (v, i)
        for i, v in enumerate(values[:stop])
        if not hidden[i] and v >= threshold and (eligible is None or eligible[i])
    )
    for _, i in candidates:
        if ok():
            break
        withheld.add(i)
    if ok():
        return withheld, False
    # the rule is not met (no cell left to withhold): the total exposes only when the hidden
    # group's sum lets a reader pin a small cell (12 wards of 1 to 4 adding up to 17 do not)
    group = [i for i in range(len(values)) if hidden[i] or i in withheld]
    lo = [(withheld_bounds if i in withheld else bounds)[i][0] for i in group]
    hi = [(withheld_bounds if i in withheld else bounds)[i][1] for i in group]
    return withheld, total_exposes(
        [values[i] for i in group], list(zip(lo, hi, strict=True)), threshold
    )


def hotspot_counts_printed(
    ward_hotspots: Sequence[Sequence[str]],
    labels: Sequence[str],
    hotspot_wards: Mapping[str, Sequence[str]] | None,
) -> list[bool]:
    """Per ward: are its incidents in hotspots printed, in effect, by the hotspot table?

    True when the ward lists hotspots and each of them lies in this ward alone (its wards, as
    the hotspot table prints them, are just this ward): the ward's count is then the sum of
    their counts.

    Parameters
    ----------
    ward_hotspots
        Per ward, the ids of the hotspots it lists.
    labels
        Per ward, its name as the hotspot table prints it.
    hotspot_wards
        ``{hotspot id: its wards}`` as the hotspot table prints them, or None.

    Examples
    --------
    >>> hotspot_counts_printed([["H01"], ["H02"], []], ["A", "B", "C"],
    ...                        {"H01": ["A"], "H02": ["A", "B"]})
    [True, False, False]
    """
    if not hotspot_wards:
        return [False] * len(labels)
    out = []
    for ids, label in zip(ward_hotspots, labels, strict=True):
        alone = [hotspot_wards.get(h) for h in ids]
        out.append(bool(ids) and all(w is not None and list(w) == [label] for w in alone))
    return out


@dataclass(frozen=True)
class WardDisclosure:
    """Which cells of a ward table to hide (:func:`protect_ward_table`), row by row.

    Attributes
    ----------
    small, hotspot_small
        The ward's incidents, its incidents in hotspots, are a small count (primary
        suppression).
    derived, hotspot_derived
        Hidden because they would reveal a small count: the incidents when the incidents
        outside hotspots are small and the incidents in hotspots are printed by the hotspot
        table; the incidents in hotspots when the incidents outside hotspots are small.
    withheld, hotspot_withheld
        Row numbers of counts that are not small, withheld so that a small count elsewhere in
        the column cannot be worked out from its printed total (complementary suppression).
    incidents_total_exposes, hotspot_incidents_total_exposes
        The rule could not be met (too few cells to withhold): the column's total must then
        not be printed exactly.
    """

    small: tuple[bool, ...]
    derived: tuple[bool, ...]
    withheld: frozenset[int]
    hotspot_small: tuple[bool, ...]
    hotspot_derived: tuple[bool, ...]
    hotspot_withheld: frozenset[int]
    incidents_total_exposes: bool
    hotspot_incidents_total_exposes: bool

    def incidents_hidden(self, row: int) -> bool:
        """The ward's incidents are not printed (and so neither its rate nor its share)."""
        return self.small[row] or self.derived[row] or row in self.withheld

    def share_hidden(self, row: int) -> bool:
        """The ward's share of incidents in hotspots is not printed."""
        return (
            self.incidents_hidden(row)
            or self.hotspot_small[row]
            or self.hotspot_derived[row]
            or row in self.hotspot_withheld
        )


def _row_bounds(
    hidden: Sequence[bool], derived: Sequence[bool], h_vals: Sequence[float | None], limit: int
) -> list[tuple[float, float]]:
    """What a reader knows of each hidden incidents cell (the last one: outside every ward)."""
    k = len(derived)
    return [
        ((h_vals[i] or 0.0) + 1.0, (h_vals[i] or 0.0) + limit - 1.0)
        if i < k and derived[i]
        else (1.0, limit - 1.0)
        if h
        else (0.0, 0.0)
        for i, h in enumerate(hidden)
    ]


def _small_rest(n: float | None, h: float | None, limit: int) -> bool:
    """The incidents outside hotspots (``n - h``) are a small count."""
    return n is not None and h is not None and is_small(n - h, limit)


def protect_ward_table(
    incidents: Sequence[float | None],
    hotspot_incidents: Sequence[float | None] | None = None,
    *,
    threshold: int = 5,
    incidents_outside: float = 0,
    counts_printed: Sequence[bool] | None = None,
) -> WardDisclosure:
    """Which cells of a ward table to hide, against the totals printed on the page.

    The rule for "withheld", applied to the incidents column and then to the incidents in
    hotspots column, each against its total printed on the page (the incidents analysed, the
    incidents in hotspots): the incidents outside every ward count as a cell of the incidents
    column. When any cell of a column is hidden, the hidden cells together must include a
    withheld cell, add up to at least ``2 * threshold``, and leave no hidden cell with only one
    possible value; the smallest shown cells of at least ``threshold`` are withheld until they
    do.

    Parameters
    ----------
    incidents
        Per ward, its incidents (None when missing).
    hotspot_incidents
        Per ward, its incidents in hotspots, or None when the table has no such column.
    threshold
        Counts from 1 to ``threshold - 1`` are small.
    incidents_outside
        The incidents in no ward: with the wards' counts they add up to the incidents analysed.
    counts_printed
        Per ward, whether its incidents in hotspots are printed in effect by the hotspot table
        (:func:`hotspot_counts_printed`): such a count is never withheld, and when the ward's
        incidents outside hotspots are small its incidents are hidden instead.

    Returns
    -------
    WardDisclosure

    Examples
    --------
    >>> d = protect_ward_table([4, 4, 300, 400])
    >>> d.small, sorted(d.withheld), d.incidents_total_exposes
    ((True, True, False, False), [2], False)
    >>> protect_ward_table([40], [2]).share_hidden(0)
    True
    """
    limit = threshold
    k = len(incidents)
    n_vals = list(incidents)
    has_h = hotspot_incidents is not None
    h_vals = list(hotspot_incidents) if hotspot_incidents is not None else [None] * k
    known_h = list(counts_printed) if counts_printed is not None else [False] * k
    small_n = [is_small(n, limit) for n in n_vals]
    # the incidents outside hotspots (n - hn) are small and hn is printed by the hotspot
    # table: n itself must be hidden
    derived_n = [
        known_h[i] and not small_n[i] and _small_rest(n_vals[i], h_vals[i], limit) for i in range(k)
    ]

    # the incidents column, with the incidents outside every ward as a last (unlisted) cell;
    # a withheld ward count is at least the threshold and at least its count in hotspots
    inf = math.inf
    values = [max(v or 0.0, 0.0) for v in n_vals] + [float(incidents_outside)]
    hidden = [a or b for a, b in zip(small_n, derived_n, strict=True)]
    hidden.append(is_small(incidents_outside, limit))
    bounds = _row_bounds(hidden, derived_n, h_vals, limit)
    w_bounds = [(max(float(limit), h or 0.0), inf) for h in h_vals] + [(0.0, 0.0)]
    withheld_n, n_exposes = _protect_column(values, hidden, bounds, w_bounds, limit, k)

    # the incidents in hotspots column, against the incidents in hotspots printed on the page
    small_h = [is_small(h, limit) for h in h_vals]
    derived_h = [
        not small_n[i]
        and not derived_n[i]
        and not small_h[i]
        and _small_rest(n_vals[i], h_vals[i], limit)
        for i in range(k)
    ]
    h_values = [max(v or 0.0, 0.0) for v in h_vals]
    h_hidden = [a or b for a, b in zip(small_h, derived_h, strict=True)]
    row_max = [inf if v is None else v for v in n_vals]
    h_bounds = [
        (1.0, min(limit - 1.0, row_max[i]))
        if small_h[i]
        else (row_max[i] - limit + 1.0, row_max[i] - 1.0)
        if derived_h[i]
        else (0.0, 0.0)
        for i in range(k)
    ]
    h_w_bounds = [(float(limit), row_max[i]) for i in range(k)]
    withheld_h: set[int] = set()
    h_exposes = False
    if has_h:
        withheld_h, h_exposes = _protect_column(
            h_values, h_hidden, h_bounds, h_w_bounds, limit, eligible=[not kh for kh in known_h]
        )
    return WardDisclosure(
        small=tuple(small_n),
        derived=tuple(derived_n),
        withheld=frozenset(withheld_n),
        hotspot_small=tuple(small_h),
        hotspot_derived=tuple(derived_h),
        hotspot_withheld=frozenset(withheld_h),
        incidents_total_exposes=n_exposes,
        hotspot_incidents_total_exposes=h_exposes,
    )
