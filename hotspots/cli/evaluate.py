"""``hotspots evaluate-pilot`` and ``hotspots evaluate-map``: did an operation work, and how well
did hotspot maps predict the next months."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .arguments import month, positive_float
from .inputs import is_synthetic, out_dir

__all__ = ["add_parser", "run_map", "run_pilot"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines


def _reading_arguments(p: argparse.ArgumentParser) -> None:
    """--crs and --layer: how to read the incident files."""
    p.add_argument("--crs", metavar="CRS", help="CRS of x/y columns in a plain CSV")
    p.add_argument("--layer", metavar="LAYER", help="layer of a GeoPackage to read, if several")


def add_parser(sub: Any) -> None:
    """Add ``evaluate-pilot`` and ``evaluate-map`` to the ``hotspots`` subparsers."""
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
    ep.add_argument("--start", required=True, type=month, metavar="YYYY-MM", help="first month")
    ep.add_argument("--end", required=True, type=month, metavar="YYYY-MM", help="last month")
    ep.add_argument(
        "--buffer",
        type=positive_float("--buffer", "--buffer 400", zero=True),
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
    ep.add_argument(
        "--placebos",
        type=int,
        default=99,
        metavar="N",
        help="placebo in space: rank the target's change among N copies of the target placed "
        "at random in the control area, and widen the interval by how much such places change "
        "on their own (default 99; 0 for none)",
    )
    ep.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    _reading_arguments(ep)
    ep.add_argument(
        "--out", required=True, metavar="DIR", help="folder for pilot.json, CSV and pilot.html"
    )
    ep.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    ep.set_defaults(func=run_pilot)

    em = sub.add_parser(
        "evaluate-map",
        help="how well hotspot maps of one period predicted the next (hit rate, PAI, PEI)",
        description="Fit hotspot maps (DBSCAN hotspots, KDE cells, Gi* cells) on months A and "
        "score them on later months B at equal shares of the study area, next to the naive "
        "maps of months A's counts per map point and per 50 m cell: hit rate, PAI (hit rate / "
        "area share), RRI and PEI (against the best map of equal area at the finest scale: "
        "months B's own busiest map points or 50 m cells).",
        epilog="example:\n  hotspots evaluate-map crimes/ --fit-from 2016-01 --fit-to 2016-12 "
        "--test-from 2017-01 --test-to 2017-06 --wards wards.gpkg --out forecast/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    em.add_argument("inputs", nargs="+", metavar="INPUT", help="incident files or folders")
    em.add_argument("--fit-from", required=True, type=month, metavar="YYYY-MM")
    em.add_argument("--fit-to", required=True, type=month, metavar="YYYY-MM")
    em.add_argument("--test-from", required=True, type=month, metavar="YYYY-MM")
    em.add_argument("--test-to", required=True, type=month, metavar="YYYY-MM")
    em.add_argument("--wards", metavar="FILE", help="boundaries whose union is the study area")
    em.add_argument(
        "--area-share",
        action="append",
        type=float,
        metavar="SHARE",
        help="share of the study area to score at (repeatable; default 0.01 0.03 0.05)",
    )
    em.add_argument(
        "--kde-bandwidth",
        type=_kde_bandwidth,
        default="auto",
        metavar="METRES|auto",
        help="KDE kernel radius; auto (default) back-tests 50, 100, 200 and 400 m on the fit "
        "months and keeps the one that predicted best",
    )
    em.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    _reading_arguments(em)
    em.add_argument(
        "--out", required=True, metavar="DIR", help="folder for forecast.csv and forecast.json"
    )
    em.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    em.set_defaults(func=run_map)


def run_pilot(args: argparse.Namespace) -> int:
    """``hotspots evaluate-pilot``: before/after in a target against a control; exit code."""
    from geodata.layers import load_patrol_areas, load_wards

    from ..export import write_summary, write_table_csv
    from ..io import read_incidents
    from ..pilot import evaluate_pilot
    from ..report.pilot_page import write_pilot_report
    from ..report.pilot_text import pilot_record, pilot_summary

    if args.start > args.end:
        raise ParameterError(
            f"--start {args.start} is after --end {args.end}; give the earlier month first."
        )
    incidents, report = read_incidents(args.inputs, crs=args.crs, layer=args.layer)
    for line in report.lines():
        log.info("%s", line)
    target, _ = load_patrol_areas(args.target, incidents=incidents)
    control = load_patrol_areas(args.control, incidents=incidents)[0] if args.control else None
    study = None
    if args.study_area:
        study, warnings = load_wards(args.study_area, incidents=incidents)
        for w in warnings:
            log.warning("%s", w)
    # a bad --variance-inflation comes back as ParameterError(argument="variance_inflation"),
    # which hotspots.cli.main words for the flag (arguments.FLAGS)
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
        placebos=args.placebos,
    )
    out = out_dir(args.out)
    write_summary(
        {**_accounting(report), **pilot_record(result)},
        out / "pilot.json",
    )
    write_table_csv(result.monthly, out / "pilot_monthly.csv")
    write_pilot_report(
        result,
        out / "pilot.html",
        area_name=_area_name(target, args.target),
        wards=study,
        synthetic=is_synthetic(incidents),
    )
    if not args.quiet:
        for sentence in pilot_summary(result):
            print(sentence)
    return 0


def _area_name(areas: Any, path: str) -> str:
    """The target's name: its patrol_area names when the file has them, else the file's stem."""
    names = [str(n) for n in areas.get("patrol_area", []) if str(n).strip()]
    if names and not all(n.startswith("Patrol area ") for n in names):  # not the fillers
        return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
    return Path(path).stem


def _kde_bandwidth(text: str) -> float | str:
    """An argument type for ``--kde-bandwidth``: ``auto`` or a distance in metres > 0.

    >>> _kde_bandwidth("auto"), _kde_bandwidth("150")
    ('auto', 150.0)
    """
    if text.strip().lower() == "auto":
        return "auto"
    return float(positive_float("--kde-bandwidth", "--kde-bandwidth 200 (or auto)")(text))


def _accounting(report: Any) -> dict[str, Any]:
    """What was read, as summary.json says it: every row read used or dropped by reason."""
    read = report.to_dict()
    keys = ("inputs", "rows_read", "rows_used", "rows_dropped", "empty_files", "warnings")
    return {key: read[key] for key in keys}


def _period(incidents: Any, start: str, end: str, types: Any, flags: str) -> Any:
    """The incidents of one period; an empty period named by this command's own flags
    (``--fit-from``/``--fit-to`` or ``--test-from``/``--test-to``, not ``--from``/``--to``)."""
    from ..filter import filter_incidents

    try:
        return filter_incidents(incidents, None, start=start, end=end, categories=types)
    except ParameterError as exc:
        if exc.argument not in ("start", "end"):
            raise
        text = re.sub(r"\bstart (\d{4}-\d{2})", rf"{flags}-from \1", str(exc))
        text = re.sub(r"\bend (\d{4}-\d{2})", rf"{flags}-to \1", text)
        raise ParameterError(text) from exc


def run_map(args: argparse.Namespace) -> int:
    """``hotspots evaluate-map``: score maps fitted on months A on months B; exit code."""
    from geodata.layers import load_wards

    from ..export import write_summary, write_table_csv
    from ..forecast import evaluate_forecast, forecast_maps
    from ..io import read_incidents
    from ..report.forecast_text import no_better_notes

    if args.fit_to >= args.test_from:
        raise ParameterError(
            f"--test-from {args.test_from} must come after --fit-to {args.fit_to}: "
            "score a map on months it was not fitted on."
        )
    shares = args.area_share or [0.01, 0.03, 0.05]
    if not all(0 < a < 1 for a in shares):
        raise ParameterError("--area-share must be between 0 and 1, e.g. --area-share 0.05.")
    incidents, report = read_incidents(args.inputs, crs=args.crs, layer=args.layer)
    for line in report.lines():
        log.info("%s", line)
    fit = _period(incidents, args.fit_from, args.fit_to, args.crime_type, "--fit")
    test = _period(incidents, args.test_from, args.test_to, args.crime_type, "--test")
    study: Any = None
    if args.wards:
        study, _ = load_wards(args.wards, incidents=incidents)
    log.info("Fitting maps on %s incidents ...", f"{len(fit):,}")
    maps = forecast_maps(fit, study_area=study, kde_bandwidth=args.kde_bandwidth)
    result = evaluate_forecast(fit, test, maps, study_area=study, area_shares=shares)
    table = result.table
    notes = [*result.notes, *no_better_notes(table)]
    out = out_dir(args.out)
    write_table_csv(table, out / "forecast.csv")
    write_summary(
        {
            **_accounting(report),
            "fit": [args.fit_from, args.fit_to],
            "test": [args.test_from, args.test_to],
            "kde_bandwidth_m": maps.kde_bandwidth,
            "notes": notes,
        },
        out / "forecast.json",
    )
    if not args.quiet:
        width = max(8, *(len(m) + 2 for m in table["method"]))
        print(f"{'method':<{width}}{'share':>7}{'hit rate':>10}{'PAI':>8}{'RRI':>7}{'PEI':>7}")
        for row in table.itertuples():
            print(
                f"{row.method:<{width}}{row.area_share:>7.0%}{row.hit_rate:>10.3f}"
                f"{row.pai:>8.2f}{row.rri:>7.2f}{row.pei:>7.2f}"
            )
        for note in notes:
            print(f"note: {note}")
    return 0
