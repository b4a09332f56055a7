"""The dashboard's views: the map, and the Deployments, Outreach and Briefing tabs."""

from __future__ import annotations

from typing import Any

import altair as alt
import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from geodata.store import PatrolAreaStore
from hotspots import (
    InputError,
    write_hotspots_csv,
    write_hotspots_geojson,
    write_hotspots_gpkg,
)

from .helpers import (
    briefing_available,
    briefing_page,
    briefing_table,
    fewer_than_5,
    file_bytes,
    hotspot_at,
    printable_html,
    save_drawn_area,
    standalone_map,
    table_csv,
)


@st.cache_resource(show_spinner="Drawing the map ...", max_entries=8)
def _map_page(
    akey: str,
    points: bool,
    tiles: str | None,
    attribution: str | None,
    title: str,
    synthetic: bool,
    _analysis: dict[str, Any],
    _chosen: gpd.GeoDataFrame,
    _wards: gpd.GeoDataFrame | None,
    _patrols: gpd.GeoDataFrame | None,
) -> str:
    """A standalone map page (assets inlined), cached on the analysis and the map settings."""
    return standalone_map(
        _analysis,
        _chosen,
        points=points,
        wards=_wards,
        patrols=_patrols,
        tiles=tiles,
        attribution=attribution,
        title=title,
        synthetic=synthetic,
    )


def show_map(m: folium.Map, analysis: dict[str, Any]) -> None:
    from streamlit_folium import st_folium

    state = st_folium(
        m,
        key="map",
        height=620,
        use_container_width=True,
        returned_objects=["last_object_clicked", "last_active_drawing"],
    )
    if not isinstance(state, dict):
        return
    click = state.get("last_object_clicked")
    if click and click != st.session_state.get("last_click"):
        st.session_state["last_click"] = click
        hit = hotspot_at(analysis["hotspots_wgs"], float(click["lat"]), float(click["lng"]))
        if hit:
            st.session_state["hotspot_pick"] = hit
    drawing = state.get("last_active_drawing")
    if drawing and drawing != st.session_state.get("last_drawing_seen"):
        st.session_state["last_drawing_seen"] = drawing
        st.session_state["drawn_geometry"] = drawing.get("geometry")


def save_drawn(store: PatrolAreaStore) -> None:
    geometry = st.session_state.get("drawn_geometry")
    if not geometry:
        return
    with st.form("save_drawn"):
        st.write("You drew an area. Save it as a patrol area?")
        name = st.text_input("Name of the patrol area", key="drawn_name")
        save, discard = st.columns(2)
        saved = save.form_submit_button("Save patrol area")
        dropped = discard.form_submit_button("Discard")
    if dropped:
        st.session_state["drawn_geometry"] = None
        st.rerun()
    if saved:
        try:
            clean = save_drawn_area(store, name, geometry)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.session_state["drawn_geometry"] = None
            st.success(f"Saved patrol area {clean!r}; choose 'Saved in the store' to use it.")


# How the ranked table shows its numbers (the values themselves stay exact).
TABLE_FORMATS = {
    "share": "{:.1%}",
    "area_km2": "{:.2f}",
    "density_km2": "{:,.0f}",
    "pai": "{:.1f}",
    "patrol_coverage": "{:.0%}",
    "trend": "{:+.0%}",
}


def deployments(analysis: dict[str, Any], period: str) -> None:
    table = analysis["table"]
    st.subheader("Hotspots, ranked")
    if len(table) == 0:
        st.info("No hotspots with these settings: lower min_samples or widen the filters.")
    ids = table["hotspot_id"].tolist()
    pick = st.session_state.get("hotspot_pick")
    if pick not in ids:
        st.session_state["hotspot_pick"] = ids[0] if ids else None
    picked = st.session_state.get("hotspot_pick")

    def highlight(row: pd.Series) -> list[str]:
        on = row["hotspot_id"] == picked
        return ["background-color: #fde0dd; font-weight: bold" if on else ""] * len(row)

    styled = table.style.apply(highlight, axis=1).format(
        {k: v for k, v in TABLE_FORMATS.items() if k in table.columns}, na_rep=""
    )
    st.dataframe(styled, hide_index=True, width="stretch")
    if not ids:
        return
    chosen = st.selectbox("Hotspot (or click one on the map)", ids, key="hotspot_pick")
    row = table.loc[table["hotspot_id"] == chosen].iloc[0]
    st.write(
        f"**{chosen}**: {int(row['incidents']):,} incidents; wards: {row['wards'] or 'none'}; "
        f"top crime types: {row['top_categories']}; top streets: {row['top_locations']}."
    )
    left, right = st.columns(2)
    with left:
        st.caption(f"Incidents per month, {period}: {chosen} and all incidents")
        monthly = analysis["monthly"]
        shown = pd.concat(
            [analysis["overall"], monthly[monthly["hotspot_id"] == chosen]], ignore_index=True
        )
        st.altair_chart(
            alt.Chart(shown)
            .mark_line(point=True)
            .encode(
                x=alt.X("month:T", title="month"),
                y=alt.Y("incidents:Q"),
                color=alt.Color("hotspot_id:N", title=""),
                tooltip=["hotspot_id", alt.Tooltip("month:T", format="%Y-%m"), "incidents"],
            )
            .properties(height=260),
            width="stretch",
        )
    with right:
        st.caption("Crime mix of the top hotspots")
        mix = analysis["mix"]
        top = ids[:10]
        st.altair_chart(
            alt.Chart(mix[mix["hotspot_id"].isin(top)])
            .mark_bar()
            .encode(
                y=alt.Y("hotspot_id:N", sort=top, title=""),
                x=alt.X("incidents:Q", stack="normalize", title="share of incidents"),
                color=alt.Color("crime type:N"),
                tooltip=["hotspot_id", "crime type", "incidents"],
            )
            .properties(height=260),
            width="stretch",
        )
    st.subheader("Wards each hotspot touches")
    st.dataframe(table[["hotspot_id", "incidents", "wards"]], hide_index=True, width="stretch")
    if analysis["wards"] is not None:
        st.subheader("Ward table")
        st.dataframe(analysis["wards"], hide_index=True, width="stretch")


