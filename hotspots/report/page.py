"""What the printable pages share: page CSS and policy, text helpers, and map furniture.

:mod:`hotspots.briefing` (the hotspot briefing) and :mod:`hotspots.pilot_report` (the pilot
page) both print self-contained HTML pages with matplotlib images. This module holds what they
have in common: the page's CSS and Content-Security-Policy, HTML escaping and number helpers,
the disclosure test for small counts, and the map furniture (polygon paths, label placement,
scale bar, north arrow, the synthetic-data marks). Matplotlib is used through
:class:`matplotlib.figure.Figure` only, never ``pyplot``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely import affinity
from shapely.ops import polylabel

from ..errors import ParameterError

__all__ = [
    "CSP",
    "DASH",
    "MONTH_RE",
    "PAGE_CSS",
    "SYNTHETIC_NOTICE",
    "SYNTHETIC_RED",
    "WARD_EDGE",
    "WARD_FILL",
    "WARD_TEXT",
    "as_number",
    "check_int",
    "check_layer",
    "distance_text",
    "draw_north_arrow",
    "draw_polygon",
    "draw_scale_bar",
    "esc",
    "free_point",
    "halo",
    "inner_point",
    "is_missing",
    "is_small",
    "month_words",
    "mpl_path",
    "name_column",
    "nice_length",
    "synthetic_badge",
    "synthetic_watermark",
]

DASH = "–"
WARD_EDGE = "#6b6b6b"
WARD_FILL = "#f4f2ee"
WARD_TEXT = "#5a5a5a"
SYNTHETIC_RED = "#b00020"
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SYNTHETIC_NOTICE = (
    "Synthetic demo data: an invented borough with planted hotspots, not real crimes. "
    "Streets and wards are illustrative. Do not use these figures for decisions."
)
PAGE_CSS = """
@page { size: A4 portrait; margin: 12mm 12mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 186mm; padding: 6mm 0; color: #1a1a1a;
  font: 10pt/1.4 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; background: #fff; }
h1 { font-size: 17pt; margin: 0 0 1mm; line-height: 1.2; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 1px solid #ccc;
  break-after: avoid; page-break-after: avoid; }
.meta { color: #555; margin: 0 0 4mm; }
.synthetic { border: 2px solid #b00020; background: #fdecef; color: #7a0016; padding: 2mm 3mm;
  margin: 0 0 4mm; font-weight: bold; }
.synthetic span { display: inline-block; background: #b00020; color: #fff; padding: 0 2mm;
  margin-right: 2mm; letter-spacing: .04em; }
.headline { display: flex; gap: 3mm; margin: 0 0 4mm; }
.headline div { flex: 1; border: 1px solid #d0d0d0; border-top: 3px solid #800026;
  padding: 2mm 3mm; break-inside: avoid; }
.headline b { display: block; font-size: 16pt; line-height: 1.2; }
.headline small { color: #555; font-size: 8pt; display: block; }
figure { margin: 0 0 2mm; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; max-height: 175mm; width: auto; height: auto;
  margin: 0 auto; border: 1px solid #bbb; }
figcaption { color: #555; font-size: 8pt; margin-top: 1mm; }
table { width: 100%; border-collapse: collapse; font-size: 8pt; line-height: 1.3; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th { text-align: left; background: #f0f0f0; border-bottom: 1.5px solid #888; padding: 1.2mm;
  vertical-align: bottom; }
td { border-bottom: 1px solid #ddd; padding: 1.2mm; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.id { font-weight: bold; white-space: nowrap; }
td.id i { display: inline-block; width: 3mm; height: 3mm; margin-right: 1mm;
  vertical-align: -0.3mm; }
.note { color: #555; font-size: 8pt; margin: 1mm 0 0; }
.guide { font-size: 9pt; }
.guide dt { font-weight: bold; margin-top: 1.5mm; }
.guide dd { margin: 0 0 0 4mm; }
footer { margin-top: 6mm; color: #777; font-size: 7.5pt; border-top: 1px solid #ddd;
  padding-top: 1.5mm; }
@media print { body { padding: 0; max-width: none; } .pagebreak { break-before: page; } }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def check_int(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    return int(value)


def as_number(value: object) -> float | None:
    if is_missing(value):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def is_small(value: object, threshold: int) -> bool:
    """True when ``value`` is a count that :func:`suppress_small` hides (1 .. threshold-1)."""
    v = as_number(value)
    return v is not None and 0 < v < threshold


def month_words(text: object, *, short: bool = False) -> str:
    """ "2024-01" -> "January 2024" (or "Jan 2024"); other text unchanged."""
    if is_missing(text):
        return "?"
    s = str(text).strip()
    if not MONTH_RE.match(s):
        return s
    return pd.Timestamp(s + "-01").strftime("%b %Y" if short else "%B %Y")


def check_layer(frame: object, name: str) -> gpd.GeoDataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            f"{name}: expected a GeoDataFrame, got {type(frame).__name__}; load it with "
            f"geodata.load_{'wards' if name == 'wards' else 'patrol_areas'}."
        )
    return frame


def name_column(frame: gpd.GeoDataFrame, known: str) -> str | None:
    if known in frame.columns:
        return known
    for c in frame.columns:
        if c != frame.geometry.name and "name" in str(c).lower():
            return str(c)
    return None


def mpl_path(geom: Any) -> MplPath | None:
    """A matplotlib path of a (multi)polygon, holes included (even-odd filled)."""
    polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
    if not polys:
        return None
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def draw_polygon(ax: Any, geom: Any, *styles: dict[str, Any]) -> bool:
    """Add ``geom`` (a (multi)polygon) to ``ax`` once per style (PathPatch keyword arguments,
    e.g. a fill then an outline); False when it has no polygon to draw."""
    path = mpl_path(geom)
    if path is None:
        return False
    for style in styles:
        ax.add_patch(PathPatch(path, **style))
    return True


def inner_point(geom: Any) -> Any:
    """The point of ``geom`` farthest from its edges (of its largest polygon)."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and g.area > 0]
    if not parts:
        return shapely.point_on_surface(geom)
    biggest = max(parts, key=lambda g: g.area)
    return polylabel(biggest, tolerance=max(1.0, math.sqrt(biggest.area) / 100))


def free_point(geom: Any, avoid: Any, half_width: float) -> Any:
    """Where a label ``2 * half_width`` wide fits inside ``geom`` clear of ``avoid``.

    The most inner point of the part of ``geom`` where the whole label stays inside ``geom``
    and off ``avoid``; ``geom``'s own inner point when there is no such part.
    """
    shift = [affinity.translate(geom, xoff=d) for d in (-half_width, half_width)]
    room = shapely.intersection_all([geom, *shift])
    if avoid is not None and not avoid.is_empty:
        wide = shapely.union_all(
            [avoid, *(affinity.translate(avoid, xoff=d) for d in (-half_width, half_width))]
        )
        room = shapely.difference(room, wide)
    if not room.is_empty and room.area > 0:
        return inner_point(room)
    return inner_point(geom)


def nice_length(target_m: float) -> float:
    """The largest of 1, 2, 5 x 10^k metres not above ``target_m``."""
    if target_m <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * power <= target_m:
            return float(step * power)
    return float(power)


def distance_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def halo(width: float = 2.5) -> list[Any]:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def draw_scale_bar(ax: Any, x0: float, y0: float, dx: float, dy: float) -> None:
    length = nice_length(dx / 5)
    x, y = x0 + 0.03 * dx, y0 + 0.035 * dy
    h = 0.009 * dy
    ax.add_patch(
        Rectangle(
            (x - 0.01 * dx, y - 0.022 * dy),
            length + 0.03 * dx,
            h + 0.05 * dy,
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=8,
        )
    )
    half = length / 2
    ax.add_patch(Rectangle((x, y), half, h, facecolor="#222", edgecolor="#222", zorder=9))
    ax.add_patch(Rectangle((x + half, y), half, h, facecolor="white", edgecolor="#222", zorder=9))
    style = {"fontsize": 8, "color": "#222", "zorder": 10, "va": "bottom"}
    ax.text(x, y + h * 1.6, "0", ha="center", **style)
    ax.text(x + length, y + h * 1.6, distance_text(length), ha="center", **style)


def draw_north_arrow(ax: Any, x0: float, y0: float, dx: float, dy: float) -> None:
    x, y = x0 + 0.965 * dx, y0 + 0.86 * dy
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            0.06 * dy,
            width=0.006 * dx,
            head_width=0.022 * dx,
            head_length=0.03 * dy,
            length_includes_head=True,
            facecolor="#222",
            edgecolor="#222",
            zorder=10,
        )
    )
    ax.text(
        x,
        y - 0.012 * dy,
        "N",
        ha="center",
        va="top",
        fontsize=10,
        fontweight="bold",
        color="#222",
        zorder=10,
        path_effects=halo(),
    )


def synthetic_watermark(ax: Any, *, rotation: float = 28, fontsize: float = 44) -> None:
    """A faint diagonal "SYNTHETIC DEMO DATA" across a map or chart of the demo data."""
    ax.text(
        0.5,
        0.5,
        "SYNTHETIC DEMO DATA",
        transform=ax.transAxes,
        ha="center",
        va="center",
        rotation=rotation,
        fontsize=fontsize,
        fontweight="bold",
        color=SYNTHETIC_RED,
        alpha=0.10,
        zorder=15,
    )


def synthetic_badge(ax: Any) -> None:
    """A "SYNTHETIC DEMO DATA" label in the top left corner of a map."""
    ax.text(
        0.012,
        0.985,
        "SYNTHETIC DEMO DATA",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=9,
        fontweight="bold",
        color="white",
        zorder=21,
        bbox={"boxstyle": "square,pad=0.35", "facecolor": SYNTHETIC_RED, "edgecolor": "none"},
    )
