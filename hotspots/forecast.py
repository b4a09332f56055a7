"""Score hotspot maps fitted on one period against the incidents of a later one.

:func:`evaluate_forecast` cuts each map to the same shares of the study area and scores it with
the hit rate, the Predictive Accuracy Index (PAI, Chainey, Tompson & Uhlig 2008), the Recapture
Rate Index (RRI, Levine 2008) and the Predictive Efficiency Index (PEI, Hunt 2016), next to the
naive baselines of :mod:`hotspots.backtest` (last period's counts per map point and per 50 m
cell), with the PEI against the best possible map at the finest scale;
:func:`forecast_maps` fits the three maps it compares (DBSCAN outlines, KDE cells, Gi* cells),
the KDE bandwidth chosen by the same back-test on the fit months
(:func:`choose_kde_bandwidth`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ._validate import check_incidents, month_label, month_numbers
from .backtest import (
    BUDGET,
    MIN_MONTHS,
    NAIVE_CELL_M,
    NAIVE_CELLS,
    NAIVE_POINTS,
    MapPoints,
    RankedMap,
    best_hits,
    capture,
    map_points,
    naive_cells,
    naive_points,
    plan_folds,
    ranked_map,
)
from .errors import InputError, ParameterError
from .footprint import DEFAULT_MARGIN
from .pilot import Area
from .study_area import area_geometry
from .study_area import study_area as make_study_area

__all__ = [
    "FALLBACK_KDE_BANDWIDTH",
    "FORECAST_COLUMNS",
    "KDE_BANDWIDTHS",
    "BandwidthChoice",
    "ForecastMaps",
    "ForecastResult",
    "choose_kde_bandwidth",
    "evaluate_forecast",
    "forecast_maps",
]

log = logging.getLogger(__name__)

#: KDE bandwidths (metres) :func:`choose_kde_bandwidth` back-tests, street scale to district.
KDE_BANDWIDTHS: tuple[float, ...] = (50.0, 100.0, 200.0, 400.0)
#: KDE bandwidth (metres) when the fit months are too few to back-test: that of the
#: back-test's own KDE baseline (:mod:`hotspots.backtest`, four 50 m cells).
FALLBACK_KDE_BANDWIDTH = 200.0

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
    frame = check_incidents(frame, name, columns=("month", "category"))
    if frame.crs != crs:
        frame = frame.to_crs(crs)
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    if len(xy) != len(frame):
        raise InputError(f"{name} must have one point geometry per row; use read_incidents().")
    return xy


@dataclass(frozen=True)
class ForecastResult:
    """What :func:`evaluate_forecast` found.

    Attributes
    ----------
    table
        Columns ``FORECAST_COLUMNS``: one row per method and area share (counts are
        fractional where a polygon is taken in part).
    notes
        Automatic choices made, as plain sentences (the study area, incidents left out, the
        best possible map, maps too small for the larger shares).
    """

    table: pd.DataFrame
    notes: tuple[str, ...] = ()


def _check_forecast_args(maps: object, area_shares: Sequence[float], cell_m: float) -> list[float]:
    """The area shares as floats, once ``maps``, ``area_shares`` and ``cell_m`` are checked."""
    if not isinstance(maps, Mapping) or not maps:
        raise ParameterError("maps must be a non-empty {name: GeoDataFrame of polygons} mapping.")
    shares = [float(a) for a in area_shares]
    if not shares or not all(math.isfinite(a) and 0 < a <= 1 for a in shares):
        raise ParameterError(
            f"area_shares must be numbers in (0, 1], e.g. (0.01, 0.03, 0.05); got {area_shares!r}."
        )
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ParameterError(f"cell_m must be a positive distance in metres; got {cell_m!r}.")
    return shares


def _forecast_study(
    study_area: Area | None,
    crs: Any,
    fit_xy: npt.NDArray[np.float64],
    notes: list[str],
) -> BaseGeometry:
    """The study area the shares are of (given, or drawn round the fit incidents alone, as
    :func:`forecast_maps` draws it: nothing of the months scored), with a positive area."""
    if study_area is None:
        if len(fit_xy) < 3:
            raise InputError("too few incidents to draw a study area; give study_area=.")
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*fit_xy.T), crs=crs)
        area = make_study_area(points)
        study = area.geometry
        notes.append(area.note)
    else:
        study = area_geometry(study_area, crs, "study_area")
    if float(study.area) <= 0:
        raise ParameterError("study_area has no area; give a polygon boundary.")
    return study


def _inside(
    study: BaseGeometry,
    fit_xy: npt.NDArray[np.float64],
    test_xy: npt.NDArray[np.float64],
    notes: list[str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The fitting and test points inside the study area; a note for those left out."""
    fit_in = shapely.intersects_xy(study, fit_xy[:, 0], fit_xy[:, 1])
    test_in = shapely.intersects_xy(study, test_xy[:, 0], test_xy[:, 1])
    for name, mask in (("fitting", fit_in), ("test", test_in)):
        if out := int((~mask).sum()):
            its = "incident" if out == 1 else "incidents"
            notes.append(f"{out:,} {name} {its} outside the study area left out")
    if not test_in.any():
        raise InputError("no test incidents inside the study area; check the period and area.")
    return fit_xy[fit_in], test_xy[test_in]


