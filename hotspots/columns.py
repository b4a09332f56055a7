"""Column names of the frames passed between modules (the contracts of docs/design.md)."""

from __future__ import annotations

__all__ = [
    "HOTSPOT_COLUMNS",
    "HOTSPOT_ITEM_COLUMNS",
    "HOTSPOT_NAME_COLUMNS",
    "INCIDENTS_CSV_COLUMNS",
    "INCIDENT_COLUMNS",
    "TABLE_ID_COLUMNS",
]

#: Incidents frame, in this order; extra source columns follow.
INCIDENT_COLUMNS: list[str] = [
    "incident_id",
    "month",
    "date",
    "category",
    "location",
    "lsoa_code",
    "outcome",
    "source",
    "weight",
    "geometry",
]

#: Hotspots frame, in this order.
HOTSPOT_COLUMNS: list[str] = [
    "hotspot_id",
    "rank",
    "incidents",
    "share",
    "area_km2",
    "density_km2",
    "pai",
    "top_categories",
    "top_locations",
    "wards",
    "patrol_coverage",
    "trend",
    "trend_low",
    "trend_high",
    "trend_p",
    "first_month",
    "last_month",
    "geometry",
]

#: Hotspots frame columns that hold lists of ``(name, count)`` pairs, most frequent first;
#: written as "Drugs 30; Burglary 12" (:func:`hotspots._text.join_items`).
HOTSPOT_ITEM_COLUMNS: list[str] = ["top_categories", "top_locations"]
#: Hotspots frame columns that hold lists of names; written as "Ward A; Ward B"
#: (:func:`hotspots._text.join_names`).
HOTSPOT_NAME_COLUMNS: list[str] = ["wards"]

#: The ward and patrol tables' list columns of hotspot ids (written "H01, H02").
TABLE_ID_COLUMNS: list[str] = ["hotspots"]

#: incidents.csv written by the CLI.
INCIDENTS_CSV_COLUMNS: list[str] = [
    "incident_id",
    "month",
    "category",
    "longitude",
    "latitude",
    "easting",
    "northing",
    "hotspot_id",
]
