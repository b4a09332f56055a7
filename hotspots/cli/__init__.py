"""The ``hotspots`` command: one module a command, assembled here.

Exit 0 on success; exit 2 with one line on stderr that names the problem and the fix for any bad
input or argument (never a traceback); progress on stderr.

Each command module (:mod:`~hotspots.cli.analyse`, :mod:`~hotspots.cli.fetch`,
:mod:`~hotspots.cli.evaluate`, :mod:`~hotspots.cli.kde`, :mod:`~hotspots.cli.gi`,
:mod:`~hotspots.cli.change`, :mod:`~hotspots.cli.emerging`) adds its subparser with
``add_parser(sub)`` and runs it with ``run(args) -> int``; they share
:mod:`~hotspots.cli.arguments` (argument types and groups), :mod:`~hotspots.cli.inputs`
(reading incidents) and :mod:`~hotspots.cli.cells` (the method commands' steps).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import InputError, ParameterError
from . import analyse, change, emerging, evaluate, fetch, gi, kde
from .arguments import FLAGS, Parser, in_command_words

__all__ = ["main"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines

_DESCRIPTION = """\
Crime hotspots from anonymised street-level incident points.

Reads data.police.uk street CSVs (a file, a folder of monthly folders, or the downloaded .zip),
data.police.uk API JSON, or any CSV / GeoJSON / GeoPackage / Shapefile / GeoParquet of points;
clusters the incidents with DBSCAN (distances in metres) and writes ranked hotspots with their
statistics, a standalone map and a summary that accounts for every row read.
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="hotspots",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hotspots {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in (analyse, fetch, evaluate, kde, gi, change, emerging):
        command.add_parser(sub)
    return parser


def _flag_message(exc: ParameterError, args: argparse.Namespace) -> str:
    """The error in terms of the flag its library parameter (``exc.argument``) came from.

    >>> err = ParameterError("eps must be > 0; got -1.", argument="eps")
    >>> _flag_message(err, argparse.Namespace(eps=-1.0))
    '--eps -1.0: eps must be > 0; got -1.'
    >>> _flag_message(err, argparse.Namespace())  # a command without the flag: as it is
    'eps must be > 0; got -1.'
    >>> err = ParameterError("categories 'X': not a crime type.", argument="categories")
    >>> _flag_message(err, argparse.Namespace(crime_type=["X"]))
    "--crime-type 'X': not a crime type."
    """
    spec = FLAGS.get(exc.argument or "")
    value = getattr(args, spec[1], None) if spec is not None else None
    if spec is None or value is None:
        return str(exc)
    flag, _, fix = spec
    text = str(exc)
    named = re.match(rf"{re.escape(exc.argument or '')} ('[^']*'|[-+\d.eE]+)( m)?[: ]", text)
    if fix is None and named:  # "cell_size 4 m makes ..." names the value: say the flag
        return f"{flag} {text[len(exc.argument or '') + 1 :]}"
    return f"{flag} {value!r}: {fix or exc}"


#: Longest error line printed: a longer one (a list nobody cut) keeps its start and its fix.
_MAX_LINE = 400


def _one_line(text: str) -> str:
    r"""``text`` on one line of at most :data:`_MAX_LINE` characters, the middle cut if need be.

    >>> _one_line("a\nb"), len(_one_line("x" * 1000))
    ('a b', 400)
    """
    text = " ".join(text.split())
    if len(text) <= _MAX_LINE:
        return text
    return text[:250] + " [...] " + text[-(_MAX_LINE - 257) :]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotspots`` command; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (already reported)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    from geodata.settings import Settings

    # Progress goes to stderr; the library's own log lines only with HOTSPOTS_DEBUG set.
    debug = Settings.from_environment().debug
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package = logging.getLogger("hotspots")
    package.handlers[:] = [handler]
    package.propagate = False
    package.setLevel(logging.DEBUG if debug else logging.WARNING)
    log.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        return int(args.func(args))
    except ParameterError as exc:
        message = in_command_words(_flag_message(exc, args), args)
        print(f"hotspots: error: {_one_line(message)}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"hotspots: error: {_one_line(in_command_words(str(exc), args))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hotspots: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"hotspots: error:{where}: {exc.strerror or exc}; check the path and its permissions.",
            file=sys.stderr,
        )
        return 2
    except MemoryError:
        print(
            "hotspots: error: out of memory; analyse fewer months or a smaller area at a time "
            "(or a larger --cell-size).",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug of ours: still one line, details on request
        if debug:
            raise
        print(
            f"hotspots: internal error: {type(exc).__name__}: {exc} "
            "(a bug; please report it, with HOTSPOTS_DEBUG=1 set to see the details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
