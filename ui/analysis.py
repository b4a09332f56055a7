"""The Analysis tab (DBSCAN / HDBSCAN, KDE, Gi*, change) and the Evaluate-a-pilot tab.

Every computation is a cached call into hotspots/, keyed on the app's data keys and the
parameters; maps are folium GeoJson layers whose scripts come from static/vendor.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Mapping
from typing import Any

import altair as alt
import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry import LineString

from geodata import SAMPLE_DIR
from geodata.store import PatrolAreaStore
from hotspots import InputError, to_wgs84
from hotspots.assets import local_assets
from hotspots.errors import InputFileError, ParameterError
from hotspots.harm import DEFAULT_HARM_WEIGHTS, HARM_SOURCE, parse_harm_weights
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
from hotspots.pilot import PilotResult, evaluate_pilot
from hotspots.pipeline import analyse
from hotspots.report.pilot_page import pilot_report_html
from hotspots.report.pilot_text import pilot_record, pilot_summary, wdq_sentence
from hotspots.significance import CLASSES

from .helpers import DEMO, LAYER_TYPES, STATIC_URL, digest, read_uploaded_layer, table_csv
from .helpers import uploaded_files as _uploaded

METHODS = ["DBSCAN / HDBSCAN footprints", "KDE", "Gi*", "Change"]
BAND_COLOURS = ["#b10026", "#fc4e2a", "#feb24c", "#ffeda0", "#ffffcc"]
CLASS_COLOURS = {
    "hot 99%": "#b10026",
    "hot 95%": "#fc4e2a",
    "hot 90%": "#feb24c",
    "cold 90%": "#9ecae1",
    "cold 95%": "#4292c6",
    "cold 99%": "#08519c",
}
CORRIDOR = "St James Street corridor (demo)"

# ------------------------------------------------------------------------------------------
# Cached calls into the library


Weights = tuple[tuple[str, float], ...]


def harm_key(weights: Mapping[str, float]) -> str:
    """A short digest of a harm table, part of every cached analysis key when weighting."""
    items = sorted((str(k), float(v)) for k, v in weights.items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:12]


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
    akey: str, weights: Weights | None, cell: float, fdr: bool, _inc: gpd.GeoDataFrame, _wards: Any
) -> GiAnalysis:
    return analyse_gi(_inc, fdr=fdr, harm=_table(weights), **_units(cell, _wards))


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
) -> EmergingAnalysis:
    return analyse_emerging(
        _inc,
        period_months=period,
        harm=_table(weights),
        data_months=data_months,
        **_units(cell, _wards),
    )


@st.cache_data(show_spinner="Evaluating the pilot ...", max_entries=8)
def _pilot(
    inc_key: str,
    target_key: str,
    control_key: str,
    wards_key: str,
    start: str,
    end: str,
    buffer_m: float,
    categories: tuple[str, ...],
    _incidents: gpd.GeoDataFrame,
    _target: Any,
    _control: Any,
    _wards: Any,
) -> PilotResult:
    return evaluate_pilot(
        _incidents,
        target=_target,
        start=start,
        end=end,
        buffer_m=buffer_m,
        control=_control,
        categories=list(categories) or None,
        study_area=_wards,
    )


@st.cache_data(max_entries=2)
def corridor_target(crs: str) -> gpd.GeoSeries:
    """The demo's St James Street corridor, built from truth.json as the notebook does."""
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    line = gpd.GeoSeries([LineString(truth["corridor"]["line_lonlat"])], crs="EPSG:4326")
    return line.to_crs(crs).buffer(truth["corridor"]["width_m"])


# ------------------------------------------------------------------------------------------
# Maps


WARD_STYLE = {"color": "#555555", "weight": 1, "fill": False, "opacity": 0.8}


def _ward_names(wards: gpd.GeoDataFrame) -> list[str]:
    """Each ward's name (``ward_name``, else a name-like text column), HTML-escaped."""
    names = [c for c in ("ward_name", "name", "WD24NM") if c in wards.columns]
    if not names:
        return ["" for _ in range(len(wards))]
    return [html.escape(str(v)) if pd.notna(v) else "" for v in wards[names[0]]]


