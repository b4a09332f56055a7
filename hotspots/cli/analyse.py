"""``hotspots analyse``: find hotspots in incident files, write tables, a map and a summary."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from .._text import item_texts, join_items, list_some
from ..errors import ParameterError
from .arguments import harm_arguments, month, positive_float, positive_int
from .inputs import is_synthetic, out_dir, read_inputs

__all__ = ["add_parser", "run"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines

_EPILOG = """\
examples:
  hotspots analyse 2019-*-city-of-london-street.csv --out out/
  hotspots analyse police-download.zip --from 2024-01 --to 2024-12 \\
      --crime-type "Violence and sexual offences" --crime-type "Possession of weapons" --out out/
  hotspots analyse incidents.csv --crs EPSG:27700 --eps 150 --min-samples 20 --out out/

writes into --out: hotspots.geojson, hotspots.gpkg (the exact outlines), hotspots.csv,
incidents.csv, outreach.csv (the busiest
streets of each hotspot; with --patrols, of the hotspots no patrol area covers),
outreach.html (printable outreach sheets of the 10 densest of those hotspots, a page each),
patrol_points.csv (the busiest map points of each hotspot, with positions), map.html,
summary.json, backtest.csv (with 4 or more months: how well hotspots found on the earlier months
caught the later months' crime, against last period's busiest map points and 50 m cells and
a KDE map), and with --wards /
--patrols also wards.csv and patrols.csv
"""


def add_parser(sub: Any) -> None:
    """Add ``analyse`` (alias ``analyze``) to the ``hotspots`` subparsers."""
    a = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        help="find hotspots in incident files and write tables, a map and a summary",
        description="Find hotspots in incident files and write tables, a map and a summary.",
        epilog=_EPILOG,
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
    _add_settings(a)
    a.add_argument("--from", dest="start", type=month, metavar="YYYY-MM", help="first month")
    a.add_argument("--to", dest="end", type=month, metavar="YYYY-MM", help="last month")
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
    harm_arguments(a, "and rank hotspots by harm instead of by count")
    a.add_argument(
        "--crs",
        metavar="CRS",
        help="coordinate system of x/y or easting/northing columns in a plain CSV, e.g. EPSG:27700",
    )
    a.add_argument("--layer", metavar="LAYER", help="layer of a GeoPackage to read, if several")
    a.add_argument(
        "--tiles",
        default="none",
        metavar="TILES",
        help="base map for map.html: none (the default: the map asks nothing of any server), "
        "OpenStreetMap, or a tile URL template such as https://tiles.example/{z}/{x}/{y}.png",
    )
    a.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    a.set_defaults(func=run)


def _add_settings(a: argparse.ArgumentParser) -> None:
    """The clustering settings' flags."""
    a.add_argument(
        "--eps",
        type=positive_float("--eps", "--eps 150"),
        metavar="METRES",
        help="how close (in metres) incidents must be to count as neighbours; "
        "suggested from the data when omitted",
    )
    a.add_argument(
        "--min-samples",
        type=positive_int("--min-samples", "--min-samples 15"),
        metavar="N",
        help="how many incidents within --eps make a dense spot; suggested when omitted",
    )
    a.add_argument(
        "--no-tune",
        dest="tune",
        action="store_false",
        help="suggest --eps and --min-samples from the map points' spacing instead of "
        "choosing them by back-testing on your own months (the default: the settings whose "
        "hotspots, found on the earlier months, caught most of the later months' crime in "
        "1-3%% of the area)",
    )
    a.add_argument(
        "--no-backtest",
        dest="backtest",
        action="store_false",
        help="skip the back-test of the hotspots on your own months (no backtest.csv; "
        "quicker for a city's years of data)",
    )
    a.add_argument(
        "--method",
        choices=["dbscan", "hdbscan"],
        default="dbscan",
        help="dbscan (default: one density everywhere) or hdbscan (lets density vary)",
    )
    a.add_argument(
        "--min-cluster-size",
        type=positive_int("--min-cluster-size", "--min-cluster-size 30"),
        metavar="N",
        help="hdbscan only: smallest hotspot in incidents (default: --min-samples)",
    )


def _check_args(args: argparse.Namespace) -> None:
    if args.start and args.end and args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if args.population and not args.wards:
        raise ParameterError("--population needs --wards (the population is per ward); add it.")
    for flag, needs in (("patrols_layer", "patrols"), ("wards_layer", "wards")):
        if getattr(args, flag, None) and not getattr(args, needs, None):
            raise ParameterError(
                f"--{flag.replace('_', '-')} needs --{needs} (it names a layer of that file); "
                f"add --{needs} FILE or drop it."
            )
    if args.method == "dbscan" and args.min_cluster_size is not None:
        raise ParameterError("--min-cluster-size is for --method hdbscan; drop it or use hdbscan.")
    if args.method == "hdbscan" and args.eps is not None:
        raise ParameterError("--eps is for --method dbscan; hdbscan chooses its own distances.")
    from ..basemap import check_tiles

    check_tiles(None if args.tiles.lower() in ("off", "") else args.tiles)  # before any work
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out}: is a file, not a folder; give a folder path.")


