"""The outreach sheet's small map: one hotspot, its street map points and their names, as SVG.

Drawn from the data alone, in metres: the hotspot's outline, the neighbouring hotspots' outlines,
every map point of the incidents around it (sized by incidents; the hotspot's own in its
colour) and the names of the busiest streets at their busiest point, with a scale bar and a
north arrow. No tiles, nothing fetched: the map prints and opens offline. Every name is
HTML-escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .._points import incident_xy, unique_points_of
from .._text import esc
from ..errors import ParameterError
from ..overlay import hotspot_id_codes
from ..places import street_names
from .figures import nice_length
from .wording import distance_text

__all__ = ["SVG_CSS", "MapPoints", "hotspot_svg", "map_points", "map_window"]

_HOTSPOT = "#800026"
_OTHER = "#d9a0a8"
_POINT = "#7a7a7a"
_CHAR_PX = 5.6  # the width of a character of the labels (10 px sans-serif), roughly


@dataclass(frozen=True)
class MapPoints:
    """The incidents' distinct map points (:func:`map_points`).

    Attributes
    ----------
    xy
        Positions, shape (n, 2), metres.
    incidents
        Incidents at each point.
    label
        Each point's most frequent street name ("On or near " stripped; "" for none).
    hotspot
        The hotspot id of each point's incidents ("" for none).
    """

    xy: npt.NDArray[np.float64]
    incidents: npt.NDArray[np.int64]
    label: npt.NDArray[np.object_]
    hotspot: npt.NDArray[np.object_]


def map_points(incidents: gpd.GeoDataFrame, hotspot_ids: pd.Series) -> MapPoints:
    """The distinct map points of ``incidents`` with their counts, street names and hotspot.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"location": ["On or near A Road"] * 2 + ["On or near B Lane"]},
    ...     geometry=gpd.points_from_xy([0, 0, 50], [0, 0, 0]), crs="EPSG:27700")
    >>> mp = map_points(pts, pd.Series(["H01", "H01", ""]))
    >>> mp.incidents.tolist(), mp.label.tolist(), mp.hotspot.tolist()
    ([2, 1], ['A Road', 'B Lane'], ['H01', ''])
    """
    if len(hotspot_ids) != len(incidents):
        raise ParameterError(
            f"hotspot_ids: {len(hotspot_ids)} ids for {len(incidents)} incidents; give "
            "find_hotspots(incidents).hotspot_ids."
        )
    xy = incident_xy(incidents)
    ok = np.isfinite(xy).all(axis=1)
    point, uxy, counts = unique_points_of(xy, np.flatnonzero(ok))  # a city's kept codes
    # the points sorted by x, then y; each row's point among them
    order = np.lexsort((uxy[:, 1], uxy[:, 0]))
    place = np.empty(len(order), dtype=np.intp)
    place[order] = np.arange(len(order))
    point = place[point]
    # each point's hotspot: the greatest id of its incidents ("" sorts first)
    id_code, id_names = hotspot_id_codes(hotspot_ids.set_axis(incidents.index), incidents)
    id_rank = _text_rank(id_names)
    top = np.full(len(order), -1, dtype=np.intp)
    np.maximum.at(top, point, id_rank[id_code[ok]])
    # each point's label: its most frequent location's street name, ties by name
    location = incidents["location"] if "location" in incidents.columns else None
    labels = np.full(len(order), "", dtype=object)
    if location is not None and len(point):
        if not isinstance(location.dtype, pd.CategoricalDtype):
            location = location.astype("str")
        code, distinct = pd.factorize(location.reset_index(drop=True))
        names = street_names(pd.Series(np.asarray(distinct, dtype=object), dtype="str"))
        names_arr = names.fillna("").to_numpy(dtype=object)
        loc = code[ok]
        held = loc >= 0
        pair, k = np.unique(
            point[held].astype(np.int64) * (len(names_arr) + 1) + loc[held], return_counts=True
        )
        at, which = pair // (len(names_arr) + 1), pair % (len(names_arr) + 1)
        first = np.lexsort((_text_rank(names_arr)[which], -k, at))
        first = first[np.r_[True, at[first][1:] != at[first][:-1]]]
        labels[at[first]] = names_arr[which[first]]
    return MapPoints(
        xy=uxy[order],
        incidents=counts[order].astype(np.int64),
        label=labels,
        hotspot=np.sort(id_names)[top] if len(top) else np.zeros(0, dtype=object),
    )


def _text_rank(names: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    """Each name's place among ``names`` sorted (equal names, equal places)."""
    return np.searchsorted(np.sort(names), names).astype(np.intp)


