"""Printable briefings: suppressed tables, a static map image and one self-contained HTML page.

Council officers brief members and partners from a page they can print. Everything here is
aggregate: no incident-level data (no points, no incident rows) leaves this module.

Small counts are suppressed as in standard statistical disclosure control: a count of 1 to
``threshold - 1`` is shown as "fewer than 5" (``threshold=5``), 0 as "0". Figures derived from a
suppressed count (its share, PAI, trend, rate) are shown as "–" so that the count cannot be
worked back from them. Counts inside text ("Drugs 3; Burglary 12") are suppressed too.

The map (:func:`briefing_map_png`) is drawn with matplotlib's Agg canvas on a
:class:`matplotlib.figure.Figure`, never through ``pyplot``, so that it does not change the
backend or the figures of other code. It draws no base-map tiles (it works offline) and no
incident points.

The page (:func:`briefing_html`) loads nothing: the map is an inline ``data:`` PNG, the CSS is
inline, there are no scripts, and a Content-Security-Policy forbids any other resource. Every text
that comes from the data or the user (streets, crime types, ward names, the title) is
HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
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

from ..crs import to_metres
from ..errors import InputError, ParameterError
from ..export import _atomic
from ..mapping import _rank_classes, _rank_colour, trend_words
from .page import (
    CSP,
    DASH,
    MONTH_RE,
    PAGE_CSS,
    SYNTHETIC_NOTICE,
    WARD_EDGE,
    WARD_FILL,
    WARD_TEXT,
    as_number,
    check_int,
    check_layer,
    draw_north_arrow,
    draw_polygon,
    draw_scale_bar,
    esc,
    free_point,
    halo,
    is_missing,
    is_small,
    month_words,
    name_column,
    synthetic_badge,
    synthetic_watermark,
)

__all__ = [
    "BRIEFING_COLUMNS",
    "WARD_BRIEFING_COLUMNS",
    "briefing_html",
    "briefing_map_png",
    "suppress_small",
    "suppressed_table",
    "suppressed_ward_table",
    "write_briefing",
]

log = logging.getLogger(__name__)

#: Columns of :func:`suppressed_table`, in this order (all text).
BRIEFING_COLUMNS: list[str] = [
    "Hotspot",
    "Incidents",
    "Share",
    "Area km²",
    "PAI",
    "Top crime types",
    "Top streets",
    "Wards",
    "Trend",
    "Months",
]
#: Columns of :func:`suppressed_ward_table`, in this order (all text).
WARD_BRIEFING_COLUMNS: list[str] = [
    "Ward",
    "Incidents",
    "Per 1,000 residents",
    "Hotspots",
    "Incidents in hotspots",
    "Share in hotspots",
]

_WITHHELD = "withheld"
# Hotspots labelled with their id on the map (as on the interactive map).
_LABELS_MAX = 30
_PATROL = "#1f5fbf"
# "name count" at the end of one item of "Drugs 30; Burglary 12".
_ITEM_RE = re.compile(r"^(?P<name>.*\S)\s+(?P<count>\d[\d,]*)$")


# ==========================================================================================
# Small helpers
# ==========================================================================================


def _check_frame(frame: object, name: str, columns: Sequence[str], fix: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name}: expected a DataFrame, got {type(frame).__name__}; {fix}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name}: no {missing[0]!r} column; {fix}.")
    return frame


def _percent(share: float | None) -> str:
    if share is None:
        return DASH
    if 0 < share < 0.001:
        return "under 0.1%"
    return f"{share:.1%}"


# ==========================================================================================
# Suppression and tables
# ==========================================================================================
def suppress_small(value: int | float, *, threshold: int = 5) -> str:
    """A count as text for publication, with small counts suppressed.

    Parameters
    ----------
    value
        A count (incidents). Missing values (None, NaN) are shown as "–".
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".

    Returns
    -------
    str
        ``"0"`` for 0, ``"fewer than 5"`` for 1 to 4 (``threshold=5``), else the count with
        thousands separators (``"1,234"``).

    Raises
    ------
    ParameterError
        A negative or infinite value, or a threshold below 1.

    Examples
    --------
    >>> [suppress_small(v) for v in (0, 3, 5, 1234)]
    ['0', 'fewer than 5', '5', '1,234']
    >>> suppress_small(float("nan")), suppress_small(7, threshold=10)
    ('–', 'fewer than 10')
    """
    limit = check_int(threshold, "threshold", minimum=1)
    if isinstance(value, bool | str | bytes):
        raise ParameterError(f"value must be a count (a number >= 0); got {value!r}.")
    if is_missing(value):
        return DASH
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"value must be a count (a number >= 0); got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ParameterError(f"value must be a count (a finite number >= 0); got {value!r}.")
    if v == 0:
        return "0"
    if v < limit:
        return f"fewer than {limit}"
    return f"{v:,.0f}"


def _count_text(value: object, threshold: int) -> str:
    """A count from a frame cell, suppressed; "–" when missing or not a number."""
    v = as_number(value)
    return DASH if v is None or v < 0 else suppress_small(v, threshold=threshold)


def _suppressed_items(text: object, threshold: int) -> str:
    """ "Drugs 30; Burglary 3" -> "Drugs 30; Burglary fewer than 5" (the same separators)."""
    if is_missing(text) or not str(text).strip():
        return DASH
    items = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        m = _ITEM_RE.match(part)
        if m is None:
            items.append(part)
            continue
        count = int(m.group("count").replace(",", ""))
        items.append(f"{m.group('name')} {suppress_small(count, threshold=threshold)}")
    return "; ".join(items) if items else DASH


def _months_text(first: object, last: object) -> str:
    if is_missing(first) and is_missing(last):
        return DASH
    a, b = month_words(first, short=True), month_words(last, short=True)
    return a if a == b else f"{a} – {b}"


def suppressed_table(
    hotspots: gpd.GeoDataFrame, *, threshold: int = 5, top_n: int = 10
) -> pd.DataFrame:
    """The hotspot table of a briefing: text only, small counts suppressed.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``find_hotspots(...).hotspots``, best after
        :func:`hotspots.overlay_hotspots` so that ``wards`` is filled). Needs ``hotspot_id``
        and ``incidents``; other columns missing show as "–". Not modified.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".
    top_n
        How many hotspots to list, in rank order.

    Returns
    -------
    DataFrame
        Columns :data:`BRIEFING_COLUMNS`, all text, one row per listed hotspot: Hotspot (id),
        Incidents (suppressed), Share (of all incidents analysed), Area km², PAI, Top crime
        types and Top streets (``"name count; ..."``, counts suppressed), Wards, Trend (in
        words), Months. Share, PAI and Trend are "–" for a hotspot whose count is suppressed.
        ``attrs["hotspots_total"]`` and ``attrs["hotspots_shown"]`` say how many there are
        and how many are listed.

    Examples
    --------
    >>> frame = pd.DataFrame({"hotspot_id": ["H01"], "incidents": [12],
    ...                       "top_categories": ["Drugs 9; Burglary 3"]})
    >>> table = suppressed_table(frame)
    >>> table.loc[0, "Incidents"], table.loc[0, "Top crime types"]
    ('12', 'Drugs 9; Burglary fewer than 5')
    """
    fix = "pass find_hotspots(...).hotspots"
    frame = _check_frame(hotspots, "hotspots", ["hotspot_id", "incidents"], fix)
    limit = check_int(threshold, "threshold", minimum=1)
    top = check_int(top_n, "top_n", minimum=1)
    if "rank" in frame.columns and len(frame):
        ranks = pd.to_numeric(frame["rank"], errors="coerce").to_numpy(dtype=float)
        frame = frame.iloc[np.argsort(ranks, kind="stable")]
    shown = frame.iloc[:top]

    def col(name: str) -> list[Any]:
        return list(shown[name]) if name in shown.columns else [None] * len(shown)

    rows: list[list[str]] = []
    for hid, n, share, area, pai, cats, streets, wards, trend, first, last in zip(
        col("hotspot_id"),
        col("incidents"),
        col("share"),
        col("area_km2"),
        col("pai"),
        col("top_categories"),
        col("top_locations"),
        col("wards"),
        col("trend"),
        col("first_month"),
        col("last_month"),
        strict=True,
    ):
        hidden = is_small(n, limit)
        area_v = as_number(area)
        pai_v = as_number(pai)
        wards_text = DASH if is_missing(wards) or not str(wards).strip() else str(wards)
        has_trend = "trend" in shown.columns and not hidden
        rows.append(
            [
                DASH if is_missing(hid) else str(hid),
                _count_text(n, limit),
                DASH if hidden else _percent(as_number(share)),
                DASH if area_v is None else f"{area_v:,.2f}",
                DASH if hidden or pai_v is None else f"{pai_v:,.1f}",
                _suppressed_items(cats, limit),
                _suppressed_items(streets, limit),
                wards_text,
                trend_words(as_number(trend)) if has_trend else DASH,
                _months_text(first, last),
            ]
        )
    out = pd.DataFrame(rows, columns=BRIEFING_COLUMNS, dtype="str")
    out.attrs["hotspots_total"] = len(frame)
    out.attrs["hotspots_shown"] = len(out)
    return out


def _pinned(values: list[float], lo: list[float], hi: list[float]) -> bool:
    """True when a reader can narrow some hidden cell to one value.

    ``values`` are the hidden cells of one column (their sum is known from the printed total
    minus the shown cells); ``lo`` and ``hi`` are what the reader knows of each (from its label
    and from the row). A cell's possible values run from ``max(lo, total - others' hi)`` to
    ``min(hi, total - others' lo)``.
    """
    total = sum(values)
    for i in range(len(values)):
        rest_lo = sum(v for j, v in enumerate(lo) if j != i)
        rest_hi = sum(v for j, v in enumerate(hi) if j != i)
        low = max(lo[i], total - rest_hi)
        high = min(hi[i], total - rest_lo)
        if high - low < 1:
            return True
    return False


def _protect_column(
    values: list[float],
    hidden: list[bool],
    bounds: list[tuple[float, float]],
    withheld_bounds: list[tuple[float, float]],
    threshold: int,
    listed: int | None = None,
    eligible: list[bool] | None = None,
) -> tuple[set[int], bool]:
    """Complementary suppression for one column checked against its printed total.

    ``values`` are all the cells that add up to the printed total (cells not shown in the
    table, such as the incidents outside every ward, included); ``hidden`` marks the cells
    already hidden (small counts and derived "–"), ``bounds`` what a reader knows of each
    hidden cell and ``withheld_bounds`` what they would know of a cell once withheld. Cells
    that are shown and at least ``threshold`` are withheld, smallest first, until the hidden
    group holds a withheld cell, totals at least ``2 * threshold`` and no hidden cell can be
    narrowed to one value (:func:`_pinned`). Only the first ``listed`` cells (all when None)
    are in the table and can be withheld, and of those only the ``eligible`` ones (a cell
    another table prints in effect, such as a ward's hotspot incidents that are one
    hotspot's count, would not stay hidden).

    Returns the indices to withhold and whether the rule could not be met (then the printed
    total itself would expose a hidden cell).

    >>> _protect_column([4, 4, 300, 400], [True, True, False, False],
    ...                 [(1, 4), (1, 4), (0, 0), (0, 0)], [(5, math.inf)] * 4, 5)
    ({2}, False)
    """
    withheld: set[int] = set()
    if not any(hidden):
        return withheld, False

    def ok() -> bool:
        group = [i for i in range(len(values)) if hidden[i] or i in withheld]
        if not withheld or sum(values[i] for i in group) < 2 * threshold:
            return False
        lo = [(withheld_bounds if i in withheld else bounds)[i][0] for i in group]
        hi = [(withheld_bounds if i in withheld else bounds)[i][1] for i in group]
        return not _pinned([values[i] for i in group], lo, hi)

    stop = len(values) if listed is None else listed
    candidates = sorted(
        (v, i)
        for i, v in enumerate(values[:stop])
        if not hidden[i] and v >= threshold and (eligible is None or eligible[i])
    )
    for _, i in candidates:
        if ok():
            break
        withheld.add(i)
    return withheld, not ok()


def _hotspot_counts_printed(
    ward_hotspots: Sequence[object],
    labels: Sequence[str],
    hotspot_wards: Mapping[str, object] | None,
) -> list[bool]:
    """Per ward: are its incidents in hotspots printed, in effect, by the hotspot table?

    True when the ward lists hotspots and each of them lies in this ward alone (its wards,
    as printed, are just this ward): the ward's count is then the sum of their counts.
    """
    if not hotspot_wards:
        return [False] * len(labels)
    alone = {
        str(h): [w.strip() for w in str(ws).split(";") if w.strip()]
        for h, ws in hotspot_wards.items()
        if not is_missing(ws)
    }
    out = []
    for listed, label in zip(ward_hotspots, labels, strict=True):
        ids = [] if is_missing(listed) else [h.strip() for h in str(listed).split(",") if h.strip()]
        out.append(bool(ids) and all(alone.get(h) == [label] for h in ids))
    return out


def suppressed_ward_table(
    ward_table: pd.DataFrame,
    *,
    threshold: int = 5,
    incidents_outside: int | None = None,
    hotspot_wards: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """The ward table of a briefing: text only, small counts suppressed.

    Parameters
    ----------
    ward_table
        :func:`hotspots.ward_table` output (``ward_name`` or ``ward_code``, ``incidents``;
        ``incidents_per_1000``, ``hotspots``, ``hotspot_incidents`` and ``share_in_hotspots``
        used when present). Not modified.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".
    incidents_outside
        The incidents in no ward (``ward_table(...).attrs["incidents_outside"]``): with the
        wards' counts they add up to the incidents analysed printed on the page. None is
        taken as 0.
    hotspot_wards
        ``{hotspot id: its wards}`` as the page's hotspot table prints them (the Hotspots
        frame's ``wards``, "A; B"). A ward whose hotspots all lie in it alone has its
        incidents in hotspots printed in effect by that table (the sum of their counts): such
        a count is never chosen to be withheld, and when the ward's incidents outside
        hotspots are a small count, its incidents are hidden ("–") instead.

    Returns
    -------
    DataFrame
        Columns :data:`WARD_BRIEFING_COLUMNS`, all text, one row per ward in the given order.

        Three words hide a figure. "fewer than 5": a small count (primary suppression). "–":
        a figure derived from a hidden count (the rate and share of a hidden ward), or the
        incidents in hotspots when the ward's incidents outside hotspots (the difference) are
        a small count. "withheld": a count that is not small, hidden so that a small count
        elsewhere in the table cannot be worked out (complementary suppression).

        The rule for "withheld", applied to the Incidents column and then to the Incidents in
        hotspots column, each against its total printed on the page (the incidents analysed,
        the incidents in hotspots): the incidents outside every ward count as a cell of the
        Incidents column. When any cell of a column is hidden, the hidden cells together must
        include a withheld cell, add up to at least ``2 * threshold``, and leave no hidden
        cell with only one possible value; the smallest shown cells of at least
        ``threshold`` are withheld until they do. A withheld ward count also hides the ward's
        rate and share; a withheld count in hotspots hides the share.

        ``attrs["incidents_total_exposes"]`` and ``attrs["hotspot_incidents_total_exposes"]``
        are True when the rule could not be met (too few cells to withhold): the column's
        total must then not be printed exactly.

    Examples
    --------
    >>> wt = pd.DataFrame({"ward_name": ["Ashmere"], "incidents": [40],
    ...                    "hotspot_incidents": [2], "share_in_hotspots": [0.05]})
    >>> suppressed_ward_table(wt).iloc[0].tolist()
    ['Ashmere', '40', '–', '–', 'fewer than 5', '–']
    >>> wt = pd.DataFrame({"ward_name": ["A", "B", "C", "D"], "incidents": [4, 4, 300, 400]})
    >>> suppressed_ward_table(wt)["Incidents"].tolist()
    ['fewer than 5', 'fewer than 5', 'withheld', '400']
    """
    fix = "pass hotspots.ward_table(incidents, wards, ...)"
    frame = _check_frame(ward_table, "ward_table", ["incidents"], fix)
    if "ward_name" not in frame.columns and "ward_code" not in frame.columns:
        raise ParameterError(f"ward_table: no 'ward_name' or 'ward_code' column; {fix}.")
    limit = check_int(threshold, "threshold", minimum=1)
    outside = 0 if incidents_outside is None else incidents_outside
    outside = check_int(outside, "incidents_outside", minimum=0)

    def col(name: str) -> list[Any]:
        return list(frame[name]) if name in frame.columns else [None] * len(frame)

    names = col("ward_name")
    codes = col("ward_code")
    counts = col("incidents")
    hs_counts = col("hotspot_incidents")
    k = len(frame)
    n_vals = [as_number(n) for n in counts]
    h_vals = [as_number(h) for h in hs_counts]
    small_n = [is_small(n, limit) for n in counts]
    labels = [
        str(nm) if not is_missing(nm) and str(nm).strip() else str(cd)
        for nm, cd in zip(names, codes, strict=True)
    ]
    known_h = _hotspot_counts_printed(col("hotspots"), labels, hotspot_wards)
    # the incidents outside hotspots (n - hn) are small and hn is printed by the hotspot
    # table: n itself must be hidden
    derived_n = [
        known_h[i]
        and not small_n[i]
        and n_vals[i] is not None
        and h_vals[i] is not None
        and is_small(n_vals[i] - h_vals[i], limit)  # type: ignore[operator]
        for i in range(k)
    ]

    # the Incidents column, with the incidents outside every ward as a last (unlisted) cell;
    # a withheld ward count is at least the threshold and at least its count in hotspots
    inf = math.inf
    values = [max(v or 0.0, 0.0) for v in n_vals] + [float(outside)]
    hidden = [a or b for a, b in zip(small_n, derived_n, strict=True)] + [is_small(outside, limit)]
    bounds = [
        ((h_vals[i] or 0.0) + 1.0, (h_vals[i] or 0.0) + limit - 1.0)
        if i < k and derived_n[i]
        else (1.0, limit - 1.0)
        if h
        else (0.0, 0.0)
        for i, h in enumerate(hidden)
    ]
    w_bounds = [(max(float(limit), h or 0.0), inf) for h in h_vals] + [(0.0, 0.0)]
    withheld_n, n_exposes = _protect_column(values, hidden, bounds, w_bounds, limit, k)

    # the Incidents in hotspots column, against the incidents in hotspots printed on the page
    small_h = [is_small(h, limit) for h in hs_counts]
    derived_h = [
        not small_n[i]
        and not derived_n[i]
        and not small_h[i]
        and n_vals[i] is not None
        and h_vals[i] is not None
        and is_small(n_vals[i] - h_vals[i], limit)  # type: ignore[operator]
        for i in range(k)
    ]
    h_values = [max(v or 0.0, 0.0) for v in h_vals]
    h_hidden = [a or b for a, b in zip(small_h, derived_h, strict=True)]
    row_max = [inf if v is None else v for v in n_vals]
    h_bounds = [
        (1.0, min(limit - 1.0, row_max[i]))
        if small_h[i]
        else (row_max[i] - limit + 1.0, row_max[i] - 1.0)
        if derived_h[i]
        else (0.0, 0.0)
        for i in range(k)
    ]
    h_w_bounds = [(float(limit), row_max[i]) for i in range(k)]
    if "hotspot_incidents" in frame.columns:
        withheld_h, h_exposes = _protect_column(
            h_values, h_hidden, h_bounds, h_w_bounds, limit, eligible=[not kh for kh in known_h]
        )
    else:
        withheld_h, h_exposes = set(), False

    rows: list[list[str]] = []
    for i, (name, code, n, rate, hs, hn, share) in enumerate(
        zip(
            names,
            codes,
            counts,
            col("incidents_per_1000"),
            col("hotspots"),
            hs_counts,
            col("share_in_hotspots"),
            strict=True,
        )
    ):
        label = name if not is_missing(name) and str(name).strip() else code
        rate_v, share_v = as_number(rate), as_number(share)
        hide_n = small_n[i] or derived_n[i] or i in withheld_n
        hide_share = hide_n or small_h[i] or derived_h[i] or i in withheld_h
        if i in withheld_h:
            hs_text = _WITHHELD
        elif derived_h[i]:
            hs_text = DASH
        else:
            hs_text = _count_text(hn, limit)
        rows.append(
            [
                DASH if is_missing(label) else str(label),
                _WITHHELD if i in withheld_n else DASH if derived_n[i] else _count_text(n, limit),
                DASH if hide_n or rate_v is None else f"{rate_v:,.1f}",
                DASH if is_missing(hs) or not str(hs).strip() else str(hs),
                hs_text,
                DASH if hide_share else _percent(share_v),
            ]
        )
    out = pd.DataFrame(rows, columns=WARD_BRIEFING_COLUMNS, dtype="str")
    out.attrs["incidents_total_exposes"] = n_exposes
    out.attrs["hotspot_incidents_total_exposes"] = h_exposes
    return out


# ==========================================================================================
# The map image
# ==========================================================================================


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
    frame = _check_frame(hotspots, "hotspots", ["hotspot_id"], "pass find_hotspots(...).hotspots")
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            "hotspots: expected a GeoDataFrame with footprints; pass find_hotspots(...).hotspots."
        )
    wards_in = check_layer(wards, "wards")
    patrols_in = check_layer(patrol_areas, "patrol_areas")
    width = check_int(width_px, "width_px", minimum=200)
    if height_px is not None:
        check_int(height_px, "height_px", minimum=150)
    res = check_int(dpi, "dpi", minimum=50)
    hs, wl, pl = _metre_layers(frame, wards_in, patrols_in)
    if "rank" in hs.columns and len(hs):
        ranks = pd.to_numeric(hs["rank"], errors="coerce").to_numpy(dtype=float)
        hs = hs.iloc[np.argsort(ranks, kind="stable")]

    boxes = [f.total_bounds for f in (hs, wl, pl) if f is not None and len(f)]
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if boxes:
        arr = np.vstack(boxes)
        minx, miny = arr[:, 0].min(), arr[:, 1].min()
        maxx, maxy = arr[:, 2].max(), arr[:, 3].max()
    else:
        minx, miny, maxx, maxy = 0.0, 0.0, 1000.0, 1000.0
    dx, dy = max(maxx - minx, 100.0), max(maxy - miny, 100.0)
    # Room for the title, legend and scale bar around the data.
    dx, dy = dx * 1.08, dy * (1.16 if title else 1.10)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2 + (0.03 * dy if title else 0.0)
    shape = min(1.0, max(0.57, dy / dx))  # by default the data's shape, 4:7 to square
    height = round(width * shape) if height_px is None else int(height_px)
    ratio = height / width
    if dy / dx > ratio:
        dx = dy / ratio
    else:
        dy = dx * ratio
    x0, y0 = cx - dx / 2, cy - dy / 2

    fig = Figure(figsize=(width / res, height / res), dpi=res, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()

    ax.set_xlim(x0, x0 + dx)
    ax.set_ylim(y0, y0 + dy)
    ax.set_aspect("equal", adjustable="box")

    legend: list[Any] = []
    if wl is not None and len(wl):
        for geom in wl.geometry:
            draw_polygon(
                ax,
                geom,
                {"facecolor": WARD_FILL, "edgecolor": "none", "zorder": 1},
                {"facecolor": "none", "edgecolor": WARD_EDGE, "linewidth": 0.9, "zorder": 4},
            )
        legend.append(Line2D([], [], color=WARD_EDGE, linewidth=1.2, label="Ward boundary"))
    if pl is not None and len(pl):
        for geom in pl.geometry:
            draw_polygon(
                ax,
                geom,
                {
                    "facecolor": "none",
                    "edgecolor": _PATROL,
                    "linewidth": 1.6,
                    "linestyle": (0, (5, 3)),
                    "zorder": 5,
                },
            )
        legend.append(
            Line2D([], [], color=_PATROL, linewidth=1.6, linestyle=(0, (5, 3)), label="Patrol area")
        )
        col = name_column(pl, "patrol_area")
        if col is not None:
            for geom, name in zip(pl.geometry, pl[col], strict=True):
                if is_missing(name) or not str(name).strip():
                    continue
                minx_p, _, maxx_p, maxy_p = geom.bounds
                ax.text(
                    (minx_p + maxx_p) / 2,
                    maxy_p + 0.004 * dy,
                    str(name),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    fontstyle="italic",
                    color=_PATROL,
                    zorder=11,
                    path_effects=halo(2.0),
                )

    n = len(hs)
    ids = [str(v) for v in hs["hotspot_id"]] if n else []
    for pos in range(n - 1, -1, -1):  # rank 1 on top
        colour = _rank_colour(pos, n)
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
    for pos in range(min(n, _LABELS_MAX)):
        geom = hs.geometry.iloc[pos]
        if geom is None or geom.is_empty:
            continue
        pt = shapely.point_on_surface(geom)
        ax.text(
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
                "edgecolor": _rank_colour(pos, n),
                "linewidth": 1.5,
                "alpha": 0.9,
            },
        )
    if wl is not None and len(wl):
        # Ward names go where no hotspot (and its label) and no patrol area name is.
        blocked = list(shapely.buffer(hs.geometry.to_numpy(), 0.035 * dx))
        if pl is not None:
            for minx_p, _, maxx_p, maxy_p in pl.geometry.bounds.to_numpy():
                mid = (minx_p + maxx_p) / 2
                blocked.append(
                    shapely.box(mid - 0.07 * dx, maxy_p, mid + 0.07 * dx, maxy_p + 0.025 * dy)
                )
        avoid = shapely.union_all(blocked) if blocked else None
        col = name_column(wl, "ward_name")
        if col is not None:
            for geom, name in zip(wl.geometry, wl[col], strict=True):
                if is_missing(name) or geom is None or geom.is_empty:
                    continue
                # Upper-case 7.5 pt text: about 0.7 em a character.
                half = (len(str(name)) * 0.7 * 7.5 / 72 * res / 2 + 4) * dx / width
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
    if n:
        for colour, label in _rank_classes(n):
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
    else:
        ax.text(
            x0 + dx / 2,
            y0 + dy / 2,
            "No hotspots found with these settings",
            ha="center",
            va="center",
            fontsize=11,
            color="#444",
            zorder=12,
            path_effects=halo(3.0),
        )
    if legend:
        ax.legend(
            handles=legend,
            loc="lower right",
            fontsize=8,
            framealpha=0.9,
            edgecolor="#999",
            borderpad=0.6,
        ).set_zorder(20)
    if boxes:
        draw_scale_bar(ax, x0, y0, dx, dy)
        if north_arrow:
            draw_north_arrow(ax, x0, y0, dx, dy)
    if title:
        ax.text(
            x0 + dx / 2,
            y0 + dy * 0.975,
            str(title),
            ha="center",
            va="top",
            fontsize=12,
            fontweight="bold",
            color="#111",
            zorder=20,
            path_effects=halo(3.0),
        )
    if synthetic:
        synthetic_watermark(ax)
        synthetic_badge(ax)
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


# ==========================================================================================
# The page
# ==========================================================================================

_NUMERIC = {
    "Incidents",
    "Share",
    "Area km²",
    "PAI",
    "Per 1,000 residents",
    "Incidents in hotspots",
    "Share in hotspots",
}
_LISTS = {"Top crime types", "Top streets", "Wards"}


def _period_text(period: object) -> tuple[str, str]:
    if (
        not isinstance(period, tuple | list)
        or len(period) != 2
        or not all(isinstance(p, str) and MONTH_RE.match(p.strip()) for p in period)
    ):
        raise ParameterError(
            f"period must be (first month, last month) as ('YYYY-MM', 'YYYY-MM'); got {period!r}."
        )
    first, last = (p.strip() for p in period)
    if first > last:
        raise ParameterError(f"period {period!r}: the first month is after the last; swap them.")
    return first, last


def _cell(column: str, value: str, colour: str | None = None) -> str:
    if column in _LISTS and value != DASH:
        body = "<br>".join(esc(p.strip()) for p in value.split(";") if p.strip())
    else:
        body = esc(value)
    if colour is not None:
        return f"<td class='id'><i style='background:{colour}'></i>{body}</td>"
    cls = " class='num'" if column in _NUMERIC else ""
    return f"<td{cls}>{body}</td>"


def _table_html(table: pd.DataFrame, colours: Sequence[str] | None = None) -> str:
    head = "".join(
        f"<th{' class=num' if c in _NUMERIC else ''}>{esc(c)}</th>" for c in table.columns
    )
    body = []
    for i, row in enumerate(table.itertuples(index=False)):
        cells = []
        for j, (c, v) in enumerate(zip(table.columns, row, strict=True)):
            colour = colours[i] if colours is not None and j == 0 else None
            cells.append(_cell(str(c), str(v), colour))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _study_area_km2(hotspots: pd.DataFrame) -> float | None:
    """The study area the PAI was measured against: area x PAI / share of any hotspot."""
    if not {"area_km2", "pai", "share"} <= set(hotspots.columns) or not len(hotspots):
        return None
    area = pd.to_numeric(hotspots["area_km2"], errors="coerce").to_numpy(dtype=float)
    pai = pd.to_numeric(hotspots["pai"], errors="coerce").to_numpy(dtype=float)
    share = pd.to_numeric(hotspots["share"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        study = area * pai / share
    study = study[np.isfinite(study) & (study > 0)]
    return float(np.median(study)) if study.size else None


def _guide_html(threshold: int, trend_months: int, period_months: int) -> str:
    if trend_months:
        trend = (
            f"compares each hotspot's incidents in the last {trend_months} months of the period "
            f"with the {trend_months} months before. Short spans swing a lot: read it as a "
            "direction, not a forecast."
        )
    else:
        trend = "needs at least two months of data; this period is too short to show one."
    items = [
        (
            "Hotspots",
            "places where incidents are unusually close together (a density-based clustering of "
            "the incident map points). H01 has the most incidents, H02 the next, and so on. The "
            "outlines are drawn around each hotspot's incidents, so they follow the data rather "
            "than ward or street boundaries.",
        ),
        (
            "Share",
            "the hotspot's incidents as a share of all incidents analysed in the period.",
        ),
        (
            "PAI (Predictive Accuracy Index)",
            "the share of incidents divided by the share of the area. A PAI of 8 means the "
            "hotspot holds 8 times as many incidents as its size alone would suggest; 1 means "
            "no concentration at all.",
        ),
        ("Trend", trend),
        (
            "Small numbers",
            f"counts of 1 to {threshold - 1} are shown as \u201cfewer than {threshold}\u201d, "
            "and shares, rates and trends that would reveal them as \u201c\u2013\u201d, to "
            "protect victims and to avoid reading meaning into very small numbers. Some larger "
            "counts in the ward table are shown as \u201cwithheld\u201d so that a small count "
            "elsewhere in the table cannot be worked out from the totals on this page."
            if threshold > 1
            else "no counts are suppressed in this briefing.",
        ),
        (
            "Data caveats",
            "police.uk locations are anonymised: each crime is moved to the nearest of a fixed set "
            "of map points (the centre of a street, or a public place), so a point can stand for "
            "many nearby addresses and exact positions cannot be read from the map. Streets are "
            "named as police.uk publishes them (\u201cOn or near \u2026\u201d). Recorded crime "
            "reflects reporting and police activity as well as crime. This briefing shows no "
            "incident-level data.",
        ),
    ]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v[:1].upper() + v[1:])}</dd>" for k, v in items)
    return f"<dl class='guide'>{rows}</dl>"


def briefing_html(
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_table: pd.DataFrame | None = None,
    period: tuple[str, str],
    title: str,
    synthetic: bool = False,
    top_n: int = 10,
    generated: str | None = None,
    threshold: int = 5,
) -> str:
    """One self-contained, printable HTML page briefing the hotspots.

    The page holds: the title, period and date generated; headline numbers (incidents
    analysed, hotspots, share of incidents in hotspots, share of the study area they cover);
    the map (:func:`briefing_map_png`, inline); the hotspot table (:func:`suppressed_table`);
    the ward table (:func:`suppressed_ward_table`) when given; a plain-English guide to reading
    it; and a synthetic-data notice when ``synthetic``. It loads nothing (no scripts, no links,
    no external images; a Content-Security-Policy allows only the inline PNG and CSS) and prints
    on A4.

    Parameters
    ----------
    hotspots
        The Hotspots frame, best after :func:`hotspots.overlay_hotspots` (may be empty).
    incidents
        The incidents analysed (only their number and months are used).
    wards, patrol_areas
        Reference layers drawn on the map, or None.
    ward_table
        :func:`hotspots.ward_table` output, or None to leave the ward table out.
    period
        First and last month analysed, ``("YYYY-MM", "YYYY-MM")``.
    title
        The page's heading.
    synthetic
        Mark the page and the map as synthetic demo data.
    top_n
        How many hotspots the table lists (the map shows all).
    generated
        The "generated" date as text; today's date when None.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".

    Returns
    -------
    str
        The HTML page.
    """
    if not isinstance(incidents, pd.DataFrame):
        raise ParameterError(
            f"incidents: expected the frame read_incidents returns, got {type(incidents).__name__}."
        )
    if not isinstance(title, str) or not title.strip():
        raise ParameterError("title must be a non-empty text; give the briefing a heading.")
    first, last = _period_text(period)
    limit = check_int(threshold, "threshold", minimum=1)
    table = suppressed_table(hotspots, threshold=limit, top_n=top_n)
    wards_rows = None
    outside: int | None = None
    if ward_table is not None:
        given = ward_table.attrs.get("incidents_outside")
        if isinstance(given, int | np.integer) and not isinstance(given, bool) and given >= 0:
            outside = int(given)
        hotspot_wards = (
            dict(zip(hotspots["hotspot_id"].astype(str), hotspots["wards"], strict=True))
            if {"hotspot_id", "wards"} <= set(hotspots.columns)
            else None
        )
        wards_rows = suppressed_ward_table(
            ward_table, threshold=limit, incidents_outside=outside, hotspot_wards=hotspot_wards
        )
    png = briefing_map_png(hotspots, wards=wards, patrol_areas=patrol_areas, synthetic=synthetic)
    when = date.today().strftime("%d %B %Y").lstrip("0") if generated is None else generated

    n_total = len(incidents)
    n_hotspots = len(hotspots)
    counts = pd.to_numeric(hotspots["incidents"], errors="coerce")
    in_hotspots = float(counts.sum()) if n_hotspots else 0.0
    share = in_hotspots / n_total if n_total else None
    study = _study_area_km2(hotspots)
    area_share = None
    if study and "area_km2" in hotspots.columns:
        area = float(pd.to_numeric(hotspots["area_km2"], errors="coerce").sum())
        area_share = area / study
    hidden_total = is_small(n_total, limit) or is_small(in_hotspots, limit)
    # the ward table's suppression could not hide a small count from a printed total: do not
    # print that total exactly
    hide_analysed = wards_rows is not None and bool(wards_rows.attrs["incidents_total_exposes"])
    if hide_analysed or (
        wards_rows is not None and wards_rows.attrs["hotspot_incidents_total_exposes"]
    ):
        hidden_total = True

    trend_months = 0
    period_months = 0
    if "month" in incidents.columns and n_total:
        from ..profile import trend_window

        try:
            trend_months = trend_window(incidents)
        except InputError:
            trend_months = 0
    f_ts, l_ts = pd.Timestamp(first + "-01"), pd.Timestamp(last + "-01")
    period_months = (l_ts.year - f_ts.year) * 12 + l_ts.month - f_ts.month + 1
    period_words = (
        month_words(first) if first == last else f"{month_words(first)} to {month_words(last)}"
    )

    def box(value: str, label: str, note: str = "") -> str:
        extra = f"<small>{esc(note)}</small>" if note else ""
        return f"<div><b>{esc(value)}</b>{esc(label)}{extra}</div>"

    headline = "".join(
        [
            box(
                _WITHHELD if hide_analysed else suppress_small(n_total, threshold=limit),
                "incidents analysed",
                f"{period_months} month{'s' if period_months != 1 else ''}",
            ),
            box(f"{n_hotspots:,}", "hotspots" if n_hotspots != 1 else "hotspot"),
            box(
                DASH if hidden_total else _percent(share),
                "of incidents are in hotspots",
                "" if hidden_total else f"{suppress_small(in_hotspots, threshold=limit)} incidents",
            ),
            box(
                _percent(area_share),
                "of the area is covered by hotspots",
                "of the study area (the area the PAI is measured against)"
                if area_share is not None
                else "",
            ),
        ]
    )
    notice = (
        f"<p class='synthetic'><span>SYNTHETIC DEMO DATA</span>{esc(SYNTHETIC_NOTICE)}</p>"
        if synthetic
        else ""
    )
    shown, total = table.attrs["hotspots_shown"], table.attrs["hotspots_total"]
    if total == 0:
        hotspot_section = (
            "<p>No hotspots were found with these settings: incidents are not concentrated "
            "enough in any one place to form a hotspot.</p>"
        )
    else:
        colours = [_rank_colour(i, total) for i in range(shown)]  # table is in rank order
        more = (
            f"<p class='note'>The {shown} hotspots with the most incidents of {total}; all "
            "are on the map.</p>"
            if shown < total
            else ""
        )
        hotspot_section = _table_html(table, colours) + more
    ward_section = ""
    if wards_rows is not None:
        note = ""
        if outside is not None and outside > 0:
            # suppressed when small; the total cannot reveal it (suppressed_ward_table counts it)
            note = (
                f"<p class='note'>{esc(suppress_small(outside, threshold=limit))} incidents "
                "fall outside every ward.</p>"
            )
        hidden_words = ""
        if limit > 1:
            hidden_words = (
                f" \u201cfewer than {limit}\u201d: a count of 1 to {limit - 1}. "
                "\u201c\u2013\u201d: a figure that would reveal a small count (a hidden "
                "ward's rate and share, or the incidents in hotspots when the ward's "
                "incidents outside hotspots are small). \u201cwithheld\u201d: a larger "
                "count withheld so that a small count elsewhere in the table cannot be "
                "worked out from the totals on this page."
            )
        ward_section = (
            "<h2>Wards</h2>"
            + _table_html(wards_rows)
            + note
            + "<p class='note'>"
            + esc(
                "Per 1,000 residents: incidents per 1,000 usual residents. Share in "
                "hotspots: the share of the ward's incidents that fall inside a hotspot."
                + hidden_words
            )
            + "</p>"
        )
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    alt = (
        f"Map of {n_hotspots} hotspots, coloured by rank"
        + (", with ward boundaries" if wards is not None else "")
        + (" and patrol areas" if patrol_areas is not None else "")
    )
    caption = (
        "Hotspots coloured by rank (darkest: most incidents)"
        + ("; grey lines: ward boundaries" if wards is not None else "")
        + ("; dashed blue: patrol areas, named in italics" if patrol_areas is not None else "")
        + ". No incident points are shown."
    )
    page = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{PAGE_CSS}</style>
</head>
<body>
{notice}<h1>{esc(title)}</h1>
<p class="meta">Period: {esc(period_words)} &middot; Generated {esc(when)}</p>
<section class="headline">{headline}</section>
<figure><img src="{data_uri}" alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>
<h2 class="pagebreak">Hotspots</h2>
{hotspot_section}
{ward_section}
<h2>How to read this</h2>
{_guide_html(limit, trend_months, period_months)}
<footer>Counts of 1 to {limit - 1} are shown as &ldquo;fewer than {limit}&rdquo;.
{"Synthetic demo data: not real crimes. " if synthetic else ""}Made with the hotspots tool.</footer>
</body>
</html>
"""
    return page


def write_briefing(
    path: str | os.PathLike[str],
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_table: pd.DataFrame | None = None,
    period: tuple[str, str],
    title: str,
    synthetic: bool = False,
    top_n: int = 10,
    generated: str | None = None,
    threshold: int = 5,
) -> Path:
    """Write :func:`briefing_html` to ``path`` (UTF-8), atomically: a temporary file, then rename.

    Parameters are those of :func:`briefing_html`.

    Returns
    -------
    Path
    """
    page = briefing_html(
        hotspots=hotspots,
        incidents=incidents,
        wards=wards,
        patrol_areas=patrol_areas,
        ward_table=ward_table,
        period=period,
        title=title,
        synthetic=synthetic,
        top_n=top_n,
        generated=generated,
        threshold=threshold,
    )
    with _atomic(path) as f:
        f.write(page)
    log.info("wrote the briefing to %s (%.1f MB)", path, len(page.encode("utf-8")) / 1e6)
    return Path(path)
