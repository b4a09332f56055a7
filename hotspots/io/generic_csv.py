"""Generic tables: CSV text of any encoding and delimiter, with coordinates found by name.

:func:`read_csv_table` reads any CSV file (UTF-8 with or without BOM, UTF-16, Windows-1252;
``,`` ``;`` tab or ``|`` delimited) into text columns and says whether it is a data.police.uk
street CSV. :func:`read_generic_table` finds the longitude/latitude or x/y columns of any
other table by name (decimal commas accepted) and guesses the CRS of x/y columns that are
plainly British National Grid.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyproj

from .._text import first_line, list_some
from ..crs import fits_british_national_grid
from ..errors import InputFileError
from .parts import FloatArray, Part, build_part, find_column, one_source, to_float, wgs84_crs
from .police_csv import is_street_header, other_dataset_by_header
from .report import Notes
from .sources import Source

__all__ = [
    "MAX_COLUMNS",
    "MAX_HEADER_CHARS",
    "MAX_LINE_BYTES",
    "read_csv_table",
    "read_generic_table",
]

#: Most columns a CSV may have (a police.uk street CSV has 12).
MAX_COLUMNS = 2_000
#: Longest first (header) line of a CSV, in characters.
MAX_HEADER_CHARS = 100_000
#: Longest line of a CSV, in bytes (a street CSV's lines are ~300).
MAX_LINE_BYTES = 10_000_000
_SCAN_CHUNK = 1 << 26

# Column names accepted in generic files, compared as find_column does; first match wins.
_LON_NAMES = ("longitude", "lon", "lng", "long")
_LAT_NAMES = ("latitude", "lat")
_X_NAMES = ("x", "easting", "eastings", "east", "xcoord", "xcoordinate", "coordx", "pointx")
_Y_NAMES = ("y", "northing", "northings", "north", "ycoord", "ycoordinate", "coordy", "pointy")


def _decode(data: bytes, src: Source, notes: Notes) -> tuple[str, bytes]:
    """The text, and the same text as UTF-8 bytes without BOM (``data`` itself if it is)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return text, text.encode("utf-8")
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    notes.cp1252.append(src.display)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, text.encode("utf-8")


def _header_line(text: str) -> str:
    r"""The first non-blank line of ``text``, without copying the rest of it.

    >>> _header_line("\r\na,b\r\n1,2")
    'a,b\r'
    """
    start = 0
    while start < len(text) and text[start] in "\r\n":
        start += 1
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]


def _one_row_per_line(utf8: bytes, rows: int, block: int = 1 << 18) -> bool:
    """Whether every non-empty line of ``utf8`` is one row of the ``rows`` parsed (so no value
    holds a line break that the fast, line-splitting parse could have cut).

    Counted ``block`` bytes at a time (256 kB: the masks stay in the cache, and no array of
    line positions is made): the line breaks, and the empty lines as a break followed by a
    break, or by ``"\\r"`` and a break (runs of them counted whole); each block looks two
    bytes into the next for the breaks that start in it.
    """
    data = np.frombuffer(utf8, dtype=np.uint8)
    n = len(data)
    crlf = b"\r" in utf8
    breaks = empty = 0
    for start in range(0, n, block):
        end = min(start + block, n)
        k = end - start
        window = data[start : min(end + 2, n)]
        nl = window == 10
        breaks += int(np.count_nonzero(nl[:k]))
        pairs = min(k, len(window) - 1)  # a break at i < end followed by one at i + 1
        empty += int(np.count_nonzero(nl[:pairs] & nl[1 : pairs + 1]))
        if crlf:
            triples = min(k, len(window) - 2)
            empty += int(
                np.count_nonzero(
                    nl[:triples] & (window[1 : triples + 1] == 13) & nl[2 : triples + 2]
                )
            )
    lines = breaks + (0 if utf8.endswith(b"\n") else 1)
    empty += 1 if utf8[:1] in b"\r\n" else 0
    return rows + 1 == lines - empty


