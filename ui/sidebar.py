"""The dashboard's sidebar: where the incidents come from, the reference layers, the patrol-area
store, the filters, and the hotspot and map settings (widgets only; what they choose is handed
to ``app.py``, which calls the library).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import streamlit as st

from geodata import (
    SAMPLE_INCIDENTS,
    SAMPLE_PATROL_AREAS,
    SAMPLE_WARDS,
    load_patrol_areas,
    load_wards,
)
from geodata.store import PatrolAreaStore
from hotspots import InputError, LoadReport, read_incidents
from hotspots.basemap import TILE_SERVER_EXAMPLE, check_tiles
from hotspots.filter import crime_types_present, months_covered
from hotspots.guardrails import BoundaryCheck, FarIncidents, check_boundaries, far_incidents
from hotspots.pipeline import Suggested, wards_named
from ui.helpers import (
    ALL_TYPES,
    CUSTOM,
    DEMO,
    LAYER_TYPES,
    PRESETS,
    Files,
    digest,
    downloads_dir,
    k_distance_chart,
    no_links,
    patrol_layer,
    read_uploaded_layer,
    uploaded_files,
)
from ui.sources import Source, data_folder_source, fetched_source, uploaded_source


@st.cache_resource(show_spinner="Reading the demo borough ...")
def _demo() -> dict[str, Any]:
    incidents, report = read_incidents(SAMPLE_INCIDENTS)
    wards, ward_notes = load_wards(SAMPLE_WARDS, incidents=incidents)
    patrols, patrol_notes = load_patrol_areas(SAMPLE_PATROL_AREAS, incidents=incidents)
    return {
        "incidents": incidents,
        "report": report,
        "wards": wards,
        "ward_notes": ward_notes,
        "patrols": patrols,
        "patrol_notes": patrol_notes,
    }


@st.cache_resource(show_spinner="Reading the boundaries ...", max_entries=8)
def _layer_upload(
    kind: str, key: str, inc_key: str, _files: Files, _incidents: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    return read_uploaded_layer(kind, _files, _incidents)


def _store_areas(store: PatrolAreaStore) -> gpd.GeoDataFrame:
    return store.list()


#: "Shade wards by" choices -> the ward-table column (None: outlines only)
WARD_SHADING: dict[str, str | None] = {
    "Nothing (outlines only)": None,
    "Incidents": "incidents",
    "Incidents per km²": "incidents_per_km2",
    "Incidents per 1,000 residents": "incidents_per_1000",
}


# ------------------------------------------------------------------------------------------
# Sidebar sections


def _sidebar_incidents() -> tuple[str, gpd.GeoDataFrame, LoadReport, bool]:
    """Data source control; returns (key, incidents, report, synthetic)."""
    st.header("Data")
    source = st.radio("Incidents", list(_SOURCES), key="source")
    read = _SOURCES[source]
    chosen = read() if read is not None else None
    if chosen is None:
        demo = _demo()  # read only when shown: a city's first page need not wait for it
        return DEMO, demo["incidents"], demo["report"], True
    return *chosen, False


#: The incidents' sources (None: the demo borough).
_SOURCES: dict[str, Callable[[], Source | None] | None] = {
    "Demo borough (synthetic)": None,
    "Upload files": uploaded_source,
    "Files in the data folder": data_folder_source,
    "Fetch from data.police.uk": fetched_source,
}


def _sidebar_layer(
    kind: str, inc_key: str, incidents: gpd.GeoDataFrame
) -> tuple[str, gpd.GeoDataFrame | None, list[str]]:
    """Ward or patrol-area control; returns (key, frame or None, notes)."""
    label = "Ward boundaries" if kind == "wards" else "Patrol areas"
    options = ["Demo", "Upload", "None"]
    fetched = _fetched_wards_file(inc_key) if kind == "wards" else None
    if fetched is not None:
        options = ["Fetched", *options]
        if st.session_state.get("wards_fetched_for") != inc_key:  # newly fetched: use them
            st.session_state["wards_fetched_for"] = inc_key
            st.session_state["wards_source"] = "Fetched"
    _leave_demo(kind, inc_key)
    choice = st.radio(label, options, key=f"{kind}_source", horizontal=True)
    if choice == "None":
        return "none", None, []
    if choice == "Fetched" and fetched is not None:
        try:
            frame, notes = _fetched_wards(str(fetched), inc_key, incidents)
        except InputError as exc:
            st.error(no_links(str(exc)))
            return "none", None, []
        return f"wards:{fetched}", frame, notes
    if choice == "Demo":
        if inc_key != DEMO:
            st.caption(f"The demo {label.lower()} only fit the demo borough.")
            return "none", None, []
        demo = _demo()
        return DEMO, demo[kind], demo["ward_notes" if kind == "wards" else "patrol_notes"]
    return _uploaded_layer(kind, label, inc_key, incidents)


def _leave_demo(kind: str, inc_key: str) -> None:
    """Once other incidents than the demo borough's are shown, the demo wards and patrol
    areas (which only fit the demo) give way to an upload; the user may choose again."""
    if inc_key == DEMO or st.session_state.get(f"{kind}_left_demo_for") == inc_key:
        return
    st.session_state[f"{kind}_left_demo_for"] = inc_key
    if st.session_state.get(f"{kind}_source", "Demo") == "Demo":
        st.session_state[f"{kind}_source"] = "Upload"


def _sidebar_patrols(
    inc_key: str, incidents: gpd.GeoDataFrame, store: PatrolAreaStore
) -> tuple[str, gpd.GeoDataFrame | None, list[str]]:
    """One patrol layer: the current areas (demo, uploaded or none) and the saved ones."""
    key, current, notes = _sidebar_layer("patrols", inc_key, incidents)
    if st.session_state.pop("tick_saved_areas", False):  # an area was drawn and saved
        st.session_state["patrols_saved"] = True
    with_saved = st.checkbox(
        "Add the patrol areas saved in the store", value=True, key="patrols_saved"
    )
    saved_key, saved = _stored_areas(store) if with_saved else ("none", None)
    if key == DEMO and current is not None and len(current):
        st.caption("Demo areas are synthetic: they are not offered for saving.")
    elif current is not None and len(current):
        st.button(
            "Save these areas into the store",
            key="import_areas",
            on_click=_import_areas,
            args=(store, current),
        )
        kind, text = st.session_state.pop("import_msg", (None, ""))
        if kind == "success":
            st.success(no_links(text))
        elif kind == "error":
            st.error(no_links(text))
    layer, shadowed = patrol_layer(current, saved)
    for note in shadowed:
        st.warning(no_links(note))
    if layer is None:
        return "none", None, notes
    return f"{key}+{saved_key}", layer, [*notes, *shadowed]


def _import_areas(store: PatrolAreaStore, areas: gpd.GeoDataFrame) -> None:
    """Save the current patrol areas into the store, those not saved already (a callback)."""
    try:
        stored = {str(n).casefold() for n in _store_areas(store)["patrol_area"]}
        new = areas[~areas["patrol_area"].astype(str).str.casefold().isin(stored)]
        n = store.import_layer(new) if len(new) else 0
    except InputError as exc:
        st.session_state["import_msg"] = ("error", str(exc))
        return
    kept = len(areas) - len(new)
    text = f"Saved {n} patrol area(s)."
    if kept:
        text += (
            f" {kept} had a saved area of the same name, left as saved (the one given now is"
            " used while it is given; to save it, delete or rename the saved one first)."
        )
    st.session_state["import_msg"] = ("success", text)


def _stored_areas(store: PatrolAreaStore) -> tuple[str, gpd.GeoDataFrame | None]:
    """The patrol areas saved in the store, keyed on their names and times."""
    try:
        areas = _store_areas(store)
    except InputError as exc:
        st.error(no_links(str(exc)))
        return "none", None
    if len(areas) == 0:
        st.caption("No patrol areas saved yet: draw one on the map or save the areas above.")
        return "none", None
    stamp = "".join(areas["patrol_area"] + areas["updated_at"].astype(str))
    key = "store:" + hashlib.sha256(stamp.encode()).hexdigest()[:12]
    return key, areas[["patrol_area", "geometry"]]


def _uploaded_layer(
    kind: str, label: str, inc_key: str, incidents: gpd.GeoDataFrame
) -> tuple[str, gpd.GeoDataFrame | None, list[str]]:
    """A ward or patrol-area file uploaded."""
    upload = st.file_uploader(
        f"{label}: GeoJSON, GeoPackage, zipped Shapefile or KML",
        type=LAYER_TYPES,
        accept_multiple_files=False,
        key=f"{kind}_file",
    )
    files = uploaded_files(upload)
    if not files:
        st.caption("No file chosen: none used.")
        return "none", None, []
    key = digest(files)
    try:
        frame, notes = _layer_upload(kind, key, inc_key, files, incidents)
    except InputError as exc:
        st.error(no_links(str(exc)))
        return "none", None, []
    for note in notes:
        st.caption(no_links(note))
    return f"{kind}:{key}", frame, notes


def _store_change(store: PatrolAreaStore, action: str) -> None:
    """Rename or delete the chosen saved area (a button callback: runs before the page)."""
    name = st.session_state.get("store_area")
    if not name:
        return
    try:
        if action == "rename":
            new = str(st.session_state.get("store_new_name", ""))
            store.rename(name, new)
            st.session_state["store_msg"] = ("success", f"Renamed {name} to {new.strip()}.")
            st.session_state["store_area"] = new.strip()
        else:
            store.delete(name)
            st.session_state["store_msg"] = ("success", f"Deleted {name}.")
            st.session_state.pop("store_area", None)
            st.session_state["store_confirm"] = False
    except InputError as exc:
        st.session_state["store_msg"] = ("error", str(exc))


def _fetched_wards_file(inc_key: str) -> Path | None:
    """The wards file fetched with the incidents shown (downloads/wards/<LAD>.gpkg)."""
    if not inc_key.startswith("fetched:"):
        return None
    folder = inc_key.removeprefix("fetched:").split("|")[0]  # "fetched:<folder>|<state>"
    code = Path(folder).name.split("-")[0]
    path = downloads_dir() / "wards" / f"{code}.gpkg"
    return path if path.is_file() else None


@st.cache_resource(show_spinner="Reading the boundaries ...", max_entries=4)
def _fetched_wards(
    path: str, inc_key: str, _incidents: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    return load_wards(Path(path), incidents=_incidents)


def _sidebar_store(store: PatrolAreaStore) -> None:
    """Rename and delete saved patrol areas."""
    try:
        names = _store_areas(store)["patrol_area"].tolist()
    except InputError as exc:
        st.error(no_links(str(exc)))
        return
    with st.expander(f"Saved patrol areas ({len(names)})"):
        kind, text = st.session_state.pop("store_msg", (None, ""))
        if kind == "success":
            st.success(no_links(text))
        elif kind == "error":
            st.error(no_links(text))
        if not names:
            st.caption("None yet.")
            return
        if st.session_state.get("store_area") not in names:
            st.session_state["store_area"] = names[0]
        st.selectbox("Area", names, key="store_area")
        st.text_input("New name", key="store_new_name")
        left, right = st.columns(2)
        left.button("Rename", key="store_rename", on_click=_store_change, args=(store, "rename"))
        sure = st.checkbox("Yes, delete the area chosen", key="store_confirm")
        right.button(
            "Delete",
            key="store_delete",
            on_click=_store_change,
            args=(store, "delete"),
            disabled=not sure,  # a saved area is gone for good: asked first
        )


def _sidebar_filters(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None, months: tuple[str, ...]
) -> tuple[str, str, list[str], list[str]]:
    st.header("Filters")
    if not months:
        st.error("the data have no months; the month filter is off.")
        start, end = "", ""
    elif len(months) == 1:
        start = end = months[0]
        st.caption(f"Month: {start}")
    else:
        start, end = st.select_slider(
            "Months", options=months, value=(months[max(0, len(months) - 12)], months[-1])
        )
    categories = crime_types_present(incidents)

    def apply_preset() -> None:
        preset = st.session_state["preset"]
        if preset == ALL_TYPES:
            st.session_state["crime_types"] = categories
        elif preset in PRESETS:
            st.session_state["crime_types"] = [c for c in PRESETS[preset] if c in categories]

    if "crime_types" not in st.session_state or not set(st.session_state["crime_types"]).issubset(
        categories
    ):
        st.session_state["crime_types"] = categories
    st.selectbox(
        "Crime-type preset",
        [ALL_TYPES, *PRESETS, CUSTOM],
        key="preset",
        on_change=apply_preset,
        help="Selects a group of crime types; change the list below to make your own.",
    )
    chosen = st.multiselect("Crime types", categories, key="crime_types")
    ward_names: list[str] = []
    if wards is not None:
        ward_names = st.multiselect(
            "Wards (none chosen: all)", sorted(wards["ward_name"].astype(str)), key="ward_filter"
        )
    return start, end, chosen, ward_names


# ------------------------------------------------------------------------------------------
# Page


@dataclass
class Data:
    """What the sidebar's data section chose: incidents, layers and filters, with cache keys."""

    inc_key: str
    incidents: gpd.GeoDataFrame
    report: LoadReport
    synthetic: bool
    wards_key: str
    wards: gpd.GeoDataFrame | None
    ward_notes: list[str]
    patrols_key: str
    patrols: gpd.GeoDataFrame | None
    patrol_notes: list[str]
    start: str
    end: str
    crime_types: list[str]
    ward_names: list[str]
    frame: list[list[float]] | None = None  # the map's frame: the bulk of the incidents
    far_line: str | None = None  # the load report's line on incidents far from the rest
    months: tuple[str, ...] = ()  # the months the incidents cover (hotspots.months_covered)

    @cached_property
    def analysed_wards(self) -> gpd.GeoDataFrame | None:
        """The wards the analysis, its ward table and the map use: the wards chosen in the
        filter, or all of them (:func:`hotspots.pipeline.wards_named`)."""
        return None if self.wards is None else wards_named(self.wards, self.ward_names)

    @cached_property
    def map_frame(self) -> list[list[float]] | None:
        """Where the map opens: on the wards chosen in the filter, else on the bulk of the
        incidents (``frame``)."""
        wards = self.analysed_wards
        if not self.ward_names or wards is None or not len(wards):
            return self.frame
        w, s, e, n = (float(v) for v in wards.to_crs(4326).total_bounds)
        return [[s, w], [n, e]]

    @property
    def fkey(self) -> str:
        """The cache key of the filtered incidents."""
        parts = [self.inc_key, self.wards_key, self.start, self.end, *self.crime_types]
        return "|".join([*parts, "#", *self.ward_names])

    @property
    def rows_key(self) -> str:
        """A key of the filtered incidents' rows alone: the same whatever the wards, unless
        some wards are chosen (what does not depend on the wards is kept across them)."""
        wards = self.wards_key if self.ward_names else ""
        parts = [self.inc_key, wards, self.start, self.end, *self.crime_types]
        return "|".join([*parts, "#", *self.ward_names])


