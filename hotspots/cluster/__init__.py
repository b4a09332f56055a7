"""Density clustering of incident points on metre coordinates: DBSCAN, HDBSCAN, suggestions.

data.police.uk snaps many incidents onto one anonymous map point, so every function here
first reduces the rows to their unique coordinates (in first-appearance order) with the
summed row weights (:func:`hotspots._points.unique_points`), works on those, and maps the
result back to the rows. Row weights behave exactly like repeated rows: an incident of
weight 3 counts as three incidents.

* :mod:`~hotspots.cluster.dbscan`: :func:`dbscan_labels` (identical to scikit-learn's
  DBSCAN), :func:`neighbour_counts`, :func:`k_distance`;
* :mod:`~hotspots.cluster.hdbscan`: :func:`hdbscan_labels` (HDBSCAN of the map points
  weighted by their incidents);
* :mod:`~hotspots.cluster.suggest`: :func:`suggest_eps`, :func:`suggest_min_samples` and
  :func:`map_point_spacing`, automatic parameter choices each with a plain-English reason.

All distances are in the units of ``xy`` (metres in the working CRS).
"""

from __future__ import annotations

from .dbscan import dbscan_labels, k_distance, neighbour_counts
from .hdbscan import hdbscan_labels
from .suggest import (
    BUSIER_THAN,
    DEFAULT_EPS,
    EPS_RANGE,
    MIN_SAMPLES_FLOOR,
    Suggestion,
    map_point_spacing,
    suggest_eps,
    suggest_min_samples,
    suggest_min_samples_each,
)

__all__ = [
    "BUSIER_THAN",
    "DEFAULT_EPS",
    "EPS_RANGE",
    "MIN_SAMPLES_FLOOR",
    "Suggestion",
    "dbscan_labels",
    "hdbscan_labels",
    "k_distance",
    "map_point_spacing",
    "neighbour_counts",
    "suggest_eps",
    "suggest_min_samples",
    "suggest_min_samples_each",
]
