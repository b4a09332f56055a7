"""The ``hotspots kde``, ``gi``, ``change`` and ``emerging`` commands: the analysts' methods.

Each reads incidents like ``hotspots analyse`` (same inputs and filters, optional harm weights),
lays a grid over the study area (the union of ``--wards``, else the incidents' extent) or uses
the wards themselves (``--by-ward``), runs one method of :mod:`hotspots.density`,
:mod:`hotspots.significance` or :mod:`hotspots.change`, and writes a GeoJSON of the cells (for a
GIS), the same table as CSV (for a spreadsheet) and ``summary.json``; a few lines of result go
to stdout, progress and notes to stderr. Registered by :func:`add_method_commands`.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from .errors import ParameterError

__all__ = ["add_method_commands"]

log = logging.getLogger("hotspots.cli")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share of the area; give a number between 0 and 1, e.g. 0.05"
        ) from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a share of the area between 0 and 1, e.g. 0.05"
        )
    return value


def _month_range(text: str) -> tuple[str, str]:
    from .cli import _month

    first, sep, last = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a month range; write FIRST:LAST, e.g. 2024-01:2024-06"
        )
    first, last = _month(first.strip()), _month(last.strip())
    if first > last:
        raise argparse.ArgumentTypeError(f"{text!r}: the first month is after the last; swap them")
    return first, last


def _common(p: argparse.ArgumentParser, *, cells: bool = True, cell_default: float = 250) -> None:
    """Arguments every method command takes."""
    from .cli import _harm_arguments, _month, _positive_float

    p.add_argument("inputs", nargs="+", metavar="INPUT", help="incident files or folders")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the results into")
    p.add_argument("--from", dest="start", type=_month, metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="end", type=_month, metavar="YYYY-MM", help="last month")
    p.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    p.add_argument("--crs", metavar="CRS", help="CRS of x/y columns in a plain CSV")
    p.add_argument(
        "--wards",
        metavar="FILE",
        help="ward (or borough) boundaries: the study area the grid covers and is clipped to",
    )
    p.add_argument("--wards-layer", metavar="LAYER", help="layer of --wards to read, if several")
    _harm_arguments(p, "instead of counting each incident once")
    if cells:
        p.add_argument(
            "--cell-size",
            type=_positive_float("--cell-size", "--cell-size 250"),
            default=cell_default,
            metavar="METRES",
            help=f"side of a grid cell (default {cell_default:g})",
        )
        p.add_argument("--hex", action="store_true", help="hexagonal cells instead of squares")
        p.add_argument(
            "--by-ward", action="store_true", help="use the --wards polygons as the cells"
        )
    p.add_argument("--quiet", "-q", action="store_true", help="print only errors")


def _distance(p: argparse.ArgumentParser) -> None:
    from .cli import _positive_float

    p.add_argument(
        "--distance",
        type=_positive_float("--distance", "--distance 500"),
        metavar="METRES",
        help="neighbours: cells whose centres lie within this distance (default: touching cells)",
    )


def add_method_commands(sub: Any) -> None:
    """Add ``kde``, ``gi``, ``change`` and ``emerging`` to the ``hotspots`` subparsers."""
    from .cli import _positive_float, _positive_int

    raw = argparse.RawDescriptionHelpFormatter
    k = sub.add_parser(
        "kde",
        help="a smooth density surface (quartic kernel) and its densest cells",
        description="Kernel density (quartic kernel) of the incidents on a grid over the study "
        "area; writes every cell's density, the banded densest areas and the top cells.",
        epilog="example:\n  hotspots kde crimes.zip --wards wards.gpkg --out kde/\n\nwrites "
        "kde_cells.csv, kde_bands.geojson, kde_top_cells.geojson, summary.json",
        formatter_class=raw,
    )
    _common(k, cells=False)
    k.add_argument(
        "--cell-size",
        type=_positive_float("--cell-size", "--cell-size 50"),
        metavar="METRES",
        help="grid cell side (default: chosen from the study area, see summary.json)",
    )
    k.add_argument(
        "--bandwidth",
        type=_positive_float("--bandwidth", "--bandwidth 200"),
        metavar="METRES",
        help="kernel radius (default: chosen from the incidents' spread, see summary.json)",
    )
    k.add_argument("--hex", action="store_true", help="hexagonal cells instead of squares")
    k.add_argument(
        "--area-share",
        type=_share,
        default=0.05,
        metavar="SHARE",
        help="the top cells to list, as a share of the area (default 0.05: the densest 5%%)",
    )
    k.set_defaults(func=_kde)

    g = sub.add_parser(
        "gi",
        help="statistically significant hot and cold cells (Getis-Ord Gi*)",
        description="Getis-Ord Gi* of incident counts in grid cells (or wards): z-score, "
        "p-value with a false-discovery-rate correction, and a class such as 'hot 99%'.",
        epilog="example:\n  hotspots gi crimes.zip --wards wards.gpkg --cell-size 250 --out gi/\n"
        "\nwrites gi_cells.geojson, gi_cells.csv, summary.json",
        formatter_class=raw,
    )
    _common(g)
    _distance(g)
    g.add_argument(
        "--no-fdr", action="store_true", help="plain p-values, no false-discovery-rate correction"
    )
    g.set_defaults(func=_gi)

    c = sub.add_parser(
        "change",
        help="incidents per cell in two periods and the change between them",
        description="Count incidents per cell (grid or wards) in a before and an after period "
        "and the change, as counts and per month.",
        epilog="example:\n  hotspots change crimes.zip --before 2023-01:2023-06 --after "
        "2024-01:2024-06 --wards wards.gpkg --out change/\n\nwrites change_cells.geojson, "
        "change_cells.csv, summary.json",
        formatter_class=raw,
    )
    _common(c)
    c.add_argument("--before", required=True, type=_month_range, metavar="FIRST:LAST")
    c.add_argument("--after", required=True, type=_month_range, metavar="FIRST:LAST")
    c.set_defaults(func=_change)

    e = sub.add_parser(
        "emerging",
        help="new, intensifying, persistent, diminishing ... hot spots over time",
        description="Gi* in each period of --period-months, then the Mann-Kendall trend of each "
        "cell's z-scores: the emerging hot spot patterns (new, consecutive, intensifying, "
        "persistent, diminishing, sporadic, oscillating, historical, no pattern).",
        epilog="example:\n  hotspots emerging crimes.zip --period-months 3 --wards wards.gpkg "
        "--out emerging/\n\nwrites emerging_cells.geojson, emerging_cells.csv, summary.json",
        formatter_class=raw,
    )
    _common(e)
    e.add_argument(
        "--period-months",
        type=_positive_int("--period-months", "--period-months 3"),
        default=3,
        metavar="N",
        help="months in each period (default 3)",
    )
    _distance(e)
    e.set_defaults(func=_emerging)


# --- shared steps ---------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Any:
    """The inputs read as ``hotspots analyse`` reads them, after this command's own checks."""
    from .cli import _read_inputs

    if args.start and args.end and args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if getattr(args, "by_ward", False) and not args.wards:
        raise ParameterError("--by-ward needs --wards (the wards are the cells); add it.")
    return _read_inputs(args)


