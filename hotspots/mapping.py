"""The hotspot map: frames in, :class:`folium.Map` out (pure; nothing is read or written).

What the map draws, bottom to top:

* **Heat** (pane ``heat``): the incidents as a weighted heat layer built from the *unique* map
  points with their counts as weights (police.uk snaps many crimes onto one point), so the page
  stays small whatever the number of incidents. When there are more than ``max_points`` unique
  points they are merged on a square grid (5 m, 10 m, 20 m, ...; the smallest that fits) and
  the legend says so. Colours are relative to the busiest spots at the current zoom (the 98th
  percentile of the heat cells, so that one extreme point does not wash the rest out).
* **Wards** and **patrol areas** (pane ``reference``), when given: outlines with their names as
  tooltips, wards grey, patrol areas dashed blue.
* **Incident points** (pane ``points``), only when there are at most 2,000 unique map points:
  small grey circles, larger for more incidents, with the count as tooltip. Above that the heat
  carries the picture and thousands of SVG circles would only slow the browser. The layer
  starts switched off when there are hotspots (it would cover them); the layer control shows it.
* **Hotspots**: one GeoJSON layer of polygons coloured by rank (dark red = rank 1), each labelled
  with its id (permanently for the first 30 ranks), with a popup table: incidents, share, area,
  density, PAI, top crime types, top streets, wards, patrol coverage, trend in words, months.
  Outlines are simplified for display (within 2 m) and hotspots are drawn in rank order while
  they fit the page's byte budget (:mod:`hotspots.web`: the page stays under 2 MB); the legend
  says when only the top ones are drawn.
* **Ward names** and **street names** (pane ``labels``, :mod:`hotspots.map_labels`): each ward's
  name inside it from borough zoom on; from street zoom on, the incidents' own map points named
  by their police.uk streets ("On or near ..."), so that the map reads without tiles (with a tile
  server the street names start switched off: the tiles name the streets).
* A title box ("SYNTHETIC DEMO DATA" when ``synthetic``), a legend, a layer control, a scale bar
  and a full-screen button; the view fits the data.

Every text that comes from the data (crime types, streets, wards, names, the title) is
HTML-escaped here; popups and tooltips are bound with plain Leaflet from pre-escaped strings, not
with folium's ``Popup`` / ``GeoJsonPopup``. With ``tiles=None`` (the offline default of the app)
the map has a light background on which outlines and labels stay readable.

This module sets the map up (view, base map, panes, style, boxes and controls) and prepares the
points; the data layers are drawn by :mod:`hotspots.map_layers`; rank colours and the trend in
words come from :mod:`hotspots.palette`, which the printable pages share.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane
from folium.plugins import Fullscreen
from folium.template import Template

from ._text import esc
from .assets import local_assets
from .basemap import add_data_attribution, add_tiles, check_tiles
from .crs import to_wgs84
from .errors import InputError, ParameterError
from .map_base import MapBase, map_base
from .map_labels import (
    LABEL_CSS,
    STREET_ZOOM,
    WARD_ZOOM,
    HotspotLabelSpacing,
    add_labels,
    labels_bytes,
    street_labels,
)
from .map_layers import add_heat, add_hotspots, add_points, add_reference_layers, display_layer
from .palette import RANK_COLOURS, rank_classes
from .web import HEAT_MAX_POINTS, MAP_LABEL_BYTES, map_hotspot_budget

__all__ = ["FRAME_PADDING", "POINTS_MAX", "make_map"]

log = logging.getLogger(__name__)

#: Room kept round the data when a map is framed, in pixels: more at the top, where the
#: title box sits over the map (the northern tip of a borough was under it).
FRAME_PADDING: dict[str, tuple[int, int]] = {
    "padding_top_left": (30, 75),
    "padding_bottom_right": (30, 30),
}
#: At most this many unique map points are also drawn as circles (above it: heat only).
POINTS_MAX = 2_000
_BACKGROUND = "#f2efe9"
_UK_CENTRE = (54.0, -2.5)
# The closest zoom (about 0.3 m a pixel): street names read from STREET_ZOOM (16) on.
_MAX_ZOOM = 19

_RANK_CSS = "\n".join(
    f".leaflet-tooltip.hotspot-label.hs-r{i} {{ border-color: {c}; }}"
    for i, c in enumerate(RANK_COLOURS)
)
_CSS = f"""
<style>
html body .leaflet-container {{ background: {_BACKGROUND}; }}
.leaflet-tooltip.hotspot-label {{ background: rgba(255,255,255,0.8); border: 1px solid #555;
  border-left-width: 5px; border-radius: 3px; box-shadow: none; padding: 0 3px;
  font: bold 11px/1.3 sans-serif; color: #111; }}
.leaflet-tooltip.hotspot-label::before {{ display: none; }}
{_RANK_CSS}
.hs-box {{ background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 sans-serif; color: #222;
  max-width: 240px; }}
.hs-title {{ position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  text-align: center; max-width: 60%; pointer-events: auto; }}
.hs-title b {{ font-size: 14px; }}
.hs-synthetic {{ display: inline-block; margin-left: 6px; padding: 1px 5px; border-radius: 3px;
  background: #b00020; color: #fff; font-weight: bold; font-size: 11px; letter-spacing: .04em; }}
.hs-legend .hs-swatch {{ display: inline-block; width: 14px; height: 10px; margin-right: 5px;
  vertical-align: middle; border: 1px solid rgba(0,0,0,.4); }}
.hs-legend .hs-heat {{ display: inline-block; width: 60px; height: 8px; margin-right: 5px;
  vertical-align: middle;
  background: linear-gradient(to right, #dadaeb, #9e9ac8, #6a51a3, #3f007d); }}
.hs-legend .hs-note {{ color: #555; font-size: 11px; margin-top: 3px; }}
.hs-popup table {{ border-collapse: collapse; font: 12px/1.35 sans-serif; }}
.hs-popup th {{ text-align: left; vertical-align: top; padding: 1px 8px 1px 0; color: #555;
  font-weight: normal; white-space: nowrap; }}
.hs-popup td {{ padding: 1px 0; }}
.hs-popup ul {{ margin: 0; padding-left: 14px; }}
.hs-popup h4 {{ margin: 0 0 4px; font: bold 13px sans-serif; }}
</style>
"""


class _Box(MacroElement):
    """A fixed HTML box inside the map container (so it stays visible in full screen).

    ``position`` is a Leaflet control corner, or ``"top"`` for a centred title.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            {%- if this.position == "top" %}
            map.getContainer().appendChild(div);
            {%- else %}
            var box = L.control({position: {{ this.position|tojson }}});
            box.onAdd = function () { return div; };
            box.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "HotspotsBox"
        self.html = body
        self.position = position
        self.css_class = css_class


class _MetricScale(MacroElement):
    """A metric-only scale bar (distances in the analysis are metres)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


def _extent(hs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hotspots' bounding box in WGS84 (one polygon; none without hotspots)."""
    if not len(hs):
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return to_wgs84(gpd.GeoDataFrame(geometry=[shapely.box(*hs.total_bounds)], crs=hs.crs))


def _bounds(frames: Sequence[gpd.GeoDataFrame | pd.DataFrame]) -> list[list[float]] | None:
    """[[south, west], [north, east]] over the given WGS84 frames (x/y frames or GeoDataFrames)."""
    boxes = []
    for f in frames:
        if len(f) == 0:
            continue
        if isinstance(f, gpd.GeoDataFrame):
            b = f.total_bounds
        else:
            b = np.array([f["lon"].min(), f["lat"].min(), f["lon"].max(), f["lat"].max()])
        if np.all(np.isfinite(b)):
            boxes.append(b)
    if not boxes:
        return None
    arr = np.vstack(boxes)
    w, s = arr[:, 0].min(), arr[:, 1].min()
    e, n = arr[:, 2].max(), arr[:, 3].max()
    return [[float(s), float(w)], [float(n), float(e)]]


def _add_style_and_panes(m: folium.Map) -> None:
    """The map's CSS (labels, boxes, popups, background), three panes below the hotspots and
    one above them for the ward and street names."""
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(_CSS + LABEL_CSS), name="hotspots_css")
    CustomPane("heat", z_index=350, pointer_events=False).add_to(m)
    CustomPane("reference", z_index=380, pointer_events=True).add_to(m)
    # Points below the hotspots (overlay pane, 400): a hotspot is never hidden by its points.
    CustomPane("points", z_index=390, pointer_events=True).add_to(m)
    # Ward and street names above the hotspot outlines (400), never catching a click.
    CustomPane("labels", z_index=420, pointer_events=False).add_to(m)


def _legend_html(
    n_hotspots: int,
    heat_note: str | None,
    points_drawn: bool,
    wards: bool,
    patrols: bool,
) -> str:
    """The legend box's HTML: rank classes, heat, points, wards, patrol areas, the heat note."""
    parts = ["<b>Hotspots</b>"]
    if n_hotspots:
        for colour, label in rank_classes(n_hotspots):
            parts.append(
                f"<div><span class='hs-swatch' style='background:{colour}'></span>{label}</div>"
            )
    else:
        parts.append("<div>none found with these settings</div>")
    if heat_note is not None:
        parts.append(
            "<div style='margin-top:4px'><span class='hs-heat'></span>incident heat "
            "(darker = more incidents)</div>"
        )
    if points_drawn:
        parts.append(
            "<div><span class='hs-swatch' style='background:#888;border-radius:50%;width:8px;"
            "height:8px'></span>map points (size = incidents)</div>"
        )
    if wards:
        parts.append(
            "<div><span class='hs-swatch' style='background:none;border:2px solid #555'></span>"
            "wards</div>"
        )
    if patrols:
        parts.append(
            "<div><span class='hs-swatch' style='background:rgba(33,102,172,.15);"
            "border:2px dashed #2166ac'></span>patrol areas</div>"
        )
    if heat_note:
        parts.append(f"<div class='hs-note'>{esc(heat_note)}</div>")
    return "".join(parts)


def _add_boxes(
    m: folium.Map,
    *,
    title: str | None,
    synthetic: bool,
    n_hotspots: int,
    n_incidents: int,
    legend: str,
) -> None:
    """The title box, the legend box (``legend``: HTML), a metric scale, full screen, layers."""
    heading = esc(title) if title else "Crime hotspots"
    badge = "<span class='hs-synthetic'>SYNTHETIC DEMO DATA</span>" if synthetic else ""
    sub = f"{n_hotspots:,} hotspot{'s' if n_hotspots != 1 else ''} · {n_incidents:,} incidents"
    m.add_child(
        _Box(
            f"<b>{heading}</b>{badge}<div>{sub}</div>",
            position="top",
            css_class="hs-box hs-title",
        )
    )
    m.add_child(_Box(legend, position="bottomright", css_class="hs-box hs-legend"))
    m.add_child(_MetricScale())
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)


def _check_arguments(
    hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, assets: str, max_points: int
) -> None:
    """ParameterError / InputError for frames, ``assets`` and ``max_points`` make_map refuses."""
    for name, frame in (("hotspots", hotspots), ("incidents", incidents)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ParameterError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}.")
    missing = [c for c in ("hotspot_id", "rank") if c not in hotspots.columns]
    if missing:
        raise InputError(
            f"hotspots: missing column(s) {', '.join(missing)}; pass the frame find_hotspots made."
        )
    if assets not in ("inline", "static"):
        raise ParameterError(f"assets must be 'inline' or 'static', not {assets!r}.")
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int | np.integer)
        or max_points < 1
    ):
        raise ParameterError(
            f"max_points must be a whole number of at least 1, not {max_points!r}."
        )


def _add_names(
    m: folium.Map, base: MapBase, hs: gpd.GeoDataFrame, streets_on: bool
) -> tuple[int, int]:
    """Ward names and street names (:mod:`hotspots.map_labels`) within ``MAP_LABEL_BYTES``
    (street names switched off at first when ``streets_on`` is False: a base map names its
    streets); returns their bytes and the number of street labels."""
    wl = base.ward_labels
    used = labels_bytes(wl)
    if used > MAP_LABEL_BYTES:  # thousands of wards: the largest in half the budget
        fits = np.cumsum([labels_bytes([w]) for w in wl]) <= MAP_LABEL_BYTES // 2
        wl = wl[: int(fits.sum())]
        used = labels_bytes(wl)
    add_labels(m, wl, name="Ward names", min_zoom=WARD_ZOOM, kind="ward")
    sl = []
    if base.streets is not None:
        sl = street_labels(base.streets, hs, max_bytes=MAP_LABEL_BYTES - used)
    add_labels(m, sl, name="Street names", min_zoom=STREET_ZOOM, kind="street", show=streets_on)
    return used + labels_bytes(sl), len(sl)


def _empty_map(bounds: list[list[float]] | None, tiles: str | None) -> folium.Map:
    """A map centred on ``bounds`` (the UK when None), without tiles yet."""
    if bounds is None:
        centre, zoom = list(_UK_CENTRE), 6
    else:
        centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
        zoom = 13
    # Fractional zoom fits the data tightly; with raster tiles whole levels keep them sharp.
    m = folium.Map(
        location=centre,
        zoom_start=zoom,
        tiles=None,
        control_scale=False,
        zoom_snap=1 if tiles else 0.25,
    )
    m.options["maxZoom"] = _MAX_ZOOM  # without tiles Leaflet would zoom on to a few metres
    return m


def make_map(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    assets: Literal["inline", "static"] = "inline",
    static_url: str = "/app/static/vendor",
    tiles: str | None = None,
    attribution: str | None = None,
    title: str | None = None,
    synthetic: bool = False,
    max_points: int = HEAT_MAX_POINTS,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_shading: str | None = None,
    base: MapBase | None = None,
) -> folium.Map:
    """The hotspot map: incident heat, ranked hotspot polygons, optional wards and patrol areas.

    Parameters
    ----------
    hotspots
        Hotspots frame (``HOTSPOT_COLUMNS``; at least ``hotspot_id``, ``rank`` and polygons) in
        any CRS. May be empty.
    incidents
        Incidents frame (points) in any CRS; only the geometry is used. May be empty.
    assets
        Where the page loads Leaflet from (see :func:`hotspots.assets.local_assets`):
        ``"inline"`` for a standalone page (:func:`hotspots.export.write_map_html` /
        :func:`hotspots.export.map_html`), ``"static"`` for URLs under ``static_url``.
    static_url
        URL prefix of ``static/vendor`` when ``assets="static"``; the default is Streamlit's
        static serving, from the server root (relative ``app/static/vendor`` fails inside
        ``st_folium``'s iframe).
    tiles
        ``None`` (the default) for no base map (offline: light background, nothing asked of
        any server, as the command line and ``write_analysis``), a folium tile name such as
        ``"OpenStreetMap"``, or a URL template (``https://tiles.example/{z}/{x}/{y}.png``) for an
        organisation's own tile server, checked by :func:`hotspots.basemap.check_tiles`.
    attribution
        Plain text credited in the corner (escaped); for a URL template it is the tiles'
        attribution (default: the server's host name).
    title
        Shown in a box at the top (escaped).
    synthetic
        Mark the map "SYNTHETIC DEMO DATA".
    max_points
        Most heat points drawn; more unique map points are merged on a grid (legend note).
        The default, :data:`hotspots.web.HEAT_MAX_POINTS`, keeps the heat under ~0.4 MB.
    wards, patrol_areas
        Reference polygons (any CRS); named by a ``name`` column, else the first text column.
    ward_shading
        A numeric column of ``wards`` (e.g. ``incidents``, ``incidents_per_km2`` or
        ``incidents_per_1000`` from :func:`hotspots.overlay.ward_table` joined on ``ward_code``)
        to shade the wards by, in five quantile classes from light to dark blue; the legend
        gives the range and each ward's tooltip its value. None: outlines only.
    base
        What :func:`hotspots.map_base.map_base` prepared of these same ``incidents`` and
        ``wards`` with this ``max_points`` (the heat points, ward and street names); prepared
        here when None. A caller drawing many maps of one filter keeps it.

    Returns
    -------
    folium.Map

    Raises
    ------
    ParameterError
        For an argument of the wrong kind or out of range (a bad tile server: one plain line,
        ``argument="tiles"``).
    InputError
        For a frame without a CRS or without the hotspot columns.
    """
    _check_arguments(hotspots, incidents, assets, max_points)
    tiles = check_tiles(tiles)

    # --- data (hotspots stay in their CRS: outlines are simplified in metres when drawn) ---
    if hotspots.crs is None:
        raise InputError("hotspots: the layer has no coordinate reference system; give its CRS.")
    hs = hotspots[hotspots.geometry.notna() & ~hotspots.geometry.is_empty]
    hs = hs.sort_values("rank", kind="stable") if len(hs) else hs
    if base is None or base.max_points != max_points:
        base = map_base(incidents, wards, max_points=max_points)
    pts, n_incidents, n_unique, heat_note = (
        base.points,
        base.n_incidents,
        base.n_unique,
        base.heat_note,
    )
    ward_frame = None
    if wards is not None:  # as prepared, unless the base had none or other columns (shading)
        ward_frame = base.ward_frame
        if ward_frame is None or list(ward_frame.columns) != list(wards.columns):
            ward_frame = display_layer(wards, "wards")
    patrol_frame = display_layer(patrol_areas, "patrol_areas") if patrol_areas is not None else None

    # --- map ------------------------------------------------------------------------------
    bounds = _bounds([_extent(hs), pts]) or _bounds(
        [f for f in (ward_frame, patrol_frame) if f is not None]
    )
    m = _empty_map(bounds, tiles)
    add_tiles(m, tiles, attribution)
    add_data_attribution(m, synthetic)
    _add_style_and_panes(m)
    if len(pts):
        add_heat(m, pts)
    shading_note = add_reference_layers(m, ward_frame, patrol_frame, ward_shading)
    n_hs = len(hs)
    points_drawn = 0 < len(pts) <= POINTS_MAX
    label_bytes, n_streets = _add_names(m, base, hs, tiles is None)
    budget = map_hotspot_budget(
        heat_points=len(pts),
        circles=len(pts) if points_drawn else 0,
        reference_layers=sum(f is not None and len(f) > 0 for f in (ward_frame, patrol_frame)),
        label_bytes=label_bytes,
    )
    drawn, ranks_coloured = add_hotspots(m, hs, max_bytes=budget) if n_hs else ([], 0)
    n_drawn = len(drawn)
    if n_drawn > 1:
        HotspotLabelSpacing().add_to(m)  # ids of close hotspots not over each other
    if n_drawn < n_hs:
        shading_note += (
            f"<div class='hs-note'>the top {n_drawn:,} of {n_hs:,} hotspots by rank are drawn, "
            "to keep the map small; all are in the hotspots table</div>"
        )
    if points_drawn:
        # off by default when there are hotspots: a borough's points would bury them
        add_points(m, pts, show=n_hs == 0)

    # --- boxes and controls ----------------------------------------------------------------
    legend = _legend_html(  # the rank classes of the colours drawn
        ranks_coloured, heat_note, points_drawn, ward_frame is not None, patrol_frame is not None
    )
    if n_streets and tiles is None:
        legend += "<div class='hs-note'>zoom in to streets to read their names</div>"
    _add_boxes(
        m,
        title=title,
        synthetic=synthetic,
        n_hotspots=n_hs,
        n_incidents=n_incidents,
        legend=legend + shading_note,
    )
    if bounds is not None:
        m.fit_bounds(bounds, **FRAME_PADDING, max_zoom=17)
    local_assets(m, mode=assets, static_url=static_url)
    log.info(
        "map: %d hotspots, %d incidents at %d map points (%d drawn)",
        n_hs,
        n_incidents,
        n_unique,
        len(pts),
    )
    return m
