"""CSV text at Arrow's speed: a table's cells as ``DataFrame.to_csv`` writes them, made safe.

:func:`hotspots.export._write_csv` (the one CSV writer of the project) writes through here when
every column has a plain type (text, whole numbers, floats, booleans): each column becomes one
Arrow text array with :mod:`pyarrow.compute`, the rows are joined in Arrow and the joined
bytes are written as they are, chunk by chunk, so a million rows take about a second and
memory stays bounded. The text is the one pandas writes (``index=False``, LF line ends,
missing values as empty cells): the same
number formatting (``537500.0``, ``1e-05``), the same minimal quoting (a cell holding ``,``,
``"`` or a line feed is quoted, ``"`` doubled; the single empty cell of a one-column row is
``""``), and every text cell and column name passed through
:func:`hotspots.export.safe_cell` (a leading ``'`` for text a spreadsheet would run as a
formula), here vectorised. ``tests/test_export.py`` checks the bytes against ``to_csv``.

Categories (of text or of numbers) are written by code: each distinct value's text is made
once. Any other column type (dates, nullable floats, mixed objects) returns None from
:func:`csv_columns`, and the caller writes the table with pandas as before.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ._files import atomic_write
from ._threads import workers

__all__ = [
    "CHUNK_ROWS",
    "CsvColumn",
    "NumberCodes",
    "csv_columns",
    "safe_text",
    "write_csv_columns",
]

#: Rows joined and written at a time (bounded memory whatever the table's length).
CHUNK_ROWS = 200_000
#: From this many rows on, :func:`write_csv_columns` makes two chunks text at once.
PARALLEL_CSV_ROWS = 2 * CHUNK_ROWS
# What export.safe_cell treats as a formula's start, and as a plain number: the same rule in RE2
# (Python's \d is any Unicode decimal digit, and its $ also matches before a final line feed).
_RISKY = r"^[=+\-@\t\r]"
_NUMBER = r"^[-+]?(\p{Nd}+\.?\p{Nd}*|\.\p{Nd}+)([eE][-+]?\p{Nd}+)?\n?$"
# A cell the csv module quotes (QUOTE_MINIMAL, delimiter ",", line terminator "\n").
_NEEDS_QUOTES = '[,"\n]'
# What Arrow's writer refuses to write unquoted (quoting_style "none").
_STRUCTURAL = '[,"\n\r]'
_STRUCTURAL_BYTES = (b",", b'"', b"\n", b"\r")  # the same, byte by byte (:func:`_holds_any`)
_PLAIN = pa_csv.WriteOptions(include_header=False, quoting_style="none")
# Decimals of the fast float path (coordinates to 0.1 m in degrees, measures in metres).
_DECIMALS = 6
_SCALE = 10.0**_DECIMALS
# 10**8 ... 10**0: the place of each whole digit (below 1e9; the last 6: of each decimal).
_POWERS = np.array([10**p for p in range(8, -1, -1)], dtype=np.int32)


def _s(text: str) -> pa.Scalar:
    """``text`` as a large-string scalar (Arrow joins only text of one type)."""
    return pa.scalar(text, pa.large_string())


def safe_text(text: pa.Array) -> pa.Array:
    """Text cells with ``'`` before those a spreadsheet would run as a formula (nulls kept).

    The vectorised :func:`hotspots.export.safe_cell`: text starting with ``=`` ``+`` ``-``
    ``@``, a tab or a carriage return, unless it is a plain number.

    >>> safe_text(pa.array(["=1+2", "-0.5", "Hoe Street", None, "\\tx"])).to_pylist()
    ["'=1+2", '-0.5', 'Hoe Street', None, "'\\tx"]
    """
    text = pc.cast(text, pa.large_string())
    risky = pc.match_substring_regex(text, _RISKY)
    if not pc.any(risky).as_py():
        return text
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(text, _NUMBER)))
    return pc.if_else(risky, pc.binary_join_element_wise(_s("'"), text, _s("")), text)


def _exact_text(values: np.ndarray[Any, Any]) -> pa.Array:
    """Float64 values in any notation as numpy's ``astype(str)`` writes them; NaN as null.

    Arrow's shortest round-trip digits, with ``.0`` after whole numbers; the values Arrow would
    write in another notation (an exponent, or tiny values) are formatted by numpy itself.
    """
    text = pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    whole = pc.match_substring_regex(text, r"^-?\d+$")
    text = pc.if_else(whole, pc.binary_join_element_wise(text, _s(".0"), _s("")), text)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        odd = (magnitude < 1e-4) & (magnitude > 0)
    odd |= pc.fill_null(pc.match_substring(text, "e"), False).to_numpy(zero_copy_only=False)
    if odd.any():
        fixed = pa.array(values[odd].astype(str), type=pa.large_string())
        text = pc.replace_with_mask(text, pa.array(odd), fixed)
    return text


def _decimal_text(values: np.ndarray[Any, Any]) -> pa.Array:
    """Values with at most 6 decimals and below 1e9 (see :func:`_float_text`) as text.

    Digits by integer arithmetic into a fixed-width byte grid (sign, the widest whole part's
    digits, point, 6 decimals); each row keeps its span, from its first whole digit (or sign)
    to its last non-zero decimal (at least one).
    """
    n = len(values)
    scaled = np.abs(np.rint(values * _SCALE)).astype(np.int64)
    whole64, fraction64 = np.divmod(scaled, np.int64(_SCALE))
    whole, fraction = whole64.astype(np.int32), fraction64.astype(np.int32)
    digits = np.searchsorted(_POWERS[::-1][1:], whole, side="right") + 1
    width = int(digits.max()) if n else 1
    grid = np.empty((n, width + 2 + _DECIMALS), dtype=np.uint8)
    grid[:, 1 : 1 + width] = (whole[:, None] // _POWERS[-width:]) % 10 + 48
    grid[:, 1 + width] = ord(".")
    decimals = (fraction[:, None] // _POWERS[-_DECIMALS:]) % 10
    grid[:, 2 + width :] = decimals + 48
    first = 1 + width - digits
    negative = np.flatnonzero(values < 0)
    first[negative] -= 1
    grid[negative, first[negative]] = ord("-")
    nonzero = decimals[:, ::-1] != 0
    kept = np.where(nonzero.any(axis=1), _DECIMALS - nonzero.argmax(axis=1), 1)
    stop = 2 + width + kept
    keep = (np.arange(grid.shape[1]) >= first[:, None]) & (np.arange(grid.shape[1]) < stop[:, None])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(stop - first, out=offsets[1:])
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(grid[keep]))
    )


def _float_text(values: np.ndarray[Any, Any]) -> pa.Array:
    """Float64 values as numpy's ``astype(str)`` (what ``to_csv`` writes); NaN as null.

    A value that is the nearest double to a decimal with at most 6 decimals (coordinates,
    rounded measures) and of magnitude in [1e-4, 1e9) is written as that decimal, trailing
    zeros dropped: below 1e9 no shorter text rounds to the same double, so it is the shortest
    round-trip text numpy writes, and integer arithmetic makes it fast. Others go through
    :func:`_exact_text`.
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.abs(values)
        fast = (magnitude >= 1e-4) & (magnitude < 1e9)
        fast &= np.rint(values * _SCALE) / _SCALE == values
    fast |= (values == 0) & ~np.signbit(values)
    if fast.all():
        return _decimal_text(values)
    rest = ~fast & ~np.isnan(values)
    parts = [
        _decimal_text(values[fast]),
        _exact_text(values[rest]),
        pa.nulls(1, pa.large_string()),
    ]
    where = np.full(len(values), len(parts[0]) + len(parts[1]), dtype=np.int64)
    where[fast] = np.arange(len(parts[0]))
    where[rest] = len(parts[0]) + np.arange(len(parts[1]))
    return pa.concat_arrays(parts).take(pa.array(where))


