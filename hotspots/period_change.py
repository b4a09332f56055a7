"""Each hotspot's change against the months just before the chosen ones, and how it is given.

* :func:`period_change`: each hotspot's incidents in the chosen months against the months
  just before them, of equal length (counted inside its outline), with
  :func:`hotspots.trend.compare_counts`, as a :class:`PeriodChange`;
* :func:`with_period_change`: the Hotspots frame with that change as its trend columns, so
  every writer says the same change;
* :func:`chance_words`: how many clear changes chance alone would give among many hotspots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ._memo import KeptResults, digest
from ._points import all_points_xy, point_rows, unique_points_of
from ._validate import check_month, month_label, month_number, month_numbers
from .errors import ParameterError
from .trend import CountChange, compare_counts, seasonal_note

__all__ = [
    "TREND_COLUMNS",
    "PeriodChange",
    "chance_words",
    "period_change",
    "with_period_change",
]


@dataclass(frozen=True)
class PeriodChange:
    """The chosen months against the months just before them (see :func:`period_change`).

    Attributes
    ----------
    period
        The chosen months, ``("YYYY-MM", "YYYY-MM")``.
    previous
        The span of equal length just before, or None when the data do not reach back that
        far (then ``table``'s ``before`` and change columns are NaN and ``note`` says why).
    table
        One row per hotspot, in the hotspots' rank order: ``hotspot_id``, ``now`` and
        ``before`` (incidents inside its outline in each span), ``change``, ``low``, ``high``,
        ``p`` (:func:`compare_counts`) and ``clear`` (True when the interval leaves out no
        change: only then may a writer show an arrow).
    total
        The same for every incident given: ``(now, before, CountChange)``; ``before`` is None
        without a previous span.
    note
        Why there is no comparison, or the seasonal caveat (:func:`seasonal_note`); None.
    """

    period: tuple[str, str]
    previous: tuple[str, str] | None
    table: pd.DataFrame
    total: tuple[int, int | None, CountChange | None]
    note: str | None


def chance_words(n_tested: int, n_clear: int, *, confidence: float = 0.95) -> str:
    """How many "clear" changes chance alone would give among many hotspots, beside how many
    there are: each test alone is wrong for 1 hotspot in 20 that did not change, so among
    200 hotspots about 10 show a clear change even if none changed. "" for none tested.

    >>> print(chance_words(193, 2))  # doctest: +NORMALIZE_WHITESPACE
    2 of 193 hotspots show a clear change; chance alone would give about 10 even if none had
    changed, so read a single arrow with care.
    >>> print(chance_words(40, 12))  # doctest: +NORMALIZE_WHITESPACE
    12 of 40 hotspots show a clear change; chance alone would give about 2 even if none had
    changed.
    >>> print(chance_words(2, 0))  # no arrow to read with care
    0 of 2 hotspots show a clear change; chance alone would give about 0 even if none had changed.
    """
    if n_tested <= 0:
        return ""
    expected = (1 - confidence) * n_tested
    text = (
        f"{n_clear:,} of {n_tested:,} hotspots show a clear change; chance alone would give "
        f"about {expected:,.0f} even if none had changed"
    )
    if 0 < n_clear <= 2 * expected:
        text += ", so read a single arrow with care"
    return text + "."


#: The Hotspots frame's trend columns, which :func:`with_period_change` fills.
TREND_COLUMNS = ["trend", "trend_low", "trend_high", "trend_p"]


def with_period_change(
    hotspots: gpd.GeoDataFrame | None, change: PeriodChange | None
) -> gpd.GeoDataFrame | None:
    """``hotspots`` (a copy) with its trend columns the change of :func:`period_change`: the
    chosen months against as many months just before, inside each outline, as the
    dashboard's commander page gives it, so the popups, the briefing, the outreach sheets
    and the files say the same change. ``trend_against`` names the months before ("Jan 2023
    – Dec 2023"; :func:`hotspots.palette.trend_words` says it). Without months before, the
    trend columns are left empty ("not enough months to compare", as the commander's page
    says); unchanged when no change or hotspots are given.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> months = pd.to_datetime(["2024-01-01"] * 10 + ["2024-02-01"] * 20)
    >>> inc = gpd.GeoDataFrame({"month": months}, geometry=[Point(5, 5)] * 30, crs=27700)
    >>> hs = gpd.GeoDataFrame({"hotspot_id": ["H01"], "trend": [0.0]},
    ...                       geometry=[box(0, 0, 10, 10)], crs=27700)
    >>> out = with_period_change(hs, period_change(inc, hs, start="2024-02", end="2024-02"))
    >>> float(out["trend"].iloc[0]), out["trend_against"].iloc[0]
    (1.0, 'Jan 2024')
    """
    if hotspots is None or change is None:
        return hotspots
    out = hotspots.copy()
    if change.previous is None:  # no months before: no change to give, as the commander's page
        out[TREND_COLUMNS] = np.nan
        return out
    by_id = change.table.set_index("hotspot_id")
    ids = hotspots["hotspot_id"].astype(str)
    for column, source in zip(TREND_COLUMNS, ("change", "low", "high", "p"), strict=True):
        out[column] = ids.map(by_id[source]).astype(float).to_numpy()
    first, last = (pd.Timestamp(f"{m}-01").strftime("%b %Y") for m in change.previous)
    out["trend_against"] = first if first == last else f"{first} – {last}"
    return out


# The trees of the last map points counted: the dashboard counts the same incidents' points
# again inside each new set of hotspots (a city's 100,000 points: the tree once).
_SPOT_TREES: KeptResults[shapely.STRtree] = KeptResults(2)


def _tree(spots: NDArray[np.float64]) -> shapely.STRtree:
    return shapely.STRtree(shapely.points(spots))


def _inside_counts(
    xy: NDArray[np.float64], flags: Sequence[NDArray[np.bool_]], polygons: NDArray[np.object_]
) -> list[NDArray[np.int64]]:
    """Per polygon, the points inside it (or on its edge) among each flagged set."""
    k = len(polygons)
    keep = np.logical_or.reduce(flags) if len(flags) else np.zeros(len(xy), dtype=bool)
    if k == 0 or not keep.any():
        return [np.zeros(k, dtype=np.int64) for _ in flags]
    rows = np.flatnonzero(keep)
    # incidents share map points (police.uk snaps them): each flagged set counted per point,
    # and only the distinct points tested against the outlines
    inverse, spots, _ = unique_points_of(xy, rows)  # a city's kept codes
    per_spot = [np.bincount(inverse, weights=f[rows], minlength=len(spots)) for f in flags]
    tree = _SPOT_TREES.one(digest(np.ascontiguousarray(spots).tobytes()), lambda: _tree(spots))
    poly_idx, spot_idx = tree.query(polygons, predicate="intersects")
    return [
        np.bincount(poly_idx, weights=c[spot_idx], minlength=k).round().astype(np.int64)
        for c in per_spot
    ]


def period_change(
    incidents: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    start: str,
    end: str,
    first_month: str | None = None,
) -> PeriodChange:
    """Each hotspot's incidents in the months ``start``..``end`` against the as many months
    just before them, counted inside its outline in both spans (the outline is the chosen
    months' hotspot: the earlier incidents were not clustered), with the exact test of
    :func:`compare_counts`.

    Parameters
    ----------
    incidents
        Incidents over the chosen months and those before (crime-type and ward filters
        applied, not the month filter), with ``month`` and point geometry.
    hotspots
        The hotspots found on the chosen months (``hotspot_id``, polygons; reprojected to the
        incidents' CRS when needed).
    start, end
        The chosen months, ``"YYYY-MM"``.
    first_month
        The first month the data hold (before any filter: a month with none of a crime type
        is a zero, a month before the data is unknown); default the incidents' first month.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> months = pd.to_datetime(["2024-01-01"] * 10 + ["2024-02-01"] * 20)
    >>> inc = gpd.GeoDataFrame({"month": months}, geometry=[Point(5, 5)] * 30, crs=27700)
    >>> hs = gpd.GeoDataFrame({"hotspot_id": ["H01"]}, geometry=[box(0, 0, 10, 10)], crs=27700)
    >>> out = period_change(inc, hs, start="2024-02", end="2024-02")
    >>> out.previous, out.table[["now", "before"]].values.tolist()
    (('2024-01', '2024-01'), [[20, 10]])
    """
    first, last = month_number(check_month(start, "start")), month_number(check_month(end, "end"))
    if last < first:
        raise ParameterError(f"start {start} is after end {end}; give the earlier month first.")
    n = last - first + 1
    months = month_numbers(incidents["month"])
    floor = (
        month_number(check_month(first_month, "first_month"))
        if first_month is not None
        else (np.nanmin(months) if np.isfinite(months).any() else first)
    )
    has_previous = first - n >= floor
    now = (months >= first) & (months <= last)
    before = (months >= first - n) & (months < first) if has_previous else np.zeros_like(now)
    hs = hotspots if hotspots.crs == incidents.crs else hotspots.to_crs(incidents.crs)
    geom = incidents.geometry.to_numpy()
    xy = all_points_xy(geom)  # every row a point: the coordinates kept for the frame
    if xy is None:  # missing, empty or other shapes: not located (GEOS has no x of an empty)
        points, at = point_rows(geom)
        xy = np.full((len(geom), 2), np.nan)
        xy[points] = at
    located = np.isfinite(xy).all(axis=1)
    now_in, before_in = _inside_counts(
        xy, [now & located, before & located], hs.geometry.to_numpy()
    )
    table = pd.DataFrame({"hotspot_id": hs["hotspot_id"].astype(str).to_numpy(), "now": now_in})
    note = None
    total_before: int | None = None
    total_change: CountChange | None = None
    if has_previous:
        table["before"] = before_in
        found = compare_counts(before_in, now_in)
        total_before = int(before.sum())
        total_change = compare_counts(total_before, int(now.sum()))
        note = seasonal_note((first - n, first - 1), (first, last))
    else:
        table["before"] = np.nan
        blank = np.full(len(table), np.nan)
        found = CountChange(change=blank, low=blank, high=blank, p=np.ones(len(table)))
        have = int(first - floor)  # months in the data before the chosen ones
        missing = (
            f"there are no months before {month_label(float(first))}"
            if have <= 0
            else f"there {'is' if have == 1 else 'are'} only {have} month"
            f"{'' if have == 1 else 's'} before {month_label(float(first))}, not {n},"
        )
        note = f"the data start in {month_label(float(floor))}: {missing} to compare with"
    table["change"], table["low"], table["high"], table["p"] = (
        found.change,
        found.low,
        found.high,
        found.p,
    )
    table["clear"] = ~(np.isnan(found.low) | ((found.low <= 0) & (found.high >= 0)))
    if "rank" in hs.columns:
        table = table.iloc[np.argsort(hs["rank"].to_numpy(), kind="stable")].reset_index(drop=True)
    previous = (
        (month_label(float(first - n)), month_label(float(first - 1))) if has_previous else None
    )
    return PeriodChange(
        period=(month_label(float(first)), month_label(float(last))),
        previous=previous,
        table=table,
        total=(int(now.sum()), total_before, total_change),
        note=note,
    )
