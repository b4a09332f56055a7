"""Text the whole library shares: HTML escaping, what counts as a missing value, and a column
read as text.

Kernel: imported by the map (:mod:`hotspots.mapping`), the printable pages
(:mod:`hotspots.report`) and anything else that writes user-supplied text (locations, names,
categories) into HTML, so that every such text is escaped the same way; and by the readers
(:mod:`hotspots.io`, :mod:`geodata`), so that every file's cells are read as text the same way
(:func:`text_column`) and every message lists names (:func:`list_some`) and quotes an error
(:func:`first_line`) the same way. The Hotspots frame's lists (``top_categories``,
``top_locations``: ``(name, count)`` pairs; ``wards``: names) become text only when they are
written, here (:func:`join_items`, :func:`join_names`, :func:`lists_as_text`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .columns import HOTSPOT_ITEM_COLUMNS, HOTSPOT_NAME_COLUMNS, TABLE_ID_COLUMNS

__all__ = [
    "as_number",
    "decode_text",
    "esc",
    "first_line",
    "is_missing",
    "item_texts",
    "join_ids",
    "join_items",
    "join_names",
    "list_some",
    "lists_as_text",
    "text_column",
]

#: Between the items of a written list ("Drugs 30; Burglary 12", "Ward A; Ward B").
_SEPARATOR = "; "


def esc(value: object) -> str:
    """``value`` as text safe inside HTML, quotes included.

    >>> esc('<b onclick="x">St James & Co</b>')
    '&lt;b onclick=&quot;x&quot;&gt;St James &amp; Co&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True)


def is_missing(value: object) -> bool:
    """True for None, NaN, NaT and pandas' NA; False for anything else (lists included).

    >>> [is_missing(v) for v in (None, float("nan"), pd.NaT, 0, "", [1], [None], ())]
    [True, True, True, False, False, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, list | tuple | dict | set | str):  # never missing (and fast: a
        return False  # frame of 5,000 hotspots' lists is asked 40,000 times)
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def as_number(value: object) -> float | None:
    """``value`` as a finite float, or None when it is missing, not a number or infinite.

    >>> as_number("3.5"), as_number(None), as_number("x"), as_number(float("inf"))
    (3.5, None, None, None)
    """
    if is_missing(value):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def text_column(s: pd.Series) -> pd.Series:
    """A column as stripped strings, "" for missing; whole floats shown as integers (codes).

    >>> text_column(pd.Series([" a ", None, 3.0, float("nan")])).tolist()
    ['a', '', '3.0', '']
    >>> text_column(pd.Series([1.0, None, 20.0])).tolist()
    ['1', '', '20']
    """
    if isinstance(s.dtype, pd.StringDtype):
        return s.fillna("").str.strip()
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if np.all(np.abs(v[fin]) < 2**53) and np.all(v[fin] == np.round(v[fin])):
            vals = np.where(fin, v, 0).astype(np.int64).astype(str).astype(object)
            vals[~fin] = ""
            return pd.Series(vals, index=s.index, dtype="str")
    obj = s.astype(object)
    return obj.where(obj.notna(), "").astype("str").str.strip()


def text_codes(values: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Each value's code into the distinct values as stripped text (``""`` for missing; two
    values that strip alike are one), each distinct value cleaned once: categories are
    read from their codes, anything else factorized.

    >>> codes, names = text_codes(pd.Series([" H01", "H01", None, 7], dtype=object))
    >>> names[codes].tolist()
    ['H01', 'H01', '', '7']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.intp)
        uniques = values.cat.categories.to_numpy(dtype=object)
    else:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    # a missing value (code -1) is "", the last of the names
    cleaned = pd.Series(np.append(uniques, ""), dtype=object).astype("str").str.strip()
    same, names = pd.factorize(cleaned.to_numpy(dtype=object))
    return same[codes].astype(np.intp), np.asarray(names, dtype=object)


def list_some(names: Sequence[object], k: int = 3) -> str:
    """The first ``k`` names, then how many more.

    >>> list_some(["a.csv", "b.csv"]), list_some(["a", "b", "c", "d", "e"])
    ('a.csv, b.csv', 'a, b, c and 2 more')
    >>> list_some(list("abcdefg"), 5)
    'a, b, c, d, e and 2 more'
    """
    shown = ", ".join(str(n) for n in names[:k])
    return shown + (f" and {len(names) - k:,} more" if len(names) > k else "")


def decode_text(data: bytes) -> tuple[str, str]:
    r"""A small table file's text and the encoding it was read in.

    UTF-8 (with or without BOM), UTF-16 with its BOM (as Excel's "Unicode text" saves), else
    Windows-1252 (never fails).

    >>> decode_text("a,é".encode("utf-16")), decode_text(b"a,\xe9")
    (('a,é', 'UTF-16'), ('a,é', 'Windows-1252'))
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none).

    >>> first_line(ValueError("bad header\\nline 2")), first_line(KeyError())
    ('bad header', 'KeyError')
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def item_texts(items: Iterable[tuple[object, object]]) -> list[str]:
    """``(name, count)`` pairs as the items a list prints: ``"name count"`` each.

    The one wording of an item, also when the count is already words ("fewer than 5").

    >>> item_texts([("Drugs", 30), ("Burglary", "fewer than 5")])
    ['Drugs 30', 'Burglary fewer than 5']
    """
    return [f"{name} {count}" for name, count in items]