def cells_map(
    frame: gpd.GeoDataFrame,
    colour: pd.Series,
    tips: pd.Series,
    wards: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """A folium map of polygons coloured by ``colour``, tooltips escaped, assets local.

    ``wards`` (any CRS) are drawn over the cells as thin grey outlines without fill, so only
    their edges take the pointer (the ward's escaped name as a tooltip) and the cells below
    keep theirs. The map fits the cells (the wards when there are no cells).
    """
    wgs = to_wgs84(gpd.GeoDataFrame({"colour": colour, "tip": tips}, geometry=frame.geometry))
    wgs["tip"] = [html.escape(str(t)) for t in wgs["tip"]]
    ward_wgs = None
    if wards is not None and len(wards):
        ward_wgs = to_wgs84(
            gpd.GeoDataFrame({"ward": _ward_names(wards)}, geometry=wards.geometry.values)
        )
    x0, y0, x1, y1 = wgs.total_bounds
    if not len(wgs) and ward_wgs is not None:
        x0, y0, x1, y1 = ward_wgs.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[y0, x0], [y1, x1]])
    if len(wgs):
        folium.GeoJson(
            wgs.to_json(),
            name="Cells",
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "color": f["properties"]["colour"],
                "weight": 0.5,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(m)
    if ward_wgs is not None:
        folium.GeoJson(
            ward_wgs.to_json(),
            name="Wards",
            style_function=lambda f: WARD_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["ward"], labels=False, sticky=True),
        ).add_to(m)
    local_assets(m, mode="static", static_url=STATIC_URL)
    return m


def _show(
    frame: gpd.GeoDataFrame, colour: pd.Series, tips: pd.Series, key: str, wards: Any
) -> None:
    from streamlit_folium import st_folium

    ward_frame = wards if isinstance(wards, gpd.GeoDataFrame) else None
    try:
        m = cells_map(frame, colour, tips, ward_frame)
    except (InputError, ValueError) as exc:
        st.error(str(exc))
        return
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
    """The Analysis tab; ``data_months``: the months the loaded data cover, before filters."""
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
        st.error(str(exc))


def _notes(notes: list[str]) -> None:
    for note in notes:
        st.caption(note)


# Harm weights: the table in use is st.session_state["harm_table"] ({crime type: weight}) and
# its source note "harm_source". The editor shows "harm_base" (the table in use when it was
# created) with the user's cell edits on top; its key "harm_editor_<n>" changes when a file or a
# reset replaces the table, so old edits do not apply to the new table.


def _set_harm_table(table: Mapping[str, float], source: str) -> None:
    st.session_state["harm_table"] = {str(k): float(v) for k, v in table.items()}
    st.session_state["harm_source"] = source
    st.session_state["harm_version"] = st.session_state.get("harm_version", 0) + 1


def _reset_harm_table() -> None:
    _set_harm_table(DEFAULT_HARM_WEIGHTS, HARM_SOURCE)


def read_harm_upload(files: tuple[tuple[str, bytes], ...]) -> tuple[dict[str, float], str]:
    """The harm table in an uploaded CSV (name, bytes) and the file's name.

    Raises InputError (one line naming the file) for a file that is not a valid table.
    """
    if not files:
        raise InputFileError("no harm weights file uploaded; choose a CSV.")
    name, data = files[0]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{name}: not a UTF-8 text file; save it as CSV (UTF-8).") from None
    return parse_harm_weights(text, name), name


def harm_frame(table: Mapping[str, float], source: str | None = None) -> pd.DataFrame:
    """The table as rows crime_type, weight (and source, for the download)."""
    frame = pd.DataFrame({"crime_type": list(table), "weight": [float(v) for v in table.values()]})
    if source is not None:
        frame["source"] = source
    return frame


def _edited_weights(frame: pd.DataFrame) -> dict[str, float]:
    """The editor's table as {crime type: weight}; ParameterError for a weight not >= 0."""
    out: dict[str, float] = {}
    bad: list[str] = []
    for name, value in zip(frame["crime_type"], frame["weight"], strict=True):
        try:
            w = float(value)
        except (TypeError, ValueError):
            w = math.nan
        if not math.isfinite(w) or w < 0:
            bad.append(str(name))
        out[str(name)] = w
    if bad:
        raise ParameterError(
            f"harm weights: the weight of {', '.join(bad)} must be a number >= 0; "
            "the previous table is still in use."
        )
    return out


