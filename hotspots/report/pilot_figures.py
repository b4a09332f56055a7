"""The pilot report's images: the monthly chart of the zones and the map of the zones, as PNG.

* :func:`pilot_chart_png`: the monthly counts of the target, the buffer and the control area as
  three stacked panels (each with its own scale), the operation's months shaded and the before
  and after monthly means dashed; months with a small count are drawn as a band, their value
  not plotted (:func:`hotspots.pilot_disclosure.disclosed_monthly`);
* :func:`pilot_map_png`: the zones (target, buffer ring, control area) with optional ward
  outlines, a scale bar and a north arrow.

Both are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, with no base-map tiles (they work offline) and no incident points. The zone helpers
(:func:`check_result`, :func:`zones_shown`, :func:`zone_names`) serve the page too.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .._validate import check_int
from ..errors import ParameterError
from ..pilot import PERIODS, ZONES, PilotResult
from ..pilot_disclosure import disclosed_monthly
from .figures import (
    SYNTHETIC_RED,
    WARD_EDGE,
    check_image,
    draw_map_furniture,
    draw_polygon,
    halo_text,
    label_wards,
    map_frame,
    map_legend,
    mark_synthetic,
    new_figure,
    new_map,
    png_bytes,
)
from .page import check_layer
from .wording import fewer_than

__all__ = [
    "ZONE_COLOURS",
    "check_result",
    "pilot_chart_png",
    "pilot_map_png",
    "zone_names",
    "zones_shown",
]

ZONE_COLOURS = {"target": "#c62828", "buffer": "#ef8a17", "control": "#6b6b6b"}
_OPERATION_GREY = "#e3e3e3"
_BAND = "#fde7c4"
_WITHHELD = "#e4eaf3"
# The open markers of a small month and of a withheld month (chart and legend).
_SMALL_MARKER: dict[str, Any] = {"marker": "o", "ms": 5, "mew": 1.3}
_WITHHELD_MARKER: dict[str, Any] = {"marker": "s", "ms": 4.5, "mew": 1.2}


def check_result(result: object) -> PilotResult:
    """``result`` when it is a :class:`PilotResult`, else a ParameterError saying how to get one."""
    if not isinstance(result, PilotResult):
        raise ParameterError(
            f"result: expected the PilotResult that evaluate_pilot returns, got "
            f"{type(result).__name__}; run hotspots.pilot.evaluate_pilot(...) first."
        )
    return result


def zone_names(result: PilotResult) -> dict[str, str]:
    """The zones' names as the chart labels them."""
    control = (
        "Control area (rest of the study area)" if result.control_is_default else "Control area"
    )
    return {"target": "Target area", "buffer": "Buffer ring", "control": control}


def zones_shown(result: PilotResult) -> list[str]:
    """The zones that exist: no buffer row for buffer_m=0, no control row without a control."""
    areas = dict(zip(result.geometries["zone"], result.geometries["area_km2"], strict=True))
    shown = ["target"]
    if float(areas.get("buffer", 0.0)) > 0:
        shown.append("buffer")
    if result.has_control:
        shown.append("control")
    return shown


# ==========================================================================================
# The chart
# ==========================================================================================
def _month_ticks(months: pd.Series) -> tuple[list[int], list[str]]:
    n = len(months)
    step = 1 if n <= 12 else 3 if n <= 36 else 6 if n <= 72 else 12
    stamps = pd.to_datetime(months).reset_index(drop=True)
    first = next((i for i in range(n) if (stamps[i].month - 1) % step == 0), 0)
    ticks = list(range(first, n, step))
    return ticks, [stamps[i].strftime("%b %Y") for i in ticks]


def _shade_months(ax: Any, during: np.ndarray, missing: np.ndarray) -> None:
    """The operation's months grey; months missing from the data hatched."""
    if len(during):
        ax.axvspan(during[0] - 0.5, during[-1] + 0.5, color=_OPERATION_GREY, zorder=0, lw=0)
    for i in np.flatnonzero(missing):
        ax.axvspan(
            i - 0.5, i + 0.5, facecolor="white", edgecolor="#bbbbbb", hatch="////", lw=0, zorder=0.5
        )


def _draw_hidden_months(
    ax: Any,
    x: np.ndarray,
    small: np.ndarray,
    withheld: np.ndarray,
    top: float,
    limit: int,
    colour: str,
) -> None:
    """Small months as a band up to the threshold, withheld months as a full-height band."""
    for i in np.flatnonzero(small):
        ax.add_patch(
            Rectangle((i - 0.42, 0), 0.84, limit, facecolor=_BAND, edgecolor="none", zorder=1)
        )
    for i in np.flatnonzero(withheld):
        ax.add_patch(
            Rectangle((i - 0.42, 0), 0.84, top, facecolor=_WITHHELD, edgecolor="none", zorder=1)
        )
    _draw_open_markers(ax, x, withheld, top / 2, colour, _WITHHELD_MARKER)


