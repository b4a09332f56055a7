"""Presentation helpers for the dashboard: no Streamlit calls here, and no analysis.

Uploads are written to a temporary folder and read by the library; maps are built by
:func:`hotspots.make_map`; files are written by the :mod:`hotspots.export` writers.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import Point, shape

from geodata import load_patrol_areas, load_wards
from geodata.settings import Settings
from geodata.store import PatrolAreaStore
from hotspots import (
    InputError,
    LoadReport,
    filter_incidents,
    make_map,
    read_incidents,
    write_summary,
    write_table_csv,
)
from hotspots.crs import to_metres
from hotspots.export import map_html
from hotspots.map_base import MapBase
from hotspots.map_layers import add_uncovered
from hotspots.mapping import FRAME_PADDING
from hotspots.pipeline import Analysis
from hotspots.report.briefing_content import BriefingContent

STATIC_URL = "/app/static/vendor"
DEMO = "demo"
ALL_TYPES = "All crime types"
CUSTOM = "Custom"
# Crime-type presets (data.police.uk names); only the types present in the data are selected.
PRESETS: dict[str, tuple[str, ...]] = {
    "Violence and weapons": ("Violence and sexual offences", "Possession of weapons"),
    "Robbery and theft from the person": ("Robbery", "Theft from the person"),
    "Drugs": ("Drugs",),
    "Anti-social behaviour": ("Anti-social behaviour",),
}
UPLOAD_TYPES = ["csv", "zip", "json", "geojson", "gpkg", "parquet", "txt", "tsv"]
LAYER_TYPES = ["geojson", "json", "gpkg", "zip", "kml"]
Files = tuple[tuple[str, bytes], ...]
#: From this many incidents on (a city's year), the dashboard runs the back-test of the
#: settings in use when asked: at each setting it takes about as long as the rest of the page.
CITY_INCIDENTS = 150_000

# ------------------------------------------------------------------------------------------
# Reading: uploads are written to a temporary folder and read by the library.


def digest(files: Files) -> str:
    """A short key for uploaded files: their names and contents."""
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def _write_uploads(files: Files, folder: Path) -> list[Path]:
    paths = []
    for i, (name, data) in enumerate(files):
        safe = Path(name).name or f"upload-{i}"
        sub = folder / str(i)  # one folder each: two uploads may share a name
        sub.mkdir()
        path = sub / safe
        path.write_bytes(data)
        paths.append(path)
    return paths


def read_uploaded_incidents(files: Files) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read uploaded incident files (name, bytes) with :func:`hotspots.read_incidents`.

    Raises InputError (one line, shown next to the upload control) for anything unreadable.
    """
    if not files:
        raise InputError("no file uploaded; choose one or more incident files.")
    with tempfile.TemporaryDirectory(prefix="hotspots-upload-") as tmp:
        return read_incidents(_write_uploads(files, Path(tmp)))