def _text_values(series: pd.Series) -> pa.Array | None:
    """A text column as Arrow text (nulls for missing), or None when it holds other values."""
    if isinstance(series.dtype, pd.StringDtype) or (
        isinstance(series.dtype, pd.ArrowDtype)
        and (
            pa.types.is_string(series.dtype.pyarrow_dtype)
            or pa.types.is_large_string(series.dtype.pyarrow_dtype)
        )
    ):
        arr: Any = pa.array(series)
    elif isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        names = (
            _text_values(pd.Series(categories))
            if len(categories)
            else pa.array([], type=pa.large_string())
        )
        if names is None:
            return None
        codes = series.cat.codes.to_numpy()
        # each name formatted once; the rows' text made a chunk at a time, when written
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), names)
    elif series.dtype == object:
        try:
            arr = pa.array(series.to_numpy(), type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.cast(arr, pa.large_string())


@dataclass(frozen=True)
class NumberCodes:
    """A column of numbers as each row's code into its distinct values (-1: missing), each
    value's text made once: categories of numbers, as a city's coordinates are written
    (3M rows on 125k map points)."""

    codes: np.ndarray[Any, Any]
    text: pa.Array

    def __len__(self) -> int:
        return len(self.codes)


#: A column ready for :func:`write_csv_columns`: Arrow text (made formula-safe when written),
#: numbers (float64, integers or booleans, formatted when written), or numbers by code.
CsvColumn: TypeAlias = pa.Array | np.ndarray[Any, Any] | NumberCodes


def _is_number(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and (dtype == np.float64 or dtype.kind in "iub")


def _column_source(series: pd.Series) -> CsvColumn | None:
    """One column as Arrow text, a numpy array of numbers or numbers by code; None for
    another type."""
    dtype = series.dtype
    if _is_number(dtype):
        return series.to_numpy()
    if isinstance(dtype, pd.CategoricalDtype) and _is_number(dtype.categories.dtype):
        values = dtype.categories.to_numpy()
        return NumberCodes(series.cat.codes.to_numpy(), _cells(values, 0, len(values)))
    return _text_values(series)


def _cells(column: CsvColumn, start: int, stop: int) -> pa.Array:
    """Rows ``start:stop`` of a column as the text of its cells (nulls: empty)."""
    if isinstance(column, NumberCodes):
        codes = column.codes[start:stop]
        return column.text.take(pa.array(codes, mask=codes < 0))
    if isinstance(column, np.ndarray):
        values = column[start:stop]
        if values.dtype == np.float64:
            return _float_text(values)
        if values.dtype.kind == "b":
            return pa.array(np.where(values, "True", "False"), type=pa.large_string())
        return pc.cast(pa.array(values), pa.large_string())
    return safe_text(column.slice(start, stop - start))


def csv_columns(columns: Sequence[pd.Series]) -> list[CsvColumn] | None:
    """Every column ready to write (:data:`CsvColumn`); None when there is no column, or when
    a column's type is not one this module formats exactly as ``to_csv`` does."""
    if not columns:
        return None
    out = []
    for series in columns:
        source = _column_source(series)
        if source is None:
            return None
        out.append(source)
    return out


def _holds_any(text: pa.Array, chars: tuple[bytes, ...]) -> bool:
    """Whether a cell of ``text`` holds one of the bytes ``chars``: the text's bytes searched
    whole, a byte at a time at ``memchr``'s speed (not a regular expression per cell)."""
    if not len(text):
        return False
    text = text.cast(pa.large_string())
    _, offsets_buf, data = text.buffers()
    if data is None:
        return False
    offsets = np.frombuffer(offsets_buf, np.int64, count=len(text) + 1, offset=text.offset * 8)
    raw = bytes(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    return any(raw.find(c) >= 0 for c in chars)


def _quoted(text: pa.Array, alone: bool) -> tuple[pa.Array, bool]:
    """Cells as the csv module writes them (quoted when needed; nulls as empty cells), and
    whether they are plain: no cell quoted and none holding a carriage return."""
    if text.null_count:
        text = pc.fill_null(text, "")
    empty_row = alone and pc.any(pc.equal(pc.utf8_length(text), 0)).as_py()
    if not empty_row and not _holds_any(text, _STRUCTURAL_BYTES):
        return text, True  # (one column: an empty row is written "")
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if alone:
        needs = pc.or_(needs, pc.equal(pc.utf8_length(text), 0))
    quoted = pc.binary_join_element_wise(
        _s('"'), pc.replace_substring(text, '"', '""'), _s('"'), _s("")
    )
    return pc.if_else(needs, quoted, text), False


@dataclass(frozen=True)
class _WrittenCodes:
    """A column of text categories with each category's cell made once, as written
    (:func:`_quoted`): the rows' codes into ``cells`` (the last: a missing value's cell)
    and which cells are not plain (quoted, or holding a carriage return)."""

    codes: np.ndarray[Any, Any]
    cells: pa.Array
    unplain: np.ndarray[Any, Any]

    @classmethod
    def of(cls, column: pa.DictionaryArray, alone: bool) -> _WrittenCodes:
        names = pa.concat_arrays(
            [column.dictionary.cast(pa.large_string()), pa.nulls(1, pa.large_string())]
        )
        safe = pc.fill_null(safe_text(names), "")
        cells = _quoted(safe, alone)[0]
        unplain = pc.match_substring_regex(safe, _STRUCTURAL)
        if alone:
            unplain = pc.or_(unplain, pc.equal(pc.utf8_length(safe), 0))
        codes = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False)
        codes = np.where(codes < 0, len(names) - 1, codes).astype(np.int64)
        return cls(codes, cells, unplain.to_numpy(zero_copy_only=False))


def _written(
    column: CsvColumn | _WrittenCodes, start: int, stop: int, alone: bool
) -> tuple[pa.Array, bool]:
    """Rows ``start:stop`` of a column as written (:func:`_quoted`); numbers never hold a
    comma, a quote or a line end."""
    if isinstance(column, _WrittenCodes):
        codes = column.codes[start:stop]
        return column.cells.take(pa.array(codes)), not column.unplain[codes].any()
    cells = _cells(column, start, stop)
    if isinstance(column, np.ndarray | NumberCodes) and not alone:
        return pc.fill_null(cells, ""), True
    return _quoted(cells, alone)


def _joined_bytes(rows: pa.Array) -> memoryview:
    """The concatenated text of a (large) string array, without copying it into Python."""
    rows = rows.cast(pa.large_string())
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    start, end = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return memoryview(rows.buffers()[2])[int(start) : int(end)]


def write_csv_columns(
    names: Sequence[str], columns: Sequence[CsvColumn], path: str | os.PathLike[str]
) -> None:
    """Write the header ``names`` (already formula-safe) and ``columns`` (:func:`csv_columns`).

    UTF-8, comma-separated, LF line ends, quoted as the csv module quotes (minimal), written
    atomically (:func:`hotspots._files.atomic_write`) in chunks of rows; from
    :data:`PARALLEL_CSV_ROWS` rows on, two chunks of half the size are made text at once
    (numpy and Arrow release the GIL) and written in order, none made ahead of its writing.
    """
    alone = len(columns) == 1
    # text categories: each category's cell made once, the rows' cells taken by code
    sources = [
        _WrittenCodes.of(c, alone) if isinstance(c, pa.DictionaryArray) else c for c in columns
    ]
    header = pa.array(list(names), type=pa.large_string())
    header_cells = _quoted(header, alone)[0].to_pylist()
    n = len(columns[0]) if columns else 0
    n_threads = workers(2, n, PARALLEL_CSV_ROWS)
    size = CHUNK_ROWS if n_threads == 1 else max(1, CHUNK_ROWS // n_threads)  # same memory
    chunks = [(start, min(start + size, n)) for start in range(0, n, size)]

    def chunk_bytes(rows: tuple[int, int]) -> Any:
        written = [_written(c, *rows, alone) for c in sources]
        cells = [text for text, _ in written]
        if all(plain for _, plain in written):
            # nothing to quote: Arrow's own writer, cells as they are
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(pa.table({str(i): c for i, c in enumerate(cells)}), sink, _PLAIN)
            return sink.getvalue()
        joined = pc.binary_join_element_wise(*cells, _s(",")) if len(cells) > 1 else cells[0]
        return _joined_bytes(pc.binary_join_element_wise(joined, _s(""), _s("\n")))

    with atomic_write(path, binary=True) as f:
        f.write((",".join(header_cells) + "\n").encode("utf-8"))
        if n_threads == 1:
            for rows in chunks:
                f.write(chunk_bytes(rows))
            return
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            ahead: deque[Future[Any]] = deque()
            for rows in chunks:
                if len(ahead) >= n_threads:  # a chunk per thread at most, none waiting
                    f.write(ahead.popleft().result())
                ahead.append(pool.submit(chunk_bytes, rows))
            while ahead:
                f.write(ahead.popleft().result())
