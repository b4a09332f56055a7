"""Outreach sheets: one printed page per hotspot for the people who walk its streets.

Each sheet holds the hotspot's small map (:func:`hotspots.report.outreach_map.hotspot_svg`: its
outline, the map points around it, the streets' names; no tiles), the streets and places inside
it with their incidents and plain percentages ("23%"), police.uk's place types located by their
nearest street ("Supermarket near High Street": :func:`hotspots.patrols.outreach_streets`), what
the counts cover (months, crime types, wards: :mod:`hotspots.report.scope`), and, on synthetic
data, a "SYNTHETIC DEMO DATA" mark across every page. The page loads nothing and every name is
escaped. Counts are exact (the sheets are for the teams who act on them, as ``outreach.csv``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._points import incident_xy, unique_points_of
from .._text import as_number, esc, is_missing, join_names
from ..crs import to_metres
from ..errors import ParameterError
from ..palette import trend_words
from ..patrols import outreach_streets
from .outreach_map import SVG_CSS, MapPoints, hotspot_svg, map_points, map_window
from .page import check_frame, page_html, source_words, synthetic_notice_html, write_page
from .scope import SCOPE_CSS, Scope, analysis_scope, scope_html
from .wording import generated_words, months_text, whole_percent

__all__ = [
    "OUTREACH_LABELS",
    "SHEETS_AT_FIRST",
    "first_sheets",
    "outreach_sheet_html",
    "sheet_streets",
    "write_outreach_sheet",
]

#: The outreach streets' columns (:data:`hotspots.patrols.OUTREACH_COLUMNS`) in words.
OUTREACH_LABELS: dict[str, str] = {
    "hotspot_id": "Hotspot",
    "rank_in_hotspot": "Rank in the hotspot",
    "street": "Street or place",
    "incidents": "Incidents",
    "share_of_hotspot": "Share of the hotspot's incidents",
}
#: How many sheets are printed unless chosen: the densest hotspots no patrol area covers.
SHEETS_AT_FIRST = 10
_SHEET_CSS = """
.sheet { position: relative; overflow: hidden; }
.sheet + .sheet { break-before: page; page-break-before: always; margin-top: 12mm;
  border-top: 2px dashed #ccc; padding-top: 6mm; }
@media print { .sheet + .sheet { margin-top: 0; border-top: 0; padding-top: 0; } }
.cols { display: flex; gap: 5mm; align-items: flex-start; margin: 0 0 3mm; }
.cols figure { flex: 0 0 95mm; width: 95mm; margin: 0; }
.cols figure svg { width: 95mm; height: 95mm; }
.facts { flex: 1 1 0; min-width: 0; font-size: 9pt; margin: 0; }
.facts dt { font-weight: bold; margin-top: 1.5mm; }
.facts dd { margin: 0; }
.watermark { position: absolute; top: 90mm; left: 0; right: 0; text-align: center;
  transform: rotate(-28deg); font: bold 44pt Arial, sans-serif; color: #b00020; opacity: .13;
  pointer-events: none; z-index: 5; white-space: nowrap; }
"""


def _chosen_ids(hotspots: pd.DataFrame, chosen: Sequence[str] | None) -> list[str]:
    """The hotspots to print, in rank order; an unknown id is an error naming it."""
    ranked = hotspots.sort_values("rank", kind="stable") if "rank" in hotspots else hotspots
    ids = ranked["hotspot_id"].astype(str).tolist()
    if chosen is None:
        return ids
    if isinstance(chosen, str | bytes):
        raise ParameterError(f"chosen: give a list of hotspot ids, not the text {chosen!r}.")
    wanted = [str(c) for c in chosen]
    unknown = [c for c in wanted if c not in set(ids)]
    if unknown:
        raise ParameterError(f"chosen: no hotspot {unknown[0]!r}; choose among the hotspots' ids.")
    return [i for i in ids if i in set(wanted)]


def _facts(row: pd.Series, total: int) -> str:
    """The hotspot's facts: incidents, months, wards, crime types, change, size."""
    n = as_number(row.get("incidents"))
    cats = row.get("top_categories")
    cat_items = [] if cats is None or is_missing(cats) else list(cats)
    types = "; ".join(
        f"{name} {int(count):,} ({whole_percent(count / n if n else None)})"
        for name, count in cat_items
    )
    wards = row.get("wards")
    area = as_number(row.get("area_km2"))
    trend = as_number(row.get("trend"))
    items = [
        ("Incidents", f"{int(n or 0):,}"),
        ("Months", months_text(row.get("first_month"), row.get("last_month"))),
        ("Wards", join_names(wards) if wards is not None and not is_missing(wards) else ""),
        ("Crime types most recorded", types),
        (
            "Change",
            trend_words(
                trend,
                as_number(row.get("trend_low")),
                as_number(row.get("trend_high")),
                against=row.get("trend_against"),
            )
            if trend is not None
            else "",
        ),
        ("Size", "" if area is None else f"{area * 100:,.1f} hectares ({area:,.3f} km²)"),
        ("Rank", f"{int(as_number(row.get('rank')) or 0)} of {total} (densest first)"),
    ]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items if v)
    return f"<dl class='facts'>{rows}</dl>"


