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
(:func:`hotspot_labels`).

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
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy, unique_points
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
from .cluster import BUSIER_THAN, dbscan_labels, suggest_min_samples_each
from .footprint import (
    DEFAULT_MARGIN,
    drawn_area_floors,
    hotspot_footprints,
    outline_area_bound,
    outline_area_floor,
)

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
#: Largest hotspot outline, km², before it is split by a stricter core rule.
MAX_HOTSPOT_KM2 = 1.0
# The margin factor of the area bound that keeps a cluster without drawing it.
_BOUND_SLACK = 1.01


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
    """

    eps: float
    busier_than: float
    margin: float
    capture: float
    reason: str
    backtested: bool


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


def hotspot_labels(
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    eps: float,
    min_samples: int,
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    outlines: dict[int, BaseGeometry] | None = None,
    distinct: bool = False,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """DBSCAN labels and core mask, with clusters whose outline exceeds ``max_km2`` split.

    A cluster whose outline (:func:`hotspot_footprints` with ``margin``) is larger than
    ``max_km2`` is clustered again on its own members with ``min_samples`` x 1.5 (rounded
    up), repeatedly, until every part fits; members left out become noise. ``max_km2=None``
    is plain DBSCAN. Labels are renumbered 0.. in order of first row.

    ``outlines``, when given, receives the outlines drawn on the way (``{label: outline}``,
    equal to :func:`hotspot_footprints`' for that label) so that the caller need not draw them
    again. ``distinct``: the rows are distinct map points already (a :class:`MapPoints`'),
    taken as they are.
    """
    labels, core = dbscan_labels(
        xy, eps=eps, min_samples=min_samples, weights=weights, distinct=distinct
    )
    if max_km2 is None or labels.max(initial=-1) < 0:
        return labels, core
    # Split on the unique map points with their summed weights (rows at one point share
    # their label and core flag), then give every row its point's answer.
    if distinct:
        uxy = np.asarray(xy, dtype=np.float64)
        codes = np.arange(len(uxy), dtype=np.intp)
        uw = np.ones(len(uxy)) if weights is None else np.asarray(weights, dtype=np.float64)
    else:
        codes, uxy, uw = unique_points(xy, weights)
    first = np.full(len(uxy), len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))  # each point's first row
    drawn: dict[int, BaseGeometry] = {}
    point_labels, point_core = _split_large(
        uxy, uw, labels[first], core[first], (eps, min_samples, margin, float(max_km2) * 1e6), drawn
    )
    out = point_labels[codes]
    member = out >= 0
    if member.any():
        n_labels = int(out.max()) + 1
        first_row = np.full(n_labels, len(out), dtype=np.int64)
        np.minimum.at(first_row, out[member], np.flatnonzero(member))
        rank = np.empty(n_labels, dtype=np.int64)
        rank[np.argsort(first_row, kind="stable")] = np.arange(n_labels)
        out[member] = rank[out[member]]
        if outlines is not None:
            outlines.update({int(rank[k]): shape for k, shape in drawn.items()})
    return out, point_core[codes] & member


def _split_large(
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    core: npt.NDArray[np.bool_],
    setting: tuple[float, int, float, float],
    drawn: dict[int, BaseGeometry],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Labels (0.., any order) and core flags of unique points after splitting every cluster
    whose outline exceeds ``limit`` m² (see :func:`hotspot_labels`); ``drawn`` receives the
    outlines drawn of the clusters kept."""
    eps, min_samples, margin, limit = setting
    out = np.full(len(labels), -1, dtype=np.int64)
    core = core.copy()
    pending = [(rows, min_samples) for rows in _rows_by_label(labels)]
    next_label = 0
    while pending:  # one generation of clusters at a time: their outlines drawn together
        kept: list[npt.NDArray[np.intp]] = []
        split: list[tuple[npt.NDArray[np.intp], int]] = []
        undecided: list[tuple[npt.NDArray[np.intp], int]] = []
        for rows, ms in pending:
            if _fits(len(rows), eps, margin, limit):  # the points are unique
                kept.append(rows)
            elif outline_area_floor(xy[rows], margin=margin) > limit:
                split.append((rows, ms))
            else:
                undecided.append((rows, ms))
        # most large clusters fit by their spanning tree's bound: kept without drawing
        fit_by_tree = _fit_by_tree([xy[rows] for rows, _ in undecided], margin, limit)
        kept += [rows for (rows, _), fits in zip(undecided, fit_by_tree, strict=True) if fits]
        undecided = [task for task, fits in zip(undecided, fit_by_tree, strict=True) if not fits]
        # most of the rest are over the limit by their tree's floor, or a coarse drawing:
        # split without the outline
        floors = drawn_area_floors([xy[rows] for rows, _ in undecided], margin, limit)
        split += [task for task, floor in zip(undecided, floors, strict=True) if floor > limit]
        undecided = [task for task, floor in zip(undecided, floors, strict=True) if floor <= limit]
        for (rows, ms), outline in zip(
            undecided, _draw_each([xy[rows] for rows, _ in undecided], margin), strict=True
        ):
            if outline.area <= limit:
                drawn[next_label + len(kept)] = outline
                kept.append(rows)
            else:
                split.append((rows, ms))
        for rows in kept:
            out[rows] = next_label
            next_label += 1
        pending = []
        for rows, ms in split:
            stricter = math.ceil(ms * 1.5)
            sub, sub_core = dbscan_labels(
                xy[rows], eps=eps, min_samples=stricter, weights=weights[rows]
            )
            core[rows] = sub_core
            pending += [(rows[part], stricter) for part in _rows_by_label(sub)]
    return out, core


def _fit_by_tree(clouds: list[npt.NDArray[np.float64]], margin: float, limit: float) -> list[bool]:
    """Whether each point set's outline fits in ``limit`` m² by its spanning tree's area bound
    (:func:`hotspots.footprint.outline_area_bound`) taken with a margin wider by
    :data:`_BOUND_SLACK` (GEOS simplifies the buffered lines within 1% of the margin, so the
    drawn outline may reach that far beyond the exact buffer)."""
    if not clouds:
        return []
    label = np.repeat(np.arange(len(clouds), dtype=np.int64), [len(c) for c in clouds])
    bound = outline_area_bound(np.concatenate(clouds), label, margin=margin * _BOUND_SLACK)
    return [bound[k] <= limit for k in range(len(clouds))]


def _draw_each(clouds: list[npt.NDArray[np.float64]], margin: float) -> list[BaseGeometry]:
    """The outline of each point set (one vectorised :func:`hotspot_footprints` call)."""
    if not clouds:
        return []
    label = np.repeat(np.arange(len(clouds), dtype=np.int64), [len(c) for c in clouds])
    shapes = hotspot_footprints(np.concatenate(clouds), label, margin=margin)
    return [shapes[k] for k in range(len(clouds))]


def outlines_of(
    xy: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    margin: float,
    drawn: dict[int, BaseGeometry],
) -> dict[int, BaseGeometry]:
    """:func:`hotspot_footprints` of ``labels``, taking those in ``drawn`` as they are (the
    outlines :func:`hotspot_labels` drew on the way); ascending label order."""
    present = np.unique(labels[labels >= 0])
    done = np.isin(labels, np.fromiter(drawn, dtype=np.int64, count=len(drawn)))
    fresh = hotspot_footprints(xy, np.where(done, -1, labels), margin=margin)
    return {int(k): drawn[int(k)] if int(k) in drawn else fresh[int(k)] for k in present}


def _rows_by_label(labels: npt.NDArray[np.int64]) -> list[npt.NDArray[np.intp]]:
    """The rows of each label 0.. in label order, ascending (one sort, not a pass per label)."""
    member = np.flatnonzero(labels >= 0)
    if not member.size:
        return []
    member = member[np.argsort(labels[member], kind="stable")]
    cuts = np.flatnonzero(np.diff(labels[member])) + 1
    return list(np.split(member, cuts))


def _fits(n_points: int, eps: float, margin: float, limit: float) -> bool:
    """Whether the outline of ``n_points`` unique map points must fit in ``limit`` m² without
    drawing it (:func:`_treeless_bound`)."""
    return _treeless_bound(n_points, eps, margin) <= limit


def _treeless_bound(n_points: Any, eps: float, margin: float) -> Any:
    """An upper bound of the outline area (m²) of a DBSCAN cluster of ``n_points`` distinct
    map points (a number, or an array of them), without its spanning tree: each tree edge is
    at most ``eps`` long, so the outline is at most a disc plus one ``eps`` x ``2 margin``
    strip a further map point.

    >>> round(_treeless_bound(3, 100.0, 25.0))
    11963
    """
    return (n_points - 1) * 2 * margin * eps + math.pi * margin**2


def cluster_map(
    points: MapPoints,
    *,
    eps: float,
    min_samples: int | Sequence[int],
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    groups: npt.NDArray[np.int64] | None = None,
    max_area: float | None = None,
) -> list[BaseGeometry]:
    """The DBSCAN hotspot outlines of ``points``, densest first (the back-test's map).

    With ``groups`` (a group number 0.. per point), each group is clustered on its own with
    ``min_samples[group]``, and the outlines of all groups are ranked together. With
    ``max_area`` (m²) only the clusters needed to fill it are drawn: clusters in order of
    incidents per bound of their area (:func:`hotspots.footprint.outline_area_bound`) until
    the bounds add up to twice ``max_area`` (fast over a city; the drawn ones are then ranked
    by their true density).
    """
    if not len(points.xy):
        return []
    if groups is None:
        parts = [(points, int(np.max(min_samples)))]
    else:
        needed = np.atleast_1d(np.asarray(min_samples, dtype=np.int64))
        parts = [
            (MapPoints(points.xy[groups == g], points.counts[groups == g]), int(needed[g]))
            for g in np.unique(groups)
        ]
    shapes: list[BaseGeometry] = []
    counts: list[float] = []
    for part, needed_here in parts:
        drawn: dict[int, BaseGeometry] = {}
        labels, _ = hotspot_labels(
            part.xy,
            part.counts,
            eps=eps,
            min_samples=needed_here,
            margin=margin,
            max_km2=max_km2,
            outlines=drawn,
            distinct=True,  # a MapPoints' points
        )
        if max_area is not None:
            labels = _densest_clusters(part, labels, (margin, eps), 2.0 * max_area)
        found, held = _outlines(part, labels, margin, drawn)
        shapes += found
        counts += held
    if not shapes:
        return []
    held_arr = np.array(counts)
    areas = shapely.area(np.asarray(shapes, dtype=object))
    order = np.lexsort((np.arange(len(shapes)), -held_arr, -held_arr / areas))
    return [shapes[i] for i in order]


def _densest_clusters(
    points: MapPoints,
    labels: npt.NDArray[np.int64],
    setting: tuple[float, float],
    area: float,
) -> npt.NDArray[np.int64]:
    """``labels`` with clusters beyond the densest ``area`` m² (by area bound) set to noise.

    ``setting``: the outline margin and DBSCAN's eps. When the clusters' bounds that need no
    spanning tree (:func:`_treeless_bound`) add up to no more than ``area``, all are kept as
    they are: the same answer without the trees (a city's thousands of clusters, under a
    budget they fill far less than twice)."""
    margin, eps = setting
    member = labels >= 0
    if not member.any():
        return labels
    points_per = np.bincount(labels[member])
    with np.errstate(invalid="ignore"):  # (an infinite eps: no bound, NaN; the trees decide)
        treeless = float(_treeless_bound(points_per[points_per > 0], eps, margin).sum())
    if treeless <= area:
        return labels
    bound = outline_area_bound(points.xy, labels, margin=margin)
    if not bound:
        return labels
    keys = np.array(sorted(bound))
    sizes = np.array([bound[int(k)] for k in keys])
    member = labels >= 0
    held = np.bincount(labels[member], weights=points.counts[member])[keys]
    order = np.lexsort((keys, -held / sizes))
    upto = int(np.searchsorted(np.cumsum(sizes[order]), area)) + 1
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    keep[keys[order[:upto]]] = True
    out = labels.copy()
    out[member & ~keep[np.maximum(labels, 0)]] = -1
    return out


def _outlines(
    points: MapPoints,
    labels: npt.NDArray[np.int64],
    margin: float,
    drawn: dict[int, BaseGeometry],
) -> tuple[list[BaseGeometry], list[float]]:
    """Each cluster's outline and its incidents (weights), in label order (``drawn``: those
    already drawn)."""
    outlines = outlines_of(points.xy, labels, margin, drawn)
    if not outlines:
        return [], []
    keys = np.array(sorted(outlines))
    counts = np.bincount(labels[labels >= 0], weights=points.counts[labels >= 0])[keys]
    return [outlines[int(k)] for k in keys], [float(c) for c in counts]


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
    """The sum over the folds of each candidate's mean capture within the budget, as an
    (eps, busier_than) table.

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
        polygons = cluster_map(
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
    totals = np.zeros((len(eps_list), len(BUSIER_THAN_CANDIDATES)))
    for (f, i), needs in min_samples.items():
        for j, m in enumerate(needs):
            totals[i, j] += scores[f, i, m]
    return totals


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
    # every row's map point found once; a fold's points are then counts, not frame copies
    universe = PointUniverse(
        incident_xy(incidents),
        incidents["weight"].to_numpy(dtype=float) if weighted else None,
    )
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
    totals = _candidate_scores(fits, eps_list, study, shares * float(study.area), n_workers)
    totals /= len(plan)
    best = np.unravel_index(int(np.argmax(totals)), totals.shape)  # first best: deterministic
    i, j = int(best[0]), int(best[1])
    chosen_eps, q = eps_list[i], BUSIER_THAN_CANDIDATES[j]
    latest = plan[0]
    runs = f"{len(plan)} back-test{'s' if len(plan) != 1 else ''}"
    reason = (
        f"chosen by back-test on your own months: hotspots found with these settings on the "
        f"earlier months held {totals[i, j]:.0%} of the following months' crime in "
        f"{lo:.0%}–{hi:.0%} of the study area, the most of {totals.size} settings tried "
        f"({runs}, the latest fitted on {_span(latest.fit)} and scored on {_span(latest.test)})"
    )
    log.info("settings: eps %g m, busier than %g: %s", chosen_eps, q, reason)
    return Settings(
        eps=float(chosen_eps),
        busier_than=float(q),
        margin=DEFAULT_MARGIN,
        capture=float(totals[i, j]),
        reason=reason,
        backtested=True,
    )


def _span(months: tuple[int, int]) -> str:
    first, last = month_label(months[0]), month_label(months[1])
    return first if first == last else f"{first}..{last}"
