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
* A title box ("SYNTHETIC DEMO DATA" when ``synthetic``), a legend, a layer control, a scale bar
  and a full-screen button; the view fits the data.

Every text that comes from the data (crime types, streets, wards, names, the title) is
HTML-escaped here; popups and tooltips are bound with plain Leaflet from pre-escaped strings, not
with folium's ``Popup`` / ``GeoJsonPopup``. With ``tiles=None`` (the offline default of the app)
the map has a light background on which outlines and labels stay readable.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane
from folium.plugins import Fullscreen, HeatMap
from folium.template import Template
from folium.utilities import JsCode

from .crs import to_wgs84
from .errors import InputError, ParameterError
from .report.page import esc, is_missing

__all__ = ["POINTS_MAX", "RANK_COLOURS", "make_map", "trend_words"]

log = logging.getLogger(__name__)

#: Sequential palette for hotspot ranks, darkest (rank 1) first (ColorBrewer YlOrRd).
RANK_COLOURS: tuple[str, ...] = ("#800026", "#bd0026", "#e31a1c", "#fc4e2a", "#fd8d3c", "#feb24c")
#: At most this many unique map points are also drawn as circles (above it: heat only).
POINTS_MAX = 2_000
# Hotspots labelled permanently with their id (the others on hover).
_LABELS_MAX = 30
# Decimal places of coordinates on the map: 6 for polygons (0.1 m), 5 for heat and points (1 m).
_POLY_DP = 6
_POINT_DP = 5
# Display-only simplification of reference layers (metres): ONS boundaries can be very detailed.
_SIMPLIFY_M = 5.0
_BACKGROUND = "#f2efe9"
# Heat colours saturate at this quantile of the heat cells (1.0: the busiest cell), so that one
# extreme map point (a station, a shopping centre) does not wash the rest out.
_HEAT_QUANTILE = 0.98
# Heat in purples, so that red stays the hotspots' colour and blue the patrol areas'.
_HEAT_GRADIENT = {
    0.25: "#dadaeb",
    0.45: "#bcbddc",
    0.65: "#9e9ac8",
    0.85: "#6a51a3",
    1.0: "#3f007d",
}
_UK_CENTRE = (54.0, -2.5)

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

_HOTSPOT_JS = JsCode(
    """function (feature, layer) {
    var p = feature.properties;
    layer.bindTooltip(p.label, {permanent: p.permanent, direction: "center",
                                className: "hotspot-label hs-r" + p.colour, opacity: 1});
    layer.bindPopup(p.popup, {maxWidth: 380});
    layer.on("mouseover", function () { this.setStyle({weight: 5}); });
    layer.on("mouseout", function () { this.setStyle({weight: 3}); });
}"""
)
_REFERENCE_JS = JsCode(
    """function (feature, layer) {
    if (feature.properties.label) {
        layer.bindTooltip(feature.properties.label, {sticky: true});
    }
}"""
)
_POINT_JS = JsCode(
    """function (feature, layer) {
    var n = feature.properties.n;
    layer.setRadius(Math.min(9, 2 + Math.sqrt(n)));
    layer.bindTooltip(n + (n === 1 ? " incident" : " incidents"));
}"""
)


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


