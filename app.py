"""Hotspots dashboard (Streamlit). UI only: every computation is a cached call into hotspots/.

Run with ``make run``; it opens on the bundled synthetic demo borough. The sidebar holds the
data sources (demo, uploads, the patrol-area store), the filters and the hotspot settings; the
page shows the map (streamlit-folium, served from ``static/vendor``: nothing is fetched from the
internet) and a view per job: Plan deployments, Place outreach and Prepare a briefing
(``ui/views.py``; the trend in ``ui/trend.py``), Analysis and Evaluate an operation
(``ui/analysis.py``, ``ui/pilot.py``); the sidebar is ``ui/sidebar.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import folium
import geopandas as gpd
import streamlit as st

from geodata import (
    SAMPLE_NOTICE,
)
from geodata.settings import Settings
from geodata.store import PatrolAreaStore
from hotspots import InputError, ParameterError, filter_incidents
from hotspots.filter import months_covered
from hotspots.pipeline import Analysis, Suggested, add_backtest, analyse, select_wards, suggest
from hotspots.trend import PeriodChange, period_change
from ui.analysis import analysis_tab
from ui.helpers import (
    CITY_INCIDENTS,
    add_draw_tool,
    build_map,
    months_between,
    shaded_wards,
)
from ui.pilot import pilot_tab
from ui.sidebar import WARD_SHADING, Choices, Data, sidebar_data, sidebar_settings
from ui.trend import TREND_HELP, total_delta
from ui.views import briefing, deployments, downloads, outreach, save_drawn, show_map

st.set_page_config(page_title="Hotspots", page_icon=":round_pushpin:", layout="wide")


# ------------------------------------------------------------------------------------------
# Analysis: cached calls into the library, keyed on data keys and parameters.


@st.cache_resource(max_entries=16)
def _filtered(
    fkey: str,
    start: str,
    end: str,
    categories: tuple[str, ...],
    ward_names: tuple[str, ...],
    _incidents: gpd.GeoDataFrame,
    _wards: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    chosen = filter_incidents(_incidents, None, start=start, end=end, categories=list(categories))
    return chosen if _wards is None else select_wards(chosen, _wards, ward_names)


@st.cache_resource(show_spinner="Suggesting settings ...", max_entries=16)
def _suggest(fkey: str, _chosen: gpd.GeoDataFrame, _wards: Any) -> Suggested:
    # At city scale the back-tested choice takes minutes: the spacing rule, at once.
    return suggest(_chosen, wards=_wards, tune=len(_chosen) < CITY_INCIDENTS)


@st.cache_resource(show_spinner="Finding hotspots ...", max_entries=16)
def _analyse(
    akey: str,
    eps: float | None,
    min_samples: int,
    method: str,
    _chosen: gpd.GeoDataFrame,
    _wards: gpd.GeoDataFrame | None,
    _patrols: gpd.GeoDataFrame | None,
) -> Analysis:
    return analyse(
        _chosen,
        wards=_wards,
        patrols=_patrols,
        eps=eps if method == "dbscan" else None,
        min_samples=min_samples,
        method=method,  # type: ignore[arg-type]
        run_backtest=False,  # _backtested: at once for a borough, on request for a city
    )


@st.cache_resource(show_spinner="Checking how well these hotspots predict ...", max_entries=16)
def _backtested(rkey: str, _analysis: Analysis) -> Analysis:
    return add_backtest(_analysis)


@st.cache_resource(show_spinner="Drawing the map ...", max_entries=8)
def _map(
    akey: str,
    tiles: str,
    attribution: str,
    title: str,
    synthetic: bool,
    shading: str,
    _analysis: Analysis,
    _chosen: gpd.GeoDataFrame,
    _map_kw: dict[str, Any],
) -> tuple[folium.Map, bool]:
    """The page's map (assets from static/vendor) and whether it has the drawing tool."""
    m = build_map(_analysis, _chosen, **_map_kw)
    return m, add_draw_tool(m)


@st.cache_resource(show_spinner="Comparing with the months before ...", max_entries=16)
def _compare(
    rkey: str,
    start: str,
    end: str,
    first_month: str | None,
    categories: tuple[str, ...],
    ward_names: tuple[str, ...],
    _incidents: gpd.GeoDataFrame,
    _wards: gpd.GeoDataFrame | None,
    _hotspots: gpd.GeoDataFrame,
) -> PeriodChange:
    """The chosen months against as many months before them (same crime types and wards)."""
    every = filter_incidents(_incidents, None, categories=list(categories))
    if _wards is not None and ward_names:
        every = select_wards(every, _wards, ward_names)
    return period_change(every, _hotspots, start=start, end=end, first_month=first_month)


