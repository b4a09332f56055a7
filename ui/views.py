"""The dashboard's views: the map, and the Deployments, Outreach and Briefing tabs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from geodata.store import PatrolAreaStore
from hotspots import (
    InputError,
    LoadReport,
    write_hotspots_csv,
    write_hotspots_geojson,
    write_hotspots_gpkg,
)
from hotspots._text import lists_as_text
from hotspots.backtest import HOTSPOTS, KDE, NAIVE_CELLS, NAIVE_POINTS
from hotspots.columns import HOTSPOT_COLUMNS as HOTSPOT_TABLE_COLUMNS
from hotspots.crs import to_wgs84
from hotspots.period_change import PeriodChange, chance_words
from hotspots.pipeline import Analysis
from hotspots.report.backtest_text import BACKTEST_TITLE, backtest_sentence
from hotspots.report.wording import span_words

from .helpers import (
    file_bytes,
    hotspot_at,
    new_drawing,
    no_links,
    save_drawn_area,
    standalone_map,
    summary_json,
    table_csv,
    without_outlines,
)
from .map_payload import MapPayload, show_payload
from .printouts import (
    looks_synthetic,
    patrol_point_table,
    sheet_controls,
    street_table,
)
from .tables import COLUMN_WORDS, show_table
from .trend import TREND_HELP, monthly_chart, span_name, with_change


def map_key() -> str:
    """The map's widget key: a new one after a drawn shape is saved or discarded, which
    redraws the map without the shape (the saved area then shows in the patrol layer)."""
    return f"map-{st.session_state.get('map_round', 0)}"


def _drop_drawing() -> None:
    st.session_state["drawn_geometry"] = None
    st.session_state["drawings_seen"] = []
    st.session_state["map_round"] = st.session_state.get("map_round", 0) + 1


def show_map(m: folium.Map | MapPayload, analysis: Analysis, *, height: int = 560) -> None:
    """The page's map (a payload rendered once, or a folium map ``st_folium`` renders) and what
    a click or a drawing on it means: a click picks a hotspot, a drawn shape waits for a name."""
    returned = ["last_object_clicked", "all_drawings"]
    if isinstance(m, MapPayload):
        state = show_payload(m, key=map_key(), height=height, returned_objects=returned)
    else:
        from streamlit_folium import st_folium

        state = st_folium(
            m, key=map_key(), height=height, use_container_width=True, returned_objects=returned
        )
    if not isinstance(state, dict):
        return
    click = state.get("last_object_clicked")
    if click and click != st.session_state.get("last_click"):
        st.session_state["last_click"] = click
        hotspots_wgs = to_wgs84(analysis.hotspots)
        hit = hotspot_at(hotspots_wgs, float(click["lat"]), float(click["lng"]))
        if hit:
            st.session_state["hotspot_pick"] = hit
    shape, seen = new_drawing(state.get("all_drawings"), st.session_state.get("drawings_seen", []))
    st.session_state["drawings_seen"] = seen
    if shape is not None:  # only the drawing tool's shapes: a click never lands here
        st.session_state["drawn_geometry"] = shape


@st.dialog("Save the area you drew", on_dismiss=_drop_drawing)
def _name_drawn_area(store: PatrolAreaStore) -> None:
    st.write("Name it to save it as a patrol area; it joins the patrol layer at once.")
    with st.form("save_drawn", clear_on_submit=True, border=False):
        name = st.text_input("Name of the patrol area", key="drawn_name")
        save, discard = st.columns(2)
        saved = save.form_submit_button("Save patrol area", type="primary")
        dropped = discard.form_submit_button("Discard")
    if dropped:
        _drop_drawing()
        st.rerun()
    if saved:
        try:
            clean = save_drawn_area(store, name, st.session_state.get("drawn_geometry") or {})
        except InputError as exc:
            st.error(no_links(str(exc)))
        else:
            _drop_drawing()
            st.session_state["drawn_msg"] = f"Saved patrol area {clean!r}."
            st.session_state["tick_saved_areas"] = True  # it joins the layer, as promised
            st.rerun()


def save_drawn(store: PatrolAreaStore) -> None:
    """Ask for a name while a drawn shape waits (a dialog at the map); say what was saved."""
    message = st.session_state.pop("drawn_msg", None)
    if message:
        st.success(message)
    if st.session_state.get("drawn_geometry"):
        _name_drawn_area(store)


#: The ranked table's columns in words (ui/tables.py's words; TABLE_FORMATS rounds the values).
HOTSPOT_COLUMNS: dict[str, Any] = {
    name: st.column_config.Column(label, help=help_text)
    for name, (label, _, help_text) in COLUMN_WORDS.items()
    if name in HOTSPOT_TABLE_COLUMNS
}

# How the ranked table shows its numbers (the values themselves stay exact).
TABLE_FORMATS = {
    "incidents": "{:,.0f}",  # 1,022 as in every other table (was 1022)
    "outline_now": "{:,.0f}",
    "previous": "{:,.0f}",
    "share": "{:.1%}",
    "area_km2": "{:.3f}",  # a street-corner hotspot is a few thousandths of a km²
    "density_km2": "{:,.0f}",
    "pai": "{:.1f}",
    "patrol_coverage": "{:.0%}",
    "trend": "{:+.0%}",
    "trend_low": "{:+.1%}",
    "trend_high": "{:+.1%}",
    "trend_p": "{:.3f}",
}


def forecast_check(
    analysis: Analysis, later: str | None = None, *, chosen_here: bool = False
) -> None:
    """How well did these hotspots predict? The back-test's sentence and capture curve.

    ``later``: the analysis key when the back-test was left for the user to ask for (a city's
    data): a button asks for it. ``chosen_here``: the settings in use were chosen by this
    back-test (the sentence says it flatters them).
    """
    st.subheader(BACKTEST_TITLE)
    result = analysis.backtest
    if result is None and later is not None:
        st.write(
            f"With {len(analysis.incidents):,} incidents this check takes several seconds "
            "for each setting (longer with a small distance), so it runs when you ask: "
            "it finds hotspots on the earlier months and measures how much of the later "
            "months' crime they held."
        )
        if st.button("Check how well these hotspots predict", key=f"ask-backtest|{later}"):
            st.session_state[f"backtest|{later}"] = True
            st.rerun()
        return
    if result is None:
        st.info(
            "Not enough months to check: with 4 months or more the dashboard finds hotspots "
            "on the earlier months and measures how much of the later months' crime they held."
        )
        return
    st.write(backtest_sentence(result, chosen_here=chosen_here))
    curve = result.curve.assign(
        area=lambda c: 100 * c["area_share"], caught=lambda c: 100 * c["capture"]
    )
    chart = (
        alt.Chart(curve)
        .mark_line()
        .encode(
            x=alt.X("area:Q", title="Share of the study area patrolled (%)"),
            y=alt.Y("caught:Q", title="Next months' crime caught (%)"),
            color=alt.Color(
                "method:N",
                title="Map",
                scale=alt.Scale(
                    domain=[HOTSPOTS, NAIVE_POINTS, NAIVE_CELLS, KDE],
                    range=["#800026", "#fd8d3c", "#feb24c", "#6a51a3"],
                ),
            ),
            strokeWidth=alt.condition(alt.datum.method == HOTSPOTS, alt.value(3.5), alt.value(1.5)),
            tooltip=[
                "method",
                alt.Tooltip("area:Q", format=".2f"),
                alt.Tooltip("caught:Q", format=".1f"),
            ],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Each line: hotspots (or the baseline map) found on earlier months, patrolled "
        "densest first; the higher the line at small areas, the better the map points to "
        "where crime happens next. Baselines: last period's busiest map points and 50 m "
        "cells, and a kernel density (KDE) map."
    )


def deployments(
    analysis: Analysis,
    period: str,
    change: PeriodChange | None = None,
) -> None:
    """The ranked hotspots with their change, the chosen one's details and the wards."""
    table = with_change(lists_as_text(analysis.hotspot_table), change)  # lists as files write them
    st.subheader("Hotspots, ranked")
    if len(table) == 0:
        st.info(
            "No hotspots with these settings: lower the minimum number of incidents for a "
            "dense spot (Advanced, in the sidebar) or widen the filters."
        )
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
    previous = span_name(change.previous) if change is not None else ""
    config: dict[str, Any] = {
        **HOTSPOT_COLUMNS,
        "outline_now": st.column_config.NumberColumn(
            f"inside outline, {span_name(change.period) if change else ''}",
            format="%d",
            help=TREND_HELP,
        ),
        "previous": st.column_config.NumberColumn(
            f"inside outline, {previous}", format="%d", help=TREND_HELP
        ),
        "change_label": st.column_config.TextColumn(f"change on {previous}", help=TREND_HELP),
    }
    st.dataframe(styled, hide_index=True, width="stretch", column_config=config)
    if change is not None and change.note:
        st.caption(f"Change: {change.note}.")
    if change is not None and change.previous is not None and len(change.table):
        st.caption(chance_words(len(change.table), int(change.table["clear"].sum())))
    if not ids:
        return
    chosen = st.selectbox("Hotspot (or click one on the map)", ids, key="hotspot_pick")
    row = table.loc[table["hotspot_id"] == chosen].iloc[0]
    trend = f"; against {previous}: {row['change_label']}" if "change_label" in row else ""
    said = (
        f"{int(row['incidents']):,} incidents{trend}; wards: {row['wards'] or 'none'}; top "
        f"crime types: {row['top_categories']}; top streets: {row['top_locations']}."
    )
    st.write(f"**{no_links(str(chosen))}**: {no_links(said)}")  # the data's words
    left, right = st.columns(2)
    with left:
        st.caption(f"Incidents per month, {period}: {chosen} (red, left axis), all (grey, right)")
        st.altair_chart(monthly_chart(analysis.monthly, analysis.overall, chosen), width="stretch")
    with right:
        st.caption("Crime mix of the top hotspots")
        mix = analysis.crime_mix
        top = ids[:10]
        st.altair_chart(crime_mix_chart(mix[mix["hotspot_id"].isin(top)], top), width="stretch")
    st.subheader("Wards each hotspot touches")
    show_table(table[["hotspot_id", "incidents", "wards"]])
    if analysis.ward_table is not None:
        st.subheader("Ward table")
        show_table(analysis.ward_table)


