"""Hotspots dashboard (Streamlit). UI only: every computation is a cached call into hotspots/.

Run with ``make run``; it opens on the bundled synthetic demo borough.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geodata import SAMPLE_INCIDENTS, SAMPLE_NOTICE
from hotspots import (
    InputError,
    filter_incidents,
    find_hotspots,
    make_map,
    read_incidents,
)
from hotspots.export import map_html

st.set_page_config(page_title="Hotspots", page_icon=":round_pushpin:", layout="wide")


@st.cache_resource(show_spinner="Reading the demo incidents ...")
def _sample() -> tuple[Any, Any]:
    return read_incidents(SAMPLE_INCIDENTS)


@st.cache_data(show_spinner="Finding hotspots ...", max_entries=32)
def _analyse(
    start: str, end: str, categories: tuple[str, ...], eps: float | None, min_samples: int | None
) -> tuple[Any, Any, list[str], list[str], str, float, int, int]:
    incidents, report = _sample()
    chosen = filter_incidents(incidents, None, start=start, end=end, categories=list(categories))
    if len(chosen) == 0:
        raise InputError("no incidents match these filters; widen the months or crime types.")
    result = find_hotspots(chosen, eps=eps, min_samples=min_samples)
    html = map_html(
        make_map(result.hotspots, chosen, tiles=None, synthetic=True, title="Demo Borough")
    )
    table = pd.DataFrame(result.hotspots.drop(columns="geometry"))
    return (
        table,
        result.suggestions,
        result.notes,
        report.lines(),
        html,
        float(result.eps_m or 0.0),
        int(result.min_samples),
        len(chosen),
    )


def main() -> None:
    st.title("Crime hotspots")
    st.warning(SAMPLE_NOTICE, icon="⚠️")
    incidents, _ = _sample()
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
        table, suggestions, notes, report_lines, html, eps_used, ms_used, n = _analyse(
            start,
            end,
            tuple(chosen),
            None if auto else float(eps),
            None if auto else int(min_samples),
        )
    except InputError as exc:
        st.error(str(exc))
        return

    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents analysed", f"{n:,}")
    c2.metric("Hotspots", len(table))
    share = float(table["incidents"].sum()) / n if n else 0.0
    c3.metric("Share in hotspots", f"{share:.0%}")
    c4.metric("eps / min_samples", f"{eps_used:.0f} m / {ms_used}")
    st.iframe(html, height=620)
    if suggestions:
        with st.expander("Why these settings"):
            for name, s in suggestions.items():
                value = f"{float(s.value):.0f} m" if name == "eps" else f"{s.value}"
                st.write(f"**{name} = {value}**: {s.reason}")
    st.subheader("Hotspots, ranked")
    st.dataframe(table, hide_index=True, width="stretch")
    with st.expander("How the data were read"):
        for line in report_lines + notes:
            st.write(line)


main()
