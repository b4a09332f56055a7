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

writes into --out: hotspots.geojson, hotspots.csv, incidents.csv, map.html, summary.json
"""

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def _positive_float(name: str, example: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number; give {name} in metres, e.g. {example}"
            ) from None
        if not (value > 0 and value < float("inf")):
            raise argparse.ArgumentTypeError(
                f"{text!r} must be a positive distance in metres, e.g. {example}"
            )
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
    return parser


def _check_args(args: argparse.Namespace) -> None:
    if args.start and args.end and args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if args.method == "dbscan" and args.min_cluster_size is not None:
        raise ParameterError("--min-cluster-size is for --method hdbscan; drop it or use hdbscan.")
    if args.method == "hdbscan" and args.eps is not None:
        raise ParameterError("--eps is for --method dbscan; hdbscan chooses its own distances.")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out}: is a file, not a folder; give a folder path.")


def _analyse(args: argparse.Namespace) -> int:
    from .export import (
        write_hotspots_csv,
        write_hotspots_geojson,
        write_incidents_csv,
        write_map_html,
        write_summary,
    )
    from .find import find_hotspots
    from .incidents import filter_incidents, read_incidents
    from .mapping import make_map

    _check_args(args)
    t0 = time.perf_counter()
    log.info("Reading %s ...", ", ".join(args.inputs))
    incidents, report = read_incidents(args.inputs, crs=args.crs)
    for line in report.lines():
        log.info("%s", line)
    incidents = filter_incidents(
        incidents, report, start=args.start, end=args.end, categories=args.crime_type
    )
    if len(incidents) == 0:
        raise InputError(
            "no incidents left to analyse after the filters "
            f"(--from {args.start or '-'}, --to {args.end or '-'}, "
            f"--crime-type {', '.join(args.crime_type or ['all'])}); widen them."
        )
    log.info("Finding hotspots in %s incidents ...", f"{len(incidents):,}")
    result = find_hotspots(
        incidents,
        eps=args.eps,
        min_samples=args.min_samples,
        method=args.method,
        min_cluster_size=args.min_cluster_size,
    )
    for note in result.notes:
        log.info("%s", note)

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
    synthetic = any("synthetic" in str(s).lower() for s in incidents.get("Reported by", []))
    write_hotspots_geojson(result.hotspots, out / "hotspots.geojson")
    write_hotspots_csv(result.hotspots, out / "hotspots.csv")
    write_incidents_csv(incidents, out / "incidents.csv", hotspot_ids=result.hotspot_ids)
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
    }
    write_summary(summary, out / "summary.json")
    m = make_map(
        result.hotspots,
        incidents,
        tiles=tiles,
        title=f"Hotspots {period['from']} to {period['to']}",
        synthetic=synthetic,
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
        _print_table(result.hotspots)
    return 0


def _print_table(hotspots: Any) -> None:
    if len(hotspots) == 0:
        print("No hotspots found: try a larger --eps or a smaller --min-samples.")
        return
    print(f"{'id':<5}{'incidents':>10}{'share':>8}{'km2':>8}{'PAI':>7}  top streets")
    for row in hotspots.head(10).itertuples():
        streets = str(row.top_locations)[:60]
        print(
            f"{row.hotspot_id:<5}{row.incidents:>10,}{row.share:>8.1%}"
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
