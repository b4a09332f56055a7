"""Street context without tiles: ward names and street names written on the hotspot map.

With no tile server the map has no streets of its own; these labels give it the data's own:

* **Ward names** (layer "Ward names"): each ward's name at the centre of the largest circle
  inside it (the pole of inaccessibility of its largest part; :func:`ward_labels`), small and
  grey, from zoom :data:`WARD_ZOOM` (a borough) on.
* **Street names** (layer "Street names"): from zoom :data:`STREET_ZOOM` (streets) on, the
  incidents' own map points named by their police.uk location ("On or near High Street" ->
  "High Street"; :func:`street_labels`). One label per street per area: each street's busiest
  map point in each :data:`STREET_CELL_M` square, and no two labels of one street closer than
  that; labels in and around hotspots first, then by incidents; at most
  :data:`STREET_LABELS_MAX`, and their bytes within the page's budget
  (:data:`hotspots.web.MAP_LABEL_BYTES`).

Both are drawn by :class:`LabelLayer`: a Leaflet layer group in its own pane (``labels``: above
the hotspot outlines, never catching a click) that, after every zoom and move, places the
labels in view in their order and skips one that would overlap a label already placed, a
hotspot's id or one of the map's boxes (street names also keep off ward names). Labels
are escaped here (:func:`hotspots._text.esc`) and set as the label's HTML in the browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template
from pyproj import CRS
from scipy.spatial import cKDTree

from ._points import point_rows, unique_points_of
from ._text import esc
from .crs import project_xy, to_metres, to_wgs84
from .profile import street_names

__all__ = [
    "LABEL_CSS",
    "STREET_CELL_M",
    "STREET_LABELS_MAX",
    "STREET_ZOOM",
    "WARD_ZOOM",
    "HotspotLabelSpacing",
    "Label",
    "LabelLayer",
    "StreetCandidates",
    "add_labels",
    "labels_bytes",
    "street_candidates",
    "street_labels",
    "ward_labels",
]

#: Street names show from this zoom on (about 2.4 m a pixel: a few streets across the map).
STREET_ZOOM = 16
#: Ward names show from this zoom on (a borough fills the map at about 12).
WARD_ZOOM = 11
#: One label per street in each square of this side (metres), and none closer than it.
STREET_CELL_M = 200.0
#: Most street labels on a map.
STREET_LABELS_MAX = 2_500
#: A label point within this many metres of a hotspot counts as "in and around" it.
_NEAR_HOTSPOT_M = 150.0
# Most labels placed in view at once (the rest of the view's labels wait for a closer zoom).
_SHOWN_MAX = 400
# What labels are not placed over: hotspot ids, controls (zoom, layers, legend) and the title.
_AVOID = ".leaflet-tooltip.hotspot-label, .leaflet-control, .hs-title"
# Decimal places of label positions (1 m).
_LABEL_DP = 5

#: One label: latitude, longitude and the escaped text.
Label = tuple[float, float, str]

#: The labels' style: ward names small and grey, street names dark with a white halo.
LABEL_CSS = """
<style>
.hs-label { width: 0; height: 0; }
.hs-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font: 10px/1.1 sans-serif; color: #333; pointer-events: none;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.hs-ward-label span { font-size: 11px; color: #777; letter-spacing: .04em;
  text-transform: uppercase; }
