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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from ._memory import release_free_memory
from ._points import incident_xy, unique_points
from ._threads import workers
from ._validate import month_label, month_numbers
from .errors import ParameterError
from .footprint import DEFAULT_MARGIN

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
    "Fold",
    "MapPoints",
    "RankedMap",
    "backtest",
    "capture",
    "clip",
    "map_points",
    "naive_cells",
    "naive_points",
    "plan_folds",
    "ranked_map",
    "simplified",
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
#: Cell size of the naive and best-possible grid maps, metres.
NAIVE_CELL_M = 50.0
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
class MapPoints:
    """Unique map points and their counts (or summed weights)."""

    xy: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]

    @property
    def total(self) -> float:
        """All the incidents (or harm) of these points."""
        return float(self.counts.sum())

    @cached_property
    def tree(self) -> shapely.STRtree:
        """A tree of the points, built once: every map of a fold is scored on its test points."""
        return shapely.STRtree(shapely.points(self.xy))


def map_points(incidents: gpd.GeoDataFrame, *, weighted: bool = False) -> MapPoints:
    """The incidents' unique map points with their counts (``weight`` sums when weighted)."""
    xy = incident_xy(incidents)
    if not len(xy):
        return MapPoints(np.zeros((0, 2)), np.zeros(0))
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    _, uxy, uw = unique_points(xy, weights)
    return MapPoints(uxy, uw)


def simplified(study: BaseGeometry) -> BaseGeometry:
    """The study area with vertices closer than 1 m to its line dropped (fast clipping; the
    area changes by a few square metres a kilometre of boundary)."""
    return shapely.simplify(study, 1.0, preserve_topology=True)


def clip(geoms: npt.ArrayLike, study: BaseGeometry) -> npt.NDArray[np.object_]:
    """``geoms`` cut to the study area; those wholly inside are kept as they are (fast)."""
    out = np.asarray(geoms, dtype=object).copy()
    if not len(out):
        return out
    shapely.prepare(study)
    cut = ~shapely.contains_properly(study, out)
    if cut.any():
        out[cut] = shapely.intersection(out[cut], study)
    return out


@dataclass(frozen=True)
class RankedMap:
    """A map cut into disjoint pieces inside the study area, in priority order."""

    pieces: npt.NDArray[np.object_]
    areas: npt.NDArray[np.float64]

    @property
    def area(self) -> float:
        """Total area of the pieces, m²."""
        return float(self.areas.sum())


def ranked_map(
    polygons: Sequence[BaseGeometry] | npt.NDArray[np.object_],
    study: BaseGeometry,
    *,
    max_area: float = math.inf,
    disjoint: bool = False,
) -> RankedMap:
    """Polygons in priority order, each cut to the study area and to what earlier ones left free.

    Stops once the pieces' area passes ``max_area``. ``disjoint=True`` (grid cells, street
    spaces) skips the cutting of overlaps.
    """
    geoms = np.asarray(polygons, dtype=object)
    if not len(geoms):
        return RankedMap(np.zeros(0, dtype=object), np.zeros(0))
    clipped = clip(geoms, study)
    if disjoint:
        areas = shapely.area(clipped)
        keep = areas > 0
        clipped, areas = clipped[keep], areas[keep]
        stop = int(np.searchsorted(np.cumsum(areas), max_area)) + 1
        return RankedMap(clipped[:stop], areas[:stop])
    # each polygon loses what the earlier ones it overlaps took (outlines rarely overlap)
    tree = shapely.STRtree(clipped)
    later, earlier = tree.query(clipped, predicate="intersects")
    keep = earlier < later
    overlaps: dict[int, list[int]] = {}
    for i, j in zip(later[keep].tolist(), earlier[keep].tolist(), strict=True):
        overlaps.setdefault(i, []).append(j)
    pieces = np.empty(len(clipped), dtype=object)
    areas = np.zeros(len(clipped))
    total = 0.0
    last = len(clipped)
    for i, piece in enumerate(clipped):
        if piece is None or piece.is_empty:
            continue
        if i in overlaps:
            piece = piece.difference(shapely.union_all(pieces[overlaps[i]]))
        pieces[i] = piece
        areas[i] = float(piece.area)
        total += areas[i]
        if total >= max_area:
            last = i + 1
            break
    chosen = areas[:last] > 0
    return RankedMap(pieces[:last][chosen], areas[:last][chosen])


def _piece_counts(ranked: RankedMap, points: MapPoints) -> npt.NDArray[np.float64]:
    """Counts of ``points`` in each piece (a point on a shared edge counts in the first)."""
    out = np.zeros(len(ranked.pieces))
    if not len(ranked.pieces) or not len(points.xy):
        return out
    piece_idx, point_idx = points.tree.query(ranked.pieces, predicate="intersects")
    first = np.full(len(points.xy), len(ranked.pieces), dtype=np.int64)
    np.minimum.at(first, point_idx, piece_idx)
    held = first < len(ranked.pieces)
    np.add.at(out, first[held], points.counts[held])
    return out


