"""The dashboard's pages, one per job: what each page shows, in which order.

``app.py`` is the table of contents (``st.navigation``); each file in ``ui/pages`` runs one of
the functions here on the run's :class:`~ui.context.Context`. The views themselves are in
``ui/views.py`` (map, deployments, outreach, briefing), ``ui/analysis.py`` and ``ui/pilot.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import folium
import geopandas as gpd
import streamlit as st

from hotspots import InputError
from hotspots.map_base import MapBase, map_base
from hotspots.period_change import PeriodChange
from hotspots.pipeline import Analysis
from hotspots.report.wording import months_text

from .analysis import analysis_tab
from .context import Context, current
from .helpers import (
    add_draw_tool,
    analysed_report,
    build_map,
    no_links,
    shaded_wards,
)
from .map_payload import MapPayload, component_available, map_payload
from .pilot import pilot_tab
from .printouts import briefing_view
from .sidebar import WARD_SHADING
from .trend import TREND_HELP, change_text, span_name, total_delta
from .views import (
    deployments,
    downloads,
    forecast_check,
    outreach,
    save_drawn,
    show_map,
)

__all__ = [
    "JOBS",
    "PAGES",
    "analysis_page",
    "briefing_page",
    "evaluate_page",
    "outreach_headline",
    "outreach_page",
    "overview_page",
    "plan_headline",
    "plan_page",
]

#: The pages: (file under ui/pages, title, icon, what it is for, in one line).
PAGES: list[tuple[str, str, str, str]] = [
    ("ui/pages/overview.py", "Overview", ":material/home:", ""),
    (
        "ui/pages/plan.py",
        "Plan deployments",
        ":material/local_police:",
        "Where the hotspots are, how big, rising or falling.",
    ),
    (
        "ui/pages/outreach.py",
        "Place outreach",
        ":material/directions_walk:",
        "Streets to visit, and hotspots no patrol covers.",
    ),
    (
        "ui/pages/briefing.py",
        "Prepare a briefing",
        ":material/description:",
        "A map and numbers to print, small counts withheld.",
    ),
    (
        "ui/pages/evaluate.py",
        "Evaluate an operation",
        ":material/fact_check:",
        "An honest before-and-after for a pilot area.",
    ),
    (
        "ui/pages/analysis.py",
        "Analysis",
        ":material/analytics:",
        "For analysts: other methods (density, hot-spot statistics, change) and the details.",
    ),
]
#: The four jobs the overview offers (the pages after it, Analysis aside).
JOBS = PAGES[1:5]


# ------------------------------------------------------------------------------------------
# The map, shared by the overview, deployments and outreach pages


@st.cache_resource(show_spinner=False, max_entries=8)
def _map_base(
    fkey: str, _chosen: gpd.GeoDataFrame, _wards: gpd.GeoDataFrame | None, _rows: MapBase
) -> MapBase:
    """The map's heat points, ward and street names: one per filter, whatever the slider
    (the heat points and street names of ``_rows``, kept whatever the wards)."""
    return map_base(_chosen, _wards, reuse=_rows)


@st.cache_resource(show_spinner=False, max_entries=8)
def _rows_base(rows_key: str, _chosen: gpd.GeoDataFrame) -> MapBase:
    """The heat points and street names of the filtered incidents (Data.rows_key): a city's
    wards loaded or changed do not work them out again."""
    return map_base(_chosen)


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
    _base: MapBase,
) -> tuple[MapPayload | folium.Map, bool]:
    """The page's map (assets from static/vendor), rendered once for the browser where this
    streamlit-folium allows it, and whether it has the drawing tool."""
    m = build_map(_analysis, _chosen, base=_base, **_map_kw)
    drawing = add_draw_tool(m)
    return (map_payload(m) if component_available() else m), drawing


def map_options(ctx: Context) -> dict[str, Any]:
    """The map's layers and settings (the downloads and the briefing reuse them)."""
    data, analysis, settings = ctx.data, ctx.analysis, ctx.settings
    assert analysis is not None and settings is not None
    shade_column = WARD_SHADING[settings.shading]
    wards = shaded_wards(data.analysed_wards, analysis.ward_table, shade_column)
    return {
        "wards": wards,
        "ward_shading": shade_column if wards is not data.analysed_wards else None,
        "patrols": data.patrols,
        "tiles": settings.tiles or None,
        "attribution": settings.attribution or None,
        "title": f"{'Demo Borough' if data.synthetic else 'Crime hotspots'}, "
        f"{months_text(data.start, data.end)}",
        "synthetic": data.synthetic,
        "uncovered": analysis.uncovered,
        "frame": data.map_frame,
    }