def _ranked_polygons(name: str, frame: object, crs: Any) -> list[BaseGeometry]:
    """A map's polygons in priority order (ascending ``rank`` when it has one) in ``crs``."""
    if not isinstance(frame, gpd.GeoDataFrame | gpd.GeoSeries):
        raise ParameterError(f"maps[{name!r}] must be a GeoDataFrame of polygons.")
    if frame.crs is None:
        raise ParameterError(f"maps[{name!r}] has no CRS; give one (e.g. EPSG:27700).")
    ranked = frame.to_crs(crs)
    if isinstance(ranked, gpd.GeoDataFrame) and "rank" in ranked.columns:
        ranked = ranked.sort_values("rank", kind="stable")
    return list(ranked.geometry.to_numpy())


def _unique_points(xy: npt.NDArray[np.float64]) -> MapPoints:
    """The unique map points of ``xy`` with their counts."""
    if not len(xy):
        return MapPoints(np.zeros((0, 2)), np.zeros(0))
    uxy, counts = np.unique(xy, axis=0, return_counts=True)
    return MapPoints(np.asarray(uxy, dtype=float), counts.astype(float))


def _share_scores(
    hits: float, fit_hits: float, best: float, share: float, n_fit: float, n_test: float
) -> dict[str, float]:
    """Hit rate, PAI, RRI and PEI at one area share from the counts captured there."""
    best_rate = best / n_test
    hit_rate = hits / n_test
    rri = (hits / fit_hits) / (n_test / n_fit) if fit_hits > 0 and n_fit > 0 else math.nan
    return {
        "hit_rate": hit_rate,
        "pai": hit_rate / share,
        "rri": rri,
        "pei": hit_rate / best_rate if best_rate > 0 else math.nan,
        "test_hits": hits,
        "fit_hits": fit_hits,
    }


def _score_map(
    name: str,
    ranked: RankedMap,
    points: tuple[MapPoints, MapPoints],
    best: npt.NDArray[np.float64],
    shares: Sequence[float],
    total_area: float,
) -> tuple[list[dict[str, Any]], float]:
    """One map's rows (one per area share) and the share of the study area it covers."""
    fit, test = points
    targets = np.asarray(shares, dtype=float) * total_area
    hits = capture(ranked, test, targets)
    fit_hits = capture(ranked, fit, targets)
    map_share = ranked.area / total_area
    rows: list[dict[str, Any]] = []
    for k, share in enumerate(shares):
        # a map smaller than the share: what it holds, over the share (as the back-test)
        scores = _share_scores(
            float(hits[k]), float(fit_hits[k]), float(best[k]), share, fit.total, test.total
        )
        rows.append(
            {
                "method": name,
                "area_share": share,
                **scores,
                "area_km2": targets[k] / 1e6,
                "best_hit_rate": float(best[k]) / test.total,
                "map_share": map_share,
            }
        )
    return rows, map_share