def capture(
    ranked: RankedMap, points: MapPoints, target_areas: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Counts of ``points`` caught by the first ``target_areas`` m² of the map's pieces.

    The last piece reached is taken in part, its count in proportion to the area taken; past
    the map's end the count stays at the map's total.

    >>> sq = RankedMap(np.array([shapely.box(0, 0, 10, 10)], dtype=object), np.array([100.0]))
    >>> capture(sq, MapPoints(np.array([[5.0, 5.0]]), np.array([4.0])), [50, 100, 400]).tolist()
    [2.0, 4.0, 4.0]
    """
    targets = np.asarray(target_areas, dtype=float)
    counts = _piece_counts(ranked, points)
    if not len(counts):
        return np.zeros(len(targets))
    cum_area = np.r_[0.0, np.cumsum(ranked.areas)]
    cum_count = np.r_[0.0, np.cumsum(counts)]
    k = np.clip(np.searchsorted(cum_area, targets, side="right") - 1, 0, len(counts) - 1)
    frac = np.clip((targets - cum_area[k]) / ranked.areas[k], 0.0, 1.0)
    return np.asarray(cum_count[k] + frac * counts[k], dtype=float)


def street_spaces(
    xy: npt.NDArray[np.float64], study: BaseGeometry, *, radius: float = DEFAULT_MARGIN
) -> npt.NDArray[np.object_]:
    """Each map point's street space: the ground nearer to it than to any other map point,
    within ``radius`` metres of it and inside the study area (one polygon per row of ``xy``,
    all disjoint).
    """
    if not len(xy):
        return np.zeros(0, dtype=object)
    discs = _discs(xy, radius)
    if len(xy) < 2:
        return clip(discs, study)
    # Only a point with another within 2 radius has a neighbour's cell cutting its disc; those
    # points' neighbours are such points too, so their cells are computed among them alone.
    gap = cKDTree(xy).query(xy, k=2)[0][:, 1]
    near = np.flatnonzero(gap <= 2 * radius)
    spaces = discs.copy()
    if len(near) >= 2:
        pts = xy[near]
        lo, hi = pts.min(axis=0) - 2 * radius, pts.max(axis=0) + 2 * radius
        cells = shapely.get_parts(
            shapely.voronoi_polygons(
                shapely.multipoints(pts), extend_to=shapely.box(*lo, *hi), ordered=True
            )
        )
        if len(cells) != len(pts):  # GEOS merged near-twins: fall back to discs (may overlap)
            return clip(discs, study)
        spaces[near] = shapely.intersection(cells, discs[near])
    return clip(spaces, study)


def _discs(xy: npt.NDArray[np.float64], radius: float) -> npt.NDArray[np.object_]:
    """``shapely.buffer(points, radius, quad_segs=4)``, vertex for vertex, from one template
    16-gon (GEOS's: from angle 0 clockwise) moved to every point: several times faster."""
    angles = -np.arange(16) * (2 * np.pi / 16)
    ring = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    ring = np.vstack([ring, ring[:1]])
    return np.asarray(shapely.polygons(xy[:, None, :] + ring[None, :, :]), dtype=object)


def naive_points(
    fit: MapPoints, study: BaseGeometry, *, radius: float = DEFAULT_MARGIN, max_area: float
) -> RankedMap:
    """The naive map at the map-point scale: street spaces ranked by their fit-month count."""
    order = np.lexsort((np.arange(len(fit.counts)), -fit.counts))
    order = order[fit.counts[order] > 0]
    spaces = street_spaces(fit.xy[order], study, radius=radius)
    return ranked_map(spaces, study, max_area=max_area, disjoint=True)


def _cell_counts(
    points: MapPoints, study: BaseGeometry, cell_m: float
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """The grid cells (anchored at whole multiples of ``cell_m``) holding points, and counts."""
    if not len(points.xy):
        return np.zeros(0, dtype=object), np.zeros(0)
    ij = np.floor(points.xy / cell_m).astype(np.int64)
    keys, inverse = np.unique(ij, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=points.counts, minlength=len(keys)).astype(float)
    x0, y0 = keys[:, 0] * cell_m, keys[:, 1] * cell_m
    cells = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    return np.asarray(cells, dtype=object), counts


def naive_cells(
    fit: MapPoints, study: BaseGeometry, *, cell_m: float = NAIVE_CELL_M, max_area: float
) -> RankedMap:
    """The naive grid map: ``cell_m`` cells ranked by their fit-month count (ties: lower x, y)."""
    cells, counts = _cell_counts(fit, study, cell_m)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    return ranked_map(cells[order], study, max_area=max_area, disjoint=True)


def _densest(pieces: npt.NDArray[np.object_], counts: npt.NDArray[np.float64]) -> RankedMap:
    areas = shapely.area(pieces) if len(pieces) else np.zeros(0)
    keep = (areas > 0) & (counts > 0)
    pieces, areas, counts = pieces[keep], areas[keep], counts[keep]
    order = np.lexsort((areas, -counts / np.where(areas > 0, areas, 1.0)))
    return RankedMap(pieces[order], areas[order])


def best_hits(
    test: MapPoints, study: BaseGeometry, target_areas: npt.ArrayLike, *, radius: float
) -> npt.NDArray[np.float64]:
    """The most test incidents any map could catch in each area: the test months' own densest
    map-point street spaces or 50 m cells, whichever catches more (the PEI's denominator)."""
    spaces = street_spaces(test.xy, study, radius=radius)
    by_points = capture(_densest(spaces, test.counts), test, target_areas)
    cells, counts = _cell_counts(test, study, NAIVE_CELL_M)
    clipped = clip(cells, study)
    by_cells = capture(_densest(clipped, counts), test, target_areas)
    return np.maximum(by_points, by_cells)


def _kde_map(fit: gpd.GeoDataFrame, study: BaseGeometry, weighted: bool, max_area: float) -> Any:
    from .density import ranked_kde_cells

    # 50 m cells, coarser over a city (at most about 250,000 cells), bandwidth four cells
    cell = max(NAIVE_CELL_M, round(math.sqrt(float(study.area) / 250_000)))
    cells, _ = ranked_kde_cells(
        fit,
        study,
        cell_size=cell,
        bandwidth=4 * cell,
        max_area=max_area,
        weights="weight" if weighted else None,
    )
    return ranked_map(cells, study, max_area=max_area, disjoint=True)


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
    study: BaseGeometry,
    radius: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    total_area = float(study.area)
    shares = _SHARES
    targets = shares * total_area
    best = best_hits(test, study, targets, radius=radius)
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
        Folds scored at a time (at most the cores); None: :func:`hotspots._threads.workers`
        (two from 50,000 incidents on, ``$HOTSPOTS_THREADS`` at most). ``hotspot_map`` must
        then be safe to call from several threads: it must not share a prepared geometry
        between calls (each fold gets its own copy of ``study``).

    Returns
    -------
    BacktestResult or None
        None when there are too few months to back-test.
    """
    months = month_numbers(incidents["month"])
    plan = list(folds) if folds is not None else plan_folds(months)
    if not plan:
        return None
    study = simplified(study)
    inside = shapely.intersects_xy(study, *incident_xy(incidents).T) if len(incidents) else []
    # only what the maps read: the folds' copies stay small at city scale
    slim = [c for c in ("month", "weight") if c in incidents.columns]
    frame = incidents.loc[np.asarray(inside, dtype=bool), [*slim, incidents.geometry.name]]
    months = month_numbers(frame["month"])
    max_area = MAX_SHARE * float(study.area)
    fold_study = study

    def score(fold: Fold) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        # Each fold its own copy of the study area: a prepared GEOS geometry builds its
        # index lazily and must not be shared between threads.
        study = shapely.from_wkb(shapely.to_wkb(fold_study))
        fit = frame[(months >= fold.fit[0]) & (months <= fold.fit[1])]
        test = map_points(
            frame[(months >= fold.test[0]) & (months <= fold.test[1])], weighted=weighted
        )
        if test.total <= 0 or not len(fit):
            return None
        fit_points = map_points(fit, weighted=weighted)
        fit_map, targets = hotspot_map, _SHARES * float(study.area)
        draws: dict[str, Callable[[], RankedMap]] = {
            NAIVE_POINTS: lambda: naive_points(fit_points, study, radius=radius, max_area=max_area),
            NAIVE_CELLS: lambda: naive_cells(fit_points, study, max_area=max_area),
            KDE: lambda: _kde_map(fit, study, weighted, max_area),
        }
        if fit_map is not None:
            draws = {
                HOTSPOTS: lambda: ranked_map(list(fit_map(fit)), study, max_area=max_area)
            } | draws
        caught: dict[str, tuple[npt.NDArray[np.float64], float]] = {}
        for name, draw in draws.items():  # each map scored as soon as drawn, then dropped
            ranked = draw()
            caught[name] = (capture(ranked, test, targets), ranked.area)
            del ranked
        return _fold_rows(fold, caught, test, study, radius)

    # The folds are independent: two at a time on two cores once they are big enough to pay
    # (GEOS, numpy and pandas release the GIL in their loops); results stay in fold order.
    if threads is None:
        n_workers = workers(len(plan), len(frame), _PARALLEL_FOLD_ROWS)
    else:
        n_workers = min(len(plan), os.cpu_count() or 1, max(1, threads))
    if n_workers > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            scored = list(pool.map(score, plan))
    else:
        scored = [score(fold) for fold in plan]
    release_free_memory()  # the folds' maps are gone: their pages back to the system
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