def _cells(args: argparse.Namespace, incidents: Any, wards: Any) -> Any:
    """The cells: the wards (--by-ward) or a grid over the wards / the incidents' extent."""
    from .density import grid_cells

    if args.by_ward:
        return wards
    from .study_area import study_area

    study = study_area(incidents, boundary=wards).geometry
    shape: Literal["square", "hex"] = "hex" if args.hex else "square"
    cells = grid_cells(study, cell_size=float(args.cell_size), shape=shape, crs=incidents.crs)
    log.info("%s %s cells of %g m", f"{len(cells):,}", shape, args.cell_size)
    return cells


def _write(
    args: argparse.Namespace,
    report: Any,
    harm: dict[str, Any] | None,
    tables: dict[str, Any],
    summary: dict[str, Any],
) -> Path:
    """Each frame of ``tables`` as NAME.geojson and NAME.csv (or .csv only), and summary.json."""
    import pandas as pd

    from .cli import _out_dir
    from .export import write_hotspots_geojson, write_summary, write_table_csv

    out = _out_dir(args.out)
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


def _notes(notes: list[str]) -> list[str]:
    for note in notes:
        log.info("%s", note)
    return [str(n) for n in notes]


def _class_counts(values: Any, order: Any) -> dict[str, int]:
    counts = Counter(str(v) for v in values)
    return {str(k): int(counts.get(str(k), 0)) for k in order if counts.get(str(k), 0)}


