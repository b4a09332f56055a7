"""The Evaluate-a-pilot tab: choose a target and a control, the operation's months, and read
the before/after evaluation (:func:`hotspots.pilot.evaluate_pilot`) and its printable page.
"""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry import LineString

from geodata import SAMPLE_DIR
from geodata.store import PatrolAreaStore
from hotspots import InputError
from hotspots.filter import months_covered
from hotspots.pilot import PilotResult, evaluate_pilot
from hotspots.report.pilot_page import pilot_report_html
from hotspots.report.pilot_text import pilot_record, pilot_summary, wdq_words
from hotspots.report.wording import percent_interval, signed_percent

from .helpers import (
    DEMO,
    LAYER_TYPES,
    digest,
    no_links,
    read_uploaded_layer,
    table_csv,
)
from .helpers import uploaded_files as _uploaded
from .tables import show_table

CORRIDOR = "St James Street corridor (demo)"


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
    placebos: int = 99,
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
        placebos=placebos,
    )


@st.cache_data(max_entries=2)
def corridor_target(crs: str) -> gpd.GeoSeries:
    """The demo's St James Street corridor, built from truth.json as the notebook does."""
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    line = gpd.GeoSeries([LineString(truth["corridor"]["line_lonlat"])], crs="EPSG:4326")
    return line.to_crs(crs).buffer(truth["corridor"]["width_m"])


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
            st.error(no_links(str(exc)))
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
        st.error(no_links(str(exc)))
        return choice, None
    return choice, (f"upload:{digest(files)}", frame)


def _target(inc_key: str, incidents: gpd.GeoDataFrame, store: PatrolAreaStore) -> Area | None:
    # the demo opens on its corridor, whose operation the sample plants: an answer at once
    options = [CORRIDOR, SAVED, UPLOAD] if inc_key == DEMO else [SAVED, UPLOAD]
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


def monthly_charts(monthly: pd.DataFrame) -> list[alt.LayerChart]:
    """Target, buffer and control per month, one chart each (own y scales; separate charts,
    so each fits the page's width), the operation's whole months shaded."""
    data = monthly.copy()
    data["month"] = pd.to_datetime(data["month"])
    during = data[data["period"] == "during"]["month"]
    # from the first day of the first month to the first day after the last
    shade = pd.DataFrame({"start": [during.min()], "end": [during.max() + pd.DateOffset(months=1)]})
    charts = []
    for zone in ("target", "buffer", "control"):
        band = alt.Chart(shade).mark_rect(color="#ccc", opacity=0.5).encode(x="start:T", x2="end:T")
        line = (
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                x=alt.X("month:T", title="month"),
                y=alt.Y(f"{zone}:Q", title=zone),
                tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "period", zone],
            )
        )
        charts.append((band + line).properties(height=140))
    return charts


def _placebo_count() -> int:
    return int(
        st.number_input(
            "Placebo areas (0 for none)",
            0,
            999,
            99,
            step=99,
            key="pilot_placebos",
            help="Copies of the target placed at random in the control area: where the "
            "target's change ranks among places where nothing was done.",
        )
    )


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
    months = months_covered(incidents)
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
    placebos = _placebo_count()
    error = st.empty()
    if st.button("Run the evaluation", key="pilot_run", type="primary"):
        st.session_state["pilot_go"] = True
    if target is None or control is None or not st.session_state.get("pilot_go"):
        return
    if not types:  # (none chosen is not "every type")
        error.info("Choose at least one crime type to count.")
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
            placebos,
        )
    except InputError as exc:
        error.error(str(exc))
        return
    for sentence in pilot_summary(result):
        st.write(sentence)
    st.subheader("Counts")
    show_table(result.counts.rename_axis("zone").reset_index())
    c1, c2 = st.columns(2)
    lo, hi = result.relative_change_ci
    c1.metric(
        "Change beyond the control",
        signed_percent(result.relative_change_pct),
        help="95% confidence interval",
    )
    c1.caption(f"95% confidence interval {percent_interval(lo, hi)}")
    c2.metric("WDQ", f"{result.wdq:.2f}".replace("-", "\u2212"))
    c2.caption(wdq_words(result))
    st.caption("Incidents a month in the target, its buffer and the control; the operation shaded.")
    for chart in monthly_charts(result.monthly):
        st.altair_chart(chart, width="stretch")
    for note in result.notes:
        st.caption(no_links(note))
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