def harm_table() -> dict[str, float]:
    """The harm-weights controls (table editor, upload, reset, download); the table in use."""
    state = st.session_state
    if "harm_table" not in state:
        _reset_harm_table()
    files = _uploaded(
        st.file_uploader(
            "Your own harm weights (CSV with columns crime_type, weight)",
            type=["csv", "txt"],
            key="harm_file",
            help="One row for each of the 14 data.police.uk crime types; other columns are "
            "ignored. Download the table below for a template.",
        )
    )
    if files:
        seen = digest(files)
        try:
            table, name = read_harm_upload(files)
        except InputError as exc:
            st.error(str(exc))
        else:
            if state.get("harm_file_seen") != seen:  # a new file replaces the table once
                _set_harm_table(table, f"your file {name}")
        state["harm_file_seen"] = seen
    else:
        state.pop("harm_file_seen", None)
    editor = f"harm_editor_{state['harm_version']}"
    if editor not in state or "harm_base" not in state:  # a new editor, or harm re-ticked
        state["harm_base"] = dict(state["harm_table"])
        state["harm_base_source"] = state["harm_source"]
    edited = st.data_editor(
        harm_frame(state["harm_base"]),
        key=editor,
        num_rows="fixed",
        hide_index=True,
        disabled=["crime_type"],
        column_config={
            "crime_type": st.column_config.TextColumn("crime_type"),
            "weight": st.column_config.NumberColumn(
                "weight", min_value=0.0, required=True, format="%g"
            ),
        },
    )
    try:
        weights = _edited_weights(edited)
    except InputError as exc:
        st.error(str(exc))
    else:
        edited_here = weights != state["harm_base"]
        state["harm_table"] = weights if edited_here else dict(state["harm_base"])
        state["harm_source"] = (
            "edited in the dashboard" if edited_here else state["harm_base_source"]
        )
    table = dict(state["harm_table"])
    source = str(state["harm_source"])
    c1, c2 = st.columns(2)
    c1.button("Reset to built-in", key="harm_reset", on_click=_reset_harm_table)
    c2.download_button(
        "Harm weights (CSV)",
        table_csv(harm_frame(table, source)),
        file_name="harm_weights.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.caption(f"Harm weights: {source}.")
    return table


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
        f"{method.upper()} footprints with the sidebar's settings: the map above and the "
        "Deployments tab."
    )
    table = footprints
    if weights is not None:
        table = _harm_footprints(akey, float(eps), method, weights, inc, wards)
        st.caption("Ranked by harm; min_samples is suggested for the weighted incidents.")
    st.metric("Footprints", len(table))
    st.dataframe(table, hide_index=True, width="stretch")


def _kde_view(akey: str, weights: Weights | None, inc: gpd.GeoDataFrame, wards: Any) -> None:
    auto = _kde(akey, weights, None, None, 0.05, inc, wards).result
    c1, c2, c3 = st.columns(3)
    cell = c1.number_input("Cell size (m)", 5, 1000, round(auto.cell_size), key="kde_cell")
    bandwidth = c2.number_input("Bandwidth (m)", 10, 5000, round(auto.bandwidth), key="kde_bw")
    share = c3.slider("Top area (%)", 1, 20, 5, key="kde_share") / 100
    for name, s in auto.suggestions.items():
        st.caption(f"Default {name} {float(s.value):.0f} m: {s.reason}")
    found = _kde(akey, weights, float(cell), float(bandwidth), share, inc, wards)
    bands = found.bands
    _notes(found.notes)
    c1, c2 = st.columns(2)
    c1.metric("KDE bands", len(bands))
    c2.metric(f"Cells in the top {share:.0%}", len(found.top))
    colours = pd.Series(BAND_COLOURS[: len(bands)], index=bands.index)
    tips = bands["band"] + " of the area: " + bands["min_density_km2"].round(0).astype(str)
    tips = tips + " to " + bands["max_density_km2"].round(0).astype(str) + " per km²"
    _show(bands, colours, tips, "map_kde", wards)
    st.dataframe(pd.DataFrame(bands.drop(columns="geometry")), hide_index=True, width="stretch")


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
    found = _gi(akey, weights, cell, fdr, inc, wards)
    gi = found.cells
    counts = pd.Series(found.class_counts()).reindex(list(CLASSES), fill_value=0)
    table = counts.rename_axis("class").reset_index(name="cells")
    st.metric("Hot cells", int(table.loc[table["class"].str.startswith("hot"), "cells"].sum()))
    shown = gi[gi["hotspot_class"] != "not significant"]
    colours = shown["hotspot_class"].map(CLASS_COLOURS)
    tips = shown["hotspot_class"] + ": " + shown["incidents"].astype(int).astype(str)
    tips = tips + " incidents, z " + shown["z"].round(2).astype(str)
    if "ward_name" in shown.columns:
        tips = shown["ward_name"].astype(str) + ", " + tips
    _show(shown, colours, tips, "map_gi", wards)
    st.dataframe(table, hide_index=True, width="stretch")
    _notes(found.notes)


