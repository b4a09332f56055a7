"""``hotspots fetch police`` and ``hotspots fetch wards``: download official data.

Into the cache and with the service addresses of :class:`geodata.settings.Settings` (the same
cache as the dashboard's); ``--api`` and ``--service`` override the addresses.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ..errors import ParameterError
from .arguments import Parser, month

__all__ = ["add_parser", "run_police", "run_wards"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines


def add_parser(sub: Any) -> None:
    """Add ``fetch`` (``police``, ``wards``) to the ``hotspots`` subparsers."""
    f = sub.add_parser(
        "fetch",
        help="download incidents from data.police.uk or ward boundaries from the ONS",
        description="Download official data: street-level crimes from the data.police.uk API, "
        "or ward boundaries from the ONS Open Geography Portal. Downloads are cached and an "
        "interrupted download resumes where it stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fsub = f.add_subparsers(dest="what", metavar="WHAT", parser_class=Parser, required=True)
    fp = fsub.add_parser(
        "police",
        help="street-level crimes for an area and months (data.police.uk API)",
        description="Download street-level crimes inside a boundary, month by month, from the "
        "data.police.uk API (crimes-street/all-crime), into a folder that "
        "`hotspots analyse` reads.",
        epilog="examples:\n"
        "  hotspots fetch police --boundary borough.gpkg --from 2024-01 --to 2024-12 --out wf/\n"
        "  hotspots fetch police --wards wards.gpkg --ward-code E05013901 "
        "--from 2024-01 --to 2024-03 --out ward/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    area = fp.add_mutually_exclusive_group(required=True)
    area.add_argument("--boundary", metavar="FILE", help="polygon file of the area (any CRS)")
    area.add_argument(
        "--ward-code", metavar="CODE", help="one ward of --wards, by its code (e.g. E05013901)"
    )
    fp.add_argument("--wards", metavar="FILE", help="ward boundaries to pick --ward-code from")
    fp.add_argument("--from", dest="start", type=month, required=True, metavar="YYYY-MM")
    fp.add_argument("--to", dest="end", type=month, required=True, metavar="YYYY-MM")
    fp.add_argument("--out", required=True, metavar="DIR", help="folder to write the crimes into")
    fp.add_argument(
        "--api", default=None, metavar="URL", help="data.police.uk API base URL (a proxy or mirror)"
    )
    fp.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    fp.set_defaults(func=run_police)

    fw = fsub.add_parser(
        "wards",
        help="official ward boundaries for a local authority (ONS Open Geography Portal)",
        description="Download the official ward boundaries of one local authority from the ONS "
        "Open Geography Portal and save them as a GeoPackage for --wards.",
        epilog="example:\n  hotspots fetch wards --lad E09000031 --out waltham-forest-wards.gpkg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fw.add_argument(
        "--lad", required=True, metavar="CODE", help="local authority code, e.g. E09000031"
    )
    fw.add_argument("--out", required=True, metavar="FILE", help="GeoPackage to write")
    fw.add_argument("--service", default=None, metavar="URL", help="ONS feature service URL")
    fw.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    fw.set_defaults(func=run_wards)


def _progress(done: int, total: int, message: str) -> None:
    log.info("[%d/%d] %s", done, total, message)


def run_police(args: argparse.Namespace) -> int:
    """``hotspots fetch police``: crimes inside a boundary from data.police.uk; exit code."""
    from geodata.fetch.police import fetch_police, ward_boundary
    from geodata.layers import load_wards
    from geodata.settings import Settings

    settings = Settings.from_environment()
    if args.start > args.end:
        raise ParameterError(
            f"--from {args.start} is after --to {args.end}; give the earlier month first."
        )
    if args.ward_code:
        if not args.wards:
            raise ParameterError(
                "--ward-code needs --wards FILE to find the ward in "
                "(e.g. from `hotspots fetch wards --lad CODE --out wards.gpkg`)."
            )
        wards, _ = load_wards(args.wards)
        boundary: Any = ward_boundary(wards, args.ward_code)
    else:
        from geodata.layers import load_patrol_areas

        boundary, _ = load_patrol_areas(args.boundary)
    result = fetch_police(
        boundary,
        start=args.start,
        end=args.end,
        out_dir=args.out,
        base_url=args.api or settings.police_api,
        cache_dir=settings.cache_dir,
        progress=_progress,
    )
    log.info(
        "%s crimes in %d files (%d duplicates removed, %d requests, %d resumed) in %s",
        f"{result.crimes:,}",
        len(result.files),
        result.duplicates,
        result.requests,
        result.skipped,
        result.out_dir,
    )
    log.info("next: hotspots analyse %s --out results/", result.out_dir)
    return 0


def run_wards(args: argparse.Namespace) -> int:
    """``hotspots fetch wards``: a district's ward boundaries from the ONS; exit code."""
    from geodata.fetch.ons import fetch_wards
    from geodata.settings import Settings

    settings = Settings.from_environment()

    wards = fetch_wards(
        args.lad,
        out_file=args.out,
        base_url=args.service or settings.ons_wards_url,
        cache_dir=settings.cache_dir,
        progress=_progress,
    )
    log.info("%d wards of %s written to %s", len(wards), args.lad, args.out)
    return 0
