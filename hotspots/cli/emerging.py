"""``hotspots emerging``: new, intensifying, persistent, diminishing ... hot spots over time."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import distance_argument, method_arguments, positive_int
from .cells import RAW, grid_options, load, log_notes, print_counts, write_outputs

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``emerging`` to the ``hotspots`` subparsers."""
    e = sub.add_parser(
        "emerging",
        help="new, intensifying, persistent, diminishing ... hot spots over time",
        description="Gi* in each period of --period-months, then the Mann-Kendall trend of each "
        "cell's z-scores: the emerging hot spot patterns (new, consecutive, intensifying, "
        "persistent, diminishing, sporadic, oscillating, historical, no pattern).",
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
    distance_argument(e)
    e.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots emerging``: emerging hot spot patterns per cell; exit code."""
    from ..methods import analyse_emerging

    inputs = load(args)
    found = analyse_emerging(
        inputs.incidents,
        period_months=args.period_months,
        distance=args.distance,
        data_months=inputs.data_months,
        **grid_options(args, inputs),
    )
    log_notes(found.notes)
    summary = found.summary()
    write_outputs(args, inputs.report, {"emerging_cells": found.cells}, summary)
    print_counts(
        f"Emerging hot spot patterns over {len(summary['periods'])} periods:",
        found.pattern_counts(),
        args.quiet,
    )
    return 0