def crime_mix_chart(mix: pd.DataFrame, order: list[str]) -> alt.Chart:
    """Each hotspot's crime types as shares of one bar (hotspots in ``order``): a colour per
    crime type (data.police.uk has 14; ``tableau20`` has 20) and every type in the legend,
    under the bars in two columns, every hotspot named."""
    types = sorted(mix["crime type"].astype(str).unique())
    return (
        alt.Chart(mix)
        .mark_bar()
        .encode(
            y=alt.Y("hotspot_id:N", sort=order, title="", axis=alt.Axis(labelOverlap=False)),
            x=alt.X("incidents:Q", stack="normalize", title="share of incidents"),
            color=alt.Color(
                "crime type:N",
                scale=alt.Scale(domain=types, scheme="tableau20"),
                legend=alt.Legend(
                    orient="bottom", columns=2, labelLimit=320, symbolLimit=0, title=None
                ),
            ),
            tooltip=["hotspot_id", "crime type", "incidents"],
        )
        .properties(height=alt.Step(22))  # a band a hotspot, whatever the legend takes
    )


def downloads(
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    map_kw: dict[str, Any],
    report: Callable[[], LoadReport],
) -> None:
    """The files ``hotspots analyse`` writes, for this analysis; ``report`` gives the load
    report of what it used, when summary.json is asked for (it counts the filtered rows)."""
    st.subheader("Downloads")
    hs = analysis.hotspots
    writers = [
        ("Hotspots (GeoJSON)", write_hotspots_geojson, "hotspots.geojson", "application/geo+json"),
        ("Hotspots (GeoPackage)", write_hotspots_gpkg, "hotspots.gpkg", GPKG),
        ("Hotspots (CSV)", write_hotspots_csv, "hotspots.csv", "text/csv"),
    ]
    for col, (label, writer, name, mime) in zip(st.columns(3), writers, strict=True):
        suffix = Path(name).suffix
        col.download_button(
            label,
            lambda w=writer, s=suffix: file_bytes(lambda p: w(hs, p), s),  # type: ignore[misc]
            file_name=name,
            mime=mime,
            on_click="ignore",
        )
    tables = [
        ("Ward table (CSV)", analysis.ward_table, "wards.csv"),
        ("Patrol coverage (CSV)", analysis.patrol_table, "patrols.csv"),
        ("Outreach streets (CSV)", analysis.streets, "outreach.csv"),
    ]
    for col, (label, table, name) in zip(st.columns(3), tables, strict=True):
        if table is not None:
            col.download_button(
                label,
                lambda t=table: table_csv(t),  # type: ignore[misc]
                file_name=name,
                mime="text/csv",
                on_click="ignore",
            )
    cols = st.columns(3)
    cols[0].download_button(
        "Map (HTML, opens offline)",
        lambda: standalone_map(analysis, chosen, **map_kw),
        file_name="map.html",
        mime="text/html",
        on_click="ignore",
    )
    cols[1].download_button(
        "Summary (JSON)",
        lambda: summary_json(analysis, report()),
        file_name="summary.json",
        mime="application/json",
        on_click="ignore",
    )


