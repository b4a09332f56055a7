"""The printable pages: the hotspot briefing and the pilot report (loaded on first use)."""

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
