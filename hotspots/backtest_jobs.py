"""The back-test's jobs: each fold's maps drawn and scored, two at a time, begun early.

The vocabulary of a back-test (its folds, the shares of the study area it scores at, the
maps' names) and its work: a fold's points cut from the map points of every row
(:class:`~hotspots.ranked_maps.PointUniverse`), every map point's street space drawn once,
and one job per fold and map (:class:`BacktestStart`), the longest first, two at a time on two
cores. :mod:`hotspots.backtest` is the interface (:func:`hotspots.backtest.backtest`); this
module is how it gets done.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy
from ._threads import workers
from ._validate import month_label, month_numbers
from .ranked_maps import (
    MapPoints,
    PointUniverse,
    RankedMap,
    StreetSpaces,
    best_hits,
    capture,
    kde_cell,
    kde_map,
    naive_cells,
    naive_points,
    ranked_map,
    simplified,
)

__all__ = [
    "CURVE_SHARES",
    "HOTSPOTS",
    "KDE",
    "KDE_BANDWIDTH_CELLS",
    "MAX_SHARE",
    "NAIVE_CELLS",
    "NAIVE_POINTS",
    "SHARES",
    "BacktestStart",
    "FitMap",
    "Fold",
]

#: Shares of the study area the back-test reports (1%, 3%, 5%).
SHARES: tuple[float, ...] = (0.01, 0.03, 0.05)
#: Shares of the area the capture curve is drawn at (0.25% to 10%).
CURVE_SHARES: tuple[float, ...] = tuple(round(0.0025 * k, 4) for k in range(1, 41))
#: The largest share of the study area scored: the maps are drawn that far and no further.
MAX_SHARE = max(*SHARES, *CURVE_SHARES)
# From this many incidents on, two folds are scored at a time.
_PARALLEL_FOLD_ROWS = 50_000
HOTSPOTS = "hotspots"
NAIVE_POINTS = "last period, map points"
NAIVE_CELLS = "last period, 50 m cells"
KDE = "KDE"
# The baseline maps, in the order the table lists them.
_BASELINES = (NAIVE_POINTS, NAIVE_CELLS, KDE)


@dataclass(frozen=True)
class Fold:
    """One back-test split: fit on months ``fit``, score on months ``test`` (month numbers)."""

    fit: tuple[int, int]
    test: tuple[int, int]

    def labels(self) -> dict[str, str]:
        """``fit_from``, ``fit_to``, ``test_from``, ``test_to`` as "YYYY-MM"."""
        return {
            "fit_from": month_label(self.fit[0]),
            "fit_to": month_label(self.fit[1]),
            "test_from": month_label(self.test[0]),
            "test_to": month_label(self.test[1]),
        }


#: Every area share scored: the table's and the curve's.
_SHARES = np.array(sorted(set(SHARES) | set(CURVE_SHARES)))


def _fold_rows(
    fold: Fold,
    caught: dict[str, tuple[npt.NDArray[np.float64], float]],
    test: MapPoints,
    best: npt.NDArray[np.float64],
    total_area: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The table's rows and the curve's points of one fold, from what each map caught at
    each of :data:`_SHARES` of the study area (and the map's own area), and the most any map
    could catch there (``best``: :func:`best_hits`, the PEI's denominator)."""
    shares = _SHARES
    rows: list[dict[str, Any]] = []
    curve: list[dict[str, Any]] = []
    for name, (counts, map_area) in caught.items():
        hits = counts / test.total
        for share, hit, top in zip(shares, hits, best, strict=True):
            if any(np.isclose(share, s) for s in SHARES):
                rows.append(
                    {
                        **fold.labels(),
                        "method": name,
                        "area_share": float(share),
                        "hit_rate": float(hit),
                        "pai": float(hit / share),
                        "pei": float(hit * test.total / top) if top > 0 else math.nan,
                        "area_km2": float(share * total_area / 1e6),
                        "map_share": map_area / total_area,
                        "test_total": test.total,
                    }
                )
            curve.append({"method": name, "area_share": float(share), "capture": float(hit)})
    return rows, curve