class _Attribution(MacroElement):
    """Add a (pre-escaped) attribution to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            if ({{ this._parent.get_name() }}.attributionControl) {
                {{ this._parent.get_name() }}.attributionControl.addAttribution(
                    {{ this.text|tojson }});
            }
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "HotspotsAttribution"
        self.text = text


def trend_words(trend: float | None) -> str:
    """A relative change (0.25 = +25%) in words, for the hotspot popup.

    >>> trend_words(0.25)
    'up 25% on the previous period'
    >>> trend_words(-0.5)
    'down 50% on the previous period'
    >>> trend_words(0.01)
    'about the same as the previous period'
    >>> trend_words(float("nan"))
    'not enough months to compare'
    """
    if is_missing(trend):
        return "not enough months to compare"
    t = float(trend)  # type: ignore[arg-type]
    if math.isinf(t):
        return "new: none in the previous period" if t > 0 else "none in the latest period"
    if abs(t) < 0.05:
        return "about the same as the previous period"
    return f"{'up' if t > 0 else 'down'} {abs(t):.0%} on the previous period"


def _list_items(text: object) -> str:
    """ "Drugs 30; Burglary 12" as an escaped <ul> (or the escaped text when it is not a list)."""
    if is_missing(text) or not str(text).strip():
        return "&ndash;"
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    if len(parts) == 1:
        return esc(parts[0])
    return "<ul>" + "".join(f"<li>{esc(p)}</li>" for p in parts) + "</ul>"


def _area_text(km2: float) -> str:
    if km2 >= 0.1:
        return f"{km2:,.2f} km²"
    return f"{km2 * 1e6:,.0f} m²"


def _popup_html(row: pd.Series) -> str:
    """The popup table of one hotspot; every value escaped."""
    hid = esc(row.get("hotspot_id", ""))
    rows: list[tuple[str, str]] = []

    def add(label: str, value: str) -> None:
        rows.append((label, value))

    def num(name: str) -> float | None:
        value: Any = row.get(name)
        if is_missing(value):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    rank = num("rank")
    if rank is not None:
        add("Rank", f"{rank:.0f}")
    incidents = num("incidents")
    if incidents is not None:
        share = num("share")
        extra = f" ({share:.1%} of all analysed)" if share is not None else ""
        add("Incidents", f"{incidents:,.0f}{extra}")
    harm = num("harm")
    if harm is not None:
        harm_share = num("harm_share")
        extra = f" ({harm_share:.1%} of all harm)" if harm_share is not None else ""
        add("Harm", f"{harm:,.0f}{extra}")
    area = num("area_km2")
    if area is not None:
        add("Area", _area_text(area))
    density = num("density_km2")
    if density is not None:
        add("Density", f"{density:,.0f} incidents per km²")
    pai = num("pai")
    if pai is not None:
        add(
            "PAI",
            f"{pai:,.1f} <span style='color:#777'>(share of incidents / share of area)</span>",
        )
    if "top_categories" in row.index:
        add("Top crime types", _list_items(row["top_categories"]))
    if "top_locations" in row.index:
        add("Top streets", _list_items(row["top_locations"]))
    if "wards" in row.index and not is_missing(row["wards"]) and str(row["wards"]).strip():
        add("Wards", _list_items(row["wards"]))
    coverage = num("patrol_coverage")
    if coverage is not None:
        add("Patrol coverage", f"{coverage:.0%} of its incidents inside a patrol area")
    if "trend" in row.index:
        add("Trend", esc(trend_words(num("trend"))))
    first, last = row.get("first_month"), row.get("last_month")
    if not is_missing(first) or not is_missing(last):
        a = "?" if is_missing(first) else esc(first)
        b = "?" if is_missing(last) else esc(last)
        add("Months", a if a == b else f"{a} to {b}")
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<div class='hs-popup'><h4>Hotspot {hid}</h4><table>{body}</table></div>"


def _rank_class(position: int, n: int) -> int:
    """Colour class (index into RANK_COLOURS) of the hotspot at 0-based ``position`` of ``n``."""
    k = len(RANK_COLOURS)
    if n <= k:
        return position
    return min(k - 1, position * k // n)


def _rank_colour(position: int, n: int) -> str:
    """Colour of the hotspot at 0-based ``position`` among ``n`` ranked hotspots."""
    return RANK_COLOURS[_rank_class(position, n)]


def _rank_classes(n: int) -> list[tuple[str, str]]:
    """(colour, "ranks a-b") for the legend."""
    out: list[tuple[str, str]] = []
    for i, colour in enumerate(RANK_COLOURS):
        members = [p + 1 for p in range(n) if _rank_colour(p, n) == colour]
        if not members:
            continue
        lo, hi = members[0], members[-1]
        label = f"rank {lo}" if lo == hi else f"ranks {lo}–{hi}"
        if i == 0:
            label += " (most incidents)"
        out.append((colour, label))
    return out


def _round_geometry(geoms: gpd.GeoSeries, dp: int) -> npt.NDArray[Any]:
    arr = np.asarray(geoms.values, dtype=object)
    return np.asarray(shapely.transform(arr, lambda c: np.round(c, dp)), dtype=object)


def _features(geoms: npt.NDArray[Any], props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    feats = []
    for geom, p in zip(geoms, props, strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        feats.append(
            {"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": feats}


def _unique_points(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Unique coordinates (in the frame's CRS) with their incident counts, first-seen order."""
    geom = incidents.geometry
    ok = geom.notna().to_numpy() & ~geom.is_empty.to_numpy()
    pts = geom[ok]
    if len(pts) and not (pts.geom_type == "Point").all():
        pts = pts.representative_point()
    if len(pts) == 0:
        return pd.DataFrame({"x": [], "y": [], "n": []}).astype({"n": "int64"})
    xy = shapely.get_coordinates(np.asarray(pts.values, dtype=object))
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    frame = frame[np.isfinite(frame["x"]) & np.isfinite(frame["y"])]
    counts = frame.groupby(["x", "y"], sort=False).size()
    return pd.DataFrame(
        {
            "x": counts.index.get_level_values(0),
            "y": counts.index.get_level_values(1),
            "n": counts.to_numpy().astype("int64"),
        }
    )