def _arrow_csv(text: str, utf8: bytes, sep: str) -> pa.Table | None:
    """:func:`_arrow_csv_lines`' table alone."""
    return _arrow_csv_lines(text, utf8, sep)[0]


def _arrow_csv_lines(text: str, utf8: bytes, sep: str) -> tuple[pa.Table | None, bool]:
    """Parse with pyarrow (several times faster than pandas into string columns), and
    whether it was parsed quote-aware (some value may hold a line break).

    The file is first cut at line breaks for both cores (pyarrow's fast mode); when a value
    might hold a line break (rows and lines disagree) it is parsed again quote-aware. A
    data.police.uk street CSV's ``Longitude`` and ``Latitude`` are parsed as numbers at once
    (pyarrow's parser, the one :func:`hotspots.io.parts.to_float` casts text with; empty
    -> NaN); when one is not a plain number the file is parsed again as text, which the
    lenient reading handles. None when the file needs pandas' leniency (ragged rows, repeated
    column names...).
    """
    try:
        header = next(csv.reader([_header_line(text)], delimiter=sep), [])
    except csv.Error:
        return None, False
    header = [h.rstrip("\r") if i == len(header) - 1 else h for i, h in enumerate(header)]
    if not header or len(set(header)) != len(header):
        return None, False
    numbers = _street_coordinates(header)
    table = None
    newlines = False
    for newlines in (False, True):
        table = _parsed(utf8, sep, header, newlines, numbers)
        if table is None and numbers:  # a coordinate that is not a plain number
            table = _parsed(utf8, sep, header, newlines, set())
        if table is None:
            continue
        if newlines or _one_row_per_line(utf8, table.num_rows):
            break
    if table is None:
        return None, False
    if table.column_names != header or not all(
        pa.types.is_large_string(t) or (name in numbers and pa.types.is_float64(t))
        for name, t in zip(header, table.schema.types, strict=True)
    ):
        return None, False
    return table, newlines


def _street_coordinates(header: list[str]) -> set[str]:
    """The coordinate columns of a data.police.uk street CSV's header (none for others)."""
    if not is_street_header({h.strip() for h in header}):
        return set()
    return {h for h in header if h.strip() in ("Longitude", "Latitude")}


def _parsed(
    utf8: bytes, sep: str, header: list[str], newlines: bool, numbers: set[str]
) -> pa.Table | None:
    """One pyarrow parse: the ``numbers`` columns as float64, the others as text; None when
    pyarrow cannot parse the file so."""
    try:
        return pacsv.read_csv(
            pa.py_buffer(utf8),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=newlines),
            convert_options=pacsv.ConvertOptions(
                # large_string: pandas' own text type, so no cast when the frame is built
                column_types={
                    name: pa.float64() if name in numbers else pa.large_string() for name in header
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[""],  # an empty coordinate; text columns are never null
            ),
        )
    except (pa.ArrowException, ValueError):
        return None


def _delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , ; tab |.

    >>> _delimiter("a;b;c"), _delimiter("a|b"), _delimiter("a")
    (';', '|', ',')
    """
    first = _header_line(text)
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _binary_at(data: bytes | str) -> int:
    r"""Where the first NUL byte (or character) is, -1 if none: text files hold none.

    >>> _binary_at(b"a,b\n1,2\n"), _binary_at(b"a,b\n\x00\x00")
    (-1, 4)
    """
    if isinstance(data, bytes):
        return data.find(b"\x00")
    return data.find("\x00")


def _check_text(data: bytes, text: str | None, src: Source) -> None:
    """Refuse binary data and a header too wide to parse, before any parsing."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    at = _binary_at(text if text is not None else data) if utf16 == (text is not None) else -1
    if at >= 0:
        raise InputFileError(
            f"{src.display}: holds binary data (a NUL byte at byte {at:,}), not CSV text; the "
            "file is damaged or of another kind: download it again."
        )
    if text is None:
        return
    end = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=len(text))
    columns = max(text.count(d, 0, end) for d in (",", ";", "\t", "|")) + 1
    if columns > MAX_COLUMNS:
        raise InputFileError(
            f"{src.display}: has {columns:,} columns, more than {MAX_COLUMNS:,}; keep the "
            "incident columns (coordinates, month, crime type) and save it again."
        )
    if end > MAX_HEADER_CHARS:
        raise InputFileError(
            f"{src.display}: the first line is {end:,} characters long, more than "
            f"{MAX_HEADER_CHARS:,}; this is not a table's header: check the file."
        )


