"""Argument types and argument groups the ``hotspots`` commands share.

Each type checks one value and raises :class:`argparse.ArgumentTypeError` with a message that
names the flag and gives an example; :class:`Parser` prints it as one line and exits 2.
:data:`FLAGS` maps the library's parameter names (``ParameterError.argument``) to the flags.
"""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

from hotspots._validate import MONTH_PATTERN

__all__ = [
    "FLAGS",
    "Parser",
    "distance_argument",
    "harm_arguments",
    "in_command_words",
    "method_arguments",
    "month",
    "month_range",
    "positive_float",
    "positive_int",
    "share",
]

#: The flag for a library parameter named by ``ParameterError.argument``: (flag, its dest in
#: the parsed arguments, the fix to print; None: the library's own message).
FLAGS: dict[str, tuple[str, str, str | None]] = {
    "eps": ("--eps", "eps", None),
    "min_samples": ("--min-samples", "min_samples", None),
    "min_cluster_size": ("--min-cluster-size", "min_cluster_size", None),
    "cell_size": ("--cell-size", "cell_size", None),
    "bandwidth": ("--bandwidth", "bandwidth", None),
    "distance": ("--distance", "distance", None),
    "period_months": ("--period-months", "period_months", None),
    "window": ("--window", "window", None),
    "permutations": ("--permutations", "permutations", "give a whole number, e.g. 999."),
    "placebos": ("--placebos", "placebos", "give a whole number of placebo areas, e.g. 99."),
    "buffer_m": ("--buffer", "buffer", None),
    "start": ("--from", "start", None),
    "end": ("--to", "end", None),
    "crime_types": ("--crime-type", "crime_type", None),
    "categories": ("--crime-type", "crime_type", None),
    "tiles": ("--tiles", "tiles", None),
    "variance_inflation": (
        "--variance-inflation",
        "variance_inflation",
        "give auto or a number > 0 (1 = Poisson), e.g. --variance-inflation auto.",
    ),
}


# Library wording with no flag behind it, as a command-line user can act on it.
_PHRASES = (
    ("give code_column= and name_column=", "name the columns ward_code and ward_name"),
    ("give code_column= to use another column", "rename the column to use to ward_code"),
    ("give name_column= to use another column", "rename the column to use to name"),
    ("give crs= if that is wrong", "set the file's CRS if that is wrong"),
    ("give the right one with crs=", "set the right CRS in the file"),
    (" (max_archive_bytes); split it, or raise the limit if it really is data", "; split it"),
    ("; give code_column=.", "; name the column that holds the codes ward_code."),
    ("; drop them or read with read_incidents().", "; give files with a month or date column."),
    ("(if they are not, say which coordinate system they are in)", "(if not, give --crs)"),
    (
        "every month is missing from the data; choose months the data cover.",
        "every month is missing from the data or outside --from/--to; choose months within them.",
    ),
    ("split the data or raise the limit (max_archive_bytes)", "split the data"),
)


def _month_flag(args: argparse.Namespace, name: str) -> str:
    """The flag of the first or last month: ``--start``/``--end`` for evaluate-pilot,
    ``--from``/``--to`` elsewhere."""
    if getattr(args, "command", None) == "evaluate-pilot":
        return f"--{name}"
    return "--from" if name == "start" else "--to"


