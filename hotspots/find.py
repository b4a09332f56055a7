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
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy
from ._threads import in_order, workers
from ._validate import check_incidents, check_positive_float
from .backtest import MapPoints
from .cluster import (
    BUSIER_THAN,
    DEFAULT_EPS,
    Suggestion,
    hdbscan_labels,
    suggest_eps,
    suggest_min_samples,
)
from .errors import InputError, ParameterError
from .footprint import DEFAULT_MARGIN, hotspot_footprints
from .places import location_names
from .point_sets import PointUniverse
from .profile import profile_hotspots
from .size_limit import MAX_HOTSPOT_KM2, hotspot_labels, outlines_of
from .study_area import StudyArea
from .study_area import study_area as make_study_area
from .tuning import choose_settings, settings_min_samples

__all__ = [
    "METHODS",
    "HotspotResult",
    "cluster_weights",
    "find_hotspots",
    "group_codes",
    "suggest_parameters",
]

log = logging.getLogger(__name__)

METHODS = ("dbscan", "hdbscan")
# From this many incidents on, groups (boroughs) are clustered two at a time.
_PARALLEL_GROUP_ROWS = 50_000


@dataclass
class HotspotResult:
    """What :func:`find_hotspots` found.

    Attributes
    ----------
    hotspots
        The Hotspots frame (the contract of docs/design.md), ranked, ids H01, H02, ...
    hotspot_ids
        For each incident (same index as the input frame) its hotspot id, "" for noise.
    is_core
        Whether each incident is a DBSCAN core point (all False for HDBSCAN).
    method, eps_m, min_samples, min_cluster_size
        The parameters used (given or suggested).
    suggestions
        The automatic suggestions computed, by parameter name, each with its reason
        (``busier_than``: the share of incidents' neighbourhoods a core must beat, which
        sets ``min_samples`` for any span of months).
    notes
        Plain sentences saying which automatic choices were made.
    study_area
        The area the PAI is relative to (:mod:`hotspots.study_area`).
    margin, max_km2
        The outline margin (metres) and the largest hotspot (km², DBSCAN) used.
    group_min_samples
        With ``groups``: the ``min_samples`` each group (e.g. borough) was clustered with.
    locations
        Each incident's place name (:func:`hotspots.places.location_names`: the street, or a
        police.uk place type by its nearest street), as ``top_locations`` counts them; pass
        it to :func:`hotspots.patrols.patrol_points` and :func:`~hotspots.patrols.outreach_streets`
        so that every table names the places alike without naming them again.
    """

    hotspots: gpd.GeoDataFrame
    hotspot_ids: pd.Series
    is_core: npt.NDArray[np.bool_]
    method: str
    eps_m: float | None
    min_samples: int
    min_cluster_size: int | None
    study_area: StudyArea
    crs: str
    suggestions: dict[str, Suggestion] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    margin: float = DEFAULT_MARGIN
    max_km2: float | None = MAX_HOTSPOT_KM2
    group_min_samples: dict[str, int] = field(default_factory=dict)
    locations: pd.Series | None = None

    @property
    def study_area_km2(self) -> float:
        """Area of the study area, km²."""
        return self.study_area.area_km2

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
        if self.group_min_samples:
            out["min_samples_by_group"] = dict(self.group_min_samples)
        return out


def _n_months(incidents: gpd.GeoDataFrame) -> int:
    """Months the incidents span, first to last (0 when none has a month)."""
    months = pd.to_datetime(incidents["month"]).dropna()
    if months.empty:
        return 0
    first, last = months.min(), months.max()
    return int((last.year - first.year) * 12 + last.month - first.month + 1)


def _check_parameters(
    incidents: object, method: str, eps: float | None, min_samples: int | None
) -> None:
    check_incidents(incidents)
    if method not in METHODS:
        raise ParameterError(
            f"method {method!r} is not known; use one of: {', '.join(METHODS)}.", argument="method"
        )
    if eps is not None:
        check_positive_float(eps, "eps")  # a distance in metres
    if min_samples is not None and (int(min_samples) != min_samples or min_samples < 1):
        raise ParameterError(
            f"min_samples must be a whole number of at least 1, not {min_samples!r}.",
            argument="min_samples",
        )