@dataclass
class Choices:
    """What the sidebar's settings section chose."""

    method: str
    eps: float
    min_samples: int
    tiles: str
    attribution: str
    shading: str
    error_slot: Any  # where a bad setting is reported, next to the controls
    chosen_by_backtest: bool = False  # the suggested settings, chosen by the back-test, in use
    auto: bool = False  # the suggested settings in use ("Use suggested settings")


@st.cache_resource(show_spinner=False, max_entries=8)
def _months(inc_key: str, _incidents: gpd.GeoDataFrame) -> tuple[str, ...]:
    """The months the incidents cover, once per incidents (every rerun asks for them)."""
    return tuple(months_covered(_incidents))


@st.cache_resource(show_spinner="Checking the positions ...", max_entries=8)
def _far(inc_key: str, _incidents: gpd.GeoDataFrame) -> FarIncidents:
    return far_incidents(_incidents)


@st.cache_resource(show_spinner="Checking the boundaries ...", max_entries=8)
def _ward_check(key: str, _incidents: gpd.GeoDataFrame, _wards: gpd.GeoDataFrame) -> BoundaryCheck:
    return check_boundaries(_incidents, _wards, name_column="ward_name", what="wards")


def _leave_far(
    inc_key: str, incidents: gpd.GeoDataFrame, far: FarIncidents
) -> tuple[str, gpd.GeoDataFrame, str | None]:
    """The option to leave out the incidents recorded far from the rest (the line saying so)."""
    if not far.n_far:
        return inc_key, incidents, None
    leave = st.checkbox(
        f"Leave out the {far.n_far:,} incidents recorded far from the rest",
        key="leave_far",
        help="They stay in the files; the analysis and the map use the rest.",
    )
    if not leave:
        return inc_key, incidents, f"{far.sentence()} They are kept in the analysis."
    line = f"{far.sentence()} They are left out of the analysis (your choice)."
    return f"{inc_key}|near", incidents[far.keep], line