def _map_section(ctx: Context, height: int = 560) -> None:
    """The map (``height`` pixels; with the drawing tool where it is installed) and the
    drawn-area dialog."""
    analysis, settings, chosen = ctx.analysis, ctx.settings, ctx.chosen
    assert analysis is not None and settings is not None and chosen is not None
    map_kw = map_options(ctx)
    drawing_ok, map_ok = False, False
    try:
        m, drawing_ok = _map(
            ctx.rkey, settings.tiles, settings.attribution, map_kw["title"], ctx.data.synthetic,
            settings.shading, analysis, chosen, map_kw,
            _map_base(
                ctx.fkey, chosen, ctx.data.analysed_wards, _rows_base(ctx.data.rows_key, chosen)
            ),
        )  # fmt: skip
    except InputError as exc:  # e.g. the map files not installed
        st.error(no_links(str(exc)))
    else:
        # st_folium renames the map's elements: it gets a copy of the shared map
        show_map(m if isinstance(m, MapPayload) else copy.deepcopy(m), analysis, height=height)
        map_ok = True
    if not drawing_ok and map_ok:
        st.caption(
            "Drawing new patrol areas on the map needs the Leaflet.draw files, which this "
            "installation does not ship; upload a boundary file and save it into the store."
        )
    save_drawn(ctx.store)


# ------------------------------------------------------------------------------------------
# Headlines in words


def _top_street(row: Any) -> str:
    """The hotspot's busiest street, or "" (``top_locations`` holds (street, count) pairs)."""
    places = row.get("top_locations")
    if isinstance(places, list | tuple) and places:
        first = places[0]
        return str(first[0] if isinstance(first, list | tuple) else first)
    return ""


def plan_headline(analysis: Analysis, change: PeriodChange | None) -> str:
    """ "Top hotspot: H001 around High Street, 412 incidents; ▲ up 18% on Apr–Jun 2024 (...)"."""
    table = analysis.hotspot_table
    if len(table) == 0:
        return "No hotspots with these settings."
    row = table.iloc[0]
    hid, street = str(row["hotspot_id"]), _top_street(row)
    where = f"{hid} around {street}" if street else hid
    text = f"Top hotspot: {where}, {int(row['incidents']):,} incidents"
    if change is not None and change.previous is not None:
        rows = change.table.loc[change.table["hotspot_id"] == hid].to_dict("records")
        if rows:
            c = rows[0]
            now, before = int(c["now"]), int(c["before"])
            words = change_text(
                float(c["change"]), float(c["low"]), float(c["high"]), bool(c["clear"])
            )
            text += (
                f"; inside its outline {now:,} against {before:,} in "
                f"{span_name(change.previous)}: {words}"
            )
    return text + "."


def outreach_headline(analysis: Analysis) -> str:
    """How many hotspots no patrol area covers, and the busiest street among them."""
    uncovered = analysis.uncovered
    if uncovered is None:
        return "Choose patrol areas in the sidebar to see which hotspots none of them covers."
    n = len(uncovered)
    if analysis.n_hotspots == 0:
        return "No hotspots with these settings."
    if n == 0:
        return "Every hotspot has incidents inside a patrol area."
    streets = analysis.streets
    mine = streets[streets["hotspot_id"].isin(uncovered["hotspot_id"])]
    text = f"{n} hotspot{'s' if n != 1 else ''} no patrol area covers"
    if len(mine):
        top = mine.sort_values("incidents", ascending=False, kind="stable").iloc[0]
        text += (
            f"; the busiest street among them: {top['street']} "
            f"({int(top['incidents']):,} incidents, {top['hotspot_id']})"
        )
    return text + "."


