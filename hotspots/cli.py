"""The ``hotspots`` command.

Exit 0 on success; exit 2 with one line on stderr that names the problem and the fix for any bad
input or argument (never a traceback); progress on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import InputError, ParameterError

__all__ = ["main"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines

_DESCRIPTION = """\
Crime hotspots from anonymised street-level incident points.

Reads data.police.uk street CSVs (a file, a folder of monthly folders, or the downloaded .zip),
data.police.uk API JSON, or any CSV / GeoJSON / GeoPackage / Shapefile / GeoParquet of points;
clusters the incidents with DBSCAN (distances in metres) and writes ranked hotspots with their
statistics, a standalone map and a summary that accounts for every row read.
"""

_ANALYSE_EPILOG = """\
examples:
  hotspots analyse 2019-*-city-of-london-street.csv --out out/
  hotspots analyse police-download.zip --from 2024-01 --to 2024-12 \\
      --crime-type "Violence and sexual offences" --crime-type "Possession of weapons" --out out/
  hotspots analyse incidents.csv --crs EPSG:27700 --eps 150 --min-samples 20 --out out/

writes into --out: hotspots.geojson, hotspots.csv, incidents.csv, map.html, summary.json,
and with --wards / --patrols also wards.csv, patrols.csv and outreach.csv
"""

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def _positive_float(name: str, example: str, *, zero: bool = False) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number; give {name} in metres, e.g. {example}"
            ) from None
        if not ((value > 0 or (zero and value == 0)) and value < float("inf")):
            what = "a distance in metres, 0 or more" if zero else "a positive distance in metres"
            raise argparse.ArgumentTypeError(f"{text!r} must be {what}, e.g. {example}")
        return value

    return parse


def _positive_int(name: str, example: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; give {name}, e.g. {example}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least 1, e.g. {example}")
        return value

    return parse


def _harm_arguments(p: argparse.ArgumentParser, effect: str) -> None:
    """--harm and --harm-weights, read by :func:`_read_inputs`."""
    p.add_argument(
        "--harm",
        action="store_true",
        help="weight each incident by the harm of its crime type (built-in table, see README) "
        + effect,
    )
    p.add_argument(
        "--harm-weights",
        metavar="CSV",
        help="your own harm table (columns crime_type, weight; one row per data.police.uk "
        "crime type); implies --harm",
    )


def _month(text: str) -> str:
    if not _MONTH_RE.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a month; write it as YYYY-MM, e.g. 2024-01"
        )
    return text


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hotspots",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hotspots {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    a = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        help="find hotspots in incident files and write tables, a map and a summary",
        description="Find hotspots in incident files and write tables, a map and a summary.",
        epilog=_ANALYSE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="incident files or folders (police.uk CSV/zip/API JSON, CSV, GeoJSON, GeoPackage, "
        "Shapefile, GeoParquet)",
    )
    a.add_argument(
        "--out", required=True, metavar="DIR", help="folder to write the results into (created)"
    )
    a.add_argument(
        "--eps",
        type=_positive_float("--eps", "--eps 150"),
        metavar="METRES",
        help="how close (in metres) incidents must be to count as neighbours; "
        "suggested from the data when omitted",
    )
    a.add_argument(
        "--min-samples",
        type=_positive_int("--min-samples", "--min-samples 15"),
        metavar="N",
        help="how many incidents within --eps make a dense spot; suggested when omitted",
    )
    a.add_argument(
        "--method",
        choices=["dbscan", "hdbscan"],
        default="dbscan",
        help="dbscan (default: one density everywhere) or hdbscan (lets density vary)",
    )
    a.add_argument(
        "--min-cluster-size",
        type=_positive_int("--min-cluster-size", "--min-cluster-size 30"),
        metavar="N",
        help="hdbscan only: smallest hotspot in incidents (default: --min-samples)",
    )
    a.add_argument("--from", dest="start", type=_month, metavar="YYYY-MM", help="first month")
    a.add_argument("--to", dest="end", type=_month, metavar="YYYY-MM", help="last month")
    a.add_argument(
        "--crime-type",
        action="append",
        metavar="TYPE",
        help='keep only this crime type (repeatable), e.g. "Violence and sexual offences"',
    )
    a.add_argument(
        "--wards",
        metavar="FILE",
        help="ward boundaries (GeoJSON, GeoPackage, Shapefile or zip, KML): writes wards.csv, "
        "names each hotspot's wards and measures the PAI against the wards' area",
    )
    a.add_argument("--wards-layer", metavar="LAYER", help="layer of --wards to read, if several")
    a.add_argument(
        "--population",
        metavar="CSV",
        help="residents per ward (a CSV with a ward code and a population column), "
        "for incidents per 1,000 residents in wards.csv",
    )
    a.add_argument(
        "--patrols",
        metavar="FILE",
        help="detached-outreach patrol areas (same formats as --wards): writes patrols.csv "
        "and outreach.csv (streets in the hotspots no patrol area covers)",
    )
    a.add_argument(
        "--patrols-layer", metavar="LAYER", help="layer of --patrols to read, if several"
    )
    _harm_arguments(a, "and rank hotspots by harm instead of by count")
    a.add_argument(
        "--crs",
        metavar="CRS",
        help="coordinate system of x/y or easting/northing columns in a plain CSV, e.g. EPSG:27700",
    )
    a.add_argument(
        "--tiles",
        default="OpenStreetMap",
        metavar="TILES",
        help="base map for map.html: OpenStreetMap (default), 'none' for no base map "
        "(fully offline), or a tile URL template such as https://tiles.example/{z}/{x}/{y}.png",
    )
    a.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    a.set_defaults(func=_analyse)

    f = sub.add_parser(
        "fetch",
        help="download incidents from data.police.uk or ward boundaries from the ONS",
        description="Download official data: street-level crimes from the data.police.uk API, "
        "or ward boundaries from the ONS Open Geography Portal. Downloads are cached and an "
        "interrupted download resumes where it stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fsub = f.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    fp = fsub.add_parser(
        "police",
        help="street-level crimes for an area and months (data.police.uk API)",
        description="Download street-level crimes inside a boundary, month by month, from the "
        "data.police.uk API (crimes-street/all-crime), into a folder that "
        "`hotspots analyse` reads.",
        epilog="examples:\n"
        "  hotspots fetch police --boundary borough.gpkg --from 2024-01 --to 2024-12 --out wf/\n"
        "  hotspots fetch police --wards wards.gpkg --ward-code E05013901 "
        "--from 2024-01 --to 2024-03 --out ward/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    area = fp.add_mutually_exclusive_group(required=True)
    area.add_argument("--boundary", metavar="FILE", help="polygon file of the area (any CRS)")
    area.add_argument(
        "--ward-code", metavar="CODE", help="one ward of --wards, by its code (e.g. E05013901)"
    )
    fp.add_argument("--wards", metavar="FILE", help="ward boundaries to pick --ward-code from")
    fp.add_argument("--from", dest="start", type=_month, required=True, metavar="YYYY-MM")
    fp.add_argument("--to", dest="end", type=_month, required=True, metavar="YYYY-MM")
    fp.add_argument("--out", required=True, metavar="DIR", help="folder to write the crimes into")
    fp.add_argument(
        "--api", default=None, metavar="URL", help="data.police.uk API base URL (a proxy or mirror)"
    )
    fp.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    fp.set_defaults(func=_fetch_police)

    fw = fsub.add_parser(
        "wards",
        help="official ward boundaries for a local authority (ONS Open Geography Portal)",
        description="Download the official ward boundaries of one local authority from the ONS "
        "Open Geography Portal and save them as a GeoPackage for --wards.",
        epilog="example:\n  hotspots fetch wards --lad E09000031 --out waltham-forest-wards.gpkg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fw.add_argument(
        "--lad", required=True, metavar="CODE", help="local authority code, e.g. E09000031"
    )
    fw.add_argument("--out", required=True, metavar="FILE", help="GeoPackage to write")
    fw.add_argument("--service", default=None, metavar="URL", help="ONS feature service URL")
    fw.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    fw.set_defaults(func=_fetch_wards)

    ep = sub.add_parser(
        "evaluate-pilot",
        help="before/after evaluation of an operation in a target area, against a control",
        description="Did crime fall in a target area (a pilot operation) more than elsewhere, "
        "and did it move next door? Compares before and after the operation in the target, a "
        "buffer ring around it and a control area (default: the rest of the area), with a 95% "
        "confidence interval for the relative effect and the Weighted Displacement Quotient.",
        epilog="example:\n  hotspots evaluate-pilot crimes.zip --target st-james-street.geojson "
        "--start 2023-04 --end 2023-09 \\\n      --crime-type 'Violence and sexual offences' "
        "--out pilot/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ep.add_argument("inputs", nargs="+", metavar="INPUT", help="incident files or folders")
    ep.add_argument("--target", required=True, metavar="FILE", help="polygon of the target area")
    ep.add_argument("--start", required=True, type=_month, metavar="YYYY-MM", help="first month")
    ep.add_argument("--end", required=True, type=_month, metavar="YYYY-MM", help="last month")
    ep.add_argument(
        "--buffer",
        type=_positive_float("--buffer", "--buffer 400", zero=True),
        default=400.0,
        metavar="METRES",
        help="width of the ring around the target watched for displacement (default 400; "
        "0 for none)",
    )
    ep.add_argument(
        "--control",
        metavar="FILE",
        help="polygon of the control area: ideally streets like the target's where nothing "
        "was done (default: the rest of --study-area, else of the incidents' extent)",
    )
    ep.add_argument(
        "--study-area",
        metavar="FILE",
        help="boundaries (e.g. the borough's wards) whose union, less the target and buffer, "
        "is the default control area",
    )
    ep.add_argument(
        "--variance-inflation",
        default="auto",
        metavar="auto|N",
        help="how the confidence interval allows for counts varying more than chance: auto "
        "(default) measures it from each area's monthly counts; 1 assumes Poisson counts",
    )
    ep.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    ep.add_argument("--crs", metavar="CRS", help="CRS of x/y columns in a plain CSV")
    ep.add_argument(
        "--out", required=True, metavar="DIR", help="folder for pilot.json, CSV and pilot.html"
    )
    ep.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    ep.set_defaults(func=_evaluate_pilot)

    em = sub.add_parser(
        "evaluate-map",
        help="how well hotspot maps of one period predicted the next (hit rate, PAI, PEI)",
        description="Fit hotspot maps (DBSCAN footprints, KDE cells, Gi* cells) on months A and "
        "score them on later months B at equal shares of the study area: hit rate, PAI "
        "(hit rate / area share), RRI and PEI (against the best map of equal area).",
        epilog="example:\n  hotspots evaluate-map crimes/ --fit-from 2016-01 --fit-to 2016-12 "
        "--test-from 2017-01 --test-to 2017-06 --wards wards.gpkg --out forecast/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    em.add_argument("inputs", nargs="+", metavar="INPUT", help="incident files or folders")
    em.add_argument("--fit-from", required=True, type=_month, metavar="YYYY-MM")
    em.add_argument("--fit-to", required=True, type=_month, metavar="YYYY-MM")
    em.add_argument("--test-from", required=True, type=_month, metavar="YYYY-MM")
    em.add_argument("--test-to", required=True, type=_month, metavar="YYYY-MM")
    em.add_argument("--wards", metavar="FILE", help="boundaries whose union is the study area")
    em.add_argument(
        "--area-share",
        action="append",
        type=float,
        metavar="SHARE",
        help="share of the study area to score at (repeatable; default 0.01 0.03 0.05)",
    )
    em.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    em.add_argument("--crs", metavar="CRS", help="CRS of x/y columns in a plain CSV")
    em.add_argument("--out", required=True, metavar="DIR", help="folder for forecast.csv")
    em.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    em.set_defaults(func=_evaluate_map)

    from .cli_methods import add_method_commands

    add_method_commands(sub)
    return parser


def _is_synthetic(incidents: Any) -> bool:
    """Whether the incidents are the synthetic demo (its "Reported by" column says so)."""
    if "Reported by" not in incidents.columns:
        return False
    return any("synthetic" in str(s).lower() for s in incidents["Reported by"].unique())


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out}: is a file, not a folder; give a folder path.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"--out {out}: cannot create the folder ({exc.strerror}).") from None
    return out


def _evaluate_pilot(args: argparse.Namespace) -> int:
    from geodata.layers import load_patrol_areas, load_wards

    from .evaluate import evaluate_pilot
    from .export import write_summary, write_table_csv
    from .incidents import read_incidents
    from .report.pilot_page import write_pilot_report

    if args.start > args.end:
        raise ParameterError(
            f"--start {args.start} is after --end {args.end}; give the earlier month first."
        )
    incidents, report = read_incidents(args.inputs, crs=args.crs)
    for line in report.lines():
        log.info("%s", line)
    target, _ = load_patrol_areas(args.target, incidents=incidents)
    control = load_patrol_areas(args.control, incidents=incidents)[0] if args.control else None
    study = None
    if args.study_area:
        study, warnings = load_wards(args.study_area, incidents=incidents)
        for w in warnings:
            log.warning("%s", w)
    try:
        result = evaluate_pilot(
            incidents,
            target=target,
            start=args.start,
            end=args.end,
            buffer_m=args.buffer,
            control=control,
            categories=args.crime_type,
            study_area=study,
            variance_inflation=args.variance_inflation,
        )
    except ParameterError as exc:
        if "variance_inflation" in str(exc):
            raise ParameterError(
                f"--variance-inflation {args.variance_inflation!r}: give auto or a number > 0 "
                "(1 = Poisson), e.g. --variance-inflation auto."
            ) from None
        raise
    out = _out_dir(args.out)
    write_summary(
        {"inputs": list(report.inputs), "rows_read": report.rows_read, **result.to_dict()},
        out / "pilot.json",
    )
    write_table_csv(result.monthly, out / "pilot_monthly.csv")
    write_pilot_report(
        result,
        out / "pilot.html",
        area_name=_area_name(target, args.target),
        wards=study,
        synthetic=_is_synthetic(incidents),
    )
    if not args.quiet:
        for sentence in result.summary():
            print(sentence)
    return 0


def _area_name(areas: Any, path: str) -> str:
    """The target's name: its patrol_area names when the file has them, else the file's stem."""
    names = [str(n) for n in areas.get("patrol_area", []) if str(n).strip()]
    if names and not all(n.startswith("Patrol area ") for n in names):  # not the fillers
        return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
    return Path(path).stem


def _evaluate_map(args: argparse.Namespace) -> int:
    from geodata.layers import load_wards

    from .evaluate import evaluate_forecast, forecast_maps
    from .export import write_table_csv
    from .incidents import filter_incidents, read_incidents

    if args.fit_to >= args.test_from:
        raise ParameterError(
            f"--test-from {args.test_from} must come after --fit-to {args.fit_to}: "
            "score a map on months it was not fitted on."
        )
    shares = args.area_share or [0.01, 0.03, 0.05]
    if not all(0 < a < 1 for a in shares):
        raise ParameterError("--area-share must be between 0 and 1, e.g. --area-share 0.05.")
    incidents, report = read_incidents(args.inputs, crs=args.crs)
    for line in report.lines():
        log.info("%s", line)
    fit = filter_incidents(
        incidents, None, start=args.fit_from, end=args.fit_to, categories=args.crime_type
    )
    test = filter_incidents(
        incidents, None, start=args.test_from, end=args.test_to, categories=args.crime_type
    )
    study: Any = None
    if args.wards:
        study, _ = load_wards(args.wards, incidents=incidents)
    log.info("Fitting maps on %s incidents ...", f"{len(fit):,}")
    maps = forecast_maps(fit, study_area=study)
    table = evaluate_forecast(fit, test, maps, study_area=study, area_shares=shares)
    out = _out_dir(args.out)
    write_table_csv(table, out / "forecast.csv")
    if not args.quiet:
        print(f"{'method':<8}{'share':>7}{'hit rate':>10}{'PAI':>7}{'RRI':>7}{'PEI':>7}")
        for row in table.itertuples():
            print(
                f"{row.method:<8}{row.area_share:>7.0%}{row.hit_rate:>10.3f}"
                f"{row.pai:>7.2f}{row.rri:>7.2f}{row.pei:>7.2f}"
            )
    return 0


def _download_cache() -> Path:
    """Downloads are cached as files beside the store (``$HOTSPOTS_CACHE`` overrides)."""
    from geodata.store import default_store_path

    explicit = os.environ.get("HOTSPOTS_CACHE", "").strip()
    return Path(explicit) if explicit else default_store_path().parent / "downloads"


def _progress(done: int, total: int, message: str) -> None:
    log.info("[%d/%d] %s", done, total, message)


def _fetch_police(args: argparse.Namespace) -> int:
    from geodata.fetch import POLICE_API, fetch_police, ward_boundary
    from geodata.layers import load_wards

    if args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if args.ward_code:
        if not args.wards:
            raise ParameterError(
                "--ward-code needs --wards FILE to find the ward in "
                "(e.g. from `hotspots fetch wards --lad CODE --out wards.gpkg`)."
            )
        wards, _ = load_wards(args.wards)
        boundary: Any = ward_boundary(wards, args.ward_code)
    else:
        from geodata.layers import load_patrol_areas

        boundary, _ = load_patrol_areas(args.boundary)
    result = fetch_police(
        boundary,
        start=args.start,
        end=args.end,
        out_dir=args.out,
        base_url=args.api or POLICE_API,
        cache_dir=_download_cache(),
        progress=_progress,
    )
    log.info(
        "%s crimes in %d files (%d duplicates removed, %d requests, %d resumed) in %s",
        f"{result.crimes:,}",
        len(result.files),
        result.duplicates,
        result.requests,
        result.skipped,
        result.out_dir,
    )
    log.info("next: hotspots analyse %s --out results/", result.out_dir)
    return 0


def _fetch_wards(args: argparse.Namespace) -> int:
    from geodata.fetch import ONS_WARDS_URL, fetch_wards

    wards = fetch_wards(
        args.lad,
        out_file=args.out,
        base_url=args.service or ONS_WARDS_URL,
        cache_dir=_download_cache(),
        progress=_progress,
    )
    log.info("%d wards of %s written to %s", len(wards), args.lad, args.out)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    if args.start and args.end and args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if args.population and not args.wards:
        raise ParameterError("--population needs --wards (the population is per ward); add it.")
    if args.method == "dbscan" and args.min_cluster_size is not None:
        raise ParameterError("--min-cluster-size is for --method hdbscan; drop it or use hdbscan.")
    if args.method == "hdbscan" and args.eps is not None:
        raise ParameterError("--eps is for --method dbscan; hdbscan chooses its own distances.")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out}: is a file, not a folder; give a folder path.")


def _analyse(args: argparse.Namespace) -> int:
    from geodata.layers import load_patrol_areas, read_population

    from .export import (
        write_hotspots_csv,
        write_hotspots_geojson,
        write_incidents_csv,
        write_map_html,
        write_summary,
        write_table_csv,
    )
    from .find import find_hotspots
    from .mapping import make_map
    from .overlay import (
        coverage_share,
        outreach_streets,
        overlay_hotspots,
        patrol_coverage,
        uncovered_hotspots,
        ward_table,
    )

    _check_args(args)
    t0 = time.perf_counter()
    inputs = _read_inputs(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    patrols = population = None
    if wards is not None and args.population:
        population = read_population(args.population)
    if args.patrols:
        patrols, warnings = load_patrol_areas(
            args.patrols, layer=args.patrols_layer, incidents=incidents
        )
        for w in warnings:
            log.warning("%s", w)

    log.info("Finding hotspots in %s incidents ...", f"{len(incidents):,}")
    result = find_hotspots(
        incidents,
        eps=args.eps,
        min_samples=args.min_samples,
        method=args.method,
        min_cluster_size=args.min_cluster_size,
        study_area=wards,
        weighted=harm is not None,
    )
    for note in result.notes:
        log.info("%s", note)
    hotspots = result.hotspots
    if wards is not None or patrols is not None:
        hotspots = overlay_hotspots(
            hotspots,
            incidents,
            hotspot_ids=result.hotspot_ids,
            wards=wards,
            patrol_areas=patrols,
        )

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"--out {out}: cannot create the folder ({exc.strerror}).") from None
    tiles = None if args.tiles.lower() in ("none", "off", "") else args.tiles
    months = incidents["month"].dropna()
    period = {
        "from": months.min().strftime("%Y-%m") if len(months) else None,
        "to": months.max().strftime("%Y-%m") if len(months) else None,
    }
    synthetic = _is_synthetic(incidents)
    write_hotspots_geojson(hotspots, out / "hotspots.geojson")
    write_hotspots_csv(hotspots, out / "hotspots.csv")
    write_incidents_csv(incidents, out / "incidents.csv", hotspot_ids=result.hotspot_ids)
    layers: dict[str, Any] = {}
    if wards is not None:
        table = ward_table(
            incidents,
            wards,
            hotspots=hotspots,
            hotspot_ids=result.hotspot_ids,
            population=population,
        )
        write_table_csv(table, out / "wards.csv")
        layers["wards"] = {
            "file": args.wards,
            "n_wards": len(wards),
            "incidents_outside_wards": int(table.attrs.get("incidents_outside", 0)),
        }
        log.info(
            "%d wards; %s incidents outside them",
            len(wards),
            f"{layers['wards']['incidents_outside_wards']:,}",
        )
    if patrols is not None:
        coverage = patrol_coverage(
            incidents, patrols, hotspots=hotspots, hotspot_ids=result.hotspot_ids
        )
        write_table_csv(coverage, out / "patrols.csv")
        uncovered = uncovered_hotspots(
            hotspots, patrols, hotspot_ids=result.hotspot_ids, incidents=incidents
        )
        streets = outreach_streets(incidents, uncovered, hotspot_ids=result.hotspot_ids)
        write_table_csv(streets, out / "outreach.csv")
        share = coverage_share(incidents, patrols, hotspot_ids=result.hotspot_ids)
        layers["patrols"] = {
            "file": args.patrols,
            "n_patrol_areas": len(patrols),
            "share_of_hotspot_incidents_covered": round(float(share), 6),
            "uncovered_hotspots": list(uncovered["hotspot_id"]),
        }
        log.info(
            "%.0f%% of hotspot incidents fall inside a patrol area; not covered: %s",
            100 * share,
            ", ".join(uncovered["hotspot_id"]) or "none",
        )
    summary: dict[str, Any] = {
        "rows_read": report.rows_read,
        "rows_used": report.rows_used,
        "rows_dropped": dict(report.dropped),
        "n_hotspots": result.n_hotspots,
        "share_in_hotspots": round(result.share_in_hotspots, 6),
        "params": result.params(),
        "period": period,
        "inputs": list(report.inputs),
        "examples": {k: list(v) for k, v in report.examples.items()},
        "warnings": list(report.warnings),
        "notes": list(result.notes),
        "study_area_km2": round(result.study_area_km2, 6),
        **layers,
    }
    if harm is not None:
        summary["harm"] = harm
    write_summary(summary, out / "summary.json")
    m = make_map(
        hotspots,
        incidents,
        tiles=tiles,
        title=f"Hotspots {period['from']} to {period['to']}",
        synthetic=synthetic,
        wards=wards,
        patrol_areas=patrols,
    )
    write_map_html(m, out / "map.html")
    elapsed = time.perf_counter() - t0
    log.info(
        "%d hotspots holding %.0f%% of %s incidents; wrote %s in %.1f s",
        result.n_hotspots,
        100 * result.share_in_hotspots,
        f"{len(incidents):,}",
        out,
        elapsed,
    )
    if not args.quiet:
        _print_table(hotspots)
    return 0


@dataclass
class _Inputs:
    """What :func:`_read_inputs` read: filtered incidents and what came with them."""

    incidents: Any
    report: Any
    wards: Any
    harm: dict[str, Any] | None
    data_months: list[str]  # the months the data cover, before any filter


def _read_inputs(args: argparse.Namespace) -> _Inputs:
    """Read ``args.inputs``, filter them (--from/--to/--crime-type), load --wards, weight by harm.

    The commands that read incidents the same way share this: ``analyse`` and the method
    commands of :mod:`hotspots.cli_methods`.
    """
    from geodata.layers import load_wards

    from .incidents import filter_incidents, read_incidents

    log.info("Reading %s ...", ", ".join(args.inputs))
    incidents, report = read_incidents(args.inputs, crs=args.crs)
    for line in report.lines():
        log.info("%s", line)
    # a month with none of a filtered crime type is a zero for it, not a month missing
    data_months = sorted(incidents["month"].dropna().dt.strftime("%Y-%m").unique())
    incidents = filter_incidents(
        incidents, report, start=args.start, end=args.end, categories=args.crime_type
    )
    if len(incidents) == 0:
        raise InputError(
            "no incidents left to analyse after the filters "
            f"(--from {args.start or '-'}, --to {args.end or '-'}, "
            f"--crime-type {', '.join(args.crime_type or ['all'])}); widen them."
        )
    wards = None
    if args.wards:
        wards, warnings = load_wards(args.wards, layer=args.wards_layer, incidents=incidents)
        for w in warnings:
            log.warning("%s", w)
    harm = None
    if args.harm or args.harm_weights:
        incidents, harm = _harm(incidents, args.harm_weights)
    return _Inputs(incidents, report, wards, harm, data_months)


def _harm(incidents: Any, path: str | None) -> tuple[Any, dict[str, Any]]:
    """Incidents weighted by harm, and what summary.json says of the weights."""
    from .harm import HARM_SOURCE, apply_harm_weights, harm_weights

    table = harm_weights(path)
    weighted = apply_harm_weights(incidents, table)
    for warning in weighted.attrs.get("harm_warnings", []):
        log.warning("%s", warning)
    source = f"your table {path}" if path else HARM_SOURCE
    log.info("Weighting incidents by harm (%s)", source)
    info = {
        "source": source,
        "weights": table,
        "total_harm": round(float(weighted["weight"].sum()), 3),
        "warnings": list(weighted.attrs.get("harm_warnings", [])),
    }
    return weighted, info


def _print_table(hotspots: Any) -> None:
    if len(hotspots) == 0:
        print("No hotspots found: try a larger --eps or a smaller --min-samples.")
        return
    harm = "harm_share" in hotspots.columns
    harm_head = f"{'harm':>8}" if harm else ""
    print(f"{'id':<5}{'incidents':>10}{'share':>8}{harm_head}{'km2':>8}{'PAI':>7}  top streets")
    for row in hotspots.head(10).itertuples():
        streets = str(row.top_locations)[:60]
        harm_cell = f"{row.harm_share:>8.1%}" if harm else ""
        print(
            f"{row.hotspot_id:<5}{row.incidents:>10,}{row.share:>8.1%}{harm_cell}"
            f"{row.area_km2:>8.3f}{row.pai:>7.1f}  {streets}"
        )
    if len(hotspots) > 10:
        print(f"... and {len(hotspots) - 10} more in hotspots.csv")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotspots`` command; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (already reported)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    # Progress goes to stderr; the library's own log lines only with HOTSPOTS_DEBUG set.
    debug = bool(os.environ.get("HOTSPOTS_DEBUG"))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package = logging.getLogger("hotspots")
    package.handlers[:] = [handler]
    package.propagate = False
    package.setLevel(logging.DEBUG if debug else logging.WARNING)
    log.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"hotspots: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hotspots: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"hotspots: error:{where}: {exc.strerror or exc}; check the path and its permissions.",
            file=sys.stderr,
        )
        return 2
    except MemoryError:
        print(
            "hotspots: error: out of memory; analyse fewer months or a smaller area at a time.",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # a bug of ours: still one line, details on request
        if os.environ.get("HOTSPOTS_DEBUG"):
            raise
        print(
            f"hotspots: internal error: {type(exc).__name__}: {exc} "
            "(a bug; please report it, with HOTSPOTS_DEBUG=1 set to see the details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
