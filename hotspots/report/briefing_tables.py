"""The briefing's tables: the hotspot table and the ward table as text, small counts hidden.

Which cells are hidden is decided by :mod:`hotspots.disclosure` (a count of 1 to
``threshold - 1``; the figures derived from it; larger counts withheld so that a small one
cannot be worked out from a printed total) and said by :mod:`hotspots.report.wording`
("fewer than 5", "–", "withheld"). Each verb returns a small result with the table and its flags.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._text import as_number, is_missing, item_texts, join_ids, join_names
from .._validate import check_int
from ..disclosure import (
    WardDisclosure,
    change_exposes,
    hotspot_counts_printed,
    is_small,
    protect_ward_table,
    total_exposes,
)
from ..errors import ParameterError
from ..palette import trend_words
from .page import check_frame
from .wording import DASH, WITHHELD, count_text, months_text, percent, suppressed_items

__all__ = [
    "BRIEFING_COLUMNS",
    "WARD_BRIEFING_COLUMNS",
    "SuppressedTable",
    "SuppressedWardTable",
    "in_rank_order",
    "suppressed_table",
    "suppressed_ward_table",
]

#: Columns of :attr:`SuppressedTable.table`, in this order (all text).
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
_PER_1000 = "Per 1,000 residents"
#: Columns of :attr:`SuppressedWardTable.table`, in this order (all text; without residents
#: given, the rate column is left out).
WARD_BRIEFING_COLUMNS: list[str] = [
    "Ward",
    "Incidents",
    _PER_1000,
    "Hotspots",
    "Incidents in hotspots",
    "Share in hotspots",
]


@dataclass(frozen=True)
class SuppressedTable:
    """The hotspot table of a briefing (:func:`suppressed_table`).

    Attributes
    ----------
    table
        Columns :data:`BRIEFING_COLUMNS`, all text, one row per listed hotspot.
    hotspots_total
        How many hotspots there are (the table lists the first ``hotspots_shown``).
    lists
        The list columns' items as printed, ``{column: [items of each row]}`` (Top crime
        types, Top streets, Wards): the table's text joins them with "; "; a page prints them
        one a line, without splitting the text.
    """

    table: pd.DataFrame
    hotspots_total: int
    lists: Mapping[str, Sequence[Sequence[str]]] = field(default_factory=dict)

    @property
    def hotspots_shown(self) -> int:
        """How many hotspots the table lists."""
        return len(self.table)


@dataclass(frozen=True)
class SuppressedWardTable:
    """The ward table of a briefing (:func:`suppressed_ward_table`).

    Attributes
    ----------
    table
        Columns :data:`WARD_BRIEFING_COLUMNS`, all text, one row per ward.
    incidents_total_exposes, hotspot_incidents_total_exposes
        The withheld rule could not be met for the column: its total (the incidents analysed,
        the incidents in hotspots) must not be printed exactly.
    """

    table: pd.DataFrame
    incidents_total_exposes: bool
    hotspot_incidents_total_exposes: bool


_HOTSPOT_FIELDS = (
    "hotspot_id",
    "incidents",
    "share",
    "area_km2",
    "pai",
    "top_categories",
    "top_locations",
    "wards",
    "trend",
    "trend_low",
    "trend_high",
    "trend_against",
    "first_month",
    "last_month",
)


_LIST_COLUMNS = ("Top crime types", "Top streets", "Wards")


def _names(value: object, name: str) -> list[str]:
    """A list cell of names (the Hotspots frame's ``wards``) as a list; none when missing."""
    if isinstance(value, str | bytes):
        raise ParameterError(
            f"hotspots: '{name}' holds text ({value!r}); pass the Hotspots frame of "
            "find_hotspots / overlay_hotspots, whose lists are lists."
        )
    if value is None or is_missing(value):
        return []
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _listed(items: object, total: float | None, limit: int) -> list[str]:
    """A hotspot's top crime types or streets as printed: "name count" with small counts
    "fewer than"; the names alone when the hotspot's printed count, less the counts shown,
    would give a small one away (:func:`hotspots.disclosure.total_exposes`; the crime types
    or streets not listed, if any, are a hidden cell of 0 or more)."""
    pairs = suppressed_items(items, limit)
    if not pairs or total is None or is_small(total, limit):
        return item_texts(pairs)
    counts = [float(c) for _, c in items]  # type: ignore[attr-defined]
    small = [c for c in counts if is_small(c, limit)]
    rest = total - sum(counts)
    hidden = [*small, max(rest, 0.0)]
    bounds = [(1.0, limit - 1.0)] * len(small) + [(0.0, math.inf)]
    if small and total_exposes(hidden, bounds, limit):
        return [name for name, _ in pairs]
    return item_texts(pairs)


def _hotspot_row(
    values: Sequence[Any], limit: int, has_trend: bool
) -> tuple[list[str], list[list[str]]]:
    """One row of the hotspot table, from the :data:`_HOTSPOT_FIELDS` of one hotspot, and the
    items of its :data:`_LIST_COLUMNS` as printed."""
    hid, n, share, area, pai, cats, streets, wards, trend, low, high, against, first, last = values
    hidden = is_small(as_number(n), limit)
    area_v = as_number(area)
    pai_v = as_number(pai)
    items = [
        _listed(cats, as_number(n), limit),
        _listed(streets, as_number(n), limit),
        _names(wards, "wards"),
    ]
    t, t_low, t_high = (as_number(v) for v in (trend, low, high))
    pinned = t is not None and t_low is not None and t_high is not None
    if pinned and change_exposes(t, t_low, t_high, limit):  # type: ignore[arg-type]
        has_trend = False  # its two counts could be worked out, one of them small
    lists = [join_names(printed) or DASH for printed in items]
    row = [
        DASH if is_missing(hid) else str(hid),
        count_text(n, limit),
        DASH if hidden else percent(as_number(share)),
        DASH if area_v is None else f"{area_v:,.{2 if area_v >= 0.01 else 3}f}",
        DASH if hidden or pai_v is None else f"{pai_v:,.1f}",
        *lists,
        trend_words(as_number(trend), as_number(low), as_number(high), against=against)
        if has_trend and not hidden
        else DASH,
        months_text(first, last),
    ]
    return row, items


def in_rank_order(hotspots: pd.DataFrame) -> pd.DataFrame:
    """The hotspots in ``rank`` order (as given without one): the hotspot table's order,
    which the headline's check of what the table shows follows too."""
    if "rank" not in hotspots.columns or not len(hotspots):
        return hotspots
    ranks = pd.to_numeric(hotspots["rank"], errors="coerce").to_numpy(dtype=float)
    return hotspots.iloc[np.argsort(ranks, kind="stable")]


def suppressed_table(
    hotspots: gpd.GeoDataFrame, *, threshold: int = 5, top_n: int = 10
) -> SuppressedTable:
    """The hotspot table of a briefing: text only, small counts suppressed.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``Analysis.hotspots``, whose ``wards``
        :func:`hotspots.overlay.overlay_hotspots` has filled in). Needs ``hotspot_id`` and
        ``incidents``; other columns missing show as "–". Not modified.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".
    top_n
        How many hotspots to list, in rank order.

    Returns
    -------
    SuppressedTable
        ``table``: columns :data:`BRIEFING_COLUMNS`, all text, one row per listed hotspot:
        Hotspot (id), Incidents (suppressed), Share (of all incidents analysed), Area km², PAI,
        Top crime types and Top streets (``"name count; ..."``, each count suppressed, from the
        frame's ``(name, count)`` lists; the names alone when the hotspot's count less the
        counts shown would give a small one away), Wards, Trend (in words; "–" when its
        change and interval could only come from a small count in one of its spans), Months.
        Share, PAI and Trend are "–" for a hotspot whose count is suppressed. ``lists``
        holds the items of the three list columns as printed. ``hotspots_total`` and
        ``hotspots_shown`` say how many there are and how many are listed.

    Examples
    --------
    >>> frame = pd.DataFrame({"hotspot_id": ["H01"], "incidents": [40],
    ...                       "top_categories": [[("Drugs", 9), ("Burglary", 3)]]})
    >>> result = suppressed_table(frame)
    >>> result.table.loc[0, "Incidents"], result.table.loc[0, "Top crime types"]
    ('40', 'Drugs 9; Burglary fewer than 5')
    >>> result.lists["Top crime types"]
    [['Drugs 9', 'Burglary fewer than 5']]

    With 12 incidents, 12 - 9 would give Burglary's 3 away: the names alone.

    >>> suppressed_table(frame.assign(incidents=[12])).table.loc[0, "Top crime types"]
    'Drugs; Burglary'
    """
    fix = "pass find_hotspots(...).hotspots"
    frame = check_frame(hotspots, "hotspots", ["hotspot_id", "incidents"], fix)
    limit = check_int(threshold, "threshold", minimum=1)
    top = check_int(top_n, "top_n", minimum=1)
    frame = in_rank_order(frame)
    shown = frame.iloc[:top]

    def col(name: str) -> list[Any]:
        return list(shown[name]) if name in shown.columns else [None] * len(shown)

    has_trend = "trend" in shown.columns
    built = [
        _hotspot_row(values, limit, has_trend)
        for values in zip(*(col(c) for c in _HOTSPOT_FIELDS), strict=True)
    ]
    out = pd.DataFrame([row for row, _ in built], columns=BRIEFING_COLUMNS, dtype="str")
    lists = {name: [items[j] for _, items in built] for j, name in enumerate(_LIST_COLUMNS)}
    return SuppressedTable(table=out, hotspots_total=len(frame), lists=lists)


_WARD_FIELDS = (
    "ward_name",
    "ward_code",
    "incidents",
    "incidents_per_1000",
    "hotspots",
    "hotspot_incidents",
    "share_in_hotspots",
)


def _protected_count(value: object, withheld: bool, derived: bool, limit: int) -> str:
    """A count cell of the ward table: "withheld", "–" when worked out from a hidden count,
    else the count with small ones suppressed."""
    if withheld:
        return WITHHELD
    if derived:
        return DASH
    return count_text(value, limit)


def _ward_row(i: int, values: Sequence[Any], decided: WardDisclosure, limit: int) -> list[str]:
    """One row of the ward table, from the :data:`_WARD_FIELDS` of one ward."""
    name, code, n, rate, hs, hn, share = values
    label = name if not is_missing(name) and str(name).strip() else code
    rate_v = as_number(rate)
    hs_text = _protected_count(hn, i in decided.hotspot_withheld, decided.hotspot_derived[i], limit)
    n_text = _protected_count(n, i in decided.withheld, decided.derived[i], limit)
    hide_n = decided.incidents_hidden(i)
    return [
        DASH if is_missing(label) else str(label),
        n_text,
        DASH if hide_n or rate_v is None else f"{rate_v:,.1f}",
        join_ids(_names(hs, "hotspots")) or "none",
        hs_text,
        DASH if decided.share_hidden(i) else percent(as_number(share)),
    ]


def suppressed_ward_table(
    ward_table: pd.DataFrame,
    *,
    threshold: int = 5,
    incidents_outside: int | None = None,
    hotspot_wards: Mapping[str, object] | None = None,
) -> SuppressedWardTable:
    """The ward table of a briefing: text only, small counts suppressed.

    Parameters
    ----------
    ward_table
        ``Analysis.ward_table`` (:func:`hotspots.overlay.ward_table`'s ``.table``:
        ``ward_name`` or ``ward_code``, ``incidents``;
        ``incidents_per_1000``, ``hotspots``, ``hotspot_incidents`` and ``share_in_hotspots``
        used when present). Not modified.
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".
    incidents_outside
        The incidents in no ward (``Analysis.incidents_outside_wards``): with the
        wards' counts they add up to the incidents analysed printed on the page. None is
        taken as 0.
    hotspot_wards
        ``{hotspot id: its wards}`` as the page's hotspot table prints them (the Hotspots
        frame's ``wards``, lists of names). A ward whose hotspots all lie in it alone has its
        incidents in hotspots printed in effect by that table (the sum of their counts): such
        a count is never chosen to be withheld, and when the ward's incidents outside
        hotspots are a small count, its incidents are hidden ("–") instead.

    Returns
    -------
    SuppressedWardTable
        ``table``: columns :data:`WARD_BRIEFING_COLUMNS`, all text, one row per ward in the
        given order. Which cells are hidden is decided by
        :func:`hotspots.disclosure.protect_ward_table`.

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

        ``incidents_total_exposes`` and ``hotspot_incidents_total_exposes`` are True when the
        rule could not be met (too few cells to withhold): the column's total must then not be
        printed exactly.

    Examples
    --------
    >>> wt = pd.DataFrame({"ward_name": ["Ashmere"], "incidents": [40],
    ...                    "hotspot_incidents": [2], "share_in_hotspots": [0.05]})
    >>> suppressed_ward_table(wt).table.iloc[0].tolist()  # no residents: no rate column
    ['Ashmere', '40', 'none', 'fewer than 5', '–']
    >>> wt = pd.DataFrame({"ward_name": ["A", "B", "C", "D"], "incidents": [4, 4, 300, 400]})
    >>> suppressed_ward_table(wt).table["Incidents"].tolist()
    ['fewer than 5', 'fewer than 5', 'withheld', '400']
    """
    fix = "pass Analysis.ward_table (hotspots.overlay.ward_table(...).table)"
    frame = check_frame(ward_table, "ward_table", ["incidents"], fix)
    if "ward_name" not in frame.columns and "ward_code" not in frame.columns:
        raise ParameterError(f"ward_table: no 'ward_name' or 'ward_code' column; {fix}.")
    limit = check_int(threshold, "threshold", minimum=1)
    outside = 0 if incidents_outside is None else incidents_outside
    outside = check_int(outside, "incidents_outside", minimum=0)

    def col(name: str) -> list[Any]:
        return list(frame[name]) if name in frame.columns else [None] * len(frame)

    labels = [
        str(nm) if not is_missing(nm) and str(nm).strip() else str(cd)
        for nm, cd in zip(col("ward_name"), col("ward_code"), strict=True)
    ]
    printed = hotspot_counts_printed(
        [_names(h, "hotspots") for h in col("hotspots")],
        labels,
        None
        if hotspot_wards is None
        else {str(h): _names(ws, "wards") for h, ws in hotspot_wards.items() if not is_missing(ws)},
    )
    has_h = "hotspot_incidents" in frame.columns
    decided = protect_ward_table(
        [as_number(n) for n in col("incidents")],
        [as_number(h) for h in col("hotspot_incidents")] if has_h else None,
        threshold=limit,
        incidents_outside=outside,
        counts_printed=printed,
    )
    rows = [
        _ward_row(i, values, decided, limit)
        for i, values in enumerate(zip(*(col(c) for c in _WARD_FIELDS), strict=True))
    ]
    table = pd.DataFrame(rows, columns=WARD_BRIEFING_COLUMNS, dtype="str")
    rates = pd.to_numeric(pd.Series(col("incidents_per_1000"), dtype="object"), errors="coerce")
    if not rates.notna().any():  # no residents given: a column of dashes says nothing
        table = table.drop(columns=[_PER_1000])
    return SuppressedWardTable(
        table=table,
        incidents_total_exposes=decided.incidents_total_exposes,
        hotspot_incidents_total_exposes=decided.hotspot_incidents_total_exposes,
    )