def join_items(items: Iterable[tuple[object, object]] | str | None) -> str:
    """``(name, count)`` pairs as the files write them: ``"name count; name count"``.

    The one formatting of ``top_categories`` and ``top_locations``. Missing is ``""``; text
    (a frame read back from a written file) is kept as it is.

    >>> join_items([("Drugs", 30), ("Burglary", 1200)])
    'Drugs 30; Burglary 1200'
    >>> join_items([]), join_items(None), join_items("Drugs 30")
    ('', '', 'Drugs 30')
    """
    if isinstance(items, str):
        return items
    if items is None or is_missing(items):
        return ""
    return _SEPARATOR.join(item_texts(items))


def join_names(names: Iterable[object] | str | None) -> str:
    """Names as the files write them: ``"Ward A; Ward B"`` (``""`` when missing or none).

    >>> join_names(["Ward A", "Ward B"]), join_names([]), join_names("Ward A")
    ('Ward A; Ward B', '', 'Ward A')
    """
    return _joined(names, _SEPARATOR)


def lists_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with the Hotspots frame's list columns as text (those it has).

    ``top_categories`` and ``top_locations`` by :func:`join_items`, ``wards`` by
    :func:`join_names`, the ward and patrol tables' ``hotspots`` by :func:`join_ids`: what every
    writer and table shows. Other columns are untouched.

    >>> frame = pd.DataFrame({"top_categories": [[("Drugs", 3)]], "wards": [["A", "B"]]})
    >>> lists_as_text(frame).iloc[0].tolist()
    ['Drugs 3', 'A; B']
    """
    out = frame.copy()
    for name in frame.columns:
        if name in HOTSPOT_ITEM_COLUMNS:
            join: Any = join_items
        elif name in HOTSPOT_NAME_COLUMNS:
            join = join_names
        elif name in TABLE_ID_COLUMNS:
            join = join_ids
        else:
            continue
        texts = [join(v) for v in frame[name]]
        out[name] = pd.Series(texts, index=frame.index, dtype="str")
    return out


def join_ids(ids: object) -> str:
    """A list of hotspot ids as the ward and patrol tables print them: ``"H01, H02"``; text is
    kept as it is.

    >>> join_ids(["H01", "H02"]), join_ids([]), join_ids("H03")
    ('H01, H02', '', 'H03')
    """
    return _joined(ids, ", ")


def _joined(values: object, separator: str) -> str:
    """``values`` joined by ``separator``; text as it is; missing or None as ``""``."""
    if isinstance(values, str):
        return values
    if values is None or is_missing(values):
        return ""
    return separator.join(str(v) for v in values)  # type: ignore[attr-defined]


def coordinate_text(value: float, decimals: int = 0) -> str:
    """A coordinate for a message: ``532,705`` (``decimals`` places), or, when it is no
    coordinate of this planet in any unit (beyond 1e9), ``1e+308``: never 300 digits.

    >>> coordinate_text(532705.4), coordinate_text(51.5, 2), coordinate_text(1e308)
    ('532,705', '51.50', '1e+308')
    """
    if not math.isfinite(value) or abs(value) >= 1e9:
        return f"{value:.3g}"
    return f"{value:,.{decimals}f}"