def _path(geom: object, to_px: _ToPx) -> str:
    """An SVG path of a (Multi)Polygon's rings."""
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        if getattr(poly, "geom_type", "") != "Polygon" or poly.is_empty:  # type: ignore[attr-defined]
            continue
        for ring in [poly.exterior, *poly.interiors]:  # type: ignore[attr-defined]
            xy = to_px(np.asarray(ring.coords)[:, :2])
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


@dataclass(frozen=True)
class _ToPx:
    """Metres to the SVG's pixels (y down)."""

    x0: float
    y1: float
    scale: float

    def __call__(self, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = (xy[:, 0] - self.x0) * self.scale
        out[:, 1] = (self.y1 - xy[:, 1]) * self.scale
        return out


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes (left, top, right, bottom) overlap."""
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _free_box(
    x: float, y: float, width: float, size: int, placed: list[tuple[float, float, float, float]]
) -> tuple[float, float, float, float] | None:
    """A label's box beside the point (x, y): right, left, above or below, the first that
    stays on the map, clear of the badge, the scale bar and the labels placed; else None."""
    for left, top in ((x + 5, y - 12), (x - 5 - width, y - 12), (x - width / 2, y - 20),
                      (x - width / 2, y + 5)):  # fmt: skip
        box = (left, top, left + width, top + 14)
        off = box[0] < 2 or box[2] > size - 2 or box[1] < 2 or box[3] > size - 30
        if off or (box[1] < 26 and box[0] < 140) or any(_overlap(b, box) for b in placed):
            continue
        return box
    return None


def _labels(
    pts: MapPoints, inside: npt.NDArray[np.bool_], to_px: _ToPx, size: int, most: int
) -> list[str]:
    """The busiest streets' names at their busiest point, none overlapping another."""
    named = np.flatnonzero(inside & (pts.label != ""))
    if not len(named):
        return []
    table = pd.DataFrame({"i": named, "name": pts.label[named], "n": pts.incidents[named]})
    totals = table.groupby("name")["n"].sum().sort_values(ascending=False, kind="stable")
    anchor = table.sort_values("n", ascending=False, kind="stable").drop_duplicates("name")
    at = dict(zip(anchor["name"], anchor["i"], strict=True))
    placed: list[tuple[float, float, float, float]] = []
    out: list[str] = []
    for name in totals.index[: most * 2]:
        if len(out) >= most:
            break
        x, y = to_px(pts.xy[[at[name]]])[0]
        width = _CHAR_PX * len(str(name)) + 4
        box = _free_box(x, y, width, size, placed)
        if box is None:
            continue
        placed.append(box)
        out.append(
            f'<text class="street" x="{box[0] + 2:.1f}" y="{box[3] - 3:.1f}">{esc(name)}</text>'
        )
    return out


def _furniture(size: int, scale: float, synthetic: bool) -> str:
    """Scale bar, north arrow and, on synthetic data, a "SYNTHETIC DEMO DATA" badge."""
    metres = nice_length(size * 0.3 / scale)
    bar = metres * scale
    parts = [
        f'<g class="scale"><rect x="10" y="{size - 18}" width="{bar:.1f}" height="4"/>'
        f'<text x="10" y="{size - 22}">{esc(distance_text(metres))}</text></g>',
        f'<g class="north"><path d="M{size - 18},10 l6,16 l-6,-4 l-6,4 z"/>'
        f'<text x="{size - 18}" y="38" text-anchor="middle">N</text></g>',
    ]
    if synthetic:
        parts.append(
            '<g class="mark"><rect x="6" y="6" width="128" height="16"/>'
            '<text x="70" y="18" text-anchor="middle">SYNTHETIC DEMO DATA</text></g>'
        )
    return "".join(parts)


def map_window(bounds: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """The square a hotspot's map shows: (centre x, centre y, half its side), metres, for the
    hotspot's bounds (minx, miny, maxx, maxy): 30% wider than the hotspot, 600 m at least.

    >>> map_window((0, 0, 100, 400))
    (50.0, 200.0, 300.0)
    """
    minx, miny, maxx, maxy = bounds
    half = max(maxx - minx, maxy - miny, 400.0) / 2 * 1.3 + 40.0
    return (minx + maxx) / 2, (miny + maxy) / 2, half


def hotspot_svg(
    hotspot_id: str,
    hotspots: gpd.GeoDataFrame,
    points: MapPoints,
    *,
    synthetic: bool = False,
    size: int = 380,
    labels_max: int = 10,
) -> str:
    """A small SVG map of one hotspot, its neighbours' outlines and the map points around it.

    Parameters
    ----------
    hotspot_id
        The hotspot drawn (a ``hotspot_id`` of ``hotspots``).
    hotspots
        The Hotspots frame in the metre CRS of ``points``.
    points
        :func:`map_points` of the incidents.
    synthetic
        Write "SYNTHETIC DEMO DATA" across the map.
    size
        The map's width and height in pixels.
    labels_max
        At most this many street names.

    Returns
    -------
    str
        An ``<svg>`` element (every name escaped).
    """
    row = hotspots.loc[hotspots["hotspot_id"].astype(str) == str(hotspot_id)]
    if not len(row):
        raise ParameterError(f"hotspot_id: no hotspot {hotspot_id!r}; give one of the hotspots'.")
    geom = row.geometry.iloc[0]
    if geom is None or geom.is_empty:
        minx, miny, maxx, maxy = _points_bounds(points, str(hotspot_id))
    else:
        minx, miny, maxx, maxy = geom.bounds
    cx, cy, half = map_window((minx, miny, maxx, maxy))
    scale = size / (2 * half)
    to_px = _ToPx(cx - half, cy + half, scale)
    window = shapely.box(cx - half, cy - half, cx + half, cy + half)
    others = hotspots[
        (hotspots["hotspot_id"].astype(str) != str(hotspot_id)) & hotspots.intersects(window)
    ]
    inside = (np.abs(points.xy[:, 0] - cx) <= half) & (np.abs(points.xy[:, 1] - cy) <= half)
    idx = np.flatnonzero(inside)
    biggest = max(int(points.incidents[idx].max()), 1) if len(idx) else 1
    dots = []
    for i in idx[np.argsort(points.incidents[idx], kind="stable")]:
        x, y = to_px(points.xy[[i]])[0]
        r = 1.6 + 4.5 * math.sqrt(points.incidents[i] / biggest)
        cls = "own" if points.hotspot[i] == str(hotspot_id) else "pt"
        dots.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"/>')
    outline = "" if geom is None else _path(geom, to_px)
    other_paths = "".join(f'<path class="other" d="{_path(g, to_px)}"/>' for g in others.geometry)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hotspot-map" width="{size}" '
        f'height="{size}" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{esc(f"Map of hotspot {hotspot_id} and the streets around it")}">'
        f'<rect class="ground" width="{size}" height="{size}"/>{other_paths}'
        f'<path class="hotspot" d="{outline}"/>{"".join(dots)}'
        f"{''.join(_labels(points, inside, to_px, size, labels_max))}"
        f"{_furniture(size, scale, synthetic)}</svg>"
    )


def _points_bounds(points: MapPoints, hotspot_id: str) -> tuple[float, float, float, float]:
    own = points.xy[points.hotspot == hotspot_id]
    if not len(own):
        raise ParameterError(f"hotspot {hotspot_id!r} has no outline and no map points to draw.")
    return (*own.min(axis=0), *own.max(axis=0))  # type: ignore[return-value]


#: The map's style (on the page that holds it).
SVG_CSS = f"""
.hotspot-map {{ display: block; border: 1px solid #bbb; font-family: Arial, sans-serif; }}
.hotspot-map .ground {{ fill: #f7f5f0; }}
.hotspot-map .hotspot {{ fill: {_HOTSPOT}; fill-opacity: .18; stroke: {_HOTSPOT};
  stroke-width: 2; fill-rule: evenodd; }}
.hotspot-map .other {{ fill: {_OTHER}; fill-opacity: .25; stroke: {_OTHER}; stroke-width: 1;
  stroke-dasharray: 3 2; fill-rule: evenodd; }}
.hotspot-map .pt {{ fill: {_POINT}; fill-opacity: .55; }}
.hotspot-map .own {{ fill: {_HOTSPOT}; fill-opacity: .85; }}
.hotspot-map .street {{ font-size: 10px; fill: #1a1a1a; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; stroke-linejoin: round; }}
.hotspot-map .scale rect {{ fill: #333; }}
.hotspot-map .scale text, .hotspot-map .north text {{ font-size: 10px; fill: #333; }}
.hotspot-map .north path {{ fill: #333; }}
.hotspot-map .mark rect {{ fill: #b00020; }}
.hotspot-map .mark text {{ font-size: 10px; font-weight: bold; fill: #fff; }}
"""
