"""Evaluate a pilot operation: before/after in a target area against a control, and its buffer.

:func:`evaluate_pilot` answers "did crime fall in the target area more than elsewhere, and did it
move next door?" for an operation such as the 2018 St James Street pilot in Walthamstow:

* counts before / during / after the operation in the **target**, a **buffer** ring around it
  (where displacement or a diffusion of benefit would show) and a **control** area (by default
  the rest of the study area outside target and buffer);
* the percentage change of the monthly mean in each zone;
* the **relative effect size** (Farrington & Welsh 2002) with a 95% confidence interval that
  allows for over-dispersed monthly counts, and the **Weighted Displacement Quotient** (Bowers &
  Johnson 2003) of the buffer: their formulas, references and bands are in
  :mod:`hotspots.pilot_stats`.

This module returns numbers, bands and notes; :mod:`hotspots.report.pilot_text` words them for
partners (:func:`hotspots.report.pilot_text.pilot_summary`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from ._validate import (
    check_incidents,
    check_int,
    check_month,
    month_label,
    month_number,
    month_numbers,
)
from .errors import InputError, ParameterError
from .filter import filter_incidents
from .pilot_stats import (
    check_inflation,
    classify_wdq,
    monthly_dispersion,
    relative_effect,
    weighted_displacement_quotient,
)
from .pilot_zones import (
    Placebo,
    check_buffer,
    outside_coverage,
    pilot_zones,
    placebo_in_space,
    widened_dispersion,
    zone_masks,
)
from .study_area import AreaLike as Area

__all__ = [
    "MIN_DISPERSION_MONTHS",
    "PERIODS",
    "SMALL_COUNT",
    "ZONES",
    "Area",
    "PilotResult",
    "evaluate_pilot",
]

log = logging.getLogger(__name__)

#: Counts below this in any cell of the 2x2 table make the effect estimate unreliable.
SMALL_COUNT = 20
#: Months needed both before and after the operation to measure the counts' dispersion.
MIN_DISPERSION_MONTHS = 3
#: The zones of a pilot evaluation, in the order of :attr:`PilotResult.counts`' rows.
ZONES = ("target", "buffer", "control")
#: The periods of a pilot evaluation, in the order of :attr:`PilotResult.counts`' columns.
PERIODS = ("before", "during", "after")


# --- helpers -------------------------------------------------------------------------------


def _ratio_with_ci(
    counts: pd.DataFrame, zone: str, dispersion: Mapping[str, float]
) -> tuple[float, float, float]:
    """Relative effect of ``zone`` against the control from the period counts (NaN on a 0)."""
    table = counts.to_numpy(dtype=float)
    z, c = ZONES.index(zone), ZONES.index("control")
    zb, za, cb, ca = table[z, 0], table[z, 2], table[c, 0], table[c, 2]
    return relative_effect(
        zb, za, cb, ca, variance_inflation=dispersion[zone], control_inflation=dispersion["control"]
    )


# --- pilot evaluation ----------------------------------------------------------------------


@dataclass
class PilotResult:
    """What :func:`evaluate_pilot` found.

    Attributes
    ----------
    counts
        Incidents by zone (rows ``target``, ``buffer``, ``control``) and period (columns
        ``before``, ``during``, ``after``).
    months
        ``{"before": (first, last, n), "during": ..., "after": ...}`` with months as YYYY-MM.
    per_month
        ``counts`` divided by the months of each period.
    pct_change
        Change of the monthly mean from before to after, in percent, by zone.
    relative_effect, ci_low, ci_high
        Relative effect size ``(Tb*Ca)/(Ta*Cb)`` and its 95% CI (> 1: a fall relative to
        the control). NaN without a control or with a zero count.
    relative_change_pct, relative_change_ci
        The same as a percentage change in the target beyond the control's: ``100 (1/RES - 1)``
        and its CI (low, high).
    buffer_change_pct, buffer_change_ci
        The buffer's change beyond the control's, ``100 (Ba*Cb / (Bb*Ca) - 1)``, with its 95%
        CI from the same log-odds-ratio variance: a CI above 0 suggests displacement, below 0
        a diffusion of benefit, across 0 neither is shown.
    wdq, success_measure, displacement_measure
        The Weighted Displacement Quotient (Bowers & Johnson 2003) and its parts.
    wdq_band
        The WDQ's band, one of :data:`hotspots.pilot_stats.WDQ_BANDS`
        (:func:`hotspots.pilot_stats.classify_wdq`; ``"no_buffer"`` or ``"no_control"`` when
        it is not computed).
    monthly
        One row per month: ``month`` (datetime64), ``period`` (before, during, after, or
        missing: a month absent from the data), ``target``, ``buffer``, ``control`` counts;
        for a chart with the operation period shaded.
    geometries
        The zones used, as a GeoDataFrame (``zone``, ``area_km2``, ``geometry``).
    categories
        The crime types counted (None: all).
    dispersion
        The variance factor applied to each zone's counts (``target``, ``buffer``,
        ``control``): measured from the monthly counts
        (:func:`hotspots.pilot_stats.monthly_dispersion`) when ``dispersion_is_measured``, else
        the given ``variance_inflation``.
    notes
        Automatic choices made, as plain sentences.
    outside_coverage, coverage
        The share of each zone's area outside the data's coverage, and that coverage in words
        (:func:`hotspots.pilot_zones.outside_coverage`).
    placebo
        Where the target's change ranks among random areas of its size in the control area
        (:func:`hotspots.pilot_zones.placebo_in_space`); None unless ``placebos`` was given.
    """

    counts: pd.DataFrame
    months: dict[str, tuple[str, str, int]]
    per_month: pd.DataFrame
    pct_change: dict[str, float]
    relative_effect: float
    ci_low: float
    ci_high: float
    relative_change_pct: float
    relative_change_ci: tuple[float, float]
    buffer_change_pct: float
    buffer_change_ci: tuple[float, float]
    wdq: float
    success_measure: float
    displacement_measure: float
    wdq_band: str
    monthly: pd.DataFrame
    geometries: gpd.GeoDataFrame
    categories: list[str] | None
    has_control: bool
    control_is_default: bool
    dispersion: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ZONES, 1.0))
    dispersion_is_measured: bool = False
    notes: list[str] = field(default_factory=list)
    outside_coverage: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ZONES, 0.0))
    coverage: str = "the incidents' extent"
    placebo: Placebo | None = None

    def count(self, zone: str, period: str) -> float:
        """The incidents of one zone (:data:`ZONES`) in one period (:data:`PERIODS`)."""
        return float(self.counts.to_numpy(dtype=float)[ZONES.index(zone), PERIODS.index(period)])

    def rate(self, zone: str, period: str) -> float:
        """The monthly mean of one zone in one period (NaN for a period with no month)."""
        table = self.per_month.to_numpy(dtype=float)
        return float(table[ZONES.index(zone), PERIODS.index(period)])

    @property
    def significant(self) -> bool:
        """Whether the 95% CI of the relative effect excludes 1 (no change beyond the control)."""
        return bool(
            math.isfinite(self.ci_low)
            and math.isfinite(self.ci_high)
            and (self.ci_low > 1 or self.ci_high < 1)
        )

    @property
    def small_counts(self) -> list[str]:
        """Cells of the target/control 2x2 table with fewer than SMALL_COUNT incidents."""
        zones = ["target", "control"] if self.has_control else ["target"]
        return [
            f"{z} {p}" for z in zones for p in ("before", "after") if self.count(z, p) < SMALL_COUNT
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready figures (for the CLI's JSON output).

        The sentences are not in it: :func:`hotspots.report.pilot_text.pilot_record` adds them.
        """

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "counts": {z: {p: int(self.count(z, p)) for p in PERIODS} for z in ZONES},
            "months": {p: list(v) for p, v in self.months.items()},
            "pct_change": {z: num(v) for z, v in self.pct_change.items()},
            "relative_effect": num(self.relative_effect),
            "relative_effect_ci": [num(self.ci_low), num(self.ci_high)],
            "relative_change_pct": num(self.relative_change_pct),
            "relative_change_ci": [num(v) for v in self.relative_change_ci],
            "significant": self.significant,
            "buffer_change_pct": num(self.buffer_change_pct),
            "buffer_change_ci": [num(v) for v in self.buffer_change_ci],
            "wdq": num(self.wdq),
            "success_measure": num(self.success_measure),
            "displacement_measure": num(self.displacement_measure),
            "wdq_band": self.wdq_band,
            "categories": self.categories,
            "dispersion": {z: num(v) for z, v in self.dispersion.items()},
            "dispersion_measured": self.dispersion_is_measured,
            "outside_coverage": dict(self.outside_coverage),
            "placebo": None if self.placebo is None else self.placebo.to_dict(),
            "notes": list(self.notes),
        }