def run(args: argparse.Namespace) -> int:
    """``hotspots analyse``: read, analyse (:func:`hotspots.pipeline.analyse`), write; exit code."""
    from geodata.layers import load_patrol_areas, read_population

    from ..pipeline import analyse

    _check_args(args)
    t0 = time.perf_counter()
    inputs = read_inputs(args)
    incidents, wards = inputs.incidents, inputs.wards
    population = None
    if wards is not None and args.population:
        population = read_population(args.population)
    patrols = None
    if args.patrols:
        patrols, warnings = load_patrol_areas(
            args.patrols, layer=args.patrols_layer, incidents=incidents
        )
        for w in warnings:
            log.warning("%s", w)
    analysis = analyse(
        incidents,
        wards=wards,
        patrols=patrols,
        eps=args.eps,
        min_samples=args.min_samples,
        method=args.method,
        min_cluster_size=args.min_cluster_size,
        harm=inputs.harm,
        harm_source=inputs.harm_source,
        population=population,
        tune=args.tune,
        run_backtest=args.backtest,
    )
    _log_analysis(analysis)
    out = out_dir(args.out)
    _write(args, out, analysis, inputs.report)
    log.info(
        "%d hotspots holding %.0f%% of %s incidents; wrote %s in %.1f s",
        analysis.n_hotspots,
        100 * analysis.share_in_hotspots,
        f"{len(analysis.incidents):,}",
        out,
        time.perf_counter() - t0,
    )
    if not args.quiet:
        _print_table(analysis.hotspots)
        tuned = any(s.backtested for s in analysis.suggestions.values())
        _print_backtest(analysis.backtest, asked=args.backtest, chosen_here=tuned)
    return 0


def _print_backtest(result: Any, *, asked: bool = True, chosen_here: bool = False) -> None:
    """The back-test's sentence and its PAI table (hotspots, naive maps, KDE); why there is
    none (``asked``: False with --no-backtest)."""
    from ..backtest import SHARES
    from ..report.backtest_text import BACKTEST_TITLE, backtest_sentence

    if result is None:
        if not asked:
            print("No back-test: turned off with --no-backtest.")
        else:
            print("No back-test: fewer than 4 months of incidents.")
        return
    print(f"\n{BACKTEST_TITLE}\n{backtest_sentence(result, chosen_here=chosen_here)}")
    print(f"{'PAI at share of area':<26}" + "".join(f"{s:>7.0%}" for s in SHARES))
    for method in dict.fromkeys(result.table["method"]):
        cells = "".join(f"{result.mean(method, s):>7.1f}" for s in SHARES)
        print(f"{method:<26}{cells}")


def _log_analysis(analysis: Any) -> None:
    """The analysis's automatic choices, wards and patrol coverage, as progress lines."""
    for note in analysis.notes:
        log.info("%s", note)
    if analysis.wards is not None:
        log.info(
            "%d wards; %s incidents outside them",
            len(analysis.wards),
            f"{analysis.incidents_outside_wards:,}",
        )
    if analysis.uncovered is not None:
        log.info(
            "%.0f%% of hotspot incidents fall inside a patrol area; not covered: %s%s",
            100 * (analysis.patrol_share or 0.0),
            ", ".join(analysis.uncovered["hotspot_id"]) or "none",
            _partly_covered(analysis.hotspots),
        )


def _streets_within(items: Any, width: int) -> str:
    """The top streets with their counts, whole items only, within ``width`` characters
    ("…" when some are left out; a cut never halves a number).

    >>> _streets_within([("High Street", 1986), ("Parking Area near Harrowgate Avenue", 111)], 40)
    'High Street 1986 …'
    """
    if isinstance(items, str) or not items:
        return join_items(items)[:width]
    shown = ""
    for text in item_texts(items):
        joined = f"{shown}; {text}" if shown else text
        if len(joined) > width - 2:
            return f"{shown} …" if shown else f"{text[: width - 2]} …"
        shown = joined
    return shown


def _partly_covered(hotspots: Any) -> str:
    """ "; partly covered: H01 (64% inside), ..." (the first ten by rank), or ""."""
    cover = hotspots.get("patrol_coverage")
    if cover is None:
        return ""
    part = hotspots[(cover > 0) & (cover < 1)].sort_values("rank", kind="stable")
    named = [
        f"{h} ({c:.0%} inside)"
        for h, c in zip(part["hotspot_id"], part["patrol_coverage"], strict=True)
    ]
    return f"; partly covered: {list_some(named, 10)}" if named else ""


def _write(args: argparse.Namespace, out: Path, analysis: Any, report: Any) -> None:
    """Every file of ``hotspots analyse`` into ``out`` (:func:`hotspots.outputs.write_analysis`)."""
    from ..outputs import write_analysis

    write_analysis(
        analysis,
        out,
        report=report,
        files={"wards": args.wards, "patrols": args.patrols},
        tiles=None if args.tiles.lower() in ("none", "off", "") else args.tiles,
        synthetic=is_synthetic(analysis.incidents),
    )


def _print_table(hotspots: Any) -> None:
    if len(hotspots) == 0:
        print("No hotspots found: try a larger --eps or a smaller --min-samples.")
        return
    harm = "harm_share" in hotspots.columns
    harm_head = f"{'harm':>8}" if harm else ""
    print(f"{'id':<5}{'incidents':>10}{'share':>8}{harm_head}{'km2':>8}{'PAI':>7}  top streets")
    for row in hotspots.head(10).itertuples():
        streets = _streets_within(row.top_locations, 64)
        harm_cell = f"{row.harm_share:>8.1%}" if harm else ""
        print(
            f"{row.hotspot_id:<5}{row.incidents:>10,}{row.share:>8.1%}{harm_cell}"
            f"{row.area_km2:>8.3f}{row.pai:>7.1f}  {streets}"
        )
    if len(hotspots) > 10:
        print(f"... and {len(hotspots) - 10} more in hotspots.csv")
