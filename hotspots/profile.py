"""Per-hotspot statistics: counts, share, area, PAI, crime mix, streets, trend.

:func:`profile_hotspots` turns cluster labels and footprints into the ranked Hotspots frame
(``hotspots.columns.HOTSPOT_COLUMNS``); :func:`monthly_counts` gives the tidy monthly series behind
trend charts; :func:`trend_window` and :func:`describe_trend` explain the ``trend`` column.

The trend rule
--------------
The *period* is the analysed incidents' first to last month (all incidents, not one hotspot's).
``trend`` compares a hotspot's incidents in the last ``m`` months of the period with the ``m``
months before them: ``(last - previous) / previous``. ``m`` is ``trend_months`` when given, else 3
when the period has 6 months or more, else half the period rounded down. ``trend`` is NaN when
the period is one month (``m = 0``) or when the previous span had no incidents but the last one
had some (a *new* hotspot); it is 0.0 when both spans had none. It counts incidents, also when
hotspots are ranked by harm. A ``trend_months`` longer than half the period is an error.

``trend_low`` and ``trend_high`` are its exact 95% interval and ``trend_p`` the exact two-sided
p-value of "no change" (conditional binomial test for two Poisson counts,
:func:`hotspots.trend.compare_counts`): 21 -> 34 incidents is +62% but p = 0.105, an interval
from -9% to +194%, "no clear change" in words (:func:`describe_trend`). Counts of crime
spread more than Poisson counts, so the interval is if anything too narrow; and the two spans
are different months of the year (unless ``m`` is a multiple of 12), so seasonal swings show
as change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

from ._text import text_codes
from ._validate import check_incidents, check_int, month_label, month_numbers
from .columns import HOTSPOT_COLUMNS
from .errors import InputError, ParameterError
from .places import location_codes, street_names
from .trend import change_words, compare_counts

__all__ = [
    "describe_trend",
    "hotspot_id",
    "monthly_counts",
    "profile_hotspots",
    "street_names",
    "trend_window",
]

log = logging.getLogger(__name__)

#: Default trend span (months) once the period is long enough to hold two of them.
_DEFAULT_TREND_MONTHS = 3


# --------------------------------------------------------------------------- validation helpers


def _check_labels(labels: npt.ArrayLike, n: int) -> NDArray[np.int64]:
    labs = np.asarray(labels)
    if labs.ndim != 1 or len(labs) != n:
        raise ParameterError(
            f"labels must hold one cluster label per incident ({n}); got shape {labs.shape}."
        )
    if n and not np.issubdtype(labs.dtype, np.integer):
        numeric = pd.to_numeric(pd.Series(labs), errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(numeric).all() or not (numeric == np.round(numeric)).all():
            raise ParameterError("labels must be whole numbers (-1 for noise, 0.. for clusters).")
        labs = numeric
    return labs.astype(np.int64)


def _span(months: NDArray[np.float64]) -> tuple[int, int]:
    """First month ordinal and number of months of the period (0 months when there are none)."""
    known = months[np.isfinite(months)]
    if known.size == 0:
        return 0, 0
    first, last = int(known.min()), int(known.max())
    return first, last - first + 1


def _resolve_trend_months(period_months: int, trend_months: int | None) -> int:
    if trend_months is None:
        if period_months >= 2 * _DEFAULT_TREND_MONTHS:
            return _DEFAULT_TREND_MONTHS
        return period_months // 2
    chosen = check_int(trend_months, "trend_months", minimum=1)
    if 2 * chosen > period_months:
        raise ParameterError(
            f"trend_months={chosen} needs at least {2 * chosen} months of incidents but the period "
            f"has {period_months}; give trend_months <= {period_months // 2} or leave it unset."
        )
    return chosen


# --------------------------------------------------------------------------- public API


def trend_window(incidents: pd.DataFrame, *, trend_months: int | None = None) -> int:
    """The number of months ``m`` the ``trend`` column compares (0 when there is no trend).

    Same rule as :func:`profile_hotspots`: ``trend_months`` when given, else 3 when the
    incidents span 6 months or more, else half their span rounded down.

    Examples
    --------
    >>> frame = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-05-01"])})
    >>> trend_window(frame), trend_window(frame.iloc[:1])
    (2, 0)
    """
    if "month" not in incidents.columns:
        raise InputError("incidents has no 'month' column; load the data with read_incidents.")
    _, period_months = _span(month_numbers(incidents["month"]))
    return _resolve_trend_months(period_months, trend_months) if period_months else 0


def describe_trend(
    trend: float,
    *,
    months: int,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """A short phrase for a ``trend`` value, for popups and tables.

    Parameters
    ----------
    trend
        The ``trend`` column value (relative change, NaN for a new hotspot).
    months
        The span compared, from :func:`trend_window` (0: no trend).
    low, high
        Its interval (``trend_low``, ``trend_high``): with them the phrase says "no clear
        change" when the interval holds 0, and shows the interval.

    Examples
    --------
    >>> describe_trend(0.25, months=3)
    'up 25% (last 3 months vs previous 3)'
    >>> describe_trend(0.619, months=3, low=-0.087, high=1.936)
    'no clear change (+62%; 95% interval −9% to +194%) (last 3 months vs previous 3)'
    >>> describe_trend(-0.4, months=1)
    'down 40% (last month vs previous month)'
    >>> describe_trend(float("nan"), months=3)
    'new (none in previous 3 months)'
    >>> describe_trend(0.001, months=3)
    'no change'
    """
    span = check_int(months, "months", minimum=0)
    if span == 0:
        return "no trend (under 2 months of incidents)"
    previous = "previous month" if span == 1 else f"previous {span} months"
    if trend is None or (isinstance(trend, float) and math.isnan(trend)):
        return f"new (none in {previous})"
    window = (
        "last month vs previous month" if span == 1 else f"last {span} months vs previous {span}"
    )
    if low is not None and high is not None and not math.isnan(low):
        return f"{change_words(float(trend), float(low), float(high))} ({window})"
    percent = round(float(trend) * 100)
    if percent == 0:
        return "no change"
    direction = "up" if percent > 0 else "down"
    return f"{direction} {abs(percent):,d}% ({window})"


def hotspot_id(rank: int, n_hotspots: int) -> str:
    """The id of the hotspot at ``rank`` (1-based) among ``n_hotspots``.

    Ids are ``H`` and the rank, zero-padded to at least two digits and to the digits of
    ``n_hotspots``, so every id of one run has the same width and sorts in rank order:
    ``H01..H99``, and ``H001..H100`` when there are 100 to 999 hotspots.

    >>> hotspot_id(3, 12), hotspot_id(3, 120)
    ('H03', 'H003')
    """
    width = max(2, len(str(n_hotspots)))
    return f"H{rank:0{width}d}"


def _top_counts(
    groups: NDArray[np.int64],
    code: NDArray[np.intp],
    distinct: NDArray[np.object_],
    top_n: int,
) -> dict[int, list[tuple[str, int]]]:
    """``[(name, count), ...]`` of the ``top_n`` most frequent names per group (most frequent
    first, ties by name): ``code`` is each row's index into the distinct names ``distinct``
    (-1: none; empty names are skipped), so a million rows cost no string work."""
    usable = np.asarray(pd.Series(distinct, dtype=object).astype(str).str.strip() != "")
    keep = code >= 0
    keep[keep] = usable[code[keep]]
    if not keep.any():
        return {}
    m = len(distinct)
    flat = groups[keep].astype(np.int64) * m + code[keep]
    cells = (int(groups.max()) + 1) * m
    if cells <= 4 * len(flat):  # dense: count by bincount, no sort
        tally = np.bincount(flat, minlength=cells)
        keys = np.flatnonzero(tally)
        n = tally[keys]
    else:
        keys, n = np.unique(flat, return_counts=True)
    counts = pd.DataFrame(
        {"group": keys // m, "value": pd.Series(distinct[keys % m], dtype=object), "n": n}
    )
    counts = counts.sort_values(
        ["group", "n", "value"], ascending=[True, False, True], kind="stable"
    )
    counts = counts.groupby("group", sort=False).head(top_n)
    out: dict[int, list[tuple[str, int]]] = {}
    for group, value, count in zip(counts["group"], counts["value"], counts["n"], strict=True):
        out.setdefault(int(group), []).append((str(value), int(count)))
    return out


def _slots(clusters: NDArray[np.int64], groups: NDArray[np.int64]) -> NDArray[np.intp]:
    """``np.searchsorted(clusters, groups)`` (``clusters``: the sorted distinct ``groups``),
    by a table of the labels when they are few (find_hotspots' are 0..k-1).

    >>> _slots(np.array([2, 5]), np.array([5, 2, 5])).tolist()
    [1, 0, 1]
    """
    if int(clusters[-1]) > 4 * len(groups) + 1024:
        return np.searchsorted(clusters, groups).astype(np.intp)
    position = np.zeros(int(clusters[-1]) + 1, dtype=np.intp)
    position[clusters] = np.arange(clusters.size)
    return position[groups]


def _codes(values: pd.Series) -> tuple[NDArray[np.intp], NDArray[np.object_]]:
    """Each value's index into the distinct values (as text, stripped; -1: missing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = pd.Series(np.asarray(uniques, dtype=object), dtype="str").fillna("").str.strip()
    name_codes, distinct = pd.factorize(names.to_numpy())
    code = np.where(codes >= 0, name_codes[np.maximum(codes, 0)], -1) if len(names) else codes
    return code.astype(np.intp), np.asarray(distinct, dtype=object)


def _hotspots_frame(columns: dict[str, object], crs: object) -> gpd.GeoDataFrame:
    """The Hotspots frame with its fixed dtypes (the same whether or not it has rows)."""
    dtypes = {
        "hotspot_id": "str",
        "rank": "int64",
        "incidents": "int64",
        "share": "float64",
        "area_km2": "float64",
        "density_km2": "float64",
        "pai": "float64",
        "top_categories": "object",
        "top_locations": "object",
        "wards": "object",
        "patrol_coverage": "float64",
        "trend": "float64",
        "trend_low": "float64",
        "trend_high": "float64",
        "trend_p": "float64",
        "first_month": "str",
        "last_month": "str",
    }
    data = {name: pd.Series(columns[name], dtype=dtype) for name, dtype in dtypes.items()}
    geometry = gpd.GeoSeries(list(columns["geometry"]), crs=crs)  # type: ignore[call-overload]
    frame = gpd.GeoDataFrame(data, geometry=geometry, crs=crs)
    frame = frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame
    return frame[HOTSPOT_COLUMNS]


def _check_area(study_area_km2: object) -> float:
    try:
        area_total = float(study_area_km2)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"study_area_km2 must be a number; got {study_area_km2!r}.") from None
    if not math.isfinite(area_total) or area_total < 0:
        raise ParameterError(
            f"study_area_km2 must be a positive area in km²; got {study_area_km2!r}."
        )
    return area_total


