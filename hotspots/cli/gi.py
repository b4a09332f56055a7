"""``hotspots gi``: statistically significant hot and cold cells (Getis-Ord Gi*)."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import distance_argument, method_arguments
from .cells import RAW, cells_for, class_counts, load, log_notes, print_counts, write_outputs

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``gi`` to the ``hotspots`` subparsers."""
    g = sub.add_parser(
        "gi",
        help="statistically significant hot and cold cells (Getis-Ord Gi*)",
        description="Getis-Ord Gi* of incident counts in grid cells (or wards): z-score, "
        "p-value with a false-discovery-rate correction, and a class such as 'hot 99%'.",
        epilog="example:\n  hotspots gi crimes.zip --wards wards.gpkg --cell-size 250 --out gi/\n"
        "\nwrites gi_cells.geojson, gi_cells.csv, summary.json",
        formatter_class=RAW,
    )
    method_arguments(g)
    distance_argument(g)
    g.add_argument(
        "--no-fdr", action="store_true", help="plain p-values, no false-discovery-rate correction"
    )
    g.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots gi``: Getis-Ord Gi* of counts in cells; exit code."""
    from ..significance import CLASSES, gi_star_cells

    inputs = load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = cells_for(args, incidents, wards)
    gi = gi_star_cells(
        incidents,
        cells,
        distance=args.distance,
        weights="weight" if harm is not None else None,
        fdr=not args.no_fdr,
    )
    notes = log_notes(gi)
    counts = class_counts(gi["hotspot_class"], CLASSES)
    summary = {
        "method": "gi*",
        "cells": len(gi),
        "cell_size_m": None if args.by_ward else args.cell_size,
        "units": "wards" if args.by_ward else ("hex" if args.hex else "square"),
        "distance_m": args.distance,
        "fdr": not args.no_fdr,
        "classes": counts,
        "notes": notes,
    }
    write_outputs(args, report, harm, {"gi_cells": gi}, summary)
    print_counts(f"Gi* over {len(gi):,} cells:", counts, args.quiet)
    return 0