def read_uploaded_layer(
    kind: str, files: Files, incidents: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read an uploaded ward ("wards") or patrol-area ("patrols") layer next to ``incidents``."""
    if not files:
        raise InputError("no file uploaded; choose a boundary file.")
    loader = load_wards if kind == "wards" else load_patrol_areas
    with tempfile.TemporaryDirectory(prefix="hotspots-layer-") as tmp:
        paths = _write_uploads(files, Path(tmp))
        main = next((p for p in paths if p.suffix.lower() != ".json"), paths[0])
        return loader(main, incidents=incidents)


def save_drawn_area(store: PatrolAreaStore, name: str, geometry: dict[str, Any]) -> str:
    """Save a polygon drawn on the map (GeoJSON geometry, WGS84) as a named patrol area."""
    if not name or not name.strip():
        raise InputError("give the new patrol area a name.")
    try:
        geom = shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise InputError("the drawn shape is not a polygon; draw a polygon or rectangle.") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError("the drawn shape is not a polygon; draw a polygon or rectangle.")
    store.add(name.strip(), geom, crs="EPSG:4326")
    return name.strip()


def _shape_key(geometry: Any) -> str:
    return json.dumps(geometry, sort_keys=True)


def new_drawing(all_drawings: Any, seen: Sequence[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """The shape just drawn with the drawing tool, if any, and the shapes seen so far.

    ``all_drawings`` is streamlit-folium's list of the draw tool's own shapes (GeoJSON
    features). A click on a hotspot, a ward or a patrol area changes ``last_object_clicked``
    (and streamlit-folium's ``last_active_drawing``, which is any clicked layer), never this
    list: so only a draw-tool shape is offered for saving. Returns (geometry or None, the keys
    of every shape seen, to pass back next time).
    """
    known = list(seen)
    fresh: dict[str, Any] | None = None
    for feature in all_drawings or []:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            continue
        key = _shape_key(geometry)
        if key not in known:
            known.append(key)
            fresh = geometry
    return fresh, known


def patrol_layer(
    current: gpd.GeoDataFrame | None, saved: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame | None, list[str]]:
    """One patrol layer: the current areas (demo or uploaded) and the saved ones, and a
    note for each name both have with different boundaries.

    Names compare without case. A saved area with the same boundary as a current one (within
    a few m², as saved from it) is drawn once; with another boundary, the current one (the file
    the user gives now) is used and the saved one left out, with a note. None when neither
    has any area.
    """
    parts: list[gpd.GeoDataFrame] = []
    notes: list[str] = []
    have_current = current is not None and len(current) > 0
    have_saved = saved is not None and len(saved) > 0
    if have_current:
        assert current is not None
        parts.append(current[["patrol_area", "geometry"]])
    if have_saved:
        assert saved is not None
        kept = saved[["patrol_area", "geometry"]].to_crs(parts[0].crs if parts else saved.crs)
        if have_current:
            assert current is not None
            drop, notes = _shadowed(current, kept)
            kept = kept[~drop]
        parts.append(kept)
    if not parts:
        return None, notes
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs), notes


# Two boundaries of one name are the same when they differ by at most this many m², or this
# share of the saved one's area (a round trip between coordinate systems moves a park's
# outline by a few m²).
_SAME_AREA_M2 = 10.0
_SAME_AREA_SHARE = 0.001


def _shadowed(
    current: gpd.GeoDataFrame, saved: gpd.GeoDataFrame
) -> tuple[npt.NDArray[np.bool_], list[str]]:
    """Which saved areas share a current one's name (``saved`` in ``current``'s CRS), and a
    note for each whose boundary differs (by more than :data:`_SAME_AREA_M2` m² and
    :data:`_SAME_AREA_SHARE` of its area)."""
    names = current["patrol_area"].astype(str).str.casefold()
    same = saved["patrol_area"].astype(str).str.casefold()
    drop = same.isin(set(names)).to_numpy()
    notes = []
    if drop.any():
        both = pd.concat([current[["patrol_area", "geometry"]], saved[drop]])
        metric = to_metres(gpd.GeoDataFrame(both, crs=current.crs))
        mine = dict(zip(names, metric.geometry.iloc[: len(current)], strict=True))
        for name, geom in zip(
            saved["patrol_area"][drop], metric.geometry.iloc[len(current) :], strict=True
        ):
            other = mine[str(name).casefold()]
            changed = float(shapely.area(shapely.symmetric_difference(other, geom)))
            if changed > max(_SAME_AREA_M2, _SAME_AREA_SHARE * float(shapely.area(geom))):
                notes.append(
                    f"Patrol area '{name}': the boundary given now is used, not the saved one "
                    "of the same name (they differ); rename or delete the saved one to keep both."
                )
    return drop, notes


def uploaded_files(widget_value: Any) -> Files:
    items = widget_value if isinstance(widget_value, list) else [widget_value]
    return tuple((f.name, f.getvalue()) for f in items if f is not None)


def build_map(
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None,
    patrols: gpd.GeoDataFrame | None,
    tiles: str | None,
    attribution: str | None,
    title: str,
    synthetic: bool,
    assets: str = "static",
    points: bool = True,
    ward_shading: str | None = None,
    uncovered: gpd.GeoDataFrame | None = None,
    frame: list[list[float]] | None = None,
    base: MapBase | None = None,
) -> folium.Map:
    """The hotspot map (:func:`hotspots.make_map`), the uncovered hotspots marked on it
    (``base``: :func:`hotspots.map_base.map_base` of ``chosen`` and ``wards``, if kept)."""
    m = make_map(
        analysis.hotspots,
        chosen if points else chosen.iloc[0:0],
        assets=assets,  # type: ignore[arg-type]
        static_url=STATIC_URL,
        tiles=tiles,
        attribution=attribution,
        title=title,
        synthetic=synthetic,
        wards=wards,
        patrol_areas=patrols,
        ward_shading=ward_shading,
        base=base if points else None,
    )
    if uncovered is not None:
        add_uncovered(m, uncovered)
    if frame is not None:  # the bulk of the incidents, not a few recorded far away
        m.fit_bounds(frame, **FRAME_PADDING, max_zoom=17)
    return m


def standalone_map(
    analysis: Analysis, chosen: gpd.GeoDataFrame, *, points: bool = True, **map_kw: Any
) -> str:
    """The map as one HTML page that opens offline (hotspots.export.map_html)."""
    return map_html(build_map(analysis, chosen, assets="inline", points=points, **map_kw))


def add_draw_tool(m: folium.Map) -> bool:
    """Add Leaflet.draw (polygon and rectangle) when its files are installed in static/vendor.

    Returns False, leaving the map as it was, when hotspots.assets does not ship Leaflet.draw:
    the map never loads a script from a public CDN.
    """
    from folium.plugins import Draw

    from hotspots.assets import local_assets

    draw = Draw(
        export=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": True,
            "rectangle": True,
        },
        edit_options={"edit": False, "remove": False},
    )
    draw.add_to(m)
    try:
        local_assets(m, mode="static", static_url=STATIC_URL)
    except (ValueError, InputError):
        del m._children[draw.get_name()]
        return False
    return True


def hotspot_at(hotspots_wgs: gpd.GeoDataFrame, lat: float, lng: float) -> str | None:
    """The id of the best-ranked hotspot whose polygon holds the clicked point, else None."""
    if hotspots_wgs is None or len(hotspots_wgs) == 0:
        return None
    hit = hotspots_wgs[hotspots_wgs.geometry.intersects(Point(lng, lat))]
    if len(hit) == 0:
        return None
    return str(hit.sort_values("rank")["hotspot_id"].iloc[0])


# ------------------------------------------------------------------------------------------
# Presentation helpers


def fewer_than_5(value: int) -> str:
    """Counts of 1-4 as "fewer than 5" (:func:`hotspots.report.wording.suppress_small`)."""
    from hotspots.report.wording import suppress_small

    return suppress_small(int(value))


def no_links(text: str) -> str:
    r"""``text`` from the data (streets, crime types, ward, area, column and file names, and
    the messages that quote them) made safe for ``st.write``, ``st.caption``, ``st.error``
    ...: no image, link, autolink or formula can form (``[ ] < > $`` and the backslash
    escaped; a word joiner after ``www``, before ``//`` and ``@``), so it loads nothing and
    links nowhere; its words and punctuation otherwise read as written.

    >>> no_links("Read 540 rows; used 540.")
    'Read 540 rows; used 540.'
    >>> no_links("![a](http://x/y.png) www.x.com <b> $x$").replace("\u2060", "^")
    '!\\[a\\](http:^//x/y.png) www^.x.com \\<b\\> \\$x\\$'
    """
    return re.sub(r"([\\\[\]<>$])", r"\\\1", _unlinked(text))


def _unlinked(text: str) -> str:
    """``text`` with a word joiner after ``www``, before ``//`` and before ``@``: no web or
    mail address in it turns into a link (the one rule of :func:`no_links` and
    :func:`plain_markdown`)."""
    return re.sub(r"(?i)www(?=\.)|:(?=//)|(?=@)", lambda m: m.group(0) + "\u2060", text)


def plain_markdown(text: str) -> str:
    r"""``text`` shown as written in ``st.markdown`` (and ``st.write``, ``st.caption``,
    ``st.error`` ...): every Markdown and HTML mark escaped, and web and mail addresses kept
    from turning into links (:func:`_unlinked`), so text from the data loads nothing and
    links nowhere. :func:`no_links` escapes only what could load or link.

    >>> plain_markdown("A*b* [x](y) <i>")
    'A\\*b\\* \\[x\\]\\(y\\) \\<i\\>'
    >>> "](" in plain_markdown("![a](http://x/y.png)")
    False
    """
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", _unlinked(text))


def file_bytes(writer: Callable[[Path], Any], suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="hotspots-dl-") as tmp:
        path = Path(tmp) / f"out{suffix}"
        writer(path)
        return path.read_bytes()


def table_csv(table: pd.DataFrame) -> bytes:
    return file_bytes(lambda p: write_table_csv(table, p), ".csv")


def printable_html(title: str, period: str, tables: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """A plain printable page of tables (every cell escaped)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin-bottom:2em}td,th{border:1px solid #999;padding:4px 8px;text-align:left}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(period)}</p>",
    ]
    for heading, frame in tables:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(frame.to_html(index=False, escape=True, na_rep=""))
    parts.append("</body></html>")
    return "".join(parts)


def months_between(start: str, end: str) -> str:
    return start if start == end else f"{start} to {end}"


# ------------------------------------------------------------------------------------------
# Sidebar sections


def k_distance_chart(spacing: np.ndarray, eps: float | None) -> alt.LayerChart | alt.Chart:
    """The map points' spacing, sorted, and the distance in use. The axis stops at four times
    the larger of that distance and the 95th percentile: a few points recorded far away
    (hundreds of km) no longer flatten the curve to a line along zero."""
    curve = pd.DataFrame(
        {"map points (sorted)": np.arange(1, len(spacing) + 1), "distance (m)": spacing}
    )
    top = 4 * max(float(eps or 0), float(np.percentile(spacing, 95)) if len(spacing) else 0, 1)
    line = (
        alt.Chart(curve)
        .mark_line(clip=True)
        .encode(
            x="map points (sorted):Q",
            y=alt.Y("distance (m):Q", title="distance (m)", scale=alt.Scale(domain=[0, top])),
        )
    )
    if eps is None:
        return line.properties(height=160)
    rule = alt.Chart(pd.DataFrame({"eps": [eps]})).mark_rule(color="#c00").encode(y="eps:Q")
    return (line + rule).properties(height=160)


def without_outlines(frame: gpd.GeoDataFrame | None) -> pd.DataFrame | None:
    """A layer's table without its geometry, for showing as a table (None stays None)."""
    if frame is None:
        return None
    return pd.DataFrame(frame.drop(columns=frame.geometry.name))


def summary_json(analysis: Analysis, report: LoadReport) -> bytes:
    """``summary.json`` of the analysis, as ``hotspots analyse`` writes it."""
    return file_bytes(lambda p: write_summary(analysis.summary(report), p), ".json")


def analysed_report(
    report: LoadReport,
    loaded: gpd.GeoDataFrame,
    filters: tuple[str | None, str | None, list[str]],
    analysed: int,
) -> LoadReport:
    """The load report of what the analysis used, as the command line's: the rows the
    sidebar's months and crime types left out under their reasons (as ``hotspots.
    filter_incidents`` counts them), those outside the wards chosen, and those recorded far
    from the rest that the user left out. ``loaded``: the incidents the filters started from;
    ``filters``: first month, last month, crime types; ``analysed``: the rows analysed."""
    out = copy.deepcopy(report)
    far = out.rows_used - len(loaded)  # left out with the sidebar's tick
    if far > 0:
        out.drop("recorded far from the rest, left out", far)
        out.rows_used -= far
    start, end, types = filters
    try:
        filter_incidents(loaded, out, start=start, end=end, categories=types or None)
    except InputError:  # (the analysis would not have run)
        return out
    wards = out.rows_used - analysed
    if wards > 0:
        out.drop("outside the wards chosen", wards)
        out.rows_used -= wards
    return out


def shaded_wards(
    wards: gpd.GeoDataFrame | None, table: pd.DataFrame | None, column: str | None
) -> gpd.GeoDataFrame | None:
    """The wards with the ward table's ``column`` joined on, for shading the map; the wards
    as they are when there is nothing to shade."""
    if not column or wards is None or table is None:
        return wards
    values = table[["ward_code", column]]
    return wards.drop(columns=column, errors="ignore").merge(values, on="ward_code", how="left")


def briefing_table(hotspots: gpd.GeoDataFrame, top_n: int = 10) -> pd.DataFrame:
    """The briefing's hotspot table, all text, counts of 1-4 as "fewer than 5"
    (:func:`hotspots.report.briefing_tables.suppressed_table`)."""
    from hotspots.report.briefing_tables import suppressed_table

    return suppressed_table(hotspots, top_n=top_n).table


def briefing_parts(
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    period: tuple[str, str],
    *,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
) -> BriefingContent:
    """Every figure of the briefing as text (:func:`hotspots.report.briefing_content`): what
    the screen shows and the file prints, small counts hidden the same way in both."""
    from hotspots.report.briefing_content import briefing_content

    return briefing_content(
        hotspots=analysis.hotspots,
        incidents=chosen,
        period=period,
        ward_table=analysis.ward_table,
        incidents_outside=analysis.incidents_outside_wards,
        crime_types=crime_types,
        ward_names=ward_names,
        top_n=10,
    )


def briefing_page(
    analysis: Analysis,
    chosen: gpd.GeoDataFrame,
    map_kw: dict[str, Any],
    period: tuple[str, str],
    *,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
    content: BriefingContent | None = None,
) -> str:
    """The briefing file (:func:`hotspots.report.briefing.briefing_page_html`) of ``content``
    (:func:`briefing_parts` when None): map, numbers, what it counts."""
    from hotspots.report.briefing import briefing_page_html

    if content is None:
        content = briefing_parts(
            analysis, chosen, period, crime_types=crime_types, ward_names=ward_names
        )
    return briefing_page_html(
        content,
        hotspots=analysis.hotspots,
        wards=map_kw["wards"],
        patrol_areas=map_kw["patrols"],
        title=map_kw["title"],
        synthetic=map_kw["synthetic"],
    )


# ------------------------------------------------------------------------------------------
# Fetching from data.police.uk (only when the user asks: it is the one thing that goes out)


def downloads_dir() -> Path:
    """Where fetched data are kept: ``downloads/`` beside the store (as ``hotspots fetch``)."""
    return Settings.from_environment().downloads_dir


def fetched_folders() -> list[Path]:
    """Folders of earlier fetches (those holding API JSON), newest first."""
    root = downloads_dir() / "police"
    if not root.is_dir():
        return []
    found = [d for d in root.iterdir() if d.is_dir() and any(d.rglob("*.json"))]
    return sorted(found, key=lambda d: d.stat().st_mtime, reverse=True)


def fetch_borough(
    lad_code: str,
    start: str,
    end: str,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[Path, Path]:
    """Fetch a local authority's wards (ONS) and its street crimes (data.police.uk).

    Into the downloads folder, through the download cache ``hotspots fetch`` uses too; the
    services' addresses are the settings' (``$HOTSPOTS_ONS_WARDS_URL`` and
    ``$HOTSPOTS_POLICE_API``, for an organisation's mirror). Returns (crimes folder, wards file).
    """
    from geodata.fetch.ons import fetch_wards
    from geodata.fetch.police import fetch_police

    settings = Settings.from_environment()
    code = lad_code.strip().upper()
    if start > end:
        raise InputError(f"from {start} is after to {end}; give the earlier month first.")
    root = settings.downloads_dir
    wards_file = root / "wards" / f"{code}.gpkg"
    wards_file.parent.mkdir(parents=True, exist_ok=True)
    wards = fetch_wards(
        code,
        out_file=wards_file,
        base_url=settings.ons_wards_url,
        cache_dir=settings.cache_dir,
    )
    out = root / "police" / f"{code}-{start}-{end}"
    fetch_police(
        wards,
        start=start,
        end=end,
        out_dir=out,
        base_url=settings.police_api,
        cache_dir=settings.cache_dir,
        progress=progress,
    )
    return out, wards_file
