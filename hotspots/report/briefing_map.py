"""The briefing's static map: hotspots coloured by rank over wards and patrol areas, as PNG.

Drawn with matplotlib's Agg canvas on a :class:`matplotlib.figure.Figure`, never through
``pyplot`` (:mod:`hotspots.report.figures`). It draws no base-map tiles (it works offline) and
no incident points.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .._text import is_missing
from ..crs import to_metres
from ..errors import InputError, ParameterError
from ..palette import rank_classes, rank_colour
from .figures import (
    WARD_EDGE,
    WARD_FILL,
    MapFrame,
    check_image,
    draw_map_furniture,
    draw_polygon,
    halo_text,
    label_wards,
    map_frame,
    map_legend,
    mark_synthetic,
    name_column,
    new_map,
    png_bytes,
)
from .page import check_frame, check_layer

__all__ = ["briefing_map_png"]

# Hotspots labelled with their id on the map (as on the interactive map).
_LABELS_MAX = 30
_PATROL = "#1f5fbf"


def _metre_layers(
    hotspots: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None,
    patrols: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """All three layers in one metre CRS (the hotspots' when projected), empty rows dropped."""
    named = [("hotspots", hotspots), ("wards", wards), ("patrol_areas", patrols)]
    for name, frame in named:
        if frame is not None and frame.crs is None and len(frame):
            raise InputError(
                f"{name}: the layer has no coordinate reference system; give its CRS "
                "(e.g. EPSG:27700)."
            )
    target = None
    for _, frame in named:
        if frame is not None and frame.crs is not None and len(frame):
            target = to_metres(frame).crs
            break

    def prepare(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if frame is None:
            return None
        keep = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        if target is None or keep.crs is None:
            return keep
        return keep.to_crs(target)

    hs = prepare(hotspots)
    assert hs is not None
    return hs, prepare(wards), prepare(patrols)


def _data_bounds(*frames: gpd.GeoDataFrame | None) -> tuple[float, float, float, float] | None:
    """The bounds of all non-empty frames, or None when there is nothing finite to show."""
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    return arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()


def _draw_wards(ax: Any, wards: gpd.GeoDataFrame, legend: list[Any]) -> None:
    for geom in wards.geometry:
        draw_polygon(
            ax,
            geom,
            {"facecolor": WARD_FILL, "edgecolor": "none", "zorder": 1},
            {"facecolor": "none", "edgecolor": WARD_EDGE, "linewidth": 0.9, "zorder": 4},
        )
    legend.append(Line2D([], [], color=WARD_EDGE, linewidth=1.2, label="Ward boundary"))


def _draw_patrols(ax: Any, patrols: gpd.GeoDataFrame, frame: MapFrame, legend: list[Any]) -> None:
    dashed = (0, (5, 3))
    for geom in patrols.geometry:
        draw_polygon(
            ax,
            geom,
            {
                "facecolor": "none",
                "edgecolor": _PATROL,
                "linewidth": 1.6,
                "linestyle": dashed,
                "zorder": 5,
            },
        )
    legend.append(
        Line2D([], [], color=_PATROL, linewidth=1.6, linestyle=dashed, label="Patrol area")
    )
    col = name_column(patrols, "patrol_area")
    if col is None:
        return
    for geom, name in zip(patrols.geometry, patrols[col], strict=True):
        if is_missing(name) or not str(name).strip():
            continue
        minx_p, _, maxx_p, maxy_p = geom.bounds
        halo_text(
            ax,
            (minx_p + maxx_p) / 2,
            maxy_p + 0.004 * frame.dy,
            str(name),
            halo_width=2.0,
            va="bottom",
            fontsize=7,
            fontstyle="italic",
            color=_PATROL,
            zorder=11,
        )


def _draw_hotspots(ax: Any, hs: gpd.GeoDataFrame, frame: MapFrame) -> list[Any]:
    """The hotspot polygons, rank 1 on top, and the ids of the first :data:`_LABELS_MAX`,
    none over another: in rank order each id goes on its hotspot or, when that spot is taken,
    just beside it (above, below, right, left) with a leader line; where none is free it is
    left out (the table lists every hotspot). Returns the ids' boxes (data units)."""
    n = len(hs)
    for pos in range(n - 1, -1, -1):  # rank 1 on top
        colour = rank_colour(pos, n)
        draw_polygon(
            ax,
            hs.geometry.iloc[pos],
            {
                "facecolor": colour,
                "edgecolor": colour,
                "alpha": 0.72,
                "linewidth": 1.2,
                "zorder": 3,
            },
            {"facecolor": "none", "edgecolor": colour, "linewidth": 1.6, "zorder": 6},
        )
    ids = [str(v) for v in hs["hotspot_id"]] if n else []
    renderer = ax.figure.canvas.get_renderer()
    per_px = frame.dx / frame.width  # data units a pixel
    placed: list[Any] = []
    for pos in range(min(n, _LABELS_MAX)):
        geom = hs.geometry.iloc[pos]
        if geom is None or geom.is_empty:
            continue
        pt = shapely.point_on_surface(geom)
        text = ax.text(
            pt.x,
            pt.y,
            ids[pos],
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            color="#111",
            zorder=12,
            bbox={
                "boxstyle": "round,pad=0.2",
                "facecolor": "white",
                "edgecolor": rank_colour(pos, n),
                "linewidth": 1.5,
                "alpha": 0.9,
            },
        )
        box = text.get_window_extent(renderer)  # the label and its frame, pixels
        w, h = (box.width + 10) * per_px, (box.height + 9) * per_px  # with its frame
        for dx, dy in ((0, 0), (0, 1.1 * h), (0, -1.1 * h), (1.05 * w, 0), (-1.05 * w, 0)):
            spot = shapely.box(
                pt.x + dx - w / 2, pt.y + dy - h / 2, pt.x + dx + w / 2, pt.y + dy + h / 2
            )
            if not any(spot.intersects(other) for other in placed):
                break
        else:
            text.remove()
            continue
        placed.append(spot)
        if dx or dy:
            text.set_position((pt.x + dx, pt.y + dy))
            ax.plot([pt.x, pt.x + dx * 0.6], [pt.y, pt.y + dy * 0.6], color="#333",
                    linewidth=0.8, zorder=11)  # fmt: skip
    return placed


def _name_wards(
    ax: Any,
    hs: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame | None,
    frame: MapFrame,
    dpi: int,
    labels: list[Any],
) -> None:
    """Ward names where no hotspot, hotspot id (``labels``: their boxes) and no patrol area
    name is."""
    dx, dy = frame.dx, frame.dy
    blocked = [*shapely.buffer(hs.geometry.to_numpy(), 0.035 * dx), *labels]
    if patrols is not None:
        for minx_p, _, maxx_p, maxy_p in patrols.geometry.bounds.to_numpy():
            mid = (minx_p + maxx_p) / 2
            blocked.append(
                shapely.box(mid - 0.07 * dx, maxy_p, mid + 0.07 * dx, maxy_p + 0.025 * dy)
            )
    avoid = shapely.union_all(blocked) if blocked else None
    label_wards(ax, wards, avoid, frame, dpi, labels)


def _hotspot_legend(ax: Any, n: int, frame: MapFrame, legend: list[Any]) -> None:
    """The rank classes in the legend (before the lines), or a note that there are none."""
    if n:
        for colour, label in rank_classes(n):
            legend.insert(
                len(legend) - sum(1 for h in legend if isinstance(h, Line2D)),
                Rectangle(
                    (0, 0),
                    1,
                    1,
                    facecolor=colour,
                    edgecolor=colour,
                    alpha=0.8,
                    label=f"Hotspot {label}",
                ),
            )
        return
    halo_text(
        ax,
        frame.x0 + frame.dx / 2,
        frame.y0 + frame.dy / 2,
        "No hotspots found with these settings",
        halo_width=3.0,
        fontsize=11,
        color="#444",
        zorder=12,
    )


def _draw_title(ax: Any, title: str, frame: MapFrame) -> None:
    halo_text(
        ax,
        frame.x0 + frame.dx / 2,
        frame.y0 + frame.dy * 0.975,
        title,
        halo_width=3.0,
        va="top",
        fontsize=12,
        fontweight="bold",
        color="#111",
        zorder=20,
    )


def briefing_map_png(
    hotspots: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    synthetic: bool = False,
    width_px: int = 1400,
    height_px: int | None = None,
    dpi: int = 150,
    north_arrow: bool = True,
) -> bytes:
    """A static map of the hotspots for print, as PNG bytes.

    Draws ward outlines with their names, patrol areas dashed blue, hotspot polygons coloured
    by rank (the palette and classes of the interactive map, :data:`hotspots.mapping.RANK_COLOURS`)
    with their ids, a legend, a metric scale bar and a north arrow (grid north), and a
    "SYNTHETIC DEMO DATA" stamp when ``synthetic``. No incident points and no base-map tiles.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``hotspot_id``, ``rank`` used; may be empty). Not modified.
    wards, patrol_areas
        Ward and patrol area frames (any CRS; reprojected to the hotspots' metre CRS), or None.
    title
        Drawn at the top of the map when given.
    synthetic
        Stamp the map "SYNTHETIC DEMO DATA".
    width_px, height_px
        Image size in pixels; ``height_px`` defaults to the data's shape, between 0.57 and 1
        times ``width_px``.
    dpi
        Resolution the text sizes are relative to (150: 8 pt text about 17 px high).
    north_arrow
        Draw a north arrow in the top right corner.

    Returns
    -------
    bytes
        A PNG image of exactly ``width_px`` x ``height_px`` pixels.
    """
    frame_in = check_frame(hotspots, "hotspots", ["hotspot_id"], "pass find_hotspots(...).hotspots")
    if not isinstance(frame_in, gpd.GeoDataFrame):
        raise ParameterError(
            "hotspots: expected a GeoDataFrame with footprints; pass find_hotspots(...).hotspots."
        )
    wards_in = check_layer(wards, "wards")
    patrols_in = check_layer(patrol_areas, "patrol_areas")
    width, height, res = check_image(width_px, height_px, dpi, min_width=200, min_height=150)
    hs, wl, pl = _metre_layers(frame_in, wards_in, patrols_in)
    if "rank" in hs.columns and len(hs):
        ranks = pd.to_numeric(hs["rank"], errors="coerce").to_numpy(dtype=float)
        hs = hs.iloc[np.argsort(ranks, kind="stable")]

    bounds = _data_bounds(hs, wl, pl)
    frame = map_frame(
        (0.0, 0.0, 1000.0, 1000.0) if bounds is None else bounds,
        width=width,
        height_px=height,
        pad_y=1.16 if title else 1.10,
        lift=0.03 if title else 0.0,
    )
    _fig, canvas, ax = new_map(frame, res)
    # Outlines drawn to half a pixel: a city's hundreds of detailed wards drawn and named in a
    # fraction of the time, the same picture.
    pixel = frame.dx / frame.width
    if wl is not None:
        wl = wl.set_geometry(wl.geometry.simplify(pixel / 2, preserve_topology=True))

    legend: list[Any] = []
    if wl is not None and len(wl):
        _draw_wards(ax, wl, legend)
    if pl is not None and len(pl):
        _draw_patrols(ax, pl, frame, legend)
    labels = _draw_hotspots(ax, hs, frame)
    if wl is not None and len(wl):
        _name_wards(ax, hs, wl, pl, frame, res, labels)
    _hotspot_legend(ax, len(hs), frame, legend)
    if legend:
        map_legend(ax, legend, framealpha=0.9)
    if bounds is not None:
        draw_map_furniture(ax, frame, north_arrow=north_arrow)
    if title:
        _draw_title(ax, str(title), frame)
    if synthetic:
        mark_synthetic(ax)
    return png_bytes(canvas)
