"""hotspots: crime hotspots from anonymised street-level incident points.

The public API, re-exported from the modules that define it (each loaded on first use, so
``import hotspots`` and the ``hotspots`` command start quickly)::

    from hotspots import read_incidents, find_hotspots
    incidents, report = read_incidents("2024-01-city-of-london-street.csv")
    result = find_hotspots(incidents, eps=150, min_samples=20)
    result.hotspots  # ranked Hotspots frame
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module (under hotspots.) that defines it
_EXPORTS: dict[str, str] = {
    "Suggestion": "cluster",
    "dbscan_labels": "cluster",
    "hdbscan_labels": "cluster",
    "k_distance": "cluster",
    "map_point_spacing": "cluster",
    "suggest_eps": "cluster",
    "suggest_min_samples": "cluster",
    "BNG": "crs",
    "WGS84": "crs",
    "choose_crs": "crs",
    "to_metres": "crs",
    "to_wgs84": "crs",
    "InputError": "errors",
    "InputFileError": "errors",
    "ParameterError": "errors",
    "map_html": "export",
    "write_hotspots_csv": "export",
    "write_hotspots_geojson": "export",
    "write_hotspots_gpkg": "export",
    "write_incidents_csv": "export",
    "write_map_html": "export",
    "write_summary": "export",
    "write_table_csv": "export",
    "HotspotResult": "find",
    "find_hotspots": "find",
    "hotspot_footprints": "footprint",
    "CRIME_TYPES": "crime_types",
    "LoadReport": "io",
    "filter_incidents": "filter",
    "read_incidents": "io",
    "make_map": "mapping",
    "assign_wards": "overlay",
    "coverage_share": "patrols",
    "outreach_streets": "patrols",
    "overlay_hotspots": "overlay",
    "patrol_coverage": "patrols",
    "uncovered_hotspots": "patrols",
    "ward_table": "overlay",
    "monthly_counts": "profile",
    "profile_hotspots": "profile",
    "briefing_html": "report.briefing",
    "suppress_small": "report.wording",
    "write_briefing": "report.briefing",
    "KDEResult": "density",
    "kde": "density",
    "kde_bands": "density",
    "kde_hotspot_cells": "density",
    "grid_cells": "density",
    "gi_star": "significance",
    "gi_star_cells": "significance",
    "compare_periods": "change",
    "emerging_hotspots": "change",
    "mann_kendall": "trend",
    "PilotResult": "pilot",
    "evaluate_pilot": "pilot",
    "ForecastResult": "forecast",
    "evaluate_forecast": "forecast",
    "forecast_maps": "forecast",
    "apply_harm_weights": "harm",
    "harm_weights": "harm",
    "parse_harm_weights": "harm",
    "pilot_report_html": "report.pilot_page",
    "write_pilot_report": "report.pilot_page",
}

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from .change import compare_periods, emerging_hotspots
    from .cluster import (
        Suggestion,
        dbscan_labels,
        hdbscan_labels,
        k_distance,
        map_point_spacing,
        suggest_eps,
        suggest_min_samples,
    )
    from .crime_types import CRIME_TYPES
    from .crs import BNG, WGS84, choose_crs, to_metres, to_wgs84
    from .density import KDEResult, grid_cells, kde, kde_bands, kde_hotspot_cells
    from .errors import InputError, InputFileError, ParameterError
    from .export import (
        map_html,
        write_hotspots_csv,
        write_hotspots_geojson,
        write_hotspots_gpkg,
        write_incidents_csv,
        write_map_html,
        write_summary,
        write_table_csv,
    )
    from .filter import filter_incidents
    from .find import HotspotResult, find_hotspots
    from .footprint import hotspot_footprints
    from .forecast import ForecastResult, evaluate_forecast, forecast_maps
    from .harm import apply_harm_weights, harm_weights, parse_harm_weights
    from .io import LoadReport, read_incidents
    from .mapping import make_map
    from .overlay import assign_wards, overlay_hotspots, ward_table
    from .patrols import coverage_share, outreach_streets, patrol_coverage, uncovered_hotspots
    from .pilot import PilotResult, evaluate_pilot
    from .profile import monthly_counts, profile_hotspots
    from .report.briefing import briefing_html, write_briefing
    from .report.pilot_page import pilot_report_html, write_pilot_report
    from .report.wording import suppress_small
    from .significance import gi_star, gi_star_cells
    from .trend import mann_kendall

__all__ = [
    "BNG",
    "CRIME_TYPES",
    "WGS84",
    "ForecastResult",
    "HotspotResult",
    "InputError",
    "InputFileError",
    "KDEResult",
    "LoadReport",
    "ParameterError",
    "PilotResult",
    "Suggestion",
    "__version__",
    "apply_harm_weights",
    "assign_wards",
    "briefing_html",
    "choose_crs",
    "compare_periods",
    "coverage_share",
    "dbscan_labels",
    "emerging_hotspots",
    "evaluate_forecast",
    "evaluate_pilot",
    "filter_incidents",
    "find_hotspots",
    "forecast_maps",
    "gi_star",
    "gi_star_cells",
    "grid_cells",
    "harm_weights",
    "hdbscan_labels",
    "hotspot_footprints",
    "k_distance",
    "kde",
    "kde_bands",
    "kde_hotspot_cells",
    "make_map",
    "mann_kendall",
    "map_html",
    "map_point_spacing",
    "monthly_counts",
    "outreach_streets",
    "overlay_hotspots",
    "parse_harm_weights",
    "patrol_coverage",
    "pilot_report_html",
    "profile_hotspots",
    "read_incidents",
    "suggest_eps",
    "suggest_min_samples",
    "suppress_small",
    "to_metres",
    "to_wgs84",
    "uncovered_hotspots",
    "ward_table",
    "write_briefing",
    "write_hotspots_csv",
    "write_hotspots_geojson",
    "write_hotspots_gpkg",
    "write_incidents_csv",
    "write_map_html",
    "write_pilot_report",
    "write_summary",
    "write_table_csv",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hotspots' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