def _headline(analysis: Analysis, change: PeriodChange | None) -> str:
    """The four numbers above the map; returns the sentence naming the settings used."""
    n, found = len(analysis.incidents), analysis.found
    c1, c2, c3, c4 = st.columns(4)
    delta = total_delta(change) if change is not None else None
    clear = delta is not None and not delta.startswith("no clear")
    c1.metric(
        "Incidents analysed",
        f"{n:,}",
        delta=delta,
        delta_color="inverse" if clear else "off",
        delta_arrow="auto" if clear else "off",
        help=TREND_HELP,
    )
    c2.metric("Hotspots", analysis.n_hotspots)
    c3.metric("Share in hotspots", f"{analysis.share_in_hotspots:.0%}")
    if analysis.uncovered is not None:
        c4.metric(
            "Hotspots no patrol area covers",
            f"{len(analysis.uncovered)}",
            help="None of their incidents is inside a patrol area; ringed on the map.",
        )
    else:
        top = analysis.hotspot_table.head(1)
        c4.metric(
            "Top hotspot",
            f"{top['hotspot_id'].iloc[0]}: {int(top['incidents'].iloc[0]):,}"
            if len(top)
            else "none",
            help="The densest hotspot and its incidents in the months chosen.",
        )
    distance = (
        f"neighbour distance {found.eps_m:.0f} m" if found.eps_m else "HDBSCAN's own distances"
    )
    return (
        f"Found with {distance} and at least {found.min_samples} incidents a dense spot "
        "(Advanced, in the sidebar)."
    )


def _pai_ground(analysis: Analysis) -> str:
    """The ground the PAI (how concentrated a hotspot is) is measured against, in words."""
    area = analysis.study_area
    ground = (
        "the ward boundaries given"
        if area.source == "boundary"
        else "the ground the incidents cover, with 100 m around it"
    )
    return f"Concentration (PAI) is measured against {area.area_km2:,.1f} km²: {ground}."


def _page_map(
    rkey: str, data: Data, settings: Choices, analysis: Analysis, chosen: gpd.GeoDataFrame
) -> dict[str, Any]:
    """The map (and the drawing tool); returns the map options the downloads reuse."""
    shade_column = WARD_SHADING[settings.shading]
    wards = shaded_wards(data.wards, analysis.ward_table, shade_column)
    map_kw: dict[str, Any] = {
        "wards": wards,
        "ward_shading": shade_column if wards is not data.wards else None,
        "patrols": data.patrols,
        "tiles": settings.tiles or None,
        "attribution": settings.attribution or None,
        "title": "Demo Borough" if data.synthetic else "Crime hotspots",
        "synthetic": data.synthetic,
        "uncovered": analysis.uncovered,
        "frame": data.frame,
    }
    drawing_ok = False
    try:
        m, drawing_ok = _map(
            rkey, settings.tiles, settings.attribution, map_kw["title"], data.synthetic,
            settings.shading, analysis, chosen, map_kw,
        )  # fmt: skip
    except InputError as exc:  # e.g. a bad tile URL or the map files not installed
        st.error(str(exc))
    else:
        show_map(copy.deepcopy(m), analysis)  # st_folium renames the map's elements
    if not drawing_ok:
        st.caption(
            "Drawing new patrol areas on the map needs the Leaflet.draw files, which this "
            "installation does not ship; upload a boundary file and save it into the store."
        )
    return map_kw


