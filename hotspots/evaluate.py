"""Evaluate hotspot work: a pilot operation (before/after against a control) and hotspot maps.

:func:`evaluate_pilot` answers "did crime fall in the target area more than elsewhere, and did it
move next door?" for an operation such as the 2018 St James Street pilot in Walthamstow:

* counts before / during / after the operation in the **target**, a **buffer** ring around it
  (where displacement or a diffusion of benefit would show) and a **control** area (by default
  the rest of the study area outside target and buffer);
* the percentage change of the monthly mean in each zone;
* the **relative effect size** (Farrington & Welsh 2002; the odds ratio of the 2x2 table of
  counts, as used by Bowers & Johnson 2003 and in the Campbell Collaboration reviews of
  situational prevention)::

      RES = (Tb * Ca) / (Ta * Cb),   var(ln RES) = 1/Tb + 1/Ta + 1/Cb + 1/Ca

  with a 95% confidence interval ``exp(ln RES +- 1.96 sqrt(var))``. RES > 1 means crime fell in
  the target relative to the control. It is reported to partners as the relative change
  ``1/RES - 1`` (-35% = "35% lower than the control area's trend predicts"). Those variances
  hold for Poisson counts. Real monthly counts are over-dispersed (their month-to-month
  variation exceeds the Poisson's, from seasons, events and recording), which makes a Poisson
  interval too narrow and finds "effects" at places where nothing was done. By default
  (``variance_inflation="auto"``) each zone's terms are scaled by its **dispersion** measured
  from its own monthly counts, the quasi-Poisson Pearson estimate (McCullagh & Nelder 1989,
  *Generalized Linear Models*, 2nd ed., section 4.5)::

      phi_zone = max(1, sum over before and after months of (n_m - mean_period)^2 / mean_period
                        / (months - 2))
      var(ln RES) = phi_T (1/Tb + 1/Ta) + phi_C (1/Cb + 1/Ca)

  since a period total of over-dispersed monthly counts has variance ``phi`` times its mean.
  Trends and seasons inside a period raise ``phi``, which errs on the side of a wider interval.
  (Farrington et al. 2007 use one factor ``D = 0.0008 N + 1.2`` fitted to CCTV evaluations; a
  number given as ``variance_inflation`` multiplies every term like that, and 1 is Poisson.)
* the **Weighted Displacement Quotient** (Bowers & Johnson 2003, *Journal of Quantitative
  Criminology* 19(3), 275-301)::

      WDQ = (Ba/Ca - Bb/Cb) / (Ta/Ca - Tb/Cb)

  whose denominator is the *success measure* (negative when crime fell in the target relative
  to the control) and numerator the *buffer displacement measure* (positive when crime rose in
  the buffer relative to the control). With a successful target: WDQ > 1 a diffusion of benefit
  larger than the direct effect; 0 < WDQ <= 1 some diffusion of benefit; WDQ = 0 neither;
  -1 < WDQ < 0 some displacement, smaller than the benefit (a net gain); WDQ < -1 displacement
  larger than the benefit. Without a success the quotient has no meaning and is not
  interpreted.

The Weighted Displacement Difference (Wheeler & Ratcliffe 2018, *Crime Science* 7:7) is not
used: it compares raw count differences, so it needs a control of about the target's size,
whereas the default control here is the rest of a borough, many times larger.

:func:`evaluate_forecast` scores hotspot maps fitted on one period against the incidents of a
later one, at equal shares of the study area, with the hit rate, the Predictive Accuracy Index
(PAI, Chainey, Tompson & Uhlig 2008), the Recapture Rate Index (RRI, Levine 2008) and the
Predictive Efficiency Index (PEI, Hunt 2016).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .errors import InputError, ParameterError
from .incidents import filter_incidents

__all__ = [
    "FORECAST_COLUMNS",
    "MIN_DISPERSION_MONTHS",
    "SMALL_COUNT",
    "PilotResult",
    "evaluate_forecast",
    "evaluate_pilot",
    "forecast_maps",
    "interpret_wdq",
    "monthly_dispersion",
    "relative_effect",
    "weighted_displacement_quotient",
]

log = logging.getLogger(__name__)

#: Counts below this in any cell of the 2x2 table make the effect estimate unreliable.
SMALL_COUNT = 20
#: Months needed both before and after the operation to measure the counts' dispersion.
MIN_DISPERSION_MONTHS = 3
_Z95 = 1.959963984540054
ZONES = ("target", "buffer", "control")
PERIODS = ("before", "during", "after")

Area: TypeAlias = BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries


# --- formulas ------------------------------------------------------------------------------


def relative_effect(
    tb: float,
    ta: float,
    cb: float,
    ca: float,
    *,
    variance_inflation: float = 1.0,
    control_inflation: float | None = None,
) -> tuple[float, float, float]:
    """Relative effect size (odds ratio) of a before/after, target/control table, with its 95% CI.

    ``RES = (tb * ca) / (ta * cb)`` (Farrington & Welsh 2002); ``var(ln RES)`` is
    ``variance_inflation (1/tb + 1/ta) + control_inflation (1/cb + 1/ca)``. RES > 1: crime
    fell in the target relative to the control. NaNs when a count is 0.

    Parameters
    ----------
    tb, ta, cb, ca
        Counts in the target before and after, the control before and after.
    variance_inflation
        Factor for over-dispersed counts (1 = Poisson): the target's dispersion, and the
        control's too unless ``control_inflation`` is given.
    control_inflation
        The control's own dispersion factor; None: ``variance_inflation``.

    Returns
    -------
    (res, low, high)

    Examples
    --------
    >>> res, low, high = relative_effect(100, 50, 1000, 1000)
    >>> round(res, 3), round(low, 3), round(high, 3)
    (2.0, 1.409, 2.84)
    """
    counts = np.array([tb, ta, cb, ca], dtype=float)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ParameterError("counts must be finite and >= 0.")
    phi_c = variance_inflation if control_inflation is None else control_inflation
    for label, value in (("variance_inflation", variance_inflation), ("control_inflation", phi_c)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ParameterError(
                f"{label} must be a number > 0 (1 = Poisson); got {value!r}.", argument=label
            )
    if np.any(counts == 0):
        return math.nan, math.nan, math.nan
    res = float((tb * ca) / (ta * cb))
    se = math.sqrt(variance_inflation * (1 / tb + 1 / ta) + phi_c * (1 / cb + 1 / ca))
    log_res = math.log(res)
    return res, math.exp(log_res - _Z95 * se), math.exp(log_res + _Z95 * se)


def weighted_displacement_quotient(
    tb: float, ta: float, bb: float, ba: float, cb: float, ca: float
) -> tuple[float, float, float]:
    """The Weighted Displacement Quotient of Bowers & Johnson (2003).

    ``WDQ = (ba/ca - bb/cb) / (ta/ca - tb/cb)``: the buffer displacement measure over the
    success measure. NaN where a control count is 0 or the success measure is 0.

    Parameters
    ----------
    tb, ta, bb, ba, cb, ca
        Counts before and after in the target, the buffer and the control.

    Returns
    -------
    (wdq, success_measure, displacement_measure)

    Examples
    --------
    Target 100 -> 60, buffer 50 -> 55, control 1000 -> 1000: the target fell by 0.04 of the
    control, the buffer rose by 0.005 of it, WDQ = 0.005 / -0.04 = -0.125 (some displacement,
    much smaller than the benefit).

    >>> [round(v, 4) for v in weighted_displacement_quotient(100, 60, 50, 55, 1000, 1000)]
    [-0.125, -0.04, 0.005]
    """
    if cb <= 0 or ca <= 0:
        return math.nan, math.nan, math.nan
    success = ta / ca - tb / cb
    displacement = ba / ca - bb / cb
    wdq = displacement / success if success != 0 else math.nan
    return wdq, success, displacement


def interpret_wdq(wdq: float, success_measure: float) -> str:
    """Plain-words band of a WDQ (Bowers & Johnson 2003, Table 1).

    >>> interpret_wdq(-0.125, -0.04)
    'some displacement into the buffer, smaller than the fall in the target (a net benefit)'
    >>> interpret_wdq(0.5, 0.02)
    'not interpretable: crime did not fall in the target relative to the control'
    """
    if not math.isfinite(success_measure) or success_measure >= 0:
        return "not interpretable: crime did not fall in the target relative to the control"
    if not math.isfinite(wdq):
        return "not interpretable"
    if wdq > 1:
        return "diffusion of benefit into the buffer, larger than the fall in the target"
    if wdq > 0:
        return "some diffusion of benefit into the buffer"
    if wdq == 0:
        return "no displacement and no diffusion of benefit"
    if wdq > -1:
        return (
            "some displacement into the buffer, smaller than the fall in the target (a net benefit)"
        )
    return "displacement into the buffer larger than the fall in the target (no net benefit)"


# --- helpers -------------------------------------------------------------------------------


def _check_incidents(incidents: object, name: str = "incidents") -> gpd.GeoDataFrame:
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ParameterError(f"{name} must be a GeoDataFrame from read_incidents().")
    if incidents.crs is None or not incidents.crs.is_projected:
        raise InputError(
            f"{name} must be in a projected CRS in metres; read them with read_incidents()."
        )
    missing = [c for c in ("month", "category") if c not in incidents.columns]
    if missing:
        raise InputError(f"{name} has no {', '.join(missing)} column; use read_incidents().")
    return incidents


def _as_geometry(area: object, name: str, crs: Any) -> BaseGeometry:
    """One (multi)polygon in ``crs`` from a shapely geometry (assumed in ``crs``) or a frame."""
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise ParameterError(f"{name} has no CRS; give one (e.g. EPSG:27700).")
        if len(area) == 0:
            raise ParameterError(f"{name} is empty; give at least one polygon.")
        geom = area.to_crs(crs).union_all()
    elif isinstance(area, BaseGeometry):
        geom = area
    else:
        raise ParameterError(
            f"{name} must be a shapely Polygon (in the incidents' CRS) or a GeoDataFrame; "
            f"got {type(area).__name__}."
        )
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = shapely.get_parts(geom)
    polys = [g for g in geom if isinstance(g, Polygon | MultiPolygon)]
    merged = shapely.union_all(polys) if polys else Polygon()
    if merged.is_empty or merged.area <= 0:
        raise ParameterError(f"{name} has no area; give a polygon (buffer a line or point first).")
    return merged


def _month(text: str, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(str(text).strip()[:7] + "-01")
    except (ValueError, TypeError):
        raise ParameterError(f"{name} must be a month as YYYY-MM; got {text!r}.") from None
    if len(str(text).strip()) < 7 or pd.isna(stamp):
        raise ParameterError(f"{name} must be a month as YYYY-MM; got {text!r}.")
    return stamp


def _month_index(stamps: pd.Series) -> npt.NDArray[np.float64]:
    s = pd.to_datetime(stamps)
    out = (s.dt.year * 12 + s.dt.month - 1).to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(out, dtype=float)


def _ym(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _check_months(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ParameterError(
            f"{name} must be a whole number of months >= 1, or None; got {value!r}."
        )
    return int(value)


def _fmt_count(n: float) -> str:
    return f"{n:,.0f}"


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return "0%" if round(x) == 0 else f"{x:+.0f}%"  # never "-0%"


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


def monthly_dispersion(before: npt.ArrayLike, after: npt.ArrayLike) -> float:
    """Quasi-Poisson dispersion of a zone's monthly counts, from its before and after months.

    ``sum((n_m - mean_p)^2 / mean_p) / (months - 2)`` over both periods ``p`` (each with its own
    mean), at least 1 (Poisson). 1 when there are too few months to tell (fewer than 3 in all)
    or a period has no incidents.

    Examples
    --------
    >>> monthly_dispersion([10, 10, 10], [5, 5])   # steadier than Poisson: floored
    1.0
    >>> monthly_dispersion([4, 16, 10], [5, 5])    # (36 + 36 + 0) / 10 / (5 - 2)
    2.4
    """
    chi2 = 0.0
    months = 0
    for values in (before, after):
        n = np.asarray(values, dtype=float)
        mean = float(n.mean()) if len(n) else 0.0
        if mean <= 0:
            return 1.0
        chi2 += float(np.sum((n - mean) ** 2)) / mean
        months += len(n)
    if months < 3:
        return 1.0
    return max(1.0, round(chi2 / (months - 2), 10))


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
    wdq, success_measure, displacement_measure, wdq_interpretation
        The Weighted Displacement Quotient (Bowers & Johnson 2003) and its parts and band.
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
        ``control``): measured from the monthly counts (:func:`monthly_dispersion`) when
        ``dispersion_is_measured``, else the given ``variance_inflation``.
    notes
        Automatic choices made, as plain sentences.
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
    wdq_interpretation: str
    monthly: pd.DataFrame
    geometries: gpd.GeoDataFrame
    categories: list[str] | None
    has_control: bool
    control_is_default: bool
    dispersion: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ZONES, 1.0))
    dispersion_is_measured: bool = False
    notes: list[str] = field(default_factory=list)

    def _n(self, zone: str, period: str) -> float:
        return float(self.counts.to_numpy(dtype=float)[ZONES.index(zone), PERIODS.index(period)])

    def _rate(self, zone: str, period: str) -> float:
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
            f"{z} {p}" for z in zones for p in ("before", "after") if self._n(z, p) < SMALL_COUNT
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready figures (for the CLI's JSON output)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "counts": {z: {p: int(self._n(z, p)) for p in PERIODS} for z in ZONES},
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
            "wdq_interpretation": self.wdq_interpretation,
            "categories": self.categories,
            "dispersion": {z: num(v) for z, v in self.dispersion.items()},
            "dispersion_measured": self.dispersion_is_measured,
            "summary": self.summary(),
            "notes": list(self.notes),
        }

    def summary(
        self,
        *,
        suppress_below: int | None = None,
        unpublished: Collection[tuple[str, str]] = (),
    ) -> list[str]:
        """Plain sentences for partners that do not claim more than the figures show.

        Parameters
        ----------
        suppress_below
            For a published briefing: counts from 1 to ``suppress_below - 1`` are written
            "fewer than N", and the monthly rates and change worked out from them are left
            out, so the small count cannot be worked back. None (default): exact counts.
        unpublished
            ``(zone, period)`` totals a published page withholds for another reason (e.g. a
            total that would reveal small monthly counts): written "an unpublished number",
            with what is worked out from them left out like a small count's.
        """
        withheld = {(str(z), str(p)) for z, p in unpublished}

        def is_small(zone: str, period: str) -> bool:
            n = self._n(zone, period)
            return (zone, period) in withheld or (
                suppress_below is not None and 0 < n < suppress_below
            )

        def count(zone: str, period: str) -> str:
            if (zone, period) in withheld:
                return "an unpublished number"
            if is_small(zone, period):
                return f"fewer than {suppress_below}"
            return _fmt_count(self._n(zone, period))

        def hidden(*zones: str) -> bool:
            return any(is_small(z, p) for z in zones for p in ("before", "after"))

        what = "the selected crime types" if self.categories else "crime"
        b, a = self.months["before"], self.months["after"]
        rate_b = (
            ""
            if is_small("target", "before")
            else f" ({self._rate('target', 'before'):.1f} a month)"
        )
        rate_a = (
            "" if is_small("target", "after") else f" ({self._rate('target', 'after'):.1f} a month)"
        )
        change = (
            " (the change is not shown: the counts are too small to publish)"
            if hidden("target")
            else f", a change of {_pct(self.pct_change['target'])}"
        )
        before_n = count("target", "before")
        of = " of" if ("target", "before") in withheld else ""
        out = [
            f"Before the operation ({b[0]} to {b[1]}, {_months(b[2])}) the target area had "
            f"{before_n}{of} incidents of {what}{rate_b}; after it ({a[0]} to {a[1]}, "
            f"{_months(a[2])}) {count('target', 'after')}{rate_a}{change}."
        ]
        if b[2] != a[2]:
            out.append(
                f"The before and after periods differ in length ({b[2]} and {a[2]} months); "
                "monthly means are compared, but seasonality may not cancel out."
            )
        if not self.has_control:
            out.append(
                "There is no control area, so this change cannot be told apart from what "
                "would have happened anyway (trends, seasons, recording changes); it is not "
                "evidence that the operation worked."
            )
        else:
            where = (
                "the rest of the study area (outside the target and buffer)"
                if self.control_is_default
                else "the control area"
            )
            if hidden("control"):
                out.append(
                    f"Over the same periods {where} had too few incidents to publish its change."
                )
            else:
                out.append(
                    f"Over the same periods {where} changed by {_pct(self.pct_change['control'])}."
                )
            lo, hi = self.relative_change_ci
            if hidden("target", "control"):
                out.append(
                    "The counts are too small to publish an effect relative to the control area."
                )
            elif not math.isfinite(self.relative_effect):
                out.append("The relative effect cannot be estimated: a count is zero.")
            elif self.significant:
                fell = self.relative_change_pct < 0
                out.append(
                    f"Relative to the control area, the target's count after the operation was "
                    f"{abs(self.relative_change_pct):.0f}% {'lower' if fell else 'higher'} than "
                    f"the control's change would predict (95% confidence interval "
                    f"{_pct(lo)} to {_pct(hi)}). "
                    + (
                        "This is consistent with an effect of the operation, but does not rule "
                        "out other local causes."
                        if fell
                        else "Crime rose in the target beyond the control's change; look for "
                        "other local causes or recording changes before judging the operation."
                    )
                )
            else:
                out.append(
                    f"Relative to the control area the change in the target was "
                    f"{_pct(self.relative_change_pct)} (95% confidence interval {_pct(lo)} to "
                    f"{_pct(hi)}); the interval includes no change, so there is no evidence of "
                    "a change beyond what the control area shows."
                )
        if (
            self.has_control
            and math.isfinite(self.relative_effect)
            and not hidden("target", "control")
        ):
            out.append(self._interval_basis())
        small = self.small_counts
        if small:
            out.append(
                f"Counts are small (fewer than {SMALL_COUNT} in: {', '.join(small)}), so the "
                "figures are uncertain; treat them with caution."
            )
        bb, ba = self._n("buffer", "before"), self._n("buffer", "after")
        if float(self.geometries["area_km2"].to_numpy()[1]) <= 0:
            out.append("No buffer was drawn, so displacement was not assessed.")
        elif bb == 0 or ba == 0:
            out.append(
                "The buffer had no incidents before or after, so displacement cannot be assessed."
            )
        elif hidden("buffer", "control"):
            out.append(
                "Counts in the buffer or the control area are too small to publish, so "
                "displacement is not reported."
            )
        elif self.has_control:
            lo, hi = self.buffer_change_ci
            if math.isfinite(lo) and lo > 0:
                verdict = "this suggests displacement into the buffer"
            elif math.isfinite(hi) and hi < 0:
                verdict = "this suggests a diffusion of benefit into the buffer"
            else:
                verdict = (
                    "the interval includes no change, so there is no evidence of displacement "
                    "or of a diffusion of benefit"
                )
            out.append(
                "In the surrounding buffer the count changed by "
                f"{_pct(self.pct_change['buffer'])}, "
                f"{_pct(self.buffer_change_pct)} relative to the control area (95% confidence "
                f"interval {_pct(lo)} to {_pct(hi)}); {verdict}."
            )
            if math.isfinite(self.wdq):
                out.append(
                    f"Weighted Displacement Quotient {self.wdq:.2f} "
                    f"({self.wdq_interpretation}; it has no confidence interval, and values "
                    "near 0 mean little either way)."
                )
            else:
                out.append(f"Weighted Displacement Quotient {self.wdq_interpretation}.")
            if min(bb, ba) < SMALL_COUNT:
                out.append(
                    f"The buffer holds few incidents ({count('buffer', 'before')} before, "
                    f"{count('buffer', 'after')} after), so the displacement measures are "
                    "uncertain."
                )
        return out

    def _interval_basis(self) -> str:
        """One sentence on what the confidence intervals allow for."""
        phi_t, phi_c = self.dispersion["target"], self.dispersion["control"]
        if not self.dispersion_is_measured:
            if phi_t == 1 and min(self.months["before"][2], self.months["after"][2]) < (
                MIN_DISPERSION_MONTHS
            ):
                return (
                    f"With fewer than {MIN_DISPERSION_MONTHS} months before or after the "
                    "operation, how much the monthly counts vary cannot be measured: the "
                    "confidence intervals assume Poisson counts and are likely too narrow."
                )
            if phi_t == 1:
                return (
                    "The confidence intervals assume Poisson counts (variance_inflation=1); "
                    "real monthly counts vary more, so they are likely too narrow."
                )
            return f"The confidence intervals use a fixed variance inflation of {phi_t:g}."
        return (
            "The confidence intervals allow for how much the monthly counts vary: "
            f"{phi_t:.1f} times the Poisson variance in the target and {phi_c:.1f} times in "
            "the control area."
        )


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
        own monthly counts (:func:`monthly_dispersion`), so the intervals allow for the
        month-to-month variation real counts show. A number multiplies every term instead
        (1 = Poisson, the narrowest interval; Farrington et al. 2007 used
        ``0.0008 N + 1.2``).

    Returns
    -------
    PilotResult
        Counts, changes, the relative effect with its 95% CI, the WDQ, the monthly series and
        :meth:`PilotResult.summary` sentences. The effect and the WDQ compare the before and
        after periods only; the months of the operation are counted and charted but left out
        of them. Zones do not overlap: an incident in the target is not in the buffer, one in
        either is not in the control (points on a boundary go to the first zone).

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
    incidents = _check_incidents(incidents)
    try:
        buffer = float(buffer_m)
    except (TypeError, ValueError):
        raise ParameterError(f"buffer_m must be a number of metres; got {buffer_m!r}.") from None
    if not math.isfinite(buffer) or buffer < 0:
        raise ParameterError(f"buffer_m must be a number of metres >= 0; got {buffer_m!r}.")
    first_op = _month(start, "start")
    last_op = _month(end, "end")
    if last_op < first_op:
        raise ParameterError(f"end ({end}) is before start ({start}); swap them.")
    before_n = _check_months(before_months, "before_months")
    after_n = _check_months(after_months, "after_months")
    fixed_inflation = _check_inflation(variance_inflation)
    crs = incidents.crs
    notes: list[str] = []

    target_geom = _as_geometry(target, "target", crs)
    outer = target_geom.buffer(buffer, quad_segs=16) if buffer > 0 else target_geom
    buffer_geom = outer.difference(target_geom)
    all_xy = shapely.get_coordinates(incidents.geometry.to_numpy())
    if control is None and study_area is not None:
        control_geom = _as_geometry(study_area, "study_area", crs).difference(outer)
        control_is_default = True
        notes.append(
            f"control area: the study area minus the target and a {buffer:.0f} m buffer "
            "(give control= for a matched comparison area)"
        )
    elif control is None:
        if len(all_xy) < 3:
            raise InputError("too few incidents to draw a default control area; give control=.")
        hull = shapely.convex_hull(shapely.multipoints(all_xy))
        control_geom = hull.difference(outer)
        control_is_default = True
        notes.append(
            "control area: the convex hull of all the incidents minus the target and "
            f"a {buffer:.0f} m buffer (give control= or study_area= for a better one)"
        )
    else:
        given = _as_geometry(control, "control", crs)
        control_geom = given.difference(outer)
        control_is_default = False
        if control_geom.area < given.area * 0.999:
            notes.append("the target and its buffer were cut out of the control area")
    has_control = not control_geom.is_empty and control_geom.area > 0
    if not has_control:
        notes.append("the control area is empty once the target and buffer are cut out")

    frame = incidents
    cats: list[str] | None = None
    if categories:
        frame = filter_incidents(incidents, categories=list(categories))
        cats = sorted(set(frame["category"].astype(str)))
    months = _month_index(frame["month"])
    ok = np.isfinite(months)
    if not ok.all():
        notes.append(f"{int((~ok).sum()):,} incidents without a month were left out")
    first_i = int(first_op.year * 12 + first_op.month - 1)
    last_i = int(last_op.year * 12 + last_op.month - 1)
    if not ok.any():
        raise InputError("no incidents have a month; check the input.")
    data_first, data_last = int(np.nanmin(months)), int(np.nanmax(months))
    if data_first >= first_i:
        raise ParameterError(
            f"start ({_ym(first_i)}) leaves no months before the operation: the data begin "
            f"{_ym(data_first)}; give a later start or more data."
        )
    if data_last <= last_i:
        raise ParameterError(
            f"end ({_ym(last_i)}) leaves no months after the operation: the data end "
            f"{_ym(data_last)}; give an earlier end or more data."
        )
    b_first = data_first if before_n is None else first_i - before_n
    if b_first < data_first:
        notes.append(
            f"before_months={before_n} reaches before the data ({_ym(data_first)}); "
            "the before period starts there"
        )
        b_first = data_first
    a_last = data_last if after_n is None else last_i + after_n
    if a_last > data_last:
        notes.append(
            f"after_months={after_n} reaches past the data ({_ym(data_last)}); "
            "the after period ends there"
        )
        a_last = data_last
    spans = {
        "before": (b_first, first_i - 1),
        "during": (first_i, last_i),
        "after": (last_i + 1, a_last),
    }

    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    if len(xy) != len(frame):
        raise InputError("incidents must have one point geometry per row; use read_incidents().")
    x, y = xy[:, 0], xy[:, 1]
    in_target = shapely.intersects_xy(target_geom, x, y)
    in_buffer = ~in_target & (
        shapely.intersects_xy(buffer_geom, x, y) if buffer > 0 else np.zeros(len(x), bool)
    )
    in_control = (
        ~in_target & ~in_buffer & shapely.intersects_xy(control_geom, x, y)
        if has_control
        else np.zeros(len(x), bool)
    )
    zone_masks = {"target": in_target, "buffer": in_buffer, "control": in_control}

    # monthly series over the whole compared span
    span = np.arange(b_first, a_last + 1)
    rows: dict[str, Any] = {
        "month": pd.to_datetime([f"{_ym(int(m))}-01" for m in span]),
        "period": [
            next((p for p, (lo, hi) in spans.items() if lo <= m <= hi), "outside") for m in span
        ],
    }
    for zone, mask in zone_masks.items():
        sel = months[mask & ok].astype(int)
        sel = sel[(sel >= b_first) & (sel <= a_last)]
        rows[zone] = np.bincount(sel - b_first, minlength=len(span)).astype(np.int64)
    # a month with no incident of any type anywhere is missing from the data (data.police.uk
    # leaves out months a force did not supply): it is neither a zero month nor in a mean
    all_months = _month_index(incidents["month"])
    present = np.isin(span, np.unique(all_months[np.isfinite(all_months)]).astype(int))
    rows["period"] = [
        p if has else "missing" for p, has in zip(rows["period"], present, strict=True)
    ]
    missing = [_ym(int(m)) for m, has in zip(span, present, strict=True) if not has]
    if missing:
        notes.append(
            f"{len(missing)} month{'s' if len(missing) != 1 else ''} missing from the data "
            f"({', '.join(missing)}) {'are' if len(missing) != 1 else 'is'} left out of the "
            "counts and the monthly means"
        )
    monthly = pd.DataFrame(rows)
    monthly["period"] = monthly["period"].astype("str")

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

    too_few = fixed_inflation is None and min(n_months[0], n_months[2]) < MIN_DISPERSION_MONTHS
    if too_few:
        notes.append(
            f"fewer than {MIN_DISPERSION_MONTHS} months before or after the operation: too few "
            "to measure how much the monthly counts vary, so the intervals assume Poisson counts"
        )
        dispersion = dict.fromkeys(ZONES, 1.0)
    elif fixed_inflation is None:
        dispersion = {
            zone: monthly_dispersion(
                monthly[zone].to_numpy()[period == "before"],
                monthly[zone].to_numpy()[period == "after"],
            )
            for zone in ZONES
        }
    else:
        dispersion = dict.fromkeys(ZONES, fixed_inflation)

    # RES and WDQ compare zones within each period, so unequal period lengths cancel out
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
    rel_change = 100.0 * (1.0 / res - 1.0) if math.isfinite(res) and res > 0 else math.nan
    buf_change = (
        100.0 * (1.0 / buf_res - 1.0) if math.isfinite(buf_res) and buf_res > 0 else math.nan
    )
    buf_ci = (
        (100.0 * (1.0 / buf_high - 1.0), 100.0 * (1.0 / buf_low - 1.0))
        if math.isfinite(buf_low) and buf_low > 0
        else (math.nan, math.nan)
    )
    rel_ci = (
        (100.0 * (1.0 / high - 1.0), 100.0 * (1.0 / low - 1.0))
        if math.isfinite(low) and low > 0
        else (math.nan, math.nan)
    )
    if buffer == 0:
        interpretation = "not computed: no buffer (buffer_m=0)"
    elif not has_control:
        interpretation = "not computed: no control area"
    else:
        interpretation = interpret_wdq(wdq, success)

    geometries = gpd.GeoDataFrame(
        {
            "zone": pd.Series(list(ZONES), dtype="str"),
            "area_km2": [g.area / 1e6 for g in (target_geom, buffer_geom, control_geom)],
        },
        geometry=[target_geom, buffer_geom, control_geom],
        crs=crs,
    )
    months_out = {
        p: (_ym(lo), _ym(hi), int(n))
        for (p, (lo, hi)), n in zip(spans.items(), n_months, strict=True)
    }
    for note in notes:
        log.info("evaluate_pilot: %s", note)
    return PilotResult(
        counts=counts,
        months=months_out,
        per_month=per_month,
        pct_change=pct_change,
        relative_effect=res,
        ci_low=low,
        ci_high=high,
        relative_change_pct=rel_change,
        relative_change_ci=rel_ci,
        buffer_change_pct=buf_change,
        buffer_change_ci=buf_ci,
        wdq=wdq,
        success_measure=success,
        displacement_measure=displacement,
        wdq_interpretation=interpretation,
        monthly=monthly,
        geometries=geometries,
        categories=cats,
        has_control=has_control,
        control_is_default=control_is_default,
        dispersion=dispersion,
        dispersion_is_measured=fixed_inflation is None and not too_few,
        notes=notes,
    )


def _check_inflation(value: object) -> float | None:
    """None for "auto" (measure the dispersion), else the fixed factor, checked."""
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return None
        try:
            value = float(value)
        except ValueError:
            raise ParameterError(
                f'variance_inflation must be "auto" or a number > 0 (1 = Poisson); got {value!r}.',
                argument="variance_inflation",
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(
            f'variance_inflation must be "auto" or a number > 0 (1 = Poisson); got {value!r}.',
            argument="variance_inflation",
        )
    if value <= 0:
        raise ParameterError(
            f'variance_inflation must be "auto" or a number > 0 (1 = Poisson); got {value!r}.',
            argument="variance_inflation",
        )
    return float(value)


# --- forecast evaluation -------------------------------------------------------------------

FORECAST_COLUMNS = [
    "method",
    "area_share",
    "hit_rate",
    "pai",
    "rri",
    "pei",
    "area_km2",
    "test_hits",
    "fit_hits",
    "best_hit_rate",
    "map_share",
]


def _points_xy(frame: gpd.GeoDataFrame, crs: Any, name: str) -> npt.NDArray[np.float64]:
    frame = _check_incidents(frame, name)
    if frame.crs != crs:
        frame = frame.to_crs(crs)
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    if len(xy) != len(frame):
        raise InputError(f"{name} must have one point geometry per row; use read_incidents().")
    return xy


def _ordered_pieces(
    polygons: Sequence[BaseGeometry], study: BaseGeometry, max_area: float
) -> list[BaseGeometry]:
    """Cut each polygon to the study area and to what earlier (higher-ranked) ones left free.

    Stops once the pieces' area passes ``max_area``, so long ranked grids cost little.
    """
    pieces: list[BaseGeometry] = []
    taken: list[BaseGeometry] = []
    total = 0.0
    for poly in polygons:
        if poly is None or poly.is_empty:
            continue
        piece = poly.intersection(study)
        if taken:
            near = [t for t in taken if t.intersects(piece)]
            if near:
                piece = piece.difference(shapely.union_all(near))
        if piece.is_empty or piece.area <= 0:
            continue
        pieces.append(piece)
        taken.append(piece)
        total += piece.area
        if total >= max_area:
            break
    return pieces


def _first_piece(pieces: Sequence[BaseGeometry], xy: npt.NDArray[np.float64]) -> npt.NDArray:
    """Index of the first (highest-ranked) piece holding each point, -1 for none."""
    out = np.full(len(xy), -1, dtype=np.int64)
    if not pieces or len(xy) == 0:
        return out
    points = shapely.points(xy)
    tree = shapely.STRtree(points)
    piece_idx, point_idx = tree.query(np.asarray(pieces, dtype=object), predicate="intersects")
    order = np.argsort(piece_idx, kind="stable")[::-1]  # later pieces first, earlier overwrite
    out[point_idx[order]] = piece_idx[order]
    return out


def _capture(
    pieces: Sequence[BaseGeometry],
    counts: Sequence[npt.NDArray[np.float64]],
    target_area: float,
) -> tuple[list[float], float]:
    """Counts captured by the first ``target_area`` m² of the ranked pieces.

    Pieces are taken whole in rank order; the last one is taken in part, with its incidents
    counted in proportion to the part of its area taken (incidents assumed even within it).
    Returns the captured count for each array in ``counts`` and the area actually reached.
    """
    areas = np.array([p.area for p in pieces], dtype=float)
    captured = [0.0] * len(counts)
    reached = 0.0
    for k, area in enumerate(areas):
        if reached >= target_area:
            break
        frac = min(1.0, (target_area - reached) / area)
        for j, c in enumerate(counts):
            captured[j] += frac * float(c[k])
        reached += frac * area
    return captured, reached


def _grid(study: BaseGeometry, cell_m: float) -> list[BaseGeometry]:
    minx, miny, maxx, maxy = study.bounds
    xs = np.arange(minx, maxx, cell_m)
    ys = np.arange(miny, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    cells = shapely.intersection(cells, study)
    keep = shapely.area(cells) > 0
    return list(cells[keep])


def evaluate_forecast(
    fit_incidents: gpd.GeoDataFrame,
    test_incidents: gpd.GeoDataFrame,
    maps: Mapping[str, gpd.GeoDataFrame],
    *,
    study_area: Area | None = None,
    area_shares: Sequence[float] = (0.01, 0.03, 0.05),
    cell_m: float = 100.0,
) -> pd.DataFrame:
    """Score hotspot maps fitted on one period against the incidents of a later period.

    Each map is cut to the same shares of the study area, so maps of different methods
    (DBSCAN footprints, KDE cells, Gi* cells) compare side by side.

    * **Cutting to an area share**: a map's polygons are taken in rank order (row order, or
      ascending ``rank`` when the frame has that column), each clipped to the study area and
      to what higher-ranked polygons left free, until their area reaches the share; the last
      polygon is taken in part, its incidents counted in proportion to the part of its area
      taken (i.e. assumed even within it). A map smaller than a share gets NaN scores for it
      (``map_share`` says how far it reaches; polygons beyond the largest share are not
      looked at, so ``map_share`` stops there).
    * **hit rate** ``h = n / N``: test incidents captured over all test incidents in the
      study area.
    * **PAI** (Chainey, Tompson & Uhlig 2008, *Security Journal* 21): ``h / a``, ``a`` the
      area share.
    * **RRI**, recapture rate index (Levine 2008, *Geographical Analysis* 40(3)):
      ``(n_test / n_fit) / (N_test / N_fit)``, counts inside the same area for the fitting and
      test incidents; > 1 means the area holds a larger share of the test period's incidents
      than of the fitting period's.
    * **PEI**, predictive efficiency index (Hunt 2016, NIJ report 250229): ``h / h*`` where
      ``h*`` is the best hit rate any map of the same area could have had: the cells of a
      ``cell_m`` square grid over the study area (clipped to it), ranked by their density of
      *test* incidents, cut to the share the same way. Greedy by density with a partial last
      cell is the optimum under that cutting rule, so PEI <= 1 for maps made of the same cells;
      a map finer than the grid (tight footprints) can exceed 1.

    Parameters
    ----------
    fit_incidents, test_incidents
        Incidents frames (metres) of the fitting and the test periods; not modified.
    maps
        ``{method name: GeoDataFrame of polygons in priority order}``. For DBSCAN footprints
        ranked by incidents a large first footprint is taken in part at small shares; rank
        them by density (incidents per km²) to compare like with like.
    study_area
        Boundary the area shares are of; None: the convex hull of all the incidents.
    area_shares
        Shares of the study area to score at, each in (0, 1].
    cell_m
        Cell size of the grid for the best possible map (PEI), metres.

    Returns
    -------
    DataFrame
        Columns ``FORECAST_COLUMNS``: one row per method and area share (counts are
        fractional where a polygon is taken in part). ``attrs["notes"]`` lists the choices.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> fit = gpd.GeoDataFrame({"month": [None] * 4, "category": ["Drugs"] * 4},
    ...     geometry=[Point(50, 50)] * 3 + [Point(350, 350)], crs="EPSG:27700")
    >>> test = fit.copy()
    >>> m = {"a": gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:27700")}
    >>> t = evaluate_forecast(fit, test, m, study_area=box(0, 0, 400, 400),
    ...                       area_shares=[1 / 16])
    >>> t[["hit_rate", "pai", "rri", "pei"]].round(3).values.tolist()
    [[0.75, 12.0, 1.0, 1.0]]
    """
    fit_incidents = _check_incidents(fit_incidents, "fit_incidents")
    crs = fit_incidents.crs
    notes: list[str] = []
    fit_xy = _points_xy(fit_incidents, crs, "fit_incidents")
    test_xy = _points_xy(test_incidents, crs, "test_incidents")
    if not isinstance(maps, Mapping) or not maps:
        raise ParameterError("maps must be a non-empty {name: GeoDataFrame of polygons} mapping.")
    shares = [float(a) for a in area_shares]
    if not shares or not all(math.isfinite(a) and 0 < a <= 1 for a in shares):
        raise ParameterError(
            f"area_shares must be numbers in (0, 1], e.g. (0.01, 0.03, 0.05); got {area_shares!r}."
        )
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ParameterError(f"cell_m must be a positive distance in metres; got {cell_m!r}.")
    if study_area is None:
        both = np.vstack([fit_xy, test_xy])
        if len(both) < 3:
            raise InputError("too few incidents to draw a study area; give study_area=.")
        study = shapely.convex_hull(shapely.multipoints(both))
        notes.append("study area: the convex hull of all the incidents (give study_area=)")
    else:
        study = _as_geometry(study_area, "study_area", crs)
    total_area = float(study.area)
    if total_area <= 0:
        raise ParameterError("study_area has no area; give a polygon boundary.")

    fit_in = shapely.intersects_xy(study, fit_xy[:, 0], fit_xy[:, 1])
    test_in = shapely.intersects_xy(study, test_xy[:, 0], test_xy[:, 1])
    for name, mask in (("fitting", fit_in), ("test", test_in)):
        if (~mask).any():
            notes.append(f"{int((~mask).sum()):,} {name} incidents outside the study area left out")
    fit_xy, test_xy = fit_xy[fit_in], test_xy[test_in]
    n_fit, n_test = len(fit_xy), len(test_xy)
    if n_test == 0:
        raise InputError("no test incidents inside the study area; check the period and area.")
    max_area = max(shares) * total_area

    # the best possible map: grid cells by test density
    cells = _grid(study, float(cell_m))
    cell_of = _first_piece(cells, test_xy)
    cell_counts = np.bincount(cell_of[cell_of >= 0], minlength=len(cells)).astype(float)
    cell_area = np.array([c.area for c in cells])
    order = np.lexsort((-cell_area, -(cell_counts / cell_area)))
    best_pieces = [cells[i] for i in order]
    best_counts = cell_counts[order]
    notes.append(
        f"best possible map (PEI): the densest {cell_m:.0f} m grid cells of the test incidents"
    )

    rows: list[dict[str, Any]] = []
    for name, frame in maps.items():
        if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
            raise ParameterError(f"maps[{name!r}] must be a GeoDataFrame of polygons.")
        if frame.crs is None:
            raise ParameterError(f"maps[{name!r}] has no CRS; give one (e.g. EPSG:27700).")
        ranked = frame.to_crs(crs)
        if isinstance(ranked, gpd.GeoDataFrame) and "rank" in ranked.columns:
            ranked = ranked.sort_values("rank", kind="stable")
        polys = list(ranked.geometry.to_numpy())
        pieces = _ordered_pieces(polys, study, max_area)
        fit_of = _first_piece(pieces, fit_xy)
        test_of = _first_piece(pieces, test_xy)
        fit_counts = np.bincount(fit_of[fit_of >= 0], minlength=len(pieces)).astype(float)
        test_counts = np.bincount(test_of[test_of >= 0], minlength=len(pieces)).astype(float)
        map_share = float(sum(p.area for p in pieces)) / total_area
        for share in shares:
            target = share * total_area
            (hits, fit_hits), reached = _capture(pieces, [test_counts, fit_counts], target)
            (best,), _ = _capture(best_pieces, [best_counts], target)
            best_rate = best / n_test
            if reached < target * (1 - 1e-9):
                hit_rate = pai = rri = pei = math.nan
                hits = fit_hits = math.nan
            else:
                hit_rate = hits / n_test
                pai = hit_rate / share
                rri = (
                    (hits / fit_hits) / (n_test / n_fit) if fit_hits > 0 and n_fit > 0 else math.nan
                )
                pei = hit_rate / best_rate if best_rate > 0 else math.nan
            rows.append(
                {
                    "method": name,
                    "area_share": share,
                    "hit_rate": hit_rate,
                    "pai": pai,
                    "rri": rri,
                    "pei": pei,
                    "area_km2": target / 1e6,
                    "test_hits": hits,
                    "fit_hits": fit_hits,
                    "best_hit_rate": best_rate,
                    "map_share": map_share,
                }
            )
        if map_share < max(shares):
            notes.append(
                f"{name}: the map covers {100 * map_share:.2f}% of the study area, so larger "
                "shares are not scored"
            )
    table = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    table["method"] = table["method"].astype("str")
    table.attrs["notes"] = notes
    for note in notes:
        log.info("evaluate_forecast: %s", note)
    return table


def forecast_maps(
    fit_incidents: gpd.GeoDataFrame,
    *,
    study_area: Area | None = None,
    gi_cell_m: float = 100.0,
) -> dict[str, gpd.GeoDataFrame]:
    """The three hotspot maps :func:`evaluate_forecast` compares, fitted on ``fit_incidents``.

    * ``"DBSCAN"``: :func:`hotspots.find_hotspots` footprints with the suggested settings,
      ranked by density (incidents per km²), not by incidents: at a small area share a
      planner takes the densest footprints first, and ranking by volume would spend the area
      on one large footprint.
    * ``"KDE"``: :func:`hotspots.density.kde` cells with a density above zero, densest first
      (ties by ``cell_id``).
    * ``"Gi*"``: :func:`hotspots.significance.gi_star_cells` on a ``gi_cell_m`` grid over the
      study area, cells with z > 0, highest z first.

    Each map is in priority order with no ``rank`` column (row order is the priority).

    Parameters
    ----------
    fit_incidents
        The incidents of the fitting period (metre CRS).
    study_area
        Boundary of the study (e.g. the wards); the incidents' extent when None.
    gi_cell_m
        Cell size of the Gi* grid in metres.

    Returns
    -------
    dict
        ``{"DBSCAN": ..., "KDE": ..., "Gi*": ...}``.
    """
    from .density import grid_cells, kde
    from .find import find_hotspots
    from .significance import gi_star_cells

    found = find_hotspots(fit_incidents, study_area=study_area)
    dbscan = found.hotspots.sort_values(["density_km2", "rank"], ascending=[False, True])
    density = kde(fit_incidents, study_area=study_area)
    kde_cells = density.cells[density.cells["density_km2"] > 0].sort_values(
        ["density_km2", "cell_id"], ascending=[False, True]
    )
    area = study_area if study_area is not None else density.cells.union_all().convex_hull
    gi = gi_star_cells(fit_incidents, grid_cells(area, cell_size=gi_cell_m, crs=fit_incidents.crs))
    gi_cells = gi[gi["z"] > 0].sort_values("z", ascending=False)
    maps = {"DBSCAN": dbscan, "KDE": kde_cells, "Gi*": gi_cells}
    return {
        name: frame.drop(columns="rank", errors="ignore").reset_index(drop=True)
        for name, frame in maps.items()
    }
