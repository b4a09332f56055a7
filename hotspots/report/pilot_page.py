"""A printable one-page report of a pilot evaluation: the before/after figure for a pilot area.

Council officers brief members and partners on a pilot operation (such as the St James Street
violence operation in Walthamstow) from a page they can print or email. This module turns a
:class:`hotspots.evaluate.PilotResult` (from :func:`hotspots.evaluate.evaluate_pilot`) into:

* :func:`pilot_chart_png`: the monthly counts of the target, the buffer and the control area as
  three stacked panels (each with its own scale), the operation's months shaded and the before
  and after monthly means dashed;
* :func:`pilot_map_png`: the zones (target, buffer ring, control area) with optional ward
  outlines, a scale bar and a north arrow;
* :func:`pilot_report_html`: one self-contained HTML page with the headline figure, the
  sentences of :meth:`PilotResult.summary`, a counts table, the chart, the map and a guide;
* :func:`write_pilot_report`: that page written to a file atomically.

The rules are those of :mod:`hotspots.briefing`. Everything is aggregate: no incident points and
no incident rows. Counts of 1 to ``threshold - 1`` are shown as "fewer than 5" (``threshold=5``),
in the table and in the chart (a month with such a count is drawn as an open marker on a band
from 0 to the threshold, its value not plotted), and the rates, changes and means worked out
from a suppressed count are left out. Months missing from the data are gaps, not zeros. The
images are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, with no base-map tiles (they work offline). The page loads nothing: the images are
inline ``data:`` PNGs, the CSS is inline, there are no scripts and no links, a
Content-Security-Policy forbids any other resource, and every text from the data or the user is
HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..errors import ParameterError
from ..evaluate import PilotResult
from ..export import _atomic
from .briefing import suppress_small
from .page import (
    CSP,
    DASH,
    PAGE_CSS,
    SYNTHETIC_NOTICE,
    SYNTHETIC_RED,
    WARD_EDGE,
    WARD_TEXT,
    check_int,
    check_layer,
    draw_north_arrow,
    draw_polygon,
    draw_scale_bar,
    esc,
    free_point,
    halo,
    month_words,
    name_column,
    synthetic_badge,
    synthetic_watermark,
)

__all__ = [
    "pilot_chart_png",
    "pilot_map_png",
    "pilot_report_html",
    "write_pilot_report",
]

log = logging.getLogger(__name__)

_ZONES = ("target", "buffer", "control")
_PERIODS = ("before", "during", "after")
_ZONE_COLOURS = {"target": "#c62828", "buffer": "#ef8a17", "control": "#6b6b6b"}
_OPERATION_GREY = "#e3e3e3"
_BAND = "#fde7c4"
_WITHHELD = "#e4eaf3"
_SOURCE = (
    "Police recorded crime from data.police.uk (street-level crime). Contains public sector "
    "information licensed under the Open Government Licence v3.0."
)
_SYNTHETIC_SOURCE = (
    "Synthetic demo data shaped like data.police.uk street-level crime files: invented "
    "incidents, not real crimes."
)


# ==========================================================================================
# Checks and small helpers
# ==========================================================================================
def _check_result(result: object) -> PilotResult:
    if not isinstance(result, PilotResult):
        raise ParameterError(
            f"result: expected the PilotResult that evaluate_pilot returns, got "
            f"{type(result).__name__}; run hotspots.evaluate.evaluate_pilot(...) first."
        )
    return result


def _check_text(value: object, name: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        fix = "give a text or None" if optional else "give the report a heading"
        raise ParameterError(f"{name} must be a non-empty text; {fix}; got {value!r}.")
    return value.strip()


def _signed_pct(value: float) -> str:
    """-35.4 -> "-35%" (as in :meth:`PilotResult.summary`); "n/a" when not finite."""
    return f"{value:+.0f}%" if math.isfinite(value) else "n/a"


def _is_hidden(n: float, threshold: int) -> bool:
    return 0 < n < threshold


def _cell(table: pd.DataFrame, zone: str, period: str) -> float:
    """One figure of a zones x periods table (``counts`` or ``per_month``) as a float."""
    return float(table.to_numpy(dtype=float)[_ZONES.index(zone), _PERIODS.index(period)])


def _count(result: PilotResult, zone: str, period: str) -> float:
    return _cell(result.counts, zone, period)


def _zone_names(result: PilotResult) -> dict[str, str]:
    control = (
        "Control area (rest of the study area)" if result.control_is_default else "Control area"
    )
    return {"target": "Target area", "buffer": "Buffer ring", "control": control}


def _zones_shown(result: PilotResult) -> list[str]:
    """The zones that exist: no buffer row for buffer_m=0, no control row without a control."""
    areas = dict(zip(result.geometries["zone"], result.geometries["area_km2"], strict=True))
    shown = ["target"]
    if float(areas.get("buffer", 0.0)) > 0:
        shown.append("buffer")
    if result.has_control:
        shown.append("control")
    return shown


def _span_words(first: str, last: str) -> str:
    a, b = month_words(first), month_words(last)
    return a if a == b else f"{a} to {b}"


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# ==========================================================================================
# The chart
# ==========================================================================================
def _withheld(raw: np.ndarray, small: np.ndarray, threshold: int) -> tuple[np.ndarray, bool]:
    """Months of one period to withhold besides the small ones, or the period's total to hide.

    The period's total is published (table, rate, mean line) unless it is itself small, and
    with it the sum of the months not plotted. Months that are all small cannot be hidden
    behind that sum: two months of "fewer than 5" adding up to 8 are 4 and 4, six of them
    adding up to 6 are all 1. So the hidden months must include one of ``threshold`` or more:
    the smallest larger month of the period is withheld too (secondary suppression). A reader
    knows that month is at least ``threshold`` and at most the smallest larger month still
    shown; if even so the small months could be pinned down (their sum forced to its least or
    greatest value, or a lone small month forced), or the period has no larger month, nothing
    is withheld and the period's total (and its mean) is hidden instead.

    Returns
    -------
    tuple
        The months to withhold (a boolean array like ``raw``) and whether to hide the total.

    Examples
    --------
    >>> s = lambda v: _withheld(np.array(v, float), (np.array(v) > 0) & (np.array(v) < 5), 5)
    >>> s([4, 4])  # 8 over two small months would be 4 + 4: hide the total
    (array([False, False]), True)
    >>> s([2, 38, 50])  # 38 is withheld with the 2: 40 over the two, the 2 anything from 1 to 4
    (array([False,  True, False]), False)
    >>> s([1, 5, 5])  # withholding a 5 would leave 1 + 5 = 6 (the 5 is at most the other 5)
    (array([False, False, False]), True)
    >>> s([3, 0, 9])[0].tolist(), s([9, 20])  # nothing small: nothing to do
    ([False, False, True], (array([False, False]), False))
    """
    out = np.zeros(len(raw), dtype=bool)
    total = float(np.nansum(raw))
    if not small.any() or _is_hidden(total, threshold):
        return out, False
    large = [int(i) for i in np.argsort(raw, kind="stable") if raw[i] >= threshold]
    if not large:
        return out, True
    first = large[0]
    # what a reader knows: the period's total, the months shown, the rule (the withheld month
    # is from threshold up to the smallest larger month still shown)
    most = float(raw[large[1]]) if len(large) > 1 else math.inf
    n_small = int(small.sum())
    hidden_sum = float(raw[small].sum() + raw[first])
    low = max(n_small, hidden_sum - most)  # the least the small months can add up to
    high = min(n_small * (threshold - 1), hidden_sum - threshold)  # the most
    pinned = low >= high and (n_small == 1 or low in (n_small, n_small * (threshold - 1)))
    if pinned:
        return out, True
    out[first] = True
    return out, False


def _hidden_totals(monthly: pd.DataFrame, threshold: int) -> set[tuple[str, str]]:
    """The (zone, period) totals of :attr:`PilotResult.monthly` hidden by :func:`_withheld`."""
    period = monthly["period"].astype(str).to_numpy()
    out = set()
    for zone in _ZONES:
        raw = pd.to_numeric(monthly[zone], errors="coerce").to_numpy(dtype=float)
        for p in _PERIODS:
            sel = np.flatnonzero(period == p)
            values = raw[sel]
            if len(sel) and _withheld(values, (values > 0) & (values < threshold), threshold)[1]:
                out.add((zone, p))
    return out


def _chart_series(monthly: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """What :func:`pilot_chart_png` plots: one row per zone and month, suppression applied.

    Parameters
    ----------
    monthly
        :attr:`PilotResult.monthly` (``month``, ``period``, ``target``, ``buffer``,
        ``control``).
    threshold
        Counts from 1 to ``threshold - 1`` are not plotted.

    Returns
    -------
    DataFrame
        Columns ``zone``, ``month``, ``period``, ``count`` (the plotted value; NaN for a month
        missing from the data, which is a gap, and for a month not shown), ``small`` (a count
        of 1 to ``threshold - 1``, drawn as a band from 0 to the threshold), ``withheld`` (a
        larger count not shown because, with the period's published total, the small ones
        could be worked out; see :func:`_withheld`), ``missing`` (the month is not in the data) and
        ``mean`` (the zone's monthly mean over the before or the after period, drawn dashed;
        NaN during the operation, for missing months, and when the period's total is itself
        suppressed or hidden by :func:`_withheld`).

    Examples
    --------
    >>> m = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                   "period": ["before", "missing", "after"],
    ...                   "target": [3, 0, 7], "buffer": [0, 0, 9], "control": [50, 0, 60]})
    >>> s = _chart_series(m, 5)
    >>> s[s["zone"] == "target"][["count", "small", "missing", "mean"]].values.tolist()
    [[nan, True, False, nan], [nan, False, True, nan], [7.0, False, False, 7.0]]
    """
    period = monthly["period"].astype(str).to_numpy()
    missing = ~np.isin(period, _PERIODS)
    frames = []
    for zone in _ZONES:
        raw = pd.to_numeric(monthly[zone], errors="coerce").to_numpy(dtype=float)
        raw = np.where(missing, np.nan, raw)
        small = (raw > 0) & (raw < threshold)
        withheld = np.zeros(len(raw), dtype=bool)
        mean = np.full(len(raw), np.nan)
        for p in _PERIODS:
            sel = np.flatnonzero(period == p)
            if not len(sel):
                continue
            withheld[sel], hide_total = _withheld(raw[sel], small[sel], threshold)
            total = float(np.nansum(raw[sel]))
            if p != "during" and not hide_total and not _is_hidden(total, threshold):
                mean[sel] = total / len(sel)
        count = np.where(small | withheld, np.nan, raw)
        frames.append(
            pd.DataFrame(
                {
                    "zone": zone,
                    "month": pd.to_datetime(monthly["month"]).to_numpy(),
                    "period": period,
                    "count": count,
                    "small": small,
                    "withheld": withheld,
                    "missing": missing,
                    "mean": mean,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["zone"] = out["zone"].astype("str")
    out["period"] = out["period"].astype("str")
    return out


def _month_ticks(months: pd.Series) -> tuple[list[int], list[str]]:
    n = len(months)
    step = 1 if n <= 12 else 3 if n <= 36 else 6 if n <= 72 else 12
    stamps = pd.to_datetime(months).reset_index(drop=True)
    first = next((i for i in range(n) if (stamps[i].month - 1) % step == 0), 0)
    ticks = list(range(first, n, step))
    return ticks, [stamps[i].strftime("%b %Y") for i in ticks]


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
        What :func:`hotspots.evaluate.evaluate_pilot` returned.
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
    >>> from hotspots.evaluate import evaluate_pilot
    >>> inc = gpd.GeoDataFrame({"month": pd.to_datetime(["2024-01-01", "2024-03-01"] * 10),
    ...     "category": ["Robbery"] * 20}, geometry=[Point(50, 50), Point(900, 900)] * 10,
    ...     crs="EPSG:27700")
    >>> res = evaluate_pilot(inc, target=box(0, 0, 100, 100), start="2024-02", end="2024-02",
    ...                      buffer_m=100, control=box(800, 800, 1000, 1000))
    >>> pilot_chart_png(res, width_px=600)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    res = _check_result(result)
    limit = check_int(threshold, "threshold", minimum=1)
    width = check_int(width_px, "width_px", minimum=300)
    if height_px is not None:
        check_int(height_px, "height_px", minimum=200)
    resolution = check_int(dpi, "dpi", minimum=50)
    zones = _zones_shown(res)
    names = _zone_names(res)
    series = _chart_series(res.monthly, limit)
    months = pd.Series(pd.to_datetime(res.monthly["month"]).to_numpy())
    period = res.monthly["period"].astype(str).to_numpy()
    x = np.arange(len(months), dtype=float)
    height = int(height_px) if height_px is not None else round(width * (0.11 + 0.15 * len(zones)))

    fig = Figure(figsize=(width / resolution, height / resolution), dpi=resolution)
    fig.set_facecolor("white")
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(len(zones), 1, sharex=True, squeeze=False)[:, 0]
    during = np.flatnonzero(period == "during")
    shown = series[series["zone"].isin(zones)]
    any_small = bool(shown["small"].any())
    any_withheld = bool(shown["withheld"].any())
    any_missing = bool(shown["missing"].any())
    n_legend = 3 + any_small + any_withheld + any_missing
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
        colour = _ZONE_COLOURS[zone]
        part = series[series["zone"] == zone].reset_index(drop=True)
        count = part["count"].to_numpy(dtype=float)
        small = part["small"].to_numpy(dtype=bool)
        withheld = part["withheld"].to_numpy(dtype=bool)
        mean = part["mean"].to_numpy(dtype=float)
        top = float(np.nanmax(np.r_[count, mean, 0.0]))
        if small.any():
            top = max(top, float(limit))
        top = max(top, 1.0) * 1.22
        if len(during):
            ax.axvspan(during[0] - 0.5, during[-1] + 0.5, color=_OPERATION_GREY, zorder=0, lw=0)
        for i in np.flatnonzero(part["missing"].to_numpy(dtype=bool)):
            ax.axvspan(
                i - 0.5,
                i + 0.5,
                facecolor="white",
                edgecolor="#bbbbbb",
                hatch="////",
                lw=0,
                zorder=0.5,
            )
        for i in np.flatnonzero(small):
            ax.add_patch(
                Rectangle((i - 0.42, 0), 0.84, limit, facecolor=_BAND, edgecolor="none", zorder=1)
            )
        for i in np.flatnonzero(withheld):
            ax.add_patch(
                Rectangle((i - 0.42, 0), 0.84, top, facecolor=_WITHHELD, edgecolor="none", zorder=1)
            )
        if withheld.any():
            ax.plot(
                x[withheld],
                np.full(int(withheld.sum()), top / 2),
                ls="none",
                marker="s",
                ms=4.5,
                mfc="white",
                mec=colour,
                mew=1.2,
                zorder=4,
            )
        ax.plot(x, count, color=colour, lw=1.6, marker="o", ms=3.2, zorder=3)
        if small.any():
            ax.plot(
                x[small],
                np.full(int(small.sum()), limit / 2),
                ls="none",
                marker="o",
                ms=5,
                mfc="white",
                mec=colour,
                mew=1.3,
                zorder=4,
            )
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
        ax.set_ylim(0, top)
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.grid(axis="y", color="#e8e8e8", lw=0.6, zorder=0)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7.5, length=2.5)
        ax.set_ylabel("incidents", fontsize=7.5, color="#444")
        ax.text(
            0.005,
            0.97,
            names[zone],
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=9,
            fontweight="bold",
            color=colour,
            zorder=6,
            path_effects=halo(3.0),
        )
    if len(during):
        axes[0].text(
            (during[0] + during[-1]) / 2,
            0.97,
            "operation",
            transform=axes[0].get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=8.5,
            color="#333",
            zorder=6,
            path_effects=halo(2.5),
        )
    ticks, labels = _month_ticks(months)
    axes[-1].set_xticks(ticks, labels)
    handles: list[Any] = [
        Line2D([], [], color="#444", lw=1.6, marker="o", ms=3.2, label="Incidents a month"),
        Line2D([], [], color="#444", lw=1.2, ls=(0, (4, 2.5)), label="Mean before / after"),
        Rectangle((0, 0), 1, 1, facecolor=_OPERATION_GREY, edgecolor="none", label="Operation"),
    ]
    if any_small:
        handles.append(
            (
                Rectangle((0, 0), 1, 1, facecolor=_BAND, edgecolor="none"),
                Line2D([], [], ls="none", marker="o", ms=5, mfc="white", mec="#444", mew=1.3),
            )
        )
    if any_withheld:
        handles.append(
            (
                Rectangle((0, 0), 1, 1, facecolor=_WITHHELD, edgecolor="none"),
                Line2D([], [], ls="none", marker="s", ms=4.5, mfc="white", mec="#444", mew=1.2),
            )
        )
    if any_missing:
        handles.append(
            Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#bbbbbb", hatch="////", lw=0)
        )
    labels_legend = [
        "Incidents a month",
        "Mean before / after",
        "Operation",
        *([f"fewer than {limit} (value not shown)"] if any_small else []),
        *(["Not shown (would reveal a small count)"] if any_withheld else []),
        *(["No data for the month"] if any_missing else []),
    ]
    fig.legend(
        handles,
        labels_legend,
        loc="lower center",
        ncol=ncol,
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.5, 2 * scale / height),
    )
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
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


# ==========================================================================================
# The map
# ==========================================================================================
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
        What :func:`hotspots.evaluate.evaluate_pilot` returned.
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
    res = _check_result(result)
    wards_in = check_layer(wards, "wards")
    width = check_int(width_px, "width_px", minimum=200)
    if height_px is not None:
        check_int(height_px, "height_px", minimum=150)
    resolution = check_int(dpi, "dpi", minimum=50)
    zones = res.geometries
    crs = zones.crs
    geoms = dict(zip(zones["zone"], zones.geometry, strict=True))
    wl: gpd.GeoDataFrame | None = None
    if wards_in is not None and len(wards_in):
        if wards_in.crs is None:
            raise ParameterError("wards: the layer has no CRS; give one (e.g. EPSG:27700).")
        wl = wards_in[wards_in.geometry.notna() & ~wards_in.geometry.is_empty].to_crs(crs)

    shown = [geoms[z] for z in _zones_shown(res) if geoms.get(z) is not None]
    bounds = [g.bounds for g in shown if not g.is_empty]
    if wl is not None and len(wl):
        bounds.append(tuple(wl.total_bounds))
    arr = np.array(bounds, dtype=float)
    minx, miny = arr[:, 0].min(), arr[:, 1].min()
    maxx, maxy = arr[:, 2].max(), arr[:, 3].max()
    dx, dy = max(maxx - minx, 100.0) * 1.08, max(maxy - miny, 100.0) * 1.10
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    shape = min(1.0, max(0.57, dy / dx))
    height = round(width * shape) if height_px is None else int(height_px)
    ratio = height / width
    if dy / dx > ratio:
        dx = dy / ratio
    else:
        dy = dx * ratio
    x0, y0 = cx - dx / 2, cy - dy / 2

    fig = Figure(figsize=(width / resolution, height / resolution), dpi=resolution)
    fig.set_facecolor("white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(x0, x0 + dx)
    ax.set_ylim(y0, y0 + dy)
    ax.set_aspect("equal", adjustable="box")

    legend: list[Any] = []
    target_colour, buffer_colour = _ZONE_COLOURS["target"], _ZONE_COLOURS["buffer"]
    if res.has_control:
        draw_polygon(
            ax,
            geoms["control"],
            {"facecolor": "#ececec", "edgecolor": "none", "zorder": 1},
            {"facecolor": "none", "edgecolor": "#8a8a8a", "linewidth": 1.4, "zorder": 2},
        )
        label = "Control area" + (" (rest of the study area)" if res.control_is_default else "")
        legend.append(
            Rectangle((0, 0), 1, 1, facecolor="#ececec", edgecolor="#8a8a8a", label=label)
        )
    if wl is not None and len(wl):
        for geom in wl.geometry:
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
        legend.append(
            Line2D([], [], color=WARD_EDGE, lw=0.8, ls=(0, (3, 2)), label="Ward boundary")
        )
    if "buffer" in _zones_shown(res):
        draw_polygon(
            ax,
            geoms["buffer"],
            {
                "facecolor": "#fde3c2",
                "edgecolor": buffer_colour,
                "hatch": "////",
                "linewidth": 0.0,
                "zorder": 4,
            },
            {"facecolor": "none", "edgecolor": buffer_colour, "linewidth": 1.2, "zorder": 5},
        )
        legend.append(
            Rectangle(
                (0, 0),
                1,
                1,
                facecolor="#fde3c2",
                edgecolor=buffer_colour,
                hatch="////",
                label="Buffer ring (where displacement would show)",
            )
        )
    draw_polygon(
        ax,
        geoms["target"],
        {"facecolor": target_colour, "edgecolor": "#7f0000", "linewidth": 1.2, "zorder": 6},
    )
    legend.insert(
        0,
        Rectangle((0, 0), 1, 1, facecolor=target_colour, edgecolor="#7f0000", label="Target area"),
    )
    if wl is not None and len(wl):
        col = name_column(wl, "ward_name")
        outer = shapely.union_all([geoms["target"], geoms["buffer"]])
        avoid = shapely.buffer(outer, 0.02 * dx)
        if col is not None:
            for geom, name in zip(wl.geometry, wl[col], strict=True):
                if name is None or (isinstance(name, float) and math.isnan(name)):
                    continue
                half = (len(str(name)) * 0.7 * 7.5 / 72 * resolution / 2 + 4) * dx / width
                pt = free_point(geom, avoid, half)
                ax.text(
                    pt.x,
                    pt.y,
                    str(name).upper(),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=WARD_TEXT,
                    zorder=7,
                    path_effects=halo(2.0),
                )
    order = ("Target", "Buffer", "Control", "Ward")
    legend.sort(key=lambda h: next(i for i, w in enumerate(order) if h.get_label().startswith(w)))
    ax.legend(
        handles=legend,
        loc="lower right",
        fontsize=8,
        framealpha=0.92,
        edgecolor="#999",
        borderpad=0.6,
    ).set_zorder(20)
    draw_scale_bar(ax, x0, y0, dx, dy)
    if north_arrow:
        draw_north_arrow(ax, x0, y0, dx, dy)
    if synthetic:
        synthetic_watermark(ax, rotation=24, fontsize=40)
        synthetic_badge(ax)
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


# ==========================================================================================
# The page
# ==========================================================================================
_EXTRA_CSS = """
.lead { border: 1px solid #d0d0d0; border-left: 5px solid #c62828; padding: 3mm 4mm;
  margin: 0 0 4mm; break-inside: avoid; }