def cluster_weights(
    incidents: gpd.GeoDataFrame, weighted: bool
) -> tuple[npt.NDArray[np.float64] | None, list[str]]:
    """The sample weights for the clustering (harm weights scaled to an average of 1) and a note.

    Scaling makes the clustering scale-free: ``min_samples`` counts incidents of average harm
    whatever the weight table's units.
    """
    if not weighted:
        return None, []
    weights = incidents["weight"].to_numpy(dtype=float)
    if not len(weights):
        return weights, []
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise InputError("incidents['weight'] has missing, negative or non-numeric values.")
    mean_weight = float(weights.mean())
    if mean_weight <= 0:
        raise InputError(
            "every incident has weight 0, so there is no harm to cluster; give the crime "
            "types analysed a weight above 0."
        )
    note = (
        "harm weights scaled to an average of 1 for the clustering: min_samples counts "
        "incidents of average harm"
    )
    return weights / mean_weight, [note]


def suggest_parameters(
    incidents: gpd.GeoDataFrame,
    *,
    study_area: StudyArea | None = None,
    method: Literal["dbscan", "hdbscan"] = "dbscan",
    eps: float | None = None,
    weighted: bool = False,
    tune: bool = True,
) -> dict[str, Suggestion]:
    """The suggested ``eps`` (DBSCAN, when not given) and ``min_samples``, each with its reason.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    study_area
        The analysis's study area (its area sets the background density the suggestion for
        ``min_samples`` must beat); the default rule of :func:`hotspots.study_area.study_area`
        when None.
    method
        ``"dbscan"`` or ``"hdbscan"`` (no ``eps`` for HDBSCAN).
    eps
        The ``eps`` to suggest ``min_samples`` for; suggested too when None.
    weighted
        Count harm (the ``weight`` column, scaled to an average of 1) instead of incidents.
    tune
        DBSCAN: choose ``eps`` and ``busier_than`` by the back-test
        (:func:`hotspots.tuning.choose_settings`; the default), else the map points' spacing
        rule and 0.75.
    """
    _check_parameters(incidents, method, eps, None)
    xy = incident_xy(incidents)
    weights, _ = cluster_weights(incidents, weighted)
    out: dict[str, Suggestion] = {}
    n = len(xy)
    area = study_area if study_area is not None or not n else make_study_area(incidents)
    busier_than = BUSIER_THAN
    if method == "dbscan" and n and area is not None and tune:
        spacing = suggest_eps(xy) if eps is None else None
        settings = choose_settings(
            incidents,
            study=area.geometry,
            weighted=weighted,
            eps=eps,
            fallback_eps=float(spacing.value) if spacing is not None else float(eps or 0),
        )
        if eps is None:
            why = settings.reason if settings.backtested else spacing.reason  # type: ignore[union-attr]
            out["eps"] = Suggestion(settings.eps, why, backtested=settings.backtested)
        eps = settings.eps
        busier_than = settings.busier_than
        out["busier_than"] = Suggestion(
            busier_than, settings.reason, backtested=settings.backtested
        )
    else:
        if eps is None and method == "dbscan" and n:
            out["eps"] = suggest_eps(xy)
            eps = float(out["eps"].value)
        out["busier_than"] = Suggestion(
            busier_than,
            f"a hotspot core must be busier than the neighbourhood of {busier_than:.0%} of "
            "incidents (the default rule)",
        )
    min_samples = suggest_min_samples(
        n,
        n_months=_n_months(incidents),
        area_km2=area.area_km2 if area is not None else 0.0,
        eps=float(eps) if eps is not None else DEFAULT_EPS,
        xy=xy,
        weights=weights,
        busier_than=busier_than,
    )
    out["min_samples"] = min_samples
    return out