def _fit_wards(
    inc_key: str, key: str, wards: gpd.GeoDataFrame | None, incidents: gpd.GeoDataFrame
) -> tuple[str, gpd.GeoDataFrame | None, list[str]]:
    """Warn when the wards do not fit the incidents; offer to keep the wards with incidents."""
    if wards is None:
        return key, wards, []
    check = _ward_check(f"{inc_key}|{key}", incidents, wards)
    for warning in check.warnings:
        st.warning(warning)
    held = check.with_incidents
    if not check.warnings or not held or len(held) == len(wards):
        return key, wards, check.warnings
    if st.checkbox(f"Keep only the {len(held)} wards with incidents", key="wards_with_incidents"):
        return f"{key}|held", wards[wards["ward_name"].astype(str).isin(held)], check.warnings
    return key, wards, check.warnings


def sidebar_data(store: PatrolAreaStore) -> Data:
    """The data sources, layers and filters (sidebar)."""
    inc_key, incidents, report, synthetic = _sidebar_incidents()
    far = _far(inc_key, incidents)
    inc_key, incidents, far_line = _leave_far(inc_key, incidents, far)
    used = len(incidents)  # after the far incidents the user chose to leave out, if so
    with st.expander(f"What was read: {used:,} incidents, all months"):
        for line in report.lines(plain=True):
            st.caption(line)
        if far_line:
            st.caption(far_line)
    wards_key, wards, ward_notes = _sidebar_layer("wards", inc_key, incidents)
    wards_key, wards, ward_warnings = _fit_wards(inc_key, wards_key, wards, incidents)
    patrols_key, patrols, patrol_notes = _sidebar_patrols(inc_key, incidents, store)
    _sidebar_store(store)
    months = _months(inc_key, incidents)
    start, end, crime_types, ward_names = _sidebar_filters(incidents, wards, months)
    return Data(
        inc_key, incidents, report, synthetic, wards_key, wards, ward_notes + ward_warnings,
        patrols_key, patrols, patrol_notes, start, end, crime_types, ward_names, far.bounds,
        far_line, months,
    )  # fmt: skip