.hs-street-label span { font-style: italic; color: #222; }
</style>
"""


class LabelLayer(Layer):
    """Text labels at points, shown from ``min_zoom`` on, placed without overlapping.

    Parameters
    ----------
    labels
        ``(lat, lon, text)`` in priority order; ``text`` already escaped (HTML).
    name
        The layer's name in the layer control.
    min_zoom
        The labels show from this zoom on (the layer stays in the control).
    kind
        ``"ward"`` or ``"street"``: the CSS class ``hs-<kind>-label``.
    show
        Whether the layer starts switched on (the layer control switches it).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        (function () {
            var map = {{ this._parent.get_name() }};
            var group = {{ this.get_name() }};
            var data = {{ this.labels|tojson }};
            var minZoom = {{ this.min_zoom|tojson }};
            var cls = {{ this.css_class|tojson }};
            var most = {{ this.shown_max|tojson }};
            var avoid = {{ this.avoid|tojson }};
            function width(html) {
                return 6.5 * html.replace(/&[#\\w]+;/g, "x").length + 6;
            }
            function draw() {
                group.clearLayers();
                if (!map.hasLayer(group) || map.getZoom() < minZoom) { return; }
                var view = map.getBounds().pad(0.1), cells = {}, placed = 0;
                var frame = map.getContainer().getBoundingClientRect();
                map.getContainer().querySelectorAll(avoid).forEach(function (el) {
                    var r = el.getBoundingClientRect();
                    if (r.width && r.height) {
                        free([r.left - frame.left, r.top - frame.top,
                              r.right - frame.left, r.bottom - frame.top], true);
                    }
                });
                function free(b, mark) {
                    for (var cx = Math.floor(b[0] / 64); cx <= Math.floor(b[2] / 64); cx++) {
                        for (var cy = Math.floor(b[1] / 64); cy <= Math.floor(b[3] / 64); cy++) {
                            var key = cx + ":" + cy, list = cells[key] || (cells[key] = []);
                            if (mark) { list.push(b); continue; }
                            for (var k = 0; k < list.length; k++) {
                                var o = list[k];
                                if (b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) {
                                    return false;
                                }
                            }
                        }
                    }
                    return true;
                }
                for (var i = 0; i < data.length && placed < most; i++) {
                    var d = data[i], ll = L.latLng(d[0], d[1]);
                    if (!view.contains(ll)) { continue; }
                    var p = map.latLngToContainerPoint(ll), w = width(d[2]) / 2;
                    var box = [p.x - w, p.y - 8, p.x + w, p.y + 8];
                    if (!free(box, false)) { continue; }
                    free(box, true);
                    placed++;
                    L.marker(ll, {
                        icon: L.divIcon({className: cls, html: "<span>" + d[2] + "</span>",
                                         iconSize: null}),
                        interactive: false, keyboard: false, pane: "labels"
                    }).addTo(group);
                }
            }
            map.on("moveend", draw);
            group.on("add", draw);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, labels: list[Label], *, name: str, min_zoom: int, kind: str, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LabelLayer"
        self.labels: list[Label] = list(labels)
        self.min_zoom = int(min_zoom)
        self.css_class = f"hs-label hs-{kind}-label"
        self.shown_max = _SHOWN_MAX
        # Never over the hotspots' labels and the map's boxes; street names not over ward names.
        self.avoid = _AVOID + (", .hs-ward-label span" if kind == "street" else "")


class HotspotLabelSpacing(MacroElement):
    """Keeps the hotspots' permanent id labels apart: after every zoom and move (and when the
    hotspot layer is switched on), each id label (class ``hs-pinned``), in rank order, is
    hidden when it would overlap one of higher rank already shown; zooming in shows it again.
    Its hotspot keeps its outline and its popup."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function space() {
                var labels = map.getContainer().querySelectorAll(
                    ".leaflet-tooltip.hotspot-label.hs-pinned");
                var shown = [];
                labels.forEach(function (el) { el.style.display = ""; });
                labels.forEach(function (el) {  // rank order: the order they were drawn
                    var r = el.getBoundingClientRect();
                    if (!r.width) { return; }
                    for (var i = 0; i < shown.length; i++) {
                        var o = shown[i];
                        if (r.left < o.right + 2 && o.left < r.right + 2 &&
                            r.top < o.bottom + 2 && o.top < r.bottom + 2) {
                            el.style.display = "none";
                            return;
                        }
                    }
                    shown.push(r);
                });
            }
            map.on("zoomend moveend overlayadd", space);
            map.whenReady(function () { setTimeout(space, 0); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "HotspotLabelSpacing"


def labels_bytes(labels: list[Label]) -> int:
    """Bytes the labels take in the page: HTML-safe JSON (``<>&'`` as six-character escapes)."""
    if not labels:
        return 0
    # one dump of them all: its brackets and ", " separators are the 2 bytes each label adds
    text = json.dumps([[label[0], label[1], label[2]] for label in labels])
    return len(text) + 5 * sum(text.count(c) for c in "<>&'")


def _label_point(geom: Any) -> Any:
    """The centre of the largest circle inside the largest part of ``geom`` (metres)."""
    parts = shapely.get_parts(geom)
    if not len(parts):
        return None
    part = parts[int(np.argmax(shapely.area(parts)))]
    if part.geom_type != "Polygon" or part.area <= 0:
        return shapely.point_on_surface(geom)
    centre = shapely.get_point(shapely.maximum_inscribed_circle(part), 0)
    return centre if part.covers(centre) else shapely.point_on_surface(part)


def ward_labels(wards: gpd.GeoDataFrame, names: list[str]) -> list[Label]:
    """Each named ward's label (``names``: escaped, one per row; ``""`` for none) at the centre
    of the largest circle inside its largest part, in WGS84 (largest wards first)."""
    if not len(wards):
        return []
    metric = to_metres(wards)
    rows = [
        (name, geom)
        for name, geom in zip(names, metric.geometry, strict=True)
        if name and geom is not None and not geom.is_empty
    ]
    if not rows:
        return []
    rows.sort(key=lambda r: -float(r[1].area))
    points = gpd.GeoSeries([_label_point(g) for _, g in rows], crs=metric.crs)
    wgs = to_wgs84(gpd.GeoDataFrame(geometry=points))
    xy = np.round(shapely.get_coordinates(wgs.geometry.to_numpy()), _LABEL_DP)
    return [(float(lat), float(lon), name) for (name, _), (lon, lat) in zip(rows, xy, strict=True)]


def _row_streets(
    location: pd.Series,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Each row's street as a code into the distinct street names (-1: none), cleaning each
    distinct location once (:func:`hotspots.profile.street_names`)."""
    codes, uniques = pd.factorize(location.reset_index(drop=True))
    if not len(uniques):
        return np.full(len(codes), -1, dtype=np.intp), np.zeros(0, dtype=object)
    cleaned = street_names(pd.Series(np.asarray(uniques, dtype=object), dtype="str"))
    name_code, distinct = pd.factorize(cleaned.fillna("").to_numpy(dtype=object))
    names = np.asarray(distinct, dtype=object)
    per_unique = np.where(names[name_code] == "", -1, name_code)
    return np.where(codes >= 0, per_unique[np.maximum(codes, 0)], -1).astype(np.intp), names


def _street_candidates(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each street's busiest map point in each cell: ``street``, ``x``, ``y`` (metres), ``n``
    (the street's incidents in the cell). Empty without a ``location`` column."""
    empty = pd.DataFrame({"street": [], "x": [], "y": [], "n": []})
    if "location" not in incidents.columns or not len(incidents):
        return empty
    keep, xy = point_rows(incidents.geometry.to_numpy())
    street, names = _row_streets(incidents["location"][keep])
    named = (street >= 0) & np.isfinite(xy).all(axis=1)
    if not named.any():
        return empty
    point, uxy, _ = unique_points_of(xy, np.flatnonzero(named))  # a city's kept codes
    m = np.int64(len(uxy))
    # incidents per (street, map point), then per (street, cell) with its busiest point
    pair, k = np.unique(street[named].astype(np.int64) * m + point, return_counts=True)
    s, p = pair // m, pair % m
    cells = np.floor(uxy[p] / STREET_CELL_M).astype(np.int64)
    cell = pd.factorize(cells[:, 0] * np.int64(1 << 32) + cells[:, 1])[0]
    group = s * np.int64(cell.max() + 1) + cell
    n = pd.Series(k).groupby(group).transform("sum").to_numpy()
    order = np.lexsort((p, -k, group))
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
    return pd.DataFrame(
        {
            "street": names[s[first]],
            "x": uxy[p[first], 0],
            "y": uxy[p[first], 1],
            "n": n[first],
        }
    )


def _near_hotspots(points: shapely.STRtree, n: int, hotspots: gpd.GeoDataFrame, crs: Any) -> Any:
    """Which of the ``n`` points in ``points`` (metres, ``crs``) are within
    :data:`_NEAR_HOTSPOT_M` of a hotspot (each outline prepared once, against the points'
    tree)."""
    near = np.zeros(n, dtype=bool)
    shapes = hotspots[hotspots.geometry.notna() & ~hotspots.geometry.is_empty]
    if not len(shapes) or not n or shapes.crs is None:
        return near
    geoms = shapes.to_crs(crs).geometry.to_numpy()
    pairs = points.query(geoms, predicate="dwithin", distance=_NEAR_HOTSPOT_M)
    near[pairs[1]] = True
    return near


def _conflicts(
    street: npt.NDArray[np.intp], xy: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Pairs of candidates of one street closer than :data:`STREET_CELL_M`, both ways, as
    CSR arrays (``indptr``, ``indices``): candidate i's are ``indices[indptr[i]:indptr[i+1]]``."""
    n = len(xy)
    if n < 2:
        return np.zeros(n + 1, dtype=np.intp), np.zeros(0, dtype=np.intp)
    # a third axis keeps streets apart: street codes times a distance no map spans (exact)
    pts = np.column_stack([xy, street.astype(np.float64) * 1e7])
    pairs = cKDTree(pts).query_pairs(STREET_CELL_M, output_type="ndarray")
    d = xy[pairs[:, 0]] - xy[pairs[:, 1]]
    close = pairs[(d[:, 0] ** 2 + d[:, 1] ** 2 < STREET_CELL_M * STREET_CELL_M)]
    src = np.concatenate([close[:, 0], close[:, 1]])
    dst = np.concatenate([close[:, 1], close[:, 0]])
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order].astype(np.intp)


@dataclass(frozen=True)
class StreetCandidates:
    """Each street's busiest map point per :data:`STREET_CELL_M` cell, the places
    :func:`street_labels` chooses from, with what choosing needs that no hotspot changes.

    Attributes
    ----------
    table
        ``street``, ``x``, ``y`` (metres in ``crs``), ``n`` (the street's incidents in the
        cell), ``lat``, ``lon`` (WGS84), ``label`` (the escaped street name) and ``size`` (its
        label's bytes at the widest coordinates, :func:`labels_bytes`).
    crs
        The CRS of ``x`` and ``y``.
    order
        Rows by incidents (most first), then street name, then position.
    indptr, indices
        The rows of one street closer than :data:`STREET_CELL_M` to each row (CSR).
    points
        A tree of the rows' points (``x``, ``y``), or None when there are none.
    """

    table: pd.DataFrame
    crs: Any
    order: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    indptr: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(1, dtype=np.intp))
    indices: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    points: shapely.STRtree | None = None


def street_candidates(incidents: gpd.GeoDataFrame) -> StreetCandidates:
    """The street-label candidates of ``incidents`` (none without a ``location`` column)."""
    if "location" not in incidents.columns or not len(incidents) or incidents.crs is None:
        return StreetCandidates(_street_candidates(incidents.iloc[0:0]), None)
    metric = incidents[["location", incidents.geometry.name]]
    metric = metric if metric.crs.is_projected else to_metres(metric)
    table = _street_candidates(metric)
    if not len(table):
        return StreetCandidates(table, metric.crs)
    # (the arrays projected as they are: the numbers a frame of their points would get)
    lon, lat = project_xy(
        metric.crs, CRS.from_epsg(4326), table["x"].to_numpy(float), table["y"].to_numpy(float)
    )
    lonlat = np.round(np.column_stack([lon, lat]), _LABEL_DP)
    code, names = pd.factorize(table["street"].to_numpy(dtype=object), sort=True)
    labels = np.asarray([esc(str(name)) for name in names], dtype=object)
    sizes = np.asarray([labels_bytes([(90.12345, -180.12345, lab)]) for lab in labels])
    table = table.assign(
        lat=lonlat[:, 1], lon=lonlat[:, 0], label=labels[code], size=sizes[code].astype(np.int64)
    )
    xy = table[["x", "y"]].to_numpy(dtype=float)
    order = np.lexsort((xy[:, 1], xy[:, 0], code, -table["n"].to_numpy())).astype(np.intp)
    indptr, indices = _conflicts(code.astype(np.intp), xy)
    tree = shapely.STRtree(shapely.points(xy))
    return StreetCandidates(table, metric.crs, order, indptr, indices, tree)


def _thinned(
    prepared: StreetCandidates, order: list[int], max_labels: int, max_bytes: int
) -> list[int]:
    """Rows of ``prepared`` kept, taken in ``order``: none closer than :data:`STREET_CELL_M`
    to a kept row of its street; at most ``max_labels`` rows and ``max_bytes`` bytes."""
    indptr = prepared.indptr.tolist()
    indices = prepared.indices.tolist()
    sizes = prepared.table["size"].tolist()
    taken = [False] * len(sizes)
    kept: list[int] = []
    used = 0
    for i in order:
        if any(taken[j] for j in indices[indptr[i] : indptr[i + 1]]):
            continue
        if used + sizes[i] > max_bytes:
            break
        taken[i] = True
        kept.append(i)
        used += sizes[i]
        if len(kept) >= max_labels:
            break
    return kept


def street_labels(
    incidents: gpd.GeoDataFrame | StreetCandidates,
    hotspots: gpd.GeoDataFrame,
    *,
    max_labels: int = STREET_LABELS_MAX,
    max_bytes: int,
) -> list[Label]:
    """The street labels of the incidents' own map points, in priority order (WGS84).

    Parameters
    ----------
    incidents
        Incidents with a ``location`` column ("On or near High Street"; without one, none),
        or their :func:`street_candidates` prepared before.
    hotspots
        Labels within :data:`_NEAR_HOTSPOT_M` of these come first.
    max_labels, max_bytes
        At most this many labels, taking at most this many bytes (:func:`labels_bytes`).

    Returns
    -------
    list of (lat, lon, escaped street name)
        One per street per :data:`STREET_CELL_M` area: the street's busiest map point there;
        none of one street closer than that to another; near hotspots first, then by
        incidents, then by name.
    """
    prepared = (
        incidents if isinstance(incidents, StreetCandidates) else street_candidates(incidents)
    )
    table = prepared.table
    if not len(table):
        return []
    near = np.zeros(len(table), dtype=bool)
    if prepared.points is not None:
        near = _near_hotspots(prepared.points, len(table), hotspots, prepared.crs)
    first = near[prepared.order]
    order = np.concatenate([prepared.order[first], prepared.order[~first]])
    rows = _thinned(prepared, order.tolist(), max_labels, max_bytes)
    return [
        (float(lat), float(lon), str(label))
        for lat, lon, label in zip(
            table["lat"].to_numpy()[rows],
            table["lon"].to_numpy()[rows],
            table["label"].to_numpy()[rows],
            strict=True,
        )
    ]


def add_labels(
    m: folium.Map, labels: list[Label], *, name: str, min_zoom: int, kind: str, show: bool = True
) -> None:
    """Add a :class:`LabelLayer` of ``labels`` to ``m`` (nothing when there are none)."""
    if labels:
        LabelLayer(labels, name=name, min_zoom=min_zoom, kind=kind, show=show).add_to(m)
