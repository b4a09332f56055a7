"""The steps the method commands (``kde``, ``gi``, ``change``, ``emerging``) share.

Each reads incidents like ``hotspots analyse`` (same inputs and filters, optional harm weights),
lays a grid over the study area (the union of ``--wards``, else the incidents' extent) or uses
the wards themselves (``--by-ward``), runs one method of :mod:`hotspots.density`,
:mod:`hotspots.significance` or :mod:`hotspots.change`, and writes a GeoJSON of the cells (for a
GIS), the same table as CSV (for a spreadsheet) and ``summary.json``; a few lines of result go
to stdout, progress and notes to stderr.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from ..errors import ParameterError
from .inputs import Inputs, out_dir, read_inputs

__all__ = [
    "RAW",
    "cells_for",
    "class_counts",
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


def cells_for(args: argparse.Namespace, incidents: Any, wards: Any) -> Any:
    """The cells: the wards (--by-ward) or a grid over the wards / the incidents' extent."""
    from ..density import grid_cells

    if args.by_ward:
        return wards
    if wards is not None:
        study: Any = wards
    else:
        from ..find import _without_far_outliers, incident_xy
        from ..footprint import default_study_area

        # the incidents' hull, leaving out the few recorded far away (City of London: 219 km)
        xy = _without_far_outliers(incident_xy(incidents))
        study = default_study_area(xy, buffer_m=float(args.cell_size) / 2)
    shape: Literal["square", "hex"] = "hex" if args.hex else "square"
    cells = grid_cells(study, cell_size=float(args.cell_size), shape=shape, crs=incidents.crs)
    log.info("%s %s cells of %g m", f"{len(cells):,}", shape, args.cell_size)
    return cells


def write_outputs(
    args: argparse.Namespace,
    report: Any,
    harm: dict[str, Any] | None,
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
        **summary,
    }
    if harm is not None:
        full["harm"] = harm
    write_summary(full, out / "summary.json")
    log.info("wrote %s", out)
    return out


def log_notes(frame_or_notes: Any) -> list[str]:
    """Log a result's notes (a list, or a frame's ``attrs["notes"]``) and return them."""
    notes = frame_or_notes if isinstance(frame_or_notes, list) else frame_or_notes.attrs
    if isinstance(notes, dict):
        notes = notes.get("notes", [])
    for note in notes:
        log.info("%s", note)
    return [str(n) for n in notes]


def class_counts(values: Any, order: Any) -> dict[str, int]:
    """How many of ``values`` fall in each class of ``order`` (those with any), in that order.

    >>> class_counts(["hot 99%", "cold 95%", "hot 99%"], ["hot 99%", "hot 95%", "cold 95%"])
    {'hot 99%': 2, 'cold 95%': 1}
    """
    counts = Counter(str(v) for v in values)
    return {str(k): int(counts.get(str(k), 0)) for k in order if counts.get(str(k), 0)}


def print_counts(title: str, counts: dict[str, int], quiet: bool) -> None:
    """Print ``title`` and one line per class to stdout (nothing with ``quiet``)."""
    if quiet:
        return
    print(title)
    for name, n in counts.items():
        print(f"  {name:<24}{n:>8,}")
