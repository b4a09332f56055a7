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
  hit rate / the best hit rate a map of that area made of the test months' own busiest map
  points or 50 m cells could have had (whichever catches more): the finest scale, not a 100 m
  grid, but not every possible map: a polygon narrower than a street space can beat it, so a
  PEI can pass 1 (rarely: on the demo borough the highest is 0.89). With harm weights every
  count is a sum of weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ._memory import release_free_memory
from ._validate import month_numbers
from .backtest_jobs import (  # the back-test's vocabulary, re-exported
    CURVE_SHARES,
    HOTSPOTS,
    KDE,
    KDE_BANDWIDTH_CELLS,
    MAX_SHARE,
    NAIVE_CELLS,
    NAIVE_POINTS,
    SHARES,
    BacktestStart,
    FitMap,
    Fold,
)
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
    kde_cell,
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
    "KDE_BANDWIDTH_CELLS",
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
    "best_hits",
    "capture",
    "clip",
    "kde_bandwidths",
    "kde_cell",
    "kde_map",
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
#: The area a commander can patrol, as shares of the study area: defaults are chosen on it.
BUDGET: tuple[float, float] = (0.01, 0.03)
#: Columns of :attr:`BacktestResult.table`.
BACKTEST_COLUMNS = [
    "fold", "fit_from", "fit_to", "test_from", "test_to", "method", "area_share",
    "hit_rate", "pai", "pei", "area_km2", "map_share", "test_total",
]  # fmt: skip


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
    kde_bandwidth
        The KDE map's bandwidth, metres: of :data:`KDE_BANDWIDTH_CELLS` cells, the one
        that caught most over these folds (NaN when not known).
    """

    table: pd.DataFrame
    curve: pd.DataFrame
    folds: tuple[Fold, ...]
    notes: tuple[str, ...] = ()
    kde_bandwidth: float = math.nan

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
        return {
            "folds": [f.labels() for f in self.folds],
            **scores,
            "kde_bandwidth_m": _round(self.kde_bandwidth),
            "notes": list(self.notes),
        }


def _round(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 4)


def backtest(
    incidents: gpd.GeoDataFrame,
    *,
    study: BaseGeometry,
    hotspot_map: Callable[[gpd.GeoDataFrame], Iterable[BaseGeometry]] | None,
    weighted: bool = False,
    folds: Sequence[Fold] | None = None,
    radius: float = DEFAULT_MARGIN,
    threads: int | None = 1,
    points_map: Callable[[MapPoints, int], Iterable[BaseGeometry]] | None = None,
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
        out), polygons in priority order out (an iterator is taken only as far as the
        map needs: outlines drawn as they are asked for). None scores the baselines only.
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
        folds, ``weighted`` and ``radius`` (its folds' points and street spaces may be
        worked out already; its ``threads`` are used); it is ended here either way. Begun
        on anything else, it is a :class:`~hotspots.errors.ParameterError`.

    Returns
    -------
    BacktestResult or None
        None when there are too few months to back-test.
    """
    rows_map = points_map is None and hotspot_map is not None
    if started is None:
        started = start_backtest(
            incidents,
            study=study,
            weighted=weighted,
            folds=folds,
            radius=radius,
            threads=threads,
            rows_map=rows_map,
        )
    elif not started.matches(incidents, study, folds, (weighted, float(radius)), rows_map=rows_map):
        started.cancel()
        raise ParameterError(
            "started: it was begun on other incidents, study area, folds or settings (or with "
            "rows_map=False, where a hotspot_map needs the rows); give the ones this back-test "
            "is given."
        )
    if started is None:
        return None
    plan = started.plan
    fit_map: FitMap | None = None
    if points_map is not None:
        on_points = points_map

        def fit_map(frame: Any, rows: npt.NDArray[np.bool_], points: MapPoints) -> Any:
            return on_points(points, int(np.count_nonzero(rows)))

    elif hotspot_map is not None:
        on_rows = hotspot_map

        def fit_map(frame: Any, rows: npt.NDArray[np.bool_], points: MapPoints) -> Any:
            return on_rows(frame[rows])

    scored, kde_bandwidth = started.scored(fit_map)
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
        f"{plan[0].labels()['test_from']}..{plan[0].labels()['test_to']}",
        f"KDE: bandwidth {kde_bandwidth:,.0f} m, the one of "
        f"{_listed(kde_bandwidths(study))} that caught most over these folds (chosen on "
        "them, as the hotspots' settings are)",
    ]
    return BacktestResult(
        table=table,
        curve=curve,
        folds=tuple(plan),
        notes=tuple(notes),
        kde_bandwidth=kde_bandwidth,
    )


def kde_bandwidths(study: BaseGeometry) -> list[float]:
    """The KDE bandwidths (metres) the back-test tries over ``study``."""
    return [c * kde_cell(simplified(study)) for c in KDE_BANDWIDTH_CELLS]


def _listed(metres: list[float]) -> str:
    words = [f"{m:,.0f}" for m in metres]
    return f"{', '.join(words[:-1])} and {words[-1]} m" if len(words) > 1 else f"{words[0]} m"


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
    return BacktestStart(incidents, study, (plan, folds is not None), setting, needs_frame=rows_map)
