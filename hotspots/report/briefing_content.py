"""What a briefing says, as text, before it is a page: one owner for the page and the screen.

:func:`briefing_content` decides every figure of a briefing (the headline numbers, the hotspot
and ward tables with small counts hidden, the scope: months, crime types, wards), so the
printable page (:func:`hotspots.report.briefing.briefing_html`) and the dashboard beside it show
the same words: a count the page withholds is never printed on the screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import check_int
from ..disclosure import is_small, total_exposes
from ..errors import InputError, ParameterError
from .briefing_tables import (
    SuppressedTable,
    SuppressedWardTable,
    in_rank_order,
    suppressed_table,
    suppressed_ward_table,
)
from .scope import Scope, analysis_scope
from .wording import DASH, WITHHELD, n_months, percent, suppress_small

__all__ = ["BriefingContent", "Figure", "briefing_content"]


@dataclass(frozen=True)
class Figure:
    """One headline number: its value as printed, what it counts (after the number on the
    page), a note under it, and its heading where it stands alone (on a screen)."""

    value: str
    label: str
    note: str = ""
    heading: str = ""


@dataclass(frozen=True)
class BriefingContent:
    """Every figure of a briefing, as text (:func:`briefing_content`).

    Attributes
    ----------
    scope
        The months, crime types and wards counted.
    headline
        Incidents analysed, hotspots, share of incidents in hotspots, share of the area.
    hotspots
        The hotspot table (:func:`suppressed_table`).
    wards
        The ward table (:func:`suppressed_ward_table`), or None without a ward table.
    outside
        The incidents in no ward (None: unknown or no ward table).
    threshold
        Counts from 1 to ``threshold - 1`` are hidden.
    trend_months
        The months each side of the trend comparison (0: none).
    trend_against
        The months before the chosen ones that the trend compares with, when it is that
        change (the hotspots' ``trend_against``, :func:`hotspots.period_change.with_period_change`);
        None for the analysis' own trend (its last ``trend_months`` against as many before).
    """

    scope: Scope
    headline: tuple[Figure, ...]
    hotspots: SuppressedTable
    wards: SuppressedWardTable | None
    outside: int | None
    threshold: int
    trend_months: int
    trend_against: str | None = None


def _study_area_km2(hotspots: pd.DataFrame) -> float | None:
    """The study area the PAI was measured against: area x PAI / share of any hotspot."""
    if not {"area_km2", "pai", "share"} <= set(hotspots.columns) or not len(hotspots):
        return None
    area = pd.to_numeric(hotspots["area_km2"], errors="coerce").to_numpy(dtype=float)
    pai = pd.to_numeric(hotspots["pai"], errors="coerce").to_numpy(dtype=float)
    share = pd.to_numeric(hotspots["share"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        study = area * pai / share
    study = study[np.isfinite(study) & (study > 0)]
    return float(np.median(study)) if study.size else None


def _incidents_outside(given: object) -> int | None:
    """The incidents in no ward as given (``ward_table(...).incidents_outside``; None: unknown)."""
    if isinstance(given, int | np.integer) and not isinstance(given, bool) and given >= 0:
        return int(given)
    return None


def _hotspot_wards(hotspots: pd.DataFrame) -> dict[str, object] | None:
    """``{hotspot id: its wards}`` as the hotspot table prints them, or None."""
    if not {"hotspot_id", "wards"} <= set(hotspots.columns):
        return None
    return dict(zip(hotspots["hotspot_id"].astype(str), hotspots["wards"], strict=True))


def _trend_against(hotspots: pd.DataFrame) -> str | None:
    """The months the hotspots' trend compares with (``trend_against``), or None."""
    if "trend_against" not in hotspots.columns:
        return None
    named = hotspots["trend_against"].dropna().astype(str)
    return str(named.iloc[0]) if len(named) else None


def _trend_months(incidents: pd.DataFrame) -> int:
    """The months each side of the trend comparison (0 when there is none)."""
    if "month" not in incidents.columns or not len(incidents):
        return 0
    from ..profile import trend_window

    try:
        return trend_window(incidents)
    except InputError:
        return 0


def _in_hotspots_exposes(counts: pd.Series, top_n: int, limit: int) -> bool:
    """Whether the incidents in hotspots, less the counts the hotspot table shows (its first
    ``top_n`` by rank), give away a small count: one shown as "fewer than", or a hotspot not
    listed (:func:`hotspots.disclosure.total_exposes`)."""
    values = counts.fillna(0).to_numpy(dtype=float)
    listed, rest = values[:top_n], values[top_n:]
    small = [v for v in listed if is_small(v, limit)]
    hidden = small + [float(v) for v in rest]
    bounds = [(1.0, limit - 1.0)] * len(small) + [(1.0, math.inf)] * len(rest)
    return total_exposes(hidden, bounds, limit)


def _headline(
    hotspots: pd.DataFrame,
    n_total: int,
    period_months: int,
    wards_rows: SuppressedWardTable | None,
    limit: int,
    top_n: int,
) -> tuple[Figure, ...]:
    """The four headline numbers: incidents analysed, hotspots, share in hotspots, area share."""
    n_hotspots = len(hotspots)
    counts = pd.to_numeric(in_rank_order(hotspots)["incidents"], errors="coerce")
    in_hotspots = float(counts.sum()) if n_hotspots else 0.0
    share = in_hotspots / n_total if n_total else None
    study = _study_area_km2(hotspots)
    area_share = None
    if study and "area_km2" in hotspots.columns:
        area = float(pd.to_numeric(hotspots["area_km2"], errors="coerce").sum())
        area_share = area / study
    # the ward table's suppression could not hide a small count from a printed total: do not
    # print that total exactly
    hide_analysed = wards_rows is not None and wards_rows.incidents_total_exposes
    hidden_total = (
        is_small(n_total, limit)
        or is_small(in_hotspots, limit)
        or hide_analysed
        or (wards_rows is not None and wards_rows.hotspot_incidents_total_exposes)
        or _in_hotspots_exposes(counts, top_n, limit)
    )
    return (
        Figure(
            WITHHELD
            if hide_analysed and not is_small(n_total, limit)
            else suppress_small(n_total, threshold=limit),
            "incidents analysed",
            n_months(period_months),
            "Incidents counted",
        ),
        Figure(f"{n_hotspots:,}", "hotspots" if n_hotspots != 1 else "hotspot", "", "Hotspots"),
        Figure(
            DASH if hidden_total else percent(share),
            "of incidents are in hotspots",
            "" if hidden_total else f"{suppress_small(in_hotspots, threshold=limit)} incidents",
            "Share of incidents in hotspots",
        ),
        Figure(
            percent(area_share),
            "of the area is covered by hotspots",
            "of the study area (the area the PAI is measured against)"
            if area_share is not None
            else "",
            "Share of the area in hotspots",
        ),
    )


def briefing_content(
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: pd.DataFrame,
    period: tuple[str, str],
    ward_table: pd.DataFrame | None = None,
    incidents_outside: int | None = None,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
    top_n: int = 10,
    threshold: int = 5,
) -> BriefingContent:
    """Every figure of a briefing as text, small counts hidden: what the page and the screen
    print.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``Analysis.hotspots``: its wards filled in by
        :func:`hotspots.overlay.overlay_hotspots`; may be empty).
    incidents
        The incidents analysed (their number, months and crime types are used).
    period
        First and last month analysed, ``("YYYY-MM", "YYYY-MM")``.
    ward_table, incidents_outside
        ``Analysis.ward_table`` and ``Analysis.incidents_outside_wards``
        (:func:`hotspots.overlay.ward_table`), or None.
    crime_types
        The crime types chosen (None: those of the incidents).
    ward_names
        The wards chosen (empty: no ward filter; None: not said).
    top_n
        How many hotspots the table lists.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".

    Returns
    -------
    BriefingContent

    Examples
    --------
    >>> hs = pd.DataFrame({"hotspot_id": ["H01"], "incidents": [3]})
    >>> inc = pd.DataFrame({"category": ["Drugs"] * 20})
    >>> c = briefing_content(hotspots=hs, incidents=inc, period=("2024-01", "2024-01"))
    >>> [f.value for f in c.headline[:2]], c.hotspots.table.loc[0, "Incidents"]
    (['20', '1'], 'fewer than 5')
    >>> c.scope.crime_types
    ('Drugs',)
    """
    if not isinstance(incidents, pd.DataFrame):
        raise ParameterError(
            f"incidents: expected the frame read_incidents returns, got {type(incidents).__name__}."
        )
    scope = analysis_scope(incidents, period, crime_types=crime_types, ward_names=ward_names)
    limit = check_int(threshold, "threshold", minimum=1)
    table = suppressed_table(hotspots, threshold=limit, top_n=top_n)
    outside = None if ward_table is None else _incidents_outside(incidents_outside)
    wards_rows = (
        None
        if ward_table is None
        else suppressed_ward_table(
            ward_table,
            threshold=limit,
            incidents_outside=outside,
            hotspot_wards=_hotspot_wards(hotspots),
        )
    )
    return BriefingContent(
        scope=scope,
        headline=_headline(hotspots, len(incidents), scope.months, wards_rows, limit, top_n),
        hotspots=table,
        wards=wards_rows,
        outside=outside,
        threshold=limit,
        trend_months=_trend_months(incidents),
        trend_against=_trend_against(hotspots),
    )
