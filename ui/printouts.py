"""The dashboard's printouts: the briefing and the outreach sheets, shown as they print.

Each printout is made once (cached) and shown on the screen as the very page that is
downloaded (``st.iframe`` of the same text), beside the same figures: the briefing's from
:func:`hotspots.report.briefing_content.briefing_content`, the sheets' streets from
:func:`hotspots.report.outreach_sheet.sheet_streets`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspots import InputError
from hotspots.pipeline import Analysis
from hotspots.report.briefing_content import BriefingContent
from hotspots.report.outreach_sheet import (
    OUTREACH_LABELS,
    SHEETS_AT_FIRST,
    first_sheets,
    outreach_sheet_html,
    sheet_streets,
)

from .helpers import briefing_page, briefing_parts, no_links, plain_markdown, table_csv

__all__ = [
    "POINT_COLUMNS",
    "STREET_COLUMNS",
    "briefing_view",
    "in_percent",
    "looks_synthetic",
    "patrol_point_table",
    "sheet_controls",
    "street_table",
]

#: The patrol points' columns in words (:func:`hotspots.patrols.patrol_points`).
POINT_COLUMNS: dict[str, Any] = {
    "hotspot_id": st.column_config.TextColumn("Hotspot"),
    "rank_in_hotspot": st.column_config.NumberColumn("Rank in the hotspot", format="%d"),
    "location": st.column_config.TextColumn("Street or place (as police.uk names it)"),
    "incidents": st.column_config.NumberColumn("Incidents", format="%d"),
    "share_of_hotspot": st.column_config.NumberColumn(
        "Share of the hotspot's incidents", format="%.0f%%"
    ),
    "longitude": st.column_config.NumberColumn("Longitude", format="%.5f"),
    "latitude": st.column_config.NumberColumn("Latitude", format="%.5f"),
}
#: The outreach streets' columns in words, as the sheets print them.
STREET_COLUMNS: dict[str, Any] = {
    "hotspot_id": st.column_config.TextColumn(OUTREACH_LABELS["hotspot_id"]),
    "rank_in_hotspot": st.column_config.NumberColumn(
        OUTREACH_LABELS["rank_in_hotspot"], format="%d"
    ),
    "street": st.column_config.TextColumn(
        OUTREACH_LABELS["street"],
        help="Places police.uk names by their kind (a supermarket) are named after their "
        "nearest street.",
    ),
    "incidents": st.column_config.NumberColumn(OUTREACH_LABELS["incidents"], format="%d"),
    "share_of_hotspot": st.column_config.NumberColumn(
        OUTREACH_LABELS["share_of_hotspot"], format="%.0f%%"
    ),
}
#: The patrol coverage table's columns in words (:func:`hotspots.patrols.patrol_coverage`).


def in_percent(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``table`` with its share columns (0.23) in percent (23.0), for a "%.0f%%" column."""
    return table.assign(**{c: 100 * table[c] for c in columns if c in table.columns})


def patrol_point_table(analysis: Analysis) -> None:
    """Each hotspot's busiest map points: where exactly to send people."""
    st.subheader("Patrol points: the busiest spots in each hotspot")
    points = analysis.patrol_points
    shown = in_percent(
        points.drop(columns=["easting", "northing"], errors="ignore"), "share_of_hotspot"
    )
    st.dataframe(shown, hide_index=True, width="stretch", column_config=POINT_COLUMNS)


def looks_synthetic(analysis: Analysis) -> bool:
    """Whether every incident was read from the bundled synthetic sample (by its file name)."""
    from geodata import SAMPLE_INCIDENTS

    source = analysis.incidents.get("source")
    if source is None or not len(source):
        return False
    return bool(source.astype(str).str.startswith(SAMPLE_INCIDENTS.name).all())


@st.cache_resource(show_spinner="Preparing the outreach sheets ...", max_entries=8)
def _sheets(
    akey: str,
    picked: tuple[str, ...],
    months: tuple[str, str],
    crime_types: tuple[str, ...] | None,
    ward_names: tuple[str, ...] | None,
    synthetic: bool,
    _analysis: Analysis,
) -> str:
    """The outreach sheets of the hotspots picked (one page each), made once per choice."""
    return outreach_sheet_html(
        hotspots=_analysis.hotspots,
        incidents=_analysis.incidents,
        hotspot_ids=_analysis.hotspot_ids,
        period=months,
        chosen=list(picked),
        crime_types=crime_types,
        ward_names=ward_names,
        synthetic=synthetic,
        locations=_analysis.found.locations,
    )


def _analysis_key(analysis: Analysis) -> str:
    """A key for an analysis when its caller gives none: its incidents' count and its
    hotspots' ids, counts and areas (an object's id can be reused once it is freed)."""
    table = analysis.hotspot_table[["hotspot_id", "incidents", "area_km2"]]
    digest = int(pd.util.hash_pandas_object(table, index=False).sum()) if len(table) else 0
    return f"{len(analysis.incidents)}|{digest}"


