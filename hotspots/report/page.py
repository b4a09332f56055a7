"""What the printable pages share: the page's CSS and policy, HTML escaping, cell reading, checks
and the page skeleton.

:mod:`hotspots.report.briefing` (the hotspot briefing) and :mod:`hotspots.report.pilot_page`
(the pilot page) both print self-contained HTML pages with inline matplotlib images
(:mod:`hotspots.report.figures`). Every page loads nothing: the images are ``data:`` PNGs, the CSS
is inline, there are no scripts, and a Content-Security-Policy forbids any other resource.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._files import atomic_write
from .._text import esc
from ..errors import ParameterError

__all__ = [
    "CSP",
    "PAGE_CSS",
    "SYNTHETIC_NOTICE",
    "check_frame",
    "check_layer",
    "guide_html",
    "page_html",
    "png_uri",
    "synthetic_notice_html",
    "write_page",
]

log = logging.getLogger(__name__)

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


def check_layer(frame: object, name: str) -> gpd.GeoDataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            f"{name}: expected a GeoDataFrame, got {type(frame).__name__}; load it with "
            f"geodata.load_{'wards' if name == 'wards' else 'patrol_areas'}."
        )
    return frame


def check_frame(frame: object, name: str, columns: Sequence[str], fix: str) -> pd.DataFrame:
    """``frame`` when it is a DataFrame holding ``columns``, else a ParameterError naming
    ``name`` and ``fix``."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name}: expected a DataFrame, got {type(frame).__name__}; {fix}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name}: no {missing[0]!r} column; {fix}.")
    return frame


def png_uri(png: bytes) -> str:
    """A PNG image as an inline ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def synthetic_notice_html(synthetic: bool) -> str:
    """The synthetic-data notice at the top of a page ("" for real data)."""
    if not synthetic:
        return ""
    return f"<p class='synthetic'><span>SYNTHETIC DEMO DATA</span>{esc(SYNTHETIC_NOTICE)}</p>"


def guide_html(items: Sequence[tuple[str, str]]) -> str:
    """A "How to read this" list of (term, explanation); each explanation starts upper-case.

    >>> guide_html([("PAI", "share of incidents over share of area.")])
    "<dl class='guide'><dt>PAI</dt><dd>Share of incidents over share of area.</dd></dl>"
    """
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v[:1].upper() + v[1:])}</dd>" for k, v in items)
    return f"<dl class='guide'>{rows}</dl>"


#: The data's credit on printed pages (the licences of data.police.uk and ONS boundaries).
DATA_SOURCE = (
    "Police recorded crime from data.police.uk (street-level crime); ward boundaries from the "
    "Office for National Statistics. Contains public sector information licensed under the "
    "Open Government Licence v3.0; contains OS data © Crown copyright and database right."
)
#: The credit of the synthetic demo data on printed pages.
SYNTHETIC_SOURCE = (
    "Synthetic demo data shaped like data.police.uk street-level crime files: invented "
    "incidents, not real crimes."
)


def source_words(synthetic: bool) -> str:
    """:data:`SYNTHETIC_SOURCE` or :data:`DATA_SOURCE`."""
    return SYNTHETIC_SOURCE if synthetic else DATA_SOURCE


def page_html(title: str, body: str, *, extra_css: str = "") -> str:
    """The page skeleton: doctype, policy, title (escaped), CSS, and ``body`` (HTML) as given."""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{PAGE_CSS}{extra_css}</style>
</head>
<body>
{body}</body>
</html>
"""


def write_page(path: str | os.PathLike[str], page: str, what: str) -> Path:
    """Write ``page`` (HTML) to ``path`` (UTF-8), atomically: a temporary file, then rename;
    log ``what`` was written ("the briefing") and its size."""
    with atomic_write(path) as f:
        f.write(page)
    log.info("wrote %s to %s (%.1f MB)", what, path, len(page.encode("utf-8")) / 1e6)
    return Path(path)