def _draw_open_markers(
    ax: Any, x: np.ndarray, where: np.ndarray, y: float, colour: str, marker: dict[str, Any]
) -> None:
    """Open markers (``marker``: their shape, size and edge width) at height ``y`` over the
    months ``where`` is true: a hidden month's place on the line."""
    if where.any():
        ax.plot(
            x[where],
            np.full(int(where.sum()), y),
            ls="none",
            mfc="white",
            mec=colour,
            zorder=4,
            **marker,
        )


def _draw_means(ax: Any, period: np.ndarray, mean: np.ndarray, colour: str) -> None:
    for p in ("before", "after"):
        sel = np.flatnonzero(period == p)
        if len(sel) and np.isfinite(mean[sel[0]]):
            ax.hlines(
                mean[sel[0]],
                sel[0] - 0.4,
                sel[-1] + 0.4,
                colors=colour,
                lw=1.2,
                linestyles=(0, (4, 2.5)),
                alpha=0.9,
                zorder=2,
            )


def _style_panel(ax: Any, n_months: int, top: float, name: str, colour: str) -> None:
    ax.set_ylim(0, top)
    ax.set_xlim(-0.6, n_months - 0.4)
    ax.grid(axis="y", color="#e8e8e8", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7.5, length=2.5)
    ax.set_ylabel("incidents", fontsize=7.5, color="#444")
    halo_text(
        ax,
        0.005,
        0.97,
        name,
        halo_width=3.0,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=9,
        fontweight="bold",
        color=colour,
        zorder=6,
    )


def _draw_panel(
    ax: Any, part: pd.DataFrame, period: np.ndarray, limit: int, name: str, colour: str
) -> None:
    """One zone's panel: the monthly line, hidden months, the means."""
    count = part["count"].to_numpy(dtype=float)
    small = part["small"].to_numpy(dtype=bool)
    withheld = part["withheld"].to_numpy(dtype=bool)
    mean = part["mean"].to_numpy(dtype=float)
    x = np.arange(len(part), dtype=float)
    top = float(np.nanmax(np.r_[count, mean, 0.0]))
    if small.any():
        top = max(top, float(limit))
    top = max(top, 1.0) * 1.22
    _shade_months(ax, np.flatnonzero(period == "during"), part["missing"].to_numpy(dtype=bool))
    _draw_hidden_months(ax, x, small, withheld, top, limit, colour)
    ax.plot(x, count, color=colour, lw=1.6, marker="o", ms=3.2, zorder=3)
    _draw_open_markers(ax, x, small, limit / 2, colour, _SMALL_MARKER)
    _draw_means(ax, period, mean, colour)
    _style_panel(ax, len(x), top, name, colour)


def _chart_legend(fig: Any, shown: pd.DataFrame, limit: int, ncol: int, bottom: float) -> None:
    any_small = bool(shown["small"].any())
    any_withheld = bool(shown["withheld"].any())
    any_missing = bool(shown["missing"].any())
    handles: list[Any] = [
        Line2D([], [], color="#444", lw=1.6, marker="o", ms=3.2, label="Incidents a month"),
        Line2D([], [], color="#444", lw=1.2, ls=(0, (4, 2.5)), label="Mean before / after"),
        Rectangle((0, 0), 1, 1, facecolor=_OPERATION_GREY, edgecolor="none", label="Operation"),
    ]
    labels = ["Incidents a month", "Mean before / after", "Operation"]
    if any_small:
        handles.append(
            (
                Rectangle((0, 0), 1, 1, facecolor=_BAND, edgecolor="none"),
                Line2D([], [], ls="none", mfc="white", mec="#444", **_SMALL_MARKER),
            )
        )
        labels.append(f"{fewer_than(limit)} (value not shown)")
    if any_withheld:
        handles.append(
            (
                Rectangle((0, 0), 1, 1, facecolor=_WITHHELD, edgecolor="none"),
                Line2D([], [], ls="none", mfc="white", mec="#444", **_WITHHELD_MARKER),
            )
        )
        labels.append("Not shown (would reveal a small count)")
    if any_missing:
        handles.append(
            Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#bbbbbb", hatch="////", lw=0)
        )
        labels.append("No data for the month")
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=ncol,
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.5, bottom),
    )


def _legend_entries(shown: pd.DataFrame) -> int:
    return 3 + sum(bool(shown[c].any()) for c in ("small", "withheld", "missing"))