def _overview_numbers(analysis: Analysis, change: PeriodChange | None) -> None:
    """The four numbers above the map."""
    n = len(analysis.incidents)
    c1, c2, c3, c4 = st.columns(4)
    delta = total_delta(change) if change is not None else None
    clear = delta is not None and delta[0] != "no clear change"
    # the badge holds the change alone (the months cut it short); its help names them
    c1.metric(
        "Incidents analysed",
        f"{n:,}",
        delta=None if delta is None else delta[0],
        delta_color="inverse" if clear else "off",
        delta_arrow="auto" if clear else "off",
        help=TREND_HELP + (f" Here: {delta[1]}." if delta else ""),
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


def _settings_caption(analysis: Analysis) -> str:
    """The settings used and the ground the PAI is measured against, in words (with a ward
    filter: the wards chosen, :attr:`ui.sidebar.Data.analysed_wards`)."""
    found = analysis.found
    distance = (
        f"neighbour distance {found.eps_m:.0f} m" if found.eps_m else "HDBSCAN's own distances"
    )
    area = analysis.study_area
    wards = analysis.wards
    ground = (
        ("the ward boundaries given" if wards is None or len(wards) != 1 else "the ward chosen")
        if area.source == "boundary"
        else "the ground the incidents cover, with 100 m around it"
    )
    return (
        f"Found with {distance} and at least {found.min_samples} incidents a dense spot "
        f"(Advanced, in the sidebar). Concentration (PAI) is measured against "
        f"{area.area_km2:,.1f} km²: {ground}."
    )


def _data_notes(ctx: Context) -> None:
    """How the data were read: every row used or counted under a named reason."""
    data = ctx.data
    with st.expander("How the data were read"):
        far = [data.far_line] if data.far_line else []
        notes = ctx.analysis.notes if ctx.analysis is not None else []
        for line in data.report.lines(plain=True) + far + data.ward_notes + data.patrol_notes:
            st.write(no_links(line))
        for line in notes:
            st.write(no_links(line))


def _ready(ctx: Context | None) -> Context | None:
    """The context when there is an analysis to show (else the reason is on screen already)."""
    if ctx is None or ctx.analysis is None or ctx.chosen is None or ctx.settings is None:
        return None
    return ctx


# ------------------------------------------------------------------------------------------
# The pages


def overview_page() -> None:
    """The landing page: what the dashboard does, the four jobs, the numbers and the map."""
    st.caption(
        "Where crime concentrates, street by street, for police and council to plan patrols, "
        "place outreach workers, brief partners and judge operations. Pick a job:"
    )
    cards = st.columns(len(JOBS))
    for card, (path, title, icon, line) in zip(cards, JOBS, strict=True):
        with card:
            st.page_link(path, label=title, icon=icon, help=line)
    ctx = _ready(current())
    if ctx is None:
        return
    assert ctx.analysis is not None
    _overview_numbers(ctx.analysis, ctx.change)
    _map_section(ctx, height=520)
    st.caption(_settings_caption(ctx.analysis))
    _data_notes(ctx)


def plan_page() -> None:
    """The commander's page: the top hotspot in words, the map, the ranked hotspots."""
    ctx = _ready(current())
    if ctx is None:
        return
    assert ctx.analysis is not None and ctx.chosen is not None
    st.markdown(f"**{no_links(plan_headline(ctx.analysis, ctx.change))}**")
    _map_section(ctx)
    deployments(ctx.analysis, ctx.period, ctx.change)
    full = ctx.backtested()  # last: the page above shows while the back-test runs
    assert full is not None
    forecast_check(
        full,
        ctx.rkey if ctx.deferred else None,
        chosen_here=ctx.settings is not None and ctx.settings.chosen_by_backtest,
    )
    data, chosen = ctx.data, ctx.chosen
    filters = (data.start, data.end, data.crime_types)
    downloads(  # the filters counted again only when summary.json is asked for
        full,
        chosen,
        map_options(ctx),
        lambda: analysed_report(data.report, data.incidents, filters, len(chosen)),
    )


def outreach_page() -> None:
    """The coordinator's page: uncovered hotspots, the map to draw on, streets to visit."""
    ctx = _ready(current())
    if ctx is None:
        return
    assert ctx.analysis is not None
    st.markdown(f"**{no_links(outreach_headline(ctx.analysis))}**")
    _map_section(ctx)
    data = ctx.data
    outreach(
        ctx.analysis,
        ctx.period,
        data.patrols is not None,
        months=(data.start, data.end),
        crime_types=data.crime_types,
        ward_names=data.ward_names,
        synthetic=data.synthetic,
        akey=ctx.rkey,
    )


def briefing_page() -> None:
    """The council officer's page: the briefing's preview and its file."""
    ctx = _ready(current())
    if ctx is None:
        return
    assert ctx.analysis is not None and ctx.chosen is not None
    data = ctx.data
    briefing_view(
        ctx.rkey,
        ctx.analysis,
        ctx.chosen,
        map_options(ctx),
        ctx.period,
        (data.start, data.end),
        crime_types=data.crime_types,
        ward_names=data.ward_names,
    )


def analysis_page() -> None:
    """The analyst's page: other methods, and how the data were read."""
    ctx = _ready(current())
    if ctx is None:
        return
    assert ctx.analysis is not None and ctx.chosen is not None and ctx.settings is not None
    data = ctx.data
    st.caption(_settings_caption(ctx.analysis))
    analysis_tab(
        f"{data.fkey}|{data.wards_key}",
        ctx.chosen,
        data.analysed_wards,
        ctx.analysis.hotspot_table,
        ctx.settings.eps,
        ctx.analysis.found.method or ctx.settings.method,
        data_months=data.months,
    )
    _data_notes(ctx)


def evaluate_page() -> None:
    """The pilot evaluation: before and after, against a comparison area."""
    ctx = current()
    if ctx is None:
        return
    data = ctx.data
    pilot_tab(data.inc_key, data.wards_key, data.incidents, data.wards, data.crime_types, ctx.store)
