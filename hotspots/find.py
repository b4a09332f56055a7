"""Find hotspots in an Incidents frame: cluster, draw footprints, profile, rank.

This is the one call that chains :mod:`hotspots.cluster`, :mod:`hotspots.footprint` and
:mod:`hotspots.profile`; the app and the CLI both use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy
from .cluster import (
    DEFAULT_EPS,
    Suggestion,
    dbscan_labels,
    hdbscan_labels,
    suggest_eps,
    suggest_min_samples,
)
from .errors import InputError, ParameterError
from .footprint import default_study_area, hotspot_footprints
from .profile import profile_hotspots

__all__ = ["METHODS", "HotspotResult", "find_hotspots"]

log = logging.getLogger(__name__)

METHODS = ("dbscan", "hdbscan")


@dataclass
class HotspotResult:
    """What :func:`find_hotspots` found.

    Attributes
    ----------
    hotspots
        The Hotspots frame (DESIGN.md contract), ranked, ids H01, H02, ...
    hotspot_ids
        For each incident (same index as the input frame) its hotspot id, "" for noise.
    is_core
        Whether each incident is a DBSCAN core point (all False for HDBSCAN).
    method, eps_m, min_samples, min_cluster_size
        The parameters used (given or suggested).
    suggestions
        The automatic suggestions computed, by parameter name, each with its reason.
    notes
        Plain sentences saying which automatic choices were made.
    study_area_km2
        Area that the PAI is relative to.
    """

    hotspots: gpd.GeoDataFrame
    hotspot_ids: pd.Series
    is_core: npt.NDArray[np.bool_]
    method: str
    eps_m: float | None
    min_samples: int
    min_cluster_size: int | None
    study_area_km2: float
    crs: str
    suggestions: dict[str, Suggestion] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_hotspots(self) -> int:
        """Number of hotspots found."""
        return len(self.hotspots)

    @property
    def share_in_hotspots(self) -> float:
        """Share of the analysed incidents that fall inside a hotspot."""
        n = len(self.hotspot_ids)
        return float((self.hotspot_ids != "").sum() / n) if n else 0.0

    def params(self) -> dict[str, Any]:
        """The parameters as written to ``summary.json``."""
        out: dict[str, Any] = {
            "eps_m": self.eps_m,
            "min_samples": self.min_samples,
            "method": self.method,
            "crs": self.crs,
        }
        if self.min_cluster_size is not None:
            out["min_cluster_size"] = self.min_cluster_size
        return out


def _n_months(incidents: gpd.GeoDataFrame) -> int:
    months = pd.to_datetime(incidents["month"]).dropna()
    if months.empty:
        return 1
    first, last = months.min(), months.max()
    return int((last.year - first.year) * 12 + last.month - first.month + 1)


def _without_far_outliers(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Drop points far from the rest before drawing the default study area.

    Forces record some crimes far outside their area (City of London Police: 0.2% of rows up
    to 219 km away); a hull through them would make the study area, and so every PAI,
    meaningless. "Far" is more than 3 times the 99th-percentile distance from the median point.
    """
    if len(xy) < 20:
        return xy
    centre = np.median(xy, axis=0)
    dist = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    limit = 3.0 * float(np.percentile(dist, 99))
    keep = dist <= limit
    return xy[keep] if keep.sum() >= 3 else xy


def _study_area_km2(
    study_area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    xy: npt.NDArray[np.float64],
    crs: Any,
    buffer_m: float,
    footprints: Mapping[int, Polygon | MultiPolygon],
) -> tuple[float, str]:
    if study_area is None:
        core = _without_far_outliers(xy)
        hull = default_study_area(core, buffer_m=buffer_m, footprints=footprints.values())
        left_out = len(xy) - len(core)
        aside = (
            f", leaving out {left_out:,} incidents recorded far from the rest" if left_out else ""
        )
        return float(hull.area) / 1e6, (
            f"study area for the PAI: the incidents' convex hull buffered by {buffer_m:.0f} m"
            f"{aside} (give a boundary for an exact figure)"
        )
    if isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        if study_area.crs is None:
            raise ParameterError("study_area has no CRS; give one (e.g. EPSG:27700).")
        area = float(study_area.to_crs(crs).union_all().area)
    else:
        area = float(study_area.area)
    if area <= 0:
        raise ParameterError("study_area has no area; give a polygon boundary.")
    return area / 1e6, "study area for the PAI: the given boundary"