def pilot_chart_png(
    result: PilotResult,
    *,
    threshold: int = 5,
    synthetic: bool = False,
    width_px: int = 1400,
    height_px: int | None = None,
    dpi: int = 190,
) -> bytes:
    """The monthly counts of the target, buffer and control area, for print, as PNG bytes.

    Three stacked panels (each with its own y scale) share the month axis; the operation's
    months are shaded grey and labelled "operation", and the before and after monthly means of
    each zone are dashed lines. A month whose count is 1 to ``threshold - 1`` is drawn as an
    open marker on a light band from 0 to ``threshold`` ("fewer than 5" in the legend): its
    value is not plotted. Months missing from the data are gaps in the line, not zeros. Zones
    that do not exist (no buffer, no control) are left out.

    Parameters
    ----------
    result
        What :func:`hotspots.pilot.evaluate_pilot` returned.
    threshold
        Counts from 1 to ``threshold - 1`` are not shown.
    synthetic
        Stamp the chart "SYNTHETIC DEMO DATA".
    width_px, height_px
        Image size in pixels (``height_px`` defaults to about 0.3 of the width per panel).
    dpi
        Resolution the text sizes are relative to (190: 1400 px print at true size 187 mm
        wide, the text width of an A4 page).

    Returns
    -------
    bytes
        A PNG image of ``width_px`` x ``height_px`` pixels.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> from hotspots.pilot import evaluate_pilot
    >>> inc = gpd.GeoDataFrame({"month": pd.to_datetime(["2024-01-01", "2024-03-01"] * 10),
    ...     "category": ["Robbery"] * 20}, geometry=[Point(50, 50), Point(900, 900)] * 10,
    ...     crs="EPSG:27700")
    >>> res = evaluate_pilot(inc, target=box(0, 0, 100, 100), start="2024-02", end="2024-02",
    ...                      buffer_m=100, control=box(800, 800, 1000, 1000))
    >>> pilot_chart_png(res, width_px=600)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    res = check_result(result)
    limit = check_int(threshold, "threshold", minimum=1)
    width, height_in, resolution = check_image(
        width_px, height_px, dpi, min_width=300, min_height=200
    )
    zones = zones_shown(res)
    names = zone_names(res)
    series = disclosed_monthly(res.monthly, limit, zones=ZONES, periods=PERIODS)
    months = pd.Series(pd.to_datetime(res.monthly["month"]).to_numpy())
    period = res.monthly["period"].astype(str).to_numpy()
    height = height_in if height_in is not None else round(width * (0.11 + 0.15 * len(zones)))

    fig, canvas = new_figure(width, height, resolution)
    axes = fig.subplots(len(zones), 1, sharex=True, squeeze=False)[:, 0]
    shown = series[series["zone"].isin(zones)]
    n_legend = _legend_entries(shown)
    ncol = n_legend if n_legend <= 4 else 3
    rows = -(-n_legend // ncol)
    # Room in pixels (at this dpi) for the month labels and the legend below, the title above.
    scale = resolution / 150
    fig.subplots_adjust(
        left=0.075,
        right=0.985,
        top=1 - 30 * scale / height,
        bottom=min(0.5, (70 + 22 * rows) * scale / height),
        hspace=0.28,
    )
    for ax, zone in zip(axes, zones, strict=True):
        part = series[series["zone"] == zone].reset_index(drop=True)
        _draw_panel(ax, part, period, limit, names[zone], ZONE_COLOURS[zone])
    during = np.flatnonzero(period == "during")
    if len(during):
        halo_text(
            axes[0],
            (during[0] + during[-1]) / 2,
            0.97,
            "operation",
            transform=axes[0].get_xaxis_transform(),
            va="top",
            fontsize=8.5,
            color="#333",
            zorder=6,
        )
    ticks, labels = _month_ticks(months)
    axes[-1].set_xticks(ticks, labels)
    _chart_legend(fig, shown, limit, ncol, 2 * scale / height)
    if synthetic:
        fig.text(
            0.985,
            0.995,
            "SYNTHETIC DEMO DATA",
            ha="right",
            va="top",
            fontsize=8,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "square,pad=0.3", "facecolor": SYNTHETIC_RED, "edgecolor": "none"},
        )
    return png_bytes(canvas)


# ==========================================================================================
# The map
# ==========================================================================================
def _draw_control(ax: Any, res: PilotResult, geoms: dict[str, Any], legend: list[Any]) -> None:
    draw_polygon(
        ax,
        geoms["control"],
        {"facecolor": "#ececec", "edgecolor": "none", "zorder": 1},
        {"facecolor": "none", "edgecolor": "#8a8a8a", "linewidth": 1.4, "zorder": 2},
    )
    label = "Control area" + (" (rest of the study area)" if res.control_is_default else "")
    legend.append(Rectangle((0, 0), 1, 1, facecolor="#ececec", edgecolor="#8a8a8a", label=label))


def _draw_ward_outlines(ax: Any, wards: gpd.GeoDataFrame, legend: list[Any]) -> None:
    for geom in wards.geometry:
        draw_polygon(
            ax,
            geom,
            {
                "facecolor": "none",
                "edgecolor": WARD_EDGE,
                "linewidth": 0.8,
                "linestyle": (0, (3, 2)),
                "zorder": 3,
            },
        )
    legend.append(Line2D([], [], color=WARD_EDGE, lw=0.8, ls=(0, (3, 2)), label="Ward boundary"))


def _draw_buffer(ax: Any, geom: Any, legend: list[Any]) -> None:
    colour = ZONE_COLOURS["buffer"]
    draw_polygon(
        ax,
        geom,
        {
            "facecolor": "#fde3c2",
            "edgecolor": colour,
            "hatch": "////",
            "linewidth": 0.0,
            "zorder": 4,
        },
        {"facecolor": "none", "edgecolor": colour, "linewidth": 1.2, "zorder": 5},
    )
    legend.append(
        Rectangle(
            (0, 0),
            1,
            1,
            facecolor="#fde3c2",
            edgecolor=colour,
            hatch="////",
            label="Buffer ring (where displacement would show)",
        )
    )


def _draw_target(ax: Any, geom: Any, legend: list[Any]) -> None:
    colour = ZONE_COLOURS["target"]
    draw_polygon(
        ax, geom, {"facecolor": colour, "edgecolor": "#7f0000", "linewidth": 1.2, "zorder": 6}
    )
    legend.insert(
        0, Rectangle((0, 0), 1, 1, facecolor=colour, edgecolor="#7f0000", label="Target area")
    )


def _ward_layer(wards: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame | None:
    """The non-empty wards in the result's CRS (None when there are none)."""
    if wards is None or not len(wards):
        return None
    if wards.crs is None:
        raise ParameterError("wards: the layer has no CRS; give one (e.g. EPSG:27700).")
    return wards[wards.geometry.notna() & ~wards.geometry.is_empty].to_crs(crs)


