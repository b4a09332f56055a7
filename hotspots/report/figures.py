"""Map furniture of the printable pages' matplotlib images.

Polygon paths, label placement, scale bar, north arrow, the synthetic-data marks, and the frame
every static map shares (its extent, a borderless axes on an Agg canvas, the PNG bytes).
Matplotlib is used through :class:`matplotlib.figure.Figure` only, never ``pyplot``, so that it
does not change the backend or the figures of other code.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely import affinity
from shapely.ops import polylabel

from .._text import is_missing
from .._validate import check_int
from .wording import distance_text

__all__ = [
    "SYNTHETIC_RED",
    "WARD_EDGE",
    "WARD_FILL",
    "WARD_TEXT",
    "MapFrame",
    "check_image",
    "draw_map_furniture",
    "draw_polygon",
    "free_point",
    "halo",
    "halo_text",
    "inner_point",
    "label_wards",
    "map_frame",
    "map_legend",
    "mark_synthetic",
    "mpl_path",
    "name_column",
    "new_figure",
    "new_map",
    "nice_length",
    "png_bytes",
]

WARD_EDGE = "#6b6b6b"
WARD_FILL = "#f4f2ee"
WARD_TEXT = "#5a5a5a"
SYNTHETIC_RED = "#b00020"


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
        # add_artist, not add_patch: the maps' limits are set (new_map), and add_patch would
        # walk every curve of the path to widen them (a city's wards: 2.9 s of a 5.6 s map)
        ax.add_artist(PathPatch(path, **style))
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
    return _free_point(geom, _widened(avoid, half_width), half_width)


def _widened(avoid: Any, half_width: float) -> Any:
    """Where a label's centre may not be, ``2 * half_width`` wide, to stay off ``avoid``
    (None: nothing to avoid)."""
    if avoid is None or avoid.is_empty:
        return None
    return shapely.union_all(
        [avoid, *(affinity.translate(avoid, xoff=d) for d in (-half_width, half_width))]
    )


def _free_point(geom: Any, wide: Any, half_width: float) -> Any:
    """:func:`free_point` with ``avoid`` widened already (:func:`_widened`)."""
    shift = [affinity.translate(geom, xoff=d) for d in (-half_width, half_width)]
    room = shapely.intersection_all([geom, *shift])
    if wide is not None:
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


def halo(width: float = 2.5) -> list[Any]:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def halo_text(
    ax: Any, x: float, y: float, text: str, *, halo_width: float = 2.5, **style: Any
) -> None:
    """``text`` at ``(x, y)`` with a white halo (centred unless ``ha`` / ``va`` say otherwise);
    ``style``: further :meth:`matplotlib.axes.Axes.text` keywords."""
    style.setdefault("ha", "center")
    style.setdefault("va", "center")
    ax.text(x, y, text, path_effects=halo(halo_width), **style)


def check_image(
    width_px: object, height_px: object, dpi: object, *, min_width: int, min_height: int
) -> tuple[int, int | None, int]:
    """The checked image width, height (None: the caller's default) and resolution."""
    width = check_int(width_px, "width_px", minimum=min_width)
    height = None if height_px is None else check_int(height_px, "height_px", minimum=min_height)
    return width, height, check_int(dpi, "dpi", minimum=50)


def map_legend(ax: Any, handles: list[Any], *, framealpha: float) -> None:
    """The legend of a static map, in the corner or side where it covers least of what is
    drawn (matplotlib's "best": the pilot page's legend covered three wards' names)."""
    ax.legend(
        handles=handles,
        loc="best",
        fontsize=8,
        framealpha=framealpha,
        edgecolor="#999",
        borderpad=0.6,
    ).set_zorder(20)


def draw_map_furniture(ax: Any, frame: MapFrame, *, north_arrow: bool) -> None:
    """A scale bar in the lower left corner and, when ``north_arrow``, a north arrow (grid
    north) in the top right corner."""
    _draw_scale_bar(ax, frame.x0, frame.y0, frame.dx, frame.dy)
    if north_arrow:
        _draw_north_arrow(ax, frame.x0, frame.y0, frame.dx, frame.dy)


def _draw_scale_bar(ax: Any, x0: float, y0: float, dx: float, dy: float) -> None:
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


def _draw_north_arrow(ax: Any, x0: float, y0: float, dx: float, dy: float) -> None:
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
    halo_text(
        ax,
        x,
        y - 0.012 * dy,
        "N",
        va="top",
        fontsize=10,
        fontweight="bold",
        color="#222",
        zorder=10,
    )


def mark_synthetic(ax: Any, *, rotation: float = 28, fontsize: float = 44) -> None:
    """A map of the demo data: a faint diagonal "SYNTHETIC DEMO DATA" across it (``rotation``
    degrees, ``fontsize`` points) and the same words as a badge in its top left corner."""
    _synthetic_watermark(ax, rotation=rotation, fontsize=fontsize)
    _synthetic_badge(ax)


def _synthetic_watermark(ax: Any, *, rotation: float, fontsize: float) -> None:
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


def _synthetic_badge(ax: Any) -> None:
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


@dataclass(frozen=True)
class MapFrame:
    """The extent of a static map in map units and its size in pixels.

    Attributes
    ----------
    x0, y0, dx, dy
        Lower-left corner and extent (map units, metres) of the whole image.
    width, height
        Image size in pixels.
    """

    x0: float
    y0: float
    dx: float
    dy: float
    width: int
    height: int


def map_frame(
    bounds: Sequence[float],
    *,
    width: int,
    height_px: int | None,
    pad_y: float = 1.10,
    lift: float = 0.0,
) -> MapFrame:
    """The extent and size of a map of ``bounds`` (minx, miny, maxx, maxy) with room around.

    The data's extent (at least 100 m each way) grows by 8% across and by ``pad_y`` up (room
    for a legend and a scale bar) and is centred, moved up by ``lift`` of its height (room for a
    title); the height in pixels defaults to the data's shape, between 0.57 and 1 times
    ``width``; the extent then grows to the image's shape.

    >>> f = map_frame((0, 0, 1000, 500), width=1000, height_px=None)
    >>> f.height, round(f.dx), round(f.dy)
    (570, 1080, 616)
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    dx, dy = max(maxx - minx, 100.0) * 1.08, max(maxy - miny, 100.0) * pad_y
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2 + lift * dy
    shape = min(1.0, max(0.57, dy / dx))  # by default the data's shape, 4:7 to square
    height = round(width * shape) if height_px is None else int(height_px)
    ratio = height / width
    if dy / dx > ratio:
        dx = dy / ratio
    else:
        dy = dx * ratio
    return MapFrame(cx - dx / 2, cy - dy / 2, dx, dy, width, height)


def new_figure(width: int, height: int, dpi: int) -> tuple[Figure, FigureCanvasAgg]:
    """A white figure of ``width`` x ``height`` pixels on its own Agg canvas (no pyplot)."""
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    return fig, FigureCanvasAgg(fig)


def new_map(frame: MapFrame, dpi: int) -> tuple[Figure, FigureCanvasAgg, Any]:
    """A figure for a map of ``frame``: one borderless axes, equal aspect, no ticks."""
    fig, canvas = new_figure(frame.width, frame.height, dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(frame.x0, frame.x0 + frame.dx)
    ax.set_ylim(frame.y0, frame.y0 + frame.dy)
    ax.set_aspect("equal", adjustable="box")
    return fig, canvas, ax


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """The canvas drawn as PNG bytes."""
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


def label_wards(
    ax: Any,
    wards: gpd.GeoDataFrame,
    avoid: Any,
    frame: MapFrame,
    dpi: int,
    labels: Sequence[Any] = (),
) -> None:
    """Ward names (upper case, grey, haloed) inside each ward, clear of ``avoid``; the larger
    wards first, and a name only where it overlaps no name already written (a borough's
    wards all have room; a city's hundreds would write over each other) and none of the
    ``labels`` (boxes of text already on the map, such as hotspot ids)."""
    col = name_column(wards, "ward_name")
    if col is None:
        return
    # Upper-case 7.5 pt text: about 0.7 em a character, a line 1.3 em high (metres a point).
    metres = 1 / 72 * dpi * frame.dx / frame.width
    rise = 1.3 * 7.5 * metres / 2
    written: list[Any] = []
    widened: dict[float, Any] = {}
    if avoid is not None and not avoid.is_empty:  # a name's height, too, stays off it
        avoid = shapely.union_all(
            [avoid, *(affinity.translate(avoid, yoff=d) for d in (-rise, rise))]
        )
    order = np.argsort(-shapely.area(wards.geometry.to_numpy()), kind="stable")
    for geom, name in zip(wards.geometry.iloc[order], wards[col].iloc[order], strict=True):
        if is_missing(name) or geom is None or geom.is_empty:
            continue
        half = (len(str(name)) * 0.7 * 7.5 / 2 + 4 / dpi * 72) * metres
        if half not in widened:  # one per length of name, not one per ward
            widened[half] = _widened(avoid, half)
        pt = _free_point(geom, widened[half], half)
        space = shapely.box(pt.x - half, pt.y - rise, pt.x + half, pt.y + rise)
        taken = [*written, *labels]
        if taken and shapely.intersects(np.asarray(taken, dtype=object), space).any():
            continue
        written.append(space)
        halo_text(
            ax,
            pt.x,
            pt.y,
            str(name).upper(),
            halo_width=2.0,
            fontsize=7.5,
            color=WARD_TEXT,
            zorder=7,
        )
