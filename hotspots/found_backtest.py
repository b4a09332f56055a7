"""The back-test of found hotspots: each fold's hotspots found again with the same settings.

:func:`hotspot_backtest` scores the method, ``eps``, outline margin and size limit of a
:class:`~hotspots.find.HotspotResult` on the incidents' own months (:mod:`hotspots.backtest`),
``min_samples`` scaled to each fold's share; :func:`start_hotspot_backtest` begins it before
the hotspots are found (what :func:`hotspots.pipeline.analyse` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._points import incident_xy, unique_points
from .backtest import (
    MAX_SHARE,
    BacktestResult,
    BacktestStart,
    MapPoints,
    backtest,
    start_backtest,
)
from .cluster_maps import cluster_outlines
from .find import HotspotResult, find_hotspots, group_codes
from .footprint import DEFAULT_MARGIN
from .study_area import StudyArea

__all__ = ["hotspot_backtest", "start_hotspot_backtest"]


def start_hotspot_backtest(
    incidents: gpd.GeoDataFrame,
    area: StudyArea,
    method: str,
    harm: Mapping[str, float] | None,
    wards: gpd.GeoDataFrame | None,
) -> BacktestStart | None:
    """The back-test :func:`hotspot_backtest` will run on the hotspots of
    :func:`hotspots.pipeline.analyse` (with these ``method``, ``harm`` and ``wards``), begun
    before they are found (:func:`hotspots.backtest.start_backtest`: the folds' points and
    street spaces worked out meanwhile); None for HDBSCAN or too few months."""
    if method != "dbscan":
        return None
    return start_backtest(
        incidents,
        study=area.geometry,
        weighted=harm is not None,
        radius=DEFAULT_MARGIN,  # the outline margin find_hotspots uses in analyse
        threads=None,
        # wards may group the incidents by borough: such folds are fitted on their rows
        rows_map=not _on_points(method, wards is not None, harm is not None),
    )


def _on_points(method: str, grouped: bool, weighted: bool) -> bool:
    """Whether the folds' hotspots are fitted straight on their map points (counted DBSCAN
    incidents in one group: whole numbers, the same sums in any order), not on their rows."""
    return method == "dbscan" and not grouped and not weighted


def hotspot_backtest(
    incidents: gpd.GeoDataFrame,
    found: HotspotResult,
    *,
    weighted: bool = False,
    groups: pd.Series | None = None,
    started: BacktestStart | None = None,
) -> BacktestResult | None:
    """Back-test the settings of ``found`` on the incidents' own months.

    Each fold's hotspots are found with the same method, ``eps``, outline margin and size
    limit, and ``min_samples`` scaled to the fold's share of the incidents (or harm): settings
    found for a year ask proportionally less of nine months. Whether the settings were given
    or suggested, the back-test is the same (the dashboard passes the suggested values on).
    With ``groups`` (as ``find_hotspots`` clustered them), each group is refitted with its own
    ``min_samples`` scaled to the group's share. ``started``: the back-test begun on these
    incidents and this study area (:func:`start_hotspot_backtest`: analyse begins it before
    the hotspots are found); one begun for anything else is ended and the back-test begun
    again.
    """
    area = found.study_area
    total = _amount(incidents, weighted)

    def dbscan_map(points: MapPoints, amount: float) -> Iterable[Any]:
        scale = amount / total if total else 0.0
        return cluster_outlines(
            points,
            eps=float(found.eps_m or 0),
            min_samples=max(1, round(found.min_samples * scale)),
            margin=found.margin,
            max_km2=found.max_km2,
            max_area=MAX_SHARE * area.geometry.area,
        )

    def fit_map(fit: gpd.GeoDataFrame) -> Iterable[Any]:
        if groups is not None and found.method == "dbscan":
            return _grouped_fit_map(incidents, fit, found, groups, weighted)
        if found.method == "dbscan":
            return dbscan_map(_cluster_points(fit, weighted), _amount(fit, weighted))
        scale = _amount(fit, weighted) / total if total else 0.0
        min_samples = max(1, round(found.min_samples * scale))
        size = max(2, round((found.min_cluster_size or found.min_samples) * scale))
        refit = find_hotspots(
            incidents.loc[fit.index],  # every column: the profile reads them
            method="hdbscan",
            min_samples=min_samples,
            min_cluster_size=size,
            weighted=weighted,
            study_area=area,
            margin=found.margin,
        )
        return list(refit.hotspots.geometry)

    # Counted incidents are clustered straight from the fold's map points, which the
    # back-test cuts from ones found once.
    on_points = _on_points(found.method, groups is not None, weighted)
    setting = (weighted, float(found.margin))
    if started is not None and not started.matches(
        incidents, area.geometry, None, setting, rows_map=not on_points
    ):
        started.cancel()  # begun for other settings than these: begun again below
        started = None
    return backtest(
        incidents,
        study=area.geometry,
        hotspot_map=fit_map,
        weighted=weighted,
        radius=found.margin,
        # DBSCAN maps share no prepared geometry between folds: two at a time when large
        threads=None if found.method == "dbscan" else 1,
        points_map=(lambda points, rows: dbscan_map(points, float(rows))) if on_points else None,
        started=started,
    )


def _amount(frame: gpd.GeoDataFrame, weighted: bool) -> float:
    """The incidents of ``frame``, or their harm."""
    return float(frame["weight"].sum()) if weighted else float(len(frame))


def _cluster_points(frame: gpd.GeoDataFrame, weighted: bool) -> MapPoints:
    """The map points DBSCAN clusters, as find_hotspots does: harm scaled to an average of 1."""
    weights = frame["weight"].to_numpy(dtype=float) if weighted else None
    return _points_of(incident_xy(frame), weights)


def _grouped_fit_map(
    incidents: gpd.GeoDataFrame,
    fit: gpd.GeoDataFrame,
    found: HotspotResult,
    groups: pd.Series,
    weighted: bool,
) -> Iterable[Any]:
    """The fold's hotspots group by group, each with its ``min_samples`` scaled to its share.

    The groups are numbered once and the fold's points and amounts cut from arrays (a city's
    33 boroughs: not a copy of the incidents' every column for each borough and fold)."""
    codes, labels = group_codes(groups, incidents.index)
    fit_codes = pd.Series(codes, index=incidents.index).reindex(fit.index).to_numpy()
    fit_xy = incident_xy(fit) if len(fit) else np.zeros((0, 2))
    all_weights = incidents["weight"] if weighted else None
    fit_weights = fit["weight"] if weighted else None
    position = {str(label): k for k, label in enumerate(labels)}
    xy_parts, count_parts, group_of, needed = [], [], [], []
    for g, (name, whole) in enumerate(sorted(found.group_min_samples.items())):
        k = position.get("" if name == "(no group)" else name, -1)
        rows = fit_codes == k
        if fit_weights is None or all_weights is None:
            amount, total = float(np.count_nonzero(rows)), float(np.count_nonzero(codes == k))
            weights = None
        else:
            amount = float(fit_weights[rows].sum())
            total = float(all_weights[codes == k].sum())
            weights = fit_weights.to_numpy(dtype=float)[rows]
        points = _points_of(fit_xy[rows], weights)
        share = amount / total if total else 0.0
        xy_parts.append(points.xy)
        count_parts.append(points.counts)
        group_of.append(np.full(len(points.xy), g, dtype=np.int64))
        needed.append(max(1, round(whole * share)))
    if not xy_parts:
        return []
    merged = MapPoints(np.vstack(xy_parts), np.concatenate(count_parts))
    return cluster_outlines(
        merged,
        eps=float(found.eps_m or 0),
        min_samples=needed,
        margin=found.margin,
        max_km2=found.max_km2,
        groups=np.concatenate(group_of),
        max_area=MAX_SHARE * found.study_area.geometry.area,
    )


def _points_of(xy: np.ndarray, weights: np.ndarray | None) -> MapPoints:
    """The unique map points of rows given as their coordinates, with their counts (harm
    summed and scaled to an average of 1 a row, when ``weights``)."""
    if not len(xy):
        return MapPoints(np.zeros((0, 2)), np.zeros(0))
    _, uxy, counts = unique_points(xy, weights)
    if weights is not None:
        total = float(counts.sum())
        if total > 0:
            return MapPoints(uxy, counts * len(xy) / total)
    return MapPoints(uxy, counts)