def _chosen(
    suggestions: dict[str, Suggestion], eps: float | None, min_samples: int | None, method: str
) -> tuple[float | None, int, list[str]]:
    """The eps and min_samples to use, given or suggested, and notes on the suggested ones."""
    notes: list[str] = []
    if eps is None and method == "dbscan":
        if "eps" in suggestions:
            eps = float(suggestions["eps"].value)
            notes.append(f"eps {eps:.0f} m (suggested): {suggestions['eps'].reason}")
        else:
            eps = DEFAULT_EPS
            notes.append(f"eps {eps:.0f} m (default: no incidents to suggest from)")
    if min_samples is None:
        s = suggestions["min_samples"]
        min_samples = int(s.value)
        notes.append(f"min_samples {min_samples} (suggested): {s.reason}")
    return eps, int(min_samples), notes


def find_hotspots(
    incidents: gpd.GeoDataFrame,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    method: Literal["dbscan", "hdbscan"] = "dbscan",
    min_cluster_size: int | None = None,
    weighted: bool = False,
    study_area: StudyArea | BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    tune: bool = True,
    groups: pd.Series | None = None,
    group_areas_km2: Mapping[str, float] | None = None,
    locations: pd.Series | None = None,
    suggested: Mapping[str, Suggestion] | None = None,
) -> HotspotResult:
    """Cluster incidents into ranked hotspots with their footprints and statistics.

    Parameters
    ----------
    incidents
        An Incidents frame in metres (from :func:`hotspots.read_incidents`).
    eps
        DBSCAN neighbourhood radius in metres; when None, chosen by the back-test on the
        incidents' own months (:func:`hotspots.tuning.choose_settings`), or from the map
        points' spacing with ``tune=False`` or fewer than 4 months.
    min_samples
        Incidents (counting those sharing a map point) needed within ``eps`` for a core point;
        when None, the count within ``eps`` that the back-test's chosen share of incidents'
        neighbourhoods do not exceed (75% with ``tune=False``), or more
        (:func:`hotspots.cluster.suggest_min_samples`).
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
        The area the PAI's area share is measured against: a :class:`StudyArea`, or a boundary
        that :func:`hotspots.study_area.study_area` turns into one; its default rule (the
        incidents' buffered hull) when None.
    margin
        Metres kept around each hotspot's map points and the links between them (its
        outline; :mod:`hotspots.footprint`).
    max_km2
        DBSCAN only: largest hotspot outline in km²; a larger cluster is split by a stricter
        core rule (:func:`hotspots.size_limit.hotspot_labels`). None: no limit (coarser areas).
    tune
        Choose the settings not given by the back-test on the incidents' own months
        (:func:`hotspots.tuning.choose_settings`); False: the map points' spacing rule.
    groups
        DBSCAN only: a group name per incident (same index), e.g. its borough. With two or
        more groups each is clustered on its own, with its own suggested ``min_samples``
        (the same rule on the group's own incidents and area), so a quiet outer borough gets
        hotspots by its own standard, not the city centre's; hotspots never cross groups.
        A ``min_samples`` given applies to every group.
    group_areas_km2
        The area of each group (km²) for the suggestion's density rule; the study area
        shared in proportion to incidents when None.
    locations
        Each incident's place name as :func:`hotspots.places.location_names` gives it for
        these incidents (worked out when None; :func:`hotspots.prepared.prepare` keeps it).
    suggested
        The suggestions :func:`suggest_parameters` already made for these incidents (the
        dashboard's), used for the settings not given instead of suggesting again: with
        ``groups``, each group's ``min_samples`` then follows the same rule as when nothing
        is given (as the command line's).

    Returns
    -------
    HotspotResult
    """
    _check_parameters(incidents, method, eps, min_samples)
    area = make_study_area(incidents, boundary=study_area) if len(incidents) else None
    xy = incident_xy(incidents)
    weights, notes = cluster_weights(incidents, weighted)
    suggestions: dict[str, Suggestion] = {}
    if min_samples is None or (eps is None and method == "dbscan"):
        suggestions = (
            dict(suggested)
            if suggested is not None
            else suggest_parameters(
                incidents, study_area=area, method=method, eps=eps, weighted=weighted, tune=tune
            )
        )
    given_min_samples = min_samples
    eps, min_samples, chosen_notes = _chosen(suggestions, eps, min_samples, method)
    if suggested is None:  # (a caller handing its suggestions on shows their reasons itself)
        notes += chosen_notes
    n = len(xy)
    if method == "dbscan":
        eps = float(eps if eps is not None else DEFAULT_EPS)
        log.info("DBSCAN of %d incidents, eps %.0f m, min_samples %d", n, eps, min_samples)
        drawn: dict[int, BaseGeometry] = {}
        labels, is_core, per_group = _grouped_labels(
            incidents,
            xy,
            weights,
            (eps, min_samples, margin, max_km2),
            groups=groups,
            areas=group_areas_km2,
            suggested=suggestions if given_min_samples is None else None,
            study_km2=area.area_km2 if area is not None else 0.0,
            drawn=drawn,
        )
        if per_group and given_min_samples is None:
            notes.append(
                "the minimum incidents for a dense spot, set for each borough by its own "
                "incidents and area: " + _per_group(per_group)
            )
        elif per_group:
            notes.append(
                f"the minimum incidents for a dense spot, {given_min_samples}, in every "
                "borough (given)"
            )
        footprints = outlines_of(xy, labels, margin, drawn)
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
        footprints = hotspot_footprints(xy, labels, margin=margin)
        eps = None
    if area is None:
        raise InputError("no incidents to find hotspots in; check the filters.")
    notes.append(area.note)
    if locations is None:  # once: every table names the places alike
        locations = location_names(incidents)
    hotspots, id_of_label = profile_hotspots(
        incidents,
        labels,
        footprints,
        study_area_km2=area.area_km2,
        rank_by="harm" if weighted else "incidents",
        locations=locations,
    )
    return HotspotResult(
        hotspots=hotspots,
        hotspot_ids=_hotspot_ids(labels, id_of_label, incidents.index),
        is_core=is_core,
        method=method,
        eps_m=eps,
        min_samples=min_samples,
        min_cluster_size=min_cluster_size,
        study_area=area,
        crs=incidents.crs.to_string(),
        suggestions=suggestions,
        notes=notes,
        margin=float(margin),
        max_km2=max_km2 if method == "dbscan" else None,
        group_min_samples=per_group if method == "dbscan" else {},
        locations=locations,
    )


