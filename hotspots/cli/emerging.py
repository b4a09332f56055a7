"""``hotspots emerging``: new, intensifying, persistent, diminishing ... hot spots over time."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import distance_argument, method_arguments, positive_int
from .cells import RAW, cells_for, class_counts, load, log_notes, print_counts, write_outputs

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
    from ..change import PATTERNS, emerging_hotspots

    inputs = load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = cells_for(args, incidents, wards)
    table = emerging_hotspots(
        incidents,
        cells,
        period_months=args.period_months,
        distance=args.distance,
        weights="weight" if harm is not None else None,
        data_months=inputs.data_months,
    )
    notes = log_notes(table)
    counts = class_counts(table["pattern"], PATTERNS)
    summary = {
        "method": "emerging",
        "period_months": args.period_months,
        "periods": [str(p) for p in table.attrs.get("periods", [])],
        "cells": len(table),
        "patterns": counts,
        "notes": notes,
    }
    write_outputs(args, report, harm, {"emerging_cells": table}, summary)
    print_counts(
        f"Emerging hot spot patterns over {len(summary['periods'])} periods:", counts, args.quiet
    )
    return 0
