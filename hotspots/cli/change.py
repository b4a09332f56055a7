"""``hotspots change``: incidents per cell in two periods and the change between them."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import method_arguments, month_range
from .cells import RAW, grid_options, load, log_notes, write_outputs

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``change`` to the ``hotspots`` subparsers."""
    c = sub.add_parser(
        "change",
        help="incidents per cell in two periods and the change between them",
        description="Count incidents per cell (grid or wards) in a before and an after period "
        "and the change, as counts and per month.",
        epilog="example:\n  hotspots change crimes.zip --before 2023-01:2023-06 --after "
        "2024-01:2024-06 --wards wards.gpkg --out change/\n\nwrites change_cells.geojson, "
        "change_cells.csv, summary.json",
        formatter_class=RAW,
    )
    method_arguments(c)
    c.add_argument("--before", required=True, type=month_range, metavar="FIRST:LAST")
    c.add_argument("--after", required=True, type=month_range, metavar="FIRST:LAST")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots change``: counts per cell in two periods and the change; exit code."""
    from ..methods import analyse_change

    inputs = load(args)
    found = analyse_change(
        inputs.incidents,
        before=args.before,
        after=args.after,
        data_months=inputs.data_months,
        **grid_options(args, inputs),
    )
    log_notes(found.notes)
    summary = found.summary()
    write_outputs(args, inputs.report, {"change_cells": found.cells}, summary)
    if not args.quiet:
        tested = (
            f"; beyond chance (exact 95% interval excluding no change) "
            f"{summary['cells_clearly_up']:,} rose and {summary['cells_clearly_down']:,} fell, "
            f"where chance alone would give about {0.05 * summary['cells_compared']:,.0f} of the "
            f"{summary['cells_compared']:,} cells with incidents"
            if inputs.harm is None
            else " (harm-weighted sums are not counts: no cell's change is tested)"
        )
        print(
            f"{summary['total_before']:,.0f} before ({args.before[0]} to {args.before[1]}), "
            f"{summary['total_after']:,.0f} after ({args.after[0]} to {args.after[1]}); per "
            f"month, {summary['cells_up']:,} cells rose and {summary['cells_down']:,} fell "
            f"({summary['cells_new']:,} had none before){tested}."
        )
        print(f"Over every cell, the monthly rate: {summary['change_total']}.")
        cells = found.cells
        label = "ward_name" if args.by_ward and "ward_name" in cells.columns else "cell_id"
        for row in found.rises().head(5).itertuples():
            print(
                f"  {getattr(row, label)!s:<24} {row.before_per_month:>8,.1f} -> "
                f"{row.after_per_month:,.1f} a month: {row.change_words}"
            )
    return 0
