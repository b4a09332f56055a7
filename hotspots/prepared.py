"""What an analysis works out of the incidents whatever its settings, worked out once.

:func:`hotspots.pipeline.analyse` needs the study area (:mod:`hotspots.study_area`), every
incident's place name (:func:`hotspots.places.location_names`) and the monthly series of all
incidents, and none of them depends on the distance or the minimum count. Called once,
:func:`prepare` gives them as a :class:`Prepared`, which ``analyse(..., prepared=)`` takes
instead of working them out again: the dashboard keeps one per filter, so moving a slider
over a city's year does not redraw the study area or name a million places again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import ParameterError
from .overlay import assign_wards
from .places import location_names
from .profile import monthly_counts
from .study_area import StudyArea, study_area

__all__ = ["ALL_INCIDENTS", "Prepared", "prepare"]

#: The label of the all-incidents series (:attr:`hotspots.pipeline.Analysis.overall`).
ALL_INCIDENTS = "All incidents"


@dataclass(frozen=True)
class Prepared:
    """The study area and the place names of one Incidents frame.

    Attributes
    ----------
    study_area
        As :func:`hotspots.study_area.study_area` draws it for these incidents and boundary.
    locations
        Each incident's place name (:func:`hotspots.places.location_names`), on the
        incidents' index.
    overall
        Incidents per month, all of them (:attr:`hotspots.pipeline.Analysis.overall`).
    ward_codes
        Each incident's ward (:func:`hotspots.overlay.assign_wards`) when prepared with wards:
        the wards' table and the boroughs the hotspots are found in both read it (a city's
        million incidents: 0.35 s each time).
    ward_keys
        The codes of the wards it was worked out for, in order (:meth:`codes_for`).
    """

    study_area: StudyArea
    locations: pd.Series
    overall: pd.DataFrame
    ward_codes: pd.Series | None = None
    ward_keys: tuple[str, ...] = ()

    def codes_for(self, wards: gpd.GeoDataFrame | None) -> pd.Series | None:
        """:attr:`ward_codes` when they were worked out for ``wards`` (the same ward codes in
        the same order), else None: other wards are placed afresh."""
        if wards is None or self.ward_codes is None or "ward_code" not in wards.columns:
            return None
        same = tuple(wards["ward_code"].astype(str)) == self.ward_keys
        return self.ward_codes if same else None

    def check(self, incidents: gpd.GeoDataFrame) -> None:
        """Raise ParameterError unless this was prepared from ``incidents`` (same rows)."""
        if len(self.locations) != len(incidents) or not self.locations.index.equals(
            incidents.index
        ):
            raise ParameterError(
                "prepared was made from other incidents (their rows differ); prepare these "
                "incidents with hotspots.prepared.prepare() or leave prepared out."
            )


def prepare(
    incidents: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    boundary: Any = None,
) -> Prepared:
    """Prepare ``incidents`` for :func:`hotspots.pipeline.analyse` with the same ``wards``
    and ``boundary`` (the study area is the boundary, else the wards, else the incidents'
    buffered hull, as ``analyse`` draws it; each incident's ward)."""
    area = study_area(incidents, boundary=boundary if boundary is not None else wards)
    everything = pd.Series(  # one category: a code per row, not a string
        pd.Categorical.from_codes(
            np.zeros(len(incidents), dtype=np.int8), dtype=pd.CategoricalDtype([ALL_INCIDENTS])
        )
    )
    codes, keys = None, ()
    if wards is not None and len(incidents):  # categories: each ward's code looked up once
        codes = assign_wards(incidents, wards).astype("category")
        keys = tuple(wards["ward_code"].astype(str))
    overall = monthly_counts(incidents, everything)
    return Prepared(area, location_names(incidents), overall, codes, keys)
