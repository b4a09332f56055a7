"""``hotspots emerging``: new, intensifying, persistent, diminishing ... hot spots over time."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import distance_argument, method_arguments, positive_int
from .cells import RAW, grid_options, load, log_notes, write_outputs

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``emerging`` to the ``hotspots`` subparsers."""
    e = sub.add_parser(
        "emerging",
        help="new, intensifying, persistent, diminishing ... hot spots over time",
        description="Gi* in each period of --period-months, then the Mann-Kendall trend of each "
        "cell's z-scores: the emerging hot spot patterns (new, consecutive, intensifying, "
        "persistent, diminishing, sporadic, oscillating, historical, no pattern) by the "
        "definitions of ArcGIS Pro 3.x, each with the Mann-Kendall trend of its counts.",
        epilog="example:\n  hotspots emerging crimes.zip --period-months 3 --wards wards.gpkg "
        "--out emerging/\n\nwrites emerging_cells.geojson, emerging_cells.csv, summary.json",
        formatter_class=RAW,
    )
    method_arguments(e)
    e.add_argument(
        "--period-months",
        type=positive_int("--period-months", "--period-months 3"),
        default=3,
        metavar="N",
        help="months in each period (default 3)",
    )
    e.add_argument(
        "--window",
        choices=("entire", "each"),
        default="entire",
        help="compare each cell with every cell in every period ('entire', the whole "
        "space-time cube: ArcGIS's default) or with the cells of its own period only ('each')",
    )
    distance_argument(e)
    e.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots emerging``: emerging hot spot patterns per cell; exit code."""
    from ..methods import analyse_emerging
    from ..significance import LEFT_OUT

    inputs = load(args)
    found = analyse_emerging(
        inputs.incidents,
        period_months=args.period_months,
        distance=args.distance,
        data_months=inputs.data_months,
        window=args.window,
        **grid_options(args, inputs),
    )
    log_notes(found.notes)
    summary = found.summary()
    write_outputs(args, inputs.report, {"emerging_cells": found.cells}, summary)
    if args.quiet:
        return 0
    print(
        f"Emerging hot spot patterns over {len(summary['periods'])} periods (Gi* against "
        f"{'the whole space-time cube' if args.window == 'entire' else 'each period'}), with "
        "the Mann-Kendall trend of each pattern's counts (p <= 0.05):"
    )
    for name, n in found.pattern_counts().items():
        if name == LEFT_OUT:
            print(f"  {name:<24}{n:>8,}   (clipped edge cells: no Gi*)")
            continue
        t = summary["count_trends"][name]
        print(
            f"  {name:<24}{n:>8,}   counts rising in {t['rising']:,}, falling in "
            f"{t['falling']:,}, no clear trend in {t['no clear trend']:,}"
        )
    return 0
