"""Every file of an analysis, written into one folder: what ``hotspots analyse`` writes.

:func:`write_analysis` is the one owner of the set of output files (the command line writes
them, the benchmark times them), so they cannot drift apart:

==================  =========================================================================
file                what it holds
==================  =========================================================================
hotspots.geojson    the ranked hotspots (WGS84) for the web: outlines simplified within 2 m, the
                    top ones by rank that fit in 2 MB (:mod:`hotspots.web`)
hotspots.gpkg       every hotspot with its exact outline, in the analysis' CRS, for a GIS
hotspots.csv        the same table, for a spreadsheet
incidents.csv       every incident used, with its hotspot id (empty for none)
outreach.csv        the busiest streets of each hotspot (of the uncovered ones with patrols)
outreach.html       printable outreach sheets, one page per hotspot: the 10 densest of those
                    (:func:`hotspots.report.outreach_sheet.outreach_sheet_html`)
wards.csv           incidents, rates and hotspots per ward (with wards only)
patrols.csv         incidents and hotspot incidents per patrol area (with patrol areas only)
summary.json        :meth:`hotspots.pipeline.Analysis.summary`
map.html            the standalone map (assets inlined: opens offline), under 2 MB
==================  =========================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .export import (
    write_hotspots_csv,
    write_hotspots_geojson,
    write_hotspots_gpkg,
    write_incidents_csv,
    write_map_html,
    write_summary,
    write_table_csv,
)
from .guardrails import far_incidents
from .mapping import FRAME_PADDING, make_map
from .pipeline import Analysis
from .report.outreach_sheet import first_sheets, write_outreach_sheet
from .web import DISPLAY_TOLERANCE_M, GEOJSON_MAX_BYTES

__all__ = ["write_analysis"]

log = logging.getLogger(__name__)


def write_analysis(
    analysis: Analysis,
    folder: str | Path,
    *,
    report: Any = None,
    files: Mapping[str, str | None] | None = None,
    tiles: str | None = None,
    synthetic: bool = False,
) -> list[Path]:
    """Write every output file of ``analysis`` into ``folder`` (created); return their paths.

    Parameters
    ----------
    analysis
        What :func:`hotspots.pipeline.analyse` returned.
    folder
        The output folder.
    report
        The :class:`hotspots.io.LoadReport` of the read, for ``summary.json``.
    files
        The files the layers came from, by layer name (``"wards"``, ``"patrols"``).
    tiles
        A tile URL for the map's base layer (None: no base map, nothing fetched).
    synthetic
        Mark the map as synthetic demo data.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # The largest file (every incident) and the web GeoJSON are written on the second core
    # meanwhile (Arrow, numpy, GEOS and the file system release the GIL); their errors are
    # raised here, as the others'.
    with ThreadPoolExecutor(max_workers=1) as pool:
        geojson = pool.submit(
            write_hotspots_geojson,
            analysis.hotspots,
            out / "hotspots.geojson",
            max_bytes=GEOJSON_MAX_BYTES,
            tolerance_m=DISPLAY_TOLERANCE_M,
        )
        incidents_csv = pool.submit(
            write_incidents_csv,
            analysis.incidents,
            out / "incidents.csv",
            hotspot_ids=analysis.hotspot_ids,
        )
        written = _write_the_rest(analysis, out, report, files, tiles, synthetic)
        written.insert(0, geojson.result())
        written.insert(3, incidents_csv.result())
    log.info("wrote %d files into %s", len(written), out)
    return written


def _write_sheets(analysis: Analysis, path: Path, synthetic: bool) -> list[Path]:
    """The outreach sheets of the densest hotspots ``outreach.csv`` lists (none without
    months: the sheets say which months they count)."""
    period = analysis.period()
    if period["from"] is None or period["to"] is None:
        return []
    sheets = write_outreach_sheet(
        path,
        hotspots=analysis.hotspots,
        incidents=analysis.incidents,
        hotspot_ids=analysis.hotspot_ids,
        period=(str(period["from"]), str(period["to"])),
        chosen=first_sheets(analysis.hotspots, analysis.uncovered),
        synthetic=synthetic,
        locations=analysis.found.locations,
        none_words="Every hotspot has some of its incidents inside a patrol area, so none is "
        "printed (the sheets are of the hotspots no patrol area covers; hotspots.csv gives each "
        "hotspot's patrol_coverage)",
    )
    return [sheets]


def _write_the_rest(
    analysis: Analysis,
    out: Path,
    report: Any,
    files: Mapping[str, str | None] | None,
    tiles: str | None,
    synthetic: bool,
) -> list[Path]:
    """Every file of :func:`write_analysis` but hotspots.geojson and incidents.csv, in order."""
    written = [
        write_hotspots_gpkg(analysis.hotspots, out / "hotspots.gpkg"),
        write_hotspots_csv(analysis.hotspots, out / "hotspots.csv"),
        write_table_csv(analysis.streets, out / "outreach.csv"),
        *_write_sheets(analysis, out / "outreach.html", synthetic),
        write_table_csv(analysis.patrol_points, out / "patrol_points.csv"),
    ]
    if analysis.ward_table is not None:
        written.append(write_table_csv(analysis.ward_table, out / "wards.csv"))
    if analysis.patrol_table is not None:
        written.append(write_table_csv(analysis.patrol_table, out / "patrols.csv"))
    if analysis.backtest is not None:
        written.append(write_table_csv(analysis.backtest.table, out / "backtest.csv"))
    layer_files = {k: v for k, v in (files or {}).items() if v is not None}
    written.append(write_summary(analysis.summary(report, files=layer_files), out / "summary.json"))
    period = analysis.period()
    m = make_map(
        analysis.hotspots,
        analysis.incidents,
        tiles=tiles,
        title=f"Hotspots {period['from']} to {period['to']}",
        synthetic=synthetic,
        wards=analysis.wards,
        patrol_areas=analysis.patrols,
    )
    far = far_incidents(analysis.incidents)  # framed on the bulk, as the dashboard's map is
    if far.n_far and far.bounds is not None:
        m.fit_bounds(far.bounds, **FRAME_PADDING, max_zoom=17)
    written.append(write_map_html(m, out / "map.html"))
    return written