_Scored = tuple[list[dict[str, Any]], list[dict[str, Any]]] | None


# The hotspot map of a fold, from the slim frame of the rows inside the study area, the fold's
# fit rows among them and their map points.
FitMap = Callable[[gpd.GeoDataFrame, npt.NDArray[np.bool_], MapPoints], Iterable[BaseGeometry]]


@dataclass(frozen=True)
class _FoldPoints:
    """What one fold's maps are fitted and scored on."""

    fold: Fold
    fit_rows: npt.NDArray[np.bool_]  # among the rows inside the study area
    fit: MapPoints
    test: MapPoints


# A fold's piece of work: a map drawn and scored (by its name), or the best any map could do.
_BEST = "best possible"
# The jobs of a fold, longest first (after the hotspot map), but the best hits (which wait
# for the street spaces) after the cells, and the map points (quickest) last.
#: KDE bandwidths tried, in cells of its map (:func:`~hotspots.ranked_maps.kde_cell`, 50 m
#: over a borough): the one that caught most over the folds is the KDE baseline, chosen on
#: the folds as the hotspots' own settings are (a fixed 200 m was a poor KDE at 1% of a
#: borough: Waltham Forest caught 10% with it, 30% at 50 m).
KDE_BANDWIDTH_CELLS = (1, 2, 4)
# The KDE jobs, by the bandwidth's cells, widest (longest) first.
_KDE_JOBS = {f"{KDE} {c} cells": c for c in sorted(KDE_BANDWIDTH_CELLS, reverse=True)}
_BASELINE_JOBS = (*_KDE_JOBS, NAIVE_CELLS, _BEST, NAIVE_POINTS)
_Task = tuple[int, str]  # (fold position, job name)


@dataclass(frozen=True)
class _Folds:
    """What the folds' jobs read: the rows inside the study area (only the columns the maps
    read), each fold's points, and every map point of those rows."""

    frame: gpd.GeoDataFrame
    folds: list[_FoldPoints | None]
    universe: PointUniverse


def _fold_points(
    incidents: gpd.GeoDataFrame,
    study: BaseGeometry,
    plan: list[Fold],
    weighted: bool,
    needs_frame: bool,
) -> _Folds:
    """The rows' map points, found once, and each fold's points cut from them."""
    xy = incident_xy(incidents) if len(incidents) else np.zeros((0, 2))
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    universe = PointUniverse(xy, weights)  # the whole array: its codes may be kept
    # in the study area (or on its edge): a test per distinct map point, not per row
    inside = shapely.intersects_xy(study, *universe.xy.T)[universe.codes]
    if not inside.all():
        universe = PointUniverse(xy[inside], None if weights is None else weights[inside])
    del xy, weights
    # Only what the maps read: the folds' copies stay small at city scale.
    slim = [c for c in ("month", "weight") if c in incidents.columns]
    frame = incidents.loc[inside, [*slim, incidents.geometry.name] if needs_frame else slim]
    months = month_numbers(frame["month"])
    folds: list[_FoldPoints | None] = []
    for fold in plan:
        fit_rows = (months >= fold.fit[0]) & (months <= fold.fit[1])
        test = universe.points((months >= fold.test[0]) & (months <= fold.test[1]))
        ok = test.total > 0 and fit_rows.any()
        folds.append(_FoldPoints(fold, fit_rows, universe.points(fit_rows), test) if ok else None)
    return _Folds(frame, folds, universe)


def _best_kde(done: dict[_Task, Any], folds: list[_FoldPoints | None]) -> str:
    """The KDE job that caught most at the table's shares over the folds (the narrower
    bandwidth on a tie)."""
    at = [i for i, s in enumerate(_SHARES) if any(np.isclose(s, t) for t in SHARES)]

    def caught(job: str) -> float:
        return sum(
            float(np.mean(done[(k, job)][0][at])) / work.test.total
            for k, work in enumerate(folds)
            if work is not None
        )

    return max(sorted(_KDE_JOBS, key=_KDE_JOBS.__getitem__), key=caught)