def _change_view(
    akey: str,
    weights: Weights | None,
    inc: gpd.GeoDataFrame,
    wards: Any,
    data_months: tuple[str, ...] | None = None,
) -> None:
    months = sorted(inc["month"].dropna().dt.strftime("%Y-%m").unique())
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
    change = _compare(akey, weights, cell, tuple(before), tuple(after), inc, wards, data_months)
    cmp = change.cells
    moved = cmp[cmp["change"] != 0]
    colours = pd.Series(
        ["#b10026" if c > 0 else "#2166ac" for c in moved["change"]], index=moved.index
    )
    tips = "before " + moved["before"].round(0).astype(str) + ", after "
    tips = tips + moved["after"].round(0).astype(str)
    st.subheader("Before and after")
    st.caption("; ".join(change.notes) + ". Red: more after; blue: fewer.")
    _show(moved, colours, tips, "map_change", wards)
    biggest = cmp.reindex(cmp["change"].abs().sort_values(ascending=False).index).head(20)
    st.dataframe(pd.DataFrame(biggest.drop(columns="geometry")), hide_index=True, width="stretch")
    _emerging_view(akey, weights, cell, inc, wards, data_months)


def _emerging_view(
    akey: str,
    weights: Weights | None,
    cell: float,
    inc: gpd.GeoDataFrame,
    wards: Any,
    data_months: tuple[str, ...] | None,
) -> None:
    st.subheader("Emerging hot spots")
    period = int(st.number_input("Period length (months)", 1, 12, 3, key="ch_period"))
    try:
        found = _emerging(akey, weights, cell, period, inc, wards, data_months)
    except InputError as exc:  # next to the period control
        st.error(str(exc))
        return
    _notes(found.notes)
    st.caption(
        "A Gi* pattern is relative to the whole area in each period: read the trend of the "
        "counts (count_trend_p) beside each pattern before acting on it."
    )
    st.dataframe(found.pattern_table(), hide_index=True, width="stretch")
    em = found.cells
    shown = em[em["pattern"] != "no pattern"]
    colours = pd.Series(
        ["#b10026" if "hot" in p else "#2166ac" for p in shown["pattern"]], index=shown.index
    )
    tips = shown["pattern"] + " (count trend p " + shown["count_trend_p"].round(3).astype(str)
    _show(shown, colours, tips + ")", "map_emerging", wards)
    cols = ["pattern", "series", "incidents", "count_trend_z", "count_trend_p", "trend_p"]
    st.dataframe(pd.DataFrame(shown[cols]), hide_index=True, width="stretch")


# ------------------------------------------------------------------------------------------
# Evaluate a pilot


SAVED = "Saved patrol area"
UPLOAD = "Upload a polygon file"
DEFAULT_CONTROL = "Rest of the study area (default)"
Area = tuple[str, Any]  # (cache key, area for evaluate_pilot)


