"""hotspots: crime hotspots from anonymised street-level incident points.

The public API, re-exported from the modules that define it::

    from hotspots import read_incidents, find_hotspots
    incidents, report = read_incidents("2024-01-city-of-london-street.csv")
    result = find_hotspots(incidents, eps=150, min_samples=20)
    result.hotspots  # ranked Hotspots frame
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cluster import (
    Suggestion,
    dbscan_labels,
    hdbscan_labels,
    k_distance,
    suggest_eps,
    suggest_min_samples,
)
from .crs import BNG, WGS84, choose_crs, to_metres, to_wgs84
from .errors import InputError, InputFileError, ParameterError
from .export import (
    write_hotspots_csv,
    write_hotspots_geojson,
    write_hotspots_gpkg,
    write_incidents_csv,
    write_map_html,
    write_summary,
    write_table_csv,
)
from .find import HotspotResult, find_hotspots
from .footprint import hotspot_footprints
from .incidents import CRIME_TYPES, LoadReport, filter_incidents, read_incidents
from .mapping import make_map
from .overlay import (
    assign_wards,
    coverage_share,
    outreach_streets,
    overlay_hotspots,
    patrol_coverage,
    uncovered_hotspots,
    ward_table,
)
from .profile import profile_hotspots

__all__ = [
    "BNG",
    "CRIME_TYPES",
    "WGS84",
    "HotspotResult",
    "InputError",
    "InputFileError",
    "LoadReport",
    "ParameterError",
    "Suggestion",
    "__version__",
    "assign_wards",
    "choose_crs",
    "coverage_share",
    "dbscan_labels",
    "filter_incidents",
    "find_hotspots",
    "hdbscan_labels",
    "hotspot_footprints",
    "k_distance",
    "make_map",
    "outreach_streets",
    "overlay_hotspots",
    "patrol_coverage",
    "profile_hotspots",
    "read_incidents",
    "suggest_eps",
    "suggest_min_samples",
    "to_metres",
    "to_wgs84",
    "uncovered_hotspots",
    "ward_table",
    "write_hotspots_csv",
    "write_hotspots_geojson",
    "write_hotspots_gpkg",
    "write_incidents_csv",
    "write_map_html",
    "write_summary",
    "write_table_csv",
]