class _AtOnce(Executor):
    """An executor that runs each job at once, in the caller's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as exc:  # raised where the result is asked for, as a thread's would be
            done.set_exception(exc)
        return done


class BacktestStart:
    """The part of a back-test that needs no hotspot map, begun in a thread of its own before
    the map is known (:func:`start_backtest`): the folds' map points, then every map point's
    street space, worked out while the caller finds its hotspots (a stage that leaves the
    second core idle). :func:`backtest` takes it on with ``started=``: the results are those
    of a back-test begun there. Everything it holds is dropped when :func:`backtest` returns
    or :meth:`cancel` is called.
    """

    def __init__(
        self,
        incidents: gpd.GeoDataFrame,
        study: BaseGeometry,
        plan: tuple[list[Fold], bool],
        setting: tuple[bool, float, int | None],
        *,
        needs_frame: bool,
    ) -> None:
        """``plan``: the folds and whether they were given (False: planned from the months)."""
        weighted, radius, self.threads = setting
        self.plan, folds_given = plan
        self._given: tuple[Any, ...] | None = (incidents, study, folds_given, weighted, radius)
        self.needs_frame = needs_frame
        self.study = study = simplified(study)
        self.radius = radius
        self.max_area = MAX_SHARE * float(study.area)
        self.targets = _SHARES * float(study.area)
        # The folds' points, then every map point's street space (drawn once: each fold's
        # are cut from them), each from its own copy of the study area, in one thread while
        # the caller goes on; the jobs that need the street spaces wait for them.
        # one thread in all when the threads are limited to one (hotspots._threads)
        self._builder = ThreadPoolExecutor(max_workers=1) if workers(2) > 1 else _AtOnce()
        fold_study = shapely.from_wkb(shapely.to_wkb(study))
        args = (incidents, fold_study, self.plan, weighted, needs_frame)
        self._folds: Future[_Folds] | None = self._builder.submit(_fold_points, *args)
        space_study = shapely.from_wkb(shapely.to_wkb(study))
        self._spaces: Future[StreetSpaces] | None = self._builder.submit(
            lambda: StreetSpaces(self.folds().universe, space_study, radius=radius)
        )

    def tasks(self, names: Sequence[str]) -> list[_Task]:
        """The jobs of ``names`` for every fold with test incidents, name by name."""
        return [(k, name) for name in names for k, work in enumerate(self.folds().folds) if work]

    def matches(
        self,
        incidents: gpd.GeoDataFrame,
        study: BaseGeometry,
        folds: Sequence[Fold] | None,
        setting: tuple[bool, float],
        *,
        rows_map: bool = False,
    ) -> bool:
        """Whether it can be taken on: begun on these incidents (the same frame), study area,
        folds (None: the planned ones) and ``(weighted, radius)``, with the rows kept when
        the map will be fitted on them (``rows_map``), and not ended."""
        if self._given is None:
            return False  # cancelled, or scored already
        given_incidents, given_study, folds_given, weighted, radius = self._given
        return (
            incidents is given_incidents
            and (study is given_study or bool(shapely.equals_exact(study, given_study, 0.0)))
            and ((folds is None) if not folds_given else (list(folds or []) == self.plan))
            and setting == (weighted, radius)
            and (self.needs_frame or not rows_map)
        )

    def folds(self) -> _Folds:
        """The folds' points (waits for the thread finding them)."""
        if self._folds is None:
            raise RuntimeError("the back-test has ended; start another")
        return self._folds.result()

    def spaces(self) -> StreetSpaces:
        """Every map point's street space (waits for the thread drawing them)."""
        if self._spaces is None:
            raise RuntimeError("the back-test has ended; start another")
        return self._spaces.result()

    def job(self, task: _Task, hotspot_map: FitMap | None) -> Any:
        """One job: a map drawn and scored (what it caught at each share, its area), or the
        best hits (:func:`best_hits`)."""
        work = self.folds().folds[task[0]]
        assert work is not None
        # Each job its own copy of the study area: a prepared GEOS geometry builds its index
        # lazily and must not be shared between threads.
        study = shapely.from_wkb(shapely.to_wkb(self.study))
        if task[1] == _BEST:
            return best_hits(
                work.test, study, self.targets, radius=self.radius, spaces=self.spaces()
            )
        ranked = self._draw(task[1], work, study, hotspot_map)  # scored once drawn, dropped
        return capture(ranked, work.test, self.targets), ranked.area

    def _draw(
        self, name: str, work: _FoldPoints, study: BaseGeometry, hotspot_map: FitMap | None
    ) -> RankedMap:
        fit, max_area = work.fit, self.max_area
        if name == HOTSPOTS:
            assert hotspot_map is not None
            # (an iterator of outlines is drawn only as far as the map takes it)
            polygons = hotspot_map(self.folds().frame, work.fit_rows, fit)
            return ranked_map(polygons, study, max_area=max_area)
        if name == NAIVE_CELLS:
            return naive_cells(fit, study, max_area=max_area)
        if name in _KDE_JOBS:
            return kde_map(fit, study, max_area, cells=_KDE_JOBS[name])
        spaces = self.spaces()
        return naive_points(fit, study, radius=self.radius, max_area=max_area, spaces=spaces)

    def scored(self, hotspot_map: FitMap | None) -> tuple[list[_Scored], float]:
        """Each fold's table rows and curve points (:func:`_fold_rows`), in fold order (None
        for a fold without test incidents), and the KDE's bandwidth (metres: of
        :data:`KDE_BANDWIDTH_CELLS`, the one whose maps caught most at the table's shares
        over the folds, the narrower on a tie); everything held is dropped on return."""
        try:
            rows_inside, folds = len(self.folds().frame), self.folds().folds
            # Every fold's maps are independent jobs, run two at a time on two cores once
            # the folds are big enough to pay (GEOS, numpy and pandas release the GIL in
            # their loops): jobs, not whole folds, so that no core idles while the last fold
            # finishes alone; the longest first.
            names = [*([HOTSPOTS] if hotspot_map is not None else []), *_BASELINE_JOBS]
            todo = self.tasks(names)
            if self.threads is None:
                n_workers = workers(len(todo), rows_inside, _PARALLEL_FOLD_ROWS)
            else:
                n_workers = min(len(todo), os.cpu_count() or 1, max(1, self.threads))
            if n_workers > 1:
                with ThreadPoolExecutor(max_workers=n_workers) as pool:
                    ran = pool.map(lambda task: self.job(task, hotspot_map), todo)
                    done = dict(zip(todo, ran, strict=True))
            else:
                done = {task: self.job(task, hotspot_map) for task in todo}
        finally:
            self.cancel()
        kde = _best_kde(done, folds)
        scored: list[_Scored] = []
        for k, work in enumerate(folds):
            if work is None:
                scored.append(None)
                continue
            jobs = {name: kde if name == KDE else name for name in [HOTSPOTS, *_BASELINES]}
            caught = {name: done[(k, job)] for name, job in jobs.items() if (k, job) in done}
            best, area = done[(k, _BEST)], float(self.study.area)
            scored.append(_fold_rows(work.fold, caught, work.test, best, area))
        return scored, _KDE_JOBS[kde] * kde_cell(self.study)

    def cancel(self) -> None:
        """Stop what has not begun, wait for what is running, and drop everything held.

        What is running is the folds' points or the street spaces: an error in the caller
        waits for it (at 3M rows, up to 2-3 s) so that no thread outlives the call."""
        self._builder.shutdown(wait=True, cancel_futures=True)
        self._folds = self._spaces = None
        self._given = None