def _operation_months(start: str, end: str) -> tuple[int, int]:
    """The first and last month of the operation as month indices (year * 12 + month - 1)."""
    first_op = check_month(start, "start")
    last_op = check_month(end, "end")
    if last_op < first_op:
        raise ParameterError(f"end ({end}) is before start ({start}); swap them.")
    return month_number(first_op), month_number(last_op)


def _periods(
    months: npt.NDArray[np.float64],
    operation: tuple[int, int],
    before_n: int | None,
    after_n: int | None,
    notes: list[str],
) -> dict[str, tuple[int, int]]:
    """First and last month index of each period, within the months the data have."""
    first_i, last_i = operation
    ok = np.isfinite(months)
    if not ok.all():
        notes.append(f"{int((~ok).sum()):,} incidents without a month were left out")
    if not ok.any():
        raise InputError("no incidents have a month; check the input.")
    data_first, data_last = int(np.nanmin(months)), int(np.nanmax(months))
    if data_first >= first_i:
        raise ParameterError(
            f"start ({month_label(first_i)}) leaves no months before the operation: the data begin "
            f"{month_label(data_first)}; give a later start or more data."
        )
    if data_last <= last_i:
        raise ParameterError(
            f"end ({month_label(last_i)}) leaves no months after the operation: the data end "
            f"{month_label(data_last)}; give an earlier end or more data."
        )
    b_first = data_first if before_n is None else first_i - before_n
    if b_first < data_first:
        notes.append(
            f"before_months={before_n} reaches before the data ({month_label(data_first)}); "
            "the before period starts there"
        )
        b_first = data_first
    a_last = data_last if after_n is None else last_i + after_n
    if a_last > data_last:
        notes.append(
            f"after_months={after_n} reaches past the data ({month_label(data_last)}); "
            "the after period ends there"
        )
        a_last = data_last
    return {
        "before": (b_first, first_i - 1),
        "during": (first_i, last_i),
        "after": (last_i + 1, a_last),
    }