.lead.none { border-left-color: #777; }
.lead b { display: block; font-size: 15pt; line-height: 1.25; }
.lead span { display: block; color: #333; margin-top: 1mm; }
ul.says { margin: 0 0 2mm; padding-left: 5mm; font-size: 9pt; }
ul.says li { margin: 0 0 1mm; }
.periods { margin: 0 0 3mm; }
.periods td { border: none; padding: 0.4mm 3mm 0.4mm 0; font-size: 9pt; }
.box { border: 1px solid #c9c9c9; background: #f7f7f7; padding: 2mm 4mm; margin: 4mm 0;
  break-inside: avoid; }
.box h2 { margin-top: 1mm; border: none; }
figure.map img { max-height: 84mm; }
footer { margin-top: 3mm; }
.box .guide { columns: 2; column-gap: 6mm; font-size: 8pt; margin: 0; }
.box .guide dt { break-after: avoid; }
.box .guide dd { break-inside: avoid; }
table.periods { width: auto; }
td:first-child { white-space: nowrap; }
"""


def _headline(result: PilotResult, threshold: int) -> tuple[str, bool]:
    """The headline figure in words, and whether it reports evidence of a change.

    It follows :meth:`PilotResult.summary` with ``suppress_below=threshold``: no effect is
    given when a before or after count of the target or the control area is suppressed or
    hidden (:func:`_withheld`), since the effect and the other three counts would give it.
    """
    lo, hi = result.relative_change_ci
    if not result.has_control:
        return (
            "No control area: the change in the target cannot be told apart from what would "
            "have happened anyway.",
            False,
        )
    hidden = _hidden_totals(result.monthly, threshold)
    if any(
        _is_hidden(_count(result, z, p), threshold) or (z, p) in hidden
        for z in ("target", "control")
        for p in ("before", "after")
    ):
        return (
            "The counts are too small to publish a change beyond the control area.",
            False,
        )
    if not math.isfinite(result.relative_change_pct) or not math.isfinite(lo):
        return "The change beyond the control area cannot be estimated: a count is zero.", False
    interval = f"95% confidence interval {_signed_pct(lo)} to {_signed_pct(hi)}"
    if result.significant:
        return (
            f"Change beyond the control area: {_signed_pct(result.relative_change_pct)} "
            f"({interval})",
            True,
        )
    return (
        "No evidence of a change beyond the control area: "
        f"{_signed_pct(result.relative_change_pct)} ({interval}, which includes no change)",
        False,
    )


_NOT_SHOWN = "not shown"


def _rate_text(count: float, rate: float, threshold: int) -> str:
    if _is_hidden(count, threshold) or not math.isfinite(rate):
        return DASH
    return f"{rate:,.1f}"


def _counts_table(result: PilotResult, threshold: int) -> str:
    """The counts table: a zone a row; each period's count and monthly rate; the change.

    A count of 1 to ``threshold - 1`` is "fewer than 5"; a total hidden by :func:`_withheld`
    (its months all small, so that with the number of months it would pin them down) is "not
    shown"; either way its rate and the zone's change are "–". A period with no month in the
    data (the operation's months all missing) has "–" for its count and rate, not 0.
    """
    names = {"target": "Target area", "buffer": "Buffer ring", "control": "Control area"}
    months = result.months
    head = ["Zone", "Area km²"]
    for p, label in zip(_PERIODS, ("Before", "During", "After"), strict=True):
        k = months[p][2]
        head += [f"{label}<br>{k} month{'s' if k != 1 else ''}", "a month"]
    head.append("Change a<br>month")
    areas = dict(zip(result.geometries["zone"], result.geometries["area_km2"], strict=True))
    withheld = _hidden_totals(result.monthly, threshold)
    rows = []
    for zone in _zones_shown(result):
        cells = [esc(names[zone]), f"{float(areas[zone]):,.2f}"]
        hidden = False
        for p in _PERIODS:
            n = _count(result, zone, p)
            rate = _cell(result.per_month, zone, p)
            if months[p][2] == 0:
                cells += [DASH, DASH]  # no month of the period in the data: not a zero
            elif (zone, p) in withheld:
                cells += [_NOT_SHOWN, DASH]
            else:
                cells.append(esc(suppress_small(n, threshold=threshold)))
                cells.append(_rate_text(n, rate, threshold))
            if p != "during":
                hidden = hidden or _is_hidden(n, threshold) or (zone, p) in withheld
        change = result.pct_change.get(zone, math.nan)
        cells.append(DASH if hidden else esc(_signed_pct(change)))
        body = "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>" for i, c in enumerate(cells))
        rows.append(f"<tr>{body}</tr>")
    # the headers are fixed texts and numbers (no data or user text), with line breaks
    th = "".join(f"<th{'' if i == 0 else ' class=num'}>{h}</th>" for i, h in enumerate(head))
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _counts_notes(result: PilotResult, threshold: int) -> str:
    """Sentences under the counts table on the cells that are "–" or "not shown"."""
    notes = []
    if result.months["during"][2] == 0:
        notes.append(
            "The operation's months are not in the data, so its counts are left out (–), "
            "not counted as zero."
        )
    zones = _zones_shown(result)
    if any(z in zones for z, _ in _hidden_totals(result.monthly, threshold)):
        notes.append(
            f"Not shown: a total whose months each had fewer than {threshold} incidents, "
            "which with the number of months could give them away."
        )
    return " ".join(notes)


def _summary(result: PilotResult, threshold: int) -> list[str]:
    """:meth:`PilotResult.summary` with small counts and the totals hidden by
    :func:`_withheld` left out, and what is worked out from them (rates, changes, effects)."""
    zones = _zones_shown(result)
    hidden = {
        (z, p) for z, p in _hidden_totals(result.monthly, threshold) if z in zones and p != "during"
    }
    return result.summary(suppress_below=threshold, unpublished=hidden)


def _guide(result: PilotResult, threshold: int) -> str:
    control = (
        "The control area is the rest of the study area outside the target and the buffer "
        "ring: no matched comparison area was given, so it stands for the general trend. A "
        "control like the target (similar streets, similar crime) would be a fairer test."
        if result.control_is_default
        else "The control area is the comparison area given for this evaluation, with the "
        "target and buffer cut out of it."
    )
    items = [
        (
            "Change beyond the control area",
            "how much higher or lower the target's count after the operation was than the "
            "control area's change over the same months would predict (the relative effect "
            "size of Farrington and Welsh). -35% means 35% fewer incidents than expected had "
            "the target followed the control area. The months of the operation are shown but "
            "not used in this comparison.",
        ),
        (
            "95% confidence interval",
            "the range of changes the figures are consistent with, allowing for how much "
            "monthly counts vary by chance. When it includes 0% there is no evidence of a "
            "change beyond the control area's, whatever the central figure.",
        ),
        (
            "Buffer ring and WDQ",
            "the ring around the target is where crime would go if it moved next door. The "
            "Weighted Displacement Quotient (Bowers and Johnson) compares the buffer's change "
            "with the target's: above 0 a diffusion of benefit (the buffer improved too), "
            "between -1 and 0 some displacement but a net benefit, below -1 more displaced "
            "than prevented. It is only meaningful when crime fell in the target, and values "
            "near 0 mean little either way.",
        ),
        ("Control area", control),
        (
            "Not proof",
            "a fall in the target beyond the control area is consistent with an effect of the "
            "operation, but a correlation is not proof: other local changes (another "
            "initiative, a closed venue, recording practice) can have the same effect.",
        ),
        (
            "Small numbers",
            f"counts of 1 to {threshold - 1} are shown as \u201cfewer than {threshold}\u201d, "
            "and rates, changes and chart points that would reveal them are left out, to "
            "protect victims and to avoid reading meaning into very small numbers."
            if threshold > 1
            else "no counts are suppressed in this report.",
        ),
        (
            "Data caveats",
            "police.uk locations are anonymised to nearby map points, so counts near the edge "
            "of a zone can fall on either side. Recorded crime reflects reporting and police "
            "activity as well as crime: more patrols can raise recorded crime.",
        ),
    ]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v[:1].upper() + v[1:])}</dd>" for k, v in items)
    return f"<dl class='guide'>{rows}</dl>"


def pilot_report_html(
    result: PilotResult,
    *,
    title: str = "Pilot evaluation",
    area_name: str | None = None,
    wards: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    threshold: int = 5,
    generated: str | None = None,
) -> str:
    """One self-contained, printable HTML page reporting a pilot evaluation.

    The page holds: the title and area, the months compared and the crime types; the headline
    ("Change beyond the control area: -35% (95% confidence interval -44% to -25%)", or the
    wording that there is no evidence of a change); the sentences of
    :meth:`PilotResult.summary` with small counts suppressed; a table of counts by zone and
    period (counts 1 to ``threshold - 1`` as "fewer than 5", their rates and changes left out);
    the monthly chart (:func:`pilot_chart_png`) and the map (:func:`pilot_map_png`) inline; a
    "How to read this" guide; a synthetic-data notice when ``synthetic``; and a footer with the
    date generated and the data source. It loads nothing (no scripts, no links, no external
    images; a Content-Security-Policy allows only the inline PNGs and CSS) and prints on A4.

    Parameters
    ----------
    result
        What :func:`hotspots.evaluate.evaluate_pilot` returned.
    title
        The page's heading.
    area_name
        The pilot area's name (e.g. "St James Street corridor"), or None.
    wards
        Ward boundaries drawn on the map, or None.
    synthetic
        Mark the page and the images as synthetic demo data.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".
    generated
        The "generated" date as text; today's date when None.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    ParameterError
        A result that is not a PilotResult, an empty title, a bad threshold or wards frame.
    """
    res = _check_result(result)
    heading = _check_text(title, "title", optional=False)
    area = _check_text(area_name, "area_name", optional=True)
    when_given = _check_text(generated, "generated", optional=True)
    limit = check_int(threshold, "threshold", minimum=1)
    if not isinstance(synthetic, bool):
        raise ParameterError(f"synthetic must be True or False; got {synthetic!r}.")
    check_layer(wards, "wards")
    when = date.today().strftime("%d %B %Y").lstrip("0") if when_given is None else when_given

    chart = pilot_chart_png(res, threshold=limit, synthetic=synthetic)
    # landscape, so that the map prints at true size across the page below the summary
    map_png = pilot_map_png(res, wards=wards, synthetic=synthetic, height_px=760)
    headline, evidence = _headline(res, limit)
    sentences = _summary(res, limit)

    periods = "".join(
        f"<tr><td><b>{esc(label)}</b></td><td>{esc(_span_words(first, last))}</td>"
        f"<td>{n} month{'s' if n != 1 else ''}</td></tr>"
        for label, (first, last, n) in (
            ("Before", res.months["before"]),
            ("Operation", res.months["during"]),
            ("After", res.months["after"]),
        )
    )
    crimes = "; ".join(res.categories) if res.categories else "all crime types"
    missing = [
        pd.Timestamp(m).strftime("%b %Y")
        for m, p in zip(res.monthly["month"], res.monthly["period"], strict=True)
        if str(p) not in _PERIODS
    ]
    missing_note = (
        f"<p class='note'>Missing from the data and left out (not counted as zero): "
        f"{esc(', '.join(missing))}.</p>"
        if missing
        else ""
    )
    notice = (
        f"<p class='synthetic'><span>SYNTHETIC DEMO DATA</span>{esc(SYNTHETIC_NOTICE)}</p>"
        if synthetic
        else ""
    )
    meta = " &middot; ".join(
        esc(t) for t in ([f"Area: {area}"] if area else []) + [f"Generated {when}"]
    )
    says = "".join(f"<li>{esc(s)}</li>" for s in sentences)
    chart_alt = "Monthly counts in the target, buffer and control area, operation shaded"
    map_alt = "Map of the target area, its buffer ring and the control area" + (
        ", with ward boundaries" if wards is not None else ""
    )
    chart_caption = (
        "Monthly counts of the crime types evaluated; each panel has its own scale. Grey: the "
        "operation's months. Dashed: the mean a month before and after."
        + (
            f" Months with 1 to {limit - 1} incidents are shown as a band only."
            if limit > 1
            else ""
        )
    )
    map_caption = (
        "Red: the target area. Hatched orange: the buffer ring around it. Grey: the control area."
        + (" Dashed lines: ward boundaries." if wards is not None else "")
        + " No incident points are shown."
    )
    source = _SYNTHETIC_SOURCE if synthetic else _SOURCE
    control_note = (
        "Control area: the rest of the study area outside the target and the buffer ring."
        if res.control_is_default
        else "Control area: the comparison area given, without the target and buffer ring."
    )
    if not res.has_control:
        control_note = "There is no control area."
    page = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(heading)}</title>
<style>{PAGE_CSS}{_EXTRA_CSS}</style>
</head>
<body>
{notice}<h1>{esc(heading)}</h1>
<p class="meta">{meta}</p>
<table class="periods"><tbody>{periods}
<tr><td><b>Crime types</b></td><td colspan="2">{esc(crimes)}</td></tr></tbody></table>
<section class="lead{"" if evidence else " none"}"><b>{esc(headline)}</b></section>
<figure><img src="{_png_uri(chart)}" alt="{esc(chart_alt)}">
<figcaption>{esc(chart_caption)}</figcaption></figure>
<h2>Counts</h2>
{_counts_table(res, limit)}
<p class="note">Incidents in each zone and period; &ldquo;a month&rdquo; is the mean over the
months of the period in the data. {esc(control_note)} {esc(_counts_notes(res, limit))}</p>
{missing_note}
<h2>What the figures say</h2>
<ul class="says">{says}</ul>
<figure class="map"><img src="{_png_uri(map_png)}" alt="{esc(map_alt)}">
<figcaption>{esc(map_caption)}</figcaption></figure>
<section class="box"><h2>How to read this</h2>
{_guide(res, limit)}</section>
<footer>Generated {esc(when)}. Data: {esc(source)}
Counts of 1 to {limit - 1} are shown as &ldquo;fewer than {limit}&rdquo;.
Made with the hotspots tool.</footer>
</body>
</html>
"""
    return page


def write_pilot_report(
    result: PilotResult,
    path: str | os.PathLike[str],
    *,
    title: str = "Pilot evaluation",
    area_name: str | None = None,
    wards: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    threshold: int = 5,
    generated: str | None = None,
) -> Path:
    """Write :func:`pilot_report_html` to ``path`` (UTF-8), atomically: a temporary file, then
    rename.

    Parameters are those of :func:`pilot_report_html`, and ``path`` the file to write (its
    folder is created).

    Returns
    -------
    Path
        ``path``.
    """
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise ParameterError(f"path must be a file path such as 'pilot.html'; got {path!r}.")
    page = pilot_report_html(
        result,
        title=title,
        area_name=area_name,
        wards=wards,
        synthetic=synthetic,
        threshold=threshold,
        generated=generated,
    )
    with _atomic(path) as f:
        f.write(page)
    log.info("wrote the pilot report to %s (%.1f MB)", path, len(page.encode("utf-8")) / 1e6)
    return Path(path)