def _street_table(streets: pd.DataFrame) -> str:
    """The streets of one hotspot as a table with words for headings and whole percents."""
    if not len(streets):
        return "<p>No street is named for this hotspot's incidents.</p>"
    labels = [OUTREACH_LABELS[c] for c in ("street", "incidents", "share_of_hotspot")]
    head = "".join(
        f"<th{' class=num' if i else ''}>{esc(label)}</th>" for i, label in enumerate(labels)
    )
    body = "".join(
        f"<tr><td>{esc(s)}</td><td class='num'>{int(n):,}</td>"
        f"<td class='num'>{esc(whole_percent(float(share)))}</td></tr>"
        for s, n, share in zip(
            streets["street"], streets["incidents"], streets["share_of_hotspot"], strict=True
        )
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sheet(
    hid: str,
    row: pd.Series,
    total: int,
    streets: pd.DataFrame,
    svg: str,
    scope: Scope,
    title: str,
    when: str,
    synthetic: bool,
) -> str:
    mark = "<div class='watermark'>SYNTHETIC DEMO DATA</div>" if synthetic else ""
    caption = (
        "Dark red dots: the hotspot's map points, sized by incidents; grey: other map points; "
        "dashed pink: neighbouring hotspots. police.uk moves each crime to the nearest of a "
        "fixed set of map points, so a dot stands for the addresses around it."
    )
    return f"""<section class="sheet">{mark}{synthetic_notice_html(synthetic)}
<h1>{esc(title)}: {esc(hid)}</h1>
<p class="meta">Generated {esc(when)}</p>
{scope_html(scope)}
<div class="cols"><figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>
{_facts(row, total)}</div>
<h2>Streets and places in {esc(hid)}</h2>
{_street_table(streets)}
<p class="note">{
        esc(
            "Places police.uk names by their kind (a supermarket, a parking area) are named after "
            "their nearest street. Shares are of all the hotspot's incidents, so the streets "
            "listed need not add up to 100%."
        )
    }</p>
<footer>For outreach teams, not for publication: counts below 5 are shown as they are. Data:
{esc(source_words(synthetic))}</footer>
</section>
"""


def _near_points(
    incidents: gpd.GeoDataFrame, hotspot_ids: pd.Series, hotspots: gpd.GeoDataFrame
) -> MapPoints:
    """The map points inside the map of each hotspot printed (:func:`map_window`; a city's
    incidents are not all grouped for ten maps)."""
    xy = incident_xy(incidents)
    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    # each window tested on the distinct map points (a city's codes are kept), not every row
    code, points, _ = unique_points_of(xy, ok)
    near = np.zeros(len(points), dtype=bool)
    for bounds in hotspots.geometry.bounds.to_numpy(dtype=float):
        if not np.isfinite(bounds).all():
            near[:] = True  # no outline: its map is framed on its points
            break
        cx, cy, half = map_window(tuple(bounds))
        near |= (np.abs(points[:, 0] - cx) <= half) & (np.abs(points[:, 1] - cy) <= half)
    rows = ok[near[code]]
    # only the columns map_points reads
    slim = incidents[[c for c in ("location", incidents.geometry.name) if c in incidents.columns]]
    return map_points(slim.iloc[rows], hotspot_ids.iloc[rows])


def first_sheets(hotspots: pd.DataFrame, uncovered: pd.DataFrame | None = None) -> list[str]:
    """The hotspots printed unless chosen: the :data:`SHEETS_AT_FIRST` densest of
    ``uncovered`` (those no patrol area covers) when given, else of ``hotspots``.

    >>> hs = pd.DataFrame({"hotspot_id": [f"H{i:02d}" for i in range(1, 13)],
    ...                    "rank": range(1, 13)})
    >>> first_sheets(hs)[-1], first_sheets(hs, hs.iloc[[5, 2]])
    ('H10', ['H03', 'H06'])
    """
    pool = hotspots if uncovered is None else uncovered
    ranked = pool.sort_values("rank", kind="stable") if "rank" in pool else pool
    return ranked["hotspot_id"].astype(str).head(SHEETS_AT_FIRST).tolist()


def sheet_streets(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
    chosen: Sequence[str] | None = None,
    *,
    top_streets: int = 8,
    locations: pd.Series | None = None,
) -> pd.DataFrame:
    """The streets and places the sheets list (:func:`hotspots.patrols.outreach_streets` of the
    chosen hotspots, place types located by their nearest street): what the dashboard shows
    beside the sheets. Columns :data:`OUTREACH_LABELS` (in words there). ``locations``: the
    incidents' place names when the caller has them (``Analysis.found.locations``)."""
    frame = check_frame(hotspots, "hotspots", ["hotspot_id"], "pass Analysis.hotspots")
    ids = _chosen_ids(frame, chosen)
    picked = frame[frame["hotspot_id"].astype(str).isin(ids)]
    return outreach_streets(
        incidents, picked, hotspot_ids=hotspot_ids, top_n=top_streets, locations=locations
    )


def outreach_sheet_html(
    *,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
    period: tuple[str, str],
    chosen: Sequence[str] | None = None,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
    title: str = "Outreach sheet",
    synthetic: bool = False,
    top_streets: int = 8,
    generated: str | None = None,
    locations: pd.Series | None = None,
    none_words: str | None = None,
) -> str:
    """Printable outreach sheets: one page per chosen hotspot, in rank order.

    Parameters
    ----------
    hotspots
        The Hotspots frame (``Analysis.hotspots``: its wards filled in by
        :func:`hotspots.overlay.overlay_hotspots`).
    incidents
        The incidents analysed (``location``), in the metre CRS of ``hotspots``.
    hotspot_ids
        Each incident's hotspot id ("" for none): ``Analysis.hotspot_ids``.
    period
        First and last month analysed, ``("YYYY-MM", "YYYY-MM")``.
    chosen
        The hotspot ids to print (None: every hotspot).
    crime_types, ward_names
        The crime types and wards chosen (:func:`hotspots.report.scope.analysis_scope`).
    title
        Each sheet's heading, followed by the hotspot's id.
    synthetic
        Mark every sheet "SYNTHETIC DEMO DATA".
    top_streets
        Streets and places listed per hotspot.
    generated
        The "generated" date as text; today's when None.
    locations
        The incidents' place names (``Analysis.found.locations``,
        :func:`hotspots.places.location_names`); named here when None.
    none_words
        What the page says when hotspots were found but none chosen (why none was), instead
        of "No hotspots were chosen".

    Returns
    -------
    str
        The HTML page.
    """
    frame = check_frame(hotspots, "hotspots", ["hotspot_id"], "pass Analysis.hotspots")
    if not isinstance(title, str) or not title.strip():
        raise ParameterError("title must be a non-empty text; give the sheets a heading.")
    scope = analysis_scope(incidents, period, crime_types=crime_types, ward_names=ward_names)
    ids = _chosen_ids(frame, chosen)
    when = generated_words(generated)
    if not ids:
        what = none_words or "No hotspots were chosen" if len(frame) else "No hotspots were found"
        body = (
            f"{synthetic_notice_html(synthetic)}<h1>{esc(title)}</h1>{scope_html(scope)}"
            f"<p>{what}: there is no sheet to print.</p>"
        )
        return page_html(title, body, extra_css=SCOPE_CSS)
    metric = to_metres(hotspots) if hotspots.crs is not None else hotspots
    picked = metric[metric["hotspot_id"].astype(str).isin(ids)]
    streets = sheet_streets(
        picked, incidents, hotspot_ids, top_streets=top_streets, locations=locations
    )
    points = _near_points(incidents, hotspot_ids, picked)
    rows = picked.set_index(picked["hotspot_id"].astype(str))
    sheets = [
        _sheet(
            hid,
            rows.loc[hid],
            len(frame),
            streets[streets["hotspot_id"] == hid],
            hotspot_svg(hid, metric, points, synthetic=synthetic),
            scope,
            title,
            when,
            synthetic,
        )
        for hid in ids
    ]
    return page_html(title, "".join(sheets), extra_css=SCOPE_CSS + SVG_CSS + _SHEET_CSS)


def write_outreach_sheet(path: str | os.PathLike[str], **options: object) -> Path:
    """Write :func:`outreach_sheet_html` (its keyword options) to ``path``, atomically."""
    page = outreach_sheet_html(**options)  # type: ignore[arg-type]
    return write_page(path, page, "the outreach sheets")