def _monthly_series(
    months: npt.NDArray[np.float64],
    masks: Mapping[str, npt.NDArray[np.bool_]],
    spans: Mapping[str, tuple[int, int]],
    data_months: npt.NDArray[np.float64],
    notes: list[str],
) -> pd.DataFrame:
    """One row per month of the compared span: its period and each zone's count.

    A month with no incident of any type anywhere (``data_months``: the months of every
    incident) is missing from the data (data.police.uk leaves out months a force did not
    supply): its period is "missing", neither a zero month nor in a mean.
    """
    ok = np.isfinite(months)
    b_first, a_last = spans["before"][0], spans["after"][1]
    span = np.arange(b_first, a_last + 1)
    rows: dict[str, Any] = {
        "month": pd.to_datetime([f"{month_label(int(m))}-01" for m in span]),
        "period": [
            next((p for p, (lo, hi) in spans.items() if lo <= m <= hi), "outside") for m in span
        ],
    }
    for zone, mask in masks.items():
        sel = months[mask & ok].astype(int)
        sel = sel[(sel >= b_first) & (sel <= a_last)]
        rows[zone] = np.bincount(sel - b_first, minlength=len(span)).astype(np.int64)
    present = np.isin(span, np.unique(data_months[np.isfinite(data_months)]).astype(int))
    rows["period"] = [
        p if has else "missing" for p, has in zip(rows["period"], present, strict=True)
    ]
    missing = [month_label(int(m)) for m, has in zip(span, present, strict=True) if not has]
    if missing:
        notes.append(
            f"{len(missing)} month{'s' if len(missing) != 1 else ''} missing from the data "
            f"({', '.join(missing)}) {'are' if len(missing) != 1 else 'is'} left out of the "
            "counts and the monthly means"
        )
    monthly = pd.DataFrame(rows)
    monthly["period"] = monthly["period"].astype("str")
    return monthly


