"""The other methods in one call each: KDE, Gi*, change between periods, emerging hot spots.

Each verb takes an Incidents frame (read and filtered) and the same options in the command line
and the dashboard, lays its cells over the one study area (:mod:`hotspots.study_area`: the wards
when given, else the incidents' buffered hull) and returns a result with its cells, notes and
:meth:`summary` (the method command's ``summary.json``). So one dataset gives the same km², the
same grid and the same counts whichever door the user came in by.

* :func:`method_cells`: the units of analysis: a square or hexagonal grid over the study area
  (anchored at whole cells), or the wards themselves.
* :func:`analyse_kde`: quartic kernel density, its bands and the densest cells.
* :func:`analyse_gi`: Getis-Ord Gi* hot and cold spots.
* :func:`analyse_change`: counts and monthly rates per cell in two month ranges.
* :func:`analyse_emerging`: emerging hot spot patterns per cell.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from .change import (
    PATTERNS,
    ChangeResult,
    EmergingResult,
    Window,
    compare_periods,
    emerging_hotspots,
)
from .density import KDEResult, grid_cells, kde, kde_bands, kde_hotspot_cells
from .errors import ParameterError
from .harm import HarmResult, apply_harm_weights
from .significance import CLASSES, LEFT_OUT, GiResult, cell_values, gi_star_cells
from .study_area import StudyArea, study_area
from .trend import change_words, compare_counts

__all__ = [
    "ChangeAnalysis",
    "EmergingAnalysis",
    "GiAnalysis",
    "KdeAnalysis",
    "MethodCells",
    "analyse_change",
    "analyse_emerging",
    "analyse_gi",
    "analyse_kde",
    "method_cells",
]

log = logging.getLogger(__name__)

Shape = Literal["square", "hex"]
#: The KDE bands always drawn, besides the chosen top share.
KDE_LEVELS = (0.01, 0.05, 0.1)


@dataclass(frozen=True)
class MethodCells:
    """The units a method counts in.

    Attributes
    ----------
    cells
        The cells (``cell_id``, ...) or the wards (``ward_code``, ``ward_name``, ...).
    study_area
        The study area the grid covers.
    units
        ``"square"``, ``"hex"`` or ``"wards"``.
    cell_size_m
        The grid's cell size (None for wards).
    """

    cells: gpd.GeoDataFrame
    study_area: StudyArea
    units: str
    cell_size_m: float | None

    def describe(self) -> dict[str, Any]:
        """The units as the summaries record them."""
        return {
            "units": self.units,
            "cell_size_m": self.cell_size_m,
            "cells": len(self.cells),
            "study_area_km2": round(self.study_area.area_km2, 6),
        }


def _weighted(
    incidents: gpd.GeoDataFrame, harm: Mapping[str, float] | None, harm_source: str | None
) -> tuple[gpd.GeoDataFrame, str | None, HarmResult | None]:
    """The incidents (harm-weighted when a table is given), the weight column and the weighting."""
    if harm is None:
        return incidents, None, None
    weighted = apply_harm_weights(incidents, harm, source=harm_source)
    return weighted.incidents, "weight", weighted


def method_cells(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    by_ward: bool = False,
    cell_size: float = 250.0,
    shape: Shape = "square",
    boundary: Any = None,
) -> MethodCells:
    """The cells of a method: the wards (``by_ward``) or a grid over the study area.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    wards
        Ward boundaries: the study area (and, with ``by_ward``, the cells).
    by_ward
        Count in wards rather than grid cells (needs ``wards``).
    cell_size
        Grid cell size in metres (square side, or hexagon flat-to-flat width).
    shape
        ``"square"`` or ``"hex"``.
    boundary
        The study area's boundary when it is not the wards.
    """
    area = study_area(incidents, boundary=boundary if boundary is not None else wards)
    if by_ward:
        if wards is None:
            raise ParameterError(
                "by_ward needs wards (the wards are the cells); give wards.", argument="by_ward"
            )
        return MethodCells(wards, area, "wards", None)
    cells = grid_cells(area.geometry, cell_size=float(cell_size), shape=shape, crs=incidents.crs)
    log.info("%s %s cells of %g m", f"{len(cells):,}", shape, cell_size)
    return MethodCells(cells, area, shape, float(cell_size))


@dataclass(frozen=True)
class KdeAnalysis:
    """What :func:`analyse_kde` found: the surface, its bands and the densest cells."""

    result: KDEResult
    bands: gpd.GeoDataFrame
    top: gpd.GeoDataFrame
    area_share: float
    study_area: StudyArea
    notes: list[str] = field(default_factory=list)
    harm: HarmResult | None = None
    held: float = math.nan
    top_area_share: float = math.nan

    @property
    def captured(self) -> float:
        """Estimated share of the incidents (or harm) in the densest cells: the smoothed
        surface's, which a bandwidth far from the cell size makes far from the count
        (:attr:`held` is the count)."""
        total = self.result.total
        return float(self.top["incidents"].sum()) / total if total > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The ``hotspots kde`` summary."""
        r = self.result
        return {
            "method": "kde",
            "cell_size_m": r.cell_size,
            "bandwidth_m": r.bandwidth,
            "shape": r.shape,
            "weighted": r.weighted,
            "cells": len(r.cells),
            "study_area_km2": round(self.study_area.area_km2, 6),
            "area_share": self.area_share,
            "top_cells": len(self.top),
            "top_cells_area_share": round(self.top_area_share, 6),
            "top_cells_share_held": round(self.held, 6),
            "top_cells_estimated_share": round(self.captured, 6),
            "suggestions": {k: s.reason for k, s in r.suggestions.items()},
            "notes": list(self.notes),
            **({"harm": self.harm.to_dict()} if self.harm is not None else {}),
        }


