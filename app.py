"""Hotspots dashboard (Streamlit): the table of contents. UI only; the analysis is hotspots/.

Run with ``make run``; it opens on the bundled synthetic demo borough. Every run draws the
sidebar (data sources, filters, hotspot settings) and makes the cached library calls
(``ui/context.py``), then runs the page chosen at the top: an overview with the map and one
page per job (``ui/roles.py``, one file each in ``ui/pages``): Plan deployments, Place
outreach, Prepare a briefing, Evaluate an operation, and Analysis for analysts. The map is
served from ``static/vendor``: nothing is fetched from the internet.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Hotspots", page_icon=":round_pushpin:", layout="wide")


def main() -> None:
    """The navigation, the shared part of every page, then the page (with a note in the main
    area while a cold start reads and analyses)."""
    # a tighter top margin, so that the map starts on the first screen at 1366 x 768
    # and the headline numbers smaller than Streamlit's default
    st.html(
        "<style>.stMainBlockContainer, .block-container {padding-top: 2.5rem;}"
        '[data-testid="stMetricValue"] {font-size: 1.9rem;}</style>'
    )
    loading = st.empty()
    if not st.session_state.get("_shown"):  # a session's first run: seconds before the map
        loading.info("Reading the data and finding the hotspots ...", icon="⏳")
    from ui.context import prepare  # the library's imports take seconds: after the note
    from ui.roles import PAGES

    pages = [
        st.Page(path, title=title, icon=icon, default=i == 0)
        for i, (path, title, icon, _) in enumerate(PAGES)
    ]
    page = st.navigation(pages, position="top")
    try:
        prepare()
    finally:
        loading.empty()
    st.session_state["_shown"] = True
    page.run()


main()