def sheet_controls(
    analysis: Analysis, has_patrols: bool, months: tuple[str, str], options: dict[str, Any]
) -> pd.DataFrame:
    """Choose the hotspots for the sheets; download and preview them. Returns their streets."""
    ranked = analysis.hotspot_table["hotspot_id"].astype(str).tolist()
    default = first_sheets(analysis.hotspot_table, analysis.uncovered if has_patrols else None)
    # keyed on the proposal: a change of cover (an area uploaded or drawn) proposes afresh
    proposal = hashlib.sha256("\n".join(default).encode()).hexdigest()[:12]
    picked = st.multiselect(
        "Hotspots on the sheets",
        ranked,
        default=default,
        key=f"outreach_pick:{proposal}",
        help=f"One printed page each. At first: the {SHEETS_AT_FIRST} densest hotspots no patrol "
        f"area covers (with patrol areas), else the {SHEETS_AT_FIRST} densest.",
    )
    picked_ranked = tuple(h for h in ranked if h in set(picked))
    streets = sheet_streets(
        analysis.hotspots,
        analysis.incidents,
        analysis.hotspot_ids,
        list(picked_ranked),
        locations=analysis.found.locations,
    )
    if not picked_ranked:
        st.info("Choose one or more hotspots for the outreach sheets.")
        return streets
    key = str(options.get("akey") or _analysis_key(analysis))

    def page() -> str:
        return _sheets(
            key,
            picked_ranked,
            months,
            options.get("crime_types"),
            options.get("ward_names"),
            bool(options.get("synthetic")),
            analysis,
        )

    n = len(picked_ranked)
    st.download_button(
        f"Outreach sheets (HTML, {n} page{'s' if n > 1 else ''})",
        page,
        file_name=f"outreach-{months[0]}-{months[1]}.html",
        mime="text/html",
        on_click="ignore",
        type="primary",
        key="outreach_sheets",
    )
    if st.toggle("Show the sheets as they print (one page per hotspot)", key="sheets_preview"):
        try:
            st.iframe(page(), height=900)
        except (InputError, ValueError) as exc:
            st.error(no_links(str(exc)))
    return streets


@st.cache_resource(max_entries=8)
def _briefing_content(
    akey: str,
    period: tuple[str, str],
    crime_types: tuple[str, ...] | None,
    ward_names: tuple[str, ...] | None,
    _analysis: Analysis,
    _chosen: gpd.GeoDataFrame,
) -> BriefingContent:
    """The briefing's figures (quick: tables and words)."""
    return briefing_parts(
        _analysis, _chosen, period, crime_types=crime_types, ward_names=ward_names
    )


@st.cache_resource(show_spinner="Preparing the briefing page ...", max_entries=8)
def _briefing_page(
    akey: str,
    period: tuple[str, str],
    crime_types: tuple[str, ...] | None,
    ward_names: tuple[str, ...] | None,
    title: str,
    synthetic: bool,
    _analysis: Analysis,
    _chosen: gpd.GeoDataFrame,
    _map_kw: dict[str, Any],
    _content: BriefingContent,
) -> str:
    """The briefing page of those figures, made once (its map takes seconds): the preview
    shows it and the download is it."""
    return briefing_page(_analysis, _chosen, _map_kw, period, content=_content)


def briefing_view(
    akey: str,
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    map_kw: dict[str, Any],
    period_text: str,
    period: tuple[str, str],
    *,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
) -> None:
    """The briefing: what it counts, its headline numbers, the page itself and its download.

    ``crime_types``: the crime types chosen (None: those of ``chosen``); ``ward_names``: the
    wards chosen (empty: no ward filter; None: not said). The page (its map takes seconds)
    is made when it is shown or downloaded, not on every run of the dashboard.
    """
    st.subheader(f"Briefing: {period_text}")
    scope = (
        akey,
        period,
        None if crime_types is None else tuple(crime_types),
        None if ward_names is None else tuple(ward_names),
    )
    try:
        content = _briefing_content(*scope, analysis, chosen)
    except (InputError, ValueError) as exc:
        st.error(no_links(str(exc)))
        return

    def page() -> str:
        return _briefing_page(
            *scope, map_kw["title"], map_kw["synthetic"], analysis, chosen, map_kw, content
        )

    lines = content.scope.lines()
    st.markdown("  \n".join(f"**{plain_markdown(k)}:** {plain_markdown(v)}" for k, v in lines))
    for col, figure in zip(st.columns(len(content.headline)), content.headline, strict=True):
        label = figure.heading or figure.label
        col.metric(label, figure.value, help=figure.note or None)
    st.download_button(
        "Download the briefing (HTML)",
        page,
        file_name=f"briefing-{period[0]}-{period[1]}.html",
        mime="text/html",
        on_click="ignore",
        type="primary",
    )
    if st.toggle(
        "Show the briefing as it prints",
        value=True,  # the briefing has its own page: shown there without asking
        key="briefing_preview",
        help="The page you download, here as it will print. Counts of 1 to 4 show as "
        "\u201cfewer than 5\u201d, here and in the file.",
    ):
        try:
            st.iframe(page(), height=900)
        except (InputError, ValueError) as exc:
            st.error(no_links(str(exc)))
    with st.expander("The briefing's tables"):
        st.dataframe(content.hotspots.table, hide_index=True, width="stretch")
        if content.wards is not None:
            st.dataframe(content.wards.table, hide_index=True, width="stretch")


def street_table(streets: pd.DataFrame) -> None:
    """The streets and places of the hotspots chosen for the sheets, in words, and their CSV."""
    st.subheader("Streets to send outreach workers to")
    st.dataframe(
        in_percent(streets, "share_of_hotspot"),
        hide_index=True,
        width="stretch",
        column_config=STREET_COLUMNS,
    )
    st.download_button(
        "Street list (CSV)",
        lambda: table_csv(streets),
        file_name="outreach_streets.csv",
        mime="text/csv",
        on_click="ignore",
    )