def analyse_kde(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    cell_size: float | None = None,
    bandwidth: float | None = None,
    shape: Shape = "square",
    area_share: float = 0.05,
    harm: Mapping[str, float] | None = None,
    harm_source: str | None = None,
    boundary: Any = None,
) -> KdeAnalysis:
    """Kernel density over the study area, its bands and the densest ``area_share`` of cells.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    wards, boundary
        The study area's boundary (see :func:`hotspots.study_area.study_area`).
    cell_size, bandwidth
        In metres; the automatic rules of :func:`hotspots.density.kde` when None.
    shape
        ``"square"`` or ``"hex"`` cells.
    area_share
        The share of the study area the "densest cells" cover, in (0, 1].
    harm
        A ``{crime type: weight}`` table: weigh incidents by harm.
    """
    if not 0 < area_share <= 1:
        raise ParameterError(
            f"area_share must be in (0, 1], e.g. 0.05; got {area_share!r}.", argument="area_share"
        )
    inc, weights, weighting = _weighted(incidents, harm, harm_source)
    notes = list(weighting.warnings) if weighting else []
    area = study_area(inc, boundary=boundary if boundary is not None else wards)
    result = kde(
        inc,
        study_area=area,
        cell_size=cell_size,
        bandwidth=bandwidth,
        shape=shape,
        weights=weights,
    )
    levels = sorted({*KDE_LEVELS, area_share})
    bands = kde_bands(result, levels=levels)
    top = kde_hotspot_cells(result, area_share=area_share)
    # what the densest cells hold, counted (the surface's estimate spills and smooths), and
    # the share of the study area they cover (whole cells: under the share asked for)
    counted = cell_values(inc, top, weights=weights)[1].sum() if len(top) else 0.0
    total = float(inc[weights].sum()) if weights else float(len(inc))
    held = float(counted) / total if total > 0 else 0.0
    top_share = float(top.geometry.area.sum()) / float(area.geometry.area) if len(top) else 0.0
    return KdeAnalysis(
        result, bands, top, area_share, area, [area.note, *result.notes, *notes], weighting,
        held, top_share,
    )  # fmt: skip


def _class_counts(values: Iterable[Any], order: Sequence[str]) -> dict[str, int]:
    """How many cells of each class, in ``order``, classes with none left out."""
    counts = Counter(str(v) for v in values)
    return {k: int(counts[k]) for k in order if counts.get(k, 0)}


@dataclass(frozen=True)
class GiAnalysis:
    """What :func:`analyse_gi` found: Gi* per cell, over :attr:`units`."""

    gi: GiResult
    units: MethodCells
    distance_m: float | None
    fdr: bool
    notes: list[str] = field(default_factory=list)
    harm: HarmResult | None = None
    permutations: int = 0

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """The cells with their counts, z, p and ``hotspot_class``."""
        return self.gi.cells

    def class_counts(self) -> dict[str, int]:
        """Cells per class (hot 99%, ..., not significant, ..., and cells left out of the
        statistic), classes with none left out."""
        return _class_counts(self.gi.cells["hotspot_class"], (*CLASSES, LEFT_OUT))

    def summary(self) -> dict[str, Any]:
        """The ``hotspots gi`` summary."""
        return {
            "method": "gi*",
            **self.units.describe(),
            "distance_m": self.distance_m,
            "fdr": self.fdr,
            "permutations": self.permutations,
            "classes": self.class_counts(),
            "notes": list(self.notes),
            **({"harm": self.harm.to_dict()} if self.harm is not None else {}),
        }


