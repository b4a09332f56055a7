"""The steps the method commands (``kde``, ``gi``, ``change``, ``emerging``) share.

Each reads incidents like ``hotspots analyse`` (same inputs and filters, optional harm weights),
and runs one call of :mod:`hotspots.methods` (a grid over the one study area, or the wards
themselves with ``--by-ward``), and writes a GeoJSON of the cells (for a
GIS), the same table as CSV (for a spreadsheet) and ``summary.json``; a few lines of result go
to stdout, progress and notes to stderr.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .inputs import Inputs, out_dir, read_inputs

__all__ = [
    "RAW",
    "grid_options",
    "load",
    "log_notes",
    "print_counts",
    "write_outputs",
]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines

#: The help formatter of the method commands (keeps the examples' line breaks).
RAW = argparse.RawDescriptionHelpFormatter


def load(args: argparse.Namespace) -> Inputs:
    """The inputs read as ``hotspots analyse`` reads them, after this command's own checks."""
    if args.start and args.end and args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if getattr(args, "by_ward", False) and not args.wards:
        raise ParameterError("--by-ward needs --wards (the wards are the cells); add it.")
    return read_inputs(args)


def grid_options(args: argparse.Namespace, inputs: Inputs) -> dict[str, Any]:
    """The options every grid method of :mod:`hotspots.methods` takes from the arguments."""
    return {
        "wards": inputs.wards,
        "by_ward": args.by_ward,
        "cell_size": args.cell_size,
        "shape": "hex" if args.hex else "square",
        "harm": inputs.harm,
        "harm_source": inputs.harm_source,
    }


def write_outputs(
    args: argparse.Namespace,
    report: Any,
    tables: dict[str, Any],
    summary: dict[str, Any],
) -> Path:
    """Each frame of ``tables`` as NAME.geojson and NAME.csv (or .csv only), and summary.json."""
    import pandas as pd

    from ..export import write_hotspots_geojson, write_summary, write_table_csv

    out = out_dir(args.out)
    for name, frame in tables.items():
        if name.endswith(".csv"):
            write_table_csv(pd.DataFrame(frame.drop(columns=frame.geometry.name)), out / name)
            continue
        write_hotspots_geojson(frame, out / f"{name}.geojson")
        write_table_csv(pd.DataFrame(frame.drop(columns=frame.geometry.name)), out / f"{name}.csv")
    full = {
        "inputs": list(report.inputs),
        "rows_read": report.rows_read,
        "rows_used": report.rows_used,
        "rows_dropped": dict(report.dropped),
        "empty_files": list(report.empty_files),
        **summary,
    }
    write_summary(full, out / "summary.json")
    log.info("wrote %s", out)
    return out


def log_notes(notes: list[str]) -> list[str]:
    """Log a result's notes (progress on stderr) and return them."""
    for note in notes:
        log.info("%s", note)
    return [str(n) for n in notes]


def print_counts(title: str, counts: dict[str, int], quiet: bool) -> None:
    """Print ``title`` and one line per class to stdout (nothing with ``quiet``)."""
    if quiet:
        return
    print(title)
    for name, n in counts.items():
        print(f"  {name:<24}{n:>8,}")
