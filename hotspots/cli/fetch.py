"""``hotspots fetch police`` and ``hotspots fetch wards``: download official data.

Into the cache and with the service addresses of :class:`geodata.settings.Settings` (the same
cache as the dashboard's); ``--api`` and ``--service`` override the addresses.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..errors import InputError, ParameterError
from .arguments import Parser, month, positive_float

__all__ = ["add_parser", "run_police", "run_wards"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines

_T = TypeVar("_T")

# The fetchers' parameters, as each command's flags (None: a fixed setting of the command).
_POLICE_WORDS = {
    "base_url": "--api",
    "timeout": "--timeout",
    "deadline": "--deadline",
    "max_requests_per_second": None,
}
_WARDS_WORDS = {
    "base_url": "--service",
    "timeout": "--timeout",
    "deadline": "--deadline",
    "lad_field": "--lad-field",
    "code_field": "--code-field",
    "lad_code": "--lad",
}


def _in_flags(text: str, words: Mapping[str, str | None]) -> str:
    """A fetcher's message in the command's words: its parameters named by their flags.

    >>> _in_flags("check base_url, or give it, e.g. lad_field='LAD24CD'.", _WARDS_WORDS)
    'check --service, or give it, e.g. --lad-field LAD24CD.'
    >>> _in_flags("lower max_requests_per_second and run again", _POLICE_WORDS)
    'run again later'
    """
    text = text.replace("lower max_requests_per_second and run again", "run again later")
    for name, flag in words.items():
        if flag is None:
            continue
        text = re.sub(rf"\b{name}='([^']*)'", rf"{flag} \1", text)
        text = re.sub(rf"\b{name}=", flag, text)
        text = re.sub(rf"\b{name}\b", flag, text)
    return text


def _as_command(words: Mapping[str, str | None], call: Callable[[], _T]) -> _T:
    """``call()``, its errors re-raised in the command's words (:func:`_in_flags`)."""
    try:
        return call()
    except ParameterError as exc:
        raise ParameterError(_in_flags(str(exc), words)) from None
    except InputError as exc:
        raise type(exc)(_in_flags(str(exc), words)) from None


def _time_arguments(p: argparse.ArgumentParser) -> None:
    """--timeout and --deadline (defaults in :mod:`geodata.settings`)."""
    from geodata.settings import FETCH_DEADLINE, FETCH_TIMEOUT

    p.add_argument(
        "--timeout",
        type=positive_float("--timeout", "--timeout 60", unit="seconds"),
        default=FETCH_TIMEOUT,
        metavar="SECONDS",
        help=f"longest one request may take, to its last byte (default {FETCH_TIMEOUT:g})",
    )
    p.add_argument(
        "--deadline",
        type=positive_float("--deadline", "--deadline 3600", unit="seconds"),
        default=FETCH_DEADLINE,
        metavar="SECONDS",
        help="longest the whole download may take, waits and retries included (default "
        f"{FETCH_DEADLINE:g}); run again to resume",
    )


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
    _time_arguments(fp)
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
    fw.add_argument(
        "--lad-field",
        metavar="FIELD",
        help="the service's district code field (default LADyyCD, yy the year in its URL)",
    )
    fw.add_argument(
        "--code-field", metavar="FIELD", help="the service's ward code field (default WDyyCD)"
    )
    _time_arguments(fw)
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
    result = _as_command(
        _POLICE_WORDS,
        lambda: fetch_police(
            boundary,
            start=args.start,
            end=args.end,
            out_dir=args.out,
            base_url=args.api or settings.police_api,
            cache_dir=settings.cache_dir,
            progress=_progress,
            timeout=args.timeout,
            deadline=args.deadline,
        ),
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

    wards = _as_command(
        _WARDS_WORDS,
        lambda: fetch_wards(
            args.lad,
            out_file=args.out,
            base_url=args.service or settings.ons_wards_url,
            cache_dir=settings.cache_dir,
            progress=_progress,
            lad_field=args.lad_field,
            code_field=args.code_field,
            timeout=args.timeout,
            deadline=args.deadline,
        ),
    )
    log.info("%d wards of %s written to %s", len(wards), args.lad, args.out)
    return 0
