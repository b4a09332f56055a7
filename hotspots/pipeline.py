"""The analysis in one call: what the command line, the dashboard and the notebook all run.

:func:`analyse` takes an Incidents frame (already read and filtered) and the reference layers,
and returns an :class:`Analysis`: the labelled incidents, the ranked hotspots over wards and
patrol areas, the suggestions with their reasons, the ward and patrol tables, the hotspots no
patrol area covers, the streets to visit, monthly series, the crime mix, the study area and
every note. :meth:`Analysis.summary` is the ``summary.json`` contract.

The other methods have one call each, used by the command line and the dashboard alike, all
over the same study area (:mod:`hotspots.study_area`) and so the same grid:
:func:`analyse_kde`, :func:`analyse_gi`, :func:`analyse_change`, :func:`analyse_emerging`
(in :mod:`hotspots.methods`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from ._memory import release_free_memory
from ._points import incident_xy
from .backtest import BacktestResult, BacktestStart
from .boroughs import ward_groups
from .cluster import Suggestion, map_point_spacing
from .errors import InputError, ParameterError
from .find import HotspotResult, find_hotspots, suggest_parameters
from .found_backtest import hotspot_backtest, start_hotspot_backtest
from .harm import HarmResult, apply_harm_weights
from .overlay import Overlaps, assign_wards, overlap_pairs, overlay_hotspots, ward_table
from .patrols import (
    coverage_share,
    outreach_streets,
    patrol_coverage,
    patrol_points,
    uncovered_hotspots,
)
from .prepared import ALL_INCIDENTS, Prepared, prepare
from .profile import monthly_counts
from .study_area import StudyArea, study_area

__all__ = [
    "ALL_INCIDENTS",
    "SPACING_POINTS",
    "Analysis",
    "Suggested",
    "add_backtest",
    "analyse",
    "crime_mix",
    "hotspot_backtest",
    "select_wards",
    "suggest",
    "wards_named",
]

log = logging.getLogger(__name__)


@dataclass
class Analysis:
    """Everything one analysis found, as :func:`analyse` returns it.

    Attributes
    ----------
    incidents
        The incidents analysed (harm-weighted when harm was given), same index as given.
    hotspot_ids
        Each incident's hotspot id ("" for noise), same index as ``incidents``.
    found
        The clustering itself (:class:`hotspots.find.HotspotResult`): parameters used,
        suggestions, core points.
    hotspots
        The Hotspots frame, with ``wards`` and ``patrol_coverage`` filled when those layers
        were given.
    study_area
        The area the PAI is measured against.
    wards, patrols
        The layers given (or None).
    ward_table
        Per ward: incidents, hotspots, ... (None without wards).
    incidents_outside_wards
        Incidents in no ward (0 without wards).
    patrol_table
        Per patrol area: incidents and hotspots covered (None without patrol areas).
    uncovered
        Hotspots no patrol area covers (None without patrol areas).
    patrol_share
        Share of the hotspots' incidents inside a patrol area (None without patrol areas).
    streets
        The busiest streets of each hotspot outreach workers should visit: those of the
        uncovered hotspots when patrol areas are given, else of every hotspot.
    patrol_points
        Each hotspot's busiest map points with their street names, counts and positions
        (:func:`hotspots.patrols.patrol_points`): where to send officers.
    monthly
        Incidents per hotspot per month (``monthly_counts``).
    overall
        Incidents of the whole area per month, labelled :data:`ALL_INCIDENTS`.
    crime_mix
        Incidents per hotspot and crime type (long form: hotspot_id, crime type, incidents).
    harm
        The harm weighting used, or None.
    backtest
        How well hotspots found with these settings on earlier months predicted the later
        months, against the naive and KDE maps (:mod:`hotspots.backtest`); None with fewer
        than 4 months.
    notes
        The automatic choices made, in sentences.
    """

    incidents: gpd.GeoDataFrame
    hotspot_ids: pd.Series
    found: HotspotResult
    hotspots: gpd.GeoDataFrame
    study_area: StudyArea
    wards: gpd.GeoDataFrame | None = None
    patrols: gpd.GeoDataFrame | None = None
    ward_table: pd.DataFrame | None = None
    incidents_outside_wards: int = 0
    patrol_table: pd.DataFrame | None = None
    uncovered: gpd.GeoDataFrame | None = None
    patrol_share: float | None = None
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)
    overall: pd.DataFrame = field(default_factory=pd.DataFrame)
    crime_mix: pd.DataFrame = field(default_factory=pd.DataFrame)
    harm: HarmResult | None = None
    backtest: BacktestResult | None = None
    notes: list[str] = field(default_factory=list)
    _streets: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _patrol_points: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    # each incident's ward (Prepared.ward_codes), for the ward table and the back-test's groups
    _ward_codes: pd.Series | None = field(default=None, repr=False, compare=False)

    @property
    def streets(self) -> pd.DataFrame:
        """The outreach streets (see the class docstring), worked out when first asked for: a
        dashboard page that shows none does not wait for them."""
        if self._streets is None:
            shown = self.uncovered if self.uncovered is not None else self.hotspots
            self._streets = outreach_streets(
                self.incidents, shown, hotspot_ids=self.hotspot_ids, locations=self.found.locations
            )
        return self._streets

    @property
    def patrol_points(self) -> pd.DataFrame:
        """The patrol points (see the class docstring), worked out when first asked for."""
        if self._patrol_points is None:
            self._patrol_points = patrol_points(
                self.incidents,
                self.hotspots,
                hotspot_ids=self.hotspot_ids,
                locations=self.found.locations,
            )
        return self._patrol_points

    @property
    def suggestions(self) -> dict[str, Suggestion]:
        """The automatic suggestions computed, by parameter name, each with its reason."""
        return self.found.suggestions

    @property
    def n_hotspots(self) -> int:
        """Number of hotspots found."""
        return len(self.hotspots)

    @property
    def hotspot_table(self) -> pd.DataFrame:
        """The hotspots without their outlines, for tables."""
        return pd.DataFrame(self.hotspots.drop(columns=self.hotspots.geometry.name))

    @property
    def share_in_hotspots(self) -> float:
        """Share of the analysed incidents inside a hotspot."""
        return self.found.share_in_hotspots

    def period(self) -> dict[str, str | None]:
        """First and last month analysed, ``YYYY-MM`` (None when there are no months)."""
        months = self.incidents["month"]  # min and max skip the missing: no copy of a city
        first, last = months.min(), months.max()
        if pd.isna(first):
            return {"from": None, "to": None}
        return {"from": first.strftime("%Y-%m"), "to": last.strftime("%Y-%m")}

    def summary(self, report: Any = None, *, files: Mapping[str, str] | None = None) -> dict:
        """The ``summary.json`` contract (docs/design.md), plus notes, layers and harm.

        Parameters
        ----------
        report
            The :class:`hotspots.io.LoadReport` of the read (rows read, used, dropped), if any.
        files
            The files the layers came from, by layer name (``"wards"``, ``"patrols"``).
        """
        files = dict(files or {})
        out: dict[str, Any] = {}
        if report is not None:
            out.update(
                rows_read=report.rows_read,
                rows_used=report.rows_used,
                rows_dropped=dict(report.dropped),
            )
        out.update(
            n_hotspots=self.n_hotspots,
            share_in_hotspots=round(self.share_in_hotspots, 6),
            params=self.found.params(),
            period=self.period(),
        )
        if report is not None:
            out.update(
                inputs=list(report.inputs),
                empty_files=list(report.empty_files),
                examples={k: list(v) for k, v in report.examples.items()},
                warnings=list(report.warnings),
            )
        out["notes"] = list(self.notes)
        out["study_area_km2"] = round(self.study_area.area_km2, 6)
        if self.wards is not None:
            out["wards"] = {
                "file": files.get("wards"),
                "n_wards": len(self.wards),
                "incidents_outside_wards": int(self.incidents_outside_wards),
            }
        if self.patrols is not None and self.uncovered is not None:
            out["patrols"] = {
                "file": files.get("patrols"),
                "n_patrol_areas": len(self.patrols),
                "share_of_hotspot_incidents_covered": round(float(self.patrol_share or 0.0), 6),
                "uncovered_hotspots": list(self.uncovered["hotspot_id"]),
            }
        if self.harm is not None:
            out["harm"] = self.harm.to_dict()
        if self.backtest is not None:
            out["backtest"] = self.backtest.to_dict()
        return out


def _weigh(
    incidents: gpd.GeoDataFrame, harm: Mapping[str, float] | None, harm_source: str | None
) -> tuple[gpd.GeoDataFrame, HarmResult | None]:
    """The incidents weighted by the harm table (unchanged without one) and the weighting."""
    if harm is None:
        return incidents, None
    weighted = apply_harm_weights(incidents, harm, source=harm_source)
    log.info("Weighting incidents by harm (%s)", weighted.source)
    return weighted.incidents, weighted


def crime_mix(incidents: pd.DataFrame, hotspot_ids: pd.Series) -> pd.DataFrame:
    """Incidents per hotspot and crime type, long form (hotspot_id, crime type, incidents > 0)."""
    member = np.flatnonzero((hotspot_ids != "").to_numpy())
    spots, spot_names = pd.factorize(hotspot_ids.iloc[member], sort=True)
    kinds, kind_names = pd.factorize(incidents["category"].iloc[member], sort=True)
    n_spots, n_kinds = len(spot_names), len(kind_names)
    # crime type by crime type, hotspots in order within each (as crosstab + melt gave them)
    counts = np.bincount(kinds * n_spots + spots, minlength=n_spots * n_kinds)
    keep = counts > 0
    return pd.DataFrame(
        {
            "hotspot_id": np.tile(np.asarray(spot_names, dtype=object), n_kinds)[keep],
            "crime type": np.repeat(np.asarray(kind_names, dtype=object), n_spots)[keep],
            "incidents": counts[keep].astype(np.int64),
        }
    )


def _overlay(
    analysis: Analysis,
    population: pd.DataFrame | None,
    wards: Any,
    patrols: Any,
    overlaps: Overlaps | None,
) -> None:
    """Fill the ward and patrol tables and the uncovered hotspots of ``analysis`` (its streets
    and patrol points wait until asked for); ``overlaps``: the hotspots' and wards'."""
    incidents, ids, hotspots = analysis.incidents, analysis.hotspot_ids, analysis.hotspots
    if wards is not None:
        table = ward_table(
            incidents,
            wards,
            hotspots=hotspots,
            hotspot_ids=ids,
            population=population,
            ward_codes=analysis._ward_codes,
            overlaps=overlaps,
        )
        analysis.ward_table = table.table
        analysis.incidents_outside_wards = int(table.incidents_outside)
    if patrols is not None:
        analysis.patrol_table = patrol_coverage(
            incidents, patrols, hotspots=hotspots, hotspot_ids=ids
        )
        uncovered = uncovered_hotspots(hotspots, patrols, hotspot_ids=ids, incidents=incidents)
        analysis.uncovered = uncovered
        analysis.patrol_share = float(coverage_share(incidents, patrols, hotspot_ids=ids))


def analyse(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    patrols: gpd.GeoDataFrame | None = None,
    eps: float | None = None,
    min_samples: int | None = None,
    method: Literal["dbscan", "hdbscan"] = "dbscan",
    min_cluster_size: int | None = None,
    harm: Mapping[str, float] | None = None,
    harm_source: str | None = None,
    population: pd.DataFrame | None = None,
    boundary: Any = None,
    run_backtest: bool = True,
    tune: bool = True,
    prepared: Prepared | None = None,
    suggested: Mapping[str, Suggestion] | Suggested | None = None,
) -> Analysis:
    """Find, rank and overlay hotspots: the whole analysis of the product in one call.

    Parameters
    ----------
    incidents
        An Incidents frame in metres, read and filtered (:func:`hotspots.read_incidents`,
        :func:`hotspots.filter_incidents`).
    wards, patrols
        Ward boundaries and detached-outreach patrol areas (:mod:`geodata.layers`), or None.
    eps, min_samples, method, min_cluster_size
        As :func:`hotspots.find_hotspots`; suggested when None.
    harm
        A ``{crime type: weight}`` table: weight incidents by harm, cluster and rank by it.
    harm_source
        Where the table came from, for the summary (the built-in table's source when None).
    population
        Residents per ward (``ward_code``, ``population``) for rates per 1,000; needs wards.
    boundary
        The study area's boundary when it is not the wards (a borough outline); the wards'
        union when None and wards are given, else the incidents' buffered hull.
    run_backtest
        Back-test the hotspots on the incidents' own months (:func:`hotspot_backtest`).
    tune
        Choose the settings not given by the back-test (:mod:`hotspots.tuning`); False:
        the map points' spacing rule.
    prepared
        The study area and place names :func:`hotspots.prepared.prepare` worked out of these
        incidents with these wards and boundary (worked out here when None).
    suggested
        :func:`suggest`'s result (or its ``settings``) for these incidents, to use for those
        not given rather than suggesting again (the dashboard: with wards of several boroughs
        each borough's ``min_samples`` then follows its own incidents, as on the command
        line).

    Returns
    -------
    Analysis
    """
    if population is not None and wards is None:
        raise ParameterError("population needs wards (the population is per ward); give wards.")
    if isinstance(suggested, Suggested):  # what suggest() returns: its settings
        suggested = suggested.settings
    if prepared is not None:
        prepared.check(incidents)
    else:
        prepared = prepare(incidents, wards=wards, boundary=boundary)
    incidents, harm_info = _weigh(incidents, harm, harm_source)
    area = prepared.study_area
    # At city scale the back-test's baselines need no hotspots: begun now, on the core the
    # clustering leaves idle.
    started = start_hotspot_backtest(incidents, area, method, harm, wards) if run_backtest else None
    try:
        log.info("Finding hotspots in %s incidents ...", f"{len(incidents):,}")
        grouped = (
            ward_groups(incidents, wards, ward_codes=prepared.codes_for(wards))
            if wards is not None and method == "dbscan"
            else None
        )
        found = find_hotspots(
            incidents,
            eps=eps,
            min_samples=min_samples,
            method=method,
            min_cluster_size=min_cluster_size,
            study_area=area,
            weighted=harm is not None,
            tune=tune,
            groups=grouped[0] if grouped else None,
            group_areas_km2=grouped[1] if grouped else None,
            locations=prepared.locations,
            suggested=suggested,
        )
        analysis = _assembled(incidents, found, prepared, harm_info, (wards, patrols, population))
        if run_backtest:
            _backtest_into(analysis, started)
    except BaseException:
        if started is not None:
            started.cancel()  # its threads stopped, not left drawing for nobody
        raise
    for note in analysis.notes:
        log.info("%s", note)
    release_free_memory()  # what the clustering and outlines dropped, back to the system
    return analysis


def _assembled(
    incidents: gpd.GeoDataFrame,
    found: HotspotResult,
    prepared: Prepared,
    harm_info: HarmResult | None,
    layers: tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, pd.DataFrame | None],
) -> Analysis:
    """The analysis of ``found``: overlaid on the wards and patrol areas (and population),
    with the monthly counts, overall figures and crime mix."""
    wards, patrols, population = layers
    ids = found.hotspot_ids
    hotspots = found.hotspots
    # which wards each hotspot overlaps, found once for its wards column and the ward table
    overlaps = None
    if wards is not None and wards.crs == hotspots.crs:  # (else each reprojects its own)
        overlaps = overlap_pairs(hotspots.geometry.to_numpy(), wards.geometry.to_numpy())
    if wards is not None or patrols is not None:
        hotspots = overlay_hotspots(
            hotspots,
            incidents,
            hotspot_ids=ids,
            wards=wards,
            patrol_areas=patrols,
            overlaps=overlaps,
        )
    analysis = Analysis(
        incidents=incidents,
        hotspot_ids=ids,
        found=found,
        hotspots=hotspots,
        study_area=prepared.study_area,
        wards=wards,
        patrols=patrols,
        harm=harm_info,
        notes=list(found.notes) + (list(harm_info.warnings) if harm_info else []),
    )
    analysis._ward_codes = prepared.codes_for(wards)
    _overlay(analysis, population, wards, patrols, overlaps)
    analysis.monthly = monthly_counts(incidents, ids)
    analysis.overall = prepared.overall
    analysis.crime_mix = crime_mix(incidents, ids)
    return analysis


def add_backtest(analysis: Analysis) -> Analysis:
    """Back-test ``analysis`` as :func:`analyse` does with ``run_backtest`` (the same groups
    and weights), set ``analysis.backtest`` and its notes, and return it: for a caller that
    analysed with ``run_backtest=False`` (the dashboard at city scale, where the back-test
    takes longer than the rest) and wants it later. Once only: a second call does nothing.
    """
    if analysis.backtest is not None:
        return analysis
    return _backtest_into(analysis, None)


def _backtest_into(analysis: Analysis, started: BacktestStart | None) -> Analysis:
    """:func:`add_backtest`, taking on the back-test ``started`` (None: begun here)."""
    log.info("Back-testing the hotspots on earlier months ...")
    found = analysis.found
    grouped = None
    if analysis.wards is not None and found.method == "dbscan" and found.group_min_samples:
        grouped = ward_groups(analysis.incidents, analysis.wards, ward_codes=analysis._ward_codes)
    analysis.backtest = hotspot_backtest(
        analysis.incidents,
        found,
        weighted=analysis.harm is not None,
        groups=grouped[0] if grouped else None,
        started=started,
    )
    if analysis.backtest is not None:
        analysis.notes += list(analysis.backtest.notes)
    return analysis


@dataclass(frozen=True)
class Suggested:
    """The settings :func:`analyse` would suggest, and the curve the ``eps`` suggestion reads.

    Attributes
    ----------
    settings
        ``{"eps": Suggestion, "min_samples": Suggestion}`` (no ``eps`` for HDBSCAN), each with
        its reason.
    spacing
        Distance from each map point to its 4th nearest, sorted (the k-distance curve whose
        knee is the ``eps`` suggestion), thinned to at most :data:`SPACING_POINTS` points
        spread evenly along the curve, for a chart.
    """

    settings: dict[str, Suggestion]
    spacing: npt.NDArray[np.float64]


#: The most points of the k-distance curve :func:`suggest` returns (enough for its shape).
SPACING_POINTS = 400


def suggest(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    method: Literal["dbscan", "hdbscan"] = "dbscan",
    harm: Mapping[str, float] | None = None,
    boundary: Any = None,
    tune: bool = True,
    prepared: Prepared | None = None,
) -> Suggested:
    """The settings :func:`analyse` would suggest for these incidents, without clustering.

    The same study area and weights as :func:`analyse` with the same arguments, so the
    suggestions shown beside a control are the ones an analysis with defaults uses.
    ``prepared``: :func:`hotspots.prepared.prepare` of these incidents with the same wards and
    boundary, whose study area is then taken (the dashboard's first map of a city: the
    hull of a million incidents, or the union of its wards, drawn once, not twice).
    """
    incidents, _ = _weigh(incidents, harm, None)
    if prepared is not None:
        prepared.check(incidents)
        area = prepared.study_area
    else:
        area = study_area(incidents, boundary=boundary if boundary is not None else wards)
    settings = suggest_parameters(
        incidents, study_area=area, method=method, weighted=harm is not None, tune=tune
    )
    spacing = map_point_spacing(incident_xy(incidents))
    if len(spacing) > SPACING_POINTS:
        picks = np.linspace(0, len(spacing) - 1, SPACING_POINTS).round().astype(int)
        spacing = spacing[picks]
    return Suggested(settings, spacing)


def wards_named(wards: gpd.GeoDataFrame, names: Iterable[str]) -> gpd.GeoDataFrame:
    """The wards named (``ward_name``), all of them when none are named: the wards to analyse
    the incidents of :func:`select_wards` with, so that the study area (what every PAI and
    area share is measured against), the ward table and the map are those wards, not the
    whole layer (the PAI of one ward's incidents against a borough's area is many times too
    high).

    Raises
    ------
    InputError
        When none of the names is a ward of ``wards``.
    """
    wanted_names = set(names)
    if not wanted_names:
        return wards
    chosen = wards[wards["ward_name"].astype(str).isin(wanted_names).to_numpy()]
    if len(chosen) == 0:
        raise InputError("none of the chosen wards is in the ward layer; choose other wards.")
    return chosen


def select_wards(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, names: Iterable[str]
) -> gpd.GeoDataFrame:
    """The incidents inside the wards named (``ward_name``); all of them when none are named.

    Raises
    ------
    InputError
        When no incident lies in the wards named.
    """
    wanted_names = set(names)
    if not wanted_names:
        return incidents
    codes = assign_wards(incidents, wards)
    wanted = set(wards.loc[wards["ward_name"].isin(wanted_names), "ward_code"])
    chosen = incidents[codes.isin(wanted).to_numpy()]
    if len(chosen) == 0:
        raise InputError("no incidents in the chosen wards; choose other wards or none.")
    return chosen
