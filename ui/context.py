"""What every page of the dashboard shares: the data, the settings and the analysis.

``app.py`` calls :func:`prepare` on every run before the chosen page runs: it draws the sidebar
(data sources, filters, hotspot settings) and makes the cached library calls, so that changing
page never reads or analyses again. A page takes the result from :func:`current`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import streamlit as st

from geodata import SAMPLE_NOTICE
from geodata.settings import Settings
from geodata.store import PatrolAreaStore
from hotspots import InputError, ParameterError, filter_incidents
from hotspots.period_change import PeriodChange, period_change, with_period_change
from hotspots.pipeline import Analysis, Suggested, add_backtest, analyse, select_wards, suggest
from hotspots.prepared import Prepared
from hotspots.prepared import prepare as prepare_incidents

from .helpers import CITY_INCIDENTS, months_between
from .sidebar import Choices, Data, sidebar_data, sidebar_settings

__all__ = ["Context", "current", "prepare"]

_KEY = "_page_context"


@dataclass
class Context:
    """One run's data, settings and analysis.

    ``analysis`` (and ``settings``, ``chosen``, ``change``) is None when no analysis can be
    made (no crime type chosen, or the first filter failed); it has no back-test yet
    (:meth:`backtested`); ``deferred`` says the back-test waits for the user to ask (a city's
    data).
    """

    store: PatrolAreaStore
    data: Data
    settings: Choices | None = None
    analysis: Analysis | None = None
    chosen: gpd.GeoDataFrame | None = None
    change: PeriodChange | None = None
    rkey: str = ""
    fkey: str = ""  # the cache key of ``chosen`` (the filter's)
    deferred: bool = False

    def backtested(self) -> Analysis | None:
        """The analysis with its back-test (cached), or as it is when the back-test waits for
        the user to ask (``deferred``). Only the pages that show the back-test call this: the
        others do not wait for it."""
        if self.analysis is None or self.deferred:
            return self.analysis
        return _backtested(self.rkey, self.analysis)

    @property
    def period(self) -> str:
        """The months chosen, in words for headings."""
        return months_between(self.data.start, self.data.end)


# ------------------------------------------------------------------------------------------
# Cached calls into the library, keyed on data keys and parameters.


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
def _suggest(fkey: str, _chosen: gpd.GeoDataFrame, _wards: Any, _prep: Prepared) -> Suggested:
    # The settings the back-test chooses, as the command line's, at any scale (a year of
    # London: about 3 s; the back-test of the chosen settings waits for its button there).
    return suggest(_chosen, wards=_wards, prepared=_prep)


@st.cache_resource(show_spinner="Preparing the incidents ...", max_entries=8)
def _prepared(pkey: str, _chosen: gpd.GeoDataFrame, _wards: gpd.GeoDataFrame | None) -> Prepared:
    """The study area and place names: one per filter and ward layer, whatever the sliders."""
    return prepare_incidents(_chosen, wards=_wards)


@st.cache_resource(show_spinner="Finding hotspots ...", max_entries=16)
def _analyse(
    akey: str,
    eps: float | None,
    min_samples: int,
    method: str,
    auto: bool,
    _chosen: gpd.GeoDataFrame,
    _wards: gpd.GeoDataFrame | None,
    _patrols: gpd.GeoDataFrame | None,
    _prepared: Prepared,
    _suggested: Suggested,
) -> Analysis:
    """The analysis of the settings chosen; with the suggested ones (``auto``), the
    suggestions themselves are handed on, as the command line uses them (with wards of
    several boroughs, each borough's minimum count by its own incidents)."""
    return analyse(
        _chosen,
        wards=_wards,
        patrols=_patrols,
        eps=None if auto or method != "dbscan" else eps,
        min_samples=None if auto else min_samples,
        method=method,  # type: ignore[arg-type]
        run_backtest=False,  # _backtested: at once for a borough, on request for a city
        prepared=_prepared,
        suggested=_suggested.settings if auto else None,
    )


@st.cache_resource(show_spinner="Checking how well these hotspots predict ...", max_entries=16)
def _backtested(rkey: str, _analysis: Analysis) -> Analysis:
    return add_backtest(_analysis)


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


@st.cache_resource(max_entries=16)
def _with_change(key: str, _analysis: Analysis, _change: PeriodChange) -> Analysis:
    """The analysis with its hotspots' trend the commander page's change (the chosen months
    against as many before), so the map's popups, the briefing, the outreach sheets and the
    downloads give the same change as the ranked table (:func:`with_period_change`)."""
    hotspots = with_period_change(_analysis.hotspots, _change)
    uncovered = with_period_change(_analysis.uncovered, _change)
    return dataclasses.replace(_analysis, hotspots=hotspots, uncovered=uncovered)


# ------------------------------------------------------------------------------------------
# One run


def current() -> Context | None:
    """This run's context (set by :func:`prepare`), or None when it could not be made."""
    found = st.session_state.get(_KEY)
    return found if isinstance(found, Context) else None


def prepare() -> Context | None:
    """The sidebar and the analysis for this run; kept for the page (:func:`current`).

    Returns None (and says why on the page) when not even the data can be shown: the store
    cannot be opened.
    """
    st.session_state.pop(_KEY, None)
    try:
        store = PatrolAreaStore(Settings.from_environment().store_path)
    except (InputError, ParameterError) as exc:  # e.g. HOTSPOTS_STORE not a .gpkg file
        st.error(f"The patrol-area store cannot be opened: {exc} (set HOTSPOTS_STORE).")
        return None
    with st.sidebar:
        data = sidebar_data(store)
        filter_error = st.empty()
    if data.synthetic:
        st.warning(SAMPLE_NOTICE, icon="⚠️")
    ctx = Context(store=store, data=data)
    st.session_state[_KEY] = ctx
    if not data.crime_types:
        st.info("Choose at least one crime type in the sidebar.")
        return ctx
    _analysed(ctx, filter_error)
    return ctx


def _analysed(ctx: Context, filter_error: Any) -> None:
    """Fill in ``ctx``'s settings, analysis and change (the last good ones after an error)."""
    data = ctx.data
    fkey = data.fkey
    try:
        chosen = _filtered(
            fkey, data.start, data.end, tuple(data.crime_types), tuple(data.ward_names),
            data.incidents, data.wards,
        )  # fmt: skip
        # the study area drawn once, for the suggestion and the analysis
        prepared = _prepared(f"{fkey}|{data.wards_key}", chosen, data.analysed_wards)
        suggested = _suggest(fkey, chosen, data.analysed_wards, prepared)
    except InputError as exc:
        filter_error.error(str(exc))
        last = st.session_state.get("last_good")
        if last is None:
            return
        fkey, chosen, suggested = last["fkey"], last["chosen"], last["suggested"]
    with st.sidebar:
        settings = sidebar_settings(suggested)
    ctx.settings = settings
    akey = f"{fkey}|{data.wards_key}|{data.patrols_key}"
    rkey = f"{akey}|{settings.eps}|{settings.min_samples}|{settings.method}|{settings.auto}"
    try:
        prepared = _prepared(f"{fkey}|{data.wards_key}", chosen, data.analysed_wards)
        analysis = _analyse(
            akey, settings.eps, settings.min_samples, settings.method, settings.auto, chosen,
            data.analysed_wards, data.patrols, prepared, suggested,
        )  # fmt: skip
    except InputError as exc:
        settings.error_slot.error(str(exc))
        last = st.session_state.get("last_good")
        if last is None or "analysis" not in last:
            return
        chosen, analysis, rkey = last["chosen"], last["analysis"], last["rkey"]
        fkey = last["fkey"]
    else:
        st.session_state["last_good"] = {
            "fkey": fkey, "chosen": chosen, "suggested": suggested, "analysis": analysis,
            "rkey": rkey,
        }  # fmt: skip
    deferred = len(chosen) >= CITY_INCIDENTS and not st.session_state.get(f"backtest|{rkey}")
    change = None
    if data.start and data.end:
        months = data.months
        change = _compare(
            rkey, data.start, data.end, months[0] if months else None, tuple(data.crime_types),
            tuple(data.ward_names), data.incidents, data.analysed_wards, analysis.hotspots,
        )  # fmt: skip
    if change is not None:
        analysis = _with_change(f"{rkey}|{data.start}|{data.end}", analysis, change)
    ctx.analysis, ctx.chosen, ctx.change = analysis, chosen, change
    ctx.rkey, ctx.fkey, ctx.deferred = rkey, fkey, deferred