def in_command_words(text: str, args: argparse.Namespace) -> str:
    """A library message in the command's words: parameters named by this command's flags.

    Parameter names with an underscore (``cell_size``, ``period_months``) and ``name=`` forms
    become the flag when the command has it; ``crs='X' (--crs X)`` becomes ``--crs X``; a file's
    ``layer=`` becomes ``--wards-layer`` or ``--patrols-layer`` when the message is about
    that file.

    >>> args = argparse.Namespace(cell_size=4.0, period_months=None, crs=None)
    >>> in_command_words("use a larger cell_size; or e.g. crs='EPSG:1' (--crs EPSG:1).", args)
    'use a larger --cell-size; or e.g. --crs EPSG:1.'
    >>> in_command_words("x.gpkg: give the layer with layer= (e.g. layer='w').", args)
    'x.gpkg: give the layer with a layer name (e.g. w).'
    >>> args = argparse.Namespace(patrols="a/p.gpkg", patrols_layer=None, layer=None)
    >>> in_command_words("p.gpkg: choose it with layer= (e.g. layer='areas').", args)
    'p.gpkg: choose it with --patrols-layer (e.g. --patrols-layer areas).'
    """
    text = re.sub(r"\bcrs='([^']*)' \(--crs \1\)", r"--crs \1", text)
    if hasattr(args, "crs"):
        text = re.sub(r"^crs: ", "--crs ", text)
    for name in ("start", "end"):  # "start (2018-04)", "and end 2020-05": the month's flag
        if getattr(args, name, None) is not None:
            flag = _month_flag(args, name)
            text = re.sub(rf"(?<!-)\b{name} \(?(\d{{4}}-\d{{2}})\)?", rf"{flag} \1", text)
    for phrase, words in _PHRASES:
        text = text.replace(phrase, words)
    for name, (flag, dest, _) in FLAGS.items():
        if "_" in name and hasattr(args, dest):
            text = re.sub(rf"\b{name}=(?=\S)", f"{flag} ", text)
            text = re.sub(rf"\b{name}\b", flag, text)
    layer = None
    for source, flag in (("wards", "--wards-layer"), ("patrols", "--patrols-layer")):
        path = getattr(args, source, None)
        if (
            path
            and str(path).rsplit("/", 1)[-1] in text
            and hasattr(args, flag[2:].replace("-", "_"))
        ):
            layer = flag
            break
    if layer is None and hasattr(args, "layer"):
        layer = "--layer"
    text = re.sub(r"\blayer='([^']*)'", rf"{layer} \1" if layer else r"\1", text)
    text = re.sub(r"\blayer=", layer or "a layer name", text)
    return text


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def positive_float(name: str, example: str, *, zero: bool = False, unit: str = "metres") -> Any:
    """An argument type for a distance in metres (or another ``unit``, e.g. "seconds"): > 0
    (or >= 0 with ``zero``), finite.

    >>> positive_float("--eps", "--eps 150")("150")
    150.0
    >>> positive_float("--eps", "--eps 150")("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '-1' must be a positive distance in metres, e.g. --eps 150
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number; give {name} in {unit}, e.g. {example}"
            ) from None
        if not ((value > 0 or (zero and value == 0)) and value < float("inf")):
            kind = "distance" if unit == "metres" else "time"
            what = f"a {kind} in {unit}, 0 or more" if zero else f"a positive {kind} in {unit}"
            raise argparse.ArgumentTypeError(f"{text!r} must be {what}, e.g. {example}")
        return value

    return parse


def positive_int(name: str, example: str) -> Any:
    """An argument type for a whole number of at least 1.

    >>> positive_int("--min-samples", "--min-samples 15")("15")
    15
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; give {name}, e.g. {example}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least 1, e.g. {example}")
        return value

    return parse


def harm_arguments(p: argparse.ArgumentParser, effect: str) -> None:
    """--harm and --harm-weights, read by :func:`hotspots.cli.inputs.read_inputs`."""
    p.add_argument(
        "--harm",
        action="store_true",
        help="weight each incident by the harm of its crime type (built-in table, see README) "
        + effect,
    )
    p.add_argument(
        "--harm-weights",
        metavar="CSV",
        help="your own harm table (columns crime_type, weight; one row per data.police.uk "
        "crime type); implies --harm",
    )


def month(text: str) -> str:
    """An argument type for a month, ``YYYY-MM``.

    >>> month("2024-01")
    '2024-01'
    """
    if not MONTH_PATTERN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a month; write it as YYYY-MM, e.g. 2024-01"
        )
    return text


def share(text: str) -> float:
    """An argument type for a share of the area, in (0, 1].

    >>> share("0.05")
    0.05
    """
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


def month_range(text: str) -> tuple[str, str]:
    """An argument type for ``FIRST:LAST`` months.

    >>> month_range("2024-01:2024-06")
    ('2024-01', '2024-06')
    """
    first, sep, last = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a month range; write FIRST:LAST, e.g. 2024-01:2024-06"
        )
    first, last = month(first.strip()), month(last.strip())
    if first > last:
        raise argparse.ArgumentTypeError(f"{text!r}: the first month is after the last; swap them")
    return first, last


def method_arguments(
    p: argparse.ArgumentParser, *, cells: bool = True, cell_default: float = 250
) -> None:
    """Arguments every method command (kde, gi, change, emerging) takes."""

    p.add_argument("inputs", nargs="+", metavar="INPUT", help="incident files or folders")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the results into")
    p.add_argument("--from", dest="start", type=month, metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="end", type=month, metavar="YYYY-MM", help="last month")
    p.add_argument("--crime-type", action="append", metavar="TYPE", help="crime type (repeatable)")
    p.add_argument("--crs", metavar="CRS", help="CRS of x/y columns in a plain CSV")
    p.add_argument("--layer", metavar="LAYER", help="layer of a GeoPackage to read, if several")
    p.add_argument(
        "--wards",
        metavar="FILE",
        help="ward (or borough) boundaries: the study area the grid covers and is clipped to",
    )
    p.add_argument("--wards-layer", metavar="LAYER", help="layer of --wards to read, if several")
    harm_arguments(p, "instead of counting each incident once")
    if cells:
        p.add_argument(
            "--cell-size",
            type=positive_float("--cell-size", "--cell-size 250"),
            default=cell_default,
            metavar="METRES",
            help=f"side of a grid cell (default {cell_default:g})",
        )
        p.add_argument("--hex", action="store_true", help="hexagonal cells instead of squares")
        p.add_argument(
            "--by-ward", action="store_true", help="use the --wards polygons as the cells"
        )
    p.add_argument("--quiet", "-q", action="store_true", help="print only errors")


def distance_argument(p: argparse.ArgumentParser) -> None:
    """``--distance``: the neighbours of a cell (gi, emerging)."""
    p.add_argument(
        "--distance",
        type=positive_float("--distance", "--distance 500"),
        metavar="METRES",
        help="neighbours: cells whose centres lie within this distance (default: touching cells)",
    )
