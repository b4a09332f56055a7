"""Default hotspot settings chosen by the back-test: the map that best predicts the next months.

:func:`choose_settings` fits DBSCAN with every candidate setting on each back-test fold's fit
months (:func:`hotspots.backtest.plan_folds`) and keeps the one whose hotspots, densest first,
caught the most of the test months' incidents within the patrol budget (the mean capture at
1%, 2% and 3% of the study area by default: the area under the capture curve up to what a
commander can cover). Candidates are street-scale:

* ``eps`` 75, 100, 150 m (the search radius; at 50 m data.police.uk's map points, often 40-60 m
  apart, rarely link and a "hotspot" is one busy map point, which the back-test's map-point
  baseline already is);
* ``busier_than`` 0.3, 0.5, 0.7, 0.9: ``min_samples`` is the count within ``eps`` that
  that share of incidents' neighbourhoods do not exceed (:func:`suggest_min_samples`), so
  the setting means the same on a fold's fewer months as on the whole period;

The outline margin is not a candidate: it is fixed at 25 m (:data:`DEFAULT_MARGIN`), the street
space the back-test's map-point baseline gives every map point. A thinner margin always scores
a higher PAI (the same map points in less area), so choosing it by PAI would only measure the
arithmetic, not the forecast.

No hotspot outline may exceed :data:`MAX_HOTSPOT_KM2` (1 km²): a larger cluster is clustered
again with a stricter core rule (``min_samples`` x 1.5, repeated) until every part fits, so a
city centre splits into its busiest streets instead of one polygon across whole town centres
(:func:`hotspots.size_limit.hotspot_labels`; each candidate's map is
:func:`hotspots.cluster_maps.cluster_map`).

Ties go to the earlier candidate in that order; the choice is deterministic. With fewer
months than a back-test needs, the documented rule applies instead: eps from the map points'
spacing (:func:`suggest_eps`) and ``busier_than`` 0.75 (:data:`BUSIER_THAN`).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy
from ._threads import in_order, workers
from ._validate import month_label, month_numbers
from .backtest import (
    BUDGET,
    Fold,
    MapPoints,
    PointUniverse,
    capture,
    plan_folds,
    ranked_map,
    simplified,
)
from .cluster import BUSIER_THAN, suggest_min_samples_each
from .cluster_maps import cluster_map, cluster_outlines
from .footprint import DEFAULT_MARGIN
from .size_limit import MAX_HOTSPOT_KM2, hotspot_labels, outlines_of

__all__ = [
    "BUSIER_THAN_CANDIDATES",
    "EPS_CANDIDATES",
    "FALLBACK_BUSIER_THAN",
    "MAX_HOTSPOT_KM2",
    "Settings",
    "choose_settings",
    "cluster_map",
    "hotspot_labels",
    "outlines_of",
    "settings_min_samples",
    "settings_min_samples_each",
]

log = logging.getLogger(__name__)

# From this many incidents on, the candidate settings are scored two at a time.
_PARALLEL_ROWS = 50_000

EPS_CANDIDATES: tuple[float, ...] = (75.0, 100.0, 150.0)
BUSIER_THAN_CANDIDATES: tuple[float, ...] = (0.3, 0.5, 0.7, 0.9)
#: ``busier_than`` when there are too few months to back-test (the spacing rule's).
FALLBACK_BUSIER_THAN = BUSIER_THAN


@dataclass(frozen=True)
class Settings:
    """Street-scale hotspot settings and why they were chosen.

    Attributes
    ----------
    eps
        DBSCAN search radius, metres.
    busier_than
        Share of incidents whose neighbourhood a core point must be busier than (sets
        ``min_samples`` for any span of months).
    margin
        Outline margin, metres (fixed: see the module docstring).
    capture
        Mean share of the test months' incidents caught within the budget (NaN without a
        back-test).
    reason
        One plain sentence for the user.
    backtested
        Whether the back-test chose them (else the fallback rule).
    capture_unseen
        The choice's capture out of sample and forward in time: each back-test but the
        earliest scored with the settings best on the earlier ones (NaN with fewer than
        two). ``capture`` is the best of the candidates on the very months that chose it, so
        it flatters them; this does not.
    """

    eps: float
    busier_than: float
    margin: float
    capture: float
    reason: str
    backtested: bool
    capture_unseen: float = math.nan


def _capture_unseen(per_fold: npt.NDArray[np.float64]) -> float:
    """The capture of the choice itself, out of sample and forward in time: each fold but
    the earliest scored with the candidate best on the folds before it (``per_fold`` is in
    the plan's order, latest first: those after it; the first best, as the choice), so no
    choice has seen the months it is scored on or any after them; the mean over the folds
    scored. NaN with fewer than two folds."""
    if len(per_fold) < 2:
        return math.nan
    held = []
    for k in range(len(per_fold) - 1):
        earlier = per_fold[k + 1 :].sum(axis=0)
        best = np.unravel_index(int(np.argmax(earlier)), earlier.shape)
        held.append(float(per_fold[k][best]))
    return float(np.mean(held))


def settings_min_samples(
    points: MapPoints, *, eps: float, busier_than: float, n_months: int, area_km2: float
) -> int:
    """``min_samples`` for ``points`` (unique map points with counts) at these settings."""
    return settings_min_samples_each(
        points, eps=eps, busier_than=(busier_than,), n_months=n_months, area_km2=area_km2
    )[0]


def settings_min_samples_each(
    points: MapPoints, *, eps: float, busier_than: Sequence[float], n_months: int, area_km2: float
) -> list[int]:
    """:func:`settings_min_samples` for each share in ``busier_than`` (one count for all)."""
    return [
        int(found.value)
        for found in suggest_min_samples_each(
            points.total,
            n_months=max(1, n_months),
            area_km2=area_km2,
            eps=eps,
            xy=points.xy,
            weights=points.counts,
            busier_than=busier_than,
        )
    ]


@dataclass(frozen=True)
class _FoldFit:
    """A back-test fold's map points: fitted on ``fit`` (``n_months``), scored on ``test``."""

    fit: MapPoints
    test: MapPoints
    n_months: int


def _candidate_scores(
    fits: list[_FoldFit],
    eps_list: Sequence[float],
    study: BaseGeometry,
    budget_area: npt.NDArray[np.float64],
    n_workers: int,
) -> npt.NDArray[np.float64]:
    """Each fold's mean capture within the budget of each candidate, as a (fold, eps,
    busier_than) table.

    A candidate's map depends on its ``busier_than`` only through the ``min_samples`` it sets:
    candidates of one fold and distance that ask for the same ``min_samples`` (often, where
    the area rule binds) are one map, drawn and scored once. Both steps run on ``n_workers``
    threads; the answer is the same for any number.
    """
    area_km2 = float(study.area) / 1e6
    local = threading.local()

    def needed(task: tuple[int, int]) -> list[int]:
        # a fold's neighbourhoods at one distance, counted once for its four shares
        fold, e = fits[task[0]], eps_list[task[1]]
        return settings_min_samples_each(
            fold.fit,
            eps=e,
            busier_than=BUSIER_THAN_CANDIDATES,
            n_months=fold.n_months,
            area_km2=area_km2,
        )

    def score(task: tuple[int, int, int]) -> float:
        # each thread its own copy of the study area (a prepared geometry is not thread-safe)
        if not hasattr(local, "study"):
            local.study = shapely.from_wkb(shapely.to_wkb(study))
        fold = fits[task[0]]
        polygons = cluster_outlines(
            fold.fit,
            eps=eps_list[task[1]],
            min_samples=task[2],
            max_area=float(budget_area.max()),
        )
        ranked = ranked_map(polygons, local.study, max_area=float(budget_area.max()))
        return float(capture(ranked, fold.test, budget_area).mean() / fold.test.total)

    cells = list(itertools.product(range(len(fits)), range(len(eps_list))))
    min_samples = dict(zip(cells, in_order(needed, cells, n_workers), strict=True))
    # the distinct maps, in the order of the candidates (fold, eps, busier_than)
    maps = list(dict.fromkeys((f, i, m) for (f, i) in cells for m in min_samples[f, i]))
    scores = dict(zip(maps, in_order(score, maps, n_workers), strict=True))
    per_fold = np.zeros((len(fits), len(eps_list), len(BUSIER_THAN_CANDIDATES)))
    for (f, i), needs in min_samples.items():
        for j, m in enumerate(needs):
            per_fold[f, i, j] = scores[f, i, m]
    return per_fold


def choose_settings(
    incidents: gpd.GeoDataFrame,
    *,
    study: BaseGeometry,
    weighted: bool = False,
    budget: tuple[float, float] = BUDGET,
    eps: float | None = None,
    folds: Sequence[Fold] | None = None,
    fallback_eps: float,
    threads: int | None = None,
) -> Settings:
    """The candidate settings whose hotspots best predicted the next months (module docstring).

    Parameters
    ----------
    incidents
        An Incidents frame in metres with ``month``.
    study
        The study area polygon.
    weighted
        Count harm (``weight``) instead of incidents.
    budget
        The patrol budget, (smallest, largest) share of the study area.
    eps
        A search radius the user chose: only ``busier_than`` and ``margin`` are chosen.
    folds
        The back-test folds; from the incidents' months when None.
    fallback_eps
        The radius used without a back-test (the map points' spacing rule).
    threads
        Candidates scored at a time (at most the cores); None: :func:`hotspots._threads.workers`
        (two from 50,000 incidents on, ``$HOTSPOTS_THREADS`` at most).
        The same answer either way.
    """
    months = month_numbers(incidents["month"])
    plan = list(folds) if folds is not None else plan_folds(months)
    lo, hi = budget
    shares = np.linspace(lo, hi, 3)
    if not plan:
        return Settings(
            eps=float(eps if eps is not None else fallback_eps),
            busier_than=FALLBACK_BUSIER_THAN,
            margin=DEFAULT_MARGIN,
            capture=math.nan,
            reason="too few months to back-test (4 are needed), so the map points' spacing "
            f"sets the search radius and hotspot cores must be busier than "
            f"{FALLBACK_BUSIER_THAN:.0%} of incidents' neighbourhoods",
            backtested=False,
        )
    study = simplified(study)
    eps_list = (float(eps),) if eps is not None else EPS_CANDIDATES
    # every row's map point found once; a fold's points are then counts, not frame copies;
    # only the rows in the study area, as the back-test scores them (on its edge counts)
    xy = incident_xy(incidents)
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    universe = PointUniverse(xy, weights)
    inside = shapely.intersects_xy(study, *universe.xy.T)[universe.codes]
    if not inside.all():
        months = months[inside]
        universe = PointUniverse(xy[inside], None if weights is None else weights[inside])
    del xy, weights
    fits: list[_FoldFit] = []
    for fold in plan:
        test = universe.points((months >= fold.test[0]) & (months <= fold.test[1]))
        if test.total > 0:
            fit = universe.points((months >= fold.fit[0]) & (months <= fold.fit[1]))
            fits.append(_FoldFit(fit, test, fold.fit[1] - fold.fit[0] + 1))
    if threads is None:
        n_workers = workers(len(fits) * len(eps_list), len(incidents), _PARALLEL_ROWS)
    else:
        n_workers = min(max(1, threads), os.cpu_count() or 1)
    per_fold = _candidate_scores(fits, eps_list, study, shares * float(study.area), n_workers)
    totals = per_fold.sum(axis=0) / len(plan)
    best = np.unravel_index(int(np.argmax(totals)), totals.shape)  # first best: deterministic
    i, j = int(best[0]), int(best[1])
    unseen = _capture_unseen(per_fold)
    chosen_eps, q = eps_list[i], BUSIER_THAN_CANDIDATES[j]
    latest = plan[0]
    runs = f"{len(plan)} back-test{'s' if len(plan) != 1 else ''}"
    reason = (
        f"chosen by back-test on your own months: hotspots found with these settings on the "
        f"earlier months held {totals[i, j]:.0%} of the following months' crime in "
        f"{lo:.0%}–{hi:.0%} of the study area, the most of {totals.size} settings tried "
        f"({runs}, the latest fitted on {_span(latest.fit)} and scored on {_span(latest.test)})"
    )
    if math.isfinite(unseen):
        later = len(per_fold) - 1
        reason += (
            f"; chosen each time on the earlier back-tests alone (as if in their day, never "
            f"knowing the months scored), the settings held {unseen:.0%} in the "
            f"{later} later back-test{'s' if later != 1 else ''} (these settings: "
            f"{float(per_fold[:-1, i, j].mean()):.0%})"
        )
    log.info("settings: eps %g m, busier than %g: %s", chosen_eps, q, reason)
    return Settings(
        eps=float(chosen_eps),
        busier_than=float(q),
        margin=DEFAULT_MARGIN,
        capture=float(totals[i, j]),
        reason=reason,
        backtested=True,
        capture_unseen=unseen,
    )


def _span(months: tuple[int, int]) -> str:
    first, last = month_label(months[0]), month_label(months[1])
    return first if first == last else f"{first}..{last}"
