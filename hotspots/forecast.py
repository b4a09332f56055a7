"""Score hotspot maps fitted on one period against the incidents of a later one.

:func:`evaluate_forecast` cuts each map to the same shares of the study area and scores it with
the hit rate, the Predictive Accuracy Index (PAI, Chainey, Tompson & Uhlig 2008), the Recapture
Rate Index (RRI, Levine 2008) and the Predictive Efficiency Index (PEI, Hunt 2016);
:func:`forecast_maps` fits the three maps it compares (DBSCAN footprints, KDE cells, Gi* cells).
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

from ._validate import check_incidents
from .errors import InputError, ParameterError
from .pilot import Area
from .study_area import area_geometry
from .study_area import study_area as make_study_area

__all__ = ["FORECAST_COLUMNS", "ForecastResult", "evaluate_forecast", "forecast_maps"]

log = logging.getLogger(__name__)

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
    test_xy: npt.NDArray[np.float64],
    notes: list[str],
) -> BaseGeometry:
    """The study area the shares are of (given or drawn), with a positive area."""
    if study_area is None:
        both = np.vstack([fit_xy, test_xy])
        if len(both) < 3:
            raise InputError("too few incidents to draw a study area; give study_area=.")
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(both[:, 0], both[:, 1]), crs=crs)
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
        if (~mask).any():
            notes.append(f"{int((~mask).sum()):,} {name} incidents outside the study area left out")
    if not test_in.any():
        raise InputError("no test incidents inside the study area; check the period and area.")
    return fit_xy[fit_in], test_xy[test_in]


def _best_map(
    study: BaseGeometry, test_xy: npt.NDArray[np.float64], cell_m: float
) -> tuple[list[BaseGeometry], npt.NDArray[np.float64]]:
    """The best possible map (PEI): grid cells by test density, densest first, with counts."""
    cells = _grid(study, cell_m)
    cell_of = _first_piece(cells, test_xy)
    cell_counts = np.bincount(cell_of[cell_of >= 0], minlength=len(cells)).astype(float)
    cell_area = np.array([c.area for c in cells])
    order = np.lexsort((-cell_area, -(cell_counts / cell_area)))
    return [cells[i] for i in order], cell_counts[order]


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


def _share_scores(
    hits: float, fit_hits: float, best: float, share: float, n_fit: int, n_test: int
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
    pieces: list[BaseGeometry],
    points: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    best_map: tuple[list[BaseGeometry], npt.NDArray[np.float64]],
    shares: Sequence[float],
    total_area: float,
) -> tuple[list[dict[str, Any]], float]:
    """One map's rows (one per area share) and the share of the study area it covers."""
    fit_xy, test_xy = points
    n_fit, n_test = len(fit_xy), len(test_xy)
    fit_of = _first_piece(pieces, fit_xy)
    test_of = _first_piece(pieces, test_xy)
    fit_counts = np.bincount(fit_of[fit_of >= 0], minlength=len(pieces)).astype(float)
    test_counts = np.bincount(test_of[test_of >= 0], minlength=len(pieces)).astype(float)
    map_share = float(sum(p.area for p in pieces)) / total_area
    rows: list[dict[str, Any]] = []
    for share in shares:
        target = share * total_area
        (hits, fit_hits), reached = _capture(pieces, [test_counts, fit_counts], target)
        (best,), _ = _capture(best_map[0], [best_map[1]], target)
        if reached < target * (1 - 1e-9):
            scores = dict.fromkeys(
                ("hit_rate", "pai", "rri", "pei", "test_hits", "fit_hits"), math.nan
            )
        else:
            scores = _share_scores(hits, fit_hits, best, share, n_fit, n_test)
        rows.append(
            {
                "method": name,
                "area_share": share,
                **scores,
                "area_km2": target / 1e6,
                "best_hit_rate": best / n_test,
                "map_share": map_share,
            }
        )
    return rows, map_share


def evaluate_forecast(
    fit_incidents: gpd.GeoDataFrame,
    test_incidents: gpd.GeoDataFrame,
    maps: Mapping[str, gpd.GeoDataFrame],
    *,
    study_area: Area | None = None,
    area_shares: Sequence[float] = (0.01, 0.03, 0.05),
    cell_m: float = 100.0,
) -> ForecastResult:
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
    ForecastResult
        ``table``: columns ``FORECAST_COLUMNS``, one row per method and area share (counts are
        fractional where a polygon is taken in part); ``notes``: the choices made.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> fit = gpd.GeoDataFrame({"month": [None] * 4, "category": ["Drugs"] * 4},
    ...     geometry=[Point(50, 50)] * 3 + [Point(350, 350)], crs="EPSG:27700")
    >>> test = fit.copy()
    >>> m = {"a": gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:27700")}
    >>> t = evaluate_forecast(fit, test, m, study_area=box(0, 0, 400, 400),
    ...                       area_shares=[1 / 16]).table
    >>> t[["hit_rate", "pai", "rri", "pei"]].round(3).values.tolist()
    [[0.75, 12.0, 1.0, 1.0]]
    """
    fit_incidents = check_incidents(fit_incidents, "fit_incidents", columns=("month", "category"))
    crs = fit_incidents.crs
    notes: list[str] = []
    fit_xy = _points_xy(fit_incidents, crs, "fit_incidents")
    test_xy = _points_xy(test_incidents, crs, "test_incidents")
    shares = _check_forecast_args(maps, area_shares, cell_m)
    study = _forecast_study(study_area, crs, fit_xy, test_xy, notes)
    total_area = float(study.area)
    fit_xy, test_xy = _inside(study, fit_xy, test_xy, notes)
    best_map = _best_map(study, test_xy, float(cell_m))
    notes.append(
        f"best possible map (PEI): the densest {cell_m:.0f} m grid cells of the test incidents"
    )
    rows: list[dict[str, Any]] = []
    for name, frame in maps.items():
        polys = _ranked_polygons(name, frame, crs)
        pieces = _ordered_pieces(polys, study, max(shares) * total_area)
        map_rows, map_share = _score_map(
            name, pieces, (fit_xy, test_xy), best_map, shares, total_area
        )
        rows += map_rows
        if map_share < max(shares):
            notes.append(
                f"{name}: the map covers {100 * map_share:.2f}% of the study area, so larger "
                "shares are not scored"
            )
    table = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    table["method"] = table["method"].astype("str")
    for note in notes:
        log.info("evaluate_forecast: %s", note)
    return ForecastResult(table=table, notes=tuple(notes))


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

    area = make_study_area(fit_incidents, boundary=study_area)
    found = find_hotspots(fit_incidents, study_area=area)
    dbscan = found.hotspots.sort_values(["density_km2", "rank"], ascending=[False, True])
    density = kde(fit_incidents, study_area=area)
    kde_cells = density.cells[density.cells["density_km2"] > 0].sort_values(
        ["density_km2", "cell_id"], ascending=[False, True]
    )
    gi = gi_star_cells(
        fit_incidents, grid_cells(area.geometry, cell_size=gi_cell_m, crs=fit_incidents.crs)
    ).cells
    gi_cells = gi[gi["z"] > 0].sort_values("z", ascending=False)
    maps = {"DBSCAN": dbscan, "KDE": kde_cells, "Gi*": gi_cells}
    return {
        name: frame.drop(columns="rank", errors="ignore").reset_index(drop=True)
        for name, frame in maps.items()
    }
