"""Tables as the dashboard shows them: column labels in words, units, rounding and help.

The library's tables keep their exact values and snake_case names (the files and the CLI write
them so); :func:`show_table` shows any of them with the labels below, shares as percentages,
areas in km², counts with thousands separators, lists as text and columns with no value at all
left out. A column not listed gets its name in words ("hotspot_id" -> "Hotspot id").
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hotspots._text import lists_as_text

__all__ = ["COLUMN_WORDS", "PAI_HELP", "column_config", "display_frame", "show_table"]

PAI_HELP = (
    "Predictive accuracy index: the hotspot's share of the incidents divided by its share of "
    "the study area. 20 means 20 times as much crime as its size alone would bring."
)

_COUNT, _SHARE, _AREA, _DENSITY, _ONE, _DEGREES = "count", "share", "area", "dens", "one", "deg"
_PCT, _P = "pct", "p"  # a change already in percent (+73.7 -> "+74%"), a p-value

#: column -> (label in words, kind of number or None for text, help or None)
COLUMN_WORDS: dict[str, tuple[str, str | None, str | None]] = {
    "hotspot_id": ("Hotspot", None, None),
    "rank": ("Rank", None, "Densest first."),
    "rank_in_hotspot": ("Rank in hotspot", None, "Busiest first."),
    "incidents": ("Incidents", _COUNT, "Incidents in the months chosen."),
    "share": ("Share of all incidents", _SHARE, None),
    "area_km2": ("Area (km²)", _AREA, None),
    "density_km2": ("Incidents per km²", _DENSITY, None),
    "incidents_per_km2": ("Incidents per km²", _DENSITY, None),
    "pai": ("PAI", _ONE, PAI_HELP),
    "population": ("Residents", _COUNT, None),
    "incidents_per_1000": ("Incidents per 1,000 residents", _ONE, None),
    "ward_code": ("Ward code", None, None),
    "ward_name": ("Ward", None, None),
    "wards": ("Wards", None, None),
    "hotspots": ("Hotspots", None, None),
    "n_hotspots": ("Number of hotspots", _COUNT, None),
    "hotspot_incidents": ("Incidents in hotspots", _COUNT, None),
    "share_in_hotspots": ("Share in hotspots", _SHARE, None),
    "patrol_area": ("Patrol area", None, None),
    "hotspots_touched": ("Hotspots touched", _COUNT, None),
    "share_of_hotspot_incidents": (
        "Share of all hotspot incidents",
        _SHARE,
        "Of every incident in a hotspot, the share inside this patrol area.",
    ),
    "patrol_coverage": (
        "Covered by patrols",
        _SHARE,
        "Share of its incidents inside a patrol area.",
    ),
    "top_categories": ("Top crime types", None, None),
    "top_locations": ("Top streets", None, None),
    "street": ("Street", None, None),
    "location": ("Place", None, None),
    "share_of_hotspot": ("Share of the hotspot", _SHARE, None),
    "longitude": ("Longitude", _DEGREES, None),
    "latitude": ("Latitude", _DEGREES, None),
    "first_month": ("First month", None, None),
    "last_month": ("Last month", None, None),
    "band": ("Band", None, None),
    "cells": ("Cells", _COUNT, None),
    "pattern": ("Pattern", None, None),
    "before": ("Before", _COUNT, None),  # counts (or sums of harm): 34,486, not 34486.0
    "after": ("After", _COUNT, None),
    "change": ("Change", _COUNT, "After less before."),
    "pct_change": ("Change (%)", _PCT, None),
    "before_per_month": ("Before, a month", _ONE, None),
    "after_per_month": ("After, a month", _ONE, None),
    "rate_change_pct": ("Change of the monthly rate", _PCT, None),
    "change_low_pct": ("95% interval, low", _PCT, None),
    "change_high_pct": ("95% interval, high", _PCT, None),
    "change_p": ("p-value", _P, None),
    "change_words": ("In words", None, None),
    "zone": ("Area", None, None),
    "weight": ("Weight", _ONE, None),
    "cell_id": ("Cell", None, None),
    "count_trend": ("Count trend", None, "Mann-Kendall test of the cell's counts over time."),
    "count_trend_z": ("Count trend z", None, None),
    "count_trend_p": ("Count trend p-value", None, None),
    "trend_p": ("Hot-spot trend p-value", None, "Mann-Kendall test of the cell's Gi* z-scores."),
    "median_count_trend_p": ("Median count trend p-value", None, None),
}

# how each kind is shown: a printf format for st.column_config.NumberColumn
_FORMATS = {
    _COUNT: "localized",
    _SHARE: "%.1f%%",  # shown from values x 100 (display_frame)
    _AREA: "%.3f",
    _DENSITY: "localized",  # rounded to whole numbers first
    _ONE: "%.1f",
    _DEGREES: "%.5f",
    _PCT: "%+.0f%%",
    _P: "%.3f",
}


def _words(name: str) -> str:
    """A column's label: its listed words, else its name with spaces ("hotspot_id" -> "Hotspot
    id")."""
    listed = COLUMN_WORDS.get(name)
    if listed is not None:
        return listed[0]
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as shown: lists as text, shares x 100, densities rounded, empty columns out."""
    shown = lists_as_text(pd.DataFrame(frame))
    empty = [c for c in shown.columns if shown[c].isna().all()]
    shown = shown.drop(columns=empty)
    for name in shown.columns:
        kind = COLUMN_WORDS.get(str(name), ("", None, None))[1]
        if kind is None or not pd.api.types.is_numeric_dtype(shown[name]):
            continue
        if kind == _SHARE:
            shown[name] = shown[name] * 100
        elif kind == _DENSITY:
            shown[name] = shown[name].round(0)
    return shown


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Streamlit column settings for every column of ``frame``: words, format, help."""
    config: dict[str, Any] = {}
    for name in frame.columns:
        label = _words(str(name))
        kind, help_text = COLUMN_WORDS.get(str(name), ("", None, None))[1:]
        if kind is not None and pd.api.types.is_numeric_dtype(frame[name]):
            config[str(name)] = st.column_config.NumberColumn(
                label, format=_FORMATS[kind], help=help_text
            )
        elif pd.api.types.is_integer_dtype(frame[name]):  # any other count: 1,556 not 1556
            config[str(name)] = st.column_config.NumberColumn(
                label, format=_FORMATS[_COUNT], help=help_text
            )
        else:
            config[str(name)] = st.column_config.Column(label, help=help_text)
    return config


def show_table(frame: pd.DataFrame, **kwargs: Any) -> None:
    """``st.dataframe`` of a library table in words (see the module's docstring)."""
    shown = display_frame(frame)
    st.dataframe(
        shown, hide_index=True, width="stretch", column_config=column_config(shown), **kwargs
    )
