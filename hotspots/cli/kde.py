"""``hotspots kde``: a smooth density surface (quartic kernel) and its densest cells."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import method_arguments, positive_float, share
from .cells import RAW, check_grid, load, log_notes, write_outputs

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``kde`` to the ``hotspots`` subparsers."""
    k = sub.add_parser(
        "kde",
        help="a smooth density surface (quartic kernel) and its densest cells",
        description="Kernel density (quartic kernel) of the incidents on a grid over the study "
        "area; writes every cell's density, the banded densest areas and the top cells.",
        epilog="example:\n  hotspots kde crimes.zip --wards wards.gpkg --out kde/\n\nwrites "
        "kde_cells.csv, kde_bands.geojson, kde_bands.csv, kde_top_cells.geojson,\n  "
        "kde_top_cells.csv, summary.json",
        formatter_class=RAW,
    )
    method_arguments(k, cells=False)
    k.add_argument(
        "--cell-size",
        type=positive_float("--cell-size", "--cell-size 50"),
        metavar="METRES",
        help="grid cell side (default: chosen from the study area, see summary.json)",
    )
    k.add_argument(
        "--bandwidth",
        type=positive_float("--bandwidth", "--bandwidth 200"),
        metavar="METRES",
        help="kernel radius (default: chosen from the incidents' spread, see summary.json)",
    )
    k.add_argument("--hex", action="store_true", help="hexagonal cells instead of squares")
    k.add_argument(
        "--area-share",
        type=share,
        default=0.05,
        metavar="SHARE",
        help="the top cells to list, as a share of the area (default 0.05: the densest 5%%)",
    )
    k.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``hotspots kde``: kernel density on a grid, its bands and top cells; exit code."""
    from ..methods import analyse_kde

    inputs = load(args)
    check_grid(args, inputs)
    found = analyse_kde(
        inputs.incidents,
        wards=inputs.wards,
        cell_size=args.cell_size,
        bandwidth=args.bandwidth,
        shape="hex" if args.hex else "square",
        area_share=args.area_share,
        harm=inputs.harm,
        harm_source=inputs.harm_source,
    )
    log_notes(found.notes)
    result = found.result
    tables = {"kde_cells.csv": result.cells, "kde_bands": found.bands, "kde_top_cells": found.top}
    write_outputs(args, inputs.report, tables, found.summary())
    if not args.quiet:
        what = "harm" if result.weighted else "incidents"
        print(
            f"KDE on {len(result.cells):,} {result.shape} cells of {result.cell_size:.0f} m, "
            f"bandwidth {result.bandwidth:.0f} m: its densest cells ({len(found.top):,}, "
            f"{found.top_area_share:.1%} of the study area; up to {args.area_share:.0%} asked) "
            f"hold {found.held:.0%} of the {what} (the smoothed surface estimated "
            f"{found.captured:.0%})."
        )
    return 0
