"""The Analysis page: DBSCAN / HDBSCAN footprints, KDE, Gi*, change and emerging hot spots.

Every computation is a cached call into hotspots/, keyed on the app's data keys and the
parameters; maps are folium GeoJson layers whose scripts come from static/vendor.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from shapely.geometry import box

from hotspots import InputError
from hotspots.assets import local_assets
from hotspots.change import Window
from hotspots.crs import to_wgs84
from hotspots.filter import months_covered
from hotspots.harm import HARM_SOURCE
from hotspots.map_layers import (
    cell_features,
    display_layer,
    reference_geojson,
    styled_layer_bytes,
)
from hotspots.methods import (
    ChangeAnalysis,
    EmergingAnalysis,
    GiAnalysis,
    KdeAnalysis,
    analyse_change,
    analyse_emerging,
    analyse_gi,
    analyse_kde,
)
from hotspots.pipeline import analyse
from hotspots.significance import CLASSES, LEFT_OUT
from hotspots.web import CELL_LAYER_BYTES, MAP_PAGE_BYTES, WEB_MAX_BYTES

from .harm_table import Weights, harm_key, harm_table
from .helpers import STATIC_URL, no_links
from .tables import show_table

METHODS = ["DBSCAN / HDBSCAN footprints", "KDE", "Gi*", "Change"]
#: The change map's colours: clear changes dark, changes within chance pale.
CHANGE_COLOURS = {
    "clearly more": "#b10026",
    "more": "#fcae91",
    "clearly fewer": "#2166ac",
    "fewer": "#9ecae1",
}
BAND_COLOURS = ["#b10026", "#fc4e2a", "#feb24c", "#ffeda0", "#ffffcc"]
CLASS_COLOURS = {
    "hot 99%": "#b10026",
    "hot 95%": "#fc4e2a",
    "hot 90%": "#feb24c",
    "cold 90%": "#9ecae1",
    "cold 95%": "#4292c6",
    "cold 99%": "#08519c",
}

# ------------------------------------------------------------------------------------------
# Cached calls into the library


def _table(weights: Weights | None) -> dict[str, float] | None:
    return None if weights is None else dict(weights)


@st.cache_data(show_spinner="Finding harm-weighted hotspots ...", max_entries=8)
def _harm_footprints(
    akey: str, eps: float | None, method: str, weights: Weights, _inc: gpd.GeoDataFrame, _wards: Any
) -> pd.DataFrame:
    return analyse(
        _inc,
        wards=_wards,
        eps=eps if method == "dbscan" else None,
        method=method,  # type: ignore[arg-type]
        harm=dict(weights),
    ).hotspot_table


@st.cache_data(show_spinner="Estimating the density ...", max_entries=8)
def _kde(
    akey: str,
    weights: Weights | None,
    cell: float | None,
    bandwidth: float | None,
    share: float,
    _inc: gpd.GeoDataFrame,
    _wards: Any,
) -> KdeAnalysis:
    return analyse_kde(
        _inc,
        wards=_wards,
        cell_size=cell,
        bandwidth=bandwidth,
        area_share=share,
        harm=_table(weights),
    )


def _units(cell: float, wards: Any) -> dict[str, Any]:
    """The grid options of :mod:`hotspots.methods` for a cell size (-1: the wards)."""
    return {"wards": wards, "by_ward": cell < 0, "cell_size": cell if cell > 0 else 250.0}


@st.cache_data(show_spinner="Computing Gi* ...", max_entries=8)
def _gi(
    akey: str,
    weights: Weights | None,
    cell: float,
    fdr: bool,
    _inc: gpd.GeoDataFrame,
    _wards: Any,
    permutations: int = 0,
) -> GiAnalysis:
    return analyse_gi(
        _inc, fdr=fdr, harm=_table(weights), permutations=permutations, **_units(cell, _wards)
    )


@st.cache_data(show_spinner="Comparing the periods ...", max_entries=8)
def _compare(
    akey: str,
    weights: Weights | None,
    cell: float,
    before: tuple[str, str],
    after: tuple[str, str],
    _inc: gpd.GeoDataFrame,
    _wards: Any,
    data_months: tuple[str, ...] | None = None,
) -> ChangeAnalysis:
    return analyse_change(
        _inc,
        before=before,
        after=after,
        harm=_table(weights),
        data_months=data_months,
        **_units(cell, _wards),
    )


@st.cache_data(show_spinner="Finding emerging hot spots ...", max_entries=8)
def _emerging(
    akey: str,
    weights: Weights | None,
    cell: float,
    period: int,
    _inc: gpd.GeoDataFrame,
    _wards: Any,
    data_months: tuple[str, ...] | None = None,
    window: Window = "entire",
) -> EmergingAnalysis:
    return analyse_emerging(
        _inc,
        period_months=period,
        harm=_table(weights),
        data_months=data_months,
        window=window,
        **_units(cell, _wards),
    )


# ------------------------------------------------------------------------------------------
# Maps


WARD_STYLE = {"color": "#555555", "weight": 1, "fill": False, "opacity": 0.8}


def cells_map(
    frame: gpd.GeoDataFrame,
    colour: pd.Series,
    tips: pd.Series,
    wards: gpd.GeoDataFrame | None = None,
) -> tuple[folium.Map, int]:
    """A folium map of polygons coloured by ``colour``, tooltips escaped, assets local; and how
    many of the polygons it draws.

    The first polygons whose features fit in :data:`hotspots.web.CELL_LAYER_BYTES` are drawn
    (give them in the order they matter; :func:`hotspots.map_layers.cell_features`), so the
    page stays under 2 MB at any number of cells. ``wards`` (any CRS) are drawn over the
    cells as thin grey outlines without fill, simplified to fit their share of the page, so
    only their edges take the pointer (the ward's escaped name as a tooltip) and the cells
    below keep theirs. The map fits all the cells (the wards when there are no cells).
    """
    ward_data = None
    budget = CELL_LAYER_BYTES
    if wards is not None and len(wards):
        ward_data = reference_geojson(display_layer(wards, "wards"), WARD_STYLE)
        # what the wards take beyond their share (a city's hundreds may, even simplified)
        ward_bytes = styled_layer_bytes(ward_data)
        budget = min(budget, WEB_MAX_BYTES - MAP_PAGE_BYTES - ward_bytes)
    features = cell_features(frame, list(colour), [str(t) for t in tips], max(budget, 0))
    extent = frame if len(frame) or wards is None else wards
    m = folium.Map(tiles=None, control_scale=True)
    if len(extent):
        x0, y0, x1, y1 = to_wgs84(
            gpd.GeoDataFrame(geometry=[box(*extent.total_bounds)], crs=extent.crs)
        ).total_bounds
        m.fit_bounds([[y0, x0], [y1, x1]])
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name="Cells",
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "color": f["properties"]["colour"],
                "weight": 0.5,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(m)
    if ward_data is not None:
        folium.GeoJson(
            ward_data,
            name="Wards",
            style_function=lambda f: f["properties"]["style"],
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False, sticky=True),
        ).add_to(m)
    local_assets(m, mode="static", static_url=STATIC_URL)
    return m, len(features)


def _show(
    frame: gpd.GeoDataFrame,
    colour: pd.Series,
    tips: pd.Series,
    key: str,
    wards: Any,
    order: str = "in the table's order",
) -> None:
    """The map of ``frame`` (see :func:`cells_map`), saying when it draws only the first
    polygons (``order``: what comes first, in words)."""
    from streamlit_folium import st_folium

    ward_frame = wards if isinstance(wards, gpd.GeoDataFrame) else None
    try:
        m, drawn = cells_map(frame, colour, tips, ward_frame)
    except (InputError, ValueError) as exc:
        st.error(no_links(str(exc)))
        return
    if drawn < len(frame):
        st.caption(
            f"The map draws {drawn:,} of the {len(frame):,} cells, {order}: all of them would "
            "be too much for the browser. A larger cell size draws more of the ground."
        )
    st_folium(m, key=key, height=480, use_container_width=True, returned_objects=[])


# ------------------------------------------------------------------------------------------
# Analysis tab


def analysis_tab(
    akey: str,
    chosen: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None,
    footprints: pd.DataFrame,
    eps: float,
    method: str,
    data_months: tuple[str, ...] | None = None,
) -> None:
    """The Analysis page; ``data_months``: the months the loaded data cover, before filters."""
    pick = st.radio("Analysis method", METHODS, horizontal=True, key="an_method")
    harm = st.checkbox("Weight by harm", key="an_harm", help=HARM_SOURCE)
    weights: Weights | None = None
    if harm:
        table = harm_table()
        weights = tuple(table.items())
        akey = f"{akey}|harm:{harm_key(table)}"  # every cached call below is keyed on it
    try:
        if pick == METHODS[0]:
            _footprints(akey, weights, chosen, wards, footprints, eps, method)
        elif pick == "KDE":
            _kde_view(akey, weights, chosen, wards)
        elif pick == "Gi*":
            _gi_view(akey, weights, chosen, wards)
        else:
            _change_view(akey, weights, chosen, wards, data_months)
    except InputError as exc:
        st.error(no_links(str(exc)))


def _notes(notes: list[str]) -> None:
    for note in notes:
        st.caption(no_links(note))


def _footprints(
    akey: str,
    weights: Weights | None,
    inc: gpd.GeoDataFrame,
    wards: Any,
    footprints: pd.DataFrame,
    eps: float,
    method: str,
) -> None:
    st.caption(
        f"{method.upper()} footprints with the sidebar's settings: the hotspots of the "
        "Overview's map and the Plan deployments page."
    )
    table = footprints
    if weights is not None:
        table = _harm_footprints(akey, float(eps), method, weights, inc, wards)
        st.caption(
            "Ranked by harm; the minimum count for a dense spot is suggested for the weighted "
            "incidents."
        )
    st.metric("Footprints", len(table))
    show_table(table)


def _kde_view(akey: str, weights: Weights | None, inc: gpd.GeoDataFrame, wards: Any) -> None:
    auto = _kde(akey, weights, None, None, 0.05, inc, wards).result
    c1, c2, c3 = st.columns(3)
    # the defaults as the command line uses them (not rounded), whatever the area's size
    cell = c1.number_input(
        "Cell size (m)", 1.0, max(1000.0, auto.cell_size), float(auto.cell_size), 1.0, "%.0f",
        key="kde_cell",
    )  # fmt: skip
    bandwidth = c2.number_input(
        "Bandwidth (m)", 1.0, max(5000.0, auto.bandwidth), float(auto.bandwidth), 10.0, "%.0f",
        key="kde_bw",
    )  # fmt: skip
    share = c3.slider("Top area (%)", 1, 20, 5, key="kde_share") / 100
    for name, s in auto.suggestions.items():
        st.caption(f"Default {name} {float(s.value):.0f} m: {s.reason}")
    found = _kde(akey, weights, float(cell), float(bandwidth), share, inc, wards)
    bands = found.bands
    _notes(found.notes)
    c1, c2, c3 = st.columns(3)
    c1.metric("KDE bands", len(bands))
    c2.metric(f"Cells in the top {share:.0%}", len(found.top))
    c3.metric(
        "They hold",
        f"{found.held:.0%}",
        help="The share of the incidents (or harm) counted in those cells; the smoothed "
        f"surface estimated {found.captured:.0%}.",
    )
    colours = pd.Series(BAND_COLOURS[: len(bands)], index=bands.index)
    tips = bands["band"] + " of the area: " + bands["min_density_km2"].round(0).astype(str)
    tips = tips + " to " + bands["max_density_km2"].round(0).astype(str) + " per km²"
    _show(bands, colours, tips, "map_kde", wards, order="the densest first")
    show_table(pd.DataFrame(bands.drop(columns="geometry")))


def _cell_choice(wards: Any, key: str) -> float:
    """Grid cells (a size chooser) or, when wards are loaded and chosen, the wards themselves:
    the cell size, or -1 for the wards."""
    if isinstance(wards, gpd.GeoDataFrame) and len(wards) >= 3:
        units = st.radio("Cells", ["Grid", "Wards"], horizontal=True, key=f"{key}_units")
        if units == "Wards":
            st.caption(
                "Each ward is one cell: fine for briefing members ward by ward, too coarse to "
                "place patrols (a busy street is averaged over its whole ward)."
            )
            return -1.0
    cell = float(st.number_input("Cell size (m)", 50, 2000, 250, step=50, key=key))
    st.caption(
        "Grid over the wards (else the incidents' hull); 250 m cells: about a street block "
        "group, fine enough for patrols yet holding enough incidents per cell to test."
    )
    return cell


def _gi_view(akey: str, weights: Weights | None, inc: gpd.GeoDataFrame, wards: Any) -> None:
    c1, c2 = st.columns(2)
    with c1:
        cell = _cell_choice(wards, "gi_cell")
    fdr = c2.checkbox("FDR correction (Benjamini-Hochberg)", value=True, key="gi_fdr")
    permute = c2.checkbox(
        "Permutation p-values (999 draws)",
        value=False,
        key="gi_permutations",
        help="Conditional randomisation, as esda: better than the normal approximation when "
        "most cells hold 0 or 1 incidents.",
    )
    found = _gi(akey, weights, cell, fdr, inc, wards, 999 if permute else 0)
    gi = found.cells
    counts = pd.Series(found.class_counts()).reindex([*CLASSES, LEFT_OUT], fill_value=0)
    table = counts.rename_axis("class").reset_index(name="cells")
    st.metric("Hot cells", int(table.loc[table["class"].str.startswith("hot"), "cells"].sum()))
    significant = gi["hotspot_class"].isin(CLASSES) & (gi["hotspot_class"] != "not significant")
    shown = gi[significant]
    shown = shown.iloc[np.argsort(-shown["z"].abs().to_numpy(), kind="stable")]
    colours = shown["hotspot_class"].map(CLASS_COLOURS)
    tips = shown["hotspot_class"] + ": " + shown["incidents"].astype(int).astype(str)
    tips = tips + " incidents, z " + shown["z"].round(2).astype(str)
    if "ward_name" in shown.columns:
        tips = shown["ward_name"].astype(str) + ", " + tips
    _show(shown, colours, tips, "map_gi", wards, order="the most significant first")
    show_table(table)
    _notes(found.notes)


def _change_view(
    akey: str,
    weights: Weights | None,
    inc: gpd.GeoDataFrame,
    wards: Any,
    data_months: tuple[str, ...] | None = None,
) -> None:
    months = months_covered(inc)
    if len(months) < 2:
        st.info("Change needs at least two months: widen the month filter.")
        return
    half = len(months) // 2
    cell = _cell_choice(wards, "ch_cell")
    c1, c2 = st.columns(2)
    before = c1.select_slider(
        "Before", options=months, value=(months[0], months[half - 1]), key="ch_before"
    )
    after = c2.select_slider(
        "After", options=months, value=(months[half], months[-1]), key="ch_after"
    )
    span_before, span_after = (str(before[0]), str(before[1])), (str(after[0]), str(after[1]))
    change = _compare(akey, weights, cell, span_before, span_after, inc, wards, data_months)
    cmp = change.cells
    moved = _clear_first(cmp[cmp["change"] != 0])
    tips = "before " + moved["before"].round(0).astype(str) + ", after "
    tips = tips + moved["after"].round(0).astype(str) + ": " + moved["change_words"]
    st.subheader("Before and after")
    tested = weights is None  # harm-weighted sums are not counts: no interval
    colours_said = (
        "Dark red: clearly more after; dark blue: clearly fewer; pale: a change within chance. "
        "Each change of the monthly rate comes with its exact 95% interval (in words): “no "
        "clear change” when it includes none"
        if tested
        else "Red: more harm after; blue: less (harm-weighted sums have no interval: no cell's "
        "change is tested)"
    )
    st.caption(
        f"{'; '.join(change.notes)}. {colours_said}. Over every cell: {change.total_change()}."
    )
    _show(
        moved, _change_colours(moved, tested), tips, "map_change", wards,
        order="the clear changes first, then the largest" if tested else "the largest first",
    )  # fmt: skip
    biggest = cmp.reindex(cmp["change"].abs().sort_values(ascending=False).index).head(20)
    # the grid's own positions (row, col, x, y) say nothing to a reader: the map shows where
    shown = biggest.drop(columns=["geometry", "row", "col", "x", "y"], errors="ignore")
    show_table(pd.DataFrame(shown))
    _emerging_view(akey, weights, cell, inc, wards, data_months)


def _clear_first(moved: pd.DataFrame) -> pd.DataFrame:
    """Cells with a clear change first (the 95% interval of the rate change excludes none),
    then the rest, each by the size of the change (then in the order given: grid cells or
    wards)."""
    clear = (moved["change_low_pct"] > 0) | (moved["change_high_pct"] < 0)
    order = np.lexsort((np.arange(len(moved)), -moved["change"].abs(), ~clear.to_numpy()))
    return moved.iloc[order]


def _change_colours(moved: pd.DataFrame, tested: bool = True) -> pd.Series:
    """Red for more after, blue for fewer; dark when the change is clear, pale when within
    chance; all dark when the changes are not ``tested`` (harm-weighted: no interval)."""
    if not tested:
        up, down = moved["change"] > 0, moved["change"] < 0
    else:
        up, down = moved["change_low_pct"] > 0, moved["change_high_pct"] < 0
    pale = np.where(moved["change"] > 0, CHANGE_COLOURS["more"], CHANGE_COLOURS["fewer"])
    colours = np.where(up, CHANGE_COLOURS["clearly more"], pale)
    colours = np.where(down, CHANGE_COLOURS["clearly fewer"], colours)
    return pd.Series(colours, index=moved.index)


def _emerging_view(
    akey: str,
    weights: Weights | None,
    cell: float,
    inc: gpd.GeoDataFrame,
    wards: Any,
    data_months: tuple[str, ...] | None,
) -> None:
    st.subheader("Emerging hot spots")
    c1, c2 = st.columns(2)
    period = int(c1.number_input("Period length (months)", 1, 12, 3, key="ch_period"))
    windows: dict[str, Window] = {"Whole period (all cells, all periods)": "entire"}
    windows["Each period on its own"] = "each"
    label = c2.radio(
        "Compare each cell with",
        list(windows),
        key="ch_window",
        help="Whole period: a cell is hot against every cell in every period (ArcGIS's "
        "default), so rising counts make it hotter. Each period: against the other cells of "
        "the same period only.",
    )
    try:
        found = _emerging(akey, weights, cell, period, inc, wards, data_months, windows[str(label)])
    except InputError as exc:  # next to the period control
        st.error(no_links(str(exc)))
        return
    _notes(found.notes)
    st.caption(
        "Patterns by the ArcGIS Pro 3.x definitions. Beside each, the Mann-Kendall trend of the "
        "cells' counts (p <= 0.05): a pattern whose counts show no clear trend is a statement "
        "about Gi* z-scores, not about more or fewer incidents."
    )
    show_table(found.pattern_table())
    em = found.cells
    shown = em[~em["pattern"].isin(["no pattern", LEFT_OUT])]
    shown = shown.iloc[np.argsort(-shown["incidents"].to_numpy(), kind="stable")]
    colours = pd.Series(
        ["#b10026" if "hot" in p else "#2166ac" for p in shown["pattern"]], index=shown.index
    )
    tips = shown["pattern"] + "; counts " + shown["count_trend"]
    _show(shown, colours, tips, "map_emerging", wards, order="the busiest first")
    cols = ["pattern", "count_trend", "series", "incidents", "count_trend_z", "count_trend_p"]
    cols.append("trend_p")
    show_table(pd.DataFrame(shown[cols]))