def _month_bounds(
    slot: NDArray[np.intp], member_months: NDArray[np.float64], k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """First and last month ordinal of each of the ``k`` hotspots (inf, -inf: none known)."""
    known = np.isfinite(member_months)
    first_month = np.full(k, np.inf)
    last_month = np.full(k, -np.inf)
    np.minimum.at(first_month, slot[known], member_months[known])
    np.maximum.at(last_month, slot[known], member_months[known])
    return first_month, last_month


def _trends(
    slot: NDArray[np.intp], member_months: NDArray[np.float64], k: int, *, end: float, span: int
) -> dict[str, NDArray[np.float64]]:
    """Per hotspot, the change between the last ``span`` months up to ``end`` and the ``span``
    before (NaN without incidents before; all NaN when ``span`` is 0), and its exact interval
    and p-value: the ``trend``, ``trend_low``, ``trend_high`` and ``trend_p`` columns."""
    out = {name: np.full(k, np.nan) for name in ("trend", "trend_low", "trend_high", "trend_p")}
    if span > 0:
        known = np.isfinite(member_months)
        recent = known & (member_months > end - span)
        before = known & (member_months <= end - span) & (member_months > end - 2 * span)
        last_n = np.bincount(slot[recent], minlength=k)
        prev_n = np.bincount(slot[before], minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            trend = np.where(prev_n > 0, (last_n - prev_n) / prev_n, np.nan)
        trend[(prev_n == 0) & (last_n == 0)] = 0.0
        test = compare_counts(prev_n, last_n)
        out.update(trend=trend, trend_low=test.low, trend_high=test.high, trend_p=test.p)
    return out


def profile_hotspots(
    incidents: gpd.GeoDataFrame,
    labels: NDArray[np.int64],
    footprints: Mapping[int, Polygon | MultiPolygon],
    *,
    study_area_km2: float,
    rank_by: Literal["incidents", "harm"] = "incidents",
    top_n: int = 3,
    trend_months: int | None = None,
    locations: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    """The ranked Hotspots frame: one row per cluster, with its statistics and footprint.

    Parameters
    ----------
    incidents
        Incidents frame in a metre CRS (``month``, ``category``, ``location`` and, for
        ``rank_by="harm"``, ``weight`` are used). Not modified.
    labels
        Cluster label per incident row: negative is noise, ``0..k-1`` are clusters (any order).
    footprints
        ``{label: polygon}`` for every cluster label, e.g. from
        :func:`hotspots.footprint.hotspot_footprints`.
    study_area_km2
        Area of the study area in km², the denominator of the PAI (0 is accepted only when
        there are no hotspots).
    rank_by
        ``"incidents"`` ranks by incidents per km² of the footprint, ``"harm"`` by the sum of
        ``weight`` per km² (densest first: the top N hotspots are the best use of patrol
        time). Ties go to the busier hotspot, then to the lower label.
    top_n
        How many crime types and streets to list per hotspot.
    trend_months
        Span ``m`` of the trend; see the module docstring (default: 3, or half of a period
        shorter than 6 months).
    locations
        The incidents' place names, :func:`hotspots.places.location_names` of ``incidents``,
        when the caller has them (an analysis names its incidents once for every table);
        None: named here.

    Returns
    -------
    hotspots : GeoDataFrame
        Columns ``HOTSPOT_COLUMNS`` in that order (with ``rank_by="harm"`` also ``harm``, the
        hotspot's summed weights, and ``harm_share``, its share of all the harm, after
        ``share``), CRS of ``incidents``, one row per hotspot in
        rank order: ``hotspot_id`` (see :func:`hotspot_id`), ``rank`` (1..), ``incidents``,
        ``share`` (of all incident rows given), ``area_km2``, ``density_km2`` (incidents per km²),
        ``pai`` (share / (area_km2 / study_area_km2), Chainey's Predictive Accuracy Index),
        ``top_categories`` and ``top_locations`` (lists of ``(name, count)`` pairs, most
        frequent first, ties by name; places named by :func:`hotspots.places.location_names`:
        streets without "On or near ", police.uk place types by their nearest street
        ("Supermarket near High Street"), "No Location" skipped; the files write them as
        ``"name count; ..."``), ``wards`` (``[]``) and
        ``patrol_coverage`` (NaN), filled by the overlay step, ``trend``, ``first_month`` and
        ``last_month`` ("YYYY-MM", the hotspot's own). No hotspots: same columns, no rows.

        ``trend`` = (last - previous) / previous, the hotspot's incidents in the last ``m``
        months of the period (all incidents' first to last month) against the ``m`` months
        before; ``m`` = ``trend_months``, else 3, or half a period shorter than 6 months
        (rounded down). NaN: one-month period, or none before but some since (new); 0.0: none
        in either span. ``trend_low``, ``trend_high``: its exact 95% interval (NaN when both
        spans had none; ``trend_high`` inf for a new hotspot); ``trend_p``: the exact p-value
        of no change (see the module docstring).
    ids : dict
        ``{cluster label: hotspot_id}``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"month": pd.to_datetime(["2024-01-01"] * 3), "category": ["Drugs"] * 3,
    ...      "location": ["On or near High Street"] * 3},
    ...     geometry=gpd.points_from_xy([0, 0, 500], [0, 0, 0]), crs="EPSG:27700")
    >>> table, ids = profile_hotspots(frame, np.array([0, 0, -1]), {0: box(0, 0, 100, 100)},
    ...                               study_area_km2=1.0)
    >>> row = table.iloc[0]
    >>> row["hotspot_id"], int(row["incidents"]), float(round(row["pai"], 2)), row["top_locations"]
    ('H01', 2, 66.67, [('High Street', 2)])
    >>> ids
    {0: 'H01'}
    """
    wanted = ["month", "category", "location"] + (["weight"] if rank_by == "harm" else [])
    if rank_by not in ("incidents", "harm"):
        raise ParameterError(f"rank_by must be 'incidents' or 'harm'; got {rank_by!r}.")
    frame = check_incidents(incidents, columns=wanted)
    n = len(frame)
    labs = _check_labels(labels, n)
    area_total = _check_area(study_area_km2)
    top = check_int(top_n, "top_n", minimum=1)

    months = month_numbers(frame["month"])
    first_period, period_months = _span(months)
    span = _resolve_trend_months(period_months, trend_months) if period_months else 0
    if trend_months is None and span:
        log.info(
            "trend: last %d months vs the %d before (period %s to %s)",
            span,
            span,
            month_label(first_period),
            month_label(first_period + period_months - 1),
        )
    elif period_months == 1:
        log.info("no trend: the incidents span one month")

    member = labs >= 0
    clusters = np.unique(labs[member])
    missing = [int(c) for c in clusters if int(c) not in footprints]
    if missing:
        raise ParameterError(
            f"footprints has no polygon for cluster label {missing[0]}; "
            "build them with hotspot_footprints(xy, labels)."
        )
    if clusters.size == 0:
        empty: dict[str, object] = {name: [] for name in HOTSPOT_COLUMNS}
        return _hotspots_frame(empty, frame.crs), {}
    if area_total == 0:  # allowed above only for the no-hotspot case (a degenerate hull)
        raise ParameterError(
            "study_area_km2 must be a positive area in km²; got 0 (give a boundary, or build "
            "the default study area with the footprints)."
        )

    groups = labs[member]
    slot = _slots(clusters, groups)  # 0..k-1, one per cluster
    k = clusters.size
    counts = np.bincount(slot, minlength=k).astype(np.int64)
    if rank_by == "harm":
        weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(weight).all():
            raise InputError("incidents['weight'] has missing or non-numeric values; fill them.")
        score = np.bincount(slot, weights=weight[member], minlength=k)
    else:
        score = counts.astype(float)

    geoms = np.array([footprints[int(c)] for c in clusters], dtype=object)
    area_km2 = shapely.area(geoms) / 1e6
    share = counts / n
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area_km2 > 0, counts / area_km2, np.nan)
        pai = np.where(area_km2 > 0, share / (area_km2 / area_total), np.nan)

    member_months = months[member]
    first_month, last_month = _month_bounds(slot, member_months, k)
    trends = _trends(slot, member_months, k, end=first_period + period_months - 1, span=span)

    categories = _top_counts(slot, *_codes(frame["category"][member]), top)
    place_code, place_names = location_codes(frame, locations)
    streets = _top_counts(slot, place_code[member], place_names, top)

    # densest first (incidents or harm per km²): the best use of patrol time; then busiest
    with np.errstate(divide="ignore", invalid="ignore"):
        score_density = np.where(area_km2 > 0, score / area_km2, np.inf)
    order = np.lexsort((clusters, -score, -score_density))
    ids = [hotspot_id(rank, k) for rank in range(1, k + 1)]
    columns: dict[str, object] = {
        "hotspot_id": ids,
        "rank": np.arange(1, k + 1),
        "incidents": counts[order],
        "share": share[order],
        "area_km2": area_km2[order],
        "density_km2": density[order],
        "pai": pai[order],
        "top_categories": [categories.get(int(i), []) for i in order],
        "top_locations": [streets.get(int(i), []) for i in order],
        "wards": [[] for _ in range(k)],
        "patrol_coverage": np.full(k, np.nan),
        **{name: values[order] for name, values in trends.items()},
        "first_month": [month_label(first_month[i]) for i in order],
        "last_month": [month_label(last_month[i]) for i in order],
        "geometry": geoms[order],
    }
    mapping = {int(clusters[i]): ids[pos] for pos, i in enumerate(order)}
    hotspots = _hotspots_frame(columns, frame.crs)
    if rank_by == "harm":
        total = float(weight.sum())
        at = hotspots.columns.get_loc("share") + 1
        hotspots.insert(at, "harm", score[order])
        hotspots.insert(at + 1, "harm_share", score[order] / total if total > 0 else np.nan)
    return hotspots, mapping


def monthly_counts(
    incidents: pd.DataFrame,
    hotspot_ids: npt.ArrayLike | Sequence[str | None],
    *,
    ids: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Incidents per hotspot per month, every month of the period (zeros filled), for charts.

    Parameters
    ----------
    incidents
        Incidents frame (its ``month`` column is used); the period is its first to last month.
    hotspot_ids
        One entry per incident row: either the hotspot id (``"H01"``; empty or missing for
        incidents in no hotspot), or the integer cluster label (negative for noise) together with
        ``ids``.
    ids
        ``{cluster label: hotspot_id}`` as returned by :func:`profile_hotspots`; needed when
        ``hotspot_ids`` holds labels. Every hotspot in it gets rows, even with no incidents.

    Returns
    -------
    DataFrame
        Columns ``hotspot_id`` (str), ``month`` (datetime64, first of the month), ``incidents``
        (int64), sorted by hotspot id then month.

    Examples
    --------
    >>> frame = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-01"])})
    >>> tidy = monthly_counts(frame, ["H01", "H01", ""])
    >>> tidy["month"].dt.strftime("%Y-%m").tolist(), tidy["incidents"].tolist()
    (['2024-01', '2024-02', '2024-03'], [1, 0, 1])
    """
    if "month" not in incidents.columns:
        raise InputError("incidents has no 'month' column; load the data with read_incidents.")
    n = len(incidents)
    categories: pd.Series | None = None  # find_hotspots' own ids: read from their codes
    if (
        isinstance(hotspot_ids, pd.Series)
        and isinstance(hotspot_ids.dtype, pd.CategoricalDtype)
        and hotspot_ids.cat.categories.inferred_type in ("string", "empty")
    ):
        categories = hotspot_ids
    values = np.asarray(hotspot_ids) if categories is None else np.empty(len(categories), object)
    if values.shape != (n,):
        raise ParameterError(
            f"hotspot_ids must hold one entry per incident ({n}); got shape {values.shape}."
        )
    if ids is not None:
        labs = _check_labels(np.asarray(hotspot_ids), n)
        hotspots = sorted({str(name) for name in ids.values()})
        position = {name: i for i, name in enumerate(hotspots)}
        distinct, inverse = np.unique(labs, return_inverse=True)
        slot_of = np.array([position[str(ids[int(v)])] if int(v) in ids else -1 for v in distinct])
        code = slot_of[inverse] if n else np.zeros(0, dtype=np.int64)
    elif values.dtype.kind in "iub":
        raise ParameterError(
            "hotspot_ids holds cluster labels; pass ids= the {label: hotspot_id} mapping "
            "returned by profile_hotspots."
        )
    else:
        series = pd.Series(values, dtype=object) if categories is None else categories
        name_code, names = text_codes(series)
        hotspots = sorted(set(names.tolist()) - {""})
        position = {name: i for i, name in enumerate(hotspots)}
        slot_of = np.array([position.get(name, -1) for name in names], dtype=np.int64)
        code = slot_of[name_code]
    months = month_numbers(incidents["month"])
    first, period_months = _span(months)
    keep = (code >= 0) & np.isfinite(months)
    flat = code[keep] * period_months + (months[keep].astype(np.int64) - first)
    tally = np.bincount(flat, minlength=len(hotspots) * period_months)
    # datetime64[M] counts months from 1970-01.
    month_values = (np.arange(first, first + period_months) - 1970 * 12).astype("datetime64[M]")
    source_dtype = incidents["month"].dtype
    month_dtype = (
        source_dtype
        if isinstance(source_dtype, np.dtype) and source_dtype.kind == "M"
        else np.dtype("datetime64[ns]")
    )
    return pd.DataFrame(
        {
            "hotspot_id": pd.Series(np.repeat(hotspots, period_months), dtype="str"),
            "month": pd.Series(np.tile(month_values, len(hotspots)).astype(month_dtype)),
            "incidents": pd.Series(tally, dtype="int64"),
        }
    )
