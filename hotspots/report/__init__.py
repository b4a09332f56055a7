"""The printable pages: the hotspot briefing and the pilot report (loaded on first use).

Modules, from the pages down:

* :mod:`~hotspots.report.briefing`: :func:`briefing_html`, :func:`write_briefing`;
* :mod:`~hotspots.report.briefing_tables`: the briefing's hotspot and ward tables as text;
* :mod:`~hotspots.report.briefing_map`: the briefing's static map (PNG);
* :mod:`~hotspots.report.pilot_page`: :func:`pilot_report_html`, :func:`write_pilot_report`;
* :mod:`~hotspots.report.pilot_figures`: the pilot's monthly chart and zone map (PNG);
* :mod:`~hotspots.report.figures`: map furniture shared by the images (polygons, labels,
  scale bar, north arrow, synthetic marks, the map frame);
* :mod:`~hotspots.report.wording`: every month, count and percent wording (never "-0%");
* :mod:`~hotspots.report.page`: page CSS and policy, HTML escaping, checks, the page skeleton.

Which figures to hide is decided by :mod:`hotspots.disclosure` (the algorithms layer), never
here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module (under hotspots.report.) that defines it
_EXPORTS: dict[str, str] = {
    "briefing_html": "briefing",
    "write_briefing": "briefing",
    "pilot_report_html": "pilot_page",
    "write_pilot_report": "pilot_page",
}

if TYPE_CHECKING:
    from .briefing import briefing_html, write_briefing
    from .pilot_page import pilot_report_html, write_pilot_report

__all__ = ["briefing_html", "pilot_report_html", "write_briefing", "write_pilot_report"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hotspots.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