def _period_table(
    monthly: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float], npt.NDArray[np.float64]]:
    """Counts and monthly means by zone and period, the change by zone, the months by period."""
    period = monthly["period"].to_numpy()
    table = np.array(
        [[float(monthly[z].to_numpy()[period == p].sum()) for p in PERIODS] for z in ZONES]
    )
    counts = pd.DataFrame(
        table.astype(np.int64), index=pd.Index(list(ZONES), name="zone"), columns=list(PERIODS)
    )
    n_months = np.array([float(np.sum(period == p)) for p in PERIODS])
    for p, n in zip(PERIODS, n_months, strict=True):
        if n == 0 and p != "during":
            raise InputError(
                f"every month {p} the operation is missing from the data; "
                "choose other months or add the missing data."
            )
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = table / n_months  # NaN during an operation the data do not cover
    per_month = pd.DataFrame(rates, index=counts.index, columns=list(PERIODS))
    pct_change: dict[str, float] = {}
    for i, zone in enumerate(ZONES):
        before_rate, after_rate = float(rates[i, 0]), float(rates[i, 2])
        pct_change[zone] = 100.0 * (after_rate / before_rate - 1.0) if before_rate > 0 else math.nan
    return counts, per_month, pct_change, n_months


def _dispersion(
    monthly: pd.DataFrame,
    n_months: npt.NDArray[np.float64],
    fixed_inflation: float | None,
    notes: list[str],
) -> tuple[dict[str, float], bool]:
    """Each zone's variance factor, and whether it was measured from the monthly counts."""
    if fixed_inflation is not None:
        return dict.fromkeys(ZONES, fixed_inflation), False
    if min(n_months[0], n_months[2]) < MIN_DISPERSION_MONTHS:
        notes.append(
            f"fewer than {MIN_DISPERSION_MONTHS} months before or after the operation: too few "
            "to measure how much the monthly counts vary, so the intervals assume Poisson counts"
        )
        return dict.fromkeys(ZONES, 1.0), False
    period = monthly["period"].to_numpy()
    measured = {
        zone: monthly_dispersion(
            monthly[zone].to_numpy()[period == "before"],
            monthly[zone].to_numpy()[period == "after"],
        )
        for zone in ZONES
    }
    return measured, True


def _as_change(res: float) -> float:
    """A relative effect as the percentage change beyond the control's, ``100 (1/RES - 1)``."""
    return 100.0 * (1.0 / res - 1.0) if math.isfinite(res) and res > 0 else math.nan


def _as_change_ci(low: float, high: float) -> tuple[float, float]:
    """The CI of a relative effect as percentage changes (low, high); NaNs without one."""
    if math.isfinite(low) and low > 0:
        return (100.0 * (1.0 / high - 1.0), 100.0 * (1.0 / low - 1.0))
    return (math.nan, math.nan)


