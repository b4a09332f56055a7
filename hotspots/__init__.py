"""hotspots: crime hotspots from anonymised street-level incident points.

The public API: the user-facing verbs and their result classes, re-exported from the modules
that define them (each loaded on first use, so ``import hotspots`` and the ``hotspots`` command
start quickly). Lower-level names (the clustering, grids, Gi*, overlays, CRS helpers) live in
their modules; docs/design.md says which module owns what::

    from hotspots import analyse, read_incidents
    incidents, report = read_incidents("2024-01-city-of-london-street.csv")
    analysis = analyse(incidents)        # hotspots, tables, streets, study area, notes
    analysis.hotspots                    # the ranked Hotspots frame
    analysis.summary(report)             # what summary.json holds
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module (under hotspots.) that defines it
_EXPORTS: dict[str, str] = {
    "read_incidents": "io",
    "LoadReport": "io",
    "filter_incidents": "filter",
    "CRIME_TYPES": "crime_types",
    "analyse": "pipeline",
    "Analysis": "pipeline",
    "suggest": "pipeline",
    "Suggested": "pipeline",
    "analyse_kde": "methods",
    "analyse_gi": "methods",
    "analyse_change": "methods",
    "analyse_emerging": "methods",
    "KdeAnalysis": "methods",
    "GiAnalysis": "methods",
    "ChangeAnalysis": "methods",
    "EmergingAnalysis": "methods",
    "StudyArea": "study_area",
    "find_hotspots": "find",
    "HotspotResult": "find",
    "apply_harm_weights": "harm",
    "harm_weights": "harm",
    "parse_harm_weights": "harm",
    "HarmResult": "harm",
    "evaluate_pilot": "pilot",
    "PilotResult": "pilot",
    "evaluate_forecast": "forecast",
    "forecast_maps": "forecast",
    "ForecastResult": "forecast",
    "make_map": "mapping",
    "map_html": "export",
    "write_hotspots_csv": "export",
    "write_hotspots_geojson": "export",
    "write_hotspots_gpkg": "export",
    "write_incidents_csv": "export",
    "write_map_html": "export",
    "write_summary": "export",
    "write_table_csv": "export",
    "briefing_html": "report.briefing",
    "write_briefing": "report.briefing",
    "pilot_report_html": "report.pilot_page",
    "write_pilot_report": "report.pilot_page",
    "InputError": "errors",
    "InputFileError": "errors",
    "ParameterError": "errors",
}

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from .crime_types import CRIME_TYPES
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
    from .forecast import ForecastResult, evaluate_forecast, forecast_maps
    from .harm import HarmResult, apply_harm_weights, harm_weights, parse_harm_weights
    from .io import LoadReport, read_incidents
    from .mapping import make_map
    from .methods import (
        ChangeAnalysis,
        EmergingAnalysis,
        GiAnalysis,
        KdeAnalysis,
        analyse_change,
        analyse_emerging,
        analyse_gi,
        analyse_kde,
    )
    from .pilot import PilotResult, evaluate_pilot
    from .pipeline import Analysis, Suggested, analyse, suggest
    from .report.briefing import briefing_html, write_briefing
    from .report.pilot_page import pilot_report_html, write_pilot_report
    from .study_area import StudyArea

__all__ = [
    "CRIME_TYPES",
    "Analysis",
    "ChangeAnalysis",
    "EmergingAnalysis",
    "ForecastResult",
    "GiAnalysis",
    "HarmResult",
    "HotspotResult",
    "InputError",
    "InputFileError",
    "KdeAnalysis",
    "LoadReport",
    "ParameterError",
    "PilotResult",
    "StudyArea",
    "Suggested",
    "__version__",
    "analyse",
    "analyse_change",
    "analyse_emerging",
    "analyse_gi",
    "analyse_kde",
    "apply_harm_weights",
    "briefing_html",
    "evaluate_forecast",
    "evaluate_pilot",
    "filter_incidents",
    "find_hotspots",
    "forecast_maps",
    "harm_weights",
    "make_map",
    "map_html",
    "parse_harm_weights",
    "pilot_report_html",
    "read_incidents",
    "suggest",
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
