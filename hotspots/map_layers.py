"""The data layers of the hotspot map, drawn by :func:`hotspots.mapping.make_map`.

Each ``add_*`` function adds one layer to a :class:`folium.Map` (whose panes and style
``make_map`` sets up): the incident heat, the incident points, the ranked hotspot polygons with
their popups, and the reference layers (wards, optionally shaded, and patrol areas). Frames given
here are already in WGS84 (:func:`display_layer` makes a reference layer so). Every text that
comes from the data is HTML-escaped here; popups and tooltips are bound with plain Leaflet from
pre-escaped strings, never with folium's ``Popup`` / ``GeoJsonPopup``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from folium.plugins import HeatMap
from folium.utilities import JsCode
from shapely.geometry import MultiPolygon, Polygon

from ._memo import KeptResults, digest
from ._text import esc, is_missing, item_texts
from .crs import to_wgs84
from .errors import InputError, ParameterError
from .palette import rank_class, rank_colour, trend_words
from .web import (
    CELL_LAYER_BYTES,
    MAP_HOTSPOT_BYTES,
    MAP_REFERENCE_BYTES,
    display_geometries,
    fitting_items,
    round_coordinates,
)

__all__ = [
    "WARD_SHADES",
    "add_heat",
    "add_hotspots",
    "add_points",
    "add_reference_layers",
    "add_uncovered",
    "area_labels",
    "cell_features",
    "display_layer",
    "geojson_geometry",
    "popup_html",
    "reference_geojson",
    "round_coordinates",
    "styled_layer_bytes",
]


# Hotspots labelled permanently with their id (the others on hover).
_LABELS_MAX = 30
# Bytes folium adds to each feature of a layer styled by a function: its id ("id": "4711", )
# and, unless it has the commonest style, a line of the style's switch (case "4711":);
# measured 14-24 bytes a cell, counted at most.
_STYLED_FEATURE_BYTES = 32
# Decimal places of coordinates on the map: 6 for polygons (0.1 m), 5 for heat and points (1 m).
_POLY_DP = 6
# Display-only simplification of reference layers (metres): ONS boundaries can be very detailed.
_SIMPLIFY_M = 5.0
# ... and at most this (metres), when a layer would not otherwise fit its share of the page.
_SIMPLIFY_MAX_M = 640.0
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

_HOTSPOT_JS = JsCode(
    """function (feature, layer) {
    var p = feature.properties;
    layer.bindTooltip(p.label, {permanent: p.permanent, direction: "center", opacity: 1,
        className: "hotspot-label hs-r" + p.colour + (p.permanent ? " hs-pinned" : "")});
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


# --------------------------------------------------------------------------------------------
# heat and points


def add_heat(m: folium.Map, pts: pd.DataFrame) -> None:
    """The weighted heat layer of ``pts`` (``lon``, ``lat``, ``n``: map points and counts)."""
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


def add_points(m: folium.Map, pts: pd.DataFrame, *, show: bool) -> None:
    """``pts`` (``lon``, ``lat``, ``n``) as small circles sized by count, the count as tooltip."""
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
        show=show,
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


# --------------------------------------------------------------------------------------------
# hotspots and their popups


def _list_items(items: list[str]) -> str:
    """Printed items as an escaped <ul> (one item: its escaped text; none: a dash)."""
    if not items:
        return "&ndash;"
    if len(items) == 1:
        return esc(items[0])
    return "<ul>" + "".join(f"<li>{esc(p)}</li>" for p in items) + "</ul>"


def _printed(value: object, *, counted: bool) -> list[str]:
    """A list cell as printed items: ``(name, count)`` pairs as "name count" (``counted``),
    names as they are; text (a frame read back from a written file) as one item."""
    if is_missing(value):
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if counted:
        return item_texts(value)  # type: ignore[arg-type]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _area_text(km2: float) -> str:
    if km2 >= 0.1:
        return f"{km2:,.2f} km²"
    return f"{km2 * 1e6:,.0f} m²"


def _number(row: Mapping[str, Any], name: str) -> float | None:
    """``row[name]`` as a float; None when missing or not a number."""
    value: Any = row.get(name)
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _measure_rows(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rank, incidents, harm, area, density and PAI rows of the popup (those the row has)."""
    rows: list[tuple[str, str]] = []
    rank = _number(row, "rank")
    if rank is not None:
        rows.append(("Rank", f"{rank:.0f}"))
    incidents = _number(row, "incidents")
    if incidents is not None:
        share = _number(row, "share")
        extra = f" ({share:.1%} of all analysed)" if share is not None else ""
        rows.append(("Incidents", f"{incidents:,.0f}{extra}"))
    harm = _number(row, "harm")
    if harm is not None:
        harm_share = _number(row, "harm_share")
        extra = f" ({harm_share:.1%} of all harm)" if harm_share is not None else ""
        rows.append(("Harm", f"{harm:,.0f}{extra}"))
    area = _number(row, "area_km2")
    if area is not None:
        rows.append(("Area", _area_text(area)))
    density = _number(row, "density_km2")
    if density is not None:
        rows.append(("Density", f"{density:,.0f} incidents per km²"))
    pai = _number(row, "pai")
    if pai is not None:
        rows.append(
            (
                "PAI",
                f"{pai:,.1f} <span style='color:#777'>(share of incidents / share of area)</span>",
            )
        )
    return rows


def _months_text(row: Mapping[str, Any]) -> str | None:
    """ "2024-01 to 2024-06" (escaped; "?" for a missing end), or None when both are missing."""
    first, last = row.get("first_month"), row.get("last_month")
    if is_missing(first) and is_missing(last):
        return None
    a = "?" if is_missing(first) else esc(first)
    b = "?" if is_missing(last) else esc(last)
    return a if a == b else f"{a} to {b}"


def _context_rows(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Crime types, streets, wards, patrol coverage, trend and months rows of the popup."""
    rows: list[tuple[str, str]] = []
    if "top_categories" in row:
        rows.append(("Top crime types", _list_items(_printed(row["top_categories"], counted=True))))
    if "top_locations" in row:
        rows.append(("Top streets", _list_items(_printed(row["top_locations"], counted=True))))
    if wards := (_printed(row["wards"], counted=False) if "wards" in row else []):
        rows.append(("Wards", _list_items(wards)))
    coverage = _number(row, "patrol_coverage")
    if coverage is not None:
        rows.append(("Patrol coverage", f"{coverage:.0%} of its incidents inside a patrol area"))
    if "trend" in row:
        low, high = _number(row, "trend_low"), _number(row, "trend_high")
        against = row.get("trend_against")
        rows.append(("Trend", esc(trend_words(_number(row, "trend"), low, high, against=against))))
    months = _months_text(row)
    if months is not None:
        rows.append(("Months", months))
    return rows


def popup_html(row: Mapping[str, Any]) -> str:
    """The popup table of one hotspot (a row of the Hotspots frame); every value escaped."""
    hid = esc(row.get("hotspot_id", ""))
    rows = _measure_rows(row) + _context_rows(row)
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<div class='hs-popup'><h4>Hotspot {hid}</h4><table>{body}</table></div>"


def _rings(polygon: Polygon) -> list[list[list[float]]]:
    return [shapely.get_coordinates(polygon.exterior).tolist()] + [
        shapely.get_coordinates(ring).tolist() for ring in polygon.interiors
    ]


def geojson_geometry(geom: Any) -> dict[str, Any]:
    """``shapely.geometry.mapping(geom)`` with each ring's coordinates taken at once (lists,
    not a Python loop over points: the same JSON, several times faster for long outlines)."""
    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": _rings(geom)}
    if isinstance(geom, MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": [_rings(part) for part in geom.geoms]}
    return dict(shapely.geometry.mapping(geom))


def _features(geoms: npt.NDArray[Any], props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    feats = []
    for geom, p in zip(geoms, props, strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        feats.append({"type": "Feature", "properties": p, "geometry": geojson_geometry(geom)})
    return {"type": "FeatureCollection", "features": feats}


def styled_layer_bytes(data: dict[str, Any]) -> int:
    """Bytes a GeoJSON layer styled by a function takes in the page: its features as folium
    writes them, each with its id and line of the style's switch
    (:data:`_STYLED_FEATURE_BYTES`)."""
    return sum(_page_bytes(f) + _STYLED_FEATURE_BYTES for f in data["features"])


def _page_bytes(feature: dict[str, Any]) -> int:
    """Bytes a feature takes in the page: folium writes it as HTML-safe JSON, where each
    ``<``, ``>``, ``&`` and ``'`` (the popups' markup) is a six-character escape."""
    text = json.dumps(feature)
    return len(text) + 2 + 5 * sum(text.count(c) for c in "<>&'")


def add_hotspots(
    m: folium.Map, hs: gpd.GeoDataFrame, *, max_bytes: int = MAP_HOTSPOT_BYTES
) -> tuple[list[dict[str, Any]], int]:
    """The hotspot polygons (any CRS, in rank order) coloured by rank, labelled, with popups.

    Outlines are simplified for display (:func:`hotspots.web.display_geometries`); hotspots
    are drawn in rank order while their features fit in ``max_bytes``
    (:func:`hotspots.web.fitting_items`); when not all fit, the colour classes span the ranks
    drawn. Returns the features drawn (WGS84 GeoJSON) and the ranks the colours span.
    """
    n_hs, positions = len(hs), []  # each feature's rank position, as made

    def features(
        batch: gpd.GeoDataFrame, geoms: npt.NDArray[Any], start: int
    ) -> Iterator[tuple[dict[str, Any], int]]:
        table = pd.DataFrame(batch.drop(columns=batch.geometry.name))
        rows = cast(list[dict[str, Any]], table.to_dict("records"))
        for offset, (row, geom) in enumerate(zip(rows, geoms, strict=True)):
            if geom is None or shapely.is_empty(geom):
                continue
            pos = start + offset
            positions.append(pos)
            colour = rank_colour(pos, n_hs)
            feature = {
                "type": "Feature",
                "properties": {
                    "hotspot_id": str(row["hotspot_id"]),
                    "label": esc(row["hotspot_id"]),
                    "colour": rank_class(pos, n_hs),
                    "permanent": pos < _LABELS_MAX,
                    "popup": popup_html(row),
                    "style": {
                        "color": colour,
                        "weight": 3,
                        "fillColor": colour,
                        "fillOpacity": 0.3,
                    },
                },
                "geometry": geojson_geometry(geom),
            }
            yield feature, _page_bytes(feature)

    drawn = fitting_items(hs, features, max_bytes)
    shown = positions[len(drawn) - 1] + 1 if drawn else 0
    for feature, pos in zip(drawn if shown < n_hs else [], positions, strict=False):
        feature["properties"]["colour"] = rank_class(pos, shown)  # over the ranks drawn:
        style = feature["properties"]["style"]  # the same bytes (one digit, one colour)
        style["color"] = style["fillColor"] = rank_colour(pos, shown)
    if drawn:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": drawn},
            name="Hotspots",
            on_each_feature=_HOTSPOT_JS,
        ).add_to(m)
    return drawn, shown if shown < n_hs else n_hs


# --------------------------------------------------------------------------------------------
# reference layers


def display_layer(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
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


def area_labels(frame: gpd.GeoDataFrame) -> list[str]:
    """Each area's name (wards, patrol areas), escaped; ``""`` where it has none."""
    col = _name_column(frame)
    return [
        "" if col is None or is_missing(v) else esc(v)
        for v in (frame[col] if col else [None] * len(frame))
    ]


def reference_geojson(frame: gpd.GeoDataFrame, style: dict[str, Any]) -> dict[str, Any]:
    """A reference layer (a :func:`display_layer` frame) as GeoJSON with labels (``label``,
    escaped) and style (``style``), simplified further (twice the tolerance each time, up to
    ``_SIMPLIFY_MAX_M``) until it fits ``MAP_REFERENCE_BYTES``.

    Kept between calls by the layer's outlines, labels and style (every map of the dashboard
    draws the same wards: London's 657, 1.2 s a map); each call gets its own copy to change.
    """
    labels = area_labels(frame)
    props = [{"label": label, "style": style} for label in labels]
    shapes = shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object)).tolist()
    key = digest(  # each outline by its length and bytes; a missing one (None) as none
        b"".join(
            b"\xff" * 8 if wkb is None else len(wkb).to_bytes(8, "little") + wkb for wkb in shapes
        )
        + json.dumps(props, sort_keys=True).encode()
    )

    def work_out(_: list[int]) -> list[str]:
        geoms, tolerance = frame.geometry, _SIMPLIFY_M
        while True:
            text = json.dumps(_features(round_coordinates(geoms, _POLY_DP), props))
            if tolerance >= _SIMPLIFY_MAX_M or len(text) <= MAP_REFERENCE_BYTES:
                return [text]
            tolerance *= 2
            geoms = frame.geometry.simplify(tolerance / 111_000, preserve_topology=True)

    data: dict[str, Any] = json.loads(_REFERENCE_LAYERS.results([key], work_out)[0])
    return data


# The reference layers last drawn, as GeoJSON text, by their outlines, labels and style.
_REFERENCE_LAYERS: KeptResults[str] = KeptResults(8 * MAP_REFERENCE_BYTES, weigh=len)


def cell_features(
    cells: gpd.GeoDataFrame,
    colours: Sequence[str],
    tips: Sequence[str],
    max_bytes: int = CELL_LAYER_BYTES,
) -> list[dict[str, Any]]:
    """The GeoJSON features of the first ``cells`` whose features fit in ``max_bytes`` of the
    page (give the cells in the order they matter: the rest are left off the map).

    Each feature's properties are its ``colour`` and its ``tip`` (escaped); its geometry the
    display geometry (:func:`hotspots.web.display_geometries`: WGS84, within 2 m, 6 decimals).
    A city's change map on 250 m cells holds ~25,000 cells (10 MB unlimited); at 50 m cells,
    25 times as many.
    """
    colour_of = [str(c) for c in colours]
    tip_of = [esc(t) for t in tips]
    if len(colour_of) != len(cells) or len(tip_of) != len(cells):
        raise ParameterError(
            f"cell_features: {len(cells)} cells need as many colours and tips; got "
            f"{len(colour_of)} and {len(tip_of)}."
        )

    def make(
        batch: gpd.GeoDataFrame, geoms: npt.NDArray[Any], start: int
    ) -> Iterator[tuple[dict[str, Any], int]]:
        for k, geom in enumerate(geoms):
            if geom is None or shapely.is_empty(geom):
                continue
            props = {"colour": colour_of[start + k], "tip": tip_of[start + k]}
            feature = {"type": "Feature", "properties": props, "geometry": geojson_geometry(geom)}
            yield feature, _page_bytes(feature) + _STYLED_FEATURE_BYTES

    return fitting_items(cells, make, max_bytes)


#: Light to dark blue: the five quantile classes of ``ward_shading``.
WARD_SHADES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")


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
    classes = np.minimum((ranks.fillna(0) * len(WARD_SHADES)).astype(int), len(WARD_SHADES) - 1)
    label = esc(column.replace("_", " "))
    for feature, value, k in zip(data["features"], values, classes, strict=True):
        props = feature["properties"]
        props["style"] = {
            **props["style"],
            "fillColor": WARD_SHADES[int(k)] if pd.notna(value) else "#ffffff",
            "fillOpacity": 0.55 if pd.notna(value) else 0.0,
        }
        shown = "no data" if pd.isna(value) else f"{float(value):,.4g}"
        props["label"] = f"{props['label']}: {shown} {label}" if props["label"] else shown
    low, high = float(values.min()), float(values.max())
    swatches = "".join(
        f"<span style='display:inline-block;width:14px;height:10px;background:{c}'></span>"
        for c in WARD_SHADES
    )
    return f"<div>{swatches} wards by {label}: {low:,.4g} to {high:,.4g}</div>"


def add_reference_layers(
    m: folium.Map,
    wards: gpd.GeoDataFrame | None,
    patrol_areas: gpd.GeoDataFrame | None,
    ward_shading: str | None,
) -> str:
    """Wards (grey outlines, or shaded by ``ward_shading``) and patrol areas (dashed blue).

    The layers are :func:`display_layer` frames (or None). Returns the shading's legend line
    (``""`` without shading).
    """
    shading_note = ""
    if wards is not None and len(wards):
        style = {"color": "#555555", "weight": 1.5, "fillColor": "#777777", "fillOpacity": 0.03}
        data = reference_geojson(wards, style)
        if ward_shading is not None:
            shading_note = _shade_wards(data, wards, ward_shading)
        folium.GeoJson(
            data,
            name="Wards",
            on_each_feature=_REFERENCE_JS,
            pane="reference",
        ).add_to(m)
    if patrol_areas is not None and len(patrol_areas):
        style = {
            "color": "#2166ac",
            "weight": 2,
            "dashArray": "6 4",
            "fillColor": "#2166ac",
            "fillOpacity": 0.08,
        }
        folium.GeoJson(
            reference_geojson(patrol_areas, style),
            name="Patrol areas",
            on_each_feature=_REFERENCE_JS,
            pane="reference",
        ).add_to(m)
    return shading_note


def add_uncovered(m: folium.Map, uncovered: gpd.GeoDataFrame) -> None:
    """Mark the hotspots no patrol area covers: a dark dashed ring under each hotspot's outline
    (pane ``reference``, so a click still reaches the hotspot), named in its tooltip.

    ``uncovered`` is :func:`hotspots.patrols.uncovered_hotspots`'s frame (any CRS).
    """
    shown = uncovered[uncovered.geometry.notna() & ~uncovered.geometry.is_empty]
    if len(shown) == 0:
        return
    # the outlines as the hotspot layer draws them (simplified, kept between redraws)
    geoms = gpd.GeoSeries(display_geometries(shown), crs=4326)
    style = {"color": "#111111", "weight": 9, "opacity": 0.55, "dashArray": "4 6", "fill": False}
    props = [
        {"label": esc(f"{h}: no patrol area covers it"), "style": style}
        for h in shown["hotspot_id"].astype(str)
    ]
    folium.GeoJson(
        _features(round_coordinates(geoms, _POLY_DP), props),
        name="Hotspots no patrol area covers",
        on_each_feature=_REFERENCE_JS,
        pane="reference",
    ).add_to(m)
    # the layer control lists the layers added before it: keep it after this one
    for key in [k for k, child in m._children.items() if isinstance(child, folium.LayerControl)]:
        m._children.move_to_end(key)