def _cap_points(points: pd.DataFrame, max_points: int, metres: bool) -> tuple[pd.DataFrame, float]:
    """Merge points on a square grid until at most ``max_points`` remain (0.0: no merging)."""
    if len(points) <= max_points:
        return points, 0.0
    cell = 5.0 if metres else 5e-5
    while True:
        gx = np.floor(points["x"].to_numpy() / cell)
        gy = np.floor(points["y"].to_numpy() / cell)
        n = points["n"].to_numpy().astype(float)
        tmp = pd.DataFrame(
            {
                "gx": gx,
                "gy": gy,
                "wx": points["x"].to_numpy() * n,
                "wy": points["y"].to_numpy() * n,
                "n": n,
            }
        )
        merged = tmp.groupby(["gx", "gy"], sort=False)[["wx", "wy", "n"]].sum()
        if len(merged) <= max_points:
            out = pd.DataFrame(
                {
                    "x": merged["wx"].to_numpy() / merged["n"].to_numpy(),
                    "y": merged["wy"].to_numpy() / merged["n"].to_numpy(),
                    "n": merged["n"].to_numpy().round().astype("int64"),
                }
            )
            return out, cell
        cell *= 2


def _display_layer(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """A reference layer in WGS84, simplified for display, without empty geometries."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}.")
    if frame.crs is None:
        raise InputError(f"{what}: the layer has no coordinate reference system; give its CRS.")
    out = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if out.crs.is_projected:
        out = out.set_geometry(out.geometry.simplify(_SIMPLIFY_M, preserve_topology=True))
        return to_wgs84(out)
    out = to_wgs84(out)
    return out.set_geometry(out.geometry.simplify(_SIMPLIFY_M / 111_000, preserve_topology=True))


def _name_column(frame: gpd.GeoDataFrame) -> str | None:
    """The column that names the areas.

    ``ward_name`` / ``patrol_area`` (what :mod:`geodata.layers` loads), else ``name``, else a
    column whose name contains "name" or ends in "NM" (ONS: WD24NM), else the first text column.
    """
    for known in ("ward_name", "patrol_area"):
        if known in frame.columns:
            return known
    text = [
        str(c)
        for c in frame.columns
        if c != frame.geometry.name
        and (
            pd.api.types.is_string_dtype(frame[c].dtype)
            or pd.api.types.is_object_dtype(frame[c].dtype)
        )
    ]
    for test in (
        lambda c: c.lower() == "name",
        lambda c: "name" in c.lower(),
        lambda c: c.lower().endswith("nm"),
    ):
        for col in text:
            if test(col):
                return col
    return text[0] if text else None


def _reference_geojson(frame: gpd.GeoDataFrame, style: dict[str, Any]) -> dict[str, Any]:
    col = _name_column(frame)
    labels = [
        "" if col is None or is_missing(v) else esc(v)
        for v in (frame[col] if col else [None] * len(frame))
    ]
    props = [{"label": label, "style": style} for label in labels]
    return _features(_round_geometry(frame.geometry, _POLY_DP), props)


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


def _legend_html(
    n_hotspots: int,
    heat_note: str | None,
    points_drawn: bool,
    wards: bool,
    patrols: bool,
) -> str:
    parts = ["<b>Hotspots</b>"]
    if n_hotspots:
        for colour, label in _rank_classes(n_hotspots):
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


_SHADES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")


def _shade_wards(data: dict[str, Any], wards: gpd.GeoDataFrame, column: str) -> str:
    """Colour each ward feature of ``data`` by its quantile class of ``wards[column]``.

    Returns the legend line. A column that is missing or not numeric is a ParameterError.
    """
    if column not in wards.columns:
        raise ParameterError(
            f"ward_shading: the wards have no column {column!r}; choose one of "
            f"{', '.join(map(str, wards.columns.drop(wards.geometry.name)))}."
        )
    values = pd.to_numeric(wards[column], errors="coerce")
    if values.notna().sum() == 0:
        raise ParameterError(f"ward_shading: column {column!r} holds no numbers; pick another.")
    ranks = values.rank(method="average", pct=True)
    classes = np.minimum((ranks.fillna(0) * len(_SHADES)).astype(int), len(_SHADES) - 1)
    label = esc(column.replace("_", " "))
    for feature, value, k in zip(data["features"], values, classes, strict=True):
        props = feature["properties"]
        props["style"] = {
            **props["style"],
            "fillColor": _SHADES[int(k)] if pd.notna(value) else "#ffffff",
            "fillOpacity": 0.55 if pd.notna(value) else 0.0,
        }
        shown = "no data" if pd.isna(value) else f"{float(value):,.4g}"
        props["label"] = f"{props['label']}: {shown} {label}" if props["label"] else shown
    low, high = float(values.min()), float(values.max())
    swatches = "".join(
        f"<span style='display:inline-block;width:14px;height:10px;background:{c}'></span>"
        for c in _SHADES
    )
    return f"<div>{swatches} wards by {label}: {low:,.4g} to {high:,.4g}</div>"


def make_map(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    assets: Literal["inline", "static"] = "inline",
    static_url: str = "/app/static/vendor",
    tiles: str | None = "OpenStreetMap",
    attribution: str | None = None,
    title: str | None = None,
    synthetic: bool = False,
    max_points: int = 50_000,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_shading: str | None = None,
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
        ``None`` for no base map (offline: light background), a folium tile name such as
        ``"OpenStreetMap"``, or a URL template (``https://tiles.example/{z}/{x}/{y}.png``) for an
        organisation's own tile server.
    attribution
        Plain text credited in the corner (escaped); for a URL template it is the tiles'
        attribution (default: the server's host name).
    title
        Shown in a box at the top (escaped).
    synthetic
        Mark the map "SYNTHETIC DEMO DATA".
    max_points
        Most heat points drawn; more unique map points are merged on a grid (legend note).
    wards, patrol_areas
        Reference polygons (any CRS); named by a ``name`` column, else the first text column.
    ward_shading
        A numeric column of ``wards`` (e.g. ``incidents``, ``incidents_per_km2`` or
        ``incidents_per_1000`` from :func:`hotspots.overlay.ward_table` joined on ``ward_code``)
        to shade the wards by, in five quantile classes from light to dark blue; the legend
        gives the range and each ward's tooltip its value. None: outlines only.

    Returns
    -------
    folium.Map

    Raises
    ------
    ParameterError
        For an argument of the wrong kind or out of range.
    InputError
        For a frame without a CRS or without the hotspot columns.
    """
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
    tiles = tiles.strip() if isinstance(tiles, str) else tiles
    if tiles is not None and not isinstance(tiles, str):
        raise ParameterError(f"tiles must be None, a tile name or a URL template, not {tiles!r}.")
    if not tiles or tiles.lower() == "none":
        tiles = None

    # --- data in WGS84 -------------------------------------------------------------------
    hs = hotspots[hotspots.geometry.notna() & ~hotspots.geometry.is_empty]
    hs = to_wgs84(hs).sort_values("rank", kind="stable") if len(hs) else to_wgs84(hs)
    points = _unique_points(incidents)
    n_incidents = int(points["n"].sum()) if len(points) else 0
    n_unique = len(points)
    metres = bool(incidents.crs is not None and incidents.crs.is_projected)
    points, cell = _cap_points(points, int(max_points), metres)
    if len(points):
        gpts = gpd.GeoDataFrame(
            {"n": points["n"].to_numpy()},
            geometry=gpd.points_from_xy(points["x"], points["y"]),
            crs=incidents.crs,
        )
        gpts = to_wgs84(gpts)
        pts = pd.DataFrame(
            {
                "lon": np.round(gpts.geometry.x.to_numpy(), _POINT_DP),
                "lat": np.round(gpts.geometry.y.to_numpy(), _POINT_DP),
                "n": gpts["n"].to_numpy(),
            }
        )
    else:
        pts = pd.DataFrame({"lon": [], "lat": [], "n": []})
    ward_frame = _display_layer(wards, "wards") if wards is not None else None
    patrol_frame = (
        _display_layer(patrol_areas, "patrol_areas") if patrol_areas is not None else None
    )

    # --- map ------------------------------------------------------------------------------
    bounds = _bounds([hs, pts]) or _bounds([f for f in (ward_frame, patrol_frame) if f is not None])
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
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(_CSS), name="hotspots_css")
    if tiles is not None:
        if "{" in tiles:
            attr = esc(attribution) if attribution else esc(urlsplit(tiles).netloc or "tiles")
            folium.TileLayer(tiles, attr=attr, name="Base map", max_zoom=19).add_to(m)
        else:
            try:
                layer = folium.TileLayer(tiles, attr=esc(attribution) if attribution else None)
            except ValueError:
                raise ParameterError(
                    f"tiles={tiles!r} is not a tile name folium knows; give None, "
                    "'OpenStreetMap' or a URL template with {z}/{x}/{y}."
                ) from None
            layer.add_to(m)
    elif attribution:
        m.add_child(_Attribution(esc(attribution)))

    CustomPane("heat", z_index=350, pointer_events=False).add_to(m)
    CustomPane("reference", z_index=380, pointer_events=True).add_to(m)
    # Points below the hotspots (overlay pane, 400): a hotspot is never hidden by its points.
    CustomPane("points", z_index=390, pointer_events=True).add_to(m)

    heat_note: str | None = None
    if len(pts):
        HeatMap(
            [
                [lat, lon, n]
                for lat, lon, n in zip(
                    pts["lat"].tolist(), pts["lon"].tolist(), pts["n"].tolist(), strict=True
                )
            ],
            name="Incident heat",
            radius=14,
            blur=16,
            min_opacity=0.3,
            gradient=_HEAT_GRADIENT,
            max_quantile=_HEAT_QUANTILE,
            pane="heat",
        ).add_to(m)
        heat_note = f"{n_incidents:,} incidents at {n_unique:,} map points"
        if cell:
            size = f"{cell:g} m" if metres else f"{cell:g}°"
            heat_note += f", merged on a {size} grid into {len(pts):,} to keep the map small"

    shading_note = ""
    if ward_frame is not None and len(ward_frame):
        style = {"color": "#555555", "weight": 1.5, "fillColor": "#777777", "fillOpacity": 0.03}
        data = _reference_geojson(ward_frame, style)
        if ward_shading is not None:
            shading_note = _shade_wards(data, ward_frame, ward_shading)
        folium.GeoJson(
            data,
            name="Wards",
            on_each_feature=_REFERENCE_JS,
            pane="reference",
        ).add_to(m)
    if patrol_frame is not None and len(patrol_frame):
        style = {
            "color": "#2166ac",
            "weight": 2,
            "dashArray": "6 4",
            "fillColor": "#2166ac",
            "fillOpacity": 0.08,
        }
        folium.GeoJson(
            _reference_geojson(patrol_frame, style),
            name="Patrol areas",
            on_each_feature=_REFERENCE_JS,
            pane="reference",
        ).add_to(m)

    n_hs = len(hs)
    if n_hs:
        props = []
        for pos, (_, row) in enumerate(hs.iterrows()):
            colour = _rank_colour(pos, n_hs)
            props.append(
                {
                    "hotspot_id": str(row["hotspot_id"]),
                    "label": esc(row["hotspot_id"]),
                    "colour": _rank_class(pos, n_hs),
                    "permanent": pos < _LABELS_MAX,
                    "popup": _popup_html(row),
                    "style": {
                        "color": colour,
                        "weight": 3,
                        "fillColor": colour,
                        "fillOpacity": 0.3,
                    },
                }
            )
        folium.GeoJson(
            _features(_round_geometry(hs.geometry, _POLY_DP), props),
            name="Hotspots",
            on_each_feature=_HOTSPOT_JS,
        ).add_to(m)

    points_drawn = 0 < len(pts) <= POINTS_MAX
    if points_drawn:
        data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"n": int(n)},
                    "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                }
                for x, y, n in pts.itertuples(index=False)
            ],
        }
        folium.GeoJson(
            data,
            name="Incident points",
            # off by default when there are hotspots: a borough's points would bury them
            show=n_hs == 0,
            marker=folium.CircleMarker(
                radius=3,
                color="#333333",
                weight=0.8,
                fill=True,
                fill_color="#666666",
                fill_opacity=0.45,
                pane="points",
            ),
            on_each_feature=_POINT_JS,
        ).add_to(m)

    # --- boxes and controls ----------------------------------------------------------------
    heading = esc(title) if title else "Crime hotspots"
    badge = "<span class='hs-synthetic'>SYNTHETIC DEMO DATA</span>" if synthetic else ""
    sub = f"{n_hs:,} hotspot{'s' if n_hs != 1 else ''} · {n_incidents:,} incidents"
    m.add_child(
        _Box(
            f"<b>{heading}</b>{badge}<div>{sub}</div>",
            position="top",
            css_class="hs-box hs-title",
        )
    )
    m.add_child(
        _Box(
            _legend_html(
                n_hs, heat_note, points_drawn, ward_frame is not None, patrol_frame is not None
            )
            + shading_note,
            position="bottomright",
            css_class="hs-box hs-legend",
        )
    )
    m.add_child(_MetricScale())
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(30, 30), max_zoom=17)

    # Imported here, not at the top, so that importing the package does not import
    # hotspots.assets, which `python -m hotspots.assets install` runs as a script.
    from .assets import local_assets

    local_assets(m, mode=assets, static_url=static_url)
    log.info(
        "map: %d hotspots, %d incidents at %d map points (%d drawn)",
        n_hs,
        n_incidents,
        n_unique,
        len(pts),
    )
    return m