def _print_counts(title: str, counts: dict[str, int], quiet: bool) -> None:
    if quiet:
        return
    print(title)
    for name, n in counts.items():
        print(f"  {name:<24}{n:>8,}")


# --- the commands ---------------------------------------------------------------------------


def _kde(args: argparse.Namespace) -> int:
    from .density import kde, kde_bands, kde_hotspot_cells

    inputs = _load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    result = kde(
        incidents,
        study_area=wards,
        cell_size=args.cell_size,
        bandwidth=args.bandwidth,
        shape="hex" if args.hex else "square",
        weights="weight" if harm is not None else None,
    )
    notes = _notes(result.notes)
    levels = sorted({0.01, 0.05, 0.1, args.area_share})
    bands = kde_bands(result, levels=levels)
    top = kde_hotspot_cells(result, area_share=args.area_share)
    captured = float(top["incidents"].sum()) / result.total if result.total > 0 else 0.0
    summary = {
        "method": "kde",
        "cell_size_m": result.cell_size,
        "bandwidth_m": result.bandwidth,
        "shape": result.shape,
        "weighted": result.weighted,
        "cells": len(result.cells),
        "study_area_km2": result.study_area_km2,
        "area_share": args.area_share,
        "top_cells": len(top),
        "top_cells_estimated_share": round(captured, 6),
        "suggestions": {k: s.reason for k, s in result.suggestions.items()},
        "notes": notes,
    }
    _write(
        args,
        report,
        harm,
        {"kde_cells.csv": result.cells, "kde_bands": bands, "kde_top_cells": top},
        summary,
    )
    if not args.quiet:
        what = "harm" if result.weighted else "incidents"
        print(
            f"KDE on {len(result.cells):,} {result.shape} cells of {result.cell_size:.0f} m, "
            f"bandwidth {result.bandwidth:.0f} m: the densest {args.area_share:.0%} of the area "
            f"({len(top):,} cells) holds about {captured:.0%} of the {what}."
        )
    return 0


def _gi(args: argparse.Namespace) -> int:
    from .significance import CLASSES, gi_star_cells

    inputs = _load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = _cells(args, incidents, wards)
    found = gi_star_cells(
        incidents,
        cells,
        distance=args.distance,
        weights="weight" if harm is not None else None,
        fdr=not args.no_fdr,
    )
    gi = found.cells
    notes = _notes(found.notes)
    counts = _class_counts(gi["hotspot_class"], CLASSES)
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
    _write(args, report, harm, {"gi_cells": gi}, summary)
    _print_counts(f"Gi* over {len(gi):,} cells:", counts, args.quiet)
    return 0


def _change(args: argparse.Namespace) -> int:
    from .change import compare_periods

    inputs = _load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = _cells(args, incidents, wards)
    compared = compare_periods(
        incidents,
        cells,
        before=args.before,
        after=args.after,
        weights="weight" if harm is not None else None,
        data_months=inputs.data_months,
    )
    table = compared.cells
    notes = _notes(compared.notes)
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
    _write(args, report, harm, {"change_cells": table}, summary)
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


def _emerging(args: argparse.Namespace) -> int:
    from .change import PATTERNS, emerging_hotspots

    inputs = _load(args)
    incidents, report, wards, harm = inputs.incidents, inputs.report, inputs.wards, inputs.harm
    cells = _cells(args, incidents, wards)
    emerging = emerging_hotspots(
        incidents,
        cells,
        period_months=args.period_months,
        distance=args.distance,
        weights="weight" if harm is not None else None,
        data_months=inputs.data_months,
    )
    table = emerging.cells
    notes = _notes(emerging.notes)
    counts = _class_counts(table["pattern"], PATTERNS)
    summary = {
        "method": "emerging",
        "period_months": args.period_months,
        "periods": [str(p) for p in emerging.periods],
        "cells": len(table),
        "patterns": counts,
        "notes": notes,
    }
    _write(args, report, harm, {"emerging_cells": table}, summary)
    _print_counts(
        f"Emerging hot spot patterns over {len(summary['periods'])} periods:", counts, args.quiet
    )
    return 0
