"""``hotspots change``: incidents per cell in two periods and the change between them."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import method_arguments, month_range
from .cells import RAW, cells_for, load, log_notes, write_outputs

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
    from ..change import compare_periods

    inputs = load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = cells_for(args, incidents, wards)
    table = compare_periods(
        incidents,
        cells,
        before=args.before,
        after=args.after,
        weights="weight" if harm is not None else None,
        data_months=inputs.data_months,
    )
    notes = log_notes(table)
    before, after = float(table["before"].sum()), float(table["after"].sum())
    summary = {
        "method": "change",
        "before": list(args.before),
        "after": list(args.after),
        "cells": len(table),
        "total_before": before,
        "total_after": after,
        # rises and falls of the monthly rates: the counts mislead when the periods differ in
        # length or a period lacks months
        "cells_up": int((table["rate_change_pct"] > 0).sum()),
        "cells_down": int((table["rate_change_pct"] < 0).sum()),
        "cells_new": int(((table["before"] == 0) & (table["after"] > 0)).sum()),
        "notes": notes,
    }
    write_outputs(args, report, harm, {"change_cells": table}, summary)
    if not args.quiet:
        print(
            f"{before:,.0f} before ({args.before[0]} to {args.before[1]}), {after:,.0f} after "
            f"({args.after[0]} to {args.after[1]}); per month, {summary['cells_up']:,} cells "
            f"rose and {summary['cells_down']:,} fell ({summary['cells_new']:,} had none before)."
        )
        label = "ward_name" if args.by_ward and "ward_name" in table.columns else "cell_id"
        rises = table.assign(rise=table["after_per_month"] - table["before_per_month"]).sort_values(
            "rise", ascending=False
        )
        for row in rises.head(5).itertuples():
            if row.rise > 0:
                print(
                    f"  {getattr(row, label)!s:<24} {row.before_per_month:>8,.1f} -> "
                    f"{row.after_per_month:,.1f} a month"
                )
    return 0
