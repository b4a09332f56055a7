"""Hotspots dashboard (Streamlit). UI only: every computation is a cached call into hotspots/.

Run with ``make run``; it opens on the bundled synthetic demo borough.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geodata import (
    SAMPLE_INCIDENTS,
    SAMPLE_NOTICE,
    SAMPLE_PATROL_AREAS,
    SAMPLE_WARDS,
    load_patrol_areas,
    load_wards,
)
from hotspots import (
    InputError,
    filter_incidents,
    find_hotspots,
    make_map,
    outreach_streets,
    overlay_hotspots,
    patrol_coverage,
    read_incidents,
    uncovered_hotspots,
    ward_table,
)
from hotspots.export import map_html

st.set_page_config(page_title="Hotspots", page_icon=":round_pushpin:", layout="wide")


@st.cache_resource(show_spinner="Reading the demo borough ...")
def _sample() -> tuple[Any, Any, Any, Any]:
    incidents, report = read_incidents(SAMPLE_INCIDENTS)
    wards, _ = load_wards(SAMPLE_WARDS, incidents=incidents)
    patrols, _ = load_patrol_areas(SAMPLE_PATROL_AREAS, incidents=incidents)
    return incidents, report, wards, patrols


@st.cache_data(show_spinner="Finding hotspots ...", max_entries=32)
def _analyse(
    start: str, end: str, categories: tuple[str, ...], eps: float | None, min_samples: int | None
) -> dict[str, Any]:
    incidents, report, wards, patrols = _sample()
    chosen = filter_incidents(incidents, None, start=start, end=end, categories=list(categories))
    if len(chosen) == 0:
        raise InputError("no incidents match these filters; widen the months or crime types.")
    result = find_hotspots(chosen, eps=eps, min_samples=min_samples, study_area=wards)
    ids = result.hotspot_ids
    hotspots = overlay_hotspots(
        result.hotspots, chosen, hotspot_ids=ids, wards=wards, patrol_areas=patrols
    )
    uncovered = uncovered_hotspots(hotspots, patrols, hotspot_ids=ids, incidents=chosen)
    html = map_html(
        make_map(
            hotspots,
            chosen,
            tiles=None,
            synthetic=True,
            title="Demo Borough",
            wards=wards,
            patrol_areas=patrols,
        )
    )
    return {
        "hotspots": pd.DataFrame(hotspots.drop(columns="geometry")),
        "wards": ward_table(chosen, wards, hotspots=hotspots, hotspot_ids=ids),
        "patrols": patrol_coverage(chosen, patrols, hotspots=hotspots, hotspot_ids=ids),
        "uncovered": pd.DataFrame(uncovered.drop(columns="geometry")),
        "streets": outreach_streets(chosen, uncovered, hotspot_ids=ids),
        "suggestions": result.suggestions,
        "notes": result.notes,
        "report": report.lines(),
        "html": html,
        "eps": float(result.eps_m or 0.0),
        "min_samples": int(result.min_samples),
        "n": len(chosen),
    }


def main() -> None:
    st.title("Crime hotspots")
    st.warning(SAMPLE_NOTICE, icon="⚠️")
    incidents = _sample()[0]
    months = sorted(incidents["month"].dropna().dt.strftime("%Y-%m").unique())
    categories = sorted(incidents["category"].unique())

    with st.sidebar:
        st.header("Filters")
        start, end = st.select_slider(
            "Months", options=months, value=(months[max(0, len(months) - 12)], months[-1])
        )
        chosen = st.multiselect("Crime types", categories, default=categories)
        st.header("Hotspot settings")
        auto = st.checkbox("Use suggested settings", value=True)
        eps = st.slider("eps: neighbour distance (metres)", 25, 500, 150, 5, disabled=auto)
        min_samples = st.number_input(
            "min_samples: incidents that make a dense spot", 2, 2000, 30, disabled=auto
        )

    if not chosen:
        st.info("Choose at least one crime type in the sidebar.")
        return
    try:
        r = _analyse(
            start,
            end,
            tuple(chosen),
            None if auto else float(eps),
            None if auto else int(min_samples),
        )
    except InputError as exc:
        st.error(str(exc))
        return

    table, n = r["hotspots"], r["n"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents analysed", f"{n:,}")
    c2.metric("Hotspots", len(table))
    share = float(table["incidents"].sum()) / n if n else 0.0
    c3.metric("Share in hotspots", f"{share:.0%}")
    c4.metric("eps / min_samples", f"{r['eps']:.0f} m / {r['min_samples']}")

    st.iframe(r["html"], height=620)
    if r["suggestions"]:
        with st.expander("Why these settings"):
            for name, s in r["suggestions"].items():
                value = f"{float(s.value):.0f} m" if name == "eps" else f"{s.value}"
                st.write(f"**{name} = {value}**: {s.reason}")
    ranked, by_ward, outreach = st.tabs(["Hotspots, ranked", "Wards", "Outreach"])
    with ranked:
        st.dataframe(table, hide_index=True, width="stretch")
    with by_ward:
        st.dataframe(r["wards"], hide_index=True, width="stretch")
    with outreach:
        st.write("Patrol areas: incidents and hotspot incidents inside each.")
        st.dataframe(r["patrols"], hide_index=True, width="stretch")
        st.write("Hotspots no patrol area covers, and their busiest streets:")
        st.dataframe(r["streets"], hide_index=True, width="stretch")
    with st.expander("How the data were read"):
        for line in r["report"] + r["notes"]:
            st.write(line)


main()
