"""Change between periods, and emerging hot spots over a series of periods, per cell.

* :func:`compare_periods`: incidents per cell before and after (any two month ranges), the
  change and the percentage change.
* :func:`emerging_hotspots`: space-time hot spot mining as in ArcGIS's Emerging Hot Spot
  Analysis. The months are cut into periods of ``period_months``; in each period every cell gets
  its Getis-Ord Gi* z-score and p-value (:mod:`hotspots.significance`, same neighbours in every
  period); the Mann–Kendall test (:func:`hotspots.trend.mann_kendall`) measures the trend of
  each cell's Gi* z-scores over the periods (and of its counts, shown beside every pattern);
  each cell then gets a pattern by the rules of :func:`hotspots.trend.classify_pattern`.

The global window (ArcGIS's "Define global window"): ``window="entire"`` (the default, as
ArcGIS's "Entire cube") compares every cell-period's local sum with the mean and spread of
all the cells in all the periods: Gi* on the whole space-time cube, with a cell's neighbours
in its own period, and the false-discovery-rate correction over the whole cube. A cell whose
counts rise is then hotter later. ``window="each"`` (ArcGIS's "Individual time step")
standardises each period on its own: a z-score says how a cell stands against the rest of the
area in that period, so a cell can "diminish" while its counts rise.

Differences from ArcGIS: neighbours are spatial only (the same cells in the same period, not
the previous periods' too: ArcGIS's neighbourhood time step of 1); the periods are aligned to
end on the last month, and months before the first complete period are left out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from ._validate import (
    check_incidents,
    check_layer,
    check_month,
    month_label,
    month_number,
    month_numbers,
)
from .errors import InputError, ParameterError
from .significance import LEFT_OUT, benjamini_hochberg, cell_values, gi_star, neighbours
from .trend import (
    PATTERNS,
    change_words,
    classify_pattern,
    compare_counts,
    mann_kendall,
    seasonal_note,
    trend_label,
)

__all__ = [
    "PATTERNS",
    "WINDOWS",
    "ChangeResult",
    "EmergingResult",
    "classify_pattern",
    "compare_periods",
    "emerging_hotspots",
]

#: The global windows of :func:`emerging_hotspots` and what each compares a cell with.
WINDOWS = {
    "entire": "every cell in every period (the whole space-time cube; ArcGIS's default)",
    "each": "the cells of the same period only (ArcGIS's 'individual time step')",
}
#: The ``window`` argument's type.
Window = Literal["entire", "each"]

log = logging.getLogger(__name__)

#: ArcGIS recommends at least this many periods for a trustworthy trend.
_MIN_PERIODS_ADVISED = 10


@dataclass(frozen=True)
class ChangeResult:
    """What :func:`compare_periods` found.

    Attributes
    ----------
    cells
        The cells with their counts before and after and the changes (see
        :func:`compare_periods`).
    notes
        The periods compared and the months missing from the data, one sentence each.
    months
        The months the data cover in the before and the after range.
    """

    cells: gpd.GeoDataFrame
    notes: list[str]
    months: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class EmergingResult:
    """What :func:`emerging_hotspots` found.

    Attributes
    ----------
    cells
        The cells with their pattern (see :func:`emerging_hotspots`).
    periods
        The periods' labels ("YYYY-MM..YYYY-MM"), oldest first.
    z
        Gi* z-scores, cells x periods.
    notes
        The periods used, incidents left out, missing months and weak-evidence warnings.
    """

    cells: gpd.GeoDataFrame
    periods: list[str]
    z: NDArray[np.float64]
    notes: list[str]


# --------------------------------------------------------------------------- months


def _incident_months(incidents: gpd.GeoDataFrame) -> NDArray[np.int64]:
    if "month" not in incidents.columns:
        raise InputError("incidents have no 'month' column; read them with read_incidents().")
    out = month_numbers(pd.to_datetime(incidents["month"], errors="coerce"))
    if np.isnan(out).any():
        raise InputError("some incidents have no month; drop them or read with read_incidents().")
    return out.astype(np.int64)


def _present(data_months: Iterable[str] | None, months: NDArray[np.int64]) -> set[int]:
    """The months the data cover: ``data_months`` ("YYYY-MM"), else those with an incident."""
    if data_months is None:
        return set(np.unique(months).tolist())
    return {month_number(check_month(m, "data_months")) for m in data_months}


def _range(value: Any, name: str) -> tuple[int, int]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ParameterError(
            f"{name} must be a (first, last) pair of months like ('2024-01', '2024-06')."
        )
    first = month_number(check_month(value[0], name))
    last = month_number(check_month(value[1], name))
    if last < first:
        raise ParameterError(f"{name} ends before it starts; give (first month, last month).")
    return first, last


def _check_inputs(incidents: Any, cells: Any) -> gpd.GeoDataFrame:
    """A copy of ``cells`` in the CRS of ``incidents`` (both checked)."""
    frame = check_incidents(incidents)
    out = check_layer(cells, "cells", crs=frame.crs, fix="give polygons such as grid_cells(...)")
    return out if out is not cells else cells.copy()


# --------------------------------------------------------------------------- compare


def _with_interval(out: gpd.GeoDataFrame, weights: str | None, n_before: int, n_after: int) -> None:
    """Add the exact interval and p of the monthly rate's change, and the change in words."""
    if weights is None:
        test = compare_counts(
            out["before"].to_numpy(),
            out["after"].to_numpy(),
            before_months=n_before,
            after_months=n_after,
        )
        low, high, p = 100 * test.low, 100 * test.high, test.p
        words = [
            change_words(c, lo, hi)
            for c, lo, hi in zip(test.change, test.low, test.high, strict=True)
        ]
    else:
        low = high = p = np.full(len(out), np.nan)
        words = ["no interval for harm-weighted sums"] * len(out)
    out["change_low_pct"] = low
    out["change_high_pct"] = high
    out["change_p"] = p
    out["change_words"] = pd.array(words, dtype="str")


