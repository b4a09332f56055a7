"""Back-test hotspot maps on the user's own months: fit on the earlier months, score on the next.

How much of the *next* period's crime does a map catch for the area it asks officers to
cover? :func:`backtest` answers it the crime-science way (Chainey, Tompson & Uhlig 2008):

* **Folds** (:func:`plan_folds`): the last ``T`` months are the test months and every month
  before them fits the maps; with enough months the origin rolls back ``T`` months at a time
  (up to three folds), each fold fitting on all the months before its test months. ``T`` is a
  quarter of the period, 1 to 6 months. Fewer than 4 months: no back-test.
* **Maps**, each a list of polygons in priority order, fitted on the fit months:
  ``hotspots`` (the analysis's own clustering and outlines, densest first); ``last period,
  map points`` (each data.police.uk map point's street space, :func:`street_spaces`, ranked
  by its fit-month count: the naive "last period's counts" map at the finest scale there is);
  ``last period, 50 m cells`` (the same per 50 m grid cell); ``KDE`` (quartic kernel density,
  50 m cells, densest first).
* **Scores** at shares of the study area (its outline simplified to 1 m for fast clipping):
  the map's polygons are taken in priority order,
  each cut to the study area and to what earlier ones left free, the last one in part (its
  incidents counted in proportion); a map smaller than the share catches only what it holds
  (the rest of the area is counted as patrolled for nothing). **Hit rate** = test incidents
  caught / all test incidents in the study area; **PAI** = hit rate / area share; **PEI** =
  hit rate / the best hit rate any map of that area could have had, the test months' own
  busiest map points or 50 m cells (whichever catches more): the finest scale, not a 100 m
  grid. With harm weights every count is a sum of weights.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ._memory import release_free_memory
from ._points import incident_xy
from ._threads import workers
from ._validate import month_label, month_numbers
from .errors import ParameterError
from .footprint import DEFAULT_MARGIN
from .ranked_maps import (  # the maps and their scoring, re-exported: the back-test's vocabulary
    NAIVE_CELL_M,
    MapPoints,
    PointUniverse,
    RankedMap,
    StreetSpaces,
    best_hits,
    capture,
    clip,
    kde_map,
    map_points,
    naive_cells,
    naive_points,
    ranked_map,
    simplified,
    street_spaces,
)

__all__ = [
    "BACKTEST_COLUMNS",
    "BUDGET",
    "CURVE_SHARES",
    "HOTSPOTS",
    "KDE",
    "MAX_SHARE",
    "MIN_MONTHS",
    "NAIVE_CELLS",
    "NAIVE_CELL_M",
    "NAIVE_POINTS",
    "SHARES",
    "BacktestResult",
    "BacktestStart",
    "Fold",
    "MapPoints",
    "PointUniverse",
    "RankedMap",
    "StreetSpaces",
    "backtest",
    "capture",
    "clip",
    "map_points",
    "naive_cells",
    "naive_points",
    "plan_folds",
    "ranked_map",
    "simplified",
    "start_backtest",
    "street_spaces",
]

#: Fewest months with a back-test (three to fit, one to score).
MIN_MONTHS = 4
#: Shares of the study area the back-test reports (1%, 3%, 5%).
SHARES: tuple[float, ...] = (0.01, 0.03, 0.05)
#: The area a commander can patrol, as shares of the study area: defaults are chosen on it.
BUDGET: tuple[float, float] = (0.01, 0.03)
#: Shares of the area the capture curve is drawn at (0.25% to 10%).
CURVE_SHARES: tuple[float, ...] = tuple(round(0.0025 * k, 4) for k in range(1, 41))
#: The largest share of the study area scored: the maps are drawn that far and no further.
MAX_SHARE = max(*SHARES, *CURVE_SHARES)
# From this many incidents on, two folds are scored at a time.
_PARALLEL_FOLD_ROWS = 50_000
#: Columns of :attr:`BacktestResult.table`.
BACKTEST_COLUMNS = [
    "fold", "fit_from", "fit_to", "test_from", "test_to", "method", "area_share",
    "hit_rate", "pai", "pei", "area_km2", "map_share", "test_total",
]  # fmt: skip
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


def plan_folds(
    months: npt.ArrayLike, *, test_months: int | None = None, max_folds: int = 3
) -> list[Fold]:
    """The back-test's folds for incidents in ``months`` (month numbers), latest first.

    Examples
    --------
    >>> [f.labels()["test_from"] for f in plan_folds(np.arange(24204, 24216))]
    ['2017-10', '2017-07', '2017-04']
    >>> plan_folds(np.arange(24204, 24207))
    []
    """
    values = np.asarray(months, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return []
    first, last = int(values.min()), int(values.max())
    n = last - first + 1
    if n < MIN_MONTHS:
        return []
    span = int(test_months) if test_months is not None else min(6, max(1, n // 4))
    if span < 1:
        raise ParameterError(f"test_months must be at least 1; got {test_months!r}.")
    folds: list[Fold] = []
    end = last
    while len(folds) < max_folds:
        test_from = end - span + 1
        if test_from - first < max(3, span):  # too few months left to fit on
            break
        folds.append(Fold(fit=(first, test_from - 1), test=(test_from, end)))
        end = test_from - 1
    return folds


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` found.

    Attributes
    ----------
    table
        Columns ``BACKTEST_COLUMNS``: one row per fold, map and area share.
    curve
        Columns ``method``, ``area_share``, ``capture``: the share of the test months'
        incidents each map caught at each share of the area, averaged over the folds.
    folds
        The folds, latest first.
    notes
        Plain sentences about the choices made.
    """

    table: pd.DataFrame
    curve: pd.DataFrame
    folds: tuple[Fold, ...]
    notes: tuple[str, ...] = ()

    def mean(self, method: str, share: float, column: str = "pai") -> float:
        """The ``column`` of ``method`` at ``share``, averaged over the folds (NaN if none)."""
        rows = self.table[
            (self.table["method"] == method) & np.isclose(self.table["area_share"], share)
        ]
        return float(rows[column].mean()) if len(rows) else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The ``backtest`` section of summary.json."""
        methods = list(dict.fromkeys(self.table["method"]))

        def by_share(column: str) -> dict[str, dict[str, float | None]]:
            return {
                m: {f"{s:.0%}": _round(self.mean(m, s, column)) for s in SHARES} for m in methods
            }

        scores = {column: by_share(column) for column in ("pai", "hit_rate", "pei")}
        return {"folds": [f.labels() for f in self.folds], **scores, "notes": list(self.notes)}


def _round(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 4)


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


def backtest(
    incidents: gpd.GeoDataFrame,
    *,
    study: BaseGeometry,
    hotspot_map: Callable[[gpd.GeoDataFrame], Sequence[BaseGeometry]] | None,
    weighted: bool = False,
    folds: Sequence[Fold] | None = None,
    radius: float = DEFAULT_MARGIN,
    threads: int | None = 1,
    points_map: Callable[[MapPoints, int], Sequence[BaseGeometry]] | None = None,
    started: BacktestStart | None = None,
) -> BacktestResult | None:
    """Score the hotspot map and the baselines on the incidents' own months (module docstring).

    Parameters
    ----------
    incidents
        An Incidents frame in metres with ``month`` (and ``weight`` when ``weighted``).
    study
        The study area polygon (the area shares are of it).
    hotspot_map
        Fits the analysis's hotspot map on a fold's fit months: incidents in (their
        ``month``, ``weight`` and geometry, with their index; the other columns are left
        out), polygons in priority order out. None scores the baselines only.
    weighted
        Count harm (``weight``) instead of incidents.
    folds
        The folds; :func:`plan_folds` of the incidents' months when None.
    radius
        Street-space radius of a map point, metres.
    threads
        Jobs run at a time (a job: one fold's map drawn and scored; at most the cores);
        None: :func:`hotspots._threads.workers` (two from 50,000 incidents on,
        ``$HOTSPOTS_THREADS`` at most). ``hotspot_map`` must then be safe to call from several
        threads: it must not share a prepared geometry between calls (each job gets its own
        copy of ``study``).
    points_map
        Instead of ``hotspot_map``, for a map that reads nothing but where the incidents
        are: fits it on a fold's map points (:func:`map_points` of its fit incidents, harm
        summed when ``weighted``) and number of incidents (faster at city scale: the points
        are cut from ones found once for every fold). ``hotspot_map`` is then not called.
    started
        The back-test begun with :func:`start_backtest` on the same incidents, study area,
        folds, ``weighted`` and ``radius`` (its baseline maps may be drawn already; its
        ``threads`` are used); it is ended here either way.

    Returns
    -------
    BacktestResult or None
        None when there are too few months to back-test.
    """
    if started is None:
        started = start_backtest(
            incidents,
            study=study,
            weighted=weighted,
            folds=folds,
            radius=radius,
            threads=threads,
            rows_map=points_map is None and hotspot_map is not None,
        )
    elif not started.matches(incidents, study, folds, (weighted, float(radius))):
        started.cancel()
        raise ParameterError(
            "started: it was begun on other incidents, study area, folds or settings; give "
            "the ones start_backtest was given."
        )
    if started is None:
        return None
    plan = started.plan
    fit_map: _FitMap | None = None
    if points_map is not None:
        on_points = points_map

        def fit_map(frame: Any, rows: npt.NDArray[np.bool_], points: MapPoints) -> Any:
            return on_points(points, int(np.count_nonzero(rows)))

    elif hotspot_map is not None:
        on_rows = hotspot_map

        def fit_map(frame: Any, rows: npt.NDArray[np.bool_], points: MapPoints) -> Any:
            return on_rows(frame[rows])

    if fit_map is not None and points_map is None and not started.needs_frame:
        started.cancel()
        raise ParameterError("started: begun with rows_map=False; a hotspot_map needs True.")
    scored = started.scored(fit_map)
    release_free_memory()  # the folds' maps, street spaces and points: pages back to the system
    rows: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    for k, result in enumerate(scored, start=1):
        if result is None:
            continue
        rows += [{"fold": k, **r} for r in result[0]]
        curves += result[1]
    if not rows:
        return None
    table = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    curve = pd.DataFrame(
        pd.DataFrame(curves)
        .groupby(["method", "area_share"], sort=False, as_index=False)["capture"]
        .mean()
    )
    notes = [
        f"back-test: {len(plan)} fold{'s' if len(plan) != 1 else ''}, each fitting on the "
        f"months before its {plan[0].test[1] - plan[0].test[0] + 1} test month(s); latest "
        f"fit {plan[0].labels()['fit_from']}..{plan[0].labels()['fit_to']}, test "
        f"{plan[0].labels()['test_from']}..{plan[0].labels()['test_to']}"
    ]
    return BacktestResult(table=table, curve=curve, folds=tuple(plan), notes=tuple(notes))


_Scored = tuple[list[dict[str, Any]], list[dict[str, Any]]] | None


# The hotspot map of a fold, from the slim frame of the rows inside the study area, the fold's
# fit rows among them and their map points.
_FitMap = Callable[[gpd.GeoDataFrame, npt.NDArray[np.bool_], MapPoints], Sequence[BaseGeometry]]


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
_BASELINE_JOBS = (KDE, NAIVE_CELLS, _BEST, NAIVE_POINTS)
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
        plan: list[Fold],
        setting: tuple[bool, float, int | None],
        *,
        needs_frame: bool,
    ) -> None:
        weighted, radius, threads = setting
        self._given: tuple[Any, ...] | None = (incidents, study, weighted, radius)
        self.needs_frame = needs_frame
        self.plan = plan
        self.study = study = simplified(study)
        self.radius = radius
        self.max_area = MAX_SHARE * float(study.area)
        self.targets = _SHARES * float(study.area)
        n_jobs = (len(_BASELINE_JOBS) + 1) * len(plan)
        if threads is None:
            self.n_workers = workers(n_jobs, len(incidents), _PARALLEL_FOLD_ROWS)
        else:
            self.n_workers = min(n_jobs, os.cpu_count() or 1, max(1, threads))
        # The folds' points, then every map point's street space (drawn once: each fold's
        # are cut from them), each from its own copy of the study area, in one thread while
        # the caller goes on; the jobs that need the street spaces wait for them.
        self._builder = ThreadPoolExecutor(max_workers=1)
        fold_study = shapely.from_wkb(shapely.to_wkb(study))
        args = (incidents, fold_study, plan, weighted, needs_frame)
        self._folds: Future[_Folds] | None = self._builder.submit(_fold_points, *args)
        space_study = shapely.from_wkb(shapely.to_wkb(study))
        self._spaces: Future[StreetSpaces] | None = self._builder.submit(
            lambda: StreetSpaces(self.folds().universe, space_study, radius=radius)
        )

    def matches(
        self,
        incidents: gpd.GeoDataFrame,
        study: BaseGeometry,
        folds: Sequence[Fold] | None,
        setting: tuple[bool, float],
    ) -> bool:
        """Whether it was begun on these incidents (the same frame), study area, folds (None:
        the planned ones) and ``(weighted, radius)``."""
        if self._given is None:
            return False  # cancelled, or scored already
        given_incidents, given_study, weighted, radius = self._given
        return (
            incidents is given_incidents
            and (study is given_study or bool(shapely.equals_exact(study, given_study, 0.0)))
            and (folds is None or list(folds) == self.plan)
            and setting == (weighted, radius)
        )

    def folds(self) -> _Folds:
        """The folds' points (waits for the thread finding them)."""
        assert self._folds is not None, "the back-test has ended"
        return self._folds.result()

    def spaces(self) -> StreetSpaces:
        """Every map point's street space (waits for the thread drawing them)."""
        assert self._spaces is not None, "the back-test has ended"
        return self._spaces.result()

    def job(self, task: _Task, hotspot_map: _FitMap | None) -> Any:
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
        self, name: str, work: _FoldPoints, study: BaseGeometry, hotspot_map: _FitMap | None
    ) -> RankedMap:
        fit, max_area = work.fit, self.max_area
        if name == HOTSPOTS:
            assert hotspot_map is not None
            polygons = list(hotspot_map(self.folds().frame, work.fit_rows, fit))
            return ranked_map(polygons, study, max_area=max_area)
        if name == NAIVE_CELLS:
            return naive_cells(fit, study, max_area=max_area)
        if name == KDE:
            return kde_map(fit, study, max_area)
        spaces = self.spaces()
        return naive_points(fit, study, radius=self.radius, max_area=max_area, spaces=spaces)

    def scored(self, hotspot_map: _FitMap | None) -> list[_Scored]:
        """Each fold's table rows and curve points (:func:`_fold_rows`), in fold order (None
        for a fold without test incidents); everything held is dropped on return."""
        try:
            folds = self.folds().folds
            # Every fold's maps are independent jobs, run two at a time on two cores once
            # the folds are big enough to pay (GEOS, numpy and pandas release the GIL in
            # their loops): jobs, not whole folds, so that no core idles while the last fold
            # finishes alone; the longest first.
            names = [*([HOTSPOTS] if hotspot_map is not None else []), *_BASELINE_JOBS]
            todo = [(k, name) for name in names for k, work in enumerate(folds) if work]
            if self.n_workers > 1:
                with ThreadPoolExecutor(max_workers=self.n_workers) as pool:
                    ran = pool.map(lambda task: self.job(task, hotspot_map), todo)
                    done = dict(zip(todo, ran, strict=True))
            else:
                done = {task: self.job(task, hotspot_map) for task in todo}
        finally:
            self.cancel()
        scored: list[_Scored] = []
        for k, work in enumerate(folds):
            if work is None:
                scored.append(None)
                continue
            names = [HOTSPOTS, *_BASELINES]
            caught = {name: done[(k, name)] for name in names if (k, name) in done}
            best, area = done[(k, _BEST)], float(self.study.area)
            scored.append(_fold_rows(work.fold, caught, work.test, best, area))
        return scored

    def cancel(self) -> None:
        """Stop what has not begun, wait for what is running, and drop everything held."""
        self._builder.shutdown(wait=True, cancel_futures=True)
        self._folds = self._spaces = None
        self._given = None


def start_backtest(
    incidents: gpd.GeoDataFrame,
    *,
    study: BaseGeometry,
    weighted: bool = False,
    folds: Sequence[Fold] | None = None,
    radius: float = DEFAULT_MARGIN,
    threads: int | None = 1,
    rows_map: bool = True,
) -> BacktestStart | None:
    """Begin the back-test of :func:`backtest` (the same arguments) before the hotspot map is
    known; pass the result to :func:`backtest` as ``started``. ``rows_map``: whether the
    hotspot map will be a ``hotspot_map`` (fitted on rows; False: a ``points_map``). None when
    there are too few months to back-test. Call :meth:`BacktestStart.cancel` if it is not
    passed on (an error on the way)."""
    plan = list(folds) if folds is not None else plan_folds(month_numbers(incidents["month"]))
    if not plan:
        return None
    setting = (weighted, float(radius), threads)
    return BacktestStart(incidents, study, plan, setting, needs_frame=rows_map)