def pilot_map_png(
    result: PilotResult,
    *,
    wards: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    width_px: int = 1400,
    height_px: int | None = None,
    dpi: int = 190,
    north_arrow: bool = True,
) -> bytes:
    """A static map of the pilot's zones for print, as PNG bytes.

    The target filled red, the buffer ring hatched orange, the control area light grey with a
    grey outline, ward outlines with their names when ``wards`` is given, a legend, a metric
    scale bar and a north arrow (grid north). No incident points and no base-map tiles.

    Parameters
    ----------
    result
        What :func:`hotspots.pilot.evaluate_pilot` returned.
    wards
        Ward boundaries (any CRS; reprojected to the result's), or None.
    synthetic
        Stamp the map "SYNTHETIC DEMO DATA".
    width_px, height_px
        Image size in pixels; ``height_px`` defaults to the zones' shape, between 0.57 and 1
        times ``width_px``.
    dpi
        Resolution the text sizes are relative to (190: 1400 px print at true size 187 mm
        wide, the text width of an A4 page).
    north_arrow
        Draw a north arrow in the top right corner.

    Returns
    -------
    bytes
        A PNG image of ``width_px`` x ``height_px`` pixels.
    """
    res = check_result(result)
    wards_in = check_layer(wards, "wards")
    width, height, resolution = check_image(width_px, height_px, dpi, min_width=200, min_height=150)
    zones = res.geometries
    geoms = dict(zip(zones["zone"], zones.geometry, strict=True))
    wl = _ward_layer(wards_in, zones.crs)

    shown = [geoms[z] for z in zones_shown(res) if geoms.get(z) is not None]
    bounds = [g.bounds for g in shown if not g.is_empty]
    if wl is not None and len(wl):
        bounds.append(tuple(wl.total_bounds))
    arr = np.array(bounds, dtype=float)
    extent = (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
    frame = map_frame(extent, width=width, height_px=height)
    _fig, canvas, ax = new_map(frame, resolution)

    legend: list[Any] = []
    if res.has_control:
        _draw_control(ax, res, geoms, legend)
    if wl is not None and len(wl):
        _draw_ward_outlines(ax, wl, legend)
    if "buffer" in zones_shown(res):
        _draw_buffer(ax, geoms["buffer"], legend)
    _draw_target(ax, geoms["target"], legend)
    if wl is not None and len(wl):
        outer = shapely.union_all([geoms["target"], geoms["buffer"]])
        label_wards(ax, wl, shapely.buffer(outer, 0.02 * frame.dx), frame, resolution)
    order = ("Target", "Buffer", "Control", "Ward")
    legend.sort(key=lambda h: next(i for i, w in enumerate(order) if h.get_label().startswith(w)))
    map_legend(ax, legend, framealpha=0.92)
    draw_map_furniture(ax, frame, north_arrow=north_arrow)
    if synthetic:
        mark_synthetic(ax, rotation=24, fontsize=40)
    return png_bytes(canvas)