def _naive_maps(
    fit: MapPoints, study: BaseGeometry, cell_m: float, max_area: float
) -> dict[str, RankedMap]:
    """The naive baselines: last period's counts per map point and per ``cell_m`` cell."""
    cells = NAIVE_CELLS if cell_m == 50 else f"last period, {cell_m:g} m cells"
    return {
        NAIVE_POINTS: naive_points(fit, study, radius=DEFAULT_MARGIN, max_area=max_area),
        cells: naive_cells(fit, study, cell_m=cell_m, max_area=max_area),
    }


def evaluate_forecast(
    fit_incidents: gpd.GeoDataFrame,
    test_incidents: gpd.GeoDataFrame,
    maps: Mapping[str, gpd.GeoDataFrame],
    *,
    study_area: Area | None = None,
    area_shares: Sequence[float] = (0.01, 0.03, 0.05),
    cell_m: float = 50.0,
    baselines: bool = True,
) -> ForecastResult:
    """Score hotspot maps fitted on one period against the incidents of a later period.

    Each map is cut to the same shares of the study area, so maps of different methods
    (DBSCAN outlines, KDE cells, Gi* cells) and the naive baselines compare side by side.

    * **Cutting to an area share**: a map's polygons are taken in rank order (row order, or
      ascending ``rank`` when the frame has that column), each clipped to the study area and
      to what higher-ranked polygons left free, until their area reaches the share; the last
      polygon is taken in part, its incidents counted in proportion to the part of its area
      taken (i.e. assumed even within it). A map smaller than a share is scored on what it
      holds, the rest of the share counted as patrolled for nothing, as the back-test of
      :mod:`hotspots.backtest` does: maps compare at equal area (``map_share`` says how far
      it reaches; polygons beyond the largest share are not looked at, so ``map_share``
      stops there; a note names each map smaller than the largest share).
    * **Naive baselines** (``baselines=True``, rows after the given maps): "last period, map
      points", each fitting map point's street space (its Voronoi cell within 25 m,
      :func:`hotspots.backtest.street_spaces`) ranked by its fitting-period count; and "last
      period, 50 m cells", ``cell_m`` grid cells ranked the same way
      (:func:`hotspots.backtest.naive_points`, :func:`hotspots.backtest.naive_cells`).
      A map worth drawing should beat them.
    * **hit rate** ``h = n / N``: test incidents captured over all test incidents in the
      study area.
    * **PAI** (Chainey, Tompson & Uhlig 2008, *Security Journal* 21): ``h / a``, ``a`` the
      area share.
    * **RRI**, recapture rate index (Levine 2008, *Geographical Analysis* 40(3)):
      ``(n_test / n_fit) / (N_test / N_fit)``, counts inside the same area for the fitting and
      test incidents; > 1 means the area holds a larger share of the test period's incidents
      than of the fitting period's.
    * **PEI**, predictive efficiency index (Hunt 2016, NIJ report 250229): ``h / h*`` where
      ``h*`` is the best hit rate a map of the same area could have had at the finest scale
      (:func:`hotspots.backtest.best_hits`): the *test* incidents' own map points' street
      spaces, or their own 50 m cells, whichever catches more, densest first, cut to the
      share the same way. So PEI <= 1 for maps made of street spaces or of 50 m cells (the
      naive baselines); a map of other shapes can, rarely, exceed 1.

    Parameters
    ----------
    fit_incidents, test_incidents
        Incidents frames (metres) of the fitting and the test periods; not modified.
    maps
        ``{method name: GeoDataFrame of polygons in priority order}`` (e.g.
        :func:`forecast_maps`, whose notes are carried into the result). For DBSCAN
        outlines ranked by incidents a large first outline is taken in part at small shares;
        rank them by density (incidents per km²) to compare like with like.
    study_area
        Boundary the area shares are of; None: the fit incidents' default study area
        (:func:`hotspots.study_area.study_area`, the one :func:`forecast_maps` fits in; test
        incidents outside it are left out, with a note).
    area_shares
        Shares of the study area to score at, each in (0, 1].
    cell_m
        Cell size of the naive grid baseline, metres (the best possible map always uses
        50 m cells; before the finest-scale PEI this was the best map's grid, 100 m).
    baselines
        Add the two naive baselines' rows.

    Returns
    -------
    ForecastResult
        ``table``: columns ``FORECAST_COLUMNS``, one row per method and area share (counts are
        fractional where a polygon is taken in part); ``notes``: the choices made.

    Examples
    --------
    Three incidents at one map point, one at another, in both periods; the map is the 100 m
    square around the first, scored at 400 m² (1/400 of the study area). It catches
    400/10,000 of the square's 3 incidents: hit rate 0.12 / 4 = 0.03, PAI 12. The best map of
    400 m² is part of the busy map point's street space (a 16-gon of r = 25 m, 1,913 m²):
    3 x 400 / 1,913 = 0.627 incidents (its 50 m cell would give 0.48), so PEI 0.19. The
    naive map-point map is that best map (PEI 1); the naive 50 m cells reach 0.48 / 0.627.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> fit = gpd.GeoDataFrame({"month": [None] * 4, "category": ["Drugs"] * 4},
    ...     geometry=[Point(55, 55)] * 3 + [Point(350, 350)], crs="EPSG:27700")
    >>> m = {"a": gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:27700")}
    >>> t = evaluate_forecast(fit, fit.copy(), m, study_area=box(0, 0, 400, 400),
    ...                       area_shares=[1 / 400]).table
    >>> cols = ["method", "hit_rate", "pai", "rri", "pei"]
    >>> t[cols].round(3).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['a', 0.03, 12.0, 1.0, 0.191],
     ['last period, map points', 0.157, 62.715, 1.0, 1.0],
     ['last period, 50 m cells', 0.12, 48.0, 1.0, 0.765]]
    """
    fit_incidents = check_incidents(fit_incidents, "fit_incidents", columns=("month", "category"))
    crs = fit_incidents.crs
    notes: list[str] = list(getattr(maps, "notes", ()))
    fit_xy = _points_xy(fit_incidents, crs, "fit_incidents")
    test_xy = _points_xy(test_incidents, crs, "test_incidents")
    shares = _check_forecast_args(maps, area_shares, cell_m)
    study = _forecast_study(study_area, crs, fit_xy, notes)
    total_area = float(study.area)
    fit_xy, test_xy = _inside(study, fit_xy, test_xy, notes)
    fit, test = _unique_points(fit_xy), _unique_points(test_xy)
    max_area = max(shares) * total_area
    best = best_hits(test, study, np.asarray(shares) * total_area, radius=DEFAULT_MARGIN)
    notes.append(
        "best possible map (PEI): the test incidents' own densest map points' street spaces "
        "or 50 m cells, whichever catches more"
    )
    ranked = {
        name: ranked_map(_ranked_polygons(name, frame, crs), study, max_area=max_area)
        for name, frame in maps.items()
    }
    if baselines:
        ranked.update(_naive_maps(fit, study, float(cell_m), max_area))
    rows: list[dict[str, Any]] = []
    for name, pieces in ranked.items():
        map_rows, map_share = _score_map(name, pieces, (fit, test), best, shares, total_area)
        rows += map_rows
        if map_share < max(shares) * (1 - 1e-9):
            notes.append(
                f"{name}: the map covers {100 * map_share:.2f}% of the study area; at larger "
                "shares it is scored on what it holds, the rest counted as patrolled for nothing"
            )
    table = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    table["method"] = table["method"].astype("str")
    for note in notes:
        log.info("evaluate_forecast: %s", note)
    return ForecastResult(table=table, notes=tuple(notes))