GPKG = "application/geopackage+sqlite3"


def outreach(
    analysis: Analysis,
    period: str,
    has_patrols: bool,
    *,
    months: tuple[str, str] | None = None,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
    synthetic: bool | None = None,
    akey: str | None = None,
) -> None:
    """Place outreach: patrol coverage, the hotspots no patrol area covers, and printable
    outreach sheets (one page per hotspot chosen) with their streets.

    ``months``: the first and last month (None: the analysis' own); ``crime_types`` and
    ``ward_names``: the filters, as the sheets state them; ``synthetic`` (None: whether the
    incidents are the bundled sample); ``akey``: the analysis key (the sheets' cache).
    """
    if has_patrols:
        st.subheader("Patrol coverage per area")
        if analysis.patrol_table is not None:
            show_table(analysis.patrol_table)
        st.subheader("Hotspots no patrol area covers, ranked")
        outlined = without_outlines(analysis.uncovered)
        assert outlined is not None  # patrol areas were given
        uncovered = with_change(lists_as_text(outlined), None)  # the period change is Plan's
        if analysis.n_hotspots == 0:
            st.info("No hotspots with these settings.")
        elif len(uncovered) == 0:
            st.success("Every hotspot has incidents inside a patrol area.")
        formats: dict[Any, Any] = {k: v for k, v in TABLE_FORMATS.items() if k in uncovered}
        st.dataframe(
            uncovered.style.format(formats, na_rep=""),
            hide_index=True,
            width="stretch",
            column_config=HOTSPOT_COLUMNS,
        )
    else:
        st.info("Choose patrol areas in the sidebar to see their coverage.")
    period_of = analysis.period()
    span = months or (str(period_of["from"]), str(period_of["to"]))
    if period_of["from"] is None and months is None:
        st.info("The incidents have no months, so no outreach sheets: they say what they count.")
        return
    st.subheader("Outreach sheets")
    st.caption(
        f"{span_words(*span)}: the streets and places of each hotspot chosen, one printed page "
        "each, with a small map."
    )
    options = {
        "akey": akey,
        "crime_types": None if crime_types is None else tuple(crime_types),
        "ward_names": None if ward_names is None else tuple(ward_names),
        "synthetic": looks_synthetic(analysis) if synthetic is None else synthetic,
    }
    streets = sheet_controls(analysis, has_patrols, span, options)
    street_table(streets)
    patrol_point_table(analysis)