def _effects(
    counts: pd.DataFrame, dispersion: Mapping[str, float], has_control: bool, buffer: float
) -> dict[str, Any]:
    """The relative effects of target and buffer, the WDQ and its band, as PilotResult fields.

    RES and WDQ compare zones within each period, so unequal period lengths cancel out.
    """
    table = counts.to_numpy(dtype=float)
    tb, ta, bb, ba, cb, ca = (float(table[i, j]) for i in range(3) for j in (0, 2))
    if has_control:
        res, low, high = _ratio_with_ci(counts, "target", dispersion)
        buf_res, buf_low, buf_high = _ratio_with_ci(counts, "buffer", dispersion)
        wdq, success, displacement = weighted_displacement_quotient(tb, ta, bb, ba, cb, ca)
        if buffer == 0:
            wdq = displacement = math.nan
    else:
        res = low = high = wdq = success = displacement = math.nan
        buf_res = buf_low = buf_high = math.nan
    if buffer == 0:
        band = "no_buffer"
    elif not has_control:
        band = "no_control"
    else:
        band = classify_wdq(wdq, success)
    return {
        "relative_effect": res,
        "ci_low": low,
        "ci_high": high,
        "relative_change_pct": _as_change(res),
        "relative_change_ci": _as_change_ci(low, high),
        "buffer_change_pct": _as_change(buf_res),
        "buffer_change_ci": _as_change_ci(buf_low, buf_high),
        "wdq": wdq,
        "success_measure": success,
        "displacement_measure": displacement,
        "wdq_band": band,
    }