class ForecastMaps(dict[str, gpd.GeoDataFrame]):
    """The maps :func:`forecast_maps` fitted (a plain ``{name: GeoDataFrame}`` dict) and the
    automatic choices made, in ``notes`` (carried into :func:`evaluate_forecast`'s notes) and
    ``kde_bandwidth`` (metres)."""

    def __init__(
        self, maps: Mapping[str, gpd.GeoDataFrame], *, notes: Sequence[str], kde_bandwidth: float
    ) -> None:
        super().__init__(maps)
        self.notes: tuple[str, ...] = tuple(notes)
        self.kde_bandwidth = float(kde_bandwidth)


@dataclass(frozen=True)
class BandwidthChoice:
    """The KDE bandwidth :func:`choose_kde_bandwidth` chose, and why.

    Attributes
    ----------
    bandwidth
        Kernel radius, metres.
    reason
        One plain sentence for the user.
    backtested
        Whether the back-test chose it (else :data:`FALLBACK_KDE_BANDWIDTH`).
    scores
        ``(bandwidth, mean capture within the budget)`` of each candidate (empty without a
        back-test).
    """

    bandwidth: float
    reason: str
    backtested: bool
    scores: tuple[tuple[float, float], ...] = ()


def _kde_cell(study: BaseGeometry, bandwidth: float) -> float:
    """KDE cell size: the density module's default rule, but at most 50 m (the naive cells)
    and at most the bandwidth, so every candidate bandwidth of 50 m or more is scored on the
    same cells."""
    from .density import CELLS_PER_SHORT_SIDE

    minx, miny, maxx, maxy = study.bounds
    default = min(maxx - minx, maxy - miny) / CELLS_PER_SHORT_SIDE
    return min(default, NAIVE_CELL_M, bandwidth)