def _choose_area(
    label: str,
    options: list[str],
    keys: tuple[str, str, str],
    incidents: gpd.GeoDataFrame,
    store: PatrolAreaStore,
    avoid: str | None = None,
) -> tuple[str, Area | None]:
    """A radio choosing a saved patrol area or an uploaded polygon file (or ``options``' others).

    ``keys`` are the widget keys of the radio, the saved-area selectbox and the uploader; the
    selectbox starts on the first saved area whose cache key is not ``avoid``.
    Returns the choice and, for a saved area or a file, its (cache key, area); None when it is
    not ready (nothing saved or uploaded, or an unreadable file: the reason is shown).
    """
    radio_key, area_key, file_key = keys
    choice = st.radio(label, options, key=radio_key, horizontal=True)
    if choice == SAVED:
        try:
            areas = store.list()
        except InputError as exc:
            st.error(str(exc))
            return choice, None
        if len(areas) == 0:
            st.info("No patrol areas saved yet: draw one on the map or save an upload.")
            return choice, None
        names = areas["patrol_area"].astype(str).tolist()
        stored = [f"store:{n}:{t}" for n, t in zip(names, areas["updated_at"], strict=True)]
        first = next((i for i, k in enumerate(stored) if k != avoid), 0)
        name = st.selectbox(f"{label}: saved area", names, index=first, key=area_key)
        pos = names.index(name)
        return choice, (stored[pos], areas.iloc[[pos]][["patrol_area", "geometry"]])
    if choice != UPLOAD:
        return choice, None
    files = _uploaded(st.file_uploader(f"{label}: polygon file", type=LAYER_TYPES, key=file_key))
    if not files:
        st.caption(f"Choose a file holding the {label.lower()} polygon(s).")
        return choice, None
    try:
        frame, _ = read_uploaded_layer("patrols", files, incidents)
    except InputError as exc:
        st.error(str(exc))
        return choice, None
    return choice, (f"upload:{digest(files)}", frame)


def _target(inc_key: str, incidents: gpd.GeoDataFrame, store: PatrolAreaStore) -> Area | None:
    options = [SAVED, UPLOAD]
    if inc_key == DEMO:
        options.append(CORRIDOR)
    keys = ("pilot_target", "pilot_area", "pilot_file")
    choice, area = _choose_area("Target area", options, keys, incidents, store)
    if choice == CORRIDOR:
        return "corridor", corridor_target(str(incidents.crs))
    return area


def _control(
    incidents: gpd.GeoDataFrame, store: PatrolAreaStore, target: Area | None
) -> Area | None:
    """The control area: ("default", None) for the rest of the study area, else a chosen one."""
    keys = ("pilot_control", "pilot_control_area", "pilot_control_file")
    options = [DEFAULT_CONTROL, SAVED, UPLOAD]
    avoid = None if target is None else target[0]
    choice, area = _choose_area("Control area", options, keys, incidents, store, avoid)
    st.caption(
        "A matched control area (streets like the target's, with similar crime before the "
        "operation) shows what would have happened there without it. The rest of the area "
        "mixes in town centres, parks and estates with trends of their own, so a change "
        "relative to it can be a local trend rather than the operation's effect."
    )
    if choice == DEFAULT_CONTROL:
        return "default", None
    if area is not None and target is not None and area[0] == target[0]:
        st.error(
            "The control area is the same as the target area; choose another area "
            "(streets like the target's where nothing was done)."
        )
        return None
    return area


def _pilot_page(
    result: PilotResult, target_key: str, target: Any, wards: Any, synthetic: bool
) -> str:
    """The printable pilot page; the target named after its saved area(s) or the demo."""
    if target_key == "corridor":
        name = "St James Street corridor (demo)"
    elif isinstance(target, gpd.GeoDataFrame) and "patrol_area" in target.columns:
        name = ", ".join(str(n) for n in target["patrol_area"].head(3))
    else:
        name = "the target area"
    ward_frame = wards if isinstance(wards, gpd.GeoDataFrame) else None
    return pilot_report_html(result, area_name=name, wards=ward_frame, synthetic=synthetic)


def monthly_chart(monthly: pd.DataFrame) -> alt.VConcatChart:
    """Target, buffer and control per month (own y scales), the operation shaded."""
    data = monthly.copy()
    data["month"] = pd.to_datetime(data["month"])
    during = data[data["period"] == "during"]["month"]
    shade = pd.DataFrame({"start": [during.min()], "end": [during.max()]})
    charts = []
    for zone in ("target", "buffer", "control"):
        band = alt.Chart(shade).mark_rect(color="#ccc", opacity=0.5).encode(x="start:T", x2="end:T")
        line = (
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                x=alt.X("month:T", title="month"),
                y=alt.Y(f"{zone}:Q", title=f"{zone} a month"),
                tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "period", zone],
            )
        )
        charts.append((band + line).properties(height=140))
    return alt.vconcat(*charts)