def _longest_line(data: bytes) -> tuple[int, int]:
    r"""The length in bytes of the longest line of ``data`` and the line's number (from 1).

    Scanned in blocks with numpy (no copy of ``data``), so a long file costs milliseconds.

    >>> _longest_line(b"a,b\nlonger,line\nc")
    (11, 2)
    """
    view = np.frombuffer(data, dtype=np.uint8)
    best, best_line, last, lines = 0, 1, -1, 0
    for start in range(0, max(len(view), 1), _SCAN_CHUNK):
        ends = np.flatnonzero(view[start : start + _SCAN_CHUNK] == 10) + start
        if ends.size:
            gaps = np.diff(np.concatenate(([last], ends))) - 1
            k = int(np.argmax(gaps))
            if gaps[k] > best:
                best, best_line = int(gaps[k]), lines + k + 1
            lines += ends.size
            last = int(ends[-1])
    if len(view) - last - 1 > best:
        best, best_line = len(view) - last - 1, lines + 1
    return best, best_line


def _lines_within(data: bytes, limit: int) -> bool:
    r"""Whether no line of ``data`` is longer than ``limit`` bytes: a window of ``limit + 1``
    bytes from each line start must hold a line end (about ``len(data) / limit`` searches).

    >>> _lines_within(b"ab\nabc\n", 3), _lines_within(b"ab\nabcd\n", 3)
    (True, False)
    """
    start = 0
    while len(data) - start > limit:
        end = data.rfind(b"\n", start, start + limit + 1)
        if end < 0:
            return False
        start = end + 1
    return True


def _universal_newlines(text: str) -> str:
    r"""``text`` with lone carriage returns (old Mac line ends) as line feeds; others as they are.

    >>> _universal_newlines("a,b\r1,2\r"), _universal_newlines("a,b\r\n1,2\r\n")
    ('a,b\n1,2\n', 'a,b\r\n1,2\r\n')
    """
    if "\r" not in text or text.count("\r") == text.count("\r\n"):
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_lines(utf8: bytes, src: Source) -> None:
    """Refuse a line over :data:`MAX_LINE_BYTES` (a damaged file), before parsing."""
    if len(utf8) > MAX_LINE_BYTES and not _lines_within(utf8, MAX_LINE_BYTES):
        longest, line = _longest_line(utf8)
        if longest > MAX_LINE_BYTES:
            raise InputFileError(
                f"{src.display}: line {line:,} is {longest:,} bytes long, more than "
                f"{MAX_LINE_BYTES:,}; the file is damaged or not a table: check it."
            )


