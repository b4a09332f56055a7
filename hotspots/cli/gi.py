"""``hotspots gi``: statistically significant hot and cold cells (Getis-Ord Gi*)."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import distance_argument, method_arguments
from .cells import RAW, grid_options, load, log_notes, print_counts, write_outputs

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
    g.add_argument(
        "--permutations",
        type=int,
        default=0,
        metavar="N",
        help="p-values from N conditional randomisations (e.g. 999; better for sparse counts) "
        "instead of the normal approximation (default 0)",
    )
    g.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots gi``: Getis-Ord Gi* of counts in cells; exit code."""
    from ..methods import analyse_gi

    inputs = load(args)
    found = analyse_gi(
        inputs.incidents,
        distance=args.distance,
        fdr=not args.no_fdr,
        permutations=args.permutations,
        **grid_options(args, inputs),
    )
    log_notes(found.notes)
    write_outputs(args, inputs.report, {"gi_cells": found.cells}, found.summary())
    print_counts(f"Gi* over {len(found.cells):,} cells:", found.class_counts(), args.quiet)
    if not args.quiet:
        for note in found.notes:
            if note.startswith("no cold spot can be found"):
                print(f"Note: {note}.")
    return 0
