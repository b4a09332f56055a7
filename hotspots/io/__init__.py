"""Reading incidents: every supported format into one Incidents frame and its LoadReport.

:func:`read_incidents` accepts data.police.uk street CSVs (one file, many, a folder tree or
the downloaded ``.zip``), data.police.uk API JSON (``crimes-street``), generic CSVs with
coordinate columns, and point layers in GeoJSON, GeoPackage, Shapefile (also zipped) and
GeoParquet. It returns the Incidents frame of the design, projected to metres, and a
:class:`LoadReport` in which every row read is either used or counted under a named reason.

Modules, in reading order:

* :mod:`~hotspots.io.report`: the LoadReport, the named drop reasons, the reading notes;
* :mod:`~hotspots.io.sources`: paths, folder walks and zip members into the files to read;
* :mod:`~hotspots.io.parts`: the rows of one file mapped onto the Incidents columns;
* :mod:`~hotspots.io.police_csv`: data.police.uk street CSVs;
* :mod:`~hotspots.io.generic_csv`: CSV text, and tables with coordinate columns;
* :mod:`~hotspots.io.police_api`: data.police.uk API JSON;
* :mod:`~hotspots.io.vector`: GeoJSON, GeoPackage, Shapefile and GeoParquet point layers;
* :mod:`~hotspots.io.checks`: each row's drop reason (coordinates, month, duplicate ids);
* :mod:`~hotspots.io.read`: :func:`read_incidents`, which runs them all.

Filtering by month and crime type is :func:`hotspots.filter.filter_incidents`.
"""

from __future__ import annotations

from .read import read_incidents
from .report import (
    AT_ZERO,
    BAD_MONTH,
    DUPLICATE_ID,
    DUPLICATE_ROW,
    NO_COORDINATES,
    NO_MONTH_FOR_PERIOD,
    NOT_SELECTED_TYPE,
    OUT_OF_RANGE,
    OUTSIDE_PERIOD,
    OUTSIDE_STUDY_AREA,
    LoadReport,
)
from .sources import INCIDENT_SUFFIXES

__all__ = [
    "AT_ZERO",
    "BAD_MONTH",
    "DUPLICATE_ID",
    "DUPLICATE_ROW",
    "INCIDENT_SUFFIXES",
    "NOT_SELECTED_TYPE",
    "NO_COORDINATES",
    "NO_MONTH_FOR_PERIOD",
    "OUTSIDE_PERIOD",
    "OUTSIDE_STUDY_AREA",
    "OUT_OF_RANGE",
    "LoadReport",
    "read_incidents",
]