def _kde_cells(
    incidents: gpd.GeoDataFrame, study: BaseGeometry, bandwidth: float
) -> gpd.GeoDataFrame:
    """KDE cells with a density above zero, densest first (ties by ``cell_id``)."""
    from .density import kde

    cell = _kde_cell(study, bandwidth)
    density = kde(incidents, study_area=study, cell_size=cell, bandwidth=bandwidth)
    cells = density.cells[density.cells["density_km2"] > 0]
    return cells.sort_values(["density_km2", "cell_id"], ascending=[False, True])


def choose_kde_bandwidth(
    fit_incidents: gpd.GeoDataFrame,
    *,
    study_area: Area | None = None,
    candidates: Sequence[float] = KDE_BANDWIDTHS,
    budget: tuple[float, float] = BUDGET,
) -> BandwidthChoice:
    """The KDE bandwidth whose map best predicted the next months, back-tested on the fit months.

    The folds are :func:`hotspots.backtest.plan_folds` of ``fit_incidents``' months (each
    fits on the months before its test months). On each fold every candidate's KDE cells,
    densest first, are scored by their mean capture at three shares of the study area
    spread over ``budget`` (1%, 2%, 3% by default); the candidate with the highest mean over
    the folds wins, ties to the smaller bandwidth (deterministic). With fewer than
    :data:`hotspots.backtest.MIN_MONTHS` months there is no back-test and the bandwidth is
    :data:`FALLBACK_KDE_BANDWIDTH` (200 m, the back-test's own KDE baseline). Only
    incidents inside the study area count. KDE cells are the density module's default size
    but at most 50 m and at most the bandwidth (the same cells for every candidate).

    Parameters
    ----------
    fit_incidents
        Incidents frame (metres) with ``month``: the fit months only.
    study_area
        Boundary of the study; the incidents' default study area when None.
    candidates
        Bandwidths to try, metres, each > 0.
    budget
        (smallest, largest) share of the study area the capture is averaged over.
    """
    values = sorted({float(c) for c in candidates})
    if not values or not all(math.isfinite(c) and c > 0 for c in values):
        raise ParameterError(
            f"candidates must be positive distances in metres; got {candidates!r}."
        )
    area = make_study_area(fit_incidents, boundary=study_area)
    study = area.geometry
    xy = shapely.get_coordinates(fit_incidents.geometry.to_numpy())
    frame = fit_incidents[shapely.intersects_xy(study, xy[:, 0], xy[:, 1])]
    months = month_numbers(frame["month"])
    splits = [
        (frame[(months >= f.fit[0]) & (months <= f.fit[1])], f)
        for f in plan_folds(months)
        if ((months >= f.test[0]) & (months <= f.test[1])).any()
    ]
    if not splits:
        return BandwidthChoice(
            FALLBACK_KDE_BANDWIDTH,
            f"KDE bandwidth {FALLBACK_KDE_BANDWIDTH:g} m (the back-test's own KDE baseline): "
            f"too few fit months to back-test it ({MIN_MONTHS} are needed)",
            backtested=False,
        )
    targets = np.linspace(*budget, 3) * float(study.area)
    totals = np.zeros(len(values))
    for fit, fold in splits:
        test = map_points(frame[(months >= fold.test[0]) & (months <= fold.test[1])])
        for i, bandwidth in enumerate(values):
            cells = _kde_cells(fit, study, bandwidth).geometry.to_numpy()
            ranked = ranked_map(cells, study, max_area=float(targets.max()), disjoint=True)
            totals[i] += float(capture(ranked, test, targets).mean()) / test.total
    totals /= len(splits)
    best = int(np.flatnonzero(totals >= totals.max() - 1e-9)[0])  # ties: the smaller
    others = ", ".join(f"{v:g} m {t:.0%}" for v, t in zip(values, totals, strict=True))
    latest = splits[0][1]
    span = latest.test[1] - latest.test[0] + 1
    period = "month's" if span == 1 else f"{span} months'"
    reason = (
        f"KDE bandwidth {values[best]:g} m chosen by back-test on the fit months: its densest "
        f"cells held {totals[best]:.0%} of the following {period} crime in {budget[0]:.0%}–"
        f"{budget[1]:.0%} of the study area (mean of {len(splits)} fold"
        f"{'s' if len(splits) != 1 else ''}, the latest fitting {month_label(latest.fit[0])}.."
        f"{month_label(latest.fit[1])}; {others})"
    )
    return BandwidthChoice(
        values[best],
        reason,
        backtested=True,
        scores=tuple((v, float(t)) for v, t in zip(values, totals, strict=True)),
    )