def downloads(analysis: dict[str, Any], chosen: gpd.GeoDataFrame, map_kw: dict[str, Any]) -> None:
    st.subheader("Downloads")
    hs = analysis["hotspots"]
    cols = st.columns(3)
    cols[0].download_button(
        "Hotspots (GeoJSON)",
        lambda: file_bytes(lambda p: write_hotspots_geojson(hs, p), ".geojson"),
        file_name="hotspots.geojson",
        mime="application/geo+json",
        on_click="ignore",
    )
    cols[1].download_button(
        "Hotspots (GeoPackage)",
        lambda: file_bytes(lambda p: write_hotspots_gpkg(hs, p), ".gpkg"),
        file_name="hotspots.gpkg",
        mime="application/geopackage+sqlite3",
        on_click="ignore",
    )
    cols[2].download_button(
        "Hotspots (CSV)",
        lambda: file_bytes(lambda p: write_hotspots_csv(hs, p), ".csv"),
        file_name="hotspots.csv",
        mime="text/csv",
        on_click="ignore",
    )
    cols = st.columns(3)
    if analysis["wards"] is not None:
        wards = analysis["wards"]
        cols[0].download_button(
            "Ward table (CSV)",
            lambda: table_csv(wards),
            file_name="wards.csv",
            mime="text/csv",
            on_click="ignore",
        )
    if analysis["patrols"] is not None:
        patrols = analysis["patrols"]
        cols[1].download_button(
            "Patrol coverage (CSV)",
            lambda: table_csv(patrols),
            file_name="patrols.csv",
            mime="text/csv",
            on_click="ignore",
        )
    cols[2].download_button(
        "Map (HTML, opens offline)",
        lambda: standalone_map(analysis, chosen, **map_kw),
        file_name="map.html",
        mime="text/html",
        on_click="ignore",
    )


def outreach(analysis: dict[str, Any], period: str, has_patrols: bool) -> None:
    if not has_patrols:
        st.info("Choose patrol areas in the sidebar to see their coverage.")
        streets = analysis["streets"]
        st.subheader("Streets in each hotspot")
        st.dataframe(streets, hide_index=True, width="stretch")
        return
    st.subheader("Patrol coverage per area")
    st.dataframe(analysis["patrols"], hide_index=True, width="stretch")
    st.subheader("Hotspots no patrol area covers, ranked")
    uncovered = analysis["uncovered"]
    if len(uncovered) == 0:
        st.success("Every hotspot has incidents inside a patrol area.")
    st.dataframe(uncovered, hide_index=True, width="stretch")
    st.subheader("Streets to send outreach workers to")
    streets = analysis["streets"]
    st.dataframe(streets, hide_index=True, width="stretch")
    cols = st.columns(2)
    cols[0].download_button(
        "Printable list (HTML)",
        lambda: printable_html(
            "Outreach list",
            f"Period: {period}",
            [
                ("Hotspots no patrol area covers", uncovered),
                ("Streets to visit", streets),
            ],
        ),
        file_name="outreach.html",
        mime="text/html",
        on_click="ignore",
    )
    cols[1].download_button(
        "Street list (CSV)",
        lambda: table_csv(streets),
        file_name="outreach_streets.csv",
        mime="text/csv",
        on_click="ignore",
    )


def briefing(
    akey: str,
    analysis: dict[str, Any],
    chosen: gpd.GeoDataFrame,
    map_kw: dict[str, Any],
    period_text: str,
    period: tuple[str, str],
) -> None:
    table = analysis["table"]
    n = analysis["n"]
    uncovered = analysis["uncovered"]
    st.subheader(f"Briefing: {period_text}")
    c1, c2, c3 = st.columns(3)
    c1.metric("Incidents", fewer_than_5(n))
    c2.metric("Hotspots", len(table))
    c3.metric("Hotspots no patrol area covers", "n/a" if uncovered is None else str(len(uncovered)))
    headline = briefing_table(analysis["hotspots"])
    st.dataframe(headline, hide_index=True, width="stretch")
    try:
        page = _map_page(
            akey,
            False,
            map_kw["tiles"],
            map_kw["attribution"],
            map_kw["title"],
            map_kw["synthetic"],
            analysis,
            chosen,
            map_kw["wards"],
            map_kw["patrols"],
        )
    except (InputError, ValueError) as exc:
        st.error(str(exc))
    else:
        st.iframe(page, height=480)
    if not briefing_available():
        st.caption("The briefing file needs hotspots.briefing, which this version lacks.")
        return
    st.download_button(
        "Download the briefing (HTML)",
        lambda: briefing_page(analysis, chosen, map_kw, period),
        file_name=f"briefing-{period[0]}-{period[1]}.html",
        mime="text/html",
        on_click="ignore",
        type="primary",
    )