def pilot_tab(
    inc_key: str,
    wards_key: str,
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None,
    filter_types: list[str],
    store: PatrolAreaStore,
) -> None:
    target = _target(inc_key, incidents, store)
    control = _control(incidents, store, target)
    months = sorted(incidents["month"].dropna().dt.strftime("%Y-%m").unique())
    if len(months) < 3:
        st.info("A pilot evaluation needs months before, during and after the operation.")
        return
    chosen = target[0] if target is not None else None
    if chosen == "corridor" and st.session_state.get("pilot_last_target") != chosen:
        # the demo corridor: its planted operation's months, once, when it is chosen
        operation = json.loads((SAMPLE_DIR / "truth.json").read_text())["corridor"]["operation"]
        if operation["first"] in months and operation["last"] in months:
            st.session_state["pilot_start"] = operation["first"]
            st.session_state["pilot_end"] = operation["last"]
    st.session_state["pilot_last_target"] = chosen
    c1, c2, c3 = st.columns(3)
    mid = len(months) // 2
    start = c1.selectbox("Operation start", months, index=mid - 1, key="pilot_start")
    end = c2.selectbox("Operation end", months, index=mid, key="pilot_end")
    buffer_m = float(c3.number_input("Buffer (m)", 0, 2000, 400, step=50, key="pilot_buffer"))
    categories = sorted(incidents["category"].dropna().astype(str).unique())
    # The pilot's crime types follow the sidebar's: reset when the sidebar's selection changes,
    # kept (the user's own choice) while it does not.
    state = st.session_state
    if state.get("pilot_types_sidebar") != list(filter_types) or "pilot_types" not in state:
        state["pilot_types"] = [t for t in filter_types if t in categories]
        state["pilot_types_sidebar"] = list(filter_types)
    elif not set(state["pilot_types"]) <= set(categories):
        state["pilot_types"] = [t for t in state["pilot_types"] if t in categories]
    types = st.multiselect("Crime types to count", categories, key="pilot_types")
    error = st.empty()
    if st.button("Run the evaluation", key="pilot_run", type="primary"):
        st.session_state["pilot_go"] = True
    if target is None or control is None or not st.session_state.get("pilot_go"):
        return
    try:
        result = _pilot(
            inc_key,
            target[0],
            control[0],
            wards_key,
            start,
            end,
            buffer_m,
            tuple(types),
            incidents,
            target[1],
            control[1],
            wards,
        )
    except InputError as exc:
        error.error(str(exc))
        return
    for sentence in pilot_summary(result):
        st.write(sentence)
    st.subheader("Counts")
    st.dataframe(result.counts.rename_axis("zone").reset_index(), hide_index=True)
    c1, c2 = st.columns(2)
    lo, hi = result.relative_change_ci
    c1.metric(
        "Change beyond the control",
        f"{result.relative_change_pct:+.0f}%",
        help="95% confidence interval",
    )
    c1.caption(f"95% confidence interval {lo:+.0f}% to {hi:+.0f}%")
    c2.metric("WDQ", f"{result.wdq:.2f}")
    c2.caption(wdq_sentence(result.wdq_band))
    st.altair_chart(monthly_chart(result.monthly), width="stretch")
    for note in result.notes:
        st.caption(note)
    d1, d2, d3 = st.columns(3)
    d3.download_button(
        "Pilot briefing (HTML)",
        _pilot_page(result, target[0], target[1], wards, inc_key == DEMO),
        file_name="pilot.html",
        mime="text/html",
        on_click="ignore",
        help="One printable page: the headline with its interval, the chart, the counts "
        "(1 to 4 shown as 'fewer than 5'), the map and how to read them.",
    )
    d1.download_button(
        "pilot.json",
        json.dumps(pilot_record(result), indent=2, default=str),
        file_name="pilot.json",
        mime="application/json",
        on_click="ignore",
    )
    d2.download_button(
        "Monthly counts (CSV)",
        table_csv(result.monthly),
        file_name="pilot_monthly.csv",
        mime="text/csv",
        on_click="ignore",
    )