def _bandwidth(
    fit_incidents: gpd.GeoDataFrame, area: Any, kde_bandwidth: float | str
) -> tuple[float, str]:
    """The KDE bandwidth to use and its note."""
    if isinstance(kde_bandwidth, str) and kde_bandwidth == "auto":
        choice = choose_kde_bandwidth(fit_incidents, study_area=area)
        return choice.bandwidth, choice.reason
    value = float(kde_bandwidth) if isinstance(kde_bandwidth, int | float) else math.nan
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(
            f"kde_bandwidth must be 'auto' or a positive distance in metres; got {kde_bandwidth!r}."
        )
    return value, f"KDE bandwidth {value:g} m (given)"


def forecast_maps(
    fit_incidents: gpd.GeoDataFrame,
    *,
    study_area: Area | None = None,
    gi_cell_m: float = 100.0,
    kde_bandwidth: float | str = "auto",
) -> ForecastMaps:
    """The three hotspot maps :func:`evaluate_forecast` compares, fitted on ``fit_incidents``.

    * ``"DBSCAN"``: :func:`hotspots.find_hotspots` with the suggested settings: the
      analysis's own outlines (member map points and the street space between close
      neighbours, 25 m margin) in the analysis's own order (``rank``: densest first,
      incidents per km²): at a small area share a planner takes the densest hotspots first.
    * ``"KDE"``: :func:`hotspots.density.kde` cells with a density above zero, densest first
      (ties by ``cell_id``); the bandwidth given, or chosen by :func:`choose_kde_bandwidth`
      (``"auto"``); cells of the density module's default size, but at most 50 m (the naive
      cells) and at most the bandwidth.
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
    kde_bandwidth
        KDE kernel radius in metres, or ``"auto"``: back-tested on the fit months.

    Returns
    -------
    ForecastMaps
        ``{"DBSCAN": ..., "KDE": ..., "Gi*": ...}`` with the bandwidth and its note.
    """
    from .density import grid_cells
    from .find import find_hotspots
    from .significance import gi_star_cells

    area = make_study_area(fit_incidents, boundary=study_area)
    bandwidth, note = _bandwidth(fit_incidents, area, kde_bandwidth)
    log.info("forecast maps: %s", note)
    found = find_hotspots(fit_incidents, study_area=area)
    dbscan = found.hotspots.sort_values("rank", kind="stable")
    kde_cells = _kde_cells(fit_incidents, area.geometry, bandwidth)
    gi = gi_star_cells(
        fit_incidents, grid_cells(area.geometry, cell_size=gi_cell_m, crs=fit_incidents.crs)
    ).cells
    gi_cells = gi[gi["z"] > 0].sort_values("z", ascending=False)
    maps = {"DBSCAN": dbscan, "KDE": kde_cells, "Gi*": gi_cells}
    return ForecastMaps(
        {
            name: frame.drop(columns="rank", errors="ignore").reset_index(drop=True)
            for name, frame in maps.items()
        },
        notes=[note],
        kde_bandwidth=bandwidth,
    )
