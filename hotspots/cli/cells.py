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
    "MAX_COMMAND_CELLS",
    "RAW",
    "check_grid",
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


#: Most grid cells a command draws: beyond these it runs for minutes (measured on a 58 km2
#: borough: Gi* of 400,000 cells took 84 s, a change map of them 65 s).
MAX_COMMAND_CELLS = {"kde": 1_000_000, "gi": 200_000, "change": 200_000, "emerging": 100_000}


def check_grid(args: argparse.Namespace, inputs: Inputs) -> None:
    """Refuse a --cell-size whose grid is too fine for the command, before any work starts.

    The grid covers the wards (or the incidents, with a margin); the message says what cell
    size would fit.
    """
    import numpy as np

    from ..grid_size import check_grid_size

    if getattr(args, "by_ward", False) or args.command not in MAX_COMMAND_CELLS:
        return
    if args.cell_size is None:  # chosen by the method from the study area
        return
    if inputs.wards is not None:
        wards = inputs.wards
        if wards.crs != inputs.incidents.crs:
            wards = wards.to_crs(inputs.incidents.crs)
        bounds = wards.total_bounds
    else:  # the study area the grid covers: its rule, not a copy of it (far incidents out)
        from ..study_area import study_area

        bounds = np.asarray(study_area(inputs.incidents).geometry.bounds)
    check_grid_size(
        bounds,
        float(args.cell_size),
        shape="hex" if args.hex else "square",
        max_cells=MAX_COMMAND_CELLS[args.command],
        what=f"'hotspots {args.command}'",
    )


def grid_options(args: argparse.Namespace, inputs: Inputs) -> dict[str, Any]:
    """The options every grid method of :mod:`hotspots.methods` takes from the arguments.

    The grid's size is checked first (:func:`check_grid`).
    """
    check_grid(args, inputs)
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
