"""Automatic choices of DBSCAN's ``eps`` and ``min_samples``, each with a plain-English reason.

* :func:`suggest_eps`: the knee of the map points' spacing curve (:func:`map_point_spacing`);
* :func:`suggest_min_samples`: grows with the incidents and months analysed, so a year of a
  whole city does not make every map point a core point.

All distances are in metres (the working CRS).
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .._memo import KeptResults, digest
from .._points import unique_points
from .._validate import check_int, check_positive_float, check_xy
from ..errors import ParameterError
from .dbscan import point_neighbour_counts

__all__ = [
    "BUSIER_THAN",
    "DEFAULT_EPS",
    "EPS_RANGE",
    "MIN_SAMPLES_FLOOR",
    "Suggestion",
    "map_point_spacing",
    "suggest_eps",
    "suggest_min_samples",
    "suggest_min_samples_each",
]

log = logging.getLogger(__name__)

#: The search radius (metres) used when nobody chose one: about two street blocks.
DEFAULT_EPS: float = 150.0
#: :func:`suggest_eps` keeps its suggestion inside this street-scale range (metres).
EPS_RANGE: tuple[float, float] = (50.0, 250.0)
#: :func:`suggest_min_samples` never suggests fewer incidents than this.
MIN_SAMPLES_FLOOR: int = 5
#: A hotspot must hold this many times the incidents an average spot of radius eps holds.
_DENSITY_FACTOR: float = 3.0
#: ... and a core map point must be busier than the neighbourhood of this share of incidents.
BUSIER_THAN: float = 0.75


@dataclass(frozen=True)
class Suggestion:
    """An automatic parameter choice and why it was made.

    Attributes
    ----------
    value
        The suggested value (metres for eps, an incident count for min_samples).
    reason
        One plain-English sentence, shown to users next to the control.
    backtested
        Chosen by the back-test on the data's own months (:func:`hotspots.tuning.
        choose_settings`): a back-test of these settings on those months is scored on the
        months that chose them, which flatters it (the reason gives the fairer figure).
    """

    value: float | int
    reason: str
    backtested: bool = False


def suggest_min_samples(
    n_incidents: float,
    *,
    n_months: int,
    area_km2: float,
    eps: float = DEFAULT_EPS,
    xy: NDArray[np.float64] | None = None,
    weights: NDArray[np.float64] | None = None,
    busier_than: float = BUSIER_THAN,
) -> Suggestion:
    """Suggest ``min_samples`` for DBSCAN from how many incidents fall where, and when.

    Rule: the largest of

    * the floor of 5 incidents, and one incident per month analysed;
    * ``3 x`` the incidents an average disc of radius ``eps`` holds over the study area and
      the months analysed (``n / area * pi eps^2``): a hotspot must be well above uniform;
    * when ``xy`` is given, the count within ``eps`` that ``busier_than`` (0.75) of all
      incidents do not exceed (:func:`neighbour_counts`, weighted by incidents): a core map
      point must be busier than the neighbourhood of three incidents in four. This keeps
      hotspots to the busiest places where crime is dense everywhere (a city centre), where
      the area rule alone depends on how far the study area reaches.

    Every part grows with the incidents and months analysed, so a year of a whole city does
    not make every map point a core point.

    Parameters
    ----------
    n_incidents
        Incidents (or total weight) analysed.
    n_months
        Months the incidents span (0: none has a month; no rule of months then).
    area_km2
        Study area in square kilometres (e.g. the wards or the incidents' extent); an
        area of 0 (all incidents on one spot or one line) counts as one disc.
    eps
        The DBSCAN radius in metres the suggestion is for.
    xy, weights
        The incidents' coordinates (and weights), for the neighbourhood-count rule.
    busier_than
        Share of incidents whose neighbourhood a core point must exceed, in (0, 1).

    Returns
    -------
    Suggestion
        ``value`` an int; ``reason`` names the incidents, months, area and the rule used.

    Notes
    -----
    On real data.police.uk data at the suggested eps: City of London 2018-04..2019-12
    (15,400 incidents, eps 140 m) gives 619 and 4 hotspots holding 46% of incidents with
    PAIs of 20-29; Waltham Forest 2016-01..2017-06 (38,541 incidents, eps 180 m) gives 311
    and 23 hotspots holding 44%.

    Examples
    --------
    >>> s = suggest_min_samples(24_000, n_months=12, area_km2=39.0)
    >>> s.value
    131
    >>> suggest_min_samples(300, n_months=3, area_km2=39.0).value
    5
    """
    return suggest_min_samples_each(
        n_incidents,
        n_months=n_months,
        area_km2=area_km2,
        eps=eps,
        xy=xy,
        weights=weights,
        busier_than=(busier_than,),
    )[0]


def suggest_min_samples_each(
    n_incidents: float,
    *,
    n_months: int,
    area_km2: float,
    eps: float = DEFAULT_EPS,
    xy: NDArray[np.float64] | None = None,
    weights: NDArray[np.float64] | None = None,
    busier_than: Sequence[float] = (BUSIER_THAN,),
) -> list[Suggestion]:
    """:func:`suggest_min_samples` for each share in ``busier_than``, the neighbourhoods
    counted and sorted once (the tuning's four candidates of one distance).

    >>> [s.value for s in suggest_min_samples_each(24_000, n_months=12, area_km2=39.0,
    ...                                             busier_than=(0.5, 0.9))]
    [131, 131]
    """
    if isinstance(n_incidents, bool) or not isinstance(n_incidents, numbers.Real):
        raise ParameterError(
            f"n_incidents must be a number of incidents, got {n_incidents!r}; e.g. 24000."
        )
    n = float(n_incidents)
    if not math.isfinite(n) or n < 0:
        raise ParameterError(f"n_incidents must be 0 or more, got {n_incidents!r}.")
    months = check_int(n_months, "n_months", minimum=0)
    if isinstance(area_km2, bool) or not isinstance(area_km2, numbers.Real):
        raise ParameterError(f"area_km2 must be a number of km², got {area_km2!r}.")
    area = float(area_km2)
    if not math.isfinite(area) or area < 0:
        raise ParameterError(f"area_km2 must be 0 or more km², got {area_km2!r}.")
    eps = check_positive_float(eps, "eps")
    shares = [float(q) for q in busier_than]
    for q in shares:
        if not (0.0 < q < 1.0):
            raise ParameterError(f"busier_than must be between 0 and 1, got {q!r}.")
    disc_km2 = math.pi * (eps / 1000.0) ** 2
    # An area no bigger than one disc (e.g. the hull of points on one street) holds them all.
    expected = n * min(1.0, disc_km2 / area) if area > 0 else n
    # ... and no rule may ask for more incidents than there are.
    by_density = min(math.ceil(_DENSITY_FACTOR * expected - 1e-9), math.ceil(n))
    quantiles = [0] * len(shares)
    if xy is not None and len(xy):
        quantiles = _counts_not_exceeded(xy, weights, eps, shares)
    return [
        _suggestion(n, months, area, eps, weights is None, (expected, by_density), q, by_q)
        for q, by_q in zip(shares, quantiles, strict=True)
    ]


def _suggestion(
    n: float,
    months: int,
    area: float,
    eps: float,
    counted: bool,
    density: tuple[float, int],
    busier_than: float,
    by_quantile: int,
) -> Suggestion:
    """The suggestion and its reason, from the rules' values (:func:`suggest_min_samples`)."""
    expected, by_density = density
    value = max(MIN_SAMPLES_FLOOR, months, by_density, by_quantile)
    unit = "incidents" if counted else "units of weight"
    if value == by_quantile and by_quantile > by_density:
        why = (
            f"busier than the {eps:g} m neighbourhood of {busier_than:.0%} of all incidents, "
            f"which is above {_DENSITY_FACTOR:g} times the {expected:,.1f} an average spot holds"
        )
    elif value == by_density and by_density < _DENSITY_FACTOR * expected - 1e-9:
        why = f"all {n:,.0f} {unit}: the area is hardly bigger than one {eps:g} m radius"
    elif value == by_density:
        why = (
            f"{_DENSITY_FACTOR:g} times the {expected:,.1f} {unit} an average "
            f"{eps:g} m radius holds"
        )
    elif value == months:
        why = f"at least one incident a month over the {months} months analysed"
    else:
        why = f"the floor of {MIN_SAMPLES_FLOOR} incidents"
    span = f"over {months} month{'s' if months != 1 else ''}" if months else "(no months given)"
    reason = (
        f"{n:,.0f} {unit} {span} in "
        f"{area:,.1f} km²; a hotspot core needs {value:,} {unit} within {eps:g} m ({why})."
    )
    log.info("suggested min_samples=%d: %s", value, reason)
    return Suggestion(value=int(value), reason=reason)


def _counts_not_exceeded(
    xy: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    eps: float,
    shares: Sequence[float],
) -> list[int]:
    """The neighbourhood count (:func:`neighbour_counts`) that each share of the incidents (or
    weight) do not exceed, rounded up: the count of the row where the rows, sorted by count,
    add up to the share. Counted incidents are sorted a map point at a time (a point's rows
    share its count, and whole numbers add up alike in any grouping); weighted rows one by
    one (sums of fractions depend on their order)."""
    codes, counts, own = point_neighbour_counts(xy, eps=eps, weights=weights)
    if weights is None:
        values, amounts = counts, own
    else:
        values, amounts = counts[codes], np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(amounts[order])
    ranked = values[order]
    out = []
    for share in shares:
        at = int(np.searchsorted(cum, share * cum[-1]))
        out.append(math.ceil(float(ranked[min(at, len(order) - 1)]) - 1e-9))
    return out


def _ordinal(k: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd`` ..."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _knee_index(curve: NDArray[np.float64]) -> int:
    """Index of the point of ``curve`` (sorted ascending) farthest below its chord."""
    m = len(curve)
    x = np.linspace(0.0, 1.0, m)
    span = curve[-1] - curve[0]
    if span <= 0:
        return m // 2
    y = (curve - curve[0]) / span
    return int(np.argmax(x - y))


def map_point_spacing(xy: NDArray[np.float64], *, k: int = 4) -> NDArray[np.float64]:
    """Distance from each unique map point to its ``k``-th nearest other map point, sorted.

    The k-distance curve of the map points themselves (not counting incidents): how far
    apart the places are where incidents can be recorded. This is the curve
    :func:`suggest_eps` finds the knee of and the app charts.
    """
    k = check_int(k, "k", minimum=1)
    pts = np.ascontiguousarray(check_xy(xy), dtype=float)

    def work_out(todo: list[int]) -> list[NDArray[np.float64]]:
        _, uxy, _ = unique_points(pts, None) if len(pts) else (None, pts, None)
        if len(uxy) <= k:
            return [np.zeros(0)]
        dist, _ = cKDTree(uxy).query(uxy, k=k + 1)
        return [np.sort(dist[:, k])]

    # the suggestion and the chart beside it both read it (a city's 115,000 map points:
    # 0.3 s each time); kept by the coordinates given, a copy to each caller
    key = (digest(pts.tobytes()), len(pts), k)
    return _SPACING.results([key], work_out)[0].copy()


# The curves last worked out, by their incidents' coordinates (by their points' count).
_SPACING: KeptResults[NDArray[np.float64]] = KeptResults(2_000_000, weigh=len)


def suggest_eps(xy: NDArray[np.float64], *, k: int = 4) -> Suggestion:
    """Suggest DBSCAN's ``eps`` (metres): the knee of the map points' k-distance curve.

    The curve is :func:`map_point_spacing` (distance from each unique map point to its
    ``k``-th nearest map point; k = 4 as Ester et al. recommend for 2-D data). Its knee,
    the point farthest below the chord (Kneedle), is where the spacing of map points along
    the street network gives way to isolated points; a radius of that size spans a map
    point's few nearest neighbours, so DBSCAN compares like with like whatever the volume
    of incidents (which :func:`suggest_min_samples` then accounts for). The sparsest 10% of
    map points (outskirts, crimes recorded far away) are left out of the curve; the value
    is rounded to the metre and kept within 50-250 m (street scale).

    Why not the k-distance of incidents with k = ``min_samples``: data.police.uk stacks
    many incidents on each map point, and at a hotspot-level ``min_samples`` that curve's
    knee lies where most map points are already core points, so DBSCAN joins most of a
    borough into one cluster.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres, one row per incident.
    k
        Which nearest map point the spacing is measured to.

    Returns
    -------
    Suggestion
        ``value`` in metres (a float); ``reason`` says what the curve showed.

    Examples
    --------
    >>> grid = np.array([[x, y] for x in range(0, 3000, 100) for y in range(0, 3000, 100)])
    >>> suggest_eps(grid.astype(float)).value
    100.0
    """
    k = check_int(k, "k", minimum=1)
    pts = check_xy(xy)
    lo, hi = EPS_RANGE
    curve = map_point_spacing(pts, k=k)
    if curve.size < 10:
        return Suggestion(
            value=DEFAULT_EPS,
            reason=(
                f"Fewer than 10 map points with {k} neighbours, so there is no k-distance "
                f"curve to read; the default {DEFAULT_EPS:g} m is suggested."
            ),
        )
    body = curve[curve <= np.quantile(curve, 0.9)]
    knee = float(body[_knee_index(body)])
    value = float(min(max(round(knee), lo), hi))
    share = float(np.mean(curve <= value))
    found = (
        f"The distance from each of the {len(curve):,} map points to its {_ordinal(k)} "
        f"nearest map point bends upward at {knee:,.0f} m"
    )
    if knee < lo:
        reason = f"{found}, below the {lo:g} m street-scale minimum, so {value:g} m is suggested"
    elif knee > hi:
        reason = f"{found}, above the {hi:g} m street-scale maximum, so {value:g} m is suggested"
    else:
        reason = f"{found}, so {value:g} m is suggested"
    reason += f" ({share:.0%} of map points have {k} others within {value:g} m)."
    log.info("suggested eps=%g m: %s", value, reason)
    return Suggestion(value=value, reason=reason)