def _plain_utf8_table(data: bytes, src: Source) -> tuple[pa.Table | None, bool]:
    """The table of a plain UTF-8 file (no BOM, no lone carriage returns), parsed by pyarrow
    straight from the bytes, never decoded whole into text (a city's file is hundreds of MB);
    None when the file needs the general path."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None, False
    head = data[: 4 * MAX_HEADER_CHARS + 8]
    if b"\n" not in head.lstrip(b"\r\n"):  # a header this long: the general path says so
        return None, False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the prefix
            return None, False
        text = head[: exc.start].decode("utf-8")
    _check_text(data, text, src)
    _check_lines(data, src)
    return _arrow_csv_lines(text, data, _delimiter(text))


def _without_sep_line(data: bytes) -> bytes:
    r"""The file without the ``sep=;`` line Excel writes first to name its delimiter (the
    delimiter is then found in the header as in any file); a BOM before it is kept.

    >>> _without_sep_line(b"sep=;\r\nlon;lat\r\n"), _without_sep_line(b"lon,lat\n")
    (b'lon;lat\r\n', b'lon,lat\n')
    """
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    body = data[len(bom) :]
    if body[:4].lower() == b"sep=" and body[5:6] in (b"\r", b"\n") and b"\n" in body:
        return bom + body.split(b"\n", 1)[1]
    return data


def read_csv_table(src: Source, notes: Notes) -> tuple[bool, pd.DataFrame] | None:
    """The CSV as text columns, and whether it is a data.police.uk street CSV (None: skip).

    Binary data, a first line over :data:`MAX_HEADER_CHARS` characters or over
    :data:`MAX_COLUMNS` columns are refused before parsing; lines may end in ``\\n``,
    ``\\r\\n`` or ``\\r``.
    """
    data = _without_sep_line(src.read_bytes())
    size = len(data)
    if not data or data.isspace():
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        )
    _check_text(data, None, src)
    table, quote_aware = _plain_utf8_table(data, src)
    text, utf8 = "", data
    if table is None:  # another encoding, old Mac line ends, or pandas' leniency needed
        text, utf8 = _decode(data, src, notes)
        _check_text(data, text, src)
        fixed = _universal_newlines(text)
        if fixed is not text:
            text, utf8 = fixed, fixed.encode("utf-8")
        _check_lines(utf8, src)
    sep = _delimiter(text)
    try:
        if table is None:
            table, quote_aware = _arrow_csv_lines(text, utf8, sep)
        if table is not None:
            # the file's bytes go before the frame is built (a city's file: hundreds of MB),
            # and the table column by column as converted: the peak holds one copy, not three
            data = utf8 = b""
            text = ""
            df = table.to_pandas(split_blocks=True, self_destruct=True)
            del table
        else:
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False
            )
            quote_aware = True
    except pd.errors.EmptyDataError as exc:
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        ) from exc
    except MemoryError:
        raise InputFileError(
            f"{src.display}: not enough memory to parse its {size:,} bytes; read fewer or "
            "smaller files at a time."
        ) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise InputFileError(f"{src.display}: {_parse_error_words(exc, text)}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if quote_aware:
        _check_swallowed_rows(df, sep, src)
    header = set(df.columns)
    other = other_dataset_by_header(header)
    if other is not None:
        notes.skipped.setdefault(other, []).append(src.display)
        return None
    return is_street_header(header), df


def _check_swallowed_rows(df: pd.DataFrame, sep: str, src: Source) -> None:
    """Refuse a file where a stray quote made one value of many lines: a value holding a line
    break after which a line has as many delimiters as a row (the rows up to the closing
    quote, read as that value, would otherwise be lost without a word). A value with a line
    break of its own (an address on two lines) is kept."""
    row_like = max(1, (len(df.columns) - 1) // 2)  # delimiters on a line that looks like a row
    for name in df.columns:
        column = df[name]
        if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
            continue
        broken = column.astype(str).str.contains("\n", regex=False).to_numpy()
        for i in np.flatnonzero(broken).tolist():
            lines = str(column.iat[i]).split("\n")
            if any(line.count(sep) >= row_like for line in lines[1:]):  # rows taken in
                raise InputFileError(
                    f"{src.display}: row {int(i) + 2}, column '{name}': a quote (\") opens a "
                    f"value that runs over {len(lines)} lines, taking in the rows after it; "
                    "remove the stray quote or close it, and read the file again."
                )


def _parse_error_words(exc: BaseException, text: str) -> str:
    r"""What pandas' parse error means for the person with the file: a first line of one field
    above rows of several is a title, not the column names; else the line and the counts.

    >>> err = ValueError("Error tokenizing data. C error: Expected 1 fields in line 4, saw 2")
    >>> print(_parse_error_words(err, "Title\n\nlon,lat\n"))  # doctest: +NORMALIZE_WHITESPACE
    the first line ('Title') is not the column names but a title (line 4 has 2 fields); remove
    the lines above the column names.
    """
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found is None:
        return f"cannot be read as CSV ({first_line(exc)}); check the delimiter and quoting."
    expected, line, saw = (int(v) for v in found.groups())
    if expected == 1:
        title = _header_line(text)[:60]
        return (
            f"the first line ({title!r}) is not the column names but a title (line {line} "
            f"has {saw} fields); remove the lines above the column names."
        )
    return (
        f"line {line} has {saw} fields where the column names have {expected}; check the "
        "delimiter and quoting there."
    )


def _names_list() -> str:
    """The coordinate column names accepted, for error messages."""
    return (
        f"longitude/latitude ({', '.join(_LON_NAMES)} / {', '.join(_LAT_NAMES)}) or x/y "
        f"({', '.join(_X_NAMES[:3])} / {', '.join(_Y_NAMES[:3])}), any case"
    )


def read_generic_table(
    df: pd.DataFrame,
    src: Source,
    crs_arg: pyproj.CRS | None,
    notes: Notes,
    *,
    word: str,
    first_row: int,
) -> Part:
    """One part from a table with coordinate columns (a generic CSV or plain Parquet).

    Longitude/latitude columns are used unless x/y columns are there and ``crs_arg`` is
    given (or there is no longitude column); x/y without a CRS are read as British National
    Grid when they plainly are. Rows are numbered from ``first_row``, called ``word``.
    """
    n = len(df)
    sources = one_source(src.display, n)
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    columns = [str(c) for c in df.columns]
    lon = find_column(columns, _LON_NAMES, set())
    lat = find_column(columns, _LAT_NAMES, set())
    xc = find_column(columns, _X_NAMES, set())
    yc = find_column(columns, _Y_NAMES, set())
    use_xy = xc is not None and yc is not None and (crs_arg is not None or lon is None)
    if not use_xy and (lon is None or lat is None):
        found = list_some([repr(c[:40]) for c in columns], 8) or "none"
        half = lon or lat or xc or yc
        missing = f" (found {half!r} but not its partner)" if half else ""
        raise InputFileError(
            f"{src.display}: no coordinate columns{missing}; columns found: {found}; name "
            f"them {_names_list()}."
        )
    if use_xy:
        assert xc is not None and yc is not None
        xcol, ycol = xc, yc
        x, y = to_float(df[xc], metres=True), to_float(df[yc], metres=True)
        crs = crs_arg if crs_arg is not None else _guess_xy_crs(x, y, src, xc, yc, notes)
    else:
        assert lon is not None and lat is not None
        xcol, ycol = lon, lat
        x, y = to_float(df[lon]), to_float(df[lat])
        crs = wgs84_crs()
    return build_part(
        df.drop(columns=[xcol, ycol]),
        x,
        y,
        crs,
        sources=sources,
        rows=rows,
        name=src.display,
        word=word,
        repeat_ids_ok=False,
        notes=notes,
    )


def _guess_xy_crs(
    x: FloatArray, y: FloatArray, src: Source, xc: str, yc: str, notes: Notes
) -> pyproj.CRS:
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    vx, vy = x[ok], y[ok]
    if vx.size:
        if fits_british_national_grid(vx, vy):
            notes.lines.append(
                f"{src.display}: the columns {xc!r}/{yc!r} have no CRS given; their values are "
                "British National Grid eastings/northings, so they were read as EPSG:27700 "
                "(if they are not, say which coordinate system they are in)."
            )
            return pyproj.CRS.from_user_input("EPSG:27700")
        if np.all(np.abs(vx) <= 180) and np.all(np.abs(vy) <= 90):
            raise InputFileError(
                f"{src.display}: the columns {xc!r}/{yc!r} look like longitude/latitude but "
                "have no CRS; give crs='EPSG:4326' (--crs EPSG:4326), or rename them "
                "longitude/latitude."
            )
    raise InputFileError(
        f"{src.display}: the columns {xc!r}/{yc!r} hold coordinates in an unknown CRS; give "
        "their CRS, e.g. crs='EPSG:27700' (--crs EPSG:27700)."
    )