def evaluate_pilot(
    incidents: gpd.GeoDataFrame,
    *,
    target: Area,
    start: str,
    end: str,
    buffer_m: float = 400.0,
    control: Area | None = None,
    before_months: int | None = None,
    after_months: int | None = None,
    categories: Sequence[str] | None = None,
    study_area: Area | None = None,
    variance_inflation: float | str = "auto",
    placebos: int = 99,
    seed: int = 0,
) -> PilotResult:
    """Before/after evaluation of an operation in a target area against a control area.

    Parameters
    ----------
    incidents
        Incidents frame in metres (from :func:`hotspots.read_incidents`); not modified.
    target
        The operation's area: a shapely polygon in the incidents' CRS, or a GeoDataFrame /
        GeoSeries in any CRS (its polygons are merged).
    start, end
        First and last month of the operation, ``"YYYY-MM"``, inclusive ("during").
    buffer_m
        Width in metres of the ring around the target where displacement or a diffusion of
        benefit is looked for (Bowers & Johnson's buffer). 0 for none.
    control
        The comparison area. Default (None): ``study_area`` (or, without one, the convex hull
        of all the incidents) minus the target and its buffer. A given control has the target
        and buffer cut out of it. A control like the target (similar streets, similar crime)
        is better than the rest of a borough; the default is only a start.
    before_months, after_months
        Months before ``start`` and after ``end`` to compare; None takes every month the data
        has on that side.
    categories
        Crime types to count (published names or API slugs); None counts all.
    study_area
        The borough or study boundary the default control is cut from.
    variance_inflation
        ``"auto"`` (default): each zone's variance terms are scaled by the dispersion of its
        own monthly counts (:func:`hotspots.pilot_stats.monthly_dispersion`), so the intervals
        allow for the month-to-month variation real counts show. A number multiplies every
        term instead (1 = Poisson, the narrowest interval; Farrington et al. 2007 used
        ``0.0008 N + 1.2``).
    placebos, seed
        Placebo in space: this many copies of the target moved at random (``seed``) into the
        control area, to rank the target's change among them and to widen the effect's
        interval by how much such places change on their own
        (:func:`hotspots.pilot_zones.widened_dispersion`); 99 by default, 0 for none; none
        either when no copy fits in the control area (said in the notes).

    Returns
    -------
    PilotResult
        Counts, changes, the relative effect with its 95% CI, the WDQ and its band, the monthly
        series and notes (:func:`hotspots.report.pilot_text.pilot_summary` words them). The
        effect and the WDQ compare the before and after periods only; the months of the
        operation are counted and charted but left out of them. Zones do not overlap: an
        incident in the target is not in the buffer, one in either is not in the control
        (points on a boundary go to the first zone).

    Raises
    ------
    ParameterError
        Bad months, a target or control with no area, a negative buffer, no months before or
        after the operation.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> pts = [Point(50, 50)] * 9 + [Point(900, 900)] * 16
    >>> months = ["2024-01"] * 6 + ["2024-03"] * 3 + ["2024-01"] * 8 + ["2024-03"] * 8
    >>> inc = gpd.GeoDataFrame({"month": pd.to_datetime(months), "category": ["Robbery"] * 25},
    ...                        geometry=pts, crs="EPSG:27700")
    >>> res = evaluate_pilot(inc, target=Point(50, 50).buffer(100), start="2024-02",
    ...                      end="2024-02", buffer_m=100, control=Point(900, 900).buffer(100))
    >>> res.counts.loc["target"].tolist(), round(res.relative_effect, 2)
    ([6, 0, 3], 2.0)
    """
    incidents = check_incidents(incidents, columns=("month", "category"))
    buffer = check_buffer(buffer_m)
    operation = _operation_months(start, end)
    before_n = (
        None if before_months is None else check_int(before_months, "before_months", minimum=1)
    )
    after_n = None if after_months is None else check_int(after_months, "after_months", minimum=1)
    fixed_inflation = check_inflation(variance_inflation)
    notes: list[str] = []
    zones = pilot_zones(incidents, target, control, study_area, buffer, notes)

    frame = incidents
    cats: list[str] | None = None
    if categories:
        frame = filter_incidents(incidents, categories=list(categories))
        cats = sorted(set(frame["category"].astype(str)))
    months = month_numbers(frame["month"])
    spans = _periods(months, operation, before_n, after_n, notes)
    masks = zone_masks(frame, zones, buffer)
    monthly = _monthly_series(months, masks, spans, month_numbers(incidents["month"]), notes)
    counts, per_month, pct_change, n_months = _period_table(monthly)
    dispersion, measured = _dispersion(monthly, n_months, fixed_inflation, notes)
    shares, coverage = outside_coverage(incidents, zones, study_area)
    placebo = None
    if isinstance(placebos, bool) or not isinstance(placebos, int) or placebos < 0:
        raise ParameterError(
            f"placebos must be a whole number >= 0; got {placebos!r}.", argument="placebos"
        )
    if placebos and zones.has_control:
        spans_n = {p: (*spans[p], int(n)) for p, n in zip(PERIODS, n_months, strict=True)}
        try:
            placebo = placebo_in_space(frame, months, spans_n, zones, n=placebos, seed=seed)
        except InputError as exc:
            notes.append(f"no placebo check: {exc}")
    target_counts = counts.to_numpy(dtype=float)[0]
    effect_dispersion = widened_dispersion(dispersion, target_counts[0], target_counts[2], placebo)

    geoms = (zones.target, zones.buffer, zones.control)
    geometries = gpd.GeoDataFrame(
        {
            "zone": pd.Series(list(ZONES), dtype="str"),
            "area_km2": [g.area / 1e6 for g in geoms],
        },
        geometry=list(geoms),
        crs=incidents.crs,
    )
    months_out = {
        p: (month_label(lo), month_label(hi), int(n))
        for (p, (lo, hi)), n in zip(spans.items(), n_months, strict=True)
    }
    for note in notes:
        log.info("evaluate_pilot: %s", note)
    return PilotResult(
        counts=counts,
        months=months_out,
        per_month=per_month,
        pct_change=pct_change,
        **_effects(counts, effect_dispersion, zones.has_control, buffer),
        monthly=monthly,
        geometries=geometries,
        categories=cats,
        has_control=zones.has_control,
        control_is_default=zones.control_is_default,
        dispersion=dispersion,
        dispersion_is_measured=measured,
        notes=notes,
        outside_coverage=shares,
        coverage=coverage,
        placebo=placebo,
    )
