"""The printable briefing: one self-contained HTML page of the hotspots, their map and tables.

Council officers brief members and partners from a page they can print. Everything here is
aggregate: no incident-level data (no points, no incident rows) leaves this module.

Small counts are suppressed as in standard statistical disclosure control: a count of 1 to
``threshold - 1`` is shown as "fewer than 5" (``threshold=5``), 0 as "0". Figures derived from a
suppressed count (its share, PAI, trend, rate) are shown as "–" so that the count cannot be
worked back from them. Counts inside text ("Drugs 3; Burglary 12") are suppressed too.

Which cells to hide is decided by :mod:`hotspots.disclosure` and said by
:mod:`hotspots.report.wording`; the tables are :mod:`hotspots.report.briefing_tables`, the map
:func:`hotspots.report.briefing_map.briefing_map_png` (no base-map tiles, no incident points).

The page (:func:`briefing_html`) loads nothing: the map is an inline ``data:`` PNG, the CSS is
inline, there are no scripts, and a Content-Security-Policy forbids any other resource. Every text
that comes from the data or the user (streets, crime types, ward names, the title) is
HTML-escaped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._text import esc
from ..errors import ParameterError
from ..palette import rank_colour
from .briefing_content import BriefingContent, briefing_content
from .briefing_map import briefing_map_png
from .briefing_tables import SuppressedTable, SuppressedWardTable
from .page import guide_html, page_html, png_uri, source_words, synthetic_notice_html, write_page
from .scope import SCOPE_CSS, scope_html
from .wording import (
    DASH,
    WITHHELD,
    fewer_than,
    generated_words,
    suppress_small,
)

__all__ = ["briefing_html", "briefing_page_html", "write_briefing"]

log = logging.getLogger(__name__)

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


def _cell(
    column: str, value: str, colour: str | None = None, items: Sequence[str] | None = None
) -> str:
    """One cell: ``items`` (a list column's printed items) one a line, else ``value``."""
    body = "<br>".join(esc(p) for p in items) if items else esc(value)
    if colour is not None:
        return f"<td class='id'><i style='background:{colour}'></i>{body}</td>"
    cls = " class='num'" if column in _NUMERIC else ""
    return f"<td{cls}>{body}</td>"


def _table_html(
    table: pd.DataFrame,
    colours: Sequence[str] | None = None,
    lists: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> str:
    head = "".join(
        f"<th{' class=num' if c in _NUMERIC else ''}>{esc(c)}</th>" for c in table.columns
    )
    body = []
    for i, row in enumerate(table.itertuples(index=False)):
        cells = []
        for j, (c, v) in enumerate(zip(table.columns, row, strict=True)):
            colour = colours[i] if colours is not None and j == 0 else None
            items = lists[str(c)][i] if lists is not None and str(c) in lists else None
            cells.append(_cell(str(c), str(v), colour, items))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _trend_words(trend_months: int, against: str | None = None) -> str:
    """The guide's explanation of the trend column (``against``: the months before the
    chosen ones that it compares with, when it is that change)."""
    if against:
        return (
            "compares the incidents inside each hotspot's outline in the months counted with "
            f"the same number of months just before them ({against}), with the exact 95% "
            "interval of the change; \u201cno clear change\u201d means the interval includes "
            "none. Among many hotspots about 1 in 20 that did not change still shows a clear "
            "change by chance. Read it as a direction, not a forecast."
        )
    if not trend_months:
        return "needs at least two months of data; this period is too short to show one."
    return (
        f"compares each hotspot's incidents in the last {trend_months} months of the period "
        f"with the {trend_months} months before, with the exact 95% interval of the "
        "change; “no clear change” means the interval includes none (among many hotspots "
        "about 1 in 20 that did not change still shows a clear change by chance). Short spans "
        "swing a lot: read it as a direction, not a forecast"
        + (
            "; the two spans are different months of the year, so seasonal swings show as change."
            if trend_months % 12
            else "."
        )
    )


def _hotspot_words(first_id: str | None) -> str:
    """The guide's explanation of a hotspot; with none found, why there are none."""
    what = (
        "places where incidents are unusually close together (a density-based clustering of "
        "the incident map points). "
    )
    if first_id is None:
        return what + (
            "None was found in this period: no place had enough incidents close together "
            "with these settings, so this briefing has no hotspot table."
        )
    return what + (
        f"They are numbered in rank order: {first_id} is the densest (the most incidents per "
        "km²), the next is the next densest, and so on. The outlines are drawn around each "
        "hotspot's incidents, so they follow the data rather than ward or street boundaries."
    )


def _guide_html(
    threshold: int, trend_months: int, first_id: str | None, against: str | None = None
) -> str:
    """ "How to read this": the hotspot terms only when there are hotspots to read."""
    hotspot_terms = [
        ("Share", "the hotspot's incidents as a share of all incidents analysed in the period."),
        (
            "PAI (Predictive Accuracy Index)",
            "the share of incidents divided by the share of the area. A PAI of 8 means the "
            "hotspot holds 8 times as many incidents as its size alone would suggest; 1 means "
            "no concentration at all.",
        ),
        ("Trend", _trend_words(trend_months, against)),
    ]
    items = [
        ("Hotspots", _hotspot_words(first_id)),
        *(hotspot_terms if first_id is not None else []),
        (
            "Small numbers",
            f"counts of 1 to {threshold - 1} are shown as \u201cfewer than {threshold}\u201d, "
            "and shares, rates and trends that would reveal them as \u201c\u2013\u201d, to "
            "protect victims and to avoid reading meaning into very small numbers. Some larger "
            "counts in the ward table are shown as \u201cwithheld\u201d so that a small count "
            "elsewhere in the table cannot be worked out from the totals on this page; for the "
            "same reason a hotspot's crime types or streets are named without their counts, "
            "and the incidents in hotspots are not given, when a small count could be worked "
            "out from them."
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
    return guide_html(items)


def _box(value: str, label: str, note: str = "") -> str:
    extra = f"<small>{esc(note)}</small>" if note else ""
    return f"<div><b>{esc(value)}</b>{esc(label)}{extra}</div>"


def _hotspot_section(table: SuppressedTable) -> str:
    shown, total = table.hotspots_shown, table.hotspots_total
    if total == 0:
        return (
            "<p>No hotspots were found in this period with these settings: incidents are not "
            "concentrated enough in any one place to form a hotspot.</p>"
        )
    colours = [rank_colour(i, total) for i in range(shown)]  # table is in rank order
    more = (
        f"<p class='note'>The {shown} densest hotspots of {total}; all are on the map.</p>"
        if shown < total
        else ""
    )
    return _table_html(table.table, colours, table.lists) + more


def _ward_section(wards_rows: SuppressedWardTable, outside: int | None, limit: int) -> str:
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
            f" \u201c{fewer_than(limit)}\u201d: a count of 1 to {limit - 1}. "
            f"\u201c{DASH}\u201d: a figure that would reveal a small count (a hidden "
            "ward's rate and share, or the incidents in hotspots when the ward's "
            f"incidents outside hotspots are small). \u201c{WITHHELD}\u201d: a larger "
            "count withheld so that a small count elsewhere in the table cannot be "
            "worked out from the totals on this page."
        )
    return (
        "<h2>Wards</h2>"
        + _table_html(wards_rows.table)
        + note
        + "<p class='note'>"
        + esc(
            (
                "Per 1,000 residents: incidents per 1,000 usual residents. "
                if "Per 1,000 residents" in wards_rows.table.columns
                else ""
            )
            + "Share in hotspots: the share of the ward's incidents that fall inside a hotspot."
            + hidden_words
        )
        + "</p>"
    )


def _map_figure_html(png: bytes, n_hotspots: int, has_wards: bool, has_patrols: bool) -> str:
    alt = (
        f"Map of {n_hotspots} hotspots, coloured by rank"
        + (", with ward boundaries" if has_wards else "")
        + (" and patrol areas" if has_patrols else "")
    )
    caption = (
        (
            "Hotspots coloured by rank (darkest: densest, most incidents per km²)"
            if n_hotspots
            else "No hotspots in this period"
        )
        + ("; grey lines: ward boundaries" if has_wards else "")
        + ("; dashed blue: patrol areas, named in italics" if has_patrols else "")
        + ". No incident points are shown."
    )
    return (
        f'<figure><img src="{png_uri(png)}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def briefing_page_html(
    content: BriefingContent,
    *,
    hotspots: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    title: str,
    synthetic: bool = False,
    generated: str | None = None,
) -> str:
    """The briefing page of ``content`` (:func:`briefing_content`): what :func:`briefing_html`
    returns, for a caller that shows ``content`` beside it (the dashboard)."""
    if not isinstance(title, str) or not title.strip():
        raise ParameterError("title must be a non-empty text; give the briefing a heading.")
    limit = content.threshold
    png = briefing_map_png(hotspots, wards=wards, patrol_areas=patrol_areas, synthetic=synthetic)
    when = generated_words(generated)
    scope = content.scope
    headline = "".join(_box(f.value, f.label, f.note) for f in content.headline)
    table = content.hotspots
    first_id = str(table.table["Hotspot"].iloc[0]) if table.hotspots_shown else None
    wards_part = (
        "" if content.wards is None else _ward_section(content.wards, content.outside, limit)
    )
    body = f"""{synthetic_notice_html(synthetic)}<h1>{esc(title)}</h1>
<p class="meta">Generated {esc(when)}</p>
{scope_html(scope)}
<section class="headline">{headline}</section>
{_map_figure_html(png, len(hotspots), wards is not None, patrol_areas is not None)}
<h2 class="pagebreak">Hotspots</h2>
{_hotspot_section(table)}
{wards_part}
<h2>How to read this</h2>
{_guide_html(limit, content.trend_months, first_id, content.trend_against)}
<footer>Data: {esc(source_words(synthetic))}
Counts of 1 to {limit - 1} are shown as &ldquo;{fewer_than(limit)}&rdquo;.
Made with the hotspots tool.</footer>
"""
    return page_html(title, body, extra_css=SCOPE_CSS)


def briefing_html(
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_table: pd.DataFrame | None = None,
    incidents_outside: int | None = None,
    period: tuple[str, str],
    title: str,
    synthetic: bool = False,
    top_n: int = 10,
    generated: str | None = None,
    threshold: int = 5,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
) -> str:
    """One self-contained, printable HTML page briefing the hotspots.

    The page holds: the title, period and date generated; what it counts (the months, the
    crime types and the wards chosen: :func:`hotspots.report.scope.analysis_scope`); headline
    numbers (incidents analysed, hotspots, share of incidents in hotspots, share of the study
    area they cover); the map (:func:`briefing_map_png`, inline); the hotspot table
    (:func:`suppressed_table`); the ward table (:func:`suppressed_ward_table`) when given; a
    plain-English guide to reading it; and a synthetic-data notice when ``synthetic``. Every
    figure comes from :func:`briefing_content`, which the dashboard shows beside the page. It
    loads nothing (no scripts, no links, no external images; a Content-Security-Policy allows
    only the inline PNG and CSS) and prints on A4.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``Analysis.hotspots``: its wards filled in by
        :func:`hotspots.overlay.overlay_hotspots`; may be empty).
    incidents
        The incidents analysed (only their number, months and crime types are used).
    wards, patrol_areas
        Reference layers drawn on the map, or None.
    ward_table
        ``Analysis.ward_table`` (:func:`hotspots.overlay.ward_table`'s ``.table``), or None
        to leave the ward table out.
    incidents_outside
        ``Analysis.incidents_outside_wards``: the incidents in no ward (None: 0).
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
    crime_types
        The crime types chosen (None: those of ``incidents``).
    ward_names
        The wards chosen (empty: no ward filter, said so; None: the line is left out).

    Returns
    -------
    str
        The HTML page.
    """
    if not isinstance(title, str) or not title.strip():
        raise ParameterError("title must be a non-empty text; give the briefing a heading.")
    content = briefing_content(
        hotspots=hotspots,
        incidents=incidents,
        period=period,
        ward_table=ward_table,
        incidents_outside=incidents_outside,
        crime_types=crime_types,
        ward_names=ward_names,
        top_n=top_n,
        threshold=threshold,
    )
    return briefing_page_html(
        content,
        hotspots=hotspots,
        wards=wards,
        patrol_areas=patrol_areas,
        title=title,
        synthetic=synthetic,
        generated=generated,
    )


def write_briefing(
    path: str | os.PathLike[str],
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    patrol_areas: gpd.GeoDataFrame | None = None,
    ward_table: pd.DataFrame | None = None,
    incidents_outside: int | None = None,
    period: tuple[str, str],
    title: str,
    synthetic: bool = False,
    top_n: int = 10,
    generated: str | None = None,
    threshold: int = 5,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
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
        incidents_outside=incidents_outside,
        period=period,
        title=title,
        synthetic=synthetic,
        top_n=top_n,
        generated=generated,
        threshold=threshold,
        crime_types=crime_types,
        ward_names=ward_names,
    )
    return write_page(path, page, "the briefing")