def _hotspot_settings(suggested: Suggested) -> tuple[str, float, int, bool, bool]:
    """Method, neighbour distance and minimum count, with the suggested values and reasons."""
    method = st.radio(
        "Method",
        ["DBSCAN", "HDBSCAN"],
        horizontal=True,
        key="method",
        help="DBSCAN: dense spots within one neighbour distance. HDBSCAN: finds its own "
        "distances, so dense spots of different sizes show up together.",
    ).lower()
    auto = st.checkbox("Use suggested settings", value=True, key="auto")
    s_eps, s_min = suggested.settings["eps"], suggested.settings["min_samples"]
    if auto:
        st.session_state["eps"] = round(float(s_eps.value))
        st.session_state["min_samples"] = int(s_min.value)
    eps = st.slider(
        "Neighbour distance (metres)",
        25,
        500,
        step=1,
        key="eps",
        disabled=auto or method == "hdbscan",
        help="How close incidents must be to count as neighbours. Suggested: " + s_eps.reason,
    )
    st.caption(f"Suggested {float(s_eps.value):.0f} m: {s_eps.reason}")
    min_samples = st.number_input(
        "Minimum incidents for a dense spot",
        2,
        100_000,
        key="min_samples",
        disabled=auto,
        help="How many incidents within the neighbour distance make a dense spot. Suggested: "
        + s_min.reason,
    )
    st.caption(f"Suggested {s_min.value}: {s_min.reason}")
    st.altair_chart(
        k_distance_chart(suggested.spacing, None if method == "hdbscan" else float(eps)),
        width="stretch",
    )
    st.caption(
        "Distance from each map point to its 4th nearest (the curve the distance suggestion "
        "reads); the red line is the distance used."
    )
    tuned = auto and method == "dbscan" and s_eps.backtested
    return method, float(eps), int(min_samples), tuned, bool(auto)


def sidebar_settings(suggested: Suggested) -> Choices:
    """The hotspot settings (suggested values shown with their reasons) and the map options."""
    with st.expander("Advanced: how hotspots are found"):
        method, eps, min_samples, tuned, auto = _hotspot_settings(suggested)
    error_slot = st.empty()
    st.header("Map")
    tiles = st.text_input(
        "Your organisation's tile server (optional)",
        key="tiles",
        placeholder="https://tiles.example.org/{z}/{x}/{y}.png",
        help="Leave empty for no base map: nothing is fetched from the internet.",
    ).strip()
    try:
        check_tiles(tiles)
    except InputError as exc:  # shown under the box; the map shows without a base map
        st.error(str(exc).replace(TILE_SERVER_EXAMPLE, f"`{TILE_SERVER_EXAMPLE}`"))  # no link
        tiles = ""
    attribution = st.text_input("Tile attribution", key="tile_attribution").strip()
    shading = st.selectbox(
        "Shade wards by",
        list(WARD_SHADING),
        key="ward_shading",
        help="Colour the wards from light to dark by incidents or a rate (needs wards).",
    )
    return Choices(method, eps, min_samples, tiles, attribution, shading, error_slot, tuned, auto)