def find_hotspots(
    incidents: gpd.GeoDataFrame,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    method: Literal["dbscan", "hdbscan"] = "dbscan",
    min_cluster_size: int | None = None,
    weighted: bool = False,
    study_area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> HotspotResult:
    """Cluster incidents into ranked hotspots with their footprints and statistics.

    Parameters
    ----------
    incidents
        An Incidents frame in metres (from :func:`hotspots.read_incidents`).
    eps
        DBSCAN neighbourhood radius in metres; suggested from the k-distance knee when None.
    min_samples
        Incidents (counting those sharing a map point) needed within ``eps`` for a core point;
        suggested from the number of incidents, months and area when None.
    method
        ``"dbscan"`` (exact DBSCAN of the raw points) or ``"hdbscan"`` (variable density).
    min_cluster_size
        HDBSCAN only: smallest hotspot, in incidents; defaults to ``min_samples``.
    weighted
        Use the ``weight`` column (harm weights) as sample weights and rank by harm. For the
        clustering the weights are scaled to an average of 1, so ``min_samples`` and
        ``min_cluster_size`` count incidents of average harm whatever the table's units (the
        ranking and the ``harm`` column use the weights as given).
    study_area
        Boundary the PAI's area share is measured against; the incidents' buffered convex
        hull when None.

    Returns
    -------
    HotspotResult
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ParameterError("incidents must be a GeoDataFrame from read_incidents().")
    if method not in METHODS:
        raise ParameterError(f"method {method!r} is not known; use one of: {', '.join(METHODS)}.")
    if eps is not None and not (np.isfinite(eps) and eps > 0):
        raise ParameterError(f"eps must be a positive distance in metres, not {eps!r}.")
    if min_samples is not None and (int(min_samples) != min_samples or min_samples < 1):
        raise ParameterError(
            f"min_samples must be a whole number of at least 1, not {min_samples!r}."
        )

    xy = incident_xy(incidents)
    crs_text = incidents.crs.to_string()
    weights = incidents["weight"].to_numpy(dtype=float) if weighted else None
    notes: list[str] = []
    if weights is not None and len(weights):
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise InputError("incidents['weight'] has missing, negative or non-numeric values.")
        mean_weight = float(weights.mean())
        if mean_weight <= 0:
            raise InputError(
                "every incident has weight 0, so there is no harm to cluster; give the crime "
                "types analysed a weight above 0."
            )
        weights = weights / mean_weight  # scale-free: min_samples counts average incidents
        notes.append(
            "harm weights scaled to an average of 1 for the clustering: min_samples counts "
            "incidents of average harm"
        )
    suggestions: dict[str, Suggestion] = {}
    n = len(xy)

    n_months = _n_months(incidents)
    if eps is None and method == "dbscan":
        if n == 0:
            eps = DEFAULT_EPS
            notes.append(f"eps {eps:.0f} m (default: no incidents to suggest from)")
        else:
            s = suggest_eps(xy)
            suggestions["eps"] = s
            eps = float(s.value)
            notes.append(f"eps {eps:.0f} m (suggested): {s.reason}")
    if min_samples is None:
        trimmed = _without_far_outliers(xy)
        hull_km2 = float(default_study_area(trimmed, buffer_m=0.0).area) / 1e6 if n else 0.0
        s = suggest_min_samples(
            n,
            n_months=n_months,
            area_km2=hull_km2,
            eps=float(eps) if eps is not None else DEFAULT_EPS,
            xy=xy,
            weights=weights,
        )
        suggestions["min_samples"] = s
        min_samples = int(s.value)
        notes.append(f"min_samples {min_samples} (suggested): {s.reason}")
    min_samples = int(min_samples)

    if method == "dbscan":
        eps = float(eps if eps is not None else DEFAULT_EPS)
        log.info("DBSCAN of %d incidents, eps %.0f m, min_samples %d", n, eps, min_samples)
        labels, is_core = dbscan_labels(xy, eps=eps, min_samples=min_samples, weights=weights)
        footprints = hotspot_footprints(xy, labels, radius=eps / 2.0)
        buffer_m = eps / 2.0
        min_cluster_size = None
    else:
        if min_cluster_size is None:
            min_cluster_size = min_samples
            notes.append(f"min_cluster_size {min_cluster_size} (same as min_samples)")
        log.info(
            "HDBSCAN of %d incidents, min_cluster_size %d, min_samples %d",
            n,
            min_cluster_size,
            min_samples,
        )
        labels = hdbscan_labels(
            xy, min_cluster_size=int(min_cluster_size), min_samples=min_samples, weights=weights
        )
        is_core = np.zeros(n, dtype=bool)
        footprints = hotspot_footprints(xy, labels, radius=None)
        buffer_m = 0.0
        eps = None

    area_km2, area_note = _study_area_km2(study_area, xy, incidents.crs, buffer_m, footprints)
    notes.append(area_note)
    hotspots, id_of_label = profile_hotspots(
        incidents,
        labels,
        footprints,
        study_area_km2=area_km2,
        rank_by="harm" if weighted else "incidents",
    )
    lookup = np.array([id_of_label.get(int(k), "") for k in range(int(labels.max(initial=-1)) + 1)])
    ids = np.full(n, "", dtype=object)
    member = labels >= 0
    if member.any():
        ids[member] = lookup[labels[member]]
    hotspot_ids = pd.Series(ids, index=incidents.index, name="hotspot_id", dtype="str")
    return HotspotResult(
        hotspots=hotspots,
        hotspot_ids=hotspot_ids,
        is_core=is_core,
        method=method,
        eps_m=eps,
        min_samples=min_samples,
        min_cluster_size=min_cluster_size,
        study_area_km2=area_km2,
        crs=crs_text,
        suggestions=suggestions,
        notes=notes,
    )
