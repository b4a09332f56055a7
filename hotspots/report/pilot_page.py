"""A printable one-page report of a pilot evaluation: the before/after figure for a pilot area.

Council officers brief members and partners on a pilot operation (such as the St James Street
violence operation in Walthamstow) from a page they can print or email. This module turns a
:class:`hotspots.pilot.PilotResult` (from :func:`hotspots.pilot.evaluate_pilot`) into:

* :func:`pilot_report_html`: one self-contained HTML page with the headline figure, the
  sentences of :meth:`PilotResult.summary`, a counts table, the chart and the map
  (:mod:`hotspots.report.pilot_figures`) and a guide;
* :func:`write_pilot_report`: that page written to a file atomically.

The rules are those of the briefing, decided by :mod:`hotspots.disclosure`. Everything is aggregate:
no incident points and no incident rows. Counts of 1 to ``threshold - 1`` are shown as "fewer than
5" (``threshold=5``), in the table and in the chart (a month with such a count is drawn as an open
marker on a band from 0 to the threshold, its value not plotted), and the rates, changes and means
worked out from a suppressed count are left out. Months missing from the data are gaps, not zeros.
The page loads nothing: the images are inline ``data:`` PNGs, the CSS is inline, there are no
scripts and no links, a Content-Security-Policy forbids any other resource, and every text from the
data or the user is HTML-escaped.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._text import esc
from .._validate import check_int
from ..errors import ParameterError
from ..pilot import PERIODS, PilotResult
from ..pilot_disclosure import PilotDisclosure, protect_pilot
from .page import (
    check_layer,
    guide_html,
    page_html,
    png_uri,
    source_words,
    synthetic_notice_html,
    write_page,
)
from .pilot_figures import check_result, pilot_chart_png, pilot_map_png, zones_shown
from .pilot_text import pilot_summary
from .wording import (
    DASH,
    NOT_SHOWN,
    fewer_than,
    generated_words,
    n_months,
    percent_interval,
    signed_percent,
    span_words,
    suppress_small,
)

__all__ = ["pilot_report_html", "write_pilot_report"]

log = logging.getLogger(__name__)


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


def _check_text(value: object, name: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        fix = "give a text or None" if optional else "give the report a heading"
        raise ParameterError(f"{name} must be a non-empty text; {fix}; got {value!r}.")
    return value.strip()


def _headline(result: PilotResult, disclosed: PilotDisclosure) -> tuple[str, bool]:
    """The headline figure in words, and whether it reports evidence of a change.

    It follows :meth:`PilotResult.summary` with ``suppress_below=threshold``: no effect is
    given when a before or after count of the target or the control area is suppressed or
    hidden (:attr:`PilotDisclosure.effect_hidden`), since the effect and the other three counts
    would give it.
    """
    lo, hi = result.relative_change_ci
    if not result.has_control:
        return (
            "No control area: the change in the target cannot be told apart from what would "
            "have happened anyway.",
            False,
        )
    if disclosed.effect_hidden:
        return (
            "The counts are too small to publish a change beyond the control area.",
            False,
        )
    if not math.isfinite(result.relative_change_pct) or not math.isfinite(lo):
        return "The change beyond the control area cannot be estimated: a count is zero.", False
    interval = f"95% confidence interval {percent_interval(lo, hi)}"
    if result.significant:
        return (
            f"Change beyond the control area: {signed_percent(result.relative_change_pct)} "
            f"({interval})",
            True,
        )
    return (
        "No evidence of a change beyond the control area: "
        f"{signed_percent(result.relative_change_pct)} ({interval}, which includes no change)",
        False,
    )


def _rate_text(rate: float, small: bool) -> str:
    if small or not math.isfinite(rate):
        return DASH
    return f"{rate:,.1f}"


def _counts_table(result: PilotResult, disclosed: PilotDisclosure, threshold: int) -> str:
    """The counts table: a zone a row; each period's count and monthly rate; the change.

    A count of 1 to ``threshold - 1`` is "fewer than 5"; a total hidden by
    :func:`hotspots.pilot_disclosure.withheld_months`
    (its months all small, so that with the number of months it would pin them down) is "not
    shown"; either way its rate and the zone's change are "–". A period with no month in the
    data (the operation's months all missing) has "–" for its count and rate, not 0.
    """
    names = {"target": "Target area", "buffer": "Buffer ring", "control": "Control area"}
    months = result.months
    head = ["Zone", "Area km²"]
    for p, label in zip(PERIODS, ("Before", "During", "After"), strict=True):
        k = months[p][2]
        head += [f"{label}<br>{n_months(k)}", "a month"]
    head.append("Change a<br>month")
    areas = dict(zip(result.geometries["zone"], result.geometries["area_km2"], strict=True))
    rows = []
    for zone in zones_shown(result):
        cells = [esc(names[zone]), f"{float(areas[zone]):,.2f}"]
        for p in PERIODS:
            n = float(result.counts[p].loc[zone])
            rate = float(result.per_month[p].loc[zone])
            if months[p][2] == 0:
                cells += [DASH, DASH]  # no month of the period in the data: not a zero
            elif (zone, p) in disclosed.withheld:
                cells += [NOT_SHOWN, DASH]
            else:
                cells.append(esc(suppress_small(n, threshold=threshold)))
                cells.append(_rate_text(rate, (zone, p) in disclosed.small))
        change = result.pct_change.get(zone, math.nan)
        cells.append(DASH if disclosed.change_hidden(zone) else esc(signed_percent(change)))
        body = "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>" for i, c in enumerate(cells))
        rows.append(f"<tr>{body}</tr>")
    # the headers are fixed texts and numbers (no data or user text), with line breaks
    th = "".join(f"<th{'' if i == 0 else ' class=num'}>{h}</th>" for i, h in enumerate(head))
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _counts_notes(result: PilotResult, disclosed: PilotDisclosure, threshold: int) -> str:
    """Sentences under the counts table on the cells that are "–" or "not shown"."""
    notes = []
    if result.months["during"][2] == 0:
        notes.append(
            "The operation's months are not in the data, so its counts are left out (–), "
            "not counted as zero."
        )
    zones = zones_shown(result)
    if any(z in zones for z, _ in disclosed.withheld):
        notes.append(
            f"Not shown: a total that, with the months drawn, could give away a month of "
            f"{fewer_than(threshold)} incidents."
        )
    return " ".join(notes)


def _summary(result: PilotResult, disclosed: PilotDisclosure, threshold: int) -> list[str]:
    """:meth:`PilotResult.summary` with small counts and the withheld totals
    (:class:`PilotDisclosure`) left out, and what is worked out from them (rates, changes,
    effects)."""
    zones = zones_shown(result)
    hidden = {(z, p) for z, p in disclosed.withheld if z in zones and p != "during"}
    return pilot_summary(result, suppress_below=threshold, unpublished=hidden)


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
            "than prevented. It is only judged after a significant fall in the target beyond "
            "the control area's (otherwise it cannot be judged), and values near 0 mean little "
            "either way.",
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
            f"counts of 1 to {threshold - 1} are shown as \u201c{fewer_than(threshold)}\u201d, "
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
    return guide_html(items)


def _periods_html(result: PilotResult) -> str:
    """Rows of the months compared: before, operation, after."""
    return "".join(
        f"<tr><td><b>{esc(label)}</b></td><td>{esc(span_words(first, last))}</td>"
        f"<td>{n_months(n)}</td></tr>"
        for label, (first, last, n) in (
            ("Before", result.months["before"]),
            ("Operation", result.months["during"]),
            ("After", result.months["after"]),
        )
    )


def _missing_note(result: PilotResult) -> str:
    """The months missing from the data (left out, not zeros), or ""."""
    missing = [
        pd.Timestamp(m).strftime("%b %Y")
        for m, p in zip(result.monthly["month"], result.monthly["period"], strict=True)
        if str(p) not in PERIODS
    ]
    if not missing:
        return ""
    return (
        f"<p class='note'>Missing from the data and left out (not counted as zero): "
        f"{esc(', '.join(missing))}.</p>"
    )


def _control_note(result: PilotResult) -> str:
    if not result.has_control:
        return "There is no control area."
    if result.control_is_default:
        return "Control area: the rest of the study area outside the target and the buffer ring."
    return "Control area: the comparison area given, without the target and buffer ring."


def _chart_figure_html(chart: bytes, limit: int) -> str:
    alt = "Monthly counts in the target, buffer and control area, operation shaded"
    caption = (
        "Monthly counts of the crime types evaluated; each panel has its own scale. Grey: the "
        "operation's months. Dashed: the mean a month before and after."
        + (
            f" Months with 1 to {limit - 1} incidents are shown as a band only."
            if limit > 1
            else ""
        )
    )
    return (
        f'<figure><img src="{png_uri(chart)}" alt="{esc(alt)}">\n'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _map_figure_html(map_png: bytes, has_wards: bool) -> str:
    alt = "Map of the target area, its buffer ring and the control area" + (
        ", with ward boundaries" if has_wards else ""
    )
    caption = (
        "Red: the target area. Hatched orange: the buffer ring around it. Grey: the control area."
        + (" Dashed lines: ward boundaries." if has_wards else "")
        + " No incident points are shown."
    )
    return (
        f'<figure class="map"><img src="{png_uri(map_png)}" alt="{esc(alt)}">\n'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


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
        What :func:`hotspots.pilot.evaluate_pilot` returned.
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
    res = check_result(result)
    heading = _check_text(title, "title", optional=False)
    area = _check_text(area_name, "area_name", optional=True)
    when_given = _check_text(generated, "generated", optional=True)
    limit = check_int(threshold, "threshold", minimum=1)
    if not isinstance(synthetic, bool):
        raise ParameterError(f"synthetic must be True or False; got {synthetic!r}.")
    check_layer(wards, "wards")
    when = generated_words(when_given)
    assert heading is not None

    disclosed = protect_pilot(res.counts, res.monthly, limit)
    chart = pilot_chart_png(res, threshold=limit, synthetic=synthetic)
    # landscape, so that the map prints at true size across the page below the summary
    map_png = pilot_map_png(res, wards=wards, synthetic=synthetic, height_px=760)
    headline, evidence = _headline(res, disclosed)
    crimes = "; ".join(res.categories) if res.categories else "all crime types"
    meta = " &middot; ".join(
        esc(t) for t in ([f"Area: {area}"] if area else []) + [f"Generated {when}"]
    )
    says = "".join(f"<li>{esc(s)}</li>" for s in _summary(res, disclosed, limit))
    source = source_words(synthetic)
    notes = esc(_counts_notes(res, disclosed, limit))
    body = f"""{synthetic_notice_html(synthetic)}<h1>{esc(heading)}</h1>
<p class="meta">{meta}</p>
<table class="periods"><tbody>{_periods_html(res)}
<tr><td><b>Crime types</b></td><td colspan="2">{esc(crimes)}</td></tr></tbody></table>
<section class="lead{"" if evidence else " none"}"><b>{esc(headline)}</b></section>
{_chart_figure_html(chart, limit)}
<h2>Counts</h2>
{_counts_table(res, disclosed, limit)}
<p class="note">Incidents in each zone and period; &ldquo;a month&rdquo; is the mean over the
months of the period in the data. {esc(_control_note(res))} {notes}</p>
{_missing_note(res)}
<h2>What the figures say</h2>
<ul class="says">{says}</ul>
{_map_figure_html(map_png, wards is not None)}
<section class="box"><h2>How to read this</h2>
{_guide(res, limit)}</section>
<footer>Generated {esc(when)}. Data: {esc(source)}
Counts of 1 to {limit - 1} are shown as &ldquo;{fewer_than(limit)}&rdquo;.
Made with the hotspots tool.</footer>
"""
    return page_html(heading, body, extra_css=_EXTRA_CSS)


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
    return write_page(path, page, "the pilot report")