def _per_group(per_group: Mapping[str, int]) -> str:
    items = [f"{name} {value}" for name, value in per_group.items()]
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def group_codes(
    groups: pd.Series, index: pd.Index
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Each row of ``index``'s group as a number, and the groups' names sorted ("" for a row in
    none): ``pd.factorize`` of the names as text, sorted. A categorical's rows are numbered
    from its codes (a city's million rows in 33 boroughs: no million strings made).

    >>> codes, names = group_codes(pd.Series(["b", "a", None], dtype="category"), pd.RangeIndex(4))
    >>> codes.tolist(), names.tolist()
    ([2, 1, 0, 0], ['', 'a', 'b'])
    """
    aligned = groups.reindex(index)
    if not isinstance(aligned.dtype, pd.CategoricalDtype):
        codes, found = pd.factorize(aligned.fillna("").astype(str), sort=True)
        return codes.astype(np.intp), np.asarray(found, dtype=object)
    names = np.append(aligned.cat.categories.astype(str).to_numpy(dtype=object), "")
    row = aligned.cat.codes.to_numpy().astype(np.intp)  # -1 (none): the last name, ""
    present = np.unique(row)
    sorted_names, which = np.unique(names[present].astype(str), return_inverse=True)
    lookup = np.empty(len(names), dtype=np.intp)
    lookup[present] = which  # (lookup[-1]: the "" of the rows in none)
    return lookup[row], sorted_names.astype(object)


def _grouped_labels(
    incidents: gpd.GeoDataFrame,
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    setting: tuple[float, int, float, float | None],
    *,
    groups: pd.Series | None,
    areas: Mapping[str, float] | None,
    suggested: Mapping[str, Suggestion] | None,
    study_km2: float,
    drawn: dict[int, BaseGeometry],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], dict[str, int]]:
    """DBSCAN labels of all incidents, each group clustered on its own (see find_hotspots);
    ``drawn`` receives the outlines drawn on the way."""
    eps, min_samples, margin, max_km2 = setting
    codes, uniques = (
        group_codes(groups, incidents.index) if groups is not None else (None, np.array([]))
    )
    if codes is None or len(uniques) < 2:
        labels, core = _labels_in_space_order(
            xy,
            weights,
            eps=eps,
            min_samples=min_samples,
            margin=margin,
            max_km2=max_km2,
            outlines=drawn,
        )
        return labels, core, {}
    labels = np.full(len(xy), -1, dtype=np.int64)
    core = np.zeros(len(xy), dtype=bool)
    per_group: dict[str, int] = {}
    rule = suggested.get("busier_than") if suggested is not None else None
    n_months = _n_months(incidents)
    total = float(len(xy)) if weights is None else float(weights.sum())
    # each group's rows (ascending) from one sort, not a pass over every row per group
    # (as 16-bit codes when they fit: numpy's stable sort is then a radix sort)
    by_group = np.argsort(codes.astype(np.int16) if len(uniques) < 2**15 else codes, kind="stable")
    bounds = np.searchsorted(codes[by_group], np.arange(len(uniques) + 1))

    def cluster(g: int) -> tuple[int, Any, Any, dict[int, BaseGeometry]]:
        rows = by_group[bounds[g] : bounds[g + 1]]
        w = None if weights is None else weights[rows]
        needed = min_samples
        if rule is not None:
            share = (len(rows) if w is None else float(w.sum())) / total if total else 0.0
            area_km2 = (areas or {}).get(str(uniques[g]), share * study_km2)
            needed = settings_min_samples(
                MapPoints(xy[rows], np.ones(len(rows)) if w is None else w),
                eps=eps,
                busier_than=float(rule.value),
                n_months=n_months,
                area_km2=float(area_km2),
            )
        sub_drawn: dict[int, BaseGeometry] = {}
        sub, sub_core = _labels_in_space_order(
            xy[rows],
            w,
            eps=eps,
            min_samples=needed,
            margin=margin,
            max_km2=max_km2,
            outlines=sub_drawn,
        )
        return needed, sub, sub_core, sub_drawn

    # the groups clustered two at a time (a city's boroughs), numbered in group order after
    n_workers = workers(len(uniques), len(xy), _PARALLEL_GROUP_ROWS)
    done = in_order(cluster, range(len(uniques)), n_workers)
    for g, (needed, sub, sub_core, sub_drawn) in enumerate(done):
        rows = by_group[bounds[g] : bounds[g + 1]]
        per_group[str(uniques[g]) or "(no group)"] = needed
        member = sub >= 0
        offset = labels.max(initial=-1) + 1
        labels[rows[member]] = sub[member] + offset
        drawn.update({k + int(offset): shape for k, shape in sub_drawn.items()})
        core[rows] = sub_core
    return labels, core, per_group


def _labels_in_space_order(
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    **setting: Any,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """:func:`hotspot_labels` of the rows, worked out on their distinct map points taken in
    order of x, then y: DBSCAN numbers its clusters by their first core point and gives a
    border point the lowest-numbered cluster, so the rows' order would otherwise decide a
    border point's hotspot (and, through the 1 km² split and the ties of the ranking, more):
    the same incidents as one file or a folder of monthly files, or in any order, now give
    the same hotspots."""
    universe = PointUniverse(xy, weights)  # (the back-test's folds are cut from one too)
    points = universe.points(np.ones(len(xy), dtype=bool))
    labels, core = hotspot_labels(points.xy, points.counts, distinct=True, **setting)
    return labels[universe.codes], core[universe.codes]


def _hotspot_ids(
    labels: npt.NDArray[np.intp], id_of_label: Mapping[int, str], index: pd.Index
) -> pd.Series:
    """Each incident's hotspot id ("" for noise), as sorted categories ("" always one of them):
    a city's million ids are codes, not a million strings."""
    names = sorted({"", *id_of_label.values()})
    position = {name: k for k, name in enumerate(names)}
    lookup = np.array(
        [position[id_of_label.get(int(k), "")] for k in range(int(labels.max(initial=-1)) + 1)],
        dtype=np.intp,
    )
    codes = np.full(len(labels), position[""], dtype=np.intp)
    member = labels >= 0
    if member.any():
        codes[member] = lookup[labels[member]]
    categories = pd.Index(names, dtype="str")
    values = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
    return pd.Series(values, index=index, name="hotspot_id")