def _half_cell(units: MethodCells, shape: Shape) -> float | None:
    """Half the area of a whole grid cell (m²); None for wards."""
    size = units.cell_size_m
    if size is None:
        return None
    return (size**2 if shape == "square" else 3**0.5 / 2 * size**2) / 2


def analyse_gi(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    by_ward: bool = False,
    cell_size: float = 250.0,
    shape: Shape = "square",
    distance: float | None = None,
    fdr: bool = True,
    harm: Mapping[str, float] | None = None,
    harm_source: str | None = None,
    boundary: Any = None,
    permutations: int = 0,
    seed: int = 0,
) -> GiAnalysis:
    """Getis-Ord Gi* hot and cold spots in grid cells over the study area, or in wards.

    Parameters are those of :func:`method_cells` and
    :func:`hotspots.significance.gi_star_cells`; ``harm`` weighs incidents by harm. Grid
    cells clipped by the boundary to under half a whole cell are left out of the statistic
    (``min_area``; wards are all kept); ``permutations`` > 0 takes p-values from that many
    conditional randomisations (``seed``) instead of the normal approximation.
    """
    inc, weights, weighting = _weighted(incidents, harm, harm_source)
    notes = list(weighting.warnings) if weighting else []
    units = method_cells(
        inc, wards=wards, by_ward=by_ward, cell_size=cell_size, shape=shape, boundary=boundary
    )
    gi = gi_star_cells(
        inc,
        units.cells,
        distance=distance,
        weights=weights,
        fdr=fdr,
        min_area=_half_cell(units, shape),
        permutations=permutations,
        seed=seed,
    )
    return GiAnalysis(
        gi,
        units,
        distance,
        fdr,
        [units.study_area.note, *gi.notes, *notes],
        weighting,
        permutations,
    )


@dataclass(frozen=True)
class ChangeAnalysis:
    """What :func:`analyse_change` found: counts and rates per cell before and after."""

    change: ChangeResult
    units: MethodCells
    before: tuple[str, str]
    after: tuple[str, str]
    notes: list[str] = field(default_factory=list)
    harm: HarmResult | None = None

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """The cells with ``before``, ``after``, rates per month and the changes."""
        return self.change.cells

    def totals(self) -> tuple[float, float]:
        """Incidents (or harm) before and after, over every cell."""
        cells = self.change.cells
        return float(cells["before"].sum()), float(cells["after"].sum())

    def total_change(self) -> str:
        """The change of the monthly rate over every cell, with its exact 95% interval, in
        words ("no clear change (...)" when the interval holds none)."""
        cells = self.change.cells
        if cells["change_p"].isna().all():
            return "no interval for harm-weighted sums"
        before, after = self.totals()
        months = self.change.months
        test = compare_counts(before, after, before_months=months[0], after_months=months[1])
        return change_words(float(test.change[0]), float(test.low[0]), float(test.high[0]))

    def rises(self) -> pd.DataFrame:
        """Cells whose monthly rate rose, the largest rise first (column ``rise``)."""
        cells = self.change.cells
        rise = cells["after_per_month"] - cells["before_per_month"]
        out = cells.assign(rise=rise)
        return out[out["rise"] > 0].sort_values("rise", ascending=False)

    def summary(self) -> dict[str, Any]:
        """The ``hotspots change`` summary: rises and falls of the monthly rates (the counts
        mislead when the periods differ in length or a period lacks months)."""
        cells = self.change.cells
        before, after = self.totals()
        return {
            "method": "change",
            **self.units.describe(),
            "before": list(self.before),
            "after": list(self.after),
            "total_before": before,
            "total_after": after,
            "cells_up": int((cells["rate_change_pct"] > 0).sum()),
            "cells_down": int((cells["rate_change_pct"] < 0).sum()),
            "cells_new": int(((cells["before"] == 0) & (cells["after"] > 0)).sum()),
            "cells_clearly_up": int((cells["change_low_pct"] > 0).sum()),
            "cells_clearly_down": int((cells["change_high_pct"] < 0).sum()),
            "cells_compared": int(((cells["before"] > 0) | (cells["after"] > 0)).sum()),
            "change_total": self.total_change(),
            "notes": list(self.notes),
            **({"harm": self.harm.to_dict()} if self.harm is not None else {}),
        }