def _tabs(
    rkey: str,
    data: Data,
    settings: Choices,
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    map_kw: dict[str, Any],
    store: PatrolAreaStore,
    change: PeriodChange | None,
    deferred: bool = False,
) -> None:
    """The five views under the map (``deferred``: the back-test waits to be asked for)."""
    period = months_between(data.start, data.end)
    tab_deploy, tab_outreach, tab_briefing, tab_analysis, tab_pilot = st.tabs(
        [
            "Plan deployments",
            "Place outreach",
            "Prepare a briefing",
            "Analysis",
            "Evaluate an operation",
        ]
    )
    with tab_deploy:
        deployments(analysis, period, change, later=rkey if deferred else None)
        downloads(analysis, chosen, map_kw, data.report)
    with tab_outreach:
        outreach(analysis, period, data.patrols is not None)
    with tab_briefing:
        briefing(rkey, analysis, chosen, map_kw, period, (data.start, data.end))
    with tab_analysis:
        months = months_covered(data.incidents)
        analysis_tab(
            f"{data.fkey}|{data.wards_key}",
            chosen,
            data.wards,
            analysis.hotspot_table,
            settings.eps,
            analysis.found.method or settings.method,
            data_months=tuple(sorted(months)),
        )
    with tab_pilot:
        pilot_tab(data.inc_key, data.wards_key, data.incidents, data.wards, data.crime_types, store)
    with st.expander("How the data were read"):
        far = [data.far_line] if data.far_line else []
        lines = (
            data.report.lines(plain=True)
            + far
            + data.ward_notes
            + data.patrol_notes
            + analysis.notes
        )
        for line in lines:
            st.write(line)


def main() -> None:
    """The page, with a note in the main area while it is being worked out (a cold start
    reads and analyses for many seconds before the first map)."""
    # a tighter top margin, so that the map starts on the first screen at 1366 x 768
    st.html("<style>.stMainBlockContainer, .block-container {padding-top: 2rem;}</style>")
    st.title("Crime hotspots")
    st.caption(
        "Where crime concentrates, street by street: for planning patrols, placing outreach "
        "workers, briefing partners and judging whether an operation worked. Pick a job below "
        "the map; analysts will find the other methods under Analysis."
    )
    loading = st.empty()
    loading.info("Reading the data and finding the hotspots ...")
    try:
        _page()
    finally:
        loading.empty()


def _page() -> None:
    """The page: sidebar, headline numbers, map, views."""
    try:
        store = PatrolAreaStore(Settings.from_environment().store_path)
    except (InputError, ParameterError) as exc:  # e.g. HOTSPOTS_STORE not a .gpkg file
        st.error(f"The patrol-area store cannot be opened: {exc} (set HOTSPOTS_STORE).")
        return
    with st.sidebar:
        data = sidebar_data(store)
        filter_error = st.empty()
    if data.synthetic:
        st.warning(SAMPLE_NOTICE, icon="⚠️")
    if not data.crime_types:
        st.info("Choose at least one crime type in the sidebar.")
        return
    fkey = data.fkey
    try:
        chosen = _filtered(
            fkey, data.start, data.end, tuple(data.crime_types), tuple(data.ward_names),
            data.incidents, data.wards,
        )  # fmt: skip
        suggested = _suggest(fkey, chosen, data.wards)
    except InputError as exc:
        filter_error.error(str(exc))
        last = st.session_state.get("last_good")
        if last is None:
            return
        fkey, chosen, suggested = last["fkey"], last["chosen"], last["suggested"]
    with st.sidebar:
        settings = sidebar_settings(suggested)
    akey = f"{fkey}|{data.wards_key}|{data.patrols_key}"
    rkey = f"{akey}|{settings.eps}|{settings.min_samples}|{settings.method}"  # one analysis
    try:
        analysis = _analyse(
            akey, settings.eps, settings.min_samples, settings.method, chosen, data.wards,
            data.patrols,
        )  # fmt: skip
    except InputError as exc:
        settings.error_slot.error(str(exc))
        last = st.session_state.get("last_good")
        if last is None or "analysis" not in last:
            return
        chosen, analysis, rkey = last["chosen"], last["analysis"], last["rkey"]
    else:
        st.session_state["last_good"] = {
            "fkey": fkey, "chosen": chosen, "suggested": suggested, "analysis": analysis,
            "rkey": rkey,
        }  # fmt: skip
    deferred = len(chosen) >= CITY_INCIDENTS and not st.session_state.get(f"backtest|{rkey}")
    if not deferred:
        analysis = _backtested(rkey, analysis)
    change = None
    if data.start and data.end:
        months = months_covered(data.incidents)
        change = _compare(
            rkey, data.start, data.end, months[0] if months else None, tuple(data.crime_types),
            tuple(data.ward_names), data.incidents, data.wards, analysis.hotspots,
        )  # fmt: skip
    settings_used = _headline(analysis, change)
    st.caption(f"{settings_used} {_pai_ground(analysis)}")
    map_kw = _page_map(rkey, data, settings, analysis, chosen)
    save_drawn(store)
    _tabs(rkey, data, settings, analysis, chosen, map_kw, store, change, deferred)


main()