def compare_periods(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    before: tuple[str, str],
    after: tuple[str, str],
    weights: str | None = None,
    data_months: Iterable[str] | None = None,
) -> ChangeResult:
    """Incidents per cell in two month ranges, and the change between them.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    cells
        Polygons (a grid, wards, a target area ...), reprojected to the incidents' CRS.
    before, after
        ``(first month, last month)``, inclusive, e.g. ``("2024-01", "2024-06")``.
    weights
        None to count incidents, or a weights column (``"weight"``) to sum harm.
    data_months
        The months the data cover ("YYYY-MM"), when ``incidents`` are filtered (e.g. to one
        crime type), so that a month with none of that type is a zero, not a missing month;
        None: the months with an incident in ``incidents``.

    Returns
    -------
    ChangeResult
        ``cells``: ``cells`` (copied) plus ``before``, ``after`` (counts or summed weights),
        ``change`` (after - before), ``pct_change`` (100 * change / before; NaN when before is
        0), ``before_per_month``, ``after_per_month`` and ``rate_change_pct`` (the percentage
        change of the monthly rates: the figure to read when the two ranges differ in length),
        ``change_low_pct``, ``change_high_pct`` (its exact 95% interval, conditional binomial
        for two Poisson counts: :func:`hotspots.trend.compare_counts`), ``change_p`` (exact
        p-value of no change) and ``change_words`` ("up 40% (95% interval ...)", or "no clear
        change (...)" when the interval holds none); with ``weights`` the interval is NaN. A
        month the data do not cover (see ``data_months``) is taken as missing (as when a
        force did not supply it): it is left out of the rates and named in ``notes``; when the
        two ranges are different months of the year, a note says seasonal swings show as
        change.

    Examples
    --------
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=27700)
    >>> pts = gpd.GeoDataFrame({"month": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3)},
    ...     geometry=gpd.points_from_xy([1, 11, 1, 1, 1], [1] * 5), crs=27700)
    >>> out = compare_periods(
    ...     pts, cells, before=("2024-01", "2024-01"), after=("2024-02", "2024-02"))
    >>> out.cells[["before", "after", "change", "pct_change"]].values.tolist()
    [[1.0, 3.0, 2.0, 200.0], [1.0, 0.0, -1.0, -100.0]]
    """
    out = _check_inputs(incidents, cells)
    b0, b1 = _range(before, "before")
    a0, a1 = _range(after, "after")
    if not (b1 < a0 or a1 < b0):  # months in both would count on both sides
        raise ParameterError(
            f"before ({month_label(b0)} to {month_label(b1)}) and after ({month_label(a0)} to "
            f"{month_label(a1)}) share months; choose periods that do not overlap.",
            argument="after",
        )
    months = _incident_months(incidents)
    present = _present(data_months, months)
    values = {}
    missing: dict[str, list[str]] = {}
    n_months: dict[str, int] = {}
    for name, (first, last) in (("before", (b0, b1)), ("after", (a0, a1))):
        chosen = incidents[(months >= first) & (months <= last)]
        values[name] = cell_values(chosen, out, weights=weights)[1]
        missing[name] = [month_label(m) for m in range(first, last + 1) if m not in present]
        n_months[name] = last - first + 1 - len(missing[name])
        if n_months[name] == 0:
            raise InputError(
                f"{name} ({month_label(first)} to {month_label(last)}) has no incidents: every "
                "month is missing from the data; choose months the data cover."
            )
    n_before, n_after = n_months["before"], n_months["after"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(
            values["before"] > 0, 100.0 * (values["after"] / values["before"] - 1), np.nan
        )
        rate_b, rate_a = values["before"] / n_before, values["after"] / n_after
        rate_pct = np.where(rate_b > 0, 100.0 * (rate_a / rate_b - 1), np.nan)
    out["before"] = values["before"]
    out["after"] = values["after"]
    out["change"] = values["after"] - values["before"]
    out["pct_change"] = pct
    out["before_per_month"] = rate_b
    out["after_per_month"] = rate_a
    out["rate_change_pct"] = rate_pct
    _with_interval(out, weights, n_before, n_after)
    cols = [c for c in out.columns if c != out.geometry.name] + [out.geometry.name]
    out = out[cols]
    notes = [
        f"before: {month_label(b0)} to {month_label(b1)} "
        f"({n_before} month{'s' if n_before != 1 else ''}); "
        f"after: {month_label(a0)} to {month_label(a1)} "
        f"({n_after} month{'s' if n_after != 1 else ''})"
    ]
    season = seasonal_note((b0, b1), (a0, a1))
    if season:
        notes.append(season)
    if weights is not None:
        notes.append(
            "harm-weighted sums are not counts: no interval is given for their change "
            "(change_low, change_high and change_p are empty)"
        )
    for name, gone in missing.items():
        if gone:
            notes.append(
                f"{name} has {len(gone)} month{'s' if len(gone) != 1 else ''} with no incidents "
                f"at all ({', '.join(gone)}), taken as missing from the data: its counts are "
                "incomplete, so compare the monthly rates (rate_change_pct), not the counts"
            )
    return ChangeResult(cells=out, notes=notes, months=(n_before, n_after))


# --------------------------------------------------------------------------- emerging


def _periods(months: NDArray[np.int64], period_months: int) -> tuple[NDArray[np.int64], list[str]]:
    """Period index (0 = earliest complete period) of each incident, -1 if before; labels."""
    last = int(months.max())
    first = int(months.min())
    n_periods = (last - first + 1) // period_months
    if n_periods < 2:
        raise InputError(
            f"the incidents span {last - first + 1} months: fewer than two periods of "
            f"{period_months}; use a shorter period_months or more months."
        )
    back = (last - months) // period_months
    index = np.where(back < n_periods, n_periods - 1 - back, -1)
    labels = []
    for k in range(n_periods):
        end = last - (n_periods - 1 - k) * period_months
        labels.append(f"{month_label(end - period_months + 1)}..{month_label(end)}")
    return index.astype(np.int64), labels


def _check_emerging(period_months: Any, alpha: Any, trend_alpha: Any, window: Any) -> None:
    if window not in WINDOWS:
        raise ParameterError(
            f"window must be one of {', '.join(WINDOWS)}; got {window!r}.", argument="window"
        )
    if isinstance(period_months, bool) or not isinstance(period_months, int | np.integer):
        raise ParameterError(
            f"period_months must be a whole number of months; got {period_months!r}."
        )
    if period_months < 1:
        raise ParameterError(f"period_months must be at least 1; got {period_months!r}.")
    for value, name in ((alpha, "alpha"), (trend_alpha, "trend_alpha")):
        if not (isinstance(value, int | float) and 0 < value < 1):
            raise ParameterError(f"{name} must be a probability between 0 and 1; got {value!r}.")


def _emerging_notes(
    months: NDArray[np.int64],
    index: NDArray[np.int64],
    labels: list[str],
    period_months: int,
    data_months: Iterable[str] | None,
) -> list[str]:
    """The periods used, incidents left out, months missing and too few periods."""
    n_periods = len(labels)
    notes = [f"{n_periods} periods of {period_months} months: {labels[0]} to {labels[-1]}"]
    skipped = int((index < 0).sum())
    if skipped:
        notes.append(f"{skipped} incidents before the first complete period left out")
    covered = months[index >= 0]
    gone = sorted(
        set(range(int(covered.min()), int(covered.max()) + 1)) - _present(data_months, covered)
    )
    if gone:
        notes.append(
            f"{len(gone)} month{'s' if len(gone) != 1 else ''} with no incidents at all "
            f"({', '.join(month_label(m) for m in gone)}), taken as missing from the data: the "
            "counts of the periods holding them are scaled up to a full period (months in the "
            "period / months covered) for the Gi* z-scores and the count trend"
        )
    if n_periods < _MIN_PERIODS_ADVISED:
        notes.append(
            f"only {n_periods} periods: trends are weak evidence below {_MIN_PERIODS_ADVISED} "
            "(use a shorter period_months)"
        )
    return notes


def _gi_by_period(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    index: NDArray[np.int64],
    n_periods: int,
    *,
    distance: float | None,
    weights: str | None,
    fdr: bool,
    window: str,
    scale: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Counts (or summed weights) scaled by ``scale`` (one factor per period, for months
    missing from the data), Gi* z-scores and p-values, cells x periods."""
    w = neighbours(cells, distance=distance)
    n = len(cells)
    counts = np.zeros((n, n_periods))
    for k in range(n_periods):
        counts[:, k] = cell_values(incidents[index == k], cells, weights=weights)[1] * scale[k]
    if window == "entire":
        # The cube stacked period by period; a cell's neighbours are in its own period.
        cube = sparse.block_diag([w] * n_periods, format="csr")
        zs, raw = gi_star(counts.T.ravel(), neighbours=cube)
        ps = benjamini_hochberg(raw) if fdr else raw
        return counts, zs.reshape(n_periods, n).T, ps.reshape(n_periods, n).T
    z = np.zeros((n, n_periods))
    p = np.ones((n, n_periods))
    for k in range(n_periods):
        z[:, k], raw = gi_star(counts[:, k], neighbours=w)
        p[:, k] = benjamini_hochberg(raw) if fdr else raw
    return counts, z, p


def _with_patterns(
    out: gpd.GeoDataFrame,
    counts: NDArray[np.float64],
    z: NDArray[np.float64],
    hot: NDArray[np.bool_],
    cold: NDArray[np.bool_],
    trend_alpha: float,
) -> gpd.GeoDataFrame:
    """``out`` with the emerging hot spot columns, the geometry last."""
    trend = mann_kendall(z)
    count_trend = mann_kendall(counts)
    patterns = [
        classify_pattern(
            hot[i],
            cold[i],
            trend_z=float(trend.z[i]),
            trend_p=float(trend.p[i]),
            trend_alpha=trend_alpha,
        )
        for i in range(len(out))
    ]
    letters = np.where(hot, "H", np.where(cold, "C", "."))
    out["incidents"] = counts.sum(axis=1)
    out["hot_periods"] = hot.sum(axis=1).astype(np.int64)
    out["cold_periods"] = cold.sum(axis=1).astype(np.int64)
    out["series"] = pd.array(["".join(row) for row in letters], dtype="str")
    out["last_z"] = z[:, -1]
    out["trend_z"] = trend.z
    out["trend_p"] = trend.p
    out["count_trend_z"] = count_trend.z
    out["count_trend_p"] = count_trend.p
    out["count_trend"] = pd.array(
        [trend_label(a, b, trend_alpha) for a, b in zip(count_trend.z, count_trend.p, strict=True)],
        dtype="str",
    )
    out["pattern"] = pd.array(patterns, dtype="str")
    cols = [c for c in out.columns if c != out.geometry.name] + [out.geometry.name]
    return out[cols]


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    period_months: int = 3,
    distance: float | None = None,
    weights: str | None = None,
    alpha: float = 0.10,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    data_months: Iterable[str] | None = None,
    window: Window = "entire",
    min_area: float | None = None,
) -> EmergingResult:
    """Emerging hot spot patterns per cell: new, intensifying, persistent, diminishing, ...

    Parameters
    ----------
    incidents
        An Incidents frame in metres, over several months.
    cells
        Polygons (a grid from :func:`hotspots.density.grid_cells`, wards, ...).
    period_months
        Months per period (the time step); the periods end on the last month.
    distance
        Gi* neighbours within this centroid distance in metres; None for touching cells.
    weights
        None to count incidents, or a weights column (``"weight"``) to sum harm.
    alpha
        A cell is a significant hot (cold) spot in a period when its Gi* p-value is at most
        ``alpha`` (0.10: the 90% confidence of ArcGIS) and z > 0 (z < 0).
    fdr
        Use FDR-adjusted (Benjamini–Hochberg, within each period) p-values.
    trend_alpha
        Significance level of the Mann–Kendall trend (intensifying / diminishing).
    data_months
        The months the data cover ("YYYY-MM"), when ``incidents`` are filtered (e.g. to one
        crime type); None: the months with an incident. Months not covered are named in the
        notes as missing.
    window
        The global window (see the module docstring): "entire" (default) standardises the
        Gi* z-scores over the whole space-time cube, "each" within each period.
    min_area
        Cells smaller than this (m²: grid cells clipped by the boundary) are left out of Gi*,
        as in :func:`hotspots.significance.gi_star_cells`: pattern
        :data:`hotspots.significance.LEFT_OUT`, no z-scores; None keeps every cell.

    Returns
    -------
    EmergingResult
        ``cells``: ``cells`` (copied) plus ``incidents`` (in the periods analysed), ``hot_periods``,
        ``cold_periods``, ``series`` (one letter per period, oldest first: "H" hot, "C" cold,
        "." neither), ``last_z``, ``trend_z``, ``trend_p`` (Mann–Kendall of the Gi* z-scores),
        ``count_trend_z``, ``count_trend_p`` (of the counts), ``count_trend`` (the count trend
        in words with its p, e.g. "rising (p = 0.004)", by ``trend_alpha``), ``pattern`` (see
        :func:`hotspots.trend.classify_pattern`); ``periods`` (their labels), ``z`` (cells x
        periods Gi* z-scores) and ``notes``.

    Notes
    -----
    With ``window="each"`` a Gi* z-score is relative to the whole study area in its period:
    when one hotspot fades, the others' z-scores rise, and a cell can be "intensifying" with
    no trend in its counts. Read ``count_trend`` beside the pattern either way.
    """
    full = _check_inputs(incidents, cells)
    _check_emerging(period_months, alpha, trend_alpha, window)
    keep = np.ones(len(full), bool)
    if min_area is not None:
        keep = np.asarray(full.geometry.area >= float(min_area))
    out = full[keep]
    if len(out) < 3:
        raise InputError("cells must hold at least 3 polygons for Gi*; use a finer grid.")
    if len(incidents) == 0:
        raise InputError("no incidents to analyse; check the filters.")
    months = _incident_months(incidents)
    index, labels = _periods(months, int(period_months))
    notes = _emerging_notes(months, index, labels, period_months, data_months)
    present = _present(data_months, months[index >= 0])
    last = int(months.max())
    cover = np.array(
        [
            sum(last - m in present for m in range(k * period_months, (k + 1) * period_months))
            for k in reversed(range(len(labels)))
        ],
        dtype=float,
    )
    if (cover == 0).any():  # a whole period of missing months: no data, not zero crime
        empty = [labels[k] for k in np.flatnonzero(cover == 0)]
        raise InputError(
            f"period_months {period_months}: the period(s) {', '.join(empty)} hold only "
            "months missing from the data (counts taken as none); use longer periods, or "
            "months without that gap."
        )
    scale = period_months / cover
    counts, z, p = _gi_by_period(
        incidents,
        out,
        index,
        len(labels),
        distance=distance,
        weights=weights,
        fdr=fdr,
        window=window,
        scale=scale,
    )
    notes.insert(1, f"Gi* z-scores against {WINDOWS[window]}")
    hot = (p <= alpha) & (z > 0)
    cold = (p <= alpha) & (z < 0)
    for note in notes:
        log.info("emerging hot spots: %s", note)
    out = _with_patterns(out, counts, z, hot, cold, trend_alpha)
    totals = np.round(counts / scale, 9).sum(axis=1)  # what each cell held, as read
    if weights is None:
        out["incidents"] = totals
    else:  # counted, as Gi*'s "incidents" are, and the harm beside them
        out["incidents"] = cell_values(incidents[index >= 0], out, weights=None)[0].astype(float)
        out["harm"] = totals
    if not keep.all():
        out, z = _with_left_out(full, keep, out, z, incidents[index >= 0], weights, notes)
    if math.isfinite(float(np.nansum(z))):
        log.info("emerging hot spots: %s", out["pattern"].value_counts().to_dict())
    return EmergingResult(cells=out, periods=labels, z=z, notes=notes)


def _with_left_out(
    full: gpd.GeoDataFrame,
    keep: NDArray[np.bool_],
    out: gpd.GeoDataFrame,
    z: NDArray[np.float64],
    used: gpd.GeoDataFrame,
    weights: str | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64]]:
    """The cells left out (under ``min_area``) back in, in their places, with no pattern."""
    rest = full[~keep].copy()
    counted, held = cell_values(used, rest, weights=weights)
    rest["incidents"] = counted.astype(float)
    if weights is not None:
        rest["harm"] = held
    rest["pattern"] = LEFT_OUT
    both = pd.concat([out, rest[[c for c in rest.columns if c in out.columns]]])
    cells = gpd.GeoDataFrame(both.loc[full.index, list(out.columns)], crs=full.crs)
    cells["pattern"] = pd.array(cells["pattern"].astype(str), dtype="str")
    z_all = np.full((len(full), z.shape[1]), np.nan)
    z_all[keep] = z
    notes.append(
        f"{int((~keep).sum()):,} edge cells clipped by the boundary to under half a cell "
        f"({float(rest['incidents'].sum()):,.0f} incidents) left out of Gi*: a part-cell holds "
        "fewer incidents only because it is smaller"
    )
    return cells, z_all