def analyse_change(
    incidents: gpd.GeoDataFrame,
    *,
    before: tuple[str, str],
    after: tuple[str, str],
    wards: gpd.GeoDataFrame | None = None,
    by_ward: bool = False,
    cell_size: float = 250.0,
    shape: Shape = "square",
    harm: Mapping[str, float] | None = None,
    harm_source: str | None = None,
    data_months: Iterable[str] | None = None,
    boundary: Any = None,
) -> ChangeAnalysis:
    """Incidents per cell in two month ranges and the change between them.

    Parameters are those of :func:`method_cells` and :func:`hotspots.change.compare_periods`;
    ``data_months`` are the months the data cover before any filter (a month with none of a
    filtered crime type is a zero, not a missing month).
    """
    inc, weights, weighting = _weighted(incidents, harm, harm_source)
    notes = list(weighting.warnings) if weighting else []
    units = method_cells(
        inc, wards=wards, by_ward=by_ward, cell_size=cell_size, shape=shape, boundary=boundary
    )
    change = compare_periods(
        inc, units.cells, before=before, after=after, weights=weights, data_months=data_months
    )
    return ChangeAnalysis(
        change,
        units,
        (before[0], before[1]),
        (after[0], after[1]),
        [units.study_area.note, *change.notes, *notes],
        weighting,
    )


@dataclass(frozen=True)
class EmergingAnalysis:
    """What :func:`analyse_emerging` found: a pattern per cell over the periods."""

    emerging: EmergingResult
    units: MethodCells
    period_months: int
    notes: list[str] = field(default_factory=list)
    harm: HarmResult | None = None
    window: str = "entire"

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """The cells with their pattern and count trend."""
        return self.emerging.cells

    def pattern_counts(self) -> dict[str, int]:
        """Cells per pattern, patterns with none left out."""
        return _class_counts(self.emerging.cells["pattern"], (*PATTERNS, LEFT_OUT))

    def pattern_table(self) -> pd.DataFrame:
        """Per pattern: cells, how many have counts rising / falling / with no clear trend
        (Mann–Kendall, p <= 0.05) and the median p of the count trend, most cells first."""
        cells = self.emerging.cells
        word = cells["count_trend"].str.split(" (", n=1, regex=False).str[0]
        return (
            cells.assign(
                _up=word.eq("rising"), _down=word.eq("falling"), _flat=word.eq("no clear trend")
            )
            .groupby("pattern")
            .agg(
                cells=("pattern", "size"),
                counts_rising=("_up", "sum"),
                counts_falling=("_down", "sum"),
                no_clear_count_trend=("_flat", "sum"),
                median_count_trend_p=("count_trend_p", "median"),
            )
            .reset_index()
            .sort_values("cells", ascending=False)
            .reset_index(drop=True)
        )

    def count_trends(self) -> dict[str, dict[str, int]]:
        """Per pattern (patterns with cells only): cells whose counts are rising, falling, or
        show no clear trend."""
        rows = self.pattern_table().set_index("pattern").to_dict("index")
        return {
            name: {
                "rising": int(rows[name]["counts_rising"]),
                "falling": int(rows[name]["counts_falling"]),
                "no clear trend": int(rows[name]["no_clear_count_trend"]),
            }
            for name in self.pattern_counts()
        }

    def summary(self) -> dict[str, Any]:
        """The ``hotspots emerging`` summary."""
        return {
            "method": "emerging",
            **self.units.describe(),
            "period_months": self.period_months,
            "window": self.window,
            "periods": [str(p) for p in self.emerging.periods],
            "patterns": self.pattern_counts(),
            "count_trends": self.count_trends(),
            "notes": list(self.notes),
            **({"harm": self.harm.to_dict()} if self.harm is not None else {}),
        }


def analyse_emerging(
    incidents: gpd.GeoDataFrame,
    *,
    period_months: int = 3,
    wards: gpd.GeoDataFrame | None = None,
    by_ward: bool = False,
    cell_size: float = 250.0,
    shape: Shape = "square",
    distance: float | None = None,
    harm: Mapping[str, float] | None = None,
    harm_source: str | None = None,
    data_months: Iterable[str] | None = None,
    boundary: Any = None,
    window: Window = "entire",
) -> EmergingAnalysis:
    """Emerging hot spot patterns per cell (:func:`hotspots.change.emerging_hotspots`) over
    the cells of :func:`method_cells`; ``harm`` weighs incidents by harm; ``window`` the
    global window ("entire" space-time cube, or "each" period)."""
    inc, weights, weighting = _weighted(incidents, harm, harm_source)
    notes = list(weighting.warnings) if weighting else []
    units = method_cells(
        inc, wards=wards, by_ward=by_ward, cell_size=cell_size, shape=shape, boundary=boundary
    )
    emerging = emerging_hotspots(
        inc,
        units.cells,
        min_area=_half_cell(units, shape),
        period_months=period_months,
        distance=distance,
        weights=weights,
        data_months=data_months,
        window=window,
    )
    return EmergingAnalysis(
        emerging,
        units,
        int(period_months),
        [units.study_area.note, *emerging.notes, *notes],
        weighting,
        str(window),
    )
